"""All exceptions cardiotune raises on purpose.

    CardiotuneError
    ├── ConfigError            a config value is missing, of the wrong type or out of range
    ├── MissingDependencyError an optional extra is not installed
    ├── ModelError             a model file or manifest is unusable
    │   ├── ModelIntegrityError   sha256 of the model file differs from its manifest
    │   └── ModelContractError    manifest fields / model inputs do not match what is expected
    └── DataError              an input file or stream is malformed (names the file / field)
"""
from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "CardiotuneError",
    "ConfigError",
    "MissingDependencyError",
    "ModelError",
    "ModelIntegrityError",
    "ModelContractError",
    "DataError",
]


class CardiotuneError(Exception):
    """Base class of every error cardiotune raises deliberately."""


class ConfigError(CardiotuneError, ValueError):
    """A configuration value is wrong. Carries the dotted key, the bad value and what was expected."""

    def __init__(self, key: str, value: Any, expected: str, source: Optional[str] = None):
        self.key, self.value, self.expected, self.source = key, value, expected, source
        where = f" in {source}" if source else ""
        super().__init__(f"config key '{key}'{where}: got {value!r}, expected {expected}")


class MissingDependencyError(CardiotuneError, ImportError):
    """An optional dependency is missing; the message names the extra that provides it."""

    def __init__(self, module: str, extra: str, purpose: str):
        self.module, self.extra, self.purpose = module, extra, purpose
        super().__init__(
            f"{purpose} needs the Python package '{module}', which is not installed. "
            f"Install it with: pip install 'cardiotune[{extra}]'"
        )


class ModelError(CardiotuneError):
    """A model cannot be used."""


class ModelIntegrityError(ModelError):
    def __init__(self, path: str, expected_sha256: str, actual_sha256: str):
        self.path, self.expected_sha256, self.actual_sha256 = path, expected_sha256, actual_sha256
        super().__init__(
            f"model file {path} has sha256 {actual_sha256[:16]}…, manifest says "
            f"{expected_sha256[:16]}… - the file is corrupted or was replaced; refusing to run it"
        )


class ModelContractError(ModelError):
    def __init__(self, path: str, field: str, expected: Any, actual: Any):
        self.path, self.field, self.expected, self.actual = path, field, expected, actual
        super().__init__(
            f"model {path}: field '{field}' is {actual!r}, expected {expected!r}"
        )


class DataError(CardiotuneError, ValueError):
    """Input data is malformed; the message names the file or stream and what was expected."""
