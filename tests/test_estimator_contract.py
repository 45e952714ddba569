"""Every registered model that reads a numeric table keeps scikit-learn's estimator contract.

Parametrised over the registry, so a newly registered model is checked without editing
this file: parameters (``get_params``/``set_params``/``clone``, ``__init__`` only
stores), fitting (returns self, fitted attributes, ``NotFittedError`` before ``fit``),
probabilities (shape, rows summing to one, columns in the order of ``classes_``,
``predict`` = ``classes_[argmax]``), composition (``make_pipeline``, ``GridSearchCV``),
label types (strings, integers) and model files (:mod:`genre.classifiers.persistence`).

Models whose ``X`` is not a numeric matrix (``input == "audio"``: the mel-spectrogram CNNs,
which read segment ids and audio) are left to ``tests/test_cnn.py``. The musicnn models
read embedding tables, which are numeric matrices, so they are checked here too.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from genre.classifiers.persistence import load_model, save_model
from genre.classifiers.registry import available_models, get_spec, make_model

#: Every registered model whose X is a numeric matrix (feature or embedding tables).
MODELS = [name for name in available_models() if get_spec(name).input != "audio"]

N_ROWS, N_FEATURES = 60, 8
COLUMNS = [f"f{i}" for i in range(N_FEATURES)]

#: Labels per class index, deliberately not in sorted order: the model must sort them
#: (``np.unique``), and integers numerically (2 < 7 < 10), not as text ("10" < "2").
LABELS = {
    "str": np.array(["metal", "blues", "jazz"]),
    "int": np.array([10, 2, 7]),
}

_DENSE_FAST = {"hidden_units": (8,), "max_epochs": 10, "batch_size": 64, "learning_rate": 0.03, "patience": 3}

#: The smallest settings that still learn the toy problem; models not named here use their defaults.
FAST: dict[str, dict] = {
    "dense": {f"model__{k}": v for k, v in _DENSE_FAST.items()},
    "random-forest": {"model__n_estimators": 10},
    "xgboost": {"model__n_estimators": 10},
    "svm": {"model__C_grid": (1.0, 10.0)},
    "musicnn-svm": {"model__C_grid": (1.0, 10.0), "model__gamma_grid": ("scale",)},
    "ensemble": {
        **{f"dense__model__{k}": v for k, v in _DENSE_FAST.items()},
        "xgboost__model__n_estimators": 10,
        "svm__model__C_grid": (1.0, 10.0),
    },
}

#: One parameter per model to search over (two candidates each).
GRIDS: dict[str, dict] = {
    "logreg": {"model__C": [0.1, 1.0]},
    "musicnn-logreg": {"model__C": [0.1, 1.0]},
    "knn": {"model__n_neighbors": [3, 5]},
    "svm": {"model__C_grid": [(1.0,), (10.0,)]},
    "musicnn-svm": {"model__C_grid": [(1.0,), (10.0,)]},
    "random-forest": {"model__max_depth": [2, None]},
    "xgboost": {"model__max_depth": [2, 3]},
    "dense": {"model__dropout": [0.0, 0.2]},
    "ensemble": {"weights": [None, [2.0, 1.0, 1.0]]},
}


def build(name: str):
    """A new, unfitted, fast instance of the registered model ``name``."""
    return make_model(name, random_state=0).set_params(**FAST.get(name, {}))


def grid_for(name: str, model) -> dict:
    """The search grid of ``name``; for a model not listed, its seed (or one parameter, unchanged)."""
    if name in GRIDS:
        return GRIDS[name]
    params = {k: v for k, v in model.get_params(deep=True).items() if not _holds_estimators(v)}
    seeds = [k for k in params if k.split("__")[-1] == "random_state"]
    if seeds:
        return {seeds[0]: [0, 1]}
    key = next(k for k, v in params.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool))
    return {key: [params[key]]}


def dataset(kind: str = "str"):
    """60 rows, 8 features, 3 well-separated classes labelled as ``LABELS[kind]``."""
    X, codes = make_classification(
        n_samples=N_ROWS,
        n_features=N_FEATURES,
        n_informative=5,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=0,
    )
    return X, LABELS[kind][codes]


def _is_estimator(value) -> bool:
    return hasattr(value, "get_params") and not isinstance(value, type)


def _holds_estimators(value) -> bool:
    """An estimator, or a ``steps``/``estimators`` list of ``(name, estimator)`` pairs."""
    if _is_estimator(value):
        return True
    return isinstance(value, (list, tuple)) and any(
        isinstance(item, tuple) and any(_is_estimator(part) for part in item) for item in value
    )


def _estimators_in(model) -> list:
    """``model`` and every estimator nested in its parameters (pipeline steps, ensemble members)."""
    found = [model]
    for value in model.get_params(deep=True).values():
        if _is_estimator(value) and all(value is not seen for seen in found):
            found.append(value)
    return found


def _init_params(cls) -> set[str]:
    import inspect

    init = vars(cls).get("__init__")
    if init is None or init is object.__init__:
        return set()
    return {p for p in inspect.signature(init).parameters if p != "self"}


def _final(model):
    """The estimator that makes the predictions: a pipeline's last step, else the model itself."""
    return model[-1] if isinstance(model, Pipeline) else model


