"""Seeds, column roles and class sizes that no cross-validation can use: one clear message each."""

from __future__ import annotations

import pandas as pd
import pytest

from feature_tables import write_gtzan_table
from genre.classifiers.registry import MAX_SEED, check_seed, make_model
from genre.errors import DataError, ParameterError
from genre.evaluation import cross_validate_models
from genre.evaluation.splits import cv_splits
from genre.features.table import load_feature_table


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1, 2.5, "3", True])
def test_seeds_numpy_cannot_take_are_refused(seed):
    with pytest.raises(ParameterError, match="--seed"):
        check_seed(seed)
    with pytest.raises(ParameterError, match="--seed"):
        make_model("svm", random_state=seed)


def test_repeats_count_against_the_largest_seed(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=6))
    assert check_seed(MAX_SEED) == MAX_SEED
    assert len(cv_splits(table, folds=2, repeats=2, random_state=MAX_SEED - 1)) == 4
    with pytest.raises(ParameterError, match=r"3 repeats use seed to seed \+ 2"):
        cv_splits(table, folds=2, repeats=3, random_state=MAX_SEED - 1)
    # Refused before any model is fitted, with the option's name.
    with pytest.raises(ParameterError, match=r"^--seed -5: must lie between 0 and"):
        cross_validate_models(table, ["svm"], folds=2, seed=-5)


def test_label_column_cannot_also_be_the_groups_or_ids(tmp_path):
    path = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=4)
    with pytest.raises(ParameterError, match=r"the label column found \('label'\) and --group-col are the same column"):
        load_feature_table(path, group_col="label")
    with pytest.raises(ParameterError, match=r"the label column found \('label'\) and --id-col are the same column"):
        load_feature_table(path, id_col="label")
    with pytest.raises(ParameterError, match="--label-col and --id-col are both 'label'"):
        load_feature_table(path, label_col="label", id_col="label")


def test_a_single_track_class_is_not_told_to_use_fewer_folds(tmp_path):
    path = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=6)
    frame = pd.read_csv(path)
    frame.loc[0, "label"] = "lonely"
    frame.to_csv(path, index=False)
    table = load_feature_table(path)
    with pytest.raises(DataError) as caught:
        cv_splits(table, folds=5)
    message = str(caught.value)
    assert "'lonely' has 1" in message and "a class with a single track cannot be cross-validated" in message
    assert "--folds" not in message


def test_fewer_folds_is_advised_when_it_helps(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=3))
    with pytest.raises(DataError, match="use --folds 3 or fewer"):
        cv_splits(table, folds=5)


def test_mostly_single_track_classes_question_the_label_column(tmp_path):
    path = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=3)
    frame = pd.read_csv(path)
    frame["label"] = [f"c{i}" for i in range(len(frame))]
    frame.loc[1, "label"] = "c0"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match="really the label column"):
        cv_splits(load_feature_table(path), folds=2)


def test_one_group_in_all_needs_no_fold_advice(tmp_path):
    path = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=4)
    frame = pd.read_csv(path)
    frame["artist"] = "everyone"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as caught:
        cv_splits(load_feature_table(path, group_col="artist"), folds=2)
    assert "1 group for 2 folds; cross-validation needs at least 2 groups" in str(caught.value)
    assert "--folds" not in str(caught.value)
