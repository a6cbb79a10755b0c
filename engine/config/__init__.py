"""Bundles: YAML → validated, frozen config model."""

from engine.config.errors import BundleInvalid, ConfigError
from engine.config.loader import digest_files, load_bundle, load_bundle_dir, read_bundle_dir
from engine.config.model import Bundle, EntityDef, FieldDef, FormDef, Label, TenantDef

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
