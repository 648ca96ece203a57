"""Folium (Leaflet) maps of incidents, hotspots and patrol routes.

The map draws the street network of the extract as its own light base layer, so it is readable
with no tile server; an OpenStreetMap tile layer can be switched on where the internet is
reachable. Element ids are numbered in order instead of folium's random ids, so the same plan
gives the same HTML.
"""

from __future__ import annotations

import base64
import html
import re
from importlib import resources
from typing import TYPE_CHECKING

import folium
from branca.element import Element, MacroElement, Template
from folium import plugins

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd
    import pandas as pd

    from patrolplan.routing import Route

#: One colour per officer, colour-blind friendly (Okabe-Ito), cycled.
OFFICER_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
                   "#000000", "#F0E442")
LAYER_GRADIENTS = {
    "crime": {0.4: "#fee5d9", 0.7: "#fb6a4a", 1.0: "#a50f15"},
    "accident": {0.4: "#eff3ff", 0.7: "#6baed6", 1.0: "#08519c"},
    "juvenile": {0.4: "#f2f0f7", 0.7: "#9e9ac8", 1.0: "#54278f"},
}
ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"


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


def _stable_ids(m: folium.Map) -> folium.Map:
    """Replace folium's random element ids by a counter, depth first."""
    counter = 0

    def walk(el: Element) -> None:
        nonlocal counter
        el._id = f"{counter:08x}"  # noqa: SLF001 - folium has no public way to set ids
        counter += 1
        for child in el._children.values():  # noqa: SLF001
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
    title: str = "Patrol plan",
    attribution: str = ATTRIBUTION,
    max_heat_points: int = 20000,
) -> folium.Map:
    """Draw a daily plan on a Folium map.

    Parameters
    ----------
    gdf_edges
        Street segments (EPSG:4326) from :func:`patrolplan.graph.edges_gdf`, drawn as base map.
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
        Shown in the legend.
    attribution
        Data attribution shown on the map.
    max_heat_points
        Heat layers aggregate incidents to a grid of about 10 m when there are more points
        than this, so large inputs keep the HTML small.

    Returns
    -------
    folium.Map
        The map; save it with ``m.save("map.html")``.
    """
    b = gdf_edges.total_bounds
    m = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap tiles (online)", show=False,
                     overlay=False, control=True).add_to(m)

    streets = folium.FeatureGroup(name="Streets (offline base map)", overlay=True, show=True)
    folium.GeoJson(
        gdf_edges[["name", "geometry"]],
        style_function=lambda _: {"color": "#9e9e9e", "weight": 1.2, "opacity": 0.8},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        attr=attribution,
    ).add_to(streets)
    streets.add_to(m)

    for layer, group in gdf_incidents.groupby("layer", sort=True):
        w = weights.loc[group.index]
        pts = (
            group.assign(w=w, lat=group.geometry.y.round(4), lon=group.geometry.x.round(4))
            .groupby(["lat", "lon"], as_index=False)["w"].sum()
            if len(group) > max_heat_points
            else group.assign(w=w, lat=group.geometry.y, lon=group.geometry.x)
        )
        top = float(pts["w"].max()) or 1.0
        data = [[round(la, 6), round(lo, 6), round(float(v) / top, 4)]
                for la, lo, v in zip(pts["lat"], pts["lon"], pts["w"], strict=True)]
        fg = folium.FeatureGroup(name=f"Heat: {layer} ({len(group):,} incidents)", show=True)
        plugins.HeatMap(data, radius=14, blur=12, min_opacity=0.25,
                        gradient=LAYER_GRADIENTS.get(str(layer))).add_to(fg)
        fg.add_to(m)

    hot = folium.FeatureGroup(name=f"Hotspots ({len(gdf_hotspots)})", show=True)
    visited = {h: r.officer for r in routes for h in r.hotspot_ids}
    for _, row in gdf_hotspots.iterrows():
        who = visited.get(row["hotspot_id"])
        popup = (
            f"<b>{html.escape(row['hotspot_id'])}</b> (rank {row['rank']})<br>"
            f"risk {row['risk']:.1f} ({row['share']:.1%} of all)<br>"
            f"{row['n_incidents']} incidents: crime {row['n_crime']}, accidents "
            f"{row['n_accident']}, juvenile {row['n_juvenile']}<br>"
            f"top: {html.escape(str(row['top_categories']))}<br>"
            f"active hours {row['active_hours'] or 'n/a'}<br>"
            f"{'visited by officer ' + str(who) if who else 'not visited'}"
        )
        folium.GeoJson(
            row.geometry.__geo_interface__,
            style_function=lambda _, w=who: {
                "color": "#b2182b", "weight": 1.5, "fillColor": "#ef8a62",
                "fillOpacity": 0.35 if w else 0.12, "dashArray": None if w else "4 4",
            },
            popup=folium.Popup(popup, max_width=320),
            tooltip=f"{row['hotspot_id']}: risk {row['risk']:.1f}",
        ).add_to(hot)
    hot.add_to(m)

    for route, coords in zip(routes, route_coords, strict=True):
        colour = officer_colour(route.officer)
        fg = folium.FeatureGroup(
            name=f"Officer {route.officer}: {len(route.stops)} stops, "
                 f"{route.length_m / 1000:.1f} km", show=True,
        )
        latlon = [(la, lo) for lo, la in coords]
        line = folium.PolyLine(latlon, color=colour, weight=4, opacity=0.85,
                               tooltip=f"Officer {route.officer}")
        line.add_to(fg)
        plugins.PolyLineTextPath(line, "   ►   ", repeat=True, offset=5,
                                 attributes={"fill": colour, "font-size": "13"}).add_to(fg)
        rows = schedule[(schedule["officer"] == route.officer) & (schedule["stop"] != "return")]
        for s, (_, row) in zip(route.stops, rows.iterrows(), strict=True):
            popup = (
                f"<b>Officer {route.officer}, stop {s.order}</b><br>{html.escape(s.hotspot_id)}"
                f" on {html.escape(s.street or 'unnamed street')}<br>arrive {row['arrive']}, "
                f"leave {row['leave']}<br>risk {s.risk:.1f}"
            )
            folium.Marker(
                (s.lat, s.lon),
                icon=folium.DivIcon(
                    html=(f'<div style="background:{colour};color:#fff;border:2px solid #fff;'
                          "border-radius:50%;width:22px;height:22px;line-height:18px;"
                          "text-align:center;font:bold 12px sans-serif;"
                          f'box-shadow:0 0 2px #000">{s.order}</div>'),
                    icon_size=(22, 22), icon_anchor=(11, 11),
                ),
                popup=folium.Popup(popup, max_width=260),
                tooltip=f"{route.officer}.{s.order} {row['arrive']}-{row['leave']}",
            ).add_to(fg)
        folium.Marker(
            (route.post[0], route.post[1]),
            icon=folium.DivIcon(
                html=('<div style="background:#111;color:#fff;border:2px solid '
                      f'{colour};width:26px;height:26px;line-height:22px;text-align:center;'
                      'font:bold 11px sans-serif;box-shadow:0 0 3px #000">P</div>'),
                icon_size=(26, 26), icon_anchor=(13, 13),
            ),
            tooltip=f"Post of officer {route.officer}",
        ).add_to(fg)
        fg.add_to(m)

    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().add_child(_legend(title, routes, attribution))
    return _stable_ids(m)


