"""Exported files with hostile input text, spreadsheet-safe CSV, and open routes' end points."""

from __future__ import annotations

import csv
import dataclasses
import itertools
import json
import warnings

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
    import geopandas as gpd

    doc = json.loads((hostile_dir / "stops.geojson").read_text())
    streets = {f["properties"].get("street") for f in doc["features"]}
    assert "</script><script>alert('sc')</script>" in streets
    # the GeoPackage keeps it as plain data too
    stops = gpd.read_file(hostile_dir / "plan.gpkg", layer="stops")
    assert "</script><script>alert('sc')</script>" in set(stops["street"])
    names = set(gpd.read_file(hostile_dir / "plan.gpkg", layer="streets")["name"])
    assert '=HYPERLINK("http://example.com/x","click")' in names


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

    export.stops_geojson(tmp_path / "stops.geojson", routes, G, shift_start=open_plan.shift_start)
    feats = json.loads((tmp_path / "stops.geojson").read_text())["features"]
    ends = [f for f in feats if f["properties"]["kind"] == "end"]
    assert [f["properties"]["officer"] for f in ends] == [1, 2]
    for f, coords, arrive in zip(ends, open_plan.route_coords, last["arrive_at"], strict=True):
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


# ----------------------------------------------------------------- GIS exports, across midnight

#: The district's time zone for the night plan (Baltimore keeps Eastern time: EDT in June).
TZ = "America/New_York"


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """A real plan of a shift that crosses midnight (22:00, 4 h), written to a folder."""
    from patrolplan.options import PlanOptions

    plan = pp.plan.daily_plan(
        datasets.baltimore_crimes(),
        datasets.baltimore_osm(),
        list(datasets.DEMO_POSTS),
        PlanOptions(
            officers=3, shift="4h", start="22:00", date="2016-06-19", tz=TZ, iterations=300
        ),
    )
    out = tmp_path_factory.mktemp("night") / "plan"
    pp.plan.write_plan(plan, out)
    return plan, out


def test_plan_gpkg_opens_with_one_layer_per_kind(night, tmp_path):
    import geopandas as gpd
    import pyogrio

    plan, out = night
    layers = pyogrio.list_layers(out / "plan.gpkg").tolist()
    assert layers == [
        ["routes", "LineString"],
        ["stops", "Point"],
        ["posts", "Point"],
        ["hotspots", "Polygon"],
        ["streets", "LineString"],
    ]
    routes = gpd.read_file(out / "plan.gpkg", layer="routes")
    assert routes["officer"].tolist() == [1, 2, 3]
    assert routes.crs.to_epsg() == 4326
    assert routes["length_m"].tolist() == pytest.approx([r.length_m for r in plan.routes], abs=0.1)
    stops = gpd.read_file(out / "plan.gpkg", layer="stops")
    assert len(stops) == sum(len(r.stops) for r in plan.routes)
    assert pd.api.types.is_datetime64_any_dtype(stops["arrive"])
    # in UTC: 22:00 EDT is 02:00 the next day
    first = stops.sort_values("arrive")["arrive"].iloc[0]
    assert first.tz_convert(TZ).tz_localize(None) >= plan.shift_start
    assert routes["start"].dt.tz_convert("UTC").iloc[0] == pd.Timestamp("2016-06-20T02:00Z")
    posts = gpd.read_file(out / "plan.gpkg", layer="posts")
    # officers 1 and 3 share the first post: one point
    assert posts["officers"].tolist() == ["1, 3", "2"]
    assert posts[["lat", "lon"]].to_numpy().tolist() == [list(p) for p in datasets.DEMO_POSTS]
    hot = gpd.read_file(out / "plan.gpkg", layer="hotspots")
    assert hot["hotspot_id"].tolist() == plan.gdf_hotspots["hotspot_id"].tolist()
    streets = gpd.read_file(out / "plan.gpkg", layer="streets")
    assert streets["length"].sum() == pytest.approx(
        pp.graph.edges_gdf(plan.G)["length"].sum(), rel=1e-6
    )
    # the same plan gives the same bytes (GDAL's timestamp is the shift's start)
    pp.plan.write_plan(plan, tmp_path / "again")
    assert (tmp_path / "again" / "plan.gpkg").read_bytes() == (out / "plan.gpkg").read_bytes()


def test_each_geojson_holds_one_geometry_type_and_converts_to_a_shapefile(night, tmp_path):
    import geopandas as gpd
    import pyogrio

    plan, out = night
    kinds = {}
    for name in ("routes.geojson", "stops.geojson", "hotspots.geojson"):
        doc = json.loads((out / name).read_text(encoding="utf-8"))
        kinds[name] = {f["geometry"]["type"] for f in doc["features"]}
        gdf = gpd.read_file(out / name)
        shp = tmp_path / (name.split(".")[0] + ".shp")
        # (a shapefile shortens long field names and keeps times as text: GDAL says so)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(gdf, shp, driver="ESRI Shapefile")
        assert len(pyogrio.read_dataframe(shp)) == len(gdf)
    assert kinds == {
        "routes.geojson": {"LineString"},
        "stops.geojson": {"Point"},
        "hotspots.geojson": {"Polygon"},
    }
    stops = json.loads((out / "stops.geojson").read_text(encoding="utf-8"))["features"]
    assert {f["properties"]["kind"] for f in stops} == {"stop", "post"}
    assert sum(f["properties"]["kind"] == "stop" for f in stops) == sum(
        len(r.stops) for r in plan.routes
    )


