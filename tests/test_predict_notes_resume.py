"""A resumed or repeated `genre predict -o OUT` repeats what the first run noticed of its files.

At the end of a run, prediction notes the silent segments that gave no row and the files
recorded below the model's sample rate (an 8 kHz phone recording looks classical to most
models). A rerun reuses the rows of files it predicted before without analysing them, so the
sidecar records those facts, as a feature table's does, and the rerun says them again, in the
words and the order a fresh run would.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

import genre.classifiers.prediction as prediction
from genre.classifiers.prediction import predict_files, write_predictions
from genre.cli import app
from genre.features.extract import BELOW_RATE_KEY, SILENT_KEY
from tests.conftest import LOW_HIGH_PITCHES, tone

SR = 22050  # the rate of the low/high model's training table
LOW = LOW_HIGH_PITCHES["low"][0]


def write(path: Path, *parts: np.ndarray, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.concatenate(parts), sr, subtype="FLOAT")
    return path


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def said(result) -> str:
    return " ".join(result.output.split())


def noticed(notes: list[str]) -> list[str]:
    """The notes on the files themselves, not on the run (reuse, workers)."""
    return [note for note in notes if "silent segment" in note or "recorded below" in note]


@pytest.fixture
def mixed(tmp_path) -> list[Path]:
    """A file with 10 silent 1 s segments, one recorded at 8 kHz, and a plain one, in that order."""
    audio = tmp_path / "audio"
    return [
        write(audio / "padded.wav", tone(2, freq=LOW), np.zeros(10 * SR, dtype=np.float32)),
        write(audio / "phone.wav", tone(3, freq=LOW, sr=8000), sr=8000),
        write(audio / "plain.wav", tone(3, freq=LOW_HIGH_PITCHES["high"][0], seed=1)),
    ]


class Analyses(list):
    """The files analysed, in order; with ``stop_after`` set, Ctrl-C once that many are."""

    stop_after: int | None = None


@pytest.fixture
def analysed(monkeypatch) -> Analyses:
    """The files analysed from now on (``--jobs 1``: in-process)."""
    real, seen = prediction._extract_one, Analyses()

    def counted(task):
        if seen.stop_after is not None and len(seen) == seen.stop_after:
            raise KeyboardInterrupt
        seen.append(task[0])
        return real(task)

    monkeypatch.setattr(prediction, "_extract_one", counted)
    return seen


def sidecar(output: Path) -> dict:
    return json.loads(output.with_suffix(".json").read_text())


def test_the_first_run_notes_the_files_and_the_sidecar_records_them(low_high_model, mixed, tmp_path):
    padded, phone, _ = mixed
    output = tmp_path / "p.csv"
    result = invoke("predict", low_high_model, *mixed, "-o", output)
    assert result.exit_code == 0, result.output
    text = said(result)
    assert "10 silent segments left out (in 1 file)" in text
    assert f"1 file was recorded below {SR} Hz (8000 Hz)" in text and str(phone) in text
    meta = sidecar(output)
    assert meta[SILENT_KEY] == {str(padded): 10}
    assert meta[BELOW_RATE_KEY] == {str(phone): 8000}


def test_a_run_with_nothing_to_say_records_nothing(low_high_model, mixed, tmp_path):
    output = tmp_path / "p.csv"
    write_predictions(predict_files(low_high_model, mixed[2:]), output)
    assert SILENT_KEY not in sidecar(output) and BELOW_RATE_KEY not in sidecar(output)


def test_a_complete_rerun_repeats_the_notes_of_the_files_it_reuses(low_high_model, mixed, tmp_path, analysed):
    output = tmp_path / "p.csv"
    first = predict_files(low_high_model, mixed)
    write_predictions(first, output)
    assert len(noticed(first.attrs["notes"])) == 2
    written = output.with_suffix(".json").read_bytes()

    analysed.clear()
    again = predict_files(low_high_model, mixed, reuse=output)
    assert analysed == [] and again.attrs["n_reused"] == 3
    assert noticed(again.attrs["notes"]) == noticed(first.attrs["notes"])

    # The command prints them, and writes the sidecar again with them.
    result = invoke("predict", low_high_model, *mixed, "-o", output)
    assert result.exit_code == 0, result.output
    assert analysed == []
    assert "reusing 3 predictions" in said(result)
    assert all(note in said(result) for note in noticed(first.attrs["notes"]))
    assert output.with_suffix(".json").read_bytes() == written


@pytest.mark.parametrize("n_done", [1, 2])
def test_an_interrupted_run_resumed_notes_the_files_of_both_runs(low_high_model, mixed, tmp_path, analysed, n_done):
    padded, phone, _ = mixed
    fresh = noticed(predict_files(low_high_model, mixed).attrs["notes"])
    output = tmp_path / "p.csv"
    analysed.clear()
    analysed.stop_after = n_done
    result = invoke("predict", low_high_model, *mixed, "-o", output)
    assert result.exit_code == 130, result.output
    assert "10 silent segments left out (in 1 file)" in said(result)  # of the files finished
    assert ("recorded below" in said(result)) == (n_done == 2)

    analysed.clear()
    analysed.stop_after = None
    result = invoke("predict", low_high_model, *mixed, "-o", output)
    assert result.exit_code == 0, result.output
    assert analysed == [str(f) for f in mixed[n_done:]]
    assert f"reusing {n_done} prediction" in said(result)
    assert all(note in said(result) for note in fresh), (fresh, result.output)
    assert "Traceback" not in result.output
    meta = sidecar(output)
    assert meta[SILENT_KEY] == {str(padded): 10} and meta[BELOW_RATE_KEY] == {str(phone): 8000}


def test_the_notes_name_the_files_in_input_order_whichever_were_reused(low_high_model, tmp_path, analysed):
    """Only the first files below the rate are named: those a fresh run names, not the reused ones first."""
    calls = [write(tmp_path / "calls" / f"call{i}.wav", tone(3, freq=LOW, sr=8000, seed=i), sr=8000) for i in range(4)]
    output = tmp_path / "p.csv"
    fresh = predict_files(low_high_model, calls)
    write_predictions(fresh, output)
    info = os.stat(calls[1])
    os.utime(calls[1], ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))  # analysed again
    analysed.clear()
    again = predict_files(low_high_model, calls, reuse=output)
    assert analysed == [str(calls[1])] and again.attrs["n_reused"] == 3
    (note,) = noticed(again.attrs["notes"])
    assert note == noticed(fresh.attrs["notes"])[0]
    assert "call0.wav, " in note and "call1.wav, " in note and "and 1 more" in note and "call3.wav" not in note
    write_predictions(again, output)
    assert list(sidecar(output)[BELOW_RATE_KEY]) == [str(c) for c in calls]


def without_facts(output: Path, **replace) -> None:
    """The sidecar as an older version wrote it (no facts), or with ``replace``'d facts."""
    meta = sidecar(output)
    for key in (SILENT_KEY, BELOW_RATE_KEY):
        meta.pop(key, None)
    meta.update({{"silent": SILENT_KEY, "below": BELOW_RATE_KEY}[k]: v for k, v in replace.items()})
    output.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")


