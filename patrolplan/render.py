"""Folium (Leaflet) maps of incidents, hotspots and patrol routes.

The map draws the street network of the extract as its own light base layer, so it is readable
with no tile server; an OpenStreetMap tile layer can be switched on where the internet is
reachable. Element ids are numbered in order instead of folium's random ids, so the same plan
gives the same HTML.

Every text a person reads is in the language asked for (``lang="ru"``, see
:mod:`patrolplan.i18n`), in fonts that have Cyrillic and the Kazakh letters (:data:`FONT_STACK`).

Text from the input data (incident categories, OSM street names, hotspot ids, layer names) is
public data anyone can edit. Folium places popups and tooltips inside JavaScript template
literals and Leaflet shows them, and layer names, as HTML, so every such text goes through
:func:`escape_text`: HTML-escaped, with the characters that mean something in a JavaScript
string (backtick, ``$``, backslash, braces, line breaks) written as character references.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import itertools
import json
import re
import threading
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import branca.element
import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement, Template
from folium import plugins
from folium.features import GeoJsonStyleMapper
from folium.utilities import get_obj_in_upper_tree

from patrolplan import i18n
from patrolplan._errors import PatrolPlanError
from patrolplan.i18n import _, ngettext, pgettext
from patrolplan.utils import atomic_path

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import geopandas as gpd

    from patrolplan.routing import Route, Stop

#: One colour per officer, colour-blind friendly (Okabe-Ito), cycled.
OFFICER_COLOURS = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#F0E442",
)
LAYER_GRADIENTS = {
    "crime": {0.4: "#fee5d9", 0.7: "#fb6a4a", 1.0: "#a50f15"},
    "accident": {0.4: "#eff3ff", 0.7: "#6baed6", 1.0: "#08519c"},
    "juvenile": {0.4: "#f2f0f7", 0.7: "#9e9ac8", 1.0: "#54278f"},
}
#: Attribution of the street data (shown translated, see :mod:`patrolplan.i18n`).
ATTRIBUTION = i18n.N_("© OpenStreetMap contributors (ODbL)")
#: Fonts of the map and sheets: DejaVu Sans (Debian fonts-dejavu-core) has Cyrillic and the
#: letters Kazakh adds to it; the others are fallbacks elsewhere.
FONT_STACK = "DejaVu Sans, Noto Sans, Liberation Sans, Arial, sans-serif"


# After HTML escaping, the characters that still mean something in a JavaScript string or
# template literal (or a Jinja template), as numeric character references
_JS_SAFE = str.maketrans(
    {
        "`": "&#96;",
        "$": "&#36;",
        "\\": "&#92;",
        "{": "&#123;",
        "}": "&#125;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\u2028": "&#8232;",
        "\u2029": "&#8233;",
    }
)


def escape_text(value: object) -> str:
    """Escape text from input data for HTML text, HTML attributes and JavaScript strings.

    The result shows `value` literally wherever the map or the sheets put it: in HTML, in a
    quoted attribute, and inside a JavaScript string or template literal that is later set as
    HTML (``<``, ``&``, quotes, backticks, ``${`` and backslashes all become character
    references).

    Parameters
    ----------
    value
        Any text; other values are converted with ``str``.

    Returns
    -------
    str
        Escaped text.

    Examples
    --------
    >>> escape_text("<b>${7*7}</b> `x` & 'y'")
    '&lt;b&gt;&#36;&#123;7*7&#125;&lt;/b&gt; &#96;x&#96; &amp; &#x27;y&#x27;'
    """
    return html.escape(str(value), quote=True).translate(_JS_SAFE)


def officer_colour(officer: int) -> str:
    """Return the colour of an officer's route.

    Parameters
    ----------
    officer
        1-based officer number.

    Returns
    -------
    str
        A hex colour.
    """
    return OFFICER_COLOURS[(officer - 1) % len(OFFICER_COLOURS)]


def _heat_points(gdf: gpd.GeoDataFrame, w: pd.Series, max_points: int) -> list[list[float]]:
    """Heat-map points ``[lat, lon, weight/max]``, aggregated to cells when there are many."""
    lon, lat, wv = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), w.to_numpy(float)
    if len(gdf) > max_points:
        xy = gdf.geometry.to_crs(gdf.estimate_utm_crs())
        x, y = xy.x.to_numpy(), xy.y.to_numpy()
        cell = 20.0
        while True:
            key = np.floor(x / cell).astype(np.int64) * 10_000_000 + np.floor(y / cell).astype(
                np.int64
            )
            uniq, inv = np.unique(key, return_inverse=True)
            if len(uniq) <= max_points:
                break
            cell *= 2
        wsum = np.bincount(inv, weights=wv)
        # cell centre as the weighted mean of its incidents, back in lon/lat
        safe = np.where(wsum > 0, wsum, 1.0)
        lon = np.bincount(inv, weights=lon * wv) / safe
        lat = np.bincount(inv, weights=lat * wv) / safe
        wv = wsum
    top = float(wv.max()) if len(wv) and wv.max() > 0 else 1.0
    return [
        [round(float(a), 6), round(float(o), 6), round(float(v) / top, 4)]
        for a, o, v in zip(lat, lon, wv, strict=True)
    ]


def _stable_ids(m: folium.Map) -> folium.Map:
    """Replace folium's random element ids by a counter, depth first."""
    counter = 0

    def walk(el: Element) -> None:
        nonlocal counter
        el._id = f"{counter:08x}"
        counter += 1
        for child in el._children.values():
            walk(child)

    walk(m)
    return m


def plan_map(
    *,
    gdf_edges: gpd.GeoDataFrame,
    gdf_incidents: gpd.GeoDataFrame,
    weights: pd.Series,
    gdf_hotspots: gpd.GeoDataFrame,
    routes: Sequence[Route],
    route_coords: Sequence[list[tuple[float, float]]],
    schedule: pd.DataFrame,
    title: str | None = None,
    attribution: str | None = None,
    max_heat_points: int = 20000,
    lang: str = "en",
) -> folium.Map:
    """Draw a daily plan on a Folium map.

    Parameters
    ----------
    gdf_edges
        Street segments (EPSG:4326) from :func:`patrolplan.graph.edges_gdf`, drawn as base map;
        a ``name:<lang>`` column, where present, gives street names in `lang`.
    gdf_incidents
        Incidents (EPSG:4326) with a ``layer`` column.
    weights
        Weight per incident, for the heat layers.
    gdf_hotspots
        Hotspots (EPSG:4326).
    routes
        Routes of the plan.
    route_coords
        (lon, lat) vertices of each route.
    schedule
        Timetable from :func:`patrolplan.export.schedule_frame`.
    title
        Shown in the legend; default "Patrol plan" in `lang`.
    attribution
        Data attribution shown on the map; default :data:`ATTRIBUTION` in `lang`.
    max_heat_points
        Largest number of heat points per layer: more incidents are summed into square cells
        (20 m, doubled until few enough), so 100,000 incidents still make a small page.
    lang
        Language of every text on the map, one of :data:`patrolplan.i18n.LANGS`.

    Returns
    -------
    folium.Map
        The map; save it with ``m.save("map.html")``.

    Raises
    ------
    InputDataError
        If `lang` is not a known language.
    """
    with i18n.language(lang):
        return _plan_map(
            gdf_edges=gdf_edges,
            gdf_incidents=gdf_incidents,
            weights=weights,
            gdf_hotspots=gdf_hotspots,
            routes=routes,
            route_coords=route_coords,
            schedule=schedule,
            title=_("Patrol plan") if title is None else title,
            attribution=_(ATTRIBUTION) if attribution is None else attribution,
            max_heat_points=max_heat_points,
        )


def _km(length_m: float) -> str:
    return _("{km} km").format(km=i18n.format_number(length_m / 1000, decimals=1))


def _stops(n: int) -> str:
    return ngettext("{n} stop", "{n} stops", n).format(n=i18n.format_number(n))


def _localise(names: dict[str, str]) -> Callable[[object], str]:
    """Return a function giving a street's name in the current language, from `names`."""

    def street(name: object) -> str:
        text = "" if name is None else str(name)
        return names.get(text, text)

    return street


def _line_features(gdf: gpd.GeoDataFrame) -> dict[str, Any]:
    """Return `gdf` as a GeoJSON dict, as ``json.loads(gdf.to_json(drop_id=True))`` would.

    Plain 2-D lines (every street of an extract) are built from one coordinate array, 10-20
    times faster than geopandas' feature by feature route through JSON text; anything else
    takes that route.
    """
    geoms = gdf.geometry.to_numpy()
    props = gdf.drop(columns=gdf.geometry.name)
    plain = (
        len(gdf) > 0
        and bool((shapely.get_type_id(geoms) == shapely.GeometryType.LINESTRING).all())
        and not bool(shapely.is_empty(geoms).any())
        and not bool(shapely.has_z(geoms).any())
        and all(props[c].map(type).eq(str).all() for c in props.columns)
    )
    if not plain:
        return dict(json.loads(gdf.to_json(drop_id=True)))
    xy = shapely.get_coordinates(geoms).tolist()
    ends = np.cumsum(shapely.get_num_coordinates(geoms)).tolist()
    keys = [str(c) for c in props.columns]
    values = zip(*(props[c].tolist() for c in props.columns), strict=True)
    rows = [dict(zip(keys, v, strict=True)) for v in values] if keys else [{} for _ in ends]
    features = []
    start = 0
    for row, end in zip(rows, ends, strict=True):
        features.append(
            {
                "type": "Feature",
                "properties": row,
                "geometry": {"type": "LineString", "coordinates": xy[start:end]},
            }
        )
        start = end
    return {"type": "FeatureCollection", "features": features}


class _OneStyleGeoJson(folium.GeoJson):
    """A GeoJson layer whose features all have one style.

    folium calls the style function once per feature and groups the features by the JSON of
    their style; with one style for all, that grouping is ``{"default": style}``, written here
    directly (the same page, without thousands of calls for the streets of a district).
    """

    def __init__(self, data: dict[str, Any], *, style: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(data, style_function=lambda _feature: style, **kwargs)
        self.one_style = style

    def render(self, **kwargs: Any) -> Any:
        # what GeoJson.render does, less the pass over the features
        self.parent_map: Any = get_obj_in_upper_tree(self, folium.Map)
        if self.data["features"]:
            self.style_map = {"default": GeoJsonStyleMapper._to_key(self.one_style)}
        return folium.map.Layer.render(self)


def base_map(gdf_edges: gpd.GeoDataFrame, *, attribution: str | None = None) -> folium.Map:
    """Return a map fitted to the streets, with the streets as an offline base layer.

    The layer every patrolplan map starts from: the extract's streets (names escaped, in the
    current language where the extract has them), an optional OpenStreetMap tile layer that is
    off by default, the scale bar and a font with Cyrillic and the Kazakh letters.

    Parameters
    ----------
    gdf_edges
        Street edges in EPSG:4326 with ``name`` (:func:`patrolplan.graph.edges_gdf`).
    attribution
        Attribution of the street layer; default :data:`ATTRIBUTION`.

    Returns
    -------
    folium.Map
        The map; add layers and save it with :func:`to_html`.
    """
    attribution = _(ATTRIBUTION) if attribution is None else attribution
    b = gdf_edges.total_bounds
    m = _Map(tiles=None, zoom_snap=0.25)
    _metric_scale(m)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    # Cyrillic and the Kazakh letters in one font (Debian: fonts-dejavu-core)
    root = m.get_root()
    if isinstance(root, Figure):
        root.header.add_child(
            Element(
                f"<style>.leaflet-container, #pp-legend {{ font-family: {FONT_STACK}; }}"
                # printed on A4 landscape without the controls a reader cannot click on paper
                "@page { size: A4 landscape; margin: 6mm; }"
                "@media print { .leaflet-control-layers, .leaflet-control-zoom "
                "{ display: none !important; } }</style>"
            )
        )
    folium.TileLayer(
        "OpenStreetMap",
        name=escape_text(_("OpenStreetMap tiles (online)")),
        show=False,
        overlay=False,
        control=True,
    ).add_to(m)

    streets = folium.FeatureGroup(
        name=escape_text(_("Streets (offline base map)")), overlay=True, show=True
    )
    # 6 decimals (about 0.1 m) keep the street layer small.
    streets_6dp = gdf_edges[["name", "geometry"]].set_geometry(
        shapely.transform(gdf_edges.geometry.values, lambda xy: np.round(xy, 6))
    )
    local = f"name:{i18n.get_language()}"
    if local in gdf_edges.columns:
        streets_6dp["name"] = [
            i18n.street_name({"name": a, local: b})
            for a, b in zip(gdf_edges["name"], gdf_edges[local], strict=True)
        ]
    # Leaflet sets the tooltip as HTML: names are escaped here, shown literally there
    streets_6dp["name"] = streets_6dp["name"].map(escape_text)
    _OneStyleGeoJson(
        _line_features(streets_6dp),
        style={"color": "#9e9e9e", "weight": 1.2, "opacity": 0.8},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        attr=attribution,
    ).add_to(streets)
    streets.add_to(m)
    return m


def _plan_map(
    *,
    gdf_edges: gpd.GeoDataFrame,
    gdf_incidents: gpd.GeoDataFrame,
    weights: pd.Series,
    gdf_hotspots: gpd.GeoDataFrame,
    routes: Sequence[Route],
    route_coords: Sequence[list[tuple[float, float]]],
    schedule: pd.DataFrame,
    title: str,
    attribution: str,
    max_heat_points: int,
) -> folium.Map:
    street = _localise(i18n.street_names(gdf_edges))
    marker_post, marker_end = pgettext("marker", "P"), pgettext("marker", "E")
    m = base_map(gdf_edges, attribution=attribution)

    for layer, group in gdf_incidents.groupby("layer", sort=True):
        data = _heat_points(group, weights.loc[group.index], max_heat_points)
        heat_name = ngettext(
            "Heat: {layer} ({n} incident)", "Heat: {layer} ({n} incidents)", len(group)
        ).format(layer=i18n.layer_name(layer), n=i18n.format_number(len(group)))
        fg = folium.FeatureGroup(name=escape_text(heat_name), show=True)
        plugins.HeatMap(
            data, radius=14, blur=12, min_opacity=0.25, gradient=LAYER_GRADIENTS.get(str(layer))
        ).add_to(fg)
        fg.add_to(m)

    hot = folium.FeatureGroup(
        name=escape_text(_("Hotspots ({n})").format(n=i18n.format_number(len(gdf_hotspots)))),
        show=True,
    )
    visited: dict[str, list[str]] = {}
    for r in routes:
        numbers = r.numbers
        for s in r.stops:
            if s.kind == "hotspot":
                visited.setdefault(s.hotspot_id, []).append(
                    _("officer {officer} stop {order}").format(
                        officer=r.officer, order=numbers[s.order]
                    )
                )
    for row in gdf_hotspots.to_dict("records"):
        who = visited.get(row["hotspot_id"])
        risk = i18n.format_number(row["risk"], decimals=1)
        counts = ngettext(
            "{n} incident: crime {crime}, accidents {accident}, juvenile {juvenile}",
            "{n} incidents: crime {crime}, accidents {accident}, juvenile {juvenile}",
            int(row["n_incidents"]),
        ).format(
            n=i18n.format_number(row["n_incidents"]),
            crime=i18n.format_number(row["n_crime"]),
            accident=i18n.format_number(row["n_accident"]),
            juvenile=i18n.format_number(row["n_juvenile"]),
        )
        lines = [
            f"<b>{escape_text(row['hotspot_id'])}</b> "
            + escape_text(_("(rank {rank})").format(rank=row["rank"])),
            escape_text(
                _("risk {risk} ({share} of all)").format(
                    risk=risk, share=i18n.format_percent(row["share"])
                )
            ),
            escape_text(counts),
            escape_text(
                _("top: {categories}").format(
                    categories=i18n.top_categories_label(row["top_categories"])
                )
            ),
            escape_text(_("active hours {hours}").format(hours=row["active_hours"] or _("n/a"))),
            escape_text(
                _("visited by {who}").format(who=", ".join(who)) if who else _("not visited")
            ),
        ]
        folium.GeoJson(
            row["geometry"].__geo_interface__,
            style_function=lambda _x, w=who: {
                "color": "#b2182b",
                "weight": 1.5,
                "fillColor": "#ef8a62",
                "fillOpacity": 0.35 if w else 0.12,
                "dashArray": None if w else "4 4",
            },
            tooltip=escape_text(_("{id}: risk {risk}").format(id=row["hotspot_id"], risk=risk)),
        ).add_child(folium.Popup("<br>".join(lines), max_width=320)).add_to(hot)
    hot.add_to(m)

    # officers who stop at the same node get their markers side by side, not on top
    officers_at: dict[int, list[int]] = {}
    for route in routes:
        for s in route.stops:
            if route.officer not in officers_at.setdefault(s.node, []):
                officers_at[s.node].append(route.officer)
    # officers sharing a post get one post marker, drawn with the first of them
    serving: dict[tuple[float, float], list[int]] = {}
    for route in routes:
        serving.setdefault(route.post, []).append(route.officer)
    ending_at: dict[int, list[int]] = {}
    for route in routes:
        ending_at.setdefault(route.end_node, []).append(route.officer)
    for route, coords in zip(routes, route_coords, strict=True):
        colour = officer_colour(route.officer)
        officer = _("Officer {officer}").format(officer=route.officer)
        fg = folium.FeatureGroup(
            name=escape_text(
                _("Officer {officer}: {stops}, {km}").format(
                    officer=route.officer, stops=_stops(len(route.stops)), km=_km(route.length_m)
                )
            ),
            show=True,
        )
        latlon = [(la, lo) for lo, la in coords]
        line = folium.PolyLine(
            latlon, color=colour, weight=4, opacity=0.85, tooltip=escape_text(officer)
        )
        line.add_to(fg)
        plugins.PolyLineTextPath(
            line, "   ►   ", repeat=True, offset=5, attributes={"fill": colour, "font-size": "13"}
        ).add_to(fg)
        rows = schedule[
            (schedule["officer"] == route.officer) & ~schedule["task"].isin(["return", "end"])
        ]
        row_of = {s.order: row for s, row in zip(route.stops, rows.to_dict("records"), strict=True)}
        numbers = route.numbers
        # a hotspot the officer comes back to gets one marker numbered "3/10"; a street walked
        # in passing is part of the line, with no number and no marker (as on the sheets)
        for group in stop_groups(route):
            group = [s for s in group if s.order in numbers]
            if not group:
                continue
            parts, tips = [], []
            for s in group:
                row = row_of[s.order]
                if s.kind == "street":
                    what = _("walk along {street} ({id})").format(
                        street=street(s.street), id=s.hotspot_id
                    )
                    when = _("start {start}, end {end}")
                else:
                    what = _("{label} on {street}").format(
                        label=i18n.visit_label(s.hotspot_id, s.visit),
                        street=street(s.street) or _("unnamed street"),
                    )
                    when = _("arrive {start}, leave {end}")
                head = _("Officer {officer}, stop {order}").format(
                    officer=route.officer, order=numbers[s.order]
                )
                parts.append(
                    f"<b>{escape_text(head)}</b><br>{escape_text(what)}<br>"
                    f"{escape_text(when.format(start=row['arrive'], end=row['leave']))}<br>"
                    + escape_text(
                        _("risk {risk}").format(risk=i18n.format_number(s.risk, decimals=1))
                    )
                )
                tips.append(
                    escape_text(
                        f"{route.officer}.{numbers[s.order]} {row['arrive']}-{row['leave']}"
                    )
                )
            label = "/".join(str(numbers[s.order]) for s in group)
            w = max(22, 7 * len(label) + 8)
            radius = (
                "3px"
                if all(s.kind == "street" for s in group)
                else "50%"
                if len(group) == 1
                else "11px"
            )
            slot = officers_at[group[0].node].index(route.officer)
            folium.Marker(
                (group[0].lat, group[0].lon),
                icon=folium.DivIcon(
                    html=(
                        f'<div style="background:{colour};color:#fff;border:2px solid #fff;'
                        f"border-radius:{radius};width:{w}px;height:22px;line-height:18px;"
                        "text-align:center;font:bold 12px sans-serif;box-sizing:border-box;"
                        f'box-shadow:0 0 2px #000">{label}</div>'
                    ),
                    icon_size=(w, 22),
                    icon_anchor=(w // 2 - 26 * slot, 11),
                ),
                popup=folium.Popup("<hr>".join(parts), max_width=260),
                tooltip="; ".join(tips),
            ).add_to(fg)
        crew = serving[route.post]
        post_tip = (
            _("Post of officer {officer}").format(officer=route.officer)
            if len(crew) == 1
            else _("Post of officers {officers}").format(officers=", ".join(map(str, crew)))
        )
        if crew[0] == route.officer:
            folium.Marker(
                (route.post[0], route.post[1]),
                icon=folium.DivIcon(
                    html=(
                        '<div style="background:#111;color:#fff;border:2px solid '
                        f"{colour};width:26px;height:26px;line-height:22px;text-align:center;"
                        f'font:bold 11px {FONT_STACK};box-shadow:0 0 3px #000">'
                        f"{escape_text(marker_post)}</div>"
                    ),
                    icon_size=(26, 26),
                    icon_anchor=(13, 13),
                ),
                tooltip=escape_text(post_tip),
            ).add_to(fg)
        if route.end_node != route.post_node:
            # an open route: where the officer finishes, at the last vertex of the line; beside
            # the point, so that a post there and other officers' end markers stay visible
            end_lon, end_lat = coords[-1]
            slot = ending_at[route.end_node].index(route.officer)
            finish = schedule[(schedule["officer"] == route.officer) & (schedule["task"] == "end")]
            tip = _("End of officer {officer}").format(officer=route.officer)
            if len(finish):
                tip = _("End of officer {officer}, {time}").format(
                    officer=route.officer, time=finish["arrive"].iloc[0]
                )
            folium.Marker(
                (end_lat, end_lon),
                icon=folium.DivIcon(
                    html=(
                        f'<div style="background:#fff;color:#111;border:3px solid {colour};'
                        "width:26px;height:26px;line-height:20px;text-align:center;"
                        f'font:bold 11px {FONT_STACK};box-shadow:0 0 3px #000">'
                        f"{escape_text(marker_end)}</div>"
                    ),
                    icon_size=(26, 26),
                    icon_anchor=(-4 - 30 * slot, 13),
                ),
                tooltip=escape_text(tip),
            ).add_to(fg)
        fg.add_to(m)

    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().add_child(_legend(title, routes, attribution))
    # after the layer control and the legend: the view is fitted around them
    if routes:
        m.add_child(_fit_routes(routes, route_coords))
    m.add_child(_street_names(street_name_labels(routes, gdf_edges, street=street)))
    return _stable_ids(m)


def _metric_scale(m: folium.Map) -> None:
    """Add a scale bar in metres only (Leaflet's default adds feet and miles as well)."""
    scale = MacroElement()
    scale._template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )
    m.add_child(scale)


def _legend(title: str, routes: Sequence[Route], attribution: str) -> MacroElement:
    items = "".join(
        f'<div><span style="display:inline-block;width:18px;height:4px;margin-right:6px;'
        f'vertical-align:middle;background:{officer_colour(r.officer)}"></span>'
        + escape_text(
            _("Officer {officer}: {stops}, {km}, {minutes}/{shift_minutes} min").format(
                officer=r.officer,
                stops=_stops(len(r.stops)),
                km=_km(r.length_m),
                minutes=i18n.format_number(r.duration_min),
                shift_minutes=i18n.format_number(r.shift_min),
            )
        )
        + "</div>"
        for r in routes
    )
    keys = [
        _("● numbered: dwell stops in order"),
        _("■ numbered: risky street to walk along"),
        _("► direction of walking"),
        _("{P}: post").format(P=pgettext("marker", "P")),
    ]
    if any(r.end_node != r.post_node for r in routes):
        keys.append(
            _("{E}: end point (the route does not return to its post)").format(
                E=pgettext("marker", "E")
            )
        )
    if any(s.visit > 1 for r in routes for s in r.stops):
        keys.append(_("3/10: one hotspot, visited at stops 3 and 10"))
    visited = escape_text(_("hotspot visited (dashed: not visited)"))
    body = f"""
    <div id="pp-legend" style="position:fixed;bottom:56px;left:10px;z-index:9999;
         background:rgba(255,255,255,.93);padding:8px 10px;border:1px solid #888;
         border-radius:4px;font:12px/1.5 {FONT_STACK};max-width:340px">
      <div style="font-weight:bold;margin-bottom:4px">{escape_text(title)}</div>
      {items}
      <div><span style="display:inline-block;width:14px;height:10px;margin-right:6px;
           background:#ef8a62;opacity:.7;border:1px solid #b2182b"></span>{visited}</div>
      <div>{escape_text("; ".join(keys))}</div>
      <div style="color:#555;margin-top:4px">{escape_text(attribution)}</div>
    </div>"""
    legend = MacroElement()
    legend._template = Template("{% macro html(this, kwargs) %}" + body + "{% endmacro %}")
    return legend


def _first_name(raw: object) -> str:
    """Return the first of an edge's names (``"A;B"`` joins several ways), ``""`` for none."""
    text = "" if raw is None else str(raw).split(";")[0]
    return "" if text in {"nan", "None"} else text


# Street names on the plan map: the labels of a long run of one street repeat every this many
# metres; each label may stand at these shares of its piece, the first that is free wins
_NAME_EVERY_M = 1000.0
_NAME_AT = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.1, 0.9)


def street_name_labels(
    routes: Sequence[Route],
    gdf_edges: gpd.GeoDataFrame,
    *,
    street: Callable[[object], str] | None = None,
) -> list[tuple[str, float, bool, list[tuple[float, float, float]]]]:
    """Place the names of the streets the routes walk and of the streets at each stop.

    The named edges walked by a route, and those that meet at a stop, a post or an end point,
    are joined into runs: connected edges of one name. Each run gets one label, or one per
    1,000 m of a longer run, with a few places along its middle part to choose from; the map
    shows a label at the first place where it covers no marker and no other label.

    Parameters
    ----------
    routes
        Routes of the plan.
    gdf_edges
        Street segments (EPSG:4326) with ``u``, ``v``, ``name`` and ``length``.
    street
        Gives a street's name in the language of the map; default the ``name`` as it is.

    Returns
    -------
    list of tuple
        ``(name, metres, walked, places)`` in order of priority (walked streets first, the
        longest walk first): the name as shown, the length of the street it labels, whether
        a route walks it, and ``(lat, lon, angle)`` places to try, the angle in degrees
        clockwise from east as the text is drawn (between -90 and 90, so it reads left to
        right).
    """
    street = street or _localise({})
    if not len(gdf_edges) or not routes:
        return []
    u = gdf_edges["u"].to_numpy(dtype=np.int64)
    v = gdf_edges["v"].to_numpy(dtype=np.int64)
    names = [_first_name(x) for x in gdf_edges["name"]]
    lengths = gdf_edges["length"].to_numpy(dtype=float)
    # the shortest edge between two nodes is the one walked
    by_pair: dict[tuple[int, int], int] = {}
    for i, (a, b) in enumerate(zip(u.tolist(), v.tolist(), strict=True)):
        key = (min(a, b), max(a, b))
        j = by_pair.get(key)
        if j is None or lengths[i] < lengths[j]:
            by_pair[key] = i
    walked: set[int] = set()
    for r in routes:
        for a, b in itertools.pairwise(r.nodes):
            hit = by_pair.get((min(a, b), max(a, b)))
            if hit is not None and names[hit]:
                walked.add(hit)
    places = {s.node for r in routes for s in r.stops}
    places |= {r.post_node for r in routes} | {r.end_node for r in routes}
    near = np.flatnonzero(np.isin(u, list(places)) | np.isin(v, list(places))).tolist()
    chosen = sorted(walked | {i for i in near if names[i]})
    # runs: edges of one name joined at their nodes (union-find over (name, node))
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(x: tuple[str, int]) -> tuple[str, int]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i in chosen:
        a, b = find((names[i], int(u[i]))), find((names[i], int(v[i])))
        if a != b:
            parent[max(a, b)] = min(a, b)
    runs: dict[tuple[str, int], list[int]] = {}
    for i in chosen:
        runs.setdefault(find((names[i], int(u[i]))), []).append(i)
    # metres in a plane around the streets (for placing only)
    geoms = gdf_edges.geometry.to_numpy()
    lat0 = float(np.mean(gdf_edges.total_bounds[[1, 3]]))
    lon0 = float(np.mean(gdf_edges.total_bounds[[0, 2]]))
    kx, ky = 111_320.0 * float(np.cos(np.radians(lat0))), 110_574.0

    def plane(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - lon0) * kx, (xy[:, 1] - lat0) * ky])

    def spot(line: shapely.LineString, at_m: float) -> tuple[float, float, float]:
        p = line.interpolate(at_m)
        a = line.interpolate(max(at_m - 8.0, 0.0))
        b = line.interpolate(min(at_m + 8.0, line.length))
        # on the screen y grows downwards; turned to read left to right
        angle = float(np.degrees(np.arctan2(-(b.y - a.y), b.x - a.x)))
        angle = angle - 180 if angle > 90 else angle + 180 if angle <= -90 else angle
        return (round(p.y / ky + lat0, 6), round(p.x / kx + lon0, 6), round(angle, 1))

    def rank(run: list[int]) -> tuple[float, float, str, int]:
        walked_m = sum(lengths[i] for i in run if i in walked)
        return (-round(walked_m, 3), -round(float(lengths[run].sum()), 3), names[run[0]], run[0])

    out: list[tuple[str, float, bool, list[tuple[float, float, float]]]] = []
    for run in sorted(runs.values(), key=rank):
        lines = [
            shapely.LineString(plane(shapely.get_coordinates(geoms[i])))
            for i in run
            if geoms[i] is not None and geoms[i].geom_type == "LineString"
        ]
        merged = shapely.line_merge(shapely.MultiLineString(lines)) if lines else None
        if merged is None or merged.is_empty:
            continue
        pieces = sorted(getattr(merged, "geoms", [merged]), key=lambda g: (-g.length, g.coords[0]))
        text = street(names[run[0]])
        is_walked = any(i in walked for i in run)
        for k, line in enumerate(pieces):
            # the longest piece always; a branch only when long enough to read on its own
            if k and line.length < _NAME_EVERY_M / 2:
                continue
            n = max(1, int(line.length // _NAME_EVERY_M))
            span = line.length / n
            for j in range(n):
                at = [spot(line, span * (j + f)) for f in _NAME_AT]
                out.append((text, round(span, 1), is_walked, at))
    return out


# Names are drawn from this zoom on, where they fit their street; below it they would hide
# the routes. Priority goes in list order: a name covering a marker or a name placed before it
# tries its next place, then is left out.
_STREET_NAMES_JS = """
(function () {
  var map = {{ this._parent.get_name() }}, names = {{ this.values.data }}, minZoom = 14.5;
  var pane = map.createPane("ppStreetNames");
  var labels = names.map(function (n) {
    var span = document.createElement("span");
    span.className = n[2] ? "pp-street-name pp-walked" : "pp-street-name";
    span.textContent = n[0];
    var marker = L.marker(n[3][0].slice(0, 2), {
      icon: L.divIcon({className: "pp-street-anchor", html: span, iconSize: [0, 0]}),
      interactive: false, keyboard: false, pane: "ppStreetNames"
    }).addTo(map);
    return {span: span, marker: marker, metres: n[1], at: n[3], w: 0, h: 0};
  });
  function markers() {
    var boxes = [];
    map.eachLayer(function (layer) {
      var o = layer instanceof L.Marker && layer.options.icon && layer.options.icon.options;
      if (!o || !o.iconSize || layer.options.pane === "ppStreetNames") { return; }
      var p = map.latLngToContainerPoint(layer.getLatLng()), s = L.point(o.iconSize);
      var a = o.iconAnchor ? L.point(o.iconAnchor) : s.divideBy(2);
      boxes.push([p.x - a.x - 2, p.y - a.y - 2, p.x - a.x + s.x + 2, p.y - a.y + s.y + 2]);
    });
    return boxes;
  }
  function place() {
    var zoom = map.getZoom();
    pane.style.display = zoom >= minZoom ? "" : "none";
    if (zoom < minZoom) { return; }
    labels.forEach(function (l) {
      if (!l.w) { l.w = l.span.offsetWidth; l.h = l.span.offsetHeight; }
    });
    var boxes = markers(), taken = [];
    var mpp = 40075016.686 * Math.cos(map.getCenter().lat * Math.PI / 180) /
      Math.pow(2, zoom + 8);
    function free(points, r) {
      return points.every(function (q) {
        return boxes.every(function (b) {
          return q[0] < b[0] - r || q[0] > b[2] + r || q[1] < b[1] - r || q[1] > b[3] + r;
        }) && taken.every(function (t) {
          return Math.hypot(q[0] - t[0], q[1] - t[1]) >= r + t[2] + 1;
        });
      });
    }
    labels.forEach(function (l) {
      var r = l.h / 2, n = Math.max(1, Math.ceil(l.w / l.h)), found = null;
      // a name much longer than its street at this zoom waits for a closer zoom
      var tries = l.metres / mpp >= 0.5 * l.w ? l.at.length : 0;
      for (var i = 0; i < tries && !found; i++) {
        var c = l.at[i], a = c[2] * Math.PI / 180;
        var p = map.latLngToContainerPoint([c[0], c[1]]);
        // beside the street, above it first, so the route line and its arrows stay visible
        for (var side = -1; side <= 1 && !found; side += 2) {
          var dx = -Math.sin(a) * side * (r + 3), dy = Math.cos(a) * side * (r + 3);
          var points = [];
          for (var k = 0; k < n; k++) {
            var t = n === 1 ? 0 : (k / (n - 1) - 0.5) * (l.w - l.h);
            points.push([p.x + dx + Math.cos(a) * t, p.y + dy + Math.sin(a) * t]);
          }
          if (free(points, r)) { found = {c: c, dx: dx, dy: dy, points: points}; }
        }
      }
      if (!found) { l.span.style.visibility = "hidden"; return; }
      l.marker.setLatLng([found.c[0], found.c[1]]);
      l.span.style.transform = "translate(-50%, -50%) translate(" + found.dx.toFixed(1) +
        "px, " + found.dy.toFixed(1) + "px) rotate(" + found.c[2] + "deg)";
      l.span.style.visibility = "visible";
      found.points.forEach(function (q) { taken.push([q[0], q[1], r]); });
    });
  }
  map.on("zoomend overlayadd overlayremove", place);
  place();
})();
"""


def _json_for_script(data: object) -> str:
    """Write `data` as JSON that can stand in a script and in a template: no tags, no braces.

    Only for data without objects (lists, strings, numbers): every brace is then inside a
    string, where its escape reads the same.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char in "<>&{}\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _street_names(
    labels: list[tuple[str, float, bool, list[tuple[float, float, float]]]],
) -> MacroElement:
    """Return the map element drawing street names from :func:`street_name_labels`."""
    data = _json_for_script([[t, m, int(w), [list(p) for p in at]] for t, m, w, at in labels])
    return _Script(
        "StreetNames",
        "{% macro header(this, kwargs) %}<style>"
        ".pp-street-anchor { background: none; border: none; }"
        ".pp-street-name { position: absolute; left: 0; top: 0; white-space: nowrap;"
        f" visibility: hidden; font: 11px/1.2 {FONT_STACK}; color: #333; letter-spacing: .2px;"
        " text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; }"
        ".pp-street-name.pp-walked { font-weight: bold; color: #222; }"
        "</style>{% endmacro %}"
        "{% macro script(this, kwargs) %}" + _STREET_NAMES_JS + "{% endmacro %}",
        data=data,
    )


class _Script(MacroElement):
    """A map element from a template that reads the given texts as ``this.values``."""

    def __init__(self, name: str, template: str, **values: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = name
        self._template = Template(template)
        self.values = values


_FIT_ROUTES_JS = """
(function () {
  var map = {{ this._parent.get_name() }}, bounds = L.latLngBounds({{ this.values.bounds }});
  function fit() {
  var size = map.getSize(), pad = 16;
  var legend = document.getElementById("pp-legend");
  var list = map.getContainer().querySelector(".leaflet-control-layers");
  var lw = legend ? legend.offsetWidth + 20 : pad, lh = legend ? legend.offsetHeight + 66 : pad;
  var cw = list ? list.offsetWidth + 20 : pad, ch = list ? list.offsetHeight + 20 : pad;
  // the legend (bottom left) and the layer list (top right) beside or above and below the
  // routes, whichever leaves the routes the most room; on a small screen they overlap
  var options = [[lw, pad, cw, pad], [pad, ch, pad, lh], [lw, ch, pad, pad], [pad, pad, cw, lh]];
  var best = [pad, pad, pad, pad], zoom = -Infinity;
  options.forEach(function (o) {
    if (o[0] + o[2] > size.x / 2 || o[1] + o[3] > size.y / 2) { return; }
    var z = map.getBoundsZoom(bounds, false, L.point(o[0] + o[2], o[1] + o[3]));
    if (z > zoom) { zoom = z; best = o; }
  });
  map.fitBounds(bounds, {paddingTopLeft: [best[0], best[1]],
                         paddingBottomRight: [best[2], best[3]], animate: false});
  }
  fit();
  // printed: the map takes an A4 landscape page (the layer list and zoom buttons are hidden by
  // the page's print style) and is fitted to the routes again; the screen view comes back after
  var box = map.getContainer(), printing = false;
  function toPaper(on) {
    if (on === printing) { return; }
    printing = on;
    box.style.width = on ? "{{ this.values.paper_w }}px" : "";
    box.style.height = on ? "{{ this.values.paper_h }}px" : "";
    map.invalidateSize({animate: false});
    fit();
  }
  window.addEventListener("beforeprint", function () { toPaper(true); });
  window.addEventListener("afterprint", function () { toPaper(false); });
  var media = window.matchMedia ? window.matchMedia("print") : null;
  if (media && media.addListener) {
    media.addListener(function (e) { toPaper(e.matches); });
  }
})();
"""

#: The printable area of an A4 landscape page with 6 mm margins, in CSS pixels (96 per inch),
#: a little short so that the page never spills onto a second one.
_PAPER_PX = (1070, 735)


def _fit_routes(
    routes: Sequence[Route], route_coords: Sequence[list[tuple[float, float]]]
) -> MacroElement:
    """Open the map on the routes and posts, clear of the legend and the layer list."""
    lon = [c[0] for coords in route_coords for c in coords] + [r.post[1] for r in routes]
    lat = [c[1] for coords in route_coords for c in coords] + [r.post[0] for r in routes]
    bounds = [[min(lat), min(lon)], [max(lat), max(lon)]]
    return _Script(
        "FitRoutes",
        "{% macro script(this, kwargs) %}" + _FIT_ROUTES_JS + "{% endmacro %}",
        bounds=json.dumps([[round(float(x), 6) for x in corner] for corner in bounds]),
        paper_w=str(_PAPER_PX[0]),
        paper_h=str(_PAPER_PX[1]),
    )


# Assets a folium map links from CDNs, by the file name in the URL; others are dropped.
_INLINE = {
    "leaflet.js": "leaflet.js",
    "leaflet.css": "leaflet.css",
    "leaflet_heat.min.js": "leaflet-heat.js",
    "leaflet.textpath.min.js": "leaflet.textpath.js",
    "jquery-3.7.1.min.js": "jquery.min.js",
}
_SCRIPT = re.compile(r'<script\s+src="(https?://[^"]+)"[^>]*>\s*</script>')
_LINK = re.compile(r'<link\s+rel="stylesheet"\s+href="(https?://[^"]+)"[^>]*/?>')


@functools.cache
def _asset(name: str) -> str:
    text = resources.files("patrolplan").joinpath("_assets", name).read_text(encoding="utf-8")
    if name.endswith(".css"):
        # Leaflet's CSS points at images/; embed them as data URIs.
        def data_uri(match: re.Match[str]) -> str:
            png = resources.files("patrolplan").joinpath("_assets", match.group(1)).read_bytes()
            return f"url(data:image/png;base64,{base64.b64encode(png).decode()})"

        text = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, text)
    return text


# What starts a tag in a Jinja template with the default settings (expression, statement,
# comment); text without these renders as itself
_JINJA_TAGS = ("{{", "{%", "{#")


class _Text:
    """A template for text without Jinja tags: renders as jinja2 would, without compiling.

    Jinja writes every line break as a newline and drops one at the end; anything else a template
    offers (``module``...) comes from the compiled template, built on first use.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        lines = re.split(r"\r\n|\r|\n", source)
        if lines[-1] == "":
            del lines[-1]
        self.text = "\n".join(lines)

    def render(self, *_args: object, **_kwargs: object) -> str:
        return self.text

    @functools.cached_property
    def _compiled(self) -> Any:
        return Template(self.source)

    def __getattr__(self, name: str) -> Any:
        # only for what a compiled template has (not while copying an unset instance)
        if name in {"source", "text"} or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._compiled, name)


def _template(source: str) -> object:
    """Compile `source` as a Jinja template only if it has Jinja tags."""
    if any(tag in source for tag in _JINJA_TAGS):
        return Template(source)
    return _Text(source)


_TEMPLATES_LOCK = threading.RLock()


@contextlib.contextmanager
def _text_templates() -> Iterator[None]:
    """Let branca skip compiling the text it has already rendered, while a map renders.

    Rendering a folium map wraps the output of every element (each marker, popup, layer) in a
    new ``branca.element.Element``, whose text branca compiles as a Jinja template: hundreds of
    compilations, most of a map's rendering time, for text that renders as itself. Inside this
    block such text is kept as :class:`_Text`; text with Jinja tags is still compiled, so the
    page is the same to the byte.
    """
    namespace = vars(branca.element)
    with _TEMPLATES_LOCK:
        original = namespace["Template"]
        namespace["Template"] = _template
        try:
            yield
        finally:
            namespace["Template"] = original


def to_html(m: folium.Map, *, offline: bool = True) -> str:
    """Render a map to one self-contained HTML page that needs no network.

    Leaflet and the plugins are inlined from the copies bundled in ``patrolplan/_assets``
    (see its README for versions and licences), with jQuery for popups; links to Bootstrap and
    icon fonts, which these maps do not use, are removed. Only the optional OpenStreetMap tile
    layer, off by default, reaches the internet.

    Parameters
    ----------
    m
        A map from :func:`plan_map`.
    offline
        Inline the scripts (default). False keeps folium's CDN links: a smaller file that
        needs the internet to open.

    Returns
    -------
    str
        The HTML page.
    """
    with _text_templates():
        page = m.get_root().render()
    if not offline:
        return _renumber(page)

    def script(match: re.Match[str]) -> str:
        name = _INLINE.get(match.group(1).rsplit("/", 1)[-1])
        return f"<script>{_asset(name)}</script>" if name else ""

    def link(match: re.Match[str]) -> str:
        name = _INLINE.get(match.group(1).rsplit("/", 1)[-1])
        return f"<style>{_asset(name)}</style>" if name else ""

    return _renumber(_LINK.sub(link, _SCRIPT.sub(script, page)))


def notebook_html(m: folium.Map, *, height_px: int | None = None) -> str:
    """Render a map for a notebook cell: the offline page of :func:`to_html` in an iframe.

    folium shows a map in a notebook with Leaflet linked from its CDN, so the map stays blank
    without internet; this shows the same page with Leaflet and the plugins inlined. The
    maps of this module show themselves this way (a cell that ends with the map calls it).

    Parameters
    ----------
    m
        Any folium map.
    height_px
        Height of the frame; default 60 % of its width.

    Returns
    -------
    str
        HTML of an iframe that holds the whole page in ``srcdoc``.
    """
    page = html.escape(to_html(m), quote=True)
    style = "border:none;"
    if height_px is None:
        return (
            '<div style="width:100%;"><div style="position:relative;width:100%;height:0;'
            'padding-bottom:60%;"><iframe srcdoc="'
            + page
            + '" style="position:absolute;width:100%;height:100%;left:0;top:0;'
            + style
            + '" allowfullscreen></iframe></div></div>'
        )
    return (
        f'<iframe srcdoc="{page}" width="100%" height="{int(height_px)}" '
        f'style="{style}" allowfullscreen></iframe>'
    )


class _Map(folium.Map):
    """A folium map that shows itself in a notebook with no network (:func:`notebook_html`)."""

    def _repr_html_(self, **_kwargs: Any) -> str:
        return notebook_html(self)


def _renumber(page: str) -> str:
    """Renumber branca's random popup ids in order of appearance, for reproducible files."""
    seen: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"html_{len(seen):08x}")

    return re.sub(r"\bhtml_[0-9a-f]{32}\b", renumber, page)


