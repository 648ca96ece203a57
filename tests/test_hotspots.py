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
    honest = backtest.run(city, train_days=7, test_days=2, cell_m=150)
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
