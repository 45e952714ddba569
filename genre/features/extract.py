"""The extraction engine: a dataset in, a feature CSV out, in parallel and resumably.

While it runs, finished files are appended to ``<output>.partial`` (one block of rows per
file) and recorded in ``<output>.journal`` (one JSON line per file, written after its
rows are flushed to disk). A rerun after Ctrl-C or ``kill -9`` drops any block the
journal does not vouch for and extracts only the remaining files. When all files are
done, the blocks are copied in dataset order into the final CSV, which is renamed into
place atomically with its JSON sidecar and its list of skipped files: the result is
byte-identical to an uninterrupted run, whatever order the workers finished in.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, TypeVar

import numpy as np
import pandas as pd

from genre.atomic import atomic_open, atomic_write_text
from genre.data import Dataset, Track, load_dataset
from genre.errors import AudioError, GenreError, ParameterError
from genre.features.config import ID_COLUMNS, FeatureConfig
from genre.features.executors import Executor, LocalExecutor, TaskFailure
from genre.features.handcrafted import ClipFeatures, HandcraftedExtractor
from genre.progress import progress_bar

TABLE_FORMAT = "genre-features/1"

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
    n_tracks: int
    n_extracted: int
    n_resumed: int
    n_rows: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class _Block:
    """A worker's answer for one file: CSV text of its rows, or why it was skipped."""

    index: int
    text: str
    n_rows: int
    reason: str


# -- one file -----------------------------------------------------------------------------
def _format_rows(track: Track, features: ClipFeatures) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for segment, (start, values) in enumerate(zip(features.starts, features.values)):
        ids = [track.path, track.track, segment, f"{start:.3f}", track.label, track.group]
        writer.writerow(ids + [f"{v:.8g}" for v in values])
    return buffer.getvalue()


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


def _extract_block(task: tuple[int, Track, Extractor]) -> _Block:
    """Worker entry point; never raises for a bad file, so one file cannot stop a batch."""
    index, track, extractor = task
    features, reason = extract_or_reason(extractor.extract_file, track.path)
    if features is None:
        return _Block(index, "", 0, reason)
    return _Block(index, _format_rows(track, features), len(features.starts), "")


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
            "segment": np.arange(len(features.starts)),
            "start": np.round(features.starts, 3),
            "label": item.label,
            "group": item.group,
        }
    )
    return pd.concat([ids, frame], axis=1)


# -- run state ------------------------------------------------------------------------------
def _fingerprint(tracks: list[Track], description: dict) -> str:
    digest = hashlib.sha256(json.dumps(description, sort_keys=True).encode())
    for t in tracks:
        digest.update(f"{t.path}\0{t.track}\0{t.label}\0{t.group}\n".encode())
    return digest.hexdigest()


