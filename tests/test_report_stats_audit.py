"""A statistics audit of the report, each finding pinned by a test.

A. the Python call a report records reproduces the numbers (groups, column roles, parameters);
B. folds that all score the same get a Wilson interval, not one of no width;
C. a single partition has no standard deviation (null, not 0);
D. Holm's family counts only the testable pairs;
E. a partition without groups says the lists' artist separation was not checked;
F. the report says what a fit time covers.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
from feature_tables import GENRES, write_gtzan_table, write_list, write_own_table

import genre.benchmark
from genre.evaluation import cross_validate_models
from genre.features.table import load_feature_table
from genre.reports.content import build_document


def text_of(results) -> str:
    return " ".join(" ".join(block.text.split()) for block in build_document(results))


def scores(results) -> dict[str, list[float]]:
    return {m.name: [f.accuracy for f in m.folds] for m in results.models}


# -- A. the recorded call ------------------------------------------------------------------------
def test_the_recorded_python_call_reproduces_the_numbers(tmp_path):
    path = write_own_table(tmp_path / "f.csv", tracks_per_class=8, segments=2, groups_per_class=4, sidecar=False)
    frame = pd.read_csv(path)
    frame["noise"] = np.random.default_rng(0).normal(size=len(frame))
    frame.to_csv(path, index=False)
    results, _ = genre.benchmark.benchmark(
        path, models=["logreg", "lda"], folds=2, use_groups=False, drop=["noise"],
        model_params={"logreg": {"C": 0.01}},
    )  # fmt: skip
    call = results.command
    assert "use_groups=False" in call and "drop=['noise']" in call and "model_params={'logreg': {'C': 0.01}}" in call
    again = eval(call, {"genre": genre})[0]  # noqa: S307 - our own recorded call
    assert scores(again) == scores(results)
    # Left at their defaults, the settings stay out of the call.
    plain, _ = genre.benchmark.benchmark(path, models=["lda"], folds=2)
    assert plain.command.endswith("folds=2, repeats=1, seed=0)")


# -- B, C. intervals -----------------------------------------------------------------------------
def test_folds_that_all_score_the_same_get_a_wilson_interval(tmp_path):
    # Far-apart classes: every fold is 100 %.
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=10, separation=50.0))
    results = cross_validate_models(table, ["lda"], folds=5, progress=False)
    model = results.models[0]
    assert model.accuracy == 1.0 and model.accuracy_std == 0.0
    low, high = model.accuracy_ci95
    assert high == 1.0 and 0.85 < low < 0.95  # Wilson for 40 of 40 tracks: [0.912, 1]
    assert math.isclose(low, 40 / (40 + 1.959964**2), rel_tol=1e-4)
    assert "Every fold of lda scored the same" in text_of(results)


def test_a_single_partition_has_no_standard_deviation(tmp_path):
    path = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=10)
    test = write_list(tmp_path / "test.txt", [f"{g}/{g}.0000{i}.wav" for g in GENRES for i in range(3)])
    results, files = genre.benchmark.benchmark(path, models=["lda"], test_list=test, output_dir=tmp_path / "out")
    stored = json.loads(files.json.read_text())["models"][0]
    assert stored["accuracy_std"] is None and stored["macro_f1_std"] is None and stored["accuracy"] is not None
    # No groups in the table: the report does not vouch for the lists' artist separation.
    assert "whether the lists keep each artist on one side could not be checked" in text_of(results)


# -- D. Holm's family ------------------------------------------------------------------------------
def test_holm_family_counts_only_testable_pairs(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=6))
    results = cross_validate_models(table, ["lda", "logreg", "knn"], folds=3, progress=False)
    assert "over the 3 pairs;" in text_of(results)
    # As an untestable pair (a constant difference over the folds) has:
    results.pairwise[0] = dataclasses.replace(results.pairwise[0], p_value=math.nan, p_holm=math.nan)
    assert "over the 2 testable pairs;" in text_of(results)


# -- F. fit times --------------------------------------------------------------------------------
def test_the_report_says_what_a_fit_time_covers(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=6))
    results = cross_validate_models(table, ["lda"], folds=3, progress=False)
    assert "A fit time is everything a model learns from the training side" in text_of(results)
    assert "train the same CNN" not in text_of(results)


# -- reproducibility: which table, extracted by what ---------------------------------------------
def test_the_report_names_the_table_by_checksum_and_its_extraction_libraries(tmp_path):
    from genre.atomic import file_sha256

    path = write_own_table(tmp_path / "f.csv", tracks_per_class=6, segments=2)
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    meta["versions"] = {"genre": "0.1.0", "python": "3.11.7", "librosa": "0.11.0", "soxr": "1.1.0"}
    sidecar.write_text(json.dumps(meta))
    results = cross_validate_models(load_feature_table(path), ["lda"], folds=3, progress=False)
    assert results.dataset["sha256"] == file_sha256(path)
    text = text_of(results)
    assert f"SHA-256 of the file {file_sha256(path)}" in text
    assert "extracted by genre 0.1.0 with librosa 0.11.0, soxr 1.1.0." in text


# -- per-track predictions: every score can be recomputed --------------------------------------------
def test_out_of_fold_predictions_are_written_and_recompute_the_scores(tmp_path):
    from genre.reports import load_results, render_report

    path = write_own_table(tmp_path / "f.csv", tracks_per_class=6, segments=3)
    results, files = genre.benchmark.benchmark(path, models=["lda", "logreg"], folds=3, repeats=2,
                                               output_dir=tmp_path / "out")  # fmt: skip
    assert files.predictions == tmp_path / "out" / "predictions.csv"
    table = pd.read_csv(files.predictions)
    assert len(table) == 2 * 2 * 24  # models x repeats x tracks
    assert list(table.columns[:6]) == ["model", "repeat", "fold", "track", "label", "predicted"]
    loaded = load_feature_table(path)
    truth = dict(zip(map(str, loaded.tracks), loaded.y))
    assert (table["label"] == table["track"].astype(str).map(truth)).all()
    probabilities = table[[f"prob_{label}" for label in results.labels]].to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)
    for model in results.models:
        rows = table[table["model"] == model.name]
        by_fold = rows.groupby(["repeat", "fold"], sort=True).apply(lambda g: (g["label"] == g["predicted"]).mean())
        assert np.allclose(by_fold.to_numpy(), [f.accuracy for f in model.folds])
    # The JSON alone holds them too, so a re-render writes the same file.
    before = files.predictions.read_bytes()
    again = render_report(load_results(files.json), tmp_path / "out")
    assert again.predictions.read_bytes() == before


def test_results_without_probabilities_leave_no_stale_predictions(tmp_path):
    from genre.reports import load_results, render_report

    path = write_own_table(tmp_path / "f.csv", tracks_per_class=6, segments=1)
    _, files = genre.benchmark.benchmark(path, models=["lda"], folds=3, output_dir=tmp_path / "out")
    data = json.loads(files.json.read_text())
    for split in data["splits"]:
        del split["test_labels"]  # as an earlier version wrote them
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    assert render_report(load_results(old), tmp_path / "out").predictions is None
    assert not files.predictions.exists()  # ours, of other results: removed
    # A user's file of that name is not ours, and stays.
    files.predictions.write_text("path,genre\nsong.wav,jazz\n")
    render_report(load_results(old), tmp_path / "out")
    assert files.predictions.read_text() == "path,genre\nsong.wav,jazz\n"


# -- a few long tracks giving most rows ------------------------------------------------------------
def test_a_long_track_among_short_ones_is_said(tmp_path):
    from genre.classifiers.training import train_model

    path = write_own_table(tmp_path / "f.csv", tracks_per_class=6, segments=3)
    frame = pd.read_csv(path)
    first = frame[frame["track"] == frame["track"].iloc[0]]
    long = pd.concat([first.iloc[[0]]] * 40, ignore_index=True)
    long["segment"] = range(40)
    pd.concat([frame[frame["track"] != frame["track"].iloc[0]], long], ignore_index=True).to_csv(path, index=False)
    table = load_feature_table(path)
    note = table.row_share_note()
    assert note.startswith("Rows are not weighted per track: tracks give 3 to 40 rows (median 3)")
    assert "alone gives 37 % of the rows" in note  # 40 of 109
    assert note in train_model(path, model="lda", output=tmp_path / "m.genre").notes
    results = cross_validate_models(table, ["lda"], folds=3, progress=False)
    assert "Rows are not weighted per track" in results.protocol["caveat"]
    # Even rows: nothing to say.
    assert load_feature_table(write_own_table(tmp_path / "even.csv", tracks_per_class=6)).row_share_note() is None


# -- what each fold's fit chose -------------------------------------------------------------------
def test_what_each_fit_chose_is_recorded_and_survives_a_resume(tmp_path):
    from genre.evaluation.checkpoint import CheckpointStore

    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=9))
    keep = tmp_path / "keep"
    results = cross_validate_models(table, ["svm", "lda"], folds=3, progress=False, checkpoint_dir=keep)
    svm = results.model("svm")
    assert all(set(f.details["best_params"]) == {"C", "gamma", "kernel"} for f in svm.folds)
    assert all(f.details["tuning_folds"] == 3 for f in svm.folds)
    assert all(f.details == {} for f in results.model("lda").folds)
    from genre.reports.markdown import render_markdown

    text = render_markdown(build_document(results))
    assert "chosen on the training sides (folds)" in text and "best_params: C=" in text and "tuning_folds 3" in text
    # Read back from the checkpoints of an interrupted run: the same choices.
    again = cross_validate_models(table, ["svm", "lda"], folds=3, progress=False, checkpoint_dir=keep)
    assert again.protocol["resumed_fits"] == 6
    assert [f.details for f in again.model("svm").folds] == [f.details for f in svm.folds]
    CheckpointStore(keep).remove()


def test_the_commit_of_a_git_checkout_is_recorded_beside_the_version(tmp_path):
    from genre.evaluation.cv import _source_commit

    sha = "0123456789abcdef0123456789abcdef01234567"
    git = tmp_path / "repo" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text(sha + "\n")
    assert _source_commit(str(tmp_path / "repo")) == sha[:12]
    (git / "refs" / "heads" / "main").unlink()  # packed, as in a fresh clone
    (git / "packed-refs").write_text(f"# pack-refs with: peeled\n{sha} refs/heads/main\n")
    assert _source_commit(str(tmp_path / "repo")) == sha[:12]
    (git / "HEAD").write_text(sha + "\n")  # detached
    assert _source_commit(str(tmp_path / "repo")) == sha[:12]
    assert _source_commit(str(tmp_path)) is None  # no checkout: an installed package


def test_a_modified_checkout_is_told_apart_from_its_commit(tmp_path):
    import shutil
    import subprocess

    import pytest

    from genre.evaluation.cv import _source_modified

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    package = tmp_path / "repo" / "genre"
    package.mkdir(parents=True)
    (package / "m.py").write_text("x = 1\n")
    git = ["git", "-C", str(tmp_path / "repo"), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "c"], check=True)
    assert _source_modified(str(package)) is False
    (package / "m.py").write_text("x = 2\n")
    assert _source_modified(str(package)) is True
    assert _source_modified(str(tmp_path / "nowhere")) is False  # git cannot tell: no marker


def test_a_users_own_report_md_is_never_replaced(tmp_path):
    from typer.testing import CliRunner

    from genre.cli import app
    from genre.reports import load_results, render_report

    path = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=6)
    _, files = genre.benchmark.benchmark(path, models=["lda"], folds=2, output_dir=tmp_path / "ours")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "report.md").write_text("# My project notes\n")
    result = CliRunner().invoke(app, ["report", str(files.json), "-o", str(notes)])
    assert result.exit_code == 2 and "is not a genre benchmark report file" in " ".join(result.output.split())
    # Refused before the work by a benchmark, too; our own earlier report is replaced.
    result = CliRunner().invoke(app, ["benchmark", str(path), "-m", "lda", "--folds", "2", "-o", str(notes)])
    assert result.exit_code == 2 and not (notes / "results.json").exists()
    assert (notes / "report.md").read_text() == "# My project notes\n"
    render_report(load_results(files.json), tmp_path / "ours")


def test_a_users_own_plot_is_never_replaced_but_ours_are(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from genre.cli import app
    from genre.reports import load_results, render_report

    path = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=6)
    _, files = genre.benchmark.benchmark(path, models=["lda"], folds=2, output_dir=tmp_path / "ours")
    figures = tmp_path / "figures"
    figures.mkdir()
    user_png = b"\x89PNG\r\n\x1a\n a figure of the user's own"
    (figures / "confusion_lda.png").write_bytes(user_png)
    result = CliRunner().invoke(app, ["benchmark", str(path), "-m", "lda", "--folds", "2", "-o", str(figures)])
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "confusion_lda.png: exists and is not a genre benchmark plot" in said
    assert not (figures / "results.json").exists()  # refused before the work
    result = CliRunner().invoke(app, ["report", str(files.json), "-o", str(figures)])
    assert result.exit_code == 2 and (figures / "confusion_lda.png").read_bytes() == user_png
    # Another model's plots have other names: the user's file is no obstacle, and stays.
    result = CliRunner().invoke(app, ["benchmark", str(path), "-m", "logreg", "--folds", "2", "-o", str(figures)])
    assert result.exit_code == 0 and (figures / "confusion_lda.png").read_bytes() == user_png
    # Ours are replaced: marked, or (an older version's, unmarked) linked from our report.md.
    render_report(load_results(files.json), tmp_path / "ours")
    accuracy = tmp_path / "ours" / "accuracy.png"
    accuracy.write_bytes(accuracy.read_bytes().replace(b"genre benchmark report", b"matplotlib version 0.0"))
    render_report(load_results(files.json), tmp_path / "ours")
    assert b"tEXtSoftware\x00genre benchmark report" in accuracy.read_bytes()[:4096]
