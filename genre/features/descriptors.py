"""Per-frame descriptors, all derived from one STFT per clip, and their segment summaries.

Each librosa feature function here receives the precomputed magnitude or power
spectrogram (``S=``), so a clip costs one STFT however many descriptors it yields.
Values equal librosa's own ``librosa.feature.*(y=...)`` calls with the same parameters.
"""

from __future__ import annotations

import functools

import numpy as np

from genre.errors import ParameterError
from genre.features.config import FeatureConfig


def stft_magnitude(*, y: np.ndarray, n_fft: int = 2048, hop_length: int = 512) -> np.ndarray:
    """Magnitude STFT, centred frames with zero padding (librosa's defaults).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono waveform.
    n_fft : int
        Frame length in samples (Hann window).
    hop_length : int
        Hop between frames in samples.

    Returns
    -------
    S : np.ndarray, shape (1 + n_fft // 2, 1 + n_samples // hop_length)
        Magnitude per frequency bin and frame.
    """
    import librosa

    return np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length, center=True, pad_mode="constant"))


def frame_descriptors(
    *, y: np.ndarray | None = None, S: np.ndarray | None = None, config: FeatureConfig = FeatureConfig()
) -> tuple[np.ndarray, np.ndarray]:
    """Stack every per-frame descriptor of a clip into one matrix.

    The spectral descriptors come from ``S``; the waveform is still needed for two of
    them: the zero-crossing rate (not defined on a spectrogram) and the RMS, which is
    taken on waveform frames as the public GTZAN tables have it (librosa's ``S=`` variant
    differs by the analysis window).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono waveform at ``config.sr`` Hz. Required, even when ``S`` is given.
    S : np.ndarray, shape (1 + n_fft // 2, 1 + n_samples // hop_length), or None
        Magnitude STFT of ``y`` (:func:`stft_magnitude` with ``config.n_fft`` and
        ``config.hop_length`` samples); computed if None. Pass it to share one STFT.
    config : FeatureConfig
        Analysis parameters; ``config.sr`` (Hz) is the rate of ``y``.

    Returns
    -------
    frames : np.ndarray, shape (n_coefficients, n_frames)
        Rows in the order of ``config.frame_feature_names()``; one column per STFT frame
        (``hop_length`` samples apart).
    onset_envelope : np.ndarray, shape (n_frames,)
        Onset strength (from the log-mel spectrogram), for the tempo estimate.

    Raises
    ------
    genre.errors.ParameterError
        ``y`` is missing, or ``S`` does not have the shape of the STFT of ``y``.
    """
    import librosa

    sr, n_fft, hop = config.sr, config.n_fft, config.hop_length
    if y is None:
        raise ParameterError(
            "frame_descriptors needs the waveform y: the zero-crossing rate and the RMS are computed "
            "from it (S alone is not enough)"
        )
    if S is None:
        S = stft_magnitude(y=y, n_fft=n_fft, hop_length=hop)
    elif S.shape != (expected := (1 + n_fft // 2, 1 + y.shape[-1] // hop)):
        # A spectrogram of another clip or setting would misalign the waveform rows silently.
        raise ParameterError(
            f"S has shape {S.shape}; the STFT of y (n_fft={n_fft}, hop_length={hop}) has shape {expected}"
        )
    power = S**2
    chroma = librosa.feature.chroma_stft(S=power, sr=sr, n_fft=n_fft, hop_length=hop, n_chroma=config.n_chroma)
    freq = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    centroid, bandwidth = spectral_centroid_bandwidth(S=S, freq=freq)
    # A BLAS product with a cached filter bank: librosa's einsum does the same sum, slower.
    log_mel = librosa.power_to_db(mel_filters(sr=sr, n_fft=n_fft, n_mels=config.n_mels) @ power)
    rows = [
        chroma,
        # RMS of the waveform frames, as the public GTZAN tables have it (the S= variant differs by the window).
        librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop, center=True),
        centroid,
        bandwidth,
        spectral_rolloff(S=S, freq=freq, roll_percent=config.rolloff_percent),
        librosa.feature.spectral_contrast(S=S, sr=sr, n_fft=n_fft, hop_length=hop, n_bands=config.n_contrast_bands),
        librosa.feature.spectral_flatness(S=S, n_fft=n_fft, hop_length=hop),
        librosa.feature.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop, center=True),
        librosa.feature.tonnetz(chroma=chroma, sr=sr),
        librosa.feature.mfcc(S=log_mel, n_mfcc=config.n_mfcc),
    ]
    n_frames = S.shape[1]
    frames = np.vstack([r[..., :n_frames] for r in rows]).astype(np.float64)
    onset_envelope = librosa.onset.onset_strength(S=log_mel, sr=sr, hop_length=hop)
    return frames, onset_envelope


@functools.lru_cache(maxsize=8)
def mel_filters(*, sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """librosa's Slaney mel filter bank, built once per setting.

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    n_fft : int
        FFT length in samples.
    n_mels : int
        Number of mel bands (0 Hz to ``sr / 2``).

    Returns
    -------
    np.ndarray, shape (n_mels, 1 + n_fft // 2), float32
        Weights mapping a power spectrum to mel-band power.
    """
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)


