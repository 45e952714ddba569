"""Peak memory of handcrafted extraction against recording length: STFT blocks versus one whole-clip STFT.

For each duration a synthetic, music-like WAV is written (22050 Hz mono 16-bit: a chord
progression, a kick and a hi-hat on every beat, a little noise; generated ten seconds at a
time). Each file is extracted in a fresh process, so that its peak memory is its own:

- ``blocks``: ``HandcraftedExtractor().extract_file(path)``, the STFT computed
  ``DEFAULT_BLOCK_FRAMES`` frames at a time;
- ``whole``: the same with one block as long as the clip, i.e. one STFT (and one
  tempogram) of the whole recording, as the extractor did before blocks (skipped with
  ``--no-whole``).

Usage::

    python benchmarks/long_audio_memory.py [--minutes 1 10 30] [--no-whole]

Prints, per duration and path, the peak resident memory of the process (``ru_maxrss``,
MiB), the part of it reached before the file (``at start``: the interpreter, the
libraries and a 4 s warm-up extraction) and the extraction seconds; then, per path, the
ratio of peak memory between the longest and the shortest recording, and per duration
the ratio whole / blocks.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from memory_harness import peak_mib, run_child, write_music

SR = 22050


def child(path: str, block_frames: int) -> dict:
    """Extract ``path`` once in this (fresh) process, after a warm-up; peak RSS before and after, in MiB."""

    from genre.features.handcrafted import HandcraftedExtractor

    # Imports, numba compilation and first-call caches, not counted in "seconds".
    HandcraftedExtractor().extract_waveform(y=np.sin(0.1 * np.arange(4 * SR, dtype=np.float32)), sr=SR)
    at_start = peak_mib()
    started = time.perf_counter()
    HandcraftedExtractor(block_frames=block_frames).extract_file(path)
    return {"seconds": time.perf_counter() - started, "peak": peak_mib(), "at_start": at_start}


def main(argv: list[str] | None = None) -> None:
    from genre.features.descriptors import DEFAULT_BLOCK_FRAMES

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 30], help="recording lengths")
    parser.add_argument("--no-whole", action="store_true", help="skip the whole-clip STFT runs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--block-frames", type=int, default=DEFAULT_BLOCK_FRAMES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.block_frames)))
        return

    # One block longer than any clip: a single STFT of the whole recording.
    paths = {"blocks": DEFAULT_BLOCK_FRAMES} | ({} if args.no_whole else {"whole": sys.maxsize})
    minutes = sorted(args.minutes)
    peaks: dict[tuple[float, str], float] = {}
    print(f"blocks of {DEFAULT_BLOCK_FRAMES} STFT frames; peak RSS of a fresh process per run")
    print(f"{'minutes':>8} {'path':>7} {'peak MiB':>9} {'at start':>9} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for length in minutes:
            wav = Path(tmp) / f"music_{length:g}min.wav"
            write_music(wav, minutes=length, sr=SR, channels=1, chunk_seconds=10)
            for name, block_frames in paths.items():
                result = run_child(__file__, "--child", str(wav), "--block-frames", str(block_frames))
                peaks[length, name] = result["peak"]
                print(
                    f"{length:>8g} {name:>7} {result['peak']:>9.0f} {result['at_start']:>9.0f} "
                    f"{result['seconds']:>8.1f}",
                    flush=True,
                )
            wav.unlink()
    longest, shortest = minutes[-1], minutes[0]
    for name in paths:
        ratio = peaks[longest, name] / peaks[shortest, name]
        print(f"peak memory {longest:g} min / {shortest:g} min, {name}: {ratio:.2f}x")
    if "whole" in paths:
        for length in minutes:
            ratio = peaks[length, "whole"] / peaks[length, "blocks"]
            print(f"peak memory whole / blocks at {length:g} min: {ratio:.2f}x")


if __name__ == "__main__":
    main()
