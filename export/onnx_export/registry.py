"""The export spec of every model: hrv_va, music_va, cmer_music, cmer_emotion, speech, ecg.

Each loader turns a training checkpoint into the module whose ``forward`` is the graph
(normalisation inside, as buffers, so the edge feeds raw features) plus the manifest facts
stored with the checkpoint. Each ``eval_set`` builds the real evaluation windows and the
task's own metric (CCC, balanced accuracy, MRR) used by parity and quantisation.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, List, Mapping, Optional

import numpy as np

from cardiotune.errors import ConfigError, DataError, ModelError

from .spec import EvalSet, ExportSpec, LoadedModel, TensorSpec

__all__ = ["SPECS", "get_spec", "CHECKPOINTS", "SHIPPED"]

EXPORT_DIR = Path(__file__).resolve().parents[1]
CHECKPOINTS = EXPORT_DIR / "checkpoints"
SHIPPED_ONNX = EXPORT_DIR.parent / "edge" / "models"
SHIPPED = ("hrv_va", "music_va", "cmer_music", "cmer_emotion")


def _ccc(y: np.ndarray, p: np.ndarray) -> float:
    my, mp = y.mean(), p.mean()
    return float(2 * np.mean((y - my) * (p - mp)) / (y.var() + p.var() + (my - mp) ** 2))


def _va_ccc(true: np.ndarray, pred: np.ndarray) -> Dict[str, float]:
    v, a = _ccc(true[:, 0], pred[:, 0]), _ccc(true[:, 1], pred[:, 1])
    return {"ccc_valence": v, "ccc_arousal": a, "ccc_mean": 0.5 * (v + a)}


def _batches(x: np.ndarray, name: str, size: int = 64) -> List[Dict[str, np.ndarray]]:
    return [{name: np.ascontiguousarray(x[s:s + size], dtype=np.float32)} for s in range(0, len(x), size)]


def _cat(outs: List[Dict[str, np.ndarray]], name: str) -> np.ndarray:
    return np.concatenate([o[name] for o in outs])


def _data_root() -> Path:
    root = os.environ.get("CARDIOTUNE_DATA")
    if not root:
        raise DataError("CARDIOTUNE_DATA is not set: point it at the shared data folder (music/, speech/, ecg/)")
    return Path(root)


def _checkpoint(path: Optional[str], what: str) -> str:
    if not path:
        raise ConfigError("--checkpoint", path, f"the path of a {what} checkpoint")
    if not Path(path).is_file():
        raise ConfigError("--checkpoint", path, f"an existing {what} checkpoint file")
    return str(path)


def _torch_load(path: str):
    import torch

    return torch.load(path, map_location="cpu", weights_only=False)


def _metrics_json(path: Path) -> Dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


# --------------------------------------------------------------------------- hrv_va (walking skeleton)
def _load_hrv_va(path: Optional[str]) -> LoadedModel:
    """A ``.pt`` state dict of :func:`export.skeleton_va.make_model`, or the shipped ``model.onnx``
    itself: its Gemm weights are copied back into the torch module (the skeleton trains and
    exports in one go and keeps no checkpoint)."""
    import torch

    from ..skeleton_va import make_model

    path = _checkpoint(path, "hrv_va (.pt or shipped model.onnx)")
    if path.endswith(".onnx"):
        import onnx
        from onnx import numpy_helper

        proto = onnx.load(path)
        init = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
        gemms = [n for n in proto.graph.node if n.op_type == "Gemm"]
        model = make_model(int(init[gemms[0].input[1]].shape[0]))
        layers = [model.body[0], model.body[2], model.mean, model.logvar]
        if len(gemms) != len(layers):
            raise ModelError(f"{path}: {len(gemms)} Gemm nodes, the hrv_va network has {len(layers)}")
        with torch.no_grad():
            for node, layer in zip(gemms, layers):
                trans_b = any(a.name == "transB" and a.i == 1 for a in node.attribute)
                w = init[node.input[1]]
                layer.weight.copy_(torch.from_numpy(w if trans_b else w.T))
                layer.bias.copy_(torch.from_numpy(init[node.input[2]]))
        shipped = json.loads((Path(path).parent / "manifest.json").read_text(encoding="utf-8"))
        extra = {k: shipped[k] for k in ("window", "training", "metrics_test_subjects") if k in shipped}
    else:
        ck = _torch_load(path)
        model = make_model(int(ck.get("hidden", 32)))
        model.load_state_dict(ck["state_dict"])
        extra = {k: ck[k] for k in ("window", "training", "metrics_test_subjects") if k in ck}
    model.eval()
    return LoadedModel(model, extra, path)


def _hrv_va_eval(loaded: LoadedModel) -> EvalSet:
    """The skeleton's own test subjects (same seeds and subject split as its training)."""
    from ..skeleton_va import Config, build_dataset
    from ..splits import group_holdout

    cfg = Config()
    x, y, g = build_dataset(cfg)
    _, test = group_holdout(g, 0.2, seed=cfg.seed)
    _, calib = group_holdout(g, 0.2, seed=cfg.seed + 7)  # calibration windows from other subjects
    return EvalSet(_batches(x[test], "features"), lambda outs: _va_ccc(y[test], _cat(outs, "va_mean")),
                   f"{len(test)} windows of {len(np.unique(g[test]))} held-out synthetic subjects",
                   _batches(x[calib], "features")[:8])


