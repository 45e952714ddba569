"""Splits without leakage, list-file partitions, statistics, and cross-validation of models."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
from feature_tables import write_gtzan_table, write_list, write_own_table

from genre.errors import DataError, ParameterError
from genre.evaluation import cross_validate_models, cv_splits, list_split
from genre.evaluation.cv import _aggregate
from genre.evaluation.splits import Split
from genre.evaluation.stats import (
    corrected_resampled_ttest,
    holm,
    mcnemar_exact,
    pairwise_corrected_ttests,
    summarize,
    wilson_interval,
)
from genre.features.table import FeatureTable, load_feature_table


def random_table(rng: np.random.Generator, *, with_groups: bool) -> FeatureTable:
    """A random table: 2-4 classes, 5-12 tracks each, 1-4 segments per track, groups spanning classes."""
    labels = [f"c{i}" for i in range(rng.integers(2, 5))]
    tracks, ys, groups = [], [], []
    n_groups = int(rng.integers(12, 30))
    for label in labels:
        for t in range(int(rng.integers(5, 13))):
            group = f"g{rng.integers(n_groups)}"
            for _ in range(int(rng.integers(1, 5))):
                tracks.append(f"{label}/{t}")
                ys.append(label)
                groups.append(group)
    n = len(tracks)
    return FeatureTable(
        X=pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"]),
        y=np.array(ys),
        tracks=np.array(tracks),
        stems=np.array([t.replace("/", ".") for t in tracks]),
        groups=np.array(groups) if with_groups else None,
        feature_columns=["a", "b", "c"],
    )


# -- splits ------------------------------------------------------------------------------------
@pytest.mark.parametrize("with_groups", [False, True])
def test_no_track_or_group_on_both_sides_of_any_split(with_groups):
    """Property test over random tables: segments of a track, and tracks of a group, never leak."""
    rng = np.random.default_rng(1234 + with_groups)
    checked = 0
    for trial in range(40):
        table = random_table(rng, with_groups=with_groups)
        folds, repeats = int(rng.integers(2, 5)), int(rng.integers(1, 3))
        try:
            splits = cv_splits(table, folds=folds, repeats=repeats, random_state=trial)
        except DataError:
            continue  # too few tracks/groups in a class for this many folds: refused, fine
        checked += 1
        assert len(splits) == folds * repeats
        for split in splits:
            train_tracks, test_tracks = set(table.tracks[split.train]), set(table.tracks[split.test])
            assert not train_tracks & test_tracks
            assert train_tracks == set(split.train_tracks) and test_tracks == set(split.test_tracks)
            assert len(split.train) + len(split.test) == table.n_rows
            if with_groups:
                assert not set(table.groups[split.train]) & set(table.groups[split.test])
        for repeat in range(repeats):
            tested = np.concatenate([s.test for s in splits if s.repeat == repeat])
            assert sorted(tested) == list(range(table.n_rows))  # every row tested exactly once per repeat
    assert checked >= 20


def test_repeats_shuffle_differently(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=10))
    splits = cv_splits(table, folds=5, repeats=2)
    first = [set(s.test_tracks) for s in splits if s.repeat == 0]
    second = [set(s.test_tracks) for s in splits if s.repeat == 1]
    assert first != second
    # Same seed, same splits.
    assert [s.test.tolist() for s in cv_splits(table, folds=5, repeats=2)] == [s.test.tolist() for s in splits]


def test_class_with_fewer_tracks_than_folds(tmp_path):
    path = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=6)
    frame = pd.read_csv(path)
    frame = frame[~((frame["label"] == "jazz") & (frame.index % 6 >= 3))]  # jazz keeps 3 tracks
    frame.to_csv(path, index=False)
    table = load_feature_table(path)
    with pytest.raises(DataError, match=r"fewer tracks than folds \('jazz' has 3; 5 folds\); use --folds 3"):
        cv_splits(table, folds=5)
    assert len(cv_splits(table, folds=3)) == 3


def test_fewer_tracks_than_folds(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=1, labels=("a", "b")))
    with pytest.raises(DataError, match=r"2 tracks for 5 folds"):
        cv_splits(table, folds=5)


def test_class_with_fewer_groups_than_folds(tmp_path):
    table = load_feature_table(write_own_table(tmp_path / "t.csv", tracks_per_class=8, groups_per_class=2))
    with pytest.raises(DataError, match=r"fewer groups than folds.*has 2; 3 folds"):
        cv_splits(table, folds=3)
    assert len(cv_splits(table, folds=3, use_groups=False)) == 3  # ignoring groups works


def test_bad_fold_counts(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=4))
    with pytest.raises(ParameterError, match="at least 2 folds"):
        cv_splits(table, folds=1)
    with pytest.raises(ParameterError, match="--repeats 0"):
        cv_splits(table, folds=2, repeats=0)


# -- list files --------------------------------------------------------------------------------
@pytest.fixture
def segmented_table(tmp_path) -> FeatureTable:
    return load_feature_table(write_gtzan_table(tmp_path / "f3.csv", tracks_per_class=6, segments=3))


def test_list_split_matches_by_stem(tmp_path, segmented_table):
    lines = ["blues/blues.00000.wav", "jazz/jazz.00001.wav", "# comment", "", "pop/pop.00099.wav"]
    test = write_list(tmp_path / "test.txt", lines)
    train_a = write_list(tmp_path / "train.txt", ["blues/blues.00001.wav", "metal.00002"])
    train_b = write_list(tmp_path / "valid.txt", ["classical/classical.00003.au", "nothere/x.00001.wav"])
    split, matches = list_split(segmented_table, train_lists=[train_a, train_b], test_list=test)
    assert list(split.test_tracks) == ["blues.00000", "jazz.00001"]
    assert sorted(split.train_tracks) == ["blues.00001", "classical.00003", "metal.00002"]
    assert len(split.test) == 6 and len(split.train) == 9  # all 3 segments of each track
    by_role = {(m.role, m.path): m for m in matches}
    test_match = by_role[("test", str(test))]
    assert (test_match.n_lines, test_match.n_matched, test_match.n_unmatched) == (3, 2, 1)
    assert test_match.unmatched == ["pop/pop.00099.wav"]
    assert by_role[("train", str(train_b))].n_unmatched == 1


def test_test_list_alone_trains_on_the_rest(tmp_path, segmented_table):
    test = write_list(tmp_path / "test.txt", ["blues/blues.00000.wav"])
    split, _ = list_split(segmented_table, test_list=test)
    assert len(split.train_tracks) == segmented_table.n_tracks - 1


def test_list_matching_nothing_names_the_file(tmp_path, segmented_table):
    test = write_list(tmp_path / "test.txt", ["rock/rock.00000.wav", "rock/rock.00001.wav"])
    with pytest.raises(DataError, match=r"test\.txt: none of its 2 lines matches a track of f3\.csv"):
        list_split(segmented_table, test_list=test)
    with pytest.raises(DataError, match="no such list file"):
        list_split(segmented_table, test_list=tmp_path / "missing.txt")


def test_overlapping_lists_are_refused(tmp_path, segmented_table):
    test = write_list(tmp_path / "test.txt", ["blues/blues.00000.wav"])
    train = write_list(tmp_path / "train.txt", ["blues/blues.00000.wav", "jazz/jazz.00000.wav"])
    with pytest.raises(DataError, match="listed for both training and testing"):
        list_split(segmented_table, train_lists=[train], test_list=test)


# -- statistics --------------------------------------------------------------------------------
def test_corrected_ttest_against_hand_computation():
    # Differences d = a - b = [0.02, 0.05, -0.01, 0.03, 0.04] over k = 5 folds, n_test/n_train = 1/4.
    a = [0.80, 0.85, 0.77, 0.81, 0.83]
    b = [0.78, 0.80, 0.78, 0.78, 0.79]
    # By hand: mean(d) = 0.026; sum of squared deviations = 0.00212, var(d) = 0.00053;
    # corrected variance of the mean = (1/5 + 1/4) * 0.00053 = 0.0002385; t = 0.026 / 0.0154434 = 1.68356.
    t, p, df = corrected_resampled_ttest(a, b, test_train_ratio=0.25)
    assert df == 4
    assert t == pytest.approx(1.68356, abs=1e-4)
    # Two-sided p of t(4) at 1.68356: between 0.10 (t=2.132) and 0.20 (t=1.533) in a t table.
    assert 0.10 < p < 0.20 and p == pytest.approx(0.16755, abs=1e-4)
    # The uncorrected paired t-test would claim significance (t = 2.525, p = 0.065 < 0.1) more readily.
    naive_t = 0.026 / math.sqrt(0.00053 / 5)
    assert naive_t > t
    # Antisymmetric; a constant non-zero difference has no spread to test against.
    assert corrected_resampled_ttest(b, a, test_train_ratio=0.25)[0] == pytest.approx(-t)
    assert math.isnan(corrected_resampled_ttest([0.5, 0.6], [0.4, 0.5], test_train_ratio=0.5)[1])
    assert corrected_resampled_ttest([0.5, 0.6], [0.5, 0.6], test_train_ratio=0.5)[1] == 1.0


def test_holm_adjustment():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_pairwise_tests_mark_significance():
    scores = {
        "good": [0.90, 0.91, 0.92, 0.90, 0.91],
        "bad": [0.50, 0.52, 0.49, 0.51, 0.50],
        "bad2": [0.51, 0.50, 0.50, 0.52, 0.49],
    }
    tests = pairwise_corrected_ttests(scores, test_train_ratio=0.25)
    verdicts = {(t.model_a, t.model_b): t for t in tests}
    assert verdicts[("good", "bad")].significant
    assert verdicts[("good", "bad")].verdict == "good is significantly better than bad"
    assert not verdicts[("bad", "bad2")].significant
    assert all(t.p_holm >= t.p_value for t in tests)


def test_mcnemar_and_wilson():
    a = [True] * 8 + [False] * 2 + [True] * 5
    b = [False] * 8 + [True] * 2 + [True] * 5
    only_a, only_b, p = mcnemar_exact(a, b)
    assert (only_a, only_b) == (8, 2)
    assert p == pytest.approx(2 * (1 + 10 + 45) / 1024)  # 2 * P(X <= 2), X ~ Bin(10, 1/2)
    assert mcnemar_exact([True, False], [True, False])[2] == 1.0
    low, high = wilson_interval(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)


def test_summary_t_interval():
    summary = summarize([0.7, 0.8, 0.9])
    # mean 0.8, sd 0.1, t(0.975, 2) = 4.3027 -> half width 4.3027 * 0.1 / sqrt(3) = 0.24841
    assert summary.mean == pytest.approx(0.8) and summary.std == pytest.approx(0.1)
    assert summary.ci_low == pytest.approx(0.8 - 0.24841, abs=1e-4)
    assert summary.ci_high == pytest.approx(0.8 + 0.24841, abs=1e-4)
    single = summarize([0.5])
    assert math.isnan(single.std) and math.isnan(single.ci_low)  # one score has no spread


# -- cross-validation --------------------------------------------------------------------------
def test_aggregation_mean_probability_and_vote():
    table = FeatureTable(
        X=pd.DataFrame({"f": np.zeros(5)}),
        y=np.array(["a", "a", "a", "b", "b"]),
        tracks=np.array(["t1", "t1", "t1", "t2", "t2"]),
        stems=np.array(["t1", "t1", "t1", "t2", "t2"]),
        groups=None,
        feature_columns=["f"],
    )
    split = Split(0, 0, np.array([], int), np.arange(5), np.array([], str), np.array(["t1", "t2"]))
    proba = np.array([[0.55, 0.45], [0.55, 0.45], [0.0, 1.0], [0.4, 0.6], [0.6, 0.4]])
    mean, by_vote = _aggregate(table, split, proba, 2)
    by_mean = mean.argmax(axis=1)
    # t1: mean (0.367, 0.633) -> b, but two of three segments vote a.
    # t2: mean (0.5, 0.5) -> a (first), one vote each: tie broken by mean -> a.
    assert by_mean.tolist() == [1, 0] and by_vote.tolist() == [0, 0]


def test_cross_validation_scores_tracks(tmp_path):
    table = load_feature_table(write_own_table(tmp_path / "f.csv", tracks_per_class=10, segments=3))
    results = cross_validate_models(table, ["logreg", "knn"], folds=3, repeats=2, progress=False)
    assert [m.name for m in results.models] == ["logreg", "knn"]
    assert results.labels == table.labels
    for model in results.models:
        assert len(model.folds) == 6
        assert 0.6 < model.accuracy <= 1.0  # clearly separated synthetic classes
        assert model.summaries["segment_accuracy"].n == 6 and "vote_accuracy" in model.summaries
        assert model.accuracy_ci95[0] <= model.accuracy <= model.accuracy_ci95[1]
        # Every track counted once per repeat in the summed confusion matrix.
        assert np.sum(model.confusion) == table.n_tracks * 2
        assert set(model.per_class) == set(table.labels)
        assert model.fit_seconds > 0 and model.input == "f.csv (handcrafted, 6 features)"
        for fold, split in zip(model.folds, results.splits):
            assert len(fold.predictions) == split.n_test_tracks
    assert [s.n_test_rows for s in results.splits] == [3 * s.n_test_tracks for s in results.splits]
    assert len(results.pairwise) == 1 and results.pairwise[0].test == "nadeau-bengio"
    assert results.protocol["kind"] == "cv" and results.protocol["caveat"]


def test_parallel_folds_give_the_same_scores(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=10))
    models = ["knn", "xgboost"]  # xgboost: several threads in one process against one in each
    serial = cross_validate_models(table, models, folds=3, jobs=1, progress=False)
    parallel = cross_validate_models(table, models, folds=3, jobs=2, progress=False)
    for one, other in zip(serial.models, parallel.models):
        assert [f.predictions for f in one.folds] == [f.predictions for f in other.folds]


def test_group_aware_protocol(tmp_path):
    table = load_feature_table(write_own_table(tmp_path / "f.csv", tracks_per_class=9, segments=2, groups_per_class=3))
    results = cross_validate_models(table, ["knn"], folds=3, progress=False)
    assert results.protocol["group_aware"] and results.protocol["caveat"] is None
    assert "groups of column 'group'" in results.protocol["description"]
    assert results.dataset["n_groups"] == 12


def test_fixed_partition_uses_mcnemar_and_wilson(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=10))
    lines = [f"{g}/{g}.{i:05d}.wav" for g in ("blues", "jazz", "metal", "classical") for i in range(3)]
    test = write_list(tmp_path / "test.txt", lines)
    results = cross_validate_models(table, ["logreg", "knn"], test_list=test, progress=False)
    assert results.protocol["kind"] == "fixed" and results.protocol["folds"] is None
    assert len(results.splits) == 1 and results.splits[0].n_test_tracks == 12
    assert results.pairwise[0].test == "mcnemar"
    model = results.models[0]
    assert len(model.folds) == 1 and math.isnan(model.accuracy_std)  # null in results.json, not 0
    low, high = model.accuracy_ci95
    assert low < model.accuracy < high or model.accuracy in (0.0, 1.0)


def test_bad_model_arguments_fail_before_work(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=4))
    with pytest.raises(ParameterError, match="unknown model 'nope'"):
        cross_validate_models(table, ["logreg", "nope"], progress=False)
    with pytest.raises(ParameterError, match="at least one model"):
        cross_validate_models(table, [" "], progress=False)
    with pytest.raises(ParameterError, match="--jobs 0"):
        cross_validate_models(table, ["knn"], jobs=0, progress=False)
    with pytest.raises(ParameterError, match="--train-list needs --test-list"):
        cross_validate_models(table, ["knn"], train_lists=["x.txt"], progress=False)


def test_real_gtzan_quick_benchmark(gtzan_features):
    table = load_feature_table(gtzan_features)
    results = cross_validate_models(table, ["svm", "logreg"], folds=3, progress=False)
    for model in results.models:
        # Published random-split figures for these features are ~65-80 %; chance is 10 %.
        assert 0.55 < model.accuracy < 0.85, (model.name, model.accuracy)
        assert np.sum(model.confusion) == 1000


def _tensorflow_threads_after_a_fold(**call):
    from genre.evaluation.cv import _fit_predict_in_worker

    _fit_predict_in_worker(**call)
    return os.environ.get("TF_NUM_INTRAOP_THREADS"), os.environ.get("TF_NUM_INTEROP_THREADS")


def test_a_parallel_fold_worker_gives_tensorflow_one_thread(monkeypatch):
    """loky limits BLAS and OpenMP in its workers, not TensorFlow: the fold sets it."""
    from joblib import Parallel, delayed

    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    monkeypatch.delenv("TF_NUM_INTEROP_THREADS", raising=False)
    X = np.random.default_rng(0).normal(size=(8, 2))
    y = np.array(["a", "b"] * 4)
    call = dict(model="logreg", params={}, split_index=0, seed=0, n_jobs=1, X_train=X, y_train=y, X_test=X,
                labels=["a", "b"], groups_train=np.arange(8).astype(str), where="fold 1")  # fmt: skip
    answers = Parallel(n_jobs=2)(delayed(_tensorflow_threads_after_a_fold)(**call) for _ in range(2))
    assert answers == [("1", "1"), ("1", "1")]
    assert "TF_NUM_INTRAOP_THREADS" not in os.environ  # the coordinating process keeps its own
