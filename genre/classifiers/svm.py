"""Support-vector machine whose kernel, C and gamma are tuned on the training data only.

The tuning happens inside :meth:`TunedSVC.fit`, so when the estimator is
cross-validated the search sees only the outer training fold: the reported
accuracy is not inflated by choosing hyper-parameters on the test rows.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from genre.classifiers.persistence import trust_types
from genre.classifiers.preprocessing import gaussianise
from genre.classifiers.registry import ModelSpec, as_values, check_number, register
from genre.errors import FallbackWarning, ParameterError

__all__ = ["TunedSVC"]


class TunedSVC(ClassifierMixin, BaseEstimator):
    """SVC with an inner grid search over the kernel, ``C`` and ``gamma``.

    Parameters
    ----------
    kernels : {"rbf", "linear"} or sequence of them
        Candidate kernels. ``gamma_grid`` applies to ``"rbf"`` only.
    C_grid : float or sequence of float
        Candidate values of the penalty ``C``, each > 0. One value disables the search.
    gamma_grid : float, str or sequence of them
        Candidate kernel widths, each > 0, ``"scale"`` (1 / (n_features * X.var())) or ``"auto"``
        (1 / n_features).
    cv : int
        Inner stratified folds used to score each candidate, at least 2.
    max_tune_rows : int
        The search runs on at most this many randomly chosen rows (whole groups when
        ``groups`` are given) so that segment-level tables stay fast; the final model
        uses every row. At least 1.
    random_state : int
        Seed of the inner folds, the row sample and the calibration folds.
    n_jobs : int
        Processes for the inner search.

    Notes
    -----
    A single value stands for a one-candidate grid (``C_grid=10``, ``kernels="linear"``), as
    ``--param C_grid=10`` gives it. The grids and numbers are checked in :meth:`fit`, which
    raises :class:`~genre.errors.ParameterError` naming the parameter.

    Small tables: the inner search uses ``min(cv, fewest tracks of a class)`` folds (groups
    instead of tracks when ``groups`` are given), and the calibration ``min(3, ...)``. When a
    class has a single track or group, 2 folds are impossible: the search is skipped for the
    middle of the grid, and the probabilities are a softmax of the SVC's decision values,
    not calibrated. ``tuning_folds_`` and ``calibration_folds_`` say what happened.

    Attributes
    ----------
    best_params_ : dict
        The chosen ``kernel``, ``C`` and (RBF) ``gamma``. Without a search: the first
        kernel with the middle value of each of its grids.
    tuning_folds_ : int
        Folds of the inner search; 0 when none ran (a one-candidate grid, or a class with
        a single track or group in the tuning rows).
    calibration_folds_ : int
        Folds whose out-of-fold decision values calibrated the probabilities; 0 when they
        are not calibrated (a class with a single track or group).
    model_ : sklearn.calibration.CalibratedClassifierCV or sklearn.svm.SVC
        The final SVC refitted on all rows, wrapped with its sigmoid calibration when
        ``calibration_folds_`` > 0.
    classes_ : ndarray
        Class labels.
    """

    def __init__(
        self,
        *,
        kernels: str | Sequence[str] = ("rbf",),
        C_grid: float | Sequence[float] = (3.0, 10.0, 30.0),
        gamma_grid: float | str | Sequence[float | str] = ("scale",),
        cv: int = 3,
        max_tune_rows: int = 3000,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.kernels = kernels
        self.C_grid = C_grid
        self.gamma_grid = gamma_grid
        self.cv = cv
        self.max_tune_rows = max_tune_rows
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y, groups=None) -> "TunedSVC":
        """Search kernel/``C``/``gamma`` by inner cross-validation, then refit on all rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        groups : array-like of shape (n_samples,), optional
            Track (or artist) of each row. Given, the inner folds keep a group's rows
            together, so segments of one track never score each other.

        Returns
        -------
        self : TunedSVC

        Raises
        ------
        genre.errors.ParameterError
            An empty grid, an unknown kernel, a ``C`` or ``gamma`` that is not a positive
            number, ``cv`` < 2 or ``max_tune_rows`` < 1.
        ValueError
            A single row, or a single class.
        """
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import GridSearchCV, ParameterGrid
        from sklearn.svm import SVC
        from sklearn.utils import check_consistent_length
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import validate_data

        # Parameters first: a user's --param mistake is named before anything about the data.
        grid = self._check_params()
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        if groups is not None:
            groups = np.asarray(groups)
            check_consistent_length(y, groups)
        classes = np.unique(y)
        # Refused here in words, not by a splitter deep inside the search or the calibration.
        if len(y) < 2:
            raise ValueError("the SVM cannot be fitted on 1 sample")
        if len(classes) < 2:
            raise ValueError(f"only one class in y ({classes.tolist()[0]!r}); classification needs at least two")
        self.classes_ = classes
        # No class weights: the sigmoid calibration below, fitted on unweighted rows, would
        # undo them in the probabilities anyway.
        base = dict(random_state=self.random_state)
        self.tuning_folds_ = 0
        if len(ParameterGrid(grid)) > 1:
            Xt, yt, gt = self._tuning_rows(X, y, groups)
            # Fewer folds rather than scikit-learn's refusal on a small table (its message names
            # an n_splits the user never set); a single fold is no search at all.
            folds = min(self.cv, _fewest_per_class(yt, gt))
            if folds >= 2:
                # Candidates are ranked by accuracy of the raw SVC: calibrating each one would
                # triple the cost and does not change the ranking.
                splitter = self._splitter(folds, grouped=gt is not None)
                search = GridSearchCV(SVC(**base), grid, cv=splitter, n_jobs=self.n_jobs, refit=False)
                search.fit(Xt, yt, groups=gt)
                self.best_params_ = dict(search.best_params_)
                self.tuning_folds_ = folds
        if not self.tuning_folds_:
            # A class with one track (or group) cannot be split for scoring. Fitting the middle of
            # the grid, recorded by tuning_folds_ = 0, is more use than a refusal: a benchmark fold
            # or an artist-grouped split of a tiny table still gets a model, like the other models.
            self.best_params_ = {key: values[len(values) // 2] for key, values in grid[0].items()}
        svc = SVC(**base, **self.best_params_)
        # Probabilities by Platt-style sigmoid calibration on out-of-fold decision values
        # (SVC(probability=True) is deprecated in scikit-learn 1.9); ensemble=False keeps
        # one SVC trained on every row, so predict and predict_proba agree. With groups the
        # folds keep a track's segments (an artist's tracks) together: decision values of a
        # track seen in training would teach the sigmoid overconfident probabilities.
        folds = min(3, _fewest_per_class(y, groups))
        if folds >= 2:
            calibration_cv = list(self._splitter(folds, grouped=groups is not None).split(X, y, groups))
            self.model_ = CalibratedClassifierCV(svc, method="sigmoid", cv=calibration_cv, ensemble=False)
            self.calibration_folds_ = folds
        else:
            # No out-of-fold decision values without leaking a track into its own calibration
            # (a sigmoid fitted on training rows is overconfident), so predict_proba falls back
            # to a softmax of the decision values: uncalibrated, recorded by calibration_folds_ = 0.
            self.model_ = svc
            self.calibration_folds_ = 0
        self.model_.fit(X, y)
        fallbacks = []
        if not self.tuning_folds_ and len(ParameterGrid(grid)) > 1:
            chosen = ", ".join(f"{key}={value!r}" for key, value in sorted(self.best_params_.items()))
            fallbacks.append(f"the grid was not searched ({chosen} taken)")
        if not self.calibration_folds_:
            fallbacks.append("the probabilities are not calibrated")
        if fallbacks:
            # Said, not only recorded: a report would otherwise call this SVM tuned and calibrated.
            warnings.warn(
                "SVM: a class has a single track (or group) among the training rows, so " + " and ".join(fallbacks),
                FallbackWarning,
                stacklevel=2,
            )
        return self

    def _check_params(self) -> list[dict]:
        """Refuse bad grids or numbers before any work (run by :meth:`fit`, and before a benchmark).

        Returns
        -------
        grid : list of dict
            The search space (see :meth:`_candidates`).
        """
        grid = self._candidates()
        check_number(self.cv, name="cv", owner="SVM", integer=True, low=2)
        check_number(self.max_tune_rows, name="max_tune_rows", owner="SVM", integer=True, low=1)
        return grid

    def _splitter(self, folds: int, *, grouped: bool):
        """Stratified folds of the inner search and the calibration, keeping groups whole when given."""
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

        kind = StratifiedGroupKFold if grouped else StratifiedKFold
        return kind(folds, shuffle=True, random_state=self.random_state)

    def _candidates(self) -> list[dict]:
        """The search space as a list of grids, one per kernel (gamma only where it applies).

        Raises
        ------
        genre.errors.ParameterError
            An empty grid, an unknown kernel, a ``C`` or ``gamma`` that is not a positive number.
        """
        kernels = as_values(self.kernels, name="kernels", owner="SVM")
        if not all(isinstance(kernel, str) and kernel in ("rbf", "linear") for kernel in kernels):
            raise ParameterError(f"SVM: kernels must be 'rbf' and/or 'linear', got {kernels!r}")
        C_grid = as_values(self.C_grid, name="C_grid", owner="SVM")
        for C in C_grid:
            check_number(C, name="every C_grid value", owner="SVM", low=0, low_open=True)
        gamma_grid = as_values(self.gamma_grid, name="gamma_grid", owner="SVM")
        for gamma in gamma_grid:
            if isinstance(gamma, str):
                if gamma not in ("scale", "auto"):
                    raise ParameterError(
                        f"SVM: every gamma_grid value must be a number > 0, 'scale' or 'auto', got {gamma!r}"
                    )
            else:
                check_number(gamma, name="every gamma_grid value", owner="SVM", low=0, low_open=True)
        grids = []
        for kernel in dict.fromkeys(kernels):
            grid = {"kernel": [kernel], "C": C_grid}
            if kernel == "rbf":
                grid["gamma"] = gamma_grid
            grids.append(grid)
        return grids

    def _tuning_rows(self, X, y, groups):
        groups = None if groups is None else np.asarray(groups)
        if len(y) <= self.max_tune_rows:
            return X, y, groups
        rng = np.random.default_rng(self.random_state)
        if groups is None:
            keep = np.sort(rng.choice(len(y), self.max_tune_rows, replace=False))
        else:
            # Sample whole groups so the grouped inner folds stay meaningful.
            unique = rng.permutation(np.unique(groups))
            sizes = np.array([np.sum(groups == g) for g in unique])
            chosen = unique[: max(int(np.searchsorted(np.cumsum(sizes), self.max_tune_rows)), self.cv)]
            keep = np.flatnonzero(np.isin(groups, chosen))
            groups = groups[keep]
        return X[keep], y[keep], groups

    def predict(self, X):
        proba = self.predict_proba(X)  # first: raises NotFittedError before classes_ is looked up
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_proba(self, X):
        check_is_fitted(self, "model_")
        from sklearn.utils.validation import validate_data

        X = validate_data(self, X, reset=False)
        # Model files saved before calibration_folds_ existed always hold a calibrated model_.
        if getattr(self, "calibration_folds_", 1):
            return self.model_.predict_proba(X)
        from scipy.special import softmax

        scores = self.model_.decision_function(X)
        if scores.ndim == 1:  # two classes: one value, positive for classes_[1]
            scores = np.column_stack([np.zeros_like(scores), scores])
        return softmax(scores, axis=1)


trust_types(TunedSVC)


@register
class SVMSpec(ModelSpec):
    name = "svm"
    description = (
        "gaussianised features -> RBF SVM, C tuned by inner CV on the training data (by default C in "
        "{3, 10, 30}, 3 folds, gamma 'scale'), sigmoid-calibrated probabilities"
    )
    parallel_folds = True

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        from sklearn.pipeline import Pipeline

        options = {"random_state": random_state, "n_jobs": n_jobs}
        options.update(params)
        return Pipeline([("scale", gaussianise(random_state=random_state)), ("model", TunedSVC(**options))])


def _fewest_per_class(y: np.ndarray, groups: np.ndarray | None) -> int:
    """Smallest number of rows (distinct groups, when given) any class has."""
    if groups is None:
        return int(np.unique(y, return_counts=True)[1].min())
    return min(len(np.unique(groups[y == label])) for label in np.unique(y))
