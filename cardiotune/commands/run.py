def register(sub):
    p = sub.add_parser("run", help="(not yet implemented)")
    p.set_defaults(func=lambda a: 1)
