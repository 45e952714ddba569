"""Report figures as PNG bytes (matplotlib, Agg backend: no display needed).

Each function takes results and returns the encoded PNG, so the HTML report can embed
it as base64 and the Markdown report can save it beside itself.

Labels and model names come from the user's data, so every text goes through
:func:`plot_texts` first: ``$`` is escaped (matplotlib would read ``$...$`` as math, and
fail on a label such as ``$\\frac$``), labels longer than
:data:`~genre.reports.content.MAX_PLOT_LABEL` are shortened in the middle, and characters
no installed font can draw become ``\\uXXXX`` escapes instead of identical empty boxes.
Figures grow with the number of classes up to a size that still shows at a readable
scale when a page fits them to its width; beyond that, cells and fonts shrink instead.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np

from genre.reports.content import MAX_ANNOTATED_CLASSES, MAX_PLOT_LABEL, n_predictions, ranked_models

if TYPE_CHECKING:
    from genre.evaluation.results import BenchmarkResults, ModelResult

__all__ = [
    "accuracy_png", "confusion_layout", "confusion_png", "confusion_title", "model_colours", "per_class_f1_png",
    "plot_texts", "undrawable",
]  # fmt: skip

_DPI = 110
#: Colour-blind-safe palette (Okabe & Ito) for models.
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: Fonts tried, in this order, for characters DejaVu Sans lacks (CJK, Arabic, Hebrew, Indic,
#: Thai...); only the installed ones are used.
_FALLBACK_FONTS = (
    "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK KR", "Source Han Sans",
    "Source Han Sans JP", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "IPAGothic", "IPAexGothic", "TakaoGothic",
    "Droid Sans Fallback", "Arial Unicode MS", "Microsoft YaHei", "Yu Gothic", "MS Gothic", "Malgun Gothic",
    "PingFang SC", "Hiragino Sans", "Apple SD Gothic Neo", "Noto Sans", "Noto Sans Arabic", "Noto Sans Hebrew",
    "Noto Sans Devanagari", "Noto Sans Bengali", "Noto Sans Thai", "Noto Sans Symbols", "FreeSans",
)  # fmt: skip
#: Confusion matrix side (inches) beyond which cells shrink instead of the figure growing.
_MAX_MATRIX_INCHES = 10.0
#: Per-class F1 bars turn horizontal (one row per class) beyond this many classes.
_MAX_VERTICAL_CLASSES = 12


def _pyplot():
    import matplotlib

    # Agg renders to memory; set before pyplot is imported anywhere in this process.
    if matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


@functools.lru_cache(maxsize=None)
def _fonts() -> tuple[tuple[str, ...], frozenset[int]]:
    """Font families to draw with (DejaVu Sans, then installed fallbacks) and the code points they cover."""
    from matplotlib import font_manager, ft2font

    files: dict[str, str] = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.style == "normal":
            files.setdefault(entry.name, entry.fname)
    families = tuple(["DejaVu Sans"] + [name for name in _FALLBACK_FONTS if name in files])
    covered: set[int] = set()
    for name in families:
        path = files.get(name) or font_manager.findfont(name, fallback_to_default=True)
        try:
            covered.update(ft2font.FT2Font(path).get_charmap())
        except (OSError, RuntimeError, ValueError):  # an unreadable font file: it covers nothing
            continue
    return families, frozenset(covered)


def undrawable(texts: Sequence[str]) -> list[str]:
    """The ``texts`` with a character that no installed font can draw."""
    _, covered = _fonts()
    return [t for t in texts if any(ord(c) not in covered and not c.isspace() for c in str(t))]


def _drawable(text: str) -> str:
    _, covered = _fonts()
    out = []
    for c in text:
        if c.isspace():
            out.append(" ")  # a newline or tab in a label would break the tick layout
        elif ord(c) in covered:
            out.append(c)
        else:
            out.append(f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
    return "".join(out)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2 + (limit - 1) % 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]


def plot_texts(names: Sequence[str], *, limit: int = MAX_PLOT_LABEL) -> list[str]:
    """Labels or model names as matplotlib should draw them: literal, short, drawable and still distinct.

    Parameters
    ----------
    names : sequence of str
    limit : int
        Longest text kept whole; longer ones keep their start and end around "…".

    Returns
    -------
    texts : list of str
        One per name, all different when the names are.
    """
    texts = []
    used: set[str] = set()
    for name in names:
        base = _drawable(str(name))
        text, n = _shorten(base, limit), 2
        while text in used:  # two long names that differ only in the middle
            suffix = f" ({n})"
            text, n = _shorten(base, max(limit - len(suffix), 3)) + suffix, n + 1
        used.add(text)
        texts.append(text)
    # "$...$" is math to matplotlib (and a parse error for "$\frac$"); "\$" is a dollar sign.
    return [t.replace("$", r"\$") for t in texts]


@contextlib.contextmanager
def _style() -> Iterator[None]:
    """Fonts with fallbacks for non-Latin scripts, for the figure made and saved inside."""
    import matplotlib

    families, _ = _fonts()
    # Named families, not "sans-serif": matplotlib falls back glyph by glyph only along font.family.
    with matplotlib.rc_context({"font.family": list(families)}):
        yield


def _encode(figure) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    # Fixed metadata so that re-rendering the same results gives the same bytes; the mark
    # tells a report's own plot from a user's file of that name (see render.check_report_folder).
    figure.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight", metadata={"Software": PNG_SOFTWARE})
    plt.close(figure)
    return buffer.getvalue()


def model_colours(results: "BenchmarkResults") -> dict[str, str]:
    """Colour of each model, the same in every figure of a report.

    By the model's place in :func:`~genre.reports.content.ranked_models`, the order of
    every listing of the models (bars of the accuracy plot, legend of the per-class plot),
    so that the palette reads in that order in both.
    """
    return {model.name: _PALETTE[i % len(_PALETTE)] for i, model in enumerate(ranked_models(results))}


def accuracy_png(results: "BenchmarkResults") -> bytes:
    """Track-level accuracy per model, with 95 % interval error bars and the chance level."""
    plt = _pyplot()
    colour_of = model_colours(results)
    models = ranked_models(results)  # the order of the headline table
    names = plot_texts([m.name for m in models])
    means = np.array([m.accuracy for m in models]) * 100
    lows = np.array([m.accuracy_ci95[0] for m in models], dtype=float) * 100
    highs = np.array([m.accuracy_ci95[1] for m in models], dtype=float) * 100
    has_ci = np.isfinite(lows) & np.isfinite(highs)
    # Clipped at 0: an interval computed apart from the mean (Wilson) may miss it by a rounding.
    errors = np.maximum(np.vstack([np.where(has_ci, means - lows, 0), np.where(has_ci, highs - means, 0)]), 0)

    with _style():
        figure, axis = plt.subplots(figsize=(7.0, 0.55 * len(models) + 1.4))
        positions = np.arange(len(models))[::-1]  # first model on top
        colours = [colour_of[m.name] for m in models]
        axis.barh(positions, means, color=colours, height=0.6, xerr=errors, capsize=4, ecolor="#333333")
        for position, mean, high, ok in zip(positions, means, highs, has_ci):
            axis.text((high if ok else mean) + 1, position, f"{mean:.1f} %", va="center", fontsize=9)
        chance = 100 / max(len(results.labels), 1)
        axis.axvline(chance, color="#888888", linestyle="--", linewidth=1)
        # Which chance: a uniform guess over the classes (the caption says so too).
        axis.text(chance, len(models) - 0.45, f" chance (1/{len(results.labels)})", color="#666666", fontsize=8,
                  va="bottom")  # fmt: skip
        axis.set_yticks(positions, names)
        axis.set_xlim(0, 100)
        axis.set_ylim(-0.6, len(models) - 0.1)
        if results.protocol.get("kind") == "fixed":
            interval = "Wilson 95 % interval"
            n_test = n_predictions(models[0])
            title = f"Accuracy per model on {n_test} test tracks"
        else:
            corrected = results.protocol.get("ci") == "corrected"
            interval = "95 % corrected t-interval over folds" if corrected else "95 % t-interval over folds"
            title = f"Accuracy per model, mean over {len(models[0].folds)} folds"
            folds, repeats = results.protocol.get("folds"), results.protocol.get("repeats") or 1
            if folds and repeats > 1:  # "10 folds" of a 5-fold benchmark would read as 10-fold CV
                title += f" ({folds} folds × {repeats} repeats)"
        axis.set_xlabel(f"track-level accuracy (%), error bars: {interval}")
        axis.set_ylabel("model")
        axis.set_title(title, fontsize=11)
        axis.grid(axis="x", alpha=0.3)
        axis.spines[["top", "right"]].set_visible(False)
        return _encode(figure)


def confusion_layout(n_labels: int) -> dict[str, float]:
    """Sizes of a confusion heatmap of ``n_labels`` classes.

    Returns
    -------
    layout : dict
        ``side`` (inches of the matrix), ``cell`` (inches of one cell), ``tick_font`` and
        ``count_font`` (points). The matrix grows with the classes up to
        ``_MAX_MATRIX_INCHES``; past that cells shrink, and the tick labels with them, so
        labels never overlap (a font at most 60 % of the cell) and the figure still shows at
        a readable scale when a page fits it to its width.
    """
    n = max(n_labels, 1)
    side = min(max(0.55 * n, 3.0), _MAX_MATRIX_INCHES)
    cell = side / n
    return {
        "side": side,
        "cell": cell,
        "tick_font": float(np.clip(cell * 72 * 0.6, 4.0, 10.0)),
        "count_font": float(np.clip(cell * 72 * 0.35, 4.0, 8.0)),
    }


def confusion_png(model: "ModelResult", labels: list[str], *, repeats: int = 1) -> bytes:
    """Confusion heatmap of one model: colour = share of the true class, text = count.

    Parameters
    ----------
    model : ModelResult
    labels : list of str
        Class order of ``model.confusion`` (rows: true label, columns: predicted).
    repeats : int
        Repeats of the k-fold: each track is counted this many times, which the title says.

    Returns
    -------
    png : bytes
    """
    plt = _pyplot()
    counts = np.asarray(model.confusion, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    layout = confusion_layout(len(labels))
    texts = plot_texts(labels)
    with _style():
        # Room around the matrix for tick labels (kept by bbox_inches="tight") and the colour bar.
        figure, axis = plt.subplots(figsize=(layout["side"] + 2.5, layout["side"] + 1.2))
        image = axis.imshow(shares * 100, cmap="Blues", vmin=0, vmax=100)
        ticks = np.arange(len(labels))
        axis.set_xticks(ticks, texts, rotation=45, ha="right", rotation_mode="anchor", fontsize=layout["tick_font"])
        axis.set_yticks(ticks, texts, fontsize=layout["tick_font"])
        axis.set_xlabel("predicted label")
        axis.set_ylabel("true label")
        if len(labels) <= MAX_ANNOTATED_CLASSES:
            for i in range(len(labels)):
                for j in range(len(labels)):
                    if counts[i, j]:
                        axis.text(
                            j, i, f"{int(counts[i, j])}", ha="center", va="center", fontsize=layout["count_font"],
                            color="white" if shares[i, j] > 0.55 else "#222222",
                        )  # fmt: skip
        colorbar = figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04)
        colorbar.set_label("% of the true class (row-normalised)")
        axis.set_title(confusion_title(model, repeats=repeats), fontsize=10)
        return _encode(figure)


def confusion_title(model: "ModelResult", *, repeats: int = 1) -> str:
    """Title of a confusion heatmap.

    With folds, the headline accuracy is the mean of the fold accuracies, which differs from
    the share of the summed matrix's diagonal when folds differ in size (groups): the
    title says which one it shows. With repeats every track is counted once per repeat,
    which the title says too (the counts add up to that many times the tracks).

    Parameters
    ----------
    model : ModelResult
    repeats : int
        Repeats of the k-fold the folds come from.

    Returns
    -------
    title : str
    """
    name = plot_texts([model.name])[0]
    accuracy = model.accuracy * 100
    if len(model.folds) > 1:
        title = f"{name}: mean accuracy over {len(model.folds)} folds {accuracy:.1f} % (counts summed over folds)"
        if repeats > 1:
            title += f"\n{repeats} repeats: each track counted {repeats} times"
        return title
    return f"{name}: accuracy {accuracy:.1f} %"


#: The ``Software`` text chunk of every plot genre writes.
PNG_SOFTWARE = "genre benchmark report"


def per_class_f1_png(results: "BenchmarkResults") -> bytes:
    """F1 per class, one bar per model in each class group.

    Up to ``_MAX_VERTICAL_CLASSES`` classes the groups stand side by side; with more, each
    class is a row (the figure grows in height, which a page scrolls, instead of in width,
    which a page shrinks until the labels cannot be read).
    """
    plt = _pyplot()
    labels = plot_texts(results.labels)
    models = ranked_models(results)  # the order of the per-class table's columns
    model_names = plot_texts([m.name for m in models])
    colour_of = model_colours(results)
    width = 0.8 / max(len(models), 1)
    centres = np.arange(len(labels))
    vertical = len(labels) <= _MAX_VERTICAL_CLASSES
    with _style():
        if vertical:
            size = (min(max(6.0, 0.3 * len(labels) * max(len(models), 2) + 2), 16.0), 3.8)
        else:
            size = (7.5, max(4.0, len(labels) * (0.12 * len(models) + 0.2) + 1.2))
        figure, axis = plt.subplots(figsize=size)
        for k, model in enumerate(models):
            # None: a class without test tracks has no F1 (n/a), and no bar.
            scores = [model.per_class.get(label, {}).get("f1") for label in results.labels]
            values = [math.nan if f1 is None else 100 * f1 for f1 in scores]
            offsets = centres - 0.4 + width * (k + 0.5)
            colour = colour_of[model.name]
            if vertical:
                axis.bar(offsets, values, width=width * 0.95, label=model_names[k], color=colour)
            else:
                axis.barh(offsets, values, height=width * 0.95, label=model_names[k], color=colour)
        if vertical:
            tilted = len(labels) > 6
            axis.set_xticks(centres, labels, rotation=30 if tilted else 0, ha="right" if tilted else "center",
                            rotation_mode="anchor")  # fmt: skip
            axis.set_xlim(-0.6, len(labels) - 0.4)
            axis.set_ylim(0, 100)
            axis.set_ylabel("F1 (%, track level)")
            axis.set_xlabel("class")
            axis.grid(axis="y", alpha=0.3)
        else:
            axis.set_yticks(centres, labels)
            axis.set_ylim(len(labels) - 0.5, -0.5)  # first class on top, as in the table
            axis.set_xlim(0, 100)
            axis.set_xlabel("F1 (%, track level)")
            axis.set_ylabel("class")
            axis.grid(axis="x", alpha=0.3)
            axis.xaxis.set_ticks_position("both")  # an axis at the top too: the figure is tall
            axis.tick_params(axis="x", labeltop=True)
        axis.set_title("Per-class F1", fontsize=11, pad=6 if vertical else 22)  # clear of the top tick labels
        axis.spines[["top", "right"]].set_visible(False)
        axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        return _encode(figure)
