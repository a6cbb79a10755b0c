"""Keeping `unique` true across config versions.

A new version may make a field unique (its stored values must then be claimed, and must not
already repeat) or stop making it unique (its claims are released). Done in the activation's
transaction, so a version whose data breaks its own rules is never active.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

from engine.config.errors import BundleInvalid, ConfigError
from engine.config.model import Bundle, FieldDef
from engine.config.yamlload import load_yaml
from engine.service.unique_keys import unique_key
from engine.storage import tables as t
from engine.storage.store import Tx


def unique_fields(bundle: Bundle | None) -> set[tuple[str, str, bool]]:
    """(entity, field, case-folded) of every unique field."""
    if bundle is None:
        return set()
    return {
        (e.name, f.name, f.type == "email")
        for e in bundle.entities.values()
        for f in e.fields.values()
        if f.unique
    }


def sync_uniques(tx: Tx, tenant: str, old: Bundle | None, new: Bundle) -> None:
    """Release claims of fields no longer unique; claim values of newly unique fields."""
    before, after = unique_fields(old), unique_fields(new)
    for entity, field, _ in before - after:
        tx.conn.execute(
            t.record_unique.delete().where(
                t.record_unique.c.tenant_id == tenant,
                t.record_unique.c.entity == entity,
                t.record_unique.c.field == field,
            )
        )
    errors = [
        e
        for entity, field, fold in sorted(after - before)
        for e in _claim_stored(tx, tenant, new, entity, field, fold)
    ]
    if errors:
        raise BundleInvalid(errors)


def _claim_stored(
    tx: Tx, tenant: str, bundle: Bundle, entity: str, field: str, fold: bool
) -> list[ConfigError]:
    tx.conn.execute(
        t.record_unique.delete().where(
            t.record_unique.c.tenant_id == tenant,
            t.record_unique.c.entity == entity,
            t.record_unique.c.field == field,
        )
    )
    holders: dict[str, list[str]] = defaultdict(list)
    query = sa.select(t.records.c.id, t.records.c.data).where(
        t.records.c.tenant_id == tenant,
        t.records.c.entity == entity,
        t.records.c.deleted_at.is_(None),
    )
    for record_id, data in tx.conn.execute(query):
        if data.get(field) is not None:
            holders[unique_key(data[field], fold)].append(record_id)
    repeated = {k: ids for k, ids in holders.items() if len(ids) > 1}
    if repeated:
        return [_repeated_error(bundle.entities[entity].fields[field], repeated)]
    tx.claim_unique(
        [
            {
                "tenant_id": tenant,
                "entity": entity,
                "field": field,
                "value": key,
                "record_id": ids[0],
            }
            for key, ids in holders.items()
        ]
    )
    return []


def _repeated_error(field: FieldDef, repeated: dict[str, list[str]]) -> ConfigError:
    shown = ", ".join(f"'{k}' ×{len(ids)}" for k, ids in list(repeated.items())[:5])
    more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
    line, col = _locate(field)
    return ConfigError(
        field.loc.file,
        line,
        col,
        field.loc.pointer + "/unique",
        f"{field.name} cannot become unique: stored records repeat values ({shown}{more})",
        "change or delete the repeats first, then load this version again",
        code="unique",
    )


def _locate(field: FieldDef) -> tuple[int, int]:
    path = Path(field.loc.file)
    if not path.is_file():
        return 1, 1
    source, _ = load_yaml(str(path), path.read_text(encoding="utf-8"))
    return source.locate(field.loc.pointer + "/unique", key=True)
