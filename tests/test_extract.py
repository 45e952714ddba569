"""The extraction engine: table layout, bad input, parallel determinism, resume after kill -9."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

from genre.cli import app
from genre.data import Dataset, Track, load_dataset
from genre.errors import AudioError, DataError, ParameterError
from genre.features.audio import load_audio
from genre.features.config import ID_COLUMNS, FeatureConfig
from genre.features.extract import extract, extract_clip, extract_to_csv
from tests.conftest import REPO, interrupt_extraction_after


@pytest.fixture
def corpus(tmp_path, write_wav) -> Path:
    """Two labels, three good clips each, plus every kind of bad file."""
    root = tmp_path / "corpus"
    for i in range(3):
        write_wav(root / "rock" / f"rock.{i}.wav", 4.0, freq=220.0 * (i + 1), seed=i)
        write_wav(root / "jazz" / "sub" / f"jazz.{i}.wav", 4.0, freq=330.0 + 50 * i, seed=10 + i)
    # 44.1 kHz stereo, flac and mp3 are valid and must be read
    write_wav(root / "rock" / "stereo44k.wav", 4.0, sr=44100, channels=2, seed=5)
    write_wav(root / "jazz" / "lossless.flac", 4.0, seed=6)
    write_wav(root / "jazz" / "lossy.mp3", 4.0, seed=7, format="MP3")
    # bad input
    good = (root / "rock" / "rock.0.wav").read_bytes()
    (root / "rock" / "truncated.wav").write_bytes(good[:30])
    sf.write(root / "rock" / "zeros.wav", np.zeros(22050 * 4, dtype=np.float32), 22050)
    (root / "jazz" / "text.wav").write_text("this is not audio\n")
    write_wav(root / "jazz" / "short.wav", 0.2)
    (root / "jazz" / "empty.wav").write_bytes(b"")
    (root / "jazz" / "notes.txt").write_text("liner notes\n")  # known not to be audio: ignored, not skipped
    (root / "jazz" / "tune.wma").write_bytes(b"0&\xb2u")  # audio genre cannot read: skipped
    return root


BAD = {"truncated.wav", "zeros.wav", "text.wav", "short.wav", "empty.wav", "tune.wma"}


def test_table_layout_sidecar_and_skipped_files(corpus, tmp_path):
    out = tmp_path / "out" / "features.csv"
    report = extract_to_csv(corpus, out, jobs=1)
    table = pd.read_csv(out, keep_default_na=False)
    config = FeatureConfig()
    assert list(table.columns) == list(ID_COLUMNS) + config.feature_columns()
    assert report.n_extracted == 9 and table["track"].nunique() == 9
    assert len(table) == report.n_rows == 9  # 4 s clips -> one whole 3 s segment each
    assert set(table["label"]) == {"rock", "jazz"}
    assert "jazz/sub/jazz.1" in set(table["track"])
    assert np.isfinite(table[config.feature_columns()].to_numpy(float)).all()

    skipped = {Path(p).name: reason for p, reason in report.skipped}
    assert set(skipped) == BAD
    assert "too short" in skipped["short.wav"] and "silent" in skipped["zeros.wav"]
    assert "unsupported format" in skipped["tune.wma"]
    with open(out.with_suffix(".skipped.csv")) as handle:
        assert {Path(r["path"]).name for r in csv.DictReader(handle)} == BAD

    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["config"] == config.to_dict() and sidecar["labels"] == ["jazz", "rock"]
    assert sidecar["feature_columns"] == config.feature_columns() and sidecar["n_rows"] == 9
    assert {"librosa", "numpy", "soundfile", "genre"} <= set(sidecar["versions"])
    assert not list(out.parent.glob("*.partial")) and not list(out.parent.glob("*.journal"))


def test_relative_audio_paths_are_found_from_any_folder_later(tmp_path, write_wav, monkeypatch):
    """The sidecar records where extract ran, so its relative paths resolve from elsewhere."""
    from genre.features.table import audio_segment_ids, load_feature_table

    project = tmp_path / "project"
    for label in ("rock", "jazz"):
        for i in range(2):
            write_wav(project / "audio" / label / f"{label}.{i}.wav", 4.0, freq=200.0 * (i + 2))
    monkeypatch.chdir(project)
    extract_to_csv("audio", "tables/features.csv", jobs=1)  # paths in the table: audio/rock/rock.0.wav, ...
    assert json.loads((project / "tables" / "features.json").read_text())["working_directory"] == str(project)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ids = audio_segment_ids(load_feature_table(project / "tables" / "features.csv"), model="cnn")
    assert sorted(Path(p).relative_to(project).as_posix() for p in ids["path"]) == [
        f"audio/{label}/{label}.{i}.wav" for label in ("jazz", "rock") for i in range(2)
    ]


def test_resampled_stereo_equals_extraction_of_its_mono_mix(tmp_path, write_wav):
    import soxr

    stereo = write_wav(tmp_path / "s.wav", 4.0, sr=44100, channels=2)
    y, sr = load_audio(stereo, sr=22050)
    raw, _ = sf.read(stereo, dtype="float32")
    np.testing.assert_allclose(y, soxr.resample(raw.mean(axis=1), 44100, 22050, quality="HQ"), atol=1e-6)
    assert sr == 22050


def test_segments_rows_and_whole_track_mode(tmp_path, write_wav):
    clip = write_wav(tmp_path / "a.wav", 10.0)
    segments = extract_clip(clip, config=FeatureConfig(segment_seconds=3.0))
    assert list(segments["segment"]) == [0, 1, 2] and list(segments["start"]) == [0.0, 3.0, 6.0]
    whole = extract_clip(clip, config=FeatureConfig(segment_seconds=0))
    assert len(whole) == 1
    # the whole-track mean of a stationary descriptor lies within the per-segment range
    assert segments["mfcc_01_mean"].min() - 1 <= whole["mfcc_01_mean"][0] <= segments["mfcc_01_mean"].max() + 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("empty.wav", b"", "cannot decode"), ("text.wav", b"hello", "cannot decode"), ("x.m4a", b"....", "unsupported")],
)
def test_load_audio_rejects_bad_files_with_their_name(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioError, match=message) as info:
        load_audio(path)
    assert str(path) in str(info.value)


def test_parallel_run_writes_the_same_bytes_as_a_serial_run(corpus, tmp_path):
    extract_to_csv(corpus, tmp_path / "serial.csv", jobs=1)
    extract_to_csv(corpus, tmp_path / "parallel.csv", jobs=2)
    assert (tmp_path / "serial.csv").read_bytes() == (tmp_path / "parallel.csv").read_bytes()


def test_existing_output_is_kept_unless_overwrite(corpus, tmp_path):
    out = tmp_path / "f.csv"
    extract_to_csv(corpus, out, jobs=1)
    before = out.read_bytes()
    with pytest.raises(ParameterError, match="--overwrite"):
        extract_to_csv(corpus, out, jobs=1)
    assert out.read_bytes() == before
    extract_to_csv(corpus, out, jobs=1, overwrite=True)
    assert out.read_bytes() == before


def test_extract_returns_a_dataframe_with_skipped_files(corpus):
    frame = extract(corpus, jobs=1)
    assert frame["track"].nunique() == 9 and len(frame.attrs["skipped"]) == len(BAD)


def test_manifest_with_groups_and_repeated_files(tmp_path, write_wav):
    write_wav(tmp_path / "audio" / "a.wav", 3.5)
    write_wav(tmp_path / "audio" / "b.wav", 3.5, freq=300)
    manifest = tmp_path / "list.csv"
    manifest.write_text("path,label,group\naudio/a.wav,x,artist1\naudio/b.wav,y,artist2\naudio/a.wav,x,artist1\n")
    frame = extract(manifest, jobs=1)
    assert list(frame["track"]) == ["audio/a", "audio/b"]  # a repeated file counts once
    assert list(frame["group"]) == ["artist1", "artist2"]
    assert frame.attrs["skipped"] == [(str(tmp_path / "audio" / "a.wav"), "line 4 of list.csv: the same audio file as line 2 of list.csv, which is kept")]
    bad = tmp_path / "bad.csv"
    bad.write_text("file,genre\na.wav,x\n")
    with pytest.raises(DataError, match="lacks column"):
        load_dataset(bad)


def test_a_resumed_run_skips_finished_files(corpus, tmp_path, monkeypatch):
    """Simulate Ctrl-C after three files, then resume: only the rest is extracted."""
    out = tmp_path / "f.csv"
    interrupt_extraction_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        extract_to_csv(corpus, out, jobs=1)
    assert not out.exists() and out.with_name("f.csv.journal").exists()
    monkeypatch.undo()
    report = extract_to_csv(corpus, out, jobs=1)
    assert report.n_resumed == 2  # of the 3 files journaled, one was skipped: no rows to resume
    extract_to_csv(corpus, tmp_path / "whole.csv", jobs=1)
    assert out.read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_resume_refuses_a_journal_of_other_settings(corpus, tmp_path, monkeypatch):
    import genre.features.extract as engine

    out = tmp_path / "f.csv"
    monkeypatch.setattr(engine, "_extract_block", lambda task: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        extract_to_csv(corpus, out, jobs=1)
    monkeypatch.undo()
    with pytest.raises(ParameterError, match="unfinished extraction"):
        extract_to_csv(corpus, out, jobs=1, config=FeatureConfig(segment_seconds=2.0))
    extract_to_csv(corpus, out, jobs=1, config=FeatureConfig(segment_seconds=2.0), overwrite=True)
    assert out.exists()


def _extraction_under_way(tmp_path, write_wav, *, name: str, jobs: int, files_done: int):
    """A CLI extraction of 24 clips in a child process, once ``files_done`` files are journaled.

    Returns (process, command, env, audio folder, output CSV); stdout and stderr are piped together.
    """
    root = tmp_path / "many"
    for i in range(24):
        write_wav(root / ("a" if i % 2 else "b") / f"clip{i:02d}.wav", 3.2, freq=200 + 37 * i, seed=i)
    out = tmp_path / f"{name}.csv"
    journal = out.with_name(f"{name}.csv.journal")
    command = [sys.executable, "-m", "genre.cli", "extract", str(root), "-o", str(out), "--jobs", str(jobs)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_text().count("\n") >= files_done + 1:  # a header line, then one per file
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be stopped; use more files"
    return proc, command, env, root, out


def test_kill_9_mid_run_then_resume_gives_the_uninterrupted_csv(tmp_path, write_wav):
    proc, command, env, root, out = _extraction_under_way(tmp_path, write_wav, name="killed", jobs=1, files_done=5)
    journal = out.with_name("killed.csv.journal")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert not out.exists()
    done_before = journal.read_text().count("\n") - 1
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({done_before} from an earlier run)" in " ".join(resumed.stdout.split()) or done_before > 0
    extract_to_csv(root, tmp_path / "clean.csv", jobs=1)
    assert out.read_bytes() == (tmp_path / "clean.csv").read_bytes()
    assert not journal.exists()


def test_sigterm_is_handled_like_ctrl_c(tmp_path, write_wav):
    """kill (SIGTERM, a scheduler's time limit): one line, the lock released, and the rerun resumes."""
    proc, command, env, _, out = _extraction_under_way(tmp_path, write_wav, name="termed", jobs=2, files_done=3)
    proc.terminate()
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, output
    assert "terminated: finished files are kept" in output and "Traceback" not in output
    assert not out.with_name("termed.csv.lock").exists() and not out.exists()
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "from an earlier run)" in " ".join(resumed.stdout.split())
    assert "(0 from an earlier run)" not in " ".join(resumed.stdout.split())


def test_cli_reports_skips_and_exit_codes(corpus, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli.csv"
    result = runner.invoke(app, ["extract", str(corpus), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "zeros.wav" in result.output and "9 of 15 files extracted" in " ".join(result.output.split())
    strict = runner.invoke(app, ["extract", str(corpus), "-o", str(out), "--jobs", "1", "--overwrite", "--strict"])
    assert strict.exit_code == 1
    only_bad = tmp_path / "bad"
    (only_bad / "x").mkdir(parents=True)
    (only_bad / "x" / "t.wav").write_text("nope")
    nothing = runner.invoke(app, ["extract", str(only_bad), "-o", str(tmp_path / "n.csv"), "--jobs", "1"])
    assert nothing.exit_code == 1 and "Traceback" not in nothing.output
    missing = runner.invoke(app, ["extract", str(tmp_path / "nowhere"), "-o", str(tmp_path / "m.csv")])
    assert missing.exit_code == 2 and "no such folder" in missing.output and "Traceback" not in missing.output
    bad_option = runner.invoke(app, ["extract", str(corpus), "-o", str(tmp_path / "o.csv"), "--segment-seconds", "-1"])
    assert bad_option.exit_code == 2 and "segment_seconds" in bad_option.output


def test_gtzan_mini_extracts_every_clip(gtzan_mini, tmp_path):
    files = sorted(gtzan_mini.rglob("*.wav"))[::10]
    tracks = [Track(path=str(p), track=p.stem, label=p.parent.name) for p in files]
    report = extract_to_csv(Dataset(tracks=tracks, rejected=[], name="mini"), tmp_path / "g.csv", jobs=2)
    table = pd.read_csv(tmp_path / "g.csv")
    assert report.skipped == [] and table["track"].nunique() == len(files)
    # 15-20 s excerpts give 5 or 6 three-second segments each
    assert table.groupby("track").size().between(5, 6).all()
    assert table["tempo_bpm"].between(40, 250).all()