def stop_groups(route: Route) -> list[list[Stop]]:
    """Group a route's stops by where they are, in order of the first stop of each place.

    Parameters
    ----------
    route
        A route.

    Returns
    -------
    list of list of Stop
        Stops at one graph node each; more than one when the officer comes back (a revisit).
    """
    groups: dict[int, list[Stop]] = {}
    for s in route.stops:
        groups.setdefault(s.node, []).append(s)
    return list(groups.values())


def _hours(window: object) -> set[int]:
    """Hours of an ``active_hours`` window ``"22-01"`` (22, 23, 0); empty when unknown."""
    m = re.fullmatch(r"(\d{1,2})-(\d{1,2})", str(window or "").strip())
    if not m:
        return set()
    a, b = int(m[1]) % 24, int(m[2]) % 24
    return {(a + k) % 24 for k in range(((b - a) % 24) or 24)}


def off_hours(stop: Stop, window: object, shift_start: pd.Timestamp) -> bool:
    """Whether a dwell stop falls wholly outside its hotspot's active hours.

    Parameters
    ----------
    stop
        A stop of a route.
    window
        The hotspot's ``active_hours`` (``"22-01"``: from 22:00 to 01:00).
    shift_start
        Start of the shift.

    Returns
    -------
    bool
        True when no minute of the stop lies in the window; False when it does or when the
        window is unknown.

    Examples
    --------
    >>> from patrolplan.routing import Stop
    >>> s = Stop(1, "H001", 0, 0.0, 0.0, 30.0, 42.0, 1.0, "", ())
    >>> off_hours(s, "22-23", pd.Timestamp("2016-06-19 22:00"))
    False
    >>> off_hours(s, "02-05", pd.Timestamp("2016-06-19 22:00"))
    True
    """
    hours = _hours(window)
    if not hours:
        return False
    a = shift_start + pd.Timedelta(minutes=stop.arrive_min)
    b = shift_start + pd.Timedelta(minutes=max(stop.leave_min, stop.arrive_min + 1e-6))
    t = a.floor("h")
    while t < b:
        if t.hour in hours:
            return False
        t += pd.Timedelta(hours=1)
    return True


