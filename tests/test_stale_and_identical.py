"""Two ways old or repeated sound passed for new: a benchmark table kept after a file was replaced
by one with an older modification time (``cp -p``, a restored backup), and byte-identical audio
under two names kept as two tracks (GTZAN's replicas, some filed under another genre)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import genre.data.tracks as tracks_module
import genre.features.extract as engine
from genre.cli import app
from genre.data import load_dataset
from genre.data.tracks import Track, reject_repeated_files
from genre.features.extract import extract_to_csv, side_paths, table_is_current
from tests.conftest import tone

runner = CliRunner()


def write(path: Path, seconds: float = 3.5, *, freq: float = 440.0, seed: int = 0) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, tone(seconds, freq=freq, seed=seed), 22050)
    return path


@pytest.fixture
def audio(tmp_path) -> Path:
    """Eight 3.5 s tones (one 3 s segment each) in two label folders, all of one size and different."""
    root = tmp_path / "audio"
    for j, label in enumerate(("low", "high")):
        for i in range(4):
            write(root / label / f"{label}.{i:05d}.wav", freq=(200.0 if label == "low" else 2000.0) + 50 * i, seed=i + 10 * j)
    return root


def set_back(path: Path, reference: Path) -> None:
    """Give ``path`` a modification time a day older than ``reference``'s, as ``cp -p`` of an old file would."""
    old = reference.stat().st_mtime_ns - 86_400 * 10**9
    os.utime(path, ns=(old, old))


def benchmark(audio: Path, out: Path) -> str:
    result = runner.invoke(app, ["benchmark", str(audio), "-m", "lda", "--folds", "2", "-j", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def features_of(table: Path, track: str):
    rows = pd.read_csv(table)
    return rows[rows["track"] == track].iloc[:, len(engine.ID_COLUMNS) :].to_numpy()


# -- 1. a replaced file with an older modification time -----------------------------------------------
@pytest.mark.parametrize("size", ["other size", "same size"])
def test_benchmark_notices_a_file_replaced_by_one_with_an_older_time(audio, tmp_path, extracted_tracks, size):
    out = tmp_path / "report"
    benchmark(audio, out)
    table = out / "features" / "features.csv"
    assert len(extracted_tracks) == 8
    extracted_tracks.clear()
    assert "already extracted" in benchmark(audio, out) and extracted_tracks == []  # nothing changed: reused

    replaced = audio / "high" / "high.00001.wav"
    before = features_of(table, "high/high.00001")
    write(replaced, 4.5 if size == "other size" else 3.5, freq=700.0, seed=99)  # another sound...
    set_back(replaced, table)  # ...with an older time than the table's
    said = benchmark(audio, out)
    assert "already extracted" not in said and "out of date" in said
    assert extracted_tracks == ["high/high.00001"]  # updated: the rows of the other files are reused
    after = features_of(table, "high/high.00001")
    assert after.shape != before.shape or (after != before).any()
    fresh = tmp_path / "fresh.csv"
    extract_to_csv(audio, fresh, jobs=1)
    assert table.read_bytes() == fresh.read_bytes()
    extracted_tracks.clear()
    assert "already extracted" in benchmark(audio, out) and extracted_tracks == []  # and now it is current


def test_table_is_current_compares_each_file_with_its_stamp(audio, tmp_path):
    table = tmp_path / "f.csv"
    extract_to_csv(audio, table, jobs=1)
    extractor = engine.choose_extractor()

    def current() -> bool:
        return table_is_current(table, dataset=load_dataset(audio), extractor=extractor)

    assert current()
    path = audio / "low" / "low.00002.wav"
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - 1))  # an older time alone
    assert not current()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert current()
    with open(path, "ab") as handle:  # a size alone (the time put back)
        handle.write(b"\0\0")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert not current()
    path.write_bytes(path.read_bytes()[:-2])
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert current()
    (audio / "low" / "low.00003.wav").unlink()  # a file removed
    assert not current()


def test_a_table_without_stamps_is_not_current(audio, tmp_path):
    table = tmp_path / "f.csv"
    extract_to_csv(audio, table, jobs=1)
    sidecar, _ = side_paths(table)
    meta = json.loads(sidecar.read_text())
    del meta[engine.STAMPS_KEY]  # as an older version of genre wrote it
    sidecar.write_text(json.dumps(meta))
    assert not table_is_current(table, dataset=load_dataset(audio), extractor=engine.choose_extractor())


def test_a_skipped_file_replaced_later_makes_the_table_out_of_date(audio, tmp_path):
    broken = audio / "low" / "low.00009.wav"
    broken.write_bytes(b"RIFF not really")
    table = tmp_path / "f.csv"
    report = extract_to_csv(audio, table, jobs=1)
    assert report.n_extracted == 8 and len(report.skipped) == 1
    extractor = engine.choose_extractor()
    assert table_is_current(table, dataset=load_dataset(audio), extractor=extractor)  # no stamp: by its time
    write(broken, freq=321.0, seed=5)
    written = table.stat().st_mtime_ns
    os.utime(broken, ns=(written + 10**9, written + 10**9))
    assert not table_is_current(table, dataset=load_dataset(audio), extractor=extractor)


# -- 2. byte-identical audio under two names ------------------------------------------------------------
def reasons(dataset) -> dict[str, str]:
    return {Path(path).name: reason for path, reason in dataset.rejected}


