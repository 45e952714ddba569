"""Attacks on the carry-over of an unfinished extraction to an edited listing, and on updates.

A run killed at any point while it takes over an unfinished run (or a finished table), then
rerun after a second edit of the listing, must still write the table a fresh extraction
writes, byte for byte, with no row under another file's path or another track's label.
Complements tests/test_relabel_resume.py (the carry-over itself) and test_extract_reuse.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from pathlib import Path

import pytest

import genre.features.extract as engine
from genre.data import Track
from genre.features.extract import extract_to_csv
from tests.conftest import write_tone_folder
from tests.test_relabel_resume import CONFIG, DONE, PITCHES, fresh, interrupted, names, run_files, write_manifest


class Killed(BaseException):
    """A simulated kill -9: nothing in the engine catches it, as nothing can catch a SIGKILL."""


@pytest.fixture
def audio(tmp_path) -> Path:
    """Six 2.5 s tones in two label folders (two 1 s segments each), of distinct modification times."""
    audio = write_tone_folder(tmp_path / "audio", PITCHES, seconds=2.5)
    # The tones have one size: their times alone tell them apart (a file system with coarse times).
    for i, path in enumerate(sorted(audio.rglob("*.wav"))):
        os.utime(path, ns=(1_600_000_000_000_000_000 + i * 10**9,) * 2)
    return audio


def manifest(tmp_path: Path, rows: list[tuple[Path, str, str]]) -> Path:
    """``tmp_path/tracks.csv`` listing ``rows`` (rewritten in place: the same manifest edited)."""
    return write_manifest(tmp_path / "tracks.csv", rows)


def kill_at_fsync(monkeypatch, n: int) -> list[int]:
    """Make the ``n``-th ``os.fsync`` from now raise :class:`Killed` before it syncs; returns the calls so far.

    Everything the run writes goes to disk through an fsync (the partial file, and each
    atomic write of the journal and the in-flight notes), so a kill before each of them, with
    what was written before in the kernel's cache, is a kill at each durable step.
    """
    real, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == n:
            raise Killed
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def killed_at_fsync_after_restoring(
    monkeypatch, n: int, *, folder: Path, leftovers: list[Path], start: dict[str, bytes], run
) -> None:
    """Delete ``leftovers``, put back the files of ``start`` (name to bytes) in ``folder``, then run
    ``run()`` killed at its ``n``-th fsync: one replay of a kill at one durable step."""
    for path in leftovers:
        path.unlink()
    for name, data in start.items():
        (folder / name).write_bytes(data)
    with monkeypatch.context() as patched:
        kill_at_fsync(patched, n)
        with pytest.raises(Killed):
            run()


# -- a kill at each durable step of a carry-over or an update, then a second edit -------------
def edits(audio: Path) -> tuple[list, list, list]:
    """A listing, the same relabelled and reordered (a label that CSV must quote, two labels
    swapped), and that edited again (a file dropped, another relabelled)."""
    files = sorted(audio.rglob("*.wav"))
    first = [(p, p.parent.name, f"artist {i}") for i, p in enumerate(files)]
    second = [first[i] for i in (3, 2, 1, 0, 4, 5)]
    second[3] = (files[0], 'c, "q"\nnew line', "artist 0")
    second[0], second[1] = (files[3], "a", "artist 3"), (files[2], "b", "artist 2")  # were b and a
    third = second[1:]
    third[1] = (files[1], "d", "artist 9")
    return first, second, third


def durable_steps(monkeypatch, run) -> int:
    """How many fsyncs ``run()`` makes while it opens the journal (see :func:`kill_at_fsync`)."""
    real_init, counted = engine._Journal.__init__, []

    def init(self, *args, **kwargs):
        before = len(calls)
        real_init(self, *args, **kwargs)
        counted.append(len(calls) - before)

    with monkeypatch.context() as patched:
        patched.setattr(engine._Journal, "__init__", init)
        calls = kill_at_fsync(patched, 0)  # counts, never kills
        run()
    return counted[0]


@pytest.mark.parametrize("undone", [False, True], ids=["edited again", "edit undone"])
@pytest.mark.parametrize("update", [False, True], ids=["unfinished run", "finished table"])
def test_a_kill_at_any_step_of_taking_over_then_another_edit_gives_the_fresh_table(
    audio, tmp_path, monkeypatch, update, undone
):
    first, second, third = edits(audio)
    rerun = first if undone else third
    out = tmp_path / "f.csv"
    if update:
        extract_to_csv(manifest(tmp_path, first), out, config=CONFIG, jobs=1)
    else:
        interrupted(monkeypatch, manifest(tmp_path, first), out)

    def ours() -> list[Path]:  # the table, its sidecars and its run's files
        return [p for p in tmp_path.iterdir() if p.name.startswith("f.")]

    start = {p.name: p.read_bytes() for p in ours()}

    def second_run() -> None:
        extract_to_csv(manifest(tmp_path, second), out, config=CONFIG, jobs=1, overwrite=update)

    steps = durable_steps(monkeypatch, second_run)
    assert steps >= 4  # rows taken over, the journal naming them, that rewritten checked, in-flight notes
    expected = fresh(manifest(tmp_path, rerun), tmp_path)
    # Each step of opening the journal, then the first file's two: its rows, its journal line.
    for n in range(1, steps + 3):
        killed_at_fsync_after_restoring(
            monkeypatch, n, folder=tmp_path, leftovers=list(ours()), start=start, run=second_run
        )
        report = extract_to_csv(manifest(tmp_path, rerun), out, config=CONFIG, jobs=1, overwrite=update)
        assert out.read_bytes() == expected, f"killed at fsync {n}"
        # Every file of the first run that is still listed, and any the killed run journaled.
        assert report.n_resumed >= (len(rerun) if update else DONE), f"killed at fsync {n}"
        assert run_files(out) == [], f"killed at fsync {n}"


# -- cells the carry-over rewrites ----------------------------------------------------------
@pytest.mark.parametrize("update", [False, True], ids=["unfinished run", "finished table"])
@pytest.mark.parametrize("cell", ["label", "group"])
def test_rows_with_a_carriage_return_in_a_cell_are_extracted_again_not_misread(
    audio, tmp_path, monkeypatch, extracted_tracks, update, cell
):
    """The CSV writer leaves a lone CR unquoted, which a reader takes for a line end.

    Relabelling such rows once raised IndexError on every rerun, --overwrite too (a CR in
    the label), or wrote feature cells over with id cells (a CR in the group, the last one).
    """
    files = sorted(audio.rglob("*.wav"))
    rows = [(p, p.parent.name, f"artist {i}") for i, p in enumerate(files)]
    rows[0] = (files[0], "a\rb", "artist 0") if cell == "label" else (files[0], "a", "artist\r0")
    out = tmp_path / "f.csv"
    if update:
        extract_to_csv(manifest(tmp_path, rows), out, config=CONFIG, jobs=1)
    else:
        interrupted(monkeypatch, manifest(tmp_path, rows), out)
    rows[0] = (files[0], "c", "artist 0")
    extracted_tracks.clear()
    report = extract_to_csv(manifest(tmp_path, rows), out, config=CONFIG, jobs=1, overwrite=update)
    extracted, listed = list(extracted_tracks), names(manifest(tmp_path, rows))
    assert out.read_bytes() == fresh(manifest(tmp_path, rows), tmp_path)
    assert extracted == listed[:1] + ([] if update else listed[DONE:])
    assert "the rows of 1 relabelled file could not be given their new name, label or group" in " ".join(report.notes)


def test_labels_that_differ_only_in_where_a_nul_falls_are_other_labels(audio, tmp_path, monkeypatch):
    """Label "a\\0b" without group and label "a" of group "b\\0" were one track to the journal:
    the rerun resumed its rows with the old label and group (its fingerprint was the same)."""
    files = sorted(audio.rglob("*.wav"))
    rows = [(p, p.parent.name, f"artist {i}") for i, p in enumerate(files)]
    rows[0] = (files[0], "a\0b", "")
    out = tmp_path / "f.csv"
    interrupted(monkeypatch, manifest(tmp_path, rows), out)
    rows[0] = (files[0], "a", "b\0")
    extract_to_csv(manifest(tmp_path, rows), out, config=CONFIG, jobs=1)
    assert out.read_bytes() == fresh(manifest(tmp_path, rows), tmp_path)


def test_a_listing_fingerprint_tells_where_one_track_ends_and_the_next_begins():
    """A newline in a group and in the next path: the tracks' concatenated ids were the same."""
    one = [Track(path="p", track="n", label="l", group="g\nx"), Track(path="y", track="m", label="l")]
    other = [Track(path="p", track="n", label="l", group="g"), Track(path="x\ny", track="m", label="l")]
    assert engine._fingerprint(one, {}) != engine._fingerprint(other, {})
    # Cells without NUL or newline keep their ids: journals and sidecars of today stay valid.
    plain = Track(path="p.wav", track="p", label="l", group="g")
    assert engine._track_id(plain) == hashlib.sha256(b"p.wav\0p\0l\0g\n").hexdigest()[:16]