def place_name(node: int, gdf_edges: gpd.GeoDataFrame, street: Callable[[object], str]) -> str:
    """Name a street node for people: its street, or the crossing of its streets.

    Parameters
    ----------
    node
        A graph node.
    gdf_edges
        Street segments with ``u``, ``v`` and ``name``.
    street
        Gives a street's name in the language of the page.

    Returns
    -------
    str
        ``"Eastern Avenue"``, ``"Eastern Avenue & South Broadway"`` (at most two names, the
        longest streets first), ``"near Eastern Avenue"`` for an unnamed way that leads
        there, or ``""`` when no street near has a name.
    """

    def named(nodes: set[int]) -> list[str]:
        at = gdf_edges[gdf_edges["u"].isin(nodes) | gdf_edges["v"].isin(nodes)]
        length = at["length"] if "length" in at else pd.Series(1.0, index=at.index)
        names: dict[str, float] = {}
        for raw, metres in zip(at["name"], length, strict=True):
            text = str(raw or "").split(";")[0]
            if text and text != "nan":
                names[text] = names.get(text, 0.0) + float(metres)
        return sorted(names, key=lambda n: (-names[n], n))[:2]

    best = named({int(node)})
    if best:
        return " & ".join(street(n) for n in best)
    # an unnamed footway or alley: the named streets it leads to
    at = gdf_edges[(gdf_edges["u"] == node) | (gdf_edges["v"] == node)]
    near = {int(n) for n in (*at["u"], *at["v"])}
    best = named(near)
    return _("near {street}").format(street=" & ".join(street(n) for n in best)) if best else ""


