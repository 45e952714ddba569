"""Write a benchmark's report: ``report.html``, ``report.md`` with its PNG plots, ``results.json``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from genre.atomic import atomic_write_bytes, atomic_write_text
from genre.errors import ParameterError
from genre.evaluation.results import BenchmarkResults
from genre.reports.content import build_document, plot_names
from genre.reports.html import render_html
from genre.reports.markdown import render_markdown
from genre.reports.plots import accuracy_png, confusion_png, per_class_f1_png

__all__ = ["ReportFiles", "render_report"]


@dataclass
class ReportFiles:
    """Paths of the files a report consists of."""

    html: Path
    markdown: Path
    json: Path
    plots: list[Path] = field(default_factory=list)

    @property
    def all(self) -> list[Path]:
        return [self.html, self.markdown, self.json, *self.plots]


def render_report(results: BenchmarkResults, out_dir: str | os.PathLike) -> ReportFiles:
    """Write the report files of ``results`` into ``out_dir`` (created if needed).

    Every file is written atomically, so an interrupted run never leaves half a report.
    Re-rendering the same results gives the same files.

    Parameters
    ----------
    results : BenchmarkResults
    out_dir : path-like
        Folder for ``report.html``, ``report.md``, ``results.json`` and the PNGs.

    Returns
    -------
    ReportFiles

    Raises
    ------
    ParameterError
        ``out_dir`` exists and is not a folder.
    genre.errors.OutputError
        ``out_dir`` is empty, or cannot be created or written.
    """
    from genre.atomic import check_output_folder, output_path

    # Checked as given: Path("") is the current folder, where the report would quietly land.
    out_dir = output_path(out_dir, what="the output folder name")
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"{out_dir}: exists and is not a folder; -o needs a folder for the report")
    if not results.models:
        raise ParameterError("the results hold no model; nothing to report")
    check_output_folder(out_dir)

    names = plot_names(results)
    images = {names["accuracy"]: accuracy_png(results), names["per_class_f1"]: per_class_f1_png(results)}
    for model in results.models:
        images[names[f"confusion:{model.name}"]] = confusion_png(model, results.labels)
    plots = []
    for name, data in images.items():
        atomic_write_bytes(out_dir / name, data)
        plots.append(out_dir / name)

    blocks = build_document(results)
    title = f"Genre benchmark: {results.dataset.get('name', '')}"
    markdown_path = out_dir / "report.md"
    html_path = out_dir / "report.html"
    atomic_write_text(markdown_path, render_markdown(blocks))
    atomic_write_text(html_path, render_html(blocks, images, title=title))
    json_path = results.save(out_dir / "results.json")
    return ReportFiles(html=html_path, markdown=markdown_path, json=json_path, plots=plots)
