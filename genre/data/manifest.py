"""Manifest layout: a CSV with columns ``path,label[,group]`` (the group column may be called ``artist``).

An optional ``sha256``, ``sha1`` or ``md5`` column declares each file's checksum, which
``genre check`` verifies (:mod:`genre.data.checksums`).

Relative paths are resolved against the manifest's own folder (not the current one), so a
manifest travels with its audio; ``~`` is the home folder, ``file://`` URLs are read as the
local path they name, other URLs are refused row by row. A file listed again is read once
(see :func:`load_manifest`).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import urllib.parse
from pathlib import Path

from genre.data.tracks import (
    Checksum, Dataset, Track, check_label_spellings, is_printable, label_lookalikes_note, printable,
    reject_repeated_files, with_notes,
)
from genre.errors import DataError
from genre.text import plural

REQUIRED_COLUMNS = ("path", "label")
#: Names of the group (artist, album...) column, in order of preference (case-insensitive): the
#: first one present is the group column. The feature-table reader takes these very names
#: (``genre.features.table`` imports them), so manifests and tables agree on what is a group.
GROUP_CANDIDATES: tuple[str, ...] = ("group", "artist")
COLUMNS = (*REQUIRED_COLUMNS, *GROUP_CANDIDATES)
#: Checksum columns (case-insensitive), each named after its algorithm: read into
#: :attr:`Dataset.checksums` for ``genre check``, and ignored by everything else.
CHECKSUM_COLUMNS: tuple[str, ...] = ("sha256", "sha1", "md5")

#: A path cell that is a URL (``https://...``, ``s3://...``): ``scheme://``.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

#: Cell separators recognised, the first whose split of the header line names the columns:
#: a comma, a tab (``.tsv``, Excel's "Unicode text") or a semicolon (spreadsheets in locales
#: that write decimal commas).
DELIMITERS = (",", "\t", ";")


def _read_text(manifest: Path) -> str:
    """The manifest's text: UTF-8 (with or without BOM), or UTF-16 with a BOM (Excel's "Unicode text")."""
    try:
        data = manifest.read_bytes()
    except OSError as exc:
        raise DataError(f"{manifest}: cannot read manifest ({exc.strerror or exc})") from None
    encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{manifest}, line {line}: cannot read manifest: not {encoding.upper().removesuffix('-SIG')} text "
            f"(byte 0x{data[exc.start]:02x}); save it as UTF-8 (in a spreadsheet: CSV UTF-8)"
        ) from None


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    for delimiter in DELIMITERS:
        names = [c.strip().lower() for c in next(csv.reader([first], delimiter=delimiter), [])]
        if all(c in names for c in REQUIRED_COLUMNS):
            return delimiter
    return ","


def looks_like_manifest(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a manifest of audio files rather than a feature table.

    Its first line names ``path`` and ``label`` (in a separator :func:`load_manifest` reads),
    and neither ``segment`` nor ``start``, which every table ``genre extract`` writes has.
    Reads only the start of the file; ``False`` for anything unreadable.
    """
    names = manifest_header(path)
    return names is not None and not {c.lower() for c in names} & {"segment", "start"}


