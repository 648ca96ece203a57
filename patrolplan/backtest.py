"""Backtest hotspot methods on rolling train/test windows: hit rate, PAI and PEI*.

For each window, every method scores grid cells (area) or street segments (length) from the
training incidents only; the top 1 %, 5 % and 10 % of the area (or street length) are then
checked against the incidents of the following test days:

* hit rate: share of test incidents inside the selection;
* PAI (predictive accuracy index, Chainey et al. 2008): hit rate / share of area (or length);
* PEI* (Hunt 2016): hits / the most hits any selection of the same size could have had.

Baselines are ``prior_counts`` (last period's raw counts, unsmoothed) and ``random``. The
hotspot methods the plan uses (``dbscan``, ``peaks``, ``hdbscan``: bounded micro-places) score a
cell by the weight of the hotspot incidents in it; ``forecast`` is the gradient-boosted
multi-scale lagged-count model of :mod:`patrolplan.forecast`. Street segments are scored by the
raw risk the router uses (``segment_risk``) and by its network-smoothed form.

:func:`choose_method` runs a short rolling backtest on a district's own history, in the shift's
hours, and picks the hotspot method (and its main parameter) for ``method="auto"``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from patrolplan import forecast, hotspots, settings, terrain
from patrolplan import graph as _graph
from patrolplan._errors import InputDataError
from patrolplan._progress import Progress
from patrolplan.grid import Grid, study_grid
from patrolplan.i18n import _, format_number, format_percent, get_language, ngettext
from patrolplan.methods import HOTSPOT_METHODS
from patrolplan.utils import atomic_write_text, file_sha256, log

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx

FRACTIONS = (0.01, 0.05, 0.10)


AreaScorer = Callable[["gpd.GeoDataFrame", pd.Series, Grid], np.ndarray]


def _kde(train: gpd.GeoDataFrame, w: pd.Series, grid: Grid) -> np.ndarray:
    return np.asarray(
        ndimage.gaussian_filter(grid.counts(train, w), sigma=150.0 / grid.cell_m, mode="constant")
    )


def _gi(train: gpd.GeoDataFrame, w: pd.Series, grid: Grid) -> np.ndarray:
    return hotspots.gi_star(grid.counts(train, w), radius_cells=1)


def _micro(method: str) -> AreaScorer:
    """Score cells by the weight of the incidents a hotspot method puts in micro-places."""

    def score(train: gpd.GeoDataFrame, w: pd.Series, grid: Grid) -> np.ndarray:
        if train.empty:
            return np.zeros(grid.shape)
        labels = hotspots.cluster_incidents(train, w, method=method)
        inside = labels >= 0
        # raw weight far below any hotspot's breaks ties outside the hotspots
        return grid.counts(train[inside], w[inside]) + 1e-6 * grid.counts(train, w)

    return score


def _forecast(train: gpd.GeoDataFrame, w: pd.Series, grid: Grid) -> np.ndarray:
    until = train.attrs.get("until")
    if until is None:
        until = train["datetime"].max().normalize() + pd.Timedelta(days=1)
    start, length = train.attrs.get("shift_start_hour"), train.attrs.get("shift_length_h")
    return forecast.gbm_cell_forecast(
        train,
        grid,
        until=pd.Timestamp(until),
        horizon_days=float(train.attrs.get("horizon_days", 7.0)),
        shift_start_hour=None if start is None else float(start),
        shift_length_h=None if length is None else float(length),
    )


def _in_shift(gdf: gpd.GeoDataFrame, start_hour: float, length_h: float) -> pd.Series:
    """Whether each incident's time of day falls in the shift (False without a time)."""
    return forecast.in_shift(gdf, start_hour, length_h)


def _prior(train: gpd.GeoDataFrame, w: pd.Series, grid: Grid) -> np.ndarray:
    return grid.counts(train)


AREA_METHODS: dict[str, AreaScorer] = {
    "kde": _kde,
    "gi_star": _gi,
    "dbscan": _micro("dbscan"),
    "peaks": _micro("peaks"),
    "hdbscan": _micro("hdbscan"),
    "forecast": _forecast,
    "prior_counts": _prior,
}
SEGMENT_METHODS = ("segment_risk", "segment_smoothed", "prior_counts", "random")


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
        best, _taken = take(ideal)
        out.append(
            {
                "fraction": f,
                "hit_rate": hits / total if total else np.nan,
                "pai": (hits / total) / (used / total_len) if total else np.nan,
                "pei_star": hits / best if best else np.nan,
            }
        )
    return out


MIN_TRAIN_DAYS = 7
"""Shortest training window a derived backtest window gets (as :func:`choose_method`)."""


