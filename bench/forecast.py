"""Rolling-origin area evaluation of the cell forecast against counts, KDE and micro-places.

For each test period (``--horizon`` days, one every ``--step`` days through the test years)
every method ranks the cells of the data's grid from the incidents before the period only;
the top 1 % and 5 % of the study area are then checked against the period's incidents (in
the shift's hours with ``--shift``): capture rate (hit rate) and PAI. The forecast is fitted
on the periods before each origin (refitted every ``--refit`` days, never on test data).
Intervals: 95 % bootstrap over test periods (paired, 2,000 resamples) of the ratio of mean
PAI to each baseline's.

    python bench/forecast.py toronto --years 2019-2021
    python bench/forecast.py toronto --years 2017-2018 --variants   # settings, in-sample
    python bench/forecast.py arrests --years 2017-2017 --start 2017-04-01 --shift 18:4
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).parent))

import realdata

from patrolplan import backtest, forecast, hotspots, ingest, terrain
from patrolplan.grid import Grid, study_grid

SHARED = Path("/work/shared/data")
FRACTIONS = (0.01, 0.05)


def load(kind: str, path: Path | None) -> gpd.GeoDataFrame:
    """Ingest the Toronto MCI file or the Baltimore arrests (inside the demo extract)."""
    if kind == "arrests":
        df = realdata.arrests_frame(path or SHARED / "baltimore" / "baltimore_arrests_2017.csv")
    else:
        df = pd.read_csv(path or SHARED / "toronto" / "toronto_mci_2014-2021.csv")
        df = df[df["datetime"] >= "2014-01-01"].reset_index(drop=True)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "incidents.csv"
        df.to_csv(csv, index=False)
        gdf, _ = ingest.read_incidents(csv)
    return hotspots.add_xy_m(gdf)


def counts(fc: forecast.CellForecaster, t0: pd.Timestamp, days: float) -> np.ndarray:
    return fc._grid_counts(fc._window(int(t0.value), 0.0, days))


def evaluate(
    gdf: gpd.GeoDataFrame,
    grid: Grid,
    origins: list[pd.Timestamp],
    *,
    horizon: float,
    shift: tuple[float, float] | None,
    refit_days: float,
    micro: bool,
    variants: dict[str, dict[str, object]],
    seed: int = 0,
) -> pd.DataFrame:
    start, length = shift if shift else (None, None)
    fcs = {
        name: forecast.CellForecaster(
            gdf,
            grid,
            horizon_days=horizon,
            shift_start_hour=start,
            shift_length_h=length,
            seed=seed,
            **kw,  # type: ignore[arg-type]
        )
        for name, kw in variants.items()
    }
    base = next(iter(fcs.values()))
    rng = np.random.default_rng(seed)
    rows = []
    last_fit: pd.Timestamp | None = None
    p = hotspots.auto_params(gdf[gdf["datetime"] < origins[0]], at=origins[0])
    for t0 in origins:
        refit = last_fit is None or (t0 - last_fit).days >= refit_days
        if refit:
            last_fit = t0
        test = np.zeros(grid.shape)
        test[grid.inside] = base.target(t0)
        scores: dict[str, np.ndarray] = {}
        tic = time.perf_counter()
        for name, fc in fcs.items():
            scores[name] = fc.predict(t0, refit=refit)
        fit_s = time.perf_counter() - tic
        for d in (28, 90, 365):
            scores[f"prior_{d}d"] = counts(base, t0, d)
        if shift:
            sl = base._window(int(t0.value), 0.0, 365.0)
            scores["prior_365d_shift"] = base._grid_counts(sl, base._shift)
        scores["kde_365d"] = ndimage.gaussian_filter(
            counts(base, t0, 365), sigma=150.0 / grid.cell_m, mode="constant"
        )
        if micro:
            train = gdf[(gdf["datetime"] >= t0 - pd.Timedelta(days=365)) & (gdf["datetime"] < t0)]
            w = hotspots.incident_weights(
                train,
                at=t0,
                half_life_days=p.half_life_days,
                shift_start_hour=start,
                shift_length_h=length,
            )
            for m in ("peaks", "dbscan"):
                scores[m] = backtest.AREA_METHODS[m](train, w, grid)
        scores["random"] = rng.random(grid.shape)
        for name, s in scores.items():
            for m in backtest._area_metrics(s, test, grid.inside, rng, FRACTIONS):
                rows.append(
                    {
                        "origin": t0.date().isoformat(),
                        "n_test": float(test.sum()),
                        "method": name,
                        **m,
                    }
                )
        print(
            f"  {t0.date()}: {int(test.sum())} test incidents, fit+predict {fit_s:.1f} s"
            f"{' (refit)' if refit else ''}",
            flush=True,
        )
    return pd.DataFrame(rows)


def boot_ratio(a: np.ndarray, b: np.ndarray, n: int = 2000, seed: int = 0) -> tuple[float, ...]:
    """Ratio of means a/b and its 95 % paired bootstrap interval over periods."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), (n, len(a)))
    r = a[idx].mean(axis=1) / b[idx].mean(axis=1)
    return float(a.mean() / b.mean()), float(np.quantile(r, 0.025)), float(np.quantile(r, 0.975))


