"""The Python API as a user calls it: one str is one name or path, never its characters; and
``genre benchmark`` refuses its option mistakes before extracting audio or fitting a model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from feature_tables import write_own_table, write_list
from typer.testing import CliRunner

from genre.cli import app
from genre.errors import DataError, ParameterError

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def table(tmp_path):
    return write_own_table(tmp_path / "table.csv", tracks_per_class=4, segments=1)


@pytest.fixture
def audio(tmp_path, write_wav):
    """A folder of label folders: 3 tones a label, 2 s each."""
    for label, base in (("low", 180.0), ("high", 2200.0)):
        for i in range(3):
            write_wav(tmp_path / "audio" / label / f"{label}.{i:05d}.wav", 2.0, freq=base + 37 * i, seed=i)
    return tmp_path / "audio"


@pytest.fixture
def no_extraction(monkeypatch):
    import genre.features.extract as engine

    def refuse(*args, **kwargs):
        raise AssertionError("audio was extracted before the option was checked")

    monkeypatch.setattr(engine, "extract_to_csv", refuse)


# -- 1. one str is one path or name ----------------------------------------------------------------
def test_predict_takes_one_path_as_a_list_of_one(low_high_model, tmp_path, write_wav, monkeypatch):
    from genre.classifiers import predict, predict_files
    from genre.classifiers.prediction import expand_audio_paths

    monkeypatch.chdir(tmp_path)  # "a.wav" as letters would be 'a', '.' (this folder), 'w', 'v'
    write_wav(tmp_path / "a.wav", 2.0, freq=200.0)
    for result in (
        predict(low_high_model, "a.wav"),
        predict_files(low_high_model, "a.wav"),
        predict_files(low_high_model, Path("a.wav")),
    ):
        assert result["path"].tolist() == ["a.wav"] and result["genre"].tolist() == ["low"]
        assert result.attrs["skipped"] == []
    assert expand_audio_paths("a.wav") == ([Path("a.wav")], [])


def test_predict_takes_one_feature_table_as_a_str(low_high_model, monkeypatch):
    from genre.classifiers import predict

    monkeypatch.chdir(low_high_model.parent)  # beside the model's training table
    result = predict(low_high_model, "features.csv")
    assert len(result) == 6 and set(result["genre"]) == {"low", "high"} and result.attrs["skipped"] == []


def test_benchmark_takes_one_model_column_and_list_file_as_a_str(table, tmp_path):
    from genre.benchmark import benchmark

    results, _ = benchmark(table, models="logreg", drop="mfcc_01_mean", folds=2)
    assert [m.name for m in results.models] == ["logreg"]
    assert results.dataset["ignored_columns"] == ["mfcc_01_mean"] and results.dataset["n_features"] == 5
    # Comma-separated, as --models and --drop take them.
    results, _ = benchmark(table, models="logreg, knn,", drop="mfcc_01_mean,mfcc_02_mean", folds=2)
    assert [m.name for m in results.models] == ["logreg", "knn"]
    assert results.dataset["ignored_columns"] == ["mfcc_01_mean", "mfcc_02_mean"]
    assert "models=['logreg', 'knn']" in results.command and "drop=['mfcc_01_mean', 'mfcc_02_mean']" in results.command
    tracks = [f"{g}/{g}.{t:05d}" for g in ("blues", "classical", "jazz", "metal") for t in range(4)]
    train = write_list(tmp_path / "train.txt", [t for t in tracks if not t.endswith("3")])
    test = write_list(tmp_path / "test.txt", [t for t in tracks if t.endswith("3")])
    for given in (str(train), train):
        results, _ = benchmark(table, models="logreg", train_lists=given, test_list=test)
        assert results.splits[0].n_test_tracks == 4 and results.splits[0].n_train_tracks == 12


def test_name_list_reads_a_str_as_the_command_line_does():
    from genre.text import name_list

    assert name_list("svm") == ["svm"]
    assert name_list(" svm , logreg,,") == ["svm", "logreg"]
    assert name_list("") == []
    assert name_list(("svm", "logreg")) == ["svm", "logreg"]
    assert name_list(["a,b"]) == ["a,b"]  # a sequence names one column per item


def test_an_unreadable_link_in_a_folder_is_left_out_not_a_traceback(low_high_model, tmp_path, write_wav, monkeypatch):
    from genre.classifiers import predict_files
    from genre.data.folder import list_audio_files

    folder = tmp_path / "songs"
    write_wav(folder / "a.wav", 2.0, freq=200.0)
    (folder / "locked.wav").symlink_to(tmp_path / "elsewhere.wav")  # dangling: its target is read for the message
    real = os.readlink

    def denied(path, *args, **kwargs):
        if Path(path).name == "locked.wav":
            raise PermissionError(13, "Permission denied", str(path))  # as /proc/1/cwd for a user
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "readlink", denied)
    reason = "link that cannot be read (Permission denied); left out"
    assert list_audio_files(folder).rejected == [(str(folder / "locked.wav"), reason)]
    result = predict_files(low_high_model, [folder])
    assert result["path"].tolist() == [str(folder / "a.wav")]
    assert result.attrs["skipped"] == [(str(folder / "locked.wav"), reason)]


# -- 2. benchmark's option mistakes, refused before any work ---------------------------------------
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"group_col": "singer"}, "--group-col 'singer' is not a column of its table"),
        ({"group_col": "artist"}, "--group-col 'artist': none of its files has a group"),
        ({"label_col": "genre"}, "--label-col 'genre' is not a column of its table"),
        ({"id_col": "filename"}, "--id-col 'filename' is not a column of its table"),
        ({"group_col": "group"}, "--group-col 'group': none of its files has a group"),
    ],
)
def test_an_audio_folder_refuses_columns_its_table_will_not_have_before_extracting(
    audio, tmp_path, no_extraction, options, message
):
    from genre.benchmark import benchmark

    with pytest.raises(ParameterError, match=message) as refused:
        benchmark(audio, output_dir=tmp_path / "report", models=["logreg"], folds=2, **options)
    said = str(refused.value)
    assert "label from a folder's label folders or a manifest's label column" in said and "a folder of label folders has no groups" in said
    assert not (tmp_path / "report" / "features").exists()


def test_the_cli_refuses_a_group_column_of_an_audio_folder_in_one_line(audio, tmp_path, no_extraction):
    result = invoke("benchmark", audio, "-m", "logreg", "-k", "2", "--group-col", "artist", "-o", tmp_path / "r")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"error: {audio}: --group-col 'artist': none of its files has a group" in flat(result.output)


@pytest.mark.parametrize("which", ["train", "test"])
def test_missing_list_files_are_refused_before_extracting(audio, tmp_path, no_extraction, which):
    from genre.benchmark import benchmark

    present = write_list(tmp_path / "present.txt", ["low/low.00000"])
    lists = {"train_lists": [tmp_path / "nope.txt"], "test_list": present}
    if which == "test":
        lists = {"train_lists": [present], "test_list": tmp_path / "nope.txt"}
    with pytest.raises(DataError, match="nope.txt: no such list file"):
        benchmark(audio, output_dir=tmp_path / "report", models=["logreg"], **lists)
    with pytest.raises(ParameterError, match="--train-list needs --test-list"):
        benchmark(audio, output_dir=tmp_path / "report", models=["logreg"], train_lists=present)


def test_a_refused_model_parameter_stops_an_audio_benchmark_before_extracting(audio, tmp_path, no_extraction):
    result = invoke("benchmark", audio, "-m", "knn,logreg", "-p", "logreg:C=-1", "-k", "2", "-o", tmp_path / "r")
    assert result.exit_code == 2, result.output
    said = flat(result.output)
    assert "model logreg: The 'C' parameter of LogisticRegression must be a float" in said and "fold" not in said


def test_a_refused_model_parameter_stops_a_table_benchmark_before_any_fit(table, monkeypatch):
    import genre.evaluation.cv as cv
    from genre.benchmark import benchmark

    def no_fit(*args, **kwargs):
        raise AssertionError("a model was fitted before the parameters were checked")

    monkeypatch.setattr(cv, "_run_all", no_fit)
    with pytest.raises(ParameterError, match=r"^model logreg: The 'C' parameter of LogisticRegression"):
        benchmark(table, models=["knn", "logreg"], model_params={"logreg": {"C": -1}}, folds=2)
    with pytest.raises(ParameterError, match=r"^model knn: The 'n_neighbors' parameter"):
        benchmark(table, models="knn", model_params={"knn": {"n_neighbors": 0}}, folds=2)


def test_check_models_runs_the_models_own_checks_without_fitting():
    from genre.benchmark import check_models
    from genre.classifiers.registry import available_models

    check_models(available_models())  # every model's defaults pass
    with pytest.raises(ParameterError, match="dense network: dropout must be"):
        check_models(["dense"], {"dense": {"dropout": 2.0}})
    with pytest.raises(ParameterError, match="CNN: dense_units must be an integer >= 1, got 0"):
        check_models(["cnn"], {"cnn": {"dense_units": 0}})
    # Inside a pipeline or an ensemble too.
    with pytest.raises(ParameterError, match="model ensemble: The 'C' parameter of LogisticRegression"):
        check_models(["ensemble"], {"ensemble": {"members": ["knn", "logreg"], "logreg__C": -1}})
    with pytest.raises(ParameterError, match="unknown model 'nope'"):
        check_models(["logreg", "nope"])
    with pytest.raises(ParameterError, match="--models: name at least one model"):
        check_models([" "])


# -- 3. predict given a manifest -------------------------------------------------------------------
def test_predict_says_a_manifest_is_no_feature_table(low_high_model, tmp_path):
    from genre.classifiers import predict

    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,label\naudio/a.wav,low\naudio/b.wav,high\n", encoding="utf-8")
    hint = "it looks like a manifest of audio files: extract its features first"
    with pytest.raises(DataError, match=hint):
        predict(low_high_model, [manifest])
    result = invoke("predict", low_high_model, manifest)
    assert result.exit_code == 2, result.output
    assert hint in flat(result.output) and "lacks" not in result.output
    # genre benchmark takes it as audio to extract (as a folder), and so says nothing of the kind.
    assert hint not in flat(invoke("benchmark", manifest, "-m", "logreg", "-o", tmp_path / "r").output)
    # A feature table of other columns is still told what it lacks.
    other = write_own_table(tmp_path / "other.csv", tracks_per_class=2, segments=1)
    with pytest.raises(DataError, match="lacks .* feature columns the model"):
        predict(low_high_model, [other])


def test_folds_with_a_test_list_and_bad_svm_grids_are_refused_before_extraction(tmp_path, monkeypatch):
    import genre.benchmark as bench

    folder = tmp_path / "audio"
    for genre_name in ("a", "b"):
        (folder / genre_name).mkdir(parents=True)
    test = tmp_path / "test.txt"
    test.write_text("a/x.wav\n")

    def no_extraction(*args, **kwargs):
        raise AssertionError("extracted before refusing")

    monkeypatch.setattr(bench, "extract_inputs", no_extraction)
    with pytest.raises(ParameterError, match=r"^--folds 3: a fixed partition"):
        bench.benchmark(folder, models=["lda"], test_list=test, folds=3, output_dir=tmp_path / "out")
    for model, params, said in (
        ("svm", {"C_grid": [-1]}, "C_grid"),
        ("xgboost", {"n_estimators": 0}, "n_estimators"),
        ("ensemble", {"weights": [1, 2]}, "weights"),
    ):
        with pytest.raises(ParameterError, match=said):
            bench.benchmark(folder, models=[model], model_params={model: params}, output_dir=tmp_path / "out")


def test_train_model_drops_one_named_column_not_its_letters(table, tmp_path):
    from genre.classifiers.training import train_model

    frame = __import__("pandas").read_csv(table)
    frame["tempo_bpm"] = 120.0
    frame.to_csv(table, index=False)
    from genre.classifiers.persistence import load_model

    train_model(table, model="lda", output=tmp_path / "m.genre", drop="tempo_bpm")
    columns = load_model(tmp_path / "m.genre").feature_columns
    assert list(columns) == [c for c in frame.columns if c.startswith("mfcc_")]  # tempo_bpm left out, whole
