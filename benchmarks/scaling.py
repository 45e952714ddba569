"""Scaling of ``genre extract``: local processes versus a Dask cluster, and the coordinator's memory.

Short clips (excerpts of ``../shared/data/gtzan-mini``, or synthetic audio when it is
absent) are listed many times over in manifest CSVs of 1,000 and 5,000 rows. Each
configuration runs in a fresh subprocess, which first extracts a few clips to warm up
(worker start-up, imports, numba compilation; not timed) and then extracts the whole
manifest once. Reported per run:

- clips per second (wall clock of the timed run);
- CPU time per clip of the coordinating process and its workers together (psutil),
  which, unlike wall-clock time, does not depend on what else the machine is running;
- peak resident memory of the coordinating process (``ru_maxrss`` of the subprocess,
  which runs the engine and, for Dask, the scheduler; the workers are its children and
  not counted).

Targets: the Dask local cluster within 15 % of ``--jobs N`` local throughput, and the
coordinator's peak memory within 20 % from 1,000 to 5,000 files. Finally the cost of one
FMA-like track (30 s, 44.1 kHz stereo MP3) is timed in-process to estimate how long FMA
full (106,574 tracks) takes on a number of workers.

Usage::

    python benchmarks/scaling.py [--sizes 1000 5000] [--workers 2] [--clip-seconds 1.2] [--repeats R]

The local ``--jobs 1`` baseline runs once, at the smallest size only (it is the slowest
run), unless ``--serial-all`` is given. ``--repeats R`` runs the parallel configurations R
times per size, alternating, and keeps the fastest run: on a machine shared with other
work, single runs differ by more than the 15 % being tested.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GTZAN_MINI = REPO.parent / "shared" / "data" / "gtzan-mini"
SR = 22050

#: FMA full: tracks, and seconds of each clip in the 30 s subsets.
FMA_FULL_TRACKS = 106_574
FMA_SECONDS = 30.0


# -- inputs --------------------------------------------------------------------------------
def make_clips(dest: Path, *, n_distinct: int, seconds: float) -> tuple[list[tuple[str, str]], str]:
    """Write ``n_distinct`` clips of ``seconds`` s; returns ``(path, label)`` pairs and where they came from."""
    import soundfile as sf

    dest.mkdir(parents=True, exist_ok=True)
    sources = sorted(GTZAN_MINI.glob("*/*.wav")) if GTZAN_MINI.is_dir() else []
    clips: list[tuple[str, str]] = []
    rng = np.random.default_rng(0)
    for i in range(n_distinct):
        if sources:
            source = sources[(i * 7) % len(sources)]  # spread over the genres
            info = sf.info(source)
            start = int(min(5.0, max(0.0, info.duration - seconds)) * info.samplerate)
            y, sr = sf.read(source, start=start, frames=int(seconds * info.samplerate), dtype="float32")
            label = source.parent.name
        else:
            t = np.arange(int(seconds * SR)) / SR
            y = (0.3 * np.sin(2 * np.pi * 110.0 * (1 + i % 12) * t) + 0.05 * rng.standard_normal(t.size)).astype("float32")
            sr, label = SR, f"synthetic{i % 4}"
        path = dest / f"clip{i:03d}.wav"
        sf.write(path, y, sr)
        clips.append((str(path), label))
    return clips, (f"excerpts of {GTZAN_MINI}" if sources else "synthetic tones + noise")


def write_manifest(path: Path, clips: list[tuple[str, str]], n_rows: int) -> Path:
    """A manifest of ``n_rows`` rows cycling through ``clips`` (each row is its own track)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["path", "label"])
        for i in range(n_rows):
            writer.writerow(clips[i % len(clips)])
    return path


