"""Runtime observability: per-stage latency histograms, queue depths and drop counters.

Pure and cheap: a :class:`Histogram` has fixed bucket bounds (milliseconds, roughly
1-2.5-5 per decade), so recording is one ``bisect`` and memory is constant however long
the device runs; quantiles are estimated by linear interpolation inside a bucket (error at
most one bucket width - plenty to tell 2 ms from 200 ms). :class:`RuntimeMetrics` gathers
histograms plus gauges/counters read through callables at snapshot time, and
:func:`metrics_payload` turns a snapshot into the ``cardiotune.metrics/1`` message.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence

__all__ = ["Histogram", "RuntimeMetrics", "metrics_payload", "METRICS_SCHEMA", "DEFAULT_BOUNDS_MS", "STAGES"]

METRICS_SCHEMA = "cardiotune.metrics/1"
_INF = math.inf
DEFAULT_BOUNDS_MS: Sequence[float] = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
# the stages the runtime measures (docs/mqtt.md, metrics topic)
STAGES = {
    "queue_wait": "chunk arrival -> the pipeline takes it from the source queue",
    "pipeline": "one chunk through the pipeline (features, model, smoothing, policy)",
    "sample_to_state_publish": "arrival of the chunk completing a window -> its state accepted by the broker",
    "decision_to_pick_publish": "pick decided -> pick accepted by the broker",
}


class Histogram:
    """Fixed-bucket latency histogram in milliseconds; the last bucket is open-ended."""

    def __init__(self, bounds_ms: Sequence[float] = DEFAULT_BOUNDS_MS):
        if list(bounds_ms) != sorted(bounds_ms) or not bounds_ms or bounds_ms[0] <= 0:
            raise ValueError(f"histogram bounds {list(bounds_ms)!r}: expected increasing numbers > 0")
        self.bounds = tuple(float(b) for b in bounds_ms)
        self.counts = [0] * (len(self.bounds) + 1)
        self.count = 0
        self.sum_ms = 0.0
        self.max_ms = 0.0

    def observe_ms(self, ms: float) -> None:
        if not 0.0 <= ms < _INF:
            return  # a clock glitch (negative, inf, NaN) must not poison the histogram
        self.counts[bisect_left(self.bounds, ms)] += 1
        self.count += 1
        self.sum_ms += ms
        if ms > self.max_ms:
            self.max_ms = ms

    def quantile(self, q: float) -> Optional[float]:
        """Estimated ``q``-quantile in ms (None when empty); never above the observed maximum."""
        if not 0 <= q <= 1:
            raise ValueError(f"quantile {q!r}: expected 0..1")
        if self.count == 0:
            return None
        rank = q * self.count
        seen = 0
        for i, c in enumerate(self.counts):
            if c and seen + c >= rank:
                lo = 0.0 if i == 0 else self.bounds[i - 1]
                hi = self.bounds[i] if i < len(self.bounds) else self.max_ms
                est = lo + (hi - lo) * max(0.0, rank - seen) / c
                return min(est, self.max_ms)
            seen += c
        return self.max_ms

    def to_dict(self) -> Dict[str, Any]:
        def r(x: Optional[float]) -> Optional[float]:
            return None if x is None else round(x, 3)

        return {"count": self.count, "mean_ms": r(self.sum_ms / self.count) if self.count else None,
                "p50_ms": r(self.quantile(0.5)), "p99_ms": r(self.quantile(0.99)), "max_ms": r(self.max_ms),
                "bounds_ms": list(self.bounds), "buckets": list(self.counts)}


class RuntimeMetrics:
    """Histograms per stage plus named gauges and counters read at snapshot time.

    ``keep_raw`` also keeps the last ``keep_raw`` raw values per stage (for benchmarks that
    want exact percentiles; 0 = none).
    """

    def __init__(self, keep_raw: int = 0):
        self.histograms: Dict[str, Histogram] = {}
        self.raw: Dict[str, Deque[float]] = {}
        self._keep_raw = keep_raw
        self._gauges: Dict[str, Callable[[], Any]] = {}
        self._counters: Dict[str, Callable[[], Any]] = {}
        self.info: Dict[str, Any] = {}  # free-form, e.g. {"recording": {...}}
        self._stages: Dict[str, tuple] = {}  # stage -> (histogram's observe_ms, raw deque's append or None)

    def observe(self, stage: str, seconds: float) -> None:
        # called per chunk and stage: one dict lookup for the histogram and its raw values
        entry = self._stages.get(stage)
        if entry is None:
            h = self.histograms[stage] = Histogram()
            raw = self.raw[stage] = deque(maxlen=self._keep_raw) if self._keep_raw else None
            entry = self._stages[stage] = (h.observe_ms, raw.append if raw is not None else None)
        ms = seconds * 1000.0
        entry[0](ms)
        if entry[1] is not None:
            entry[1](ms)

    def gauge(self, name: str, read: Callable[[], Any]) -> None:
        self._gauges[name] = read

    def counter(self, name: str, read: Callable[[], Any]) -> None:
        self._counters[name] = read

    def snapshot(self) -> Dict[str, Any]:
        return {"latency": {k: h.to_dict() for k, h in sorted(self.histograms.items())},
                "queues": {k: f() for k, f in sorted(self._gauges.items())},
                "counters": {k: f() for k, f in sorted(self._counters.items())},
                **self.info}

    def raw_percentiles(self, stage: str) -> List[Optional[float]]:
        """[median, p99] in ms of the kept raw values (exact), [None, None] when none."""
        vals = sorted(self.raw.get(stage, ()))
        if not vals:
            return [None, None]
        def pct(p: float) -> float:
            k = (len(vals) - 1) * p
            f = int(math.floor(k))
            c = min(f + 1, len(vals) - 1)
            return vals[f] + (vals[c] - vals[f]) * (k - f)
        return [pct(0.5), pct(0.99)]


def metrics_payload(device: str, ts: float, interval_s: float, uptime_s: float,
                    snapshot: Dict[str, Any]) -> Dict[str, Any]:
    return {"schema": METRICS_SCHEMA, "device": device, "ts": round(ts, 3), "ttl_s": round(3 * interval_s, 3),
            "uptime_s": round(uptime_s, 3), **snapshot}
