"""A manifest path with a detour (``sub/../aud/b.wav``) is read, named and identified as the file it names."""

from __future__ import annotations

import os

import numpy as np
import soundfile as sf

from genre.data.manifest import load_manifest


def _tone(path, seconds=1.0, sr=22050, hz=440.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, 0.3 * np.sin(2 * np.pi * hz * t), sr)


def test_a_detour_through_a_folder_is_left_out_of_the_path_and_the_track_id(tmp_path):
    _tone(tmp_path / "aud" / "b.wav")
    (tmp_path / "sub").mkdir()
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label\nsub/../aud/b.wav,rock\n")
    [track] = load_manifest(manifest).tracks
    assert track.track == "aud/b"
    assert track.path == str(tmp_path / "aud" / "b.wav")


def test_the_same_file_written_with_and_without_a_detour_is_one_track(tmp_path):
    _tone(tmp_path / "aud" / "b.wav")
    _tone(tmp_path / "aud" / "c.wav", hz=660.0)
    (tmp_path / "sub").mkdir()
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label\naud/b.wav,rock\nsub/../aud/b.wav,rock\naud/c.wav,rock\n")
    dataset = load_manifest(manifest)
    assert [t.track for t in dataset.tracks] == ["aud/b", "aud/c"]
    [(path, reason)] = dataset.rejected
    assert path == str(tmp_path / "aud" / "b.wav") and "line 3 of m.csv" in reason and "#2" not in reason


def test_a_detour_through_a_link_is_kept_as_written(tmp_path):
    # elsewhere/inner/../b.wav is elsewhere/b.wav; link/../b.wav, read lexically, would be tmp/b.wav.
    _tone(tmp_path / "elsewhere" / "b.wav")
    (tmp_path / "elsewhere" / "inner").mkdir()
    os.symlink(tmp_path / "elsewhere" / "inner", tmp_path / "link")
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label\nlink/../b.wav,rock\n")
    [track] = load_manifest(manifest).tracks
    assert track.path == str(tmp_path / "link" / ".." / "b.wav")
    assert track.track == "link/../b"
    assert os.path.exists(track.path)
