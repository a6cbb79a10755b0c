"""Located YAML loading: duplicate keys, YAML 1.2 scalars, positions, syntax errors, limits."""

from __future__ import annotations

import time
from typing import Any

import pytest

from engine.config.errors import ConfigError
from engine.config.yamlload import MAX_NODES, SourceFile, escape_pointer, join_pointer, load_yaml


def load_ok(text: str) -> SourceFile:
    source, errors = load_yaml("t.yaml", text)
    assert errors == [], [e.format() for e in errors]
    return source


def load_bad(text: str) -> list[ConfigError]:
    _, errors = load_yaml("t.yaml", text)
    assert errors, "expected errors"
    return errors


def data(text: str) -> Any:
    return load_ok(text).data


# --- duplicate keys ----------------------------------------------------------------------------


def test_duplicate_key_is_refused_and_both_lines_are_named() -> None:
    text = "fields:\n  phone: {type: phone}\n  email: {type: email}\n  phone: {type: string}\n"
    source, errors = load_yaml("t.yaml", text)
    assert len(errors) == 1
    error = errors[0]
    assert (error.line, error.col) == (4, 3)  # the second 'phone'
    assert error.code == "duplicate_key"
    assert error.pointer == "/fields/phone"
    assert "duplicate key 'phone'" in error.message
    assert error.hint is not None and "line 2" in error.hint  # the first 'phone'
    assert source.data["fields"]["phone"] == {"type": "phone"}  # the first one is kept


def test_duplicate_key_in_a_flow_mapping() -> None:
    (error,) = load_bad("a: {x: 1, y: 2, x: 3}\n")
    assert (error.line, error.col, error.pointer) == (1, 17, "/a/x")
    assert error.hint is not None and "line 1" in error.hint


def test_keys_equal_as_text_are_duplicates() -> None:
    (error,) = load_bad("1: a\n'1': b\n")
    assert error.code == "duplicate_key" and error.line == 2


def test_same_key_in_different_mappings_is_fine() -> None:
    assert data("a: {x: 1}\nb: {x: 2}\n") == {"a": {"x": 1}, "b": {"x": 2}}


def test_every_duplicate_is_reported() -> None:
    errors = load_bad("a: 1\na: 2\nb: {c: 1, c: 2}\na: 3\n")
    assert [(e.line, e.pointer) for e in errors] == [(2, "/a"), (3, "/b/c"), (4, "/a")]


# --- scalars: YAML 1.2 core schema -------------------------------------------------------------


@pytest.mark.parametrize("word", ["no", "yes", "on", "off", "No", "YES", "On", "y", "n"])
def test_yaml_11_booleans_stay_text(word: str) -> None:
    assert data(f"value: {word}\n") == {"value": word}


@pytest.mark.parametrize(
    ("word", "value"), [("true", True), ("false", False), ("True", True), ("FALSE", False)]
)
def test_true_and_false_are_booleans(word: str, value: bool) -> None:
    assert data(f"value: {word}\n")["value"] is value


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01",
        "2026-01-31T09:30:00+08:00",
        "2026-01-31 09:30:00",
        "2001-12-14t21:59:43.10-05:00",
    ],
)
def test_dates_and_timestamps_stay_text(text: str) -> None:
    assert data(f"at: {text}\n") == {"at": text}


def test_explicit_timestamp_tag_stays_text() -> None:
    assert data("at: !!timestamp 2026-01-01\n") == {"at": "2026-01-01"}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("-7", -7),
        ("+3", 3),
        ("021", 21),  # YAML 1.1 read this as octal 17
        ("0x1F", 31),
        ("1.5", 1.5),
        ("-0.25", -0.25),
        (".inf", float("inf")),
    ],
)
def test_numbers(text: str, value: object) -> None:
    assert data(f"n: {text}\n")["n"] == value


@pytest.mark.parametrize("text", ["1:30", "190:20:30", "1_000", "0b101", "1_000.5", "0o17"])
def test_yaml_11_number_forms_stay_text(text: str) -> None:
    assert data(f"n: {text}\n") == {"n": text}