def report(res: pd.DataFrame, ref: str) -> None:
    for f in FRACTIONS:
        sub = res[res["fraction"] == f]
        table = (
            sub.groupby("method")[["hit_rate", "pai"]].mean().sort_values("pai", ascending=False)
        )
        piv = sub.pivot(index="origin", columns="method", values="pai")
        print(f"\n{f:.0%} of the area ({piv.shape[0]} test periods):\n")
        print("| method | capture rate | PAI | PAI / best count baseline [95 % CI] |")
        print("| --- | --- | --- | --- |")
        priors = [c for c in piv.columns if c.startswith("prior_")]
        best_prior = max(priors, key=lambda c: float(piv[c].mean()))
        for m, row in table.iterrows():
            r, lo, hi = boot_ratio(piv[m].to_numpy(), piv[best_prior].to_numpy())
            print(
                f"| {m} | {row['hit_rate']:.1%} | {row['pai']:.2f} | {r:.3f} [{lo:.3f}, {hi:.3f}] |"
            )
        print(f"(best count baseline: {best_prior})")
        for m in piv.columns:
            if m.startswith("forecast"):
                for b in priors:
                    r, lo, hi = boot_ratio(piv[m].to_numpy(), piv[b].to_numpy())
                    print(f"  {m} / {b}: {r:.3f} [{lo:.3f}, {hi:.3f}]")
    del ref


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data", choices=["toronto", "arrests"])
    ap.add_argument("--file", type=Path, default=None, help="data file (default the shared one)")
    ap.add_argument("--years", default="2019-2021", help="test years, e.g. 2019-2021")
    ap.add_argument("--start", default=None, help="first test origin (default 1 Jan)")
    ap.add_argument("--horizon", type=float, default=7.0, help="test period, days")
    ap.add_argument("--step", type=float, default=28.0, help="days between test origins")
    ap.add_argument("--refit", type=float, default=84.0, help="refit the model every N days")
    ap.add_argument("--shift", default=None, help="START:HOURS, e.g. 18:4")
    ap.add_argument("--cell", type=float, default=None, help="cell size (default auto_params)")
    ap.add_argument("--micro", action="store_true", help="also peaks and dbscan micro-places")
    ap.add_argument("--variants", action="store_true", help="compare forecast settings")
    ap.add_argument("--osm", type=Path, default=None, help="OSM extract: a terrain variant")
    ap.add_argument("--csv", type=Path, default=None, help="write per-period rows here")
    args = ap.parse_args()
    tic = time.perf_counter()
    gdf = load(args.data, args.file)
    y0, y1 = (int(v) for v in args.years.split("-"))
    first = pd.Timestamp(args.start or f"{y0}-01-01")
    last = pd.Timestamp(f"{y1 + 1}-01-01") - pd.Timedelta(days=args.horizon)
    last = min(last, gdf["datetime"].max().normalize() + pd.Timedelta(days=1 - args.horizon))
    gdf = gdf[gdf["datetime"] < last + pd.Timedelta(days=args.horizon)]
    origins = list(pd.date_range(first, last, freq=pd.Timedelta(days=args.step)))
    p = hotspots.auto_params(gdf[gdf["datetime"] < first], at=first)
    cell = args.cell or p.cell_m
    grid = study_grid(gdf[gdf["datetime"] < first], cell_m=cell)
    shift = None
    if args.shift:
        a, b = args.shift.split(":")
        shift = (float(a), float(b))
    variants: dict[str, dict[str, object]] = {"forecast": {}}
    if args.variants:
        variants = {
            "forecast": {},
            "forecast_gbm": {"model": "gbm"},
        }
        if args.osm:
            variants["forecast_terrain"] = {"terrain": terrain.read_places(args.osm)}
    print(
        f"{args.data}: {len(gdf):,} incidents, grid {cell:g} m, {int(grid.inside.sum()):,} "
        f"cells inside; {len(origins)} test periods of {args.horizon:g} days from {first.date()} "
        f"to {last.date()}; shift {args.shift or 'all day'}"
    )
    res = evaluate(
        gdf,
        grid,
        origins,
        horizon=args.horizon,
        shift=shift,
        refit_days=args.refit,
        micro=args.micro,
        variants=variants,
    )
    if args.csv:
        res.to_csv(args.csv, index=False)
    print(f"\nmean test incidents per period: {res.groupby('origin')['n_test'].first().mean():.1f}")
    report(res, "prior_365d")
    print(f"\ntotal {time.perf_counter() - tic:.0f} s")


if __name__ == "__main__":
    main()
