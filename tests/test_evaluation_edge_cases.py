"""Bad and borderline input to evaluation, reports and table loading: clear answers, no tracebacks.

Each test here pins a fix: untestable or weak pairwise tests, damaged results files, feature
values too large for the models, single-class training sides, model errors inside a fold,
empty named group columns and duplicated file names.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from feature_tables import write_gtzan_table, write_list
from typer.testing import CliRunner

from genre.cli import app
from genre.errors import DataError
from genre.evaluation import cross_validate_models
from genre.evaluation.cv import check_split_classes, _fit_predict
from genre.evaluation.results import BenchmarkResults
from genre.evaluation.splits import Split
from genre.evaluation.stats import corrected_resampled_ttest, holm, pairwise_corrected_ttests
from genre.features.table import MAX_FEATURE_MAGNITUDE, load_feature_table
from genre.reports import load_results, render_report

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def strict_json(text: str):
    """``json.loads`` that refuses the NaN / Infinity tokens Python's encoder may write."""

    def refuse(token: str):
        raise ValueError(f"not valid JSON: {token}")

    return json.loads(text, parse_constant=refuse)


# -- 1. pairwise tests: rounding noise, untestable pairs, one degree of freedom -----------------
# 10/12 - 8/12 and 9/12 - 7/12 are both 1/6, but differ in their last bits as floats.
SAME_DIFFERENCE = {"a": [10 / 12, 9 / 12], "b": [8 / 12, 7 / 12]}


def test_difference_constant_up_to_rounding_is_not_testable():
    t, p, df = corrected_resampled_ttest(SAME_DIFFERENCE["a"], SAME_DIFFERENCE["b"], test_train_ratio=1.0)
    assert df == 1 and math.isnan(t) and math.isnan(p)  # was t = 1.7e15, p = 1e-15
    t, p, _ = corrected_resampled_ttest([0.5, 0.6, 0.7], [0.4, 0.5, 0.6], test_train_ratio=0.5)
    assert math.isnan(t) and math.isnan(p)  # exactly constant: was p = 0
    # Models that tie in every fold: no difference at all.
    assert corrected_resampled_ttest([0.5, 0.6], [0.5, 0.6], test_train_ratio=0.5)[:2] == (0.0, 1.0)
    # A real (tiny but not rounding-sized) spread is still tested.
    t, p, _ = corrected_resampled_ttest([0.80, 0.81, 0.79], [0.70, 0.70, 0.70], test_train_ratio=0.25)
    assert math.isfinite(t) and 0 < p < 0.05


def test_holm_leaves_untestable_p_values_out_of_the_family():
    adjusted = holm([0.01, math.nan, 0.04])
    assert adjusted[0] == pytest.approx(0.02) and adjusted[2] == pytest.approx(0.04)
    assert math.isnan(adjusted[1])
    assert all(math.isnan(v) for v in holm([math.nan, math.nan]))


def test_untestable_pair_is_never_significant():
    scores = {"good": [10 / 12, 9 / 12], "bad": [8 / 12, 7 / 12], "worse": [0.1, 0.3]}
    tests = {(t.model_a, t.model_b): t for t in pairwise_corrected_ttests(scores, test_train_ratio=1.0)}
    pair = tests[("good", "bad")]
    assert not pair.testable and not pair.significant and math.isnan(pair.p_holm)
    assert pair.verdict == "not testable (identical differences in every fold) between good and bad"
    assert all(t.testable for key, t in tests.items() if key != ("good", "bad"))


def test_two_fold_verdicts_say_the_test_has_one_degree_of_freedom():
    # d = [0.80, 0.81]: t = 92 with 1 df, p = 0.007: "significant", but on two numbers.
    tests = pairwise_corrected_ttests({"a": [0.90, 0.91], "b": [0.10, 0.10]}, test_train_ratio=1.0)
    assert tests[0].significant and tests[0].weak
    assert tests[0].verdict == (
        "a is significantly better than b (weak test: 2 fold scores give 1 degree of freedom)"
    )
    five = pairwise_corrected_ttests({"a": [0.9, 0.91, 0.92, 0.9, 0.91], "b": [0.1] * 5}, test_train_ratio=0.25)
    assert not five[0].weak and "weak" not in five[0].verdict


