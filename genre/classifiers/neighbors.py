"""k-nearest neighbours on standardised features."""

from __future__ import annotations

from typing import Any

from genre.classifiers.registry import ModelSpec, register


@register
class KNeighborsSpec(ModelSpec):
    name = "knn"
    description = "standardised features -> k-nearest neighbours (distance-weighted)"
    parallel_folds = True

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        options = {"n_neighbors": 7, "weights": "distance", "n_jobs": n_jobs}
        options.update(params)
        return Pipeline([("scale", StandardScaler()), ("model", KNeighborsClassifier(**options))])
