"""The in-fold mel-spectrogram CNN: scikit-learn contract, embedding, no leakage, mel cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import tone
from sklearn.base import clone

from genre.errors import AudioError, ParameterError

#: A network small enough to train in a second or two on a busy CPU.
TINY = dict(
    filters=(4, 8), dense_units=8, n_mels=32, patch_frames=43, max_epochs=2, patience=1, batch_size=8
)
CLIP_SECONDS = 3.0


def write_clips(root, *, per_class: int = 4) -> pd.DataFrame:
    """Tones vs noise, ``per_class`` clips each; returns one segment row per second."""
    import soundfile as sf

    sr = 22050
    rows = []
    for label in ("tone", "noise"):
        for i in range(per_class):
            path = root / label / f"{label}.{i:05d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            if label == "tone":
                y = tone(CLIP_SECONDS, sr=sr, freq=220.0 * (i + 1), seed=i)
            else:
                y = (0.2 * np.random.default_rng(i).standard_normal(int(CLIP_SECONDS * sr))).astype(np.float32)
            sf.write(path, y, sr)
            for start in (0.0, 1.0, 2.0):
                rows.append({"path": str(path), "track": f"{label}/{path.stem}", "start": start, "label": label})
    return pd.DataFrame(rows)


@pytest.fixture
def clips(tmp_path):
    from genre.classifiers.cnn import _FITTED
    from genre.features.melpatches import clear_memory_cache

    _FITTED.clear()
    clear_memory_cache()
    return write_clips(tmp_path / "audio")


def test_sklearn_contract(clips):
    from genre.classifiers.cnn import MelCNNClassifier

    model = MelCNNClassifier(**TINY)
    assert model.get_params()["filters"] == (4, 8) and not hasattr(model, "model_")
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    X, y = clips[["path", "start", "track"]], clips["label"].to_numpy()
    assert model.fit(X, y) is model
    assert list(model.classes_) == ["noise", "tone"]
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= {"noise", "tone"}
    assert not hasattr(clone(model), "model_")  # a clone is unfitted
    with pytest.raises(ParameterError, match="segment ids"):
        model.fit(np.zeros((4, 3)), ["a", "b", "a", "b"])


def test_registered_embedding_pipelines(clips):
    from genre.classifiers.registry import get_spec, make_model

    assert get_spec("cnn").input == "audio" and get_spec("cnn-svm").input == "audio"
    X, y = clips[["path", "start", "track"]], clips["label"].to_numpy()
    pipeline = make_model("cnn-svm", **TINY)
    # The head is exactly what the svm spec builds, after the in-fold embedding.
    assert [name for name, _ in pipeline.steps] == ["embed"] + [n for n, _ in make_model("svm").steps]
    pipeline.fit(X, y)
    embedding = pipeline.named_steps["embed"].transform(X)
    assert embedding.shape == (len(X), TINY["dense_units"])
    assert pipeline.predict_proba(X).shape == (len(X), 2)


def test_embedding_never_sees_test_tracks(clips, tmp_path, monkeypatch):
    """Cross-validated cnn-svm fits the CNN on training-fold rows only."""
    from genre.classifiers.cnn import MelCNNEmbedding
    from genre.evaluation import cross_validate_models
    from genre.features.table import load_feature_table

    table_path = tmp_path / "features.csv"
    frame = clips.assign(segment=clips.groupby("track").cumcount(), group="", f1=np.arange(len(clips)) % 3)
    frame[["path", "track", "segment", "start", "label", "group", "f1"]].to_csv(table_path, index=False)
    seen: list[set[str]] = []
    original = MelCNNEmbedding.fit

    def spy(self, X, y, groups=None):
        seen.append(set(X["track"]))
        return original(self, X, y, groups)

    monkeypatch.setattr(MelCNNEmbedding, "fit", spy)
    results = cross_validate_models(
        load_feature_table(table_path), ["cnn-svm"], folds=2, jobs=1, progress=False,
        model_params={"cnn-svm": TINY},
    )  # fmt: skip
    assert len(seen) == 2
    for fitted_on, split in zip(seen, results.splits):
        assert fitted_on and not fitted_on & set(split.test_tracks)
    assert results.models[0].input.startswith("features.csv (audio")


def test_mel_cache_is_reused(clips, monkeypatch):
    import genre.features.melpatches as mel

    calls = []
    compute = mel._compute
    monkeypatch.setattr(mel, "_compute", lambda path, config: calls.append(path) or compute(path, config))
    config = mel.MelConfig(n_mels=32, patch_frames=43)
    one = clips[clips["track"] == clips["track"].iloc[0]]
    first = mel.fetch_patches(one["path"], one["start"], config=config)
    assert first.shape == (3, 32, 43) and len(calls) == 1  # one STFT for the clip's three patches
    mel.fetch_patches(one["path"], one["start"], config=config)
    mel.clear_memory_cache()
    again = mel.fetch_patches(one["path"], one["start"], config=config)  # from the disk cache
    assert len(calls) == 1 and np.array_equal(first, again)
    assert list(mel.mel_cache_dir().glob("*.npy"))
    mel.fetch_patches(one["path"], one["start"], config=mel.MelConfig(n_mels=16, patch_frames=43))
    assert len(calls) == 2  # other settings, other cache entry


def test_bad_audio_raises_audio_error(tmp_path):
    from genre.features.melpatches import fetch_patches

    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(AudioError, match="bad.wav"):
        fetch_patches([bad], [0.0])
    with pytest.raises(AudioError, match="no such file"):
        fetch_patches([tmp_path / "missing.wav"], [0.0])


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(fmin=float("nan")), "mel fmin=nan: must be a finite number"),
        (dict(fmax=float("inf")), "mel fmax=inf: must be a finite number"),
        (dict(sr=float("nan")), "mel sr=nan: must be a finite number"),  # was a bare ValueError from int()
        (dict(fmin=-1.0), "mel fmin=-1.0: must lie in [0, sr / 2 = 11025) Hz"),
        (dict(fmin=11025.0), "mel fmin=11025.0: must lie in [0, sr / 2 = 11025) Hz"),  # nothing left below sr / 2
        (dict(fmin=4000.0, fmax=2000.0), "mel fmax=2000.0: must lie in (fmin = 4000, sr / 2 = 11025] Hz"),
        (dict(fmin=4000.0, fmax=4000.0), "mel fmax=4000.0: must lie in (fmin = 4000"),
        (dict(fmax=12000.0), "mel fmax=12000.0: must lie in (fmin = 0, sr / 2 = 11025] Hz"),
    ],
)
def test_mel_config_refuses_non_finite_or_empty_frequency_ranges(settings, message):
    import re

    from genre.features.melpatches import MelConfig

    with pytest.raises(ParameterError, match=re.escape(message)):
        MelConfig(**settings)


def test_mel_config_accepts_the_whole_band():
    from genre.features.melpatches import MelConfig

    assert MelConfig(fmin=30.0, fmax=11025.0).fmax == 11025.0  # fmax may be sr / 2 itself
    assert MelConfig(fmin=30.0).fmax == 0.0  # 0: sr / 2
