"""The edge runtime must never pull in the training stack (torch, librosa, ...)."""
import json
import subprocess
import sys

HEAVY = ["torch", "librosa", "tensorflow", "sklearn", "pandas", "matplotlib", "numba", "onnx"]

MODULES = [
    "cardiotune.cli",
    "cardiotune.edge.app",
    "cardiotune.edge.runtime",
    "cardiotune.edge.pipeline",
    "cardiotune.edge.estimator",
    "cardiotune.edge.mqtt.publisher",
    "cardiotune.edge.display",
    "cardiotune.edge.config",
    "cardiotune.edge.assemble",
    "cardiotune.edge.fused_pipeline",
    "cardiotune.edge.fusion",
    "cardiotune.edge.voice",
    "cardiotune.edge.calibration",
    "cardiotune.edge.player_feedback",
    "cardiotune.edge.speech.estimator",
    "cardiotune.edge.music.cmer",
    "cardiotune.edge.sources.files",
    "cardiotune.edge.sources.microphone",
    "cardiotune.edge.sources.merge",
    "cardiotune.edge.catalog_index",
    "cardiotune.edge.player_mqtt",
    "cardiotune.edge.player_audio",
    "cardiotune.edge.player_mpd",
    "cardiotune.edge.player_events",
    "cardiotune.edge.mpd_daemon",
    "cardiotune.edge.bench_player",
]


def test_edge_runtime_imports_no_heavy_packages():
    code = (
        "import importlib, json, sys\n"
        f"for m in {MODULES!r}: importlib.import_module(m)\n"
        "from cardiotune.cli import build_parser; build_parser()\n"
        "from cardiotune.edge.estimator import OnnxVaEstimator; OnnxVaEstimator()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert heavy == [], f"edge runtime imported heavy modules: {heavy}"
    # scipy.signal alone is ~70 MB of peak RSS (it imports scipy.stats): edge.dsp replaces it
    scipy_heavy = sorted(m for m in loaded if m in ("scipy.signal", "scipy.stats", "scipy.integrate"))
    assert scipy_heavy == [], f"edge runtime imported {scipy_heavy} (use cardiotune.edge.dsp)"
    assert "onnxruntime" in loaded  # the estimator really ran the ONNX runtime
