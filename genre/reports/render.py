"""Write a benchmark's report: ``report.html``, ``report.md`` with its PNG plots, ``results.json``,
``predictions.csv`` (every test track's out-of-fold prediction) and ``tables.tex`` (the report's
tables in LaTeX, for a paper)."""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from genre.atomic import atomic_files, atomic_write_text
from genre.csvtext import frame_csv_text
from genre.errors import ParameterError
from genre.evaluation.results import BenchmarkResults
from genre.reports.content import build_document, plot_file_names, plot_names, ranked_models, report_title
from genre.reports.html import render_html
from genre.reports.latex import LATEX_START, render_latex
from genre.reports.markdown import render_markdown
from genre.reports.plots import PNG_SOFTWARE, accuracy_png, confusion_png, per_class_f1_png, undrawable

__all__ = ["ReportFiles", "check_report_folder", "render_report"]


@dataclass
class ReportFiles:
    """Paths of the files a report consists of."""

    html: Path
    markdown: Path
    json: Path
    plots: list[Path] = field(default_factory=list)
    predictions: Path | None = None
    latex: Path | None = None

    @property
    def all(self) -> list[Path]:
        optional = [path for path in (self.predictions, self.latex) if path is not None]
        return [self.html, self.markdown, self.json, *optional, *self.plots]


