"""Walking graph from the real Baltimore extract."""

from __future__ import annotations

import itertools
import logging
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from pyproj import CRS, Transformer

import patrolplan as pp
from patrolplan import GraphBuildError, InfeasibleRouteError, InputDataError, datasets, graph

DATA = Path(__file__).parent / "data" / "baltimore"
RAW = DATA / "jonesfalls_raw.osm"
CLIPPED = DATA / "jonesfalls_clipped.osm.pbf"


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
    cached = list(tmp_path.glob("walk-*.ppgraph"))
    assert len(cached) == 1
    assert not list(tmp_path.glob("*.graphml"))

    def no_parse(*args, **kwargs):
        raise AssertionError("the extract was parsed again")

    monkeypatch.setattr(graph, "_walk_extract", no_parse)
    second = graph.graph_from_file(datasets.baltimore_osm(), cache_dir=tmp_path)
    # the cache gives back the same graph: node and edge order, every attribute, the CRS
    assert list(second.nodes(data=True)) == list(first.nodes(data=True))
    assert list(second.edges(keys=True, data=True)) == list(first.edges(keys=True, data=True))
    assert CRS(second.graph["crs"]) == CRS(first.graph["crs"])


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_damaged_cache_is_rebuilt(tmp_path, caplog, damage):
    first = graph.graph_from_file(RAW, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("walk-*.ppgraph")
    data = cached.read_bytes()
    if damage == "truncate":
        cached.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        i = len(data) // 2
        cached.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])
    elif damage == "garbage":
        cached.write_bytes(b"\x00garbage" * 100)
    else:
        cached.write_bytes(b"")
    with caplog.at_level(logging.INFO, logger="patrolplan"):
        second = graph.graph_from_file(RAW, cache_dir=tmp_path)
    assert "cannot be used" in caplog.text
    assert "rebuilding it" in caplog.text
    assert list(second.edges(keys=True)) == list(first.edges(keys=True))
    # the rebuilt cache is whole again
    assert cached.read_bytes() != b""
    assert graph._read_cache(cached) is not None


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


# --- OSM XML is filtered like PBF; clipped extracts are cut at missing nodes -----------------


def _ways(path):
    """(id, node refs, tags) of every way in an OSM file."""
    import osmium

    return [
        (w.id, [n.ref for n in w.nodes], dict(w.tags))
        for w in osmium.FileProcessor(str(path), osmium.osm.WAY)
    ]


def _node_ids(path):
    import osmium

    return {n.id for n in osmium.FileProcessor(str(path), osmium.osm.NODE)}


def _copy_osm(src, dst, *, drop_nodes=(), drop_ways=()):
    """Write the nodes and ways of `src` to `dst` (format from the suffix), minus some."""
    import osmium

    with osmium.SimpleWriter(str(dst)) as writer:
        for obj in osmium.FileProcessor(str(src)):
            if obj.id not in (drop_nodes if obj.is_node() else drop_ways):
                writer.add(obj)
    return dst


def _edge_osmids(G):
    return {int(i) for *_, d in G.edges(data=True) for i in str(d["osmid"]).split(";")}


def test_raw_osm_xml_keeps_only_walkable_ways():
    """An unfiltered export (railways, buildings, water, foot=no motorways) gives streets only."""
    ways = _ways(RAW)
    walkable = {i for i, _, tags in ways if graph.is_walkable(tags)}
    not_walkable = {
        kind: {i for i, _, tags in ways if test(tags)}
        for kind, test in {
            "railway": lambda t: "railway" in t,
            "building": lambda t: "building" in t,
            "waterway": lambda t: "waterway" in t,
            "foot=no": lambda t: t.get("foot") == "no",
            "motorway": lambda t: "motorway" in t.get("highway", ""),
        }.items()
    }
    assert all(not_walkable.values())  # the sample holds every kind
    G = graph.graph_from_file(RAW, use_cache=False)
    osmids = _edge_osmids(G)
    assert osmids <= walkable
    for kind, ids in not_walkable.items():
        assert not osmids & ids, kind
    highways = {h for *_, d in G.edges(data=True) for h in d["highway"].split(";")}
    assert not highways & {"motorway", "motorway_link", "cycleway", "construction"}
    assert len(G) == 100
    assert G.number_of_edges() == 260


