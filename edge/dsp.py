"""Small numpy filter design and resampling for the edge runtime, without ``scipy.signal``.

``import scipy.signal`` costs ~70 MB of peak RSS and ~0.6 s (it imports scipy.stats,
scipy.integrate and ~650 modules) for the few design functions the edge calls once at
start-up. These are the textbook formulas (analog Butterworth prototype, bilinear
transform, nearest pole-zero pairing into second-order sections, windowed-sinc FIR,
polyphase resampling), tested against SciPy (a test and server dependency) to 1e-10;
``firwin`` and ``sosfilt_zi`` follow SciPy's arithmetic and give the same bits.

The streaming second-order-section kernel is SciPy's compiled loop, loaded from its file
(:func:`sosfilt_kernel`): it is what makes filter output bit-identical whatever the
chunking (a numpy block formulation is exact only to rounding).
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import logging
import math
import os
import sys
from typing import Callable, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = [
    "butter_sos",
    "notch_sos",
    "firwin",
    "sos2tf",
    "group_delay",
    "sosfilt_zi",
    "sosfilt_kernel",
    "sosfilt",
    "resample_poly",
    "trapezoid",
]

log = logging.getLogger(__name__)

Band = Union[float, Tuple[float, float], Sequence[float]]


# --------------------------------------------------------------------------- IIR design
def _butter_analog_poles(order: int) -> np.ndarray:
    """Poles of the unit-cutoff analog Butterworth low-pass (no zeros, gain 1)."""
    return -np.exp(1j * np.pi * np.arange(-order + 1, order, 2) / (2 * order))


def _bilinear(z: np.ndarray, p: np.ndarray, k: float, fs2: float):
    """Bilinear transform of analog zeros/poles/gain (``fs2`` = 2 x sample rate)."""
    zd = (fs2 + z) / (fs2 - z)
    pd = (fs2 + p) / (fs2 - p)
    zd = np.append(zd, -np.ones(p.size - z.size))  # zeros at infinity go to Nyquist
    kd = k * np.real(np.prod(fs2 - z) / np.prod(fs2 - p))
    return zd, pd, kd


def _pair_sections(z: np.ndarray, p: np.ndarray, k: float) -> np.ndarray:
    """Second-order sections of a filter with as many zeros as poles (an even number).

    "Nearest" pairing: the pole closest to the unit circle goes to the last section with
    the zero nearest to it, and that zero's conjugate (complex) or the next real zero
    nearest to the pole (real); a real pole takes the next real pole closest to the unit
    circle as its partner. Repeat with what is left; the gain goes to the first section.
    """
    if z.size != p.size or p.size % 2:
        raise ValueError(f"{p.size} poles, {z.size} zeros: expected an even number of each")
    poles = [q for q in p if q.imag >= 0]  # one per conjugate pair, every real pole
    zeros = list(z)

    def take(values, target, real_only=False):
        idx = [i for i, v in enumerate(values) if not real_only or v.imag == 0]
        if not idx:
            raise ValueError(f"poles {p}, zeros {z}: no real partner left for {target}")
        return values.pop(min(idx, key=lambda i: abs(values[i] - target)))

    def nearest_circle(real_only=False):
        idx = [i for i, v in enumerate(poles) if not real_only or v.imag == 0]
        if not idx:
            raise ValueError(f"poles {p}: a real pole has no real partner")
        return poles.pop(min(idx, key=lambda i: abs(1.0 - abs(poles[i]))))

    sos = np.zeros((p.size // 2, 6))
    for si in range(sos.shape[0] - 1, -1, -1):
        p1 = nearest_circle()
        z1 = take(zeros, p1)
        if p1.imag != 0:
            p2 = np.conj(p1)
        else:
            p2 = nearest_circle(real_only=True)
        if z1.imag != 0:
            z2 = np.conj(z1)
            take(zeros, z2)
        else:
            z2 = take(zeros, p2 if p1.imag == 0 else p1, real_only=True)
        sos[si, :3] = np.real(np.poly([z1, z2]))
        sos[si, 3:] = np.real(np.poly([p1, p2]))
    sos[0, :3] *= k
    return sos


def butter_sos(order: int, cutoff_hz: Band, btype: str, fs: float) -> np.ndarray:
    """Digital Butterworth filter as second-order sections (as ``scipy.signal.butter(...,
    output="sos")``). ``btype``: "lowpass" or "highpass" (even ``order``, one cutoff) or
    "bandpass" (any ``order``, ``(low, high)``)."""
    if not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order={order!r}: expected a positive integer")
    edges = np.atleast_1d(np.asarray(cutoff_hz, dtype=np.float64))
    wn = 2.0 * edges / fs  # as a fraction of Nyquist
    if not np.all((wn > 0) & (wn < 1)):
        raise ValueError(f"cutoff_hz={cutoff_hz!r}: expected frequencies strictly between 0 and fs/2 = {fs / 2:g}")
    warped = 4.0 * np.tan(np.pi * wn / 2.0)  # pre-warped, for a bilinear transform at fs = 2
    p = _butter_analog_poles(int(order))
    z = np.zeros(0, dtype=complex)
    if btype in ("lowpass", "highpass"):
        if edges.size != 1 or order % 2:
            raise ValueError(f"{btype}: cutoff_hz={cutoff_hz!r}, order={order}: expected one cutoff, even order")
        wo = warped[0]
        if btype == "lowpass":
            p, k = p * wo, wo**p.size
        else:
            k = float(np.real(1.0 / np.prod(-p)))
            p = wo / p
            z = np.zeros(p.size, dtype=complex)
    elif btype == "bandpass":
        if edges.size != 2 or not edges[0] < edges[1]:
            raise ValueError(f"bandpass: cutoff_hz={cutoff_hz!r}: expected (low, high) with low < high")
        wo, bw = math.sqrt(warped[0] * warped[1]), warped[1] - warped[0]
        half = p * bw / 2.0
        root = np.sqrt(half**2 - wo**2)
        p = np.concatenate([half + root, half - root])
        z = np.zeros(int(order), dtype=complex)
        k = bw ** int(order)
    else:
        raise ValueError(f"btype={btype!r}: expected 'lowpass', 'highpass' or 'bandpass'")
    return _pair_sections(*_bilinear(z, p, k, 4.0))


def notch_sos(f0_hz: float, q: float, fs: float) -> np.ndarray:
    """Second-order IIR notch at ``f0_hz`` with quality factor ``q`` (-3 dB width f0/q),
    as one section (as ``tf2sos(*scipy.signal.iirnotch(f0, q, fs=fs)))``)."""
    if not 0 < f0_hz < fs / 2 or q <= 0:
        raise ValueError(f"f0_hz={f0_hz!r}, q={q!r}: expected 0 < f0 < fs/2 = {fs / 2:g} and q > 0")
    w0 = 2.0 * np.pi * f0_hz / fs
    gain = 1.0 / (1.0 + math.tan(w0 / q / 2.0))
    c = -2.0 * math.cos(w0)
    return np.array([[gain, gain * c, gain, 1.0, gain * c, 2.0 * gain - 1.0]])


def sos2tf(sos: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator polynomials of a cascade of second-order sections."""
    sos = np.asarray(sos, dtype=np.float64)
    b, a = np.array([1.0]), np.array([1.0])
    for row in sos:
        b, a = np.convolve(b, row[:3]), np.convolve(a, row[3:])
    return b, a


