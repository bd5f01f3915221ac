"""``cardiotune evaluate retrieval``: CMER-CL Music->Emotion / Emotion->Music retrieval (MRR,
average rank, top-5 % cosine) vs RegMLP and RegBiGRU, the lambda sweep, and CardioMusic's
similarity head vs the L3-Net/ACP-Net fusion baseline. Writes JSON and PNGs to ``--out``."""


def register(sub):
    p = sub.add_parser(
        "retrieval", help="CMER-CL retrieval vs baselines, lambda sweep, similarity head"
    )
    p.add_argument("--config", default="configs/train/cmer.toml", help="training config (TOML)")
    p.add_argument(
        "--out", default="out/eval/retrieval", help="folder for retrieval_metrics.json and PNGs"
    )
    p.add_argument(
        "--resume", action="store_true", help="skip CV fits already in --out/progress.json"
    )
    p.add_argument("--no-sweep", action="store_true", help="skip the lambda sweep")
    p.add_argument(
        "--no-similarity", action="store_true", help="skip the CardioMusic similarity part"
    )
    p.add_argument(
        "--no-procedural",
        action="store_true",
        help="skip the transfer test on the procedural demo catalog (needs librosa)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from cardiotune.export.cmer.train import run as train_run

    r = train_run(
        args.config,
        args.out,
        args.resume,
        sweep=not args.no_sweep,
        similarity=not args.no_similarity,
        procedural=not args.no_procedural,
    )
    show = {
        m: {k: f"{v['mean']:.3f} +- {v['sd']:.3f}" for k, v in s.items() if "cosine" not in k}
        for m, s in r["summary"].items()
    }
    show["mrr_ratio_cmer_over_best_baseline"] = r["mrr_ratio_cmer_over_best_baseline"]
    if "similarity" in r:
        show["similarity_mse"] = {
            k: v["sim_mse_mean"] for k, v in r["similarity"].items() if isinstance(v, dict)
        }
    if "procedural_catalog" in r:
        show["procedural_catalog_mrr"] = {
            m: {k: round(v["mean"], 3) for k, v in s.items() if k.endswith("_mrr")}
            for m, s in r["procedural_catalog"]["summary"].items()
        }
    print(json.dumps(show, indent=2))
    print(f"wrote {args.out}/retrieval_metrics.json and plots")
    return 0
