"""Every CSV genre writes reads back row for row when a cell holds a bare carriage return (a file
name may): the csv module and pandas both quote it only where the line terminator holds a CR, and
their readers end a row at an unquoted one."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from genre.csvtext import csv_text, frame_csv_text

ODD = "odd\rname.wav"


def read_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("cell", ["plain.wav", ODD, "two\r\nlines", "lf\nonly", 'quote"d,comma'])
def test_csv_text_reads_back_row_for_row(cell):
    rows = [["path", "label"], [cell, "rock"], ["b.wav", "jazz"]]
    text = csv_text(rows)
    assert read_rows(text) == rows
    assert pd.read_csv(io.StringIO(text, newline=""), keep_default_na=False).values.tolist() == rows[1:]
    # Rows end in "\n" alone: a CR is only ever inside a quoted cell.
    assert text.replace(f'"{cell}"', "").count("\r") == 0


def test_plain_rows_are_written_as_the_csv_module_writes_them():
    rows = [["path", "x"], ["a.wav", 1.5], ["b,c.wav", 2]]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    assert csv_text(rows) == buffer.getvalue()


def test_frame_csv_text_keeps_pandas_formatting_and_quotes_a_carriage_return():
    frame = pd.DataFrame({"path": ["a.wav", "b.wav"], "p": [1 / 3, 0.25]})
    assert frame_csv_text(frame, float_format="%.6g") == frame.to_csv(index=False, lineterminator="\n", float_format="%.6g")
    frame.loc[0, "path"] = ODD
    text = frame_csv_text(frame, float_format="%.6g")
    assert text == f'path,p\n"{ODD}",0.333333\nb.wav,0.25\n'
    assert pd.read_csv(io.StringIO(text, newline=""))["path"].tolist() == [ODD, "b.wav"]


def test_a_skipped_list_naming_a_file_with_a_carriage_return_reads_back(tmp_path):
    from genre.data.tracks import write_skipped_csv

    path = tmp_path / "s.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        write_skipped_csv(handle, [(ODD, "corrupt"), ("b.wav", "silent")])
    assert read_rows(path.read_bytes().decode("utf-8")) == [["path", "reason"], [ODD, "corrupt"], ["b.wav", "silent"]]


def test_predictions_of_a_file_with_a_carriage_return_read_back(tmp_path):
    from genre.classifiers.prediction import write_predictions

    frame = pd.DataFrame({"path": [ODD, "b.wav"], "genre": ["rock", "jazz"], "probability": [0.9, 0.8]})
    frame.attrs["skipped"] = [("c\rd.wav", "silent")]
    out = write_predictions(frame, tmp_path / "p.csv")
    back = pd.read_csv(out)
    assert back["path"].tolist() == [ODD, "b.wav"] and back["genre"].tolist() == ["rock", "jazz"]
    assert pd.read_csv(tmp_path / "p.skipped.csv")["path"].tolist() == ["c\rd.wav"]


def test_checksum_problems_naming_a_file_with_a_carriage_return_read_back(tmp_path, monkeypatch):
    from genre.data import checksums

    rows = [(ODD, "mismatch", "sha256 differs"), ("b.wav", "missing", "not found")]
    monkeypatch.setattr(checksums, "problems", lambda report: rows)
    path = tmp_path / "problems.csv"
    assert checksums.write_problems_csv(None, path) == 2
    assert read_rows(path.read_bytes().decode("utf-8")) == [list(checksums.PROBLEMS_HEADER), *map(list, rows)]
