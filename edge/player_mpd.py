"""Play picks on a real MPD (Music Player Daemon) with python-mpd2 (extra ``mpd``).

Two connections to MPD: one sends commands (``addid`` + ``playid`` per pick), the other
waits in ``idle player`` and turns MPD's notifications into player events:

* the song MPD reports as playing is one we added -> ``started`` (once per pick);
* the song we were playing is gone (MPD stopped, or moved to a song we did not add) ->
  ``ended`` (reason ``eof``) when its last known position was within ``END_SLACK_S`` of its
  end, else ``skipped`` (reason ``external``: someone used MPD directly, e.g. ``mpc next``);
* a pick replaced by a newer pick is reported ``skipped``/``replaced`` by the MQTT player,
  so the old song is forgotten here as soon as the new one is requested.

URIs: a track under ``music_dir`` (MPD's ``music_directory``) is added by its relative
path, which works over TCP; any other local file is added as ``file:///abs/path``, which
MPD accepts only from a *local* client, i.e. over its unix socket (``--mpd unix:/path``).
Crossfade: MPD's own ``crossfade`` setting (seconds) applies when a song ends into the next;
MPD cuts without a fade when we jump to a new song mid-track (its ``playid`` never fades).
"""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

from .._imports import import_optional
from ..errors import CardiotuneError, ConfigError
from .music.catalog import Catalog
from .player import Backoff, Pick
from .player_audio import resolve_track_path

__all__ = ["MpdOutput", "parse_mpd_address"]

log = logging.getLogger(__name__)

END_SLACK_S = 1.5


def parse_mpd_address(text: str) -> Tuple[str, Optional[int]]:
    """``unix:/run/mpd/socket`` or ``/abs/socket`` -> (path, None); ``host[:port]`` -> (host, port)."""
    if text.startswith("unix:"):
        return text[5:], None
    if text.startswith("/"):
        return text, None
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "6600")
    try:
        p = int(port)
    except ValueError:
        raise ConfigError("--mpd", text, "unix:/path/to/socket, /path/to/socket or host[:port]") from None
    if not 0 < p < 65536:
        raise ConfigError("--mpd", text, "a port between 1 and 65535")
    return host or "127.0.0.1", p