@pytest.fixture(scope="module")
def two_fold_results(tmp_path_factory) -> BenchmarkResults:
    path = write_gtzan_table(tmp_path_factory.mktemp("t") / "features_30_sec.csv", tracks_per_class=6)
    return cross_validate_models(load_feature_table(path), ["logreg", "knn"], folds=2, progress=False)


def _with_untestable_pair(results: BenchmarkResults) -> BenchmarkResults:
    """The results with fold accuracies that differ by the same amount in both folds."""
    data = results.to_dict()
    for model, scores in zip(data["models"], (SAME_DIFFERENCE["a"], SAME_DIFFERENCE["b"])):
        for fold, score in zip(model["folds"], scores):
            fold["accuracy"] = score
    names = [m["name"] for m in data["models"]]
    scores = dict(zip(names, (SAME_DIFFERENCE["a"], SAME_DIFFERENCE["b"])))
    pairwise = pairwise_corrected_ttests(scores, test_train_ratio=1.0)
    data["pairwise"] = [p.to_dict() for p in pairwise]
    for split in data["splits"]:
        # Scores edited by hand: without per-track records, as an older version wrote them, the
        # file is read without recomputing them (with them, genre report refuses it).
        split["test_labels"] = []
    return BenchmarkResults.from_dict(json.loads(json.dumps(data)))


def test_untestable_pair_in_report_json_and_rerendering(two_fold_results, tmp_path):
    results = _with_untestable_pair(two_fold_results)
    files = render_report(results, tmp_path / "out")
    data = strict_json(files.json.read_text(encoding="utf-8"))  # NaN written as null, not NaN
    pair = data["pairwise"][0]
    assert pair["p_value"] is None and pair["p_holm"] is None and pair["statistic"] is None
    assert pair["significant"] is False and pair["verdict"].startswith("not testable")
    markdown = files.markdown.read_text(encoding="utf-8")
    assert "not testable (identical differences in every fold)" in markdown
    assert "nan" not in markdown.lower().replace("nadeau", "")
    assert "Not testable: " in markdown and "1 degree of freedom" in markdown
    html = files.html.read_text(encoding="utf-8")
    assert "not testable (identical differences in every fold)" in html
    # `genre report` reads it back and writes the same Markdown.
    result = invoke("report", files.json, "-o", tmp_path / "again")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "again" / "report.md").read_text(encoding="utf-8") == markdown
    assert load_results(files.json).pairwise[0].testable is False


def test_edited_significance_of_an_untestable_pair_is_not_believed(two_fold_results, tmp_path):
    files = render_report(_with_untestable_pair(two_fold_results), tmp_path / "out")
    data = json.loads(files.json.read_text(encoding="utf-8"))
    data["pairwise"][0]["significant"] = True
    files.json.write_text(json.dumps(data), encoding="utf-8")
    assert not load_results(files.json).pairwise[0].significant


def test_two_fold_report_states_the_single_degree_of_freedom(two_fold_results, tmp_path):
    text = render_report(two_fold_results, tmp_path / "out").markdown.read_text(encoding="utf-8")
    assert "1 degree of freedom" in text and "Weak test: 2 fold scores" in text


