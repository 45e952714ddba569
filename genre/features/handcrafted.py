"""The handcrafted extractor: one clip in, one row of summary features per segment out."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genre.errors import AudioError, ParameterError
from genre.features.audio import decode_audio
from genre.features.config import FeatureConfig
from genre.features.descriptors import (
    DEFAULT_BLOCK_FRAMES,
    check_block_frames,
    frame_descriptors,
    segment_bounds,
    summarise,
    tempo_bpm,
)


@dataclass(frozen=True)
class ClipFeatures:
    """Features of one clip: ``values[i]`` summarises the segment starting at ``starts[i]`` seconds.

    The other fields are what the extraction reports about the clip besides its rows (an
    extractor that does not know them leaves the defaults).
    """

    starts: np.ndarray
    values: np.ndarray
    #: Position of each row's segment in the clip (0 for its first ``segment_seconds``);
    #: ``None``: ``0 ... len(starts) - 1``. Differs from that only where silent segments
    #: were left out (see :meth:`HandcraftedExtractor.segments`).
    segments: np.ndarray | None = None
    #: Segments left out because their own RMS is below ``silence_rms``.
    silent_segments: int = 0
    #: The file's own sample rate in Hz (below the analysis rate: upsampled); ``None``: unknown.
    native_sr: int | None = None

    def segment_numbers(self) -> np.ndarray:
        """The ``segment`` column of the rows: their segments' positions in the clip."""
        if self.segments is None:
            return np.arange(len(self.starts))
        return np.asarray(self.segments)


def rms(y: np.ndarray) -> float:
    """RMS of ``y`` (full scale = 1), squared in float64 a chunk at a time.

    One float64 copy of a long recording would be twice its size.
    """
    chunk = 1 << 20
    energy = sum(float(np.square(y[i : i + chunk], dtype=np.float64).sum()) for i in range(0, y.size, chunk))
    return float(np.sqrt(energy / y.size))


def check_usable(y: np.ndarray, *, path: str | os.PathLike, sr: int, min_samples: int, silence_rms: float) -> float:
    """Reject clips that are too short for one segment or digitally silent.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono waveform, full scale = 1.
    path : path-like
        Names the clip in error messages.
    sr : int
        Sample rate of ``y`` in Hz, for the durations in the messages.
    min_samples : int
        Fewest samples a usable clip has.
    silence_rms : float
        Overall RMS (full scale = 1) below which the clip is silent.

    Returns
    -------
    float
        The clip's overall RMS.

    Raises
    ------
    AudioError
        Naming the file, its duration and the threshold it missed.
    """
    if y.size < min_samples:
        raise AudioError(
            f"{path}: too short ({y.size / sr:.2f} s; at least {min_samples / sr:.2f} s needed for one segment)"
        )
    level = rms(y)
    if level < silence_rms:
        raise AudioError(f"{path}: silent (RMS {level:.2e} below {silence_rms:.0e})")
    return level


def _check_mono_waveform(y: Any) -> None:
    """Refuse what is not a mono floating-point waveform, before it fails deep in the STFT.

    A stereo array from ``librosa.load(..., mono=False)`` or ``soundfile.read`` is an easy slip,
    and would otherwise end in a matrix-shape or division error that names neither.
    """
    if not isinstance(y, np.ndarray):
        raise ParameterError(f"y must be a numpy array (a mono waveform), got {type(y).__name__}")
    if y.ndim != 1:
        raise ParameterError(
            f"y must be a 1-D mono waveform, got shape {y.shape}; mix the channels first (e.g. librosa.to_mono)"
        )
    if not np.issubdtype(y.dtype, np.floating):
        raise ParameterError(f"y must hold floating-point samples (full scale = 1), got dtype {y.dtype}")


