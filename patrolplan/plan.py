"""The daily patrol plan, end to end: ingest -> hotspots -> graph and routes -> render/export.

:func:`daily_plan` computes a :class:`PatrolPlan` in memory; :func:`write_plan` writes it to a
folder atomically (all files appear together, or none do).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from patrolplan import export, graph, hotspots, ingest, metrics, render, routing, settings
from patrolplan._errors import InfeasibleRouteError, InputDataError
from patrolplan.utils import atomic_dir, atomic_write_text, log

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx

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
        The parameters used, for the record.
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
    variants: tuple[tuple[routing.Route, ...], ...] = ()
    variant_table: pd.DataFrame | None = None


def parse_duration_min(text: str | float) -> float:
    """Parse a duration such as ``"4h"``, ``"90m"``, ``"3h30m"``, ``"4:30"`` or ``240``.

    Parameters
    ----------
    text
        A duration; a bare number is minutes.

    Returns
    -------
    float
        Minutes.

    Raises
    ------
    InfeasibleRouteError
        If the text is not a positive duration.

    Examples
    --------
    >>> parse_duration_min("4h"), parse_duration_min("3h30m"), parse_duration_min("1:15")
    (240.0, 210.0, 75.0)
    """
    s = str(text).strip().lower().replace(" ", "")
    m = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?:in)?)?", s)
    if s and m and any(m.groups()):
        minutes = float(m.group(1) or 0) * 60 + float(m.group(2) or 0)
    elif re.fullmatch(r"\d{1,2}:\d{2}", s):
        h, mm = s.split(":")
        minutes = int(h) * 60.0 + int(mm)
    elif re.fullmatch(r"\d+(?:\.\d+)?", s):
        minutes = float(s)
    else:
        msg = f"`shift` must be a duration like 4h, 90m, 3h30m or 4:30; got {text!r}"
        raise InfeasibleRouteError(msg)
    if minutes <= 0:
        msg = f"`shift` must be longer than zero, got {text!r}"
        raise InfeasibleRouteError(msg)
    return minutes


def parse_revisit(text: str | float | Sequence[float] | None) -> tuple[float, float] | None:
    """Parse a revisit interval: ``"60"`` / ``"1h"`` (at least), or ``"60-120"`` (between).

    Parameters
    ----------
    text
        Minutes, a duration, a ``min-max`` range of durations, a ``(min, max)`` pair, or None.

    Returns
    -------
    tuple of float or None
        ``(min, max)`` minutes between the starts of two visits to one hotspot; ``max`` is
        infinite when not given. None when `text` is None.

    Raises
    ------
    InfeasibleRouteError
        If the text is not a duration or a range with min <= max.

    Examples
    --------
    >>> parse_revisit("60"), parse_revisit("1h-2h30m")
    ((60.0, inf), (60.0, 150.0))
    """
    if text is None:
        return None
    if not isinstance(text, str | int | float):
        lo, hi = (float(v) for v in text)
    else:
        parts = str(text).replace(" ", "").split("-")
        if len(parts) not in (1, 2) or not all(parts):
            msg = f"`revisit` must be minutes or a range like 60-120, got {text!r}"
            raise InfeasibleRouteError(msg)
        try:
            lo = parse_duration_min(parts[0])
            hi = parse_duration_min(parts[1]) if len(parts) == 2 else float("inf")
        except InfeasibleRouteError:
            msg = f"`revisit` must be minutes or a range like 60-120, got {text!r}"
            raise InfeasibleRouteError(msg) from None
    if not 0 < lo <= hi:
        msg = f"`revisit` must be positive with min <= max, got {text!r}"
        raise InfeasibleRouteError(msg)
    return lo, hi


def _shift_start(date: str | None, start: str) -> pd.Timestamp:
    if not re.fullmatch(r"\d{1,2}:\d{2}", start):
        msg = f"`start` must be a time of day HH:MM, got {start!r}"
        raise InfeasibleRouteError(msg)
    try:
        day = pd.Timestamp(date).normalize() if date else pd.Timestamp.now().normalize()
    except ValueError:
        msg = f"`date` must be YYYY-MM-DD, got {date!r}"
        raise InputDataError(msg) from None
    h, m = (int(v) for v in start.split(":"))
    if h > 23 or m > 59:
        msg = f"`start` must be a time of day HH:MM, got {start!r}"
        raise InfeasibleRouteError(msg)
    return day + pd.Timedelta(hours=h, minutes=m)


def daily_plan(
    incidents: str | Path | Mapping[str, str | Path | None],
    osm: str | Path,
    posts: Sequence[tuple[float, float]],
    *,
    officers: int = 1,
    shift: str | float = "4h",
    start: str = "08:00",
    date: str | None = None,
    days: int | None = None,
    since: str | None = None,
    seed: int | None = None,
    dwell_min: float | None = None,
    speed_kmh: float | None = None,
    columns: Mapping[str, Any] | None = None,
    crs: str | Mapping[str, str] | None = None,
    severity: Mapping[str, Mapping[str, float]] | None = None,
    layer_weights: Mapping[str, float] | None = None,
    method: str = "dbscan",
    eps_m: float | None = None,
    min_weight: float | None = None,
    max_hotspots: int | None = None,
    max_segments: int | None = None,
    revisit: str | float | Sequence[float] | None = None,
    max_visits: int = 2,
    revisit_value: float | None = None,
    half_life_days: float | None = None,
    iterations: int | None = None,
    ends: Sequence[tuple[float, float]] | None = None,
    variants: int = 1,
    day: int | None = None,
    tolerance: float = 0.05,
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
    officers
        Number of officers on foot.
    shift
        Shift length, e.g. ``"4h"``, or one per officer, e.g. ``"4h,4h,2h"``.
    start
        Time the shift starts, ``HH:MM``.
    date
        Day of the plan, ``YYYY-MM-DD``; incidents from the shift start on are not used.
        Default: today.
    days
        Use only incidents of the last `days` days before the plan.
    since
        Use only incidents from this date on (``YYYY-MM-DD``).
    seed
        Seed of the route solver; default :data:`patrolplan.settings.seed`.
    dwell_min, speed_kmh
        Minutes at each hotspot and walking speed; defaults from :mod:`patrolplan.settings`.
    columns, crs, severity
        Passed to :func:`patrolplan.ingest.read_layers` (one value for all layers, or per
        layer).
    layer_weights
        Layer -> weight in the combined risk.
    method, eps_m, min_weight
        Passed to :func:`patrolplan.hotspots.cluster_incidents`.
    max_hotspots
        Top hotspots offered to the solver.
    max_segments
        Riskiest streets (by incidents outside hotspots) offered as walk-along tasks; 0 for
        none. Default :data:`patrolplan.settings.max_segments`.
    revisit
        Let a hotspot be visited again (by any officer) when the visits start at least this
        far apart: minutes, a duration (``"1h"``) or a range (``"60-120"``) that also caps the
        gap; see :func:`parse_revisit`. Default: each hotspot at most once.
    max_visits
        Most visits per hotspot when `revisit` is given.
    revisit_value
        Share of a hotspot's risk a revisit is worth to the solver; default
        :data:`patrolplan.settings.revisit_value`.
    half_life_days
        Recency half-life.
    iterations
        Solver iterations.
    ends
        Open routes: where officers finish, assigned in turn; default back at the post.
    variants
        Also plan this many diverse alternatives (see :func:`patrolplan.routing.variants`).
    day
        Rotate routes day to day: plan 7 variants and use variant ``day`` (1 to 7), so each
        day of a week walks different streets while the top hotspots stay visited.
    tolerance
        Largest loss of collected risk a variant may have against the best plan.
    cache_dir
        Graph cache folder.

    Returns
    -------
    PatrolPlan
        Routes, timetable, summary and the intermediate results.

    Raises
    ------
    PatrolPlanError
        Any input or feasibility problem, with a message that names it.
    """
    seed = settings.seed if seed is None else seed
    # one shift for everybody, or one per officer: "4h" or "4h,4h,2h"
    shifts = (
        [parse_duration_min(v) for v in str(shift).split(",")]
        if isinstance(shift, str)
        else [parse_duration_min(shift)]
    )
    if len(shifts) not in (1, officers):
        msg = f"`shift` gives {len(shifts)} lengths for {officers} officers"
        raise InfeasibleRouteError(msg)
    shift_min = max(shifts)
    revisit_min = parse_revisit(revisit)
    t0 = _shift_start(date, start)
    files = {"crime": incidents} if isinstance(incidents, str | Path) else dict(incidents)
    unknown = set(files) - set(ingest.LAYERS)
    if unknown:
        msg = f"`incidents` layers must be among {ingest.LAYERS}, got {sorted(unknown)}"
        raise InputDataError(msg)

    G = graph.graph_from_file(osm, cache_dir=cache_dir)
    area = graph.graph_area(G)
    since_ts = t0.normalize() - pd.Timedelta(days=days) if days else None
    if since is not None:
        try:
            given = pd.Timestamp(since)
        except ValueError:
            msg = f"`since` must be a date YYYY-MM-DD, got {since!r}"
            raise InputDataError(msg) from None
        since_ts = given if since_ts is None else max(given, since_ts)
    gdf_inc, reports = ingest.read_layers(
        files, columns=columns, crs=crs, severity=severity, area=area, since=since_ts, until=t0
    )
    weights = hotspots.incident_weights(
        gdf_inc,
        at=t0,
        half_life_days=half_life_days,
        layer_weights=layer_weights,
        shift_start_hour=t0.hour + t0.minute / 60.0,
        shift_length_h=shift_min / 60.0,
    )
    gdf_hot, labels = hotspots.find_hotspots(
        gdf_inc, weights, method=method, eps_m=eps_m, min_weight=min_weight
    )
    if not gdf_hot.empty:
        gdf_hot["node"], _ = graph.nearest_nodes(G, gdf_hot["lon"], gdf_hot["lat"])
    snapped = graph.snap_to_edges(G, gdf_inc)
    graph.add_edge_risk(G, snapped, weights)
    # streets as tasks carry the risk of incidents outside hotspots only
    streets = graph.segment_risk(G, snapped, weights.where(labels < 0, 0.0))
    route_args = dict(
        officers=officers,
        shift_min=shifts if len(shifts) > 1 else shift_min,
        dwell_min=dwell_min,
        speed_kmh=speed_kmh,
        max_hotspots=max_hotspots,
        ends=ends,
        segments=streets,
        max_segments=max_segments,
        revisit_min=revisit_min,
        max_visits=max_visits,
        revisit_value=revisit_value,
    )
    alternatives: tuple[tuple[routing.Route, ...], ...] = ()
    table = None
    if day is not None and not 1 <= day <= 7:
        msg = f"`day` must be 1 to 7 (the day of the rotation week), got {day}"
        raise InfeasibleRouteError(msg)
    if variants > 1 or day is not None:
        k = max(variants, 7 if day is not None else 1)
        plans, table = routing.variants(
            G,
            gdf_hot,
            posts,
            k=k,
            tolerance=tolerance,
            seed=seed,
            iterations=iterations,
            **route_args,
        )
        alternatives = tuple(tuple(p) for p in plans)
        routes = alternatives[(day - 1) % len(alternatives) if day is not None else 0]
    else:
        routes = tuple(
            routing.solve(G, gdf_hot, posts, seed=seed, iterations=iterations, **route_args)
        )
    summary = metrics.summary(routes, gdf_hot, labels, snapped, weights)
    schedule = export.schedule_frame(routes, shift_start=t0)
    coords = tuple(graph.path_geometry(G, r.nodes) for r in routes)
    params = {
        "date": t0.date().isoformat(),
        "start": t0.strftime("%H:%M"),
        "shift_min": shift_min,
        "shifts_min": shifts,
        "officers": officers,
        "posts": [list(p) for p in posts],
        "seed": seed,
        "dwell_min": settings.dwell_min if dwell_min is None else dwell_min,
        "speed_kmh": settings.walk_speed_kmh if speed_kmh is None else speed_kmh,
        "method": method,
        "days": days,
        "since": since,
        "max_segments": max_segments,
        # JSON has no infinity: an open upper bound is null
        "revisit_min": [revisit_min[0], revisit_min[1] if revisit_min[1] < float("inf") else None]
        if revisit_min
        else None,
        "max_visits": max_visits if revisit_min else 1,
        "revisit_value": (settings.revisit_value if revisit_value is None else revisit_value)
        if revisit_min
        else None,
        "osm": Path(osm).name,
        "variants": variants,
        "day": day,
        "ends": [list(p) for p in ends] if ends else None,
        "incidents": {k: Path(v).name for k, v in files.items() if v is not None},
    }
    total = summary.iloc[-1]
    log(
        f"Plan {params['date']} {params['start']}: {officers} officers, "
        f"{total['hotspots']} hotspots ({total['revisits']} revisits), {total['km']:.1f} km, "
        f"{total['risk_covered_share']:.0%} of weighted incidents covered"
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
        variants=alternatives,
        variant_table=table,
    )


