"""Spread the suite over the xdist workers, keeping together the tests that share a fixture.

Sent one by one to whichever worker is free, the tests of a module that share a module- or
session-scoped fixture defined there (a computed plan, a partition, a database cluster) would
have it computed again on every worker that runs one of them. :class:`SharedFixtureScheduling`
makes those tests one work unit, run in their order on one worker, so the fixture is computed
once; every other test is a unit of its own. The controller knows the tests only by node id,
so the fixtures a test uses are read from its module's source: its arguments, and through them
the fixtures of the same module they ask for in turn.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import Any

from xdist.scheduler import LoadScopeScheduling

#: Fixture scopes that outlive one test.
SHARED_SCOPES = frozenset({"class", "module", "package", "session"})


def _fixture(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, bool, bool] | None:
    """Return (name, shared scope, autouse) for a function declared a fixture, else None."""
    for dec in node.decorator_list:
        call = dec if isinstance(dec, ast.Call) else None
        target = call.func if call is not None else dec
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name != "fixture":
            continue
        kw = {k.arg: k.value for k in (call.keywords if call is not None else [])}
        scope = kw.get("scope")
        given = kw.get("name")
        autouse = kw.get("autouse")
        return (
            given.value if isinstance(given, ast.Constant) else node.name,
            # a scope computed at run time may be a shared one
            scope is not None
            and (not isinstance(scope, ast.Constant) or scope.value in SHARED_SCOPES),
            isinstance(autouse, ast.Constant) and bool(autouse.value),
        )
    return None


@functools.cache
def grouped_tests(path: Path) -> frozenset[str]:
    """Return the names of the tests in `path` that use a shared fixture defined there."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return frozenset()
    needs: dict[str, set[str]] = {}
    shared: set[str] = set()
    autouse: set[str] = set()
    tests: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        args = {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
        fixture = _fixture(node)
        if fixture is not None:
            name, is_shared, is_autouse = fixture
            needs[name] = args
            if is_shared:
                shared.add(name)
            if is_autouse:
                autouse.add(name)
        elif node.name.startswith("test"):
            tests.setdefault(node.name, set()).update(args)

    def reaches(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name in seen or name not in needs:
            return False
        return name in shared or any(reaches(n, seen | {name}) for n in needs[name])

    everywhere = any(reaches(name) for name in autouse)
    return frozenset(
        name for name, args in tests.items() if everywhere or any(reaches(a) for a in args)
    )


class SharedFixtureScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with a test's scope being its module or the test itself."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self.rootpath = Path(config.rootpath)

    def _split_scope(self, nodeid: str) -> str:
        module, _, rest = nodeid.partition("::")
        test = rest.rsplit("::", 1)[-1].split("[", 1)[0]
        path = self.rootpath / module
        if path.suffix == ".py" and test in grouped_tests(path):
            return module
        return nodeid
