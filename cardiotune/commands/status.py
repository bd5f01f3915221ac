"""``cardiotune status --broker URL --device-id ID``: a device's retained status and metrics."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("status", help="show a device's status and runtime metrics (read from the broker)",
                       description="Read the retained status and metrics messages of a device and show "
                                   "them as a table. The password, if any, comes from the environment "
                                   "variable CARDIOTUNE_MQTT_PASSWORD (never from the command line).")
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883", metavar="URL", help="mqtt:// or mqtts:// URL")
    p.add_argument("--device-id", required=True, metavar="ID")
    p.add_argument("--ca-file", default="", metavar="PEM", help="CA certificate for mqtts://")
    p.add_argument("--cert-file", default="", metavar="PEM", help="client certificate (mutual TLS)")
    p.add_argument("--key-file", default="", metavar="PEM", help="client key (mutual TLS)")
    p.add_argument("--username", default="", metavar="NAME")
    p.add_argument("--timeout", type=float, default=3.0, metavar="S", help="seconds to wait for retained messages")
    p.add_argument("--json", action="store_true", help="print the raw messages as JSON instead of a table")
    p.set_defaults(func=_run)


def _run(args) -> int:
    import asyncio
    import json
    import os

    from cardiotune.edge.mqtt.connection import MqttSettings
    from cardiotune.edge.mqtt.topics import validate_device_id
    from cardiotune.edge.status_view import fetch_status, print_rich, rows
    from cardiotune.errors import CardiotuneError

    try:
        validate_device_id(args.device_id)
        settings = MqttSettings.from_url(args.broker, ca_file=args.ca_file, cert_file=args.cert_file,
                                         key_file=args.key_file, username=args.username,
                                         password=os.environ.get("CARDIOTUNE_MQTT_PASSWORD", ""))
    except ValueError as exc:
        raise CardiotuneError(str(exc)) from None
    status, metrics = asyncio.run(fetch_status(settings, args.device_id, args.timeout))
    if args.json:
        print(json.dumps({"status": status, "metrics": metrics}, indent=2))
    else:
        print_rich(args.device_id, rows(status, metrics))
    return 0 if status is not None else 1
