"""Backtest hotspot methods on rolling train/test windows: hit rate, PAI and PEI*.

For each window, every method scores grid cells (area) or street segments (length) from the
training incidents only; the top 1 %, 5 % and 10 % of the area (or street length) are then
checked against the incidents of the following test days:

* hit rate: share of test incidents inside the selection;
* PAI (predictive accuracy index, Chainey et al. 2008): hit rate / share of area (or length);
* PEI* (Hunt 2016): hits / the most hits any selection of the same size could have had.

Baselines are ``prior_counts`` (last period's raw counts, unsmoothed) and ``random``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import ndimage

from patrolplan import graph as _graph
from patrolplan import hotspots
from patrolplan._errors import InputDataError
from patrolplan.utils import log

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx

FRACTIONS = (0.01, 0.05, 0.10)


@dataclass(frozen=True)
class Grid:
    """The study area as square cells of a metric grid.

    Attributes
    ----------
    x0, y0
        Lower-left corner in the metric CRS.
    cell_m
        Cell size.
    shape
        ``(nx, ny)``.
    inside
        Boolean ``(nx, ny)``: cells that belong to the study area.
    crs
        The metric CRS.
    """

    x0: float
    y0: float
    cell_m: float
    shape: tuple[int, int]
    inside: np.ndarray
    crs: object

    def counts(self, gdf: gpd.GeoDataFrame, weights: pd.Series | None = None) -> np.ndarray:
        """Sum (weighted) incidents per cell."""
        if gdf.empty:
            return np.zeros(self.shape)
        grid, _, _ = hotspots.grid_counts(
            gdf,
            weights,
            cell_m=self.cell_m,
            origin=(self.x0, self.y0),
            shape=self.shape,
            crs=self.crs,
        )
        return grid


def study_grid(
    gdf_incidents: gpd.GeoDataFrame, *, cell_m: float = 100.0, reach_m: float = 500.0
) -> Grid:
    """Grid the study area: every cell within `reach_m` of some incident.

    A convex hull would be stretched by a single stray point (the Baltimore data has one in
    Pennsylvania); cells near incidents are not.

    Parameters
    ----------
    gdf_incidents
        All incidents of the backtest.
    cell_m
        Cell size in metres.
    reach_m
        How far from an incident a cell still belongs to the study area.

    Returns
    -------
    Grid
        The grid.
    """
    crs = hotspots.metric_crs(gdf_incidents)
    geom = gdf_incidents.geometry if crs is None else gdf_incidents.geometry.to_crs(crs)
    xy = np.column_stack([geom.x, geom.y])
    x0, y0 = xy.min(axis=0) - reach_m - cell_m
    x1, y1 = xy.max(axis=0) + reach_m + cell_m
    shape = (int(np.ceil((x1 - x0) / cell_m)), int(np.ceil((y1 - y0) / cell_m)))
    grid = Grid(float(x0), float(y0), cell_m, shape, np.ones(shape, dtype=bool), crs)
    occupied = grid.counts(gdf_incidents) > 0
    r = int(np.ceil(reach_m / cell_m))
    disk = np.hypot(*np.mgrid[-r : r + 1, -r : r + 1]) <= r
    inside = ndimage.binary_dilation(occupied, structure=disk)
    return Grid(float(x0), float(y0), cell_m, shape, inside, crs)


AreaScorer = Callable[["gpd.GeoDataFrame", pd.Series, Grid], np.ndarray]


def _kde(train: gpd.GeoDataFrame, w: pd.Series, grid: Grid) -> np.ndarray:
    return np.asarray(
        ndimage.gaussian_filter(grid.counts(train, w), sigma=150.0 / grid.cell_m, mode="constant")
    )


def _gi(train: gpd.GeoDataFrame, w: pd.Series, grid: Grid) -> np.ndarray:
    return hotspots.gi_star(grid.counts(train, w), radius_cells=1)


def _dbscan(train: gpd.GeoDataFrame, w: pd.Series, grid: Grid) -> np.ndarray:
    labels = hotspots.cluster_incidents(train, w)
    inside = labels >= 0
    return grid.counts(train[inside], w[inside])


def _prior(train: gpd.GeoDataFrame, w: pd.Series, grid: Grid) -> np.ndarray:
    return grid.counts(train)


AREA_METHODS: dict[str, AreaScorer] = {
    "kde": _kde,
    "gi_star": _gi,
    "dbscan": _dbscan,
    "prior_counts": _prior,
}
SEGMENT_METHODS = ("segment_risk", "prior_counts", "random")


def _area_metrics(
    score: np.ndarray,
    test: np.ndarray,
    inside: np.ndarray,
    rng: np.random.Generator,
    fractions: Sequence[float],
) -> list[dict[str, float]]:
    s = score[inside]
    t = test[inside]
    # random jitter far below any score difference breaks ties reproducibly
    order = np.lexsort((rng.random(len(s)), -s))
    best = np.sort(t)[::-1]
    total = t.sum()
    out = []
    for f in fractions:
        k = max(1, int(np.ceil(f * len(s))))
        hits = t[order[:k]].sum()
        out.append(
            {
                "fraction": f,
                "hit_rate": hits / total if total else np.nan,
                "pai": (hits / total) / (k / len(s)) if total else np.nan,
                "pei_star": hits / best[:k].sum() if best[:k].sum() else np.nan,
            }
        )
    return out


def _length_metrics(
    score: np.ndarray,
    test: np.ndarray,
    length: np.ndarray,
    rng: np.random.Generator,
    fractions: Sequence[float],
) -> list[dict[str, float]]:
    total_len, total = length.sum(), test.sum()
    order = np.lexsort((rng.random(len(score)), -score / length))
    ideal = np.lexsort((rng.random(len(score)), -test / length))
    out = []
    for f in fractions:
        budget = f * total_len

        def take(o: np.ndarray, budget: float = budget) -> tuple[float, float]:
            cum = np.cumsum(length[o])
            k = max(1, int(np.searchsorted(cum, budget)) + 1)
            return float(test[o[:k]].sum()), float(cum[min(k, len(cum)) - 1])

        hits, used = take(order)
        best, _ = take(ideal)
        out.append(
            {
                "fraction": f,
                "hit_rate": hits / total if total else np.nan,
                "pai": (hits / total) / (used / total_len) if total else np.nan,
                "pei_star": hits / best if best else np.nan,
            }
        )
    return out


def run(
    gdf_incidents: gpd.GeoDataFrame,
    *,
    G: nx.MultiDiGraph | None = None,
    train_days: int = 90,
    test_days: int = 7,
    step_days: int | None = None,
    cell_m: float = 100.0,
    fractions: Sequence[float] = FRACTIONS,
    methods: Mapping[str, AreaScorer] | None = None,
    half_life_days: float | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Backtest hotspot methods on rolling windows.

    Parameters
    ----------
    gdf_incidents
        Incidents with ``datetime``, ``severity`` and ``layer`` (from ingest).
    G
        Walking graph; when given, segment methods are scored by street length too (only
        incidents within 60 m of a street count).
    train_days, test_days
        Length of each training and test window.
    step_days
        Shift between windows; default `test_days`.
    cell_m
        Grid cell size.
    fractions
        Shares of area (and street length) to select.
    methods
        Area methods by name; default :data:`AREA_METHODS`. ``random`` is always added.
        A scorer gets ``(train, weights, grid)`` and returns a score per grid cell.
    half_life_days
        Recency half-life of the training weights.
    seed
        Seed of the random baseline and of tie-breaking.

    Returns
    -------
    pandas.DataFrame
        One row per window, method, unit (``area`` or ``length``) and fraction: ``window``,
        ``train_start``, ``test_start``, ``method``, ``unit``, ``fraction``, ``n_test``,
        ``hit_rate``, ``pai``, ``pei_star``.

    Raises
    ------
    InputDataError
        If the data span is shorter than one train plus test window.
    """
    timed = gdf_incidents[gdf_incidents["datetime"].notna()]
    start, end = timed["datetime"].min().normalize(), timed["datetime"].max()
    step = pd.Timedelta(days=step_days or test_days)
    train_td, test_td = pd.Timedelta(days=train_days), pd.Timedelta(days=test_days)
    if start + train_td + test_td > end + pd.Timedelta(days=1):
        msg = (
            f"the data span {start:%Y-%m-%d} to {end:%Y-%m-%d} is shorter than one window "
            f"of {train_days} training and {test_days} test days"
        )
        raise InputDataError(msg)
    grid = study_grid(timed, cell_m=cell_m)
    methods = dict(AREA_METHODS if methods is None else methods)
    rng = np.random.default_rng(seed)
    if G is not None:
        snapped = _graph.snap_to_edges(G, timed)
        segs = _graph.edges_gdf(G)
        seg_index = pd.MultiIndex.from_arrays([segs["u"], segs["v"]])
        length = segs["length"].to_numpy(dtype=float)
    rows = []
    t0, window = start + train_td, 0
    while t0 + test_td <= end + pd.Timedelta(days=1):
        window += 1
        train = timed[(timed["datetime"] >= t0 - train_td) & (timed["datetime"] < t0)]
        test = timed[(timed["datetime"] >= t0) & (timed["datetime"] < t0 + test_td)]
        w = hotspots.incident_weights(train, at=t0, half_life_days=half_life_days)
        test_grid = grid.counts(test)
        base = {
            "window": window,
            "train_start": (t0 - train_td).date().isoformat(),
            "test_start": t0.date().isoformat(),
            "n_test": len(test),
        }
        scores = {name: f(train, w, grid) for name, f in methods.items()}
        scores["random"] = rng.random(grid.shape)
        for name, score in scores.items():
            for m in _area_metrics(score, test_grid, grid.inside, rng, fractions):
                rows.append({**base, "method": name, "unit": "area", **m})
        if G is not None:

            def per_segment(idx: pd.Index) -> np.ndarray:
                ones = pd.Series(1.0, index=idx)
                sums = _graph.segment_totals(snapped.loc[idx], ones)["sum"]
                return np.asarray(sums.reindex(seg_index).fillna(0).to_numpy(), dtype=float)

            test_seg = per_segment(test.index)
            seg_scores = {
                "segment_risk": _graph.segment_risk(G, snapped.loc[train.index], w)[
                    "smoothed"
                ].to_numpy(),
                "prior_counts": per_segment(train.index),
                "random": rng.random(len(length)),
            }
            for name, score in seg_scores.items():
                for m in _length_metrics(score, test_seg, length, rng, fractions):
                    rows.append({**base, "method": name, "unit": "length", **m})
        t0 += step
    out = pd.DataFrame(rows)
    log(
        f"Backtest: {window} windows of {train_days} + {test_days} days, "
        f"{out['method'].nunique()} methods"
    )
    return out


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """Average the backtest over windows.

    Parameters
    ----------
    results
        From :func:`run`.

    Returns
    -------
    pandas.DataFrame
        Mean ``hit_rate``, ``pai`` and ``pei_star`` per ``unit``, ``method`` and ``fraction``,
        best PAI first within each unit and fraction.
    """
    table = (
        results.groupby(["unit", "fraction", "method"], as_index=False)[
            ["hit_rate", "pai", "pei_star"]
        ]
        .mean()
        .round(4)
    )
    return table.sort_values(
        ["unit", "fraction", "pai"], ascending=[True, True, False], kind="stable"
    ).reset_index(drop=True)
