"""The MQTT topic tree: one versioned tree per device. See docs/mqtt.md for the contract.

    cardiotune/v1/<device_id>/status   retained, QoS 1, last will "offline"
    cardiotune/v1/<device_id>/state    QoS 0, ~1 Hz VA + heart rate with status and TTL
    cardiotune/v1/<device_id>/pick     retained, QoS 1, the current music pick with TTL
    cardiotune/v1/<device_id>/cmd      in: commands (QoS 1)
    cardiotune/v1/<device_id>/ack      out: one answer per command (QoS 1)
    cardiotune/v1/<device_id>/metrics  retained, QoS 0, latency histograms, queues, drops (every ~10 s)
    cardiotune/v1/<device_id>/player/event  in: events of the players playing the picks (QoS 1)
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ROOT", "VERSION", "DeviceTopics", "validate_device_id"]

ROOT = "cardiotune"
VERSION = "v1"
_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def validate_device_id(device_id: str) -> str:
    if not isinstance(device_id, str) or not _DEVICE_ID.match(device_id):
        raise ValueError(
            f"device id {device_id!r}: expected 1-64 characters of letters, digits, '_' or '-' "
            "(MQTT wildcards and '/' are not allowed)"
        )
    return device_id


@dataclass(frozen=True)
class DeviceTopics:
    device_id: str

    def __post_init__(self) -> None:
        validate_device_id(self.device_id)

    @property
    def base(self) -> str:
        return f"{ROOT}/{VERSION}/{self.device_id}"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def pick(self) -> str:
        return f"{self.base}/pick"

    @property
    def cmd(self) -> str:
        return f"{self.base}/cmd"

    @property
    def ack(self) -> str:
        return f"{self.base}/ack"

    @property
    def metrics(self) -> str:
        return f"{self.base}/metrics"

    @property
    def player_event(self) -> str:
        return f"{self.base}/player/event"
