"""``extract`` / ``extract_to_csv`` from Python take the CLI's --sr, --segment-seconds and --embeddings."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from genre.cli import app
from genre.errors import ParameterError
from genre.features.config import FeatureConfig
from genre.features.extract import choose_extractor, extract, extract_to_csv
from genre.features.handcrafted import HandcraftedExtractor


def test_keywords_override_the_config_and_reach_the_table(tmp_path, write_wav):
    for label in ("blues", "jazz"):
        write_wav(tmp_path / "audio" / label / f"{label}.00000.wav", 4.0)
    whole = extract(tmp_path / "audio", sr=16000, segment_seconds=0, jobs=1)
    assert len(whole) == 2 and set(whole["label"]) == {"blues", "jazz"}
    report = extract_to_csv(tmp_path / "audio", tmp_path / "f.csv", segment_seconds=1.0, jobs=1)
    assert report.n_rows == 8  # 4 one-second segments per 4 s clip
    config = json.loads((tmp_path / "f.json").read_text())["config"]
    assert (config["sr"], config["segment_seconds"]) == (22050, 1.0)


def test_choose_extractor_puts_the_keywords_into_the_config():
    base = FeatureConfig(n_mfcc=13, segment_seconds=2.0)
    extractor = choose_extractor(config=base, sr=16000)
    assert isinstance(extractor, HandcraftedExtractor)
    assert extractor.config == FeatureConfig(n_mfcc=13, segment_seconds=2.0, sr=16000)
    assert choose_extractor().config == FeatureConfig()


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"embeddings": "musicnn", "sr": 16000}, "leave out --sr"),
        ({"embeddings": "musicnn", "segment_seconds": 0}, "leave out --segment-seconds"),
        ({"embeddings": "no-such-model"}, "choose one of musicnn"),
        ({"extractor": HandcraftedExtractor(FeatureConfig()), "sr": 16000}, "give the extractor alone"),
        ({"sr": 8000}, "above the Nyquist frequency"),
    ],
)
def test_mixed_or_bad_settings_are_refused(settings, message):
    with pytest.raises(ParameterError, match=message):
        choose_extractor(**settings)


def test_cli_refuses_sr_with_embeddings_before_reading_audio(tmp_path):
    missing = tmp_path / "no-such-folder"
    result = CliRunner().invoke(
        app, ["extract", str(missing), "-o", str(tmp_path / "e.csv"), "--embeddings", "musicnn", "--sr", "16000"]
    )
    assert result.exit_code == 2, result.output
    assert "leave out --sr" in result.output and "Traceback" not in result.output
