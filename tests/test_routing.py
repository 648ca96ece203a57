"""Routes of the demo plan on the real Baltimore street graph."""

from __future__ import annotations

import itertools
import re

import pytest

import patrolplan as pp
from patrolplan import InfeasibleRouteError, datasets, routing


def test_every_route_starts_and_ends_at_its_post(demo_plan):
    posts = pp.graph.snap_points(demo_plan.G, list(datasets.DEMO_POSTS))
    assert len(demo_plan.routes) == 3
    for k, r in enumerate(demo_plan.routes):
        assert r.post_node == posts[k % 2]
        assert r.nodes[0] == r.nodes[-1] == r.post_node


def test_consecutive_vertices_lie_on_graph_edges(demo_plan):
    G = demo_plan.G
    for r in demo_plan.routes:
        assert all(G.has_edge(u, v) for u, v in itertools.pairwise(r.nodes))
        # the walked length is the sum of the edges walked
        walked = sum(
            pp.graph.edge_between(G, u, v)["length"] for u, v in itertools.pairwise(r.nodes)
        )
        assert walked == pytest.approx(r.length_m)


def test_duration_fits_the_shift_and_dwell_is_counted(demo_plan):
    for r in demo_plan.routes:
        assert r.duration_min <= r.shift_min + 1e-6
        assert r.dwell_min == pytest.approx(12.0 * len(r.hotspot_ids))
        assert r.walk_min == pytest.approx(r.length_m / (4.5 * 1000 / 60))
        for a, b in itertools.pairwise(r.stops):
            assert b.arrive_min >= a.leave_min - 1e-9
        for s in r.stops:
            if s.kind == "hotspot":
                assert s.leave_min - s.arrive_min == pytest.approx(12.0)
        assert r.stops[-1].leave_min <= r.duration_min + 1e-6
        # every stop node is on the walked path, in order (a node may be passed several times)
        at = 0
        for s in r.stops:
            at = r.nodes.index(s.node, at)


def test_no_hotspot_is_visited_twice_and_the_best_are_visited(demo_plan):
    visited = [h for r in demo_plan.routes for h in r.hotspot_ids]
    assert len(visited) == len(set(visited))
    assert len(visited) >= 20
    # the three officers reach most of the risk of the offered hotspots
    assert demo_plan.summary.iloc[-1]["hotspot_risk_share"] > 0.6


def _solve(G, hot, posts, **kw):
    segments = kw.pop("segments", None)
    return routing.solve(G, hot, posts, routing.RouteOptions(**kw), segments=segments)


def _variants(G, hot, posts, *, k, **kw):
    return routing.variants(G, hot, posts, routing.RouteOptions(**kw), k=k)


def test_solver_beats_greedy_on_the_demo(demo_plan):
    kwargs = dict(officers=3, shift_min=240, seed=7)
    hot = demo_plan.gdf_hotspots
    greedy = _solve(demo_plan.G, hot, list(datasets.DEMO_POSTS), iterations=0, **kwargs)
    risk = dict(zip(hot["hotspot_id"], hot["risk"], strict=True))

    def total(routes):
        return sum(risk[h] for r in routes for h in r.hotspot_ids)

    assert total(demo_plan.routes) > total(greedy)


def test_same_seed_same_routes(demo_plan):
    def plan():
        return _solve(
            demo_plan.G,
            demo_plan.gdf_hotspots,
            list(datasets.DEMO_POSTS),
            officers=3,
            shift_min=240,
            seed=7,
            iterations=1000,
        )

    assert [r.nodes for r in plan()] == [r.nodes for r in plan()]


def test_post_outside_the_graph(demo_plan):
    with pytest.raises(InfeasibleRouteError, match=r"post 39\.400000,-76\.600000 is .* m from"):
        _solve(demo_plan.G, demo_plan.gdf_hotspots, [(39.40, -76.60)])


def test_shift_shorter_than_the_shortest_round_trip(demo_plan):
    with pytest.raises(InfeasibleRouteError, match="shift of officer 1 is 10 min but"):
        _solve(demo_plan.G, demo_plan.gdf_hotspots, list(datasets.DEMO_POSTS), shift_min=10)


def test_per_officer_shifts(demo_plan):
    routes = _solve(
        demo_plan.G,
        demo_plan.gdf_hotspots,
        list(datasets.DEMO_POSTS),
        officers=2,
        shift_min=[60, 180],
        iterations=200,
    )
    assert routes[0].duration_min <= 60 < routes[1].duration_min <= 180


@pytest.mark.parametrize("text", ["39.2", "a,b", "91,0"])
def test_bad_post_text(text):
    with pytest.raises(InfeasibleRouteError, match="post"):
        routing.parse_post(text)


def test_open_route_ends_at_its_end_point(demo_plan):
    G = demo_plan.G
    (r,) = _solve(
        G,
        demo_plan.gdf_hotspots,
        [datasets.DEMO_POSTS[0]],
        ends=[datasets.DEMO_POSTS[1]],
        shift_min=120,
        iterations=300,
    )
    end = pp.graph.snap_points(G, [datasets.DEMO_POSTS[1]])[0]
    assert r.nodes[0] == r.post_node != end
    assert r.nodes[-1] == r.end_node == end
    assert r.duration_min <= 120


