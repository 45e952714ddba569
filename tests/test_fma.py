"""The Free Music Archive layout (genre.data.fma): tracks.csv, subsets, paths, groups, missing audio."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

from genre.cli import app
from genre.data import load_dataset, load_fma
from genre.data.fma import audio_path
from genre.errors import DataError, ParameterError
from genre.features.config import FeatureConfig
from genre.features.extract import extract_to_csv
from tests.conftest import tone
from tests.fma_tables import write_fma_tracks_csv

# (track id, subset, genre_top, artist id): what the fake tracks.csv lists.
ROWS = [
    (2, "small", "Hip-Hop", 1),
    (3, "small", "Hip-Hop", 1),
    (5, "medium", "Pop", 2),
    (10, "large", "Rock", 3),
    (20, "medium", "", 4),  # no top-level genre: left out
    (134, "small", "Rock", 5),  # listed, but its audio is missing
    (1000, "large", "", 6),
    (1234, "medium", "Folk", 2),  # folder 001
    (99999, "", "Jazz", 7),  # in no subset: only "full" has it
]
MISSING = {134}

# Columns in the order and naming of FMA's tracks.csv (a selection of its ~50).
COLUMNS = [
    ("album", "id"),
    ("album", "title"),
    ("artist", "bio"),
    ("artist", "id"),
    ("artist", "name"),
    ("set", "split"),
    ("set", "subset"),
    ("track", "genre_top"),
    ("track", "genres"),
    ("track", "title"),
]


def write_tracks_csv(path: Path, rows=ROWS) -> Path:
    """A tracks.csv in FMA's published format, with free text (newlines, quotes) as FMA has it."""
    return write_fma_tracks_csv(path, COLUMNS, [
        (
            track_id,
            {
                ("album", "id"): 100 + track_id,
                ("album", "title"): f"Album, vol. {track_id}",
                ("artist", "bio"): "<p>Line one,\nline two \"quoted\"</p>",  # free text with newlines, as in FMA
                ("artist", "id"): artist,
                ("artist", "name"): f"Artist {artist}",
                ("set", "split"): "training",
                ("set", "subset"): subset,
                ("track", "genre_top"): genre,
                ("track", "genres"): "[21]",
                ("track", "title"): f"Track {track_id}",
            },
        )
        for track_id, subset, genre, artist in rows
    ])  # fmt: skip


@pytest.fixture(scope="module")
def fma(tmp_path_factory) -> Path:
    """``ROOT/fma_metadata/tracks.csv``, ``ROOT/fma_small`` and ``ROOT/fma_large`` (2 s MP3s, ``000/000002.mp3``...)."""
    root = tmp_path_factory.mktemp("fma")
    write_tracks_csv(root / "fma_metadata" / "tracks.csv")
    for name, subsets in (("fma_small", {"small"}), ("fma_large", {"small", "medium", "large", ""})):
        for track_id, subset, _, _ in ROWS:
            if track_id in MISSING or subset not in subsets:
                continue
            path = audio_path(root / name, track_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, tone(2.0, freq=200.0 + track_id % 500, seed=track_id), 22050, format="MP3")
    return root


def test_the_fake_tracks_csv_reads_as_fma_documents_it(fma):
    # The way FMA's own code reads it: the test file must be in the real format.
    tracks = pd.read_csv(fma / "fma_metadata" / "tracks.csv", index_col=0, header=[0, 1])
    assert tracks.index.name == "track_id" and len(tracks) == len(ROWS)
    assert tracks.loc[2, ("track", "genre_top")] == "Hip-Hop"
    assert tracks.loc[1234, ("set", "subset")] == "medium"
    assert tracks.loc[2, ("artist", "bio")].count("\n") == 1


@pytest.mark.parametrize(
    "subset, ids",
    [
        ("small", [2, 3]),
        ("medium", [2, 3, 5, 1234]),
        ("large", [2, 3, 5, 10, 1234]),
        ("full", [2, 3, 5, 10, 1234, 99999]),
    ],
)
def test_subsets_are_nested_and_need_a_genre(fma, subset, ids):
    dataset = load_fma(fma / "fma_large", metadata=fma / "fma_metadata" / "tracks.csv", subset=subset)
    assert [t.track for t in dataset.tracks] == [f"fma/{i:06d}" for i in ids]
    # track 134 (small, Rock) is in every subset but has no audio file
    assert [path for path, _ in dataset.rejected] == [str(fma / "fma_large" / "000" / "000134.mp3")]
    assert "no such file" in dataset.rejected[0][1]


