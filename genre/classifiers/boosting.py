"""Gradient-boosted trees (XGBoost) that accept string labels.

:class:`xgboost.XGBClassifier` wants integer targets ``0..k-1``; the wrapper
encodes the labels itself so it drops into any pipeline like a scikit-learn
classifier. XGBoost is imported only when a model is fitted or loaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from genre.classifiers.persistence import register_component
from genre.classifiers.registry import ModelSpec, check_number, register

__all__ = ["XGBoostClassifier"]

#: Accepted values of the numeric parameters, ``name: (integer, low, low excluded)``: the
#: lower bounds where XGBoost's own let a model learn nothing (0 rounds, a learning rate or
#: row sample of 0). Upper bounds (a fraction above 1) XGBoost refuses itself, in one line.
_LOWER_BOUNDS: dict[str, tuple[bool, float, bool]] = {
    "n_estimators": (True, 1, False),
    "learning_rate": (False, 0, True),
    "max_depth": (True, 0, False),
    "subsample": (False, 0, True),
    "colsample_bytree": (False, 0, True),
    "min_child_weight": (False, 0, False),
    "reg_lambda": (False, 0, False),
}


class XGBoostClassifier(ClassifierMixin, BaseEstimator):
    """Histogram gradient boosting via XGBoost, with label encoding.

    Parameters
    ----------
    n_estimators : int
        Boosting rounds, at least 1.
    learning_rate : float
        Shrinkage per round, > 0.
    max_depth : int
        Depth of each tree, >= 0 (0: no limit).
    subsample : float
        Fraction of rows sampled per tree, in (0, 1].
    colsample_bytree : float
        Fraction of features sampled per tree, in (0, 1].
    min_child_weight : float
        Minimum hessian sum in a leaf, >= 0.
    reg_lambda : float
        L2 penalty on leaf weights, >= 0.
    random_state : int
        Seed of the row and column sampling.
    n_jobs : int
        Threads XGBoost uses.

    Notes
    -----
    The parameters are checked in :meth:`fit`: XGBoost itself accepts ``n_estimators=0``,
    ``learning_rate=0`` or ``subsample=0`` and trains a model that predicts the class
    frequencies for every row.

    Attributes
    ----------
    booster_ : xgboost.XGBClassifier
        The fitted XGBoost model (trained on encoded labels).
    classes_ : ndarray
        Class labels; column ``i`` of :meth:`predict_proba` is ``classes_[i]``.
    """

    def __init__(
        self,
        *,
        n_estimators: int = 200,
        learning_rate: float = 0.1,
        max_depth: int = 4,
        subsample: float = 0.8,
        colsample_bytree: float = 0.5,
        min_child_weight: float = 1.0,
        reg_lambda: float = 1.0,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        """Refuse numbers below :data:`_LOWER_BOUNDS` before any work (run by :meth:`fit`, and before a benchmark)."""
        for name, (integer, low, low_open) in _LOWER_BOUNDS.items():
            check_number(getattr(self, name), name=name, owner="XGBoost", integer=integer, low=low, low_open=low_open)

    def fit(self, X, y) -> "XGBoostClassifier":
        """Fit the boosted trees on ``X`` and (any hashable) labels ``y``.

        Raises
        ------
        genre.errors.ParameterError
            A parameter that is not a number, or below the range given in the class docstring.
        ValueError
            A single class in ``y``; from XGBoost, a fraction above 1.
        """
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import validate_data

        # Before XGBoost is imported: a --param mistake is refused in a moment.
        self._check_params()
        from xgboost import XGBClassifier

        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"only one class in y ({self.classes_.tolist()[0]!r}); classification needs at least two")
        self.booster_ = XGBClassifier(
            tree_method="hist",
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            subsample=self.subsample,
            colsample_bytree=self.colsample_bytree,
            min_child_weight=self.min_child_weight,
            reg_lambda=self.reg_lambda,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            objective="binary:logistic" if len(self.classes_) == 2 else "multi:softprob",
            eval_metric="mlogloss" if len(self.classes_) > 2 else "logloss",
        )
        self.booster_.fit(X, codes)
        return self

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        from sklearn.utils.validation import validate_data

        check_is_fitted(self, "booster_")
        X = validate_data(self, X, reset=False, dtype=np.float32)
        return self.booster_.predict_proba(X)

    def predict(self, X):
        """Most probable class of each row."""
        proba = self.predict_proba(X)  # checks fitted-ness before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]


def _booster_to_bytes(model) -> bytes:
    # UBJSON: XGBoost's own portable format (trees and parameters, no Python objects).
    return bytes(model.get_booster().save_raw(raw_format="ubj"))


def _booster_from_bytes(data: bytes):
    from xgboost import XGBClassifier

    model = XGBClassifier()
    model.load_model(bytearray(data))
    return model


register_component(XGBoostClassifier, "booster_", suffix=".ubj", dump=_booster_to_bytes, load=_booster_from_bytes)


@register
class XGBoostSpec(ModelSpec):
    name = "xgboost"
    description = "XGBoost gradient-boosted trees (hist), shallow trees with row/column subsampling"
    # Folds in parallel, one thread each: on feature tables of this size XGBoost's threads wait
    # on each other more than they work (README, "Threads or processes").
    parallel_folds = True

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        options = {"random_state": random_state, "n_jobs": n_jobs}
        options.update(params)
        # Trees ignore scale; the scaler keeps every registered model the same shape.
        return Pipeline([("scale", StandardScaler()), ("model", XGBoostClassifier(**options))])
