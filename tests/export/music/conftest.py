"""Fixtures for the music loader/training tests (writers live in music_fixtures.py)."""

from __future__ import annotations

import pytest
from music_fixtures import write_deam, write_emomusic, write_pmemo_scatter, write_soundtracks110


@pytest.fixture
def music_root(tmp_path):
    root = tmp_path / "music"
    write_deam(str(root / "deam"))
    write_emomusic(str(root / "emomusic"))
    write_pmemo_scatter(str(root / "pmemo"))
    write_soundtracks110(str(root / "soundtracks110"))
    return root
