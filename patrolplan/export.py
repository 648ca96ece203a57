"""Write routes, hotspots, timetables and summaries to files, atomically.

GeoJSON follows RFC 7946: a FeatureCollection in WGS84 longitude/latitude order with no
``crs`` member, polygons wound counter-clockwise, coordinates rounded to 7 decimals.
Every writer writes to a temporary file and renames it, so no half-written file is left.

Text from the input data (incident categories, OSM street names, hotspot ids) is public data
anyone can edit, so every writer escapes it for its format: XML text and attributes in GPX and
KML, and in CSV a cell that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a line break) gets a leading ``'`` (:func:`csv_safe`), while numbers such
as ``-76.6`` stay numbers.

Keys and column names are stable English in every language; the names and descriptions a
person reads in GPX and KML, and the ``task_label`` and ``street_label`` columns of the
timetable, are in the language asked for (``lang="ru"``, see :mod:`patrolplan.i18n`).
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pandas as pd
import shapely
from shapely.geometry import mapping

from patrolplan import i18n
from patrolplan.i18n import _, ngettext
from patrolplan.utils import atomic_dir, atomic_path, atomic_write_text, log

if TYPE_CHECKING:
    from collections.abc import Mapping

    import geopandas as gpd
    import networkx as nx

    from patrolplan.routing import Route

_NDIGITS = 7

T = TypeVar("T")


def _round(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, _NDIGITS)
    if isinstance(obj, list | tuple):
        return [_round(o) for o in obj]
    return obj


def _feature(geometry: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    geometry = {"type": geometry["type"], "coordinates": _round(geometry["coordinates"])}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _write_geojson(path: str | Path, features: list[dict[str, Any]]) -> Path:
    text = json.dumps(
        {"type": "FeatureCollection", "features": features},
        ensure_ascii=False,
        indent=None,
        separators=(",", ":"),
    )
    return atomic_write_text(path, text + "\n")


def clock(start: pd.Timestamp, minutes: float) -> str:
    """Format `start` plus `minutes` as ``HH:MM``.

    Parameters
    ----------
    start
        Start of the shift.
    minutes
        Minutes after the start.

    Returns
    -------
    str
        Clock time, rounded to the minute.
    """
    return str((start + pd.Timedelta(minutes=round(minutes))).strftime("%H:%M"))


def iso_time(start: pd.Timestamp, minutes: float, *, tz: str | None = None) -> str:
    """Format `start` plus `minutes` as an ISO 8601 date and time, right across midnight.

    Parameters
    ----------
    start
        Start of the shift (local wall-clock time, as planned).
    minutes
        Minutes after the start; rounded to the minute, as :func:`clock` does.
    tz
        The district's time zone (IANA name): the time gets its UTC offset. None: local time
        without an offset.

    Returns
    -------
    str
        ``YYYY-MM-DDTHH:MM:SS``, with ``+HH:MM`` when `tz` is given.

    Examples
    --------
    >>> iso_time(pd.Timestamp("2016-06-19 22:00"), 150)
    '2016-06-20T00:30:00'
    >>> iso_time(pd.Timestamp("2016-06-19 22:00"), 0, tz="America/New_York")
    '2016-06-19T22:00:00-04:00'
    """
    t = start + pd.Timedelta(minutes=round(minutes))
    if tz is not None and t.tzinfo is None:
        t = t.tz_localize(tz)
    return str(t.isoformat(timespec="seconds"))


def _utc(start: pd.Timestamp, minutes: float, tz: str | None) -> str:
    """Return the GPX time of a moment: UTC with ``Z`` when the zone is known, else local."""
    t = start + pd.Timedelta(minutes=minutes).round("s")
    if tz is None and t.tzinfo is None:
        return str(t.isoformat(timespec="seconds"))
    if t.tzinfo is None:
        t = t.tz_localize(tz)
    return str(t.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"))


def _route_properties(route: Route, shift_start: pd.Timestamp, tz: str | None) -> dict[str, Any]:
    """Properties of a route's line, the same in GeoJSON and GeoPackage."""
    return {
        "kind": "route",
        "officer": route.officer,
        "post_lat": route.post[0],
        "post_lon": route.post[1],
        "length_m": round(route.length_m, 1),
        "walk_min": round(route.walk_min, 1),
        "dwell_min": round(route.dwell_min, 1),
        "duration_min": round(route.duration_min, 1),
        "shift_min": round(route.shift_min, 1),
        "n_stops": len(route.stops),
        "hotspots": list(route.hotspot_ids),
        "start": iso_time(shift_start, 0, tz=tz),
        "end": iso_time(shift_start, route.duration_min, tz=tz),
    }


