"""genre: music genre classification from audio, with honest benchmarks."""

import os as _os

# XGBoost's OpenMP threads spin while they wait by default; on a busy or small machine that
# made a 10-fold benchmark 5x slower. Passive waiting costs nothing measurable when idle.
# Set before any OpenMP runtime loads; a user's own setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# TensorFlow's C++ INFO lines (CPU instruction sets...) would greet every predict and CNN
# run on stderr; warnings and errors still show.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

__version__ = "0.1.0"
