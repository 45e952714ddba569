"""A manifest's file that extraction skips is named with its line of the manifest.

``genre extract m.csv`` went on past a listed file that does not exist (rightly) but said only
``skipped .../missing.wav: no such file``: in a manifest of 10,000 lines the user could not
find the row. The skipped message and the skipped-files CSV now say
``line 3 of m.csv: no such file``, as the manifest's own rejected rows do (header = line 1,
physical lines: a quoted cell over two lines counts two, as in an editor).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

from genre.cli import app
from genre.data import load_folder, load_manifest
from genre.data.tracks import read_skipped_csv
from genre.features.extract import extract_to_csv
from tests.conftest import interrupt_extraction_after


def extract(manifest: Path, out: Path) -> str:
    result = CliRunner().invoke(app, ["extract", str(manifest), "-o", str(out), "-j", "1", "--segment-seconds", "1"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def skipped_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("skipped ") and ": " in line]


def two_clips(tmp_path: Path, write_wav) -> Path:
    """``audio/a.wav`` and ``audio/b.wav``, 2 s tones; returns the folder (where the manifests go)."""
    audio = tmp_path / "audio"
    write_wav(audio / "a.wav", 2.0)
    write_wav(audio / "b.wav", 2.0, freq=300.0)
    return audio


def test_a_missing_file_on_line_3_is_named_with_its_line(tmp_path, write_wav):
    audio = two_clips(tmp_path, write_wav)
    manifest = audio / "m.csv"
    manifest.write_text("path,label\na.wav,rock\nmissing.wav,jazz\nb.wav,jazz\n", encoding="utf-8")
    out = tmp_path / "features.csv"
    output = extract(manifest, out)
    missing = str(audio / "missing.wav")
    assert skipped_lines(output) == [f"skipped {missing}: line 3 of m.csv: no such file"], output
    assert "2 of 3 files extracted" in output
    # The path is said once, in its column; the reason says where it is listed.
    assert read_skipped_csv(out.with_suffix(".skipped.csv")) == [(missing, "line 3 of m.csv: no such file")]


def test_a_missing_file_listed_twice_is_not_said_to_be_kept(tmp_path, write_wav):
    # The repeat was "the same audio file as line 2, which is kept", and line 2 was then skipped.
    audio = two_clips(tmp_path, write_wav)
    manifest = audio / "m.csv"
    manifest.write_text("path,label\ngone.wav,rock\na.wav,rock\nb.wav,jazz\ngone.wav,rock\n", encoding="utf-8")
    output = extract(manifest, tmp_path / "features.csv")
    gone = str(audio / "gone.wav")
    assert sorted(skipped_lines(output)) == [
        f"skipped {gone}: line 2 of m.csv: no such file",
        f"skipped {gone}: line 5 of m.csv: the same path as line 2 of m.csv, listed again",
    ], output


def test_a_quoted_cell_over_two_lines_counts_two_lines(tmp_path, write_wav):
    """The line an editor shows: the manifest reader counts physical lines for its other messages too."""
    audio = two_clips(tmp_path, write_wav)
    manifest = audio / "m.csv"
    manifest.write_text(
        'path,label,artist\na.wav,rock,"The\nBand"\nmissing.wav,jazz,x\nb.wav,jazz,y\nc.wav,,z\n', encoding="utf-8"
    )
    dataset = load_manifest(manifest)
    # The row without a label, two lines below the missing file, is told with the same count.
    assert dataset.rejected == [(str(audio / "c.wav"), "line 6 of m.csv: no label (other rows have one)")]
    assert dataset.where["missing"] == "line 4 of m.csv"
    out = tmp_path / "features.csv"
    output = extract(manifest, out)
    missing = str(audio / "missing.wav")
    assert f"skipped {missing}: line 4 of m.csv: no such file" in skipped_lines(output), output
    assert (missing, "line 4 of m.csv: no such file") in read_skipped_csv(out.with_suffix(".skipped.csv"))


def test_other_reasons_and_a_resumed_run_say_the_line_once(tmp_path, write_wav, monkeypatch):
    """A file too short is placed too; the journal keeps the bare reason, so the run that resumes
    an interrupted one (the skipped file from the journal) says the line once, as does --overwrite."""
    audio = tmp_path / "audio"
    write_wav(audio / "short.wav", 0.2, freq=300.0)
    write_wav(audio / "a.wav", 4.0)
    manifest = audio / "m.csv"
    manifest.write_text("path,label\nshort.wav,jazz\n\na.wav,rock\n", encoding="utf-8")
    out = tmp_path / "features.csv"
    interrupt_extraction_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        extract_to_csv(manifest, out, jobs=1)
    monkeypatch.undo()
    for overwrite in (False, True):
        report = extract_to_csv(manifest, out, jobs=1, overwrite=overwrite)
        assert report.n_extracted == 1 and len(report.skipped) == 1, report.skipped
        [(path, reason)] = report.skipped
        assert path == str(audio / "short.wav")
        assert reason.startswith("line 2 of m.csv: too short") and reason.count("line 2") == 1, reason
        assert read_skipped_csv(out.with_suffix(".skipped.csv")) == [(path, reason)]


def test_the_where_of_a_dataset_survives_pickling_and_folders_have_none(tmp_path, write_wav):
    audio = tmp_path / "audio"
    write_wav(audio / "rock" / "a.wav", 2.0)
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label\naudio/rock/a.wav,rock\n", encoding="utf-8")
    dataset = load_manifest(manifest)
    assert dataset.where == {"audio/rock/a": "line 2 of m.csv"}
    assert pickle.loads(pickle.dumps(dataset)) == dataset
    assert dataset.notes == []
    folder = load_folder(audio)
    assert folder.where == {}
    assert folder.located(folder.tracks[0], "no such file") == "no such file"
    assert dataset.located(dataset.tracks[0], "no such file") == "line 2 of m.csv: no such file"
