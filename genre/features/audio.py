"""Audio decoding: soundfile at the native rate, mono mix, at most one resampling (soxr)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np

from genre.data.formats import is_audio_path
from genre.errors import AudioError


def load_audio(path: str | os.PathLike, *, sr: int | None = 22050, dtype: str = "float32") -> tuple[np.ndarray, int]:
    """Decode an audio file to a mono waveform.

    Parameters
    ----------
    path : path-like
        A file in one of :data:`genre.data.formats.AUDIO_EXTENSIONS`.
    sr : int or None
        Target sample rate in Hz; ``None`` keeps the file's own. The signal is resampled
        (soxr, high quality) only when the rates differ.
    dtype : str
        Floating-point type of the result.

    Returns
    -------
    y : np.ndarray, shape (n_samples,)
        Mono waveform, full scale = 1.
    sr : int
        Its sample rate in Hz.

    Raises
    ------
    AudioError
        The file is missing, not readable (permission denied), not audio, corrupt, of an
        unsupported format, or empty.
    """
    import soundfile as sf

    path = Path(path)
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in the path
        raise AudioError(f"{path}: no such file") from None
    except PermissionError:  # Path.exists() would raise it, not say False
        raise AudioError(f"{path}: permission denied (a folder on its path cannot be searched)") from None
    except OSError as exc:  # a link loop, an I/O error
        raise AudioError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        raise AudioError(f"{path}: not a regular file (a folder, pipe or device)")
    if not is_audio_path(path):
        raise AudioError(f"{path}: unsupported format {path.suffix or '(no extension)'!r}")
    try:
        # libsndfile says only "System error" of a file it may not open; opening it first
        # (one system call, no data read) names the cause.
        os.close(os.open(path, os.O_RDONLY))
    except PermissionError:
        raise AudioError(f"{path}: permission denied (cannot read the file)") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    try:
        data, native_sr = sf.read(path, dtype=dtype, always_2d=True)
    except Exception as exc:  # libsndfile reports corrupt and non-audio files in many ways
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        if "does not exist or is not a regular file" in reason:
            # libsndfile's MP3 decoder says this of any file it cannot parse; the file does exist.
            reason = f"not valid {path.suffix.lstrip('.').upper() or 'audio'} data"
        raise AudioError(f"{path}: cannot decode audio ({reason})") from None
    if data.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no audio samples")
    y = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{path}: the decoded audio holds NaN or infinite samples")
    if sr is not None and native_sr != sr:
        import soxr

        y = soxr.resample(y, native_sr, sr, quality="HQ")
        native_sr = sr
    return np.ascontiguousarray(y, dtype=dtype), int(native_sr)
