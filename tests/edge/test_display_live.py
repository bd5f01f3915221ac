"""The live view for a live source: no session length, phases or ground truth; the link state
instead. Real state events from the pipeline, rendered by rich and in plain lines."""
import asyncio
import io

import numpy as np
import pytest
from cardiotune.edge.display import LiveView
from cardiotune.edge.estimator import OnnxVaEstimator
from cardiotune.edge.fused_pipeline import FusedPipeline
from cardiotune.edge.pipeline import PipelineConfig, StateEvent
from cardiotune.edge.runtime import run_chain
from cardiotune.edge.sources.base import RrChunk
from item_source import ItemSource


class Track:
    def __init__(self, i, v, a):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", f"T{i}", v, a, 30.0, ""


@pytest.fixture(scope="module")
def events():
    beats = np.cumsum(np.full(40, 0.8))
    rr = [RrChunk(np.array([0.8]), beats[i:i + 1], 0.0) for i in range(1, len(beats))]
    pipe = FusedPipeline(250.0, OnnxVaEstimator(), [Track(0, -0.5, -0.5), Track(1, 0.5, 0.5)],
                         PipelineConfig(window_s=8.0, calibration_s=10.0, min_dwell_s=0.0, no_repeat=0))
    stats = asyncio.run(run_chain(ItemSource(rr), pipe, None, "x"))
    return stats.state_log + stats.pick_log


def test_live_view_renders_without_session_length_or_truth(events):
    from rich.console import Console

    view = LiveView(None, "mqtt://127.0.0.1:1883", "dev", None, "live", rich_ok=False,
                    source_label="serial /dev/ttyACM0 (binary, 115200 baud)", link_state=lambda: "streaming")
    for e in events:
        view.on_event(e)
    out = io.StringIO()
    Console(file=out, width=140, color_system=None).print(view._render())
    text = out.getvalue()
    last = max(e.window.t_end for e in events if isinstance(e, StateEvent))
    assert "cardiotune live" in text and f"{last:6.1f} s live" in text
    assert "serial /dev/ttyACM0 (binary, 115200 baud)  link streaming" in text
    assert "truth" not in text and " / " not in text
    assert "HR  75.0 bpm" in text


def test_plain_lines_for_a_live_source(events, capsys):
    view = LiveView(None, "mqtt://x", "dev", None, "live", rich_ok=False)
    for e in events:
        view.on_event(e)
    lines = capsys.readouterr().out.splitlines()
    first = [ln for ln in lines if ln.startswith("t=")][0]
    assert first.startswith("t=   8.0 s live HR= 75.0 bpm")