class MpdOutput:
    name = "mpd"

    def __init__(self, address: str = "127.0.0.1:6600", *, music_dir: Optional[str] = None,
                 crossfade_s: int = 2, catalog: Optional[Callable[[], Catalog]] = None):
        self.host, self.port = parse_mpd_address(address)
        self.music_dir = Path(music_dir).resolve() if music_dir else None
        self.crossfade_s = int(crossfade_s)
        self._catalog = catalog
        self.note: Optional[str] = None
        self._emit: Optional[Callable[..., None]] = None
        self._cmd: Any = None
        self._ready: Optional[asyncio.Event] = None
        self._ours: Dict[str, Pick] = {}  # MPD song id -> pick, for songs we added
        self._playing: Optional[Tuple[str, Pick]] = None  # (song id, pick) reported started
        self._elapsed = (0.0, 0.0, False)  # (elapsed_s, monotonic when read, advancing)
        self._pending: set = set()
        self._duration: Optional[float] = None

    def bind(self, emit: Callable[..., None]) -> None:
        self._emit = emit

    def _event(self, kind: str, pick: Optional[Pick], pos: Optional[float], **kw: Any) -> None:
        if self._emit is not None:
            self._emit(kind, pick, pos, **kw)

    async def _connect(self) -> Any:
        mpd = import_optional("mpd.asyncio", "mpd", "the MPD player backend")
        client = mpd.MPDClient()
        try:
            if self.port is None:
                await client.connect(self.host)
            else:
                await client.connect(self.host, self.port)
        except (OSError, mpd.ConnectionError) as exc:
            where = self.host if self.port is None else f"{self.host}:{self.port}"
            raise CardiotuneError(f"cannot connect to MPD at {where}: {exc}") from None
        return client

    async def run(self) -> None:
        """Connect, configure, follow MPD's player notifications; reconnect with capped
        backoff when MPD goes away (restarted, socket closed) until cancelled."""
        mpd = import_optional("mpd.asyncio", "mpd", "the MPD player backend")
        self._ready = self._ready or asyncio.Event()
        backoff = Backoff(initial=0.5, cap=10.0)
        while True:
            try:
                await self._session()
            except (CardiotuneError, mpd.ConnectionError, OSError) as exc:
                self._ready.clear()
                delay = backoff.next()
                log.warning("MPD connection lost (%s); reconnecting in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()

    async def _session(self) -> None:
        assert self._ready is not None
        self._cmd = await self._connect()
        watch = None
        try:
            watch = await self._connect()
            await self._cmd.crossfade(self.crossfade_s)
            await self._cmd.consume(1)  # played songs leave the queue: it stays short
            await self._cmd.random(0)
            await self._cmd.repeat(0)
            self._ready.set()
            self._on_status(await watch.status())
            async for _subsystems in watch.idle(["player"]):
                self._on_status(await watch.status())
        finally:
            for c in (self._cmd, watch):
                if c is None:
                    continue
                try:
                    c.disconnect()
                except Exception as exc:  # noqa: BLE001 - closing a broken connection; log and go on
                    log.debug("MPD disconnect: %s", exc)

    async def wait_ready(self, timeout: float = 10.0) -> None:
        self._ready = self._ready or asyncio.Event()
        await asyncio.wait_for(self._ready.wait(), timeout)

    def _on_status(self, st: Dict[str, str]) -> None:
        state, songid = st.get("state", "stop"), st.get("songid")
        elapsed = float(st.get("elapsed", 0.0) or 0.0)
        if self._playing is not None:
            old_id, old_pick = self._playing
            if state == "stop" or songid != old_id:
                last = self.position()[1]
                self._playing = None
                self._ours.pop(old_id, None)
                if last >= (self._duration or old_pick.track.duration_s) - END_SLACK_S:
                    self._event("ended", old_pick, last, reason="eof")
                else:
                    self._event("skipped", old_pick, last, reason="external")
        self._elapsed = (elapsed, time.monotonic(), state == "play")
        if st.get("duration"):
            self._duration = float(st["duration"])  # MPD's decoder knows; the pick may not
        if state == "play" and songid in self._ours and (self._playing is None or self._playing[0] != songid):
            self._playing = (songid, self._ours[songid])
            self._duration = float(st["duration"]) if st.get("duration") else None
            self._event("started", self._ours[songid], elapsed)

    def _uri(self, pick: Pick) -> str:
        path = resolve_track_path(pick.track, self._catalog).resolve()
        if self.music_dir is not None:
            try:
                return path.relative_to(self.music_dir).as_posix()
            except ValueError:
                pass
        return path.as_uri()

    def play(self, pick: Pick) -> None:
        """Queue the pick on MPD and play it now (asynchronous; errors become events)."""
        uri = self._uri(pick)  # raises DataError (-> error event) before touching MPD
        self._playing = None  # the caller reported the previous pick as replaced
        task = asyncio.ensure_future(self._play(pick, uri))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _play(self, pick: Pick, uri: str) -> None:
        mpd = import_optional("mpd.asyncio", "mpd", "the MPD player backend")
        try:
            await self.wait_ready()
            songid = str(await self._cmd.addid(uri))
            self._ours[songid] = pick
            await self._cmd.playid(songid)
            log.info("MPD plays %s as song %s (%s)", pick.describe(), songid, uri)
        except (mpd.CommandError, mpd.ConnectionError, OSError, asyncio.TimeoutError) as exc:
            log.warning("MPD cannot play %s: %s", uri, exc)
            self._event("error", pick, None, error=f"MPD refused {uri}: {exc}")

    def position(self) -> Tuple[Optional[Pick], float]:
        if self._playing is None:
            return None, 0.0
        elapsed, at, advancing = self._elapsed
        return self._playing[1], elapsed + (time.monotonic() - at if advancing else 0.0)

    def stop(self) -> None:
        self._playing = None
        if self._cmd is not None:
            task = asyncio.ensure_future(self._cmd.stop())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    def close(self) -> None:
        pass  # run() disconnects when its task is cancelled
