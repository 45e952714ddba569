"""Linear baselines: multinomial logistic regression and shrinkage linear discriminant analysis."""

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


@register
class ShrinkageLDASpec(ModelSpec):
    name = "lda"
    description = "gaussianised features -> linear discriminant analysis (Ledoit-Wolf shrinkage)"
    parallel_folds = True

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
        from sklearn.pipeline import Pipeline

        from genre.classifiers.preprocessing import gaussianise

        # One covariance shared by all genres, shrunk towards a diagonal by the Ledoit-Wolf
        # estimate: few degrees of freedom, so it carries over to unseen artists about as
        # well as the tuned models (benchmarks/gtzan_selection.py --lda) at a tiny cost.
        options = {"solver": "lsqr", "shrinkage": "auto"}
        options.update(params)
        return Pipeline([("scale", gaussianise(random_state=random_state)), ("model", LinearDiscriminantAnalysis(**options))])