def _same(a, b) -> bool:
    """Parameter values equal: estimators by type and parameters, arrays elementwise."""
    if _is_estimator(a) or _is_estimator(b):
        return type(a) is type(b) and _same(a.get_params(deep=False), b.get_params(deep=False))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return type(a) is type(b) and a == b


def _fitted_attributes(estimator) -> list[str]:
    return [k for k in vars(estimator) if k.endswith("_") and not k.startswith("_")]


_FITTED: dict[tuple[str, str], object] = {}


def fitted(name: str, kind: str = "str"):
    """A fitted fast instance of ``name`` on ``dataset(kind)``, fitted once per module."""
    if (name, kind) not in _FITTED:
        X, y = dataset(kind)
        _FITTED[name, kind] = build(name).fit(X, y)
    return _FITTED[name, kind]


# -- 1. parameters ----------------------------------------------------------------------------------
def test_every_numeric_model_is_covered():
    # The parametrisation follows the registry: the built-in numeric models are all here.
    assert {"logreg", "knn", "svm", "random-forest", "xgboost", "dense", "ensemble"} <= set(MODELS)
    assert not {"cnn", "cnn-svm", "cnn-xgboost"} & set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_get_params_round_trips_through_set_params(name):
    model = build(name)
    for deep in (False, True):
        params = model.get_params(deep=deep)
        assert model.set_params(**params) is model
        after = model.get_params(deep=deep)
        assert after.keys() == params.keys()
        for key, value in params.items():
            # The very objects come back; scikit-learn rebuilds a pipeline's ``steps`` list
            # (and an ensemble's ``estimators``) when it sets the named parts, with equal content.
            if _holds_estimators(value) and not _is_estimator(value):
                assert _same(after[key], value), key
            else:
                assert after[key] is value, key

    # The fast settings carry over onto a model built with the defaults, value for value.
    settings = {k: v for k, v in build(name).get_params(deep=True).items() if not _holds_estimators(v)}
    default = make_model(name, random_state=0)
    default.set_params(**settings)
    now = default.get_params(deep=True)
    for key, value in settings.items():
        assert _same(now[key], value), key


@pytest.mark.parametrize("name", MODELS)
def test_clone_is_unfitted_with_equal_params(name):
    for model in (build(name), fitted(name)):
        twin = clone(model)
        assert type(twin) is type(model) and twin is not model
        params, twin_params = model.get_params(deep=True), twin.get_params(deep=True)
        assert twin_params.keys() == params.keys()
        for key, value in params.items():
            assert _same(twin_params[key], value), key
            if _is_estimator(value):
                assert twin_params[key] is not value, f"clone shares the nested estimator {key}"
        with pytest.raises(NotFittedError):
            check_is_fitted(twin)
        for part in _estimators_in(twin):
            assert not _fitted_attributes(part), (type(part).__name__, _fitted_attributes(part))
        assert not hasattr(twin, "classes_")


@pytest.mark.parametrize("name", MODELS)
def test_init_only_stores_its_parameters(name):
    # scikit-learn's rule (what clone() relies on): __init__ sets each parameter to exactly
    # the object passed, no copy or conversion, and sets no other public attribute.
    for estimator in _estimators_in(build(name)):
        params = estimator.get_params(deep=False)
        again = type(estimator)(**params)
        for key, value in params.items():
            assert getattr(again, key) is value, f"{type(estimator).__name__}.__init__ changes {key}"
        # As scikit-learn's check_no_attributes_set_in_init: a base class's __init__ parameters
        # (RandomForest's ``estimator``, KNN's ``radius``) are allowed too.
        allowed = set(params).union(*(_init_params(cls) for cls in type(estimator).__mro__))
        extra = {k for k in vars(again) if not k.startswith("_")} - allowed
        assert not extra, f"{type(estimator).__name__}.__init__ sets {sorted(extra)}"


# -- 2. fitting -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_predicting_before_fit_raises_not_fitted_error(name):
    X, _ = dataset()
    model = build(name)
    # Both the registered model and its final estimator on its own (no pipeline in front).
    for estimator in {id(model): model, id(_final(model)): _final(model)}.values():
        for method in ("predict", "predict_proba"):
            with pytest.raises(NotFittedError):
                getattr(estimator, method)(X)