def test_variants_are_good_and_different(demo_plan):
    plans, table = _variants(
        demo_plan.G,
        demo_plan.gdf_hotspots,
        list(datasets.DEMO_POSTS),
        k=4,
        officers=3,
        shift_min=240,
        seed=7,
        iterations=1500,
    )
    assert len(plans) == 4 == len(table)
    assert table.loc[0, "share_of_best"] == 1.0
    assert (table["share_of_best"] >= 0.95).all()
    # every variant is a feasible plan of its own
    for routes in plans:
        ids = [h for r in routes for h in r.hotspot_ids]
        assert len(ids) == len(set(ids))
        assert all(r.duration_min <= r.shift_min + 1e-6 for r in routes)
    # the plans walk visibly different streets, yet the top hotspots are in all of them
    assert table["mean_overlap"].mean() < 0.6
    for routes in plans[1:]:
        visited = {h for r in routes for h in r.hotspot_ids}
        assert {"H001", "H002", "H003"} <= visited
    assert routing.overlap(demo_plan.G, plans[0], plans[0]) == 1.0


def test_a_hotspot_may_have_its_own_dwell(demo_plan):
    hot = demo_plan.gdf_hotspots.copy()
    # hotspots of even rank get a 30-minute dwell, the others the default 12
    hot["dwell_min"] = float("nan")
    hot.loc[hot["rank"] % 2 == 0, "dwell_min"] = 30.0
    long = set(hot.loc[hot["rank"] % 2 == 0, "hotspot_id"])
    routes = _solve(
        demo_plan.G, hot, list(datasets.DEMO_POSTS), officers=2, shift_min=240, iterations=500
    )
    stops = [s for r in routes for s in r.stops if s.kind == "hotspot"]
    assert {s.hotspot_id in long for s in stops} == {True, False}
    for s in stops:
        assert s.leave_min - s.arrive_min == pytest.approx(30.0 if s.hotspot_id in long else 12.0)
    for r in routes:
        assert r.dwell_min == pytest.approx(
            sum(s.leave_min - s.arrive_min for s in r.stops if s.kind == "hotspot")
        )


def test_risky_streets_are_walked_end_to_end_once(demo_plan):
    G = demo_plan.G
    streets = [s for r in demo_plan.routes for s in r.stops if s.kind == "street"]
    assert streets, "the demo plan walks some risky streets as tasks"
    ids = [s.hotspot_id for s in streets]
    assert len(ids) == len(set(ids))  # one direction of each street at most
    for r in demo_plan.routes:
        at = 0
        for s in r.stops:
            # the stop's node, after the previous stop's (a route may pass a node twice)
            at = r.nodes.index(s.node, at)
            if s.kind != "street":
                continue
            u, v = r.nodes[at], r.nodes[at + 1]
            walk = pp.graph.edge_between(G, u, v)["length"] / (4.5 * 1000 / 60)
            assert s.leave_min - s.arrive_min == pytest.approx(walk, rel=1e-6)
    # walking them adds coverage beyond the hotspots: compare with no street tasks
    without = _solve(
        G,
        demo_plan.gdf_hotspots,
        list(datasets.DEMO_POSTS),
        officers=3,
        shift_min=240,
        seed=7,
        max_segments=0,
    )
    assert all(s.kind == "hotspot" for r in without for s in r.stops)
    cov = pp.metrics.summary(
        demo_plan.routes,
        demo_plan.gdf_hotspots,
        demo_plan.labels,
        demo_plan.snapped,
        demo_plan.weights,
    ).iloc[-1]
    cov0 = pp.metrics.summary(
        without, demo_plan.gdf_hotspots, demo_plan.labels, demo_plan.snapped, demo_plan.weights
    ).iloc[-1]
    assert cov["risk_covered_share"] > cov0["risk_covered_share"]


def _value(routes):
    """The solver's objective: risk of every task, a revisit worth `revisit_value` as much."""
    return sum(s.risk * pp.settings.revisit_value ** (s.visit - 1) for r in routes for s in r.stops)


def _visits(routes):
    by_hotspot = {}
    for r in routes:
        for s in r.stops:
            if s.kind == "hotspot":
                by_hotspot.setdefault(s.hotspot_id, []).append((s.arrive_min, s.visit, r.officer))
    return {h: sorted(v) for h, v in by_hotspot.items()}


