"""Finished fits of a cross-validation, kept on disk so that an interrupted benchmark resumes.

Each (model, split) fit is one small file, ``<key>.npz``, written atomically as soon as the
fit finishes: its test-row class probabilities, its measured fit and predict seconds and the
warnings it raised. The
key is a SHA-256 over everything the fit's result depends on (:func:`fit_key`), so a file is
only ever reused for the very same fit; anything else (other parameters, seed, table, labels,
library versions) simply has another key and is fitted afresh. A file that cannot be read or
does not hold what a fit returns is ignored and the fit computed again: a checkpoint may save
work, never cost a benchmark.

A kept fit keeps predictions, not a network. The networks the CNN models train are written
to ``networks/`` too (one ``.keras`` + ``.json`` + ``.npz`` set per training, see
:func:`genre.classifiers.cnn.keep_networks`), so that a resumed ``cnn-svm`` takes the network
of a kept ``cnn`` fold instead of training it again; they go with the fits.

One benchmark at a time writes a folder of fits: :func:`hold_checkpoints` locks it (the
extraction's ``flock`` lock, ``<folder>.lock`` beside it, dropped by the kernel when its
process dies), so a second benchmark into the same report folder is refused at once instead
of reading the first one's half-finished fits and mixing both runs into one report.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from genre.atomic import OutputLock
from genre.errors import OutputError

__all__ = ["FORMAT", "NETWORKS", "StoredFit", "CheckpointStore", "fit_key", "hold_checkpoints", "input_digest"]

#: Part of every key: bump it when the key's ingredients or the file layout change, so files
#: of the old meaning are never read as new ones.
FORMAT = 1
_NAME = re.compile(r"^[0-9a-f]{64}\.npz$")
#: What :func:`genre.atomic.atomic_open` leaves of a write a kill interrupted.
_TEMPORARY = re.compile(r"^\.[0-9a-f]{64}\.npz\..+\.tmp$")
#: Subfolder of the trained networks a resumed run reuses (:func:`genre.classifiers.cnn.keep_networks`).
NETWORKS = "networks"
#: Its files: one set per training key (``.keras``, ``.json``, ``.npz``) and interrupted writes of them.
_NETWORK_NAME = re.compile(r"^[0-9a-f]{64}\.(keras|json|npz)$")
_NETWORK_TEMPORARY = re.compile(r"^\.[0-9a-f]{64}\.(keras|json|npz)\..+\.tmp$")


@dataclass(frozen=True)
class StoredFit:
    """What one finished fit left behind.

    Attributes
    ----------
    proba : numpy.ndarray
        ``(n_test_rows, n_labels)`` class probabilities of the split's test rows, columns in
        the benchmark's label order.
    fit_seconds, predict_seconds : float
        Wall seconds the fit and the prediction took when they were measured.
    warnings : tuple of (str, str)
        ``(category, first line of the message)`` of each distinct warning the fit raised
        (``("ConvergenceWarning", "lbfgs failed to converge ...")``), so that a resumed
        fit's report notes them as a fresh one's does.
    concurrent : int
        How many fits ran at once while its times were measured, so that a resumed run's
        report says how its kept times were measured, not only how its own fits ran.
    details : dict
        What the fit chose on its own (see :func:`genre.classifiers.training.fit_details`),
        kept as JSON.
    """

    proba: np.ndarray
    fit_seconds: float
    predict_seconds: float
    warnings: tuple[tuple[str, str], ...] = ()
    concurrent: int = 1
    details: dict = field(default_factory=dict)


def _sha256(*parts: "bytes | np.ndarray") -> str:
    digest = hashlib.sha256()
    for part in parts:
        # Length-prefixed, so that no two different sequences of parts hash alike.
        digest.update(memoryview(part).nbytes.to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def _raw(array: np.ndarray) -> np.ndarray:
    """An array's bytes as a flat uint8 view: hashed without copying a large feature matrix."""
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


def _strings(values: Any) -> bytes:
    # Object arrays' bytes are pointers: hash the text itself, NUL-separated.
    return "\0".join(map(str, np.asarray(values).tolist())).encode("utf-8", "surrogatepass")


def input_digest(X: "np.ndarray | pd.DataFrame", y: np.ndarray, groups: np.ndarray) -> str:
    """SHA-256 of everything a model's fits read from its input, split by split.

    Parameters
    ----------
    X : numpy.ndarray or pandas.DataFrame
        A numeric feature matrix, or (audio models) a DataFrame of segment ids. For a
        DataFrame with a ``path`` column each file's size and modification time count too:
        the model reads the audio, so an edited file changes its result.
    y : numpy.ndarray
        Label of each row.
    groups : numpy.ndarray
        Group (or track) of each row, which models that split their training rows again use.

    Returns
    -------
    digest : str
        64 hexadecimal digits.
    """
    if isinstance(X, pd.DataFrame):
        parts = [
            b"frame",
            _strings(X.columns),
            _strings(X.dtypes.astype(str)),
            _raw(pd.util.hash_pandas_object(X, index=False).to_numpy()),
        ]
        if "path" in X.columns:
            parts.append(_file_identities(pd.unique(X["path"].astype(str))))
    else:
        array = np.asarray(X)
        parts = [b"array", array.dtype.str.encode(), _strings(array.shape), _raw(array)]
    return _sha256(*parts, _strings(y), _strings(groups))


