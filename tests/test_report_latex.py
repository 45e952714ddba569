"""tables.tex beside the report: booktabs tables for a paper, from the report's own numbers.

Labels and model names are escaped (and non-ASCII ones kept), the best accuracy is bold, the
caption states the protocol, a re-render writes the same bytes, a user's own tables.tex (or
predictions.csv) is refused before any work, and the file is structurally sound LaTeX.
"""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
import subprocess

import pytest
from feature_tables import write_gtzan_table, write_list, write_own_table
from typer.testing import CliRunner

from genre.cli import app
from genre.errors import OutputError
from genre.evaluation import cross_validate_models
from genre.evaluation.results import BenchmarkResults
from genre.features.table import load_feature_table
from genre.reports import load_results, render_report
from genre.reports.content import headline_rows, per_class_rows
from genre.reports.latex import TABLE_LABELS, latex_escape, render_latex

runner = CliRunner()

#: Labels that are LaTeX markup, start a table row oddly, or are not ASCII.
ODD = ("R&B", "100%", "hip_hop", "#1", "$money$", "{x}", "a~b", "x^2", "back\\slash", "[x]", "*star*", "café", "日本")


def _results(tmp_path, *, labels=("blues", "classical", "jazz", "metal"), models=("logreg", "knn"), **kwargs):
    # Classes that overlap: the models differ in accuracy, and not every score is 100 %.
    path = write_own_table(tmp_path / "t.csv", labels=tuple(labels), tracks_per_class=6, segments=1, sidecar=False,
                           separation=0.5)  # fmt: skip
    return cross_validate_models(load_feature_table(path), list(models), progress=False, **kwargs)


@pytest.fixture(scope="module")
def kfold(tmp_path_factory) -> BenchmarkResults:
    return _results(tmp_path_factory.mktemp("kfold"), folds=3, command="genre benchmark t.csv")


@pytest.fixture(scope="module")
def odd(tmp_path_factory) -> BenchmarkResults:
    return _results(tmp_path_factory.mktemp("odd"), labels=ODD, folds=2)


@pytest.fixture(scope="module")
def fixed(tmp_path_factory) -> BenchmarkResults:
    folder = tmp_path_factory.mktemp("fixed")
    table = load_feature_table(write_gtzan_table(folder / "t.csv", tracks_per_class=6))
    lines = [f"{label}/{label}.{t:05d}.wav" for label in ("blues", "classical", "jazz", "metal") for t in (0, 1)]
    return cross_validate_models(table, ["logreg", "knn"], test_list=write_list(folder / "test.txt", lines),
                                 progress=False)  # fmt: skip


def _tables(text: str) -> list[str]:
    return re.findall(r"\\begin\{table\}.*?\\end\{table\}", text, re.S)


def _tokens(text: str) -> list[str]:
    """LaTeX tokens outside comments: control words, control symbols (``\\&``), single characters."""
    code = "\n".join(re.sub(r"(?<!\\)%.*", "", line) for line in text.splitlines())
    return re.findall(r"\\[A-Za-z]+|\\.|.", code, re.S)


def _rows(table: str) -> list[str]:
    """The rows of a table's tabular, between its rules."""
    body = table.split("\\midrule", 1)[1].split("\\bottomrule", 1)[0]
    header = table.split("\\toprule", 1)[1].split("\\midrule", 1)[0]
    return [row.strip() for row in (header + body).split("\\\\") if row.strip()]


def _check_structure(text: str) -> None:
    depth = 0
    for token in _tokens(text):
        depth += {"{": 1, "}": -1}.get(token, 0)
        assert depth >= 0, "a } closes nothing"
    assert depth == 0, "unbalanced braces"
    environments = re.findall(r"\\(begin|end)\{(\w+)\}", text)
    stack = []
    for kind, name in environments:
        if kind == "begin":
            stack.append(name)
        else:
            assert stack and stack.pop() == name, f"\\end{{{name}}} closes another environment"
    assert not stack
    for table in _tables(text):
        assert table.count("\\begin{tabular}") == 1 and table.count("\\end{tabular}") == 1
        assert table.count("\\caption{") == 1 and table.count("\\label{") == 1
        align = re.search(r"\\begin\{tabular\}\{([lrc]+)\}", table).group(1)
        for row in _rows(table):
            ampersands = sum(token == "&" for token in _tokens(row))  # \& is a control symbol, not a column
            assert ampersands + 1 == len(align), row
        assert table.index("\\toprule") < table.index("\\midrule") < table.index("\\bottomrule")


