"""Benchmark: replay-as-fast-as-possible throughput of the pure chains, in the same process:
ECG-only ``Pipeline`` (the skeleton's chain, the named alternative), ``FusedPipeline`` on
ECG alone, ``FusedPipeline`` with voice, and the voice chain alone (VAD + log-mel + model).

    python bench/voice_fusion.py [--manifest speech/manifest.json] [--audio talk.wav] [--json out.json]

Without ``--manifest`` the speech model class is exported with random weights (needs the
``train`` extra): the cost of a model does not depend on its weights. Without
``--audio`` a synthetic voiced signal is used (speech-like energy so the VAD lets the
model run). Multiples of real time are process (CPU) time on one core, median of
``--repeat`` runs; nothing is asserted. Set OPENBLAS_NUM_THREADS=1 on a shared machine:
tiny matrix products on several BLAS threads are slower under contention.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from cardiotune.edge.estimator import OnnxVaEstimator
from cardiotune.edge.fused_pipeline import FusedPipeline
from cardiotune.edge.pipeline import Pipeline
from cardiotune.edge.session import load_session
from cardiotune.edge.sources.base import AudioChunk, EcgChunk
from cardiotune.edge.speech.estimator import OnnxSpeechEstimator
from cardiotune.edge.synthetic.voice import voiced_signal
from cardiotune.edge.voice import VoiceAnalyzer
from ecg_stream import cpu  # bench/ is the script's folder: median process time of repeated runs


class Track:
    def __init__(self, i, v, a):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "", v, a, 30.0, ""


TRACKS = [Track(i, v, a) for i, (v, a) in enumerate((v, a) for v in np.linspace(-0.8, 0.8, 5)
                                                     for a in np.linspace(-0.8, 0.8, 5))]


def synthetic_voice(seconds: float, sr: int = 16000) -> np.ndarray:
    return voiced_signal(seconds, sr).astype(np.float64)  # the signal `cardiotune bench runtime` uses


def load_audio(path) -> np.ndarray:
    from cardiotune.edge.sources.files import _load_audio_file

    return _load_audio_file(Path(path))


def random_speech_model(out: Path) -> Path:
    import torch
    from cardiotune.export.speech.model import SpeechEmotionNet
    from cardiotune.export.speech.onnx_export import export_speech_onnx

    torch.manual_seed(0)
    return export_speech_onnx(SpeechEmotionNet().eval(), out, version="0.0.0-random")


def run_chain(pipe, ecg, fs, audio=None, chunk_s=0.04):
    step, a_step, k = int(chunk_s * fs), 640, 0
    for i in range(0, len(ecg), step):
        if audio is not None:
            t_end = (i + step) / fs
            while (k + a_step) / 16000 <= t_end:
                j = k % (len(audio) - a_step)
                pipe.push_audio(AudioChunk(audio[j:j + a_step], 16000.0, k / 16000, k, 0.0))
                k += a_step
        pipe.push(EcgChunk(ecg[i:i + step], fs, i / fs, i, 0.0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", help="speech model manifest.json (default: export random weights)")
    ap.add_argument("--audio", help="a speech recording to loop (default: synthetic voiced signal)")
    ap.add_argument("--seconds", type=float, default=300.0, help="seconds of the demo session to replay")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()

    session = load_session("builtin:demo")
    fs = session.fs
    ecg = session.ecg_mv[: int(args.seconds * fs)]
    secs = len(ecg) / fs
    audio = load_audio(args.audio) if args.audio else synthetic_voice(60.0)
    est = OnnxVaEstimator()
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(args.manifest) if args.manifest else random_speech_model(Path(tmp) / "speech")
        speech = OnnxSpeechEstimator(manifest)
        rows = {
            "pipeline_ecg_only (skeleton)": cpu(lambda: run_chain(Pipeline(fs, est, TRACKS), ecg, fs), args.repeat),
            "fused_ecg_only": cpu(lambda: run_chain(FusedPipeline(fs, est, TRACKS), ecg, fs), args.repeat),
            "fused_ecg_voice": cpu(lambda: run_chain(FusedPipeline(fs, est, TRACKS, voice=VoiceAnalyzer(speech)),
                                                     ecg, fs, audio), args.repeat),
        }

        def voice_only():
            an = VoiceAnalyzer(speech)
            n = int(secs * 16000)
            for k in range(0, n - 640, 640):
                j = k % (len(audio) - 640)
                an.push(AudioChunk(audio[j:j + 640], 16000.0, k / 16000, k, 0.0))
            voice_only.inferences = an.inferences

        rows["voice_chain_only"] = cpu(voice_only, args.repeat)
    base = rows["pipeline_ecg_only (skeleton)"]
    result = {"seconds_replayed": secs, "repeat": args.repeat, "speech_model": str(args.manifest or "random weights"),
              "audio": args.audio or "synthetic", "voice_inferences_per_run": voice_only.inferences,
              "chains": {k: {"cpu_s": round(v, 3), "x_real_time": round(secs / v, 1),
                             "cpu_vs_skeleton": round(v / base, 3)} for k, v in rows.items()}}
    print(f"{'chain':32s} {'CPU s':>8s} {'x real time':>12s} {'CPU vs skeleton':>16s}")
    for k, r in result["chains"].items():
        print(f"{k:32s} {r['cpu_s']:8.3f} {r['x_real_time']:12.1f} {r['cpu_vs_skeleton']:16.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
