"""The daily patrol plan, end to end: ingest -> hotspots -> graph and routes -> render/export.

:func:`daily_plan` computes a :class:`PatrolPlan` in memory; :func:`write_plan` writes it to a
folder atomically (all files appear together, or none do).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from patrolplan import (
    backtest,
    export,
    graph,
    hotspots,
    i18n,
    ingest,
    metrics,
    render,
    routing,
    settings,
)
from patrolplan._errors import InputDataError
from patrolplan.i18n import _
from patrolplan.options import (
    PlanOptions,
    parse_date,
    parse_duration_min,
    parse_revisit,
)
from patrolplan.utils import atomic_dir, atomic_write_text, file_sha256, log

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx

__all__ = [
    "OUTPUT_FILES",
    "PatrolPlan",
    "PlanOptions",
    "daily_plan",
    "parse_duration_min",
    "parse_revisit",
    "write_plan",
]

#: Files written by :func:`write_plan`.
OUTPUT_FILES = (
    "map.html",
    "routes.geojson",
    "routes.kml",
    "hotspots.geojson",
    "schedule.csv",
    "summary.csv",
    "rejected.csv",
    "report.json",
    "sheets.html",
)


@dataclass(frozen=True, eq=False)
class PatrolPlan:
    """Everything a daily plan computed, for rendering, export and analysis.

    Attributes
    ----------
    routes
        One route per officer.
    summary
        Per-officer and total numbers, from :func:`patrolplan.metrics.summary`.
    schedule
        Timetable, from :func:`patrolplan.export.schedule_frame`.
    gdf_hotspots
        Ranked hotspots.
    gdf_incidents
        Incidents kept by ingest.
    weights
        Weight per incident.
    labels
        Hotspot cluster per incident.
    snapped
        Street segment per incident.
    G
        Walking graph with edge risk.
    reports
        One ingest report per input file.
    shift_start
        Date and time the shift starts.
    route_coords
        (lon, lat) vertices of each route.
    params
        Every resolved parameter, the package version and the inputs' hashes, for the record.
    options
        The options the plan was made with.
    warnings
        Lines for a supervisor when the plan rests on little (few incidents, old data, a
        hotspot too wide to watch...), from :func:`patrolplan.hotspots.data_warnings`.
    variants
        With `variants` or `day`: every variant plan, in rotation order (the chosen one
        included), else empty.
    variant_table
        Risk collected and street overlap of each variant, from
        :func:`patrolplan.routing.variants`; empty without variants.
    """

    routes: tuple[routing.Route, ...]
    summary: pd.DataFrame
    schedule: pd.DataFrame
    gdf_hotspots: gpd.GeoDataFrame
    gdf_incidents: gpd.GeoDataFrame
    weights: pd.Series
    labels: pd.Series
    snapped: pd.DataFrame
    G: nx.MultiDiGraph
    reports: tuple[ingest.IngestReport, ...]
    shift_start: pd.Timestamp
    route_coords: tuple[list[tuple[float, float]], ...]
    params: dict[str, object]
    options: PlanOptions = field(default_factory=PlanOptions)
    warnings: tuple[str, ...] = ()
    variants: tuple[tuple[routing.Route, ...], ...] = ()
    variant_table: pd.DataFrame | None = None


def _file_sha256(path: str | Path) -> str | None:
    """Return the SHA-256 of a file's bytes, or None when it cannot be read."""
    try:
        return file_sha256(path)
    except OSError:
        return None


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


