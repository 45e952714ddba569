"""Audio decoding: soundfile at the native rate a block at a time, mono mix, at most one resampling (soxr)."""

from __future__ import annotations

import contextlib
import functools
import os
import stat
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, NamedTuple

import numpy as np

from genre.data.formats import is_audio_path
from genre.data.tracks import printable
from genre.errors import AudioError
from genre.stderr_capture import filtered_descriptor_2

if TYPE_CHECKING:  # imported where it decodes: listing a dataset needs no libsndfile
    import soundfile

#: A header that declares at most this much more audio (s) than the file holds is a writer's
#: rounding, not a file cut short: the analysis would not notice the difference.
TRUNCATION_TOLERANCE_S = 0.05

#: Frames decoded at a time: 1.5 s at 44.1 kHz, 512 KiB of stereo float32. Small beside the
#: mono result of a long recording, and large enough that the per-block overhead (a libsndfile
#: call, a resampler call) stays negligible.
DECODE_BLOCK_FRAMES = 2**16


class Decoded(NamedTuple):
    """A decoded file: what :func:`load_audio` returns, and the file's own sample rate."""

    #: Mono waveform at ``sr``, full scale = 1.
    y: np.ndarray
    #: Its sample rate in Hz.
    sr: int
    #: The file's own sample rate in Hz, before any resampling: below ``sr``, the file was
    #: upsampled and holds nothing above ``native_sr / 2``.
    native_sr: int


def load_audio(path: str | os.PathLike, *, sr: int | None = 22050, dtype: str = "float32") -> tuple[np.ndarray, int]:
    """Decode an audio file to a mono waveform: ``(y, sr)`` of :func:`decode_audio`."""
    y, sr, _ = decode_audio(path, sr=sr, dtype=dtype)
    return y, sr


