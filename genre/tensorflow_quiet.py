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
from typing import Any

from genre.stderr_capture import filtered_descriptor_2

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


def _stderr_without_absl_noise():
    """Descriptor 2 filtered meanwhile: Abseil's noise dropped, anything else passed on.

    Lines holding terminal control sequences are also dropped: they are frames of a live
    progress display, which redraws itself anyway.
    """
    return filtered_descriptor_2(lambda line: not _ABSL_NOISE.match(line) and b"\x1b" not in line)
