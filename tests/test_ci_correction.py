"""The cross-validation interval is corrected for overlapping training sets, so repeats do not shrink it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from genre.evaluation.stats import summarize


def test_without_a_ratio_the_interval_is_the_plain_student_t_interval():
    scores = [0.70, 0.80, 0.90, 0.75]
    summary = summarize(scores)
    half = stats.t.ppf(0.975, 3) * np.std(scores, ddof=1) / math.sqrt(4)
    assert summary.ci_low == pytest.approx(np.mean(scores) - half)
    assert summary.ci_high == pytest.approx(np.mean(scores) + half)


def test_the_ratio_widens_the_interval_by_nadeau_and_bengio():
    scores = [0.70, 0.80, 0.90, 0.75, 0.85]
    plain, corrected = summarize(scores), summarize(scores, test_train_ratio=0.25)
    # (1/k + n_test/n_train) / (1/k) = (0.2 + 0.25) / 0.2
    assert (corrected.ci_high - corrected.ci_low) / (plain.ci_high - plain.ci_low) == pytest.approx(math.sqrt(2.25))
    assert corrected.mean == plain.mean and corrected.std == plain.std


def test_repeats_of_the_same_folds_narrow_the_corrected_interval_much_less():
    rng = np.random.default_rng(0)
    one_repeat = 0.75 + 0.03 * rng.standard_normal(5)
    five_repeats = np.concatenate([one_repeat + 0.005 * rng.standard_normal(5) for _ in range(5)])
    width = {
        name: summarize(scores, test_train_ratio=0.25).ci_high - summarize(scores, test_train_ratio=0.25).ci_low
        for name, scores in (("one", one_repeat), ("five", five_repeats))
    }
    plain = {name: summarize(s).ci_high - summarize(s).ci_low for name, s in (("one", one_repeat), ("five", five_repeats))}
    # Uncorrected, five repeats of the same data make the mean look 2.5x surer; corrected, the
    # 1/k term shrinks but n_test/n_train does not (what is left is the t quantile's df).
    assert plain["five"] / plain["one"] < 0.4
    assert width["five"] / width["one"] > 0.5


def test_bounds_still_clip_the_corrected_interval():
    summary = summarize([0.97, 1.0, 0.99, 1.0], bounds=(0.0, 1.0), test_train_ratio=0.33)
    assert summary.ci_high == 1.0 and summary.ci_low < summary.mean
