"""Classifiers on pretrained musicnn embeddings (tables written with ``MusicnnExtractor``).

The published transfer-learning recipe for musicnn is: the pooled mid-end activations
(``max_pool``) of each ~3 s patch, reduced by PCA, classified by an SVM. These specs
read only the ``max_pool`` columns of a ``musicnn`` table, standardise them, keep the
principal components that explain 95 % of the training fold's variance, and hand the
result to exactly what the ``svm`` / ``logreg`` specs build, so the heads are tuned the
same way as on handcrafted features. PCA and scalers are fitted in-fold.
"""

from __future__ import annotations

from typing import Any, ClassVar

from genre.classifiers.registry import ModelSpec, make_model, register

#: Variance share the PCA keeps (of the standardised max_pool activations).
PCA_VARIANCE = 0.95


class _MusicnnThen(ModelSpec):
    """Standardise -> PCA -> the pipeline of another registered model, on musicnn max_pool columns."""

    #: The table this model reads (matched on the sidecar's ``kind``).
    input = "musicnn"
    #: Prefix of the feature columns it reads: the max-pooled mid-end activations.
    input_columns = "musicnn_max_pool_"
    parallel_folds = True
    head: ClassVar[str] = ""

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        from sklearn.decomposition import PCA
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        head = make_model(self.head, random_state=random_state, n_jobs=n_jobs, **params)
        return Pipeline(
            [
                ("standardise", StandardScaler()),
                ("pca", PCA(n_components=PCA_VARIANCE, svd_solver="full", random_state=random_state)),
                *head.steps,
            ]
        )


@register
class MusicnnSVMSpec(_MusicnnThen):
    name = "musicnn-svm"
    head = "svm"
    description = "pretrained musicnn (MSD) max_pool embedding -> PCA (95 % variance) -> the svm model"


@register
class MusicnnLogRegSpec(_MusicnnThen):
    name = "musicnn-logreg"
    head = "logreg"
    description = "pretrained musicnn (MSD) max_pool embedding -> PCA (95 % variance) -> the logreg model"
