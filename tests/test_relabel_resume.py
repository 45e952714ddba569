"""An unfinished extraction survives a relabel: the rows of its unchanged audio files are kept.

A file's features depend on its sound and the extractor settings, not on its name, label or
group, nor on which other files are listed. So a rerun whose listing changed since an
interrupted run (a label fixed in the manifest, files added or removed) keeps the rows of the
files whose audio is unchanged, with their id cells rewritten, and extracts only the rest.
Each test checks the final table against a fresh extraction of the same listing, byte for byte.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd
import pytest

import genre.features.extract as engine
from genre.data import load_dataset
from genre.features.config import FeatureConfig
from genre.features.extract import StaleJournalError, extract_to_csv
from tests.conftest import interrupt_extraction_after, write_tone_folder

CONFIG = FeatureConfig(segment_seconds=1.0)
PITCHES = {"a": (220.0, 330.0, 440.0), "b": (250.0, 350.0, 450.0)}
#: Files journaled by the interrupted run: the first three of the listing.
DONE = 3


@pytest.fixture
def audio(tmp_path) -> Path:
    """Six 2.5 s tones in two label folders: two 1 s segments each."""
    return write_tone_folder(tmp_path / "audio", PITCHES, seconds=2.5)


def write_manifest(path: Path, rows: list[tuple[Path, str, str]]) -> Path:
    """A manifest of ``(audio file, label, group)`` rows."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label", "artist"])
        writer.writerows((str(p), label, group) for p, label, group in rows)
    return path


def listed(audio: Path) -> list[tuple[Path, str, str]]:
    """Each file of ``audio``, labelled by its folder, of an artist of its own."""
    return [(p, p.parent.name, f"artist {i}") for i, p in enumerate(sorted(audio.rglob("*.wav")))]


def relabel(manifest: Path, rows: list[tuple[Path, str, str]], index: int, *, label: str = "", group: str = "") -> None:
    """Give row ``index`` of ``manifest`` (listing ``rows``) another label or group, in place."""
    path, old_label, old_group = rows[index]
    rows[index] = (path, label or old_label, group or old_group)
    write_manifest(manifest, rows)


def interrupted(monkeypatch, source: Path, out: Path, **kwargs) -> None:
    """A run of ``source`` stopped by Ctrl-C once :data:`DONE` files are journaled."""
    with monkeypatch.context() as patched:  # leaves a spy set up before (extracted_tracks) in place
        interrupt_extraction_after(patched, DONE)
        with pytest.raises(KeyboardInterrupt):
            extract_to_csv(source, out, config=kwargs.pop("config", CONFIG), jobs=1, **kwargs)
    assert out.with_name(out.name + ".journal").exists() and not out.exists()


def interrupted_manifest(monkeypatch, audio: Path, tmp_path: Path) -> tuple[list[tuple[Path, str, str]], Path, Path]:
    """A manifest of ``audio`` (see :func:`listed`) and its run into ``tmp_path/f.csv``, interrupted.

    Returns the manifest's rows, the manifest and the output.
    """
    rows = listed(audio)
    manifest = write_manifest(tmp_path / "tracks.csv", rows)
    out = tmp_path / "f.csv"
    interrupted(monkeypatch, manifest, out)
    return rows, manifest, out


def refused_then_started_again(
    manifest: Path, out: Path, tmp_path: Path, extracted_tracks: list[str], *, config: FeatureConfig, match: str
) -> None:
    """A rerun refuses the unfinished run and leaves it as it was; one with ``overwrite`` starts again."""
    journal = out.with_name("f.csv.journal").read_bytes()
    with pytest.raises(StaleJournalError, match=match):
        extract_to_csv(manifest, out, config=config, jobs=1)
    assert out.with_name("f.csv.journal").read_bytes() == journal
    extracted_tracks.clear()
    report = extract_to_csv(manifest, out, config=config, jobs=1, overwrite=True)
    assert len(extracted_tracks) == 6 and report.n_resumed == 0
    assert out.read_bytes() == fresh(manifest, tmp_path, config=config)


def fresh(source: Path, tmp_path: Path, *, config: FeatureConfig = CONFIG) -> bytes:
    """The table a fresh extraction of ``source`` writes."""
    out = tmp_path / "fresh" / "f.csv"
    extract_to_csv(source, out, config=config, jobs=1, overwrite=True)
    return out.read_bytes()


def names(source: Path) -> list[str]:
    return [t.track for t in load_dataset(source).tracks]


def run_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name + "."))


