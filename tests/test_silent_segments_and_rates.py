"""Silent stretches inside a file, and files recorded below the analysis rate.

A segment of digital silence says nothing of a genre: it gives no row, in extraction and in
prediction alike, and the end of the run counts the segments left out. A file recorded below
``--sr`` is upsampled with an empty upper spectrum: it is extracted, and the end of the run
names it and its rate.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

import genre.features.extract as engine
from genre.cli import app
from genre.errors import AudioError
from genre.features.config import ID_COLUMNS, FeatureConfig
from genre.features.extract import BELOW_RATE_KEY, SILENT_KEY, extract_clip, extract_to_csv, side_paths
from genre.features.handcrafted import HandcraftedExtractor
from tests.conftest import LOW_HIGH_PITCHES, interrupt_extraction_after, tone

SR = 22050


def silence(seconds: float, sr: int = SR) -> np.ndarray:
    return np.zeros(int(round(seconds * sr)), dtype=np.float32)


def write(path: Path, *parts: np.ndarray, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.concatenate(parts), sr, subtype="FLOAT")
    return path


def said(result) -> str:
    return " ".join(result.output.split())


# -- silent segments ---------------------------------------------------------------------------
def test_silent_segments_give_no_rows_and_the_others_keep_their_place_and_values(tmp_path):
    # 21 s: segments 0-1 silent, 2-3 music, 4-6 silent.
    clip = write(tmp_path / "clip.wav", silence(6), tone(6), silence(9))
    rows = extract_clip(clip)
    assert rows["segment"].tolist() == [2, 3]
    assert rows["start"].tolist() == [6.0, 9.0]
    assert rows.attrs["silent_segments"] == 5
    # The rows kept are those the clip gave before, not recomputed without the silence.
    every = extract_clip(clip, config=FeatureConfig(silence_rms=0.0)).set_index("segment")
    assert len(every) == 7
    columns = HandcraftedExtractor().feature_columns()
    np.testing.assert_array_equal(rows[columns].to_numpy(), every.loc[[2, 3], columns].to_numpy())


def test_a_file_silent_in_every_segment_is_skipped_as_silent(tmp_path):
    # Loud enough as a whole, but its sound is in the last 2 s, shorter than a segment.
    clip = write(tmp_path / "tail" / "late.wav", silence(6), tone(2))
    with pytest.raises(AudioError, match="silent") as caught:
        extract_clip(clip)
    assert "each of its 2 segments of 3 s has an RMS below 1e-04" in str(caught.value)
    write(tmp_path / "music" / "ok.wav", tone(6))
    report = extract_to_csv(tmp_path, tmp_path / "out" / "f.csv", jobs=1)
    assert [(Path(p).name, r.split(" ")[0]) for p, r in report.skipped] == [("late.wav", "silent")]
    assert report.n_rows == 2 and report.silent_segments == {}


def test_whole_track_mode_is_unchanged(tmp_path):
    clip = write(tmp_path / "clip.wav", tone(3), silence(30))
    config = FeatureConfig(segment_seconds=0)
    rows = extract_clip(clip, config=config)
    assert rows["segment"].tolist() == [0] and rows["start"].tolist() == [0.0]
    assert rows.attrs["silent_segments"] == 0
    assert HandcraftedExtractor(config).describe() == {"kind": "handcrafted", "config": config.to_dict()}


@pytest.fixture
def padded(tmp_path) -> Path:
    """Two label folders; two files hold digital silence: 3 and 2 of their 3 s segments."""
    root = tmp_path / "audio"
    write(root / "a" / "tail.wav", tone(3, freq=220.0), silence(9))
    write(root / "a" / "plain.wav", tone(6, freq=330.0, seed=1))
    write(root / "b" / "head.wav", silence(6), tone(6, freq=440.0, seed=2))
    return root


def rows_per_file(table: Path) -> dict[str, int]:
    frame = pd.read_csv(table)
    return {Path(p).name: n for p, n in frame.groupby("path", sort=False).size().items()}


def test_the_run_counts_the_silent_segments_left_out(padded, tmp_path):
    out = tmp_path / "f.csv"
    report = extract_to_csv(padded, out, jobs=1)
    tail, head = str(padded / "a" / "tail.wav"), str(padded / "b" / "head.wav")
    assert report.silent_segments == {tail: 3, head: 2}
    assert any("5 silent segments left out (in 2 files)" in note for note in report.notes)
    assert rows_per_file(out) == {"plain.wav": 2, "tail.wav": 1, "head.wav": 2}
    sidecar = json.loads(side_paths(out)[0].read_text())
    assert sidecar[SILENT_KEY] == {tail: 3, head: 2}
    # The stamps that an update trusts count the rows written, not the segments of the file.
    assert [int(line.split()[3]) for line in sidecar["stamps"]["tracks"]] == [2, 1, 2]
    assert sidecar["n_rows"] == report.n_rows == 5


def test_the_cli_summary_says_so(padded, tmp_path):
    result = CliRunner().invoke(app, ["extract", str(padded), "-o", str(tmp_path / "f.csv"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "5 silent segments left out (in 2 files)" in said(result)


def test_an_update_keeps_the_rows_and_the_count(padded, tmp_path):
    out = tmp_path / "f.csv"
    extract_to_csv(padded, out, jobs=1)
    before = {p: p.read_bytes() for p in (out, side_paths(out)[1])}
    report = extract_to_csv(padded, out, jobs=1, overwrite=True)
    assert report.n_resumed == 3
    assert {p: p.read_bytes() for p in before} == before
    assert any("5 silent segments left out (in 2 files)" in note for note in report.notes)
    assert json.loads(side_paths(out)[0].read_text())[SILENT_KEY] == report.silent_segments


def test_a_resumed_run_still_counts_the_files_of_the_first(padded, tmp_path, monkeypatch):
    out = tmp_path / "f.csv"
    interrupt_extraction_after(monkeypatch, 2)  # Ctrl-C after a/plain.wav and a/tail.wav
    with pytest.raises(KeyboardInterrupt):
        extract_to_csv(padded, out, jobs=1)
    monkeypatch.undo()
    report = extract_to_csv(padded, out, jobs=1)
    assert report.n_resumed == 2
    assert report.silent_segments == {str(padded / "a" / "tail.wav"): 3, str(padded / "b" / "head.wav"): 2}


def test_a_table_written_with_silent_rows_is_not_updated_but_extracted_again(padded, tmp_path, monkeypatch):
    out = tmp_path / "f.csv"
    extract_to_csv(padded, out, jobs=1)
    sidecar_path = side_paths(out)[0]
    old = json.loads(sidecar_path.read_text())
    del old["silent_segments"]  # as a version that kept rows of silence described its table
    sidecar_path.write_text(json.dumps(old))
    real, extracted = engine._extract_block, []
    monkeypatch.setattr(engine, "_extract_block", lambda task: extracted.append(task[0]) or real(task))
    report = extract_to_csv(padded, out, jobs=1, overwrite=True)
    assert report.n_resumed == 0 and len(extracted) == 3


def test_prediction_leaves_silent_segments_out_too(low_high_model, tmp_path):
    from genre.classifiers.persistence import load_model
    from genre.classifiers.prediction import _SegmentStarts, as_written, predict_files

    # 2 s of a low tone, then 10 s of silence: 1 s segments, as the model's table.
    clip = write(tmp_path / "padded.wav", tone(2, freq=LOW_HIGH_PITCHES["low"][0]), silence(10))
    config = FeatureConfig(segment_seconds=1.0)
    model = load_model(low_high_model)
    every = extract_clip(clip, config=FeatureConfig(segment_seconds=1.0, silence_rms=0.0))
    music = as_written(every[every["segment"] < 2], model.feature_columns)
    expected = model.estimator.predict_proba(music[model.feature_columns]).mean(axis=0)
    predicted = predict_files(low_high_model, [clip])
    np.testing.assert_allclose(predicted.filter(like="prob_").to_numpy()[0], expected, rtol=1e-6, atol=1e-9)
    assert predicted["genre"].tolist() == ["low"]
    # ...and says so at the end, as extraction does.
    assert predicted.attrs["notes"][-1].startswith("10 silent segments left out (in 1 file)")
    # Models that read audio themselves place their rows with the same rule, numbered alike.
    rows = _SegmentStarts(config=config).extract_file(clip)
    assert rows.starts.tolist() == [0.0, 1.0] and rows.segment_numbers().tolist() == [0, 1]
    assert rows.silent_segments == 10 and rows.native_sr == SR


def test_prediction_names_files_recorded_below_the_models_rate(low_high_model, tmp_path):
    from genre.classifiers.prediction import predict_files

    low = write(tmp_path / "low.wav", tone(3, freq=LOW_HIGH_PITCHES["low"][0], sr=8000), sr=8000)
    predicted = predict_files(low_high_model, [low])
    assert any(
        note.startswith(f"1 file was recorded below {SR} Hz (8000 Hz)") and str(low) in note
        for note in predicted.attrs["notes"]
    )


# -- files below the analysis rate ---------------------------------------------------------------
def test_decoding_says_at_which_rate_a_file_was_recorded(tmp_path):
    from genre.features.audio import decode_audio, load_audio

    clip = write(tmp_path / "low.wav", tone(4, sr=8000), sr=8000)
    y, sr, native_sr = decode_audio(clip, sr=SR)
    assert (sr, native_sr) == (SR, 8000) and y.size == 4 * SR
    np.testing.assert_array_equal(load_audio(clip, sr=SR)[0], y)
    assert extract_clip(clip).attrs["native_sr"] == 8000
    assert extract_clip(write(tmp_path / "cd.wav", tone(4, sr=44100), sr=44100)).attrs["native_sr"] == 44100


@pytest.fixture
def rates(tmp_path) -> Path:
    root = tmp_path / "rates"
    for rate in (8000, 16000, 22050, 44100):
        write(root / "blues" / f"r{rate}.wav", tone(3.5, sr=rate), sr=rate)
    return root


def test_files_below_the_analysis_rate_are_named_at_the_end(rates, tmp_path):
    out = tmp_path / "f.csv"
    report = extract_to_csv(rates, out, jobs=1)
    low = {str(rates / "blues" / "r8000.wav"): 8000, str(rates / "blues" / "r16000.wav"): 16000}
    assert report.n_extracted == 4 and not report.skipped  # extracted all the same
    assert report.below_analysis_rate == low
    note = next(n for n in report.notes if "recorded below" in n)
    assert "2 files were recorded below 22050 Hz (8000, 16000 Hz): upsampled" in note
    assert all(path in note for path in low)
    sidecar = json.loads(side_paths(out)[0].read_text())
    assert sidecar[BELOW_RATE_KEY] == low
    assert pd.read_csv(out).columns.tolist() == list(ID_COLUMNS) + HandcraftedExtractor().feature_columns()
    # An update reuses the rows, and still knows the rates.
    again = extract_to_csv(rates, out, jobs=1, overwrite=True)
    assert again.n_resumed == 4 and again.below_analysis_rate == low
    # At --sr 16000, only the 8 kHz file is below; the Python call's DataFrame says so too.
    lower = engine.extract(rates, jobs=1, sr=16000)
    assert lower.attrs["below_analysis_rate"] == {str(rates / "blues" / "r8000.wav"): 8000}
    assert lower.attrs["silent_segments"] == {}


def test_the_cli_names_them_and_counts_the_rest(tmp_path):
    root = tmp_path / "phone"
    for i in range(5):
        write(root / "speech" / f"call{i}.wav", tone(3.5, sr=8000, seed=i), sr=8000)
    result = CliRunner().invoke(app, ["extract", str(root), "-o", str(tmp_path / "f.csv"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    text = said(result)
    assert "5 files were recorded below 22050 Hz (8000 Hz): upsampled, their spectrum above 4000 Hz is empty" in text
    assert "call0.wav" in text and "and 2 more" in text and "call4.wav" not in text
    assert BELOW_RATE_KEY in text


def test_a_benchmark_report_repeats_what_extraction_said_of_the_audio(tmp_path):
    """Also on a rerun from the cached table, which extracts nothing and so says nothing itself."""
    from feature_tables import write_own_table

    from genre.evaluation import cross_validate_models
    from genre.features.table import load_feature_table

    table = write_own_table(tmp_path / "f.csv", tracks_per_class=4, segments=2)
    sidecar = table.with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    meta.update({SILENT_KEY: {"a/one.wav": 3}, BELOW_RATE_KEY: {"b/two.wav": 8000}})
    sidecar.write_text(json.dumps(meta))
    caveat = cross_validate_models(load_feature_table(table), ["lda"], folds=2, progress=False).protocol["caveat"]
    assert "In f.csv, 3 silent segments left out (in 1 file)" in caveat
    assert "1 file was recorded below" in caveat and "b/two.wav" in caveat
