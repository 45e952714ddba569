"""The extraction engine under bad conditions: a damaged resume state, two runs on one output,
a full disk, unusable output paths, runs that extract nothing, non-finite parameters, and the
benchmark's reuse of tables it extracted from audio."""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import genre.features.extract as engine
from genre.atomic import OutputLock
from genre.cli import app
from genre.errors import OutputError, ParameterError
from genre.features.config import FeatureConfig
from genre.features.executors import LocalExecutor, resolve_jobs
from genre.features.extract import StaleJournalError, extract_to_csv
from tests.conftest import interrupt_extraction_after, tone, write_tone_folder

runner = CliRunner()
PITCHES = {"a": (220.0, 330.0, 440.0), "b": (250.0, 350.0, 450.0)}


@pytest.fixture
def audio(tmp_path) -> Path:
    """Six 3.5 s tones in two label folders: one 3 s segment each."""
    return write_tone_folder(tmp_path / "audio", PITCHES, seconds=3.5)


@pytest.fixture
def reference(audio, tmp_path) -> bytes:
    """The table of an uninterrupted run."""
    extract_to_csv(audio, tmp_path / "reference.csv", jobs=1)
    return (tmp_path / "reference.csv").read_bytes()


def interrupted_run(monkeypatch, audio: Path, out: Path, n_files: int) -> None:
    interrupt_extraction_after(monkeypatch, n_files)
    with pytest.raises(KeyboardInterrupt):
        extract_to_csv(audio, out, jobs=1)
    monkeypatch.undo()


def data_rows(path: Path) -> int:
    return len(pd.read_csv(path))


# -- 1. resume checks the partial file against the journal --------------------------------------
def _cut_short(partial: Path) -> None:
    partial.write_bytes(partial.read_bytes()[: partial.stat().st_size // 2])


def _flip_a_byte(partial: Path) -> None:
    data = bytearray(partial.read_bytes())
    data[len(data) // 3] ^= 0x01  # same size: only the checksum can tell
    partial.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage", [_cut_short, Path.unlink, _flip_a_byte], ids=["truncated", "deleted", "changed"]
)
def test_resume_extracts_again_the_rows_a_damaged_partial_file_lost(audio, reference, tmp_path, monkeypatch, damage):
    out = tmp_path / "f.csv"
    interrupted_run(monkeypatch, audio, out, 4)
    damage(out.with_name("f.csv.partial"))
    report = extract_to_csv(audio, out, jobs=1)
    assert out.read_bytes() == reference
    assert report.n_rows == data_rows(out) == 6
    assert report.n_resumed < 4 and "missing or damaged" in " ".join(report.notes)


def test_resume_drops_an_unjournaled_tail_and_a_journal_line_cut_short(audio, reference, tmp_path, monkeypatch):
    out = tmp_path / "f.csv"
    partial, journal = out.with_name("f.csv.partial"), out.with_name("f.csv.journal")
    interrupted_run(monkeypatch, audio, out, 3)
    with open(partial, "ab") as handle:  # a block whose journal line never made it to disk
        handle.write(b"/half/a/row,of,a,file\n")
    journal.write_text(journal.read_text()[:-10])  # the last line cut short by a kill
    interrupted_run(monkeypatch, audio, out, 2)
    # Lines appended after the cut one must still count: 2 + 2 files, not 2.
    report = extract_to_csv(audio, out, jobs=1)
    assert report.n_resumed == 4 and report.notes == []
    assert out.read_bytes() == reference


def _same_size_newer_time(path: Path, other: Path) -> None:
    import soundfile as sf

    # Another tone of the same length (not a copy of `other`, which a listing would keep once):
    # only the time can tell.
    size = path.stat().st_size
    sf.write(path, tone(sf.info(other).duration, freq=330.0, seed=7), 22050)
    assert path.stat().st_size == size
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))


def _other_size_same_time(path: Path, other: Path) -> None:
    import soundfile as sf

    old = path.stat()
    sf.write(path, tone(4.5, freq=300.0), 22050)
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))  # as a copy that keeps times would (cp -p)


