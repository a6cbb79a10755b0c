"""The one error tree (engine/errors.py): every class in it, its status and code, its drawing in
the module's docstring, and no other exception root in engine/ or admin_ui/."""

from __future__ import annotations

import ast
import builtins
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import admin_ui
import engine
import engine.errors as errors
from engine.api import problems
from engine.errors import CallerError, ServiceError, Signal, TidepoolError
from engine.storage.store import UniqueTaken

ROOT = Path(__file__).resolve().parent.parent

# Exception classes outside the tree, each with why it stays out.
OUTSIDE = {
    ("engine/config/yamlload.py", "_TooLarge"): "private: the YAML loader's own bail-out, "
    "caught a few lines on and reported as a ConfigError",
    ("engine/config/yamlload.py", "_TooDeep"): "private: as _TooLarge, for nesting",
    ("admin_ui/pages/config.py", "BadOption"): "private to the dry-run page: caught in the same "
    "module and shown as a note on the form",
}


def _all_classes() -> list[type[TidepoolError]]:
    """Every class of the tree, after importing every module that could define one."""
    for package in (engine, admin_ui):
        for found in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations" in found.name or found.name.endswith("__main__"):
                continue  # Alembic's scripts; the CLI's entry point (it runs on import)
            importlib.import_module(found.name)
    seen: list[type[TidepoolError]] = []
    todo: list[type[TidepoolError]] = [TidepoolError]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


CLASSES = _all_classes()
CALLERS = [c for c in CLASSES if issubclass(c, CallerError)]

_ROW = re.compile(
    r"^    (?P<tree>[│├└─ ]*)(?P<name>[A-Z]\w*)"
    r"(?:\s+(?P<status>\d{3})\s+(?P<code>[a-z_]+))?"
    r"(?:\s+(?P<module>[a-z_]+(?:\.[a-z_]+)+))?\s*$"
)


def _drawn() -> dict[str, tuple[str | None, int | None, str | None, str]]:
    """The docstring's tree: name → (parent, status, code, module)."""
    doc = errors.__doc__ or ""
    lines = doc.split("\n\n    TidepoolError\n", 1)[1].split("\n\n", 1)[0].splitlines()
    rows = {"TidepoolError": (None, None, None, "engine.errors")}
    parents = ["TidepoolError"]
    for line in lines:
        row = _ROW.match(line)
        assert row is not None, f"not a row of the tree: {line!r}"
        depth = len(row["tree"]) // 4
        assert 1 <= depth <= len(parents), f"a row without its parent: {line!r}"
        del parents[depth:]
        status = int(row["status"]) if row["status"] else None
        module = row["module"] or "engine.errors"
        assert row["name"] not in rows, f"{row['name']} is drawn twice"
        rows[row["name"]] = (parents[-1], status, row["code"], module)
        parents.append(row["name"])
    return rows


def test_every_exception_class_of_the_module_is_in_the_tree() -> None:
    defined = [
        v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, BaseException)
    ]
    assert len(defined) > 10
    assert all(issubclass(cls, TidepoolError) for cls in defined)


def test_every_class_a_caller_sees_has_a_status_and_a_code_of_its_own() -> None:
    for cls in CALLERS:
        assert "status" in vars(cls) and "code" in vars(cls), cls  # not inherited by mistake
        assert isinstance(cls.status, int) and 400 <= cls.status <= 599, cls
        assert isinstance(cls.code, str) and re.fullmatch("[a-z][a-z_]*", cls.code), cls


def test_codes_are_unique() -> None:
    codes = [cls.code for cls in CALLERS]
    assert len(codes) == len(set(codes)), sorted(codes)


def test_signals_have_no_status() -> None:
    signals = [c for c in CLASSES if issubclass(c, Signal)]
    assert len(signals) > 10
    assert all(cls.status is None for cls in signals)
    assert TidepoolError.status is None


def test_every_class_is_drawn_where_it_is() -> None:
    drawn = _drawn()
    names = [cls.__name__ for cls in CLASSES]
    assert len(names) == len(set(names)), "two classes of the tree share a name"
    assert sorted(drawn) == sorted(names)
    for cls in CLASSES:
        parent, status, code, module = drawn[cls.__name__]
        bases = [b for b in cls.__bases__ if issubclass(b, TidepoolError)]
        assert parent == (bases[0].__name__ if bases else None), cls
        assert module == cls.__module__, cls
        if issubclass(cls, CallerError):
            assert (status, code) == (cls.status, cls.code), cls
        else:
            assert (status, code) == (None, None), cls


def test_the_errors_module_imports_nothing_from_the_engine() -> None:
    tree = ast.parse((ROOT / "engine" / "errors.py").read_text(encoding="utf-8"))
    for node in tree.body:  # top level only: the TYPE_CHECKING block is not run
        if isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith("engine"), node.module
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("engine") for a in node.names)


def _exception_roots() -> set[tuple[str, str]]:
    """(file, class) of every class in engine/ and admin_ui/ deriving from a built-in
    exception (Exception, ValueError, …) directly."""
    found = set()
    for folder in ("engine", "admin_ui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ClassDef):
                    continue
                for base in node.bases:
                    name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                    kind = getattr(builtins, name, None)
                    if isinstance(kind, type) and issubclass(kind, BaseException):
                        found.add((where, node.name))
    return found


def test_no_other_exception_root() -> None:
    roots = _exception_roots()
    assert roots - set(OUTSIDE) == {("engine/errors.py", "TidepoolError")}
    assert set(OUTSIDE) <= roots, "an exception listed as outside no longer exists"


# --- the API answers with the class's status --------------------------------------------------

SAMPLES: list[ServiceError] = [
    cls("said")
    for cls in CALLERS
    if issubclass(cls, ServiceError) and cls.__init__ is ServiceError.__init__
] + [errors.VersionConflict("stale", 3), errors.RateLimited("slow down", 30, "form")]


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    problems.install(app)

    @app.get("/raise/{index}")
    def raising(index: int) -> None:
        raise SAMPLES[index]

    @app.get("/signal")
    def signal() -> None:
        raise UniqueTaken("taken")

    app.add_middleware(problems.Unexpected)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("index", range(len(SAMPLES)), ids=lambda i: type(SAMPLES[i]).__name__)
def test_the_api_answers_a_service_error_with_its_class_status(
    client: TestClient, index: int
) -> None:
    exc = SAMPLES[index]
    answer = client.get(f"/raise/{index}")
    assert answer.status_code == exc.status
    body = answer.json()
    assert (body["status"], body["title"], body["detail"]) == (exc.status, exc.title, exc.detail)
    assert body.items() >= exc.extra().items()


def test_a_signal_that_escapes_is_still_a_500(client: TestClient) -> None:
    answer = client.get("/signal")
    assert (answer.status_code, answer.json()["title"]) == (500, "Internal error")
