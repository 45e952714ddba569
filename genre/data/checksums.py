"""Verify a dataset's audio files against the checksums its source declares (``genre check``).

Each layout declares them its own way:

- FMA (``fma:FOLDER``): ``FOLDER/checksums``, FMA's SHA-1 sums, one line per file
  (``<sha1>  000/000002.mp3``, paths relative to FOLDER);
- a manifest: its ``sha256``, ``sha1`` or ``md5`` column (read by :mod:`genre.data.manifest`
  into :attr:`Dataset.checksums`);
- a folder of label folders: a checksum file at its root (``SHA256SUMS``, ``SHA1SUMS``,
  ``MD5SUMS`` or ``checksums``, any letter case, ``.txt`` allowed), as ``sha256sum``,
  ``sha1sum`` and ``md5sum`` write them: ``<hex digest>  <path relative to the root>``, the
  algorithm told by the digest's length (32 hex digits md5, 40 sha1, 64 sha256);
  :func:`write_checksums` writes ``SHA256SUMS`` for a folder that has none;
- the synthetic corpus: its own ``checksums.json`` (:mod:`genre.data.synthetic`).

The files checked are the tracks that :func:`genre.data.load_dataset` lists, as extraction
would read them; files are read 1 MiB at a time, on the worker processes of an executor
(:class:`genre.features.executors.LocalExecutor`, which ``genre check --jobs`` hands in)
when there are many.
"""

from __future__ import annotations

import os
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from genre.atomic import atomic_open, atomic_write_text, file_digests
from genre.csvtext import csv_text
from genre.data import load_dataset, source_layout
from genre.data.fma import CHECKSUMS_NAME as FMA_CHECKSUMS_NAME
from genre.data.tracks import Checksum, Dataset, printable
from genre.errors import DataError, ParameterError
from genre.progress import progress_bar
from genre.text import plural

#: Algorithms by the number of hex digits of their digest.
ALGORITHMS: dict[int, str] = {32: "md5", 40: "sha1", 64: "sha256"}
#: Checksum files read at a folder's root (any letter case, with or without ``.txt``), in this order.
FOLDER_CHECKSUM_FILES: tuple[str, ...] = ("SHA256SUMS", "SHA1SUMS", "MD5SUMS", "checksums")
#: The file :func:`write_checksums` writes at a folder's root.
WRITTEN_NAME = "SHA256SUMS"
#: Fewer files than this are read in this process: starting worker processes would cost more.
PARALLEL_FROM = 32
#: Files per task handed to a worker process (a task per file would cost more than reading a small one).
BATCH = 16
#: Files named (with their reason) in a note about many: the first few, then a count.
NAMED_IN_NOTES = 3
#: The header of the CSV :func:`write_problems_csv` writes (``genre check --output``).
PROBLEMS_HEADER = ("path", "problem", "detail")

#: ``<hex digest>  <path>`` (``*`` before the path: read in binary mode, as sha256sum -b writes).
_LINE = re.compile(r"(?P<digest>[0-9A-Fa-f]+) [ *]?(?P<path>.+)")
#: ``SHA256 (<path>) = <hex digest>`` (``sha256sum --tag``, BSD's ``sha256``).
_TAGGED = re.compile(r"(?P<algorithm>MD5|SHA1|SHA256) \((?P<path>.+)\) = (?P<digest>[0-9A-Fa-f]+)")
#: What GNU's tools escape in a path (a line then starts with ``\``).
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r"}


