"""Atomic file writes (a reader sees the old file or the new one, never half of one), output-name checks, file digests."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

from genre.errors import OutputError

__all__ = [
    "OutputLock",
    "file_digests",
    "file_sha256",
    "atomic_files",
    "atomic_open",
    "atomic_write_text",
    "atomic_write_bytes",
    "check_output_file",
    "check_output_folder",
    "check_output_outside",
    "check_replaceable",
    "output_path",
    "starts_with",
]


def _cannot_write(target: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or type(exc).__name__
    return OutputError(f"{target}: cannot write ({reason}); nothing was replaced")


@contextlib.contextmanager
def atomic_files() -> Iterator[Callable[..., IO]]:
    """Write several files that appear together: all of them replace their targets, or none does.

    Yields a function ``open_file(path, mode="w", **kwargs)`` that opens a temporary file
    beside ``path``. When the block ends, every file is flushed and fsynced first and only
    then renamed over its target, so a full disk (which fails while writing, never while
    renaming) leaves every target as it was. If the block raises, the temporary files are
    removed.

    Raises
    ------
    genre.errors.OutputError
        A folder cannot be created or written, or the disk filled up.
    """
    staged: list[tuple[IO, str, Path]] = []

    def open_file(path: str | os.PathLike, mode: str = "w", **kwargs) -> IO:
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise _cannot_write(target, exc) from None
        os.close(fd)
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        handle = open(tmp_name, mode, **kwargs)
        staged.append((handle, tmp_name, target))
        return handle

    target = None
    try:
        yield open_file
        for handle, tmp_name, target in staged:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        for _, tmp_name, target in staged:
            os.replace(tmp_name, target)
    except BaseException as exc:
        for handle, tmp_name, _ in staged:
            with contextlib.suppress(OSError):
                handle.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
        # A failed write to our handles (disk full, file too large) carries no file name, or
        # a temporary one; an OSError about another file raised inside the block is passed on.
        named = {name: t for _, name, t in staged} | {str(t): t for _, _, t in staged}
        if isinstance(exc, OSError) and (exc.filename is None or exc.filename in named):
            failed = named.get(exc.filename) or target or Path(", ".join(str(t) for _, _, t in staged))
            raise _cannot_write(failed, exc) from None
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success, fsync and rename it over ``path``.

    If the block raises, the temporary file is removed and ``path`` is untouched.

    Raises
    ------
    genre.errors.OutputError
        The folder cannot be created or written, or the disk filled up.
    """
    with atomic_files() as open_file:
        yield open_file(path, mode, **kwargs)


def output_path(path: str | os.PathLike, *, what: str = "the output path", kind: str = "file or folder") -> Path:
    """``path`` as a :class:`~pathlib.Path`, refusing an empty or blank name.

    ``Path("")`` is the current folder, so an empty name (often an unset variable in a
    script, ``-o "$OUT"``) would quietly write there, or fail with a message about ".".
    Check the name as given, before anything turns it into a ``Path``: ``str(Path(""))``
    is ``"."`` and cannot be told apart from a deliberate ``"."`` any more.

    Parameters
    ----------
    path : path-like
        The output file or folder as the user gave it.
    what : str
        How the message names it, e.g. ``"--output"``.
    kind : str
        What the command writes there, for the message: ``"file"`` (a model, a CSV),
        ``"folder"`` (a report), or, where either is taken, ``"file or folder"``.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    genre.errors.OutputError
        ``path`` is empty or only whitespace.
    """
    if not str(path).strip():
        # Worded for what the command takes: "a file or folder name" sends the user of a
        # command that writes one file looking for a folder option it does not have.
        raise OutputError(f"{what} is empty; give a {kind} name to write to")
    return Path(path)


def check_output_folder(folder: str | os.PathLike) -> Path:
    """Prove that ``folder`` can be created (if missing) and written, before any long work starts.

    Nothing is left behind: the probe is a temporary file in the nearest folder that exists.

    Returns
    -------
    folder : pathlib.Path

    Raises
    ------
    genre.errors.OutputError
        ``folder`` is empty, ``folder`` or one of its parents is a file, or the nearest
        existing folder cannot be written.
    """
    folder = output_path(folder, what="the output folder name", kind="folder")
    try:
        existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
        is_folder = existing.is_dir()
    except OSError as exc:  # a parent that may not be searched: exists() raises, not says False
        raise OutputError(f"{folder}: cannot reach it ({exc.strerror or type(exc).__name__})") from None
    if not is_folder:
        where = "is a file, not a folder" if existing == folder else f"cannot be created, {existing} is a file"
        raise OutputError(f"{folder}: {where}")
    try:
        # Permission bits say nothing for root or on special file systems: try it.
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write there ({exc.strerror or type(exc).__name__})") from None
    return folder


