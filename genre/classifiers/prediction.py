"""Predict genres with a saved model: from audio files (``genre predict``) or a feature table.

A model scores segments; a track's answer is the mean of its segments'
probabilities (a soft vote), which is steadier than a majority of hard votes
when a track changes character halfway.

Predictions written to a CSV (:func:`write_predictions`) are resumable, as ``genre extract``'s
tables are: a JSON sidecar beside them (``predictions.json``) records the SHA-256 of the model
file, the digest of the CSV, and each predicted audio file's size and modification time as
it was analysed. A later run given the same CSV (``reuse=``, ``genre predict -o``) keeps the
rows of the files still among its inputs and unchanged since, when the model is the same, and
analyses only the others, so a run cut short (whose finished rows are written) resumes, and a
collection with a few new files is brought up to date, with the CSV a fresh run would write.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from genre.classifiers.persistence import LoadedModel, load_model
from genre.csvtext import frame_csv_text
from genre.data.tracks import ignored_note, write_skipped_csv
from genre.errors import DataError, ModelFileError, ParameterError
from genre.text import plural

if TYPE_CHECKING:
    from genre.features.config import FeatureConfig
    from genre.features.handcrafted import ClipFeatures

__all__ = [
    "PredictionInterrupted",
    "NOT_ANALYSED",
    "predict_files",
    "predict_table",
    "write_predictions",
    "skipped_list_path",
    "expand_audio_paths",
    "aggregate_tracks",
    "check_table_compatible",
    "as_written",
    "predict",
    "check_predictions_output",
    "PREDICTIONS_FORMAT",
]


def _path_list(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str | os.PathLike]:
    """``paths`` as a list; one path (a str or path-like) is a list of one, never its characters.

    ``predict(model, "song.wav")`` would otherwise analyse ``s``, ``o``, ``n``, ``g``, ``.``
    (the current folder)...
    """
    return [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)


def expand_audio_paths(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Replace each folder in ``paths`` by the audio files below it (sorted, recursive).

    Folders are listed as dataset folders are (:func:`genre.data.folder.list_audio_files`):
    linked folders are followed once, hidden files are ignored, and what cannot be used is
    reported instead of stopping the batch.

    Parameters
    ----------
    paths : path-like or iterable of path-like
        Audio files and/or folders; one path (a str or path-like) is a list of one.

    Returns
    -------
    files : list of pathlib.Path
        Files given directly come first-come, duplicates removed. A file that is not
        audio by its extension is kept: :func:`predict_files` reports it as skipped.
    unusable : list of (str, str)
        Inputs, and entries found in folders, that yield no file, with the reason: a path
        that does not exist or is not valid UTF-8, a folder that cannot be listed or holds
        no audio files, and below a folder: files of other formats, broken links, hidden
        audio files, sub-folders that cannot be listed, links back to a folder listed
        already. A batch goes on without them.
    """
    entries = _expand_in_order(_path_list(paths))
    files = [path for path, reason in entries if reason is None]
    return files, [(str(path), reason) for path, reason in entries if reason is not None]


def _expand_in_order(
    paths: Iterable[str | os.PathLike], *, ignored: list[str] | None = None
) -> list[tuple[Path | str, str | None]]:
    """What :func:`expand_audio_paths` finds, as one list in the order it was found.

    ``ignored``, given, gets the files below the folders that are certainly not audio
    (cover art, notes: see :func:`genre.data.folder.list_audio_files`), for one note.

    Returns
    -------
    entries : list of (path, reason)
        ``(Path, None)`` for a file to analyse, ``(str, reason)`` for an input or folder
        entry that yields none. Each file appears once, at its first place: a folder given
        twice, a file given again inside a folder or by another name for the same path
        (relative and absolute) counts once; and a file given by
        name is analysed even where a folder listing it leaves it out (a hidden file,
        say), so it is never both predicted and reported as skipped.
    """
    from genre.data.folder import list_audio_files
    from genre.data.tracks import is_printable, printable

    entries: list[tuple[Path | str, str | None]] = []
    for raw in paths:
        path, shown = Path(raw), printable(raw)
        if not str(raw).strip():
            entries.append((str(raw), "empty path"))
            continue
        if not is_printable(path):
            # Neither the console nor the predictions CSV (UTF-8) could show the path.
            entries.append((shown, "the path is not valid UTF-8 text; rename the file or its folder"))
            continue
        try:
            is_folder = stat.S_ISDIR(path.stat().st_mode)
        except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in the path
            entries.append((shown, "no such file or folder"))
            continue
        except OSError as exc:  # Path.is_dir() would raise a PermissionError, not say False
            entries.append((shown, f"cannot be reached ({exc.strerror or exc})"))
            continue
        if not is_folder:
            entries.append((path, None))
            continue
        try:
            listing = list_audio_files(path)
        except DataError as exc:
            entries.append((shown, str(exc).removeprefix(f"{shown}: ")))
            continue
        # The walker's own order for the files (the predictions keep it); what it left out
        # of this folder follows them, before anything of the next input.
        entries.extend((p, None) for p, _ in listing.files)
        entries.extend(listing.rejected)
        if ignored is not None:
            ignored.extend(listing.ignored)
        if not listing.files:
            what = "usable audio files" if listing.rejected else "audio files"
            entries.append((shown, f"the folder holds no {what}"))
    # One key per file however it was named: "a.wav", "./a.wav" and "/music/a.wav" are one.
    def key(path: Path | str) -> str:
        return os.path.abspath(path) if str(path).strip() else str(path)

    used = {key(path) for path, reason in entries if reason is None}
    kept: dict[str, tuple[Path | str, str | None]] = {}
    for path, reason in entries:
        if key(path) in kept or (reason is not None and key(path) in used):
            continue
        kept[key(path)] = (path, reason)
    return list(kept.values())


