"""Long lists of skipped files: the console shows the first few and a count, a CSV lists them all.

A messy library (thousands of files in a format genre cannot decode) skips thousands of files;
their lines must not scroll the results away, and `genre predict -o` must keep the full list on disk
as `genre extract` does.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from genre import cli
from genre.cli import app
from genre.errors import OutputError

runner = CliRunner()



def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def covers(folder: Path, n: int) -> list[Path]:
    """``n`` files that every reader rejects by their extension (nothing is decoded: quick).

    ``.wma``: perhaps audio, but not a format genre reads, so skipped (``.jpg`` covers are
    ignored, not skipped: see tests/test_input_hygiene.py).
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"cover{i:02d}.wma" for i in range(n)]
    for path in paths:
        path.write_bytes(b"")
    return paths


def skipped_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("skipped ") and ": " in line]


@pytest.fixture(scope="module")
def model(low_high_model) -> Path:
    return low_high_model


def test_predict_prints_the_first_skipped_files_and_writes_them_all(model, write_wav, tmp_path):
    good = write_wav(tmp_path / "music" / "song.wav", 2.0, freq=2200.0, seed=1)
    n = cli.SKIPPED_LISTED_IN_FULL + 5
    jpgs = covers(tmp_path / "music" / "art", n)
    output = tmp_path / "out" / "p.csv"
    result = invoke("predict", model, tmp_path / "music", "-j", "1", "-o", output)
    assert result.exit_code == 0, result.output

    listed = tmp_path / "out" / "p.skipped.csv"
    lines = skipped_lines(result.output)
    assert lines == [f"skipped {p}: unsupported format '.wma'" for p in jpgs[: cli.SKIPPED_LISTED_FIRST]]
    more = n - cli.SKIPPED_LISTED_FIRST
    assert f"... and {more} more skipped (all listed in {listed})" in result.output.splitlines()
    assert f"skipped files are listed in {listed}" in result.output
    assert f"1 predicted, {n} skipped" in result.output

    assert pd.read_csv(output)["path"].tolist() == [str(good)]
    table = pd.read_csv(listed, keep_default_na=False)
    assert list(table.columns) == ["path", "reason"]
    assert table.values.tolist() == [[str(p), "unsupported format '.wma'"] for p in jpgs]
    assert sorted(p.name for p in output.parent.iterdir()) == ["p.csv", "p.json", "p.skipped.csv"]  # no temporary left


def test_predict_without_output_says_how_to_get_the_full_list(model, write_wav, tmp_path):
    write_wav(tmp_path / "music" / "song.wav", 2.0, freq=160.0, seed=2)
    n = cli.SKIPPED_LISTED_IN_FULL + 1
    covers(tmp_path / "music" / "art", n)
    result = invoke("predict", model, tmp_path / "music", "-j", "1")
    assert result.exit_code == 0, result.output
    assert len(skipped_lines(result.output)) == cli.SKIPPED_LISTED_FIRST
    more = n - cli.SKIPPED_LISTED_FIRST
    assert f"... and {more} more skipped (give --output to write them all to a CSV)" in result.output.splitlines()
    assert "listed in" not in result.output


def test_up_to_the_threshold_every_skipped_file_is_printed(model, write_wav, tmp_path):
    write_wav(tmp_path / "music" / "song.wav", 2.0, freq=160.0, seed=3)
    jpgs = covers(tmp_path / "music" / "art", cli.SKIPPED_LISTED_IN_FULL)
    output = tmp_path / "p.csv"
    result = invoke("predict", model, tmp_path / "music", "-j", "1", "-o", output)
    assert result.exit_code == 0, result.output
    assert skipped_lines(result.output) == [f"skipped {p}: unsupported format '.wma'" for p in jpgs]
    assert "more skipped" not in result.output
    assert f"skipped files are listed in {tmp_path / 'p.skipped.csv'}" in result.output


def test_extract_prints_the_first_skipped_files_and_names_its_list(write_wav, tmp_path):
    root = tmp_path / "music"
    write_wav(root / "rock" / "a.wav", 1.5, freq=300.0)
    n = cli.SKIPPED_LISTED_IN_FULL + 3
    jpgs = covers(root / "rock", n)
    out = tmp_path / "features.csv"
    result = invoke("extract", root, "-o", out, "-j", "1", "--segment-seconds", "1")
    assert result.exit_code == 0, result.output
    assert skipped_lines(result.output) == [
        f"skipped {p}: unsupported format '.wma'" for p in jpgs[: cli.SKIPPED_LISTED_FIRST]
    ]
    listed = tmp_path / "features.skipped.csv"
    assert f"... and {n - cli.SKIPPED_LISTED_FIRST} more skipped (all listed in {listed})" in result.output
    assert len(pd.read_csv(listed)) == n


