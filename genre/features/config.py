"""The feature configuration: every parameter that changes the numbers in a feature table.

A :class:`FeatureConfig` is stored in each table's JSON sidecar and in each model
file, so that later commands can refuse a table or a model computed differently.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genre.errors import ParameterError

#: Identifier columns that precede the features in every table ``genre extract`` writes.
ID_COLUMNS: tuple[str, ...] = ("path", "track", "segment", "start", "label", "group")

#: Sidecar key of the absolute folder ``genre extract`` ran in: a table's relative audio
#: paths are relative to it, wherever the table is read from.
EXTRACTION_FOLDER_KEY = "working_directory"

#: RMS (full scale = 1) below which a clip counts as silent, for every extractor.
SILENCE_RMS = 1e-4


def check_finite_fields(config: Any, *, prefix: str = "") -> None:
    """Refuse a configuration dataclass whose ``int`` or ``float`` fields are not finite numbers.

    NaN passes every range comparison unnoticed and inf overflows ``int()``, so a
    configuration calls this before its range checks.

    Parameters
    ----------
    config : dataclass instance
        Its fields annotated ``int`` or ``float`` are checked (the module must use
        ``from __future__ import annotations``, so that annotations are names).
    prefix : str
        Put before the field name in the message, e.g. ``"mel "``.

    Raises
    ------
    genre.errors.ParameterError
        Naming the first field that holds NaN, inf, a bool or a non-number.
    """
    for numeric in (f for f in dataclasses.fields(config) if f.type in ("int", "float")):
        value = getattr(config, numeric.name)
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
            raise ParameterError(f"{prefix}{numeric.name}={value!r}: must be a finite number")


#: Upper edge (Hz) of spectral contrast's lowest band; octave bands follow above it (as librosa).
CONTRAST_FMIN = 200.0


def contrast_band_edges(*, sr: int, n_bands: int, fmin: float = CONTRAST_FMIN) -> np.ndarray:
    """Band edges of spectral contrast: 0 Hz, then ``fmin`` and ``n_bands`` octaves above it.

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    n_bands : int
        Octave bands above ``fmin``; one more band covers 0 Hz to ``fmin``.
    fmin : float
        Upper edge of the lowest band in Hz.

    Returns
    -------
    edges : np.ndarray, shape (n_bands + 2,)
        In Hz, ascending.

    Raises
    ------
    genre.errors.ParameterError
        A band starts at or above the Nyquist frequency ``sr / 2``: the message gives the
        lowest sample rate those bands allow.
    """
    edges = np.zeros(n_bands + 2)
    edges[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
    if edges[-2] >= 0.5 * sr:
        raise ParameterError(
            f"sr={sr}: spectral contrast's {n_bands} octave bands above {fmin:g} Hz start up to {edges[-2]:g} Hz, "
            f"above the Nyquist frequency {sr / 2:g} Hz; use a sample rate above {2 * edges[-2]:g} Hz "
            f"(or fewer contrast bands, n_contrast_bands)"
        )
    return edges


@dataclass(frozen=True)
class FeatureConfig:
    """Parameters of the handcrafted feature extraction.

    Parameters
    ----------
    sr : int
        Analysis sample rate in Hz; audio at another rate is resampled once.
    n_fft : int
        STFT frame length in samples (one STFT per clip, centred frames, zero padding at
        the clip's two ends only).
    hop_length : int
        STFT hop in samples: one frame is ``hop_length / sr`` s (23.2 ms at 512 and
        22050 Hz), the time step of every delta.
    n_mels : int
        Mel bands from which the MFCCs are computed.
    n_mfcc : int
        Number of MFCCs; ``mfcc_01`` is c0, the energy-like coefficient.
    n_chroma : int
        Number of chroma bins; ``chroma_01`` is pitch class C, then C#, ..., B.
    n_contrast_bands : int
        Spectral-contrast octave bands above 200 Hz; the table gets one more column, for the
        band from 0 to 200 Hz (see :func:`contrast_band_edges`). Each column is librosa's
        ``power_to_db(peak) - power_to_db(valley)`` of the band's magnitudes: ``power_to_db``
        on magnitudes, so ``10 * log10(peak / valley)``: half the amplitude ratio in dB,
        not a peak-minus-valley level difference in dB. Peak and valley are each floored
        80 dB (``power_to_db``'s ``top_db``) below their own maximum over all bands and frames
        of the clip.
    rolloff_percent : float
        Roll-off fraction of each frame's spectral magnitude (librosa's ``roll_percent``).
    segment_seconds : float
        Segment length in seconds; ``0`` summarises each whole track as one row. A segment
        of samples ``[start, stop)`` is summarised over STFT frames
        ``[round(start / hop_length), round(stop / hop_length))`` (129 or 130 frames for
        3 s at the defaults); a trailing remainder shorter than a segment gives no row.
    min_seconds : float
        Shortest usable clip in seconds when ``segment_seconds`` is 0.
    silence_rms : float
        A clip whose overall RMS is below this (full scale = 1) is rejected as silent; with
        segments, a segment whose own RMS is below it gives no row (and a clip whose every
        segment does is rejected as silent).
    deltas : bool
        Also summarise the first-order delta of every descriptor: librosa's
        Savitzky-Golay estimate (``librosa.feature.delta``, width 9, ``mode='interp'``)
        over the whole clip's frames, in descriptor units per frame, cut per segment
        afterwards (see :func:`genre.features.descriptors.summarise`).
    statistics : tuple of str
        Summaries of each descriptor over a segment's frames, in column order: ``"mean"``
        and / or ``"std"`` (population standard deviation, ddof 0).

    Notes
    -----
    A segment's row is not librosa run on that segment's slice of audio: the chroma
    tuning, the 80 dB floors of the log-mel spectrogram (MFCCs) and of spectral contrast,
    and the STFT's zero padding are those of the whole clip; a segment's edge frames
    reach ``n_fft // 2`` samples (46 ms at the defaults) into its neighbours, and its
    deltas about 4 frames (93 ms) further. Values are therefore not directly comparable
    with the public GTZAN ``features_3_sec.csv``.

    Units: chroma (each frame's maximum is 1), tonnetz and spectral flatness are
    unitless; RMS is on the full-scale-1 waveform; centroid, bandwidth and roll-off are
    in Hz; the zero-crossing rate is in crossings per sample (not Hz); the MFCCs are
    orthonormal DCT-II coefficients of the log-mel spectrogram in dB; ``tempo_bpm`` is
    in beats per minute. Deltas are in these units per frame.
    """

    sr: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    n_mfcc: int = 20
    n_chroma: int = 12
    n_contrast_bands: int = 6
    rolloff_percent: float = 0.85
    segment_seconds: float = 3.0
    min_seconds: float = 1.0
    silence_rms: float = SILENCE_RMS
    deltas: bool = True
    statistics: tuple[str, ...] = field(default=("mean", "std"))

    def __post_init__(self) -> None:
        check_finite_fields(self)
        if self.sr < 4000 or self.sr > 192000:
            raise ParameterError(f"sr={self.sr}: the sample rate must lie between 4000 and 192000 Hz")
        if isinstance(self.n_contrast_bands, numbers.Integral) and self.n_contrast_bands >= 1:
            # Checked here, not at the first clip: a run would otherwise decode every file first.
            contrast_band_edges(sr=self.sr, n_bands=self.n_contrast_bands)
        if self.n_fft < 64 or self.n_fft & (self.n_fft - 1):
            raise ParameterError(f"n_fft={self.n_fft}: must be a power of two >= 64")
        if not 0 < self.hop_length <= self.n_fft:
            raise ParameterError(f"hop_length={self.hop_length}: must lie in (0, n_fft]")
        if self.segment_seconds < 0:
            raise ParameterError(f"segment_seconds={self.segment_seconds}: must be >= 0 (0 = whole track)")
        if 0 < self.segment_seconds * self.sr < self.n_fft:
            raise ParameterError(
                f"segment_seconds={self.segment_seconds}: a segment must span at least one STFT frame "
                f"({self.n_fft / self.sr:.3f} s)"
            )
        if not math.isfinite(self.segment_seconds * self.sr):
            raise ParameterError(f"segment_seconds={self.segment_seconds}: too long to count in samples")
        if self.min_seconds < 0 or not math.isfinite(self.min_seconds * self.sr):
            raise ParameterError(f"min_seconds={self.min_seconds}: must be >= 0 and countable in samples")
        if self.silence_rms < 0:
            raise ParameterError(f"silence_rms={self.silence_rms}: must be >= 0")
        if not 1 <= self.n_mfcc <= self.n_mels:
            raise ParameterError(f"n_mfcc={self.n_mfcc}: must lie between 1 and n_mels={self.n_mels}")
        if not 0 < self.rolloff_percent < 1:
            raise ParameterError(f"rolloff_percent={self.rolloff_percent}: must lie in (0, 1)")
        unknown = set(self.statistics) - {"mean", "std"}
        if unknown or not self.statistics:
            raise ParameterError(f"statistics={self.statistics}: choose from 'mean' and 'std'")

    # -- layout -----------------------------------------------------------------------
    @property
    def min_samples(self) -> int:
        """Fewest samples a clip needs to give at least one row."""
        seconds = self.segment_seconds if self.segment_seconds > 0 else self.min_seconds
        return max(int(round(seconds * self.sr)), self.n_fft)

    def descriptor_sizes(self) -> dict[str, int]:
        """Number of coefficients of each per-frame descriptor, in table order."""
        return {
            "chroma": self.n_chroma,
            "rms": 1,
            "spectral_centroid": 1,
            "spectral_bandwidth": 1,
            "spectral_rolloff": 1,
            "spectral_contrast": self.n_contrast_bands + 1,
            "spectral_flatness": 1,
            "zero_crossing_rate": 1,
            "tonnetz": 6,
            "mfcc": self.n_mfcc,
        }

    def frame_feature_names(self) -> list[str]:
        """Names of the per-frame coefficients: ``rms``, ``mfcc_01`` ... ``mfcc_20``.

        Numbered from 01 in each descriptor's own order: ``chroma_01`` is pitch class C
        (then C#, ..., B), ``mfcc_01`` is c0, ``spectral_contrast_01`` the 0-200 Hz band.
        """
        names = []
        for name, size in self.descriptor_sizes().items():
            if size == 1:
                names.append(name)
            else:
                names.extend(f"{name}_{i:02d}" for i in range(1, size + 1))
        return names

    def feature_columns(self) -> list[str]:
        """Names of the feature columns of a table, in order.

        Each per-frame coefficient ``c`` gives ``c_mean``, ``c_std`` and, with deltas,
        ``c_delta_mean``, ``c_delta_std`` (standard deviation, not variance), followed by
        ``tempo_bpm``: one value per track, estimated over the whole file (including the
        tail that gives no segment) and repeated on every row of that track.
        ``c_delta_mean`` is, nearly exactly, the segment's net change of ``c`` per frame
        (its trend), ``c_delta_std`` how fast ``c`` moves within it.
        """
        columns = []
        for base in self.frame_feature_names():
            variants = [base, f"{base}_delta"] if self.deltas else [base]
            for variant in variants:
                columns.extend(f"{variant}_{stat}" for stat in self.statistics)
        columns.append("tempo_bpm")
        return columns

    # -- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["statistics"] = list(self.statistics)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FeatureConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ParameterError(f"unknown feature configuration keys: {sorted(unknown)}")
        values = dict(data)
        if "statistics" in values:
            values["statistics"] = tuple(values["statistics"])
        return cls(**values)
