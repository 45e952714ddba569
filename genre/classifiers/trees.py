"""Random forest: a robust non-linear baseline that needs no tuning."""

from __future__ import annotations

from typing import Any

from genre.classifiers.registry import ModelSpec, register


@register
class RandomForestSpec(ModelSpec):
    name = "random-forest"
    description = "random forest of 500 trees (balanced class weights)"
    parallel_folds = True

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        options = {
            "n_estimators": 500,
            "max_features": "sqrt",
            "class_weight": "balanced",
            "random_state": random_state,
            "n_jobs": n_jobs,
        }
        options.update(params)
        # Trees ignore scale; the scaler keeps every registered model the same shape.
        return Pipeline([("scale", StandardScaler()), ("model", RandomForestClassifier(**options))])
