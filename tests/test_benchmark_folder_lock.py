"""One benchmark at a time per report folder: a second one into the same folder is refused at
once, and a benchmark after one that finished or was killed (kill -9) takes over its kept fits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from feature_tables import write_gtzan_table
from typer.testing import CliRunner

from genre.benchmark import CHECKPOINT_FOLDER, benchmark
from genre.cli import app
from genre.errors import DataError, OutputError
from genre.evaluation import cross_validate_models
from genre.evaluation.checkpoint import hold_checkpoints
from genre.features.table import load_feature_table
from tests.conftest import REPO, write_tone_folder

runner = CliRunner()

#: Holds the lock of the folder of fits argv[1] until its stdin closes (or it is killed).
HOLDER = (
    "import sys\n"
    "from genre.evaluation.checkpoint import hold_checkpoints\n"
    "with hold_checkpoints(sys.argv[1]):\n"
    "    print('held', flush=True)\n"
    "    sys.stdin.read()\n"
)

#: A real ``genre benchmark`` (argv[1:]) that pauses, until its stdin closes, once its first
#: fit is kept: the second fit waits, as a slow model's would.
PAUSING_BENCHMARK = (
    "import sys\n"
    "import genre.evaluation.cv as cv\n"
    "real = cv._fit_predict\n"
    "calls = []\n"
    "def paused(**call):\n"
    "    calls.append(call['model'])\n"
    "    if len(calls) == 2:\n"
    "        print('paused', flush=True)\n"
    "        sys.stdin.read()\n"
    "    return real(**call)\n"
    "cv._fit_predict = paused\n"
    "from genre.cli import main\n"
    "sys.argv = ['genre', *sys.argv[1:]]\n"
    "main()\n"
)


def one_line(output: str) -> str:
    return " ".join(output.split())


def started(script: str, *args: object, ready: str) -> subprocess.Popen:
    """``script`` in a new Python process, once it has printed ``ready``."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = process.stdout.readline()
    if line != f"{ready}\n":
        process.kill()
        process.wait()
        pytest.fail(f"the first process did not start: {line!r}")
    return process


def killed(process: subprocess.Popen) -> None:
    """SIGKILL, as ``kill -9``: no cleanup runs, the kernel drops its lock."""
    process.kill()
    process.wait()


@pytest.fixture
def table_path(tmp_path):
    return write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=6)


def test_a_second_benchmark_into_the_same_folder_is_refused_and_a_later_one_resumes(tmp_path, table_path):
    report = tmp_path / "report"
    args = ["benchmark", table_path, "-m", "logreg,knn", "-k", "2", "-j", "1", "-o", report]
    first = started(PAUSING_BENCHMARK, *args, ready="paused")
    try:
        kept = sorted((report / CHECKPOINT_FOLDER).glob("*.npz"))
        assert len(kept) == 1  # the first fit, kept as it finished
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 2, result.output
        message = one_line(result.output)
        assert message.startswith("error: another benchmark (pid ")
        assert f"(pid {first.pid} on " in message and f"is writing {report / CHECKPOINT_FOLDER}" in message
        assert "Traceback" not in result.output
        # The refused run read and wrote nothing of the first one's.
        assert sorted((report / CHECKPOINT_FOLDER).glob("*.npz")) == kept
        assert not (report / "results.json").exists()
    finally:
        killed(first)
    lock = report / f"{CHECKPOINT_FOLDER}.lock"
    assert lock.exists()  # left behind by kill -9: it no longer stands in the way

    results, files = benchmark(table_path, output_dir=report, models=["logreg", "knn"], folds=2)
    assert results.protocol["resumed_fits"] == 1  # the killed run's finished fit is taken over
    assert files.json.exists() and not lock.exists() and not (report / CHECKPOINT_FOLDER).exists()
    # Finished, it holds nothing: the next benchmark into the folder runs.
    again = runner.invoke(app, [str(a) for a in args])
    assert again.exit_code == 0, again.output


def test_a_benchmark_of_audio_is_refused_before_extracting(tmp_path):
    audio = write_tone_folder(tmp_path / "audio", {"low": (200.0, 300.0), "high": (2000.0, 3000.0)}, seconds=3.5)
    report = tmp_path / "report"
    holder = started(HOLDER, report / CHECKPOINT_FOLDER, ready="held")
    try:
        result = runner.invoke(app, ["benchmark", str(audio), "-m", "logreg", "-k", "2", "-j", "1", "-o", str(report)])
        assert result.exit_code == 2, result.output
        message = one_line(result.output)
        assert f"another benchmark (pid {holder.pid} on " in message
        assert f"is writing {report / CHECKPOINT_FOLDER}" in message
        assert sorted(p.name for p in report.iterdir()) == [f"{CHECKPOINT_FOLDER}.lock"]  # no features/ extracted
    finally:
        killed(holder)


