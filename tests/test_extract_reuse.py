"""``--overwrite`` of a finished table updates it: the rows of unchanged audio files are reused.

Each test checks the updated table against a fresh extraction of the same files, byte for byte.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import genre.features.extract as engine
from genre.cli import app
from genre.data import Dataset, load_dataset
from genre.features.config import FeatureConfig
from genre.features.extract import extract_to_csv, side_paths, table_is_current
from tests.conftest import interrupt_extraction_after, write_tone_folder
from tests.test_relabel_resume import write_manifest

CONFIG = FeatureConfig(segment_seconds=1.0)
PITCHES = {"a": (220.0, 330.0, 440.0), "b": (250.0, 350.0, 450.0)}


@pytest.fixture
def audio(tmp_path) -> Path:
    """Six 2.5 s tones in two label folders: two 1 s segments each."""
    return write_tone_folder(tmp_path / "audio", PITCHES, seconds=2.5)


@pytest.fixture
def table(audio, tmp_path) -> Path:
    """The finished table of ``audio``."""
    out = tmp_path / "f.csv"
    extract_to_csv(audio, out, config=CONFIG, jobs=1)
    return out


@pytest.fixture
def extracted(monkeypatch) -> list[str]:
    """The names of the files the engine extracts from now on (in this process: ``jobs=1``)."""
    real, names = engine._extract_block, []

    def spy(task):
        names.append(Path(task[1].path).name)
        return real(task)

    monkeypatch.setattr(engine, "_extract_block", spy)
    return names


def update(source, out: Path, **kwargs) -> engine.ExtractReport:
    return extract_to_csv(source, out, config=CONFIG, jobs=1, overwrite=True, **kwargs)


def fresh(source, tmp_path: Path, **kwargs) -> bytes:
    """The table a fresh extraction of ``source`` writes."""
    out = tmp_path / "fresh" / "f.csv"
    extract_to_csv(source, out, config=kwargs.pop("config", CONFIG), jobs=1, overwrite=True, **kwargs)
    return out.read_bytes()


def outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in [out, *side_paths(out)]}


def test_an_added_file_is_the_only_one_extracted(audio, table, tmp_path, write_wav, extracted):
    write_wav(audio / "a" / "new.wav", 2.5, freq=600.0, seed=9)
    report = update(audio, table)
    assert extracted == ["new.wav"]
    assert (report.n_extracted, report.n_resumed, report.n_tracks) == (7, 6, 7)
    assert "reusing the rows of 6 unchanged files from" in " ".join(report.notes)
    assert table.read_bytes() == fresh(audio, tmp_path)
    assert table_is_current(table, dataset=load_dataset(audio), extractor=engine.choose_extractor(config=CONFIG))


def test_nothing_changed_extracts_nothing_and_writes_the_same_table(audio, table, extracted):
    before = table.read_bytes()
    report = update(audio, table)
    assert extracted == [] and report.n_resumed == 6 and table.read_bytes() == before


@pytest.mark.parametrize("change", ["touched", "rewritten"])
def test_a_changed_file_is_extracted_again(audio, table, tmp_path, write_wav, extracted, change):
    path = audio / "b" / "b.00001.wav"
    if change == "touched":
        info = path.stat()
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    else:  # same size, other sound
        write_wav(path, 2.5, freq=999.0, seed=5)
    report = update(audio, table)
    assert extracted == ["b.00001.wav"] and report.n_resumed == 5
    assert "1 audio file changed" in " ".join(report.notes)
    assert table.read_bytes() == fresh(audio, tmp_path)


def test_a_removed_file_drops_out(audio, table, tmp_path, extracted):
    (audio / "a" / "a.00002.wav").unlink()
    report = update(audio, table)
    assert extracted == [] and (report.n_extracted, report.n_resumed) == (5, 5)
    assert "a.00002" not in table.read_text()
    assert table.read_bytes() == fresh(audio, tmp_path)


def test_a_file_skipped_before_is_tried_again(audio, table, tmp_path, write_wav, extracted):
    write_wav(audio / "a" / "short.wav", 0.5)  # shorter than a segment: skipped each time
    first = update(audio, table)
    assert extracted == ["short.wav"] and len(first.skipped) == 1
    second = update(audio, table)
    assert extracted == ["short.wav", "short.wav"] and second.n_resumed == 6
    assert table.read_bytes() == fresh(audio, tmp_path)


@pytest.fixture
def listed(audio, tmp_path) -> tuple[list[tuple[Path, str, str]], Path, Path]:
    """A manifest of ``audio`` (each file labelled by its folder, of an artist of its own), and its table.

    Returns the manifest's rows (to edit and write again), the manifest and the table.
    """
    rows = [(p, p.parent.name, f"artist {i}") for i, p in enumerate(sorted(audio.rglob("*.wav")))]
    manifest = write_manifest(tmp_path / "tracks.csv", rows)
    out = tmp_path / "m.csv"
    extract_to_csv(manifest, out, config=CONFIG, jobs=1)
    return rows, manifest, out


def relabel(rows: list[tuple[Path, str, str]], index: int, *, label: str = "", group: str = "") -> None:
    """Give row ``index`` another label or group, in place."""
    path, old_label, old_group = rows[index]
    rows[index] = (path, label or old_label, group or old_group)


def touch(path: Path) -> None:
    """Move ``path``'s modification time a second on: the same size, a file changed as far as a stamp tells."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def test_a_relabelled_file_keeps_its_rows_with_the_new_label(listed, audio, tmp_path, write_wav, extracted):
    """The features depend on the sound alone: a label or group fixed in the manifest costs no extraction."""
    rows, manifest, out = listed
    extracted.clear()
    relabel(rows, 0, label='c, "fixed"')  # one CSV has to quote
    relabel(rows, 4, group="artist 1")
    write_wav(audio / "b" / "new.wav", 2.5, freq=600.0, seed=9)
    rows.append((audio / "b" / "new.wav", "b", "artist 9"))
    write_manifest(manifest, rows)
    report = update(manifest, out)
    assert extracted == ["new.wav"]
    assert (report.n_resumed, report.n_extracted, report.n_tracks) == (6, 7, 7)
    assert "reusing the rows of 6 unchanged files from" in " ".join(report.notes)
    assert "(2 with a new name, label or group)" in " ".join(report.notes)
    assert out.read_bytes() == fresh(manifest, tmp_path)
    assert outputs(out)["m.json"].replace(b"m.csv", b"") == outputs(tmp_path / "fresh" / "f.csv")["f.json"].replace(
        b"f.csv", b""
    )  # the sidecar too: its labels and stamps are those of the new listing
    assert set(pd.read_csv(out, keep_default_na=False)["label"]) == {"a", "b", 'c, "fixed"'}
    assert table_is_current(out, dataset=load_dataset(manifest), extractor=engine.choose_extractor(config=CONFIG))


