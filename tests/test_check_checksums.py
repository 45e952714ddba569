"""`genre check` (genre.data.checksums): audio verified against the checksums each layout declares."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from genre.cli import app
from genre.data import checksums as checks
from genre.data import synthetic
from genre.data.checksums import read_checksum_file, verify, write_checksums
from genre.data.manifest import load_manifest
from genre.errors import DataError, ParameterError
from tests.conftest import tone
from tests.fma_tables import write_fma_tracks_csv

COLUMNS = [("artist", "id"), ("set", "subset"), ("track", "genre_top")]
#: (track id, subset, genre): fma_small holds the audio of the small ones.
ROWS = [(2, "small", "Hip-Hop"), (3, "small", "Rock"), (5, "small", "Pop"), (10, "medium", "Folk")]


def run(*args: str):
    return CliRunner().invoke(app, ["check", *map(str, args)])


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


@pytest.fixture
def fma(tmp_path: Path) -> Path:
    """``tmp_path/fma_small``: three small tracks (a few bytes each: check never decodes), and FMA's ``checksums``."""
    write_fma_tracks_csv(
        tmp_path / "fma_metadata" / "tracks.csv",
        COLUMNS,
        [(i, {("artist", "id"): i, ("set", "subset"): s, ("track", "genre_top"): g}) for i, s, g in ROWS],
    )
    root = tmp_path / "fma_small"
    lines = []
    for track_id, subset, _ in ROWS:
        if subset == "small":
            data = f"fake mp3 of track {track_id}".encode() * 50
            rel = f"000/{track_id:06d}.mp3"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
            lines.append(f"{sha1(data)}  {rel}\n")
    (root / "checksums").write_text("".join(lines))
    return root


def summary(output: str) -> str:
    return next(line for line in output.splitlines() if "match their checksums" in line)


# -- FMA -----------------------------------------------------------------------------------


def test_fma_all_good(fma):
    result = run(f"fma:{fma}")
    assert result.exit_code == 0, result.output
    assert summary(result.output).startswith(
        "3 of 3 files match their checksums; 0 differ; 0 have none; 0 listed but missing"
    )
    assert str(fma / "checksums") in result.output
    report = verify(f"fma:{fma}")
    assert report.ok and report.n_matched == report.n_tracks == 3 and report.against == (str(fma / "checksums"),)