def write_plan(
    plan: PatrolPlan, out_dir: str | Path, *, pdf: bool = False, offline: bool = True
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

    Returns
    -------
    list of pathlib.Path
        The files written: :data:`OUTPUT_FILES` in `out_dir`, ``officer_N.gpx`` per officer,
        plus ``variants.csv`` and ``variants.geojson`` when the plan has variants.
    """
    out = Path(out_dir)
    end = plan.shift_start + pd.Timedelta(minutes=float(plan.params["shift_min"]))  # type: ignore[arg-type]
    title = f"Patrol plan {plan.shift_start:%Y-%m-%d}, shift {plan.shift_start:%H:%M}-{end:%H:%M}"
    edges = graph.edges_gdf(plan.G)
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
        )
        for r, coords in zip(plan.routes, plan.route_coords, strict=True):
            export.gpx(tmp / f"officer_{r.officer}.gpx", r, coords, shift_start=plan.shift_start)
        atomic_write_text(
            tmp / "sheets.html",
            render.route_sheets(
                plan.routes,
                plan.route_coords,
                plan.schedule,
                gdf_edges=edges,
                title=title,
            ),
        )
        if pdf:
            render.sheets_to_pdf(tmp / "sheets.html", tmp / "sheets.pdf")
        export.hotspots_geojson(tmp / "hotspots.geojson", plan.gdf_hotspots)
        export.write_csv(tmp / "schedule.csv", plan.schedule)
        export.write_csv(tmp / "summary.csv", plan.summary)
        export.write_csv(tmp / "rejected.csv", ingest.rejected_rows(list(plan.reports)))
        export.write_json(
            tmp / "report.json",
            {
                "params": plan.params,
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
            export.write_csv(tmp / "variants.csv", plan.variant_table)
            export.variants_geojson(
                tmp / "variants.geojson",
                plan.variants,
                [[graph.path_geometry(plan.G, r.nodes) for r in v] for v in plan.variants],
            )
    extra = tuple(f"officer_{r.officer}.gpx" for r in plan.routes) + (
        ("sheets.pdf",) if pdf else ()
    )
    extra += ("variants.csv", "variants.geojson") if plan.variants else ()
    written = [out / name for name in (*OUTPUT_FILES, *extra)]
    # Files an earlier plan wrote into the same folder must not pass for this plan's.
    stale = {
        *out.glob("officer_*.gpx"),
        out / "sheets.pdf",
        out / "variants.csv",
        out / "variants.geojson",
    } - set(written)
    for path in stale:
        path.unlink(missing_ok=True)
    log(f"Wrote plan to {out}")
    return written
