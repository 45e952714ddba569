"""Report figures as PNG bytes (matplotlib, Agg backend: no display needed).

Each function takes results and returns the encoded PNG, so the HTML report can embed
it as base64 and the Markdown report can save it beside itself.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from genre.evaluation.results import BenchmarkResults, ModelResult

__all__ = ["accuracy_png", "confusion_png", "per_class_f1_png"]

_DPI = 110
#: Colour-blind-safe palette (Okabe & Ito) for models.
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def _pyplot():
    import matplotlib

    # Agg renders to memory; set before pyplot is imported anywhere in this process.
    if matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _encode(figure) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    # Fixed metadata so that re-rendering the same results gives the same bytes.
    figure.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def accuracy_png(results: "BenchmarkResults") -> bytes:
    """Track-level accuracy per model, with 95 % interval error bars and the chance level."""
    plt = _pyplot()
    models = sorted(results.models, key=lambda m: -m.accuracy)  # same order as the headline table
    names = [m.name for m in models]
    means = np.array([m.accuracy for m in models]) * 100
    lows = np.array([m.accuracy_ci95[0] for m in models], dtype=float) * 100
    highs = np.array([m.accuracy_ci95[1] for m in models], dtype=float) * 100
    has_ci = np.isfinite(lows) & np.isfinite(highs)
    errors = np.vstack([np.where(has_ci, means - lows, 0), np.where(has_ci, highs - means, 0)])

    figure, axis = plt.subplots(figsize=(7.0, 0.55 * len(models) + 1.4))
    positions = np.arange(len(models))[::-1]  # first model on top
    colours = [_PALETTE[i % len(_PALETTE)] for i in range(len(models))]
    axis.barh(positions, means, color=colours, height=0.6, xerr=errors, capsize=4, ecolor="#333333")
    for position, mean, high, ok in zip(positions, means, highs, has_ci):
        axis.text((high if ok else mean) + 1, position, f"{mean:.1f} %", va="center", fontsize=9)
    chance = 100 / max(len(results.labels), 1)
    axis.axvline(chance, color="#888888", linestyle="--", linewidth=1)
    axis.text(chance, len(models) - 0.45, " chance", color="#666666", fontsize=8, va="bottom")
    axis.set_yticks(positions, names)
    axis.set_xlim(0, 100)
    axis.set_ylim(-0.6, len(models) - 0.1)
    interval = "Wilson 95 % interval" if results.protocol.get("kind") == "fixed" else "95 % t-interval over folds"
    axis.set_xlabel(f"track-level accuracy (%), error bars: {interval}")
    axis.set_title("Accuracy per model", fontsize=11)
    axis.grid(axis="x", alpha=0.3)
    axis.spines[["top", "right"]].set_visible(False)
    return _encode(figure)


def confusion_png(model: "ModelResult", labels: list[str]) -> bytes:
    """Confusion heatmap of one model: colour = share of the true class, text = count."""
    plt = _pyplot()
    counts = np.asarray(model.confusion, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    size = max(4.5, 0.55 * len(labels) + 2.0)
    figure, axis = plt.subplots(figsize=(size + 1.0, size))
    image = axis.imshow(shares * 100, cmap="Blues", vmin=0, vmax=100)
    ticks = np.arange(len(labels))
    axis.set_xticks(ticks, labels, rotation=45, ha="right")
    axis.set_yticks(ticks, labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    if len(labels) <= 25:
        for i in range(len(labels)):
            for j in range(len(labels)):
                if counts[i, j]:
                    axis.text(
                        j, i, f"{int(counts[i, j])}", ha="center", va="center", fontsize=8,
                        color="white" if shares[i, j] > 0.55 else "#222222",
                    )  # fmt: skip
    colorbar = figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04)
    colorbar.set_label("% of the true class")
    accuracy = model.accuracy * 100
    pooled = " (counts summed over folds)" if len(model.folds) > 1 else ""
    axis.set_title(f"{model.name}: accuracy {accuracy:.1f} %{pooled}", fontsize=10)
    return _encode(figure)


def per_class_f1_png(results: "BenchmarkResults") -> bytes:
    """F1 per class, one bar per model in each class group."""
    plt = _pyplot()
    labels = results.labels
    models = results.models
    width = 0.8 / max(len(models), 1)
    figure, axis = plt.subplots(figsize=(max(6.0, 0.5 * len(labels) * max(len(models), 2) * 0.6 + 2), 3.8))
    centres = np.arange(len(labels))
    for k, model in enumerate(models):
        values = [model.per_class.get(label, {}).get("f1", math.nan) for label in labels]
        offsets = centres - 0.4 + width * (k + 0.5)
        axis.bar(offsets, values, width=width * 0.95, label=model.name, color=_PALETTE[k % len(_PALETTE)])
    axis.set_xticks(centres, labels, rotation=30 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center")
    axis.set_ylim(0, 1.0)
    axis.set_ylabel("F1 (track level)")
    axis.set_title("Per-class F1", fontsize=11)
    axis.grid(axis="y", alpha=0.3)
    axis.spines[["top", "right"]].set_visible(False)
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _encode(figure)
