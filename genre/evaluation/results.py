"""Benchmark results as plain dataclasses that round-trip through ``results.json``.

The JSON holds everything the report shows (per-fold scores, confusion matrices,
per-class metrics, pairwise tests, dataset and protocol description, versions, the
command line), so ``genre report results.json`` can re-render it without re-running.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from genre.atomic import atomic_write_text
from genre.errors import DataError
from genre.evaluation.stats import PairwiseTest, Summary

__all__ = ["FoldScore", "ModelResult", "SplitInfo", "BenchmarkResults", "load_results", "RESULTS_FORMAT"]

#: ``format`` of results.json; bump the number when the layout changes incompatibly.
RESULTS_FORMAT = "genre-benchmark/1"
#: Per-fold scores that are summarised (mean, std, CI) for each model.
METRICS: tuple[str, ...] = ("accuracy", "balanced_accuracy", "macro_f1", "vote_accuracy", "segment_accuracy")


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
        Track-level accuracy when each track takes its segments' majority vote.
    segment_accuracy : float or None
        Accuracy of individual segment rows (``None`` with one row per track).
    fit_seconds, predict_seconds : float
        Wall time of ``fit`` on the training rows and of ``predict_proba`` on the test rows.
    predictions : list of str
        Predicted label of each test track, in the order of the split's ``test_tracks``.
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
        ``label -> {precision, recall, f1, support}`` from the summed confusion matrix.
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
            folds=[FoldScore(**_nan(f)) for f in data["folds"]],
            confusion=[list(map(int, row)) for row in data["confusion"]],
            per_class={k: dict(v) for k, v in data["per_class"].items()},
            summaries={k: Summary(**_nan(v)) for k, v in data["summaries"].items()},
            accuracy_ci95=tuple(_float(v) for v in data["accuracy_ci95"]),
        )


@dataclass
class SplitInfo:
    """Sizes and test tracks of one split, shared by every model."""

    repeat: int
    fold: int
    n_train_tracks: int
    n_test_tracks: int
    n_train_rows: int
    n_test_rows: int
    test_tracks: list[str]


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
        files and their match counts, mean test/train ratio, ``description`` (a sentence).
    labels : list of str
        Class order of the confusion matrices.
    models : list of ModelResult
    pairwise : list of PairwiseTest
        Every pair of models, Holm-adjusted.
    splits : list of SplitInfo
    versions : dict
        Package versions.
    command : str
        The command line (or Python call) that produced the results.
    created : str
        ISO 8601 time stamp.
    seconds : float
        Wall time of the whole benchmark.
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

    def model(self, name: str) -> ModelResult:
        """The result of the model called ``name``."""
        for result in self.models:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return _json_safe(
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
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``results.json`` atomically and return its path."""
        path = Path(path)
        atomic_write_text(path, self.to_json())
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "BenchmarkResults":
        return cls(
            dataset=dict(data["dataset"]),
            protocol=dict(data["protocol"]),
            labels=list(data["labels"]),
            models=[ModelResult.from_dict(m) for m in data["models"]],
            pairwise=[PairwiseTest.from_dict(_nan(p)) for p in data.get("pairwise", [])],
            splits=[SplitInfo(**s) for s in data.get("splits", [])],
            versions=dict(data.get("versions", {})),
            command=data.get("command", ""),
            created=data.get("created", ""),
            seconds=float(data.get("seconds", 0.0)),
        )


def load_results(path: str | os.PathLike) -> BenchmarkResults:
    """Read a ``results.json`` written by :meth:`BenchmarkResults.save`.

    Raises
    ------
    DataError
        The file is missing, not JSON, or not a genre benchmark result.
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
    if not isinstance(data, dict) or not str(data.get("format", "")).startswith("genre-benchmark/"):
        raise DataError(f"{path}: not a genre benchmark results file (no 'format': 'genre-benchmark/...')")
    if data["format"] != RESULTS_FORMAT:
        raise DataError(f"{path}: results format {data['format']!r} is not supported (expected {RESULTS_FORMAT!r})")
    try:
        return BenchmarkResults.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: incomplete or damaged results file ({type(exc).__name__}: {exc})") from None


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


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _nan(data: Mapping[str, Any]) -> dict[str, Any]:
    """``None`` back to NaN for the float fields of a record (keeps other fields as they are)."""
    floats = {
        "mean", "std", "ci_low", "ci_high", "df", "statistic", "difference", "p_value", "p_holm",
        "accuracy", "balanced_accuracy", "macro_f1", "vote_accuracy",
    }  # fmt: skip
    return {k: (math.nan if v is None and k in floats else v) for k, v in data.items()}
