"""Benchmark results as plain dataclasses that round-trip through ``results.json``.

The JSON holds everything the report shows (per-fold scores, confusion matrices,
per-class metrics, pairwise tests, dataset and protocol description, versions, the
machine, the command line), so ``genre report results.json`` can re-render it without
re-running. Where it holds each test track's truth and predictions, every track-level
score is recomputed from them when it is read (:func:`check_track_records`), and a file whose
stored scores disagree with them is refused.

A file written by a newer genre may hold fields this version does not know: they are
ignored when reading, and written back unchanged when the results are saved again as they
were read (``genre report`` re-rendering in place loses nothing). A file whose ``format``
number is newer than :data:`RESULTS_FORMAT` changed incompatibly and is refused, saying so.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from genre.atomic import atomic_write_text
from genre.errors import DataError
from genre.evaluation.stats import (
    PairwiseTest, Summary, pairwise_corrected_ttests, pairwise_mcnemar, summarize, wilson_interval,
)  # fmt: skip
from genre.text import plural

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FoldScore", "ModelResult", "SplitInfo", "BenchmarkResults", "load_results", "check_results_dict",
    "DamagedResults", "RESULTS_FORMAT", "describe_environment", "check_track_records", "InconsistentResults",
]  # fmt: skip

#: ``format`` of results.json; bump the number when the layout changes incompatibly (fields
#: added without changing the meaning of the others need no bump: readers ignore them).
RESULTS_FORMAT_NUMBER = 1
_FORMAT_PREFIX = "genre-benchmark/"
RESULTS_FORMAT = f"{_FORMAT_PREFIX}{RESULTS_FORMAT_NUMBER}"
#: Per-fold scores that are summarised (mean, std, CI) for each model.
METRICS: tuple[str, ...] = ("accuracy", "balanced_accuracy", "macro_f1", "vote_accuracy", "segment_accuracy")
#: Decimals kept of each stored class probability: enough for calibration or ROC analysis,
#: and results.json stays small (GTZAN, 6 models, 10 folds: about 0.5 MB more).
PROBABILITY_DECIMALS = 4


@dataclass
class FoldScore:
    """One model on one split.

    Attributes
    ----------
    repeat, fold : int
    accuracy, balanced_accuracy, macro_f1 : float
        Track-level scores (a track's prediction is the argmax of its segments' mean
        probability).
    vote_accuracy : float
        Track-level accuracy when each track takes its segments' majority vote (see
        ``vote_predictions`` for the tie rule).
    segment_accuracy : float or None
        Accuracy of individual segment rows (``None`` with one row per track).
    fit_seconds, predict_seconds : float
        Wall time of ``fit`` on the training rows and of ``predict_proba`` on the test rows.
    predictions : list of str
        Predicted label of each test track, in the order of the split's ``test_tracks``.
    vote_predictions : list of str
        Each test track's majority-vote prediction, in the same order (``vote_accuracy`` is
        their accuracy): every segment row votes for its most probable class (the first
        in ``BenchmarkResults.labels`` order when a row's probabilities tie), the class
        with the most votes wins, a tie in votes goes to the tied class of higher mean
        probability (before rounding), and a tie in that too to the first in labels
        order. Equal to ``predictions`` with one row per track. Empty in results of
        versions that did not keep them (there ``vote_accuracy`` cannot be recomputed).
    probabilities : list of list of float
        Each test track's mean segment probability of every class (``BenchmarkResults.labels``
        order), rounded to :data:`PROBABILITY_DECIMALS` decimals; empty in results of
        versions that did not keep them. ``predictions`` is the argmax before rounding.
    details : dict
        What the fit chose on its own on this split's training side: an SVM's
        ``best_params`` and the folds that chose them, a network's ``best_epoch`` (see
        :func:`genre.classifiers.training.fit_details`); empty where it chose nothing.
    """

    repeat: int
    fold: int
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    vote_accuracy: float
    segment_accuracy: float | None
    fit_seconds: float
    predict_seconds: float
    predictions: list[str] = field(default_factory=list)
    vote_predictions: list[str] = field(default_factory=list)
    probabilities: list[list[float]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelResult:
    """Cross-validated scores of one model.

    Attributes
    ----------
    name : str
        Registry name of the model.
    input : str
        What the model read, e.g. ``features_30_sec.csv (external, 57 features)``.
    description : str
        One-line description of the model.
    params : dict
        Parameters given to the model beyond its defaults.
    folds : list of FoldScore
    confusion : list of list of int
        Track-level confusion matrix summed over all folds and repeats (rows: true
        label, columns: predicted, in ``BenchmarkResults.labels`` order).
    per_class : dict
        ``label -> {precision, recall, f1, support}`` from the summed confusion matrix;
        recall and F1 are ``None`` (n/a) for a class without test tracks.
    summaries : dict of str to Summary
        Mean, std and 95 % t-interval over folds for each metric in :data:`METRICS`.
    accuracy_ci95 : (float, float)
        The interval shown in the headline: the t-interval over folds, or a Wilson
        interval over test tracks for a single fixed partition.
    """

    name: str
    input: str
    description: str
    params: dict[str, Any]
    folds: list[FoldScore]
    confusion: list[list[int]]
    per_class: dict[str, dict[str, float]]
    summaries: dict[str, Summary]
    accuracy_ci95: tuple[float, float]

    # -- headline numbers -----------------------------------------------------------------
    @property
    def accuracy(self) -> float:
        return self.summaries["accuracy"].mean

    @property
    def accuracy_std(self) -> float:
        return self.summaries["accuracy"].std

    @property
    def balanced_accuracy(self) -> float:
        return self.summaries["balanced_accuracy"].mean

    @property
    def macro_f1(self) -> float:
        return self.summaries["macro_f1"].mean

    @property
    def fit_seconds(self) -> float:
        """Mean fit time per fold."""
        return float(sum(f.fit_seconds for f in self.folds) / max(len(self.folds), 1))

    @property
    def predict_seconds(self) -> float:
        """Mean predict time per fold."""
        return float(sum(f.predict_seconds for f in self.folds) / max(len(self.folds), 1))

    def to_dict(self) -> dict[str, Any]:
        summaries = {k: s.to_dict() for k, s in self.summaries.items()}
        return {
            "name": self.name,
            "input": self.input,
            "description": self.description,
            "params": dict(self.params),
            "accuracy": self.accuracy,
            "accuracy_std": self.accuracy_std,
            "accuracy_ci95": list(self.accuracy_ci95),
            "balanced_accuracy": self.balanced_accuracy,
            "balanced_accuracy_std": self.summaries["balanced_accuracy"].std,
            "macro_f1": self.macro_f1,
            "macro_f1_std": self.summaries["macro_f1"].std,
            "vote_accuracy": self.summaries["vote_accuracy"].mean,
            "segment_accuracy": (
                self.summaries["segment_accuracy"].mean if "segment_accuracy" in self.summaries else None
            ),
            "fit_seconds": self.fit_seconds,
            "predict_seconds": self.predict_seconds,
            "summaries": summaries,
            "per_class": self.per_class,
            "confusion": self.confusion,
            "folds": [vars(f).copy() for f in self.folds],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ModelResult":
        return cls(
            name=data["name"],
            input=data.get("input", ""),
            description=data.get("description", ""),
            params=dict(data.get("params", {})),
            folds=[FoldScore(**_nan(_known(FoldScore, f))) for f in data["folds"]],
            confusion=[list(map(int, row)) for row in data["confusion"]],
            per_class={k: dict(v) for k, v in data["per_class"].items()},
            summaries={k: Summary(**_nan(_known(Summary, v))) for k, v in data["summaries"].items()},
            accuracy_ci95=tuple(_float(v) for v in data["accuracy_ci95"]),
        )


@dataclass
class SplitInfo:
    """Sizes and test tracks of one split, shared by every model.

    ``test_labels`` holds the true label of each of ``test_tracks`` (empty in results of
    versions that did not keep them), so that every score can be recomputed from the
    results alone.
    """

    repeat: int
    fold: int
    n_train_tracks: int
    n_test_tracks: int
    n_train_rows: int
    n_test_rows: int
    test_tracks: list[str]
    test_labels: list[str] = field(default_factory=list)


@dataclass
class BenchmarkResults:
    """Everything a benchmark produced.

    Attributes
    ----------
    dataset : dict
        Table path and name, kind, rows, tracks, features, labels, tracks per class,
        segments per track, group column and count, ignored columns.
    protocol : dict
        ``kind`` (``"cv"`` or ``"fixed"``), folds, repeats, seed, group awareness, list
        files and their match counts, mean test/train ratio, ``jobs`` (the most fits that
        ran at once), ``description`` (a sentence) and ``caveat`` (sentences, or ``None``).
    labels : list of str
        Class order of the confusion matrices.
    models : list of ModelResult
    pairwise : list of PairwiseTest
        Every pair of models, Holm-adjusted.
    splits : list of SplitInfo
    versions : dict
        Versions of genre, Python and the libraries that compute the numbers, and
        ``platform`` (``sys.platform``).
    command : str
        The command line (or Python call) that produced the results.
    created : str
        ISO 8601 time stamp.
    seconds : float
        Wall time of the whole benchmark.
    environment : dict
        The machine the times were measured on (see :func:`describe_environment`); empty
        in results that did not record it.
    """

    dataset: dict[str, Any]
    protocol: dict[str, Any]
    labels: list[str]
    models: list[ModelResult]
    pairwise: list[PairwiseTest]
    splits: list[SplitInfo]
    versions: dict[str, str]
    command: str = ""
    created: str = ""
    seconds: float = 0.0
    environment: dict[str, Any] = field(default_factory=dict)
    # The file these results were read from, kept only when it holds fields this version does
    # not know; init=False so that dataclasses.replace() (a changed copy) starts without it.
    _source: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    _as_read: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def track_predictions(self) -> "pd.DataFrame | None":
        """Every test track's out-of-fold prediction, one row per model, split and track.

        Returns
        -------
        pandas.DataFrame or None
            Columns ``model, repeat, fold, track, label`` (the true label), ``predicted``
            (the argmax of the mean segment probability), ``vote_predicted`` (the segments'
            majority vote, see :attr:`FoldScore.vote_predictions`) and ``prob_<label>`` for
            every label; ``None`` for results that did not keep the true labels and
            probabilities (written by an earlier version). ``vote_predicted`` is absent
            from results of versions that kept the probabilities but not the votes, so
            that their file is written again as it was.
        """
        import pandas as pd

        if not self.splits or any(len(s.test_labels) != len(s.test_tracks) for s in self.splits):
            return None
        pairs = [(split, fold) for model in self.models for split, fold in zip(self.splits, model.folds)]
        if any(len(fold.probabilities) != len(split.test_tracks) for split, fold in pairs):
            return None
        # All or nothing: a column with gaps would read as votes that disagree with nothing.
        voted = all(len(fold.vote_predictions) == len(split.test_tracks) for split, fold in pairs)
        frames = []
        for model in self.models:
            for split, fold in zip(self.splits, model.folds):
                columns = {"model": model.name, "repeat": split.repeat, "fold": split.fold, "track": split.test_tracks,
                           "label": split.test_labels, "predicted": fold.predictions}  # fmt: skip
                if voted:
                    columns["vote_predicted"] = fold.vote_predictions
                frame = pd.DataFrame(columns)
                probabilities = pd.DataFrame(fold.probabilities, columns=[f"prob_{label}" for label in self.labels])
                frames.append(pd.concat([frame, probabilities], axis=1))
        return pd.concat(frames, ignore_index=True)

    def model(self, name: str) -> ModelResult:
        """The result of the model called ``name``."""
        for result in self.models:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        data = _json_safe(
            {
                "format": RESULTS_FORMAT,
                "created": self.created,
                "command": self.command,
                "seconds": self.seconds,
                "dataset": self.dataset,
                "protocol": self.protocol,
                "labels": list(self.labels),
                "models": [m.to_dict() for m in self.models],
                "pairwise": [p.to_dict() for p in self.pairwise],
                "splits": [vars(s).copy() for s in self.splits],
                "versions": dict(self.versions),
                "environment": dict(self.environment),
            }
        )
        # Unknown fields go back only where they came from: once anything changed, a list may
        # have been reordered or cut, and a field could land on another model.
        if self._source is not None and data == self._as_read:
            return _json_safe(_with_unknown(self._source, data))
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``results.json`` atomically and return its path."""
        path = Path(path)
        atomic_write_text(path, self.to_json())
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "BenchmarkResults":
        """Results from a parsed ``results.json``; fields this version does not know are ignored."""
        results = cls(
            dataset=dict(data["dataset"]),
            protocol=dict(data["protocol"]),
            labels=list(data["labels"]),
            models=[ModelResult.from_dict(m) for m in data["models"]],
            pairwise=[PairwiseTest.from_dict(_nan(_known(PairwiseTest, p))) for p in data.get("pairwise", [])],
            splits=[SplitInfo(**_known(SplitInfo, s)) for s in data.get("splits", [])],
            versions=dict(data.get("versions", {})),
            command=data.get("command", ""),
            created=data.get("created", ""),
            seconds=float(data.get("seconds", 0.0)),
            environment=dict(data.get("environment", {})),
        )
        as_read = results.to_dict()
        if _with_unknown(data, as_read) != as_read:
            results._source, results._as_read = copy.deepcopy(dict(data)), as_read
        return results