# -- 2. damaged results.json -------------------------------------------------------------------
def _set(path: list, value):
    def edit(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return edit


DAMAGE = {
    "confusion [[1]]": (_set(["models", 0, "confusion"], [[1]]), "models[0] (logreg).confusion"),
    "confusion row short": (_set(["models", 1, "confusion", 2], [0]), "models[1] (knn).confusion"),
    "confusion text": (_set(["models", 0, "confusion", 0, 0], "x"), "models[0] (logreg).confusion"),
    "per_class label lost": (_set(["models", 0, "per_class", "blues"], KeyError), "per_class"),
    "per_class f1 text": (_set(["models", 0, "per_class", "jazz", "f1"], "high"), "per_class['jazz'].f1"),
    "per_class a list": (_set(["models", 0, "per_class"], [1, 2]), "models[0].per_class"),
    "folds empty": (_set(["models", 0, "folds"], []), "models[0] (logreg).folds"),
    "fold accuracy text": (_set(["models", 0, "folds", 1, "accuracy"], "0.5"), "folds[1].accuracy"),
    "fold field lost": (_set(["models", 0, "folds", 0, "fit_seconds"], KeyError), "folds[0]: missing"),
    "fold counts differ": (lambda d: d["models"][1]["folds"].pop(), "models[1] (knn).folds"),
    "summary lost": (_set(["models", 0, "summaries", "accuracy"], KeyError), "summaries: missing accuracy"),
    "ci one number": (_set(["models", 0, "accuracy_ci95"], [0.5]), "accuracy_ci95"),
    "labels not a list": (_set(["labels"], "blues"), "results.labels"),
    "pairwise p text": (_set(["pairwise", 0, "p_value"], "tiny"), "pairwise[0].p_value"),
    "splits lost one": (lambda d: d["splits"].pop(), "splits"),
    "list entry lost a key": (_set(["protocol", "lists"], [{"role": "test"}]), "protocol.lists[0]"),
    "segments not an object": (_set(["dataset", "segments_per_track"], [1]), "dataset.segments_per_track"),
}


@pytest.fixture(scope="module")
def results_json(two_fold_results, tmp_path_factory):
    return render_report(two_fold_results, tmp_path_factory.mktemp("report")).json


@pytest.mark.parametrize("case", DAMAGE, ids=list(DAMAGE))
def test_damaged_results_file_names_the_field(results_json, tmp_path, case):
    edit, field = DAMAGE[case]
    data = json.loads(results_json.read_text(encoding="utf-8"))
    edit(data)
    damaged = tmp_path / "results.json"
    damaged.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match="incomplete or damaged results file") as caught:
        load_results(damaged)
    assert str(damaged) in str(caught.value) and field in str(caught.value)


