"""Tests of the built-in synthetic corpus (genre.data.synthetic)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from genre.data import load_dataset
from genre.data import synthetic
from genre.data.synthetic import (
    CORPUS_DIRNAME,
    GENRES,
    ensure_synthetic_corpus,
    make_synthetic_corpus,
    verify_synthetic_corpus,
)
from genre.errors import ParameterError

N_PER_GENRE = synthetic.DEFAULT_N_PER_GENRE
N_ARTISTS = synthetic.DEFAULT_N_ARTISTS
SR = synthetic.DEFAULT_SR
SECONDS = synthetic.DEFAULT_SECONDS


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The default corpus, generated once for the module (about 3 s)."""
    return make_synthetic_corpus(tmp_path_factory.mktemp("synthetic"))


def _rows(manifest: Path) -> list[dict[str, str]]:
    with open(manifest, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- layout and contents ------------------------------------------------------------------


def test_layout_and_manifest(corpus: Path) -> None:
    root = corpus.parent
    assert corpus == root / "manifest.csv"
    with open(corpus, newline="", encoding="utf-8") as handle:
        assert handle.readline().strip() == "path,label,group"
    rows = _rows(corpus)
    assert len(rows) == len(GENRES) * N_PER_GENRE
    assert 5 <= len(GENRES) <= 6
    assert sorted({r["label"] for r in rows}) == sorted(GENRES)
    for row in rows:
        genre = row["label"]
        assert re.fullmatch(rf"{genre}/{genre}\.\d{{5}}\.wav", row["path"]), row
        assert not Path(row["path"]).is_absolute()
        assert (root / row["path"]).is_file()
    wavs = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.wav"))
    assert wavs == sorted(r["path"] for r in rows)
    # No temporary files from the atomic writes are left behind.
    assert not [p for p in root.rglob("*") if p.name.startswith(".")]
    for genre in GENRES:
        assert [r["path"] for r in rows if r["label"] == genre] == [
            f"{genre}/{genre}.{i:05d}.wav" for i in range(N_PER_GENRE)
        ]


def test_group_column_names_artists(corpus: Path) -> None:
    rows = _rows(corpus)
    for row in rows:
        index = int(row["path"][-9:-4])
        assert row["group"] == f"{row['label']}-artist-{index % N_ARTISTS}"
    groups = {r["group"] for r in rows}
    assert len(groups) == len(GENRES) * N_ARTISTS
    # Every artist belongs to one genre, so group-aware splits keep genres learnable.
    for group in groups:
        assert len({r["label"] for r in rows if r["group"] == group}) == 1


def test_clips_are_mono_pcm16_right_length_and_not_silent(corpus: Path) -> None:
    for row in _rows(corpus):
        path = corpus.parent / row["path"]
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype, info.format) == (SR, 1, "PCM_16", "WAV")
        assert info.frames == round(SECONDS * SR)
        y, _ = sf.read(path, dtype="float64")
        peak_db = 20 * np.log10(np.abs(y).max())
        rms_db = 20 * np.log10(np.sqrt(np.mean(y**2)))
        # Peak-normalised to -3 dBFS minus a random gain of up to 6 dB: never clipped.
        assert synthetic.PEAK_DBFS - synthetic.GAIN_SPREAD_DB - 0.1 <= peak_db <= synthetic.PEAK_DBFS + 0.01, row
        assert rms_db > -35.0, row
        # Sound throughout the clip, not only at its start (fades excepted).
        seconds = y[: len(y) // SR * SR].reshape(-1, SR)
        assert (np.sqrt(np.mean(seconds**2, axis=1)) > 1e-3).all(), row


def test_checksums_record_every_file(corpus: Path) -> None:
    root = corpus.parent
    record = json.loads((root / "checksums.json").read_text(encoding="utf-8"))
    assert record["params"]["version"] == synthetic.SYNTHETIC_VERSION
    assert record["params"]["n_per_genre"] == N_PER_GENRE
    expected = {r["path"] for r in _rows(corpus)} | {"manifest.csv"}
    assert set(record["files"]) == expected
    for rel, info in record["files"].items():
        data = (root / rel).read_bytes()
        assert info == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert verify_synthetic_corpus(root)


def test_load_dataset_reads_the_corpus(corpus: Path) -> None:
    dataset = load_dataset(corpus)
    assert dataset.labels == sorted(GENRES)
    assert len(dataset.tracks) == len(GENRES) * N_PER_GENRE
    first = dataset.tracks[0]
    assert first.track == f"{GENRES[0]}/{GENRES[0]}.00000"
    assert first.group == f"{GENRES[0]}-artist-0"
    assert Path(first.path).is_file()
    # The corpus folder is also a valid folder-per-label tree.
    assert len(load_dataset(corpus.parent).tracks) == len(GENRES) * N_PER_GENRE


# -- determinism --------------------------------------------------------------------------


def test_generation_is_deterministic(tmp_path: Path, corpus: Path) -> None:
    a = _tree_bytes(make_synthetic_corpus(tmp_path / "a", n_per_genre=2).parent)
    b = _tree_bytes(make_synthetic_corpus(tmp_path / "b", n_per_genre=2).parent)
    assert a == b  # clips, manifest and checksums alike
    # The module's (larger) corpus starts with the same clips: a clip depends on
    # (seed, genre, index, artist), not on how many clips are made.
    wavs = [f"{g}/{g}.{i:05d}.wav" for g in GENRES for i in range(2)]
    assert sorted(p for p in a if p.endswith(".wav")) == sorted(wavs)
    assert all(a[rel] == (corpus.parent / rel).read_bytes() for rel in wavs)
    # Another seed gives other audio.
    other = _tree_bytes(make_synthetic_corpus(tmp_path / "other", n_per_genre=1, seed=1).parent)
    assert all(other[f"{g}/{g}.00000.wav"] != a[f"{g}/{g}.00000.wav"] for g in GENRES)


def test_regeneration_removes_extra_clips_and_keeps_other_files(tmp_path: Path) -> None:
    make_synthetic_corpus(tmp_path, n_per_genre=3, seconds=1.0)
    (tmp_path / "notes.txt").write_text("mine")
    make_synthetic_corpus(tmp_path, n_per_genre=2, seconds=1.0)
    assert len(list(tmp_path.rglob("*.wav"))) == 2 * len(GENRES)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert verify_synthetic_corpus(tmp_path)


def test_interrupted_generation_leaves_no_partial_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_synthetic_corpus(tmp_path, n_per_genre=2, seconds=1.0)
    render = synthetic._render
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(args)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return render(*args, **kwargs)

    monkeypatch.setattr(synthetic, "_render", interrupted)
    with pytest.raises(KeyboardInterrupt):
        make_synthetic_corpus(tmp_path, n_per_genre=3, seconds=1.0)
    # The old manifest and checksums no longer vouch for the half-rewritten folder, and
    # no temporary file is left behind.
    assert not (tmp_path / "manifest.csv").exists()
    assert not (tmp_path / "checksums.json").exists()
    assert not verify_synthetic_corpus(tmp_path)
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    for wav in tmp_path.rglob("*.wav"):
        assert sf.info(wav).frames == SR  # whole files only


# -- parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_per_genre": 0},
        {"n_per_genre": -3},
        {"n_per_genre": 2.5},
        {"n_per_genre": True},
        {"seconds": 0.5},
        {"seconds": float("nan")},
        {"seconds": "6"},
        {"seconds": 1e6},
        {"sr": 1000},
        {"sr": 22050.0},
        {"seed": -1},
        {"seed": "0"},
        {"n_artists_per_genre": 0},
    ],
)
def test_bad_parameters_raise(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ParameterError):
        make_synthetic_corpus(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_root_must_not_be_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ParameterError, match="not a folder"):
        make_synthetic_corpus(target, n_per_genre=1, seconds=1.0)


