"""Home Assistant MQTT discovery: retained sensor configs read back by a real subscriber."""
import asyncio
import json
import time
import uuid

import aiomqtt
import pytest
from cardiotune.edge.mqtt.ha_discovery import SENSORS, discovery_messages
from cardiotune.edge.mqtt.publisher import MqttPublisher, Outgoing
from cardiotune.edge.mqtt.topics import DeviceTopics


def test_discovery_configs_are_retained_and_point_at_state_and_status(mosquitto, device_id):
    host, port = mosquitto
    prefix = "hatest" + uuid.uuid4().hex[:8]  # a private prefix: nothing leaks into a real HA
    topics = DeviceTopics(device_id)
    msgs = [Outgoing(t, p, qos=1, retain=True) for t, p in discovery_messages(device_id, prefix=prefix,
                                                                               state_ttl_s=5.0, sw_version="1.2")]

    async def go():
        async with MqttPublisher(host, port, device_id, on_connect=msgs) as pub:
            deadline = time.monotonic() + 10
            while not pub.connected.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        got = {}
        # a subscriber that connects only now gets them: they are retained
        async with aiomqtt.Client(host, port) as sub:
            await sub.subscribe(f"{prefix}/sensor/#", qos=1)

            async def read():
                async for m in sub.messages:
                    got[str(m.topic)] = (json.loads(m.payload), m.retain)
                    if len(got) == len(SENSORS):
                        return
            await asyncio.wait_for(read(), 10)
            for topic in got:  # clean up the retained configs on the shared broker
                await sub.publish(topic, b"", qos=1, retain=True)
        return got

    got = asyncio.run(go())
    assert set(got) == {f"{prefix}/sensor/cardiotune_{device_id}/{k}/config" for k in SENSORS}
    by_key = {t.split("/")[-2]: cfg for t, (cfg, retained) in got.items() if retained}
    assert set(by_key) == set(SENSORS)
    for key, cfg in by_key.items():
        assert cfg["state_topic"] == topics.state
        assert cfg["availability_topic"] == topics.status  # our retained status / last will
        assert cfg["payload_available"] == "online" and cfg["payload_not_available"] == "offline"
        assert cfg["device"]["identifiers"] == [f"cardiotune_{device_id}"] and cfg["device"]["sw_version"] == "1.2"
        assert cfg["unique_id"] == f"cardiotune_{device_id}_{key}"
        assert SENSORS[key][1] in cfg["value_template"]
    assert by_key["heart_rate"]["unit_of_measurement"] == "bpm"
    assert "state_class" not in by_key["signal_quality"]


def test_value_templates_render_real_state_payloads():
    """Home Assistant renders these with Jinja2; so does this test, on a real state payload."""
    jinja2 = pytest.importorskip("jinja2", reason="jinja2 comes with the train extra (not on the 3.8 edge leg)")
    from cardiotune.edge.ecg.hrv import HrvWindow
    from cardiotune.edge.mqtt.messages import state_payload
    from cardiotune.edge.smoothing import SmoothedVa

    fields = {f: None for f in HrvWindow.__dataclass_fields__}
    fields.update(t_start=0.0, t_end=20.0, hr_bpm=72.456, rmssd_ms=30.0, quality="valid", reason="")
    window = HrvWindow(**fields)
    va_fields = {f: 0.0 for f in SmoothedVa.__dataclass_fields__}
    va_fields.update(valence=0.25, arousal=-0.5, status="valid")
    payload = state_payload("dev", 1, 1.7e9, 5.0, SmoothedVa(**va_fields), window, True)
    env = jinja2.Environment()
    configs = dict((t.split("/")[-2], cfg) for t, cfg in discovery_messages("dev"))
    out = {k: env.from_string(cfg["value_template"]).render(value_json=payload) for k, cfg in configs.items()}
    assert out == {"heart_rate": "72.46", "valence": "0.25", "arousal": "-0.5", "signal_quality": "valid"}
    payload["hr_bpm"] = None  # no estimate yet: Home Assistant's "None" payload means unknown
    assert env.from_string(configs["heart_rate"]["value_template"]).render(value_json=payload) == "None"
    status = {"state": "offline"}
    assert env.from_string(configs["valence"]["availability_template"]).render(value_json=status) == "offline"
