"""Leftovers of the resumable extraction: notes on a damaged partial file, damaged journals and
in-flight notes, dead bytes in the partial file, and cells holding a bare carriage return.

Each test checks the final table against a fresh extraction of the same listing, byte for byte,
where there is one. Builds on tests/test_relabel_resume.py and tests/test_relabel_crash.py.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import genre.features.extract as engine
from genre.csvtext import csv_text
from genre.data import Track
from genre.features.extract import extract_to_csv
from genre.features.table import load_feature_table
from tests.conftest import interrupt_extraction_after, write_tone_folder
from tests.test_relabel_crash import durable_steps, killed_at_fsync_after_restoring
from tests.test_relabel_resume import (
    CONFIG,
    DONE,
    PITCHES,
    fresh,
    interrupted_manifest,
    names,
    relabel,
    run_files,
    write_manifest,
)


@pytest.fixture
def audio(tmp_path) -> Path:
    """Six 2.5 s tones in two label folders: two 1 s segments each."""
    return write_tone_folder(tmp_path / "audio", PITCHES, seconds=2.5)


def journal_lines(out: Path) -> list[dict]:
    """The lines of ``out``'s journal after its header."""
    return [json.loads(line) for line in out.with_name(out.name + ".journal").read_text().splitlines()[1:]]