@dataclass(frozen=True)
class HandcraftedExtractor:
    """Chroma, RMS, spectral shape, ZCR, tonnetz and MFCCs with deltas, summarised per segment.

    Parameters
    ----------
    config : FeatureConfig
        Analysis parameters; stored in the table's sidecar and in trained models.
    block_frames : int >= 1
        STFT frames analysed at a time (see
        :func:`~genre.features.descriptors.frame_descriptors`): bounds the memory a long
        recording needs; the features do not depend on it, so it is not stored.

    Raises
    ------
    genre.errors.ParameterError
        ``block_frames`` is not a positive integer.
    """

    config: FeatureConfig = field(default_factory=FeatureConfig)
    kind: str = "handcrafted"
    block_frames: int = DEFAULT_BLOCK_FRAMES

    def __post_init__(self) -> None:
        check_block_frames(self.block_frames)  # before any file is decoded

    def feature_columns(self) -> list[str]:
        return self.config.feature_columns()

    def describe(self) -> dict:
        """What the JSON sidecar records about this extractor.

        With segments, also that silent segments give no row (see :meth:`segments`): the
        description is in a table's fingerprint, so a table written before they were left
        out is extracted again rather than updated with its rows of silence.
        """
        described = {"kind": self.kind, "config": self.config.to_dict()}
        if self.config.segment_seconds > 0:
            described["silent_segments"] = "left out"
        return described

    def _check_rate(self, sr: int) -> None:
        # Segment bounds and every descriptor use config.sr: a waveform at another rate would
        # give rows at the wrong times and frequencies without any error.
        if sr != self.config.sr:
            raise ParameterError(
                f"sr={sr} Hz: the waveform must be at the configuration's rate config.sr={self.config.sr} Hz "
                f"(resample it, or use FeatureConfig(sr={sr}))"
            )

    def segments(
        self, *, y: np.ndarray, sr: int, path: str | os.PathLike = "<waveform>"
    ) -> tuple[list[tuple[int, int, int]], np.ndarray]:
        """Where the rows of a waveform lie, without computing any descriptor.

        The one place that decides which clips are refused and where their segments start:
        :meth:`extract_waveform` and the segment rows of models that read audio themselves
        (``genre.classifiers.prediction``) both use it, so the two cannot drift apart.

        Parameters
        ----------
        y : np.ndarray, shape (n_samples,)
            Mono waveform already at ``config.sr`` Hz.
        sr : int
            Its sample rate in Hz; must equal ``config.sr`` (stated so that a waveform at
            another rate is refused rather than cut at the wrong times).
        path : path-like
            Names the clip in error messages.

        Returns
        -------
        bounds : list of (start_sample, first_frame, stop_frame)
            See :func:`~genre.features.descriptors.segment_bounds`; silent segments left out.
        starts : np.ndarray
            Start of each segment in seconds.

        Notes
        -----
        A segment whose own RMS (over its ``segment_seconds`` of samples) is below
        ``config.silence_rms``, the threshold of a silent file, gives no row: digital silence
        says nothing of a genre, and rows of it would count in a model's training data and in
        a track's mean prediction like its music. With ``segment_seconds == 0`` the whole
        clip is the one segment, judged by the whole-file test alone.

        Raises
        ------
        AudioError
            Too short for one segment, or silent: as a whole, or in every segment.
        ParameterError
            ``sr`` differs from ``config.sr``, or ``y`` is not a 1-D floating-point array.
        """
        cfg = self.config
        self._check_rate(sr)
        _check_mono_waveform(y)
        level = check_usable(y, path=path, sr=sr, min_samples=cfg.min_samples, silence_rms=cfg.silence_rms)
        bounds = segment_bounds(n_samples=y.size, config=cfg)
        if cfg.segment_seconds > 0:
            seg = self._segment_samples()
            kept = [b for b in bounds if rms(y[b[0] : b[0] + seg]) >= cfg.silence_rms]
            if not kept:
                # The whole file passed, so its sound is in the remainder shorter than a segment.
                n = len(bounds)
                which = f"its one {cfg.segment_seconds:g} s segment has" if n == 1 else (
                    f"each of its {n} segments of {cfg.segment_seconds:g} s has"
                )
                raise AudioError(
                    f"{path}: silent (RMS {level:.2e} over the whole file, but {which} an RMS below "
                    f"{cfg.silence_rms:.0e}; the rest, shorter than a segment, gives no row)"
                )
            bounds = kept
        return bounds, np.array([start / cfg.sr for start, _, _ in bounds])

    def row_layout(
        self, *, y: np.ndarray, sr: int, path: str | os.PathLike = "<waveform>"
    ) -> tuple[list[tuple[int, int, int]], ClipFeatures]:
        """:meth:`segments`, and the rows as :meth:`extract_waveform` reports them, without descriptors.

        Returns
        -------
        bounds : list of (start_sample, first_frame, stop_frame)
            As :meth:`segments` gives them.
        rows : ClipFeatures
            ``values`` without columns; ``starts``, ``segments`` (each row's position in the
            clip) and ``silent_segments`` as the extraction reports them.

        Raises
        ------
        AudioError, ParameterError
            As :meth:`segments`.
        """
        cfg = self.config
        bounds, starts = self.segments(y=y, sr=sr, path=path)  # first: a refused clip costs nothing more
        n_silent = len(segment_bounds(n_samples=y.size, config=cfg)) - len(bounds) if cfg.segment_seconds > 0 else 0
        numbers = np.array([start // self._segment_samples() for start, _, _ in bounds]) if n_silent else None
        rows = ClipFeatures(starts=starts, values=np.empty((len(bounds), 0)), segments=numbers, silent_segments=n_silent)
        return bounds, rows

    def _segment_samples(self) -> int:
        """Samples per segment, as :func:`~genre.features.descriptors.segment_bounds` places them."""
        return int(round(self.config.segment_seconds * self.config.sr))

    def extract_waveform(self, *, y: np.ndarray, sr: int, path: str | os.PathLike = "<waveform>") -> ClipFeatures:
        """Features of a waveform already at ``config.sr``.

        Parameters
        ----------
        y : np.ndarray, shape (n_samples,)
            Mono waveform at ``config.sr`` Hz, full scale = 1.
        sr : int
            Its sample rate in Hz; must equal ``config.sr`` (this method does not resample:
            :meth:`extract_file` does, once, while decoding).
        path : path-like
            Names the clip in error messages.

        Returns
        -------
        ClipFeatures
            ``starts``: start of each segment in seconds; ``values``: one row per segment,
            columns in the order of :meth:`feature_columns`; ``segments``: each row's
            position in the clip; ``silent_segments``: how many segments were left out as
            silent (see :meth:`segments`).

        Raises
        ------
        AudioError
            Too short for one segment, or silent (as a whole, or in every segment).
        ParameterError
            ``sr`` differs from ``config.sr``.
        """
        cfg = self.config
        # segments() also refuses a waveform at another rate than config.sr.
        bounds, rows = self.row_layout(y=y, sr=sr, path=path)  # first: a refused clip costs no spectrum
        # Over the whole clip, silence included: the kept segments' edge frames and deltas, and
        # the tempo, are those of the clip as it is.
        frames, onset_envelope = frame_descriptors(y=y, config=cfg, block_frames=self.block_frames)
        values = summarise(frames, bounds=bounds, config=cfg)
        tempo = tempo_bpm(
            onset_envelope=onset_envelope, sr=cfg.sr, hop_length=cfg.hop_length, block_frames=self.block_frames
        )
        values = np.hstack([values, np.full((len(bounds), 1), tempo)])
        return dataclasses.replace(rows, values=values)

    def extract_file(self, path: str | os.PathLike) -> ClipFeatures:
        """Decode ``path`` (resampling once if needed) and extract its features.

        The result's ``native_sr`` is the file's own sample rate: below ``config.sr`` the file
        was upsampled, and its spectrum above ``native_sr / 2`` is empty.

        Raises
        ------
        AudioError
            Unreadable, empty, silent or too short.
        """
        y, sr, native_sr = decode_audio(path, sr=self.config.sr)
        features = self.extract_waveform(y=y, sr=sr, path=path)
        return dataclasses.replace(features, native_sr=native_sr)
