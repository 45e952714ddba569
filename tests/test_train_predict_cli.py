"""`genre train` and `genre predict` end to end, on audio and tables made by the tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from genre.cli import app

runner = CliRunner()

#: Two "genres" that differ in pitch region: any reasonable model separates them.
PITCHES = {"low": (110.0, 130.0, 150.0, 170.0, 190.0, 210.0), "high": (1800.0, 2000.0, 2200.0, 2400.0, 2600.0, 2800.0)}


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def audio_model(tmp_path_factory):
    """A folder of labelled tones, its feature table, and an SVM trained on it."""
    from tests.conftest import tone_feature_table

    root = tmp_path_factory.mktemp("train-predict")
    features = tone_feature_table(root, PITCHES, seconds=3.0)
    model = root / "svm.genre"
    result = invoke("train", features, "--model", "svm", "-o", model)
    assert result.exit_code == 0, result.output
    assert "trained svm on" in result.output and "note:" not in result.output
    return root, features, model


def test_predict_audio_files_and_folders(audio_model, write_wav, tmp_path):
    _, _, model = audio_model
    low = write_wav(tmp_path / "new" / "low.wav", 3.0, freq=160.0, seed=11)
    high = write_wav(tmp_path / "new" / "sub" / "high.wav", 3.0, freq=2300.0, seed=12)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt not really audio")
    output = tmp_path / "out" / "predictions.csv"

    result = invoke("predict", model, tmp_path / "new", broken, "-o", output)
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "broken.wav" in result.output
    assert "Traceback" not in result.output

    table = pd.read_csv(output)
    assert list(table.columns) == ["path", "genre", "probability", "prob_high", "prob_low"]
    assert table["path"].tolist() == [str(low), str(high)]  # folder contents, sorted
    assert table.set_index("path").loc[str(low), "genre"] == "low"
    assert table.set_index("path").loc[str(high), "genre"] == "high"
    np.testing.assert_allclose(table[["prob_high", "prob_low"]].sum(axis=1), 1.0, atol=1e-6)
    assert (table["probability"] >= 0.5).all()
    assert [p.name for p in output.parent.iterdir()] == ["predictions.csv"]  # atomic: no temporary left


def test_predict_matches_the_library(audio_model, write_wav, tmp_path):
    from genre.classifiers.prediction import predict_files

    _, _, model = audio_model
    clip = write_wav(tmp_path / "clip.wav", 3.0, freq=2100.0, seed=3)
    missing = tmp_path / "short.wav"
    write_wav(missing, 0.05)  # shorter than one segment
    predictions = predict_files(model, [clip, missing])
    assert predictions["genre"].tolist() == ["high"]
    assert [path for path, _ in predictions.attrs["skipped"]] == [str(missing)]


def test_predict_from_the_feature_table(audio_model, tmp_path):
    _, features, model = audio_model
    output = tmp_path / "table-predictions.csv"
    result = invoke("predict", model, features, "-o", output)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(output)
    assert len(table) == 12
    truth = table["path"].str.split("/").str[0]
    assert (table["genre"] == truth).mean() >= 0.9


def test_table_with_other_columns_is_refused(audio_model, tmp_path):
    _, features, model = audio_model
    frame = pd.read_csv(features)
    frame.drop(columns=[frame.columns[-1]]).to_csv(tmp_path / "fewer.csv", index=False)
    result = invoke("predict", model, tmp_path / "fewer.csv")
    assert result.exit_code == 2
    assert "lacks 1 feature column" in result.output


def test_external_table_model_cannot_predict_audio(write_wav, tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat(["rock", "pop"], 15)
    frame = pd.DataFrame(rng.normal(size=(30, 4)), columns=["a", "b", "c", "d"])
    frame["a"] += 3.0 * (labels == "rock")
    frame.insert(0, "filename", [f"clip{i:03d}.wav" for i in range(30)])
    frame["notes"] = "x"
    frame["genre_name"] = labels
    csv = tmp_path / "external.csv"
    frame.to_csv(csv, index=False)

    model = tmp_path / "logreg.genre"
    result = invoke("train", csv, "-m", "logreg", "-o", model, "--label-col", "genre_name", "--id-col", "filename",
                    "--drop", "d")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 features" in result.output and "note:" in result.output

    result = invoke("predict", model, write_wav(tmp_path / "a.wav"))
    assert result.exit_code == 2
    assert "cannot compute its inputs from audio" in result.output

    result = invoke("predict", model, csv, "-o", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "p.csv")) == 30


def test_user_errors_are_one_line(tmp_path, write_wav):
    result = invoke("train", tmp_path / "absent.csv", "-o", tmp_path / "m.genre")
    assert result.exit_code == 2 and "error:" in result.output

    csv = tmp_path / "t.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "label": ["a", "a", "b", "b"]}).to_csv(csv, index=False)
    result = invoke("train", csv, "-m", "no-such-model", "-o", tmp_path / "m.genre")
    assert result.exit_code == 2 and "available models" in result.output

    bogus = tmp_path / "bogus.genre"
    bogus.write_text("not a model")
    result = invoke("predict", bogus, write_wav(tmp_path / "a.wav"))
    assert result.exit_code == 2 and "not a zip" in result.output

    result = invoke("predict", bogus, tmp_path / "absent.wav")
    assert result.exit_code == 2 and "error:" in result.output
    assert "Traceback" not in result.output
