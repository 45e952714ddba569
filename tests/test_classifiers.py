"""Registered models behave as scikit-learn classifiers: clone, params, pipelines, searches."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from genre.classifiers.registry import ModelSpec, available_models, get_spec, make_model, register
from genre.errors import ParameterError

LABELS = np.array(["blues", "jazz", "metal"])
#: Models whose X is a numeric feature matrix (others read audio or embedding tables).
FEATURE_MODELS = [name for name in available_models() if get_spec(name).input == "features"]

#: Settings that keep each model's fit well under a second on 90 rows.
FAST = {
    "dense": {"model__max_epochs": 40, "model__hidden_units": (32, 16), "model__batch_size": 16},
    "random-forest": {"model__n_estimators": 30},
    "xgboost": {"model__n_estimators": 20},
    "ensemble": {"dense__model__max_epochs": 20, "dense__model__batch_size": 16, "xgboost__model__n_estimators": 20},
}


def small_model(name: str):
    return make_model(name, random_state=0).set_params(**FAST.get(name, {}))


@pytest.fixture(scope="module")
def data():
    """90 rows, 5 features, 3 well-separated string-labelled classes."""
    rng = np.random.default_rng(0)
    y = LABELS[np.repeat(np.arange(3), 30)]
    X = rng.normal(size=(90, 5))
    X[:, 0] += 3.0 * (y == "jazz")
    X[:, 1] += 3.0 * (y == "metal")
    X[:, 2] = X[:, 2] * 50 + 200  # a badly scaled feature: models must scale their inputs
    return X, y


def test_builtin_models_are_registered():
    assert {"dense", "svm", "xgboost", "logreg", "lda", "knn", "random-forest"} <= set(available_models())
    for name in available_models():
        spec = get_spec(name)
        assert spec.name == name and spec.description
        assert isinstance(spec.parallel_folds, bool)
    assert get_spec("cnn").parallel_folds is False and get_spec("xgboost").parallel_folds is True


def test_registry_import_is_light():
    # The registry and every built-in model module import without TensorFlow or XGBoost.
    code = (
        "import sys; from genre.classifiers.registry import available_models, make_model; available_models(); "
        "[make_model(n) for n in available_models()]; "
        "assert 'tensorflow' not in sys.modules and 'xgboost' not in sys.modules, sorted(sys.modules)"
    )
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_model_names_the_available_ones():
    with pytest.raises(ParameterError, match="unknown model 'nope'.*dense.*svm"):
        make_model("nope")
    with pytest.raises(ParameterError, match="does not accept"):
        make_model("svm", not_a_parameter=1)


def test_register_plugs_in_a_model_without_editing_anything():
    @register
    class Nearest(ModelSpec):
        name = "test-nearest-centroid"
        description = "nearest centroid (test plug-in)"
        parallel_folds = True

        def build(self, *, random_state=0, n_jobs=1, **params):
            from sklearn.neighbors import NearestCentroid

            return NearestCentroid(**params)

    try:
        assert "test-nearest-centroid" in available_models()
        assert type(make_model("test-nearest-centroid")).__name__ == "NearestCentroid"
        with pytest.raises(TypeError, match="already registered"):

            @register
            class Other(ModelSpec):
                name = "test-nearest-centroid"

    finally:
        from genre.classifiers import registry

        registry._REGISTRY.pop("test-nearest-centroid", None)
    with pytest.raises(TypeError):
        register(int)


@pytest.mark.parametrize("name", FEATURE_MODELS)
def test_model_is_a_sklearn_classifier(name, data):
    X, y = data
    model = small_model(name)
    params = model.get_params()
    twin = clone(model)
    assert twin.get_params().keys() == params.keys()
    assert not hasattr(twin, "classes_")

    fitted = model.fit(X, y)
    assert fitted is model
    assert list(model.classes_) == list(LABELS)
    proba = model.predict_proba(X)
    assert proba.shape == (90, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    predicted = model.predict(X)
    assert set(predicted) <= set(LABELS)
    assert np.mean(predicted == y) > 0.8
    # The clone made before fitting is still unfitted and independent.
    assert not hasattr(twin, "classes_")


@pytest.mark.parametrize("name", ["logreg", "lda", "knn", "svm", "xgboost"])
def test_model_cross_validates(name, data):
    X, y = data
    scores = cross_val_score(small_model(name), X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0))
    assert scores.mean() > 0.7


@pytest.mark.parametrize(
    "name, grid",
    [
        ("svm", {"model__C_grid": [(1.0,), (10.0,)]}),
        ("xgboost", {"model__max_depth": [2, 3]}),
        ("dense", {"model__dropout": [0.0, 0.3]}),
    ],
)
def test_model_grid_searches(name, grid, data):
    X, y = data
    search = GridSearchCV(small_model(name), grid, cv=StratifiedKFold(2, shuffle=True, random_state=0))
    search.fit(X, y)
    assert search.best_params_.keys() == grid.keys()
    assert list(search.classes_) == list(LABELS)


def test_svm_tunes_on_training_rows_only(data):
    X, y = data
    model = make_model("svm", C_grid=(0.1, 10.0), gamma_grid=("scale", 0.01)).fit(X, y)
    best = model.named_steps["model"].best_params_
    assert best["C"] in (0.1, 10.0) and best["gamma"] in ("scale", 0.01)
    # Predictions agree with the most probable class (one calibrated SVC, not an ensemble).
    np.testing.assert_array_equal(model.predict(X), LABELS[model.predict_proba(X).argmax(axis=1)])


def test_svm_kernel_is_searched_with_its_own_parameters(data):
    from genre.classifiers.svm import TunedSVC

    X, y = data
    model = make_model("svm", kernels=("linear", "rbf"), C_grid=(0.1, 10.0)).fit(X, y)
    best = model.named_steps["model"].best_params_
    # gamma belongs to the RBF candidates only; a linear choice carries none.
    assert best["kernel"] in ("linear", "rbf") and ("gamma" in best) == (best["kernel"] == "rbf")
    assert model.named_steps["model"].model_.estimator.kernel == best["kernel"]
    assert make_model("svm").named_steps["model"].kernels == ("rbf",)  # handcrafted default unchanged
    assert get_spec("musicnn-svm").build().named_steps["model"].kernels == ("linear", "rbf")
    with pytest.raises(ParameterError, match="kernels"):
        TunedSVC(kernels=("poly",)).fit(X, y)


def test_group_fit_params_reach_pipelines_and_bare_estimators():
    from genre.classifiers.cnn import MelCNNClassifier
    from genre.classifiers.training import group_fit_params

    groups = np.array(["a", "a", "b"])
    assert set(group_fit_params(make_model("svm"), groups)) == {"model__groups"}
    assert set(group_fit_params(MelCNNClassifier(), groups)) == {"groups"}
    assert group_fit_params(make_model("logreg"), groups) == {}


def test_dense_is_deterministic_and_early_stops(data):
    X, y = data
    a = small_model("dense").set_params(model__max_epochs=40, model__patience=3).fit(X, y)
    b = small_model("dense").set_params(model__max_epochs=40, model__patience=3).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-5, atol=1e-6)
    net = a.named_steps["model"]
    assert 1 <= net.best_epoch_ <= net.n_epochs_ <= 40
    assert set(net.history_) == {"loss", "val_loss", "val_accuracy"}
    other = small_model("dense").set_params(model__random_state=1).fit(X, y)
    assert not np.allclose(other.predict_proba(X), a.predict_proba(X))


def test_dense_groups_keep_tracks_together(data):
    from genre.classifiers.keras_training import inner_split

    X, y = data
    groups = np.repeat(np.arange(30), 3)  # three "segments" per track
    train, val = inner_split(np.unique(y, return_inverse=True)[1], groups, fraction=0.15, seed=0)
    assert not set(groups[train]) & set(groups[val])


@pytest.mark.parametrize("segments", [1, 3])
def test_dense_early_stops_on_as_many_parts_as_a_small_table_allows(segments):
    from genre.classifiers.keras_training import inner_split

    # 4 classes of 6 tracks: scikit-learn refuses the 7 parts that validation_fraction=0.15 asks for
    # when every class has fewer rows; 6 parts hold out one track per class.
    codes = np.repeat(np.arange(4), 6 * segments)
    tracks = np.repeat(np.arange(24), segments)
    train, val = inner_split(codes, tracks, fraction=0.15, seed=0)
    assert val is not None and not set(tracks[train]) & set(tracks[val])
    assert set(codes[train]) == {0, 1, 2, 3}
    if segments == 1:
        assert sorted(codes[val]) == [0, 1, 2, 3]


def test_dense_early_stopping_keeps_a_single_track_class_in_training():
    from genre.classifiers.keras_training import inner_split

    # Class 2 is one track of three segments (a small cross-validation fold); any part holding
    # it out would train without the class.
    codes = np.array([0] * 5 + [1] * 5 + [2] * 3)
    tracks = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10])
    for seed in range(10):
        train, val = inner_split(codes, tracks, fraction=0.3, seed=seed)
        assert val is not None and set(codes[train]) == {0, 1, 2} and 10 not in tracks[val]


def test_dense_trains_without_validation_when_no_split_keeps_every_class(data):
    from genre.classifiers.keras_training import inner_split

    X, y = data
    codes = np.unique(y, return_inverse=True)[1]
    # One "track" per class: holding any out empties its class.
    train, val = inner_split(codes, codes, fraction=0.15, seed=0)
    assert val is None and len(train) == len(codes)
    net = small_model("dense").set_params(model__max_epochs=7).fit(X, y, model__groups=codes).named_steps["model"]
    assert "val_loss" not in net.history_ and net.n_epochs_ == net.best_epoch_ == 7


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("batch_size", 0, r"batch_size must be an integer >= 1, got 0$"),
        ("batch_size", -3, r"batch_size must be an integer >= 1, got -3$"),
        ("batch_size", 2.5, "batch_size must be an integer"),
        ("batch_size", True, "batch_size must be an integer"),
        ("max_epochs", 0, "max_epochs must be an integer"),
        ("patience", 0, "patience must be an integer"),
        ("random_state", -1, "random_state must be an integer"),
        ("dropout", 1.0, r"dropout must be a number in \[0, 1\), got 1\.0$"),
        ("dropout", float("nan"), "dropout must be a number"),
        ("l2", -1e-4, "l2 must be a number"),
        ("learning_rate", 0, r"learning_rate must be a number > 0, got 0$"),
        ("validation_fraction", 1.0, "validation_fraction must be a number"),
        ("hidden_units", 0, "hidden_units must be positive integers, one per layer"),  # 64 is one layer of 64
        ("hidden_units", (32, 0), "hidden_units must be positive integers, one per layer"),
        ("hidden_units", "64", "hidden_units must be positive integers, one per layer"),
        ("hidden_units", (), "hidden_units is empty"),
        ("class_weight", "even", "class_weight must be 'balanced', a dict or None"),
    ],
)
def test_dense_refuses_bad_hyper_parameters_at_fit_naming_them(data, name, value, expected):
    from genre.classifiers.dense import DenseNetClassifier

    X, y = data
    model = clone(DenseNetClassifier(**{name: value}))  # __init__ only stores, as scikit-learn wants
    with pytest.raises(ParameterError, match=rf"^dense network: {expected}"):
        model.fit(X, y)


def test_dense_accepts_numpy_hyper_parameters(data):
    X, y = data
    params = {"model__batch_size": np.int64(32), "model__max_epochs": np.int32(2), "model__dropout": np.float32(0.2),
              "model__hidden_units": np.array([8, 4])}  # fmt: skip
    small_model("dense").set_params(**params).fit(X, y)


def test_one_class_is_refused(data):
    X, _ = data
    with pytest.raises(ValueError, match="one class"):
        small_model("xgboost").fit(X, np.full(len(X), "jazz"))


def test_an_ensembles_fit_details_are_its_members_under_their_names():
    from sklearn.datasets import make_classification

    from genre.classifiers.registry import make_model
    from genre.classifiers.training import fit_details

    X, y = make_classification(n_samples=90, n_features=6, n_informative=4, n_classes=3, random_state=0)
    ensemble = make_model("ensemble", random_state=0, members=["svm", "logreg"]).fit(X, y.astype(str))
    details = fit_details(ensemble)
    assert set(details["svm.best_params"]) >= {"C"} and details["svm.tuning_folds"] >= 2
    assert not any(key.startswith("logreg.") for key in details)  # it chose nothing
    assert fit_details(make_model("logreg").fit(X, y)) == {}