def decode_audio(path: str | os.PathLike, *, sr: int | None = 22050, dtype: str = "float32") -> Decoded:
    """Decode an audio file to a mono waveform, and say at which rate the file was recorded.

    Parameters
    ----------
    path : path-like
        A file in one of :data:`genre.data.formats.AUDIO_EXTENSIONS`.
    sr : int or None
        Target sample rate in Hz; ``None`` keeps the file's own. The signal is resampled
        (soxr, high quality) only when the rates differ.
    dtype : str
        Floating-point type of the result.

    Notes
    -----
    The file is decoded :data:`DECODE_BLOCK_FRAMES` frames at a time, each block mixed to
    mono and passed through one streaming resampler: the memory needed is the result and one
    block, not the whole signal at its native rate and channel count. The samples are those
    of decoding the whole file, averaging its channels and resampling it in one call.

    Returns
    -------
    Decoded
        ``y``: the mono waveform, full scale = 1, shape (n_samples,); ``sr``: its sample
        rate in Hz; ``native_sr``: the file's own rate in Hz (below ``sr``: upsampled, with
        an empty spectrum above ``native_sr / 2``).

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
    if info.st_size == 0:
        # libsndfile would say "Format not recognised" of it, which sends the user looking for
        # a wrong format rather than a failed copy or download.
        raise AudioError(f"{path}: cannot decode audio (an empty file: 0 bytes)")
    try:
        # libsndfile says only "System error" of a file it may not open; opening it first
        # (one system call, no data read) names the cause.
        os.close(os.open(path, os.O_RDONLY))
    except PermissionError:
        raise AudioError(f"{path}: permission denied (cannot read the file)") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    with _decoder_messages(path):
        try:
            handle = _sequential_reader()(path)
        except Exception as exc:  # libsndfile reports corrupt and non-audio files in many ways
            raise _cannot_decode(path, exc) from None
        with handle:
            try:
                # As soundfile.read, which decoded the whole file before: no more than the frames
                # the header states, from a seek to the first (after which libsndfile's MP3 decoder
                # gives slightly other samples than straight after opening).
                frames = handle.frames if sf.SoundFile.seekable(handle) else None
                if frames is not None:
                    handle.seek(0)
            except Exception as exc:
                raise _cannot_decode(path, exc) from None
            y, n_frames, native_sr, finite = _decode_mono(handle, path, frames=frames, sr=sr, dtype=dtype)
        if n_frames == 0:
            raise AudioError(f"{path}: the file holds no audio samples")
        if frames is not None and (frames - n_frames) / native_sr > TRUNCATION_TOLERANCE_S:
            # The decoder stopped before the length its header gives: an MP3 whose Xing header
            # counts the whole stream, a FLAC whose STREAMINFO does, cut short by a download.
            raise AudioError(
                f"{path}: truncated (the header promises {frames / native_sr:.2f} s, the file holds "
                f"{n_frames / native_sr:.2f} s)"
            )
        declared = _declared_data(path)
        if declared is not None:
            start, n_bytes = declared
            held = info.st_size - start
            if n_bytes > held > 0:
                # libsndfile quietly decodes what is there; the data is constant-rate, so its bytes
                # scale to seconds.
                holds = n_frames / native_sr
                promises = holds * n_bytes / held
                if promises - holds > TRUNCATION_TOLERANCE_S:
                    raise AudioError(
                        f"{path}: truncated (the header promises {promises:.2f} s, the file holds {holds:.2f} s)"
                    )
        if not finite:
            raise AudioError(f"{path}: the decoded audio holds NaN or infinite samples")
    rate = native_sr if sr is None else sr
    return Decoded(np.ascontiguousarray(y, dtype=dtype), int(rate), int(native_sr))


@contextlib.contextmanager
def _decoder_messages(path: Path) -> Iterator[None]:
    """Name the file in what libmpg123 prints while an MP3 is decoded.

    libmpg123 writes its warnings straight to descriptor 2 ("Xing stream size off by more
    than 1%..."), naming no file. They are held meanwhile: dropped when the file is refused
    (the refusal names it and says why), written on after the file's name when it is used.
    Other formats' decoders print nothing, and are left alone.
    """
    if path.suffix.lower() != ".mp3":
        yield
        return
    with filtered_descriptor_2(lambda line: False) as held:
        yield
    if held:
        os.write(2, b"".join(os.fsencode(f"{printable(path)}: libmpg123: ") + line + b"\n" for line in held))


@functools.cache
def _sequential_reader() -> type[soundfile.SoundFile]:
    """A :class:`soundfile.SoundFile` that reads straight on, without seeking between reads.

    soundfile seeks back to where a read ended after each one. libsndfile's MP3 decoder
    restarts on a seek, without the bit reservoir of the frames before it: its samples then
    differ in the last bits from those of one read, and mpg123 prints errors to stderr. Saying
    that the file is not seekable stops those seeks (``read`` then neither caps the frames asked
    for at the file's length: :func:`_decode_mono` does).
    """
    import soundfile as sf

    class SequentialReader(sf.SoundFile):
        def seekable(self) -> bool:
            return False

    return SequentialReader


def _cannot_decode(path: Path, exc: Exception) -> AudioError:
    """The error for a file libsndfile fails to open or to read (at any point of it)."""
    reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    # "Error opening '<path>': Format not recognised.": the message names the file already.
    for opening in (f"Error opening {str(path)!r}: ", f"Error opening {path!r}: "):
        if reason.startswith(opening) and reason[len(opening) :].strip():
            reason = reason[len(opening) :].rstrip(".")
    if "does not exist or is not a regular file" in reason:
        # libsndfile's MP3 decoder says this of any file it cannot parse; the file does exist.
        reason = f"not valid {path.suffix.lstrip('.').upper() or 'audio'} data"
    return AudioError(f"{path}: cannot decode audio ({reason})")


def _decode_mono(
    handle: soundfile.SoundFile, path: Path, *, frames: int | None, sr: int | None, dtype: str
) -> tuple[np.ndarray, int, int, bool]:
    """Read an open file :data:`DECODE_BLOCK_FRAMES` frames at a time, mixed to mono and resampled.

    The result is the same, sample for sample, as decoding the whole file, averaging its
    channels and resampling it in one call (soxr's stream and one-shot resamplers agree
    exactly), but only one block of the native-rate, multichannel signal is held at a time,
    beside the mono result.

    Parameters
    ----------
    handle : soundfile.SoundFile
        The file, open for reading at its start (see :func:`_sequential_reader`).
    path : Path
        Its path, for the error messages.
    frames : int or None
        Frames to read at most (a short block ends the file sooner); ``None``: to the end.
    sr : int or None
        Target sample rate in Hz; ``None`` or the file's own rate: no resampling.
    dtype : str
        Type of the decoded samples.

    Returns
    -------
    y : np.ndarray, shape (n_samples,)
        Mono waveform at ``sr``; incomplete once a non-finite sample is met.
    n_frames : int
        Frames decoded, at the native rate.
    native_sr : int
        The file's sample rate in Hz.
    finite : bool
        Whether every decoded sample is finite.

    Raises
    ------
    AudioError
        libsndfile fails on a block (data corrupt partway through the file).
    """
    native_sr = handle.samplerate
    resample = sr is not None and sr != native_sr
    # soxr gives round(frames * sr / native_sr) samples: allocated once when the count is right
    # (an MP3 decoder's count may be an estimate).
    expected = frames or 0
    if resample:
        expected = int(expected * sr // native_sr) + 1
    remaining = frames
    stream = out = None
    n_frames = n_out = 0
    finite = True
    while remaining is None or remaining > 0:
        want = DECODE_BLOCK_FRAMES if remaining is None else min(DECODE_BLOCK_FRAMES, remaining)
        try:
            block = handle.read(want, dtype=dtype, always_2d=True)
        except Exception as exc:
            raise _cannot_decode(path, exc) from None
        n_frames += block.shape[0]
        if remaining is not None:
            remaining -= block.shape[0]
        if finite and block.shape[0]:
            mono = block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]
            # Past a non-finite sample the file will be refused: the rest is only read (not
            # mixed nor resampled), so that a decoding error further on is still reported first.
            finite = bool(np.all(np.isfinite(mono)))
            if finite:
                if resample and stream is None:
                    import soxr

                    stream = soxr.ResampleStream(native_sr, sr, 1, dtype=mono.dtype, quality="HQ")
                part = stream.resample_chunk(mono) if resample else mono
                out, n_out = _append(out, n_out, part, expected=expected)
        if block.shape[0] < want:
            break
    if stream is not None and finite:  # the resampler's delay: its last samples
        part = stream.resample_chunk(np.empty(0, dtype=out.dtype), last=True)
        out, n_out = _append(out, n_out, part, expected=expected)
    if out is None:
        return np.empty(0, dtype=dtype), n_frames, native_sr, finite
    if out.size != n_out:
        # In place (a view would keep the room of a frame count that was too high); no view of
        # ``out`` is left to be invalidated.
        out.resize(n_out, refcheck=False)
    return out, n_frames, native_sr, finite


def _append(out: np.ndarray | None, n_out: int, part: np.ndarray, *, expected: int) -> tuple[np.ndarray, int]:
    """Copy ``part`` into ``out`` after its first ``n_out`` samples; ``out`` is made (``expected``
    samples) or grown (a frame count that was an estimate, or unknown) as needed."""
    if out is None:
        out = np.empty(max(expected, part.size), dtype=part.dtype)
    if n_out + part.size > out.size:
        grown = np.empty(n_out + part.size + max(part.size, out.size // 2), dtype=out.dtype)
        grown[:n_out] = out[:n_out]
        out = grown
    out[n_out : n_out + part.size] = part
    return out, n_out + part.size


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