def describe_environment() -> dict[str, Any]:
    """The machine this process runs on, as recorded beside benchmark times.

    Only what is cheap to learn without importing anything heavy (library versions are
    in ``BenchmarkResults.versions``).

    Returns
    -------
    environment : dict
        ``cpu`` (model name, when the system tells it), ``logical_cores`` (``os.cpu_count()``),
        ``usable_cores`` (the cores this process may run on, where the system tells it),
        ``os`` (``platform.platform()``) and ``machine`` (``x86_64``, ``arm64``...).
    """
    environment: dict[str, Any] = {}
    cpu = _cpu_model()
    if cpu:
        environment["cpu"] = cpu
    environment["logical_cores"] = os.cpu_count()
    if hasattr(os, "sched_getaffinity"):  # Linux; a container or taskset may allow fewer cores
        environment["usable_cores"] = len(os.sched_getaffinity(0))
    environment["os"] = platform.platform()
    environment["machine"] = platform.machine()
    return environment


def _cpu_model() -> str:
    """The CPU's model name, or ``""``: Linux's /proc/cpuinfo, else ``platform.processor()``
    (Windows names the CPU there; Linux and macOS only repeat the architecture)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return " ".join(value.split())
    except OSError:
        pass
    name = platform.processor().strip()
    return "" if name.lower() in {"", "unknown", platform.machine().lower(), "arm", "i386"} else name


def load_results(path: str | os.PathLike) -> BenchmarkResults:
    """Read a ``results.json`` written by :meth:`BenchmarkResults.save`.

    Fields this version does not know (written by a newer genre) are ignored. Where the
    file holds the per-track records (each split's true labels, each fold's predictions),
    every track-level score is recomputed from them (see :func:`check_track_records`), so a
    report is never rendered from scores its own predictions contradict; results of
    versions that did not keep the records are read as they are.

    Raises
    ------
    DataError
        The file is missing, not JSON, not a genre benchmark result, written in a newer
        format than this version reads, or damaged (the message names the field), or a
        stored score disagrees with the one its per-track records give (the message names
        the model, the score and both values).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: no such results file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable results.json ({exc})") from None
    if not isinstance(data, dict) or not str(data.get("format", "")).startswith(_FORMAT_PREFIX):
        raise DataError(f"{path}: not a genre benchmark results file (no 'format': '{_FORMAT_PREFIX}...')")
    number = re.fullmatch(r"[0-9]+", data["format"][len(_FORMAT_PREFIX):])
    if number and int(number.group()) > RESULTS_FORMAT_NUMBER:
        raise DataError(
            f"{path}: written by a newer genre (format {int(number.group())}); this version reads format "
            f"{RESULTS_FORMAT_NUMBER}; upgrade genre to read it"
        )
    if data["format"] != RESULTS_FORMAT:
        raise DataError(f"{path}: results format {data['format']!r} is not supported (expected {RESULTS_FORMAT!r})")
    try:
        check_results_dict(data)
        results = BenchmarkResults.from_dict(data)
    except DamagedResults as exc:
        raise DataError(f"{path}: incomplete or damaged results file ({exc})") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: incomplete or damaged results file ({type(exc).__name__}: {exc})") from None
    try:
        check_track_records(results, stored=data)
    except InconsistentResults as exc:
        raise DataError(
            f"{path}: {exc}; the file contradicts its own predictions (was it edited?), so no report is rendered "
            "from it: restore it as the benchmark wrote it, or run the benchmark again"
        ) from None
    return results


