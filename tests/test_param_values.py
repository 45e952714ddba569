"""Model parameter values: one value for a list parameter, the ``--param`` list syntax, values that
make a useless model, flags in ``--help``, and the results table of two inputs at 80 columns."""

from __future__ import annotations

import math

import numpy as np
import pytest
from feature_tables import write_gtzan_table, write_own_table
from typer.testing import CliRunner

from genre.classifiers.fit_errors import model_refusals
from genre.classifiers.registry import check_number, make_model
from genre.cli import _input_labels, _model_params, _param_value, app
from genre.errors import DataError, ParameterError

runner = CliRunner()


def invoke(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.fixture
def table(tmp_path):
    return write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=6)


def two_classes(n: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.array(["a", "b"] * (n // 2))
    X = rng.normal(size=(n, 4)) + (y == "a")[:, None] * 2.0
    return X, y


# -- 1. a single value for a list parameter -------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "best"),
    [
        ({"C_grid": 10}, {"kernel": "rbf", "C": 10, "gamma": "scale"}),
        ({"C_grid": np.float64(2.5)}, {"kernel": "rbf", "C": 2.5, "gamma": "scale"}),
        ({"C_grid": 1, "gamma_grid": 0.1}, {"kernel": "rbf", "C": 1, "gamma": 0.1}),
        ({"C_grid": [1], "kernels": "linear"}, {"kernel": "linear", "C": 1}),
        ({"C_grid": 1, "gamma_grid": "auto"}, {"kernel": "rbf", "C": 1, "gamma": "auto"}),
    ],
)
def test_svm_takes_a_single_value_as_a_grid_of_one(params, best):
    from genre.classifiers.svm import TunedSVC

    model = TunedSVC(**params).fit(*two_classes())
    assert model.best_params_ == best
    assert model.get_params()[next(iter(params))] is params[next(iter(params))]  # stored as given


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"C_grid": []}, "SVM: C_grid is empty"),
        ({"C_grid": 0}, "every C_grid value must be a number > 0, got 0"),
        ({"C_grid": (1, -3)}, "every C_grid value must be a number > 0, got -3"),
        ({"C_grid": "abc"}, "every C_grid value must be a number > 0, got 'abc'"),
        ({"C_grid": True}, "every C_grid value"),
        ({"C_grid": math.nan}, "every C_grid value"),
        ({"C_grid": math.inf}, "every C_grid value"),
        ({"gamma_grid": "big"}, "every gamma_grid value must be a number > 0, 'scale' or 'auto', got 'big'"),
        ({"gamma_grid": [0.1, 0]}, "every gamma_grid value"),
        ({"gamma_grid": ()}, "gamma_grid is empty"),
        ({"kernels": "poly"}, "kernels must be 'rbf' and/or 'linear', got \\['poly'\\]"),
        ({"kernels": []}, "kernels is empty"),
        ({"kernels": 3}, "kernels must be"),
        ({"cv": 1}, "SVM: cv must be an integer >= 2, got 1"),
        ({"cv": 2.5}, "cv must be an integer"),
        ({"max_tune_rows": 0}, "SVM: max_tune_rows must be an integer >= 1, got 0"),
        ({"max_tune_rows": None}, "max_tune_rows must be an integer"),
    ],
)
def test_svm_refuses_nonsense_in_fit_naming_the_parameter(params, message):
    from genre.classifiers.svm import TunedSVC

    model = TunedSVC(**params)  # __init__ only stores
    with pytest.raises(ParameterError, match=message):
        model.fit(*two_classes())


def test_a_single_value_reaches_every_model_with_an_svm():
    from genre.classifiers.svm import TunedSVC

    for name, options in [("svm", {"C_grid": 10}), ("musicnn-svm", {"C_grid": 10}),
                          ("ensemble", {"members": "svm", "svm__C_grid": 10})]:  # fmt: skip
        model = make_model(name, **options)
        svc = [step for _, step in model.get_params().items() if isinstance(step, TunedSVC)]
        assert [s.C_grid for s in svc] == [10], name
    make_model("ensemble", members="svm", svm__C_grid=10).fit(*two_classes())


@pytest.mark.parametrize(("value", "expected"), [(7, [7]), ("rbf", ["rbf"]), (np.array(3.0), [3.0]), ((1, 2), [1, 2])])
def test_as_values_reads_one_value_as_a_list_of_one(value, expected):
    from genre.classifiers.registry import as_values

    assert as_values(value, name="x", owner="M") == expected
    with pytest.raises(ParameterError, match="^M: x is empty; give at least one value"):
        as_values([], name="x", owner="M")