def test_paths_labels_and_artist_groups(fma):
    dataset = load_fma(fma / "fma_large", metadata=fma / "fma_metadata" / "tracks.csv", subset="medium")
    by_id = {t.track: t for t in dataset.tracks}
    assert by_id["fma/000002"].path == str(fma / "fma_large" / "000" / "000002.mp3")
    assert by_id["fma/001234"].path == str(fma / "fma_large" / "001" / "001234.mp3")
    assert [(t.label, t.group) for t in dataset.tracks] == [("Hip-Hop", "1"), ("Hip-Hop", "1"), ("Pop", "2"), ("Folk", "2")]
    assert dataset.labels == ["Folk", "Hip-Hop", "Pop"]


def test_fma_source_finds_metadata_and_subset_from_the_layout(fma):
    dataset = load_dataset(f"fma:{fma / 'fma_small'}")
    assert [t.track for t in dataset.tracks] == ["fma/000002", "fma/000003"]
    assert "FMA small" in dataset.name
    # explicit options override the guesses
    medium = load_dataset(f"fma:{fma / 'fma_small'}", subset="medium", metadata=fma / "fma_metadata" / "tracks.csv")
    assert [t.track for t in medium.tracks] == ["fma/000002", "fma/000003"]  # fma_small holds only those files
    assert len(medium.rejected) == 3  # 5, 134 and 1234 are listed for medium but not in fma_small


def test_errors_are_clear(fma, tmp_path):
    metadata = fma / "fma_metadata" / "tracks.csv"
    with pytest.raises(DataError, match="no such file"):
        load_fma(fma / "fma_small", metadata=tmp_path / "nope.csv")
    plain = tmp_path / "plain.csv"
    plain.write_text("track_id,genre\n2,Rock\n")
    with pytest.raises(DataError, match="not FMA's tracks.csv.*track/genre_top"):
        load_fma(fma / "fma_small", metadata=plain)
    with pytest.raises(ParameterError, match="unknown FMA subset.*small, medium, large, full"):
        load_fma(fma / "fma_small", metadata=metadata, subset="tiny")
    with pytest.raises(DataError, match="not a folder"):
        load_fma(tmp_path / "no_audio", metadata=metadata)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="none of the 3 tracks"):
        load_fma(tmp_path / "empty", metadata=metadata)
    with pytest.raises(ParameterError, match="cannot tell the FMA subset"):
        load_dataset(f"fma:{tmp_path / 'empty'}", metadata=metadata)
    with pytest.raises(ParameterError, match="only apply to a fma: source"):
        load_dataset(str(fma / "fma_small"), subset="small")
    with pytest.raises(ParameterError, match="unexpected keyword argument 'colour'"):
        load_dataset(f"fma:{fma / 'fma_small'}", colour="red")
    bad_subset = write_tracks_csv(tmp_path / "odd" / "tracks.csv", rows=[(2, "huge", "Rock", 1)])
    with pytest.raises(DataError, match="track 2: unknown subset 'huge'"):
        load_fma(fma / "fma_small", metadata=bad_subset)


def test_extract_end_to_end_reports_the_missing_file(fma, tmp_path):
    out = tmp_path / "features.csv"
    config = FeatureConfig(segment_seconds=1.0)
    dataset = load_dataset(f"fma:{fma / 'fma_large'}", subset="small")
    report = extract_to_csv(dataset, out, config=config, jobs=1)
    table = pd.read_csv(out, dtype={"group": str})
    assert sorted(table["track"].unique()) == ["fma/000002", "fma/000003"]
    assert set(table["label"]) == {"Hip-Hop"} and set(table["group"]) == {"1"}
    assert report.n_tracks == 3 and report.n_extracted == 2
    assert [Path(p).name for p, _ in report.skipped] == ["000134.mp3"]
    skipped = pd.read_csv(report.skipped_path)
    assert skipped["path"].tolist() == [str(fma / "fma_large" / "000" / "000134.mp3")]


def test_cli_extracts_an_fma_folder(fma, tmp_path):
    out = tmp_path / "cli.csv"
    result = CliRunner().invoke(
        app,
        ["extract", f"fma:{fma / 'fma_small'}", "-o", str(out), "--jobs", "1", "--segment-seconds", "1"],
    )
    assert result.exit_code == 0, result.output
    assert "2 of 3 files extracted" in result.output
    assert pd.read_csv(out)["track"].nunique() == 2
    result = CliRunner().invoke(app, ["extract", str(fma / "fma_small"), "--fma-subset", "small", "-o", str(out)])
    assert result.exit_code == 2 and "apply only to an fma:FOLDER source" in result.output
    result = CliRunner().invoke(app, ["extract", f"fma:{fma / 'fma_small'}", "--fma-subset", "tiny", "-o", str(out)])
    assert result.exit_code == 2 and "unknown FMA subset" in result.output


def fake_audio(root: Path, *names: str) -> None:
    """Empty files under ``root`` (listing reads no audio)."""
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")