def _point_features(
    routes: Sequence[Route], G: nx.MultiDiGraph, shift_start: pd.Timestamp, tz: str | None
) -> list[dict[str, Any]]:
    """Each officer's post, end point (of an open route) and stops, as GeoJSON features."""
    features = []
    for route in routes:
        features.append(
            _feature(
                {"type": "Point", "coordinates": [route.post[1], route.post[0]]},
                {
                    "kind": "post",
                    "officer": route.officer,
                    "lat": route.post[0],
                    "lon": route.post[1],
                    "leave": iso_time(shift_start, 0, tz=tz),
                },
            )
        )
        if route.end_node != route.post_node:
            finish = G.nodes[route.end_node]
            features.append(
                _feature(
                    {"type": "Point", "coordinates": [finish["lon"], finish["lat"]]},
                    {
                        "kind": "end",
                        "officer": route.officer,
                        "lat": finish["lat"],
                        "lon": finish["lon"],
                        "arrive": iso_time(shift_start, route.duration_min, tz=tz),
                    },
                )
            )
        numbers = route.numbers
        for s in route.stops:
            features.append(
                _feature(
                    {"type": "Point", "coordinates": [s.lon, s.lat]},
                    {
                        "kind": "stop",
                        "task": s.kind,
                        "officer": route.officer,
                        "order": s.order,
                        "stop": numbers.get(s.order),
                        "hotspot_id": s.hotspot_id,
                        "visit": s.visit,
                        "arrive": iso_time(shift_start, s.arrive_min, tz=tz),
                        "leave": iso_time(shift_start, s.leave_min, tz=tz),
                        "dwell_min": round(s.leave_min - s.arrive_min, 1),
                        "risk": round(s.risk, 3),
                        "street": s.street,
                        "lat": s.lat,
                        "lon": s.lon,
                    },
                )
            )
    return features


