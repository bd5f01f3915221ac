"""CMER-CL on the device: the exported emotion branch (onnxruntime) + stored music
embeddings + the numpy composite score rank tracks exactly as PyTorch's retrieval_score."""
import asyncio
import json

import numpy as np
import pytest
import torch
from cardiotune.edge.music.cmer import load_cmer_similarity
from cardiotune.edge.music.similarity import composite_score
from cardiotune.edge.recommender import NearestRecommender
from cardiotune.edge.smoothing import SmoothedVa
from cardiotune.export.cmer.losses import retrieval_score
from cardiotune.export.cmer.models import CMERCL
from cardiotune.export.cmer.onnx_export import export_cmer_catalog

from cardiotune.errors import DataError

pytestmark = pytest.mark.train


class T:
    def __init__(self, i, v, a):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "t", v, a, 30.0, ""


TRACKS = [T(i, v, a) for i, (v, a) in enumerate([(v, a) for v in (-0.6, 0, 0.6) for a in (-0.6, 0, 0.6)])]
LAM = 0.5


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = CMERCL(d_music=6, d_emb=8, music_encoder="mlp", emotion_encoder="bigru",
                   music_cfg={"units": [16]}, emotion_cfg={"units": [16], "hidden": 8}).eval()
    rng = np.random.default_rng(1)
    feats = {t.id: rng.normal(size=(1, 6)).astype(np.float32) for t in TRACKS}
    path = export_cmer_catalog(model, feats, tmp_path_factory.mktemp("cmer"), lam=LAM)
    return model, feats, path


def torch_scores(model, feats, v, a):
    with torch.no_grad():
        eq, mq, vq = model.emotion(torch.tensor([[[v, a]]], dtype=torch.float32))
        xm = torch.as_tensor(np.stack([feats[t.id] for t in TRACKS]))
        em, mm, vm = model.music(xm)
        return retrieval_score(eq, mq, vq, em, mm, vm, LAM)[0].numpy()


@pytest.mark.parametrize("va", [(0.5, -0.4), (-0.7, 0.8), (0.0, 0.0)])
def test_device_ranking_equals_pytorch_retrieval_score(exported, va):
    model, feats, path = exported
    sim = load_cmer_similarity(path, [t.id for t in TRACKS])
    d = sim.distances(va[0], va[1], TRACKS)
    ref = torch_scores(model, feats, *va)
    np.testing.assert_allclose(1.0 - d, ref, atol=1e-4)
    rec = NearestRecommender(TRACKS, no_repeat=0, similarity=sim)
    pick = rec.update(SmoothedVa(0.0, va[0], va[1], 0.1, 0.1, "valid", 0.0))
    assert pick.track.id == TRACKS[int(np.argmax(ref))].id and pick.similarity == "cmer-composite"
    assert [r[0] for r in pick.runners_up] == [TRACKS[i].id for i in np.argsort(-ref)[1:3]]


def test_numpy_composite_equals_torch_on_random_embeddings():
    g = torch.Generator().manual_seed(3)
    e_q, e_t = torch.randn(1, 5, generator=g), torch.randn(7, 5, generator=g)
    mu_q, mu_t = torch.randn(1, 4, generator=g), torch.randn(7, 4, generator=g)
    v_q, v_t = torch.rand(1, 4, generator=g) + 0.1, torch.rand(7, 4, generator=g) + 0.1
    ref = retrieval_score(e_q, mu_q, v_q, e_t, mu_t, v_t, 0.3)[0].numpy()
    got = composite_score((e_q[0].numpy(), mu_q[0].numpy(), v_q[0].numpy()),
                          (e_t.numpy(), mu_t.numpy(), v_t.numpy()), 0.3)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_embeddings_must_cover_the_catalog(exported, tmp_path):
    _, _, path = exported
    with pytest.raises(DataError, match="lack 1 catalog track"):
        load_cmer_similarity(path, [t.id for t in TRACKS] + ["new-song"])


@pytest.mark.broker
def test_runtime_ranks_by_cmer_when_configured(exported, mosquitto, device_id):
    from cardiotune.edge.app import run_app
    from cardiotune.edge.config import config_from_dict

    _, _, path = exported
    host, port = mosquitto
    cfg = config_from_dict({"device": {"id": device_id}, "mqtt": {"broker": f"mqtt://{host}:{port}"},
                            "ui": {"live": False}, "source": {"speed": "max", "duration_s": 40},
                            "recommender": {"embeddings": str(path)}})
    result = asyncio.run(run_app(cfg, live_ui=False, catalog=TRACKS))
    picks = result.stats.pick_log
    assert picks and all(p.pick.similarity == "cmer-composite" for p in picks)
    json.dumps(result.summary)