@pytest.mark.parametrize("text", ["~", "null", "Null", ""])
def test_nulls(text: str) -> None:
    assert data(f"n: {text}\n") == {"n": None}


def test_quoted_scalars_are_always_text() -> None:
    assert data("a: 'true'\nb: \"42\"\nc: '2026-01-01'\n") == {
        "a": "true",
        "b": "42",
        "c": "2026-01-01",
    }


def test_keys_are_text_as_written() -> None:
    assert data("true: a\nno: b\n1: c\n2026-01-01: d\n") == {
        "true": "a",
        "no": "b",
        "1": "c",
        "2026-01-01": "d",
    }


def test_chinese_text() -> None:
    assert data("name: 超兔演示\nlabel: {zh-CN: 客户, en: Customer}\n") == {
        "name": "超兔演示",
        "label": {"zh-CN": "客户", "en": "Customer"},
    }


def test_null_key_is_refused() -> None:
    (error,) = load_bad("~: a\nb: 1\n")
    assert error.message == "a mapping key must be plain text"
    assert (error.line, error.col) == (1, 1)


def test_complex_key_is_refused() -> None:
    (error,) = load_bad("? [a, b]\n: 1\n")
    assert error.message == "a mapping key must be plain text"


@pytest.mark.parametrize(
    ("text", "tag", "col"),
    [
        ("a: !secret foo\n", "!secret", 4),
        ("a: !!binary aGVsbG8=\n", "!!binary", 4),
        ("a: !!set {x, y}\n", "!!set", 4),
        ("a: !custom [1]\n", "!custom", 4),
    ],
)
def test_unsupported_tags_are_located_errors(text: str, tag: str, col: int) -> None:
    (error,) = load_bad(text)
    assert error.code == "yaml_tag"
    assert error.message == f"YAML tag '{tag}' is not supported"
    assert (error.line, error.col, error.pointer) == (1, col, "/a")


def test_empty_document_is_an_empty_mapping() -> None:
    assert data("") == {}
    assert data("# only a comment\n") == {}


def test_top_level_can_be_any_node() -> None:
    assert data("- a\n- b\n") == ["a", "b"]
    assert data("hello\n") == "hello"


# --- positions ---------------------------------------------------------------------------------

POSITIONS = """\
tenant: acme
users:
  - id: alice
    teams: [east, north]
  - {id: bob, name: Bob}
entities:
  customer:
    fields:
      name:
        type: string
"""


@pytest.mark.parametrize(
    ("pointer", "value_at", "key_at"),
    [
        ("/tenant", (1, 9), (1, 1)),
        ("/users", (3, 3), (2, 1)),
        ("/users/0", (3, 5), None),
        ("/users/0/id", (3, 9), (3, 5)),
        ("/users/0/teams/1", (4, 19), None),
        ("/users/1", (5, 5), None),
        ("/users/1/name", (5, 21), (5, 15)),
        ("/entities/customer/fields/name", (10, 9), (9, 7)),
        ("/entities/customer/fields/name/type", (10, 15), (10, 9)),
    ],
)
def test_positions_of_values_and_keys(
    pointer: str, value_at: tuple[int, int], key_at: tuple[int, int] | None
) -> None:
    source = load_ok(POSITIONS)
    assert source.values[pointer] == value_at
    assert source.locate(pointer) == value_at
    if key_at is None:
        assert pointer not in source.keys
        assert source.locate(pointer, key=True) == value_at  # list items have no key
    else:
        assert source.keys[pointer] == key_at
        assert source.locate(pointer, key=True) == key_at


def test_locate_falls_back_to_the_nearest_ancestor() -> None:
    source = load_ok(POSITIONS)
    assert source.locate("/users/1/email") == (5, 5)
    assert source.locate("/users/1/email", key=True) == (5, 5)
    assert source.locate("/entities/customer/fields/name/options/x") == (10, 9)
    assert source.locate("/nothing/here") == (1, 1)
    assert source.locate("") == (1, 1)