def group_delay(system: Tuple[np.ndarray, np.ndarray], w, fs: float) -> Tuple[np.ndarray, np.ndarray]:
    """Group delay in samples of ``system = (b, a)`` at frequencies ``w`` in Hz; returns
    ``(w, delay)`` (the call of ``scipy.signal.group_delay(system, w=w, fs=fs)``)."""
    b, a = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in system)
    f = np.atleast_1d(np.asarray(w, dtype=np.float64))
    c = np.convolve(b, a[::-1])  # b(z) a(1/z): its phase slope is the delay
    z = np.exp(-2j * np.pi * f / fs)
    num = np.polyval((c * np.arange(c.size))[::-1], z)
    den = np.polyval(c[::-1], z)
    return f, np.real(num / den) - a.size + 1


def sosfilt_zi(sos: np.ndarray) -> np.ndarray:
    """Initial state (n_sections, 2) of a transposed direct-form-II cascade at the steady
    state of a unit step: scale by the first sample to start without a transient. Solved
    as ``scipy.signal.sosfilt_zi`` does (same 2x2 system, same solver): the same bits."""
    sos = np.asarray(sos, dtype=np.float64)
    zi = np.empty((sos.shape[0], 2))
    scale = 1.0
    for i, row in enumerate(sos):
        b, a = row[:3], row[3:]
        if a[0] != 1.0:
            b, a = b / a[0], a / a[0]
        # (I - A) zi = B for the state matrix A of the section (companion form)
        i_minus_a = np.array([[1.0 + a[1], -1.0], [a[2], 1.0]])
        zi[i] = scale * np.linalg.solve(i_minus_a, b[1:] - a[1:] * b[0])
        scale *= np.sum(row[:3]) / np.sum(row[3:])
    return zi


