"""Reports under the labels, class counts and results files a research group actually has.

Each test pins a fix: labels that are Markdown or matplotlib markup, many classes and long
labels in the plots, characters no font can draw, numeric labels, what the methods section
says, results of another version, and reports written all together or not at all.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import warnings
from pathlib import Path

import pytest
from feature_tables import write_gtzan_table, write_list, write_own_table

from genre.evaluation import cross_validate_models
from genre.evaluation.results import BenchmarkResults
from genre.features.table import load_feature_table
from genre.reports import load_results, render_report
from genre.reports import content, plots
from genre.reports.content import build_document, plot_names
from genre.reports.markdown import render_markdown

NASTY = (
    "<script>alert(1)</script>", "R&B", "&amp;", "a|b", "*bold*", "_under_", "`tick`", "#hash", "1. first",
    "- dash", "[link](http://evil)", "$\\frac$", "~~gone~~", "back\\slash", "café", "x" * 90,
)  # fmt: skip


def _results(tmp_path: Path, labels, *, models=("logreg", "knn"), tracks=4, folds=2, **kwargs) -> BenchmarkResults:
    path = write_own_table(tmp_path / "t.csv", labels=tuple(labels), tracks_per_class=tracks, segments=1, sidecar=False)
    return cross_validate_models(load_feature_table(path), list(models), folds=folds, progress=False, **kwargs)


@pytest.fixture(scope="module")
def nasty(tmp_path_factory) -> BenchmarkResults:
    return _results(tmp_path_factory.mktemp("nasty"), NASTY)


@pytest.fixture(scope="module")
def nasty_report(nasty, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nasty-report")
    render_report(nasty, out)  # "$\frac$" was a matplotlib math parse error: no report at all
    return out


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> BenchmarkResults:
    labels = [f"subgenre_{i:02d}" for i in range(40)]
    return _results(tmp_path_factory.mktemp("many"), labels, models=("knn",), tracks=3, folds=3)


def _github_markdown():
    markdown_it = pytest.importorskip("markdown_it")
    parser = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
    parser.options["html"] = True  # GitHub passes (sanitised) raw HTML through
    return parser


# -- Markdown: labels are text, never markup ------------------------------------------------------
def test_markdown_shows_every_label_literally(nasty, nasty_report):
    page = _github_markdown().render((nasty_report / "report.md").read_text(encoding="utf-8"))
    assert "<script" not in page and "<em>" not in page and "<a " not in page and "<s>" not in page
    assert "<code>" not in page.split("Reproduce")[0]  # only the command is code
    section = page.split("Per-class F1</h2>")[1]
    cells = [html.unescape(c) for c in re.findall(r"<tr>\s*<td>(.*?)</td>", section, re.S)]
    assert cells[: len(NASTY)] == nasty.labels and sorted(nasty.labels) == sorted(NASTY)
    # The table kept its three columns in every row: no pipe ended a cell early.
    assert all(row.count("<td") == 3 for row in re.findall(r"<tr>(.*?)</tr>", section.split("</table>")[0], re.S)[1:])
    paragraph = html.unescape(re.sub(r"<[^>]+>", "", page.split("<h2>Results</h2>")[0]))
    assert all(label in paragraph for label in NASTY)


def test_html_escapes_labels_and_scrolls_wide_tables(nasty_report):
    page = (nasty_report / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<div class="scroll"><table>' in page  # a 90-character label widens the table, not the page


def test_numeric_labels_stay_left_aligned(tmp_path):
    results = _results(tmp_path, ("1", "2", "10"), models=("knn",), tracks=6)
    text = render_report(results, tmp_path / "out").markdown.read_text(encoding="utf-8")
    table = text.split("| label | knn |\n")[1]
    assert table.startswith("| --- | ---: |")  # a label column, not a number column
    html_page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<td>10</td>" in html_page


# -- plots ----------------------------------------------------------------------------------------
def _png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_plot_texts_are_literal_short_distinct_and_drawable():
    long_a, long_b = "x" * 60 + "a", "x" * 60 + "b"
    same_ends = "y" * 20 + "1" + "y" * 20, "y" * 20 + "2" + "y" * 20
    texts = plots.plot_texts(["$\\frac$", long_a, long_b, *same_ends, "\ue000 private"])
    assert texts[0] == "\\$\\frac\\$"  # a dollar sign, not math
    assert all(len(t) <= 28 for t in texts[1:5]) and len(set(texts)) == len(texts)
    assert texts[1].endswith("a") and texts[2].endswith("b") and "…" in texts[1]
    assert texts[5] == "\\ue000 private"  # no font has it: a code point, not an empty box


def test_undrawable_characters_give_no_glyph_warnings(nasty, tmp_path):
    model = nasty.models[0]
    labels = list(nasty.labels)
    labels[0] = "\ue000\ue001"  # private use: no font draws these
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.confusion_png(model, labels)
    assert not [w for w in caught if "missing from font" in str(w.message)]
    results = dataclasses.replace(nasty, labels=labels)
    text = render_markdown(build_document(results, undrawable=[labels[0]]))
    assert "No installed font can draw some characters of" in text


def test_glyphs_missing_from_dejavu_come_from_an_installed_fallback_font(nasty, monkeypatch):
    # STIX ships with matplotlib and has the circled letters DejaVu Sans lacks; it stands in here
    # for a CJK font (Noto Sans CJK...) that a test machine may not have.
    monkeypatch.setattr(plots, "_FALLBACK_FONTS", ("STIXGeneral",))
    plots._fonts.cache_clear()
    try:
        label = "\u24b6\u24b7 circled"
        assert plots.plot_texts([label]) == [label] and not plots.undrawable([label])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            plots.confusion_png(nasty.models[0], [label, *nasty.labels[1:]])
        assert not [w for w in caught if "missing from font" in str(w.message)]  # drawn, not empty boxes
    finally:
        monkeypatch.undo()
        plots._fonts.cache_clear()


def test_long_labels_do_not_blow_up_the_confusion_matrix(nasty):
    short = [label if len(label) < 90 else "x" * 10 for label in nasty.labels]
    width, height = _png_size(plots.confusion_png(nasty.models[0], nasty.labels))
    short_width, short_height = _png_size(plots.confusion_png(nasty.models[0], short))
    # A 90-character tick label made the figure some 600 px wider and taller than a 10-character one.
    assert width - short_width < 200 and height - short_height < 200


def test_confusion_title_names_the_accuracy_it_shows(nasty):
    model = nasty.models[0]
    title = plots.confusion_title(model)
    assert title.startswith(f"{model.name}: mean accuracy over 2 folds {model.accuracy * 100:.1f} %")
    single = dataclasses.replace(model, name="$x$", folds=model.folds[:1])
    assert plots.confusion_title(single) == f"\\$x\\$: accuracy {model.accuracy * 100:.1f} %"


def test_many_classes_confusion_matrix_stays_readable(many):
    layout = plots.confusion_layout(40)
    assert layout["side"] <= 10 and layout["tick_font"] <= 0.6 * layout["cell"] * 72  # labels cannot overlap
    width, _ = _png_size(plots.confusion_png(many.models[0], many.labels))
    assert width < 1600  # was 2370 px, shrunk to unreadable text when a page fits it to its width
    small = plots.confusion_layout(10)
    assert small["tick_font"] == 10 and small["side"] == pytest.approx(5.5)  # small matrices as before


def test_many_classes_per_class_plot_grows_down_not_sideways(many, tmp_path):
    files = render_report(many, tmp_path / "out")
    width, height = _png_size((tmp_path / "out" / "per_class_f1.png").read_bytes())
    assert width < 1100 and height > width  # was 2383 x 451 px
    text = files.markdown.read_text(encoding="utf-8")
    assert f"With more than {content.MAX_ANNOTATED_CLASSES} classes the counts are not printed" in text
    assert "text the count" not in text


# -- the methods section ----------------------------------------------------------------------------
def test_repeated_cv_report_states_splits_interval_test_and_references(tmp_path):
    path = write_own_table(tmp_path / "t.csv", tracks_per_class=6, segments=2)
    table = load_feature_table(path)
    results = cross_validate_models(table, ["logreg", "knn"], folds=3, repeats=2, progress=False)
    text = render_report(results, tmp_path / "out").markdown.read_text(encoding="utf-8")
    splits = "Each of the 6 splits (3 folds × 2 repeats) trains on 16 tracks and tests on 8 tracks (32 and 16 rows)"
    assert splits in text
    assert "the 95 % CI is the Student-t interval of their mean with Nadeau and Bengio's correction" in text
    assert "± is the sample standard deviation over the 6 fold accuracies" in text
    assert "Two-sided Nadeau–Bengio corrected resampled t-test (Nadeau & Bengio 2003)" in text
    assert "1/6 + n_test/n_train = 1/6 + 0.500" in text
    assert "pooled in one test, as in the corrected repeated k-fold cross-validation test (Bouckaert & Frank 2004)" in (
        text
    )
    assert "(one fit at a time)" in text
    assert "Feature extraction settings: sr=22050, segment_seconds=3.0." in text
    references = text.split("## References")[1]
    assert "Nadeau, C. & Bengio, Y. (2003)" in references and "Holm, S. (1979)" in references
    assert "Wilson" not in references  # only what the report uses


def test_fixed_partition_report_states_sizes_and_the_wilson_interval(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=6))
    test = write_list(tmp_path / "test.txt", [f"{g}/{g}.0000{i}.wav" for g in ("blues", "jazz") for i in (0, 1)])
    results = cross_validate_models(table, ["logreg", "knn"], test_list=test, progress=False)
    text = render_report(results, tmp_path / "out").markdown.read_text(encoding="utf-8")
    assert "The partition trains on 20 tracks and tests on 4 tracks." in text
    assert "the 95 % CI is the Wilson score interval (Wilson 1927) of accuracy over those 4 tracks" in text
    assert "| model | accuracy | 95 % CI |" in text  # no "± std" over a single test set (nor input: one for all)
    assert "Two-sided exact (binomial) McNemar test (McNemar 1947)" in text
    assert "McNemar, Q. (1947)" in text and "Nadeau, C." not in text


def test_a_difference_that_rounds_to_zero_has_no_minus_sign(nasty):
    pair = dataclasses.replace(nasty.pairwise[0], statistic=-1e-17, difference=-1e-18)
    text = render_markdown(build_document(dataclasses.replace(nasty, pairwise=[pair])))
    assert "| +0.0 points | +0.00 |" in text  # was "+0.0 points | -0.00"


# -- results of another version, and how the files are written ---------------------------------------
def test_results_without_optional_fields_render_without_none_or_nan(nasty, tmp_path):
    data = nasty.to_dict()
    minimal = {k: data[k] for k in ("format", "labels", "models")} | {"dataset": {}, "protocol": {}}
    for model in minimal["models"]:
        for key in ("input", "description", "params"):
            model.pop(key)
    (tmp_path / "old.json").write_text(json.dumps(minimal), encoding="utf-8")
    text = render_report(load_results(tmp_path / "old.json"), tmp_path / "out").markdown.read_text(encoding="utf-8")
    words = set(re.findall(r"[A-Za-z]+", text))
    assert not {"None", "nan", "NaN"} & words and "(?)" not in text and "Seed" not in text
    assert "# Genre benchmark: features\n" in text and "| logreg | – |" in text
    assert "These results hold no pairwise tests" in text  # not "only one model was evaluated"
    assert "Created at an unknown time." in text


def test_plot_file_names_differ_in_more_than_case(nasty):
    models = [dataclasses.replace(nasty.models[0], name="SVM"), dataclasses.replace(nasty.models[1], name="svm")]
    names = plot_names(dataclasses.replace(nasty, models=models))
    assert names["confusion:SVM"].lower() != names["confusion:svm"].lower()  # one file on macOS / Windows


def test_a_report_is_replaced_all_together_or_not_at_all(nasty, tmp_path, monkeypatch):
    out = tmp_path / "out"
    render_report(nasty, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    newer = dataclasses.replace(nasty, command="genre benchmark other.csv")
    # The last file written fails (a lone surrogate cannot be encoded, as a full disk cannot be written).
    monkeypatch.setattr(BenchmarkResults, "to_json", lambda self: '{"command": "\ud800"}')
    with pytest.raises(UnicodeEncodeError):
        render_report(newer, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # was: new plots and text, old results.json


def test_a_failing_plot_still_saves_the_results(nasty, tmp_path, monkeypatch):
    import genre.reports.render as render

    def broken(*args, **kwargs):
        raise RuntimeError("plotting bug")

    monkeypatch.setattr(render, "confusion_png", broken)
    with pytest.raises(RuntimeError, match="plotting bug") as caught:
        render_report(nasty, tmp_path / "out")
    assert load_results(tmp_path / "out" / "results.json").to_dict() == nasty.to_dict()
    assert "genre report" in " ".join(getattr(caught.value, "__notes__", []))
    assert not (tmp_path / "out" / "report.md").exists()