def _marker_groups(
    route: Route, numbers: dict[int, int], xy: Callable[[float, float], tuple[float, float]]
) -> list[tuple[float, float, list[Stop]]]:
    """Numbered stops whose markers would touch on the drawing, grouped into one marker."""
    groups: list[tuple[float, float, list[Stop]]] = []
    for s in route.stops:
        if s.order not in numbers:
            continue
        x, y = xy(s.lon, s.lat)
        for gx, gy, members in groups:
            if abs(gx - x) < 16 and abs(gy - y) < 16:
                members.append(s)
                break
        else:
            groups.append((x, y, [s]))
    return groups


def _arrows(points: list[tuple[float, float]], colour: str, every_px: float = 70.0) -> str:
    """Arrowheads along a drawn line, every `every_px` pixels, pointing the way walked."""
    out = []
    run = every_px / 2
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        seg = float(np.hypot(x1 - x0, y1 - y0))
        if seg == 0:
            continue
        angle = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
        pos = every_px - run
        while pos <= seg:
            x, y = x0 + (x1 - x0) * pos / seg, y0 + (y1 - y0) * pos / seg
            out.append(
                f'<path d="M-5,-4 L4,0 L-5,4 z" transform="translate({x:.1f},{y:.1f}) '
                f'rotate({angle:.0f})" fill="{colour}" stroke="#fff" stroke-width="0.8"/>'
            )
            pos += every_px
        run = (run + seg) % every_px
    return f'<g class="arrows">{"".join(out)}</g>'


