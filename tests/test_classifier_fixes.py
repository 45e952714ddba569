"""Audit fixes in genre.classifiers: groups reach every ensemble member, the CNN cache hands out
copies and notices changed audio, train_model resolves n_jobs, small contract details."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import tone
from feature_tables import write_own_table

from genre.errors import ParameterError

#: A mel CNN small enough to train in a second or two (as in test_cnn.py).
TINY_CNN = dict(filters=(4, 8), dense_units=8, n_mels=32, patch_frames=43, max_epochs=2, patience=1, batch_size=8)

_DENSE_FAST = {"hidden_units": (8,), "max_epochs": 10, "batch_size": 32, "patience": 3}
#: Fast members; two C values so the SVM member really runs its inner grid search.
ENSEMBLE_FAST = {
    **{f"dense__model__{k}": v for k, v in _DENSE_FAST.items()},
    "xgboost__model__n_estimators": 10,
    "svm__model__C_grid": (1.0, 10.0),
}


def segment_data(*, tracks_per_class: int = 8, segments: int = 4, seed: int = 0):
    """Rows are segments: 3 classes, each track a few rows near its own centre."""
    rng = np.random.default_rng(seed)
    X, y, tracks = [], [], []
    for c, label in enumerate(("blues", "jazz", "metal")):
        for t in range(tracks_per_class):
            centre = rng.normal(0, 1, 5) + 2.0 * np.eye(5)[c]
            for _ in range(segments):
                X.append(centre + rng.normal(0, 0.2, 5))
                y.append(label)
                tracks.append(f"{label}/{t}")
    return np.array(X), np.array(y), np.array(tracks)


# -- 1. groups reach every member of the ensemble ----------------------------------------------
@pytest.fixture
def inner_splits(monkeypatch):
    """Records every inner split the SVM makes (grid search, calibration) and the dense network's
    early-stopping split, and the groups each member's fit receives."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import GridSearchCV, check_cv

    import genre.classifiers.dense as dense
    from genre.classifiers.dense import DenseNetClassifier
    from genre.classifiers.svm import TunedSVC

    record: dict[str, list] = {"svm": [], "dense": [], "svm_groups": [], "dense_groups": []}
    search_fit, calibration_fit = GridSearchCV.fit, CalibratedClassifierCV.fit
    svm_fit, dense_fit, dense_split = TunedSVC.fit, DenseNetClassifier.fit, dense.inner_split

    def spy_search(self, X, y=None, **params):
        record["svm"] += list(check_cv(self.cv, y, classifier=True).split(X, y, params.get("groups")))
        return search_fit(self, X, y, **params)

    def spy_calibration(self, X, y, *args, **kwargs):
        record["svm"] += list(check_cv(self.cv, y, classifier=True).split(X, y))
        return calibration_fit(self, X, y, *args, **kwargs)

    def spy_svm(self, X, y, groups=None):
        record["svm_groups"].append(groups)
        return svm_fit(self, X, y, groups)

    def spy_dense(self, X, y, groups=None):
        record["dense_groups"].append(groups)
        return dense_fit(self, X, y, groups)

    def spy_split(codes, groups, **kwargs):
        train, val = dense_split(codes, groups, **kwargs)
        record["dense"].append((train, val))
        return train, val

    monkeypatch.setattr(GridSearchCV, "fit", spy_search)
    monkeypatch.setattr(CalibratedClassifierCV, "fit", spy_calibration)
    monkeypatch.setattr(TunedSVC, "fit", spy_svm)
    monkeypatch.setattr(DenseNetClassifier, "fit", spy_dense)
    monkeypatch.setattr(dense, "inner_split", spy_split)
    return record


def assert_tracks_on_one_side(splits, tracks):
    assert splits
    for train, test in splits:
        assert test is not None and len(test)
        shared = set(tracks[train]) & set(tracks[test])
        assert not shared, f"tracks on both sides of an inner split: {sorted(shared)[:3]}"


def test_ensemble_members_keep_a_tracks_segments_on_one_side_of_their_inner_splits(inner_splits):
    from genre.classifiers.registry import make_model
    from genre.classifiers.training import group_fit_params

    X, y, tracks = segment_data()
    model = make_model("ensemble").set_params(**ENSEMBLE_FAST)
    model.fit(X, y, **group_fit_params(model, tracks))
    # 3 grid-search folds and 3 grouped calibration folds; every one keeps each track whole.
    assert len(inner_splits["svm"]) == 6
    assert_tracks_on_one_side(inner_splits["svm"], tracks)
    assert_tracks_on_one_side(inner_splits["dense"], tracks)
    assert model.predict_proba(X).shape == (len(y), 3)