# -- escaping ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("R&B", r"R\&B"), ("100%", r"100\%"), ("hip_hop", r"hip\_hop"), ("#1", r"\#1"), ("$5", r"\$5"),
        ("{x}", r"\{x\}"), ("a~b", r"a\textasciitilde{}b"), ("x^2", r"x\textasciicircum{}2"),
        ("back\\slash", r"back\textbackslash{}slash"), ("a|b", r"a\textbar{}b"), ("p < 0.05", r"p $<$ 0.05"),
        ("drum--bass", r"drum-{}-bass"), ("café", "café"), ("日本", "日本"), ("two\nlines", "two lines"),
    ],
)  # fmt: skip
def test_special_characters_are_escaped_and_non_ascii_kept(text, latex):
    assert latex_escape(text) == latex


def test_labels_and_model_names_are_escaped_in_every_table(odd, tmp_path):
    old, new = odd.models[0].name, "svm_rbf & co"
    renamed = dataclasses.replace(
        odd,
        models=[dataclasses.replace(odd.models[0], name=new), *odd.models[1:]],
        pairwise=[dataclasses.replace(t, model_a=new if t.model_a == old else t.model_a,
                                      model_b=new if t.model_b == old else t.model_b) for t in odd.pairwise],
    )  # fmt: skip
    files = render_report(renamed, tmp_path)
    text = files.latex.read_bytes().decode("utf-8")  # UTF-8, whatever the platform's default
    _check_structure(text)
    per_class = _tables(text)[1]
    for label in ODD:
        assert latex_escape(label) in per_class or label[0] in "[*"
    assert "café" in per_class and "日本" in per_class
    assert r"svm\_rbf \& co" in _tables(text)[0] and r"svm\_rbf \& co" in _tables(text)[2]
    # A row's leading [ or * would be read as the optional argument of \\ or \midrule.
    assert "\n{[}x{]}" not in per_class and "\n{[}x] &" in per_class and "\n{*}star*" in per_class


def test_the_header_says_what_the_file_needs(kfold):
    text = render_latex(kfold)
    head = text.split("\\begin{table}")[0]
    assert head.startswith("% Genre benchmark tables") and all(line.startswith("%") for line in head.splitlines() if line)
    assert "\\usepackage{booktabs}" in head and "UTF-8" in head and "genre benchmark t.csv" in head


# -- the tables ------------------------------------------------------------------------------------
def test_three_tables_with_the_report_numbers_and_the_best_accuracy_bold(kfold):
    text = render_latex(kfold)
    _check_structure(text)
    headline, per_class, pairwise = _tables(text)
    assert [re.search(r"\\label\{(.*?)\}", t).group(1) for t in (headline, per_class, pairwise)] == list(TABLE_LABELS)
    rows = _rows(headline)[1:]
    shown = headline_rows(kfold)
    assert len(rows) == len(shown)
    for row, cells in zip(rows, shown):
        mean, spread = cells[2].removesuffix(" %").split(" ± ")
        assert row.startswith(f"{cells[0]} & ") and f"{mean}" in row and f"$\\pm$ {spread}" in row
        # The CI, balanced accuracy: as rounded there (the caption says the scores are in %).
        assert cells[3].removesuffix(" %") in row and cells[4].removesuffix(" %") in row
    best = max(kfold.models, key=lambda m: m.accuracy)
    assert headline.count("\\textbf{") == 1 and rows[0].startswith(best.name)
    assert re.search(r"\\textbf\{[\d.]+\} \$\\pm\$", rows[0])
    assert _rows(per_class)[0] == "Class & logreg & knn"
    assert [r.split(" & ")[1:] for r in _rows(per_class)[1:]] == [r[1:] for r in per_class_rows(kfold)]
    assert "Model A & Model B" in pairwise and len(_rows(pairwise)) == 1 + len(kfold.pairwise)


def test_models_shown_tied_are_all_bold(kfold):
    twin = dataclasses.replace(max(kfold.models, key=lambda m: m.accuracy), name="twin")
    headline = _tables(render_latex(dataclasses.replace(kfold, models=[*kfold.models, twin])))[0]
    assert headline.count("\\textbf{") == 2