def flip_a_byte(out: Path, index: int) -> None:
    """Change one byte in the middle of the block of track ``index`` in ``out``'s partial file."""
    (line,) = [line for line in journal_lines(out) if line["i"] == index]
    partial = out.with_name(out.name + ".partial")
    data = bytearray(partial.read_bytes())
    data[line["offset"] + line["length"] // 2] ^= 0x01
    partial.write_bytes(bytes(data))


def stopped_at_once(monkeypatch, manifest: Path, out: Path) -> None:
    """A run of ``manifest`` stopped by Ctrl-C before it extracts a file (after it took over the journal)."""
    with monkeypatch.context() as patched:
        interrupt_extraction_after(patched, 0)
        with pytest.raises(KeyboardInterrupt):
            extract_to_csv(manifest, out, config=CONFIG, jobs=1)


# -- 1. a damaged block of the partial file is no table edited by hand --------------------------
def test_damaged_blocks_of_the_partial_file_carried_over_are_not_said_to_be_edited_by_hand(
    audio, tmp_path, monkeypatch, extracted_tracks
):
    """The rows of one relabelled file (checked as carried over) and of one kept as it was
    (checked as the run resumes) are damaged: one note, for both, naming the partial file."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    flip_a_byte(out, 0)
    flip_a_byte(out, 1)
    relabel(manifest, rows, 0, label="c")
    extracted_tracks.clear()
    report = extract_to_csv(manifest, out, config=CONFIG, jobs=1)
    said = " ".join(report.notes)
    assert "edited by hand" not in said
    assert f"{out}.partial: the rows of 2 finished files were missing or damaged" in said
    assert said.count("missing or damaged") == 1
    assert extracted_tracks == names(manifest)[:2] + names(manifest)[DONE:] and report.n_resumed == 1
    assert out.read_bytes() == fresh(manifest, tmp_path)


# -- 2. damaged in-flight notes and journal lines are ignored, never a crash ---------------------
@pytest.mark.parametrize(
    "index",
    ["\u00b2", "\u0664", "\u0e54", "9" * 5000, "-1", "+4", " 4", "4.0", ""],
    ids=["superscript two", "arabic-indic four", "thai four", "5000 digits", "negative", "plus", "space", "float", "empty"],
)
def test_an_in_flight_note_whose_index_is_no_ascii_number_is_ignored(
    audio, tmp_path, monkeypatch, extracted_tracks, index
):
    """'²'.isdigit() is true and int('²') raises; int('٤') is 4, another file tried alone first."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    # Notes of an older version (no path id), so that the index alone names the file.
    out.with_name("f.csv.inflight").write_text(f"t0ken\nt0ken {index}\n", encoding="utf-8")
    extracted_tracks.clear()
    report = extract_to_csv(manifest, out, config=CONFIG, jobs=1)
    assert "when an earlier run died" not in " ".join(report.notes)
    assert extracted_tracks == names(manifest)[DONE:] and report.n_resumed == DONE
    assert out.read_bytes() == fresh(manifest, tmp_path)


def test_the_in_flight_index_parser_takes_ascii_digits_alone():
    assert engine._is_index("0") and engine._is_index("4") and engine._is_index("0123")
    for text in ("\u00b2", "\u0664", "\uff14", "", "-1", "1e3", "9" * 19):
        assert not engine._is_index(text), text
    assert engine._is_index("9" * 18)


GARBLED = {
    "offset a string": ("offset", "x"),
    "length negative": ("length", -5),
    "offset a float": ("offset", 1.5),
    "rows a string": ("rows", "2"),
    "reason a number": ("reason", 7),
    "crc a string": ("crc", "abc"),
    "native rate a string": ("native_sr", "22050"),
    "silent infinite": ("silent", float("inf")),
    "index out of range": ("i", 99),
    "index negative": ("i", -1),
    "index a string": ("i", "1"),
    "index a bool": ("i", True),
    "path id a list": ("path", [1]),
}


@pytest.mark.parametrize("field, value", GARBLED.values(), ids=GARBLED.keys())
@pytest.mark.parametrize("relabelled", [False, True], ids=["same listing", "relabelled"])
def test_a_garbled_journal_line_costs_a_re_extraction_never_a_crash(
    audio, tmp_path, monkeypatch, extracted_tracks, field, value, relabelled
):
    """Valid JSON of the wrong types: each crashed a rerun (TypeError, IndexError, OverflowError)
    or resumed a block under another index, before."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    journal = out.with_name("f.csv.journal")
    header, *lines = journal.read_text().splitlines()
    second = json.loads(lines[1])
    second[field] = value
    lines[1] = json.dumps(second)  # allow_nan: "Infinity", which json.loads reads back
    journal.write_text("\n".join([header, *lines]) + "\n")
    if relabelled:
        relabel(manifest, rows, 0, label="c")
    extracted_tracks.clear()
    report = extract_to_csv(manifest, out, config=CONFIG, jobs=1)
    if (field, relabelled) in (("i", True), ("path", False)):  # a carry-over finds blocks by path, a resume by index
        assert report.n_resumed == DONE and extracted_tracks == names(manifest)[DONE:]
    else:  # read up to the garbled line, as a journal cut short by a kill: the rest is extracted again
        assert report.n_resumed == 1 and extracted_tracks == names(manifest)[1:]
    assert out.read_bytes() == fresh(manifest, tmp_path)


@pytest.mark.parametrize("garbage", ["1" * 5000, "[" * 100_000], ids=["a huge number", "nested deep"])
@pytest.mark.parametrize("where", ["header", "line"])
def test_json_that_the_decoder_refuses_otherwise_is_a_damaged_journal(
    audio, tmp_path, monkeypatch, where, garbage
):
    """json.loads raises ValueError (not JSONDecodeError) for an int of over 4300 digits, and
    RecursionError for brackets nested too deep."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    journal = out.with_name("f.csv.journal")
    header, *lines = journal.read_text().splitlines()
    if where == "header":
        header = garbage
    else:
        lines[1] = garbage
    journal.write_text("\n".join([header, *lines]) + "\n")
    if where == "header":  # no header: a journal of other settings, refused unless started again
        with pytest.raises(engine.StaleJournalError):
            extract_to_csv(manifest, out, config=CONFIG, jobs=1)
        extract_to_csv(manifest, out, config=CONFIG, jobs=1, overwrite=True)
    else:
        assert extract_to_csv(manifest, out, config=CONFIG, jobs=1).n_resumed == 1
    assert out.read_bytes() == fresh(manifest, tmp_path)


# -- 3. dead bytes in the partial file ---------------------------------------------------------
def partial_and_live(out: Path) -> tuple[int, int]:
    """The size of ``out``'s partial file and the bytes its journal names."""
    live = sum(line["length"] for line in journal_lines(out))
    return out.with_name(out.name + ".partial").stat().st_size, live


def test_relabelled_interrupted_runs_do_not_grow_the_partial_file_without_bound(
    audio, tmp_path, monkeypatch
):
    """Each carry-over appends the relabelled blocks and leaves their old copies behind: ten
    interrupted runs that each relabel the journaled files made the partial file eleven times
    its journaled bytes. It stays under twice them, and the table holds none of the dead ones."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    for k in range(10):
        for index in range(DONE):
            relabel(manifest, rows, index, label=f"x{k}")
        stopped_at_once(monkeypatch, manifest, out)
        size, live = partial_and_live(out)
        assert len(journal_lines(out)) == DONE
        assert size <= 2 * live, f"run {k}: {size} bytes for {live} journaled"
    report = extract_to_csv(manifest, out, config=CONFIG, jobs=1)
    assert report.n_resumed == DONE
    assert out.read_bytes() == fresh(manifest, tmp_path)
    assert run_files(out) == []


def test_dead_bytes_below_the_last_block_never_reach_the_table(audio, tmp_path, monkeypatch):
    """A damaged first block (dropped, its file extracted again) leaves dead bytes under a
    third of the file: no rewrite, and the table is the fresh one."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    flip_a_byte(out, 0)
    stopped_at_once(monkeypatch, manifest, out)
    size, live = partial_and_live(out)
    (first,) = [line for line in journal_lines(out) if line["i"] == 1]
    assert first["offset"] > 0 and size == live + first["offset"]  # block 0's old bytes, not rewritten
    assert extract_to_csv(manifest, out, config=CONFIG, jobs=1).n_resumed == DONE - 1
    assert out.read_bytes() == fresh(manifest, tmp_path)


def test_a_kill_at_any_step_of_the_rewrite_gives_the_fresh_table(audio, tmp_path, monkeypatch):
    """The rewritten partial file is renamed into place before the journal names its offsets:
    killed at each fsync of the run that rewrites it, a rerun writes the fresh table."""
    rows, manifest, out = interrupted_manifest(monkeypatch, audio, tmp_path)
    for index in range(DONE):
        relabel(manifest, rows, index, label="y")
    stopped_at_once(monkeypatch, manifest, out)  # the first copies: half of the file dead
    for index in range(DONE):
        relabel(manifest, rows, index, label="z")
    start = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("f.csv.")}
    rewrites = []
    real_compact = engine._Journal._compact

    def compact(self):
        before = self.partial_path.stat().st_size if self.partial_path.exists() else 0
        real_compact(self)
        if before:
            rewrites.append(self.partial_path.stat().st_size < before)

    monkeypatch.setattr(engine._Journal, "_compact", compact)

    def second_run() -> None:
        with monkeypatch.context() as patched:
            interrupt_extraction_after(patched, 0)
            with pytest.raises(KeyboardInterrupt):
                extract_to_csv(manifest, out, config=CONFIG, jobs=1)

    steps = durable_steps(monkeypatch, second_run)
    assert rewrites == [True]
    expected = fresh(manifest, tmp_path)
    def killed_run() -> None:
        extract_to_csv(manifest, out, config=CONFIG, jobs=1)

    for n in range(1, steps + 1):
        ours = [path for path in tmp_path.iterdir() if path.name.startswith(("f.", ".f."))]
        killed_at_fsync_after_restoring(monkeypatch, n, folder=tmp_path, leftovers=ours, start=start, run=killed_run)
        extract_to_csv(manifest, out, config=CONFIG, jobs=1)
        assert out.read_bytes() == expected, f"killed at fsync {n}"
        assert run_files(out) == [], f"killed at fsync {n}"


