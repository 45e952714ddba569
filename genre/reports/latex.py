"""Lay out a benchmark's tables as LaTeX (booktabs) for a paper: ``tables.tex`` beside the report.

The cells are those of the Markdown report (:mod:`genre.reports.content`), with the same
rounding: one source of numbers, so a paper's table never disagrees with the report it came
from. Labels and model names come from the user's data and are escaped; non-ASCII text is
kept as it is (the file is UTF-8).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Sequence

from genre.evaluation.results import same_every_fold
from genre.reports.content import (
    headline_header, headline_rows, holm_family, n_predictions, pairwise_header, pairwise_rows, per_class_rows,
    pooled_counts, ranked_models, ranked_pairs, report_title, shared_input,
)  # fmt: skip

if TYPE_CHECKING:
    from genre.evaluation.results import BenchmarkResults

__all__ = ["render_latex", "latex_escape", "LATEX_START", "TABLE_LABELS"]

#: The first bytes of every ``tables.tex`` this module writes: how a report folder tells it from a user's own.
LATEX_START = b"% Genre benchmark tables"
#: ``\label`` of each table: headline, per-class F1, pairwise tests.
TABLE_LABELS = ("tab:genre-results", "tab:genre-per-class-f1", "tab:genre-pairwise")

# LaTeX's special characters, and a few the default OT1 font encoding prints as something else
# (< as ¡, | as —) or that need math mode under pdflatex (±, ×, −, Δ, α).
_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"$<$", ">": r"$>$", "|": r"\textbar{}",
    "±": r"$\pm$", "×": r"$\times$", "−": r"$-$", "Δ": r"$\Delta$", "α": r"$\alpha$", "–": "--", "—": "---",
}  # fmt: skip
# A hyphen before a hyphen is split off: "--" in a label is two hyphens, not an en dash.
_ESCAPED = re.compile("|".join(map(re.escape, _SPECIAL)) + "|-(?=-)")


def latex_escape(text: object) -> str:
    """``text`` as LaTeX that prints exactly this text, on one line.

    Parameters
    ----------
    text : object
        Plain text (a label, a model name, a caption); its ``str`` is escaped.

    Returns
    -------
    str
        Every special character (``& % $ # _ { } ~ ^ \\``) escaped; ``< > |`` and the
        symbols the report uses (``± × − Δ α``, dashes) written so that pdflatex prints
        them in its default encoding; other non-ASCII characters unchanged.
    """
    line = " ".join(str(text).splitlines())  # a blank line would end the paragraph (or the table row)
    return _ESCAPED.sub(lambda m: _SPECIAL.get(m.group(0), "-{}"), line)


def render_latex(results: "BenchmarkResults") -> str:
    """The text of ``tables.tex``: the headline table, per-class F1 and (several models) the pairwise tests.

    Parameters
    ----------
    results : BenchmarkResults

    Returns
    -------
    text : str
        Tables to ``\\input{}``; they need ``\\usepackage{booktabs}`` and UTF-8 input. The
        same results always give the same text.
    """
    tables = [_headline(results), _per_class(results)]
    if results.pairwise:  # more than one model
        tables.append(_pairwise(results))
    elif len(results.models) > 1:
        tables.append("% These results hold no pairwise tests (a results file of another version).\n")
    labels = TABLE_LABELS[: 3 if results.pairwise else 2]
    return "\n".join([_preamble(results, labels=labels), *tables])


def _comment(text: str) -> str:
    return "% " + " ".join(text.splitlines())  # a line break would end the comment


def _preamble(results: "BenchmarkResults", *, labels: Sequence[str]) -> str:
    lines = [
        _comment(report_title(results).replace("Genre benchmark", LATEX_START.decode("ascii")[2:], 1)),
        "% Written by genre beside report.md, from the same numbers and with the same rounding (scores in %);",
        "% rewritten by: genre report results.json. Use with \\input{tables.tex}; labels: "
        + ", ".join(labels) + ".",
        "% Needs \\usepackage{booktabs} and UTF-8 input (the default since LaTeX 2018;",
        "% earlier: \\usepackage[utf8]{inputenc}).",
    ]  # fmt: skip
    if results.command:
        lines.append(_comment(f"Results of: {results.command}"))
    if results.created:
        lines.append(_comment(f"Created {results.created}."))
    return "\n".join(lines) + "\n"


def _table(
    *, caption: str, label: str, align: str, header: Sequence[str], rows: Sequence[Sequence[str]], narrow: bool = False
) -> str:
    """A booktabs table: ``header`` is LaTeX already; ``rows`` are LaTeX cells; ``caption`` is plain text.

    ``narrow`` halves the space between columns (``\\tabcolsep`` 3pt, inside the table only).
    """

    def line(cells: Sequence[str]) -> str:
        first = cells[0]
        # After \\ or a rule, a row's leading [ or * would be read as their optional argument.
        if first[:1] in ("[", "*"):
            first = "{" + first[0] + "}" + first[1:]
        return " & ".join([first, *cells[1:]]) + r" \\"

    body = [
        r"\begin{table}[htbp]",
        r"\centering",
        r"\small",  # six columns of a headline table fit an article's text width only in a smaller size
        *([r"\setlength{\tabcolsep}{3pt}"] if narrow else []),
        rf"\caption{{{latex_escape(caption)}}}",
        rf"\label{{{label}}}",
        rf"\begin{{tabular}}{{{align}}}",
        r"\toprule",
        line(header),
        r"\midrule",
        *(line(row) for row in rows),
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
    ]
    return "\n".join(body) + "\n"


def _headline(results: "BenchmarkResults") -> str:
    fixed = results.protocol.get("kind") == "fixed"
    header = headline_header(results)
    accuracy = next(name for name in header if name.startswith("accuracy"))  # "accuracy ± std" or "accuracy"
    columns = [header.index(name) for name in ("model", accuracy, "95 % CI", "balanced acc", "macro-F1", "fit s")]
    shown = [[row[i] for i in columns] for row in headline_rows(results)]
    # Bold: the best accuracy as shown (rounded), so that models the table shows as tied are all bold.
    means = [_float(row[1].removesuffix(" %").split(" ± ")[0]) for row in shown]
    top = max((m for m in means if m is not None), default=None)
    rows = []
    for row, mean in zip(shown, means):
        name, accuracy, interval, balanced, macro, fit = row
        value, _, spread = accuracy.removesuffix(" %").partition(" ± ")
        value = rf"\textbf{{{value}}}" if top is not None and mean == top else latex_escape(value)
        accuracy = value + (rf" $\pm$ {latex_escape(spread)}" if spread else "")
        cells = [interval.removesuffix(" %"), balanced.removesuffix(" %"), macro.removesuffix(" %"), fit]
        rows.append([latex_escape(name), accuracy, *(_number(cell) for cell in cells)])
    accuracy = "Accuracy" if fixed else r"Acc.\ $\pm$ SD"
    fit = "Fit (s)" if fixed else "Fit (s/fold)"
    # Short: the caption says the scores are in %, and six columns must fit an article's width.
    titles = ["Model", accuracy, r"95\,\% CI", r"Bal.\ acc.", "Macro-F1", fit]
    return _table(caption=_headline_caption(results), label=TABLE_LABELS[0], align="lrrrrr", header=titles, rows=rows)


def _headline_caption(results: "BenchmarkResults") -> str:
    """The protocol in one sentence: the splits, whether they keep groups apart, what ± and the CI are."""
    protocol = results.protocol
    name = results.dataset.get("name") or "the feature table"
    inputs = _inputs_sentence(results)
    if inputs:  # the models read several tables: the first alone is not what they were scored on
        others = [str(other.get("name")) for other in results.dataset.get("other_tables") or [] if other.get("name")]
        name = " and ".join([", ".join([name, *others[:-1]]), others[-1]]) if others else name
    group = protocol.get("group_column") or "group"
    if protocol.get("kind") == "fixed":
        train = f"{results.splits[0].n_train_tracks} training tracks, " if results.splits else ""
        test = f"{n_predictions(results.models[0])} test tracks"
        apart = f", no group of column `{group}' on both sides" if protocol.get("group_aware") else ""
        return (
            f"Track-level genre classification on {name} with a fixed train/test partition ({train}{test}{apart}): "
            "accuracy on the test tracks with its 95 % Wilson score interval; scores in %, fit time in wall seconds; "
            f"best accuracy in bold.{inputs}"
        )
    n = len(results.models[0].folds)
    folds, repeats = protocol.get("folds") or n, protocol.get("repeats") or 1
    layout = f"{folds}-fold cross-validation" + (f" × {repeats} repeats" if repeats > 1 else "")
    if protocol.get("group_aware"):
        split = f"over the groups of column `{group}' (group-aware: no group on both sides of a split)"
    else:
        split = "over tracks, not group-aware (one artist's tracks may fall on both sides of a split)"
    if protocol.get("ci") == "corrected":
        interval = (
            "the Student-t interval of the mean with the Nadeau–Bengio correction for overlapping training sets"
        )
    else:  # results written before the correction
        interval = "the Student-t interval of the mean, folds treated as independent"
    # A model whose folds all scored alike has the Wilson interval instead (the report's caveat
    # says so above its table; a paper's table has only its caption to say it).
    constant = [m.name for m in ranked_models(results) if same_every_fold(m.summaries["accuracy"])] if n > 1 else []
    if constant:
        shown = ", ".join(constant)
        interval += (
            f" (for {shown}, whose {n} fold accuracies were all equal, a t interval would have no width: "
            "the Wilson score interval of the tracks one repeat tests instead)"
        )
    return (
        f"Track-level genre classification on {name} with stratified {layout} {split}: accuracy is the mean ± sample "
        f"SD over the {n} fold accuracies and the 95 % CI {interval}; scores in %, fit time in mean wall seconds "
        f"per fold; best accuracy in bold.{inputs}"
    )


def _inputs_sentence(results: "BenchmarkResults") -> str:
    """`` Inputs: svm, xgboost: f.csv (handcrafted, 57 features); musicnn-svm: m.csv (musicnn, 200 features).``

    The report's headline has an input column when the models read different inputs; the
    paper's table has no room for one, so its caption must say which model read what.
    Empty when every model read the same input.
    """
    if shared_input(results) is not None:
        return ""
    readers: dict[str, list[str]] = {}
    for model in ranked_models(results):
        readers.setdefault(model.input or "not recorded", []).append(model.name)
    return " Inputs: " + "; ".join(f"{', '.join(names)}: {text}" for text, names in readers.items()) + "."


#: An article's text width, and a character of ``\small`` text at its widest on average (lower case
#: is 4.5 pt, digits 4.2): a per-class table estimated wider than the text sets its model names on
#: two lines, and then, if still too wide, its columns closer; pdflatex would warn of an overfull box.
_TEXT_WIDTH_PT = 345.0
_CHAR_PT = 4.5
_PADDING_PT = 12.0  # \tabcolsep (6 pt) on both sides of a column


def _estimated_width(columns: Sequence[Sequence[str]]) -> float:
    """Rough width in pt of a tabular whose columns hold these (plain-text) lines, header lines included."""
    return sum(_CHAR_PT * max(len(line) for line in column) + _PADDING_PT for column in columns)


def _stacked(name: str) -> list[str]:
    """A model name as lines broken after its hyphens: ``musicnn-logreg`` -> ``musicnn-``, ``logreg``."""
    return re.findall(r"[^-]*-+|[^-]+$", name) or [name]


def _header_cell(lines: Sequence[str]) -> str:
    """One header cell of LaTeX: a single escaped line, or the lines stacked, right-aligned, on the baseline."""
    if len(lines) == 1:
        return latex_escape(lines[0])
    return r"\begin{tabular}[b]{@{}r@{}}" + r" \\ ".join(latex_escape(line) for line in lines) + r"\end{tabular}"


def _per_class(results: "BenchmarkResults") -> str:
    table_rows = per_class_rows(results)
    names = [m.name for m in ranked_models(results)]  # the order of per_class_rows' columns
    numbers = [[row[i] for row in table_rows] for i in range(1, len(names) + 1)]
    first = ["Class", *(row[0] for row in table_rows)]

    def too_wide(lines: list[list[str]]) -> bool:
        return _estimated_width([first, *([*head, *cells] for head, cells in zip(lines, numbers))]) > _TEXT_WIDTH_PT

    lines = [[name] for name in names]
    # Six models such as musicnn-logreg and cnn-xgboost overflowed an article's width.
    wide = too_wide(lines)
    if wide:
        lines = [_stacked(name) for name in names]
    header = ["Class", *(_header_cell(cell) for cell in lines)]
    rows = [[latex_escape(row[0]), *(_number(cell) for cell in row[1:])] for row in table_rows]
    pooled = (
        f"on {pooled_counts(results)}"
        if results.protocol.get("kind") == "fixed"
        else f"on {pooled_counts(results, tracks=False)}, pooled (so a column's mean can differ slightly from the "
        "macro-F1 of the first table, a mean over folds)"
    )
    absent = "; n/a: no test tracks of that class" if any("n/a" in row for row in rows) else ""
    caption = f"Per-class F1 (%) of each model, from its track-level confusion matrix {pooled}{absent}."
    align = "l" + "r" * len(results.models)
    narrow = wide and too_wide(lines)  # a long class name too ("Old-Time / Historic" in FMA)
    return _table(caption=caption, label=TABLE_LABELS[1], align=align, header=header, rows=rows, narrow=narrow)


def _pairwise(results: "BenchmarkResults") -> str:
    header = pairwise_header(results)
    # The statistic (t, or McNemar's discordant counts) is the report's fourth column: with it a
    # reader can recompute each p, which a table of p-values alone does not allow.
    statistic = header[3]
    columns = [header.index(name) for name in ("model A", "model B", "Δ accuracy (A − B)", statistic, "p", "p (Holm)")]
    rows = []
    pairs = ranked_pairs(results)  # the order of pairwise_rows
    for test, row in zip(pairs, pairwise_rows(results)):
        a, b, difference, value, p, holm = (row[i] for i in columns)
        significant = ("yes" if test.significant else "no") if test.testable else "--"
        rows.append([latex_escape(a), latex_escape(b), _number(difference.removesuffix(" points")), _number(value),
                     _number(p), _number(holm), significant])  # fmt: skip
    alpha = f"{results.pairwise[0].alpha:g}"
    if results.pairwise[0].test == "mcnemar":
        test = f"two-sided exact McNemar test on the {n_predictions(results.models[0])} test tracks"
        if statistic.startswith("tracks only"):
            statistic_title, statistic_text = "Only A / B", "only A / B are the test tracks only A, and only B, classified right"
        else:  # older results: the difference of the two counts only
            statistic_title, statistic_text = "A $-$ B only", "A − B only is the number of tracks only A minus those only B classified right"
    else:
        statistic_title, statistic_text = "$t$", "t is the corrected t statistic"
        repeats = results.protocol.get("repeats") or 1
        pooled = f", the {repeats} repeats pooled" if repeats > 1 else ""
        test = f"two-sided Nadeau–Bengio corrected resampled t-test on the paired fold accuracies{pooled}"
    caption = (
        f"Pairwise comparison of the models ({test}): Δ is the accuracy of A minus that of B in percentage points "
        f"(pp); {statistic_text}; p-values are Holm-adjusted over {holm_family(results)}, and a difference is "
        f"significant when the adjusted p < {alpha}."
    )
    # What the report says in notes below its table, a paper's table must say in its caption.
    if any(not t.testable for t in pairs):
        caption += " –: not testable (the same difference in every fold, so the t-test has no variance)."
    weak = next((t for t in pairs if t.weak and t.testable), None)
    if weak is not None:
        caption += (
            f" With {round(weak.df) + 1} fold scores the t-test has {weak.df:.0f} degree of freedom: its p-values are "
            "unreliable."
        )
    # Short titles (the caption says what each is): with the statistic's column, long model
    # names (musicnn-logreg, random-forest) must still fit an article's text width.
    titles = ["Model A", "Model B", r"$\Delta$ (pp)", statistic_title, "$p$", r"$p$ (Holm)", "Signif."]
    return _table(caption=caption, label=TABLE_LABELS[2], align="llrrrrl", header=titles, rows=rows)


def _number(cell: str) -> str:
    """A numeric cell of the report in LaTeX: a minus sign, not a hyphen; ``< 0.001`` as ``$<$ 0.001``."""
    return "$-$" + latex_escape(cell[1:]) if cell.startswith("-") else latex_escape(cell)


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:  # "–": not measured
        return None
