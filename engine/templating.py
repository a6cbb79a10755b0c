"""Message templates of campaign actions: Jinja2 in its sandbox, checked when the bundle loads.

A template can read the record and format it, and can do nothing else: it renders in an
ImmutableSandboxedEnvironment (no private or internal attributes, no mutating methods, a bounded
`range`, bounded `*` and `**`), with a small set of filters. `check` walks the parsed template
so that an unknown field, variable or filter is a config error with a line and a hint, never an
empty string in a customer's inbox. Pure: no I/O, no database.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache
from types import MappingProxyType, TracebackType
from typing import Any

import jinja2
from jinja2 import nodes, pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context as JinjaContext
from jinja2.sandbox import (
    UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    UNSAFE_COROUTINE_ATTRIBUTES,
    UNSAFE_GENERATOR_ATTRIBUTES,
    ImmutableSandboxedEnvironment,
)

from engine.config.model import Label

MAX_OUTPUT = 64 * 1024  # characters of one rendered string
MAX_EXPONENT = 1000  # `9 ** 9 ** 9` would keep a worker busy for hours
MAX_MESSAGE = 200  # a runtime error's message, as shown to people

# Columns every record has, with their types (the entity's own fields come from the scope).
SYSTEM_ATTRIBUTES: Mapping[str, str] = MappingProxyType(
    {
        "id": "text",
        "owner": "reference",
        "pool": "text",
        "created_at": "datetime",
        "updated_at": "datetime",
        "queue": "text",
    }
)
# Top-level variables: the attributes each object has (None: not an object with known ones).
VARIABLES: Mapping[str, frozenset[str] | None] = MappingProxyType(
    {
        "record": None,
        "owner": frozenset({"id", "name", "email"}),
        "campaign": frozenset({"id", "label"}),
        "variant": None,
        "now": None,
        "tenant": frozenset({"id", "name"}),
    }
)
# Jinja's own filters worth having in a text message; HTML and introspection ones are left out.
JINJA_FILTERS = (
    *("abs", "capitalize", "count", "d", "default", "first", "float", "int", "join", "last"),
    *("length", "list", "lower", "max", "min", "replace", "round", "sort", "string", "sum"),
    *("title", "tojson", "trim", "truncate", "unique", "upper", "urlencode"),
)
_REFUSED_ATTRIBUTES = frozenset(
    {"mro"}
    | UNSAFE_GENERATOR_ATTRIBUTES
    | UNSAFE_COROUTINE_ATTRIBUTES
    | UNSAFE_ASYNC_GENERATOR_ATTRIBUTES
)
_MUTATING_METHODS = frozenset(
    {"append", "extend", "insert", "pop", "popitem", "remove", "clear", "update", "setdefault"}
    | {"add", "discard", "sort", "reverse", "difference_update", "intersection_update"}
    | {"symmetric_difference_update"}
)
_LOADER_NODES = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
_CURRENCY_SYMBOLS = MappingProxyType(
    {"CNY": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "KRW": "₩"}
)
_DECIMALS = Context(prec=34)
_DAY = timedelta(days=1)
_TZ = "tidepool:tz"  # a context key no template can name (not an identifier)
_TEMPLATE_FILE = "<template>"
_NEWLINE = re.compile(r"\r\n|\r|\n")


class TemplateError(Exception):
    """A template that could not be rendered; the message is short and safe to show."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """One mistake in a template; line and column are 1-based within the template text."""

    line: int
    column: int
    message: str
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateScope:
    """What a template may read: the entity's fields (name → type) and the top-level variables.

    `variables` can be narrowed for actions that have no campaign, or widened by a caller that
    puts more into the context."""

    fields: Mapping[str, str]
    entity: str = "record"
    variables: frozenset[str] = field(default_factory=lambda: frozenset(VARIABLES))

    def record_attributes(self) -> dict[str, str]:
        """Every name `record.<x>` may use, with its type."""
        return {**SYSTEM_ATTRIBUTES, **self.fields}


# ---------------------------------------------------------------------------------------------
# Filters


def _moment(value: Any, tz: tzinfo) -> date | datetime | None:
    """A date, or an aware datetime (naive ones are read in the tenant's time zone)."""
    if isinstance(value, str):
        value = _parse_iso(value.strip())
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    return value if isinstance(value, date) else None


def _parse_iso(text: str) -> date | datetime | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        return None


def _tz(context: JinjaContext) -> tzinfo:
    found = context.get(_TZ)
    return found if isinstance(found, tzinfo) else UTC


def _format_moment(context: JinjaContext, value: Any, fmt: Any, default: str) -> Any:
    """The moment in the tenant's time zone, formatted; anything else unchanged."""
    tz = _tz(context)
    moment = _moment(value, tz)
    if moment is None:
        return value
    local = moment.astimezone(tz) if isinstance(moment, datetime) else moment
    try:
        return local.strftime(fmt if fmt else default)
    except (TypeError, ValueError):
        return value


@pass_context
def date_filter(context: JinjaContext, value: Any, fmt: str | None = None) -> Any:
    """`{{ record.trial_end | date }}` → 2026-01-31, the local date in the tenant's zone."""
    return _format_moment(context, value, fmt, "%Y-%m-%d")


@pass_context
def datetime_filter(context: JinjaContext, value: Any, fmt: str | None = None) -> Any:
    """`{{ record.created_at | datetime }}` → 2026-01-31 09:30, local time."""
    return _format_moment(context, value, fmt, "%Y-%m-%d %H:%M")


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _currency_prefix(currency: Any) -> str:
    if not currency:
        return ""
    code = str(currency).strip().upper()
    return _CURRENCY_SYMBOLS.get(code, f"{code} ")


def money_filter(value: Any, currency: str | None = None, places: int = 2) -> Any:
    """`{{ record.total_paid | money('CNY') }}` → ¥1,234.50; not a number → unchanged."""
    amount = _decimal(value)
    valid_places = isinstance(places, int) and not isinstance(places, bool) and 0 <= places <= 10
    if amount is None or not valid_places:
        return value
    try:
        rounded = amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, _DECIMALS)
    except InvalidOperation:  # more digits than any amount has
        return value
    sign = "-" if rounded < 0 else ""
    return f"{sign}{_currency_prefix(currency)}{abs(rounded):,.{places}f}"