# -- files that move --------------------------------------------------------------------------
def test_reordered_names_and_swapped_labels_keep_each_file_its_own_rows(tmp_path, monkeypatch, write_wav):
    """Files whose names differ only in extension are named x/a and x/a#2 in listing order: a
    reordered manifest swaps their names, as two swapped labels swap the rest."""
    folder = tmp_path / "audio" / "x"
    wav, flac = write_wav(folder / "a.wav", 2.5, freq=300.0), write_wav(folder / "a.flac", 2.5, freq=900.0)
    b1, b2, c = (write_wav(folder / f"{n}.wav", 2.5, freq=f) for n, f in (("b1", 400.0), ("b2", 500.0), ("c", 600.0)))
    rows = [(wav, "low", "1"), (flac, "high", "2"), (b1, "low", "3"), (b2, "high", "4"), (c, "low", "5")]
    out = tmp_path / "f.csv"
    with monkeypatch.context() as patched:  # four journaled: all but c
        patched.setattr("tests.test_relabel_resume.DONE", 4)
        interrupted(monkeypatch, manifest(tmp_path, rows), out)
    rows = [(flac, "high", "2"), (wav, "low", "1"), (b1, "high", "3"), (b2, "low", "4"), (c, "low", "5")]
    report = extract_to_csv(manifest(tmp_path, rows), out, config=CONFIG, jobs=1)
    assert (report.n_resumed, report.n_extracted) == (4, 5)
    assert "keeping its results for 4 files whose audio is unchanged (4 with a new name, label or group)" in " ".join(
        report.notes
    )
    assert out.read_bytes() == fresh(manifest(tmp_path, rows), tmp_path)


