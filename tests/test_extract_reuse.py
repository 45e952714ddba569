"""``--overwrite`` of a finished table updates it: the rows of unchanged audio files are reused.

Each test checks the updated table against a fresh extraction of the same files, byte for byte.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import genre.features.extract as engine
from genre.cli import app
from genre.data import load_dataset
from genre.features.config import FeatureConfig
from genre.features.extract import extract_to_csv, side_paths, table_is_current
from tests.conftest import interrupt_extraction_after, write_tone_folder

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


def test_a_track_of_another_label_is_extracted_again(audio, tmp_path, extracted):
    """The rows hold the label: a manifest that relabels a file makes its rows out of date."""
    paths = sorted(audio.rglob("*.wav"))
    manifest = tmp_path / "tracks.csv"
    manifest.write_text("path,label\n" + "".join(f"{p},{p.parent.name}\n" for p in paths))
    out = tmp_path / "m.csv"
    extract_to_csv(manifest, out, config=CONFIG, jobs=1)
    extracted.clear()
    manifest.write_text("path,label\n" + "".join(f"{p},{'c' if i == 0 else p.parent.name}\n" for i, p in enumerate(paths)))
    report = update(manifest, out)
    assert extracted == [paths[0].name] and report.n_resumed == 5
    assert out.read_bytes() == fresh(manifest, tmp_path)


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
