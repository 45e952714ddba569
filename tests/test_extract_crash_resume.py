"""A run that dies hard (a file crashing the process that analyses it in-process with --jobs 1,
or kill -9 of the whole run): the rerun tries the files that were in flight alone, each in a
process of its own, skips the one that kills that process too and keeps the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import genre.features.extract as engine
from genre.data import Dataset, load_dataset
from genre.errors import OutputError
from genre.features.extract import DIED_AGAIN, extract_to_csv
from genre.features.handcrafted import ClipFeatures
from tests.conftest import REPO, tone, write_tone_folder

#: The CLI, with every extraction done by CrashingExtractor (importable by the worker processes).
SCRIPT = (
    "import sys\n"
    "import genre.features.extract as engine\n"
    "from tests.test_extract_crash_resume import CrashingExtractor\n"
    "engine.HandcraftedExtractor = CrashingExtractor\n"
    "from genre.cli import main\n"
    "sys.argv[0] = 'genre'\n"
    "main()\n"
)


class CrashingExtractor:
    """Two features per 1 s segment of a WAV (quick: no librosa, whose first use in a fresh
    process takes seconds), each call logged as ``NAME PID`` in ``$CRASH_STATE/calls.log``; but:

    - ``crash*`` files kill the process analysing them, every time (as a decoder's segfault);
    - ``hold*`` files wait the first time (for 30 s: until a kill -9 from the test);
    - ``interrupt*`` files raise KeyboardInterrupt the first time (as Ctrl-C).

    Takes the place of the handcrafted extractor in the CLI (see :data:`SCRIPT`), hence ``config``.
    """

    kind = "crashing"

    def __init__(self, config: object = None) -> None:
        self.state = Path(os.environ["CRASH_STATE"])

    def feature_columns(self) -> list[str]:
        return ["rms", "peak"]

    def describe(self) -> dict:
        return {"kind": self.kind}

    def extract_file(self, path: str | os.PathLike) -> ClipFeatures:
        name = Path(path).name
        with open(self.state / "calls.log", "a") as log:
            log.write(f"{name} {os.getpid()}\n")
        first = self.state / f"{name}.first"
        once = not first.exists()
        first.touch()
        if name.startswith("crash"):
            os.kill(os.getpid(), signal.SIGKILL)
        if name.startswith("hold") and once:
            time.sleep(30)
        if name.startswith("interrupt") and once:
            raise KeyboardInterrupt
        y, sr = sf.read(path, dtype="float64")
        segments = y[: len(y) // sr * sr].reshape(-1, sr)
        values = np.column_stack([np.sqrt((segments**2).mean(axis=1)), np.abs(segments).max(axis=1)])
        return ClipFeatures(starts=np.arange(len(segments), dtype=float), values=values)


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "state"
    folder.mkdir()
    monkeypatch.setenv("CRASH_STATE", str(folder))
    yield folder
    # The workers of a pool killed as a whole wait for work (loky: up to 5 minutes). Those this
    # test started carry its CRASH_STATE; this process's own (map_alone here) are left to it.
    for pid in {pid for _, pid in calls(folder)} - {os.getpid()}:
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            ours = f"CRASH_STATE={folder}\0".encode() in Path(f"/proc/{pid}/environ").read_bytes()
            if ours and ppid != os.getpid():
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):  # gone already
            pass


def audio(root: Path, *, a: int = 2, b: int = 2, extra: tuple[str, ...] = ()) -> Path:
    """``a`` and ``b`` tones of 2 s (two rows each) under ``root/a`` and ``root/b``, and another
    tone of 2 s at each ``LABEL/NAME`` of ``extra`` (not a copy: a listing keeps one of two copies)."""
    import soundfile as sf

    write_tone_folder(root, {"a": (220.0, 330.0, 440.0)[:a], "b": tuple(250.0 + 50 * i for i in range(b))}, seconds=2.0)
    for i, name in enumerate(extra):
        (root / name).parent.mkdir(exist_ok=True)
        sf.write(root / name, tone(2.0, freq=610.0 + 37 * i), 22050)
    return root


def calls(state: Path) -> list[tuple[str, int]]:
    log = state / "calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [(name, int(pid)) for name, pid in (line.split() for line in lines)]


def command(source: Path, out: Path, *, jobs: int = 1) -> list[str]:
    return [sys.executable, "-c", SCRIPT, "extract", str(source), "-o", str(out), "--jobs", str(jobs)]


def run(source: Path, out: Path, *, jobs: int = 1) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(command(source, out, jobs=jobs), cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def one_line(result: subprocess.CompletedProcess) -> str:
    return " ".join((result.stdout + result.stderr).split())


def suspects(out: Path) -> set[int]:
    """Files noted as started in ``out``'s run files and not journaled: what a rerun tries alone."""
    journal = out.with_name(out.name + ".journal").read_text().splitlines()[1:]
    journaled = {json.loads(line)["i"] for line in journal if line.endswith("}")}
    return engine._read_started(out.with_name(out.name + ".inflight")) - journaled


def index_of(source: Path, name: str) -> int:
    return [Path(t.path).name for t in load_dataset(source).tracks].index(name)


def clean_table(source: Path, tmp_path: Path, *, without: str = "") -> bytes:
    """The table of an uninterrupted run over the files of ``source``, ``without`` one."""
    data = load_dataset(source)
    tracks = [t for t in data.tracks if Path(t.path).name != without]
    clean = Dataset(tracks=tracks, rejected=[], name=data.name)
    extract_to_csv(clean, tmp_path / "clean.csv", extractor=CrashingExtractor(), jobs=1)
    return (tmp_path / "clean.csv").read_bytes()


def run_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name + "."))