# -- every track-level score from the per-track records: the benchmark scores with these ----------
# -- functions and load_results recomputes with them, so the two cannot drift apart ----------------
class InconsistentResults(ValueError):
    """A stored score differs from the one the per-track records give; the message names both."""


#: Relative and absolute differences a recomputed score may show: floating-point rounding of
#: another library version, far below anything a report shows (0.1 %, two significant digits).
_RTOL, _ATOL = 1e-6, 1e-9
#: A model's copies of its summaries at the top of its ``results.json`` record.
_HEADLINE_COPIES = (
    "accuracy", "accuracy_std", "accuracy_ci95", "balanced_accuracy", "balanced_accuracy_std", "macro_f1",
    "macro_f1_std", "vote_accuracy", "segment_accuracy",
)  # fmt: skip


def track_scores(
    truth: Sequence[str],
    predicted: Sequence[str],
    *,
    labels: Sequence[str],
    voted: Sequence[str] | None = None,
) -> dict[str, float]:
    """Track-level scores of one split, from its test tracks' true and predicted labels.

    Parameters
    ----------
    truth, predicted : sequence of str
        The true label and the prediction (argmax of the mean segment probability) of
        each test track.
    labels : sequence of str
        Every class, in the benchmark's order.
    voted : sequence of str, optional
        Each track's majority-vote prediction (see :attr:`FoldScore.vote_predictions`).

    Returns
    -------
    dict
        ``accuracy``, ``balanced_accuracy`` and ``macro_f1`` (both averaged over the classes
        this split tests: a class without test tracks has no recall or F1 to average, and
        counting it as 0 would understate every model alike), and ``vote_accuracy`` when
        ``voted`` is given.
    """
    import warnings

    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    truth, predicted = np.asarray(truth, dtype=str), np.asarray(predicted, dtype=str)
    present = set(truth.tolist())
    tested = [label for label in labels if label in present]
    with warnings.catch_warnings():
        # sklearn warns when a predicted class is absent from the truth of a small fold; the score is still right.
        warnings.simplefilter("ignore", UserWarning)
        balanced = balanced_accuracy_score(truth, predicted)
    scores = {
        "accuracy": float(accuracy_score(truth, predicted)),
        "balanced_accuracy": float(balanced),
        "macro_f1": float(f1_score(truth, predicted, labels=tested, average="macro", zero_division=0)),
    }
    if voted is not None:
        scores["vote_accuracy"] = float(accuracy_score(truth, np.asarray(voted, dtype=str)))
    return scores


