"""The extraction engine: a dataset in, a feature CSV out, in parallel and resumably.

While it runs, finished files are appended to ``<output>.partial`` (one block of rows per
file) and recorded in ``<output>.journal`` (one JSON line per file, written after its
rows are flushed to disk). A rerun after Ctrl-C or ``kill -9`` drops any block the
journal does not vouch for and extracts only the remaining files. When all files are
done, the blocks are copied in dataset order into the final CSV, which is renamed into
place atomically with its JSON sidecar and its list of skipped files: the result is
byte-identical to an uninterrupted run, whatever order the workers finished in.

A rerun checks each journaled block against the partial file (length and CRC-32), so a
partial file cut short, changed or deleted costs a re-extraction of the files concerned,
never a corrupt table. Blocks no longer journaled (dropped by these checks, or left behind by
a relabel) never reach the table, and a rerun rewrites the partial file without them once
they are over half of it. The journal also records each audio file's size and modification
time as the run found them, and a rerun extracts again the files whose size or time has
changed since, as ``make`` and ``rsync`` tell a changed file: rows of the old sound are
never kept. ``<output>.lock`` keeps a second run off the same output.

A rerun whose listing changed since (a label fixed in a manifest, files added or removed)
resumes all the same when the extractor settings and library versions are those the
journal's header records: a file's rows depend on its sound, the settings and the versions
alone. The journal names each file by an id of its path and one of its path, name, label
and group; the blocks of files still listed are journaled again under the new fingerprint
(rewritten where their name, label or group changed), those of files no longer listed are
dropped, and the checks above then apply as to any resumed run. Other settings, other
versions (even for the same files: no table mixes rows of two versions), or a journal of an
older version of genre, which records none of this, are refused (``--overwrite`` starts
again); such a journal of the same files is resumed, as that version did.

A file can also kill the process analysing it (a decoder crash, the kernel's OOM killer):
in a worker process that costs the file alone (see :class:`LocalExecutor`), but with
``--jobs 1`` the file is analysed in this process, and a rerun would try it again in-process
and die again, forever. So ``<output>.inflight`` notes each file as its analysis starts, and
the journal as it ends; a run that ends in Python (done, Ctrl-C, a full disk) clears its
notes. Files noted but not journaled are left only by a process that died, and a rerun
tries each of them alone in a process of its own before anything else (see
:data:`DIED_AGAIN`): a file that kills that process too is skipped, and journaled as such.
Where no worker process can start at all, such a file is neither tried in this process
(it could crash the run again) nor blamed: it is skipped as :data:`NOT_RETRIED`, journaled
only after every other file, so a run cut short before then leaves it to the next run.

``--overwrite`` of a finished table updates it rather than starting over, when its sidecar
shows the same extractor settings and library versions: the sidecar's ``stamps`` record,
for each extracted track in table order, an id of its path, name, label and group, the
audio file's size and modification time, the row count, byte length and CRC-32 of its
block of rows, and an id of its path alone. The blocks of the files still listed are copied
into a new ``<output>.partial`` (found by path: those of files whose name, label or group
changed since are rewritten with the new ones; a sidecar of an older version records no
path ids, and its blocks are found by track, so a relabelled file is extracted again) and
journaled as if an earlier run had extracted them; the resume above does the rest
(files changed since are extracted again, and so are files that were skipped), so the
table is replaced only at the end, and an update cut short resumes like any other run. A
block edited since it was written fails its CRC and is extracted again. The sidecar's
``skipped_stamps`` record the size and modification time of each skipped file, so that a
skipped file replaced since (a restored backup) makes the table out of date.

What a file's rows do not show is carried beside them to the end-of-run notes: the silent
segments left out of it and its own sample rate, in its journal line (a resumed run) and in
the sidecar's :data:`SILENT_KEY` and :data:`BELOW_RATE_KEY` (an update).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import platform
import tempfile
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO, Any, Callable, Collection, Iterator, Mapping, NamedTuple, Protocol, TypeVar

import numpy as np
import pandas as pd

from genre.atomic import OutputLock, atomic_files, atomic_open, atomic_write_text, check_output_file, output_path
from genre.csvtext import csv_text
from genre.data import Dataset, Track, load_dataset
from genre.data.tracks import printable, read_skipped_csv, write_skipped_csv
from genre.errors import AudioError, OutputError, ParameterError
from genre.features.config import EXTRACTION_FOLDER_KEY, ID_COLUMNS, FeatureConfig
from genre.features.executors import (
    Executor,
    LocalExecutor,
    NotTried,
    TaskFailure,
    map_alone,
    prepare_executor,
    resolve_jobs,
)
from genre.features.handcrafted import ClipFeatures, HandcraftedExtractor
from genre.progress import progress_bar, tell
from genre.text import plural

TABLE_FORMAT = "genre-features/1"
# Eight significant digits: float32 features lose nothing a model could use, and a row of
# ~180 numbers stays under 2 kB. Prediction rounds through the same format (as_written).
VALUE_FORMAT = ".8g"

T = TypeVar("T")


class Extractor(Protocol):
    """What the engine needs from an extractor (handcrafted, embeddings...)."""

    kind: str

    def feature_columns(self) -> list[str]: ...

    def describe(self) -> dict: ...

    def extract_file(self, path: str | os.PathLike) -> ClipFeatures: ...


@dataclass
class ExtractReport:
    """Outcome of :func:`extract_to_csv`."""

    output: Path
    sidecar_path: Path
    skipped_path: Path
    #: Files found: extracted, resumed or skipped (rejected folders are not counted), so
    #: ``n_extracted`` plus the skipped files (``skipped`` less ``folders_left_out``).
    n_tracks: int
    #: Files that gave rows, whether extracted by this run or taken from an earlier one
    #: (``n_resumed`` of them); those extracted by this run are ``n_extracted - n_resumed``.
    n_extracted: int
    #: Files whose rows came from an earlier run: an unfinished one resumed, or the finished
    #: table that ``overwrite`` updates. A file an earlier run skipped (journaled as skipped,
    #: not tried again) gave no rows: it is among ``skipped``, not counted here.
    n_resumed: int
    n_rows: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    #: What the run decided on its own (rows of a damaged partial file extracted again, fewer
    #: workers than asked, an existing output kept), one line each; also printed with ``progress``.
    notes: list[str] = field(default_factory=list)
    #: False when nothing was extracted and an existing output was kept untouched.
    written: bool = True
    #: Printable paths in ``skipped`` that are folders the source left out (unlistable,
    #: without audio, a link loop), not files.
    folders_left_out: set[str] = field(default_factory=set)
    #: Extracted files some of whose segments were silent (RMS below ``silence_rms``) and gave
    #: no row: printable path -> segments left out. Also in the sidecar and ``notes``.
    silent_segments: dict[str, int] = field(default_factory=dict)
    #: Extracted files recorded below the analysis rate, so upsampled: printable path -> their
    #: own rate in Hz. Also in the sidecar and ``notes``.
    below_analysis_rate: dict[str, int] = field(default_factory=dict)


class StaleJournalError(ParameterError):
    """An unfinished extraction of other settings or library versions is in the way of this one.

    Or of other files, when an older version of genre wrote its journal: it does not tell
    which settings its rows were extracted with, nor which file is whose.
    """


@dataclass(frozen=True)
class _Block:
    """A worker's answer for one file: CSV text of its rows, or why it was skipped."""

    index: int
    text: str
    n_rows: int
    reason: str
    #: Segments left out as silent (:attr:`ClipFeatures.silent_segments`).
    silent: int = 0
    #: The file's own sample rate in Hz; None: unknown.
    native_sr: int | None = None


# -- one file -----------------------------------------------------------------------------
def _id_cells(track: Track) -> tuple[str, ...]:
    """The path, name, label and group cells of ``track``'s rows."""
    # A table is UTF-8 text: a name that is not (a hand-built Dataset's, from os.listdir) is
    # written with its stray bytes as \xNN, as the skipped-files list shows it.
    return tuple(printable(s) for s in (track.path, track.track, track.label, track.group))


#: Where the cells of :func:`_id_cells` lie in a row.
_ID_CELL_COLUMNS = tuple(ID_COLUMNS.index(name) for name in ("path", "track", "label", "group"))


def _format_rows(track: Track, features: ClipFeatures) -> str:
    path, name, label, group = _id_cells(track)
    rows = []
    for segment, start, values in zip(features.segment_numbers(), features.starts, features.values):
        ids = [path, name, int(segment), f"{start:.3f}", label, group]
        rows.append(ids + [format(v, VALUE_FORMAT) for v in values])
    return csv_text(rows)


def extract_or_reason(extract_file: Callable[[str], T], path: str) -> tuple[T | None, str]:
    """Run ``extract_file(path)``; a file that cannot be used gives ``(None, reason)``, never an exception.

    The reason does not repeat the path. BLAS runs on one thread: sums then run in the same
    order in every worker and executor, so results do not depend on ``--jobs`` or the engine.
    """
    from threadpoolctl import threadpool_limits

    try:
        with threadpool_limits(limits=1):
            return extract_file(path), ""
    except AudioError as exc:
        return None, str(exc).removeprefix(f"{path}: ")
    except MemoryError:
        return None, "out of memory while decoding"
    except Exception as exc:  # a decoder bug on one odd file must not cost the batch
        return None, f"unexpected error: {type(exc).__name__}: {exc}"


