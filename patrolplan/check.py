"""Check a district's inputs before planning: what would be read, and what would fail.

:func:`check` reads everything a plan of the request would read (:func:`patrolplan.pipeline.load`:
the street extract and every incident layer, in the plan's window) and plans nothing. It
reports each layer's detected columns, CRS, rows kept and rejected with their reasons, the
date range and how precise its times are; the extract's area and its streets; and each post's
(and end point's) distance to its street, with a hint when the two numbers look swapped
(``"did you mean 39.2826,-76.5932?"``). :attr:`CheckReport.problems` lists what would make
the plan fail; the command line (``patrolplan check``) exits with 1 when there is any.

Examples
--------
>>> from patrolplan import datasets
>>> from patrolplan.request import PlanRequest
>>> report = check(PlanRequest.from_file(datasets.data_dir() / "baltimore.toml"))
>>> report.ok, report.layers[0].columns["lat"], report.layers[0].precision
(True, 'latitude', {'datetime': 538})
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from patrolplan import graph, i18n, ingest, pipeline, settings
from patrolplan._errors import PatrolPlanError
from patrolplan.i18n import _
from patrolplan.utils import log, logger

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx

    from patrolplan.request import PlanRequest

__all__ = ["CheckReport", "ExtractCheck", "LayerCheck", "PointCheck", "check"]

#: A swapped point is suggested when it lands this many times nearer a street.
SWAP_GAIN = 10.0


@dataclass(frozen=True)
class LayerCheck:
    """What a plan would read from one incident file.

    Attributes
    ----------
    file
        The file's name.
    layer
        ``crime``, ``accident`` or ``juvenile``.
    columns
        Role -> column detected (``lat``, ``lon``, ``datetime``, ``category``, ``id``).
    crs
        CRS of the coordinates as read.
    rows_read, rows_kept
        Data rows in the file; rows kept for the plan (inside the extract, dated before the
        shift and inside `days`/`since`).
    rejected
        Reason -> number of rows rejected, most frequent first.
    first, last
        Earliest and latest incident time kept (ISO 8601), ``""`` when none is dated.
    precision
        How precise the kept times are: ``datetime``, ``date``, ``month``, ``year`` or
        ``none`` -> number of rows.
    notes
        Ingest's warnings about suspicious but usable data.
    """

    file: str
    layer: str
    columns: dict[str, str]
    crs: str
    rows_read: int
    rows_kept: int
    rejected: dict[str, int]
    first: str
    last: str
    precision: dict[str, int]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExtractCheck:
    """The street extract as a plan would read it.

    Attributes
    ----------
    file
        The file's name.
    area_km2
        Area the streets cover (their buffered convex hull).
    streets
        Named streets (distinct names).
    segments
        Street segments.
    street_km
        Length of all segments.
    bounds
        ``(min lon, min lat, max lon, max lat)`` of the covered area.
    """

    file: str
    area_km2: float
    streets: int
    segments: int
    street_km: float
    bounds: tuple[float, float, float, float]


@dataclass(frozen=True)
class PointCheck:
    """A post or end point, placed on its street.

    Attributes
    ----------
    what
        ``post`` or ``end point``.
    number
        1-based position among the posts (or end points).
    lat, lon
        As given.
    dist_m
        Distance to the nearest street node.
    street
        A street at that node, ``""`` if unnamed.
    ok
        Whether the distance is within :data:`patrolplan.settings.max_snap_m`.
    swapped_dist_m
        Distance with latitude and longitude swapped, when that point lands at least
        :data:`SWAP_GAIN` times nearer a street and within the limit; else None.
    """

    what: str
    number: int
    lat: float
    lon: float
    dist_m: float
    street: str
    ok: bool
    swapped_dist_m: float | None = None


@dataclass(frozen=True)
class CheckReport:
    """Everything :func:`check` found.

    Attributes
    ----------
    layers
        One per incident file read.
    extract
        The street extract, or None when it could not be read.
    points
        Posts, then end points.
    problems
        What would make the plan fail, one line each.
    """

    layers: tuple[LayerCheck, ...] = ()
    extract: ExtractCheck | None = None
    points: tuple[PointCheck, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Whether a plan of the request can be made from these inputs."""
        return not self.problems

    def lines(self) -> list[str]:
        """Describe the report for people, in the current language.

        Returns
        -------
        list of str
            One line per finding, sections first.
        """
        out: list[str] = []
        for c in self.layers:
            out.append(
                _("{file} [{layer}]: {read} rows read, {kept} kept").format(
                    file=c.file,
                    layer=c.layer,
                    read=i18n.format_number(c.rows_read),
                    kept=i18n.format_number(c.rows_kept),
                )
            )
            cols = ", ".join(f"{role} = {col}" for role, col in c.columns.items())
            out.append("  " + _("columns: {columns}; CRS {crs}").format(columns=cols, crs=c.crs))
            if c.rejected:
                reasons = ingest.reasons_text(c.rejected)
                out.append("  " + _("rejected: {reasons}").format(reasons=reasons))
            if c.first:
                out.append("  " + _("dates {first} to {last}").format(first=c.first, last=c.last))
            precision = ", ".join(f"{k} {i18n.format_number(v)}" for k, v in c.precision.items())
            out.append("  " + _("time precision: {precision}").format(precision=precision))
            out += ["  " + _("note: {line}").format(line=n) for n in c.notes]
        if self.extract is not None:
            e = self.extract
            out.append(
                _(
                    "{file}: {km2} km², {streets} named streets, {segments} segments, "
                    "{km} km of street"
                ).format(
                    file=e.file,
                    km2=i18n.format_number(e.area_km2, decimals=1),
                    streets=i18n.format_number(e.streets),
                    segments=i18n.format_number(e.segments),
                    km=i18n.format_number(e.street_km, decimals=1),
                )
            )
        for p in self.points:
            line = _("{what} {number} {lat},{lon}: {dist} m from {street}").format(
                what=_point(p.what),
                number=p.number,
                lat=p.lat,
                lon=p.lon,
                dist=i18n.format_number(p.dist_m),
                street=p.street or _("unnamed street"),
            )
            if p.swapped_dist_m is not None:
                line += "; " + _("did you mean {lat},{lon}? ({dist} m from a street)").format(
                    lat=p.lon, lon=p.lat, dist=i18n.format_number(p.swapped_dist_m)
                )
            out.append(line)
        if self.problems:
            out.append(_("The plan would fail:"))
            out += [f"  - {p}" for p in self.problems]
        else:
            out.append(_("Ready to plan."))
        return out


