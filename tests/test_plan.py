"""The daily plan end to end: files, formats, determinism, atomic output."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import patrolplan as pp
from patrolplan import datasets
from patrolplan.options import PlanOptions

from .conftest import xml_schema


def test_writes_every_file(demo_dir, demo_plan):
    gpx = [f"officer_{r.officer}.gpx" for r in demo_plan.routes]
    assert sorted(p.name for p in demo_dir.iterdir()) == sorted(
        [*pp.plan.OUTPUT_FILES, *gpx, pp.utils.MANIFEST]
    )
    assert pp.plan.output_names(demo_plan) == [*pp.plan.OUTPUT_FILES, *gpx]


def test_routes_geojson_is_rfc7946_and_reads_back(demo_dir, demo_plan):
    doc = json.loads((demo_dir / "routes.geojson").read_text())
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    for f in doc["features"]:
        coords = f["geometry"]["coordinates"]
        first = coords[0] if f["geometry"]["type"] == "LineString" else coords
        lon, lat = first
        assert -76.62 < lon < -76.51
        assert 39.25 < lat < 39.32
    gdf = gpd.read_file(demo_dir / "routes.geojson")
    assert gdf.crs.to_epsg() == 4326
    lines = gdf[gdf["kind"] == "route"]
    assert list(lines["officer"]) == [1, 2, 3]
    assert (lines.geometry.geom_type == "LineString").all()
    # one geometry type per file: the stops are in stops.geojson
    assert len(lines) == len(gdf)
    points = gpd.read_file(demo_dir / "stops.geojson")
    stops = points[points["kind"] == "stop"]
    assert len(stops) == sum(len(r.stops) for r in demo_plan.routes)
    # the line starts and ends at the post
    for (_, line), route in zip(lines.iterrows(), demo_plan.routes, strict=True):
        post = demo_plan.G.nodes[route.post_node]
        start, end = line.geometry.coords[0], line.geometry.coords[-1]
        assert start == pytest.approx((post["lon"], post["lat"]), abs=1e-6)
        assert end == pytest.approx(start, abs=1e-9)


def test_hotspots_geojson(demo_dir, demo_plan):
    gdf = gpd.read_file(demo_dir / "hotspots.geojson")
    assert len(gdf) == len(demo_plan.gdf_hotspots)
    assert list(gdf["rank"]) == list(range(1, len(gdf) + 1))
    assert gdf["risk"].is_monotonic_decreasing
    # RFC 7946 right-hand rule: exteriors counter-clockwise
    assert all(shapely.Polygon(g.exterior).exterior.is_ccw for g in gdf.geometry)


def test_schedule_and_summary(demo_dir, demo_plan):
    sched = pd.read_csv(demo_dir / "schedule.csv", dtype={"stop": str})
    assert list(sched.columns) == [
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
        "task_label",
        "street_label",
    ]
    assert set(sched["task"]) == {"hotspot", "street", "return"}
    # no revisits asked for: every stop is a first visit
    assert set(sched.loc[sched["task"] != "return", "visit"]) == {1}
    first = sched.iloc[0]
    assert first["arrive"] >= "18:00"
    assert (sched.groupby("officer")["stop"].last() == "return").all()
    assert sched["street"].notna().mean() > 0.8
    summary = pd.read_csv(demo_dir / "summary.csv", dtype={"officer": str})
    assert list(summary["officer"]) == ["1", "2", "3", "all"]
    assert (summary["total_min"] <= summary["shift_min"] + 0.1).all()
    total = summary.iloc[-1]
    assert 0 < total["risk_covered_share"] <= 1
    assert total["hotspots"] + total["streets"] == sum(len(r.stops) for r in demo_plan.routes)
    assert total["revisits"] == 0


def test_report_and_rejected_rows(demo_dir):
    report = json.loads((demo_dir / "report.json").read_text())
    # every resolved parameter is recorded, so the plan can be reproduced
    params = report["params"]
    for key in (
        "half_life_days",
        "eps_m",
        "min_weight",
        "max_hotspots",
        "max_segments",
        "iterations",
        "dwell_min",
        "speed_kmh",
        "seed",
        "hotspot_size_m",
    ):
        assert params[key] is not None, key
    assert params["patrolplan_version"] == pp.__version__
    assert len(params["osm"]["sha256"]) == 64
    assert len(params["incidents"]["crime"]["sha256"]) == 64
    assert params["severity"]["crime"]["HOMICIDE"] == 10
    assert params["layer_weights"]["crime"] == 1.0
    assert params["crs"]["crime"] == "EPSG:4326"
    # and the recorded options make the same options again
    opts = PlanOptions.from_mapping(
        {k: params[k] for k in ("officers", "shift", "start", "date", "seed", "half_life_days")}
    )
    assert opts.shift_start() == pd.Timestamp("2016-06-19 18:00")
    (ing,) = report["ingest"]
    assert ing["rows_read"] == 2399
    assert ing["rejected"]["missing_coordinates"] == 15
    assert ing["rows_kept"] + sum(ing["rejected"].values()) == 2399
    rejected = pd.read_csv(demo_dir / "rejected.csv")
    assert len(rejected) == 2399 - ing["rows_kept"]
    assert set(rejected.columns) >= {"file", "row", "column", "reason"}


def test_same_seed_gives_identical_files(demo_plan, tmp_path):
    again = pp.plan.daily_plan(
        datasets.baltimore_crimes(),
        datasets.baltimore_osm(),
        list(datasets.DEMO_POSTS),
        PlanOptions(officers=3, shift="4h", start="18:00", date="2016-06-19", seed=7),
    )
    a, b = tmp_path / "a", tmp_path / "b"
    pp.plan.write_plan(demo_plan, a)
    pp.plan.write_plan(again, b)
    for name in pp.plan.OUTPUT_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_failed_write_leaves_nothing(demo_plan, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pp.export, "hotspots_geojson", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        pp.plan.write_plan(demo_plan, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "minutes"), [("4h", 240), ("90m", 90), ("3h30m", 210), ("4:30", 270), ("45", 45)]
)
def test_parse_duration(text, minutes):
    assert pp.plan.parse_duration_min(text) == minutes


@pytest.mark.parametrize("text", ["", "0h", "four hours", "-1"])
def test_bad_duration(text):
    with pytest.raises(pp.InputDataError, match="shift"):
        pp.plan.parse_duration_min(text)


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("60", (60, float("inf"))),
        ("1h-2h", (60, 120)),
        ("45-45", (45, 45)),
        (None, None),
        ((30, 90), (30, 90)),
    ],
)
def test_parse_revisit(text, bounds):
    assert pp.plan.parse_revisit(text) == bounds


@pytest.mark.parametrize("text", ["", "-", "1h-", "90-60", "soon", "0"])
def test_bad_revisit(text):
    with pytest.raises(pp.InputDataError, match="revisit"):
        pp.plan.parse_revisit(text)


def test_gpx_per_officer_reads_back(demo_dir, demo_plan):
    import xml.etree.ElementTree as ET

    import gpxpy

    for r in demo_plan.routes:
        path = demo_dir / f"officer_{r.officer}.gpx"
        doc = gpxpy.parse(path.read_text())
        assert doc.version == "1.1"
        assert len(doc.waypoints) == len(r.stops) + 1  # the post and every stop
        (track,) = doc.tracks
        pts = track.segments[0].points
        assert (pts[0].latitude, pts[0].longitude) == pytest.approx(
            (demo_plan.G.nodes[r.post_node]["lat"], demo_plan.G.nodes[r.post_node]["lon"]), abs=1e-6
        )
        assert "arrive" in doc.waypoints[1].description
        # GPX 1.1 schema order: metadata, then all wpt, then trk
        root = ET.parse(path).getroot()
        ns = "{http://www.topografix.com/GPX/1/1}"
        tags = [child.tag.removeprefix(ns) for child in root]
        assert tags == ["metadata"] + ["wpt"] * (len(r.stops) + 1) + ["trk"]
        # and the file is valid against the official GPX 1.1 schema
        schema = xml_schema("gpx_1_1", "gpx.xsd")
        from lxml import etree

        schema.assertValid(etree.parse(str(path)))


def test_kml_has_a_folder_per_officer(demo_dir, demo_plan):
    import xml.etree.ElementTree as ET

    from lxml import etree

    xml_schema("kml_2_2", "ogckml22.xsd").assertValid(etree.parse(str(demo_dir / "routes.kml")))
    root = ET.parse(demo_dir / "routes.kml").getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    folders = root.findall(".//k:Folder", ns)
    assert len(folders) == len(demo_plan.routes)
    for folder, r in zip(folders, demo_plan.routes, strict=True):
        marks = folder.findall("k:Placemark", ns)
        assert len(marks) == len(r.stops) + 2  # line, post, stops
        first = marks[0].find(".//k:coordinates", ns).text.split()[0]
        lon, lat = map(float, first.split(","))
        assert -76.62 < lon < -76.51
        assert 39.25 < lat < 39.32


def test_route_sheets_have_a_page_per_officer(demo_dir, demo_plan):
    page = (demo_dir / "sheets.html").read_text()
    assert page.count('<section class="sheet">') == len(demo_plan.routes)
    # and a first page with every route
    assert page.count('<section class="sheet overview">') == 1
    assert page.count("<svg") == len(demo_plan.routes) + 1
    assert "size: A4" in page
    assert "<script" not in page
    for r in demo_plan.routes:
        assert f"Officer {r.officer}</h1>" in page
        assert page.count("&#9744;") >= len(r.stops)


def test_per_officer_shifts_and_since():
    plan = pp.plan.daily_plan(
        datasets.baltimore_crimes(),
        datasets.baltimore_osm(),
        [datasets.DEMO_POSTS[0]],
        PlanOptions(
            officers=2,
            shift="3h,90m",
            start="18:00",
            date="2016-06-19",
            since="2016-06-10",
            iterations=300,
        ),
    )
    assert [r.shift_min for r in plan.routes] == [180, 90]
    assert plan.routes[1].duration_min <= 90
    (report,) = plan.reports
    assert report.reasons()["outside_window"] > 0
    assert plan.gdf_incidents["datetime"].min() >= pd.Timestamp("2016-06-10")
    # wrong options are refused when they are made, before any data is read
    with pytest.raises(pp.InputDataError, match="3 lengths for 2 officers"):
        PlanOptions(officers=2, shift="1h,1h,1h")


def test_rewriting_a_folder_replaces_only_what_patrolplan_wrote(demo_plan, tmp_path):
    out = tmp_path / "plan"
    out.mkdir()
    (out / "notes.txt").write_text("the supervisor's own file")
    (out / "officer_9.gpx").write_text("a track the supervisor made")
    pp.plan.write_plan(demo_plan, out)
    first = (out / "routes.geojson").read_bytes()
    # the same folder again: patrolplan's own files are replaced, the user's are untouched
    pp.plan.write_plan(demo_plan, out)
    assert (out / "routes.geojson").read_bytes() == first
    assert (out / "notes.txt").read_text() == "the supervisor's own file"
    assert (out / "officer_9.gpx").read_text() == "a track the supervisor made"
    # a file of the same name that patrolplan did not write is never overwritten
    other = tmp_path / "other"
    other.mkdir()
    (other / "report.json").write_text("{}")
    with pytest.raises(pp.PatrolPlanError, match=r"report\.json"):
        pp.plan.write_plan(demo_plan, other)
    assert (other / "report.json").read_text() == "{}"
    assert sorted(p.name for p in other.iterdir()) == ["report.json"]


def test_an_officer_with_nothing_to_do_gets_an_empty_route_and_every_file(tmp_path):
    # West Oakland: three hotspots in January 2013, two officers from one post; the second
    # found nothing left to do and writing plan.gpkg failed on his one-point route line
    import geopandas as gpd

    from patrolplan import plan as pp_plan
    from patrolplan.request import PlanRequest

    district = Path(__file__).parent / "data" / "districts" / "west_oakland.toml"
    request = PlanRequest.from_file(
        district,
        posts=[(37.8075, -122.3000)],
        officers=2,
        shift="2h",
        start="09:00",
        date="2013-01-15",
    )
    result = pp_plan.make_plan(request)
    idle = [r for r in result.routes if not r.stops]
    assert [r.officer for r in idle] == [2]
    assert any(w.startswith("officer 2 has nothing to do") for w in result.warnings)
    out = tmp_path / "p"
    pp_plan.write_plan(result, out)
    lines = gpd.read_file(out / "plan.gpkg", layer="routes")
    assert len(lines) == 2
    # the idle officer's line: zero length, at his post
    still = lines[lines["officer"] == 2].geometry.iloc[0]
    assert still.length == 0
    node = result.G.nodes[result.routes[1].post_node]
    assert still.coords[0] == pytest.approx((node["lon"], node["lat"]))


def test_hotspots_no_street_comes_near_are_left_out_and_said(demo_plan):
    from patrolplan import graph

    G, hot = demo_plan.G, demo_plan.gdf_hotspots
    edges = graph.edges_gdf(G).to_crs(G.graph["crs"])
    shapes = hot.set_index("hotspot_id").geometry.to_crs(G.graph["crs"])
    # measured here on the street segments themselves, not by the library's index
    nearest = {h: float(edges.distance(g).min()) for h, g in shapes.items()}
    far = {h for h, d in nearest.items() if d > graph.HOTSPOT_REACH_M}
    assert far  # the demo has hotspots beyond the edges of its extract, 120-150 m from a street
    assert set(graph.unreachable_hotspots(G, hot).index) == far
    visited = {h for r in demo_plan.routes for h in r.hotspot_ids}
    assert not visited & far
    assert all(nearest[h] <= graph.HOTSPOT_REACH_M for h in visited)
    (line,) = [w for w in demo_plan.warnings if "left out" in w]
    assert line.startswith(f"{len(far)} hotspots left out: no street of the extract")
    for h in far:
        assert f"{h} {nearest[h]:.0f} m" in line
