"""An embedded MQTT 3.1.1 broker (amqtt) for the offline demo, started in-process.

Only used when no broker URL is given; production uses a real broker (Mosquitto).
"""
from __future__ import annotations

import asyncio
import logging
import socket
from typing import Optional

from cardiotune._imports import import_optional

from .tasks import cancel_and_wait

__all__ = ["EmbeddedBroker", "free_port"]

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT_S = 5.0


def free_port(host: str = "127.0.0.1", preferred: int = 1883) -> int:
    """``preferred`` if nothing listens there, else an ephemeral free port."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError(f"no free TCP port on {host}")


class EmbeddedBroker:
    """``async with EmbeddedBroker() as b: b.port`` - an amqtt broker on 127.0.0.1."""

    def __init__(self, host: str = "127.0.0.1", port: Optional[int] = None):
        self.host = host
        self.port = port if port is not None else free_port(host)
        self._broker = None

    async def __aenter__(self) -> EmbeddedBroker:
        broker_mod = import_optional("amqtt.broker", "demo", "The embedded MQTT broker")
        # amqtt logs every connection at INFO; keep the demo's terminal for the demo
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        listener = {"type": "tcp", "bind": f"{self.host}:{self.port}"}
        self._broker = broker_mod.Broker({"listeners": {"default": listener}})
        await self._broker.start()
        log.info("embedded MQTT broker listening on %s:%s", self.host, self.port)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._broker is None:
            return
        # bounded: shutdown stops each client's protocol handler in turn and awaits plugins;
        # the demo must exit even if one of those waits on a client that outlives us
        shutdown = asyncio.ensure_future(self._broker.shutdown())
        done, _ = await asyncio.wait({shutdown}, timeout=SHUTDOWN_TIMEOUT_S)
        if done:
            shutdown.result()
            return
        log.warning("embedded MQTT broker did not shut down within %.0f s (a client still connected?); "
                    "closing it anyway", SHUTDOWN_TIMEOUT_S)
        await cancel_and_wait([shutdown], errors="log")

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"
