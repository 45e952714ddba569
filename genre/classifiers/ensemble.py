"""Soft-voting ensemble of the SVM, XGBoost and dense-network models.

The three members make different kinds of errors (margins in a kernel space,
axis-aligned splits, a learned non-linear projection), so averaging their
probabilities is more accurate than any one of them; see the benchmark figures
in the README.
"""

from __future__ import annotations

from typing import Any, Sequence

from genre.classifiers.registry import ModelSpec, get_spec, register

#: Registered models averaged by default.
DEFAULT_MEMBERS: tuple[str, ...] = ("svm", "xgboost", "dense")


@register
class SoftVoteSpec(ModelSpec):
    name = "ensemble"
    description = "soft vote (mean probability) of svm + xgboost + dense"
    parallel_folds = False  # contains the multi-threaded XGBoost and Keras members

    def build(
        self,
        *,
        random_state: int = 0,
        n_jobs: int = 1,
        members: Sequence[str] = DEFAULT_MEMBERS,
        weights: Sequence[float] | None = None,
        **params: Any,
    ):
        from sklearn.ensemble import VotingClassifier

        if params:
            raise TypeError(f"unexpected parameters {sorted(params)}; set member parameters after building")
        estimators = [
            (name, get_spec(name).build(random_state=random_state, n_jobs=n_jobs)) for name in members
        ]
        # Members are fitted one after another: each may already use n_jobs threads.
        return VotingClassifier(estimators, voting="soft", weights=weights, n_jobs=None)