def test_fma_a_flipped_byte_is_named_and_fails(fma):
    clip = fma / "000" / "000003.mp3"
    data = bytearray(clip.read_bytes())
    data[len(data) // 2] ^= 0x01  # same size, one bit: only a checksum notices
    clip.write_bytes(bytes(data))
    result = run(f"fma:{fma}")
    assert result.exit_code == 1
    assert summary(result.output).startswith("2 of 3 files match their checksums; 1 differ; 0 have none")
    assert f"differs {clip}: its sha1 is {sha1(bytes(data))}, but line 2 of checksums says" in result.output
    report = verify(f"fma:{fma}")
    assert not report.ok and [path for path, _ in report.differ] == [str(clip)]


def test_fma_a_listed_file_that_is_missing_fails(fma):
    (fma / "000" / "000005.mp3").unlink()
    result = run(f"fma:{fma}")
    assert result.exit_code == 1
    # Not a track any more (load_fma lists only files that are there), but listed with a checksum.
    assert summary(result.output).startswith("2 of 2 files match their checksums; 0 differ; 0 have none; 1 listed but missing")
    assert f"missing {fma / '000' / '000005.mp3'}: listed on line 3 of checksums, but no such file" in result.output


def test_fma_a_track_without_a_checksum_line_is_counted_apart(fma):
    lines = (fma / "checksums").read_text().splitlines(keepends=True)
    (fma / "checksums").write_text(lines[0] + lines[2])  # no line for 000003.mp3
    result = run(f"fma:{fma}")
    assert result.exit_code == 0, result.output
    assert summary(result.output).startswith("2 of 3 files match their checksums; 0 differ; 1 have none; 0 listed but missing")
    assert verify(f"fma:{fma}").no_checksum == [str(fma / "000" / "000003.mp3")]


def test_fma_files_listed_that_are_no_tracks_are_noted_not_checked(fma):
    # fma_small read as FMA's medium subset... but with --fma-subset small on a folder holding a medium track too.
    rel = "000/000010.mp3"
    (fma / rel).write_bytes(b"medium track")
    with open(fma / "checksums", "a") as handle:
        handle.write(f"{'0' * 40}  {rel}\n")  # wrong, but not a track of subset small: not read
    result = run(f"fma:{fma}", "--fma-subset", "small")
    assert result.exit_code == 0, result.output
    assert "1 file with a checksum is not listed as a track" in result.output
    assert summary(result.output).startswith("3 of 3 files match")


def test_fma_without_a_checksums_file_has_nothing_to_verify(fma):
    (fma / "checksums").unlink()
    result = run(f"fma:{fma}")
    assert result.exit_code == 0
    assert "has no checksums file" in result.output and "nothing to verify against" in result.output


def test_a_malformed_checksum_line_is_named_with_its_file_and_line(fma):
    with open(fma / "checksums", "a") as handle:
        handle.write("not a checksum\n")
    result = run(f"fma:{fma}")
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {fma / 'checksums'}, line 4: not a checksum line: 'not a checksum'")
    with pytest.raises(DataError, match=r"checksums, line 4: not a checksum line"):
        verify(f"fma:{fma}")


def test_fma_options_and_bad_sources_are_one_line_errors(fma, tmp_path):
    assert run(tmp_path / "nowhere").output == f"error: {tmp_path / 'nowhere'}: no such folder or file\n"
    assert run(tmp_path / "nowhere").exit_code == 2
    result = run(fma, "--fma-subset", "small")
    assert result.exit_code == 2 and "apply only to an fma:FOLDER source" in result.output
    result = run(f"fma:{fma}", "--write")
    assert result.exit_code == 2 and "for a folder of label folders only" in result.output


def test_many_files_are_read_by_worker_processes(fma, monkeypatch):
    from genre.features.executors import LocalExecutor

    monkeypatch.setattr(checks, "PARALLEL_FROM", 2)
    monkeypatch.setattr(checks, "BATCH", 1)
    clip = fma / "000" / "000002.mp3"
    clip.write_bytes(clip.read_bytes() + b"!")
    report = verify(f"fma:{fma}", executor=LocalExecutor(jobs=2))
    assert report.n_matched == 2 and [path for path, _ in report.differ] == [str(clip)]


# -- manifests ----------------------------------------------------------------------------


def write_manifest(tmp_path: Path, header: str, rows: list[str]) -> Path:
    manifest = tmp_path / "m.csv"
    manifest.write_text("\n".join([header, *rows]) + "\n")
    return manifest


@pytest.fixture
def clips(tmp_path: Path) -> dict[str, bytes]:
    audio = tmp_path / "audio"
    audio.mkdir()
    for i, name in enumerate(["a.wav", "b.wav", "c.wav"]):
        sf.write(audio / name, tone(0.2, freq=300.0 + 100 * i, seed=i), 22050)
    return {name: (audio / name).read_bytes() for name in ["a.wav", "b.wav", "c.wav"]}


def test_manifest_sha256_column_is_read_not_reported_as_unread(tmp_path, clips):
    rows = [f"audio/{n},rock,{hashlib.sha256(d).hexdigest()},x" for n, d in clips.items()]
    manifest = write_manifest(tmp_path, "path,label,SHA256,comment", rows)
    dataset = load_manifest(manifest)
    assert dataset.notes == ["m.csv: column 'comment' is not read (read: path and label; a 'group' or 'artist' column "
                             "would keep each artist's tracks on one side of every split)"]  # fmt: skip
    assert dataset.checksums["audio/a"][0].algorithm == "sha256"
    assert dataset.checksums["audio/a"][0].where == "line 2 of m.csv"
    result = run(manifest)
    assert result.exit_code == 0, result.output
    assert summary(result.output).startswith("3 of 3 files match their checksums; 0 differ; 0 have none")
    assert f"the sha256 column of {manifest}" in result.output


def test_manifest_with_only_a_checksum_column_beside_has_no_note(tmp_path, clips):
    rows = [f"audio/{n},rock,{hashlib.md5(d).hexdigest()}" for n, d in clips.items()]
    assert load_manifest(write_manifest(tmp_path, "path,label,md5", rows)).notes == []


def test_manifest_a_wrong_checksum_fails_and_an_empty_cell_has_none(tmp_path, clips):
    a, b, _ = clips.values()
    rows = [f"audio/a.wav,rock,{hashlib.sha1(a).hexdigest()}", f"audio/b.wav,rock,{hashlib.sha1(a).hexdigest()}",
            "audio/c.wav,jazz,"]  # fmt: skip
    manifest = write_manifest(tmp_path, "path,label,sha1", rows)
    result = run(manifest)
    assert result.exit_code == 1
    assert summary(result.output).startswith("1 of 3 files match their checksums; 1 differ; 1 have none; 0 listed but missing")
    assert f"differs {tmp_path / 'audio' / 'b.wav'}: its sha1 is {hashlib.sha1(b).hexdigest()}, but line 3 of m.csv" in result.output


def test_manifest_a_missing_file_with_a_checksum_is_listed_but_missing(tmp_path, clips):
    a = clips["a.wav"]
    rows = [f"audio/a.wav,rock,{hashlib.sha256(a).hexdigest()}", f"audio/gone.wav,rock,{hashlib.sha256(a).hexdigest()}"]
    result = run(write_manifest(tmp_path, "path,label,sha256", rows))
    assert result.exit_code == 1
    assert summary(result.output).startswith("1 of 2 files match their checksums; 0 differ; 0 have none; 1 listed but missing")
    assert f"missing {tmp_path / 'audio' / 'gone.wav'}: listed on line 3 of m.csv, but no such file" in result.output


def test_manifest_a_cell_that_is_no_digest_is_a_clear_error(tmp_path, clips):
    manifest = write_manifest(tmp_path, "path,label,sha256", ["audio/a.wav,rock,abc123"])
    result = run(manifest)
    assert result.exit_code == 2
    assert result.output == "error: line 2 of m.csv: sha256 cell 'abc123' is not a sha256 checksum (64 hex digits)\n"


def test_manifest_without_a_checksum_column_has_nothing_to_verify(tmp_path, clips):
    manifest = write_manifest(tmp_path, "path,label", ["audio/a.wav,rock"])
    result = run(manifest)
    assert result.exit_code == 0
    assert "declares no checksum" in result.output and "nothing to verify against" in result.output
    assert run(manifest, "--write").exit_code == 2


# -- folders ------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "music"
    for label, freq in (("low", 200.0), ("high", 2000.0)):
        (root / label).mkdir(parents=True)
        sf.write(root / label / f"{label}.wav", tone(0.2, freq=freq), 22050)
    (root / "low" / "cover.jpg").write_bytes(b"not audio")  # ignored: no track, not in SHA256SUMS
    return root


def test_folder_write_then_verify_then_corrupt(folder):
    result = run(folder)
    assert result.exit_code == 0
    assert "nothing to verify against" in result.output and "--write" in result.output

    result = run(folder, "--write")
    assert result.exit_code == 0, result.output
    assert "sha256 of 2 files" in result.output and str(folder / "SHA256SUMS") in result.output
    written = (folder / "SHA256SUMS").read_text()
    digest = hashlib.sha256((folder / "high" / "high.wav").read_bytes()).hexdigest()
    assert written.splitlines() == [f"{digest}  high/high.wav", written.splitlines()[1]]
    if shutil.which("sha256sum"):  # the format sha256sum reads
        assert subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder).returncode == 0

    result = run(folder)
    assert result.exit_code == 0, result.output
    assert summary(result.output).startswith("2 of 2 files match their checksums; 0 differ; 0 have none; 0 listed but missing")

    clip = folder / "low" / "low.wav"
    data = bytearray(clip.read_bytes())
    data[-10] ^= 0xFF
    clip.write_bytes(bytes(data))
    result = run(folder)
    assert result.exit_code == 1
    assert f"differs {clip}: its sha256 is" in result.output

    result = run(folder, "--write")  # never over checksums that vouch for the files
    assert result.exit_code == 2 and "has checksums already" in result.output