def _relabel_rows(data: bytes, track: Track) -> bytes | None:
    """A block of rows of ``track``'s audio file, with ``track``'s name, label and group put in.

    The features and segments are kept: they depend on the file's sound alone. Written as
    :func:`_format_rows` writes them, so the block is the one a fresh extraction would give.

    Returns
    -------
    bytes or None
        None where the block does not read back as the rows it was written from, so its
        cells cannot be told apart: its file is to be extracted again.
    """
    try:
        text = data.decode("utf-8")
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except (ValueError, csv.Error):  # not our UTF-8, a cell over the csv module's size limit
        return None
    # Older versions wrote a lone carriage return in a cell (a path, name, label or group may
    # hold one) unquoted, and the reader ends a row there: cells would be put in the wrong
    # places, feature columns overwritten. Rows that read back as written are split right;
    # blocks with a CR at all are extracted again, which costs rare files a little time.
    if "\r" in text or csv_text(rows) != text or any(len(row) <= max(_ID_CELL_COLUMNS) for row in rows):
        return None
    cells = _id_cells(track)
    for row in rows:
        for column, cell in zip(_ID_CELL_COLUMNS, cells):
            row[column] = cell
    return csv_text(rows).encode("utf-8")


def _extract_block(task: tuple[int, Track, Extractor]) -> _Block:
    """Worker entry point; never raises for a bad file, so one file cannot stop a batch."""
    index, track, extractor = task
    features, reason = extract_or_reason(extractor.extract_file, track.path)
    if features is None:
        return _Block(index, "", 0, reason)
    return _Block(
        index,
        _format_rows(track, features),
        len(features.starts),
        "",
        silent=features.silent_segments,
        native_sr=features.native_sr,
    )


def extract_clip(
    path: str | os.PathLike,
    *,
    config: FeatureConfig = FeatureConfig(),
    extractor: Extractor | None = None,
    track: str | None = None,
    label: str = "",
    group: str = "",
) -> pd.DataFrame:
    """Feature rows of one audio file, as :func:`extract_to_csv` would write them.

    Parameters
    ----------
    path : path-like
        Audio file.
    config : FeatureConfig
        Handcrafted analysis parameters, used when no ``extractor`` is given.
    extractor : Extractor, optional
        Any extractor (e.g. :class:`~genre.features.embeddings.MusicnnExtractor`).
    track, label, group : str
        Id columns of the rows (``track`` defaults to the file name without extension).

    Returns
    -------
    pandas.DataFrame
        The id columns and the features. ``attrs["silent_segments"]``: segments left out as
        silent; ``attrs["native_sr"]``: the file's own sample rate in Hz (below the
        analysis rate, it was upsampled), or None where unknown.

    Raises
    ------
    AudioError
        The file cannot be decoded or is silent / too short.
    """
    extractor = extractor if extractor is not None else HandcraftedExtractor(config)
    item = Track(path=str(path), track=track or Path(path).with_suffix("").name, label=label, group=group)
    features = extractor.extract_file(item.path)
    frame = pd.DataFrame(features.values, columns=extractor.feature_columns())
    ids = pd.DataFrame(
        {
            "path": item.path,
            "track": item.track,
            "segment": features.segment_numbers(),
            "start": np.round(features.starts, 3),
            "label": item.label,
            "group": item.group,
        }
    )
    rows = pd.concat([ids, frame], axis=1)
    rows.attrs["silent_segments"] = features.silent_segments
    rows.attrs["native_sr"] = features.native_sr
    return rows


# -- run state ------------------------------------------------------------------------------
def _identity(track: Track) -> bytes:
    """What a track's rows hold besides its sound: its path, name, label and group.

    Other tracks have other identities, and other listings other runs of them in
    :func:`_fingerprint`: each identity ends at its one newline.
    """
    cells = (track.path, track.track, track.label, track.group)
    if any("\0" in cell or "\n" in cell for cell in cells):
        # A separator inside a cell (a manifest's label or group may hold either) would make two
        # tracks one (label "a\0b" without group, label "a" of group "b\0"), or two listings (a
        # newline in a group, or in the next path). Such a track is its cells' JSON (no NUL, no
        # newline) after four NULs, which the other form (three NULs) never starts with.
        return ("\0" * 4 + json.dumps(cells) + "\n").encode("ascii")
    # surrogatepass: a name that is not UTF-8 (its bytes as lone surrogates, as os.fsdecode
    # gives them) is hashed as it is, unlike its printable form; valid text hashes as before.
    return f"{track.path}\0{track.track}\0{track.label}\0{track.group}\n".encode("utf-8", "surrogatepass")


def _fingerprint(tracks: list[Track], description: dict) -> str:
    digest = hashlib.sha256(json.dumps(description, sort_keys=True).encode())
    for t in tracks:
        digest.update(_identity(t))
    return digest.hexdigest()


def _settings_id(description: dict) -> str:
    """What the journal's header records of the extractor settings, beside the fingerprint and versions."""
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()


def _track_id(track: Track) -> str:
    """The track's id in its table's ``stamps`` and its run's journal: 64 bits of a hash of :func:`_identity`."""
    return hashlib.sha256(_identity(track)).hexdigest()[:16]