class _Journal:
    """The partial-rows file and its journal: what a rerun may trust."""

    def __init__(self, output: Path, fingerprint: str, *, overwrite: bool) -> None:
        self.partial_path = output.with_name(output.name + ".partial")
        self.journal_path = output.with_name(output.name + ".journal")
        self.entries: dict[int, tuple[int, int, int, str]] = {}  # index -> offset, length, rows, reason
        if overwrite:
            self.discard()
        if self.journal_path.exists():
            self._load(fingerprint)
        else:
            self.partial_path.unlink(missing_ok=True)
            atomic_write_text(self.journal_path, json.dumps({"fingerprint": fingerprint}) + "\n")
        end = max((o + n for o, n, _, _ in self.entries.values()), default=0)
        with open(self.partial_path, "ab") as handle:
            handle.truncate(end)  # drop a block whose journal line never made it to disk
        self._partial = open(self.partial_path, "ab")
        self._journal = open(self.journal_path, "a", encoding="utf-8")

    def _load(self, fingerprint: str) -> None:
        with open(self.journal_path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        try:
            header = json.loads(lines[0])
        except (json.JSONDecodeError, IndexError):
            header = {}
        if header.get("fingerprint") != fingerprint:
            raise ParameterError(
                f"{self.journal_path}: an unfinished extraction with other files or settings is there; "
                "rerun it with its original options, or pass --overwrite to start again"
            )
        for line in lines[1:-1]:  # the last piece is "" or a line cut short by a kill
            try:
                e = json.loads(line)
                self.entries[e["i"]] = (e["offset"], e["length"], e["rows"], e["reason"])
            except (json.JSONDecodeError, KeyError):
                break

    def record(self, block: _Block) -> None:
        data = block.text.encode("utf-8")
        offset = self._partial.tell()
        if data:
            self._partial.write(data)
            self._partial.flush()
            os.fsync(self._partial.fileno())
        entry = {"i": block.index, "offset": offset, "length": len(data), "rows": block.n_rows, "reason": block.reason}
        self._journal.write(json.dumps(entry) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())
        self.entries[block.index] = (offset, len(data), block.n_rows, block.reason)

    def close(self) -> None:
        self._partial.close()
        self._journal.close()

    def discard(self) -> None:
        self.partial_path.unlink(missing_ok=True)
        self.journal_path.unlink(missing_ok=True)


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


def extract_to_csv(
    source: str | os.PathLike | Dataset | None,
    output: str | os.PathLike,
    *,
    config: FeatureConfig | None = None,
    extractor: Extractor | None = None,
    jobs: int = -1,
    executor: Executor | None = None,
    progress: bool = False,
    overwrite: bool = False,
) -> ExtractReport:
    """Extract features of every track of ``source`` into the CSV ``output``.

    Parameters
    ----------
    source : path-like, Dataset, "synthetic" or None
        What :func:`genre.data.load_dataset` accepts, or a :class:`Dataset`.
    output : path-like
        The CSV to write. Its sidecar ``.json`` and ``.skipped.csv`` go beside it.
    config : FeatureConfig, optional
        Handcrafted-feature parameters (ignored when ``extractor`` is given).
    extractor : Extractor, optional
        Another extractor (e.g. embeddings); default: handcrafted features.
    jobs : int
        Local worker processes (-1 = all cores); ignored when ``executor`` is given.
    executor : Executor, optional
        Where to run the work (e.g. a Dask cluster).
    progress : bool
        Show a progress bar with ETA on stderr.
    overwrite : bool
        Replace an existing output and discard an unfinished run.

    Returns
    -------
    ExtractReport

    Raises
    ------
    DataError, ParameterError
        The source is unusable, or ``output`` exists and ``overwrite`` is false.
    """
    started = time.perf_counter()
    output = Path(output)
    extractor = extractor or HandcraftedExtractor(config or FeatureConfig())
    executor = executor or LocalExecutor(jobs=jobs)
    dataset = source if isinstance(source, Dataset) else load_dataset(source)
    sidecar_path, skipped_path = side_paths(output)
    if output.suffix.lower() != ".csv":
        raise ParameterError(f"{output}: the output must be a .csv file")
    if output.exists() and not overwrite:
        raise ParameterError(f"{output} exists; pass --overwrite to replace it")
    description = extractor.describe()
    journal = _Journal(output, _fingerprint(dataset.tracks, description), overwrite=overwrite)
    n_resumed = len(journal.entries)
    todo = [(i, t, extractor) for i, t in enumerate(dataset.tracks) if i not in journal.entries]
    try:
        with progress_bar(enabled=progress) as bar:
            task = bar.add_task(f"extracting ({executor.description})", total=len(dataset.tracks), completed=n_resumed)
            for block in executor.map_unordered(_extract_block, todo):
                if isinstance(block, TaskFailure):  # e.g. a file that crashed every worker it ran on
                    block = _Block(block.item[0], "", 0, block.reason)
                journal.record(block)
                bar.advance(task)
    finally:
        journal.close()

    skipped = [(path, reason) for path, reason in dataset.rejected]
    header = list(ID_COLUMNS) + extractor.feature_columns()
    n_rows = 0
    with atomic_open(output, "wb") as out, open(journal.partial_path, "rb") as partial:
        out.write((",".join(header) + "\n").encode())
        for i, track in enumerate(dataset.tracks):
            offset, length, rows, reason = journal.entries[i]
            if reason:
                skipped.append((track.path, reason))
                continue
            partial.seek(offset)
            out.write(partial.read(length))
            n_rows += rows
    n_extracted = len(dataset.tracks) - (len(skipped) - len(dataset.rejected))
    extracted_labels = sorted({t.label for i, t in enumerate(dataset.tracks) if not journal.entries[i][3] and t.label})
    sidecar = {
        "format": TABLE_FORMAT,
        **description,
        "id_columns": list(ID_COLUMNS),
        "feature_columns": extractor.feature_columns(),
        "labels": extracted_labels,
        "n_tracks": n_extracted,
        "n_rows": n_rows,
        "n_skipped": len(skipped),
        "source": dataset.name,
        "versions": _versions(),
    }
    atomic_write_text(sidecar_path, json.dumps(sidecar, indent=2) + "\n")
    with atomic_open(skipped_path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["path", "reason"])
        writer.writerows(skipped)
    journal.discard()
    return ExtractReport(
        output=output,
        sidecar_path=sidecar_path,
        skipped_path=skipped_path,
        n_tracks=len(dataset.tracks) + len(dataset.rejected),
        n_extracted=n_extracted,
        n_resumed=n_resumed,
        n_rows=n_rows,
        skipped=skipped,
        seconds=time.perf_counter() - started,
    )


def extract(
    source: str | os.PathLike | Dataset | None = None,
    output: str | os.PathLike | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Like :func:`extract_to_csv`, but return the table as a DataFrame.

    Without ``output`` the CSV is written to a temporary folder and removed. The skipped
    files are in ``frame.attrs["skipped"]`` as ``(path, reason)`` pairs.
    """
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(output) if output is not None else Path(tmp) / "features.csv"
        report = extract_to_csv(source, target, **kwargs)
        # Empty label/group cells stay "" (unknown), as in the Track they came from.
        ids = {"path": str, "track": str, "label": str, "group": str}
        frame = pd.read_csv(target, keep_default_na=False, dtype=ids)
    frame.attrs["skipped"] = report.skipped
    return frame