@pytest.mark.parametrize("name", MODELS)
def test_fit_returns_self_and_sets_fitted_attributes(name):
    X, y = dataset()
    model = build(name)
    assert is_classifier(model)
    assert model.fit(X, y) is model
    check_is_fitted(model)
    np.testing.assert_array_equal(model.classes_, np.unique(y))
    final = _final(model)
    assert _fitted_attributes(final), f"{type(final).__name__} has no fitted attribute ending in '_'"
    assert model.n_features_in_ == N_FEATURES

    if isinstance(model, Pipeline):
        # A pipeline ignores what its last step's fit returns: check that step on its own.
        Xt = model[:-1].transform(X)
        alone = clone(final)
        assert alone.fit(Xt, y) is alone
        np.testing.assert_array_equal(alone.classes_, np.unique(y))


# -- 3. probabilities -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(LABELS))
@pytest.mark.parametrize("name", MODELS)
def test_predict_proba_columns_follow_classes(name, kind):
    X, y = dataset(kind)
    model = fitted(name, kind)
    proba = model.predict_proba(X)
    assert proba.shape == (N_ROWS, len(model.classes_)) == (N_ROWS, 3)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    predicted = model.predict(X)
    np.testing.assert_array_equal(predicted, model.classes_[proba.argmax(axis=1)])
    # Column j is the probability of classes_[j]: the rows of each class put most of their
    # probability in that class's column (a permuted column order would not).
    for j, label in enumerate(model.classes_):
        rows = proba[y == label]
        assert rows[:, j].mean() > np.delete(rows, j, axis=1).mean(axis=0).max(), label
    assert np.mean(predicted == y) >= 0.8


# -- 4. composition ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_works_inside_make_pipeline(name):
    X, y = dataset()
    pipe = make_pipeline(StandardScaler(), build(name))
    assert pipe.fit(X, y) is pipe
    np.testing.assert_array_equal(pipe.classes_, np.unique(y))
    proba = pipe.predict_proba(X)
    assert proba.shape == (N_ROWS, 3)
    np.testing.assert_array_equal(pipe.predict(X), pipe.classes_[proba.argmax(axis=1)])
    assert np.mean(pipe.predict(X) == y) >= 0.8


@pytest.mark.parametrize("name", MODELS)
def test_works_inside_grid_search(name):
    X, y = dataset()
    model = build(name)
    grid = grid_for(name, model)
    search = GridSearchCV(model, grid, cv=2, error_score="raise").fit(X, y)
    assert search.best_params_.keys() == grid.keys()
    assert len(search.cv_results_["params"]) == len(next(iter(grid.values())))
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    np.testing.assert_array_equal(search.classes_, np.unique(y))
    assert search.predict_proba(X).shape == (N_ROWS, 3)
    # The searched model itself was only cloned, never fitted.
    with pytest.raises(NotFittedError):
        check_is_fitted(model)


# -- 5. label types ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(LABELS))
@pytest.mark.parametrize("name", MODELS)
def test_string_and_integer_labels(name, kind):
    X, y = dataset(kind)
    model = fitted(name, kind)
    expected = np.unique(y)  # sorted: integers numerically
    np.testing.assert_array_equal(model.classes_, expected)
    assert model.classes_.dtype.kind == y.dtype.kind
    predicted = model.predict(X)
    assert predicted.dtype.kind == y.dtype.kind
    assert set(predicted.tolist()) <= set(y.tolist())
    # Labels are not permuted along the way: predictions name the rows' own classes.
    assert np.mean(predicted == y) >= 0.8


# -- 6. model files ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(LABELS))
@pytest.mark.parametrize("name", MODELS)
def test_saved_and_loaded_model_predicts_identically(name, kind, tmp_path):
    X, _ = dataset(kind)
    model = fitted(name, kind)
    labels = [str(c) for c in model.classes_]
    path = save_model(
        tmp_path / f"{name}.genre", model, model_name=name, feature_columns=COLUMNS, labels=labels, feature_config=None
    )
    loaded = load_model(path)
    assert loaded.model_name == name and loaded.feature_columns == COLUMNS and loaded.labels == labels
    estimator = loaded.estimator
    assert type(estimator) is type(model)
    np.testing.assert_array_equal(estimator.classes_, model.classes_)
    assert estimator.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(estimator.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(estimator.predict(X), model.predict(X))
    # The parameters survive the file too, and the loaded model is still a scikit-learn estimator.
    for key, value in model.get_params(deep=True).items():
        assert _same(estimator.get_params(deep=True)[key], value), key
    with pytest.raises(NotFittedError):
        check_is_fitted(clone(estimator))