def test_extract_that_writes_nothing_says_the_list_was_not_written(write_wav, tmp_path):
    root = tmp_path / "music"
    write_wav(root / "rock" / "a.wav", 1.5, freq=300.0)
    out = tmp_path / "features.csv"
    assert invoke("extract", root, "-o", out, "-j", "1", "--segment-seconds", "1").exit_code == 0
    before = (tmp_path / "features.skipped.csv").read_bytes()
    (root / "rock" / "a.wav").write_bytes(b"")  # now unreadable: nothing is extracted, the table is kept
    n = cli.SKIPPED_LISTED_IN_FULL + 1
    covers(root / "rock", n - 1)
    result = invoke("extract", root, "-o", out, "-j", "1", "--segment-seconds", "1", "--overwrite")
    assert result.exit_code == 1, result.output
    assert f"... and {n - cli.SKIPPED_LISTED_FIRST} more skipped (not written: nothing was extracted)" in result.output
    assert (tmp_path / "features.skipped.csv").read_bytes() == before


def test_file_names_that_look_like_markup_are_printed_as_they_are(model, write_wav, tmp_path):
    # A folder ending in "[" puts "[/...]" in a path: a closing tag that rich refuses with an exception.
    root = tmp_path / "music"
    write_wav(root / "Song [" / "Live].wav", 2.0, freq=2200.0, seed=4)
    odd = [root / "[bold]cover.wma", root / "Song [" / "i] notes.m4a"]
    for path in odd:
        path.write_bytes(b"")
    result = invoke("predict", model, root, "-j", "1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"skipped {odd[0]}: unsupported format '.wma'" in lines
    assert f"skipped {odd[1]}: unsupported format '.m4a'" in lines
    assert "1 predicted, 2 skipped" in result.output  # the table row of ".../Song [/Live].wav" printed too


def test_predict_refuses_a_skipped_list_that_would_overwrite_its_input(model, tmp_path):
    # A usable feature table whose name is the skipped list of -o: only the check up front saves it.
    table = tmp_path / "p.skipped.csv"
    table.write_bytes((model.parent / "features.csv").read_bytes())
    before = table.read_bytes()
    result = invoke("predict", model, table, "-o", tmp_path / "p.csv")
    assert result.exit_code == 2, result.output
    assert "is also an input of this command" in result.output
    assert table.read_bytes() == before
    assert not (tmp_path / "p.csv").exists()


# -- write_predictions: both files, together ------------------------------------------------------
def predictions_with(skipped: list[tuple[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame({"path": ["a.wav"], "genre": ["rock"], "probability": [0.9], "prob_rock": [0.9]})
    frame.attrs["skipped"] = skipped
    return frame


def test_write_predictions_writes_the_skipped_list_and_replaces_a_stale_one(tmp_path):
    from genre.classifiers.prediction import skipped_list_path, write_predictions

    path = tmp_path / "p.csv"
    assert write_predictions(predictions_with([("b.jpg", "unsupported format '.jpg'")]), path) == path
    listed = skipped_list_path(path)
    assert listed == tmp_path / "p.skipped.csv"
    assert listed.read_text(encoding="utf-8") == "path,reason\nb.jpg,unsupported format '.jpg'\n"
    # A clean run leaves no earlier run's list beside its predictions: the header alone.
    write_predictions(predictions_with([]), path)
    assert listed.read_text(encoding="utf-8") == "path,reason\n"
    # A frame built by hand, without attrs, has nothing skipped.
    bare = predictions_with([])
    bare.attrs = {}
    write_predictions(bare, path)
    assert listed.read_text(encoding="utf-8") == "path,reason\n"


def test_write_predictions_replaces_both_files_or_neither(tmp_path, monkeypatch):
    from genre.classifiers import prediction

    path = tmp_path / "p.csv"
    prediction.write_predictions(predictions_with([("old.jpg", "old")]), path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def full_disk(handle, skipped):
        handle.write("path,reason\n")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(prediction, "write_skipped_csv", full_disk)
    with pytest.raises(OutputError, match="No space left on device"):
        prediction.write_predictions(predictions_with([("new.jpg", "new")]), path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # old pair kept, no temporary left


def test_write_predictions_refuses_a_folder_in_the_way_before_writing(tmp_path):
    from genre.classifiers.prediction import write_predictions

    path = tmp_path / "p.csv"
    path.write_text("old\n", encoding="utf-8")
    (tmp_path / "p.skipped.csv").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        write_predictions(predictions_with([]), path)
    assert path.read_text(encoding="utf-8") == "old\n"


def test_write_predictions_refuses_an_empty_name(tmp_path, monkeypatch):
    from genre.classifiers.prediction import write_predictions

    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="empty"):
        write_predictions(predictions_with([]), "")
    assert list(tmp_path.iterdir()) == []
