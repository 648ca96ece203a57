"""Walking graph from the real Baltimore extract."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from pyproj import CRS

import patrolplan as pp
from patrolplan import GraphBuildError, InfeasibleRouteError, datasets, graph


def test_graph_is_projected_connected_and_walkable(G):
    assert len(G) == 5161
    assert G.number_of_edges() == 15980
    # pedestrians walk one-way streets both ways
    assert all(G.has_edge(v, u) for u, v in G.edges())
    assert CRS(G.graph["crs"]).to_epsg() == 32618  # UTM 18N
    assert nx.is_strongly_connected(G)
    highways = {d["highway"] for *_, d in G.edges(data=True)}
    assert not any("motorway" in h or "cycleway" in h for h in highways)
    node = next(iter(G.nodes.values()))
    assert -76.62 < node["lon"] < -76.51
    assert 39.25 < node["lat"] < 39.32


def test_pbf_gives_the_same_graph_as_the_walk_xml(G, tmp_path):
    G_pbf = graph.graph_from_file(datasets.baltimore_pbf(), cache_dir=tmp_path)
    assert set(G_pbf.nodes) == set(G.nodes)
    assert G_pbf.number_of_edges() == G.number_of_edges()


def test_second_read_uses_the_cache(tmp_path, monkeypatch):
    first = graph.graph_from_file(datasets.baltimore_osm(), cache_dir=tmp_path)
    cached = list(tmp_path.glob("walk-*.graphml"))
    assert len(cached) == 1

    def no_parse(*args, **kwargs):
        raise AssertionError("the extract was parsed again")

    monkeypatch.setattr(graph, "_graph_from_xml", no_parse)
    second = graph.graph_from_file(datasets.baltimore_osm(), cache_dir=tmp_path)
    assert set(second.nodes) == set(first.nodes)
    assert second.number_of_edges() == first.number_of_edges()
    u, v, k = next(iter(first.edges(keys=True)))
    assert second[u][v][k]["length"] == pytest.approx(first[u][v][k]["length"])


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"highway": "residential"}, True),
        ({"highway": "footway"}, True),
        ({"highway": "motorway_link"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "service", "access": "private"}, False),
        ({"highway": "primary", "sidewalk": "separate"}, False),
        ({"highway": "path", "foot": "no"}, False),
        ({"building": "yes"}, False),
    ],
)
def test_walk_filter(tags, walkable):
    assert graph.is_walkable(tags) is walkable


def test_bad_extracts(tmp_path):
    with pytest.raises(GraphBuildError, match="not found"):
        graph.graph_from_file(tmp_path / "missing.osm")
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1' lat='x'")
    with pytest.raises(GraphBuildError, match="cannot read OSM extract"):
        graph.graph_from_file(bad, use_cache=False)
    empty = tmp_path / "empty.osm"
    empty.write_text("<?xml version='1.0'?><osm version='0.6'><node id='1' lat='1' lon='1'/></osm>")
    with pytest.raises(GraphBuildError):
        graph.graph_from_file(empty, use_cache=False)
    other = tmp_path / "x.shp"
    other.write_text("x")
    with pytest.raises(GraphBuildError, match="unknown type"):
        graph.graph_from_file(other)


def test_snap_points_refuses_points_off_the_map(G):
    (node,) = graph.snap_points(G, [datasets.DEMO_POSTS[0]])
    assert node in G
    with pytest.raises(InfeasibleRouteError, match=r"from the nearest street .* extract"):
        graph.snap_points(G, [(39.40, -76.60)])


def test_shortest_paths_match_networkx(G):
    rng = np.random.default_rng(1)
    nodes = list(G.nodes)
    src = [nodes[i] for i in rng.choice(len(nodes), 3, replace=False)]
    dst = [nodes[i] for i in rng.choice(len(nodes), 5, replace=False)]
    sp = graph.ShortestPaths(G, src)
    for s in src:
        got = sp.distance(s, dst)
        want = [nx.shortest_path_length(G, s, t, weight="length") for t in dst]
        assert got == pytest.approx(want)
        path = sp.path(s, dst[0])
        assert path[0] == s
        assert path[-1] == dst[0]
        assert all(G.has_edge(a, b) for a, b in itertools.pairwise(path))


def test_edge_risk_sums_weights_once_per_segment(G):
    gdf, _ = pp.ingest.read_incidents(datasets.baltimore_crimes(), area=graph.graph_area(G))
    w = pp.hotspots.incident_weights(gdf)
    snapped = graph.snap_to_edges(G, gdf)
    graph.add_edge_risk(G, snapped, w)
    edges = graph.edges_gdf(G)
    on_street = snapped["u"] >= 0
    assert on_street.mean() > 0.8
    assert edges["risk"].sum() == pytest.approx(w[on_street].sum())
    # crime concentrates: the riskiest 5 % of segments hold a large share of the risk
    top = edges["risk"].sort_values(ascending=False)
    assert top.head(int(0.05 * len(top))).sum() / top.sum() > 0.5
