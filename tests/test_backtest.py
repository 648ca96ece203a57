"""Backtests and the auto method choice on long real histories (issue 13)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from patrolplan import backtest, datasets, hotspots, ingest

DATA = "tests/data"


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


def test_backtest_survives_empty_training_windows(arrests):
    # a gap of 4 months: some 90-day training windows hold nothing
    gap = arrests[(arrests["datetime"] < "2017-03-01") | (arrests["datetime"] >= "2017-07-01")]
    names = ("dbscan", "peaks", "forecast", "prior_counts")
    res = backtest.run(
        gap,
        train_days=14,
        test_days=28,
        cell_m=150,
        methods={k: backtest.AREA_METHODS[k] for k in names},
    )
    assert res["window"].max() > 5
    assert set(names) <= set(res["method"])


def test_forecast_and_micro_places_beat_random_on_the_arrests(arrests):
    recent = arrests[arrests["datetime"] >= "2017-04-01"]
    res = backtest.run(
        recent,
        train_days=120,
        test_days=28,
        cell_m=150,
        shift_start_hour=18,
        shift_length_h=4,
        methods={k: backtest.AREA_METHODS[k] for k in ("forecast", "peaks", "prior_counts")},
    )
    table = backtest.summary(res).set_index(["unit", "fraction", "method"])
    for m in ("forecast", "peaks"):
        assert table.loc[("area", 0.05, m), "pai"] > 3 * table.loc[("area", 0.05, "random"), "pai"]


def test_segment_backtest_scores_the_routers_raw_risk(G):
    gdf, _ = ingest.read_incidents(
        datasets.baltimore_crimes(), area=__import__("patrolplan").graph.graph_area(G)
    )
    res = backtest.run(gdf, G=G, train_days=7, test_days=2, methods={})
    methods = set(res.loc[res["unit"] == "length", "method"])
    assert {"segment_risk", "segment_smoothed"} <= methods


def test_choose_method_on_the_arrests_is_fast_and_cached(arrests, tmp_path):
    choice = backtest.choose_method(
        arrests, at="2017-10-01 18:00", shift_start_hour=18, shift_length_h=4, cache_dir=tmp_path
    )
    assert choice.backtested
    assert choice.method in (*hotspots.METHODS, "forecast")
    # three micro-place methods, three count baselines and the forecast (behaviour changed
    # on purpose: auto now compares the forecast and counts too)
    assert len(choice.table) == 7
    assert choice.table["hit_rate"].is_monotonic_decreasing
    assert choice.table["hit_rate"].iloc[0] > 0.1
    assert "half_life_days" in choice.params
    table = choice.table.set_index("candidate")
    micro = table[table["method"].isin(hotspots.METHODS)]
    counts = table[table["method"] == "counts"]
    fc = table.loc["forecast", "hit_rate"]
    forecast_wins = fc >= 1.1 * counts["hit_rate"].max() and fc >= micro["hit_rate"].max()
    assert (choice.method == "forecast") == bool(forecast_wins)
    if not forecast_wins:
        # the default (peaks) is kept unless another micro-place method caught 10 % more
        best, peaks = micro["hit_rate"].max(), micro.loc["peaks", "hit_rate"]
        assert (choice.method == "peaks") == (best < 1.1 * peaks)
    # the choice is cached per data and parameters: the second call reads it
    (cached,) = (tmp_path / "method_choice").glob("*.json")
    doc = json.loads(cached.read_text())
    cached.write_text(json.dumps({**doc, "reason": "from the cache"}))
    again = backtest.choose_method(
        arrests, at="2017-10-01 18:00", shift_start_hour=18, shift_length_h=4, cache_dir=tmp_path
    )
    assert again.reason == "from the cache"
    assert (again.method, again.params) == (choice.method, choice.params)


def test_choose_method_falls_back_on_short_history(tmp_path):
    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    near = gdf[
        gdf.geometry.y.between(39.2586, 39.3065) & gdf.geometry.x.between(-76.6081, -76.5288)
    ]
    choice = backtest.choose_method(
        near, at="2016-06-19 18:00", shift_start_hour=18, shift_length_h=4, cache_dir=tmp_path
    )
    assert not choice.backtested
    assert choice.method == backtest.FALLBACK_METHOD
    assert "too short" in choice.reason
    assert np.isfinite(choice.params["eps_m"])


def test_default_training_window_leaves_room_for_the_windows_asked(arrests):
    # a year of arrests: the data's own training window is the whole span, so no test window fit
    auto = hotspots.auto_params(arrests)
    fit = backtest.fit_windows(
        arrests, test_days=7, windows=12, preferred_train_days=auto.train_days
    )
    assert auto.train_days + 7 > fit.span_days == 413
    assert (fit.train_days, fit.windows, fit.note) == (413 - 12 * 7, 12, "")
    res = backtest.run(
        arrests,
        train_days=fit.train_days,
        test_days=7,
        max_windows=fit.windows,
        cell_m=150,
        methods={"prior_counts": backtest.AREA_METHODS["prior_counts"]},
    )
    assert res["window"].nunique() == 12
    assert res["train_start"].min() == "2017-01-01"
    # a training window fixed by the user is kept, and the error names what to change
    assert backtest.fit_windows(arrests, test_days=7, windows=12, train_days=400).windows == 1
    with pytest.raises(ValueError, match="so that the two add up to at most 413"):
        backtest.fit_windows(arrests, test_days=7, windows=12, train_days=410)


def test_backtest_command_on_a_short_history_takes_the_windows_that_fit(tmp_path):
    from typer.testing import CliRunner

    from patrolplan.cli import app

    def run(*args):
        return CliRunner().invoke(app, ["backtest", "--out", str(tmp_path / "bt.csv"), *args])

    crimes = str(datasets.baltimore_crimes())
    # 18 days of crimes: 12 windows of 7 days do not fit, one does
    ok = run("--incidents", crimes, "--cell", "150", "-q")
    assert ok.exit_code == 0, ok.output
    assert "only 1 of 12 windows of 7 test days fits the data span 2016-06-01 to" in ok.stdout
    assert "1 window of 11 + 7 days" in ok.stdout
    bad = run("--incidents", crimes, "--test-days", "14", "-q")
    assert bad.exit_code == 1
    assert "give --test-days N with N at most 11, or --train-days N" in bad.stderr
