"""Audit of ``genre benchmark`` straight from audio (2026-12-04): what its report says about the
files its extraction skipped, reused or lost, and what survives an interruption."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from genre.benchmark import benchmark
from genre.cli import app
from tests.conftest import write_tone_folder

runner = CliRunner()

#: Two classes of three tones each: enough for 2 folds, small enough to extract in seconds.
PITCHES = {"low": (220.0, 247.0, 262.0), "high": (880.0, 988.0, 1046.0)}


def flat(text: str) -> str:
    return " ".join(text.split())


def audio_with_a_corrupt_file(tmp_path: Path) -> tuple[Path, Path]:
    """A tone folder with one file that is not audio at all, under a label folder; returns (root, file)."""
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=4.0)
    broken = root / "high" / "broken.wav"
    broken.write_bytes(b"RIFF not really a wave file" * 50)
    return root, broken


def test_the_report_says_which_file_the_extraction_skipped(tmp_path):
    # The corrupt clip is in no split; the report read alone (or re-rendered later) must say so,
    # not only the extraction's stderr line, which the results and report.md never mentioned.
    root, broken = audio_with_a_corrupt_file(tmp_path)
    out = tmp_path / "report"
    results, _ = benchmark(root, output_dir=out, models=["lda"], folds=2, jobs=1)
    caveat = flat(results.protocol["caveat"] or "")
    assert "1 file of the source could not be used when features.csv was extracted" in caveat
    assert str(broken) in caveat and "features.skipped.csv" in caveat
    assert str(broken) in flat((out / "report.md").read_text())
    # Recorded in results.json, so `genre report` keeps saying it.
    saved = json.loads((out / "results.json").read_text())
    assert str(broken) in flat(saved["protocol"]["caveat"])
    rendered = tmp_path / "again"
    result = runner.invoke(app, ["report", str(out / "results.json"), "-o", str(rendered)])
    assert result.exit_code == 0, result.output
    assert str(broken) in flat((rendered / "report.md").read_text())


def test_a_reused_table_still_says_what_it_skipped(tmp_path):
    root, broken = audio_with_a_corrupt_file(tmp_path)
    out = tmp_path / "report"
    benchmark(root, output_dir=out, models=["lda"], folds=2, jobs=1)
    run = benchmark(root, output_dir=out, models=["lda"], folds=2, jobs=1)
    assert run.features.tables[0].n_extracted == 0  # nothing extracted this time
    assert str(broken) in flat(run[0].protocol["caveat"] or "")


def test_a_table_without_skips_has_no_such_caveat(tmp_path):
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=4.0)
    results, _ = benchmark(root, output_dir=tmp_path / "report", models=["lda"], folds=2, jobs=1)
    assert "could not be used" not in (results.protocol["caveat"] or "")


# -- --segment-seconds: whole-track (or other-length) features straight from audio ------------
def test_benchmark_of_audio_takes_the_segment_length(tmp_path):
    # `genre extract --segment-seconds 0` had no benchmark counterpart: a benchmark of audio
    # could only ever read 3 s segments.
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=7.0)  # two 3 s segments each
    out = tmp_path / "report"
    result = runner.invoke(
        app, ["benchmark", str(root), "-m", "lda", "--folds", "2", "--segment-seconds", "0", "-j", "1", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "features" / "features.json").read_text())
    assert meta["config"]["segment_seconds"] == 0 and meta["n_rows"] == 6  # one row per track
    # The default length afterwards extracts again instead of reusing the whole-track table.
    run = benchmark(root, output_dir=out, models=["lda"], folds=2, jobs=1)
    assert run.features.tables[0].n_extracted == 6
    assert json.loads((out / "features" / "features.json").read_text())["n_rows"] == 12


def test_segment_seconds_is_refused_before_any_work(tmp_path):
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=4.0)
    out = tmp_path / "report"
    result = runner.invoke(app, ["benchmark", str(root), "-m", "lda", "--segment-seconds", "-1", "-o", str(out)])
    assert result.exit_code == 2 and "must be >= 0" in result.output and not out.exists()
    table = tmp_path / "features.csv"
    # A feature table (no path column: a CSV of path,label would be a manifest of audio).
    table.write_text("track,label,a\nx,low,1\ny,low,2\nz,high,3\nw,high,4\n")
    result = runner.invoke(app, ["benchmark", str(table), "-m", "lda", "--segment-seconds", "0", "-o", str(out)])
    assert result.exit_code == 2 and "applies to a source of audio" in flat(result.output)
    assert "Traceback" not in result.output and not out.exists()


def test_a_resumed_extraction_says_how_many_files_came_from_the_earlier_run(tmp_path, monkeypatch):
    # It said "6 of 6 files" after resuming 2, while its summary said "2 files reused, 4 extracted".
    from tests.conftest import interrupt_extraction_after

    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=4.0)
    args = ["benchmark", str(root), "-m", "lda", "--folds", "2", "-j", "1", "-o", str(tmp_path / "report")]
    interrupt_extraction_after(monkeypatch, 2)
    assert runner.invoke(app, args).exit_code == 130
    monkeypatch.undo()
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    said = flat(result.output)
    assert "handcrafted: 6 of 6 files (2 of them from an earlier run), 6 rows" in said
    assert "features: 2 files reused, 4 extracted" in said


def test_a_refusal_after_extraction_says_that_files_were_skipped(tmp_path):
    # The listing had 2 tracks of 'high' (enough for 2 folds); the corrupt one is skipped, so the
    # table has 1 and the folds are refused after extracting, with no word of why they changed.
    root = write_tone_folder(tmp_path / "audio", {"low": (220.0, 247.0), "high": (880.0,)}, seconds=4.0)
    (root / "high" / "broken.wav").write_bytes(b"RIFF not really a wave file" * 50)
    out = tmp_path / "report"
    result = runner.invoke(app, ["benchmark", str(root), "-m", "lda", "--folds", "2", "-j", "1", "-o", str(out)])
    assert result.exit_code == 2, result.output
    said = flat(result.output)
    assert "fewer tracks than folds" in said
    assert f"1 of the source's files was skipped when the handcrafted features were extracted, see {out}" in said
    assert "Traceback" not in result.output


def test_tables_that_skipped_the_same_file_share_one_note(tmp_path):
    from genre.evaluation.cv import _skipped_notes
    from genre.features.table import load_feature_table

    root, broken = audio_with_a_corrupt_file(tmp_path)
    out = tmp_path / "report"
    benchmark(root, output_dir=out, models=["lda"], folds=2, jobs=1)
    # A second table of the same extraction (as musicnn.csv would be, skipping the same clip).
    for suffix in (".csv", ".json", ".skipped.csv"):
        src = (out / "features" / "features").with_suffix(suffix)
        (out / "features" / "copy").with_suffix(suffix).write_bytes(src.read_bytes())
    tables = [load_feature_table(out / "features" / name) for name in ("features.csv", "copy.csv")]
    (note,) = _skipped_notes(tables)
    assert "when features.csv and copy.csv were extracted" in note and str(broken) in note


def test_whole_track_rows_are_refused_for_the_cnn_models(tmp_path):
    # The CNN reads one 3 s patch at each row's start: whole-track rows would train it on the
    # first 3 s of each track without a word. Refused before any extraction (no fit needed).
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=4.0)
    out = tmp_path / "report"
    result = runner.invoke(
        app, ["benchmark", str(root), "-m", "lda,cnn", "--segment-seconds", "0", "-j", "1", "-o", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert "cnn reads one 3 s log-mel patch at each row's start" in flat(result.output)
    assert not (out / "features").exists() and "Traceback" not in result.output
