"""The hotspot methods a plan can use: one registry that options, the backtest and ``auto`` read.

Each :class:`HotspotMethod` names the function that finds the places
(:func:`finder` imports it when first used, so ``--help`` stays fast), whether ``auto``'s
rolling backtest tries it, and its help text. :data:`patrolplan.options.METHODS` (what
``--method`` accepts) and the backtest's candidates are built from :data:`HOTSPOT_METHODS`, so a
new method is added here once.

Examples
--------
>>> list(HOTSPOT_METHODS)
['peaks', 'dbscan', 'hdbscan', 'forecast']
>>> finder("dbscan").__name__
'find_hotspots'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["HOTSPOT_METHODS", "HotspotMethod", "finder"]


@dataclass(frozen=True)
class HotspotMethod:
    """One hotspot method.

    Attributes
    ----------
    name
        The name ``--method`` and ``[plan] method`` take.
    function
        ``module:function`` that finds the places, with the keyword arguments of
        :func:`patrolplan.hotspots.find_hotspots` (``method`` included).
    help
        One line for the command line's help.
    kind
        ``places`` (clusters of past incidents, the keyword arguments of
        :func:`patrolplan.hotspots.find_hotspots`) or ``forecast`` (a model of the next
        period, the keyword arguments of :func:`patrolplan.forecast.forecast_hotspots`).
    auto
        Whether ``--method auto``'s rolling backtest tries it among the micro-place methods
        (the forecast has its own rule there: it must beat the count baselines).
    tuning
        The data-derived parameters the backtest passes it (``eps_m``, ``min_cluster_size``).
    """

    name: str
    function: str
    help: str
    kind: str = "places"
    auto: bool = True
    tuning: tuple[str, ...] = ()


#: Every hotspot method, in the order the backtest tries them.
HOTSPOT_METHODS: dict[str, HotspotMethod] = {
    m.name: m
    for m in (
        HotspotMethod(
            "peaks",
            "patrolplan.hotspots:find_hotspots",
            "the densest weighted peaks, each place at most the hotspot size across",
        ),
        HotspotMethod(
            "dbscan",
            "patrolplan.hotspots:find_hotspots",
            "weighted DBSCAN clusters within the clustering radius",
            tuning=("eps_m",),
        ),
        HotspotMethod(
            "hdbscan",
            "patrolplan.hotspots:find_hotspots",
            "HDBSCAN clusters of varying density",
            tuning=("min_cluster_size",),
        ),
        HotspotMethod(
            "forecast",
            "patrolplan.forecast:forecast_hotspots",
            "the cells a model fitted on the district's own history expects the most incidents "
            "in (rolling origin: multi-window counts, near repeats, time-of-day profile)",
            kind="forecast",
            auto=False,
        ),
    )
}


def finder(name: str) -> Callable[..., Any]:
    """Return the function of hotspot method `name` (imported on first use).

    Parameters
    ----------
    name
        A key of :data:`HOTSPOT_METHODS`.

    Returns
    -------
    callable
        The method's function.
    """
    module, _sep, function = HOTSPOT_METHODS[name].function.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]
