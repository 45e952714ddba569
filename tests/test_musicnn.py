"""The Keras port of the pretrained musicnn models against the original TF1 implementation.

``fixtures/musicnn_reference.npz`` holds outputs of the original ``musicnn==0.1.0`` extractor
(run in a throwaway environment; ``fixtures/musicnn_reference.json`` says how) for inputs
this module re-creates: a synthetic signal at 16 kHz and at 22.05 kHz, and two cuts of
GTZAN clips from the shared data folder.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from genre.errors import AudioError, ParameterError
from genre.features import musicnn
from genre.features.musicnn import MODELS, MusicnnEmbedder, musicnn_feature_columns

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = REPO.parent / "shared" / "data"

needs_musicnn = pytest.mark.skipif(
    importlib.util.find_spec("musicnn") is None,
    reason="musicnn weights not installed (pip install --no-deps musicnn==0.1.0)",
)

# Tolerances against the original. The port sums the same float32 products in another order
# (oneDNN kernels, a polyphase form of the temporal convolutions), and librosa 0.11 vs 0.10
# may differ in a mel value's last float32 bit, which the float16 rounding of the mel input
# can turn into one float16 step. Measured: taggram <= 3e-6 abs, other layers <= 2e-5 of the
# layer's largest value. Tags are probabilities, so an absolute bound; embeddings range up to
# ~100, so their absolute bound scales with the layer's largest reference value.
TAGGRAM_TOL = {"atol": 1e-4, "rtol": 1e-3}
EMBEDDING_RTOL, EMBEDDING_SCALED_ATOL = 1e-4, 1e-4


def synthetic_signal(*, sr: int, seconds: float) -> np.ndarray:
    """The reference's synthetic input: a modulated tone, a chirp and clicks (float64 maths)."""
    t = np.arange(int(round(seconds * sr)), dtype=np.float64) / sr
    tone = 0.25 * np.sin(2 * np.pi * 220.0 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    chirp = 0.15 * np.sin(2 * np.pi * (300.0 * t + 40.0 * t**2))
    clicks = 0.3 * np.exp(-40.0 * np.mod(t, 0.5)) * np.sin(2 * np.pi * 1800.0 * t)
    return (tone + chirp + clicks).astype(np.float32)


def _meta() -> dict:
    return json.loads((FIXTURES / "musicnn_reference.json").read_text())


def _reference_input(key: str) -> tuple[np.ndarray, int]:
    """Re-create the reference input ``key`` as the reference script fed it to the extractor."""
    spec = _meta()["inputs"][key]
    if spec["kind"] == "synthetic":
        return synthetic_signal(sr=spec["sr"], seconds=spec["seconds"]), spec["sr"]
    path = SHARED_DATA / spec["path"]
    if not path.is_file():
        pytest.skip(f"shared GTZAN clip not found at {path} (only on the project's machines)")
    import soundfile as sf

    y, sr = sf.read(path, dtype="float32", start=spec["start_sample"], frames=spec["n_samples"])
    return y, sr


def _kept(layer: str, values: np.ndarray, meta: dict) -> np.ndarray:
    """The columns of a layer the reference file keeps (it strides the wide layers to stay small)."""
    if layer in ("max_pool", "mean_pool"):
        return values[:, :: meta["pool_stride"]]
    if layer == "pool5":
        return values[:, :: meta["pool5_stride"]]
    return values


@pytest.fixture(scope="module")
def reference():
    with np.load(FIXTURES / "musicnn_reference.npz") as data:
        return {name: data[name] for name in data.files}


@needs_musicnn
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("key", ["synthetic_16000", "synthetic_22050", "blues_00000", "metal_00003"])
def test_matches_original_extractor(reference, key, model):
    y, sr = _reference_input(key)
    embedder = MusicnnEmbedder(model=model)
    out = embedder.embed(y=y, sr=sr)
    meta = _meta()
    for layer in embedder.layer_names:
        expected = reference[f"{key}/{model}/{layer}"]
        actual = _kept(layer, out[layer], meta)
        assert actual.shape == expected.shape, layer
        if layer == "taggram":
            np.testing.assert_allclose(actual, expected, **TAGGRAM_TOL, err_msg=f"{key} {model} {layer}")
        else:
            atol = EMBEDDING_SCALED_ATOL * float(np.abs(expected).max())
            np.testing.assert_allclose(actual, expected, rtol=EMBEDDING_RTOL, atol=atol,
                                       err_msg=f"{key} {model} {layer}")


@needs_musicnn
def test_output_shapes_and_patch_timing():
    y = synthetic_signal(sr=16000, seconds=10.0)  # 626 frames: patches at frames 0, 187, 374
    embedder = MusicnnEmbedder(model="MSD_musicnn")
    out = embedder.embed(y=y, sr=16000)
    assert set(out) == {"taggram", "max_pool", "mean_pool", "penultimate", "patch_starts"}
    assert embedder.layer_names == ("taggram", "max_pool", "mean_pool", "penultimate")
    assert out["taggram"].shape == (3, 50)
    assert out["max_pool"].shape == out["mean_pool"].shape == (3, 753)
    assert out["penultimate"].shape == (3, 200)
    assert all(v.dtype == np.float32 for k, v in out.items() if k != "patch_starts")
    np.testing.assert_allclose(out["patch_starts"], [0.0, 2.992, 5.984])
    assert embedder.patch_seconds == embedder.hop_seconds == pytest.approx(2.992)
    assert np.all((out["taggram"] > 0) & (out["taggram"] < 1))
    # mean <= max over the same frames, channel by channel
    assert np.all(out["mean_pool"] <= out["max_pool"] + 1e-6)


@needs_musicnn
def test_hop_and_batch_size_do_not_change_patches():
    y = synthetic_signal(sr=16000, seconds=10.0)
    plain = MusicnnEmbedder(model="MTT_musicnn").embed(y=y, sr=16000)
    # 1.536 s = 96 frames: starts 0, 96, ..., 384; batches of 2 split them unevenly
    hopped = MusicnnEmbedder(model="MTT_musicnn", hop_seconds=1.536, batch_size=2).embed(y=y, sr=16000)
    np.testing.assert_allclose(hopped["patch_starts"], np.arange(5) * 1.536)
    assert hopped["taggram"].shape == (5, 50)
    for layer in ("taggram", "penultimate", "max_pool"):
        np.testing.assert_allclose(hopped[layer][0], plain[layer][0], rtol=1e-5, atol=1e-5)


@needs_musicnn
def test_vgg_layers():
    y = synthetic_signal(sr=16000, seconds=3.5)
    embedder = MusicnnEmbedder(model="MTT_vgg")
    out = embedder.embed(y=y, sr=16000)
    assert embedder.layer_names == ("taggram", "pool5")
    assert out["taggram"].shape == (1, 50) and out["pool5"].shape == (1, 256)


@needs_musicnn
def test_tag_names():
    msd, mtt = MusicnnEmbedder(model="MSD_musicnn"), MusicnnEmbedder(model="MTT_vgg")
    assert len(msd.tag_names) == len(mtt.tag_names) == 50
    assert msd.tag_names[:3] == ("rock", "pop", "alternative")
    assert mtt.tag_names[:3] == ("guitar", "classical", "slow")


@needs_musicnn
def test_model_is_built_once_per_process():
    MusicnnEmbedder(model="MSD_musicnn").embed(y=synthetic_signal(sr=16000, seconds=3.0), sr=16000)
    hits = musicnn._predictor.cache_info().hits
    MusicnnEmbedder(model="MSD_musicnn").embed(y=synthetic_signal(sr=16000, seconds=3.0), sr=16000)
    assert musicnn._predictor.cache_info().hits == hits + 1


@needs_musicnn
def test_clip_shorter_than_one_patch():
    embedder = MusicnnEmbedder(model="MSD_musicnn")
    shortest = 186 * 256  # 187 centred frames need 186 hops: 2.976 s at 16 kHz
    assert embedder.embed(y=np.zeros(shortest, np.float32), sr=16000)["taggram"].shape == (1, 50)
    with pytest.raises(AudioError, match="shorter than one musicnn patch"):
        embedder.embed(y=np.zeros(shortest - 1, np.float32), sr=16000)
    with pytest.raises(AudioError, match="shorter"):
        embedder.embed(y=synthetic_signal(sr=44100, seconds=1.0), sr=44100)


@needs_musicnn
def test_bad_waveforms():
    embedder = MusicnnEmbedder(model="MSD_musicnn")
    with pytest.raises(AudioError, match="1-D"):
        embedder.embed(y=np.zeros((2, 64000), np.float32), sr=16000)
    y = synthetic_signal(sr=16000, seconds=4.0)
    y[100] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        embedder.embed(y=y, sr=16000)


@needs_musicnn
@pytest.mark.parametrize("kwargs", [{"model": "MSD_musicnn_big"}, {"batch_size": 0}, {"hop_seconds": 0.001},
                                    {"hop_seconds": float("nan")}, {"hop_seconds": "fast"}])
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        MusicnnEmbedder(**kwargs)


@needs_musicnn
def test_bad_sample_rate():
    with pytest.raises(ParameterError, match="sample rate"):
        MusicnnEmbedder().embed(y=synthetic_signal(sr=16000, seconds=4.0), sr=0)


@pytest.mark.parametrize("length", [128, 64, 32, 7])
def test_temporal_conv_equals_plain_same_convolution(length):
    keras = musicnn._keras()
    temporal_conv, _ = musicnn._front_end_layers()
    rng = np.random.default_rng(length)
    x = rng.standard_normal((2, 187, 96, 1)).astype(np.float32)
    fast, plain = temporal_conv(5, length), keras.layers.Conv2D(5, (length, 1), padding="same")
    fast.build(x.shape)
    plain.build(x.shape)
    weights = [rng.standard_normal(w.shape).astype(np.float32) for w in plain.weights]
    fast.set_weights(weights)
    plain.set_weights(weights)
    np.testing.assert_allclose(np.asarray(fast(x)), np.asarray(plain(x)), rtol=1e-4, atol=1e-4)


def test_frequency_max_bn_equals_bn_then_max():
    keras = musicnn._keras()
    _, frequency_max_bn = musicnn._front_end_layers()
    rng = np.random.default_rng(1)
    z = rng.standard_normal((2, 11, 9, 6)).astype(np.float32)
    fast, plain = frequency_max_bn(), keras.layers.BatchNormalization(epsilon=1e-3)
    fast.build(z.shape)
    plain.build(z.shape)
    gamma = np.array([1.5, -0.7, 0.0, 2.0, -3.0, 0.3], np.float32)  # both signs and zero
    weights = [gamma, rng.standard_normal(6), rng.standard_normal(6), rng.uniform(0.5, 2, 6)]
    weights = [w.astype(np.float32) for w in weights]
    fast.set_weights(weights)
    plain.set_weights(weights)
    expected = np.asarray(plain(np.maximum(z, 0), training=False)).max(axis=2)
    np.testing.assert_allclose(np.asarray(fast(z, training=False)), expected, rtol=1e-6, atol=1e-6)


def test_missing_package_names_the_install_command(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(musicnn.importlib.util, "find_spec",
                        lambda name, *a: None if name == "musicnn" else real_find_spec(name, *a))
    with pytest.raises(ParameterError, match=r"pip install --no-deps musicnn==0\.1\.0"):
        MusicnnEmbedder(model="MSD_musicnn")


def test_feature_columns():
    columns = musicnn_feature_columns("MSD_musicnn", ["max_pool", "penultimate"])
    assert len(columns) == 753 + 200
    assert columns[0] == "musicnn_max_pool_001" and columns[752] == "musicnn_max_pool_753"
    assert columns[753] == "musicnn_penultimate_001"
    assert musicnn_feature_columns("MTT_musicnn", "max_pool") == columns[:753]  # MSD and MTT share names
    assert musicnn_feature_columns("MSD_vgg", ["pool5"])[-1] == "musicnn_pool5_256"
    with pytest.raises(ParameterError, match="no layer"):
        musicnn_feature_columns("MSD_vgg", ["max_pool"])
    with pytest.raises(ParameterError, match="unknown musicnn model"):
        musicnn_feature_columns("nope", ["taggram"])