def test_train_model_passes_groups_to_the_ensemble_members(inner_splits, tmp_path):
    from genre.classifiers.training import train_model

    table = write_own_table(tmp_path / "features.csv", segments=3, tracks_per_class=6, labels=("a", "b", "c"))
    tracks = pd.read_csv(table)["track"].to_numpy()
    result = train_model(table, model="ensemble", output=tmp_path / "ensemble.genre")
    assert result.output.is_file()
    assert_tracks_on_one_side(inner_splits["svm"], tracks)
    assert_tracks_on_one_side(inner_splits["dense"], tracks)


def test_benchmark_passes_each_folds_groups_to_the_ensemble_members(inner_splits, tmp_path, monkeypatch):
    from genre.evaluation import cross_validate_models
    from genre.features.table import load_feature_table

    # Artist groups: the members' inner splits must keep an artist's tracks together too.
    path = write_own_table(tmp_path / "f.csv", segments=2, tracks_per_class=8, labels=("a", "b"), groups_per_class=4)
    table = load_feature_table(path)
    results = cross_validate_models(table, ["ensemble"], folds=2, jobs=1, progress=False)
    assert len(results.models[0].folds) == 2
    for key in ("svm_groups", "dense_groups"):
        received = inner_splits[key]
        assert len(received) == 2 and all(g is not None for g in received), key
        for groups, split in zip(received, results.splits):
            assert len(groups) == split.n_train_rows
            assert set(groups) <= set(table.groups.astype(str))


def test_group_fit_params_reach_every_step_and_the_ensemble():
    from genre.classifiers.registry import make_model
    from genre.classifiers.training import group_fit_params

    groups = np.array(["a", "a", "b"])
    assert group_fit_params(make_model("ensemble"), groups).keys() == {"groups"}
    # The CNN embedding in front of the svm splits its rows for early stopping too.
    assert group_fit_params(make_model("cnn-svm"), groups).keys() == {"embed__groups", "model__groups"}
    assert group_fit_params(make_model("svm"), groups).keys() == {"model__groups"}
    assert group_fit_params(make_model("logreg"), groups) == {}


def test_grid_search_over_a_model_passes_groups_on_when_asked(monkeypatch):
    # scikit-learn's GridSearchCV uses groups= for its own splits only; group_fit_params as fit
    # parameters reach the model, cut to each training split (documented in group_fit_params).
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from genre.classifiers.registry import make_model
    from genre.classifiers.svm import TunedSVC
    from genre.classifiers.training import group_fit_params

    received = []
    original = TunedSVC.fit

    def spy(self, X, y, groups=None):
        received.append(groups)
        return original(self, X, y, groups)

    monkeypatch.setattr(TunedSVC, "fit", spy)
    X, y, tracks = segment_data(tracks_per_class=6, segments=2)
    model = make_model("svm", C_grid=(1.0,))
    search = GridSearchCV(model, {"model__C_grid": [(1.0,), (10.0,)]}, cv=GroupKFold(2))
    search.fit(X, y, groups=tracks)
    assert received and all(g is None for g in received)  # the plain call: the model gets none
    received.clear()
    search.fit(X, y, groups=tracks, **group_fit_params(model, tracks))
    assert len(received) == 5 and all(g is not None for g in received)  # 2 x 2 folds + the refit
    assert sorted(len(g) for g in received)[-1] == len(y)


def test_soft_vote_refuses_bad_weights_and_names():
    from genre.classifiers.ensemble import SoftVoteClassifier
    from genre.classifiers.registry import make_model

    X, y, _ = segment_data(tracks_per_class=3, segments=2)
    for weights in ([1.0], [1.0, -1.0], [0.0, 0.0], [1.0, float("nan")]):
        model = SoftVoteClassifier([("a", make_model("logreg")), ("b", make_model("knn"))], weights=weights)
        with pytest.raises(ParameterError, match="weights"):
            model.fit(X, y)
    with pytest.raises(ParameterError, match="unique"):
        SoftVoteClassifier([("a", make_model("logreg")), ("a", make_model("knn"))]).fit(X, y)
    with pytest.raises(ParameterError, match="non-empty list"):
        SoftVoteClassifier([]).fit(X, y)
    model = SoftVoteClassifier([("a", make_model("logreg")), ("b", make_model("knn"))], weights=[3.0, 1.0]).fit(X, y)
    expected = (3 * model.named_estimators_["a"].predict_proba(X) + model.named_estimators_["b"].predict_proba(X)) / 4
    np.testing.assert_allclose(model.predict_proba(X), expected)