def test_a_file_that_kills_an_in_process_run_is_skipped_by_the_rerun_and_never_tried_again(tmp_path, state):
    source, out = audio(tmp_path / "audio", extra=("a/crash.wav",)), tmp_path / "f.csv"
    crash = source / "a" / "crash.wav"

    died = run(source, out)
    assert died.returncode == -signal.SIGKILL, one_line(died)
    assert suspects(out) == {index_of(source, "crash.wav")} and not out.exists()
    assert [name for name, _ in calls(state)] == ["a.00000.wav", "a.00001.wav", "crash.wav"]

    rerun = run(source, out)
    assert rerun.returncode == 0, one_line(rerun)
    said = one_line(rerun)
    assert "1 file was being extracted when an earlier run died" in said
    assert f"skipped {crash}: {DIED_AGAIN}" in said
    assert "4 of 5 files extracted (2 from an earlier run), 8 rows, 1 skipped" in said
    # Tried alone in a process of its own; the files after it in this process, as --jobs 1 does.
    later = calls(state)[3:]
    assert [name for name, _ in later] == ["crash.wav", "b.00000.wav", "b.00001.wav"]
    assert later[0][1] != later[1][1] == later[2][1]
    assert str(crash) in out.with_suffix(".skipped.csv").read_text()
    assert out.read_bytes() == clean_table(source, tmp_path, without="crash.wav")
    assert run_files(out) == []  # the journal, partial and in-flight notes are gone with the run

    tried = len(calls(state))
    again = run(source, out)  # the same command a third time: the table is there, nothing is tried
    assert again.returncode == 2 and "pass --overwrite" in one_line(again)
    assert len(calls(state)) == tried


def test_a_skip_for_a_second_death_is_journaled_and_ctrl_c_leaves_no_suspect(tmp_path, state):
    source, out = audio(tmp_path / "audio", extra=("a/crash.wav", "b/interrupt.wav")), tmp_path / "f.csv"
    assert run(source, out).returncode == -signal.SIGKILL

    interrupted = run(source, out)  # crash.wav skipped, then Ctrl-C on interrupt.wav
    assert interrupted.returncode == 130, one_line(interrupted)
    assert suspects(out) == set() and not out.with_name("f.csv.inflight").exists()

    finished = run(source, out)
    assert finished.returncode == 0, one_line(finished)
    said = one_line(finished)
    assert "5 of 6 files extracted (4 from an earlier run)" in said and f"skipped {source / 'a' / 'crash.wav'}" in said
    # The skip was journaled: crash.wav ran in the first two runs only, and nothing ran alone.
    assert [name for name, _ in calls(state)].count("crash.wav") == 2
    assert calls(state)[-1][0] == "interrupt.wav" and "earlier run died" not in said
    assert out.read_bytes() == clean_table(source, tmp_path, without="crash.wav")


