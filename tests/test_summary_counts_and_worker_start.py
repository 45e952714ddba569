"""Two faults seen from the command line (2026-12-04).

1. ``genre benchmark AUDIO``'s ``features:`` line counted a skipped file among the extracted
   ones too ("0 files reused, 13 extracted, 1 skipped" for 13 files), and a file an interrupted
   run had skipped among the reused ones; ``genre extract``'s "(N from an earlier run)" did the
   same. Each file found is now counted once: reused + extracted + skipped = files found.
2. Where no worker process can start (an interpreter this user cannot run), ``--jobs 2``
   skipped every file as "the worker process died"; the files are now worked on in this
   process, and a note says why.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from genre.benchmark import benchmark
from genre.cli import app
from genre.features.executors import WORKER_DIED, LocalExecutor, TaskFailure
from genre.features.extract import extract_to_csv
from tests.conftest import interrupt_extraction_after, write_tone_folder
from tests.test_audit_benchmark_audio_dec4 import audio_with_a_corrupt_file, flat

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


# -- 1. every file found is counted once -----------------------------------------------------------
def test_the_benchmark_summary_counts_a_skipped_file_once(tmp_path):
    root, _ = audio_with_a_corrupt_file(tmp_path)
    (root / "jazz").mkdir()  # a label folder without audio: left out, and not a file
    out = tmp_path / "report"
    args = ["benchmark", str(root), "-m", "lda", "--folds", "2", "-j", "1", "-o", str(out)]
    listed = out / "features" / "features.skipped.csv"
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    # 7 files found: 6 gave rows, 1 did not (it was counted among the extracted as well).
    said = flat(result.output)
    assert f"features: 0 files reused, 6 extracted, 1 skipped, 1 folder left out (listed in {listed})" in said
    assert "handcrafted: 6 of 7 files, 6 rows in" in said and "(1 skipped, 1 folder left out, see" in said
    # Reused whole: its 6 files with rows are reused, the file it skipped is still skipped (not reused too).
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"features: 6 files reused, 0 extracted, 1 skipped, 1 folder left out (listed in {listed})" in flat(
        result.output
    )


def test_a_file_an_interrupted_run_skipped_is_neither_reused_nor_extracted(tmp_path, monkeypatch):
    root, broken = audio_with_a_corrupt_file(tmp_path)
    out = tmp_path / "report"
    interrupt_extraction_after(monkeypatch, 2)  # broken.wav (skipped, journaled) and high.00000.wav
    try:
        benchmark(root, output_dir=out, models=["lda"], folds=2, jobs=1)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the extraction was not interrupted")
    monkeypatch.undo()
    run = benchmark(root, output_dir=out, models=["lda"], folds=2, jobs=1)
    (table,) = run.features.tables
    assert (table.n_reused, table.n_extracted, table.n_skipped) == (1, 5, 1)
    assert table.n_reused + table.n_extracted + table.n_skipped == 7  # the files found


def test_extract_counts_a_resumed_skip_among_the_skipped_only(tmp_path, monkeypatch):
    root, broken = audio_with_a_corrupt_file(tmp_path)
    out = tmp_path / "features.csv"
    args = ["extract", str(root), "-o", str(out), "-j", "1"]
    interrupt_extraction_after(monkeypatch, 2)
    assert runner.invoke(app, args).exit_code == 130
    monkeypatch.undo()
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    # It said "(2 from an earlier run)": broken.wav, skipped by the earlier run, counted as resumed.
    assert "6 of 7 files extracted (1 from an earlier run), 6 rows, 1 skipped" in flat(result.output)
    assert f"skipped {broken}" in flat(result.output)


def test_the_report_counts_add_up_to_the_files_found(tmp_path, monkeypatch):
    root, broken = audio_with_a_corrupt_file(tmp_path)
    out = tmp_path / "features.csv"
    interrupt_extraction_after(monkeypatch, 2)
    try:
        extract_to_csv(root, out, jobs=1)
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    report = extract_to_csv(root, out, jobs=1)
    assert (report.n_tracks, report.n_extracted, report.n_resumed) == (7, 6, 1)
    assert [path for path, _ in report.skipped] == [str(broken)]
    assert report.n_extracted + len(report.skipped) - len(report.folders_left_out) == report.n_tracks


# -- 2. worker processes that cannot start -----------------------------------------------------------
#: Run in a child process whose interpreter, as loky sees it, cannot be executed (as for a user
#: who may not run the venv's python): no worker process can start at all. Cores are faked, so
#: that --jobs 2 means two workers on a one-core machine too.
NO_WORKER_SCRIPT = r"""
import json, os, sys
sys.executable = sys.argv[1]  # read by loky when it starts a worker: exec fails, the worker exits 255
os.cpu_count = lambda: 4
from genre.features.executors import LocalExecutor, TaskFailure

