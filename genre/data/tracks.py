"""The unit every dataset layout produces: a labelled audio track."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
import stat
import unicodedata
from dataclasses import dataclass
from typing import IO, Callable, Iterable, Mapping, NamedTuple

from genre.atomic import file_digests
from genre.csvtext import csv_text
from genre.errors import DataError
from genre.text import plural


@dataclass(frozen=True)
class Track:
    """One labelled audio file.

    Attributes
    ----------
    path : str
        Where the audio lies (absolute, or relative to the working directory).
    track : str
        Identifier unique within the dataset, e.g. ``blues/blues.00012`` (relative path
        without extension). Segment rows of a table carry it so no split separates them.
    label : str
        The genre; ``""`` when unknown (audio to predict).
    group : str
        Artist, album or other grouping kept on one side of every split; ``""`` when unknown.
    """

    path: str
    track: str
    label: str = ""
    group: str = ""


class Checksum(NamedTuple):
    """A digest that a source declares for a file, as written there (checked by :mod:`genre.data.checksums`).

    Attributes
    ----------
    algorithm : str
        ``"sha256"``, ``"sha1"`` or ``"md5"``.
    digest : str
        The hex digits as written (not yet checked: a manifest's cell may hold anything).
    where : str
        Where it is written, for messages: ``"line 4 of manifest.csv"``.
    """

    algorithm: str
    digest: str
    where: str


@dataclass(frozen=True)
class Dataset:
    """Tracks found in a source, plus the files that were found but cannot be used.

    Attributes
    ----------
    tracks : list of Track
        Usable tracks, in a deterministic order.
    rejected : list of (str, str)
        ``(path, reason)`` for files that were skipped while listing (wrong extension...).
    name : str
        Human-readable description of the source.
    listings : tuple of str
        Files the track list was read from (a manifest, FMA's ``tracks.csv``); an output
        must never replace one of them.
    ignored : tuple of str
        Files found beside the audio that are certainly not audio (``cover.jpg``,
        ``notes.txt``, ``Thumbs.db``): neither tracks nor rejected, only counted in
        :attr:`notes`.
    listing_notes : tuple of str
        The reader's own remarks (a manifest's columns left unread, FMA tracks left out by
        rule), said after the ignored files' note; see :func:`with_notes`.
    checksums : mapping
        Track id -> the :class:`Checksum`\ s the listing itself declares for its file (a
        manifest's ``sha256``, ``sha1`` or ``md5`` column); tracks without one are absent.
        Checksum files beside the audio (FMA's ``checksums``, a folder's ``SHA256SUMS``) are
        read by :func:`genre.data.checksums.verify`, not here.
    where : mapping
        Track id -> where the listing names its file, for messages about the track that
        follow the listing (``"line 3 of m.csv"``: a manifest's line, header = line 1, as in
        an editor); see :meth:`located`. Empty for layouts where the path says it all (a
        folder, FMA).
    """

    tracks: list[Track]
    rejected: list[tuple[str, str]]
    name: str
    listings: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    listing_notes: tuple[str, ...] = ()
    checksums: Mapping[str, tuple[Checksum, ...]] = dataclasses.field(default_factory=dict)
    where: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        """Sorted set of labels."""
        return sorted({t.label for t in self.tracks if t.label})

    @property
    def notes(self) -> list[str]:
        """Lines the user should read once about how the source was listed (ignored files, the reader's remarks)."""
        note = ignored_note(self.ignored)
        return [*([note] if note else []), *self.listing_notes]

    def rejected_folders(self) -> set[str]:
        """Printable paths of the folders among :attr:`rejected` (without audio, unlistable, a
        link loop): listed with the skipped files, but not files, so counted apart."""
        return {printable(path) for path, _ in self.rejected if os.path.isdir(path)}

    def located(self, track: Track, reason: str) -> str:
        """``reason`` (why ``track`` was skipped) led by where the listing names it, if it says.

        ``"no such file"`` -> ``"line 3 of m.csv: no such file"`` for a manifest's track, as
        the manifest's own rejections read, so that a user of a long manifest finds the line;
        ``reason`` as it is for a track :attr:`where` does not place.
        """
        at = self.where.get(track.track)
        return f"{at}: {reason}" if at else reason

    def without_notes(self) -> "Dataset":
        """The same tracks with nothing left to say: for work that follows once the notes were said."""
        return dataclasses.replace(self, ignored=(), listing_notes=())


def with_notes(dataset: Dataset, notes: Iterable[str]) -> Dataset:
    """``dataset`` with ``notes`` added to its :attr:`~Dataset.notes` (the same object when there are none)."""
    notes = tuple(n for n in notes if n)
    return dataclasses.replace(dataset, listing_notes=(*dataset.listing_notes, *notes)) if notes else dataset


def ignored_note(paths: Iterable[str | os.PathLike]) -> str | None:
    """One line counting ignored non-audio files by extension, or ``None`` for none.

    Parameters
    ----------
    paths : iterable of path-like
        The ignored files.

    Returns
    -------
    note : str or None
        E.g. ``"ignored 6 non-audio files (.jpg, .txt)"``; extensions in lower case, the
        most frequent first.
    """
    counts: dict[str, int] = {}
    for path in paths:
        suffix = os.path.splitext(os.fspath(path))[1].lower() or "(no extension)"
        counts[suffix] = counts.get(suffix, 0) + 1
    if not counts:
        return None
    n = sum(counts.values())
    kinds = sorted(counts, key=lambda s: (-counts[s], s))
    shown = ", ".join(kinds[:8]) + (", ..." if len(kinds) > 8 else "")
    return f"ignored {n} non-audio {plural(n, 'file', 'files')} ({shown})"


def printable(path: str | os.PathLike) -> str:
    """``path`` as text that can be printed and written as UTF-8.

    A file name that is not valid UTF-8 reaches Python with its stray bytes as lone
    surrogates, which no UTF-8 output (console, CSV) can take; they are shown as ``\\xNN``.
    """
    text = os.fspath(path)
    if isinstance(text, bytes):
        return text.decode("utf-8", "backslashreplace")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate that is no escaped byte ("\ud800" in a hand-built Track) has no
        # file-system encoding either: show its code point instead.
        raw = text.encode("utf-8", "surrogateescape" if _escapes_only(text) else "surrogatepass")
        return raw.decode("utf-8", "backslashreplace")
    return text


def _escapes_only(text: str) -> bool:
    """Every surrogate in ``text`` is a byte that was not UTF-8 (U+DC80-U+DCFF, as ``os.fsdecode`` makes)."""
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


def write_skipped_csv(handle: IO[str], skipped: Iterable[tuple[str, str]]) -> None:
    """Write what a batch skipped, ``(path, reason)`` pairs, as a CSV with the header ``path,reason``.

    One format for every skipped list (``features.skipped.csv``, ``predictions.skipped.csv``).

    Parameters
    ----------
    handle : text file
        Opened for writing as UTF-8 with ``newline=""``.
    skipped : iterable of (str, str)
        The skipped files (or folders) and why.
    """
    # Printable: a name that is not valid UTF-8 would stop the UTF-8 write halfway.
    handle.write(csv_text([("path", "reason"), *((printable(path), printable(reason)) for path, reason in skipped)]))


def read_skipped_csv(path: str | os.PathLike) -> list[tuple[str, str]] | None:
    """The ``(path, reason)`` pairs of a skipped list that :func:`write_skipped_csv` wrote.

    Parameters
    ----------
    path : path-like
        The skipped list (``features.skipped.csv``).

    Returns
    -------
    skipped : list of (str, str) or None
        One pair per line, ``""`` for a cell the line lacks; ``None`` where the file is absent
        (a run that skipped nothing may write none) or cannot be read as such a list.
    """
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return [(row.get("path") or "", row.get("reason") or "") for row in csv.DictReader(handle)]
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def is_printable(path: str | os.PathLike) -> bool:
    """Whether ``path`` is valid UTF-8 text (see :func:`printable`)."""
    return printable(path) == os.fspath(path)


def _label_key(label: str) -> str:
    return unicodedata.normalize("NFKC", label).casefold()


#: Characters a label's spelling may add or drop without naming another genre (``Hip Hop``,
#: ``Hip-Hop``, ``hip_hop``, ``hiphop``; ``R.&B.``).
_LABEL_SEPARATORS = str.maketrans("", "", " \t-_.")


def label_lookalikes_note(labels: Iterable[str], source: str) -> str | None:
    """One line naming labels that differ only in spaces, hyphens, underscores or dots, or ``None``.

    ``Hip Hop`` and ``hiphop`` folders are two genres to every model, which then confuses
    them with each other; nothing is refused (``Drum & Bass`` and ``Drum and Bass`` are
    for the user to judge), but the user should know before the extraction's hours.

    Parameters
    ----------
    labels : iterable of str
        The dataset's labels.
    source : str
        The dataset, for the note.

    Returns
    -------
    note : str or None
    """
    spellings: dict[str, list[str]] = {}
    for label in sorted(set(labels)):
        spellings.setdefault(_label_key(label).translate(_LABEL_SEPARATORS), []).append(label)
    groups = [group for group in spellings.values() if len(group) > 1]
    if not groups:
        return None
    said = "; ".join(" and ".join(repr(label) for label in group) for group in groups)
    return (
        f"{source}: labels {said} differ only in spaces, hyphens, underscores or dots, and are separate "
        "genres; if they are one, give them one spelling"
    )


def check_label_spellings(where: dict[str, str], source: str) -> None:
    """Refuse labels that differ only in letter case or Unicode form (``Rock`` and ``rock``).

    They would silently be separate genres (and merging them silently would surprise as
    much): the user must choose one spelling.

    Parameters
    ----------
    where : dict
        Each label -> where it was first seen (a folder, a line of a manifest).
    source : str
        The dataset, for the message.

    Raises
    ------
    DataError
        Two labels differ only in case or Unicode form.
    """
    spellings: dict[str, list[str]] = {}
    for label in where:
        spellings.setdefault(_label_key(label), []).append(label)
    clashes = [sorted(group) for group in spellings.values() if len(group) > 1]
    if not clashes:
        return
    described = "; ".join(" and ".join(f"{label!r} ({where[label]})" for label in group) for group in clashes)
    raise DataError(
        f"{source}: labels that differ only in letter case or Unicode form would be separate genres: "
        f"{described}; use one spelling for each genre"
    )


#: Bytes of each file hashed first when files of one size are compared (see :func:`_identical_files`).
_HEAD_BYTES = 1 << 16


def _digest(path: str, *, head: bool) -> str | None:
    """BLAKE2b of ``path``'s first :data:`_HEAD_BYTES` (``head``) or all of its bytes; None if unreadable."""
    try:
        if not head:
            return file_digests(path, ("blake2b",))["blake2b"]  # streamed, a regular file only
        with open(path, "rb") as handle:
            return hashlib.blake2b(handle.read(_HEAD_BYTES)).hexdigest()
    except (OSError, ValueError):
        return None


def _identical_files(files: dict[object, tuple[str, int]]) -> dict[object, object]:
    """Which of ``files`` (key -> (path, size)) hold the same bytes as an earlier one.

    Only files of a size shared with another are read (most collections have none, so
    listing them costs a ``stat`` per file and no reading): their first 64 KiB, then the
    whole of those whose first 64 KiB are alike, streamed.

    Returns
    -------
    dict
        Key of each file whose bytes are those of an earlier file (in ``files``' order) ->
        the key of the first such file.
    """
    by_size: dict[int, list[object]] = {}
    for key, (_, size) in files.items():
        by_size.setdefault(size, []).append(key)
    first: dict[object, object] = {}
    for size, keys in by_size.items():
        if len(keys) < 2:
            continue
        candidates = [keys]
        for head in [True] if size <= _HEAD_BYTES else [True, False]:
            split: dict[tuple[int, str], list[object]] = {}
            for n, group in enumerate(candidates):
                for key in group:
                    digest = _digest(files[key][0], head=head)
                    if digest is not None:  # unreadable: reported when it is read for its sound
                        split.setdefault((n, digest), []).append(key)
            candidates = [group for group in split.values() if len(group) > 1]
        for group in candidates:
            for key in group[1:]:
                first[key] = group[0]
    return first


def reject_repeated_files(
    tracks: list[Track], rejected: list[tuple[str, str]], describe: Callable[[Track], str]
) -> list[Track]:
    """Keep each audio file once: leave out its repeats, and every copy of a file with two labels.

    One sound with two labels is a contradiction no model can learn. One sound listed twice
    with the same label (a manifest row pasted twice, a link beside its target, a copy of
    the file under another name) would count twice, and its copies could fall on both sides
    of a split; one is kept: the file itself rather than a link to it, else the first listing.
    Files are the same when ``os.stat`` says so (links included); files that cannot be
    found are compared by path (where the file system gives no inode numbers, by real path).
    Two files hold the same sound when their bytes are identical (GTZAN's replicas, some of
    them under another genre): files of equal size are compared by hash (see
    :func:`_identical_files`); empty files are no sound, and are left to the reader.

    Parameters
    ----------
    tracks : list of Track
    rejected : list of (path, reason)
        Appended to: one entry per track left out.
    describe : callable
        Where a track was listed, for the messages (e.g. ``"line 4 of m.csv"``).

    Returns
    -------
    list of Track
        The tracks kept, in their order.
    """
    copies: dict[object, list[Track]] = {}
    regular: dict[object, tuple[str, int]] = {}  # non-empty files, for the comparison of contents
    unreadable: set[object] = set()  # paths that cannot be looked at (missing, say): their reader says why
    for track in tracks:
        try:
            info = os.stat(track.path)
            key: object = (info.st_dev, info.st_ino) if info.st_ino else os.path.realpath(track.path)
            if stat.S_ISREG(info.st_mode) and info.st_size > 0:
                regular.setdefault(key, (track.path, info.st_size))
        except (OSError, ValueError):  # ValueError: a NUL character
            key = os.path.normpath(os.path.abspath(track.path))
            unreadable.add(key)
        copies.setdefault(key, []).append(track)
    copy_of = _identical_files(regular)
    sounds: dict[object, list[object]] = {}  # the files of each sound, the first file's key first
    for key in copies:
        sounds.setdefault(copy_of.get(key, key), []).append(key)
    order = {id(t): i for i, t in enumerate(tracks)}
    bad: set[int] = set()
    for keys in sounds.values():
        file_of = {id(t): key for key in keys for t in copies[key]}
        group = sorted((t for key in keys for t in copies[key]), key=lambda t: order[id(t)])
        if len({t.label for t in group}) > 1:
            for track in group:
                same_file = [o for o in group if o.label != track.label and file_of[id(o)] == file_of[id(track)]]
                other_files = [o for o in group if o.label != track.label and file_of[id(o)] != file_of[id(track)]]
                said = []
                if same_file:
                    said.append(
                        "the same audio file is also labelled " + ", ".join(f"{o.label!r} ({describe(o)})" for o in same_file)
                    )
                if other_files:
                    said.append(
                        "a byte-identical copy of it is also labelled "
                        + ", ".join(f"{o.label!r} ({printable(o.path)}, {describe(o)})" for o in other_files)
                    )
                rejected.append(
                    (
                        printable(track.path),
                        f"labelled {track.label!r} ({describe(track)}), but {' and '.join(said)}: "
                        "contradictory labels, left out",
                    )
                )
                bad.add(id(track))
            continue
        # The file itself rather than a link to it, where both are listed; else the first listing.
        kept = next((t for t in group if not os.path.islink(t.path)), group[0])
        for track in (t for t in group if t is not kept):
            if file_of[id(kept)] in unreadable:
                # Not "kept": the first listing is skipped too, for its own reason (no such file).
                reason = f"{describe(track)}: the same path as {describe(kept)}, listed again"
            elif file_of[id(track)] == file_of[id(kept)]:
                reason = f"{describe(track)}: the same audio file as {describe(kept)}, which is kept"
            else:
                reason = f"{describe(track)}: a byte-identical copy of {printable(kept.path)} ({describe(kept)}), which is kept"
            rejected.append((printable(track.path), reason))
            bad.add(id(track))
    return [t for t in tracks if id(t) not in bad]
