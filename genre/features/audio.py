"""Audio decoding: soundfile at the native rate, mono mix, at most one resampling (soxr)."""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

import numpy as np

from genre.data.formats import is_audio_path
from genre.errors import AudioError

#: A header that declares at most this much more audio (s) than the file holds is a writer's
#: rounding, not a file cut short: the analysis would not notice the difference.
TRUNCATION_TOLERANCE_S = 0.05


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
        unsupported format, empty, or cut short: a WAV, AIFF or AU file whose header declares
        more audio than the file holds (see :func:`_declared_data`).
    """
    import soundfile as sf

    path = Path(path)
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in the path
        raise AudioError(f"{path}: no such file") from None
    except PermissionError:  # Path.exists() would raise it, not say False
        raise AudioError(f"{path}: permission denied (a folder on its path cannot be searched)") from None
    except OSError as exc:  # a link loop, an I/O error
        raise AudioError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
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
    declared = _declared_data(path)
    if declared is not None:
        start, n_bytes = declared
        held = info.st_size - start
        if n_bytes > held > 0:
            # libsndfile quietly decodes what is there; the data is constant-rate, so its bytes
            # scale to seconds.
            holds = data.shape[0] / native_sr
            promises = holds * n_bytes / held
            if promises - holds > TRUNCATION_TOLERANCE_S:
                raise AudioError(
                    f"{path}: truncated (the header promises {promises:.2f} s, the file holds {holds:.2f} s)"
                )
    y = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{path}: the decoded audio holds NaN or infinite samples")
    if sr is not None and native_sr != sr:
        import soxr

        y = soxr.resample(y, native_sr, sr, quality="HQ")
        native_sr = sr
    return np.ascontiguousarray(y, dtype=dtype), int(native_sr)


def _declared_data(path: Path) -> tuple[int, int] | None:
    """Where the audio data of a WAV (RIFF, RIFX, RF64), AIFF or AU file starts, and its size in its header.

    These headers state the exact size of the data, which libsndfile quietly cuts to what the
    file holds: a download cut short decodes without an error. FLAC, Ogg and MP3 state no
    exact size (MP3's frame count may be an estimate), and libsndfile fails on a FLAC file cut
    short, so they give ``None``; so does a size left unknown (a WAV or AU file written to a
    pipe) and a header that cannot be walked (libsndfile judges that file).

    Parameters
    ----------
    path : Path
        The file; its content, not its extension, tells the format, as for libsndfile.

    Returns
    -------
    (int, int) or None
        Offset of the first audio byte, and the number of audio bytes the header declares.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
            if head[:4] in (b".snd", b"dns."):  # AU, big- or little-endian
                start, size = struct.unpack(">II" if head[:4] == b".snd" else "<II", head[4:12])
                return None if size == 0xFFFFFFFF else (start, size)
            if head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE":
                order, data_id = (">" if head[:4] == b"RIFX" else "<"), b"data"
            elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
                order, data_id = ">", b"SSND"
            else:
                return None
            size64 = None  # RF64's data size, in its ds64 chunk
            while len(chunk := handle.read(8)) == 8:
                size = struct.unpack(order + "I", chunk[4:])[0]
                body = handle.tell()
                if chunk[:4] == b"ds64":
                    size64 = struct.unpack("<QQ", handle.read(16))[1]  # after the RIFF size
                elif chunk[:4] == data_id:
                    if data_id == b"SSND":  # its data follows an offset and a block size
                        offset = struct.unpack(">I", handle.read(4))[0]
                        return body + 8 + offset, size - 8 - offset
                    if size == 0xFFFFFFFF:
                        return None if size64 is None else (body, size64)
                    return body, size
                handle.seek(body + size + (size & 1))  # chunks are padded to an even length
    except (OSError, struct.error):
        return None
    return None