def _street_labels(
    route: Route,
    gdf_edges: gpd.GeoDataFrame,
    street: Callable[[object], str],
    xy: Callable[[float, float], tuple[float, float]],
    width: float,
    height: float,
    taken: list[tuple[float, float, float, float]],
    most: int = 12,
) -> str:
    """Names of the streets a route walks, along each street's longest walked piece."""
    by_pair = {
        (min(int(u), int(v)), max(int(u), int(v))): (name, geom)
        for u, v, name, geom in zip(
            gdf_edges["u"], gdf_edges["v"], gdf_edges["name"], gdf_edges.geometry, strict=True
        )
    }
    # runs of consecutive walked edges of one street; each street is named once, on the
    # longest run where its name fits, at the middle or a little to either side
    runs: dict[str, list[tuple[float, list[tuple[float, float]]]]] = {}
    run_name = ""
    run_pts: list[tuple[float, float]] = []
    for u, v in [*itertools.pairwise(route.nodes), (-1, -1)]:
        hit = by_pair.get((min(u, v), max(u, v)))
        name = str(hit[0] or "").split(";")[0] if hit is not None else ""
        name = "" if name == "nan" else name
        if name != run_name or not name:
            if run_name and len(run_pts) > 1:
                length = 0.0
                for a, b in itertools.pairwise(run_pts):
                    length += float(np.hypot(b[0] - a[0], b[1] - a[1]))
                runs.setdefault(run_name, []).append((length, run_pts))
            run_name, run_pts = name, []
        if name and hit is not None and hit[1] is not None:
            piece = [xy(lo, la) for lo, la in hit[1].coords]
            if run_pts and np.hypot(*np.subtract(run_pts[-1], piece[-1])) < np.hypot(
                *np.subtract(run_pts[-1], piece[0])
            ):
                piece.reverse()
            run_pts += piece

    def place(length: float, pts: list[tuple[float, float]], at: float, w: float) -> Any:
        """Return the label's centre, angle and box at share `at` of a run, or None."""
        half, (x0, y0), (x1, y1) = length * at, pts[0], pts[-1]
        for a, b in itertools.pairwise(pts):
            seg = float(np.hypot(b[0] - a[0], b[1] - a[1]))
            if seg >= half and seg > 0:
                (x0, y0), (x1, y1) = a, b
                break
            half -= seg
        share = min(max(half / max(float(np.hypot(x1 - x0, y1 - y0)), 1e-9), 0.0), 1.0)
        cx, cy = x0 + (x1 - x0) * share, y0 + (y1 - y0) * share
        angle = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
        if angle > 90:
            angle -= 180
        elif angle < -90:
            angle += 180
        # a label's box, roughly, axis-aligned; labels that would cover another are left out
        box = (
            (cx - w / 2, cy - 6, cx + w / 2, cy + 6)
            if abs(angle) < 45
            else (cx - 6, cy - w / 2, cx + 6, cy + w / 2)
        )
        if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
            return None
        if any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in taken):
            return None
        return cx, cy, angle, box

    out: list[str] = []
    longest = {n: max(length for length, _p in r) for n, r in runs.items()}
    for name in sorted(runs, key=lambda n: (-longest[n], n)):
        if len(out) >= most:
            break
        text = street(name)
        w = 5.0 * len(text)
        for length, pts in sorted(runs[name], key=lambda r: -r[0]):
            if length < w * 0.6:
                break
            spot = next(
                (p for at in (0.5, 0.35, 0.65, 0.2, 0.8) if (p := place(length, pts, at, w))),
                None,
            )
            if spot is None:
                continue
            cx, cy, angle, box = spot
            taken.append(box)
            out.append(
                f'<text transform="translate({cx:.1f},{cy:.1f}) rotate({angle:.0f})" y="3" '
                f'text-anchor="middle">{escape_text(text)}</text>'
            )
            break
    return (
        '<g class="street-names" font-size="8.5" fill="#333" stroke="#fff" stroke-width="2.5" '
        f'paint-order="stroke">{"".join(out)}</g>'
    )


