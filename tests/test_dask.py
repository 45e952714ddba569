"""Extraction on a Dask cluster (genre.features.executors.DaskExecutor): same bytes as a local
run, bad files skipped alike, no row lost when a worker dies, a crashing file skipped."""

from __future__ import annotations

import math
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

distributed = pytest.importorskip("distributed")

from genre.cli import app  # noqa: E402
from genre.data import Dataset, Track  # noqa: E402
from genre.errors import ParameterError  # noqa: E402
from genre.features.config import FeatureConfig  # noqa: E402
from genre.features.executors import DaskExecutor, TaskFailure  # noqa: E402
from genre.features.extract import extract_to_csv, side_paths  # noqa: E402
from genre.features.handcrafted import HandcraftedExtractor  # noqa: E402

CONFIG = FeatureConfig(segment_seconds=1.0)
SR = 22050


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes, shared by the module (start-up takes seconds).

    ``allowed_failures=1``: a task may kill one worker and be rerun; the second death fails it.
    """
    with distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        scheduler_kwargs={"allowed_failures": 1},
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Ten 2-4 s sine + noise mixtures in two label folders, and four bad files."""
    root = tmp_path_factory.mktemp("dask-corpus")
    rng = np.random.default_rng(0)
    for i in range(10):
        label = ("drone", "hiss")[i % 2]
        t = np.arange(int(SR * (2.0 + 0.2 * i))) / SR
        y = 0.3 * np.sin(2 * np.pi * (110.0 * (1 + i)) * t) + (0.02 + 0.05 * (i % 2)) * rng.standard_normal(t.size)
        (root / label).mkdir(exist_ok=True)
        sf.write(root / label / f"{label}.{i:02d}.wav", y.astype(np.float32), SR)
    (root / "hiss" / "text.wav").write_text("not audio\n")
    (root / "hiss" / "empty.wav").write_bytes(b"")
    sf.write(root / "drone" / "silent.wav", np.zeros(SR * 2, dtype=np.float32), SR)
    sf.write(root / "drone" / "short.wav", 0.3 * np.ones(SR // 4, dtype=np.float32), SR)
    return root


@pytest.fixture(scope="module")
def serial(corpus, tmp_path_factory) -> Path:
    """The reference: a one-process local run."""
    out = tmp_path_factory.mktemp("serial") / "features.csv"
    report = extract_to_csv(corpus, out, config=CONFIG, jobs=1)
    assert report.n_extracted == 10 and len(report.skipped) == 4
    return out


def _same_outputs(a: Path, b: Path) -> None:
    assert a.read_bytes() == b.read_bytes()
    for side_a, side_b in zip(side_paths(a), side_paths(b)):
        assert side_a.read_bytes() == side_b.read_bytes(), side_a.name


def test_dask_run_writes_the_bytes_of_a_serial_run(cluster, corpus, serial, tmp_path):
    out = tmp_path / "features.csv"
    with DaskExecutor(scheduler=cluster.scheduler_address) as executor:
        report = extract_to_csv(corpus, out, config=CONFIG, executor=executor)
    assert report.n_extracted == 10
    assert sorted(Path(p).name for p, _ in report.skipped) == ["empty.wav", "short.wav", "silent.wav", "text.wav"]
    _same_outputs(serial, out)  # the table, its sidecar, and the skipped files with their reasons


@dataclass(frozen=True)
class KillingExtractor:
    """The handcrafted extractor, except that decoding ``victim`` kills the worker process.

    With ``once``, only the first time (an atomic marker file tells the reruns apart).
    """

    victim: str
    marker: str
    once: bool = True
    inner: HandcraftedExtractor = field(default_factory=lambda: HandcraftedExtractor(CONFIG))
    kind: str = "handcrafted"

    def feature_columns(self) -> list[str]:
        return self.inner.feature_columns()

    def describe(self) -> dict:
        return self.inner.describe()

    def extract_file(self, path):
        if Path(path).name == self.victim:
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                first = True
            except FileExistsError:
                first = False
            if first or not self.once:
                os.kill(os.getpid(), signal.SIGKILL)  # as a decoder crash or the OOM killer would
        return self.inner.extract_file(path)


def test_a_worker_killed_mid_run_loses_no_rows(cluster, corpus, serial, tmp_path):
    out = tmp_path / "features.csv"
    marker = tmp_path / "killed"
    # Track 7 of 14: with 4 tasks in flight it is only sent out after several results came back.
    extractor = KillingExtractor(victim="hiss.05.wav", marker=str(marker))
    with DaskExecutor(scheduler=cluster.scheduler_address) as executor:
        report = extract_to_csv(corpus, out, extractor=extractor, executor=executor)
    assert marker.exists(), "no worker was killed"
    assert report.n_extracted == 10 and len(report.skipped) == 4
    _same_outputs(serial, out)


def test_a_file_that_kills_every_worker_is_skipped_with_a_reason(cluster, corpus, tmp_path):
    out = tmp_path / "features.csv"
    poison = corpus / "drone" / "drone.00.wav"
    extractor = KillingExtractor(victim=poison.name, marker=str(tmp_path / "killed"), once=False)
    dataset = Dataset(tracks=[Track(path=str(poison), track="poison", label="drone")], rejected=[], name="poison")
    with DaskExecutor(scheduler=cluster.scheduler_address) as executor:
        report = extract_to_csv(dataset, out, extractor=extractor, executor=executor)
    # The cluster allows one death per task: the second kills it for good.
    assert report.skipped == [(str(poison), "the worker process died each time it ran this file (2 attempts)")]
    assert report.n_extracted == 0


def test_in_flight_items_are_bounded_and_a_failure_costs_only_its_item(cluster):
    pulled = 0

    def items():
        nonlocal pulled
        for x in [4.0, -1.0] + [float(i * i) for i in range(2, 30)]:
            pulled += 1
            yield x

    results, most_in_flight = [], 0
    with DaskExecutor(scheduler=cluster.scheduler_address, window_per_thread=2, batch_size=3, retries=1) as executor:
        for result in executor.map_unordered(math.sqrt, items()):
            most_in_flight = max(most_in_flight, pulled - len(results))
            results.append(result)
    assert most_in_flight <= 2 * 2 * 3  # two tasks of three items for each of two threads
    # -1 failed its batch (4, -1, 4): the batch was rerun item by item
    failures = [r for r in results if isinstance(r, TaskFailure)]
    assert failures == [TaskFailure(-1.0, "task failed on the Dask cluster: ValueError: math domain error")]
    assert sorted(r for r in results if not isinstance(r, TaskFailure)) == [2.0] + [float(i) for i in range(2, 30)]


def test_workers_without_our_code_or_with_other_versions_are_refused(cluster, tmp_path, monkeypatch):
    from genre.features import executors

    # A module this process can import but the workers (started earlier) cannot: as when
    # genre is not installed on the cluster's machines.
    (tmp_path / "only_here.py").write_text("def environment():\n    return {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from only_here import environment

    monkeypatch.setattr(executors, "_environment", environment)
    with pytest.raises(ParameterError, match="workers cannot load genre's code.*only_here"):
        list(DaskExecutor(scheduler=cluster.scheduler_address).map_unordered(abs, [1]))
    monkeypatch.undo()
    # This process pretends to have another numpy; the workers, other processes, do not.
    import importlib.metadata

    real_version = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0" if name == "numpy" else real_version(name))
    with pytest.raises(ParameterError, match=r"runs numpy \S+ \(here 0.0\); features would differ"):
        list(DaskExecutor(scheduler=cluster.scheduler_address).map_unordered(abs, [1]))


def test_cli_runs_on_a_scheduler(cluster, corpus, serial, tmp_path):
    out = tmp_path / "cli.csv"
    args = ["extract", str(corpus), "-o", str(out), "--segment-seconds", "1"]
    result = CliRunner().invoke(app, args + ["--scheduler", cluster.scheduler_address])
    assert result.exit_code == 0, result.output
    assert "10 of 14 files extracted" in result.output
    _same_outputs(serial, out)
    result = CliRunner().invoke(app, args + ["--overwrite", "--dask", "--scheduler", cluster.scheduler_address])
    assert result.exit_code == 2 and "give one of them" in result.output


def test_cli_dask_starts_and_stops_a_local_cluster(corpus, tmp_path, monkeypatch):
    manifest = tmp_path / "two.csv"
    manifest.write_text(f"path,label\n{corpus / 'drone' / 'drone.00.wav'},drone\n{corpus / 'hiss' / 'text.wav'},hiss\n")
    serial = extract_to_csv(manifest, tmp_path / "serial.csv", config=CONFIG, jobs=1)
    statuses = []
    original_close = DaskExecutor.close

    def close(self):  # records the state of the cluster the CLI started, once it is closed
        cluster = self._cluster
        original_close(self)
        statuses.append(cluster.status.name)

    monkeypatch.setattr(DaskExecutor, "close", close)
    out = tmp_path / "dask.csv"
    result = CliRunner().invoke(app, ["extract", str(manifest), "-o", str(out), "--segment-seconds", "1", "--dask", "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "1 of 2 files extracted" in result.output
    _same_outputs(serial.output, out)
    assert statuses == ["closed"]


def test_unusable_scheduler_addresses_are_parameter_errors():
    with pytest.raises(ParameterError, match="not a scheduler address"):
        list(DaskExecutor(scheduler="localhost").map_unordered(abs, [1]))
    with pytest.raises(ParameterError, match="cannot reach the Dask scheduler"):
        list(DaskExecutor(scheduler="tcp://127.0.0.1:9", connect_timeout=0.5).map_unordered(abs, [1]))


# -- the size of a local cluster ---------------------------------------------------------------
@pytest.fixture
def sized(monkeypatch):
    """DaskExecutor runs in this process and records the workers it would have started."""
    seen = []

    def map_unordered(self, func, items):
        seen.append((self.n_workers, self.description, self._cluster))
        return map(func, items)

    monkeypatch.setattr(DaskExecutor, "map_unordered", map_unordered)
    return seen


@pytest.mark.parametrize(
    "cores, jobs, workers, note",
    [
        (8, "16", 3, "--jobs 16: this machine has 8 cores, so at most 8 worker processes run"),
        (2, "16", 2, "--jobs 16: this machine has 2 cores, so at most 2 worker processes run"),
        (8, "-1", 3, None),
    ],
    ids=["files", "cores", "all-cores"],
)
def test_cli_dask_starts_no_more_workers_than_files_or_cores(
    corpus, tmp_path, monkeypatch, sized, cores, jobs, workers, note
):
    """The cap of local worker processes, note included, holds for a local Dask cluster (none is started here)."""
    manifest = tmp_path / "three.csv"
    manifest.write_text("path,label\n" + "".join(f"{corpus / 'hiss' / f'hiss.0{i}.wav'},hiss\n" for i in (1, 3, 5)))
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    args = ["extract", str(manifest), "-o", str(tmp_path / "f.csv"), "--segment-seconds", "1", "--dask", "-j", jobs]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sized == [(workers, f"Dask local cluster, {workers} workers", None)]  # sized before it was started
    output = " ".join(result.output.split())
    assert (note in output) if note else ("worker processes run" not in output)


def test_a_cluster_at_a_scheduler_is_never_resized(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    executor, notes = DaskExecutor(scheduler="tcp://10.0.0.5:8786", n_workers=64), []
    executor.prepare(n_items=1, notes=notes)
    assert (executor.n_workers, executor.description, notes) == (None, "Dask cluster at tcp://10.0.0.5:8786", [])


def test_a_reused_local_cluster_grows_for_more_files_and_never_shrinks(monkeypatch):
    scaled = []

    class Cluster:  # a local cluster this executor started for an earlier run of two files
        def scale(self, n: int) -> None:
            scaled.append(n)

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    executor = DaskExecutor(n_workers=-1)
    executor.prepare(n_items=2, notes=[])
    executor._cluster = Cluster()
    executor.prepare(n_items=100, notes=[])
    executor.prepare(n_items=1, notes=[])
    assert scaled == [8] and executor.description == "Dask local cluster, 8 workers"
    executor._cluster = None  # nothing to close