@dataclass(frozen=True)
class ChecksumReport:
    """What :func:`verify` found.

    Attributes
    ----------
    source : str
        The dataset (its :attr:`Dataset.name`).
    against : tuple of str
        What the checksums were read from (files, or a manifest's column); empty when the
        source declares none (then :attr:`nothing_to_verify` says so).
    n_tracks : int
        Tracks listed, as extraction would list them.
    n_matched : int
        Tracks whose file matches every checksum declared for it.
    differ : list of (str, str)
        ``(path, why)`` of tracks whose file has another digest, or cannot be read.
    no_checksum : list of str
        Paths of tracks for which the source declares no checksum.
    missing : list of (str, str)
        ``(path, where it is listed)`` of files a checksum is declared for that do not exist.
    notes : list of str
        What the user should know besides (files the listing left out, files listed that are
        no tracks, fewer processes).
    nothing_to_verify : str
        Why nothing could be verified (no checksum file, an empty one, no checksum column);
        ``""`` otherwise.
    seconds : float
        Time taken.
    left_out : list of (str, str)
        ``(path, why)`` of what the listing found but left out (:attr:`Dataset.rejected`:
        byte-identical copies, broken links, hidden audio files...): not checked.
    """

    source: str
    against: tuple[str, ...]
    n_tracks: int
    n_matched: int
    differ: list[tuple[str, str]]
    no_checksum: list[str]
    missing: list[tuple[str, str]]
    notes: list[str]
    nothing_to_verify: str = ""
    seconds: float = 0.0
    left_out: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No file differs (or is unreadable), and none listed is missing."""
        return not self.differ and not self.missing


@dataclass(frozen=True)
class WrittenChecksums:
    """What :func:`write_checksums` wrote: the file, the number of files in it, the time taken, notes."""

    path: Path
    n_files: int
    seconds: float
    notes: list[str]


def _key(path: str | os.PathLike) -> str:
    """A path as compared between a checksum file and the tracks: absolute and normalised."""
    return os.path.normpath(os.path.abspath(path))


def _unescape(path: str) -> str:
    r"""A path of a line that starts with ``\``: GNU's ``\\``, ``\n``, ``\r`` read back."""
    back = {v: k for k, v in _ESCAPES.items()}
    return re.sub(r"\\.", lambda m: back.get(m[0], m[0]), path)


def read_checksum_file(path: str | os.PathLike) -> dict[str, tuple[Checksum, ...]]:
    """The checksums of a file as ``sha256sum``, ``sha1sum`` or ``md5sum`` write them.

    Lines are ``<hex digest>  <path>`` (or ``<hex digest> *<path>``, or the tagged
    ``SHA256 (<path>) = <hex digest>``); the algorithm is told by the digest's length: 32
    hex digits md5, 40 sha1, 64 sha256. Blank lines and ``#`` comments are skipped; a line
    starting with ``\\`` has a path with GNU's escapes (``\\n``, ``\\\\``). A UTF-8 byte order
    mark (Windows' Notepad writes one) and CR line ends are dropped. A path is kept as
    written otherwise, trailing spaces included (``sha256sum`` does not escape them, so a
    name may end with one): :func:`verify` drops them, reads ``\\`` as ``/`` and tries the
    other Unicode normalisation form when the file as written does not exist.

    Returns
    -------
    dict
        Each path as written (relative to the file's folder, as a rule) -> its checksums,
        ``where`` naming the line.

    Raises
    ------
    DataError
        The file cannot be read, or a line is none of the above (the message names the
        file and the line).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{printable(path)}: cannot read the checksum file ({exc.strerror or exc})") from None
    entries: dict[str, list[Checksum]] = {}
    data = data.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line = os.fsdecode(raw.removesuffix(b"\r"))  # paths as the file system names them
        if not line.strip() or line.startswith("#"):
            continue
        escaped = line.startswith("\\")
        # The tagged form ends with the digest: spaces after it are no part of anything.
        match = _TAGGED.fullmatch(line[escaped:].rstrip(" \t\r")) or _LINE.fullmatch(line[escaped:])
        algorithm = ALGORITHMS.get(len(match["digest"])) if match else None
        if match is None or algorithm is None or match.groupdict().get("algorithm", algorithm).lower() != algorithm:
            shown = printable(line if len(line) <= 100 else line[:100] + "...")
            raise DataError(
                f"{printable(path)}, line {number}: not a checksum line: {shown!r} (expected '<hex digest>  <path>' "
                "as sha256sum, sha1sum or md5sum write it, with 64, 40 or 32 hex digits)"
            )
        name = _unescape(match["path"]) if escaped else match["path"]
        entries.setdefault(name, []).append(Checksum(algorithm, match["digest"].lower(), f"line {number} of {path.name}"))
    return {name: tuple(sums) for name, sums in entries.items()}


def folder_checksum_files(root: str | os.PathLike) -> list[Path]:
    """The checksum files at a folder's root (see :data:`FOLDER_CHECKSUM_FILES`), in that order."""
    wanted = {name.lower(): rank for rank, name in enumerate(FOLDER_CHECKSUM_FILES)}
    found: list[tuple[int, str, Path]] = []
    try:
        with os.scandir(root) as it:
            for entry in it:
                stem = entry.name.lower().removesuffix(".txt")
                if stem in wanted and entry.is_file():
                    found.append((wanted[stem], entry.name, Path(root) / entry.name))
    except OSError as exc:
        raise DataError(f"{printable(root)}: cannot list the folder ({exc.strerror or exc})") from None
    return [path for _, _, path in sorted(found)]


