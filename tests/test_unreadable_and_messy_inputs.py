"""Unreadable audio, messy folders given to `genre predict`, extraction counts, and hints that fit the command.

Permission bits do not stop root, so most refusals are simulated where the system call
happens; the test with real permission bits skips where they cannot refuse.
"""

from __future__ import annotations

import os
import pathlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from feature_tables import table_with_bad_cells

from genre.cli import app
from genre.errors import AudioError

runner = CliRunner()



def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def symlink(target: Path, link: Path) -> None:
    try:
        os.symlink(target, link)
    except (OSError, NotImplementedError):
        pytest.skip("this file system does not support symbolic links")


def refuse_open(monkeypatch, path: Path) -> None:
    """Make opening ``path`` for reading fail as a file without read permission does."""
    real_open = os.open

    def fake_open(name, flags, *args, **kwargs):
        if os.fspath(name) == os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(name))
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)


def refuse_listing(monkeypatch, name: str) -> None:
    """Make listing any folder called ``name`` fail with 'Permission denied'."""
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == name:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.fixture(scope="module")
def model(low_high_model) -> Path:
    return low_high_model


# -- 1. unreadable audio ------------------------------------------------------------------------
def test_load_audio_says_permission_denied(write_wav, tmp_path, monkeypatch):
    from genre.features.audio import load_audio
    from genre.features.extract import extract_or_reason

    clip = write_wav(tmp_path / "clip.wav", 1.0)
    refuse_open(monkeypatch, clip)
    with pytest.raises(AudioError) as caught:
        load_audio(clip)
    assert str(caught.value) == f"{clip}: permission denied (cannot read the file)"
    # Batches skip it with that reason, without the path repeated.
    assert extract_or_reason(load_audio, str(clip)) == (None, "permission denied (cannot read the file)")


def test_load_audio_with_permission_bits_removed(write_wav, tmp_path):
    from genre.features.audio import load_audio

    clip = write_wav(tmp_path / "clip.wav", 1.0)
    clip.chmod(0)
    try:
        if os.access(clip, os.R_OK):
            pytest.skip("permission bits do not stop this user (root?) from reading the file")
        with pytest.raises(AudioError, match="permission denied \\(cannot read the file\\)"):
            load_audio(clip)
    finally:
        clip.chmod(0o644)


def test_load_audio_in_a_folder_that_cannot_be_searched(write_wav, tmp_path, monkeypatch):
    from genre.features.audio import load_audio

    clip = write_wav(tmp_path / "closed" / "clip.wav", 1.0)
    real_stat = pathlib.Path.stat

    def stat(self, *args, **kwargs):
        if self == clip:  # what stat says of a file below a folder without search permission
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "stat", stat)
    with pytest.raises(AudioError, match="permission denied \\(a folder on its path cannot be searched\\)"):
        load_audio(clip)
    # `genre predict` given that file goes on with the others.
    from genre.classifiers.prediction import expand_audio_paths

    other = write_wav(tmp_path / "other.wav", 1.0)
    assert expand_audio_paths([clip, other]) == ([other], [(str(clip), "cannot be reached (Permission denied)")])


