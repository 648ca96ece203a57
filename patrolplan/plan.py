"""The daily patrol plan, end to end: ingest -> hotspots -> graph and routes -> render/export.

:func:`daily_plan` computes a :class:`PatrolPlan` in memory; :func:`write_plan` writes it to a
folder atomically (all files appear together, or none do).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from patrolplan import (
    _url,
    export,
    graph,
    hotspots,
    i18n,
    ingest,
    metrics,
    pipeline,
    presets,
    render,
    routing,
    settings,
)
from patrolplan._errors import InputDataError
from patrolplan.i18n import _, ngettext
from patrolplan.options import PlanOptions, parse_duration_min, parse_revisit
from patrolplan.request import LayerSource, PlanRequest
from patrolplan.utils import atomic_write_text, file_sha256, log

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx

__all__ = [
    "OUTPUT_FILES",
    "PLAN_OUTPUTS",
    "PatrolPlan",
    "PlanOptions",
    "PlanRequest",
    "daily_plan",
    "make_plan",
    "parse_duration_min",
    "parse_revisit",
    "write_plan",
]


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

    A shorthand of :func:`make_plan` for Python callers: the arguments become one
    :class:`~patrolplan.request.PlanRequest` (:meth:`~patrolplan.request.PlanRequest.build`).

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
        number), one area per officer: each officer gets the area of his post (else the
        nearest), and his route starts and ends at the post.
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
    with i18n.language(opts.lang):
        request = PlanRequest.build(
            None,
            incidents=ingest.layer_files(incidents),
            osm=osm,
            posts=posts,
            ends=ends,
            areas=areas,
            columns=columns,
            crs=crs,
            severity=severity,
            layer_weights=layer_weights,
            datetime_format=datetime_format,
            dayfirst=dayfirst,
            cache_dir=cache_dir,
            options=opts,
        )
    return make_plan(request)


def make_plan(request: PlanRequest) -> PatrolPlan:
    """Compute the daily plan of a request: load, weigh, find hotspots, route, total.

    Parameters
    ----------
    request
        What to plan (:class:`~patrolplan.request.PlanRequest`).

    Returns
    -------
    PatrolPlan
        Routes, timetable, summary and the intermediate results, in ``options.lang``.

    Raises
    ------
    PatrolPlanError
        Any input or feasibility problem, with a message that names it.
    """
    opts = request.options
    # every message of the plan (logs, warnings, errors) is made in the plan's language
    with i18n.language(opts.lang):
        request.require()
        assert request.osm is not None
        seed = settings.seed if opts.seed is None else opts.seed
        posts = list(request.posts)
        ends = list(request.ends)
        if request.areas is not None:
            from patrolplan import areas as _areas

            # more or fewer areas than officers, overlaps, end points: refused before any work
            _areas.check_areas(
                _areas.read_areas(request.areas),
                officers=opts.officers,
                ends=request.ends,
                path=request.areas,
            )
        # the first plan after an install compiles the route search while the data loads
        compiled = routing.start_compiling()
        data = pipeline.load(request)
        G, gdf_inc, t0 = data.G, data.gdf_incidents, data.t0
        assert G is not None
        layer_weights = request.layer_weights or None
        step = pipeline.hotspot_step(
            gdf_inc, opts, at=t0, layer_weights=layer_weights, cache_dir=request.cache_dir
        )
        gdf_hot, labels, weights = step.gdf_hotspots, step.labels, step.weights
        # the warnings reach the user with the plan (PatrolPlan.warnings, report.json, the CLI's
        # summary); hotspots.data_warnings has logged them once already
        if not gdf_hot.empty:
            gdf_hot["node"] = graph.nearest_nodes(G, gdf_hot["lon"], gdf_hot["lat"])[0]
        snapped = graph.snap_to_edges(G, gdf_inc)
        graph.add_edge_risk(G, snapped, weights)
        # streets as tasks carry the risk of incidents outside hotspots only
        streets = graph.segment_risk(G, snapped, weights.where(labels < 0, 0.0))
        route_opts = pipeline.route_options(
            opts, max_hotspots=step.max_hotspots, ends=tuple(ends) if ends else None
        )
        alternatives: tuple[tuple[routing.Route, ...], ...] = ()
        notes = tuple(step.warnings)
        area_of: list[int] | None = None
        table = None
        compiled()
        if request.areas is not None:
            if opts.variants > 1 or opts.day is not None:
                msg = _("`areas` cannot be combined with `variants` or `day` yet")
                raise InputDataError(msg)
            from patrolplan import areas as _areas

            gdf_areas = _areas.read_areas(request.areas)
            subs = [_areas.restrict(G, geom) for geom in gdf_areas.geometry]
            in_areas = routing.solve_in_areas(
                G,
                gdf_hot,
                posts,
                subs,
                route_opts,
                segments=streets,
                area_ids=[int(a) for a in gdf_areas["area"]],
            )
            routes = in_areas.routes
            area_of = [int(gdf_areas["area"].iloc[h]) for h in in_areas.homes]
            notes = (*notes, *in_areas.warnings)
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
        far = graph.unreachable_hotspots(G, gdf_hot)
        if len(far):
            notes = (*notes, routing.far_hotspots_note(far))
        idle = [str(r.officer) for r in routes if not r.stops]
        if idle and request.areas is None:
            # said in the log by the route search too; here it reaches the summary and report
            notes = (
                *notes,
                ngettext(
                    "officer {who} has nothing to do: no task is left within reach of the post "
                    "and the shift",
                    "officers {who} have nothing to do: no task is left within reach of their "
                    "posts and shifts",
                    len(idle),
                ).format(who=", ".join(idle)),
            )
        summary = metrics.summary(routes, gdf_hot, labels, snapped, weights)
        schedule = export.schedule_frame(routes, shift_start=t0, G=G)
        coords = tuple(graph.path_geometry(G, r.nodes) for r in routes)
        params = _resolve(request, data, step, seed=seed)
        if area_of is not None:
            params["officer_areas"] = area_of
            params["warnings"] = list(notes)
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
            ),
            settings.NOTICE,
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
            reports=data.reports,
            shift_start=t0,
            route_coords=coords,
            params=params,
            options=opts,
            warnings=notes,
            variants=alternatives,
            variant_table=table,
        )


def _resolve(
    request: PlanRequest, data: pipeline.Inputs, step: pipeline.HotspotStep, *, seed: int
) -> dict[str, object]:
    """Return every value the plan actually used, for report.json and the batch's marker."""
    opts = request.options
    shifts = list(opts.shifts_min)
    revisit_min = parse_revisit(opts.revisit)
    t0 = data.t0
    G = data.G
    assert G is not None
    assert request.osm is not None
    layers = {s.layer: s for s in request.layers}
    return {
        "patrolplan_version": _package_version(),
        **opts.resolved(),
        "date": t0.date().isoformat(),
        "start": t0.strftime("%H:%M"),
        "shift_min": max(shifts),
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
        "posts": [list(p) for p in request.posts],
        "ends": [list(p) for p in request.ends] if request.ends else None,
        "post_snaps": [dataclasses.asdict(s) for s in data.post_snaps],
        "end_snaps": [dataclasses.asdict(s) for s in data.end_snaps],
        "osm": {"file": request.osm.name, "sha256": _file_sha256(request.osm)},
        "areas": {"file": request.areas.name, "sha256": _file_sha256(request.areas)}
        if request.areas
        else None,
        "incidents": {
            k: {"file": Path(v).name, "sha256": _file_sha256(v)}
            if isinstance(v, Path)
            else {"file": _url.redact(v), "sha256": None}
            for k, v in request.files.items()
        },
        "layer_weights": {**hotspots.DEFAULT_LAYER_WEIGHTS, **request.layer_weights},
        "severity": {r.layer: _severity(layers[r.layer]) for r in data.reports},
        "columns": {r.layer: r.columns for r in data.reports},
        "crs": {r.layer: r.crs for r in data.reports},
        "graph_crs": _crs_name(G.graph.get("crs")),
        **step.record(),
    }


