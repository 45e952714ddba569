"""Multinomial logistic regression: the linear baseline."""

from __future__ import annotations

from typing import Any

from genre.classifiers.registry import ModelSpec, register


@register
class LogisticRegressionSpec(ModelSpec):
    name = "logreg"
    description = "standardised features -> multinomial logistic regression (L2)"
    parallel_folds = True

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        # Moderate regularisation: with ~60 correlated descriptors C=1 overfits slightly.
        options = {"C": 0.3, "max_iter": 5000, "class_weight": "balanced", "random_state": random_state}
        options.update(params)
        return Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(**options))])
