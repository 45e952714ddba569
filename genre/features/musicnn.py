"""Pretrained musicnn embeddings, re-implemented in Keras 3.

musicnn (Pons & Serra, 2019) is a family of CNN music taggers trained on the Million Song
Dataset (``MSD_*``) and MagnaTagATune (``MTT_*``). The PyPI package ``musicnn==0.1.0``
ships their TensorFlow 1 checkpoints, but its own code no longer runs on current
numpy / Keras. This module rebuilds the networks layer for layer in Keras 3 and loads the
checkpoint variables of the *installed* package (nothing is ever downloaded):

- ``MSD_musicnn``, ``MTT_musicnn``: musically motivated front end (timbral 7x38 and 7x67
  filters, temporal 128/64/32x1 filters, each max-pooled over frequency), a mid end of
  three 1-D convolutions with residual connections, a back end of max + mean pooling over
  time, a 200-unit dense layer and 50 sigmoid tag outputs.
- ``MSD_vgg``, ``MTT_vgg``: five 3x3 convolution + pooling blocks, 50 sigmoid outputs.

Audio is cut into 187-frame (~3 s) log-mel patches at 16 kHz, exactly as the original
extractor does, and every patch gives one row of embeddings.

The package is installed without its (obsolete) dependencies::

    pip install --no-deps musicnn==0.1.0
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

import numpy as np

from genre.errors import AudioError, ModelFileError, ParameterError
from genre.tensorflow_quiet import import_keras_on_tensorflow, import_tensorflow

__all__ = [
    "MODELS",
    "MusicnnEmbedder",
    "log_mel",
    "musicnn_feature_columns",
    "musicnn_layer_names",
    "musicnn_layer_sizes",
    "tag_names",
]

#: Analysis parameters the checkpoints were trained with (musicnn's configuration.py).
SR = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
#: Frames per input patch: musicnn's ``time_to_frames(3 s) + 1``, i.e. 2.992 s of audio.
PATCH_FRAMES = 187

#: Models this module can rebuild, in the package's folder names.
MODELS: tuple[str, ...] = ("MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg")

INSTALL_HINT = "pip install --no-deps musicnn==0.1.0"

_MUSICNN_LAYERS = ("taggram", "max_pool", "mean_pool", "penultimate")
_VGG_LAYERS = ("taggram", "pool5")
# musicnn widths: front end 2 x 204 timbral + 3 x 51 temporal = 561, plus 3 x 64 mid end.
_LAYER_SIZES = {
    "musicnn": {"taggram": 50, "max_pool": 753, "mean_pool": 753, "penultimate": 200},
    "vgg": {"taggram": 50, "pool5": 256},
}
_BN_EPSILON = 1e-3  # tf.compat.v1.layers.batch_normalization default, used by every musicnn BN


def _family(model: str) -> str:
    """``"musicnn"`` or ``"vgg"``; raises ParameterError for an unknown model name."""
    if model not in MODELS:
        raise ParameterError(f"unknown musicnn model {model!r}; choose one of {', '.join(MODELS)}")
    return "vgg" if model.endswith("_vgg") else "musicnn"


def musicnn_layer_names(model: str) -> tuple[str, ...]:
    """Per-patch output layers of ``model``, in the order :meth:`MusicnnEmbedder.embed` returns them."""
    return _MUSICNN_LAYERS if _family(model) == "musicnn" else _VGG_LAYERS


def musicnn_layer_sizes(model: str) -> dict[str, int]:
    """Width (values per patch) of each output layer of ``model``."""
    return dict(_LAYER_SIZES[_family(model)])


def musicnn_feature_columns(model: str, layers) -> list[str]:
    """Stable CSV column names of the embedding layers ``layers`` of ``model``.

    Parameters
    ----------
    model : str
        One of :data:`MODELS`. The names do not depend on the training set (MSD / MTT), only
        on the architecture, so tables of MSD and MTT embeddings have the same columns.
    layers : iterable of str
        Layers out of :func:`musicnn_layer_names`, in the order the columns should appear.

    Returns
    -------
    list of str
        ``musicnn_<layer>_<NNN>`` with a 1-based, zero-padded index, e.g. ``musicnn_max_pool_001``.
    """
    sizes = musicnn_layer_sizes(model)
    layers = [layers] if isinstance(layers, str) else list(layers)
    if not layers:
        raise ParameterError("no musicnn layers requested")
    columns = []
    for layer in layers:
        if layer not in sizes:
            raise ParameterError(f"model {model} has no layer {layer!r}; choose from {', '.join(sizes)}")
        columns.extend(f"musicnn_{layer}_{i:03d}" for i in range(1, sizes[layer] + 1))
    return columns


# --------------------------------------------------------------------------- the package's files


def _package_dir() -> Path:
    """Folder of the installed ``musicnn`` package, found without importing it (its imports are obsolete)."""
    try:
        spec = importlib.util.find_spec("musicnn")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        raise ParameterError(f"musicnn embeddings need the pretrained weights of the musicnn package: {INSTALL_HINT}")
    return Path(spec.origin).parent


def checkpoint_dir(model: str) -> Path:
    """Folder holding ``model``'s TensorFlow checkpoint inside the installed package."""
    _family(model)
    folder = _package_dir() / model
    if not (folder / ".index").is_file():
        raise ParameterError(f"the installed musicnn package has no {model} checkpoint in {folder}; "
                             f"reinstall it: {INSTALL_HINT}")
    return folder


