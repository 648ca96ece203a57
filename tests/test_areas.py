"""Balanced contiguous patrol areas on the real demo district."""

from __future__ import annotations

import json
import re

import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.sparse import csgraph

from patrolplan import areas, datasets, graph, hotspots, ingest, posts
from patrolplan._errors import InfeasibleRouteError, InputDataError


@pytest.fixture(scope="module")
def risk(G):
    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes(), area=graph.graph_area(G))
    w = hotspots.incident_weights(gdf, at="2016-06-19", shift_start_hour=18, shift_length_h=4)
    return posts.node_risk(G, gdf, w)


@pytest.fixture(scope="module")
def three(G, risk):
    return areas.partition(G, risk, officers=3, seed=0)


def test_three_areas_are_contiguous_cover_every_unit_and_balance(three, risk):
    units, adj = three.units, three.neighbours
    labels = units["area"].to_numpy()
    assert sorted(set(labels)) == [1, 2, 3]
    assert len(units) == three.areas["n_units"].sum() == adj.shape[0]
    # the unit graph itself is one piece, and so is every area
    assert csgraph.connected_components(adj, directed=False)[0] == 1
    for a in (1, 2, 3):
        idx = np.flatnonzero(labels == a)
        assert csgraph.connected_components(adj[idx][:, idx], directed=False)[0] == 1
    assert three.balance <= 1.2
    w = three.areas["workload"]
    assert three.balance == pytest.approx(w.max() / w.min())
    assert w.sum() == pytest.approx(1.0)
    assert three.areas["risk"].sum() == pytest.approx(risk.sum())
    assert three.areas["street_km"].sum() == pytest.approx(units["length_m"].sum() / 1000)


def test_partition_is_deterministic_by_seed(G, risk, three):
    again = areas.partition(G, risk, officers=3, seed=0)
    assert again.units["area"].tolist() == three.units["area"].tolist()


def test_street_length_of_the_units_is_the_graph_s(G, three):
    edges = graph.edges_gdf(G)
    assert three.units["length_m"].sum() == pytest.approx(edges["length"].sum(), rel=0.01)


def test_more_areas_than_units(G, risk):
    with pytest.raises(InputDataError, match=r"`officers` = 500 areas is more than the \d+ units"):
        areas.partition(G, risk, officers=500, cell_m=1000)
    with pytest.raises(InputDataError, match="`officers` must be a whole number of at least 1"):
        areas.partition(G, risk, officers=0)


def test_written_areas_read_back_and_restrict_the_graph(G, three, tmp_path):
    written = areas.write_areas(tmp_path / "out", G, three)
    assert [p.name for p in written] == list(areas.OUTPUT_FILES)
    gj = json.loads((tmp_path / "out" / "areas.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["area"] for f in gj["features"]] == [1, 2, 3]
    back = areas.read_areas(tmp_path / "out" / "areas.geojson")
    assert back["area"].tolist() == [1, 2, 3]
    sizes = []
    for _, row in back.iterrows():
        sub = areas.restrict(G, row.geometry)
        assert nx.is_strongly_connected(sub)
        assert sub.graph["crs"] == G.graph["crs"]
        lon = [d["lon"] for _, d in sub.nodes(data=True)]
        lat = [d["lat"] for _, d in sub.nodes(data=True)]
        assert shapely.intersects_xy(row.geometry.buffer(1e-6), lon, lat).all()
        sizes.append(len(sub))
    # nearly every node of the district lands in one area's graph
    assert sum(sizes) >= 0.9 * len(G)
    homes = areas.assign_posts_to_areas(list(datasets.DEMO_POSTS), back)
    assert all(h in (1, 2, 3) for h in homes)
    page = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    assert "workload max/min" in page
    assert "Area 3" in page


def test_read_areas_refuses_points(tmp_path):
    path = tmp_path / "bad.geojson"
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Point", "coordinates": [-76.59, 39.28]},
    }
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8"
    )
    with pytest.raises(InputDataError, match=r"bad\.geojson: feature 1 is a Point, not a polygon"):
        areas.read_areas(path)


