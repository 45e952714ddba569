"""Cross-validating registered models on a feature table, scored per track.

For every model and every split, a fresh estimator is fitted on the segment rows of
the training tracks and ``predict_proba`` is taken on the test rows. A track's
prediction is the argmax of its segments' mean probability (the majority vote of its
segments is reported too, see :attr:`~genre.evaluation.results.FoldScore.vote_predictions`),
so a table with ten 3-second rows per track is scored on the same tracks as a table with one
row per track. The scores come from :func:`~genre.evaluation.results.track_scores` and its
siblings, which ``load_results`` uses to recompute them from the per-track records.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from genre.errors import DataError, ParameterError
from genre.evaluation.checkpoint import CheckpointStore, StoredFit, fit_key, hold_checkpoints, input_digest
from genre.evaluation.inputs import InputPlan, plan_inputs, remap_split
from genre.evaluation.results import (
    PROBABILITY_DECIMALS, BenchmarkResults, FoldScore, ModelResult, SplitInfo, accuracy_interval, confusion_counts,
    pairwise_tests, per_class_scores, same_every_fold, summarize_folds, track_scores,
)  # fmt: skip
from genre.evaluation.splits import ListMatch, Split, cv_splits, list_split
from genre.features.table import FeatureTable
from genre.progress import tell
from genre.text import plural

__all__ = ["cross_validate_models", "cv_settings", "check_split_classes", "DEFAULT_MODELS", "DEFAULT_FOLDS", "DEFAULT_REPEATS"]

#: Models benchmarked when none are named.
DEFAULT_MODELS: tuple[str, ...] = ("dense", "svm", "xgboost")
#: Cross-validation folds and repeats when none are given.
DEFAULT_FOLDS = 5
DEFAULT_REPEATS = 1
#: Warnings of a fit that are left out of the report: Python's own default filters hide
#: them too (library internals, not the user's concern).
_UNREPORTED_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
#: Packages whose versions are recorded in the results.
_VERSIONED = (
    "numpy", "pandas", "scikit-learn", "scipy", "joblib",
    "xgboost", "xgboost-cpu", "tensorflow", "tensorflow-cpu", "keras",
)  # fmt: skip


@dataclass
class _FoldOutput:
    """What one fit/predict returns to the parent process."""

    model: str
    split_index: int
    proba: np.ndarray  # (n_test_rows, n_labels), columns in the benchmark's label order
    fit_seconds: float
    predict_seconds: float
    resumed: bool = False  # read back from an interrupted run's checkpoint, not fitted now
    # (category, first line) of each distinct warning the fit raised: printed by a worker
    # process they would scroll the results away, so they travel back and go in the report.
    warnings: tuple[tuple[str, str], ...] = ()
    # What the fit chose on its own (an SVM's C, a network's best epoch): see fit_details.
    details: dict[str, Any] = field(default_factory=dict)


def _fit_predict_in_worker(**call: Any) -> _FoldOutput:
    """:func:`_fit_predict` in a worker process that shares the cores with the other workers.

    loky limits the BLAS and OpenMP pools of its workers to one thread, and XGBoost takes
    ``n_jobs``; TensorFlow reads neither, so its pools are set here, before it starts in
    this process (a user's own setting wins).
    """
    if call["n_jobs"] == 1:
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    return _fit_predict(**call)


def _fit_predict(
    *,
    model: str,
    params: Mapping[str, Any],
    split_index: int,
    seed: int,
    n_jobs: int,
    X_train: "np.ndarray | pd.DataFrame",
    y_train: np.ndarray,
    X_test: "np.ndarray | pd.DataFrame",
    labels: Sequence[str],
    groups_train: np.ndarray,
    where: str = "",
) -> _FoldOutput:
    """Fit a fresh model on one split's training rows and predict its test rows.

    Module-level so joblib can send it to worker processes. ``where`` names the split
    (``"fold 3"``) in error messages. Warnings the model raises (scikit-learn's
    ``ConvergenceWarning``...) are not printed: they are returned in ``warnings``.

    Raises
    ------
    DataError
        The model refused the split's data or its parameters (a ``ValueError``, which
        XGBoost's ``XGBoostError`` is too, or a TensorFlow ``OpError`` such as running out
        of memory), e.g. values it cannot handle; the message names the model and the split.
    """
    from genre.classifiers.fit_errors import model_refusals
    from genre.classifiers.registry import make_model
    from genre.classifiers.training import fit_details, group_fit_params

    estimator = make_model(model, random_state=seed, n_jobs=n_jobs, **dict(params))
    started = time.perf_counter()
    # scikit-learn reports data problems (too few classes or rows, values it cannot use)
    # as ValueError, TensorFlow its own way: say which model and split, in one line.
    with (
        warnings.catch_warnings(record=True) as caught,
        model_refusals(DataError, f"model {model} failed on {where or f'split {split_index + 1}'}", params=params),
    ):
        warnings.simplefilter("always")  # every fit's warnings are counted, not only a module's first
        # Models that split their training rows again (inner grid search, early stopping) get the
        # groups, so one track's segments or one artist's tracks stay on one side there too.
        estimator.fit(X_train, y_train, **group_fit_params(estimator, groups_train))
        fitted = time.perf_counter()
        raw = np.asarray(estimator.predict_proba(X_test), dtype=float)
    predicted = time.perf_counter()
    raised = tuple(
        dict.fromkeys(
            (w.category.__name__, str(w.message).strip().split("\n", 1)[0])
            for w in caught
            if not issubclass(w.category, _UNREPORTED_WARNINGS)
        )
    )
    # A training side may lack a class (fixed partitions): its probability is 0.
    proba = np.zeros((len(X_test), len(labels)))
    position = {label: i for i, label in enumerate(labels)}
    for column, cls in enumerate(getattr(estimator, "classes_", labels)):
        proba[:, position[str(cls)]] = raw[:, column]
    return _FoldOutput(
        model, split_index, proba, fitted - started, predicted - fitted, warnings=raised, details=fit_details(estimator)
    )


def cross_validate_models(
    table: FeatureTable | Sequence[FeatureTable],
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    folds: int | None = None,
    repeats: int | None = None,
    groups: bool = True,
    train_lists: Sequence[str | os.PathLike] | None = None,
    test_list: str | os.PathLike | None = None,
    jobs: int = 1,
    seed: int = 0,
    progress: bool = True,
    model_params: Mapping[str, Mapping[str, Any]] | None = None,
    alpha: float = 0.05,
    command: str = "",
    checkpoint_dir: str | os.PathLike | None = None,
) -> BenchmarkResults:
    """Evaluate models on identical track-level splits of one table.

    Parameters
    ----------
    table : FeatureTable or sequence of FeatureTable
        Labelled tables from :func:`genre.features.table.load_feature_table`. With several
        (e.g. handcrafted features and musicnn embeddings of the same tracks), each model
        reads the table its spec's ``input`` names, the tables are matched on track ids,
        and the folds are built once over the tracks present in all of them.
    models : sequence of str
        Registry names (see ``genre.classifiers.registry.available_models``).
    folds, repeats : int, optional
        k-fold cross-validation repeated ``repeats`` times; default :data:`DEFAULT_FOLDS`
        and :data:`DEFAULT_REPEATS`. A fixed partition (``test_list``) has neither: other
        values are refused there.
    groups : bool
        Keep each group of ``table.groups`` on one side of every split (when it has groups);
        with list files, refuse lists that put a group's tracks on both sides.
    train_lists, test_list : path-like, optional
        A fixed partition from list files instead of cross-validation. Without
        ``train_lists`` every track not in ``test_list`` trains, and the protocol's
        ``caveat`` says so (curated partitions leave some tracks out of every list).
    jobs : int
        Worker processes for models whose spec allows parallel folds; threads given to
        the other models (-1: all cores). No more processes or threads run than the machine
        has cores, nor more processes than a model has fits; ``protocol["jobs"]`` records
        the most fits that ran at once.
    seed : int
        Seed of the splits (``+ repeat``) and of the models (their ``random_state``).
    progress : bool
        Show a progress bar with ETA over models x splits on stderr.
    model_params : mapping, optional
        ``model name -> parameters`` overriding that model's defaults.
    alpha : float
        Family-wise significance level of the pairwise tests.
    command : str
        The command line, recorded in the results.
    checkpoint_dir : path-like, optional
        Keep every finished (model, split) fit there as it finishes (see
        :mod:`genre.evaluation.checkpoint`), and reuse the fits an interrupted run with the
        same models, parameters, seed, tables and library versions left there: they keep
        the fit and predict seconds measured then, and ``protocol["resumed_fits"]`` counts
        them. The folder is left in place; :func:`genre.benchmark.benchmark` removes its
        own after a successful run. ``None``: nothing is kept. While the run reads and
        writes the folder it holds its lock (:func:`~genre.evaluation.checkpoint.hold_checkpoints`),
        so a second run into the same folder is refused at once.

    Returns
    -------
    BenchmarkResults

    Raises
    ------
    ParameterError
        Unknown model, no models, a parameter a model does not take, bad ``jobs``/``folds``,
        ``train_lists`` without ``test_list``, ``folds`` or ``repeats`` with ``test_list``.
    genre.errors.OutputError
        ``checkpoint_dir`` cannot be created or written (checked before any work), or
        another run (another process) is using it.
    DataError
        From the splitters: too few tracks or groups, list files that match nothing or put
        a group on both sides; a model's input is missing from the tables (see
        :func:`genre.evaluation.inputs.plan_inputs`).
    """
    from genre.classifiers.registry import check_seed, get_spec, make_model

    started = time.perf_counter()
    fixed = test_list is not None
    folds, repeats = cv_settings(folds, repeats, fixed=fixed)
    # Before any work: a bad seed would otherwise fail inside every fold.
    check_seed(seed, n_derived=repeats)
    models = list(dict.fromkeys(m.strip() for m in models if m and m.strip()))
    if not models:
        raise ParameterError("--models: name at least one model")
    specs = {name: get_spec(name) for name in models}  # unknown names fail before any work
    model_params = {k: dict(v) for k, v in (model_params or {}).items()}
    unknown_params = sorted(set(model_params) - set(models))
    if unknown_params:
        raise ParameterError(f"parameters given for models not being run: {', '.join(unknown_params)}")
    for name in models:  # a parameter a model refuses fails here, not in every fold
        make_model(name, random_state=seed, **model_params.get(name, {}))
    from genre.features.executors import resolve_jobs

    workers = resolve_jobs(jobs)
    if train_lists and test_list is None:
        raise ParameterError("--train-list needs --test-list (the tracks to test on)")
    store = None
    held = contextlib.ExitStack()
    if checkpoint_dir is not None:
        from genre.atomic import check_output_folder

        check_output_folder(checkpoint_dir)  # before the work, not at the first finished fit
        # Before the splits and fits: a second benchmark into the same folder would read this
        # one's fits half-written and write its own among them; it is refused at once instead.
        held.enter_context(hold_checkpoints(checkpoint_dir))
        store = CheckpointStore(checkpoint_dir, warn=_warner(progress))
        # The networks the fits train are kept beside them, and a fit looks there before training
        # one: a resumed cnn-svm reuses a kept cnn fold's network. Set for this thread, where the
        # CNN's folds run (parallel_folds is off). Problems are said between fits, not as a fit's.
        from genre.classifiers.cnn import keep_networks

        held.enter_context(keep_networks(store.networks, warn=store.warn_later))
        held.callback(store.say_pending)

    with held:
        tables = [table] if isinstance(table, FeatureTable) else list(table)
        if not tables:
            raise ParameterError("give at least one feature table")
        notes: list[str] = []
        plan = plan_inputs(tables, specs, note=notes.append, params=model_params)
        table = plan.reference  # splits, labels and the dataset description come from here
        if progress:
            tell(notes)

        list_matches: list[ListMatch] = []
        if fixed:
            split, list_matches = list_split(
                table, train_lists=list(train_lists or ()), test_list=test_list, use_groups=groups
            )
            splits = [split]
        else:
            splits = cv_splits(table, folds=folds, repeats=repeats, use_groups=groups, random_state=seed)
        labels = table.labels
        class_notes = check_split_classes(table, splits, train_lists=train_lists, test_list=test_list)
        list_note = _ambiguous_lines_note(list_matches)
        if progress:
            tell([note for note in [*class_notes, list_note] if note], kind="warning")
        # One set of track-level splits; each input gets them as its own row indices.
        model_splits = {name: [remap_split(s, plan.inputs[name].table) for s in splits] for name in models}
        outputs, concurrent = _run_all(
            models, specs, model_params, plan, model_splits, labels, workers=workers, seed=seed,
            progress=progress, fixed=fixed, store=store,
        )  # fmt: skip

    results = [
        _score_model(
            name,
            specs[name],
            model_params.get(name, {}),
            plan.inputs[name].table,
            model_splits[name],
            [outputs[(name, i)] for i in range(len(splits))],
            labels,
            fixed=fixed,
        )
        for name in models
    ]
    ratio = float(np.mean([s.test_train_ratio for s in splits]))
    pairwise = pairwise_tests(
        results, fixed=fixed, test_labels=_track_truth(table, splits[0]), test_train_ratio=ratio, alpha=alpha
    )

    for result in results:
        result.input = plan.inputs[result.name].description
        result.description = _fallback_description(
            result.description, [outputs[(result.name, i)] for i in range(len(splits))]
        )
    protocol = _describe_protocol(
        table, folds=folds, repeats=repeats, groups=groups, seed=seed, ratio=ratio,
        matches=list_matches, fixed=fixed, alpha=alpha, jobs=concurrent,
    )  # fmt: skip
    if plan.sentence():
        protocol["description"] += " " + plan.sentence()
    caveats = [*class_notes, list_note, protocol.get("caveat"), table.row_share_note()]
    # What extraction said about the audio (silent stretches, low sample rates) belongs in the
    # report too: a rerun on the cached table, or a reader of the paper, would not see it.
    read = {str(plan.inputs[name].table.path): plan.inputs[name].table for name in models}
    caveats += _skipped_notes(list(read.values()))
    for input_table in read.values():
        caveats += _extraction_notes(input_table)
    if fixed and not train_lists:
        caveats.append(_test_list_only_caveat(table, splits[0], test_list))
    caveats += [
        _warnings_note(name, specs[name], model_params.get(name, {}), [outputs[(name, i)] for i in range(len(splits))])
        for name in models
    ]
    constant = [r for r in results if not fixed and same_every_fold(r.summaries["accuracy"])]
    if constant:
        names = ", ".join(r.name for r in constant)
        caveats.append(
            f"every fold of {names} scored the same, so the t interval over folds has no width; "
            f"{plural(len(constant), 'its', 'their')} 95 % interval is the Wilson interval of the tracks one "
            "repeat tests instead"
        )
    protocol["caveat"] = " ".join(_sentence(c) for c in caveats if c) or None
    n_resumed = sum(output.resumed for output in outputs.values())
    protocol["resumed_fits"] = n_resumed
    if n_resumed:
        # Reused fits are the same fits, but their times come from another sitting: say so.
        protocol["description"] += (
            f" {n_resumed} of {len(outputs)} fits (model x split) were read back from the checkpoints of an "
            "interrupted run of this benchmark (same models, parameters, seed, tables and library versions); "
            "their fit and predict times are the ones measured then."
        )
    protocol["inputs"] = {name: plan.inputs[name].description for name in models}
    dataset = _describe_dataset(table)
    dataset["inputs"] = plan.tables
    # Every other table a model read (musicnn embeddings beside the handcrafted features),
    # described as the first one is, so a reader can tell what each model was given.
    others = {}
    for name in models:
        other = plan.inputs[name].table
        if str(other.path) != str(table.path) and str(other.path) not in others:
            others[str(other.path)] = {
                "name": other.name,
                "kind": other.kind,
                "n_rows": other.n_rows,
                "n_features": len(other.feature_columns),
                "feature_config": other.config,
                **_provenance(other),
            }
    dataset["other_tables"] = list(others.values())
    dataset["n_tracks_common"] = plan.n_common
    dataset["n_tracks_dropped"] = plan.n_dropped
    return BenchmarkResults(
        dataset=dataset,
        protocol=protocol,
        labels=labels,
        models=results,
        pairwise=pairwise,
        splits=[
            SplitInfo(
                repeat=s.repeat,
                fold=s.fold,
                n_train_tracks=len(s.train_tracks),
                n_test_tracks=len(s.test_tracks),
                n_train_rows=len(s.train),
                n_test_rows=len(s.test),
                test_tracks=[str(t) for t in s.test_tracks],
                test_labels=_track_truth(table, s).tolist(),
            )
            for s in splits
        ],
        versions=_versions(),
        command=command,
        created=_dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
        seconds=time.perf_counter() - started,
    )


# -- running ------------------------------------------------------------------------------------
def _take(X: "np.ndarray | pd.DataFrame", rows: np.ndarray) -> "np.ndarray | pd.DataFrame":
    """Rows of a feature matrix, or of a segment-id DataFrame (audio models)."""
    return X.iloc[rows].reset_index(drop=True) if isinstance(X, pd.DataFrame) else X[rows]


def _inner_groups(table: FeatureTable) -> np.ndarray:
    """What models that split their training rows again keep together: groups, else tracks."""
    return np.asarray(table.groups if table.groups is not None else table.tracks).astype(str)


def _warner(progress: bool):
    """Where a failed checkpoint write is reported: the terminal's warnings, or Python's."""
    if progress:
        return lambda line: tell([line], kind="warning")
    return lambda line: warnings.warn(line, RuntimeWarning, stacklevel=2)


def _fit_keys(
    models: list[str],
    model_params: Mapping[str, Mapping[str, Any]],
    plan: InputPlan,
    model_splits: Mapping[str, list[Split]],
    labels: list[str],
    *,
    seed: int,
) -> dict[tuple[str, int], str]:
    """Checkpoint key of every (model, split index) fit, as :func:`_fit_predict` would run it."""
    versions = _versions()
    digests: dict[int, str] = {}  # by input object: audio models share one DataFrame of segment ids
    keys = {}
    for name in models:
        model_input = plan.inputs[name]
        if id(model_input.X) not in digests:
            digests[id(model_input.X)] = input_digest(
                model_input.X, model_input.table.y, _inner_groups(model_input.table)
            )
        for i, split in enumerate(model_splits[name]):
            keys[(name, i)] = fit_key(
                model=name, params=model_params.get(name, {}), seed=seed + split.repeat, labels=labels,
                inputs=digests[id(model_input.X)], train=split.train, test=split.test, versions=versions,
            )  # fmt: skip
    return keys


def _run_all(
    models: list[str],
    specs: Mapping[str, Any],
    model_params: Mapping[str, Mapping[str, Any]],
    plan: InputPlan,
    model_splits: Mapping[str, list[Split]],
    labels: list[str],
    *,
    workers: int,
    seed: int,
    progress: bool,
    fixed: bool = False,
    store: CheckpointStore | None = None,
) -> tuple[dict[tuple[str, int], _FoldOutput], int]:
    """Fit every model on every split of its input; folds run in parallel where the model allows it.

    With a checkpoint ``store``, fits an interrupted run finished are read back instead of
    fitted (marked ``resumed``), and every new fit is stored the moment it arrives, so a
    kill keeps all finished ones, in whatever order parallel folds finish.

    Returns
    -------
    outputs : dict
        ``(model, split index) -> _FoldOutput``.
    concurrent : int
        The most fits that ran at once: ``workers`` capped by the cores and by the fits
        of a model whose folds run in parallel (1 when every fit ran alone); for fits read
        back from ``store``, as many as ran at once when their times were measured.
    """
    outputs: dict[tuple[str, int], _FoldOutput] = {}
    from genre.features.executors import cap_workers
    from genre.progress import progress_bar

    n_splits = len(next(iter(model_splits.values())))
    sizing: list[str] = []
    cap_workers(jobs=workers, n_items=n_splits, notes=sizing)  # says so when workers exceed the cores
    if progress:
        tell(sizing)
    cores = os.cpu_count() or 1
    concurrent = 1
    keys: dict[tuple[str, int], str] = {}
    if store is not None:
        keys = _fit_keys(models, model_params, plan, model_splits, labels, seed=seed)
        for (name, i), key in keys.items():
            test = model_splits[name][i].test
            stored = store.load(key, n_rows=len(test), n_labels=len(labels))
            if stored is not None:
                outputs[(name, i)] = _FoldOutput(
                    name, i, stored.proba, stored.fit_seconds, stored.predict_seconds, resumed=True,
                    warnings=stored.warnings, details=stored.details,
                )  # fmt: skip
                # The kept times were measured with this many fits at once: the report says so.
                concurrent = max(concurrent, stored.concurrent)
        if outputs and progress:
            done = f"{len(outputs)} of {len(keys)} {plural(len(keys), 'fit', 'fits')}"
            tell([f"{done} were finished by an interrupted run (their measured times are kept)"], kind="resuming")

    def finished(output: _FoldOutput, *, at_once: int) -> None:
        outputs[(output.model, output.split_index)] = output
        if store is not None:
            store.say_pending()  # what the fit's network files had to say
            store.save(
                keys[(output.model, output.split_index)],
                StoredFit(
                    output.proba, output.fit_seconds, output.predict_seconds, output.warnings, at_once, output.details
                ),
            )

    with progress_bar(enabled=progress) as bar:
        task = bar.add_task("benchmark", total=len(models) * n_splits)
        for name in models:
            started = time.perf_counter()
            params = model_params.get(name, {})
            X, y = plan.inputs[name].X, plan.inputs[name].table.y
            inner_groups = _inner_groups(plan.inputs[name].table)
            splits = model_splits[name]
            todo = [(i, s) for i, s in enumerate(splits) if (name, i) not in outputs]
            n_resumed = len(splits) - len(todo)
            bar.advance(task, n_resumed)
            parallel_folds = bool(getattr(specs[name], "parallel_folds", False))
            processes = cap_workers(jobs=workers, n_items=len(todo), notes=[]) if parallel_folds else 1
            parallel = processes > 1
            concurrent = max(concurrent, processes)
            # More threads than cores only wait on each other.
            threads = 1 if parallel else min(workers, cores)
            # The model seed changes with the repeat so repeats also sample model randomness.
            calls = [
                dict(
                    model=name, params=params, split_index=i, seed=seed + s.repeat, n_jobs=threads,
                    X_train=_take(X, s.train), y_train=y[s.train], X_test=_take(X, s.test), labels=labels,
                    groups_train=inner_groups[s.train],
                    where="the fixed train/test split" if fixed else _split_name(s),
                )
                for i, s in todo
            ]  # fmt: skip
            bar.update(task, description=f"{name} ({'parallel folds' if parallel else 'sequential'})")
            if parallel:
                from joblib import Parallel, delayed

                runner = Parallel(n_jobs=processes, return_as="generator_unordered")
                for output in runner(delayed(_fit_predict_in_worker)(**call) for call in calls):
                    finished(output, at_once=processes)
                    bar.advance(task)
            else:
                for call in calls:
                    finished(_fit_predict(**call), at_once=1)
                    bar.advance(task)
            if progress:
                resumed = f", {n_resumed} of them resumed" if n_resumed else ""
                bar.console.print(
                    f"{name}: {time.perf_counter() - started:.1f} s for "
                    f"{'the fixed partition' if fixed else f'{len(splits)} folds'}{resumed} "
                    f"({plan.inputs[name].description})",
                    highlight=False,
                )
        bar.update(task, description="benchmark done")
    return outputs, concurrent


def _split_name(split: Split) -> str:
    """``repeat 2, fold 3`` (1-based, as people count)."""
    return (f"repeat {split.repeat + 1}, " if split.repeat else "") + f"fold {split.fold + 1}"


def check_split_classes(
    table: FeatureTable,
    splits: Sequence[Split],
    *,
    train_lists: Sequence[str | os.PathLike] | None,
    test_list: str | os.PathLike | None,
) -> list[str]:
    """Refuse a split whose training side has fewer than two classes; describe test classes
    that a training side lacks, and classes a test side lacks.

    Returns
    -------
    notes : list of str
        One-line warnings: some test tracks belong to a class their training side lacks
        (they can never be predicted correctly); a class has no test tracks in a split
        (macro averages of that split leave it out, see :func:`_score_model`).

    Raises
    ------
    DataError
        A training side holds a single class (or none): no classifier can be fitted.
    """
    fixed = test_list is not None
    missing: dict[str, int] = {}
    where_missing: list[str] = []
    untested: dict[str, None] = {}  # classes without test tracks, in label order
    where_untested: list[str] = []
    for split in splits:
        train_classes = sorted(set(table.y[split.train].tolist()))
        if len(train_classes) < 2:
            present = ", ".join(repr(c) for c in train_classes) or "none"
            n = len(split.train_tracks)
            tracks = f"{n} {plural(n, 'track', 'tracks')} of {table.path.name}, all of class {present}"
            if fixed and train_lists:
                files = ", ".join(os.fspath(p) for p in train_lists)
                lists = plural(len(train_lists), "the training list matches", "the training lists match")
                where = f"{files}: {lists} {tracks}"
            elif fixed:
                where = f"{os.fspath(test_list)}: the tracks not in the test list are {tracks}"
            else:
                where = f"{table.path}: the training side of {_split_name(split)} holds {tracks}"
            raise DataError(f"{where}; training needs at least two classes")
        test_labels = pd.Series(_track_truth(table, split))
        lacking = test_labels[~test_labels.isin(train_classes)]
        for label, count in lacking.value_counts().sort_index().items():
            missing[str(label)] = missing.get(str(label), 0) + int(count)
        if len(lacking):
            where_missing.append("the fixed split" if fixed else _split_name(split))
        tested = set(test_labels)
        absent = [label for label in table.labels if label not in tested]
        untested.update(dict.fromkeys(absent))
        if absent:
            where_untested.append(_split_name(split))
    notes = []
    if missing:
        listing = ", ".join(f"{label!r} ({n} test {plural(n, 'track', 'tracks')})" for label, n in missing.items())
        notes.append(
            f"the training side lacks {plural(len(missing), 'class', 'classes')} {listing}{_where(where_missing, fixed)}: "
            "those test tracks cannot be predicted correctly and count as errors"
        )
    if untested:
        n = len(untested)
        classes = f"{plural(n, 'class', 'classes')} {', '.join(map(repr, untested))}"
        if fixed:
            scores = f"average over the classes it has, and {plural(n, 'its', 'their')} per-class scores are n/a"
        else:
            scores = (
                f"there average over the classes it has, and {plural(n, 'its', 'their')} per-class scores come from "
                "the other folds"
            )
        notes.append(
            f"the test side has no tracks of {classes}{_where(where_untested, fixed)}: macro-F1 and balanced "
            f"accuracy {scores}"
        )
    return notes


def _where(splits: list[str], fixed: bool) -> str:
    """`` in fold 1, fold 3, ...`` (the first three): where something was found; nothing for a fixed split."""
    return "" if fixed else f" in {', '.join(splits[:3])}{', ...' if len(splits) > 3 else ''}"


def _ambiguous_lines_note(matches: Sequence[ListMatch]) -> str | None:
    """A warning about list lines that could name several tracks, which were left out."""
    ambiguous = [m for m in matches if m.n_ambiguous]
    if not ambiguous:
        return None
    parts = ", ".join(
        f"{m.n_ambiguous} of {m.n_lines} lines of {m.role} list {os.path.basename(m.path)} (e.g. {m.ambiguous[0]!r})"
        for m in ambiguous
    )
    return (
        f"{parts} name a file name that several tracks share, in folders that do not say which: they were left "
        "out of the partition; write them with the folders of the table's track ids"
    )


def _sentence(text: str) -> str:
    """``text`` as a sentence of a paragraph: a capital first letter, a full stop at the end."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def _test_list_only_caveat(table: FeatureTable, split: Split, test_list: str | os.PathLike | None) -> str:
    """Why a fixed partition from a test list alone deserves a second look.

    Curated partitions (GTZAN's fault-filtered split) leave some tracks out of every list on
    purpose: repeated excerpts, mislabelled ones. Without ``--train-list`` those train.
    """
    n_tracks, n_rows = len(split.train_tracks), len(split.train)
    rows = f", {n_rows} {plural(n_rows, 'row', 'rows')}" if n_rows != n_tracks else ""
    return (
        f"Only a test list was given ({os.path.basename(os.fspath(test_list))}): the training side is every other "
        f"row of {table.name} ({n_tracks} {plural(n_tracks, 'track', 'tracks')}{rows}), including any that a "
        "curated partition leaves out on purpose (GTZAN's fault-filtered split leaves out repeated and "
        "mislabelled excerpts). For such a partition, give its training list(s) with --train-list."
    )


