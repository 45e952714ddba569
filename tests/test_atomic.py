"""Atomic writes and the up-front checks of output paths."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from genre.atomic import atomic_open, check_output_file, check_output_folder, output_path
from genre.errors import OutputError


def test_a_failed_write_leaves_the_old_file_and_says_so(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(OutputError, match=r"table.csv: cannot write \(No space left on device\)"):
        with atomic_open(target) as handle:
            handle.write("new")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # what a full disk raises
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_an_error_about_another_file_passes_through(tmp_path):
    with pytest.raises(FileNotFoundError):
        with atomic_open(tmp_path / "out.csv") as handle:
            handle.write(open(tmp_path / "absent.csv").read())
    assert not list(tmp_path.iterdir())


def test_output_checks(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_folder(blocker)
    with pytest.raises(OutputError, match="cannot be created, .*a-file is a file"):
        check_output_folder(blocker / "sub" / "deeper")
    with pytest.raises(OutputError, match="is a folder"):
        check_output_file(tmp_path)
    with pytest.raises(OutputError, match="is also an input"):
        check_output_file(blocker, inputs=[tmp_path / "other", blocker])
    with pytest.raises(OutputError, match="empty"):
        check_output_file("")
    check_output_file(tmp_path / "new" / "folder" / "out.csv", inputs=[blocker])
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]  # nothing made, the probe file is gone


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_output_name_is_refused_not_taken_for_the_current_folder(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="^the output folder name is empty"):
        check_output_folder(name)
    with pytest.raises(OutputError, match="^the output file name is empty"):
        check_output_file(name)
    with pytest.raises(OutputError, match="^--output is empty; give a file or folder name"):
        output_path(name, what="--output")
    assert output_path("out/x.csv") == Path("out/x.csv")
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_audio_that_is_not_a_regular_file_or_not_audio(tmp_path):
    from genre.errors import AudioError
    from genre.features.audio import load_audio

    pipe = tmp_path / "pipe.wav"
    os.mkfifo(pipe)
    with pytest.raises(AudioError, match="not a regular file"):
        load_audio(pipe)
    text = tmp_path / "notes.mp3"
    text.write_text("this is not an MP3 file\n" * 50)
    with pytest.raises(AudioError, match="cannot decode audio") as caught:
        load_audio(text)
    assert "does not exist" not in str(caught.value)


def test_cli_refuses_unusable_outputs_and_empty_sources_before_the_work(tmp_path):
    from typer.testing import CliRunner

    from genre.cli import app

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,label\nnone.wav,rock\n")
    runner = CliRunner()
    for args, message in (
        (["benchmark", "synthetic-absent.csv", "-o", str(blocker / "report")], "a-file is a file"),
        (["benchmark", "", "-o", str(tmp_path / "r")], "an empty path was given"),
        (["extract", "", "-o", str(tmp_path / "f.csv")], "the source is empty"),
        (["extract", str(manifest), "-o", str(manifest), "--overwrite"], "is also an input"),
    ):
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert not (tmp_path / "r").exists()
    assert manifest.read_text() == "path,label\nnone.wav,rock\n"


def test_an_output_below_a_folder_that_may_not_be_searched_is_named(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_stat = Path.stat

    def stat(self, *args, **kwargs):  # root ignores permission bits, so refuse where stat happens
        if locked in (self, *self.parents) and self != locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    with pytest.raises(OutputError, match=r"locked/out.csv: cannot reach it \(Permission denied\)"):
        check_output_file(locked / "out.csv")
    with pytest.raises(OutputError, match=r"locked/report: cannot reach it \(Permission denied\)"):
        check_output_folder(locked / "report")
