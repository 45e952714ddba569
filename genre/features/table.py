"""Reading a feature table, ours or someone else's, into features, labels and track ids.

Two kinds of table are accepted:

* tables written by ``genre extract``: ID columns ``path,track,segment,start,label,group``
  followed by the feature columns, with a JSON sidecar ``<name>.json`` describing them;
* external tables as they are, e.g. the public GTZAN ``features_30_sec.csv``
  (``filename,length,<features>,label``) or its 3-second variant, whose file names
  ``blues.00000.3.wav`` carry a segment number that must not separate a track's rows.

Whatever the source, :func:`load_feature_table` returns a :class:`FeatureTable` whose
``tracks`` give every row its track id, so that evaluation can keep a track's segments
(and, with ``groups``, an artist's tracks) on one side of every split.
"""

from __future__ import annotations


import csv
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

# The group column names are the manifest's: a table extracted from a manifest keeps its groups.
from genre.data.manifest import DELIMITERS, GROUP_CANDIDATES
from genre.data.tracks import check_label_spellings
from genre.errors import DataError, ParameterError
from genre.features.config import EXTRACTION_FOLDER_KEY, ID_COLUMNS
from genre.text import plural

__all__ = [
    "FeatureTable", "load_feature_table", "file_stem", "names_a_role", "check_distinct_tables", "bad_cells_by_track",
]

#: Column names taken for the label, in order of preference (compared case-insensitively).
LABEL_CANDIDATES: tuple[str, ...] = ("label", "genre", "class", "target", "category", "y")
#: Column names taken for the file / track id, in order of preference.
ID_CANDIDATES: tuple[str, ...] = ("track", "filename", "file_name", "file", "path", "track_id", "id", "name")
#: Numeric columns that describe the file, not its sound: never used as features.
#: (GTZAN's ``length`` is the clip length in samples.)
NON_FEATURE_COLUMNS: tuple[str, ...] = (
    "length",
    "duration",
    "segment",
    "start",
    "index",
    "fold",
    "split",
    "sr",
    "sample_rate",
)
#: Further names of columns that identify or group tracks (album, ``artist_id``, ``song_id``...).
#: Numbers in such a column say which track or artist a row belongs to, not how it sounds;
#: as a feature they leak: tracks of one artist share the value, so a model learns the
#: artist (see :func:`names_a_role`).
ROLE_LIKE_COLUMNS: tuple[str, ...] = ("album",)
#: Name patterns of such columns: ``artist...``, ``album...``, and ``..._id`` / ``... id``.
_ROLE_LIKE_PATTERN = re.compile(r"^(?:artist|album)|[_\s.-]id$")
#: A column that is not a declared feature and holds text in more than this share of its
#: filled cells is a text column (titles, names; a title "1979" among them makes it no
#: feature) and is left out; with a smaller share it is a feature column with bad cells,
#: refused (see :func:`load_feature_table`).
MAX_TEXT_SHARE_OF_A_FEATURE = 0.5
#: Extensions stripped from ids to get a file stem (audio, plus feature / array files).
_STRIP_EXTENSIONS = frozenset(
    {".wav", ".au", ".snd", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".m4a", ".opus", ".npy", ".npz"}
)
#: ``<stem>.<segment>``: a segment suffix is a small number without leading zeros.
_SEGMENT_SUFFIX = re.compile(r"^(?P<base>.+)\.(?P<segment>0|[1-9]\d{0,3})$")
#: Sidecar ``format`` of tables written by ``genre extract``.
OWN_FORMAT_PREFIX = "genre-features/"


def names_a_role(column: str) -> bool:
    """Whether a column's name marks it as a label, an id or a grouping, never a feature.

    True (compared case-insensitively, without surrounding blanks) for the names taken for
    labels, ids and groups (:data:`LABEL_CANDIDATES`, :data:`ID_CANDIDATES`,
    :data:`GROUP_CANDIDATES`), :data:`ROLE_LIKE_COLUMNS`, names starting with ``artist`` or
    ``album``, and names ending in ``_id``, `` id``, ``-id`` or ``.id``. Whichever column
    holds the labels, ids and groups, the others with such names are left out too: a numeric
    ``artist_id`` beside the ``artist`` group, or a ``class`` column beside ``--label-col
    genre``, would let a model recognise the artist or read the answer.

    Parameters
    ----------
    column : str
        A column name, e.g. ``artist_id``.

    Returns
    -------
    bool
    """
    name = column.strip().lower()
    if name in (*LABEL_CANDIDATES, *ID_CANDIDATES, *GROUP_CANDIDATES, *ROLE_LIKE_COLUMNS):
        return True
    return _ROLE_LIKE_PATTERN.search(name) is not None


def file_stem(name: str) -> str:
    """File name without folders and without a known audio extension.

    Unlike :attr:`pathlib.Path.stem`, an unknown suffix is kept, so an id such as
    ``blues.00012`` (no extension) stays ``blues.00012`` instead of becoming ``blues``.

    Parameters
    ----------
    name : str
        A path, file name or track id, e.g. ``blues/blues.00012.wav``.

    Returns
    -------
    stem : str
        E.g. ``blues.00012``.
    """
    base = PurePosixPath(str(name).strip().replace("\\", "/")).name
    suffix = PurePosixPath(base).suffix
    if suffix.lower() in _STRIP_EXTENSIONS:
        base = base[: -len(suffix)]
    return base


#: Longest track's rows, in median tracks' rows, above which :meth:`FeatureTable.row_share_note` speaks.
ROW_SHARE_RATIO = 4.0