def _severity(source: LayerSource) -> dict[str, float]:
    """Return the severity table a layer was read with: its own, its preset's or the default."""
    if source.severity:
        return dict(source.severity)
    preset = presets.get(source.preset) if source.preset else None
    if preset is not None and preset.severity:
        return dict(preset.severity)
    return dict(ingest.DEFAULT_SEVERITY.get(source.layer, {}))


def _crs_name(crs: object) -> str:
    """Name a CRS the same way whether the graph was built or read from the cache."""
    from pyproj import CRS

    return str(CRS.from_user_input(crs).to_string()) if crs is not None else "none"


def _package_version() -> str:
    from patrolplan import __version__

    return __version__


@dataclass(eq=False)
class PlanFiles:
    """What the writers of a plan's files receive: the plan and how to write it.

    With `plan` None it only describes the files (for :func:`output_names` before planning).

    Attributes
    ----------
    plan
        The computed plan, or None.
    officers
        Officers (one GPX file each).
    variants
        Whether variant files are written.
    pdf
        Whether ``sheets.pdf`` is written.
    offline
        Inline Leaflet in ``map.html``.
    lang
        Language of the files a person reads.
    """

    plan: PatrolPlan | None
    officers: int
    variants: bool
    pdf: bool = False
    offline: bool = True
    lang: str = "en"

    @property
    def p(self) -> PatrolPlan:
        """The plan (writers run only with one)."""
        assert self.plan is not None
        return self.plan

    @cached_property
    def edges(self) -> gpd.GeoDataFrame:
        """Street edges of the plan's graph."""
        return graph.edges_gdf(self.p.G)

    @cached_property
    def streets(self) -> dict[str, str]:
        """Street names in the plan's language."""
        return i18n.street_names(self.edges, self.lang)

    @cached_property
    def title(self) -> str:
        """Title of the map and the sheets."""
        end = self.p.shift_start + pd.Timedelta(minutes=max(self.p.options.shifts_min))
        with i18n.language(self.lang):
            return i18n.plan_title(self.p.shift_start, end)


