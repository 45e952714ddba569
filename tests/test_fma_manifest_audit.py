"""Audit of the dataset readers: manifest group columns, URLs and ``~``; FMA's silent drops,
repeated ids, ``fma:~``, nested unpacking and its official split as list files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

from genre.cli import app
from genre.data import load_dataset, load_fma, load_manifest
from genre.data import manifest as manifest_module
from genre.data.fma import SPLIT_FILES, audio_path, write_split_lists
from genre.errors import DataError, OutputError
from genre.evaluation.splits import list_split
from genre.features import table as table_module
from genre.features.table import file_stem, load_feature_table
from tests.conftest import tone
from tests.fma_tables import write_fma_tracks_csv

# -- manifests ------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def audio(tmp_path) -> Path:
    """``tmp_path/audio/{a,b,c}.wav`` (empty: listing reads no audio)."""
    for name in ("a", "b", "c"):
        write(tmp_path / "audio" / f"{name}.wav", "")
    return tmp_path / "audio"


def test_manifest_takes_an_artist_column_as_the_group(tmp_path, audio):
    manifest = write(tmp_path / "m.csv", "path,label,Artist\naudio/a.wav,rock,A1\naudio/b.wav,rock,A2\n")
    dataset = load_manifest(manifest)
    assert [(t.track, t.group) for t in dataset.tracks] == [("audio/a", "A1"), ("audio/b", "A2")]
    assert dataset.notes == []


def test_manifest_group_names_are_the_table_readers(tmp_path, audio):
    # One list of names: a table extracted from a manifest, and the manifest itself, agree.
    assert manifest_module.GROUP_CANDIDATES == table_module.GROUP_CANDIDATES
    for name in table_module.GROUP_CANDIDATES:
        manifest = write(tmp_path / f"{name}.csv", f"path,label,{name}\naudio/a.wav,rock,X\n")
        assert [t.group for t in load_manifest(manifest).tracks] == ["X"]


def test_manifest_with_group_and_artist_takes_group_and_says_artist_is_not_read(tmp_path, audio):
    manifest = write(tmp_path / "m.csv", "path,label,group,artist\naudio/a.wav,rock,G1,A1\n")
    dataset = load_manifest(manifest)
    assert [t.group for t in dataset.tracks] == ["G1"]
    assert dataset.notes == ["m.csv: column 'artist' is not read (read: path, label, and 'group' as the group)"]


def test_manifest_columns_not_read_are_noted(tmp_path, audio):
    # Trailing unnamed empty columns (a spreadsheet's) are no news; a named one, or an unnamed
    # one holding something, is.
    manifest = write(tmp_path / "m.csv", "path,label,comment,,\naudio/a.wav,rock,live,,\naudio/b.wav,rock,,,\n")
    (note,) = load_manifest(manifest).notes
    assert note.startswith("m.csv: column 'comment' is not read (read: path and label; a 'group' or 'artist' column")
    manifest = write(tmp_path / "m2.csv", "path,label,\naudio/a.wav,rock,A1\n")
    (note,) = load_manifest(manifest).notes
    assert "column '(column 3, unnamed)' is not read" in note
    assert load_manifest(write(tmp_path / "m3.csv", "path,label,,\naudio/a.wav,rock,,\n")).notes == []


def test_benchmark_copy_without_ignored_files_says_the_notes_once(tmp_path, audio):
    # genre benchmark says a dataset's notes, then extracts from dataset.without_notes().
    dataset = load_manifest(write(tmp_path / "m.csv", "path,label,x\naudio/a.wav,rock,1\n"))
    assert len(dataset.notes) == 1
    assert dataset.without_notes().notes == [] and dataset.without_notes().tracks == dataset.tracks


def test_manifest_urls_are_refused_with_their_line_and_file_urls_read(tmp_path, audio):
    text = (
        "path,label\n"
        "https://example.org/a.wav,rock\n"
        f"file://{audio / 'b.wav'},rock\n"
        f"file://localhost{audio / 'c.wav'},jazz\n"
        "s3://bucket/d.wav,jazz\n"
        "file://server/share/e.wav,jazz\n"
        "audio/a.wav,rock\n"
    )
    dataset = load_manifest(write(tmp_path / "m.csv", text))
    assert [t.path for t in dataset.tracks] == [str(audio / "b.wav"), str(audio / "c.wav"), str(tmp_path / "audio/a.wav")]
    assert [t.track for t in dataset.tracks][:2] == [str(audio / "b"), str(audio / "c")]
    rejected = dict(dataset.rejected)
    assert set(rejected) == {"https://example.org/a.wav", "s3://bucket/d.wav", "file://server/share/e.wav"}
    assert rejected["https://example.org/a.wav"].startswith("line 2 of m.csv: the path 'https://example.org/a.wav' is a URL")
    assert "download it" in rejected["https://example.org/a.wav"]
    assert rejected["file://server/share/e.wav"].startswith("line 6 of m.csv: the path")
    assert "another computer (server)" in rejected["file://server/share/e.wav"]
    # Only URLs: one message, naming the first row.
    with pytest.raises(DataError, match=r"no usable row.*line 2 of u\.csv: the path 'https://x/a\.wav' is a URL"):
        load_manifest(write(tmp_path / "u.csv", "path,label\nhttps://x/a.wav,rock\nhttps://x/b.wav,rock\n"))


def test_manifest_tilde_is_the_home_folder(tmp_path, monkeypatch):
    home = tmp_path / "home"
    write(home / "music" / "a.wav", "")
    monkeypatch.setenv("HOME", str(home))
    manifest = write(tmp_path / "lists" / "m.csv", "path,label\n~/music/a.wav,rock\n")
    (track,) = load_manifest(manifest).tracks
    assert track.path == str(home / "music" / "a.wav")
    # A file really named "~..." beside the manifest, and none in the home folder: that file.
    write(tmp_path / "lists" / "~" / "b.wav", "")
    manifest = write(tmp_path / "lists" / "m2.csv", "path,label\n~/b.wav,rock\n")
    (track,) = load_manifest(manifest).tracks
    assert track.path == str(tmp_path / "lists" / "~" / "b.wav")


# -- FMA ------------------------------------------------------------------------------------

# (track id, subset, split, genre_top, artist id)
ROWS = [
    (2, "small", "training", "Hip-Hop", 1),
    (3, "small", "training", "Hip-Hop", 1),
    (5, "small", "test", "Hip-Hop", 2),
    (10, "small", "validation", "Pop", 3),
    (20, "small", "test", "Pop", 4),
    (26, "small", "training", "Pop", 5),
    (200, "medium", "training", "", 6),  # no genre_top
    (201, "medium", "training", "Jazz", 7),
    (1234, "large", "test", "", 8),
    (5000, "", "", "Rock", 9),  # in no subset
]
COLUMNS = [("artist", "bio"), ("artist", "id"), ("set", "split"), ("set", "subset"), ("track", "genre_top")]


def write_tracks_csv(path: Path, rows=ROWS) -> Path:
    """tracks.csv in FMA's published format (two header rows, then ``track_id,,,``)."""
    values = [
        (track_id, dict(zip(COLUMNS, ("<p>two,\nlines</p>", artist, split, subset, genre))))
        for track_id, subset, split, genre, artist in rows
    ]
    return write_fma_tracks_csv(path, COLUMNS, values)