@dataclass
class FeatureTable:
    """A feature table ready for training or evaluation.

    Attributes
    ----------
    X : pandas.DataFrame
        Feature values (float64), one row per segment (or per track), index 0..n-1.
    y : numpy.ndarray
        Label of each row, as ``str`` (empty strings when the table is unlabelled).
    tracks : numpy.ndarray
        Track id of each row (``str``); the segments of one track share it.
    stems : numpy.ndarray
        File stem of each row's track (e.g. ``blues.00012``), what list files are matched on.
    groups : numpy.ndarray or None
        Group (artist...) of each row, or ``None`` when the table has none. Tracks without
        a group get a group of their own, so they are still kept whole.
    feature_columns : list of str
        Names of the columns of ``X``.
    config : dict or None
        Feature configuration from the sidecar (``FeatureConfig.to_dict()``), if any.
    meta : dict
        The whole sidecar, or ``{}`` for external tables.
    path : pathlib.Path
        The CSV that was read.
    label_col, id_col, group_col : str or None
        Columns the labels, track ids and groups were taken from.
    ignored_columns : list of str
        Columns that were neither features nor IDs and were left out (text columns,
        ``length``..., columns named as ids or groupings such as ``artist_id``, ``--drop``),
        so reports can say so.
    kind : str
        ``"handcrafted"`` / ``"embedding"`` ... from the sidecar, or ``"external"``.
    ungrouped : numpy.ndarray or None
        With ``groups``: ``True`` for each row whose track has no group in ``group_col``
        (and so is a group of its own); see :meth:`group_note`.
    separator : str
        The cell separator of the CSV (``,``, ``;`` or a tab), for reading more columns of it.
    """

    X: pd.DataFrame
    y: np.ndarray
    tracks: np.ndarray
    stems: np.ndarray
    groups: np.ndarray | None
    feature_columns: list[str]
    config: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path = Path("")
    label_col: str | None = None
    id_col: str | None = None
    group_col: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    kind: str = "external"
    ungrouped: np.ndarray | None = None
    separator: str = ","

    # -- derived views -------------------------------------------------------------------
    @property
    def name(self) -> str:
        """File name of the table, e.g. ``features_30_sec.csv``."""
        return self.path.name

    @property
    def input_description(self) -> str:
        """What a model trained on this table reads, e.g. ``features.csv (handcrafted, 331 features)``."""
        return f"{self.name} ({self.kind}, {len(self.feature_columns)} features)"

    @property
    def n_rows(self) -> int:
        return len(self.X)

    @property
    def labels(self) -> list[str]:
        """Sorted distinct labels."""
        return sorted(set(self.y.tolist()) - {""})

    @property
    def n_tracks(self) -> int:
        return len(pd.unique(self.tracks))

    @property
    def n_ungrouped_tracks(self) -> int:
        """Tracks without a group in ``group_col``, each a group of its own (0 without groups)."""
        if self.groups is None or self.ungrouped is None:
            return 0
        return len(pd.unique(self.tracks[np.asarray(self.ungrouped, dtype=bool)]))

    @property
    def n_named_groups(self) -> int | None:
        """Distinct groups written in ``group_col`` (tracks without one not counted); ``None`` without groups."""
        if self.groups is None:
            return None
        named = self.groups if self.ungrouped is None else self.groups[~np.asarray(self.ungrouped, dtype=bool)]
        return len(pd.unique(named))

    def group_note(self) -> str | None:
        """One sentence on tracks without a group, for group-aware results; ``None`` when every track has one.

        Returns
        -------
        note : str or None
            E.g. ``"3 of 12 tracks have no group in column 'group'; each is its own group
            ..."``.
        """
        n = self.n_ungrouped_tracks
        if not n:
            return None
        return (
            f"{n} of {self.n_tracks} {plural(self.n_tracks, 'track', 'tracks')} {plural(n, 'has', 'have')} no group "
            f"in column {self.group_col!r}; each is its own group (its segments stay together, but it may share an "
            "artist with tracks on the other side of a split): fill in the column for fully group-disjoint folds."
        )

    def row_share_note(self, *, ratio: float = ROW_SHARE_RATIO) -> str | None:
        """One sentence when a few long tracks give most rows; ``None`` when rows are even.

        Models learn from rows (segments), one weight each, so a track of many segments
        (a 10-minute recording among 30-second clips) weighs that many times more in
        training, and its production can pass for its genre's. Scores stay per track.

        Parameters
        ----------
        ratio : float
            Said when the longest track has more than ``ratio`` times the median track's rows.

        Returns
        -------
        note : str or None
            E.g. ``"Rows are not weighted per track: tracks give 5 to 200 rows (median 5),
            so the longest weighs up to 40 times a typical track in training; x.wav alone
            gives 62 % of the rows."``.
        """
        counts = pd.Series(self.tracks).value_counts(sort=True)
        median = float(counts.median())
        if counts.iloc[0] <= ratio * median:
            return None
        return (
            f"Rows are not weighted per track: tracks give {counts.min()} to {counts.iloc[0]} rows (median "
            f"{median:g}), so the longest weighs up to {counts.iloc[0] / median:.0f} times a typical track in "
            f"training; {counts.index[0]} alone gives {100 * counts.iloc[0] / len(self.tracks):.0f} % of the rows. Scores "
            "are per track all the same; to weigh tracks alike, cut long recordings, or extract one row per track "
            "(--segment-seconds 0)."
        )

    def track_frame(self) -> pd.DataFrame:
        """One row per track: ``track``, ``label``, ``stem``, ``group``, ``n_rows``, in first-seen order."""
        frame = pd.DataFrame(
            {
                "track": self.tracks,
                "label": self.y,
                "stem": self.stems,
                "group": self.groups if self.groups is not None else self.tracks,
            }
        )
        grouped = frame.groupby("track", sort=False)
        result = grouped.first()
        result["n_rows"] = grouped.size()
        return result.reset_index()


