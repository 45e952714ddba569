"""Model files that are safe to open: no pickle anywhere.

A model file is one zip archive::

    meta.json            format, model name, feature columns, labels, feature config, versions
    estimator.skops      the scikit-learn object graph (skops format, no pickle)
    components/0.keras   parts skops cannot store, each in its library's own format:
    components/1.ubj     Keras models (.keras, loaded with safe_mode=True), XGBoost (UBJSON)

Loading checks every type named in ``estimator.skops`` against an explicit
allow-list before anything is built, so a crafted file cannot run code; saving
checks the same list, so no file is written that could not be loaded. Parts
that are not scikit-learn objects are moved out of the graph by *component
handlers*: an estimator class registers, once, which attribute holds such a part
and how to turn it into bytes and back (see :func:`register_component`). This
module never tests model names or types in ``if`` chains.
"""

from __future__ import annotations

import datetime as _dt
import errno
import functools
import json
import os
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from genre.atomic import atomic_open
from genre.errors import ModelFileError

__all__ = [
    "is_model_file",
    "FORMAT",
    "FORMAT_VERSION",
    "LoadedModel",
    "save_model",
    "load_model",
    "register_component",
    "trust_types",
]

#: Identifies a genre model archive in ``meta.json``.
FORMAT = "genre-model"
#: Bumped whenever a reader of the previous version could not read new files.
FORMAT_VERSION = 1

_META = "meta.json"
_ESTIMATOR = "estimator.skops"
_MARKER = "genre-component:"
#: The first bytes of a zip archive (its first member's local header).
_ZIP_LOCAL_HEADER = b"PK\x03\x04"

#: Types (besides those registered by our own estimator modules) that a model file may contain.
#: Everything else named in a file, whatever skops would trust by default, is refused.
_TRUSTED: set[str] = {
    # containers and scalars skops records by name
    "builtins.slice",
    "builtins.tuple",
    "builtins.dict",
    "builtins.list",
    "collections.OrderedDict",
    "collections.defaultdict",
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.float32",
    "numpy.float64",
    "numpy.int32",
    "numpy.int64",
    "numpy.bool_",
    "numpy.str_",
    "numpy.random.RandomState",
    "numpy.random.mtrand.RandomState",
    "numpy.random._mt19937.MT19937",
    "numpy.random._pickle.__randomstate_ctor",
    "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    # scikit-learn building blocks used by the registered models
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.decomposition._pca.PCA",
    "sklearn.preprocessing._data.QuantileTransformer",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.svm._classes.SVC",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
    "sklearn.neighbors._classification.KNeighborsClassifier",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    # scikit-learn's distance metrics (a kNN tree's metric_) are added by _trusted_types()
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
    # "ensemble" files written before genre.classifiers.ensemble.SoftVoteClassifier replaced it
    "sklearn.ensemble._voting.VotingClassifier",
    "sklearn.utils._bunch.Bunch",
}


#: Failures of the zip layer on a damaged archive: bad headers or CRC (BadZipFile), a broken
#: deflate stream (zlib.error), sizes past the end (EOFError), nonsense version, method or flag
#: bits (NotImplementedError, RuntimeError for "encrypted"), undecodable names (ValueError),
#: short records (struct.error), seeks to negative offsets (OSError EINVAL).
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    struct.error,
    OSError,
)


@functools.cache
def _distance_metric_types() -> frozenset[str]:
    """scikit-learn's built-in distance metrics, 64- and 32-bit: a name and plain parameters.

    Enumerated from the module rather than listed, so every metric a kNN tree may hold
    (``manhattan``, ``chebyshev``, ``p=3`` ...) is covered in every scikit-learn version.
    ``PyFuncDistance*`` wraps an arbitrary Python function and stays untrusted.
    """
    from sklearn.metrics import _dist_metrics

    return frozenset(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in vars(_dist_metrics).values()
        if isinstance(cls, type)
        and issubclass(cls, _dist_metrics.DistanceMetric)
        and not cls.__name__.startswith("PyFunc")
    )


def _trusted_types() -> set[str]:
    """Every type a model file may name: :data:`_TRUSTED` and what our model modules register."""
    from genre.classifiers.registry import available_models

    available_models()  # imports the built-in model modules, which register their types
    return _TRUSTED | _distance_metric_types()