def _days(context: JinjaContext, value: Any, since: bool) -> Any:
    """Whole days between `now` and a moment, as the condition language counts them:
    24-hour periods for a datetime, calendar days in the tenant's zone for a date."""
    tz = _tz(context)
    moment, now = _moment(value, tz), _moment(context.get("now"), tz)
    if moment is None or not isinstance(now, datetime):
        return value
    if not isinstance(moment, datetime):
        now = now.astimezone(tz).date()
    start, end = (moment, now) if since else (now, moment)
    return (end - start) // _DAY


@pass_context
def days_until_filter(context: JinjaContext, value: Any) -> Any:
    """`{{ record.trial_end | days_until }}` → 3 (negative once it has passed)."""
    return _days(context, value, since=False)


@pass_context
def days_since_filter(context: JinjaContext, value: Any) -> Any:
    """`{{ record.last_contact | days_since }}` → 12 (negative in the future)."""
    return _days(context, value, since=True)


FILTERS: Mapping[str, Callable[..., Any]] = MappingProxyType(
    {
        "date": date_filter,
        "datetime": datetime_filter,
        "money": money_filter,
        "days_until": days_until_filter,
        "days_since": days_since_filter,
    }
)


# ---------------------------------------------------------------------------------------------
# The sandbox


def _repeat_size(left: Any, right: Any) -> int:
    """The length `left * right` would have if it repeats a sequence, else 0."""
    if isinstance(left, int) and not isinstance(right, int):
        left, right = right, left
    if isinstance(left, str | list | tuple) and isinstance(right, int):
        return len(left) * right
    return 0


