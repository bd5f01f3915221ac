"""How to reach a broker: address, TLS material, credentials, protocol version, session.

:class:`MqttSettings` is built from the ``[mqtt]`` profile section (or a broker URL) and
turned into ``aiomqtt.Client`` keyword arguments in one place, for the publisher and for
subscribers alike. Secrets never reach a log line: ``repr``/``describe`` show whether a
password is set, never its value, and only the *paths* of certificate files.

Protocol: ``"5"`` (MQTT 5: message expiry on state messages, session expiry), ``"3.1.1"``
or ``"auto"`` (until a connection succeeds, attempts alternate between 5 and 3.1.1, then the
version that worked is kept: brokers refuse an unknown version in different ways - amqtt, which
speaks 3.1.1 only, just closes the socket - so no error text is trusted).

Persistent sessions: with a fixed client id the broker keeps our subscriptions and the
QoS 1 messages queued for us while we are away (3.1.1 ``clean_session=False``; 5
``clean_start=False`` and a session expiry interval).
"""
from __future__ import annotations

import contextlib
import socket
import ssl
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Optional

from .url import parse_broker_url

__all__ = ["MqttSettings", "PROTOCOLS", "client_kwargs", "open_client", "publish_properties"]

PROTOCOLS = ("auto", "5", "3.1.1")


@dataclass(frozen=True)
class MqttSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    ca_file: str = ""  # "" = the system trust store
    cert_file: str = ""  # client certificate (mutual TLS); needs key_file
    key_file: str = ""
    tls_insecure: bool = False  # skip host-name check (self-signed lab setups); never the default
    username: str = ""
    password: str = field(default="", repr=False)
    protocol: str = "auto"
    session_expiry_s: int = 3600  # how long the broker keeps a persistent session (MQTT 5)
    keepalive_s: int = 10

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"MQTT protocol {self.protocol!r}: expected one of {PROTOCOLS}")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("MQTT client certificate: cert_file and key_file must be given together "
                             f"(cert_file={self.cert_file!r}, key_file={self.key_file!r})")
        if self.password and not self.username:
            raise ValueError("MQTT password given without a username")

    @classmethod
    def from_url(cls, url: str, **kw: Any) -> MqttSettings:
        host, port, tls = parse_broker_url(url)
        return cls(host=host, port=port, tls=tls or bool(kw.pop("tls", False)), **kw)

    @classmethod
    def from_section(cls, mqtt: Dict[str, Any], host: str, port: int, tls: bool) -> MqttSettings:
        """From a validated ``[mqtt]`` profile section and the parsed broker address."""
        return cls(host=host, port=port, tls=tls, ca_file=mqtt.get("ca_file", ""),
                   cert_file=mqtt.get("cert_file", ""), key_file=mqtt.get("key_file", ""),
                   tls_insecure=mqtt.get("tls_insecure", False), username=mqtt.get("username", ""),
                   password=mqtt.get("password", ""), protocol=mqtt.get("protocol", "auto"),
                   session_expiry_s=mqtt.get("session_expiry_s", 3600))

    def with_protocol(self, protocol: str) -> MqttSettings:
        return replace(self, protocol=protocol)

    def describe(self) -> str:
        """For logs: everything useful, nothing secret."""
        parts = [f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}", f"protocol {self.protocol}"]
        if self.username:
            parts.append(f"user {self.username!r} ({'password set' if self.password else 'no password'})")
        if self.cert_file:
            parts.append(f"client cert {self.cert_file}")
        return ", ".join(parts)

    def __repr__(self) -> str:  # dataclass repr already hides the password; keep the key paths only
        return f"MqttSettings({self.describe()})"

    def ssl_context(self) -> Optional[ssl.SSLContext]:
        if not self.tls:
            return None
        ctx = ssl.create_default_context(cafile=self.ca_file or None)
        if self.cert_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        if self.tls_insecure:
            ctx.check_hostname = False
        return ctx


def client_kwargs(settings: MqttSettings, identifier: str, *, persistent: bool = True,
                  protocol: Optional[str] = None) -> Dict[str, Any]:
    """``aiomqtt.Client`` keyword arguments for ``settings`` (``protocol`` overrides "auto")."""
    import aiomqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    proto = protocol or settings.protocol
    if proto == "auto":
        proto = "5"
    kw: Dict[str, Any] = dict(hostname=settings.host, port=settings.port, identifier=identifier,
                              keepalive=settings.keepalive_s, timeout=5.0,
                              tls_context=settings.ssl_context(),
                              username=settings.username or None, password=settings.password or None,
                              # small messages: without this, Nagle + delayed ACK add ~40 ms per hop
                              socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    if proto == "5":
        kw["protocol"] = aiomqtt.ProtocolVersion.V5
        kw["clean_start"] = not persistent
        if persistent:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = int(settings.session_expiry_s)
            kw["properties"] = props
    else:
        kw["protocol"] = aiomqtt.ProtocolVersion.V311
        kw["clean_session"] = not persistent
    return kw


@contextlib.asynccontextmanager
async def open_client(**kwargs: Any):
    """``async with aiomqtt.Client(**kwargs)`` that never leaves its socket open behind it.

    aiomqtt 2.5 leaves paho's socket open when the task is cancelled while it awaits the
    CONNACK (a shutdown during a connection attempt). paho's ``__del__`` then closes it
    after the event loop has closed, and aiomqtt's close callback raises "Event loop is
    closed" from the garbage collector (seen in CI). Here the socket is closed on the way
    out, while the loop still runs; after a normal disconnect there is nothing left to do.
    """
    import aiomqtt

    client = aiomqtt.Client(**kwargs)
    try:
        async with client:
            yield client
    finally:
        paho = getattr(client, "_client", None)
        if paho is not None and paho.socket() is not None:
            paho._reset_sockets()  # private, but the only call that also runs aiomqtt's close callback


_EXPIRY_PROPERTIES: Dict[int, Any] = {}


def publish_properties(protocol: str, ttl_s: Optional[float]):
    """MQTT 5 PUBLISH properties carrying ``ttl_s`` as the message expiry; None on 3.1.1.

    One shared object per expiry value (paho only reads it when packing a PUBLISH): building
    a ``Properties`` was a fifth of the publisher's Python time per state message."""
    if protocol != "5" or ttl_s is None:
        return None
    expiry = max(1, int(round(ttl_s)))
    props = _EXPIRY_PROPERTIES.get(expiry)
    if props is None:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.PUBLISH)
        props.MessageExpiryInterval = expiry
        if len(_EXPIRY_PROPERTIES) < 64:  # bounded: ttl values come from configuration
            _EXPIRY_PROPERTIES[expiry] = props
    return props
