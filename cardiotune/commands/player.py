"""``cardiotune player``: play the music picks a device publishes over MQTT, report events."""
from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "player",
        help="subscribe to a device's music picks, play them and publish player events",
        description="Subscribe to cardiotune/v1/<device>/pick and play each fresh pick (sound card via "
        "sounddevice if there is one, a real MPD with --backend mpd, a real-time null output, or print what "
        "would play). Picks older than their time-to-live, duplicates and malformed messages are ignored. "
        "Player events (started, position, ended, skipped, error) go to cardiotune/v1/<device>/player/event.",
    )
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883",
                   help="broker URL, mqtt://host[:port] or mqtts://host[:port] "
                   "(default: %(default)s)")
    p.add_argument("--device-id", default="demo", help="device whose picks to play (default: %(default)s)")
    p.add_argument("--backend", choices=["auto", "sounddevice", "null", "mpd", "print"], default="auto",
                   help="audio output: auto (sound card if present, else print), sounddevice (fail without "
                   "one), null (real-time mixer, no sound: for machines without a sound card), mpd (a Music "
                   "Player Daemon, see --mpd), print (default: %(default)s)")
    p.add_argument("--mpd", default="127.0.0.1:6600", metavar="ADDRESS",
                   help="MPD address: host[:port] or unix:/path/to/socket (local files outside MPD's music "
                   "directory need the unix socket) (default: %(default)s)")
    p.add_argument("--start-mpd", default=None, metavar="MUSIC_DIR",
                   help="start a private MPD (Debian's mpd, null audio output) on MUSIC_DIR for this run and "
                   "play through it (implies --backend mpd; for machines without a running MPD)")
    p.add_argument("--mpd-music-dir", default=None, metavar="DIR",
                   help="MPD's music_directory: tracks under it are added by relative path (works over TCP)")
    p.add_argument("--crossfade", type=float, default=2.0, metavar="S",
                   help="crossfade between picks in seconds (mixer backends: every change; MPD: song ends) "
                   "(default: %(default)s)")
    p.add_argument("--position-every", type=float, default=5.0, metavar="S",
                   help="publish a position event every S seconds while playing (default: %(default)s)")
    p.add_argument("--catalog", default=None, metavar="INDEX",
                   help="catalog index (.npz from `cardiotune catalog export`) to find a pick's file by id when "
                   "its URI is not a local file (default: the demo catalog)")
    p.add_argument("--client-id", metavar="ID", help="fixed MQTT client id: the broker keeps this player's "
                   "session across restarts and queues picks while it is away (default: a new id per start)")
    p.set_defaults(func=run)


def _output(args: argparse.Namespace):
    import functools

    from cardiotune.edge.music.catalog import Catalog, load_demo_catalog
    from cardiotune.edge.player_audio import NullOutput, open_output

    if args.catalog:
        from cardiotune.edge.catalog_index import load_catalog_index

        index = load_catalog_index(args.catalog)

        def catalog():
            return Catalog(index.tracks)
    else:
        catalog = functools.lru_cache(maxsize=1)(load_demo_catalog)
    if args.crossfade < 0:
        from cardiotune.errors import ConfigError

        raise ConfigError("--crossfade", args.crossfade, "seconds >= 0")
    if args.backend == "mpd":
        from cardiotune.edge.player_mpd import MpdOutput

        return MpdOutput(args.mpd, music_dir=args.mpd_music_dir, crossfade_s=round(args.crossfade),
                         catalog=catalog)
    if args.backend == "null":
        out = NullOutput(catalog=catalog)
        out.mixer.fade_frames = max(1, int(args.crossfade * out.samplerate))
        return out
    out = open_output(args.backend, catalog=catalog)
    if hasattr(out, "mixer"):
        out.mixer.fade_frames = max(1, int(args.crossfade * out.samplerate))
    return out


def run(args: argparse.Namespace) -> int:
    from cardiotune.edge.mqtt.topics import DeviceTopics
    from cardiotune.edge.mqtt.url import parse_broker_url
    from cardiotune.errors import ConfigError

    try:
        parse_broker_url(args.broker)
    except ValueError as exc:
        raise ConfigError("--broker", args.broker, "mqtt://host[:port] or mqtts://host[:port]") from exc
    try:
        DeviceTopics(args.device_id)
    except ValueError as exc:
        raise ConfigError("--device-id", args.device_id, str(exc)) from exc
    if args.position_every <= 0:
        raise ConfigError("--position-every", args.position_every, "seconds > 0")

    daemon = None
    if args.start_mpd:
        import signal

        from cardiotune.edge.mpd_daemon import MpdDaemon

        def terminated(signum, frame):  # SIGTERM unwinds like Ctrl-C, so the private MPD is stopped below
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, terminated)

        daemon = MpdDaemon(args.start_mpd).start()
        args.backend, args.mpd, args.mpd_music_dir = "mpd", daemon.address, args.start_mpd
        print(f"started a private MPD on {daemon.socket_path} (music: {args.start_mpd}, null audio output)")
    try:
        return _play(args)
    finally:
        if daemon is not None:
            daemon.stop()


def _play(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from cardiotune.edge.mqtt.topics import DeviceTopics
    from cardiotune.edge.player_mqtt import PickPlayer

    topics = DeviceTopics(args.device_id)
    output = _output(args)
    if output.note:
        print(output.note, flush=True)
    print(f"listening for picks on {topics.pick} at {args.broker} (backend: {output.name}); "
          f"events on {topics.player_event}", flush=True)

    def show(event) -> None:
        if event["event"] != "position":
            print("event: " + json.dumps({k: event[k] for k in ("event", "track_id", "position_s", "reason",
                                                                 "error")}), flush=True)

    async def main() -> None:
        async with PickPlayer(args.broker, args.device_id, output, client_id=args.client_id,
                              position_every_s=args.position_every, on_event=show) as player:
            await player.wait()

    try:
        asyncio.run(main())
    finally:
        output.close()
    return 0
