"""Block-wise decoding (:func:`genre.features.audio.load_audio`) against the whole-file path it
replaced: the same samples, bit for bit, in every format, rate, channel count and length around
the block size; the same errors for corrupt, cut and non-finite files; and a bounded memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

import genre.features.audio as audio
from genre.errors import AudioError
from genre.features.audio import load_audio

BLOCK = audio.DECODE_BLOCK_FRAMES
#: (extension, soundfile format, subtype): lossless and lossy, integer and float samples.
FORMATS = [
    pytest.param("wav", "WAV", "PCM_16", id="wav-pcm16"),
    pytest.param("wav", "WAV", "FLOAT", id="wav-float"),
    pytest.param("flac", "FLAC", "PCM_16", id="flac"),
    pytest.param("ogg", "OGG", "VORBIS", id="ogg"),
    pytest.param("mp3", "MP3", None, id="mp3"),
]


def whole_file(path: Path, *, sr: int | None = 22050, dtype: str = "float32") -> tuple[np.ndarray, int]:
    """The decoding :func:`load_audio` did before blocks: the whole file, its channels averaged, one resampling."""
    data, native_sr = sf.read(path, dtype=dtype, always_2d=True)
    y = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if sr is not None and native_sr != sr:
        y = soxr.resample(y, native_sr, sr, quality="HQ")
        native_sr = sr
    return np.ascontiguousarray(y, dtype=dtype), int(native_sr)


def signal(n_frames: int, *, sr: int, channels: int, seed: int = 0) -> np.ndarray:
    """Two tones and noise, a different mix in each channel, within full scale: ``(n_frames, channels)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames) / sr
    columns = [
        0.3 * np.sin(2 * np.pi * (330.0 + 110.0 * c) * t) + 0.2 * np.sin(2 * np.pi * 1234.5 * t + c)
        + 0.05 * rng.standard_normal(n_frames)
        for c in range(channels)
    ]
    return np.stack(columns, axis=1).astype(np.float32)


def write(path: Path, n_frames: int, *, sr: int, channels: int = 1, fmt: str = "WAV", subtype: str | None = "PCM_16"):
    sf.write(path, signal(n_frames, sr=sr, channels=channels), sr, format=fmt, subtype=subtype)
    return path


def assert_same(path: Path, *, sr: int | None = 22050, dtype: str = "float32") -> np.ndarray:
    """``load_audio`` gives exactly what the whole-file path gives; returns it."""
    y, got_sr = load_audio(path, sr=sr, dtype=dtype)
    expected, expected_sr = whole_file(path, sr=sr, dtype=dtype)
    assert got_sr == expected_sr and isinstance(got_sr, int)
    assert y.dtype == np.dtype(dtype) and y.ndim == 1 and y.flags.c_contiguous
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y, expected)  # bit for bit: soxr's stream equals its one-shot
    return y


# -- 1. the same samples ------------------------------------------------------------------------
@pytest.mark.parametrize("ext, fmt, subtype", FORMATS)
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("native_sr", [22050, 44100, 48000, 8000])
def test_every_format_rate_and_channel_count_decodes_as_the_whole_file(
    tmp_path, ext, fmt, subtype, channels, native_sr
):
    # Two whole blocks and an odd remainder.
    path = write(tmp_path / f"a.{ext}", 2 * BLOCK + 4321, sr=native_sr, channels=channels, fmt=fmt, subtype=subtype)
    y = assert_same(path)
    if fmt != "MP3":  # the MP3 decoder adds its own delay and padding, the others keep the length
        assert y.size == int((2 * BLOCK + 4321) * 22050 / native_sr + 0.5)  # soxr rounds half up


@pytest.mark.parametrize(
    "n_frames",
    [1, 101, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 777],
    ids=["one-frame", "under-a-block", "block-1", "one-block", "block+1", "many-blocks-odd-rest"],
)
@pytest.mark.parametrize(
    "native_sr, channels, sr",
    [(44100, 2, 22050), (8000, 1, 22050), (22050, 2, None), (22050, 1, 22050)],
    ids=["down-stereo", "up-mono", "native-stereo", "same-rate-mono"],
)
def test_lengths_around_the_block_size(tmp_path, n_frames, native_sr, channels, sr):
    path = write(tmp_path / "a.wav", n_frames, sr=native_sr, channels=channels, subtype="FLOAT")
    y = assert_same(path, sr=sr)
    if sr is None or sr == native_sr:
        assert y.size == n_frames