def summarize_folds(folds: Sequence[FoldScore], *, test_train_ratio: float | None) -> dict[str, Summary]:
    """Mean, std and 95 % interval over folds of each metric of :data:`METRICS` every fold has.

    ``test_train_ratio`` (mean ``n_test / n_train`` in tracks) gives the Nadeau-Bengio
    correction (folds share training rows, so repeating them must not make the mean look
    surer than it is); ``None`` for a single fixed partition.
    """
    return {
        metric: summarize([getattr(f, metric) for f in folds], bounds=(0.0, 1.0), test_train_ratio=test_train_ratio)
        for metric in METRICS
        if all(getattr(f, metric) is not None for f in folds)
    }


def same_every_fold(summary: Summary) -> bool:
    """Whether several folds all gave the same score (a t interval of no width)."""
    return summary.n > 1 and summary.std == 0


def accuracy_interval(accuracy: Summary, *, fixed: bool, n_tracks: int) -> tuple[float, float]:
    """The headline 95 % interval of accuracy (:attr:`ModelResult.accuracy_ci95`).

    Parameters
    ----------
    accuracy : Summary
        Accuracy over folds (see :func:`summarize_folds`).
    fixed : bool
        A single fixed partition: the Wilson interval over its test tracks.
    n_tracks : int
        The test tracks of the fixed partition, or of one repeat's folds.

    Returns
    -------
    (float, float)
        The t interval over folds; for a fixed partition, the Wilson interval of its
        ``n_tracks``; when every fold scored alike (often 100 %, and a t interval of no
        width would read as certainty), the Wilson interval of ``n_tracks`` widened to hold
        the mean (folds of unequal size: the mean need not be k / n).
    """
    if not fixed and not same_every_fold(accuracy):
        return float(accuracy.ci_low), float(accuracy.ci_high)
    low, high = wilson_interval(int(round(accuracy.mean * n_tracks)), n_tracks)
    if not fixed:
        low, high = min(low, accuracy.mean), max(high, accuracy.mean)
    return float(low), float(high)


def confusion_counts(
    truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], *, labels: Sequence[str]
) -> list[list[int]]:
    """Track-level confusion matrix summed over splits (rows: true label, columns: predicted)."""
    from sklearn.metrics import confusion_matrix

    total = np.zeros((len(labels), len(labels)), dtype=int)
    for split_truth, split_predicted in zip(truth, predicted):
        total += confusion_matrix(np.asarray(split_truth, dtype=str), np.asarray(split_predicted, dtype=str),
                                  labels=list(labels))  # fmt: skip
    return total.tolist()