def _hash_batch(batch: list[tuple[str, tuple[str, ...]]]) -> list[tuple[str, dict[str, str] | str]]:
    """Worker side: each file's digests, or why it cannot be read."""
    results: list[tuple[str, dict[str, str] | str]] = []
    for path, algorithms in batch:
        try:
            results.append((path, file_digests(path, algorithms)))
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            reason = getattr(exc, "strerror", None) or str(exc)
            # A named pipe or a device (file_digests refuses them: reading one may never end) is not read at all.
            results.append((path, reason if reason.startswith("not a regular file") else f"cannot read it ({reason})"))
    return results


def _digests(
    tasks: list[tuple[str, tuple[str, ...]]], *, executor: Any, progress: bool, notes: list[str], what: str
) -> dict[str, dict[str, str] | str]:
    """Each task's file -> its digests (or why it cannot be read), with a progress bar.

    On ``executor`` (anything with ``map_unordered(func, items)``, and optionally
    ``prepare(n_items=, notes=)``, as :class:`genre.features.executors.Executor`) when
    there are :data:`PARALLEL_FROM` files or more, in tasks of :data:`BATCH` files; in this
    process otherwise.
    """
    if executor is None or len(tasks) < PARALLEL_FROM:
        done: Iterable[Any] = map(_hash_batch, ([task] for task in tasks))
    else:
        batches = [tasks[i : i + BATCH] for i in range(0, len(tasks), BATCH)]
        prepare = getattr(executor, "prepare", None)
        if prepare is not None:
            prepare(n_items=len(batches), notes=notes)
        done = executor.map_unordered(_hash_batch, batches)
    results: dict[str, dict[str, str] | str] = {}
    with progress_bar(enabled=progress) as bar:
        task = bar.add_task(what, total=len(tasks))
        for result in done:
            if not isinstance(result, list):  # the executor's TaskFailure: the process reading them died
                result = [(path, "the process reading it died") for path, _ in result.item]
            results.update(result)
            bar.advance(task, len(result))
    return results


def _nfc(key: str) -> str:
    """A key (see :func:`_key`) in Unicode's composed form (NFC), as most systems write names."""
    return unicodedata.normalize("NFC", key)


def _resolve(root: Path, name: str, known: set[str]) -> str:
    """The path a checksum file's ``name`` (relative to ``root``) stands for.

    As written when it is a track (its key in ``known``) or exists. Otherwise the first of
    these that is a track or exists: without trailing spaces and tabs (an editor's, or a
    tool's that pads its columns), with ``\\`` read as ``/`` (written on Windows), in the
    other Unicode normalisation form (macOS writes names decomposed, NFD); else without
    trailing spaces, as written (a file that is missing either way).
    """
    written = os.path.normpath(root / name)
    stripped = name.rstrip(" \t") or name
    if stripped == name and "\\" not in name and name.isascii():  # nothing to try instead (most lines)
        return written
    if _key(written) in known:
        return written
    variants = [stripped] + ([stripped.replace("\\", "/")] if "\\" in stripped else [])
    variants += [unicodedata.normalize(form, v) for v in list(variants) for form in ("NFC", "NFD")]
    paths = [written] + [os.path.normpath(root / v) for v in dict.fromkeys(variants)]
    for matches in (lambda p: _key(p) in known, os.path.lexists):
        found = next((p for p in paths if matches(p)), None)
        if found is not None:
            return found
    return os.path.normpath(root / stripped)


def _declared_in_files(
    files: list[Path], root: Path, known: set[str]
) -> tuple[dict[str, tuple[str, tuple[Checksum, ...]]], list[Path]]:
    """Checksum files' entries: the file's key (see :func:`_key`) -> its path as shown, its checksums.

    Each name is read as :func:`_resolve` reads it (``known``: the tracks' keys). Also
    returns the files that list no checksum (empty, or only blank and comment lines).
    """
    entries: dict[str, tuple[str, tuple[Checksum, ...]]] = {}
    empty: list[Path] = []
    for file in files:
        listed = read_checksum_file(file)
        if not listed:
            empty.append(file)
        for name, sums in listed.items():
            path = _resolve(root, name, known)
            shown, before = entries.get(_key(path), (path, ()))
            entries[_key(path)] = (shown, (*before, *sums))
    return entries, empty