# -- scoring ------------------------------------------------------------------------------------
def _track_truth(table: FeatureTable, split: Split) -> np.ndarray:
    """True label of each test track, in ``split.test_tracks`` order."""
    first = pd.Series(table.y[split.test], index=table.tracks[split.test])
    first = first[~first.index.duplicated()]
    return first.reindex(split.test_tracks).to_numpy().astype(str)


def _aggregate(
    table: FeatureTable, split: Split, proba: np.ndarray, n_labels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-track mean segment probabilities (their argmax is the prediction), and class indices by majority vote.

    Each segment row votes for its most probable class; a tie in votes goes to the tied class
    of higher mean probability, and a tie in that to the first class (as documented in
    :attr:`~genre.evaluation.results.FoldScore.vote_predictions`).
    """
    codes = pd.Index(split.test_tracks).get_indexer(table.tracks[split.test])
    n_tracks = len(split.test_tracks)
    sums = np.zeros((n_tracks, n_labels))
    np.add.at(sums, codes, proba)
    counts = np.bincount(codes, minlength=n_tracks).reshape(-1, 1)
    mean = sums / np.maximum(counts, 1)
    votes = np.zeros((n_tracks, n_labels), dtype=int)
    np.add.at(votes, (codes, proba.argmax(axis=1)), 1)
    # Among the classes with the most votes, the higher mean probability (argmax: the first on a tie).
    leading = votes == votes.max(axis=1, keepdims=True)
    return mean, np.where(leading, mean, -np.inf).argmax(axis=1)


def _score_model(
    name: str,
    spec: Any,
    params: Mapping[str, Any],
    table: FeatureTable,
    splits: list[Split],
    outputs: list[_FoldOutput],
    labels: list[str],
    *,
    fixed: bool,
) -> ModelResult:
    label_array = np.asarray(labels)
    folds: list[FoldScore] = []
    truths = []
    segmented = table.n_rows > table.n_tracks
    for split, output in zip(splits, outputs):
        truth = _track_truth(table, split)
        truths.append(truth)
        track_proba, by_vote = _aggregate(table, split, output.proba, len(labels))
        predicted, voted = label_array[track_proba.argmax(axis=1)], label_array[by_vote]
        segment_accuracy = (
            float(np.mean(label_array[output.proba.argmax(axis=1)] == table.y[split.test])) if segmented else None
        )
        folds.append(
            FoldScore(
                repeat=split.repeat,
                fold=split.fold,
                **track_scores(truth, predicted, labels=labels, voted=voted),
                segment_accuracy=segment_accuracy,
                fit_seconds=output.fit_seconds,
                predict_seconds=output.predict_seconds,
                predictions=predicted.tolist(),
                vote_predictions=voted.tolist(),
                probabilities=np.round(track_proba, PROBABILITY_DECIMALS).tolist(),
                details=dict(output.details),
            )
        )

    ratio = None if fixed else float(np.mean([split.test_train_ratio for split in splits]))
    summaries = summarize_folds(folds, test_train_ratio=ratio)
    confusion = confusion_counts(truths, [f.predictions for f in folds], labels=labels)
    # The stand-in interval of equal folds counts the tracks one repeat tests.
    n_tracks = sum(len(split.test_tracks) for split in splits if split.repeat == splits[0].repeat)
    return ModelResult(
        name=name,
        input=table.input_description,
        description=str(getattr(spec, "description", "")),
        params=dict(params),
        folds=folds,
        confusion=confusion,
        per_class=per_class_scores(confusion, labels),
        summaries=summaries,
        accuracy_ci95=accuracy_interval(summaries["accuracy"], fixed=fixed, n_tracks=n_tracks),
    )


def _extraction_notes(table: FeatureTable) -> list[str]:
    """The notes ``genre extract`` gave at the end of its run, from the table's sidecar."""
    from genre.features.extract import file_notes, recorded_file_facts

    silent, below = recorded_file_facts(table.meta)
    config = table.config or {}
    notes = file_notes(
        silent, below, analysis_sr=config.get("sr"), silence_rms=config.get("silence_rms"),
        recorded_in=table.path.with_suffix(".json") if table.path is not None else None,
    )  # fmt: skip
    return [f"in {table.name}, {note}" for note in notes]


def _skipped_notes(tables: Sequence[FeatureTable]) -> list[str]:
    """Say that the tables' extractions skipped files, which are therefore in no split.

    The report otherwise reads as if every listed file had been benchmarked: a corrupt clip
    of a folder would vanish from the results without a word (the count is in each table's
    sidecar, the paths and reasons in the skipped-files CSV beside it). Tables that skipped
    the same files (a corrupt clip is skipped by every extractor) share one note.

    Parameters
    ----------
    tables : sequence of FeatureTable
        The tables the models read; one without a ``genre extract`` sidecar (an external
        table) has no note.

    Returns
    -------
    notes : list of str
        One caveat per distinct set of skipped files, with the first file and its reason.
    """
    from genre.data.tracks import read_skipped_csv
    from genre.features.extract import FOLDERS_KEY, side_paths

    by_files: dict[tuple, list[tuple[FeatureTable, int, list[str], Path | None, tuple[str, str] | None]]] = {}
    for table in tables:
        n_skipped = table.meta.get("n_skipped") if table.meta else None
        if not isinstance(n_skipped, int) or isinstance(n_skipped, bool) or n_skipped <= 0:
            continue
        # Folders the listing left out are in the count and the list, but are not files
        # (older sidecars do not say which: all counted as files).
        recorded = table.meta.get(FOLDERS_KEY)
        folders = [path for path in recorded if isinstance(path, str)][:n_skipped] if isinstance(recorded, list) else []
        listing = side_paths(table.path)[1] if table.path is not None else None
        # Unreadable or absent: the count alone is still worth saying.
        rows = (read_skipped_csv(listing) if listing is not None else None) or []
        key = (n_skipped, tuple(path for path, _ in rows)) if rows else (id(table),)
        left_out = set(folders)
        example = next((row for row in rows if row[0] not in left_out), None)
        by_files.setdefault(key, []).append((table, n_skipped - len(folders), folders, listing, example))
    notes = []
    for group in by_files.values():
        names = " and ".join(table.name for table, *_ in group)
        _, n, folders, _, first = group[0]
        were = plural(len(group), "was", "were")
        k = len(folders)
        if n:
            note = (
                f"{n} {plural(n, 'file', 'files')} of the source could not be used when {names} {were} "
                f"extracted and {plural(n, 'is', 'are')} in no split"
            )
            if first and first[0]:
                example = f"{first[0]} ({first[1] or 'no reason recorded'})"
                note += f": {example}" if n == 1 else f", e.g. {example}"
            if k:
                note += f"; {k} {plural(k, 'folder was', 'folders were')} left out too: {folders[0]}"
        else:
            note = f"{k} {plural(k, 'folder', 'folders')} of the source left out when {names} {were} extracted: {folders[0]}"
        if k > 1:
            note += ", ..."
        listings = " and ".join(str(listing) for _, _, _, listing, _ in group if listing is not None)
        if listings:
            note += f"; {plural(n + k, 'it is', 'all are')} listed, with the reason, in {listings}"
        notes.append(note)
    return notes


# -- descriptions -------------------------------------------------------------------------------
def _describe_dataset(table: FeatureTable) -> dict[str, Any]:
    per_track = table.track_frame()
    rows = per_track["n_rows"]
    return {
        "path": str(table.path),
        "name": table.name,
        "kind": table.kind,
        "n_rows": table.n_rows,
        "n_tracks": table.n_tracks,
        "n_features": len(table.feature_columns),
        "labels": table.labels,
        "tracks_per_class": {k: int(v) for k, v in per_track["label"].value_counts().sort_index().items()},
        "segments_per_track": {"min": int(rows.min()), "mean": float(rows.mean()), "max": int(rows.max())},
        "label_column": table.label_col,
        "id_column": table.id_col,
        "group_column": table.group_col,
        # Groups written in the column; tracks without one (each its own group) are counted apart.
        "n_groups": table.n_named_groups,
        "n_tracks_without_group": table.n_ungrouped_tracks if table.groups is not None else None,
        "ignored_columns": list(table.ignored_columns),
        "feature_config": table.config,
        "source": table.meta.get("source"),
        **_provenance(table),
    }


def _provenance(table: FeatureTable) -> dict[str, Any]:
    """The table file's SHA-256 and, for genre's own tables, the libraries that extracted it.

    A reader reproducing the numbers needs the very table (an external CSV has many
    versions in circulation) and, for extracted features, the decoding and DSP libraries,
    which may differ from the ones that ran the benchmark.
    """
    from genre.atomic import file_sha256

    path = table.path
    versions = table.meta.get("versions")
    return {
        "sha256": file_sha256(path) if path is not None and os.path.isfile(path) else None,
        "extraction_versions": dict(versions) if isinstance(versions, dict) and versions else None,
    }


def _describe_protocol(
    table: FeatureTable,
    *,
    folds: int,
    repeats: int,
    groups: bool,
    seed: int,
    ratio: float,
    matches: list[ListMatch],
    fixed: bool,
    alpha: float,
    jobs: int,
) -> dict[str, Any]:
    # A fixed partition's lists were checked to keep every group on one side (see list_split).
    group_aware = bool(groups and table.groups is not None)
    aggregation = (
        "each track gets one prediction per split that tests it: the argmax of its segments' mean class probability "
        "(the segments' majority vote is reported too: each segment votes for its most probable class, and a tie "
        "in votes goes to the tied class of higher mean probability)"
        if table.n_rows > table.n_tracks
        else "the table has one row per track"
    )
    if fixed:
        parts = ", ".join(
            f"{m.role} list {os.path.basename(m.path)} ({m.n_matched} of {m.n_lines} lines matched"
            + (f", {m.n_ambiguous} ambiguous)" if m.n_ambiguous else ")")
            for m in matches
        )
        description = (
            f"Fixed train/test partition from list files: {parts}. All segments of a track lie on one side. "
            f"Scores are per track; {aggregation}. The 95 % interval of accuracy is a Wilson interval over the "
            "test tracks; models are compared with exact McNemar tests on the same test tracks, Holm-corrected. "
            "Both take the test tracks as independent; tracks of one artist or album on the test side are not, "
            "so both are somewhat optimistic."
        )
        if not any(m.role == "train" for m in matches):
            description += " Every track not in the test list was used for training."
        if group_aware:
            description += f" No group of column {table.group_col!r} has tracks on both sides (checked)."
        description += f" Models are seeded with seed {seed}."
    else:
        unit = f"groups of column {table.group_col!r}" if group_aware else "tracks"
        shuffles = (
            f"repeat r shuffled, and its models seeded, with seed {seed} + r" if repeats > 1 else f"seed {seed}, "
            "for the folds and the models"
        )
        balance = (
            " (scikit-learn's StratifiedGroupKFold: class proportions are only as even as the groups allow)"
            if group_aware
            else ""
        )
        description = (
            f"Stratified {folds}-fold cross-validation over {unit}{balance}, {repeats} "
            f"{plural(repeats, 'repeat', 'repeats')} ({shuffles}); all segments of a track"
            f"{' and all tracks of a group' if group_aware else ''} lie on one side of every split. "
            f"Scores are per track; {aggregation}. The 95 % interval is a Student-t interval over the "
            f"{folds * repeats} fold scores with the Nadeau-Bengio variance correction for overlapping training "
            "sets; models are compared with the Nadeau-Bengio corrected resampled t-test on the same folds, "
            "Holm-corrected."
        )
    caveat = None
    if group_aware:
        caveat = table.group_note()  # tracks without a group: each is a group of its own
    elif fixed and table.groups is not None:
        caveat = (
            f"The groups of column {table.group_col!r} were ignored (--no-groups): the lists were used as they are, "
            "and one artist's tracks may lie on both sides of the partition."
        )
    elif fixed:
        caveat = (
            "The table names no groups (artists), so whether the lists keep each artist on one side could not be "
            "checked: the partition is as artist-disjoint as the lists were made."
        )
    if not fixed and not group_aware:
        caveat = (
            "No groups (artists) were given, so tracks of one artist, or excerpts of one recording, may fall on "
            "both sides of the splits; where tracks share artists, accuracy is inflated. "
        )
        if _looks_like_gtzan(table):
            caveat += (
                "This table looks like GTZAN, where they do: there, models that score 74-78 % in random 10-fold "
                "cross-validation score 49-58 % on the artist-disjoint, fault-filtered partition. "
            )
        caveat += (
            "Use --group-col, or an artist-disjoint partition (--train-list/--test-list), for an honest estimate."
        )
    return {
        "kind": "fixed" if fixed else "cv",
        "folds": None if fixed else folds,
        "repeats": None if fixed else repeats,
        "seed": seed,
        "group_aware": group_aware,
        "group_column": table.group_col if group_aware else None,
        "track_level": True,
        "lists": [m.to_dict() for m in matches],
        "test_train_ratio": ratio,
        "alpha": alpha,
        "jobs": jobs,
        "pairwise_test": "mcnemar" if fixed else "nadeau-bengio",
        # How accuracy_ci95 was computed, so a re-rendered report describes it rightly.
        "ci": "wilson" if fixed else "corrected",
        "description": description,
        "caveat": caveat,
    }


#: GTZAN's ten genres, and its file names (``blues.00012``, ``blues.00012.3`` for a segment).
_GTZAN_GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")
_GTZAN_NAME = re.compile(rf"(?:{'|'.join(_GTZAN_GENRES)})\.\d{{5}}(?:\.\d+)?")


def _looks_like_gtzan(table: FeatureTable) -> bool:
    """Whether a table is GTZAN (or drawn from it): its ten genres, or mostly its file names."""
    if set(table.labels) == set(_GTZAN_GENRES):
        return True
    stems = pd.unique(table.stems.astype(str))
    return bool(len(stems)) and np.mean([bool(_GTZAN_NAME.fullmatch(stem)) for stem in stems]) >= 0.5


def cv_settings(folds: int | None, repeats: int | None, *, fixed: bool) -> tuple[int, int]:
    """Folds and repeats of a cross-validation (defaults for ``None``); refused for a fixed partition.

    Raises
    ------
    ParameterError
        ``folds`` or ``repeats`` with a fixed partition, which has one split: they would be
        ignored, yet recorded as if they had been used.
    """
    if not fixed:
        return (DEFAULT_FOLDS if folds is None else folds), (DEFAULT_REPEATS if repeats is None else repeats)
    given = [f"--{name} {value}" for name, value in (("folds", folds), ("repeats", repeats)) if value is not None]
    if given:
        raise ParameterError(
            f"{' and '.join(given)}: a fixed partition (--test-list) is a single train/test split, without folds "
            "or repeats; leave them out, or leave out --test-list to cross-validate"
        )
    return 1, 1


def _fallback_description(description: str, outputs: Sequence[_FoldOutput]) -> str:
    """A model's description, qualified when some of its fits fell back (FallbackWarning).

    The registry describes the model as designed ("C ... tuned by inner 3-fold CV"); a fit on a
    class with one training track could not tune or calibrate, and the model table must not
    claim otherwise. The caveat says what was taken instead.
    """
    fell_back = sum(any(category == "FallbackWarning" for category, _ in output.warnings) for output in outputs)
    if not fell_back:
        return description
    total = len(outputs)
    return f"{description} (not in {fell_back} of {total} {plural(total, 'fit', 'fits')}: see the caveat)"


def _warnings_note(name: str, spec: Any, params: Mapping[str, Any], outputs: Sequence[_FoldOutput]) -> str | None:
    """One caveat on the warnings a model's fits raised: non-convergence first, then the others.

    Parameters
    ----------
    name : str
        The model.
    spec : ModelSpec
        Its registry entry (its settings name the solver and iteration limit).
    params : mapping
        Its parameter overrides.
    outputs : sequence of _FoldOutput
        Its fits.

    Returns
    -------
    note : str or None
        E.g. ``model logreg did not converge in 10 of 10 fits (lbfgs, max_iter=0), so its
        scores may understate it; raise max_iter``; ``None`` when no fit warned.
    """
    from genre.classifiers.registry import make_model

    total = len(outputs)
    fits = f"{total} {plural(total, 'fit', 'fits')}"
    counts: dict[tuple[str, str], int] = {}
    for output in outputs:
        for warning in output.warnings:
            counts[warning] = counts.get(warning, 0) + 1
    unconverged = sum(any(c == "ConvergenceWarning" for c, _ in output.warnings) for output in outputs)
    others = {w: n for w, n in counts.items() if w[0] != "ConvergenceWarning"}
    parts = []
    if unconverged:
        settings = spec.configured_step(make_model(name, **dict(params))).get_params(deep=False)
        shown = [str(settings["solver"])] if isinstance(settings.get("solver"), str) else []
        shown += [f"max_iter={settings['max_iter']}"] if "max_iter" in settings else []
        first = next(m for output in outputs for c, m in output.warnings if c == "ConvergenceWarning")
        parts.append(
            f"did not converge in {unconverged} of {fits} ({', '.join(shown) or first.rstrip(':')}), so its "
            "scores may understate it" + ("; raise max_iter" if "max_iter" in settings else "")
        )
    for (category, message), n in list(others.items())[:2]:
        text = message if len(message) <= 300 else message[:297] + "..."
        parts.append(f"warned in {n} of {fits}: {category}: {text}")
    if len(others) > 2:
        parts.append(f"raised {len(others) - 2} other warnings")
    # "model logreg did not converge ...; it warned in ...": the name once, lower-case as registered.
    return f"model {name} " + "; it ".join(parts) if parts else None


def _source_commit(root: str) -> str | None:
    """The commit checked out at ``root`` (first 12 hex digits), read from ``.git`` without running git.

    ``None`` where ``root`` is no git checkout (an installed package) or the commit cannot be
    read (a detached worktree's indirection, a damaged ``.git``).
    """
    git = os.path.join(root, ".git")
    try:
        with open(os.path.join(git, "HEAD"), encoding="utf-8") as handle:
            head = handle.read().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            loose = os.path.join(git, *ref.split("/"))
            if os.path.isfile(loose):
                with open(loose, encoding="utf-8") as handle:
                    head = handle.read().strip()
            else:  # packed: "<sha> <ref>" lines
                with open(os.path.join(git, "packed-refs"), encoding="utf-8") as handle:
                    head = next((line.split()[0] for line in handle if line.rstrip().endswith(" " + ref)), "")
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    return head[:12] if re.fullmatch(r"[0-9a-f]{40}(?:[0-9a-f]{24})?", head) else None


def _source_modified(package: str) -> bool:
    """Whether the package's code differs from the checkout's commit: a tracked file changed
    (``git diff``), or a Python file that git does not track nor ignore (a new module).

    The commit alone would credit numbers made by edited code to code that never made them.
    ``False`` where git cannot tell (not installed, too slow, not a checkout).
    """
    import subprocess

    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(
            ["git", "-C", package, "diff", "--quiet", "HEAD", "--", "."], capture_output=True, timeout=10, env=env
        )
        if done.returncode != 0:
            return done.returncode == 1  # 1: changed; 128 and others: git could not tell
        # A new module, imported by edited code, is not in the diff until it is added.
        untracked = subprocess.run(
            ["git", "-C", package, "ls-files", "--others", "--exclude-standard", "--", "*.py"],
            capture_output=True, timeout=10, env=env,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return untracked.returncode == 0 and bool(untracked.stdout.strip())


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import genre

    found = {"genre": genre.__version__, "python": platform.python_version(), "platform": sys.platform}
    commit = _source_commit(os.path.dirname(os.path.dirname(os.path.abspath(genre.__file__))))
    if commit:
        # Run from a git checkout (an editable install): the version number alone does not
        # say which code made the numbers.
        found["genre commit"] = commit + ("+modified" if _source_modified(os.path.dirname(genre.__file__)) else "")
    for package in _VERSIONED:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found