def test_times_are_iso_date_times_right_across_midnight(night):
    plan, out = night
    stops = json.loads((out / "stops.geojson").read_text(encoding="utf-8"))["features"]
    sched = pd.read_csv(out / "schedule.csv", dtype={"stop": str})
    for r in plan.routes:
        mine = [f["properties"] for f in stops if f["properties"]["officer"] == r.officer]
        times = [pd.Timestamp(p["arrive"]) for p in mine if p["kind"] == "stop"]
        # in order, with the district's offset, and the hours after midnight on the next day
        assert times == sorted(times)
        assert all(t.utcoffset() == pd.Timedelta(hours=-4) for t in times)
        for s, t in zip(r.stops, times, strict=True):
            expected = plan.shift_start + pd.Timedelta(minutes=round(s.arrive_min))
            assert t.tz_localize(None) == expected
        rows = sched[(sched["officer"] == r.officer) & (sched["task"] != "return")]
        assert [pd.Timestamp(v) for v in rows["arrive_at"]] == times
        back = sched[(sched["officer"] == r.officer) & (sched["task"] == "return")].iloc[0]
        assert back["arrive_at"].startswith("2016-06-20T0")
    after = [f for f in stops if f["properties"].get("arrive", "").startswith("2016-06-20")]
    assert after, "the night plan has stops after midnight"
    assert all(f["properties"]["arrive"] < f["properties"]["leave"] for f in after)
    summary = pd.read_csv(out / "summary.csv", dtype={"officer": str})
    assert summary["post_lat"].iloc[:3].tolist() == [r.post[0] for r in plan.routes]
    assert summary["post_lon"].iloc[:3].tolist() == [r.post[1] for r in plan.routes]
    assert pd.isna(summary["post_lat"].iloc[-1])


def test_gpx_has_times_on_every_point_in_utc(night):
    plan, out = night
    schema = xml_schema("gpx_1_1", "gpx.xsd")
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    for r in plan.routes:
        doc = etree.parse(str(out / f"officer_{r.officer}.gpx"))
        schema.assertValid(doc)
        wpt = doc.xpath("//g:wpt", namespaces=ns)
        trkpt = doc.xpath("//g:trkpt", namespaces=ns)
        assert all(len(p.xpath("g:time", namespaces=ns)) == 1 for p in [*wpt, *trkpt])
        times = [pd.Timestamp(t) for t in doc.xpath("//g:trkpt/g:time/text()", namespaces=ns)]
        # 22:00 EDT is 02:00 UTC; the track ends when the route does
        assert times[0] == pd.Timestamp("2016-06-20T02:00:00Z")
        end = pd.Timestamp("2016-06-20T02:00:00Z") + pd.Timedelta(minutes=r.duration_min)
        assert abs(times[-1] - end) <= pd.Timedelta(seconds=1)
        assert times == sorted(times)
        # the officer stands at each hotspot: the track's clock stops there for the dwell
        stop_times = [pd.Timestamp(t) for t in doc.xpath(
            "//g:wpt[g:type='stop']/g:time/text()", namespaces=ns
        )]  # fmt: skip
        for s, t in zip(r.stops, stop_times, strict=True):
            assert t == pd.Timestamp("2016-06-20T02:00:00Z") + pd.Timedelta(
                minutes=round(s.arrive_min)
            )
        start = pd.Timestamp("2016-06-20T02:00:00Z")
        for s in r.stops:
            if s.kind != "hotspot":
                continue
            at = start + pd.Timedelta(minutes=s.arrive_min).round("s")
            pairs = [(a, b) for a, b in itertools.pairwise(times) if a == at]
            assert pairs, s
            assert pairs[-1][1] - at >= pd.Timedelta(minutes=s.leave_min - s.arrive_min - 0.02)


def test_kml_has_time_spans_and_extended_data(night):
    plan, out = night
    doc = etree.parse(str(out / "routes.kml"))
    xml_schema("kml_2_2", "ogckml22.xsd").assertValid(doc)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    stops = doc.xpath("//k:Placemark[k:Point and k:ExtendedData]", namespaces=ns)
    assert len(stops) == sum(len(r.stops) for r in plan.routes)
    for p in stops:
        data = {
            d.get("name"): d.findtext("k:value", namespaces=ns)
            for d in p.xpath("k:ExtendedData/k:Data", namespaces=ns)
        }
        assert set(data) == {
            "officer", "order", "stop", "task", "hotspot_id", "visit", "arrive", "leave", "street",
            "risk",
        }  # fmt: skip
        begin = p.findtext("k:TimeSpan/k:begin", namespaces=ns)
        end = p.findtext("k:TimeSpan/k:end", namespaces=ns)
        assert begin == data["arrive"]
        assert end == data["leave"]
        assert pd.Timestamp(begin) <= pd.Timestamp(end)
    lines = doc.xpath("//k:Placemark[k:LineString]", namespaces=ns)
    assert [p.findtext("k:TimeSpan/k:begin", namespaces=ns) for p in lines] == [
        "2016-06-19T22:00:00-04:00"
    ] * 3
