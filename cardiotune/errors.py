"""All exceptions cardiotune raises on purpose.

    CardiotuneError
    ├── ConfigError            a config value is missing, of the wrong type or out of range
    ├── MissingDependencyError an optional extra is not installed
    ├── ModelError             a model file or manifest is unusable
    │   ├── ModelIntegrityError   sha256 of the model file differs from its manifest
    │   ├── ModelContractError    manifest fields / model inputs do not match what is expected
    │   └── ModelParityError      an exported model's outputs differ from the PyTorch model's
    └── DataError              an input file or stream is malformed (names the file / field)
"""
from __future__ import annotations

from typing import Any, Dict, Optional

__all__ = [
    "CardiotuneError",
    "ConfigError",
    "MissingDependencyError",
    "ModelError",
    "ModelIntegrityError",
    "ModelContractError",
    "ModelParityError",
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
    """The model file is not the one its manifest describes; ``field`` is ``sha256`` or ``size_bytes``."""

    def __init__(self, path: str, expected_sha256: Any, actual_sha256: Any, field: str = "sha256"):
        self.path, self.expected_sha256, self.actual_sha256 = path, expected_sha256, actual_sha256
        self.field = field
        if field.endswith("sha256"):
            detail = f"has {field} {str(actual_sha256)[:16]}…, manifest says {str(expected_sha256)[:16]}…"
        else:
            detail = f"field '{field}' is {actual_sha256!r}, manifest says {expected_sha256!r}"
        super().__init__(
            f"model file {path} {detail} - the file is corrupted, truncated or was replaced; refusing to run it"
        )


class ModelContractError(ModelError):
    def __init__(self, path: str, field: str, expected: Any, actual: Any):
        self.path, self.field, self.expected, self.actual = path, field, expected, actual
        super().__init__(
            f"model {path}: field '{field}' is {actual!r}, expected {expected!r}"
        )


class ModelParityError(ModelError):
    """onnxruntime and PyTorch disagree on an exported model.

    ``stage`` is where the check stopped: ``"names"``, ``"shapes"`` or ``"values"``;
    ``errors`` maps every output to its max abs error (``inf`` where shapes differ);
    ``case`` says which input (batch size, sequence length) showed it.
    """

    def __init__(self, model: str, stage: str, case: str, detail: str,
                 errors: Optional[Dict[str, float]] = None, tolerance: float = 0.0):
        self.model, self.stage, self.case, self.detail = model, stage, case, detail
        self.errors, self.tolerance = dict(errors or {}), tolerance
        nums = ", ".join(f"{k}: {v:.3g}" for k, v in self.errors.items())
        super().__init__(
            f"ONNX parity of {model} failed at {stage} ({case}): {detail}"
            + (f"; max abs error per output {nums} (tolerance {tolerance:g})" if nums else "")
        )


class DataError(CardiotuneError, ValueError):
    """Input data is malformed; the message names the file or stream and what was expected."""
