"""Filter what C libraries write straight to file descriptor 2 while a block of code runs.

TensorFlow's Abseil logging and libmpg123 write to the descriptor, not to ``sys.stderr``,
so Python cannot catch their lines; the descriptor itself is redirected to a temporary file
meanwhile, and afterwards the lines worth showing are written on.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from contextlib import contextmanager
from typing import Callable, Iterator

__all__ = ["filtered_descriptor_2"]


@contextmanager
def filtered_descriptor_2(keep: Callable[[bytes], bool]) -> Iterator[list[bytes]]:
    """Send file descriptor 2 to a temporary file meanwhile, then pass on the lines ``keep`` accepts.

    Parameters
    ----------
    keep : callable
        ``keep(line)`` for each line written meanwhile (bytes, without its newline): whether
        it is written on to descriptor 2 when the block ends.

    Yields
    ------
    held : list of bytes
        Filled when the block ends with the lines that were not passed on, for the caller to
        report in its own words (or not at all).
    """
    held: list[bytes] = []
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no descriptor 2 to redirect: run as is
        yield held
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield held
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = []
            for line in re.findall(rb"[^\n]*\n|[^\n]+$", capture.read()):  # not at a lone \r: progress frames use it
                (kept if keep(line.rstrip(b"\n")) else held).append(line.rstrip(b"\n"))
            if kept:
                os.write(2, b"".join(line + b"\n" for line in kept))
