"""``cardiotune evaluate ecg``: VA CCC on held-out synthetic subjects; MIT-BIH heart rate."""


def register(sub):
    p = sub.add_parser("ecg", help="ECG VA on held-out synthetic subjects + MIT-BIH heart rate")
    p.add_argument("--config", default="configs/train/ecg.toml", help="training config (TOML)")
    p.add_argument("--out", default="out/eval/ecg", help="folder for ecg_eval.json and PNGs")
    p.add_argument(
        "--mitdb", default=None, help="MIT-BIH folder (default $CARDIOTUNE_DATA/ecg/mitdb)"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from cardiotune.export.ecg.evaluate import evaluate_ecg
    from cardiotune.export.ecg.train import EcgTrainConfig

    r = evaluate_ecg(EcgTrainConfig.from_toml(args.config), args.out, args.mitdb)
    hr = r["mitdb_heart_rate"]
    summary = {
        "note": r["note"],
        "gru": r["gru"],
        "baseline_linear_last_window": r["baseline_linear_last_window"],
        "baseline_training_mean": r["baseline_training_mean"],
    }
    if isinstance(hr, dict):
        summary["mitdb"] = {k: v for k, v in hr.items() if k != "records"}
        summary["mitdb_per_record_mae_bpm"] = {
            x["record"]: round(x["mae_bpm"], 3) for x in hr["records"]
        }
    print(json.dumps(summary, indent=2))
    print(f"wrote {args.out}/ecg_eval.json and plots")
    return 0
