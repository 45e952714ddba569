"""The exception types users may see.

Every error a user can cause (bad file, bad table, bad option) is raised as a
:class:`GenreError` subclass with a message that names the file or column at
fault. The CLI prints the message and exits non-zero instead of showing a
traceback; Python callers can catch one type.
"""

from __future__ import annotations


class GenreError(Exception):
    """Base class of every user-facing error raised by ``genre``."""


class ParameterError(GenreError, ValueError):
    """A function or command received an invalid parameter value."""


class AudioError(GenreError):
    """An audio file cannot be used: unreadable, empty, silent or too short."""


class DataError(GenreError):
    """A dataset, manifest, feature table or list file is malformed."""


class ModelFileError(GenreError):
    """A model file is corrupt, not written by ``genre``, or does not match."""


class OutputError(GenreError):
    """An output file or folder cannot be written (missing parent, not writable, disk full)."""


class FallbackWarning(UserWarning):
    """A model was fitted more simply than its settings ask, because the data allowed no better.

    E.g. the SVM on a training side where a class has a single track (or artist): no inner
    search and no calibration are possible. The message says what was done instead and why;
    ``genre train`` prints it as a note and ``genre benchmark`` as a caveat of the model.
    """