def test_ensemble_files_written_with_a_voting_classifier_still_load(tmp_path):
    # "ensemble" model files from before SoftVoteClassifier hold scikit-learn's VotingClassifier.
    from sklearn.ensemble import VotingClassifier

    from genre.classifiers.persistence import load_model, save_model
    from genre.classifiers.registry import make_model

    X, y, _ = segment_data(tracks_per_class=4, segments=2)
    members = [
        ("svm", make_model("svm")),
        ("xgboost", make_model("xgboost").set_params(model__n_estimators=10)),
        ("dense", make_model("dense").set_params(**{f"model__{k}": v for k, v in _DENSE_FAST.items()})),
    ]
    old = VotingClassifier(members, voting="soft").fit(X, y)
    path = save_model(
        tmp_path / "old.genre", old, model_name="ensemble", feature_columns=[f"f{i}" for i in range(5)],
        labels=[str(c) for c in old.classes_], feature_config=None,
    )  # fmt: skip
    loaded = load_model(path).estimator
    assert type(loaded) is VotingClassifier
    np.testing.assert_allclose(loaded.predict_proba(X), old.predict_proba(X), rtol=1e-6, atol=1e-7)


# -- 2. the CNN's cache of trained networks -----------------------------------------------------
@pytest.fixture
def clips(tmp_path):
    """Two classes of three 2 s clips, one segment row per second, two clips per "artist"."""
    import soundfile as sf

    from genre.classifiers.cnn import _FITTED
    from genre.features.melpatches import clear_memory_cache

    _FITTED.clear()
    clear_memory_cache()
    sr, rows = 22050, []
    for label in ("tone", "noise"):
        for i in range(3):
            path = tmp_path / label / f"{label}.{i:05d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            if label == "tone":
                y = tone(2.0, sr=sr, freq=220.0 * (i + 1), seed=i)
            else:
                y = (0.2 * np.random.default_rng(i).standard_normal(2 * sr)).astype(np.float32)
            sf.write(path, y, sr)
            for start in (0.0, 1.0):
                rows.append({"path": str(path), "track": f"{label}/{i}", "start": start, "label": label,
                             "artist": f"{label}-{min(i, 1)}"})  # fmt: skip
    yield pd.DataFrame(rows)
    _FITTED.clear()


@pytest.fixture
def trainings(monkeypatch):
    """Counts the networks actually trained (not taken from the cache)."""
    from genre.classifiers.cnn import _MelCNNBase

    calls = []
    original = _MelCNNBase._train_new

    def spy(self, *args, **kwargs):
        calls.append(type(self).__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_MelCNNBase, "_train_new", spy)
    return calls


def test_cnn_cache_gives_every_estimator_its_own_network(clips, trainings):
    from genre.classifiers.cnn import MelCNNClassifier

    X, y = clips[["path", "start", "track"]], clips["label"].to_numpy()
    a = MelCNNClassifier(**TINY_CNN).fit(X, y)
    b = MelCNNClassifier(**TINY_CNN).fit(X, y)
    assert trainings == ["MelCNNClassifier"]  # the second fit reused the trained network ...
    assert a.model_ is not b.model_ and a.band_mean_ is not b.band_mean_ and a.history_ is not b.history_
    expected = b.predict_proba(X)
    np.testing.assert_array_equal(a.predict_proba(X), expected)  # ... as an identical copy
    # Changing one estimator's network changes no other, nor what the cache hands out next.
    a.model_.set_weights([np.zeros_like(w) for w in a.model_.get_weights()])
    a.band_mean_ += 1.0
    np.testing.assert_array_equal(b.predict_proba(X), expected)
    c = MelCNNClassifier(**TINY_CNN).fit(X, y)
    np.testing.assert_array_equal(c.predict_proba(X), expected)
    assert trainings == ["MelCNNClassifier"]


def test_cnn_cache_retrains_when_an_audio_file_changed(clips, trainings):
    import os

    import soundfile as sf

    from genre.classifiers.cnn import MelCNNClassifier

    X, y = clips[["path", "start", "track"]], clips["label"].to_numpy()
    first = MelCNNClassifier(**TINY_CNN).fit(X, y).predict_proba(X)
    path = clips["path"].iloc[0]
    before = os.stat(path)
    sf.write(path, tone(2.0, freq=3000.0, seed=9), 22050)  # same length, so the same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))  # a coarse clock must not hide it
    again = MelCNNClassifier(**TINY_CNN).fit(X, y)
    assert len(trainings) == 2  # a stale network would have been reused
    assert again.predict_proba(X).shape == first.shape


