"""``genre benchmark`` of audio checks its splits on the listing before extracting, says how much
of its feature table it reused, and says the listing's notes at the end (``genre extract`` too)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from genre.cli import app
from genre.data.fma import audio_path
from genre.errors import DataError, ParameterError
from tests.conftest import interrupt_extraction_after, tone
from tests.fma_tables import write_fma_tracks_csv
from tests.tone_manifests import write_tone_manifest

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def flat(text: str) -> str:
    return " ".join(text.split())


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


@pytest.fixture
def manifest(tmp_path) -> Path:
    # low2 and high2 share an artist with low0 and high0.
    return write_tone_manifest(tmp_path, artists={"low2": "artist-low0", "high2": "artist-high0"})


#: The columns of tracks.csv that listing an FMA folder reads.
FMA_COLUMNS = [("artist", "id"), ("set", "subset"), ("track", "genre_top")]


def fma_row(*, artist: int, genre: str, subset: str = "small") -> dict:
    return {("artist", "id"): artist, ("set", "subset"): subset, ("track", "genre_top"): genre}


def refused_before_extraction(result, extracted_tracks, report: Path, said: str) -> None:
    assert result.exit_code == 2, result.output
    assert said in flat(result.output)
    assert extracted_tracks == [] and not (report / "features").exists()
    assert "Traceback" not in result.output


# -- 1. the list files are checked against the listing before extraction -----------------------
def test_an_artist_on_both_sides_of_the_lists_is_refused_before_extraction(tmp_path, manifest, extracted_tracks):
    train = write_lines(tmp_path / "train.txt", "low0", "high0")
    test = write_lines(tmp_path / "test.txt", "low1", "low2", "high1", "high2")
    report = tmp_path / "report"
    lists = ["--train-list", train, "--test-list", test]
    result = invoke("benchmark", manifest, "-m", "lda", *lists, "-j", "1", "-o", report)
    refused_before_extraction(
        result, extracted_tracks, report,
        f"{test}: 2 groups of column 'artist' have tracks on both sides of the partition, in the training lists "
        "and the test list (e.g. 'artist-low0' (1 training, 1 test)",
    )  # fmt: skip
    # The same with --group-col group, and without training lists (the rest trains).
    result = invoke(
        "benchmark", manifest, "-m", "lda", "--test-list", test, "--group-col", "group", "-j", "1", "-o", report
    )
    refused_before_extraction(result, extracted_tracks, report, "the test list and the tracks not in it (which train)")


def test_group_col_may_name_the_manifests_artist_column(tmp_path, manifest, extracted_tracks):
    # The extracted table's column is "group", filled from the manifest's artist column: naming
    # the column as the manifest has it means the same groups, not an unknown column.
    test = write_lines(tmp_path / "test.txt", "low1", "low2", "high1", "high2")
    report = tmp_path / "report"
    result = invoke(
        "benchmark", manifest, "-m", "lda", "--test-list", test, "--group-col", "artist", "-j", "1", "-o", report
    )
    refused_before_extraction(result, extracted_tracks, report, "the test list and the tracks not in it (which train)")
    result = invoke("benchmark", manifest, "-m", "lda", "--folds", "2", "--group-col", "artist", "-j", "1", "-o", report)
    assert result.exit_code == 0, result.output
    data = json.loads((report / "results.json").read_text())
    assert "group" in json.dumps(data["protocol"]).lower()
    # low0/low2 share an artist, as do high0/high2: a fold never splits them
    for split in data["splits"]:
        tested = set(split["test_tracks"])
        assert {"audio/low0", "audio/low2"} <= tested or not {"audio/low0", "audio/low2"} & tested


@pytest.mark.parametrize(
    "train, test, said",
    [
        (["low0", "high0"], ["low0", "high1"], "1 track is listed for both training and testing (e.g. audio/low0); "
                                               "the lists must not overlap"),
        (["low0", "high0"], ["nothing"], "none of its 1 lines matches a track of songs.csv (lines look like 'nothing'"),
        (["low0", "high0"], [], "the test list file is empty"),
        (["low0", "low1"], ["high0"], "the training list matches 2 tracks of songs.csv, all of class 'low'; "
                                      "training needs at least two classes"),
        (None, ["low0", "low1", "low2", "high0", "high1", "high2"], "every track of songs.csv is in the test list"),
    ],
)  # fmt: skip
def test_lists_the_listing_cannot_take_are_refused_before_extraction(tmp_path, extracted_tracks, train, test, said):
    manifest = write_tone_manifest(tmp_path)
    lists = ["--train-list", write_lines(tmp_path / "train.txt", *train)] if train is not None else []
    test_list = write_lines(tmp_path / "test.txt", *test)
    report = tmp_path / "report"
    result = invoke("benchmark", manifest, "-m", "lda", *lists, "--test-list", test_list, "-j", "1", "-o", report)
    refused_before_extraction(result, extracted_tracks, report, said)


@pytest.mark.parametrize(
    "options, said",
    [
        (["-k", "1"], "--folds 1: cross-validation needs at least 2 folds"),
        (["-k", "2", "--repeats", "0"], "--repeats 0: must be at least 1"),
        (["-k", "2", "--repeats", "3", "--seed", "4294967295"], "--seed 4294967295: must lie between 0 and 4294967293"),
        (["-k", "4"], "a class has fewer groups than folds"),
    ],
)
def test_folds_repeats_and_seeds_are_refused_before_extraction(tmp_path, extracted_tracks, options, said):
    manifest = write_tone_manifest(tmp_path)
    report = tmp_path / "report"
    result = invoke("benchmark", manifest, "-m", "lda", *options, "-j", "1", "-o", report)
    refused_before_extraction(result, extracted_tracks, report, said)


def test_a_folder_of_one_class_is_refused_before_extraction(tmp_path, write_wav, extracted_tracks):
    for i in range(3):
        write_wav(tmp_path / "audio" / "rock" / f"rock.{i}.wav", 3.2, freq=200.0 + 50 * i)
    report = tmp_path / "report"
    result = invoke("benchmark", tmp_path / "audio", "-m", "lda", "-k", "2", "-j", "1", "-o", report)
    said = "all of class 'rock'; training needs at least two classes"
    refused_before_extraction(result, extracted_tracks, report, said)


def test_fma_artists_on_both_sides_are_refused_before_extraction(tmp_path, extracted_tracks):
    """FMA's artist ids are groups: lists that split an artist are refused before any MP3 is decoded."""
    rows = [(i, fma_row(artist=i % 3, genre="Rock" if i % 2 else "Pop")) for i in range(2, 8)]
    write_fma_tracks_csv(tmp_path / "fma_metadata" / "tracks.csv", FMA_COLUMNS, rows)
    for track_id, _ in rows:  # listing reads no audio
        path = audio_path(tmp_path / "fma_small", track_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    train = write_lines(tmp_path / "train.txt", "000/000002.mp3", "000/000003.mp3")
    test = write_lines(tmp_path / "test.txt", "000/000005.mp3", "000/000006.mp3")  # 5: artist 2, as 2
    report = tmp_path / "report"
    result = invoke(
        "benchmark", f"fma:{tmp_path / 'fma_small'}", "-m", "lda", "--train-list", train, "--test-list", test,
        "-j", "1", "-o", report,
    )  # fmt: skip
    # Named as FMA's metadata names them: the user's data has no column called "group".
    refused_before_extraction(result, extracted_tracks, report, "groups of column 'artist' have tracks on both sides")


def test_the_python_call_refuses_as_early(tmp_path, manifest, monkeypatch):
    import genre.features.extract as engine
    from genre.benchmark import benchmark

    monkeypatch.setattr(engine, "extract_to_csv", lambda *a, **k: pytest.fail("extracted before the checks"))
    train = write_lines(tmp_path / "train.txt", "low0", "high0")
    test = write_lines(tmp_path / "test.txt", "low2", "high1")
    with pytest.raises(DataError, match="has tracks on both sides of the partition"):
        benchmark(manifest, output_dir=tmp_path / "r", models=["lda"], train_lists=[train], test_list=test)
    with pytest.raises(ParameterError, match="--repeats 0"):
        benchmark(manifest, output_dir=tmp_path / "r", models=["lda"], folds=2, repeats=0)


def test_lists_that_keep_artists_apart_still_run(tmp_path, manifest):
    train = write_lines(tmp_path / "train.txt", "low0", "low2", "high0", "high2")
    test = write_lines(tmp_path / "test.txt", "low1", "high1")
    result = invoke(
        "benchmark", manifest, "-m", "lda", "--train-list", train, "--test-list", test, "-j", "1", "-o", tmp_path / "r"
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "r" / "results.json").read_text())
    assert data["protocol"]["kind"] == "fixed" and len(data["splits"][0]["test_tracks"]) == 2


