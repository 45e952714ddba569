"""Atomic writes and the up-front checks of output paths."""

from __future__ import annotations

import errno
import os

import pytest

from genre.atomic import atomic_open, check_output_file, check_output_folder
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
    with pytest.raises(OutputError, match="a-file is a file"):
        check_output_folder(blocker / "sub" / "deeper")
    with pytest.raises(OutputError, match="is a folder"):
        check_output_file(tmp_path)
    with pytest.raises(OutputError, match="is also an input"):
        check_output_file(blocker, inputs=[tmp_path / "other", blocker])
    with pytest.raises(OutputError, match="empty"):
        check_output_file("")
    created = check_output_file(tmp_path / "new" / "folder" / "out.csv", inputs=[blocker])
    assert created.parent.is_dir() and not created.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "new"]  # the probe file is gone


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
