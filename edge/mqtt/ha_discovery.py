"""Home Assistant MQTT discovery: retained sensor configs for heart rate, valence, arousal
and signal quality (https://www.home-assistant.io/integrations/sensor.mqtt/).

Pure: returns (topic, payload) pairs. The sensors read our ``state`` topic through value
templates; availability is our retained ``status`` topic (its last will says "offline"),
so Home Assistant greys the sensors out when the device is gone. ``expire_after`` makes a
sensor unavailable when states stop coming (the state TTL, at least 1 s).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Tuple

from .topics import DeviceTopics

__all__ = ["discovery_messages", "SENSORS"]

# key -> (name, state_payload field, unit, device_class, icon)
SENSORS = {
    "heart_rate": ("Heart rate", "hr_bpm", "bpm", None, "mdi:heart-pulse"),
    "valence": ("Valence", "valence", None, None, "mdi:emoticon-outline"),
    "arousal": ("Arousal", "arousal", None, None, "mdi:lightning-bolt-outline"),
    "signal_quality": ("Signal quality", "signal_quality", None, None, "mdi:signal"),
}


def discovery_messages(device_id: str, *, prefix: str = "homeassistant", state_ttl_s: float = 5.0,
                       sw_version: str = "") -> List[Tuple[str, Dict[str, Any]]]:
    topics = DeviceTopics(device_id)
    node = f"cardiotune_{device_id}"
    device = {"identifiers": [node], "name": f"cardiotune {device_id}", "manufacturer": "cardiotune",
              "model": "cardiotune edge runtime"}
    if sw_version:
        device["sw_version"] = sw_version
    out = []
    for key, (name, field, unit, device_class, icon) in SENSORS.items():
        cfg: Dict[str, Any] = {
            "name": name,
            "unique_id": f"{node}_{key}",
            "object_id": f"{node}_{key}",
            "state_topic": topics.state,
            # states may carry null (no estimate yet): show "unknown" rather than a fake number
            "value_template": f"{{{{ value_json.{field} if value_json.{field} is not none else 'None' }}}}",
            "availability_topic": topics.status,
            "availability_template": "{{ value_json.state }}",
            "payload_available": "online",
            "payload_not_available": "offline",
            "expire_after": max(1, int(math.ceil(state_ttl_s))),
            "icon": icon,
            "device": device,
        }
        if unit:
            cfg["unit_of_measurement"] = unit
        if key != "signal_quality":  # numeric: Home Assistant keeps long-term statistics
            cfg["state_class"] = "measurement"
        if device_class:
            cfg["device_class"] = device_class
        out.append((f"{prefix}/sensor/{node}/{key}/config", cfg))
    return out