@pytest.fixture(scope="module")
def four_area_plan(G, risk, tmp_path_factory):
    """The issue's case: 4 officers from the 2 demo posts, 4 areas, written to a folder."""
    from patrolplan import plan
    from patrolplan.options import PlanOptions

    out = tmp_path_factory.mktemp("areas4")
    areas.write_areas(out / "areas", G, areas.partition(G, risk, officers=4, seed=0))
    path = out / "areas" / "areas.geojson"
    result = plan.daily_plan(
        datasets.baltimore_crimes(),
        datasets.baltimore_osm(),
        list(datasets.DEMO_POSTS),
        PlanOptions(officers=4, shift="2h", start="18:00", date="2016-06-19", iterations=300),
        areas=path,
    )
    plan.write_plan(result, out / "plan")
    return result, path, out / "plan"


def test_plan_with_areas_starts_at_the_post_and_times_the_walk(G, four_area_plan):
    result, path, _out = four_area_plan
    back = areas.read_areas(path)
    subs = {int(a): areas.restrict(G, g) for a, g in zip(back["area"], back.geometry, strict=True)}
    homes = result.params["officer_areas"]
    # every area has its officer, found by the posts
    assert sorted(homes) == [1, 2, 3, 4]
    post_nodes = graph.snap_points(G, list(datasets.DEMO_POSTS))
    for r, home in zip(result.routes, homes, strict=True):
        assert r.stops, f"officer {r.officer} has a route"
        post = post_nodes[(r.officer - 1) % 2]
        # the route leaves from and returns to the officer's own post
        assert r.post == datasets.DEMO_POSTS[(r.officer - 1) % 2]
        assert r.nodes[0] == r.post_node == post
        assert r.nodes[-1] == r.end_node == post
        # the walk counted is every street walked, the walk to the area included
        walked = sum(
            min(d["length"] for d in G.get_edge_data(u, v).values())
            for u, v in zip(r.nodes[:-1], r.nodes[1:], strict=True)
        )
        assert r.length_m == pytest.approx(walked, rel=1e-6)
        assert r.duration_min <= 120 + 1e-6
        # every stop lies in the officer's own area
        assert {s.node for s in r.stops} <= set(subs[home].nodes)
    # posts outside their area are told to the supervisor
    pairs = zip(result.routes, homes, strict=True)
    outside = [r.officer for r, h in pairs if r.post_node not in subs[h]]
    assert outside
    for officer in outside:
        assert any(line.startswith(f"officer {officer}: post ") for line in result.warnings)


def test_plan_with_areas_has_one_id_per_street_and_one_start(G, four_area_plan):
    result, _path, out = four_area_plan
    # a street-task id names one street: its two ends at most, joined by an edge
    ends: dict[str, set[int]] = {}
    for r in result.routes:
        for s in r.stops:
            if s.kind == "street":
                ends.setdefault(s.hotspot_id, set()).add(s.node)
    assert ends
    for task, nodes in ends.items():
        assert len(nodes) <= 2, task
        if len(nodes) == 2:
            u, v = sorted(nodes)
            assert G.has_edge(u, v) or G.has_edge(v, u), task
    total = result.summary.iloc[-1]
    assert total["streets"] == len(ends)
    assert total["streets"] == sum(len(set(r.street_ids)) for r in result.routes)
    # the warnings reach report.json
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["params"]["warnings"] == list(result.warnings)
    assert report["params"]["officer_areas"] == result.params["officer_areas"]
    # map, GeoJSON and GPX all start each officer at his post
    gj = json.loads((out / "routes.geojson").read_text(encoding="utf-8"))
    for r in result.routes:
        node = G.nodes[r.post_node]
        line = next(
            f for f in gj["features"]
            if f["properties"]["officer"] == r.officer and f["geometry"]["type"] == "LineString"
        )  # fmt: skip
        assert line["geometry"]["coordinates"][0] == pytest.approx([node["lon"], node["lat"]])
        gpx = (out / f"officer_{r.officer}.gpx").read_text(encoding="utf-8")
        first = re.search(r'<trkpt lat="([-\d.]+)" lon="([-\d.]+)"', gpx)
        assert first
        assert [float(first[2]), float(first[1])] == pytest.approx([node["lon"], node["lat"]])