def test_folder_md5sums_and_sha1sums_with_other_formats(folder):
    high, low = (folder / "high" / "high.wav").read_bytes(), (folder / "low" / "low.wav").read_bytes()
    (folder / "MD5SUMS").write_text(f"# made by hand\n\n{hashlib.md5(high).hexdigest()} *./high/high.wav\r\n")
    (folder / "sha1sums.txt").write_text(f"SHA1 (low/low.wav) = {hashlib.sha1(low).hexdigest().upper()}\n")
    report = verify(folder)
    assert report.ok and report.n_matched == 2
    assert report.against == (str(folder / "sha1sums.txt"), str(folder / "MD5SUMS"))


def test_folder_file_listed_but_missing(folder):
    write_checksums(folder)
    (folder / "high" / "high.wav").unlink()
    result = run(folder)
    assert result.exit_code == 1
    assert summary(result.output).startswith("1 of 1 files match their checksums; 0 differ; 0 have none; 1 listed but missing")


def test_write_checksums_is_for_folders_only(tmp_path, folder):
    with pytest.raises(ParameterError, match="for a folder of label folders only"):
        write_checksums("synthetic")
    with pytest.raises(DataError, match="no such folder or file"):
        write_checksums(tmp_path / "nowhere.csv")
    written = write_checksums(folder)
    assert written.path == folder / "SHA256SUMS" and written.n_files == 2


