"""genre: music genre classification from audio, with honest benchmarks."""

__version__ = "0.1.0"