def test_signature_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        make_synthetic_corpus("x", 8)  # type: ignore[misc]


# -- the cached default corpus --------------------------------------------------------------


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corpus: Path) -> Path:
    """GENRE_DATA_HOME in tmp_path, holding a copy of the default corpus."""
    home = tmp_path / "home"
    shutil.copytree(corpus.parent, home / CORPUS_DIRNAME)
    monkeypatch.setenv("GENRE_DATA_HOME", str(home))
    return home


def test_default_root_follows_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENRE_DATA_HOME", str(tmp_path))
    assert synthetic.default_corpus_root() == tmp_path / f"synthetic-{synthetic.SYNTHETIC_VERSION}"
    monkeypatch.delenv("GENRE_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert synthetic.default_corpus_root() == tmp_path / "user" / ".cache" / "genre" / CORPUS_DIRNAME


def test_ensure_keeps_an_intact_corpus(data_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("an intact corpus was regenerated")

    monkeypatch.setattr(synthetic, "make_synthetic_corpus", fail)
    assert ensure_synthetic_corpus() == data_home / CORPUS_DIRNAME / "manifest.csv"
    dataset = load_dataset("synthetic")
    assert len(dataset.tracks) == len(GENRES) * N_PER_GENRE
    assert {t.group for t in dataset.tracks} == {f"{g}-artist-{a}" for g in GENRES for a in range(N_ARTISTS)}
    assert load_dataset(None).tracks == dataset.tracks


def test_ensure_regenerates_a_deleted_file(data_home: Path, corpus: Path) -> None:
    root = data_home / CORPUS_DIRNAME
    rel = f"{GENRES[1]}/{GENRES[1]}.00003.wav"
    (root / rel).unlink()
    assert not verify_synthetic_corpus(root)
    assert ensure_synthetic_corpus() == root / "manifest.csv"
    assert (root / rel).read_bytes() == (corpus.parent / rel).read_bytes()
    assert verify_synthetic_corpus(root)


@pytest.mark.parametrize("damage", ["flip", "truncate", "checksums", "manifest", "params"])
def test_ensure_regenerates_a_damaged_corpus(
    data_home: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    root = data_home / CORPUS_DIRNAME
    rel = f"{GENRES[0]}/{GENRES[0]}.00002.wav"
    if damage == "flip":  # same size, other bytes: only the checksum notices
        data = bytearray((root / rel).read_bytes())
        data[-100] ^= 0xFF
        (root / rel).write_bytes(bytes(data))
    elif damage == "truncate":
        (root / rel).write_bytes((root / rel).read_bytes()[:1000])
    elif damage == "checksums":
        (root / "checksums.json").unlink()
    elif damage == "manifest":
        (root / "manifest.csv").write_text("path,label\n")
    else:  # a corpus made with other parameters is not the default one
        shutil.rmtree(root)
        make_synthetic_corpus(root, n_per_genre=1, seconds=1.0)
    default_params = json.loads((corpus.parent / "checksums.json").read_text(encoding="utf-8"))["params"]
    assert not verify_synthetic_corpus(root, params=default_params)

    # Regeneration itself is tested above; here a copy of the module's corpus stands in
    # for it, to keep the suite fast.
    calls = []

    def regenerate(target, **kwargs):
        calls.append((Path(target), kwargs))
        shutil.rmtree(target)
        shutil.copytree(corpus.parent, target)
        return Path(target) / "manifest.csv"

    monkeypatch.setattr(synthetic, "make_synthetic_corpus", regenerate)
    assert ensure_synthetic_corpus() == root / "manifest.csv"
    assert calls == [(root, {})]
    assert _tree_bytes(root) == _tree_bytes(corpus.parent)


# -- usefulness as a genre dataset ------------------------------------------------------------


def _features(path: Path) -> tuple[np.ndarray, float]:
    """MFCC means, log spectral centroid and onset tempo of a clip, and its RMS in dB."""
    import librosa

    y, sr = sf.read(path, dtype="float32")
    # One short STFT per clip, shared by every feature, keeps the test fast.
    n_fft = 1024
    power = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=512)) ** 2
    log_mel = librosa.power_to_db(librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=64) @ power)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=13).mean(axis=1)
    magnitude = np.sqrt(power)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    centroid = float((freqs @ magnitude).sum() / magnitude.sum())
    onset = librosa.onset.onset_strength(S=log_mel, sr=sr)
    tempo = float(librosa.feature.tempo(onset_envelope=onset, sr=sr)[0])
    rms_db = 20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    return np.r_[mfcc, np.log(centroid), tempo], rms_db


