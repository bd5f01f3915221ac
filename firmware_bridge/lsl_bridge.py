"""Republish a serial ECG board as an LSL outlet (``cardiotune bridge serial-to-lsl``).

The outlet is created once the board's INFO is known, with the metadata LSL tools expect
(XDF/LabRecorder conventions): one channel labelled from INFO, unit "millivolts", type
"ECG"; an ``acquisition`` block with manufacturer, model, serial number and firmware.
Sample times are the serial source's drift-corrected host times, expressed on the LSL
clock; gaps are not filled (LSL consumers see the jump in time stamps).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from cardiotune.edge.sources.base import EcgChunk, Gap
from cardiotune.edge.sources.lsl import load_pylsl
from cardiotune.edge.sources.serial import SerialSource

from cardiotune import __version__

__all__ = ["serial_to_lsl", "BridgeStats", "make_stream_info"]

log = logging.getLogger(__name__)


@dataclass
class BridgeStats:
    samples: int = 0
    chunks: int = 0
    gaps: int = 0
    missing_samples: int = 0
    name: str = ""
    source_id: str = ""


def make_stream_info(lsl, name: str, source_id: str, fs: float, info=None, label: str = "ECG"):
    si = lsl.StreamInfo(name, "ECG", 1, fs, lsl.cf_float32, source_id)
    desc = si.desc()
    ch = desc.append_child("channels").append_child("channel")
    ch.append_child_value("label", label)
    ch.append_child_value("unit", "millivolts")
    ch.append_child_value("type", "ECG")
    acq = desc.append_child("acquisition")
    acq.append_child_value("manufacturer", "cardiotune")
    if info is not None:
        acq.append_child_value("model", info.model)
        acq.append_child_value("serial_number", info.serial)
        acq.append_child_value("firmware", ".".join(str(x) for x in info.firmware))
        acq.append_child_value("adc_bits", str(info.adc_bits))
    acq.append_child_value("software", f"cardiotune {__version__} serial-to-lsl")
    return si


async def serial_to_lsl(
    port: str,
    name: Optional[str] = None,
    source_id: Optional[str] = None,
    protocol: str = "binary",
    baudrate: int = 115200,
    fs_hint: float = 250.0,
    stats: Optional[BridgeStats] = None,
    on_outlet: Optional[Callable[[BridgeStats], None]] = None,
) -> None:
    """Bridge until cancelled; progress is kept in ``stats`` (pass one to read it)."""
    lsl = load_pylsl()
    offset = lsl.local_clock() - time.monotonic()  # both CLOCK_MONOTONIC on Linux: ~0
    stats = stats if stats is not None else BridgeStats()
    outlet = None
    async with SerialSource(port, baudrate, protocol=protocol, fs_hint=fs_hint) as src:
        async for item in src:
            if isinstance(item, Gap):
                stats.gaps += 1
                stats.missing_samples += item.n_missing
                continue
            if not isinstance(item, EcgChunk):
                continue
            if outlet is None:
                info = getattr(src.link, "info", None)
                serial = info.serial if info is not None and info.serial else os.path.basename(port)
                stats.name = name or f"cardiotune ECG {serial}"
                stats.source_id = source_id or f"cardiotune-serial-{serial}"
                label = info.channels[0].label if info is not None and info.channels else "ECG"
                si = make_stream_info(lsl, stats.name, stats.source_id, item.fs, info, label)
                outlet = lsl.StreamOutlet(si, 10)
                log.info(
                    "LSL outlet %r (source_id %s) at %.3f Hz", stats.name, stats.source_id, item.fs
                )
                if on_outlet is not None:
                    on_outlet(stats)
            n = len(item.samples)
            t_last = item.t_first + (n - 1) / item.fs + offset  # stamp of the chunk's last sample
            outlet.push_chunk(np.asarray(item.samples, dtype=np.float32).reshape(n, 1), t_last)
            stats.samples += n
            stats.chunks += 1
