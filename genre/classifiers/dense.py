"""A small fully connected network (Keras 3, TensorFlow backend) as a scikit-learn classifier.

The architecture follows the usual GTZAN feature-table tutorials: a few ReLU
layers that halve in width, dropout between them and a softmax output, trained
with Adam. What the tutorials leave out and this module adds: early stopping on
an inner *stratified* validation split of the training rows only (best weights
restored), balanced class weights, fixed seeds, and no console output.

TensorFlow is imported on the first :meth:`DenseNetClassifier.fit` or
prediction, never on ``import genre``.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from genre.classifiers.keras_training import (
    TRAINING_PARAM_BOUNDS,
    import_keras,
    inner_split,
    keras_model_from_bytes,
    keras_model_to_bytes,
    seeded,
    train_network,
)
from genre.classifiers.persistence import register_component
from genre.classifiers.preprocessing import gaussianise
from genre.classifiers.registry import ModelSpec, as_values, check_number, register
from genre.errors import ParameterError

__all__ = ["DenseNetClassifier"]

#: Numeric hyper-parameters: keyword arguments of :func:`~genre.classifiers.registry.check_number`.
_NUMBER_PARAMS: dict[str, dict[str, Any]] = {**TRAINING_PARAM_BOUNDS, "l2": {"low": 0}}


class DenseNetClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron trained with Keras, early-stopped on a stratified split.

    Parameters
    ----------
    hidden_units : sequence of int, or int
        Width of each hidden ReLU layer; one number is one layer.
    dropout : float
        Dropout rate after each hidden layer.
    l2 : float
        L2 weight penalty of the hidden layers.
    learning_rate : float
        Adam learning rate.
    batch_size : int
        Rows per gradient step.
    max_epochs : int
        Upper bound on training epochs.
    patience : int
        Epochs without improvement of the validation loss before stopping.
    validation_fraction : float
        Share of the training rows held out (stratified) for early stopping, in [0, 1).
        ``0`` trains for ``max_epochs`` without validation. With ``groups``, whole groups
        are held out: one of ``round(1 / validation_fraction)`` parts, or of fewer (a
        larger share) when there are fewer groups, or every class has fewer rows. Rows too
        few to hold some out and keep every class in training are all trained on, as with ``0``.
    class_weight : "balanced", dict or None
        ``"balanced"`` weights each class inversely to its frequency; a dict maps
        labels to weights (missing labels: 1).
    random_state : int
        Seed of weights, dropout, shuffling and the validation split.
    verbose : int
        Keras verbosity (0: silent).

    Attributes
    ----------
    model_ : keras.Model
        The trained network.
    classes_ : ndarray
        Class labels; column ``i`` of :meth:`predict_proba` is ``classes_[i]``.
    n_epochs_ : int
        Epochs trained (including the patience tail).
    best_epoch_ : int
        Epoch whose weights were kept (1-based).
    history_ : dict
        Per-epoch training and validation loss/accuracy.
    """

    def __init__(
        self,
        *,
        hidden_units: Sequence[int] = (256, 128, 64),
        dropout: float = 0.5,
        l2: float = 1e-4,
        learning_rate: float = 1e-3,
        batch_size: int = 64,
        max_epochs: int = 200,
        patience: int = 20,
        validation_fraction: float = 0.15,
        class_weight: str | dict | None = "balanced",
        random_state: int = 0,
        verbose: int = 0,
    ) -> None:
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.l2 = l2
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.random_state = random_state
        self.verbose = verbose

    # -- fitting ----------------------------------------------------------------------
    def _build_network(self, n_features: int, n_classes: int):
        keras = import_keras()
        regulariser = keras.regularizers.L2(self.l2) if self.l2 else None
        layers = [keras.Input(shape=(n_features,))]
        for units in as_values(self.hidden_units, name="hidden_units", owner="dense network"):
            layers.append(keras.layers.Dense(int(units), activation="relu", kernel_regularizer=regulariser))
            if self.dropout:
                layers.append(keras.layers.Dropout(self.dropout))
        layers.append(keras.layers.Dense(n_classes, activation="softmax"))
        return keras.Sequential(layers)

    def _check_params(self) -> None:
        """Refuse hyper-parameters that would fail deep inside TensorFlow, or not at all.

        Raises
        ------
        genre.errors.ParameterError
            A parameter out of range or of the wrong type; the message names it.
        """
        for name, bounds in _NUMBER_PARAMS.items():
            check_number(getattr(self, name), name=name, owner="dense network", **bounds)
        units = self.hidden_units
        if isinstance(units, str) or not all(
            isinstance(u, numbers.Integral) and not isinstance(u, bool) and u >= 1
            for u in as_values(units, name="hidden_units", owner="dense network")
        ):
            raise ParameterError(
                f"dense network: hidden_units must be positive integers, one per layer, such as (256, 128) or 64, "
                f"got {units!r}"
            )
        if not (self.class_weight in ("balanced", None) or isinstance(self.class_weight, dict)):
            raise ParameterError(
                f"dense network: class_weight must be 'balanced', a dict or None, got {self.class_weight!r}"
            )

    def fit(self, X, y, groups=None) -> "DenseNetClassifier":
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, already standardised (the registered model scales them).
        y : array-like of shape (n_samples,)
            Labels of any hashable type.
        groups : array-like of shape (n_samples,), optional
            Track of each row: the validation split then keeps a track's segments together.

        Returns
        -------
        self : DenseNetClassifier
        """
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import validate_data

        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"only one class in y ({self.classes_.tolist()[0]!r}); classification needs at least two")
        # Without a validation split train_network runs all max_epochs: the epoch count the user
        # already sets for training without validation (validation_fraction=0), rather than
        # a second, hidden one for tables too small to split.
        train, val = inner_split(
            codes,
            None if groups is None else np.asarray(groups),
            fraction=float(self.validation_fraction),
            seed=int(self.random_state),
        )
        if self.class_weight == "balanced":
            counts = np.bincount(codes[train], minlength=len(self.classes_)).astype(np.float64)
            per_class = len(train) / (len(counts) * np.maximum(counts, 1))
        elif isinstance(self.class_weight, dict):
            per_class = np.array([self.class_weight.get(label, 1.0) for label in self.classes_], dtype=np.float64)
        else:
            per_class = np.ones(len(self.classes_))
        weights = per_class[codes].astype(np.float32)

        # Initial weights and dropout draw from the generators Keras seeds; the split and the
        # batch order have their own, so only the network needs the seeded block.
        with seeded(self.random_state):
            model = self._build_network(X.shape[1], len(self.classes_))
            self.history_ = train_network(
                model,
                X[train],
                codes[train],
                weights[train],
                validation=None if val is None else (X[val], codes[val]),
                learning_rate=self.learning_rate,
                batch_size=int(self.batch_size),
                max_epochs=int(self.max_epochs),
                patience=int(self.patience),
                seed=int(self.random_state),
                verbose=self.verbose,
            )
        self.model_ = model
        self.n_epochs_ = len(self.history_["loss"])
        if self.history_.get("val_loss"):
            self.best_epoch_ = int(np.argmin(self.history_["val_loss"])) + 1
        else:
            self.best_epoch_ = self.n_epochs_
        return self

    # -- prediction -------------------------------------------------------------------
    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        from sklearn.utils.validation import validate_data

        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float32)
        # Calling the model directly avoids predict()'s per-call tf.function set-up,
        # which costs more than the arithmetic on tables of this size.
        chunks = [
            np.asarray(self.model_(X[start : start + 8192], training=False))
            for start in range(0, len(X), 8192)
        ]
        proba = np.concatenate(chunks) if chunks else np.zeros((0, len(self.classes_)), np.float32)
        proba = proba.astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Most probable class of each row."""
        proba = self.predict_proba(X)  # checks fitted-ness before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]


register_component(
    DenseNetClassifier, "model_", suffix=".keras", dump=keras_model_to_bytes, load=keras_model_from_bytes
)


@register
class DenseNetSpec(ModelSpec):
    name = "dense"
    description = (
        "gaussianised features -> Keras MLP 256-128-64 (ReLU, dropout), early-stopped on a held-out "
        "part of its training side (whole tracks, or whole groups when the table has them)"
    )
    parallel_folds = True  # one TensorFlow thread per fold beats all threads on one small net

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        from sklearn.pipeline import Pipeline

        options = {"random_state": random_state}
        options.update(params)
        return Pipeline([("scale", gaussianise(random_state=random_state)), ("model", DenseNetClassifier(**options))])
