"""`genre extract --embeddings musicnn`: per-patch embedding tables through the same engine."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from genre.cli import app
from genre.errors import ParameterError

pytest.importorskip("musicnn", reason="musicnn (pretrained weights) is installed with pip install --no-deps musicnn==0.1.0")


def test_cli_writes_a_musicnn_table_with_sidecar_and_skips(tmp_path, write_wav):
    root = tmp_path / "audio"
    write_wav(root / "a" / "one.wav", 6.5, freq=220)
    write_wav(root / "b" / "two.wav", 6.5, freq=880, sr=44100)
    write_wav(root / "b" / "short.wav", 1.0)
    out = tmp_path / "musicnn.csv"
    result = CliRunner().invoke(app, ["extract", str(root), "-o", str(out), "--embeddings", "musicnn", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["kind"] == "musicnn" and sidecar["config"]["model"] == "MSD_musicnn"
    assert sidecar["feature_columns"][0] == "musicnn_taggram_001"
    assert list(table.columns[:6]) == ["path", "track", "segment", "start", "label", "group"]
    assert len(table.columns) == 6 + 50 + 753 + 753
    assert table.groupby("track").size().to_dict() == {"a/one": 2, "b/two": 2}  # 2.992 s patches
    assert table["start"].tolist()[:2] == [0.0, 2.992]
    assert table["musicnn_taggram_001"].between(0, 1).all()
    assert "short.wav" in result.output and "too short" in result.output


def test_unknown_embedding_name_is_one_clear_error(tmp_path, write_wav):
    write_wav(tmp_path / "a" / "x.wav", 4.0)
    result = CliRunner().invoke(app, ["extract", str(tmp_path), "-o", str(tmp_path / "o.csv"), "--embeddings", "nope"])
    assert result.exit_code == 2 and "musicnn" in result.output and "Traceback" not in result.output


def test_unknown_layer_is_refused():
    from genre.features.embeddings import MusicnnExtractor

    with pytest.raises(ParameterError, match="no layer"):
        MusicnnExtractor(name="musicnn", layers=("pool5",))
