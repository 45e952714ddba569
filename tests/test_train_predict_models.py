"""`genre train` / `genre predict` with models that do not read handcrafted features, and
`genre train` on tables too small or parameters too odd for a model.

The CNN models read audio themselves; the musicnn models read pretrained embeddings.
Both must be saved safely and predict new audio files with the inputs they were
trained on, exactly as the fitted estimator did before it was saved. Small tables
must still train, and a library refusing a parameter must say so in one line.
"""

from __future__ import annotations

import traceback

import numpy as np
import pandas as pd
import pytest
from feature_tables import write_gtzan_table
from typer.testing import CliRunner

from genre.cli import app

runner = CliRunner()

#: A CNN small enough to train in a second or two on a busy CPU (as in test_cnn.py).
TINY_CNN = dict(filters=(4, 8), dense_units=8, n_mels=32, patch_frames=43, max_epochs=2, patience=1, batch_size=8)
PITCHES = {"low": (110.0, 140.0, 170.0, 200.0), "high": (1900.0, 2200.0, 2500.0, 2800.0)}


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    """A labelled folder of 3.5 s tones and its handcrafted table (1 s segments)."""
    from tests.conftest import tone_feature_table

    root = tmp_path_factory.mktemp("audio-models")
    features = tone_feature_table(root, PITCHES, seconds=3.5)
    return root, features


@pytest.fixture
def fresh_networks():
    from genre.classifiers.cnn import _FITTED

    _FITTED.clear()
    yield
    _FITTED.clear()


def test_cnn_round_trip_predicts_audio_like_the_fitted_network(tones, tmp_path, fresh_networks, monkeypatch):
    import genre.features.handcrafted
    from genre.classifiers.persistence import load_model
    from genre.classifiers.prediction import predict_files, predict_table
    from genre.classifiers.training import train_model

    root, features = tones
    result = train_model(features, model="cnn", output=tmp_path / "cnn.genre", params=TINY_CNN)
    assert result.can_predict_audio and result.n_features == 2  # path, start

    loaded = load_model(result.output)
    assert loaded.feature_columns == ["path", "start"] and loaded.labels == ["high", "low"]
    files = sorted(str(p) for p in (root / "audio").rglob("*.wav"))

    # The CNN needs only the segment starts of the table's layout: computing descriptors
    # for them would cost most of the prediction time (a file failing here would be skipped).
    def no_descriptors(**kwargs):
        raise AssertionError("descriptors computed to predict with a CNN")

    monkeypatch.setattr(genre.features.handcrafted, "frame_descriptors", no_descriptors)
    predicted = predict_files(result.output, files)
    assert predicted["path"].tolist() == files and not predicted.attrs["skipped"]

    # The same segments scored by the estimator that was never saved give the same numbers.
    table = pd.read_csv(features)
    proba = result.estimator.predict_proba(table[["path", "start"]])
    columns = [f"prob_{label}" for label in result.labels]
    expected = pd.DataFrame(proba, columns=columns).groupby(table["path"].to_numpy(), sort=False).mean()
    np.testing.assert_allclose(predicted[columns].to_numpy(), expected.loc[files].to_numpy(), rtol=1e-5, atol=1e-6)

    # From the table, the model reads the audio its rows name.
    from_table = predict_table(result.output, features)
    np.testing.assert_allclose(
        np.sort(from_table[columns].to_numpy(), axis=0), np.sort(predicted[columns].to_numpy(), axis=0), rtol=1e-5
    )


@pytest.mark.parametrize(
    "seconds, sr",
    [
        (0.5, 22050),  # shorter than one segment: refused alike
        (3.0, 22050),  # an exact multiple of the segment length
        (3.7, 22050),  # a remainder, dropped
        (2.9999, 44100),  # resampled: the length in samples at config.sr decides
        (None, 22050),  # digital silence: refused alike
    ],
)
def test_cnn_segment_starts_equal_the_extractors(tmp_path, write_wav, seconds, sr):
    import soundfile as sf

    from genre.classifiers.prediction import _SegmentStarts
    from genre.features.config import FeatureConfig
    from genre.features.extract import extract_or_reason
    from genre.features.handcrafted import HandcraftedExtractor

    if seconds is None:
        path = tmp_path / "silence.wav"
        sf.write(path, np.zeros(2 * sr, dtype=np.float32), sr)
    else:
        path = write_wav(tmp_path / "clip.wav", seconds, sr=sr, freq=330.0)
    for segment_seconds in (1.0, 0.7, 0.0):  # 0: one row per track
        config = FeatureConfig(segment_seconds=segment_seconds)
        expected, expected_reason = extract_or_reason(HandcraftedExtractor(config).extract_file, str(path))
        got, reason = extract_or_reason(_SegmentStarts(config=config).extract_file, str(path))
        assert reason == expected_reason
        if expected is None:
            assert got is None and ("too short" in reason or "silent" in reason)
        else:
            np.testing.assert_array_equal(got.starts, expected.starts)
            assert got.values.shape == (len(expected.starts), 0)