def test_error_helper_uses_the_location() -> None:
    source = load_ok(POSITIONS)
    error = source.error("/users/0/id", "bad", "fix it", key=True, code="c", severity="warning")
    assert error == ConfigError("t.yaml", 3, 5, "/users/0/id", "bad", "fix it", "c", "warning")
    assert error.format() == "t.yaml:3:5: warning: bad (at /users/0/id)\n  hint: fix it"


def test_pointers_escape_slash_and_tilde() -> None:
    assert escape_pointer("a/b~c") == "a~1b~0c"
    assert join_pointer("/options", "a/b") == "/options/a~1b"
    source = load_ok("options:\n  a/b: 1\n  x~y: 2\n")
    assert source.values["/options/a~1b"] == (2, 8)
    assert source.keys["/options/x~0y"] == (3, 3)


def test_positions_count_characters_not_bytes() -> None:
    source = load_ok("name: 超兔演示\nlabel: {zh-CN: 客户, en: Customer}\n")
    assert source.values["/label/en"] == (2, 24)


# --- syntax errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "col", "problem", "hint_part"),
    [
        (
            "a: [1, 2\n",
            2,
            1,
            "expected ',' or ']', but got '<stream end>'",
            "in the flow sequence that starts at line 1, column 4",
        ),
        (
            "a: {x: 1\nb: 2\n",
            2,
            2,
            "expected ',' or '}', but got ':'",
            "in the flow mapping that starts at line 1, column 4",
        ),
        (
            "a:\n\tb: 1\n",
            2,
            1,
            "found character '\\t' that cannot start any token",
            "indent with spaces",
        ),
        ("a: b: c\n", 1, 5, "mapping values are not allowed here", "in quotes"),
        (
            "a:\n  b: 1\n c: 2\n",
            3,
            2,
            "expected <block end>, but found '<block mapping start>'",
            "check the indentation",
        ),
        (
            'a: "abc\n',
            2,
            1,
            "found unexpected end of stream",
            "in the quoted scalar that starts at line 1, column 4",
        ),
        ("a: *nowhere\n", 1, 4, "found undefined alias 'nowhere'", "define the anchor"),
        ("a: 1\n---\nb: 2\n", 2, 1, "found a second document", "remove the '---' line"),
    ],
)
def test_syntax_errors_are_located(
    text: str, line: int, col: int, problem: str, hint_part: str
) -> None:
    (error,) = load_bad(text)
    assert error.code == "yaml"
    assert (error.file, error.line, error.col) == ("t.yaml", line, col)
    assert error.message == f"YAML syntax error: {problem}"
    assert error.hint is not None and hint_part in error.hint


def test_syntax_error_format() -> None:
    (error,) = load_bad("entities:\n  customer:\n    fields: {name: [x}\n")
    assert error.format() == (
        "t.yaml:3:22: error: YAML syntax error: expected ',' or ']', but got '}'\n"
        "  hint: in the flow sequence that starts at line 3, column 20"
    )


# --- aliases, anchors and merge keys -----------------------------------------------------------


def test_alias_bomb_is_capped_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    started = time.perf_counter()
    source, errors = load_yaml("bomb.yaml", "\n".join(lines) + "\n")
    # expanded, it would be 9**10 nodes: it stops at the cap long before (the bound is loose
    # so a machine others share never fails it)
    assert time.perf_counter() - started < 60
    assert [e.code for e in errors] == ["too_large"]
    assert errors[0].message == f"document expands to more than {MAX_NODES} nodes"
    assert errors[0].hint == "check anchors and aliases"
    assert source.data is None


def test_alias_bomb_through_merge_keys_is_capped() -> None:
    lines = ["m0: &m0 {a: 1}"]
    for i in range(1, 12):
        refs = ", ".join([f"*m{i - 1}"] * 9)
        lines.append(f"m{i}: &m{i} {{<<: [{refs}], k{i}: 1}}")
    _, errors = load_yaml("bomb.yaml", "\n".join(lines) + "\n")
    assert [e.code for e in errors] == ["too_large"]


