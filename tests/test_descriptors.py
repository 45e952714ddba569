"""Each descriptor, computed from one shared STFT, equals librosa's own function on the waveform."""

from __future__ import annotations

import numpy as np
import pytest

from genre.errors import ParameterError
from genre.features.audio import load_audio
from genre.features.config import FeatureConfig
from genre.features.descriptors import delta_frames, frame_descriptors, segment_bounds, summarise
from tests.conftest import tone

librosa = pytest.importorskip("librosa")


def _reference_frames(y: np.ndarray, sr: int) -> dict[str, np.ndarray]:
    """What a user gets calling librosa per descriptor (each call its own STFT)."""
    chroma = librosa.feature.chroma_stft(y=y, sr=sr)
    return {
        "chroma": chroma,
        "rms": librosa.feature.rms(y=y),
        "spectral_centroid": librosa.feature.spectral_centroid(y=y, sr=sr),
        "spectral_bandwidth": librosa.feature.spectral_bandwidth(y=y, sr=sr),
        "spectral_rolloff": librosa.feature.spectral_rolloff(y=y, sr=sr),
        "spectral_contrast": librosa.feature.spectral_contrast(y=y, sr=sr),
        "spectral_flatness": librosa.feature.spectral_flatness(y=y),
        "zero_crossing_rate": librosa.feature.zero_crossing_rate(y),
        "tonnetz": librosa.feature.tonnetz(y=y, sr=sr, chroma=chroma),
        "mfcc": librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20),
    }


def _check_against_librosa(y: np.ndarray, sr: int) -> None:
    config = FeatureConfig(sr=sr)
    frames, onset = frame_descriptors(y=y, config=config)
    reference = _reference_frames(y, sr)
    assert list(reference) == list(config.descriptor_sizes())
    row = 0
    for name, expected in reference.items():
        got = frames[row : row + expected.shape[0]]
        row += expected.shape[0]
        assert got.shape == expected.shape, name
        scale = max(float(np.abs(expected).max()), 1e-12)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 * scale, err_msg=name)
    assert row == frames.shape[0] == len(config.frame_feature_names())
    np.testing.assert_allclose(
        onset, librosa.onset.onset_strength(y=y, sr=sr), rtol=1e-4, atol=1e-4, err_msg="onset envelope"
    )


def test_descriptors_match_librosa_on_a_synthetic_tone():
    _check_against_librosa(tone(5.0), 22050)


@pytest.mark.parametrize("clip", ["blues/blues.00000.wav", "classical/classical.00003.wav", "metal/metal.00007.wav"])
def test_descriptors_match_librosa_on_real_gtzan_clips(gtzan_mini, clip):
    y, sr = load_audio(gtzan_mini / clip, sr=22050)
    _check_against_librosa(y, sr)


def test_silent_frames_give_zero_centroid_like_librosa():
    y = np.concatenate([np.zeros(22050, dtype=np.float32), tone(2.0)])
    frames, _ = frame_descriptors(y=y, config=FeatureConfig(sr=22050))
    centroid = librosa.feature.spectral_centroid(y=y, sr=22050)[0]
    np.testing.assert_allclose(frames[13], centroid, atol=1e-3)
    assert np.all(frames[13][:10] == 0)