def test_a_renamed_track_of_a_built_dataset_keeps_its_rows(audio, table, tmp_path, extracted):
    """A track's name is in its rows too, and is rewritten like its label."""
    tracks = load_dataset(audio).tracks
    renamed = Dataset([dataclasses.replace(tracks[1], track="a/renamed"), *tracks[2:]], [], name="built")
    report = update(renamed, table)
    assert extracted == [] and (report.n_resumed, report.n_extracted) == (5, 5)
    assert "a/renamed" in pd.read_csv(table)["track"].tolist()
    assert table.read_bytes() == fresh(renamed, tmp_path)


@pytest.mark.parametrize("touched", [0, 1], ids=["the relabelled file", "another file"])
def test_a_relabelled_file_and_a_touched_one(listed, tmp_path, extracted, touched):
    """Relabelled rows are kept only while the file's stamp is the one they were extracted at."""
    rows, manifest, out = listed
    extracted.clear()
    relabel(rows, 0, label="c")
    write_manifest(manifest, rows)
    touch(rows[touched][0])
    report = update(manifest, out)
    assert extracted == [rows[touched][0].name] and report.n_resumed == 5
    said = " ".join(report.notes)
    assert "1 audio file changed" in said
    assert ("with a new name, label or group" in said) == (touched != 0)
    assert out.read_bytes() == fresh(manifest, tmp_path)