def _write_map(f: PlanFiles, tmp: Path) -> None:
    p = f.p
    m = render.plan_map(
        gdf_edges=f.edges,
        gdf_incidents=p.gdf_incidents,
        weights=p.weights,
        gdf_hotspots=p.gdf_hotspots,
        routes=p.routes,
        route_coords=p.route_coords,
        schedule=p.schedule,
        title=f.title,
        lang=f.lang,
    )
    atomic_write_text(tmp / "map.html", render.to_html(m, offline=f.offline))


def _write_routes(f: PlanFiles, tmp: Path) -> None:
    p = f.p
    export.routes_geojson(
        tmp / "routes.geojson",
        p.routes,
        shift_start=p.shift_start,
        path_coords=p.route_coords,
        tz=p.options.tz,
    )


def _write_stops(f: PlanFiles, tmp: Path) -> None:
    p = f.p
    export.stops_geojson(
        tmp / "stops.geojson", p.routes, p.G, shift_start=p.shift_start, tz=p.options.tz
    )


def _write_gpkg(f: PlanFiles, tmp: Path) -> None:
    p = f.p
    export.plan_gpkg(
        tmp / "plan.gpkg",
        p.routes,
        p.route_coords,
        p.G,
        shift_start=p.shift_start,
        gdf_hotspots=p.gdf_hotspots,
        gdf_edges=f.edges,
        tz=p.options.tz,
    )


def _write_schedule(f: PlanFiles, tmp: Path) -> None:
    p = f.p
    frame = export.schedule_labels(p.schedule, lang=f.lang, streets=f.streets)
    if p.options.tz is not None:
        # the timetable was made without the zone: give its date-times their UTC offset
        for col in ("arrive_at", "leave_at"):
            frame[col] = [
                export.iso_time(pd.Timestamp(v), 0, tz=p.options.tz) if v else ""
                for v in frame[col]
            ]
    export.write_csv(tmp / "schedule.csv", frame)


def _write_summary(f: PlanFiles, tmp: Path) -> None:
    summary = f.p.summary.copy()
    # the post also as two numbers, for spreadsheets and GIS joins
    at = summary.columns.get_loc("post") + 1
    posts = {str(r.officer): r.post for r in f.p.routes}
    summary.insert(at, "post_lat", [posts.get(str(o), (None, None))[0] for o in summary["officer"]])
    summary.insert(
        at + 1, "post_lon", [posts.get(str(o), (None, None))[1] for o in summary["officer"]]
    )
    export.write_csv(tmp / "summary.csv", summary)


def _write_kml(f: PlanFiles, tmp: Path) -> None:
    p = f.p
    export.kml(
        tmp / "routes.kml",
        p.routes,
        p.route_coords,
        shift_start=p.shift_start,
        colours=[render.officer_colour(r.officer) for r in p.routes],
        lang=f.lang,
        streets=f.streets,
        tz=p.options.tz,
    )


