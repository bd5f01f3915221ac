"""Start a private MPD (Music Player Daemon) for tests, benchmarks and the demo.

A temporary folder holds its config, database, log and unix socket; audio goes to MPD's
``null`` output (real-time paced, no sound card needed). The binary is Debian's ``mpd``
(``tools/ensure_mpd.sh`` installs it). Use as a context manager::

    with MpdDaemon(music_dir) as mpd:
        MpdOutput(mpd.address, music_dir=music_dir)
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Optional, Union

from ..errors import CardiotuneError

__all__ = ["MpdDaemon", "MpdUnavailable"]


class MpdUnavailable(CardiotuneError):
    """The mpd binary is missing or the daemon did not come up (the message says which)."""


class MpdDaemon:
    def __init__(self, music_dir: Union[str, Path], binary: Optional[str] = None, start_timeout_s: float = 15.0):
        self.music_dir = Path(music_dir).resolve()
        self.binary = binary or shutil.which("mpd") or "/usr/bin/mpd"
        self.start_timeout_s = start_timeout_s
        self.proc: Optional[subprocess.Popen] = None
        self.tmp: Optional[str] = None

    @property
    def socket_path(self) -> str:
        assert self.tmp is not None
        return os.path.join(self.tmp, "socket")

    @property
    def address(self) -> str:
        return f"unix:{self.socket_path}"

    def start(self) -> MpdDaemon:
        if not os.path.isfile(self.binary):
            raise MpdUnavailable(f"mpd not found at {self.binary}: run tools/ensure_mpd.sh "
                                 "(apt-get install mpd)")
        # short path: unix socket paths are limited to 107 bytes
        self.tmp = tempfile.mkdtemp(prefix="ct-mpd-", dir="/tmp")
        conf = os.path.join(self.tmp, "mpd.conf")
        with open(conf, "w") as f:
            f.write(f'music_directory "{self.music_dir}"\n'
                    f'playlist_directory "{self.tmp}"\n'
                    f'db_file "{self.tmp}/db"\n'
                    f'log_file "{self.tmp}/log"\n'
                    f'bind_to_address "{self.socket_path}"\n'
                    'auto_update "no"\n'
                    'zeroconf_enabled "no"\n'
                    'audio_output {\n type "null"\n name "null"\n}\n')
        # stderr to a file, not a pipe: an undrained pipe would block mpd once it filled
        self._stderr_path = os.path.join(self.tmp, "stderr")
        with open(self._stderr_path, "wb") as err_file:
            self.proc = subprocess.Popen([self.binary, "--no-daemon", conf], stdout=subprocess.DEVNULL,
                                         stderr=err_file)
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                with open(self._stderr_path, "rb") as f:
                    err = f.read().decode(errors="replace")
                raise MpdUnavailable(f"mpd exited with {self.proc.returncode}: {err.strip()[-500:]}")
            if os.path.exists(self.socket_path) and self._db_ready():
                return self
            time.sleep(0.05)
        self.stop()
        raise MpdUnavailable(f"mpd did not open {self.socket_path} within {self.start_timeout_s:g} s")

    def _db_ready(self) -> bool:
        """Connected, and MPD's first database scan of the music folder has finished (songs
        under music_directory are only playable once they are in its database)."""
        with socket.socket(socket.AF_UNIX) as s:
            if s.connect_ex(self.socket_path) != 0:
                return False
            s.settimeout(5.0)
            f = s.makefile("rwb")
            f.readline()  # greeting: OK MPD <version>
            f.write(b"status\n")
            f.flush()
            lines = []
            for line in f:
                if line.startswith((b"OK", b"ACK")):
                    break
                lines.append(line)
            f.close()
            return not any(x.startswith(b"updating_db:") for x in lines)

    def log(self) -> str:
        try:
            with open(os.path.join(self.tmp or "", "log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self) -> MpdDaemon:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