def test_dense_and_cnn_take_one_number_as_one_layer():
    from genre.classifiers.cnn import MelCNNClassifier

    X, y = np.random.default_rng(0).random((60, 4)), np.repeat(["a", "b", "c"], 20)
    dense = make_model("dense", hidden_units=16, max_epochs=2).fit(X, y)
    widths = [layer.units for layer in dense.named_steps["model"].model_.layers if hasattr(layer, "units")]
    assert widths == [16, 3]  # one hidden layer, then the softmax
    with pytest.raises(ParameterError, match="hidden_units is empty"):
        make_model("dense", hidden_units=[]).fit(X, y)
    network = MelCNNClassifier(filters=8, n_mels=32, patch_frames=16)._build_network(n_classes=3)
    assert [layer.filters for layer in network.layers if hasattr(layer, "filters")] == [8]


def test_train_with_a_single_value_for_a_list_parameter(table, tmp_path):
    for args in (["-m", "svm", "-p", "C_grid=10"], ["-m", "svm", "-p", "gamma_grid=0.1"],
                 ["-m", "ensemble", "-p", "members=svm,logreg", "-p", "svm__C_grid=10"]):  # fmt: skip
        out = tmp_path / "m.genre-model"
        result = invoke("train", table, *args, "-o", out)
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output


def test_benchmark_with_a_single_value_in_parallel_folds(table, tmp_path):
    result = invoke("benchmark", table, "-m", "svm", "-p", "C_grid=10", "-k", "2", "-j", "2", "-o", tmp_path / "r")
    assert result.exit_code == 0, result.output


def test_benchmark_names_a_refused_grid_value_in_one_line(table, tmp_path):
    result = invoke("benchmark", table, "-m", "svm", "-p", "C_grid=[1,0]", "-k", "2", "-j", "1", "-o", tmp_path / "r")
    assert result.exit_code == 2
    assert "SVM: every C_grid value must be a number > 0, got 0" in result.output
    assert "Traceback" not in result.output


def test_a_type_error_with_user_parameters_is_one_line_naming_them():
    with pytest.raises(ParameterError, match=r"^fit x: 'int' object is not iterable \(.*given: C_grid=10\)$"):
        with model_refusals(DataError, "fit x", params={"C_grid": 10}):
            list(10)
    # Long values are shortened in the message.
    with pytest.raises(ParameterError, match="given: grid=\\[0, 1, 2, .*…\\)$"):
        with model_refusals(DataError, "fit x", params={"grid": list(range(100))}):
            raise TypeError("bad")


def test_a_type_error_without_user_parameters_is_a_bug_shown_as_such():
    with pytest.raises(TypeError, match="not iterable"):
        with model_refusals(DataError, "fit x", params={}):
            list(10)
    with pytest.raises(TypeError):
        with model_refusals(DataError, "fit x"):
            list(10)


@pytest.mark.filterwarnings("ignore:Parameter p is found in metric_params")
def test_train_turns_a_type_error_from_a_parameter_into_one_line(table, tmp_path):
    # scikit-learn compares metric_params["p"] with 1: a str there raises TypeError in fit.
    out = tmp_path / "m.genre-model"
    result = invoke("train", table, "-m", "knn", "-p", "metric_params={'p': 'x'}", "-o", out)
    assert result.exit_code == 2
    assert "error: cannot fit model 'knn'" in result.output and "metric_params={'p': 'x'}" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.filterwarnings("ignore:Parameter p is found in metric_params")
def test_benchmark_turns_a_type_error_from_a_parameter_into_one_line(table, tmp_path):
    result = invoke(
        "benchmark", table, "-m", "knn", "-p", "metric_params={'p': 'x'}", "-k", "2", "-j", "1", "-o", tmp_path / "r"
    )
    assert result.exit_code == 2
    assert "metric_params={'p': 'x'}" in result.output and "Traceback" not in result.output


# -- 2. the --param list syntax --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linear", "linear"),
        ("[linear]", ["linear"]),
        ("[ linear ]", ["linear"]),
        ("linear,", ["linear"]),
        (",linear,,", ["linear"]),
        ("[svm, logreg]", ["svm", "logreg"]),
        ("[svm,logreg,]", ["svm", "logreg"]),
        ("svm,logreg", ["svm", "logreg"]),
        ("[0.01, scale]", [0.01, "scale"]),
        ("0.1,scale", [0.1, "scale"]),
        ("[1, 10]", [1, 10]),
        ("1,10", (1, 10)),
        ("10,", (10,)),
        ("[]", []),
        ("'a,b'", "a,b"),
        ("[linear", "[linear"),
    ],
)
def test_list_values(text, expected):
    assert _param_value(text) == expected
    assert type(_param_value(text)) is type(expected)