def _svg_map(
    route: Route,
    coords: list[tuple[float, float]],
    gdf_edges: gpd.GeoDataFrame,
    *,
    numbers: dict[int, int] | None = None,
    street: Callable[[object], str] | None = None,
    width: float = 680.0,
    height: float = 320.0,
) -> str:
    """Draw one route over the streets around it as an SVG string (no JavaScript).

    Stops carry their sheet numbers (`numbers`; all stops by order when None); stops whose
    markers would touch share one marker (``6, 9, 13``). Arrowheads show the way walked and
    the streets walked are named.
    """
    numbers = {s.order: s.order for s in route.stops} if numbers is None else numbers
    street = street or _localise({})
    lon = np.array([c[0] for c in coords])
    lat = np.array([c[1] for c in coords])
    kx = np.cos(np.radians(lat.mean()))
    x0, x1 = lon.min(), lon.max()
    y0, y1 = lat.min(), lat.max()
    # a margin, then widen the box to the drawing's aspect ratio
    mx, my = (x1 - x0) * 0.06 + 1e-4, (y1 - y0) * 0.06 + 1e-4
    x0, x1, y0, y1 = x0 - mx, x1 + mx, y0 - my, y1 + my
    span_x, span_y = (x1 - x0) * kx, (y1 - y0)
    scale = min(width / span_x, height / span_y)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

    def xy(lo: float, la: float) -> tuple[float, float]:
        return width / 2 + (lo - cx) * kx * scale, height / 2 - (la - cy) * scale

    def pt(lo: float, la: float) -> str:
        x, y = xy(lo, la)
        return f"{x:.1f},{y:.1f}"

    half_w, half_h = width / 2 / kx / scale, height / 2 / scale
    near = gdf_edges.cx[cx - half_w : cx + half_w, cy - half_h : cy + half_h]
    streets = "".join(
        f'<polyline points="{" ".join(pt(lo, la) for lo, la in geom.coords)}"/>'
        for geom in near.geometry
        if geom.geom_type == "LineString"
    )
    colour = officer_colour(route.officer)
    line_xy = [xy(lo, la) for lo, la in coords]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in line_xy)
    # the post and end point first: stop markers that would cover them move up a little
    post_xy = xy(route.post[1], route.post[0])
    fixed = [post_xy] + ([xy(*coords[-1])] if route.end_node != route.post_node else [])
    taken = [(x - 11, y - 11, x + 11, y + 11) for x, y in fixed]
    parts = []
    for gx, gy, members in _marker_groups(route, numbers, xy):
        label = ", ".join(str(numbers[s.order]) for s in members)
        x, y = gx, gy
        while any(abs(fx - x) < 18 and abs(fy - y) < 18 for fx, fy in fixed):
            y -= 20
        leader = (
            f'<line x1="{gx:.1f}" y1="{gy:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="{colour}" '
            'stroke-width="1.5"/>'
            if y != gy
            else ""
        )
        fixed.append((x, y))
        # square: a street to walk; circle: a dwell stop; pill: several stops at one place
        half = max(9.0, 3.1 * len(label) + 4)
        taken.append((x - half, y - 9, x + half, y + 9))
        shape = (
            '<rect x="-9" y="-9" width="18" height="18" rx="3"'
            if members[0].kind == "street" and len(members) == 1
            else '<circle r="9"'
            if len(members) == 1
            else f'<rect x="-{half:.1f}" y="-9" width="{2 * half:.1f}" height="18" rx="9"'
        )
        parts.append(
            f'{leader}<g class="stop" transform="translate({x:.1f},{y:.1f})">{shape} '
            f'fill="{colour}" stroke="#fff" stroke-width="2"/><text y="4" text-anchor="middle" '
            f'fill="#fff" font-size="10" font-weight="bold">{label}</text></g>'
        )
    stops = "".join(parts)
    marker_post = escape_text(pgettext("marker", "P"))
    marker_end = escape_text(pgettext("marker", "E"))
    post = (
        f'<g transform="translate({pt(route.post[1], route.post[0])})"><rect x="-9" y="-9" '
        f'width="18" height="18" fill="#111" stroke="{colour}" stroke-width="2"/><text y="4" '
        'text-anchor="middle" fill="#fff" font-size="10" font-weight="bold">'
        f"{marker_post}</text></g>"
    )
    if route.end_node != route.post_node:
        # an open route finishes at the last vertex of its line
        post += (
            f'<g transform="translate({pt(*coords[-1])})"><rect x="-9" y="-9" width="18" '
            f'height="18" fill="#fff" stroke="{colour}" stroke-width="3"/><text y="4" '
            'text-anchor="middle" fill="#111" font-size="10" font-weight="bold">'
            f"{marker_end}</text></g>"
        )
    bar_m = 250 if span_x * 111_320 < 3000 else 500
    bar_px = bar_m / 111_320 * scale  # a metre of longitude and of latitude, drawn alike
    bar_text = escape_text(_("{n} m").format(n=bar_m))
    attribution = escape_text(_(ATTRIBUTION))
    scale_bar = (
        f'<g transform="translate(12,{height - 14})"><rect width="{bar_px:.1f}" '
        f'height="4" fill="#333"/><text y="-4" font-size="10">'
        f"{bar_text}</text></g>"
    )
    # the corners hold the scale bar and the attribution: no street name there
    taken += [(0, height - 30, 120, height), (width - 260, height - 18, width, height)]
    names = _street_labels(route, gdf_edges, street, xy, width, height, taken)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'class="sheet-map"><rect width="100%" height="100%" fill="#fafafa"/>'
        f'<g fill="none" stroke="#c8c8c8" stroke-width="1">{streets}</g>'
        f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="4" '
        f'stroke-opacity="0.85" stroke-linejoin="round"/>{_arrows(line_xy, colour)}{names}'
        f"{post}{stops}{scale_bar}"
        f'<text x="{width - 6:.0f}" y="{height - 6:.0f}" font-size="9" text-anchor="end" '
        f'fill="#666">{attribution}</text></svg>'
    )


def _streets_to_walk(n: int) -> str:
    if n == 0:
        return ""
    return ngettext(", {n} street to walk", ", {n} streets to walk", n).format(
        n=i18n.format_number(n)
    )


# Page budget of the route sheets, in millimetres of A4 inside 12 mm margins, and the
# height of a table row by its number of text lines; estimated generously, so that a sheet
# that the estimate fits on one page prints on one page (checked in the tests with Chromium)
_PAGE_MM = 273.0
_MAP_MM, _MAP_MIN_MM = 88.0, 64.0
_FIRST_PAGE_TABLE_MM = _PAGE_MM - 10 - 9 - _MAP_MM - 4 - 7 - 10
_NEXT_PAGE_TABLE_MM = _PAGE_MM - 10 - 7 - 10
_LINE_MM, _VIA_LINE_MM, _ROW_PAD_MM = 3.6, 3.2, 1.6
# characters per line in the narrow "At" and "Task" cells and in the wide "Walk via" cell, in
# DejaVu Sans (the font with the Kazakh letters), whose Cyrillic is about 0.59 em a character
_AT_CHARS, _TASK_CHARS, _VIA_CHARS = 18, 10, 62


def _lines(text: str, width: int) -> int:
    """Lines `text` takes in a cell `width` characters wide, breaking between words."""
    lines, used = 1, 0
    for word in text.split():
        need = len(word) + (1 if used else 0)
        if used and used + need > width:
            lines, used = lines + 1 + (len(word) - 1) // width, len(word) % width or width
        else:
            used += need
    return lines


def _row_mm(task: str, at: str, via: str, why: str = "", via_chars: int = _VIA_CHARS) -> float:
    lines = max(_lines(task, _TASK_CHARS), _lines(at, _AT_CHARS))
    # a hotspot's reason is a line of its own above the streets to walk
    via_lines = _lines(via, via_chars) + (_lines(why, via_chars) if why else 0)
    return max(lines * _LINE_MM, via_lines * _VIA_LINE_MM) + _ROW_PAD_MM


# a heading longer than a line (a Russian or Kazakh title) takes this much more per line
_H1_CHARS, _H1_LINE_MM = 52, 5.8


def _paginate(
    heights: list[float], heading_mm: float = 0.0, map_saved_mm: float = 0.0
) -> list[int]:
    """Split rows of the given heights into pages; return the number of rows on each page.

    `heading_mm` is what a long heading takes beyond its one line, on every page;
    `map_saved_mm` what a shorter map leaves to the first page's table.
    """
    pages, used, budget = [0], 0.0, _FIRST_PAGE_TABLE_MM - heading_mm + map_saved_mm
    for h in heights:
        if pages[-1] and used + h > budget:
            pages.append(0)
            used, budget = 0.0, _NEXT_PAGE_TABLE_MM - heading_mm
        pages[-1] += 1
        used += h
    return pages


def _why(row: dict[str, object]) -> str:
    """Why a hotspot is on the route: its main incident types and its active hours."""
    cats = str(row.get("top_categories") or "").strip()
    hours = str(row.get("active_hours") or "").strip()
    if cats and hours:
        return _("{categories} · {hours} h").format(categories=cats, hours=hours)
    if cats:
        return cats
    if hours:
        return _("{hours} h").format(hours=hours)
    return ""


def _timetable_rows(
    rows: pd.DataFrame,
    street: Callable[[object], str],
    *,
    why: dict[str, str] | None = None,
    off: set[int] | None = None,
    via_chars: int = _VIA_CHARS,
) -> list[tuple[str, float]]:
    """HTML table rows of one officer's timetable, with each row's estimated height in mm.

    Each row shows the stop's number of the timetable (a street walked in passing has none:
    a dot); `why` the reason of each hotspot, `off` the stops (``order``) outside their
    hotspot's active hours.
    """
    why = why or {}
    off = off or set()
    out = []
    for r in rows.to_dict("records"):
        task_name = str(r["task"])
        task = i18n.task_label(task_name, str(r["hotspot_id"]), int(r["visit"]))
        at = i18n.place_label(task_name, street(r["street"]))
        via = " > ".join(street(v) for v in str(r["via"]).split(" > ")) if r["via"] else ""
        done = "&#9744;" if task_name not in ("return", "end") else ""
        stop = {"return": pgettext("stop", "return"), "end": pgettext("stop", "end")}.get(
            task_name, str(r["stop"]) or "·"
        )
        reason = why.get(str(r["hotspot_id"]), "") if task_name == "hotspot" else ""
        late = task_name == "hotspot" and int(r["order"]) in off
        note = ""
        if reason or late:
            warn = '<span class="off">&#9888;</span> ' if late else ""
            note = f'<span class="why">{warn}{escape_text(reason)}</span><br>'
        tr = '<tr class="passing">' if stop == "·" else "<tr>"
        html_row = (
            f"{tr}<td>{escape_text(stop)}</td>"
            f"<td>{escape_text(task)}</td>"
            f"<td>{escape_text(r['arrive'])}</td><td>{escape_text(r['leave'])}</td>"
            f"<td>{escape_text(at) or '&ndash;'}</td>"
            f"<td class='via'>{note}{escape_text(via) or '&ndash;'}</td>"
            f"<td class='tick'>{done}</td></tr>"
        )
        text_note = ("! " if late else "") + reason
        out.append((html_row, _row_mm(task, at, via, text_note, via_chars)))
    return out


# width of a character of the 8 pt bold table heads and of the 8 pt cells, generously (a
# DejaVu Sans Bold capital is up to 2 mm), and of a cell's padding and borders, in mm
_HEAD_CHAR_MM, _CELL_CHAR_MM, _CELL_PAD_MM = 2.1, 1.8, 2.6