def _lists_nothing(files: list[Path]) -> str:
    """``"X is empty, it lists no checksum"``: what to say of checksum files that list none."""
    if len(files) == 1:
        try:
            blank = not files[0].read_bytes().removeprefix(b"\xef\xbb\xbf").strip()
        except OSError:
            blank = False
        what = "is empty" if blank else "holds only blank lines and comments"
        return f"{files[0]} {what}, it lists no checksum"
    named = f"{', '.join(map(str, files[:-1]))} and {files[-1]}"
    return f"{named} list no checksum (empty, or only blank lines and comments)"


def _named(items: list[tuple[str, str]]) -> str:
    """The first :data:`NAMED_IN_NOTES` ``(path, reason)`` as ``path (reason)``, then how many more."""
    shown = [f"{path} ({reason})" for path, reason in items[:NAMED_IN_NOTES]]
    rest = len(items) - len(shown)
    return "; ".join(shown) + (f"; and {rest} more" if rest else "")


def _left_out_note(dataset: Dataset, what: str) -> list[str]:
    """A note counting the files the listing left out (:attr:`Dataset.rejected`), naming the first few."""
    n = len(dataset.rejected)
    if not n:
        return []
    return [
        f"{n} {plural(n, 'file', 'files')} left out while listing {dataset.name} {plural(n, 'was', 'were')} "
        f"{what}: {_named(dataset.rejected)}"
    ]


def _check_digits(checksum: Checksum) -> None:
    """Refuse a declared digest that is not hex digits of its algorithm's length (a manifest's cell)."""
    length = next(n for n, name in ALGORITHMS.items() if name == checksum.algorithm)
    if not re.fullmatch(rf"[0-9A-Fa-f]{{{length}}}", checksum.digest):
        raise DataError(
            f"{checksum.where}: {checksum.algorithm} cell {printable(checksum.digest)!r} is not a "
            f"{checksum.algorithm} checksum ({length} hex digits)"
        )