def test_cross_validation_with_a_folder_of_fits_holds_its_lock(tmp_path, table_path):
    table = load_feature_table(table_path)
    fits = tmp_path / "fits"
    holder = started(HOLDER, fits, ready="held")
    try:
        with pytest.raises(OutputError, match=f"another benchmark \\(pid {holder.pid} on .*is writing {fits}"):
            cross_validate_models(table, ["logreg"], folds=2, progress=False, checkpoint_dir=fits)
    finally:
        killed(holder)
    # This process may hold it around its own cross-validation (as benchmark() does).
    with hold_checkpoints(fits):
        results = cross_validate_models(table, ["logreg"], folds=2, progress=False, checkpoint_dir=fits)
        assert (tmp_path / "fits.lock").exists()
    assert results.protocol["resumed_fits"] == 0 and len(list(fits.glob("*.npz"))) == 2
    assert not (tmp_path / "fits.lock").exists()


def test_the_lock_is_released_when_a_benchmark_fails(tmp_path, table_path):
    report = tmp_path / "new" / "report"
    with pytest.raises(DataError, match="24 tracks for 50 folds"):  # refused once the lock is held
        benchmark(table_path, output_dir=report, models=["logreg"], folds=50)
    assert not (tmp_path / "new").exists()  # the folders made for the lock file are gone again
    results, _ = benchmark(table_path, output_dir=report, models=["logreg"], folds=2)
    assert results.protocol["resumed_fits"] == 0 and not (report / f"{CHECKPOINT_FOLDER}.lock").exists()


def test_holds_nest_within_one_process_and_are_released_in_order(tmp_path):
    folder = tmp_path / "fits"
    lock = Path(f"{folder}.lock")
    with hold_checkpoints(folder):
        with hold_checkpoints(folder):
            assert lock.exists()
        assert lock.exists()  # still held by the outer block
    assert not lock.exists()
    with hold_checkpoints(folder):  # and taken again afterwards
        assert lock.exists()


def test_another_thread_of_the_same_process_is_refused(tmp_path):
    import threading

    folder = tmp_path / "fits"
    taken, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with hold_checkpoints(folder):
            taken.set()
            leave.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert taken.wait(30)
        with pytest.raises(OutputError, match="another benchmark"):
            with hold_checkpoints(folder):
                pass
    finally:
        leave.set()
        thread.join()
    with hold_checkpoints(folder):  # free again once the thread left
        pass


def test_a_resumed_cnn_svm_trains_the_cnn_of_its_unfinished_folds_only(tmp_path, monkeypatch):
    """A kept cnn-svm fit is read back whole: its CNN is not trained again, only the missing fold's."""
    import numpy as np
    from test_cnn import TINY, write_clips

    import genre.classifiers.cnn as cnn
    import genre.evaluation.cv as cv

    clips = write_clips(tmp_path / "audio")
    table_path = tmp_path / "features.csv"
    frame = clips.assign(segment=clips.groupby("track").cumcount(), group="", f1=np.arange(len(clips)) % 3)
    frame[["path", "track", "segment", "start", "label", "group", "f1"]].to_csv(table_path, index=False)
    table = load_feature_table(table_path)
    trained, fits = [], []
    train, fit = cnn._MelCNNBase._train_new, cv._fit_predict
    monkeypatch.setattr(cnn._MelCNNBase, "_train_new", lambda self, *a, **k: trained.append(1) or train(self, *a, **k))

    def interrupted_second(**call):
        if fits:
            raise KeyboardInterrupt  # Ctrl-C during the second fold
        fits.append(call["split_index"])
        return fit(**call)

    def run() -> object:
        cnn._FITTED.clear()  # a new process: no network trained in memory
        return cross_validate_models(
            table, ["cnn-svm"], folds=2, progress=False, checkpoint_dir=tmp_path / "fits",
            model_params={"cnn-svm": TINY},
        )  # fmt: skip

    monkeypatch.setattr(cv, "_fit_predict", interrupted_second)
    with pytest.raises(KeyboardInterrupt):
        run()
    assert len(trained) == 1
    monkeypatch.setattr(cv, "_fit_predict", fit)
    trained.clear()
    assert run().protocol["resumed_fits"] == 1 and len(trained) == 1  # the unfinished fold's CNN only
    trained.clear()
    assert run().protocol["resumed_fits"] == 2 and not trained  # every fold kept: no CNN trained
