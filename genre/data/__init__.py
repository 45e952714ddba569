"""Dataset layouts: each module turns one on-disk layout into a :class:`Dataset`.

- :mod:`genre.data.folder`: ``ROOT/<label>/**/<file>`` (GTZAN's layout);
- :mod:`genre.data.manifest`: a CSV ``path,label[,group]`` (or ``artist`` for ``group``);
- :mod:`genre.data.synthetic`: the built-in, generated smoke-test corpus;
- :mod:`genre.data.fma`: the Free Music Archive (``fma:<audio folder>``), and its official
  split as list files (:func:`genre.data.fma.write_split_lists`).

:mod:`genre.data.formats` says which file extensions count as audio;
:mod:`genre.data.checksums` verifies a source's audio against the checksums it declares.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any, Callable

from genre.data.fma import ARTIST_COLUMN, load_fma, open_fma
from genre.data.folder import load_folder
from genre.data.manifest import load_manifest
from genre.data.tracks import Dataset, Track
from genre.errors import DataError, ParameterError

#: Name of the built-in default source.
SYNTHETIC = "synthetic"

#: Layouts named by a prefix, ``"<scheme>:<location>"``: scheme -> ``loader(location, **options)``.
SCHEMES: dict[str, Callable[..., Dataset]] = {"fma": open_fma}
#: What a scheme's groups are called in its own metadata (FMA's artist ids: ``artist``), the word
#: messages and reports use for the column an extracted table calls ``group``.
SCHEME_GROUP_NAMES: dict[str, str] = {"fma": ARTIST_COLUMN[0]}


def source_layout(source: str | os.PathLike | None) -> str | None:
    """How :func:`load_dataset` reads ``source``, told without reading it.

    Returns
    -------
    str or None
        ``"synthetic"`` (``None`` or ``"synthetic"``), a scheme of :data:`SCHEMES`
        (``"fma"``), ``"folder"``, ``"manifest"`` (a file), or ``None``: an empty path,
        or nothing there.
    """
    if source is None or (isinstance(source, str) and source == SYNTHETIC):
        return "synthetic"
    if not str(source).strip():
        return None
    scheme, colon, _ = str(source).partition(":")
    if colon and scheme in SCHEMES:
        return scheme
    path = Path(source)
    if path.is_dir():
        return "folder"
    return "manifest" if path.is_file() else None


def load_dataset(source: str | os.PathLike | None = None, **options: Any) -> Dataset:
    """Resolve a source into tracks.

    Parameters
    ----------
    source : path-like, "<scheme>:<location>", "synthetic" or None
        A folder-per-label tree, a manifest CSV, a layout named by a scheme of
        :data:`SCHEMES` (``fma:/data/fma_small``, see :func:`genre.data.fma.open_fma`),
        or ``"synthetic"`` / ``None`` for the built-in synthetic corpus (generated on
        first use, see :mod:`genre.data.synthetic`).
    **options
        Keyword arguments of a scheme's loader (``fma:`` takes ``metadata`` and ``subset``).

    Raises
    ------
    DataError
        The source does not exist or holds no usable tracks.
    ParameterError
        ``source`` is an empty path (or names a scheme but no location: ``fma:``), or
        ``options`` are given for a source that takes none, or unknown to its loader.
    """
    if source is not None and not str(source).strip():
        # Path("") is the current folder: reading it is never what was meant.
        raise ParameterError(
            "the source is empty: give a folder of label folders, a manifest CSV, fma:FOLDER or 'synthetic'"
        )
    layout = source_layout(source)
    if layout in SCHEMES:
        scheme, _, location = str(source).partition(":")
        if not location.strip():
            raise ParameterError(f"{source}: no folder after '{scheme}:' (e.g. {scheme}:path/to/fma_small)")
        loader = SCHEMES[scheme]
        try:
            inspect.signature(loader).bind(location, **options)
        except TypeError as exc:  # an option this loader does not take
            raise ParameterError(f"{source}: {exc}") from None
        return loader(location, **options)
    if options:
        raise ParameterError(
            f"{', '.join(options)}: options only apply to a {' / '.join(s + ':' for s in SCHEMES)} source, not {source}"
        )
    if layout == "synthetic":
        if source is not None and Path(SYNTHETIC).exists():
            # The user's own ./synthetic must not be silently replaced by the demo corpus, nor
            # the other way round.
            raise ParameterError(
                f"'{SYNTHETIC}' names both the built-in demo corpus and ./{SYNTHETIC} here: write ./{SYNTHETIC} "
                "for your folder, or give no source for the built-in corpus"
            )
        from genre.data.synthetic import ensure_synthetic_corpus

        return load_manifest(ensure_synthetic_corpus())
    path = Path(source)
    if layout == "folder":
        return load_folder(path)
    if layout == "manifest" and path.suffix.lower() in {".csv", ".tsv", ".txt"}:
        return load_manifest(path)
    if layout == "manifest":
        raise DataError(f"{path}: expected a folder of label folders or a manifest CSV (path,label[,group])")
    raise DataError(f"{path}: no such folder or file")


__all__ = [
    "Dataset", "Track", "load_dataset", "load_fma", "load_folder", "load_manifest", "source_layout", "SCHEMES",
    "SYNTHETIC",
]  # fmt: skip
