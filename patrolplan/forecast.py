"""Forecast next period's incidents per grid cell from the district's own history.

A Poisson regression (scikit-learn ``PoissonRegressor`` on the log of the features, or with
``model="gbm"`` a gradient-boosted ``HistGradientBoostingRegressor`` with Poisson loss) learns,
by rolling origin on the district's own past, how the incidents of the next `horizon_days` in a
cell (in the shift's hours when incidents have a time of day) follow from what came before:

* lagged counts over the last 7, 28, 90, 365 and 730 days (:data:`LAGS_DAYS`), in the cell and
  its 3 x 3 and 7 x 7 neighbourhoods (:data:`SCALES`): the multi-scale lagged-count model of
  the crime-forecasting literature (e.g. the NIJ Real-Time Crime Forecasting Challenge);
* near repeats (:data:`NEAR_REPEAT`): exponentially decayed counts of the incidents of the last
  :data:`NEAR_REPEAT_DAYS` days within a radius, as the triggering term of self-exciting point
  process models (Mohler et al. 2011) and the near-repeat effect (Johnson and Bowers 2004);
* the place's time-of-day and day-of-week profile: the share of its (3 x 3) incidents of the
  last year in the shift's hours and on the period's weekdays, and its count in the shift;
* optionally risk terrain from the OSM extract (:mod:`patrolplan.terrain`).

:class:`CellForecaster` keeps the features of each origin, so a backtest over many periods
computes each origin's features once. :func:`forecast_hotspots` turns the forecast into ranked
places with the output of :func:`patrolplan.hotspots.find_hotspots`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import ndimage

from patrolplan._errors import InputDataError
from patrolplan.grid import Grid, study_grid
from patrolplan.i18n import _
from patrolplan.utils import log

if TYPE_CHECKING:
    import geopandas as gpd

#: Look-back windows of the lagged counts, days.
LAGS_DAYS = (7, 28, 90, 365, 730)
#: Neighbourhood widths of the lagged counts, cells.
SCALES = (1, 3, 7)
#: Near-repeat terms: (radius in metres, decay time in days) of the decayed recent counts.
NEAR_REPEAT = ((200.0, 2.0), (400.0, 7.0))
#: Incidents younger than this feed the near-repeat terms, days.
NEAR_REPEAT_DAYS = 14.0
#: Past periods the model learns from, and their spacing (days; default the horizon).
N_ANCHORS = 12
ANCHOR_STEP_DAYS: float | None = 28.0
#: Cells with no incident in the last two years (and none in the period) enter the fit at
#: this rate, with the inverse weight: large sparse grids stay quick.
EMPTY_SAMPLE = 0.05
#: The regression: ``glm`` (Poisson GLM on the log of the features) or ``gbm`` (gradient-boosted
#: trees, Poisson loss). Chosen on Toronto 2017-2018 and the 2017 Baltimore arrests: the two
#: tie on Toronto (PAI at 1 %: 32.6 and 32.5), the GLM is far ahead on the sparse arrests and
#: fits several times faster (bench/RESULTS_forecast.md).
MODEL = "glm"

_NS_PER_DAY = 86400e9


def in_shift(gdf: gpd.GeoDataFrame, start_hour: float, length_h: float) -> pd.Series:
    """Whether each incident's time of day falls in the shift (False without a time).

    Parameters
    ----------
    gdf
        Incidents with ``datetime`` (and ``time_precision``).
    start_hour, length_h
        The shift.

    Returns
    -------
    pandas.Series
        Boolean, same index as `gdf`.
    """
    timed = gdf["datetime"].notna()
    if "time_precision" in gdf:
        timed &= gdf["time_precision"].eq("datetime")
    hours = gdf["datetime"].dt.hour + gdf["datetime"].dt.minute / 60.0
    rel = (hours - start_hour) % 24
    return (timed & (rel < length_h)).astype(bool)


def near_repeat(
    xy: np.ndarray,
    age_days: np.ndarray,
    centres: np.ndarray,
    *,
    radius_m: float,
    tau_days: float,
    max_days: float = NEAR_REPEAT_DAYS,
) -> np.ndarray:
    """Sum ``exp(-age / tau_days)`` of the recent incidents within `radius_m` of each centre.

    Parameters
    ----------
    xy
        Incident coordinates in metres, shape ``(n, 2)``.
    age_days
        Age of each incident at the forecast origin, days; only ``0 <= age < max_days`` count.
    centres
        Points to score (cell centres), metres, shape ``(m, 2)``.
    radius_m, tau_days, max_days
        Reach, decay time and cut-off of the term.

    Returns
    -------
    numpy.ndarray
        One value per centre.

    Examples
    --------
    >>> xy = np.array([[0.0, 0.0], [150.0, 0.0]])
    >>> centres = np.array([[0.0, 0.0], [300.0, 0.0]])
    >>> near_repeat(xy, np.array([0.0, 2.0]), centres, radius_m=200, tau_days=2).round(3).tolist()
    [1.368, 0.368]
    """
    from scipy.spatial import cKDTree

    out = np.zeros(len(centres))
    sel = (age_days >= 0) & (age_days < max_days)
    if not sel.any() or len(centres) == 0:
        return out
    tree = cKDTree(centres)
    w = np.exp(-age_days[sel] / tau_days)
    for weight, hits in zip(w, tree.query_ball_point(xy[sel], r=radius_m), strict=True):
        out[hits] += weight
    return out


class CellForecaster:
    """Fit and apply the cell forecast on one district's history by rolling origin.

    Parameters
    ----------
    gdf_incidents
        Incidents with ``datetime`` (rows without one are ignored).
    grid
        The study grid (:func:`patrolplan.grid.study_grid`).
    horizon_days
        Length of the period forecast.
    shift_start_hour, shift_length_h
        The shift: the target counts only incidents in its hours (when the data have times of
        day), and the profile features are taken for it. Default the whole day.
    terrain
        Places from :func:`patrolplan.terrain.read_places`, or None.
    n_anchors, anchor_step_days
        Past periods to learn from and their spacing (default `horizon_days`).
    model
        ``gbm`` or ``glm`` (:data:`MODEL`).
    seed
        Seed of the model and of the sampling of empty cells.
    """

    def __init__(
        self,
        gdf_incidents: gpd.GeoDataFrame,
        grid: Grid,
        *,
        horizon_days: float = 7.0,
        shift_start_hour: float | None = None,
        shift_length_h: float | None = None,
        terrain: pd.DataFrame | None = None,
        n_anchors: int = N_ANCHORS,
        anchor_step_days: float | None = ANCHOR_STEP_DAYS,
        model: str = MODEL,
        seed: int = 0,
    ) -> None:
        from patrolplan import hotspots

        if model not in ("gbm", "glm"):
            msg = _("unknown forecast model `{model}`: expected gbm or glm").format(model=model)
            raise InputDataError(msg)
        self.model_kind = model

        dated = gdf_incidents[gdf_incidents["datetime"].notna()]
        order = np.argsort(dated["datetime"].to_numpy(dtype="datetime64[ns]"), kind="stable")
        dated = dated.iloc[order]
        self.grid = grid
        self.horizon_days = float(horizon_days)
        self.n_anchors = int(n_anchors)
        self.anchor_step_days = float(anchor_step_days or horizon_days)
        self.seed = seed
        self._t = dated["datetime"].to_numpy(dtype="datetime64[ns]").view(np.int64)
        self._xy = hotspots._xy_m(dated) if len(dated) else np.zeros((0, 2))
        if grid.crs is not None and len(dated) and hotspots.metric_crs(dated) != grid.crs:
            geom = dated.geometry.to_crs(grid.crs)
            self._xy = np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])
        self._cell = grid.cell_of(self._xy)
        self._weekday = dated["datetime"].dt.day_of_week.to_numpy()
        shift = shift_start_hour is not None and shift_length_h is not None
        timed = (
            bool(dated["time_precision"].eq("datetime").mean() >= 0.5)
            if "time_precision" in dated and len(dated)
            else len(dated) > 0
        )
        self.shift_target = shift and timed
        self._shift = (
            in_shift(dated, float(shift_start_hour or 0), float(shift_length_h or 24)).to_numpy()
            if self.shift_target
            else np.ones(len(dated), dtype=bool)
        )
        self._inside = grid.inside.ravel()
        self._centres = grid.centres()[self._inside]
        self._terrain: np.ndarray | None = None
        if terrain is not None:
            from patrolplan import terrain as _terrain

            feats, _names = _terrain.cell_features(terrain, grid)
            self._terrain = feats[self._inside]
        self._features: dict[int, np.ndarray] = {}
        self.model: Any = None

    def _window(self, origin: int, lo_days: float, hi_days: float) -> slice:
        """Incidents with ``origin - hi_days <= t < origin - lo_days`` (sorted times)."""
        a = np.searchsorted(self._t, origin - hi_days * _NS_PER_DAY, side="left")
        b = np.searchsorted(self._t, origin - lo_days * _NS_PER_DAY, side="left")
        return slice(int(a), int(b))

    def _grid_counts(self, sl: slice, mask: np.ndarray | None = None) -> np.ndarray:
        cell = self._cell[sl]
        keep = cell >= 0
        if mask is not None:
            keep &= mask[sl]
        n = self.grid.shape[0] * self.grid.shape[1]
        return np.bincount(cell[keep], minlength=n).reshape(self.grid.shape).astype(float)

    def features(self, origin: pd.Timestamp) -> np.ndarray:
        """Features of every inside cell at `origin`, from the incidents before it."""
        key = int(pd.Timestamp(origin).value)
        if key in self._features:
            return self._features[key]
        inside = self.grid.inside
        cols: list[np.ndarray] = []
        for lag in LAGS_DAYS:
            counts = self._grid_counts(self._window(key, 0.0, lag))
            for s in SCALES:
                box = ndimage.uniform_filter(counts, size=s, mode="constant") * s * s
                cols.append(box[inside])
        # the place's time-of-day and day-of-week profile over the last year (3 x 3 cells)
        year = self._window(key, 0.0, 365.0)
        alln = ndimage.uniform_filter(self._grid_counts(year), size=3, mode="constant")
        shift = ndimage.uniform_filter(
            self._grid_counts(year, self._shift), size=3, mode="constant"
        )
        start = pd.Timestamp(key)
        days = {(start + pd.Timedelta(days=d)).day_of_week for d in range(int(self.horizon_days))}
        on_days = np.isin(self._weekday, sorted(days or {start.day_of_week}))
        week = ndimage.uniform_filter(self._grid_counts(year, on_days), size=3, mode="constant")
        for part in (shift, week):
            share = np.divide(part, alln, out=np.zeros_like(alln), where=alln > 0)
            cols.append(share[inside])
        cols.append(self._grid_counts(year, self._shift)[inside])
        # near repeats: recent incidents nearby, decayed
        recent = self._window(key, 0.0, NEAR_REPEAT_DAYS)
        age = (key - self._t[recent]) / _NS_PER_DAY
        for radius_m, tau in NEAR_REPEAT:
            cols.append(
                near_repeat(self._xy[recent], age, self._centres, radius_m=radius_m, tau_days=tau)
            )
        # box filters leave rounding noise around zero
        out: np.ndarray = np.maximum(np.column_stack(cols), 0.0)
        if self._terrain is not None:
            out = np.column_stack([out, self._terrain])
        self._features[key] = out
        return out

    def target(self, origin: pd.Timestamp) -> np.ndarray:
        """Incidents (in the shift's hours) of each inside cell in the period from `origin`."""
        key = int(pd.Timestamp(origin).value)
        sl = self._window(key, -self.horizon_days, 0.0)
        return np.asarray(self._grid_counts(sl, self._shift)[self.grid.inside])

    def fit(self, until: pd.Timestamp) -> bool:
        """Fit the model on the periods that end by `until`; False when there is too little."""
        from sklearn.ensemble import HistGradientBoostingRegressor

        until = pd.Timestamp(until)
        if len(self._t) == 0:
            return False
        first = pd.Timestamp(int(self._t[0]))
        rng = np.random.default_rng(self.seed)
        X, y, w = [], [], []
        step = pd.Timedelta(days=self.anchor_step_days)
        anchor = until - pd.Timedelta(days=self.horizon_days)
        for _k in range(self.n_anchors):
            if anchor - first < pd.Timedelta(days=7):
                break
            f = self.features(anchor)
            t = self.target(anchor)
            # the cell's own count of the last two years: cells without incidents are sampled
            busy = (f[:, LAGS_DAYS.index(730) * len(SCALES)] > 0) | (t > 0)
            keep = busy | (rng.random(len(t)) < EMPTY_SAMPLE)
            X.append(f[keep])
            y.append(t[keep])
            w.append(np.where(busy[keep], 1.0, 1.0 / EMPTY_SAMPLE))
            anchor -= step
        if not X or float(sum(v.sum() for v in y)) == 0:
            self.model = None
            return False
        Xa, ya, wa = np.vstack(X), np.concatenate(y), np.concatenate(w)
        model: Any
        if self.model_kind == "glm":
            from sklearn.linear_model import PoissonRegressor
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import FunctionTransformer, StandardScaler

            model = make_pipeline(
                FunctionTransformer(np.log1p),
                StandardScaler(),
                PoissonRegressor(alpha=1e-4, max_iter=300),
            )
            model.fit(Xa, ya, poissonregressor__sample_weight=wa)
        else:
            model = HistGradientBoostingRegressor(
                loss="poisson",
                max_iter=100,
                learning_rate=0.1,
                max_leaf_nodes=15,
                min_samples_leaf=50,
                l2_regularization=1.0,
                early_stopping=False,
                random_state=self.seed,
            )
            # weights only where cells were sampled: weighted binning is slow in scikit-learn
            model.fit(Xa, ya, sample_weight=None if bool(np.all(wa == 1.0)) else wa)
        self.model = model
        return True

    def predict(self, until: pd.Timestamp, *, refit: bool = True) -> np.ndarray:
        """Forecast the incidents of each cell in the `horizon_days` from `until`.

        Parameters
        ----------
        until
            Start of the period; only incidents before it are used.
        refit
            Fit on the periods before `until` first (else reuse the last fit).

        Returns
        -------
        numpy.ndarray
            Expected count per cell, shape ``grid.shape`` (0 outside the study area). With
            too little history to learn from: the counts of the last year, in the shift.
        """
        until = pd.Timestamp(until)
        out = np.zeros(self.grid.shape)
        fitted = self.fit(until) if refit or self.model is None else True
        if not fitted or self.model is None:
            sl = self._window(int(until.value), 0.0, 365.0)
            return np.asarray(self._grid_counts(sl, self._shift) * self.grid.inside)
        out[self.grid.inside] = self.model.predict(self.features(until))
        return out


def gbm_cell_forecast(
    history: gpd.GeoDataFrame,
    grid: Grid,
    *,
    until: pd.Timestamp,
    horizon_days: float = 7.0,
    shift_start_hour: float | None = None,
    shift_length_h: float | None = None,
    terrain: pd.DataFrame | None = None,
    n_anchors: int = N_ANCHORS,
    seed: int = 0,
) -> np.ndarray:
    """Forecast the incidents of each grid cell in the `horizon_days` after `until`.

    Parameters
    ----------
    history
        Incidents (only those before `until` are used).
    grid
        The study grid (:func:`patrolplan.grid.study_grid`).
    until
        Start of the period to forecast.
    horizon_days
        Length of the period.
    shift_start_hour, shift_length_h
        The shift; default the whole day.
    terrain
        Places from :func:`patrolplan.terrain.read_places`, or None.
    n_anchors
        Past periods to learn from.
    seed
        Seed of the model.

    Returns
    -------
    numpy.ndarray
        Expected count per cell, shape ``grid.shape`` (0 outside the study area).
    """
    until = pd.Timestamp(until)
    past = history[history["datetime"].notna() & (history["datetime"] < until)]
    fc = CellForecaster(
        past,
        grid,
        horizon_days=horizon_days,
        shift_start_hour=shift_start_hour,
        shift_length_h=shift_length_h,
        terrain=terrain,
        n_anchors=n_anchors,
        seed=seed,
    )
    return fc.predict(until)


def forecast_hotspots(
    gdf_incidents: gpd.GeoDataFrame,
    weights: pd.Series,
    *,
    at: str | pd.Timestamp,
    shift_start_hour: float | None = None,
    shift_length_h: float | None = None,
    max_hotspots: int | None = 20,
    max_size_m: float | None = None,
    osm: str | Path | None = None,
    seed: int = 0,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Find the places the forecast expects the most incidents in, as ranked hotspots.

    The cells of the data's own grid (:func:`patrolplan.hotspots.auto_params` ``cell_m``) are
    forecast for the 7 days from `at`, in the shift's hours; the riskiest cells that hold past
    incidents become hotspots: each polygon is the place of the cell's incidents (their hull
    buffered 25 m, within `max_size_m`), each ``risk`` the cell's forecast (expected
    incidents in the shift over the 7 days) and ``share`` its part of the whole forecast.

    Parameters
    ----------
    gdf_incidents
        Incidents from ingest (only those before `at` are used to forecast).
    weights
        Weight per incident (only ranks categories inside each hotspot).
    at
        Start of the shift planned.
    shift_start_hour, shift_length_h
        The shift; default the whole day.
    max_hotspots
        Hotspots to return; default all cells with incidents and a forecast.
    max_size_m
        Largest hotspot, metres across (default 150 m).
    osm
        An OSM extract whose places (:mod:`patrolplan.terrain`) become features; optional.
    seed
        Seed of the model.

    Returns
    -------
    tuple
        ``(gdf_hotspots, labels)`` exactly as :func:`patrolplan.hotspots.find_hotspots`
        returns them; ``labels`` maps each incident in a chosen cell to its hotspot's
        ``cluster`` (-1 = none).
    """
    from patrolplan import hotspots
    from patrolplan import terrain as _terrain

    at_ts = pd.Timestamp(at)
    size = hotspots.DEFAULT_MAX_SIZE_M if max_size_m is None else float(max_size_m)
    dated = gdf_incidents["datetime"].notna() & (gdf_incidents["datetime"] < at_ts)
    past = gdf_incidents[dated]
    labels = pd.Series(-1, index=gdf_incidents.index, name="cluster", dtype=np.int64)
    if past.empty:
        return hotspots.hotspots_from_labels(
            gdf_incidents, weights, labels, max_size_m=size
        ), labels
    p = hotspots.auto_params(past, at=at_ts, max_size_m=size)
    # a cell must fit in the size bound: its diagonal is cell_m * sqrt(2)
    cell_m = min(p.cell_m, size / np.sqrt(2.0))
    grid = study_grid(past, cell_m=cell_m)
    places = _terrain.read_places(osm) if osm is not None else None
    fc = CellForecaster(
        past,
        grid,
        shift_start_hour=shift_start_hour,
        shift_length_h=shift_length_h,
        terrain=places,
        seed=seed,
    )
    pred = fc.predict(at_ts).ravel()
    cell = grid.cell_of(hotspots._xy_m(past))
    held = np.zeros(len(pred), dtype=bool)
    held[cell[cell >= 0]] = True
    cand = np.flatnonzero(held & (pred > 0))
    ranked = cand[np.lexsort((cand, -pred[cand]))]
    if max_hotspots is not None:
        ranked = ranked[:max_hotspots]
    label_of = np.full(len(pred), -1, dtype=np.int64)
    label_of[ranked] = np.arange(len(ranked))
    past_labels = np.where(cell >= 0, label_of[np.maximum(cell, 0)], -1)
    labels.loc[past.index] = past_labels
    gdf_hot = hotspots.hotspots_from_labels(
        gdf_incidents, weights, labels, buffer_m=25.0, max_size_m=size
    )
    if len(gdf_hot):
        risk = pred[ranked][gdf_hot["cluster"].to_numpy()]
        total = float(pred.sum()) or 1.0
        gdf_hot["risk"] = risk
        gdf_hot["share"] = risk / total
        gdf_hot = gdf_hot.sort_values(["risk", "cluster"], ascending=[False, True])
        gdf_hot = gdf_hot.reset_index(drop=True)
        gdf_hot["rank"] = np.arange(1, len(gdf_hot) + 1)
        gdf_hot["hotspot_id"] = [f"H{r:03d}" for r in gdf_hot["rank"]]
    log(
        _("Forecast: {n} hotspots, {expected} incidents expected in them over 7 days").format(
            n=len(gdf_hot), expected=f"{float(gdf_hot['risk'].sum()) if len(gdf_hot) else 0:.1f}"
        )
    )
    return gdf_hot, labels