def load_feature_table(
    path: str | os.PathLike,
    *,
    label_col: str | None = None,
    id_col: str | None = None,
    group_col: str | None = None,
    drop: Sequence[str] = (),
    labelled: bool = True,
    features: Sequence[str] | None = None,
    can_drop: bool = True,
    nonfinite_tracks: bool = False,
) -> FeatureTable:
    """Read a feature CSV (``genre extract`` output or an external table).

    Parameters
    ----------
    path : path-like
        The CSV file, its cells separated by commas, semicolons or tabs (whichever splits
        the header line into the most columns). A sidecar ``<name>.json`` beside it, if
        present, supplies the feature configuration and the column roles.
    label_col : str, optional
        Column holding the genre; default: detected (``label``, ``genre``, ``class``...).
    id_col : str, optional
        Column holding the file or track id; default: detected (``track``, ``filename``,
        ``path``...). Without one, every row is its own track. In file-name columns a
        ``.N`` segment suffix (``blues.00000.3.wav``) is recognised and rows sharing the
        rest are one track.
    group_col : str, optional
        Column holding a group (artist, album) kept whole by splits; it must be filled in
        some row. Default: a ``group`` or ``artist`` column that is filled in some row, if
        any. Either way a track without a group becomes a group of its own, and
        :meth:`FeatureTable.group_note` says how many did.
    drop : sequence of str
        Further columns to leave out of the features; not the label, id or group column.
    labelled : bool
        Require labels (training, evaluation). With ``False`` the label column is
        optional and class checks are skipped (prediction).
    features : sequence of str, optional
        Read only these columns as features (prediction: the model's), whatever their names;
        any other is left out unchecked, as with ``drop``. Absent ones are no error here: the
        caller compares (see :func:`genre.classifiers.prediction.check_table_compatible`).
    can_drop : bool
        The caller can leave columns out (``--drop`` of ``genre train`` and ``genre
        benchmark``): messages about unusable feature values suggest it. With ``False``
        (``genre predict``) they say to fix the table.
    nonfinite_tracks : bool
        Keep NaN and infinite feature values in ``X`` instead of refusing the table
        (prediction: such a track is left out, the others predicted). The table is refused
        only when every track holds one; magnitudes are checked on the other tracks' rows.

    Returns
    -------
    FeatureTable

    Raises
    ------
    DataError
        The file is missing, unreadable or empty; there is no label column (the message
        lists the columns); a feature column holds text in some cells (named, with a hint
        to ``--drop`` where ``can_drop``);
        features hold NaN or infinite values (columns and row count named), or magnitudes
        beyond :data:`MAX_FEATURE_MAGNITUDE` (column, row and track named); there is only
        one class; labels differ only in letter case or Unicode form (``BLUES`` and
        ``blues``, as folders and manifests refuse them); a track's rows disagree on
        their label or group; a ``group_col`` named by the caller is empty in every row;
        a file name repeats in an external table without ``segment``/``start`` columns.
    ParameterError
        A column named by ``label_col``, ``id_col``, ``group_col`` or ``drop`` does not exist;
        the label column is also the id or group column; ``drop`` names the label, id or
        group column (the message says whether it was named or found).

    Notes
    -----
    The features of a table of ``genre extract`` are the columns its sidecar declares; with
    ``features``, those columns. Otherwise every column is a feature except

    * the label, id and group columns, and ``drop``;
    * columns that describe the file (:data:`NON_FEATURE_COLUMNS`, pandas' ``Unnamed: 0``
      index) or whose names mark an id or a grouping (:func:`names_a_role`: ``artist_id``,
      ``album``, ``song_id``...), even when they hold numbers;
    * text columns: text in more than :data:`MAX_TEXT_SHARE_OF_A_FEATURE` of the filled
      cells. A column mostly of numbers with some text is a corrupt feature and refused.

    Those left out are listed in :attr:`FeatureTable.ignored_columns`, which reports show.
    """
    path = Path(path)
    # The columns that may hold labels, ids or groups are read as the text written, in the
    # one pass that reads the features: '01' is no 1, nor '1.0' a 1 (see _read_csv).
    frame, separator = _read_csv(
        path, text=lambda names: _text_columns(names, label_col=label_col, id_col=id_col, group_col=group_col)
    )
    meta = _read_sidecar(path)
    own = str(meta.get("format", "")).startswith(OWN_FORMAT_PREFIX) or set(ID_COLUMNS) <= set(frame.columns)
    columns = list(frame.columns)

    for option, name in (("--label-col", label_col), ("--id-col", id_col), ("--group-col", group_col)):
        if name is not None and name not in frame.columns:
            raise ParameterError(f"{path}: {option} {name!r} is not a column; columns are {_list(columns)}")
    missing_drop = [c for c in drop if c not in frame.columns]
    if missing_drop:
        raise ParameterError(f"{path}: --drop {_list(missing_drop)}: no such column; columns are {_list(columns)}")

    # Which roles the caller named (an option) and which were found, for messages.
    given = {"label": label_col is not None, "id": id_col is not None, "group": group_col is not None}
    label_col = label_col or _find_column(columns, LABEL_CANDIDATES)
    if label_col is None and labelled:
        raise DataError(
            f"{path}: no label column found (looked for {_list(LABEL_CANDIDATES)}); columns are "
            f"{_list(columns)}. Name it with --label-col"
        )
    id_col = id_col or _find_column(columns, ID_CANDIDATES)
    explicit_group = given["group"]
    if group_col is None:
        group_col = _find_column(columns, GROUP_CANDIDATES)
        if group_col is not None and not _has_values(frame[group_col]):
            group_col = None  # an all-empty group column means "groups unknown"

    found = {"label": label_col, "id": id_col, "group": group_col}
    _check_roles(path, found, given, drop=drop)

    # -- which columns are features -----------------------------------------------------
    roles = {c for c in (label_col, id_col, group_col) if c is not None}
    if own:
        roles |= set(ID_COLUMNS) & set(columns)
    declared = meta.get("feature_columns") if own else None
    # Columns the sidecar or the caller (a model's columns) names are features whatever their
    # names and contents; the others are judged by name and contents.
    vouched = bool(declared) or features is not None
    if declared:
        absent = [c for c in declared if c not in frame.columns]
        if absent:
            raise DataError(f"{path}: the sidecar lists feature columns the table lacks: {_list(absent)}")
        candidates = [c for c in declared if c not in drop]
    else:
        candidates = [c for c in columns if c not in roles and c not in drop]
    ignored = [c for c in drop]
    if features is not None:
        wanted = set(features)
        ignored += [c for c in candidates if c not in wanted]
        candidates = [c for c in candidates if c in wanted]
    kept: list[str] = []
    mixed: list[str] = []
    for column in candidates:
        values = frame[column]
        if not vouched and (
            column.lower() in NON_FEATURE_COLUMNS or column.lower().startswith("unnamed:") or names_a_role(column)
        ):
            ignored.append(column)  # file length, pandas index, artist_id...: about the file, not its sound
            continue
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            kept.append(column)
            continue
        filled, text = _text_cells(values)
        if not text.any():  # numbers pandas left as text (a blank cell among them)
            kept.append(column)
            continue
        if vouched or text.sum() <= MAX_TEXT_SHARE_OF_A_FEATURE * filled.sum():
            mixed.append(column)  # mostly numbers with some text: a corrupt feature, not a name column
        else:
            ignored.append(column)  # a text column (title, artist...) is not a feature, a "1979" in it or not
    if mixed:
        column = mixed[0]
        filled, text = _text_cells(frame[column])
        bad = frame[column][text]
        raise DataError(
            f"{path}: feature {plural(len(mixed), 'column', 'columns')} {_list(mixed)} {plural(len(mixed), 'holds', 'hold')} "
            f"non-numeric values (in {int(text.sum())} of {int(filled.sum())} filled rows of {column!r}, e.g. "
            f"{str(bad.iloc[0])!r} at row {bad.index[0] + 2}); {_remedy([column], can_drop=can_drop, named=True)}"
        )
    if not kept and features is None:
        manifest = {"path", "label"} <= {c.lower() for c in columns}
        hint = (
            f"; it looks like a manifest of audio files: extract its features first "
            f"(genre extract {path} -o features.csv)"
            if manifest
            else ""
        )
        raise DataError(f"{path}: no numeric feature columns; columns are {_list(columns)}{hint}")

    X = frame[kept].astype("float64")
    ids = frame[id_col] if id_col is not None else None
    if not nonfinite_tracks:
        _check_finite(path, X, ids, can_drop=can_drop)
        _check_magnitude(path, X, ids, can_drop=can_drop)

    # -- labels, tracks, groups ----------------------------------------------------------
    if label_col is not None:
        labels = frame[label_col]
        empty = labels.isna() | (labels.astype(str).str.strip() == "")
        if labelled and empty.any():
            raise DataError(
                f"{path}: label column {label_col!r} is empty in {int(empty.sum())} of {len(frame)} rows "
                f"(first at row {int(np.flatnonzero(empty.to_numpy())[0]) + 2})"
            )
        y = np.where(empty, "", labels.astype(str).str.strip()).astype(str)
    else:
        y = np.full(len(frame), "", dtype=object).astype(str)

    tracks, stems = _track_ids(path, frame, id_col=id_col, own=own)
    groups = None
    ungrouped = None
    if group_col is not None:
        raw = frame[group_col]
        present = raw.notna() & (raw.astype(str).str.strip() != "")
        if explicit_group and not present.any():
            raise DataError(
                f"{path}: --group-col {group_col!r} is empty in every row; fill in the groups or leave out --group-col"
            )
        # One rule whether the column was named or found: a track without a group is its own
        # group. Its segments still stay together and it is never merged with other tracks;
        # and the gap is not hidden: FeatureTable.group_note puts it in the results.
        groups = np.where(present, raw.astype(str).str.strip(), "track:" + pd.Series(tracks)).astype(str)
        ungrouped = ~present.to_numpy()

    _check_consistent(path, tracks, y, "label", label_col)
    if groups is not None:
        # Compared as written: a track whose group is filled in only in some rows shows ''.
        _check_consistent(path, tracks, np.where(ungrouped, "", groups), "group", group_col)
    if labelled:
        # The rule folders and manifests follow: 'BLUES' and 'blues' would be two genres.
        first = pd.Series(y).drop_duplicates()
        check_label_spellings(
            {label: f"row {int(i) + 2}" for i, label in first.items() if label}, f"{path}, column {label_col!r}"
        )
        distinct = sorted(set(y.tolist()))
        if len(distinct) < 2:
            raise DataError(
                f"{path}: only one class ({distinct[0]!r}) in column {label_col!r}; "
                "classification needs at least two"
            )

    if nonfinite_tracks:
        _check_finite_tracks(path, X, ids, tracks, can_drop=can_drop)

    config = meta.get("config") if isinstance(meta.get("config"), dict) else None
    kind = str(meta.get("kind") or ("handcrafted" if own else "external"))
    return FeatureTable(
        X=X.reset_index(drop=True),
        y=y,
        tracks=tracks,
        stems=stems,
        groups=groups,
        feature_columns=kept,
        config=config,
        meta=meta,
        path=path,
        label_col=label_col,
        id_col=id_col,
        group_col=group_col,
        ignored_columns=ignored,
        kind=kind,
        ungrouped=ungrouped,
        separator=separator,
    )


