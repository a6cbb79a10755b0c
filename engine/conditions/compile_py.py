"""Python backend: a typed AST becomes nested closures over an Env — no eval of user text.

The hot path builds no trace. Comparisons of a field with a constant, the most common shape,
compile to one closure that reads the stored value directly (see _fast_compare).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from engine.conditions import nodes as n
from engine.conditions import types as T
from engine.conditions import values as V
from engine.conditions.functions import FUNCTIONS
from engine.conditions.regex import compiled as regex
from engine.conditions.stored import format_instant

Fn = Callable[[V.Env], Any]
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compile_condition(node: n.Node) -> Callable[[V.Env], bool]:
    """A closure env -> bool for a typed condition."""
    fn = compile_node(node)
    if strict(node):
        return fn  # already True/False: no wrapper frame on the hot path
    return lambda env: fn(env) is True


def strict(node: n.Node) -> bool:
    """Whether a node's closure always returns True or False (never None)."""
    return isinstance(node, n.Compare | n.Between | n.IsNull | n.And | n.Or | n.Not) or (
        isinstance(node, n.Call) and node.name == "changed"
    )


def compile_node(node: n.Node) -> Fn:
    method: Callable[[n.Node], Fn] = _COMPILERS[type(node)]
    return method(node)


def _literal(node: n.Node) -> Fn:
    assert isinstance(node, n.Literal)
    value = node.value
    return lambda env: value


def _field(node: n.Node) -> Fn:
    assert isinstance(node, n.FieldRef) and node.type is not None
    name, read = node.name, V.READERS[node.type.name]
    return lambda env: read(env.data.get(name))


def _list(node: n.Node) -> Fn:
    assert isinstance(node, n.ListLit)
    items = [compile_node(i) for i in node.items]
    return lambda env: [f(env) for f in items]


def _call(node: n.Node) -> Fn:
    assert isinstance(node, n.Call)
    if node.name in ("changed", "old"):
        return _change(node)
    impl = FUNCTIONS[node.name].py
    args = [compile_node(a) for a in node.args]
    if not args:
        return lambda env: impl(env)
    if len(args) == 1:
        only = args[0]
        return lambda env: impl(env, only(env))
    return lambda env: impl(env, *[a(env) for a in args])


def _change(node: n.Call) -> Fn:
    arg = node.args[0]
    assert isinstance(arg, n.FieldRef) and arg.type is not None
    name, read = arg.name, V.READERS[arg.type.name]
    if node.name == "old":
        return lambda env: read(env.old.get(name)) if env.old is not None else None
    return lambda env: env.old is not None and env.old.get(name) != env.data.get(name)


def _neg(node: n.Node) -> Fn:
    assert isinstance(node, n.Neg)
    inner = compile_node(node.operand)
    return lambda env: None if (v := inner(env)) is None else -v


def _arith(node: n.Node) -> Fn:
    assert isinstance(node, n.Arith)
    left, right, op = compile_node(node.left), compile_node(node.right), node.op
    numeric = node.type is not None and node.type.name in T.NUMERIC
    impl = V.arith if numeric else V.shift
    return lambda env: impl(op, left(env), right(env))


def _compare(node: n.Node) -> Fn:
    assert isinstance(node, n.Compare)
    fast = _fast_compare(node)
    if fast is not None:
        return fast
    left, right = compile_node(node.left), compile_node(node.right)
    test = _TESTS[node.op](node)
    return lambda env: test(left(env), right(env))


