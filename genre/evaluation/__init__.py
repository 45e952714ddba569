"""Evaluation: leakage-free splits (track- and group-aware), cross-validation, statistics.

Main entry points (:func:`genre.benchmark.benchmark` runs them from feature CSVs or audio
to a written report):

- :func:`cross_validate_models` -- evaluate models on a loaded :class:`~genre.features.table.FeatureTable`;
- :func:`cv_splits`, :func:`list_split` -- the splits on their own;
- :func:`load_results` -- read a ``results.json`` back.
"""

from genre.evaluation.cv import DEFAULT_MODELS, cross_validate_models
from genre.evaluation.results import BenchmarkResults, ModelResult, load_results
from genre.evaluation.splits import Split, cv_splits, list_split

__all__ = [
    "cross_validate_models",
    "DEFAULT_MODELS",
    "BenchmarkResults",
    "ModelResult",
    "load_results",
    "Split",
    "cv_splits",
    "list_split",
]
