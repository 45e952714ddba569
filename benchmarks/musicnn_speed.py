"""How fast ``genre`` computes pretrained musicnn embeddings on one CPU core.

Prints seconds of audio embedded per second of wall time (the real-time factor) for a
30 s clip at 22.05 kHz, resampling, log-mel front end and network included, and the same
per second of process CPU time, which a busy machine distorts less. TensorFlow is
limited to one thread before any op runs; the model is built and traced once before timing,
as a long extraction run would amortise that.

Usage::

    python benchmarks/musicnn_speed.py [--model MSD_musicnn] [--seconds 30] [--batch-size N] [--repeats 5]

Needs the weights: ``pip install --no-deps musicnn==0.1.0``.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # keeps numpy's BLAS on one core too

import numpy as np


def benchmark_clip(*, seconds: float, sr: int) -> np.ndarray:
    """A deterministic music-like clip: a few partials, a chirp and a click every half second."""
    t = np.arange(int(seconds * sr)) / sr
    y = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 330 * t) * (1 + np.sin(2 * np.pi * 0.25 * t))
    y += 0.1 * np.sin(2 * np.pi * (200 * t + 20 * t**2))
    y += 0.3 * np.exp(-40 * np.mod(t, 0.5)) * np.random.default_rng(0).standard_normal(len(t))
    return y.astype(np.float32)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="MSD_musicnn")
    parser.add_argument("--seconds", type=float, default=30.0, help="clip length in seconds")
    parser.add_argument("--sr", type=int, default=22050, help="clip sample rate in Hz (resampled to 16 kHz)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="patches per forward pass (default: the embedder's)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; the best is reported")
    args = parser.parse_args(argv)

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    from genre.features.musicnn import MusicnnEmbedder

    options = {} if args.batch_size is None else {"batch_size": args.batch_size}
    embedder = MusicnnEmbedder(model=args.model, **options)
    y = benchmark_clip(seconds=args.seconds, sr=args.sr)

    start = time.perf_counter()
    out = embedder.embed(y=y, sr=args.sr)  # builds, loads and traces the model
    first = time.perf_counter() - start

    timings, cpu = [], []
    for _ in range(args.repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        embedder.embed(y=y, sr=args.sr)
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    best, median = min(timings), float(np.median(timings))
    n_patches = len(out["patch_starts"])
    print(f"model {args.model}, batch size {embedder.batch_size}: {n_patches} patches "
          f"from a {args.seconds:g} s clip at {args.sr} Hz, one core")
    print(f"first call (build + load + trace + embed): {first:.2f} s")
    print(f"embed: best {best:.3f} s, median {median:.3f} s of {args.repeats}")
    print(f"speed: {args.seconds / best:.1f} s of audio per s of wall time (median {args.seconds / median:.1f})")
    # CPU time is the figure to trust on a busy machine, where other processes steal wall time.
    print(f"cpu: {args.seconds / min(cpu):.1f} s of audio per CPU second "
          f"(median {args.seconds / float(np.median(cpu)):.1f})")


if __name__ == "__main__":
    main()