@pytest.mark.parametrize(
    ("revisit", "low", "high"), [(60.0, 60.0, 240.0), ((60.0, 90.0), 60.0, 90.0)]
)
def test_revisits_keep_their_interval_across_officers(demo_plan, revisit, low, high):
    kwargs = dict(officers=3, shift_min=240, seed=7, iterations=1000)
    routes = _solve(
        demo_plan.G,
        demo_plan.gdf_hotspots,
        list(datasets.DEMO_POSTS),
        revisit_min=revisit,
        **kwargs,
    )
    visits = _visits(routes)
    repeated = {h: v for h, v in visits.items() if len(v) > 1}
    assert repeated, "with 4 h shifts and a 60 min interval some hotspots are revisited"
    for v in visits.values():
        assert len(v) <= 2  # max_visits
        assert [n for _, n, _ in v] == list(range(1, len(v) + 1))  # numbered in clock order
        for (a, _, _), (b, _, _) in itertools.pairwise(v):
            assert low - 1e-6 <= b - a <= high + 1e-6
    for r in routes:
        assert r.duration_min <= r.shift_min + 1e-6
        assert r.dwell_min == pytest.approx(12.0 * len(r.hotspot_ids))
    # revisits can only add to what the plan is worth: the single-visit plan stays feasible
    single = _solve(demo_plan.G, demo_plan.gdf_hotspots, list(datasets.DEMO_POSTS), **kwargs)
    assert _value(routes) > _value(single)
    table = pp.metrics.summary(
        routes, demo_plan.gdf_hotspots, demo_plan.labels, demo_plan.snapped, demo_plan.weights
    )
    assert table.iloc[-1]["revisits"] == sum(len(v) - 1 for v in repeated.values())
    assert table.iloc[-1]["hotspots"] == len(visits)


def test_a_revisit_by_another_officer_also_keeps_the_interval(demo_plan):
    # any two visits of a hotspot, whoever makes them, start 90 min apart or more
    routes = _solve(
        demo_plan.G,
        demo_plan.gdf_hotspots,
        list(datasets.DEMO_POSTS),
        officers=3,
        shift_min=240,
        seed=1,
        iterations=800,
        revisit_min=90,
        max_visits=3,
        max_hotspots=15,  # few places, so revisits pay, some by another officer
    )
    visits = _visits(routes)
    assert any(len({o for _, _, o in v}) > 1 for v in visits.values()), "a cross-officer revisit"
    for v in visits.values():
        assert len(v) <= 3
        assert all(b[0] - a[0] >= 90 - 1e-6 for a, b in itertools.pairwise(v))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"revisit_min": 0}, "revisit_min"),
        ({"revisit_min": -5}, "revisit_min"),
        ({"revisit_min": (90, 60)}, "revisit_min"),
        ({"revisit_min": 60, "max_visits": 0}, "max_visits"),
        ({"revisit_min": 60, "revisit_value": 1.5}, "revisit_value"),
    ],
)
def test_bad_revisit_options_are_refused(demo_plan, kwargs, match):
    with pytest.raises(InfeasibleRouteError, match=match):
        _solve(
            demo_plan.G, demo_plan.gdf_hotspots, list(datasets.DEMO_POSTS), iterations=10, **kwargs
        )


def test_a_lower_revisit_value_means_fewer_revisits(demo_plan):
    def revisits(value):
        routes = _solve(
            demo_plan.G,
            demo_plan.gdf_hotspots,
            list(datasets.DEMO_POSTS),
            officers=3,
            shift_min=240,
            seed=7,
            iterations=600,
            revisit_min=60,
            revisit_value=value,
        )
        return sum(s.visit > 1 for r in routes for s in r.stops)

    assert revisits(0.9) > revisits(0.5) > revisits(0.1)


def test_short_shift_error_states_the_trip_the_solver_counts():
    # the new-user case: one post, a 10-minute shift on 19 June 2016
    post = (39.2890, -76.6050)
    options = pp.options.PlanOptions(shift="10m", date="2016-06-19")
    with pytest.raises(InfeasibleRouteError) as err:
        pp.plan.daily_plan(datasets.baltimore_crimes(), datasets.baltimore_pbf(), [post], options)
    found = re.search(
        r"the nearest hotspot, (H\d+) \(of (\d+) found for this shift\), needs (\d+) min: "
        r"(\d+) min walk there and back plus 12 min dwell, from post 39\.28900,-76\.60500",
        str(err.value),
    )
    assert found is not None, str(err.value)
    hotspot, n, need, walk = found[1], int(found[2]), int(found[3]), int(found[4])
    assert need == walk + 12
    # the same shift's hotspots given that many minutes: the solver walks that very trip
    request = pp.request.PlanRequest.build(
        None,
        incidents=pp.ingest.layer_files(datasets.baltimore_crimes()),
        osm=datasets.baltimore_pbf(),
        posts=[post],
        options=options,
    )
    data = pp.pipeline.load(request)
    step = pp.pipeline.hotspot_step(data.gdf_incidents, options, at=data.t0)
    assert len(step.gdf_hotspots) == n
    (route,) = routing.solve(
        data.G, step.gdf_hotspots, [post], routing.RouteOptions(shift_min=need + 1)
    )
    assert [s.hotspot_id for s in route.stops] == [hotspot]
    assert route.duration_min == pytest.approx(need, abs=0.5)
