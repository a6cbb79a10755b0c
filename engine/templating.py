"""Message templates of campaign actions: Jinja2 in its sandbox, checked when the bundle loads.

A template can read the record and format it, and can do nothing else: it renders in an
ImmutableSandboxedEnvironment (no private or internal attributes, no mutating methods), with a
small set of filters. `check` walks the parsed template so that an unknown field, variable or
filter is a config error with a line and a hint, never an empty string in a customer's inbox.

Every render is bounded in time and memory: a budget of rendering time (the tenant's
`template_budget_ms`; compiling and the work between an action's renders do not count) is
checked at each loop step, operator, call, filter and piece of output; `range`, loop steps,
integer sizes, the size of every text or list a template builds (checked before it is built)
and the total it builds are capped. Going past a bound is a TemplateError with a reason in
zh-CN and en. Pure: no I/O, no database.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache, update_wrapper, wraps
from types import BuiltinMethodType, MappingProxyType, MethodType, TracebackType
from typing import Any

import jinja2
from jinja2 import nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import make_attrgetter
from jinja2.runtime import Context as JinjaContext
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import (
    UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    UNSAFE_COROUTINE_ATTRIBUTES,
    UNSAFE_GENERATOR_ATTRIBUTES,
    ImmutableSandboxedEnvironment,
    SandboxedEscapeFormatter,
    SandboxedFormatter,
)
from jinja2.utils import Namespace
from markupsafe import Markup

from engine.config.model import Label
from engine.errors import Signal
from engine.i18n import CATALOGUE, EN, text

MAX_OUTPUT = 64 * 1024  # characters of one rendered string, and of any text or list built
MAX_EXPONENT = 1000  # `9 ** (9 ** 9)` would keep a worker busy for hours
MAX_MESSAGE = 200  # a runtime error's message, as shown to people
DEFAULT_BUDGET_MS = 200  # one render's time, unless the tenant sets template_budget_ms
MAX_RANGE = 10_000  # numbers in one range()
MAX_STEPS = 100_000  # loop steps of one render, all loops together
MAX_INT_BITS = 4096  # about 1,233 digits: big enough for money, too small to spin on
MAX_BUILT = 1_000_000  # characters or items one render builds in all: what bounds its memory
MAX_DEPTH = 50  # macro calls and recursive loops inside one another

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


class TemplateError(Signal):
    """A template that could not be rendered; the message is short and safe to show.

    A bound that was reached has a `code` (engine/i18n/templates.py) and its `params`, so the
    reason reads in Chinese as well; other errors carry Jinja's or Python's own (English) text."""

    def __init__(
        self,
        message: str,
        line: int | None = None,
        *,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.code = code
        self.params = dict(params or {})

    @classmethod
    def bound(cls, code: str, **params: Any) -> TemplateError:
        """A bound that was reached."""
        return cls(text(code, EN, **params), code=code, params=params)

    def __str__(self) -> str:
        return self.text(EN)

    def text(self, locale: str | None = EN) -> str:
        """The reason in a locale (English for errors without a code)."""
        code = self.code if _known(self.code) else None
        message = text(code, locale, **self.params) if code else self.message
        return (
            text("template.line", locale, line=self.line, message=message) if self.line else message
        )

    def as_dict(self) -> dict[str, Any]:
        """What a decision stores, so the reason can be shown in either language later."""
        return {
            "code": self.code or "template",
            "params": self.params,
            "line": self.line,
            "message": str(self),
        }


def error_text(error: Mapping[str, Any], locale: str | None) -> str:
    """A stored TemplateError (its as_dict) as text in a locale."""
    code = str(error.get("code", ""))
    params = error.get("params")
    line = error.get("line")
    found = TemplateError(
        str(error.get("message", "")),
        line if isinstance(line, int) else None,
        code=code if _known(code) and isinstance(params, Mapping) else None,
        params=params if isinstance(params, Mapping) else None,
    )
    if found.code is None:  # the stored message already has its line
        return found.message
    return found.text(locale)


def _known(code: str | None) -> bool:
    """A bound's code (a stored one may be anything)."""
    return code is not None and code.startswith("template.") and code in CATALOGUE


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
# Bounds: what one render may spend