def test_xml_and_pbf_of_the_same_data_give_the_same_graph(tmp_path):
    G_xml = graph.graph_from_file(RAW, use_cache=False)
    G_pbf = graph.graph_from_file(_copy_osm(RAW, tmp_path / "raw.osm.pbf"), use_cache=False)
    assert list(G_pbf.nodes(data=True)) == list(G_xml.nodes(data=True))
    assert list(G_pbf.edges(keys=True, data=True)) == list(G_xml.edges(keys=True, data=True))


@pytest.mark.parametrize("suffix", [".osm", ".osm.pbf"])
def test_extract_without_walkable_way_is_refused(tmp_path, suffix):
    """The sample without its walkable ways: railways, motorways, buildings, water only."""
    walkable = {i for i, _, tags in _ways(RAW) if graph.is_walkable(tags)}
    path = _copy_osm(RAW, tmp_path / f"nowalk{suffix}", drop_ways=walkable)
    with pytest.raises(GraphBuildError, match=r"holds no walkable street$") as err:
        graph.graph_from_file(path, use_cache=False)
    assert "\n" not in str(err.value)


def test_clipped_pbf_is_cut_at_missing_nodes(caplog, tmp_path):
    """Ways keep references to nodes outside a bbox extract: cut there, count real nodes."""
    present = _node_ids(CLIPPED)
    walk = [refs for _, refs, tags in _ways(CLIPPED) if graph.is_walkable(tags)]
    wanted = {r for refs in walk for r in refs}
    assert wanted - present  # the sample is clipped
    used = {r for refs in walk for run in graph._runs(refs, present) for r in run}
    with caplog.at_level(logging.INFO, logger="patrolplan"):
        G = graph.graph_from_file(CLIPPED, use_cache=False)
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("Filtered"))
    assert f"{len(walk):,} walkable ways, {len(used):,} nodes;" in line
    assert f"{len(wanted - present):,} referenced nodes are missing" in line
    assert set(G.nodes) <= present
    assert nx.is_strongly_connected(G)
    assert len(G) == 59
    assert G.number_of_edges() == 158
    # the same clipped data as OSM XML gives the same graph
    G_xml = graph.graph_from_file(_copy_osm(CLIPPED, tmp_path / "clipped.osm"), use_cache=False)
    assert list(G_xml.edges(keys=True)) == list(G.edges(keys=True))


def test_a_way_with_a_missing_middle_node_keeps_both_pieces(tmp_path):
    """Watson Street loses its third node: both sides stay, each with the way's own id."""
    (refs,) = [refs for i, refs, _ in _ways(RAW) if i == 6006474]
    path = _copy_osm(RAW, tmp_path / "hole.osm", drop_nodes={refs[2]})
    G = graph.graph_from_file(path, use_cache=False)
    touched = {
        n
        for u, v, d in G.edges(data=True)
        if "6006474" in str(d["osmid"]).split(";")
        for n in (u, v)
    }
    assert refs[2] not in G
    assert {refs[1], refs[4]} <= touched  # one node on each side of the hole


def test_runs_split_at_missing_nodes():
    assert graph._runs([1, 2, 3, 9, 4, 5, 9, 6], {1, 2, 3, 4, 5, 6}) == [[1, 2, 3], [4, 5]]
    assert graph._runs([9, 1, 9], {1}) == []
    assert graph._runs([1, 2], {1, 2}) == [[1, 2]]


# --- errors: reader problems are one line, programming errors show ---------------------------


