"""Hotspot analytics on the real Baltimore incidents."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial import cKDTree

import patrolplan as pp
from patrolplan import InputDataError, backtest, datasets, hotspots, ingest


@pytest.fixture(scope="module")
def city():
    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    return gdf


def test_weights_follow_severity_recency_and_shift(city):
    base = hotspots.incident_weights(city, at="2016-06-19")
    assert base.index.equals(city.index)
    homicide = city["category"] == "HOMICIDE"
    larceny = city["category"] == "LARCENY"
    assert base[homicide].mean() > 5 * base[larceny].mean()
    night = hotspots.incident_weights(city, at="2016-06-19", shift_start_hour=22, shift_length_h=6)
    at_night = city["hour"].isin([22, 23, 0, 1, 2, 3])
    ratio = night / base
    assert ratio[at_night].min() == pytest.approx(1.0)
    assert ratio[city["hour"] == 12].max() < 0.25
    # recency: a week older weighs 2**(-7/30)
    old = hotspots.incident_weights(city, at="2016-06-26")
    assert (old / base).median() == pytest.approx(2 ** (-7 / 30), rel=1e-6)


def test_top_hotspot_holds_the_densest_cluster(city):
    w = hotspots.incident_weights(city, at="2016-06-19")
    hot, labels = hotspots.find_hotspots(city, w)
    # 129 incidents geocoded to one spot still make a real polygon
    assert (hot.to_crs(hotspots.metric_crs(city)).area > 1000).all()
    xy = hotspots._xy_m(city)
    density = np.array([len(n) for n in cKDTree(xy).query_ball_point(xy, r=120.0)])
    densest = city.index[density.argmax()]
    cluster = labels[densest]
    assert cluster >= 0
    rank = int(hot.loc[hot["cluster"] == cluster, "rank"].iloc[0])
    assert rank <= 3
    # counts in the table are the counts of the labelled incidents
    assert hot["n_incidents"].sum() == int((labels >= 0).sum())
    assert hot["risk"].sum() == pytest.approx(w[labels >= 0].sum())
    assert hot["risk"].is_monotonic_decreasing


def test_hdbscan_finds_clusters_too(city):
    w = hotspots.incident_weights(city)
    hot, _labels = hotspots.find_hotspots(city, w, method="hdbscan", min_cluster_size=8)
    assert len(hot) >= 10
    with pytest.raises(InputDataError, match="method"):
        hotspots.cluster_incidents(city, w, method="kmeans")


def test_cardiff_juvenile_clusters_on_a_local_grid():
    gdf, _ = ingest.read_incidents(
        "tests/data/cardiff/cardiff_juvenile_offender_residences.csv", layer="juvenile", crs="local"
    )
    w = hotspots.incident_weights(gdf)
    hot, labels = hotspots.find_hotspots(gdf, w, eps_m=6, min_weight=5)
    assert hot.crs is None
    assert len(hot) >= 2
    assert (labels >= 0).sum() > 50


def test_kde_conserves_mass(city):
    w = hotspots.incident_weights(city)
    inside = city.geometry.y < 39.4  # drop the Pennsylvania outlier
    grid = hotspots.kde_grid(city[inside], w[inside], cell_m=50, bandwidth_m=150)
    cell_km2 = (50 / 1000) ** 2
    assert (grid["density"] * cell_km2).sum() == pytest.approx(w[inside].sum(), rel=0.01)
    assert grid["density"].is_monotonic_decreasing


def test_gi_star_matches_esda():
    import esda
    import libpysal

    rng = np.random.default_rng(0)
    x = rng.poisson(2, (6, 8)).astype(float)
    x[2:4, 3:5] += 10
    w = libpysal.weights.lat2W(6, 8, rook=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(x.ravel(), w, transform="B", star=True, permutations=0)
    assert hotspots.gi_star(x).ravel() == pytest.approx(g.Zs, abs=1e-9)


def test_gi_star_grid_flags_the_real_hot_cells(city):
    inside = city.geometry.y < 39.4
    cells = hotspots.gi_star_grid(city[inside], cell_m=200, alpha=0.05)
    hot = cells[cells["hot"]]
    assert 0 < len(hot) < 0.1 * len(cells)
    assert hot["value"].mean() > 3 * cells["value"].mean()


def test_segment_risk_smooths_along_the_network(G):
    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes(), area=pp.graph.graph_area(G))
    w = hotspots.incident_weights(gdf)
    snapped = pp.graph.snap_to_edges(G, gdf)
    segs = pp.graph.segment_risk(G, snapped, w, smooth=0.5)
    assert segs["risk"].sum() == pytest.approx(w[snapped["u"] >= 0].sum())
    quiet = segs[(segs["risk"] == 0) & (segs["smoothed"] > 0)]
    assert len(quiet) > 100  # quiet segments next to risky ones get some risk
    assert (segs["smoothed"] >= segs["risk"]).all()
    # concentration: a few segments carry most incidents
    top = segs.sort_values("n_incidents", ascending=False)
    share = top["n_incidents"].head(int(0.05 * len(top))).sum() / top["n_incidents"].sum()
    assert share > 0.5


def test_backtest_pai_rewards_knowledge_of_the_future(city):
    classic = ("kde", "gi_star", "dbscan", "prior_counts")
    honest = backtest.run(
        city,
        train_days=7,
        test_days=2,
        cell_m=150,
        methods={k: backtest.AREA_METHODS[k] for k in classic},
    )
    assert honest["window"].max() == 5

    def peek(train, w, grid):
        # an oracle that scores cells by the incidents of the coming test window
        t0 = train["datetime"].max().normalize() + np.timedelta64(1, "D")
        future = city[(city["datetime"] >= t0) & (city["datetime"] < t0 + np.timedelta64(2, "D"))]
        return grid.counts(future)

    cheat = backtest.run(
        city,
        train_days=7,
        test_days=2,
        cell_m=150,
        methods={"kde": backtest.AREA_METHODS["kde"], "peek": peek},
    )
    table = backtest.summary(cheat).set_index(["unit", "fraction", "method"])
    for f in backtest.FRACTIONS:
        assert table.loc[("area", f, "peek"), "pai"] > table.loc[("area", f, "kde"), "pai"]
        assert table.loc[("area", f, "peek"), "pei_star"] == pytest.approx(1.0)
    summary = backtest.summary(honest).set_index(["unit", "fraction", "method"])
    for f in backtest.FRACTIONS:
        assert (
            summary.loc[("area", f, "kde"), "pai"] > 2 * summary.loc[("area", f, "random"), "pai"]
        )
        assert 0.3 < summary.loc[("area", f, "random"), "pai"] < 2.0


def test_backtest_on_street_length(G):
    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes(), area=pp.graph.graph_area(G))
    res = backtest.run(gdf, G=G, train_days=7, test_days=2)
    length = backtest.summary(res).query("unit == 'length'").set_index(["fraction", "method"])
    assert length.loc[(0.1, "segment_risk"), "pai"] > 2 * length.loc[(0.1, "random"), "pai"]


def test_backtest_needs_enough_days(city):
    with pytest.raises(InputDataError, match="shorter than one window"):
        backtest.run(city, train_days=90, test_days=7)


# --- micro-places, data-driven defaults, warnings (issue 13) ---------------------------------

DATA = "tests/data"


def _frame_to_gdf(df, tmp_path, name="incidents.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    gdf, _ = ingest.read_incidents(path)
    return gdf


@pytest.fixture(scope="module")
def arrests(tmp_path_factory):
    import pandas as pd

    raw = pd.read_csv(f"{DATA}/baltimore/baltimore_arrests_2017_extract.csv", dtype=str)
    # US dates and a separate time column: build the datetime here
    when = pd.to_datetime(
        raw["ArrestDate"] + " " + raw["ArrestTime"].fillna(""), format="%m/%d/%Y %H:%M"
    )
    df = pd.DataFrame(
        {
            "datetime": when.dt.strftime("%Y-%m-%d %H:%M"),
            "category": raw["IncidentOffense"].str.strip(),
            "latitude": raw["Latitude"],
            "longitude": raw["Longitude"],
        }
    )
    return _frame_to_gdf(df, tmp_path_factory.mktemp("arrests"))


def _toronto(tmp_path, precision):
    import pandas as pd

    df = pd.read_csv(f"{DATA}/toronto/toronto_mci_downtown.csv")
    df["datetime"] = df["datetime"].str[: {"date": 10, "year": 4}[precision]]
    return _frame_to_gdf(df, tmp_path, f"toronto_{precision}.csv")


def _covered(gdf, hot, labels):
    """Every labelled incident lies in its own hotspot's polygon."""
    crs = hotspots.metric_crs(gdf)
    pts = gdf.to_crs(crs).geometry
    polys = hot.to_crs(crs).set_index("cluster").geometry
    inside = [polys[lab].covers(p) for p, lab in zip(pts, labels, strict=True) if lab >= 0]
    return all(inside)