def _identity(path: Path) -> tuple[int, int, int] | None:
    """A file's inode, size and modification time (a file written again has another); None if absent."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def _emptied_folder(source: str | os.PathLike) -> Dataset | None:
    """A folder of label folders with a checksum file but no audio file left: a :class:`Dataset` of no track.

    None when ``source`` is anything else (its listing failed for another reason: the
    caller raises that error).
    """
    from genre.data.folder import list_audio_files

    root = Path(source)
    try:
        if not root.is_dir() or not folder_checksum_files(root):
            return None
        listing = list_audio_files(root, labelled=True)
    except (OSError, DataError):
        return None
    if listing.files:
        return None
    return Dataset(tracks=[], rejected=list(listing.rejected), name=f"folder {root}", ignored=listing.ignored)


def verify(
    source: str | os.PathLike | None = None, *, executor: Any = None, progress: bool = False, **options: Any
) -> ChecksumReport:
    """Check every track's file against the checksums its source declares (see the module's description).

    Parameters
    ----------
    source : path-like, "fma:<folder>", "synthetic" or None
        As :func:`genre.data.load_dataset` takes it (None: the synthetic corpus, which
        is generated again first when it does not match its ``checksums.json``, as
        extraction would; a note then says so).
    executor : optional
        Where to read the files when there are many (``map_unordered``, as
        :class:`genre.features.executors.LocalExecutor`); None: in this process.
    progress : bool
        Show a progress bar (count, elapsed time, ETA) on stderr.
    **options
        Options of the source's loader (``fma:`` takes ``metadata`` and ``subset``).

    Returns
    -------
    ChecksumReport
        Tracks that match, differ (or cannot be read: a named pipe, a device is not read),
        have no checksum; files listed with a checksum that are missing; what the listing
        left out (not checked: a note counts it). A track matches when its file has every
        digest declared for it. A folder whose audio files are all gone but whose checksum
        file remains is no error: its files are listed but missing. A checksum file that
        lists nothing (empty) is nothing to verify against.

    Raises
    ------
    DataError
        As :func:`genre.data.load_dataset`; a checksum file cannot be read or has a line
        that is not a checksum line; a manifest's checksum cell is not a digest.
    ParameterError
        As :func:`genre.data.load_dataset`.
    """
    start = time.perf_counter()
    layout = source_layout(source)
    notes: list[str] = []
    if layout == "synthetic":
        from genre.data.synthetic import CHECKSUMS_NAME, default_corpus_root

        root = default_corpus_root()
        # Listing it below verifies the corpus and generates it again when damaged, which
        # writes a new checksums.json: told apart by its identity, not by hashing it all twice.
        before = _identity(root / CHECKSUMS_NAME)
    try:
        dataset = load_dataset(source, **options)
    except DataError:
        # A folder whose audio files are all gone: its checksum file still says what should be there.
        dataset = _emptied_folder(source) if layout == "folder" else None
        if dataset is None:
            raise
        notes.append(f"{source} holds no audio file in label folders any more (expected ROOT/<label>/<file>.wav)")
    # What the listing said (tracks outside the subset, non-audio files ignored): not checked either.
    notes.extend(dataset.notes)
    notes.extend(_left_out_note(dataset, "not checked"))
    nothing = ""
    entries: dict[str, tuple[str, tuple[Checksum, ...]]] = {}
    if layout == "synthetic":
        from genre.data.synthetic import MANIFEST_NAME, recorded_sha256

        against: tuple[str, ...] = (str(root / CHECKSUMS_NAME),)
        if before is not None and _identity(root / CHECKSUMS_NAME) != before:
            notes.append(
                f"the synthetic corpus in {root} did not match its {CHECKSUMS_NAME} (a file missing or changed): "
                "it was generated again, as extraction does, before this check"
            )
        entries = {
            _key(root / rel): (str(root / rel), (Checksum("sha256", digest, CHECKSUMS_NAME),))
            for rel, digest in recorded_sha256(root).items()
            if rel != MANIFEST_NAME
        }
    elif layout == "manifest":
        manifest = dataset.listings[0]
        named = sorted({c.algorithm for sums in dataset.checksums.values() for c in sums})
        against = (f"the {', '.join(named)} column of {manifest}",) if named else ()
        nothing = f"{manifest} declares no checksum (no sha256, sha1 or md5 column, or only empty cells): nothing to verify against"
        for sums in dataset.checksums.values():
            for checksum in sums:
                _check_digits(checksum)
        paths = {t.track: t.path for t in dataset.tracks}
        entries = {_key(paths[track]): (paths[track], sums) for track, sums in dataset.checksums.items()}
    else:
        root = Path(str(source).partition(":")[2]).expanduser() if layout == "fma" else Path(source)
        if layout == "fma":
            files = [root / FMA_CHECKSUMS_NAME] if (root / FMA_CHECKSUMS_NAME).is_file() else []
            none = (
                f"{root} has no {FMA_CHECKSUMS_NAME} file (FMA ships one in each audio folder, SHA-1 sums as sha1sum "
                "writes them)"
            )
            hint = ""
        else:
            files = folder_checksum_files(root)
            none = f"{root} has no {', '.join(FOLDER_CHECKSUM_FILES[:-1])} or {FOLDER_CHECKSUM_FILES[-1]} file"
            hint = (
                f"; genre check --write (write_checksums) writes {WRITTEN_NAME} there so that later checks can verify"
            )
        entries, empty = _declared_in_files(files, root, {_key(t.path) for t in dataset.tracks})
        if empty and len(empty) == len(files):  # an empty checksum file is no checksum for every track
            none, files = _lists_nothing(empty), []
        elif empty:
            notes.append(f"{_lists_nothing(empty)}; the other checksum files were verified against")
            files = [f for f in files if f not in empty]
        nothing = f"{none}: nothing to verify against{hint}"
        against = tuple(str(f) for f in files)
    if not against:
        paths = [t.path for t in dataset.tracks]
        return ChecksumReport(
            source=dataset.name, against=(), n_tracks=len(paths), n_matched=0, differ=[], no_checksum=paths,
            missing=[], notes=notes, nothing_to_verify=nothing, seconds=time.perf_counter() - start,
            left_out=list(dataset.rejected),
        )  # fmt: skip
    return _compare(dataset, entries, against=against, notes=notes, executor=executor, progress=progress, start=start)


def _compare(
    dataset: Dataset,
    entries: dict[str, tuple[str, tuple[Checksum, ...]]],
    *,
    against: tuple[str, ...],
    notes: list[str],
    executor: Any,
    progress: bool,
    start: float,
) -> ChecksumReport:
    """Read the tracks' files and compare them with ``entries`` (key -> path as shown, checksums)."""
    expected: dict[str, tuple[Checksum, ...]] = {}
    no_checksum: list[str] = []
    missing: list[tuple[str, str]] = []
    declared: dict[str, tuple[Checksum, ...]] = {}  # track path -> its checksums
    for track in dataset.tracks:
        if _key(track.path) in entries:
            declared[track.path] = entries.pop(_key(track.path))[1]
    if entries and len(declared) < len(dataset.tracks):
        # Then by the names' composed form (NFC): a file system that finds a file under either
        # form (macOS's) lets a name written in the other pass _resolve's test as it is.
        composed: dict[str, list[str]] = {}
        for key in entries:
            composed.setdefault(_nfc(key), []).append(key)
        for track in dataset.tracks:
            if track.path not in declared:
                keys = [key for key in composed.get(_nfc(_key(track.path)), []) if key in entries]
                if keys:
                    declared[track.path] = entries.pop(keys[0])[1]
    for track in dataset.tracks:
        sums = declared.get(track.path, ())
        if not sums:
            no_checksum.append(track.path)
        elif not os.path.exists(track.path):
            missing.append((track.path, f"listed on {sums[0].where}, but no such file"))
        else:
            expected[track.path] = sums
    # What is left was listed but is no track: missing, or left out while listing (not audio,
    # another subset; those the listing rejected are counted in its own note, with the reason).
    rejected = {_key(path) for path, _ in dataset.rejected}
    not_tracks = []
    for key, (shown, sums) in entries.items():
        if not os.path.exists(shown):
            missing.append((shown, f"listed on {sums[0].where}, but no such file"))
        elif key not in rejected:
            not_tracks.append(shown)
    if not_tracks:
        n = len(not_tracks)
        notes.append(
            f"{n} {plural(n, 'file', 'files')} with a checksum {plural(n, 'is', 'are')} not listed as "
            f"{plural(n, 'a track', 'tracks')} of {dataset.name} (not audio, or left out while listing) and "
            f"{plural(n, 'was', 'were')} not checked, e.g. {printable(min(not_tracks))}"
        )
    tasks = [(path, tuple(sorted({c.algorithm for c in sums}))) for path, sums in expected.items()]
    digests = _digests(tasks, executor=executor, progress=progress, notes=notes, what="verifying checksums")
    differ: list[tuple[str, str]] = []
    for path, sums in expected.items():
        found = digests[path]
        if isinstance(found, str):
            differ.append((printable(path), found))
            continue
        wrong = [c for c in sums if found[c.algorithm] != c.digest.lower()]
        if wrong:
            c = wrong[0]
            differ.append((printable(path), f"its {c.algorithm} is {found[c.algorithm]}, but {c.where} says {c.digest}"))
    return ChecksumReport(
        source=dataset.name,
        against=against,
        n_tracks=len(dataset.tracks),
        n_matched=len(expected) - len(differ),
        differ=differ,
        no_checksum=no_checksum,
        missing=sorted(missing),
        notes=notes,
        seconds=time.perf_counter() - start,
        left_out=list(dataset.rejected),
    )