def test_an_older_sidecar_is_still_reused_and_its_files_have_no_notes(low_high_model, mixed, tmp_path, analysed):
    padded, phone, _ = mixed
    output = tmp_path / "p.csv"
    assert invoke("predict", low_high_model, *mixed, "-o", output).exit_code == 0
    without_facts(output)
    info = os.stat(phone)
    os.utime(phone, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    analysed.clear()
    result = invoke("predict", low_high_model, *mixed, "-o", output)
    assert result.exit_code == 0, result.output
    assert analysed == [str(phone)]  # the others reused all the same
    assert "reusing 2 predictions" in said(result)
    assert "silent segment" not in said(result)  # nothing known of padded.wav
    assert f"1 file was recorded below {SR} Hz (8000 Hz)" in said(result)  # analysed in this run
    meta = sidecar(output)
    assert SILENT_KEY not in meta and meta[BELOW_RATE_KEY] == {str(phone): 8000}


def test_garbled_facts_give_no_note_and_no_traceback(low_high_model, mixed, tmp_path, analysed):
    padded, phone, _ = mixed
    output = tmp_path / "p.csv"
    assert invoke("predict", low_high_model, *mixed, "-o", output).exit_code == 0
    without_facts(output, silent={str(padded): "ten"}, below=[str(phone)])
    analysed.clear()
    result = invoke("predict", low_high_model, *mixed, "-o", output)
    assert result.exit_code == 0, result.output
    assert analysed == [] and "reusing 3 predictions" in said(result)
    assert "silent segment" not in said(result) and "recorded below" not in said(result)
