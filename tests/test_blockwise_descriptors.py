"""Descriptors computed block by block equal those of one STFT of the whole clip, wherever the blocks end."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from genre.errors import ParameterError
from genre.features.audio import load_audio
from genre.features.config import FeatureConfig
from genre.features.descriptors import (
    DEFAULT_BLOCK_FRAMES,
    estimate_tuning,
    frame_descriptors,
    frame_blocks,
    frame_span,
    magnitude_blocks,
    spectral_contrast_bands,
    stft_magnitude,
    tempo_bpm,
)
from genre.features.handcrafted import HandcraftedExtractor
from tests.conftest import tone
from tests.test_descriptors import _reference_frames

librosa = pytest.importorskip("librosa")

CONFIG = FeatureConfig(segment_seconds=1.0)
SR, N_FFT, HOP = CONFIG.sr, CONFIG.n_fft, CONFIG.hop_length


def silence_around(seconds: float) -> np.ndarray:
    """Two tones, the second 30 cents sharp, between 0.6 s of digital silence at each end.

    Blocks of silent frames, and blocks whose own tuning is not the clip's.
    """
    quiet = np.zeros(int(0.6 * SR), dtype=np.float32)
    sharp = tone(seconds / 2, freq=660.0 * 2 ** (0.3 / 12), seed=3)
    return np.concatenate([quiet, tone(seconds / 2, seed=1), sharp, quiet])


def odd_length(seconds: float) -> np.ndarray:
    """A noisy tone, not a multiple of the hop long, with negative end samples.

    librosa's zero-crossing rate pads a clip by repeating its end samples: a zero pad
    would add a crossing at each end.
    """
    y = tone(seconds, freq=523.0, seed=2)[: int(seconds * SR) // HOP * HOP - 37]
    y[[0, -1]] = -0.1
    assert y.size % HOP
    return y


def n_frames(y: np.ndarray) -> int:
    return 1 + y.size // HOP


def assert_same_frames(got: np.ndarray, expected: dict[str, np.ndarray]) -> None:
    """Each descriptor equal to float32 rounding, relative to its own scale (the MFCCs are in dB)."""
    row = 0
    for name, values in expected.items():
        scale = max(float(np.abs(values).max()), 1e-12)
        np.testing.assert_allclose(got[row : row + len(values)], values, rtol=1e-5, atol=1e-6 * scale, err_msg=name)
        row += len(values)
    assert row == got.shape[0]


#: Block sizes as functions of the clip's frame count: blocks of one frame, ending one frame short, ...
BLOCK_SIZES = [
    pytest.param(lambda n: 1, id="1"),
    pytest.param(lambda n: 2, id="2"),
    pytest.param(lambda n: 7, id="7"),
    pytest.param(lambda n: n - 1, id="n_frames-1"),
    pytest.param(lambda n: n, id="n_frames"),
    pytest.param(lambda n: DEFAULT_BLOCK_FRAMES, id="default"),
]


@pytest.mark.parametrize("clip", [silence_around, odd_length])
@pytest.mark.parametrize("block_size", BLOCK_SIZES)
def test_blocks_equal_librosa_on_the_whole_clip(clip, block_size):
    y = clip(1.5)
    frames, onset = frame_descriptors(y=y, config=CONFIG, block_frames=block_size(n_frames(y)))
    assert_same_frames(frames, _reference_frames(y, SR))
    np.testing.assert_allclose(onset, librosa.onset.onset_strength(y=y, sr=SR), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("clip", ["blues/blues.00000.wav", "classical/classical.00003.wav"])
def test_blocks_equal_the_whole_clip_on_real_gtzan_clips(gtzan_mini, clip):
    y, _ = load_audio(gtzan_mini / clip, sr=SR)
    whole, whole_onset = frame_descriptors(y=y, config=CONFIG, block_frames=n_frames(y))
    frames, onset = frame_descriptors(y=y, config=CONFIG, block_frames=300)
    sizes = CONFIG.descriptor_sizes()
    ends = np.cumsum(list(sizes.values()))
    assert_same_frames(frames, {name: whole[end - size : end] for (name, size), end in zip(sizes.items(), ends)})
    np.testing.assert_allclose(onset, whole_onset, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("block_size", BLOCK_SIZES[2:4])
def test_extracted_rows_do_not_depend_on_the_block_size(block_size):
    y = np.concatenate([silence_around(2.0), odd_length(2.0)])
    whole = HandcraftedExtractor(CONFIG, block_frames=n_frames(y)).extract_waveform(y=y, sr=SR)
    blocks = HandcraftedExtractor(CONFIG, block_frames=block_size(n_frames(y))).extract_waveform(y=y, sr=SR)
    np.testing.assert_array_equal(blocks.starts, whole.starts)
    # Means of deltas lie near 0: each column is judged on its own scale.
    scale = np.maximum(np.abs(whole.values).max(axis=0), np.finfo(float).tiny)
    np.testing.assert_allclose(blocks.values / scale, whole.values / scale, rtol=0, atol=1e-5)


@pytest.mark.parametrize("block_frames", [1, 7, 1000])
@pytest.mark.parametrize("bins_per_octave", [12, 36])
def test_tuning_equals_librosa_estimate_on_the_whole_spectrogram(block_frames, bins_per_octave):
    # A quarter of a semitone sharp, so the estimate is not 0.
    y = np.concatenate([tone(1.0, freq=440.0 * 2 ** (0.25 / 12)), odd_length(1.0)])
    power = stft_magnitude(y=y, n_fft=N_FFT, hop_length=HOP) ** 2
    blocks = (power[:, i : i + block_frames] for i in range(0, power.shape[1], block_frames))
    tuning = estimate_tuning(power_blocks=blocks, sr=SR, n_fft=N_FFT, bins_per_octave=bins_per_octave)
    assert tuning == librosa.estimate_tuning(S=power, sr=SR, n_fft=N_FFT, bins_per_octave=bins_per_octave)
    assert tuning != 0


def test_tuning_of_silence_is_zero_like_librosa_without_its_warning():
    power = np.zeros((1 + N_FFT // 2, 20), dtype=np.float32)
    with pytest.warns(UserWarning, match="empty frequency set"):
        assert librosa.estimate_tuning(S=power, sr=SR, n_fft=N_FFT) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # librosa's warning would name no file
        assert estimate_tuning(power_blocks=[power[:, :7], power[:, 7:]], sr=SR, n_fft=N_FFT) == 0.0


def test_contrast_bands_give_librosa_contrast():
    S = stft_magnitude(y=silence_around(1.0), n_fft=N_FFT, hop_length=HOP)
    peak, valley = spectral_contrast_bands(S=S, freq=librosa.fft_frequencies(sr=SR, n_fft=N_FFT), sr=SR)
    np.testing.assert_array_equal(
        librosa.power_to_db(peak) - librosa.power_to_db(valley), librosa.feature.spectral_contrast(S=S, sr=SR)
    )
    with pytest.raises(ParameterError, match="Nyquist"):
        spectral_contrast_bands(S=S, freq=librosa.fft_frequencies(sr=8000, n_fft=N_FFT), sr=8000)


@pytest.mark.parametrize("mode", ["constant", "edge"])
@pytest.mark.parametrize("frames", [slice(0, 1), slice(0, 3), slice(2, 9), slice(61, 64), slice(0, 64)])
def test_frame_span_is_the_padded_clip_under_the_frames(mode, frames):
    y = odd_length(1.5)
    assert n_frames(y) == 64
    padded = np.pad(y, N_FFT // 2, mode=mode)
    expected = padded[frames.start * HOP : (frames.stop - 1) * HOP + N_FFT]
    np.testing.assert_array_equal(frame_span(y=y, frames=frames, n_fft=N_FFT, hop_length=HOP, mode=mode), expected)


def test_stft_blocks_are_columns_of_the_whole_stft():
    y = odd_length(1.5)
    blocks = list(magnitude_blocks(y=y, S=None, n_fft=N_FFT, hop_length=HOP, block_frames=7))
    assert [(f.start, f.stop) for f, _ in blocks][-2:] == [(56, 63), (63, 64)]
    np.testing.assert_array_equal(
        np.hstack([block for _, block in blocks]), stft_magnitude(y=y, n_fft=N_FFT, hop_length=HOP)
    )


@pytest.mark.parametrize("block_frames", [1, 7, 300])
def test_tempo_from_tempogram_blocks_equals_librosa(block_frames):
    # An onset every 0.6 s (100 BPM, away from the prior's 120 BPM), and noise.
    frames_per_beat = 0.6 * SR / HOP
    beats = (np.arange(700) % frames_per_beat < 1).astype(np.float32)
    onset = beats + 0.1 * np.random.default_rng(4).random(700, dtype=np.float32)
    expected = librosa.feature.tempo(onset_envelope=onset, sr=SR, hop_length=HOP)[0]
    assert tempo_bpm(onset_envelope=onset, sr=SR, hop_length=HOP, block_frames=block_frames) == expected
    assert abs(expected - 100) < 1  # the nearest lag


def test_frame_blocks_cover_the_frames_once():
    assert list(frame_blocks(n_frames=7, block_frames=3)) == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert list(frame_blocks(n_frames=2, block_frames=5)) == [slice(0, 2)]


@pytest.mark.parametrize("block_frames", [0, -3, 2.5, True, None])
def test_a_bad_block_size_raises_parameter_error(block_frames):
    with pytest.raises(ParameterError, match="block_frames"):
        frame_descriptors(y=tone(1.0), config=CONFIG, block_frames=block_frames)
    with pytest.raises(ParameterError, match="block_frames"):
        tempo_bpm(onset_envelope=np.ones(50), sr=SR, hop_length=HOP, block_frames=block_frames)
    with pytest.raises(ParameterError, match="block_frames"):
        HandcraftedExtractor(CONFIG, block_frames=block_frames)
