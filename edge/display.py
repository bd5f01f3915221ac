"""Live terminal view of the chain for the demo: heart rate, VA, status, current pick and why.

Uses rich when stdout is a terminal; otherwise prints one plain line every ``every_s``
seconds of session time (logs, CI, pipes). A live source (``duration_s=None``, no
session) has no known length, no phases and no ground truth: the view shows the time
since the first data and the source's link state instead.
"""
from __future__ import annotations

import sys
from typing import Optional

from .pipeline import PickEvent, StateEvent
from .session import RecordedSession

__all__ = ["LiveView"]

_STATUS_STYLE = {"valid": "green", "questionable": "yellow", "not-available": "red"}


class LiveView:
    def __init__(self, session: Optional[RecordedSession], broker_url: str, device_id: str,
                 duration_s: Optional[float], speed_label: str, every_s: float = 10.0,
                 rich_ok: Optional[bool] = None, source_label: str = "", link_state=None):
        self.session, self.broker_url, self.device_id = session, broker_url, device_id
        self.duration_s, self.speed_label, self.every_s = duration_s, speed_label, every_s
        self.source_label = source_label  # e.g. "serial /dev/ttyACM0"
        self.link_state = link_state  # callable -> the live source's link state ("streaming", ...)
        self.state: Optional[StateEvent] = None
        self.pick: Optional[PickEvent] = None
        self.n_picks = 0
        self.publisher = None
        self._next_line = 0.0
        self._rich = sys.stdout.isatty() if rich_ok is None else rich_ok
        self._live = None

    def __enter__(self) -> LiveView:
        if self._rich:
            from rich.live import Live

            self._live = Live(self._render(), refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(*exc)

    def on_event(self, event) -> None:
        if isinstance(event, StateEvent):
            self.state = event
            if self._live is not None:
                self._live.update(self._render())
            elif event.window.t_end >= self._next_line:
                self._next_line = event.window.t_end + self.every_s
                print(self._line(), flush=True)
        elif isinstance(event, PickEvent):
            self.pick = event
            self.n_picks += 1
            if self._live is None:
                tr = event.pick.track
                print(f"  pick #{self.n_picks} at {event.pick.t:6.1f} s: {tr.title} "
                      f"(V={tr.valence:+.2f} A={tr.arousal:+.2f}) - {event.pick.trigger}", flush=True)

    def _truth(self):
        if self.state is None or self.session is None:
            return None
        return self.session.truth_at(self.state.window.t_start, self.state.window.t_end)

    def _line(self) -> str:
        s = self.state
        if s is None:
            return "waiting for the first window..."
        if self.duration_s is None:
            return (f"t={s.window.t_end:6.1f} s live HR={s.window.hr_bpm:5.1f} bpm  "
                    f"V={s.va.valence:+.2f} A={s.va.arousal:+.2f} [{s.status}]")
        truth = self._truth()
        t = f" truth V={truth[0]:+.2f} A={truth[1]:+.2f}" if truth else ""
        phase = self.session.phase_at(s.window.t_end) if self.session else ""
        return (f"t={s.window.t_end:6.1f} s {phase:<9} HR={s.window.hr_bpm:5.1f} bpm  "
                f"V={s.va.valence:+.2f} A={s.va.arousal:+.2f} [{s.status}]{t}")

    def _render(self):
        from rich.panel import Panel
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", justify="right")
        table.add_column()
        s = self.state
        pub = self.publisher
        broker = self.broker_url
        if pub is not None:
            broker += "  [green]connected[/]" if pub.connected.is_set() else "  [red]reconnecting[/]"
            broker += f"  published {pub.stats.published}"
        table.add_row("broker", broker)
        table.add_row("topics", f"cardiotune/v1/{self.device_id}/#   (speed {self.speed_label})")
        if self.source_label:
            from rich.markup import escape

            link = f"  link {self.link_state()}" if self.link_state is not None else ""
            table.add_row("source", escape(self.source_label + link))  # a port path may hold '[' too
        if s is None:
            table.add_row("", "calibrating: waiting for the first HRV window...")
        else:
            w = s.window
            phase = self.session.phase_at(w.t_end) if self.session else ""
            if self.duration_s is None:
                table.add_row("session", f"{w.t_end:6.1f} s live")
            else:
                table.add_row("session", f"{w.t_end:6.1f} / {self.duration_s:.0f} s   {phase}")
            table.add_row("heart", f"HR {w.hr_bpm:5.1f} bpm   RMSSD {w.rmssd_ms:5.1f} ms   "
                                   f"signal [{_STATUS_STYLE[w.quality]}]{w.quality}[/]")
            st = s.status
            table.add_row("estimate", f"valence {s.va.valence:+.2f} ±{s.va.valence_sd:.2f}   arousal "
                                      f"{s.va.arousal:+.2f} ±{s.va.arousal_sd:.2f}   [{_STATUS_STYLE[st]}]{st}[/]"
                                      + ("" if s.calibrated else "  (calibrating baseline)"))
            truth = self._truth()
            if truth:
                table.add_row("truth", f"valence {truth[0]:+.2f}         arousal {truth[1]:+.2f}   (synthetic session)")
        if self.pick is not None:
            p = self.pick.pick
            table.add_row("playing", f"[bold]{p.track.title}[/]  (V={p.track.valence:+.2f} A={p.track.arousal:+.2f})")
            runners = ", ".join(f"{i} ({d:.2f})" for i, d in p.runners_up)
            policy = (p.policy or {}).get("name", "match")
            aim = ("the estimate" if policy == "match"
                   else f"target V={p.target[0]:+.2f} A={p.target[1]:+.2f} ({policy})")
            table.add_row("why", f"{p.trigger}: nearest to {aim}, distance {p.distance:.2f}; runners-up {runners}")
            table.add_row("picks", str(self.n_picks))
        title = "cardiotune demo" if self.duration_s is not None else "cardiotune live"
        return Panel(table, title=title, border_style="cyan")