def _nearest_centroid_accuracy(X: np.ndarray, y: np.ndarray, folds: np.ndarray) -> float:
    """Accuracy of a standardised nearest-centroid classifier, each fold held out in turn."""
    correct = 0
    for fold in np.unique(folds):
        test = folds == fold
        mean, std = X[~test].mean(axis=0), X[~test].std(axis=0) + 1e-9
        Z_train, Z_test = (X[~test] - mean) / std, (X[test] - mean) / std
        labels = np.unique(y[~test])
        centroids = np.stack([Z_train[y[~test] == label].mean(axis=0) for label in labels])
        distances = ((Z_test[:, None, :] - centroids[None]) ** 2).sum(axis=2)
        correct += int((labels[distances.argmin(axis=1)] == y[test]).sum())
    return correct / len(y)


def test_genres_are_separable_by_handcrafted_features_not_loudness(corpus: Path) -> None:
    pytest.importorskip("librosa")
    rows = _rows(corpus)
    features = [_features(corpus.parent / r["path"]) for r in rows]
    X = np.stack([f for f, _ in features])
    loudness = np.array([[rms] for _, rms in features])
    y = np.array([r["label"] for r in rows])
    groups = np.array([r["group"] for r in rows])

    leave_one_out = _nearest_centroid_accuracy(X, y, np.arange(len(y)))
    # Leave one artist out: a genre must be recognised from artists never seen.
    artist_folds = np.array([int(g.rsplit("-", 1)[1]) for g in groups])
    leave_artist_out = _nearest_centroid_accuracy(X, y, artist_folds)
    assert leave_one_out > 0.8, leave_one_out
    assert leave_artist_out > 0.8, leave_artist_out
    # Loudness alone stays near chance (1/6): the labels are not a gain difference.
    by_loudness = _nearest_centroid_accuracy(loudness, y, np.arange(len(y)))
    assert by_loudness < 0.5, by_loudness