def test_cnn_svm_reuses_the_cnn_network_of_the_same_artist_grouped_fold(clips, trainings):
    # The cache's purpose: cnn and cnn-svm in one benchmark train one network per fold. With artist
    # groups the embedding now gets them too (as group_fit_params gives them): same key, no leak.
    from genre.classifiers.cnn import MelCNNClassifier, MelCNNEmbedding
    from genre.classifiers.registry import make_model
    from genre.classifiers.training import group_fit_params

    X, y = clips[["path", "start", "track"]], clips["label"].to_numpy()
    artists = clips["artist"].to_numpy()
    cnn = MelCNNClassifier(**TINY_CNN)
    cnn.fit(X, y, **group_fit_params(cnn, artists))
    pipeline = make_model("cnn-svm", **TINY_CNN).set_params(model__C_grid=(1.0,))  # 12 rows: no inner search
    pipeline.fit(X, y, **group_fit_params(pipeline, artists))
    assert trainings == ["MelCNNClassifier"]
    embed = pipeline.named_steps["embed"]
    assert isinstance(embed, MelCNNEmbedding) and embed.model_ is not cnn.model_


# -- 3. train_model resolves n_jobs -------------------------------------------------------------
def test_train_model_resolves_all_cores(tmp_path):
    from genre.classifiers.training import train_model
    from genre.features.executors import resolve_jobs

    table = write_own_table(tmp_path / "features.csv", segments=2, tracks_per_class=4, labels=("a", "b"))
    result = train_model(table, model="knn", output=tmp_path / "knn.genre", jobs=-1)
    assert result.estimator.named_steps["model"].n_jobs == resolve_jobs(-1) >= 1
    with pytest.raises(ParameterError, match="--jobs 0"):
        train_model(table, model="knn", output=tmp_path / "never.genre", jobs=0)
    assert not (tmp_path / "never.genre").exists()


# -- 4. small ones ------------------------------------------------------------------------------
def test_dense_seed_bound_is_the_registry_constant():
    from genre.classifiers.dense import _NUMBER_PARAMS, DenseNetClassifier
    from genre.classifiers.registry import MAX_SEED

    assert _NUMBER_PARAMS["random_state"]["high"] is MAX_SEED  # one definition, not a copy of 2**32 - 1
    X, y, _ = segment_data(tracks_per_class=2, segments=2)
    with pytest.raises(ParameterError, match="random_state"):
        DenseNetClassifier(random_state=MAX_SEED + 1, max_epochs=1).fit(X, y)


@pytest.mark.parametrize("C_grid", [(1.0,), (1.0, 10.0)])
def test_svm_refuses_a_single_sample_in_words(C_grid):
    from sklearn.utils.estimator_checks import check_fit2d_1sample

    from genre.classifiers.svm import TunedSVC

    with pytest.raises(ValueError, match="1 sample"):
        TunedSVC(C_grid=C_grid).fit(np.zeros((1, 3)), ["a"])
    with pytest.raises(ValueError, match=r"only one class in y \('a'\)"):
        TunedSVC(C_grid=C_grid).fit(np.random.default_rng(0).normal(size=(4, 3)), ["a"] * 4)
    check_fit2d_1sample("TunedSVC", TunedSVC(C_grid=C_grid))


# -- 5. one module of Keras helpers -------------------------------------------------------------
def test_cnn_uses_the_shared_keras_helpers_not_the_dense_modules_private_ones():
    import inspect

    import genre.classifiers.cnn as cnn
    import genre.classifiers.dense as dense
    import genre.classifiers.keras_training as keras_training

    assert "from genre.classifiers.dense import" not in inspect.getsource(cnn)
    assert dense.train_network is keras_training.train_network and dense.inner_split is keras_training.inner_split


@pytest.mark.parametrize("model", ["xgboost", "dense", "svm"])
def test_a_single_class_is_named_as_written_not_as_a_numpy_repr(model):
    from genre.classifiers.registry import make_model

    X = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.raises(ValueError, match=r"only one class in y \('rock'\)") as caught:
        make_model(model).fit(X, np.array(["rock"] * 6))
    assert "np.str_" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "param", "value", "message"),
    [
        ("cnn", "batch_size", 0, "CNN: batch_size must be an integer >= 1, got 0"),
        ("cnn", "filters", (8, 0), "CNN: every filters value must be an integer >= 1, got 0"),
        ("cnn", "dropout", 1.0, r"CNN: dropout must be a number in \[0, 1\), got 1.0"),
        ("cnn", "dense_units", True, "CNN: dense_units must be an integer >= 1, got True"),
        ("cnn-svm", "patch_frames", 0, "CNN: patch_frames must be an integer >= 1, got 0"),
    ],
)
def test_cnn_refuses_bad_numbers_before_reading_audio(name, param, value, message):
    # The rows name no real file: the refusal must come before any audio is read.
    rows = pd.DataFrame({"path": ["nowhere.wav"] * 2, "start": [0.0, 0.0], "track": ["a", "b"]})
    from genre.classifiers.registry import make_model

    model = make_model(name, **{param: value})
    with pytest.raises(ParameterError, match=f"^{message}"):
        model.fit(rows, ["x", "y"])
