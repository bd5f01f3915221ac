"""``cardiotune evaluate speech``: EMO-DB leave-speakers-out (CNN vs baselines)."""


def register(sub):
    p = sub.add_parser("speech", help="speech emotion on EMO-DB, speaker-independent k-fold")
    p.add_argument("--config", default="configs/train/speech.toml", help="training config (TOML)")
    p.add_argument("--folds", type=int, default=5, help="number of leave-speakers-out folds")
    p.add_argument("--out", default="out/eval/speech", help="folder for speech_eval.json and PNGs")
    p.add_argument(
        "--data", default=None, help="EMO-DB folder (default $CARDIOTUNE_DATA/speech/emodb)"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from cardiotune.export.speech.evaluate import evaluate_speech
    from cardiotune.export.speech.train import SpeechTrainConfig

    cfg = SpeechTrainConfig.from_toml(args.config)
    if args.data:
        cfg.data_dir = args.data
    r = evaluate_speech(cfg, args.out, folds=args.folds)
    keys = (
        "cnn",
        "cnn_logreg_ensemble",
        "baseline_logreg_logmel_stats",
        "baseline_majority_class",
        "meets_targets",
    )
    print(json.dumps({k: r[k] for k in keys}, indent=2))
    print(f"wrote {args.out}/speech_eval.json and plots")
    return 0