executor, notes = LocalExecutor(jobs=2), []
executor.prepare(n_items=4, notes=notes)
results = list(executor.map_unordered(lambda x: (x, os.getpid()), range(4)))
print("EXECUTOR " + json.dumps({
    "failures": sum(isinstance(r, TaskFailure) for r in results),
    "here": sorted(r[0] for r in results if not isinstance(r, TaskFailure) and r[1] == os.getpid()),
    "no_workers": executor.no_workers, "notes": notes, "jobs": executor.jobs,
}), flush=True)
from genre.cli import app
app(["extract", sys.argv[2], "-o", sys.argv[3], "-j", "2"])
"""


def run_without_workers(tmp_path: Path, script: str, *args: object) -> subprocess.CompletedProcess:
    """Run ``script`` in a child process, its ``sys.argv[1]`` an interpreter no one can execute."""
    cannot_run = tmp_path / "python"
    cannot_run.write_text("#!/bin/sh\nexit 0\n")
    cannot_run.chmod(0o644)  # not executable, even for root
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", script, str(cannot_run), *map(str, args)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_without_worker_processes_the_files_are_extracted_in_this_process(tmp_path):
    root = write_tone_folder(tmp_path / "audio", {"low": (220.0, 247.0), "high": (880.0,)}, seconds=4.0)
    out = tmp_path / "features.csv"
    proc = run_without_workers(tmp_path, NO_WORKER_SCRIPT, root, out)
    said = flat(proc.stdout + proc.stderr)
    assert proc.returncode == 0, said
    line = next(text for text in proc.stdout.splitlines() if text.startswith("EXECUTOR "))
    executor = json.loads(line.removeprefix("EXECUTOR "))
    # Every item ran, here, rather than each being given up as a worker's death.
    assert executor["failures"] == 0 and executor["here"] == [0, 1, 2, 3] and executor["jobs"] == 1
    # The workers exit with 255 (exec failed); or loky's resource tracker, which runs the same
    # interpreter, is found dead first (a broken pipe): which comes first is up to the OS.
    why = executor["no_workers"]
    broken_pipe = "starting them failed: BrokenPipeError: [Errno 32] Broken pipe"
    assert why in ("they exited at once, exit code 255", broken_pipe)
    (note,) = executor["notes"]
    assert note.startswith(f"--jobs 2: no worker process could start ({why}; can this user run the Python interpreter")
    assert "the files are worked on in this process" in note
    # The command: every file extracted, and the note said once (on stderr, as notes are).
    assert "3 of 3 files extracted (0 from an earlier run), 3 rows, 0 skipped" in flat(proc.stdout)
    assert WORKER_DIED not in said and flat(proc.stderr).count("no worker process could start") == 1
    assert out.read_text().count("\n") == 4  # the header and a row per file


def test_a_first_file_that_kills_its_worker_is_still_skipped_by_workers_that_do_run():
    # The workers die before any result (the first item kills its own): the empty task then
    # comes back, so the death is the item's, and the rest goes on in worker processes.
    executor = LocalExecutor(jobs=2)
    results = list(executor.map_unordered(_die_on_zero, range(5)))
    assert TaskFailure(0, WORKER_DIED) in results
    done = [r for r in results if not isinstance(r, TaskFailure)]
    assert sorted(x for x, _ in done) == [1, 2, 3, 4]
    assert all(pid != os.getpid() for _, pid in done)  # not in this process


def _die_on_zero(x: int) -> tuple[int, int]:
    if x == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return x, os.getpid()


def test_predict_says_once_that_it_worked_in_this_process(tmp_path):
    # The executor's note arrives while the files are analysed, after the notes said at the
    # start: predict used to keep it in attrs["notes"] and never print it.
    root = write_tone_folder(tmp_path / "audio", {"low": (220.0, 247.0), "high": (880.0, 988.0)}, seconds=4.0)
    table, model = tmp_path / "features.csv", tmp_path / "m.genre"
    extract_to_csv(root, table, jobs=1, progress=False)
    assert runner.invoke(app, ["train", str(table), "-m", "logreg", "-o", str(model)]).exit_code == 0
    script = (
        "import os, sys\nsys.executable = sys.argv[1]\nos.cpu_count = lambda: 4\n"
        "from genre.cli import app\napp(['predict', sys.argv[2], sys.argv[3], '-j', '2'])\n"
    )
    proc = run_without_workers(tmp_path, script, model, root)
    said = flat(proc.stdout + proc.stderr)
    assert proc.returncode == 0, said
    assert flat(proc.stderr).count("no worker process could start") == 1
    assert WORKER_DIED not in said and "4 predicted" in said
    assert "resource_tracker" not in said  # loky's warning at exit: the note has said it all
