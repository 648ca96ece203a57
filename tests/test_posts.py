"""Walking-distance coverage of posts and the maximal covering location problem, on real data."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest

from patrolplan import datasets, graph, hotspots, ingest, posts
from patrolplan._errors import InputDataError

POSTS = list(datasets.DEMO_POSTS)


@pytest.fixture(scope="module")
def risk(G):
    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes(), area=graph.graph_area(G))
    w = hotspots.incident_weights(gdf, at="2016-06-19", shift_start_hour=18, shift_length_h=4)
    return posts.node_risk(G, gdf, w)


@pytest.fixture(scope="module")
def coverage(G, risk):
    return posts.evaluate_posts(G, risk, POSTS)


@pytest.fixture(scope="module")
def proposal(G, risk):
    return posts.propose_posts(G, risk, k=2, existing=POSTS, walk_min=10)


def test_node_risk_keeps_every_incident_weight(G, risk):
    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes(), area=graph.graph_area(G))
    w = hotspots.incident_weights(gdf, at="2016-06-19", shift_start_hour=18, shift_length_h=4)
    assert risk.sum() == pytest.approx(w.sum())
    assert (risk > 0).all()
    assert all(n in G for n in risk.index)


def test_coverage_shares_are_shares_and_grow_with_walk_minutes(coverage):
    s = coverage.summary
    assert s["walk_min"].tolist() == [5.0, 10.0, 15.0]
    for col in ("covered_share", "overlap_share", "unreached_share"):
        assert s[col].between(0, 1).all()
    assert s["covered_share"].is_monotonic_increasing
    assert s["unreached_share"].is_monotonic_decreasing
    assert np.allclose(s["covered"] + s["unreached"], s["total_risk"])
    assert (s["overlap"] <= s["covered"]).all()
    for _, row in coverage.posts.iterrows():
        shares = [row[f"share_{m:g}min"] for m in (5, 10, 15)]
        assert all(0 <= x <= 1 for x in shares)
        assert shares == sorted(shares)
    # a post's own reach never exceeds what all posts reach, and the union is no more than the sum
    per_post = coverage.posts[["share_5min", "share_10min", "share_15min"]].to_numpy()
    assert (per_post <= s["covered_share"].to_numpy() + 1e-12).all()
    assert (s["covered_share"].to_numpy() <= per_post.sum(axis=0) + 1e-12).all()
    # the demo's two posts, 1.3 km apart, share risk only at 15 minutes
    assert s["overlap"].tolist()[:2] == [0.0, 0.0]
    assert s["overlap"].iloc[2] > 0


def test_mclp_equals_enumeration_on_a_small_real_instance(G, risk):
    net = posts._Network(G)
    cands = posts.candidate_nodes(G, cell_m=50.0)
    # the 14 candidates nearest the first demo post, within 750 m of the demand around it
    post = graph.snap_points(G, POSTS[:1])[0]
    d = net.reach([post], 2000.0)[0, net.index(cands)]
    near = cands[np.argsort(d, kind="stable")[:14]]
    to_demand = net.reach(risk.index.to_numpy(), 750.0, towards=True)[:, net.index(near)]
    cover = to_demand <= 750.0
    w = risk.to_numpy()
    for k in (1, 2, 3, 4):
        best = max(
            float(w[cover[:, list(c)].any(axis=1)].sum())
            for c in itertools.combinations(range(len(near)), k)
        )
        sol = posts.max_cover(cover, w, k)
        assert sol.status == "optimal"
        assert sol.gap == 0.0
        assert sol.objective == pytest.approx(best)
        assert float(w[cover[:, list(sol.chosen)].any(axis=1)].sum()) == pytest.approx(best)
        assert sum(sol.gains) == pytest.approx(best)
        assert list(sol.gains) == sorted(sol.gains)[::-1]


def test_proposal_adds_the_solver_objective_and_matches_a_fresh_evaluation(G, risk, proposal):
    sol = proposal.solution
    assert sol.status == "optimal"
    assert sol.gap == 0.0
    assert sol.bound == pytest.approx(sol.objective)
    sites = proposal.sites
    assert sites["kind"].tolist() == ["existing", "existing", "proposed", "proposed"]
    new = sites[sites["kind"] == "proposed"]
    assert new["rank"].tolist() == [1, 2]
    # existing posts keep the plan's numbers: post k is the k-th given, whatever it reaches
    old = sites[sites["kind"] == "existing"]
    assert old["rank"].tolist() == [1, 2]
    assert list(zip(old["lat"], old["lon"], strict=True)) == [tuple(p) for p in POSTS]
    assert old["covered_risk"].iloc[0] != old["covered_risk"].iloc[1]
    assert new["gain"].sum() == pytest.approx(sol.objective)
    assert proposal.after_share == pytest.approx(proposal.before_share + sol.objective / risk.sum())
    everyone = POSTS + list(zip(new["lat"], new["lon"], strict=True))
    again = posts.evaluate_posts(G, risk, everyone, walk_min=[10])
    assert again.summary["covered_share"].iloc[0] == pytest.approx(proposal.after_share)
    before = posts.evaluate_posts(G, risk, POSTS, walk_min=[10])
    assert before.summary["covered_share"].iloc[0] == pytest.approx(proposal.before_share)


def test_one_proposed_site_covers_at_least_as_much_as_any_existing_post(G, risk, coverage):
    one = posts.propose_posts(G, risk, k=1, walk_min=10)
    best_site = one.sites["covered_risk"].iloc[0]
    assert best_site >= coverage.posts["risk_10min"].max()
    # with the existing posts among the candidates, the optimum is at least as good as each
    sites = [*POSTS, (39.2865, -76.5860)]
    from_list = posts.propose_posts(G, risk, k=1, walk_min=10, candidates=sites)
    assert from_list.sites["covered_risk"].iloc[0] >= coverage.posts["risk_10min"].max()


def test_write_posts_files_and_escaped_map(G, risk, coverage, proposal, tmp_path):
    H = G.copy()
    node = int(proposal.sites["node"].iloc[-1])
    for _, _, data in H.edges(node, data=True):
        data["name"] = "<script>alert(1)</script> Street"
    sites = proposal.sites.assign(street="<img src=x onerror=alert(1)>")
    tampered = posts.PostProposal(**{**proposal.__dict__, "sites": sites})
    written = posts.write_posts(tmp_path / "out", H, risk, coverage, tampered)
    assert [p.name for p in written] == list(posts.OUTPUT_FILES)
    page = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Street" in page.replace("\\u0026", "&")
    assert "&lt;img src=x" in page
    gj = json.loads((tmp_path / "out" / "posts.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["kind"] for f in gj["features"]].count("proposed") == 2
    areas = json.loads((tmp_path / "out" / "service_areas.geojson").read_text(encoding="utf-8"))
    assert {f["geometry"]["type"] for f in areas["features"]} <= {"Polygon", "MultiPolygon"}
    # 4 sites x the walk limits 5, 10, 15 min
    assert len(areas["features"]) == 12
    table = (tmp_path / "out" / "coverage.csv").read_text(encoding="utf-8").splitlines()
    assert table[0].startswith("scenario,walk_min")
    assert len(table) == 7


def test_service_areas_grow_with_minutes_and_follow_the_streets(G):
    gdf = posts.service_areas(G, POSTS[:1], walk_min=(5, 10))
    big, small = gdf.to_crs(G.graph["crs"]).geometry
    assert small.area < big.area
    assert small.difference(big).area < 0.01 * small.area
    # a network service area is smaller than the circle of the same walking distance
    assert big.area < np.pi * 750.0**2 / 2


def test_candidate_sites_off_the_street_graph_are_named(G, risk, tmp_path):
    path = tmp_path / "sites.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    }
                    for lat, lon in [*POSTS, (39.40, -76.40)]
                ],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        InputDataError,
        match=r"sites.geojson: 1 of 3 candidate sites are off the street graph, e.g. site 3",
    ):
        posts.propose_posts(G, risk, k=1, candidates=path)


def test_k_larger_than_the_candidates(G, risk):
    with pytest.raises(
        InputDataError, match=r"`k` = 3 new sites is more than the 2 candidate sites"
    ):
        posts.propose_posts(G, risk, k=3, candidates=POSTS)


def test_walk_limit_too_short_to_reach_any_risk(G, risk):
    with pytest.raises(InputDataError, match="too short: no post reaches any risk"):
        posts.evaluate_posts(G, risk, POSTS, walk_min=[0.05])
    with pytest.raises(InputDataError, match="too short: no candidate site reaches any risk"):
        posts.propose_posts(G, risk, k=1, candidates=POSTS, walk_min=0.05)


def _map_text(page: str) -> str:
    """What a person reads on a map: layer names, legend, popups and tooltips."""
    import html

    control = re.search(r"layer_control_\w+_layers = \{(.*?)\};", page, re.S)
    assert control
    parts = [json.loads(n) for n in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', control.group(1))]
    parts += re.findall(r'<div id="pp-legend".*?</div>', page, re.S)
    parts += re.findall(r'html_[0-9a-f]{8}" style="[^"]*">(.*?)</div>`', page, re.S)
    parts += re.findall(r"bindTooltip\(\s*`<div>(.*?)</div>`", page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", "\n".join(parts)))


# English words of the posts map's interface
ENGLISH_UI = ["Risk", "risk", "Posts", "post", "site", "Before", "After", "min", "walk", "current",
              "proposed", "adds", "within", "Streets", "tiles", "contributors", "unnamed", "now",
              "gain"]  # fmt: skip


def test_posts_map_in_kazakh_has_no_english_words(G, risk, proposal):
    from patrolplan import i18n, render

    sites = proposal.sites
    at_limit = posts.service_areas(
        G,
        list(zip(sites["lat"], sites["lon"], strict=True)),
        walk_min=[proposal.walk_min],
        speed_kmh=proposal.speed_kmh,
    )
    with i18n.language("kk"):
        page = render.to_html(posts.posts_map(G, risk, proposal, at_limit), offline=False)
    text = _map_text(page)
    assert len(text) > 500
    # the streets are the data's (Baltimore)
    shown = text
    for street in sorted(set(sites["street"]), key=len, reverse=True):
        shown = shown.replace(street, "") if street else shown
    assert [w for w in ENGLISH_UI if w in shown] == []
    for words in [
        "Посттар: қазіргі және ұсынылған",
        "Тәуекел (салмақталған оқиғалар)",
        "Кейін: ұсынылған посттармен",
        "Қазіргі пост П1",
        "Ұсынылған пост орны Ж1",
        "10 мин ішіндегі тәуекел",
        "П — қазіргі пост, Ж — ұсынылған орын",
        "© OpenStreetMap қатысушылары (ODbL)",
    ]:
        assert words in text, words
    # shares with a decimal comma
    assert re.search(r"\d,\d%", text)
    # English stays the default
    english = _map_text(render.to_html(posts.posts_map(G, risk, proposal, at_limit)))
    assert "Current post P1" in english
    assert "Proposed site N1" in english
