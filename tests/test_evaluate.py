"""Plan replay (`patrolplan.evaluate`) on real data: the Baltimore demo crimes and 2017 arrests."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from patrolplan import datasets, evaluate, graph, ingest, pipeline, routing, settings
from patrolplan._errors import InputDataError
from patrolplan.request import PlanRequest

POSTS = list(datasets.DEMO_POSTS)
FAST = {"iterations": 300, "max_segments": 5}
ARRESTS = Path(__file__).parent / "data" / "baltimore" / "baltimore_arrests_2017_extract.csv"


@pytest.fixture(scope="module")
def crimes(G):
    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes(), area=graph.graph_area(G))
    return gdf


@pytest.fixture(scope="module")
def solver_calls():
    return []


@pytest.fixture(scope="module")
def result(G, solver_calls):
    # G first, so run() reads the session's cached graph; every solver call is recorded
    solve = routing.solve

    def spy(G, gdf_hot, posts, opts, **kw):
        solver_calls.append((len(gdf_hot), opts))
        return solve(G, gdf_hot, posts, opts, **kw)

    mp = pytest.MonkeyPatch()
    mp.setattr(routing, "solve", spy)
    try:
        return evaluate.run(
            datasets.baltimore_crimes(),
            datasets.baltimore_osm(),
            POSTS,
            date_from="2016-06-16",
            date_to="2016-06-17",
            start="10:00,18:00",
            shift="4h",
            officers=2,
            history_days=10,
            count_days=(7,),
            n_random=2,
            n_boot=200,
            **FAST,
        )
    finally:
        mp.undo()


def test_run_table_and_rows(result):
    per = result.per_shift
    assert sorted(per["method"].unique()) == [
        "counts_7d",
        "hindsight",
        "oracle",
        "plan",
        "random",
        "random_places",
    ]
    assert per["shift_start"].nunique() == 4
    assert (per["window"] == "shift").all()
    assert (per["shift_end"] - per["shift_start"] == pd.Timedelta(hours=4)).all()
    assert (per["captured"] <= per["incidents"]).all()
    assert (per["officer_hours"] == 8.0).all()
    table = result.table.set_index("method")
    assert table.loc["random", "vs_random"] == pytest.approx(1.0)
    assert table.loc["oracle", "share_of_oracle"] == pytest.approx(1.0)
    assert table.loc["plan", "incidents"] == per.loc[per["method"] == "plan", "incidents"].sum()
    text = evaluate.format_table(result.table)
    assert "| plan |" in text
    assert "| hindsight |" in text
    assert "| random places |" in text
    assert text.splitlines()[-1] == ("Test windows: 4, each a shift (the data give a time of day).")
    assert "nan" not in text.lower()


def test_count_baseline_is_offered_as_many_places_as_the_plan(result):
    per = result.per_shift
    plan = per[per["method"] == "plan"].set_index("shift_start")
    assert (plan["max_places"] >= 20).all()
    for method in ("counts_7d", "random_places"):
        other = per[per["method"] == method].set_index("shift_start")
        # the plan's number of places (the demo's 7 days hold enough occupied cells)
        assert (other["offered"] == plan["max_places"]).all(), method
    assert result.table.set_index("method").loc["counts_7d", "offered"] == pytest.approx(
        plan["max_places"].mean()
    )


def test_every_method_is_routed_with_the_plans_route_options(result, solver_calls):
    per = result.per_shift
    # per shift: plan, counts, hindsight, oracle, random places (5 solver calls)
    assert len(solver_calls) == 5 * per["shift_start"].nunique()
    for k in range(0, len(solver_calls), 5):
        shift_calls = [opts for _n, opts in solver_calls[k : k + 5]]
        plan = shift_calls[0]
        for opts in shift_calls[1:]:
            for name in ("officers", "shift_min", "dwell_min", "speed_kmh", "seed", "iterations"):
                assert getattr(opts, name) == getattr(plan, name), name
            assert opts.max_hotspots == plan.max_hotspots
        # counts and hindsight also get the plan's street tasks; oracle and random places none
        assert shift_calls[1].max_segments == shift_calls[2].max_segments == plan.max_segments
        assert shift_calls[3].max_segments == shift_calls[4].max_segments == 0


def test_hindsight_knows_where_not_when(result):
    per = result.per_shift
    hind = per[per["method"] == "hindsight"]
    plan = per[per["method"] == "plan"]
    # it saw every test incident of the replay, the same in every shift
    assert (hind["history"] == plan["incidents"].sum()).all()
    assert hind["offered"].nunique() == 1
    assert (hind["captured"].to_numpy() <= hind["incidents"].to_numpy()).all()


def test_count_cells_have_the_plans_size_and_shape(crimes):
    recent = crimes[crimes["datetime"] >= pd.Timestamp("2016-06-10")]
    ones = pd.Series(1.0, index=recent.index)
    hot, labels = evaluate.count_hotspots(size_m=150.0, n=30)(recent, ones)
    assert len(hot) == 30
    assert hot["risk"].is_monotonic_decreasing
    assert hot["risk"].iloc[0] >= 3
    metric = hot.to_crs(hot.estimate_utm_crs())
    diam = 2 * shapely.minimum_bounding_radius(np.asarray(metric.geometry.values))
    assert (diam <= 150.0 + 0.5).all()
    # every incident of a place lies in its polygon, and counts add up
    pts = recent.to_crs(hot.crs)
    for i, poly in enumerate(hot.geometry):
        members = pts[labels == i]
        assert len(members) == hot["risk"].iloc[i]
        assert members.within(poly.buffer(1e-7)).all()
    # one-incident cells come only after every cell of two
    every = evaluate.count_hotspots(size_m=150.0)(recent, ones)[0]
    twos = int((every["risk"] >= 2).sum())
    assert 0 < twos < len(every)
    few = evaluate.count_hotspots(size_m=150.0, n=twos + 3)(recent, ones)[0]
    assert (few["risk"].iloc[:twos] >= 2).all()
    assert (few["risk"].iloc[twos:] == 1).all()


def test_random_places_are_seeded_and_within_reach(G):
    nodes = sorted(G.nodes)[:400]
    reach = {int(n): 0.0 for n in nodes}
    a = evaluate.random_places(G, 25, reach=reach, radius_m=30.0, seed=(1, 2))
    b = evaluate.random_places(G, 25, reach=reach, radius_m=30.0, seed=(1, 2))
    c = evaluate.random_places(G, 25, reach=reach, radius_m=30.0, seed=(1, 3))
    assert len(a) == 25
    assert (a["risk"] == 1.0).all()
    assert a["lon"].tolist() == b["lon"].tolist()
    assert a["lon"].tolist() != c["lon"].tolist()
    allowed = {(round(G.nodes[n]["lon"], 9), round(G.nodes[n]["lat"], 9)) for n in nodes}
    assert all(
        (round(x, 9), round(y, 9)) in allowed for x, y in zip(a["lon"], a["lat"], strict=True)
    )


def test_bootstrap_resamples_whole_days(result):
    per = result.per_shift
    assert per["shift_start"].dt.normalize().nunique() == 2
    table = evaluate.summarize(per, n_boot=300, seed=5).set_index("method")
    # a day's shifts merged into one row give the same intervals: days are what is drawn
    day = per.assign(shift_start=per["shift_start"].dt.normalize())
    merged = (
        day.groupby(["shift_start", "method"], sort=False)
        .agg(
            captured=("captured", "sum"),
            incidents=("incidents", "sum"),
            officer_hours=("officer_hours", "sum"),
            km=("km", "sum"),
            offered=("offered", "mean"),
            zone_km2=("zone_km2", "mean"),
            window=("window", "first"),
        )
        .reset_index()
    )
    again = evaluate.summarize(merged, n_boot=300, seed=5).set_index("method")
    assert table.loc["plan", "days"] == 2
    assert table.loc["plan", "shifts"] == 4
    for col in ("capture_rate", "per_km", "vs_counts", "plan_vs"):
        for end in ("_lo", "_hi"):
            got, want = table[col + end].to_numpy(), again[col + end].to_numpy()
            assert got == pytest.approx(want, nan_ok=True)
    # better + worse + tied = shifts, and the plan against itself is all ties
    assert ((table["better"] + table["worse"] + table["tied"]) == 4).all()
    assert table.loc["plan", "tied"] == 4
    counts = per.pivot(index="shift_start", columns="method", values="captured")
    assert table.loc["counts_7d", "better"] == int((counts["plan"] > counts["counts_7d"]).sum())


def test_date_only_data_gives_day_windows(G, tmp_path):
    raw = pd.read_csv(datasets.baltimore_crimes(), dtype=str)
    raw["datetime"] = raw["datetime"].str.slice(0, 10)
    path = tmp_path / "crimes_dates.csv"
    raw.to_csv(path, index=False)
    res = evaluate.run(
        path,
        datasets.baltimore_osm(),
        POSTS,
        date_from="2016-06-16",
        date_to="2016-06-17",
        start="10:00,18:00",
        officers=2,
        history_days=10,
        count_days=(7,),
        n_random=1,
        n_boot=100,
        **FAST,
    )
    per = res.per_shift
    assert (per["window"] == "day").all()
    # one window per day, whatever the shift starts, holding the whole day's incidents
    assert sorted(per["shift_start"].unique()) == [
        pd.Timestamp("2016-06-16"),
        pd.Timestamp("2016-06-17"),
    ]
    assert (per["shift_end"] - per["shift_start"] == pd.Timedelta(days=1)).all()
    gdf, _ = ingest.read_incidents(path, area=graph.graph_area(G))
    assert (gdf["time_precision"] == "date").all()
    whole = gdf[gdf["datetime"].dt.normalize() == pd.Timestamp("2016-06-16")]
    plan = per[per["method"] == "plan"].set_index("shift_start")
    assert plan.loc[pd.Timestamp("2016-06-16"), "incidents"] == len(whole)
    assert res.params["window"] == "day"
    assert evaluate.format_table(res.table).endswith(
        "Test windows: 2, each a whole day (the data give dates without a time of day)."
    )


def test_month_and_year_data_give_month_and_year_windows(G, tmp_path):
    raw = pd.read_csv(datasets.baltimore_crimes(), dtype=str)
    raw["datetime"] = raw["datetime"].str.slice(0, 7)
    path = tmp_path / "crimes_months.csv"
    raw.to_csv(path, index=False)
    gdf, _ = ingest.read_incidents(path, area=graph.graph_area(G))
    assert evaluate.data_precision(gdf) == "month"
    days = ["2016-06-16", "2016-06-20", "2016-07-01"]
    w = evaluate.replay_windows(days, ["18:00"], shift_min=240, precision="month")
    assert w == [
        (pd.Timestamp("2016-06-01"), pd.Timestamp("2016-07-01")),
        (pd.Timestamp("2016-07-01"), pd.Timestamp("2016-08-01")),
    ]
    y = evaluate.replay_windows(days, ["18:00"], shift_min=240, precision="year")
    assert y == [(pd.Timestamp("2016-01-01"), pd.Timestamp("2017-01-01"))]
    assert "each a whole month" in evaluate.window_note("month", 2)


def test_every_window_empty_is_one_error_naming_the_cause(G, crimes):
    with pytest.raises(
        InputDataError,
        match=r"no incident fell in any of the 2 test windows \(2015-03-01 to 2015-03-02\); "
        r"the dated incidents run from 2016-06-01 to 2016-06-18",
    ):
        evaluate.replay(crimes, G, POSTS, days=["2015-03-01", "2015-03-02"], start="18:00", **FAST)


def test_auto_parameters_are_derived_again_for_every_shift(G, monkeypatch):
    calls = []
    step = pipeline.hotspot_step

    def spy(history, options, *, at, **kw):
        calls.append((at, history["datetime"].min(), history["datetime"].max(), kw))
        return step(history, options, at=at, **kw)

    monkeypatch.setattr(pipeline, "hotspot_step", spy)
    request = PlanRequest.build(
        None,
        incidents=ARRESTS,
        preset="baltimore_arrests",
        osm=datasets.baltimore_osm(),
        posts=POSTS[:1],
        officers=1,
        shift="2h",
        method="auto",
        iterations=200,
        max_segments=0,
    )
    # 23 January: 22 days of history; 4 June (three arrests from 18:00): the full 90 days
    res = evaluate.replay_request(
        request,
        date_from="2017-01-23",
        date_to="2017-06-04",
        every=132,
        start="18:00",
        count_days=(),
        n_random=0,
        n_boot=100,
        oracle=False,
        hindsight=False,
        n_random_places=0,
        zone=False,
    )
    assert [c[0] for c in calls] == [
        pd.Timestamp("2017-01-23 18:00"),
        pd.Timestamp("2017-06-04 18:00"),
    ]
    for at, lo, hi, kw in calls:
        assert hi < at
        assert lo >= at.normalize() - pd.Timedelta(days=90)
        assert "choice" not in kw
        assert kw["cache_dir"] is None  # the default cache folder
    plan = res.per_shift.set_index("shift_start")
    short, full = plan["half_life_days"].tolist()
    assert short == pytest.approx(14.0)  # the floor, from 22 days of history
    assert full > 20.0  # a quarter of the 90-day span
    assert plan["min_weight"].nunique() == 2
    # the method choices are cached in the cache folder
    assert len(list((Path(settings.cache_dir) / "method_choice").glob("*.json"))) >= 1


def test_cli_evaluate_with_a_district_file(tmp_path):
    from patrolplan.cli import app

    out = tmp_path / "ev.csv"
    config = datasets.data_dir() / "baltimore.toml"
    args = ["evaluate", "--config", config, "--from", "2016-06-17", "--to", "2016-06-17"]
    args += ["--history-days", "7", "--count-days", "7", "--random", "1", "--iterations", "200"]
    res = CliRunner().invoke(app, [str(a) for a in [*args, "--out", out]])
    assert res.exit_code == 0, res.output
    per = pd.read_csv(out)
    # the district's 3 officers and 18:00 start; its dwell reaches every method's routes
    assert (per["officer_hours"] == 12.0).all()
    assert set(pd.to_datetime(per["shift_start"])) == {pd.Timestamp("2016-06-17 18:00")}
    assert {"plan", "counts_7d", "hindsight", "random_places"} <= set(per["method"])
    assert "| counts_7d |" in res.output
    assert "Test windows: 1, each a shift" in res.output
    assert (tmp_path / "ev_summary.csv").is_file()


def test_cli_evaluate_with_a_preset_and_an_empty_range(tmp_path):
    from patrolplan.cli import app

    base = ["evaluate", "--incidents", ARRESTS, "--preset", "baltimore_arrests"]
    base += ["--osm", datasets.baltimore_osm(), "--post", "39.2826,-76.5932"]
    base += ["--officers", "1", "--shift", "2h", "--random", "0", "--iterations", "200"]
    base += ["--history-days", "30", "--out", tmp_path / "ev.csv"]
    # 4 June 2017, 18:00-20:00: three arrests in the extract (date and time in two columns)
    when = ["--from", "2017-06-04", "--to", "2017-06-04", "--start", "18:00"]
    ok = CliRunner().invoke(app, [str(a) for a in [*base, *when]])
    assert ok.exit_code == 0, ok.output
    per = pd.read_csv(tmp_path / "ev.csv")
    # the preset joins the date and time columns: shift windows, history read
    assert (per["window"] == "shift").all()
    assert per.loc[per["method"] == "plan", "history"].iloc[0] > 50
    assert (per["incidents"] == 3).all()
    empty = CliRunner().invoke(
        app, [str(a) for a in [*base, "--from", "2019-06-01", "--to", "2019-06-02", "-q"]]
    )
    assert empty.exit_code == 1
    # one error line naming the cause (the ingest warnings before it aside)
    (line,) = [x for x in empty.stderr.splitlines() if x.startswith("error:")]
    # the test days outside the data are refused before any replay, naming the data's span
    assert "2019-06-01 to 2019-06-02" in line
    assert line.endswith("the data run from 2017-01-01 to 2018-02-17")
    assert empty.stderr.strip().splitlines()[-1] == line
    assert "|" not in empty.stdout
    assert "nan" not in empty.output.lower()


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