@pytest.mark.parametrize("change", [_same_size_newer_time, _other_size_same_time], ids=["mtime", "size"])
def test_resume_extracts_again_a_finished_file_changed_since(audio, tmp_path, monkeypatch, change):
    out = tmp_path / "f.csv"
    interrupted_run(monkeypatch, audio, out, 4)  # a/a.00000..a.00002 and b/b.00000 are journaled
    change(audio / "a" / "a.00001.wav", audio / "b" / "b.00002.wav")
    report = extract_to_csv(audio, out, jobs=1)
    assert report.n_resumed == 3
    assert report.notes == [
        "1 audio file changed (size or modification time) since it was extracted; extracting it again"
    ]
    extract_to_csv(audio, tmp_path / "fresh.csv", jobs=1)
    assert out.read_bytes() == (tmp_path / "fresh.csv").read_bytes()  # the new sound's rows, not the old


def test_a_journal_without_file_stamps_is_resumed_with_its_files_extracted_again(
    audio, reference, tmp_path, monkeypatch
):
    """A journal of an older version does not tell whether a file changed: nothing of it is trusted."""
    out = tmp_path / "f.csv"
    journal = out.with_name("f.csv.journal")
    interrupted_run(monkeypatch, audio, out, 4)
    header, *entries = [json.loads(line) for line in journal.read_text().splitlines()]
    old = [{k: v for k, v in e.items() if k not in ("size", "mtime_ns")} for e in entries]
    journal.write_text("\n".join(json.dumps(line) for line in [header, *old]) + "\n")
    report = extract_to_csv(audio, out, jobs=1)
    assert report.n_resumed == 0 and report.n_extracted == 6
    assert "4 finished files were recorded by an older version of genre" in " ".join(report.notes)
    assert out.read_bytes() == reference


# -- 2. one run per output -------------------------------------------------------------------------
def test_a_second_run_on_an_output_being_written_fails_at_once(audio, tmp_path, monkeypatch):
    out = tmp_path / "f.csv"
    interrupted_run(monkeypatch, audio, out, 2)
    state = out.with_name("f.csv.journal").read_bytes(), out.with_name("f.csv.partial").read_bytes()
    monkeypatch.setattr(engine, "_extract_block", lambda task: pytest.fail("the second run extracted a file"))
    with OutputLock(out):  # the first run, still writing
        for overwrite in (False, True):
            with pytest.raises(OutputError, match=r"another extraction \(pid \d+ on .+\) is writing .*f\.csv"):
                extract_to_csv(audio, out, jobs=1, overwrite=overwrite)
    assert (out.with_name("f.csv.journal").read_bytes(), out.with_name("f.csv.partial").read_bytes()) == state


def test_the_lock_of_a_killed_run_is_taken_over_and_every_exit_removes_it(audio, reference, tmp_path, monkeypatch):
    out = tmp_path / "f.csv"
    lock = out.with_name("f.csv.lock")
    lock.write_text(json.dumps({"pid": 999999999, "host": "gone"}))  # left by kill -9: nobody holds it
    interrupted_run(monkeypatch, audio, out, 2)
    assert not lock.exists()
    extract_to_csv(audio, out, jobs=1)
    assert not lock.exists() and out.read_bytes() == reference
    with pytest.raises(ParameterError, match="--overwrite"):
        extract_to_csv(audio, out, jobs=1)
    assert not lock.exists()


