"""Procedural music whose cues follow music-psychology findings on emotional expression.

Two pieces, both pure (no I/O):

* :func:`params_for_va` maps a target (valence, arousal) in [-1, 1]^2 to musical
  parameters (:class:`MusicParams`).
* :func:`render` turns parameters and a seed into a mono float signal: a chord progression,
  a bass line, a melody and (for higher arousal) simple percussion, by additive synthesis
  with envelopes. Deterministic in the seed: same parameters + seed -> same samples.

The cue -> emotion mapping follows the reviews and factorial studies below; where they
agree we use the cue, scaled so the extremes stay musical:

* Gabrielsson, A. & Lindström, E. (2010). The role of structure in the musical expression
  of emotions. In Juslin & Sloboda (eds.), *Handbook of Music and Emotion*, pp. 367-400.
  Major mode -> happiness / positive valence, minor -> sadness; fast tempo, loud, staccato,
  sharp attacks -> high activity; high pitch -> happy / active, low pitch -> sad / calm;
  dissonance -> unpleasant / tension.
* Juslin, P. N. & Laukka, P. (2004). Expression, perception, and induction of musical
  emotions. *J. New Music Research* 33(3):217-238. Cue tables: fast tempo, high sound
  level, bright timbre (much high-frequency energy), staccato and fast attacks for the
  high-arousal emotions (happiness, anger); slow, soft, dull, legato for sadness and
  tenderness.
* Eerola, T., Friberg, A. & Bresin, R. (2013). Emotional expression in music: contribution,
  linearity, and additivity of primary musical cues. *Front. Psychol.* 4:487. With cues
  varied factorially, mode and tempo had the largest effects; mode mainly drives valence
  (major -> positive), tempo mainly arousal; register, dynamics, articulation and timbre
  add smaller, mostly additive effects (higher register -> more positive valence and
  higher arousal; louder, brighter, more staccato -> higher arousal).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Tuple

import numpy as np

__all__ = ["SAMPLE_RATE", "MusicParams", "params_for_va", "render", "render_va"]

SAMPLE_RATE = 22050

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
# Harmonic minor: its raised 7th gives a major dominant (V), which makes the key - and so
# the mode - unambiguous; with natural minor the progression could pass for the relative major.
_MINOR = (0, 2, 3, 5, 7, 8, 11)
# Progressions as scale degrees (0 = tonic), one chord per bar. Tonic-heavy cadences
# (I-IV-V-I and relatives) so the mode is heard, not just implied.
_PROGRESSIONS = {
    "major": ((0, 3, 4, 0), (0, 5, 3, 4), (0, 3, 0, 4)),  # I-IV-V-I, I-vi-IV-V, I-IV-I-V
    "minor": ((0, 3, 4, 0), (0, 5, 3, 4), (0, 3, 0, 4)),  # i-iv-V-i, i-VI-iv-V, i-iv-i-V
}


@dataclass(frozen=True)
class MusicParams:
    """Musical parameters of one clip (all fields JSON-serialisable)."""

    tempo_bpm: float  # 60..160: arousal (Eerola et al. 2013: tempo the main arousal cue)
    mode: str  # "major" | "minor": valence (mode the main valence cue)
    loudness_db: float  # target RMS in dBFS: arousal
    register: int  # MIDI note at the centre of the melody: valence and arousal
    brightness: float  # 0..1, sets the harmonic roll-off (spectral slope): arousal
    articulation: float  # sounding fraction of each note, 1 = legato, ~0.4 = staccato
    attack_s: float  # note attack time: sharp attacks for high arousal
    dissonance: float  # 0..1: added 7ths / clusters for negative valence with tension
    notes_per_beat: float  # melodic density: 0.5, 1 or 2
    percussion: float  # 0..1 drum level, 0 for calm music
    duration_s: float = 20.0

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _lerp(x: float, lo: float, hi: float) -> float:
    """Map x in [-1, 1] linearly onto [lo, hi]."""
    return lo + (hi - lo) * (float(np.clip(x, -1.0, 1.0)) + 1.0) / 2.0


def params_for_va(valence: float, arousal: float, duration_s: float = 20.0) -> MusicParams:
    """Choose musical parameters that express (valence, arousal), both in [-1, 1].

    Mode is a choice (the strongest valence cue); every other parameter moves smoothly so
    neighbouring points of the VA plane sound alike. Out-of-range inputs raise ValueError.
    """
    for name, value in (("valence", valence), ("arousal", arousal)):
        if not np.isfinite(value) or not -1.0 <= value <= 1.0:
            raise ValueError(f"{name}={value!r}: expected a finite number in [-1, 1]")
    v, a = float(valence), float(arousal)
    tempo = round(_lerp(a, 60.0, 160.0) + 6.0 * v)  # tempo: arousal, slight lift if happy
    tempo = float(np.clip(tempo, 60.0, 160.0))
    if a < -0.45:
        density = 0.5
    elif a < 0.25:
        density = 1.0
    else:
        density = 2.0
    return MusicParams(
        tempo_bpm=tempo,
        mode="major" if v >= 0.0 else "minor",
        loudness_db=round(_lerp(a, -30.0, -13.0) + 1.0 * v, 2),
        register=int(round(67 + 5.0 * v + 4.0 * a)),
        brightness=round(float(np.clip(0.5 + 0.42 * a + 0.08 * v, 0.0, 1.0)), 3),
        articulation=round(_lerp(a, 0.98, 0.42), 3),
        attack_s=round(_lerp(a, 0.09, 0.004), 4),
        dissonance=round(float(np.clip(-v, 0.0, 1.0) * _lerp(a, 0.35, 1.0)), 3),
        notes_per_beat=density,
        percussion=round(float(np.clip((a + 0.25) / 1.0, 0.0, 1.0)), 3),
        duration_s=float(duration_s),
    )


def _midi_hz(note: np.ndarray) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(note, dtype=float) - 69.0) / 12.0)


def _tone(
    freq: float,
    n_on: int,
    amps: np.ndarray,
    attack_s: float,
    release_s: float,
    decay_rate: float,
    sr: int,
) -> np.ndarray:
    """One additive-synthesis note: harmonics ``amps`` (index k -> partial k+1).

    The note sounds for ``n_on`` samples, then releases exponentially. Higher partials
    decay faster (as in struck / plucked instruments), so timbre darkens over the note.
    """
    n_rel = int(release_s * sr)
    n = n_on + n_rel
    k = np.arange(1, len(amps) + 1, dtype=float)
    keep = (freq * k < 0.45 * sr) & (amps > 2e-3 * amps.max())  # audible, below Nyquist
    k, amps = k[keep], amps[keep]
    t = np.arange(n) / sr
    partial_env = np.exp(-np.outer(t, decay_rate * (0.35 + 0.65 * k)))
    sig = (np.sin(np.outer(t, 2.0 * np.pi * freq * k)) * partial_env) @ amps
    env = np.minimum(t / max(attack_s, 1e-4), 1.0)
    if n_rel:
        env[n_on:] *= np.exp(-(t[n_on:] - t[n_on]) * (5.0 / release_s))
    return sig * env


def _harmonics(brightness: float, n: int = 14, extra_slope: float = 0.0) -> np.ndarray:
    """Partial amplitudes k^-p: p=2.7 (dull, almost sine-like) .. p=0.8 (bright, buzzy)."""
    p = 2.7 - 1.9 * brightness + extra_slope
    k = np.arange(1, n + 1, dtype=float)
    return k ** -p / np.sum(k ** -p)


def _add(buf: np.ndarray, start: int, sig: np.ndarray, gain: float) -> None:
    end = min(len(buf), start + len(sig))
    if end > start:
        buf[start:end] += gain * sig[: end - start]


def _chord_notes(mode: str, degree: int, tonic: int, dissonance: float) -> List[int]:
    scale = _MAJOR if mode == "major" else _MINOR

    def note(step: int) -> int:
        return tonic + scale[step % 7] + 12 * (step // 7)

    notes = [note(degree), note(degree + 2), note(degree + 4)]
    if dissonance > 0.3:
        notes.append(note(degree + 6))  # seventh: mild tension
    if dissonance > 0.65:
        notes.append(note(degree) + 13)  # minor ninth above the root: a harsh cluster
    if dissonance > 0.85:
        notes.append(note(degree) + 6)  # tritone
    return notes


def _drums(n: int, p: MusicParams, rng: np.random.Generator, sr: int) -> np.ndarray:
    """Kick / snare / hi-hat pattern; denser and louder with arousal."""
    out = np.zeros(n)
    beat = int(round(60.0 / p.tempo_bpm * sr))
    n_beats = n // beat
    t = np.arange(int(0.25 * sr)) / sr
    kick = np.sin(2 * np.pi * (50.0 * t + 70.0 * (1 - np.exp(-t * 30.0)) / 30.0)) * np.exp(-t * 18)
    noise = rng.standard_normal(len(t))
    snare = (0.6 * noise + 0.4 * np.sin(2 * np.pi * 190.0 * t)) * np.exp(-t * 28)
    hat = np.diff(rng.standard_normal(len(t) + 1)) * np.exp(-t * 90)
    every_beat_kick = p.percussion > 0.75
    for b in range(n_beats):
        start = b * beat
        if b % 2 == 0 or every_beat_kick:
            _add(out, start, kick, 0.9)
        if b % 2 == 1 and p.percussion > 0.3:
            _add(out, start, snare, 0.45)
        if p.percussion > 0.45:
            _add(out, start, hat, 0.25)
            _add(out, start + beat // 2, hat, 0.18)
    return out * p.percussion


def render(params: MusicParams, seed: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Render a clip as float64 mono in [-1, 1]; deterministic in ``params`` and ``seed``."""
    p = params
    rng = np.random.default_rng(seed)
    n = int(round(p.duration_s * sr))
    beat_s = 60.0 / p.tempo_bpm
    beat = beat_s * sr
    n_bars = int(np.ceil(p.duration_s / (4 * beat_s)))
    tonic = 48 + int(rng.integers(0, 7))  # key: C3..F#3 chosen by the seed
    progression = _PROGRESSIONS[p.mode][int(rng.integers(0, len(_PROGRESSIONS[p.mode])))]
    scale = _MAJOR if p.mode == "major" else _MINOR
    release = 0.05 + 0.25 * p.articulation  # legato notes ring on
    decay = 0.6 + 5.0 * (1.0 - p.articulation)  # staccato notes are percussive

    cache: Dict[Tuple[str, int, int], np.ndarray] = {}

    def tone(kind: str, midi: int, n_on: int, amps: np.ndarray, attack_s: float) -> np.ndarray:
        # Progressions and melodies repeat pitches and lengths: synthesise each note once.
        key = (kind, midi, n_on)
        if key not in cache:
            cache[key] = _tone(float(_midi_hz(midi)), n_on, amps, attack_s, release, decay, sr)
        return cache[key]

    chords = np.zeros(n)
    bass = np.zeros(n)
    melody = np.zeros(n)
    hits = 1 if p.percussion <= 0.0 else (2 if p.percussion < 0.6 else 4)
    pad_amps = _harmonics(p.brightness, extra_slope=0.5)
    lead_amps = _harmonics(p.brightness)
    bass_amps = _harmonics(0.2, n=4)
    chord_centre = p.register - 10
    for bar in range(n_bars):
        degree = progression[bar % len(progression)]
        notes = _chord_notes(p.mode, degree, tonic, p.dissonance)
        notes = [m + 12 * int(np.round((chord_centre - m) / 12.0)) for m in notes]
        for h in range(hits):
            start = int(round((bar * 4 + h * 4 / hits) * beat))
            n_on = int(4 / hits * beat * p.articulation)
            for m in notes:
                _add(chords, start, tone("pad", m, n_on, pad_amps, p.attack_s), 1.0)
        root = tonic + scale[degree % 7] - 12
        for h in range(2):
            start = int(round((bar * 4 + 2 * h) * beat))
            n_on = int(2 * beat * p.articulation)
            _add(bass, start, tone("bass", root, n_on, bass_amps, 0.01), 1.0)

    # Melody: a seeded random walk on the scale around the register, landing on chord
    # tones on strong beats; larger leaps for higher arousal (wider pitch variability).
    step_s = beat_s / p.notes_per_beat
    n_notes = int(p.duration_s / step_s)
    pos = 0  # scale steps relative to the register's nearest tonic octave
    base = tonic + 12 * int(round((p.register - tonic) / 12.0))
    max_leap = 2 if p.tempo_bpm < 100 else 3
    for i in range(n_notes):
        t_beats = i / p.notes_per_beat
        if rng.random() < 0.12 and i % 2 == 1:
            continue  # a rest now and then
        pos = int(np.clip(pos + int(rng.integers(-max_leap, max_leap + 1)), -4, 7))
        if t_beats % 2 == 0:  # strong beat: snap to a chord tone (scale steps 0, 2, 4)
            degree = progression[int(t_beats // 4) % len(progression)]
            rel = (pos - degree) % 7
            pos += {0: 0, 1: -1, 2: 0, 3: -1, 4: 0, 5: -1, 6: 1}[rel]
        m = base + scale[pos % 7] + 12 * (pos // 7)
        start = int(round(t_beats * beat))
        n_on = int(step_s * sr * p.articulation)
        _add(melody, start, tone("lead", m, n_on, lead_amps, p.attack_s), 1.0)

    mix = 0.55 * melody + 0.22 * chords / 3.0 + 0.3 * bass + _drums(n, p, rng, sr)
    fade = int(0.4 * sr)
    ramp = np.linspace(0.0, 1.0, fade)
    mix[:fade] *= ramp
    mix[-fade:] *= ramp[::-1]
    rms = float(np.sqrt(np.mean(mix**2)))
    if rms > 0:
        mix *= 10.0 ** (p.loudness_db / 20.0) / rms
    # Soft limiter so loud clips do not clip: tanh above 0.7 of full scale.
    over = np.abs(mix) > 0.7
    mix[over] = np.sign(mix[over]) * (0.7 + 0.29 * np.tanh((np.abs(mix[over]) - 0.7) / 0.29))
    return mix


def render_va(valence: float, arousal: float, seed: int,
              duration_s: float = 20.0) -> Tuple[MusicParams, np.ndarray]:
    """Convenience: parameters for (valence, arousal) and the rendered clip."""
    params = params_for_va(valence, arousal, duration_s)
    return params, render(params, seed)
