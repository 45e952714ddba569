"""`genre predict -o OUT` resumes and updates earlier predictions at OUT, as `genre extract`
does its table: the rows of files unchanged since, predicted by the same model, are kept and
only the other files are analysed, and the CSV is byte for byte a fresh run's."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

import genre.classifiers.prediction as prediction
from genre.cli import app

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def one_line(result) -> str:
    return " ".join(result.output.split())


@pytest.fixture
def tones(write_wav, tmp_path):
    """Four tones, low and high in turn."""
    return [write_wav(tmp_path / "audio" / f"t{i}.wav", 3.0, freq=200.0 + 2000.0 * (i % 2), seed=i) for i in range(4)]


@pytest.fixture
def analysed(monkeypatch):
    """The files analysed from now on, in the order their analysis started (``--jobs 1``: in-process)."""
    real, seen = prediction._extract_one, []

    def counted(task):
        seen.append(task[0])
        return real(task)

    monkeypatch.setattr(prediction, "_extract_one", counted)
    return seen


@pytest.fixture(scope="module")
def other_model(low_high_model, tmp_path_factory):
    """A model of the same labels trained with another seed: another file, so other predictions."""
    from genre.classifiers.training import train_model

    path = tmp_path_factory.mktemp("other-model") / "logreg.genre"
    train_model(low_high_model.parent / "features.csv", model="logreg", output=path, seed=1)
    assert path.read_bytes() != low_high_model.read_bytes()
    return path


def fresh_run(model, files, tmp_path) -> bytes:
    """The CSV an uninterrupted run with nothing to reuse writes."""
    output = tmp_path / "fresh" / "p.csv"
    result = invoke("predict", model, *files, "-o", output)
    assert result.exit_code == 0, result.output
    return output.read_bytes()


def test_an_interrupted_run_resumes_where_it_stopped(low_high_model, tones, tmp_path, monkeypatch):
    """Ctrl-C after two of four files, then the same command: only the other two are analysed."""
    real, done = prediction._extract_one, []

    def interrupted(task):
        if len(done) == 2:
            raise KeyboardInterrupt
        done.append(task[0])
        return real(task)

    output = tmp_path / "p.csv"
    monkeypatch.setattr(prediction, "_extract_one", interrupted)
    result = invoke("predict", low_high_model, *tones, "-o", output)
    assert result.exit_code == 130, result.output
    assert "rerun the same command to predict only them" in one_line(result)
    assert len(pd.read_csv(output)) == 2

    seen = []
    monkeypatch.setattr(prediction, "_extract_one", lambda task: seen.append(task[0]) or real(task))
    result = invoke("predict", low_high_model, *tones, "-o", output)
    assert result.exit_code == 0, result.output
    assert seen == [str(f) for f in tones[2:]]
    assert f"reusing 2 predictions from {output} (same model, files unchanged)" in one_line(result)
    assert "Traceback" not in result.output
    assert output.read_bytes() == fresh_run(low_high_model, tones, tmp_path)
    assert output.with_name("p.skipped.csv").read_text() == "path,reason\n"


def test_an_unchanged_rerun_analyses_nothing_and_writes_the_same_files(low_high_model, tones, tmp_path, analysed):
    output = tmp_path / "p.csv"
    assert invoke("predict", low_high_model, *tones, "-o", output).exit_code == 0
    written = {name: output.with_name(name).read_bytes() for name in ("p.csv", "p.json", "p.skipped.csv")}
    analysed.clear()
    result = invoke("predict", low_high_model, *tones, "-o", output)
    assert result.exit_code == 0, result.output
    assert analysed == []
    assert "reusing 4 predictions" in one_line(result) and "4 predicted, 0 skipped" in one_line(result)
    assert {name: output.with_name(name).read_bytes() for name in written} == written


def test_the_sidecar_records_the_model_and_each_file_as_it_was_analysed(low_high_model, tones, tmp_path):
    import hashlib

    output = tmp_path / "p.csv"
    assert invoke("predict", low_high_model, *tones, "-o", output).exit_code == 0
    meta = json.loads((tmp_path / "p.json").read_text())
    assert meta["format"] == prediction.PREDICTIONS_FORMAT
    assert meta["model_sha256"] == hashlib.sha256(low_high_model.read_bytes()).hexdigest()
    assert meta["csv_sha256"] == hashlib.sha256(output.read_bytes()).hexdigest()
    assert meta["files"]["fields"] == "size mtime_ns path"
    stamps = [(os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in tones]
    assert meta["files"]["lines"] == [f"{size} {mtime} {f}" for (size, mtime), f in zip(stamps, tones)]


def test_a_touched_file_alone_is_analysed_again(low_high_model, tones, tmp_path, analysed):
    output = tmp_path / "p.csv"
    assert invoke("predict", low_high_model, *tones, "-o", output).exit_code == 0
    info = os.stat(tones[1])
    os.utime(tones[1], ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    analysed.clear()
    result = invoke("predict", low_high_model, *tones, "-o", output)
    assert result.exit_code == 0, result.output
    assert analysed == [str(tones[1])]
    assert "reusing 3 predictions" in one_line(result)
    assert output.read_bytes() == fresh_run(low_high_model, tones, tmp_path)


def test_another_model_analyses_every_file(low_high_model, other_model, tones, tmp_path, analysed):
    output = tmp_path / "p.csv"
    assert invoke("predict", low_high_model, *tones, "-o", output).exit_code == 0
    analysed.clear()
    result = invoke("predict", other_model, *tones, "-o", output)
    assert result.exit_code == 0, result.output
    assert analysed == [str(f) for f in tones]
    assert "reusing" not in result.output
    assert output.read_bytes() == fresh_run(other_model, tones, tmp_path)


def test_a_copy_of_the_model_is_the_same_model(low_high_model, tones, tmp_path, analysed):
    """The model is known by its contents (SHA-256), not by its name."""
    copy = shutil.copy2(low_high_model, tmp_path / "copy.genre")
    output = tmp_path / "p.csv"
    assert invoke("predict", low_high_model, *tones, "-o", output).exit_code == 0
    analysed.clear()
    assert invoke("predict", copy, *tones, "-o", output).exit_code == 0
    assert analysed == []


def test_a_file_no_longer_given_loses_its_row_and_new_files_are_added(
    low_high_model, tones, write_wav, tmp_path, analysed
):
    output = tmp_path / "p.csv"
    assert invoke("predict", low_high_model, *tones, "-o", output).exit_code == 0
    new = write_wav(tmp_path / "audio" / "new.wav", 3.0, freq=2500.0, seed=9)
    inputs = [tones[0], new, *tones[2:]]
    analysed.clear()
    result = invoke("predict", low_high_model, *inputs, "-o", output)
    assert result.exit_code == 0, result.output
    assert analysed == [str(new)]
    assert pd.read_csv(output)["path"].tolist() == [str(f) for f in inputs]  # in input order
    assert output.read_bytes() == fresh_run(low_high_model, inputs, tmp_path)


def test_files_skipped_before_are_tried_again(low_high_model, tones, write_wav, tmp_path, analysed):
    output = tmp_path / "p.csv"
    short = write_wav(tmp_path / "audio" / "short.wav", 0.05)  # shorter than one segment
    assert invoke("predict", low_high_model, *tones, short, "-o", output).exit_code == 0
    assert output.with_name("p.skipped.csv").read_text().count("short.wav") == 1
    write_wav(short, 3.0, freq=180.0, seed=7)  # mended
    analysed.clear()
    result = invoke("predict", low_high_model, *tones, short, "-o", output)
    assert result.exit_code == 0, result.output
    assert analysed == [str(short)]
    assert output.read_bytes() == fresh_run(low_high_model, [*tones, short], tmp_path)
    assert output.with_name("p.skipped.csv").read_text() == "path,reason\n"


def test_predictions_without_a_sidecar_are_not_reused(low_high_model, tones, tmp_path, analysed):
    """Predictions of an older version (no sidecar) are replaced as they were."""
    output = tmp_path / "p.csv"
    assert invoke("predict", low_high_model, *tones, "-o", output).exit_code == 0
    (tmp_path / "p.json").unlink()
    analysed.clear()
    result = invoke("predict", low_high_model, *tones, "-o", output)
    assert result.exit_code == 0, result.output
    assert analysed == [str(f) for f in tones]
    assert "reusing" not in result.output and "note" not in result.output
    assert output.read_bytes() == fresh_run(low_high_model, tones, tmp_path)
    assert (tmp_path / "p.json").is_file()


def garble_truncated(text: str) -> str:
    return text[: len(text) // 2]


def garble_fields(text: str) -> str:
    meta = json.loads(text)
    meta["files"] = "every file"
    return json.dumps(meta, indent=2)


def garble_lines(text: str) -> str:
    meta = json.loads(text)
    meta["files"]["lines"] = [line.replace(" ", ",", 1) for line in meta["files"]["lines"]]
    return json.dumps(meta, indent=2)


def garble_format(text: str) -> str:
    meta = json.loads(text)
    meta["format"] = "genre-predictions/99"  # a later version's: not read
    return json.dumps(meta, indent=2)


@pytest.mark.parametrize("garble", [garble_truncated, garble_fields, garble_lines, garble_format])
def test_a_garbled_sidecar_costs_a_full_run_and_a_note(low_high_model, tones, tmp_path, analysed, garble):
    output = tmp_path / "p.csv"
    assert invoke("predict", low_high_model, *tones, "-o", output).exit_code == 0
    sidecar = tmp_path / "p.json"
    sidecar.write_text(garble(sidecar.read_text()))
    analysed.clear()
    result = invoke("predict", low_high_model, *tones, "-o", output)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert analysed == [str(f) for f in tones]
    said = f"{output}: cannot reuse its predictions (its sidecar {sidecar} is not as 'genre predict' wrote it)"
    assert said in one_line(result)
    assert output.read_bytes() == fresh_run(low_high_model, tones, tmp_path)
    assert json.loads(sidecar.read_text())["format"] == prediction.PREDICTIONS_FORMAT  # replaced


def test_edited_predictions_are_not_reused(low_high_model, tones, tmp_path, analysed):
    """The sidecar vouches for the CSV as written: an edited row could hide among the reused ones."""
    output = tmp_path / "p.csv"
    assert invoke("predict", low_high_model, *tones, "-o", output).exit_code == 0
    table = pd.read_csv(output)
    table.loc[0, "genre"] = "high" if table.loc[0, "genre"] == "low" else "low"
    table.to_csv(output, index=False, float_format="%.6g")
    analysed.clear()
    result = invoke("predict", low_high_model, *tones, "-o", output)
    assert result.exit_code == 0, result.output
    assert analysed == [str(f) for f in tones]
    assert "it was changed since 'genre predict' wrote it" in one_line(result)
    assert output.read_bytes() == fresh_run(low_high_model, tones, tmp_path)


def test_a_json_of_something_else_is_not_replaced(low_high_model, tones, tmp_path, analysed):
    output = tmp_path / "p.csv"
    (tmp_path / "p.json").write_text('{"my": "notes"}\n')
    result = invoke("predict", low_high_model, *tones, "-o", output)
    assert result.exit_code == 2, result.output
    assert "p.json: exists and is not the sidecar of predictions written by 'genre predict'" in one_line(result)
    assert (tmp_path / "p.json").read_text() == '{"my": "notes"}\n' and not output.exists()
    assert analysed == []


def test_a_relative_path_from_another_folder_is_another_file(low_high_model, tones, tmp_path, monkeypatch, analysed):
    """Same relative name, same size and time (a copy that kept them): not the file predicted."""
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "audio", copy / "audio")  # copy2: the times are kept
    names = [os.path.join("audio", f.name) for f in tones]
    output = tmp_path / "p.csv"
    monkeypatch.chdir(tmp_path)
    assert invoke("predict", low_high_model, *names, "-o", output).exit_code == 0
    analysed.clear()
    assert invoke("predict", low_high_model, *names, "-o", output).exit_code == 0
    assert analysed == []  # the same folder: reused
    monkeypatch.chdir(copy)
    assert invoke("predict", low_high_model, *names, "-o", output).exit_code == 0
    assert analysed == names


def test_the_library_reuses_and_counts(low_high_model, tones, tmp_path, analysed):
    from genre.classifiers.prediction import predict, predict_files, write_predictions

    output = tmp_path / "p.csv"
    first = predict_files(low_high_model, tones[:3])
    assert first.attrs["n_reused"] == 0
    write_predictions(first, output)
    analysed.clear()
    again = predict(low_high_model, tones, reuse=output)
    assert analysed == [str(tones[3])]
    assert again.attrs["n_reused"] == 3
    assert again["path"].tolist() == [str(f) for f in tones]
    assert again.attrs["notes"] == [f"reusing 3 predictions from {output} (same model, files unchanged)"]
    assert again.attrs["stamps"] == {str(f): (os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in tones}
    pd.testing.assert_frame_equal(again, predict_files(low_high_model, tones), atol=5e-7, rtol=5e-6)
    # A missing CSV is nothing to reuse, not an error.
    assert predict_files(low_high_model, tones[:1], reuse=tmp_path / "none.csv").attrs["n_reused"] == 0


def test_table_predictions_offer_nothing_to_reuse(low_high_model, tones, tmp_path, analysed):
    """A feature table's predictions record no audio files, even of the same model."""
    from genre.classifiers.prediction import predict_table, write_predictions

    output = tmp_path / "p.csv"
    write_predictions(predict_table(low_high_model, low_high_model.parent / "features.csv"), output)
    assert json.loads((tmp_path / "p.json").read_text())["files"]["lines"] == []
    analysed.clear()
    assert invoke("predict", low_high_model, *tones, "-o", output).exit_code == 0
    assert analysed == [str(f) for f in tones]
