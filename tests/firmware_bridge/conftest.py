"""Keep LSL discovery on this machine (PLATFORM_NOTES): LSLAPICFG is set before any test
module imports pylsl, and is inherited by outlet subprocesses."""

from __future__ import annotations

import os
import tempfile

_CFG = (
    "[ports]\nIPv6 = disable\n\n"
    "[multicast]\nResolveScope = machine\n\n"
    "[lab]\nKnownPeers = {127.0.0.1}\n"
)

if "LSLAPICFG" not in os.environ:
    _path = os.path.join(tempfile.mkdtemp(prefix="cardiotune-lsl-"), "lsl_api.cfg")
    with open(_path, "w") as fh:
        fh.write(_CFG)
    os.environ["LSLAPICFG"] = _path
