"""The stages of a plan, written once: load, weigh, find hotspots, route.

Every command runs these stages on a :class:`~patrolplan.request.PlanRequest`: the daily plan
(:func:`patrolplan.plan.make_plan`) all four, ``posts`` and ``areas`` load and weigh
(:func:`risk`), ``backtest`` loads, ``evaluate`` weighs, finds hotspots and routes each past
shift, and ``batch`` runs the daily plan per district. So a fix or an option reaches every
command at once.

- :func:`load`: the street graph and the incidents of every layer, in the plan's time window,
  time zone and date reading; the posts snapped to streets.
- :func:`weigh`: each incident's weight (harm, layer, recency, the shift's hours).
- :func:`hotspot_step`: the micro-places to visit, with every parameter it settled on (what the
  user gave, else what the district's own history chose, else what the data suggest).
- :func:`route_options`: the one place a plan's options become the route solver's.

Examples
--------
>>> from patrolplan import datasets
>>> from patrolplan.request import PlanRequest
>>> req = PlanRequest.from_file(datasets.data_dir() / "baltimore.toml", date="2016-06-19")
>>> data = load(req)
>>> len(data.gdf_incidents), data.t0
(538, Timestamp('2016-06-19 18:00:00'))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from patrolplan import graph, hotspots, i18n, ingest, methods, routing, settings
from patrolplan.i18n import _
from patrolplan.options import PlanOptions, parse_date, parse_revisit
from patrolplan.utils import log

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx

    from patrolplan.backtest import MethodChoice
    from patrolplan.request import PlanRequest

__all__ = [
    "HotspotStep",
    "Inputs",
    "RiskInput",
    "choose_hotspot_method",
    "hotspot_step",
    "load",
    "risk",
    "route_options",
    "weigh",
    "window_start",
]


@dataclass(frozen=True, eq=False)
class Inputs:
    """What :func:`load` read for a request.

    Attributes
    ----------
    G
        Walking graph (metric CRS), or None when the request names no extract and the
        command needs none.
    gdf_incidents
        Incidents of every layer kept by ingest, in the plan's window.
    reports
        One ingest report per input file.
    t0
        Shift start.
    post_snaps, end_snaps
        How far each post and end point was moved to its street.
    """

    G: nx.MultiDiGraph | None
    gdf_incidents: gpd.GeoDataFrame
    reports: tuple[ingest.IngestReport, ...]
    t0: pd.Timestamp
    post_snaps: tuple[graph.Snap, ...] = ()
    end_snaps: tuple[graph.Snap, ...] = ()


def window_start(opts: PlanOptions, t0: pd.Timestamp) -> pd.Timestamp | None:
    """Return the first instant of the incident window from `days` and `since`.

    Parameters
    ----------
    opts
        The plan's options.
    t0
        Shift start.

    Returns
    -------
    pandas.Timestamp or None
        The later of ``t0 - days`` and `since`; None when neither is given.
    """
    since_ts = t0.normalize() - pd.Timedelta(days=opts.days) if opts.days else None
    if opts.since is not None:
        given = pd.Timestamp(parse_date(opts.since, what="since"))
        since_ts = given if since_ts is None else max(given, since_ts)
    return since_ts


def load(
    request: PlanRequest,
    *,
    posts: bool = True,
    window: bool = True,
) -> Inputs:
    """Read the street graph and every incident layer of a request, as a plan reads them.

    Parameters
    ----------
    request
        The request; its extract may be None only when no graph is wanted.
    posts
        Snap the request's posts and end points to the graph (refused beyond
        :data:`patrolplan.settings.max_snap_m`).
    window
        Keep only the incidents before the shift start (and after `days`/`since`); False
        keeps every dated and undated incident (the replay picks its own windows).

    Returns
    -------
    Inputs
        Graph, incidents, reports, shift start and snaps.

    Raises
    ------
    PatrolPlanError
        Any input problem, with a message that names it.
    """
    opts = request.options
    t0 = opts.shift_start()
    _check_inputs(request)
    G = None
    area = None
    post_snaps: list[graph.Snap] = []
    end_snaps: list[graph.Snap] = []
    if request.osm is not None:
        G = graph.graph_from_file(request.osm, cache_dir=request.cache_dir)
        if posts:
            # each post (and end point) moves to its nearest street node: logged, recorded,
            # and refused beyond settings.max_snap_m
            post_snaps = graph.snap_report(G, request.posts, what="post")
            if request.ends:
                end_snaps = graph.snap_report(G, request.ends, what="end point")
        area = graph.graph_area(G)
    gdf, reports = ingest.read_layers(
        request.files,
        area=area,
        since=window_start(opts, t0) if window else None,
        until=t0 if window else None,
        **request.ingest_args(),
    )
    return Inputs(G, gdf, tuple(reports), t0, tuple(post_snaps), tuple(end_snaps))


def _check_inputs(request: PlanRequest) -> None:
    """Refuse a named pipe, device or socket as an input before anything is read.

    A missing file is left to the reader, whose message names it; a folder is an incident
    layer of page files.
    """
    from patrolplan.utils import check_input_file

    named: list[tuple[Path | str, str]] = [(f, _("incident file")) for f in request.files.values()]
    if request.osm is not None:
        named.append((request.osm, _("OSM extract")))
    if request.areas is not None:
        named.append((request.areas, _("areas file")))
    for path, what in named:
        if isinstance(path, Path) and path.exists() and not path.is_dir():
            check_input_file(path, what=what)


def shift_hours(options: PlanOptions, t0: pd.Timestamp) -> tuple[float, float]:
    """Return the shift's start hour and its (longest) length in hours.

    Parameters
    ----------
    options
        The plan's options.
    t0
        Shift start.

    Returns
    -------
    tuple
        ``(start_hour, length_h)``.
    """
    return t0.hour + t0.minute / 60.0, max(options.shifts_min) / 60.0


def weigh(
    gdf_incidents: gpd.GeoDataFrame,
    options: PlanOptions,
    *,
    at: pd.Timestamp,
    layer_weights: Mapping[str, float] | None = None,
    params: hotspots.HotspotParams | None = None,
    half_life_days: float | None = None,
) -> pd.Series:
    """Weigh each incident as the plan does: harm, layer, recency and the shift's hours.

    Parameters
    ----------
    gdf_incidents
        Incidents before the shift.
    options
        The plan's options (`half_life_days`, the shift).
    at
        Shift start.
    layer_weights
        Layer -> weight.
    params
        What the data suggest (:func:`patrolplan.hotspots.auto_params`); computed if None.
    half_life_days
        A half-life chosen elsewhere (the backtest's); the options' own wins.

    Returns
    -------
    pandas.Series
        Weight per incident, same index.
    """
    if params is None:
        params = hotspots.auto_params(gdf_incidents, at=at, max_size_m=options.hotspot_size_m)
    start_h, length_h = shift_hours(options, at)
    half_life = options.half_life_days or half_life_days or params.half_life_days
    return hotspots.incident_weights(
        gdf_incidents,
        at=at,
        half_life_days=half_life,
        layer_weights=layer_weights,
        shift_start_hour=start_h if params.shift_profile else None,
        shift_length_h=length_h if params.shift_profile else None,
    )


def choose_hotspot_method(
    gdf_incidents: gpd.GeoDataFrame,
    options: PlanOptions,
    *,
    at: pd.Timestamp,
    cache_dir: str | Path | None = None,
) -> tuple[hotspots.HotspotParams, MethodChoice | None]:
    """Derive hotspot parameters from the data and, for ``method="auto"``, pick the method.

    Parameters
    ----------
    gdf_incidents
        Incidents kept by ingest (before the shift only).
    options
        The plan's options.
    at
        Shift start.
    cache_dir
        Where the method choice is cached (default :data:`patrolplan.settings.cache_dir`).

    Returns
    -------
    tuple
        ``(params, choice)``: what the data's span, density and time precision suggest
        (:func:`patrolplan.hotspots.auto_params`), and the backtest's choice, or None when the
        method was given.
    """
    params = hotspots.auto_params(gdf_incidents, at=at, max_size_m=options.hotspot_size_m)
    if options.method != "auto":
        return params, None
    from patrolplan import backtest

    start_h, length_h = shift_hours(options, at)
    choice = backtest.choose_method(
        gdf_incidents,
        at=at,
        shift_start_hour=start_h if params.shift_profile else None,
        shift_length_h=length_h if params.shift_profile else None,
        cache_dir=cache_dir if cache_dir is not None else settings.cache_dir,
    )
    log(_("Hotspot method: {method} ({reason})").format(method=choice.method, reason=choice.reason))
    return params, choice


@dataclass(frozen=True, eq=False)
class HotspotStep:
    """The hotspot step of a plan: weights, hotspots, and every parameter it settled on.

    Attributes
    ----------
    weights
        Weight per incident (harm, layer, recency and, with timed data, the shift's hours).
    gdf_hotspots, labels
        Ranked micro-places and the hotspot of each incident (-1: none).
    method
        The method used (``auto`` resolved).
    half_life_days, eps_m, min_weight, size_m, max_hotspots
        The values used, whichever source they came from.
    params
        What the data suggested (:func:`patrolplan.hotspots.auto_params`).
    choice
        The backtest's method choice, or None when the method was given.
    warnings
        Lines for a supervisor (:func:`patrolplan.hotspots.data_warnings`).
    """

    weights: pd.Series
    gdf_hotspots: gpd.GeoDataFrame
    labels: pd.Series
    method: str
    half_life_days: float
    eps_m: float
    min_weight: float
    size_m: float
    max_hotspots: int
    params: hotspots.HotspotParams
    choice: MethodChoice | None
    warnings: tuple[str, ...]

    def record(self) -> dict[str, object]:
        """Return the step's parameters for report.json."""
        return {
            "hotspot_method": self.method,
            "half_life_days": self.half_life_days,
            "eps_m": self.eps_m,
            "min_weight": round(self.min_weight, 4),
            "hotspot_size_m": self.size_m,
            "max_hotspots": self.max_hotspots,
            "data_params": self.params.as_dict(),
            "method_choice": None
            if self.choice is None
            else {
                "method": self.choice.method,
                "reason": self.choice.reason,
                "backtested": self.choice.backtested,
                "scores": self.choice.table.to_dict(orient="records"),
            },
            "warnings": list(self.warnings),
        }


def hotspot_step(
    gdf_incidents: gpd.GeoDataFrame,
    options: PlanOptions,
    *,
    at: pd.Timestamp,
    layer_weights: Mapping[str, float] | None = None,
    choice: MethodChoice | None = None,
    cache_dir: str | Path | None = None,
) -> HotspotStep:
    """Weigh the incidents and find the micro-places to visit, as the daily plan does.

    Values the user gave win; then the backtest's choice (``method="auto"``); then what the
    data's span, density and time precision suggest. On sparse data, the least hotspot weight
    is lowered (never below two typical incidents) until the places on offer could fill the
    officers' shifts half again, so nobody stands idle while the best places come first.

    Parameters
    ----------
    gdf_incidents
        Incidents before the shift.
    options
        The plan's options.
    at
        Shift start.
    layer_weights
        Layer -> weight.
    choice
        A method choice made earlier (the replay makes one per test shift); default: chosen
        here when ``options.method == "auto"``.
    cache_dir
        Where the method choice is cached.

    Returns
    -------
    HotspotStep
        Weights, hotspots, labels and the parameters used.
    """
    shifts = options.shifts_min
    if not set(hotspots.XY_COLUMNS) <= set(gdf_incidents.columns):
        # projected once: every clustering and backtest window reuses the metric coordinates
        gdf_incidents = hotspots.add_xy_m(gdf_incidents)
    if choice is None:
        params, choice = choose_hotspot_method(gdf_incidents, options, at=at, cache_dir=cache_dir)
    else:
        params = hotspots.auto_params(gdf_incidents, at=at, max_size_m=options.hotspot_size_m)
    method = choice.method if choice is not None else options.method
    found = dict(choice.params) if choice is not None else {}
    half_life = options.half_life_days or found.pop("half_life_days", params.half_life_days)
    found.pop("half_life_days", None)
    weights = weigh(
        gdf_incidents,
        options,
        at=at,
        layer_weights=layer_weights,
        params=params,
        half_life_days=half_life,
    )
    eps_m = options.eps_m or found.get("eps_m", params.eps_m)
    min_weight = options.min_weight or found.get("min_weight", params.min_weight)
    size_m = options.hotspot_size_m or found.get("max_size_m", params.max_size_m)
    dwell = settings.dwell_min if options.dwell_min is None else options.dwell_min
    # a visit is a dwell plus about 10 minutes' walk: offer enough to fill the shifts 1.5 times
    fill = int(
        np.ceil(1.5 * sum(shifts) * (options.officers if len(shifts) == 1 else 1) / (dwell + 10.0))
    )
    max_hotspots = options.max_hotspots or max(settings.max_hotspots, fill)
    if options.min_weight is None and "min_weight" not in found and params.shift_profile:
        # the data's least hotspot weight is measured without the shift's hours: scale it
        raw = hotspots.incident_weights(gdf_incidents, at=at, half_life_days=half_life)
        min_weight *= float(weights.sum()) / max(float(raw.sum()), 1e-12)

    find_places = methods.finder(method)
    start_h, length_h = shift_hours(options, at)

    def find(least: float) -> tuple[gpd.GeoDataFrame, pd.Series]:
        if methods.HOTSPOT_METHODS[method].kind == "forecast":
            return find_places(  # type: ignore[no-any-return]
                gdf_incidents,
                weights,
                at=at,
                shift_start_hour=start_h if params.shift_profile else None,
                shift_length_h=length_h if params.shift_profile else None,
                max_hotspots=max_hotspots,
                max_size_m=size_m,
                seed=settings.seed if options.seed is None else options.seed,
            )
        return find_places(  # type: ignore[no-any-return]
            gdf_incidents,
            weights,
            method=method,
            eps_m=eps_m,
            min_weight=least,
            max_size_m=size_m,
            min_cluster_size=int(found.get("min_cluster_size", 5)),
            max_hotspots=max_hotspots,
        )

    gdf_hot, labels = find(min_weight)
    wanted = min(max_hotspots, fill)
    floor = 2.0 * float(weights[weights > 0].median()) if (weights > 0).any() else 0.0
    # a forecast ranks every cell already: lowering the least weight changes nothing there
    lowers = methods.HOTSPOT_METHODS[method].kind == "places" and options.min_weight is None
    while lowers and len(gdf_hot) < wanted and min_weight / 2 >= floor > 0:
        min_weight /= 2
        gdf_hot, labels = find(min_weight)
        log(
            _(
                "fewer than {wanted} hotspots: least hotspot weight lowered to {weight} "
                "({n} hotspots)"
            ).format(
                wanted=wanted,
                weight=i18n.format_number(min_weight, decimals=2),
                n=len(gdf_hot),
            )
        )
    notes = hotspots.data_warnings(gdf_incidents, weights, gdf_hot, at=at, max_size_m=size_m)
    if choice is not None and not choice.backtested:
        # a method nobody could check on this district's own history is a plan resting on little
        notes.append(
            _("hotspot method not checked on this district's history: {reason}").format(
                reason=choice.reason
            )
        )
    return HotspotStep(
        weights=weights,
        gdf_hotspots=gdf_hot,
        labels=labels,
        method=method,
        half_life_days=float(half_life),
        eps_m=float(eps_m),
        min_weight=float(min_weight),
        size_m=float(size_m),
        max_hotspots=int(max_hotspots),
        params=params,
        choice=choice,
        warnings=tuple(notes),
    )


def route_options(
    options: PlanOptions,
    *,
    max_hotspots: int | None = None,
    ends: tuple[tuple[float, float], ...] | None = None,
    shift_min: float | None = None,
    max_segments: int | None = None,
) -> routing.RouteOptions:
    """Return the route solver's options for a plan: the only place they are derived.

    Parameters
    ----------
    options
        The plan's options (officers, shifts, dwell, speed, revisits, seed, iterations).
    max_hotspots
        Hotspots offered to the solver (the hotspot step's); default the options' own.
    ends
        Open routes' end points.
    shift_min
        One shift length for every officer, overriding the options' (the replay's).
    max_segments
        Street tasks offered, overriding the options' (0 for the oracle).

    Returns
    -------
    patrolplan.routing.RouteOptions
        The solver's options.
    """
    shifts = options.shifts_min
    if shift_min is not None:
        lengths: float | tuple[float, ...] = float(shift_min)
    else:
        lengths = tuple(shifts) if len(shifts) > 1 else shifts[0]
    return routing.RouteOptions(
        officers=options.officers,
        shift_min=lengths,
        dwell_min=options.dwell_min,
        speed_kmh=options.speed_kmh,
        max_hotspots=max_hotspots if max_hotspots is not None else options.max_hotspots,
        ends=ends or None,
        max_segments=options.max_segments if max_segments is None else max_segments,
        revisit_min=parse_revisit(options.revisit),
        max_visits=options.max_visits,
        revisit_value=options.revisit_value,
        seed=settings.seed if options.seed is None else options.seed,
        iterations=options.iterations,
    )


@dataclass(frozen=True, eq=False)
class RiskInput:
    """Street graph, incidents and their risk, read the way a daily plan reads them.

    Attributes
    ----------
    G
        Walking graph (metric CRS).
    gdf_incidents
        Incidents kept by ingest.
    weights
        Weight per incident.
    risk
        Weight per street node, from :func:`patrolplan.graph.node_risk`.
    reports
        One ingest report per input file.
    """

    G: nx.MultiDiGraph
    gdf_incidents: gpd.GeoDataFrame
    weights: pd.Series
    risk: pd.Series
    reports: tuple[ingest.IngestReport, ...]


def risk(request: PlanRequest) -> RiskInput:
    """Read a request's graph and incidents and weigh them as the daily plan does.

    Posts and areas are judged on the same risk the routes chase: harm, layer weight, recency
    back from the plan date and the shift's time-of-day profile, with the request's time zone
    and date reading.

    Parameters
    ----------
    request
        The request (its posts are not needed).

    Returns
    -------
    RiskInput
        Graph, incidents, weights and node risk.

    Raises
    ------
    PatrolPlanError
        Any input problem, with a message that names it.
    """
    request.require(posts=False)
    data = load(request, posts=False)
    assert data.G is not None
    weights = weigh(
        data.gdf_incidents, request.options, at=data.t0, layer_weights=request.layer_weights
    )
    return RiskInput(
        data.G,
        data.gdf_incidents,
        weights,
        graph.node_risk(data.G, data.gdf_incidents, weights),
        data.reports,
    )
