"""Log-mel patches of audio segments for the in-fold CNN, computed once per clip and cached.

The CNN reads rows that name a segment (``path``, ``start`` in seconds) rather than a
feature vector. Cutting each 3 s patch out of its own STFT would recompute the same
spectra for every fold and every model, so the whole clip is analysed once (one STFT),
its log-mel spectrogram is stored on disk (``$GENRE_DATA_HOME/cache/mel/<key>.npy``,
keyed by the file's path, size, mtime and the mel settings) and kept in a small
in-memory LRU; a patch is then a slice of columns.
"""

from __future__ import annotations

import collections
import hashlib
import io
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from genre.atomic import atomic_write_bytes
from genre.errors import AudioError, ParameterError
from genre.features.config import check_finite_fields
from genre.progress import report

__all__ = ["MelConfig", "clip_log_mel", "fetch_patches", "mel_cache_dir", "clear_memory_cache"]

#: Bump when the way spectrograms are computed changes: old cache files are then ignored.
_CACHE_VERSION = 1
#: Clips kept in memory per process (a 30 s clip at 128 bands is ~0.66 MB of float32).
_MEMORY_CLIPS = 256


@dataclass(frozen=True)
class MelConfig:
    """Parameters of the log-mel patches.

    Parameters
    ----------
    sr : int
        Sample rate in Hz the audio is resampled to.
    n_fft : int
        STFT frame length in samples.
    hop_length : int
        STFT hop in samples (512 at 22050 Hz = 23.2 ms per frame).
    n_mels : int
        Mel bands.
    patch_frames : int
        Frames per patch; 130 frames of 512 samples at 22050 Hz cover 3.0 s.
    fmin, fmax : float
        Frequency range of the mel filters in Hz, ``0 <= fmin < fmax <= sr / 2``
        (``fmax`` 0: ``sr / 2``).

    Raises
    ------
    genre.errors.ParameterError
        A setting is not a finite number, an integer is not positive, or the frequency
        range is empty or leaves ``[0, sr / 2]``.
    """

    sr: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    patch_frames: int = 130
    fmin: float = 0.0
    fmax: float = 0.0

    def __post_init__(self) -> None:
        # librosa only warns while it builds NaN filters from a NaN or inf bound, and empty
        # ones outside [0, sr / 2]: the patches would be garbage, so such bounds are refused.
        check_finite_fields(self, prefix="mel ")
        for name in ("sr", "n_fft", "hop_length", "n_mels", "patch_frames"):
            if int(getattr(self, name)) <= 0:
                raise ParameterError(f"mel {name} must be positive, got {getattr(self, name)!r}")
        nyquist = self.sr / 2
        if not 0 <= self.fmin < nyquist:
            raise ParameterError(f"mel fmin={self.fmin!r}: must lie in [0, sr / 2 = {nyquist:g}) Hz")
        if not (self.fmax == 0 or self.fmin < self.fmax <= nyquist):
            raise ParameterError(
                f"mel fmax={self.fmax!r}: must lie in (fmin = {self.fmin:g}, sr / 2 = {nyquist:g}] Hz, "
                "or be 0 for sr / 2"
            )


def mel_cache_dir() -> Path:
    """Folder of cached spectrograms: ``$GENRE_DATA_HOME/cache/mel``."""
    from genre.data.synthetic import data_home

    return data_home() / "cache" / "mel"


def _cache_key(path: Path, config: MelConfig) -> str:
    """Hash of what determines a clip's spectrogram: the file's identity and the mel settings."""
    try:
        stat = path.stat()
    except OSError:
        raise AudioError(f"{path}: no such file") from None
    ident = {
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "config": asdict(config),
        "version": _CACHE_VERSION,
    }
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:32]


def _compute(path: Path, config: MelConfig) -> np.ndarray:
    """Log-mel spectrogram of a whole clip, shape (n_mels, n_frames), float32."""
    import librosa

    from genre.features.audio import load_audio
    from genre.features.descriptors import stft_magnitude

    y, sr = load_audio(path, sr=config.sr)
    if y.size < config.n_fft:
        raise AudioError(f"{path}: too short ({y.size / sr:.3f} s) for one {config.n_fft}-sample STFT frame")
    power = stft_magnitude(y=y, n_fft=config.n_fft, hop_length=config.hop_length) ** 2
    mel = librosa.feature.melspectrogram(
        S=power, sr=sr, n_mels=config.n_mels, fmin=config.fmin, fmax=config.fmax or None
    )
    # log(1 + C*mel) compresses like dB but stays finite on digital silence; the network
    # normalises its input itself, so the absolute scale does not matter.
    return np.log1p(1e4 * mel).astype(np.float32)


