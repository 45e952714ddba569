"""A batch goes on past one bad input: ``genre predict`` on a feature table leaves out the tracks
with NaN or infinite values (and says which, by column and row) instead of refusing the table,
while training still refuses it; and an empty ``-o`` is refused in the words of what the command
writes (a file, a folder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from feature_tables import table_with_bad_cells

from genre.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


external_table = table_with_bad_cells


def own_table(path: Path, bad: dict[int, object] | None = None) -> Path:
    """A table in ``genre extract``'s layout (no sidecar): 6 tracks of 3 segments each, two classes."""
    rng = np.random.default_rng(1)
    rows = []
    for t in range(6):
        label = "rock" if t < 3 else "pop"
        for segment in range(3):
            rows.append(
                {"path": f"audio/{label}/song{t}.wav", "track": f"{label}/song{t}", "segment": segment,
                 "start": 3.0 * segment, "label": label, "group": "",
                 "x_mean": rng.normal() + (3.0 if label == "rock" else 0.0), "y_mean": rng.normal()}
            )  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["y_mean"] = frame["y_mean"].astype(object)
    for row, value in (bad or {}).items():
        frame.loc[row, "y_mean"] = value
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def model(tmp_path) -> Path:
    path = tmp_path / "m.genre"
    result = invoke("train", external_table(tmp_path / "good.csv"), "-m", "logreg", "-o", path)
    assert result.exit_code == 0, result.output
    return path


# -- 1. NaN / inf in a table given to predict ------------------------------------------------------
@pytest.mark.parametrize(("value", "kind"), [(np.nan, "missing/NaN"), (np.inf, "infinite")], ids=["nan", "inf"])
def test_predict_table_leaves_out_only_the_tracks_with_bad_values(model, tmp_path, value, kind):
    from genre.classifiers.prediction import predict_table

    table = external_table(tmp_path / "t.csv", {3: value, 7: value})
    predictions = predict_table(model, table)
    assert predictions.attrs["skipped"] == [
        ("clip03", f"{kind} value in feature column 'b' at row 5 of t.csv"),
        ("clip07", f"{kind} value in feature column 'b' at row 9 of t.csv"),
    ]
    # The others get exactly what a table without those rows gives them.
    clean = pd.read_csv(table).drop(index=[3, 7])
    clean.to_csv(tmp_path / "clean.csv", index=False)
    expected = predict_table(model, tmp_path / "clean.csv")
    pd.testing.assert_frame_equal(predictions, expected)
    assert len(predictions) == 10 and "clip03" not in predictions["path"].tolist()


def test_cli_predict_lists_the_skipped_tracks_and_writes_the_rest(model, tmp_path):
    table = external_table(tmp_path / "t.csv", {3: np.nan})
    out = tmp_path / "p.csv"
    result = invoke("predict", model, table, "-o", out)
    assert result.exit_code == 0, result.output
    assert "skipped clip03: missing/NaN value in feature column 'b' at row 5 of t.csv" in result.output
    assert "11 predicted, 1 skipped" in result.output
    assert len(pd.read_csv(out)) == 11
    assert pd.read_csv(tmp_path / "p.skipped.csv").values.tolist() == [
        ["clip03", "missing/NaN value in feature column 'b' at row 5 of t.csv"]
    ]


def test_a_track_is_left_out_whole_and_named_by_its_audio_path(tmp_path):
    """One bad segment costs its whole track (a mean of the others would be another answer); the
    other tracks keep their own paths, however many rows were left out before them."""
    from genre.classifiers.prediction import predict_table

    model = tmp_path / "own.genre"
    assert invoke("train", own_table(tmp_path / "good.csv"), "-m", "logreg", "-o", model).exit_code == 0
    bad = own_table(tmp_path / "t.csv", {1: np.nan, 2: -np.inf, 4: np.nan})  # song0 twice, song1 once
    predictions = predict_table(model, bad)
    assert predictions.attrs["skipped"] == [
        (
            "audio/rock/song0.wav",
            "missing/NaN value in feature column 'y_mean' at row 3 of t.csv, and 1 more missing or infinite value",
        ),
        ("audio/rock/song1.wav", "missing/NaN value in feature column 'y_mean' at row 6 of t.csv"),
    ]
    assert predictions["path"].tolist() == [f"audio/{'rock' if t < 3 else 'pop'}/song{t}.wav" for t in range(2, 6)]
    whole = predict_table(model, tmp_path / "good.csv")
    pd.testing.assert_frame_equal(predictions, whole.iloc[2:].reset_index(drop=True))