def _path_id(track: Track) -> str:
    """The id of the track's audio file in its table's stamps, its run's journal and in-flight notes.

    64 bits of a hash of its path: what tells a file's rows whatever its name, label or group.
    """
    return hashlib.sha256(track.path.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _cannot_write(path: Path, exc: OSError) -> OutputError:
    """The error for a failed write of the run's state: which file, why, and that a rerun resumes."""
    reason = exc.strerror or type(exc).__name__
    return OutputError(
        f"{path}: cannot write ({reason}); the files extracted so far are kept: "
        "make room (or fix the cause) and rerun the same command to resume"
    )


#: What tells a changed audio file: its size and modification time, as ``make`` and ``rsync``
#: compare them (hashing every audio file on every run would cost as much reading as extracting
#: them; listing a dataset hashes only files of equal size, to find byte-identical copies: see
#: :func:`genre.data.tracks.reject_repeated_files`).
#: ``(-1, -1)``: the file could not be found or read.
_Stamp = tuple[int, int]


def file_stamp(path: str | os.PathLike) -> _Stamp:
    """The size and modification time (ns) of ``path``, or ``(-1, -1)`` if it cannot be seen.

    How every cache and resume in genre tells a changed input file (as ``make`` does): the
    extraction journal here, the benchmark's checkpoints and the CNN's fitted networks.
    """
    try:
        info = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL character in a manifest's path
        return (-1, -1)
    return (info.st_size, info.st_mtime_ns)


#: Why a file is skipped when the process analysing it died in an earlier run (which stopped
#: there) and again in a process of its own. Journaled like any skip, so a run resuming this
#: one does not try it again; a fresh run (``--overwrite``) does, in-process with ``--jobs 1``.
DIED_AGAIN = (
    "the process extracting it died, in an earlier run and again when tried alone "
    "(out of memory, or a decoder crash?)"
)


#: Why a file is skipped when the process analysing it died in an earlier run, and no worker
#: process can start here (``{why}``) to try it alone: not tried in this process, where it
#: could crash the run again. A run where worker processes start tries it again (an update
#: with ``--overwrite`` extracts skipped files).
NOT_RETRIED = (
    "the process extracting it died in an earlier run; not tried again, as no worker process can start here "
    "({why}) and in this process it could crash the run again"
)


@dataclass(frozen=True)
class _NoteStarted:
    """``func(task)``, with the task's file noted in ``<output>.inflight`` first (see :class:`_Journal`).

    Runs wherever ``func`` runs, this process or a worker, so a file that kills its process
    has been noted by then. The note is appended in one ``write`` (``O_APPEND``: whole lines
    from several processes) and not fsynced: a process that dies leaves what it wrote to the
    kernel, and only a machine that stops (power loss) loses it, which is no file's fault. It
    costs an open, a write and a close (3 us), against milliseconds for the two fsyncs of a
    file's journal entry and 0.1 s or more for its analysis.
    The file is never created here: a worker still running after its run ended cleanly (and
    removed the file) notes nothing. Each note is a line of :func:`_started_line`.
    """

    func: Callable[[Any], Any]
    path: str
    token: str  # this run's: notes of another run's late workers are not this run's

    def __call__(self, task: tuple[int, Track, Extractor]) -> Any:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError:  # best effort: without the note the file is only not guarded
            pass
        else:
            try:
                os.write(fd, _started_line(self.token, task[0], task[1]).encode())
            except OSError:  # a full disk: the journal's next write says so
                pass
            finally:
                os.close(fd)
        return self.func(task)


def _started_line(token: str, index: int, track: Track) -> str:
    """The line of ``<output>.inflight`` that notes the analysis of ``track`` as started.

    ``TOKEN INDEX PATH_ID``: the file's place in the run's listing, and the id of its path,
    which tells the file in a rerun whose listing changed (see :func:`_read_started`).
    """
    return f"{token} {index} {_path_id(track)}\n"


def _is_index(text: str) -> bool:
    """Whether ``text`` is an index as :func:`_started_line` writes it: ASCII digits, of a size int() reads.

    ``str.isdigit`` alone takes superscripts (``"²"``, which int() refuses) and digits of
    other scripts (``"٣"``, which int() reads as 3): a damaged line must be ignored, not
    crash the run or name another file.
    """
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()


def _read_started(path: Path, tracks: list[Track] | None = None) -> set[int]:
    """The files noted in the ``<output>.inflight`` file at ``path`` by the run that wrote it last.

    Its first line is that run's token; each further line is :func:`_started_line`'s. Lines of
    other tokens (a late worker of an earlier run), a last line cut short and lines that are
    not notes (a damaged file) are ignored.

    Returns
    -------
    set of int
        Indices into ``tracks``, found by path: the run that noted them may have listed other
        files, or in another order (see :meth:`_Journal._carry_over`); a file no longer listed
        is left out. Without ``tracks``, and for notes of older versions (no path id), the
        indices the notes give.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            token, *lines = handle.read().split("\n")
    except OSError:
        return set()
    noted = {}  # index -> path id ("" in notes of older versions)
    for line in lines[:-1]:  # the last piece is "" or a line cut short (by a power loss)
        noted_by, _, rest = line.partition(" ")
        index, _, path_id = rest.partition(" ")
        if noted_by == token and _is_index(index):
            noted[int(index)] = path_id
    if tracks is None:
        return set(noted)
    # Found by path where the track at the noted place is another file (the listing changed).
    moved = {p for i, p in noted.items() if p and not (i < len(tracks) and _path_id(tracks[i]) == p)}
    place = {_path_id(t): i for i, t in enumerate(tracks)} if moved else {}
    return {i for i, p in noted.items() if p not in moved} | {place[p] for p in moved if p in place}


class _Entry(NamedTuple):
    """One journal line: where a file's block lies in the partial file, and its outcome."""

    offset: int
    length: int
    rows: int
    reason: str
    crc: int | None  # CRC-32 of the block; None in journals of older versions
    stamp: _Stamp | None  # the audio file as extraction found it; None in journals of older versions
    silent: int = 0  # segments left out as silent (0 in journals of older versions)
    native_sr: int | None = None  # the file's own sample rate; None: unknown


def _is_int(value: Any, *, low: int | None = 0) -> bool:
    """Whether a journal's ``value`` is an int (a bool is not one) of at least ``low`` (None: any)."""
    return isinstance(value, int) and not isinstance(value, bool) and (low is None or value >= low)


def _entry_of(line: dict) -> _Entry:
    """The entry of a journal line (see :meth:`_Journal._line`).

    Raises
    ------
    KeyError, TypeError, ValueError
        The line is not one (a journal edited or damaged).
    """
    stamp = (line["size"], line["mtime_ns"]) if "size" in line else None
    entry = _Entry(
        line["offset"],
        line["length"],
        line["rows"],
        line["reason"],
        line.get("crc"),
        stamp,
        silent=line.get("silent", 0),
        native_sr=line.get("native_sr"),
    )
    # A damaged line may be valid JSON of other types ("offset": "x", a size of 1e400): it
    # must cost its file a re-extraction, not crash the checks or the sums that read it.
    if not (
        all(_is_int(v) for v in (entry.offset, entry.length, entry.rows, entry.silent))
        and isinstance(entry.reason, str)
        and (entry.crc is None or _is_int(entry.crc))
        and (stamp is None or all(_is_int(v, low=None) for v in stamp))
        and (entry.native_sr is None or _is_int(entry.native_sr))
    ):
        raise ValueError("not a journal line")
    return entry


class _Journal:
    """The partial-rows file and its journal: what a rerun may trust.

    Opening it resumes an unfinished run of the same fingerprint and library ``versions``:
    every journaled block is checked against the partial file, and every journaled file
    against ``stamps``; blocks missing or damaged, and files changed since, are dropped so
    that those files are extracted again (``notes`` says so). A journal of an older version
    of genre, which records no versions, is resumed on its fingerprint alone.

    An unfinished run of the same settings and versions (the ``settings`` and ``versions``
    in its header) but other ``tracks`` (files added or removed, a name, label or group
    changed) is first carried over to this run's tracks (see :meth:`_carry_over`), then
    resumed as above; one of other settings or versions is refused
    (:class:`StaleJournalError`), or discarded with ``overwrite``: no table mixes rows of
    two versions, as none does when a finished table is updated (:func:`_reusable_blocks`).

    ``suspects`` are the files whose analysis that run started but never journaled, noted
    in ``<output>.inflight``: its process died while analysing them. They are noted again
    under this run's token at once (a run that dies before trying them leaves them
    suspects still), and :meth:`close` keeps those not journaled by then and drops the
    notes of this run (see :meth:`note_started`).

    With ``overwrite`` and no unfinished run of the same settings and versions, the blocks
    that ``reuse()`` finds in the finished ``output`` (see :func:`_reusable_blocks`) are
    journaled first, as if an earlier run had extracted them, those of relabelled files
    rewritten (see :meth:`_seed`); the checks above then apply to them too.
    """

    def __init__(
        self,
        output: Path,
        fingerprint: str,
        *,
        settings: str,
        versions: Mapping[str, str],
        tracks: list[Track],
        stamps: dict[int, _Stamp],
        overwrite: bool,
        reuse: Callable[[], _Reusable],
    ) -> None:
        self.partial_path = output.with_name(output.name + ".partial")
        self.journal_path = output.with_name(output.name + ".journal")
        self.inflight_path = output.with_name(output.name + ".inflight")
        self.entries: dict[int, _Entry] = {}
        self.suspects: list[int] = []
        self.notes: list[str] = []
        self._tracks = tracks
        # Blocks of the partial file found damaged while carried over (see _seed): said with
        # those _verify finds, in one note, as they are the same loss.
        self._lost_carried = 0
        self._header = {"fingerprint": fingerprint, "settings": settings, "versions": dict(versions)}
        try:
            seeded, relabelled, same_run = False, set(), self._same_run()
            carried = None if same_run else self._carry_over()
            if overwrite and not same_run and carried is None:
                self.discard()
                blocks, relabelled, notes = reuse()
                self.notes += notes
                if blocks:
                    self._seed(output, blocks, relabel=relabelled)
                    seeded = True
            if self.journal_path.exists():
                self._load()
                # Before the checks below: a file journaled is one whose analysis ended,
                # whatever became of its block since.
                started = _read_started(self.inflight_path, tracks)
                self.suspects = sorted(i for i in started if i in stamps and i not in self.entries)
                self._verify()
                self._forget_changed(stamps)
                if seeded and self.entries:
                    n, m = len(self.entries), len(relabelled & self.entries.keys())
                    renamed = f" ({m} with a new name, label or group)" if m else ""
                    self.notes.append(
                        f"reusing the rows of {n} unchanged {plural(n, 'file', 'files')} from {output}{renamed}; "
                        "extracting only the files that are new, changed or were skipped"
                    )
                if carried is not None and self.entries:
                    self.notes.append(self._carried_note(*carried))
            else:
                self.partial_path.unlink(missing_ok=True)
            self._compact()
            # Rewritten whole: drops the lines of lost blocks and a last line cut short by a
            # kill, which new lines appended after it would otherwise turn into garbage.
            self._write_journal(self.entries)
            end = max((e.offset + e.length for e in self.entries.values()), default=0)
            with open(self.partial_path, "ab") as handle:
                handle.truncate(end)  # drop a block whose journal line never made it to disk
            self._token = self._write_started(self.suspects)
            self._partial = open(self.partial_path, "ab")
            self._journal = open(self.journal_path, "a", encoding="utf-8")
        except OSError as exc:
            raise _cannot_write(Path(exc.filename or self.partial_path), exc) from None

    def _carry_over(self) -> tuple[set[int], int] | None:
        """Journal the blocks of an unfinished run of the same settings and versions, but other tracks, for these.

        A file's rows depend on its sound, the settings and the library versions alone: the
        blocks of the files still listed (told by the id of their path) are journaled under
        this run's fingerprint by :meth:`_seed`, those whose name, label or group changed
        rewritten; those of files no longer listed are dropped. Whether the files changed
        since, and whether the blocks are intact, are checked next, as for any resumed run.

        Returns
        -------
        (relabelled, dropped) or None
            The indices of the tracks whose rows were rewritten, and how many journaled files
            are no longer listed; None where there is no such run: no journal, or one of other
            settings or library versions, or of an older version of genre (which records no
            settings, nor whose each file is).
        """
        try:
            header, lines = self._read()
        except OSError:
            return None
        # Of the same library versions too: rows of two versions must not mix in one table.
        if any(header.get(key) != self._header[key] for key in ("settings", "versions")):
            return None
        journaled = {}  # path id -> (entry, track id as journaled)
        for line in lines:
            try:
                if not (isinstance(line["path"], str) and isinstance(line["id"], str)):
                    raise ValueError(line["path"])
                journaled[line["path"]] = (_entry_of(line), line["id"])
            except (KeyError, TypeError, ValueError):
                break  # as _load reads on
        blocks, relabelled, found = {}, set(), set()
        for index, track in enumerate(self._tracks):
            path_id = _path_id(track)
            if path_id in journaled:
                blocks[index], track_id = journaled[path_id]
                found.add(path_id)
                if track_id != _track_id(track):
                    relabelled.add(index)
        self._seed(self.partial_path, blocks, relabel=relabelled)
        return relabelled, len(journaled.keys() - found)

    def _compact(self) -> None:
        """Rewrite the partial file with only the journaled blocks, when most of its bytes are no longer journaled.

        Blocks dropped by the checks, the old copies of relabelled blocks (:meth:`_seed`) and
        those of files no longer listed stay in the partial file below its last journaled
        block: never in a table (:func:`_assemble` reads journaled blocks alone), but every
        interrupted run could add more. Rewritten when they are over half of it, so the file
        stays under twice its journaled bytes (plus what the run appends).

        The blocks keep their order, so those before the first dead byte keep their offsets.
        The new file is fsynced and renamed into place (see :func:`atomic_open`) before the
        journal names it (in ``__init__``), as :meth:`record` fsyncs a block before journaling
        it: a kill in between leaves the old journal, whose moved blocks fail their CRC and are
        extracted again, never read as another file's. Not done where an entry has no CRC (a
        journal of an older version), which nothing would then tell from another block.
        """
        blocks = sorted({(e.offset, e.length) for e in self.entries.values() if e.length})
        end = max((offset + length for offset, length in blocks), default=0)
        live = sum(length for _, length in blocks)
        if 2 * live >= end or any(e.crc is None for e in self.entries.values()):
            return
        moved = {}
        with open(self.partial_path, "rb") as old, atomic_open(self.partial_path, "wb") as new:
            for offset, length in blocks:
                old.seek(offset)
                data = old.read(length)
                if len(data) == length:  # else cut since _verify, by another process: extracted again
                    moved[offset, length] = new.tell()
                    new.write(data)
        # An empty block (a skipped file) has no bytes to keep: offset 0 is inside any file.
        self.entries = {
            i: e._replace(offset=moved[e.offset, e.length] if e.length else 0)
            for i, e in self.entries.items()
            if not e.length or (e.offset, e.length) in moved
        }

    def _carried_note(self, relabelled: set[int], dropped: int) -> str:
        """What :meth:`_carry_over` kept of the unfinished run, once the checks dropped what they had to."""
        n, m = len(self.entries), len(relabelled & self.entries.keys())
        renamed = f" ({m} with a new name, label or group)" if m else ""
        gone = f", dropping those of {dropped} {plural(dropped, 'file', 'files')} no longer listed" if dropped else ""
        return (
            f"{self.journal_path}: resuming an unfinished extraction of the same settings but other files, "
            f"labels or groups: keeping its results for {n} {plural(n, 'file', 'files')} whose audio is "
            f"unchanged{renamed}{gone}; extracting only the files that are new or changed"
        )

    def _seed(self, source: Path, blocks: dict[int, _Entry], *, relabel: Collection[int] = ()) -> None:
        """Journal ``blocks`` of ``source`` as an unfinished run of this run's tracks.

        ``source`` is a finished table, whose blocks are copied into a new partial file, or
        the partial file itself (an unfinished run carried over), whose blocks stay where
        they are. The blocks of ``relabel`` hold another name, label or group than their
        track's: they are rewritten (:func:`_relabel_rows`) and appended. Each block copied
        or rewritten is checked against its CRC first, and the partial file is fsynced before
        the journal names it, as in :meth:`record`; the journal is written last, atomically,
        so a kill leaves the journal there before (the next run seeds again) or a whole one
        (it resumes). A block whose bytes no longer match its CRC, or whose cells cannot be
        rewritten (see :func:`_relabel_rows`), is left out, and its file extracted again. A
        table's block was edited; the partial file's was lost as :meth:`_verify` says (cut
        short, torn, removed), and is counted in its note.
        """
        in_place = source == self.partial_path
        entries, damaged, unsplit = {}, 0, 0
        # The partial file first: carried over, it is created if it was lost, and read as it is.
        with open(self.partial_path, "ab" if in_place else "wb") as partial, open(source, "rb") as rows:
            for index, entry in sorted(blocks.items()):  # dataset order, as a fresh run's assembly reads them
                if in_place and index not in relabel:
                    entries[index] = entry  # checked as the run resumes (_verify), with the rest
                    continue
                rows.seek(entry.offset)
                data = rows.read(entry.length)
                if len(data) != entry.length or zlib.crc32(data) != entry.crc:
                    damaged += 1
                    continue
                if index in relabel:
                    data = _relabel_rows(data, self._tracks[index])
                    if data is None:
                        unsplit += 1
                        continue
                entries[index] = entry._replace(offset=partial.tell(), length=len(data), crc=zlib.crc32(data))
                partial.write(data)
            partial.flush()
            os.fsync(partial.fileno())
        self._write_journal(entries)
        if damaged and in_place:
            # Not edited by hand: the run's own file, cut short, torn or removed (said by _verify).
            self._lost_carried += damaged
        elif damaged:
            self.notes.append(
                f"{source}: the rows of {damaged} {plural(damaged, 'file were', 'files were')} changed after it "
                f"was written (edited by hand?); extracting {plural(damaged, 'it', 'them')} again"
            )
        if unsplit:
            self.notes.append(
                f"{source}: the rows of {unsplit} relabelled {plural(unsplit, 'file', 'files')} could not be given "
                "their new name, label or group (a path, name, label or group with a carriage return?); "
                f"extracting {plural(unsplit, 'it', 'them')} again"
            )

    def _write_journal(self, entries: dict[int, _Entry]) -> None:
        """Replace the journal, atomically, with this run's header and ``entries``."""
        lines = [self._header] + [self._line(i, e) for i, e in entries.items()]
        atomic_write_text(self.journal_path, "".join(json.dumps(line) + "\n" for line in lines))

    def _write_started(self, indices: list[int]) -> str:
        """Replace ``<output>.inflight`` with ``indices`` under a new token; return the token.

        Atomic: a kill leaves the previous notes or these, never a mix.
        """
        token = os.urandom(4).hex()
        notes = "".join(_started_line(token, i, self._tracks[i]) for i in indices)
        atomic_write_text(self.inflight_path, token + "\n" + notes)
        return token

    def note_started(self, func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """``func`` for the executor, noting each task's file in ``<output>.inflight`` as it starts."""
        return _NoteStarted(func, str(self.inflight_path), self._token)

    def _line(self, index: int, entry: _Entry) -> dict[str, Any]:
        """The journal line of ``entry``, the block of this run's track ``index``."""
        # The ids tell a run carried over whose block this is (see _carry_over).
        track = self._tracks[index]
        line = {"i": index, "path": _path_id(track), "id": _track_id(track)}
        line |= {"offset": entry.offset, "length": entry.length, "rows": entry.rows, "reason": entry.reason}
        if entry.crc is not None:
            line["crc"] = entry.crc
        if entry.stamp is not None:
            line["size"], line["mtime_ns"] = entry.stamp
        if entry.silent:
            line["silent"] = entry.silent
        if entry.native_sr is not None:
            line["native_sr"] = entry.native_sr
        return line

    def _same_run(self) -> bool:
        """Whether the unfinished run here is of these very files, settings and library versions.

        ``--overwrite`` resumes such a run rather than discarding it: its finished files
        would come out the same, and a run whose final write failed (disk full) must be
        able to finish with the command that started it.
        """
        try:
            with open(self.journal_path, encoding="utf-8", errors="replace") as handle:
                header = json.loads(handle.readline())
        except (OSError, ValueError, RecursionError):  # see _read
            return False
        if not isinstance(header, dict):
            return False
        return header.get("fingerprint") == self._header["fingerprint"] and not self._other_versions(header)

    def _other_versions(self, header: dict) -> str:
        """The packages of other versions than this run's in the journal ``header``; ``""`` if none.

        A header of an older version of genre records none: ``""``, it is judged by its
        fingerprint alone, as that version did.
        """
        if "versions" not in header:
            return ""
        return _versions_differ(header["versions"], self._header["versions"])

    def _read(self) -> tuple[dict, list[dict]]:
        """The journal's header and its lines, up to the first that cannot be read (cut short by a kill).

        Raises
        ------
        OSError
            The journal cannot be read (there is none).
        """
        with open(self.journal_path, encoding="utf-8", errors="replace") as handle:
            header, *lines = handle.read().split("\n")
        # ValueError, not only JSONDecodeError: a number of over 4300 digits is refused by int().
        # RecursionError: brackets nested thousands deep.
        try:
            header = json.loads(header)
        except (ValueError, RecursionError):
            header = {}
        read = []
        for line in lines[:-1]:  # the last piece is "" or a line cut short by a kill
            try:
                read.append(json.loads(line))
            except (ValueError, RecursionError):
                break
        return header if isinstance(header, dict) else {}, read

    def _load(self) -> None:
        header, lines = self._read()
        differ = self._other_versions(header)
        if differ:  # of these files and settings, or of others: its rows are not this version's
            raise StaleJournalError(
                f"{self.journal_path}: an unfinished extraction computed with other versions of {differ} "
                "is there; rerun it with those versions, or pass --overwrite to start again"
            )
        if header.get("fingerprint") != self._header["fingerprint"]:
            # Carried over otherwise (see _carry_over): of other settings, or of an older version.
            what = "other settings" if "settings" in header else "other files or settings"
            raise StaleJournalError(
                f"{self.journal_path}: an unfinished extraction with {what} is there; "
                "rerun it with its original options, or pass --overwrite to start again"
            )
        for line in lines:
            try:
                index = line["i"]
                if not (_is_int(index) and index < len(self._tracks)):  # the line of a damaged journal
                    raise ValueError(index)
                self.entries[index] = _entry_of(line)
            except (KeyError, TypeError, ValueError):
                break

    def _verify(self) -> None:
        """Drop the entries whose block the partial file does not hold intact."""
        lost = []
        try:
            handle = open(self.partial_path, "rb")
        except FileNotFoundError:
            handle = io.BytesIO()
        with handle:
            size = handle.seek(0, io.SEEK_END)
            for index, entry in list(self.entries.items()):
                intact = entry.offset + entry.length <= size
                if intact and entry.crc is not None:
                    handle.seek(entry.offset)
                    intact = zlib.crc32(handle.read(entry.length)) == entry.crc
                if not intact:
                    lost.append(index)
                    del self.entries[index]
        n = len(lost) + self._lost_carried
        if n:
            self.notes.append(
                f"{self.partial_path}: the rows of {n} finished {plural(n, 'file', 'files')} "
                "were missing or damaged (the file was cut short, changed or removed); extracting "
                f"{plural(n, 'it', 'them')} again"
            )

    def _forget_changed(self, stamps: dict[int, _Stamp]) -> None:
        """Drop the entries of audio files whose size or modification time is no longer the journaled one.

        Entries journaled without them (by an older version) are dropped too: whether their
        file changed cannot be told, and old rows must not pass for the file's current sound.
        """
        changed = [i for i, e in self.entries.items() if e.stamp is not None and e.stamp != stamps.get(i)]
        unknown = [i for i, e in self.entries.items() if e.stamp is None]
        for index in changed + unknown:
            del self.entries[index]
        if changed:
            n = len(changed)
            self.notes.append(
                f"{n} audio {plural(n, 'file', 'files')} changed (size or modification time) since "
                f"{plural(n, 'it was', 'they were')} extracted; extracting {plural(n, 'it', 'them')} again"
            )
        if unknown:
            n = len(unknown)
            self.notes.append(
                f"{self.journal_path}: {n} finished {plural(n, 'file was', 'files were')} recorded by an older "
                "version of genre, which did not note whether a file changed; "
                f"extracting {plural(n, 'it', 'them')} again"
            )

    def record(self, block: _Block, *, stamp: _Stamp) -> None:
        data = block.text.encode("utf-8")
        offset = self._partial.tell()
        try:
            if data:
                self._partial.write(data)
                self._partial.flush()
                os.fsync(self._partial.fileno())
        except OSError as exc:
            raise _cannot_write(self.partial_path, exc) from None
        entry = _Entry(
            offset,
            len(data),
            block.n_rows,
            block.reason,
            zlib.crc32(data),
            stamp,
            silent=block.silent,
            native_sr=block.native_sr,
        )
        try:
            self._journal.write(json.dumps(self._line(block.index, entry)) + "\n")
            self._journal.flush()
            os.fsync(self._journal.fileno())
        except OSError as exc:
            raise _cannot_write(self.journal_path, exc) from None
        self.entries[block.index] = entry

    def close(self) -> None:
        """End of the run in Python (done, Ctrl-C, an error): only the earlier run's suspects stay noted.

        The files of this run that were being analysed did not kill the process, since this
        runs; suspects of the earlier run not tried yet (Ctrl-C first) are still suspects.
        """
        # After a failed write, closing retries the unwritten buffer and fails again; what was
        # fsynced is safe, and the error that matters has already been raised.
        for handle in (self._partial, self._journal):
            try:
                handle.close()
            except OSError:
                pass
        left = [i for i in self.suspects if i not in self.entries]
        try:
            if left:
                # A new token: a worker still finishing after this cannot note files under it.
                self._write_started(left)
            else:
                self.inflight_path.unlink(missing_ok=True)
        except (OSError, OutputError):  # a full disk: extra suspects cost a process start each, no more
            pass

    def discard(self) -> None:
        self.partial_path.unlink(missing_ok=True)
        self.journal_path.unlink(missing_ok=True)
        self.inflight_path.unlink(missing_ok=True)


# -- the run ---------------------------------------------------------------------------------
def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import genre

    found = {"genre": genre.__version__, "python": platform.python_version()}
    for package in ("librosa", "numpy", "scipy", "soundfile", "soxr"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found


def side_paths(output: str | os.PathLike) -> tuple[Path, Path]:
    """Paths of the JSON sidecar and the skipped-files CSV that accompany ``output``."""
    output = Path(output)
    return output.with_suffix(".json"), output.with_suffix(".skipped.csv")


#: Sidecar keys of what a table records about some of its files besides their rows, as
#: ``{path: number}`` (paths as the table's ``path`` column writes them): the silent segments
#: left out of each file that had any, and the own sample rate (Hz) of each file recorded
#: below the analysis rate (upsampled: its spectrum above half that rate is empty).
SILENT_KEY = "files_with_silent_segments"
BELOW_RATE_KEY = "files_below_analysis_rate"
#: The sidecar key of the folders the listing left out (without audio, unlistable, a link
#: loop), printable paths as the skipped-files list writes them, sorted; only when there are
#: any. They are among ``n_skipped`` and its list's lines, but are not files: a reader counts
#: them apart. Older sidecars lack it (their folders were counted as files).
FOLDERS_KEY = "folders_left_out"

#: Files named one by one in the end-of-run note of files below the analysis rate; the
#: others are counted, and listed in the sidecar.
NAMED_IN_NOTE = 3

#: The sidecar key of a table's stamps, and the fields of each of its lines: one line per
#: extracted track, in table order, the fields separated by spaces (a line per track keeps a
#: sidecar of 100,000 tracks readable and near 9 MB). What :func:`_reusable_blocks` reads.
#: ``track_id`` is :func:`_track_id` (path, name, label and group), ``path_id`` :func:`_path_id`
#: (the audio file alone): an update finds the block of a relabelled file by the latter.
STAMPS_KEY = "stamps"
STAMP_FIELDS = "track_id size mtime_ns rows length crc32 path_id"
#: The fields of the stamps that older versions of genre wrote: without ``path_id``, a block
#: is found by its track id alone (a relabelled file is extracted again).
_STAMP_FIELDS_WITHOUT_PATH = "track_id size mtime_ns rows length crc32"

#: The sidecar key of the stamps of the tracks the table skipped (too short, unreadable, ...),
#: in the form of :data:`STAMPS_KEY`'s (no rows: ``rows length crc32`` are ``0 0 0``): the
#: audio file as the run found it, so that :func:`table_is_current` tells a skipped file
#: replaced since, even by one with an older time (a restored backup, ``cp -p``). Sidecars of
#: older versions lack it: their skipped files are judged by time alone.
SKIPPED_STAMPS_KEY = "skipped_stamps"


def _stamps(tracks: list[Track], entries: list[_Entry], crcs: list[int]) -> dict[str, Any]:
    """The sidecar's ``stamps`` of a table assembled from ``entries``; ``crcs`` are its blocks', in order."""
    extracted = [(t, e) for t, e in zip(tracks, entries) if not e.reason]
    lines = []
    for (track, entry), crc in zip(extracted, crcs):
        size, mtime_ns = entry.stamp or (-1, -1)  # always known: unstamped entries are extracted again
        lines.append(f"{_track_id(track)} {size} {mtime_ns} {entry.rows} {entry.length} {crc} {_path_id(track)}")
    return {"fields": STAMP_FIELDS, "tracks": lines}


def _skipped_stamps(tracks: list[Track], entries: list[_Entry]) -> dict[str, Any]:
    """The sidecar's :data:`SKIPPED_STAMPS_KEY`: each skipped track's id and stamp, in dataset order."""
    lines = []
    for track, entry in zip(tracks, entries):
        if entry.reason:
            size, mtime_ns = entry.stamp or (-1, -1)  # always known: unstamped entries are extracted again
            lines.append(f"{_track_id(track)} {size} {mtime_ns} 0 0 0 {_path_id(track)}")
    return {"fields": STAMP_FIELDS, "tracks": lines}


#: What :func:`_recorded_stamps` raises for a sidecar without readable ``stamps``.
_UNREADABLE_STAMPS = (KeyError, TypeError, ValueError, AttributeError)


class _Recorded(NamedTuple):
    """A line of a table's stamps (see :data:`STAMP_FIELDS`)."""

    track_id: str
    stamp: _Stamp
    rows: int
    length: int
    crc: int
    path_id: str | None  # None: written by an older version of genre, which did not record it


def _recorded_stamps(meta: dict, key: str = STAMPS_KEY) -> list[_Recorded]:
    """The sidecar ``meta``'s ``stamps``, in table order.

    The one reader of :data:`STAMPS_KEY` (:func:`_reusable_blocks`, :func:`table_is_current`),
    and of :data:`SKIPPED_STAMPS_KEY` (``key``), which has the same form. Reads this
    version's :data:`STAMP_FIELDS` and the older form without ``path_id``.

    Raises
    ------
    KeyError, TypeError, ValueError, AttributeError
        (:data:`_UNREADABLE_STAMPS`) The sidecar records no stamps (an older version of genre
        wrote it), or they are in neither form.
    """
    stamps = meta[key]
    with_path = {STAMP_FIELDS: True, _STAMP_FIELDS_WITHOUT_PATH: False}[stamps["fields"]]  # KeyError: another form
    recorded = []
    for line in stamps["tracks"]:
        track_id, *numbers = line.split()
        path_id = None
        if with_path:
            *numbers, path_id = numbers
        size, mtime_ns, rows, length, crc = map(int, numbers)  # ValueError: fields missing or too many
        recorded.append(_Recorded(track_id, (size, mtime_ns), rows, length, crc, path_id))
    return recorded


class _Reusable(NamedTuple):
    """What :func:`_reusable_blocks` finds in a finished table."""

    #: By index into the tracks; offsets are into the table.
    blocks: dict[int, _Entry]
    #: The tracks whose block holds another name, label or group than theirs (to rewrite).
    relabel: set[int]
    #: Why a table of the same settings offers nothing, if it does not.
    notes: list[str]


def _reusable_blocks(
    output: Path, tracks: list[Track], description: dict, *, versions: Mapping[str, str]
) -> _Reusable:
    """The blocks of rows of the finished table ``output`` that an update may reuse for ``tracks``.

    Only a table of genre's whose sidecar shows the same extractor ``description`` and
    library ``versions``, and records its ``stamps``, offers any: a block for each track of
    the same audio file, with the file's stamp as it was extracted. A block is found by its
    track's id (path, name, label and group), else by its file's path alone (a file
    relabelled since: its rows depend on its sound and the settings alone, and its name,
    label and group cells are rewritten, see :meth:`_Journal._seed`); in a sidecar of an
    older version, which records no path ids, by the track id alone. Whether the file
    changed since and whether the block is intact are for the journal to check
    (:meth:`_Journal._forget_changed`, :meth:`_Journal._seed`).

    Returns
    -------
    _Reusable
        The blocks, those among them to relabel, and the notes.
    """
    nothing = _Reusable({}, set(), [])
    sidecar, _ = side_paths(output)
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no table, or a table without its sidecar: replaced as it is
        return nothing
    if not isinstance(meta, dict) or meta.get("format") != TABLE_FORMAT:
        return nothing
    settings = json.loads(json.dumps(description))  # as the sidecar holds them (tuples as lists)
    if any(meta.get(key) != value for key, value in settings.items()):
        return nothing  # other settings, as the user asked: every file is extracted again, as ever
    try:
        with open(output, "rb") as handle:
            offset = len(handle.readline())  # the blocks follow the header, in table order
    except OSError:
        return nothing
    by_track, by_path = {}, {}  # track id -> entry; path id -> entry
    try:
        for recorded in _recorded_stamps(meta):
            if recorded.stamp[0] >= 0:  # a file that could not be seen then tells nothing of a change since
                entry = _Entry(offset, recorded.length, recorded.rows, "", recorded.crc, recorded.stamp)
                by_track[recorded.track_id] = entry
                if recorded.path_id is not None:
                    by_path[recorded.path_id] = entry
            offset += recorded.length
    except _UNREADABLE_STAMPS:
        return nothing._replace(notes=[
            f"{output}: its sidecar does not record which audio files its rows came from (an older "
            "version of genre wrote it); extracting every file again"
        ])  # fmt: skip
    differ = _versions_differ(meta.get("versions"), versions)
    if differ:
        return nothing._replace(notes=[
            f"{output}: its rows were computed with other versions of {differ}; extracting every file "
            "again, so that no table mixes rows of two versions"
        ])  # fmt: skip
    # What the table recorded of each file besides its rows (older sidecars: nothing, so
    # nothing known; only files with something to say are recorded). By path: the file's.
    silent, below = recorded_file_facts(meta)
    blocks, relabel = {}, set()
    for i, track in enumerate(tracks):
        entry = by_track.get(_track_id(track))
        if entry is None:  # relabelled since, or another file
            entry = by_path.get(_path_id(track))
            if entry is not None:
                relabel.add(i)
        if entry is not None:
            shown = printable(track.path)
            n_silent, rate = silent.get(shown), below.get(shown)
            blocks[i] = entry._replace(
                silent=n_silent if isinstance(n_silent, int) else 0,
                native_sr=rate if isinstance(rate, int) else None,
            )
    return _Reusable(blocks, relabel, [])


def _versions_differ(recorded: Any, versions: Mapping[str, str]) -> str:
    """The packages whose version in ``recorded`` (as a sidecar or journal holds them) is not in ``versions``.

    Returns
    -------
    str
        Their names, sorted and joined by commas; ``""`` where all agree.
    """
    recorded = recorded if isinstance(recorded, dict) else {}
    return ", ".join(sorted(k for k in recorded.keys() | versions.keys() if recorded.get(k) != versions.get(k)))


def table_is_current(output: str | os.PathLike, *, dataset: Dataset, extractor: Extractor) -> bool:
    """Whether ``output`` is a finished table of exactly these tracks and sounds, extracted by ``extractor``.

    Compares the sidecar's fingerprint (tracks, labels, groups and extractor settings) and
    each track's audio file against its ``stamps``: the size and modification time it had
    when its rows were extracted, as an update (``--overwrite``) compares them. A file
    added, removed or renamed changes the fingerprint; a file whose size or time differs
    from its stamp, earlier or later (a copy that keeps times, ``cp -p``, a restored
    backup), makes the table out of date. So does a track the table skipped whose file's
    size or time differs from its stamp in :data:`SKIPPED_STAMPS_KEY` (a damaged file
    restored from a backup, say): an update tries it again. A sidecar of an older version
    records no stamps of skipped files: such a file makes the table out of date if its
    file changed after the table was written. Only file metadata is read, so it is quick;
    a table without fingerprint or stamps (an older version of genre wrote it) is not current.
    Nor is one whose skipped-files list differs from what this listing skips (a byte-identical
    copy, a broken link or an empty label folder added or removed since: the listing's
    rejected files change the fingerprint of no track), or whose sidecar's :data:`FOLDERS_KEY`
    differs from the folders the listing leaves out, so that an update, which reuses every
    row, writes the list and the sidecar of this listing.
    """
    output = Path(output)
    sidecar, skipped_path = side_paths(output)
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        written = output.stat().st_mtime_ns
    except (OSError, ValueError):
        return False
    if not isinstance(meta, dict) or meta.get("fingerprint") != _fingerprint(dataset.tracks, extractor.describe()):
        return False
    try:
        # As _reusable_blocks reads them: a file that could not be seen then is no reference.
        recorded = {track_id: stamp for track_id, stamp, *_ in _recorded_stamps(meta) if stamp[0] >= 0}
    except _UNREADABLE_STAMPS:
        return False
    try:  # the skipped files' (older sidecars: none, judged by time below)
        # Kept when (-1, -1): a file missing then and now is unchanged; one that appears is not.
        skipped = {track_id: stamp for track_id, stamp, *_ in _recorded_stamps(meta, SKIPPED_STAMPS_KEY)}
    except _UNREADABLE_STAMPS:
        skipped = {}
    for track in dataset.tracks:
        track_id = _track_id(track)
        stamp = recorded.get(track_id, skipped.get(track_id))
        if stamp is not None:
            if file_stamp(track.path) != stamp:  # as _Journal._forget_changed compares them
                return False
            continue
        try:  # skipped when the table was written, and not stamped: changed since?
            if os.stat(track.path).st_mtime_ns > written:
                return False
        except (OSError, ValueError):
            return False
    # The folders among the listing's rejected ones, as the sidecar records them (older sidecars: none).
    folders = sorted(dataset.rejected_folders())
    if meta.get(FOLDERS_KEY, []) != folders:
        return False
    return _skipped_list_agrees(skipped_path, dataset, with_rows={track_id for track_id, *_ in _recorded_stamps(meta)})


def _skipped_list_agrees(skipped_path: Path, dataset: Dataset, *, with_rows: Collection[str]) -> bool:
    """Whether the skipped-files list ``skipped_path`` is the one an extraction of ``dataset`` would write now.

    It must hold the listing's rejected files and folders, each with its reason, and a line
    for each track without rows (``with_rows``: the track ids the table has rows of), as
    :func:`_run` writes them; the tracks' reasons are not compared (an extraction found them).
    An absent list is an empty one (nothing skipped); an unreadable one agrees with nothing.
    """
    if os.path.lexists(skipped_path):
        rows = read_skipped_csv(skipped_path)
        if rows is None:
            return False
    else:
        rows = []
    left = Counter(rows)
    for path, reason in dataset.rejected:
        row = (printable(path), printable(reason))
        if not left[row]:
            return False  # rejected now, not when the list was written (a copy, a link added since)
        left[row] -= 1
    listed = Counter(path for (path, _), n in left.items() for _ in range(n))
    skipped = Counter(printable(t.path) for t in dataset.tracks if _track_id(t) not in with_rows)
    return listed == skipped  # else a file rejected then and gone or listed since, or a hand-edited list


def choose_extractor(
    *,
    sr: int | None = None,
    segment_seconds: float | None = None,
    embeddings: str | None = None,
    config: FeatureConfig | None = None,
    extractor: Extractor | None = None,
) -> Extractor:
    """The extractor that :func:`extract_to_csv`'s settings ask for.

    Handcrafted features by default, from ``config`` with ``sr`` and ``segment_seconds``
    put in place of its own; the ``embeddings`` model's extractor; or ``extractor`` itself.

    Raises
    ------
    ParameterError
        Settings of two kinds of extractor are mixed (``embeddings`` with ``sr``, for one:
        the embedding models fix their own rate and patch length), or a value is invalid.
    """
    handcrafted = {
        name: value
        for name, value in (("sr", sr), ("segment_seconds", segment_seconds), ("config", config))
        if value is not None
    }
    if extractor is not None and (embeddings is not None or handcrafted):
        given = ", ".join(["embeddings"] * (embeddings is not None) + list(handcrafted))
        raise ParameterError(f"an extractor was given, and also {given}: give the extractor alone")
    if extractor is not None:
        return extractor
    if embeddings is not None:
        if handcrafted:
            options = ", ".join("--" + name.replace("_", "-") for name in handcrafted)
            raise ParameterError(
                f"--embeddings {embeddings} uses its model's own sample rate and ~3 s patches: "
                f"leave out {options} (handcrafted features only)"
            )
        from genre.features.embeddings import MusicnnExtractor

        return MusicnnExtractor(name=embeddings)
    overrides = {name: value for name, value in (("sr", sr), ("segment_seconds", segment_seconds)) if value is not None}
    return HandcraftedExtractor(dataclasses.replace(config or FeatureConfig(), **overrides))


def extract_to_csv(
    source: str | os.PathLike | Dataset | None,
    output: str | os.PathLike,
    *,
    sr: int | None = None,
    segment_seconds: float | None = None,
    embeddings: str | None = None,
    config: FeatureConfig | None = None,
    extractor: Extractor | None = None,
    jobs: int = -1,
    executor: Executor | None = None,
    progress: bool = False,
    overwrite: bool = False,
) -> ExtractReport:
    """Extract features of every track of ``source`` into the CSV ``output``.

    The Python form of ``genre extract``: ``sr``, ``segment_seconds`` and ``embeddings`` are
    its ``--sr``, ``--segment-seconds`` and ``--embeddings``.

    Parameters
    ----------
    source : path-like, Dataset, "synthetic" or None
        What :func:`genre.data.load_dataset` accepts, or a :class:`Dataset`.
    output : path-like
        The CSV to write. Its sidecar ``.json`` and ``.skipped.csv`` go beside it.
    sr : int, optional
        Analysis sample rate of the handcrafted features in Hz (default 22050, or ``config``'s).
    segment_seconds : float, optional
        Segment length in s of the handcrafted features; ``0``: one row per track
        (default 3.0, or ``config``'s).
    embeddings : str, optional
        Write pretrained-CNN embeddings instead of handcrafted features: a key of
        :data:`genre.features.embeddings.EMBEDDING_MODELS` (``"musicnn"``...).
    config : FeatureConfig, optional
        All handcrafted-feature parameters; ``sr`` and ``segment_seconds`` override its own.
    extractor : Extractor, optional
        Any other extractor; give it instead of ``embeddings`` and the handcrafted settings.
    jobs : int
        Local worker processes (-1 = all cores); ignored when ``executor`` is given. No more
        processes start than there are files to extract or cores.
    executor : Executor, optional
        Where to run the work (e.g. a Dask cluster). One that starts processes here (a
        local Dask cluster) is kept to the number of files and cores like ``jobs``.
    progress : bool
        Show a progress bar with ETA on stderr, and the report's ``notes``.
    overwrite : bool
        Replace an existing output, and discard an unfinished run of other settings or
        library versions (an unfinished run of the same settings and versions is resumed,
        with or without ``overwrite``: its rows would come out the same; if files were
        added or removed, or names, labels or groups changed since, the rows of its files
        whose audio is unchanged are kept, relabelled as needed). A finished table of the
        same settings and library versions is updated: the rows of its files that are
        unchanged (path, size and modification time) are reused, relabelled as needed
        where their name, label or group changed, and only new, changed and skipped files
        are extracted; the result is the table a fresh run would write. An existing
        output is kept all the same when not a single file could be extracted.

    Returns
    -------
    ExtractReport

    Raises
    ------
    DataError, ParameterError
        The source is unusable, or ``output`` exists and ``overwrite`` is false.
    StaleJournalError
        An unfinished run of other settings or library versions (or, its journal written by
        an older version of genre, of other files) is there, and ``overwrite`` is false.
    OutputError
        ``output`` cannot be written (its folder cannot be made or written, the disk is full),
        or another run is writing it.
    """
    started = time.perf_counter()
    # The name as given, before the .csv check: Path("") is "." and would be refused as "not .csv".
    output = output_path(output, what="the output file name", kind="file")
    if output.suffix.lower() != ".csv":
        raise ParameterError(f"{output}: the output must be a .csv file")
    if executor is None:
        resolve_jobs(jobs)  # a bad --jobs is refused before any work
    extractor = choose_extractor(
        sr=sr, segment_seconds=segment_seconds, embeddings=embeddings, config=config, extractor=extractor
    )
    dataset = source if isinstance(source, Dataset) else load_dataset(source)
    # Before the work, not after it: a folder that cannot be written, or a manifest given as
    # the output, fails now.
    check_output_file(output, inputs=dataset.listings)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)  # the lock and run files live beside the output
    except OSError as exc:
        raise _cannot_write(output.parent, exc) from None
    with OutputLock(output):
        # Checked under the lock: a run that just finished may have written it.
        if output.exists() and not overwrite:
            raise ParameterError(f"{output} exists; pass --overwrite to replace it")
        report = _run(
            dataset, output, extractor=extractor, jobs=jobs, executor=executor, progress=progress, overwrite=overwrite
        )
    report.seconds = time.perf_counter() - started
    return report


def _run(
    dataset: Dataset,
    output: Path,
    *,
    extractor: Extractor,
    jobs: int,
    executor: Executor | None,
    progress: bool,
    overwrite: bool,
) -> ExtractReport:
    """The body of :func:`extract_to_csv`, run while holding the output's lock."""
    sidecar_path, skipped_path = side_paths(output)
    description = extractor.describe()
    fingerprint = _fingerprint(dataset.tracks, description)
    # Taken before any file is read: a file that changes while or after it is extracted then
    # differs from its journaled stamp, and a resumed run extracts it again.
    stamps = {i: file_stamp(t.path) for i, t in enumerate(dataset.tracks)}
    # One reading for the run: what it resumes or reuses is checked against what its sidecar says.
    versions = _versions()
    journal = _Journal(
        output,
        fingerprint,
        settings=_settings_id(description),
        versions=versions,
        tracks=dataset.tracks,
        stamps=stamps,
        overwrite=overwrite,
        reuse=lambda: _reusable_blocks(output, dataset.tracks, description, versions=versions),
    )
    notes = [*dataset.notes, *journal.notes]  # ignored non-audio files first
    # Only files with rows: one journaled as skipped is counted with the skipped files, so that
    # "N extracted (R from an earlier run)" and "S skipped" never count a file twice.
    n_resumed = sum(1 for entry in journal.entries.values() if not entry.reason)
    n_journaled = len(journal.entries)
    suspects = set(journal.suspects)
    alone = [(i, dataset.tracks[i], extractor) for i in journal.suspects]
    todo = [(i, t, extractor) for i, t in enumerate(dataset.tracks) if i not in journal.entries and i not in suspects]
    executor = executor if executor is not None else LocalExecutor(jobs=jobs)
    if todo:  # nothing left (every file journaled): no executor is sized, nor noted about, for nothing
        prepare_executor(executor, n_items=len(todo), notes=notes)
    if alone:
        n = len(alone)
        notes.append(
            f"{n} {plural(n, 'file was', 'files were')} being extracted when an earlier run died (killed, or "
            f"crashed by {plural(n, 'it', 'one of them')}?); trying {plural(n, 'it', 'each')} alone in a "
            "process of its own first"
        )
    # A Dask worker runs elsewhere and dies without taking this process along: nothing to note.
    work = journal.note_started(_extract_block) if isinstance(executor, LocalExecutor) else _extract_block
    listed = len(dataset.notes)
    if progress:
        # The listing's notes (files left out, ignored) are said at the end, however the run
        # ends, where no progress bar scrolls them away.
        tell(notes[listed:])
    # What the executor decides while it runs (e.g. working in this process when no worker
    # process can start) is noted after these, and said at the end as well.
    said = len(notes)
    try:
        with progress_bar(enabled=progress) as bar:
            # Asked again as the bar is drawn: it follows the executor (this process, once no
            # worker process can start).
            task = bar.add_task(
                lambda: "extracting ({})".format(
                    executor.description if todo else "in a separate process" if alone else "all from an earlier run"
                ),
                total=len(dataset.tracks),
                completed=n_journaled,
            )
            not_tried: list[TaskFailure] = []

            def suspects_first() -> Iterator[Any]:
                """Suspects each in a child process: one that dies again costs the file, not the run.

                Where no worker process can start, a suspect is not tried (in this process it
                could crash the run again) nor blamed; its skip is journaled last, so a run cut
                short before then leaves it a suspect, tried by the next run.
                """
                for result in map_alone(_extract_block, alone, reason=DIED_AGAIN, not_tried=NOT_RETRIED):
                    if isinstance(result, NotTried):
                        not_tried.append(result)
                    else:
                        yield result
                if not_tried:
                    n = len(not_tried)
                    notes.append(
                        f"no worker process can start here ({not_tried[0].why}), so the {n} "
                        f"{plural(n, 'file', 'files')} an earlier run died on {plural(n, 'was', 'were')} not tried "
                        f"again (in this process {plural(n, 'it', 'one')} could crash the run again): skipped, "
                        "not blamed; a run where worker processes can start tries "
                        f"{plural(n, 'it', 'them')} (--overwrite updates the table)"
                    )

            results = chain(suspects_first(), executor.map_unordered(work, todo), not_tried)  # journaled last
            for block in results:
                if isinstance(block, TaskFailure):  # e.g. a file that crashed every worker it ran on
                    block = _Block(block.item[0], "", 0, block.reason)
                journal.record(block, stamp=stamps[block.index])
                bar.advance(task)
    except BaseException:
        if progress:
            tell([*notes[said:], *dataset.notes])
        raise
    finally:
        journal.close()
    during = notes[said:]

    tracks = dataset.tracks
    entries = [journal.entries[i] for i in range(len(tracks))]
    # A manifest's track is skipped with its line ("line 3 of m.csv: no such file"), as its rejected rows are.
    skipped = list(dataset.rejected) + [
        (t.path, dataset.located(t, e.reason)) for t, e in zip(tracks, entries) if e.reason
    ]
    # Readers reject folders and files alike; only files count as files.
    folders = dataset.rejected_folders()
    # Written as UTF-8 text, as the rows are (see _format_rows).
    skipped = [(printable(path), printable(reason)) for path, reason in skipped]
    n_extracted = sum(1 for e in entries if not e.reason)
    report = ExtractReport(
        output=output,
        sidecar_path=sidecar_path,
        skipped_path=skipped_path,
        n_tracks=len(tracks) + len(dataset.rejected) - len(folders),
        folders_left_out=folders,
        n_extracted=n_extracted,
        n_resumed=n_resumed,
        n_rows=sum(e.rows for e in entries if not e.reason),
        skipped=skipped,
        notes=notes,
    )
    if n_extracted == 0 and output.exists():
        # A run that produced nothing (every file too short, say) must not cost a good table.
        journal.discard()
        report.written = False
        report.notes.append(f"not a single file was extracted, so {output} and its sidecar were kept as they were")
        if progress:
            tell([*during, *dataset.notes, *report.notes[-1:]])
        return report
    settings = description.get("config") if isinstance(description.get("config"), dict) else {}
    report.silent_segments = {printable(t.path): e.silent for t, e in zip(tracks, entries) if not e.reason and e.silent}
    analysis_sr = settings.get("sr")
    if isinstance(analysis_sr, int):
        report.below_analysis_rate = {
            printable(t.path): e.native_sr
            for t, e in zip(tracks, entries)
            if not e.reason and e.native_sr is not None and e.native_sr < analysis_sr
        }
    end_notes = file_notes(
        report.silent_segments, report.below_analysis_rate, analysis_sr=analysis_sr,
        silence_rms=settings.get("silence_rms"), recorded_in=sidecar_path,
    )  # fmt: skip
    sidecar = {
        "format": TABLE_FORMAT,
        **description,
        "id_columns": list(ID_COLUMNS),
        "feature_columns": extractor.feature_columns(),
        "labels": sorted({printable(t.label) for t, e in zip(tracks, entries) if not e.reason and t.label}),
        "n_tracks": n_extracted,
        "n_rows": report.n_rows,
        "n_skipped": len(skipped),
        "source": dataset.name,
        # Not in the fingerprint: the same files extracted from elsewhere are the same table.
        EXTRACTION_FOLDER_KEY: os.getcwd(),
        "fingerprint": fingerprint,
        "versions": versions,
    }
    if report.silent_segments:
        sidecar[SILENT_KEY] = report.silent_segments
    if report.below_analysis_rate:
        sidecar[BELOW_RATE_KEY] = report.below_analysis_rate
    if folders:
        sidecar[FOLDERS_KEY] = sorted(folders)
    header = list(ID_COLUMNS) + extractor.feature_columns()
    try:
        # The table, its sidecar and its skipped list replace their predecessors together, or
        # not at all: a table must never sit beside another run's sidecar.
        with atomic_files() as open_file:
            crcs = _assemble(open_file(output, "wb"), journal.partial_path, entries, header)
            sidecar[STAMPS_KEY] = _stamps(tracks, entries, crcs)
            sidecar[SKIPPED_STAMPS_KEY] = _skipped_stamps(tracks, entries)
            open_file(sidecar_path, "w", encoding="utf-8").write(json.dumps(sidecar, indent=2) + "\n")
            write_skipped_csv(open_file(skipped_path, "w", encoding="utf-8", newline=""), skipped)
    except OutputError as exc:
        raise OutputError(f"{exc}; the extracted files are kept: rerun the same command to finish") from None
    journal.discard()
    report.notes += end_notes
    if progress:
        tell([*during, *dataset.notes, *end_notes])
    return report


def recorded_file_facts(meta: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """What a table's sidecar ``meta`` records of some files besides their rows.

    Returns
    -------
    silent_segments, below_rate : dict
        :data:`SILENT_KEY` and :data:`BELOW_RATE_KEY` (``path -> number``); empty where the
        sidecar has none (no such file, or an older version of genre wrote it).
    """
    return tuple(meta.get(key) if isinstance(meta.get(key), dict) else {} for key in (SILENT_KEY, BELOW_RATE_KEY))


def file_notes(
    silent_segments: Mapping[str, int],
    below_rate: Mapping[str, int],
    *,
    analysis_sr: Any,
    silence_rms: Any,
    recorded_in: str | os.PathLike | None = None,
) -> list[str]:
    """The end-of-run notes on files' silent segments and low sample rates (extract and predict).

    Whole files that are silent are skipped, and listed as such; these are files that were
    used, but differ from the rest in a way their rows alone would not tell.

    Parameters
    ----------
    silent_segments : mapping
        ``file -> segments left out as silent``, for files with any.
    below_rate : mapping
        ``file -> its own sample rate``, for files recorded below ``analysis_sr``.
    analysis_sr, silence_rms
        The configuration's ``sr`` and ``silence_rms``, as the notes quote them.
    recorded_in : path-like, optional
        The sidecar that records each file's count and rate, named in the notes.
    """
    notes = []
    if silent_segments:
        n, m = sum(silent_segments.values()), len(silent_segments)
        below = f"below {silence_rms:.0e}" if isinstance(silence_rms, (int, float)) else "below the silence threshold"
        where = f"; each file's count is in {recorded_in} ({SILENT_KEY!r})" if recorded_in else ""
        notes.append(
            f"{n} silent {plural(n, 'segment', 'segments')} left out (in {m} {plural(m, 'file', 'files')}): "
            f"a segment whose own RMS is {below} gives no row{where}"
        )
    if below_rate:
        n = len(below_rate)
        rates = sorted(set(below_rate.values()))
        empty = f"{rates[0] / 2:g} Hz" if len(rates) == 1 else (
            "half their own rate (" + ", ".join(f"{r / 2:g} Hz for {r} Hz" for r in rates) + ")"
        )
        named = list(below_rate)[:NAMED_IN_NOTE]
        which = ", ".join(named) + (f" and {n - len(named)} more" if n > len(named) else "")
        where = f" (each file's rate is in {recorded_in}, {BELOW_RATE_KEY!r})" if recorded_in else ""
        notes.append(
            f"{n} {plural(n, 'file was', 'files were')} recorded below {analysis_sr} Hz "
            f"({', '.join(str(r) for r in rates)} Hz): upsampled, {plural(n, 'its', 'their')} spectrum above "
            f"{empty} is empty, which the features will show: {which}{where}"
        )
    return notes

def _assemble(out: IO[bytes], partial_path: Path, entries: list[_Entry], header: list[str]) -> list[int]:
    """Write the final CSV to ``out``: the header, then each extracted file's block, in dataset order.

    Returns the CRC-32 of each block written, in order (for the sidecar's ``stamps``).
    """
    out.write((",".join(header) + "\n").encode())
    crcs = []
    try:
        partial = open(partial_path, "rb")
    except OSError as exc:
        raise OutputError(f"{partial_path}: cannot read it ({exc.strerror})") from None
    with partial:
        for entry in entries:
            if entry.reason:
                continue
            try:
                partial.seek(entry.offset)
                data = partial.read(entry.length)
            except OSError as exc:
                raise OutputError(f"{partial_path}: cannot read it ({exc.strerror})") from None
            crc = zlib.crc32(data)
            # Only another process can have changed it, the lock notwithstanding (an editor, rm).
            if len(data) != entry.length or (entry.crc is not None and crc != entry.crc):
                raise OutputError(f"{partial_path}: was changed by something else during the run")
            out.write(data)
            crcs.append(crc)
    return crcs


def extract(
    source: str | os.PathLike | Dataset | None = None,
    output: str | os.PathLike | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Like :func:`extract_to_csv`, but return the table as a DataFrame.

    Takes the same keywords: ``extract("music/", sr=16000, segment_seconds=0)``,
    ``extract("music/", embeddings="musicnn")``. Without ``output`` the CSV is written to a temporary folder and removed. The skipped
    files are in ``frame.attrs["skipped"]`` as ``(path, reason)`` pairs; the files with silent
    segments left out and those recorded below the analysis rate in ``attrs["silent_segments"]``
    and ``attrs["below_analysis_rate"]`` (see :class:`ExtractReport`).
    """
    with tempfile.TemporaryDirectory() as tmp:
        # As given: extract_to_csv refuses an empty name, which Path("") would turn into ".".
        target = output if output is not None else Path(tmp) / "features.csv"
        report = extract_to_csv(source, target, **kwargs)
        # Empty label/group cells stay "" (unknown), as in the Track they came from.
        ids = {"path": str, "track": str, "label": str, "group": str}
        frame = pd.read_csv(report.output, keep_default_na=False, dtype=ids)
    frame.attrs["skipped"] = report.skipped
    frame.attrs["silent_segments"] = report.silent_segments
    frame.attrs["below_analysis_rate"] = report.below_analysis_rate
    return frame