def _refused_types(named: list[str]) -> list[str]:
    """Those of the types a skops payload ``named`` that are outside the allow-list, sorted."""
    return sorted(set(named) - _trusted_types())


@dataclass(frozen=True)
class _Component:
    owner: type
    attribute: str
    suffix: str
    dump: Callable[[Any], bytes]
    load: Callable[[bytes], Any]


_COMPONENTS: dict[type, _Component] = {}


def trust_types(*types: type) -> None:
    """Allow instances of ``types`` inside model files.

    Only for classes of this package (or a trusted plug-in) whose state is plain
    data; every estimator class that can appear in a model must be trusted.
    """
    for cls in types:
        _TRUSTED.add(f"{cls.__module__}.{cls.__qualname__}")


def register_component(
    owner: type,
    attribute: str,
    *,
    suffix: str,
    dump: Callable[[Any], bytes],
    load: Callable[[bytes], Any],
) -> None:
    """Declare that ``owner`` instances keep a non-scikit-learn part in ``attribute``.

    On save the part is taken out of the object graph and written with ``dump``
    as its own archive member; on load ``load`` rebuilds it from those bytes. The
    owner class is trusted as well.

    Parameters
    ----------
    owner : type
        Estimator class, e.g. :class:`genre.classifiers.dense.DenseNetClassifier`.
    attribute : str
        Fitted attribute that holds the part, e.g. ``"model_"``.
    suffix : str
        File suffix of the member (``".keras"``, ``".ubj"``), for people who unzip.
    dump, load : callable
        ``dump(part) -> bytes`` and ``load(bytes) -> part``, in the library's own safe format.
    """
    _COMPONENTS[owner] = _Component(owner, attribute, suffix, dump, load)
    trust_types(owner)


def _handler(obj: Any) -> _Component | None:
    for cls in type(obj).__mro__:
        if cls in _COMPONENTS:
            return _COMPONENTS[cls]
    return None


