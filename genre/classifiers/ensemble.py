"""Soft-voting ensemble of the SVM, XGBoost and dense-network models.

The three members make different kinds of errors (margins in a kernel space,
axis-aligned splits, a learned non-linear projection), so averaging their
probabilities is more accurate than any one of them; see the benchmark figures
in the README.

The vote is :class:`SoftVoteClassifier`, not scikit-learn's ``VotingClassifier``:
the latter's ``fit`` takes no ``groups``, so the SVM's inner grid search and the
dense network's early-stopping split would mix a track's segments (or an artist's
tracks) across their inner splits. Model files written with a ``VotingClassifier``
still load (see :mod:`genre.classifiers.persistence`).
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from genre.classifiers.persistence import trust_types
from genre.classifiers.registry import ModelSpec, get_spec, register
from genre.errors import ParameterError

__all__ = ["SoftVoteClassifier", "DEFAULT_MEMBERS"]

#: Registered models averaged by default.
DEFAULT_MEMBERS: tuple[str, ...] = ("svm", "xgboost", "dense")


class SoftVoteClassifier(ClassifierMixin, BaseEstimator):
    """Weighted mean of the members' class probabilities, with ``groups`` passed to the members.

    Parameters
    ----------
    estimators : list of (str, estimator)
        Named members, each a classifier with ``predict_proba``. Their parameters are
        reachable as ``<name>__<parameter>`` (``set_params(svm__model__C_grid=(1.0,))``).
    weights : float or sequence of float, optional
        Weight of each member's probabilities, in the order of ``estimators``;
        ``None`` weighs them equally. A single number stands for a list of one
        (for an ensemble of one member).

    Attributes
    ----------
    estimators_ : list of estimator
        The fitted members (clones of ``estimators``), in order.
    classes_ : ndarray
        Class labels; column ``i`` of :meth:`predict_proba` is ``classes_[i]``.
    n_features_in_ : int
        Columns of ``X`` seen in ``fit`` (as the first member reports them).
    """

    def __init__(self, estimators: list[tuple[str, Any]], *, weights: Sequence[float] | None = None) -> None:
        self.estimators = estimators
        self.weights = weights

    # -- parameters -------------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters; with ``deep``, also each member by name and its parameters as ``name__key``."""
        params = super().get_params(deep=False)
        if deep:
            for name, estimator in self._named_members():
                params[name] = estimator
                for key, value in estimator.get_params(deep=True).items():
                    params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params: Any) -> "SoftVoteClassifier":
        """Set parameters: ``estimators``, ``weights``, a member by name, or ``name__key``."""
        if "estimators" in params:
            self.estimators = params.pop("estimators")
        names = {name for name, _ in self._named_members()}
        replaced = {key: params.pop(key) for key in list(params) if key in names}
        if replaced:
            self.estimators = [(name, replaced.get(name, member)) for name, member in self.estimators]
        super().set_params(**params)  # weights, and name__key through the members' set_params
        return self

    def _named_members(self) -> list[tuple[str, Any]]:
        """``estimators`` as (name, estimator) pairs; empty while it is not such a list."""
        try:
            pairs = [(name, estimator) for name, estimator in self.estimators]
        except (TypeError, ValueError):
            return []
        return [(name, est) for name, est in pairs if isinstance(name, str) and hasattr(est, "get_params")]

    def _check_members(self) -> list[str]:
        """Names of the members; refuses an empty, unnamed or ambiguous list."""
        pairs = self._named_members()
        if not pairs or len(pairs) != len(self.estimators):
            raise ParameterError(
                f"ensemble: estimators must be a non-empty list of (name, estimator) pairs, got {self.estimators!r}"
            )
        names = [name for name, _ in pairs]
        # Names address parameters (name__key): they must be unique and unambiguous.
        clashing = sorted({n for n in names if names.count(n) > 1 or "__" in n or n in ("estimators", "weights")})
        if clashing or not all(names):
            raise ParameterError(f"ensemble: member names must be unique, non-empty and free of '__', got {names}")
        return names

    def _check_params(self) -> None:
        """Refuse bad members or weights before any work (run by :meth:`fit`, and before a benchmark)."""
        self._member_weights(len(self._check_members()))

    def _member_weights(self, n_members: int) -> np.ndarray | None:
        if self.weights is None:
            return None
        # One number is a list of one, as --param weights=1 gives it.
        weights = [self.weights] if isinstance(self.weights, numbers.Real) else self.weights
        try:
            weights = list(weights)
        except TypeError:  # not a sequence: refused below in words
            weights = []
        ok = len(weights) == n_members and all(
            isinstance(w, numbers.Real) and not isinstance(w, bool) and np.isfinite(w) and w >= 0 for w in weights
        )
        if not ok or not sum(weights) > 0:
            raise ParameterError(
                f"ensemble: weights must be {n_members} non-negative numbers, not all 0 (one per member), "
                f"got {self.weights!r}"
            )
        return np.asarray(weights, dtype=np.float64)

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, X, y, groups=None) -> "SoftVoteClassifier":
        """Fit a clone of every member on all rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        groups : array-like of shape (n_samples,), optional
            Track (or artist) of each row, passed to every member that splits its rows
            again (:func:`genre.classifiers.training.group_fit_params`), so that those
            inner splits keep a group's rows on one side.

        Returns
        -------
        self : SoftVoteClassifier
        """
        from sklearn.utils.multiclass import check_classification_targets

        from genre.classifiers.training import group_fit_params

        self._check_params()
        check_classification_targets(y)
        classes = np.unique(np.asarray(y))
        members = []
        for name, estimator in self.estimators:
            member = clone(estimator)
            extra = {} if groups is None else group_fit_params(member, groups)
            member.fit(X, y, **extra)
            # Every member saw the same y; a different class order would average unlike columns.
            if not np.array_equal(np.asarray(member.classes_), classes):
                raise ValueError(f"ensemble member {name!r} has classes {member.classes_!r}, expected {classes!r}")
            members.append(member)
        self.estimators_ = members
        self.classes_ = classes
        for attribute in ("n_features_in_", "feature_names_in_"):
            if hasattr(members[0], attribute):
                setattr(self, attribute, getattr(members[0], attribute))
        return self

    @property
    def named_estimators_(self) -> dict[str, Any]:
        """The fitted members by name."""
        check_is_fitted(self, "estimators_")
        return {name: member for (name, _), member in zip(self.estimators, self.estimators_)}

    # -- prediction -------------------------------------------------------------------------
    def predict_proba(self, X) -> np.ndarray:
        """Weighted mean of the members' probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "estimators_")
        weights = self._member_weights(len(self.estimators_))
        probas = [np.asarray(member.predict_proba(X), dtype=np.float64) for member in self.estimators_]
        return np.average(np.stack(probas), axis=0, weights=weights)

    def predict(self, X) -> np.ndarray:
        """Class of highest mean probability for each row."""
        proba = self.predict_proba(X)  # checks fitted-ness before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]


trust_types(SoftVoteClassifier)


@register
class SoftVoteSpec(ModelSpec):
    name = "ensemble"
    description = "soft vote (mean probability) of its members, by default svm + xgboost + dense"
    parallel_folds = True  # members run one thread each in a fold's process, as on their own

    def defaults(self) -> dict[str, Any]:
        # members is build()'s keyword, not the estimator's: its default is the spec's.
        return {"members": list(DEFAULT_MEMBERS), **super().defaults()}

    def build(
        self,
        *,
        random_state: int = 0,
        n_jobs: int = 1,
        members: str | Sequence[str] = DEFAULT_MEMBERS,
        weights: float | Sequence[float] | None = None,
        **params: Any,
    ):
        """The soft vote of ``members``; ``<member>__<parameter>`` goes to that member's build.

        E.g. ``build(members=("svm", "logreg"), svm__C_grid=(1.0, 10.0))``; one name is a
        list of one (``members="svm"``, as ``--param members=svm`` gives it). Any other
        keyword raises ``TypeError`` (which :func:`~genre.classifiers.registry.make_model`
        reports as a refused parameter).

        Raises
        ------
        genre.errors.ParameterError
            ``members`` is empty or not model names, or names an unknown model.
        """
        given = members
        try:
            members = [members] if isinstance(members, str) else list(members)
        except TypeError:  # a number, None: refused just below
            members = []
        if not members or not all(isinstance(name, str) and name for name in members):
            raise ParameterError(
                f"ensemble: members must be a model name or a list of model names (e.g. svm,logreg), got {given!r}"
            )
        member_params: dict[str, dict[str, Any]] = {name: {} for name in members}
        for key, value in params.items():
            member, _, parameter = key.partition("__")
            if member not in member_params or not parameter:
                raise TypeError(f"unexpected parameter {key!r}; the members are {list(members)}")
            member_params[member][parameter] = value
        # Members are fitted one after another: each may already use n_jobs threads.
        estimators = [
            (name, get_spec(name).build(random_state=random_state, n_jobs=n_jobs, **member_params[name]))
            for name in members
        ]
        return SoftVoteClassifier(estimators, weights=weights)

    def parameters(self) -> list[str]:
        return ["members", "weights", "<member>__<parameter>"]
