"""Audit findings on feature tables and their options: leaking id columns, semicolon CSVs, the
wording of role clashes, text columns, contradicting options, outputs over unrelated files,
and a table given twice."""

from __future__ import annotations

import json
import zipfile

import pandas as pd
import pytest
from feature_tables import write_gtzan_table, write_own_table
from typer.testing import CliRunner

from genre.classifiers.prediction import check_predictions_output
from genre.classifiers.persistence import is_model_file
from genre.classifiers.training import check_model_output, train_model
from genre.cli import _model_params, app
from genre.errors import DataError, OutputError, ParameterError
from genre.features.table import check_distinct_tables, load_feature_table, names_a_role

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def one_line(result) -> str:
    return " ".join(result.output.split())


@pytest.fixture
def table(tmp_path):
    """A GTZAN-like table of 4 classes x 6 tracks, features ``mfcc1_mean`` ... ``mfcc6_mean``."""
    return write_gtzan_table(tmp_path / "t.csv", tracks_per_class=6)


FEATURES = [f"mfcc{i}_mean" for i in range(1, 7)]


# -- A: columns named as ids or groupings are never features ---------------------------------------
@pytest.mark.parametrize(
    "name", ["artist", "artist_id", "Artist ID", "artistname", "album", "Album_Title", "song_id", "song-id",
             "track_id", "id", "group", "class", "Genre"],
)  # fmt: skip
def test_names_of_ids_and_groupings_are_recognised(name):
    assert names_a_role(name)


@pytest.mark.parametrize("name", ["mfcc1_mean", "spectral_centroid_mean", "tempo", "valid", "rid_mean", "band_ids"])
def test_names_of_features_are_not(name):
    assert not names_a_role(name)


