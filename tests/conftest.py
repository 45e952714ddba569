"""Shared test fixtures: small audio made by the tests, and the optional shared GTZAN data."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def tone(seconds: float, *, sr: int = 22050, freq: float = 440.0, seed: int = 0, channels: int = 1) -> np.ndarray:
    """A harmonic tone with a little noise and an amplitude pulse: non-silent, non-trivial spectra."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 2, 3))
    y = 0.3 * y * (0.6 + 0.4 * np.sin(2 * np.pi * 2.0 * t)) + 0.01 * rng.standard_normal(t.size)
    y = y.astype(np.float32)
    return np.stack([y, 0.5 * y], axis=1) if channels == 2 else y


def write_tone_folder(root: Path, pitches: dict[str, tuple[float, ...]], *, seconds: float) -> Path:
    """``root/<label>/<label>.NNNNN.wav``: one tone per pitch, labelled by its group; returns ``root``."""
    import soundfile as sf

    for label, freqs in pitches.items():
        for i, freq in enumerate(freqs):
            path = root / label / f"{label}.{i:05d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, tone(seconds, freq=freq, seed=i), 22050)
    return root


def tone_feature_table(root: Path, pitches: dict[str, tuple[float, ...]], *, seconds: float) -> Path:
    """Tones under ``root/audio`` (see :func:`write_tone_folder`) and their 1 s-segment table ``root/features.csv``."""
    from genre.features.config import FeatureConfig
    from genre.features.extract import extract_to_csv

    features = root / "features.csv"
    audio = write_tone_folder(root / "audio", pitches, seconds=seconds)
    extract_to_csv(audio, features, config=FeatureConfig(segment_seconds=1.0), jobs=1, progress=False)
    return features


def interrupt_extraction_after(monkeypatch, n_files: int) -> None:
    """Make the extraction engine raise KeyboardInterrupt (a simulated Ctrl-C) once ``n_files`` are done.

    ``monkeypatch.undo()`` puts the engine back.
    """
    import genre.features.extract as engine

    real, done = engine._extract_block, []

    def interrupted(task):
        if len(done) == n_files:
            raise KeyboardInterrupt
        done.append(task[0])
        return real(task)

    monkeypatch.setattr(engine, "_extract_block", interrupted)


#: Two pitch classes a linear model tells apart from 1 s segments.
LOW_HIGH_PITCHES = {"low": (150.0, 200.0, 250.0), "high": (2000.0, 2400.0, 2800.0)}


@pytest.fixture(scope="session")
def low_high_model(tmp_path_factory) -> Path:
    """A logistic regression on 1 s segments of tones: low vs high pitch (trained in a few seconds)."""
    from genre.classifiers.training import train_model

    root = tmp_path_factory.mktemp("low-high-model")
    path = root / "logreg.genre"
    train_model(tone_feature_table(root, LOW_HIGH_PITCHES, seconds=2.0), model="logreg", output=path)
    return path


@pytest.fixture
def write_wav():
    """Write a tone to a path; returns the path."""
    import soundfile as sf

    def _write(
        path: Path, seconds: float = 4.0, *, sr: int = 22050, freq: float = 440.0, seed: int | None = None, **kwargs
    ):
        # Noise seeded by the file's place unless a seed is given: two files are byte-identical
        # copies (which a listing keeps once) only when a test means them to be.
        if seed is None:
            seed = zlib.crc32("/".join(Path(path).parts[-2:]).encode())
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, tone(seconds, sr=sr, freq=freq, seed=seed, channels=kwargs.pop("channels", 1)), sr, **kwargs)
        return path

    return _write


@pytest.fixture(scope="session")
def gtzan_mini() -> Path:
    path = SHARED_DATA / "gtzan-mini"
    if not path.is_dir():
        pytest.skip(f"shared GTZAN clips not found at {path} (only on the project's machines)")
    return path


@pytest.fixture(scope="session")
def gtzan_features() -> Path:
    path = SHARED_DATA / "gtzan-features" / "features_30_sec.csv"
    if not path.is_file():
        pytest.skip(f"shared GTZAN feature table not found at {path} (only on the project's machines)")
    return path


@pytest.fixture(scope="session")
def gtzan_splits() -> Path:
    path = SHARED_DATA / "gtzan-splits"
    if not path.is_dir():
        pytest.skip(f"shared GTZAN splits not found at {path} (only on the project's machines)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _isolated_data_home(tmp_path_factory):
    """Generated corpora go to a temporary GENRE_DATA_HOME, not the user's cache."""
    import os

    previous = os.environ.get("GENRE_DATA_HOME")
    os.environ["GENRE_DATA_HOME"] = str(tmp_path_factory.mktemp("genre-data-home"))
    yield
    if previous is None:
        os.environ.pop("GENRE_DATA_HOME", None)
    else:
        os.environ["GENRE_DATA_HOME"] = previous


@pytest.fixture
def extracted_tracks(monkeypatch) -> list[str]:
    """The track ids the extraction engine extracts from now on (in this process: ``-j 1``)."""
    import genre.features.extract as engine

    real, names = engine._extract_block, []

    def spy(task):
        names.append(task[1].track)
        return real(task)

    monkeypatch.setattr(engine, "_extract_block", spy)
    return names