@functools.lru_cache(maxsize=None)
def tag_names(model: str) -> tuple[str, ...]:
    """The 50 tags of ``model``'s taggram, read from the package's configuration.py.

    The file is parsed, not imported, so no third-party code runs.
    """
    prefix = model.split("_")[0]  # "MSD" or "MTT"
    _family(model)
    path = _package_dir() / "configuration.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError) as exc:
        raise ModelFileError(f"{path}: cannot read the musicnn tag names ({exc})") from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == f"{prefix}_LABELS" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise ModelFileError(f"{path}: no {prefix}_LABELS list; is this musicnn 0.1.0?")


# --------------------------------------------------------------------------- log-mel front end


def log_mel(*, y: np.ndarray) -> np.ndarray:
    """musicnn's input representation of a 16 kHz waveform.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono waveform at 16 kHz, full scale = 1.

    Returns
    -------
    np.ndarray, shape (1 + n_samples // 256, 96), float32
        ``log10(10000 * mel_power + 1)`` per centred 512-sample frame (hop 256 samples = 16 ms).
    """
    import librosa

    stft = librosa.stft(np.asarray(y, dtype=np.float32), n_fft=N_FFT, hop_length=HOP_LENGTH)
    power = (stft.real**2 + stft.imag**2).astype(np.float32)
    from genre.features.descriptors import mel_filters

    mel = (mel_filters(sr=SR, n_fft=N_FFT, n_mels=N_MELS) @ power).T
    # The original extractor stores the mel power as float16 before the log; keep that
    # rounding so our inputs (and outputs) match the reference to float32 precision. Audio
    # within full scale stays below ~900; the clip only saves far louder input from inf.
    mel = np.minimum(mel, np.finfo(np.float16).max).astype(np.float16).astype(np.float32)
    return np.log10(np.float32(10000.0) * mel + np.float32(1.0))


def patch_starts_frames(n_frames: int, *, hop_frames: int) -> np.ndarray:
    """First frame of every whole patch in a spectrogram of ``n_frames`` frames (like musicnn's batch_data)."""
    return np.arange(0, n_frames - PATCH_FRAMES + 1, hop_frames)


# --------------------------------------------------------------------------- Keras models


def _keras():
    """Import Keras quietly; the checkpoint maths below need the TensorFlow backend."""
    keras = import_keras_on_tensorflow()
    if keras.backend.backend() != "tensorflow":
        raise ParameterError(f"musicnn embeddings need the TensorFlow Keras backend, not {keras.backend.backend()!r} "
                             "(unset KERAS_BACKEND)")
    return keras


def _bn(keras, name):
    # Layer names equal the checkpoint's variable scopes: the loader matches them by name.
    return keras.layers.BatchNormalization(epsilon=_BN_EPSILON, name=name)


