"""What the package replaced stays gone, and the layers it draws hold (read from the source)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "engine").rglob("*.py"), *(ROOT / "admin_ui").rglob("*.py")])
CATALOGUE_DIR = ROOT / "engine" / "i18n"


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def outside_the_catalogue() -> Iterator[tuple[Path, ast.Module]]:
    for path in SOURCES:
        if CATALOGUE_DIR not in path.parents:
            yield path, tree(path)


def imported(module: ast.Module) -> Iterator[str]:
    """Every module an import names, at any depth (a late import counts)."""
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"


def test_no_words_tables_outside_the_catalogue() -> None:
    found = []
    for path, module in outside_the_catalogue():
        for node in ast.walk(module):
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if any(name.endswith("_WORDS") for name in names):
                    found.append(where(path, node))
            if isinstance(node, ast.Dict):  # the catalogue's format: {"en": …, "zh-CN": …}
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if "zh-CN" in keys:
                    found.append(where(path, node))
    assert not found, found


def test_one_locale_of_and_one_test_of_chinese() -> None:
    found = []
    for path, module in outside_the_catalogue():
        for node in ast.walk(module):
            if isinstance(node, ast.FunctionDef) and node.name in ("locale_of", "lang_of"):
                found.append(where(path, node))
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "startswith"
                and any(
                    isinstance(a, ast.Constant) and str(a.value).lower().startswith("zh")
                    for a in node.args
                )
            ):
                found.append(where(path, node))
    assert not found, found


def test_conditions_is_a_leaf() -> None:
    """engine.conditions uses the standard library, third-party packages, engine.i18n (its
    messages) and engine.errors (the exception tree its errors belong to): both leaves too."""
    allowed = ("engine.i18n", "engine.errors")
    found = []
    for path in sorted((ROOT / "engine" / "conditions").rglob("*.py")):
        for name in imported(tree(path)):
            inside = name == "engine.conditions" or name.startswith("engine.conditions.")
            ours = name.split(".")[0] in ("engine", "admin_ui", "tests")
            if ours and not inside and name not in allowed:
                found.append(f"{path.relative_to(ROOT)}: {name}")
    assert not found, found
    errors = tree(ROOT / "engine" / "errors.py")
    at_run_time = [n for n in errors.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not [n for n in imported(ast.Module(at_run_time, [])) if n.startswith("engine")]


def test_i18n_imports_nothing_else_of_the_engine() -> None:
    found = []
    for path in sorted(CATALOGUE_DIR.rglob("*.py")):
        for name in imported(tree(path)):
            if name.split(".")[0] in ("engine", "admin_ui") and not name.startswith("engine.i18n"):
                found.append(f"{path.relative_to(ROOT)}: {name}")
    assert not found, found


def test_every_catalogue_module_is_merged() -> None:
    from engine.i18n.registry import AREAS

    merged = {area.__name__ for area in AREAS}
    logic = {"__init__", "hints", "locale", "message", "registry"}
    areas = {f"engine.i18n.{p.stem}" for p in CATALOGUE_DIR.glob("*.py") if p.stem not in logic}
    assert areas == merged
