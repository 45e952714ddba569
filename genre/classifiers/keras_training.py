"""Keras helpers shared by the dense network and the mel-spectrogram CNN.

Importing Keras quietly, seeding one training run without touching the caller's
random state, the compiled training loop with early stopping, the stratified (and
group-aware) early-stopping split, copying a trained network, and turning a network
into bytes and back for model files. TensorFlow is imported only when one of these
functions runs.
"""

from __future__ import annotations

import contextlib
import logging
import random
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from genre.classifiers.registry import MAX_SEED
from genre.progress import report
from genre.tensorflow_quiet import import_keras_on_tensorflow, import_tensorflow

__all__ = [
    "TRAINING_PARAM_BOUNDS",
    "import_keras",
    "seeded",
    "train_network",
    "inner_split",
    "copy_network",
    "keras_model_to_bytes",
    "keras_model_from_bytes",
]


#: The training hyper-parameters the dense network and the CNN share, and the values they
#: accept: keyword arguments of :func:`genre.classifiers.registry.check_number`. Checked in
#: ``fit``, because out of range they fail deep inside TensorFlow, or not at all.
TRAINING_PARAM_BOUNDS: dict[str, dict] = {
    "dropout": {"low": 0, "high": 1, "high_open": True},
    "learning_rate": {"low": 0, "low_open": True},
    "batch_size": {"integer": True, "low": 1},
    "max_epochs": {"integer": True, "low": 1},
    "patience": {"integer": True, "low": 1},
    "validation_fraction": {"low": 0, "high": 1, "high_open": True},
    "random_state": {"integer": True, "low": 0, "high": MAX_SEED},
}


class _NoRetracingNotice(logging.Filter):
    """Drop TensorFlow's "triggered tf.function retracing" notice.

    Every fit compiles its own training function on purpose (a new network each
    time); TensorFlow mistakes that for accidental retracing and says so on stderr.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def import_keras():
    """Import Keras quietly with the TensorFlow backend, without TensorFlow's retracing notices."""
    keras = import_keras_on_tensorflow()
    tf_logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _NoRetracingNotice) for f in tf_logger.filters):
        tf_logger.addFilter(_NoRetracingNotice())
    return keras


@contextlib.contextmanager
def _caller_random_state() -> Iterator[None]:
    """Put Python's ``random`` and NumPy's global generator back as they were when the block ends.

    Also when the block raises. Keras draws the default seeds of new layers from Python's
    ``random`` (building, cloning, loading a network), which is none of the caller's business.
    """
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


@contextlib.contextmanager
def seeded(random_state: int) -> Iterator[None]:
    """Seed Keras for the training run inside the block, leaving the caller's generators as they were.

    ``keras.utils.set_random_seed`` reseeds Python's ``random``, NumPy's global generator
    and TensorFlow, which initial weights and dropout draw from. A scikit-learn ``fit``
    must not change the caller's random state, so the states of ``random`` and
    ``np.random`` are saved before seeding and put back when the block ends, also when
    it raises. Training inside the block sees exactly the seeded sequences, so results
    are a function of ``random_state`` alone.

    Parameters
    ----------
    random_state : int
        Seed of the run.

    Notes
    -----
    TensorFlow's global seed (and Keras's own record of the seed) cannot be read back,
    so they stay set to ``random_state`` afterwards. Callers draw from ``random`` and
    ``np.random``, which are restored; code that relies on TensorFlow's global seed
    sets it itself.
    """
    keras = import_keras()
    with _caller_random_state():
        keras.utils.set_random_seed(int(random_state))
        yield


def train_network(
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
    keras = import_keras()
    tf = import_tensorflow()

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
        stopping = validation is not None and waited >= patience
        # An upper bound until early stopping ends the fit: then the bar completes at that epoch.
        report(f"epochs (at most {max_epochs})", done=epoch + 1, total=epoch + 1 if stopping else max_epochs)
        if stopping:
            break
    if best_weights is not None:
        model.set_weights(best_weights)
    return history


def inner_split(
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


def copy_network(model):
    """An independent copy of a Keras network: same architecture and weights, no shared variables.

    Parameters
    ----------
    model : keras.Model
        A built network.

    Returns
    -------
    keras.Model
        Training or changing the copy leaves ``model`` as it was, and the other way round.
    """
    keras = import_keras()
    with _caller_random_state():  # the clone's layers draw new default seeds
        twin = keras.models.clone_model(model)
    # get_weights includes the non-trainable state (batch-norm moving statistics).
    twin.set_weights(model.get_weights())
    return twin


def keras_model_to_bytes(model) -> bytes:
    """A Keras network as the bytes of a ``.keras`` file (config JSON and weights)."""
    # Keras writes its own zip format (config JSON + HDF5 weights) only to a path.
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "network.keras"
        model.save(file)
        return file.read_bytes()


def keras_model_from_bytes(data: bytes):
    """The network of :func:`keras_model_to_bytes` bytes, loaded in safe mode."""
    keras = import_keras()
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "network.keras"
        file.write_bytes(data)
        # safe_mode refuses Lambda layers and other deserialised Python code.
        with _caller_random_state():  # the loaded layers draw new default seeds
            return keras.saving.load_model(file, compile=False, safe_mode=True)
