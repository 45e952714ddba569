"""What the report says, independent of its format.

:func:`build_document` turns results into a list of simple blocks (headings,
paragraphs, tables, images); ``markdown.py`` and ``html.py`` only lay them out, so the
two reports can never disagree.
"""

from __future__ import annotations

import dataclasses
import math
import re
import statistics
from pathlib import Path
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from genre.text import plural

if TYPE_CHECKING:
    from genre.evaluation.results import BenchmarkResults, ModelResult
    from genre.evaluation.stats import PairwiseTest

__all__ = [
    "Block", "build_document", "plot_names", "plot_file_names", "pct", "headline_header", "headline_rows", "report_title",
    "HEADLINE_COLUMNS", "MAX_ANNOTATED_CLASSES", "MAX_PLOT_LABEL", "machine_text", "pooled_counts",
    "pairwise_header", "pairwise_rows", "per_class_rows", "holm_family", "n_predictions", "ranked_models",
    "ranked_pairs", "shared_input", "p_value_text",
]


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
    alt : str
        Alternative text of an image: what the picture is, for a reader who cannot see it
        (the caption in ``text`` says how to read it). Empty: the caption is used.
    numeric : list of bool, optional
        Which table columns are right-aligned numbers; ``None``: guessed from the cells
        (:func:`numeric_columns`). Set where a column of names may look numeric (labels
        ``0`` .. ``9``).

    Text is plain text, never markup: the renderers escape it.
    """

    kind: str
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    image: str = ""
    numeric: list[bool] | None = None
    alt: str = ""


#: Confusion matrices with more classes print no counts in their cells (they would not fit).
MAX_ANNOTATED_CLASSES = 25
#: Longer labels are shortened in plot tick labels (the tables show them whole).
MAX_PLOT_LABEL = 28

HEADLINE_COLUMNS = ["model", "input", "accuracy ± std", "95 % CI", "balanced acc", "macro-F1", "fit s", "predict s"]


def pct(value: float | None, digits: int = 1) -> str:
    """``0.7449`` -> ``74.5``; missing -> ``–``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value * 100:.{digits}f}"


def _seconds(value: float) -> str:
    if 0 <= value < 0.0005:  # "0.000" would read as no time at all
        return "< 0.001"
    return f"{value:.3f}" if value < 0.1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _signed(value: float, digits: int) -> str:
    """``+1.23`` / ``-1.23``; a value that rounds to zero is ``+0.00``, never ``-0.00``."""
    return f"{round(value, digits) + 0.0:+.{digits}f}"


def p_value_text(value: float, *, alpha: float | None = None) -> str:
    """A p-value as the report shows it: 3 decimals, ``< 0.001``, ``–`` when missing.

    Parameters
    ----------
    value : float
        The p-value.
    alpha : float, optional
        The significance level the p-value is judged against. Three decimals that round the
        p-value onto or across it would show a verdict the number contradicts (0.0496 as
        ``0.050``, called significant at 0.05) or cannot tell (0.0504 as ``0.050``, not
        significant): more decimals are shown then, up to 6.

    Returns
    -------
    str
    """
    if not math.isfinite(value):
        return "–"
    if value < 0.001:
        # "< 0.001" cannot tell its side of a (rare) alpha below 0.001: 3 significant digits then.
        return "< 0.001" if alpha is None or alpha >= 0.001 else f"{value:.3g}"
    digits = 3
    text = f"{value:.{digits}f}"
    while alpha is not None and digits < 6 and (float(text) == alpha or (float(text) < alpha) != (value < alpha)):
        digits += 1
        text = f"{value:.{digits}f}"
    return text