def _finalize(value: Any) -> Any:
    """`{{ x }}` of a missing value (None) prints nothing rather than 'None'."""
    return "" if value is None else value


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, stricter: refusals raise, data keys win over dict methods."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: JinjaContext, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponents above {MAX_EXPONENT} are not allowed")
        if operator == "*" and _repeat_size(left, right) > MAX_OUTPUT:
            raise SecurityError(f"repeating text beyond {MAX_OUTPUT} characters is not allowed")
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`record.items` is the field named items, not dict.items."""
        if isinstance(obj, Mapping) and not attribute.startswith("_") and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        """Jinja would print nothing; a refused access is an error people should see."""
        raise SecurityError(f"{attribute!r} of a {type(obj).__name__} cannot be read")


def _environment() -> _Sandbox:
    env = _Sandbox(
        undefined=jinja2.ChainableUndefined,  # a record may lack a field: render ''
        autoescape=False,  # text and JSON values, not HTML
        keep_trailing_newline=True,  # a YAML block scalar keeps its last newline
        finalize=_finalize,
    )
    env.filters = {name: env.filters[name] for name in JINJA_FILTERS} | dict(FILTERS)
    env.globals = {name: env.globals[name] for name in ("range", "dict", "namespace")}
    return env


_ENV = _environment()


# ---------------------------------------------------------------------------------------------
# Rendering


@lru_cache(maxsize=1024)
def _compiled(text: str) -> jinja2.Template:
    return _ENV.from_string(text)


def _template(text: str) -> jinja2.Template:
    try:
        return _compiled(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "invalid template", exc.lineno) from exc


def _localized(context: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """Labels (campaign.label, …) as text in `locale`, one level deep."""

    def text(value: Any) -> Any:
        return value.get(locale) if isinstance(value, Label) else value

    return {
        key: {k: text(v) for k, v in value.items()} if isinstance(value, Mapping) else text(value)
        for key, value in context.items()
    }


def _capped(chunks: Iterable[str]) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise TemplateError(f"the text would be longer than {MAX_OUTPUT} characters")
        out.append(chunk)
    return "".join(out)


def _template_line(tb: TracebackType | None) -> int | None:
    """The template line an error happened on (Jinja maps its frames to template lines)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _runtime_error(exc: Exception) -> TemplateError:
    message = str(exc) or type(exc).__name__
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return TemplateError(message, _template_line(exc.__traceback__))


def render(text: str, context: Mapping[str, Any], *, tz: tzinfo, locale: str = "en") -> str:
    """The template's text for one record; every failure is a TemplateError.

    `context` holds record, owner, campaign, variant, now (an aware datetime), tenant; `tz`
    is the tenant's time zone, which date filters show moments in."""
    template = _template(text)
    variables = {**_localized(context, locale), _TZ: tz}
    try:
        return _capped(template.generate(variables))
    except TemplateError:
        raise
    except Exception as exc:  # anything a template does wrong, never a traceback
        raise _runtime_error(exc) from exc


def render_value(value: Any, context: Mapping[str, Any], *, tz: tzinfo, locale: str = "en") -> Any:
    """A JSON value with every string in it rendered (keys stay as written)."""
    if isinstance(value, str):
        return render(value, context, tz=tz, locale=locale)
    if isinstance(value, Mapping):
        return {k: render_value(v, context, tz=tz, locale=locale) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, context, tz=tz, locale=locale) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Checking


def _hint(word: str, choices: Iterable[str], noun: str, listed: bool = False) -> str:
    """Did-you-mean when something is close; the list of choices when nothing is, or asked."""
    options = sorted(c for c in choices if c.isidentifier())  # not the tests named '=='
    close = difflib.get_close_matches(word, options, n=1)
    guess = f"did you mean {close[0]!r}?" if close else ""
    if close and not listed:
        return guess
    names = ", ".join(options[:40]) + (", …" if len(options) > 40 else "")
    return f"{guess} known {noun}: {names}".strip()


def _syntax_problem(exc: jinja2.TemplateSyntaxError) -> TemplateProblem:
    return TemplateProblem(exc.lineno or 1, 1, exc.message or "invalid template")


