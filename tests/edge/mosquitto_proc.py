"""Test helpers: a private Mosquitto from a temporary config (TLS, passwords, persistence)
on a free port, and a throw-away certificate authority made with the openssl CLI."""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import List, Optional


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mosquitto_exe() -> str:
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(exe).exists():
        raise RuntimeError("mosquitto binary not installed: run tools/ensure_mosquitto.sh")
    return exe


class MosquittoProc:
    """``MosquittoProc(tmp, ["allow_anonymous true"]).start()``; ``kill()`` sends SIGKILL."""

    def __init__(self, workdir: Path, extra_conf: List[str], port: Optional[int] = None):
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.conf = self.workdir / f"mosquitto-{self.port}.conf"
        self.conf.write_text("\n".join([f"listener {self.port} 127.0.0.1", *extra_conf]) + "\n")
        self.log = self.workdir / f"mosquitto-{self.port}.log"
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout_s: float = 10.0) -> MosquittoProc:
        self.proc = subprocess.Popen([mosquitto_exe(), "-c", str(self.conf)], stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


def _ssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_pki(d: Path) -> dict:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate (PEM files)."""
    d.mkdir(parents=True, exist_ok=True)
    _ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
         "-subj", "/CN=cardiotune test CA", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, cn in (("server", "localhost"), ("client", "cardiotune-client")):
        _ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", f"/CN={cn}", cwd=d)
        extra = ["-extfile", "san.ext"] if name == "server" else []
        _ssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", f"{name}.crt", "-days", "2", *extra, cwd=d)
    return {k: str(d / f) for k, f in (("ca", "ca.crt"), ("server_cert", "server.crt"), ("server_key", "server.key"),
                                        ("client_cert", "client.crt"), ("client_key", "client.key"))}


def password_file(d: Path, user: str, password: str) -> str:
    path = d / "passwd"
    path.write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(path), user, password], check=True)
    return str(path)
