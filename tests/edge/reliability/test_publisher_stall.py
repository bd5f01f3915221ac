"""The runtime process is stalled (SIGSTOP) for 30 s, longer than a pick's TTL (track
duration + 5 s = 25 s for the demo catalog; the stall lasts until the newest pick has
expired plus a few seconds, ~30 s): no player shows a stale pick - neither the one
connected throughout nor one that joins during the stall and gets the retained pick - and
after SIGCONT fresh picks play again."""
import asyncio
import signal
import time

from cardiotune.edge.player_mqtt import PickPlayer
from runtime_proc import kill, start_runtime, wait_until, write_profile


class Speaker:
    def __init__(self):
        self.played = []  # (wall time, pick)

    def play(self, pick):
        self.played.append((time.time(), pick))


def test_sigstopped_publisher_leaves_no_stale_pick_on_any_player(mosquitto, tmp_path, device_id):
    host, port = mosquitto
    url = f"mqtt://{host}:{port}"
    profile = write_profile(tmp_path / "p.toml", device_id, url, speed=20, duration_s=0)
    log = tmp_path / "runtime.log"

    async def go():
        early, decisions_late, seen = Speaker(), [], []
        async with PickPlayer(url, device_id, early, on_decision=seen.append) as p1:
            proc = start_runtime(profile, log=log)
            try:
                assert await wait_until(lambda: early.played, 40), log.read_text()[-2000:]
                proc.send_signal(signal.SIGSTOP)
                t_stop = time.time()
                await asyncio.sleep(0.5)  # anything already in flight lands
                expires = max(d.pick.ts + d.pick.ttl_s for d in seen if d.pick is not None)
                await asyncio.sleep(max(0.0, expires + 1.0 - time.time()))
                late = Speaker()
                async with PickPlayer(url, device_id, late, on_decision=decisions_late.append):
                    await asyncio.sleep(3)  # joins during the stall: the retained pick arrives, past its TTL
                stalled_plays = [pk for t, pk in early.played if t > t_stop + 0.5]
                proc.send_signal(signal.SIGCONT)
                t_cont = time.time()
                stall_s = t_cont - t_stop
                fresh = await wait_until(lambda: any(t > t_cont for t, _ in early.played), 30)
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGCONT)
                kill(proc)
        return stalled_plays, late, decisions_late, fresh, stall_s, p1.counts

    stalled_plays, late, decisions, fresh, stall_s, counts = asyncio.run(go())
    assert stalled_plays == []  # nothing new was played while the publisher was stopped
    assert late.played == [], [p.describe() for _, p in late.played]
    assert any(d.action == "stale" for d in decisions), [d.action for d in decisions]
    assert fresh, "no fresh pick played after SIGCONT"
    print(f"\nstalled {stall_s:.1f} s; late joiner decisions during the stall: {[d.action for d in decisions]}; "
          f"early player {counts}")
