"""Train a registered model on a feature table and save it (``genre train``)."""

from __future__ import annotations

import inspect
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from genre.errors import DataError, FallbackWarning, ParameterError
from genre.progress import reporting
from genre.text import name_list

__all__ = ["TrainResult", "train_model", "group_fit_params", "check_model_output"]


@dataclass
class TrainResult:
    """What :func:`train_model` did.

    Attributes
    ----------
    output : pathlib.Path
        The model file written.
    model_name : str
        Registry name of the model.
    labels : list of str
        Classes, in ``predict_proba`` column order.
    n_rows, n_tracks, n_features : int
        Size of the training data (rows are segments when the table has several per track).
    inputs : str
        What the model read, for people: ``"205 features"``, ``"log-mel patches of the audio"``,
        ``"musicnn_max_pool_*, 753 of 1556 features"``.
    fit_seconds : float
        Wall time of the fit.
    feature_kind : str
        ``"handcrafted"``, an embedding such as ``"musicnn"``, or ``"external"`` (from the table).
    can_predict_audio : bool
        Whether the model stores the feature configuration needed by ``genre predict`` on audio.
    estimator : object
        The fitted estimator.
    details : dict
        Model-specific facts worth reporting (chosen hyper-parameters, epochs trained).
    notes : list of str
        What the model did more simply than asked, and why (its
        :class:`~genre.errors.FallbackWarning` messages: an SVM left untuned on a tiny table),
        and what the table makes it learn unevenly (a few long tracks giving most rows, see
        :meth:`~genre.features.table.FeatureTable.row_share_note`).
    """

    output: Path
    model_name: str
    labels: list[str]
    n_rows: int
    n_tracks: int
    n_features: int
    inputs: str
    fit_seconds: float
    feature_kind: str
    can_predict_audio: bool
    estimator: Any = field(repr=False, default=None)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def group_fit_params(estimator: Any, groups: np.ndarray) -> dict[str, Any]:
    """Fit keyword arguments passing ``groups`` to every part of ``estimator`` that accepts them.

    Models that split their training rows internally (the SVM's inner grid search,
    the dense network's early-stopping set, the CNN embedding's early-stopping set
    in front of another model) then keep a track's segments, or an artist's tracks,
    on one side: ``estimator.fit(X, y, **group_fit_params(estimator, groups))``.
    A pipeline's steps are looked at one by one (``step__groups``, nested pipelines
    too); any other estimator gets ``groups`` when its ``fit`` has such a parameter,
    as :class:`genre.classifiers.ensemble.SoftVoteClassifier` does (it hands them on
    to its members).

    Parameters
    ----------
    estimator : estimator or Pipeline
        Unfitted model, as :func:`genre.classifiers.registry.make_model` builds it.
    groups : array-like of shape (n_samples,)
        Group of each training row.

    Returns
    -------
    dict
        ``{}`` for estimators that take no groups.

    Notes
    -----
    scikit-learn's own searches do not do this: ``GridSearchCV(model, cv=GroupKFold())
    .fit(X, y, groups=g)`` uses ``g`` for its own splits only. For a pipeline (every
    registered model but ``ensemble``), pass ``**group_fit_params(model, g)`` to that
    ``fit`` as well: the search hands the ``step__groups`` keys on, cut to each training
    split. A bare estimator's key is plain ``groups``, which the search keeps for its own
    splitter; wrap it in a one-step :class:`~sklearn.pipeline.Pipeline` to pass it on.
    """
    steps = getattr(estimator, "steps", None)
    if steps:
        return {
            f"{name}__{key}": value
            for name, step in steps
            for key, value in group_fit_params(step, groups).items()
        }
    fit = getattr(estimator, "fit", None)
    if callable(fit) and "groups" in inspect.signature(fit).parameters:
        return {"groups": groups}
    return {}


def check_model_output(path: str | os.PathLike, *, inputs: Sequence[str | os.PathLike] = ()) -> Path:
    """Refuse, before any training, a model file name that :func:`train_model` must not write.

    Parameters
    ----------
    path : path-like
        The model file to write.
    inputs : sequence of path-like
        The files training reads (the feature table).

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    genre.errors.OutputError
        ``path`` is empty, a folder, an input or cannot be written (see
        :func:`genre.atomic.check_output_file`), or is an existing file other than a genre
        model file (an earlier model is replaced).
    """
    from genre.atomic import check_output_file, check_replaceable
    from genre.classifiers.persistence import is_model_file

    target = check_output_file(path, inputs=inputs)
    return check_replaceable(target, ours=is_model_file, what="a genre model file")