def test_every_track_bad_is_one_clear_error(model, tmp_path):
    table = external_table(tmp_path / "t.csv", {row: np.nan for row in range(12)})
    result = invoke("predict", model, table, "-o", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {table}: no track can be predicted: every one holds missing/NaN or infinite feature values "
        "(first: 'b' at row 2, track 'clip00.wav'); fix the table"
    )
    assert not (tmp_path / "p.csv").exists()


def test_other_refusals_of_the_table_stand(model, tmp_path):
    """Text in a model column, or a value too large in a row that is kept, still refuses the table."""
    from genre.classifiers.prediction import predict_table
    from genre.errors import DataError

    text = external_table(tmp_path / "text.csv", {3: np.nan, 5: "oops"})
    with pytest.raises(DataError, match=r"non-numeric values .*'oops' at row 7\); fix the table$"):
        predict_table(model, text)
    huge = external_table(tmp_path / "huge.csv", {3: np.nan, 5: 1e300})
    with pytest.raises(DataError, match=r"too large to use .* at row 7 \(track 'clip05.wav'\).*; fix the table$"):
        predict_table(model, huge)
    # A huge value in a track that is left out anyway costs nothing more.
    frame = pd.read_csv(external_table(tmp_path / "both.csv", {3: np.nan}))
    frame.loc[3, "c"] = 1e300
    frame.to_csv(tmp_path / "both.csv", index=False)
    assert [path for path, _ in predict_table(model, tmp_path / "both.csv").attrs["skipped"]] == ["clip03"]


def test_training_and_benchmark_still_refuse_a_table_with_nan(tmp_path):
    table = external_table(tmp_path / "t.csv", {3: np.nan})
    result = invoke("train", table, "-m", "logreg", "-o", tmp_path / "m.genre")
    assert result.exit_code == 2 and "missing/NaN feature values" in result.output
    assert "leave the column out with --drop" in result.output
    result = invoke("benchmark", table, "-m", "logreg", "--folds", "2", "-j", "1", "-o", tmp_path / "report")
    assert result.exit_code == 2 and "missing/NaN feature values" in result.output


# -- 3. an empty output name, in the words of what the command writes -----------------------------
@pytest.mark.parametrize("empty", ["", "  "])
def test_predict_with_an_empty_output_asks_for_a_file_name(model, tmp_path, monkeypatch, empty):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = invoke("predict", model, external_table(tmp_path / "t.csv"), "-o", empty)
    assert result.exit_code == 2
    assert result.output.strip() == "error: --output is empty; give a file name to write to"
    assert not list(work.iterdir())


def test_the_output_checks_name_what_they_take(tmp_path, monkeypatch):
    from genre.atomic import check_output_file, check_output_folder, check_output_outside, output_path
    from genre.errors import OutputError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="^the output file name is empty; give a file name to write to$"):
        check_output_file("")
    with pytest.raises(OutputError, match="^the output folder name is empty; give a folder name to write to$"):
        check_output_folder(" ")
    with pytest.raises(OutputError, match="^the output folder name is empty; give a folder name to write to$"):
        check_output_outside("", inputs=[tmp_path])
    with pytest.raises(OutputError, match="^--output is empty; give a file name to write to$"):
        output_path("", what="--output", kind="file")
    # Where the caller does not say, either is taken.
    with pytest.raises(OutputError, match="^--output is empty; give a file or folder name to write to$"):
        output_path("", what="--output")
    assert not list(tmp_path.iterdir())


def test_predictions_of_a_library_call_with_an_empty_name_ask_for_a_file(model, tmp_path, monkeypatch):
    from genre.classifiers.prediction import check_predictions_output, predict_table, write_predictions
    from genre.errors import OutputError

    monkeypatch.chdir(tmp_path)
    predictions = predict_table(model, external_table(tmp_path / "t.csv"))
    for call in (lambda: write_predictions(predictions, ""), lambda: check_predictions_output("")):
        with pytest.raises(OutputError, match="give a file name to write to$"):
            call()