# -- 3. disk full / file too large ---------------------------------------------------------------
@pytest.fixture
def file_size_limit():
    """Set RLIMIT_FSIZE (Python ignores SIGXFSZ, so a write past it fails with EFBIG)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)

    def limit(size: int) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))

    yield limit
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@pytest.mark.parametrize("phase", ["partial", "final"])
def test_a_full_disk_gives_one_line_and_a_rerun_resumes(audio, reference, tmp_path, file_size_limit, phase):
    header = len(reference.split(b"\n", 1)[0]) + 1
    # During the extraction: room for two files' rows; at the end: every row, but not the header too.
    size = (len(reference) - header) // 3 if phase == "partial" else len(reference) - header // 2
    out = tmp_path / "f.csv"
    file_size_limit(size)
    result = runner.invoke(app, ["extract", str(audio), "-o", str(out), "--jobs", "1"])
    file_size_limit(resource.RLIM_INFINITY)
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "File too large" in message and "rerun the same command" in message and "Traceback" not in message
    assert ("f.csv.partial" in message) == (phase == "partial") and not out.exists()
    report = extract_to_csv(audio, out, jobs=1)
    assert report.n_resumed == (2 if phase == "partial" else 6)
    assert out.read_bytes() == reference


# -- 4. output paths are checked before the work -------------------------------------------------
@pytest.fixture
def no_extraction(monkeypatch):
    monkeypatch.setattr(engine, "_extract_block", lambda task: pytest.fail("extracted before checking the output"))


def test_an_output_under_a_file_is_refused_before_any_work(audio, tmp_path, no_extraction):
    (tmp_path / "full.csv").write_text("a table\n")
    with pytest.raises(OutputError, match="full.csv"):
        extract_to_csv(audio, tmp_path / "full.csv" / "x.csv", jobs=1)
    result = runner.invoke(app, ["extract", str(audio), "-o", str(tmp_path / "full.csv" / "x.csv"), "--jobs", "1"])
    assert result.exit_code == 2 and "Traceback" not in result.output


@pytest.mark.parametrize("blocked", ["f.csv.journal", "f.csv.partial"])
def test_run_state_files_that_cannot_be_made_give_one_clear_error(audio, tmp_path, no_extraction, blocked):
    (tmp_path / blocked).mkdir()  # a folder where the run keeps its state
    with pytest.raises(OutputError, match=f"{blocked}: cannot"):
        extract_to_csv(audio, tmp_path / "f.csv", jobs=1)
    assert not (tmp_path / "f.csv.lock").exists()


# -- 5. a run that extracts nothing keeps the table that is there ---------------------------------
def test_a_run_extracting_nothing_keeps_the_existing_table(audio, tmp_path):
    out = tmp_path / "keep.csv"
    extract_to_csv(audio, out, jobs=1)
    before = {p.name: p.read_bytes() for p in tmp_path.glob("keep*")}
    args = ["extract", str(audio), "-o", str(out), "--jobs", "1", "--overwrite", "--segment-seconds", "1000"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "too short" in result.output and f"{out} and its sidecar were kept" in " ".join(result.output.split())
    assert {p.name: p.read_bytes() for p in tmp_path.glob("keep*")} == before


# -- 6. non-finite parameters ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, value",
    [
        ("segment_seconds", float("nan")),
        ("segment_seconds", float("inf")),
        ("segment_seconds", 1e306),
        ("min_seconds", float("inf")),
        ("rolloff_percent", float("nan")),
        ("silence_rms", float("nan")),
        ("sr", float("nan")),
        ("n_fft", "2048"),
    ],
)
def test_feature_config_refuses_non_finite_numbers(name, value):
    with pytest.raises(ParameterError, match=f"^{name}="):
        FeatureConfig(**{name: value})


def test_cli_refuses_a_nan_segment_length(audio, tmp_path):
    result = runner.invoke(app, ["extract", str(audio), "-o", str(tmp_path / "f.csv"), "--segment-seconds", "nan"])
    assert result.exit_code == 2 and "segment_seconds=nan: must be a finite number" in result.output


# -- 7. an empty source ------------------------------------------------------------------------------
def test_an_empty_source_is_refused(tmp_path, monkeypatch):
    from genre.benchmark import extract_inputs

    monkeypatch.chdir(tmp_path)  # Path("") is this folder
    with pytest.raises(ParameterError, match="source is empty"):
        extract_to_csv("", tmp_path / "f.csv", jobs=1)
    with pytest.raises(ParameterError, match="source is empty"):
        extract_inputs("", tmp_path / "features", models=["logreg"], jobs=1)


# -- 8. the benchmark's tables follow the audio folder ----------------------------------------------
def test_benchmark_extracts_again_when_files_were_added(audio, tmp_path, monkeypatch):
    from genre.benchmark import extract_inputs

    folder, lines = tmp_path / "report" / "features", []
    (table,) = extract_inputs(audio, folder, models=["logreg"], jobs=1, echo=lines.append)
    assert data_rows(table) == 6
    with monkeypatch.context() as patched:  # nothing changed: the table is reused without extracting
        patched.setattr(engine, "extract_to_csv", lambda *a, **k: pytest.fail("extracted an up-to-date table"))
        extract_inputs(audio, folder, models=["logreg"], jobs=1, echo=lines.append)
    assert "already extracted" in lines[-1]
    shutil.copy(audio / "a" / "a.00000.wav", audio / "a" / "a.00009.wav")
    _same_size_newer_time(audio / "a" / "a.00009.wav", audio / "a" / "a.00000.wav")  # new sound, not a copy
    extract_inputs(audio, folder, models=["logreg"], jobs=1, echo=lines.append)
    assert "out of date" in lines[-2] and data_rows(table) == 7
    assert "a/a.00009" in set(pd.read_csv(table)["track"])
    before = pd.read_csv(table).set_index("track").loc["a/a.00001"].iloc[-1]
    _same_size_newer_time(audio / "a" / "a.00001.wav", audio / "b" / "b.00000.wav")  # same name, new sound
    os.utime(audio / "a" / "a.00001.wav", ns=(table.stat().st_mtime_ns + 10**9,) * 2)
    extract_inputs(audio, folder, models=["logreg"], jobs=1, echo=lines.append)
    assert "out of date" in lines[-2]
    assert pd.read_csv(table).set_index("track").loc["a/a.00001"].iloc[-1] != before


def test_benchmark_discards_an_unfinished_extraction_of_other_settings(audio, tmp_path, monkeypatch):
    # One of other files only is kept (see tests/test_relabel_resume.py): its rows are the same.
    from genre.benchmark import extract_inputs

    folder, lines = tmp_path / "report" / "features", []
    interrupt_extraction_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        extract_to_csv(audio, folder / "features.csv", jobs=1, config=FeatureConfig(segment_seconds=2.0))
    monkeypatch.undo()
    with pytest.raises(StaleJournalError):  # what the engine alone says
        extract_to_csv(audio, folder / "features.csv", jobs=1)
    (table,) = extract_inputs(audio, folder, models=["logreg"], jobs=1, echo=lines.append)
    assert any("discarding an unfinished extraction" in line for line in lines)
    assert data_rows(table) == 6


# -- 9. worker processes -------------------------------------------------------------------------------
def test_jobs_beyond_the_cores_are_refused_when_negative(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert (resolve_jobs(-1), resolve_jobs(-2), resolve_jobs(3)) == (2, 1, 3)
    for jobs in (0, -3, -5):
        with pytest.raises(ParameterError, match=f"--jobs {jobs}: use a positive number, or -1"):
            resolve_jobs(jobs)


def test_no_more_worker_processes_than_files_or_cores(audio, tmp_path, monkeypatch):
    started = []

    class Recording(LocalExecutor):
        def prepare(self, *, n_items: int, notes: list[str]) -> None:
            super().prepare(n_items=n_items, notes=notes)
            started.append(self.jobs)  # records what it would start, then runs in this process
            self.jobs = 1

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    monkeypatch.setattr(engine, "LocalExecutor", Recording)
    report = extract_to_csv(audio, tmp_path / "many.csv", jobs=1000)
    assert started == [6] and "at most 8 worker processes" in " ".join(report.notes)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    report = extract_to_csv(audio, tmp_path / "two.csv", jobs=2)
    assert started[-1] == 2 and report.notes == []


def test_local_executor_starts_no_process_without_an_item(monkeypatch):
    import joblib

    sizes = []

    def parallel(*, n_jobs: int, **kwargs):
        sizes.append(n_jobs)
        return lambda tasks: [f(*a, **k) for f, a, k in tasks]

    monkeypatch.setattr(joblib, "Parallel", parallel)
    executor = LocalExecutor(jobs=1000)
    assert sorted(executor.map_unordered(abs, [-1, -2, -3])) == [1, 2, 3] and sizes == [3]
    assert list(executor.map_unordered(abs, [-4])) == [4] and sizes == [3]  # one item: no process at all


def test_a_full_disk_at_the_final_write_replaces_nothing_and_the_same_command_finishes(tmp_path, monkeypatch):
    """The table, sidecar and skipped list are committed together; even --overwrite then resumes."""
    audio = write_tone_folder(tmp_path / "audio", {"low": (200.0, 300.0), "high": (2000.0, 3000.0)}, seconds=2.0)
    out = tmp_path / "f.csv"
    extract_to_csv(audio, out, jobs=1)
    old = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}

    real_writer = engine.csv.writer

    class FullDisk:  # the skipped list, the last of the three files, hits a full disk
        def __init__(self, *args, **kwargs):
            self.writer = real_writer(*args, **kwargs)

        def writerow(self, row):
            if row == ["path", "reason"]:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.writer.writerow(row)

    monkeypatch.setattr(engine.csv, "writer", FullDisk)
    with pytest.raises(OutputError, match="rerun the same command"):
        extract_to_csv(audio, out, jobs=1, overwrite=True, config=FeatureConfig(segment_seconds=1.0))
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.name in old} == old
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    report = extract_to_csv(audio, out, jobs=1, overwrite=True, config=FeatureConfig(segment_seconds=1.0))
    assert report.n_resumed == 4 and report.n_rows == len(pd.read_csv(out)) == 8
    assert json.loads(out.with_suffix(".json").read_text())["config"]["segment_seconds"] == 1.0


def test_a_lock_file_that_cannot_be_written_is_one_line(tmp_path, monkeypatch):
    audio = write_tone_folder(tmp_path / "audio", {"low": (200.0,), "high": (2000.0,)}, seconds=3.5)
    out = tmp_path / "f.csv"

    def file_too_large(fd, data):
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))

    monkeypatch.setattr(engine.os, "write", file_too_large)
    with pytest.raises(OutputError, match="cannot write the lock file"):
        extract_to_csv(audio, out, jobs=1)
    monkeypatch.undo()
    assert not out.with_name("f.csv.lock").exists()
    assert extract_to_csv(audio, out, jobs=1).n_extracted == 2


def test_the_cap_note_of_a_one_core_machine_is_singular(monkeypatch):
    from genre.features.executors import cap_workers

    monkeypatch.setattr("os.cpu_count", lambda: 1)
    notes: list[str] = []
    assert cap_workers(jobs=4, n_items=10, notes=notes) == 1
    assert notes == ["--jobs 4: this machine has 1 core, so at most 1 worker process runs"]
    executor = LocalExecutor(jobs=4)
    executor.prepare(n_items=10, notes=[])
    assert executor.description == "1 local process"


def test_a_resumed_run_with_nothing_left_starts_no_worker_or_cluster(audio, reference, tmp_path, monkeypatch):
    """Every file journaled (the final write failed): the rerun only assembles the table."""
    from genre.features.executors import DaskExecutor

    out = tmp_path / "f.csv"

    def full_disk(*args, **kwargs):
        raise OutputError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr(engine, "_assemble", full_disk)
        with pytest.raises(OutputError, match="rerun the same command"):
            extract_to_csv(audio, out, jobs=1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)  # a sized executor would note its cap of 2
    monkeypatch.setattr(DaskExecutor, "_connect", lambda self: pytest.fail("started a cluster for no file"))
    executor = DaskExecutor(n_workers=16)
    report = extract_to_csv(audio, out, executor=executor, progress=True)
    assert (report.n_resumed, report.n_extracted, report.notes) == (6, 6, [])
    assert out.read_bytes() == reference and executor._cluster is None


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_output_name_is_refused_as_empty(audio, tmp_path, monkeypatch, empty):
    from genre.features.extract import extract

    monkeypatch.chdir(tmp_path)
    for run in (extract_to_csv, extract):
        with pytest.raises(OutputError, match="^the output file name is empty; give a file name to write to$"):
            run(audio, empty, jobs=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio"]