def _null_safe(check: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda a, b: a is not None and b is not None and check(a, b)


def _ordered(node: n.Compare) -> Callable[[Any, Any], bool]:
    return _null_safe(_ORDER[node.op])


def _in(node: n.Compare) -> Callable[[Any, Any], bool]:
    negate = node.op == "not in"
    return lambda a, b: a is not None and b is not None and ((a in b) != negate)


def _contains(node: n.Compare) -> Callable[[Any, Any], bool]:
    return _null_safe(lambda a, b: b in a)


def _starts(node: n.Compare) -> Callable[[Any, Any], bool]:
    return _null_safe(lambda a, b: a.startswith(b))


def _ends(node: n.Compare) -> Callable[[Any, Any], bool]:
    return _null_safe(lambda a, b: a.endswith(b))


def _matches(node: n.Compare) -> Callable[[Any, Any], bool]:
    return _null_safe(lambda a, b: regex(b).search(a) is not None)


_TESTS: dict[str, Callable[[n.Compare], Callable[[Any, Any], bool]]] = {
    **{op: _ordered for op in _ORDER},
    "in": _in,
    "not in": _in,
    "contains": _contains,
    "starts_with": _starts,
    "ends_with": _ends,
    "matches": _matches,
}


def stored_form(value: Any) -> Any:
    """A constant in the form fields are stored in, so it compares with stored values."""
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _fast_compare(node: n.Compare) -> Fn | None:
    """field OP constant, read straight from the stored values (one closure, no readers)."""
    field, const = node.left, node.right
    if not isinstance(field, n.FieldRef):
        return None
    kind = (field.type or T.NULL).name
    if kind not in ("text", "integer", "decimal", "date", "datetime"):
        return None
    if not isinstance(const, n.Literal | n.ListLit):
        return _fast_moving(node, field, const, kind)
    if isinstance(const, n.ListLit):
        return _fast_in(node, field, const, kind)
    if node.op not in _ORDER or const.value is None:
        return None
    value = stored_form(const.value)
    if kind == "decimal":
        return _fast_decimal(field.name, _ORDER[node.op], Decimal(value))
    wanted = str if kind in ("text", "date", "datetime") else int
    return _fast_plain(field.name, node.op, value, wanted)


def _fast_plain(name: str, op: str, value: Any, wanted: type) -> Fn:
    if wanted is int:  # an integer field may meet a decimal constant: compare as numbers
        check = _ORDER[op]
        return lambda env: (v := env.data.get(name)).__class__ is int and check(v, value)
    make = _PLAIN_TEXT[op]
    return make(name, value)


def _text_eq(name: str, c: Any) -> Fn:
    return lambda env: env.data.get(name) == c


def _text_ne(name: str, c: Any) -> Fn:
    return lambda env: (v := env.data.get(name)).__class__ is str and v != c


def _text_lt(name: str, c: Any) -> Fn:
    return lambda env: (v := env.data.get(name)).__class__ is str and v < c


def _text_le(name: str, c: Any) -> Fn:
    return lambda env: (v := env.data.get(name)).__class__ is str and v <= c


def _text_gt(name: str, c: Any) -> Fn:
    return lambda env: (v := env.data.get(name)).__class__ is str and v > c


def _text_ge(name: str, c: Any) -> Fn:
    return lambda env: (v := env.data.get(name)).__class__ is str and v >= c


_PLAIN_TEXT = {
    "==": _text_eq,
    "!=": _text_ne,
    "<": _text_lt,
    "<=": _text_le,
    ">": _text_gt,
    ">=": _text_ge,
}


def _fast_decimal(name: str, check: Callable[[Any, Any], bool], value: Decimal) -> Fn:
    # Stored decimals have at most 15 significant digits, so as floats they keep their order
    # and equality exactly (and float() is several times cheaper than Decimal()).
    limit = float(value)
    if Decimal(limit) != value and len(value.as_tuple().digits) > 15:
        return _exact_decimal(name, check, value)

    def run(env: V.Env) -> bool:
        v = env.data.get(name)
        if v.__class__ is not str:
            return False
        try:
            return check(float(v), limit)
        except ValueError:
            return False

    return run


def _exact_decimal(name: str, check: Callable[[Any, Any], bool], value: Decimal) -> Fn:
    read = V.read_decimal

    def run(env: V.Env) -> bool:
        v = read(env.data.get(name))
        return v is not None and check(v, value)

    return run


def _fast_moving(node: n.Compare, field: n.FieldRef, const: n.Node, kind: str) -> Fn | None:
    """field OP <an expression of now() only>, e.g. f <= now() - 31d (see rewrite.py): the
    bound is computed once per evaluation time, then compared with the stored text."""
    if n.has_fields(const) or node.op not in _ORDER or kind not in ("date", "datetime"):
        return None
    bound_of, check, name = compile_node(const), _ORDER[node.op], field.name
    box: list[tuple[Any, Any]] = [(None, None)]  # (now, stored bound): swapped as one tuple

    def run(env: V.Env) -> bool:
        now, bound = box[0]
        if now != env.now:
            now, bound = env.now, stored_form(bound_of(env))
            box[0] = (now, bound)
        v = env.data.get(name)
        return v.__class__ is str and bound is not None and check(v, bound)

    return run


def _fast_in(node: n.Compare, field: n.FieldRef, const: n.ListLit, kind: str) -> Fn | None:
    if node.op not in ("in", "not in") or kind == "decimal":
        return None
    if not all(isinstance(i, n.Literal) for i in const.items):
        return None
    members = frozenset(stored_form(i.value) for i in const.items if isinstance(i, n.Literal))
    name, negate = field.name, node.op == "not in"
    wanted = int if kind == "integer" else str
    return lambda env: (v := env.data.get(name)).__class__ is wanted and (v in members) != negate


def _between(node: n.Node) -> Fn:
    assert isinstance(node, n.Between)
    value, low, high = (compile_node(x) for x in (node.value, node.low, node.high))

    def run(env: V.Env) -> bool:
        v, lo, hi = value(env), low(env), high(env)
        return v is not None and lo is not None and hi is not None and bool(lo <= v <= hi)

    return run


def _is_null(node: n.Node) -> Fn:
    assert isinstance(node, n.IsNull)
    inner, negated = compile_node(node.value), node.negated
    return lambda env: (inner(env) is None) != negated


def _and(node: n.Node) -> Fn:
    assert isinstance(node, n.And)
    fs = [compile_node(i) for i in node.items]
    if all(strict(i) for i in node.items):
        return _chain_and(fs)
    return lambda env: all(f(env) is True for f in fs)


def _chain_and(fs: list[Fn]) -> Fn:
    """Unrolled for the common sizes: a generator per evaluation costs more than the tests."""
    if len(fs) == 2:
        a, b = fs
        return lambda env: a(env) and b(env)
    if len(fs) == 3:
        a, b, c = fs
        return lambda env: a(env) and b(env) and c(env)
    if len(fs) == 4:
        a, b, c, d = fs
        return lambda env: a(env) and b(env) and c(env) and d(env)

    def run(env: V.Env) -> bool:
        for f in fs:  # noqa: SIM110 — a loop: all() over a generator is the slow form
            if not f(env):
                return False
        return True

    return run


def _or(node: n.Node) -> Fn:
    assert isinstance(node, n.Or)
    fs = [compile_node(i) for i in node.items]
    if not all(strict(i) for i in node.items):
        return lambda env: any(f(env) is True for f in fs)
    if len(fs) == 2:
        a, b = fs
        return lambda env: a(env) or b(env)
    if len(fs) == 3:
        a, b, c = fs
        return lambda env: a(env) or b(env) or c(env)

    def run(env: V.Env) -> bool:
        for f in fs:  # noqa: SIM110 — a loop: any() over a generator is the slow form
            if f(env):
                return True
        return False

    return run


def _not(node: n.Node) -> Fn:
    assert isinstance(node, n.Not)
    inner = compile_node(node.operand)
    return lambda env: inner(env) is not True


_COMPILERS: dict[type, Callable[[n.Node], Fn]] = {
    n.Literal: _literal,
    n.FieldRef: _field,
    n.ListLit: _list,
    n.Call: _call,
    n.Neg: _neg,
    n.Arith: _arith,
    n.Compare: _compare,
    n.Between: _between,
    n.IsNull: _is_null,
    n.And: _and,
    n.Or: _or,
    n.Not: _not,
}