def spectral_centroid_bandwidth(*, S: np.ndarray, freq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spectral centroid and (2nd-order) bandwidth in Hz, as librosa defines them.

    Both are moments of each frame's magnitude spectrum taken as a distribution over
    ``freq``; computed as two matrix products instead of librosa's element-wise passes.

    Parameters
    ----------
    S : np.ndarray, shape (n_bins, n_frames)
        Magnitude spectrogram.
    freq : np.ndarray, shape (n_bins,)
        Centre frequency of each bin in Hz (``librosa.fft_frequencies``).

    Returns
    -------
    centroid, bandwidth : np.ndarray, shape (1, n_frames)
        In Hz; 0 for an all-zero frame.
    """
    total = S.sum(axis=0, dtype=np.float64)
    # librosa leaves all-zero frames unnormalised, which gives 0 for both.
    safe = np.where(total > np.finfo(np.float32).tiny, total, np.inf)
    first = (freq @ S.astype(np.float64)) / safe
    second = ((freq**2) @ S.astype(np.float64)) / safe
    bandwidth = np.sqrt(np.maximum(second - first**2, 0.0))
    return first[np.newaxis], bandwidth[np.newaxis]


def spectral_rolloff(*, S: np.ndarray, freq: np.ndarray, roll_percent: float = 0.85) -> np.ndarray:
    """Roll-off frequency: the lowest bin below which ``roll_percent`` of the magnitude lies.

    Parameters
    ----------
    S : np.ndarray, shape (n_bins, n_frames)
        Magnitude spectrogram.
    freq : np.ndarray, shape (n_bins,)
        Centre frequency of each bin in Hz.
    roll_percent : float
        Fraction of each frame's total magnitude, in (0, 1).

    Returns
    -------
    np.ndarray, shape (1, n_frames)
        Roll-off frequency of each frame in Hz.
    """
    # Same precision as librosa (the spectrogram's), so ties fall in the same bin.
    cumulative = np.cumsum(S, axis=0)
    threshold = roll_percent * cumulative[-1]
    # cumulative is non-decreasing, so the first bin reaching the threshold is the count of bins below it
    first_bin = np.minimum((cumulative < threshold).sum(axis=0), len(freq) - 1)
    return freq[first_bin][np.newaxis]


def delta_frames(frames: np.ndarray, *, width: int = 9) -> np.ndarray:
    """First-order delta along time (librosa's Savitzky-Golay estimate).

    Clips too short for ``width`` use the widest odd window that fits; a clip of
    fewer than 3 frames has zero deltas.

    Parameters
    ----------
    frames : np.ndarray, shape (..., n_frames)
        Per-frame values, time on the last axis.
    width : int
        Window length in frames (odd, >= 3).

    Returns
    -------
    np.ndarray, same shape as ``frames``
        Change per frame.
    """
    import librosa

    n_frames = frames.shape[-1]
    width = min(width, n_frames if n_frames % 2 else n_frames - 1)
    if width < 3:
        return np.zeros_like(frames)
    return librosa.feature.delta(frames, width=width, axis=-1, mode="interp")


def tempo_bpm(*, onset_envelope: np.ndarray, sr: int, hop_length: int) -> float:
    """Global tempo estimate from an onset envelope.

    Parameters
    ----------
    onset_envelope : np.ndarray, shape (n_frames,)
        Onset strength per frame (see :func:`frame_descriptors`).
    sr : int
        Sample rate of the analysed audio in Hz.
    hop_length : int
        Hop between the envelope's frames in samples.

    Returns
    -------
    float
        Tempo in beats per minute.
    """
    import librosa

    return float(librosa.feature.tempo(onset_envelope=onset_envelope, sr=sr, hop_length=hop_length)[0])


def segment_bounds(*, n_samples: int, config: FeatureConfig) -> list[tuple[int, int, int]]:
    """Frame ranges of the full-length segments of a clip.

    Segments are consecutive, non-overlapping and ``segment_seconds`` long; a trailing
    remainder shorter than a segment is dropped (as in the public 3-second GTZAN tables).
    With ``segment_seconds == 0`` the whole clip is one segment.

    Parameters
    ----------
    n_samples : int
        Length of the clip in samples, at ``config.sr`` Hz.
    config : FeatureConfig
        ``segment_seconds`` (s), ``sr`` (Hz) and ``hop_length`` (samples) are used.

    Returns
    -------
    list of (start_sample, first_frame, stop_frame)
        Start of each segment in samples, and its STFT frames ``[first_frame, stop_frame)``.
    """
    n_frames = 1 + n_samples // config.hop_length
    if config.segment_seconds <= 0:
        return [(0, 0, n_frames)]
    seg = int(round(config.segment_seconds * config.sr))
    bounds = []
    for i in range(n_samples // seg):
        start, stop = i * seg, (i + 1) * seg
        bounds.append((start, int(round(start / config.hop_length)), int(round(stop / config.hop_length))))
    return bounds


def summarise(frames: np.ndarray, *, bounds: list[tuple[int, int, int]], config: FeatureConfig) -> np.ndarray:
    """Mean and standard deviation of each coefficient (and its delta) per segment.

    Parameters
    ----------
    frames : np.ndarray, shape (n_coefficients, n_frames)
        Output of :func:`frame_descriptors`.
    bounds : list of (start_sample, first_frame, stop_frame)
        Output of :func:`segment_bounds`; frames ``[first_frame, stop_frame)`` make a row.
    config : FeatureConfig
        ``deltas`` and ``statistics`` are used.

    Returns
    -------
    np.ndarray, shape (n_segments, n_features - 1)
        Columns in the order of ``config.feature_columns()`` without ``tempo_bpm``.
    """
    series = [frames, delta_frames(frames)] if config.deltas else [frames]
    stacked = np.stack(series, axis=1)  # (n_coefficients, n_series, n_frames)
    stat_funcs = {"mean": np.mean, "std": np.std}
    out = np.empty((len(bounds), stacked.shape[0], stacked.shape[1], len(config.statistics)))
    for i, (_, first, stop) in enumerate(bounds):
        window = stacked[:, :, first:stop]
        for j, stat in enumerate(config.statistics):
            out[i, :, :, j] = stat_funcs[stat](window, axis=-1)
    return out.reshape(len(bounds), -1)