def test_audio_without_a_row_or_out_of_layout_is_reported(tmp_path):
    metadata = write_tracks_csv(tmp_path / "fma_metadata" / "tracks.csv")
    audio = tmp_path / "fma_small"
    # 777 has no row (a tracks.csv cut short at a line break); 3 is not zero-padded; 2 is
    # misplaced; 5 is a medium track (its row says so: left out without a word).
    fake_audio(audio, "000/000002.mp3", "000/000777.mp3", "000/3.mp3", "001/000002.mp3", "000/000005.mp3",
               "000/.000002.mp3", "checksums", "README.txt", "000003.mp3")  # fmt: skip
    dataset = load_fma(audio, metadata=metadata, subset="small")
    assert [t.track for t in dataset.tracks] == ["fma/000002"]
    got = {str(Path(p).relative_to(audio)): r for p, r in dataset.rejected}
    assert got == {
        "000/000003.mp3": "listed in tracks.csv (subset small) but no such file",
        "000/000134.mp3": "listed in tracks.csv (subset small) but no such file",
        "000/000777.mp3": f"no row for track 777 in {metadata} (is that file complete?): left out",
        "000/3.mp3": f"not named or placed as FMA does (expected {audio / '000' / '000003.mp3'}): left out",
        "001/000002.mp3": f"not named or placed as FMA does (expected {audio / '000' / '000002.mp3'}): left out",
        "000003.mp3": "not named or placed as FMA does (<first three digits>/<six-digit id>.mp3): left out",
    }


def test_none_there_says_that_files_are_named_otherwise(tmp_path):
    metadata = write_tracks_csv(tmp_path / "fma_metadata" / "tracks.csv")
    fake_audio(tmp_path / "flat", "2.mp3", "3.mp3")
    with pytest.raises(DataError, match=r"none of the 3 tracks .*; 2 audio files are not named or placed as FMA does"):
        load_fma(tmp_path / "flat", metadata=metadata)


def test_tracks_csv_cut_mid_row_leaves_the_last_row_out(tmp_path):
    metadata = write_tracks_csv(tmp_path / "tracks.csv", rows=[(2, "small", "Hip-Hop", 1), (3, "small", "Rock", 2)])
    text = metadata.read_text(encoding="utf-8")
    metadata.write_text(text[: text.rindex("small,Rock") + len("small,Ro")], encoding="utf-8")  # a download cut short
    fake_audio(tmp_path / "fma_small", "000/000002.mp3", "000/000003.mp3")
    dataset = load_fma(tmp_path / "fma_small", metadata=metadata)
    assert [(t.track, t.label) for t in dataset.tracks] == [("fma/000002", "Hip-Hop")]  # not ("fma/000003", "Ro")
    assert dataset.rejected == [
        (str(tmp_path / "fma_small" / "000" / "000003.mp3"),
         "its row, the last of tracks.csv, is cut short (the file ends mid-row): left out"),
    ]  # fmt: skip
    # A cut inside a quoted cell (FMA's bios hold line breaks) says so too.
    metadata.write_text(text[: text.rindex("Line one") + 4], encoding="utf-8")
    with pytest.raises(DataError, match="cannot read FMA metadata .*ends mid-row: was it cut short"):
        load_fma(tmp_path / "fma_small", metadata=metadata)


def test_benchmark_takes_the_fma_options_as_extract_does(fma, tmp_path, monkeypatch):
    import genre.benchmark as bench

    # A copy of the large folder under a name that tells no subset: --fma-subset says it.
    shutil.copytree(fma / "fma_large", tmp_path / "audio")
    seen = {}

    def listed_only(source, folder, **kwargs):
        from genre.data import load_dataset

        seen["tracks"] = len(load_dataset(source, **kwargs["source_options"]).tracks)
        raise KeyboardInterrupt  # stop before any extraction

    monkeypatch.setattr(bench, "extract_inputs", listed_only)
    metadata = fma / "fma_metadata" / "tracks.csv"
    result = CliRunner().invoke(app, [
        "benchmark", f"fma:{tmp_path / 'audio'}", "--fma-subset", "medium", "--fma-metadata", str(metadata),
        "-m", "lda", "--folds", "2", "-o", str(tmp_path / "report"),
    ])  # fmt: skip
    assert seen["tracks"] == 4, result.output  # small and medium tracks with a genre and audio: 2, 3, 5, 1234
    # For a feature table, they are refused rather than ignored.
    table = tmp_path / "t.csv"
    table.write_text("track,label,f\na,x,1\n")
    result = CliRunner().invoke(app, ["benchmark", str(table), "--fma-subset", "small", "-o", str(tmp_path / "r2")])
    assert result.exit_code == 2 and "apply only to an fma:FOLDER source" in " ".join(result.output.split())
