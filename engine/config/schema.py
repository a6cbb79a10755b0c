"""JSON Schema validation of bundle files, with errors mapped back to the YAML."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance
from referencing import Registry, Resource

from engine.config.errors import ConfigError
from engine.config.yamlload import SourceFile, join_pointer
from engine.i18n import choices_hint

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"

# Which schema checks which bundle file, by the file's stem.
FILE_KINDS: dict[str, str] = {
    "tenant": "tenant.schema.json",
    "entities": "entities.schema.json",
    "pools": "pools.schema.json",
    "assignment": "assignment.schema.json",
    "campaigns": "campaigns.schema.json",
    "tests": "tests.schema.json",
}

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


@cache
def _registry() -> Registry[Any]:
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((path.name, Resource.from_contents(contents)))
    return Registry().with_resources(resources)


@cache
def validator_for(schema_name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / schema_name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, registry=_registry())


def validate_file(source: SourceFile, schema_name: str) -> list[ConfigError]:
    """Every schema violation of one file, best first within each location."""
    validator = validator_for(schema_name)
    raw = sorted(validator.iter_errors(source.data), key=relevance)
    out: list[ConfigError] = []
    for error in raw:
        out.extend(_translate(source, _deepest(error)))
    return out


def _deepest(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf, the sub-error that best explains the failure."""
    while error.context:
        candidates = [e for e in error.context if e.validator != "type"] or list(error.context)
        best = sorted(candidates, key=lambda e: (-len(e.absolute_path), relevance(e)))[0]
        if best.validator == "type" and error.validator in ("oneOf", "anyOf"):
            return error
        error = best
    return error


def pointer_of(error: ValidationError) -> str:
    pointer = ""
    for part in error.absolute_path:
        pointer = join_pointer(pointer, part)
    return pointer


def _translate(source: SourceFile, error: ValidationError) -> Iterator[ConfigError]:
    pointer = pointer_of(error)
    handler = _HANDLERS.get(str(error.validator), _generic)
    yield from handler(source, pointer, error)