def routes_geojson(
    path: str | Path,
    routes: Sequence[Route],
    G: nx.MultiDiGraph | None = None,
    *,
    shift_start: pd.Timestamp,
    path_coords: Sequence[list[tuple[float, float]]],
    tz: str | None = None,
) -> Path:
    """Write routes as GeoJSON: one LineString per officer and nothing else.

    Every feature holds one geometry type, so GIS tools (``ogr2ogr`` to a shapefile...) load
    the file in one step; the stops, posts and end points are in :func:`stops_geojson`.
    Properties: ``kind`` (``route``), ``officer``, ``post_lat``, ``post_lon``, ``length_m``,
    ``walk_min``, ``dwell_min``, ``duration_min``, ``shift_min``, ``n_stops``, ``hotspots``
    (ids in order), ``start`` and ``end`` (ISO 8601 date and time, see :func:`iso_time`).

    Parameters
    ----------
    path
        Output file.
    routes
        Routes to write.
    G
        Unused; kept for callers that pass the graph.
    shift_start
        Start of the shift, for the times.
    path_coords
        (lon, lat) vertices of each route, from :func:`patrolplan.graph.path_geometry`.
    tz
        The district's time zone, to give the times their UTC offset; None: local time.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    features = [
        _feature(
            {"type": "LineString", "coordinates": [list(c) for c in coords]},
            _route_properties(route, shift_start, tz),
        )
        for route, coords in zip(routes, path_coords, strict=True)
    ]
    return _write_geojson(path, features)


def stops_geojson(
    path: str | Path,
    routes: Sequence[Route],
    G: nx.MultiDiGraph,
    *,
    shift_start: pd.Timestamp,
    tz: str | None = None,
) -> Path:
    """Write the routes' points as GeoJSON: every stop, each officer's post and end point.

    Properties: every feature has ``kind`` (``stop``, ``post`` or, for an open route that
    finishes elsewhere than its post, ``end``), ``officer``, ``lat`` and ``lon``. Stops add
    ``task`` (``hotspot`` or ``street``), ``order``, ``hotspot_id``, ``visit`` (2 for a
    revisit), ``arrive``, ``leave`` (ISO 8601 date and time, right across midnight),
    ``dwell_min``, ``risk``, ``street``; a post adds ``leave`` (the shift's start), an end
    point ``arrive``.

    Parameters
    ----------
    path
        Output file.
    routes
        Routes to write.
    G
        The graph the routes were planned on (for open routes' end points).
    shift_start
        Start of the shift, for the times.
    tz
        The district's time zone, to give the times their UTC offset; None: local time.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    return _write_geojson(path, _point_features(routes, G, shift_start, tz))


def plan_gpkg(
    path: str | Path,
    routes: Sequence[Route],
    path_coords: Sequence[list[tuple[float, float]]],
    G: nx.MultiDiGraph,
    *,
    shift_start: pd.Timestamp,
    gdf_hotspots: gpd.GeoDataFrame,
    gdf_edges: gpd.GeoDataFrame,
    tz: str | None = None,
) -> Path:
    """Write the plan as one GeoPackage with a layer per kind of feature.

    Layers (EPSG:4326, one geometry type each): ``routes`` (lines, the properties of
    :func:`routes_geojson`), ``stops`` (points, those of :func:`stops_geojson` with
    ``kind`` = ``stop``), ``posts`` (one point per post, ``officers`` serving it), ``hotspots``
    (polygons, those of :func:`hotspots_geojson`) and ``streets`` (every street segment with
    its ``name``, ``length`` and ``risk``). Times are date-time fields, in UTC when `tz` is
    given (GeoPackage keeps no other offset), else local. The file is the same byte for byte
    for the same plan.

    Parameters
    ----------
    path
        Output file.
    routes
        Routes of the plan.
    path_coords
        (lon, lat) vertices of each route.
    G
        The graph the routes were planned on.
    shift_start
        Start of the shift.
    gdf_hotspots
        The plan's hotspots.
    gdf_edges
        Street segments, from :func:`patrolplan.graph.edges_gdf`.
    tz
        The district's time zone; None: local time.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import geopandas as gpd
    import pyogrio

    def frame(features: list[dict[str, Any]], times: Sequence[str]) -> gpd.GeoDataFrame:
        gdf = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
        for col in gdf.columns:
            if gdf[col].map(lambda v: isinstance(v, list)).any():
                gdf[col] = gdf[col].map(lambda v: ", ".join(map(str, v)))
        # GeoPackage date-times are UTC when they have a zone
        for col in times:
            if col in gdf:
                gdf[col] = pd.to_datetime(gdf[col], format="ISO8601", utc=tz is not None)
        # the geometry column last, as GIS tools list the fields
        return gdf[[*(c for c in gdf.columns if c != "geometry"), "geometry"]]

    lines = frame(
        [
            _feature(
                {"type": "LineString", "coordinates": [list(c) for c in coords]},
                _route_properties(r, shift_start, tz),
            )
            for r, coords in zip(routes, path_coords, strict=True)
        ],
        ("start", "end"),
    )
    points = _point_features(routes, G, shift_start, tz)
    stops = frame([f for f in points if f["properties"]["kind"] == "stop"], ("arrive", "leave"))
    serving: dict[tuple[float, float], list[int]] = {}
    for r in routes:
        serving.setdefault(r.post, []).append(r.officer)
    posts = frame(
        [
            _feature(
                {"type": "Point", "coordinates": [lon, lat]},
                {
                    "post": i,
                    "lat": lat,
                    "lon": lon,
                    "officers": ", ".join(map(str, officers)),
                },
            )
            for i, ((lat, lon), officers) in enumerate(serving.items(), start=1)
        ],
        (),
    )
    hot = gdf_hotspots.drop(columns=[c for c in ("cluster",) if c in gdf_hotspots])
    hot = hot.to_crs("EPSG:4326") if hot.crs is not None else hot.set_crs("EPSG:4326")
    streets = gdf_edges[
        [
            c
            for c in ("u", "v", "name", "highway", "length", "risk", "n_incidents")
            if c in gdf_edges
        ]
        + ["geometry"]
    ].copy()
    for col in ("name", "highway"):
        if col in streets:
            streets[col] = streets[col].map(lambda v: "" if v is None else str(v))
    layers = {"routes": lines, "stops": stops, "posts": posts, "hotspots": hot, "streets": streets}
    # GeoPackages record when they were written: fix it to the shift's start, so the same plan
    # gives the same bytes
    stamp = shift_start.tz_localize(None) if shift_start.tzinfo else shift_start
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{stamp:%Y-%m-%dT%H:%M:%S}Z"})
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    # GDAL wants the .gpkg extension: write in a hidden folder beside the file, then rename
    folder = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        tmp = folder / final.name
        for name, gdf in layers.items():
            pyogrio.write_dataframe(
                gdf, tmp, layer=name, driver="GPKG", append=name != "routes", promote_to_multi=False
            )
        os.replace(tmp, final)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})
        shutil.rmtree(folder, ignore_errors=True)
    return Path(path)


def variants_geojson(
    path: str | Path,
    plans: Sequence[Sequence[Route]],
    path_coords: Sequence[Sequence[list[tuple[float, float]]]],
) -> Path:
    """Write every variant's routes as LineStrings with ``variant`` and ``officer``.

    Properties: ``variant`` (1..), ``officer``, ``length_m``, ``n_stops``, ``hotspots``.

    Parameters
    ----------
    path
        Output file.
    plans
        Variant plans, in rotation order.
    path_coords
        (lon, lat) vertices per variant and route.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    features = [
        _feature(
            {"type": "LineString", "coordinates": [list(c) for c in coords]},
            {
                "variant": v,
                "officer": r.officer,
                "length_m": round(r.length_m, 1),
                "n_stops": len(r.stops),
                "hotspots": list(r.hotspot_ids),
            },
        )
        for v, (routes, coords_v) in enumerate(zip(plans, path_coords, strict=True), start=1)
        for r, coords in zip(routes, coords_v, strict=True)
    ]
    return _write_geojson(path, features)


def hotspots_geojson(path: str | Path, gdf_hotspots: gpd.GeoDataFrame) -> Path:
    """Write hotspot polygons as GeoJSON with their scores.

    Properties: ``hotspot_id``, ``rank``, ``risk``, ``share``, ``n_incidents``, ``n_crime``,
    ``n_accident``, ``n_juvenile``, ``top_categories``, ``active_hours``, ``peak_hour``,
    ``lon``, ``lat`` (weighted centre) and, from a plan, ``node`` (nearest OSM node id).

    Parameters
    ----------
    path
        Output file.
    gdf_hotspots
        Hotspots from :func:`patrolplan.hotspots.find_hotspots`.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    return frame_geojson(path, gdf_hotspots, exclude=("cluster",))


def frame_geojson(path: str | Path, gdf: gpd.GeoDataFrame, *, exclude: Sequence[str] = ()) -> Path:
    """Write every row of `gdf` as an RFC 7946 GeoJSON feature with its columns as properties.

    WGS84 (a frame without a CRS is taken as such), polygons' exteriors counter-clockwise,
    property floats to 6 decimals and coordinates to 7.

    Parameters
    ----------
    path
        Output file.
    gdf
        Points or polygons with their properties.
    exclude
        Columns left out of the properties.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    gdf = gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf
    props = [c for c in gdf.columns if c != gdf.geometry.name and c not in exclude]
    features = []
    for geom, values in zip(gdf.geometry, gdf[props].to_dict(orient="records"), strict=True):
        plain = {k: (v.item() if hasattr(v, "item") else v) for k, v in values.items()}
        rounded = {k: round(v, 6) if isinstance(v, float) else v for k, v in plain.items()}
        geom = shapely.orient_polygons(geom, exterior_cw=False)
        features.append(_feature(mapping(geom), rounded))
    return _write_geojson(path, features)


# characters XML 1.0 does not allow at all (C0 controls but tab and line breaks, surrogates,
# U+FFFE/U+FFFF): a street name holding one would make the whole file unreadable
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: object) -> str:
    """Escape `text` for XML character data and for double- or single-quoted attributes."""
    from xml.sax.saxutils import escape

    clean = _XML_INVALID.sub("\ufffd", str(text))
    return escape(clean, {'"': "&quot;", "'": "&apos;"})


def _kml_html(text: object) -> str:
    """Escape `text` for a KML ``description``, which Google Earth shows as HTML."""
    import html

    return _xml(html.escape(str(text)))


def _summary(route: Route, *, of_shift: bool) -> str:
    """Return ``5 stops, 2.3 km, 230 of 240 min`` (or ``..., 230 min``) in the language."""
    stops = ngettext("{n} stop", "{n} stops", len(route.stops)).format(
        n=i18n.format_number(len(route.stops))
    )
    km = i18n.format_number(route.length_m / 1000, decimals=1)
    minutes = i18n.format_number(route.duration_min)
    if of_shift:
        return _("{stops}, {km} km, {minutes} of {shift_minutes} min").format(
            stops=stops, km=km, minutes=minutes, shift_minutes=i18n.format_number(route.shift_min)
        )
    return _("{stops}, {km} km, {minutes} min").format(stops=stops, km=km, minutes=minutes)


def _times(shift_start: pd.Timestamp, arrive_min: float, leave_min: float) -> str:
    return _("arrive {start}, leave {end}").format(
        start=clock(shift_start, arrive_min), end=clock(shift_start, leave_min)
    )


def _when(shift_start: pd.Timestamp) -> str:
    """Return the date and clock time of `shift_start` in the current language."""
    return f"{i18n.format_date(shift_start)} {shift_start:%H:%M}"


def track_minutes(route: Route, coords: Sequence[tuple[float, float]]) -> list[float]:
    """Return when the officer passes each vertex of his route, in minutes after the start.

    He walks at the route's own pace (its length over its walking time) and stands at each
    hotspot for its dwell: a stop's vertex is reached at its arrival, the vertices after it
    from its departure on. A stop is matched to the vertex at its node that lies nearest
    along the line to where the walked distance puts it, so a street passed twice is not
    mistaken for the stop.

    Parameters
    ----------
    route
        The route.
    coords
        Its (lon, lat) vertices, from :func:`patrolplan.graph.path_geometry`.

    Returns
    -------
    list of float
        One time per vertex, never decreasing; the last is the route's duration.
    """
    import numpy as np

    if len(coords) < 2:
        return [0.0] * len(coords)
    lon = np.radians([c[0] for c in coords])
    lat = np.radians([c[1] for c in coords])
    # great-circle length of each piece, scaled to the route's own length
    h = (
        np.sin(np.diff(lat) / 2) ** 2
        + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2
    )
    piece = 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))
    cum = np.concatenate([[0.0], np.cumsum(piece)])
    if cum[-1] > 0:
        cum *= route.length_m / cum[-1]
    pace = route.length_m / route.walk_min if route.walk_min > 0 else 0.0
    # knots: (vertex, arrive, leave); a street task is walked, so it has no standing time
    knots = [(0, 0.0, 0.0)]
    dwelt = 0.0
    for s in route.stops:
        walked = (s.arrive_min - dwelt) * pace
        here = [
            i
            for i in range(knots[-1][0], len(coords))
            if coords[i][0] == s.lon and coords[i][1] == s.lat
        ]
        i = min(here, key=lambda j: abs(cum[j] - walked)) if here else knots[-1][0]
        leave = s.leave_min if s.kind == "hotspot" else s.arrive_min
        knots.append((i, s.arrive_min, leave))
        dwelt += leave - s.arrive_min
    knots.append((len(coords) - 1, route.duration_min, route.duration_min))
    times = [0.0] * len(coords)
    for (i0, _a0, t0), (i1, t1, _l1) in itertools.pairwise(knots):
        span = cum[i1] - cum[i0]
        for i in range(i0, i1 + 1):
            share = (cum[i] - cum[i0]) / span if span > 0 else 0.0
            times[i] = t0 + share * (t1 - t0)
    for i, arrive, _leave in knots:
        times[i] = arrive
    return times