def _point(what: str) -> str:
    """Name a point's kind in the current language."""
    return _("post") if what == "post" else _("end point")


def _layer(report: ingest.IngestReport, gdf: gpd.GeoDataFrame) -> LayerCheck:
    mine = gdf[gdf["layer"] == report.layer] if "layer" in gdf else gdf
    times = mine["datetime"].dropna() if "datetime" in mine else mine.iloc[:0]
    precision = (
        {str(k): int(v) for k, v in mine["time_precision"].value_counts().items()}
        if "time_precision" in mine
        else {}
    )
    return LayerCheck(
        file=Path(report.file).name,
        layer=report.layer,
        columns=dict(report.columns),
        crs=report.crs,
        rows_read=report.rows_read,
        rows_kept=len(mine),
        rejected=report.reasons(),
        first=times.min().isoformat() if len(times) else "",
        last=times.max().isoformat() if len(times) else "",
        precision=precision,
        notes=tuple(report.notes),
    )


def _extract(G: nx.MultiDiGraph, name: str) -> ExtractCheck:
    import geopandas as gpd

    area = graph.graph_area(G)
    metric = gpd.GeoSeries([area], crs="EPSG:4326")
    km2 = float(metric.to_crs(metric.estimate_utm_crs()).area.iloc[0]) / 1e6
    edges = graph.edges_gdf(G)
    names = {
        part
        for value in edges["name"]
        for part in str(value or "").split(";")
        if part and part != "nan"
    }
    x0, y0, x1, y1 = area.bounds
    return ExtractCheck(
        file=name,
        area_km2=km2,
        streets=len(names),
        segments=len(edges),
        street_km=float(edges["length"].sum()) / 1000.0,
        bounds=(float(x0), float(y0), float(x1), float(y1)),
    )


