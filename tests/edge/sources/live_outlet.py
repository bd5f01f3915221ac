"""LSL outlets with a real heartbeat for the live-run tests, run as a subprocess:
``python live_outlet.py ecg|rr SOURCE_ID SEED``.

``ecg``: the synthetic session of ``seed`` (edge/synthetic, 120 s) at 250 Hz in millivolts,
pushed in real time stamped with its sample times. ``rr``: the same session's RR intervals
in ms, one sample per beat, pushed when the beat happens and stamped with the beat time.
``rr-slow``: a 40 bpm heart (1.5 s intervals), the same way.
The test derives the true heart rate from the same session. Prints "ready" once the outlet
exists; runs until killed.
"""

import sys
import time

import numpy as np
import pylsl
from cardiotune.edge.synthetic.ecg import Phase, synthesize_session

FS = 250.0
kind, source_id, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
session = synthesize_session((Phase("sim", 120.0, 0.0, 0.0),), fs=FS, seed=seed)
if kind == "ecg":
    info = pylsl.StreamInfo("live-test-ecg", "ECG", 1, FS, "float32", source_id)
    unit = "millivolts"
else:
    info = pylsl.StreamInfo("live-test-rr", "RR", 1, 0.0, "float32", source_id)
    unit = "ms"
info.desc().append_child("channels").append_child("channel").append_child_value("unit", unit)
outlet = pylsl.StreamOutlet(info, 10)
print("ready", flush=True)
t0 = pylsl.local_clock()
if kind == "ecg":
    x, k = session.ecg_mv, 0
    while k < len(x):
        target = min(int((pylsl.local_clock() - t0) * FS), len(x))
        if target > k:
            outlet.push_chunk([[float(v)] for v in x[k:target]], t0 + (target - 1) / FS)
            k = target
        time.sleep(0.01)
else:
    beats = session.r_peak_times - session.r_peak_times[0]
    if kind == "rr-slow":
        beats = np.arange(0.0, 120.0, 1.5)
    for i in range(1, len(beats)):
        while pylsl.local_clock() < t0 + beats[i]:
            time.sleep(0.002)
        outlet.push_sample([float((beats[i] - beats[i - 1]) * 1000.0)], t0 + beats[i])
time.sleep(3600)
