"""Audit of extraction on a user's messy folder (4 December): fixes and their tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from genre.errors import AudioError
from genre.features.audio import load_audio

# A pool of two workers that each sleep on an item, printing their ids; this process is then killed.
_POOL_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from genre.features.executors import LocalExecutor

    def work(item):
        print(os.getpid(), flush=True)
        time.sleep(60)
        return item

    if __name__ == "__main__":
        for _ in LocalExecutor(jobs=2).map_unordered(work, [1, 2, 3, 4]):
            pass
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) is gone for what matters here.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and kills with SIGKILL")
def test_workers_exit_when_the_extracting_process_is_killed(tmp_path):
    """``kill -9`` of ``genre extract`` left its loky workers running for up to 5 minutes
    (finishing their file, then idle), their memory held and cores busy beside the rerun."""
    script = tmp_path / "pool.py"
    script.write_text(_POOL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            workers.append(int(line))
        assert len(workers) == 2, "the pool's workers did not start"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 15
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(map(_alive, workers)), "worker processes outlived the killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in workers:  # this test's own workers, should the fix fail
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_workers_run_in_process_for_one_job(tmp_path):
    """The parent watch is for worker processes only: run in-process, it neither starts nor exits."""
    from genre.features import executors

    assert executors._keyed(abs, 3, -2, os.getpid()) == (3, 2)
    assert executors._watched_parent is None


def test_an_empty_file_is_said_to_be_empty(tmp_path):
    """An empty ``.wav`` (a failed copy) was "Format not recognised", as if of a wrong format."""
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav: cannot decode audio \(an empty file: 0 bytes\)$"):
        load_audio(path)


def test_a_corrupt_file_is_named_once_in_its_message(tmp_path):
    """libsndfile's "Error opening '<path>': ..." repeated the path the message starts with."""
    path = tmp_path / "my song, take 2.wav"
    path.write_bytes(bytes(range(256)) * 200)
    with pytest.raises(AudioError) as caught:
        load_audio(path)
    message = str(caught.value)
    assert message.count(path.name) == 1, message
    assert message == f"{path}: cannot decode audio (Format not recognised)"


def test_messy_folder_skips_each_bad_file_with_a_clear_reason(tmp_path, write_wav):
    """End to end: the empty and the corrupt file are skipped with the reasons above, once each."""
    from genre.features.config import FeatureConfig
    from genre.features.extract import extract_to_csv

    root = tmp_path / "music"
    write_wav(root / "rock" / "a.wav", 2.0)
    write_wav(root / "jazz" / "b.wav", 2.0, freq=300.0)
    (root / "rock" / "empty.wav").write_bytes(b"")
    (root / "jazz" / "corrupt.wav").write_bytes(bytes(range(256)) * 200)
    report = extract_to_csv(root, tmp_path / "f.csv", config=FeatureConfig(segment_seconds=1.0), jobs=1, progress=False)
    reasons = {Path(p).name: r for p, r in report.skipped}
    assert reasons == {"empty.wav": "cannot decode audio (an empty file: 0 bytes)", "corrupt.wav": "cannot decode audio (Format not recognised)"}


def test_label_folders_spelled_alike_get_a_note(tmp_path):
    """``Hip Hop/`` beside ``hiphop/`` were silently two genres (only case was looked at)."""
    from genre.data.folder import load_folder

    for name in ("Hip Hop/a.wav", "hiphop/b.wav", "hip-hop/c.wav", "rock/d.wav", "Rock And Roll/e.wav"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(64))  # listing reads no audio
    notes = [n for n in load_folder(tmp_path).notes if "spaces, hyphens" in n]
    assert len(notes) == 1, load_folder(tmp_path).notes
    assert "'Hip Hop' and 'hip-hop' and 'hiphop'" in notes[0] and "rock" not in notes[0].lower()


def test_manifest_labels_spelled_alike_get_a_note(tmp_path):
    from genre.data.manifest import load_manifest

    (tmp_path / "m.csv").write_text("path,label\na.wav,R&B\nb.wav,R.&B.\nc.wav,jazz\n")
    notes = load_manifest(tmp_path / "m.csv").notes
    assert notes == [
        "m.csv: labels 'R&B' and 'R.&B.' differ only in spaces, hyphens, underscores or dots, and are separate "
        "genres; if they are one, give them one spelling"
    ]
    (tmp_path / "n.csv").write_text("path,label\na.wav,rock\nb.wav,jazz\n")
    assert load_manifest(tmp_path / "n.csv").notes == []
