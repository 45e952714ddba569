"""Folder-per-label layout (GTZAN's): ``ROOT/<label>/**/<file>``."""

from __future__ import annotations

import os
from pathlib import Path

from genre.data.tracks import Dataset, Track
from genre.errors import DataError
from genre.features.audio import is_audio_path


def load_folder(root: str | os.PathLike) -> Dataset:
    """List the audio files of a folder-per-label tree.

    Each first-level sub-folder is a label; audio files at any depth below it belong to
    it. Hidden files are ignored; files of other extensions are reported in
    ``Dataset.rejected``. Track ids are the relative paths without extension.

    Raises
    ------
    DataError
        ``root`` is not a folder, or holds no audio in label sub-folders.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    tracks: list[Track] = []
    rejected: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = Path(dirpath).relative_to(root)
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            if not rel_dir.parts:
                if is_audio_path(path):
                    rejected.append((str(path), "audio file outside a label folder (ROOT/<label>/<file>)"))
                continue
            if not is_audio_path(path):
                rejected.append((str(path), f"unsupported format {path.suffix or '(no extension)'!r}"))
                continue
            rel = path.relative_to(root)
            tracks.append(Track(path=str(path), track=rel.with_suffix("").as_posix(), label=rel.parts[0]))
    if not tracks:
        raise DataError(f"{root}: no audio files found in label folders (expected ROOT/<label>/<file>.wav)")
    tracks.sort(key=lambda t: t.track)
    return Dataset(tracks=tracks, rejected=rejected, name=f"folder {root}")
