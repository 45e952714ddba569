"""TensorFlow's import prints nothing before a command's own output; real errors still show."""

from __future__ import annotations

import os
import subprocess
import sys

from genre.tensorflow_quiet import _stderr_without_absl_noise

ABSL_WARNING = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
ABSL_INFO = b"I0000 00:00:1796306519.668340    8422 port.cc:153] oneDNN custom operations are on.\n"


def test_absl_lines_and_live_frames_are_dropped_and_the_rest_passed_on(capfd):
    with _stderr_without_absl_noise():
        os.write(2, ABSL_WARNING + ABSL_INFO)
        os.write(2, b"\r\x1b[2Kextracting 3/10\n")  # a progress frame, redrawn anyway
        os.write(2, b"E0000 00:00:1.0    1 op.cc:1] a real error\n")
    os.write(2, ABSL_INFO)  # after the import: not ours to filter
    err = capfd.readouterr().err
    assert err == "E0000 00:00:1.0    1 op.cc:1] a real error\n" + ABSL_INFO.decode()


def test_an_exception_inside_restores_stderr(capfd):
    try:
        with _stderr_without_absl_noise():
            os.write(2, b"before the failure\n")
            raise ImportError("no tensorflow")
    except ImportError:
        pass
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "before the failure\nafter\n"


def test_importing_tensorflow_prints_nothing():
    code = "from genre.tensorflow_quiet import import_keras_on_tensorflow; import_keras_on_tensorflow()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=dict(os.environ), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == b"", done.stderr[-2000:]