def test_unreadable_extracts_are_one_line(tmp_path):
    pbf = datasets.baltimore_pbf().read_bytes()
    cases = {
        "truncated.osm.pbf": pbf[: len(pbf) // 2],
        "binary.osm.pbf": bytes(range(256)) * 8,
        "binary.osm.bz2": b"BZh9" + bytes(range(256)) * 8,
        "empty.osm": b"",
        "html.osm": b"<html><body>Not found</body></html>",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(GraphBuildError, match=f"cannot read OSM extract .*{re.escape(name)}"):
            graph.graph_from_file(path, use_cache=False)


def test_programming_errors_are_not_turned_into_cannot_read(monkeypatch):
    def broken(tags):
        raise TypeError("bug in the filter")

    monkeypatch.setattr(graph, "is_walkable", broken)
    with pytest.raises(TypeError, match="bug in the filter"):
        graph.graph_from_file(CLIPPED, use_cache=False)


def test_graphml_input_is_still_read(G, tmp_path):
    import osmnx as ox

    path = tmp_path / "walk.graphml"
    ox.save_graphml(G, path)
    G2 = graph.graph_from_file(path)
    assert set(G2.nodes) == set(G.nodes)
    assert G2.number_of_edges() == G.number_of_edges()
    assert CRS(G2.graph["crs"]).to_epsg() == 32618
    bad = tmp_path / "bad.graphml"
    bad.write_text("not xml")
    with pytest.raises(GraphBuildError, match="cannot read GraphML"):
        graph.graph_from_file(bad)
    empty = tmp_path / "empty.graphml"
    empty.write_text(
        '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<graph edgedefault="directed"></graph></graphml>'
    )
    with pytest.raises(GraphBuildError, match="holds no street"):
        graph.graph_from_file(empty)


# --- posts: the snap distance is logged, returned and limited --------------------------------


def test_snap_report_logs_and_returns_each_distance(G, caplog):
    G = G.copy()  # a graph of its own: each point is logged once per graph
    posts = list(datasets.DEMO_POSTS)
    with caplog.at_level(logging.INFO, logger="patrolplan"):
        snaps = graph.snap_report(G, posts, max_dist_m=150)
        graph.snap_report(G, posts, max_dist_m=150)  # logged once per graph
    assert [s.node for s in snaps] == graph.snap_points(G, posts, max_dist_m=150)
    assert [s.dist_m for s in snaps] == pytest.approx([3.0, 18.6], abs=0.1)
    assert [(s.lat, s.lon) for s in snaps] == posts
    lines = [r.getMessage() for r in caplog.records if "snapped to node" in r.getMessage()]
    assert len(lines) == 2
    assert lines[0].startswith("post 39.282600,-76.593200 snapped to node ")
    assert lines[0].endswith(", 3 m away")
    assert lines[1].startswith("post 39.290500,-76.579000 snapped to node ")
    assert lines[1].endswith(", 19 m away")


def test_snap_refuses_posts_beyond_the_limit(G, monkeypatch):
    # 120 m due north of the northernmost node: that node is the nearest, 120 m away
    north = max(G.nodes, key=lambda n: G.nodes[n]["y"])
    x, y = G.nodes[north]["x"], G.nodes[north]["y"] + 120.0
    lon, lat = Transformer.from_crs(G.graph["crs"], "EPSG:4326", always_xy=True).transform(x, y)
    posts = [datasets.DEMO_POSTS[0], (lat, lon)]
    (snap,) = graph.snap_report(G, posts[1:], max_dist_m=150)
    assert snap.node == north
    assert snap.dist_m == pytest.approx(120.0, abs=0.01)
    msg = rf"^post {lat:.6f},{lon:.6f} is 120 m from .* \(at most 100 m allowed\)"
    with pytest.raises(InfeasibleRouteError, match=msg):
        graph.snap_points(G, posts, max_dist_m=100)
    monkeypatch.setattr(pp.settings, "max_snap_m", 100.0)
    with pytest.raises(InfeasibleRouteError, match="at most 100 m allowed"):
        graph.snap_points(G, posts)
    with pytest.raises(InputDataError, match="post 1 has coordinates nan"):
        graph.snap_points(G, [(float("nan"), -76.6)])


# --- conversions are computed once per graph -------------------------------------------------


def test_edges_are_converted_once_and_risk_read_fresh(G, monkeypatch):
    import osmnx as ox

    G = G.copy()  # risk is changed below

    def no_conversion(*args, **kwargs):
        raise AssertionError("graph converted to GeoDataFrames again")

    first = graph.edges_gdf(G)
    first["name"] = "changed by a caller"
    monkeypatch.setattr(ox.convert, "graph_to_gdfs", no_conversion)
    second = graph.edges_gdf(G)
    assert (second["name"] != "changed by a caller").all()
    assert second.geometry.values[0] is first.geometry.values[0]  # the same converted geometry
    # risk changes are seen at once
    gdf, _ = pp.ingest.read_incidents(datasets.baltimore_crimes(), area=graph.graph_area(G))
    snapped = graph.snap_to_edges(G, gdf)
    w = pp.hotspots.incident_weights(gdf) * 2.0
    graph.add_edge_risk(G, snapped, w)
    assert graph.edges_gdf(G)["risk"].sum() == pytest.approx(w[snapped["u"] >= 0].sum())
    graph.segment_risk(G, snapped, w)


def test_a_changed_graph_is_converted_again(G):
    H = G.copy()
    n = len(graph.edges_gdf(H))
    u, v = next((u, v) for u, v in H.edges() if H.number_of_edges(u, v) == 1)
    H.remove_edges_from([(u, v), (v, u)])
    assert len(graph.edges_gdf(H)) == n - 1
    H.remove_node(u)
    nodes, _ = graph.nearest_nodes(H, [H.nodes[v]["lon"]], [H.nodes[v]["lat"]])
    assert u not in set(graph._node_xy(H)[0])
    assert nodes[0] == v


def test_merged_street_names_do_not_depend_on_the_process(tmp_path):
    """osmnx merges names through a set; two processes with other hash seeds agree."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from patrolplan import graph; "
        "G = graph.graph_from_file(sys.argv[1], use_cache=False); "
        "print(sorted(str(d.get('name')) for *_, d in G.edges(data=True)))"
    )
    out = {
        subprocess.run(
            [sys.executable, "-c", code, str(RAW)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(out) == 1
    assert ";" in next(iter(out))  # the sample has merged names


ALMATY = Path(__file__).parent / "data" / "almaty" / "almaty_names_synthetic.osm"


def test_street_names_in_russian_and_kazakh_reach_the_edges_the_cache_and_the_map(
    tmp_path, monkeypatch
):
    import json

    import pandas as pd

    from patrolplan import i18n, render

    edges = graph.edges_gdf(graph.graph_from_file(ALMATY, cache_dir=tmp_path))
    cols = ["name", "name:ru", "name:kk"]
    assert set(cols) <= set(edges.columns)
    # ways joined at a bend keep their local names in the order of `name`
    joined = edges.set_index("name").loc["Достық даңғылы;проспект Абая"]
    assert joined["name:kk"] == "Достық даңғылы;Абай даңғылы"
    assert joined["name:ru"] == "проспект Достык;проспект Абая"
    assert i18n.street_names(edges, "kk") == {
        "проспект Абая": "Абай даңғылы",
        "улица Жамбыла": "Жамбыл көшесі",
        "улица Кунаева": "Қонаев көшесі",
    }
    assert i18n.street_names(edges, "ru") == {
        "Достық даңғылы": "проспект Достык",
        "Қабанбай батыр көшесі": "улица Кабанбай батыра",
    }
    assert i18n.street_names(edges, "en") == {}

    def no_parse(*args, **kwargs):
        raise AssertionError("the extract was parsed again")

    # the cache keeps them
    monkeypatch.setattr(graph, "_walk_extract", no_parse)
    cached = graph.edges_gdf(graph.graph_from_file(ALMATY, cache_dir=tmp_path))
    pd.testing.assert_frame_equal(cached[cols], edges[cols])
    # the map's street layer names each street in the map's language, else by `name`
    with i18n.language("kk"):
        page = render.to_html(render.base_map(edges), offline=False)
    shown = {json.loads(f'"{s}"') for s in re.findall(r'"name": "((?:[^"\\]|\\.)*)"', page)}
    assert {"Абай даңғылы", "Қонаев көшесі", "Жамбыл көшесі", "Достық даңғылы"} <= shown
    assert "проспект Абая" not in shown
    assert "улица Жамбыла" not in shown