def test_an_empty_value_is_refused():
    with pytest.raises(ParameterError, match="--param 'C_grid=': give C_grid a value"):
        _model_params(["C_grid="], models=["svm"])
    with pytest.raises(ParameterError, match="give C_grid a value"):
        _model_params(["svm:C_grid= "], models=["svm"])


def test_a_one_item_list_reaches_the_model_as_a_list(table, tmp_path):
    for value in ("linear", "[linear]", "linear,"):
        params = _model_params([f"kernels={value}"], models=["svm"])["svm"]
        model = make_model("svm", C_grid=1, **params).fit(*two_classes())
        assert model.named_steps["model"].best_params_ == {"kernel": "linear", "C": 1}


def test_the_ensemble_takes_one_member_name():
    model = make_model("ensemble", members="logreg", weights=1)
    assert [name for name, _ in model.estimators] == ["logreg"]
    model.fit(*two_classes())
    assert model.predict_proba(two_classes()[0]).shape == (40, 2)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([], "members must be a model name or a list of model names"),
        (3, "got 3"),
        (["svm", 3], "members must be"),
        (["svm", ""], "members must be"),
        ("nonsense", "unknown model 'nonsense'"),
    ],
)
def test_the_ensemble_refuses_members_that_are_not_model_names(members, message):
    with pytest.raises(ParameterError, match=message):
        make_model("ensemble", members=members)


def test_train_an_ensemble_of_one_member(table, tmp_path):
    out = tmp_path / "vote.genre-model"
    result = invoke("train", table, "-m", "ensemble", "-p", "members=logreg", "-o", out)
    assert result.exit_code == 0, result.output


def test_param_help_says_how_to_write_a_one_item_list():
    result = invoke("train", "--help", env={"COLUMNS": "300"})
    text = " ".join(result.output.replace("│", " ").split())
    assert "[linear] (one item)" in text and "svm,logreg" in text and "C_grid=10" in text


# -- 3. flags in --help ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("command", "flags"),
    [
        ([], ["--version", "--help"]),
        (["extract"], ["--dask", "--strict", "--overwrite", "--help"]),
        (["benchmark"], ["--no-groups", "--help"]),
        (["train"], ["--help"]),
    ],
)
def test_help_shows_flags_without_a_value(command, flags):
    result = invoke(*command, "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    lines = {line.replace("│", " ").split()[0]: line for line in result.output.splitlines() if "│ --" in line}
    for flag in flags:
        assert flag in lines
    if command == ["extract"]:
        assert "<int>" in lines["--jobs"]  # options that take a value still say which
        assert "PATH" in lines["--output"]


def test_a_flag_still_takes_no_value(tmp_path):
    result = invoke("extract", "synthetic", "--strict", "true", "-o", tmp_path / "f.csv")
    assert result.exit_code == 2 and "unexpected extra argument" in result.output


# -- 4. values that make a useless model ----------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_estimators": 0}, "XGBoost: n_estimators must be an integer >= 1, got 0"),
        ({"n_estimators": 5.0}, "n_estimators must be an integer"),
        ({"n_estimators": True}, "n_estimators must be an integer"),
        ({"learning_rate": 0}, "learning_rate must be a number > 0, got 0"),
        ({"learning_rate": math.nan}, "learning_rate"),
        ({"max_depth": -1}, "max_depth must be an integer >= 0"),
        ({"subsample": 0}, "subsample must be a number > 0, got 0"),
        ({"subsample": "x"}, "subsample must be a number > 0, got 'x'"),
        ({"colsample_bytree": 0.0}, "colsample_bytree must be a number > 0"),
        ({"min_child_weight": -1}, "min_child_weight must be a number >= 0"),
        ({"reg_lambda": "x"}, "reg_lambda must be a number >= 0, got 'x'"),
    ],
)
def test_xgboost_refuses_parameters_of_a_useless_model(params, message):
    # A fraction above 1 is left to XGBoost, which refuses it in one line itself
    # (tests/test_train_predict_models.py::test_library_refusals_in_train_are_one_line).
    from genre.classifiers.boosting import XGBoostClassifier

    with pytest.raises(ParameterError, match=message):
        XGBoostClassifier(**params).fit(*two_classes())


