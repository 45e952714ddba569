"""Dataset layouts: each module turns one on-disk layout into a :class:`Dataset`.

- :mod:`genre.data.folder`: ``ROOT/<label>/**/<file>`` (GTZAN's layout);
- :mod:`genre.data.manifest`: a CSV ``path,label[,group]``;
- :mod:`genre.data.synthetic`: the built-in, generated smoke-test corpus.
"""

from __future__ import annotations

import os
from pathlib import Path

from genre.data.folder import load_folder
from genre.data.manifest import load_manifest
from genre.data.tracks import Dataset, Track
from genre.errors import DataError

#: Name of the built-in default source.
SYNTHETIC = "synthetic"


def load_dataset(source: str | os.PathLike | None = None) -> Dataset:
    """Resolve a source into tracks.

    Parameters
    ----------
    source : path-like, "synthetic" or None
        A folder-per-label tree, a manifest CSV, or ``"synthetic"`` / ``None`` for the
        built-in synthetic corpus (generated on first use, see :mod:`genre.data.synthetic`).

    Raises
    ------
    DataError
        The source does not exist or holds no usable tracks.
    """
    if source is None or str(source) == SYNTHETIC:
        from genre.data.synthetic import ensure_synthetic_corpus

        return load_manifest(ensure_synthetic_corpus())
    path = Path(source)
    if path.is_dir():
        return load_folder(path)
    if path.is_file() and path.suffix.lower() in {".csv", ".tsv", ".txt"}:
        return load_manifest(path)
    if path.is_file():
        raise DataError(f"{path}: expected a folder of label folders or a manifest CSV (path,label[,group])")
    raise DataError(f"{path}: no such folder or file")


__all__ = ["Dataset", "Track", "load_dataset", "load_folder", "load_manifest", "SYNTHETIC"]