def test_segment_bounds_cover_whole_segments_only():
    config = FeatureConfig(segment_seconds=3.0)
    bounds = segment_bounds(n_samples=int(10.5 * 22050), config=config)
    assert [b[0] for b in bounds] == [0, 66150, 132300]
    assert all(stop - first == pytest.approx(129, abs=1) for _, first, stop in bounds)
    whole = segment_bounds(n_samples=22050 * 7, config=FeatureConfig(segment_seconds=0))
    assert whole == [(0, 0, 1 + 22050 * 7 // 512)]


def test_summary_is_mean_and_std_per_segment():
    config = FeatureConfig(segment_seconds=3.0)
    rng = np.random.default_rng(1)
    frames = rng.standard_normal((3, 400))
    bounds = segment_bounds(n_samples=400 * 512, config=config)
    summary = summarise(frames, bounds=bounds, config=config)
    deltas = delta_frames(frames)
    _, first, stop = bounds[1]
    expected_row0 = [frames[0, first:stop].mean(), frames[0, first:stop].std(),
                     deltas[0, first:stop].mean(), deltas[0, first:stop].std()]
    np.testing.assert_allclose(summary[1, :4], expected_row0)
    assert summary.shape == (len(bounds), 3 * 2 * 2)


def test_delta_of_a_very_short_clip_uses_a_narrower_window():
    frames = np.arange(10.0).reshape(2, 5)
    np.testing.assert_allclose(delta_frames(frames), np.ones((2, 5)))
    assert np.all(delta_frames(np.ones((1, 2))) == 0)


def test_feature_names_are_unique_and_say_std():
    columns = FeatureConfig().feature_columns()
    assert len(columns) == len(set(columns))
    assert "mfcc_20_delta_std" in columns and "chroma_12_mean" in columns and "rms_std" in columns
    assert not any(c.endswith("_var") for c in columns)
    assert columns[-1] == "tempo_bpm"


@pytest.mark.parametrize(
    "kwargs",
    [{"sr": 100}, {"n_fft": 1000}, {"hop_length": 0}, {"segment_seconds": -1}, {"segment_seconds": 0.01},
     {"n_mfcc": 500}, {"statistics": ("median",)}],
)
def test_bad_configuration_raises_parameter_error(kwargs):
    with pytest.raises(ParameterError):
        FeatureConfig(**kwargs)


def test_config_round_trips_through_a_dict():
    config = FeatureConfig(segment_seconds=0, n_mfcc=13)
    assert FeatureConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ParameterError, match="unknown"):
        FeatureConfig.from_dict({**config.to_dict(), "bogus": 1})


def test_segments_refuse_and_place_rows_as_the_extractor_does():
    from genre.errors import AudioError
    from genre.features.handcrafted import HandcraftedExtractor

    config = FeatureConfig(segment_seconds=1.0)
    extractor = HandcraftedExtractor(config)
    y = tone(2.5, sr=config.sr)
    bounds, starts = extractor.segments(y=y, sr=config.sr)
    assert bounds == segment_bounds(n_samples=y.size, config=config)
    np.testing.assert_array_equal(starts, [0.0, 1.0])
    np.testing.assert_array_equal(extractor.extract_waveform(y=y, sr=config.sr).starts, starts)
    with pytest.raises(AudioError, match="^clip.wav: too short"):
        extractor.segments(y=y[: config.sr // 2], sr=config.sr, path="clip.wav")
    with pytest.raises(AudioError, match="^clip.wav: silent"):
        extractor.segments(y=np.zeros_like(y), sr=config.sr, path="clip.wav")


def test_the_extractor_and_the_segment_rows_of_audio_models_share_one_segmenter(tmp_path, monkeypatch):
    """Whatever segments decides, both follow it: the two can never drift apart."""
    import soundfile as sf

    from genre.classifiers.prediction import _SegmentStarts
    from genre.features.handcrafted import HandcraftedExtractor

    config = FeatureConfig(segment_seconds=1.0)
    path = tmp_path / "clip.wav"
    sf.write(path, tone(3.0, sr=config.sr), config.sr)
    real = HandcraftedExtractor.segments

    def shifted(self, *, y, sr, path="<waveform>"):  # another rule: every segment starts 0.5 s later
        bounds, starts = real(self, y=y, sr=sr, path=path)
        return bounds, starts + 0.5

    monkeypatch.setattr(HandcraftedExtractor, "segments", shifted)
    np.testing.assert_array_equal(HandcraftedExtractor(config).extract_file(path).starts, [0.5, 1.5, 2.5])
    np.testing.assert_array_equal(_SegmentStarts(config=config).extract_file(path).starts, [0.5, 1.5, 2.5])