# --------------------------------------------------------------------------- music_va
def _music_members(path: str):
    import torch

    from ..music.model import MusicVAModel

    ck = _torch_load(path)
    members = []
    for sd in ck["state_dicts"]:
        m = MusicVAModel(int(ck["d_in"]), tuple(ck["units"]))
        m.load_state_dict(sd)
        members.append(m.eval())

    class MusicVAEnsemble(torch.nn.Module):
        """Ensemble mean; variance = mean predicted variance + spread of the member means
        (as export/music/train.py reports it); embedding = the members' embeddings side by side."""

        def __init__(self, ms):
            super().__init__()
            self.members = torch.nn.ModuleList(ms)

        def forward(self, features):
            outs = [m(features) for m in self.members]
            mus = torch.stack([o[0] for o in outs])
            var = torch.stack([o[1] for o in outs]).mean(0) + mus.var(0, unbiased=False)
            return mus.mean(0), var, torch.cat([o[2] for o in outs], dim=1)

    return MusicVAEnsemble(members).eval(), ck


def _load_music(path: Optional[str]) -> LoadedModel:
    path = _checkpoint(path, "music_va.pt")
    model, ck = _music_members(path)
    metrics = _metrics_json(Path(path).parent / "metrics.json")
    return LoadedModel(model, {
        "training": {"data": "Soundtracks110 (110 film-music excerpts, 40 films), mean listener ratings; "
                             "final model fitted on all 110 (early stopping on a by-film holdout)",
                     "ensemble_size": len(ck["state_dicts"]), "units": ck["units"]},
        "metrics": {"by_film_cv": metrics.get("by_film", {}).get("mlp", {}),
                    "by_excerpt_cv": metrics.get("by_excerpt", {}).get("mlp", {})},
    }, path)


def _soundtracks():
    from ..data.music import load_soundtracks110

    st = load_soundtracks110(str(_data_root() / "music" / "soundtracks110"))
    return st


def _music_eval(loaded: LoadedModel) -> EvalSet:
    st = _soundtracks()
    x = st.features.astype(np.float32)
    y = st.static.va(*st.static.scale)
    return EvalSet(_batches(x, "features", 32), lambda outs: _va_ccc(y, _cat(outs, "va_mean")),
                   f"all {len(x)} Soundtracks110 excerpts (the final model was fitted on them: a delta, "
                   "not a generalisation estimate)", _batches(x, "features", 16))