def _table_widths() -> dict[str, float]:
    """Column widths (mm) that hold each head in the language on one line, unbroken."""

    def fit(heads: Sequence[str], cells: Sequence[str] = (), *, least: float) -> float:
        need = [len(w) * _HEAD_CHAR_MM + _CELL_PAD_MM for t in heads for w in t.split()]
        need += [len(w) * _CELL_CHAR_MM + _CELL_PAD_MM for t in cells for w in t.split()]
        return round(max(least, *need), 1)

    return {
        "stop": fit(
            [pgettext("timetable", "Stop")],
            [pgettext("stop", "return"), pgettext("stop", "end")],
            least=11,
        ),
        "task": 19.0,
        "time": fit([pgettext("timetable", "Arrive"), pgettext("timetable", "Leave")], least=12),
        "at": 34.0,
        "done": fit([pgettext("timetable", "Done")], least=9),
    }


def _table_head(widths: dict[str, float] | None = None) -> str:
    w = _table_widths() if widths is None else widths
    heads = (
        # Translators: timetable heads fit narrow columns: Stop, Arrive, Leave, Done 6 letters
        pgettext("timetable", "Stop"),
        pgettext("timetable", "Task"),
        pgettext("timetable", "Arrive"),
        pgettext("timetable", "Leave"),
        pgettext("timetable", "At"),
        pgettext("timetable", "Walk via"),
        pgettext("timetable", "Done"),
    )
    cols = (
        f'<col class="c-stop" style="width:{w["stop"]}mm">'
        f'<col class="c-task" style="width:{w["task"]}mm">'
        f'<col class="c-time" style="width:{w["time"]}mm">'
        f'<col class="c-time" style="width:{w["time"]}mm">'
        f'<col class="c-at" style="width:{w["at"]}mm"><col>'
        f'<col class="c-done" style="width:{w["done"]}mm">'
    )
    return (
        f"<table><colgroup>{cols}</colgroup><thead><tr>"
        + "".join(f"<th>{escape_text(h)}</th>" for h in heads)
        + "</tr></thead><tbody>"
    )


def _svg_overview(
    routes: Sequence[Route],
    route_coords: Sequence[list[tuple[float, float]]],
    gdf_edges: gpd.GeoDataFrame,
    *,
    width: float = 680.0,
    height: float = 520.0,
) -> str:
    """Draw every officer's route on one SVG (no JavaScript): lines, arrows, stops, posts."""
    lon = np.array([c[0] for coords in route_coords for c in coords] + [r.post[1] for r in routes])
    lat = np.array([c[1] for coords in route_coords for c in coords] + [r.post[0] for r in routes])
    kx = np.cos(np.radians(lat.mean()))
    x0, x1, y0, y1 = lon.min(), lon.max(), lat.min(), lat.max()
    mx, my = (x1 - x0) * 0.05 + 1e-4, (y1 - y0) * 0.05 + 1e-4
    x0, x1, y0, y1 = x0 - mx, x1 + mx, y0 - my, y1 + my
    scale = min(width / ((x1 - x0) * kx), height / (y1 - y0))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

    def xy(lo: float, la: float) -> tuple[float, float]:
        return width / 2 + (lo - cx) * kx * scale, height / 2 - (la - cy) * scale

    half_w, half_h = width / 2 / kx / scale, height / 2 / scale
    near = gdf_edges.cx[cx - half_w : cx + half_w, cy - half_h : cy + half_h]
    streets = "".join(
        '<polyline points="'
        + " ".join("{:.1f},{:.1f}".format(*xy(lo, la)) for lo, la in geom.coords)
        + '"/>'
        for geom in near.geometry
        if geom.geom_type == "LineString"
    )
    lines: list[str] = []
    dots: list[str] = []
    posts: list[str] = []
    for route, coords in zip(routes, route_coords, strict=True):
        colour = officer_colour(route.officer)
        pts = [xy(lo, la) for lo, la in coords]
        lines.append(
            f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}" fill="none" '
            f'stroke="{colour}" stroke-width="3.5" stroke-opacity="0.85" '
            f'stroke-linejoin="round"/>{_arrows(pts, colour, every_px=90.0)}'
        )
        dots.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}" stroke="#fff"/>'
            for x, y in (xy(s.lon, s.lat) for s in route.stops if s.order in route.numbers)
        )
    marker = escape_text(pgettext("marker", "P"))
    by_post: dict[tuple[float, float], list[int]] = {}
    for route in routes:
        by_post.setdefault(route.post, []).append(route.officer)
    for (la, lo), officers in by_post.items():
        x, y = xy(lo, la)
        label = escape_text(marker + " " + ", ".join(str(o) for o in officers))
        w = 10 + 6.2 * len(label)
        posts.append(
            f'<g transform="translate({x:.1f},{y:.1f})"><rect x="{-w / 2:.1f}" y="-9" '
            f'width="{w:.1f}" height="18" fill="#111" stroke="#fff" stroke-width="1.5"/>'
            '<text y="4" text-anchor="middle" fill="#fff" font-size="10" font-weight="bold">'
            f"{label}</text></g>"
        )
    attribution = escape_text(_(ATTRIBUTION))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'class="sheet-map overview-map"><rect width="100%" height="100%" fill="#fafafa"/>'
        f'<g fill="none" stroke="#c8c8c8" stroke-width="1">{streets}</g>'
        f"{''.join(lines)}{''.join(dots)}{''.join(posts)}"
        f'<text x="{width - 6:.0f}" y="{height - 6:.0f}" font-size="9" text-anchor="end" '
        f'fill="#666">{attribution}</text></svg>'
    )


