"""Train/test splits that never leak a track (or a group) across the boundary.

A feature table may hold several rows (segments) per track, and several tracks per
artist. Splitting rows at random would put segments of one recording, or songs of one
artist, on both sides and inflate accuracy. Every split here is therefore made over
track ids -- or over group ids when groups are known -- and only then expanded to rows.

Two protocols:

* :func:`cv_splits`: stratified k-fold over tracks (``StratifiedKFold``) or over groups
  (``StratifiedGroupKFold``), optionally repeated with different shuffles;
* :func:`list_split`: a fixed partition read from list files (one file per line, e.g.
  ``blues/blues.00012.wav``), matched to rows by file stem.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from genre.errors import DataError, ParameterError
from genre.features.table import FeatureTable, file_stem
from genre.text import plural

__all__ = ["Split", "ListMatch", "cv_splits", "list_split", "read_list_file"]


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class Split:
    """One train/test partition of a table's rows.

    Attributes
    ----------
    repeat, fold : int
        Position in the protocol (0-based); a fixed partition is repeat 0, fold 0.
    train, test : numpy.ndarray
        Row indices (into ``table.X``) of the training and test segments.
    train_tracks, test_tracks : numpy.ndarray
        Track ids on each side, in table order.
    """

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray
    train_tracks: np.ndarray
    test_tracks: np.ndarray

    @property
    def test_train_ratio(self) -> float:
        """``n_test / n_train`` in tracks: the Nadeau--Bengio correction needs it."""
        return len(self.test_tracks) / max(len(self.train_tracks), 1)


@dataclass
class ListMatch:
    """How the lines of one list file matched the table.

    Attributes
    ----------
    path : str
        The list file.
    role : str
        ``"train"`` or ``"test"``.
    n_lines : int
        Non-empty, non-comment lines.
    n_matched : int
        Lines that matched a track of the table.
    unmatched : list of str
        The first few lines that matched nothing (all of them are counted in ``n_unmatched``).
    n_unmatched : int
        Lines that matched no track.
    n_ambiguous : int
        Lines whose file name several tracks share, none of them (or more than one) in the
        line's folder: they match no track, as the line cannot say which one it means.
    ambiguous : list of str
        The first few ambiguous lines.
    """

    path: str
    role: str
    n_lines: int
    n_matched: int
    n_unmatched: int
    unmatched: list[str] = field(default_factory=list)
    n_ambiguous: int = 0
    ambiguous: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "role": self.role,
            "n_lines": self.n_lines,
            "n_matched": self.n_matched,
            "n_unmatched": self.n_unmatched,
            "unmatched": list(self.unmatched),
            "n_ambiguous": self.n_ambiguous,
            "ambiguous": list(self.ambiguous),
        }


def cv_splits(
    table: FeatureTable,
    *,
    folds: int = 5,
    repeats: int = 1,
    use_groups: bool = True,
    random_state: int = 0,
) -> list[Split]:
    """Stratified k-fold splits over tracks, or over groups when the table has them.

    Parameters
    ----------
    table : FeatureTable
        A labelled table.
    folds : int
        Number of folds (>= 2).
    repeats : int
        Times the whole k-fold is repeated, each with a different shuffle
        (seed ``random_state + repeat``).
    use_groups : bool
        Keep each group (artist...) on one side when ``table.groups`` exists.
    random_state : int
        Seed of the first repeat's shuffle.

    Returns
    -------
    splits : list of Split
        ``repeats * folds`` splits, ordered by repeat then fold.

    Raises
    ------
    ParameterError
        ``folds < 2`` or ``repeats < 1``.
    DataError
        Fewer tracks (or groups) than folds, or a class with fewer tracks (or groups)
        than folds: that class could not appear in every test fold.
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if folds < 2:
        raise ParameterError(f"--folds {folds}: cross-validation needs at least 2 folds")
    if repeats < 1:
        raise ParameterError(f"--repeats {repeats}: must be at least 1")
    from genre.classifiers.registry import check_seed

    check_seed(random_state, n_derived=repeats)
    per_track = table.track_frame()
    grouped = use_groups and table.groups is not None
    units = per_track["group"] if grouped else per_track["track"]
    check_fold_counts(
        per_track["label"], units, folds=folds, grouped=grouped, where=str(table.path), label_col=table.label_col
    )

    row_track = _row_track_index(table, per_track)
    labels = per_track["label"].to_numpy()
    track_ids = per_track["track"].to_numpy()
    splits: list[Split] = []
    for repeat in range(repeats):
        seed = random_state + repeat
        if grouped:
            splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
            parts = splitter.split(track_ids, labels, groups=units.to_numpy())
        else:
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
            parts = splitter.split(track_ids, labels)
        for fold, (train_tracks, test_tracks) in enumerate(parts):
            splits.append(_expand(repeat, fold, row_track, track_ids, train_tracks, test_tracks))
    return splits


