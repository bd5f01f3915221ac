"""`cardiotune bench runtime` end to end with small durations: JSON and table, and the
named alternative (1 s replay chunks vs the live sensor's 40 ms) compared in the same run."""
import json
import os
import subprocess
import sys


def test_bench_runtime_writes_json_and_table(mosquitto, tmp_path):
    host, port = mosquitto
    out = tmp_path / "rt.json"
    res = subprocess.run([sys.executable, "-m", "cardiotune", "bench", "runtime", "--broker", f"mqtt://{host}:{port}",
                          "--out", str(out), "--cpu-seconds", "2", "--latency-speed", "20", "--latency-duration", "40",
                          "--max-duration", "120", "--voice-duration", "40"],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "COLUMNS": "200"})  # rich wraps rows to the terminal width
    assert res.returncode == 0, res.stderr[-3000:]
    rep = json.loads(out.read_text())
    assert set(rep["runs"]) == {"ecg_max", "ecg_max_per_chunk", "ecg_max_1s_chunks", "ecg_1x_cpu", "ecg_latency",
                                "ecg_latency_outbox", "ecg_voice_max"}
    assert rep["runs"]["ecg_max"]["ecg_seconds"] == 120 and rep["runs"]["ecg_latency"]["states"] > 0
    assert rep["sample_to_state_publish_ms"]["n"] == rep["runs"]["ecg_latency"]["states"]
    # ECG + voice: 40 s of ECG and of synthetic voice through the fused chain and the shipped speech model
    voice = rep["runs"]["ecg_voice_max"]
    assert voice["ecg_seconds"] == 40 and voice["audio_chunks"] == 1000 and voice["states"] > 0
    assert voice["voice_model_runs"] > 0 and voice["voice_estimates"] > 0
    assert rep["ecg_voice_x_real_time"] == voice["x_real_time"] and "builtin:speech" in rep["ecg_voice_note"]
    assert rep["peak_rss_mb_before_voice"] <= rep["peak_rss_mb"]
    assert "replay ECG + voice (40 s)" in res.stdout
    # fewer, larger chunks cost less CPU per ECG second than one push per 40 ms chunk (~2x here)
    assert rep["ecg_only_1s_chunks_x_real_time_per_cpu_second"] > rep["ecg_only_per_chunk_x_real_time_per_cpu_second"]
    assert "sample -> state published" in res.stdout and "peak RSS" in res.stdout