def _additional(source: SourceFile, pointer: str, error: ValidationError) -> Iterator[ConfigError]:
    allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    extras = (
        [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else []
    )
    for key in extras:
        where = join_pointer(pointer, key)
        yield source.error(
            where,
            f"unknown key '{key}'",
            str(choices_hint(key, allowed, "keys")),
            key=True,
            code="unknown_key",
        )


def _required(source: SourceFile, pointer: str, error: ValidationError) -> Iterator[ConfigError]:
    missing = error.message.split("'")[1] if "'" in error.message else "?"
    present = [k for k in error.instance] if isinstance(error.instance, dict) else []
    hint = f"add '{missing}:'"
    why = error.schema.get("x-hint") if isinstance(error.schema, dict) else None
    if why:
        hint = f"{hint} — {why}"
    guess = str(choices_hint(missing, present)) if present else None
    if guess and guess.startswith("did you mean"):
        hint = f"{hint} — or is '{guess.split(chr(39))[1]}' a misspelling of it?"
    yield source.error(
        pointer, f"missing required key '{missing}'", hint, key=bool(pointer), code="required"
    )


def _dependent(source: SourceFile, pointer: str, error: ValidationError) -> Iterator[ConfigError]:
    """A key that only means something with another one ('extend_days' without 'extend_on')."""
    given = error.instance if isinstance(error.instance, dict) else {}
    for key, needs in (
        error.validator_value if isinstance(error.validator_value, dict) else {}
    ).items():
        for need in needs:
            if key in given and need not in given:
                yield source.error(
                    f"{pointer}/{key}",
                    f"'{key}' needs '{need}'",
                    f"add '{need}:' or remove '{key}'",
                    key=True,
                    code="required",
                )


def _type(source: SourceFile, pointer: str, error: ValidationError) -> Iterator[ConfigError]:
    expected: Any = error.validator_value
    names = [expected] if isinstance(expected, str) else list(expected)
    yield _type_error(source, pointer, names, error.instance)


def _type_error(source: SourceFile, pointer: str, names: list[str], value: Any) -> ConfigError:
    wanted = " or ".join(dict.fromkeys(_TYPE_NAMES.get(n, n) for n in names))
    hint = None
    if "boolean" in names and str(value).lower() in ("yes", "no", "on", "off", "y", "n"):
        hint = f"write true or false: '{value}' is text in YAML 1.2"
    elif {"integer", "number"} & set(names) and isinstance(value, str):
        if re.fullmatch(r"\s*[-+]?[0-9]+(\.[0-9]+)?\s*", value):
            hint = "remove the quotes"
    elif "string" in names and isinstance(value, int | float | bool):
        shown = str(value).lower() if isinstance(value, bool) else value
        hint = f'put it in quotes: "{shown}"'
    return source.error(pointer, f"expected {wanted}, got {_describe(value)}", hint, code="type")


def _one_of(source: SourceFile, pointer: str, error: ValidationError) -> Iterator[ConfigError]:
    """No alternative fits because the value has the wrong type: say which types fit."""
    names: list[str] = []
    for sub in error.context or ():
        expected: Any = sub.validator_value
        if sub.validator == "type" and not sub.relative_path:
            names += [expected] if isinstance(expected, str) else list(expected)
    if not names:
        yield from _generic(source, pointer, error)
        return
    yield _type_error(source, pointer, names, error.instance)


_LIMITS = {
    "minLength": ("must not be empty", "must be at least {n} characters long"),
    "maxLength": ("must be at most 1 character long", "must be at most {n} characters long"),
    "minItems": ("must not be an empty list", "must list at least {n} items"),
    "minProperties": ("must not be empty", "must have at least {n} entries"),
    "minimum": ("must be at least 1, got {value}", "must be at least {n}, got {value}"),
    "maximum": ("must be at most 1, got {value}", "must be at most {n}, got {value}"),
}


def _limit(source: SourceFile, pointer: str, error: ValidationError) -> Iterator[ConfigError]:
    limit: Any = error.validator_value
    one, many = _LIMITS[str(error.validator)]
    text = (one if limit == 1 else many).format(n=limit, value=error.instance)
    yield source.error(pointer, text, code=str(error.validator))


def _unique(source: SourceFile, pointer: str, error: ValidationError) -> Iterator[ConfigError]:
    items = error.instance if isinstance(error.instance, list) else []
    for i, item in enumerate(items):
        if item in items[:i]:
            yield source.error(
                join_pointer(pointer, i),
                f"'{item}' is listed twice",
                "list each value once",
                code="uniqueItems",
            )
            return
    yield from _generic(source, pointer, error)


def _enum(source: SourceFile, pointer: str, error: ValidationError) -> Iterator[ConfigError]:
    allowed: Any = error.validator_value
    options = [str(o) for o in allowed]
    noun = error.schema.get("x-noun") if isinstance(error.schema, dict) else None
    yield source.error(
        pointer,
        f"unknown {noun} '{error.instance}'" if noun else f"'{error.instance}' is not allowed here",
        str(choices_hint(str(error.instance), options)),
        code="enum",
    )


def _pattern(source: SourceFile, pointer: str, error: ValidationError) -> Iterator[ConfigError]:
    hint = error.schema.get("x-hint") if isinstance(error.schema, dict) else None
    noun = error.schema.get("x-noun", "name") if isinstance(error.schema, dict) else "name"
    is_key = "propertyNames" in error.absolute_schema_path
    if is_key:  # a key of a mapping is the bad name: point at the key itself
        pointer = join_pointer(pointer, str(error.instance))
    yield source.error(
        pointer,
        f"'{error.instance}' is not a valid {noun}",
        hint or f"must match {error.validator_value}",
        key=is_key,
        code="pattern",
    )


def _generic(source: SourceFile, pointer: str, error: ValidationError) -> Iterator[ConfigError]:
    yield source.error(pointer, error.message, code=str(error.validator))


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"'{str(value).lower()}' (true/false)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"'{value}' (text)"


_HANDLERS = {
    "additionalProperties": _additional,
    "required": _required,
    "dependentRequired": _dependent,
    "type": _type,
    "enum": _enum,
    "pattern": _pattern,
    "oneOf": _one_of,
    "anyOf": _one_of,
    "uniqueItems": _unique,
    **{name: _limit for name in _LIMITS},
}
