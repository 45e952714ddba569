"""What the report says, independent of its format.

:func:`build_document` turns results into a list of simple blocks (headings,
paragraphs, tables, images); ``markdown.py`` and ``html.py`` only lay them out, so the
two reports can never disagree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from genre.evaluation.results import BenchmarkResults

__all__ = ["Block", "build_document", "plot_names", "pct", "headline_rows", "HEADLINE_COLUMNS"]


@dataclass
class Block:
    """One element of the report.

    Attributes
    ----------
    kind : str
        ``"h1"``, ``"h2"``, ``"p"``, ``"note"`` (highlighted paragraph), ``"list"``,
        ``"table"``, ``"image"`` or ``"code"``.
    text : str
        Heading / paragraph text, image caption, or code.
    rows : list of list of str
        Table body rows, or list items (one-element rows).
    header : list of str
        Table header.
    image : str
        File name of an image (``accuracy.png``).
    """

    kind: str
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    image: str = ""


HEADLINE_COLUMNS = ["model", "input", "accuracy ± std", "95 % CI", "balanced acc", "macro-F1", "fit s", "predict s"]


def pct(value: float | None, digits: int = 1) -> str:
    """``0.7449`` -> ``74.5``; missing -> ``–``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value * 100:.{digits}f}"


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 0.1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _p(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _number(value: object) -> float:
    """A number from results (``None`` where JSON held null) as float, NaN when missing."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def plot_names(results: "BenchmarkResults") -> dict[str, str]:
    """File name of every plot: ``accuracy``, ``per_class_f1`` and ``confusion:<model>``."""
    names = {"accuracy": "accuracy.png", "per_class_f1": "per_class_f1.png"}
    used = set(names.values())
    for model in results.models:
        stem = "confusion_" + (re.sub(r"[^A-Za-z0-9_.-]+", "_", model.name).strip("_") or "model")
        name, n = f"{stem}.png", 2
        while name in used:  # two names that differ only in odd characters
            name, n = f"{stem}_{n}.png", n + 1
        used.add(name)
        names[f"confusion:{model.name}"] = name
    return names


def headline_rows(results: "BenchmarkResults") -> list[list[str]]:
    """Rows of the headline table (see :data:`HEADLINE_COLUMNS`), best accuracy first."""
    rows = []
    for model in sorted(results.models, key=lambda m: -m.accuracy):
        low, high = model.accuracy_ci95
        spread = f" ± {pct(model.accuracy_std)}" if len(model.folds) > 1 else ""
        rows.append(
            [
                model.name,
                model.input,
                f"{pct(model.accuracy)}{spread} %",
                f"[{pct(low)}, {pct(high)}]",
                f"{pct(model.balanced_accuracy)} %",
                f"{pct(model.macro_f1)} %",
                _seconds(model.fit_seconds),
                _seconds(model.predict_seconds),
            ]
        )
    return rows


def _significance(results: "BenchmarkResults") -> list[Block]:
    blocks = [Block("h2", "Which differences are significant")]
    if not results.pairwise:
        blocks.append(Block("p", "Only one model was evaluated: there is nothing to compare."))
        return blocks
    first = results.pairwise[0]
    if first.test == "mcnemar":
        method = (
            "Exact McNemar test on the test tracks both models saw (a single partition has no folds to "
            "compare over); the statistic is the tracks only model A got right minus those only model B got right"
        )
        header = ["model A", "model B", "Δ accuracy (A − B)", "A-only − B-only tracks", "p", "p (Holm)", "verdict"]
    else:
        ratio = _number(results.protocol.get("test_train_ratio"))
        df = f"{first.df:.0f} degree{'s' if first.df != 1 else ''} of freedom" if math.isfinite(first.df) else "– df"
        method = (
            "Nadeau–Bengio corrected resampled t-test on the per-fold accuracies (variance inflated by "
            f"n_test/n_train = {ratio:.3f} because training sets overlap; {df})"
        )
        header = ["model A", "model B", "Δ accuracy (A − B)", "t", "p", "p (Holm)", "verdict"]
    blocks.append(
        Block(
            "p",
            f"{method}. p-values are Holm-corrected over the {len(results.pairwise)} pair"
            f"{'s' if len(results.pairwise) != 1 else ''}; a difference is called significant when the corrected "
            f"p < {first.alpha:g}.",
        )
    )
    rows = []
    for test in results.pairwise:
        if not math.isfinite(test.statistic):
            statistic = "–"  # untestable pair: t is undefined
        else:
            statistic = f"{test.statistic:+.0f}" if test.test == "mcnemar" else f"{test.statistic:+.2f}"
        difference = f"{test.difference * 100:+.1f} points" if math.isfinite(test.difference) else "–"
        rows.append(
            [
                test.model_a,
                test.model_b,
                difference,
                statistic,
                _p(test.p_value),
                _p(test.p_holm),
                ("significant: " if test.significant else "") + test.verdict,
            ]
        )
    blocks.append(Block("table", header=header, rows=rows))
    untestable = [t for t in results.pairwise if not t.testable]
    if untestable:
        pairs = ", ".join(f"{t.model_a} vs {t.model_b}" for t in untestable)
        blocks.append(
            Block(
                "note",
                f"Not testable: {pairs}. The accuracy difference was the same in every fold, so the t-test has no "
                "variance to work with (p is undefined, shown as –); a few folds that agree are no evidence of a "
                "real difference. Use more folds or repeats.",
            )
        )
    weak = [t for t in results.pairwise if t.weak]
    if weak:
        folds = int(round(weak[0].df)) + 1
        blocks.append(
            Block(
                "note",
                f"Weak test: {folds} fold scores per model give the t-test {weak[0].df:.0f} degree of freedom, so "
                "its p-values rest on a single variance estimate and are unreliable either way; use at least 5 "
                "folds (or --repeats) before calling a difference significant.",
            )
        )
    significant = [t.verdict for t in results.pairwise if t.significant]
    if significant:
        blocks.append(Block("note", "Significant at the corrected level: " + "; ".join(significant) + "."))
    else:
        blocks.append(
            Block(
                "note",
                f"No difference between models is significant at α = {first.alpha:g} after correction; "
                "the ranking in the headline table may be chance.",
            )
        )
    return blocks


def _dataset_paragraph(results: "BenchmarkResults") -> str:
    data = results.dataset
    segments = data.get("segments_per_track") or {}
    if segments and segments.get("max", 1) > 1:
        per_track = (
            f"{segments['min']}–{segments['max']} rows per track (mean {segments['mean']:.1f})"
            if segments["min"] != segments["max"]
            else f"{segments['max']} rows per track"
        )
    else:
        per_track = "one row per track"
    counts = data.get("tracks_per_class", {})
    labels = ", ".join(f"{label} ({counts.get(label, '?')})" for label in results.labels)
    text = (
        f"Table {data.get('name')} ({data.get('kind')}): {data.get('n_rows')} rows, {data.get('n_tracks')} tracks, "
        f"{per_track}, {data.get('n_features')} features. {len(results.labels)} labels (tracks): {labels}."
    )
    if data.get("group_column"):
        text += f" Groups: column {data['group_column']!r}, {data.get('n_groups')} groups."
    else:
        text += " No group (artist) column."
    if data.get("ignored_columns"):
        text += f" Columns left out of the features: {', '.join(data['ignored_columns'])}."
    return text


def build_document(results: "BenchmarkResults") -> list[Block]:
    """The report as a list of :class:`Block`, in reading order."""
    protocol = results.protocol
    names = plot_names(results)
    blocks = [
        Block("h1", f"Genre benchmark: {results.dataset.get('name', 'features')}"),
        Block("p", protocol.get("description", "")),
    ]
    if protocol.get("caveat"):
        blocks.append(Block("note", "Caveat: " + protocol["caveat"]))
    blocks.append(Block("p", _dataset_paragraph(results)))

    blocks.append(Block("h2", "Results"))
    blocks.append(Block("table", header=HEADLINE_COLUMNS, rows=headline_rows(results)))
    best = max(results.models, key=lambda m: m.accuracy)
    extra = []
    if any("segment_accuracy" in m.summaries for m in results.models):
        extra.append(
            "per-segment accuracy: "
            + ", ".join(
                f"{m.name} {pct(m.summaries['segment_accuracy'].mean)} %"
                for m in results.models
                if "segment_accuracy" in m.summaries
            )
        )
        extra.append(
            "track accuracy by majority vote of segments: "
            + ", ".join(f"{m.name} {pct(m.summaries['vote_accuracy'].mean)} %" for m in results.models)
        )
    blocks.append(
        Block(
            "p",
            (
                "Accuracy, balanced accuracy and macro-F1 are per track, on the test tracks of the single partition; "
                "fit and predict times are wall seconds."
                if protocol.get("kind") == "fixed"
                else f"Accuracy, balanced accuracy and macro-F1 are per track, averaged over {len(best.folds)} folds; "
                "fit and predict times are wall seconds per fold."
            )
            + (f" Also: {'; '.join(extra)}." if extra else ""),
        )
    )
    blocks.append(Block("image", "Accuracy per model with 95 % intervals", image=names["accuracy"]))

    blocks.extend(_significance(results))

    blocks.append(Block("h2", "Per-class F1"))
    blocks.append(
        Block(
            "p",
            "Precision, recall and F1 of each class from the confusion matrix "
            + (
                "of the test tracks"
                if protocol.get("kind") == "fixed"
                else "summed over all folds" + (" and repeats" if (protocol.get("repeats") or 1) > 1 else "")
            )
            + "; the table shows F1.",
        )
    )
    rows = [
        [label] + [f"{m.per_class.get(label, {}).get('f1', float('nan')):.2f}" for m in results.models]
        for label in results.labels
    ]
    blocks.append(Block("table", header=["label"] + [m.name for m in results.models], rows=rows))
    blocks.append(Block("image", "Per-class F1 per model", image=names["per_class_f1"]))

    blocks.append(Block("h2", "Confusion matrices"))
    blocks.append(
        Block("p", "Rows are true labels, columns predictions; colour is the share of the true class, text the count.")
    )
    for model in results.models:
        blocks.append(Block("image", f"Confusion matrix of {model.name}", image=names[f"confusion:{model.name}"]))

    if protocol.get("kind") != "fixed" and len(best.folds) <= 50:
        blocks.append(Block("h2", "Accuracy per fold"))
        header = ["model"] + [
            (f"r{f.repeat + 1}f{f.fold + 1}" if (protocol.get("repeats") or 1) > 1 else f"fold {f.fold + 1}")
            for f in best.folds
        ]
        rows = [[m.name] + [pct(f.accuracy) for f in m.folds] for m in results.models]
        blocks.append(Block("table", header=header, rows=rows))

    if protocol.get("lists"):
        blocks.append(Block("h2", "List files"))
        rows = [
            [item["role"], item["path"], str(item["n_lines"]), str(item["n_matched"]), str(item["n_unmatched"]),
             ", ".join(item.get("unmatched", [])[:5])]
            for item in protocol["lists"]
        ]  # fmt: skip
        header = ["role", "file", "lines", "matched", "unmatched", "unmatched (first)"]
        blocks.append(Block("table", header=header, rows=rows))

    blocks.append(Block("h2", "Reproduce"))
    if results.command:
        blocks.append(Block("code", results.command))
    versions = ", ".join(f"{k} {v}" for k, v in results.versions.items())
    blocks.append(
        Block(
            "p",
            f"Created {results.created or 'at an unknown time'} in {results.seconds:.1f} s. Seed "
            f"{protocol.get('seed')}. Versions: {versions}.",
        )
    )
    descriptions = [[m.name, m.description or "–", _params(m.params)] for m in results.models]
    blocks.append(Block("table", header=["model", "description", "parameters"], rows=descriptions))
    return blocks


def _params(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) if params else "defaults"


_NUMBER = re.compile(r"^[+\-−]?\d+(\.\d+)?$|^–$")


def _looks_numeric(cell: str) -> bool:
    """``74.5 ± 2.2 %``, ``[71.7, 77.3]``, ``+1.7 points``, ``< 0.001``, ``–`` all count as numbers."""
    tokens = [t for t in re.split(r"[\s,\[\]%±<]+", str(cell).replace("points", "")) if t]
    return bool(tokens) and all(_NUMBER.match(t) for t in tokens)


def numeric_columns(rows: Sequence[Sequence[str]]) -> list[bool]:
    """Which columns hold only numbers (right-aligned in both renderings)."""
    if not rows:
        return []
    width = max(len(r) for r in rows)
    return [all(i < len(r) and _looks_numeric(r[i]) for r in rows) for i in range(width)]


def table_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain-text rendering (tests and logs)."""
    return "\n".join([" | ".join(header)] + [" | ".join(r) for r in rows])
