"""Keep LSL discovery on this machine (PLATFORM_NOTES): LSLAPICFG is set before any test
module imports pylsl, and is inherited by outlet subprocesses.

pylsl < 1.17 (what Python 3.8 resolves) ships no liblsl binary; if PYLSL_LIB is unset we
point it at a system liblsl or the one bundled in a sibling venv's newer pylsl, so the
3.8 run exercises LSL too instead of skipping.
"""

from __future__ import annotations

import ctypes.util
import glob
import importlib.util
import os
import tempfile

_CFG = (
    "[ports]\nIPv6 = disable\n\n"
    "[multicast]\nResolveScope = machine\n\n"
    "[lab]\nKnownPeers = {127.0.0.1}\n"
)
_REPO = os.path.dirname(os.path.abspath(__file__))
while _REPO != os.path.dirname(_REPO) and not os.path.exists(os.path.join(_REPO, "setup.py")):
    _REPO = os.path.dirname(_REPO)

if "LSLAPICFG" not in os.environ:
    _path = os.path.join(tempfile.mkdtemp(prefix="cardiotune-lsl-"), "lsl_api.cfg")
    with open(_path, "w") as fh:
        fh.write(_CFG)
    os.environ["LSLAPICFG"] = _path


def _find_liblsl() -> None:
    if os.environ.get("PYLSL_LIB"):
        return
    spec = importlib.util.find_spec("pylsl")
    if spec is None or spec.origin is None:
        return
    if glob.glob(os.path.join(os.path.dirname(spec.origin), "lib", "liblsl*.so*")):
        return
    pattern = os.path.join(
        _REPO, ".venv*", "lib", "python3*", "site-packages", "pylsl", "lib", "liblsl.so*"
    )
    for cand in [ctypes.util.find_library("lsl"), *sorted(glob.glob(pattern))]:
        if cand and (os.path.exists(cand) or "/" not in cand):
            os.environ["PYLSL_LIB"] = cand
            return


_find_liblsl()