def test_a_damaged_block_of_a_relabelled_file_is_extracted_again(listed, tmp_path, extracted):
    """A block is checked against its CRC before it is rewritten: a rewrite must not vouch for damaged rows."""
    rows, manifest, out = listed
    header, first, rest = out.read_text().split("\n", 2)
    cells = first.split(",")
    cells[-1] = cells[-1][:-1] + ("1" if cells[-1][-1] != "1" else "2")  # a feature's last digit: same length
    out.write_text("\n".join([header, ",".join(cells), rest]))
    extracted.clear()
    relabel(rows, 0, label="c")
    relabel(rows, 1, label="d")
    write_manifest(manifest, rows)
    report = update(manifest, out)
    assert extracted == [rows[0][0].name] and report.n_resumed == 5
    said = " ".join(report.notes)
    assert "the rows of 1 file were changed after it was written" in said
    assert "(1 with a new name, label or group)" in said
    assert out.read_bytes() == fresh(manifest, tmp_path)


def old_format(out: Path) -> None:
    """Rewrite ``out``'s sidecar as the previous version wrote it: stamps without the path ids."""
    sidecar, _ = side_paths(out)
    meta = json.loads(sidecar.read_text())
    for key in (engine.STAMPS_KEY, engine.SKIPPED_STAMPS_KEY):
        assert meta[key]["fields"] == engine.STAMP_FIELDS and engine.STAMP_FIELDS.endswith(" path_id")
        meta[key] = {
            "fields": "track_id size mtime_ns rows length crc32",
            "tracks": [line.rsplit(" ", 1)[0] for line in meta[key]["tracks"]],
        }
    sidecar.write_text(json.dumps(meta, indent=2) + "\n")


@pytest.mark.parametrize("relabelled", [False, True], ids=["same listing", "relabelled"])
def test_a_sidecar_of_the_previous_format_is_still_reused_by_track(listed, tmp_path, extracted, relabelled):
    """It does not tell the rows of a relabelled file by path: they are extracted again, the others reused."""
    rows, manifest, out = listed
    old_format(out)
    assert table_is_current(out, dataset=load_dataset(manifest), extractor=engine.choose_extractor(config=CONFIG))
    extracted.clear()
    if relabelled:
        relabel(rows, 2, label="c")
        write_manifest(manifest, rows)
    report = update(manifest, out)
    assert extracted == [rows[2][0].name] * relabelled and report.n_resumed == 6 - relabelled
    assert "with a new name, label or group" not in " ".join(report.notes)
    assert out.read_bytes() == fresh(manifest, tmp_path)
    meta = json.loads(side_paths(out)[0].read_text())
    assert meta[engine.STAMPS_KEY]["fields"] == engine.STAMP_FIELDS  # written in this version's form