def test_predict_skips_an_unreadable_file_and_says_why(model, write_wav, tmp_path, monkeypatch):
    good = write_wav(tmp_path / "in" / "good.wav", 2.0, freq=2200.0, seed=4)
    locked = write_wav(tmp_path / "in" / "locked.wav", 2.0, freq=180.0, seed=5)
    refuse_open(monkeypatch, locked)
    result = invoke("predict", model, tmp_path / "in", "-j", "1", "-o", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    assert f"skipped {locked}: permission denied (cannot read the file)" in result.output.splitlines()
    assert "1 predicted, 1 skipped" in result.output
    assert pd.read_csv(tmp_path / "p.csv")["path"].tolist() == [str(good)]


# -- 2. `genre predict` lists folders as the dataset readers do -------------------------------
def messy_folder(root: Path) -> Path:
    """Audio files among a hidden one, a cover, an undecodable format, a broken link, a loop and a locked sub-folder."""
    touch(root / "a.wav")
    touch(root / "album" / "b.FLAC")
    touch(root / "album" / "cover.jpg")  # known not to be audio: ignored
    touch(root / "album" / "c.wma")  # audio genre cannot decode: reported
    touch(root / "album" / ".c.wav")  # hidden audio: reported
    touch(root / "album" / ".DS_Store")  # hidden, not audio: ignored
    touch(root / "album" / "._b.FLAC")  # macOS AppleDouble: ignored
    touch(root / "locked" / "d.wav")
    symlink(root / "gone.wav", root / "album" / "e.wav")
    symlink(root, root / "album" / "loop")
    return root


def test_expand_audio_paths_reports_what_the_folder_walker_rejects(tmp_path, monkeypatch):
    from genre.classifiers.prediction import expand_audio_paths

    root = messy_folder(tmp_path / "music")
    refuse_listing(monkeypatch, "locked")
    files, unusable = expand_audio_paths([root])
    assert files == [root / "a.wav", root / "album" / "b.FLAC"]
    assert dict(unusable) == {
        str(root / "album" / ".c.wav"): "hidden file (its name starts with '.'): left out",
        str(root / "album" / "c.wma"): "unsupported format '.wma'",
        str(root / "album" / "e.wav"): f"broken link to {root / 'gone.wav'} (no such file)",
        str(root / "album" / "loop"): f"leads through a link to a folder listed already ({root}); not followed",
        str(root / "locked"): "cannot list the folder (Permission denied); its files are left out",
    }
    # The same folder given twice, or with a file of it: every file and every reason once.
    again, unusable_again = expand_audio_paths([root, root / "a.wav", root])
    assert again == files and unusable_again == unusable


def test_predict_and_dataset_readers_walk_folders_alike(tmp_path, monkeypatch):
    """One walker: what load_folder rejects below a label folder, expand_audio_paths rejects too."""
    from genre.classifiers.prediction import expand_audio_paths
    from genre.data import load_folder

    root = tmp_path / "data"
    messy_folder(root / "rock")
    touch(root / "jazz" / "x.wav")
    refuse_listing(monkeypatch, "locked")
    dataset = load_folder(root)
    files, unusable = expand_audio_paths([root])
    assert sorted(files) == sorted(Path(t.path) for t in dataset.tracks)
    assert sorted(unusable) == dataset.rejected


def test_predict_folder_problems_are_reported_and_the_batch_goes_on(model, write_wav, tmp_path, monkeypatch):
    from tests.test_data_layouts import make_non_utf8_name

    root = tmp_path / "music"
    good = write_wav(root / "album" / "song.wav", 2.0, freq=160.0, seed=7)
    touch(root / "album" / "cover.jpg")  # ignored: not a skipped file
    touch(root / "album" / "tune.wma")
    write_wav(root / "locked" / "hidden-away.wav", 2.0)
    weird = make_non_utf8_name(root / "album")
    (tmp_path / "nothing-usable").mkdir()
    touch(tmp_path / "nothing-usable" / "notes.txt")
    refuse_listing(monkeypatch, "locked")
    output = tmp_path / "p.csv"
    result = invoke("predict", model, root, tmp_path / "nothing-usable", "-j", "1", "-o", output)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert f"skipped {root / 'locked'}: cannot list the folder (Permission denied); its files are left out" in lines
    assert f"skipped {root / 'album' / 'tune.wma'}: unsupported format '.wma'" in lines
    assert "cover.jpg" not in result.output
    shown = str(root / "album" / "caf\\xe9.wav")
    assert f"skipped {shown}: the path is not valid UTF-8 text; rename the file or its folder" in lines
    assert f"skipped {tmp_path / 'nothing-usable'}: the folder holds no audio files" in lines
    assert "1 predicted, 4 skipped" in result.output
    assert pd.read_csv(output)["path"].tolist() == [str(good)]
    assert weird.exists()  # left where it was, not renamed


def test_predict_a_folder_that_cannot_be_listed(model, write_wav, tmp_path, monkeypatch):
    clip = write_wav(tmp_path / "clip.wav", 2.0, freq=2500.0, seed=8)
    touch(tmp_path / "locked" / "x.wav")
    refuse_listing(monkeypatch, "locked")
    result = invoke("predict", model, tmp_path / "locked", clip, "-j", "1")
    assert result.exit_code == 0, result.output
    assert f"skipped {tmp_path / 'locked'}: cannot list the folder (Permission denied)" in result.output
    assert "1 predicted, 1 skipped" in result.output


# -- 3. `genre extract`'s count is of files ------------------------------------------------------
def test_extract_counts_files_and_reports_rejected_folders_apart(write_wav, tmp_path):
    root = tmp_path / "music"
    write_wav(root / "rock" / "a.wav", 1.5, freq=300.0)
    write_wav(root / "pop" / "b.wav", 1.5, freq=900.0)
    touch(root / "pop" / "cover.jpg")  # known not to be audio: ignored, not one of the files
    touch(root / "pop" / "tune.wma")  # a rejected file: one of the files
    (root / "jazz").mkdir()  # a label folder without audio: not a file
    symlink(root / "rock", root / "rock" / "again")  # a loop: not a file either
    out = tmp_path / "features.csv"
    result = invoke("extract", root, "-o", out, "-j", "1", "--segment-seconds", "1")
    assert result.exit_code == 0, result.output
    summary = " ".join(result.output.split())
    assert "2 of 3 files extracted (0 from an earlier run), 2 rows, 1 skipped, 2 folders left out" in summary
    lines = result.output.splitlines()
    assert f"left out folder {root / 'jazz'}: label folder without audio files: no track of 'jazz'" in lines
    assert any(line.startswith(f"left out folder {root / 'rock' / 'again'}: leads through a link") for line in lines)
    assert f"skipped {root / 'pop' / 'tune.wma'}: unsupported format '.wma'" in lines
    assert "cover.jpg" not in result.output
    assert "skipped files and left-out folders are listed in" in summary


# -- 4. hints name options the command has -------------------------------------------------------
def bad_table(path: Path, value) -> Path:
    """An external table of two classes whose column ``b`` holds ``value`` in one row."""
    return table_with_bad_cells(path, {3: value})


@pytest.mark.parametrize("value", [np.nan, np.inf, 1e300, "n/a"], ids=["nan", "inf", "huge", "text"])
def test_table_hint_suggests_drop_only_where_the_caller_has_it(tmp_path, value):
    from genre.errors import DataError
    from genre.features.table import load_feature_table

    table = bad_table(tmp_path / "t.csv", value)
    with pytest.raises(DataError, match="fix the table,? or leave the column out with --drop") as caught:
        load_feature_table(table)
    assert "'b'" in str(caught.value) or " b" in str(caught.value)
    with pytest.raises(DataError) as caught:
        load_feature_table(table, labelled=False, can_drop=False)
    assert str(caught.value).endswith("; fix the table") and "--drop" not in str(caught.value)


def test_predict_on_a_table_says_to_fix_it_and_train_says_drop(tmp_path):
    good = bad_table(tmp_path / "good.csv", 0.5)
    model = tmp_path / "m.genre"
    assert invoke("train", good, "-m", "logreg", "-o", model).exit_code == 0
    # A value too large for float32 is refused whole (an infinite one costs only its track now).
    broken = bad_table(tmp_path / "broken.csv", 1e300)
    result = invoke("predict", model, broken)
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and result.output.rstrip().endswith("; fix the table")
    assert "--drop" not in result.output and "Traceback" not in result.output
    result = invoke("train", broken, "-m", "logreg", "-o", tmp_path / "m2.genre")
    assert result.exit_code == 2 and "leave the column out with --drop" in result.output


def test_predict_on_a_table_reads_only_the_model_columns(tmp_path):
    """A column left out of training with --drop may hold anything when predicting."""
    model = tmp_path / "m.genre"
    broken = bad_table(tmp_path / "broken.csv", "n/a")
    result = invoke("train", broken, "-m", "logreg", "-o", model, "--drop", "b")
    assert result.exit_code == 0, result.output
    result = invoke("predict", model, broken, "-o", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "p.csv")) == 12
