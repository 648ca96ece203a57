"""patrolplan: turn public crime maps into foot-patrol routes."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from patrolplan import (
    backtest,
    config,
    datasets,
    export,
    graph,
    hotspots,
    ingest,
    metrics,
    plan,
    render,
    routing,
    settings,
)
from patrolplan._errors import (
    GraphBuildError,
    InfeasibleRouteError,
    InputDataError,
    PatrolPlanError,
)

try:
    __version__ = _version("patrolplan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "GraphBuildError",
    "InfeasibleRouteError",
    "InputDataError",
    "PatrolPlanError",
    "__version__",
    "backtest",
    "config",
    "datasets",
    "export",
    "graph",
    "hotspots",
    "ingest",
    "metrics",
    "plan",
    "render",
    "routing",
    "settings",
]
