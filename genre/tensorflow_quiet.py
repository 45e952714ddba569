"""Import TensorFlow (and Keras on it) without the log lines it prints before its logging is set up.

TensorFlow 2.21 logs through Abseil before anything calls ``absl::InitializeLog()``; until
then Abseil writes every message to stderr, whatever ``TF_CPP_MIN_LOG_LEVEL`` says, after a
warning that it does so. On import that is two INFO lines (the oneDNN banner) and that
warning, printed ahead of every command that trains or runs a network. They are dropped;
anything else written to stderr meanwhile (a real error) is passed on.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["import_tensorflow", "import_keras_on_tensorflow"]

#: Abseil's warning, and its INFO lines ("I0000 00:00:1796306519.668340    8422 port.cc:153] ...").
_ABSL_NOISE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|I\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w.-]+:\d+\] .*)\r?$"
)


def import_tensorflow() -> Any:
    """The ``tensorflow`` module, imported (the first time) with Abseil's pre-initialisation lines dropped.

    Returns
    -------
    module
        ``tensorflow``.
    """
    if "tensorflow" not in sys.modules:
        with _stderr_without_absl_noise():
            return importlib.import_module("tensorflow")
    return sys.modules["tensorflow"]


def import_keras_on_tensorflow() -> Any:
    """The ``keras`` module with the TensorFlow backend (unless ``KERAS_BACKEND`` says otherwise), imported quietly.

    Keras imports TensorFlow when it loads, so TensorFlow is imported first, through
    :func:`import_tensorflow`.

    Returns
    -------
    module
        ``keras``.
    """
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import_tensorflow()
    return importlib.import_module("keras")


@contextmanager
def _stderr_without_absl_noise() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file meanwhile, then pass on what is not noise.

    The C++ library writes to the descriptor, not to ``sys.stderr``, so the descriptor is
    what must be redirected. Lines holding terminal control sequences are also dropped: they
    are frames of a live progress display, which redraws itself anyway.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no descriptor 2 to redirect: import as is
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [
                line
                for line in re.findall(rb"[^\n]*\n|[^\n]+$", capture.read())  # not at a lone \r: frames use it
                if not _ABSL_NOISE.match(line.rstrip(b"\n")) and b"\x1b" not in line
            ]
            if kept:
                os.write(2, b"".join(kept))
