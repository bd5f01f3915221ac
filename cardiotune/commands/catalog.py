"""``cardiotune catalog``: build, import, export and show a music catalog (server side)."""
from __future__ import annotations

import argparse
import json


def register(sub) -> None:
    p = sub.add_parser("catalog", help="build a music catalog with valence/arousal from your own files",
                       description="Score a music folder (VA with uncertainty per track and per 5-s segment, "
                       "an embedding), import annotation sets, export the index devices load, and draw it.")
    csub = p.add_subparsers(dest="catalog_command", metavar="ACTION")
    csub.required = True

    b = csub.add_parser("build", help="scan a music folder (mp3/flac/ogg/wav) into the catalog database")
    b.add_argument("music_dir")
    b.add_argument("--db", required=True, help="catalog database (SQLite; created if missing)")
    b.add_argument("--workers", type=int, default=2, help="worker processes (0 = in this process) "
                   "(default: %(default)s)")
    b.add_argument("--index", default=None, metavar="NPZ", help="also export the index artifact here")
    b.add_argument("--report", default=None, metavar="JSON", help="write the build report (incl. skipped files)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(func=_build)

    i = csub.add_parser("import", help="import valence/arousal annotations (DEAM, emoMusic, PMEmo, "
                        "Soundtracks110, a generic CSV, a Spotify-style export)")
    i.add_argument("kind", choices=["deam", "emomusic", "pmemo", "soundtracks110", "csv", "spotify"])
    i.add_argument("path", help="the annotation file or the dataset folder")
    i.add_argument("--db", required=True)
    i.add_argument("--scale", default="-1,1", metavar="LO,HI",
                   help="csv only: the range the valence/arousal columns are on (default: %(default)s)")
    i.add_argument("--report", default=None, metavar="JSON", help="write imported count and every bad row")
    i.set_defaults(func=_import)

    e = csub.add_parser("export", help="write the index artifact (.npz) devices load")
    e.add_argument("--db", required=True)
    e.add_argument("--out", required=True, metavar="NPZ")
    e.add_argument("--source", default=None, help="only rows of this source (scan, import:deam, ...)")
    e.add_argument("--playable-only", action="store_true", help="only tracks whose local file exists")
    e.set_defaults(func=_export)

    s = csub.add_parser("show", help="print statistics; draw the catalog on the VA plane (PNG + HTML)")
    s.add_argument("--db", required=True)
    s.add_argument("--png", default=None, metavar="PATH")
    s.add_argument("--html", default=None, metavar="PATH")
    s.set_defaults(func=_show)


def _build(args: argparse.Namespace) -> int:
    from cardiotune.server.catalog.build import build_catalog

    rep = build_catalog(args.music_dir, args.db, workers=args.workers, progress=not args.no_progress)
    d = rep.as_dict()
    print(f"catalog {args.db}: {rep.scanned} files, {rep.added} scored, {rep.unchanged} unchanged, "
          f"{rep.moved} moved, {rep.removed} removed, {len(rep.problems)} skipped ({rep.seconds:.1f} s; "
          f"model {rep.model})")
    for path, reason in rep.problems:
        print(f"  skipped {path}: {reason}")
    if args.report:
        with open(args.report, "w") as f:
            json.dump(d, f, indent=1)
    if args.index:
        from cardiotune.server.catalog.export import export_index

        meta = export_index(args.db, args.index, source="scan")
        print(f"index {args.index}: {meta['n_tracks']} tracks, sha256 {meta['content_sha256'][:16]}...")
    return 0


def _import(args: argparse.Namespace) -> int:
    from cardiotune.errors import ConfigError
    from cardiotune.server.catalog.imports import import_annotations

    try:
        lo, hi = (float(x) for x in args.scale.split(","))
    except ValueError:
        raise ConfigError("--scale", args.scale, "LO,HI, two numbers such as 0,1") from None
    res = import_annotations(args.db, args.kind, args.path, (lo, hi))
    print(f"imported {len(res.rows)} {args.kind} rows into {args.db}; {len(res.problems)} rows reported, not "
          "imported")
    for where, why in res.problems[:20]:
        print(f"  {where}: {why}")
    if len(res.problems) > 20:
        print(f"  ... {len(res.problems) - 20} more (see --report)")
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"kind": args.kind, "imported": len(res.rows),
                       "problems": [{"where": w, "reason": r} for w, r in res.problems]}, f, indent=1)
    return 0


def _export(args: argparse.Namespace) -> int:
    from cardiotune.server.catalog.export import export_index

    meta = export_index(args.db, args.out, source=args.source, playable_only=args.playable_only)
    print(f"index {args.out}: {meta['n_tracks']} tracks, embedding d={meta['embedding_dim']}, models "
          f"{', '.join(meta['models'])}, sha256 {meta['content_sha256'][:16]}...")
    return 0


def _show(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cardiotune.server.catalog.show import catalog_stats, load_points, plot_png, write_html

    stats = catalog_stats(args.db)
    print(json.dumps(stats, indent=1))
    pts = load_points(args.db)
    title = Path(args.db).stem
    if args.png:
        print(f"wrote {plot_png(pts, args.png, title)}")
    if args.html:
        print(f"wrote {write_html(pts, args.html, title, stats)}")
    return 0
