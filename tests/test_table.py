"""Reading feature tables: our own format, GTZAN's public tables, and every bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feature_tables import GENRES, write_gtzan_table, write_own_table

from genre.errors import DataError, ParameterError
from genre.features.table import file_stem, load_feature_table


@pytest.mark.parametrize(
    "name, stem",
    [
        ("blues/blues.00012.wav", "blues.00012"),
        ("blues.00012.wav", "blues.00012"),
        ("blues.00012", "blues.00012"),  # no extension: the numeric suffix is not one
        ("C:\\music\\jazz\\jazz.00001.au", "jazz.00001"),
        ("  rock/rock.00003.WAV  ", "rock.00003"),
        ("blues.00000.3", "blues.00000.3"),
    ],
)
def test_file_stem(name, stem):
    assert file_stem(name) == stem


def test_gtzan_30_sec_layout_is_detected(tmp_path):
    path = write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=5)
    table = load_feature_table(path)
    assert table.label_col == "label" and table.id_col == "filename"
    assert "length" in table.ignored_columns and "length" not in table.feature_columns
    assert table.feature_columns == [f"mfcc{i}_mean" for i in range(1, 7)]
    assert table.X.dtypes.eq("float64").all()
    # One row per track; ids lose the extension only (leading-zero numbers are not segments).
    assert table.n_tracks == table.n_rows == 20
    assert table.tracks[0] == "blues.00000" and table.stems[0] == "blues.00000"
    assert table.labels == sorted(GENRES)
    assert table.groups is None and table.config is None and table.meta == {}
    assert table.kind == "external"


def test_gtzan_3_sec_segments_share_a_track(tmp_path):
    path = write_gtzan_table(tmp_path / "features_3_sec.csv", tracks_per_class=4, segments=10)
    table = load_feature_table(path)
    assert table.n_rows == 160 and table.n_tracks == 16
    assert set(table.tracks[:10]) == {"blues.00000"}
    assert set(table.stems[:10]) == {"blues.00000"}
    per_track = table.track_frame()
    assert (per_track["n_rows"] == 10).all()


def test_numbered_files_without_segments_stay_separate(tmp_path):
    """``song.1.wav``, ``song.2.wav``: suffixes that do not start at 0 are not segment numbers."""
    frame = pd.DataFrame(
        {"file": [f"song.{i}.wav" for i in range(1, 7)], "f1": np.arange(6.0), "genre": ["a", "b"] * 3}
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    table = load_feature_table(tmp_path / "t.csv")
    assert table.label_col == "genre" and table.n_tracks == 6


def test_own_table_with_sidecar_and_groups(tmp_path):
    path = write_own_table(tmp_path / "features.csv", tracks_per_class=6, segments=3, groups_per_class=3)
    table = load_feature_table(path)
    assert table.kind == "handcrafted" and table.config == {"sr": 22050, "segment_seconds": 3.0}
    assert table.meta["format"] == "genre-features/1"
    assert table.feature_columns == table.meta["feature_columns"]
    assert not {"path", "track", "segment", "start", "label", "group"} & set(table.feature_columns)
    assert table.n_tracks == 24 and table.n_rows == 72
    assert table.tracks[0] == "blues/blues.00000" and table.stems[0] == "blues.00000"
    assert table.group_col == "group" and table.groups is not None
    assert len(set(table.groups)) == 12
    assert "features.csv (handcrafted, 6 features)" == table.input_description


def test_own_table_with_empty_group_column_has_no_groups(tmp_path):
    table = load_feature_table(write_own_table(tmp_path / "features.csv", tracks_per_class=4))
    assert table.groups is None and table.group_col is None


def test_partly_empty_groups_give_each_ungrouped_track_its_own_group(tmp_path):
    path = write_own_table(tmp_path / "features.csv", tracks_per_class=4, segments=2, groups_per_class=2)
    frame = pd.read_csv(path)
    frame.loc[frame["track"] == "blues/blues.00000", "group"] = np.nan
    frame.to_csv(path, index=False)
    table = load_feature_table(path)
    rows = table.tracks == "blues/blues.00000"
    assert set(table.groups[rows]) == {"track:blues/blues.00000"}


def test_explicit_columns_and_drop(tmp_path):
    frame = pd.DataFrame(
        {
            "clip": ["x1", "x2", "x3", "x4"],
            "who": ["u", "u", "v", "v"],
            "a": [1.0, 2, 3, 4],
            "b": [0.1, 0.2, 0.3, 0.4],
            "cls": ["p", "q", "p", "q"],
        }
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    table = load_feature_table(tmp_path / "t.csv", label_col="cls", id_col="clip", group_col="who", drop=["b"])
    assert table.feature_columns == ["a"]
    assert list(table.groups) == ["u", "u", "v", "v"]
    assert list(table.tracks) == ["x1", "x2", "x3", "x4"]


def test_text_columns_are_not_features(tmp_path):
    frame = pd.DataFrame({"title": ["t1", "t2", "t3"], "f": [1.0, 2.0, 3.0], "label": ["a", "b", "a"]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    table = load_feature_table(tmp_path / "t.csv")
    assert table.feature_columns == ["f"] and "title" in table.ignored_columns


def test_no_id_column_makes_every_row_a_track(tmp_path):
    frame = pd.DataFrame({"f": [1.0, 2.0, 3.0, 4.0], "class": ["a", "b", "a", "b"]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    table = load_feature_table(tmp_path / "t.csv")
    assert table.id_col is None and table.n_tracks == 4


def test_real_gtzan_table(gtzan_features):
    table = load_feature_table(gtzan_features)
    assert table.X.shape == (1000, 57)
    assert table.n_tracks == 1000 and len(table.labels) == 10
    assert table.ignored_columns == ["length"]
    assert table.stems[12] == "blues.00012"


# -- bad input: one DataError naming the file and column ------------------------------------------
def _write(tmp_path, frame: pd.DataFrame, name: str = "bad.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such feature table"):
        load_feature_table(tmp_path / "nope.csv")


def test_no_label_column_lists_columns(tmp_path):
    path = _write(tmp_path, pd.DataFrame({"filename": ["a.wav", "b.wav"], "f1": [1.0, 2.0], "f2": [3.0, 4.0]}))
    with pytest.raises(DataError, match=r"no label column.*columns are filename, f1, f2.*--label-col") as info:
        load_feature_table(path)
    assert str(path) in str(info.value)


def test_non_numeric_feature_is_named(tmp_path):
    frame = pd.DataFrame({"f1": ["1.0", "2.5", "oops", "4"], "f2": [1.0, 2, 3, 4], "label": list("abab")})
    path = _write(tmp_path, frame)
    with pytest.raises(DataError, match=r"feature column f1 holds non-numeric values.*'oops'.*row 4.*--drop f1"):
        load_feature_table(path)
    assert load_feature_table(path, drop=["f1"]).feature_columns == ["f2"]


def test_nan_and_inf_name_columns_and_rows(tmp_path):
    frame = pd.DataFrame(
        {"f1": [1.0, np.nan, 3, 4], "f2": [1.0, 2, np.inf, 4], "f3": [1.0, 2, 3, 4], "label": list("abab")}
    )
    with pytest.raises(DataError, match=r"missing/NaN and infinite feature values in 2 rows, columns f1, f2"):
        load_feature_table(_write(tmp_path, frame))


def test_single_class(tmp_path):
    frame = pd.DataFrame({"f1": [1.0, 2.0, 3.0], "label": ["rock"] * 3})
    with pytest.raises(DataError, match=r"only one class \('rock'\)"):
        load_feature_table(_write(tmp_path, frame))


def test_empty_table(tmp_path):
    header_only = tmp_path / "header.csv"
    header_only.write_text("filename,f1,label\n")
    with pytest.raises(DataError, match="no data rows"):
        load_feature_table(header_only)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        load_feature_table(empty)


def test_a_repeated_column_name_is_refused_not_renamed(tmp_path):
    # pandas would read the second `mfcc1_mean` as `mfcc1_mean.1`, a feature nobody wrote.
    path = tmp_path / "repeated.csv"
    path.write_text("filename,mfcc1_mean, mfcc1_mean ,label\na.wav,1,2,rock\nb.wav,3,4,pop\n")
    with pytest.raises(DataError, match=r"repeated.csv: column names written more than once: mfcc1_mean \(give"):
        load_feature_table(path)


def test_empty_labels(tmp_path):
    frame = pd.DataFrame({"f1": [1.0, 2.0, 3.0], "label": ["a", None, "b"]})
    with pytest.raises(DataError, match=r"label column 'label' is empty in 1 of 3 rows \(first at row 3\)"):
        load_feature_table(_write(tmp_path, frame))
    assert load_feature_table(tmp_path / "bad.csv", labelled=False).y.tolist() == ["a", "", "b"]


def test_conflicting_labels_within_a_track(tmp_path):
    path = write_gtzan_table(tmp_path / "f3.csv", tracks_per_class=3, segments=2)
    frame = pd.read_csv(path)
    frame.loc[1, "label"] = "metal"  # second segment of blues.00000
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"1 track carries more than one label.*blues.00000"):
        load_feature_table(path)


def test_unknown_column_options(tmp_path):
    path = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=2)
    with pytest.raises(ParameterError, match="--label-col 'genre' is not a column"):
        load_feature_table(path, label_col="genre")
    with pytest.raises(ParameterError, match="--drop nope: no such column"):
        load_feature_table(path, drop=["nope"])


def _table_with_relative_audio(project, table_path, *, recorded: bool):
    """An own table at ``table_path`` whose audio paths are relative to ``project``, where the audio lies."""
    import json

    from genre.features.config import EXTRACTION_FOLDER_KEY

    write_own_table(table_path, labels=("blues", "jazz"), tracks_per_class=2, segments=2)
    frame = pd.read_csv(table_path)
    frame["path"] = "audio/" + frame["track"] + ".wav"  # as `genre extract audio` run in `project` writes them
    frame.to_csv(table_path, index=False)
    for relative in frame["path"].unique():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_bytes(b"RIFF")  # only its existence is looked at
    if recorded:
        sidecar = table_path.with_suffix(".json")
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        meta[EXTRACTION_FOLDER_KEY] = str(project.resolve())
        sidecar.write_text(json.dumps(meta), encoding="utf-8")
    return frame


def test_relative_audio_paths_are_found_from_another_folder(tmp_path, monkeypatch):
    from genre.features.table import audio_segment_ids

    project = tmp_path / "project"
    table_path = project / "tables" / "features.csv"  # not beside the audio: only the sidecar says where
    frame = _table_with_relative_audio(project, table_path, recorded=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    ids = audio_segment_ids(load_feature_table(table_path), model="cnn")
    expected = [(project / p).resolve() for p in frame["path"]]
    assert [Path(p).resolve() for p in ids["path"]] == expected


def test_relative_audio_paths_fall_back_on_the_tables_folder_and_say_where_they_looked(tmp_path, monkeypatch):
    from genre.features.table import audio_segment_ids

    project = tmp_path / "project"
    beside = _table_with_relative_audio(project, project / "features.csv", recorded=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ids = audio_segment_ids(load_feature_table(project / "features.csv"), model="cnn")
    assert [Path(p).resolve() for p in ids["path"]] == [(project / p).resolve() for p in beside["path"]]

    # Without a recorded folder, a table kept apart from its audio names where it looked.
    _table_with_relative_audio(project, project / "tables" / "features.csv", recorded=False)
    with pytest.raises(DataError, match="none of the 4 audio files") as error:
        audio_segment_ids(load_feature_table(project / "tables" / "features.csv"), model="cnn")
    assert f"looked for in the current folder and in {project / 'tables'}" in str(error.value)


def test_labels_and_groups_named_like_missing_values_are_kept(tmp_path):
    """A genre folder or artist called NA, None or null is a name, not a gap (pandas would read a gap)."""
    rng = np.random.default_rng(0)
    rows = [
        {"filename": f"{label}.{i:05d}.wav", "f1": rng.normal(), "f2": rng.normal(), "label": label,
         "artist": ("NA", "None")[i % 2]}
        for label in ("NA", "None", "null", "blues")
        for i in range(4)
    ]  # fmt: skip
    path = tmp_path / "na.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    table = load_feature_table(path)
    assert sorted(set(table.y)) == ["NA", "None", "blues", "null"]
    assert sorted(set(table.groups)) == ["NA", "None"] and not table.ungrouped.any()
    assert table.tracks[0] == "NA.00000"


def test_numeric_labels_with_a_gap_are_not_turned_into_floats(tmp_path):
    path = tmp_path / "numeric.csv"
    frame = pd.DataFrame({"filename": [f"t{i}.wav" for i in range(6)], "f1": np.arange(6.0), "label": [0, 1] * 3})
    frame.to_csv(path, index=False)
    assert sorted(set(load_feature_table(path).y)) == ["0", "1"]
    frame["label"] = frame["label"].astype(object)
    frame.loc[4, "label"] = ""
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"label column 'label' is empty in 1 of 6 rows \(first at row 6\)"):
        load_feature_table(path)


def test_a_manifest_given_as_a_feature_table_says_to_extract_it_first(tmp_path):
    manifest = tmp_path / "list.csv"
    manifest.write_text("path,label,group\naudio/a.wav,rock,x\naudio/b.wav,jazz,y\n")
    with pytest.raises(DataError, match=r"no numeric feature columns; .* looks like a manifest .*genre extract"):
        load_feature_table(manifest)


def test_a_nan_or_infinite_value_is_located_by_row_and_track(tmp_path):
    # "missing/NaN feature values in 1 row, column rms_mean" left the user to search 1000 rows.
    path = write_gtzan_table(tmp_path / "g.csv", tracks_per_class=3)
    frame = pd.read_csv(path)
    feature = next(c for c in frame.columns if c not in ("filename", "length", "label"))
    frame.loc[4, feature] = np.inf
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as caught:
        load_feature_table(path)
    message = str(caught.value)
    assert f"infinite feature values in 1 row, column {feature} (first: {feature!r} at row 6" in message
    assert f"(track {frame.loc[4, 'filename']!r})" in message