def aggregate_tracks(ids: Sequence[str], proba: np.ndarray, labels: Sequence[str]) -> pd.DataFrame:
    """Average segment probabilities per track and pick the most probable genre.

    Parameters
    ----------
    ids : sequence of str
        Track (or path) of each row of ``proba``.
    proba : ndarray of shape (n_rows, n_labels)
        Segment probabilities.
    labels : sequence of str
        Label of each column.

    Returns
    -------
    frame : pandas.DataFrame
        One row per track in first-seen order: ``path, genre, probability, prob_<label>...``.
    """
    columns = [f"prob_{label}" for label in labels]
    frame = pd.DataFrame(np.asarray(proba, dtype=float), columns=columns)
    frame.insert(0, "path", [str(i) for i in ids])
    mean = frame.groupby("path", sort=False)[columns].mean()
    best = mean.to_numpy().argmax(axis=1)
    result = pd.DataFrame(
        {
            "path": mean.index.to_numpy(),
            "genre": np.asarray(list(labels), dtype=object)[best],
            "probability": mean.to_numpy().max(axis=1),
        }
    )
    return pd.concat([result, mean.reset_index(drop=True)], axis=1)


def _audio_extractor(model: LoadedModel, model_path: Path):
    """The extractor that computes the model's inputs from audio, as it did for its training table.

    For a model that reads audio itself, trained on a handcrafted table, a
    :class:`_SegmentStarts` that gives the table's segment rows without their descriptors.
    """
    from genre.features.config import ID_COLUMNS
    from genre.features.extractors import can_rebuild, extractor_from_description
    from genre.features.handcrafted import HandcraftedExtractor

    kind = model.meta.get("extra", {}).get("feature_kind", "handcrafted")
    if not can_rebuild(kind, model.feature_config):
        source = model.meta.get("extra", {}).get("trained_on", "an external table")
        raise ModelFileError(
            f"{model_path}: this model was trained on {source} ({kind} features without a genre feature "
            "configuration), so it cannot compute its inputs from audio; train on a table written by "
            "`genre extract` to predict from audio files"
        )
    try:
        extractor = extractor_from_description(kind, model.feature_config)
    except ParameterError as exc:
        raise ModelFileError(f"{model_path}: the stored feature configuration is invalid ({exc})") from None
    produced = set(extractor.feature_columns()) | set(ID_COLUMNS)
    missing = [c for c in model.feature_columns if c not in produced]
    if missing:
        raise ModelFileError(
            f"{model_path}: the model's feature columns are not produced by its stored feature "
            f"configuration (e.g. {missing[:3]}); the file is inconsistent"
        )
    if _reads_audio(model) and isinstance(extractor, HandcraftedExtractor):
        # A model that reads audio itself needs only the segment starts of its training table;
        # computing the descriptors for them would cost most of its prediction time.
        return _SegmentStarts(config=extractor.config)
    return extractor


def _file_facts(model: LoadedModel, attrs: Mapping[str, Mapping]) -> tuple[dict[str, int], dict[str, int]]:
    """What the end-of-run notes say of the analysed files: silent segments, and rates below the model's.

    ``attrs``: each file's frame attributes (``silent_segments``, ``native_sr``, see
    :func:`genre.features.extract.extract_clip`), in input order.

    Returns
    -------
    silent_segments, below_rate : dict
        ``file -> segments left out as silent`` and ``file -> its own sample rate``, for the
        files with something to say, as a table's sidecar records them
        (:func:`genre.features.extract.recorded_file_facts`); plain ints, for JSON.
    """
    sr = (model.feature_config or {}).get("sr")
    # Counts only: a value a sidecar edited by hand garbled gives no note rather than a traceback.
    silent = {
        f: int(a["silent_segments"]) for f, a in attrs.items()
        if isinstance(a.get("silent_segments"), (int, np.integer)) and a["silent_segments"] > 0
    }  # fmt: skip
    below = {
        f: int(a["native_sr"]) for f, a in attrs.items()
        if isinstance(a.get("native_sr"), int) and isinstance(sr, int) and 0 < a["native_sr"] < sr
    }  # fmt: skip
    return silent, below


def _file_notes(model: LoadedModel, silent: Mapping[str, int], below: Mapping[str, int]) -> list[str]:
    """Notes on ``silent`` segments and rates ``below`` the model's (:func:`_file_facts`), worded as extraction's."""
    from genre.features.extract import file_notes

    config = model.feature_config or {}
    return file_notes(silent, below, analysis_sr=config.get("sr"), silence_rms=config.get("silence_rms"))


@dataclass(frozen=True)
class _SegmentStarts:
    """The rows the handcrafted extractor would give a clip, without their descriptors.

    Stands in for :class:`~genre.features.handcrafted.HandcraftedExtractor` where only the
    id columns count (models that read audio themselves): the clip is decoded, to know its
    length in samples at ``config.sr`` exactly as the extractor does, and the extractor's own
    :meth:`~genre.features.handcrafted.HandcraftedExtractor.segments` refuses the same clips
    (too short, silent) and places the same segments, but no spectrum is computed.

    Parameters
    ----------
    config : FeatureConfig
        The configuration of the model's training table; ``segment_seconds`` and ``sr``
        place the segments.
    """

    config: FeatureConfig
    kind: str = "handcrafted"

    def feature_columns(self) -> list[str]:
        return []

    def describe(self) -> dict:
        return {"kind": self.kind, "config": self.config.to_dict()}

    def extract_file(self, path: str | os.PathLike) -> ClipFeatures:
        """Segment starts of ``path`` in seconds (``values`` has no columns).

        Raises
        ------
        genre.errors.AudioError
            Unreadable, empty, silent or too short, with the extractor's message.
        """
        import dataclasses

        from genre.features.audio import decode_audio
        from genre.features.handcrafted import HandcraftedExtractor

        y, sr, native_sr = decode_audio(path, sr=self.config.sr)
        _, rows = HandcraftedExtractor(self.config).row_layout(y=y, sr=sr, path=path)
        return dataclasses.replace(rows, native_sr=native_sr)