def _declared(tree: nodes.Template) -> set[str]:
    """Names the template sets itself (set, for, macro parameters, with) — in any scope."""
    names = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    names.update(macro.name for macro in tree.find_all(nodes.Macro))
    if any(tree.find_all(nodes.For)):
        names.add("loop")
    if any(tree.find_all((nodes.Macro, nodes.CallBlock))):
        names.update(("caller", "varargs", "kwargs"))
    return names


def _field_of_record(node: nodes.Node) -> str | None:
    """x for `record.x` / `record['x']`, else None."""
    if isinstance(node, nodes.Getattr):
        name: Any = node.attr
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        name = node.arg.value
    else:
        return None
    record = isinstance(node.node, nodes.Name) and node.node.name == "record"
    return name if record and isinstance(name, str) else None


class _Checker:
    """Walks one parsed template, collecting every problem."""

    def __init__(self, text: str, scope: TemplateScope, tree: nodes.Template) -> None:
        self.lines = _NEWLINE.split(text)  # as Jinja counts lines
        self.scope = scope
        self.tree = tree
        self.attributes = scope.record_attributes()
        self.callees = {id(call.node) for call in tree.find_all(nodes.Call)}

    def problems(self) -> list[TemplateProblem]:
        found = [*self._names()]
        for node in self.tree.find_all(nodes.Node):
            found.extend(self._node(node))
        return sorted(dict.fromkeys(found), key=lambda p: (p.line, p.column))

    def _at(self, node: nodes.Node, needle: str, message: str, hint: str | None) -> TemplateProblem:
        """A problem on the node's line, at the first whole-word `needle` there (or column 1)."""
        line = node.lineno or 1
        text = self.lines[line - 1] if line <= len(self.lines) else ""
        return TemplateProblem(line, _column(text, needle), message, hint)

    def _names(self) -> Iterator[TemplateProblem]:
        known = self.scope.variables | _ENV.globals.keys() | _declared(self.tree)
        for node in self.tree.find_all(nodes.Name):
            if node.ctx == "load" and node.name not in known:
                hint = _hint(node.name, self.scope.variables, "variables", listed=True)
                yield self._at(node, node.name, f"unknown variable {node.name!r}", hint)

    def _node(self, node: nodes.Node) -> Iterator[TemplateProblem]:
        if isinstance(node, nodes.Getattr):
            yield from self._member(node, node.node, node.attr)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            if isinstance(node.arg.value, str):
                yield from self._member(node, node.node, node.arg.value)
        elif isinstance(node, nodes.Filter | nodes.Test):
            yield from self._filter_or_test(node)
        elif isinstance(node, nodes.Call):
            yield from self._call(node)
        elif isinstance(node, _LOADER_NODES):
            message = "a template cannot include, import or extend other templates"
            yield self._at(node, "", message, "write the text in place")

    def _member(self, node: nodes.Node, obj: nodes.Node, name: str) -> Iterator[TemplateProblem]:
        at = _dotted(node) or name
        if name.startswith("_") or name in _REFUSED_ATTRIBUTES:
            hint = "names starting with _ and Python internals are refused by the sandbox"
            yield self._at(node, at, f"{name!r} cannot be read in a template", hint)
        elif _field_of_record(node) is not None:
            yield from self._record_member(node, at, name)
        elif isinstance(obj, nodes.Name) and obj.name in self.scope.variables:
            yield from self._object_member(node, at, obj.name, name)
        elif (inner := _field_of_record(obj)) is not None and id(node) not in self.callees:
            yield from self._attribute_of_value(node, at, inner, name)

    def _record_member(self, node: nodes.Node, at: str, name: str) -> Iterator[TemplateProblem]:
        if "record" in self.scope.variables and name not in self.attributes:
            hint = _hint(name, self.attributes, "fields")
            message = f"unknown field {name!r} of {self.scope.entity}"
            yield self._at(node, at, message, hint)

    def _object_member(
        self, node: nodes.Node, at: str, var: str, name: str
    ) -> Iterator[TemplateProblem]:
        attributes = VARIABLES.get(var)
        if attributes is not None and name not in attributes:
            hint = _hint(name, attributes, f"attributes of {var}", listed=True)
            yield self._at(node, at, f"{var} has no attribute {name!r}", hint)

    def _attribute_of_value(
        self, node: nodes.Node, at: str, field_name: str, name: str
    ) -> Iterator[TemplateProblem]:
        """`record.owner.name`: a reference holds an id, so this would print nothing."""
        if self.attributes.get(field_name) != "reference":
            return
        hint = (
            "the owner user is `owner`: owner.name, owner.email"
            if field_name == "owner"
            else "a template reads only this record's fields"
        )
        message = f"record.{field_name} is an id; it has no attribute {name!r}"
        yield self._at(node, at, message, hint)

    def _filter_or_test(self, node: nodes.Filter | nodes.Test) -> Iterator[TemplateProblem]:
        kind, known = (
            ("filter", _ENV.filters) if isinstance(node, nodes.Filter) else ("test", _ENV.tests)
        )
        if node.name not in known:
            hint = _hint(node.name, known, f"{kind}s", listed=True)
            yield self._at(node, node.name, f"unknown {kind} {node.name!r}", hint)
        elif isinstance(node, nodes.Filter) and node.name in FILTERS:
            yield from self._arguments(node)

    def _arguments(self, node: nodes.Filter) -> Iterator[TemplateProblem]:
        """Our filters' arguments, counted and named as their signatures allow."""
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            return
        params = _user_parameters(node.name)
        usage = f"use {node.name}({', '.join(params)})"
        if len(node.args) > len(params):
            message = f"filter {node.name!r} takes {len(params)} argument(s), not {len(node.args)}"
            yield self._at(node, node.name, message, usage)
        for key in [str(k.key) for k in node.kwargs]:  # Keywords, though typed as Pairs
            if key not in params:
                message = f"filter {node.name!r} has no argument {key!r}"
                yield self._at(node, key, message, _hint(key, params, "arguments") or usage)

    def _call(self, node: nodes.Call) -> Iterator[TemplateProblem]:
        callee = node.node
        if isinstance(callee, nodes.Getattr) and callee.attr in _MUTATING_METHODS:
            message = f"{callee.attr}() would change a value; templates only read"
            yield self._at(node, callee.attr, message, "build the text with ~ and filters")