# --------------------------------------------------------------------------- CMER-CL branches
def _load_cmer(path: Optional[str], which: str) -> LoadedModel:
    import torch

    from ..cmer.models import CMERCL

    path = _checkpoint(path, "cmer_cl.pt")
    ck = _torch_load(path)
    cfg = ck["config"]
    d_music = len(ck["feature_mean"])
    full = CMERCL(d_music=d_music, d_emotion=2, d_emb=int(cfg["d_emb"]), music_encoder=cfg["music_encoder"],
                  emotion_encoder=cfg["emotion_encoder"], music_cfg=cfg.get("music", {}),
                  emotion_cfg=cfg.get("emotion", {}))
    full.load_state_dict(ck["state_dict"])
    full.eval()

    class Branch(torch.nn.Module):
        """One CMER-CL branch; the music branch standardises raw features itself."""

        def __init__(self, branch, mean=None, std=None):
            super().__init__()
            self.branch = branch
            self.standardise = mean is not None
            if self.standardise:
                self.register_buffer("x_mean", torch.tensor(mean, dtype=torch.float32))
                self.register_buffer("x_std", torch.tensor(std, dtype=torch.float32))

        def forward(self, x):
            if self.standardise:
                x = (x - self.x_mean) / self.x_std
            return self.branch(x)

    if which == "music":
        module = Branch(full.music, ck["feature_mean"], ck["feature_std"])
    else:
        module = Branch(full.emotion)
    metrics = _metrics_json(Path(path).parent / "metrics.json")
    summary = metrics.get("summary", {})
    extra = {
        "training": {"data": "Soundtracks110 features <-> mean (valence, energy) ratings, all 110 excerpts",
                     "config": {k: v for k, v in cfg.items() if not isinstance(v, dict)}},
        "metrics": {"summary": summary.get("cmer", summary) if isinstance(summary, dict) else summary,
                    "mrr_ratio_cmer_over_best_baseline": metrics.get("mrr_ratio_cmer_over_best_baseline")},
        "retrieval": {"lambda": float(cfg["lam"]),
                      "score": "lam * pearson(E_q, E_t) - (1 - lam) * KL(N(mu_q, var_q) || N(mu_t, var_t))",
                      "partner": "cmer_emotion" if which == "music" else "cmer_music"},
    }
    loaded = LoadedModel(module.eval(), extra, path, sizes={"d_emb": int(cfg["d_emb"])})
    loaded.partner = Branch(full.emotion) if which == "music" else Branch(full.music, ck["feature_mean"],
                                                                          ck["feature_std"])
    loaded.lam = float(cfg["lam"])
    return loaded


def _cmer_eval(loaded: LoadedModel, which: str) -> EvalSet:
    """MRR of retrieval between all 110 excerpts and their ratings; the other branch stays
    fp32 torch, so a delta is the quantised branch's alone."""
    import torch

    from ..cmer.losses import retrieval_score
    from ..cmer.metrics import mrr, ranks_from_scores

    st = _soundtracks()
    xm = st.features.astype(np.float32)[:, None, :]
    xe = st.static.va(-1.0, 1.0).astype(np.float32)[:, None, :]
    mine, other = (xm, xe) if which == "music" else (xe, xm)
    with torch.inference_mode():
        e_o, mu_o, var_o = (t for t in loaded.partner.eval()(torch.from_numpy(other)))

    def metric(outs):
        e, mu, var = (torch.from_numpy(_cat(outs, n)) for n in ("embedding", "mu", "var"))
        fwd = retrieval_score(e, mu, var, e_o, mu_o, var_o, loaded.lam).numpy()
        back = retrieval_score(e_o, mu_o, var_o, e, mu, var, loaded.lam).numpy()
        m2e, e2m = (fwd, back) if which == "music" else (back, fwd)
        a, b = mrr(ranks_from_scores(m2e)), mrr(ranks_from_scores(e2m))
        return {"mrr_m2e": float(a), "mrr_e2m": float(b), "mrr_mean": 0.5 * float(a + b)}

    name = "features" if which == "music" else "va_sequence"
    return EvalSet(_batches(mine, name, 32), metric,
                   f"all {len(xm)} Soundtracks110 excerpts vs their ratings (fitted on them: a delta only)",
                   _batches(mine, name, 16))