@functools.lru_cache(maxsize=1)
def _front_end_layers():
    """The two custom front-end layers, defined on first use so importing this module stays light.

    Both compute exactly what the TF1 graph computes, only faster: the front end's
    single-channel convolutions and full-size batch norms are ~90 % of musicnn's run time.
    """
    keras = _keras()
    ops = keras.ops

    class TemporalConv(keras.layers.Conv2D):
        """A (k, 1) convolution along time with "same" padding, run as a polyphase convolution.

        With one input channel a long kernel along time is slow in oneDNN (1.5 GMAC/s on one
        core). Folding every ``block`` consecutive frames into channels turns it into a short
        convolution with ``block`` input and ``block * filters`` output channels, which runs
        near matrix-multiply speed; the kernel is rearranged from the checkpoint's (k, 1, 1,
        filters) weights on each call (a cheap gather), so weights load as for any Conv2D.
        """

        def __init__(self, filters, length, *, block=16, **kwargs):
            super().__init__(filters, (length, 1), padding="same", activation=None, **kwargs)
            self.length, self.block = int(length), int(block)
            # taps[j, s, l] = index into the kernel (or `length`, a zero row) linking input
            # frame block*(b+j)+s to output frame block*b+l of the padded sequence.
            j, s, l = np.meshgrid(np.arange(self.n_taps), np.arange(block), np.arange(block), indexing="ij")
            tap = block * j + s - l
            self._taps = np.where((tap >= 0) & (tap < length), tap, length).astype("int32")

        @property
        def n_taps(self):
            return (self.length + self.block - 2) // self.block + 1

        def call(self, inputs):  # (batch, time, freq, 1)
            n_time, n_freq = inputs.shape[1], inputs.shape[2]
            block, filters = self.block, self.filters
            n_blocks = -(-n_time // block)
            before = (self.length - 1) // 2  # TensorFlow's "same": the extra zero goes after
            after = (n_blocks + self.n_taps - 1) * block - n_time - before
            x = ops.pad(inputs[..., 0], [(0, 0), (before, after), (0, 0)])
            x = ops.reshape(x, (-1, n_blocks + self.n_taps - 1, block, n_freq))
            x = ops.transpose(x, (0, 1, 3, 2))  # (batch, blocks, freq, frame-in-block)
            kernel = ops.concatenate([ops.reshape(self.kernel, (self.length, filters)),
                                      ops.zeros((1, filters), self.kernel.dtype)])
            kernel = ops.reshape(ops.take(kernel, self._taps, axis=0),
                                 (self.n_taps, 1, block, block * filters))
            y = ops.conv(x, kernel, padding="valid")  # (batch, blocks, freq, block * filters)
            y = ops.reshape(y, (-1, n_blocks, n_freq, block, filters))
            y = ops.reshape(ops.transpose(y, (0, 1, 3, 2, 4)), (-1, n_blocks * block, n_freq, filters))
            return y[:, :n_time] + self.bias

    class FrequencyMaxBN(keras.layers.BatchNormalization):
        """relu, then batch norm, then max over frequency (axis 2): (b, t, f, c) -> (b, t, c).

        At inference batch norm is a per-channel affine map, increasing where gamma > 0 and
        decreasing where gamma < 0, and relu is increasing; so the frequency maximum of
        bn(relu(z)) is bn(relu(max z)) or bn(relu(min z)), element for element the same
        floats. Pooling first spares normalising the whole time-frequency map.
        """

        def __init__(self, **kwargs):
            super().__init__(epsilon=_BN_EPSILON, **kwargs)

        def call(self, inputs, training=None, mask=None):
            extremes = ops.stack([ops.max(inputs, axis=2), ops.min(inputs, axis=2)], axis=2)
            normed = super().call(ops.relu(extremes), training=False)  # (b, t, 2, c)
            return ops.where(self.gamma >= 0, normed[:, :, 0], normed[:, :, 1])

        def compute_output_shape(self, input_shape):
            return (input_shape[0], input_shape[1], input_shape[3])

    return TemporalConv, FrequencyMaxBN


def _build_musicnn(keras, *, n_tags=50, midend_filters=64, backend_units=200):
    """Keras functional graph of musicnn with outputs taggram, max_pool, mean_pool, penultimate.

    The TF1 graph's layers were created in this order, so ``conv2d``, ``conv2d_1``, ...
    and ``batch_normalization``, ``batch_normalization_1``, ... follow it.
    """
    layers, ops = keras.layers, keras.ops
    TemporalConv, FrequencyMaxBN = _front_end_layers()
    x_in = keras.Input(shape=(PATCH_FRAMES, N_MELS), name="log_mel")
    x = layers.Reshape((PATCH_FRAMES, N_MELS, 1), name="add_channel")(x_in)
    x = _bn(keras, "batch_normalization")(x)

    # Front end, each branch: conv, relu, batch norm, max over frequency. Timbral filters span
    # 38 / 67 mel bands (0.4 / 0.7 of 96); time is zero-padded by 3 on each side so the output
    # keeps 187 frames ("same" in time, "valid" in frequency). Temporal filters span 128 / 64
    # / 32 frames of one band.
    padded = layers.ZeroPadding2D(((3, 3), (0, 0)), name="pad_timbral")(x)
    convs = [layers.Conv2D(204, (7, 38), name="conv2d")(padded),
             layers.Conv2D(204, (7, 67), name="conv2d_1")(padded)]
    convs += [TemporalConv(51, length, name=f"conv2d_{i}")(x) for i, length in [(2, 128), (3, 64), (4, 32)]]
    branches = [FrequencyMaxBN(name=f"batch_normalization_{i + 1}")(conv) for i, conv in enumerate(convs)]
    front = layers.Concatenate(axis=-1, name="front_end")(branches)  # (batch, 187, 561)

    # Mid end. The TF1 code ran 2-D convolutions whose kernel spans all channels, which is a
    # 1-D convolution over time with "same" padding (3 zeros each side for the 7-frame kernel).
    mid = [front]
    h = front
    for i in range(3):
        conv = layers.Conv1D(midend_filters, 7, padding="same", activation="relu", name=f"conv2d_{5 + i}")(h)
        conv = _bn(keras, f"batch_normalization_{6 + i}")(conv)
        h = conv if i == 0 else layers.Add(name=f"residual_{i}")([conv, h])
        mid.append(h)
    features = layers.Concatenate(axis=-1, name="mid_end")(mid)  # (batch, 187, 753)

    # Back end. TF1 concatenated max and mean as (channels, 2) and flattened, so the dense
    # layer expects them interleaved: max_0, mean_0, max_1, mean_1, ...
    max_pool = layers.Lambda(lambda t: ops.max(t, axis=1), name="max_pool")(features)
    mean_pool = layers.Lambda(lambda t: ops.mean(t, axis=1), name="mean_pool")(features)
    pooled = layers.Lambda(lambda p: ops.reshape(ops.stack(p, axis=-1), (-1, 2 * p[0].shape[-1])),
                           name="interleave")([max_pool, mean_pool])
    pooled = _bn(keras, "batch_normalization_9")(pooled)
    dense = layers.Dense(backend_units, activation="relu", name="dense")(pooled)
    penultimate = _bn(keras, "batch_normalization_10")(dense)
    taggram = layers.Dense(n_tags, activation="sigmoid", name="dense_1")(penultimate)
    outputs = {"taggram": taggram, "max_pool": max_pool, "mean_pool": mean_pool, "penultimate": penultimate}
    return keras.Model(x_in, outputs, name="musicnn")


def _build_vgg(keras, *, n_tags=50, filters=128):
    """Keras functional graph of musicnn's VGG baseline with outputs taggram and pool5 (flattened)."""
    layers = keras.layers
    x_in = keras.Input(shape=(PATCH_FRAMES, N_MELS), name="log_mel")
    h = layers.Reshape((PATCH_FRAMES, N_MELS, 1), name="add_channel")(x_in)
    h = _bn(keras, "batch_normalization")(h)
    pools = [((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4))]
    for i, (pool, strides) in enumerate(pools):
        h = layers.Conv2D(filters, (3, 3), padding="same", activation="relu", name=f"{i + 1}CNN")(h)
        h = _bn(keras, f"batch_normalization_{i + 1}")(h)
        h = layers.MaxPooling2D(pool, strides=strides, padding="valid", name=f"pool{i + 1}")(h)
    pool5 = layers.Flatten(name="pool5_flat")(h)  # (2 time, 1 freq, 128 ch) -> 256, time-major
    taggram = layers.Dense(n_tags, activation="sigmoid", name="dense")(pool5)
    return keras.Model(x_in, {"taggram": taggram, "pool5": pool5}, name="vgg")


def _load_checkpoint(keras, model, folder: Path) -> None:
    """Copy the checkpoint's variables into the Keras layers of the same name; every one must be used."""
    from tensorflow.python.training.py_checkpoint_reader import NewCheckpointReader

    try:
        reader = NewCheckpointReader(str(folder) + "/")  # the checkpoint prefix is the folder itself
    except Exception as exc:  # noqa: BLE001 - TF raises assorted errors for a damaged checkpoint
        raise ModelFileError(f"{folder}: cannot read the musicnn checkpoint ({exc})") from None
    shapes = reader.get_variable_to_shape_map()
    # Adam slots and the optimiser's beta powers are training state, not model weights.
    unused = {name for name in shapes if "Adam" not in name and name not in ("beta1_power", "beta2_power")}
    for layer in model.layers:
        if not layer.weights:
            continue
        if isinstance(layer, keras.layers.BatchNormalization):
            names = ("gamma", "beta", "moving_mean", "moving_variance")
        else:
            names = ("kernel", "bias")
        values = []
        for name, weight in zip(names, layer.weights):
            key = f"{layer.name}/{name}"
            if key not in shapes:
                raise ModelFileError(f"{folder}: checkpoint has no variable {key}; is this musicnn 0.1.0?")
            value = reader.get_tensor(key)
            # Mid-end kernels are stored 2-D, (7, channels, 1, filters); Conv1D wants (7, channels, filters):
            # shapes must agree once unit axes are dropped.
            if [d for d in value.shape if d != 1] != [d for d in weight.shape if d != 1]:
                raise ModelFileError(f"{folder}: {key} has shape {list(value.shape)}, expected {list(weight.shape)}")
            values.append(value.reshape(weight.shape))
            unused.discard(key)
        layer.set_weights(values)
    if unused:
        raise ModelFileError(f"{folder}: checkpoint variables not used by the port: {', '.join(sorted(unused))}")


@functools.lru_cache(maxsize=None)
def _predictor(model_name: str):
    """Build, load and trace ``model_name`` once per process; returns a function patches -> dict of arrays."""
    folder = checkpoint_dir(model_name)
    keras = _keras()
    tf = import_tensorflow()

    model = _build_musicnn(keras) if _family(model_name) == "musicnn" else _build_vgg(keras)
    _load_checkpoint(keras, model, folder)

    # One traced graph for every batch size: Keras' predict() would rebuild a dataset per call.
    @tf.function(input_signature=[tf.TensorSpec([None, PATCH_FRAMES, N_MELS], tf.float32)])
    def predict(patches):
        return model(patches, training=False)  # batch norm uses the checkpoint's moving statistics

    return predict


# --------------------------------------------------------------------------- public embedder


def _hop_frames(hop_seconds) -> int:
    """A patch hop in seconds as whole STFT frames (16 ms); at least one frame."""
    try:
        frames = float(hop_seconds) * SR / HOP_LENGTH
    except (TypeError, ValueError):
        frames = float("nan")
    if not np.isfinite(frames) or round(frames) < 1:
        raise ParameterError(f"hop_seconds must be a number of at least {HOP_LENGTH / SR} s, got {hop_seconds!r}")
    return int(round(frames))


class MusicnnEmbedder:
    """Per-patch embeddings and tag probabilities from a pretrained musicnn model.

    Parameters
    ----------
    model : str
        One of :data:`MODELS`: ``"MSD_musicnn"`` (Million Song Dataset tags, default),
        ``"MTT_musicnn"`` (MagnaTagATune), ``"MSD_vgg"`` or ``"MTT_vgg"``.
    batch_size : int
        Patches per forward pass. It changes memory (~40 MB per patch for musicnn), not the
        results; small batches stay in the CPU caches and run fastest (see
        ``benchmarks/musicnn_speed.py --batch-size``).
    hop_seconds : float or None
        Step between patch starts in seconds, rounded to whole 16 ms frames; ``None`` uses
        the patch length (187 frames = 2.992 s: non-overlapping patches, like musicnn's default).

    Raises
    ------
    ParameterError
        Unknown model, bad batch size or hop, or the ``musicnn`` package (which holds the
        weights) is not installed.

    Notes
    -----
    The Keras model is built on first use and cached per model name for the whole process.
    """

    def __init__(self, *, model: str = "MSD_musicnn", batch_size: int = 4, hop_seconds: float | None = None):
        _family(model)
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
            raise ParameterError(f"batch_size must be a positive integer, got {batch_size!r}")
        hop_frames = PATCH_FRAMES if hop_seconds is None else _hop_frames(hop_seconds)
        checkpoint_dir(model)  # fail now, with the install hint, rather than at the first clip
        self.model = model
        self.batch_size = int(batch_size)
        self.hop_frames = hop_frames

    @property
    def tag_names(self) -> tuple[str, ...]:
        """Names of the taggram's columns (50 tags)."""
        return tag_names(self.model)

    @property
    def layer_names(self) -> tuple[str, ...]:
        """Layers :meth:`embed` returns, besides ``patch_starts``."""
        return musicnn_layer_names(self.model)

    @property
    def patch_seconds(self) -> float:
        """Audio covered by one patch in seconds (187 frames x 16 ms = 2.992 s)."""
        return PATCH_FRAMES * HOP_LENGTH / SR

    @property
    def hop_seconds(self) -> float:
        """Step between patch starts in seconds."""
        return self.hop_frames * HOP_LENGTH / SR

    def embed(self, *, y: np.ndarray, sr: int) -> dict[str, np.ndarray]:
        """Embed every whole patch of a clip.

        Parameters
        ----------
        y : np.ndarray, shape (n_samples,)
            Mono waveform, full scale = 1.
        sr : int
            Its sample rate in Hz; resampled to 16 kHz (soxr, high quality) only when different.

        Returns
        -------
        dict of str to np.ndarray
            For each of :attr:`layer_names` a float32 array with one row per patch: musicnn
            models give ``taggram`` (n_patches, 50) tag probabilities, ``max_pool`` and
            ``mean_pool`` (n_patches, 753) mid-end activations pooled over the patch's time,
            ``penultimate`` (n_patches, 200); VGG models give ``taggram`` and ``pool5``
            (n_patches, 256). ``patch_starts`` (n_patches,) is each patch's start in seconds.
            A trailing part shorter than a patch is not embedded.

        Raises
        ------
        AudioError
            The clip is not a finite mono signal or is shorter than one patch (~2.98 s).
        ParameterError
            ``sr`` is not a positive integer.
        """
        patches, starts = self._patches(y=y, sr=sr)
        predict = _predictor(self.model)
        chunks = [predict(patches[i:i + self.batch_size]) for i in range(0, len(patches), self.batch_size)]
        out = {layer: np.concatenate([c[layer].numpy() for c in chunks]).astype(np.float32, copy=False)
               for layer in self.layer_names}
        out["patch_starts"] = starts * (HOP_LENGTH / SR)
        return out

    def _patches(self, *, y, sr) -> tuple[np.ndarray, np.ndarray]:
        """Log-mel patches (n, 187, 96) of the clip and their first frames, one STFT for the whole clip."""
        y = np.asarray(y)
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.floating):
            raise AudioError(f"expected a 1-D floating-point waveform, got shape {y.shape} and dtype {y.dtype}")
        if not np.all(np.isfinite(y)):
            raise AudioError("the waveform holds NaN or infinite samples")
        if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
            raise ParameterError(f"sr must be a positive integer sample rate in Hz, got {sr!r}")
        if int(sr) != SR:
            import soxr

            y = soxr.resample(y.astype(np.float32), int(sr), SR, quality="HQ")
        mel = log_mel(y=y)
        starts = patch_starts_frames(len(mel), hop_frames=self.hop_frames)
        if len(starts) == 0:
            shortest = (PATCH_FRAMES - 1) * HOP_LENGTH / SR
            raise AudioError(f"clip of {len(y) / SR:.2f} s is shorter than one musicnn patch ({shortest:.3f} s)")
        windows = np.lib.stride_tricks.sliding_window_view(mel, PATCH_FRAMES, axis=0)  # (n, 96, 187)
        patches = np.ascontiguousarray(windows[starts].transpose(0, 2, 1))
        return patches, starts