@dataclass(frozen=True)
class WindowFit:
    """Training days and windows that fit a data span, from :func:`fit_windows`.

    Attributes
    ----------
    train_days
        Training days per window.
    windows
        Windows that fit (at most those asked).
    span_days
        Days from the first dated incident's day to the last one's, both included.
    note
        One line when fewer windows fit than were asked, else empty.
    """

    train_days: int
    windows: int
    span_days: int
    note: str = ""


def _span(gdf_incidents: gpd.GeoDataFrame) -> tuple[pd.Timestamp, pd.Timestamp, int]:
    """First day, last incident and whole days from one to the other, as :func:`run` counts."""
    when = gdf_incidents["datetime"].dropna()
    if when.empty:
        msg = _("no incident has a date: a backtest needs dated incidents")
        raise InputDataError(msg)
    start, end = when.min().normalize(), when.max()
    return start, end, int((end.normalize() + pd.Timedelta(days=1) - start).days)


def fit_windows(
    gdf_incidents: gpd.GeoDataFrame,
    *,
    test_days: int,
    windows: int,
    train_days: int | None = None,
    preferred_train_days: int | None = None,
) -> WindowFit:
    """Choose the training window so that the test windows asked fit in the data's span.

    Given `train_days`, it is kept and the windows that fit are counted. Otherwise the
    training window is `preferred_train_days` (default: all the span can spare), shortened to
    leave room for `windows` test windows of `test_days` each; when even
    :data:`MIN_TRAIN_DAYS` training days leave no room for them all, as many windows as fit
    are taken (at least one) and the note says so.

    Parameters
    ----------
    gdf_incidents
        Incidents with ``datetime``.
    test_days
        Length of each test window (windows roll by it).
    windows
        Test windows asked.
    train_days
        Training window fixed by the user, or None to derive it.
    preferred_train_days
        Training window wanted when the span has room (e.g. from
        :func:`patrolplan.hotspots.auto_params`).

    Returns
    -------
    WindowFit
        Training days, windows that fit and a note.

    Raises
    ------
    InputDataError
        If not one window fits; the message names the option to change.

    Examples
    --------
    >>> from patrolplan import datasets, ingest
    >>> gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    >>> fit = fit_windows(gdf, test_days=7, windows=12, preferred_train_days=28)
    >>> fit.span_days, fit.train_days, fit.windows
    (18, 11, 1)
    """
    start, end, span = _span(gdf_incidents)
    dates = {"start": f"{start:%Y-%m-%d}", "end": f"{end:%Y-%m-%d}", "span": span}
    if train_days is not None:
        fit = (span - train_days) // test_days
        if fit < 1:
            msg = _(
                "the data span {start} to {end} ({span} days) is shorter than one window of "
                "{train_days} training and {test_days} test days: give --train-days N or "
                "--test-days N so that the two add up to at most {span}"
            ).format(**dates, train_days=train_days, test_days=test_days)
            raise InputDataError(msg)
        return WindowFit(train_days, min(windows, fit), span)
    room = span - windows * test_days
    preferred = preferred_train_days if preferred_train_days is not None else room
    if room >= MIN_TRAIN_DAYS:
        return WindowFit(min(preferred, room), windows, span)
    fit = (span - MIN_TRAIN_DAYS) // test_days
    if fit < 1:
        msg = _(
            "the data span {start} to {end} ({span} days) is shorter than one window of "
            "{min_train} training and {test_days} test days: give --test-days N with N at "
            "most {most}, or --train-days N"
        ).format(
            **dates,
            min_train=MIN_TRAIN_DAYS,
            test_days=test_days,
            most=max(1, span - MIN_TRAIN_DAYS),
        )
        raise InputDataError(msg)
    train = max(MIN_TRAIN_DAYS, min(preferred, span - fit * test_days))
    note = ngettext(
        "only {fit} of {windows} windows of {test_days} test days fits the data span {start} "
        "to {end} ({span} days): {train} training days (give --train-days or --test-days to "
        "change)",
        "only {fit} of {windows} windows of {test_days} test days fit the data span {start} "
        "to {end} ({span} days): {train} training days (give --train-days or --test-days to "
        "change)",
        fit,
    ).format(
        **dates,
        fit=format_number(fit),
        windows=format_number(windows),
        test_days=format_number(test_days),
        train=format_number(train),
    )
    return WindowFit(train, fit, span, note)