def _line(digest: str, name: str) -> str:
    """One line as sha256sum writes it: a path with ``\\``, a line break or a CR escaped, and the line marked."""
    if any(c in name for c in _ESCAPES):
        return "\\" + digest + "  " + "".join(_ESCAPES.get(c, c) for c in name) + "\n"
    return f"{digest}  {name}\n"


def write_checksums(source: str | os.PathLike, *, executor: Any = None, progress: bool = False) -> WrittenChecksums:
    """Write ``SHA256SUMS`` at the root of a folder of label folders, for :func:`verify` to check later.

    One line per track as :func:`genre.data.load_dataset` lists them (``<sha256>  <path
    relative to the root>``, as ``sha256sum`` writes it, so ``sha256sum -c SHA256SUMS``
    checks it too), written atomically. What the listing left out (byte-identical copies,
    broken links, hidden audio files: :attr:`Dataset.rejected`) is not written, and a note
    counts it, naming the first few; so is a track that is no regular file (a named pipe
    called ``*.wav``: it has no bytes to sum, and reading it would wait for a writer).
    A checksum file that lists nothing (empty) is no checksum: it does not stop the writing
    (an empty ``SHA256SUMS`` is replaced).

    Parameters
    ----------
    source : path-like
        The folder.
    executor, progress
        As :func:`verify`.

    Raises
    ------
    ParameterError
        ``source`` is not a folder of label folders (a manifest, ``fma:``, the synthetic
        corpus declare their own checksums), or the folder has a checksum file already that
        lists a checksum.
    DataError
        As :func:`genre.data.load_dataset`; a track's file cannot be read (nothing is
        written then).
    genre.errors.OutputError
        The file cannot be written.
    """
    start = time.perf_counter()
    layout = source_layout(source)
    own = {
        "synthetic": "the synthetic corpus has its own checksums.json",
        "fma": f"an FMA audio folder has its own {FMA_CHECKSUMS_NAME} file",
        "manifest": "a manifest declares its files' checksums in a sha256 column",
    }
    if layout in own:
        raise ParameterError(f"{source}: checksums are written for a folder of label folders only; {own[layout]}")
    dataset = load_dataset(source)
    root = Path(source)
    present = folder_checksum_files(root)
    listing = next((file for file in present if read_checksum_file(file)), None)
    if listing is not None:
        raise ParameterError(
            f"{listing}: {root} has checksums already, which genre check verifies; delete the file to write "
            f"{WRITTEN_NAME} anew"
        )
    notes = [*dataset.notes, *_left_out_note(dataset, f"not written to {WRITTEN_NAME}")]
    tasks = [(t.path, ("sha256",)) for t in dataset.tracks]
    digests = _digests(tasks, executor=executor, progress=progress, notes=notes, what="computing checksums")
    lines = []
    irregular: list[tuple[str, str]] = []
    for track in dataset.tracks:
        found = digests[track.path]
        if isinstance(found, str):
            if os.path.exists(track.path) and not os.path.isfile(track.path):  # a pipe, a device: no file to sum
                irregular.append((printable(track.path), found.rpartition(": ")[2]))
                continue
            raise DataError(f"{printable(track.path)}: {found}; {root / WRITTEN_NAME} was not written")
        lines.append(_line(found["sha256"], Path(os.path.relpath(track.path, root)).as_posix()))
    if irregular:
        n = len(irregular)
        notes.append(
            f"{n} {plural(n, 'track', 'tracks')} {plural(n, 'is', 'are')} no regular file and "
            f"{plural(n, 'was', 'were')} not written to {WRITTEN_NAME} (genre extract skips "
            f"{plural(n, 'it', 'them')} too): {_named(irregular)}"
        )
    target = root / WRITTEN_NAME
    atomic_write_text(target, "".join(lines))
    return WrittenChecksums(path=target, n_files=len(lines), seconds=time.perf_counter() - start, notes=notes)


