"""Dataset loaders for the published formats (read from a path; nothing downloads).

Every loader returns items that carry their *group* (speaker / subject); the only way to
split them is by group (:mod:`cardiotune.export.splits`), so the window-level random split
that leaked subjects in CardioMusic's code cannot happen by accident. Bad paths or
layouts raise :class:`cardiotune.errors.DataError` naming the file or key expected.

Speech: :mod:`.speech` (EMO-DB, RAVDESS, IEMOCAP). Physiology: :mod:`.physio`
(DREAMER, AMIGOS, WESAD). Music: :mod:`.music` (another module).
"""

import os
from pathlib import Path

from ...errors import DataError

__all__ = ["data_root", "cache_dir", "require_file"]


def data_root() -> Path:
    """The real-data root from ``$CARDIOTUNE_DATA`` (DataError if unset or missing)."""
    val = os.environ.get("CARDIOTUNE_DATA")
    if not val:
        raise DataError(
            "CARDIOTUNE_DATA is not set: point it at the folder holding speech/, ecg/ ..."
        )
    root = Path(val).expanduser()
    if not root.is_dir():
        raise DataError(f"CARDIOTUNE_DATA={val!r} is not a directory")
    return root


def cache_dir(*parts: str) -> Path:
    """Feature cache folder (``$CARDIOTUNE_CACHE`` or ``~/.cache/cardiotune``), never the repo."""
    base = os.environ.get("CARDIOTUNE_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "cardiotune"
    )
    path = Path(base, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def require_file(path: Path, what: str) -> Path:
    if not Path(path).is_file():
        raise DataError(f"{what}: expected the file {path}, which does not exist")
    return Path(path)
