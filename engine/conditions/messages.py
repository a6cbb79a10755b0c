"""Condition errors by code (their texts: engine/i18n/conditions.py).

A ConditionError carries a `Message` for its message and one for its hint. Params are plain
values or nested messages — type names, "the end", nouns — rendered in the same locale; a
condition type given as a param becomes its name's message here.
"""

from __future__ import annotations

from typing import Any

from engine.conditions import types as T
from engine.i18n import CATALOGUE, Message

RAW = "condition.raw"  # a message given as plain text (English everywhere)


def msg(code: str, **params: Any) -> Message:
    """A condition message; types among the params are shown by their names."""
    return Message(code, {k: _param(v) for k, v in params.items()})


def _param(value: Any) -> Any:
    if isinstance(value, T.Type):
        return type_name(value)
    if isinstance(value, list | tuple):
        return [_param(v) for v in value]
    return value


def type_name(kind: T.Type | None) -> Message:
    """A type as its message ("list of text" → 文本列表); None is shown as Python did."""
    if kind is None:
        return Message(RAW, {"message": "None"})
    if kind.item is not None:
        return Message("condition.type.list_of", {"item": type_name(kind.item)})
    code = f"condition.type.{kind.name}"
    return Message(code) if code in CATALOGUE else Message(RAW, {"message": kind.name})