# --------------------------------------------------------------------------- speech (EMO-DB)
def _load_speech(path: Optional[str]) -> LoadedModel:
    from ..speech.train import load_checkpoint

    path = _checkpoint(path, "speech model.pt")
    ck = _torch_load(path)
    model = load_checkpoint(path)
    metrics = _metrics_json(Path(path).parent / "metrics.json") or _metrics_json(
        Path(path).parent / "speech_eval.json")
    return LoadedModel(model, {
        "classes": ck.get("classes"),
        "category_va": ck.get("category_va"),
        "feature": ck.get("feature"),
        "clip_s": ck.get("clip_s"),
        "training": {"data": "EMO-DB (10 speakers, 7 emotions), all speakers; early stopping on a speaker subset",
                     "config": ck.get("config")},
        "metrics": metrics,
    }, path)


def _speech_eval(loaded: LoadedModel) -> EvalSet:
    import torch

    from ..speech.evaluate import binary_scores
    from ..speech.features import corpus_features
    from ..speech.train import SpeechTrainConfig, labels, load_corpus

    cfg = SpeechTrainConfig(progress=False)
    corpus = load_corpus(cfg)
    x = corpus_features(corpus, cfg.feature_config(), float(loaded.manifest_extra.get("clip_s") or cfg.clip_s),
                        progress=False).astype(np.float32)
    y, _ = labels(corpus)

    def metric(outs):
        probs = torch.softmax(torch.from_numpy(_cat(outs, "logits")), 1).numpy()
        return binary_scores(probs, y)

    return EvalSet(_batches(x, "logmel", 64), metric,
                   f"all {len(y)} EMO-DB utterances (in-sample for the shipped model: a delta only)",
                   _batches(x[::7], "logmel", 16))


# --------------------------------------------------------------------------- ecg (HRV sequence GRU)
def _load_ecg(path: Optional[str]) -> LoadedModel:
    from ..ecg.train import load_checkpoint

    path = _checkpoint(path, "ecg model.pt")
    ck = _torch_load(path)
    model = load_checkpoint(path)
    metrics = _metrics_json(Path(path).parent / "metrics.json") or _metrics_json(Path(path).parent / "ecg_eval.json")
    loaded = LoadedModel(model, {
        "contract_seq_len": ck.get("seq_len"),
        "training": {"data": "synthetic subjects (seeded), split by subject", "config": ck.get("config"),
                     "train_subjects": ck.get("train_subjects"), "test_subjects": ck.get("test_subjects")},
        "metrics": metrics,
    }, path)
    loaded.raw = ck
    return loaded


def _ecg_eval(loaded: LoadedModel) -> EvalSet:
    from ..ecg.synth_data import SynthConfig, make_subjects, sequences

    ck = loaded.raw
    seeds = ck.get("test_subjects") or []
    if not seeds or not all(isinstance(s, (int, np.integer)) for s in seeds):
        raise DataError(f"{loaded.checkpoint}: no synthetic test subject seeds to evaluate on")
    test = make_subjects(list(seeds), SynthConfig(**ck.get("synth", {})), progress=False)
    x, va, _ = sequences(test, int(ck.get("seq_len", 16)))
    calib = make_subjects(list(ck.get("train_subjects", []))[:3], SynthConfig(**ck.get("synth", {})), progress=False)
    xc, _, _ = sequences(calib, int(ck.get("seq_len", 16)))
    return EvalSet(_batches(x.astype(np.float32), "hrv_sequence"),
                   lambda outs: _va_ccc(va, _cat(outs, "va_mean")),
                   f"{len(x)} sequences of {len(seeds)} held-out synthetic subjects",
                   _batches(xc.astype(np.float32), "hrv_sequence")[:8])