def test_genre_report_on_a_wrong_confusion_shape_is_one_line(results_json, tmp_path):
    data = json.loads(results_json.read_text(encoding="utf-8"))
    data["models"][0]["confusion"] = [[1]]
    damaged = tmp_path / "results.json"
    damaged.write_text(json.dumps(data), encoding="utf-8")
    result = invoke("report", damaged, "-o", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "IndexError" not in result.output
    assert "confusion: expected a 4 x 4 matrix" in result.output


# -- 3. feature values too large for the models -------------------------------------------------
def _table_with(tmp_path, value: float, *, row: int = 3, column: str = "mfcc2_mean"):
    path = write_gtzan_table(tmp_path / "c.csv", tracks_per_class=6)
    frame = pd.read_csv(path)
    frame.loc[row, column] = value
    frame.to_csv(path, index=False)
    return path, frame.loc[row, "filename"]


def test_huge_feature_value_is_refused_naming_column_row_and_track(tmp_path):
    path, name = _table_with(tmp_path, 1e300)
    with pytest.raises(DataError, match="too large") as caught:
        load_feature_table(path)
    message = str(caught.value)
    assert "'mfcc2_mean'" in message and "row 5" in message and repr(name) in message
    # Just past float32's range is refused too; large but representable values are kept.
    path, _ = _table_with(tmp_path, -MAX_FEATURE_MAGNITUDE * 1.01)
    with pytest.raises(DataError, match="too large"):
        load_feature_table(path)
    path, _ = _table_with(tmp_path, MAX_FEATURE_MAGNITUDE / 10)
    assert load_feature_table(path).X["mfcc2_mean"].abs().max() == pytest.approx(MAX_FEATURE_MAGNITUDE / 10)


@pytest.mark.parametrize("command", [("benchmark", "-m", "logreg", "-k", "3"), ("train", "-m", "logreg")])
def test_benchmark_and_train_refuse_a_huge_value(tmp_path, command):
    path, _ = _table_with(tmp_path, 1e300)
    result = invoke(command[0], path, *command[1:], "-o", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "too large" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


# -- 4. training sides with one class; model errors inside a fold -------------------------------
@pytest.fixture
def gtzan_like(tmp_path):
    return write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=6)


def test_training_list_of_one_class_is_refused_naming_the_list(tmp_path, gtzan_like):
    train = write_list(tmp_path / "L.txt", ["blues/blues.00000.wav", "blues/blues.00001.wav", "x/nothing.wav"])
    test = write_list(tmp_path / "test.txt", ["jazz/jazz.00002.wav", "metal/metal.00003.wav"])
    with pytest.raises(DataError, match="at least two classes") as caught:
        cross_validate_models(load_feature_table(gtzan_like), ["logreg"], train_lists=[train], test_list=test,
                              progress=False)  # fmt: skip
    assert str(train) in str(caught.value) and "'blues'" in str(caught.value)
    result = invoke("benchmark", gtzan_like, "-m", "logreg", "--train-list", train, "--test-list", test,
                    "-o", tmp_path / "out")  # fmt: skip
    assert result.exit_code == 2 and "at least two classes" in result.output and "Traceback" not in result.output


def test_shared_gtzan_training_list_of_one_class(tmp_path, gtzan_features, gtzan_splits):
    train = write_list(tmp_path / "L.txt", ["blues/blues.00000.wav", "blues/blues.00001.wav", "nope/nope.00000.wav"])
    result = invoke("benchmark", gtzan_features, "-m", "logreg", "--train-list", train,
                    "--test-list", gtzan_splits / "test_filtered.txt", "-o", tmp_path / "out")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "L.txt" in result.output and "'blues'" in result.output and "solver" not in result.output


def test_test_classes_missing_from_training_are_warned(tmp_path, gtzan_like):
    train = write_list(tmp_path / "train.txt", [f"{g}/{g}.{i:05d}.wav" for g in ("blues", "jazz") for i in range(4)])
    test = write_list(tmp_path / "test.txt", ["blues/blues.00005.wav", "metal/metal.00000.wav", "metal/metal.00001.wav"])
    result = invoke("benchmark", gtzan_like, "-m", "knn", "--train-list", train, "--test-list", test,
                    "-o", tmp_path / "out")  # fmt: skip
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps long lines
    # Said once; the test side lacking classes (classical, jazz) is a warning of its own.
    assert output.count("warning:") == 2 and output.count("the training side lacks") == 1
    assert "warning: the training side lacks class 'metal' (2 test tracks)" in output
    assert "warning: the test side has no tracks of classes 'classical', 'jazz'" in output
    assert "cannot be predicted correctly" in output
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "'metal' (2 test tracks)" in report  # the report carries it as a caveat


def test_single_class_training_fold_is_refused_naming_the_fold(gtzan_like):
    table = load_feature_table(gtzan_like)
    blues = np.flatnonzero(table.y == "blues")
    rest = np.flatnonzero(table.y != "blues")
    split = Split(1, 2, blues, rest, table.tracks[blues], table.tracks[rest])
    with pytest.raises(DataError, match=r"training side of repeat 2, fold 3 holds 6 tracks .*'blues'"):
        check_split_classes(table, [split], train_lists=None, test_list=None)


def test_model_value_error_in_a_fold_is_one_line_naming_model_and_fold():
    X = np.array([[0.0, 1.0], [1.0, np.nan], [0.5, 0.5], [1.0, 0.0]])
    y = np.array(["a", "b", "a", "b"])
    with pytest.raises(DataError, match=r"^model logreg failed on fold 2: Input X contains NaN"):
        _fit_predict(
            model="logreg", params={}, split_index=1, seed=0, n_jobs=1, X_train=X, y_train=y, X_test=X[:2],
            labels=["a", "b"], groups_train=np.arange(4).astype(str), where="fold 2",
        )


def test_model_parameter_error_in_cross_validation_names_the_fold(gtzan_like):
    # More neighbours than training rows: scikit-learn's ValueError at predict time.
    with pytest.raises(DataError, match=r"model knn failed on fold 1: .*n_neighbors"):
        cross_validate_models(load_feature_table(gtzan_like), ["knn"], folds=2, progress=False,
                              model_params={"knn": {"n_neighbors": 500}})  # fmt: skip


@pytest.mark.parametrize(
    "model, params, reason",
    [
        # XGBoost's XGBoostError is a ValueError: kept translated.
        ("xgboost", {"subsample": 1.5}, r"value 1\.5 for Parameter subsample exceed bound"),
        # TensorFlow's OpError is not. A width far beyond memory raises ResourceExhaustedError;
        # one whose weight matrix has more than 2**63 elements raises InvalidArgumentError the
        # same way, without trying to allocate anything.
        ("dense", {"hidden_units": (2**62,)}, r"Shape \[6,\d+\] would have more than 2\*\*63 - 1 elements$"),
    ],
)
def test_library_errors_in_a_fold_are_one_line_naming_model_and_fold(tmp_path, model, params, reason):
    # Two tracks per class: too few for the dense model's inner early-stopping split.
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=2))
    with pytest.raises(DataError, match=rf"^model {model} failed on fold 1: {reason}"):
        cross_validate_models(table, [model], folds=2, progress=False, model_params={model: params})


