"""The Free Music Archive layout (FMA; Defferrard et al., ISMIR 2017).

FMA ships its audio and its metadata as separate archives, unpacked side by side::

    fma_metadata/tracks.csv        one row per track, two header rows (see below)
    fma_small/000/000002.mp3       8,000 clips of 30 s, 8 balanced genres
    fma_medium/...                 25,000 clips of 30 s, 16 unbalanced genres
    fma_large/...                  106,574 clips of 30 s
    fma_full/...                   the same 106,574 tracks, untrimmed

An audio file lies at ``<audio_root>/<first three digits>/<six-digit zero-padded id>.mp3``.

``tracks.csv`` has two header rows: the first names the table a column comes from
(``album``, ``artist``, ``set``, ``track``), the second the column itself (``id``,
``subset``, ``genre_top``...), and the first column is the track id. As published, a
third line ``track_id,,,...`` names that index column; pandas reads it all with
``read_csv(..., header=[0, 1], index_col=0)``. This module reads only the three columns
it needs:

- ``(track, genre_top)``, the label: the track's single top-level genre (16 in all),
  missing for most tracks outside ``medium``; tracks without one are left out;
- ``(set, subset)``, the smallest subset that holds the track (``small`` < ``medium``
  < ``large``; the subsets are nested, and ``full`` holds every track);
- ``(artist, id)``, the group, so that group-aware splits are artist-disjoint.

As a source string, ``fma:<audio_root>`` (see :func:`genre.data.load_dataset`) finds
``tracks.csv`` in the sibling ``fma_metadata`` folder and the subset from the folder's
name (``fma_small`` -> ``small``), unless ``metadata=`` / ``subset=`` (on the command
line ``--fma-metadata`` / ``--fma-subset``) say otherwise.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from genre.data.tracks import Dataset, Track
from genre.errors import DataError, ParameterError

#: Subsets in increasing size; each holds the ones before it. ``full`` holds every track.
SUBSETS: tuple[str, ...] = ("small", "medium", "large", "full")

#: The ``tracks.csv`` columns read: (top-level, sub-column) as in its two header rows.
GENRE_COLUMN = ("track", "genre_top")
SUBSET_COLUMN = ("set", "subset")
ARTIST_COLUMN = ("artist", "id")

#: Where :func:`open_fma` looks for ``tracks.csv``, relative to the audio folder.
DEFAULT_METADATA = Path("..") / "fma_metadata" / "tracks.csv"


def audio_path(audio_root: str | os.PathLike, track_id: int) -> Path:
    """Where FMA keeps track ``track_id``: ``<audio_root>/000/000002.mp3`` for id 2."""
    name = f"{track_id:06d}"
    return Path(audio_root) / name[:3] / f"{name}.mp3"


def _header(metadata: Path) -> tuple[dict[tuple[str, str], int], int]:
    """Positions of the ``(top, sub)`` columns of ``tracks.csv``, and its number of header lines.

    Raises
    ------
    DataError
        The file is unreadable, or its first lines are not FMA's two header rows.
    """
    try:
        with open(metadata, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            rows = [next(reader, []) for _ in range(3)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{metadata}: cannot read FMA metadata ({exc})") from None
    top, sub, third = rows
    columns = {(t.strip(), s.strip()): i for i, (t, s) in enumerate(zip(top, sub)) if i > 0}
    missing = [f"{t}/{s}" for t, s in (GENRE_COLUMN, SUBSET_COLUMN, ARTIST_COLUMN) if (t, s) not in columns]
    if missing:
        raise DataError(
            f"{metadata}: not FMA's tracks.csv: no column(s) {', '.join(missing)} "
            "(expected two header rows, table names such as album,artist,set,track, then column names "
            "such as id,subset,genre_top, and the track id in the first column)"
        )
    # The published file names its index column on a third line ("track_id,,,..."), which
    # holds no data; a copy re-saved without it starts its data right away.
    index_name_line = bool(third) and third[0].strip() == "track_id" and not any(c.strip() for c in third[1:])
    return columns, 3 if index_name_line else 2


def _read_columns(metadata: Path) -> list[tuple[int, str, str, str]]:
    """``(track_id, genre_top, subset, artist_id)`` of every row of ``tracks.csv`` (strings, "" if empty)."""
    import pandas as pd

    columns, n_header = _header(metadata)
    wanted = [columns[GENRE_COLUMN], columns[SUBSET_COLUMN], columns[ARTIST_COLUMN]]
    try:
        # Only four of ~50 columns are converted: the full file is over 100,000 rows of
        # free text (bios, comments), most of which this never needs.
        frame = pd.read_csv(
            metadata,
            header=None,
            skiprows=n_header,
            usecols=[0, *wanted],
            dtype=str,
            keep_default_na=False,
            encoding="utf-8",
        )
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"{metadata}: cannot read FMA metadata ({exc})") from None
    ids = frame[0].str.strip()
    bad = ~ids.str.fullmatch(r"\d+")
    if bad.any():
        line = int(bad.to_numpy().nonzero()[0][0]) + n_header + 1
        raise DataError(f"{metadata}: row {line}: track id {frame[0][bad].iloc[0]!r} is not a number")
    return list(
        zip(
            ids.astype(int).tolist(),
            frame[wanted[0]].str.strip().tolist(),
            frame[wanted[1]].str.strip().tolist(),
            frame[wanted[2]].str.strip().tolist(),
        )
    )


def _check_subset(subset: str) -> str:
    if subset not in SUBSETS:
        raise ParameterError(f"subset={subset!r}: unknown FMA subset; choose from {', '.join(SUBSETS)}")
    return subset


def load_fma(audio_root: str | os.PathLike, *, metadata: str | os.PathLike, subset: str = "small") -> Dataset:
    """List the tracks of an FMA subset that have a top-level genre.

    Parameters
    ----------
    audio_root : path-like
        The unpacked audio folder (``fma_small``, ``fma_medium``, ``fma_large`` or ``fma_full``).
    metadata : path-like
        FMA's ``fma_metadata/tracks.csv``.
    subset : str
        ``"small"``, ``"medium"``, ``"large"`` or ``"full"``: tracks of that subset,
        which includes the smaller ones (``"full"``: every track).

    Returns
    -------
    Dataset
        Tracks in increasing id order, with ``track = "fma/<six-digit id>"``,
        ``label`` = the ``genre_top`` and ``group`` = the artist id. Listed tracks
        whose audio file is missing are in ``rejected``, not in ``tracks``.

    Raises
    ------
    DataError
        ``tracks.csv`` is missing, unreadable or not in FMA's format; ``audio_root`` is
        not a folder; or none of the tracks' audio files is there.
    ParameterError
        ``subset`` is none of the four.
    """
    subset = _check_subset(subset)
    audio_root, metadata = Path(audio_root), Path(metadata)
    if not metadata.is_file():
        raise DataError(f"{metadata}: no such file (FMA's fma_metadata/tracks.csv)")
    if not audio_root.is_dir():
        raise DataError(f"{audio_root}: not a folder (expected FMA audio, e.g. fma_small/000/000002.mp3)")
    limit = SUBSETS.index(subset)
    listed: list[tuple[int, str, str]] = []
    for track_id, genre, track_subset, artist in _read_columns(metadata):
        if subset != "full":
            if track_subset not in SUBSETS[:-1]:
                if track_subset:
                    raise DataError(
                        f"{metadata}: track {track_id}: unknown subset {track_subset!r} (expected small, medium or large)"
                    )
                continue  # in no subset: only "full" has it
            if SUBSETS.index(track_subset) > limit:
                continue
        if genre:
            listed.append((track_id, genre, artist))
    listed.sort()
    if not listed:
        raise DataError(f"{metadata}: no track of FMA subset {subset!r} has a top-level genre (track/genre_top)")

    present: dict[str, frozenset[str]] = {}  # one directory listing per folder, not one stat per file
    tracks: list[Track] = []
    rejected: list[tuple[str, str]] = []
    for track_id, genre, artist in listed:
        path = audio_path(audio_root, track_id)
        folder = path.parent.name
        if folder not in present:
            try:
                present[folder] = frozenset(entry.name for entry in os.scandir(path.parent))
            except (FileNotFoundError, NotADirectoryError):
                present[folder] = frozenset()
        if path.name in present[folder]:
            tracks.append(Track(path=str(path), track=f"fma/{track_id:06d}", label=genre, group=artist))
        else:
            rejected.append((str(path), f"listed in {metadata.name} (subset {subset}) but no such file"))
    if not tracks:
        raise DataError(
            f"{audio_root}: none of the {len(listed)} tracks of FMA subset {subset!r} with a genre is there "
            f"(expected e.g. {audio_path(audio_root, listed[0][0])})"
        )
    return Dataset(
        tracks=tracks, rejected=rejected, name=f"FMA {subset} {audio_root} (metadata {metadata})", listings=(str(metadata),)
    )


def open_fma(
    location: str | os.PathLike,
    *,
    metadata: str | os.PathLike | None = None,
    subset: str | None = None,
) -> Dataset:
    """:func:`load_fma`, with defaults guessed from FMA's own layout (the ``fma:`` source).

    Parameters
    ----------
    location : path-like
        The audio folder.
    metadata : path-like or None
        ``tracks.csv``; ``None``: ``<location>/../fma_metadata/tracks.csv``.
    subset : str or None
        ``None``: from the folder's name, ``fma_<subset>`` (e.g. ``fma_small``).

    Raises
    ------
    ParameterError
        ``subset`` is not given and the folder's name does not tell it.
    DataError
        As :func:`load_fma`.
    """
    root = Path(location)
    if subset is None:
        name = root.resolve().name if root.name in ("", ".", "..") else root.name
        guess = name.lower().removeprefix("fma_")
        if not name.lower().startswith("fma_") or guess not in SUBSETS:
            raise ParameterError(
                f"{root}: cannot tell the FMA subset from the folder name {name!r}; "
                f"give it (--fma-subset / subset=: {', '.join(SUBSETS)})"
            )
        subset = guess
    return load_fma(root, metadata=root / DEFAULT_METADATA if metadata is None else metadata, subset=subset)