def run(
    gdf_incidents: gpd.GeoDataFrame,
    *,
    G: nx.MultiDiGraph | None = None,
    train_days: int = 90,
    test_days: int = 7,
    step_days: int | None = None,
    max_windows: int | None = 12,
    cell_m: float = 100.0,
    fractions: Sequence[float] = FRACTIONS,
    methods: Mapping[str, AreaScorer] | None = None,
    half_life_days: float | None = None,
    shift_start_hour: float | None = None,
    shift_length_h: float | None = None,
    seed: int = 0,
    progress: bool | None = None,
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
    max_windows
        Score only the latest this many windows (a long history otherwise gives hundreds);
        None for all.
    cell_m
        Grid cell size.
    fractions
        Shares of area (and street length) to select.
    methods
        Area methods by name; default :data:`AREA_METHODS`. ``random`` is always added.
        A scorer gets ``(train, weights, grid)`` and returns a score per grid cell.
    half_life_days
        Recency half-life of the training weights.
    shift_start_hour, shift_length_h
        A shift: training incidents are weighed by its hours and only test incidents with a
        time of day inside it count (those without one count too when no incident has one).
        Default: the whole day.
    seed
        Seed of the random baseline and of tie-breaking.
    progress
        Show the windows scored and the time left: True a bar on standard error, False
        nothing, None a bar on a terminal and else a log line about every tenth of the
        windows. The rows are the same either way.

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
    if timed.empty:
        msg = _("no incident has a date: a backtest needs dated incidents")
        raise InputDataError(msg)
    shift = shift_start_hour is not None and shift_length_h is not None
    counted = pd.Series(True, index=timed.index)
    if shift and timed["time_precision"].eq("datetime").any():
        counted = _in_shift(timed, float(shift_start_hour or 0), float(shift_length_h or 24))
    start, end, _days = _span(timed)
    step = pd.Timedelta(days=step_days or test_days)
    train_td, test_td = pd.Timedelta(days=train_days), pd.Timedelta(days=test_days)
    if start + train_td + test_td > end + pd.Timedelta(days=1):
        # the same message, with the fix, as when the command checks first
        fit_windows(timed, test_days=test_days, windows=1, train_days=train_days)
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
    # the latest `max_windows` windows: skip the earlier ones whole
    n_all = int((end + pd.Timedelta(days=1) - test_td - t0) / step) + 1
    if max_windows is not None and n_all > max_windows:
        t0 = t0 + (n_all - max_windows) * step
    n_run = n_all if max_windows is None else min(n_all, max_windows)
    # one unit per window; the bar never touches the random draws or the rows
    with Progress(
        n_run,
        what=_("Backtest"),
        unit=ngettext("window", "windows", 1),
        units=ngettext("window", "windows", n_run),
        show=progress,
    ) as bar:
        while t0 + test_td <= end + pd.Timedelta(days=1):
            window += 1
            train = timed[(timed["datetime"] >= t0 - train_td) & (timed["datetime"] < t0)]
            test = timed[(timed["datetime"] >= t0) & (timed["datetime"] < t0 + test_td)]
            test = test[counted.reindex(test.index).to_numpy(dtype=bool)]
            w = hotspots.incident_weights(
                train,
                at=t0,
                half_life_days=half_life_days,
                shift_start_hour=shift_start_hour if shift else None,
                shift_length_h=shift_length_h if shift else None,
            )
            train = train.copy()
            train.attrs.update(
                until=t0,
                horizon_days=float(test_days),
                shift_start_hour=shift_start_hour if shift else None,
                shift_length_h=shift_length_h if shift else None,
            )
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
                # the router picks streets by the raw segment risk; the smoothed form for comparison
                segs_now = _graph.segment_risk(G, snapped.loc[train.index], w)
                seg_scores = {
                    "segment_risk": segs_now["risk"].to_numpy(dtype=float),
                    "segment_smoothed": segs_now["smoothed"].to_numpy(dtype=float),
                    "prior_counts": per_segment(train.index),
                    "random": rng.random(len(length)),
                }
                for name, score in seg_scores.items():
                    for m in _length_metrics(score, test_seg, length, rng, fractions):
                        rows.append({**base, "method": name, "unit": "length", **m})
            bar.update(note=t0.date().isoformat())
            t0 += step
    out = pd.DataFrame(rows)
    log(
        _("Backtest: {windows} windows of {train_days} + {test_days} days, {n} methods").format(
            windows=window, train_days=train_days, test_days=test_days, n=out["method"].nunique()
        )
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


#: Method used when the history is too short to backtest.
FALLBACK_METHOD = "peaks"

#: Relative margin by which a micro-place method must beat the default (the first) to be chosen.
MARGIN = 0.10
#: Relative margin by which the forecast must beat the best count baseline to be chosen.
FORECAST_MARGIN = 0.10
#: Look-back windows of the count baselines of :func:`choose_method`, days.
COUNT_DAYS = (28, 90, 365)
#: Seconds :func:`choose_method` may spend on its backtest. The number of test periods is set
#: from an estimate of their cost (:func:`_period_cost_s`, measured on a 2-core machine), not
#: from the clock, so the same data give the same choice on any machine.
TIME_BUDGET_S = 30.0
#: Most and least test periods of :func:`choose_method`.
MAX_WINDOWS = 26
MIN_WINDOWS = 3
#: Test period lengths tried on sparse data, shortest first, days; the first whose expected
#: incidents in the shift (at the last year's rate) reach MIN_PERIOD_INCIDENTS is used.
PERIOD_DAYS = (7, 14, 28, 56, 91)
MIN_PERIOD_INCIDENTS = 8
#: The forecast is refitted every this many days of test periods (never on test data).
REFIT_DAYS = 28
_CHOICE_VERSION = 3


@dataclass(frozen=True)
class MethodChoice:
    """The hotspot method a district's own history predicts best.

    Attributes
    ----------
    method
        ``dbscan``, ``peaks``, ``hdbscan`` or ``forecast``
        (:func:`patrolplan.forecast.forecast_hotspots`).
    params
        Keyword arguments for :func:`patrolplan.hotspots.find_hotspots` (``eps_m``,
        ``min_weight``, ``max_size_m``, ``min_cluster_size``) plus ``half_life_days`` for
        :func:`patrolplan.hotspots.incident_weights`.
    reason
        One line saying why (the scores, or that the history was too short).
    table
        One row per candidate: ``candidate``, ``method`` (a hotspot method, ``forecast`` or
        ``counts``), ``windows``, ``hit_rate`` (mean share of the next period's incidents in
        the shift's hours inside the candidate's top places of equal total area), ``area_km2``,
        ``pai``; best first. Empty when not backtested.
    backtested
        False when the fallback was used.
    """

    method: str
    params: dict[str, float]
    reason: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    backtested: bool = True


def _data_key(gdf: gpd.GeoDataFrame) -> str:
    h = hashlib.sha256()
    h.update(np.round(gdf.geometry.x.to_numpy(dtype=float), 7).tobytes())
    h.update(np.round(gdf.geometry.y.to_numpy(dtype=float), 7).tobytes())
    h.update(gdf["datetime"].to_numpy(dtype="datetime64[ns]").view(np.int64).tobytes())
    for col in ("severity", "layer", "time_precision"):
        if col in gdf:
            h.update(pd.util.hash_pandas_object(gdf[col], index=False).to_numpy().tobytes())
    return h.hexdigest()


def _candidates(p: hotspots.HotspotParams) -> dict[str, tuple[str, dict[str, float]]]:
    # The half-life stays the data's own (auto_params): a 4x longer one won this backtest on
    # the 2017 arrests yet caught fewer next-shift incidents in the plan replay (46-51 of 144
    # against 61 for peaks at the data's half-life), so only the method is chosen here.
    base = {"min_weight": p.min_weight, "max_size_m": p.max_size_m}
    found: dict[str, tuple[str, dict[str, float]]] = {}
    # the micro-place methods of the registry, each with the data's own parameters it takes
    for m in HOTSPOT_METHODS.values():
        if not m.auto or m.kind != "places":
            continue
        extra = {"eps_m": p.eps_m, "min_cluster_size": 5.0}
        params = {**base, **{k: extra[k] for k in m.tuning}}
        label = f"{m.name} eps {p.eps_m:g} m" if "eps_m" in m.tuning else m.name
        found[label] = (m.name, params)
    return found


def _top_places(
    xy: np.ndarray, w: np.ndarray, labels: np.ndarray, *, size_m: float, budget_m2: float
) -> shapely.Geometry:
    """Union of the riskiest hotspot polygons until their area reaches `budget_m2`."""
    ok = labels >= 0
    if not ok.any():
        return shapely.Polygon()
    risk = np.bincount(labels[ok], weights=w[ok])
    polys, area = [], 0.0
    for label in np.argsort(-risk, kind="stable"):
        pts = xy[labels == label]
        if len(pts) == 0:
            continue
        poly = hotspots.place_polygon(pts, buffer_m=25.0, max_size_m=size_m)
        polys.append(poly)
        area += float(poly.area)
        if area >= budget_m2:
            break
    return shapely.union_all(polys)


def _period_cost_s(n_train: int, n_cells: int, refit: bool) -> float:
    """Estimated seconds of one test period of :func:`choose_method`.

    Measured on the 2017 arrests (1,900 training incidents, 1,000 cells) on the shared 2-core
    machine under load: three clusterings take about 0.4 ms per training incident, the
    forecast's features 20 us per cell and its fit on 12 past periods 26 us per cell and period.
    """
    cost = 0.2 + 4.0e-4 * n_train + 2.0e-5 * n_cells
    return cost + (2.6e-5 * 12 * n_cells if refit else 0.0)


def _top_cells(score: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Flat indices of the `k` best-scored cells (random tie-break, reproducible)."""
    order = np.lexsort((rng.random(len(score)), -score))
    return order[:k]


def choose_method(
    gdf_incidents: gpd.GeoDataFrame,
    *,
    at: str | pd.Timestamp,
    shift_start_hour: float | None = None,
    shift_length_h: float | None = None,
    n_windows: int | None = None,
    max_hotspots: int = 20,
    time_budget_s: float | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    osm: str | Path | None = None,
    seed: int = 0,
) -> MethodChoice:
    """Pick the hotspot method that best predicted the district's next periods.

    Test periods of ``test_days`` (from the data's span: 1 to 7 days; on sparse data up to 91
    days, long enough to hold about :data:`MIN_PERIOD_INCIDENTS` incidents in the shift) are
    laid back from
    `at`, as many as the history holds and the time budget allows (at most
    :data:`MAX_WINDOWS`). In each, every candidate ranks places from the history before the
    period only, and its riskiest places are taken until their area reaches that of
    `max_hotspots` hotspots of the size bound; the share of the period's incidents in the
    shift's hours inside them is the candidate's hit rate (equal areas: it ranks them as PAI
    would). The candidates are the micro-place methods (``peaks``, ``dbscan``, ``hdbscan``;
    :func:`patrolplan.hotspots.auto_params` gives half-life, training window and scale), the
    counts of the last 28, 90 and 365 days per grid cell (:data:`COUNT_DAYS`) and the cell
    forecast (:mod:`patrolplan.forecast`, fitted on the periods before each test period, in
    the shift's hours).

    The forecast is chosen only when its mean hit rate beats the best count baseline's by
    :data:`FORECAST_MARGIN` and is at least the best micro-place method's; otherwise the
    default micro-place method (the first, ``peaks``) is kept unless another catches
    :data:`MARGIN` more. With fewer than :data:`MIN_WINDOWS` periods holding 5 test incidents
    each, :data:`FALLBACK_METHOD` with the data's own scale is returned, not backtested, and
    the reason says so.

    The result is cached in ``cache_dir/method_choice`` per data content and parameters.

    Parameters
    ----------
    gdf_incidents
        Incidents from ingest.
    at
        Start of the shift planned; only incidents before it are used.
    shift_start_hour, shift_length_h
        The shift; default the whole day.
    n_windows
        Test periods; default as many as the history and the budget allow.
    max_hotspots
        Hotspots a plan offers (sets the area budget).
    time_budget_s
        Estimated seconds the backtest may take; default :data:`TIME_BUDGET_S`.
    cache_dir
        Cache folder; default :data:`patrolplan.settings.cache_dir`.
    use_cache
        Read and write the cache.
    osm
        OSM extract whose places (:mod:`patrolplan.terrain`) the forecast may use.
    seed
        Seed of the forecast and of tie-breaks between equal counts.

    Returns
    -------
    MethodChoice
        The method, its parameters, one line of reason and the score table.
    """
    at_ts = pd.Timestamp(at)
    data = gdf_incidents[gdf_incidents["datetime"].notna() & (gdf_incidents["datetime"] < at_ts)]
    # the plan logs the parameters it uses; this copy is the backtest's own
    p = hotspots.auto_params(data, at=at_ts, level=logging.DEBUG)
    default = MethodChoice(
        FALLBACK_METHOD,
        {
            "eps_m": p.eps_m,
            "min_weight": p.min_weight,
            "max_size_m": p.max_size_m,
            "half_life_days": p.half_life_days,
        },
        "",
        backtested=False,
    )
    budget_s = TIME_BUDGET_S if time_budget_s is None else float(time_budget_s)
    span = (at_ts - data["datetime"].min()).days if len(data) else 0
    test_days = int(min(7, max(1, span // 6)))
    key_src = json.dumps(
        [
            _CHOICE_VERSION,
            _data_key(data),
            str(at_ts),
            shift_start_hour,
            shift_length_h,
            n_windows,
            max_hotspots,
            budget_s,
            seed,
            file_sha256(osm) if osm is not None else None,
            # the reasons are words in the current language; the numbers decide the choice
            {k: v for k, v in p.as_dict().items() if k != "reasons"},
        ],
        default=str,
    )
    key = hashlib.sha256(key_src.encode()).hexdigest()[:24]
    folder = Path(cache_dir if cache_dir is not None else settings.cache_dir) / "method_choice"
    cached = folder / f"{key}.json"
    if use_cache and cached.is_file():
        raw = json.loads(cached.read_text(encoding="utf-8"))
        # the reason is written again in the current language when the cache holds its numbers
        reason = raw["reason"]
        if raw.get("lang", get_language()) != get_language() and "reason_args" in raw:
            reason = _reason_text(raw["reason_args"])
        log(_("auto method (cached): {reason}").format(reason=reason), logging.DEBUG)
        return MethodChoice(
            raw["method"],
            {k: float(v) for k, v in raw["params"].items()},
            reason,
            pd.DataFrame(raw["table"]),
            bool(raw["backtested"]),
        )
    shift = shift_start_hour is not None and shift_length_h is not None
    has_time = bool(data["time_precision"].eq("datetime").any()) if len(data) else False
    counted = (
        _in_shift(data, float(shift_start_hour or 0), float(shift_length_h or 24))
        if shift and has_time
        else pd.Series(True, index=data.index)
    )
    xy = hotspots._xy_m(data) if len(data) else np.zeros((0, 2))
    budget_m2 = (
        max_hotspots * np.pi * (p.max_size_m / 2.0) ** 2
        if np.isfinite(p.max_size_m)
        else max_hotspots * np.pi * 75.0**2
    )
    cands = _candidates(p)
    # sparse data: periods long enough to hold about MIN_PERIOD_INCIDENTS in the shift
    if len(data) and test_days == 7:
        recent = counted & (data["datetime"] >= at_ts - pd.Timedelta(days=365))
        rate = float(recent.sum()) / min(365.0, float(span))
        for d in PERIOD_DAYS:
            if 7 + MIN_WINDOWS * d > span:
                break
            test_days = d
            if rate * d >= MIN_PERIOD_INCIDENTS:
                break
    # test periods: back from `at` while at least 7 days of history precede them
    possible = max(0, (span - 7) // test_days) if len(data) else 0
    limit = MAX_WINDOWS if n_windows is None else int(n_windows)
    grid = study_grid(data, cell_m=p.cell_m) if len(data) else None
    n_cells = int(grid.inside.sum()) if grid is not None else 0
    n_train = int((data["datetime"] >= at_ts - pd.Timedelta(days=p.train_days)).sum())
    planned, spent = 0, 0.0
    for k in range(min(limit, int(possible))):
        refit = k % max(1, REFIT_DAYS // test_days) == 0
        cost = _period_cost_s(n_train, n_cells, refit)
        if planned >= MIN_WINDOWS and spent + cost > budget_s:
            break
        planned, spent = planned + 1, spent + cost
    rows = []
    windows = 0
    rng = np.random.default_rng(seed)
    fc = None
    if grid is not None and planned:
        fc = forecast.CellForecaster(
            data,
            grid,
            horizon_days=float(test_days),
            shift_start_hour=shift_start_hour if shift and has_time else None,
            shift_length_h=shift_length_h if shift and has_time else None,
            terrain=terrain.read_places(osm) if osm is not None else None,
            seed=seed,
        )
    n_top = max(1, int(np.ceil(budget_m2 / p.cell_m**2)))
    last_fit: pd.Timestamp | None = None
    # oldest period first, so the forecast is refitted forward in time
    for k in range(planned, 0, -1):
        t0 = at_ts - pd.Timedelta(days=k * test_days)
        t1 = t0 + pd.Timedelta(days=test_days)
        history = data["datetime"] < t0
        train = history & (data["datetime"] >= t0 - pd.Timedelta(days=p.train_days))
        test = (data["datetime"] >= t0) & (data["datetime"] < t1) & counted
        if int(test.sum()) < 5 or (t0 - data["datetime"].min()).days < 7:
            continue
        windows += 1
        gtrain = data[train]
        test_xy = xy[test.to_numpy()]
        pts = shapely.points(test_xy)
        for name, (method, params) in cands.items():
            hl = params.get("half_life_days", p.half_life_days)
            w = hotspots.incident_weights(
                gtrain,
                at=t0,
                half_life_days=hl,
                shift_start_hour=shift_start_hour if shift and p.shift_profile else None,
                shift_length_h=shift_length_h if shift and p.shift_profile else None,
            )
            labels = hotspots.cluster_incidents(
                gtrain,
                w,
                method=method,
                eps_m=params.get("eps_m"),
                min_weight=params.get("min_weight"),
                max_size_m=params.get("max_size_m"),
                min_cluster_size=int(params.get("min_cluster_size", 5)),
            )
            chosen = _top_places(
                xy[train.to_numpy()],
                w.to_numpy(),
                labels.to_numpy(),
                size_m=float(params.get("max_size_m", p.max_size_m)),
                budget_m2=budget_m2,
            )
            area = float(shapely.area(chosen))
            hits = int(shapely.covers(chosen, pts).sum())
            rows.append(
                {
                    "window": k,
                    "candidate": name,
                    "method": method,
                    "hit_rate": hits / len(pts),
                    "area_km2": area / 1e6,
                }
            )
        if grid is None or fc is None:
            continue
        # cell candidates: the same area as whole cells of the data's grid
        test_cells = grid.cell_of(test_xy)
        test_cells = test_cells[test_cells >= 0]
        inside = grid.inside.ravel()
        refit = last_fit is None or (t0 - last_fit).days >= REFIT_DAYS
        if refit:
            last_fit = t0
        scores = {
            f"counts {d} d": fc._grid_counts(fc._window(int(t0.value), 0.0, float(d))).ravel()
            for d in COUNT_DAYS
        }
        scores["forecast"] = fc.predict(t0, refit=refit).ravel()
        for name, score in scores.items():
            top = _top_cells(np.where(inside, score, -np.inf), n_top, rng)
            hits = int(np.isin(test_cells, top).sum())
            rows.append(
                {
                    "window": k,
                    "candidate": name,
                    "method": "forecast" if name == "forecast" else "counts",
                    "hit_rate": hits / len(pts),
                    "area_km2": n_top * p.cell_m**2 / 1e6,
                }
            )
    # micro-places that never caught anything say the history is too thin to judge them
    micro_hits = [float(str(r["hit_rate"])) for r in rows if r["candidate"] in cands]
    if windows >= MIN_WINDOWS and not any(h > 0 for h in micro_hits):
        windows = 0
    if windows < MIN_WINDOWS:
        args: dict[str, object] = {
            "kind": "short",
            "windows": windows,
            "n_windows": planned,
            "test_days": test_days,
            "method": FALLBACK_METHOD,
        }
        choice = MethodChoice(default.method, default.params, _reason_text(args), backtested=False)
    else:
        choice, args = _decide(rows, cands, p, test_days, windows, xy)
    log(_("auto method: {reason}").format(reason=choice.reason), logging.DEBUG)
    if use_cache:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(
            cached,
            json.dumps(
                {
                    "method": choice.method,
                    "params": choice.params,
                    "reason": choice.reason,
                    "lang": get_language(),
                    "reason_args": args,
                    "table": choice.table.to_dict(orient="records"),
                    "backtested": choice.backtested,
                }
            ),
        )
    return choice


def _decide(
    rows: list[dict[str, object]],
    cands: Mapping[str, tuple[str, dict[str, float]]],
    p: hotspots.HotspotParams,
    test_days: int,
    windows: int,
    xy: np.ndarray,
) -> tuple[MethodChoice, dict[str, object]]:
    """Choose from the backtest's rows: the forecast by a margin, else a micro-place method."""
    res = pd.DataFrame(rows)
    table = res.groupby(["candidate", "method"], as_index=False, sort=False).agg(
        windows=("window", "nunique"),
        hit_rate=("hit_rate", "mean"),
        area_km2=("area_km2", "mean"),
    )
    study_km2 = hotspots._occupied_km2(xy, cell_m=100.0) or 1.0
    table["pai"] = table["hit_rate"] / (table["area_km2"] / study_km2).where(table["area_km2"] > 0)
    table = table.sort_values("hit_rate", ascending=False, kind="stable").reset_index(drop=True)
    by = table.set_index("candidate")
    micro = table[table["candidate"].isin(list(cands))]
    counts = table[table["method"] == "counts"]
    best_micro = micro.iloc[0]
    # The first candidate is the default; another replaces it only when it caught clearly
    # more (by MARGIN, relative): a near tie over a few periods is noise, not evidence.
    default_name = next(iter(cands))
    chosen_name = str(best_micro["candidate"])
    if float(best_micro["hit_rate"]) < (1.0 + MARGIN) * float(by.loc[default_name, "hit_rate"]):
        chosen_name = default_name
    params_base = {"half_life_days": p.half_life_days}
    args: dict[str, object] = {
        "best": chosen_name,
        "test_days": test_days,
        "windows": windows,
        "default": default_name,
        "margin": MARGIN,
        "forecast_margin": FORECAST_MARGIN,
    }
    fc_hit = float(by.loc["forecast", "hit_rate"]) if "forecast" in by.index else np.nan
    if len(counts):
        best_counts = counts.iloc[0]
        args.update(
            counts=str(best_counts["candidate"]),
            counts_hit_rate=float(best_counts["hit_rate"]),
            forecast_hit_rate=fc_hit,
            forecast_pai=float(by.loc["forecast", "pai"]),
            forecast_area_km2=float(by.loc["forecast", "area_km2"]),
            micro_hit_rate=float(best_micro["hit_rate"]),
            micro=str(best_micro["candidate"]),
        )
        wins = fc_hit >= (1.0 + FORECAST_MARGIN) * float(best_counts["hit_rate"]) and fc_hit >= (
            float(best_micro["hit_rate"])
        )
        if wins and float(best_counts["hit_rate"]) > 0:
            args["kind"] = "forecast"
            params = {**params_base, "max_size_m": p.max_size_m, "min_weight": p.min_weight}
            return MethodChoice("forecast", params, _reason_text(args), table.round(4)), args
    method, params = cands[chosen_name]
    row = by.loc[chosen_name]
    other = table[(table["candidate"] != chosen_name) & table["candidate"].isin(list(cands))]
    args.update(
        kind="backtested",
        pai=float(row["pai"]),
        hit_rate=float(row["hit_rate"]),
        area_km2=float(row["area_km2"]),
        other=str(other.iloc[0]["candidate"]),
        other_hit_rate=float(other.iloc[0]["hit_rate"]),
        other_pai=float(other.iloc[0]["pai"]),
    )
    return (
        MethodChoice(method, {**params_base, **params}, _reason_text(args), table.round(4)),
        args,
    )


def _reason_text(args: Mapping[str, Any]) -> str:
    """Say in the current language why :func:`choose_method` chose its method."""
    if args["kind"] == "short":
        return _(
            "history too short to backtest ({windows} of {n_windows} periods of {test_days} "
            "days hold 5 incidents in the shift): {method} with the data's own scale"
        ).format(
            windows=args["windows"],
            n_windows=args["n_windows"],
            test_days=args["test_days"],
            method=args["method"],
        )
    if args["kind"] == "forecast":
        return _(
            "forecast: {hit_rate} of the next {test_days} days' incidents in the shift in "
            "{area} km² (PAI {pai}), over {windows} periods: {ratio} times the best count "
            "baseline ({counts}: {counts_hit_rate}; the forecast must catch {margin} more) and "
            "ahead of the best micro-place method ({micro}: {micro_hit_rate})"
        ).format(
            hit_rate=format_percent(float(args["forecast_hit_rate"]), decimals=0),
            test_days=args["test_days"],
            area=format_number(float(args["forecast_area_km2"]), decimals=2),
            pai=format_number(float(args["forecast_pai"]), decimals=1),
            windows=args["windows"],
            ratio=format_number(
                float(args["forecast_hit_rate"]) / float(args["counts_hit_rate"]), decimals=2
            ),
            counts=args["counts"],
            counts_hit_rate=format_percent(float(args["counts_hit_rate"]), decimals=0),
            margin=format_percent(float(args["forecast_margin"]), decimals=0),
            micro=args["micro"],
            micro_hit_rate=format_percent(float(args["micro_hit_rate"]), decimals=0),
        )
    line = _(
        "{best}: PAI {pai}, {hit_rate} of the next {test_days} days' incidents in the shift in "
        "{area} km², over {windows} periods (next best {other}: {other_hit_rate}, PAI "
        "{other_pai}; the default {default} is kept unless another catches {margin} more)"
    ).format(
        best=args["best"],
        pai=format_number(float(args["pai"]), decimals=1),
        hit_rate=format_percent(float(args["hit_rate"]), decimals=0),
        test_days=args["test_days"],
        area=format_number(float(args["area_km2"]), decimals=2),
        windows=args["windows"],
        other=args["other"],
        other_hit_rate=format_percent(float(args["other_hit_rate"]), decimals=0),
        other_pai=format_number(float(args["other_pai"]), decimals=1),
        default=args["default"],
        margin=format_percent(float(args["margin"]), decimals=0),
    )
    if "counts" not in args:
        return line
    fc_hit = float(args["forecast_hit_rate"])
    return line + _(
        "; the forecast caught {forecast_hit_rate} against {counts_hit_rate} for the best "
        "count baseline ({counts}): it is used only when it catches {margin} more and no less "
        "than the micro-places"
    ).format(
        forecast_hit_rate=format_percent(fc_hit if np.isfinite(fc_hit) else 0.0, decimals=0),
        counts_hit_rate=format_percent(float(args["counts_hit_rate"]), decimals=0),
        counts=args["counts"],
        margin=format_percent(float(args["forecast_margin"]), decimals=0),
    )
