"""Statistics over folds: summaries, confidence intervals and paired model comparisons.

Cross-validation folds are not independent samples: their training sets overlap, so
the spread of fold scores understates the real uncertainty and a plain paired t-test
between two models finds "significant" differences far too often. For comparisons we
use the *corrected resampled t-test* of Nadeau & Bengio (2003), which inflates the
variance of the per-fold differences by ``n_test / n_train``::

    t = mean(d) / sqrt((1/k + n_test/n_train) * var(d)),   df = k - 1

with ``d`` the per-fold score differences over ``k`` folds (all repeats pooled). p-values
of all model pairs are then adjusted with Holm's step-down method, which controls the
family-wise error rate.

When every fold gives the same non-zero difference, ``var(d)`` is 0 and ``t`` is not
defined: such a pair is *not testable* (p is NaN), never "significant". With ``k = 2``
folds the test has one degree of freedom; its verdicts say so.

A single fixed train/test partition has no folds: there, accuracy gets a Wilson
interval over test tracks, and models are compared with the exact McNemar test on
their paired per-track correctness.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Callable, Mapping, Sequence

import numpy as np

from genre.errors import ParameterError
from genre.text import plural

__all__ = [
    "Summary",
    "PairwiseTest",
    "summarize",
    "corrected_resampled_ttest",
    "holm",
    "mcnemar_exact",
    "wilson_interval",
    "pairwise_corrected_ttests",
    "pairwise_mcnemar",
]


@dataclass(frozen=True)
class Summary:
    """Mean, spread and a 95 % t-interval of scores over folds.

    Attributes
    ----------
    mean, std : float
        Mean and sample standard deviation (``ddof=1``; NaN for one value).
    ci_low, ci_high : float
        95 % Student-t interval of the mean; its variance is corrected for overlapping
        training sets when :func:`summarize` is given ``test_train_ratio`` (NaN with fewer
        than two folds).
    n : int
        Number of folds.
    """

    mean: float
    std: float
    ci_low: float
    ci_high: float
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PairwiseTest:
    """A paired comparison of two models evaluated on the same splits.

    Attributes
    ----------
    model_a, model_b : str
        The models; ``difference`` is ``a - b``.
    metric : str
        Compared score, e.g. ``"accuracy"``.
    test : str
        ``"nadeau-bengio"`` (corrected resampled t) or ``"mcnemar"`` (exact, fixed split).
    difference : float
        Mean score difference ``a - b``.
    statistic : float
        t statistic; for McNemar, tracks only ``a`` got right minus tracks only ``b`` got right.
    df : float
        Degrees of freedom of the t test (NaN for McNemar).
    p_value : float
        Two-sided p-value of the single comparison.
    p_holm : float
        p-value after Holm's correction over all pairs.
    significant : bool
        ``p_holm < alpha``; never true for an untestable pair (NaN p).
    alpha : float
        The family-wise significance level.
    only_a, only_b : int or None
        McNemar only: test tracks that only ``a`` (only ``b``) classified correctly, the
        discordant counts the exact p-value is computed from; ``None`` for the t-test.
    """

    model_a: str
    model_b: str
    metric: str
    test: str
    difference: float
    statistic: float
    df: float
    p_value: float
    p_holm: float
    significant: bool
    alpha: float
    only_a: int | None = None
    only_b: int | None = None

    @property
    def testable(self) -> bool:
        """Whether the test gave a p-value (a t-test needs some spread of the fold differences)."""
        return math.isfinite(self.p_value)

    @property
    def weak(self) -> bool:
        """A t-test with fewer than 2 degrees of freedom (2 fold scores): its tails are so heavy
        that the p-value hinges on the single variance estimate."""
        return self.test == "nadeau-bengio" and math.isfinite(self.df) and self.df < 2

    @property
    def verdict(self) -> str:
        """A sentence saying which model is better, or that the data cannot tell."""
        if not self.testable:
            reason = "identical differences in every fold" if self.test == "nadeau-bengio" else "no p-value"
            return f"not testable ({reason}) between {self.model_a} and {self.model_b}"
        if not self.significant:
            sentence = f"no significant difference between {self.model_a} and {self.model_b}"
        else:
            better, worse = (self.model_a, self.model_b) if self.difference > 0 else (self.model_b, self.model_a)
            sentence = f"{better} is significantly better than {worse}"
        if self.weak:
            folds = int(round(self.df)) + 1
            sentence += (
                f" (weak test: {folds} fold scores give {self.df:.0f} {plural(self.df, 'degree', 'degrees')} "
                "of freedom)"
            )
        return sentence

    def to_dict(self) -> dict:
        data = asdict(self)
        data["verdict"] = self.verdict
        return data

    @classmethod
    def from_dict(cls, data: Mapping) -> "PairwiseTest":
        values = {k: v for k, v in data.items() if k != "verdict"}
        # An untestable pair is never significant, whatever an edited file claims.
        values["significant"] = bool(values.get("significant")) and math.isfinite(float(values.get("p_value")))
        return cls(**values)


#: Relative spread below which paired fold differences count as identical (rounding only):
#: about 4500 float64 ulps, far below any real difference of scores over test sets.
_ROUNDING = 1e-12


def _t_ppf(q: float, df: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(q, df))


def summarize(
    values: Sequence[float],
    *,
    confidence: float = 0.95,
    bounds: tuple[float, float] | None = None,
    test_train_ratio: float | None = None,
) -> Summary:
    """Mean, standard deviation and Student-t confidence interval of fold scores.

    Parameters
    ----------
    values : sequence of float
        One score per fold.
    confidence : float
        Coverage of the interval.
    bounds : (float, float), optional
        Range of the score (``(0, 1)`` for accuracy); the interval is clipped to it.
    test_train_ratio : float, optional
        ``n_test / n_train`` of one fold. Given, the variance of the mean is Nadeau and
        Bengio's ``(1/k + n_test/n_train) * var`` instead of ``var / k``, the same
        correction as :func:`corrected_resampled_ttest`: folds (and repeats) share training
        rows, so ``var / k`` shrinks with every repeat of the same data although the
        uncertainty does not. ``None``: folds are treated as independent.

    Returns
    -------
    Summary
        ``std`` is NaN for a single score; the interval is NaN for fewer than two, and has
        no width when every score is the same (the caller may substitute another).
    """
    data = np.asarray(values, dtype=float)
    n = int(data.size)
    if n == 0:
        return Summary(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(data.mean())
    if n < 2:
        # One score (a fixed partition) has no spread: NaN (null in results.json), not 0.
        return Summary(mean, math.nan, math.nan, math.nan, n)
    std = float(data.std(ddof=1))
    spread = 1.0 / n + (test_train_ratio or 0.0)
    half = _t_ppf(0.5 + confidence / 2, n - 1) * std * math.sqrt(spread)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Summary(mean, std, low, high, n)


def corrected_resampled_ttest(
    scores_a: Sequence[float],
    scores_b: Sequence[float],
    *,
    test_train_ratio: float,
) -> tuple[float, float, int]:
    """Nadeau--Bengio corrected resampled t-test of paired fold scores.

    Parameters
    ----------
    scores_a, scores_b : sequence of float
        Scores of two models on the same ``k`` folds (all repeats, same order).
    test_train_ratio : float
        ``n_test / n_train`` of one fold (mean over folds).

    Returns
    -------
    t : float
        The corrected t statistic (positive when ``a`` scores higher); NaN when not testable.
    p_value : float
        Two-sided p-value from Student's t with ``k - 1`` degrees of freedom; NaN when
        not testable.
    df : int
        ``k - 1``.

    Notes
    -----
    The naive paired test divides ``var(d)`` by ``k``; because training sets overlap the
    differences are positively correlated, and Nadeau & Bengio (2003, *Machine Learning*
    52:239) replace ``1/k`` by ``1/k + n_test/n_train``.

    When every fold gives the same difference (up to floating-point rounding) the variance
    is 0 and ``t`` is undefined: for a zero difference (the models tie in every fold) the
    result is ``t = 0, p = 1``; otherwise the test cannot be carried out and ``t`` and
    ``p`` are NaN. A constant difference over a handful of folds is no evidence of a real
    one (two folds that happen to agree), so it is never reported as ``p = 0``.
    """
    from scipy import stats

    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ParameterError("paired scores must be 1-D arrays of the same length")
    k = int(a.size)
    if k < 2:
        raise ParameterError("the corrected t-test needs at least two folds")
    diff = a - b
    mean = float(diff.mean())
    var = float(diff.var(ddof=1))
    df = k - 1
    # Equal differences computed from different scores differ in their last bits (e.g.
    # 10/12 - 8/12 vs 9/12 - 7/12), leaving a variance of ~1e-32 that makes t ~ 1e15.
    # Real fold scores differ by at least 1/n_test, so a spread below _ROUNDING times the
    # scores' magnitude is rounding, not data.
    scale = float(max(np.abs(a).max(), np.abs(b).max(), np.abs(diff).max()))
    if math.sqrt(var) <= _ROUNDING * scale:
        if abs(mean) <= _ROUNDING * scale:
            return 0.0, 1.0, df
        return math.nan, math.nan, df
    denominator = math.sqrt((1.0 / k + test_train_ratio) * var)
    t = mean / denominator
    p = float(2.0 * stats.t.sf(abs(t), df))
    return float(t), min(p, 1.0), df


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values.

    Parameters
    ----------
    p_values : sequence of float

    Returns
    -------
    adjusted : list of float
        In the input order; ``adjusted[i] < alpha`` rejects hypothesis ``i`` with
        family-wise error rate at most ``alpha``. A NaN p-value (a hypothesis that could
        not be tested) stays NaN and does not count in the family: it can never be
        rejected, so it needs no share of ``alpha``.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.size, math.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = tested.size
    order = tested[np.argsort(p[tested], kind="stable")]
    running = 0.0
    for rank, position in enumerate(order):
        # Multiply the r-th smallest by (m - r) and keep the sequence monotone.
        running = max(running, min(1.0, (m - rank) * p[position]))
        adjusted[position] = running
    return adjusted.tolist()


def mcnemar_exact(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> tuple[int, int, float]:
    """Exact (binomial) McNemar test of two classifiers on the same test items.

    Returns
    -------
    only_a : int
        Items ``a`` got right and ``b`` wrong.
    only_b : int
        Items ``b`` got right and ``a`` wrong.
    p_value : float
        Two-sided exact p-value (1 when there is no discordant item).
    """
    from scipy import stats

    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    only_a = int(np.sum(a & ~b))
    only_b = int(np.sum(~a & b))
    n = only_a + only_b
    if n == 0:
        return only_a, only_b, 1.0
    p = float(stats.binomtest(only_a, n, 0.5, alternative="two-sided").pvalue)
    return only_a, only_b, min(p, 1.0)


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (accuracy on ``n`` independent test items)."""
    from scipy import stats

    if n == 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    phat = successes / n
    centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def pairwise_corrected_ttests(
    scores: Mapping[str, Sequence[float]],
    *,
    test_train_ratio: float,
    metric: str = "accuracy",
    alpha: float = 0.05,
) -> list[PairwiseTest]:
    """Corrected resampled t-tests between every pair of models, Holm-adjusted.

    Parameters
    ----------
    scores : mapping of str to sequence of float
        Per-fold scores of each model, all on the same folds in the same order.
    test_train_ratio : float
        Mean ``n_test / n_train`` over folds.
    metric : str
        Name recorded in the results.
    alpha : float
        Family-wise significance level.

    Returns
    -------
    tests : list of PairwiseTest
        One per unordered pair, in the order of ``scores``.
    """

    def ttest(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float, None]:
        t, p, df = corrected_resampled_ttest(a, b, test_train_ratio=test_train_ratio)
        return t, df, p, None

    return _holm_family(scores, ttest, test="nadeau-bengio", metric=metric, alpha=alpha)


