"""Balanced contiguous patrol areas on the real demo district."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.sparse import csgraph

from patrolplan import areas, datasets, graph, hotspots, ingest, posts
from patrolplan._errors import InputDataError


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


def test_plan_with_areas_keeps_each_officer_in_his_area(G, three, tmp_path):
    from patrolplan import plan
    from patrolplan.options import PlanOptions

    areas.write_areas(tmp_path / "areas", G, three)
    path = tmp_path / "areas" / "areas.geojson"
    result = plan.daily_plan(
        datasets.baltimore_crimes(),
        datasets.baltimore_osm(),
        list(datasets.DEMO_POSTS),
        PlanOptions(officers=3, shift="2h", start="18:00", date="2016-06-19", iterations=300),
        areas=path,
    )
    back = areas.read_areas(path)
    for r in result.routes:
        assert r.stops, f"officer {r.officer} has a route"
        sub = areas.restrict(G, back.geometry.iloc[r.officer - 1])
        # every street node walked and every stop lies in the officer's own area
        assert set(r.nodes) <= set(sub.nodes)
        assert r.duration_min <= 120 + 1e-6
    assert result.params["areas"]["sha256"]
    with pytest.raises(InputDataError, match="cannot be combined"):
        plan.daily_plan(
            datasets.baltimore_crimes(),
            datasets.baltimore_osm(),
            list(datasets.DEMO_POSTS),
            PlanOptions(officers=2, date="2016-06-19", variants=2, iterations=50),
            areas=path,
        )


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
