"""Audit of `genre train` and `genre predict` (2026-12-04): messages a researcher meets.

Each test pins one problem found by running the commands: a refusal that named valid
parameters as refused, a truncated model file called "not a genre model file", swapped
arguments, a model file given to `train`, ungrammatical single-track advice, and a runner-up
chosen among classes of probability 0.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from genre import cli
from genre.classifiers.persistence import load_model
from genre.classifiers.registry import make_model
from genre.classifiers.training import train_model
from genre.errors import DataError, ModelFileError, ParameterError
from tests.feature_tables import write_gtzan_table

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(cli.app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def lda_model(tmp_path_factory):
    """A small external table and an LDA trained on it (fast: no tuning, no network)."""
    root = tmp_path_factory.mktemp("audit-train-predict")
    table = write_gtzan_table(root / "features_30_sec.csv", tracks_per_class=6)
    model = root / "lda.genre-model"
    train_model(table, model="lda", output=model)
    return table, model


# -- --param refusals -------------------------------------------------------------------------
def test_a_refused_parameter_is_named_alone_not_with_the_valid_ones():
    with pytest.raises(ParameterError) as caught:
        make_model("svm", C_grid=[10.0], C=3)
    message = str(caught.value)
    assert "these parameters ['C']" in message  # was ['C', 'C_grid']: C_grid is the SVM's own
    assert "it takes: C_grid" in message


def test_an_ensemble_member_parameter_is_judged_with_the_members_given():
    with pytest.raises(ParameterError) as caught:
        make_model("ensemble", members=["logreg"], logreg__C=2.0, svm__C_grid=[1.0])
    assert "these parameters ['svm__C_grid']" in str(caught.value)


# -- model files --------------------------------------------------------------------------------
def test_a_truncated_model_file_is_called_cut_short_not_foreign(lda_model, tmp_path):
    _, model = lda_model
    cut = tmp_path / "cut.genre-model"
    cut.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    with pytest.raises(ModelFileError) as caught:
        load_model(cut)
    message = str(caught.value)
    assert "corrupt model file" in message and "cut short" in message
    assert "not a genre model file" not in message
    other = tmp_path / "notes.genre-model"  # no zip at all: still not ours
    other.write_text("not a model")
    with pytest.raises(ModelFileError, match="not a genre model file \\(not a zip archive\\)"):
        load_model(other)


def test_predict_with_the_arguments_swapped_says_the_model_comes_first(lda_model, tmp_path):
    table, model = lda_model
    result = invoke("predict", table, model)
    assert result.exit_code == 2
    assert f"{model} is; the model comes first: genre predict {model}" in result.output
    assert "Traceback" not in result.output


def test_train_refuses_a_model_file_as_its_table(lda_model, tmp_path):
    _, model = lda_model
    with pytest.raises(DataError, match="is a model file written by 'genre train', not a feature table"):
        train_model(model, model="lda", output=tmp_path / "again.genre-model")
    assert not (tmp_path / "again.genre-model").exists()


# -- classes of one track -----------------------------------------------------------------------
def _table_with_single_tracks(path, *, singles: int, full: int = 1):
    """``full`` classes of four tracks, then ``singles`` classes of one track each."""
    rng = np.random.default_rng(0)
    labels = [f"full{i}" for i in range(full) for _ in range(4)] + [f"solo{i}" for i in range(singles)]
    frame = pd.DataFrame(rng.normal(size=(len(labels), 3)), columns=["a_mean", "b_mean", "c_mean"])
    frame.insert(0, "filename", [f"t{i:03d}.wav" for i in range(len(labels))])
    frame["label"] = labels
    frame.to_csv(path, index=False)
    return path


def test_one_class_of_one_track_is_worded_in_the_singular_with_advice(tmp_path):
    table = _table_with_single_tracks(tmp_path / "t.csv", singles=1, full=2)
    with pytest.raises(DataError) as caught:
        train_model(table, model="lda", output=tmp_path / "m.genre-model")
    message = str(caught.value)
    assert "class 'solo0' has a single track" in message  # was "classes 'solo0' have"
    assert "add tracks to it or remove its rows" in message
    assert "--label-col" not in message  # one class of three: the label column is plausible


def test_most_classes_of_one_track_question_the_label_column(tmp_path):
    table = _table_with_single_tracks(tmp_path / "t.csv", singles=5, full=1)
    with pytest.raises(DataError, match="5 of 6 classes have one track: is 'label' really the label column"):
        train_model(table, model="lda", output=tmp_path / "m.genre-model")


# -- the predictions table ----------------------------------------------------------------------
def test_no_runner_up_when_every_other_class_has_probability_zero(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=buffer, width=120, soft_wrap=True))
    predictions = pd.DataFrame(
        {"path": ["a.wav"], "genre": ["metal"], "probability": [1.0], "prob_blues": [0.0], "prob_metal": [1.0]}
    )
    predictions.attrs["skipped"] = []
    cli._print_predictions(predictions, skipped_csv=None, unlisted="")
    shown = buffer.getvalue()
    assert "blues 0%" not in shown  # blues is no second choice, only the first of the zeros
    assert "–" in shown
