"""Folder-per-label layout (GTZAN's): ``ROOT/<label>/**/<file>``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from genre.data.formats import NON_AUDIO_FOLDERS, is_audio_path, is_known_non_audio
from genre.data.tracks import (
    Dataset, Track, check_label_spellings, ignored_note, is_printable, label_lookalikes_note, printable,
    reject_repeated_files, with_notes,
)
from genre.errors import DataError

#: Prefix of the AppleDouble files macOS writes beside real ones on foreign disks (``._song.wav``).
APPLEDOUBLE_PREFIX = "._"


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows a link
    except OSError:
        return False


def _walk(root: Path, rejected: list[tuple[str, str]]) -> tuple[list[tuple[Path, tuple[str, ...], bool]], list[Path]]:
    """Every non-hidden file below ``root`` and the label folders.

    Files come as ``(path, parts relative to root, whether it is a link)``, in no set order.

    Real sub-folders are listed first, then linked ones: a link is followed unless its
    folder is listed already (a loop, or a second way to the same folder), so every
    folder is listed once, by its real name where it has one. What cannot be listed, and
    hidden audio files, go to ``rejected``.
    """
    files: list[tuple[Path, tuple[str, ...], bool]] = []
    label_folders: list[Path] = []
    listed: dict[str, Path] = {}  # real path of each folder listed -> the path it was listed by
    folders: list[tuple[Path, tuple[str, ...]]] = [(root, ())]
    links: list[tuple[Path, tuple[str, ...]]] = []
    while folders or links:
        if folders:
            folder, parts = folders.pop()
        else:
            folder, parts = links.pop(0)
        real = os.path.realpath(folder)
        if real in listed:
            reason = f"leads through a link to a folder listed already ({printable(listed[real])}); not followed"
            rejected.append((printable(folder), reason))
            continue
        listed[real] = folder
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if not parts:
                raise DataError(f"{printable(root)}: cannot list the folder ({exc.strerror or exc})") from None
            reason = f"cannot list the folder ({exc.strerror or exc}); its files are left out"
            rejected.append((printable(folder), reason))
            continue
        for entry in entries:
            path, sub = folder / entry.name, (*parts, entry.name)
            if entry.name.startswith("."):
                # .git, .DS_Store, macOS's ._song.wav beside song.wav: not audio of the dataset.
                if is_audio_path(entry.name) and not entry.name.startswith(APPLEDOUBLE_PREFIX) and not _is_dir(entry):
                    rejected.append((printable(path), "hidden file (its name starts with '.'): left out"))
                continue
            if entry.name in NON_AUDIO_FOLDERS and _is_dir(entry):
                continue
            if _is_dir(entry):
                if not parts:
                    label_folders.append(path)
                (links if entry.is_symlink() else folders).append((path, sub))
            else:
                files.append((path, sub, entry.is_symlink()))
    return files, label_folders


class AudioListing(NamedTuple):
    """What :func:`list_audio_files` found below a folder.

    Attributes
    ----------
    files : list of (pathlib.Path, tuple of str)
        Usable audio files and their path parts relative to the root, sorted by those parts.
    rejected : list of (str, str)
        ``(printable path, reason)`` of everything found that cannot be used, sorted.
    folders : list of pathlib.Path
        The root's non-hidden sub-folders (the label folders of a dataset).
    ignored : tuple of str
        Printable paths of files that are certainly not audio (cover art, notes, playlists:
        :func:`genre.data.formats.is_known_non_audio`), sorted: neither used nor rejected.
    """

    files: list[tuple[Path, tuple[str, ...]]]
    rejected: list[tuple[str, str]]
    folders: list[Path]
    ignored: tuple[str, ...] = ()


def list_audio_files(root: str | os.PathLike, *, labelled: bool = False) -> AudioListing:
    """The audio files at any depth below a folder, and what was found but cannot be used.

    Linked folders are followed unless they lead to a folder listed already (a loop, or a
    second way to the same folder). Hidden files and folders (``.git``, ``.DS_Store``,
    macOS's ``._*``) are ignored, except that a hidden file with an audio extension is
    rejected. Files of well-known non-audio types (``cover.jpg``, ``notes.txt``,
    ``album.cue``, ``Thumbs.db``) are ignored too, but listed in ``ignored`` so that
    callers can count them. Rejected: files of other extensions (audio that ``genre``
    cannot decode, perhaps), broken links, paths that are not valid UTF-8 (no CSV or
    console could show them) and sub-folders that cannot be listed.

    Parameters
    ----------
    root : path-like
        An existing folder.
    labelled : bool
        ``root`` holds label folders (``ROOT/<label>/<file>``): files directly in it are
        not tracks; audio ones are rejected, others (a README, a manifest) ignored.

    Returns
    -------
    AudioListing

    Raises
    ------
    DataError
        ``root`` itself cannot be listed.
    """
    root = Path(root)
    rejected: list[tuple[str, str]] = []
    found, folders = _walk(root, rejected)
    files: list[tuple[Path, tuple[str, ...]]] = []
    ignored: list[str] = []
    for path, parts, link in sorted(found, key=lambda f: f[1]):
        shown = printable(path)
        if labelled and len(parts) == 1:
            if is_audio_path(path):
                rejected.append((shown, "audio file outside a label folder (ROOT/<label>/<file>)"))
            continue  # README, a manifest, features.csv...: not even counted
        if is_known_non_audio(path):
            # Cover art, notes, playlists beside the music: expected, not a failure to read
            # audio; a skipped line each would bury the real ones (and fail --strict).
            ignored.append(shown)
        elif link and not os.path.exists(path):
            try:
                target = os.readlink(path)
            except OSError as exc:  # a link that may not be read (/proc/1/cwd): left out, as an unlistable folder is
                rejected.append((shown, f"link that cannot be read ({exc.strerror or exc}); left out"))
            else:
                rejected.append((shown, f"broken link to {printable(target)} (no such file)"))
        elif not is_audio_path(path):
            rejected.append((shown, f"unsupported format {printable(path.suffix) or '(no extension)'!r}"))
        elif shown != str(path):
            rejected.append((shown, "the path is not valid UTF-8 text; rename the file or its folder"))
        else:
            files.append((path, parts))
    return AudioListing(files=files, rejected=sorted(rejected), folders=folders, ignored=tuple(sorted(ignored)))


def _unique_ids(relative: list[tuple[str, ...]]) -> list[str]:
    """Track ids: relative paths without extension, with it where two files share one (``a.wav``, ``a.mp3``)."""
    stems = [Path(*parts).with_suffix("").as_posix() for parts in relative]
    count: dict[str, int] = {}
    for stem in stems:
        count[stem] = count.get(stem, 0) + 1
    ids = [stem if count[stem] == 1 else Path(*parts).as_posix() for stem, parts in zip(stems, relative)]
    taken: set[str] = set()
    for i, track_id in enumerate(ids):  # an extension kept may meet another file's stem ("a.wav.flac")
        n = 1
        while ids[i] in taken:
            n += 1
            ids[i] = f"{track_id}#{n}"
        taken.add(ids[i])
    return ids


def load_folder(root: str | os.PathLike) -> Dataset:
    """List the audio files of a folder-per-label tree.

    Each first-level sub-folder is a label; audio files at any depth below it belong to
    it (upper-case extensions too: ``.WAV``). Track ids are the relative paths without
    extension (with it when two files differ only by extension, ``rock/a.wav`` and
    ``rock/a.mp3``).

    Linked folders are followed, unless they lead to a folder listed already (a loop, or a
    link to another folder of the tree): each folder is listed once. Hidden files and
    folders (``.git``, ``.DS_Store``, macOS's ``._*``) are ignored, except that a hidden
    file with an audio extension is reported. So are files of well-known non-audio types
    (cover art, notes, playlists; see :func:`genre.data.formats.is_known_non_audio`):
    ``Dataset.ignored`` lists them and ``Dataset.notes`` counts them in one line.
    ``Dataset.rejected`` says what else was found but cannot be used: files of other
    extensions, audio directly in ``root``, broken links, names that are not valid UTF-8,
    folders that cannot be listed, label folders without audio, and files listed under two
    labels (through a link).

    Raises
    ------
    DataError
        ``root`` is not a folder or cannot be listed, holds no audio in label sub-folders,
        or has label folders whose names differ only in case (``Rock`` and ``rock``).
    """
    root = Path(root)
    if not root.is_dir():
        what = "a file, not a folder" if root.exists() else "no such folder"
        raise DataError(f"{printable(root)}: {what} (expected a folder of label folders, ROOT/<label>/<file>.wav)")
    if not is_printable(root):
        raise DataError(f"{printable(root)}: the folder's path is not valid UTF-8; rename it")
    audio, rejected, label_folders, ignored = list_audio_files(root, labelled=True)
    ids = _unique_ids([parts for _, parts in audio])
    tracks = [Track(path=str(path), track=track_id, label=parts[0]) for (path, parts), track_id in zip(audio, ids)]
    tracks = reject_repeated_files(tracks, rejected, lambda t: t.track)
    labelled = {t.label for t in tracks}
    reported = [path for path, _ in rejected]
    for folder in label_folders:
        said = any(p == str(folder) or p.startswith(f"{folder}{os.sep}") for p in reported)
        if folder.name not in labelled and is_printable(folder.name) and not said:
            rejected.append((str(folder), f"label folder without audio files: no track of {folder.name!r}"))
    rejected.sort()
    if not tracks:
        said = []
        if rejected:
            more = f" and {len(rejected) - 1} more" if len(rejected) > 1 else ""
            said.append(f"found but not usable: {rejected[0][0]} ({rejected[0][1]}){more}")
        if note := ignored_note(ignored):
            said.append(note)  # a folder of .mp4 or .txt files: what was there instead
        detail = "".join(f"; {text}" for text in said)
        raise DataError(f"{root}: no audio files found in label folders (expected ROOT/<label>/<file>.wav){detail}")
    check_label_spellings({t.label: str(root / t.label) for t in reversed(tracks)}, str(root))
    tracks.sort(key=lambda t: t.track)
    dataset = Dataset(tracks=tracks, rejected=rejected, name=f"folder {root}", ignored=ignored)
    return with_notes(dataset, [label_lookalikes_note(dataset.labels, printable(root))])

