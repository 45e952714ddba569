"""What the memory benchmarks share: music-like recordings of any length, and one fresh process per measurement.

The recordings are a chord progression, a kick and a hi-hat on every beat and a little
noise (no data to download), generated a chunk at a time so that writing a 30-minute file
never holds it whole: a child process's ``ru_maxrss`` starts from its parent's peak on
Linux, so the parent must stay small.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

BEAT_SECONDS = 0.5
#: A chord (three fundamentals, Hz) every 2 s, in turn.
CHORDS = np.array([[220.0, 277.18, 329.63], [196.0, 246.94, 293.66], [174.61, 220.0, 261.63], [164.81, 207.65, 246.94]])
#: Per channel: weights of the notes, the kick and the hi-hat (stereo: two different mixes).
MIXES = {1: [(0.05, 0.4, 0.15)], 2: [(0.05, 0.4, 0.1), (0.05, 0.3, 0.2)]}


def write_music(path: Path, *, minutes: float, sr: int = 22050, channels: int = 1, chunk_seconds: float = 1.0) -> None:
    """Write a 16-bit WAV of ``minutes`` at ``sr`` Hz with 1 or 2 channels, ``chunk_seconds`` at a time."""
    import soundfile as sf

    n_total, n_chunk = int(minutes * 60 * sr), int(chunk_seconds * sr)
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", samplerate=sr, channels=channels, subtype="PCM_16") as out:
        for start in range(0, n_total, n_chunk):
            t = (start + np.arange(min(n_chunk, n_total - start))) / sr
            chord = CHORDS[(t // 2.0).astype(int) % len(CHORDS)]  # (n, 3)
            notes = sum(np.sin(2 * np.pi * k * chord * t[:, None]).sum(axis=1) / k for k in (1, 2, 3))
            beat = t % BEAT_SECONDS
            kick = np.exp(-30 * beat) * np.sin(2 * np.pi * 55.0 * beat)
            hat = np.exp(-80 * ((t + BEAT_SECONDS / 2) % BEAT_SECONDS)) * rng.standard_normal(t.size)
            mixed = [a * notes + b * kick + c * hat + 0.01 * rng.standard_normal(t.size) for a, b, c in MIXES[channels]]
            out.write(np.clip(np.stack(mixed, axis=1), -1, 1).astype(np.float32))


def peak_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    import resource

    # ru_maxrss is in KiB on Linux (bytes on macOS).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)


def run_child(script: str, *args: str) -> dict:
    """Run ``python script *args`` in a fresh process; the JSON object its last output line holds."""
    command = [sys.executable, script, *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