def check_distinct_tables(paths: Sequence[str | os.PathLike]) -> None:
    """Refuse a feature table given twice, under one name or two (links are resolved).

    Read twice, one table would only repeat itself: every model reads the first copy, and
    the second is reported as read by no model.

    Parameters
    ----------
    paths : sequence of path-like
        The feature tables of one command, in the order given.

    Raises
    ------
    ParameterError
        Two of ``paths`` name the same file.
    """
    seen: dict[str, str | os.PathLike] = {}
    for path in paths:
        resolved = os.path.realpath(path)
        if resolved in seen:
            first = seen[resolved]
            also = "" if str(first) == str(path) else f" (first as {first})"
            raise ParameterError(f"{path}: the same feature table is given twice{also}; give each table once")
        seen[resolved] = path


# -- helpers ------------------------------------------------------------------------------------
def _list(names: Iterable[str], limit: int = 12) -> str:
    names = [str(n) for n in names]
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def _separator(path: Path) -> str:
    """The cell separator of a table: of the manifests' :data:`~genre.data.manifest.DELIMITERS`
    (comma, tab, semicolon), the one that splits the header line into the most columns.

    Spreadsheets in locales with decimal commas save CSV with semicolons; unlike a manifest,
    a feature table has no column that must be present, so the header's split decides. A
    tie (a one-column header) goes to the comma.
    """
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        header = handle.readline()
    counts = {sep: len(next(csv.reader([header], delimiter=sep), [])) for sep in DELIMITERS}
    return max(DELIMITERS, key=lambda sep: (counts[sep], sep == ","))


def _text_columns(
    names: Sequence[str], *, label_col: str | None, id_col: str | None, group_col: str | None
) -> list[str]:
    """The columns of a table that may hold its labels, track ids or groups, by their names.

    Those named by the caller, else the first of each role's candidates (as
    :func:`load_feature_table` takes them), and the ``track`` and ``path`` columns of a
    table of ``genre extract``. None of them is ever a feature (their names mark a role,
    see :func:`names_a_role`), so reading them as text changes no feature.

    Parameters
    ----------
    names : sequence of str
        The table's column names (stripped).
    label_col, id_col, group_col : str or None
        The columns named by the caller.

    Returns
    -------
    columns : list of str
        Names among ``names``, without repetitions.
    """
    chosen = [
        label_col or _find_column(names, LABEL_CANDIDATES),
        id_col or _find_column(names, ID_CANDIDATES),
        group_col or _find_column(names, GROUP_CANDIDATES),
        "track",
        "path",
    ]
    present = set(names)
    return list(dict.fromkeys(c for c in chosen if c is not None and c in present))


