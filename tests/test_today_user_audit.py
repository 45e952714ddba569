"""Today's features used as a demanding user would: odd labels and file names in the terminal's
results, a paper's tables with six long model names, manifests whose group column is named
in another case or beside a ``group`` column, and the wording of a few refusals."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import soundfile as sf
from feature_tables import write_gtzan_table, write_list, write_own_table
from typer.testing import CliRunner

from genre.cli import app
from genre.errors import ParameterError
from genre.evaluation import cross_validate_models
from genre.evaluation.results import BenchmarkResults
from genre.features.table import load_feature_table
from genre.reports.latex import render_latex
from tests.conftest import tone
from tests.test_report_latex import compile_tables

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def flat(text: str) -> str:
    return " ".join(text.split())


# -- 1. the terminal's results print user text literally ------------------------------------------
def test_bracketed_labels_list_files_and_lines_are_printed_as_written(tmp_path):
    # Rich markup took "[live]", "[v2]" and "[bonus]" for style tags and dropped them; "[/x]" raised.
    labels = ("rock [live]", "blues", "jazz")
    table = write_gtzan_table(tmp_path / "t.csv", labels=labels, tracks_per_class=4)
    lines = [f"blues.{t:05d}.wav" for t in (0, 1)] + [f"jazz.{t:05d}.wav" for t in (0, 1)]
    test = write_list(tmp_path / "test[v2].txt", [*lines, "[bonus]/x.wav", "[/x].wav"])
    out = tmp_path / "report [final]"
    result = invoke("benchmark", table, "-m", "logreg", "--test-list", test, "-j", "1", "-o", out)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    said = flat(result.output)
    assert "'rock [live]'" in said.split("caveat:", 1)[1]  # the test side has none of its tracks
    assert f"{test}: 2 of 6 lines match no track (e.g. [bonus]/x.wav, [/x].wav)" in said
    assert f"report: {out / 'report.html'}" in said


# -- 2. tables.tex for a paper ---------------------------------------------------------------------
LONG_NAMES = {"logreg": "musicnn-logreg", "knn": "cnn-xgboost", "lda": "random-forest"}


@pytest.fixture(scope="module")
def six_models(tmp_path_factory) -> BenchmarkResults:
    """Six models, three of them renamed to long registry names (a CNN run is too slow for a test)."""
    folder = tmp_path_factory.mktemp("six")
    labels = ("Old-Time / Historic", "International", "Experimental", "Rock")
    table = write_own_table(folder / "t.csv", labels=labels, tracks_per_class=6, segments=1, sidecar=False,
                            separation=0.5)  # fmt: skip
    results = cross_validate_models(
        load_feature_table(table), ["logreg", "knn", "lda", "svm", "random-forest", "xgboost"], folds=2, progress=False
    )
    text = results.to_json()
    for short, long in LONG_NAMES.items():
        text = text.replace(f'"{short}"', f'"{long}"')
    return BenchmarkResults.from_dict(json.loads(text))


def test_six_long_model_names_stack_in_the_per_class_header(six_models):
    per_class = render_latex(six_models).split("\\label{tab:genre-per-class-f1}", 1)[1].split("\\midrule", 1)[0]
    assert r"\begin{tabular}[b]{@{}r@{}}musicnn- \\ logreg\end{tabular}" in per_class
    assert r"cnn- \\ xgboost" in per_class and r"random- \\ forest" in per_class
    # A name without a hyphen stays as it is, wherever its rank puts its column.
    assert re.search(r"& svm (&|\\\\)", per_class), per_class


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed: the structural check stands")
def test_six_long_model_names_fit_an_articles_width(six_models, tmp_path):
    log = compile_tables(tmp_path, render_latex(six_models))
    assert "Overfull" not in log, re.findall(r"Overfull.*", log)


def test_two_short_models_keep_a_one_line_header(tmp_path):
    table = write_own_table(tmp_path / "t.csv", tracks_per_class=4, segments=1, sidecar=False)
    results = cross_validate_models(load_feature_table(table), ["logreg", "knn"], folds=2, progress=False)
    per_class = render_latex(results).split("\\label{tab:genre-per-class-f1}", 1)[1]
    header = re.search(r"Class & (\w+) & (\w+) \\\\", per_class)  # columns follow the headline's ranking
    assert header and set(header.groups()) == {"logreg", "knn"} and "tabcolsep" not in per_class


def test_the_caption_says_which_models_have_a_wilson_interval(tmp_path):
    # Well separated classes: every fold scores 100 %, so the report's interval is Wilson's, as
    # its caveat says; the paper's caption said "Student-t interval" for every model.
    table = write_own_table(tmp_path / "t.csv", tracks_per_class=6, segments=1, sidecar=False, separation=20.0)
    results = cross_validate_models(load_feature_table(table), ["logreg"], folds=3, progress=False)
    assert "Wilson" in results.protocol["caveat"]
    caption = render_latex(results).split("\\caption{", 1)[1].split("}\n", 1)[0]
    assert "for logreg, whose 3 fold accuracies were all equal" in caption and "Wilson score interval" in caption


# -- 3. a manifest's group column, named as the user wrote it ----------------------------------------
def write_manifest(root: Path, header: str, extra: str = "") -> Path:
    """``root/songs.csv``: six 3.2 s tones, low0..low2 and high0..high2, with ``header``'s columns."""
    rows = [header]
    for label, base in (("low", 180.0), ("high", 2400.0)):
        for i in range(3):
            path = root / "audio" / f"{label}{i}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, tone(3.2, freq=base + 37 * i, seed=i), 22050)
            rows.append(f"audio/{label}{i}.wav,{label},{label}-artist{i}" + extra.format(i=i))
    manifest = root / "songs.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def test_group_col_names_a_manifest_column_in_its_own_case(tmp_path):
    manifest = write_manifest(tmp_path, "Path,Label,Artist")
    report = tmp_path / "report"
    result = invoke("benchmark", manifest, "-m", "lda", "-k", "2", "--group-col", "Artist", "-j", "1", "-o", report)
    assert result.exit_code == 0, result.output
    assert json.loads((report / "results.json").read_text())["protocol"]["group_aware"] is True


