"""Shipped models: every variant verifies; a tampered manifest or file names the field that differs."""
import json
import shutil

import numpy as np
import pytest
from cardiotune.edge.model_registry import MODELS_DIR, list_models, shipped_manifests, verify_models
from cardiotune.edge.onnx_model import OnnxModel

from cardiotune.cli import main
from cardiotune.errors import ModelContractError, ModelIntegrityError

SHIPPED = {"hrv_va", "music_va", "cmer_music", "cmer_emotion"}


@pytest.fixture
def models_copy(tmp_path):
    dst = tmp_path / "models"
    shutil.copytree(MODELS_DIR, dst, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return dst


def _edit_manifest(path, fn):
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def test_shipped_models_are_listed_verified_and_small():
    rows = list_models()
    assert {r["name"] for r in rows} >= SHIPPED
    assert sum(r["total_bytes"] for r in rows) <= 5_000_000
    results = verify_models()
    assert all(r["ok"] for r in results), [r for r in results if not r["ok"]]
    for r in results:  # every shipped model has at least one quantised variant besides fp32
        if r["name"] != "hrv_va":
            assert len(r["variants"]) >= 2, r
            assert all(v["providers"] == ["CPUExecutionProvider"] for v in r["variants"].values())


@pytest.mark.parametrize("path", shipped_manifests(), ids=lambda p: p.parent.name)
def test_each_shipped_model_runs_its_contract(path):
    m = OnnxModel(path)
    assert m.ready
    dims = {"batch": 3, "time": 5, "frames": 20, "seq_len": 6}
    for spec in m.manifest.data["inputs"]:  # the smallest input a model is defined for (speech: 32 frames)
        for axis, least in spec.get("min_dims", {}).items():
            dims[axis] = max(dims[axis], least)
    out = m.run(m.warmup_inputs(**dims))
    for spec in m.manifest.data["outputs"]:
        want = [d if isinstance(d, int) else dims[d] for d in spec["shape"]]
        assert list(out[spec["name"]].shape) == want
        assert np.all(np.isfinite(out[spec["name"]]))


def test_corrupted_model_file_is_refused_naming_sha256(models_copy):
    f = models_copy / "music_va" / "model.onnx"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, same size
    f.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError) as info:
        OnnxModel(models_copy / "music_va" / "manifest.json")
    assert info.value.field == "sha256" and "refusing to run it" in str(info.value)


def test_truncated_file_is_refused_naming_size(models_copy):
    f = models_copy / "cmer_emotion" / "model.onnx"
    f.write_bytes(f.read_bytes()[:-1])
    with pytest.raises(ModelIntegrityError) as info:
        OnnxModel(models_copy / "cmer_emotion" / "manifest.json")
    assert info.value.field == "size_bytes"


def test_corrupted_variant_names_the_variant(models_copy):
    man = models_copy / "music_va" / "manifest.json"
    variant = sorted(json.loads(man.read_text())["variants"])[0]
    f = models_copy / "music_va" / json.loads(man.read_text())["variants"][variant]["file"]
    data = bytearray(f.read_bytes())
    data[-5] ^= 0xFF
    f.write_bytes(bytes(data))
    OnnxModel(man)  # fp32 is untouched and still loads
    with pytest.raises(ModelIntegrityError) as info:
        OnnxModel(man, variant=variant)
    assert info.value.field == f"variants.{variant}.sha256"


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["inputs"][0].update(name="feats"), "inputs names"),
    (lambda d: d["inputs"][0]["shape"].__setitem__(1, 24), "inputs.0.shape.1"),
    (lambda d: d["inputs"][0].update(dtype="float16"), "inputs.0.dtype"),
    (lambda d: d["outputs"][1].update(name="variance"), "outputs names"),
    (lambda d: d["inputs"][0]["shape"].__setitem__(0, 1), "inputs.0.shape.0"),  # batch is dynamic in the graph
])
def test_manifest_contract_mismatch_names_the_field(models_copy, edit, field):
    man = models_copy / "music_va" / "manifest.json"
    _edit_manifest(man, edit)
    with pytest.raises(ModelContractError) as info:
        OnnxModel(man)
    assert info.value.field == field
    assert field in str(info.value)


def test_models_verify_command_fails_and_names_the_field(models_copy, capsys):
    assert main(["models", "verify", "--dir", str(models_copy)]) == 0
    capsys.readouterr()
    _edit_manifest(models_copy / "cmer_music" / "manifest.json", lambda d: d.update(size_bytes=d["size_bytes"] + 1))
    assert main(["models", "verify", "--dir", str(models_copy)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "size_bytes" in out and "cmer_music" in out
    assert main(["models", "list", "--dir", str(models_copy)]) == 0
    listing = capsys.readouterr().out
    for name in SHIPPED:
        assert name in listing