def test_read_checksum_file_formats_and_escapes(tmp_path):
    sums = tmp_path / "SHA256SUMS"
    digest = "ab" * 32
    sums.write_bytes(f"{digest}  plain.wav\n\\{digest}  two\\nlines\\\\.wav\n{'cd' * 16}  a b.wav\n".encode())
    entries = read_checksum_file(sums)
    assert sorted(entries) == ["a b.wav", "plain.wav", "two\nlines\\.wav"]
    assert entries["a b.wav"][0].algorithm == "md5" and entries["plain.wav"][0].where == "line 1 of SHA256SUMS"
    sums.write_text(f"{'ab' * 20}0  odd.wav\n")  # 41 digits: no algorithm
    with pytest.raises(DataError, match=r"SHA256SUMS, line 1: not a checksum line"):
        read_checksum_file(sums)
    sums.write_text(f"MD5 (x.wav) = {'ab' * 20}\n")  # a tag that is not the digest's length
    with pytest.raises(DataError, match=r"line 1: not a checksum line"):
        read_checksum_file(sums)


# -- the synthetic corpus -------------------------------------------------------------------


def test_synthetic_corpus_is_checked_against_its_checksums_json(tmp_path, monkeypatch):
    monkeypatch.setenv("GENRE_DATA_HOME", str(tmp_path))
    make = synthetic.make_synthetic_corpus
    # A small corpus (1 clip of 1 s per genre) instead of the default one, to keep the test fast.
    monkeypatch.setattr(synthetic, "make_synthetic_corpus", lambda root: make(root, n_per_genre=1, seconds=1.0))
    result = run("synthetic")
    assert result.exit_code == 0, result.output
    n = len(synthetic.GENRES)
    assert summary(result.output).startswith(f"{n} of {n} files match their checksums; 0 differ; 0 have none")
    assert "generated again" not in result.output

    clip = synthetic.default_corpus_root() / f"{synthetic.GENRES[0]}/{synthetic.GENRES[0]}.00000.wav"
    data = bytearray(clip.read_bytes())
    data[-100] ^= 0xFF
    clip.write_bytes(bytes(data))
    result = run("synthetic")  # its own check finds the damage; the listing generates it again
    assert result.exit_code == 0, result.output
    assert "did not match its checksums.json" in result.output and "generated again" in result.output
    assert summary(result.output).startswith(f"{n} of {n} files match")


def summed_then_changed(root: Path, *, n_files: int, n_changed: int) -> Path:
    """``root/noise/NN.wav``: ``n_files`` distinct small files summed in SHA256SUMS, the first ``n_changed`` changed since."""
    (root / "noise").mkdir(parents=True)
    for i in range(n_files):
        (root / "noise" / f"{i:02d}.wav").write_bytes(b"RIFF" + bytes([i]) * 100)
    write_checksums(root)
    for i in range(n_changed):
        (root / "noise" / f"{i:02d}.wav").write_bytes(b"RIFF" + bytes([i]) * 99 + b"!")
    return root


def test_many_differing_files_are_shown_first_then_counted(tmp_path):
    root = summed_then_changed(tmp_path / "many", n_files=21, n_changed=21)
    result = run(root)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert summary(result.output).startswith("0 of 21 files match their checksums; 21 differ")
    assert sum(line.startswith("differs ") for line in lines) == 10
    assert "... and 11 more differ (genre check --output FILE lists them all)" in lines


# -- rough edges: pipes, files left out, the full list, odd checksum files, emptied folders --


@pytest.fixture
def no_hang():
    """Fail a test that would block (a pipe opened for reading waits for a writer) instead of hanging."""
    signal = pytest.importorskip("signal")
    if not hasattr(signal, "SIGALRM"):
        pytest.skip("no SIGALRM")

    def stop(*_):
        raise TimeoutError("blocked for 10 s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no named pipes")
