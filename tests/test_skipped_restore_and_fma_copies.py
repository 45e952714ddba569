"""Two ways a benchmark or an ``fma:`` source went on the wrong files:

1. A file skipped by an extraction (cut short, say) and restored later with an older modification
   time (``cp -p`` of a backup, ``rsync -a``) was still left out: the table counted as current,
   since a skipped file was judged by its time alone. Its size and time are now recorded in the
   sidecar's ``skipped_stamps``, and compared as the extracted files' stamps are.
2. ``fma:`` sources kept byte-identical audio under two ids (even of two genres), which the folder
   and manifest readers leave out (:func:`genre.data.tracks.reject_repeated_files`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

import genre.features.extract as engine
from genre.cli import app
from genre.data import load_dataset, load_fma
from genre.data.fma import audio_path
from genre.errors import DataError
from genre.features.extract import extract_to_csv, side_paths, table_is_current
from tests.conftest import tone
from tests.fma_tables import write_fma_tracks_csv

runner = CliRunner()


# -- 1. a skipped file restored with an older modification time ---------------------------------------
@pytest.fixture
def audio(tmp_path, write_wav) -> Path:
    """Ten 3.5 s tones (one 3 s segment each) in two label folders."""
    root = tmp_path / "audio"
    for j, label in enumerate(("low", "high")):
        for i in range(5):
            write_wav(root / label / f"{label}.{i:05d}.wav", 3.5, freq=(200.0 if label == "low" else 2000.0) + 50 * i)
    return root


def damage(path: Path, backup: Path) -> None:
    """Keep a copy of ``path`` in ``backup`` (times kept), and cut ``path`` short (a new time)."""
    backup.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, backup)
    data = path.read_bytes()
    path.write_bytes(data[:100])


def restore(backup: Path, path: Path, table: Path) -> None:
    """``cp -p backup path``, the backup a day older than ``table``: an older time than the table's."""
    shutil.copy2(backup, path)
    old = table.stat().st_mtime_ns - 86_400 * 10**9
    os.utime(path, ns=(old, old))


def current(table: Path, audio: Path) -> bool:
    return table_is_current(table, dataset=load_dataset(audio), extractor=engine.choose_extractor())


def test_the_sidecar_records_the_stamps_of_skipped_files(audio, tmp_path):
    broken = audio / "low" / "low.00004.wav"
    damage(broken, tmp_path / "backup.wav")
    table = tmp_path / "f.csv"
    report = extract_to_csv(audio, table, jobs=1)
    assert report.n_extracted == 9 and [Path(p).name for p, _ in report.skipped] == ["low.00004.wav"]
    meta = json.loads(side_paths(table)[0].read_text())
    recorded = engine._recorded_stamps(meta, engine.SKIPPED_STAMPS_KEY)
    assert [(track_id, stamp) for track_id, stamp, *_ in recorded] == [
        (engine._track_id(t), engine.file_stamp(broken)) for t in load_dataset(audio).tracks if t.path == str(broken)
    ]
    assert len(engine._recorded_stamps(meta)) == 9  # the extracted tracks' stamps are as they were


def test_a_skipped_file_restored_with_an_older_time_makes_the_table_out_of_date(audio, tmp_path, extracted_tracks):
    broken, backup = audio / "low" / "low.00004.wav", tmp_path / "backup.wav"
    damage(broken, backup)
    table = tmp_path / "f.csv"
    extract_to_csv(audio, table, jobs=1)
    assert current(table, audio)  # the damaged file as it was skipped: nothing to do
    restore(backup, broken, table)
    assert not current(table, audio)
    extracted_tracks.clear()
    report = extract_to_csv(audio, table, jobs=1, overwrite=True)  # the update the benchmark runs
    assert extracted_tracks == ["low/low.00004"] and report.n_resumed == 9 and report.skipped == []
    fresh = tmp_path / "fresh" / "f.csv"
    extract_to_csv(audio, fresh, jobs=1)
    assert table.read_bytes() == fresh.read_bytes()
    assert current(table, audio)