def _read_csv(
    path: Path, *, text: Callable[[list[str]], Sequence[str]] | None = None
) -> tuple[pd.DataFrame, str]:
    """The table as pandas reads it, and its cell separator (see :func:`_separator`).

    Parameters
    ----------
    path : pathlib.Path
    text : callable, optional
        Given the column names (stripped), the columns to read as the exact text written:
        labels, ids, groups. pandas would read ``01`` as the number 1 (and ``1.0`` as 1 too,
        or ``000123`` as 123) and ``NA``, ``None``, ``null``, ``nan``... as missing: a genre
        folder named ``01`` would become a class ``1``, three labels ``01``, ``1`` and
        ``1.0`` one class, and a folder or artist ``NA`` no label or group at all. Here only
        a blank cell is missing (NaN) in these columns. The other columns are read as
        pandas reads any CSV.
    """
    if not path.exists():
        raise DataError(f"{path}: no such feature table")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, expected a feature CSV")
    try:
        sep = _separator(path)
        # The header as written: pandas renames a repeated column `a` to `a.1`, and the
        # names say which columns to read as text.
        header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False)
        written = [str(name) for name in header.iloc[0].tolist()]
        names = [name.strip() for name in written]
        # A name written twice is refused below; until then, nothing is read as text.
        filled = [name for name in names if name]
        unique = len(set(filled)) == len(filled)
        wanted = set(text(names)) if text is not None and unique else set()
        as_text = {name: str for name in written if name.strip() in wanted}
        frame = pd.read_csv(path, sep=sep, dtype=as_text or None, low_memory=False)
        frame.columns = [str(c).strip() for c in frame.columns]
        # Read as str, a column still takes NA, null... for gaps: read again only a column
        # with a gap, where nothing but a blank cell is one.
        redo = [c for c in dict.fromkeys(n.strip() for n in as_text) if c in frame.columns and frame[c].isna().any()]
        if redo:
            exact = pd.read_csv(
                path,
                sep=sep,
                usecols=lambda name: str(name).strip() in redo,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                low_memory=False,
            )
            exact.columns = [str(c).strip() for c in exact.columns]
            if len(exact) == len(frame):
                for column in redo:
                    if column in exact.columns:
                        frame[column] = exact[column].to_numpy()
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the feature table is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: not a readable CSV table ({str(exc).splitlines()[0]})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if frame.empty or len(frame.columns) == 0:
        raise DataError(f"{path}: the feature table has no data rows")
    duplicated = sorted({c for c in names if c and names.count(c) > 1})
    if duplicated:
        raise DataError(f"{path}: column names written more than once: {_list(duplicated)} (give each column its own name)")
    return frame, sep


def _read_sidecar(path: Path) -> dict[str, Any]:
    sidecar = path.with_suffix(".json")
    if not sidecar.is_file():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{sidecar}: the table's JSON sidecar is unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise DataError(f"{sidecar}: the table's JSON sidecar is not a JSON object")
    return data


def _find_column(columns: Sequence[str], candidates: Sequence[str]) -> str | None:
    lowered = {c.lower(): c for c in reversed(columns)}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    return None


def _has_values(series: pd.Series) -> bool:
    return bool((series.notna() & (series.astype(str).str.strip() != "")).any())