# -- 4. a bare carriage return in a path, name, label or group --------------------------------
@pytest.mark.parametrize("cell", ["label", "group"])
def test_a_table_with_a_carriage_return_in_a_cell_reads_back(audio, tmp_path, cell):
    """The CSV writer left a lone CR unquoted, and pandas ended the row there."""
    files = sorted(audio.rglob("*.wav"))
    rows = [(p, p.parent.name, f"artist {i}") for i, p in enumerate(files)]
    rows[0] = (files[0], "a\rb", "artist 0") if cell == "label" else (files[0], "a", "artist\r0")
    manifest = write_manifest(tmp_path / "tracks.csv", rows)
    out = tmp_path / "f.csv"
    report = extract_to_csv(manifest, out, config=CONFIG, jobs=1)
    table = load_feature_table(out, group_col="group")
    assert len(table.X) == report.n_rows and table.X.notna().all().all()
    expected = [label for _, label, _ in rows for _ in range(2)]  # two segments each
    assert list(table.y) == expected
    assert list(table.groups)[:2] == ["artist 0" if cell == "label" else "artist\r0"] * 2
    assert b'"a\rb"' in out.read_bytes() or b'"artist\r0"' in out.read_bytes()


def test_rows_without_a_carriage_return_are_written_as_before():
    """Tables are compared byte for byte: only cells with a CR are quoted anew."""
    rows = [["p.wav", "p", 0, "0.000", 'a, "q"', "new\nline", "1.5"], ["x", "", 1, "1.000", "", "", "nan"]]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    assert csv_text(rows) == buffer.getvalue()
    assert csv_text([["a\rb", "c\r\nd", "e", 'f"']]) == '"a\rb","c\r\nd",e,"f"""\n'


def test_rows_of_an_older_table_with_a_bare_carriage_return_are_not_relabelled():
    """Written unquoted by an older version, such rows are split wrongly by a reader."""
    track = Track(path="x.wav", track="x", label="new", group="")
    assert engine._relabel_rows(b"x.wav,x,0,0.000,a\rb,,1.5\n", track) is None
    quoted = csv_text([["x.wav", "x", 0, "0.000", "a\rb", "", "1.5"]]).encode()
    assert engine._relabel_rows(quoted, track) is None  # extracted again, as before
    plain = b"x.wav,x,0,0.000,old,,1.5\n"
    assert engine._relabel_rows(plain, track) == b"x.wav,x,0,0.000,new,,1.5\n"
