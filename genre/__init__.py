"""genre: music genre classification from audio, with honest benchmarks."""

import os as _os

# XGBoost's OpenMP threads spin while they wait by default; on a busy or small machine that
# made a 10-fold benchmark 5x slower. Passive waiting costs nothing measurable when idle.
# Set before any OpenMP runtime loads; a user's own setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# TensorFlow's C++ INFO and WARNING lines (CPU instruction sets, oneDNN banners, an
# "OP_REQUIRES failed" beside an out-of-memory error we already report in one line) would
# greet every predict and CNN run on stderr; its errors still show. Set before TensorFlow
# loads; a user's own setting wins.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