def render_report(results: BenchmarkResults, out_dir: str | os.PathLike) -> ReportFiles:
    """Write the report files of ``results`` into ``out_dir`` (created if needed).

    The files are written together: all of them replace the previous report, or (when
    interrupted, or the disk fills up) none does, so the folder never holds plots of one
    run beside the text of another. Re-rendering the same results gives the same files.
    Plots of a previous report in ``out_dir`` that this one does not have (a model no longer
    in the results) are then removed: those linked from the previous ``report.md`` under a
    plot name the renderer gives, never other files.

    Parameters
    ----------
    results : BenchmarkResults
    out_dir : path-like
        Folder for ``report.html``, ``report.md``, ``results.json``, the PNGs, ``tables.tex``
        (see :func:`genre.reports.latex.render_latex`) and ``predictions.csv`` (see
        :meth:`BenchmarkResults.track_predictions`; not written for results of versions that
        did not keep the probabilities, and then a previous one of ours in ``out_dir`` is
        removed, since it would belong to other results).

    Returns
    -------
    ReportFiles

    Raises
    ------
    ParameterError
        ``out_dir`` exists and is not a folder.
    genre.errors.OutputError
        ``out_dir`` is empty, or cannot be created or written, or holds a report file
        genre did not write (see :func:`check_report_folder`).
    """
    from genre.atomic import check_output_folder, output_path

    # Checked as given: Path("") is the current folder, where the report would quietly land.
    out_dir = output_path(out_dir, what="the output folder name", kind="folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"{out_dir}: exists and is not a folder; -o needs a folder for the report")
    if not results.models:
        raise ParameterError("the results hold no model; nothing to report")
    check_output_folder(out_dir)

    markdown_path = out_dir / "report.md"
    html_path = out_dir / "report.html"
    json_path = out_dir / "results.json"
    predictions_path = out_dir / PREDICTIONS_FILE
    latex_path = out_dir / LATEX_FILE
    # predictions.csv once it is known whether these results have any (below).
    check_report_folder(out_dir, predictions=False, models=[m.name for m in results.models])
    data = results.to_json()
    try:
        names = plot_names(results)
        images = {names["accuracy"]: accuracy_png(results), names["per_class_f1"]: per_class_f1_png(results)}
        repeats = results.protocol.get("repeats") or 1
        models = ranked_models(results)  # the report's order, in which its plots are listed too
        for model in models:
            images[names[f"confusion:{model.name}"]] = confusion_png(model, results.labels, repeats=repeats)
        names_drawn = [*results.labels, *(m.name for m in models)]
        blocks = build_document(results, undrawable=undrawable(names_drawn))
        markdown = render_markdown(blocks)
        page = render_html(blocks, images, title=report_title(results))
        tables = render_latex(results)
        predictions = results.track_predictions()
        table = None if predictions is None else frame_csv_text(predictions)
    except Exception as exc:
        # A benchmark may have run for hours: whatever broke the report, keep its results.
        with contextlib.suppress(Exception):
            atomic_write_text(json_path, data)
            exc.add_note(f"the results were saved to {json_path}; once fixed, re-render with: genre report {json_path}")
        raise
    if table is not None:
        check_report_folder(out_dir, models=[m.name for m in results.models])

    plots = [out_dir / name for name in images]
    previous = _previous_plots(markdown_path)
    with atomic_files() as open_file:
        for path, content in zip(plots, images.values()):
            open_file(path, "wb").write(content)  # atomic_files flushes, syncs and closes them
        texts = [(markdown_path, markdown), (html_path, page), (latex_path, tables), (json_path, data)]
        for path, text in texts + ([(predictions_path, table)] if table is not None else []):
            open_file(path, "w", encoding="utf-8", newline="").write(text)
    if table is None and _ours(predictions_path):
        with contextlib.suppress(OSError):  # another run's predictions, beside these results: misleading
            predictions_path.unlink()
    # Only once the new report is in place: a failed render leaves the old one whole.
    written = {path.name.lower(): path for path in plots}
    for name in (name for name in previous if name not in images):
        stale, twin = out_dir / name, written.get(name.lower())
        # The new report links none of these; one that cannot be removed stays, harmless.
        with contextlib.suppress(OSError):
            if twin is None or not stale.samefile(twin):  # same file on a case-insensitive disk: a new plot
                stale.unlink()
    return ReportFiles(
        html=html_path, markdown=markdown_path, json=json_path, plots=plots,
        predictions=predictions_path if table is not None else None, latex=latex_path,
    )  # fmt: skip


#: What the first KiB of each report file this renderer wrote holds (see :func:`_begins_with`).
_MARKDOWN_START = b"# Genre benchmark"
_HTML_TITLE = b"<title>Genre benchmark"
_JSON_START = b'"format": "genre-benchmark/'


def check_report_folder(out_dir: str | os.PathLike, *, predictions: bool = True, models: Sequence[str] = ()) -> None:
    """Refuse a folder whose ``report.md``, ``report.html``, ``results.json``, ``tables.tex``,
    ``predictions.csv`` or plots are not ours.

    A folder may hold a user's own ``report.md`` (a project's notes), ``tables.tex`` (a
    paper's), ``predictions.csv`` (of ``genre predict``) or ``accuracy.png``: only files this
    renderer wrote are replaced. ``genre benchmark`` checks this before its work, not after.

    Parameters
    ----------
    out_dir : path-like
    predictions : bool
        Whether a ``predictions.csv`` will be written and must be checked too (results of
        versions that kept no probabilities write none, and leave a file of that name alone).
    models : sequence of str
        The models of the report, whose plots' names (:func:`genre.reports.content.plot_file_names`)
        are checked too: a plot is ours when it carries genre's ``Software`` mark, or (written
        by a version that set none) when the folder's report links it.

    Raises
    ------
    genre.errors.OutputError
        One of them exists and was not written by a genre report.
    """
    from genre.atomic import check_replaceable, starts_with

    out_dir = Path(out_dir)
    for name, mark in (("report.md", _MARKDOWN_START), ("report.html", _HTML_TITLE), ("results.json", _JSON_START)):
        check_replaceable(
            out_dir / name, ours=lambda p, mark=mark: _begins_with(p, mark), what="a genre benchmark report file"
        )
    # These two by how they begin, not by a mark anywhere in their first KiB: a paper's own
    # tables.tex may quote ours, and a CSV's cells may hold any text.
    check_replaceable(
        out_dir / LATEX_FILE, ours=lambda p: starts_with(p, LATEX_START), what="a genre benchmark report file"
    )
    if predictions:
        check_replaceable(out_dir / PREDICTIONS_FILE, ours=_ours, what="a genre benchmark report file")
    linked = None  # read once, only when a plot's name is taken
    for name in plot_file_names(models).values():
        path = out_dir / name
        if path.exists() or path.is_symlink():
            if linked is None:
                linked = set(_previous_plots(out_dir / "report.md"))
            check_replaceable(
                path, ours=lambda p: _begins_with(p, _PNG_MARK, size=4096) or p.name in linked,
                what="a genre benchmark plot",
            )  # fmt: skip


#: The text chunk of genre's plots (see :data:`genre.reports.plots.PNG_SOFTWARE`), before their pixels.
_PNG_MARK = b"tEXtSoftware\x00" + PNG_SOFTWARE.encode("latin-1")


def _begins_with(path: Path, mark: bytes, *, size: int = 1024) -> bool:
    """Whether ``mark`` is in the first ``size`` bytes of ``path`` (``False`` when it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            return mark in handle.read(size)
    except OSError:
        return False


#: The out-of-fold predictions beside the report, and the start of their header (then
#: ``vote_predicted,prob_...``, or ``prob_...`` in files of versions that kept no votes).
PREDICTIONS_FILE = "predictions.csv"
_PREDICTIONS_HEADER = b"model,repeat,fold,track,label,predicted,"


def _ours(path: Path) -> bool:
    """Whether ``path`` is a predictions file a report wrote (not a user's file of that name)."""
    from genre.atomic import starts_with

    return path.is_file() and not path.is_symlink() and starts_with(path, _PREDICTIONS_HEADER)


#: The report's tables in LaTeX (see :mod:`genre.reports.latex`).
LATEX_FILE = "tables.tex"


#: Plot file names the renderer gives (see ``content.plot_names``): only such files are removed.
_PLOT_NAME = re.compile(r"(?:accuracy|per_class_f1|confusion_[A-Za-z0-9_.-]+)\.png")
#: A plot link as ``markdown.py`` writes it, alone on its line: ``![caption](name.png)``.
_PLOT_LINK = re.compile(r"^!\[.*\]\(([^()/\\\s]+)\)$")


def _previous_plots(markdown_path: Path) -> list[str]:
    """Plot files the report in ``markdown_path``'s folder wrote: linked from its report.md, with a plot's name.

    The previous ``report.md`` is the record of what the previous render wrote; a file a
    user put there is neither linked from it nor (usually) named like a plot, and must
    be both to be removed. Symbolic links are never removed.
    """
    try:
        lines = markdown_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):  # no previous report, or not one of ours
        return []
    if not lines or not lines[0].startswith("# Genre benchmark"):  # see content.report_title
        return []
    names = []
    for line in lines:
        link = _PLOT_LINK.match(line)
        if link and _PLOT_NAME.fullmatch(link.group(1)) and link.group(1) not in names:
            path = markdown_path.parent / link.group(1)
            if path.is_file() and not path.is_symlink():
                names.append(link.group(1))
    return names