# --------------------------------------------------------------------------- the specs
def _normal(shape_of):
    def make(dims: Mapping[str, int], rng: np.random.Generator):
        return [rng.normal(0.0, 1.0, s(dims)).astype(np.float32) for s in shape_of]
    return make


_B = "batch"
SPECS: Dict[str, ExportSpec] = {}


def _add(spec: ExportSpec) -> None:
    SPECS[spec.name] = spec


_add(ExportSpec(
    name="hrv_va", version="0.1.0",
    description="HRV features relative to the wearer's resting baseline -> valence/arousal mean and "
                "log-variance (walking-skeleton model, synthetic training data)",
    inputs=(TensorSpec("features", (_B, 3), "log ratios of HR, RMSSD, SDNN to the resting baseline",
                       extra={"feature_names": ["log_hr_ratio", "log_rmssd_ratio", "log_sdnn_ratio"],
                              "normalisation": "natural log of (window value / per-user resting baseline); "
                                               "baseline = median of valid windows in the first 120 s"}),),
    outputs=(TensorSpec("va_mean", (_B, 2), "valence, arousal", "[-1, 1]"),
             TensorSpec("va_logvar", (_B, 2), "natural log of the predictive variance", "log of [-1, 1] units^2")),
    load=_load_hrv_va, example=lambda d, rng: [rng.normal(0, 0.5, (d["batch"], 3)).astype(np.float32)],
    parity_cases=({"batch": 1}, {"batch": 7}, {"batch": 64}),
    default_checkpoint=str(SHIPPED_ONNX / "hrv_va" / "model.onnx"), eval_set=_hrv_va_eval,
    contract={"source": "ECG (one lead)", "window_s": 20.0, "hop_s": 1.0, "calibration_s": 120.0},
))
_add(ExportSpec(
    name="music_va", version="0.1.0",
    description="Clip audio features -> valence/arousal (1-9 rating scale) with variance, and a catalog "
                "embedding (ensemble of 3 MLPs trained on Soundtracks110)",
    inputs=(TensorSpec("features", (_B, 25), "time means of librosa RMS, spectral centroid, bandwidth, roll-off, "
                       "ZCR and MFCC 1-20 (22,050 Hz mono)",
                       extra={"normalisation": "inside the model (training mean/std buffers): feed raw features"}),),
    outputs=(TensorSpec("va_mean", (_B, 2), "valence, arousal (arousal = the dataset's Energy rating)", "1-9 scale"),
             TensorSpec("va_var", (_B, 2), "predictive variance (mean member variance + ensemble spread)",
                        "rating units^2"),
             TensorSpec("embedding", (_B, 48), "the 3 members' 16-d last hidden layers side by side")),
    load=_load_music, example=_normal([lambda d: (d["batch"], 25)]),
    parity_cases=({"batch": 1}, {"batch": 5}, {"batch": 32}),
    default_checkpoint=str(CHECKPOINTS / "music" / "music_va.pt"), eval_set=_music_eval,
    contract={"sample_rate_hz": 22050, "channels": 1, "window": "whole clip (summary features)"},
))
for _which, _in in (("music", TensorSpec("features", (_B, "time", 25), "Soundtracks110 librosa summary features "
                                         "per step (a static item is T = 1)",
                                         extra={"normalisation": "inside the model (training mean/std buffers)"})),
                    ("emotion", TensorSpec("va_sequence", (_B, "time", 2), "[valence, arousal] sequence",
                                           "[-1, 1]"))):
    _add(ExportSpec(
        name=f"cmer_{_which}", version="0.1.0",
        description=f"CMER-CL {_which} branch: {_which} item -> correlation embedding E and a diagonal Gaussian "
                    "(mu, var) in the shared music-emotion space",
        inputs=(_in,),
        outputs=(TensorSpec("embedding", (_B, "d_emb"), "correlation embedding E (CCA space)"),
                 TensorSpec("mu", (_B, "d_emb"), "Gaussian mean (KL space)"),
                 TensorSpec("var", (_B, "d_emb"), "Gaussian diagonal variance (KL space), > 1e-3")),
        load=(lambda p, w=_which: _load_cmer(p, w)),
        example=_normal([lambda d, n=_in.shape[2]: (d["batch"], d["time"], n)]),
        parity_cases=({"batch": 1, "time": 1}, {"batch": 4, "time": 1}, {"batch": 3, "time": 10},
                      {"batch": 2, "time": 37}),
        recurrent=(_which == "emotion"),
        default_checkpoint=str(CHECKPOINTS / "cmer" / "cmer_cl.pt"),
        eval_set=(lambda lm, w=_which: _cmer_eval(lm, w)),
        contract={"music": {"sample_rate_hz": 22050, "channels": 1},
                  "emotion": {"va_range": [-1, 1], "rate": "any (2 Hz for DEAM-style sequences)"}}[_which],
    ))