def manifest_header(path: str | os.PathLike) -> list[str] | None:
    """The column names of a manifest's first line, as written (stripped), in the separator
    :func:`load_manifest` reads; ``None`` for a file that is unreadable or names no ``path``
    and ``label`` (the listing then says why).

    Reads only the start of the file, for messages about columns before the manifest is listed.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return None
    encoding = "utf-16" if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    first = head.decode(encoding, errors="replace").split("\n", 1)[0]
    for delimiter in DELIMITERS:
        names = [c.strip() for c in next(csv.reader([first], delimiter=delimiter), [])]
        if set(REQUIRED_COLUMNS) <= {c.lower() for c in names}:
            return names
    return None


def group_column(names: list[str]) -> str | None:
    """Which of a manifest's columns (``names``, as :func:`manifest_header` gives them) holds its
    groups: the first of :data:`GROUP_CANDIDATES` present, in any case, as written; or ``None``."""
    lowered = [c.lower() for c in names]
    found = next((c for c in GROUP_CANDIDATES if c in lowered), None)
    return None if found is None else names[lowered.index(found)]


def _local_path(raw: str) -> tuple[str, str | None]:
    """A path cell as a local path, or why it cannot be one.

    ``file:///music/a%20b.wav`` -> ``/music/a b.wav`` (``file://localhost/...`` too);
    any other URL (``https://``, ``s3://``, a ``file://`` URL naming another host) is refused.

    Returns
    -------
    path : str
        The cell itself, or the local path its ``file://`` URL names.
    refusal : str or None
        Why the cell names no local file, or ``None``.
    """
    if not _URL.match(raw):
        return raw, None
    url = urllib.parse.urlsplit(raw)
    if url.scheme.lower() == "file" and url.netloc.lower() in ("", "localhost"):
        from urllib.request import url2pathname  # imports http.client: only when needed

        return url2pathname(url.path), None
    where = f"another computer ({url.netloc})" if url.scheme.lower() == "file" else "a URL"
    return raw, (
        f"the path {raw!r} is {where}, not a file here: genre reads local files only; download it "
        "and list the local path (relative to the manifest, or absolute)"
    )


def _resolve(raw: str, folder: Path) -> tuple[Path, str]:
    """The file a path cell names, and the path as read.

    A Windows path (``audio\\a.wav``) is read with ``/`` where only that file exists;
    ``~`` and ``~user`` are home folders (unless only a file so named in the manifest's
    folder exists).
    """
    if raw.startswith("~"):
        home = os.path.expanduser(raw)
        if home != raw and (Path(home).exists() or not (folder / raw).exists()):
            return Path(home), raw
    path = Path(raw) if Path(raw).is_absolute() else folder / raw
    if os.sep == "/" and "\\" in raw and not path.exists():
        converted = raw.replace("\\", "/")
        alternative = Path(converted) if Path(converted).is_absolute() else folder / converted
        if alternative.exists():
            return alternative, converted
    return path, raw


def _without_detours(path: Path, written: str) -> tuple[Path, str]:
    """``sub/../aud/b.wav`` read as ``aud/b.wav`` (the file's path and its track id), as written otherwise.

    Only where both name the same file: through a link, ``sub/..`` may lead elsewhere than
    the folder that holds ``sub``, and the path is then kept as written.
    """
    tidy = Path(os.path.normpath(path))
    if tidy == path or os.path.realpath(tidy) != os.path.realpath(path):
        return path, written
    return tidy, os.path.normpath(written)


def load_manifest(manifest: str | os.PathLike) -> Dataset:
    """Read a manifest CSV into a :class:`Dataset`.

    The first line names the columns ``path``, ``label`` and optionally the group: ``group``
    or ``artist`` (:data:`GROUP_CANDIDATES`, the names the feature-table reader takes; with
    both, ``group``), in any order and letter case, separated by commas, tabs or
    semicolons. A ``sha256``, ``sha1`` or ``md5`` column (:data:`CHECKSUM_COLUMNS`) declares
    the file's checksum: its non-empty cells go to :attr:`Dataset.checksums` as written, for
    :func:`genre.data.checksums.verify` to check. Other columns are ignored, and
    :attr:`Dataset.notes` names them. The file is UTF-8 (a BOM is allowed) or UTF-16 with a BOM.

    Relative paths are resolved against the folder of the manifest, not the current
    folder; ``~/...`` is in the home folder; Windows paths with ``\\`` are read with ``/``
    where only that file exists; a ``file://`` URL is read as the local path it names.
    Track ids are the path as written (without extension; ``sub/../a.wav`` read as ``a.wav``
    where both name the same file); paths that differ only in their
    extension (``a.wav``, ``a.mp3``) get ``#2``, ``#3``... suffixes so every file stays a
    distinct track. Blank rows are skipped.

    Rows that cannot be used go to ``Dataset.rejected`` with their line number, and the
    other rows are read: a row with more cells than the header (an unquoted comma in a
    path), an empty path, a URL (``https://...``: only local files are read), an empty
    label when other rows have one, a file listed again (its first row is kept), a file
    listed again with another label (every row of it). A manifest without any label is
    read as unlabelled.

    Raises
    ------
    DataError
        The file is missing or unreadable, lacks a ``path`` or ``label`` column, names a
        column twice, lists no usable rows, or has labels that differ only in case
        (``Rock`` and ``rock``).
    """
    manifest = Path(manifest)
    if not is_printable(manifest):
        raise DataError(f"{printable(manifest)}: the manifest's path is not valid UTF-8; rename it")
    text = _read_text(manifest)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader, [])
        names = [c.strip().lower() for c in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise DataError(
                f"{manifest}: manifest lacks column(s) {', '.join(missing)} "
                f"(found: {', '.join(c.strip() for c in header) or 'none'}; expected a first line naming "
                "path,label[,group or artist], separated by commas, tabs or semicolons)"
            )
        twice = [c for c in COLUMNS if names.count(c) > 1]
        if twice:
            raise DataError(f"{manifest}: column(s) {', '.join(twice)} named more than once in the first line")
        where = {c: names.index(c) for c in REQUIRED_COLUMNS}
        group_column = next((c for c in GROUP_CANDIDATES if c in names), None)
        if group_column is not None:
            where["group"] = names.index(group_column)
        sums = {c: names.index(c) for c in CHECKSUM_COLUMNS if c in names}
        rows: list[tuple[int, list[str]]] = []
        line = reader.line_num + 1
        for cells in reader:
            rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"{manifest}, line {reader.line_num}: cannot read manifest ({exc})") from None

    # Columns not read, for a note; an unnamed one only when it holds something (a spreadsheet's
    # trailing empty columns are no news).
    unread = [
        header[i].strip() or f"(column {i + 1}, unnamed)"
        for i in range(len(header))
        if i not in where.values()
        and i not in sums.values()
        and (header[i].strip() or any(i < len(cells) and cells[i].strip() for _, cells in rows))
    ]

    def cell(cells: list[str], column: str) -> str:
        i = where.get(column)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    tracks: list[Track] = []
    lines: dict[str, int] = {}  # track id (unique) -> its line
    declared: dict[str, tuple[Checksum, ...]] = {}  # track id -> its checksum cells
    rejected: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue  # a blank row (",,," from a spreadsheet)
        raw = cell(cells, "path")
        at = f"line {line} of {manifest.name}"
        if "\0" in raw:
            rejected.append((str(manifest), f"{at}: the path holds a NUL character"))
            continue
        local, refusal = _local_path(raw)
        if refusal:
            rejected.append((raw, f"{at}: {refusal}"))
            continue
        path, written = _without_detours(*_resolve(local, manifest.parent)) if local else (None, "")
        if any(c.strip() for c in cells[len(header) :]):
            rejected.append(
                (
                    str(path) if path else str(manifest),
                    f"{at}: {len(cells)} cells, but the first line names {len(header)} columns "
                    "(a path with a comma must be in double quotes)",
                )
            )
            continue
        if path is None:
            rejected.append((str(manifest), f"{at}: empty path cell"))
            continue
        base = Path(written).with_suffix("").as_posix()
        seen[base] = seen.get(base, 0) + 1
        track = Track(
            path=str(path),
            track=base if seen[base] == 1 else f"{base}#{seen[base]}",
            label=cell(cells, "label"),
            group=cell(cells, "group"),
        )
        lines[track.track] = line
        tracks.append(track)
        written_sums = ((c, cells[i].strip()) for c, i in sums.items() if i < len(cells) and cells[i].strip())
        declared[track.track] = tuple(Checksum(c, digest, f"line {line} of {manifest.name}") for c, digest in written_sums)
    if any(t.label for t in tracks):
        for track in [t for t in tracks if not t.label]:
            reason = f"line {lines[track.track]} of {manifest.name}: no label (other rows have one)"
            rejected.append((track.path, reason))
        tracks = [t for t in tracks if t.label]
    tracks = reject_repeated_files(tracks, rejected, lambda t: f"line {lines[t.track]} of {manifest.name}")
    if not tracks:
        if rejected:
            raise DataError(f"{manifest}: no usable row in the manifest; e.g. {rejected[0][0]}: {rejected[0][1]}")
        raise DataError(f"{manifest}: the manifest lists no files")
    first_line: dict[str, str] = {}
    for track in tracks:
        first_line.setdefault(track.label, f"line {lines[track.track]}")
    check_label_spellings(first_line, str(manifest))
    dataset = Dataset(
        tracks=tracks,
        rejected=rejected,
        name=f"manifest {manifest}",
        listings=(str(manifest),),
        checksums={t.track: declared[t.track] for t in tracks if declared[t.track]},
        where={t.track: f"line {lines[t.track]} of {manifest.name}" for t in tracks},
    )
    lookalikes = label_lookalikes_note(dataset.labels, manifest.name)
    return with_notes(dataset, [_unread_note(manifest, unread, group_column), lookalikes])


def _unread_note(manifest: Path, unread: list[str], group_column: str | None) -> str | None:
    """One line naming the manifest's columns that are not read, or ``None`` for none."""
    if not unread:
        return None
    if group_column:
        read = f"read: path, label, and {group_column!r} as the group"
    else:
        names = " or ".join(repr(c) for c in GROUP_CANDIDATES)
        read = f"read: path and label; a {names} column would keep each artist's tracks on one side of every split"
    n = len(unread)
    shown = ", ".join(repr(c) for c in unread[:8]) + (", ..." if n > 8 else "")
    return f"{manifest.name}: {plural(n, 'column', 'columns')} {shown} {plural(n, 'is', 'are')} not read ({read})"