def test_xgboost_takes_the_edges_of_its_ranges():
    from genre.classifiers.boosting import XGBoostClassifier

    X, y = two_classes()
    model = XGBoostClassifier(n_estimators=1, max_depth=0, subsample=1, colsample_bytree=1.0, min_child_weight=0,
                              reg_lambda=0, learning_rate=np.float32(0.3)).fit(X, y)  # fmt: skip
    assert model.predict_proba(X).shape == (40, 2)


def test_train_refuses_zero_boosting_rounds(table, tmp_path):
    out = tmp_path / "m.genre-model"
    result = invoke("train", table, "-m", "xgboost", "-p", "n_estimators=0", "-o", out)
    assert result.exit_code == 2
    assert "error: XGBoost: n_estimators must be an integer >= 1, got 0" in result.output
    assert not out.exists()
    result = invoke("train", table, "-m", "svm", "-p", "max_tune_rows=0", "-o", out)
    assert result.exit_code == 2 and "max_tune_rows must be an integer >= 1" in result.output


@pytest.mark.parametrize(
    ("value", "options", "message"),
    [
        (0, dict(integer=True, low=1), "m: x must be an integer >= 1, got 0"),
        (0, dict(low=0, low_open=True), "must be a number > 0"),
        (2, dict(high=1), "must be a number <= 1"),
        (1, dict(high=1, high_open=True), "must be a number < 1"),
        (1.5, dict(low=0, high=1, low_open=True), "must be a number in \\(0, 1\\]"),
        (math.inf, dict(), "must be a number, got inf"),
        (None, dict(integer=True), "must be an integer, got None"),
    ],
)
def test_check_number_refuses(value, options, message):
    with pytest.raises(ParameterError, match=message):
        check_number(value, name="x", owner="m", **options)


@pytest.mark.parametrize("value", [1, np.int64(3), pytest.param(10**400, id="10**400")])
def test_check_number_accepts_integers_of_any_kind_and_size(value):
    check_number(value, name="x", owner="m", integer=True, low=1)
    check_number(value, name="x", owner="m", low=0, low_open=True)


# -- 5. the results table of two inputs at 80 columns ---------------------------------------------
@pytest.mark.parametrize(
    ("descriptions", "labels"),
    [
        (["a.csv (handcrafted, 6 features)", "b.csv (musicnn, musicnn_max_pool_*, 6 of 7 features)"],
         ["handcrafted", "musicnn"]),
        (["a.csv (handcrafted, 6 features)", "b.csv (handcrafted, 7 features)"], ["a.csv", "b.csv"]),
        (["first-table-of-many.csv (x, 6 features)", "second-table-of-many.csv (x, 7 features)"], ["1", "2"]),
        (["a.csv (audio, log-mel patches)", "–"], ["audio", "–"]),
        (["a (1).csv (handcrafted, 6 features)", "b.csv (musicnn, 6 features)"], ["handcrafted", "musicnn"]),
        (["t [bpm].csv (x, 6 features)", "b.csv (x, 7 features)"], ["t [bpm].csv", "b.csv"]),
    ],
)  # fmt: skip
def test_input_labels_are_short_and_distinct(descriptions, labels):
    assert list(_input_labels(descriptions).values()) == labels


def test_results_of_two_inputs_fit_80_columns(tmp_path):
    from test_multi_input import write_musicnn_table

    handcrafted = write_own_table(tmp_path / "clean.handcrafted_features.csv", tracks_per_class=6, segments=2)
    musicnn = write_musicnn_table(tmp_path / "musicnn_embeddings.csv", handcrafted)
    result = invoke(
        "benchmark", handcrafted, musicnn, "-m", "logreg,musicnn-logreg", "-k", "2", "-j", "1", "-o", tmp_path / "r",
        env={"COLUMNS": "80"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["model", "input"])
    table = lines[start : start + 4]
    assert all(len(line) <= 80 for line in table), "\n".join(table)
    assert "…" not in "\n".join(table)
    rows = {line.split()[0]: line.split() for line in table[2:]}
    assert rows["logreg"][1] == "handcrafted" and rows["musicnn-logreg"][1] == "musicnn"
    # Each input described once, below the table.
    assert "input handcrafted: clean.handcrafted_features.csv (handcrafted, 6 features)" in lines
    assert sum(line.startswith("input musicnn: musicnn_embeddings.csv (musicnn,") for line in lines) == 1
