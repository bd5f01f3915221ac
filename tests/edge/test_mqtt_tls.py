"""TLS, client certificates and username/password against a real Mosquitto started here
with certificates made here; and no secret in any log line."""
import asyncio
import json
import logging
import os
import time

import aiomqtt
import pytest
from cardiotune.edge.mqtt.connection import MqttSettings, client_kwargs
from cardiotune.edge.mqtt.publisher import MqttPublisher, Outgoing
from cardiotune.edge.mqtt.topics import DeviceTopics
from mosquitto_proc import MosquittoProc, make_pki, password_file

SECRET = "s3cr3t-Pa55-" + os.urandom(4).hex()
RUN_AS = ["user root"] if os.geteuid() == 0 else []  # mosquitto drops root; the temp files are ours


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    pki = make_pki(d)
    conf = [*RUN_AS, f"cafile {pki['ca']}", f"certfile {pki['server_cert']}", f"keyfile {pki['server_key']}",
            "require_certificate true", "allow_anonymous false", f"password_file {password_file(d, 'dev', SECRET)}"]
    broker = MosquittoProc(d, conf).start()
    yield broker, pki
    broker.kill()


def _settings(broker, pki, **kw):
    base = dict(ca_file=pki["ca"], cert_file=pki["client_cert"], key_file=pki["client_key"],
                username="dev", password=SECRET)
    base.update(kw)
    return MqttSettings.from_url(f"mqtts://127.0.0.1:{broker.port}", **base)


async def _wait(cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not cond():
        await asyncio.sleep(0.02)
    return cond()


def test_publisher_over_mutual_tls_with_password_and_no_secret_logged(tls_broker, device_id, caplog):
    broker, pki = tls_broker
    settings = _settings(broker, pki)
    topics = DeviceTopics(device_id)
    caplog.set_level(logging.DEBUG)

    async def go():
        got = []
        async with aiomqtt.Client(**client_kwargs(settings, "sub-" + device_id, persistent=False)) as sub:
            await sub.subscribe(topics.state, qos=1)
            async with MqttPublisher("ignored", 0, device_id, settings=settings) as pub:
                assert await _wait(pub.connected.is_set, 10), "publisher did not connect over TLS"
                pub.offer(Outgoing(topics.state, {"ts": time.time(), "ttl_s": 30, "k": 1}))

                async def read():
                    async for m in sub.messages:
                        got.append(json.loads(m.payload))
                        return
                await asyncio.wait_for(read(), 10)
                log_repr = repr(settings) + settings.describe()
        return got, log_repr

    got, log_repr = asyncio.run(go())
    assert got[0]["k"] == 1
    assert any("mqtts://127.0.0.1" in r.getMessage() for r in caplog.records), "connection not described in logs"
    text = "\n".join(r.getMessage() for r in caplog.records) + caplog.text + log_repr
    assert SECRET not in text
    assert "password set" in log_repr


@pytest.mark.parametrize("bad", ["password", "client_cert", "ca"])
def test_wrong_credentials_never_connect_and_secret_not_logged(tls_broker, tmp_path, device_id, caplog, bad):
    broker, pki = tls_broker
    kw = {}
    if bad == "password":
        kw["password"] = SECRET + "-wrong"
    elif bad == "client_cert":
        kw.update(cert_file="", key_file="")  # the broker requires a client certificate
    else:
        other = make_pki(tmp_path / "other")  # a CA that did not sign the broker's certificate
        kw["ca_file"] = other["ca"]
    settings = _settings(broker, pki, **kw)
    caplog.set_level(logging.DEBUG)

    async def go():
        async with MqttPublisher("ignored", 0, device_id, settings=settings, backoff_max_s=0.2) as pub:
            # TLS 1.3 reports a missing client certificate only after the handshake: up to the 5 s timeout
            await _wait(lambda: any("unavailable" in r.getMessage() for r in caplog.records), 12)
            await asyncio.sleep(0.5)
            return pub.connected.is_set(), pub.stats.connects

    connected, connects = asyncio.run(go())
    assert not connected and connects == 0
    assert any("unavailable" in r.getMessage() for r in caplog.records)
    assert SECRET not in caplog.text


def test_settings_validation_names_the_problem():
    with pytest.raises(ValueError, match="cert_file and key_file"):
        MqttSettings(tls=True, cert_file="c.pem")
    with pytest.raises(ValueError, match="protocol"):
        MqttSettings(protocol="4")
    with pytest.raises(ValueError, match="without a username"):
        MqttSettings(password="x")
    s = MqttSettings(username="u", password=SECRET)
    assert SECRET not in repr(s) and SECRET not in str(s) and SECRET not in s.describe()


def test_cli_run_over_tls_logs_no_secret(tls_broker, tmp_path, device_id):
    import subprocess
    import sys

    broker, pki = tls_broker
    profile = tmp_path / "tls.toml"
    profile.write_text(f"""
[device]
id = "{device_id}"
[source]
speed = "max"
duration_s = 30
[mqtt]
broker = "mqtts://127.0.0.1:{broker.port}"
ca_file = "{pki['ca']}"
cert_file = "{pki['client_cert']}"
key_file = "{pki['client_key']}"
username = "dev"
password = "{SECRET}"
[ui]
live = false
""")
    res = subprocess.run([sys.executable, "-m", "cardiotune", "-vv", "run", "--config", str(profile), "--plain"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(res.stdout[res.stdout.index("{"):])
    assert summary["published"] >= 5 and summary["dropped_overflow"] == 0  # it really published over TLS
    assert "password set" in res.stderr  # the connection is described at debug/info level ...
    assert SECRET not in res.stdout + res.stderr  # ... without the secret
