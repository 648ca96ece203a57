"""Exported files with hostile input text, spreadsheet-safe CSV, and open routes' end points."""

from __future__ import annotations

import csv
import dataclasses
import json

import pandas as pd
import pytest
from lxml import etree

import patrolplan as pp
from patrolplan import datasets, export

from .conftest import xml_schema

#: Text anyone can put in an incident category or an OSM street name.
PAYLOADS = (
    "${7*7}",
    "${alert('tl')}",
    "`);alert('bt');(`",
    "</script><script>alert('sc')</script>",
    "<img src=x onerror=alert('img')>",
    "\"quotes'",
    "&amp;",
    '=HYPERLINK("http://example.com/x","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\tTAB",
    "bad\x01control",
)
HOSTILE_LAYER = "crime<img src=x onerror=alert('layer')>"


def hostile_plan(plan):
    """The demo plan with every category, street name, hotspot id and layer made hostile."""
    n = len(PAYLOADS)
    G = plan.G.copy()
    for i, (_, _, data) in enumerate(G.edges(data=True)):
        data["name"] = PAYLOADS[i % n]
    ids = {h: f"{h}{PAYLOADS[i % n]}" for i, h in enumerate(plan.gdf_hotspots["hotspot_id"])}
    ids.update(
        {
            s.hotspot_id: s.hotspot_id + "@x"
            for r in plan.routes
            for s in r.stops
            if s.kind == "street"
        }
    )
    routes = tuple(
        dataclasses.replace(
            r,
            stops=tuple(
                dataclasses.replace(
                    s,
                    hotspot_id=ids[s.hotspot_id],
                    street=PAYLOADS[j % n],
                    via=(PAYLOADS[(j + 1) % n], PAYLOADS[(j + 2) % n]),
                )
                for j, s in enumerate(r.stops)
            ),
            return_via=(PAYLOADS[r.officer % n],),
        )
        for r in plan.routes
    )
    hot = plan.gdf_hotspots.copy()
    hot["hotspot_id"] = hot["hotspot_id"].map(ids)
    hot["top_categories"] = [
        f"{PAYLOADS[i % n]} (3), {PAYLOADS[(i + 3) % n]} (1)" for i in range(len(hot))
    ]
    incidents = plan.gdf_incidents.assign(layer=HOSTILE_LAYER)
    reports = tuple(
        dataclasses.replace(
            rep,
            rejected=pd.DataFrame(
                {
                    "file": [f"{p}.csv" for p in PAYLOADS],
                    "row": range(1, n + 1),
                    "column": list(PAYLOADS),
                    "reason": "invalid_coordinates",
                    "value": list(PAYLOADS),
                }
            ),
        )
        for rep in plan.reports
    )
    return dataclasses.replace(
        plan,
        G=G,
        routes=routes,
        gdf_hotspots=hot,
        gdf_incidents=incidents,
        reports=reports,
        schedule=export.schedule_frame(routes, shift_start=plan.shift_start, G=G),
    )