def check_output_file(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Refuse, before any long work starts, an output file that cannot be written or is an input.

    Parameters
    ----------
    path : path-like
        The file an operation will write.
    inputs : iterable of path-like
        Files the same operation reads; writing over one of them would lose it.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    genre.errors.OutputError
        ``path`` is empty, a folder, one of ``inputs``, or cannot be written.
    """
    target = output_path(path, what="the output file name", kind="file")
    try:
        is_folder = target.is_dir()
    except OSError as exc:  # see check_output_folder
        raise OutputError(f"{target}: cannot reach it ({exc.strerror or type(exc).__name__})") from None
    if is_folder:
        raise OutputError(f"{target}: is a folder; give a file name to write")
    for item in inputs:
        with contextlib.suppress(OSError):
            if target.exists() and os.path.samefile(target, item):
                raise OutputError(f"{target}: is also an input of this command; write the output to another file")
    check_output_folder(target.parent)
    return target


def check_replaceable(
    path: str | os.PathLike,
    *,
    ours: Callable[[Path], bool],
    what: str,
    kind: Callable[[Path], str | None] | None = None,
) -> Path:
    """Refuse to replace an existing file that is not an earlier output of the same kind.

    A command's output name is easily mistyped into the name of something else
    (``-o features.csv`` for predictions): an earlier output of the command is replaced,
    anything else is kept and the command refused before any work.

    Parameters
    ----------
    path : path-like
        The file the command will write.
    ours : callable
        ``ours(path)``: whether the existing file is such an output; it should read little
        (see :func:`starts_with`) and return ``False`` on a file it cannot read.
    what : str
        What the outputs are, for the message: ``"a genre model file"``.
    kind : callable, optional
        ``kind(path)``: what the existing file is instead, when that can be told
        (``"a feature table"``), else ``None``.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    genre.errors.OutputError
        ``path`` exists and is not ``what``.
    """
    path = Path(path)
    if not path.exists() or ours(path):
        return path
    other = kind(path) if kind is not None else None
    found = f"is {other}, not {what}" if other else f"is not {what}"
    raise OutputError(f"{path}: exists and {found}; choose another name or remove it")


def starts_with(path: str | os.PathLike, prefix: bytes) -> bool:
    """Whether the file ``path`` begins with ``prefix`` (``False`` when it cannot be read).

    Parameters
    ----------
    path : path-like
    prefix : bytes

    Returns
    -------
    bool
    """
    try:
        with open(path, "rb") as handle:
            return handle.read(len(prefix)) == prefix
    except OSError:
        return False


def check_output_outside(
    folder: str | os.PathLike, *, inputs: Iterable[str | os.PathLike], what: str = "input folder"
) -> Path:
    """Refuse an output folder that is, or lies inside, a folder the same command reads.

    A benchmark of a folder of audio that wrote its report, plots and ``features/`` among
    the label folders would find them there next time: a ``features`` label, or files
    counted as skipped. Links are resolved first, so another name for the same folder is
    caught too. The converse (the input inside the output folder, ``-o data`` for
    ``data/audio``) is allowed: every output goes to its own file names, and nothing is
    written into the input.

    Parameters
    ----------
    folder : path-like
        The output folder (it need not exist).
    inputs : iterable of path-like
        Folders the command reads (an audio root, its label folders).
    what : str
        How the message names the input, e.g. ``"audio folder"``.

    Returns
    -------
    folder : pathlib.Path

    Raises
    ------
    genre.errors.OutputError
        ``folder`` is one of ``inputs`` or lies below one.
    """
    folder = output_path(folder, what="the output folder name", kind="folder")
    target = os.path.realpath(folder)
    for item in inputs:
        source = os.path.realpath(item)
        with contextlib.suppress(ValueError):  # different drives (Windows): never inside
            if os.path.commonpath([target, source]) == source:
                where = "is" if target == source else "lies inside"
                raise OutputError(
                    f"{folder}: the output folder {where} the {what} {item} that this command reads; its "
                    f"files would be mixed with the input and read as part of it next time: write to a folder "
                    f"outside {item}"
                )
    return folder


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, as hex, read 1 MiB at a time (a model or audio file need not fit in memory)."""
    return file_digests(path, ("sha256",))["sha256"]


def file_digests(path: str | os.PathLike, algorithms: Iterable[str]) -> dict[str, str]:
    """Hex digests of a file's bytes, one per :mod:`hashlib` algorithm (``sha256``, ``sha1``, ``md5``), in one pass.

    The file is read 1 MiB at a time, so no file need fit in memory, and once however
    many digests are asked for. ``md5`` and ``sha1`` are asked for as checksums, not for
    security, so that a FIPS-mode Python allows them.

    Only a regular file is read (links to one followed): a named pipe would block the read
    until something wrote to it, a device may never end, a folder has no bytes. Such a path
    is refused before it is read, and the pipe is opened without waiting for a writer.

    Raises
    ------
    OSError
        The file cannot be opened or read, or is not a regular file (``strerror`` says
        what it is: ``"not a regular file: a named pipe"``).
    """
    import errno
    import stat

    def refuse_unless_regular(mode: int) -> None:
        if stat.S_ISREG(mode):
            return
        kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
                 (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))  # fmt: skip
        kind = next((what for test, what in kinds if test(mode)), "of an unknown kind")
        raise OSError(errno.EINVAL, f"not a regular file: {kind}", os.fspath(path))

    refuse_unless_regular(os.stat(path).st_mode)  # before opening: opening a pipe would wait for a writer
    # O_NONBLOCK: a file swapped for a pipe after that stat still opens at once, and fstat tells
    # what was opened; reading a regular file never blocks anyway.
    nonblock = getattr(os, "O_NONBLOCK", 0)  # POSIX only: Windows has no named pipes in its file system
    fd = os.open(path, os.O_RDONLY | nonblock | getattr(os, "O_BINARY", 0))
    try:
        refuse_unless_regular(os.fstat(fd).st_mode)
        if nonblock:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    digests = {name: hashlib.new(name, usedforsecurity=False) for name in algorithms}
    with open(fd, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            for digest in digests.values():
                digest.update(block)
    return {name: digest.hexdigest() for name, digest in digests.items()}


class OutputLock:
    """``<output>.lock``: held (``flock``) by the one run writing ``output``, with its pid and host.

    The kernel drops the lock when its process dies, so a lock left by ``kill -9`` never
    stands in the way; the pid and host in the file only name the holder in the message.
    On a file system without locks (or off POSIX) the run goes on unguarded.

    Parameters
    ----------
    output : pathlib.Path
        The file or folder being written; the lock is ``<output>.lock`` beside it.
    what : str
        What the refusal calls the run holding it: ``"another extraction (pid 12 on host)
        is writing ..."``.

    Raises
    ------
    genre.errors.OutputError
        On entering: another run holds the lock, or the lock file cannot be written.
    """

    def __init__(self, output: Path, *, what: str = "extraction") -> None:
        self.output = output
        self.what = what
        self.path = output.with_name(output.name + ".lock")
        self._fd: int | None = None

    def __enter__(self) -> "OutputLock":
        try:
            import fcntl
        except ImportError:  # not POSIX (Windows): no lock
            return self
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise OutputError(f"{self.path}: cannot create the lock file ({exc.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self._holder(fd)
                os.close(fd)
                raise OutputError(
                    f"another {self.what} ({holder}) is writing {self.output}; wait for it to finish, "
                    "or stop it and rerun this command to take over its work"
                ) from None
            except OSError:  # a file system without locks: run unguarded rather than not at all
                os.close(fd)
                return self
            # The previous holder removes the file as it leaves: a lock on the file we opened
            # before that counts only if it is still the file at this path.
            try:
                current = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                current = False
            if current:
                break
            os.close(fd)
        self._fd = fd
        try:
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode())
        except OSError as exc:  # a full disk: nothing else could be written either
            self.__exit__()
            raise OutputError(f"{self.path}: cannot write the lock file ({exc.strerror})") from None
        return self

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            holder = json.loads(os.pread(fd, 4096, 0))
            return f"pid {int(holder['pid'])} on {holder['host']}"
        except (OSError, ValueError, TypeError, KeyError):  # still being written
            return "pid unknown"

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            # Removed while still held, so that no run can lock the file we are leaving.
            try:
                os.unlink(self.path)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None