# --------------------------------------------------------------------------- FIR design
def firwin(numtaps: int, cutoff_hz: float, fs: float, window: Union[str, Tuple[str, float]] = "hamming") -> np.ndarray:
    """Linear-phase windowed-sinc low-pass, unit gain at DC (as ``scipy.signal.firwin``
    with one cutoff). ``window``: "hamming" or ("kaiser", beta)."""
    if numtaps < 1 or not 0 < cutoff_hz < fs / 2:
        raise ValueError(f"numtaps={numtaps!r}, cutoff_hz={cutoff_hz!r}: expected >= 1 tap, 0 < cutoff < fs/2")
    # written as SciPy computes it, so the taps are the same bits (the front-end's beat
    # amplitudes stay bit-identical)
    m = np.arange(numtaps, dtype=np.float64) - 0.5 * (numtaps - 1)
    c = cutoff_hz / (0.5 * fs)
    h = c * np.sinc(c * m)
    if window == "hamming":
        h *= 0.54 + (1.0 - 0.54) * np.cos(np.linspace(-np.pi, np.pi, numtaps)) if numtaps > 1 else 1.0
    elif isinstance(window, tuple) and len(window) == 2 and window[0] == "kaiser":
        h *= np.kaiser(numtaps, float(window[1]))
    else:
        raise ValueError(f"window={window!r}: expected 'hamming' or ('kaiser', beta)")
    return h / h.sum()