class _MemoryCache:
    """A thread-safe LRU of spectrograms by cache key."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: np.ndarray) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_memory = _MemoryCache(_MEMORY_CLIPS)


def clear_memory_cache() -> None:
    """Forget the spectrograms held in this process (the disk cache stays)."""
    _memory.clear()


def clip_log_mel(path: str | os.PathLike, *, config: MelConfig = MelConfig()) -> np.ndarray:
    """Log-mel spectrogram of a whole clip, from memory, the disk cache, or computed once.

    Parameters
    ----------
    path : path-like
        An audio file.
    config : MelConfig
        Mel settings; part of the cache key.

    Returns
    -------
    spectrogram : np.ndarray, shape (n_mels, n_frames), float32
        ``log(1 + 1e4 * mel power)``, frames ``hop_length / sr`` seconds apart. Read-only.

    Raises
    ------
    AudioError
        The file is missing, cannot be decoded, or is shorter than one STFT frame.
    """
    path = Path(path)
    key = _cache_key(path, config)
    cached = _memory.get(key)
    if cached is not None:
        return cached
    file = mel_cache_dir() / f"{key}.npy"
    spectrogram = None
    if file.is_file():
        try:
            spectrogram = np.load(file, allow_pickle=False)
        except (OSError, ValueError):
            spectrogram = None  # a damaged cache file is recomputed and overwritten
        if spectrogram is not None and (spectrogram.ndim != 2 or spectrogram.shape[0] != config.n_mels):
            spectrogram = None
    if spectrogram is None:
        spectrogram = _compute(path, config)
        buffer = io.BytesIO()
        np.save(buffer, spectrogram, allow_pickle=False)
        try:
            atomic_write_bytes(file, buffer.getvalue())  # concurrent writers each rename a whole file
        except OSError:
            pass  # a read-only cache only costs recomputation
    spectrogram = np.ascontiguousarray(spectrogram, dtype=np.float32)
    spectrogram.setflags(write=False)
    _memory.put(key, spectrogram)
    return spectrogram


def _slice(spectrogram: np.ndarray, start_seconds: float, config: MelConfig) -> np.ndarray:
    """Frames ``[start, start + patch_frames)``; a patch running past the end repeats the last frame."""
    first = int(round(max(float(start_seconds), 0.0) * config.sr / config.hop_length))
    n_frames = spectrogram.shape[1]
    first = min(first, max(n_frames - 1, 0))
    patch = spectrogram[:, first : first + config.patch_frames]
    if patch.shape[1] < config.patch_frames:
        patch = np.pad(patch, ((0, 0), (0, config.patch_frames - patch.shape[1])), mode="edge")
    return patch


def fetch_patches(
    paths: Sequence[str | os.PathLike],
    starts: Sequence[float],
    *,
    config: MelConfig = MelConfig(),
) -> np.ndarray:
    """Log-mel patches of segments: one per (path, start in seconds) pair.

    Each distinct file is analysed (or read from the cache) once, however many of its
    segments are asked for.

    Parameters
    ----------
    paths : sequence of path-like
        Audio file of each segment.
    starts : sequence of float
        Start of each segment in seconds.
    config : MelConfig
        Mel settings.

    Returns
    -------
    patches : np.ndarray, shape (n, n_mels, patch_frames), float32

    Raises
    ------
    AudioError
        A file cannot be used (see :func:`clip_log_mel`).
    """
    paths = [str(p) for p in paths]
    starts = np.asarray(starts, dtype=np.float64)
    if len(paths) != len(starts):
        raise ParameterError(f"{len(paths)} paths but {len(starts)} segment starts")
    patches = np.empty((len(paths), config.n_mels, config.patch_frames), dtype=np.float32)
    rows_by_path: dict[str, list[int]] = {}
    for row, path in enumerate(paths):
        rows_by_path.setdefault(path, []).append(row)
    for done, (path, rows) in enumerate(rows_by_path.items(), start=1):
        spectrogram = clip_log_mel(path, config=config)
        for row in rows:
            patches[row] = _slice(spectrogram, starts[row], config)
        report("log-mel patches (files)", done=done, total=len(rows_by_path))
    return patches
