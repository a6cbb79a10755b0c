"""Bundles: YAML → validated, frozen config model.

Exports resolve lazily so that engine.config.model can be imported by the field types, which
the loader itself uses, without an import cycle.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.config.errors import BundleInvalid, ConfigError
    from engine.config.loader import digest_files, load_bundle, load_bundle_dir, read_bundle_dir
    from engine.config.model import Bundle, EntityDef, FieldDef, FormDef, Label, TenantDef

_EXPORTS = {
    "BundleInvalid": "errors",
    "ConfigError": "errors",
    "digest_files": "loader",
    "load_bundle": "loader",
    "load_bundle_dir": "loader",
    "read_bundle_dir": "loader",
    "Bundle": "model",
    "EntityDef": "model",
    "FieldDef": "model",
    "FormDef": "model",
    "Label": "model",
    "TenantDef": "model",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(import_module(f"engine.config.{module}"), name)


__all__ = [
    "Bundle",
    "BundleInvalid",
    "ConfigError",
    "EntityDef",
    "FieldDef",
    "FormDef",
    "Label",
    "TenantDef",
    "digest_files",
    "load_bundle",
    "load_bundle_dir",
    "read_bundle_dir",
]
