"""A compact mel-spectrogram CNN (Keras 3) trained inside each fold, as a classifier or an embedding.

Unlike the other models, its rows are not feature vectors: ``X`` is a DataFrame of
segment ids (at least ``path`` and ``start`` in seconds, as in the id columns of the
tables ``genre extract`` writes), and the network reads the log-mel patch of each
row from :mod:`genre.features.melpatches`. Because the network is an ordinary
scikit-learn estimator, cross-validation fits it on the training fold only: no test
track shapes its weights, its input normalisation or its early stopping.

Three registered models use it:

* ``cnn``: the network's own softmax, one probability vector per 3 s segment (the
  benchmark averages a track's segments);
* ``cnn-svm`` / ``cnn-xgboost``: :class:`MelCNNEmbedding` (the network fitted on the
  training fold, its penultimate layer as features) followed by exactly what the
  ``svm`` / ``xgboost`` specs build.

TensorFlow is imported on the first fit, never on import.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from genre.classifiers.keras_training import TRAINING_PARAM_BOUNDS
from genre.classifiers.registry import ModelSpec, as_values, check_number, get_spec, register
from genre.errors import DataError, ParameterError

__all__ = [
    "MelCNNClassifier", "MelCNNEmbedding", "segment_ids", "patch_seconds", "check_patch_segments",
    "check_table_patches", "table_segment_seconds", "keep_networks",
]

#: Columns of X the network needs: the audio file and the segment start in seconds.
SEGMENT_COLUMNS: tuple[str, ...] = ("path", "start")
#: Patches per forward pass at prediction time (bounds memory: 256 x 128 x 130 floats = 17 MB).
_PREDICT_BATCH = 256
#: Seconds by which a row may be longer than its patch: 130 frames of 512 samples are 3.02 s,
#: 43 frames 0.998 s, so a 1 s segment still fits a "1 s" patch within a frame's rounding.
_PATCH_SLACK_SECONDS = 0.05


def segment_ids(X: Any) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """Audio path, start (s) and track of each row of a segment-id DataFrame.

    Parameters
    ----------
    X : pandas.DataFrame
        Rows naming segments: columns ``path`` and ``start`` (seconds); ``track`` is
        optional and, when present, keeps a track's segments on one side of the
        network's inner validation split.

    Returns
    -------
    paths : list of str
    starts : np.ndarray of float, seconds
    tracks : np.ndarray of str or None

    Raises
    ------
    genre.errors.ParameterError
        ``X`` is not a DataFrame with those columns (e.g. a numeric feature matrix).
    """
    if not isinstance(X, pd.DataFrame) or not set(SEGMENT_COLUMNS) <= set(X.columns):
        got = f"columns {list(X.columns)[:8]}" if isinstance(X, pd.DataFrame) else type(X).__name__
        raise ParameterError(
            f"the mel-spectrogram CNN reads segment ids (a DataFrame with columns "
            f"{', '.join(SEGMENT_COLUMNS)}), got {got}"
        )
    starts = pd.to_numeric(X["start"], errors="coerce").to_numpy(dtype=np.float64)
    if np.isnan(starts).any():
        raise ParameterError("column 'start' must hold segment starts in seconds (numbers)")
    tracks = X["track"].astype(str).to_numpy() if "track" in X.columns else None
    return X["path"].astype(str).tolist(), starts, tracks


def patch_seconds(estimator: Any) -> float | None:
    """Seconds of audio in each log-mel patch a model's mel CNN reads.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A model as :func:`genre.classifiers.registry.make_model` builds it (fitted or not).

    Returns
    -------
    seconds : float or None
        ``patch_frames * hop_length / sr`` of the :class:`MelCNNClassifier` or
        :class:`MelCNNEmbedding` in it (3.02 s at the defaults); ``None`` when it holds
        none, or when those parameters are not positive numbers (the fit refuses them in
        its own words).
    """
    for _, step in getattr(estimator, "steps", None) or [(None, estimator)]:
        if isinstance(step, _MelCNNBase):
            try:
                frames, hop, sr = (float(getattr(step, name)) for name in ("patch_frames", "hop_length", "sr"))
            except (TypeError, ValueError):
                return None
            return frames * hop / sr if min(frames, hop, sr) > 0 else None
    return None


def check_patch_segments(
    segment_seconds: float,
    *,
    estimators: Mapping[str, Any],
    table: str | os.PathLike | None = None,
) -> None:
    """Refuse rows longer than the log-mel patch a CNN reads at each row's start.

    The CNN models read one fixed-length patch (3 s at the defaults) at each row's
    ``start``. With one row per track (``segment_seconds`` 0) or segments longer than
    the patch they would learn from, and predict with, only the start of each track or
    segment, and nothing would say so. Shorter segments are kept: their patches overlap,
    so every second of a track is still seen, as the benchmark's folds and ``genre
    predict`` both use the table's own segmentation.

    Parameters
    ----------
    segment_seconds : float
        Length of the rows' segments in seconds; 0 is one row per track.
    estimators : mapping
        Model name -> its estimator (see :func:`patch_seconds`); models without a mel
        CNN are not concerned and are ignored.
    table : path-like, optional
        The feature table the rows come from (its sidecar records ``segment_seconds``):
        refused as a :class:`~genre.errors.DataError` naming it and saying how to extract
        it again. ``None``: the length is an option still to be extracted with
        (``--segment-seconds`` of a benchmark of audio), refused as a
        :class:`~genre.errors.ParameterError`.

    Raises
    ------
    genre.errors.DataError, genre.errors.ParameterError
        A model's patch is shorter than the rows (beyond a frame's rounding).
    """
    from genre.features.config import FeatureConfig
    from genre.text import plural

    segment = float(segment_seconds)
    patches = {name: seconds for name, estimator in estimators.items() if (seconds := patch_seconds(estimator))}
    refused = {
        name: seconds for name, seconds in patches.items() if segment <= 0 or segment > seconds + _PATCH_SLACK_SECONDS
    }
    if not refused:
        return
    n = len(refused)
    if len(set(map(_seconds_text, refused.values()))) == 1:
        reads = (
            f"{', '.join(refused)} {plural(n, 'reads', 'read')} one {_seconds_text(next(iter(refused.values())))} s "
            "log-mel patch at each row's start"
        )
    else:
        each = ", ".join(f"{name} ({_seconds_text(seconds)} s)" for name, seconds in refused.items())
        reads = f"{each} read one log-mel patch at each row's start"
    shortest = _seconds_text(min(refused.values()))
    if segment <= 0:
        rows, seen = "one row per track", f"only each track's first {shortest} s"
    else:
        rows, seen = f"{segment:g} s segments", f"only the first {shortest} s of every {segment:g} s segment"
    it, them = plural(n, "it", "they"), plural(n, "it", "them")
    # The default segments are what the patches were sized for; a shorter patch (a --param)
    # needs segments no longer than itself.
    default = FeatureConfig().segment_seconds
    default_fits = default <= min(refused.values()) + _PATCH_SLACK_SECONDS
    if table is None:
        fix = (
            f"without --segment-seconds ({default:g} s segments)"
            if default_fits
            else f"with --segment-seconds {shortest} or less"
        )
        given = f"--segment-seconds {segment:g}" + (" (the default)" if segment == default else "")
        raise ParameterError(f"{given}: {reads}, so with {rows} {it} would see {seen}; benchmark {them} {fix}")
    if default_fits:
        fix = f"{default:g} s segments, the default"
        command = "'genre extract AUDIO -o features.csv', without --segment-seconds"
    else:
        fix = f"segments of {shortest} s or less"
        command = f"'genre extract AUDIO -o features.csv --segment-seconds {shortest}'"
    extracted = "--segment-seconds 0" if segment <= 0 else f"--segment-seconds {segment:g}"
    raise DataError(
        f"{table}: {reads}, but this table has {rows} (extracted with {extracted}), so {it} would see {seen}; "
        f"extract the audio again with {fix} ({command}) and use that table"
    )


def table_segment_seconds(table: Any) -> float | None:
    """The segment length a feature table's sidecar records, in seconds (0: one row per track).

    Parameters
    ----------
    table : genre.features.table.FeatureTable
        A loaded table.

    Returns
    -------
    seconds : float or None
        ``config["segment_seconds"]`` of the sidecar; ``None`` when the table has no sidecar
        (an external table), or its configuration records no segment length (an embedding
        table: one row per pretrained model's patch) or no number.
    """
    config = getattr(table, "config", None)
    value = config.get("segment_seconds") if isinstance(config, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        return None
    return float(value)


def check_table_patches(table: Any, *, estimators: Mapping[str, Any]) -> None:
    """Refuse a feature table whose rows are longer than the patches its CNN models would read.

    Parameters
    ----------
    table : genre.features.table.FeatureTable
        The table whose ``path`` and ``start`` the models read.
    estimators : mapping
        Model name -> its estimator; those without a mel CNN are ignored.

    Raises
    ------
    genre.errors.DataError
        See :func:`check_patch_segments`; a table whose segment length is unknown (no sidecar)
        is let through.
    """
    seconds = table_segment_seconds(table)
    if seconds is not None:
        check_patch_segments(seconds, estimators=estimators, table=table.path)


def _seconds_text(seconds: float) -> str:
    """A patch length as people say it: 3.02 s -> ``"3"``, 0.998 s -> ``"1"``, 1.51 s -> ``"1.5"``."""
    return f"{round(float(seconds), 1):g}"


class _FittedNetworks:
    """The most recently used trained networks of this process (at most ``size``), by what determined them.

    ``cnn``, ``cnn-svm`` and ``cnn-xgboost`` in one benchmark train the very same
    network on the same fold (same rows, labels, parameters and seed). Training is the
    dominant cost, so a later fit with an identical key takes a copy of the finished
    network instead of repeating the work: the result is what a refit would give, and
    nothing outside the training rows (and the audio files' identity) enters the key.

    Entries are copies in both directions: what :meth:`put` stores and what :meth:`get`
    returns share no network, array or dict with any estimator, so changing one
    estimator's network (training it further, setting its weights) changes no other.

    A benchmark with checkpoints adds a disk tier for its duration (:func:`keep_networks`):
    stored networks are written to its folder too, and a miss in memory looks there, so a
    resumed run does not train again what its interrupted sitting trained. Without it
    (plain use of the estimators) nothing is written anywhere.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: dict[str, tuple] = {}

    def get(self, key: str) -> tuple | None:
        """A private copy of the entry ``(network, band mean, band std, history)``, or ``None``.

        Missing in memory, the entry is looked for in the files of :func:`keep_networks`
        when a benchmark has set them (and kept in memory from then on).
        """
        entry = self._items.pop(key, None)
        if entry is None:
            files = _NETWORK_FILES.get()
            entry = files.load(key) if files is not None else None
            if entry is None:
                return None
            self._remember(key, entry)  # loaded: already nobody else's
            return _copy_fitted(entry)
        self._items[key] = entry  # used last: evicted last
        files = _NETWORK_FILES.get()
        if files is not None:  # trained before the files were set (an earlier run of this process)
            files.save(key, entry, unless_kept=True)
        return _copy_fitted(entry)

    def put(self, key: str, value: tuple) -> None:
        """Keep a copy of ``value``; also in the files of :func:`keep_networks` when they are set."""
        self._remember(key, _copy_fitted(value))
        files = _NETWORK_FILES.get()
        if files is not None:
            files.save(key, value)

    def _remember(self, key: str, entry: tuple) -> None:
        self._items[key] = entry
        while len(self._items) > self.size:
            self._items.pop(next(iter(self._items)))

    def clear(self) -> None:
        self._items.clear()


def _copy_fitted(entry: tuple) -> tuple:
    """An independent copy of ``(network, band mean, band std, history)``."""
    import copy

    from genre.classifiers.keras_training import copy_network

    network, band_mean, band_std, history = entry
    return copy_network(network), band_mean.copy(), band_std.copy(), copy.deepcopy(history)


#: A benchmark fits ``cnn`` on every split before ``cnn-svm`` reads the same networks back, so
#: the cache must outlast all splits of one run (10 folds x 5 repeats = 50): a default network
#: is about 0.7 MiB in memory, 44 MiB for all 64 (benchmarks/cnn_cache_memory.py).
_FITTED = _FittedNetworks(64)


class _NetworkFiles:
    """Trained networks of :data:`_FITTED` kept in a folder, one file set per training key.

    ``<key>.keras`` (the network, loaded with ``safe_mode``), ``<key>.json`` (its training
    history) and ``<key>.npz`` (the key, the band statistics and the SHA-256 of the two
    others; read with ``allow_pickle=False``). The three are renamed into place together,
    the ``.npz`` last, so a set is whole or, after a kill between renames, refused by its
    digests. Nothing here is a pickle: a stored network cannot run code when read.

    Parameters
    ----------
    folder : path-like
        Where the files go; created on the first write.
    warn : callable, optional
        Receives one line when a stored network cannot be used (it is trained again) or
        networks cannot be written (then none is written any more). Default: a
        ``RuntimeWarning``.
    """

    def __init__(self, folder: str | os.PathLike, *, warn: Callable[[str], None] | None = None) -> None:
        from pathlib import Path

        self.folder = Path(folder)
        self._warn = warn
        self._writable = True

    def _paths(self, key: str):
        return tuple(self.folder / f"{key}{suffix}" for suffix in (".keras", ".json", ".npz"))

    def _say(self, line: str) -> None:
        if self._warn is not None:
            self._warn(line)
        else:
            import warnings

            warnings.warn(line, RuntimeWarning, stacklevel=3)

    def load(self, key: str) -> tuple | None:
        """``(network, band mean, band std, history)`` stored under ``key``; ``None`` when there is none.

        A set that cannot be read or does not hold what a training returns is reported
        through ``warn`` and ignored: the network is trained again, never a crash.
        """
        network_path, history_path, index_path = self._paths(key)
        if not index_path.is_file():
            return None
        try:
            return _read_network_files(key, network_path, history_path, index_path)
        except Exception as exc:  # whatever is wrong with the files only costs a training
            reason = str(exc).strip().split("\n", 1)[0] or type(exc).__name__
            self._say(f"{index_path}: the stored network cannot be used ({reason}); it is trained again")
            return None

    def save(self, key: str, entry: tuple, *, unless_kept: bool = False) -> None:
        """Write ``entry`` under ``key``, all files or none; a failure is said once and stops further writes.

        ``unless_kept``: only when no set of ``key`` is there yet.
        """
        if not self._writable or (unless_kept and self._paths(key)[2].is_file()):
            return
        import hashlib
        import json

        from genre.atomic import atomic_files
        from genre.classifiers.keras_training import keras_model_to_bytes

        network, band_mean, band_std, history = entry
        network_path, history_path, index_path = self._paths(key)
        try:
            network_bytes = keras_model_to_bytes(network)
            history_bytes = json.dumps({"history": history}, sort_keys=True).encode()
            with atomic_files() as open_file:
                open_file(network_path, "wb").write(network_bytes)
                open_file(history_path, "wb").write(history_bytes)
                np.savez(
                    open_file(index_path, "wb"),  # renamed last: the set is complete once it exists
                    key=np.array(key),
                    band_mean=np.asarray(band_mean, dtype=np.float32),
                    band_std=np.asarray(band_std, dtype=np.float32),
                    network_sha256=np.array(hashlib.sha256(network_bytes).hexdigest()),
                    history_sha256=np.array(hashlib.sha256(history_bytes).hexdigest()),
                )
        except Exception as exc:  # a full disk costs a training after an interruption, never the run
            self._writable = False
            reason = str(exc).strip().split("\n", 1)[0] or type(exc).__name__
            self._say(f"{reason}; trained networks are no longer kept, a resumed run would train them again")


def _read_network_files(key: str, network_path, history_path, index_path) -> tuple:
    """The entry of one file set, or an exception saying what is wrong with it."""
    import hashlib
    import json

    from genre.classifiers.keras_training import keras_model_from_bytes

    with np.load(index_path, allow_pickle=False) as index:
        stored_key = str(index["key"])
        band_mean, band_std = np.asarray(index["band_mean"]), np.asarray(index["band_std"])
        digests = str(index["network_sha256"]), str(index["history_sha256"])
    if stored_key != key:
        raise ValueError("it was stored under another key")
    if (
        band_mean.dtype != np.float32
        or band_mean.ndim != 1
        or band_mean.shape != band_std.shape
        or not (np.isfinite(band_mean).all() and np.isfinite(band_std).all() and (band_std > 0).all())
    ):
        raise ValueError("its band statistics are not what a training leaves")
    network_bytes, history_bytes = network_path.read_bytes(), history_path.read_bytes()
    if (hashlib.sha256(network_bytes).hexdigest(), hashlib.sha256(history_bytes).hexdigest()) != digests:
        raise ValueError("its files do not match each other (damaged, or cut short)")
    history = json.loads(history_bytes)["history"]
    if (
        not isinstance(history, dict)
        or not history.get("loss")
        or not all(
            isinstance(values, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            for values in history.values()
        )
    ):
        raise ValueError("its history is not what a training leaves")
    network = keras_model_from_bytes(network_bytes)
    network.get_layer("embedding")  # a network of this module (ValueError otherwise)
    if network.input_shape[1] != len(band_mean):
        raise ValueError("its network does not read as many mel bands as its statistics have")
    return network, band_mean, band_std, history


#: The folder of trained networks of the benchmark running in this thread (:func:`keep_networks`), or none.
_NETWORK_FILES: "contextvars.ContextVar[_NetworkFiles | None]" = contextvars.ContextVar(
    "genre_cnn_network_files", default=None
)


@contextlib.contextmanager
def keep_networks(folder: str | os.PathLike, *, warn: Callable[[str], None] | None = None) -> Iterator[None]:
    """Keep the networks trained in the block in ``folder`` too, and look there before training one.

    A benchmark with checkpoints enters this around its fits, so that a resumed run takes
    the networks its interrupted sitting trained (for ``cnn-svm`` after a kept ``cnn``
    fold) instead of training them again. It holds for the current thread (and context)
    only, where the CNN's folds run (``parallel_folds`` is off); outside it, fits write
    nothing. See :class:`_NetworkFiles` for the files and ``warn``.
    """
    token = _NETWORK_FILES.set(_NetworkFiles(folder, warn=warn))
    try:
        yield
    finally:
        _NETWORK_FILES.reset(token)


def _training_key(estimator: "_MelCNNBase", paths, starts, y, groups) -> str:
    """Hash of the network parameters, the training rows (paths, starts, labels, groups) and
    the identity of their audio files (a file rewritten since is a different input)."""
    import hashlib
    import json
    import os

    from genre.features.extract import file_stamp

    params = {k: v for k, v in estimator.get_params(deep=False).items() if k != "verbose"}
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    digest.update("\0".join(paths).encode())
    digest.update(repr([(os.path.realpath(path), file_stamp(path)) for path in dict.fromkeys(paths)]).encode())
    digest.update(np.ascontiguousarray(starts, dtype=np.float64).tobytes())
    digest.update("\0".join(map(str, y)).encode())
    digest.update(b"" if groups is None else "\0".join(map(str, groups)).encode())
    return digest.hexdigest()


class _MelCNNBase(BaseEstimator):
    """Parameters, network and training shared by the classifier and the embedding.

    Parameters
    ----------
    filters : sequence of int, or int
        Filters of each 3x3 convolution block (batch norm, ReLU, max pooling); one
        number is one block.
    dense_units : int
        Width of the penultimate (embedding) layer.
    dropout : float
        Dropout rate before the embedding and before the output layer.
    learning_rate : float
        Adam step size.
    batch_size : int
        Patches per gradient step.
    max_epochs : int
        Upper bound on training epochs.
    patience : int
        Epochs without improvement of the inner validation loss before stopping
        (the best weights are restored).
    validation_fraction : float
        Share of the training tracks held out for early stopping; 0 trains max_epochs.
    sr : int
        Sample rate in Hz of the analysis.
    n_fft, hop_length : int
        STFT frame and hop in samples.
    n_mels : int
        Mel bands.
    patch_frames : int
        Frames per patch (130 x 512 samples at 22050 Hz = 3.0 s).
    random_state : int
        Seed of weights, shuffling, dropout and the inner split.
    verbose : int
        Print one line per epoch when non-zero.
    """

    def __init__(
        self,
        *,
        filters: Sequence[int] = (8, 16, 32, 64),
        dense_units: int = 64,
        dropout: float = 0.3,
        learning_rate: float = 1e-3,
        batch_size: int = 32,
        max_epochs: int = 20,
        patience: int = 4,
        validation_fraction: float = 0.15,
        sr: int = 22050,
        n_fft: int = 2048,
        hop_length: int = 512,
        n_mels: int = 128,
        patch_frames: int = 130,
        random_state: int = 0,
        verbose: int = 0,
    ) -> None:
        self.filters = filters
        self.dense_units = dense_units
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.patch_frames = patch_frames
        self.random_state = random_state
        self.verbose = verbose

    # -- inputs -------------------------------------------------------------------------
    def _mel_config(self):
        from genre.features.melpatches import MelConfig

        return MelConfig(
            sr=int(self.sr), n_fft=int(self.n_fft), hop_length=int(self.hop_length),
            n_mels=int(self.n_mels), patch_frames=int(self.patch_frames),
        )  # fmt: skip

    def _patches(self, X) -> np.ndarray:
        """Normalised patches of the rows of ``X``, shape (n, n_mels, patch_frames, 1)."""
        from genre.features.melpatches import fetch_patches

        paths, starts, _ = segment_ids(X)
        patches = fetch_patches(paths, starts, config=self._mel_config())
        # Per-band statistics of the training patches: a fixed, fold-local normalisation.
        patches -= self.band_mean_[None, :, None]
        patches /= self.band_std_[None, :, None]
        return patches[..., None]

    # -- network ------------------------------------------------------------------------
    def _build_network(self, n_classes: int):
        from genre.classifiers.keras_training import import_keras

        keras = import_keras()
        layers = keras.layers
        inputs = keras.Input(shape=(int(self.n_mels), int(self.patch_frames), 1))
        x = inputs
        filters = as_values(self.filters, name="filters", owner="CNN")  # filters=8: one block of 8
        for i, width in enumerate(filters):
            x = layers.Conv2D(int(width), 3, padding="same", use_bias=False)(x)
            # Momentum 0.9, not Keras' 0.99: a fold trains for only a few hundred steps, and
            # slower moving averages leave inference statistics far from the training ones.
            x = layers.BatchNormalization(momentum=0.9)(x)
            x = layers.Activation("relu")(x)
            if i < len(filters) - 1:
                # The first pooling halves frequency twice as fast: 128 bands carry more
                # redundancy than 130 frames, and it quarters the cost of every later block.
                x = layers.MaxPooling2D((4, 2) if i == 0 else (2, 2))(x)
        # Mean and max over time-frequency: how much and how strongly each pattern occurs.
        x = layers.Concatenate()([layers.GlobalAveragePooling2D()(x), layers.GlobalMaxPooling2D()(x)])
        x = layers.Dropout(float(self.dropout))(x)
        x = layers.Dense(int(self.dense_units), activation="relu", name="embedding")(x)
        x = layers.Dropout(float(self.dropout))(x)
        outputs = layers.Dense(n_classes, activation="softmax")(x)
        return keras.Model(inputs, outputs)

    def _check_params(self) -> None:
        """Refuse a network or training parameter out of range, naming it, before any audio is read."""
        for name, bounds in TRAINING_PARAM_BOUNDS.items():
            check_number(getattr(self, name), name=name, owner="CNN", **bounds)
        check_number(self.dense_units, name="dense_units", owner="CNN", integer=True, low=1)
        for width in as_values(self.filters, name="filters", owner="CNN"):
            check_number(width, name="every filters value", owner="CNN", integer=True, low=1)
        for name in ("sr", "n_fft", "hop_length", "n_mels", "patch_frames"):
            check_number(getattr(self, name), name=name, owner="CNN", integer=True, low=1)

    def _fit_network(self, X, y, groups=None) -> None:
        from sklearn.utils.multiclass import check_classification_targets

        self._check_params()
        paths, starts, tracks = segment_ids(X)
        y = np.asarray(y)
        if len(y) != len(paths):
            raise ValueError(f"X has {len(paths)} rows but y has {len(y)}")
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"only one class in y ({classes.tolist()[0]!r}); classification needs at least two")
        groups = np.asarray(groups) if groups is not None else tracks
        key = _training_key(self, paths, starts, y, groups)
        fitted = _FITTED.get(key)
        if fitted is None:
            fitted = self._train_new(paths, starts, codes, groups, len(classes))
            _FITTED.put(key, fitted)
        self.model_, self.band_mean_, self.band_std_, self.history_ = fitted
        self.classes_ = classes
        self.n_epochs_ = len(self.history_["loss"])
        self.n_features_in_ = len(SEGMENT_COLUMNS)

    def _train_new(self, paths, starts, codes, groups, n_classes: int):
        """Train a new network; returns (network, band mean, band std, history)."""
        from genre.classifiers.keras_training import inner_split, seeded, train_network
        from genre.features.melpatches import fetch_patches

        patches = fetch_patches(paths, starts, config=self._mel_config())
        band_mean = patches.mean(axis=(0, 2)).astype(np.float32)
        band_std = (patches.std(axis=(0, 2)) + 1e-3).astype(np.float32)
        patches -= band_mean[None, :, None]
        patches /= band_std[None, :, None]
        patches = patches[..., None]

        train, val = inner_split(
            codes, groups, fraction=float(self.validation_fraction), seed=int(self.random_state)
        )
        counts = np.bincount(codes[train], minlength=n_classes).astype(np.float64)
        weights = (len(train) / (len(counts) * np.maximum(counts, 1)))[codes].astype(np.float32)
        # As in the dense net: the network draws from the generators Keras seeds, restored after.
        with seeded(self.random_state):
            model = self._build_network(n_classes)
            history = train_network(
                model,
                patches[train],
                codes[train],
                weights[train],
                validation=None if val is None else (patches[val], codes[val]),
                learning_rate=float(self.learning_rate),
                batch_size=int(self.batch_size),
                max_epochs=int(self.max_epochs),
                patience=int(self.patience),
                seed=int(self.random_state),
                verbose=int(self.verbose),
            )
        return model, band_mean, band_std, history

    def _forward(self, X, *, embedding: bool) -> np.ndarray:
        """Softmax outputs or penultimate-layer activations of the rows of ``X``, in chunks."""
        check_is_fitted(self, "model_")
        network = self.model_
        if embedding:
            from genre.classifiers.keras_training import import_keras

            keras = import_keras()
            network = keras.Model(self.model_.input, self.model_.get_layer("embedding").output)
        patches = self._patches(X)
        width = int(self.dense_units) if embedding else len(self.classes_)
        chunks = [
            np.asarray(network(patches[i : i + _PREDICT_BATCH], training=False))
            for i in range(0, len(patches), _PREDICT_BATCH)
        ]
        return np.concatenate(chunks).astype(np.float64) if chunks else np.zeros((0, width))


class MelCNNClassifier(ClassifierMixin, _MelCNNBase):
    """Log-mel CNN as a classifier of 3 s segments (see :class:`_MelCNNBase` for the parameters).

    Attributes
    ----------
    classes_ : ndarray
        Class labels; column ``i`` of :meth:`predict_proba` is ``classes_[i]``.
    model_ : keras.Model
        The trained network.
    band_mean_, band_std_ : ndarray of shape (n_mels,)
        Per-band normalisation learnt from the training patches.
    history_ : dict
        Per-epoch training (and validation) loss.
    n_epochs_ : int
        Epochs run before early stopping.
    """

    def fit(self, X, y, groups=None) -> "MelCNNClassifier":
        """Train on the patches of the rows of ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
            Segment ids (``path``, ``start`` in seconds, optional ``track``).
        y : array-like of shape (n_rows,)
            Label of each segment.
        groups : array-like, optional
            Track of each row (default: the ``track`` column) for the inner split.

        Returns
        -------
        self
        """
        self._fit_network(X, y, groups)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of each segment, columns in the order of ``classes_``."""
        proba = self._forward(X, embedding=False)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Most probable class of each segment."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class MelCNNEmbedding(TransformerMixin, _MelCNNBase):
    """The CNN fitted on the labelled rows it is given; ``transform`` returns its penultimate layer.

    In a pipeline, ``fit`` sees only the training fold, so the embedding of a test
    track is computed by a network that never saw that track. Parameters as in
    :class:`_MelCNNBase`.
    """

    def fit(self, X, y, groups=None) -> "MelCNNEmbedding":
        """Train the network on the rows of ``X`` (segment ids) and their labels ``y``."""
        self._fit_network(X, y, groups)
        return self

    def transform(self, X) -> np.ndarray:
        """Embedding of each segment, shape (n_rows, dense_units)."""
        return self._forward(X, embedding=True)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array([f"cnn_embedding_{i:03d}" for i in range(1, int(self.dense_units) + 1)], dtype=object)


def _register_components() -> None:
    from genre.classifiers.keras_training import keras_model_from_bytes, keras_model_to_bytes
    from genre.classifiers.persistence import register_component, trust_types

    # The trained network is stored as a .keras member (loaded with safe_mode); the rest
    # (band statistics, history, parameters) is plain data in the skops graph.
    register_component(
        _MelCNNBase, "model_", suffix=".keras", dump=keras_model_to_bytes, load=keras_model_from_bytes
    )
    trust_types(MelCNNClassifier, MelCNNEmbedding)


_register_components()


# -- registered models -------------------------------------------------------------------------
def _cnn_options(random_state: int, params: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {"random_state": random_state}
    options.update(params)
    return options


class _CNNSpecBase(ModelSpec):
    #: Reads segment ids with readable audio paths, not a feature matrix.
    input = "audio"
    parallel_folds = False  # TensorFlow already uses every core


@register
class MelCNNSpec(_CNNSpecBase):
    name = "cnn"
    description = "log-mel patches (128 bands, 3 s) -> 4-block CNN (8-64 filters), early-stopped, trained in-fold"

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        return MelCNNClassifier(**_cnn_options(random_state, params))


class _EmbeddingThen(_CNNSpecBase):
    """The in-fold CNN embedding followed by the pipeline another registered model builds."""

    head: str = ""

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        """The embedding, then the head's pipeline.

        ``<head>__<parameter>`` (e.g. ``svm__C_grid``, as for the ensemble's members) goes to
        the head's build; every other keyword configures the CNN. A keyword neither takes
        raises ``TypeError``, which :func:`~genre.classifiers.registry.make_model` reports.
        """
        from sklearn.pipeline import Pipeline

        prefix = f"{self.head}__"
        head_params = {key.removeprefix(prefix): value for key, value in params.items() if key.startswith(prefix)}
        cnn_params = {key: value for key, value in params.items() if not key.startswith(prefix)}
        # Reusing the head's own pipeline keeps its scaling and tuning identical to the
        # model of the same name on feature tables.
        head = get_spec(self.head).build(random_state=random_state, n_jobs=n_jobs, **head_params)
        return Pipeline([("embed", MelCNNEmbedding(**_cnn_options(random_state, cnn_params))), *head.steps])

    def configured_step(self, estimator: Any) -> Any:
        return estimator.steps[0][1]  # the embedding; the head's parameters are listed with its prefix

    def parameters(self) -> list[str]:
        return super().parameters() + [f"{self.head}__{name}" for name in get_spec(self.head).parameters()]

    def defaults(self) -> dict[str, Any]:
        head = {f"{self.head}__{name}": value for name, value in get_spec(self.head).defaults().items()}
        return {**super().defaults(), **head}


@register
class MelCNNSVMSpec(_EmbeddingThen):
    name = "cnn-svm"
    head = "svm"
    description = (
        "in-fold log-mel CNN, penultimate layer (64) -> the svm model; a fold's CNN is trained once and "
        "shared with cnn / cnn-xgboost, so fit s excludes it where those trained it first in the same run "
        "(or in the interrupted run a resumed benchmark continues)"
    )


@register
class MelCNNXGBoostSpec(_EmbeddingThen):
    name = "cnn-xgboost"
    head = "xgboost"
    description = (
        "in-fold log-mel CNN, penultimate layer (64) -> the xgboost model; a fold's CNN is trained once and "
        "shared with cnn / cnn-svm, so fit s excludes it where those trained it first in the same run "
        "(or in the interrupted run a resumed benchmark continues)"
    )
