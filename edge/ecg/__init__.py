"""ECG front-end: streaming R-peak detection, RR cleaning, HRV windows, signal quality.

EcgFrontEnd(fs, t0).push(samples, lead_off=False) -> FrontEndOutput(beats, t_decided, ...)
RrFrontEnd(t0).push(rr_s, t_beats)                -> FrontEndOutput (chest-strap RR input)
HrvWindower(window_s, hop_s, t0).push(beats, t_decided, quality=None) -> [HrvWindow]
detect_beats(ecg, fs)                              -> R-apex sample indices (batch)
hrv_features(rr_s, window_s), clean_rr(rr_s), add_noise(ecg, fs, snr_db, beats)
"""

from .frontend import Beat, EcgFrontEnd, FrontEndOutput, detect_beats
from .hrv import (
    NOT_AVAILABLE,
    QUESTIONABLE,
    VALID,
    HrvWindow,
    HrvWindower,
    RrFrontEnd,
    hrv_features,
)
from .quality import QualitySegment, QualityTracker
from .rr import RrCleaning, clean_rr

__all__ = [
    "Beat",
    "EcgFrontEnd",
    "FrontEndOutput",
    "detect_beats",
    "HrvWindow",
    "HrvWindower",
    "RrFrontEnd",
    "hrv_features",
    "VALID",
    "QUESTIONABLE",
    "NOT_AVAILABLE",
    "QualitySegment",
    "QualityTracker",
    "RrCleaning",
    "clean_rr",
]
