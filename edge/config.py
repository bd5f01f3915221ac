"""Runtime configuration from TOML profiles (``configs/*.toml``), validated before anything starts.

Every error names the dotted key, the bad value and what was expected. Unknown keys are
errors too (a typo must not silently fall back to a default).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple, Union

from cardiotune.errors import ConfigError

from .mqtt.topics import validate_device_id
from .mqtt.url import parse_broker_url
from .providers import PROVIDER_ALIASES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on the 3.8 CI leg
    import tomli as tomllib

__all__ = ["RuntimeConfig", "load_config", "config_from_dict", "SPEED_MAX", "SOURCE_KINDS", "LIVE_KINDS"]

SPEED_MAX = "max"
SOURCE_KINDS = ("replay", "serial", "lsl")
LIVE_KINDS = ("serial", "lsl")
# keys that only mean something to a replay: set to anything but the default with a live source, they are
# an error rather than silently ignored
_REPLAY_ONLY = ("path", "chunk_s", "audio_path", "ecg_channel")
_SERIAL_ONLY = ("port", "baud", "protocol")
_LSL_ONLY = ("stream_name", "stream_type", "source_id", "channel")
_SECRET_KEYS = {"mqtt.password"}  # never echoed back in an error message


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def _nonneg(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x >= 0


def _speed(x) -> bool:
    return x == SPEED_MAX or _positive(x)


def _device_id(x) -> bool:
    try:
        validate_device_id(x)
    except ValueError:
        return False
    return True


def _broker(x) -> bool:
    if x == "embedded":
        return True
    try:
        parse_broker_url(x)
    except (ValueError, TypeError):
        return False
    return True


def _goal(x) -> bool:
    if isinstance(x, str):
        return x in ("calm", "focus", "energise")
    return (isinstance(x, list) and len(x) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and -1 <= v <= 1 for v in x))


def _unit_interval(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x <= 1


def _int_range(lo, hi) -> Callable[[Any], bool]:
    return lambda x: isinstance(x, int) and not isinstance(x, bool) and lo <= x <= hi


def _providers(x) -> bool:
    return (isinstance(x, list) and len(x) > 0 and all(p in PROVIDER_ALIASES for p in x)
            and len(set(x)) == len(x))


# section -> key -> (default, check, what was expected)
SPEC: Dict[str, Dict[str, Tuple[Any, Callable[[Any], bool], str]]] = {
    "device": {
        "id": ("demo", _device_id, "1-64 letters, digits, '_' or '-'"),
    },
    "source": {
        "kind": ("replay", lambda x: x in SOURCE_KINDS, "\"replay\" (a recording), \"serial\" (an ECG board) or "
                                                         "\"lsl\" (a Lab Streaming Layer ECG or RR stream)"),
        "path": ("builtin:demo", lambda x: isinstance(x, str) and x != "",
                 "'builtin:demo' or a session file: .npz, .xdf, .hea/.dat (WFDB), .edf or .csv"),
        "speed": (1.0, _speed, "a number > 0 (1 = real time) or \"max\""),
        "duration_s": (0.0, _nonneg, "seconds of the session to play (live: seconds to run), a number >= 0 "
                                     "(0 = all / until stopped)"),
        "chunk_s": (0.04, _positive, "a number of seconds > 0"),
        "queue_size": (64, _int_range(1, 100_000), "an integer between 1 and 100000"),
        "audio_path": ("", lambda x: isinstance(x, str), "a sound file replayed as the microphone, or \"\""),
        "ecg_channel": ("", lambda x: isinstance(x, str), "the ECG channel's label, or \"\" to find it"),
        "fs": (0.0, _nonneg, "the sample rate of a CSV without a time column, or the rate a live device is "
                             "expected to send, Hz (0 = from the file / the device)"),
        # live sources (kind = "serial" / "lsl"); see _check_live
        "port": ("", lambda x: isinstance(x, str), "a serial port path, e.g. /dev/ttyACM0 or "
                                                    "/dev/serial/by-id/..."),
        "baud": (115200, _int_range(1200, 4_000_000), "a baud rate, an integer 1200-4000000"),
        "protocol": ("binary", lambda x: x in ("binary", "text"), "\"binary\" (cardiotune frames) or \"text\" "
                                                                  "(one number per line)"),
        "stream_name": ("", lambda x: isinstance(x, str), "an LSL stream name, or \"\" for any"),
        "stream_type": ("ECG", lambda x: isinstance(x, str), "an LSL stream type: \"ECG\", \"RR\" (also matches "
                                                             "\"IBI\"), or \"\" for any"),
        "source_id": ("", lambda x: isinstance(x, str), "an LSL source_id, or \"\" for any"),
        "channel": (0, _int_range(0, 255), "the LSL channel holding the ECG, an integer 0-255"),
        "resync_s": (0.5, _positive, "seconds the device clock may run ahead of the sample count before the "
                                     "timeline re-syncs with a gap, > 0"),
    },
    "ecg": {
        "window_s": (20.0, _positive, "a number of seconds > 0"),
        "hop_s": (1.0, _positive, "a number of seconds > 0"),
        "calibration_s": (120.0, _positive, "a number of seconds > 0"),
    },
    "model": {
        "manifest": ("builtin:hrv_va", lambda x: isinstance(x, str) and x != "",
                     "'builtin:hrv_va' or a path to a model manifest.json"),
        # execution providers in order of preference; CPU is always the floor (edge/providers.py)
        "providers": (["cpu"], _providers, "a non-empty list of \"tensorrt\", \"cuda\", \"cpu\""),
        "threads": (1, _int_range(0, 256), "an integer 0-256 (0 = onnxruntime's default)"),
        "variant": ("fp32", lambda x: x in ("fp32", "fp16", "int8_dynamic", "int8_static"),
                    "\"fp32\", \"fp16\", \"int8_dynamic\" or \"int8_static\""),
        "trt_cache_dir": ("~/.cache/cardiotune/trt", lambda x: isinstance(x, str) and x != "",
                          "a folder for TensorRT engine and timing caches"),
        "trt_fp16": (True, lambda x: isinstance(x, bool), "true or false"),
    },
    "smoothing": {
        "q_per_s": (0.002, _positive, "a process-noise variance per second > 0"),
        "stale_after_s": (10.0, _positive, "a number of seconds > 0"),
    },
    "recommender": {
        "min_dwell_s": (15.0, _nonneg, "a number of seconds >= 0"),
        "hysteresis": (0.15, _nonneg, "a VA distance >= 0"),
        "no_repeat": (4, _int_range(0, 1000), "an integer between 0 and 1000"),
        "ahead_s": (10.0, _nonneg, "seconds before a track's end to pick the next, >= 0"),
        "skip_penalty": (0.5, _nonneg, "a VA distance added to a skipped track, >= 0"),
        "like_bonus": (0.3, _nonneg, "a VA distance taken off tracks near a liked one, >= 0"),
        "like_radius": (0.3, _positive, "a VA distance > 0"),
        "feedback_half_life_s": (1800.0, _positive, "a number of seconds > 0"),
        "embeddings": ("", lambda x: isinstance(x, str), "a catalog embeddings.json (CMER-CL similarity), or \"\" "
                                                         "for VA distance"),
    },
    "mqtt": {
        "broker": ("embedded", _broker, "\"embedded\" or mqtt://host[:port] / mqtts://host[:port]"),
        "state_ttl_s": (5.0, _positive, "a number of seconds > 0"),
        "queue_size": (512, _int_range(1, 1_000_000), "an integer between 1 and 1000000"),
        "backoff_max_s": (2.0, _positive, "a number of seconds > 0"),
        "outbox": ("", lambda x: isinstance(x, str), "a path for the SQLite pick outbox, or \"\" for none"),
        # connection security and protocol (see edge/mqtt/connection.py); mqtts:// in `broker` turns TLS on
        "ca_file": ("", lambda x: isinstance(x, str), "a CA certificate file (PEM), or \"\" for the system store"),
        "cert_file": ("", lambda x: isinstance(x, str), "a client certificate (PEM), or \"\" for none"),
        "key_file": ("", lambda x: isinstance(x, str), "the client certificate's key (PEM), or \"\" for none"),
        "tls_insecure": (False, lambda x: isinstance(x, bool), "true or false (true skips the host-name check)"),
        "username": ("", lambda x: isinstance(x, str), "a user name, or \"\" for none"),
        "password": ("", lambda x: isinstance(x, str), "a string (keep this file private), or \"\" for none"),
        "protocol": ("auto", lambda x: x in ("auto", "5", "3.1.1"), "\"auto\", \"5\" or \"3.1.1\""),
        "session_expiry_s": (3600, _int_range(0, 2**32 - 1), "seconds the broker keeps our session, an integer"),
        "metrics_interval_s": (10.0, _nonneg, "seconds between metrics messages, a number >= 0 (0 = off)"),
        "ha_discovery": (False, lambda x: isinstance(x, bool), "true or false (Home Assistant MQTT discovery)"),
        "ha_prefix": ("homeassistant", lambda x: isinstance(x, str) and x != "" and "#" not in x and "+" not in x,
                      "a topic prefix without wildcards"),
    },
    "ui": {
        "live": (True, lambda x: isinstance(x, bool), "true or false"),
    },
    "policy": {
        "name": ("match", lambda x: x in ("match", "steer"), "'match' or 'steer'"),
        "goal": ("calm", _goal, "'calm', 'focus', 'energise' or [valence, arousal] in [-1, 1]"),
        "ramp_s": (600.0, _positive, "a number of seconds > 0"),
    },
    "voice": {
        "manifest": ("", lambda x: isinstance(x, str),
                     "'builtin:speech' (the shipped EMO-DB model), a speech model manifest.json, or \"\" for ECG only"),
        "hop_s": (1.0, _positive, "a number of seconds > 0"),
        "min_speech_frac": (0.5, _unit_interval, "a fraction in (0, 1]"),
        "max_age_s": (10.0, _positive, "seconds a voice estimate counts after its audio, > 0"),
        "microphone": (False, lambda x: isinstance(x, bool), "true or false (live voice from the default input "
                                                             "device; needs source.speed = 1)"),
        "device": ("", lambda x: isinstance(x, str), "an input device name or number, or \"\" for the default"),
        "record_audio": (False, lambda x: isinstance(x, bool), "true or false (raw audio is never recorded "
                                                               "unless true)"),
    },
    "fusion": {
        "questionable_inflation": (4.0, lambda x: _positive(x) and x >= 1, "a variance factor >= 1"),
    },
    "calibration": {
        "user": ("", lambda x: x == "" or _device_id(x), "\"\" or 1-64 letters, digits, '_' or '-'"),
        "data_dir": ("", lambda x: isinstance(x, str), "a folder for per-user data, or \"\" for the default"),
    },
}


@dataclass(frozen=True)
class RuntimeConfig:
    values: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    source_file: Optional[str] = None

    def get(self, dotted: str) -> Any:
        section, key = dotted.split(".", 1)
        return self.values[section][key]

    @property
    def speed(self) -> Optional[float]:
        """None means as fast as possible."""
        s = self.get("source.speed")
        return None if s == SPEED_MAX else float(s)


def config_from_dict(data: Dict[str, Any], source: Optional[str] = None) -> RuntimeConfig:
    if not isinstance(data, dict):
        raise ConfigError("<root>", data, "a table of sections", source)
    values: Dict[str, Dict[str, Any]] = {}
    for section in data:
        if section not in SPEC:
            raise ConfigError(section, data[section], f"one of the sections {sorted(SPEC)}", source)
    for section, keys in SPEC.items():
        given = data.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(section, given, "a table ([section])", source)
        for key in given:
            if key not in keys:
                raise ConfigError(f"{section}.{key}", given[key], f"one of the keys {sorted(keys)}", source)
        values[section] = {}
        for key, (default, check, expected) in keys.items():
            value = given.get(key, default)
            if not check(value):
                dotted = f"{section}.{key}"
                raise ConfigError(dotted, "<redacted>" if dotted in _SECRET_KEYS else value, expected, source)
            values[section][key] = value
    _check_source(values["source"], source)
    if values["voice"]["microphone"] and values["source"]["speed"] != 1:
        raise ConfigError("voice.microphone", True, "source.speed = 1: a live microphone runs in real time", source)
    ecg = values["ecg"]
    if ecg["hop_s"] > ecg["window_s"]:
        raise ConfigError("ecg.hop_s", ecg["hop_s"], f"at most ecg.window_s ({ecg['window_s']})", source)
    return RuntimeConfig(values, source)


def _check_source(src: Dict[str, Any], source: Optional[str]) -> None:
    """Cross-key rules of [source]: each kind's own keys, and nothing that would be silently ignored."""
    kind = src["kind"]
    defaults = SPEC["source"]
    foreign = {"replay": _SERIAL_ONLY + _LSL_ONLY + ("resync_s",), "serial": _REPLAY_ONLY + _LSL_ONLY,
               "lsl": _REPLAY_ONLY + _SERIAL_ONLY}[kind]
    for key in foreign:
        if src[key] != defaults[key][0]:
            raise ConfigError(f"source.{key}", src[key], f"no value with source.kind = {kind!r} (it applies to "
                              f"another kind of source); remove it", source)
    if kind == "replay":
        return
    if src["speed"] != 1:
        raise ConfigError("source.speed", src["speed"], f"1 (source.kind = {kind!r} is a live source: it runs in "
                          "real time)", source)
    if src["fs"] and not 100 <= src["fs"] <= 1000:
        raise ConfigError("source.fs", src["fs"], "0 (the device's rate) or the expected rate, 100-1000 Hz", source)
    if kind == "serial" and not src["port"]:
        raise ConfigError("source.port", src["port"], "the serial port of the ECG board, e.g. \"/dev/ttyACM0\" "
                          "(required with source.kind = \"serial\")", source)
    if kind == "lsl":
        if not (src["stream_name"] or src["stream_type"] or src["source_id"]):
            raise ConfigError("source.stream_type", src["stream_type"], "at least one of source.stream_name, "
                              "source.stream_type, source.source_id to find the LSL stream", source)
        for key in ("stream_name", "stream_type", "source_id"):
            if "'" in src[key]:
                raise ConfigError(f"source.{key}", src[key], "a value without a single quote (LSL query)", source)


def load_config(path: Union[str, Path]) -> RuntimeConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("--config", str(path), "an existing TOML file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("<file>", str(path), f"valid TOML ({exc})") from None
    return config_from_dict(data, str(path))