def test_a_weak_or_untestable_pairwise_test_is_said_in_the_caption(odd):
    caption = re.search(r"\\caption\{(.*?)\}\n", _tables(render_latex(odd))[2]).group(1)
    assert "With 2 fold scores the t-test has 1 degree of freedom: its p-values are unreliable." in caption
    untestable = dataclasses.replace(odd.pairwise[0], statistic=math.nan, p_value=math.nan, p_holm=math.nan)
    pairwise = _tables(render_latex(dataclasses.replace(odd, pairwise=[untestable])))[2]
    assert "--: not testable" in pairwise and _rows(pairwise)[1].endswith("& -- & -- & --")


def test_one_model_has_no_pairwise_table(kfold, tmp_path):
    text = render_latex(_results(tmp_path, models=("logreg",), folds=3))
    _check_structure(text)
    assert len(_tables(text)) == 2 and TABLE_LABELS[2] not in text
    older = render_latex(dataclasses.replace(kfold, pairwise=[]))  # results of a version without the tests
    assert len(_tables(older)) == 2 and TABLE_LABELS[2] not in older and "hold no pairwise tests" in older


# -- captions ------------------------------------------------------------------------------------
def test_the_cross_validation_caption_states_the_protocol(kfold, tmp_path):
    caption = re.search(r"\\caption\{(.*?)\}\n", _tables(render_latex(kfold))[0]).group(1)
    assert "3-fold cross-validation over tracks, not group-aware" in caption
    assert "mean $\\pm$ sample SD over the 3 fold accuracies" in caption
    assert "Nadeau--Bengio correction" in caption and "Wilson" not in caption
    header = _rows(_tables(render_latex(kfold))[0])[0]
    assert "Acc.\\ $\\pm$ SD" in header and "Fit (s/fold)" in header

    path = write_own_table(tmp_path / "g.csv", tracks_per_class=6, segments=2, groups_per_class=3)
    grouped = cross_validate_models(load_feature_table(path), ["logreg", "knn"], folds=2, repeats=2, progress=False)
    text = render_latex(grouped)
    assert "2-fold cross-validation $\\times$ 2 repeats over the groups of column `group' (group-aware" in text
    assert "the 2 repeats pooled" in text


def test_the_fixed_partition_caption_names_the_test_tracks_and_wilson(fixed):
    text = render_latex(fixed)
    _check_structure(text)
    headline, _, pairwise = _tables(text)
    caption = re.search(r"\\caption\{(.*?)\}\n", headline).group(1)
    assert "fixed train/test partition (16 training tracks, 8 test tracks)" in caption
    assert "Wilson score interval" in caption and "fold" not in caption and "$\\pm$" not in caption
    header = _rows(headline)[0]
    assert "Accuracy" in header and "SD" not in header and "Fit (s)" in header
    assert "exact McNemar test on the 8 test tracks" in pairwise


# -- files -----------------------------------------------------------------------------------------
def test_re_rendering_writes_the_same_tables(kfold, fixed, tmp_path):
    for name, results in (("kfold", kfold), ("fixed", fixed)):
        first = render_report(results, tmp_path / name)
        assert first.latex == tmp_path / name / "tables.tex" and first.latex in first.all
        again = render_report(load_results(first.json), tmp_path / f"{name}-again")
        assert again.latex.read_bytes() == first.latex.read_bytes()
    before = (tmp_path / "kfold" / "tables.tex").read_bytes()
    result = runner.invoke(app, ["report", str(tmp_path / "kfold" / "results.json")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "kfold" / "tables.tex").read_bytes() == before  # in place: replaced by the same bytes


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tables.tex", "% my paper's tables\n\\begin{table}...\n"),
        ("tables.tex", "\\input{x}\n% Genre benchmark tables, copied here\n"),  # our mark, but not at the start
        ("predictions.csv", "path,genre,probability\nsong.mp3,jazz,0.9\n"),  # genre predict's, not a report's
    ],
)
def test_a_users_own_file_is_refused_before_any_work(kfold, tmp_path, monkeypatch, name, content):
    out = tmp_path / "paper"
    out.mkdir()
    (out / name).write_text(content, encoding="utf-8")
    with pytest.raises(OutputError, match=rf"{name}: exists and is not a genre benchmark report file"):
        render_report(kfold, out)
    assert sorted(p.name for p in out.iterdir()) == [name] and (out / name).read_text(encoding="utf-8") == content

    import genre.benchmark

    def no_fits(*args, **kwargs):
        raise AssertionError("the benchmark started its work before refusing the folder")

    monkeypatch.setattr(genre.benchmark, "cross_validate_models", no_fits)
    table = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=4)
    result = runner.invoke(app, ["benchmark", str(table), "-m", "logreg", "--folds", "2", "-o", str(out)])
    assert result.exit_code == 2 and "is not a genre benchmark report file" in " ".join(result.output.split())
    assert "Traceback" not in result.output and sorted(p.name for p in out.iterdir()) == [name]