def _write_gpx(f: PlanFiles, tmp: Path) -> None:
    p = f.p
    for r, coords in zip(p.routes, p.route_coords, strict=True):
        export.gpx(
            tmp / f"officer_{r.officer}.gpx",
            r,
            coords,
            shift_start=p.shift_start,
            lang=f.lang,
            streets=f.streets,
            tz=p.options.tz,
        )


def _write_sheets(f: PlanFiles, tmp: Path) -> None:
    p = f.p
    page = render.route_sheets(
        p.routes,
        p.route_coords,
        p.schedule,
        gdf_edges=f.edges,
        title=f.title,
        lang=f.lang,
        gdf_hotspots=p.gdf_hotspots,
        shift_start=p.shift_start,
    )
    atomic_write_text(tmp / "sheets.html", page)
    if f.pdf:
        render.sheets_to_pdf(tmp / "sheets.html", tmp / "sheets.pdf")


def _write_report(f: PlanFiles, tmp: Path) -> None:
    p = f.p
    export.write_json(
        tmp / "report.json",
        {
            "params": {**p.params, "lang": f.lang},
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
                for r in p.reports
            ],
            "hotspots": len(p.gdf_hotspots),
            "summary": p.summary.to_dict(orient="records"),
        },
    )


def _write_variants(f: PlanFiles, tmp: Path) -> None:
    p = f.p
    export.variants_csv(tmp / "variants.csv", p.variant_table)
    export.variants_geojson(
        tmp / "variants.geojson",
        p.variants,
        [[graph.path_geometry(p.G, r.nodes) for r in v] for v in p.variants],
    )


#: Every file of a plan, in the order :func:`write_plan` lists them: name, writer, condition.
#: ``sheets.pdf`` is written with ``sheets.html`` (one Chromium run prints the page).
PLAN_OUTPUTS: tuple[export.Output[PlanFiles], ...] = (
    export.Output("map.html", _write_map),
    export.Output("routes.geojson", _write_routes),
    export.Output("stops.geojson", _write_stops),
    export.Output("routes.kml", _write_kml),
    export.Output(
        "hotspots.geojson",
        lambda f, tmp: export.hotspots_geojson(tmp / "hotspots.geojson", f.p.gdf_hotspots),
    ),
    export.Output("plan.gpkg", _write_gpkg),
    export.Output("schedule.csv", _write_schedule),
    export.Output("summary.csv", _write_summary),
    export.Output(
        "rejected.csv",
        lambda f, tmp: export.write_csv(
            tmp / "rejected.csv", ingest.rejected_rows(list(f.p.reports))
        ),
    ),
    export.Output("report.json", _write_report),
    export.Output("sheets.html", _write_sheets),
    export.Output(lambda f: [f"officer_{i}.gpx" for i in range(1, f.officers + 1)], _write_gpx),
    export.Output("sheets.pdf", lambda f, tmp: None, when=lambda f: f.pdf),
    export.Output(
        lambda f: ["variants.csv", "variants.geojson"], _write_variants, when=lambda f: f.variants
    ),
)

#: Files every plan writes (:data:`PLAN_OUTPUTS` with a single fixed name).
OUTPUT_FILES = tuple(
    o.names for o in PLAN_OUTPUTS if isinstance(o.names, str) and o.names != "sheets.pdf"
)


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
    return export.output_names(PlanFiles(plan, n, with_variants, pdf=pdf), PLAN_OUTPUTS)


def write_plan(
    plan: PatrolPlan,
    out_dir: str | Path,
    *,
    pdf: bool = False,
    offline: bool = True,
    lang: str | None = None,
) -> list[Path]:
    """Write a plan's map, GeoJSON, timetable, summary and validation files into a folder.

    The files (:data:`PLAN_OUTPUTS`) are written into a temporary folder first and moved into
    `out_dir` only when all of them are complete.

    Parameters
    ----------
    plan
        From :func:`make_plan` or :func:`daily_plan`.
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
    lang = plan.options.lang if lang is None else i18n.check_language(lang)
    files = PlanFiles(
        plan, len(plan.routes), bool(plan.variants), pdf=pdf, offline=offline, lang=lang
    )
    written = export.write_outputs(out_dir, files, PLAN_OUTPUTS)
    with i18n.language(lang):
        log(_("Wrote plan to {out}").format(out=Path(out_dir)))
    return written