@pytest.mark.parametrize("overwrite", [False, True], ids=["resume", "overwrite"])
def test_a_relabelled_manifest_keeps_the_rows_of_the_interrupted_run(
    audio, tmp_path, monkeypatch, extracted_tracks, overwrite
):
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    extracted_tracks.clear()
    # A label fixed (one CSV has to quote), a group fixed: both files were journaled.
    relabel(manifest, rows, 0, label='c, "fixed"')
    relabel(manifest, rows, 2, group="artist 1")

    report = extract_to_csv(manifest, out, config=CONFIG, jobs=1, overwrite=overwrite)
    assert extracted_tracks == names(manifest)[DONE:]
    assert (report.n_resumed, report.n_extracted, report.n_tracks) == (3, 6, 6)
    said = " ".join(report.notes)
    assert "keeping its results for 3 files whose audio is unchanged (2 with a new name, label or group)" in said
    assert out.read_bytes() == fresh(manifest, tmp_path)
    assert set(pd.read_csv(out, keep_default_na=False)["label"]) == {"a", "b", 'c, "fixed"'}
    assert run_files(out) == []


def test_a_file_added_one_removed_and_one_changed_since_the_interrupted_run(
    audio, tmp_path, monkeypatch, extracted_tracks, write_wav
):
    out = tmp_path / "f.csv"
    interrupted(monkeypatch, audio, out)
    extracted_tracks.clear()
    (audio / "a" / "a.00001.wav").unlink()  # journaled
    write_wav(audio / "a" / "new.wav", 2.5, freq=600.0, seed=9)
    changed = audio / "a" / "a.00002.wav"  # journaled, then touched
    info = changed.stat()
    os.utime(changed, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))

    report = extract_to_csv(audio, out, config=CONFIG, jobs=1)
    assert extracted_tracks == ["a/a.00002", "a/new", "b/b.00000", "b/b.00001", "b/b.00002"]
    assert (report.n_resumed, report.n_extracted) == (1, 6)
    said = " ".join(report.notes)
    assert "keeping its results for 1 file whose audio is unchanged" in said
    assert "dropping those of 1 file no longer listed" in said
    assert "1 audio file changed (size or modification time) since it was extracted" in said
    assert out.read_bytes() == fresh(audio, tmp_path)


def test_a_damaged_block_is_not_relabelled_but_extracted_again(audio, tmp_path, monkeypatch, extracted_tracks):
    """A block is checked against its CRC before it is rewritten: a rewrite must not vouch for damaged rows."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    lines = [json.loads(line) for line in out.with_name("f.csv.journal").read_text().splitlines()[1:]]
    (first,) = [line for line in lines if line["i"] == 0]
    partial = out.with_name("f.csv.partial")
    data = bytearray(partial.read_bytes())
    data[first["offset"] + first["length"] // 2] ^= 0x01  # same size: only the checksum can tell
    partial.write_bytes(bytes(data))
    relabel(manifest, rows, 0, label="c")
    extracted_tracks.clear()
    report = extract_to_csv(manifest, out, config=CONFIG, jobs=1)
    assert extracted_tracks == names(manifest)[:1] + names(manifest)[DONE:] and report.n_resumed == 2
    # The run's own partial file, not a table: lost (cut short, torn), not edited by hand.
    assert f"{partial}: the rows of 1 finished file were missing or damaged" in " ".join(report.notes)
    assert out.read_bytes() == fresh(manifest, tmp_path)


def test_other_settings_are_still_refused_or_started_again(audio, tmp_path, monkeypatch, extracted_tracks):
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    relabel(manifest, rows, 0, label="c")
    refused_then_started_again(
        manifest, out, tmp_path, extracted_tracks, config=FeatureConfig(segment_seconds=0.5),
        match="unfinished extraction with other settings is there.*--overwrite",
    )  # fmt: skip


@pytest.mark.parametrize("relabelled", [True, False], ids=["relabelled", "same listing"])
def test_an_unfinished_run_of_other_library_versions_is_refused_or_started_again(
    audio, tmp_path, monkeypatch, extracted_tracks, relabelled
):
    """Its rows were computed by other code: none is kept, as none is when a finished table is updated."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    header = json.loads(out.with_name("f.csv.journal").read_text().splitlines()[0])
    assert header["versions"] == engine._versions()
    if relabelled:
        relabel(manifest, rows, 0, label="c")
    monkeypatch.setattr(engine, "_versions", lambda: {**header["versions"], "librosa": "99.0"})
    refused_then_started_again(
        manifest, out, tmp_path, extracted_tracks, config=CONFIG,
        match="unfinished extraction computed with other versions of librosa is there.*--overwrite",
    )  # fmt: skip


