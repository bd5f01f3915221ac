"""A source for run_chain that yields prepared items (chunks, RR, gaps) from memory."""


class ItemSource:
    def __init__(self, items):
        self.items = items

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    def __aiter__(self):
        return self._gen()

    async def _gen(self):
        for it in self.items:
            yield it
