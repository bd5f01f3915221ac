"""The exporter on real checkpoints and on fresh speech/ECG models: parity at several batch
sizes and lengths, a perturbed model fails parity with the numbers, variants load."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from cardiotune.edge.model_registry import MODELS_DIR, verify_model  # noqa: E402
from cardiotune.edge.onnx_model import OnnxModel  # noqa: E402
from cardiotune.export.onnx_export.exporter import export_model  # noqa: E402
from cardiotune.export.onnx_export.parity import check_parity, compare  # noqa: E402
from cardiotune.export.onnx_export.quantize import quantise_all  # noqa: E402
from cardiotune.export.onnx_export.registry import get_spec  # noqa: E402
from cardiotune.export.onnx_export.spec import EvalSet  # noqa: E402

from cardiotune.cli import main  # noqa: E402
from cardiotune.errors import ConfigError, ModelParityError  # noqa: E402


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    out = tmp_path_factory.mktemp("music_va")
    spec = get_spec("music_va")
    manifest, loaded, _ = export_model(spec, None, out, with_eval=False)
    return spec, loaded, out, json.loads(manifest.read_text())


def test_music_export_writes_a_self_contained_model_and_manifest(music):
    spec, _, out, man = music
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "model.onnx"]  # weights inside
    assert man["opset"] == spec.opset and man["ir_version"] == 8 and man["exporter"] == "torchscript"
    assert [i["name"] for i in man["inputs"]] == ["features"] and man["inputs"][0]["shape"] == ["batch", 25]
    assert {o["name"] for o in man["outputs"]} == {"va_mean", "va_var", "embedding"}
    assert set(man["parity"]["cases"]) == {"batch=1", "batch=5", "batch=32"}
    assert 0 <= max(man["parity_max_abs_error"].values()) <= 1e-4
    assert man["training"]["ensemble_size"] == 3 and "r2_arousal" in man["metrics"]["by_film_cv"]
    for key in ("torch_version", "onnx_version", "onnxruntime_version", "sha256", "contract"):
        assert man[key]
    assert OnnxModel(out / "manifest.json").ready  # the edge loads what the exporter wrote


def test_perturbed_model_fails_parity_with_every_outputs_error(music):
    spec, loaded, out, _ = music
    with torch.no_grad():
        loaded.module.members[1].head.bias.add_(1e-2)  # torch side moves, the ONNX file does not
    try:
        with pytest.raises(ModelParityError) as info:
            check_parity(spec, loaded.module, out / "model.onnx", spec.examples())
    finally:
        with torch.no_grad():
            loaded.module.members[1].head.bias.sub_(1e-2)
    err = info.value
    assert err.stage == "values" and err.case == "batch=1" and err.tolerance == 1e-4
    assert set(err.errors) == {"va_mean", "va_var", "embedding"}
    assert err.errors["va_mean"] > 1e-3 and err.errors["embedding"] < 1e-4  # the head moved, the body did not
    assert "va_mean" in str(err) and "tolerance 0.0001" in str(err)
    check_parity(spec, loaded.module, out / "model.onnx", spec.examples())  # restored: passes again


def test_parity_checks_names_then_shapes():
    ref = [np.zeros((2, 3), np.float32), np.zeros((2, 2), np.float32)]
    with pytest.raises(ModelParityError) as info:
        compare("m", "c", ref, ref[:1], ["a", "b"], 1e-4)
    assert info.value.stage == "names"
    with pytest.raises(ModelParityError) as info:
        compare("m", "c", ref, [ref[0], np.zeros((2, 3), np.float32)], ["a", "b"], 1e-4)
    assert info.value.stage == "shapes" and info.value.errors == {"b": float("inf")}
    assert compare("m", "c", ref, [r + 1e-6 for r in ref], ["a", "b"], 1e-4)["a"] == pytest.approx(1e-6, rel=1e-3)


def test_gru_branch_exports_for_any_length_and_batch(tmp_path):
    spec = get_spec("cmer_emotion")
    assert spec.recurrent and spec.exporter == "torchscript"
    manifest, loaded, _ = export_model(spec, None, tmp_path, with_eval=False)
    man = json.loads(manifest.read_text())
    assert set(man["parity"]["cases"]) >= {"batch=2, time=37", "batch=1, time=1"}
    # the embedding width is the checkpoint's (d_emb), not a number fixed in the spec
    d_emb = torch.load(spec.default_checkpoint, weights_only=False)["config"]["d_emb"]
    assert [o["shape"] for o in man["outputs"]] == [["batch", d_emb]] * 3
    out = OnnxModel(manifest).session.run(None, {"va_sequence": np.zeros((2, 1, 2), np.float32)})
    assert [o.shape for o in out] == [(2, d_emb)] * 3  # and the contract check accepts the graph
    longer = spec.examples([{"batch": 5, "time": 123}], seed=3)  # a length no parity case used
    assert max(check_parity(spec, loaded.module, tmp_path / "model.onnx", longer)["batch=5, time=123"].values()) < 1e-4


def _speech_checkpoint(path):
    from cardiotune.export.speech.model import SpeechEmotionNet

    torch.manual_seed(0)
    m = SpeechEmotionNet(n_mels=40, width=16, mean=np.full(40, -4.0), std=np.full(40, 2.0))
    for mod in m.modules():  # non-trivial BatchNorm statistics, as after training
        if isinstance(mod, torch.nn.BatchNorm1d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
    g = torch.Generator().manual_seed(1)  # the statistics log-reg half of the shipped SpeechEnsemble
    stats = {"mu": torch.full((160,), 0.5), "sd": torch.ones(160) + torch.rand(160, generator=g),
             "lin.weight": torch.randn(7, 160, generator=g) * 0.1, "lin.bias": torch.zeros(7)}
    torch.save({"config": m.config(), "state_dict": m.state_dict(), "stats_state": stats, "classes": list("ABCDEFG"),
                "clip_s": 2.0, "feature": {"n_mels": 40}}, path)


def _ecg_checkpoint(path):
    from cardiotune.export.ecg.model import HrvVaNet

    torch.manual_seed(0)
    m = HrvVaNet(n_features=4, hidden=16)
    torch.save({"config": m.config(), "state_dict": m.state_dict(), "seq_len": 16, "synth": {},
                "train_subjects": [0, 1], "test_subjects": [2]}, path)


@pytest.mark.parametrize("name, make", [("speech", _speech_checkpoint), ("ecg", _ecg_checkpoint)])
def test_speech_and_ecg_export_from_their_model_classes(tmp_path, name, make):
    ck = tmp_path / "model.pt"
    make(ck)
    assert main(["export", name, "--checkpoint", str(ck), "--out", str(tmp_path / "onnx"), "--no-eval"]) == 0
    man = json.loads((tmp_path / "onnx" / "manifest.json").read_text())
    assert len(man["parity"]["cases"]) == 3 and max(man["parity_max_abs_error"].values()) <= 1e-4
    dims = {"batch": 2, "frames": 57, "seq_len": 9}
    m = OnnxModel(tmp_path / "onnx" / "manifest.json")
    out = m.run(m.warmup_inputs(**dims))
    assert out["va_mean"].shape == (2, 2)


def test_missing_checkpoint_and_unknown_model_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="checkpoint"):
        export_model(get_spec("ecg"), str(tmp_path / "nope.pt"), tmp_path, with_eval=False)
    with pytest.raises(ConfigError, match="one of"):
        get_spec("resnet")


def test_quantised_variants_all_load_at_the_edge_optimisation_level(music, tmp_path):
    spec, loaded, out, _ = music
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 25)).astype(np.float32) * loaded.module.members[0].x_std.numpy() \
        + loaded.module.members[0].x_mean.numpy()
    ref = loaded.module(torch.from_numpy(x))[0].detach().numpy()  # fp32 predictions as the "truth"
    ev = EvalSet([{"features": x[:20]}, {"features": x[20:]}],
                 lambda outs: {"mae_mean": -float(np.abs(np.concatenate([o["va_mean"] for o in outs]) - ref).mean())},
                 "40 synthetic windows", [{"features": x[:10]}])
    q = quantise_all(out / "model.onnx", ev)
    table = q["table"]
    assert set(table) == {"fp32", "fp16", "int8_dynamic", "int8_static"}
    assert abs(table["fp32"]["metric"]["mae_mean"]) < 1e-5
    for row in table.values():
        assert "error" not in row, row
        assert row["size_bytes"] > 0 and row["latency_1thread"]["median_ms"] > 0
        assert (out / row["file"]).is_file()
    assert q["recommended"]["cpu"]["variant"] in table and q["recommended"]["jetson_gpu"]["provider"] == "tensorrt"


def test_shipped_manifests_match_what_the_exporter_writes():
    """Each shipped model: parity recorded per case, a quantisation table with the task metric,
    recommendations per target, and every emitted variant loads (verify_model)."""
    for name, metric in (("music_va", "ccc_mean"), ("cmer_music", "mrr_mean"), ("cmer_emotion", "mrr_mean"),
                         ("hrv_va", "ccc_mean")):
        man = json.loads((MODELS_DIR / name / "manifest.json").read_text())
        assert max(man["parity_max_abs_error"].values()) <= 1e-4 and len(man["parity"]["cases"]) >= 3
        assert man["quantisation"]["primary_metric"] == metric
        assert set(man["recommended"]) == {"cpu", "jetson_gpu"}
        assert verify_model(MODELS_DIR / name / "manifest.json")["variants"].keys() == {"fp32", *man["variants"]}


def test_bench_models_writes_rows_and_the_speedup_summary(tmp_path, capsys):
    import shutil

    shutil.copytree(MODELS_DIR / "hrv_va", tmp_path / "models" / "hrv_va")
    man = tmp_path / "models" / "hrv_va" / "manifest.json"
    data = json.loads(man.read_text())
    data["variants"] = {"int8_dynamic": data["variants"]["int8_dynamic"]}  # fewer subprocesses: a faster test
    man.write_text(json.dumps(data))
    out = tmp_path / "bench.json"
    assert main(["bench", "models", "--dir", str(tmp_path / "models"), "--out", str(out), "-n", "50"]) == 0
    res = json.loads(out.read_text())
    runtimes = {r["runtime"] for r in res["rows"]}
    assert runtimes == {"torch", "ort:fp32", "ort:int8_dynamic"}
    for r in res["rows"]:
        assert "error" not in r, r
        assert 0 < r["threads_1"]["median_ms"] <= r["threads_1"]["p99_ms"] and r["rss_mb"] > 0
    s = res["summary"]["hrv_va"]
    torch_row = next(r for r in res["rows"] if r["runtime"] == "torch")
    ort_row = next(r for r in res["rows"] if r["runtime"] == "ort:fp32")
    ratio = torch_row["threads_1"]["median_ms"] / ort_row["threads_1"]["median_ms"]
    assert s["speedup_fp32_1thread"] == round(ratio, 2)
    assert "| hrv_va | ort:int8_dynamic |" in capsys.readouterr().out


def test_a_variant_onnxruntime_refuses_is_never_emitted(music, tmp_path, monkeypatch):
    from cardiotune.export.onnx_export import quantize

    _, loaded, out, _ = music
    src = tmp_path / "model.onnx"
    src.write_bytes((out / "model.onnx").read_bytes())
    real = quantize.make_variant

    def broken_fp16(path, variant, calibration=None):
        if variant != "fp16":
            return real(path, variant, calibration)
        dst = path.with_name("model.fp16.onnx")
        dst.write_bytes(path.read_bytes()[:200])  # what a failed conversion could leave behind
        return dst

    monkeypatch.setattr(quantize, "make_variant", broken_fp16)
    x = loaded.module.members[0].x_mean.numpy()[None].repeat(8, 0)
    ev = EvalSet([{"features": x}], lambda outs: {"va0_mean": float(outs[0]["va_mean"][:, 0].mean())}, "8 windows",
                 [{"features": x}])
    q = quantize.quantise_all(src, ev, variants=("fp16", "int8_dynamic"))
    assert "refuses it" in q["table"]["fp16"]["error"] and not (tmp_path / "model.fp16.onnx").exists()
    assert "error" not in q["table"]["int8_dynamic"] and q["recommended"]["cpu"]["variant"] != "fp16"


def test_cpu_recommendation_needs_both_accuracy_and_a_real_speedup():
    from cardiotune.export.onnx_export.quantize import recommend

    def row(metric, ms):
        return {"metric": {"ccc_mean": metric}, "latency_1thread": {"median_ms": ms}}

    table = {"fp32": row(0.50, 0.10), "fp16": row(0.50, 0.09), "int8_dynamic": row(0.45, 0.02),
             "int8_static": {"error": "refused"}}
    assert recommend(table)["cpu"]["variant"] == "fp32"  # fp16 only 10 % faster; int8 loses 0.05 CCC
    table["fp16"] = row(0.495, 0.05)
    assert recommend(table)["cpu"]["variant"] == "fp16"  # 2x faster within 0.01
    assert recommend(table)["jetson_gpu"] == {**recommend(table)["jetson_gpu"], "provider": "tensorrt",
                                              "trt_fp16": True}


def test_parity_runs_on_real_evaluation_windows(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("CARDIOTUNE_DATA", str(data_dir))
    manifest, _, ev = export_model(get_spec("cmer_music"), None, tmp_path, with_eval=True)
    cases = json.loads(manifest.read_text())["parity"]["cases"]
    real = [c for c in cases if c.startswith("real batch")]
    assert real == ["real batch 0 shape (32, 1, 25)", "real batch 1 shape (32, 1, 25)"]
    assert all(max(cases[c].values()) <= 1e-4 for c in real)
    assert sum(len(b["features"]) for b in ev.inputs) == 110  # all Soundtracks110 excerpts