def _walk(obj: Any, seen: set[int] | None = None) -> Iterator[Any]:
    """Yield every estimator-like object reachable from ``obj`` (depth first, once each)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _walk(item, seen)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _walk(item, seen)
    elif hasattr(obj, "get_params") and hasattr(obj, "__dict__") and not isinstance(obj, type):
        yield obj
        handler = _handler(obj)
        for name, value in vars(obj).items():
            if handler is None or name != handler.attribute:
                yield from _walk(value, seen)


@dataclass
class LoadedModel:
    """A model read from a file, with everything needed to use it correctly.

    Attributes
    ----------
    estimator : sklearn.base.BaseEstimator
        The fitted estimator (``predict``, ``predict_proba``, ``classes_``).
    model_name : str
        Registry name of the model (``"dense"``, ``"svm"`` ...).
    feature_columns : list of str
        Feature columns, in the order the estimator expects them.
    labels : list of str
        Class labels, in the order of the ``predict_proba`` columns.
    feature_config : dict or None
        :meth:`genre.features.config.FeatureConfig.to_dict` of the training table,
        ``None`` when the model was trained on an external table (cannot predict from audio).
    meta : dict
        Everything else recorded in ``meta.json`` (versions, creation time, ``extra``).
    """

    estimator: Any
    model_name: str
    feature_columns: list[str]
    labels: list[str]
    feature_config: dict | None
    meta: dict = field(default_factory=dict)


def _versions() -> dict[str, str]:
    import genre

    versions = {"genre": genre.__version__, "python": sys.version.split()[0]}
    # Only libraries already imported: recording versions must not import TensorFlow.
    for module in ("numpy", "sklearn", "skops", "keras", "tensorflow", "xgboost"):
        if module in sys.modules:
            versions[module] = str(getattr(sys.modules[module], "__version__", "?"))
    return versions


def save_model(
    path: str | os.PathLike,
    estimator: Any,
    *,
    model_name: str,
    feature_columns: list[str],
    labels: list[str],
    feature_config: dict | None,
    extra: dict | None = None,
) -> Path:
    """Write a fitted estimator and its metadata to one model file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (conventionally ``*.genre``); replaced only when complete.
    estimator : sklearn.base.BaseEstimator
        Fitted estimator built from the registry.
    model_name : str
        Registry name of the model.
    feature_columns : list of str
        Feature columns the estimator was trained on, in order.
    labels : list of str
        Class labels in the order of ``predict_proba`` columns.
    feature_config : dict or None
        Feature configuration of the training table (``None`` for external tables).
    extra : dict, optional
        Further JSON-serialisable facts to keep (training summary, scores).

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    genre.errors.ModelFileError
        If the estimator holds something that cannot be stored safely, or a type
        :func:`load_model` would refuse (a function in a pipeline step, a callable
        metric); nothing is written then.
    genre.errors.OutputError
        If ``path`` cannot be written.
    """
    import skops.io

    path = Path(path)
    parts: list[tuple[str, bytes]] = []
    detached: list[tuple[Any, str, Any]] = []
    try:
        for owner in _walk(estimator):
            handler = _handler(owner)
            if handler is None or not hasattr(owner, handler.attribute):
                continue
            member = f"components/{len(parts)}{handler.suffix}"
            value = getattr(owner, handler.attribute)
            parts.append((member, handler.dump(value)))
            # Swap the part for a marker while skops walks the graph; restored below.
            detached.append((owner, handler.attribute, value))
            setattr(owner, handler.attribute, _MARKER + member)
        try:
            skeleton = skops.io.dumps(estimator)
        except Exception as exc:  # skops raises plain TypeErrors for unsupported objects
            raise ModelFileError(f"{path}: cannot store this {type(estimator).__name__} safely: {exc}") from exc
    finally:
        for owner, attribute, value in reversed(detached):
            setattr(owner, attribute, value)
    # A file naming a type load_model refuses could never be used: refuse it now, before writing.
    refused = _refused_types(skops.io.get_untrusted_types(data=skeleton))
    if refused:
        raise ModelFileError(
            f"{path}: not saved, as it could not be loaded again: this {type(estimator).__name__} holds types "
            f"genre does not trust: {', '.join(refused)}"
        )

    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_name": model_name,
        "feature_columns": [str(c) for c in feature_columns],
        "labels": [str(label) for label in labels],
        "feature_config": feature_config,
        "components": [member for member, _ in parts],
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "extra": extra or {},
    }
    with atomic_open(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_META, json.dumps(meta, indent=2, default=str))
            archive.writestr(_ESTIMATOR, skeleton)
            for member, data in parts:
                archive.writestr(member, data)
    return path


def _read_meta(path: Path, archive: zipfile.ZipFile) -> dict:
    """``meta.json`` of ``archive``, checked; errors of the zip layer are left to the caller."""
    try:
        data = archive.read(_META)
    except KeyError:
        raise ModelFileError(f"{path}: not a genre model file (the archive has no {_META})") from None
    try:
        meta = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: corrupt model file ({_META} is not valid JSON: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a genre model file ({_META} does not say format {FORMAT!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: corrupt model file (format_version={version!r})")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written by a newer genre (model format {version}, this version reads up to "
            f"{FORMAT_VERSION}); upgrade genre to use it"
        )
    for key in ("model_name", "feature_columns", "labels"):
        if key not in meta:
            raise ModelFileError(f"{path}: corrupt model file ({_META} lacks {key!r})")
    # Lists are iterated below: a number there would escape as a TypeError.
    for key in ("feature_columns", "labels", "components"):
        if not isinstance(meta.get(key, []), list):
            raise ModelFileError(f"{path}: corrupt model file ({_META}: {key!r} is not a list)")
    return meta


def is_model_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` looks like a model file of ``genre train``: a zip archive holding ``meta.json``.

    Only the archive's directory is read, not the model: enough to tell an earlier model
    from another file, not to prove the model loads.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    bool
        ``False`` for anything else, and for a file that cannot be read.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return _META in archive.namelist()
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, struct.error, NotImplementedError, RuntimeError):
        return False  # not a zip, or a damaged one: not known to be ours


def _read_archive(path: Path) -> tuple[dict, bytes, dict[str, bytes]]:
    """The checked ``meta.json``, the ``estimator.skops`` bytes and the component members of ``path``.

    Raises
    ------
    genre.errors.ModelFileError
        The file cannot be opened (the message says why: permission denied ...), is not
        a zip archive, or is damaged anywhere in the zip layer: every such failure is
        reported as a corrupt model file rather than escaping as a zlib or zipfile error.
    """
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model file ({exc.strerror or exc})") from None
    with handle:
        try:
            archive = zipfile.ZipFile(handle)
        except _ARCHIVE_ERRORS as exc:
            handle.seek(0)
            if not zipfile.is_zipfile(handle):
                handle.seek(0)
                if handle.read(4) == _ZIP_LOCAL_HEADER:
                    # A zip's directory is at its end: a copy or download cut short starts like a
                    # model file but has none. "Not a genre model file" would send the user
                    # looking for the wrong file.
                    raise ModelFileError(
                        f"{path}: corrupt model file (a zip archive without its end: cut short when copied or "
                        "downloaded?); copy it again or train it again"
                    ) from None
                raise ModelFileError(f"{path}: not a genre model file (not a zip archive)") from None
            raise _archive_error(path, exc) from None
        try:
            with archive:
                meta = _read_meta(path, archive)
                skeleton = archive.read(_ESTIMATOR)
                members = {name: archive.read(name) for name in meta.get("components", [])}
        except KeyError as exc:
            raise ModelFileError(f"{path}: corrupt model file (missing member {exc})") from None
        except _ARCHIVE_ERRORS as exc:
            raise _archive_error(path, exc) from None
    return meta, skeleton, members


def _archive_error(path: Path, exc: Exception) -> ModelFileError:
    """The error to raise for ``exc`` from the zip layer: corruption, unless the disk failed."""
    # An archive with nonsense offsets makes zipfile seek before the start (EINVAL); another
    # errno (EIO ...) is the disk or the file system, not the file's contents.
    if isinstance(exc, OSError) and exc.errno not in (None, errno.EINVAL):
        return ModelFileError(f"{path}: cannot read the model file ({exc.strerror or exc})")
    return ModelFileError(f"{path}: corrupt model file ({str(exc) or type(exc).__name__})")


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Read a model file written by :func:`save_model`, refusing anything unsafe.

    Parameters
    ----------
    path : str or os.PathLike
        Model file.

    Returns
    -------
    model : LoadedModel

    Raises
    ------
    genre.errors.ModelFileError
        If the file is missing, unreadable, not a zip, not ours, from a newer format,
        corrupt (damaged anywhere: a flipped byte is reported as such, never as a
        zlib or zipfile error), or names any type outside the allow-list.
    """
    import skops.io

    from genre.classifiers.registry import available_models

    available_models()  # imports the built-in model modules, which register their parts
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a model file")
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    meta, skeleton, members = _read_archive(path)

    try:
        named = skops.io.get_untrusted_types(data=skeleton)
    except Exception as exc:
        raise ModelFileError(f"{path}: corrupt model file ({_ESTIMATOR} unreadable: {exc})") from None
    refused = _refused_types(named)
    if refused:
        raise ModelFileError(
            f"{path}: refused to load: the model file contains types genre does not trust: {', '.join(refused)}"
        )
    try:
        estimator = skops.io.loads(skeleton, trusted=named)
    except Exception as exc:
        raise ModelFileError(f"{path}: corrupt model file ({_ESTIMATOR}: {exc})") from None

    for owner in _walk(estimator):
        handler = _handler(owner)
        value = getattr(owner, handler.attribute, None) if handler else None
        if not (isinstance(value, str) and value.startswith(_MARKER)):
            continue
        member = value[len(_MARKER) :]
        if member not in members:
            raise ModelFileError(f"{path}: corrupt model file (component {member} is not listed)")
        try:
            setattr(owner, handler.attribute, handler.load(members[member]))
        except Exception as exc:
            raise ModelFileError(f"{path}: corrupt model file (cannot read {member}: {exc})") from None

    labels = [str(label) for label in meta["labels"]]
    classes = getattr(estimator, "classes_", None)
    if classes is not None and [str(c) for c in classes] != labels:
        raise ModelFileError(f"{path}: corrupt model file (estimator classes do not match the stored labels)")
    known = {"model_name", "feature_columns", "labels", "feature_config"}
    return LoadedModel(
        estimator=estimator,
        model_name=str(meta["model_name"]),
        feature_columns=[str(c) for c in meta["feature_columns"]],
        labels=labels,
        feature_config=meta.get("feature_config"),
        meta={k: v for k, v in meta.items() if k not in known},
    )

