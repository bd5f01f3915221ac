"""Broker URLs: ``mqtt://host[:port]`` (plain, default port 1883) and ``mqtts://host[:port]`` (TLS, 8883)."""
from __future__ import annotations

from typing import Tuple
from urllib.parse import urlsplit

__all__ = ["parse_broker_url"]


def parse_broker_url(url: str) -> Tuple[str, int, bool]:
    """Return (host, port, tls). Raises ValueError naming the bad URL and the accepted forms."""
    expected = "expected mqtt://host[:port] or mqtts://host[:port]"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(f"broker URL {url!r}: bad port; {expected}") from None
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"broker URL {url!r}: {expected}")
    tls = parts.scheme == "mqtts"
    return parts.hostname, port or (8883 if tls else 1883), tls
