"""Plan replay (`patrolplan.evaluate`) on a few days of the real Baltimore demo data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from patrolplan import datasets, evaluate, graph, ingest, routing
from patrolplan._errors import InputDataError

POSTS = list(datasets.DEMO_POSTS)
FAST = {"iterations": 300, "max_segments": 5}


@pytest.fixture(scope="module")
def crimes(G):
    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes(), area=graph.graph_area(G))
    return gdf


@pytest.fixture(scope="module")
def result(G):
    # G first, so run() reads the session's cached graph
    return evaluate.run(
        datasets.baltimore_crimes(),
        datasets.baltimore_osm(),
        POSTS,
        date_from="2016-06-16",
        date_to="2016-06-17",
        start="18:00",
        shift="4h",
        officers=2,
        history_days=10,
        count_days=(7,),
        n_random=2,
        n_boot=200,
        **FAST,
    )


def test_run_table_and_rows(result):
    per = result.per_shift
    assert sorted(per["method"].unique()) == ["counts_7d", "oracle", "plan", "random"]
    assert per["shift_start"].nunique() == 2
    assert (per["captured"] <= per["incidents"]).all()
    assert (per["officer_hours"] == 8.0).all()
    table = result.table.set_index("method")
    assert table.loc["random", "vs_random"] == pytest.approx(1.0)
    assert table.loc["oracle", "share_of_oracle"] == pytest.approx(1.0)
    assert table.loc["plan", "incidents"] == per.loc[per["method"] == "plan", "incidents"].sum()
    assert "| plan |" in evaluate.format_table(result.table)


def test_oracle_captures_at_least_every_method(result):
    per = result.per_shift.pivot(index="shift_start", columns="method", values="captured")
    assert per["oracle"].sum() > 0
    for method in ("plan", "counts_7d", "random"):
        assert (per["oracle"] >= per[method]).all(), method


def test_random_plan_matches_the_plan_time(result):
    per = result.per_shift.pivot(index="shift_start", columns="method", values="km")
    # the same walking time from the same posts: the same km up to the last street
    assert np.allclose(per["random"], per["plan"], atol=0.5)


def test_plan_covering_everything_captures_all(G, crimes):
    area = gpd.GeoSeries([graph.graph_area(G).buffer(0.05)], crs="EPSG:4326")
    centre = shapely.Point(*POSTS[0][::-1])

    def everything(gdf, weights):
        hot = gpd.GeoDataFrame(
            {
                "hotspot_id": ["H001"],
                "rank": [1],
                "risk": [1.0],
                "lon": [centre.x],
                "lat": [centre.y],
                "cluster": [0],
            },
            geometry=area.values,
            crs="EPSG:4326",
        )
        return hot, pd.Series(0, index=gdf.index)

    per = evaluate.replay(
        crimes,
        G,
        POSTS,
        days=["2016-06-17"],
        start="18:00",
        officers=1,
        history_days=5,
        methods={"all": everything},
        count_days=(),
        n_random=0,
        oracle=False,
        zone=False,
        **FAST,
    )
    assert per.loc[0, "incidents"] > 0
    assert per.loc[0, "captured"] == per.loc[0, "incidents"]


def _straight_edge(G):
    streets = evaluate.StreetIndex(G)
    for (u, v), line in zip(
        zip(streets.edges["u"], streets.edges["v"], strict=True), streets.geometry_m, strict=True
    ):
        ends = shapely.get_coordinates(line)[[0, -1]]
        if line.length > 200 and abs(np.hypot(*(ends[1] - ends[0])) - line.length) < 0.5:
            return int(u), int(v), line, streets
    raise AssertionError("no straight street of 200 m")


def test_capture_within_50_m_of_a_walked_street(G):
    u, v, line, streets = _straight_edge(G)
    (x0, y0), (x1, y1) = shapely.get_coordinates(line)[[0, -1]]
    normal = np.array([y0 - y1, x1 - x0]) / line.length
    mid = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    pts = [shapely.Point(*(mid + d * normal)) for d in (40.0, 60.0)]
    assert [line.distance(p) for p in pts] == pytest.approx([40.0, 60.0], abs=0.5)
    incidents = gpd.GeoDataFrame(geometry=pts, crs=streets.crs).to_crs("EPSG:4326")
    route = routing.Route(
        officer=1,
        post=POSTS[0],
        post_node=u,
        shift_min=60.0,
        stops=(),
        nodes=(u, v, u),
        length_m=2 * line.length,
        walk_min=2 * line.length / 75.0,
        dwell_min=0.0,
        return_via=(),
        end_node=u,
    )
    none = gpd.GeoDataFrame({"hotspot_id": []}, geometry=[], crs="EPSG:4326")
    hit = evaluate.capture(incidents, [route], none, G, streets=streets)
    assert hit.tolist() == [True, False]
    assert evaluate.capture(incidents, [route], none, G, dist_m=61.0).tolist() == [True, True]


def test_random_walks_are_seeded(G, demo_plan):
    runs = [
        evaluate.random_walks(G, POSTS, demo_plan.routes, seed=s, dwell_radius_m=40.0)
        for s in (3, 3, 4)
    ]
    assert [r.nodes for r in runs[0].routes] == [r.nodes for r in runs[1].routes]
    assert [r.nodes for r in runs[0].routes] != [r.nodes for r in runs[2].routes]
    for walk, model in zip(runs[0].routes, demo_plan.routes, strict=True):
        assert walk.nodes[0] == walk.nodes[-1] == model.post_node
        assert walk.walk_min <= model.walk_min + 1e-6
        assert walk.dwell_min == pytest.approx(model.dwell_min)
        assert len(walk.stops) == len(model.hotspot_ids)


def test_no_leakage_from_outside_the_history_and_the_shift(G, crimes):
    seen: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    planner = evaluate.planner_hotspots()

    def spy(gdf, weights):
        seen.append((gdf["datetime"].min(), gdf["datetime"].max()))
        return planner(gdf, weights)

    args = {
        "days": ["2016-06-14"],
        "start": "18:00",
        "officers": 2,
        "history_days": 5,
        "methods": {"plan": spy},
        "count_days": (3,),
        "n_random": 1,
        **FAST,
    }
    base = evaluate.replay(crimes, G, POSTS, **args)
    for (lo, hi), day in zip(seen, ["2016-06-14"], strict=True):
        assert lo >= pd.Timestamp(day) - pd.Timedelta(days=5)
        assert hi < pd.Timestamp(day) + pd.Timedelta(hours=18)
    # copies of every incident a year later and a year earlier change nothing
    shifted = [
        crimes.assign(datetime=crimes["datetime"] + pd.Timedelta(days=d)) for d in (-365, 365)
    ]
    more = gpd.GeoDataFrame(pd.concat([crimes, *shifted], ignore_index=True), crs=crimes.crs)
    again = evaluate.replay(more, G, POSTS, **args)
    pd.testing.assert_frame_equal(base, again)


def test_street_tasks_equal_segment_risk(G, crimes):
    snapped = graph.snap_to_edges(G, crimes)
    w = pd.Series(np.linspace(0.5, 2.0, len(crimes)), index=crimes.index)
    ours = evaluate.StreetIndex(G).segments(snapped, w)
    theirs = graph.segment_risk(G, snapped, w)
    assert ours["risk"].to_numpy() == pytest.approx(theirs["risk"].to_numpy())
    assert (ours[["u", "v"]].to_numpy() == theirs[["u", "v"]].to_numpy()).all()


def test_bad_input(G, crimes):
    with pytest.raises(InputDataError, match="`start` must be a time of day"):
        evaluate.replay(crimes, G, POSTS, days=["2016-06-12"], start="25:00")
    with pytest.raises(InputDataError, match="no test day"):
        evaluate.replay_days("2016-06-12", "2016-06-01")
    with pytest.raises(InputDataError, match="`days` is empty"):
        evaluate.replay(crimes, G, POSTS, days=[])