def test_plan_with_areas_refuses_variants(four_area_plan):
    from patrolplan import plan
    from patrolplan.options import PlanOptions

    _result, path, _out = four_area_plan
    with pytest.raises(InputDataError, match="cannot be combined"):
        plan.daily_plan(
            datasets.baltimore_crimes(),
            datasets.baltimore_osm(),
            list(datasets.DEMO_POSTS),
            PlanOptions(officers=4, date="2016-06-19", variants=2, iterations=50),
            areas=path,
        )


def test_areas_are_shared_and_left_empty_with_a_warning(G, three):
    from patrolplan import routing

    back = three.areas
    subs = [areas.restrict(G, g) for g in back.geometry]
    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes(), area=graph.graph_area(G))
    w = hotspots.incident_weights(gdf, at="2016-06-19", shift_start_hour=18, shift_length_h=4)
    hot, _labels = hotspots.find_hotspots(gdf, w)
    hot["node"] = graph.nearest_nodes(G, hot["lon"], hot["lat"])[0]
    opts = routing.RouteOptions(officers=2, shift_min=240, iterations=200)
    two = routing.solve_in_areas(G, hot, [datasets.DEMO_POSTS[0]], subs, opts)
    assert len(set(two.homes)) == 2
    assert any("has no officer" in line for line in two.warnings)
    five = routing.solve_in_areas(
        G, hot, list(datasets.DEMO_POSTS), subs, routing.RouteOptions(
            officers=5, shift_min=240, iterations=200
        )
    )  # fmt: skip
    assert sorted(set(five.homes)) == [0, 1, 2]
    assert sum("is shared by officers" in line for line in five.warnings) == 2
    # a shift too short names the area and the plan's officers
    with pytest.raises(InfeasibleRouteError, match=r"patrol area \d \(officers \d, \d, in this"):
        routing.solve_in_areas(
            G, hot, list(datasets.DEMO_POSTS), subs, routing.RouteOptions(officers=5, shift_min=30)
        )
    # officers sharing an area never visit the same hotspot twice
    seen = [h for r in five.routes for h in r.hotspot_ids]
    assert len(seen) == len(set(seen))


def test_areas_map_in_kazakh_has_no_english_words(G, three):
    import html
    import re

    from patrolplan import i18n, render

    with i18n.language("kk"):
        page = render.to_html(areas.areas_map(G, three), offline=False)
    control = re.search(r"layer_control_\w+_layers = \{(.*?)\};", page, re.S)
    assert control
    parts = [json.loads(n) for n in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', control.group(1))]
    parts += re.findall(r'<div id="pp-legend".*?</div>', page, re.S)
    parts += re.findall(r'html_[0-9a-f]{8}" style="[^"]*">(.*?)</div>`', page, re.S)
    parts += re.findall(r"bindTooltip\(\s*`<div>(.*?)</div>`", page, re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", "\n".join(parts)))
    english = ["Area", "area", "workload", "risk", "km of street", "mean", "Streets", "tiles",
               "contributors", "of the district"]  # fmt: skip
    assert [w for w in english if w in text] == []
    for words in [
        "Патрульдеу учаскелері",
        "3 учаске, жүктеме макс./мин. ",
        "Учаскелер (3)",
        "1-учаске",
        "км көше",
        "тәуекел ",
        "© OpenStreetMap қатысушылары (ODbL)",
    ]:
        assert words in text, words
    assert re.search(r"жүктеме макс\./мин\. \d,\d\d", text)