def pairwise_mcnemar(
    correct: Mapping[str, Sequence[bool]],
    *,
    metric: str = "accuracy",
    alpha: float = 0.05,
) -> list[PairwiseTest]:
    """Exact McNemar tests between every pair of models on one test set, Holm-adjusted.

    Parameters
    ----------
    correct : mapping of str to sequence of bool
        Per-test-track correctness of each model, tracks in the same order.
    """

    def mcnemar(a: Sequence[bool], b: Sequence[bool]) -> tuple[float, float, float, tuple[int, int]]:
        only_a, only_b, p = mcnemar_exact(a, b)
        return float(only_a - only_b), math.nan, p, (int(only_a), int(only_b))

    return _holm_family(correct, mcnemar, test="mcnemar", metric=metric, alpha=alpha)


def _holm_family(
    values: Mapping[str, Sequence[float]],
    pair_test: Callable[[Sequence, Sequence], tuple[float, float, float, "tuple[int, int] | None"]],
    *,
    test: str,
    metric: str,
    alpha: float,
) -> list[PairwiseTest]:
    """Run ``pair_test(a, b) -> (statistic, df, p, discordant)`` on every pair of models, Holm-adjusting the p-values.

    The difference recorded is the difference of the means of ``values``.
    """
    raw = [
        (a, b, float(np.mean(values[a]) - np.mean(values[b])), *pair_test(values[a], values[b]))
        for a, b in combinations(values, 2)
    ]
    adjusted = holm([p for *_, p, _ in raw])
    return [
        PairwiseTest(a, b, metric, test, diff, stat, float(df), p, q, bool(q < alpha), alpha, *(discordant or (None, None)))
        for (a, b, diff, stat, df, p, discordant), q in zip(raw, adjusted)
    ]
