"""Shared fixtures. Tests needing a broker use the real Mosquitto on 127.0.0.1:1883
(`make broker` / .ci/run start it); they fail - not skip - when it is missing."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BROKER_HOST, BROKER_PORT = "127.0.0.1", 1883


def _listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@pytest.fixture
def mosquitto():
    """(host, port) of the real broker; fails loudly if it is not running."""
    if not _listening(BROKER_HOST, BROKER_PORT):
        pytest.fail("no MQTT broker on 127.0.0.1:1883: run `bash tools/ensure_mosquitto.sh` (CI does)")
    return BROKER_HOST, BROKER_PORT


@pytest.fixture
def device_id() -> str:
    """A unique device id per test, so retained messages never leak between tests."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def data_dir() -> Path:
    """The shared real-data folder (CARDIOTUNE_DATA); skips with the reason when absent."""
    root = os.environ.get("CARDIOTUNE_DATA") or str(REPO.parent / "shared" / "data")
    path = Path(root)
    if not path.is_dir():
        pytest.skip(f"real data not available at {path} (set CARDIOTUNE_DATA)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnMosquitto:
    """A private Mosquitto on its own port, so the test can kill it."""

    def __init__(self, port: int):
        self.port, self.proc = port, None

    def start(self):
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([exe, "-p", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start on port {self.port}")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def private_broker():
    """A not-yet-started private Mosquitto on a free port (the test starts and kills it)."""
    if not (shutil.which("mosquitto") or os.path.exists("/usr/sbin/mosquitto")):
        pytest.fail("mosquitto binary not installed: run tools/ensure_mosquitto.sh")
    b = OwnMosquitto(_free_port())
    yield b
    if b.proc is not None and b.proc.poll() is None:
        b.kill()