# -- 2. the summary says how many files were reused -----------------------------------------------
def summary_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("features: "))


def test_the_summary_says_how_many_files_were_reused_and_extracted(tmp_path, write_wav):
    manifest = write_tone_manifest(tmp_path)
    args = ["benchmark", manifest, "-m", "lda", "-k", "3", "-j", "1", "-o", tmp_path / "report"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert summary_line(result.output) == "features: 0 files reused, 6 extracted"
    # One more file: the other rows are reused.
    write_wav(tmp_path / "audio" / "low3.wav", 3.2, freq=290.0)
    manifest.write_text(manifest.read_text() + "audio/low3.wav,low,artist-low3\n")
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert summary_line(result.output) == "features: 6 files reused, 1 extracted"
    result = invoke(*args)  # nothing changed: the whole table
    assert result.exit_code == 0, result.output
    assert summary_line(result.output) == "features: 7 files reused, 0 extracted"


def test_a_resumed_extraction_counts_the_files_of_the_interrupted_run_as_reused(tmp_path, monkeypatch):
    from genre.benchmark import benchmark

    manifest = write_tone_manifest(tmp_path)
    interrupt_extraction_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        benchmark(manifest, output_dir=tmp_path / "report", models=["lda"], folds=3, jobs=1)
    monkeypatch.undo()
    run = benchmark(manifest, output_dir=tmp_path / "report", models=["lda"], folds=3, jobs=1)
    (table,) = run.features.tables
    assert (table.kind, table.n_reused, table.n_extracted) == ("handcrafted", 2, 4)
    assert table.path == tmp_path / "report" / "features" / "features.csv"
    # Still the pair it always was.
    results, files = run
    assert results is run[0] is run.results and files is run.files and files.json.is_file()
    assert list(run.features) == [table.path]


def test_feature_tables_given_say_nothing_of_reuse(tmp_path):
    from feature_tables import write_gtzan_table

    table = write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=6)
    result = invoke("benchmark", table, "-m", "lda", "-k", "3", "-j", "1", "-o", tmp_path / "report")
    assert result.exit_code == 0, result.output
    assert "features: " not in result.output


