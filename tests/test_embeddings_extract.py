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


def test_silent_patches_give_no_rows_as_silent_segments_do(tmp_path):
    import numpy as np
    import soundfile as sf

    from genre.errors import AudioError
    from genre.features.embeddings import MusicnnExtractor
    from tests.conftest import tone

    sr = 16000
    # Patches of 2.992 s every 2.992 s: the second lies wholly in the silence from 2.5 s to 8.5 s.
    clip = np.concatenate([tone(2.5, sr=sr), np.zeros(6 * sr, np.float32), tone(3.5, sr=sr)])
    sf.write(tmp_path / "clip.wav", clip, sr)
    rows = MusicnnExtractor().extract_file(tmp_path / "clip.wav")
    assert rows.segment_numbers().tolist() == [0, 2, 3] and rows.silent_segments == 1
    assert rows.starts.tolist() == [0.0, 5.984, 8.976] and rows.native_sr == sr
    # Sound only in the remainder shorter than a patch: silent, as a whole.
    sf.write(tmp_path / "tail.wav", np.concatenate([np.zeros(6 * sr, np.float32), tone(0.5, sr=sr)]), sr)
    with pytest.raises(AudioError, match="each of its 2 patches has an RMS below"):
        MusicnnExtractor().extract_file(tmp_path / "tail.wav")
