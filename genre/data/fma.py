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
import re
from pathlib import Path

from genre.data.formats import is_audio_path
from genre.data.tracks import Dataset, Track, printable
from genre.errors import DataError, ParameterError

#: Subsets in increasing size; each holds the ones before it. ``full`` holds every track.
SUBSETS: tuple[str, ...] = ("small", "medium", "large", "full")

#: The ``tracks.csv`` columns read: (top-level, sub-column) as in its two header rows.
GENRE_COLUMN = ("track", "genre_top")
SUBSET_COLUMN = ("set", "subset")
ARTIST_COLUMN = ("artist", "id")

#: Where FMA keeps an audio file, relative to the audio folder (see :func:`audio_path`).
LAYOUT = "<first three digits>/<six-digit id>.mp3"

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


def _ends_mid_row(metadata: Path) -> bool:
    """Whether ``tracks.csv`` ends without a line break: its last row was cut short (a download broken off)."""
    try:
        with open(metadata, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) not in (b"\n", b"\r")
    except OSError:
        return False


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
        cut = " (the file ends mid-row: was it cut short? unpack or download it again)"
        cut = cut if _ends_mid_row(metadata) else ""
        raise DataError(f"{metadata}: cannot read FMA metadata ({exc}){cut}") from None
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


def _audio_files(audio_root: Path) -> tuple[dict[int, Path], list[tuple[str, str]]]:
    """The audio files of an FMA folder: track id -> path, and ``(path, reason)`` for those out of FMA's layout.

    Files named ``<six-digit id>.mp3`` in the folder of their id's first three digits are
    FMA's; other audio files (elsewhere, or named otherwise: ``2.mp3``) are reported.
    Hidden files and other extensions (FMA's ``checksums``, ``README.txt``) are ignored.
    """
    found: dict[int, Path] = {}
    rejected: list[tuple[str, str]] = []
    try:
        with os.scandir(audio_root) as it:
            top = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise DataError(f"{audio_root}: cannot list the folder ({exc.strerror or exc})") from None
    for entry in top:
        if entry.name.startswith("."):
            continue
        folder = audio_root / entry.name
        if not entry.is_dir():
            if is_audio_path(entry.name):
                rejected.append((printable(folder), f"not named or placed as FMA does ({LAYOUT}): left out"))
            continue
        try:
            with os.scandir(folder) as it:
                names = sorted(e.name for e in it if not e.name.startswith("."))
        except OSError as exc:
            reason = f"cannot list the folder ({exc.strerror or exc}); its files are left out"
            rejected.append((printable(folder), reason))
            continue
        for name in names:
            path = folder / name
            if not is_audio_path(name):
                continue
            match = re.fullmatch(r"(\d+)\.mp3", name)
            if match and path == audio_path(audio_root, int(match[1])):
                found[int(match[1])] = path
            else:
                expected = str(audio_path(audio_root, int(match[1]))) if match else LAYOUT
                rejected.append((printable(path), f"not named or placed as FMA does (expected {expected}): left out"))
    return found, rejected


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
        ``label`` = the ``genre_top`` and ``group`` = the artist id. In ``rejected``:
        listed tracks whose audio file is missing; audio files of ids ``tracks.csv`` has
        no row for (a truncated copy), or named or placed otherwise than FMA does
        (``000/2.mp3``); the last row when the file ends mid-row (a download cut short:
        its genre may be cut too). Tracks of other subsets or without a top-level genre
        are left out without a word, as documented above.

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
    rows = _read_columns(metadata)
    # A last row cut short may hold a truncated genre ("Ro" for "Rock"): it is left out.
    cut = rows.pop()[0] if rows and _ends_mid_row(metadata) else None
    known = {row[0] for row in rows}
    listed: list[tuple[int, str, str]] = []
    for track_id, genre, track_subset, artist in rows:
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

    found, rejected = _audio_files(audio_root)
    tracks: list[Track] = []
    for track_id, genre, artist in listed:
        path = audio_path(audio_root, track_id)
        if track_id in found:
            tracks.append(Track(path=str(path), track=f"fma/{track_id:06d}", label=genre, group=artist))
        else:
            rejected.append((str(path), f"listed in {metadata.name} (subset {subset}) but no such file"))
    for track_id in sorted(set(found) - known):
        reason = (
            f"its row, the last of {metadata.name}, is cut short (the file ends mid-row): left out"
            if track_id == cut
            else f"no row for track {track_id} in {metadata} (is that file complete?): left out"
        )
        rejected.append((str(found[track_id]), reason))
    rejected.sort()
    if not tracks:
        misnamed = [(p, r) for p, r in rejected if "not named or placed as FMA does" in r]
        hint = ""
        if misnamed:
            hint = f"; {len(misnamed)} audio files are not named or placed as FMA does, e.g. {misnamed[0][0]}"
        raise DataError(
            f"{audio_root}: none of the {len(listed)} tracks of FMA subset {subset!r} with a genre is there "
            f"(expected e.g. {audio_path(audio_root, listed[0][0])}){hint}"
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
