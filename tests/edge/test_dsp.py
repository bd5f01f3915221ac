"""edge.dsp replaces scipy.signal on the edge's import path: same designs, same kernel."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from cardiotune.edge import dsp
from scipy import signal

FS = [100.0, 128.0, 200.0, 250.0, 256.0, 360.0, 500.0, 512.0, 1000.0, 16000.0, 44100.0]


def _close(a, b, tol=1e-10):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, float(np.max(np.abs(b)))))


@pytest.mark.parametrize("fs", FS)
@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("band", [(0.5, 40.0), (5.0, 30.0), (0.05, 0.4), (8.0, 9.0), (1.0, 0.449)])
def test_butter_bandpass_matches_scipy(fs, order, band):
    lo, hi = band[0], band[1] if band[1] > 1 else band[1] * fs
    ref = signal.butter(order, (lo, hi), btype="bandpass", fs=fs, output="sos")
    _close(dsp.butter_sos(order, (lo, hi), "bandpass", fs), ref)


@pytest.mark.parametrize("fs", FS)
@pytest.mark.parametrize("order", [2, 4, 6])
@pytest.mark.parametrize("btype", ["lowpass", "highpass"])
@pytest.mark.parametrize("frac", [0.0005, 0.002, 0.05, 0.16, 0.3, 0.45])
def test_butter_low_high_pass_matches_scipy(fs, order, btype, frac):
    ref = signal.butter(order, frac * fs, btype=btype, fs=fs, output="sos")
    _close(dsp.butter_sos(order, frac * fs, btype, fs), ref)


@pytest.mark.parametrize(
    "args, match",
    [
        ((3, 10.0, "lowpass", 250.0), "even order"),
        ((2, 200.0, "lowpass", 250.0), "strictly between"),
        ((2, (30.0, 5.0), "bandpass", 250.0), "low < high"),
        ((2, 10.0, "bandstop", 250.0), "btype='bandstop'"),
        ((0, 10.0, "lowpass", 250.0), "order=0"),
    ],
)
def test_butter_rejects_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        dsp.butter_sos(*args)


@pytest.mark.parametrize("fs", FS)
@pytest.mark.parametrize("f0_frac", [0.01, 0.1, 0.2, 0.24, 0.4])
@pytest.mark.parametrize("q", [1.0, 5.0, 30.0, 100.0])
def test_notch_matches_scipy(fs, f0_frac, q):
    ref = signal.tf2sos(*signal.iirnotch(f0_frac * fs, q, fs=fs))
    _close(dsp.notch_sos(f0_frac * fs, q, fs), ref)


@pytest.mark.parametrize("fs", FS)
def test_sosfilt_zi_sos2tf_group_delay_match_scipy(fs):
    sos = np.vstack(
        [
            signal.butter(2, (0.02 * fs, 0.12 * fs), btype="bandpass", fs=fs, output="sos"),
            signal.tf2sos(*signal.iirnotch(0.2 * fs, 30.0, fs=fs)),
        ]
    )
    _close(dsp.sosfilt_zi(sos), signal.sosfilt_zi(sos))
    b, a = dsp.sos2tf(sos)
    rb, ra = signal.sos2tf(sos)
    _close(b, rb)
    _close(a, ra)
    f = np.array([0.01, 0.048, 0.1, 0.3]) * fs  # not DC: a band-pass is singular there
    _close(dsp.group_delay((b, a), w=f, fs=fs)[1], signal.group_delay((rb, ra), w=f, fs=fs)[1], 1e-8)


@pytest.mark.parametrize("fs", FS)
@pytest.mark.parametrize("numtaps", [1, 3, 8, 11, 31, 101])
@pytest.mark.parametrize("frac", [0.01, 0.14, 0.4])
def test_firwin_matches_scipy(fs, numtaps, frac):
    # the same bits: the front-end's smoothing taps, hence beat amplitudes, stay as they were
    assert np.array_equal(dsp.firwin(numtaps, frac * fs, fs), signal.firwin(numtaps, frac * fs, fs=fs))
    kaiser = ("kaiser", 5.0)
    _close(dsp.firwin(numtaps, frac * fs, fs, kaiser), signal.firwin(numtaps, frac * fs, fs=fs, window=kaiser))


@pytest.mark.parametrize(
    "up, down",
    [
        (1, 1),
        (2, 1),
        (1, 2),
        (3, 2),
        (2, 3),
        (160, 441),
        (441, 160),
        (147, 160),
        (1, 6),
        (5, 1),
        (9, 1),
        (1, 9),
        (7, 9),
    ],
)
@pytest.mark.parametrize("n", [1, 2, 7, 100, 1001])
def test_resample_poly_matches_scipy(up, down, n):
    x = np.random.default_rng(n + 7 * up + down).normal(size=n)
    _close(dsp.resample_poly(x, up, down), signal.resample_poly(x, up, down))


def test_resample_poly_rejects_bad_arguments():
    with pytest.raises(ValueError, match="positive integers"):
        dsp.resample_poly(np.zeros(4), 0, 2)
    with pytest.raises(ValueError, match="1-D"):
        dsp.resample_poly(np.zeros((4, 2)), 1, 2)


def test_trapezoid_matches_numpy():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 1, 50))
    y = rng.normal(size=50)
    from scipy.integrate import trapezoid

    assert dsp.trapezoid(y, x) == pytest.approx(trapezoid(y, x), rel=1e-12)


def test_kernel_is_scipys_sosfilt_bit_for_bit():
    """The file-loaded kernel computes exactly what scipy.signal.sosfilt does."""
    kernel = dsp.sosfilt_kernel()
    assert kernel is not None, "scipy/signal/_sosfilt*.so not found next to scipy"
    sos = signal.butter(2, (5.0, 30.0), btype="bandpass", fs=250.0, output="sos")
    x = np.random.default_rng(1).normal(size=(1, 999))
    zi = signal.sosfilt_zi(sos) * x[0, 0]
    ref, ref_zi = signal.sosfilt(sos, x[0], zi=zi)
    state = np.ascontiguousarray(zi[None])
    kernel(sos, x, state)
    assert np.array_equal(x[0], ref) and np.array_equal(state[0], ref_zi)


_PROBE = """
import json, sys
from cardiotune.edge import dsp
{before}
k = dsp.sosfilt_kernel()
import cardiotune.edge.ecg.filters, cardiotune.edge.ecg.frontend, cardiotune.edge.ecg.hrv
mods = sorted(m for m in sys.modules if m.startswith("scipy"))
{after}
print(json.dumps([k is not None, mods]))
"""


def _probe(before: str = "", after: str = ""):
    code = _PROBE.format(before=before, after=after)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_kernel_loads_without_scipy_signal():
    found, mods = _probe()
    assert found
    heavy = [
        m
        for m in mods
        if m.split(".")[:2]
        in (["scipy", "signal"], ["scipy", "stats"], ["scipy", "integrate"], ["scipy", "linalg"], ["scipy", "special"])
    ]
    assert set(heavy) <= {"scipy.signal._sosfilt"}, heavy  # the extension alone, not its package


def test_scipy_signal_still_imports_after_the_kernel_was_loaded():
    after = "import numpy as np, scipy.signal as s; assert s.sosfilt([[1, 0, 0, 1, -0.5, 0]], np.ones(3))[2] == 1.75"
    found, _ = _probe(after=after)
    assert found


def test_kernel_shared_when_scipy_signal_was_imported_first():
    found, mods = _probe("import scipy.signal")
    assert found and "scipy.signal" in mods


def test_kernel_missing_falls_back_to_none(monkeypatch):
    monkeypatch.setattr(dsp, "_find_sosfilt_file", lambda: None)
    monkeypatch.delitem(sys.modules, "scipy.signal._sosfilt", raising=False)
    assert dsp._load_sosfilt_kernel() is None


def test_kernel_with_another_signature_or_meaning_is_refused():
    def other_signature(sos, x):
        pass

    def other_meaning(sos, x, zi):
        x[:] = 0.0

    assert not dsp._works(other_signature) and not dsp._works(other_meaning)
    assert dsp._works(dsp.sosfilt_kernel())


def test_sos_filter_without_the_kernel_gives_the_same_bits(monkeypatch):
    """Where the kernel file is missing, SosFilter uses scipy.signal.sosfilt: same output."""
    from cardiotune.edge.ecg.filters import SosFilter, design_clean_sos

    sos = design_clean_sos(250.0)
    x = np.random.default_rng(2).normal(size=1000)
    fast = SosFilter(sos)
    assert fast._kernel is not None
    slow = SosFilter(sos)
    slow._kernel = None
    out = np.empty(250)
    parts_fast, parts_slow = [], []
    for i in range(0, x.size, 250):
        parts_fast.append(fast(x[i : i + 125]))
        slow.into(x[i : i + 125], out[:125])
        parts_slow.append(out[:125].copy())
        fast.into(x[i + 125 : i + 250], out[:125])
        parts_fast.append(out[:125].copy())
        parts_slow.append(slow(x[i + 125 : i + 250]))
    assert np.array_equal(np.concatenate(parts_fast), np.concatenate(parts_slow))