@pytest.mark.parametrize(
    "block, n_frames", [(1, 1001), (7, 10007), (1000, 10007), (10007, 10007), (10008, 10007)],
    ids=["1", "7", "1000", "the-file", "longer"],
)
@pytest.mark.parametrize("ext, fmt, subtype", [FORMATS[2], FORMATS[4]])
def test_any_block_size_gives_the_same_samples(tmp_path, monkeypatch, block, n_frames, ext, fmt, subtype):
    """Blocks of one frame, of a prime number, a block exactly as long as the file, and longer."""
    monkeypatch.setattr(audio, "DECODE_BLOCK_FRAMES", block)
    path = write(tmp_path / f"a.{ext}", n_frames, sr=44100, channels=2, fmt=fmt, subtype=subtype)
    assert_same(path)
    assert_same(path, sr=16000)
    assert_same(path, sr=None)


def test_sr_none_keeps_the_native_rate_and_float64_is_kept(tmp_path):
    path = write(tmp_path / "a.wav", BLOCK + 99, sr=48000, channels=2, subtype="FLOAT")
    y = assert_same(path, sr=None)
    assert load_audio(path, sr=None)[1] == 48000
    np.testing.assert_array_equal(y, sf.read(path, dtype="float32")[0].mean(axis=1))
    assert_same(path, sr=None, dtype="float64")
    assert_same(path, sr=22050, dtype="float64")


def test_six_channels_are_averaged(tmp_path):
    path = write(tmp_path / "a.wav", BLOCK + 5, sr=44100, channels=6, subtype="FLOAT")
    assert_same(path)


@pytest.mark.parametrize("sr", [22050, None])
def test_a_file_of_unknown_length_is_read_to_its_end(tmp_path, monkeypatch, sr):
    """As a stream from a pipe: no frame count, read until a short block."""
    monkeypatch.setattr(audio, "DECODE_BLOCK_FRAMES", 1000)  # the result grows many times
    path = write(tmp_path / "a.wav", 10 * 1000 + 3, sr=44100, channels=2)
    with audio._sequential_reader()(path) as handle:
        y, n_frames, native_sr, finite = audio._decode_mono(handle, path, frames=None, sr=sr, dtype="float32")
    expected, _ = whole_file(path, sr=sr)
    assert (n_frames, native_sr, finite) == (10003, 44100, True)
    np.testing.assert_array_equal(y, expected)


def test_an_mp3_shorter_than_its_header_says_is_refused_as_truncated(tmp_path):
    """A download cut short: the Xing header counts the whole file, the decoder stops earlier."""
    whole = write(tmp_path / "whole.mp3", 5 * BLOCK, sr=44100, channels=2, fmt="MP3", subtype=None)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert sf.info(cut).frames > len(sf.read(cut)[0])  # the premise: an estimate too high
    with pytest.raises(AudioError, match=r"cut\.mp3: truncated \(the header promises 7\.43 s, the file holds 3\.\d\d s\)"):
        load_audio(cut, sr=22050)


def test_an_mp3_of_many_blocks_decodes_without_a_word_on_stderr(tmp_path, capfd):
    """A seek between blocks would restart mpg123 without its bit reservoir, which it reports on stderr."""
    path = write(tmp_path / "a.mp3", 4 * BLOCK, sr=22050, channels=1, fmt="MP3", subtype=None)
    capfd.readouterr()
    assert_same(path)
    assert capfd.readouterr().err == ""


def test_real_clips_resampled_from_44100_stereo_decode_and_extract_as_before(gtzan_mini, tmp_path):
    from genre.features.handcrafted import HandcraftedExtractor

    extractor = HandcraftedExtractor()
    for clip in ["blues/blues.00000.wav", "metal/metal.00002.wav"]:
        y22, sr = sf.read(gtzan_mini / clip, dtype="float32")
        y44 = soxr.resample(y22, sr, 44100, quality="HQ")
        stereo = np.stack([y44, 0.8 * y44 + 0.01 * np.roll(y44, 7)], axis=1)
        path = tmp_path / clip.replace("/", "_")
        sf.write(path, stereo, 44100, subtype="PCM_16")
        assert_same(path)
        got = extractor.extract_file(path)
        expected = extractor.extract_waveform(y=whole_file(path)[0], sr=22050, path=path)
        np.testing.assert_array_equal(got.starts, expected.starts)
        np.testing.assert_array_equal(got.values, expected.values)
        assert_same(gtzan_mini / clip)  # at its own rate: no resampling