def read_list_file(path: str | os.PathLike) -> list[str]:
    """Lines of a list file: stripped, without blank lines and ``#`` comments.

    Raises
    ------
    DataError
        The file is missing or unreadable.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such list file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the list file ({exc})") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def check_fold_counts(
    labels: Sequence[str] | pd.Series,
    units: Sequence[str] | pd.Series,
    *,
    folds: int,
    grouped: bool,
    where: str,
    label_col: str | None = None,
) -> None:
    """Refuse a cross-validation that some class could not take part in.

    Called on a table's tracks by :func:`cv_splits`, and by ``genre benchmark`` on an audio
    folder's files before any of them is extracted (a refusal then costs no extraction).

    Parameters
    ----------
    labels : sequence of str
        Label of each track.
    units : sequence of str
        What the folds split, one per track: the track itself, or its group (artist).
    folds : int
        Number of folds.
    grouped : bool
        Whether ``units`` are groups (for the messages).
    where : str
        The table or folder, first words of the message.
    label_col : str, optional
        The label column, named when most classes have a single unit.

    Raises
    ------
    DataError
        Fewer units than folds, or a class with fewer units than folds.
    """
    unit = "groups" if grouped else "tracks"
    frame = pd.DataFrame({"label": np.asarray(labels), "unit": np.asarray(units)})
    n_units = frame["unit"].nunique()
    if n_units < folds:
        advice = f"use --folds {n_units} or fewer" if n_units >= 2 else f"cross-validation needs at least 2 {unit}"
        raise DataError(
            f"{where}: {n_units} {plural(n_units, unit[:-1], unit)} for {folds} folds; {advice}"
            + (" (or drop groups)" if grouped else "")
        )
    per_class = frame.groupby("label")["unit"].nunique().sort_values()
    short = per_class[per_class < folds]
    if not len(short):
        return
    listing = ", ".join(f"{label!r} has {count}" for label, count in short.items())
    if short.min() >= 2:
        advice = f"use --folds {int(short.min())} or fewer, or add {unit} to that class"
    else:
        # No number of folds helps: a class of one track (or group) is never both trained and tested.
        singles = int((per_class < 2).sum())
        advice = f"a class with a single {unit[:-1]} cannot be cross-validated: add {unit} to it or remove its rows"
        if singles > len(per_class) / 2:
            advice += (
                f"; {singles} of {len(per_class)} classes have one {unit[:-1]}: is {label_col!r} "
                "really the label column (--label-col)?"
                if not grouped
                else f"; {singles} of {len(per_class)} classes have one group: is the group column the right one (--group-col)?"
            )
    raise DataError(f"{where}: a class has fewer {unit} than folds ({listing}; {folds} folds); {advice}")


def list_split(
    table: FeatureTable,
    *,
    train_lists: Sequence[str | os.PathLike] = (),
    test_list: str | os.PathLike,
    use_groups: bool = True,
) -> tuple[Split, list[ListMatch]]:
    """A fixed train/test partition given by list files.

    Each line names one file (``blues/blues.00012.wav``, ``blues.00012`` ...); it is
    matched to the table's tracks by file stem, and by the longer id where stems repeat.
    A line whose file name several tracks share, and whose folder does not tell which of
    them it means, matches none of them (it is counted as ambiguous).

    Parameters
    ----------
    table : FeatureTable
    train_lists : sequence of path-like
        Files listing the training tracks (their union is used). Empty: every track not
        in the test list trains.
    test_list : path-like
        File listing the test tracks.
    use_groups : bool
        When the table has groups (artists), refuse a partition that puts tracks of one
        group on both sides. ``False`` takes the lists as they are.

    Returns
    -------
    split : Split
    matches : list of ListMatch
        One per list file, with counts of matched, unmatched and ambiguous lines.

    Raises
    ------
    DataError
        A list file is missing or matches no track of the table; a track is listed both
        for training and for testing; a group has tracks on both sides.
    """
    per_track = table.track_frame()
    index = _StemIndex(per_track["track"].to_numpy(), per_track["stem"].to_numpy())
    matches: list[ListMatch] = []

    def select(path, role: str) -> set[int]:
        lines = read_list_file(path)
        chosen: set[int] = set()
        unmatched: list[str] = []
        ambiguous: list[str] = []
        for line in lines:
            found = index.lookup(line)
            if len(found) == 1:
                chosen.update(found)
            elif found:
                # Taking every candidate would test (or train) on tracks the line never named.
                ambiguous.append(line)
            else:
                unmatched.append(line)
        if not chosen:
            example = per_track["stem"].iloc[0]
            if not lines:
                raise DataError(f"{path}: the {role} list file is empty")
            if ambiguous:
                raise DataError(
                    f"{path}: none of its {len(lines)} lines matches one track of {table.path.name}: "
                    f"{_ambiguity(index, ambiguous)}"
                )
            raise DataError(
                f"{path}: none of its {len(lines)} lines matches a track of {table.path.name} "
                f"(lines look like {lines[0]!r}, the tracks' file stems like {example!r})"
            )
        n_matched = len(lines) - len(unmatched) - len(ambiguous)
        matches.append(
            ListMatch(str(path), role, len(lines), n_matched, len(unmatched), unmatched[:10], len(ambiguous), ambiguous[:10])
        )
        return chosen

    test = select(test_list, "test")
    if train_lists:
        train: set[int] = set()
        for path in train_lists:
            train |= select(path, "train")
    else:
        train = set(range(len(per_track))) - test
    both = sorted(train & test)
    if both:
        examples = ", ".join(per_track["track"].iloc[both[:5]])
        raise DataError(
            f"{test_list}: {len(both)} {plural(len(both), 'track is', 'tracks are')} listed for both training and "
            f"testing (e.g. {examples}); the lists must not overlap"
        )
    if not train:
        raise DataError(f"{test_list}: every track of {table.path.name} is in the test list; nothing left to train on")
    if use_groups and table.groups is not None:
        _check_groups_apart(table, per_track, sorted(train), sorted(test), test_list=test_list, lists=bool(train_lists))
    row_track = _row_track_index(table, per_track)
    split = _expand(0, 0, row_track, per_track["track"].to_numpy(), np.array(sorted(train)), np.array(sorted(test)))
    return split, matches


# -- helpers ----------------------------------------------------------------------------------
def _check_groups_apart(
    table: FeatureTable,
    per_track: pd.DataFrame,
    train: list[int],
    test: list[int],
    *,
    test_list: str | os.PathLike,
    lists: bool,
) -> None:
    """Refuse a partition that puts tracks of one group (artist) on both sides.

    Tracks without a group are each a group of their own, so they never conflict.
    """
    groups = per_track["group"]
    on_train, on_test = groups.iloc[train], groups.iloc[test]
    shared = pd.unique(on_test[on_test.isin(set(on_train))])
    if not len(shared):
        return
    n_train, n_test = on_train.value_counts(), on_test.value_counts()
    examples = ", ".join(f"{g!r} ({n_train[g]} training, {n_test[g]} test)" for g in shared[:3])
    n = len(shared)
    sides = "the training lists and the test list" if lists else "the test list and the tracks not in it (which train)"
    raise DataError(
        f"{test_list}: {n} {plural(n, 'group', 'groups')} of column {table.group_col!r} "
        f"{plural(n, 'has', 'have')} tracks on both sides of the partition, in {sides} "
        f"(e.g. {examples}{', ...' if n > 3 else ''}); one artist's tracks must stay on one side: fix the lists, "
        "or pass --no-groups (and no --group-col) to use them as they are"
    )


def _ambiguity(index: "_StemIndex", lines: list[str]) -> str:
    """Why ambiguous lines match nothing, with the tracks the first one could mean."""
    candidates = [index.track_ids[p] for p in index.lookup(lines[0])]
    shown = ", ".join(candidates[:3]) + (", ..." if len(candidates) > 3 else "")
    n = len(lines)
    return (
        f"{n} {plural(n, 'line names a file name', 'lines name file names')} that several tracks share, and "
        f"{plural(n, 'its folder does', 'their folders do')} not say which (e.g. {lines[0]!r} could be {shown}); "
        "write each line with the folders of the table's track ids"
    )


def _row_track_index(table: FeatureTable, per_track: pd.DataFrame) -> np.ndarray:
    """For every row, the position of its track in ``per_track``."""
    return pd.Index(per_track["track"]).get_indexer(table.tracks)


def _expand(
    repeat: int,
    fold: int,
    row_track: np.ndarray,
    track_ids: np.ndarray,
    train_tracks: np.ndarray,
    test_tracks: np.ndarray,
) -> Split:
    train_rows = np.flatnonzero(np.isin(row_track, train_tracks))
    test_rows = np.flatnonzero(np.isin(row_track, test_tracks))
    # Guard against a future change breaking the one property everything relies on.
    if np.intersect1d(train_tracks, test_tracks).size:
        raise AssertionError("a track lies on both sides of a split")
    return Split(
        repeat=repeat,
        fold=fold,
        train=train_rows,
        test=test_rows,
        train_tracks=track_ids[np.sort(train_tracks)],
        test_tracks=track_ids[np.sort(test_tracks)],
    )


def _nfc(text: str) -> str:
    """``text`` in Unicode normal form C, the form names are compared in.

    macOS writes file names decomposed (NFD: ``e`` and a combining accent), while lists
    typed or generated elsewhere are mostly composed (NFC: one ``é``); the two look the same
    and are one name.
    """
    return unicodedata.normalize("NFC", text)


class _StemIndex:
    """Finds tracks for a list-file line: by stem, and by path suffix when stems repeat.

    Names are compared in Unicode normal form C (see :func:`_nfc`), so a line matches a
    file name written in another normal form; :attr:`track_ids` keep the table's spelling.
    """

    def __init__(self, track_ids: np.ndarray, stems: np.ndarray) -> None:
        self.track_ids = [str(t) for t in track_ids]
        self._keys = [_nfc(t) for t in self.track_ids]
        self.by_stem: dict[str, list[int]] = {}
        for position, stem in enumerate(stems):
            self.by_stem.setdefault(_nfc(str(stem)), []).append(position)

    def lookup(self, line: str) -> list[int]:
        """Positions of the tracks ``line`` may name: one, none, or several when it is ambiguous."""
        line = _nfc(line)
        stem = file_stem(line)
        found = self.by_stem.get(stem, [])
        if len(found) <= 1:
            return found
        # Two tracks share a file name (e.g. in different folders): match the folder too.
        wanted = line.replace("\\", "/")
        wanted = wanted[: -len(Path(wanted).suffix)] if file_stem(wanted) != Path(wanted).name else wanted
        narrowed = [p for p in found if self._keys[p].endswith(wanted) or wanted.endswith(self._keys[p])]
        exact = [p for p in narrowed if self._keys[p] == wanted]
        # Several candidates left (none in the line's folder, or the folder is left out): ambiguous.
        return exact or narrowed or found
