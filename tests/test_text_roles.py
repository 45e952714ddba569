"""Labels, ids and groups are read as the text written, whatever they look like.

A genre folder ``01`` is class ``01``, not ``1``; labels ``01``, ``1`` and ``1.0`` are three
classes; a clip id ``000123`` keeps its zeros, so list lines ``000123`` match it; and a file
name written decomposed (NFD, as macOS writes it) matches a list line written composed (NFC).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feature_tables import class_features, write_list, write_own_table

from genre.features.table import load_feature_table


def _own_table(path: Path, labels: tuple[str, ...], *, tracks_per_class: int = 4, segments: int = 2) -> Path:
    """A table as ``genre extract`` writes it from folders named ``labels``."""
    write_own_table(path, labels=labels, tracks_per_class=tracks_per_class, segments=segments, n_features=4)
    return path


def _external_table(path: Path, ids: list[str], labels: list[str], *, id_col: str = "clip", **columns) -> Path:
    """An external table: an id column, a ``genre`` column and four features, one row per id."""
    values, _, _, _ = class_features(labels=("a", "b"), tracks_per_class=(len(ids) + 1) // 2, n_features=4)
    frame = pd.DataFrame({id_col: ids, "genre": labels, **columns})
    features = pd.DataFrame(values[: len(ids)], columns=[f"f{i}" for i in range(4)])
    pd.concat([frame, features], axis=1).to_csv(path, index=False)
    return path


# -- labels ------------------------------------------------------------------------------------
def test_numeric_looking_folder_labels_stay_as_written(tmp_path):
    path = _own_table(tmp_path / "codes.csv", ("01", "02", "03"))
    table = load_feature_table(path)
    assert table.labels == ["01", "02", "03"]
    assert set(table.y.tolist()) == {"01", "02", "03"}
    assert table.tracks[0] == "01/01.00000"
    assert table.X.dtypes.eq("float64").all() and len(table.feature_columns) == 4


def test_numeric_looking_labels_stay_as_written_in_the_trained_model(tmp_path):
    from genre.classifiers import predict_table, train_model
    from genre.classifiers.persistence import load_model

    path = _own_table(tmp_path / "codes.csv", ("01", "02"))
    result = train_model(path, model="logreg", output=tmp_path / "codes.genre-model")
    assert result.labels == ["01", "02"]
    assert load_model(tmp_path / "codes.genre-model").labels == ["01", "02"]
    predictions = predict_table(tmp_path / "codes.genre-model", path)
    assert {"prob_01", "prob_02"} <= set(predictions.columns)
    assert set(predictions["genre"]) <= {"01", "02"}


def test_labels_one_one_point_zero_and_zero_one_are_three_classes(tmp_path):
    path = _own_table(tmp_path / "num.csv", ("01", "1", "1.0"))
    table = load_feature_table(path)
    assert table.labels == ["01", "1", "1.0"]
    # An external table too, where no sidecar says what the columns are.
    labels = ["01", "1", "1.0"] * 4
    external = _external_table(tmp_path / "ext.csv", [f"clip{i}" for i in range(12)], labels)
    assert load_feature_table(external, id_col="clip").labels == ["01", "1", "1.0"]


def test_numeric_groups_stay_as_written(tmp_path):
    ids = [f"clip{i}" for i in range(8)]
    path = _external_table(
        tmp_path / "ext.csv", ids, ["a", "b"] * 4, artist=["007", "7", "7.0", "0007"] * 2
    )
    table = load_feature_table(path, id_col="clip")
    assert table.group_col == "artist"
    assert sorted(set(table.groups.tolist())) == ["0007", "007", "7", "7.0"]


# -- ids ---------------------------------------------------------------------------------------
def test_zero_padded_ids_keep_their_zeros_and_match_list_lines(tmp_path):
    from genre.evaluation.splits import list_split

    ids = [f"{i:06d}" for i in range(12)]
    path = _external_table(tmp_path / "ext.csv", ids, ["a", "b"] * 6)
    table = load_feature_table(path, id_col="clip")
    assert table.tracks.tolist() == ids
    assert table.stems.tolist() == ids
    test = write_list(tmp_path / "test.txt", [ids[i] for i in range(0, 12, 3)])
    train = write_list(tmp_path / "train.txt", [ids[i] for i in range(12) if i % 3])
    split, matches = list_split(table, train_lists=[train], test_list=test)
    assert [m.n_unmatched for m in matches] == [0, 0]
    assert split.test_tracks.tolist() == ["000000", "000003", "000006", "000009"]
    assert len(split.train_tracks) == 8


def test_numeric_track_ids_of_an_own_table_keep_their_zeros(tmp_path):
    path = _own_table(tmp_path / "own.csv", ("a", "b"), segments=1)
    frame = pd.read_csv(path)
    frame["track"] = [f"{i:04d}" for i in range(len(frame))]
    frame.to_csv(path, index=False)
    table = load_feature_table(path)
    assert table.tracks.tolist() == [f"{i:04d}" for i in range(len(frame))]


def test_feature_columns_are_parsed_as_before(tmp_path):
    """Only the role columns are read as text: the features are the numbers pandas reads."""
    path = _own_table(tmp_path / "codes.csv", ("01", "02"))
    table = load_feature_table(path)
    expected = pd.read_csv(path)[table.feature_columns].astype("float64")
    pd.testing.assert_frame_equal(table.X, expected)


# -- Unicode forms of list lines ------------------------------------------------------------------
@pytest.mark.parametrize("table_form, list_form", [("NFD", "NFC"), ("NFC", "NFD")])
def test_list_lines_match_file_names_in_another_unicode_form(tmp_path, table_form, list_form):
    from genre.evaluation.splits import list_split

    names = [f"café {label} {i}.wav" for label in ("blues", "country") for i in range(4)]
    written = [unicodedata.normalize(table_form, n) for n in names]
    labels = ["blues"] * 4 + ["country"] * 4
    path = _external_table(tmp_path / "nfd.csv", written, labels, id_col="filename")
    table = load_feature_table(path)
    lines = [unicodedata.normalize(list_form, n) for n in names]
    assert lines[0] != written[0]  # two spellings of one name
    test = write_list(tmp_path / "test.txt", [lines[0], lines[4]])
    train = write_list(tmp_path / "train.txt", [line for i, line in enumerate(lines) if i not in (0, 4)])
    split, matches = list_split(table, train_lists=[train], test_list=test)
    assert [(m.n_matched, m.n_unmatched) for m in matches] == [(2, 0), (6, 0)]
    # The table's spelling is kept.
    assert split.test_tracks.tolist() == [written[0][: -len(".wav")], written[4][: -len(".wav")]]


def test_nfd_folder_paths_of_an_own_table_match_nfc_lines_with_folders(tmp_path):
    """Two tracks share a file name: the line's folder decides, compared in one Unicode form."""
    from genre.evaluation.splits import list_split

    path = _own_table(tmp_path / "own.csv", ("a", "b"), tracks_per_class=4, segments=1)
    frame = pd.read_csv(path)
    folders = [unicodedata.normalize("NFD", f"chanté{i % 2}") for i in range(len(frame))]
    frame["track"] = [f"{folder}/song{i // 2}" for i, folder in enumerate(folders)]
    frame["path"] = [f"/audio/{track}.wav" for track in frame["track"]]
    frame.to_csv(path, index=False)
    table = load_feature_table(path)
    line = unicodedata.normalize("NFC", "chanté1/song0.wav")
    test = write_list(tmp_path / "test.txt", [line])
    split, matches = list_split(table, test_list=test)
    assert matches[0].n_matched == 1 and matches[0].n_ambiguous == 0
    assert split.test_tracks.tolist() == [unicodedata.normalize("NFD", "chanté1/song0")]


def test_gtzan_features_load_as_before(gtzan_features):
    table = load_feature_table(gtzan_features)
    assert len(table.feature_columns) == 57 and table.n_rows == 1000
    assert table.labels == sorted(
        ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]
    )
    assert table.tracks[0] == "blues.00000" and np.unique(table.tracks).size == 1000