# -- one measured run (in a subprocess) ---------------------------------------------------------
def child(mode: str, workers: int, manifest: str, warmup: str, workdir: str) -> dict:
    """Warm up, then extract ``manifest`` once; the result goes to stdout as JSON."""
    import resource

    from genre.features.config import FeatureConfig
    from genre.features.executors import DaskExecutor, LocalExecutor
    from genre.features.extract import extract_to_csv

    config = FeatureConfig(segment_seconds=0.0)  # one row per clip: the clips are short
    executor = DaskExecutor(n_workers=workers) if mode == "dask" else LocalExecutor(jobs=int(mode))
    try:
        extract_to_csv(warmup, Path(workdir) / "warmup.csv", config=config, executor=executor, overwrite=True)
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        report = extract_to_csv(manifest, Path(workdir) / "features.csv", config=config, executor=executor, overwrite=True)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
    finally:
        if isinstance(executor, DaskExecutor):
            executor.close()
    if report.skipped:
        raise SystemExit(f"unexpected skipped files: {report.skipped[:3]}")
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return {"files": report.n_extracted, "seconds": seconds, "peak_rss": peak, "cpu": cpu}


def _cpu_seconds() -> float:
    """CPU time (user + system, s) used so far by this process and its live children (the workers).

    Unlike wall-clock time it does not depend on what else the machine runs, so it shows
    the overhead of each way of running the work even on a busy machine. NaN without psutil.
    """
    try:
        import psutil
    except ImportError:
        return float("nan")
    total = 0.0
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        total += times.user + times.system
    return total