def test_a_named_pipe_is_refused_never_read(folder, no_hang):
    import os

    from genre.atomic import file_digests

    pipe = folder / "low" / "pipe.wav"
    os.mkfifo(pipe)
    with pytest.raises(OSError, match="not a regular file: a named pipe"):
        file_digests(pipe, ["sha256"])
    with pytest.raises(OSError, match="not a regular file: a folder"):
        file_digests(folder, ["sha256"])

    written = write_checksums(folder)  # the pipe has no bytes to sum: left out, and said
    assert written.n_files == 2 and "pipe.wav" not in (folder / "SHA256SUMS").read_text()
    assert any("1 track is no regular file" in n and f"{pipe} (a named pipe)" in n for n in written.notes)

    with open(folder / "SHA256SUMS", "a") as handle:
        handle.write(f"{'0' * 64}  low/pipe.wav\n")
    report = verify(folder)
    assert report.differ == [(str(pipe), "not a regular file: a named pipe")] and report.n_matched == 2
    result = run(folder)
    assert result.exit_code == 1 and f"differs {pipe}: not a regular file: a named pipe" in result.output


def test_files_the_listing_left_out_are_said_by_write_and_check(folder):
    import os

    (folder / "low" / ".hidden.wav").write_bytes((folder / "low" / "low.wav").read_bytes() + b"!")
    os.symlink(folder / "nowhere.wav", folder / "high" / "broken.wav")
    written = write_checksums(folder)
    assert written.n_files == 2
    note = next(n for n in written.notes if "left out while listing" in n)
    assert note.startswith(f"2 files left out while listing folder {folder} were not written to SHA256SUMS: ")
    assert f"{folder / 'high' / 'broken.wav'} (broken link to" in note and ".hidden.wav (" in note
    result = run(folder, "--write")  # once written, never again
    assert result.exit_code == 2

    report = verify(folder)
    assert report.ok and [path for path, _ in report.left_out] == sorted(
        [str(folder / "high" / "broken.wav"), str(folder / "low" / ".hidden.wav")]
    )
    result = run(folder)
    assert result.exit_code == 0
    assert f"note: 2 files left out while listing folder {folder} were not checked: " in result.output


def test_left_out_copies_are_noted_once_not_as_files_that_are_no_tracks(folder):
    shutil.copy(folder / "low" / "low.wav", folder / "high" / "copy.wav")  # one sound, two labels: both left out
    (folder / "SHA256SUMS").write_text(
        "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(folder).as_posix()}\n"
                for p in sorted(folder.glob("*/*.wav")))
    )  # fmt: skip
    report = verify(folder)
    assert report.n_tracks == 1 and report.ok
    assert not any("not listed as" in n for n in report.notes)
    assert any(n.startswith("2 files left out while listing") and "contradictory labels" in n for n in report.notes)


