"""The unit every dataset layout produces: a labelled audio track."""

from __future__ import annotations

from dataclasses import dataclass


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
    """

    tracks: list[Track]
    rejected: list[tuple[str, str]]
    name: str
    listings: tuple[str, ...] = ()

    @property
    def labels(self) -> list[str]:
        """Sorted set of labels."""
        return sorted({t.label for t in self.tracks if t.label})
