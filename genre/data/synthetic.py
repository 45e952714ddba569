"""The built-in synthetic corpus: a small, generated, labelled audio dataset.

It is the default source of the demo and of the tests: a smoke-test corpus that needs no
download, not music research data. Six made-up "genres" differ in tempo, rhythm
(four-on-the-floor, 3/4, syncopated, irregular, none), timbre (sine, triangle, saw,
square, plucked, filtered-noise drums) and harmony (major and minor triads, seventh
chords, drones, dissonant clusters), so handcrafted features (chroma, MFCC, spectral
centroid, zero-crossing rate, tempo) separate them while loudness alone does not.

=============  =========  ============================================================
genre          tempo/bpm  content
=============  =========  ============================================================
``ambient``    (60-80)    no percussion; sine drone, slow major-seventh pads, soft wind
``breakbeat``  92-108     swung syncopated kick/snare, ghost notes, square bass, 7th stabs
``folk``       100-120    plucked major arpeggios in eighths, sine bass; no drums
``industrial`` 140-160    random metallic hits, overdriven kick, distorted clusters, hiss
``techno``     122-132    four-on-the-floor kick, off-beat hats, saw bass riff, minor pad
``waltz``      84-100     3/4 "oom-pah-pah" in triangle waves, sine melody with vibrato
=============  =========  ============================================================

Each genre has a few made-up artists with their own key, tempo, brightness, room and
rhythm variant, so that group-aware splits (``group`` column) matter. Every clip is drawn
from a :func:`numpy.random.default_rng` seeded from ``(seed, genre, index)``, so a corpus
is the same, byte for byte, on every run. (Across machines too, unless two CPUs' maths
libraries differ in a last bit that flips a 16-bit rounding; the checksums kept with a
corpus are always those of the local generation, so such a corpus still verifies.)

Layout written by :func:`make_synthetic_corpus`::

    ROOT/<genre>/<genre>.<NNNNN>.wav   16-bit PCM mono
    ROOT/manifest.csv                  path,label,group (paths relative to ROOT)
    ROOT/checksums.json                size and sha256 of every file, written last
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np

from genre.atomic import atomic_open, atomic_write_bytes, atomic_write_text, file_sha256
from genre.errors import ParameterError

log = logging.getLogger(__name__)

#: Generator version. Bump it whenever the generated audio changes: it names the
#: default corpus folder, so an old cache is never mistaken for the new corpus.
SYNTHETIC_VERSION = "v2"

#: Folder name of the default corpus under ``$GENRE_DATA_HOME``.
CORPUS_DIRNAME = f"synthetic-{SYNTHETIC_VERSION}"

#: Environment variable naming the data cache; ``~/.cache/genre`` when unset or empty.
DATA_HOME_ENV = "GENRE_DATA_HOME"

MANIFEST_NAME = "manifest.csv"
CHECKSUMS_NAME = "checksums.json"
CHECKSUMS_FORMAT = "genre-synthetic-checksums/1"

#: Defaults of :func:`make_synthetic_corpus`; :func:`ensure_synthetic_corpus` builds this corpus.
DEFAULT_N_PER_GENRE = 10
DEFAULT_SECONDS = 6.0
DEFAULT_SR = 22050
DEFAULT_SEED = 0
DEFAULT_N_ARTISTS = 5  # five artists per genre: enough groups for artist-disjoint 5-fold CV

#: Peak level of a clip before its random gain, in dBFS.
PEAK_DBFS = -3.0
#: Largest random attenuation below :data:`PEAK_DBFS`, in dB (so loudness is no label cue).
GAIN_SPREAD_DB = 6.0

_MAX_SECONDS = 600.0
_MIN_SR, _MAX_SR = 8000, 96000


# -- small signal helpers ---------------------------------------------------------------
# Only numpy: scipy.signal alone takes seconds to import, more than generating the corpus.


def _hz(midi: np.ndarray | float) -> np.ndarray:
    """MIDI note number(s) -> frequency in Hz (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


def _wave(phase: np.ndarray, shape: str) -> np.ndarray:
    """Naive oscillator of ``phase`` (in cycles); aliasing is harmless for a smoke-test corpus."""
    if shape == "sine":
        return np.sin(2.0 * np.pi * phase)
    frac = phase - np.floor(phase)  # faster than ``% 1.0``
    if shape == "tri":
        return 4.0 * np.abs(frac - 0.5) - 1.0
    if shape == "saw":
        return 2.0 * frac - 1.0
    if shape == "square":
        return np.where(frac < 0.5, 1.0, -1.0)
    raise ValueError(shape)  # internal: shapes are fixed in this module


def _lowpass(y: np.ndarray, sr: int, cutoff: float) -> np.ndarray:
    """Gentle low-pass for whole clips: a triangular FIR (two moving averages), -3 dB near ``cutoff`` Hz."""
    width = int(round(0.32 * sr / cutoff))
    if width < 2:
        return y
    kernel = np.convolve(np.ones(width), np.ones(width))
    return np.convolve(y, kernel / kernel.sum(), mode="same")


def _highpass(y: np.ndarray) -> np.ndarray:
    """Second difference: +12 dB/octave tilt that leaves mostly the top octaves of noise."""
    return np.diff(y, n=2, prepend=y[:2])


def _band(y: np.ndarray, sr: int, low: float | None, high: float | None) -> np.ndarray:
    """Zero-phase Butterworth-shaped (order 2) band filter in the frequency domain, for short one-shots."""
    f = np.fft.rfftfreq(y.size, 1.0 / sr)
    gain = np.ones_like(f)
    if high is not None:
        gain /= np.sqrt(1.0 + (f / min(high, 0.45 * sr)) ** 4)
    if low is not None:
        r = (f / min(low, 0.4 * sr)) ** 4
        gain *= np.sqrt(r / (1.0 + r))
    return np.fft.irfft(np.fft.rfft(y) * gain, n=y.size)


def _place(n: int, sr: int, times: np.ndarray, amps: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Mix copies of a one-shot ``sample`` at ``times`` (s) with gains ``amps``.

    One slice addition per hit (a few dozen per clip), not per sample.
    """
    y = np.zeros(n)
    starts = np.round(np.asarray(times) * sr).astype(np.int64)
    for start, amp in zip(starts.tolist(), np.broadcast_to(amps, starts.shape).tolist()):
        if amp and 0 <= start < n:
            m = min(sample.size, n - start)
            y[start : start + m] += amp * sample[:m]
    return y


def _note_grid(n: int, sr: int, onsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each sample: index of the sounding note, seconds since its onset, and whether one sounds."""
    starts = np.round(np.asarray(onsets) * sr).astype(np.int64)
    i = np.arange(n)
    k = np.searchsorted(starts, i, side="right") - 1
    active = k >= 0
    k = np.maximum(k, 0)
    return k, (i - starts[k]) / sr, active


def _notes(
    c: "_Clip",
    onsets: np.ndarray,
    durations: np.ndarray,
    midi: np.ndarray,
    *,
    shape: str,
    attack: float = 0.005,
    decay: float = math.inf,
    release: float = 0.03,
    vibrato: float = 0.0,
) -> np.ndarray:
    """Notes starting at ``onsets`` (s, sorted) lasting ``durations`` (s); NaN pitch = rest.

    ``midi`` has shape (n_onsets,) for a melody or (n_onsets, n_voices) for chords.
    Vectorised over samples: per-sample frequency and envelope come from the note grid,
    and the phase is the running sum of the frequency, so pitch changes never click.
    """
    if len(onsets) == 0:  # short clips may hold no onset of a sparse part
        return np.zeros(c.n)
    k, local, active = _note_grid(c.n, c.sr, onsets)
    dur = np.take(np.asarray(durations, dtype=np.float64), k)
    env = np.minimum(local / attack, 1.0) * np.maximum(np.minimum((dur - local) / release, 1.0), 0.0) * active
    if math.isfinite(decay):
        env *= np.exp(-local / decay)
    midi = np.asarray(midi, dtype=np.float64).reshape(len(onsets), -1)
    sounding = ~np.isnan(midi)
    step = _hz(np.where(sounding, midi, 60.0)) / c.sr  # cycles per sample
    wobble = 1.0 + vibrato * np.sin(2.0 * np.pi * 5.2 * c.t) if vibrato else None
    y = np.zeros(c.n)
    for v in range(midi.shape[1]):  # a few voices, each vectorised over samples
        inc = np.take(step[:, v], k)
        voice = _wave(np.cumsum(inc if wobble is None else inc * wobble), shape)
        if not sounding[:, v].all():
            voice *= np.take(sounding[:, v], k)
        y += voice
    return y * env


def _pluck(c: "_Clip", onsets: np.ndarray, midi: np.ndarray, *, decay: float, n_harmonics: int = 6) -> np.ndarray:
    """Plucked-string tones: additive partials whose upper harmonics die faster (bright attack)."""
    if len(onsets) == 0:
        return np.zeros(c.n)
    k, local, active = _note_grid(c.n, c.sr, onsets)
    theta = 2.0 * np.pi * np.cumsum(np.take(_hz(midi), k)) / c.sr
    # sin(h*theta) by the Chebyshev recurrence and exp(-a*h) as powers: two trig and two exp
    # evaluations for all partials instead of two per partial.
    two_cos = 2.0 * np.cos(theta)
    prev, cur = np.zeros(c.n), np.sin(theta)
    amp = np.exp(-local / decay)
    fall = np.exp(-local * 0.7 / (c.bright * decay))
    y = np.zeros(c.n)
    for h in range(1, n_harmonics + 1):
        y += cur * amp / h
        prev, cur = cur, two_cos * cur - prev
        amp = amp * fall
    return y * np.minimum(local / 0.002, 1.0) * active


def _steps(c: "_Clip", per_beat: int) -> tuple[np.ndarray, np.ndarray]:
    """Onset times (s) of a metric grid of ``per_beat`` steps per beat, and their step numbers.

    The grid starts at a random point of the bar (``c.offset``) so clips do not all begin
    on a downbeat; swing delays every odd step.
    """
    step = 60.0 / (c.tempo * per_beat)
    first = -int(c.offset // step) - 1
    k = np.arange(first, first + int(c.seconds / step) + 3)
    times = c.offset + k * step
    if per_beat % 2 == 0:
        times = times + (k % 2) * c.swing * step
    keep = (times >= 0.0) & (times < c.seconds)
    return times[keep], k[keep]


def _kick(c: "_Clip", *, drive: float = 1.0) -> np.ndarray:
    """Kick drum: a sine whose pitch falls from about 150 to 50 Hz, optionally overdriven."""
    t = np.arange(int(0.35 * c.sr)) / c.sr
    freq = 50.0 + 100.0 * np.exp(-t / 0.03)
    y = np.sin(2.0 * np.pi * np.cumsum(freq) / c.sr) * np.exp(-t / 0.12)
    return np.tanh(drive * y) / np.tanh(drive)


def _noise_hit(c: "_Clip", low: float | None, high: float | None, decay: float, length: float) -> np.ndarray:
    """Filtered-noise percussion (hat, snare, clap, metal), decaying with time constant ``decay`` (s)."""
    t = np.arange(int(length * c.sr)) / c.sr
    noise = _band(c.rng.standard_normal(t.size), c.sr, low, high)
    return noise / (np.abs(noise).max() + 1e-12) * np.exp(-t / decay)


def _room(c: "_Clip", y: np.ndarray) -> np.ndarray:
    """The artist's room: a few early reflections (delays in ms, gains) mixed in at ``c.room``."""
    wet = np.zeros_like(y)
    for delay_ms, gain in c.taps:
        d = int(delay_ms * c.sr / 1000.0)
        if 0 < d < y.size:
            wet[d:] += gain * y[:-d]
    return y + c.room * wet


# -- the genres -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Artist:
    """Traits shared by every clip of one made-up artist."""

    tonic: int  # pitch class of the home key, 0 = C
    tempo: float  # beats per minute
    bright: float  # scales filter cut-offs and harmonic decay (1 = neutral)
    room: float  # reflection mix, 0..1
    taps: tuple[tuple[float, float], ...]  # early reflections: (delay in ms, gain)
    shimmer: float  # beating rate of sustained chords, Hz (a detuned-chorus effect)
    swing: float  # delay of odd grid steps, fraction of a step
    variant: int  # picks among a genre's rhythm patterns and progressions


@dataclass(frozen=True)
class _Clip:
    """Everything one genre renderer needs; ``rng`` is the clip's own stream."""

    rng: np.random.Generator
    sr: int
    n: int
    tonic: int
    tempo: float
    bright: float
    room: float
    taps: tuple[tuple[float, float], ...]
    shimmer: float
    swing: float
    variant: int
    offset: float  # seconds into the bar at which the clip starts

    @property
    def seconds(self) -> float:
        return self.n / self.sr

    @property
    def t(self) -> np.ndarray:
        return np.arange(self.n) / self.sr


def _chords(c: _Clip, progression: tuple[tuple[int, ...], ...], bars: np.ndarray, octave: int) -> np.ndarray:
    """MIDI pitches, shape (len(bars), n_voices): the progression's chord in each bar, in the clip's key."""
    chord = np.array(progression, dtype=np.float64)
    return 12 * octave + c.tonic + chord[np.asarray(bars) % len(progression)]


def _techno(c: _Clip) -> np.ndarray:
    """Four-on-the-floor kick, off-beat hats, claps on 2 and 4, 16th-note saw bass, minor pad."""
    times, k = _steps(c, 4)
    beat = (k % 4) == 0
    y = _place(c.n, c.sr, times[beat], 1.0, _kick(c, drive=2.0))
    y += _place(c.n, c.sr, times[(k % 4) == 2], 0.35, _noise_hit(c, 7000.0, None, 0.04, 0.15))
    y += _place(c.n, c.sr, times[np.isin(k % 16, (4, 12))], 0.4, _noise_hit(c, 1000.0, 3000.0, 0.05, 0.2))
    # The artist's bass riff (semitones above the root), one note per 16th.
    riffs = ((0, 12, 0, 7, 0, 12, 0, 10), (0, 0, 12, 0, 3, 0, 12, 7), (0, 12, 12, 0, 0, 7, 12, 0))
    riff = np.array(riffs[c.variant % len(riffs)], dtype=np.float64)
    bass = _notes(c, times, np.full(times.size, 0.09), 36 + c.tonic + riff[k % riff.size], shape="saw", decay=0.12)
    y += 0.5 * _lowpass(bass, c.sr, 900.0 * c.bright)
    # Minor pad (i - VI - VII - i), one chord per two bars, starting on the bar line before the clip.
    chord_s = 8 * 60.0 / c.tempo
    starts = np.arange(c.offset % chord_s - chord_s, c.seconds, chord_s)
    bars = np.arange(starts.size)
    pitches = _chords(c, ((0, 3, 7), (-4, 0, 3), (-2, 2, 5), (0, 3, 7)), bars, 4)
    pad = _notes(c, np.maximum(starts, 0.0), np.full(starts.size, 1e3), pitches, shape="saw", attack=0.3)
    y += 0.1 * _lowpass(pad, c.sr, 1500.0 * c.bright) * (1.0 + 0.3 * np.sin(2.0 * np.pi * c.shimmer * c.t))
    return y


def _waltz(c: _Clip) -> np.ndarray:
    """3/4 "oom-pah-pah": bass on beat 1, major triads on beats 2 and 3, sine melody with vibrato."""
    times, k = _steps(c, 1)
    pos, bar = k % 3, k // 3
    progressions = (((0, 4, 7), (-3, 0, 4), (5, 9, 12), (7, 11, 14)), ((0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7)))
    pitches = _chords(c, progressions[c.variant % 2], bar, 4)
    y = 0.6 * _notes(c, times, np.where(pos == 0, 0.6, 0.0), pitches[:, 0] - 12, shape="tri", decay=0.5)
    y += 0.22 * _notes(c, times, np.where(pos > 0, 0.35, 0.0), pitches, shape="tri", decay=0.25)
    # Melody: a chord tone an octave up on each beat, sometimes held over the next.
    melody = pitches[np.arange(times.size), c.rng.integers(0, 3, size=times.size)] + 12
    held = c.rng.random(times.size) < 0.3
    y += 0.35 * _notes(c, times, np.where(held, 1.2, 0.55), melody, shape="sine", attack=0.03, vibrato=0.006)
    return y


def _breakbeat(c: _Clip) -> np.ndarray:
    """Syncopated, swung kick/snare with ghost notes, square-ish bass and dominant-seventh stabs."""
    times, k = _steps(c, 4)
    step = k % 16
    is_kick = np.isin(step, ((0, 3, 6, 10), (0, 7, 10, 13), (0, 3, 8, 11, 14))[c.variant % 3])
    y = _place(c.n, c.sr, times[is_kick], 1.0, _kick(c))
    snare = _noise_hit(c, 800.0, 5000.0, 0.07, 0.25)
    body = np.arange(int(0.08 * c.sr)) / c.sr
    snare[: body.size] += 0.4 * np.sin(2.0 * np.pi * 190.0 * body) * np.exp(-body / 0.03)
    ghost = (c.rng.random(times.size) < 0.18) & ~is_kick
    y += _place(c.n, c.sr, times, np.where(np.isin(step, (4, 12)), 0.9, np.where(ghost, 0.25, 0.0)), snare)
    hats = np.where(k % 2 == 0, 0.22, 0.12) * (0.8 + 0.4 * c.rng.random(times.size))
    y += _place(c.n, c.sr, times, hats, _noise_hit(c, 6000.0, None, 0.025, 0.1))
    # Bass doubles the kick; seventh-chord stabs answer it on off-steps.
    pitches = _chords(c, ((0, 4, 7, 10), (5, 9, 12, 15)), k // 32, 4)
    bass_pitch = np.where(is_kick, pitches[:, 0] - 24, np.nan)
    bass = _notes(c, times, np.full(times.size, 0.14), bass_pitch, shape="square", decay=0.2)
    y += 0.45 * _lowpass(bass, c.sr, 700.0 * c.bright)
    stab = np.isin(step, (2, 7, 11, 14))
    stabs = _notes(c, times, np.where(stab, 0.11, 0.0), pitches, shape="square", decay=0.08)
    y += 0.1 * _lowpass(stabs, c.sr, 2500.0 * c.bright)
    return y


def _ambient(c: _Clip) -> np.ndarray:
    """No percussion: root-and-fifth sine drone, slow shimmering major-seventh pads, soft wind."""
    t = c.t
    root = _hz(36 + c.tonic)
    swell = 0.75 + 0.25 * np.sin(2.0 * np.pi * (0.08 + 0.02 * c.variant) * t + c.rng.uniform(0, 2 * np.pi))
    y = 0.5 * swell * (np.sin(2.0 * np.pi * root * t) + 0.6 * np.sin(2.0 * np.pi * 1.5 * root * t))
    # Chords every ~4 s with long attacks and releases, so no clear onsets.
    chord_s = 300.0 / c.tempo
    starts = np.arange(0.0, c.seconds, chord_s)
    bars = np.arange(starts.size) + int(c.rng.integers(0, 4))
    pitches = _chords(c, ((0, 4, 7, 11), (5, 9, 12, 16), (2, 7, 9, 14), (-3, 4, 7, 12)), bars, 4)
    pad = _notes(c, starts, np.full(starts.size, chord_s), pitches, shape="sine", attack=1.2, release=0.8)
    y += 0.25 * pad * (1.0 + 0.4 * np.sin(2.0 * np.pi * c.shimmer * t))
    wind = _lowpass(c.rng.standard_normal(c.n), c.sr, 500.0 * c.bright)
    wind *= 0.5 + 0.5 * np.sin(2.0 * np.pi * 0.15 * t + c.rng.uniform(0, 2 * np.pi))
    return y + 0.6 * wind / (np.abs(wind).max() + 1e-12)


def _industrial(c: _Clip) -> np.ndarray:
    """Irregular metallic hits, an overdriven kick, and distorted dissonant (semitone/tritone) clusters."""
    times, k = _steps(c, 4)
    y = _place(c.n, c.sr, times[k % 8 == 0], 1.0, _kick(c, drive=6.0))
    # Metal: inharmonic partials plus band-passed noise, on random 16ths.
    th = np.arange(int(0.3 * c.sr)) / c.sr
    base = c.rng.uniform(350.0, 700.0)
    metal = sum(np.sin(2.0 * np.pi * base * r * th) for r in (1.0, 1.48, 2.13, 2.76, 3.9)) * np.exp(-th / 0.08)
    metal = 0.3 * metal + _noise_hit(c, 3000.0, 9000.0, 0.06, 0.3)
    hit = c.rng.random(times.size) < 0.45
    y += _place(c.n, c.sr, times[hit], 0.5 + 0.5 * c.rng.random(int(hit.sum())), metal)
    # Clusters change every bar; tanh drive adds dense harmonics (high ZCR, flat spectrum).
    bars = np.arange(0.0, c.seconds, 4 * 60.0 / c.tempo)
    clusters = np.array(((0, 1, 6, 11), (0, 1, 2, 8), (0, 6, 7, 13)))
    roots = 48 + c.tonic + c.rng.integers(-2, 3, size=bars.size)
    pitches = roots[:, None] + clusters[(c.variant + np.arange(bars.size)) % len(clusters)]
    y += 0.5 * np.tanh(1.5 * _notes(c, bars, np.full(bars.size, 1e3), pitches, shape="square"))
    noise = _highpass(c.rng.standard_normal(c.n))
    return y + 0.25 * noise / np.abs(noise).max()


def _folk(c: _Clip) -> np.ndarray:
    """Plucked major-key arpeggios in 6/8 (six eighths a bar) over a soft sine bass; no drums."""
    times, k = _steps(c, 2)
    pos, bar = k % 6, k // 6
    pitches = _chords(c, ((0, 4, 7), (7, 11, 14), (-3, 0, 4), (5, 9, 12)), bar, 4)
    patterns = np.array(((0, 1, 2, 3, 2, 1), (0, 2, 1, 2, 3, 2), (0, 1, 3, 1, 2, 1)))
    order = patterns[c.variant % 3][pos]
    # Step 3 of a pattern is the root an octave up.
    notes = pitches[np.arange(times.size), np.where(order == 3, 0, order)] + np.where(order == 3, 12, 0)
    y = 0.7 * _pluck(c, times, notes, decay=0.35 * c.bright)
    down = pos == 0
    bass = _notes(c, times[down], np.full(int(down.sum()), 1.5), pitches[down, 0] - 12, shape="sine", decay=0.8)
    y += 0.4 * bass
    return y


#: Renderers and tempo ranges (bpm) of the genres, in manifest order.
_GENRES: Mapping[str, tuple[Callable[[_Clip], np.ndarray], tuple[float, float]]] = MappingProxyType(
    {
        "ambient": (_ambient, (60.0, 80.0)),
        "breakbeat": (_breakbeat, (92.0, 108.0)),
        "folk": (_folk, (100.0, 120.0)),
        "industrial": (_industrial, (140.0, 160.0)),
        "techno": (_techno, (122.0, 132.0)),
        "waltz": (_waltz, (84.0, 100.0)),
    }
)

#: Labels of the synthetic corpus.
GENRES: tuple[str, ...] = tuple(_GENRES)


# -- generation -------------------------------------------------------------------------


def _rng(seed: int, genre: str, *path: int) -> np.random.Generator:
    """A generator seeded from ``(seed, genre, *path)``; crc32 keeps the genre key stable across runs."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(genre.encode("utf-8")), *path]))


def _artist(seed: int, genre: str, index: int) -> _Artist:
    """Draw the traits of artist ``index`` of ``genre``: the same for every clip of that artist."""
    rng = _rng(seed, genre, 0, index)
    low, high = _GENRES[genre][1]
    return _Artist(
        tonic=int(rng.integers(0, 12)),
        tempo=float(rng.uniform(low, high)),
        bright=float(rng.uniform(0.7, 1.4)),
        room=float(rng.uniform(0.0, 0.5)),
        taps=tuple(zip(np.sort(rng.uniform(7.0, 80.0, 4)).tolist(), (0.6, 0.45, 0.3, 0.2))),
        shimmer=float(rng.uniform(0.5, 4.0)),
        swing=float(rng.uniform(0.0, 0.3)) if genre == "breakbeat" else 0.0,
        variant=int(rng.integers(0, 6)),
    )


def _render(seed: int, genre: str, index: int, artist: _Artist, *, seconds: float, sr: int) -> np.ndarray:
    """One clip as int16 samples: the genre's mix with per-clip key, tempo, gain and noise."""
    rng = _rng(seed, genre, 1, index)
    n = int(round(seconds * sr))
    tempo = artist.tempo * (1.0 + rng.uniform(-0.02, 0.02))
    clip = _Clip(
        rng=rng,
        sr=sr,
        n=n,
        tonic=(artist.tonic + int(rng.choice([-2, 0, 0, 2]))) % 12,
        tempo=tempo,
        bright=artist.bright * rng.uniform(0.9, 1.1),
        room=artist.room,
        taps=artist.taps,
        shimmer=artist.shimmer,
        swing=artist.swing,
        variant=artist.variant,
        offset=float(rng.uniform(0.0, 4 * 60.0 / tempo)),
    )
    y = _room(clip, _GENRES[genre][0](clip))
    y = y + rng.standard_normal(n) * 10.0 ** (rng.uniform(-55.0, -45.0) / 20.0) * np.abs(y).max()
    # Short fades so no clip starts or ends with a click.
    fade = min(int(0.01 * sr), n // 2)
    ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
    y[:fade] *= ramp
    y[n - fade :] *= ramp[::-1]
    peak_db = PEAK_DBFS - rng.uniform(0.0, GAIN_SPREAD_DB)
    y = y / np.abs(y).max() * 10.0 ** (peak_db / 20.0)
    return np.round(y * 32767.0).astype(np.int16)  # peak <= -3 dBFS: no clipping possible


def _wav_bytes(samples: np.ndarray, sr: int) -> bytes:
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, samples, sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name}={value!r}: must be an integer")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ParameterError(f"{name}={value!r}: must be {bound}")
    return int(value)


def _params(
    *, n_per_genre: int, seconds: float, sr: int, seed: int, n_artists_per_genre: int
) -> dict[str, object]:
    """Validated generation parameters, as recorded in ``checksums.json``."""
    n_per_genre = _check_int("n_per_genre", n_per_genre, 1, 99999)
    sr = _check_int("sr", sr, _MIN_SR, _MAX_SR)
    seed = _check_int("seed", seed, 0)
    n_artists_per_genre = _check_int("n_artists_per_genre", n_artists_per_genre, 1)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float, np.integer, np.floating)):
        raise ParameterError(f"seconds={seconds!r}: must be a number of seconds")
    if not 1.0 <= float(seconds) <= _MAX_SECONDS:  # also rejects NaN
        raise ParameterError(f"seconds={seconds!r}: must lie between 1 and {_MAX_SECONDS:g} seconds")
    return {
        "version": SYNTHETIC_VERSION,
        "n_per_genre": n_per_genre,
        "seconds": float(seconds),
        "sr": sr,
        "seed": seed,
        "n_artists_per_genre": n_artists_per_genre,
    }


_CLIP_NAME = re.compile(r"^(?P<genre>[a-z]+)\.(?P<index>\d{5})\.wav$")


def make_synthetic_corpus(
    root: str | os.PathLike,
    *,
    n_per_genre: int = DEFAULT_N_PER_GENRE,
    seconds: float = DEFAULT_SECONDS,
    sr: int = DEFAULT_SR,
    seed: int = DEFAULT_SEED,
    n_artists_per_genre: int = DEFAULT_N_ARTISTS,
) -> Path:
    """Generate the synthetic corpus into ``root``.

    Writes ``root/<genre>/<genre>.<NNNNN>.wav`` (16-bit PCM mono), then
    ``root/manifest.csv`` (``path,label,group``, paths relative to ``root``), then
    ``root/checksums.json``. Each file is written atomically, and in that order (an
    earlier manifest and checksum file are removed first), so an interrupted run never
    leaves a half-written file, nor a manifest or checksum file listing clips it did not
    write. Clips of this layout left over from a larger earlier corpus are
    removed; other files in ``root`` are left alone.

    Parameters
    ----------
    root : path-like
        Output folder, created if needed.
    n_per_genre : int
        Clips per genre, >= 1.
    seconds : float
        Duration of each clip in seconds, between 1 and 600.
    sr : int
        Sample rate in Hz, between 8000 and 96000.
    seed : int
        Non-negative seed; clip ``i`` of genre ``g`` depends only on ``(seed, g, i)``, its
        artist, ``seconds`` and ``sr``.
    n_artists_per_genre : int
        Made-up artists per genre, >= 1. Clip ``i`` belongs to artist ``i % n_artists_per_genre``
        (group ``<genre>-artist-<a>``), whose key, tempo, brightness and room it shares.

    Returns
    -------
    pathlib.Path
        The manifest, ``root/manifest.csv``.

    Raises
    ------
    ParameterError
        A parameter is out of range or of the wrong type, or ``root`` is an existing file.
    """
    params = _params(
        n_per_genre=n_per_genre, seconds=seconds, sr=sr, seed=seed, n_artists_per_genre=n_artists_per_genre
    )
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ParameterError(f"root={str(root)!r}: exists and is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    # A manifest or checksum file left from an earlier corpus would vouch for clips about
    # to change: drop them first, so either only exists while its corpus is complete.
    (root / CHECKSUMS_NAME).unlink(missing_ok=True)
    (root / MANIFEST_NAME).unlink(missing_ok=True)
    log.info("generating the synthetic corpus (%d clips) in %s", len(GENRES) * n_per_genre, root)

    rows: list[tuple[str, str, str]] = []
    files: dict[str, dict[str, object]] = {}
    for genre in GENRES:
        artists = [_artist(seed, genre, a) for a in range(min(n_artists_per_genre, n_per_genre))]
        for index in range(n_per_genre):
            artist = index % n_artists_per_genre
            rel = f"{genre}/{genre}.{index:05d}.wav"
            data = _wav_bytes(_render(seed, genre, index, artists[artist], seconds=float(seconds), sr=sr), sr)
            atomic_write_bytes(root / rel, data)
            rows.append((rel, genre, f"{genre}-artist-{artist}"))
            files[rel] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        _remove_stale_clips(root / genre, genre, n_per_genre)

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["path", "label", "group"])
    writer.writerows(rows)
    manifest = root / MANIFEST_NAME
    atomic_write_text(manifest, text.getvalue())
    manifest_bytes = text.getvalue().encode("utf-8")
    files[MANIFEST_NAME] = {"size": len(manifest_bytes), "sha256": hashlib.sha256(manifest_bytes).hexdigest()}

    record = {"format": CHECKSUMS_FORMAT, "params": params, "files": files}
    with atomic_open(root / CHECKSUMS_NAME, "w", encoding="utf-8", newline="\n") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
        handle.write("\n")
    return manifest


def _remove_stale_clips(folder: Path, genre: str, n_per_genre: int) -> None:
    """Delete ``<genre>.<NNNNN>.wav`` clips numbered beyond this corpus (only names this module writes)."""
    for path in folder.glob(f"{genre}.*.wav"):
        match = _CLIP_NAME.match(path.name)
        if match and match["genre"] == genre and int(match["index"]) >= n_per_genre:
            path.unlink(missing_ok=True)


# -- the default, cached corpus -----------------------------------------------------------


def data_home() -> Path:
    """The data cache folder: ``$GENRE_DATA_HOME``, or ``~/.cache/genre`` when unset or empty."""
    value = os.environ.get(DATA_HOME_ENV, "").strip()
    return Path(value).expanduser() if value else Path("~/.cache/genre").expanduser()


def default_corpus_root() -> Path:
    """Folder of the default corpus: ``data_home() / "synthetic-<version>"``."""
    return data_home() / CORPUS_DIRNAME


def verify_synthetic_corpus(root: str | os.PathLike, *, params: Mapping[str, object] | None = None) -> bool:
    """Whether ``root`` holds a complete, intact corpus (per its ``checksums.json``).

    Sizes are compared first (one ``stat`` per file) so most damage is found without
    hashing; then every file's sha256 is checked.

    Parameters
    ----------
    root : path-like
        A folder written by :func:`make_synthetic_corpus`.
    params : mapping or None
        When given, the generation parameters the corpus must have been made with
        (as returned in ``checksums.json["params"]``).

    Returns
    -------
    bool
        False when the checksum file is missing or unreadable, the parameters differ, or
        any listed file is missing, of another size, or of another sha256.
    """
    root = Path(root)
    record = _checksum_record(root)
    try:
        files = record["files"]
        if MANIFEST_NAME not in files:
            return False
        if params is not None and record.get("params") != dict(params):
            return False
        for rel, info in files.items():
            if (root / rel).stat().st_size != info["size"]:
                return False
        return all(file_sha256(root / rel) == info["sha256"] for rel, info in files.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def recorded_sha256(root: str | os.PathLike) -> dict[str, str]:
    """Each file of the corpus in ``root`` (path relative to it) -> the sha256 its ``checksums.json`` records.

    The manifest included; ``{}`` when the checksum file is missing, unreadable or of
    another format. :func:`verify_synthetic_corpus` says whether the files match.
    """
    try:
        return {str(rel): str(info["sha256"]) for rel, info in _checksum_record(Path(root))["files"].items()}
    except (KeyError, TypeError, AttributeError):
        return {}


def _checksum_record(root: Path) -> dict:
    """The corpus's ``checksums.json``; ``{}`` when it is missing, unreadable or of another format."""
    try:
        record = json.loads((root / CHECKSUMS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) and record.get("format") == CHECKSUMS_FORMAT else {}


def ensure_synthetic_corpus(root: str | os.PathLike | None = None) -> Path:
    """Return the manifest of the default synthetic corpus, generating it when needed.

    The corpus is (re)generated, with the defaults of :func:`make_synthetic_corpus`,
    when ``checksums.json`` is missing, was written for other parameters or another
    generator version, or any file is missing or differs in size or sha256.

    Parameters
    ----------
    root : path-like or None
        Corpus folder; ``None`` means :func:`default_corpus_root`
        (``$GENRE_DATA_HOME/synthetic-v1``, ``GENRE_DATA_HOME`` defaulting to ``~/.cache/genre``).

    Returns
    -------
    pathlib.Path
        ``root/manifest.csv``.
    """
    root = default_corpus_root() if root is None else Path(root)
    params = _params(
        n_per_genre=DEFAULT_N_PER_GENRE,
        seconds=DEFAULT_SECONDS,
        sr=DEFAULT_SR,
        seed=DEFAULT_SEED,
        n_artists_per_genre=DEFAULT_N_ARTISTS,
    )
    if verify_synthetic_corpus(root, params=params):
        return root / MANIFEST_NAME
    return make_synthetic_corpus(root)


__all__ = [
    "CORPUS_DIRNAME",
    "GENRES",
    "SYNTHETIC_VERSION",
    "data_home",
    "default_corpus_root",
    "ensure_synthetic_corpus",
    "make_synthetic_corpus",
    "recorded_sha256",
    "verify_synthetic_corpus",
]
