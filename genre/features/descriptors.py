"""Per-frame descriptors, all derived from one STFT per clip, and their segment summaries.

Each librosa feature function here receives the precomputed magnitude or power
spectrogram (``S=``), so the STFT is shared by every descriptor; it is computed in
blocks of frames, so a long recording does not need its whole spectrogram in memory.
Values equal librosa's own ``librosa.feature.*(y=...)`` calls with the same parameters, with
one exception: tonnetz is projected from the STFT chroma (``librosa.feature.tonnetz(chroma=
chroma_stft(...))``), where ``tonnetz(y=...)`` would compute a constant-Q transform of its own
for its chroma; that transform alone takes about as long as all the descriptors here together
(0.35 s against 0.33-0.47 s on a 17.8 s GTZAN clip), so it would about double the analysis time.

"Equal" means librosa called on the whole clip: a segment's row is cut from the clip's frames
(and deltas), so it is not librosa called on the segment's slice of audio (see
:func:`summarise`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator

import numpy as np

from genre.errors import ParameterError
from genre.features.config import CONTRAST_FMIN, FeatureConfig, contrast_band_edges

DEFAULT_BLOCK_FRAMES = 2048
"""STFT frames per block (47.6 s at 22050 Hz, 512-sample hops): a 30 s clip is one block,
and a block's spectrogram temporaries stay near 100 MB."""