def as_written(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame`` with ``columns`` holding the values a feature table would give back for them.

    ``genre extract`` writes each feature with 8 significant digits
    (:data:`genre.features.extract.VALUE_FORMAT`) and
    :func:`~genre.features.table.load_feature_table` parses them with pandas, so a model
    is fitted on those rounded numbers, not on what the extractor computed. Predicting on
    the unrounded ones is mostly harmless, but not where the training values are tied: the
    tempo takes a few dozen distinct values, and a rank transform (the SVM's and the dense
    net's :class:`~genre.classifiers.preprocessing.Gaussianiser`) jumps at a tied value, so
    92.28515625 BPM and the table's 92.285156 land on opposite sides of the jump. Rounding
    and parsing the same way gives each file exactly the inputs, and so the probabilities,
    its rows in the training table give.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows from :func:`~genre.features.extract.extract_clip`.
    columns : sequence of str
        Its feature columns; other columns are left as they are.

    Returns
    -------
    pandas.DataFrame
        A copy; ``frame`` itself is not changed.
    """
    columns = list(columns)
    frame = frame.copy()
    if not columns or frame.empty:
        return frame
    values = frame[columns].to_numpy(dtype=float)
    # The writer's format, read back by pandas' own number parser (read_csv's, which the table
    # reader uses; to_numeric shares it): a parser that differed in the last bit would miss a
    # tie too. to_numeric rather than read_csv: 1 ms a clip instead of 20.
    from genre.features.extract import VALUE_FORMAT

    text = np.array([format(v, VALUE_FORMAT) for v in values.ravel()], dtype=object)
    frame[columns] = pd.to_numeric(text).astype(float).reshape(values.shape)
    return frame


def _extract_one(task: tuple[str, Any]) -> tuple[str, pd.DataFrame | None, str]:
    """Worker: feature rows of one file as a table holds them, or why it cannot be used (never raises)."""
    from genre.features.extract import extract_clip, extract_or_reason

    path, extractor = task
    frame, reason = extract_or_reason(lambda p: extract_clip(p, extractor=extractor, track=p), path)
    if frame is not None:
        frame = as_written(frame, extractor.feature_columns())
    return path, frame, reason


#: The skip reason of a file that an interruption (Ctrl-C, SIGTERM) left unanalysed.
NOT_ANALYSED = "not analysed: the run was interrupted first"


class PredictionInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during :func:`predict_files`, carrying the predictions finished before it.

    A ``KeyboardInterrupt``, so code that does not look for it is interrupted as ever;
    ``genre predict`` catches it to print and write the finished files' predictions.

    Attributes
    ----------
    partial : pandas.DataFrame
        What :func:`predict_files` would have returned for the files finished; each file it
        did not reach is in ``partial.attrs["skipped"]`` with the reason :data:`NOT_ANALYSED`.
    interrupt : KeyboardInterrupt
        The interruption itself (a SIGTERM's differs from Ctrl-C's), to raise again.
    """

    def __init__(self, partial: pd.DataFrame, interrupt: KeyboardInterrupt) -> None:
        super().__init__("interrupted")
        self.partial = partial
        self.interrupt = interrupt


def predict_files(
    model_path: str | os.PathLike,
    audio_paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    jobs: int = 1,
    progress: bool = False,
    reuse: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Predict the genre of audio files with a saved model.

    Each file is analysed as the model's training table was (handcrafted features or
    pretrained embeddings, with the configuration stored in the model; models that read
    audio themselves get the file's segments), its segments are scored, and the segment
    probabilities are averaged.

    Parameters
    ----------
    model_path : path-like
        Model file written by ``genre train``.
    audio_paths : path-like or iterable of path-like
        Audio files; folders are expanded to the audio files below them. One path (a str
        or path-like) is a list of one, never a sequence of its characters.
    jobs : int
        Worker processes for feature extraction (``-1``: all cores). No more processes
        start than there are files or cores.
    progress : bool
        Show a progress bar with an ETA on stderr while the files are analysed, and the
        ``notes``.
    reuse : path-like, optional
        Earlier predictions written by :func:`write_predictions` (the CSV about to be
        replaced). Its rows of files among ``audio_paths`` are kept instead of analysing the
        files again where its sidecar shows the same model file (SHA-256) and the file's
        size and modification time are as they were when it was analysed (a relative path
        also in the same working folder), and the notes on them are those of their analysis,
        as the sidecar recorded them. Files it skipped are tried again. A CSV without
        its sidecar (older versions), or with one that does not match it (either edited
        since), gives nothing; a missing file is no error.

    Returns
    -------
    predictions : pandas.DataFrame
        One row per readable file, in input order: ``path, genre, probability`` and
        ``prob_<label>`` for every label of the model; the features of a file are rounded
        as its training table's were (:func:`as_written`), so a file of that table gets the
        probabilities of its rows there. Files that could not be used are listed in
        ``predictions.attrs["skipped"]`` as ``(path, reason)`` pairs, once each and in input
        order too, paths that do not exist and folders without audio among them.
        ``attrs["notes"]`` lists what the run decided on its own (fewer worker processes
        than asked, rows reused) and, last, what it noticed of the files (silent segments
        left out, files recorded below the model's rate; of reused rows' files too, as their
        analysis found it), also printed with ``progress``. ``attrs["n_reused"]``
        counts the rows taken from ``reuse`` (their values as that CSV holds them, which
        are the ones written anyway); ``attrs["model_sha256"]``, ``attrs["stamps"]``
        (each row's file as :func:`genre.features.extract.file_stamp` found it before its
        analysis), ``attrs["silent_segments"]`` and ``attrs["below_analysis_rate"]`` (``path
        -> number`` for the files of those notes, as :func:`genre.features.extract.extract`
        gives them) are for the sidecar :func:`write_predictions` writes.

    Raises
    ------
    genre.errors.ModelFileError
        The model file is unusable, or the model cannot compute its inputs from audio.
    genre.errors.ParameterError
        No paths were given.
    PredictionInterrupted
        Ctrl-C or SIGTERM while the files were analysed; it carries the predictions of the
        files finished before it.
    """
    from genre.atomic import file_sha256
    from genre.features.executors import LocalExecutor, TaskFailure, prepare_executor
    from genre.features.extract import file_stamp
    from genre.progress import progress_bar, tell

    model_path = Path(model_path)
    model = load_model(model_path)
    model_sha256 = file_sha256(model_path)
    extractor = _audio_extractor(model, model_path)
    ignored: list[str] = []
    entries = _expand_in_order(_path_list(audio_paths), ignored=ignored)
    files = [str(path) for path, reason in entries if reason is None]
    if not entries:
        raise ParameterError("no audio files given")
    # Before any analysis, as extraction stamps its files: a file changed while the run
    # goes on is recorded as it was, and analysed again by the next run.
    stamps = {f: file_stamp(f) for f in files}

    notes: list[str] = []
    # Said at the end with the notes on the files, where no progress bar scrolls it away.
    listing_notes = [note] if (note := ignored_note(ignored)) else []
    reused, recorded = pd.DataFrame(), {}
    if reuse is not None:
        reused, recorded = _reusable_rows(
            Path(reuse), model_sha256=model_sha256, stamps=stamps, labels=model.labels, notes=notes
        )
    done = set(reused["path"]) if not reused.empty else set()
    todo = [f for f in files if f not in done]
    frames: dict[str, pd.DataFrame] = {}
    scored: dict[str, np.ndarray] = {}
    skipped: dict[str, str] = {}
    executor = LocalExecutor(jobs=jobs)
    # Sized as extraction sizes it: no more worker processes than files, or than cores.
    prepare_executor(executor, n_items=len(todo), notes=notes)
    if progress:
        tell(notes)
    said = len(notes)  # the executor adds to them while it runs (no worker process could start, say)
    # A model that reads audio itself (a CNN on log-mel patches) does its heavy work while
    # scoring, so each file is scored as it arrives and the bar's ETA covers that work too;
    # the "extractor" then only supplies the segment starts of the training table
    # (_SegmentStarts for handcrafted tables: no descriptors are computed).
    reads_audio = _reads_audio(model)
    interrupt = None
    # No bar when every row is reused: "0/0" would only look like a run that did nothing.
    with progress_bar(enabled=progress and bool(todo)) as bar:
        # Short, as extraction's: a longer one squeezes the count and the ETA out of 80 columns.
        task = bar.add_task(lambda: f"predicting ({executor.description})", total=len(todo))  # follows a fallback
        try:
            for result in executor.map_unordered(_extract_one, [(f, extractor) for f in todo]):
                # A file whose worker process died (out of memory, a decoder crash) comes back as a failure.
                path, frame, reason = (result.item[0], None, result.reason) if isinstance(result, TaskFailure) else result
                if frame is None or frame.empty:
                    skipped[path] = reason or "no feature rows (too short?)"
                else:
                    frames[path] = frame
                    if reads_audio:
                        scored[path] = _predict_proba(model, frame[model.feature_columns], model_path)
                bar.advance(task)
        except KeyboardInterrupt as exc:
            # The files finished so far are not thrown away: they are scored below and handed
            # on with the interruption; the others are listed as not analysed.
            interrupt = exc
            skipped.update({f: NOT_ANALYSED for f in todo if f not in frames and f not in skipped})

    kept = [f for f in todo if f in frames]
    # A reused file is not analysed again, but what its analysis found is in the sidecar: the
    # notes cover it too, in input order, so a resumed run says what a fresh one would.
    analysed = {**recorded, **{f: frames[f].attrs for f in kept}}
    silent, below = _file_facts(model, {f: analysed[f] for f in files if f in analysed})
    end_notes = [*listing_notes, *_file_notes(model, silent, below)]
    notes += end_notes
    if progress:
        tell(notes[said:])
    paths = [p for f in kept for p in frames[f]["path"]]
    if not kept:
        proba = np.zeros((0, len(model.labels)))
    elif reads_audio:
        proba = np.vstack([scored[f] for f in kept])
    else:
        rows = pd.concat([frames[f] for f in kept], ignore_index=True)
        proba = _predict_proba(model, rows[model.feature_columns], model_path)
    result = aggregate_tracks(paths, proba, model.labels)
    if not reused.empty:
        # Reused and new rows in input order, as a fresh run gives them.
        merged = pd.concat([reused, result], ignore_index=True) if kept else reused
        order = {f: i for i, f in enumerate(files)}
        rank = np.argsort([order[p] for p in merged["path"]], kind="stable")
        result = merged.iloc[rank].reset_index(drop=True)
    # In the order the inputs were given, as the predictions are: a folder's problems where
    # the folder was named, a file that failed where it was named or listed.
    result.attrs["skipped"] = [
        (str(path), reason if reason is not None else skipped[str(path)])
        for path, reason in entries
        if reason is not None or str(path) in skipped
    ]
    result.attrs["warnings"] = []
    result.attrs["notes"] = notes
    result.attrs["n_reused"] = len(reused)
    result.attrs["model_sha256"] = model_sha256
    result.attrs["stamps"] = {p: stamps[p] for p in result["path"]}
    result.attrs["silent_segments"], result.attrs["below_analysis_rate"] = silent, below
    if interrupt is not None:
        raise PredictionInterrupted(result, interrupt) from interrupt
    return result


def _reusable_rows(
    output: Path, *, model_sha256: str, stamps: dict[str, tuple[int, int]], labels: Sequence[str], notes: list[str]
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """The rows of the earlier predictions ``output`` that a run of the same model may keep, and their files' facts.

    Only predictions whose sidecar (see :func:`write_predictions`) names the same model file
    and the CSV as it is now offer any: the row of each file of ``stamps`` whose size and
    modification time are those recorded, and whose path means the same file (absolute, or
    relative to the same working folder).

    Parameters
    ----------
    output : pathlib.Path
        The earlier predictions CSV.
    model_sha256 : str
        SHA-256 of this run's model file.
    stamps : dict of str to (int, int)
        This run's audio files and their stamps (:func:`genre.features.extract.file_stamp`).
    labels : sequence of str
        The model's labels: the CSV's columns.
    notes : list of str
        Gets why predictions of the same model offer nothing (edited, unreadable) if they
        do not, or how many rows are reused.

    Returns
    -------
    rows : pandas.DataFrame
        The rows to keep, as read back (empty, without columns, when none).
    analysed : dict of str to dict
        For the files of ``rows`` that the sidecar records silent segments or a low rate of,
        ``{"silent_segments": ..., "native_sr": ...}`` as their frames' attributes held them
        (see :func:`_file_facts`); a sidecar of an older version records none.
    """
    from genre.features.config import EXTRACTION_FOLDER_KEY
    from genre.features.extract import recorded_file_facts

    nothing = pd.DataFrame(), {}
    again = f"{output}: cannot reuse its predictions ({{}}); predicting every file again"
    garbled = again.format(f"its sidecar {_sidecar_path(output)} is not as 'genre predict' wrote it")
    try:
        meta = json.loads(_sidecar_path(output).read_text(encoding="utf-8"))
        data = output.read_bytes()
    except FileNotFoundError:  # no earlier predictions, or an older version's: nothing to reuse
        return nothing
    except (OSError, ValueError):  # ValueError: not JSON, or not UTF-8
        notes.append(garbled)
        return nothing
    if not isinstance(meta, dict) or meta.get("format") != PREDICTIONS_FORMAT:
        notes.append(garbled)
        return nothing
    if meta.get("model_sha256") != model_sha256:
        return nothing  # another model (or a table's predictions), as the user asked: all analysed
    # The sidecar vouches for the rows as they were written, not for an edit since.
    if meta.get("csv_sha256") != hashlib.sha256(data).hexdigest():
        notes.append(again.format("it was changed since 'genre predict' wrote it"))
        return nothing
    columns = ["path", "genre", "probability", *(f"prob_{label}" for label in labels)]
    try:
        if meta["files"]["fields"] != _FILE_FIELDS:
            raise ValueError(meta["files"]["fields"])
        recorded = {}
        for line in meta["files"]["lines"]:
            size, mtime_ns, path = line.split(" ", 2)
            recorded[path] = (int(size), int(mtime_ns))
        # A relative path names another file from another folder.
        folder = _working_folder()
        here = folder is not None and meta.get(EXTRACTION_FOLDER_KEY) == folder
        wanted = {
            path
            for path, stamp in stamps.items()
            if recorded.get(path) == stamp and stamp[0] >= 0 and (here or os.path.isabs(path))
        }
        if not wanted:
            return nothing
        # Read back as pandas reads any CSV, but nothing taken for missing ("NA" is a name).
        rows = pd.read_csv(
            io.BytesIO(data), dtype={c: (str if c in ("path", "genre") else float) for c in columns}, na_filter=False
        )
        if list(rows.columns) != columns:
            raise ValueError(list(rows.columns))
    except (KeyError, TypeError, ValueError, AttributeError):
        notes.append(garbled)
        return nothing
    rows = rows[rows["path"].isin(wanted)].reset_index(drop=True)
    if not rows.empty:
        n = len(rows)
        reusing = f"reusing {n:,} {plural(n, 'prediction', 'predictions')}"
        notes.append(f"{reusing} from {output} (same model, files unchanged)")
    silent, below = recorded_file_facts(meta)
    analysed = {
        path: {"silent_segments": silent.get(path), "native_sr": below.get(path)}
        for path in rows["path"]
        if path in silent or path in below
    }
    return rows, analysed


def check_table_compatible(model: LoadedModel, table: Any, *, model_path: Path) -> None:
    """Refuse a feature table computed differently from the model's training table.

    Raises
    ------
    genre.errors.DataError
        Feature columns are missing, or the table's feature configuration differs.
    """
    missing = [c for c in model.feature_columns if c not in table.feature_columns]
    if missing:
        # A model from an external table has no settings to extract with, only its columns.
        remedy = (
            "extract the table with the model's settings"
            if model.feature_config is not None
            else "give a table with the columns of the one it was trained on"
        )
        raise DataError(
            f"{table.path}: lacks {len(missing)} feature {plural(len(missing), 'column', 'columns')} the model "
            f"{model_path} was trained on (e.g. {', '.join(missing[:5])}); {remedy}"
        )
    if model.feature_config is not None and table.config is not None and table.config != model.feature_config:
        differing = sorted(
            key
            for key in set(model.feature_config) | set(table.config)
            if model.feature_config.get(key) != table.config.get(key)
        )
        raise DataError(
            f"{table.path}: features were computed with a different configuration than the model "
            f"{model_path} ({', '.join(differing)} differ)"
        )


def predict_table(
    model_path: str | os.PathLike,
    features_csv: str | os.PathLike,
    *,
    id_col: str | None = None,
) -> pd.DataFrame:
    """Predict the genre of every track of a feature table with a saved model.

    Parameters
    ----------
    model_path : path-like
        Model file.
    features_csv : path-like
        Feature table with (at least) the model's feature columns; labels are optional.
    id_col : str, optional
        Track-id column of an external table (detected when omitted).

    Returns
    -------
    predictions : pandas.DataFrame
        ``path, genre, probability, prob_<label>...``, one row per track. ``path`` is the
        track's audio path as the table gives it (as ``genre extract`` was given it, so the
        rows join those of :func:`predict_files` and the table's own), or its track id when
        the table has no ``path`` column (an external table). ``attrs["skipped"]`` lists
        ``(path, reason)`` for each track left out because a model column holds a NaN or
        infinite value in one of its rows, or, for a model that reads audio (the CNNs), a
        row's ``start`` is not a number of seconds or its ``path`` is empty (the reason names
        the column and the row, row 1 being the header, and a bad start's value), as
        :func:`predict_files` lists files it cannot read; the other tracks are predicted.
        ``attrs["warnings"]`` lists checks that could not be made (a table without its
        sidecar); ``attrs["notes"]`` is empty.

    Raises
    ------
    genre.errors.DataError
        The table lacks model columns, holds unusable values in them (text or huge: the
        message says to fix the table; other columns are not read), every track holds a
        NaN or infinite value (for a model reading audio: an unusable start or path), or
        the table was computed with another configuration.
    """
    from genre.features.table import load_feature_table

    model_path = Path(model_path)
    model = load_model(model_path)
    # Only the model's columns are read: one it does not use (left out of training with
    # --drop, say) may hold anything. `genre predict` has no --drop to suggest. A NaN or
    # infinite value costs its own track only, as an unreadable audio file does in
    # predict_files (a model reading audio has no such values, but may have bad starts).
    whole = load_feature_table(
        features_csv, id_col=id_col, labelled=False, features=model.feature_columns, can_drop=False,
        nonfinite_tracks=not _reads_audio(model),
    )  # fmt: skip
    table, skipped = _without_nonfinite_tracks(whole)
    if _reads_audio(model):
        from genre.classifiers.cnn import check_table_patches
        from genre.features.table import audio_segment_ids

        # As train and benchmark refuse it: whole-track rows would be judged by their first 3 s.
        check_table_patches(table, estimators={model.model_name: model.estimator})
        # A start that is no number of seconds, or no path, costs its own track only, as a
        # NaN feature does for a feature model (train and benchmark still refuse the table).
        ids = audio_segment_ids(table, model=model.model_name, unusable_tracks=True)
        unusable = ids.attrs["skipped"]
        skipped += list(zip(_audio_paths(whole, [track for track, _ in unusable]), [why for _, why in unusable]))
        X = ids[model.feature_columns]
        tracks = ids["track"].tolist()
    else:
        if not set(model.feature_columns) & set(table.feature_columns):
            # None of the model's columns: perhaps no feature table at all. Read as `genre
            # benchmark` reads one, which refuses a manifest of audio files (path,label) in
            # words: it says so, and to extract its features first.
            load_feature_table(features_csv, id_col=id_col, labelled=False, can_drop=False)
        check_table_compatible(model, table, model_path=model_path)
        X = table.X[model.feature_columns]
        tracks = table.tracks.tolist()
    warnings = []
    if model.feature_config is not None and table.config is None:
        warnings.append(
            f"{table.path}: has no .json sidecar, so it cannot be checked that its features were computed "
            f"with the settings of {model_path}; predictions are wrong if they were not"
        )
    proba = _predict_proba(model, X, model_path)
    result = aggregate_tracks(tracks, proba, model.labels)
    result["path"] = _audio_paths(whole, result["path"])
    result.attrs["skipped"] = skipped
    result.attrs["warnings"] = warnings
    result.attrs["notes"] = []
    return result


def _audio_paths(table: Any, tracks: Iterable[str]) -> list[str]:
    """Each track's audio path from the table's ``path`` column; the track id where it has none."""
    tracks = list(tracks)
    header = pd.read_csv(table.path, sep=table.separator, nrows=0).columns
    if "path" not in header:
        return tracks
    paths = pd.read_csv(
        table.path, sep=table.separator, usecols=["path"], dtype={"path": str}, keep_default_na=False, low_memory=False
    )
    first = dict(zip(reversed(table.tracks.tolist()), reversed(paths["path"].tolist())))  # a track's first row wins
    return [first.get(track) or track for track in tracks]


def _without_nonfinite_tracks(table: Any) -> tuple[Any, list[tuple[str, str]]]:
    """The table without the tracks whose features hold NaN or infinite values, and those tracks.

    Every row of such a track goes: a mean over fewer segments would be another answer.

    Parameters
    ----------
    table : genre.features.table.FeatureTable
        As read with ``nonfinite_tracks=True`` (every row of the file, in file order).

    Returns
    -------
    table : FeatureTable
        The other tracks' rows (``table`` itself when nothing is left out).
    skipped : list of (path, reason)
        Each track left out, in table order, the reason naming its first bad value's column
        and row (row 1 is the header, as in an editor).
    """
    import dataclasses

    from genre.features.table import bad_cells_by_track

    values = table.X.to_numpy()
    bad = ~np.isfinite(values)
    if not bad.any():
        return table, []
    tracks = table.tracks
    first_bad = bad_cells_by_track(tracks, bad.sum(axis=1))
    skipped = []
    for path, (row, count) in zip(_audio_paths(table, first_bad), first_bad.values()):
        column = int(np.argmax(bad[row]))  # the row's first bad value
        kind = "missing/NaN" if np.isnan(values[row, column]) else "infinite"
        more = f", and {count - 1} more missing or infinite {plural(count - 1, 'value', 'values')}" if count > 1 else ""
        where = f"at row {row + 2} of {table.path.name}"
        skipped.append((path, f"{kind} value in feature column {table.X.columns[column]!r} {where}{more}"))
    keep = ~np.isin(tracks, list(first_bad))
    kept = dataclasses.replace(
        table,
        X=table.X[keep].reset_index(drop=True),
        y=table.y[keep],
        tracks=tracks[keep],
        stems=table.stems[keep],
        groups=None if table.groups is None else table.groups[keep],
        ungrouped=None if table.ungrouped is None else table.ungrouped[keep],
    )
    return kept, skipped


def predict(
    model_path: str | os.PathLike,
    inputs: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    jobs: int = 1,
    progress: bool = False,
    reuse: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Predict from audio files and folders, or from one feature table: what ``genre predict`` runs.

    Parameters
    ----------
    model_path : path-like
        Model file written by ``genre train``.
    inputs : path-like or sequence of path-like
        Audio files and folders (see :func:`predict_files`), or exactly one feature CSV
        (``.csv``/``.tsv``, see :func:`predict_table`). One path (a str or path-like) is a
        list of one, never a sequence of its characters.
    jobs, progress, reuse
        As for :func:`predict_files`; a table is scored in one step, and reuses nothing.

    Returns
    -------
    predictions : pandas.DataFrame
        As :func:`predict_files` or :func:`predict_table` return them.

    Raises
    ------
    genre.errors.ParameterError
        A feature CSV given with other inputs, no input at all, or a model file among the
        inputs while ``model_path`` is none (the arguments swapped).
    """
    inputs = _path_list(inputs)
    _check_model_first(model_path, inputs)
    tables = [path for path in inputs if Path(path).suffix.lower() in (".csv", ".tsv")]
    if tables and len(inputs) > 1:
        raise ParameterError(
            f"{tables[0]}: give one feature CSV on its own, or audio files and folders; not several CSVs "
            "or a CSV among audio"
        )
    if tables:
        return predict_table(model_path, tables[0])
    return predict_files(model_path, inputs, jobs=jobs, progress=progress, reuse=reuse)


def _check_model_first(model_path: str | os.PathLike, inputs: Sequence[str | os.PathLike]) -> None:
    """Refuse a model file given among the inputs where the model should be (arguments swapped).

    Otherwise the first argument is refused as "not a genre model file" and the real model
    file, read as audio, as an unsupported format: two messages that hide the slip.
    """
    from genre.classifiers.persistence import is_model_file

    if is_model_file(model_path):
        return
    models = [path for path in inputs if is_model_file(path)]
    if models:
        raise ParameterError(
            f"{model_path}: not a genre model file, but {models[0]} is; the model comes first: "
            f"genre predict {models[0]} FILE..."
        )


def check_predictions_output(
    path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = ()
) -> Path:
    """Refuse, before any work, a predictions CSV that :func:`write_predictions` could not write.

    Parameters
    ----------
    path : path-like
        The predictions CSV to be written.
    inputs : iterable of path-like
        The model file and the inputs: neither the predictions nor the skipped list and the
        sidecar beside them (:func:`skipped_list_path`, ``<stem>.json``) may overwrite one.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    genre.errors.ParameterError
        ``path`` does not end in ``.csv``.
    genre.errors.OutputError
        ``path``, its skipped list or its sidecar is a folder, an input, or cannot be
        written; or exists and is something else than earlier predictions (a feature table,
        say), their skipped list or their sidecar: only those are replaced.
    """
    from genre.atomic import check_output_file, check_replaceable, starts_with

    inputs = list(inputs)
    target = check_output_file(path, inputs=inputs)
    if target.suffix.lower() != ".csv":  # never over an audio file inside an input folder
        raise ParameterError(f"{target}: predictions are written as CSV; give a .csv file name")
    skipped = check_output_file(skipped_list_path(target), inputs=inputs)
    sidecar = check_output_file(_sidecar_path(target), inputs=inputs)
    check_replaceable(
        target,
        ours=lambda existing: starts_with(existing, _PREDICTIONS_HEADER),
        what="predictions written by 'genre predict'",
        kind=_feature_table_kind,
    )
    check_replaceable(
        skipped, ours=lambda existing: starts_with(existing, _SKIPPED_HEADER), what="a skipped-files list (path,reason)"
    )
    check_replaceable(
        sidecar,
        ours=lambda existing: starts_with(existing, _SIDECAR_START),
        what="the sidecar of predictions written by 'genre predict'",
    )
    return target


#: How the CSV :func:`write_predictions` writes begins (see :func:`aggregate_tracks`), its
#: skipped list (see :func:`genre.data.tracks.write_skipped_csv`) and its sidecar (JSON,
#: indented, its format first, of any version): what may be replaced.
_PREDICTIONS_HEADER = b"path,genre,probability"
_SKIPPED_HEADER = b"path,reason"
_SIDECAR_START = b'{\n  "format": "genre-predictions/'

#: The ``format`` of the sidecar :func:`write_predictions` writes beside the predictions.
PREDICTIONS_FORMAT = "genre-predictions/1"
#: The fields of each line of the sidecar's ``files``, one line per predicted file, in CSV
#: order: the audio file's size and modification time when it was analysed, then its path
#: as the CSV gives it (last: a path may hold spaces). A line a file keeps 10,000 readable.
_FILE_FIELDS = "size mtime_ns path"


def _feature_table_kind(path: Path) -> str | None:
    """``"a feature table"`` when ``path`` is one of ``genre extract`` (its columns, or its sidecar), else ``None``."""
    import json

    from genre.atomic import starts_with
    from genre.features.config import ID_COLUMNS
    from genre.features.extract import side_paths
    from genre.features.table import OWN_FORMAT_PREFIX

    if starts_with(path, ",".join(ID_COLUMNS).encode()):
        return "a feature table"
    try:
        meta = json.loads(side_paths(path)[0].read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None  # no sidecar, or not one of ours: nothing more is known
    described = isinstance(meta, dict) and str(meta.get("format", "")).startswith(OWN_FORMAT_PREFIX)
    return "a feature table" if described else None


def _working_folder() -> str | None:
    """The folder relative paths are relative to; ``None`` where it is gone (deleted while the run was in it)."""
    try:
        return os.getcwd()
    except OSError:  # absolute paths are still predicted, and written, there
        return None


def _sidecar_path(path: str | os.PathLike) -> Path:
    """The JSON sidecar that :func:`write_predictions` writes beside the predictions ``path``.

    Named as ``genre extract`` names a table's (:func:`genre.features.extract.side_paths`):
    ``predictions.csv`` -> ``predictions.json``.
    """
    from genre.features.extract import side_paths

    return side_paths(path)[0]


def skipped_list_path(path: str | os.PathLike) -> Path:
    """The skipped-files CSV that :func:`write_predictions` writes beside the predictions ``path``.

    Named as ``genre extract`` names its own (:func:`genre.features.extract.side_paths`):
    ``predictions.csv`` -> ``predictions.skipped.csv``.
    """
    from genre.features.extract import side_paths

    return side_paths(path)[1]


def write_predictions(predictions: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write predictions (from :func:`predict_files` or :func:`predict_table`), their skipped files and sidecar.

    Three files replace their predecessors together, atomically, or none does: ``path``
    (the predictions CSV) and, beside it, :func:`skipped_list_path` (``<stem>.skipped.csv``,
    columns ``path,reason``: ``predictions.attrs["skipped"]``) and the sidecar
    ``<stem>.json``, as ``genre extract`` writes its table's. The skipped list is written
    even when nothing was skipped (the header alone), and the sidecar always, so that no
    file from an earlier run stays beside these predictions: deleting one instead could not
    be part of the atomic replacement.

    The sidecar is what lets a later run reuse these predictions (``reuse=`` of
    :func:`predict_files`): its ``format`` (:data:`PREDICTIONS_FORMAT`), the SHA-256 of the
    model file (``model_sha256``) and of the CSV (``csv_sha256``), the working folder that
    relative paths are relative to, and in ``files`` a line per row of an analysed audio
    file: its size, modification time and path. Predictions of a table list no files. What
    the end-of-run notes said of those files is recorded as a feature table's sidecar
    records it (:data:`genre.features.extract.SILENT_KEY`,
    :data:`~genre.features.extract.BELOW_RATE_KEY`: ``path -> number``, only where there is
    something to say), for a later run that reuses their rows to say it again.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Predictions; without ``attrs["skipped"]``, nothing counts as skipped; without
        ``attrs["model_sha256"]`` and ``attrs["stamps"]`` (see :func:`predict_files`), no
        row can be reused; without ``attrs["silent_segments"]`` and
        ``attrs["below_analysis_rate"]``, a run reusing the rows has no notes on them.
    path : path-like
        The predictions CSV.

    Returns
    -------
    path : pathlib.Path
        The predictions CSV (the skipped list is at ``skipped_list_path(path)``).

    Raises
    ------
    genre.errors.OutputError
        A file cannot be written, or is a folder; then no file was replaced.
    """
    from genre.atomic import atomic_files, check_output_file
    from genre.features.config import EXTRACTION_FOLDER_KEY
    from genre.features.extract import BELOW_RATE_KEY, SILENT_KEY

    # Checked first: a folder in the way would fail only at its rename, after the other
    # files had replaced their predecessors. The name as given: Path("") would be ".".
    path = check_output_file(path)
    skipped_path = check_output_file(skipped_list_path(path))
    sidecar_path = check_output_file(_sidecar_path(path))
    # Encoded first, for the sidecar to record the CSV's digest: rows edited since are not reused.
    data = frame_csv_text(predictions, float_format="%.6g").encode("utf-8")
    stamps = predictions.attrs.get("stamps", {})
    listed = [p for p in predictions["path"] if p in stamps]
    sidecar = {
        "format": PREDICTIONS_FORMAT,  # first: what check_predictions_output recognises
        "model_sha256": predictions.attrs.get("model_sha256"),
        "csv_sha256": hashlib.sha256(data).hexdigest(),
        # The folder relative paths are relative to, with the key a table's sidecar uses.
        EXTRACTION_FOLDER_KEY: _working_folder(),
        "files": {
            "fields": _FILE_FIELDS,
            "lines": [f"{stamps[p][0]} {stamps[p][1]} {p}" for p in listed],
        },
    }
    # Of the files listed only: a row that no later run can reuse needs no note repeated.
    for key, attr in ((SILENT_KEY, "silent_segments"), (BELOW_RATE_KEY, "below_analysis_rate")):
        facts = predictions.attrs.get(attr) or {}
        if recorded := {p: facts[p] for p in listed if p in facts}:
            sidecar[key] = recorded
    with atomic_files() as open_file:
        open_file(path, "wb").write(data)
        skipped = predictions.attrs.get("skipped", [])
        write_skipped_csv(open_file(skipped_path, "w", encoding="utf-8", newline=""), skipped)
        open_file(sidecar_path, "w", encoding="utf-8").write(json.dumps(sidecar, indent=2) + "\n")
    return path


def _reads_audio(model: LoadedModel) -> bool:
    """Whether the model reads audio files itself (its inputs are segment ids)."""
    from genre.classifiers.registry import get_spec

    try:
        return get_spec(model.model_name).input == "audio"
    except ParameterError:  # a model name this version does not know: treat as a feature model
        return False


def _predict_proba(model: LoadedModel, X: pd.DataFrame, model_path: Path) -> np.ndarray:
    try:
        proba = model.estimator.predict_proba(X)
    except ValueError as exc:  # scikit-learn's feature-name / shape checks
        raise ModelFileError(f"{model_path}: the model does not accept these features ({exc})") from None
    if proba.shape[1] != len(model.labels):
        raise ModelFileError(f"{model_path}: the model gives {proba.shape[1]} probabilities for {len(model.labels)} labels")
    return proba
