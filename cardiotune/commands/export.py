"""``cardiotune export <model> --checkpoint … --out …``: ONNX + manifest, after parity and quantisation."""
from __future__ import annotations

MODELS = ("hrv_va", "music_va", "cmer_music", "cmer_emotion", "speech", "ecg")


def register(sub) -> None:
    p = sub.add_parser("export", help="export a checkpoint to ONNX + manifest.json (parity-checked, quantised)")
    p.add_argument("model", choices=MODELS, help="which model's export spec to use")
    p.add_argument("--checkpoint", help="training checkpoint (default: the model's file under export/checkpoints; "
                                        "hrv_va: the shipped model.onnx)")
    p.add_argument("--out", required=True, help="output folder for model.onnx, variants and manifest.json")
    p.add_argument("--exporter", choices=("torchscript", "dynamo"),
                   help="default: the spec's (torchscript; the only one right for GRUs)")
    p.add_argument("--opset", type=int, help="ONNX opset (default: the spec's, 15; NVIDIA's onnxruntime-gpu 1.11 "
                                             "for JetPack 4.6 loads at most 16)")
    p.add_argument("--no-quantise", action="store_true", help="skip the fp16/int8 variants and their table")
    p.add_argument("--no-eval", action="store_true",
                   help="parity on synthetic inputs only (no CARDIOTUNE_DATA needed; implies --no-quantise)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    import json
    from pathlib import Path

    from cardiotune._imports import import_optional

    import_optional("torch", "train", "cardiotune export")
    import_optional("onnx", "train", "cardiotune export")
    from cardiotune.export.onnx_export.pipeline import build_model

    m = build_model(args.model, args.checkpoint, Path(args.out), args.exporter,
                    quantise=not (args.no_quantise or args.no_eval), with_eval=not args.no_eval, opset=args.opset)
    print(f"wrote {Path(args.out) / 'manifest.json'} ({m['size_bytes']} bytes, sha256 {m['sha256'][:16]}…)")
    print("parity max abs error:", json.dumps(m["parity_max_abs_error"]))
    for name, row in m.get("quantisation", {}).get("table", {}).items():
        if "error" in row:
            print(f"  {name:13s} not emitted: {row['error']}")
        else:
            print(f"  {name:13s} {row['size_bytes']:>8d} B  {row['latency_1thread']['median_ms']:.3f} ms  "
                  + "  ".join(f"{k}={v:+.4f}" for k, v in row.get("metric_delta", row["metric"]).items()))
    return 0