_add(ExportSpec(
    name="speech", version="0.1.0",
    description="Speech log-mel -> 7 EMO-DB emotion log-probabilities + VA mean/log-variance "
                "(1-D CNN + log-mel-statistics logistic regression ensemble)",
    inputs=(TensorSpec("logmel", (_B, "frames", 40), "log-mel frames as cardiotune.edge.speech.log_mel returns",
                       extra={"min_dims": {"frames": 32},  # 4 max-pools, then std over time: NaN below 32
                              "normalisation": "inside the model (per-band mean/std buffers)"}),),
    outputs=(TensorSpec("logits", (_B, 7), "class log-probabilities, EMO-DB class order (see classes)"),
             TensorSpec("va_mean", (_B, 2), "valence, arousal", "[-1, 1]"),
             TensorSpec("va_logvar", (_B, 2), "natural log of the predictive variance")),
    load=_load_speech,
    example=lambda d, rng: [rng.normal(-4.0, 2.0, (d["batch"], d["frames"], 40)).astype(np.float32)],
    parity_cases=({"batch": 1, "frames": 201}, {"batch": 3, "frames": 32}, {"batch": 2, "frames": 333}),
    default_checkpoint=str(CHECKPOINTS / "speech" / "model.pt"), eval_set=_speech_eval,
    contract={"sample_rate_hz": 16000, "channels": 1, "features": "log-mel, 40 bands (see feature)"},
))
_add(ExportSpec(
    name="ecg", version="0.1.0",
    description="Sequence of HRV feature windows -> valence/arousal mean (tanh) and log-variance (GRU)",
    inputs=(TensorSpec("hrv_sequence", (_B, "seq_len", 4), "HRV feature windows as built by "
                       "cardiotune.edge.ecg_va_features.HrvSequencer"),),
    outputs=(TensorSpec("va_mean", (_B, 2), "valence, arousal", "[-1, 1]"),
             TensorSpec("va_logvar", (_B, 2), "natural log of the predictive variance")),
    load=_load_ecg, example=_normal([lambda d: (d["batch"], d["seq_len"], 4)]),
    parity_cases=({"batch": 1, "seq_len": 16}, {"batch": 4, "seq_len": 5}, {"batch": 2, "seq_len": 40}),
    recurrent=True, default_checkpoint=str(CHECKPOINTS / "ecg" / "model.pt"), eval_set=_ecg_eval,
    contract={"source": "ECG (one lead)", "window_s": 30.0, "hop_s": 2.0},
))


def get_spec(name: str) -> ExportSpec:
    if name not in SPECS:
        raise ConfigError("model", name, f"one of {sorted(SPECS)}")
    return SPECS[name]
