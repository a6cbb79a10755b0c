"""What the page shows for each field of a public form: the input for its type, its label and
help in the visitor's language (the form's over the entity's), whether it is visible and
required now (the engine's FormState), what was entered and what is wrong with it.

The templates only lay these out; every decision about a field is made here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from admin_ui.hosted.values import many, split_text
from engine.config.model import FieldDef, FormField, Label
from engine.fields.types import FIELD_TYPES, StringType
from engine.rules.forms import FormState
from engine.service.public_forms import PublicForm

Attrs = tuple[tuple[str, str], ...]

# type → (input type, extra attributes); the types not here have widgets of their own
_INPUTS: dict[str, tuple[str, Attrs]] = {
    "string": ("text", ()),
    "integer": ("number", (("step", "1"), ("inputmode", "numeric"))),
    "decimal": ("number", (("step", "any"), ("inputmode", "decimal"))),
    "money": ("number", (("step", "any"), ("inputmode", "decimal"))),
    "date": ("date", ()),
    "datetime": ("datetime-local", ()),
    "phone": ("tel", (("autocomplete", "tel"), ("inputmode", "tel"))),
    "email": ("email", (("autocomplete", "email"), ("inputmode", "email"))),
    "url": ("url", (("inputmode", "url"), ("placeholder", "https://"))),
    "reference": ("text", (("autocomplete", "off"),)),
    "tags": ("text", ()),  # without options: one text, split on commas
}
_BOUNDED = frozenset({"integer", "decimal", "money", "date"})  # min/max apply to the input


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    chosen: bool


@dataclass(frozen=True)
class Widget:
    name: str
    kind: str  # input | textarea | select | radios | checkboxes
    input_type: str  # for kind "input": text, number, tel, email, url, date, …
    label: str
    help: str
    value: str  # what an input or textarea shows
    choices: tuple[Choice, ...]
    attrs: Attrs  # more attributes of the input (maxlength, min, step, autocomplete, …)
    required: bool
    visible: bool
    errors: tuple[str, ...]
    split: bool = False  # one text of several values (tags): the page says to use commas

    @property
    def id(self) -> str:
        return f"f-{self.name}"

    @property
    def group(self) -> bool:
        """Several inputs under one legend (radios, checkboxes)."""
        return self.kind in ("radios", "checkboxes")

    @property
    def described_by(self) -> str:
        parts = [
            f"{self.id}-help" if self.help or self.split else "",
            f"{self.id}-error" if self.errors else "",
        ]
        return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class Section:
    title: str | None
    widgets: tuple[Widget, ...]


@dataclass(frozen=True)
class Page:
    """Everything the form needs to draw one state of the page."""

    found: PublicForm
    locale: str
    state: FormState
    raw: Mapping[str, Sequence[str]]  # the values entered (or the defaults), as text
    errors: Mapping[str, Sequence[str]]  # field → messages in the visitor's language
    yes_no: tuple[str, str]  # the boolean radios' labels
    choose: str  # the select's empty choice

    def text(self, label: Label | None) -> str:
        return label.get(self.locale, self.found.bundle.tenant.locale) if label else ""


def sections(page: Page) -> list[Section]:
    """The form's sections in bundle order, or one untitled section in form order."""
    shown = {ff.name: ff for ff in page.found.form.fields if not ff.hidden}
    if not page.found.form.sections:
        return [Section(None, tuple(widget(page, ff) for ff in shown.values()))]
    return [
        Section(
            page.text(s.label) or None,
            tuple(widget(page, shown[name]) for name in s.fields if name in shown),
        )
        for s in page.found.form.sections
    ]


def label_of(page: Page, ff: FormField) -> str:
    field = page.found.entity.fields[ff.name]
    return page.text(ff.label or field.label) or ff.name


def widget(page: Page, ff: FormField) -> Widget:
    field = page.found.entity.fields[ff.name]
    values = list(page.raw.get(ff.name, ()))
    kind, input_type, choices = _kind(page, field, values)
    return Widget(
        name=ff.name,
        kind=kind,
        input_type=input_type,
        label=label_of(page, ff),
        help=page.text(ff.help or field.help),
        value=values[0] if values and kind in ("input", "textarea") else "",
        choices=choices,
        attrs=attributes(field),
        required=ff.name in page.state.required,
        visible=ff.name in page.state.visible,
        errors=tuple(page.errors.get(ff.name, ())),
        split=split_text(field),
    )


def _kind(page: Page, field: FieldDef, values: list[str]) -> tuple[str, str, tuple[Choice, ...]]:
    """The widget's kind, its input type and its choices (with what was chosen)."""
    if field.type == "text":
        return "textarea", "", ()
    if field.type == "boolean":
        yes, no = page.yes_no
        picked = values[0].strip().lower() if values else ""
        return (
            "radios",
            "radio",
            (
                Choice("true", yes, picked == "true"),
                Choice("false", no, picked == "false"),
            ),
        )
    options = tuple(
        Choice(o.value, page.text(o.label) or o.value, o.value in values) for o in field.options
    )
    if many(field):
        return "checkboxes", "checkbox", options
    if field.type == "enum":
        picked = values[0] if values else ""
        empty = Choice("", page.choose, picked == "")
        chosen = tuple(Choice(c.value, c.label, c.value == picked) for c in options)
        return "select", "", (empty, *chosen)
    return "input", _INPUTS.get(field.type, ("text", ()))[0], ()


def attributes(field: FieldDef) -> Attrs:
    """The input's own limits and hints: they help the visitor; the engine decides."""
    attrs = list(_INPUTS.get(field.type, ("", ()))[1])
    kind = FIELD_TYPES[field.type]
    if isinstance(kind, StringType):  # string and text: the engine's own limit by default
        attrs.append(("maxlength", str(field.max_length or kind.default_max)))
        if field.min_length:
            attrs.append(("minlength", str(field.min_length)))
    if field.type in _BOUNDED:
        attrs += [(key, _bound(value)) for key, value in (("min", field.min), ("max", field.max))]
    return tuple((k, v) for k, v in attrs if v)


def _bound(value: Decimal | str | None) -> str:
    if value is None:
        return ""
    return format(value, "f") if isinstance(value, Decimal) else str(value)