def _number(value: object) -> float:
    """A number from results (``None`` where JSON held null) as float, NaN when missing."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def plot_names(results: "BenchmarkResults") -> dict[str, str]:
    """File name of every plot: ``accuracy``, ``per_class_f1`` and ``confusion:<model>``."""
    return plot_file_names([model.name for model in results.models])


def plot_file_names(models: Sequence[str]) -> dict[str, str]:
    """File name of every plot of a report of ``models`` (known before they run): see :func:`plot_names`."""
    names = {"accuracy": "accuracy.png", "per_class_f1": "per_class_f1.png"}
    used = set(names.values())
    for model in models:
        stem = "confusion_" + (re.sub(r"[^A-Za-z0-9_.-]+", "_", model).strip("_.") or "model")[:80]
        name, n = f"{stem}.png", 2
        # Two names that differ only in odd characters, or only in case (one file on macOS and Windows).
        while name.lower() in used:
            name, n = f"{stem}_{n}.png", n + 1
        used.add(name.lower())
        names[f"confusion:{model}"] = name
    return names


def ranked_models(results: "BenchmarkResults") -> list["ModelResult"]:
    """The models in the order of every per-model listing of a report: best accuracy first.

    The headline table, the per-class table, the plots, the confusion matrices, the
    pairwise tests, the per-fold and model tables and ``tables.tex`` all list the models in
    this order, so that a reader finds a model at the same place in each.

    Parameters
    ----------
    results : BenchmarkResults

    Returns
    -------
    models : list of ModelResult
        By headline accuracy (the unrounded mean), highest first. Models of equal accuracy
        keep their order in ``results.models`` (the order they ran in, that of ``--models``),
        as the pairwise tests of the results rank them; a model without an accuracy (NaN)
        comes last.
    """
    # A stable sort: ties keep the run order. NaN would compare false with everything and
    # scramble its neighbours, so it is sorted apart.
    def key(model: "ModelResult") -> tuple[bool, float]:
        missing = math.isnan(model.accuracy)
        return missing, 0.0 if missing else -model.accuracy

    return sorted(results.models, key=key)


def ranked_pairs(results: "BenchmarkResults") -> list["PairwiseTest"]:
    """The pairwise tests of ``results`` in :func:`ranked_models` order, each read "higher-ranked minus lower".

    Results of this version store their tests that way already; results of versions that
    ran them in the order of ``--models`` are shown the same way here. A pair turned round
    keeps its p-values and Holm family (two-sided tests, the same set of pairs): only the
    signs of its difference and statistic, and its two discordant counts, change places.
    """
    rank = {model.name: i for i, model in enumerate(ranked_models(results))}
    last = len(rank)  # a test of a model the results do not hold (a hand-edited file): after the others
    pairs = []
    for test in results.pairwise:
        if rank.get(test.model_a, last) > rank.get(test.model_b, last):
            test = dataclasses.replace(
                test, model_a=test.model_b, model_b=test.model_a, difference=-test.difference,
                statistic=-test.statistic, only_a=test.only_b, only_b=test.only_a,
            )  # fmt: skip
        pairs.append(test)
    return sorted(pairs, key=lambda t: (rank.get(t.model_a, last), rank.get(t.model_b, last)))


def headline_rows(results: "BenchmarkResults") -> list[list[str]]:
    """Rows of the headline table (see :data:`HEADLINE_COLUMNS`), in :func:`ranked_models` order (best first)."""
    rows = []
    for model in ranked_models(results):
        low, high = model.accuracy_ci95
        spread = f" ± {pct(model.accuracy_std)}" if len(model.folds) > 1 else ""
        rows.append(
            [
                model.name,
                model.input or "–",
                f"{pct(model.accuracy)}{spread} %",
                # In % like the cells beside it (the "%" of the column's "95 % CI" is the level).
                f"[{pct(low)}, {pct(high)}] %",
                f"{pct(model.balanced_accuracy)} %",
                f"{pct(model.macro_f1)} %",
                _seconds(model.fit_seconds),
                _seconds(model.predict_seconds),
            ]
        )
    return rows


def shared_input(results: "BenchmarkResults") -> str | None:
    """The input every model read, when it is one and the same: ``f.csv (handcrafted, 6 features)``.

    The report then says it once instead of in an "input" column repeating it in every row.

    Returns
    -------
    text : str or None
        The shared input; ``""`` when no model's input was recorded (results of another
        version); ``None`` when the models read different inputs (the column stays).
    """
    inputs = {model.input or "" for model in results.models}
    return inputs.pop() if len(inputs) == 1 else None


def headline_header(results: "BenchmarkResults") -> list[str]:
    """Header of the headline table: :data:`HEADLINE_COLUMNS`, without "± std" for a single test set.

    A fixed partition has one accuracy per model, so its rows show no spread; the
    header must not promise one (the console table says the same as the report).
    """
    header = list(HEADLINE_COLUMNS)
    if results.protocol.get("kind") == "fixed":
        header[header.index("accuracy ± std")] = "accuracy"
    return header


def n_predictions(model: "ModelResult") -> int:
    """The track-level predictions ``model``'s (summed) confusion matrix counts: a fixed partition's test tracks."""
    return int(sum(sum(row) for row in model.confusion))


def pooled_counts(results: "BenchmarkResults", *, tracks: bool = True) -> str:
    """The predictions the (summed) confusion matrices count, as a noun phrase.

    A reader of a confusion matrix needs to know whether a cell is a count or a share and
    how often each track was counted: with repeats, every track is tested once per repeat,
    so the counts add up to ``repeats`` times the tracks.

    Parameters
    ----------
    results : BenchmarkResults
    tracks : bool
        Say how often each track was counted (the short form, for figure captions, does not).

    Returns
    -------
    phrase : str
        ``the 290 test tracks of the single partition``, ``the test tracks of the 10 folds,
        summed (each of the 1000 tracks counted once)``, ``the test tracks of the 6 folds of 2
        repeats, summed (each of the 60 tracks counted 2 times: 120 predictions)``; without
        the parenthesis for results that did not record their splits. The short form:
        ``the test tracks of all 10 folds``.
    """
    total = n_predictions(results.models[0])
    if results.protocol.get("kind") == "fixed":
        return f"the {total} test {plural(total, 'track', 'tracks')} of the single partition"
    n_folds = len(results.models[0].folds)
    repeats = results.protocol.get("repeats") or 1
    folds = f"{n_folds} {plural(n_folds, 'fold', 'folds')}" + (f" of {repeats} repeats" if repeats > 1 else "")
    if not tracks:
        return f"the test tracks of all {folds}"
    phrase = f"the test tracks of the {folds}, summed"
    tested = {track for split in results.splits for track in split.test_tracks}
    if not tested:  # results of another version, without their splits
        return phrase
    if repeats > 1:
        return f"{phrase} (each of the {len(tested)} tracks counted {repeats} times: {total} predictions)"
    return f"{phrase} (each of the {len(tested)} tracks counted once)"


def _sizes_differ(results: "BenchmarkResults") -> bool:
    """Whether the splits differ in size (groups), so that one n_test/n_train stands for a mean."""
    return len({(s.n_train_tracks, s.n_test_tracks) for s in results.splits}) > 1


def _counted(results: "BenchmarkResults") -> bool:
    """Whether every McNemar test kept its two discordant counts (results of older versions hold only their
    difference), so that a reader can recompute the exact p."""
    return all(t.only_a is not None and t.only_b is not None for t in results.pairwise)


def holm_family(results: "BenchmarkResults") -> str:
    """The pairs Holm's correction ran over: ``the 15 pairs``, ``the 14 testable pairs``, ``the 1 pair (a
    family of one: its p is left as it is)``.

    Untestable pairs (no p) are not in Holm's family: the count must be the family's.
    """
    testable = sum(math.isfinite(test.p_value) for test in results.pairwise)
    untested = len(results.pairwise) - testable
    family = f"the {testable} {'testable ' if untested else ''}{plural(testable, 'pair', 'pairs')}"
    # A family of one is not corrected at all: a reader must not look for an adjustment in its p.
    return family + " (a family of one: its p is left as it is)" if testable == 1 else family


def pairwise_header(results: "BenchmarkResults") -> list[str]:
    """Header of the pairwise tests table (see :func:`pairwise_rows`); needs ``results.pairwise``."""
    if results.pairwise[0].test == "mcnemar":
        statistic = "tracks only A / only B got right" if _counted(results) else "A-only − B-only tracks"
    else:
        statistic = "t"
    return ["model A", "model B", "Δ accuracy (A − B)", statistic, "p", "p (Holm)", "verdict"]


def pairwise_rows(results: "BenchmarkResults") -> list[list[str]]:
    """Rows of the pairwise tests table, one per pair of ``results.pairwise``, in :func:`ranked_pairs` order.

    The difference is in percentage points (``+1.7 points``), p-values as :func:`p_value_text` writes
    them; untestable pairs show ``–`` for what they lack.
    """
    counted = _counted(results)
    rows = []
    for test in ranked_pairs(results):
        if test.test == "mcnemar" and counted:
            statistic = f"{test.only_a} / {test.only_b}"
        elif not math.isfinite(test.statistic):
            statistic = "–"  # untestable pair: t is undefined
        else:
            statistic = _signed(test.statistic, 0 if test.test == "mcnemar" else 2)
        difference = f"{_signed(test.difference * 100, 1)} points" if math.isfinite(test.difference) else "–"
        verdict = ("significant: " if test.significant else "") + test.verdict
        rows.append([test.model_a, test.model_b, difference, statistic, p_value_text(test.p_value, alpha=test.alpha),
                     p_value_text(test.p_holm, alpha=test.alpha), verdict])  # fmt: skip
    return rows


def per_class_rows(results: "BenchmarkResults") -> list[list[str]]:
    """Rows of the per-class F1 table: a label, then its F1 (%) for each model in :func:`ranked_models` order;
    ``n/a`` for a class without test tracks."""
    models = ranked_models(results)
    return [
        [label] + ["n/a" if _untested(results, label) else pct(m.per_class.get(label, {}).get("f1")) for m in models]
        for label in results.labels
    ]


def _significance(results: "BenchmarkResults") -> list[Block]:
    blocks = [Block("h2", "Which differences are significant")]
    if not results.pairwise:
        text = (
            "Only one model was evaluated: there is nothing to compare."
            if len(results.models) < 2
            else "These results hold no pairwise tests of the models (a results file of another version)."
        )
        blocks.append(Block("p", text))
        return blocks
    first = results.pairwise[0]
    counted = _counted(results)
    if first.test == "mcnemar":
        shown = (
            "the table gives the tracks only model A got right and those only model B got right, from which the "
            "binomial p follows"
            if counted
            else "the statistic is the tracks only model A got right minus those only model B got right"
        )
        method = (
            "Two-sided exact (binomial) McNemar test (McNemar 1947) on the test tracks both models saw (a single "
            f"partition has no folds to compare over); {shown}"
        )
    else:
        ratio = _number(results.protocol.get("test_train_ratio"))
        n_scores = len(results.models[0].folds)
        df = f"{first.df:.0f} {plural(first.df, 'degree', 'degrees')} of freedom" if math.isfinite(first.df) else "– df"
        # Grouped folds differ in size: the correction then uses the mean ratio, and must say so.
        mean = " (the mean over the splits, whose sizes differ)" if _sizes_differ(results) else ""
        variance = (
            f"variance of the paired differences multiplied by 1/{n_scores} + n_test/n_train = 1/{n_scores} + "
            f"{ratio:.3f}{mean} instead of the naive 1/{n_scores}, because training sets overlap"
            if math.isfinite(ratio)
            else "variance of the differences inflated by n_test/n_train because training sets overlap"
        )
        repeats = results.protocol.get("repeats") or 1
        method = (
            "Two-sided Nadeau–Bengio corrected resampled t-test (Nadeau & Bengio 2003) on the paired per-fold "
            f"accuracies ({variance}; {df})"
        )
        if repeats > 1:
            method += (
                f". The {n_scores} fold scores of the {repeats} repeats are pooled in one test, as in the corrected "
                "repeated k-fold cross-validation test (Bouckaert & Frank 2004)"
            )
    blocks.append(
        Block(
            "p",
            f"{method}. Δ accuracy is model A's accuracy minus model B's, in percentage points. p-values are "
            f"Holm-corrected (Holm 1979) over {holm_family(results)}; a difference is called significant when the "
            f"corrected p < {first.alpha:g}.",
        )
    )
    blocks.append(_table(pairwise_header(results), pairwise_rows(results), names=2))
    tests = ranked_pairs(results)
    untestable = [t for t in tests if not t.testable]
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
    weak = [t for t in tests if t.weak]
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
    significant = [t.verdict for t in tests if t.significant]
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


def _span(values: Sequence[int]) -> str:
    """``[199, 200, 201]`` -> ``199–201``; ``[200, 200]`` -> ``200``."""
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}–{high}"


def _dataset_paragraph(results: "BenchmarkResults") -> str:
    data = results.dataset
    segments = data.get("segments_per_track") or {}
    if segments and segments.get("max", 1) > 1:
        per_track = (
            f"{segments['min']}–{segments['max']} rows per track (mean {segments['mean']:.1f})"
            if segments["min"] != segments["max"]
            else f"{segments['max']} rows per track"
        )
    elif segments or (data.get("n_rows") is not None and data.get("n_rows") == data.get("n_tracks")):
        per_track = "one row per track"
    else:
        per_track = ""  # not recorded (a results file of another version)
    counts = data.get("tracks_per_class") or {}
    if counts:
        labels = "labels (tracks): " + ", ".join(f"{label} ({counts.get(label, '?')})" for label in results.labels)
    else:
        labels = "labels: " + ", ".join(results.labels)
    sizes = [
        f"{data[key]} {word}"
        for key, word in (("n_rows", "rows"), ("n_tracks", "tracks"))
        if data.get(key) is not None
    ]
    sizes += [per_track] if per_track else []
    sizes += [f"{data['n_features']} features"] if data.get("n_features") is not None else []
    kind = f" ({data['kind']})" if data.get("kind") else ""
    if data.get("kind") == "external":  # a reader cannot guess what "external" means
        kind = " (external: not extracted by genre, its features used as given)"
    source = data.get("source")
    origin = f", extracted from {source}" if isinstance(source, str) and source.strip() else ""
    text = f"Table {data.get('name') or 'of features'}{kind}{origin}: {', '.join(sizes) or 'size not recorded'}. "
    text += f"{len(results.labels)} {labels}."
    text += _provenance_text(data)
    if data.get("group_column"):
        groups = f", {data['n_groups']} groups" if data.get("n_groups") is not None else ""
        if data.get("n_tracks_without_group"):
            n = data["n_tracks_without_group"]
            groups += f" and {n} {plural(n, 'track', 'tracks')} without one (each its own group)"
        text += f" Groups: column {data['group_column']!r}{groups}."
    elif "group_column" in data:
        text += " No group (artist) column."
    if data.get("ignored_columns"):
        text += f" Columns left out of the features: {', '.join(map(str, data['ignored_columns']))}."
    settings = _settings_text(data.get("feature_config"))
    if settings:
        text += f" Feature extraction settings: {settings}."
    for other in data.get("other_tables") or []:
        kind = f" ({other['kind']})" if other.get("kind") else ""
        sizes = ", ".join(
            f"{other[key]} {word}" for key, word in (("n_rows", "rows"), ("n_features", "features")) if other.get(key)
        )
        text += f" Table {other.get('name')}{kind}: {sizes or 'size not recorded'}"
        settings = _settings_text(other.get("feature_config"))
        text += f"; its settings: {settings}." if settings else "."
        text += _provenance_text(other)
    return text


def _provenance_text(table: Mapping[str, Any]) -> str:
    """`` SHA-256 of the file: ...; extracted with librosa 0.11.0, ...`` (what was recorded)."""
    parts = []
    if isinstance(table.get("sha256"), str):
        parts.append(f"SHA-256 of the file {table['sha256']}")
    versions = table.get("extraction_versions")
    if isinstance(versions, dict) and versions:
        shown = ", ".join(f"{name} {version}" for name, version in versions.items() if name not in ("python", "genre"))
        who = f"genre {versions['genre']}" if "genre" in versions else "genre"
        parts.append(f"extracted by {who}" + (f" with {shown}" if shown else ""))
    return f" {'; '.join(parts)}." if parts else ""


def _settings_text(config: Any) -> str:
    """``sr=22050, n_fft=2048, layers=[taggram, max_pool]``; empty for no settings."""
    if not isinstance(config, dict) or not config:
        return ""
    return ", ".join(
        f"{k}=[{', '.join(map(str, v))}]" if isinstance(v, (list, tuple)) else f"{k}={v}" for k, v in config.items()
    )


def _splits_sentence(results: "BenchmarkResults") -> str:
    """How many tracks (and rows) each split trains and tests on."""
    splits = results.splits
    if not splits:
        return ""
    train = _span([s.n_train_tracks for s in splits])
    test = _span([s.n_test_tracks for s in splits])
    rows = ""
    if any(s.n_train_rows != s.n_train_tracks or s.n_test_rows != s.n_test_tracks for s in splits):
        rows = (
            f" ({_span([s.n_train_rows for s in splits])} and {_span([s.n_test_rows for s in splits])} rows)"
        )
    if results.protocol.get("kind") == "fixed":
        sentence = f"The partition trains on {train} tracks and tests on {test} tracks{rows}"
        # Tracks in neither list (GTZAN's filtered partition leaves out 70 faulty excerpts) are
        # not in the scores: the dataset paragraph's counts are the whole table's.
        total = results.dataset.get("n_tracks_common", results.dataset.get("n_tracks"))
        used = splits[0].n_train_tracks + splits[0].n_test_tracks
        if isinstance(total, int) and not isinstance(total, bool) and total > used:
            unused = total - used
            sentence += (
                f"; the other {unused} of the table's {total} tracks are in neither list and were not used"
            )
        return sentence + "."
    folds, repeats = results.protocol.get("folds"), results.protocol.get("repeats") or 1
    layout = f" ({folds} folds × {repeats} repeats)" if folds and repeats > 1 else ""
    return f"Each of the {len(splits)} splits{layout} trains on {train} tracks and tests on {test} tracks{rows}."


def machine_text(environment: Mapping[str, object]) -> str:
    """``AMD EPYC 7R13, 32 logical cores of which 8 usable, Linux-6.1-x86_64``; ``""`` when not recorded."""
    cpu = environment.get("cpu") or environment.get("machine")  # the architecture when the model is unknown
    cores, usable = environment.get("logical_cores"), environment.get("usable_cores")
    counts = ""
    if isinstance(cores, int):
        counts = f"{cores} logical {plural(cores, 'core', 'cores')}"
        if isinstance(usable, int) and usable != cores:
            counts += f" of which {usable} usable"
    elif isinstance(usable, int):
        counts = f"{usable} usable {plural(usable, 'core', 'cores')}"
    return ", ".join(str(part) for part in (cpu, counts, environment.get("os")) if part)


def _scores_paragraph(results: "BenchmarkResults", best: "ModelResult") -> str:
    """What each column of the headline table is, precisely enough for a methods section."""
    protocol = results.protocol
    jobs = protocol.get("jobs")
    timing = ""
    if isinstance(jobs, int) and not isinstance(jobs, bool):
        timing = f" (run with {jobs} parallel jobs)" if jobs > 1 else " (one fit at a time)"
    # Times mean little without the machine; results that did not record it must not seem to.
    machine = machine_text(results.environment)
    timing += f" on {machine}" if machine else "; the machine was not recorded"
    if protocol.get("kind") == "fixed":
        n_test = n_predictions(best)
        return (
            f"Accuracy, balanced accuracy and macro-F1 are per track, on the {n_test} test tracks of the single "
            f"partition; the 95 % CI is the Wilson score interval (Wilson 1927) of accuracy over those {n_test} "
            f"tracks. Fit and predict times (the latter for all {n_test} test tracks, not one) are wall "
            f"seconds{timing}.{_contention(jobs)}{_fit_time_scope(results)}"
        )
    n = len(best.folds)
    repeats, folds = protocol.get("repeats") or 1, protocol.get("folds")
    layout = f" ({folds} folds × {repeats} repeats)" if repeats > 1 and folds else ""
    degrees = f"{n - 1} {plural(n - 1, 'degree', 'degrees')} of freedom"
    if protocol.get("ci") == "corrected":
        # Folds (and repeats) share training rows: the variance of their mean is larger than var / k.
        ratio = _number(protocol.get("test_train_ratio"))
        value = f" = 1/{n} + {ratio:.3f}" if math.isfinite(ratio) else ""
        interval = (
            f"the Student-t interval of their mean with Nadeau and Bengio's correction for overlapping training "
            f"sets: the variance of the mean is (1/{n} + n_test/n_train{value}) times that of the fold accuracies, "
            f"not 1/{n} times, so repeats of the same data do not narrow it as if they were new data ({degrees}, "
            f"clipped to [0, 100])"
        )
    else:  # results written before the correction
        independent = "folds and repeats treated as independent" if repeats > 1 else "folds treated as independent"
        interval = f"the Student-t interval of their mean ({degrees}, {independent}, clipped to [0, 100])"
    return (
        f"Accuracy, balanced accuracy and macro-F1 are per track, averaged over {n} folds{layout}; ± is the sample "
        f"standard deviation over the {n} fold accuracies, and the 95 % CI is {interval}. Fit and predict "
        f"times (the latter for all of a fold's test tracks, not one) are mean wall seconds per fold"
        f"{timing}.{_contention(jobs)}{_fit_time_scope(results)}"
    )


def _fit_time_scope(results: "BenchmarkResults") -> str:
    """What a fit time covers, so that models are not compared on unlike times."""
    text = (
        " A fit time is everything a model learns from the training side (scaling, any inner tuning search and "
        "calibration), not the feature extraction."
    )
    networks = [m.name for m in ranked_models(results) if m.name in ("cnn", "cnn-svm", "cnn-xgboost")]
    if len(networks) > 1:
        text += (
            f" {', '.join(networks)} train the same CNN on a fold, once: the first of them to fit a fold counts its "
            "training, the others only their own part, so their fit times are not comparable."
        )
    return text


def _contention(jobs: object) -> str:
    """A sentence on parallel timing: folds fitted side by side share the cores and take longer each."""
    if isinstance(jobs, int) and not isinstance(jobs, bool) and jobs > 1:
        return " Fits that ran at the same time shared the cores, so each took longer than it would alone."
    return ""


_REFERENCES = {
    "Nadeau & Bengio 2003": "Nadeau, C. & Bengio, Y. (2003). Inference for the generalization error. Machine "
    "Learning, 52(3), 239–281.",
    "Bouckaert & Frank 2004": "Bouckaert, R. R. & Frank, E. (2004). Evaluating the replicability of significance "
    "tests for comparing learning algorithms. PAKDD 2004, LNCS 3056, 3–12.",
    "Holm 1979": "Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian Journal "
    "of Statistics, 6(2), 65–70.",
    "McNemar 1947": "McNemar, Q. (1947). Note on the sampling error of the difference between correlated "
    "proportions or percentages. Psychometrika, 12(2), 153–157.",
    "Wilson 1927": "Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. "
    "Journal of the American Statistical Association, 22(158), 209–212.",
}


def report_title(results: "BenchmarkResults") -> str:
    """Heading and HTML title of the report: the table, and the audio it was extracted from when known."""
    source = results.dataset.get("source")
    origin = f" (from {_source_name(source)})" if isinstance(source, str) and source.strip() else ""
    return f"Genre benchmark: {results.dataset.get('name') or 'features'}{origin}"


#: How genre.data names a source (``Dataset.name``): its kind, then its path, then (FMA) a remark.
_SOURCE = re.compile(r"^(?P<kind>folder|manifest|FMA \S+) (?P<where>.+?)(?: \(metadata .*\))?$")


def _source_name(source: str) -> str:
    """``folder /data/gtzan`` -> ``folder gtzan``, ``FMA small /data/fma_small (metadata ...)`` ->
    ``FMA small fma_small``: what a table was extracted from, by its last name."""
    match = _SOURCE.match(source)
    return f"{match['kind']} {Path(match['where']).name}" if match else source


def build_document(results: "BenchmarkResults", *, undrawable: Sequence[str] = ()) -> list[Block]:
    """The report as a list of :class:`Block`, in reading order.

    Parameters
    ----------
    results : BenchmarkResults
    undrawable : sequence of str
        Labels or model names with characters no installed font can draw (see
        :func:`genre.reports.plots.undrawable`); the report says how the plots show them.
    """
    protocol = results.protocol
    names = plot_names(results)
    models = ranked_models(results)  # every listing of the models in the headline's order
    best = models[0]
    blocks = [Block("h1", report_title(results))]
    method = " ".join(filter(None, [protocol.get("description", ""), _splits_sentence(results)]))
    if method:
        blocks.append(Block("p", method))
    if protocol.get("caveat"):
        blocks.append(Block("note", "Caveat: " + protocol["caveat"]))
    blocks.append(Block("p", _dataset_paragraph(results)))

    blocks.append(Block("h2", "Results"))
    header, rows = headline_header(results), headline_rows(results)
    shared = shared_input(results)
    if shared is not None:  # the same in every row: said once below instead
        index = header.index("input")
        header.pop(index)
        rows = [row[:index] + row[index + 1 :] for row in rows]
    blocks.append(_table(header, rows, names=1 if shared is not None else 2))
    reads = ""
    if shared:
        reads = f"{'The model reads' if len(models) == 1 else 'Every model reads the same input,'} {shared}. "
    extra = []
    if any("segment_accuracy" in m.summaries for m in models):
        extra.append(
            "per-segment accuracy: "
            + ", ".join(
                f"{m.name} {pct(m.summaries['segment_accuracy'].mean)} %"
                for m in models
                if "segment_accuracy" in m.summaries
            )
        )
        extra.append(
            "track accuracy by majority vote of segments: "
            + ", ".join(f"{m.name} {pct(m.summaries['vote_accuracy'].mean)} %" for m in models)
        )
    blocks.append(
        Block("p", reads + _scores_paragraph(results, best) + (f" Also: {'; '.join(extra)}." if extra else ""))
    )
    fixed = protocol.get("kind") == "fixed"
    pooled, short = pooled_counts(results), pooled_counts(results, tracks=False)
    figures = iter(range(1, 1000))  # numbered in reading order, the same in both renderings
    n_classes = len(results.labels)
    chance = f"dashed line: chance, 1/{n_classes} (a uniform guess)"
    if fixed:
        n_test = n_predictions(best)
        caption = (
            f"Track-level accuracy of each model on the {n_test} test tracks; error bars: 95 % Wilson interval; "
            f"{chance}."
        )
    else:
        caption = (
            f"Track-level accuracy of each model, the mean over the {len(best.folds)} fold accuracies; error bars: "
            f"95 % Student-t interval of that mean"
            f"{' (Nadeau–Bengio corrected, as in the table)' if results.protocol.get('ci') == 'corrected' else ''}; "
            f"{chance}."
        )
    blocks.append(
        Block("image", f"Figure {next(figures)}. {caption}", image=names["accuracy"],
              alt="Horizontal bar chart of the accuracy of each model, best first, with error bars")
    )  # fmt: skip

    blocks.extend(_significance(results))

    blocks.append(Block("h2", "Per-class F1"))
    untested = [label for label in results.labels if _untested(results, label)]
    if fixed and untested:
        macro = "the mean of a column over the classes with test tracks is the headline macro-F1"
    elif fixed:
        macro = "the mean of a column is the headline macro-F1"
    else:
        # Pooling the folds first is not averaging per fold: the two macro-F1s differ a little.
        macro = (
            "because the folds are pooled first, the mean of a column can differ slightly from the headline "
            "macro-F1, which is the mean over folds of each fold's macro-F1"
        )
    supports = {label: results.models[0].per_class.get(label, {}).get("support") for label in results.labels}
    counts = results.dataset.get("tracks_per_class") or {}
    if all(supports[label] == counts.get(label) for label in results.labels):
        support = "Each class's support (its true tracks in that matrix) is its track count given above"
    else:  # a partition's test side, or repeats: not the table's class counts, so given here
        support = "Support (true tracks of each class in that matrix): " + ", ".join(
            f"{label} {supports[label] if supports[label] is not None else '?'}" for label in results.labels
        )
    absent = (
        f" {', '.join(untested)} {plural(len(untested), 'has', 'have')} no test tracks, so no F1 (n/a)."
        if untested
        else ""
    )
    blocks.append(
        Block(
            "p",
            f"Precision, recall and F1 of each class, per track, from the confusion matrix of {pooled}. The table "
            f"shows F1 in %, like every other score here; precision and recall are in results.json. {support}."
            f"{absent} {macro[0].upper()}{macro[1:]}.",
        )
    )
    blocks.append(_table(["label"] + [m.name for m in models], per_class_rows(results), names=1))
    blocks.append(
        Block("image", f"Figure {next(figures)}. F1 of each class for each model, from the track-level confusion "
              f"matrix of {short}: the values of the table above.", image=names["per_class_f1"],
              alt="Grouped bar chart of the F1 of each class, one bar per model")
    )  # fmt: skip

    blocks.append(Block("h2", "Confusion matrices"))
    legend = (
        f"Rows are true labels, columns predicted labels. A matrix counts the track-level predictions on {pooled}. "
        "The colour is a cell's share of its row, in % of the true class (row-normalised, so the diagonal is each "
        "class's recall)"
    )
    if len(results.labels) <= MAX_ANNOTATED_CLASSES:
        legend += "; the number in a cell is the count (empty cells are 0)."
    else:
        legend += (
            f". With more than {MAX_ANNOTATED_CLASSES} classes the counts are not printed in the cells; "
            "they are in results.json."
        )
    if any(len(label) > MAX_PLOT_LABEL for label in results.labels):
        legend += f" Labels longer than {MAX_PLOT_LABEL} characters are shortened in the plots (… in the middle)."
    if undrawable:
        legend += (
            f" No installed font can draw some characters of {', '.join(undrawable)}: the plots show them as "
            "\\uXXXX code points (a font such as Noto Sans CJK makes them readable)."
        )
    blocks.append(Block("p", legend))
    for model in models:
        blocks.append(
            Block("image", f"Figure {next(figures)}. Confusion matrix of {model.name}: rows are true labels, "
                  f"columns predicted labels; counts of {short}, colour row-normalised (% of the true "
                  "class).",
                  image=names[f"confusion:{model.name}"], alt=f"Heat map of the confusion matrix of {model.name}")
        )  # fmt: skip

    if not fixed and len(best.folds) <= 50:
        blocks.append(Block("h2", "Accuracy per fold"))
        repeated = (protocol.get("repeats") or 1) > 1
        blocks.append(
            Block(
                "p",
                "Track-level accuracy (%) of each model on each test fold"
                + ("; column rRfF is fold F of repeat R (each repeat shuffles the folds anew)." if repeated else "."),
            )
        )
        header = ["model"] + [f"r{f.repeat + 1}f{f.fold + 1}" if repeated else f"fold {f.fold + 1}" for f in best.folds]
        rows = [[m.name] + [pct(f.accuracy) for f in m.folds] for m in models]
        blocks.append(_table(header, rows, names=1))
    elif not fixed:
        blocks.append(Block("h2", "Accuracy per fold"))
        blocks.append(Block("p", f"The accuracies of the {len(best.folds)} folds are in results.json."))

    if protocol.get("lists"):
        blocks.append(Block("h2", "List files"))
        rows = [
            [item["role"], item["path"], str(item["n_lines"]), str(item["n_matched"]), str(item["n_unmatched"]),
             ", ".join(item.get("unmatched", [])[:5])]
            for item in protocol["lists"]
        ]  # fmt: skip
        header = ["role", "file", "lines", "matched", "unmatched", "unmatched (first)"]
        if any(item.get("n_ambiguous") for item in protocol["lists"]):
            # Lines naming a file name several tracks share, in no folder of theirs: matched none.
            for row, item in zip(rows, protocol["lists"]):
                row += [str(item.get("n_ambiguous", 0)), ", ".join(item.get("ambiguous", [])[:5])]
            header += ["ambiguous", "ambiguous (first)"]
        blocks.append(_table(header, rows, names=2))

    blocks.append(Block("h2", "Reproduce"))
    if results.command:
        blocks.append(Block("code", results.command))
    took = f" in {results.seconds:.1f} s" if results.seconds > 0 else ""
    facts = [f"Created {results.created or 'at an unknown time'}{took}."]
    if protocol.get("seed") is not None:
        facts.append(f"Seed {protocol['seed']}.")
    if results.versions:
        facts.append("Versions: " + ", ".join(f"{k} {v}" for k, v in results.versions.items()) + ".")
    blocks.append(Block("p", " ".join(facts)))
    blocks.append(Block("p", _training_side_sentence(results)))
    descriptions = [[m.name, m.description or "–", _params(m.params)] for m in models]
    header = ["model", "description", "parameters"]
    chosen = [_chosen(m) for m in models]
    if any(chosen):
        # What inner tuning and early stopping settled on, fold by fold: a reader can see
        # whether the grid's edge was hit, or the epochs ran out.
        header.append("chosen on the training side" if fixed else "chosen on the training sides (folds)")
        descriptions = [row + [text or "–"] for row, text in zip(descriptions, chosen)]
    blocks.append(_table(header, descriptions, names=3))

    text = " ".join(b.text for b in blocks if b.kind == "p")
    cited = [entry for key, entry in _REFERENCES.items() if key in text]
    if cited:
        blocks.append(Block("h2", "References"))
        blocks.append(Block("list", rows=[[entry] for entry in cited]))
    return blocks


def _training_side_sentence(results: "BenchmarkResults") -> str:
    """What each model learned from: a methods section must say that nothing was tuned on the test tracks."""
    fixed = results.protocol.get("kind") == "fixed"
    side = "the training side" if fixed else "the training side of each split"
    text = (
        f"Each model learns everything it chooses from data (scaling, inner-CV tuning, early stopping, calibration) "
        f"on {side} alone: the test tracks are used only to score it."
    )
    n_train_lists = sum(item.get("role") == "train" for item in results.protocol.get("lists") or [])
    if n_train_lists > 1:
        # A "valid" list among them is not a validation set here: a reader of GTZAN's lists would assume it is.
        text += (
            f" The tracks of the {n_train_lists} train lists form one training side: none of the lists is held out as "
            "a validation set (a model that tunes or stops early splits its training side itself)."
        )
    return text


def _untested(results: "BenchmarkResults", label: str) -> bool:
    """Whether no test track has this class, so that its recall and F1 do not exist."""
    return results.models[0].per_class.get(label, {}).get("support") == 0


def _table(header: Sequence[str], rows: list[list[str]], *, names: int) -> Block:
    """A table block whose first ``names`` columns hold names: left-aligned even when a name looks like a number."""
    numeric = numeric_columns(rows) or [False] * len(header)
    return Block("table", header=list(header), rows=rows, numeric=[n and i >= names for i, n in enumerate(numeric)])


def _params(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) if params else "defaults"


def _chosen(model: "ModelResult") -> str:
    """What a model's fits chose on their own, over the folds: ``best_params: C=10 (7), C=30 (3);
    best_epoch 41 (12–77)``; empty when its fits recorded nothing (older results, models without tuning)."""
    recorded = [f.details for f in model.folds if f.details]
    parts = []
    for key in dict.fromkeys(k for details in recorded for k in details):
        values = [details[key] for details in recorded if key in details]
        if all(isinstance(v, dict) for v in values):
            counts: dict[str, int] = {}
            for value in values:
                text = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(value.items()))
                counts[text] = counts.get(text, 0) + 1
            ranked = sorted(counts.items(), key=lambda item: -item[1])
            # How many fits chose each; a single fit (a fixed partition) needs no count.
            parts.append(f"{key}: " + "; ".join(f"{text} ({n})" if len(values) > 1 else text for text, n in ranked))
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            low, high = min(values), max(values)
            middle = float(statistics.median(values))
            parts.append(f"{key} {low:g}" if low == high else f"{key} {middle:g} ({low:g}–{high:g})")
    return "; ".join(parts)


_NUMBER = re.compile(r"^[+\-−]?\d+(\.\d+)?$|^–$|^n/a$")


def _looks_numeric(cell: str) -> bool:
    """``74.5 ± 2.2 %``, ``[71.7, 77.3]``, ``+1.7 points``, ``< 0.001``, ``–``, ``n/a`` all count as numbers."""
    tokens = [t for t in re.split(r"[\s,\[\]%±<]+", str(cell).replace("points", "")) if t]
    return bool(tokens) and all(_NUMBER.match(t) for t in tokens)


def numeric_columns(rows: Sequence[Sequence[str]]) -> list[bool]:
    """Which columns hold only numbers (right-aligned in both renderings)."""
    if not rows:
        return []
    width = max(len(r) for r in rows)
    return [all(i < len(r) and _looks_numeric(r[i]) for r in rows) for i in range(width)]

