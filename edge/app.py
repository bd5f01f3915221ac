"""Assemble and run the whole chain from a :class:`RuntimeConfig` (used by ``demo`` and ``run``).

``source.kind = "replay"`` plays a recording; ``"serial"`` and ``"lsl"`` read a live ECG
board or LSL stream (:mod:`.sources.live`): the chain is built once the device's first data
says its sample rate, and the run lasts until Ctrl-C / SIGTERM or ``source.duration_s``.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import math
import resource
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import numpy as np

from cardiotune.errors import ConfigError

from .config import LIVE_KINDS, RuntimeConfig
from .display import LiveView
from .estimator import OnnxVaEstimator, resolve_manifest
from .metrics import RuntimeMetrics
from .mqtt.publisher import MqttPublisher
from .mqtt.url import parse_broker_url
from .observability import attach_publisher, metrics_loop, recorder_ticker
from .pipeline import PipelineConfig
from .providers import validate_provider_names
from .runtime import RuntimeStats, run_chain
from .sources.base import EcgChunk
from .sources.files import load_recording
from .sources.live import ESTIMATED_RATE_TOLERANCE, LiveSource
from .sources.replay import ReplaySource
from .tasks import cancel_and_wait

__all__ = ["AppResult", "run_app", "pipeline_config"]

log = logging.getLogger(__name__)
DEFAULT_LIVE_FS = 250.0  # assumed until a live device's first data says its rate (and for RR-only streams)


@dataclass
class AppResult:
    stats: RuntimeStats
    summary: Dict[str, Any]


def pipeline_config(cfg: RuntimeConfig) -> PipelineConfig:
    return PipelineConfig(
        window_s=cfg.get("ecg.window_s"), hop_s=cfg.get("ecg.hop_s"), calibration_s=cfg.get("ecg.calibration_s"),
        min_dwell_s=cfg.get("recommender.min_dwell_s"), hysteresis=cfg.get("recommender.hysteresis"),
        no_repeat=cfg.get("recommender.no_repeat"), q_per_s=cfg.get("smoothing.q_per_s"),
        stale_after_s=cfg.get("smoothing.stale_after_s"),
    )


def _manifest_path(cfg: RuntimeConfig) -> Path:
    return resolve_manifest(cfg.get("model.manifest"))


def _summary(stats: RuntimeStats, fs: float, session, wall_s: float, cpu_s: float, publisher) -> Dict[str, Any]:
    ecg_s = stats.samples / fs
    summary: Dict[str, Any] = {
        "ecg_seconds": ecg_s,
        "wall_seconds": round(wall_s, 3),
        "real_time_factor": round(ecg_s / wall_s, 1) if wall_s > 0 else None,
        "cpu_seconds": round(cpu_s, 3),
        "cpu_seconds_per_ecg_hour": round(cpu_s / ecg_s * 3600, 2) if stats.samples else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "states": stats.states, "picks": stats.picks, "dropped_chunks": stats.dropped_chunks,
    }
    if publisher is not None:
        med, p99 = publisher.latency_percentiles()
        summary.update(published=publisher.stats.published, dropped_overflow=publisher.stats.dropped_overflow,
                       dropped_stale=publisher.stats.dropped_stale,
                       latency_ms_median=round(med * 1000, 3) if math.isfinite(med) else None,
                       latency_ms_p99=round(p99 * 1000, 3) if math.isfinite(p99) else None)
    if session is not None and session.has_truth and stats.state_log:
        usable = [e for e in stats.state_log if e.status != "not-available"]
        truth = [session.truth_at(e.window.t_start, e.window.t_end) for e in usable]
        keep = [(e, t) for e, t in zip(usable, truth) if t is not None]
        if len(keep) > 2:
            est = np.array([[e.va.valence, e.va.arousal] for e, _ in keep])
            tru = np.array([t for _, t in keep])
            summary["arousal_pearson_r"] = round(float(np.corrcoef(est[:, 1], tru[:, 1])[0, 1]), 4)
            summary["valence_pearson_r"] = round(float(np.corrcoef(est[:, 0], tru[:, 0])[0, 1]), 4)
    return summary


def _live_inner(cfg: RuntimeConfig):
    """The configured live ECG source (not yet entered) and a label for the view and the summary."""
    if cfg.get("source.kind") == "serial":
        from .sources.serial import SerialSource

        port = cfg.get("source.port")
        src = SerialSource(port, baudrate=cfg.get("source.baud"), protocol=cfg.get("source.protocol"),
                           fs_hint=cfg.get("source.fs") or DEFAULT_LIVE_FS)
        return src, f"serial {port} ({cfg.get('source.protocol')}, {cfg.get('source.baud')} baud)"
    from .sources.lsl import LslSource

    src = LslSource(name=cfg.get("source.stream_name") or None, type=cfg.get("source.stream_type") or None,
                    source_id=cfg.get("source.source_id") or None, channel=cfg.get("source.channel"))
    return src, f"lsl {src.pred}"


@contextlib.contextmanager
def _stop_on_signals(stop: Callable[[str], None]):
    """SIGINT/SIGTERM end a live run cleanly (picks flushed, recording closed, status offline); a
    second signal gets the default behaviour, to force an exit if the shutdown hangs."""
    loop = asyncio.get_running_loop()
    installed = []

    def handler(name: str) -> None:
        log.warning("%s: stopping the live run (send it again to force)", name)
        stop(name)
        for sig in installed:
            loop.remove_signal_handler(sig)
        installed.clear()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, handler, sig.name)
        except (NotImplementedError, RuntimeError, ValueError) as exc:  # Windows, or not the main thread
            log.info("no %s handler (%s): stop with the default behaviour", sig.name, exc)
            continue
        installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _source_summary(kind: str, label: str, live, inner) -> Dict[str, Any]:
    out: Dict[str, Any] = {"kind": kind, "label": label}
    if live is None:
        return out
    out.update(stop_reason=live.stop_reason, data_seconds=round(live.timeline.position_s, 3),
               fs=live.timeline.fs, timeline=dataclasses.asdict(live.timeline.counters),
               link=dataclasses.asdict(inner.status))
    counters = getattr(getattr(inner, "link", None), "counters", None)
    if counters is not None:
        out["link_counters"] = dataclasses.asdict(counters)
    return out


async def run_app(cfg: RuntimeConfig, *, summary_path: Optional[Path] = None, live_ui: Optional[bool] = None,
                  catalog=None, record_path: Optional[Path] = None) -> AppResult:
    kind = cfg.get("source.kind")
    duration = cfg.get("source.duration_s") or None
    session = live = replay = None
    if kind in LIVE_KINDS:
        inner, label = _live_inner(cfg)
        # the device tells its rate with its first data; until then assume the configured one
        fs = cfg.get("source.fs") or DEFAULT_LIVE_FS
        if kind == "serial" and cfg.get("source.protocol") == "text":  # no rate on the wire: runs at fs
            live = LiveSource(inner, duration_s=duration, resync_s=cfg.get("source.resync_s"),
                              rate_tolerance=ESTIMATED_RATE_TOLERANCE, nominal_fs=fs)
        else:
            live = LiveSource(inner, duration_s=duration, resync_s=cfg.get("source.resync_s"))
    else:
        session = load_recording(cfg.get("source.path"), audio_path=cfg.get("source.audio_path") or None,
                                 ecg_channel=cfg.get("source.ecg_channel") or None, fs=cfg.get("source.fs") or None)
        fs, label = session.fs, str(cfg.get("source.path"))
    if catalog is None:
        from .music.catalog import load_demo_catalog

        catalog = load_demo_catalog()
    estimator = OnnxVaEstimator(_manifest_path(cfg), providers=validate_provider_names(cfg.get("model.providers")),
                                threads=cfg.get("model.threads"), variant=cfg.get("model.variant"),
                                trt_cache_dir=cfg.get("model.trt_cache_dir"), trt_fp16=cfg.get("model.trt_fp16"))
    from .assemble import build_fused_pipeline

    assembled = build_fused_pipeline(cfg, fs, estimator, list(catalog), pipeline_config(cfg))
    if live is None:
        replay = source = ReplaySource(session, speed=cfg.speed, chunk_s=cfg.get("source.chunk_s"),
                                       duration_s=duration)
    else:
        source = live
    device_id = cfg.get("device.id")
    broker = cfg.get("mqtt.broker")
    status_extra = {"version": estimator.version, "model": {"name": estimator.manifest.data["name"],
                    "version": estimator.version}, "providers": estimator.providers,
                    "providers_requested": estimator.provider_choice.requested,
                    "voice": assembled.voice_status, "calibration": {"user": assembled.calibration["user"],
                                                                     "stored": assembled.calibration["stored"]}}
    async with contextlib.AsyncExitStack() as stack:
        if broker == "embedded":
            from .broker import EmbeddedBroker

            embedded = await stack.enter_async_context(EmbeddedBroker())
            host, port, tls = embedded.host, embedded.port, False
            broker = embedded.url
            print(f"embedded MQTT broker on {broker} (watch: mosquitto_sub -p {port} -t 'cardiotune/#' -v)", flush=True)
        else:
            host, port, tls = parse_broker_url(broker)
        outbox = None
        if cfg.get("mqtt.outbox"):
            from .mqtt.outbox import Outbox

            outbox = Outbox(Path(cfg.get("mqtt.outbox")).expanduser())
            stack.callback(outbox.close)
        from .mqtt.connection import MqttSettings
        from .mqtt.publisher import Outgoing

        try:
            settings = MqttSettings.from_section(cfg.values["mqtt"], host, port, tls)
            if cfg.get("mqtt.broker") == "embedded" and settings.protocol == "auto":
                settings = settings.with_protocol("3.1.1")  # amqtt speaks 3.1.1 only; skip the v5 attempt
        except ValueError as exc:
            raise ConfigError("mqtt", "<tls/credentials>", str(exc), cfg.source_file) from None
        on_connect = []
        if cfg.get("mqtt.ha_discovery"):
            from .mqtt.ha_discovery import discovery_messages

            on_connect = [Outgoing(t, p, qos=1, retain=True) for t, p in discovery_messages(
                device_id, prefix=cfg.get("mqtt.ha_prefix"), state_ttl_s=cfg.get("mqtt.state_ttl_s"),
                sw_version=str(estimator.version))]
        publisher = await stack.enter_async_context(MqttPublisher(
            host, port, device_id, queue_size=cfg.get("mqtt.queue_size"),
            backoff_max_s=cfg.get("mqtt.backoff_max_s"), status_extra=status_extra, tls=tls, outbox=outbox,
            settings=settings, on_connect=on_connect))
        if live is not None:
            stack.enter_context(_stop_on_signals(live.stop))
            await stack.enter_async_context(live)  # entered here so the first data fixes the rate first
            print(f"waiting for data from {label} "
                  + (f"(for {duration:g} s)" if duration else "(Ctrl-C to stop)"), flush=True)
            first = await live.peek()
            if isinstance(first, EcgChunk):
                if cfg.get("source.fs") and abs(first.fs - cfg.get("source.fs")) > 1e-6 * first.fs:
                    raise ConfigError("source.fs", cfg.get("source.fs"), f"the rate the device sends, "
                                      f"{first.fs:g} Hz (or 0 to take the device's rate)", cfg.source_file)
                if first.fs != fs:
                    fs = first.fs
                    assembled = build_fused_pipeline(cfg, fs, estimator, list(catalog), pipeline_config(cfg),
                                                     parts=assembled.parts)  # models loaded once
            if first is None:
                log.warning("%s sent no data before the run ended (%s)", label, live.stop_reason)
        pipeline = assembled.pipeline
        mic = None
        if cfg.get("voice.microphone"):
            from .sources.merge import MergedSource
            from .sources.microphone import MicrophoneSource

            dev = cfg.get("voice.device")
            origin = (lambda: replay.started_at) if live is None else (lambda: live.origin)
            mic = MicrophoneSource(int(dev) if dev.isdigit() else (dev or None), origin=origin)
            source = MergedSource(source, mic)
        metrics = RuntimeMetrics()
        attach_publisher(metrics, publisher)
        speed_label = "live" if live is not None else ("max" if cfg.speed is None else f"{cfg.speed:g}x")
        view = LiveView(session, broker, device_id, replay.n_samples / fs if replay is not None else None,
                        speed_label, rich_ok=live_ui if live_ui is not None else None,
                        source_label=label if live is not None else "",
                        link_state=(lambda: live.inner.status.state) if live is not None else None)
        view.publisher = publisher
        if not cfg.get("ui.live"):
            view = None
        recorder = None
        if record_path is not None:
            from .recording.recorder import SessionRecorder

            recorder = stack.enter_context(SessionRecorder(record_path, device_id, fs))
        side_tasks = []
        if cfg.get("mqtt.metrics_interval_s") > 0:
            side_tasks.append(asyncio.ensure_future(metrics_loop(publisher, metrics, cfg.get("mqtt.metrics_interval_s"),
                                                                 recorder)))
        if recorder is not None:
            side_tasks.append(asyncio.ensure_future(recorder_ticker(recorder)))
        stack.push_async_callback(cancel_and_wait, side_tasks)

        def on_event(event) -> None:
            assembled.on_event(event)
            if view is not None:
                view.on_event(event)

        t_wall, t_cpu = time.monotonic(), time.process_time()

        with (view if view is not None else contextlib.nullcontext()):
            # a live sensor must not fall behind real time: drop the oldest chunk (counted) rather than wait
            stats = await run_chain(source, pipeline, publisher, device_id,
                                    state_ttl_s=cfg.get("mqtt.state_ttl_s"), queue_size=cfg.get("source.queue_size"),
                                    overflow="block" if live is None else "drop-oldest", on_event=on_event,
                                    recorder=recorder, metrics=metrics, record_audio=cfg.get("voice.record_audio"))
        wall_s, cpu_s = time.monotonic() - t_wall, time.process_time() - t_cpu
        if not await publisher.flush(timeout_s=5.0):
            log.warning("%d message(s) not delivered: broker unreachable at the end of the run", publisher.backlog)
        summary = _summary(stats, fs, session, wall_s, cpu_s, publisher)
        summary["source"] = _source_summary(kind, label, live, live.inner if live is not None else None)
        if stats.rr_chunks:
            summary.update(rr_chunks=stats.rr_chunks, rr_intervals=stats.rr_intervals)
        summary.update(voice=dict(assembled.voice_status, estimates=stats.voice_estimates,
                                  audio_chunks=stats.audio_chunks), calibration=assembled.calibration)
        if mic is not None:
            summary["voice"]["microphone"] = {"status": mic.status, "reason": mic.reason, "dropped": mic.dropped,
                                              "overflows": mic.overflows}
        if recorder is not None:
            summary["recording"] = {"path": str(record_path), "error": recorder.error}
    if summary_path is not None:
        summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return AppResult(stats, summary)
