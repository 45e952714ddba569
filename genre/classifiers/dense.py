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

import logging
import math
import numbers
import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from genre.classifiers.persistence import register_component
from genre.classifiers.preprocessing import gaussianise
from genre.classifiers.registry import ModelSpec, register
from genre.errors import ParameterError

__all__ = ["DenseNetClassifier"]

#: Numeric hyper-parameters of :class:`DenseNetClassifier` and the values they accept:
#: ``name: (integer, low, high, low included, high included)``.
_NUMBER_PARAMS: dict[str, tuple[bool, float, float, bool, bool]] = {
    "dropout": (False, 0, 1, True, False),
    "l2": (False, 0, math.inf, True, False),
    "learning_rate": (False, 0, math.inf, False, False),
    "batch_size": (True, 1, math.inf, True, False),
    "max_epochs": (True, 1, math.inf, True, False),
    "patience": (True, 1, math.inf, True, False),
    "validation_fraction": (False, 0, 1, True, False),
    "random_state": (True, 0, 2**32 - 1, True, True),  # the range numpy's legacy seeding accepts
}


class _NoRetracingNotice(logging.Filter):
    """Drop TensorFlow's "triggered tf.function retracing" notice.

    Every fit compiles its own training function on purpose (a new network each
    time); TensorFlow mistakes that for accidental retracing and says so on stderr.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _keras():
    """Import Keras quietly with the TensorFlow backend."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    tf_logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _NoRetracingNotice) for f in tf_logger.filters):
        tf_logger.addFilter(_NoRetracingNotice())
    return keras


def _train(
    model,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    *,
    validation: tuple[np.ndarray, np.ndarray] | None,
    learning_rate: float,
    batch_size: int,
    max_epochs: int,
    patience: int,
    seed: int,
    verbose: int,
) -> dict[str, list[float]]:
    """Adam mini-batch training with early stopping; returns the per-epoch history.

    ``keras.Model.fit`` spends ~200 ms per epoch on set-up (iterators, callbacks)
    for a table of a thousand rows, 10x the arithmetic. One compiled function per
    epoch (a graph loop over the batches) keeps a fit to a second or two, which is
    what makes 10-fold benchmarks with a neural network affordable on a laptop.
    """
    keras = _keras()
    import tensorflow as tf

    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    X_t, y_t, w_t = tf.constant(X), tf.constant(y, tf.int32), tf.constant(weights)
    n_rows = len(y)
    n_batches = -(-n_rows // batch_size)

    @tf.function
    def run_epoch(order):
        total = tf.constant(0.0)
        for b in tf.range(n_batches):
            idx = order[b * batch_size : (b + 1) * batch_size]
            xb, yb, wb = tf.gather(X_t, idx), tf.gather(y_t, idx), tf.gather(w_t, idx)
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, model(xb, training=True), sample_weight=wb)
                objective = loss + tf.add_n(model.losses) if model.losses else loss
            grads = tape.gradient(objective, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            total += loss * tf.cast(tf.shape(idx)[0], tf.float32)
        return total / n_rows

    if validation is not None:
        X_v, y_v = tf.constant(validation[0]), tf.constant(validation[1], tf.int32)

        @tf.function
        def evaluate():
            proba = model(X_v, training=False)
            hits = tf.cast(tf.equal(tf.argmax(proba, axis=1, output_type=tf.int32), y_v), tf.float32)
            return loss_fn(y_v, proba), tf.reduce_mean(hits)

    # Shuffling from our own generator keeps the batch order a pure function of the seed.
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"loss": []}
    best_loss, best_weights, waited = np.inf, None, 0
    for epoch in range(max_epochs):
        loss = float(run_epoch(tf.constant(rng.permutation(n_rows).astype(np.int32))))
        history["loss"].append(loss)
        line = f"epoch {epoch + 1}: loss {loss:.4f}"
        if validation is not None:
            val_loss, val_acc = (float(v) for v in evaluate())
            history.setdefault("val_loss", []).append(val_loss)
            history.setdefault("val_accuracy", []).append(val_acc)
            line += f", val_loss {val_loss:.4f}, val_accuracy {val_acc:.3f}"
            if val_loss < best_loss:
                best_loss, best_weights, waited = val_loss, model.get_weights(), 0
            else:
                waited += 1
        if verbose:
            print(line, flush=True)
        if validation is not None and waited >= patience:
            break
    if best_weights is not None:
        model.set_weights(best_weights)
    return history


def _is_number(value: Any, *, integer: bool) -> bool:
    """Whether ``value`` is a real number (an integer if ``integer``); Python or numpy, never a bool."""
    # bool is an Integral, but batch_size=True is a mistake, not 1.
    return isinstance(value, numbers.Integral if integer else numbers.Real) and not isinstance(value, bool)


