"""Where no worker process can start (2026-12-04):

1. the progress bar went on saying "extracting (2 local processes)" while the files were
   worked on in this process; its label now follows the executor;
2. a file an earlier run died on ("suspect") was skipped as having killed its process again,
   when it was its child process that could not start at all: it is now neither tried in this
   process (where it could crash the run again) nor blamed, and a run where workers start tries it.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from genre.cli import app
from genre.features.executors import map_alone
from genre.features.extract import DIED_AGAIN
from genre.progress import progress_bar
from tests.conftest import interrupt_extraction_after, write_tone_folder
from tests.test_audit_benchmark_audio_dec4 import flat
from tests.test_summary_counts_and_worker_start import run_without_workers

runner = CliRunner()

#: ``genre extract`` with --jobs 2 where no worker process can start (see run_without_workers).
EXTRACT_SCRIPT = (
    "import os, sys\nsys.executable = sys.argv[1]\nos.cpu_count = lambda: 4\n"
    "from genre.cli import app\napp(['extract', sys.argv[2], '-o', sys.argv[3], '-j', '2', '--overwrite'])\n"
)


def test_a_task_described_by_a_function_follows_it(capsys):
    where = ["2 local processes"]
    with progress_bar(log_every=0) as bar:  # captured stderr: plain lines, and the bar at the end
        task = bar.add_task(lambda: f"extracting ({where[0]})", total=2)
        bar.advance(task)
        where[0] = "this process"
        bar.advance(task)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("extracting (2 local processes): 1/2")
    assert lines[1].startswith("extracting (this process): 2/2")
    assert lines[-1].startswith("extracting (this process)")  # the bar as drawn at the end
    with progress_bar(enabled=False) as bar:
        task = bar.add_task(lambda: "counting", total=1)
        bar.update(task, description="done")  # a string given later replaces the function
        bar.advance(task)
        assert bar.tasks[0].description == "done"


def test_the_bar_says_the_files_are_extracted_in_this_process(tmp_path):
    root = write_tone_folder(tmp_path / "audio", {"low": (220.0, 247.0), "high": (880.0,)}, seconds=4.0)
    out = tmp_path / "features.csv"
    proc = run_without_workers(tmp_path, EXTRACT_SCRIPT, root, out)
    said = flat(proc.stdout + proc.stderr)
    assert proc.returncode == 0, said
    assert "3 of 3 files extracted" in said
    bar = [line for line in proc.stderr.splitlines() if line.startswith("extracting (")]
    assert bar and all(line.startswith("extracting (this process: no worker could start)") for line in bar), bar
    assert "2 local processes" not in said


def test_map_alone_blames_no_item_where_no_worker_can_start(tmp_path):
    script = (
        "import json, sys\nsys.executable = sys.argv[1]\n"
        "from genre.features.executors import map_alone\n"
        "out = list(map_alone(abs, [-1, -2], not_tried='skipped ({why})'))\n"
        "print('RESULTS ' + json.dumps([[type(r).__name__, r.reason, r.why] for r in out]))\n"
    )
    proc = run_without_workers(tmp_path, script)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # was: BrokenPipeError, now and then
    line = next(text for text in proc.stdout.splitlines() if text.startswith("RESULTS "))
    results = json.loads(line.removeprefix("RESULTS "))
    assert [kind for kind, _, _ in results] == ["NotTried", "NotTried"]
    for _, reason, why in results:
        assert why.startswith(("they exited at once", "starting them failed")) and reason == f"skipped ({why})"
    assert "resource_tracker" not in proc.stderr
    # Where workers start, items run in them as before.
    assert list(map_alone(abs, [-3])) == [3]


def test_a_suspect_is_not_blamed_when_no_worker_can_start_and_a_later_run_extracts_it(tmp_path, monkeypatch):
    root = write_tone_folder(tmp_path / "audio", {"low": (220.0, 247.0), "high": (880.0, 988.0)}, seconds=4.0)
    out = tmp_path / "features.csv"
    args = ["extract", str(root), "-o", str(out), "-j", "1"]
    interrupt_extraction_after(monkeypatch, 1)  # Ctrl-C on the second file: the first is journaled
    assert runner.invoke(app, args).exit_code == 130
    monkeypatch.undo()
    inflight = out.with_name("features.csv.inflight")
    inflight.write_text("c0ffee\nc0ffee 1\n")  # as a run killed on the second file leaves it

    proc = run_without_workers(tmp_path, EXTRACT_SCRIPT, root, out)
    said = flat(proc.stdout + proc.stderr)
    assert proc.returncode == 0, said
    assert "3 of 4 files extracted (1 from an earlier run), 3 rows, 1 skipped" in said, said
    # Skipped, saying why, not as a file that killed its process again.
    assert DIED_AGAIN not in said and "not tried again, as no worker process can start here" in said
    assert "were not tried again" in said or "was not tried again" in said
    assert "2 local processes" not in said
    assert not inflight.exists()

    # Where workers start, a rerun (--overwrite updates the table) extracts it after all.
    result = runner.invoke(app, ["extract", str(root), "-o", str(out), "-j", "2", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert "4 of 4 files extracted" in flat(result.output) and "0 skipped" in flat(result.output)
