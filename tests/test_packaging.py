"""The package declares every third-party module it imports (a fresh machine has nothing else)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(paths: list[Path]) -> dict[str, str]:
    """Top-level module -> first file importing it, for absolute imports outside the project."""
    found: dict[str, str] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path.name)
    return found


def _declared(extra: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    if extra:
        specs += project["optional-dependencies"][extra]
    return {re.split(r"[\s<>=!~\[;]", s, maxsplit=1)[0].lower().replace("_", "-") for s in specs}


def _undeclared(files: list[Path], declared: set[str]) -> dict[str, str]:
    dists = packages_distributions()
    own = {"patrolplan", "cli", "tests", "conftest"}
    missing = {}
    for module, where in _imports(files).items():
        if module in sys.stdlib_module_names or module in own:
            continue
        names = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        if not names & declared:
            missing[module] = where
    return missing


def test_package_imports_are_declared_dependencies():
    files = [*sorted((ROOT / "patrolplan").rglob("*.py")), ROOT / "cli.py"]
    assert len(files) > 10
    assert _undeclared(files, _declared()) == {}


def test_test_imports_are_declared_in_the_test_extra():
    files = sorted((ROOT / "tests").rglob("*.py"))
    assert _undeclared(files, _declared("test")) == {}


def test_the_check_catches_an_undeclared_import(tmp_path):
    fake = tmp_path / "mod.py"
    fake.write_text("import numba\nimport os\nfrom sklearn.cluster import DBSCAN\n")
    declared = _declared() - {"numba"}
    missing = _undeclared([fake], declared)
    # numba is found missing; os is stdlib and sklearn is declared as scikit-learn
    assert missing == {"numba": "mod.py"}