def test_a_report_folder_of_ours_is_replaced(kfold, tmp_path):
    render_report(kfold, tmp_path)
    changed = dataclasses.replace(kfold, command="genre benchmark other.csv")
    files = render_report(changed, tmp_path)
    assert "genre benchmark other.csv" in files.latex.read_text(encoding="utf-8")


def compile_tables(folder, tables: str | None = None) -> str:
    """Compile ``folder``'s tables.tex (``tables`` written there first, if given) in an article
    with pdflatex; the log's text. Fails the test where pdflatex stops with an error."""
    if tables is not None:
        (folder / "tables.tex").write_text(tables, encoding="utf-8")
    (folder / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n\\begin{document}\n"
        "\\input{tables.tex}\n\\end{document}\n",
        encoding="utf-8",
    )
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"], cwd=folder,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    return (folder / "paper.log").read_text(encoding="utf-8", errors="replace")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed: the structural checks stand")
def test_the_tables_compile_with_pdflatex(tmp_path):
    render_report(_results(tmp_path, labels=ODD[:-1], folds=2), tmp_path)  # 日本 would need a CJK font
    compile_tables(tmp_path)


# -- report.md wording a reviewer asked for --------------------------------------------------------
def test_the_report_says_what_was_learned_on_what_and_never_shows_zero_seconds(kfold, fixed):
    from genre.reports.content import build_document
    from genre.reports.markdown import render_markdown

    instant = dataclasses.replace(
        kfold, models=[dataclasses.replace(m, folds=[dataclasses.replace(f, predict_seconds=0.0001) for f in m.folds])
                       for m in kfold.models],
    )  # fmt: skip
    assert all(row[-1] == "< 0.001" for row in headline_rows(instant))  # was "0.000": no time at all
    text = render_markdown(build_document(kfold))
    assert "on the training side of each split alone: the test tracks are used only to score it" in text
    assert "Δ accuracy is model A's accuracy minus model B's, in percentage points" in text
    train = {**fixed.protocol["lists"][0], "role": "train"}
    two_lists = dataclasses.replace(fixed, protocol={**fixed.protocol, "lists": [*fixed.protocol["lists"], train, train]})
    text = render_markdown(build_document(two_lists))
    assert "The tracks of the 2 train lists form one training side: none of the lists is held out" in text


@pytest.mark.parametrize("kind", ["kfold", "fixed"])
def test_the_pairwise_table_gives_the_statistic_each_p_comes_from(kind, request):
    # A table of p-values alone cannot be checked: the report's t (k-fold) or McNemar's
    # discordant counts (a fixed partition) are in the paper's table too.
    from genre.reports.content import pairwise_header, pairwise_rows

    results = request.getfixturevalue(kind)
    table = render_latex(results).split(r"\label{tab:genre-pairwise}", 1)
    caption, body = table[0].rsplit(r"\caption{", 1)[1], table[1]
    header, *rows = _rows(body)
    title = "$t$" if kind == "kfold" else "Only A / B"
    assert header.split(" & ")[3] == title
    assert pairwise_header(results)[3] in ("t", "tracks only A / only B got right")  # the report's statistic column
    for row, report_row in zip(rows, pairwise_rows(results)):
        assert row.split(" & ")[3] == latex_escape(report_row[3]).replace("-", "$-$", 1)
    assert ("t is the corrected t statistic" if kind == "kfold" else "only A / B are the test tracks") in caption