@pytest.fixture
def no_extraction(monkeypatch):
    import genre.features.extract as engine

    def refuse(*args, **kwargs):
        raise AssertionError("extraction started")

    monkeypatch.setattr(engine, "extract_to_csv", refuse)


def test_artist_beside_a_group_column_is_refused_not_read_as_the_group(tmp_path, no_extraction):
    # Extraction reads the "group" column (here albums); --group-col artist used it without a word.
    manifest = write_manifest(tmp_path, "path,label,artist,group", extra=",album{i}")
    result = invoke("benchmark", manifest, "-m", "lda", "-k", "2", "--group-col", "artist", "-o", tmp_path / "r")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert (
        f"error: {manifest}: --group-col 'artist': the manifest also has a 'group' column, and its groups are read "
        "from that one (group before artist); give --group-col group, or rename or remove the 'group' column"
    ) in flat(result.output)


@pytest.mark.parametrize(
    ("header", "option", "said"),
    [
        ("path,label,artist", "artis",
         "--group-col 'artis' is not a group column of the manifest (columns: path, label, artist); its groups are "
         "read from its 'artist' column: give --group-col artist"),
        ("path,label,band", "band", "rename its 'band' column to 'artist'"),
        ("path,label,band", "artist", "--group-col 'artist': the manifest has no 'group' or 'artist' column "
         "(columns: path, label, band)"),
    ],
)  # fmt: skip
def test_a_group_col_mistake_names_the_manifests_columns(tmp_path, no_extraction, header, option, said):
    manifest = write_manifest(tmp_path, header)
    result = invoke("benchmark", manifest, "-m", "lda", "-k", "2", "--group-col", option, "-o", tmp_path / "r")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert said in flat(result.output)


def test_a_label_col_mistake_is_not_advised_about_groups(tmp_path):
    from genre.benchmark import benchmark

    manifest = write_manifest(tmp_path, "path,label,artist")
    with pytest.raises(ParameterError) as refused:
        benchmark(manifest, output_dir=tmp_path / "r", models=["lda"], folds=2, label_col="genre")
    assert "group column is used" not in str(refused.value)
    assert "Leave the option out: the labels are read from the label column" in str(refused.value)


def test_a_list_line_naming_a_file_the_extraction_skipped_says_so(tmp_path):
    # The line is no typo: the manifest lists the file, but it is unreadable, so no track has it.
    manifest = write_manifest(tmp_path, "path,label,artist")
    (tmp_path / "audio" / "low9.wav").write_bytes(b"RIFF not really audio")
    with open(manifest, "a") as handle:
        handle.write("audio/low9.wav,low,low-artist9\n")
    test = write_list(tmp_path / "test.txt", ["low1.wav", "high1.wav", "low9.wav"])
    report = tmp_path / "report"
    result = invoke("benchmark", manifest, "-m", "lda", "--test-list", test, "-j", "1", "-o", report)
    assert result.exit_code == 0, result.output
    skipped_csv = report / "features" / "features.skipped.csv"
    assert (
        f"{test}: 1 of 3 lines match no track (e.g. low9.wav: a file the extraction skipped, see {skipped_csv})"
    ) in flat(result.output)


# -- 4. predict and the results' commit ------------------------------------------------------------
def test_an_interrupt_before_any_file_is_finished_says_so(low_high_model, write_wav, tmp_path, monkeypatch):
    import genre.classifiers.prediction as prediction

    files = [write_wav(tmp_path / f"t{i}.wav", 3.0, freq=200.0, seed=i) for i in range(2)]

    def interrupted(item):
        raise KeyboardInterrupt

    monkeypatch.setattr(prediction, "_extract_one", interrupted)
    result = invoke("predict", low_high_model, *files, "-o", tmp_path / "p.csv")
    assert result.exit_code == 130, result.output
    said = flat(result.output)
    assert "interrupted: no file was finished; the 2 not reached are listed as skipped" in said
    assert "of the 0 files" not in said


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_new_untracked_module_marks_the_commit_modified(tmp_path):
    from genre.evaluation.cv import _source_modified

    package = tmp_path / "repo" / "pkg"
    package.mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (tmp_path / "repo" / ".gitignore").write_text("__pycache__/\n")
    git = ["git", "-C", str(tmp_path / "repo"), "-c", "user.email=a@b.c", "-c", "user.name=n"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "first"], check=True)
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "a.py").write_text("ignored\n")
    (package / "notes.txt").write_text("not code\n")
    assert _source_modified(str(package)) is False
    (package / "sub").mkdir()
    (package / "sub" / "new.py").write_text("y = 2\n")  # edited code imports it; git diff does not show it
    assert _source_modified(str(package)) is True
