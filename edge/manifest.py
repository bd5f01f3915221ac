"""The manifest that travels with every model: input contract, outputs, version, sha256.

Checked at load: a file whose hash differs, or whose contract differs from what the
caller expects, never runs (``ModelIntegrityError`` / ``ModelContractError``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping

from cardiotune.errors import ModelContractError, ModelError, ModelIntegrityError

__all__ = ["ModelManifest", "sha256_file", "MANIFEST_SCHEMA"]

MANIFEST_SCHEMA = "cardiotune.model-manifest/1"
_REQUIRED = ("schema", "name", "version", "file", "sha256", "inputs", "outputs", "opset")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class ModelManifest:
    path: Path  # of manifest.json
    data: Dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> ModelManifest:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"model manifest {path} does not exist") from None
        except json.JSONDecodeError as exc:
            raise ModelError(f"model manifest {path} is not valid JSON: {exc}") from None
        for key in _REQUIRED:
            if key not in data:
                raise ModelContractError(str(path), key, "present", "missing")
        if data["schema"] != MANIFEST_SCHEMA:
            raise ModelContractError(str(path), "schema", MANIFEST_SCHEMA, data["schema"])
        return cls(path, data)

    @property
    def model_path(self) -> Path:
        return self.path.parent / self.data["file"]

    def verify_file(self) -> None:
        """Raise unless the model file exists and its size and sha256 match the manifest."""
        self._verify(self.model_path, self.data, "")

    @property
    def variants(self) -> Dict[str, Dict[str, Any]]:
        """Quantised variants shipped next to the fp32 file (``fp32`` is the main file)."""
        out = {"fp32": {"file": self.data["file"], "sha256": self.data["sha256"]}}
        if "size_bytes" in self.data:
            out["fp32"]["size_bytes"] = self.data["size_bytes"]
        out.update(self.data.get("variants", {}))
        return out

    def variant_path(self, variant: str) -> Path:
        if variant not in self.variants:
            raise ModelContractError(str(self.path), "variants", sorted(self.variants), variant)
        return self.path.parent / self.variants[variant]["file"]

    def verify_variant(self, variant: str = "fp32") -> Path:
        """Check one variant's size and sha256; return its path."""
        path = self.variant_path(variant)
        self._verify(path, self.variants[variant], "" if variant == "fp32" else f"variants.{variant}.")
        return path

    def _verify(self, path: Path, entry: Mapping[str, Any], prefix: str) -> None:
        if not path.is_file():
            raise ModelError(f"model file {path} named by {self.path} does not exist")
        size = path.stat().st_size
        if "size_bytes" in entry and size != entry["size_bytes"]:  # truncated or padded: name the field
            raise ModelIntegrityError(str(path), entry["size_bytes"], size, f"{prefix}size_bytes")
        actual = sha256_file(path)
        if actual != entry["sha256"]:
            raise ModelIntegrityError(str(path), entry["sha256"], actual, f"{prefix}sha256")

    def require(self, expected: Mapping[str, Any]) -> None:
        """Check dotted manifest fields, e.g. ``{"inputs.0.feature_names": [...]}``."""
        for dotted, want in expected.items():
            node: Any = self.data
            for part in dotted.split("."):
                try:
                    node = node[int(part)] if isinstance(node, list) else node[part]
                except (KeyError, IndexError, ValueError, TypeError):
                    raise ModelContractError(str(self.path), dotted, want, "missing") from None
            if isinstance(want, (list, tuple)):
                node = list(node) if isinstance(node, (list, tuple)) else node
                want = list(want)
            if node != want:
                raise ModelContractError(str(self.path), dotted, want, node)