def _points(
    G: nx.MultiDiGraph, points: tuple[tuple[float, float], ...], what: str
) -> list[PointCheck]:
    if not points:
        return []
    lat = np.array([p[0] for p in points], dtype=float)
    lon = np.array([p[1] for p in points], dtype=float)
    nodes, dist = graph.nearest_nodes(G, lon, lat)
    # the same points with the two numbers swapped, where that is still a latitude
    valid = np.abs(lon) <= 90
    _n, swapped = graph.nearest_nodes(G, np.where(valid, lat, 0.0), np.where(valid, lon, 0.0))
    out = []
    for i, (la, lo, n, d, s, v) in enumerate(
        zip(lat, lon, nodes, dist, swapped, valid, strict=True), start=1
    ):
        hint = (
            float(s)
            if v and float(s) <= settings.max_snap_m and float(s) * SWAP_GAIN < float(d)
            else None
        )
        out.append(
            PointCheck(
                what=what,
                number=i,
                lat=float(la),
                lon=float(lo),
                dist_m=float(d),
                street=graph.node_street(G, int(n)),
                ok=bool(float(d) <= settings.max_snap_m),
                swapped_dist_m=hint,
            )
        )
    return out


class _HeldWarnings(logging.Filter):
    """Hold back the warnings logged on the ``patrolplan`` logger while the data is read."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING:
            self.held.append(record)
            return False
        return True


@contextlib.contextmanager
def _notes_once(notes: Callable[[], Iterable[str]]) -> Iterator[None]:
    """Log the warnings of the block afterwards, except those the report prints as notes."""
    held = _HeldWarnings()
    logger.addFilter(held)
    try:
        yield
    finally:
        logger.removeFilter(held)
        shown = tuple(f": {n}" for n in notes())
        for record in held.held:
            if not record.getMessage().endswith(shown):
                logger.handle(record)


def check(request: PlanRequest) -> CheckReport:
    """Read what a plan of `request` would read and report it, without planning.

    Parameters
    ----------
    request
        The request (from a district file, flags or Python).

    Returns
    -------
    CheckReport
        Layers, extract, posts and the problems that would make the plan fail. Input errors
        become problems, not exceptions, so every finding is reported at once.
    """
    problems: list[str] = []
    try:
        request.require()
    except PatrolPlanError as exc:
        problems.append(str(exc))
    data = None
    G = None

    def notes() -> list[str]:
        return [n for r in data.reports for n in r.notes] if data is not None else []

    if request.osm is not None and request.layers:
        # a note (no category matches the severity table, ...) is printed once, as a note
        with _notes_once(notes):
            try:
                # the plan's own reading: extract, layers, window; posts are placed below, so
                # that one far post does not hide the rest
                data = pipeline.load(request, posts=False)
                G = data.G
            except PatrolPlanError as exc:
                problems.append(str(exc))
    if G is None and request.osm is not None:
        try:
            G = graph.graph_from_file(request.osm, cache_dir=request.cache_dir)
        except PatrolPlanError as exc:
            if not problems or str(exc) not in problems:
                problems.append(str(exc))
    layers = tuple(_layer(r, data.gdf_incidents) for r in data.reports) if data is not None else ()
    points: list[PointCheck] = []
    extract = None
    if G is not None:
        assert request.osm is not None
        extract = _extract(G, request.osm.name)
        points = _points(G, request.posts, "post") + _points(G, request.ends, "end point")
    for p in points:
        if not p.ok:
            problems.append(
                _(
                    "{what} {lat},{lon} is {dist} m from the nearest street (at most {most} m "
                    "allowed)"
                ).format(
                    what=_point(p.what),
                    lat=p.lat,
                    lon=p.lon,
                    dist=i18n.format_number(p.dist_m),
                    most=i18n.format_number(settings.max_snap_m),
                )
            )
    report = CheckReport(tuple(layers), extract, tuple(points), tuple(problems))
    log(
        _("Checked {layers} layers, {points} points: {problems} problems").format(
            layers=len(layers), points=len(points), problems=len(problems)
        )
    )
    return report
