def register(sub):
    p = sub.add_parser("train", help="(not yet implemented)")
    p.set_defaults(func=lambda a: 1)
