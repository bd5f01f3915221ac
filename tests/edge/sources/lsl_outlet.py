"""An LSL outlet for tests, run as a subprocess: ``python lsl_outlet.py SOURCE_ID [KIND] [START]``.

KIND "ecg": 250 Hz, one channel in microvolts whose value is the running sample index
(so the receiver can prove contiguity); "rr": RR intervals in ms, one per 'beat'.
Prints "ready" once the outlet exists. Runs until killed.
"""

import sys
import time

import pylsl

source_id = sys.argv[1]
kind = sys.argv[2] if len(sys.argv) > 2 else "ecg"
k = int(sys.argv[3]) if len(sys.argv) > 3 else 0
if kind == "ecg":
    info = pylsl.StreamInfo("test-ecg", "ECG", 1, 250.0, "float32", source_id)
    info.desc().append_child("channels").append_child("channel").append_child_value(
        "unit", "microvolts"
    )
else:
    info = pylsl.StreamInfo("test-rr", "RR", 1, 0.0, "float32", source_id)
    info.desc().append_child("channels").append_child("channel").append_child_value("unit", "ms")
outlet = pylsl.StreamOutlet(info, 10)
print("ready", flush=True)
t0 = pylsl.local_clock()
while True:
    if kind == "ecg":
        target = int((pylsl.local_clock() - t0) * 250)
        if target > k:
            n = target - k
            stamps_end = t0 + (target - 1) / 250.0
            outlet.push_chunk([[float(i)] for i in range(k, target)], stamps_end)
            k = target
        time.sleep(0.01)
    else:
        outlet.push_sample([800.0 + (k % 5)])
        k += 1
        time.sleep(0.05)