def test_aliases_repeat_the_anchored_value() -> None:
    assert data("a: &x {k: [1, 2]}\nb: *x\n") == {"a": {"k": [1, 2]}, "b": {"k": [1, 2]}}


def test_merge_key_copies_a_mapping() -> None:
    text = "base: &b {type: string, max_length: 10}\nname: {<<: *b, label: Name}\n"
    assert data(text)["name"] == {"type": "string", "max_length": 10, "label": "Name"}


def test_merge_key_own_keys_override_without_a_duplicate_error() -> None:
    text = "base: &b {type: string, max_length: 10}\nname: {<<: *b, max_length: 200}\n"
    assert data(text)["name"] == {"type": "string", "max_length": 200}


def test_merge_key_with_a_list_first_source_wins() -> None:
    text = (
        "a: &a {type: string, pii: true}\n"
        "b: &b {type: text, required: true}\n"
        "c: {<<: [*a, *b], label: C}\n"
    )
    assert data(text)["c"] == {"type": "string", "pii": True, "required": True, "label": "C"}


def test_merge_key_in_block_style_and_nested_merges() -> None:
    text = (
        "base: &base\n  type: string\n  pii: true\n"
        "mid: &mid\n  <<: *base\n  max_length: 20\n"
        "top:\n  <<: *mid\n  pii: false\n"
    )
    result = data(text)
    assert result["mid"] == {"type": "string", "pii": True, "max_length": 20}
    assert result["top"] == {"type": "string", "pii": False, "max_length": 20}


def test_merged_keys_are_located_at_the_anchor() -> None:
    source = load_ok("base: &b {type: string}\nname: {<<: *b, label: N}\n")
    assert source.keys["/name/type"] == (1, 11)
    assert source.values["/name/type"] == (1, 17)
    assert source.keys["/name/label"] == (2, 16)


def test_duplicate_own_keys_next_to_a_merge_are_still_refused() -> None:
    (error,) = load_bad("b: &b {x: 1}\nc: {<<: *b, y: 1, y: 2}\n")
    assert (error.code, error.pointer, error.line) == ("duplicate_key", "/c/y", 2)


@pytest.mark.parametrize("value", ["5", "[1, 2]", "text"])
def test_merging_something_else_than_a_mapping_is_an_error(value: str) -> None:
    errors = load_bad(f"c: {{<<: {value}, y: 1}}\n")
    assert {e.message for e in errors} == {"'<<' merges a mapping or a list of mappings"}
    assert all(e.pointer == "/c" and e.line == 1 for e in errors)


@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        ("a: &a [*a]\n", "/a/0"),
        ("a: &a {b: *a}\n", "/a/b"),
        ("x: &x {y: [1, {z: *x}]}\n", "/x/y/1/z"),
        ("a: &a {<<: *a}\n", "/a"),
    ],
)
def test_an_alias_inside_its_own_anchor_is_an_error(text: str, pointer: str) -> None:
    (error,) = load_bad(text)
    assert error.message == "an alias refers to a value that contains it: it would never end"
    assert error.pointer == pointer
    assert error.line == 1


def test_the_same_anchor_merged_twice_is_fine() -> None:
    assert data("a: &a {p: 1}\nb: {<<: [*a, *a], q: 2}\n")["b"] == {"p": 1, "q": 2}


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("[" * 70 + "]" * 70, (1, 65)),  # deeper than the limit
        ("[" * 3000 + "]" * 3000, (1, 1)),  # deeper than PyYAML's recursion allows
        ("a:\n" + "".join("  " * i + "b:\n" for i in range(1, 1500)), (1, 1)),
    ],
)
def test_deep_nesting_is_refused_not_a_crash(text: str, at: tuple[int, int]) -> None:
    (error,) = load_bad(text)
    assert error.code == "too_deep"
    assert error.message == "the document is nested more than 64 levels deep"
    assert (error.line, error.col) == at


def test_nesting_up_to_the_limit_is_fine() -> None:
    assert data("[" * 64 + "]" * 64) is not None
