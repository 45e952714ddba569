"""``genre predict`` with a CNN model on a table whose ``start`` (or ``path``) is unusable in some rows.

A CNN reads a 3 s log-mel patch of each row's audio at the row's ``start``. A track with a
``start`` that is no number of seconds (NaN, ``abc``, negative) or an empty ``path`` cell is left
out, named with the column, row and value, as a NaN feature leaves out its track for a feature
model; the others are predicted. Training still refuses such a table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from genre.cli import app
from tests.conftest import tone_feature_table

runner = CliRunner()

#: Two classes of three 2 s tones in 1 s rows: 12 rows, 6 tracks; no sidecar needed beyond extract's.
PITCHES = {"low": (220.0, 247.0, 262.0), "high": (880.0, 988.0, 1046.0)}
#: A network small enough to train in a second or two.
TINY = dict(filters=(4, 8), dense_units=8, n_mels=32, patch_frames=43, max_epochs=1, patience=1, batch_size=8)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny CNN and the table it was trained on."""
    from genre.classifiers.training import train_model

    root = tmp_path_factory.mktemp("cnn-bad-start")
    table = tone_feature_table(root, PITCHES, seconds=2.0)
    model = root / "cnn.genre"
    train_model(table, model="cnn", output=model, params=TINY)
    return model, table


def copy_with(table: Path, out: Path, cells: dict[tuple[int, str], str]) -> Path:
    """``table`` with some cells replaced, as text (row 0 is the first data row), and its sidecar."""
    frame = pd.read_csv(table, dtype=str, keep_default_na=False)
    for (row, column), value in cells.items():
        frame.loc[row, column] = value
    frame.to_csv(out, index=False)
    sidecar = table.with_suffix(".json")
    if sidecar.exists():
        out.with_suffix(".json").write_bytes(sidecar.read_bytes())
    return out


def test_predict_leaves_out_the_tracks_with_a_bad_start(trained, tmp_path):
    model, table = trained
    frame = pd.read_csv(table)
    tracks = frame["track"].tolist()
    paths = frame["path"].tolist()
    # Rows 1 and 4 (0-based) are the second rows of two tracks: the whole track goes.
    bad = copy_with(table, tmp_path / "t.csv", {(1, "start"): "nan", (4, "start"): "abc"})
    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["predict", str(model), str(bad), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    n_tracks = len(dict.fromkeys(tracks))
    reasons = {
        paths[1]: "value 'nan' in column 'start' at row 3 of t.csv is not a number of seconds",
        paths[4]: "value 'abc' in column 'start' at row 6 of t.csv is not a number of seconds",
    }
    skipped = pd.read_csv(tmp_path / "p.skipped.csv", dtype=str, keep_default_na=False).values.tolist()
    assert skipped == [[path, reason] for path, reason in reasons.items()]
    text = flat(result.output)
    for path, reason in reasons.items():
        assert f"skipped {path}: {reason}" in text
    assert f"{n_tracks - 2} predicted, 2 skipped" in text
    predicted = pd.read_csv(out)["path"].tolist()
    assert len(predicted) == n_tracks - 2 and not {paths[1], paths[4]} & set(predicted)


def test_the_others_get_what_a_table_without_those_tracks_gives(trained, tmp_path):
    from genre.classifiers.prediction import predict_table

    model, table = trained
    frame = pd.read_csv(table)
    first = frame["track"].iloc[0]
    bad = copy_with(table, tmp_path / "t.csv", {(0, "start"): "-1", (len(frame) - 1, "path"): ""})
    predictions = predict_table(model, bad)
    last = frame["track"].iloc[-1]
    assert predictions.attrs["skipped"] == [
        (frame["path"].iloc[0], "value '-1' in column 'start' at row 2 of t.csv is not a number of seconds"),
        (frame["path"].iloc[-1], f"missing value in column 'path' at row {len(frame) + 1} of t.csv"),
    ]
    keep = ~frame["track"].isin([first, last])
    frame[keep].to_csv(tmp_path / "clean.csv", index=False)
    (tmp_path / "clean.json").write_bytes(table.with_suffix(".json").read_bytes())
    pd.testing.assert_frame_equal(predictions, predict_table(model, tmp_path / "clean.csv"))


def test_every_track_bad_is_one_clear_error(trained, tmp_path):
    model, table = trained
    n_rows = len(pd.read_csv(table))
    bad = copy_with(table, tmp_path / "t.csv", {(row, "start"): "abc" for row in range(n_rows)})
    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["predict", str(model), str(bad), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert flat(result.output).startswith(
        f"error: {bad}: no track can be predicted: every one has a row whose start is not a number of seconds "
        "or whose path is missing (first: value 'abc' in column 'start' at row 2, track "
    )
    assert not out.exists()


def test_training_still_refuses_a_nan_start(trained, tmp_path):
    model, table = trained
    bad = copy_with(table, tmp_path / "t.csv", {(1, "start"): ""})
    result = runner.invoke(app, ["train", str(bad), "--model", "cnn", "-o", str(tmp_path / "m.genre")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "column 'start' must hold each segment's start in seconds, but row 3" in flat(result.output)
    assert not (tmp_path / "m.genre").exists()
