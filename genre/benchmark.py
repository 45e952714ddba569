"""One call from feature CSVs (or a folder of audio) to a written benchmark report (``genre benchmark``).

It sits above the packages it joins: it extracts with :mod:`genre.features`, evaluates with
:mod:`genre.evaluation` and renders with :mod:`genre.reports`, none of which imports it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Sequence as SequenceABC
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from genre.errors import DataError, ParameterError
from genre.evaluation.checkpoint import CheckpointStore, hold_checkpoints
from genre.evaluation.cv import DEFAULT_FOLDS, DEFAULT_MODELS, DEFAULT_REPEATS, cross_validate_models, cv_settings
from genre.evaluation.inputs import model_input_kind
from genre.evaluation.results import BenchmarkResults, describe_environment
from genre.features.table import check_distinct_tables, load_feature_table
from genre.progress import tell
from genre.text import name_list, plural
from genre.reports import ReportFiles, render_report

if TYPE_CHECKING:
    from genre.data import Dataset
    from genre.features.table import FeatureTable

__all__ = [
    "benchmark", "check_models", "extract_inputs", "is_audio_source", "BenchmarkRun", "ExtractedInputs",
    "ExtractedTable", "CHECKPOINT_FOLDER",
]  # fmt: skip

#: Folder under the report folder that keeps the finished fits of a run until its report is written.
CHECKPOINT_FOLDER = ".unfinished"


def _handcrafted_config(*, segment_seconds: float | None = None) -> Any:
    """The handcrafted features' settings: the defaults, but for ``segment_seconds`` when given.

    Built before any work, so that a value the configuration refuses (negative, shorter than
    one STFT frame) costs no listing and no extraction.

    Parameters
    ----------
    segment_seconds : float, optional
        Segment length in seconds (0: one row per track); ``None`` keeps the default.

    Returns
    -------
    config : genre.features.config.FeatureConfig
        The settings of the handcrafted table.
    """
    from genre.features.config import FeatureConfig

    return FeatureConfig() if segment_seconds is None else FeatureConfig(segment_seconds=segment_seconds)


def _handcrafted_extractor(*, segment_seconds: float | None = None):
    from genre.features.handcrafted import HandcraftedExtractor

    return HandcraftedExtractor(_handcrafted_config(segment_seconds=segment_seconds))


def _musicnn_extractor():
    from genre.features.embeddings import MusicnnExtractor

    return MusicnnExtractor()


#: Table kind -> (file name under REPORT_DIR/features, extractor factory) for audio sources.
TABLE_EXTRACTORS: dict[str, tuple[str, Callable[[], Any]]] = {
    "handcrafted": ("features.csv", _handcrafted_extractor),
    "musicnn": ("musicnn.csv", _musicnn_extractor),
}
#: Inputs read from another table: audio models take the handcrafted table's id columns.
_TABLE_OF_INPUT: dict[str, str] = {"audio": "handcrafted", "features": "handcrafted"}


@dataclasses.dataclass(frozen=True)
class ExtractedTable:
    """One feature table extracted from a source of audio, and how many of its files this run reused and extracted.

    Each file the listing found is counted once: ``n_reused + n_extracted + n_skipped`` is
    the number of files found (the :attr:`ExtractReport.n_tracks
    <genre.features.extract.ExtractReport.n_tracks>` of the extraction).

    Attributes
    ----------
    kind : str
        ``"handcrafted"`` or ``"musicnn"`` (a key of :data:`TABLE_EXTRACTORS`).
    path : pathlib.Path
        The feature CSV.
    n_reused : int
        Files whose rows an earlier run left: every file with rows of a table already
        current, the unchanged files of an out-of-date one, the files an interrupted
        extraction had finished.
    n_extracted : int
        Files that gave rows in this run (new, changed, or skipped before and tried again
        with success).
    skipped : tuple of (str, str)
        The skipped files and left-out folders with their reasons, as :attr:`skipped_path`
        lists them (:attr:`ExtractReport.skipped <genre.features.extract.ExtractReport.skipped>`
        of the extraction, or the list of a table reused whole).
    folders_left_out : frozenset of str
        The paths among :attr:`skipped` that are folders, not files.
    """

    kind: str
    path: Path
    n_reused: int
    n_extracted: int
    skipped: tuple[tuple[str, str], ...] = dataclasses.field(default=(), repr=False)
    folders_left_out: frozenset[str] = dataclasses.field(default=frozenset(), repr=False)

    @property
    def n_skipped(self) -> int:
        """Files of the listing the table has no rows of, by this run or an earlier one (the
        listing's rejected files included), each with its reason in :attr:`skipped_path`."""
        return len(self.skipped) - len(self.folders_left_out)

    @property
    def n_folders_left_out(self) -> int:
        """Folders the listing left out (without audio, unlistable, a link loop), also in
        :attr:`skipped_path`; not files, so in none of the counts above."""
        return len(self.folders_left_out)

    @property
    def skipped_path(self) -> Path:
        """The CSV beside the table that lists its skipped files and why."""
        from genre.features.extract import side_paths

        return side_paths(self.path)[1]


@dataclasses.dataclass(frozen=True)
class ExtractedInputs(SequenceABC):
    """What :func:`extract_inputs` made ready: a sequence of the feature CSVs' paths, handcrafted first.

    Unpacked or iterated it gives the paths (as a list of them would); its attributes tell how
    each table came about and what the listing of the source said.

    Attributes
    ----------
    tables : tuple of ExtractedTable
        One per path, in the same order.
    notes : tuple of str
        The listing's notes (:attr:`genre.data.Dataset.notes`: non-audio files ignored, tracks
        the source's rules leave out, a manifest's columns left unread).
    """

    tables: tuple[ExtractedTable, ...]
    notes: tuple[str, ...] = ()

    def __getitem__(self, index: int | slice) -> Path | list[Path]:
        if isinstance(index, slice):
            return [table.path for table in self.tables[index]]
        return self.tables[index].path

    def __len__(self) -> int:
        return len(self.tables)

    def skipped_files(self) -> tuple[list[tuple[str, str]], set[str], list[Path]]:
        """Every file (and folder) the tables' extractions skipped, once each, with its reason.

        What ``genre benchmark`` prints one line each, as ``genre extract`` prints an
        extraction's (``skipped <file>: <reason>``). A file every table skipped (a corrupt clip
        is skipped by every extractor) is given once, with the first table's reason (the
        handcrafted one's: the tables are in that order); one that only some tables skipped
        says which, as ``(only for the handcrafted features)``: the other tables' models did
        train and test on it.

        Returns
        -------
        skipped : list of (str, str)
            Printable paths and reasons: the first table's list in its order, then the
            files only later tables skipped.
        folders : set of str
            The paths in ``skipped`` that are folders the listing left out, not files.
        listed_in : list of pathlib.Path
            The skipped-files CSVs that list them all, with every reason (each table's that
            skipped anything).
        """
        reasons: dict[str, list[tuple[str, str]]] = {}  # path -> its lines of the first table to list it
        kinds: dict[str, list[str]] = {}
        for table in self.tables:
            mine = {}
            for path, reason in table.skipped:
                mine.setdefault(path, []).append((path, reason))
            for path, lines in mine.items():
                reasons.setdefault(path, lines)
                kinds.setdefault(path, []).append(table.kind)
        folders = {path for table in self.tables for path in table.folders_left_out}
        skipped = []
        for path, lines in reasons.items():
            tables = kinds[path]
            partial = len(tables) < len(self.tables) and path not in folders
            only = f" (only for the {' and '.join(tables)} features)" if partial else ""
            skipped += [(path, reason + only) for path, reason in lines]
        return skipped, folders, [table.skipped_path for table in self.tables if table.skipped]

    def skipped_lines(self, lines: Sequence[str]) -> tuple[list[str], Path | None]:
        """Which of a list file's ``lines`` (ones that matched no track) name a file the extraction skipped.

        Such a line is no typo: the file is listed but unreadable (truncated, not audio...),
        so its track is not in the table; the skipped-files CSV says why.

        Parameters
        ----------
        lines : sequence of str
            List-file lines, matched to skipped files by file stem as the splits match them.

        Returns
        -------
        lines : list of str
            Those of ``lines`` whose file some table skipped.
        listed_in : pathlib.Path or None
            The first table's skipped-files CSV that names one of them.
        """
        from genre.data.tracks import read_skipped_csv
        from genre.features.table import file_stem

        wanted = {file_stem(line): line for line in lines}
        found: dict[str, None] = {}
        listed_in = None
        for table in self.tables:
            skipped = read_skipped_csv(table.skipped_path)
            if skipped is None:
                continue  # none written (nothing skipped), or unreadable: no hint, the line stays unmatched
            stems = {file_stem(path) for path, _ in skipped}
            hits = [line for stem, line in wanted.items() if stem in stems]
            if hits and listed_in is None:
                listed_in = table.skipped_path
            found.update(dict.fromkeys(hits))
        return [line for line in lines if line in found], listed_in


class BenchmarkRun(tuple):
    """What :func:`benchmark` returns: the pair ``(results, files)``, and how its features came about.

    It unpacks and indexes as that pair (``results, files = benchmark(...)``); like
    :class:`os.stat_result`, it carries more as attributes than its items.

    Attributes
    ----------
    results : BenchmarkResults
    files : genre.reports.ReportFiles or None
    features : ExtractedInputs or None
        For a source of audio: each table, how many of its files this run reused and
        extracted, and the listing's notes; ``None`` for feature tables.
    """

    def __new__(
        cls, results: BenchmarkResults, files: ReportFiles | None, *, features: ExtractedInputs | None = None
    ) -> "BenchmarkRun":
        run = super().__new__(cls, (results, files))
        run.features = features
        return run

    def __getnewargs__(self) -> tuple:
        return tuple(self)  # tuple's own, ((results, files),), is not what __new__ takes (copy, pickle)

    @property
    def results(self) -> BenchmarkResults:
        return self[0]

    @property
    def files(self) -> ReportFiles | None:
        return self[1]


def extract_inputs(
    source: str | os.PathLike,
    folder: str | os.PathLike,
    *,
    models: Sequence[str],
    jobs: int = -1,
    progress: bool = False,
    echo: Callable[[str], None] | None = None,
    notes: Callable[[str], None] | None = None,
    folds: int | None = None,
    repeats: int = 1,
    seed: int = 0,
    use_groups: bool = True,
    group_col: str | None = None,
    label_col: str | None = None,
    train_lists: Sequence[str | os.PathLike] = (),
    test_list: str | os.PathLike | None = None,
    source_options: Mapping[str, Any] | None = None,
    segment_seconds: float | None = None,
) -> ExtractedInputs:
    """Extract, resumably, the tables the models need from a folder of audio.

    The handcrafted table is always written (it carries the segment ids audio models
    read); a ``musicnn`` table only when a model reads one. A table already complete in
    ``folder`` for the same files and settings is reused (checked from its sidecar's
    fingerprint, without reading audio); an interrupted one resumes; one of other files or
    settings (a file added to the folder, a label edited) is updated (the rows of unchanged
    audio files are kept), and an unfinished run of other settings or library versions is
    discarded: ``folder`` belongs to the benchmark.

    The splits that follow are checked on the source's listing before any file is extracted
    (see ``folds`` and ``test_list``), by the checks the evaluation makes on the table.

    Parameters
    ----------
    source : path-like
        A dataset source (folder of label folders, manifest CSV...).
    folder : path-like
        Where the tables go (``REPORT_DIR/features``).
    models : sequence of str
        Registry names; their specs' ``input`` decides which tables are extracted.
    jobs : int
        Extraction worker processes (-1: all cores).
    progress : bool
        Progress bars on stderr.
    echo : callable, optional
        Receives one line per table (reused, or extracted with its time), and why a table
        is extracted again.
    notes : callable, optional
        Receives the listing's notes (non-audio files ignored, tracks the source's rules
        leave out) once the source is listed; default ``echo``. They are in the result's
        ``notes`` too.
    folds, repeats, seed : int, optional
        The cross-validation that follows (``repeats`` and ``seed`` only with ``folds``):
        every class must have ``folds`` tracks (or groups, with ``use_groups``), and the
        folds and seeds must be valid, checked on the listing before any file is extracted
        (see :func:`genre.evaluation.splits.cv_splits`).
    use_groups : bool
        Whether the tracks' groups (a manifest's ``group`` column) will keep artists whole.
    group_col : str, optional
        The column the groups will be read from (``--group-col``), if named: the files
        must then have groups, checked on the listing before any is extracted. ``group``
        and ``artist`` both name the table's ``group`` column, which a manifest's group or
        artist column fills.
    label_col : str, optional
        The column the labels will be read from (``--label-col``), if named.
    train_lists, test_list : path-like, optional
        The fixed partition that follows instead of ``folds``: the lists must match tracks
        of the listing, must not overlap nor (with ``use_groups``) put a group on both
        sides, and must leave two classes to train on, checked before any file is extracted
        (see :func:`genre.evaluation.splits.list_split`).
    source_options : mapping, optional
        Options of the source's reader (``fma:`` takes ``metadata`` and ``subset``), see
        :func:`genre.data.load_dataset`.
    segment_seconds : float, optional
        Segment length of the handcrafted table in seconds, as ``genre extract
        --segment-seconds`` takes it (0: one row per track); default 3. A table extracted with
        another length is extracted again.

    Returns
    -------
    tables : ExtractedInputs
        The feature CSVs, handcrafted first (unpacked, the paths), with how many files of
        each this run reused and extracted, and the listing's notes.
    """
    import time

    from genre.classifiers.registry import get_spec
    from genre.data import load_dataset
    from genre.features.extract import StaleJournalError, extract_to_csv, table_is_current

    kinds = ["handcrafted"]
    for name in models:
        kind = model_input_kind(get_spec(name))
        kind = _TABLE_OF_INPUT.get(kind, kind)
        if kind not in TABLE_EXTRACTORS:
            raise ParameterError(f"model {name} reads {kind} features, which cannot be extracted from audio here")
        if kind not in kinds:
            kinds.append(kind)
    dataset = load_dataset(source, **dict(source_options or {}))
    if group_col is not None and not any(t.group for t in dataset.tracks):
        # The table's group column would be empty in every row: refused now, not after extracting.
        raise ParameterError(
            f"{source}: --group-col {group_col!r}: none of its files has a group; {_AUDIO_COLUMNS}. Leave the option "
            "out, or list the files in a manifest with an artist column for artist-disjoint splits"
        )
    # The track list decides the splits: a refusal now costs no extraction.
    _check_splits(
        dataset, where=str(source), folds=folds, repeats=repeats, seed=seed, use_groups=use_groups,
        group_col=group_col, label_col=label_col, train_lists=train_lists, test_list=test_list,
        group_name=_group_column_name(source, group_col),
    )  # fmt: skip
    folder = Path(folder)
    say = echo or (lambda line: None)
    listing_notes = tuple(dataset.notes)  # e.g. cover art and notes beside the audio, ignored
    for note in listing_notes:
        (notes or say)(note)
    # Said once here, whatever is extracted below: the extractions need not say it again.
    dataset = dataset.without_notes()
    tables = []
    for kind in kinds:
        file_name, factory = TABLE_EXTRACTORS[kind]
        output = folder / file_name
        # Only the handcrafted table is cut into segments here; musicnn's patches are its own.
        settings = {"segment_seconds": segment_seconds} if kind == "handcrafted" and segment_seconds is not None else {}
        extractor = factory(**settings)
        if table_is_current(output, dataset=dataset, extractor=extractor):
            say(f"{kind}: using {output} (already extracted)")
            tables.append(_current_table(kind, output, dataset=dataset))
            continue
        stale = output.exists()
        if stale:
            # Updated, not removed: the rows of unchanged files are reused, the table is replaced
            # only once the update is done, and an unfinished run of these settings resumes.
            say(f"{kind}: {output} is out of date (the files or the settings changed); updating it")
        started = time.perf_counter()
        try:
            report = extract_to_csv(dataset, output, extractor=extractor, jobs=jobs, progress=progress, overwrite=stale)
        except StaleJournalError:
            say(f"{kind}: discarding an unfinished extraction of other settings or library versions in {folder}")
            report = extract_to_csv(dataset, output, extractor=extractor, jobs=jobs, progress=progress, overwrite=True)
        if not report.written:
            # An out-of-date table left in place must not be benchmarked as if it were current.
            example = f"; e.g. {report.skipped[0][0]}: {report.skipped[0][1]}" if report.skipped else ""
            raise DataError(f"{source}: no file could be extracted for the {kind} features{example}")
        # Each file found counted once: with rows from an earlier run (resumed, or kept by the
        # update), with rows from this one, or skipped (now or by an earlier run, never twice).
        table = ExtractedTable(
            kind, output, n_reused=report.n_resumed, n_extracted=report.n_extracted - report.n_resumed,
            skipped=tuple(report.skipped), folders_left_out=frozenset(report.folders_left_out),
        )  # fmt: skip
        # The engine counts every file with rows, resumed ones too: said apart, so that this line
        # agrees with the summary's "reused" and "extracted" counts after an interruption.
        earlier = f" ({report.n_resumed} of them from an earlier run)" if report.n_resumed else ""
        n_folders = table.n_folders_left_out
        left_out = f", {n_folders} {plural(n_folders, 'folder', 'folders')} left out" if n_folders else ""
        say(
            f"{kind}: {report.n_extracted} of {report.n_tracks} files{earlier}, {report.n_rows} rows in "
            f"{time.perf_counter() - started:.1f} s -> {output}"
            + (f" ({table.n_skipped} skipped{left_out}, see {report.skipped_path})" if report.skipped else "")
        )
        tables.append(table)
    return ExtractedInputs(tuple(tables), notes=listing_notes)


def _current_table(kind: str, output: Path, *, dataset: "Dataset") -> ExtractedTable:
    """The counts of a table reused whole: its files with rows reused, the rest of the listing's files skipped.

    Parameters
    ----------
    kind : str
        The table's key in :data:`TABLE_EXTRACTORS`.
    output : pathlib.Path
        The feature CSV, current for ``dataset`` (:func:`genre.features.extract.table_is_current`),
        so its skipped list is this listing's: the rejected files and folders, then a line
        for each track without rows.
    dataset : Dataset
        The listing the table was found current for; its rejected folders are counted
        apart, as the extraction counts them.
    """
    from genre.data.tracks import read_skipped_csv

    folders = frozenset(dataset.rejected_folders())
    table = ExtractedTable(kind, output, n_reused=0, n_extracted=0, folders_left_out=folders)
    # Unreadable: none (the summary then says none skipped, and no file is named).
    listed = tuple(read_skipped_csv(table.skipped_path) or ())
    without_rows = len(listed) - len(dataset.rejected)
    return dataclasses.replace(table, n_reused=len(dataset.tracks) - without_rows, skipped=listed)


def _check_splits(
    dataset: "Dataset",
    *,
    where: str,
    folds: int | None,
    repeats: int,
    seed: int,
    use_groups: bool,
    group_col: str | None,
    label_col: str | None,
    train_lists: Sequence[str | os.PathLike],
    test_list: str | os.PathLike | None,
    group_name: str | None = None,
) -> None:
    """Make the evaluation's split checks on a source's listing, before any of its files is extracted.

    The checks are the evaluation's own, on the table extraction will write for the listing,
    without its features (see :func:`_listing_table`): for a fixed partition, those of
    :func:`~genre.evaluation.splits.list_split` (lines that match no track, lists that
    overlap, a group on both sides, nothing left to train on); for a cross-validation, those
    of :func:`~genre.evaluation.splits.cv_splits` (folds, repeats and seed; classes with fewer
    tracks or groups than folds); for both, two classes on every training side. The files
    that extraction then skips only take tracks away, so the same checks follow on the table.
    Nothing is checked where the table's labels or groups will come from another of its
    columns (``label_col``, ``group_col``) than the listing's labels and groups. Messages
    call the groups' column ``group_name`` (see :func:`_group_column_name`), default ``group``.
    """
    if label_col not in (None, "label") or _table_group_col(group_col) not in (None, "group"):
        return
    if test_list is None and folds is None:
        return
    from genre.evaluation.cv import check_split_classes
    from genre.evaluation.splits import cv_splits, list_split

    table = _listing_table(dataset, where=where, group_name=group_name)
    if test_list is not None:
        splits = [list_split(table, train_lists=list(train_lists), test_list=test_list, use_groups=use_groups)[0]]
    else:
        splits = cv_splits(table, folds=folds, repeats=repeats, use_groups=use_groups, random_state=seed)
    check_split_classes(table, splits, train_lists=list(train_lists), test_list=test_list)


def _listing_table(dataset: "Dataset", *, where: str, group_name: str | None = None) -> "FeatureTable":
    """The table extraction will write for ``dataset``, one row per track and no feature column.

    Its track ids, labels, file stems and groups are those of the extracted table's id
    columns as :func:`genre.features.table.load_feature_table` reads them back (a track
    without a group is a group of its own); ``where`` names it in messages, and
    ``group_name`` (default ``group``) its group column, as the benchmark's table will be named.
    """
    import numpy as np
    import pandas as pd

    from genre.data.tracks import printable
    from genre.features.table import FeatureTable, file_stem

    tracks = np.array([printable(t.track) for t in dataset.tracks], dtype=str)
    written = np.array([printable(t.group).strip() for t in dataset.tracks], dtype=str)
    ungrouped = written == ""
    grouped = not ungrouped.all()
    return FeatureTable(
        X=pd.DataFrame(index=pd.RangeIndex(len(tracks))),
        y=np.array([printable(t.label).strip() for t in dataset.tracks], dtype=str),
        tracks=tracks,
        stems=np.array([file_stem(printable(t.path)) for t in dataset.tracks], dtype=str),
        groups=np.where(ungrouped, np.char.add("track:", tracks), written) if grouped else None,
        feature_columns=[],
        path=Path(where),
        label_col="label",
        id_col="track",
        group_col=(group_name or "group") if grouped else None,
        ungrouped=ungrouped if grouped else None,
    )


def benchmark(
    features: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    output_dir: str | os.PathLike | None = None,
    models: str | Sequence[str] = DEFAULT_MODELS,
    folds: int | None = None,
    repeats: int | None = None,
    group_col: str | None = None,
    use_groups: bool = True,
    train_lists: str | os.PathLike | Sequence[str | os.PathLike] = (),
    test_list: str | os.PathLike | None = None,
    label_col: str | None = None,
    id_col: str | None = None,
    drop: str | Sequence[str] = (),
    jobs: int = 1,
    seed: int = 0,
    progress: bool = False,
    model_params: Mapping[str, Mapping[str, Any]] | None = None,
    command: str = "",
    checkpoint_dir: str | os.PathLike | None = None,
    source_options: Mapping[str, Any] | None = None,
    notes: Callable[[str], None] | None = None,
    segment_seconds: float | None = None,
    extracted: Callable[[ExtractedInputs], None] | None = None,
) -> BenchmarkRun:
    """Load a feature table, cross-validate models on it, and write the report.

    Parameters
    ----------
    features : path-like or sequence of path-like
        Feature CSVs of the same tracks (``genre extract`` output, musicnn embeddings, or
        an external table such as GTZAN's); each model reads the one its spec's ``input``
        names. Or one folder of audio (any dataset source): the tables the models need are
        first extracted into ``output_dir/features`` (resumably), once the folds or list
        files are checked on its listing (see :func:`extract_inputs`).
    output_dir : path-like, optional
        Folder for ``report.html``, ``report.md``, ``results.json`` and plots; ``None``
        writes nothing.
    models : str or sequence of str
        Registry names; default ``dense, svm, xgboost``. A str is comma-separated, as
        ``--models`` takes them: ``"svm"``, ``"svm,logreg"`` (see :func:`genre.text.name_list`).
    folds, repeats : int, optional
        Repeated stratified k-fold over tracks (or groups); default 5 folds, 1 repeat. Not
        with ``test_list``, whose single split has neither (other values are refused).
    group_col : str, optional
        Column of groups (artists) kept whole; default a non-empty ``group``/``artist`` column.
    use_groups : bool
        ``False`` ignores groups even when the table has them (list files are then taken as
        they are; otherwise lists that put a group on both sides are refused).
    train_lists, test_list : path-like
        A fixed partition from list files instead of cross-validation; ``train_lists`` is
        one path or a sequence of them. Checked to be readable before any work.
    label_col, id_col, drop
        Column roles, see :func:`genre.features.table.load_feature_table`; ``drop`` as a
        str is comma-separated, as ``--drop`` takes it (a sequence: one column per item).
        For a folder of audio, ``label_col``, ``id_col`` and ``group_col`` must name columns
        of the extracted table (checked before extracting); ``group_col`` may also be
        ``artist``, the manifest's column that fills the table's ``group``.
    jobs : int
        Parallel folds / model threads (-1: all cores; the CLI's default, 1 here as in scikit-learn);
        never more than the cores, and the results record the most fits that ran at once.
    seed : int
        Seed of splits and models.
    progress : bool
        Show a progress bar on stderr.
    model_params : mapping, optional
        Per-model parameter overrides.
    command : str
        Command line recorded in the results.
    checkpoint_dir : path-like, optional
        Where each finished (model, split) fit is kept as it finishes, so that the same call
        after an interruption (Ctrl-C, kill -9, a crash) fits only the missing ones; default
        ``output_dir/.unfinished`` (none without ``output_dir``). Removed once the results
        are computed and the report written, so a later run measures afresh. The run holds
        its lock from before any extraction until then: a second benchmark into the same
        folder meanwhile is refused at once (see
        :func:`genre.evaluation.checkpoint.hold_checkpoints`). See
        :func:`genre.evaluation.cv.cross_validate_models`.
    source_options : mapping, optional
        For a source of audio: options of its reader (``fma:`` takes ``metadata`` and
        ``subset``, as ``genre extract --fma-metadata/--fma-subset``).
    notes : callable, optional
        For a source of audio: receives the listing's notes (files left out or ignored) once
        it is listed, for the caller to say where it says the end of the run (``genre
        benchmark``: after the results). By default they are said on stderr as the run ends,
        however it ends, with ``progress``.
    segment_seconds : float, optional
        For a source of audio: the handcrafted table's segment length in seconds (0: one row
        per track; default 3), see :func:`extract_inputs`. Refused for feature tables, whose
        segments were cut when they were extracted.
    extracted : callable, optional
        For a source of audio: receives the tables once they are extracted (what
        ``run.features`` holds), before the cross-validation, so that a caller can say what
        the extraction skipped (:meth:`ExtractedInputs.skipped_files`) however the run ends
        (``genre benchmark`` does, when the run is refused after extracting: a class left
        with fewer tracks than folds, say).

    Returns
    -------
    run : BenchmarkRun
        The pair ``(results, files)``, and in ``run.features`` (for a source of audio) how
        many files of each table were reused, extracted and skipped, and the listing's notes
        (with ``progress`` and no ``notes``, also said on stderr as the run ends, however it ends).
    results : BenchmarkResults
        ``run[0]``, with ``environment``: the machine that measured the times.
    files : genre.reports.ReportFiles or None
        ``run[1]``: the written report, or ``None`` without ``output_dir``.

    Raises
    ------
    ParameterError
        ``folds`` or ``repeats`` other than the defaults with ``test_list``; unknown models,
        or model parameters a model refuses (checked before any extraction or fit, by the
        checks the models' ``fit`` starts with where a model offers them apart from its fit:
        see :func:`check_models`); for a folder of audio, a column role the extracted table
        cannot fill; see also :func:`genre.evaluation.cv.cross_validate_models`.
    genre.errors.DataError
        A list file is missing or unreadable (checked before any work); for a source of
        audio, lists or folds its listing cannot take (checked before extracting, see
        :func:`extract_inputs`).
    genre.errors.OutputError
        ``output_dir`` (or ``checkpoint_dir``) cannot be created or written, or (for a folder
        of audio) is that folder or lies inside it (checked before any work); another
        benchmark is running into the same folder.
    """
    sources = [features] if isinstance(features, (str, os.PathLike)) else list(features)
    # One name or path is a list of one, never its letters ("logreg" is not l, o, g...).
    models, drop = name_list(models), name_list(drop)
    train_lists = [train_lists] if isinstance(train_lists, (str, os.PathLike)) else list(train_lists)
    if not sources or any(not str(source).strip() for source in sources):
        raise ParameterError("give a feature CSV or a folder of audio (an empty path was given)")
    if group_col is not None and not use_groups:
        raise ParameterError("--group-col names the groups that --no-groups ignores: give one of them")
    check_distinct_tables(sources)
    if segment_seconds is not None:
        if not (len(sources) == 1 and is_audio_source(sources[0])):
            raise ParameterError(
                "--segment-seconds applies to a source of audio; a feature table keeps the segments it was "
                "extracted with (extract it again with 'genre extract --segment-seconds')"
            )
        _handcrafted_config(segment_seconds=segment_seconds)  # an invalid length is refused before any work
    from genre.atomic import check_output_folder

    if output_dir is not None:
        from genre.reports.render import check_report_folder

        check_output_folder(output_dir)  # before the work, not after it
        # With the plots the named models will have: a user's own accuracy.png is kept too.
        check_report_folder(output_dir, models=[m.strip() for m in models if m and m.strip()])
    # Before any extraction or fit: a missing list file, --folds with --test-list or a refused
    # --param costs nothing.
    _check_lists(train_lists, test_list)
    n_folds, n_repeats = cv_settings(folds, repeats, fixed=test_list is not None)
    from genre.classifiers.registry import check_seed

    check_seed(seed, n_derived=n_repeats)  # each repeat takes the next seed
    check_models(models, model_params, seed=seed)
    if segment_seconds is not None or (len(sources) == 1 and is_audio_source(sources[0])):
        # Audio is extracted with the default segments unless told otherwise: a CNN whose patch
        # is shorter than them is refused now, not after the extraction.
        rows = _handcrafted_config(segment_seconds=segment_seconds).segment_seconds
        _check_patch_models(models, segment_seconds=rows, model_params=model_params, seed=seed)
    if checkpoint_dir is not None:
        check_output_folder(checkpoint_dir)
    elif output_dir is not None:
        checkpoint_dir = Path(output_dir) / CHECKPOINT_FOLDER
    # Held from before the extraction until the kept fits are removed: a second benchmark
    # into the same folder is refused before any long work, not in the middle of it.
    held = hold_checkpoints(checkpoint_dir) if checkpoint_dir is not None else contextlib.nullcontext()
    tables_made = None
    table_group_col, group_name = group_col, None
    # The listing's notes (files left out, ignored) are said last: a batch job says at the end
    # what it skipped, where no progress bar scrolls it away.
    listing_notes: list[str] = []
    with held, _said_at_the_end(listing_notes, enabled=progress and notes is None):
        if len(sources) == 1 and is_audio_source(sources[0]):
            if output_dir is None:
                raise ParameterError(f"{sources[0]}: benchmarking audio needs an output folder for its features")
            from genre.atomic import check_output_outside

            # Report, plots and features/ among the label folders would be read as part of the
            # dataset by the next benchmark of it (a 'features' label, skipped files).
            check_output_outside(output_dir, inputs=_audio_folders(sources[0]), what="audio folder")
            _check_audio_columns(sources[0], label_col=label_col, id_col=id_col, group_col=group_col)
            # The table calls its groups' column "group"; the texts name it as the user knows it.
            group_name = _group_column_name(sources[0], group_col)
            # The extracted table's columns are lower case, a manifest's in any case ("Label").
            label_col, id_col = (None if c is None else _audio_column(c) for c in (label_col, id_col))
            tables_made = extract_inputs(
                sources[0], Path(output_dir) / "features", models=models, jobs=jobs, progress=progress,
                echo=_echo if progress else None, notes=notes or listing_notes.append,
                folds=None if test_list is not None else n_folds, repeats=n_repeats, seed=seed, use_groups=use_groups,
                group_col=group_col, label_col=label_col, train_lists=train_lists, test_list=test_list,
                source_options=source_options, segment_seconds=segment_seconds,
            )  # fmt: skip
            if extracted is not None:
                extracted(tables_made)
            sources = list(tables_made)
            table_group_col = _table_group_col(group_col)
        # Reading the tables is checked too: a table the skipped files left with one class, or
        # with no rows at all, is refused by the reader, before any split.
        with _blaming_skipped_files(tables_made):
            tables = [
                _group_column_named(
                    load_feature_table(path, label_col=label_col, id_col=id_col, group_col=table_group_col, drop=drop),
                    group_name,
                )
                for path in sources
            ]
            results = cross_validate_models(
                tables,
                models,
                folds=folds,
                repeats=repeats,
                groups=use_groups,
                train_lists=train_lists,
                test_list=test_list,
                jobs=jobs,
                seed=seed,
                progress=progress,
                model_params=model_params,
                command=command or _python_call(
                    sources, models, folds=folds, repeats=repeats, seed=seed, train_lists=train_lists,
                    test_list=test_list, group_col=group_col, use_groups=use_groups, label_col=label_col,
                    id_col=id_col, drop=drop, model_params=model_params,
                ),  # fmt: skip
                checkpoint_dir=checkpoint_dir,
            )
        if not results.environment:
            # The machine that measured the fit and predict times: they mean little without it.
            results.environment = describe_environment()
        files = None
        if output_dir is not None:
            files = render_report(results, Path(output_dir))
        if checkpoint_dir is not None:
            # Every fit is in the results (and the report) now; kept, they would make a later
            # run of the same benchmark read old times back instead of measuring.
            CheckpointStore(checkpoint_dir).remove()
    return BenchmarkRun(results, files, features=tables_made)


def _check_patch_models(
    models: Sequence[str], *, segment_seconds: float, model_params: Mapping[str, Mapping] | None = None, seed: int = 0
) -> None:
    """Refuse CNN models whose log-mel patch is shorter than the rows ``--segment-seconds`` asks for.

    The same rule as for a feature table (:func:`genre.classifiers.cnn.check_patch_segments`),
    applied before any audio is extracted.
    """
    from genre.classifiers.cnn import check_patch_segments
    from genre.classifiers.registry import make_model

    params = model_params or {}
    estimators = {name: make_model(name, random_state=seed, **dict(params.get(name, {}))) for name in models}
    check_patch_segments(segment_seconds, estimators=estimators)


@contextlib.contextmanager
def _blaming_skipped_files(extracted: ExtractedInputs | None) -> Iterator[None]:
    """Add to a refusal of the extracted tables that the extraction skipped files.

    The folds and lists were checked on the source's listing before extracting; a refusal
    after it (a class left with fewer tracks or artists than folds, one class left, no rows
    at all), whether by the table's reader or by the cross-validation, comes from the files
    the extraction could not use, which the bare message would not say.

    Parameters
    ----------
    extracted : ExtractedInputs or None
        What :func:`extract_inputs` made ready; ``None`` (feature tables given) adds nothing.
    """
    try:
        yield
    except DataError as error:
        skipped = [table for table in (extracted.tables if extracted is not None else ()) if table.n_skipped]
        if not skipped:
            raise
        first = skipped[0]
        n = first.n_skipped
        raise DataError(
            f"{error} (note: {n} of the source's {plural(n, 'files was', 'files were')} skipped when the "
            f"{first.kind} features were extracted, see {first.skipped_path}, so the table has fewer tracks than "
            "the listing the folds and lists were checked on before extracting)"
        ) from error


@contextlib.contextmanager
def _said_at_the_end(lines: list[str], *, enabled: bool) -> Iterator[None]:
    """Say ``lines`` as notes on stderr when the block ends (done, Ctrl-C, an error); they may come as it runs."""
    try:
        yield
    finally:
        if enabled:
            tell(lines)


def check_models(
    models: Sequence[str], model_params: Mapping[str, Mapping[str, Any]] | None = None, *, seed: int = 0
) -> None:
    """Refuse, before any work, an unknown model or a parameter a model would refuse when fitted.

    Each model is built (:func:`genre.classifiers.registry.make_model`: unknown names and
    keywords are refused there) and the checks its ``fit`` starts with are run on the
    estimator and on each estimator inside it (pipeline steps, ensemble members), without
    fitting: a model's own ``_check_params()`` where it has one (the dense network, the
    CNN, the SVM's grids, XGBoost's bounds, the ensemble's members and weights), else
    scikit-learn's parameter validation (``C=-1`` for ``logreg``), where the scikit-learn
    installed offers it apart from the fit (else the fit refuses the value, on its first fold).

    Parameters
    ----------
    models : sequence of str
        Registry names (blank ones are left out, as cross-validation does).
    model_params : mapping, optional
        ``model name -> parameters``.
    seed : int
        The models' ``random_state``.

    Raises
    ------
    genre.errors.ParameterError
        No model, an unknown model, a parameter it does not take, or a value its checks refuse;
        the message names the model.
    """
    from genre.classifiers.fit_errors import model_refusals
    from genre.classifiers.registry import make_model

    names = list(dict.fromkeys(name.strip() for name in models if name and name.strip()))
    if not names:
        raise ParameterError("--models: name at least one model")
    for name in names:
        params = dict((model_params or {}).get(name, {}))
        estimator = make_model(name, random_state=seed, **params)
        # The wording of a refusal in a fit, without "failed on fold 1": no fold has run.
        with model_refusals(ParameterError, f"model {name}", params=params):
            _run_parameter_checks(estimator)


def _run_parameter_checks(estimator: Any) -> None:
    """The parameter checks ``estimator.fit`` starts with, where they can run apart from it; then its parts'."""
    own = getattr(estimator, "_check_params", None)
    if callable(own):
        own()
    elif getattr(estimator, "_parameter_constraints", None) is not None:
        _sklearn_parameter_checks(estimator)
    if not hasattr(estimator, "get_params"):
        return
    for value in estimator.get_params(deep=False).values():
        # Pipeline steps and ensemble members are (name, estimator) pairs; a wrapper holds one.
        for part in value if isinstance(value, list) else [value]:
            part = part[-1] if isinstance(part, tuple) and part else part
            if hasattr(part, "get_params") and not isinstance(part, type):
                _run_parameter_checks(part)


def _sklearn_parameter_checks(estimator: Any) -> None:
    """scikit-learn's parameter validation, the first thing its ``fit`` does, run apart from the fit.

    It is private API (``_validate_params()``, scikit-learn 1.2 and later): where a version
    lacks it or calls it otherwise (an ``AttributeError`` or a ``TypeError`` that is no
    refusal), nothing is checked early and the fit refuses a bad value instead, on its first
    fold. A refusal (``InvalidParameterError``) is a ``ValueError`` and passes.
    """
    try:
        estimator._validate_params()
    except ValueError:
        raise  # the refusal: InvalidParameterError is a ValueError (and a TypeError)
    except (AttributeError, TypeError):
        return


def _check_lists(train_lists: Sequence[str | os.PathLike], test_list: str | os.PathLike | None) -> None:
    """Refuse, before any work, list files that cannot be read, and training lists without a test list."""
    from genre.evaluation.splits import read_list_file

    if train_lists and test_list is None:
        raise ParameterError("--train-list needs --test-list (the tracks to test on)")
    for path in [*train_lists, *([] if test_list is None else [test_list])]:
        read_list_file(path)  # the reader the split uses: missing, unreadable, not UTF-8


#: What a table extracted from a folder of audio holds besides its features, for messages.
_AUDIO_COLUMNS = (
    "audio is extracted into a table of the columns path, track, segment, start, label and group: label "
    "from a folder's label folders or a manifest's label column; group only from a manifest's group or "
    "artist column, or FMA's artist ids (a folder of label folders has no groups)"
)
#: What to do instead, for each column option (the advice differs: a label is never a group).
_LEAVE_OUT = {
    "--label-col": "Leave the option out: the labels are read from the label column",
    "--id-col": "Leave the option out: the track ids are read from the path and track columns",
    "--group-col": "Leave the option out: the table's group column is used when it is filled",
}


def _check_audio_columns(
    source: str | os.PathLike, *, label_col: str | None, id_col: str | None, group_col: str | None
) -> None:
    """Refuse, before extracting, a column role that names no column of the table to be extracted.

    For a manifest, ``--group-col`` is checked against its first line too: a name that is none
    of its columns is refused naming the column its groups are read from, and ``artist`` where
    the manifest also has a ``group`` column (which extraction reads instead) is refused rather
    than silently read as that other column.
    """
    from genre.features.config import ID_COLUMNS

    for option, name in (("--label-col", label_col), ("--id-col", id_col), ("--group-col", _table_group_col(group_col))):
        if name is not None and _audio_column(name) not in ID_COLUMNS:
            header = _manifest_columns(source) if option == "--group-col" else None
            if header is not None:
                raise ParameterError(_unknown_manifest_group(source, group_col, header))
            raise ParameterError(
                f"{source}: {option} {name!r} is not a column of its table; {_AUDIO_COLUMNS}. {_LEAVE_OUT[option]}"
            )
    header = _manifest_columns(source) if group_col is not None else None
    if header is not None:
        _check_manifest_group(source, group_col, header)


def _manifest_columns(source: str | os.PathLike) -> list[str] | None:
    """A manifest source's column names as its first line writes them; ``None`` for other sources."""
    from genre.data import source_layout
    from genre.data.manifest import manifest_header

    return manifest_header(source) if source_layout(source) == "manifest" else None


def _unknown_manifest_group(source: str | os.PathLike, group_col: str, header: list[str]) -> str:
    """The refusal of ``--group-col NAME`` where NAME is not a group column a manifest's groups come from."""
    from genre.data.manifest import GROUP_CANDIDATES, group_column

    chosen = group_column(header)
    columns = ", ".join(header)
    named = next((c for c in header if c.lower() == group_col.strip().lower()), None)
    candidates = " or ".join(map(repr, GROUP_CANDIDATES))
    if chosen is not None:
        advice = f"its groups are read from its {chosen!r} column: give --group-col {chosen}, or leave the option out"
    elif named is not None:
        advice = f"rename its {named!r} column to 'artist' (a manifest's groups come from a {candidates} column only)"
    else:
        advice = f"add an 'artist' column for artist-disjoint splits (its groups are read from {candidates})"
    return f"{source}: --group-col {group_col!r} is not a group column of the manifest (columns: {columns}); {advice}"


def _check_manifest_group(source: str | os.PathLike, group_col: str, header: list[str]) -> None:
    """Refuse ``--group-col`` naming a manifest's group column other than the one extraction reads."""
    from genre.data.manifest import group_column

    chosen = group_column(header)
    wanted = group_col.strip().lower()
    if chosen is None:
        raise ParameterError(
            f"{source}: --group-col {group_col!r}: the manifest has no 'group' or 'artist' column (columns: "
            f"{', '.join(header)}); add one, or leave the option out"
        )
    if chosen.lower() != wanted and wanted in (c.lower() for c in header):
        # Both columns: the extracted table's groups come from the first, not the one named.
        raise ParameterError(
            f"{source}: --group-col {group_col!r}: the manifest also has a {chosen!r} column, and its groups are "
            f"read from that one (group before artist); give --group-col {chosen}, or rename or remove the "
            f"{chosen!r} column to group by {group_col}"
        )


def _audio_column(name: str) -> str:
    """A column option of a benchmark of audio as the extracted table spells it: ``Label`` is ``label``
    (a manifest's column names are read in any case; the table's are lower case)."""
    from genre.features.config import ID_COLUMNS

    return name.strip().lower() if name.strip().lower() in ID_COLUMNS else name


def _table_group_col(group_col: str | None) -> str | None:
    """The column of an extracted table that ``--group-col`` names: its ``group`` column, which a
    manifest's group or artist column (FMA's artist ids) fills, for either name in any case; others as given."""
    from genre.data.manifest import GROUP_CANDIDATES

    if group_col is None:
        return None
    return "group" if group_col.strip().lower() in GROUP_CANDIDATES else group_col


def _group_column_name(source: str | os.PathLike, group_col: str | None) -> str | None:
    """How texts name the column an audio source's groups come from, which its extracted table calls ``group``.

    A manifest's group column as its first line spells it (``Artist``): the one ``--group-col``
    names (checked to be it, see :func:`_check_manifest_group`), or the one found. For other
    sources, ``group_col`` as given, else the word of a scheme's metadata (``artist`` for FMA's
    artist ids, :data:`genre.data.SCHEME_GROUP_NAMES`). ``None`` where nothing names it (the table's
    own ``group`` then), or where ``group_col`` is another column of the table.
    """
    from genre.data import SCHEME_GROUP_NAMES, source_layout

    if _table_group_col(group_col) not in (None, "group"):
        return None
    header = _manifest_columns(source)
    if header is not None:
        from genre.data.manifest import group_column

        return group_column(header)
    return SCHEME_GROUP_NAMES.get(source_layout(source)) if group_col is None else group_col.strip()


def _group_column_named(table: "FeatureTable", name: str | None) -> "FeatureTable":
    """``table`` with its ``group`` column called ``name``, the column its groups were extracted from.

    The name is only words: no column is read by it once the table is loaded, and the splits,
    messages, protocol and report that follow all take it from the table.
    """
    if name is None or table.group_col != "group":
        return table
    return dataclasses.replace(table, group_col=name)


def _audio_folders(root: str | os.PathLike) -> list[Path]:
    """An audio root and its sub-folders (label folders, linked ones too: they may lie elsewhere)."""
    folders = [Path(root)]
    with contextlib.suppress(OSError):  # the dataset reader reports a folder it cannot list
        with os.scandir(root) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if not entry.name.startswith(".") and entry.is_dir():
                        folders.append(Path(entry.path))
    return folders


def is_audio_source(source: str | os.PathLike) -> bool:
    """A source of audio rather than a feature table: a folder of label folders, ``fma:FOLDER``
    (a scheme of :data:`genre.data.SCHEMES`) or a manifest CSV (``path,label[,group]``)."""
    from genre.data import SCHEMES, source_layout
    from genre.data.manifest import looks_like_manifest

    layout = source_layout(source)
    if layout == "synthetic":  # the word, not the built-in corpus: audio only as a folder of that name
        return Path(source).is_dir()
    return layout in (*SCHEMES, "folder") or (layout == "manifest" and looks_like_manifest(source))


def _echo(line: str) -> None:
    tell([line], kind=None)


def _python_call(
    features, models, *, folds, repeats, seed, train_lists, test_list, group_col, use_groups, label_col, id_col,
    drop, model_params,
) -> str:
    """The call as a user could retype it: every setting that decided the numbers, and only those.

    Keywords left at their defaults are left out; column roles, groups and parameter
    overrides are kept, since each changes the folds or the models.
    """
    if test_list is not None:
        lists = f"train_lists={[str(p) for p in train_lists]!r}, " if train_lists else ""
        protocol = f"{lists}test_list={str(test_list)!r}"
    else:
        folds = DEFAULT_FOLDS if folds is None else folds
        repeats = DEFAULT_REPEATS if repeats is None else repeats
        protocol = f"folds={folds}, repeats={repeats}"
    names = [str(path) for path in features]
    shown = names[0] if len(names) == 1 else names
    settings = {
        "group_col": group_col,
        "use_groups": None if use_groups else False,
        "label_col": label_col,
        "id_col": id_col,
        "drop": list(drop) or None,
        "model_params": {name: dict(params) for name, params in (model_params or {}).items() if params} or None,
    }
    extra = "".join(f", {key}={value!r}" for key, value in settings.items() if value is not None)
    return f"genre.benchmark.benchmark({shown!r}, models={list(models)!r}, {protocol}, seed={seed}{extra})"
