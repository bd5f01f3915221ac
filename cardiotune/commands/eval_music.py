"""``cardiotune evaluate music``: Soundtracks110 10-fold CV (by film and by excerpt) of the
music VA model vs ridge and the mean predictor, transfer to the emoMusic clips, and the
DEAM/emoMusic valence-arousal swap evidence. Writes JSON and PNGs to ``--out``."""


def register(sub):
    p = sub.add_parser(
        "music", help="music VA model on Soundtracks110 (+ emoMusic clips, swap evidence)"
    )
    p.add_argument("--config", default="configs/train/music.toml", help="training config (TOML)")
    p.add_argument("--out", default="out/eval/music", help="folder for music_metrics.json and PNGs")
    p.add_argument("--resume", action="store_true", help="reuse finished results in --out")
    p.add_argument(
        "--no-audio", action="store_true", help="skip the librosa parts of the swap evidence"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    import json
    import os

    from cardiotune.export.data import data_root
    from cardiotune.export.music.swap_evidence import swap_evidence
    from cardiotune.export.music.train import run as train_run

    r = train_run(args.config, args.out, args.resume)
    ev = swap_evidence(os.path.join(str(data_root()), "music"), audio=not args.no_audio)
    with open(os.path.join(args.out, "swap_evidence.json"), "w") as f:
        json.dump(ev, f, indent=2)
    show = {
        rule: {
            m: {k: round(v, 3) for k, v in r[rule][m].items() if k.startswith("r2")}
            for m in r[rule]
        }
        for rule in ("by_film", "by_excerpt")
    }
    clips = r.get("emomusic_clips", {})
    show["emomusic_clips (n=5)"] = {
        k: round(v, 3) for k, v in clips.items() if "pearson" in k or "mae" in k
    }
    print(json.dumps(show, indent=2))
    print(f"wrote {args.out}/music_metrics.json, swap_evidence.json and plots")
    return 0