def test_signatures_are_explicit():
    import inspect

    for f in (hotspots.find_hotspots, hotspots.cluster_incidents):
        kinds = {p.kind for p in inspect.signature(f).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds
    assert "max_size_m" in inspect.signature(hotspots.find_hotspots).parameters
    assert "max_hotspots" in inspect.signature(hotspots.find_hotspots).parameters


def test_dense_arrests_become_micro_places_not_a_chained_neighbourhood(arrests):
    w = hotspots.incident_weights(arrests, at="2018-01-01", half_life_days=365)
    chained, _ = hotspots.find_hotspots(arrests, w, max_size_m=float("inf"))
    assert chained["size_m"].max() > 1000  # the old behaviour: one hotspot km across
    warnings_ = hotspots.data_warnings(arrests, w, chained, at="2018-01-01")
    assert any(line.startswith("hotspot H0") and "m across" in line for line in warnings_)
    for method in hotspots.METHODS:
        hot, labels = hotspots.find_hotspots(arrests, w, method=method)
        assert len(hot) >= 20
        assert hot["size_m"].max() <= 150.0
        assert hot["n_incidents"].sum() == int((labels >= 0).sum())
        assert hot["risk"].sum() == pytest.approx(w[labels >= 0].sum())
        assert _covered(arrests, hot, labels)
        assert (hot["area_m2"] > 1000).all()
    smaller, _ = hotspots.find_hotspots(arrests, w, max_size_m=80, max_hotspots=10)
    assert len(smaller) == 10
    assert smaller["size_m"].max() <= 80.0


def test_dense_downtown_stays_bounded_and_small_in_memory(city):
    import geopandas as gpd

    rng = np.random.default_rng(0)
    crs = city.estimate_utm_crs()
    xy = city.to_crs(crs).geometry
    core = xy[(abs(xy.x - xy.x.median()) < 700) & (abs(xy.y - xy.y.median()) < 700)]
    pick = rng.integers(0, len(core), 30_000)
    pts = gpd.points_from_xy(
        core.x.to_numpy()[pick] + rng.normal(0, 40, len(pick)),
        core.y.to_numpy()[pick] + rng.normal(0, 40, len(pick)),
    )
    dense = gpd.GeoDataFrame(
        city.loc[core.index[pick]].drop(columns="geometry").reset_index(drop=True),
        geometry=pts,
        crs=crs,
    )
    w = hotspots.incident_weights(dense, at="2016-06-19")
    hot, _ = hotspots.find_hotspots(dense, w)
    assert len(hot) >= 30
    assert hot["size_m"].max() <= 150.0
    assert hot["area_m2"].max() < np.pi * 75**2 + 1


def test_year_only_dates_get_a_long_half_life_and_no_hours(tmp_path):
    gdf = _toronto(tmp_path, "year")
    p = hotspots.auto_params(gdf, at="2022-01-01")
    assert p.time_precision == "year"
    assert not p.shift_profile
    assert p.half_life_days == 365.0
    assert len(p.reasons) >= 4
    w = hotspots.incident_weights(gdf, at="2022-01-01", half_life_days=p.half_life_days)
    # the old 30-day half-life left nearly nothing of 8 years of incidents
    old = hotspots.incident_weights(gdf, at="2022-01-01", half_life_days=30)
    assert w.sum() > 0.1 * len(gdf)
    assert w.sum() > 10 * old.sum()
    hot, _ = hotspots.find_hotspots(gdf, w, eps_m=p.eps_m, min_weight=p.min_weight)
    assert len(hot) > 0
    assert (hot["active_hours"] == "").all()
    assert (hot["peak_hour"] == -1).all()
    assert any("time of day" in s for s in hotspots.data_warnings(gdf, w, hot))


def test_date_only_dates_switch_the_shift_profile_off(tmp_path):
    gdf = _toronto(tmp_path, "date")
    p = hotspots.auto_params(gdf, at="2022-01-01")
    assert p.time_precision == "date"
    assert not p.shift_profile
    assert 14 <= p.half_life_days <= 365


def test_auto_params_on_minute_data(arrests):
    p = hotspots.auto_params(arrests, at="2017-10-01")
    assert p.time_precision == "datetime"
    assert p.shift_profile
    assert p.half_life_days == pytest.approx((pd_days(arrests, "2017-10-01")) / 4, abs=1)
    assert p.train_days >= 28
    assert 50 <= p.cell_m <= 250
    assert 40 <= p.eps_m <= 120


def pd_days(gdf, at):
    import pandas as pd

    return (pd.Timestamp(at) - gdf["datetime"].quantile(0.01)).total_seconds() / 86400


def test_warning_when_little_recent_data(city):
    w = hotspots.incident_weights(city, at="2016-12-01", half_life_days=14)
    hot, _ = hotspots.find_hotspots(city, w)
    lines = hotspots.data_warnings(city, w, hot, at="2016-12-01")
    assert any("days older than the plan date" in s for s in lines)


def test_empty_training_window_weighs_nothing(city):
    empty = city.iloc[:0]
    w = hotspots.incident_weights(empty, at="2016-06-10")
    assert w.empty
    assert w.dtype == float
    assert hotspots.cluster_incidents(empty, w).empty


def test_active_hours_are_stated_from_enough_timed_incidents_and_hold_three_quarters(tmp_path):
    import pandas as pd

    df = pd.read_csv(f"{DATA}/toronto/toronto_mci_downtown.csv")
    gdf = _frame_to_gdf(df, tmp_path, "toronto.csv")
    at = pd.Timestamp("2022-01-01")
    w = hotspots.incident_weights(gdf, at=at, half_life_days=365)
    hot, labels = hotspots.find_hotspots(gdf, w, eps_m=80, min_weight=3)
    hours = gdf["datetime"].dt.hour
    stated = 0
    for row in hot.itertuples():
        mine = labels[labels == row.cluster].index
        if len(mine) < hotspots.ACTIVE_MIN_TIMED:
            # three incidents at 22:10, 22:40 and 23:05 say nothing of the quiet hours
            assert row.active_hours == ""
            continue
        stated += 1
        a, b = (int(x) for x in row.active_hours.split("-"))
        length = (b - a) % 24 or 24
        per_hour = w[mine].groupby(hours[mine]).sum().reindex(range(24), fill_value=0.0)
        inside = sum(per_hour[(a + k) % 24] for k in range(length))
        assert inside >= hotspots.ACTIVE_SHARE * per_hour.sum() - 1e-9
        # and no shorter run holds as much
        shorter = max(sum(per_hour[(s + k) % 24] for k in range(length - 1)) for s in range(24))
        assert shorter < hotspots.ACTIVE_SHARE * per_hour.sum() - 1e-9
        assert per_hour.idxmax() == row.peak_hour
    assert stated >= 5


def test_top_categories_are_the_most_frequent_with_their_counts(tmp_path):
    import pandas as pd

    df = pd.read_csv(f"{DATA}/toronto/toronto_mci_downtown.csv")
    gdf = _frame_to_gdf(df, tmp_path, "toronto.csv")
    w = hotspots.incident_weights(gdf, at=pd.Timestamp("2022-01-01"), half_life_days=365)
    hot, labels = hotspots.find_hotspots(gdf, w, eps_m=80, min_weight=3)
    assert len(hot) >= 5
    for row in hot.itertuples():
        counts = gdf.loc[labels[labels == row.cluster].index, "category"].value_counts()
        shown = [part.rsplit(" ", 1) for part in row.top_categories.split(", ")]
        numbers = [int(n) for _c, n in shown]
        # in the order the counts say, each count true, none more frequent left out
        assert numbers == sorted(numbers, reverse=True)
        assert all(counts[c] == int(n) for c, n in shown)
        assert numbers[0] == counts.max()
        assert len(shown) == min(3, len(counts))


def test_hotspots_of_one_or_two_incidents_are_called_chance():
    from patrolplan import datasets, ingest

    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    gdf = gdf[gdf["datetime"] >= "2016-06-12"]  # the last week
    w = hotspots.incident_weights(gdf, at="2016-06-19", half_life_days=14)
    # the least weight of one incident: most places found hold one or two
    loose, _ = hotspots.find_hotspots(gdf, w, eps_m=60, min_weight=float(w.median()))
    thin = int((loose["n_incidents"] <= 2).sum())
    assert thin > len(loose) / 2
    lines = hotspots.data_warnings(gdf, w, loose, at="2016-06-19")
    assert f"{thin} of {len(loose)} hotspots hold 2 incidents or fewer" in " ".join(lines)
    # places of three incidents and more are not
    firm = loose[loose["n_incidents"] >= 3]
    assert not any("2 incidents or fewer" in x for x in hotspots.data_warnings(gdf, w, firm))
