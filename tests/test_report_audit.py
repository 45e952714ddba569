"""What a reviewer of an MIR paper checks in a benchmark report, for each protocol.

Each test pins a finding of an audit of the report: the numbers agree across report.md,
report.html and results.json; every figure is numbered, captioned and has alt text; the
confusion matrices say what they count and over which folds (with repeats every track is
counted once per repeat); a model keeps its colour in every plot; a fixed partition says
which tracks it left out and its test side's class sizes; a mean n_test/n_train is called a
mean; parallel timings are said to share the cores; and a re-render gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path

import pytest
from feature_tables import write_gtzan_table, write_list, write_own_table

from genre.evaluation import cross_validate_models
from genre.evaluation.results import BenchmarkResults
from genre.features.table import load_feature_table
from genre.reports import load_results, plots, render_report
from genre.reports.content import build_document, headline_header, pooled_counts
from genre.reports.markdown import render_markdown


@pytest.fixture(scope="module")
def kfold(tmp_path_factory) -> BenchmarkResults:
    path = write_gtzan_table(tmp_path_factory.mktemp("kfold") / "features_30_sec.csv", tracks_per_class=6)
    return cross_validate_models(load_feature_table(path), ["logreg", "knn"], folds=3, progress=False)


@pytest.fixture(scope="module")
def repeated(tmp_path_factory) -> BenchmarkResults:
    """Grouped (artist-disjoint) folds, two repeats, two segments per track."""
    path = write_own_table(tmp_path_factory.mktemp("rep") / "t.csv", tracks_per_class=6, segments=2, groups_per_class=3)
    return cross_validate_models(load_feature_table(path), ["logreg", "knn"], folds=3, repeats=2, progress=False)


@pytest.fixture(scope="module")
def fixed(tmp_path_factory) -> BenchmarkResults:
    """A partition whose lists leave 8 of the table's 24 tracks out, as GTZAN's filtered lists leave out 70."""
    folder = tmp_path_factory.mktemp("fixed")
    table = load_feature_table(write_gtzan_table(folder / "t.csv", tracks_per_class=6))
    genres = ("blues", "classical", "jazz", "metal")
    test = write_list(folder / "test.txt", [f"{g}/{g}.00000.wav" for g in genres])
    train = write_list(folder / "train.txt", [f"{g}/{g}.0000{i}.wav" for g in genres for i in (1, 2, 3)])
    return cross_validate_models(table, ["logreg", "knn"], train_lists=[train], test_list=test, progress=False)


def _markdown(results: BenchmarkResults) -> str:
    return render_markdown(build_document(results))


# -- numbers: the same in every file ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["kfold", "repeated", "fixed"])
def test_headline_numbers_agree_across_markdown_html_and_json(name, request, tmp_path):
    results = request.getfixturevalue(name)
    files = render_report(results, tmp_path / "out")
    data = json.loads(files.json.read_text(encoding="utf-8"))
    markdown = files.markdown.read_text(encoding="utf-8")
    page = files.html.read_text(encoding="utf-8")
    html_rows = [
        [html.unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", page.split("<h2>Results</h2>")[1].split("</table>")[0])
    ]
    for model in data["models"]:
        low, high = model["accuracy_ci95"]
        expected = [f"{model['accuracy'] * 100:.1f}", f"[{low * 100:.1f}, {high * 100:.1f}] %",
                    f"{model['balanced_accuracy'] * 100:.1f} %", f"{model['macro_f1'] * 100:.1f} %"]  # fmt: skip
        md_row = next(line for line in markdown.splitlines() if line.startswith(f"| {model['name']} | "))
        cells = [c.strip() for c in md_row.strip("|").split("|")]
        html_row = next(row for row in html_rows if row and row[0] == model["name"])
        for row in (cells, html_row):
            # No input column: every model reads the same table, which the report says once.
            assert row[1].startswith(expected[0]) and row[2:5] == expected[1:], (row, expected)
        # The headline accuracy is what the folds (or the single test set) say.
        assert model["accuracy"] == pytest.approx(sum(f["accuracy"] for f in model["folds"]) / len(model["folds"]))


def test_a_fixed_partition_header_promises_no_spread(fixed, kfold):
    assert "accuracy" in headline_header(fixed) and "accuracy ± std" not in headline_header(fixed)
    assert "accuracy ± std" in headline_header(kfold)  # the console table can use the same header


# -- figures: numbered, captioned, with alt text ------------------------------------------------------
def test_every_figure_is_numbered_captioned_and_has_alt_text(repeated, tmp_path):
    files = render_report(repeated, tmp_path / "out")
    markdown = files.markdown.read_text(encoding="utf-8").splitlines()
    images = [i for i, line in enumerate(markdown) if line.startswith("![")]
    assert len(images) == 2 + len(repeated.models)
    for n, i in enumerate(images, start=1):
        alt = re.match(r"!\[(.+)\]\(", markdown[i]).group(1)
        assert alt and not alt.startswith("Figure")  # says what the picture is; the caption says how to read it
        assert markdown[i + 1] == "" and markdown[i + 2].startswith(f"Figure {n}. ")  # a caption GitHub shows
    page = files.html.read_text(encoding="utf-8")
    figure = r'<figure><img alt="([^"]+)" src="data:image/png;base64,[^"]+"><figcaption>(.+?)</figcaption>'
    figures = re.findall(figure, page)
    assert [caption.split(".")[0] for _, caption in figures] == [f"Figure {n}" for n in range(1, len(images) + 1)]
    assert all(alt for alt, _ in figures)


def test_the_accuracy_caption_names_the_interval_and_the_chance_level(kfold, fixed):
    assert "the mean over the 3 fold accuracies; error bars: 95 % Student-t interval" in _markdown(kfold)
    assert "dashed line: chance, 1/4 (a uniform guess)" in _markdown(kfold)
    assert "accuracy of each model on the 4 test tracks; error bars: 95 % Wilson interval" in _markdown(fixed)


# -- confusion matrices: rows, counts or shares, and over which folds -----------------------------------
def test_confusion_matrices_say_what_they_count_for_each_protocol(kfold, repeated, fixed):
    assert pooled_counts(kfold) == "the test tracks of the 3 folds, summed (each of the 24 tracks counted once)"
    # Two repeats test every track twice: the counts add up to twice the tracks.
    assert pooled_counts(repeated) == (
        "the test tracks of the 6 folds of 2 repeats, summed (each of the 24 tracks counted 2 times: 48 predictions)"
    )
    assert sum(map(sum, repeated.models[0].confusion)) == 48
    assert pooled_counts(fixed) == "the 4 test tracks of the single partition"
    text = _markdown(repeated)
    assert "Rows are true labels, columns predicted labels. A matrix counts the track-level predictions on " in text
    assert "row-normalised, so the diagonal is each class's recall); the number in a cell is the count" in text
    assert "Confusion matrix of knn: rows are true labels, columns predicted labels; counts of the test tracks of " \
           "all 6 folds of 2 repeats, colour row-normalised" in text  # fmt: skip


def test_a_repeated_confusion_plot_title_says_each_track_is_counted_per_repeat(repeated):
    title = plots.confusion_title(repeated.models[0], repeats=2)
    assert "(counts summed over folds)\n2 repeats: each track counted 2 times" in title
    assert "\n" not in plots.confusion_title(repeated.models[0])  # one k-fold: each track once, as before


def test_results_without_splits_still_say_what_is_summed(kfold):
    old = dataclasses.replace(kfold, splits=[])
    assert pooled_counts(old) == "the test tracks of the 3 folds, summed"


# -- colours: one model, one colour ----------------------------------------------------------------------
def test_a_model_has_the_same_colour_in_the_accuracy_and_per_class_plots(kfold, monkeypatch):
    # Put the worse model first, so that rank order (accuracy plot) and table order (per-class plot) differ.
    worst_first = sorted(kfold.models, key=lambda m: m.accuracy)
    if worst_first[0].accuracy == worst_first[-1].accuracy:
        worst_first[0] = dataclasses.replace(worst_first[0], accuracy_ci95=(0.05, 0.15), summaries={
            **worst_first[0].summaries,
            "accuracy": dataclasses.replace(worst_first[0].summaries["accuracy"], mean=0.1),
        })  # fmt: skip
    results = dataclasses.replace(kfold, models=worst_first)
    figures = []
    monkeypatch.setattr(plots, "_encode", lambda figure: figures.append(figure) or b"")
    plots.accuracy_png(results)
    plots.per_class_f1_png(results)
    import matplotlib.colors

    bars, grouped = figures[0].axes[0], figures[1].axes[0]
    at = {round(tick.get_position()[1]): tick.get_text() for tick in bars.get_yticklabels()}
    accuracy_colour = {  # each bar's model is the tick label at its height
        at[round(patch.get_y() + patch.get_height() / 2)]: matplotlib.colors.to_hex(patch.get_facecolor())
        for patch in bars.patches
    }
    legend = grouped.get_legend()
    f1_colour = {
        text.get_text(): matplotlib.colors.to_hex(handle.get_facecolor())
        for text, handle in zip(legend.get_texts(), legend.legend_handles)
    }
    assert accuracy_colour == f1_colour == {k: v.lower() for k, v in plots.model_colours(results).items()}
    for figure in figures:
        plots._pyplot().close(figure)


def test_every_axis_is_labelled(kfold, monkeypatch):
    figures = []
    monkeypatch.setattr(plots, "_encode", lambda figure: figures.append(figure) or b"")
    plots.accuracy_png(kfold)
    plots.per_class_f1_png(kfold)
    plots.confusion_png(kfold.models[0], kfold.labels)
    labels = [(f.axes[0].get_xlabel(), f.axes[0].get_ylabel()) for f in figures]
    assert all(x and y for x, y in labels), labels
    assert labels[2] == ("predicted label", "true label")
    assert figures[2].axes[1].get_ylabel() == "% of the true class (row-normalised)"  # the colour bar
    for figure in figures:
        plots._pyplot().close(figure)


# -- methods text for each protocol ------------------------------------------------------------------------
def test_a_fixed_partition_says_which_tracks_it_left_out_and_its_test_class_sizes(fixed):
    text = _markdown(fixed)
    assert (
        "The partition trains on 12 tracks and tests on 4 tracks; the other 8 of the table's 24 tracks are in "
        "neither list and were not used." in text
    )
    assert "Support (true tracks of each class in that matrix): blues 1, classical 1, jazz 1, metal 1." in text
    assert "The mean of a column is the headline macro-F1." in text


def test_per_class_text_says_pooled_f1_is_not_the_headline_macro_f1(kfold):
    text = _markdown(kfold)
    assert "Each class's support (its true tracks in that matrix) is its track count given above." in text
    assert "the mean of a column can differ slightly from the headline macro-F1" in text


def test_repeated_grouped_cv_states_folds_repeats_and_what_the_interval_assumes(repeated):
    text = _markdown(repeated)
    assert "groups of column 'group'" in text
    assert "averaged over 6 folds (3 folds × 2 repeats); ± is the sample standard deviation over the 6 fold" in text
    assert "with Nadeau and Bengio's correction for overlapping training sets: the variance of the mean is (1/6 + " in text
    assert "(5 degrees of freedom, clipped to [0, 100])" in text and "treated as independent" not in text
    assert "column rRfF is fold F of repeat R" in text and "| r2f3 |" in text


def test_a_mean_test_train_ratio_is_called_a_mean_when_split_sizes_differ(repeated):
    assert "(the mean over the splits" not in _markdown(repeated)  # equal splits: the ratio is every split's
    first = dataclasses.replace(repeated.splits[0], n_train_tracks=15, n_test_tracks=9)
    uneven = dataclasses.replace(repeated, splits=[first, *repeated.splits[1:]])
    assert "n_test/n_train = 1/6 + 0.500 (the mean over the splits, whose sizes differ) instead of" in _markdown(uneven)


def test_parallel_timings_are_said_to_share_the_cores(kfold):
    parallel = dataclasses.replace(kfold, protocol={**kfold.protocol, "jobs": 2})
    sentence = "Fits that ran at the same time shared the cores, so each took longer than it would alone."
    assert sentence in _markdown(parallel) and sentence not in _markdown(kfold)


# -- re-rendering ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["repeated", "fixed"])
def test_genre_report_rerenders_every_file_byte_for_byte(name, request, tmp_path):
    first = render_report(request.getfixturevalue(name), tmp_path / "first")
    again = render_report(load_results(first.json), tmp_path / "again")
    for path in first.all:
        assert (tmp_path / "again" / path.name).read_bytes() == Path(path).read_bytes(), path.name
    assert len(again.all) == len(first.all)


def test_a_mcnemar_row_gives_both_discordant_counts_so_its_p_can_be_recomputed(fixed, tmp_path):
    from scipy.stats import binomtest

    (pair,) = fixed.pairwise
    assert pair.test == "mcnemar" and pair.statistic == pair.only_a - pair.only_b
    n = pair.only_a + pair.only_b
    expected = binomtest(pair.only_a, n, 0.5).pvalue if n else 1.0
    assert pair.p_value == pytest.approx(expected)
    assert f"| {pair.only_a} / {pair.only_b} |" in _markdown(fixed)
    # The counts survive results.json; a file of an older version, without them, still renders.
    render_report(fixed, tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    assert (data["pairwise"][0]["only_a"], data["pairwise"][0]["only_b"]) == (pair.only_a, pair.only_b)
    for record in data["pairwise"]:
        del record["only_a"], record["only_b"]
    (tmp_path / "results.json").write_text(json.dumps(data))
    assert "A-only − B-only tracks" in _markdown(load_results(tmp_path / "results.json"))
