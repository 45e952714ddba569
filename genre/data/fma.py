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

Audio files in the folder whose tracks are left out (no ``genre_top``, or outside the
subset) are counted in :attr:`Dataset.notes`, as are ids that ``tracks.csv`` repeats.

As a source string, ``fma:<audio_root>`` (see :func:`genre.data.load_dataset`) finds
``tracks.csv`` in the sibling ``fma_metadata`` folder and the subset from the folder's
name (``fma_small`` -> ``small``), unless ``metadata=`` / ``subset=`` (on the command
line ``--fma-metadata`` / ``--fma-subset``) say otherwise; ``~`` is the home folder.

FMA's own train/validation/test split, ``(set, split)``, is written as list files for
``genre benchmark --train-list/--test-list`` by :func:`write_split_lists`.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from genre.atomic import atomic_files, check_output_folder, check_replaceable, starts_with
from genre.data.formats import is_audio_path
from genre.data.tracks import with_notes
from genre.data.tracks import Dataset, Track, printable, reject_repeated_files
from genre.errors import DataError, ParameterError
from genre.text import plural

#: Subsets in increasing size; each holds the ones before it. ``full`` holds every track.
SUBSETS: tuple[str, ...] = ("small", "medium", "large", "full")

#: The ``tracks.csv`` columns read: (top-level, sub-column) as in its two header rows.
GENRE_COLUMN = ("track", "genre_top")
SUBSET_COLUMN = ("set", "subset")
ARTIST_COLUMN = ("artist", "id")
#: FMA's official split of each subset: ``training``, ``validation`` or ``test``.
SPLIT_COLUMN = ("set", "split")

#: FMA's split names -> the list files :func:`write_split_lists` writes.
SPLIT_FILES: dict[str, str] = {"training": "train.txt", "validation": "valid.txt", "test": "test.txt"}
#: How a list file written by :func:`write_split_lists` begins (an earlier one may be replaced).
SPLIT_LIST_HEADER = "# FMA official split"

#: Where FMA keeps an audio file, relative to the audio folder (see :func:`audio_path`).
LAYOUT = "<first three digits>/<six-digit id>.mp3"

#: Where :func:`open_fma` looks for ``tracks.csv``, relative to the audio folder.
DEFAULT_METADATA = Path("..") / "fma_metadata" / "tracks.csv"

#: FMA's SHA-1 sums of the audio, in each audio folder (lines ``<sha1>  000/000002.mp3`` as
#: ``sha1sum`` writes them): not audio while listing; ``genre check`` verifies against it
#: (:mod:`genre.data.checksums`).
CHECKSUMS_NAME = "checksums"


def audio_path(audio_root: str | os.PathLike, track_id: int) -> Path:
    """Where FMA keeps track ``track_id``: ``<audio_root>/000/000002.mp3`` for id 2."""
    name = f"{track_id:06d}"
    return Path(audio_root) / name[:3] / f"{name}.mp3"