def per_class_scores(confusion: Sequence[Sequence[int]], labels: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """Precision, recall and F1 per class from a (summed) confusion matrix.

    A class without true tracks (a fixed partition's test side may lack one) has no recall
    or F1: they are ``None`` (n/a), and so is its precision unless something was predicted
    as that class (then it is 0: every such prediction was wrong).
    """
    confusion = np.asarray(confusion)
    result: dict[str, dict[str, float | None]] = {}
    for i, label in enumerate(labels):
        tp = float(confusion[i, i])
        predicted = float(confusion[:, i].sum())
        actual = float(confusion[i, :].sum())
        if not actual:
            precision = 0.0 if predicted else None
            result[label] = {"precision": precision, "recall": None, "f1": None, "support": 0}
            continue
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[label] = {"precision": precision, "recall": recall, "f1": f1, "support": int(actual)}
    return result


def pairwise_tests(
    models: Sequence[ModelResult],
    *,
    fixed: bool,
    test_labels: Sequence[str],
    test_train_ratio: float,
    alpha: float,
) -> list[PairwiseTest]:
    """Every pair of models compared, Holm-adjusted, best first (each difference reads "better minus worse").

    Exact McNemar tests on the paired per-track correctness of a fixed partition (its
    ``test_labels``), else Nadeau and Bengio's corrected resampled t-test on the fold
    accuracies (``test_train_ratio``: the mean ``n_test / n_train`` in tracks); ``[]`` for
    one model.
    """
    if len(models) < 2:
        return []
    ranked = sorted(models, key=lambda m: -m.accuracy)
    if fixed:
        truth = np.asarray(test_labels, dtype=str)
        correct = {m.name: np.asarray(m.folds[0].predictions, dtype=str) == truth for m in ranked}
        return pairwise_mcnemar(correct, alpha=alpha)
    scores = {m.name: [f.accuracy for f in m.folds] for m in ranked}
    return pairwise_corrected_ttests(scores, test_train_ratio=test_train_ratio, alpha=alpha)


def check_track_records(results: BenchmarkResults, *, stored: Mapping[str, Any] | None = None) -> None:
    """Check that every track-level score of ``results`` follows from its per-track records.

    From each split's ``test_labels`` and each fold's ``predictions`` (and
    ``vote_predictions``, where kept), the fold scores, their summaries, the accuracy
    interval, the confusion matrices, the per-class scores and the pairwise tests are
    recomputed as the benchmark computed them, and compared with the stored ones up to
    floating-point rounding. Results without the records (written by an earlier version)
    are not checked; ``segment_accuracy`` of a fold needs the segments and is taken as it
    is (its summary is still checked against the folds).

    Parameters
    ----------
    results : BenchmarkResults
    stored : mapping, optional
        The parsed ``results.json`` the results were read from: its top-level copies of each
        model's summaries (``accuracy``, ``accuracy_std``...), which reading ignores, are
        checked too.

    Raises
    ------
    InconsistentResults
        The first stored value that disagrees; the message names the model, the score and
        both values.
    """
    splits = results.splits
    if not splits or any(len(s.test_labels) != len(s.test_tracks) for s in splits):
        return
    fixed = results.protocol.get("kind") == "fixed"
    # As Split.test_train_ratio counts it, in tracks.
    ratio = float(np.mean([len(s.test_tracks) / max(s.n_train_tracks, 1) for s in splits]))
    n_repeat = sum(len(s.test_tracks) for s in splits if s.repeat == splits[0].repeat)
    labels = results.labels
    checked = []
    for index, model in enumerate(results.models):
        if any(len(f.predictions) != len(s.test_tracks) for f, s in zip(model.folds, splits)):
            continue  # nothing to recompute from (check_results_dict refuses other lengths)
        checked.append(model)
        name = f"model {model.name}"
        for fold, split in zip(model.folds, splits):
            # 1-based, as people count (and as the benchmark's messages name splits)
            where = "the fixed partition" if fixed else f"repeat {fold.repeat + 1}, fold {fold.fold + 1}"
            if not fixed and not any(s.repeat for s in splits):
                where = f"fold {fold.fold + 1}"
            scores = track_scores(split.test_labels, fold.predictions, labels=labels,
                                  voted=fold.vote_predictions or None)  # fmt: skip
            for metric, value in scores.items():
                _agree(getattr(fold, metric), value, f"{name}, {where}: {metric}", "its per-track predictions")
            _check_argmax(fold, split, labels, f"{name}, {where}")
        summaries = summarize_folds(model.folds, test_train_ratio=None if fixed else ratio)
        for metric in (m for m in summaries if m in model.summaries):
            for stat in ("mean", "std", "ci_low", "ci_high", "n"):
                _agree(getattr(model.summaries[metric], stat), getattr(summaries[metric], stat),
                       f"{name}: {metric} {stat} over folds", "the fold scores")  # fmt: skip
        interval = accuracy_interval(summaries["accuracy"], fixed=fixed, n_tracks=n_repeat)
        for stored_end, end, side in zip(model.accuracy_ci95, interval, ("low", "high")):
            _agree(stored_end, end, f"{name}: accuracy_ci95 {side}", "the fold scores")
        if stored is not None:
            expected = model.to_dict()
            record = stored["models"][index]
            for key in (k for k in _HEADLINE_COPIES if k in record):
                for value, copy_of in zip(_listed(record[key]), _listed(expected[key])):
                    _agree(value, copy_of, f"{name}: {key}", "its summaries")
        confusion = confusion_counts([s.test_labels for s in splits], [f.predictions for f in model.folds],
                                     labels=labels)  # fmt: skip
        for i, j in ((i, j) for i in range(len(labels)) for j in range(len(labels))):
            _agree(model.confusion[i][j], confusion[i][j],
                   f"{name}: confusion count of true {labels[i]!r} predicted {labels[j]!r}",
                   "its per-track predictions")  # fmt: skip
        per_class = per_class_scores(confusion, labels)
        for label in labels:
            for key, value in per_class[label].items():
                _agree(model.per_class[label].get(key), value, f"{name}: {key} of {label!r}", "its per-track predictions")
    if len(checked) == len(results.models):
        _check_pairwise(results, fixed=fixed, ratio=ratio)


def _check_argmax(fold: FoldScore, split: SplitInfo, labels: Sequence[str], where: str) -> None:
    """Each stored prediction is a most probable class of its stored (rounded) probabilities.

    Rounded to :data:`PROBABILITY_DECIMALS`, two classes may tie where the unrounded mean
    had one first: any class of the highest rounded probability is accepted.
    """
    if len(fold.probabilities) != len(fold.predictions):
        return  # results of versions that kept no probabilities
    column = {label: j for j, label in enumerate(labels)}
    for track, predicted, row in zip(split.test_tracks, fold.predictions, fold.probabilities):
        if not math.isclose(row[column[predicted]], max(row), abs_tol=10.0**-PROBABILITY_DECIMALS / 2):
            best = labels[int(np.argmax(row))]
            raise InconsistentResults(
                f"{where}: track {track!r} is predicted {predicted!r} in the file, but its probabilities "
                f"give {best!r} ({max(row):g} against {row[column[predicted]]:g})"
            )


def _check_pairwise(results: BenchmarkResults, *, fixed: bool, ratio: float) -> None:
    """The stored pairwise tests against those the (checked) fold scores and predictions give."""
    alpha = results.protocol.get("alpha")
    if alpha is None or not results.pairwise:  # one model, or a file that kept no tests
        return
    expected = pairwise_tests(results.models, fixed=fixed, test_labels=results.splits[0].test_labels,
                              test_train_ratio=ratio, alpha=float(alpha))  # fmt: skip
    stored = {(p.model_a, p.model_b): p for p in results.pairwise}
    source = "the per-track predictions" if fixed else "the fold scores"
    for test in expected:
        pair = stored.get((test.model_a, test.model_b))
        where = f"pairwise test of {test.model_a} against {test.model_b}"
        if pair is None:
            raise InconsistentResults(f"{where}: missing, but {source} give one")
        keys = ["test", "metric", "alpha", "difference", "statistic", "df", "p_value", "p_holm", "significant"]
        # McNemar's discordant counts, absent from files of versions that did not record them
        keys += [key for key in ("only_a", "only_b") if getattr(pair, key) is not None]
        for key in keys:
            _agree(getattr(pair, key), getattr(test, key), f"{where}: {key}", source)
    if len(stored) != len(expected):
        extra = sorted(set(stored) - {(t.model_a, t.model_b) for t in expected})
        shown = ", ".join(f"{a} against {b}" for a, b in extra) or f"{len(results.pairwise)} tests"
        raise InconsistentResults(f"pairwise tests: {shown} in the file, which {source} do not give")


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _agree(stored: Any, computed: Any, what: str, source: str) -> None:
    """Raise :class:`InconsistentResults` unless ``stored`` equals ``computed`` up to rounding (``None`` is NaN)."""
    if isinstance(computed, (bool, str)) or isinstance(stored, (bool, str)):
        same = stored == computed
    elif stored is None or computed is None:
        same = (stored is None or _is_nan(stored)) and (computed is None or _is_nan(computed))
    elif _is_nan(stored) or _is_nan(computed):
        same = _is_nan(stored) and _is_nan(computed)
    else:
        same = math.isclose(float(stored), float(computed), rel_tol=_RTOL, abs_tol=_ATOL)
    if not same:
        shown_stored, shown_computed = _distinct(stored, computed)
        raise InconsistentResults(f"{what} is {shown_stored} in the file, but {source} give {shown_computed}")


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _distinct(a: Any, b: Any) -> tuple[str, str]:
    """Both values, with as few digits as tell them apart (``0.85`` and ``0.8``, not 17 digits each)."""
    if not all(_is_number(v, null=False) and not _is_nan(v) for v in (a, b)) or _is_int(a) and _is_int(b):
        return ("null" if a is None or _is_nan(a) else str(a)), ("null" if b is None or _is_nan(b) else str(b))
    for digits in range(4, 18):
        shown = f"{float(a):.{digits}g}", f"{float(b):.{digits}g}"
        if shown[0] != shown[1]:
            return shown
    return repr(float(a)), repr(float(b))


# -- validation: an edited or truncated results.json must fail here, naming the field, ----------
# -- not later inside plotting with an IndexError --------------------------------------------------
class DamagedResults(ValueError):
    """A field of a results dictionary has the wrong type or shape; the message names the field."""


def _fail(where: str, message: str) -> None:
    raise DamagedResults(f"{where}: {message}")


def _is_number(value: Any, *, null: bool = True) -> bool:
    """A JSON number (``bool`` is not one); ``None`` too when ``null`` (NaN travels as null)."""
    if value is None:
        return null
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_record(
    record: Any,
    where: str,
    *,
    required: Mapping[str, str],
    optional: Mapping[str, str] | None = None,
) -> None:
    """Check a JSON object's fields against kinds: ``number``, ``number!`` (not null), ``int``,
    ``int?`` (or null), ``str``, ``bool``, ``dict``, ``list``, ``str-list``. Other fields
    (a newer genre's) are not checked: readers ignore them."""
    if not isinstance(record, dict):
        _fail(where, f"expected an object, got {type(record).__name__}")
    missing = [k for k in required if k not in record]
    if missing:
        _fail(where, f"missing {', '.join(missing)}")
    tests = {
        "number": lambda v: _is_number(v),
        "number!": lambda v: _is_number(v, null=False),
        "int": _is_int,
        "int?": lambda v: v is None or _is_int(v),
        "str": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
        "dict": lambda v: isinstance(v, dict),
        "list": lambda v: isinstance(v, list),
        "str-list": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    }
    for key, kind in {**required, **(optional or {})}.items():
        if key in record and not tests[kind](record[key]):
            expected = {"number!": "a number", "number": "a number or null", "int?": "an integer or null",
                        "int": "an integer", "str-list": "a list of strings"}.get(kind, f"a {kind}")  # fmt: skip
            _fail(f"{where}.{key}", f"expected {expected}, got {_shown(record[key])}")


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


_FOLD_FIELDS = {
    "repeat": "int", "fold": "int", "accuracy": "number!", "balanced_accuracy": "number", "macro_f1": "number",
    "vote_accuracy": "number", "segment_accuracy": "number", "fit_seconds": "number!", "predict_seconds": "number!",
}  # fmt: skip
#: A fold's per-track records (absent or empty in files of versions that did not keep them).
_FOLD_RECORDS = {"predictions": "str-list", "vote_predictions": "str-list", "probabilities": "list", "details": "dict"}
_SUMMARY_FIELDS = {"mean": "number", "std": "number", "ci_low": "number", "ci_high": "number", "n": "int"}
_PAIR_FIELDS = {
    "model_a": "str", "model_b": "str", "metric": "str", "test": "str", "difference": "number",
    "statistic": "number", "df": "number", "p_value": "number", "p_holm": "number", "significant": "bool",
    "alpha": "number!",
}  # fmt: skip
_SPLIT_FIELDS = {
    "repeat": "int", "fold": "int", "n_train_tracks": "int", "n_test_tracks": "int", "n_train_rows": "int",
    "n_test_rows": "int", "test_tracks": "str-list",
}  # fmt: skip
#: What :func:`describe_environment` records (older results have none of it).
_ENVIRONMENT_FIELDS = {"cpu": "str", "logical_cores": "int?", "usable_cores": "int?", "os": "str", "machine": "str"}
#: Summaries the report reads for every model.
_REQUIRED_SUMMARIES = ("accuracy", "balanced_accuracy", "macro_f1", "vote_accuracy")


def check_results_dict(data: Mapping[str, Any]) -> None:
    """Check that a results dictionary (parsed ``results.json``) has the layout the report reads.

    Parameters
    ----------
    data : mapping
        What :meth:`BenchmarkResults.to_dict` wrote, read back from JSON.

    Raises
    ------
    DamagedResults
        A field is missing or has the wrong type or shape (e.g. a confusion matrix whose
        size differs from the number of labels); the message names the field, such as
        ``models[1] (svm).confusion``.
    """
    _check_record(
        data, "results",
        required={"dataset": "dict", "protocol": "dict", "labels": "str-list", "models": "list"},
        optional={"pairwise": "list", "splits": "list", "versions": "dict", "command": "str", "created": "str",
                  "seconds": "number!", "environment": "dict"},
    )  # fmt: skip
    labels = data["labels"]
    if not labels:
        _fail("labels", "empty")
    if len(set(labels)) != len(labels):
        _fail("labels", "a label is listed twice")
    _check_protocol(data["protocol"])
    _check_dataset(data["dataset"])
    if "environment" in data:
        _check_record(data["environment"], "environment", required={}, optional=_ENVIRONMENT_FIELDS)
    if not data["models"]:
        _fail("models", "empty")
    names: set[str] = set()
    n_folds = None
    for i, model in enumerate(data["models"]):
        where = f"models[{i}]"
        _check_record(
            model, where,
            required={"name": "str", "folds": "list", "confusion": "list", "per_class": "dict", "summaries": "dict",
                      "accuracy_ci95": "list"},
            optional={"input": "str", "description": "str", "params": "dict"},
        )  # fmt: skip
        where = f"{where} ({model['name']})"
        if model["name"] in names:
            _fail(f"{where}.name", "two models share this name")
        names.add(model["name"])
        _check_model(model, where, labels)
        if n_folds is not None and len(model["folds"]) != n_folds:
            _fail(f"{where}.folds", f"{len(model['folds'])} folds where the first model has {n_folds}")
        n_folds = len(model["folds"])
    splits = data.get("splits", [])
    for i, split in enumerate(splits):
        _check_record(split, f"splits[{i}]", required=_SPLIT_FIELDS, optional={"test_labels": "str-list"})
    if splits and len(splits) != n_folds:
        _fail("splits", f"{len(splits)} splits for {n_folds} folds per model")
    if splits:
        _check_track_record_shapes(data, splits)
    for i, pair in enumerate(data.get("pairwise", [])):
        _check_record(pair, f"pairwise[{i}]", required=_PAIR_FIELDS, optional={"verdict": "str", "only_a": "int?", "only_b": "int?"})


def _check_track_record_shapes(data: Mapping[str, Any], splits: list[Mapping[str, Any]]) -> None:
    """Each per-track list holds one entry per test track of its split (or none: an older version's
    file), and names only known labels: the scores are recomputed from them, and
    ``predictions.csv`` is built from them."""
    labels = set(data["labels"])
    n_labels = len(data["labels"])
    for i, split in enumerate(splits):
        _check_entries(split.get("test_labels") or [], f"splits[{i}].test_labels", n=len(split["test_tracks"]),
                       labels=labels)  # fmt: skip
    for i, model in enumerate(data["models"]):
        for j, (fold, split) in enumerate(zip(model["folds"], splits)):
            where, n = f"models[{i}] ({model['name']}).folds[{j}]", len(split["test_tracks"])
            for key in ("predictions", "vote_predictions"):
                _check_entries(fold.get(key) or [], f"{where}.{key}", n=n, labels=labels)
            rows = fold.get("probabilities") or []
            _check_entries(rows, f"{where}.probabilities", n=n)
            if not all(isinstance(row, list) and len(row) == n_labels and all(map(_is_number, row)) for row in rows):
                _fail(f"{where}.probabilities", f"expected {n_labels} numbers (one per label) for each test track")


def _check_entries(values: list[Any], where: str, *, n: int, labels: set[str] | None = None) -> None:
    if values and len(values) != n:
        _fail(where, f"{len(values)} entries for the split's {n} {plural(n, 'test track', 'test tracks')}")
    unknown = sorted(set(values) - labels) if labels is not None else []
    if unknown:
        _fail(where, f"{_shown(unknown[0])} is not one of the labels")


def _check_model(model: Mapping[str, Any], where: str, labels: list[str]) -> None:
    n = len(labels)
    confusion = model["confusion"]
    if len(confusion) != n or any(not isinstance(row, list) or len(row) != n for row in confusion):
        if all(isinstance(row, list) for row in confusion):
            widths = sorted({len(row) for row in confusion})
            shape = f"{len(confusion)} x {'/'.join(map(str, widths)) or 0}"
        else:
            shape = _shown(confusion)
        _fail(f"{where}.confusion", f"expected a {n} x {n} matrix (one row and column per label), got {shape}")
    if not all((_is_int(v) or (_is_number(v, null=False) and float(v).is_integer())) and v >= 0
               for row in confusion for v in row):  # fmt: skip
        _fail(f"{where}.confusion", "expected non-negative whole counts")
    per_class = model["per_class"]
    missing = [label for label in labels if label not in per_class]
    if missing:
        _fail(f"{where}.per_class", f"no entry for {plural(len(missing), 'label', 'labels')} {', '.join(missing[:5])}")
    for label in labels:
        # null: n/a, for a class without test tracks
        _check_record(
            per_class[label], f"{where}.per_class[{label!r}]",
            required={"precision": "number", "recall": "number", "f1": "number", "support": "int"},
        )  # fmt: skip
    folds = model["folds"]
    if not folds:
        _fail(f"{where}.folds", "empty")
    for j, fold in enumerate(folds):
        _check_record(fold, f"{where}.folds[{j}]", required=_FOLD_FIELDS, optional=_FOLD_RECORDS)
    summaries = model["summaries"]
    absent = [k for k in _REQUIRED_SUMMARIES if k not in summaries]
    if absent:
        _fail(f"{where}.summaries", f"missing {', '.join(absent)}")
    for key, summary in summaries.items():
        _check_record(summary, f"{where}.summaries[{key!r}]", required=_SUMMARY_FIELDS)
    if not _is_number(summaries["accuracy"]["mean"], null=False):
        _fail(f"{where}.summaries['accuracy'].mean", "expected a number")
    ci = model["accuracy_ci95"]
    if len(ci) != 2 or not all(_is_number(v) for v in ci):
        _fail(f"{where}.accuracy_ci95", f"expected [low, high], got {_shown(ci)}")


def _check_protocol(protocol: Mapping[str, Any]) -> None:
    _check_record(
        protocol, "protocol", required={},
        optional={"kind": "str", "folds": "int?", "repeats": "int?", "test_train_ratio": "number",
                  "alpha": "number", "description": "str", "lists": "list", "ci": "str"},
    )  # fmt: skip
    if protocol.get("caveat") is not None and not isinstance(protocol["caveat"], str):
        _fail("protocol.caveat", f"expected a string or null, got {_shown(protocol['caveat'])}")
    for i, item in enumerate(protocol.get("lists") or []):
        _check_record(
            item, f"protocol.lists[{i}]",
            required={"role": "str", "path": "str", "n_lines": "int", "n_matched": "int", "n_unmatched": "int"},
            optional={"unmatched": "str-list", "n_ambiguous": "int", "ambiguous": "str-list"},
        )  # fmt: skip


def _check_dataset(dataset: Mapping[str, Any]) -> None:
    _check_record(dataset, "dataset", required={}, optional={"tracks_per_class": "dict", "ignored_columns": "list"})
    segments = dataset.get("segments_per_track")
    if segments:
        _check_record(segments, "dataset.segments_per_track", required={"min": "int", "mean": "number!", "max": "int"})


# -- JSON helpers: JSON has no NaN, so missing numbers travel as null ----------------------------
def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _json_safe(value.item())
    return value


def _known(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``data`` that dataclass ``cls`` knows: a newer genre's extra fields are dropped."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _with_unknown(source: Any, data: Any) -> Any:
    """``data`` with the fields of ``source`` (the same results as read) that ``data`` lacks put back in place."""
    if isinstance(source, dict) and isinstance(data, dict):
        merged = {k: _with_unknown(source[k], v) if k in source else v for k, v in data.items()}
        return merged | {k: v for k, v in source.items() if k not in data}
    if isinstance(source, list) and isinstance(data, list) and len(source) == len(data):
        return [_with_unknown(s, d) for s, d in zip(source, data)]
    return data


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _nan(data: Mapping[str, Any]) -> dict[str, Any]:
    """``None`` back to NaN for the float fields of a record (keeps other fields as they are)."""
    floats = {
        "mean", "std", "ci_low", "ci_high", "df", "statistic", "difference", "p_value", "p_holm",
        "accuracy", "balanced_accuracy", "macro_f1", "vote_accuracy",
    }  # fmt: skip
    return {k: (math.nan if v is None and k in floats else v) for k, v in data.items()}
