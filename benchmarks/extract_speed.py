"""Extraction speed: the GTZAN-tutorial way versus ``genre extract``, on the same files, in one run.

The naive extractor is written the way the GTZAN tutorials write it: ``librosa.load`` at
22050 Hz, then one librosa call per descriptor on the waveform of each 3-second segment,
each call computing its own STFT (chroma, RMS, centroid, bandwidth, roll-off, ZCR,
harmonic/percussive parts, tempo, 20 MFCCs; mean and variance). A second naive variant
computes exactly genre's descriptor set, one librosa call per descriptor on the whole
clip, to separate the gain of sharing the STFT from the gain of a smaller feature set.

Usage::

    python benchmarks/extract_speed.py [AUDIO_DIR] [--limit N] [--jobs N]

Prints seconds per clip for each extractor and the ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO.parent / "shared" / "data" / "gtzan-mini"


def tutorial_extract(path: str, *, segment_seconds: float = 3.0) -> list[list[float]]:
    """The GTZAN-tutorial extractor: per 3 s segment, one librosa call per descriptor."""
    import librosa

    y, sr = librosa.load(path, sr=22050)
    seg = int(segment_seconds * sr)
    rows = []
    for start in range(0, len(y) - seg + 1, seg):
        part = y[start : start + seg]
        values = []
        for feature in (
            librosa.feature.chroma_stft(y=part, sr=sr),
            librosa.feature.rms(y=part),
            librosa.feature.spectral_centroid(y=part, sr=sr),
            librosa.feature.spectral_bandwidth(y=part, sr=sr),
            librosa.feature.spectral_rolloff(y=part, sr=sr),
            librosa.feature.zero_crossing_rate(part),
            librosa.effects.harmonic(part),
            librosa.effects.percussive(part),
        ):
            values += [float(np.mean(feature)), float(np.var(feature))]
        values.append(float(np.atleast_1d(librosa.beat.beat_track(y=part, sr=sr)[0])[0]))
        mfcc = librosa.feature.mfcc(y=part, sr=sr, n_mfcc=20)
        values += list(mfcc.mean(axis=1)) + list(mfcc.var(axis=1))
        rows.append(values)
    return rows


def same_set_extract(path: str, *, segment_seconds: float = 3.0) -> np.ndarray:
    """genre's descriptor set, but one librosa call per descriptor on the waveform."""
    import librosa

    from genre.features.config import FeatureConfig
    from genre.features.descriptors import segment_bounds, summarise

    y, sr = librosa.load(path, sr=22050)
    chroma = librosa.feature.chroma_stft(y=y, sr=sr)
    frames = np.vstack(
        [
            chroma,
            librosa.feature.rms(y=y),
            librosa.feature.spectral_centroid(y=y, sr=sr),
            librosa.feature.spectral_bandwidth(y=y, sr=sr),
            librosa.feature.spectral_rolloff(y=y, sr=sr),
            librosa.feature.spectral_contrast(y=y, sr=sr),
            librosa.feature.spectral_flatness(y=y),
            librosa.feature.zero_crossing_rate(y),
            librosa.feature.tonnetz(y=y, sr=sr, chroma=librosa.feature.chroma_stft(y=y, sr=sr)),
            librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20),
        ]
    )
    librosa.feature.tempo(y=y, sr=sr)
    config = FeatureConfig(segment_seconds=segment_seconds)
    return summarise(frames, bounds=segment_bounds(n_samples=len(y), config=config), config=config)


def time_per_clip(func, files: list[str]) -> float:
    func(files[0])  # warm-up: imports and numba compilation are not per-clip costs
    started = time.perf_counter()
    for path in files:
        func(path)
    return (time.perf_counter() - started) / len(files)


def time_genre(files: list[str], *, jobs: int) -> float:
    from genre.data import Dataset, Track
    from genre.features.extract import extract_to_csv

    tracks = [Track(path=p, track=f"{i:05d}", label=Path(p).parent.name) for i, p in enumerate(files)]
    with tempfile.TemporaryDirectory() as tmp:
        # Warm-up on as many files as workers: worker start-up, imports and numba compilation
        # happen once per run, not per clip (joblib reuses the same workers for the timed run).
        warm = Dataset(tracks=tracks[: max(1, jobs) * 2], rejected=[], name="warm-up")
        extract_to_csv(warm, Path(tmp) / "warm.csv", jobs=jobs)
        report = extract_to_csv(Dataset(tracks=tracks, rejected=[], name="bench"), Path(tmp) / "f.csv", jobs=jobs)
    assert not report.skipped, report.skipped
    return report.seconds / len(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("audio_dir", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--limit", type=int, default=0, help="use the first N clips (0: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cores for the parallel run")
    args = parser.parse_args(argv)
    files = sorted(str(p) for p in Path(args.audio_dir).rglob("*.wav"))
    if args.limit:
        files = files[:: max(1, len(files) // args.limit)][: args.limit]
    if not files:
        print(f"no .wav files under {args.audio_dir}", file=sys.stderr)
        return 1
    import soundfile as sf

    seconds = sum(sf.info(f).duration for f in files) / len(files)
    print(f"{len(files)} clips, {seconds:.1f} s of audio each on average, {os.cpu_count()} cores")
    timings = {
        "naive, GTZAN-tutorial style (per-segment calls)": time_per_clip(tutorial_extract, files),
        "naive, genre's descriptor set (one call each)": time_per_clip(same_set_extract, files),
        "genre extract --jobs 1": time_genre(files, jobs=1),
        f"genre extract --jobs {args.jobs}": time_genre(files, jobs=args.jobs),
    }
    width = max(map(len, timings))
    one = timings["genre extract --jobs 1"]
    for name, value in timings.items():
        print(f"{name:<{width}}  {value:7.3f} s/clip  {value / one:6.2f}x genre --jobs 1  {seconds / value:7.1f}x real time")
    naive = timings["naive, GTZAN-tutorial style (per-segment calls)"]
    same = timings["naive, genre's descriptor set (one call each)"]
    print(f"speed-up of --jobs 1 over the tutorial extractor: {naive / one:.2f}x; over same-set naive: {same / one:.2f}x")
    print(f"parallel scaling --jobs {args.jobs} vs --jobs 1: {one / timings[f'genre extract --jobs {args.jobs}']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