def test_dense_cross_validates_folds_with_few_tracks_per_class(tmp_path):
    # 12 tracks per class and 2 folds: 6 per class train, fewer than the 7 parts of the dense
    # model's early-stopping split; it holds out fewer, larger parts instead of failing.
    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=12))
    results = cross_validate_models(table, ["dense"], folds=2, progress=False,
                                    model_params={"dense": {"max_epochs": 5, "hidden_units": (8,)}})  # fmt: skip
    assert [len(fold.predictions) for fold in results.models[0].folds] == [24, 24]


def test_programming_errors_in_a_fold_are_not_disguised(monkeypatch):
    import genre.classifiers.registry as registry

    class Broken:
        def fit(self, X, y):
            raise TypeError("a bug, not the user's data")

    monkeypatch.setattr(registry, "make_model", lambda *a, **k: Broken())
    X, y = np.zeros((4, 2)), np.array(["a", "b", "a", "b"])
    with pytest.raises(TypeError, match="a bug"):
        _fit_predict(
            model="logreg", params={}, split_index=0, seed=0, n_jobs=1, X_train=X, y_train=y, X_test=X,
            labels=["a", "b"], groups_train=np.arange(4).astype(str), where="fold 1",
        )


# -- 5. group column gaps, duplicated file names -------------------------------------------------
def test_named_group_column_with_missing_values_is_read_as_a_found_one_is(tmp_path, gtzan_like):
    # One rule, named or found: a track without a group is its own group, and results say so
    # (tests/test_input_hygiene.py has the rest). A named column empty in every row is refused.
    frame = pd.read_csv(gtzan_like)
    frame["artist"] = [f"artist{i % 5}" for i in range(len(frame))]
    frame.loc[[3, 7], "artist"] = np.nan
    frame.to_csv(gtzan_like, index=False)
    named, found = load_feature_table(gtzan_like, group_col="artist"), load_feature_table(gtzan_like)
    assert named.groups.tolist() == found.groups.tolist() and named.n_ungrouped_tracks == 2
    result = invoke("benchmark", gtzan_like, "-m", "knn", "-k", "2", "--group-col", "artist", "-o", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert "2 of 24 tracks have no group in column 'artist'" in " ".join(result.output.split())
    frame["artist"] = np.nan
    frame.to_csv(gtzan_like, index=False)
    with pytest.raises(DataError, match=r"--group-col 'artist' is empty in every row"):
        load_feature_table(gtzan_like, group_col="artist")


def test_duplicated_file_names_are_refused_in_a_one_row_per_file_table(tmp_path, gtzan_like):
    frame = pd.read_csv(gtzan_like)
    frame = pd.concat([frame, frame.iloc[[0, 0, 5]]], ignore_index=True)
    frame.to_csv(gtzan_like, index=False)
    with pytest.raises(DataError, match=r"2 file names .* 'blues\.00000' \(3 rows\), 'blues\.00005' \(2 rows\)"):
        load_feature_table(gtzan_like)
    # With a segment column the repeated names are a track's segments, as before.
    frame.insert(1, "segment", range(len(frame)))
    frame.to_csv(gtzan_like, index=False)
    table = load_feature_table(gtzan_like)
    assert table.n_rows == 27 and table.n_tracks == 24


def test_three_second_table_segments_still_make_tracks(tmp_path):
    table = load_feature_table(write_gtzan_table(tmp_path / "features_3_sec.csv", tracks_per_class=3, segments=4))
    assert table.n_rows == 48 and table.n_tracks == 12
