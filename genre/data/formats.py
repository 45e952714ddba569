"""Which files count as audio: the extensions every layout lists and the decoder accepts.

Kept in :mod:`genre.data` so that listing a dataset never imports the feature code;
:mod:`genre.features.audio` refuses other extensions with this same test.
"""

from __future__ import annotations

import os
from pathlib import Path

#: File extensions ``genre`` reads (all decoded by libsndfile through soundfile).
AUDIO_EXTENSIONS: frozenset[str] = frozenset({".wav", ".au", ".snd", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff"})


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