def _file_identities(paths: Sequence[str]) -> bytes:
    """Size and modification time of each file (as ``make`` tells a changed file)."""
    from genre.features.extract import file_stamp

    lines = []
    for path in sorted(paths):
        size, mtime_ns = file_stamp(path)
        lines.append(f"{path}\0missing" if size < 0 else f"{path}\0{size}\0{mtime_ns}")
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def fit_key(
    *,
    model: str,
    params: Mapping[str, Any],
    seed: int,
    labels: Sequence[str],
    inputs: str,
    train: np.ndarray,
    test: np.ndarray,
    versions: Mapping[str, str],
) -> str:
    """Name of one fit's checkpoint: a SHA-256 of everything its result depends on.

    The training and test data of the fit are ``X[train]``, ``y[train]``, ``groups[train]``
    and ``X[test]``: the digest of the whole input and the row indices (in order) determine
    them exactly, without copying the rows to hash them. The number of threads is left out
    on purpose: scikit-learn's ``n_jobs`` and XGBoost's threads (hist) do not change results,
    and the Keras models take none, so a resumed run may use another ``--jobs``.

    Parameters
    ----------
    model : str
        Registry name.
    params : mapping
        The model's parameter overrides (JSON with sorted keys; values JSON cannot hold
        count by their ``repr``).
    seed : int
        The seed the model is built with (the benchmark's seed + repeat).
    labels : sequence of str
        The benchmark's label order: the columns of the stored probabilities.
    inputs : str
        :func:`input_digest` of the model's input.
    train, test : numpy.ndarray
        Row indices of the split's training and test rows in that input.
    versions : mapping
        Versions of genre, Python and the numerical libraries: another version may fit
        another model.

    Returns
    -------
    key : str
        64 hexadecimal digits.
    """
    recipe = {
        "format": FORMAT,
        "model": model,
        "params": dict(params),
        "seed": int(seed),
        "labels": [str(label) for label in labels],
        "inputs": inputs,
        "versions": dict(versions),
    }
    text = json.dumps(recipe, sort_keys=True, default=repr).encode("utf-8", "surrogatepass")
    rows = [_raw(np.asarray(rows, dtype=np.int64)) for rows in (train, test)]
    return _sha256(text, *rows)