def test_an_identical_copy_with_the_same_label_is_kept_once(audio):
    shutil.copy(audio / "low" / "low.00000.wav", audio / "low" / "low.00007.wav")
    dataset = load_dataset(audio)
    assert [t.track for t in dataset.tracks if t.label == "low"] == [f"low/low.0000{i}" for i in range(4)]
    kept = audio / "low" / "low.00000.wav"
    assert reasons(dataset) == {
        "low.00007.wav": f"low/low.00007: a byte-identical copy of {kept} (low/low.00000), which is kept"
    }


def test_an_identical_copy_under_another_label_leaves_both_out(audio):
    shutil.copy(audio / "low" / "low.00001.wav", audio / "high" / "high.00005.wav")
    dataset = load_dataset(audio)
    assert {t.track for t in dataset.tracks} == {f"low/low.0000{i}" for i in (0, 2, 3)} | {
        f"high/high.0000{i}" for i in range(4)
    }
    got = reasons(dataset)
    assert got["low.00001.wav"] == (
        f"labelled 'low' (low/low.00001), but a byte-identical copy of it is also labelled 'high' "
        f"({audio / 'high' / 'high.00005.wav'}, high/high.00005): contradictory labels, left out"
    )
    assert got["high.00005.wav"] == (
        f"labelled 'high' (high/high.00005), but a byte-identical copy of it is also labelled 'low' "
        f"({audio / 'low' / 'low.00001.wav'}, low/low.00001): contradictory labels, left out"
    )


def test_a_link_and_a_copy_of_one_sound(audio):
    source = audio / "low" / "low.00000.wav"
    os.symlink(source, audio / "low" / "a-link.wav")  # listed before its file: the file is kept
    shutil.copy(source, audio / "low" / "low.00008.wav")
    dataset = load_dataset(audio)
    assert "low/low.00000" in {t.track for t in dataset.tracks} and len(dataset.tracks) == 8
    assert reasons(dataset) == {
        "a-link.wav": "low/a-link: the same audio file as low/low.00000, which is kept",
        "low.00008.wav": f"low/low.00008: a byte-identical copy of {source} (low/low.00000), which is kept",
    }


def test_identical_rows_of_a_manifest_name_the_file_kept(audio, tmp_path):
    shutil.copy(audio / "low" / "low.00000.wav", tmp_path / "again.wav")
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path,label\n{audio / 'low' / 'low.00000.wav'},low\n{tmp_path / 'again.wav'},low\n")
    dataset = load_dataset(manifest)
    assert [Path(t.path).name for t in dataset.tracks] == ["low.00000.wav"]
    assert dataset.rejected == [
        (str(tmp_path / "again.wav"), f"line 3 of m.csv: a byte-identical copy of {audio / 'low' / 'low.00000.wav'} (line 2 of m.csv), which is kept")
    ]


def test_extraction_and_benchmark_leave_out_the_copy(audio, tmp_path):
    shutil.copy(audio / "high" / "high.00002.wav", audio / "high" / "high.00009.wav")
    report = extract_to_csv(audio, tmp_path / "f.csv", jobs=1)
    assert report.n_extracted == 8
    assert [Path(p).name for p, _ in report.skipped] == ["high.00009.wav"]
    assert "high/high.00009" not in set(pd.read_csv(tmp_path / "f.csv")["track"])


def test_files_alike_in_size_or_in_their_start_are_kept(tmp_path):
    a = write(tmp_path / "x" / "a.wav", freq=300.0, seed=1)
    write(tmp_path / "x" / "b.wav", freq=300.0, seed=2)  # the same size, other noise
    c = tmp_path / "y" / "c.wav"
    data = bytearray(a.read_bytes())
    assert len(data) > 1 << 16  # beyond the first block compared
    data[-1] ^= 1  # the same first 64 KiB, one other byte at the end
    c.parent.mkdir()
    c.write_bytes(bytes(data))
    dataset = load_dataset(tmp_path)
    assert sorted(t.track for t in dataset.tracks) == ["x/a", "x/b", "y/c"] and dataset.rejected == []


def test_only_files_sharing_a_size_are_read(tmp_path, monkeypatch):
    for i, seconds in enumerate((1.0, 1.5, 2.0)):
        write(tmp_path / "a" / f"{i}.wav", seconds, seed=i)
    write(tmp_path / "b" / "3.wav", 2.0, seed=3)
    read: list[str] = []
    real = tracks_module._digest

    def spy(path, *, head):
        read.append(Path(path).name)
        return real(path, head=head)

    monkeypatch.setattr(tracks_module, "_digest", spy)
    assert len(load_dataset(tmp_path).tracks) == 4
    assert sorted(read) == ["2.wav", "3.wav"]  # their first 64 KiB differ: not read further


def test_empty_and_unreadable_files_are_not_compared(tmp_path):
    tracks = [Track(path=str(tmp_path / name), track=name, label=label) for name, label in (("a", "x"), ("b", "y"))]
    for t in tracks:
        Path(t.path).write_bytes(b"")  # no sound: left to the reader, which skips each
    tracks.append(Track(path=str(tmp_path / "gone"), track="gone", label="x"))
    rejected: list[tuple[str, str]] = []
    assert reject_repeated_files(tracks, rejected, lambda t: t.track) == tracks and rejected == []
