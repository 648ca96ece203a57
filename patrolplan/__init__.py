"""patrolplan: turn public crime maps into foot-patrol routes.

The public modules are imported on first use (``patrolplan.plan``, ``patrolplan.routing``...),
so ``import patrolplan`` and the command line's ``--help`` stay fast.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any

from patrolplan._errors import (
    GraphBuildError,
    InfeasibleRouteError,
    InputDataError,
    PatrolPlanError,
)

if TYPE_CHECKING:
    __version__: str

    from patrolplan import (
        areas,
        backtest,
        batch,
        config,
        datasets,
        evaluate,
        export,
        graph,
        hotspots,
        ingest,
        metrics,
        options,
        plan,
        posts,
        render,
        routing,
        settings,
    )


@functools.cache
def _package_version() -> str:
    """Return the installed version (importlib.metadata takes a tenth of a second to load)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("patrolplan")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


_MODULES = (
    "areas",
    "backtest",
    "batch",
    "config",
    "datasets",
    "db",
    "evaluate",
    "export",
    "fetch",
    "forecast",
    "graph",
    "grid",
    "hotspots",
    "ingest",
    "methods",
    "metrics",
    "options",
    "pipeline",
    "plan",
    "posts",
    "presets",
    "render",
    "request",
    "routing",
    "settings",
    "store",
    "terrain",
)


def __getattr__(name: str) -> Any:
    """Import a public module, or read ``__version__``, on first access (PEP 562)."""
    if name == "__version__":
        return _package_version()
    if name in _MODULES:
        return importlib.import_module(f"patrolplan.{name}")
    msg = f"module 'patrolplan' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    """List the public names, modules included."""
    return sorted([*__all__])


__all__ = [
    "GraphBuildError",
    "InfeasibleRouteError",
    "InputDataError",
    "PatrolPlanError",
    "__version__",
    "areas",
    "backtest",
    "batch",
    "config",
    "datasets",
    "db",
    "evaluate",
    "export",
    "fetch",
    "forecast",
    "graph",
    "grid",
    "hotspots",
    "ingest",
    "methods",
    "metrics",
    "options",
    "pipeline",
    "plan",
    "posts",
    "presets",
    "render",
    "request",
    "routing",
    "settings",
    "store",
    "terrain",
]
