"""Audit fixes in genre.features / genre.data: one sample rate, waveform-only descriptors, import layering."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from genre.errors import ParameterError
from genre.features.config import FeatureConfig
from genre.features.descriptors import frame_descriptors, stft_magnitude
from genre.features.handcrafted import HandcraftedExtractor
from tests.conftest import tone

librosa = pytest.importorskip("librosa")


# -- one sample rate: config.sr ---------------------------------------------------------


def test_a_waveform_at_another_rate_than_the_config_is_refused_naming_both():
    # It used to run and place segments at [0, 1.5, 3, 4.5] s for a 6 s clip at 44100 Hz.
    y = tone(6.0, sr=44100)
    extractor = HandcraftedExtractor()
    with pytest.raises(ParameterError, match=r"sr=44100 Hz.*config\.sr=22050 Hz"):
        extractor.extract_waveform(y=y, sr=44100)
    with pytest.raises(ParameterError, match=r"sr=44100 Hz.*config\.sr=22050 Hz"):
        extractor.segments(y=y, sr=44100)


def test_a_config_at_the_waveform_rate_places_segments_in_seconds():
    config = FeatureConfig(sr=44100, segment_seconds=1.5)
    features = HandcraftedExtractor(config).extract_waveform(y=tone(6.0, sr=44100), sr=44100)
    np.testing.assert_array_equal(features.starts, [0.0, 1.5, 3.0, 4.5])
    assert features.values.shape == (4, len(config.feature_columns()))


def test_frame_descriptors_take_the_rate_from_the_config_only():
    sr = 16000
    y = tone(3.0, sr=sr)
    frames, _ = frame_descriptors(y=y, config=FeatureConfig(sr=sr))
    row = FeatureConfig().frame_feature_names().index("spectral_centroid")
    np.testing.assert_allclose(frames[row], librosa.feature.spectral_centroid(y=y, sr=sr)[0], rtol=1e-5)
    with pytest.raises(TypeError):
        frame_descriptors(y=y, sr=sr, config=FeatureConfig(sr=sr))  # no second source for the rate


# -- frame_descriptors: waveform needed, a shared S used as given -------------------------


def test_frame_descriptors_with_a_shared_stft_equal_those_without():
    config = FeatureConfig()
    y = tone(4.0)
    S = stft_magnitude(y=y, n_fft=config.n_fft, hop_length=config.hop_length)
    with_s, onset_s = frame_descriptors(y=y, S=S, config=config)
    without, onset = frame_descriptors(y=y, config=config)
    np.testing.assert_array_equal(with_s, without)
    np.testing.assert_array_equal(onset_s, onset)


def test_frame_descriptors_need_the_waveform_even_with_s():
    config = FeatureConfig()
    S = stft_magnitude(y=tone(2.0), n_fft=config.n_fft, hop_length=config.hop_length)
    with pytest.raises(ParameterError, match="zero-crossing rate"):
        frame_descriptors(S=S, config=config)
    with pytest.raises(ParameterError, match="needs the waveform"):
        frame_descriptors(config=config)


def test_frame_descriptors_refuse_an_s_that_is_not_the_stft_of_y():
    config = FeatureConfig()
    y = tone(2.0)
    other_clip = stft_magnitude(y=tone(3.0), n_fft=config.n_fft, hop_length=config.hop_length)
    with pytest.raises(ParameterError, match="S has shape"):
        frame_descriptors(y=y, S=other_clip, config=config)
    other_fft = stft_magnitude(y=y, n_fft=1024, hop_length=config.hop_length)
    with pytest.raises(ParameterError, match="n_fft=2048"):
        frame_descriptors(y=y, S=other_fft, config=config)


# -- layering: genre.data never imports genre.features ---------------------------------------


def test_importing_genre_data_does_not_import_genre_features():
    code = (
        "import sys, genre.data, genre.data.fma, genre.data.folder, genre.data.manifest, genre.data.formats; "
        "print(sorted(m for m in sys.modules if m.startswith('genre.features')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_audio_extensions_live_in_genre_data_and_the_decoder_uses_them(tmp_path):
    from genre.data.formats import AUDIO_EXTENSIONS, is_audio_path
    from genre.errors import AudioError
    from genre.features.audio import load_audio

    assert is_audio_path("a/B.WAV") and is_audio_path("x.mp3") and not is_audio_path("notes.txt")
    assert ".flac" in AUDIO_EXTENSIONS
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    with pytest.raises(AudioError, match="unsupported format '.txt'"):
        load_audio(text)


# -- musicnn front end: keyword-only like the rest ---------------------------------------------


def test_musicnn_log_mel_takes_the_waveform_by_keyword():
    from genre.features.musicnn import HOP_LENGTH, N_MELS, SR, log_mel

    y = tone(1.0, sr=SR)
    mel = log_mel(y=y)
    assert mel.shape == (1 + y.size // HOP_LENGTH, N_MELS) and mel.dtype == np.float32
    with pytest.raises(TypeError):
        log_mel(y)


@pytest.mark.parametrize(
    ("waveform", "message"),
    [
        (np.zeros((2, 22050 * 4), dtype=np.float32), r"1-D mono waveform, got shape \(2, 88200\)"),
        (np.zeros((22050 * 4, 2), dtype=np.float32), r"1-D mono waveform, got shape \(88200, 2\)"),
        ([0.1] * 22050 * 4, "numpy array .*got list"),
        (np.zeros(22050 * 4, dtype=np.int16), "floating-point samples .*int16"),
    ],
)
def test_extract_waveform_refuses_what_is_not_a_mono_float_waveform(waveform, message):
    with pytest.raises(ParameterError, match=message):
        HandcraftedExtractor().extract_waveform(y=waveform, sr=22050)
