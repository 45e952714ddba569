"""Threads in one fit, or folds in parallel processes? What `genre benchmark` should do on a small table.

Prints, on the public GTZAN feature table (1000 tracks, 57 features):

1. XGBoost fits on 900 tracks with 1 and 2 OpenMP threads, under each OpenMP wait policy
   (genre sets ``PASSIVE`` unless the user set one), and two 1-thread fits in two processes
   at once;
2. ``cross_validate_models`` 10-fold on dense, svm and xgboost with folds in parallel
   processes (one thread each; the default) and with folds one after another, every
   model given all cores, plus a check that both give the same accuracies.

Each configuration runs in a fresh process, so the wait policy and thread pools start clean.

    python benchmarks/threads_vs_processes.py [--busy] [--data ../shared/data/gtzan-features/features_30_sec.csv]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "gtzan-features" / "features_30_sec.csv"
FITS = 3


def xgboost_fits(data: str, threads: int) -> float:
    """Seconds for FITS XGBoost fits on 900 tracks with ``threads`` threads."""
    import pandas as pd

    import genre  # noqa: F401  (sets the OpenMP wait policy default, as the CLI does)
    from genre.classifiers.registry import make_model

    table = pd.read_csv(data)
    X = table.drop(columns=["filename", "length", "label"]).to_numpy()[:900]
    y = table["label"].to_numpy()[:900]
    started = time.perf_counter()
    for _ in range(FITS):
        make_model("xgboost", n_jobs=threads, random_state=0).fit(X, y)
    return time.perf_counter() - started


def cross_validation(data: str, parallel: bool) -> dict:
    """Wall seconds and accuracies of 10-fold CV of dense, svm and xgboost on all cores."""
    from genre.classifiers.registry import get_spec
    from genre.evaluation import cross_validate_models
    from genre.features.table import load_feature_table

    models = ["dense", "svm", "xgboost"]
    if not parallel:
        for name in models:
            type(get_spec(name)).parallel_folds = False
    table = load_feature_table(data)
    started = time.perf_counter()
    results = cross_validate_models(table, models, folds=10, jobs=-1, progress=False)
    return {
        "seconds": time.perf_counter() - started,
        "accuracy": {m.name: round(100 * m.accuracy, 2) for m in results.models},
    }


def child(kind: str, data: str, policy: str | None, value: int) -> dict:
    """Run one configuration in a fresh interpreter and return what it printed."""
    env = dict(os.environ)
    if policy is not None:
        env["OMP_WAIT_POLICY"] = policy
    command = [sys.executable, __file__, "--child", kind, "--data", data, "--value", str(value)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument(
        "--busy", action="store_true", help="keep one core busy with another process, as on a shared machine"
    )
    parser.add_argument("--child", choices=["xgboost", "cv"], help=argparse.SUPPRESS)
    parser.add_argument("--value", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "xgboost":
        print(json.dumps({"seconds": xgboost_fits(args.data, args.value)}))
        return
    if args.child == "cv":
        print(json.dumps(cross_validation(args.data, bool(args.value))))
        return
    if not Path(args.data).is_file():
        sys.exit(f"{args.data}: not found (the GTZAN feature table of ../shared/data)")

    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        report(args.data, busy=args.busy)
    finally:
        if hog is not None:
            hog.kill()


def report(data: str, *, busy: bool) -> None:
    """Run and print every configuration (see the module docstring)."""
    load = ", one core kept busy by another process" if busy else ""
    print(f"{os.cpu_count()} cores{load}; XGBoost, {FITS} fits on 900 tracks x 57 features:")
    one = child("xgboost", data, None, 1)["seconds"]
    print(f"  1 thread (genre's default policy, PASSIVE): {one:.2f} s")
    for policy in ("PASSIVE", "ACTIVE"):
        two = child("xgboost", data, policy, 2)["seconds"]
        print(f"  2 threads, OMP_WAIT_POLICY={policy}: {two:.2f} s ({one / two:.2f}x the speed of 1 thread)")
    pair = [
        subprocess.Popen([sys.executable, __file__, "--child", "xgboost", "--data", data, "--value", "1"],
                         stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    # Each process times its own fits (imports excluded, as above); they overlap in time.
    both = max(json.loads(process.communicate()[0].strip().splitlines()[-1])["seconds"] for process in pair)
    print(f"  two 1-thread processes at once: {both:.2f} s for twice the fits ({2 * one / both:.2f}x the throughput)")

    print("10-fold CV of dense, svm, xgboost on all cores:")
    parallel = child("cv", data, None, 1)
    sequential = child("cv", data, None, 0)
    print(f"  folds in parallel processes, one thread each (default): {parallel['seconds']:.1f} s")
    print(f"  folds one after another, each fit on all cores: {sequential['seconds']:.1f} s "
          f"({sequential['seconds'] / parallel['seconds']:.2f}x as long)")  # fmt: skip
    same = parallel["accuracy"] == sequential["accuracy"]
    print(f"  same accuracies: {same} {parallel['accuracy']}")


if __name__ == "__main__":
    main()