def _text_cells(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Which cells of a column are filled in, and which of those are not numbers."""
    filled = values.notna() & (values.astype(str).str.strip() != "")
    return filled, filled & pd.to_numeric(values, errors="coerce").isna()


#: How each role's remedy reads when --drop names its column.
_DROP_REMEDY = {
    "label": "name the label column with --label-col",
    "id": "name the id column with --id-col",
    "group": "to split without groups, give 'genre benchmark' --no-groups",
}


def _check_roles(
    path: Path, columns: dict[str, str | None], given: dict[str, bool], *, drop: Sequence[str]
) -> None:
    """Refuse one column in two roles: the labels as ids or groups, or a role's column in ``drop``.

    Parameters
    ----------
    path : pathlib.Path
        The table, for messages.
    columns : dict
        ``"label"``, ``"id"``, ``"group"`` -> the column holding it, or ``None``.
    given : dict
        The same keys -> whether the caller named the column (``--label-col``...) rather
        than it being found: messages name the option only when it was given.
    drop : sequence of str
        Columns the caller leaves out of the features (``--drop``).

    Raises
    ------
    ParameterError
        The label column is also the id or group column (nothing to learn or to split by),
        or ``drop`` names one of the columns: it is no feature, and would be used anyway.
    """

    def role(what: str) -> str:
        return f"--{what}-col" if given[what] else f"the {what} column found ({columns[what]!r})"

    label = columns["label"]
    for what in ("id", "group"):
        if label is None or columns[what] != label:
            continue
        if given["label"] and given[what]:
            raise ParameterError(f"{path}: --label-col and --{what}-col are both {label!r}; give each role its own column")
        other = what if given["label"] else "label"
        raise ParameterError(
            f"{path}: {role('label')} and {role(what)} are the same column; give each role its own column "
            f"(name the {other} column with --{other}-col)"
        )
    for what, column in columns.items():
        if column is None or column not in drop:
            continue
        if given[what]:
            raise ParameterError(f"{path}: --drop and --{what}-col both name {column!r}; give one of them")
        raise ParameterError(
            f"{path}: --drop {column}: it is the {what} column found, not a feature; --drop leaves out "
            f"feature columns only ({_DROP_REMEDY[what]})"
        )


def _remedy(columns: Sequence[str], *, can_drop: bool, named: bool = False) -> str:
    """How to get past bad values in ``columns``: fix the table, or ``--drop`` them where the caller can."""
    if not can_drop:
        return "fix the table"
    if named:
        return f"fix the table or leave the column out with --drop {','.join(columns)}"
    return f"fix the table, or leave {'those columns' if len(columns) != 1 else 'the column'} out with --drop"


def _check_finite(path: Path, X: pd.DataFrame, ids: pd.Series | None, *, can_drop: bool = True) -> None:
    """Refuse NaN and infinite feature values, naming the first row (and track) that holds one."""
    values = X.to_numpy()
    bad = ~np.isfinite(values)
    if bad.any():
        columns = [c for c, flag in zip(X.columns, bad.any(axis=0)) if flag]
        rows = np.flatnonzero(bad.any(axis=1))
        row, column = int(rows[0]), int(np.flatnonzero(bad[rows[0]])[0])
        track = f" (track {str(ids.iloc[row]).strip()!r})" if ids is not None else ""
        kinds = []
        if np.isnan(values).any():
            kinds.append("missing/NaN")
        if np.isinf(values).any():
            kinds.append("infinite")
        raise DataError(
            f"{path}: {' and '.join(kinds)} feature values in {len(rows)} {plural(len(rows), 'row', 'rows')}, "
            f"{plural(len(columns), 'column', 'columns')} {_list(columns)} (first: {X.columns[column]!r} at row "
            f"{row + 2}{track}); {_remedy(columns, can_drop=can_drop)}"
        )


def _check_finite_tracks(
    path: Path, X: pd.DataFrame, ids: pd.Series | None, tracks: np.ndarray, *, can_drop: bool = True
) -> None:
    """What :func:`_check_finite` and :func:`_check_magnitude` refuse where tracks with NaN or
    infinite values are left out: a table in which every track holds one, and values too
    large in the rows of the other tracks (a left-out track's other values do not matter)."""
    bad = ~np.isfinite(X.to_numpy())
    if not bad.any():
        _check_magnitude(path, X, ids, can_drop=can_drop)
        return
    rows = bad.any(axis=1)
    left_out = np.isin(tracks, tracks[rows])
    if left_out.all():
        row = int(np.flatnonzero(rows)[0])
        track = str(ids.iloc[row]).strip() if ids is not None else str(tracks[row])  # named as the file names it
        raise DataError(
            f"{path}: no track can be predicted: every one holds missing/NaN or infinite feature values "
            f"(first: {X.columns[int(np.flatnonzero(bad[row])[0])]!r} at row {row + 2}, track {track!r}); "
            f"{_remedy(list(X.columns), can_drop=can_drop)}"
        )
    kept = X.copy()
    kept.loc[left_out] = 0.0
    _check_magnitude(path, kept, ids, can_drop=can_drop)


#: Largest feature magnitude accepted: float32's maximum (about 3.4e38). The Keras net and
#: XGBoost compute in float32, where anything larger becomes inf; and below it float64
#: scalers can square and sum values without overflow (3.4e38 squared is ~1e77, far from
#: float64's 1.8e308). Real descriptors are many orders of magnitude smaller, so a value
#: beyond this is a corrupt cell, not a feature.
MAX_FEATURE_MAGNITUDE = float(np.finfo(np.float32).max)


def _check_magnitude(path: Path, X: pd.DataFrame, ids: pd.Series | None, *, can_drop: bool = True) -> None:
    """Refuse finite values too large for the models (see :data:`MAX_FEATURE_MAGNITUDE`)."""
    values = X.to_numpy()
    huge = np.abs(values) > MAX_FEATURE_MAGNITUDE
    if not huge.any():
        return
    columns = [c for c, flag in zip(X.columns, huge.any(axis=0)) if flag]
    rows = np.flatnonzero(huge.any(axis=1))
    row, column = int(rows[0]), int(np.flatnonzero(huge[rows[0]])[0])
    track = f" (track {str(ids.iloc[row]).strip()!r})" if ids is not None else ""
    raise DataError(
        f"{path}: feature {plural(int(huge.sum()), 'value', 'values')} too large to use in {len(rows)} "
        f"{plural(len(rows), 'row', 'rows')}, {plural(len(columns), 'column', 'columns')} {_list(columns)} "
        f"(e.g. {values[row, column]:.6g} in {X.columns[column]!r} at row {row + 2}{track}); magnitudes above "
        f"{MAX_FEATURE_MAGNITUDE:.3g} (the float32 limit) overflow the models; {_remedy(columns, can_drop=can_drop)}"
    )


def _track_ids(path: Path, frame: pd.DataFrame, *, id_col: str | None, own: bool) -> tuple[np.ndarray, np.ndarray]:
    """Track id and file stem of every row."""
    if id_col is None:
        ids = np.array([f"row-{i:06d}" for i in range(len(frame))], dtype=object)
        return ids.astype(str), ids.astype(str)
    raw = frame[id_col]
    if raw.isna().any():
        first = int(np.flatnonzero(raw.isna().to_numpy())[0]) + 2
        raise DataError(f"{path}: id column {id_col!r} is empty in {int(raw.isna().sum())} rows (first at row {first})")
    values = raw.astype(str).str.strip()
    if own:
        # genre's own tables: `track` is the id; the stem comes from the audio path.
        tracks = frame["track"].astype(str).to_numpy() if "track" in frame.columns else values.to_numpy()
        source = frame["path"].astype(str) if "path" in frame.columns else pd.Series(tracks)
        stems = np.array([file_stem(p) for p in source], dtype=object)
        return tracks.astype(str), stems.astype(str)
    # External: strip the audio extension only; a `track`-like column is an id as it is,
    # while file names may carry a segment number.
    ids = np.array([_strip_extension(v) for v in values], dtype=object)
    if id_col.lower() not in ("track", "track_id", "id"):
        # One row per file name, unless the table says its rows are segments: a repeated
        # name is then a duplicated row, which would be merged into one track and counted twice.
        if not {"segment", "start"} & {c.lower() for c in frame.columns}:
            _check_unique_ids(path, ids, id_col)
        ids = _merge_segments(ids)
    stems = np.array([file_stem(i) for i in ids], dtype=object)
    return ids.astype(str), stems.astype(str)


def _check_unique_ids(path: Path, ids: np.ndarray, id_col: str) -> None:
    """Refuse repeated file names in a table with one row per file."""
    counts = pd.Series(ids).value_counts(sort=False)
    repeated = counts[counts > 1]
    if len(repeated):
        examples = ", ".join(f"{name!r} ({n} rows)" for name, n in repeated.head(3).items())
        raise DataError(
            f"{path}: {len(repeated)} file {plural(len(repeated), 'name', 'names')} in id column {id_col!r} "
            f"{plural(len(repeated), 'occurs', 'occur')} in more than one row (e.g. {examples}); a table without a "
            "segment or start column has one row per file: remove the duplicated rows, or add a 'segment' "
            "column if the rows are segments of one file"
        )


def _strip_extension(value: str) -> str:
    suffix = PurePosixPath(value).suffix
    return value[: -len(suffix)] if suffix.lower() in _STRIP_EXTENSIONS else value


def _merge_segments(ids: np.ndarray) -> np.ndarray:
    """Drop a ``.N`` segment suffix when the ids show one (GTZAN's 3-second table).

    The suffix is taken for a segment number only if every id has one, each base's
    numbers run 0, 1, 2... without leading zeros, and some base has several rows; so
    ``blues.00012`` (leading zeros) or one-row-per-id tables are left as they are.
    """
    matches = [_SEGMENT_SUFFIX.match(i) for i in ids]
    if not ids.size or not all(matches):
        return ids
    bases = np.array([m.group("base") for m in matches], dtype=object)
    numbers = np.array([int(m.group("segment")) for m in matches])
    frame = pd.DataFrame({"base": bases, "n": numbers})
    per_base = frame.groupby("base", sort=False)["n"]
    if per_base.size().max() < 2 or per_base.ngroups < 2:
        return ids
    # Segment numbers of one track are distinct and start at 0 (a few may be missing at the end).
    if not (per_base.min() == 0).all() or not per_base.apply(lambda s: s.is_unique).all():
        return ids
    return bases


def _check_consistent(path: Path, tracks: np.ndarray, values: np.ndarray, what: str, column: str | None) -> None:
    """Every row of one track must carry the same label (or group)."""
    frame = pd.DataFrame({"track": tracks, "value": values})
    counts = frame.groupby("track", sort=False)["value"].nunique()
    conflicting = counts[counts > 1]
    if len(conflicting):
        first = conflicting.index[0]
        seen = sorted(frame.loc[frame["track"] == first, "value"].unique().tolist())
        raise DataError(
            f"{path}: {len(conflicting)} {plural(len(conflicting), 'track carries', 'tracks carry')} more than one {what} "
            f"in column {column!r} (e.g. track {first!r}: {_list(seen)}); the rows of one track must agree"
        )


def model_columns(table: FeatureTable, *, model: str, prefix: str | None) -> tuple[list[str], str]:
    """The feature columns a model reads, and how to describe them to people.

    Parameters
    ----------
    table : FeatureTable
    model : str
        Name of the model, for messages.
    prefix : str or None
        Column-name prefix the model reads (``ModelSpec.input_columns``); ``None``: all.

    Returns
    -------
    columns : list of str
    description : str
        ``"205 features"`` or ``"musicnn_max_pool_*, 753 of 1556 features"``.

    Raises
    ------
    genre.errors.DataError
        No feature column starts with ``prefix``.
    """
    if not prefix:
        return list(table.feature_columns), f"{len(table.feature_columns)} features"
    chosen = [c for c in table.feature_columns if c.startswith(prefix)]
    if not chosen:
        raise DataError(f"{table.path}: no feature columns start with {prefix!r}, which model {model!r} reads")
    return chosen, f"{prefix}*, {len(chosen)} of {len(table.feature_columns)} features"


def audio_segment_ids(table: FeatureTable, *, model: str, unusable_tracks: bool = False) -> pd.DataFrame:
    """Audio file, start and track of every row of a table, for models that read audio themselves.

    Parameters
    ----------
    table : FeatureTable
        A table with ``path`` and ``start`` columns (as ``genre extract`` writes them).
    model : str
        Name of the model that needs them, for messages.
    unusable_tracks : bool
        Leave out the tracks with a row whose ``start`` is not a number of seconds (empty,
        NaN, infinite, negative or text) or whose ``path`` is empty, instead of refusing the
        table (prediction: as tracks with NaN features are left out for a feature model).
        Every row of such a track goes; the table is refused only when every track has one.
        The audio files of the tracks left out are not looked for.

    Returns
    -------
    ids : pandas.DataFrame
        ``path`` (an existing file: as written; else, for a relative path, relative to the
        folder ``genre extract`` ran in when the sidecar records it, else to the table's
        folder), ``start`` (seconds) and ``track``, in row order; with ``unusable_tracks``,
        the rows of the other tracks only. ``attrs["skipped"]`` lists ``(track, reason)``
        for each track left out, in table order, the reason naming the column, row (row 1
        being the header) and value of its first unusable cell; empty without
        ``unusable_tracks``.

    Raises
    ------
    genre.errors.DataError
        The table has no such columns, a ``start`` that is not a number of seconds (naming
        the row and track; with ``unusable_tracks``, only when every track has one), or
        some of its audio files cannot be read.
    """
    try:
        header = pd.read_csv(table.path, sep=table.separator, nrows=0).columns
    except Exception:  # already read once by load_feature_table; an odd failure means no ids
        header = []
    if not {"path", "start"} <= set(header):
        raise DataError(
            f"model {model} needs audio paths; table {table.path} has none "
            "(it needs the columns path and start, as tables written by 'genre extract' have)"
        )
    ids = pd.read_csv(
        table.path,
        sep=table.separator,
        usecols=["path", "start"],
        dtype={"path": str},
        keep_default_na=False,  # a file named NA.wav is a path, not a gap
        na_values={"start": [""]},
        low_memory=False,
    )
    if len(ids) != table.n_rows:
        raise DataError(f"{table.path}: {len(ids)} id rows for {table.n_rows} feature rows")
    starts = pd.to_numeric(ids["start"], errors="coerce").to_numpy(dtype=np.float64)
    bad_start = ~(np.isfinite(starts) & (starts >= 0))
    tracks = np.asarray(table.tracks, dtype=str)
    skipped: list[tuple[str, str]] = []
    if unusable_tracks:
        # An empty path cell names no audio: that track's fault. A path naming a missing file
        # still refuses the table below (the folder is likely wrong for every track).
        bad_path = ids["path"].str.strip().eq("").to_numpy()
        skipped, left_out = _unusable_tracks(table, ids, tracks, bad_start=bad_start, bad_path=bad_path)
        if left_out.any():
            keep = ~left_out
            ids, starts, tracks = ids[keep].reset_index(drop=True), starts[keep], tracks[keep]
    elif (bad := np.flatnonzero(bad_start)).size:
        # The model would fail later on "start must hold numbers", naming neither row nor track.
        row = int(bad[0])
        raise DataError(
            f"{table.path}: column 'start' must hold each segment's start in seconds, but row {row + 2} "
            f"(track {str(tracks[row])!r}) {_start_text(ids['start'].iloc[row])}"
            + (f" (and {bad.size - 1} more {plural(bad.size - 1, 'row', 'rows')})" if bad.size > 1 else "")
            + "; extract the table again, or fix those rows"
        )
    folders = _audio_folders(table)
    resolved = {p: _resolve_audio(p, folders=folders) for p in pd.unique(ids["path"].fillna(""))}
    missing = [p for p, r in resolved.items() if r is None]
    if missing:
        readable = len(resolved) - len(missing)
        what = f"only {readable}" if readable else "none"
        unreadable = f"{len(missing)} cannot, " if readable else ""
        where = ", ".join(os.path.abspath(f) for f in folders)
        raise DataError(
            f"model {model} needs audio paths; {what} of the {len(resolved)} audio files listed in {table.path} "
            f"can be read ({unreadable}e.g. {missing[0]!r}; relative paths were looked for in the current folder "
            f"and in {where})"
        )
    result = pd.DataFrame({"path": ids["path"].map(resolved), "start": starts, "track": tracks})
    result.attrs["skipped"] = skipped
    return result


def _start_text(value: object) -> str:
    """What a bad ``start`` cell holds, as written: ``holds 'abc'``, ``holds '-1'``, ``is empty``."""
    written = _written(value)
    return "is empty" if written is None else f"holds {written!r}"


def _written(value: object) -> str | None:
    """A ``start`` cell as its text (``'abc'``, ``'-1'``, ``'inf'``); ``None`` for an empty one."""
    if isinstance(value, str):
        return value
    if value is None or np.isnan(float(value)):  # only an empty cell is read as NaN (keep_default_na=False)
        return None
    return format(float(value), "g")  # a column of numbers: -1.0 was written -1 or so


def bad_cells_by_track(tracks: np.ndarray, bad_cells: np.ndarray) -> dict[str, tuple[int, int]]:
    """Each track with a bad cell, in table order: its first row with one, and how many it has in all.

    For leaving whole tracks out of a table (a mean over fewer segments would be another
    answer), each named by its first bad cell.

    Parameters
    ----------
    tracks : ndarray
        The track of each row.
    bad_cells : ndarray of int
        How many bad cells each row holds (0: none).

    Returns
    -------
    dict
        Track -> ``(first row with a bad cell, bad cells of all its rows)``; rows from 0.
    """
    first: dict[str, tuple[int, int]] = {}
    for row in np.flatnonzero(bad_cells):
        track = str(tracks[row])
        at_row, count = first.get(track, (int(row), 0))
        first[track] = (at_row, count + int(bad_cells[row]))
    return first


def _unusable_tracks(
    table: FeatureTable, ids: pd.DataFrame, tracks: np.ndarray, *, bad_start: np.ndarray, bad_path: np.ndarray
) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The tracks :func:`audio_segment_ids` leaves out with ``unusable_tracks``, and the rows they cover.

    Returns
    -------
    skipped : list of (track, reason)
        In table order, each reason naming the first unusable cell's column, row and value.
    left_out : ndarray of bool
        Every row of those tracks.

    Raises
    ------
    genre.errors.DataError
        Every track has an unusable row: there is nothing to predict.
    """
    first = bad_cells_by_track(tracks, (bad_start | bad_path).astype(int))  # a row each

    def cell(row: int) -> tuple[str, str]:
        """The bad cell of ``row`` ("value 'abc' in column 'start' at row 6") and what is wrong with it."""
        written = _written(ids["start"].iloc[row]) if bad_start[row] else None
        column = "start" if bad_start[row] else "path"
        what = "missing value" if written is None else f"value {written!r}"
        return f"{what} in column {column!r} at row {row + 2}", "" if written is None else " is not a number of seconds"

    skipped = []
    for track, (row, count) in first.items():
        where, why = cell(row)
        more = f", and {count - 1} more unusable {plural(count - 1, 'row', 'rows')}" if count > 1 else ""
        skipped.append((track, f"{where} of {table.path.name}{why}{more}"))
    left_out = np.isin(tracks, list(first))
    if left_out.size and left_out.all():
        track, (row, _) = next(iter(first.items()))
        raise DataError(
            f"{table.path}: no track can be predicted: every one has a row whose start is not a number of "
            f"seconds or whose path is missing (first: {cell(row)[0]}, track {track!r}); fix the table, "
            "or extract it again"
        )
    return skipped, left_out


def _audio_folders(table: FeatureTable) -> list[Path]:
    """Folders a table's relative audio paths are looked for in when the current folder lacks them.

    ``genre extract`` writes audio paths as it was given them, so a relative path is
    relative to the folder it ran in: that folder comes first when the sidecar records it
    (:data:`EXTRACTION_FOLDER_KEY`), then the table's own folder (a table extracted beside
    its audio, or moved together with it).

    Parameters
    ----------
    table : FeatureTable

    Returns
    -------
    folders : list of pathlib.Path
        Without repetitions, in the order they are searched.
    """
    folders = []
    recorded = table.meta.get(EXTRACTION_FOLDER_KEY)
    # Only an absolute folder means something wherever the table is read from.
    if isinstance(recorded, str) and recorded.strip() and Path(recorded).is_absolute():
        folders.append(Path(recorded))
    folders.append(table.path.parent)
    return list(dict.fromkeys(folders))


def _resolve_audio(path: str, *, folders: Sequence[Path]) -> str | None:
    """The readable file a table's ``path`` value names, or ``None``.

    Parameters
    ----------
    path : str
        An audio path as the table holds it.
    folders : sequence of pathlib.Path
        Where a relative ``path`` is looked for, in order, when it does not exist relative
        to the current folder (see :func:`_audio_folders`).

    Returns
    -------
    file : str or None
        The first readable candidate; ``None`` for an empty ``path`` or when none is readable.
    """
    if not path:
        return None
    candidates = [Path(path)]
    if not candidates[0].is_absolute():
        candidates += [folder / path for folder in folders]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.R_OK):
            return str(candidate)
    return None
