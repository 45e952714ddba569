"""Fitting a Keras model leaves the caller's global random state alone (the scikit-learn convention)."""

from __future__ import annotations

import random

import numpy as np
import pytest

X = np.random.default_rng(1).normal(size=(60, 5))
Y = np.repeat([0, 1, 2], 20)


def _next_draws() -> tuple[list[float], list[float]]:
    """The next three numbers of NumPy's and of Python's global generators."""
    return np.random.rand(3).tolist(), [random.random() for _ in range(3)]


def _draws_after(fit) -> tuple[list[float], list[float]]:
    """What the global generators give after ``fit()``, both seeded 12345 first."""
    np.random.seed(12345)
    random.seed(12345)
    fit()
    return _next_draws()


def _draws_without_fit() -> tuple[list[float], list[float]]:
    return _draws_after(lambda: None)


def test_dense_fit_keeps_the_global_random_state():
    from genre.classifiers.dense import DenseNetClassifier

    assert _draws_after(lambda: DenseNetClassifier(max_epochs=1, random_state=0).fit(X, Y)) == _draws_without_fit()


def test_dense_fits_with_one_seed_stay_identical():
    from genre.classifiers.dense import DenseNetClassifier

    def proba():
        return DenseNetClassifier(max_epochs=3, hidden_units=(16,), random_state=7).fit(X, Y).predict_proba(X)

    first = proba()
    np.random.seed(99)  # whatever the caller's generators hold, the seed alone decides
    np.testing.assert_array_equal(proba(), first)


def test_cnn_fit_keeps_the_global_random_state(tmp_path):
    from test_cnn import TINY, write_clips

    from genre.classifiers.cnn import _FITTED, MelCNNClassifier

    clips = write_clips(tmp_path / "audio", per_class=2)
    _FITTED.clear()  # a network cached by another test would skip the training under test

    def fit():
        MelCNNClassifier(**{**TINY, "max_epochs": 1}).fit(clips[["path", "start", "track"]], clips["label"])

    assert _draws_after(fit) == _draws_without_fit()


def test_seeded_restores_the_state_when_training_fails():
    from genre.classifiers.keras_training import seeded

    expected = _draws_without_fit()
    np.random.seed(12345)
    random.seed(12345)
    with pytest.raises(RuntimeError, match="training failed"):
        with seeded(0):
            assert np.random.rand() == np.random.RandomState(0).rand()  # seeded inside the block
            raise RuntimeError("training failed")
    assert _next_draws() == expected


def test_loading_a_network_keeps_the_global_random_state(tmp_path):
    from genre.classifiers.dense import DenseNetClassifier
    from genre.classifiers.persistence import load_model, save_model

    model = DenseNetClassifier(max_epochs=1, hidden_units=(8,)).fit(X, Y)
    path = save_model(
        tmp_path / "dense.genre",
        model,
        model_name="dense",
        feature_columns=[f"f{i}" for i in range(5)],
        labels=[str(c) for c in model.classes_],
        feature_config=None,
    )
    # Keras draws default seeds for the layers it rebuilds.
    assert _draws_after(lambda: load_model(path)) == _draws_without_fit()
