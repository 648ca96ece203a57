"""The hotspot methods a plan can use: one registry that options, the backtest and ``auto`` read.

Each :class:`HotspotMethod` names the function that finds the places
(:func:`finder` imports it when first used, so ``--help`` stays fast), whether ``auto``'s
rolling backtest tries it, and its help text. :data:`patrolplan.options.METHODS` (what
``--method`` accepts) and the backtest's candidates are built from :data:`HOTSPOT_METHODS`, so a
new method is added here once.

Examples
--------
>>> list(HOTSPOT_METHODS)
['peaks', 'dbscan', 'hdbscan']
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
    auto
        Whether ``--method auto``'s rolling backtest tries it.
    """

    name: str
    function: str
    help: str
    auto: bool = True


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
        ),
        HotspotMethod(
            "hdbscan",
            "patrolplan.hotspots:find_hotspots",
            "HDBSCAN clusters of varying density",
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