@pytest.fixture(scope="module")
def hostile_dir(demo_plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile") / "plan"
    pp.plan.write_plan(hostile_plan(demo_plan), out)
    return out


def _cells(path):
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_no_csv_cell_starts_a_formula(hostile_dir):
    seen = set()
    for name in ("schedule.csv", "rejected.csv", "summary.csv"):
        for row in _cells(hostile_dir / name):
            for cell in row:
                seen.add(cell)
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    # only plain numbers may start with a sign
                    float(cell)
    # the text is kept, behind the quote a spreadsheet shows as text
    assert "'" + PAYLOADS[7] in seen
    assert "'+cmd|' /C calc'!A0" in seen
    assert "'-2+3" in seen
    assert "'@SUM(1+1)" in seen
    assert "${7*7}" in seen
    # a via cell that starts with a hostile street name
    assert any(c.startswith("'=HYPERLINK(") and " > " in c for c in seen)


def test_numbers_stay_numbers_in_csv(hostile_dir, demo_plan):
    sched = pd.read_csv(hostile_dir / "schedule.csv")
    assert pd.api.types.is_float_dtype(sched["lon"])
    assert (sched["lon"] < -76).all()
    assert pd.api.types.is_integer_dtype(sched["officer"])


def test_write_csv_neutralises_text_but_not_numbers(tmp_path):
    frame = pd.DataFrame(
        {
            "lon": [-76.6, -76.5, 0.0],
            "text": ["-76.6", "=1+2", "-"],
            "n": [-1, 2, 3],
            "flag": [True, False, True],
            "obj": ["@x", None, "+1e3"],
        }
    )
    export.write_csv(tmp_path / "t.csv", frame)
    rows = _cells(tmp_path / "t.csv")
    assert rows[0] == ["lon", "text", "n", "flag", "obj"]
    assert rows[1] == ["-76.6", "-76.6", "-1", "True", "'@x"]
    assert rows[2] == ["-76.5", "'=1+2", "2", "False", ""]
    assert rows[3] == ["0.0", "'-", "3", "True", "+1e3"]
    # the frame given is not changed
    assert frame.loc[1, "text"] == "=1+2"


def test_gpx_and_kml_escape_hostile_text_and_stay_valid(hostile_dir, demo_plan):
    gpx_schema = xml_schema("gpx_1_1", "gpx.xsd")
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    texts = ""
    for r in demo_plan.routes:
        doc = etree.parse(str(hostile_dir / f"officer_{r.officer}.gpx"))
        gpx_schema.assertValid(doc)
        texts += " ".join(doc.xpath("//g:wpt/g:name/text() | //g:wpt/g:desc/text()", namespaces=ns))
        assert not doc.xpath("//*[local-name()='img' or local-name()='script']")
    # parsed back, the text is the input's, literally (the control character replaced)
    assert "<img src=x onerror=alert('img')>" in texts
    assert "\"quotes'" in texts
    assert "bad\ufffdcontrol" in texts
    kml = etree.parse(str(hostile_dir / "routes.kml"))
    xml_schema("kml_2_2", "ogckml22.xsd").assertValid(kml)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    desc = " ".join(kml.xpath("//k:Placemark/k:description/text()", namespaces=ns))
    # descriptions are HTML to Google Earth: markup arrives escaped once more
    assert "&lt;img src=x onerror=alert(&#x27;img&#x27;)&gt;" in desc
    assert "<img" not in desc


def test_geojson_keeps_hostile_text_as_data(hostile_dir):
    doc = json.loads((hostile_dir / "routes.geojson").read_text())
    streets = {f["properties"].get("street") for f in doc["features"]}
    assert "</script><script>alert('sc')</script>" in streets


@pytest.fixture(scope="module")
def open_plan(demo_plan):
    """The demo with open routes: two officers from the first post finish at the second."""
    from patrolplan import graph, routing

    routes = tuple(
        routing.solve(
            demo_plan.G,
            demo_plan.gdf_hotspots,
            [datasets.DEMO_POSTS[0]],
            routing.RouteOptions(
                officers=2,
                shift_min=120,
                ends=(datasets.DEMO_POSTS[1],),
                seed=7,
                iterations=300,
            ),
        )
    )
    coords = tuple(graph.path_geometry(demo_plan.G, r.nodes) for r in routes)
    return dataclasses.replace(demo_plan, routes=routes, route_coords=coords)


def test_open_routes_export_their_end_point(open_plan, tmp_path):
    G = open_plan.G
    routes = open_plan.routes
    assert all(r.end_node != r.post_node for r in routes)
    sched = export.schedule_frame(routes, shift_start=open_plan.shift_start, G=G)
    last = sched.groupby("officer").tail(1)
    assert list(last["task"]) == ["end", "end"]
    assert list(last["stop"]) == ["end", "end"]
    assert list(last["street"]) == ["end point", "end point"]
    for (_, row), r in zip(last.iterrows(), routes, strict=True):
        end = G.nodes[r.end_node]
        assert (row["lat"], row["lon"]) == pytest.approx((end["lat"], end["lon"]), abs=1e-6)
        # about 1.4 km from the post, not at it
        assert abs(row["lon"] - r.post[1]) > 0.01
    assert "return" not in set(sched["task"])

    export.routes_geojson(
        tmp_path / "routes.geojson",
        routes,
        G,
        shift_start=open_plan.shift_start,
        path_coords=open_plan.route_coords,
    )
    feats = json.loads((tmp_path / "routes.geojson").read_text())["features"]
    ends = [f for f in feats if f["properties"]["kind"] == "end"]
    assert [f["properties"]["officer"] for f in ends] == [1, 2]
    for f, coords, arrive in zip(ends, open_plan.route_coords, last["arrive"], strict=True):
        assert f["geometry"]["coordinates"] == pytest.approx(list(coords[-1]), abs=1e-7)
        assert f["properties"]["arrive"] == arrive

    export.gpx(
        tmp_path / "o1.gpx", routes[0], open_plan.route_coords[0], shift_start=open_plan.shift_start
    )
    assert "<name>End</name>" in (tmp_path / "o1.gpx").read_text()
    xml_schema("gpx_1_1", "gpx.xsd").assertValid(etree.parse(str(tmp_path / "o1.gpx")))
    export.kml(
        tmp_path / "r.kml",
        routes,
        open_plan.route_coords,
        shift_start=open_plan.shift_start,
        colours=["#0072B2", "#D55E00"],
    )
    assert (tmp_path / "r.kml").read_text().count("<name>End</name>") == 2
    xml_schema("kml_2_2", "ogckml22.xsd").assertValid(etree.parse(str(tmp_path / "r.kml")))


def test_closed_routes_still_return_to_the_post(demo_plan):
    sched = export.schedule_frame(
        demo_plan.routes, shift_start=demo_plan.shift_start, G=demo_plan.G
    )
    last = sched.groupby("officer").tail(1)
    assert set(last["task"]) == {"return"}
    assert set(last["street"]) == {"post"}


def test_open_routes_draw_their_end_point(open_plan):
    from patrolplan import graph, render

    sched = export.schedule_frame(
        open_plan.routes, shift_start=open_plan.shift_start, G=open_plan.G
    )
    edges = graph.edges_gdf(open_plan.G)
    m = render.plan_map(
        gdf_edges=edges,
        gdf_incidents=open_plan.gdf_incidents,
        weights=open_plan.weights,
        gdf_hotspots=open_plan.gdf_hotspots,
        routes=open_plan.routes,
        route_coords=open_plan.route_coords,
        schedule=sched,
    )
    page = render.to_html(m, offline=False)
    last = sched.groupby("officer").tail(1)
    for r, arrive in zip(open_plan.routes, last["arrive"], strict=True):
        assert f"End of officer {r.officer}, {arrive}" in page
    assert "E: end point" in page
    sheets = render.route_sheets(open_plan.routes, open_plan.route_coords, sched, gdf_edges=edges)
    assert sheets.count('font-weight="bold">E</text>') == 2
    assert sheets.count("<td>end of route</td><td>") == 2
    assert "return to post" not in sheets
    assert sheets.count("&middot; End 39.") == 2
