"""The SVM on tables with few tracks per class: the inner search and the probability
calibration use as many folds as the smallest class allows, keep a track's segments on one
side of every fold, and without two tracks in a class fit untuned and uncalibrated."""

from __future__ import annotations

import numpy as np
import pytest
from feature_tables import class_features, write_gtzan_table, write_own_table
from typer.testing import CliRunner

from genre.classifiers.svm import TunedSVC
from genre.cli import app
from genre.errors import FallbackWarning

#: Two candidates, so that the inner search runs whenever the table allows it.
TWO_C = (1.0, 10.0)


def segment_rows(*, tracks_per_class: int, segments: int, labels=("blues", "jazz", "metal")):
    """Features, labels and track ids of a segment table: ``segments`` rows per track."""
    X, y, tracks, _ = class_features(labels=labels, tracks_per_class=tracks_per_class, segments=segments)
    return X, np.array(y), np.array([f"{label}/{t}" for label, t in zip(y, tracks)])


@pytest.fixture
def searches(monkeypatch):
    """The inner search's splits, one list per ``GridSearchCV.fit``."""
    from sklearn.model_selection import GridSearchCV, check_cv

    record: list[list] = []
    original = GridSearchCV.fit

    def spy(self, X, y=None, **params):
        record.append(list(check_cv(self.cv, y, classifier=True).split(X, y, params.get("groups"))))
        return original(self, X, y, **params)

    monkeypatch.setattr(GridSearchCV, "fit", spy)
    return record


def assert_tracks_whole(splits, tracks):
    assert splits
    for train, test in splits:
        shared = set(tracks[train]) & set(tracks[test])
        assert not shared, f"tracks on both sides of a fold: {sorted(shared)[:3]}"


def assert_probabilities(model, X):
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), len(model.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])


# -- the inner search: fewer folds, not scikit-learn's refusal ------------------------------------
def test_search_uses_as_many_folds_as_the_smallest_class_has_rows(searches):
    X, y, _ = segment_rows(tracks_per_class=2, segments=1)
    model = TunedSVC(C_grid=TWO_C).fit(X, y)  # cv=3, but 2 rows per class
    assert model.tuning_folds_ == 2 and len(searches) == 1 and len(searches[0]) == 2
    assert model.calibration_folds_ == 2 and len(model.model_.cv) == 2
    assert model.best_params_["C"] in TWO_C
    assert_probabilities(model, X)


def test_search_counts_groups_not_rows(searches):
    # 2 tracks of 3 segments per class: 6 rows, but only 2 folds can keep the tracks whole.
    X, y, tracks = segment_rows(tracks_per_class=2, segments=3)
    model = TunedSVC(C_grid=TWO_C).fit(X, y, groups=tracks)
    assert model.tuning_folds_ == 2
    assert_tracks_whole(searches[0], tracks)


def test_enough_tracks_keep_the_configured_folds(searches):
    X, y, tracks = segment_rows(tracks_per_class=8, segments=2)
    model = TunedSVC(C_grid=TWO_C, cv=4).fit(X, y, groups=tracks)
    assert (model.tuning_folds_, model.calibration_folds_) == (4, 3)
    assert len(searches[0]) == 4


def test_one_candidate_is_no_search(searches):
    X, y, _ = segment_rows(tracks_per_class=4, segments=1)
    model = TunedSVC(C_grid=10.0).fit(X, y)
    assert searches == [] and model.tuning_folds_ == 0
    assert model.best_params_ == {"kernel": "rbf", "C": 10.0, "gamma": "scale"}


# -- the calibration: grouped folds whenever groups are given --------------------------------------
@pytest.mark.parametrize("tracks_per_class", [2, 3, 6])
def test_calibration_folds_keep_each_tracks_segments_on_one_side(tracks_per_class):
    # With 2 tracks per class the calibration used to fall back to ungrouped StratifiedKFold(3)
    # over the 6 segment rows, putting a track's segments on both sides.
    X, y, tracks = segment_rows(tracks_per_class=tracks_per_class, segments=3)
    model = TunedSVC(C_grid=TWO_C).fit(X, y, groups=tracks)
    assert model.calibration_folds_ == min(3, tracks_per_class)
    assert len(model.model_.cv) == model.calibration_folds_
    assert_tracks_whole(model.model_.cv, tracks)
    assert_probabilities(model, X)


def test_calibration_without_groups_splits_rows():
    X, y, _ = segment_rows(tracks_per_class=2, segments=1)
    model = TunedSVC(C_grid=10.0).fit(X, y)
    assert model.calibration_folds_ == 2
    for train, test in model.model_.cv:
        assert set(y[train]) == set(y)  # every class on the training side of every fold


