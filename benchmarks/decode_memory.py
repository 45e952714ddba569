"""Peak memory of decoding a long recording: block-wise streaming versus the whole file at once.

For each duration a synthetic 44.1 kHz stereo 16-bit WAV is written (a chord progression,
a beat and a little noise, different in each channel; generated a second at a time). Each
file is decoded to 22050 Hz mono in a fresh process, so that its peak memory is its own:

- ``stream``: :func:`genre.features.audio.load_audio`, which reads
  ``DECODE_BLOCK_FRAMES`` frames at a time, mixes each block to mono and resamples it
  through one ``soxr.ResampleStream``;
- ``whole``: the decoding it replaced, reimplemented here: ``soundfile.read`` of the whole
  file at its native rate and channel count, the channels averaged, one ``soxr.resample``
  (skipped with ``--no-whole``).

Usage::

    python benchmarks/decode_memory.py [--minutes 10 30] [--no-whole]

Prints, per duration and path, the peak resident memory of the process (``ru_maxrss``,
MiB), its resident memory just before the file (``at start``: the interpreter, the
libraries and a 1 s warm-up decoding; ``/proc/self/statm``, else the peak so far), the
growth (peak - at start; compare it with ``result``, the size of the 22050 Hz mono float32
waveform returned) and the decoding seconds; then, per duration, the ratios whole / stream
of the peak, the growth and the seconds, and whether both paths gave the same samples.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from memory_harness import peak_mib, run_child, write_music

NATIVE_SR = 44100
TARGET_SR = 22050


def decode_whole(path: str | Path, *, sr: int = TARGET_SR) -> tuple[np.ndarray, int]:
    """The decoding ``load_audio`` did before blocks (its checks left out): the whole file, then mono, then soxr."""
    import soundfile as sf
    import soxr

    data, native_sr = sf.read(path, dtype="float32", always_2d=True)
    y = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    del data  # as in load_audio, where it went out of use here (the peak is reached before)
    if native_sr != sr:
        y = soxr.resample(y, native_sr, sr, quality="HQ")
    return np.ascontiguousarray(y, dtype="float32"), sr


def child(path: str, method: str) -> dict:
    """Decode ``path`` once in this (fresh) process, after a warm-up; peak RSS before and after, in MiB."""
    import resource

    import soundfile as sf

    from genre.features.audio import load_audio

    def resident_mib() -> float:
        # The peak so far may be an import's, above what is resident when decoding starts.
        try:
            pages = int(Path("/proc/self/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            return peak_mib()
        return pages * resource.getpagesize() / 2**20

    decode = load_audio if method == "stream" else decode_whole
    # Imports, libsndfile and soxr set-up, not counted in "seconds" nor in the growth.
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.wav"
        sf.write(warm, np.zeros((NATIVE_SR, 2), np.float32), NATIVE_SR)
        decode(warm, sr=TARGET_SR)
    at_start = resident_mib()
    started = time.perf_counter()
    y, _ = decode(path, sr=TARGET_SR)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak": peak_mib(),
        "at_start": at_start,
        "result_mib": y.nbytes / 2**20,
        "sha1": hashlib.sha1(y.tobytes()).hexdigest(),
    }


def main(argv: list[str] | None = None) -> None:
    from genre.features.audio import DECODE_BLOCK_FRAMES

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 30], help="recording lengths")
    parser.add_argument("--no-whole", action="store_true", help="skip the whole-file runs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--method", choices=["stream", "whole"], default="stream", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.method)))
        return

    methods = ["stream"] + ([] if args.no_whole else ["whole"])
    results: dict[tuple[float, str], dict] = {}
    print(
        f"{NATIVE_SR} Hz stereo 16-bit WAV -> {TARGET_SR} Hz mono float32; blocks of {DECODE_BLOCK_FRAMES} frames; "
        "peak RSS of a fresh process per run"
    )
    print(f"{'minutes':>8} {'path':>7} {'peak MiB':>9} {'at start':>9} {'growth':>7} {'result':>7} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for length in sorted(args.minutes):
            wav = Path(tmp) / f"music_{length:g}min.wav"
            write_music(wav, minutes=length, sr=NATIVE_SR, channels=2, chunk_seconds=1)
            for method in methods:
                result = results[length, method] = run_child(__file__, "--child", str(wav), "--method", method)
                print(
                    f"{length:>8g} {method:>7} {result['peak']:>9.0f} {result['at_start']:>9.0f} "
                    f"{result['peak'] - result['at_start']:>7.0f} {result['result_mib']:>7.0f} "
                    f"{result['seconds']:>8.1f}",
                    flush=True,
                )
            wav.unlink()
    if "whole" in methods:
        for length in sorted(args.minutes):
            stream, whole = results[length, "stream"], results[length, "whole"]
            grown = [r["peak"] - r["at_start"] for r in (whole, stream)]
            growth = f"{grown[0] / grown[1]:.2f}x" if grown[1] > 0 else "n/a"
            same = "same samples" if stream["sha1"] == whole["sha1"] else "DIFFERENT samples"
            print(
                f"{length:g} min, whole / stream: peak {whole['peak'] / stream['peak']:.2f}x, "
                f"growth {growth}, seconds {whole['seconds'] / stream['seconds']:.2f}x; {same}"
            )


if __name__ == "__main__":
    main()
