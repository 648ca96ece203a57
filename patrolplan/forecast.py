"""Forecast next period's incidents per grid cell from multi-scale lagged counts.

A gradient-boosted regression (scikit-learn ``HistGradientBoostingRegressor``, Poisson loss)
learns, from the district's own past, how the counts of the next `horizon_days` in a cell
follow from the counts before: over the last week, month, quarter and year
(:data:`LAGS_DAYS`), in the cell itself and in its 3 x 3 and 7 x 7 neighbourhoods
(:data:`SCALES`), plus the share of the cell's incidents that fell in the shift's hours. This
is the multi-scale lagged-count model of the crime-forecasting literature (e.g. the NIJ
Real-Time Crime Forecasting Challenge entries); it is meant to beat last period's counts on
long histories, and :mod:`patrolplan.backtest` shows whether it does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import ndimage

if TYPE_CHECKING:
    import geopandas as gpd

    from patrolplan.backtest import Grid

#: Look-back windows of the lagged counts, days.
LAGS_DAYS = (7, 28, 91, 365)
#: Neighbourhood widths of the lagged counts, cells.
SCALES = (1, 3, 7)


def _cell_index(gdf: gpd.GeoDataFrame, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    geom = gdf.geometry if grid.crs is None else gdf.geometry.to_crs(grid.crs)
    ix = np.floor((geom.x.to_numpy() - grid.x0) / grid.cell_m).astype(np.int64)
    iy = np.floor((geom.y.to_numpy() - grid.y0) / grid.cell_m).astype(np.int64)
    ok = (ix >= 0) & (iy >= 0) & (ix < grid.shape[0]) & (iy < grid.shape[1])
    return np.where(ok, ix * grid.shape[1] + iy, -1), ok


def _features(
    age: np.ndarray, cell: np.ndarray, in_shift: np.ndarray, grid: Grid, inside: np.ndarray
) -> np.ndarray:
    """Lagged multi-scale counts (and shift share) of each inside cell; `age` in days."""
    n = grid.shape[0] * grid.shape[1]
    cols = []
    for lag in LAGS_DAYS:
        sel = (age >= 0) & (age < lag) & (cell >= 0)
        counts = np.bincount(cell[sel], minlength=n).reshape(grid.shape).astype(float)
        for s in SCALES:
            smooth = ndimage.uniform_filter(counts, size=s, mode="constant") * s * s
            cols.append(smooth[inside])
    sel = (age >= 0) & (age < LAGS_DAYS[-1]) & (cell >= 0)
    allc = np.bincount(cell[sel], minlength=n).reshape(grid.shape).astype(float)
    shift = np.bincount(cell[sel & in_shift], minlength=n).reshape(grid.shape).astype(float)
    near_all = ndimage.uniform_filter(allc, size=3, mode="constant")
    near_shift = ndimage.uniform_filter(shift, size=3, mode="constant")
    share = np.divide(near_shift, near_all, out=np.zeros_like(near_all), where=near_all > 0)
    cols.append(share[inside])
    return np.column_stack(cols)


def gbm_cell_forecast(
    history: gpd.GeoDataFrame,
    grid: Grid,
    *,
    until: pd.Timestamp,
    horizon_days: float = 7.0,
    in_shift: pd.Series | None = None,
    n_anchors: int = 12,
    seed: int = 0,
) -> np.ndarray:
    """Forecast the incidents of each grid cell in the `horizon_days` after `until`.

    The model is fitted on `n_anchors` past periods (the `horizon_days` after ``until - k *
    horizon_days``, each with the features of the incidents before it) and then predicts
    the coming period from the features at `until`.

    Parameters
    ----------
    history
        Incidents before `until` (with ``datetime``).
    grid
        The study grid (:func:`patrolplan.backtest.study_grid`).
    until
        Start of the period to forecast.
    horizon_days
        Length of the period.
    in_shift
        Per incident, whether it fell in the shift's hours; default none did.
    n_anchors
        Past periods to learn from.
    seed
        Seed of the model.

    Returns
    -------
    numpy.ndarray
        Expected count per cell, shape ``grid.shape`` (0 outside the study area).
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    out = np.zeros(grid.shape)
    dated = history[history["datetime"].notna() & (history["datetime"] < until)]
    if dated.empty:
        return out
    cell, _ = _cell_index(dated, grid)
    days = ((until - dated["datetime"]).dt.total_seconds() / 86400.0).to_numpy()
    shift = (
        np.zeros(len(dated), dtype=bool)
        if in_shift is None
        else in_shift.reindex(dated.index).fillna(False).to_numpy(dtype=bool)
    )
    inside = grid.inside
    n = grid.shape[0] * grid.shape[1]
    X, y = [], []
    for k in range(1, n_anchors + 1):
        anchor = k * horizon_days  # days before `until`
        if anchor + 7 > days.max():
            break
        target_sel = (days < anchor) & (days >= anchor - horizon_days) & (cell >= 0)
        target = np.bincount(cell[target_sel], minlength=n).reshape(grid.shape)[inside]
        X.append(_features(days - anchor, cell, shift, grid, inside))
        y.append(target.astype(float))
    if not X or sum(float(t.sum()) for t in y) == 0:
        # too little history to learn from: last period's counts
        recent = (days < horizon_days) & (cell >= 0)
        out.ravel()[:] = np.bincount(cell[recent], minlength=n).astype(float)
        return out
    model = HistGradientBoostingRegressor(
        loss="poisson",
        max_iter=100,
        learning_rate=0.1,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        early_stopping=False,
        random_state=seed,
    )
    model.fit(np.vstack(X), np.concatenate(y))
    out[inside] = model.predict(_features(days, cell, shift, grid, inside))
    return out
