"""Report audit (December 4th): what a reviewer of an MIR paper reads off the report and tables.tex.

- A p-value near alpha is shown with enough decimals that the number agrees with its verdict
  (GTZAN, 10-fold CV: p(Holm) = 0.0504 was shown as 0.050 beside "not significant").
- tables.tex names every input when the models read different tables (the report's headline
  has an input column; the paper's table had only "on features.csv" in its caption).
- A Holm family of one pair says that nothing was adjusted.
- The accuracy plot of repeated k-fold says how its "10 folds" are made (5 folds × 2 repeats).
"""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import matplotlib.axes
import pytest
from feature_tables import write_gtzan_table, write_own_table
from test_multi_input import write_musicnn_table
from typer.testing import CliRunner

from genre.cli import app
from genre.evaluation import cross_validate_models
from genre.evaluation.results import BenchmarkResults
from genre.features.table import load_feature_table
from genre.reports.content import build_document, pairwise_rows, ranked_pairs
from genre.reports.latex import render_latex
from genre.reports.plots import accuracy_png

def _text(results: BenchmarkResults) -> str:
    return " ".join(" ".join(block.text.split()) for block in build_document(results))


@pytest.fixture(scope="module")
def three_models(tmp_path_factory) -> BenchmarkResults:
    table = load_feature_table(write_gtzan_table(tmp_path_factory.mktemp("t") / "t.csv", tracks_per_class=6))
    return cross_validate_models(table, ["lda", "logreg", "knn"], folds=3, progress=False)


def _with_p(results: BenchmarkResults, *, p: float, significant: bool) -> BenchmarkResults:
    first = dataclasses.replace(results.pairwise[0], p_value=p / 3, p_holm=p, significant=significant)
    return dataclasses.replace(results, pairwise=[first, *results.pairwise[1:]])


@pytest.mark.parametrize(
    ("p", "significant", "shown"),
    [
        (0.0496, True, "0.0496"),  # three decimals, 0.050, would contradict "significant" at 0.05
        (0.0504, False, "0.0504"),  # 0.050 "not significant": which side of 0.05?
        (0.049972, True, "0.04997"),  # needs a fifth decimal
        (0.0437, True, "0.044"),  # far enough from alpha: three decimals as before
    ],
)
def test_a_p_value_near_alpha_is_shown_on_its_side_of_alpha(three_models, p, significant, shown):
    results = _with_p(three_models, p=p, significant=significant)
    edited = results.pairwise[0]
    row = next(row for test, row in zip(ranked_pairs(results), pairwise_rows(results))
               if {test.model_a, test.model_b} == {edited.model_a, edited.model_b})  # fmt: skip
    assert row[5] == shown
    # The paper's table takes the same cell.
    pairwise_table = render_latex(results).split(r"\label{tab:genre-pairwise}", 1)[1]
    assert f"& {shown} & {'yes' if significant else 'no'} \\\\" in pairwise_table


def test_the_console_shows_a_p_value_near_alpha_as_the_report_does(three_models, capsys):
    from genre.cli import _print_results

    results = _with_p(three_models, p=0.049964, significant=True)
    files = SimpleNamespace(html="r.html", markdown="r.md", json="results.json", predictions=None, latex=None)
    _print_results(results, files)
    printed = " ".join(capsys.readouterr().out.split())
    edited = results.pairwise[0]
    assert f"{edited.model_a} vs {edited.model_b}: " in printed
    assert "p(Holm) = 0.04996, significant" in printed  # ":.3g" printed 0.05 beside "significant"


def test_tables_tex_names_every_input_when_models_read_different_tables(tmp_path):
    handcrafted = write_own_table(tmp_path / "features.csv", tracks_per_class=8, segments=2, separation=0.6)
    musicnn = write_musicnn_table(tmp_path / "musicnn.csv", handcrafted, drop_tracks=1)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, [str(a) for a in (
        "benchmark", handcrafted, musicnn, "--models", "logreg,musicnn-logreg", "--folds", "3", "--jobs", "1", "-o", out,
    )])  # fmt: skip
    assert result.exit_code == 0, result.output
    tex = (out / "tables.tex").read_text(encoding="utf-8")
    caption = tex.split(r"\caption{", 1)[1].split(r"\label", 1)[0]
    assert "on features.csv and musicnn.csv with" in caption
    inputs = {m["name"]: m["input"] for m in json.loads((out / "results.json").read_text())["models"]}
    assert "logreg: features.csv (handcrafted, 6 features)" in caption
    assert inputs["musicnn-logreg"].split(" (")[0] in caption.split("musicnn-logreg: ", 1)[1]
    # Re-rendering keeps the same bytes.
    again = tmp_path / "again"
    assert CliRunner().invoke(app, ["report", str(out / "results.json"), "-o", str(again)]).exit_code == 0
    assert (again / "tables.tex").read_bytes() == tex.encode("utf-8")


def test_tables_tex_of_one_input_names_it_once(three_models):
    caption = render_latex(three_models).split(r"\caption{", 1)[1].split(r"\label", 1)[0]
    assert "Inputs:" not in caption and "on t.csv with" in caption


def test_a_holm_family_of_one_pair_says_nothing_was_adjusted(three_models):
    one = dataclasses.replace(three_models, models=three_models.models[:2], pairwise=three_models.pairwise[:1])
    assert "over the 1 pair (a family of one: its p is left as it is);" in _text(one)
    assert "over the 1 pair (a family of one: its p is left as it is)," in render_latex(one)
    assert "over the 3 pairs;" in _text(three_models)


def test_the_accuracy_plot_of_repeated_folds_says_how_they_are_made(tmp_path, monkeypatch):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=6))
    results = cross_validate_models(table, ["lda"], folds=3, repeats=2, progress=False)
    titles: list[str] = []
    original = matplotlib.axes.Axes.set_title

    def record(self, label, *args, **kwargs):
        titles.append(label)
        return original(self, label, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", record)
    accuracy_png(results)
    assert titles == ["Accuracy per model, mean over 6 folds (3 folds × 2 repeats)"]