def test_output_lists_every_file_with_a_problem(tmp_path, folder):
    write_checksums(folder)
    sf.write(folder / "high" / "new.wav", tone(0.2, freq=900.0), 22050)  # no checksum
    clip = folder / "low" / "low.wav"
    clip.write_bytes(clip.read_bytes() + b"!")
    listing = tmp_path / "problems.csv"
    result = run(folder, "--output", listing)
    assert result.exit_code == 1, result.output
    assert summary(result.output).startswith("1 of 3 files match their checksums; 1 differ; 1 have none")
    assert f"note: 1 file has no checksum in {folder / 'SHA256SUMS'}: {folder / 'high' / 'new.wav'}" in result.output
    assert f"2 files listed in {listing} (path,problem,detail)" in result.output
    import csv

    with open(listing, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["path", "problem", "detail"] and len(rows) == 3
    assert rows[1][:2] == [str(clip), "differs"] and rows[1][2].startswith("its sha256 is ")
    assert rows[2] == [str(folder / "high" / "new.wav"), "no checksum", f"no checksum for it in {folder / 'SHA256SUMS'}"]

    # Only an earlier list is replaced, never a checksum file or a manifest mistyped for it.
    result = run(folder, "-o", folder / "SHA256SUMS")
    assert result.exit_code == 2 and "exists and is not a list of genre check" in result.output
    assert run(folder, "--write", "-o", listing).exit_code == 2


def test_output_is_named_when_more_files_differ_than_are_shown(tmp_path):
    root = summed_then_changed(tmp_path / "many", n_files=25, n_changed=21)
    for i in range(21, 25):
        (root / "noise" / f"{i:02d}.wav").unlink()
        (root / "noise" / f"{i:02d}.mp3").write_bytes(b"not in SHA256SUMS" + bytes([i]))  # no checksum
    listing = tmp_path / "all.csv"
    result = run(root, "-o", listing)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"... and 11 more differ (all listed in {listing})" in lines
    assert f"4 files have no checksum in {root / 'SHA256SUMS'}: " in result.output
    assert f"and 1 more (all listed in {listing})" in result.output
    problems = [line.split(",")[1] for line in listing.read_text().splitlines()[1:]]
    assert problems == ["differs"] * 21 + ["missing"] * 4 + ["no checksum"] * 4


def test_checksum_files_with_a_bom_trailing_spaces_and_crlf(folder):
    high, low = (folder / "high" / "high.wav").read_bytes(), (folder / "low" / "low.wav").read_bytes()
    (folder / "SHA256SUMS").write_bytes(
        b"\xef\xbb\xbf" + f"{hashlib.sha256(high).hexdigest()}  high/high.wav  \r\n".encode()
        + f"SHA256 (low/low.wav) = {hashlib.sha256(low).hexdigest()} \t\r\n".encode()
    )  # fmt: skip
    report = verify(folder)
    assert report.ok and report.n_matched == 2 and not report.missing, report
    assert sorted(read_checksum_file(folder / "SHA256SUMS")) == ["high/high.wav  ", "low/low.wav"]


def test_checksum_paths_with_backslashes_or_decomposed_names_match(tmp_path):
    import unicodedata

    root = tmp_path / "music"
    name = unicodedata.normalize("NFC", "café")
    for i, label in enumerate((name, "rock")):
        (root / label).mkdir(parents=True)
        sf.write(root / label / f"{label}.wav", tone(0.2, freq=300.0 + 100 * i), 22050)
    write_checksums(root)
    written = (root / "SHA256SUMS").read_text(encoding="utf-8")
    (root / "SHA256SUMS").write_text(unicodedata.normalize("NFD", written).replace("/", "\\"), encoding="utf-8")
    assert unicodedata.normalize("NFD", name) in (root / "SHA256SUMS").read_text(encoding="utf-8")
    report = verify(root)
    assert report.ok and report.n_matched == 2 and not report.missing and not report.no_checksum, report


def test_an_empty_checksum_file_lists_nothing_to_verify_against(folder):
    (folder / "SHA256SUMS").write_bytes(b"")
    result = run(folder)
    assert result.exit_code == 0
    assert result.output.splitlines()[-1].startswith(
        f"{folder / 'SHA256SUMS'} is empty, it lists no checksum: nothing to verify against; genre check --write"
    )
    report = verify(folder)
    assert report.against == () and "is empty" in report.nothing_to_verify
    assert run(folder, "--write").exit_code == 0  # an empty file vouches for nothing: replaced
    assert len((folder / "SHA256SUMS").read_text().splitlines()) == 2
    (folder / "MD5SUMS").write_text("# nothing yet\n")
    report = verify(folder)
    assert report.ok and report.against == (str(folder / "SHA256SUMS"),) and report.n_matched == 2
    assert report.notes[0] == "ignored 1 non-audio file (.jpg)"  # the listing's notes first
    assert f"{folder / 'MD5SUMS'} holds only blank lines and comments, it lists no checksum" in report.notes[1]


def test_a_folder_whose_audio_is_all_gone_lists_it_as_missing(folder):
    write_checksums(folder)
    for clip in folder.glob("*/*.wav"):
        clip.unlink()
    result = run(folder)
    assert result.exit_code == 1, result.output
    assert summary(result.output).startswith("0 of 0 files match their checksums; 0 differ; 0 have none; 2 listed but missing")
    assert f"missing {folder / 'high' / 'high.wav'}: listed on line 1 of SHA256SUMS, but no such file" in result.output
    assert "holds no audio file in label folders any more" in result.output
    (folder / "SHA256SUMS").unlink()  # without checksums, an empty folder is still an error
    assert run(folder).exit_code == 2


def test_the_listings_notes_are_said_by_check(fma):
    # A track of another subset is not checked: the listing says so, as extract and benchmark do.
    (fma / "000" / "000010.mp3").write_bytes(b"medium track")
    result = run(f"fma:{fma}", "--fma-subset", "small")
    assert result.exit_code == 0, result.output
    report = verify(f"fma:{fma}", subset="small")
    assert report.notes and any("medium" in note for note in report.notes), report.notes
    assert report.notes[0] in " ".join(result.output.split()) or report.notes[0][:40] in result.output