def gpx(
    path: str | Path,
    route: Route,
    coords: list[tuple[float, float]],
    *,
    shift_start: pd.Timestamp,
    attribution: str = "OpenStreetMap contributors",
    lang: str = "en",
    streets: Mapping[str, str] | None = None,
    tz: str | None = None,
) -> Path:
    """Write one officer's route as GPX 1.1: a track plus a waypoint per stop and the post.

    Waypoints come first, then the track, as the GPX 1.1 schema orders them. Every waypoint
    and track point has a ``time``: the post the shift's start, a stop its arrival, a track
    point when the officer passes it (walking at the route's pace, standing at each hotspot
    for its dwell). With `tz` the times are UTC, as GPX wants; without it they are local
    times without a zone. Arrive and leave clock times are also in each waypoint's ``desc``.
    An open route (one that finishes elsewhere than its post) gets an ``End`` waypoint at the
    last vertex of `coords`. Names and descriptions are in `lang`; ``type`` stays
    ``post``, ``stop`` or ``end``.

    Parameters
    ----------
    path
        Output file.
    route
        The officer's route.
    coords
        Its (lon, lat) vertices.
    shift_start
        Start of the shift.
    attribution
        Copyright holder of the street data, written in the metadata.
    lang
        Language of names and descriptions, one of :data:`patrolplan.i18n.LANGS`.
    streets
        Street ``name`` -> name in `lang`, from :func:`patrolplan.i18n.street_names`.
    tz
        The district's time zone (IANA name); None: times are local, without a zone.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    InputDataError
        If `lang` is not a known language.
    """
    names = streets or {}
    at = track_minutes(route, coords)
    with i18n.language(lang):
        officer = _("Officer {officer}").format(officer=route.officer)
        post_name, end_name = _("Post"), _("End")
        start = _("start {time}").format(time=clock(shift_start, 0))
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<gpx version="1.1" creator="patrolplan" xmlns="http://www.topografix.com/GPX/1/1" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation='
            '"http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd">',
            "  <metadata>",
            f"    <name>{_xml(officer)}, {_xml(_when(shift_start))}</name>",
            f"    <desc>{_xml(_summary(route, of_shift=True))}</desc>",
            f'    <copyright author="{_xml(attribution)}"><year>{shift_start:%Y}</year>'
            "<license>https://opendatacommons.org/licenses/odbl/</license></copyright>",
            "  </metadata>",
            f'  <wpt lat="{route.post[0]:.7f}" lon="{route.post[1]:.7f}">'
            f"<time>{_utc(shift_start, 0, tz)}</time><name>"
            f"{_xml(post_name)}</name><desc>{_xml(start)}</desc>"
            "<type>post</type></wpt>",
        ]
        numbers = route.numbers
        for s in route.stops:
            label = i18n.visit_label(s.hotspot_id, s.visit)
            street = names.get(s.street, s.street)
            number = f"{numbers[s.order]}. " if s.order in numbers else ""
            lines.append(
                f'  <wpt lat="{s.lat:.7f}" lon="{s.lon:.7f}">'
                f"<time>{_utc(shift_start, round(s.arrive_min), tz)}</time>"
                f"<name>{number}{_xml(label)}"
                f"</name><desc>{_xml(_times(shift_start, s.arrive_min, s.leave_min))}; "
                f"{_xml(street)}</desc><type>stop</type></wpt>"
            )
        if route.end_node != route.post_node:
            lo, la = coords[-1]
            finish = _("end {time}").format(time=clock(shift_start, route.duration_min))
            lines.append(
                f'  <wpt lat="{la:.7f}" lon="{lo:.7f}">'
                f"<time>{_utc(shift_start, round(route.duration_min), tz)}</time>"
                f"<name>{_xml(end_name)}</name>"
                f"<desc>{_xml(finish)}</desc><type>end</type></wpt>"
            )
    lines += [f"  <trk><name>{_xml(officer)}</name><trkseg>"]
    lines += [
        f'    <trkpt lat="{la:.7f}" lon="{lo:.7f}"><time>{_utc(shift_start, t, tz)}</time></trkpt>'
        for (lo, la), t in zip(coords, at, strict=True)
    ]
    lines += ["  </trkseg></trk>", "</gpx>", ""]
    return atomic_write_text(path, "\n".join(lines))


