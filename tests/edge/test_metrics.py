"""Fixed-bucket latency histograms and the metrics payload (pure)."""
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from cardiotune.edge.metrics import Histogram, RuntimeMetrics, metrics_payload

SCHEMA = Path(__file__).resolve().parents[2] / "edge" / "mqtt" / "schemas" / "metrics.schema.json"


def test_histogram_counts_and_quantiles_within_one_bucket_of_exact():
    rng = np.random.default_rng(3)
    values = rng.lognormal(mean=1.0, sigma=1.0, size=5000)  # ms, spread over several decades
    h = Histogram()
    for v in values:
        h.observe_ms(float(v))
    assert h.count == 5000 and sum(h.counts) == 5000
    assert h.max_ms == pytest.approx(values.max())
    for q in (0.5, 0.9, 0.99):
        exact = float(np.quantile(values, q))
        est = h.quantile(q)
        i = int(np.searchsorted(h.bounds, exact))
        lo = 0.0 if i == 0 else h.bounds[i - 1]
        hi = h.bounds[i] if i < len(h.bounds) else h.max_ms
        assert lo <= est <= hi, (q, exact, est)


def test_histogram_edge_cases():
    h = Histogram((1, 10))
    assert h.quantile(0.5) is None
    h.observe_ms(float("nan"))
    h.observe_ms(-1)
    h.observe_ms(float("inf"))
    assert h.count == 0 and h.sum_ms == 0
    h.observe_ms(50)  # open-ended last bucket: quantile never above the maximum seen
    assert h.counts == [0, 0, 1] and h.quantile(1.0) == 50
    with pytest.raises(ValueError, match="increasing"):
        Histogram((10, 1))
    with pytest.raises(ValueError, match="quantile"):
        h.quantile(2)


def test_runtime_metrics_snapshot_matches_schema():
    m = RuntimeMetrics(keep_raw=100)
    depth = [3]
    m.gauge("source_queue", lambda: depth[0])
    m.counter("dropped_overflow", lambda: 7)
    for ms in (1, 2, 3, 4, 100):
        m.observe("pipeline", ms / 1000)
    m.info["recording"] = {"state": "error", "path": "/x.xdf", "error": "OSError: [Errno 28] No space left"}
    depth[0] = 5  # gauges are read at snapshot time
    payload = metrics_payload("dev", 1.7e9, 10.0, 12.5, m.snapshot())
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(json.loads(json.dumps(payload)))
    assert payload["queues"]["source_queue"] == 5 and payload["counters"]["dropped_overflow"] == 7
    assert payload["latency"]["pipeline"]["count"] == 5 and payload["ttl_s"] == 30.0
    med, p99 = m.raw_percentiles("pipeline")
    assert med == pytest.approx(3.0) and 4 < p99 <= 100