def test_cnn_svm_trains_and_predicts_from_the_cli(tones, tmp_path, write_wav, fresh_networks):
    import zipfile

    _, features = tones
    model = tmp_path / "cnn-svm.genre"
    result = invoke("train", features, "--model", "cnn-svm", "-o", model)
    assert result.exit_code == 0, result.output
    assert "trained cnn-svm" in result.output and "note:" not in result.output
    with zipfile.ZipFile(model) as archive:
        assert any(name.endswith(".keras") for name in archive.namelist())

    new = write_wav(tmp_path / "new" / "tone.wav", 3.5, freq=2400.0, seed=5)
    short = write_wav(tmp_path / "new" / "short.wav", 0.2, freq=300.0, seed=6)
    out = tmp_path / "predictions.csv"
    result = invoke("predict", model, new, short, "-o", out)
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "short.wav" in result.output and "Traceback" not in result.output
    table = pd.read_csv(out)
    assert table["path"].tolist() == [str(new)]
    assert np.isclose(table[["prob_high", "prob_low"]].sum(axis=1), 1.0).all()


def test_cnn_needs_a_table_with_audio_paths(tmp_path):
    from genre.classifiers.training import train_model
    from genre.errors import DataError

    csv = tmp_path / "external.csv"
    pd.DataFrame({"filename": [f"t{i}.wav" for i in range(6)], "f": range(6), "label": ["a", "b"] * 3}).to_csv(
        csv, index=False
    )
    with pytest.raises(DataError, match="needs audio paths"):
        train_model(csv, model="cnn", output=tmp_path / "m.genre")


@pytest.fixture(scope="module")
def musicnn_table(tones):
    pytest.importorskip("musicnn", reason="musicnn (pretrained weights) is installed with pip install --no-deps musicnn==0.1.0")
    root, _ = tones
    table = root / "musicnn.csv"
    result = invoke("extract", root / "audio", "-o", table, "--embeddings", "musicnn", "--jobs", "1")
    assert result.exit_code == 0, result.output
    return root, table


@pytest.mark.parametrize("name", ["musicnn-svm", "musicnn-logreg"])
def test_musicnn_model_predicts_from_audio(musicnn_table, tmp_path, name):
    from genre.classifiers.prediction import predict_files, predict_table

    root, table = musicnn_table
    model = tmp_path / f"{name}.genre"
    result = invoke("train", table, "--model", name, "-o", model)
    assert result.exit_code == 0, result.output
    assert "note:" not in result.output  # the embedding configuration is stored: audio works

    files = sorted(str(p) for p in (root / "audio").rglob("*.wav"))
    from_audio = predict_files(model, files)
    from_table = predict_table(model, table)
    columns = ["prob_high", "prob_low"]
    # Embeddings recomputed from audio give the probabilities of the table's rows. The table
    # keeps 8 significant digits, and standardising near-constant activations of pure tones
    # magnifies that rounding, hence the loose tolerance.
    expected = from_table.set_index("path").loc[files]  # the table names each track's audio path
    np.testing.assert_allclose(from_audio[columns].to_numpy(), expected[columns].to_numpy(), atol=2e-3)
    assert (from_audio["genre"].to_numpy() == [p.split("/")[-2] for p in files]).all()


def test_musicnn_model_refuses_a_handcrafted_table(tones, tmp_path):
    from genre.classifiers.training import train_model
    from genre.errors import ParameterError

    _, features = tones
    with pytest.raises(ParameterError, match="reads musicnn input"):
        train_model(features, model="musicnn-svm", output=tmp_path / "m.genre")


# -- small tables, refused parameters ------------------------------------------------------------
def test_dense_trains_on_six_tracks_per_class_with_early_stopping(tmp_path):
    # Fewer tracks per class than the 7 parts validation_fraction=0.15 asks for.
    table = write_gtzan_table(tmp_path / "six.csv", tracks_per_class=6)
    result = invoke("train", table, "-m", "dense", "-o", tmp_path / "six.genre")
    assert result.exit_code == 0, result.output
    assert "trained dense on 24 rows" in result.output

    from genre.classifiers.training import train_model

    trained = train_model(table, model="dense", output=tmp_path / "again.genre", params={"max_epochs": 5})
    assert len(trained.estimator.named_steps["model"].history_["val_loss"]) == 5  # early-stopped on a split


@pytest.mark.parametrize(
    "model, params, reason",
    [
        # TensorFlow's InvalidArgumentError (an OpError, not a ValueError), without its op names.
        ("dense", {"hidden_units": (2**62,)}, r"Shape \[6,\d+\] would have more than 2\*\*63 - 1 elements"),
        # XGBoost follows this line with help on the parameter.
        ("xgboost", {"subsample": 1.5}, r"value 1\.5 for Parameter subsample exceed bound \[0,1\]"),
    ],
)
def test_library_refusals_in_train_are_one_line(tmp_path, model, params, reason):
    from genre.classifiers.training import train_model
    from genre.errors import ParameterError

    table = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=3)
    with pytest.raises(ParameterError, match=rf"^cannot fit model '{model}' on .*t\.csv: {reason}$") as caught:
        train_model(table, model=model, output=tmp_path / "m.genre", params=params)
    # Nor does a Python caller get the library's traceback chained to it.
    shown = "".join(traceback.format_exception(caught.value))
    assert "tensorflow" not in shown and "xgboost/core.py" not in shown


def test_bad_dense_parameter_in_train_names_it(tmp_path):
    from genre.classifiers.training import train_model
    from genre.errors import ParameterError

    table = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=3)
    with pytest.raises(ParameterError, match=r"^dense network: batch_size must be an integer >= 1, got 0$"):
        train_model(table, model="dense", output=tmp_path / "m.genre", params={"batch_size": 0})
