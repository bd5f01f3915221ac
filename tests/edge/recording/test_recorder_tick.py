"""The flush timer: buffered samples reach the file within the flush interval even when no
new sample arrives to trigger a flush (e.g. the sensor went quiet)."""
import os

import numpy as np
from cardiotune.edge.recording.xdf_writer import StreamSpec, XdfWriter


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_maybe_flush_writes_buffered_samples_after_the_interval(tmp_path):
    clock = Clock()
    path = tmp_path / "t.xdf"
    with XdfWriter(path, flush_interval_s=1.0, clock=clock) as w:
        sid = w.add_stream(StreamSpec("ECG", "ECG", 1, 250.0, "float32", "x", ("ECG",), "mV"))
        w.push(sid, np.arange(10) / 250.0, np.zeros((10, 1)))
        size = os.path.getsize(path)
        clock.t = 0.5
        assert not w.maybe_flush() and os.path.getsize(path) == size  # not yet due
        clock.t = 1.01
        assert w.maybe_flush() and os.path.getsize(path) > size + 10 * 13  # 10 samples of 1+8+4 bytes
        assert not w.maybe_flush()  # nothing more until the next interval
