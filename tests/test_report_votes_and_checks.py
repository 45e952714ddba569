"""Each track's majority vote is kept, and `genre report` checks the scores it re-renders.

Each test pins a fix: results.json and predictions.csv give each test track's majority-vote
prediction beside its mean-probability one, so vote_accuracy can be recomputed (and the tie
rule is the documented one); older results without the votes still render; a results.json whose
stored scores disagree with its own per-track predictions is refused in one line naming the
model, the score and both values, while real benchmarks (segment tables, repeats, groups, the
ensemble, a fixed partition from list files with a model that fell back, equal folds, the
public GTZAN table) re-render byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from feature_tables import GENRES, write_gtzan_table, write_list, write_own_table
from typer.testing import CliRunner

import genre.benchmark
from genre.cli import app
from genre.errors import DataError
from genre.reports import load_results, render_report

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line(text: str) -> str:
    """Output as one line: rich wraps long lines."""
    return " ".join(text.split())


# -- real benchmarks ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """Three segments per track, artist groups, two repeats, and the ensemble."""
    root = tmp_path_factory.mktemp("segmented")
    path = write_own_table(root / "f.csv", tracks_per_class=6, segments=3, groups_per_class=3, separation=0.8)
    return genre.benchmark.benchmark(
        path, models=["lda", "logreg", "ensemble"], folds=3, repeats=2, output_dir=root / "out",
        model_params={"ensemble": {"members": ["logreg", "lda"]}},
    )  # fmt: skip


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    """A fixed partition from list files, artist-disjoint; one training track per class, so the SVM falls back."""
    root = tmp_path_factory.mktemp("fixed")
    path = write_own_table(root / "f.csv", tracks_per_class=4, segments=2, groups_per_class=2, separation=1.0)
    train = write_list(root / "train.txt", [f"{g}/{g}.00000.wav" for g in GENRES])
    test = write_list(root / "test.txt", [f"{g}/{g}.{t:05d}.wav" for g in GENRES for t in (1, 3)])
    return genre.benchmark.benchmark(
        path, models=["svm", "logreg"], train_lists=[train], test_list=test, output_dir=root / "out"
    )


@pytest.fixture(scope="module")
def equal_folds(tmp_path_factory):
    """One row per track, classes far apart: every fold scores the same (the Wilson stand-in interval)."""
    root = tmp_path_factory.mktemp("equal")
    path = write_gtzan_table(root / "features_30_sec.csv", tracks_per_class=6, separation=20.0)
    return genre.benchmark.benchmark(path, models=["lda", "logreg"], folds=3, output_dir=root / "out")


RUNS = ["segmented", "fixed", "equal_folds"]


def test_the_runs_cover_what_they_claim(segmented, fixed, equal_folds):
    results, _ = segmented
    assert results.protocol["repeats"] == 2 and results.protocol["group_aware"]
    assert results.dataset["segments_per_track"]["min"] == 3
    results, _ = fixed
    assert results.protocol["kind"] == "fixed" and results.protocol["lists"]
    assert "not in 1 of 1 fit" in results.model("svm").description  # the SVM fell back
    results, _ = equal_folds
    assert all(len({f.accuracy for f in m.folds}) == 1 for m in results.models)


def _accuracy(truth, predicted) -> float:
    return float(np.mean(np.asarray(truth) == np.asarray(predicted)))


# -- 1. each track's majority vote ---------------------------------------------------------------
@pytest.mark.parametrize("run", RUNS)
def test_vote_accuracy_is_recomputed_from_the_per_track_votes(run, request):
    results, files = request.getfixturevalue(run)
    table = pd.read_csv(files.predictions, dtype={"track": str})
    assert list(table.columns[:7]) == ["model", "repeat", "fold", "track", "label", "predicted", "vote_predicted"]
    assert table.columns[7].startswith("prob_")
    for model in results.models:
        rows = table[table["model"] == model.name]
        by_fold = rows.groupby(["repeat", "fold"], sort=True).apply(
            lambda g: (g["label"] == g["vote_predicted"]).mean(), include_groups=False
        )
        assert np.allclose(by_fold.to_numpy(), [f.vote_accuracy for f in model.folds])
    # results.json alone holds them too.
    data = json.loads(files.json.read_text(encoding="utf-8"))
    for model in data["models"]:
        for fold, split in zip(model["folds"], data["splits"]):
            assert len(fold["vote_predictions"]) == len(split["test_tracks"])
            assert _accuracy(split["test_labels"], fold["vote_predictions"]) == pytest.approx(fold["vote_accuracy"])
    if results.dataset["segments_per_track"]["max"] == 1:  # one row per track: its vote is its prediction
        assert (table["vote_predicted"] == table["predicted"]).all()


def test_the_vote_tie_rule_is_the_documented_one():
    from genre.evaluation.cv import _aggregate

    rows = {
        # votes a, b, a, b: a tie in votes goes to the higher mean probability (b: 0.6 against 0.35)
        "tie": [[0.6, 0.4, 0.0], [0.1, 0.9, 0.0], [0.5, 0.3, 0.2], [0.2, 0.8, 0.0]],
        # votes a, a, b: the most votes win, though b has the higher mean probability
        "most": [[0.51, 0.49, 0.0], [0.51, 0.49, 0.0], [0.0, 1.0, 0.0]],
        # votes b, a with equal means: the first class in label order
        "even": [[0.3, 0.7, 0.0], [0.7, 0.3, 0.0]],
        # a row whose probabilities tie votes for the first of them (a); a: 2 votes, c: 1
        "row tie": [[0.4, 0.2, 0.4], [0.5, 0.0, 0.5], [0.0, 0.1, 0.9]],
    }
    tracks = np.array([name for name, probabilities in rows.items() for _ in probabilities])
    proba = np.array([row for probabilities in rows.values() for row in probabilities])
    table = SimpleNamespace(tracks=tracks)
    split = SimpleNamespace(test=np.arange(len(tracks)), test_tracks=list(rows))
    mean, voted = _aggregate(table, split, proba, 3)
    labels = np.array(["a", "b", "c"])
    assert labels[voted].tolist() == ["b", "a", "a", "a"]
    assert labels[mean.argmax(axis=1)].tolist() == ["b", "b", "a", "c"]


def test_results_without_the_votes_still_render_without_the_column(segmented, tmp_path):
    results, files = segmented
    data = json.loads(files.json.read_text(encoding="utf-8"))
    for model in data["models"]:
        for fold in model["folds"]:
            del fold["vote_predictions"]  # as a version before the votes wrote them
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    result = invoke("report", old, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "out" / "predictions.csv", dtype={"track": str})
    expected = pd.read_csv(files.predictions, dtype={"track": str}).drop(columns="vote_predicted")
    pd.testing.assert_frame_equal(written, expected)
    assert (tmp_path / "out" / "report.md").read_text(encoding="utf-8") == files.markdown.read_text(encoding="utf-8")
    # Re-rendered again from what it wrote: the same file, still without the column.
    again = invoke("report", tmp_path / "out" / "results.json", "-o", tmp_path / "again")
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again" / "predictions.csv").read_bytes() == (tmp_path / "out" / "predictions.csv").read_bytes()


# -- 2. genre report checks what it re-renders ---------------------------------------------------
@pytest.mark.parametrize("run", RUNS)
def test_a_real_benchmark_passes_the_check_and_re_renders_byte_for_byte(run, request, tmp_path):
    _, files = request.getfixturevalue(run)
    result = invoke("report", files.json, "-o", tmp_path / "again")
    assert result.exit_code == 0, result.output
    for path in files.all:
        assert (tmp_path / "again" / path.name).read_bytes() == Path(path).read_bytes(), path.name


def test_the_public_gtzan_table_passes_the_check(gtzan_features, tmp_path):
    first = invoke("benchmark", gtzan_features, "--models", "svm,logreg", "--folds", "3", "-o", tmp_path / "r1")
    assert first.exit_code == 0, first.output
    again = invoke("report", tmp_path / "r1" / "results.json", "-o", tmp_path / "r2")
    assert again.exit_code == 0, again.output
    names = sorted(p.name for p in (tmp_path / "r1").iterdir())
    assert "predictions.csv" in names and sorted(p.name for p in (tmp_path / "r2").iterdir()) == names
    for name in names:
        assert (tmp_path / "r2" / name).read_bytes() == (tmp_path / "r1" / name).read_bytes(), name


def _moved(value: float) -> float:
    """A score changed by hand: far enough to show at four significant digits."""
    return value - 0.125 if value > 0.5 else value + 0.125


def _edit(path: list, shown: str):
    """Change the number at ``path``; ``shown`` is what the message must say about it."""

    def edit(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        before = target[path[-1]]
        target[path[-1]] = after = before + 3 if isinstance(before, int) else _moved(before)
        return shown, before, after

    return edit


EDITS = {
    "fold accuracy": _edit(["models", 0, "folds", 1, "accuracy"], "model lda, repeat 1, fold 2: accuracy is"),
    "fold vote accuracy": _edit(
        ["models", 1, "folds", 3, "vote_accuracy"], "model logreg, repeat 2, fold 1: vote_accuracy is"
    ),
    "fold macro-F1": _edit(["models", 2, "folds", 0, "macro_f1"], "model ensemble, repeat 1, fold 1: macro_f1 is"),
    "summary mean": _edit(["models", 2, "summaries", "accuracy", "mean"], "model ensemble: accuracy mean over folds is"),
    "summary interval": _edit(
        ["models", 0, "summaries", "balanced_accuracy", "ci_high"], "model lda: balanced_accuracy ci_high over folds is"
    ),
    "headline copy": _edit(["models", 1, "accuracy"], "model logreg: accuracy is"),
    "headline interval": _edit(["models", 1, "accuracy_ci95", 0], "model logreg: accuracy_ci95 low is"),
    "per-class F1": _edit(["models", 0, "per_class", "jazz", "f1"], "model lda: f1 of 'jazz' is"),
    "confusion count": _edit(
        ["models", 2, "confusion", 0, 1], "model ensemble: confusion count of true 'blues' predicted 'classical' is"
    ),
    "pairwise p": _edit(["pairwise", 0, "p_holm"], "pairwise test of "),
}


@pytest.mark.parametrize("case", EDITS, ids=list(EDITS))
def test_an_edited_score_is_refused_naming_the_model_the_score_and_both_values(segmented, tmp_path, case):
    _, files = segmented
    data = json.loads(files.json.read_text(encoding="utf-8"))
    shown, before, after = EDITS[case](data)
    edited = tmp_path / "results.json"
    edited.write_text(json.dumps(data), encoding="utf-8")
    result = invoke("report", edited, "-o", tmp_path / "out")
    assert result.exit_code == 2, result.output
    said = one_line(result.output)
    assert "Traceback" not in result.output
    assert shown in said, said
    assert f"is {after:.4g} in the file, but" in said and f"give {before:.4g};" in said, said
    assert "contradicts its own predictions" in said
    assert not (tmp_path / "out" / "report.md").exists()  # nothing rendered
    with pytest.raises(DataError, match="contradicts its own predictions"):
        load_results(edited)


def test_an_edited_score_of_a_fixed_partition_is_refused(fixed, tmp_path):
    _, files = fixed
    data = json.loads(files.json.read_text(encoding="utf-8"))
    shown, before, after = _edit(["models", 1, "folds", 0, "accuracy"], "")(data)
    edited = tmp_path / "results.json"
    edited.write_text(json.dumps(data), encoding="utf-8")
    result = invoke("report", edited, "-o", tmp_path / "out")
    assert result.exit_code == 2, result.output
    said = one_line(result.output)
    assert f"model {data['models'][1]['name']}, the fixed partition: accuracy is {after:.4g} in the file" in said


def test_an_edited_prediction_is_refused_by_the_scores_it_changes(segmented, tmp_path):
    _, files = segmented
    data = json.loads(files.json.read_text(encoding="utf-8"))
    fold, split = data["models"][0]["folds"][0], data["splits"][0]
    right = next(i for i, (p, t) in enumerate(zip(fold["predictions"], split["test_labels"])) if p == t)
    fold["predictions"][right] = next(label for label in data["labels"] if label != split["test_labels"][right])
    edited = tmp_path / "results.json"
    edited.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match=r"model lda, repeat 1, fold 1: accuracy is .* in the file, but its per-track"):
        load_results(edited)


def test_edited_probabilities_that_contradict_a_prediction_are_refused(segmented, tmp_path):
    # Scores follow from the predictions, which are left alone: only the probabilities are edited.
    _, files = segmented
    data = json.loads(files.json.read_text(encoding="utf-8"))
    fold, split, labels = data["models"][0]["folds"][0], data["splits"][0], data["labels"]
    row = fold["probabilities"][0]
    first, other = labels.index(fold["predictions"][0]), labels.index(next(l for l in labels if l != fold["predictions"][0]))
    row[first], row[other] = min(row), max(row) + 0.01
    edited = tmp_path / "results.json"
    edited.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match=rf"track '{split['test_tracks'][0]}' is predicted '{labels[first]}' in the "
                                         rf"file, but its probabilities give '{labels[other]}'"):  # fmt: skip
        load_results(edited)


def test_rounding_is_not_a_disagreement(segmented, tmp_path):
    _, files = segmented
    data = json.loads(files.json.read_text(encoding="utf-8"))
    summary = data["models"][0]["summaries"]["accuracy"]
    summary["mean"] *= 1 + 1e-12  # another library version's floating-point rounding
    edited = tmp_path / "results.json"
    edited.write_text(json.dumps(data), encoding="utf-8")
    load_results(edited)


def test_results_without_per_track_records_render_as_before(segmented, tmp_path):
    _, files = segmented
    data = json.loads(files.json.read_text(encoding="utf-8"))
    for split in data["splits"]:
        del split["test_labels"]  # as a version before the per-track records wrote them
    data["models"][0]["folds"][0]["accuracy"] = 0.5  # nothing to check it against
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    result = invoke("report", old, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "out" / "predictions.csv").exists()


def test_results_without_the_votes_are_checked_on_everything_else(segmented, tmp_path):
    _, files = segmented
    data = json.loads(files.json.read_text(encoding="utf-8"))
    for model in data["models"]:
        for fold in model["folds"]:
            del fold["vote_predictions"]
    data["models"][0]["folds"][0]["balanced_accuracy"] = 0.01
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match="model lda, repeat 1, fold 1: balanced_accuracy is 0.01 in the file"):
        load_results(old)


DAMAGE = {
    "votes short": (
        lambda d: d["models"][0]["folds"][0]["vote_predictions"].pop(),
        "models[0] (lda).folds[0].vote_predictions: 7 entries for the split's 8 test tracks",
    ),
    "vote of no label": (
        lambda d: d["models"][1]["folds"][2]["vote_predictions"].__setitem__(0, "polka"),
        "models[1] (logreg).folds[2].vote_predictions: \"polka\" is not one of the labels",
    ),
    "probabilities short of a label": (
        lambda d: d["models"][2]["folds"][1]["probabilities"][0].pop(),
        "models[2] (ensemble).folds[1].probabilities: expected 4 numbers (one per label) for each test track",
    ),
    "truth short": (
        lambda d: d["splits"][1]["test_labels"].pop(),
        "splits[1].test_labels: 7 entries for the split's 8 test tracks",
    ),
}


@pytest.mark.parametrize("case", DAMAGE, ids=list(DAMAGE))
def test_per_track_records_of_the_wrong_length_are_named(segmented, tmp_path, case):
    _, files = segmented
    edit, message = DAMAGE[case]
    data = json.loads(files.json.read_text(encoding="utf-8"))
    assert all(len(split["test_tracks"]) == 8 for split in data["splits"])
    edit(data)
    damaged = tmp_path / "results.json"
    damaged.write_text(json.dumps(data), encoding="utf-8")
    result = invoke("report", damaged, "-o", tmp_path / "out")
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "incomplete or damaged results file" in one_line(result.output)
    assert message in one_line(result.output)


def test_render_report_of_checked_results_in_python(segmented, tmp_path):
    # The Python API reads and renders the same way as the command.
    _, files = segmented
    again = render_report(load_results(files.json), tmp_path / "out")
    assert again.predictions.read_bytes() == files.predictions.read_bytes()