def kml(
    path: str | Path,
    routes: Sequence[Route],
    path_coords: Sequence[list[tuple[float, float]]],
    *,
    shift_start: pd.Timestamp,
    colours: Sequence[str],
    lang: str = "en",
    streets: Mapping[str, str] | None = None,
    tz: str | None = None,
) -> Path:
    """Write all routes as KML 2.2: a folder per officer with its line, stops and post.

    An open route also gets an ``End`` placemark at the last vertex of its line. Names and
    descriptions are in `lang`. Each line and stop has a ``TimeSpan`` (the shift; the stop's
    arrival to departure, ISO 8601), so Google Earth's time slider plays the shift, and its
    data as ``ExtendedData`` fields with stable English names (``officer``, ``order``,
    ``task``, ``hotspot_id``, ``visit``, ``arrive``, ``leave``, ``street``, ``risk``; a line
    ``length_m``, ``duration_min``, ``shift_min``, ``post_lat``, ``post_lon``).

    Parameters
    ----------
    path
        Output file.
    routes
        Routes of the plan.
    path_coords
        (lon, lat) vertices of each route.
    shift_start
        Start of the shift.
    colours
        ``#rrggbb`` colour of each route.
    lang
        Language of names and descriptions, one of :data:`patrolplan.i18n.LANGS`.
    streets
        Street ``name`` -> name in `lang`, from :func:`patrolplan.i18n.street_names`.
    tz
        The district's time zone (IANA name); None: local times without a zone.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    InputDataError
        If `lang` is not a known language.
    """
    names = streets or {}

    def span(begin_min: float, end_min: float) -> str:
        return (
            f"<TimeSpan><begin>{iso_time(shift_start, begin_min, tz=tz)}</begin>"
            f"<end>{iso_time(shift_start, end_min, tz=tz)}</end></TimeSpan>"
        )

    def data(values: Mapping[str, object]) -> str:
        fields = "".join(
            f'<Data name="{k}"><value>{_xml(v)}</value></Data>' for k, v in values.items()
        )
        return f"<ExtendedData>{fields}</ExtendedData>"

    with i18n.language(lang):
        title = _("Patrol plan for {date}, {time}").format(
            date=i18n.format_date(shift_start), time=f"{shift_start:%H:%M}"
        )
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>',
            f"<name>{_xml(title)}</name>",
        ]
        for r, _coords, colour in zip(routes, path_coords, colours, strict=True):
            abgr = "ff" + colour[5:7] + colour[3:5] + colour[1:3]
            out.append(
                f'<Style id="o{r.officer}"><IconStyle><color>{abgr}</color></IconStyle>'
                f"<LineStyle><color>{abgr}</color><width>4</width></LineStyle></Style>"
            )
        post_name, end_name = _xml(_("Post")), _xml(_("End"))
        for r, coords in zip(routes, path_coords, strict=True):
            line = " ".join(f"{lo:.7f},{la:.7f}" for lo, la in coords)
            officer = _xml(_("Officer {officer}").format(officer=r.officer))
            route_name = _xml(_("Route of officer {officer}").format(officer=r.officer))
            out.append(f"<Folder><name>{officer}</name>")
            # KML 2.2 order inside a Placemark: name, description, styleUrl, geometry
            out.append(
                f"<Placemark><name>{route_name}</name><description>"
                f"{_kml_html(_summary(r, of_shift=False))}</description>"
                f"{span(0, r.duration_min)}<styleUrl>#o{r.officer}</styleUrl>"
                + data(
                    {
                        "officer": r.officer,
                        "length_m": round(r.length_m, 1),
                        "duration_min": round(r.duration_min, 1),
                        "shift_min": round(r.shift_min, 1),
                        "post_lat": r.post[0],
                        "post_lon": r.post[1],
                    }
                )
                + f"<LineString><tessellate>1</tessellate><coordinates>{line}"
                "</coordinates></LineString></Placemark>"
            )
            out.append(
                f"<Placemark><name>{post_name}</name><styleUrl>#o{r.officer}</styleUrl><Point>"
                f"<coordinates>{r.post[1]:.7f},{r.post[0]:.7f}</coordinates></Point>"
                "</Placemark>"
            )
            if r.end_node != r.post_node:
                lo, la = coords[-1]
                finish = _("end {time}").format(time=clock(shift_start, r.duration_min))
                out.append(
                    f"<Placemark><name>{end_name}</name><description>{_kml_html(finish)}"
                    f"</description><styleUrl>#o{r.officer}</styleUrl><Point><coordinates>"
                    f"{lo:.7f},{la:.7f}</coordinates></Point></Placemark>"
                )
            numbers = r.numbers
            for s in r.stops:
                label = i18n.visit_label(s.hotspot_id, s.visit)
                street = names.get(s.street, s.street)
                number = f"{numbers[s.order]}. " if s.order in numbers else ""
                out.append(
                    f"<Placemark><name>{number}{_xml(label)}</name><description>"
                    f"{_kml_html(_times(shift_start, s.arrive_min, s.leave_min))}; "
                    f"{_kml_html(street)}</description>{span(s.arrive_min, s.leave_min)}"
                    f"<styleUrl>#o{r.officer}</styleUrl>"
                    + data(
                        {
                            "officer": r.officer,
                            "order": s.order,
                            "stop": numbers.get(s.order, ""),
                            "task": s.kind,
                            "hotspot_id": s.hotspot_id,
                            "visit": s.visit,
                            "arrive": iso_time(shift_start, s.arrive_min, tz=tz),
                            "leave": iso_time(shift_start, s.leave_min, tz=tz),
                            "street": s.street,
                            "risk": round(s.risk, 3),
                        }
                    )
                    + f"<Point><coordinates>{s.lon:.7f},{s.lat:.7f}</coordinates></Point>"
                    "</Placemark>"
                )
            out.append("</Folder>")
    out += ["</Document></kml>", ""]
    return atomic_write_text(path, "\n".join(out))


