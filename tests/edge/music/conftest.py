"""One generated demo catalog shared by the music tests (generation takes a few seconds)."""
from __future__ import annotations

import pytest
from cardiotune.edge.music.catalog import load_demo_catalog


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory):
    return load_demo_catalog(tmp_path_factory.mktemp("music-cache"))