def run_child(mode: str, workers: int, manifest: Path, warmup: Path, workdir: Path) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, __file__, "--child", mode, str(workers), str(manifest), str(warmup), str(workdir)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the FMA estimate ---------------------------------------------------------------------------
def seconds_per_fma_track(workdir: Path, *, repeats: int = 3) -> float:
    """In-process time to extract one 30 s, 44.1 kHz stereo MP3 (FMA's usual format), one process."""
    import soundfile as sf
    import soxr

    from genre.features.config import FeatureConfig
    from genre.features.handcrafted import HandcraftedExtractor

    sources = sorted(GTZAN_MINI.glob("*/*.wav")) if GTZAN_MINI.is_dir() else []
    if sources:
        y, sr = sf.read(sources[len(sources) // 2], dtype="float32")
    else:
        sr = SR
        t = np.arange(int(FMA_SECONDS * SR)) / SR
        y = (0.3 * np.sin(2 * np.pi * 220.0 * t) + 0.05 * np.random.default_rng(1).standard_normal(t.size)).astype("float32")
    y = soxr.resample(y, sr, 44100)
    y = np.resize(y, int(FMA_SECONDS * 44100))  # loops a shorter excerpt up to 30 s
    path = workdir / "fma_like.mp3"
    sf.write(path, np.stack([y, 0.9 * y], axis=1), 44100, format="MP3")
    extractor = HandcraftedExtractor(FeatureConfig())  # the default: 3 s segments
    extractor.extract_file(path)  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        extractor.extract_file(path)
    return (time.perf_counter() - started) / repeats


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


# -- main -------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000], help="manifest sizes (files)")
    parser.add_argument("--workers", type=int, default=2, help="local processes / Dask workers")
    parser.add_argument("--clip-seconds", type=float, default=1.2, help="length of each clip in s")
    parser.add_argument("--distinct", type=int, default=40, help="distinct clips the manifests repeat")
    parser.add_argument("--serial-all", action="store_true", help="also run --jobs 1 at every size")
    parser.add_argument("--repeats", type=int, default=1, help="runs of the parallel configurations per size (best counts)")
    parser.add_argument("--fma-workers", type=int, nargs="+", default=[2, 16, 64], help="workers for the FMA estimate")
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes)
    w = args.workers

    with tempfile.TemporaryDirectory(prefix="genre-scaling-") as tmp:
        tmp = Path(tmp)
        clips, origin = make_clips(tmp / "clips", n_distinct=args.distinct, seconds=args.clip_seconds)
        warmup = write_manifest(tmp / "warmup.csv", clips, 4 * w)
        print(
            f"{args.clip_seconds:g} s clips ({len(clips)} {origin}), one row per clip; "
            f"{os.cpu_count()} cores; each run in a fresh process after a {4 * w}-clip warm-up"
        )
        modes = [("1", "local --jobs 1"), (str(w), f"local --jobs {w}"), ("dask", f"Dask LocalCluster, {w} workers")]
        results: dict[tuple[str, int], dict] = {}
        print(f"\n{'configuration':<30} {'files':>6} {'clips/s':>8} {'CPU ms/clip':>12} {'peak RSS of coordinator':>24}")
        for n in sizes:
            manifest = write_manifest(tmp / f"manifest{n}.csv", clips, n)
            # Repeats alternate between configurations, so that a burst of load from other
            # programs does not fall on one of them only; the fastest repeat counts.
            for repeat in range(args.repeats):
                for mode, name in modes:
                    if mode == "1" and ((n != sizes[0] and not args.serial_all) or repeat):
                        continue
                    r = run_child(mode, w, manifest, warmup, tmp / f"run-{mode}-{n}")
                    print(
                        f"{name:<30} {n:>6} {r['files'] / r['seconds']:>8.1f} {1000 * r['cpu'] / r['files']:>12.1f} "
                        f"{r['peak_rss'] / 2**20:>20.0f} MiB",
                        flush=True,
                    )
                    best = results.setdefault((mode, n), r)
                    best["seconds"] = min(best["seconds"], r["seconds"])
                    best["cpu"] = min(best["cpu"], r["cpu"])
                    best["peak_rss"] = max(best["peak_rss"], r["peak_rss"])

        print()
        for n in sizes:
            ratio = results[str(w), n]["seconds"] / results["dask", n]["seconds"]
            verdict = "ok" if ratio >= 0.85 else "MISSED"
            best = f", best of {args.repeats}" if args.repeats > 1 else ""
            print(f"throughput Dask / local --jobs {w} at {n} files{best}: {ratio:.3f} (target >= 0.85: {verdict})")
            cost = results["dask", n]["cpu"] / results[str(w), n]["cpu"]
            print(f"  CPU time per clip, Dask / local --jobs {w} (load-independent overhead): {cost:.3f}")
        if len(sizes) > 1:
            for mode, name in modes:
                if (mode, sizes[0]) in results and (mode, sizes[-1]) in results:
                    growth = results[mode, sizes[-1]]["peak_rss"] / results[mode, sizes[0]]["peak_rss"]
                    verdict = "ok" if growth <= 1.20 else "MISSED"
                    print(
                        f"peak RSS {sizes[-1]} / {sizes[0]} files, {name}: {growth:.3f} (target <= 1.20: {verdict})"
                    )
        one = results["1", sizes[0]]
        dask = results["dask", sizes[0]]
        efficiency = (dask["files"] / dask["seconds"]) / (one["files"] / one["seconds"]) / w
        print(f"parallel efficiency of the Dask cluster vs one local process: {efficiency:.2f} per worker")

        per_track = seconds_per_fma_track(tmp)
        serial = FMA_FULL_TRACKS * per_track
        print(
            f"\nFMA full estimate: one 30 s 44.1 kHz stereo MP3 takes {per_track:.2f} s in one process here "
            f"(decoding, resampling, 3 s segments), so {FMA_FULL_TRACKS:,} tracks take {_hours(serial)} of one core."
        )
        print(
            f"On N workers (one core each), at the efficiency measured above ({efficiency:.2f}; short clips and "
            "a shared machine make it a pessimistic bound) and at perfect scaling (long tasks hide the per-task cost):"
        )
        for n_workers in args.fma_workers:
            low, high = serial / (n_workers * efficiency), serial / n_workers
            print(f"  {n_workers:>4} workers: {_hours(low)} (measured efficiency) .. {_hours(high)} (perfect scaling)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, workers, manifest, warmup, workdir = sys.argv[2:7]
        print(json.dumps(child(mode, int(workers), manifest, warmup, workdir)))
        sys.exit(0)
    sys.exit(main())