def _overview_page(
    routes: Sequence[Route],
    route_coords: Sequence[list[tuple[float, float]]],
    schedule: pd.DataFrame,
    *,
    gdf_edges: gpd.GeoDataFrame,
    street: Callable[[object], str],
    title: str,
) -> str:
    """Return the first page of the sheets: every officer's route on one map, a line each."""
    heads = [
        pgettext("column", "officer"),
        pgettext("column", "post"),
        pgettext("column", "stops"),
        pgettext("column", "km"),
        pgettext("column", "back at"),
        pgettext("column", "of shift"),
    ]
    rows = []
    for route in routes:
        colour = officer_colour(route.officer)
        where = place_name(route.post_node, gdf_edges, street) or (
            f"{route.post[0]:.5f}, {route.post[1]:.5f}"
        )
        mine = schedule[schedule["officer"] == route.officer]
        back = str(mine["arrive"].iloc[-1]) if len(mine) else ""
        n_hot = len(route.hotspot_ids)
        n_streets = sum(1 for s in route.stops if s.kind == "street" and s.order in route.numbers)
        stops = i18n.format_number(n_hot) + (
            " + " + i18n.format_number(n_streets) if n_streets else ""
        )
        cells = [
            f'<span class="swatch" style="background:{colour}"></span>'
            + escape_text(str(route.officer)),
            escape_text(where),
            escape_text(stops),
            escape_text(i18n.format_number(route.length_m / 1000, decimals=1)),
            escape_text(back),
            escape_text(
                _("{minutes} of {shift_minutes} min").format(
                    minutes=i18n.format_number(route.duration_min),
                    shift_minutes=i18n.format_number(route.shift_min),
                )
            ),
        ]
        rows.append('<tr class="officer">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{escape_text(h)}</th>" for h in heads)
    widths = (18, 78, 20, 14, 20, 36)  # mm of the page's 186
    cols = "<colgroup>" + "".join(f'<col style="width:{mm}mm">' for mm in widths) + "</colgroup>"
    key = escape_text(
        _(
            "stops: dwell stops + streets to walk; P: post (its officers); each officer's own "
            "sheet follows"
        )
    )
    heading = escape_text(title) + " &middot; " + escape_text(_("all officers"))
    return f"""
<section class="sheet overview">
  <h1>{heading}</h1>
  {_svg_overview(routes, route_coords, gdf_edges)}
  <table class="overview-table">{cols}<thead><tr>{head}</tr></thead>
  <tbody>{"".join(rows)}</tbody></table>
  <p class="key">{key}</p>
</section>"""


def route_sheets(
    routes: Sequence[Route],
    route_coords: Sequence[list[tuple[float, float]]],
    schedule: pd.DataFrame,
    *,
    gdf_edges: gpd.GeoDataFrame,
    title: str | None = None,
    lang: str = "en",
    gdf_hotspots: gpd.GeoDataFrame | None = None,
    shift_start: pd.Timestamp | None = None,
) -> str:
    """Render printable route sheets: one A4 page per officer, more for a long timetable.

    Each officer's first page names his post by its street or crossing and has the route
    drawn over the surrounding streets (inline SVG, so it prints without JavaScript or
    network) with arrows the way to walk, the names of the streets walked and one marker per
    place (``6, 9`` where stops meet); then the timetable, the streets to walk between stops
    and a checklist to tick at each dwell stop. With more than one officer a first page shows
    every route on one map and one line per officer (post, stops, km, back at, minutes of the
    shift). A risky street walked in passing (its walk
    reads no minute on the clock) gets no stop number. With `gdf_hotspots` each hotspot says
    why it is there (its main incident types and active hours), and with `shift_start` a stop
    outside its hotspot's active hours is marked. A timetable too long for one page goes on
    to continuation pages, each headed with the officer's name and ``page x/y``; the first
    page says so. The end point of an open route is drawn (``E``) and listed as the last row.

    Parameters
    ----------
    routes
        Routes of the plan.
    route_coords
        (lon, lat) vertices of each route.
    schedule
        Timetable from :func:`patrolplan.export.schedule_frame`.
    gdf_edges
        Street segments in EPSG:4326, for the background; a ``name:<lang>`` column, where
        present, gives street names in `lang`.
    title
        Page heading; default "Patrol plan" in `lang`.
    lang
        Language of the sheets, one of :data:`patrolplan.i18n.LANGS`.
    gdf_hotspots
        The plan's hotspots (``hotspot_id``, ``top_categories``, ``active_hours``), for the
        reason of each stop; None: no reasons.
    shift_start
        Start of the shift, to mark stops outside their hotspot's active hours; None: not
        marked.

    Returns
    -------
    str
        An HTML document; print it, or turn it into PDF with a browser.

    Raises
    ------
    InputDataError
        If `lang` is not a known language.
    """
    with i18n.language(lang) as code:
        return _route_sheets(
            routes,
            route_coords,
            schedule,
            gdf_edges=gdf_edges,
            title=_("Patrol plan") if title is None else title,
            lang=code,
            gdf_hotspots=gdf_hotspots,
            shift_start=shift_start,
        )


def _route_sheets(
    routes: Sequence[Route],
    route_coords: Sequence[list[tuple[float, float]]],
    schedule: pd.DataFrame,
    *,
    gdf_edges: gpd.GeoDataFrame,
    title: str,
    lang: str,
    gdf_hotspots: gpd.GeoDataFrame | None = None,
    shift_start: pd.Timestamp | None = None,
) -> str:
    street = _localise(i18n.street_names(gdf_edges))
    widths = _table_widths()
    table_head = _table_head(widths)
    # the "Walk via" column takes what the others leave of the page's 186 mm
    via_chars = int((186.0 - sum(widths.values()) - widths["time"]) / 1.45)
    hot: dict[str, dict[str, object]] = {}
    if gdf_hotspots is not None and len(gdf_hotspots):
        cols = [c for c in ("top_categories", "active_hours") if c in gdf_hotspots]
        for h, *values in zip(
            gdf_hotspots["hotspot_id"], *(gdf_hotspots[c] for c in cols), strict=True
        ):
            hot[str(h)] = dict(zip(cols, values, strict=True))
    why = {h: _why(row) for h, row in hot.items()}
    pages = []
    for route, coords in zip(routes, route_coords, strict=True):
        numbers = route.numbers
        off = (
            {
                s.order
                for s in route.stops
                if s.kind == "hotspot"
                and off_hours(s, hot.get(s.hotspot_id, {}).get("active_hours"), shift_start)
            }
            if shift_start is not None
            else set()
        )
        rows = _timetable_rows(
            schedule[schedule["officer"] == route.officer],
            street,
            why=why,
            off=off,
            via_chars=via_chars,
        )
        officer = _("Officer {officer}").format(officer=route.officer)
        # the longest heading, with a page number, in lines beyond the first
        longest = f"{title} · {officer} · " + _("page {k}/{n}").format(k=99, n=99)
        extra_mm = (_lines(longest, _H1_CHARS) - 1) * _H1_LINE_MM
        heights = [h for _html, h in rows]
        # a timetable a little too long for the first page takes room from the map instead
        over = sum(heights) - (_FIRST_PAGE_TABLE_MM - extra_mm)
        saved = over + 1.0 if 0 < over <= _MAP_MM - _MAP_MIN_MM - 1.0 else 0.0
        map_mm = _MAP_MM - saved
        split = _paginate(heights, extra_mm, saved)
        n = len(split)
        heading = escape_text(title) + " &middot; " + escape_text(officer)
        # coordinates keep a decimal point in every language, as GPS devices read them
        lat_s, lon_s = f"{route.post[0]:.5f}", f"{route.post[1]:.5f}"
        where = place_name(route.post_node, gdf_edges, street)
        places = [
            _("Post: {place} ({lat}, {lon})").format(place=where, lat=lat_s, lon=lon_s)
            if where
            else _("Post {lat}, {lon}").format(lat=lat_s, lon=lon_s)
        ]
        if route.end_node != route.post_node:
            places.append(
                _("End {lat}, {lon}").format(lat=f"{coords[-1][1]:.5f}", lon=f"{coords[-1][0]:.5f}")
            )
        n_hot = len(route.hotspot_ids)
        dwell = ngettext(
            "{n} dwell stop of {minutes} min", "{n} dwell stops of {minutes} min", n_hot
        ).format(
            n=i18n.format_number(n_hot),
            minutes=i18n.format_number(route.dwell_min / max(n_hot, 1)),
        )
        n_streets = sum(1 for s in route.stops if s.kind == "street" and s.order in numbers)
        meta = " &middot; ".join(
            escape_text(part)
            for part in [
                *places,
                dwell + _streets_to_walk(n_streets),
                _("{km} km on foot").format(
                    km=i18n.format_number(route.length_m / 1000, decimals=1)
                ),
                _("{minutes} of {shift_minutes} min").format(
                    minutes=i18n.format_number(route.duration_min),
                    shift_minutes=i18n.format_number(route.shift_min),
                ),
            ]
        )
        # what the italic line of a hotspot says, once per sheet
        key = ""
        if any(why.get(h) for h in route.hotspot_ids):
            key = '<p class="key"><span class="why">' + escape_text(
                _("Why here: main incident types (count) · hours of most incidents")
            )
            if off:
                key += ' &middot; <span class="off">&#9888;</span> ' + escape_text(
                    _("outside its active hours")
                )
            key += "</span></p>"
        first = 0
        for k, count in enumerate(split, start=1):
            page_no = (
                " &middot; " + escape_text(_("page {k}/{n}").format(k=k, n=n)) if n > 1 else ""
            )
            body = "".join(html_row for html_row, _h in rows[first : first + count])
            first += count
            if k == 1:
                svg = _svg_map(
                    route,
                    coords,
                    gdf_edges,
                    numbers=numbers,
                    street=street,
                    height=round(680.0 * map_mm / 186.0, 1),
                )
                if saved:
                    svg = svg.replace(
                        'class="sheet-map">',
                        f'class="sheet-map" style="max-height:{map_mm:.1f}mm">',
                        1,
                    )
                top = f"""
  <p class="meta">{meta}</p>
  {svg}{key}"""
            else:
                cont = _("Timetable of officer {officer}, continued from page {k}/{n}.").format(
                    officer=route.officer, k=k - 1, n=n
                )
                top = f"""
  <p class="meta">{escape_text(cont)}</p>"""
            if k < n:
                foot = escape_text(_("Timetable continues on page {k}/{n}.").format(k=k + 1, n=n))
            else:
                foot = escape_text(_("Notes:")) + " " + "_" * 62
            pages.append(f"""
<section class="sheet">
  <h1>{heading}{page_no}</h1>{top}
  {table_head}{body}</tbody></table>
  <p class="notes">{foot}</p>
</section>""")
    if len(routes) > 1:
        # a supervisor's first page: everybody's route on one map, one line per officer
        pages.insert(
            0,
            _overview_page(
                routes, route_coords, schedule, gdf_edges=gdf_edges, street=street, title=title
            ),
        )
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{escape_text(title)}</title>
<style>
@page {{ size: A4 portrait; margin: 12mm; }}
body {{ font: 9pt/1.3 {FONT_STACK}; color: #111; margin: 0; }}
.sheet {{ page-break-after: always; break-after: page; }}
.sheet:last-child {{ page-break-after: auto; break-after: auto; }}
h1 {{ font-size: 12.5pt; margin: 0 0 1.5mm; }}
.meta {{ margin: 0 0 1.5mm; color: #333; font-size: 8.5pt; }}
.sheet-map {{ display: block; width: 100%; height: auto; max-height: 88mm;
              border: 1px solid #bbb; box-sizing: border-box; }}
.sheet-map text {{ font-family: {FONT_STACK}; }}
table {{ width: 100%; border-collapse: collapse; margin-top: 1.5mm; font-size: 8pt;
         line-height: 1.25; table-layout: fixed; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; page-break-inside: avoid; }}
th, td {{ border: 1px solid #bbb; padding: 0.4mm 1mm; text-align: left;
          vertical-align: top; overflow-wrap: anywhere; }}
th {{ background: #eee; overflow-wrap: normal; word-break: keep-all; hyphens: none; }}
td.via {{ font-size: 7pt; color: #333; }}
td.tick {{ text-align: center; font-size: 11pt; line-height: 1; }}
.why {{ color: #222; font-style: italic; }}
.off {{ color: #b00; font-weight: bold; }}
tr.passing td {{ color: #555; }}
.notes {{ margin: 2mm 0 0; }}
.key {{ margin: 1mm 0 0; font-size: 7.5pt; }}
.overview-map {{ max-height: 150mm; }}
.overview-table td {{ font-size: 9pt; }}
.swatch {{ display: inline-block; width: 4mm; height: 2.5mm; margin-right: 1.5mm;
           vertical-align: middle; print-color-adjust: exact; -webkit-print-color-adjust: exact; }}
</style></head><body>{"".join(pages)}
</body></html>
"""


def sheets_to_pdf(html_path: str | Path, pdf_path: str | Path) -> Path:
    """Print route sheets to PDF with headless Chromium (an A4 page per officer and sheet).

    Parameters
    ----------
    html_path
        A file written from :func:`route_sheets`.
    pdf_path
        The PDF to write.

    Returns
    -------
    pathlib.Path
        `pdf_path`.

    Raises
    ------
    PatrolPlanError
        If no Chromium is installed or printing fails.
    """
    import shutil
    import subprocess
    import tempfile

    browser = (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )
    if browser is None:
        msg = _(
            "PDF route sheets need Chromium (Debian: apt-get install chromium); sheets.html "
            "can be printed from any browser instead"
        )
        raise PatrolPlanError(msg)
    pdf_path = Path(pdf_path)
    with tempfile.TemporaryDirectory() as profile:
        tmp_pdf = Path(profile) / "out.pdf"
        proc = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={tmp_pdf}",
                Path(html_path).resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if not tmp_pdf.is_file():
            msg = _("Chromium could not print {path}: {error}").format(
                path=html_path, error=proc.stderr.strip()[-300:]
            )
            raise PatrolPlanError(msg)
        with atomic_path(pdf_path) as out:
            shutil.copyfile(tmp_pdf, out)
    return pdf_path


def methods_map(
    layers: dict[str, gpd.GeoDataFrame],
    *,
    gdf_edges: gpd.GeoDataFrame | None = None,
    value: dict[str, str] | None = None,
) -> folium.Map:
    """Compare hotspot methods on one map: one toggleable layer of polygons per method.

    Parameters
    ----------
    layers
        Method name -> polygons in EPSG:4326 (hotspots, KDE cells, Gi* hot cells...).
    gdf_edges
        Optional street segments for an offline base map.
    value
        Method name -> column shown in the tooltip (default: none).

    Returns
    -------
    folium.Map
        The map.
    """
    palette = ("#d7301f", "#2b8cbe", "#31a354", "#756bb1", "#fe9929")
    all_bounds = np.array([g.total_bounds for g in layers.values() if len(g)])
    m = _Map(tiles=None)
    _metric_scale(m)
    m.fit_bounds(
        [
            [all_bounds[:, 1].min(), all_bounds[:, 0].min()],
            [all_bounds[:, 3].max(), all_bounds[:, 2].max()],
        ]
    )
    if gdf_edges is not None:
        fg = folium.FeatureGroup(name=escape_text(_("Streets")), show=True)
        folium.GeoJson(
            json.loads(gdf_edges[["geometry"]].to_json(drop_id=True)),
            style_function=lambda _: {"color": "#aaa", "weight": 1},
        ).add_to(fg)
        fg.add_to(m)
    for i, (name, gdf) in enumerate(layers.items()):
        colour = palette[i % len(palette)]
        fg = folium.FeatureGroup(name=f"{escape_text(name)} ({len(gdf)})", show=True)
        col = (value or {}).get(name)
        data = gdf[[c for c in [col] if c] + ["geometry"]].copy()
        if col and not pd.api.types.is_numeric_dtype(data[col]):
            # tooltips are set as HTML
            data[col] = data[col].map(escape_text)
        folium.GeoJson(
            json.loads(data.to_json(drop_id=True)),
            style_function=lambda _, c=colour: {
                "color": c,
                "weight": 1.5,
                "fillColor": c,
                "fillOpacity": 0.3,
            },
            tooltip=folium.GeoJsonTooltip(fields=[col]) if col else None,
        ).add_to(fg)
        fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return _stable_ids(m)