class CheckpointStore:
    """A folder of finished fits, one ``<key>.npz`` per fit, and a subfolder of trained networks.

    The networks (``networks/``, see :func:`genre.classifiers.cnn.keep_networks`) spare a
    resumed run the training of a network that a kept fit already trained, for another
    model that shares it; they go with the fits (:meth:`remove`).

    Parameters
    ----------
    folder : path-like
        Where the files go; created on the first write.
    warn : callable, optional
        Receives one line when a checkpoint cannot be written (full disk, no permission).
        Checkpoints are then no longer written in this run, and the benchmark goes on:
        losing a checkpoint costs a refit after an interruption, never the results.
    """

    def __init__(self, folder: str | os.PathLike, *, warn: Callable[[str], None] | None = None) -> None:
        self.folder = Path(folder)
        self._warn = warn
        self._writable = True
        self._pending: list[str] = []

    @property
    def networks(self) -> Path:
        """The subfolder of trained networks."""
        return self.folder / NETWORKS

    def warn_later(self, line: str) -> None:
        """Keep a line for ``warn`` until :meth:`say_pending` (said during a fit, it would be taken for the model's)."""
        self._pending.append(line)

    def say_pending(self) -> None:
        """Pass the lines :meth:`warn_later` kept to ``warn`` (or a ``RuntimeWarning``), in order."""
        import warnings

        lines, self._pending = self._pending, []
        for line in lines:
            if self._warn is not None:
                self._warn(line)
            else:
                warnings.warn(line, RuntimeWarning, stacklevel=2)

    def path(self, key: str) -> Path:
        """The file of ``key``."""
        return self.folder / f"{key}.npz"

    def load(self, key: str, *, n_rows: int, n_labels: int) -> StoredFit | None:
        """The fit stored under ``key``, or ``None`` when there is none or it is unusable.

        Parameters
        ----------
        key : str
            From :func:`fit_key`.
        n_rows, n_labels : int
            The shape its probabilities must have (test rows x labels).

        Returns
        -------
        StoredFit or None
            ``None`` also for a damaged, truncated or foreign file: the fit is computed again.
        """
        path = self.path(key)
        if not path.is_file():
            return None
        # Whatever is wrong with the file (truncated zip, wrong arrays, a pickled object np.load
        # refuses, no permission) only means this fit is computed again.
        try:
            with np.load(path, allow_pickle=False) as data:
                stored_key = str(data["key"])
                proba = np.asarray(data["proba"])
                seconds = np.asarray(data["seconds"])
                # Files of earlier versions have no warnings: they count as none.
                raised = np.asarray(data["warnings"]) if "warnings" in data.files else np.empty((0, 2), dtype=str)
                # Nor a count of fits at once: taken as measured alone.
                concurrent = int(data["concurrent"]) if "concurrent" in data.files else 1
                # Nor what the fit chose: none recorded.
                details = json.loads(str(data["details"])) if "details" in data.files else {}
        except Exception:
            return None
        if (
            stored_key != key
            or proba.dtype != np.float64
            or proba.shape != (n_rows, n_labels)
            or not np.isfinite(proba).all()
            or seconds.shape != (2,)
            or not np.issubdtype(seconds.dtype, np.floating)
            or not (np.isfinite(seconds).all() and (seconds >= 0).all())
            or raised.dtype.kind != "U"
            or raised.ndim != 2
            or raised.shape[1] != 2
            or concurrent < 1
            or not isinstance(details, dict)
        ):
            return None
        return StoredFit(
            proba=proba, fit_seconds=float(seconds[0]), predict_seconds=float(seconds[1]),
            warnings=tuple((str(category), str(message)) for category, message in raised),
            concurrent=concurrent, details=details,
        )  # fmt: skip

    def save(self, key: str, fit: StoredFit) -> None:
        """Store a finished fit under ``key``, atomically (a reader sees all of it or nothing).

        A failure to write is reported once through ``warn`` and turns further saves off.
        """
        if not self._writable:
            return
        from genre.atomic import atomic_open

        try:
            with atomic_open(self.path(key), "wb") as handle:
                np.savez(
                    handle,
                    key=np.array(key),
                    proba=np.asarray(fit.proba, dtype=np.float64),
                    seconds=np.array([fit.fit_seconds, fit.predict_seconds], dtype=np.float64),
                    warnings=np.array(fit.warnings, dtype=str).reshape(-1, 2),
                    concurrent=np.array(int(fit.concurrent)),
                    details=np.array(json.dumps(fit.details, sort_keys=True)),
                )
        except OutputError as exc:
            self._writable = False
            if self._warn is not None:
                self._warn(f"{exc}; finished fits are no longer kept, an interruption would lose them")

    def remove(self) -> None:
        """Delete the stored fits and networks (and temporary files a killed write left), then the folders.

        Only files this store writes are removed; a folder holding anything else is kept.
        """
        _remove_own_files(self.networks, _NETWORK_NAME, _NETWORK_TEMPORARY)
        _remove_own_files(self.folder, _NAME, _TEMPORARY)


def _remove_own_files(folder: Path, *names: re.Pattern) -> None:
    """Delete the files of ``folder`` whose name matches one of ``names``, then the folder if now empty."""
    with contextlib.suppress(OSError):
        for item in folder.iterdir():
            if any(name.match(item.name) for name in names):
                with contextlib.suppress(OSError):
                    item.unlink()
        folder.rmdir()


#: ``(thread, folder)`` of the folders of fits this process holds the lock of, with the number
#: of nested holds: :func:`genre.benchmark.benchmark` takes it before extracting and
#: :func:`~genre.evaluation.cv.cross_validate_models` again for its fits, and ``flock``
#: refuses a second lock of the same file even within one process. By thread, so that two
#: benchmarks run from threads of one program still exclude each other.
_HELD: dict[tuple[int, str], int] = {}


@contextlib.contextmanager
def hold_checkpoints(folder: str | os.PathLike) -> Iterator[Path]:
    """Keep every other benchmark off the folder of fits ``folder`` while the block runs.

    The lock is ``<folder>.lock`` beside the folder (for ``genre benchmark -o R``:
    ``R/.unfinished.lock``), held with ``flock``: the kernel releases it when the process
    ends in any way, ``kill -9`` included, so a benchmark after a finished or killed one
    takes it and resumes the kept fits. The same thread may nest holds of one folder.
    Folders created to hold the lock file are removed again on leaving when still empty
    (a run refused later, e.g. for a bad table, leaves nothing behind).

    Parameters
    ----------
    folder : path-like
        The folder of fits (it need not exist).

    Yields
    ------
    folder : pathlib.Path

    Raises
    ------
    genre.errors.OutputError
        Another benchmark (another process, or another thread of this one) holds the lock:
        the message names the folder and the holder's pid and host; or the lock file cannot
        be created.
    """
    folder = Path(folder)
    held = (threading.get_ident(), os.path.realpath(folder))
    if held in _HELD:
        _HELD[held] += 1
        try:
            yield folder
        finally:
            _HELD[held] -= 1
        return
    parent = folder.parent
    created = [p for p in (parent, *parent.parents) if not p.exists()]
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{parent}: cannot create the folder ({exc.strerror or type(exc).__name__})") from None
    try:
        with OutputLock(folder, what="benchmark"):
            _HELD[held] = 1
            try:
                yield folder
            finally:
                del _HELD[held]
    finally:
        for made in created:  # deepest first; only empty ones go
            with contextlib.suppress(OSError):
                made.rmdir()