def _header(
    metadata: Path, required: Sequence[tuple[str, str]] = (GENRE_COLUMN, SUBSET_COLUMN, ARTIST_COLUMN)
) -> tuple[dict[tuple[str, str], int], int]:
    """Positions of the ``(top, sub)`` columns of ``tracks.csv``, and its number of header lines.

    Raises
    ------
    DataError
        The file is unreadable, or its first lines are not FMA's two header rows with the
        ``required`` columns.
    """
    try:
        with open(metadata, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            rows = [next(reader, []) for _ in range(3)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{metadata}: cannot read FMA metadata ({exc})") from None
    top, sub, third = rows
    columns = {(t.strip(), s.strip()): i for i, (t, s) in enumerate(zip(top, sub)) if i > 0}
    missing = [f"{t}/{s}" for t, s in required if (t, s) not in columns]
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


def _read_columns(
    metadata: Path, read: Sequence[tuple[str, str]] = (GENRE_COLUMN, SUBSET_COLUMN, ARTIST_COLUMN)
) -> list[tuple]:
    """``(track_id, *values)`` of every row of ``tracks.csv``: by default ``(track_id, genre_top, subset, artist_id)``.

    The values are the ``read`` columns' cells, stripped strings ("" if empty).
    """
    import pandas as pd

    columns, n_header = _header(metadata, read)
    wanted = [columns[c] for c in read]
    try:
        # Only a few of ~50 columns are converted: the full file is over 100,000 rows of
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
    return list(zip(ids.astype(int).tolist(), *(frame[i].str.strip().tolist() for i in wanted)))


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


def _in_subset(track_subset: str, subset: str, *, metadata: Path, track_id: int) -> bool:
    """Whether a track whose row says ``track_subset`` belongs to ``subset`` (subsets are nested).

    Raises
    ------
    DataError
        ``track_subset`` is neither empty nor one of small, medium, large.
    """
    if subset == "full":
        return True
    if track_subset not in SUBSETS[:-1]:
        if track_subset:
            raise DataError(
                f"{metadata}: track {track_id}: unknown subset {track_subset!r} (expected small, medium or large)"
            )
        return False  # in no subset: only "full" has it
    return SUBSETS.index(track_subset) <= SUBSETS.index(subset)


def _merge_repeats(rows: list[tuple]) -> tuple[list[tuple], dict[int, int], dict[int, list[tuple]]]:
    """One row per track id, as a manifest keeps one row per file.

    Returns
    -------
    rows : list of tuple
        The first row of each id whose rows all agree (a concatenated or merged copy of
        ``tracks.csv`` repeats them).
    repeated : dict
        Id -> number of its rows, for ids given more than once with the same values.
    conflicting : dict
        Id -> its rows, for ids whose rows disagree (another genre, subset or artist): the
        track cannot be labelled, and is left out.
    """
    by_id: dict[int, list[tuple]] = {}
    for row in rows:
        by_id.setdefault(row[0], []).append(row)
    unique: list[tuple] = []
    repeated: dict[int, int] = {}
    conflicting: dict[int, list[tuple]] = {}
    for track_id, group in by_id.items():
        if len(set(group)) > 1:
            conflicting[track_id] = group
            continue
        unique.append(group[0])
        if len(group) > 1:
            repeated[track_id] = len(group)
    return unique, repeated, conflicting


def _disagreement(group: list[tuple]) -> str:
    """How the rows of one track id differ: ``genre_top 'Hip-Hop' / 'Rock'``."""
    parts = []
    for position, name in ((1, "genre_top"), (2, "subset"), (3, "artist id")):
        values = list(dict.fromkeys(row[position] for row in group))
        if len(values) > 1:
            parts.append(f"{name} " + " / ".join(repr(v) for v in values))
    return "; ".join(parts)


def _example(track_ids: list[int]) -> str:
    """``track 200 (000/000200.mp3)`` for the first of ``track_ids``."""
    first = min(track_ids)
    return f"track {first} ({audio_path('', first).as_posix()})"


def _left_out_notes(
    audio_root: Path,
    metadata: Path,
    subset: str,
    found: dict[int, Path],
    outside: dict[int, str],
    no_genre: set[int],
    repeated: dict[int, int],
) -> list[str]:
    """Lines counting the audio files of ``audio_root`` whose tracks are left out by rule, and repeated ids."""
    notes = []
    here = sorted(i for i in outside if i in found)
    if here:
        counts: dict[str, int] = {}
        for track_id in here:
            counts[outside[track_id]] = counts.get(outside[track_id], 0) + 1
        order = sorted(counts, key=lambda s: SUBSETS.index(s) if s else len(SUBSETS))
        described = ", ".join(f"{counts[s]} {s}" if s else f"{counts[s]} in no subset" for s in order)
        wider = "full" if "" in counts else order[-1]
        n = len(here)
        notes.append(
            f"left out {n} audio {plural(n, 'file', 'files')} of {audio_root} whose {plural(n, 'track is', 'tracks are')} "
            f"not in FMA subset {subset!r} ({metadata.name}: {described}), e.g. {_example(here)}; "
            f"subset {wider!r} (--fma-subset {wider}) takes {plural(n, 'it', 'them')} in"
        )
    here = sorted(i for i in no_genre if i in found)
    if here:
        n = len(here)
        notes.append(
            f"left out {n} audio {plural(n, 'file', 'files')} of {audio_root} whose {plural(n, 'track has', 'tracks have')} "
            f"no top-level genre (track/genre_top is empty in {metadata.name}), e.g. {_example(here)}"
        )
    if repeated:
        n = len(repeated)
        first = min(repeated)
        notes.append(
            f"{metadata.name} lists {n} track {plural(n, 'id', 'ids')} on more than one row with the same genre, "
            f"subset and artist, e.g. track {first} ({repeated[first]} rows): each track is taken once"
        )
    return notes


#: A folder of FMA's layout: ``000`` ... ``155`` (the first three digits of the ids).
_ID_FOLDER = re.compile(r"\d{3}")
_ID_FILE = re.compile(r"\d{6}\.mp3")


def _holds_fma_layout(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds ``NNN/NNNNNN.mp3`` files (a look at a few of its ``NNN`` folders)."""
    try:
        with os.scandir(folder) as it:
            numbered = [e.path for e in it if _ID_FOLDER.fullmatch(e.name) and e.is_dir()]
    except OSError:
        return False
    for sub in sorted(numbered)[:5]:
        try:
            with os.scandir(sub) as it:
                if any(_ID_FILE.fullmatch(e.name) for e in it):
                    return True
        except OSError:
            continue
    return False


def _subfolders(folder: str | os.PathLike, limit: int = 50) -> list[str]:
    """Up to ``limit`` visible sub-folders of ``folder`` that are not FMA's ``NNN`` folders, sorted."""
    try:
        with os.scandir(folder) as it:
            names = sorted(
                e.path for e in it if not e.name.startswith(".") and not _ID_FOLDER.fullmatch(e.name) and e.is_dir()
            )
    except OSError:
        return []
    return names[:limit]


def nested_audio_folder(audio_root: str | os.PathLike) -> Path | None:
    """The folder inside ``audio_root`` (one or two levels down) that holds FMA's audio layout, if any.

    ``fma_small.zip`` unpacked into a folder of its own gives ``fma_small/fma_small/000/...``;
    a parent folder (``data/fma`` for ``data/fma/fma_small``) likewise holds the audio lower down.

    Returns
    -------
    pathlib.Path or None
    """
    children = _subfolders(audio_root)
    for child in children:
        if _holds_fma_layout(child):
            return Path(child)
    for child in children[:10]:
        for grandchild in _subfolders(child, limit=10):
            if _holds_fma_layout(grandchild):
                return Path(grandchild)
    return None


def _none_there_hint(audio_root: Path, metadata: Path, rejected: list[tuple[str, str]], notes: list[str]) -> str:
    """Why none of the listed tracks was found in ``audio_root``, where that can be told."""
    nested = nested_audio_folder(audio_root)
    if nested is not None:
        return (
            f"; the audio is in {nested} (an archive unpacked into a folder of its own?): give fma:{nested} "
            f"with --fma-metadata {metadata.resolve()} (metadata=), or move the contents of {nested} up into {audio_root}"
        )
    if _ID_FOLDER.fullmatch(audio_root.name) and _holds_fma_layout(audio_root.parent):
        return f"; {audio_root} is one of FMA's numbered folders: give the folder above it, {audio_root.parent}"
    misnamed = [(p, r) for p, r in rejected if "not named or placed as FMA does" in r]
    if misnamed:
        return f"; {len(misnamed)} audio files are not named or placed as FMA does, e.g. {misnamed[0][0]}"
    outside = [n for n in notes if n.startswith("left out")]
    return f"; {outside[0]}" if outside else ""


def load_fma(audio_root: str | os.PathLike, *, metadata: str | os.PathLike, subset: str = "small") -> Dataset:
    """List the tracks of an FMA subset that have a top-level genre.

    Parameters
    ----------
    audio_root : path-like
        The unpacked audio folder (``fma_small``, ``fma_medium``, ``fma_large`` or ``fma_full``);
        ``~`` is the home folder.
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
        its genre may be cut too); tracks whose rows in ``tracks.csv`` disagree (two
        genres for one id); byte-identical copies of another track's audio file (see
        :func:`~genre.data.tracks.reject_repeated_files`: of the same genre, the first id
        is kept; of two genres, every copy is left out). In ``notes``: how many audio
        files of the folder belong to tracks of other subsets or without a top-level
        genre (left out, as documented above), and how many ids ``tracks.csv`` repeats
        with the same values (taken once).

    Raises
    ------
    DataError
        ``tracks.csv`` is missing, unreadable or not in FMA's format; ``audio_root`` is
        not a folder; or none of the tracks' audio files is there (the message says where
        the audio is when the archive was unpacked a level too deep).
    ParameterError
        ``subset`` is none of the four.
    """
    subset = _check_subset(subset)
    audio_root, metadata = Path(audio_root).expanduser(), Path(metadata).expanduser()
    if not metadata.is_file():
        raise DataError(f"{metadata}: no such file (FMA's fma_metadata/tracks.csv)")
    if not audio_root.is_dir():
        raise DataError(f"{audio_root}: not a folder (expected FMA audio, e.g. fma_small/000/000002.mp3)")
    rows = _read_columns(metadata)
    # A last row cut short may hold a truncated genre ("Ro" for "Rock"): it is left out.
    cut = rows.pop()[0] if rows and _ends_mid_row(metadata) else None
    known = {row[0] for row in rows}
    rows, repeated, conflicting = _merge_repeats(rows)
    listed: list[tuple[int, str, str]] = []
    outside: dict[int, str] = {}  # id -> its subset ("": none), for tracks with a genre of no subset taken
    no_genre: set[int] = set()
    for track_id, genre, track_subset, artist in rows:
        if not _in_subset(track_subset, subset, metadata=metadata, track_id=track_id):
            if genre:  # a track without a genre is counted as such: no subset takes it in
                outside[track_id] = track_subset
            else:
                no_genre.add(track_id)
        elif genre:
            listed.append((track_id, genre, artist))
        else:
            no_genre.add(track_id)
    # Ids whose rows disagree, one of which would list the track.
    contested = {
        track_id: group
        for track_id, group in conflicting.items()
        if any(row[1] and _in_subset(row[2], subset, metadata=metadata, track_id=track_id) for row in group)
    }
    listed.sort()
    if not listed and not contested:
        raise DataError(f"{metadata}: no track of FMA subset {subset!r} has a top-level genre (track/genre_top)")

    found, rejected = _audio_files(audio_root)
    tracks: list[Track] = []
    for track_id, genre, artist in listed:
        path = audio_path(audio_root, track_id)
        if track_id in found:
            tracks.append(Track(path=str(path), track=f"fma/{track_id:06d}", label=genre, group=artist))
        else:
            rejected.append((str(path), f"listed in {metadata.name} (subset {subset}) but no such file"))
    for track_id, group in sorted(conflicting.items()):
        if track_id in contested or track_id in found:
            disagreement = _disagreement(group)
            reason = f"{metadata.name} has {len(group)} rows for track {track_id} that disagree ({disagreement}): left out"
            rejected.append((str(audio_path(audio_root, track_id)), reason))
    for track_id in sorted(set(found) - known):
        reason = (
            f"its row, the last of {metadata.name}, is cut short (the file ends mid-row): left out"
            if track_id == cut
            else f"no row for track {track_id} in {metadata} (is that file complete?): left out"
        )
        rejected.append((str(found[track_id]), reason))
    # Byte-identical audio under two ids, as the folder and manifest readers leave it out:
    # a copy of the same genre is kept once, and every copy of a sound of two genres is left out.
    present = len(tracks)
    tracks = reject_repeated_files(tracks, rejected, lambda t: t.track)
    rejected.sort()
    notes = _left_out_notes(audio_root, metadata, subset, found, outside, no_genre, repeated)
    if not tracks and present:
        raise DataError(
            f"{audio_root}: every track of FMA subset {subset!r} found there was left out; "
            f"e.g. {rejected[0][0]}: {rejected[0][1]}"
        )
    if not tracks:
        n = len(listed) + len(contested)
        first = min([*(t[0] for t in listed), *contested])
        raise DataError(
            f"{audio_root}: none of the {n} tracks of FMA subset {subset!r} with a genre is there "
            f"(expected e.g. {audio_path(audio_root, first)}){_none_there_hint(audio_root, metadata, rejected, notes)}"
        )
    dataset = Dataset(
        tracks=tracks, rejected=rejected, name=f"FMA {subset} {audio_root} (metadata {metadata})", listings=(str(metadata),)
    )
    return with_notes(dataset, notes)


def _locate(
    location: str | os.PathLike, metadata: str | os.PathLike | None, subset: str | None
) -> tuple[Path, Path, str]:
    """The audio folder, ``tracks.csv`` and subset of an ``fma:`` source, with :func:`open_fma`'s defaults."""
    root = Path(location).expanduser()
    if subset is None:
        name = root.resolve().name if root.name in ("", ".", "..") else root.name
        guess = name.lower().removeprefix("fma_")
        if not name.lower().startswith("fma_") or guess not in SUBSETS:
            hint = ""
            nested = nested_audio_folder(root) if root.is_dir() else None
            if nested is not None and nested.name.lower().removeprefix("fma_") in SUBSETS:
                hint = f"; its audio seems to be in {nested}: give fma:{nested}"
            raise ParameterError(
                f"{root}: cannot tell the FMA subset from the folder name {name!r}; "
                f"give it (--fma-subset / subset=: {', '.join(SUBSETS)}){hint}"
            )
        subset = guess
    return root, root / DEFAULT_METADATA if metadata is None else Path(metadata).expanduser(), subset


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
        The audio folder (``~`` is the home folder: no shell expands it after ``fma:``).
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
    root, metadata, subset = _locate(location, metadata, subset)
    return load_fma(root, metadata=metadata, subset=subset)


@dataclass(frozen=True)
class SplitLists:
    """The list files :func:`write_split_lists` wrote.

    Attributes
    ----------
    files : dict
        FMA's split name (``training``, ``validation``, ``test``) -> its list file.
    counts : dict
        FMA's split name -> the number of tracks listed in it.
    notes : list of str
        What the user should know: tracks left out of the lists, artists on both sides.
    """

    files: dict[str, Path]
    counts: dict[str, int]
    notes: list[str]


def write_split_lists(
    source: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    metadata: str | os.PathLike | None = None,
    subset: str | None = None,
) -> SplitLists:
    """Write FMA's official split, ``(set, split)`` of ``tracks.csv``, as list files for ``genre benchmark``.

    ``OUT_DIR/train.txt``, ``valid.txt`` and ``test.txt`` list the ``training``,
    ``validation`` and ``test`` tracks that :func:`open_fma` lists for ``source`` (tracks of
    the subset with a top-level genre whose audio is there), one per line as
    ``000/000002.mp3``, after a ``#`` comment line. ``genre benchmark`` matches a line to the
    table's rows by file stem (``000002``, the stem of the track id ``fma/000002``)::

        genre benchmark fma.csv --train-list OUT_DIR/train.txt --train-list OUT_DIR/valid.txt \
            --test-list OUT_DIR/test.txt -o report/

    Parameters
    ----------
    source : path-like
        ``fma:<audio folder>`` or the audio folder itself (``~`` is the home folder).
    out_dir : path-like
        Folder for the three files (created if missing). Lists written here before are
        replaced; any other file of those names is refused.
    metadata, subset
        As :func:`open_fma`.

    Returns
    -------
    SplitLists

    Raises
    ------
    DataError
        As :func:`open_fma`; ``tracks.csv`` has no ``set/split`` column, or a split other
        than training, validation and test.
    ParameterError
        As :func:`open_fma`.
    genre.errors.OutputError
        ``out_dir`` cannot be written, or holds a ``train.txt`` (...) that is no list
        written here.
    """
    location = os.fspath(source)
    if isinstance(location, str) and location.startswith("fma:"):
        location = location[len("fma:") :]
    root, metadata_path, subset = _locate(location, metadata, subset)
    dataset = load_fma(root, metadata=metadata_path, subset=subset)
    folder = check_output_folder(Path(out_dir).expanduser())
    targets = {split: folder / name for split, name in SPLIT_FILES.items()}
    for target in targets.values():
        check_replaceable(
            target, ours=lambda p: starts_with(p, SPLIT_LIST_HEADER.encode()), what="a list file of FMA's split"
        )
    rows = _read_columns(metadata_path, (SPLIT_COLUMN,))
    if rows and _ends_mid_row(metadata_path):
        rows.pop()  # cut short: load_fma left its track out
    splits: dict[int, set[str]] = {}
    for track_id, split in rows:
        splits.setdefault(track_id, set()).add(split)

    lines: dict[str, list[str]] = {split: [] for split in SPLIT_FILES}
    no_split: list[int] = []
    disagree: list[int] = []
    sides: dict[str, dict[str, list[int]]] = {}  # artist -> split -> its track ids
    for track in dataset.tracks:
        track_id = int(track.track.rpartition("/")[2])
        values = splits.get(track_id, set())
        if len(values) > 1:
            disagree.append(track_id)
            continue
        split = next(iter(values), "")
        if not split:
            no_split.append(track_id)
            continue
        if split not in SPLIT_FILES:
            raise DataError(
                f"{metadata_path}: track {track_id}: unknown split {split!r} (expected {', '.join(SPLIT_FILES)})"
            )
        lines[split].append(audio_path("", track_id).as_posix())
        if track.group:
            sides.setdefault(track.group, {}).setdefault(split, []).append(track_id)

    notes = list(dataset.notes)
    if dataset.rejected:
        n = len(dataset.rejected)
        path, reason = dataset.rejected[0]
        notes.append(
            f"{n} {plural(n, 'track or file was', 'tracks or files were')} left out while listing {root} and "
            f"{plural(n, 'is', 'are')} in no list, e.g. {path}: {reason}"
        )
    if no_split:
        n = len(no_split)
        notes.append(f"{n} {plural(n, 'track has', 'tracks have')} no set/split in {metadata_path.name} and "
                     f"{plural(n, 'is', 'are')} in no list, e.g. {_example(no_split)}")  # fmt: skip
    if disagree:
        n = len(disagree)
        notes.append(f"{n} {plural(n, 'track has', 'tracks have')} rows with different splits in {metadata_path.name} "
                     f"and {plural(n, 'is', 'are')} in no list, e.g. {_example(disagree)}")  # fmt: skip
    across = {a: s for a, s in sides.items() if "test" in s and len(s) > 1}
    if across:
        n = len(across)
        artist = min(across, key=lambda a: min(i for ids in across[a].values() for i in ids))
        shown = ", ".join(f"{split} {ids[0]}" for split, ids in across[artist].items())
        notes.append(
            f"{n} {plural(n, 'artist has', 'artists have')} tracks in the test list and in the training or validation "
            f"list (e.g. artist id {artist}: tracks {shown}): genre benchmark refuses such lists on a table with "
            "artist groups (--no-groups takes them as they are, and the scores then reward knowing the artist)"
        )

    described = f"of FMA subset {subset}, from {printable(metadata_path)}, one per line as {LAYOUT}"
    with atomic_files() as open_file:
        for split, target in targets.items():
            handle = open_file(target, "w", encoding="utf-8", newline="\n")  # closed by atomic_files
            handle.write(f"{SPLIT_LIST_HEADER}: {split} tracks {described}\n")
            handle.writelines(f"{line}\n" for line in lines[split])
    return SplitLists(files=targets, counts={split: len(lines[split]) for split in SPLIT_FILES}, notes=notes)