# -- a class with a single track: untuned, uncalibrated, and said so -------------------------------
def test_a_class_with_one_track_fits_the_middle_of_the_grid_uncalibrated(searches):
    from sklearn.svm import SVC

    # "metal" has a single track of 4 segments: no fold can hold it out and train on it.
    X, y, tracks = segment_rows(tracks_per_class=3, segments=4)
    keep = ~((y == "metal") & (tracks != "metal/0"))
    X, y, tracks = X[keep], y[keep], tracks[keep]
    said = r"a class has a single track .* so the grid was not searched \(C=3\.0, gamma=0\.1, kernel='rbf' taken\) and the probabilities are not calibrated"
    with pytest.warns(FallbackWarning, match=said):
        model = TunedSVC(C_grid=(1.0, 3.0, 10.0), gamma_grid=("scale", 0.1)).fit(X, y, groups=tracks)
    assert searches == []
    assert (model.tuning_folds_, model.calibration_folds_) == (0, 0)
    assert model.best_params_ == {"kernel": "rbf", "C": 3.0, "gamma": 0.1}
    assert type(model.model_) is SVC
    assert_probabilities(model, X)
    with pytest.warns(FallbackWarning):
        again = TunedSVC(C_grid=(1.0, 3.0, 10.0), gamma_grid=("scale", 0.1)).fit(X, y, groups=tracks)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))


def test_uncalibrated_probabilities_with_two_classes_and_one_row_each():
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    with pytest.warns(FallbackWarning, match="not calibrated"):
        model = TunedSVC(kernels="linear", C_grid=TWO_C).fit(X, ["a", "b"])
    assert (model.tuning_folds_, model.calibration_folds_) == (0, 0)
    assert model.best_params_ == {"kernel": "linear", "C": 10.0}
    assert model.predict(X).tolist() == ["a", "b"]
    proba = model.predict_proba(X)
    assert proba.shape == (2, 2) and proba[0, 0] > 0.5 and proba[1, 1] > 0.5
    assert_probabilities(model, X)


def test_uncalibrated_model_survives_a_model_file(tmp_path):
    from genre.classifiers.persistence import load_model, save_model
    from genre.classifiers.registry import make_model

    X, y, _ = segment_rows(tracks_per_class=1, segments=1)
    with pytest.warns(FallbackWarning):
        model = make_model("svm").fit(X, y)
    assert model.named_steps["model"].calibration_folds_ == 0
    columns = [f"f{i}" for i in range(X.shape[1])]
    save_model(tmp_path / "m.genre", model, model_name="svm", feature_columns=columns, labels=list(model.classes_),
               feature_config=None)  # fmt: skip
    loaded = load_model(tmp_path / "m.genre").estimator
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


# -- from the command line --------------------------------------------------------------------------
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("model", ["svm", "ensemble"])
def test_benchmark_of_three_tracks_per_class(tmp_path, model):
    # Each training fold has 2 tracks per class, fewer than the inner search's default cv=3.
    table = write_gtzan_table(tmp_path / "three.csv", tracks_per_class=3)
    fast = ["-p", "xgboost__n_estimators=5", "-p", "dense__max_epochs=2"] if model == "ensemble" else []
    result = invoke("benchmark", table, "-m", model, "-k", "3", "--jobs", "1", "-o", tmp_path / "out", *fast)
    assert result.exit_code == 0, result.output
    assert "n_splits" not in result.output


def test_benchmark_with_one_track_per_class_in_the_training_folds(tmp_path):
    table = write_gtzan_table(tmp_path / "two.csv", tracks_per_class=2)
    result = invoke("benchmark", table, "-m", "svm", "-k", "2", "--jobs", "1", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    # The report must not call this SVM tuned and calibrated without a word.
    said = " ".join(result.output.split())
    assert "Model svm warned in 2 of 2 fits: FallbackWarning: SVM: a class has a single track" in said
    assert "the probabilities are not calibrated" in said
    # ...nor describe it, in the model table, as tuned by inner CV without qualification.
    import json

    described = json.loads((tmp_path / "out" / "results.json").read_text())["models"][0]["description"]
    assert described.endswith("sigmoid-calibrated probabilities (not in 2 of 2 fits: see the caveat)")
    assert "(not in 2 of 2 fits: see the caveat)" in (tmp_path / "out" / "report.md").read_text()


def test_train_on_two_tracks_per_class(tmp_path):
    from genre.classifiers.training import train_model

    table = write_own_table(tmp_path / "two.csv", tracks_per_class=2, segments=3)
    result = invoke("train", table, "-m", "svm", "-o", tmp_path / "m.genre")
    assert result.exit_code == 0, result.output
    assert "best_params" in result.output
    trained = train_model(table, model="svm", output=tmp_path / "again.genre")
    svm = trained.estimator.named_steps["model"]
    assert (svm.tuning_folds_, svm.calibration_folds_) == (2, 2)
    assert trained.details["best_params"] == svm.best_params_


def test_a_model_fitted_before_calibration_folds_were_recorded_still_predicts():
    # Model files written by earlier versions hold a calibrated model_ and no calibration_folds_.
    X, y, _ = segment_rows(tracks_per_class=3, segments=1)
    model = TunedSVC(C_grid=10.0).fit(X, y)
    expected = model.predict_proba(X)
    del model.calibration_folds_, model.tuning_folds_
    np.testing.assert_array_equal(model.predict_proba(X), expected)
    assert_probabilities(model, X)