def _model_inputs(spec: Any, table: Any, *, estimator: Any) -> tuple[Any, list[str], str]:
    """The training matrix of ``spec``'s model, the columns it consists of, and a description.

    Feature models read the table's numeric columns (embedding models only those with
    their prefix); audio models read each row's audio file and start.

    Parameters
    ----------
    spec : ModelSpec
        The model's registry entry (its ``input``).
    table : FeatureTable
        The training table.
    estimator : estimator
        The unfitted model (an audio model's patch length comes from its parameters).

    Raises
    ------
    genre.errors.ParameterError
        The table holds another kind of features than the model reads.
    genre.errors.DataError
        The table lacks the columns the model reads, or their audio files; or its rows are
        longer than the log-mel patch an audio model reads at each (a table extracted
        with ``--segment-seconds 0``: see :func:`genre.classifiers.cnn.check_table_patches`).
    """
    from genre.classifiers.cnn import SEGMENT_COLUMNS, check_table_patches
    from genre.features.table import audio_segment_ids, model_columns

    wanted = getattr(spec, "input", "features")
    if wanted == "audio":
        # Before the audio files are looked for: the sidecar alone says the rows do not fit.
        check_table_patches(table, estimators={spec.name: estimator})
        ids = audio_segment_ids(table, model=spec.name)
        return ids, list(SEGMENT_COLUMNS), "log-mel patches of the audio"
    if wanted not in ("features", table.kind):
        raise ParameterError(
            f"model {spec.name!r} reads {wanted} input, but {table.path} holds {table.kind} features; "
            "choose a model that reads feature tables (e.g. dense, svm, xgboost)"
        )
    columns, description = model_columns(table, model=spec.name, prefix=getattr(spec, "input_columns", None))
    return table.X[columns], columns, description


def _single_track_message(path: str | os.PathLike, lonely: Sequence[str], *, n_classes: int, label_col: str | None) -> str:
    """The refusal of a table where the classes ``lonely`` have a single track each.

    Worded as the benchmark's fold check words it: the advice names what can work (more
    tracks, or the class's rows gone), and when most classes have one track the label
    column itself is the likelier mistake (a title or id column taken for the genre).
    """
    from genre.text import plural

    n = len(lonely)
    message = (
        f"{path}: {plural(n, 'class', 'classes')} {', '.join(map(repr, lonely))} {plural(n, 'has', 'have')} "
        "a single track; every class needs at least two tracks to train on: "
        f"add tracks to {plural(n, 'it', 'them')} or remove {plural(n, 'its', 'their')} rows"
    )
    if n > n_classes / 2:
        column = f"{label_col!r}" if label_col else "the label column"
        message += (
            f"; {n} of {n_classes} classes have one track: is {column} really the label column (--label-col)?"
        )
    return message


def fit_details(estimator: Any) -> dict[str, Any]:
    """Fitted facts of the final step worth printing (tuned parameters and the folds that chose them, epochs).

    An ensemble's are its members', each under its name (``svm.best_params``): what a soft
    vote's SVM chose in each fold belongs in a methods section as much as a lone SVM's.
    """
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    facts = {}
    for attribute in ("best_params_", "tuning_folds_", "calibration_folds_", "best_epoch_", "n_epochs_"):
        value = getattr(final, attribute, None)
        if value is not None:
            facts[attribute.rstrip("_")] = value if isinstance(value, dict) else int(value)
    named, fitted = getattr(final, "estimators", None), getattr(final, "estimators_", None)
    if isinstance(named, (list, tuple)) and isinstance(fitted, list) and len(named) == len(fitted):
        for (name, _), member in zip(named, fitted):
            facts.update({f"{name}.{key}": value for key, value in fit_details(member).items()})
    return facts


