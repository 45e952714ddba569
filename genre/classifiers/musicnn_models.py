"""Classifiers on pretrained musicnn embeddings (tables written with ``MusicnnExtractor``).

The published transfer-learning recipe for musicnn is: the pooled mid-end activations
(``max_pool``) of each ~3 s patch, reduced by PCA, classified by an SVM whose kernel,
``C`` and ``gamma`` are chosen by grid search on the training data. These specs read
only the ``max_pool`` columns of a ``musicnn`` table, standardise them, keep the
principal components that explain 95 % of the training fold's variance, and hand the
result to a head. Every step, the grid search included, is fitted in-fold.
"""

from __future__ import annotations

from typing import Any

from genre.classifiers.registry import ModelSpec, make_model, register

#: Variance share the PCA keeps (of the standardised max_pool activations).
PCA_VARIANCE = 0.95

#: The SVM search space of the musicnn authors' transfer-learning experiments (Pons & Serra,
#: "Randomly weighted CNNs for (music) audio classification", 2019): a linear kernel or an
#: RBF kernel over a wide range of widths. Pretrained embeddings are often linearly
#: separable, which the handcrafted svm's RBF-only grid cannot exploit.
SVM_KERNELS: tuple[str, ...] = ("linear", "rbf")
SVM_C_GRID: tuple[float, ...] = (0.1, 2.0, 8.0, 32.0)
SVM_GAMMA_GRID: tuple[float | str, ...] = (2.0**-3, 2.0**-5, 2.0**-7, 2.0**-9, 2.0**-11, 2.0**-13, "scale")


class _MusicnnThen(ModelSpec):
    """Standardise -> PCA -> a head, on the musicnn max_pool columns."""

    #: The table this model reads (matched on the sidecar's ``kind``).
    input = "musicnn"
    #: Prefix of the feature columns it reads: the max-pooled mid-end activations.
    input_columns = "musicnn_max_pool_"
    parallel_folds = True

    def head(self, *, random_state: int, n_jobs: int, **params: Any) -> list[tuple[str, Any]]:
        """Pipeline steps applied to the principal components."""
        raise NotImplementedError

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        from sklearn.decomposition import PCA
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        return Pipeline(
            [
                ("standardise", StandardScaler()),
                ("pca", PCA(n_components=PCA_VARIANCE, svd_solver="full", random_state=random_state)),
                *self.head(random_state=random_state, n_jobs=n_jobs, **params),
            ]
        )


@register
class MusicnnSVMSpec(_MusicnnThen):
    name = "musicnn-svm"
    description = (
        "pretrained musicnn (MSD) max_pool embedding -> PCA (95 % variance) -> SVM, "
        "kernel (linear/RBF), C and gamma tuned by inner CV"
    )

    def head(self, *, random_state: int, n_jobs: int, **params: Any) -> list[tuple[str, Any]]:
        from genre.classifiers.svm import TunedSVC

        options = dict(kernels=SVM_KERNELS, C_grid=SVM_C_GRID, gamma_grid=SVM_GAMMA_GRID)
        options.update(params)
        # No rescaling after PCA: the components keep their variances, so the RBF distance
        # (and the linear margin) is dominated by the directions that carry the signal.
        return [("model", TunedSVC(random_state=random_state, n_jobs=n_jobs, **options))]


@register
class MusicnnLogRegSpec(_MusicnnThen):
    name = "musicnn-logreg"
    description = "pretrained musicnn (MSD) max_pool embedding -> PCA (95 % variance) -> the logreg model"

    def head(self, *, random_state: int, n_jobs: int, **params: Any) -> list[tuple[str, Any]]:
        return make_model("logreg", random_state=random_state, n_jobs=n_jobs, **params).steps
