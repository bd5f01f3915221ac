"""The speech model class exported to ONNX (random weights: no trained model is shipped
yet) runs on the device path: manifest checked, parity with PyTorch on real EMO-DB
features, then the whole runtime with voice on real audio over the real broker - raw
audio never published, and recorded only when record_audio is on."""
import asyncio
import json

import numpy as np
import pytest

pytestmark = pytest.mark.train

torch = pytest.importorskip("torch")

from cardiotune.edge.app import run_app  # noqa: E402
from cardiotune.edge.config import config_from_dict  # noqa: E402
from cardiotune.edge.speech.estimator import OnnxSpeechEstimator  # noqa: E402
from cardiotune.export.speech.features import utterance_features  # noqa: E402
from cardiotune.export.speech.model import SpeechEmotionNet  # noqa: E402
from cardiotune.export.speech.onnx_export import export_speech_onnx  # noqa: E402

from cardiotune.errors import ModelContractError  # noqa: E402


class T:
    def __init__(self, i, v, a):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "t", v, a, 10.0, ""


TRACKS = [T(i, v, a) for i, (v, a) in enumerate([(-0.5, -0.5), (0.5, 0.5), (0, 0), (0.5, -0.5), (-0.5, 0.5)])]


@pytest.fixture(scope="module")
def speech_model(tmp_path_factory):
    torch.manual_seed(0)
    model = SpeechEmotionNet(width=16).eval()
    manifest = export_speech_onnx(model, tmp_path_factory.mktemp("speech"), version="0.0.0-test")
    return model, manifest


def test_onnx_matches_pytorch_on_real_emodb_features(data_dir, speech_model):
    model, manifest = speech_model
    est = OnnxSpeechEstimator(manifest)
    assert est.n_frames == 198 and est.providers == ["CPUExecutionProvider"]
    x = utterance_features(data_dir / "speech" / "emodb" / "wav" / "03a01Fa.wav", est.feature, 2.0)
    got = est.estimate(x)
    with torch.no_grad():
        _, mean, logvar = model(torch.from_numpy(x[None]))
    assert got.valence == pytest.approx(float(mean[0, 0]), abs=1e-4)
    assert got.arousal_var == pytest.approx(float(torch.exp(logvar[0, 1])), rel=1e-3)


def test_a_manifest_with_other_features_is_refused(speech_model, tmp_path):
    _, manifest = speech_model
    d = json.loads(manifest.read_text())
    d["feature"]["n_mels"] = 64
    (tmp_path / "model.onnx").write_bytes((manifest.parent / "model.onnx").read_bytes())
    (tmp_path / "manifest.json").write_text(json.dumps(d))
    est = OnnxSpeechEstimator(tmp_path / "manifest.json")  # loads; the contract is checked per input
    with pytest.raises(ValueError, match=r"expected \(frames, 64\)"):
        est.estimate(np.zeros((198, 40), np.float32))
    d["inputs"][0]["name"] = "audio"
    (tmp_path / "manifest.json").write_text(json.dumps(d))
    with pytest.raises(ModelContractError, match="inputs.0.name"):
        OnnxSpeechEstimator(tmp_path / "manifest.json")


def _speech_wav(data_dir, path, n=15):
    sf = pytest.importorskip("soundfile")
    names = sorted((data_dir / "speech" / "emodb" / "wav").glob("*.wav"))[:n]
    clips = [sf.read(str(p), dtype="float64")[0] for p in names]
    sf.write(str(path), np.concatenate(clips), 22050)


def _run(cfg, record=None):
    return asyncio.run(run_app(cfg, live_ui=False, catalog=TRACKS, record_path=record))


@pytest.mark.broker
@pytest.mark.parametrize("record_audio", [False, True])
def test_runtime_fuses_voice_and_keeps_audio_private(mosquitto, device_id, data_dir, speech_model, tmp_path,
                                                     record_audio):
    import aiomqtt
    import pyxdf

    host, port = mosquitto
    _, manifest = speech_model
    wav = tmp_path / "talk.wav"
    _speech_wav(data_dir, wav)
    cfg = config_from_dict({
        "device": {"id": device_id}, "mqtt": {"broker": f"mqtt://{host}:{port}"}, "ui": {"live": False},
        "source": {"path": "builtin:demo", "audio_path": str(wav), "speed": "max", "duration_s": 45},
        "voice": {"manifest": str(manifest), "record_audio": record_audio},
        "recommender": {"min_dwell_s": 0, "no_repeat": 1},
    })
    messages = []

    async def go():
        async with aiomqtt.Client(host, port) as client:
            await client.subscribe(f"cardiotune/v1/{device_id}/#", qos=1)

            async def read():
                async for m in client.messages:
                    messages.append((str(m.topic), bytes(m.payload)))
            reader = asyncio.ensure_future(read())
            result = await run_app(cfg, live_ui=False, catalog=TRACKS, record_path=tmp_path / "rec.xdf")
            await asyncio.sleep(0.5)
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            return result

    result = asyncio.run(go())
    assert result.summary["voice"]["status"] == "ready" and result.summary["voice"]["estimates"] >= 25
    states = [json.loads(p) for t, p in messages if t.endswith("/state")]
    fused = [s for s in states if s["modalities"]["voice"]["weight"][0] > 0]
    assert fused and all(s["modalities"]["voice"]["status"] in ("valid", "questionable") for s in fused)
    assert all(s["data_time"]["end"] >= s["modalities"]["voice"]["data_time"]["end"] for s in fused)
    # nothing published looks like audio: every payload is small JSON without sample arrays
    assert max(len(p) for _, p in messages) < 4000
    assert not any(b'"audio"' in p or b'"samples"' in p for _, p in messages)
    streams, _ = pyxdf.load_xdf(str(tmp_path / "rec.xdf"))
    kinds = sorted(s["info"]["type"][0] for s in streams)
    assert ("Audio" in kinds) == record_audio


def test_the_shipped_trained_speech_model_runs_on_the_device_path(data_dir):
    """`voice.manifest = "builtin:speech"`: the EMO-DB model shipped in edge/models/speech."""
    from cardiotune.edge.estimator import resolve_manifest

    est = OnnxSpeechEstimator(resolve_manifest("builtin:speech"))
    wav = data_dir / "speech" / "emodb" / "wav"
    angry = est.estimate(utterance_features(wav / "03a01Wa.wav", est.feature, est.clip_s))
    neutral = est.estimate(utterance_features(wav / "03a01Nc.wav", est.feature, est.clip_s))
    assert -1 <= angry.valence <= 1 and angry.arousal_var > 0
    assert angry.arousal > neutral.arousal  # same speaker and sentence: anger is the more aroused