def _legend(title: str, routes: Sequence[Route], attribution: str) -> MacroElement:
    items = "".join(
        f'<div><span style="display:inline-block;width:18px;height:4px;margin-right:6px;'
        f'vertical-align:middle;background:{officer_colour(r.officer)}"></span>'
        f"Officer {r.officer}: {len(r.stops)} stops, {r.length_m / 1000:.1f} km, "
        f"{r.duration_min:.0f}/{r.shift_min:.0f} min</div>"
        for r in routes
    )
    body = f"""
    <div id="pp-legend" style="position:fixed;bottom:40px;left:10px;z-index:9999;
         background:rgba(255,255,255,.93);padding:8px 10px;border:1px solid #888;
         border-radius:4px;font:12px/1.5 sans-serif;max-width:340px">
      <div style="font-weight:bold;margin-bottom:4px">{html.escape(title)}</div>
      {items}
      <div><span style="display:inline-block;width:14px;height:10px;margin-right:6px;
           background:#ef8a62;opacity:.7;border:1px solid #b2182b"></span>hotspot visited
           (dashed: not visited)</div>
      <div>● numbered: dwell stops in order; ► direction of walking</div>
      <div style="color:#555;margin-top:4px">{html.escape(attribution)}</div>
    </div>"""
    legend = MacroElement()
    legend._template = Template(  # noqa: SLF001 - branca's documented extension point
        "{% macro html(this, kwargs) %}" + body + "{% endmacro %}"
    )
    return legend


# Assets a folium map links from CDNs, by the file name in the URL; others are dropped.
_INLINE = {"leaflet.js": "leaflet.js", "leaflet.css": "leaflet.css",
           "leaflet_heat.min.js": "leaflet-heat.js",
           "leaflet.textpath.min.js": "leaflet.textpath.js", "jquery-3.7.1.min.js": "jquery.min.js"}
_SCRIPT = re.compile(r'<script\s+src="(https?://[^"]+)"[^>]*>\s*</script>')
_LINK = re.compile(r'<link\s+rel="stylesheet"\s+href="(https?://[^"]+)"[^>]*/?>')


def _asset(name: str) -> str:
    text = resources.files("patrolplan").joinpath("_assets", name).read_text(encoding="utf-8")
    if name.endswith(".css"):
        # Leaflet's CSS points at images/; embed them as data URIs.
        def data_uri(match: re.Match[str]) -> str:
            png = resources.files("patrolplan").joinpath("_assets", match.group(1)).read_bytes()
            return f"url(data:image/png;base64,{base64.b64encode(png).decode()})"

        text = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, text)
    return text


def to_html(m: folium.Map) -> str:
    """Render a map to one self-contained HTML page that needs no network.

    Leaflet and the plugins are inlined from the copies bundled in ``patrolplan/_assets``
    (see its README for versions and licences), with jQuery for popups; links to Bootstrap and icon fonts,
    which these maps do not use, are removed. Only the optional OpenStreetMap tile layer,
    off by default, reaches the internet.

    Parameters
    ----------
    m
        A map from :func:`plan_map`.

    Returns
    -------
    str
        The HTML page.
    """
    page = m.get_root().render()

    def script(match: re.Match[str]) -> str:
        name = _INLINE.get(match.group(1).rsplit("/", 1)[-1])
        return f"<script>{_asset(name)}</script>" if name else ""

    def link(match: re.Match[str]) -> str:
        name = _INLINE.get(match.group(1).rsplit("/", 1)[-1])
        return f"<style>{_asset(name)}</style>" if name else ""

    page = _LINK.sub(link, _SCRIPT.sub(script, page))
    # branca names popup contents with random uuids; number them in order of appearance.
    seen: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"html_{len(seen):08x}")

    return re.sub(r"\bhtml_[0-9a-f]{32}\b", renumber, page)