def choose_hotspot_method(
    gdf_incidents: gpd.GeoDataFrame,
    options: PlanOptions,
    *,
    at: pd.Timestamp,
    shift_h: tuple[float, float],
    cache_dir: str | Path | None = None,
) -> tuple[hotspots.HotspotParams, backtest.MethodChoice | None]:
    """Derive hotspot parameters from the data and, for ``method="auto"``, pick the method.

    Parameters
    ----------
    gdf_incidents
        Incidents kept by ingest (before the shift only).
    options
        The plan's options.
    at
        Shift start.
    shift_h
        Shift start hour and length in hours.
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
    choice = backtest.choose_method(
        gdf_incidents,
        at=at,
        shift_start_hour=shift_h[0] if params.shift_profile else None,
        shift_length_h=shift_h[1] if params.shift_profile else None,
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
    choice: backtest.MethodChoice | None
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
    choice: backtest.MethodChoice | None = None,
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
        A method choice made earlier (the replay makes one for a whole test period); default:
        chosen here when ``options.method == "auto"``.
    cache_dir
        Where the method choice is cached.

    Returns
    -------
    HotspotStep
        Weights, hotspots, labels and the parameters used.
    """
    shifts = options.shifts_min
    shift_h = (at.hour + at.minute / 60.0, max(shifts) / 60.0)
    if not set(hotspots.XY_COLUMNS) <= set(gdf_incidents.columns):
        # projected once: every clustering and backtest window reuses the metric coordinates
        gdf_incidents = hotspots.add_xy_m(gdf_incidents)
    if choice is None:
        params, choice = choose_hotspot_method(
            gdf_incidents, options, at=at, shift_h=shift_h, cache_dir=cache_dir
        )
    else:
        params = hotspots.auto_params(gdf_incidents, at=at, max_size_m=options.hotspot_size_m)
    method = choice.method if choice is not None else options.method
    found = dict(choice.params) if choice is not None else {}
    half_life = options.half_life_days or found.pop("half_life_days", params.half_life_days)
    found.pop("half_life_days", None)
    weights = hotspots.incident_weights(
        gdf_incidents,
        at=at,
        half_life_days=half_life,
        layer_weights=layer_weights,
        shift_start_hour=shift_h[0] if params.shift_profile else None,
        shift_length_h=shift_h[1] if params.shift_profile else None,
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

    def find(least: float) -> tuple[gpd.GeoDataFrame, pd.Series]:
        return hotspots.find_hotspots(
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
    while options.min_weight is None and len(gdf_hot) < wanted and min_weight / 2 >= floor > 0:
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


def daily_plan(
    incidents: str | Path | Mapping[str, str | Path | None],
    osm: str | Path,
    posts: Sequence[tuple[float, float]],
    options: PlanOptions | None = None,
    *,
    ends: Sequence[tuple[float, float]] | None = None,
    columns: Mapping[str, Any] | None = None,
    crs: str | Mapping[str, str] | None = None,
    severity: Mapping[str, Mapping[str, float]] | None = None,
    layer_weights: Mapping[str, float] | None = None,
    datetime_format: str | Mapping[str, str] | None = None,
    dayfirst: bool | Mapping[str, bool] | None = None,
    areas: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> PatrolPlan:
    """Compute a daily foot-patrol plan from incident files and a local OSM extract.

    Parameters
    ----------
    incidents
        One crime file, or layer -> file for ``crime``, ``accident``, ``juvenile``.
    osm
        Local OSM extract (``.osm``, ``.osm.bz2``, ``.osm.pbf``) or GraphML.
    posts
        ``(lat, lon)`` of each post; officers are assigned to posts in turn.
    options
        Officers, shift, date, hotspot and route settings (see
        :class:`~patrolplan.options.PlanOptions`); default ``PlanOptions()``.
    ends
        Open routes: where officers finish, assigned in turn; default back at the post.
    columns, crs, severity
        Passed to :func:`patrolplan.ingest.read_layers` (one value for all layers, or per
        layer).
    layer_weights
        Layer -> weight in the combined risk.
    datetime_format, dayfirst
        How to read dates, one value for all layers or per layer (see
        :func:`patrolplan.ingest.read_incidents`); default: decided from each file's rows.
    areas
        A patrol-area file from ``patrolplan areas`` (GeoJSON polygons with an ``area``
        number): officer ``k`` patrols area ``k`` (in turn when there are fewer areas).
    cache_dir
        Graph cache folder.

    Returns
    -------
    PatrolPlan
        Routes, timetable, summary and the intermediate results. Its log lines, warnings and
        error messages are in ``options.lang``.

    Raises
    ------
    PatrolPlanError
        Any input or feasibility problem, with a message that names it.

    Examples
    --------
    >>> from patrolplan import datasets
    >>> from patrolplan.options import PlanOptions
    >>> plan = daily_plan(
    ...     datasets.baltimore_crimes(), datasets.baltimore_osm(), list(datasets.DEMO_POSTS),
    ...     PlanOptions(officers=2, shift="2h", start="18:00", date="2016-06-19", iterations=300),
    ... )
    >>> len(plan.routes), all(r.duration_min <= 120 for r in plan.routes)
    (2, True)
    """
    opts = PlanOptions() if options is None else options
    # every message of the plan (logs, warnings, errors) is made in the plan's language
    with i18n.language(opts.lang):
        seed = settings.seed if opts.seed is None else opts.seed
        shifts = list(opts.shifts_min)
        shift_min = max(shifts)
        revisit_min = parse_revisit(opts.revisit)
        t0 = opts.shift_start()
        files = ingest.layer_files(incidents)
        # Positions are checked before the slow steps, so a typo costs no time.
        for label, points in (("post", posts), ("end point", ends or [])):
            for lat, lon in points:
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    msg = _("`{what}` {lat},{lon} is not a latitude,longitude pair").format(
                        what=label, lat=lat, lon=lon
                    )
                    raise InputDataError(msg)

        # the first plan after an install compiles the route search while the data loads
        compiled = routing.start_compiling()
        G = graph.graph_from_file(osm, cache_dir=cache_dir)
        # each post (and end point) is moved to its nearest street node: logged, recorded, and
        # refused beyond settings.max_snap_m
        post_snaps = graph.snap_report(G, posts, what="post")
        end_snaps = graph.snap_report(G, ends, what="end point") if ends else []
        area = graph.graph_area(G)
        gdf_inc, reports = ingest.read_layers(
            files,
            columns=columns,
            crs=crs,
            severity=severity,
            area=area,
            since=window_start(opts, t0),
            until=t0,
            tz=opts.tz,
            datetime_format=datetime_format,
            dayfirst=dayfirst,
        )
        step = hotspot_step(gdf_inc, opts, at=t0, layer_weights=layer_weights, cache_dir=cache_dir)
        gdf_hot, labels, weights = step.gdf_hotspots, step.labels, step.weights
        # the warnings reach the user with the plan (PatrolPlan.warnings, report.json, the CLI's
        # summary), so a plan that fails later still ends in one error line
        for line in step.warnings:
            log(_("note: {line}").format(line=line))
        if not gdf_hot.empty:
            gdf_hot["node"] = graph.nearest_nodes(G, gdf_hot["lon"], gdf_hot["lat"])[0]
        snapped = graph.snap_to_edges(G, gdf_inc)
        graph.add_edge_risk(G, snapped, weights)
        # streets as tasks carry the risk of incidents outside hotspots only
        streets = graph.segment_risk(G, snapped, weights.where(labels < 0, 0.0))
        route_opts = routing.RouteOptions(
            officers=opts.officers,
            shift_min=tuple(shifts) if len(shifts) > 1 else shift_min,
            dwell_min=opts.dwell_min,
            speed_kmh=opts.speed_kmh,
            max_hotspots=step.max_hotspots,
            ends=tuple(ends) if ends else None,
            max_segments=opts.max_segments,
            revisit_min=revisit_min,
            max_visits=opts.max_visits,
            revisit_value=opts.revisit_value,
            seed=seed,
            iterations=opts.iterations,
        )
        alternatives: tuple[tuple[routing.Route, ...], ...] = ()
        table = None
        compiled()
        if areas is not None:
            if opts.variants > 1 or opts.day is not None:
                msg = _("`areas` cannot be combined with `variants` or `day` yet")
                raise InputDataError(msg)
            from patrolplan import areas as _areas

            gdf_areas = _areas.read_areas(areas)
            subs = [_areas.restrict(G, geom) for geom in gdf_areas.geometry]
            routes = tuple(
                routing.solve_in_areas(G, gdf_hot, posts, subs, route_opts, segments=streets)
            )
        elif opts.variants > 1 or opts.day is not None:
            k = max(opts.variants, 7 if opts.day is not None else 1)
            plans, table = routing.variants(
                G, gdf_hot, posts, route_opts, segments=streets, k=k, tolerance=opts.tolerance
            )
            alternatives = tuple(tuple(p) for p in plans)
            pick = (opts.day - 1) % len(alternatives) if opts.day is not None else 0
            routes = alternatives[pick]
        else:
            routes = tuple(routing.solve(G, gdf_hot, posts, route_opts, segments=streets))
        summary = metrics.summary(routes, gdf_hot, labels, snapped, weights)
        schedule = export.schedule_frame(routes, shift_start=t0, G=G)
        coords = tuple(graph.path_geometry(G, r.nodes) for r in routes)
        resolved = opts.resolved()
        params: dict[str, object] = {
            "patrolplan_version": _package_version(),
            **resolved,
            "date": t0.date().isoformat(),
            "start": t0.strftime("%H:%M"),
            "shift_min": shift_min,
            "shifts_min": shifts,
            "seed": seed,
            # JSON has no infinity: an open upper bound is null
            "revisit_min": [
                revisit_min[0],
                revisit_min[1] if revisit_min[1] < float("inf") else None,
            ]
            if revisit_min
            else None,
            "max_visits": opts.max_visits if revisit_min else 1,
            "posts": [list(p) for p in posts],
            "ends": [list(p) for p in ends] if ends else None,
            "post_snaps": [dataclasses.asdict(s) for s in post_snaps],
            "end_snaps": [dataclasses.asdict(s) for s in end_snaps],
            "osm": {"file": Path(osm).name, "sha256": _file_sha256(osm)},
            "areas": {"file": Path(areas).name, "sha256": _file_sha256(areas)} if areas else None,
            "incidents": {
                k: {"file": Path(v).name, "sha256": _file_sha256(v)}
                for k, v in files.items()
                if v is not None
            },
            "layer_weights": {**hotspots.DEFAULT_LAYER_WEIGHTS, **(layer_weights or {})},
            "severity": {
                r.layer: dict(
                    (severity or {}).get(r.layer) or ingest.DEFAULT_SEVERITY.get(r.layer, {})
                )
                for r in reports
            },
            "columns": {r.layer: r.columns for r in reports},
            "crs": {r.layer: r.crs for r in reports},
            "graph_crs": _crs_name(G.graph.get("crs")),
            **step.record(),
        }
        total = summary.iloc[-1]
        log(
            _(
                "Plan {date} {start}: {officers} officers, {hotspots} hotspots ({revisits} "
                "revisits), {km} km, {covered} of weighted incidents covered"
            ).format(
                date=i18n.format_date(t0),
                start=params["start"],
                officers=opts.officers,
                hotspots=total["hotspots"],
                revisits=total["revisits"],
                km=i18n.format_number(total["km"], decimals=1),
                covered=i18n.format_percent(total["risk_covered_share"], decimals=0),
            )
        )
        return PatrolPlan(
            routes=routes,
            summary=summary,
            schedule=schedule,
            gdf_hotspots=gdf_hot,
            gdf_incidents=gdf_inc,
            weights=weights,
            labels=labels,
            snapped=snapped,
            G=G,
            reports=tuple(reports),
            shift_start=t0,
            route_coords=coords,
            params=params,
            options=opts,
            warnings=step.warnings,
            variants=alternatives,
            variant_table=table,
        )


def _crs_name(crs: object) -> str:
    """Name a CRS the same way whether the graph was built or read from the cache."""
    from pyproj import CRS

    return str(CRS.from_user_input(crs).to_string()) if crs is not None else "none"


def _package_version() -> str:
    from patrolplan import __version__

    return __version__


def output_names(
    plan: PatrolPlan | None = None,
    *,
    pdf: bool = False,
    officers: int | None = None,
    variants: bool | None = None,
) -> list[str]:
    """Return the names of the files :func:`write_plan` writes for a plan (or a request).

    Parameters
    ----------
    plan
        A computed plan; or None to list the names for `officers` and `variants`.
    pdf
        Whether ``sheets.pdf`` is written.
    officers
        Number of officers, when `plan` is None.
    variants
        Whether variants are written, when `plan` is None.

    Returns
    -------
    list of str
        File names, :data:`OUTPUT_FILES` first.

    Examples
    --------
    >>> output_names(officers=2)[-2:]
    ['officer_1.gpx', 'officer_2.gpx']
    """
    n = len(plan.routes) if plan is not None else officers or 1
    with_variants = bool(plan.variants) if plan is not None else bool(variants)
    names = [*OUTPUT_FILES, *(f"officer_{i}.gpx" for i in range(1, n + 1))]
    names += ["sheets.pdf"] if pdf else []
    names += ["variants.csv", "variants.geojson"] if with_variants else []
    return names


def write_plan(
    plan: PatrolPlan,
    out_dir: str | Path,
    *,
    pdf: bool = False,
    offline: bool = True,
    lang: str | None = None,
) -> list[Path]:
    """Write a plan's map, GeoJSON, timetable, summary and validation files into a folder.

    The files are written into a temporary folder first and moved into `out_dir` only when
    all of them are complete.

    Parameters
    ----------
    plan
        From :func:`daily_plan`.
    out_dir
        Output folder; created if needed.
    pdf
        Also print the route sheets to ``sheets.pdf`` (needs Chromium).
    offline
        Inline Leaflet and its plugins in ``map.html`` (default); False links them from
        their CDN.
    lang
        Language of the map, the route sheets, GPX/KML texts and the timetable's label
        columns: ``en``, ``ru`` or ``kk``; default the plan's ``options.lang``. Data keys and
        values stay English.

    Returns
    -------
    list of pathlib.Path
        The files written: :data:`OUTPUT_FILES` in `out_dir`, ``officer_N.gpx`` per officer,
        plus ``variants.csv`` and ``variants.geojson`` when the plan has variants.
    """
    out = Path(out_dir)
    lang = plan.options.lang if lang is None else i18n.check_language(lang)
    end = plan.shift_start + pd.Timedelta(minutes=max(plan.options.shifts_min))
    with i18n.language(lang):
        title = i18n.plan_title(plan.shift_start, end)
    edges = graph.edges_gdf(plan.G)
    names = i18n.street_names(edges, lang)
    with atomic_dir(out) as tmp:
        m = render.plan_map(
            gdf_edges=edges,
            gdf_incidents=plan.gdf_incidents,
            weights=plan.weights,
            gdf_hotspots=plan.gdf_hotspots,
            routes=plan.routes,
            route_coords=plan.route_coords,
            schedule=plan.schedule,
            title=title,
            lang=lang,
        )
        atomic_write_text(tmp / "map.html", render.to_html(m, offline=offline))
        export.routes_geojson(
            tmp / "routes.geojson",
            plan.routes,
            plan.G,
            shift_start=plan.shift_start,
            path_coords=plan.route_coords,
        )
        export.kml(
            tmp / "routes.kml",
            plan.routes,
            plan.route_coords,
            shift_start=plan.shift_start,
            colours=[render.officer_colour(r.officer) for r in plan.routes],
            lang=lang,
            streets=names,
        )
        for r, coords in zip(plan.routes, plan.route_coords, strict=True):
            export.gpx(
                tmp / f"officer_{r.officer}.gpx",
                r,
                coords,
                shift_start=plan.shift_start,
                lang=lang,
                streets=names,
            )
        atomic_write_text(
            tmp / "sheets.html",
            render.route_sheets(
                plan.routes,
                plan.route_coords,
                plan.schedule,
                gdf_edges=edges,
                title=title,
                lang=lang,
            ),
        )
        if pdf:
            render.sheets_to_pdf(tmp / "sheets.html", tmp / "sheets.pdf")
        export.hotspots_geojson(tmp / "hotspots.geojson", plan.gdf_hotspots)
        export.write_csv(
            tmp / "schedule.csv", export.schedule_labels(plan.schedule, lang=lang, streets=names)
        )
        export.write_csv(tmp / "summary.csv", plan.summary)
        export.write_csv(tmp / "rejected.csv", ingest.rejected_rows(list(plan.reports)))
        export.write_json(
            tmp / "report.json",
            {
                "params": {**plan.params, "lang": lang},
                "ingest": [
                    {
                        "file": Path(r.file).name,
                        "layer": r.layer,
                        "rows_read": r.rows_read,
                        "rows_kept": r.rows_kept,
                        "rejected": r.reasons(),
                        "columns": r.columns,
                        "notes": list(r.notes),
                    }
                    for r in plan.reports
                ],
                "hotspots": len(plan.gdf_hotspots),
                "summary": plan.summary.to_dict(orient="records"),
            },
        )
        if plan.variants:
            export.variants_csv(tmp / "variants.csv", plan.variant_table)
            export.variants_geojson(
                tmp / "variants.geojson",
                plan.variants,
                [[graph.path_geometry(plan.G, r.nodes) for r in v] for v in plan.variants],
            )
    written = [out / name for name in output_names(plan, pdf=pdf)]
    with i18n.language(lang):
        log(_("Wrote plan to {out}").format(out=out))
    return written
