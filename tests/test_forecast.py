"""The cell forecast, its features, risk terrain and the auto choice on long histories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from patrolplan import backtest, datasets, forecast, hotspots, ingest, terrain
from patrolplan._errors import InputDataError
from patrolplan.grid import study_grid

DATA = "tests/data"


@pytest.fixture(scope="module")
def downtown():
    gdf, _ = ingest.read_incidents(f"{DATA}/toronto/toronto_mci_downtown.csv")
    return gdf


@pytest.fixture(scope="module")
def arrests(tmp_path_factory):
    raw = pd.read_csv(f"{DATA}/baltimore/baltimore_arrests_2017_extract.csv", dtype=str)
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
    path = tmp_path_factory.mktemp("arrests") / "arrests.csv"
    df.to_csv(path, index=False)
    gdf, _ = ingest.read_incidents(path)
    return gdf


def test_near_repeat_sums_decayed_recent_incidents_within_the_radius():
    xy = np.array([[0.0, 0.0], [150.0, 0.0], [0.0, 390.0], [10.0, 10.0]])
    age = np.array([0.5, 3.0, 1.0, 20.0])  # the last one is older than the 14-day cut-off
    centres = np.array([[0.0, 0.0], [300.0, 0.0], [0.0, 1000.0]])
    got = forecast.near_repeat(xy, age, centres, radius_m=200.0, tau_days=2.0)
    # by hand: centre 0 sees incidents 0 (0 m) and 1 (150 m); centre 1 sees incident 1 (150 m)
    assert got[0] == pytest.approx(np.exp(-0.25) + np.exp(-1.5))
    assert got[1] == pytest.approx(np.exp(-1.5))
    assert got[2] == 0.0
    wide = forecast.near_repeat(xy, age, centres, radius_m=400.0, tau_days=2.0)
    assert wide[0] == pytest.approx(np.exp(-0.25) + np.exp(-1.5) + np.exp(-0.5))


def test_features_see_only_the_past(downtown):
    grid = study_grid(downtown, cell_m=50.0, reach_m=100.0)
    fc = forecast.CellForecaster(downtown, grid, horizon_days=7.0)
    origin = pd.Timestamp("2019-06-03")
    f = fc.features(origin)
    assert f.shape[0] == int(grid.inside.sum())
    # the cell's own 7-day count is the first column: it equals the week before the origin
    week = downtown[(downtown["datetime"] >= origin - pd.Timedelta(days=7))]
    week = week[week["datetime"] < origin]
    assert f[:, 0].sum() == pytest.approx(len(week))
    later = downtown[downtown["datetime"] < origin]
    again = forecast.CellForecaster(later, grid, horizon_days=7.0).features(origin)
    np.testing.assert_allclose(again, f)


def test_forecast_beats_28_day_counts_on_held_out_toronto_periods(downtown):
    # trained only on what came before each origin; tested on 2019-2021
    grid = study_grid(downtown[downtown["datetime"] < "2019-01-01"], cell_m=50.0, reach_m=100.0)
    fc = forecast.CellForecaster(downtown, grid, horizon_days=28.0)
    rng = np.random.default_rng(0)
    pai: dict[str, list[float]] = {"forecast": [], "prior_28d": [], "prior_365d": []}
    for t0 in pd.date_range("2019-01-01", "2021-11-01", freq="84D"):
        test = np.zeros(grid.shape)
        test[grid.inside] = fc.target(t0)
        scores = {
            "forecast": fc.predict(t0),
            "prior_28d": fc._grid_counts(fc._window(t0.value, 0.0, 28.0)),
            "prior_365d": fc._grid_counts(fc._window(t0.value, 0.0, 365.0)),
        }
        for name, s in scores.items():
            (m,) = backtest._area_metrics(s, test, grid.inside, rng, (0.10,))
            pai[name].append(m["pai"])
    mean = {k: float(np.mean(v)) for k, v in pai.items()}
    assert len(pai["forecast"]) == 13
    assert mean["forecast"] > 1.2 * mean["prior_28d"]
    assert mean["forecast"] > 0.9 * mean["prior_365d"]


def test_unknown_model_is_refused(downtown):
    grid = study_grid(downtown, cell_m=100.0)
    with pytest.raises(InputDataError, match="`svm`"):
        forecast.CellForecaster(downtown, grid, model="svm")


def test_terrain_reads_the_baltimore_extracts_signals_stops_and_roads():
    places = terrain.read_places(datasets.baltimore_osm())
    kinds = places["kind"].value_counts()
    # a routing-test extract: streets and their furniture, no bars or shops
    assert kinds["signals"] >= 300
    assert kinds["transit"] >= 10
    named_roads = places.loc[places["kind"] == "major_road", "name"]
    assert (named_roads != "").sum() >= 1000
    assert "North Charles Street" in set(named_roads) or "Pratt Street" in " ".join(
        set(named_roads)
    )
    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    grid = study_grid(gdf, cell_m=200.0)
    feats, names = terrain.cell_features(places, grid)
    assert feats.shape == (grid.shape[0] * grid.shape[1], len(names))
    signals = feats[:, names.index("n_signals_200m")]
    dist = feats[:, names.index("dist_signals_m")]
    assert signals.max() >= 3
    # a cell with a signal within 200 m of its centre is less than 200 m from the nearest
    assert (dist[signals > 0] <= 200.0).all()
    assert (dist[signals == 0] > 200.0).all()


def test_forecast_hotspots_has_the_shape_of_find_hotspots(arrests):
    at = "2017-10-01 18:00"
    past = arrests[arrests["datetime"] < at]
    w = hotspots.incident_weights(past, at=at, shift_start_hour=18, shift_length_h=4)
    ref, _ = hotspots.find_hotspots(past, w, method="peaks")
    hot, labels = forecast.forecast_hotspots(
        past,
        w,
        at=at,
        shift_start_hour=18,
        shift_length_h=4,
        max_hotspots=15,
        max_size_m=150.0,
        osm=datasets.baltimore_osm(),
    )
    assert list(hot.columns) == list(ref.columns)
    assert hot.crs == ref.crs
    assert len(hot) == 15
    assert hot["risk"].is_monotonic_decreasing
    assert list(hot["rank"]) == list(range(1, 16))
    assert (hot["size_m"] <= 150.0 + 1e-6).all()
    assert labels.index.equals(past.index)
    # every labelled incident lies in its hotspot's polygon
    poly = dict(zip(hot["cluster"], hot.geometry, strict=True))
    for idx in labels[labels >= 0].index[:200]:
        assert shapely.covers(poly[int(labels[idx])].buffer(1e-9), past.geometry[idx])
    assert set(labels[labels >= 0]) == set(hot["cluster"])


def test_choose_method_compares_methods_on_the_long_arrests_history(arrests, tmp_path):
    choice = backtest.choose_method(
        arrests,
        at="2017-12-01 18:00",
        shift_start_hour=18,
        shift_length_h=4,
        cache_dir=tmp_path,
        n_windows=8,
    )
    assert choice.backtested
    table = choice.table.set_index("candidate")
    assert {"forecast", "counts 28 d", "counts 365 d", "peaks"} <= set(table.index)
    assert (table["windows"] >= 6).all()
    assert choice.table["hit_rate"].is_monotonic_decreasing
    fc, counts = table.loc["forecast", "hit_rate"], table.loc[table["method"] == "counts"]
    wins = fc >= (1 + backtest.FORECAST_MARGIN) * counts["hit_rate"].max()
    wins = wins and fc >= table.loc[table["method"] != "counts", "hit_rate"].max()
    assert (choice.method == "forecast") == bool(wins)
    assert "forecast" in choice.reason


def test_choose_method_compares_on_eight_sparse_years_instead_of_refusing(downtown, tmp_path):
    # about 1.5 incidents a week in the evening shift: 7-day periods never hold 5, so the
    # periods grow (to 56 days here) and the history is backtested
    choice = backtest.choose_method(
        downtown,
        at="2021-06-01 18:00",
        shift_start_hour=18,
        shift_length_h=4,
        cache_dir=tmp_path,
        n_windows=8,
    )
    assert choice.backtested
    assert "56 days" in choice.reason
    table = choice.table.set_index("candidate")
    assert (table["windows"] >= 6).all()
    assert {"forecast", "counts 28 d", "counts 90 d", "counts 365 d"} <= set(table.index)
    # a year's counts beat the last 28 days' on the same area
    assert table.loc["counts 365 d", "hit_rate"] > table.loc["counts 28 d", "hit_rate"]