def train_model(
    features_csv: str | os.PathLike,
    *,
    model: str = "dense",
    output: str | os.PathLike,
    label_col: str | None = None,
    id_col: str | None = None,
    drop: str | Sequence[str] = (),
    seed: int = 0,
    jobs: int = 1,
    params: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> TrainResult:
    """Fit a registered model on every row of a feature table and save it.

    Parameters
    ----------
    features_csv : path-like
        Feature table: written by ``genre extract`` (then the model can also predict
        from audio) or an external CSV with numeric feature columns and a label column.
    model : str
        Registry name (see :func:`genre.classifiers.registry.available_models`).
    output : path-like
        Model file to write (atomically).
    label_col, id_col : str, optional
        Label and track-id columns of an external table (detected when omitted).
    drop : str or sequence of str
        Columns to leave out of the features; a str is comma-separated, as ``--drop`` takes
        it (:func:`genre.text.name_list`).
    seed : int
        Seed of every random choice of the model (its ``random_state``).
    jobs : int
        Threads or processes the model may use (its ``n_jobs``); ``-1`` all cores, ``-2`` all but one, etc.
    params : mapping, optional
        Model parameters overriding the registered defaults.
    progress : bool
        Show on stderr that the fit runs (elapsed time) and the steps it reports with a
        count and an ETA: a network's epochs, a CNN's log-mel patches.

    Returns
    -------
    TrainResult

    Raises
    ------
    genre.errors.DataError
        The table is unusable (see :func:`genre.features.table.load_feature_table`), is a
        model file, or a class has a single track; or ``model`` reads a log-mel patch at each
        row's start (``cnn``, ``cnn-svm``, ``cnn-xgboost``) and the table's sidecar records
        longer rows (one per track, ``--segment-seconds 0``, or segments longer than the
        patch), refused before any audio is read.
    genre.errors.ParameterError
        Unknown model or parameter, unusable ``jobs``, or the model refused the table or its parameters
        (the library's first line of explanation).
    genre.errors.OutputError
        ``output`` cannot be written, is the feature table itself, or is an existing file
        other than a genre model file (see :func:`check_model_output`).
    """
    from genre.classifiers.fit_errors import model_refusals
    from genre.classifiers.persistence import is_model_file, save_model
    from genre.classifiers.registry import get_spec, make_model
    from genre.features.executors import resolve_jobs
    from genre.features.extractors import can_rebuild
    from genre.features.table import load_feature_table

    # -1 (all cores) becomes a count here, as in cross-validation, so every model and library
    # gets a plain number of threads; a bad value is refused before any work.
    jobs = resolve_jobs(jobs)
    if is_model_file(features_csv):
        # Else read as a CSV: a UTF-8 decoding error about a zip archive's bytes.
        raise DataError(
            f"{features_csv}: is a model file written by 'genre train', not a feature table; train on the CSV "
            "'genre extract' wrote (or an external feature table)"
        )
    check_model_output(output, inputs=[features_csv])
    spec = get_spec(model)
    estimator = make_model(model, random_state=seed, n_jobs=jobs, **dict(params or {}))
    table = load_feature_table(features_csv, label_col=label_col, id_col=id_col, drop=tuple(name_list(drop)))
    X, columns, inputs = _model_inputs(spec, table, estimator=estimator)
    tracks_per_label = {
        label: len(set(table.tracks[table.y == label].tolist())) for label in np.unique(table.y).tolist()
    }
    lonely = sorted(label for label, n in tracks_per_label.items() if n < 2)
    if lonely:
        raise DataError(
            _single_track_message(table.path, lonely, n_classes=len(tracks_per_label), label_col=table.label_col)
        )
    groups = table.groups if table.groups is not None else table.tracks

    started = time.perf_counter()
    # The libraries' refusals (scikit-learn's too few rows per class for an inner CV, XGBoost's
    # out-of-bounds parameter, TensorFlow's network too large for memory, a TypeError from a
    # --param value of the wrong type) come from the table or the params: one line, not the
    # library's traceback.
    with model_refusals(ParameterError, f"cannot fit model {model!r} on {table.path}", params=params):
        with warnings.catch_warnings(record=True) as caught, reporting(enabled=progress, title=f"fitting {model}"):
            warnings.simplefilter("default")
            estimator.fit(X, table.y, **group_fit_params(estimator, groups))
    seconds = time.perf_counter() - started
    notes = [note] if (note := table.row_share_note()) else []
    for warning in caught:
        if issubclass(warning.category, FallbackWarning):
            notes.append(str(warning.message))  # the model's own words: printed as a note
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)

    kind = table.kind
    # Kept whenever `genre predict` can recompute the inputs from audio with it (handcrafted
    # features, pretrained embeddings; for audio models, the segmentation of the table).
    config = table.config if can_rebuild(kind, table.config) else None
    details = fit_details(estimator)
    save_model(
        output,
        estimator,
        model_name=model,
        feature_columns=columns,
        labels=[str(c) for c in estimator.classes_],
        feature_config=config,
        extra={
            "feature_kind": kind,
            "trained_on": str(table.path),
            "n_rows": table.n_rows,
            "n_tracks": table.n_tracks,
            "fit_seconds": round(seconds, 3),
            "random_state": seed,
            "params": dict(params or {}),
            "details": details,
        },
    )
    return TrainResult(
        output=Path(output),
        model_name=model,
        labels=[str(c) for c in estimator.classes_],
        n_rows=table.n_rows,
        n_tracks=table.n_tracks,
        n_features=len(columns),
        inputs=inputs,
        fit_seconds=seconds,
        feature_kind=kind,
        can_predict_audio=config is not None,
        estimator=estimator,
        details=details,
        notes=notes,
    )
