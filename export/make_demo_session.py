"""Write the bundled demo session (seeded synthetic: rest -> stress -> recovery, 12 min at 250 Hz).

    python -m cardiotune.export.make_demo_session

Seed 0 is reserved for the demo: the skeleton VA model trains on seeds >= 1000.
"""
from __future__ import annotations

import numpy as np
from cardiotune.edge.session import BUILTIN_DEMO, RecordedSession, resolve_session_path, save_session
from cardiotune.edge.synthetic.ecg import DEMO_PHASES, synthesize_session


def main() -> int:
    s = synthesize_session(DEMO_PHASES, fs=250.0, seed=0)
    path = resolve_session_path(BUILTIN_DEMO)
    save_session(path, RecordedSession(
        s.ecg_mv, s.fs, s.va_times, s.valence, s.arousal,
        np.array([p.name for p in s.phases]), s.phase_starts))
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, {s.duration_s:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