LOG_MEL_TOP_DB = 80.0
"""Dynamic range of the log-mel spectrogram in dB (``librosa.power_to_db``'s default)."""


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
    *,
    y: np.ndarray | None = None,
    S: np.ndarray | None = None,
    config: FeatureConfig = FeatureConfig(),
    block_frames: int = DEFAULT_BLOCK_FRAMES,
) -> tuple[np.ndarray, np.ndarray]:
    """Stack every per-frame descriptor of a clip into one matrix, ``block_frames`` frames at a time.

    The spectral descriptors come from the magnitude STFT; the waveform is still needed for
    two of them: the zero-crossing rate (not defined on a spectrogram) and the RMS, which
    is taken on waveform frames as the public GTZAN tables have it (librosa's ``S=``
    variant differs by the analysis window).

    Without ``S``, the STFT is computed one block of frames at a time, from the samples
    those frames cover, so memory grows with the clip only by the waveform, the returned
    arrays and a log-mel spectrogram (about 3 MB a minute at 22050 Hz). The values are
    those of the whole-clip STFT: what depends on the whole clip (the chroma tuning, the
    80 dB floors of the log-mel spectrogram and of the spectral contrast) is taken over
    all blocks. A clip of more than one block costs two STFTs, one to estimate the
    tuning and one for the rest.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono waveform at ``config.sr`` Hz. Required, even when ``S`` is given.
    S : np.ndarray, shape (1 + n_fft // 2, 1 + n_samples // hop_length), or None
        Magnitude STFT of ``y`` (:func:`stft_magnitude` with ``config.n_fft`` and
        ``config.hop_length`` samples); computed block by block if None. Pass it to share
        one STFT.
    config : FeatureConfig
        Analysis parameters; ``config.sr`` (Hz) is the rate of ``y``.
    block_frames : int >= 1
        STFT frames analysed at a time. Larger blocks cost more memory (about 50 kB per
        frame at ``n_fft=2048``), not different values.

    Returns
    -------
    frames : np.ndarray, shape (n_coefficients, n_frames), float64
        Rows in the order of ``config.frame_feature_names()`` (chroma from C, MFCCs from
        c0; units in :class:`~genre.features.config.FeatureConfig`); one column per STFT
        frame (``hop_length`` samples apart). The zero-crossing rate is in crossings per
        sample; spectral contrast is librosa's (see :func:`spectral_contrast_bands`).
    onset_envelope : np.ndarray, shape (n_frames,)
        Onset strength (from the log-mel spectrogram), for the tempo estimate.

    Raises
    ------
    genre.errors.ParameterError
        ``y`` is missing, ``S`` does not have the shape of the STFT of ``y``, or
        ``block_frames`` is not a positive integer.
    """
    import librosa

    sr, n_fft, hop = config.sr, config.n_fft, config.hop_length
    if y is None:
        raise ParameterError(
            "frame_descriptors needs the waveform y: the zero-crossing rate and the RMS are computed "
            "from it (S alone is not enough)"
        )
    check_block_frames(block_frames)
    n_frames = 1 + y.shape[-1] // hop
    if S is not None and S.shape != (expected := (1 + n_fft // 2, n_frames)):
        # A spectrogram of another clip or setting would misalign the waveform rows silently.
        raise ParameterError(
            f"S has shape {S.shape}; the STFT of y (n_fft={n_fft}, hop_length={hop}) has shape {expected}"
        )
    if S is None and n_frames <= block_frames:
        S = stft_magnitude(y=y, n_fft=n_fft, hop_length=hop)  # one block: one STFT serves both passes

    def blocks():
        return magnitude_blocks(y=y, S=S, n_fft=n_fft, hop_length=hop, block_frames=block_frames)

    # chroma_stft(tuning=None) would estimate the tuning of each block alone.
    tuning = estimate_tuning(
        power_blocks=(block**2 for _, block in blocks()), sr=sr, n_fft=n_fft, bins_per_octave=config.n_chroma
    )
    freq = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    mel = mel_filters(sr=sr, n_fft=n_fft, n_mels=config.n_mels)
    sizes = config.descriptor_sizes()
    ends = np.cumsum(list(sizes.values()))
    rows = {name: slice(end - size, end) for (name, size), end in zip(sizes.items(), ends)}
    frames = np.empty((ends[-1], n_frames))
    peak, valley = np.empty((2, sizes["spectral_contrast"], n_frames))
    # The dtype power_to_db gives the mel power of S (float32 for a float32 waveform).
    log_mel = np.empty((config.n_mels, n_frames), dtype=np.result_type(y.dtype if S is None else S.dtype, mel.dtype))
    for span, block in blocks():
        power = block**2
        chroma = librosa.feature.chroma_stft(
            S=power, sr=sr, n_fft=n_fft, hop_length=hop, tuning=tuning, n_chroma=config.n_chroma
        )
        centroid, bandwidth = spectral_centroid_bandwidth(S=block, freq=freq)
        block_rows = {
            "chroma": chroma,
            # RMS of the waveform frames, as the public GTZAN tables have it (the S= variant differs by the window).
            "rms": librosa.feature.rms(
                y=frame_span(y=y, frames=span, n_fft=n_fft, hop_length=hop, mode="constant"),
                frame_length=n_fft,
                hop_length=hop,
                center=False,
            ),
            "spectral_centroid": centroid,
            "spectral_bandwidth": bandwidth,
            "spectral_rolloff": spectral_rolloff(S=block, freq=freq, roll_percent=config.rolloff_percent),
            "spectral_flatness": librosa.feature.spectral_flatness(S=block, n_fft=n_fft, hop_length=hop),
            # librosa's centred ZCR pads the clip by repeating its end samples, not with zeros.
            "zero_crossing_rate": librosa.feature.zero_crossing_rate(
                frame_span(y=y, frames=span, n_fft=n_fft, hop_length=hop, mode="edge"),
                frame_length=n_fft,
                hop_length=hop,
                center=False,
            ),
            "tonnetz": librosa.feature.tonnetz(chroma=chroma, sr=sr),
        }
        for name, values in block_rows.items():
            frames[rows[name], span] = values
        peak[:, span], valley[:, span] = spectral_contrast_bands(
            S=block, freq=freq, sr=sr, n_bands=config.n_contrast_bands
        )
        # A BLAS product with a cached filter bank: librosa's einsum does the same sum, slower.
        log_mel[:, span] = librosa.power_to_db(mel @ power, top_db=None)
    # librosa's convention: power_to_db of magnitudes (10*log10 of an amplitude ratio, half
    # its amplitude dB), peak and valley each floored 80 dB below their own maximum over all
    # bands and frames of the whole clip.
    frames[rows["spectral_contrast"]] = librosa.power_to_db(peak) - librosa.power_to_db(valley)
    np.maximum(log_mel, log_mel.max() - LOG_MEL_TOP_DB, out=log_mel)
    # Block by block again, sparing copies of the log-mel spectrogram: the MFCCs are per
    # frame; onset_strength looks back its lag (1 frame) plus its centring shift (its
    # default n_fft=2048 over 2 hops).
    onset_envelope = np.empty(n_frames, dtype=log_mel.dtype)
    context = 1 + 2048 // (2 * hop)
    for span in frame_blocks(n_frames=n_frames, block_frames=block_frames):
        frames[rows["mfcc"], span] = librosa.feature.mfcc(S=log_mel[:, span], n_mfcc=config.n_mfcc)
        first = max(span.start - context, 0)
        onset = librosa.onset.onset_strength(S=log_mel[:, first : span.stop], sr=sr, hop_length=hop)
        onset_envelope[span] = onset[span.start - first :]
    return frames, onset_envelope


def frame_blocks(*, n_frames: int, block_frames: int) -> Iterator[slice]:
    """Consecutive runs of ``block_frames`` frames (the last may be shorter) covering ``n_frames``.

    Parameters
    ----------
    n_frames : int
        Frames in all.
    block_frames : int >= 1
        Frames per block.

    Yields
    ------
    slice
        Frames ``[start, stop)`` of one block, step 1.
    """
    for start in range(0, n_frames, block_frames):
        yield slice(start, min(start + block_frames, n_frames))


def check_block_frames(block_frames: int) -> None:
    """Refuse a block size that is not a positive integer.

    Parameters
    ----------
    block_frames : int
        STFT frames per block.

    Raises
    ------
    genre.errors.ParameterError
        ``block_frames`` is not an integer >= 1.
    """
    if isinstance(block_frames, bool) or not isinstance(block_frames, (int, np.integer)) or block_frames < 1:
        raise ParameterError(f"block_frames={block_frames!r}: must be a positive integer (STFT frames per block)")


def frame_span(*, y: np.ndarray, frames: slice, n_fft: int, hop_length: int, mode: str) -> np.ndarray:
    """The samples under a run of centred STFT frames, padded beyond the clip's ends.

    Frame ``t`` covers samples ``[t * hop_length - n_fft // 2, t * hop_length + n_fft // 2)``;
    outside ``y`` the samples are those of ``np.pad(y, n_fft // 2, mode=mode)``, what
    librosa's ``center=True`` analyses, so framing the span with ``center=False`` gives
    the same frames.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono waveform.
    frames : slice
        Frames ``[frames.start, frames.stop)``, step 1.
    n_fft : int
        Frame length in samples (even).
    hop_length : int
        Hop between frames in samples.
    mode : str
        ``np.pad`` mode: ``"constant"`` (zeros; librosa's STFT and RMS) or ``"edge"``
        (librosa's zero-crossing rate).

    Returns
    -------
    np.ndarray, shape ((frames.stop - frames.start - 1) * hop_length + n_fft,)
        A copy; ``y``'s dtype.
    """
    first = frames.start * hop_length - n_fft // 2
    stop = (frames.stop - 1) * hop_length + n_fft - n_fft // 2
    n_samples = y.shape[-1]
    inside = y[max(first, 0) : min(stop, n_samples)]
    return np.pad(inside, (max(-first, 0), max(stop - n_samples, 0)), mode=mode)


def magnitude_blocks(
    *, y: np.ndarray, S: np.ndarray | None, n_fft: int, hop_length: int, block_frames: int
) -> Iterator[tuple[slice, np.ndarray]]:
    """The magnitude STFT of a clip, ``block_frames`` frames at a time.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono waveform.
    S : np.ndarray, shape (1 + n_fft // 2, 1 + n_samples // hop_length), or None
        Magnitude STFT of ``y``, sliced if given; otherwise each block is computed from the
        samples under its frames (:func:`frame_span`), equal to the same columns of
        :func:`stft_magnitude`.
    n_fft : int
        Frame length in samples (Hann window).
    hop_length : int
        Hop between frames in samples.
    block_frames : int >= 1
        Frames per block; the last block may have fewer.

    Yields
    ------
    frames : slice
        The block's frames, ``[start, stop)``.
    block : np.ndarray, shape (1 + n_fft // 2, stop - start)
        Their magnitude spectra.
    """
    import librosa

    for frames in frame_blocks(n_frames=1 + y.shape[-1] // hop_length, block_frames=block_frames):
        if S is not None:
            yield frames, S[:, frames]
        else:
            span = frame_span(y=y, frames=frames, n_fft=n_fft, hop_length=hop_length, mode="constant")
            yield frames, np.abs(librosa.stft(span, n_fft=n_fft, hop_length=hop_length, center=False))


def spectral_contrast_bands(
    *, S: np.ndarray, freq: np.ndarray, sr: int, n_bands: int = 6, fmin: float = CONTRAST_FMIN, quantile: float = 0.02
) -> tuple[np.ndarray, np.ndarray]:
    """Peak and valley of each octave band, before ``librosa.feature.spectral_contrast`` takes dB.

    librosa's contrast is ``power_to_db(peak) - power_to_db(valley)`` of these magnitudes:
    ``power_to_db`` applied to magnitudes, so ``10 * log10(peak / valley)`` (half the
    amplitude ratio in dB, not a level difference in dB), with peak and valley each
    floored 80 dB (as ``power_to_db`` counts) below their own maximum over all bands and
    frames (and at ``amin=1e-10``). The bands themselves are per frame, so a long clip can
    be split into blocks of frames and converted to dB once, over the whole clip (the
    same band edges and quantiles as librosa 0.11).

    Parameters
    ----------
    S : np.ndarray, shape (n_bins, n_frames)
        Magnitude spectrogram.
    freq : np.ndarray, shape (n_bins,)
        Centre frequency of each bin in Hz.
    sr, n_bands, fmin
        The bands, as :func:`~genre.features.config.contrast_band_edges` places them.
    quantile : float
        Fraction of each band's bins, in (0, 1), averaged for the peak (the largest) and
        the valley (the smallest); at least one bin.

    Returns
    -------
    peak, valley : np.ndarray, shape (n_bands + 1, n_frames), float64
        Mean magnitude of the loudest and of the quietest bins of each band.

    Raises
    ------
    genre.errors.ParameterError
        A band starts above the Nyquist frequency ``sr / 2``.
    """
    edges = contrast_band_edges(sr=sr, n_bands=n_bands, fmin=fmin)
    peak, valley = np.zeros((2, n_bands + 1, S.shape[-1]))
    for k, (f_low, f_high) in enumerate(zip(edges[:-1], edges[1:])):
        band = (freq >= f_low) & (freq <= f_high)
        idx = np.flatnonzero(band)
        # librosa's bands share their edge bins, and the top band runs to the last bin.
        if k > 0:
            band[idx[0] - 1] = True
        if k == n_bands:
            band[idx[-1] + 1 :] = True
        sub_band = S[band] if k == n_bands else S[band][:-1]
        n_side = max(int(np.rint(quantile * np.sum(band))), 1)
        ordered = np.sort(sub_band, axis=0)
        valley[k] = np.mean(ordered[:n_side], axis=0)
        peak[k] = np.mean(ordered[-n_side:], axis=0)
    return peak, valley


def estimate_tuning(
    *, power_blocks: Iterable[np.ndarray], sr: int, n_fft: int, bins_per_octave: int = 12
) -> float:
    """``librosa.estimate_tuning`` of a power spectrogram given as consecutive blocks of frames.

    ``librosa.piptrack`` finds the pitched bins of each frame on its own, so it runs per
    block and keeps only the pitched (frequency, magnitude) pairs; the median-magnitude
    threshold and the tuning histogram are then taken over the pairs of all blocks, as
    ``librosa.estimate_tuning(S=power)`` does over the whole spectrogram.

    Parameters
    ----------
    power_blocks : iterable of np.ndarray, each shape (1 + n_fft // 2, n_block_frames)
        Power spectrogram (squared magnitude STFT), block by block.
    sr : int
        Sample rate in Hz.
    n_fft : int
        FFT length in samples.
    bins_per_octave : int
        Chroma bins per octave (``n_chroma``).

    Returns
    -------
    float
        Tuning deviation in fractions of a bin, in [-0.5, 0.5); 0 if no bin is pitched (a
        silent or constant clip), as librosa gives, without its warning, which would name
        no file.
    """
    import librosa

    pitches, magnitudes = [], []
    for power in power_blocks:
        pitch, magnitude = librosa.piptrack(S=power, sr=sr, n_fft=n_fft)
        pitched = pitch > 0
        pitches.append(pitch[pitched])
        magnitudes.append(magnitude[pitched])
    pitch, magnitude = np.concatenate(pitches), np.concatenate(magnitudes)
    if not pitch.size:
        return 0.0
    return float(librosa.pitch_tuning(pitch[magnitude >= np.median(magnitude)], bins_per_octave=bins_per_octave))


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

    ``librosa.feature.delta(frames, width=width, mode="interp")``: the slope of a line
    fitted to the ``width`` frames centred on each frame (the first and last
    ``width // 2`` frames take the slope of the fit to the clip's first or last ``width``
    frames). :func:`summarise` applies it to the whole clip's frames, so a delta near a
    segment's edge uses ``width // 2`` frames (4, 93 ms at 22050 Hz and 512-sample hops)
    of the neighbouring segment. Clips too short for ``width`` use the widest odd window
    that fits; a clip of fewer than 3 frames has zero deltas.

    Parameters
    ----------
    frames : np.ndarray, shape (..., n_frames)
        Per-frame values, time on the last axis.
    width : int
        Window length in frames (odd, >= 3).

    Returns
    -------
    np.ndarray, same shape as ``frames``
        Change per frame, in the units of ``frames`` per hop (``hop_length / sr`` s:
        23.2 ms at 512 samples and 22050 Hz).
    """
    import librosa

    n_frames = frames.shape[-1]
    width = min(width, n_frames if n_frames % 2 else n_frames - 1)
    if width < 3:
        return np.zeros_like(frames)
    return librosa.feature.delta(frames, width=width, axis=-1, mode="interp")


def tempo_bpm(
    *, onset_envelope: np.ndarray, sr: int, hop_length: int, block_frames: int = DEFAULT_BLOCK_FRAMES
) -> float:
    """Global tempo estimate from an onset envelope (``librosa.feature.tempo``'s).

    One value per clip: the feature table's ``tempo_bpm`` is this over the whole file's
    envelope (including a trailing remainder that gives no segment), repeated on every
    row of the track.

    librosa averages an autocorrelation tempogram over all frames; its columns are
    computed here ``block_frames`` at a time and summed, since the whole tempogram
    (8 s of lags per frame) is 150 times the size of the envelope.

    Parameters
    ----------
    onset_envelope : np.ndarray, shape (n_frames,)
        Onset strength per frame (see :func:`frame_descriptors`).
    sr : int
        Sample rate of the analysed audio in Hz.
    hop_length : int
        Hop between the envelope's frames in samples.
    block_frames : int >= 1
        Tempogram columns computed at a time.

    Returns
    -------
    float
        Tempo in beats per minute.

    Raises
    ------
    genre.errors.ParameterError
        ``block_frames`` is not a positive integer.
    """
    import librosa

    check_block_frames(block_frames)
    # librosa.feature.tempo's autocorrelation window, ac_size=8 s.
    win_length = int(librosa.time_to_frames(8.0, sr=sr, hop_length=hop_length))
    # What tempogram(center=True) frames: the envelope with linear ramps to 0 on both sides.
    padded = np.pad(onset_envelope, win_length // 2, mode="linear_ramp", end_values=0)
    n_frames = onset_envelope.shape[-1]
    total = np.zeros(win_length)
    for span in frame_blocks(n_frames=n_frames, block_frames=block_frames):
        columns = librosa.feature.tempogram(
            onset_envelope=padded[span.start : span.stop - 1 + win_length],
            sr=sr,
            hop_length=hop_length,
            win_length=win_length,
            center=False,
        )
        total += columns.sum(axis=-1)
    mean = (total / n_frames)[:, np.newaxis]
    return float(librosa.feature.tempo(tg=mean, sr=sr, hop_length=hop_length)[0])


def segment_bounds(*, n_samples: int, config: FeatureConfig) -> list[tuple[int, int, int]]:
    """Frame ranges of the full-length segments of a clip.

    Segments are consecutive, non-overlapping and ``segment_seconds`` long; a trailing
    remainder shorter than a segment gives no row (as in the public 3-second GTZAN
    tables), though it still reaches the last segment's edge frames, deltas and the
    clip's tempo. A segment of samples ``[start, stop)`` gets the frames
    ``[round(start / hop_length), round(stop / hop_length))`` of the clip's centred STFT:
    129 or 130 frames for 3 s at 22050 Hz and 512-sample hops. With
    ``segment_seconds == 0`` the whole clip is one segment.

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

    The deltas are taken over the whole clip's frames (:func:`delta_frames`, width 9)
    and then cut per segment, so a segment's delta rows depend on about 4 frames
    (93 ms at 22050 Hz and 512-sample hops) of neighbouring audio on each side, beyond
    the ``n_fft // 2`` samples each edge frame already covers. A frame enters the deltas
    of the 9 frames around it with weights ``k / 60``, ``k = -4 ... 4``, which sum to
    zero, so a ``*_delta_mean`` is, nearly exactly, the segment's net change per frame
    (end value minus start value, each smoothed over ±4 frames, over the frame count): it
    depends only on the ~8 frames around each of its two edges (reordering its interior
    frames leaves it unchanged to about 1e-14). It measures the trend across the
    segment; ``*_delta_std`` measures how fast the descriptor moves within it. Deltas
    are per frame (``hop_length / sr`` s).

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
    stat_funcs = {"mean": np.mean, "std": np.std}
    # Series by series: stacking them would copy the frames of a long recording twice more.
    out = np.empty((len(bounds), frames.shape[0], len(series), len(config.statistics)))
    for i, (_, first, stop) in enumerate(bounds):
        for k, values in enumerate(series):
            for j, stat in enumerate(config.statistics):
                out[i, :, k, j] = stat_funcs[stat](values[:, first:stop], axis=-1)
    return out.reshape(len(bounds), -1)
