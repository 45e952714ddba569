"""Settings that cannot work are refused before any file is decoded; odd clips raise no library warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from genre.cli import app
from genre.errors import ParameterError
from genre.features.config import FeatureConfig, contrast_band_edges
from genre.features.handcrafted import HandcraftedExtractor


@pytest.mark.parametrize("sr", [4000, 8000, 11025, 12800])
def test_a_sample_rate_too_low_for_the_contrast_bands_is_refused(sr):
    with pytest.raises(ParameterError, match=rf"sr={sr}: .* above 12800 Hz"):
        FeatureConfig(sr=sr)


def test_fewer_contrast_bands_allow_a_lower_sample_rate():
    FeatureConfig(sr=8000, n_contrast_bands=4)  # bands start up to 1600 Hz < 4000 Hz
    FeatureConfig(sr=16000)
    np.testing.assert_array_equal(contrast_band_edges(sr=22050, n_bands=2), [0, 200, 400, 800])
    with pytest.raises(ParameterError, match="above 6400 Hz"):
        FeatureConfig(sr=4000, n_contrast_bands=5)  # bands start up to 3200 Hz > 2000 Hz


def test_extract_refuses_the_sample_rate_before_decoding(tmp_path, write_wav):
    write_wav(tmp_path / "audio" / "blues" / "a.wav", 2.0)
    result = CliRunner().invoke(app, ["extract", str(tmp_path / "audio"), "-o", str(tmp_path / "f.csv"), "--sr", "11025"])
    assert result.exit_code == 2, result.output
    assert "above the Nyquist frequency 5512.5 Hz" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "f.csv").exists() and not list(tmp_path.glob("f.csv*"))


@pytest.mark.parametrize("level", [0.0, 0.3])
def test_a_constant_clip_raises_no_library_warning(tmp_path, level):
    import soundfile as sf

    path = tmp_path / "dc.wav"
    y = np.full(22050 * 5, level, dtype=np.float32)
    y[::2] += 0.02  # loud enough not to be rejected as silence, but no pitched bin
    sf.write(path, y, 22050)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            HandcraftedExtractor().extract_file(path)
        except ParameterError:
            raise
        except Exception as exc:  # a clean AudioError (e.g. "silent") is fine; a warning is not
            assert not isinstance(exc, Warning), exc