def schedule_frame(
    routes: Sequence[Route],
    *,
    shift_start: pd.Timestamp,
    G: nx.MultiDiGraph | None = None,
    lang: str = "en",
    streets: Mapping[str, str] | None = None,
    tz: str | None = None,
) -> pd.DataFrame:
    """Return the timetable of every officer as a table.

    The last row of each officer is where the route finishes: ``return`` to the post, or, for
    an open route, ``end`` at its end point.

    Parameters
    ----------
    routes
        Routes of the plan.
    shift_start
        Start of the shift.
    G
        The graph the routes were planned on, for the coordinates of open routes' end points
        (the street node the route ends at). Without it, an open route's ``end`` row has no
        coordinates.
    lang
        Language of the label columns, one of :data:`patrolplan.i18n.LANGS`.
    streets
        Street ``name`` -> name in `lang`, from :func:`patrolplan.i18n.street_names`.
    tz
        The district's time zone (IANA name) for ``arrive_at`` and ``leave_at``; None:
        local times without an offset.

    Returns
    -------
    pandas.DataFrame
        Columns ``officer``, ``order`` (1.., every task and the last row in sequence),
        ``stop`` (the stop's number for people, :attr:`patrolplan.routing.Route.numbers`:
        empty for a street walked in passing; ``return`` or ``end``), ``task`` (``hotspot``:
        dwell, ``street``: walk that street end to end, ``return``: back at the post,
        ``end``: at the end point of an open route), ``hotspot_id``, ``visit`` (1 for the
        plan's first visit to that hotspot, 2 for a revisit, ...; 0 on the last row),
        ``arrive``, ``leave`` (clock times ``HH:MM``), ``arrive_at``, ``leave_at`` (ISO 8601
        date and time, right across midnight; with `tz` with its UTC offset; ``leave_at`` is
        empty on the last row), ``street`` (``post`` or ``end point`` on the last row), ``via``
        (streets walked to get there, ``" > "``-separated), ``lat``, ``lon``, and for people
        ``task_label`` and ``street_label`` in `lang` (see :func:`schedule_labels`).

    Raises
    ------
    InputDataError
        If `lang` is not a known language.
    """
    i18n.check_language(lang)
    rows = []
    for r in routes:
        numbers = r.numbers
        for s in r.stops:
            rows.append(
                {
                    "officer": r.officer,
                    "order": s.order,
                    # a street walked in passing is part of the way: listed, not numbered
                    "stop": str(numbers[s.order]) if s.order in numbers else "",
                    "task": s.kind,
                    "hotspot_id": s.hotspot_id,
                    "visit": s.visit,
                    "arrive": clock(shift_start, s.arrive_min),
                    "leave": clock(shift_start, s.leave_min),
                    "arrive_at": iso_time(shift_start, s.arrive_min, tz=tz),
                    "leave_at": iso_time(shift_start, s.leave_min, tz=tz),
                    "street": s.street,
                    "via": " > ".join(s.via),
                    "lat": round(s.lat, 6),
                    "lon": round(s.lon, 6),
                }
            )
        last = "return" if r.end_node == r.post_node else "end"
        lat, lon = r.post
        if last == "end":
            if G is None:
                log(
                    _(
                        "officer {officer}'s route ends away from the post; schedule_frame "
                        "needs `G` for the end point's coordinates"
                    ).format(officer=r.officer),
                    logging.WARNING,
                )
                lat = lon = math.nan
            else:
                lat, lon = G.nodes[r.end_node]["lat"], G.nodes[r.end_node]["lon"]
        rows.append(
            {
                "officer": r.officer,
                "order": len(r.stops) + 1,
                "stop": last,
                "task": last,
                "hotspot_id": "",
                "visit": 0,
                "arrive": clock(shift_start, r.duration_min),
                "leave": "",
                "arrive_at": iso_time(shift_start, r.duration_min, tz=tz),
                "leave_at": "",
                "street": "post" if last == "return" else "end point",
                "via": " > ".join(r.return_via),
                "lat": round(lat, 6),
                "lon": round(lon, 6),
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "officer",
            "order",
            "stop",
            "task",
            "hotspot_id",
            "visit",
            "arrive",
            "leave",
            "arrive_at",
            "leave_at",
            "street",
            "via",
            "lat",
            "lon",
        ],
    )
    return schedule_labels(frame, lang=lang, streets=streets)