def fake_fma(root: Path, ids, rows=ROWS, name: str = "fma_small") -> Path:
    """``root/fma_metadata/tracks.csv`` and ``root/<name>`` with empty files for ``ids``."""
    write_tracks_csv(root / "fma_metadata" / "tracks.csv", rows)
    (root / name).mkdir(parents=True, exist_ok=True)
    for track_id in ids:
        path = audio_path(root / name, track_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    return root / name


SMALL = [2, 3, 5, 10, 20, 26]


def test_fma_counts_audio_left_out_by_rule(tmp_path):
    # The audio of a medium track, a track without a genre and one in no subset lie in the folder.
    folder = fake_fma(tmp_path, [*SMALL, 200, 201, 1234, 5000])
    dataset = load_dataset(f"fma:{folder}")
    assert [t.track for t in dataset.tracks] == [f"fma/{i:06d}" for i in SMALL]
    assert dataset.rejected == []
    assert dataset.notes == [
        f"left out 2 audio files of {folder} whose tracks are not in FMA subset 'small' (tracks.csv: 1 medium, "
        "1 in no subset), e.g. track 201 (000/000201.mp3); subset 'full' (--fma-subset full) takes them in",
        f"left out 2 audio files of {folder} whose tracks have no top-level genre (track/genre_top is empty in "
        "tracks.csv), e.g. track 200 (000/000200.mp3)",
    ]
    medium = load_dataset(f"fma:{folder}", subset="medium")
    assert "fma/000201" in [t.track for t in medium.tracks]
    assert "subset 'full' (--fma-subset full) takes it in" in medium.notes[0]
    # Nothing left out: nothing said.
    assert load_dataset(f"fma:{fake_fma(tmp_path / 'clean', SMALL)}").notes == []


def test_fma_repeated_ids_are_taken_once_and_contradictions_left_out(tmp_path):
    rows = [*ROWS, (2, "small", "training", "Hip-Hop", 1), (3, "small", "training", "Rock", 1)]
    folder = fake_fma(tmp_path, SMALL, rows=rows)
    dataset = load_fma(folder, metadata=tmp_path / "fma_metadata" / "tracks.csv", subset="small")
    assert [t.track for t in dataset.tracks] == ["fma/000002", "fma/000005", "fma/000010", "fma/000020", "fma/000026"]
    assert dataset.rejected == [
        (str(audio_path(folder, 3)),
         "tracks.csv has 2 rows for track 3 that disagree (genre_top 'Hip-Hop' / 'Rock'): left out"),
    ]
    assert dataset.notes == [
        "tracks.csv lists 1 track id on more than one row with the same genre, subset and artist, "
        "e.g. track 2 (2 rows): each track is taken once"
    ]


def test_fma_source_expands_the_home_folder(tmp_path, monkeypatch):
    fake_fma(tmp_path / "data", SMALL)
    monkeypatch.setenv("HOME", str(tmp_path))
    dataset = load_dataset("fma:~/data/fma_small")
    assert len(dataset.tracks) == len(SMALL)
    assert dataset.tracks[0].path == str(tmp_path / "data" / "fma_small" / "000" / "000002.mp3")
    same = load_dataset("fma:~/data/fma_small", metadata="~/data/fma_metadata/tracks.csv", subset="small")
    assert same.tracks == dataset.tracks


def test_fma_unpacked_a_level_too_deep_says_where_the_audio_is(tmp_path):
    write_tracks_csv(tmp_path / "fma_metadata" / "tracks.csv")
    fake_fma(tmp_path / "fma_small", SMALL)  # fma_small/fma_small/000/000002.mp3
    nested = tmp_path / "fma_small" / "fma_small"
    with pytest.raises(DataError) as error:
        load_dataset(f"fma:{tmp_path / 'fma_small'}")
    message = str(error.value)
    assert "none of the 6 tracks of FMA subset 'small' with a genre is there" in message
    assert f"the audio is in {nested}" in message
    assert f"give fma:{nested} with --fma-metadata {tmp_path / 'fma_metadata' / 'tracks.csv'}" in message
    # The folder above the audio folders, given with a subset, likewise.
    with pytest.raises(DataError, match=f"the audio is in {tmp_path / 'fma_small' / 'fma_small'}"):
        load_fma(tmp_path, metadata=tmp_path / "fma_metadata" / "tracks.csv")
    # One of FMA's numbered folders given: the folder above it.
    with pytest.raises(DataError, match=f"is one of FMA's numbered folders: give the folder above it, {nested}"):
        load_fma(nested / "000", metadata=tmp_path / "fma_metadata" / "tracks.csv")


def test_fma_audio_of_another_subset_only_says_which_subset(tmp_path):
    folder = fake_fma(tmp_path, [201])
    with pytest.raises(DataError, match=r"none of the 6 tracks.*; left out 1 audio file .*subset 'medium'"):
        load_dataset(f"fma:{folder}")


def test_split_lists_are_fma_official_split_in_list_file_form(tmp_path):
    folder = fake_fma(tmp_path, [2, 3, 5, 10, 26, 201])  # 20 (test) has no audio
    lists = write_split_lists(f"fma:{folder}", tmp_path / "lists")
    assert lists.files == {split: tmp_path / "lists" / name for split, name in SPLIT_FILES.items()}
    assert lists.counts == {"training": 3, "validation": 1, "test": 1}
    lines = {split: path.read_text().splitlines() for split, path in lists.files.items()}
    assert all(text[0].startswith("# FMA official split: ") for text in lines.values())
    assert lines["training"][1:] == ["000/000002.mp3", "000/000003.mp3", "000/000026.mp3"]
    assert lines["validation"][1:] == ["000/000010.mp3"]
    assert lines["test"][1:] == ["000/000005.mp3"]
    assert any("1 track or file was left out while listing" in n and "000020.mp3" in n for n in lists.notes)
    assert any("not in FMA subset 'small'" in n for n in lists.notes)
    # Each line's file stem is the stem of the track id genre extract writes.
    assert file_stem("000/000002.mp3") == file_stem("fma/000002")
    # Rerun: replaces its own lists; a file of another kind is refused.
    write_split_lists(folder, tmp_path / "lists", subset="small")
    write(tmp_path / "other" / "test.txt", "my own notes\n")
    with pytest.raises(OutputError, match="test.txt: exists and is not a list file of FMA's split"):
        write_split_lists(f"fma:{folder}", tmp_path / "other")
    assert (tmp_path / "other" / "test.txt").read_text() == "my own notes\n"
    assert not (tmp_path / "other" / "train.txt").exists()


def test_genre_fma_split_writes_the_lists(tmp_path):
    folder = fake_fma(tmp_path, [2, 3, 5, 10, 26, 201])
    result = CliRunner().invoke(app, ["fma-split", f"fma:{folder}", "-o", str(tmp_path / "lists")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "training: 3 tracks ->" in said and "validation: 1 tracks ->" in said and "test: 1 tracks ->" in said
    assert (tmp_path / "lists" / "train.txt").read_text().splitlines()[1] == "000/000002.mp3"


def test_split_lists_partition_a_table_of_fma_tracks(tmp_path):
    folder = fake_fma(tmp_path, SMALL)
    lists = write_split_lists(f"fma:{folder}", tmp_path / "lists")
    # A table as genre extract writes it for these tracks (two segments each).
    dataset = load_dataset(f"fma:{folder}")
    rng = np.random.default_rng(0)
    rows = [
        {"track": t.track, "segment": s, "label": t.label, "group": t.group, "f1": rng.normal(), "f2": rng.normal()}
        for t in dataset.tracks
        for s in range(2)
    ]
    path = tmp_path / "fma.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    table = load_feature_table(path)
    split, matches = list_split(
        table, train_lists=[lists.files["training"], lists.files["validation"]], test_list=lists.files["test"]
    )
    assert [m.n_matched for m in matches] == [2, 3, 1]  # test, then the two training lists
    assert all(m.n_unmatched == 0 and m.n_ambiguous == 0 for m in matches)
    assert sorted(set(table.tracks[split.test])) == ["fma/000005", "fma/000020"]
    assert len(split.train) == 8


def test_split_lists_note_artists_on_both_sides(tmp_path):
    rows = [(2, "small", "training", "Rock", 1), (3, "small", "test", "Rock", 1), (5, "small", "test", "Pop", 2)]
    folder = fake_fma(tmp_path, [2, 3, 5], rows=rows)
    lists = write_split_lists(f"fma:{folder}", tmp_path / "lists")
    (note,) = lists.notes
    assert note.startswith("1 artist has tracks in the test list and in the training or validation list "
                           "(e.g. artist id 1: tracks training 2, test 3)")  # fmt: skip
    assert lists.counts == {"training": 1, "validation": 0, "test": 2}


def test_split_lists_refuse_an_unknown_split(tmp_path):
    folder = fake_fma(tmp_path, [2], rows=[(2, "small", "train", "Rock", 1)])
    with pytest.raises(DataError, match="track 2: unknown split 'train' .*training, validation, test"):
        write_split_lists(f"fma:{folder}", tmp_path / "lists")


def test_cli_extract_says_what_fma_left_out(tmp_path):
    write_tracks_csv(tmp_path / "fma_metadata" / "tracks.csv")
    folder = tmp_path / "fma_small"
    for track_id in (2, 5, 200):
        path = audio_path(folder, track_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, tone(1.0, freq=200.0 + track_id, seed=track_id), 22050, format="MP3")
    out = tmp_path / "fma.csv"
    result = CliRunner().invoke(
        app, ["extract", f"fma:{folder}", "-o", str(out), "--jobs", "1", "--segment-seconds", "0"]
    )
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "left out 1 audio file of" in flat and "no top-level genre" in flat and "track 200" in flat
    assert sorted(pd.read_csv(out)["track"].unique()) == ["fma/000002", "fma/000005"]