def test_a_skipped_file_of_another_size_with_the_same_time_makes_the_table_out_of_date(audio, tmp_path):
    broken = audio / "high" / "high.00002.wav"
    broken.write_bytes(b"RIFF not really")
    table = tmp_path / "f.csv"
    extract_to_csv(audio, table, jobs=1)
    info = broken.stat()
    broken.write_bytes(b"RIFF not really, still")  # another size, its time put back
    os.utime(broken, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert not current(table, audio)
    broken.write_bytes(b"RIFF not really")
    os.utime(broken, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert current(table, audio)


def test_a_sidecar_without_skipped_stamps_judges_skipped_files_by_time(audio, tmp_path):
    """Sidecars of older versions: a skipped file counts as changed only if newer than the table."""
    broken, backup = audio / "low" / "low.00004.wav", tmp_path / "backup.wav"
    damage(broken, backup)
    table = tmp_path / "f.csv"
    extract_to_csv(audio, table, jobs=1)
    sidecar, _ = side_paths(table)
    meta = json.loads(sidecar.read_text())
    del meta[engine.SKIPPED_STAMPS_KEY]
    sidecar.write_text(json.dumps(meta, indent=2) + "\n")
    assert current(table, audio)
    restore(backup, broken, table)
    assert current(table, audio)  # as before: an older time is not told
    written = table.stat().st_mtime_ns
    os.utime(broken, ns=(written + 10**9, written + 10**9))
    assert not current(table, audio)


def test_a_listed_file_that_is_missing_leaves_the_table_current_until_it_appears(audio, tmp_path):
    """A manifest line naming no file: skipped ("no such file"), and stamped as unseen. The table
    was never current before, so every benchmark of the manifest rewrote it."""
    manifest = audio / "m.csv"
    lines = [f"{p.relative_to(audio).as_posix()},{p.parent.name}" for p in sorted(audio.rglob("*.wav"))]
    manifest.write_text("path,label\n" + "\n".join([*lines, "high/later.wav,high"]) + "\n", encoding="utf-8")
    table = tmp_path / "f.csv"
    report = extract_to_csv(manifest, table, jobs=1)
    assert [Path(p).name for p, _ in report.skipped] == ["later.wav"]
    assert current(table, manifest)
    shutil.copy2(audio / "high" / "high.00001.wav", audio / "high" / "later.wav")
    assert not current(table, manifest)

def benchmark(audio: Path, out: Path) -> str:
    result = runner.invoke(app, ["benchmark", str(audio), "-m", "lda", "--folds", "2", "-j", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_benchmark_takes_in_a_skipped_file_restored_from_a_backup(audio, tmp_path, extracted_tracks):
    broken, backup = audio / "low" / "low.00004.wav", tmp_path / "backup.wav"
    damage(broken, backup)
    out = tmp_path / "report"
    said = benchmark(audio, out)
    table = out / "features" / "features.csv"
    assert "1 skipped" in said and "low/low.00004" not in pd.read_csv(table)["track"].tolist()
    restore(backup, broken, table)
    extracted_tracks.clear()
    said = benchmark(audio, out)
    assert "already extracted" not in said and "out of date" in said
    assert extracted_tracks == ["low/low.00004"]  # the rows of the other files are reused
    assert "low/low.00004" in pd.read_csv(table)["track"].tolist()
    extracted_tracks.clear()
    assert "already extracted" in benchmark(audio, out) and extracted_tracks == []


# -- 2. byte-identical copies in an fma: source ---------------------------------------------------------
COLUMNS = [("artist", "id"), ("set", "subset"), ("track", "genre_top")]


def write_fma(root: Path, rows: list[tuple[int, str, int]], seconds: float = 1.0) -> Path:
    """``root/fma_metadata/tracks.csv`` listing ``(id, genre, artist)`` in subset small, and
    ``root/fma_small`` with a distinct MP3 of ``seconds`` for each id; returns the audio folder."""
    write_fma_tracks_csv(
        root / "fma_metadata" / "tracks.csv",
        COLUMNS,
        [(i, {("artist", "id"): a, ("set", "subset"): "small", ("track", "genre_top"): g}) for i, g, a in rows],
    )
    audio = root / "fma_small"
    for track_id, _, _ in rows:
        path = audio_path(audio, track_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, tone(seconds, freq=200.0 + track_id % 500, seed=track_id), 22050, format="MP3")
    return audio


ROWS = [(2, "Blues", 1), (3, "Blues", 1), (5, "Rock", 22), (999, "Blues", 1), (7990, "Rock", 22)]


def test_fma_keeps_a_copy_of_the_same_genre_once(tmp_path):
    audio = write_fma(tmp_path, ROWS)
    shutil.copy(audio_path(audio, 2), audio_path(audio, 999))
    dataset = load_dataset(f"fma:{audio}")
    assert [t.track for t in dataset.tracks] == ["fma/000002", "fma/000003", "fma/000005", "fma/007990"]
    assert dataset.rejected == [
        (str(audio_path(audio, 999)), f"fma/000999: a byte-identical copy of {audio_path(audio, 2)} (fma/000002), which is kept")
    ]


def test_fma_leaves_out_every_copy_of_a_sound_of_two_genres(tmp_path):
    audio = write_fma(tmp_path, ROWS)
    shutil.copy(audio_path(audio, 2), audio_path(audio, 999))  # Blues, as 2
    shutil.copy(audio_path(audio, 2), audio_path(audio, 7990))  # Rock
    dataset = load_fma(audio, metadata=tmp_path / "fma_metadata" / "tracks.csv")
    assert [t.track for t in dataset.tracks] == ["fma/000003", "fma/000005"]
    rejected = dict(dataset.rejected)
    assert sorted(rejected) == sorted(str(audio_path(audio, i)) for i in (2, 999, 7990))
    assert all("contradictory labels, left out" in reason for reason in rejected.values())
    assert "'Rock'" in rejected[str(audio_path(audio, 2))]


def test_fma_extraction_leaves_the_copies_out(tmp_path):
    audio = write_fma(tmp_path, ROWS, seconds=3.5)  # a 3 s segment each
    shutil.copy(audio_path(audio, 2), audio_path(audio, 7990))
    report = extract_to_csv(f"fma:{audio}", tmp_path / "f.csv", jobs=1)
    tracks = set(pd.read_csv(tmp_path / "f.csv")["track"])
    assert tracks == {"fma/000003", "fma/000005", "fma/000999"}
    assert {Path(p).name for p, _ in report.skipped} == {"000002.mp3", "007990.mp3"}


def test_fma_with_nothing_but_contradictory_copies_says_so(tmp_path):
    audio = write_fma(tmp_path, [(2, "Blues", 1), (3, "Rock", 2)])
    shutil.copy(audio_path(audio, 2), audio_path(audio, 3))
    with pytest.raises(DataError, match="every track of FMA subset 'small' found there was left out.*contradictory"):
        load_fma(audio, metadata=tmp_path / "fma_metadata" / "tracks.csv")