#: Columns :func:`schedule_labels` adds: the task and the place, for people, in a language.
LABEL_COLUMNS = ("task_label", "street_label")


def schedule_labels(
    schedule: pd.DataFrame, *, lang: str = "en", streets: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Return the timetable with its person-readable columns in `lang`.

    The other columns keep their stable English values (``task`` is ``hotspot``, ``street``,
    ``return`` or ``end``); these say the same for people, as on the route sheets.

    Parameters
    ----------
    schedule
        A timetable from :func:`schedule_frame`.
    lang
        One of :data:`patrolplan.i18n.LANGS`.
    streets
        Street ``name`` -> name in `lang`, from :func:`patrolplan.i18n.street_names`.

    Returns
    -------
    pandas.DataFrame
        A copy with ``task_label`` (``H003``, ``walk S001``, ``H003 (visit 2)``, ``return to
        post``, ``end of route``) and ``street_label`` (the street in `lang`, or ``post`` /
        ``end point`` on the last row) set, as the last two columns.

    Raises
    ------
    InputDataError
        If `lang` is not a known language.
    """
    names = streets or {}
    out = schedule.drop(columns=[c for c in LABEL_COLUMNS if c in schedule.columns])
    with i18n.language(lang):
        out["task_label"] = [
            i18n.task_label(str(t), str(h), int(v))
            for t, h, v in zip(out["task"], out["hotspot_id"], out["visit"], strict=True)
        ]
        out["street_label"] = [
            i18n.place_label(str(t), names.get(str(s), str(s)))
            for t, s in zip(out["task"], out["street"], strict=True)
        ]
    return out


# What spreadsheet programs read as the start of a formula (OWASP "CSV injection"), and what
# is a plain number all the same (a negative longitude)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def csv_safe(value: Any) -> Any:
    """Return `value` so that a spreadsheet shows it as text instead of running it.

    A string that starts with ``=``, ``+``, ``-``, ``@``, a tab or a line break gets a
    leading ``'``, unless it is a plain number (``-76.6``, ``+3``, ``-1e-3``); anything else
    is returned as it is.

    Parameters
    ----------
    value
        A cell.

    Returns
    -------
    object
        The cell, neutralised.

    Examples
    --------
    >>> csv_safe("=1+2"), csv_safe("@SUM(A1)"), csv_safe("-76.6"), csv_safe(-76.6)
    ("'=1+2", "'@SUM(A1)", '-76.6', -76.6)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv(path: str | Path, frame: pd.DataFrame) -> Path:
    """Write a table as UTF-8 CSV, atomically, with no cell a spreadsheet would run.

    Text cells and column names pass through :func:`csv_safe`; numeric columns are written
    as they are.

    Parameters
    ----------
    path
        Output file.
    frame
        The table.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    safe = frame.copy()
    for col in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[col]) and not pd.api.types.is_bool_dtype(
            safe[col]
        ):
            safe[col] = safe[col].astype(object).map(csv_safe)
    safe.columns = [csv_safe(c) for c in safe.columns]
    with atomic_path(path) as tmp:
        safe.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return Path(path)


def variants_csv(path: str | Path, table: pd.DataFrame) -> Path:
    """Write the table of day-to-day variants (:func:`patrolplan.routing.variants`) as CSV.

    Columns: ``variant`` (1.., in rotation order), ``risk`` (the route search's objective:
    the risk of the hotspots visited plus that of the risky streets walked as tasks, a revisit
    counted at its revisit value), ``share_of_best`` (``risk`` over the best variant's),
    ``mean_overlap`` and ``max_overlap`` (length-weighted share of streets in common with the
    other variants: 0 none, 1 the same streets).

    Parameters
    ----------
    path
        Output file.
    table
        The table returned by :func:`patrolplan.routing.variants`.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    return write_csv(path, table)


def write_json(path: str | Path, data: dict[str, Any]) -> Path:
    """Write `data` as indented UTF-8 JSON, atomically.

    Parameters
    ----------
    path
        Output file.
    data
        JSON-serialisable data.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    return atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@dataclass(frozen=True)
class Output(Generic[T]):
    """One output of a product (a plan, a posts proposal, patrol areas): names and writer.

    Each product lists its outputs in one registry (``plan.PLAN_OUTPUTS``,
    ``posts.POSTS_OUTPUTS``, ``areas.AREAS_OUTPUTS``); :func:`write_outputs` writes them all
    atomically and :func:`output_names` lists them before any work, so the output folder can
    be checked first.

    Attributes
    ----------
    names
        The file name, or a function of the product giving its names (one per officer...).
    write
        Writes the file(s) of the product into a folder.
    when
        Whether the product has this output (``sheets.pdf`` only when asked for...).
    """

    names: str | Callable[[T], Sequence[str]]
    write: Callable[[T, Path], object]
    when: Callable[[T], bool] = field(default=lambda _item: True)

    def file_names(self, item: T) -> list[str]:
        """Return the names this output writes for `item` (none when it does not apply)."""
        if not self.when(item):
            return []
        return [self.names] if isinstance(self.names, str) else list(self.names(item))


def output_names(item: T, outputs: Sequence[Output[T]]) -> list[str]:
    """Return the names of every file the registry `outputs` writes for `item`, in order.

    Parameters
    ----------
    item
        The product (or a description of it with what the names depend on).
    outputs
        The product's registry.

    Returns
    -------
    list of str
        File names.
    """
    return [name for o in outputs for name in o.file_names(item)]


def write_outputs(out_dir: str | Path, item: T, outputs: Sequence[Output[T]]) -> list[Path]:
    """Write every output of `item` into `out_dir` atomically: all files appear, or none.

    Parameters
    ----------
    out_dir
        Output folder; created if needed (see :func:`patrolplan.utils.atomic_dir`).
    item
        The product.
    outputs
        The product's registry.

    Returns
    -------
    list of pathlib.Path
        The files written, in registry order.
    """
    out = Path(out_dir)
    with atomic_dir(out) as tmp:
        for o in outputs:
            if o.when(item):
                o.write(item, tmp)
    return [out / name for name in output_names(item, outputs)]
