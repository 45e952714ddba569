"""Input transforms shared by the registered models."""

from __future__ import annotations

import warnings

from sklearn.preprocessing import QuantileTransformer

from genre.classifiers.persistence import trust_types

__all__ = ["Gaussianiser", "gaussianise"]


class Gaussianiser(QuantileTransformer):
    """:class:`~sklearn.preprocessing.QuantileTransformer` that is quiet on small tables.

    With fewer rows than ``n_quantiles`` scikit-learn uses one quantile per row
    and warns; that is the right thing here, so the warning is not passed on.
    """

    def fit(self, X, y=None):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="n_quantiles .* is greater than", category=UserWarning)
            return super().fit(X, y)


trust_types(Gaussianiser)


def gaussianise(*, random_state: int = 0) -> Gaussianiser:
    """Map every feature through its empirical CDF onto a standard normal.

    Several descriptors (variances of MFCCs and of spectral statistics, tempo) are
    heavy-tailed, so a few loud or odd tracks dominate a plain z-score. The
    rank-based transform is insensitive to those outliers; on the GTZAN feature
    table it raised the RBF-SVM's and the dense network's accuracy in
    cross-validation on the training lists, and the SVM's accuracy on unseen
    artists markedly.

    Returns
    -------
    transformer : Gaussianiser
        Unfitted; 200 quantiles is plenty for tables of a few hundred rows and up.
    """
    return Gaussianiser(n_quantiles=200, output_distribution="normal", subsample=100_000, random_state=random_state)