def test_a_journal_that_records_no_versions_is_resumed_on_its_fingerprint(
    audio, tmp_path, monkeypatch, extracted_tracks
):
    """As the version that wrote it did: it cannot tell, and its own files and settings are these."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    journal = out.with_name("f.csv.journal")
    header, *lines = journal.read_text().splitlines(keepends=True)
    journal.write_text(json.dumps({"fingerprint": json.loads(header)["fingerprint"]}) + "\n" + "".join(lines))
    extracted_tracks.clear()
    report = extract_to_csv(manifest, out, config=CONFIG, jobs=1)
    assert extracted_tracks == names(manifest)[DONE:] and report.n_resumed == DONE
    assert out.read_bytes() == fresh(manifest, tmp_path)


def test_a_journal_of_an_older_version_is_still_refused_or_started_again(
    audio, tmp_path, monkeypatch, extracted_tracks
):
    """Its header does not say which settings its rows were extracted with, nor its lines which file is whose."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    journal = out.with_name("f.csv.journal")
    header, *lines = [json.loads(line) for line in journal.read_text().splitlines()]
    old = [{k: v for k, v in line.items() if k not in ("path", "id")} for line in lines]
    journal.write_text("".join(json.dumps(line) + "\n" for line in [{"fingerprint": header["fingerprint"]}, *old]))
    relabel(manifest, rows, 0, label="c")
    refused_then_started_again(
        manifest, out, tmp_path, extracted_tracks, config=CONFIG,
        match="unfinished extraction with other files or settings",
    )  # fmt: skip


def test_a_rerun_killed_while_taking_over_the_run_leaves_it_to_the_next(audio, tmp_path, monkeypatch, extracted_tracks):
    """Killed after the relabelled rows were appended, before the journal named them: the old journal stands."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    relabel(manifest, rows, 1, label="c")
    journal = out.with_name("f.csv.journal").read_bytes()
    partial = out.with_name("f.csv.partial")
    size = partial.stat().st_size

    def killed(path, text):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(engine, "atomic_write_text", killed)
        with pytest.raises(KeyboardInterrupt):
            extract_to_csv(manifest, out, config=CONFIG, jobs=1)
    assert out.with_name("f.csv.journal").read_bytes() == journal and partial.stat().st_size > size

    extracted_tracks.clear()
    report = extract_to_csv(manifest, out, config=CONFIG, jobs=1)
    assert extracted_tracks == names(manifest)[DONE:] and report.n_resumed == 3
    assert out.read_bytes() == fresh(manifest, tmp_path)


def test_a_file_in_flight_when_the_run_died_is_still_tried_alone_after_a_relabel(
    audio, tmp_path, monkeypatch, extracted_tracks
):
    """The in-flight notes name files by path: the file is found at its new place in the listing."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    # As a run killed while analysing the fourth file leaves its notes.
    dying = load_dataset(manifest).tracks[DONE]
    out.with_name("f.csv.inflight").write_text(f"c0ffee\nc0ffee {DONE} {engine._path_id(dying)}\n")
    del rows[0]  # journaled; the dying file moves up one place
    relabel(manifest, rows, 1, label="c")
    alone = []

    def in_this_process(func, items, **kwargs):
        for item in items:
            alone.append(item[1].path)
            yield func(item)

    monkeypatch.setattr(engine, "map_alone", in_this_process)
    extracted_tracks.clear()
    report = extract_to_csv(manifest, out, config=CONFIG, jobs=1)
    assert alone == [dying.path] and extracted_tracks[0] == dying.track
    assert "1 file was being extracted when an earlier run died" in " ".join(report.notes)
    assert (report.n_resumed, report.n_extracted) == (2, 5)
    assert out.read_bytes() == fresh(manifest, tmp_path)


def test_the_benchmark_keeps_an_unfinished_extraction_of_other_files(tmp_path, monkeypatch, extracted_tracks):
    from genre.benchmark import extract_inputs

    audio = write_tone_folder(tmp_path / "long", PITCHES, seconds=3.5)  # one 3 s segment each, by default
    folder, lines = tmp_path / "report" / "features", []
    interrupted(monkeypatch, audio, folder / "features.csv", config=FeatureConfig())
    (audio / "b" / "b.00002.wav").unlink()
    extracted_tracks.clear()
    (table,) = extract_inputs(audio, folder, models=["logreg"], jobs=1, echo=lines.append)
    assert extracted_tracks == ["b/b.00000", "b/b.00001"]
    assert not any("discarding" in line for line in lines)
    assert len(pd.read_csv(table)) == 5