# -- 3. the listing's notes come at the end -------------------------------------------------------
@pytest.fixture
def fma(tmp_path) -> Path:
    """``fma_small`` of six 3.5 s MP3s (two genres, six artists), one of a medium track and one without a genre."""
    rows = [(i, fma_row(artist=i, genre="Rock" if i % 2 else "Pop")) for i in range(2, 8)]
    rows += [(8, fma_row(artist=8, genre="Folk", subset="medium")), (9, fma_row(artist=9, genre=""))]
    write_fma_tracks_csv(tmp_path / "fma_metadata" / "tracks.csv", FMA_COLUMNS, rows)
    for track_id, values in rows:
        path = audio_path(tmp_path / "fma_small", track_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        freq = (300.0 if values[("track", "genre_top")] == "Pop" else 2500.0) + 31 * track_id
        sf.write(path, tone(3.5, freq=freq, seed=track_id), 22050, format="MP3")
    return tmp_path / "fma_small"


LEFT_OUT = (
    "left out 1 audio file of {root} whose track is not in FMA subset 'small'",
    "left out 1 audio file of {root} whose track has no top-level genre",
)


def said_at_the_end(output: str, notes: list[str], *, after: str) -> None:
    """Each note is said once, after the line that starts with ``after`` (the end of the work)."""
    text = flat(output)
    end = text.index(after)
    for note in notes:
        assert text.count(note) == 1, (note, output)
        assert text.index(note) > end, (note, output)


def test_extract_says_fma_listing_notes_at_the_end(fma, tmp_path):
    result = invoke("extract", f"fma:{fma}", "-o", tmp_path / "f.csv", "-j", "1")
    assert result.exit_code == 0, result.output
    said_at_the_end(result.output, [n.format(root=fma) for n in LEFT_OUT], after="extracting (")
    # Before the summary line, with the run's other end-of-run lines.
    assert flat(result.output).index(LEFT_OUT[0].format(root=fma)) < flat(result.output).index("6 of 6 files extracted")


def test_benchmark_says_fma_listing_notes_at_the_end(fma, tmp_path):
    result = invoke("benchmark", f"fma:{fma}", "-m", "lda", "-k", "2", "-j", "1", "-o", tmp_path / "report")
    assert result.exit_code == 0, result.output
    said_at_the_end(result.output, [n.format(root=fma) for n in LEFT_OUT], after="benchmark done")
    protocol = json.loads((tmp_path / "report" / "results.json").read_text())["protocol"]
    assert protocol["group_column"] == "artist" and "column 'group'" not in protocol["description"]


def test_extract_and_benchmark_say_a_folders_and_a_manifests_notes_at_the_end(tmp_path, write_wav):
    for label, freq in (("low", 300.0), ("high", 2400.0)):
        for i in range(3):
            write_wav(tmp_path / "audio" / label / f"{label}.{i}.wav", 3.2, freq=freq + 40 * i)
    (tmp_path / "audio" / "low" / "cover.png").write_bytes(b"png")
    ignored = "ignored 1 non-audio file (.png)"
    result = invoke("extract", tmp_path / "audio", "-o", tmp_path / "f.csv", "-j", "1")
    assert result.exit_code == 0, result.output
    said_at_the_end(result.output, [ignored], after="extracting (")
    result = invoke("benchmark", tmp_path / "audio", "-m", "lda", "-k", "3", "-j", "1", "-o", tmp_path / "report")
    assert result.exit_code == 0, result.output
    said_at_the_end(result.output, [ignored], after="benchmark done")

    manifest = write_tone_manifest(tmp_path / "m", extra="comment")
    result = invoke("extract", manifest, "-o", tmp_path / "m.csv", "-j", "1")
    assert result.exit_code == 0, result.output
    unread = next(line for line in flat(result.output).split("note: ") if "comment" in line)
    said_at_the_end(result.output, [unread.strip()], after="extracting (")


def test_an_interrupted_extraction_says_the_notes_at_its_end(fma, tmp_path, monkeypatch):
    interrupt_extraction_after(monkeypatch, 2)
    result = invoke("extract", f"fma:{fma}", "-o", tmp_path / "f.csv", "-j", "1")
    assert result.exit_code == 130, result.output
    said_at_the_end(result.output, [n.format(root=fma) for n in LEFT_OUT], after="extracting (")
    assert flat(result.output).index(LEFT_OUT[0].format(root=fma)) < flat(result.output).index("interrupted")


def test_extract_to_csv_in_python_says_the_listing_notes_at_the_end(tmp_path, write_wav, capsys):
    from genre.features.extract import extract_to_csv

    for label, freq in (("low", 300.0), ("high", 2000.0)):
        write_wav(tmp_path / "audio" / label / f"{label}.0.wav", 2.0, freq=freq)
    (tmp_path / "audio" / "low" / "cover.png").write_bytes(b"png")
    report = extract_to_csv(tmp_path / "audio", tmp_path / "f.csv", jobs=1, progress=True)
    said = capsys.readouterr().err
    assert report.notes[0] == "ignored 1 non-audio file (.png)"  # the report keeps them first
    assert said.count("ignored 1 non-audio file (.png)") == 1
    assert said.index("ignored 1 non-audio file") > said.index("extracting")