def _inner_split(
    codes: np.ndarray, groups: np.ndarray | None, *, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Training and early-stopping rows of one fit, stratified by class.

    Parameters
    ----------
    codes : ndarray of int
        Class index of each row (every index from 0 up present).
    groups : ndarray, optional
        Group of each row (track, or artist): a group is held out whole.
    fraction : float
        Share of the rows (of the groups, with ``groups``) to hold out; ``0`` for none.
    seed : int
        Seed of the split.

    Returns
    -------
    train : ndarray of int
        Rows to train on: all of them when no split is feasible.
    validation : ndarray of int or None
        Rows to early-stop on; ``None`` when ``fraction`` is 0 or the rows are too few
        for a split whose training side keeps every class.
    """
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit

    counts = np.bincount(codes)
    n_classes = len(counts)
    n_val = int(round(fraction * len(codes)))
    no_split = np.arange(len(codes)), None
    if not fraction or n_val < n_classes or len(codes) - n_val < n_classes or counts.min() < 2:
        return no_split
    if groups is None:
        splitter = StratifiedShuffleSplit(1, test_size=n_val, random_state=seed)
        train, val = next(splitter.split(np.zeros(len(codes)), codes))
        return train, val
    # Segments of one track on both sides would make the validation loss optimistic:
    # hold out one of round(1 / fraction) parts of the groups, stratified by class. A small
    # table cannot be cut into that many: fewer groups than parts, or (scikit-learn's rule)
    # every class fewer rows. It is cut into as many parts as it can be instead, holding out
    # a larger share, rather than losing early stopping altogether.
    n_splits = int(min(max(2, int(round(1 / fraction))), len(np.unique(groups)), counts.max()))
    if n_splits < 2:  # a single group: nothing to hold out without emptying the training side
        return no_split
    splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "least populated class has only ... members"
        for train, val in splitter.split(np.zeros(len(codes)), codes, groups):
            # A class whose groups all fell into one part (a class of one track in a small
            # fold) is missing from that part's training side: take a part that keeps them all.
            if len(val) and len(np.unique(codes[train])) == n_classes:
                return train, val
    return no_split


class DenseNetClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron trained with Keras, early-stopped on a stratified split.

    Parameters
    ----------
    hidden_units : sequence of int
        Width of each hidden ReLU layer.
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
        keras = _keras()
        regulariser = keras.regularizers.L2(self.l2) if self.l2 else None
        layers = [keras.Input(shape=(n_features,))]
        for units in self.hidden_units:
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
        for name, (integer, low, high, low_in, high_in) in _NUMBER_PARAMS.items():
            value = getattr(self, name)
            ok = _is_number(value, integer=integer)
            # Comparisons with NaN are false: it is refused too.
            ok = ok and (low <= value if low_in else low < value) and (value <= high if high_in else value < high)
            if not ok:
                interval = f"{'[' if low_in else '('}{low}, {high}{']' if high_in else ')'}"
                kind = "an integer" if integer else "a number"
                raise ParameterError(f"dense network: {name} must be {kind} in {interval}, got {value!r}")
        units = self.hidden_units
        if not (
            isinstance(units, (Sequence, np.ndarray))
            and not isinstance(units, str)
            and all(_is_number(u, integer=True) and u >= 1 for u in units)
        ):
            raise ParameterError(
                f"dense network: hidden_units must be a sequence of positive integers such as (256, 128), "
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
            raise ValueError(f"only one class in y ({self.classes_[0]!r}); classification needs at least two")
        keras = _keras()
        keras.utils.set_random_seed(int(self.random_state))

        # Without a validation split _train runs all max_epochs: the epoch count the user
        # already sets for training without validation (validation_fraction=0), rather than
        # a second, hidden one for tables too small to split.
        train, val = _inner_split(
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

        model = self._build_network(X.shape[1], len(self.classes_))
        self.history_ = _train(
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


def keras_model_to_bytes(model) -> bytes:
    # Keras writes its own zip format (config JSON + HDF5 weights) only to a path.
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "network.keras"
        model.save(file)
        return file.read_bytes()


def keras_model_from_bytes(data: bytes):
    keras = _keras()
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "network.keras"
        file.write_bytes(data)
        # safe_mode refuses Lambda layers and other deserialised Python code.
        return keras.saving.load_model(file, compile=False, safe_mode=True)


register_component(
    DenseNetClassifier, "model_", suffix=".keras", dump=keras_model_to_bytes, load=keras_model_from_bytes
)


@register
class DenseNetSpec(ModelSpec):
    name = "dense"
    description = "gaussianised features -> Keras MLP 256-128-64 (ReLU, dropout), early-stopped"
    parallel_folds = False  # TensorFlow uses every core itself

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        from sklearn.pipeline import Pipeline

        options = {"random_state": random_state}
        options.update(params)
        return Pipeline([("scale", gaussianise(random_state=random_state)), ("model", DenseNetClassifier(**options))])
