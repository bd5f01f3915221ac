"""The numpy log-mel against an independent scipy reference, plus streaming invariance."""

import numpy as np
import pytest
from cardiotune.edge.speech import LogMelConfig, log_mel, mel_filterbank, resample_to
from cardiotune.edge.speech.features import StreamingLogMel
from scipy.signal import stft


def _reference_filterbank(sr, n_fft, n_mels, fmin, fmax):
    """Loop-based triangles written from the textbook definition (HTK mel, peak 1)."""

    def mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    pts = [hz(mel(fmin) + i * (mel(fmax) - mel(fmin)) / (n_mels + 1)) for i in range(n_mels + 2)]
    fb = np.zeros((n_mels, n_fft // 2 + 1))
    for m in range(n_mels):
        lo, c, hi = pts[m], pts[m + 1], pts[m + 2]
        for k in range(n_fft // 2 + 1):
            f = k * sr / n_fft
            if lo < f <= c:
                fb[m, k] = (f - lo) / (c - lo)
            elif c < f < hi:
                fb[m, k] = (hi - f) / (hi - c)
    return fb


def _reference_log_mel(x, cfg):
    # scipy's STFT with a periodic Hann window, no padding; undo its window-sum scaling
    win = np.hanning(cfg.n_fft + 1)[:-1]
    _, _, z = stft(
        x,
        window=win,
        nperseg=cfg.n_fft,
        noverlap=cfg.n_fft - cfg.hop,
        boundary=None,
        padded=False,
        detrend=False,
        return_onesided=True,
    )
    power = (np.abs(z) * win.sum()) ** 2
    fb = _reference_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax)
    return np.log(fb @ power + cfg.eps).T


def test_filterbank_matches_loop_reference():
    ours = mel_filterbank(16000, 400, 40, 50.0, 8000.0)
    ref = _reference_filterbank(16000, 400, 40, 50.0, 8000.0)
    np.testing.assert_allclose(ours, ref, atol=1e-9)


@pytest.mark.parametrize("n_mels", [40, 64])
def test_log_mel_matches_scipy_stft_reference(n_mels):
    rng = np.random.default_rng(0)
    cfg = LogMelConfig(n_mels=n_mels)
    t = np.arange(16000) / 16000
    x = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.01 * rng.normal(
        size=t.size
    )
    ours = log_mel(x, cfg)
    ref = _reference_log_mel(x, cfg)
    assert ours.shape == ref.shape == (cfg.n_frames(x.size), n_mels)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=2e-3)


def test_pure_tone_lands_in_its_mel_band():
    cfg = LogMelConfig()
    x = 0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(8000) / 16000)
    band = int(np.argmax(log_mel(x, cfg).mean(axis=0)))
    fb = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax)
    assert fb[band, int(round(1000 * cfg.n_fft / cfg.sample_rate))] > 0.5


def test_streaming_equals_offline_for_any_chunking():
    rng = np.random.default_rng(1)
    x = rng.normal(size=5000)
    cfg = LogMelConfig()
    offline = log_mel(x, cfg)
    s = StreamingLogMel(cfg)
    cuts = np.sort(rng.choice(np.arange(1, x.size), 30, replace=False))
    parts = [s.push(c) for c in np.split(x, cuts)] + [s.push(np.zeros(0))]
    np.testing.assert_array_equal(np.concatenate(parts), offline)


def test_short_audio_gives_one_frame_and_bad_input_raises():
    assert log_mel(np.zeros(10)).shape == (1, 40)
    with pytest.raises(ValueError, match="mono"):
        log_mel(np.zeros((2, 1000)))
    with pytest.raises(ValueError, match="fmax"):
        LogMelConfig(fmax=9000.0)


def test_resample_keeps_a_tone_and_length():
    sr_in = 22050
    x = np.sin(2 * np.pi * 440 * np.arange(sr_in) / sr_in)
    y = resample_to(x, sr_in, 16000)
    assert y.size == 16000
    spec = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spec) * 16000 / y.size - 440) <= 1.0
