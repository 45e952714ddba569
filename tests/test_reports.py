"""Report rendering: files, self-contained HTML, Markdown links, JSON round trip."""

from __future__ import annotations

import json
import re

import pytest
from feature_tables import write_gtzan_table, write_list, write_own_table

from genre.errors import DataError, ParameterError
from genre.evaluation import cross_validate_models
from genre.features.table import load_feature_table
from genre.reports import load_results, render_report

REQUIRED_MODEL_KEYS = {
    "name", "input", "accuracy", "accuracy_std", "accuracy_ci95", "balanced_accuracy", "macro_f1",
    "fit_seconds", "predict_seconds", "folds", "confusion", "per_class", "summaries",
}  # fmt: skip


@pytest.fixture(scope="module")
def cv_results(tmp_path_factory):
    path = write_gtzan_table(tmp_path_factory.mktemp("t") / "features_30_sec.csv", tracks_per_class=8)
    table = load_feature_table(path)
    return cross_validate_models(table, ["logreg", "knn"], folds=3, progress=False, command="genre benchmark x")


@pytest.fixture(scope="module")
def report_dir(cv_results, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    render_report(cv_results, out)
    return out


def test_report_files_exist(report_dir):
    names = {p.name for p in report_dir.iterdir()}
    assert {"report.html", "report.md", "results.json", "accuracy.png", "per_class_f1.png"} <= names
    assert {"confusion_logreg.png", "confusion_knn.png"} <= names
    assert not [n for n in names if n.endswith(".tmp")]  # atomic writes left nothing behind
    assert (report_dir / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_is_self_contained(report_dir):
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    sources = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<link" not in html and "<script" not in html and "@import" not in html and "url(" not in html
    assert html.count("data:image/png;base64,") == 4  # accuracy, per-class F1, two confusion matrices
    assert "<style>" in html and "Nadeau–Bengio" in html


def test_markdown_tables_and_links(report_dir):
    text = (report_dir / "report.md").read_text(encoding="utf-8")
    # One input for every model: said once, not in a column repeating it.
    assert "| model | accuracy ± std | 95 % CI | balanced acc | macro-F1 | fit s | predict s |" in text
    assert "Every model reads the same input, features_30_sec.csv (" in text
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (report_dir / link).is_file(), link
    assert "Which differences are significant" in text and "p (Holm)" in text
    assert "Caveat: No groups (artists)" in text  # no groups: the inflated-accuracy caveat is stated
    assert "Stratified 3-fold cross-validation over tracks" in text
    assert "32 tracks" in text and "blues (8)" in text
    assert "## Per-class F1" in text and "| label | logreg | knn |" in text


def test_results_json_keys_and_round_trip(report_dir, cv_results, tmp_path):
    data = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    assert data["format"] == "genre-benchmark/1"
    top = {"dataset", "protocol", "labels", "models", "pairwise", "splits", "versions", "command", "created"}
    assert top <= set(data)
    for model in data["models"]:
        assert REQUIRED_MODEL_KEYS <= set(model)
        assert model["accuracy"] == pytest.approx(sum(f["accuracy"] for f in model["folds"]) / 3)
    assert data["command"] == "genre benchmark x"
    loaded = load_results(report_dir / "results.json")
    assert loaded.to_dict() == data
    # Re-rendering the loaded results gives the same Markdown.
    again = render_report(loaded, tmp_path / "again")
    assert again.markdown.read_text() == (report_dir / "report.md").read_text()


def test_group_aware_report_has_no_caveat(tmp_path):
    table = load_feature_table(write_own_table(tmp_path / "f.csv", tracks_per_class=6, segments=2, groups_per_class=3))
    results = cross_validate_models(table, ["knn"], folds=3, progress=False)
    files = render_report(results, tmp_path / "out")
    text = files.markdown.read_text()
    assert "No groups" not in text and "artist" not in text.split("Caveat")[-1] and "groups of column 'group'" in text
    assert "per-segment accuracy" in text and "Only one model was evaluated" in text


def test_fixed_partition_report(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=6))
    lines = ["blues/blues.00000.wav", "jazz/jazz.00001.wav", "metal/metal.00004.wav", "x/x.00001.wav"]
    test = write_list(tmp_path / "test.txt", lines)
    results = cross_validate_models(table, ["logreg", "knn"], test_list=test, progress=False)
    text = render_report(results, tmp_path / "out").markdown.read_text()
    assert "McNemar" in text and "Wilson" in text and "## List files" in text
    assert "| test |" in text and "x/x.00001.wav" in text  # the unmatched line is reported


def test_bad_output_and_results_paths(tmp_path, cv_results):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ParameterError, match="is not a folder"):
        render_report(cv_results, a_file)
    with pytest.raises(DataError, match="no such results file"):
        load_results(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text('{"format": "something-else"}')
    with pytest.raises(DataError, match="not a genre benchmark results file"):
        load_results(tmp_path / "other.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(DataError, match="not a readable results.json"):
        load_results(tmp_path / "broken.json")


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_folder_name_is_refused_not_taken_for_the_current_folder(cv_results, tmp_path, monkeypatch, empty):
    from genre.errors import OutputError

    monkeypatch.chdir(tmp_path)  # Path("") is this folder
    with pytest.raises(OutputError, match="^the output folder name is empty; give a folder name to write to$"):
        render_report(cv_results, empty)
    assert not list(tmp_path.iterdir())


def test_the_title_names_the_audio_a_table_was_extracted_from():
    from types import SimpleNamespace

    from genre.reports.content import report_title

    extracted = SimpleNamespace(dataset={"name": "features.csv", "source": "folder /data/music/gtzan"})
    assert report_title(extracted) == "Genre benchmark: features.csv (from folder gtzan)"
    external = SimpleNamespace(dataset={"name": "features_30_sec.csv", "source": None})
    assert report_title(external) == "Genre benchmark: features_30_sec.csv"