class _Budget:
    """Rendering time and counters: of one render, or of every render in a shared_budget."""

    __slots__ = ("built", "depth", "ms", "running", "spent", "started", "steps")

    def __init__(self, ms: int) -> None:
        self.ms = ms
        self.spent = 0.0  # seconds spent rendering so far
        self.started = 0.0
        self.running = 0
        self.steps = 0
        self.built = 0
        self.depth = 0

    def tick(self) -> None:
        if self.running and self.spent + time.monotonic() - self.started > self.ms / 1000:
            raise TemplateError.bound("template.budget", ms=self.ms)

    @contextmanager
    def clock(self) -> Iterator[None]:
        """Time counts only while a template renders: not while it is compiled (once per
        process), nor the database work between the renders of one action — a busy
        database never fails a template."""
        if not self.running:
            self.started = time.monotonic()
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            if not self.running:
                self.spent += time.monotonic() - self.started

    def step(self) -> None:
        """One loop iteration."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TemplateError.bound("template.steps", n=MAX_STEPS)
        self.tick()

    def charge(self, size: int) -> None:
        """Count what an operation built; past MAX_BUILT the render stops."""
        self.built += size
        if self.built > MAX_BUILT:
            raise TemplateError.bound("template.built", n=MAX_BUILT)

    @contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise TemplateError.bound("template.depth", n=MAX_DEPTH)
            yield
        finally:
            self.depth -= 1


_BUDGET: ContextVar[_Budget | None] = ContextVar("tidepool_template_budget", default=None)


@contextmanager
def shared_budget(budget_ms: int) -> Iterator[None]:
    """Every render inside shares one fresh budget of `budget_ms`: an action that renders
    several texts (a title and a body for each reader, a task's fields) waits at most that
    long in all. A scope inside another starts its own (an action of a write an action made)."""
    token = _BUDGET.set(_Budget(budget_ms))
    try:
        yield
    finally:
        _BUDGET.reset(token)


@contextmanager
def _bounded(budget_ms: int) -> Iterator[None]:
    if _BUDGET.get() is not None:  # inside shared_budget, or a string of render_value's value
        yield
        return
    with shared_budget(budget_ms):
        yield


def _tick() -> _Budget | None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.tick()
    return budget


_CONTAINERS = (dict, list, tuple, Mapping, set, frozenset, Namespace)


def _atom_size(value: Any) -> int:
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if value is None or isinstance(value, jinja2.Undefined):
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 1  # at least its decimal digits
    if isinstance(value, Decimal):
        return _number_width(value)  # 1E+999999 is a million digits as an int or '{:f}'
    return 32  # a float, a date, a macro: a short text


def _size(value: Any, limit: int = MAX_OUTPUT) -> int:
    """Characters or items in a value, counted through nesting — a list holding one long text
    many times is as big as its copies would be as text; counting stops once past `limit`."""
    if not isinstance(value, _CONTAINERS):
        return _atom_size(value)
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, Namespace):
            item = object.__getattribute__(item, "_Namespace__attrs")
        total += 1 + len(item)
        if total > limit:
            break
        parts = itertools.chain(item.keys(), item.values()) if isinstance(item, Mapping) else item
        for part in parts:
            if isinstance(part, str):
                total += len(part)
            elif isinstance(part, _CONTAINERS):
                stack.append(part)
            else:
                total += _atom_size(part)
    return total


def _shallow(value: Any) -> int:
    """What building `value` cost (its items were counted when they were built)."""
    return len(value) if isinstance(value, str | bytes | bytearray | list | tuple | dict) else 0


def _fits(size: int, limit: int = MAX_OUTPUT) -> None:
    if size > limit:
        raise TemplateError.bound("template.too_long", n=limit)


def _text_fits(value: Any) -> None:
    """`value` can be turned into a text of a bounded size (a list's text is its items')."""
    _fits(_size(value, MAX_OUTPUT))


def _bits_fit(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise TemplateError.bound(
            "template.integer", n=MAX_INT_BITS, digits=round(MAX_INT_BITS * math.log10(2))
        )


def _int_fits(value: Any) -> None:
    if isinstance(value, int):
        _bits_fit(value.bit_length())


def _items(value: Any) -> list[Any]:
    """An iterable's items, refusing more than MAX_OUTPUT and ticking the clock as it goes."""
    budget = _BUDGET.get()
    out: list[Any] = []
    for item in value:
        out.append(item)
        if len(out) > MAX_OUTPUT:
            raise TemplateError.bound("template.too_long", n=MAX_OUTPUT)
        if budget is not None and not len(out) % 256:
            budget.tick()
    return out


def _total(values: Iterable[Any], each: int = 0) -> int:
    """The summed size of values (plus `each` between them), stopping once past the cap."""
    total = -each
    for value in values:
        total += _size(value, MAX_OUTPUT) + each
        if total > MAX_OUTPUT:
            break
    return max(total, 0)


def _range(*args: int) -> range:
    numbers = range(*args)
    try:
        too_many = len(numbers) > MAX_RANGE
    except OverflowError:  # longer than a machine integer
        too_many = True
    if too_many:
        raise TemplateError.bound("template.range", n=MAX_RANGE)
    return numbers


class _Loop:
    """What a `for` iterates: each item is a step (len kept, for loop.length)."""

    __slots__ = ("_budget", "_items")

    def __init__(self, items: Any, budget: _Budget | None) -> None:
        self._items = items
        self._budget = budget

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        for item in self._items:
            if self._budget is not None:
                self._budget.step()
            yield item


# The size an operation would build, known before it builds it ---------------------------------

_PERCENT = re.compile(r"%(?:\(([^)]*)\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)", re.S)
_DIGITS = re.compile(r"\d+")
_NUMBER_TEXT = 330  # the longest float in fixed notation (1e308 → 309 digits) and then some


def _number(text: str) -> int:
    return int(text) if len(text) < 10 else MAX_OUTPUT + 1


def _number_width(value: Any) -> int:
    """How long a number can get when formatted ('{:f}' of a Decimal writes its exponent out)."""
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        return len(value.as_tuple().digits) + abs(exponent if isinstance(exponent, int) else 0)
    return _NUMBER_TEXT if isinstance(value, float) else 0  # an int's digits are its size


def _percent_size(fmt: str | bytes, args: Any) -> int:
    """`fmt % args`: each conversion is at most its width and precision and its value's text."""
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    named = args if isinstance(args, Mapping) else None
    positional = iter(args if isinstance(args, tuple) else (args,))
    total = len(text)
    for found in _PERCENT.finditer(text):
        key, width, precision, kind = found.groups()
        if kind == "%":
            continue
        for part in (width, precision):
            if part == "*":  # taken from the arguments
                star = next(positional, 0)
                total += abs(star) if isinstance(star, int) else 0
            elif part:
                total += _number(part)
        value = named.get(key) if named is not None and key is not None else next(positional, None)
        total += _size(value) + _number_width(value)
        if total > MAX_OUTPUT:
            break
    return total


def _spec_size(value: Any, spec: str) -> int:
    """`format(value, spec)`: its widest number in the spec plus the value's own text."""
    widest = max((_number(d) for d in _DIGITS.findall(spec)), default=0)
    return widest + _size(value) + _number_width(value)


def _repeat_size(left: Any, right: Any) -> int:
    """The size `left * right` would have if it repeats a sequence, else 0."""
    if isinstance(left, int) and not isinstance(right, int):
        left, right = right, left
    if isinstance(left, str | bytes | list | tuple) and isinstance(right, int):
        return _size(left, MAX_OUTPUT) * max(right, 0)
    return 0


def _binop_fits(operator: str, left: Any, right: Any) -> None:
    """Refuse, before computing it, a result that would be too big to build."""
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
        raise TemplateError.bound("template.exponent", n=MAX_EXPONENT)
    if operator == "**" and ints and abs(left) > 1 and right > 0:
        _bits_fit(math.floor(right * math.log2(abs(left))) + 1)
    elif operator == "*" and ints:
        _bits_fit(left.bit_length() + right.bit_length())
    elif operator == "*":
        _fits(_repeat_size(left, right))
    elif operator == "+" and isinstance(left, str | bytes | list | tuple):
        _fits(_total((left, right)))
    elif operator == "%" and isinstance(left, str | bytes):
        _fits(_percent_size(left, right))


def _arg(
    args: tuple[Any, ...], kwargs: Mapping[str, Any], at: int, name: str, default: Any = None
) -> Any:
    return args[at] if len(args) > at else kwargs.get(name, default)


Sizer = Callable[[Any, tuple[Any, ...], dict[str, Any]], tuple[int, tuple[Any, ...]]]


def _width(text: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, tuple[Any, ...]]:
    width = _arg(args, kwargs, 0, "width")
    return (max(len(text), width) if isinstance(width, int) else 0), args


def _tabs(text: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, tuple[Any, ...]]:
    size = _arg(args, kwargs, 0, "tabsize", 8)
    tab = "\t" if isinstance(text, str) else b"\t"
    return (len(text) + text.count(tab) * max(size, 0) if isinstance(size, int) else 0), args


def _replaced_size(text: Any, old: Any, new: Any, count: Any) -> int:
    if not (type(old) is type(new) and isinstance(old, type(text))):
        return 0  # the call itself refuses mixed types
    times = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    return len(text) + times * max(len(new) - len(old), 0)


def _replace(
    text: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[int, tuple[Any, ...]]:
    old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
    return _replaced_size(text, old, new, _arg(args, kwargs, 2, "count", -1)), args


def _join(text: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, tuple[Any, ...]]:
    if not args:
        return 0, args
    items = _items(args[0])
    return _total(items, len(text)), (items, *args[1:])


def _translate(
    text: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[int, tuple[Any, ...]]:
    table = _arg(args, kwargs, 0, "table")
    if not isinstance(table, Mapping):
        return len(text), args  # a 256-entry table maps one to one
    widest = max((len(v) for v in table.values() if isinstance(v, str | bytes)), default=1)
    return len(text) * max(widest, 1), args


def _to_bytes(
    number: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[int, tuple[Any, ...]]:
    length = _arg(args, kwargs, 0, "length", 1)
    return (length if isinstance(length, int) else 0), args


# Methods of these types a template may call: the ones whose result can outgrow their input by
# more than a small factor are sized first; the others cannot. A method not named here (a new
# one in a later Python) is refused rather than trusted.
_GROWING: Mapping[str, Sizer] = MappingProxyType(
    {
        "center": _width,
        "ljust": _width,
        "rjust": _width,
        "zfill": _width,
        "expandtabs": _tabs,
        "replace": _replace,
        "join": _join,
        "translate": _translate,
        "to_bytes": _to_bytes,
    }
)
_TEXT_METHODS = frozenset(
    {"capitalize", "casefold", "count", "decode", "encode", "endswith", "find", "format"}
    | {"format_map", "fromhex", "hex", "index", "isalnum", "isalpha", "isascii", "isdecimal"}
    | {"isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace", "istitle"}
    | {"isupper", "lower", "lstrip", "maketrans", "partition", "removeprefix", "removesuffix"}
    | {"rfind", "rindex", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith"}
    | {"strip", "swapcase", "title", "upper", "escape", "striptags", "unescape"}  # + Markup's
    | {"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "translate"}
)
_NUMBER_METHODS = frozenset(
    {"as_integer_ratio", "bit_count", "bit_length", "conjugate", "from_bytes", "to_bytes"}
    | {"fromhex", "hex", "is_integer"}
)
METHODS: tuple[tuple[type, frozenset[str]], ...] = (
    (str, _TEXT_METHODS),
    (bytes, _TEXT_METHODS),
    (bytearray, _TEXT_METHODS | {"copy"}),
    (int, _NUMBER_METHODS),
    (float, _NUMBER_METHODS),
    (list, frozenset({"copy", "count", "index"})),
    (tuple, frozenset({"count", "index"})),
    (Mapping, frozenset({"copy", "fromkeys", "get", "items", "keys", "values"})),
)


def _method_args(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """A method call's arguments once it is known to build a bounded result (join's items are
    read once, here, so a generator is not read twice)."""
    owner = getattr(method, "__self__", None)
    if not isinstance(method, BuiltinMethodType | MethodType) or isinstance(owner, type):
        return args
    name = method.__name__
    allowed = next((names for kind, names in METHODS if isinstance(owner, kind)), None)
    if allowed is None:
        return args
    if name not in allowed:
        raise TemplateError.bound("template.method", method=name)
    sizer = _GROWING.get(name)
    if sizer is None:
        return args
    size, args = sizer(owner, args, kwargs)
    _fits(size)
    return args


# Filters: each is sized like the methods; a filter added to JINJA_FILTERS without a line
# here stops the module from loading.
def _join_filter(call: inspect.BoundArguments) -> None:
    items = _items(call.arguments["value"])
    attribute = call.arguments.pop("attribute", None)
    if attribute is not None:
        get = make_attrgetter(call.arguments["eval_ctx"].environment, attribute)
        items = [get(item) for item in items]
    _fits(_total(items, _size(call.arguments.get("d", ""))))
    call.arguments["value"] = items


def _replace_filter(call: inspect.BoundArguments) -> None:
    a = call.arguments
    for name in ("s", "old", "new"):
        _text_fits(a.get(name))
    count = a.get("count")
    _fits(_replaced_size(str(a["s"]), str(a["old"]), str(a["new"]), -1 if count is None else count))


def _sum_filter(call: inspect.BoundArguments) -> None:
    items = _items(call.arguments["iterable"])
    attribute = call.arguments.pop("attribute", None)
    if attribute is not None:
        items = [make_attrgetter(call.arguments["environment"], attribute)(i) for i in items]
    start = call.arguments.get("start", 0)
    if isinstance(start, list | tuple):  # sum() would copy the list once per item
        _fits(_total([start, *items]))
        wrong = next((i for i in items if type(i) is not type(start)), None)
        if wrong is not None:
            kind = type(start).__name__
            raise TypeError(f'can only concatenate {kind} (not "{type(wrong).__name__}") to {kind}')
        call.arguments["start"] = type(start)(itertools.chain(start, *items))
        items = []
    call.arguments["iterable"] = items


_TEXT, _ITEMS = "text", "items"  # filters that turn their value into text / walk its items
FILTER_BOUNDS: Mapping[str, str | Callable[[inspect.BoundArguments], None]] = MappingProxyType(
    {
        **dict.fromkeys(("string", "tojson", "upper", "lower", "title", "capitalize"), _TEXT),
        **dict.fromkeys(("trim", "truncate", "urlencode", "int", "float", "money"), _TEXT),
        **dict.fromkeys(("date", "datetime"), _TEXT),
        **dict.fromkeys(("abs", "count", "d", "default", "first", "last", "length"), _ITEMS),
        **dict.fromkeys(("list", "max", "min", "round", "sort", "unique"), _ITEMS),
        **dict.fromkeys(("days_until", "days_since"), _ITEMS),
        "join": _join_filter,
        "replace": _replace_filter,
        "sum": _sum_filter,
    }
)


def _bounded_filter(
    func: Callable[..., Any], bound: str | Callable[[inspect.BoundArguments], None]
) -> Callable[..., Any]:
    signature = inspect.signature(func)
    value_at = 0 if getattr(func, "jinja_pass_arg", None) is None else 1

    @wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget = _BUDGET.get()
        if budget is None:  # folding a constant while compiling: leave it to the render
            raise nodes.Impossible()
        budget.tick()
        if bound == _TEXT and len(args) > value_at:
            _text_fits(args[value_at])
        elif callable(bound):
            call = signature.bind(*args, **kwargs)
            bound(call)
            args, kwargs = call.args, call.kwargs
        result = func(*args, **kwargs)
        _int_fits(result)
        budget.charge(_shallow(result))
        return result

    return bounded


# ---------------------------------------------------------------------------------------------
# The sandbox


def _finalize(value: Any) -> Any:
    """`{{ x }}` of a missing value (None) prints nothing rather than 'None'; everything
    printed counts, in macros and `set` blocks too, not only at the top."""
    if value is None:
        return ""
    budget = _tick()
    if budget is not None:
        size = len(value) if isinstance(value, str) else _size(value)
        if size > MAX_OUTPUT:  # a list's text is as long as its items'
            raise TemplateError.bound("template.output", n=MAX_OUTPUT)
        budget.charge(size)
    return value


class _Formatter(SandboxedFormatter):
    """str.format's fields, sized before they are formatted and counted after."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        return _formatted(value, format_spec, super().format_field)


class _EscapeFormatter(SandboxedEscapeFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        return _formatted(value, format_spec, super().format_field)


def _formatted(value: Any, spec: str, format_field: Callable[[Any, str], Any]) -> Any:
    budget = _tick()
    _fits(_spec_size(value, spec))
    text = format_field(value, spec)
    if budget is not None:
        budget.charge(len(text))
    return text


class _Generator(CodeGenerator):
    """Jinja's compiler, with the places a template could spin without calling back into the
    sandbox routed through it: loop iterables, `~`, and the template's own text."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop_iterables: set[int] = set()

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if id(node) not in self._loop_iterables:
            return super().visit(node, *args, **kwargs)
        self.write("environment.tidepool_loop(")  # each item a step
        super().visit(node, *args, **kwargs)
        self.write(")")
        return None

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        else:
            join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        self.write(f"environment.tidepool_concat({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.tidepool_text({super()._output_const_repr(group)})"


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, stricter: refusals raise, data keys win over dict methods,
    and every operator, call and loop step is checked against the render's bounds."""

    code_generator_class = _Generator
    intercepted_binops = frozenset(ImmutableSandboxedEnvironment.default_binop_table)
    intercepted_unops = frozenset(ImmutableSandboxedEnvironment.default_unop_table)

    def call_binop(self, context: JinjaContext, operator: str, left: Any, right: Any) -> Any:
        budget = _tick()
        _binop_fits(operator, left, right)
        result = super().call_binop(context, operator, left, right)
        _int_fits(result)
        if budget is not None:
            budget.charge(_shallow(result))
        return result

    def call_unop(self, context: JinjaContext, operator: str, arg: Any) -> Any:
        _tick()
        return super().call_unop(context, operator, arg)

    def call(self, context: JinjaContext, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        budget = _tick()
        args = _method_args(obj, args, kwargs)
        if budget is None:
            return super().call(context, obj, *args, **kwargs)
        if isinstance(obj, LoopContext) and args:  # `loop(children)` of a recursive loop
            args = (_Loop(args[0], budget), *args[1:])
        if isinstance(obj, Macro | LoopContext):
            with budget.nested():
                result = super().call(context, obj, *args, **kwargs)
        else:
            result = super().call(context, obj, *args, **kwargs)
        _int_fits(result)
        budget.charge(_shallow(result))
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """str.format / format_map with fields sized first (Jinja's own, bounded)."""
        if not isinstance(value, MethodType | BuiltinMethodType) or value.__name__ not in (
            "format",
            "format_map",
        ):
            return None
        text = value.__self__
        if not isinstance(text, str):
            return None
        formatter: SandboxedFormatter = (
            _EscapeFormatter(self, escape=text.escape)
            if isinstance(text, Markup)
            else _Formatter(self)
        )
        is_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                return type(text)(formatter.vformat(text, (), args[0]))
            return type(text)(formatter.vformat(text, args, kwargs))

        return update_wrapper(bounded, value)

    def tidepool_loop(self, items: Any) -> _Loop:
        return _Loop(items, _BUDGET.get())

    def tidepool_concat(self, join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        budget = _tick()
        _fits(_total(parts))
        text = join(parts)
        if budget is not None:
            budget.charge(len(text))
        return text

    def tidepool_text(self, text: str) -> str:
        """The template's own text, at each place it is written out (a loop repeats it)."""
        budget = _tick()
        if budget is not None:
            budget.charge(len(text))
        return text

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
    filters = {name: env.filters[name] for name in JINJA_FILTERS} | dict(FILTERS)
    env.filters = {name: _bounded_filter(f, FILTER_BOUNDS[name]) for name, f in filters.items()}
    env.globals = {"range": _range, "dict": env.globals["dict"], "namespace": Namespace}
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
            raise TemplateError.bound("template.output", n=MAX_OUTPUT)
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


def _render(text: str, context: Mapping[str, Any], tz: tzinfo, locale: str) -> str:
    template = _template(text)
    variables = {**_localized(context, locale), _TZ: tz}
    budget = _BUDGET.get()
    try:
        if budget is None:
            return _capped(template.generate(variables))
        with budget.clock():
            return _capped(template.generate(variables))
    except TemplateError as exc:
        if exc.line is None:
            exc.line = _template_line(exc.__traceback__)
        raise
    except Exception as exc:  # anything a template does wrong, never a traceback
        raise _runtime_error(exc) from exc


def render(
    text: str,
    context: Mapping[str, Any],
    *,
    tz: tzinfo,
    locale: str = "en",
    budget_ms: int = DEFAULT_BUDGET_MS,
) -> str:
    """The template's text for one record; every failure is a TemplateError.

    `context` holds record, owner, campaign, variant, now (an aware datetime), tenant; `tz`
    is the tenant's time zone, which date filters show moments in. Past `budget_ms` of work
    (or any other bound) the render stops with a TemplateError; inside `shared_budget` the
    render spends from that budget instead."""
    with _bounded(budget_ms):
        return _render(text, context, tz, locale)


def render_value(
    value: Any,
    context: Mapping[str, Any],
    *,
    tz: tzinfo,
    locale: str = "en",
    budget_ms: int = DEFAULT_BUDGET_MS,
) -> Any:
    """A JSON value with every string in it rendered (keys stay as written), all of them
    within one budget."""
    with _bounded(budget_ms):
        return _render_value(value, context, tz, locale)


def _render_value(value: Any, context: Mapping[str, Any], tz: tzinfo, locale: str) -> Any:
    if isinstance(value, str):
        return _render(value, context, tz, locale)
    if isinstance(value, Mapping):
        return {k: _render_value(v, context, tz, locale) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_value(v, context, tz, locale) for v in value]
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
