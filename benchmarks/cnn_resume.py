"""How much does a resumed benchmark save by reading back the CNN networks its interrupted run trained?

Runs ``cnn,cnn-svm`` on a folder of audio (default ``../shared/data/gtzan-mini``, 100 real
GTZAN clips) with ``--folds`` folds, interrupted (as Ctrl-C would) at the first ``cnn-svm``
fit, when every ``cnn`` fold is kept in ``REPORT/.unfinished/``. The kept folder is then
copied twice and each copy resumed in a fresh process:

- *with networks*: as the interrupted run left it, ``networks/`` included (what genre does);
- *without networks*: ``networks/`` deleted, as before networks were kept, so ``cnn-svm``
  trains each fold's CNN again.

It prints both resumed runs' wall-clock seconds and their ratio (measured in one run, so the
machine's noise cancels), and checks that both reports hold the same accuracies.

Usage::

    python benchmarks/cnn_resume.py [--audio ../shared/data/gtzan-mini] [--folds 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Run in a child process: the benchmark, interrupted at the first fit of ``stop_at`` (or not).
_CHILD = """
import sys
from genre.benchmark import benchmark
from genre.evaluation import cv

audio, report, folds, stop_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
real = cv._fit_predict

def interrupted(**call):
    if call["model"] == stop_at:
        raise KeyboardInterrupt
    return real(**call)

if stop_at:
    cv._fit_predict = interrupted
try:
    benchmark(audio, output_dir=report, models=["cnn", "cnn-svm"], folds=folds, jobs=1)
except KeyboardInterrupt:
    print("interrupted")
"""


def _run(audio: Path, report: Path, folds: int, *, stop_at: str = "") -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _CHILD, str(audio), str(report), str(folds), stop_at], check=True)
    return time.perf_counter() - started


def _accuracies(report: Path) -> dict[str, float]:
    results = json.loads((report / "results.json").read_text())
    return {model["name"]: model["accuracy"] for model in results["models"]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=Path(__file__).resolve().parents[1] / "../shared/data/gtzan-mini")
    parser.add_argument("--folds", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.audio.is_dir():
        sys.exit(f"{args.audio}: no such folder (the shared GTZAN clips; pass --audio)")

    with tempfile.TemporaryDirectory() as scratch:
        first = Path(scratch) / "interrupted"
        seconds = _run(args.audio, first, args.folds, stop_at="cnn-svm")
        kept = first / ".unfinished"
        networks = kept / "networks"
        n_sets = len(list(networks.glob("*.npz"))) if networks.is_dir() else 0
        print(f"interrupted run: {seconds:.1f} s; {n_sets} network(s) kept in {networks.name}/")
        with_networks, without_networks = Path(scratch) / "with", Path(scratch) / "without"
        shutil.copytree(first, with_networks)
        shutil.copytree(first, without_networks)
        shutil.rmtree(without_networks / ".unfinished" / "networks", ignore_errors=True)
        warm = _run(args.audio, with_networks, args.folds)
        cold = _run(args.audio, without_networks, args.folds)
        print(f"resumed with networks:    {warm:.1f} s")
        print(f"resumed without networks: {cold:.1f} s (cnn-svm trains each fold's CNN again)")
        print(f"ratio: {cold / warm:.2f}x")
        same = _accuracies(with_networks) == _accuracies(without_networks)
        print(f"same accuracies in both reports: {same} {_accuracies(with_networks)}")


if __name__ == "__main__":
    main()
