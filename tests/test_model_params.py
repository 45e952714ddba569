"""Model parameters from the command line (``--param``), ``genre models``, and ensemble member parameters."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from feature_tables import write_gtzan_table
from genre.classifiers.persistence import load_model
from genre.classifiers.registry import available_models, get_spec, make_model
from genre.cli import _model_params, app
from genre.errors import ParameterError

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def table(tmp_path):
    return write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=8)


# -- parsing --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C_grid=[1, 10]", [1, 10]),
        ("C_grid=1,10", (1, 10)),
        ("n_estimators=50", 50),
        ("learning_rate=0.05", 0.05),
        ("weights=None", None),
        ("verbose=True", True),
        ("kernels=rbf", "rbf"),
        ("kernels='linear'", "linear"),
        ("members=svm,logreg", ["svm", "logreg"]),
        ("members = svm, logreg ", ["svm", "logreg"]),
        ("hidden_units=(128, 64)", (128, 64)),
    ],
)
def test_values_are_literals_or_text(text, expected):
    assert _model_params([text], models=["m"]) == {"m": {text.partition("=")[0].strip(): expected}}


def test_model_prefix_routes_each_parameter():
    params = _model_params(
        ["svm:C_grid=[3]", "xgboost:max_depth=3", "xgboost:n_estimators=5"], models=["svm", "xgboost"]
    )
    assert params == {"svm": {"C_grid": [3]}, "xgboost": {"max_depth": 3, "n_estimators": 5}}
    # A colon after '=' belongs to the value.
    assert _model_params(["kernels=a:b"], models=["svm"]) == {"svm": {"kernels": "a:b"}}


@pytest.mark.parametrize(
    ("texts", "models", "message"),
    [
        (["C_grid"], ["svm"], "write NAME=VALUE"),
        (["=3"], ["svm"], "write NAME=VALUE"),
        ([":C=3"], ["svm"], "write NAME=VALUE"),
        (["n_estimators=5"], ["svm", "xgboost"], "say which model"),
        (["knn:n_neighbors=3"], ["svm", "xgboost"], "'knn' is not being run"),
    ],
)
def test_malformed_parameters_are_refused(texts, models, message):
    with pytest.raises(ParameterError, match=message):
        _model_params(texts, models=models)


# -- the registry ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [m for m in available_models() if m != "ensemble"])
def test_every_listed_parameter_is_accepted(name):
    spec = get_spec(name)
    defaults = spec.configured_step(spec.build()).get_params(deep=False)
    for key in spec.parameters():
        head, _, head_key = key.rpartition("__")  # cnn-svm's svm__C_grid: the head's own default
        head_spec = get_spec(head) if head else spec
        default = head_spec.configured_step(head_spec.build()).get_params(deep=False)[head_key] if head else defaults[key]
        make_model(name, **{key: default})


@pytest.mark.parametrize(("name", "head"), [("cnn-svm", "svm"), ("cnn-xgboost", "xgboost")])
def test_cnn_embedding_heads_take_prefixed_parameters(name, head):
    head_key = {"svm": "C_grid", "xgboost": "max_depth"}[head]
    value = {"svm": (1.0, 100.0), "xgboost": 2}[head]
    model = make_model(name, max_epochs=3, **{f"{head}__{head_key}": value})
    assert model.steps[0][1].max_epochs == 3  # the CNN embedding
    assert model.named_steps["model"].get_params()[head_key] == value
    assert make_model(name).named_steps["model"].get_params()[head_key] != value  # defaults untouched
    assert f"{head}__{head_key}" in get_spec(name).parameters()
    with pytest.raises(ParameterError, match=f"model '{name}' does not accept .*{head}__nonsense.*it takes: .*{head}__"):
        make_model(name, **{f"{head}__nonsense": 1})
    with pytest.raises(ParameterError, match=f"model '{name}' does not accept"):
        make_model(name, **{head_key: value})  # unprefixed: the CNN has no such parameter


def test_a_refused_parameter_names_the_accepted_ones():
    with pytest.raises(ParameterError, match=r"model 'svm' does not accept .*'C'.*it takes: C_grid, cv"):
        make_model("svm", C=3)


def test_ensemble_members_and_their_parameters():
    model = make_model("ensemble", members=["svm", "logreg"], svm__C_grid=(1.0, 10.0), logreg__C=0.5)
    assert [name for name, _ in model.estimators] == ["svm", "logreg"]
    params = model.get_params()
    assert params["svm__model__C_grid"] == (1.0, 10.0)
    assert params["logreg__model__C"] == 0.5


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"xgboost__n_estimators": 5}, "the members are \\['svm', 'logreg'\\]"),
        ({"svm__C": 3}, "does not accept"),
        ({"members": 3}, "list of model names"),  # one name is a list of one (tests/test_param_values.py)
    ],
)
def test_ensemble_refuses_parameters_of_no_member(params, message):
    options = {"members": ["svm", "logreg"], **params}
    with pytest.raises(ParameterError, match=message):
        make_model("ensemble", **options)


# -- the command line -----------------------------------------------------------------------------
def test_train_with_parameters_stores_them(table, tmp_path):
    out = tmp_path / "vote.genre"
    result = invoke("train", table, "-m", "ensemble", "-p", "members=svm,logreg", "-p", "svm__C_grid=[1,10]", "-o", out)
    assert result.exit_code == 0, result.output
    model = load_model(out)
    assert [name for name, _ in model.estimator.estimators] == ["svm", "logreg"]
    assert model.estimator.estimators_[0].named_steps["model"].C_grid == [1, 10]
    assert model.meta["extra"]["params"] == {"members": ["svm", "logreg"], "svm__C_grid": [1, 10]}


def test_train_refuses_a_parameter_without_traceback(table, tmp_path):
    result = invoke("train", table, "-m", "svm", "-p", "C=3", "-o", tmp_path / "m.genre")
    assert result.exit_code == 2
    assert "it takes: C_grid" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "m.genre").exists()


def test_benchmark_records_parameters_per_model(table, tmp_path):
    result = invoke(
        "benchmark", table, "-m", "svm,xgboost", "-p", "xgboost:n_estimators=7", "--folds", "2", "-j", "1",
        "-o", tmp_path / "report",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    models = {m["name"]: m for m in json.loads((tmp_path / "report" / "results.json").read_text())["models"]}
    assert models["xgboost"]["params"] == {"n_estimators": 7}
    assert models["svm"]["params"] == {}
    report = (tmp_path / "report" / "report.md").read_text()
    assert "--param xgboost:n_estimators=7" in report and "n_estimators=7" in report


def test_benchmark_refuses_a_parameter_before_any_fit(table, tmp_path):
    result = invoke("benchmark", table, "-m", "svm,xgboost", "-p", "xgboost:depth=3", "-o", tmp_path / "report")
    assert result.exit_code == 2
    assert "model 'xgboost' does not accept these parameters ['depth']" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "report" / "results.json").exists()


def test_models_lists_every_model_with_its_parameters():
    result = runner.invoke(app, ["models"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    for name in available_models():
        assert name in result.output
    # With the defaults, written as --param takes them (brackets kept, not read as markup).
    assert "C_grid=[3.0,10.0,30.0], cv=3, gamma_grid=[scale], kernels=[rbf], max_tune_rows=3000" in result.output
    assert "hidden_units=[256,128,64]" in result.output
    assert "members=[svm,xgboost,dense], weights=None, <member>__<parameter>" in result.output
    assert "svm__C_grid=[3.0,10.0,30.0]" in result.output  # cnn-svm's head, with its defaults
