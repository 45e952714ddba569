"""`genre train` and `genre predict` end to end, on audio and tables made by the tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from genre.cli import app

runner = CliRunner()

#: Two "genres" that differ in pitch region: any reasonable model separates them.
PITCHES = {"low": (110.0, 130.0, 150.0, 170.0, 190.0, 210.0), "high": (1800.0, 2000.0, 2200.0, 2400.0, 2600.0, 2800.0)}


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def audio_model(tmp_path_factory):
    """A folder of labelled tones, its feature table, and an SVM trained on it."""
    from tests.conftest import tone_feature_table

    root = tmp_path_factory.mktemp("train-predict")
    features = tone_feature_table(root, PITCHES, seconds=3.0)
    model = root / "svm.genre"
    result = invoke("train", features, "--model", "svm", "-o", model)
    assert result.exit_code == 0, result.output
    assert "trained svm on" in result.output and "note:" not in result.output
    return root, features, model


def test_predict_audio_files_and_folders(audio_model, write_wav, tmp_path):
    _, _, model = audio_model
    low = write_wav(tmp_path / "new" / "low.wav", 3.0, freq=160.0, seed=11)
    high = write_wav(tmp_path / "new" / "sub" / "high.wav", 3.0, freq=2300.0, seed=12)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt not really audio")
    output = tmp_path / "out" / "predictions.csv"

    result = invoke("predict", model, tmp_path / "new", broken, "-o", output)
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "broken.wav" in result.output
    assert "Traceback" not in result.output

    table = pd.read_csv(output)
    assert list(table.columns) == ["path", "genre", "probability", "prob_high", "prob_low"]
    assert table["path"].tolist() == [str(low), str(high)]  # folder contents, sorted
    assert table.set_index("path").loc[str(low), "genre"] == "low"
    assert table.set_index("path").loc[str(high), "genre"] == "high"
    np.testing.assert_allclose(table[["prob_high", "prob_low"]].sum(axis=1), 1.0, atol=1e-6)
    assert (table["probability"] >= 0.5).all()
    # atomic: no temporary left
    written = ["predictions.csv", "predictions.json", "predictions.skipped.csv"]
    assert sorted(p.name for p in output.parent.iterdir()) == written


def test_predict_matches_the_library(audio_model, write_wav, tmp_path):
    from genre.classifiers.prediction import predict_files

    _, _, model = audio_model
    clip = write_wav(tmp_path / "clip.wav", 3.0, freq=2100.0, seed=3)
    missing = tmp_path / "short.wav"
    write_wav(missing, 0.05)  # shorter than one segment
    predictions = predict_files(model, [clip, missing])
    assert predictions["genre"].tolist() == ["high"]
    assert [path for path, _ in predictions.attrs["skipped"]] == [str(missing)]


def test_predict_from_the_feature_table(audio_model, tmp_path):
    _, features, model = audio_model
    output = tmp_path / "table-predictions.csv"
    result = invoke("predict", model, features, "-o", output)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(output)
    assert len(table) == 12
    # path: the audio file as the table names it, so its folder is the truth.
    assert table["path"].tolist() == pd.read_csv(features)["path"].unique().tolist()
    truth = table["path"].str.split("/").str[-2]
    assert (table["genre"] == truth).mean() >= 0.9


def test_table_with_other_columns_is_refused(audio_model, tmp_path):
    _, features, model = audio_model
    frame = pd.read_csv(features)
    frame.drop(columns=[frame.columns[-1]]).to_csv(tmp_path / "fewer.csv", index=False)
    result = invoke("predict", model, tmp_path / "fewer.csv")
    assert result.exit_code == 2
    assert "lacks 1 feature column" in result.output


def test_external_table_model_cannot_predict_audio(write_wav, tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat(["rock", "pop"], 15)
    frame = pd.DataFrame(rng.normal(size=(30, 4)), columns=["a", "b", "c", "d"])
    frame["a"] += 3.0 * (labels == "rock")
    frame.insert(0, "filename", [f"clip{i:03d}.wav" for i in range(30)])
    frame["notes"] = "x"
    frame["genre_name"] = labels
    csv = tmp_path / "external.csv"
    frame.to_csv(csv, index=False)

    model = tmp_path / "logreg.genre"
    result = invoke("train", csv, "-m", "logreg", "-o", model, "--label-col", "genre_name", "--id-col", "filename",
                    "--drop", "d")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 features" in result.output and "note:" in result.output

    result = invoke("predict", model, write_wav(tmp_path / "a.wav"))
    assert result.exit_code == 2
    assert "cannot compute its inputs from audio" in result.output

    result = invoke("predict", model, csv, "-o", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "p.csv")) == 30


def test_user_errors_are_one_line(tmp_path, write_wav):
    result = invoke("train", tmp_path / "absent.csv", "-o", tmp_path / "m.genre")
    assert result.exit_code == 2 and "error:" in result.output

    csv = tmp_path / "t.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "label": ["a", "a", "b", "b"]}).to_csv(csv, index=False)
    result = invoke("train", csv, "-m", "no-such-model", "-o", tmp_path / "m.genre")
    assert result.exit_code == 2 and "available models" in result.output

    bogus = tmp_path / "bogus.genre"
    bogus.write_text("not a model")
    result = invoke("predict", bogus, write_wav(tmp_path / "a.wav"))
    assert result.exit_code == 2 and "not a zip" in result.output

    result = invoke("predict", bogus, tmp_path / "absent.wav")
    assert result.exit_code == 2 and "error:" in result.output
    assert "Traceback" not in result.output


def test_predict_goes_on_past_missing_inputs(audio_model, write_wav, tmp_path):
    _, _, model = audio_model
    clip = write_wav(tmp_path / "clip.wav", 3.0, freq=2100.0, seed=3)
    (tmp_path / "empty").mkdir()
    result = invoke("predict", model, tmp_path / "absent.wav", clip, tmp_path / "empty", "-o", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    assert "absent.wav: no such file or folder" in result.output
    assert "the folder holds no audio files" in result.output
    assert pd.read_csv(tmp_path / "p.csv")["path"].tolist() == [str(clip)]

    result = invoke("predict", model, tmp_path / "absent.wav")
    assert result.exit_code == 1 and "absent.wav: no such file or folder" in result.output


def test_outputs_are_checked_before_the_work(audio_model, write_wav, tmp_path, monkeypatch):
    import genre.classifiers.prediction as prediction

    root, features, model = audio_model
    clip = write_wav(tmp_path / "clip.wav", 3.0, freq=2100.0, seed=3)
    called = []
    monkeypatch.setattr(prediction, "predict_files", lambda *a, **k: called.append(1))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for output, message in (
        (tmp_path, "is a folder"),
        (blocker / "p.csv", "is a file"),
        (clip, "is also an input"),
        (model, "is also an input"),
    ):
        result = invoke("predict", model, clip, "-o", output)
        assert result.exit_code == 2 and message in result.output, (output, result.output)
        assert "Traceback" not in result.output
    audio_file = root / "audio" / "low" / "low.00000.wav"
    before_audio = audio_file.read_bytes()
    result = invoke("predict", model, root / "audio", "-o", audio_file)  # a file inside an input folder
    assert result.exit_code == 2 and "predictions are written as CSV" in result.output
    assert audio_file.read_bytes() == before_audio
    assert not called  # refused before any audio was analysed

    before = features.read_bytes()
    result = invoke("train", features, "-m", "logreg", "-o", features)
    assert result.exit_code == 2 and "is also an input" in result.output
    assert features.read_bytes() == before


@pytest.mark.parametrize("empty", ["", "  "])
def test_empty_output_is_refused_not_taken_for_the_current_folder(tmp_path, monkeypatch, empty):
    csv = tmp_path / "t.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "label": ["a", "a", "b", "b"]}).to_csv(csv, index=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # Worded for what each command writes: a file, or a folder.
    for command, kind in (
        (["train", csv, "-m", "logreg"], "file"),
        (["predict", tmp_path / "m.genre", csv], "file"),
        (["extract", "synthetic"], "file"),
        (["benchmark", csv], "folder"),
    ):
        result = invoke(*command, "-o", empty)
        assert result.exit_code == 2, (command, result.output)
        assert result.output.strip() == f"error: --output is empty; give a {kind} name to write to"
    assert not list(work.iterdir())


def test_predict_refuses_several_tables_and_folder_models(audio_model, tmp_path):
    _, features, model = audio_model
    result = invoke("predict", model, features, features)
    assert result.exit_code == 2 and "give one feature CSV on its own" in result.output
    result = invoke("predict", tmp_path, features)
    assert result.exit_code == 2 and "is a folder, not a model file" in result.output


def test_table_without_sidecar_predicts_with_a_warning(audio_model, tmp_path):
    _, features, model = audio_model
    bare = tmp_path / "bare.csv"
    bare.write_bytes(features.read_bytes())  # the CSV without its .json sidecar
    result = invoke("predict", model, bare)
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "no .json sidecar" in result.output


def test_interrupt_says_what_is_kept(monkeypatch, tmp_path, write_wav):
    import genre.classifiers.prediction as prediction

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(prediction, "predict_files", interrupted)
    result = invoke("predict", tmp_path / "m.genre", write_wav(tmp_path / "a.wav"))
    assert result.exit_code == 130 and "interrupted: nothing was written" in result.output


def test_predict_starts_no_more_worker_processes_than_cores(audio_model, write_wav, tmp_path, monkeypatch):
    """As extract does: capped at the cores (with the same note), not only at the files."""
    import joblib

    from genre.classifiers.prediction import predict_files

    _, _, model = audio_model
    clips = [write_wav(tmp_path / f"clip{i}.wav", 3.0, freq=f, seed=i) for i, f in enumerate((150.0, 2100.0, 2500.0))]
    started = []

    def parallel(*, n_jobs: int, **kwargs):  # records the processes it would start, then runs in this process
        started.append(n_jobs)
        return lambda tasks: [f(*a, **k) for f, a, k in tasks]

    monkeypatch.setattr(joblib, "Parallel", parallel)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    result = invoke("predict", model, *clips, "-j", "16")
    assert result.exit_code == 0, result.output
    assert started == [2] and "3 predicted, 0 skipped" in result.output
    note = "note: --jobs 16: this machine has 2 cores, so at most 2 worker processes run"
    assert note in " ".join(result.output.split())
    predictions = predict_files(model, clips, jobs=16)
    assert started == [2, 2] and predictions.attrs["notes"] == [note.removeprefix("note: ")]
