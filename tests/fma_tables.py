"""FMA's tracks.csv, written as the archive publishes it, for the tests of the FMA layout."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Mapping, Sequence


def write_fma_tracks_csv(
    path: Path, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[int, Mapping[tuple[str, str], Any]]]
) -> Path:
    """``tracks.csv`` in FMA's published format: two header rows, then the ``track_id,,,`` line.

    Parameters
    ----------
    path : Path
    columns : sequence of (str, str)
        The two-level column names, in order (a selection of FMA's ~50).
    rows : sequence of (int, mapping)
        Track id, and its value in each of ``columns``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([""] + [top for top, _ in columns])
        writer.writerow([""] + [sub for _, sub in columns])
        writer.writerow(["track_id"] + [""] * len(columns))
        for track_id, values in rows:
            writer.writerow([track_id] + [values[c] for c in columns])
    return path