def resample_poly(x, up: int, down: int) -> np.ndarray:
    """Resample ``x`` by ``up / down`` with a Kaiser-windowed (beta 5) polyphase FIR, zeros
    outside the signal (as ``scipy.signal.resample_poly(x, up, down)``, in float64).

    Output ``k = q*up + r`` is ``sum_j h[half + k*down - j*up] x[j]``. For a fixed phase
    ``r`` and tap, the inputs met by rows ``q = 0, 1, ...`` are a slice of ``x`` with step
    ``down``: few phases (small ``up``) are multiply-adds of strided views; many phases
    are one matrix product per block of rows (row ``q`` reads a window starting at
    ``q*down``; BLAS beats thousands of small strided passes there).
    """
    if int(up) != up or int(down) != down or up < 1 or down < 1:
        raise ValueError(f"up={up!r}, down={down!r}: expected positive integers")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x has shape {x.shape}: expected one channel (1-D)")
    g = math.gcd(int(up), int(down))
    up, down = int(up) // g, int(down) // g
    if up == down == 1:
        return x.copy()
    n_out = -(-x.size * up // down)
    rate = max(up, down)
    half = 10 * rate
    h = firwin(2 * half + 1, 1.0 / rate, 2.0, ("kaiser", 5.0)) * up
    r = np.arange(up)
    last = (half + r * down) // up  # last input sample of output r of row 0
    first = last - (h.size - 1 - (half + r * down) % up) // up  # its first input sample
    lo = int(first.min())
    width = int(last.max()) - lo + 1
    pad = max(-lo, 0)
    n_rows = -(-n_out // up)
    tail = max((n_rows - 1) * down + lo + width - x.size, 0)
    xp = np.concatenate([np.zeros(pad), x, np.zeros(tail)])
    if up < 8:
        y = np.empty(n_out)
        for rr in range(min(up, n_out)):
            rows = -(-(n_out - rr) // up)
            acc = np.zeros(rows)
            for j in range(int(first[rr]), int(last[rr]) + 1):
                s = pad + j
                acc += h[half + rr * down - j * up] * xp[s : s + (rows - 1) * down + 1 : down]
            y[rr::up] = acc
        return y
    taps = np.zeros((width, up))  # taps[i, r]: weight of input q*down + lo + i in output q*up + r
    for rr in range(up):
        j = np.arange(first[rr], last[rr] + 1)
        taps[j - lo, rr] = h[half + rr * down - j * up]
    windows = np.lib.stride_tricks.sliding_window_view(xp[pad + lo :], width)[::down]
    out = np.empty((n_rows, up))
    step = max((1 << 20) // width, 1)  # ~8 MB of windows at a time
    for q in range(0, n_rows, step):
        out[q : q + step] = np.ascontiguousarray(windows[q : q + step]) @ taps
    return out.reshape(-1)[:n_out]


# numpy's own trapezoidal rule: ``trapezoid`` since numpy 2.0, ``trapz`` before (Python 3.8's numpy)
trapezoid = getattr(np, "trapezoid", None) or np.trapz


# --------------------------------------------------------------------------- sosfilt kernel
def _find_sosfilt_file() -> Optional[str]:
    spec = importlib.util.find_spec("scipy")  # a top-level spec: imports nothing
    for base in (spec.submodule_search_locations or ()) if spec else ():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(base, "signal", "_sosfilt" + suffix)
            if os.path.isfile(path):
                return path
    return None


def _works(kernel) -> bool:
    """The private kernel still has the signature and meaning this module relies on."""
    try:
        x = np.ones((1, 3))
        kernel(np.array([[1.0, 0.0, 0.0, 1.0, -0.5, 0.0]]), x, np.zeros((1, 1, 2)))
    except (TypeError, ValueError) as exc:
        log.warning("scipy's _sosfilt kernel has another signature (%s)", exc)
        return False
    return bool(np.array_equal(x, [[1.0, 1.5, 1.75]]))


def _load_sosfilt_kernel() -> Optional[Callable]:
    name = "scipy.signal._sosfilt"
    module = sys.modules.get(name)  # scipy.signal already imported (tests, server): share it
    if module is None:
        path = _find_sosfilt_file()
        if path is None:
            log.warning("no %s file: scipy.signal.sosfilt is used (importing scipy.signal costs ~70 MB)", name)
            return None
        try:  # the extension alone: scipy/signal/__init__.py (and scipy.stats) never run
            loader = importlib.machinery.ExtensionFileLoader(name, path)
            module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, path, loader=loader))
            loader.exec_module(module)
        except (ImportError, OSError) as exc:
            log.warning("cannot load %s (%s): scipy.signal.sosfilt is used (~70 MB more)", path, exc)
            return None
    kernel = getattr(module, "_sosfilt", None)
    return kernel if kernel is not None and _works(kernel) else None


@functools.lru_cache(maxsize=None)
def sosfilt_kernel() -> Optional[Callable]:
    """SciPy's compiled ``_sosfilt(sos, x, zi)`` (filters the C-contiguous 2-D float64 ``x``
    in place along its last axis, updating ``zi`` of shape (rows, sections, 2)), loaded once
    from ``scipy/signal/_sosfilt*.so`` without importing ``scipy.signal``; None where that
    file does not exist, does not load or does not behave as expected (callers then use
    ``scipy.signal.sosfilt``: the same loop behind argument checks)."""
    return _load_sosfilt_kernel()


def sosfilt(sos: np.ndarray, x) -> np.ndarray:
    """``scipy.signal.sosfilt(sos, x)`` (zero initial state) for one 1-D signal."""
    sos = np.ascontiguousarray(sos, dtype=np.float64)
    y = np.array(x, dtype=np.float64, order="C").reshape(1, -1)
    kernel = sosfilt_kernel()
    if kernel is None:
        from scipy.signal import sosfilt as public

        return public(sos, y[0])
    kernel(sos, y, np.zeros((1, sos.shape[0], 2)))
    return y[0]
