"""Pretrained-CNN embedding extractors: per-patch rows for ``genre extract --embeddings``.

An embedding extractor fits the extraction engine exactly like the handcrafted one (same
resumable CSV, sidecar and skipped list); only its columns and its ``kind`` differ, and
the sidecar records the model so later commands can refuse a mismatch.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from genre.errors import AudioError, ParameterError
from genre.features.audio import decode_audio
from genre.features.config import SILENCE_RMS
from genre.features.handcrafted import ClipFeatures, check_usable, rms
from genre.tensorflow_quiet import import_tensorflow

#: ``--embeddings NAME`` -> pretrained model it uses.
EMBEDDING_MODELS: dict[str, str] = {
    "musicnn": "MSD_musicnn",
    "musicnn-mtt": "MTT_musicnn",
    "vgg": "MSD_vgg",
    "vgg-mtt": "MTT_vgg",
}

#: Layers written by default: the taggram and the pooled mid-end activations.
DEFAULT_LAYERS: tuple[str, ...] = ("taggram", "max_pool", "mean_pool")


@functools.lru_cache(maxsize=1)
def _single_threaded_tensorflow() -> None:
    """One TensorFlow thread per process: workers share the cores, and results do not depend on --jobs."""
    tf = import_tensorflow()

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already initialised in this process: keep its setting
        pass


@dataclass(frozen=True)
class MusicnnExtractor:
    """Per-patch (~3 s) embeddings of a pretrained musicnn / VGG model.

    Parameters
    ----------
    name : str
        A key of :data:`EMBEDDING_MODELS` (``"musicnn"`` = MSD-trained musicnn).
    layers : tuple of str
        Layers to write; default taggram, max_pool and mean_pool (VGG models: taggram, pool5).
    """

    name: str = "musicnn"
    layers: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        from genre.features.musicnn import musicnn_layer_names

        if self.name not in EMBEDDING_MODELS:
            raise ParameterError(f"--embeddings {self.name!r}: choose one of {', '.join(EMBEDDING_MODELS)}")
        available = musicnn_layer_names(self.model)
        layers = self.layers or tuple(l for l in DEFAULT_LAYERS if l in available) or available
        unknown = [l for l in layers if l not in available]
        if unknown:
            raise ParameterError(f"{self.model} has no layer(s) {unknown}; choose from {', '.join(available)}")
        object.__setattr__(self, "layers", tuple(layers))

    @property
    def model(self) -> str:
        return EMBEDDING_MODELS[self.name]

    @property
    def kind(self) -> str:
        return self.name

    def feature_columns(self) -> list[str]:
        from genre.features.musicnn import musicnn_feature_columns

        return musicnn_feature_columns(self.model, self.layers)

    def describe(self) -> dict:
        from genre.features.musicnn import SR

        # "silent_segments" is in the fingerprint: a table written when silent patches gave rows
        # is extracted again, not updated with them.
        config = {"model": self.model, "layers": list(self.layers), "sr": SR}
        return {"kind": self.kind, "config": config, "silent_segments": "left out"}

    def extract_file(self, path: str | os.PathLike) -> ClipFeatures:
        from genre.features.musicnn import HOP_LENGTH, PATCH_FRAMES, SR, MusicnnEmbedder

        _single_threaded_tensorflow()
        y, sr, native_sr = decode_audio(path, sr=SR)
        level = check_usable(
            y, path=path, sr=sr, min_samples=(PATCH_FRAMES - 1) * HOP_LENGTH, silence_rms=SILENCE_RMS
        )
        out = MusicnnEmbedder(model=self.model).embed(y=y, sr=sr)
        values = np.hstack([out[layer] for layer in self.layers]).astype(np.float64)
        starts = np.asarray(out["patch_starts"], dtype=np.float64)
        # As the handcrafted extractor does with its segments: a patch of digital silence gives
        # no row, in the table and in a prediction's mean.
        span = PATCH_FRAMES * HOP_LENGTH
        sounding = np.array([rms(y[int(round(s * SR)) : int(round(s * SR)) + span]) >= SILENCE_RMS for s in starts])
        if not sounding.any():
            raise AudioError(
                f"{path}: silent (RMS {level:.2e} over the whole file, but each of its {len(starts)} patches has an "
                f"RMS below {SILENCE_RMS:.0e})"
            )
        n_silent = int((~sounding).sum())
        return ClipFeatures(
            starts=starts[sounding], values=values[sounding],
            segments=np.flatnonzero(sounding) if n_silent else None, silent_segments=n_silent, native_sr=native_sr,
        )  # fmt: skip