def test_the_benchmark_reuses_the_rows_after_a_label_edit_in_its_manifest(tmp_path, extracted):
    long = write_tone_folder(tmp_path / "long", PITCHES, seconds=3.5)  # one 3 s segment each, by default
    rows = [(p, p.parent.name, "") for p in sorted(long.rglob("*.wav"))]
    manifest = write_manifest(tmp_path / "tracks.csv", rows)
    report = tmp_path / "report"
    args = ["benchmark", str(manifest), "-m", "lda", "--folds", "2", "-j", "1", "-o", str(report)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(extracted) == 6
    extracted.clear()
    relabel(rows, 2, label="b")  # a misfiled track: 2 and 4 tracks, still enough for 2 folds
    write_manifest(manifest, rows)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert extracted == [] and "out of date" in said and "features: 6 files reused, 0 extracted" in said
    table = report / "features" / "features.csv"
    assert pd.read_csv(table, keep_default_na=False)["label"].tolist() == ["a", "a", "b", "b", "b", "b"]
    assert table.read_bytes() == fresh(manifest, tmp_path, config=FeatureConfig())


def test_other_settings_extract_every_file_again(audio, table, tmp_path, extracted):
    other = FeatureConfig(segment_seconds=0.5)
    report = extract_to_csv(audio, table, config=other, jobs=1, overwrite=True)
    assert len(extracted) == 6 and report.n_resumed == 0 and report.notes == []
    assert table.read_bytes() == fresh(audio, tmp_path, config=other)


def test_other_library_versions_extract_every_file_again(audio, table, tmp_path, extracted, monkeypatch):
    versions = engine._versions()
    monkeypatch.setattr(engine, "_versions", lambda: {**versions, "librosa": "99.0"})
    report = update(audio, table)
    assert len(extracted) == 6 and report.n_resumed == 0
    assert "other versions of librosa" in " ".join(report.notes)


def test_a_table_without_stamps_is_extracted_again(audio, table, tmp_path, extracted):
    """A sidecar written before stamps were recorded does not tell which rows are whose."""
    sidecar, _ = side_paths(table)
    meta = json.loads(sidecar.read_text())
    del meta[engine.STAMPS_KEY]
    sidecar.write_text(json.dumps(meta, indent=2) + "\n")
    report = update(audio, table)
    assert len(extracted) == 6 and report.n_resumed == 0
    assert "does not record which audio files its rows came from" in " ".join(report.notes)
    assert table.read_bytes() == fresh(audio, tmp_path)


def test_a_hand_edited_block_is_not_reused(audio, table, tmp_path, extracted):
    header, first, rest = table.read_text().split("\n", 2)
    edited = first.replace(",a,,", ",x,,", 1)  # the first row's label (group empty): same length
    assert edited != first and len(edited) == len(first)
    table.write_text("\n".join([header, edited, rest]))
    report = update(audio, table)
    assert extracted == ["a.00000.wav"] and report.n_resumed == 5
    assert "the rows of 1 file were changed after it was written" in " ".join(report.notes)
    assert table.read_bytes() == fresh(audio, tmp_path)


def test_an_interrupted_update_keeps_the_old_table_and_resumes(audio, table, tmp_path, write_wav, monkeypatch):
    for i in range(3):
        write_wav(audio / "b" / f"new{i}.wav", 2.5, freq=500.0 + 50 * i, seed=20 + i)
    before = outputs(table)
    interrupt_extraction_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        update(audio, table)
    monkeypatch.undo()
    assert outputs(table) == before and table.with_name("f.csv.journal").exists()
    with pytest.raises(engine.ParameterError, match="--overwrite"):  # as any run cut short
        extract_to_csv(audio, table, config=CONFIG, jobs=1)
    report = update(audio, table)
    assert (report.n_resumed, report.n_extracted) == (7, 9)  # 6 from the table, 1 from the cut-short update
    assert table.read_bytes() == fresh(audio, tmp_path)
    assert not table.with_name("f.csv.journal").exists() and not table.with_name("f.csv.partial").exists()


def test_the_cli_says_how_many_rows_were_reused(audio, table, write_wav):
    write_wav(audio / "a" / "new.wav", 2.5, freq=600.0, seed=9)
    args = ["extract", str(audio), "-o", str(table), "--jobs", "1", "--segment-seconds", "1", "--overwrite"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "7 of 7 files extracted (6 from an earlier run)" in said
    assert "reusing the rows of 6 unchanged files" in said


def test_an_update_cut_short_while_copying_the_table_starts_over(audio, table, tmp_path, write_wav, monkeypatch):
    """Killed after the reused rows were copied, before the journal named them: nothing of it is trusted."""
    write_wav(audio / "a" / "new.wav", 2.5, freq=600.0, seed=9)
    before = outputs(table)

    def killed(path, text):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "atomic_write_text", killed)
    with pytest.raises(KeyboardInterrupt):
        update(audio, table)
    monkeypatch.undo()
    assert outputs(table) == before and table.with_name("f.csv.partial").exists()
    assert not table.with_name("f.csv.journal").exists()
    report = update(audio, table)
    assert (report.n_resumed, report.n_extracted) == (6, 7)
    assert table.read_bytes() == fresh(audio, tmp_path)