def kill_while_holding(source: Path, out: Path, state: Path, *, jobs: int, journaled: int) -> set[int]:
    """Start a run, kill -9 it once a ``hold*`` file waits and ``journaled`` files are done; its suspects."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        command(source, out, jobs=jobs), cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    journal = out.with_name(out.name + ".journal")
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            held = any((state / f"{name}.first").exists() for name, _ in calls(state) if name.startswith("hold"))
            if held and journal.exists() and journal.read_text().count("\n") > journaled:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        found = suspects(out)
    finally:
        proc.kill()
        proc.wait()
    return found


def test_a_run_killed_from_outside_tries_its_file_alone_and_keeps_its_rows(tmp_path, state):
    source, out = audio(tmp_path / "audio", extra=("a/hold.wav",)), tmp_path / "f.csv"
    assert kill_while_holding(source, out, state, jobs=1, journaled=2) == {index_of(source, "hold.wav")}

    rerun = run(source, out)
    assert rerun.returncode == 0, one_line(rerun)
    assert "5 of 5 files extracted (2 from an earlier run), 10 rows, 0 skipped" in one_line(rerun)
    later = calls(state)[3:]
    assert [name for name, _ in later] == ["hold.wav", "b.00000.wav", "b.00001.wav"]
    assert later[0][1] != later[1][1] == later[2][1]
    assert out.read_bytes() == clean_table(source, tmp_path)


def test_a_pool_killed_as_a_whole_makes_suspects_of_its_busy_files_only(tmp_path, state):
    source, out = audio(tmp_path / "audio", a=0, b=6, extra=("a/hold.wav",)), tmp_path / "f.csv"
    # hold.wav is first: one worker waits on it while the other works through the queue.
    found = kill_while_holding(source, out, state, jobs=2, journaled=1)
    # The files the workers had started, not the whole queue handed to the pool. How many were
    # started and not yet journaled when the run died depends on timing (results in transit to
    # the parent, whose journal fsyncs are slower than these tiny files); a file noted as it
    # started may be killed before it logs its call (one per worker at most).
    names = [Path(t.path).name for t in load_dataset(source).tracks]
    started = {names.index(name) for name, _ in calls(state)}
    assert index_of(source, "hold.wav") in found and len(found) < len(names)
    assert len(found - started) <= 2, (found, started)

    rerun = run(source, out)
    assert rerun.returncode == 0, one_line(rerun)
    assert "7 of 7 files extracted" in one_line(rerun) and "0 skipped" in one_line(rerun)
    assert out.read_bytes() == clean_table(source, tmp_path)


def no_process(func, items, **kwargs):
    """Stands in for :func:`map_alone` where no file may be tried alone."""
    assert not list(items), "started a process for a file"
    return iter(())


@pytest.mark.parametrize("stop", ["ctrl-c", "full disk"])
def test_a_run_that_ends_in_python_leaves_no_suspect(tmp_path, state, monkeypatch, stop):
    source, out = audio(tmp_path / "audio", extra=("b/interrupt.wav",)), tmp_path / "f.csv"
    extractor = CrashingExtractor()
    if stop == "full disk":
        (state / "interrupt.wav.first").touch()  # no Ctrl-C from it
        real, done = engine._Journal.record, []

        def full_disk(self, block, *, stamp):
            if len(done) == 3:
                raise OutputError("f.csv.partial: cannot write (No space left on device)")
            done.append(block.index)
            real(self, block, stamp=stamp)

        monkeypatch.setattr(engine._Journal, "record", full_disk)
    with pytest.raises(KeyboardInterrupt if stop == "ctrl-c" else OutputError):
        extract_to_csv(source, out, extractor=extractor, jobs=1)
    monkeypatch.undo()
    monkeypatch.setenv("CRASH_STATE", str(state))
    assert len(calls(state)) == (5 if stop == "ctrl-c" else 4)  # the stop came while a file was in flight
    assert not out.with_name("f.csv.inflight").exists()

    monkeypatch.setattr(engine, "map_alone", no_process)
    report = extract_to_csv(source, out, extractor=extractor, jobs=1)
    assert report.n_extracted == 5 and report.notes == []
    assert run_files(out) == []
    assert out.read_bytes() == clean_table(source, tmp_path)


def test_suspects_not_tried_yet_stay_suspects_after_ctrl_c(tmp_path, state, monkeypatch):
    source, out = audio(tmp_path / "audio"), tmp_path / "f.csv"
    real = engine._extract_block

    def first_only(task):
        if task[0] > 0:
            raise KeyboardInterrupt
        return real(task)

    with monkeypatch.context() as patched:  # Ctrl-C on the second file: the first is journaled
        patched.setattr(engine, "_extract_block", first_only)
        with pytest.raises(KeyboardInterrupt):
            extract_to_csv(source, out, extractor=CrashingExtractor(), jobs=1)
    inflight = out.with_name("f.csv.inflight")
    assert not inflight.exists()
    # As a run killed on the second file leaves it; a late worker's note (another token) and a
    # line cut short by a power loss do not count.
    inflight.write_text("c0ffee\nc0ffee 1\nbad 2\nc0ffee 3")
    assert suspects(out) == {1}

    with monkeypatch.context() as patched:  # Ctrl-C before the suspect is tried: still a suspect
        patched.setattr(engine, "map_alone", lambda *args, **kwargs: (_ for _ in ()).throw(KeyboardInterrupt()))
        with pytest.raises(KeyboardInterrupt):
            extract_to_csv(source, out, extractor=CrashingExtractor(), jobs=1)
    assert suspects(out) == {1}

    report = extract_to_csv(source, out, extractor=CrashingExtractor(), jobs=1)
    assert (report.n_resumed, report.n_extracted, report.skipped) == (1, 4, [])
    assert [name for name, _ in calls(state)] == ["a.00000.wav", "a.00001.wav", "b.00000.wav", "b.00001.wav"]
    assert calls(state)[1][1] != os.getpid() == calls(state)[0][1] == calls(state)[2][1]
    assert out.read_bytes() == clean_table(source, tmp_path) and run_files(out) == []


def test_trying_files_alone_leaves_joblib_pools_of_this_process_working():
    from joblib import Parallel, delayed

    from genre.features.executors import LocalExecutor, map_alone

    assert list(map_alone(abs, [-1, -2])) == [1, 2]
    assert sorted(LocalExecutor(jobs=2).map_unordered(abs, [-3, -4, -5])) == [3, 4, 5]
    assert Parallel(n_jobs=2, backend="loky")(delayed(abs)(x) for x in [-6, -7]) == [6, 7]
