"""Dataset reading against messy real-world folders and manifests (genre.data.folder, genre.data.manifest).

Listing reads no audio, so most trees here hold empty files; the end-to-end tests write
real (short) audio.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from genre.cli import app
from genre.data import load_dataset, load_folder, load_manifest
from genre.errors import DataError, ParameterError


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def tracks_of(dataset) -> dict[str, str]:
    return {t.track: t.label for t in dataset.tracks}


def reasons(dataset, root: Path | None = None) -> dict[str, str]:
    """``rejected`` as {path relative to root: reason}."""
    return {(os.path.relpath(p, root) if root else p): r for p, r in dataset.rejected}


def symlink(target: Path, link: Path) -> None:
    try:
        os.symlink(target, link)
    except (OSError, NotImplementedError):
        pytest.skip("this file system does not support symbolic links")


# -- folder layout --------------------------------------------------------------------------
def test_extensions_in_any_case_hidden_files_and_appledouble(tmp_path):
    touch(tmp_path / "rock" / "a.WAV")
    touch(tmp_path / "rock" / "b.Mp3")
    touch(tmp_path / "rock" / ".DS_Store")
    touch(tmp_path / "rock" / "._a.WAV")  # macOS AppleDouble beside a real file: not audio
    touch(tmp_path / ".git" / "objects" / "x.wav")  # a hidden folder is not a label
    touch(tmp_path / "rock" / ".secret.wav")  # a hidden audio file is not extracted, but is said
    dataset = load_folder(tmp_path)
    assert tracks_of(dataset) == {"rock/a": "rock", "rock/b": "rock"}
    assert reasons(dataset, tmp_path) == {"rock/.secret.wav": "hidden file (its name starts with '.'): left out"}


def test_files_differing_only_by_extension_get_distinct_track_ids(tmp_path):
    for name in ("a.wav", "a.mp3", "b.wav"):
        touch(tmp_path / "rock" / name)
    dataset = load_folder(tmp_path)
    ids = [t.track for t in dataset.tracks]
    assert ids == ["rock/a.mp3", "rock/a.wav", "rock/b"]


def test_label_folders_differing_only_in_case_are_refused(tmp_path):
    touch(tmp_path / "rock" / "a.wav")
    touch(tmp_path / "Rock" / "b.wav")
    if len(os.listdir(tmp_path)) == 1:
        pytest.skip("case-insensitive file system")
    with pytest.raises(DataError, match=r"differ only in letter case.*'Rock' \(.*Rock\) and 'rock' \(.*rock\)"):
        load_folder(tmp_path)


def test_label_folder_without_audio_is_reported(tmp_path):
    touch(tmp_path / "rock" / "a.wav")
    (tmp_path / "jazz").mkdir()
    touch(tmp_path / "jazz" / ".DS_Store")
    touch(tmp_path / "pop" / "tune.wma")  # reported as a file already: no second line
    touch(tmp_path / "blues" / "cover.jpg")  # ignored, not audio: the folder is still reported
    dataset = load_folder(tmp_path)
    assert reasons(dataset, tmp_path) == {
        "blues": "label folder without audio files: no track of 'blues'",
        "jazz": "label folder without audio files: no track of 'jazz'",
        os.path.join("pop", "tune.wma"): "unsupported format '.wma'",
    }


def test_linked_folders_are_followed_once_and_loops_are_reported(tmp_path):
    root, elsewhere = tmp_path / "root", tmp_path / "disk2"
    touch(elsewhere / "rock" / "sub" / "a.wav")
    touch(root / "pop" / "b.wav")
    root.mkdir(exist_ok=True)
    symlink(elsewhere / "rock", root / "rock")  # a label folder on another disk
    symlink(root / "pop", root / "pop" / "again")  # a loop
    symlink(root / "pop", root / "popular")  # a second name for a folder of the tree
    symlink(root, elsewhere / "rock" / "back")  # a loop through the other disk
    dataset = load_folder(root)
    assert tracks_of(dataset) == {"pop/b": "pop", "rock/sub/a": "rock"}
    got = reasons(dataset, root)
    assert set(got) == {os.path.join("pop", "again"), "popular", os.path.join("rock", "back")}
    assert got["popular"] == f"leads through a link to a folder listed already ({root / 'pop'}); not followed"


def test_broken_link_is_reported_as_one(tmp_path):
    touch(tmp_path / "rock" / "a.wav")
    symlink(tmp_path / "gone.wav", tmp_path / "rock" / "b.wav")
    dataset = load_folder(tmp_path)
    assert tracks_of(dataset) == {"rock/a": "rock"}
    assert reasons(dataset, tmp_path) == {
        os.path.join("rock", "b.wav"): f"broken link to {tmp_path / 'gone.wav'} (no such file)"
    }


def test_a_file_linked_under_another_label_is_a_contradiction(tmp_path):
    touch(tmp_path / "rock" / "a.wav")
    touch(tmp_path / "rock" / "b.wav")
    touch(tmp_path / "jazz" / "c.wav")
    symlink(tmp_path / "rock" / "a.wav", tmp_path / "jazz" / "a.wav")
    symlink(tmp_path / "rock" / "b.wav", tmp_path / "rock" / "b-again.wav")  # same label: one copy is kept
    dataset = load_folder(tmp_path)
    assert tracks_of(dataset) == {"jazz/c": "jazz", "rock/b": "rock"}
    got = reasons(dataset, tmp_path)
    assert set(got) == {os.path.join("jazz", "a.wav"), os.path.join("rock", "a.wav"), os.path.join("rock", "b-again.wav")}
    # The file itself is kept rather than the link listed before it.
    assert got[os.path.join("rock", "b-again.wav")] == "rock/b-again: the same audio file as rock/b, which is kept"
    assert got[os.path.join("rock", "a.wav")] == (
        "labelled 'rock' (rock/a), but the same audio file is also labelled 'jazz' (jazz/a): contradictory labels, left out"
    )


def test_unlistable_folders_are_reported_not_skipped(tmp_path, monkeypatch):
    # Permission bits do not stop root, so the refusal is simulated where the listing happens.
    touch(tmp_path / "rock" / "a.wav")
    touch(tmp_path / "rock" / "locked" / "b.wav")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    dataset = load_folder(tmp_path)
    assert tracks_of(dataset) == {"rock/a": "rock"}
    assert reasons(dataset, tmp_path) == {
        os.path.join("rock", "locked"): "cannot list the folder (Permission denied); its files are left out"
    }
    monkeypatch.setattr(os, "scandir", lambda path=".": (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    with pytest.raises(DataError, match="cannot list the folder"):
        load_folder(tmp_path)


def make_non_utf8_name(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = os.fsencode(folder) + b"/caf\xe9.wav"  # Latin-1, as old CD rippers wrote it
    try:
        with open(name, "wb"):
            pass
    except (OSError, ValueError):
        pytest.skip("this file system refuses file names that are not UTF-8")
    return Path(os.fsdecode(name))


def test_non_utf8_file_name_is_reported_with_a_printable_path(tmp_path):
    touch(tmp_path / "rock" / "a.wav")
    make_non_utf8_name(tmp_path / "rock")
    dataset = load_folder(tmp_path)
    assert tracks_of(dataset) == {"rock/a": "rock"}
    assert dataset.rejected == [
        (str(tmp_path / "rock" / "caf\\xe9.wav"), "the path is not valid UTF-8 text; rename the file or its folder")
    ]


def test_messy_folder_end_to_end_one_line_per_problem(tmp_path, write_wav):
    root = tmp_path / "music"
    write_wav(root / "rock" / "song one, live.WAV", 2.0)
    write_wav(root / "jazz" / 'say "hi"\nnow.wav', 2.0, freq=300.0)
    make_non_utf8_name(root / "jazz")
    touch(root / "loose.wav")
    symlink(root / "nowhere.wav", root / "rock" / "gone.wav")
    out = tmp_path / "features.csv"
    result = CliRunner().invoke(app, ["extract", str(root), "-o", str(out), "-j", "1", "--segment-seconds", "1"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    skipped = [line for line in result.output.splitlines() if line.startswith(f"skipped {root}")]
    assert len(skipped) == 3, result.output
    assert "caf\\xe9.wav: the path is not valid UTF-8" in result.output
    assert "2 of 5 files extracted" in result.output
    assert out.is_file() and out.with_suffix(".skipped.csv").read_text(encoding="utf-8").count("\n") == 4


# -- manifest -------------------------------------------------------------------------------
@pytest.fixture
def audio(tmp_path) -> Path:
    """``tmp_path/audio/{a,b,c}.wav`` (empty: listing reads no audio)."""
    for name in "abc":
        touch(tmp_path / "audio" / f"{name}.wav")
    return tmp_path / "audio"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_relative_paths_are_resolved_against_the_manifests_folder(tmp_path, audio, monkeypatch):
    manifest = write(tmp_path / "list.csv", "path,label\naudio/a.wav,rock\n")
    monkeypatch.chdir(audio)  # not the manifest's folder
    (track,) = load_manifest(manifest).tracks
    assert Path(track.path) == tmp_path / "audio" / "a.wav" and track.track == "audio/a"


@pytest.mark.parametrize(
    "name, text",
    [
        ("semicolon.csv", "path;label;group\naudio/a.wav;rock;x\n"),
        ("tabs.tsv", "path\tlabel\tgroup\naudio/a.wav\trock\tx\n"),
        ("tabs.txt", "path\tlabel\tgroup\r\naudio/a.wav\trock\tx\r\n"),
        ("upper.csv", "\ufeffPath,Label,GROUP,comment\naudio/a.wav,rock,x,whatever\n"),
        ("reordered.csv", "group,label,path\nx,rock,audio/a.wav\n"),
    ],
)
def test_separators_and_column_names(tmp_path, audio, name, text):
    dataset = load_dataset(write(tmp_path / name, text))
    assert [(t.track, t.label, t.group) for t in dataset.tracks] == [("audio/a", "rock", "x")]


def test_utf16_manifest_as_excel_saves_unicode_text(tmp_path, audio):
    manifest = tmp_path / "excel.txt"
    manifest.write_bytes(codecs.BOM_UTF16_LE + "path\tlabel\r\naudio/a.wav\tmétal\r\n".encode("utf-16-le"))
    assert [t.label for t in load_dataset(manifest).tracks] == ["métal"]
    latin1 = write(tmp_path / "latin1.csv", "path,label\naudio/a.wav,métal\n", encoding="latin-1")
    with pytest.raises(DataError, match=r"line 2: cannot read manifest: not UTF-8 text .*save it as UTF-8"):
        load_manifest(latin1)


def test_bad_rows_are_rejected_and_the_rest_is_read(tmp_path, audio):
    manifest = write(
        tmp_path / "list.csv",
        "path,label\n"
        "audio/a.wav,rock\n"
        "audio/b, live.wav,rock\n"  # an unquoted comma: would read as path "audio/b", label "live.wav"
        ",jazz\n"
        "audio/c.wav,\n"  # no label, where the others have one
        "audio/c.wav\n"
        "audio/\x00.wav,rock\n"
        ",,\n"  # a blank spreadsheet row: skipped without a word
        ",\n",
    )
    dataset = load_manifest(manifest)
    assert [t.track for t in dataset.tracks] == ["audio/a"]
    assert [r for _, r in dataset.rejected] == [
        "line 3 of list.csv: 3 cells, but the first line names 2 columns (a path with a comma must be in double quotes)",
        "line 4 of list.csv: empty path cell",
        "line 7 of list.csv: the path holds a NUL character",
        "line 5 of list.csv: no label (other rows have one)",
        "line 6 of list.csv: no label (other rows have one)",
    ]
    assert [p for p, _ in dataset.rejected][:2] == [str(tmp_path / "audio" / "b"), str(manifest)]


def test_a_manifest_without_labels_is_read_unlabelled(tmp_path, audio):
    dataset = load_manifest(write(tmp_path / "list.csv", "path,label\naudio/a.wav,\naudio/b.wav,\n"))
    assert [t.label for t in dataset.tracks] == ["", ""] and not dataset.rejected


def test_windows_paths(tmp_path, audio):
    manifest = write(tmp_path / "list.csv", "path,label\r\naudio\\a.wav,rock\r\n")
    (track,) = load_manifest(manifest).tracks
    assert Path(track.path) == tmp_path / "audio" / "a.wav" and track.track == "audio/a"


def test_a_repeated_row_is_kept_once_and_one_with_another_label_rejected(tmp_path, audio):
    manifest = write(
        tmp_path / "list.csv",
        "path,label\naudio/a.wav,rock\naudio/a.wav,rock\naudio/b.wav,rock\n./audio/b.wav,jazz\naudio/c.wav,jazz\n",
    )
    dataset = load_manifest(manifest)
    assert [(t.track, t.label) for t in dataset.tracks] == [("audio/a", "rock"), ("audio/c", "jazz")]
    assert dataset.rejected == [
        (str(tmp_path / "audio" / "a.wav"), "line 3 of list.csv: the same audio file as line 2 of list.csv, which is kept"),
        (str(tmp_path / "audio" / "b.wav"), "labelled 'rock' (line 4 of list.csv), but the same audio file is also labelled "
         "'jazz' (line 5 of list.csv): contradictory labels, left out"),
        (str(tmp_path / "audio" / "b.wav"), "labelled 'jazz' (line 5 of list.csv), but the same audio file is also labelled "
         "'rock' (line 4 of list.csv): contradictory labels, left out"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text, message",
    [
        ("path,label\naudio/a.wav,Rock\naudio/b.wav,rock \n", r"'Rock' \(line 2\) and 'rock' \(line 3\)"),
        ("path,label\naudio/a.wav,Caf\u00e9\naudio/b.wav,Cafe\u0301\n", "differ only in letter case or Unicode form"),
        ("path,label,path\naudio/a.wav,rock,audio/b.wav\n", "column.s. path named more than once"),
        ("file,genre\naudio/a.wav,rock\n", r"lacks column.s. path, label \(found: file, genre"),
        ("path,label\n,,\n", "the manifest lists no files"),
        ("path,label\naudio/a.wav,rock,x\n", "no usable row in the manifest; e.g. .*3 cells"),
    ],
)
def test_manifest_problems_that_stop_the_run(tmp_path, audio, text, message):
    with pytest.raises(DataError, match=message):
        load_manifest(write(tmp_path / "list.csv", text))


def test_fma_scheme_without_a_folder(tmp_path):
    with pytest.raises(ParameterError, match="no folder after 'fma:'"):
        load_dataset("fma:")


def test_a_folder_named_synthetic_here_is_not_shadowed_by_the_demo_corpus(tmp_path, monkeypatch):
    from genre.data import load_dataset
    from genre.errors import ParameterError

    touch(tmp_path / "synthetic" / "rock" / "a.wav")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError, match=r"names both the built-in demo corpus and \./synthetic"):
        load_dataset("synthetic")
    assert [t.label for t in load_dataset("./synthetic").tracks] == ["rock"]
    assert [t.label for t in load_dataset(Path("synthetic")).tracks] == ["rock"]
