"""Which files count as audio: the extensions every layout lists and the decoder accepts.

Kept in :mod:`genre.data` so that listing a dataset never imports the feature code;
:mod:`genre.features.audio` refuses other extensions with this same test.

Also here: the extensions that are certainly *not* audio (cover art, notes, playlists,
checksums, the files operating systems leave in folders). A folder walk ignores those,
counting them once, instead of reporting each as a skipped file: a collection with a
``cover.jpg`` in every album folder is not a collection with unreadable audio. Any other
extension (``.wma``, ``.m4a``, no extension) may be audio ``genre`` cannot decode, and is
still reported, so users learn that their audio was not read.
"""

from __future__ import annotations

import os
from pathlib import Path

#: File extensions ``genre`` reads (all decoded by libsndfile through soundfile).
AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {".wav", ".w64", ".au", ".snd", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff"}
)

#: Extensions of files that sit beside music but never hold it (compared in lower case).
#: Containers that may carry audio (video, archives) are deliberately absent.
NON_AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        # cover art and scans
        ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".ico", ".svg",
        # notes, booklets, documents
        ".txt", ".nfo", ".log", ".md", ".rtf", ".pdf", ".doc", ".docx", ".htm", ".html", ".xml",
        # lyrics, playlists, cue sheets, rip logs
        ".lrc", ".m3u", ".m3u8", ".pls", ".xspf", ".wpl", ".cue", ".toc", ".accurip",
        # checksums
        ".sfv", ".md5", ".sha1", ".sha256", ".ffp", ".st5",
        # tables and metadata (genre's own outputs among them)
        ".json", ".csv", ".tsv", ".yaml", ".yml",
        # left by operating systems and tools: Thumbs.db, desktop.ini, shortcuts, torrents,
        # and genre extract's own run files beside a table (features.csv.lock)
        ".db", ".ini", ".lnk", ".url", ".torrent", ".lock", ".journal", ".inflight",
    }
)  # fmt: skip

#: Whole names of files that operating systems leave in music folders, without an extension
#: of :data:`NON_AUDIO_EXTENSIONS` to tell them by: macOS's custom-folder icon ``Icon\r``.
NON_AUDIO_NAMES: frozenset[str] = frozenset({"Icon\r"})

#: Folders that only ever hold copies of metadata, never a dataset's audio: the resource-fork
#: folder macOS's zip writes (``__MACOSX/``, full of ``._song.wav``). Skipped like hidden folders.
NON_AUDIO_FOLDERS: frozenset[str] = frozenset({"__MACOSX"})


def is_audio_path(path: str | os.PathLike) -> bool:
    """True when ``path`` has an extension of a format ``genre`` decodes (case-insensitive).

    Parameters
    ----------
    path : path-like
        Only its name is looked at; the file need not exist.

    Returns
    -------
    bool
        Whether its suffix is one of :data:`AUDIO_EXTENSIONS`.
    """
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def is_known_non_audio(path: str | os.PathLike) -> bool:
    """True when ``path``'s extension is one that never holds music (case-insensitive).

    Parameters
    ----------
    path : path-like
        Only its name is looked at; the file need not exist.

    Returns
    -------
    bool
        Whether its suffix is one of :data:`NON_AUDIO_EXTENSIONS` (``cover.JPG``,
        ``Thumbs.db``, ``album.cue``) or its name one of :data:`NON_AUDIO_NAMES`; ``False``
        for audio, for unknown extensions and for other names without one.
    """
    path = Path(path)
    return path.suffix.lower() in NON_AUDIO_EXTENSIONS or path.name in NON_AUDIO_NAMES
