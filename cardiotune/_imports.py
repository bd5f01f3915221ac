"""Import optional dependencies with an error that names the extra to install."""
from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError


def import_optional(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming ``cardiotune[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name and module.split(".")[0] != exc.name.split(".")[0]:
            raise  # the module exists but one of *its* imports is broken: show that
        raise MissingDependencyError(module, extra, purpose) from exc
