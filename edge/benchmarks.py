"""``cardiotune bench demo``: throughput, CPU, memory and latency of the whole chain.

Runs, in one process and one invocation:
  1. the pure pipeline alone (no MQTT) as fast as possible - the named alternative;
  2. the whole chain with MQTT publishing as fast as possible;
  3. the whole chain paced at ``latency_speed`` (1 = real time) to measure the latency
     from a chunk entering the pipeline to its state message being accepted by the broker.
Prints a table and writes JSON.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any, Dict, Optional

from .estimator import OnnxVaEstimator
from .mqtt.publisher import MqttPublisher
from .pipeline import Pipeline, PipelineConfig
from .runtime import run_chain
from .session import load_session
from .sources.replay import ReplaySource

__all__ = ["bench_demo"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _one(session, tracks, speed, duration, publisher) -> Dict[str, Any]:
    pipe = Pipeline(session.fs, OnnxVaEstimator(), tracks, PipelineConfig())
    src = ReplaySource(session, speed=speed, duration_s=duration)
    t0, c0 = time.monotonic(), time.process_time()
    stats = await run_chain(src, pipe, publisher, publisher.topics.device_id if publisher else "bench",
                            keep_log=False)
    if publisher is not None:
        await publisher.flush(10.0)
    wall, cpu = time.monotonic() - t0, time.process_time() - c0
    ecg_s = stats.samples / session.fs
    out = {"ecg_seconds": ecg_s, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
           "x_real_time": round(ecg_s / wall, 1), "cpu_s_per_ecg_hour": round(cpu / ecg_s * 3600, 3),
           "states": stats.states, "picks": stats.picks}
    if publisher is not None:
        med, p99 = publisher.latency_percentiles()
        out.update(latency_ms_median=round(med * 1000, 3), latency_ms_p99=round(p99 * 1000, 3),
                   published=publisher.stats.published)
    return out


async def _bench(broker: Optional[str], latency_speed: float, latency_duration: float, device_id: str):
    from .broker import EmbeddedBroker
    from .mqtt.url import parse_broker_url
    from .music.catalog import load_demo_catalog

    session = load_session("builtin:demo")
    tracks = list(load_demo_catalog())
    results: Dict[str, Any] = {}
    results["pipeline_only_max"] = await _one(session, tracks, None, None, None)
    async with contextlib.AsyncExitStack() as stack:
        if broker is None:
            emb = await stack.enter_async_context(EmbeddedBroker())
            host, port, broker_label = emb.host, emb.port, f"embedded amqtt ({emb.url})"
        else:
            host, port, _ = parse_broker_url(broker)
            broker_label = broker
        for name, speed, duration in (("chain_mqtt_max", None, None),
                                      ("chain_mqtt_paced", latency_speed, latency_duration)):
            pub = await stack.enter_async_context(MqttPublisher(host, port, f"{device_id}-{name[-3:]}"))
            await pub.connected.wait()
            results[name] = await _one(session, tracks, speed, duration, pub)
    results["broker"] = broker_label
    return results


def bench_demo(out: Path, broker: Optional[str] = None, latency_speed: float = 1.0,
               latency_duration: float = 60.0, device_id: str = "bench") -> Dict[str, Any]:
    res = asyncio.run(_bench(broker, latency_speed, latency_duration, device_id))
    full, alone, paced = res["chain_mqtt_max"], res["pipeline_only_max"], res["chain_mqtt_paced"]
    report = {
        "benchmark": "cardiotune bench demo",
        "python": sys.version.split()[0], "machine": platform.machine(), "broker": res["broker"],
        "replay_x_real_time_whole_chain": full["x_real_time"],
        "cpu_s_per_ecg_hour_whole_chain": full["cpu_s_per_ecg_hour"],
        "peak_rss_mb": round(_rss_mb(), 1),
        "latency_sample_to_state_published_ms": {"median": paced["latency_ms_median"], "p99": paced["latency_ms_p99"],
                                                 "speed": latency_speed, "ecg_seconds": paced["ecg_seconds"]},
        "alternative_pipeline_without_mqtt": alone,
        "ratio_whole_chain_cpu_over_pipeline_only": round(full["cpu_s_per_ecg_hour"] / alone["cpu_s_per_ecg_hour"], 3),
        "runs": res,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    rows = [
        ("replay, whole chain + MQTT, as fast as possible", f"{full['x_real_time']:.0f} x real time"),
        ("CPU per ECG-hour, whole chain", f"{full['cpu_s_per_ecg_hour']:.2f} s"),
        ("alternative: pipeline without MQTT", f"{alone['x_real_time']:.0f} x real time, "
                                               f"{alone['cpu_s_per_ecg_hour']:.2f} CPU s/h"),
        ("ratio CPU whole chain / pipeline only", f"{report['ratio_whole_chain_cpu_over_pipeline_only']:.2f}"),
        ("peak RSS", f"{report['peak_rss_mb']:.0f} MB"),
        (f"latency sample -> state published ({latency_speed:g}x)",
         f"median {paced['latency_ms_median']:.2f} ms, p99 {paced['latency_ms_p99']:.2f} ms"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"cardiotune bench demo - Python {report['python']}, broker {res['broker']}")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    print(f"wrote {out}")
    return report