def test_a_file_renamed_and_another_moved_to_its_old_path_are_never_mistaken(
    audio, tmp_path, monkeypatch, extracted_tracks
):
    """The rows of a path are its current sound's: a rename chain (a -> z, b -> a: the same
    size, other times), and a name respelled in decomposed Unicode (another name on Linux)."""
    files = sorted(audio.rglob("*.wav"))
    accented = files[2].with_name(unicodedata.normalize("NFC", "caf\u00e9.wav"))
    files[2].rename(accented)
    files[2] = accented
    rows = [(p, p.parent.name, f"artist {i}") for i, p in enumerate(files)]
    out = tmp_path / "f.csv"
    interrupted(monkeypatch, manifest(tmp_path, rows), out)
    # All three journaled files move: a -> z, b -> a, café (NFC) -> café (NFD).
    renamed = files[0].with_name("z.wav")
    decomposed = accented.with_name(unicodedata.normalize("NFD", accented.name))
    files[0].rename(renamed)
    files[1].rename(files[0])
    accented.rename(decomposed)
    rows = [(renamed, "a", "artist 0"), (files[0], "a", "artist 1"), (decomposed, "a", "artist 2"), *rows[DONE:]]
    extracted_tracks.clear()
    report = extract_to_csv(manifest(tmp_path, rows), out, config=CONFIG, jobs=1)
    assert (report.n_resumed, report.n_extracted) == (0, 6) and len(extracted_tracks) == 6
    assert out.read_bytes() == fresh(manifest(tmp_path, rows), tmp_path)


def test_rows_relabelled_onto_a_partial_file_cut_short_are_not_read_as_the_lost_blocks(
    audio, tmp_path, monkeypatch, extracted_tracks
):
    """The rewritten rows are appended where the partial file now ends, inside the bytes the
    lost blocks were journaled at: their checksums, not their lengths, must drop them."""
    files = sorted(audio.rglob("*.wav"))
    rows = [(p, p.parent.name, f"artist {i}") for i, p in enumerate(files)]
    out = tmp_path / "f.csv"
    interrupted(monkeypatch, manifest(tmp_path, rows), out)
    lines = {line["i"]: line for line in map(json.loads, out.with_name("f.csv.journal").read_text().splitlines()[1:])}
    with open(out.with_name("f.csv.partial"), "r+b") as handle:
        handle.truncate(lines[1]["offset"] + 10)  # the first block whole, the second cut short
    rows[0] = (files[0], "c" * 40, "artist 0")
    # Two rows, each 39 bytes longer: they reach past the end of the second block as journaled.
    assert lines[1]["offset"] + 10 + lines[0]["length"] + 2 * 39 >= lines[1]["offset"] + lines[1]["length"]
    extracted_tracks.clear()
    report = extract_to_csv(manifest(tmp_path, rows), out, config=CONFIG, jobs=1)
    assert extracted_tracks == names(manifest(tmp_path, rows))[1:] and report.n_resumed == 1
    assert out.read_bytes() == fresh(manifest(tmp_path, rows), tmp_path)