def test_numeric_id_and_grouping_columns_are_left_out_and_listed(table):
    frame = pd.read_csv(table)
    frame.insert(0, "artist_id", frame.index // 3)  # the leak: an artist's tracks share the number
    frame["song_id"] = frame.index
    frame["album"] = frame.index // 2
    frame.to_csv(table, index=False)
    loaded = load_feature_table(table)
    assert loaded.feature_columns == FEATURES
    assert {"artist_id", "song_id", "album", "length"} <= set(loaded.ignored_columns)


def test_another_group_column_does_not_make_the_artist_column_a_feature(table):
    frame = pd.read_csv(table)
    frame["artist"] = frame.index // 3  # numeric artist numbers
    frame["region"] = ["north", "south"] * (len(frame) // 2)
    frame.to_csv(table, index=False)
    assert load_feature_table(table).group_col == "artist"
    named = load_feature_table(table, group_col="region")
    assert named.group_col == "region" and named.feature_columns == FEATURES
    assert "artist" in named.ignored_columns


def test_the_sidecar_and_the_model_may_still_declare_such_columns_features(tmp_path):
    path = write_own_table(tmp_path / "own.csv", tracks_per_class=3, segments=1)
    frame = pd.read_csv(path).rename(columns={"mfcc_01_mean": "album_energy"})
    frame.to_csv(path, index=False)
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    meta["feature_columns"][0] = "album_energy"
    sidecar.write_text(json.dumps(meta))
    assert "album_energy" in load_feature_table(path).feature_columns

    external = write_gtzan_table(tmp_path / "ext.csv", tracks_per_class=2)
    frame = pd.read_csv(external)
    frame["artist_id"] = frame.index
    frame.to_csv(external, index=False)
    assert "artist_id" not in load_feature_table(external).feature_columns
    # A model trained on such a column (before this rule) still finds it.
    read = load_feature_table(external, labelled=False, features=[*FEATURES, "artist_id"], can_drop=False)
    assert read.feature_columns == [*FEATURES, "artist_id"]


# -- B: semicolon and tab tables --------------------------------------------------------------------
@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_separated_tables_are_read(table, sep):
    frame = pd.read_csv(table)
    other = table.with_name("other.csv")
    frame.to_csv(other, index=False, sep=sep)
    loaded = load_feature_table(other)
    assert loaded.separator == sep and loaded.feature_columns == FEATURES
    assert loaded.X.equals(load_feature_table(table).X)


def test_a_semicolon_in_a_comma_tables_column_name_does_not_mislead(table):
    frame = pd.read_csv(table).rename(columns={"mfcc1_mean": "tempo; bpm"})
    frame.to_csv(table, index=False)
    loaded = load_feature_table(table)
    assert loaded.separator == "," and "tempo; bpm" in loaded.feature_columns


# -- C: a clash names the options that were given, and says which column was found -------------------
def test_a_found_role_is_not_called_an_option(table):
    with pytest.raises(ParameterError) as caught:
        load_feature_table(table, label_col="filename")
    message = str(caught.value)
    assert "--label-col and the id column found ('filename') are the same column" in message
    assert "--id-col and" not in message and "name the id column with --id-col" in message
    with pytest.raises(ParameterError, match=r"the label column found \('label'\) and --group-col are the same"):
        load_feature_table(table, group_col="label")
    with pytest.raises(ParameterError, match="--label-col and --id-col are both 'label'"):
        load_feature_table(table, label_col="label", id_col="label")


# -- D: text columns with a number in them, and feature columns with text in them ----------------------
def test_a_title_column_with_a_numeric_title_is_a_text_column(table):
    frame = pd.read_csv(table)
    frame.insert(1, "title", [f"Song {i}" for i in range(len(frame))])
    frame.loc[3, "title"] = "1979"
    frame.to_csv(table, index=False)
    loaded = load_feature_table(table)
    assert loaded.feature_columns == FEATURES and "title" in loaded.ignored_columns


@pytest.mark.parametrize("n_text, refused", [(1, True), (12, True), (13, False)])
def test_the_share_of_text_cells_decides(table, n_text, refused):
    frame = pd.read_csv(table)  # 24 rows
    frame["mfcc1_mean"] = frame["mfcc1_mean"].astype(object)
    frame.loc[: n_text - 1, "mfcc1_mean"] = "oops"
    frame.to_csv(table, index=False)
    if refused:  # at most half text: a feature with bad cells
        with pytest.raises(DataError, match=rf"non-numeric values \(in {n_text} of 24 filled rows of 'mfcc1_mean'"):
            load_feature_table(table)
    else:
        assert "mfcc1_mean" in load_feature_table(table).ignored_columns


# -- E: options that contradict each other or the table ---------------------------------------------
@pytest.mark.parametrize(
    "options, message",
    [
        ({"drop": ["label"]}, r"--drop label: it is the label column found, not a feature.*--label-col"),
        ({"drop": ["filename"]}, r"--drop filename: it is the id column found, not a feature.*--id-col"),
        ({"drop": ["artist"]}, r"--drop artist: it is the group column found.*--no-groups"),
        ({"drop": ["artist"], "group_col": "artist"}, r"--drop and --group-col both name 'artist'; give one"),
    ],
)
def test_drop_refuses_the_label_id_and_group_columns(table, options, message):
    frame = pd.read_csv(table)
    frame["artist"] = [f"a{i // 3}" for i in range(len(frame))]
    frame.to_csv(table, index=False)
    with pytest.raises(ParameterError, match=message):
        load_feature_table(table, **options)


def test_a_parameter_given_twice_for_one_model_is_refused():
    with pytest.raises(ParameterError, match=r"C of logreg is already set by --param 'logreg:C=1'; give each"):
        _model_params(["logreg:C=1", "logreg:C=2"], models=["logreg"])
    with pytest.raises(ParameterError, match="already set"):
        _model_params(["C=1", "logreg:C=1"], models=["logreg"])
    both = _model_params(["svm:C_grid=[1]", "logreg:C=2"], models=["svm", "logreg"])
    assert both == {"svm": {"C_grid": [1]}, "logreg": {"C": 2}}


def test_benchmark_refuses_group_col_with_no_groups(table, tmp_path):
    result = invoke("benchmark", table, "--group-col", "filename", "--no-groups", "-m", "logreg", "-o", tmp_path / "o")
    assert result.exit_code == 2
    assert "--group-col names the groups that --no-groups ignores" in one_line(result)
    assert not (tmp_path / "o").exists()


# -- F: outputs replace only earlier outputs of their kind ------------------------------------------
def test_is_model_file_reads_only_the_archive_directory(tmp_path):
    model = tmp_path / "m.genre"
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("meta.json", "{}")
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("notes.txt", "x")
    text = tmp_path / "notes.txt"
    text.write_text("my notes")
    assert is_model_file(model)
    assert not is_model_file(other_zip) and not is_model_file(text) and not is_model_file(tmp_path / "none")
    assert check_model_output(model) == model
    with pytest.raises(OutputError, match=r"notes.txt: exists and is not a genre model file; choose another name or remove"):
        check_model_output(text)


def test_train_replaces_a_model_but_not_another_file(table, tmp_path):
    existing = tmp_path / "existing.txt"
    existing.write_text("keep me")
    result = invoke("train", table, "-m", "logreg", "-o", existing)
    assert result.exit_code == 2 and "existing.txt: exists and is not a genre model file" in one_line(result)
    assert existing.read_text() == "keep me"
    model = tmp_path / "m.genre"
    train_model(table, model="logreg", output=model)
    train_model(table, model="logreg", output=model)  # an earlier model is replaced
    assert is_model_file(model)


def test_predictions_replace_earlier_predictions_only(tmp_path):
    own = write_own_table(tmp_path / "features.csv", tracks_per_class=2, segments=1)
    with pytest.raises(OutputError, match=r"features.csv: exists and is a feature table, not predictions written by"):
        check_predictions_output(own)
    external = write_gtzan_table(tmp_path / "ext.csv", tracks_per_class=2)
    with pytest.raises(OutputError, match=r"ext.csv: exists and is not predictions .*choose another name or remove it"):
        check_predictions_output(external)
    earlier = tmp_path / "p.csv"
    earlier.write_text("path,genre,probability,prob_a,prob_b\nx.wav,a,0.6,0.6,0.4\n")
    (tmp_path / "p.skipped.csv").write_text("path,reason\n")
    assert check_predictions_output(earlier) == earlier
    (tmp_path / "q.skipped.csv").write_text("my list\n")
    with pytest.raises(OutputError, match=r"q.skipped.csv: exists and is not a skipped-files list"):
        check_predictions_output(tmp_path / "q.csv")


def test_predict_refuses_to_write_over_a_feature_table(table, tmp_path):
    model = tmp_path / "m.genre"
    train_model(table, model="logreg", output=model)
    features = write_own_table(tmp_path / "features.csv", tracks_per_class=2, segments=1)
    before = features.read_bytes()
    result = invoke("predict", model, table, "-o", features)
    assert result.exit_code == 2 and "features.csv: exists and is a feature table" in one_line(result)
    assert features.read_bytes() == before and not (tmp_path / "features.skipped.csv").exists()


# -- G: one table given twice --------------------------------------------------------------------------
def test_the_same_table_twice_is_refused(table, tmp_path):
    link = tmp_path / "link.csv"
    link.symlink_to(table)
    check_distinct_tables([table, write_gtzan_table(tmp_path / "u.csv", tracks_per_class=2)])
    with pytest.raises(ParameterError, match=r"t.csv: the same feature table is given twice; give each table once"):
        check_distinct_tables([str(table), str(table)])
    with pytest.raises(ParameterError, match=r"link.csv: the same feature table is given twice \(first as .*t.csv\)"):
        check_distinct_tables([table, link])
    result = invoke("benchmark", table, table, "-m", "logreg", "-k", "2", "-o", tmp_path / "o")
    assert result.exit_code == 2 and "given twice" in one_line(result) and "no model reads" not in result.output