def problems(report: ChecksumReport) -> list[tuple[str, str, str]]:
    """Every file of a report that was not found whole: ``(path, problem, detail)``.

    ``problem`` is ``differs`` (another digest, or the file cannot be read), ``missing``
    (listed with a checksum, no such file), ``no checksum`` (a track its source declares
    none for) or ``left out`` (found, but left out while listing: not checked); ``detail``
    says why.
    """
    none = (
        f"no checksum for it in {', '.join(report.against)}" if report.against else report.nothing_to_verify
    )
    return [
        *((path, "differs", why) for path, why in report.differ),
        *((path, "missing", why) for path, why in report.missing),
        *((path, "no checksum", none) for path in report.no_checksum),
        *((path, "left out", why) for path, why in report.left_out),
    ]


def write_problems_csv(report: ChecksumReport, path: str | os.PathLike) -> int:
    """Write :func:`problems` as a CSV with the header ``path,problem,detail``, atomically.

    The console shows the first few files of each kind; this lists them all.

    Returns
    -------
    int
        The number of rows (files) written.

    Raises
    ------
    genre.errors.OutputError
        The file cannot be written.
    """
    rows = problems(report)
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        # Printable: a name that is not valid UTF-8 would stop the UTF-8 write halfway.
        handle.write(csv_text([PROBLEMS_HEADER, *(tuple(map(printable, row)) for row in rows)]))
    return len(rows)


__all__ = [
    "ALGORITHMS",
    "ChecksumReport",
    "FOLDER_CHECKSUM_FILES",
    "NAMED_IN_NOTES",
    "PROBLEMS_HEADER",
    "WRITTEN_NAME",
    "WrittenChecksums",
    "folder_checksum_files",
    "problems",
    "read_checksum_file",
    "verify",
    "write_checksums",
    "write_problems_csv",
]