# -- 2. the same errors -------------------------------------------------------------------------
@pytest.mark.parametrize("ext, fmt", [("flac", "FLAC"), ("mp3", "MP3")])
def test_data_corrupt_partway_is_a_decoding_error(tmp_path, ext, fmt):
    subtype = "PCM_16" if fmt == "FLAC" else None
    path = write(tmp_path / f"a.{ext}", 6 * BLOCK, sr=44100, channels=2, fmt=fmt, subtype=subtype)
    data = bytearray(path.read_bytes())
    at = 2 * len(data) // 3  # several blocks in: the first blocks decode
    data[at : at + 4000] = bytes(4000)
    path.write_bytes(bytes(data))
    with sf.SoundFile(path) as handle:
        assert handle.read(BLOCK).shape[0] == BLOCK  # the premise: the error comes partway
    with pytest.raises(Exception):
        sf.read(path)  # as the whole-file path saw it
    with pytest.raises(AudioError, match=rf"a\.{ext}: cannot decode audio \(.+\)$"):
        load_audio(path)


def test_a_cut_wav_of_many_blocks_is_still_reported_truncated(tmp_path):
    path = write(tmp_path / "long.wav", int(8.0 * 44100), sr=44100, channels=2)  # 5+ blocks
    path.write_bytes(path.read_bytes()[: 44 + 4 * int(3.0 * 44100)])
    said = r"long\.wav: truncated \(the header promises 8\.00 s, the file holds 3\.00 s\)$"
    with pytest.raises(AudioError, match=said):
        load_audio(path)


@pytest.mark.parametrize("where", [0, BLOCK - 1, 3 * BLOCK + 10], ids=["first-sample", "end-of-block-1", "last-block"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_in_a_float_wav_are_reported(tmp_path, where, value):
    data = signal(3 * BLOCK + 11, sr=44100, channels=2)
    data[where, 1] = value
    path = tmp_path / "bad.wav"
    sf.write(path, data, 44100, subtype="FLOAT")
    for sr in (22050, None):
        with pytest.raises(AudioError, match=r"bad\.wav: the decoded audio holds NaN or infinite samples$"):
            load_audio(path, sr=sr)


def test_a_cut_wav_with_a_nan_is_reported_truncated_as_before(tmp_path):
    data = signal(4 * BLOCK, sr=22050, channels=1)
    data[5] = np.nan
    path = tmp_path / "both.wav"
    sf.write(path, data, 22050, subtype="FLOAT")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(AudioError, match=r"both\.wav: truncated \("):
        load_audio(path)


def test_an_empty_file_is_still_empty(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros((0, 2), np.float32), 44100)
    with pytest.raises(AudioError, match=r"empty\.wav: the file holds no audio samples$"):
        load_audio(path)


# -- 3. the memory ------------------------------------------------------------------------------
def test_peak_memory_is_the_mono_result_and_a_block_not_the_whole_file(tmp_path):
    """30 s of 44.1 kHz stereo float: 10 MiB decoded whole, 2.5 MiB as the 22.05 kHz mono result."""
    path = tmp_path / "long.wav"
    n_frames = 30 * 44100
    with sf.SoundFile(path, "w", samplerate=44100, channels=2, subtype="FLOAT") as out:
        for start in range(0, n_frames, 44100):
            out.write(signal(44100, sr=44100, channels=2, seed=start))
    whole_bytes, block_bytes = n_frames * 2 * 4, BLOCK * 2 * 4
    tracemalloc.start()  # numpy reports its buffers to tracemalloc
    try:
        y, _ = load_audio(path, sr=22050)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Two native-rate blocks at most (the next one read while the last is still held), the
    # block mixed to mono, its resampled part; the whole-file path held 1.5 times whole_bytes.
    assert peak - y.nbytes < 3 * block_bytes
    assert peak < whole_bytes / 2
