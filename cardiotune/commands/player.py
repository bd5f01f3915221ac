"""``cardiotune player``: play the music picks a device publishes over MQTT."""
from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "player",
        help="subscribe to a device's music picks and play them",
        description="Subscribe to cardiotune/v1/<device>/pick and play each fresh pick "
        "(sound card via sounddevice if there is one, else print what would play). Picks "
        "older than their time-to-live, duplicates and malformed messages are ignored.",
    )
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883",
                   help="broker URL, mqtt://host[:port] or mqtts://host[:port] "
                   "(default: %(default)s)")
    p.add_argument("--device-id", default="demo", help="device whose picks to play (default: %(default)s)")
    p.add_argument("--backend", choices=["auto", "sounddevice", "print"], default="auto",
                   help="audio output: auto (sound card if present, else print), "
                   "sounddevice (fail without one), print (default: %(default)s)")
    p.add_argument("--client-id", metavar="ID", help="fixed MQTT client id: the broker keeps this player's "
                   "session across restarts and queues picks while it is away (default: a new id per start)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import functools

    from cardiotune.edge.mqtt.topics import DeviceTopics
    from cardiotune.edge.mqtt.url import parse_broker_url
    from cardiotune.edge.music.catalog import load_demo_catalog
    from cardiotune.edge.player_audio import open_output
    from cardiotune.edge.player_mqtt import PickPlayer
    from cardiotune.errors import ConfigError

    try:
        parse_broker_url(args.broker)
    except ValueError as exc:
        raise ConfigError("--broker", args.broker, "mqtt://host[:port] or mqtts://host[:port]") from exc
    try:
        topic = DeviceTopics(args.device_id).pick
    except ValueError as exc:
        raise ConfigError("--device-id", args.device_id, str(exc)) from exc

    output = open_output(args.backend, catalog=functools.lru_cache(maxsize=1)(load_demo_catalog))
    if output.note:
        print(output.note, flush=True)
    print(f"listening for picks on {topic} at {args.broker} (backend: {output.name})", flush=True)

    async def main() -> None:
        async with PickPlayer(args.broker, args.device_id, output, client_id=args.client_id) as player:
            await player.wait()

    try:
        asyncio.run(main())
    finally:
        output.close()
    return 0
