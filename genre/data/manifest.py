"""Manifest layout: a CSV with columns ``path,label[,group]``.

Relative paths are resolved against the manifest's own folder, so a manifest travels
with its audio. The same file may be listed more than once (each row is its own track).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from genre.data.tracks import Dataset, Track
from genre.errors import DataError

REQUIRED_COLUMNS = ("path", "label")


def load_manifest(manifest: str | os.PathLike) -> Dataset:
    """Read a manifest CSV into a :class:`Dataset`.

    Track ids are the path as written (without extension); repeated paths get ``#2``,
    ``#3``... suffixes so every row stays a distinct track.

    Raises
    ------
    DataError
        The file is missing or unreadable, lacks a ``path`` or ``label`` column, or lists no rows.
    """
    manifest = Path(manifest)
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise DataError(
                    f"{manifest}: manifest lacks column(s) {', '.join(missing)} "
                    f"(found: {', '.join(columns) or 'none'}; expected path,label[,group])"
                )
            reader.fieldnames = columns
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{manifest}: cannot read manifest ({exc})") from None
    tracks: list[Track] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        raw = (row.get("path") or "").strip()
        if not raw:
            raise DataError(f"{manifest}, line {line}: empty path")
        path = Path(raw) if Path(raw).is_absolute() else manifest.parent / raw
        base = Path(raw).with_suffix("").as_posix()
        seen[base] = seen.get(base, 0) + 1
        track_id = base if seen[base] == 1 else f"{base}#{seen[base]}"
        tracks.append(
            Track(
                path=str(path),
                track=track_id,
                label=(row.get("label") or "").strip(),
                group=(row.get("group") or "").strip(),
            )
        )
    if not tracks:
        raise DataError(f"{manifest}: the manifest lists no files")
    return Dataset(tracks=tracks, rejected=[], name=f"manifest {manifest}", listings=(str(manifest),))