def _user_parameters(name: str) -> list[str]:
    """A filter's parameters a template passes (after the value)."""
    return [p for p in inspect.signature(FILTERS[name]).parameters if p not in ("context", "value")]


def _column(text: str, needle: str) -> int:
    """1-based column of `needle` (a name or a.b.c, pointing at its last part) in a line of
    the template, as a whole word; else of its last part alone; else 1."""
    last = needle.rsplit(".", 1)[-1]
    for word in dict.fromkeys((needle, last)):
        found = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) if word else None
        if found:
            return found.end() - len(last) + 1
    return 1


def _dotted(node: nodes.Node) -> str | None:
    """`record.company.name` for a chain of names, as written (the needle for a column)."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr) and (base := _dotted(node.node)):
        return f"{base}.{node.attr}"
    return None


def _compile_problems(text: str) -> list[TemplateProblem]:
    """What only Jinja's compiler sees (the walk found nothing, so this is rare)."""
    try:
        _compiled(text)
    except jinja2.TemplateSyntaxError as exc:
        return [_syntax_problem(exc)]
    return []


def check(text: str, scope: TemplateScope) -> list[TemplateProblem]:
    """Every problem of one template, found when the bundle loads rather than when it sends."""
    try:
        tree = _ENV.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        return [_syntax_problem(exc)]
    return _Checker(text, scope, tree).problems() or _compile_problems(text)


def _pointer_part(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def check_value(
    value: Any, scope: TemplateScope, *, pointer: str = ""
) -> list[tuple[str, TemplateProblem]]:
    """The problems of every string in a JSON value, each with its JSON pointer."""
    if isinstance(value, str):
        return [(pointer, problem) for problem in check(value, scope)]
    if isinstance(value, Mapping):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    return [
        found
        for key, item in items
        for found in check_value(item, scope, pointer=f"{pointer}/{_pointer_part(key)}")
    ]
