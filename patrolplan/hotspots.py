"""Weight incidents and find the hotspots worth a patrol visit.

Weights combine the harm weight of an incident's category, the weight of its layer (crime,
accident, juvenile), an exponential recency decay, and a shift profile that favours incidents
at the hours of the shift being planned. Hotspots are clusters of weighted incidents found by
DBSCAN (with sample weights) or HDBSCAN in a metric CRS. :func:`kde_grid` gives a smooth
kernel-density risk surface on a grid.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from patrolplan import settings
from patrolplan._errors import InputDataError
from patrolplan.i18n import _, format_number, format_percent, ngettext
from patrolplan.methods import HOTSPOT_METHODS
from patrolplan.utils import log

#: Weight of each layer in the combined risk.
DEFAULT_LAYER_WEIGHTS: dict[str, float] = {"crime": 1.0, "accident": 1.0, "juvenile": 1.0}
#: Days from the stored date (1 January, the 1st, midnight) to the middle of a coarse date.
PRECISION_MIDPOINT_DAYS: dict[str, float] = {"year": 182.5, "month": 15.0, "date": 0.5}
#: Hotspot methods of :func:`cluster_incidents`.
METHODS = tuple(m.name for m in HOTSPOT_METHODS.values() if m.kind == "places")
#: Largest hotspot, metres across, when neither the caller nor the settings say
#: (``settings.hotspot_size_m`` once it exists): a place one officer can watch on a dwell.
DEFAULT_MAX_SIZE_M = 150.0


def shift_hours(start_hour: float, length_h: float) -> np.ndarray:
    """Return the 24 hourly weights of a shift profile.

    Hours inside the shift weigh 1; outside, the weight falls off as a Gaussian of the
    distance to the shift (sigma 2 h) down to a floor of 0.2, so neighbouring hours still
    count and the rest of the day is not ignored.

    Parameters
    ----------
    start_hour
        Start of the shift, hours after midnight (e.g. 18.0).
    length_h
        Length of the shift in hours.

    Returns
    -------
    numpy.ndarray
        24 weights, index = hour of day.

    Examples
    --------
    >>> shift_hours(18, 4).round(2)[[12, 17, 18, 21, 22, 23]].tolist()
    [0.22, 0.98, 1.0, 1.0, 0.98, 0.8]
    """
    hours = np.arange(24) + 0.5
    rel = (hours - start_hour) % 24
    inside = rel <= length_h
    dist = np.minimum(np.abs(rel - length_h), np.abs(24 - rel))
    dist = np.where(inside, 0.0, np.minimum(dist, (start_hour - hours) % 24))
    return 0.2 + 0.8 * np.exp(-0.5 * (dist / 2.0) ** 2)


def incident_weights(
    gdf_incidents: gpd.GeoDataFrame,
    *,
    at: str | pd.Timestamp | None = None,
    half_life_days: float | None = None,
    shift_start_hour: float | None = None,
    shift_length_h: float | None = None,
    layer_weights: Mapping[str, float] | None = None,
) -> pd.Series:
    """Weight each incident by harm, layer, recency and shift time of day.

    Parameters
    ----------
    gdf_incidents
        Incidents from :func:`patrolplan.ingest.read_incidents`.
    at
        The date being planned; recency is measured back from it. Default: the day after the
        latest incident.
    half_life_days
        Half-life of the recency decay; default :data:`patrolplan.settings.half_life_days`
        (:func:`auto_params` derives one from the data). The age of an incident dated only by
        its year, month or day is counted from the middle of that period
        (:data:`PRECISION_MIDPOINT_DAYS`), so a year-only date is a span, not 1 January.
    shift_start_hour, shift_length_h
        The shift being planned; when None, every hour weighs the same. Only incidents with a
        time of day are weighed by the shift; the others get the profile's mean.
    layer_weights
        Layer -> weight; default :data:`DEFAULT_LAYER_WEIGHTS`.

    Returns
    -------
    pandas.Series
        Weight per incident, same index as `gdf_incidents`.

    Examples
    --------
    >>> from patrolplan import datasets, ingest
    >>> gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    >>> w = incident_weights(gdf, at="2016-06-19", shift_start_hour=18, shift_length_h=4)
    >>> round(float(w.sum()), 1), len(w) == len(gdf)
    (3382.9, True)
    """
    half_life = settings.half_life_days if half_life_days is None else half_life_days
    layers = {**DEFAULT_LAYER_WEIGHTS, **(layer_weights or {})}
    when = gdf_incidents["datetime"]
    latest = when.max()
    if at is not None:
        at_ts = pd.Timestamp(at)
    elif pd.notna(latest):
        at_ts = latest.normalize() + pd.Timedelta(days=1)
    else:
        at_ts = pd.Timestamp.now().normalize()  # no dates at all: recency weighs 1
    # a coarse date is a span: its age is taken from the middle of that span
    if "time_precision" in gdf_incidents:
        mid = gdf_incidents["time_precision"].map(PRECISION_MIDPOINT_DAYS).astype(float)
        mid = mid.fillna(0.0).to_numpy()
    else:
        mid = np.zeros(len(gdf_incidents))
    age_days = ((at_ts - when).dt.total_seconds() / 86400.0 - mid).clip(lower=0.0)
    recency = np.power(0.5, age_days / half_life).fillna(1.0)
    layer_w = gdf_incidents["layer"].map(layers).astype(float).fillna(1.0)
    w = gdf_incidents["severity"].astype(float) * layer_w
    w = w * recency
    if shift_start_hour is not None and shift_length_h is not None:
        profile = shift_hours(shift_start_hour, shift_length_h)
        timed = gdf_incidents["time_precision"].eq("datetime") & gdf_incidents["hour"].notna()
        hour = gdf_incidents["hour"].fillna(0).astype(int).to_numpy()
        factor = np.where(timed, profile[hour], profile.mean())
        w = w * factor
    return w.astype(float).rename("weight")


def metric_crs(gdf: gpd.GeoDataFrame) -> object:
    """Return a metric CRS for `gdf`: its own if projected, else the local UTM zone.

    Parameters
    ----------
    gdf
        Any GeoDataFrame.

    Returns
    -------
    pyproj.CRS or None
        None for local grids without a CRS (their units are used as they are).
    """
    if gdf.crs is None:
        return None
    if gdf.crs.is_projected:
        return gdf.crs
    if gdf.empty:
        return gdf.estimate_utm_crs()
    # the UTM zone depends only on where the data lie: look it up once per place
    x0, y0, x1, y1 = (float(v) for v in gdf.total_bounds)
    return _utm_zone(gdf.crs.to_string(), round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2))


@functools.lru_cache(maxsize=64)
def _utm_zone(crs: str, x0: float, y0: float, x1: float, y1: float) -> object:
    """UTM CRS of the box (x0, y0, x1, y1), rounded to 0.01 degree, in `crs`."""
    box = gpd.GeoSeries([shapely.box(x0, y0, x1, y1)], crs=crs)
    return box.estimate_utm_crs()


def _xy_m(gdf: gpd.GeoDataFrame) -> np.ndarray:
    # coordinates projected once by add_xy_m are reused by every step (and every backtest
    # window, which slices the same frame)
    if XY_COLUMNS[0] in gdf.columns and XY_COLUMNS[1] in gdf.columns:
        return np.column_stack([gdf[c].to_numpy(dtype=float) for c in XY_COLUMNS])
    crs = metric_crs(gdf)
    geom = gdf.geometry if crs is None else gdf.geometry.to_crs(crs)
    return np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])


#: Columns of incident coordinates in metres, from :func:`add_xy_m`.
XY_COLUMNS = ("x_m", "y_m")


def add_xy_m(gdf_incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the incidents with their coordinates in metres (columns ``x_m``, ``y_m``).

    The hotspot steps project the incidents to a metric CRS (:func:`metric_crs`); with these
    columns they do it once for a plan instead of once per step and backtest window.

    Parameters
    ----------
    gdf_incidents
        Incidents.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``x_m`` and ``y_m``.
    """
    out = gdf_incidents.drop(columns=[c for c in XY_COLUMNS if c in gdf_incidents.columns])
    xy = _xy_m(out) if len(out) else np.zeros((0, 2))
    out[XY_COLUMNS[0]] = xy[:, 0]
    out[XY_COLUMNS[1]] = xy[:, 1]
    return out


# Incidents of a place lie within this share of the bound's radius, inside the polygon that
# approximates the clipping circle (64 vertices: inner radius 0.9988 of the outer).
_FIT = 0.998


def _max_size(max_size_m: float | None) -> float:
    size = (
        getattr(settings, "hotspot_size_m", DEFAULT_MAX_SIZE_M)
        if max_size_m is None
        else max_size_m
    )
    size = float(size)
    if not size > 0:
        msg = _("`max_size_m` must be positive, got {value!r}").format(value=max_size_m)
        raise InputDataError(msg)
    return size


def _bin_cell(eps_m: float, max_size_m: float) -> float:
    """Side of the fine cells incidents are summed in before clustering."""
    return float(min(10.0, eps_m / 6.0, max_size_m / 10.0))


@dataclass(frozen=True)
class _Bins:
    """Incidents summed on a fine grid: one row per occupied cell."""

    ij: np.ndarray  # (n_cells, 2) integer cell indices
    xy: np.ndarray  # (n_cells, 2) mean position of the cell's incidents
    centre: np.ndarray  # (n_cells, 2) centre of the cell
    weight: np.ndarray  # summed weight per cell
    inverse: np.ndarray  # cell of each incident
    cell_m: float


def _bin(xy: np.ndarray, w: np.ndarray, cell_m: float) -> _Bins:
    origin = xy.min(axis=0)
    ij = np.floor((xy - origin) / cell_m).astype(np.int64)
    key = ij[:, 0] * (int(ij[:, 1].max()) + 1) + ij[:, 1]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    n = len(first)
    count = np.bincount(inverse, minlength=n).astype(float)
    mean = np.column_stack(
        [np.bincount(inverse, weights=xy[:, k], minlength=n) / count for k in (0, 1)]
    )
    weight = np.bincount(inverse, weights=w, minlength=n)
    centre = origin + (ij[first] + 0.5) * cell_m
    return _Bins(ij[first], mean, centre, weight, inverse, cell_m)


def _discs(
    ij: np.ndarray,
    weight: np.ndarray,
    *,
    radius_cells: float,
    min_weight: float,
    max_places: int | None,
) -> np.ndarray:
    """Greedy micro-places: the disc holding the most remaining weight, again and again.

    Every disc (radius `radius_cells`, centred on an occupied cell) that holds at least
    `min_weight` of weight not yet claimed becomes a place; its cells are claimed. Returns a
    label per cell, -1 for cells no disc claimed.
    """
    labels = np.full(len(ij), -1, dtype=np.int64)
    if len(ij) == 0:
        return labels
    lo = ij.min(axis=0)
    local = ij - lo
    shape = tuple(int(v) + 1 for v in local.max(axis=0))
    H = np.zeros(shape)
    H[local[:, 0], local[:, 1]] = weight
    cell_at = np.full(shape, -1, dtype=np.int64)
    cell_at[local[:, 0], local[:, 1]] = np.arange(len(ij))
    R = int(np.floor(radius_cells))
    dx, dy = np.mgrid[-R : R + 1, -R : R + 1]
    disc = (dx**2 + dy**2) <= radius_cells**2
    kernel = disc.astype(float)
    # D[i, j]: weight within the disc around cell (i, j); only occupied cells can be centres
    D = ndimage.correlate(H, kernel, mode="constant")
    D[cell_at < 0] = -1.0
    n_places = 0
    while max_places is None or n_places < max_places:
        flat = int(np.argmax(D))
        i, j = (int(v) for v in np.unravel_index(flat, shape))
        if D[i, j] < min_weight - 1e-9 or D[i, j] <= 0:
            break
        # claim the occupied cells of the disc
        i0, i1 = max(0, i - R), min(shape[0], i + R + 1)
        j0, j1 = max(0, j - R), min(shape[1], j + R + 1)
        sub = disc[i0 - i + R : i1 - i + R, j0 - j + R : j1 - j + R]
        cells = cell_at[i0:i1, j0:j1][sub]
        cells = cells[(cells >= 0)]
        cells = cells[labels[cells] < 0]
        labels[cells] = n_places
        H[local[cells, 0], local[cells, 1]] = 0.0
        # refresh the disc sums that saw a claimed cell
        a0, a1 = max(0, i - 2 * R), min(shape[0], i + 2 * R + 1)
        b0, b1 = max(0, j - 2 * R), min(shape[1], j + 2 * R + 1)
        p0, p1 = max(0, a0 - R), min(shape[0], a1 + R)
        q0, q1 = max(0, b0 - R), min(shape[1], b1 + R)
        part = ndimage.correlate(H[p0:p1, q0:q1], kernel, mode="constant")
        fresh = part[a0 - p0 : a1 - p0, b0 - q0 : b1 - q0]
        D[a0:a1, b0:b1] = np.where(cell_at[a0:a1, b0:b1] >= 0, fresh, -1.0)
        n_places += 1
    return labels


def _enclosing_radius(xy: np.ndarray) -> float:
    if len(xy) < 2:
        return 0.0
    return float(shapely.minimum_bounding_radius(shapely.multipoints(xy)))


def place_polygon(xy: np.ndarray, *, buffer_m: float, max_size_m: float) -> shapely.Geometry:
    """Polygon of a micro-place: hull of its points buffered, clipped to the size bound.

    Parameters
    ----------
    xy
        ``(n, 2)`` metric coordinates of the place's incidents.
    buffer_m
        Buffer around their convex hull.
    max_size_m
        Clip to the circle of this diameter around the points (or the smallest circle around
        them if larger); ``math.inf`` for no clipping.

    Returns
    -------
    shapely.Geometry
        The polygon; it covers every point.
    """
    mp = shapely.multipoints(xy)
    poly = shapely.convex_hull(mp).buffer(buffer_m)
    if not np.isfinite(max_size_m):
        return poly
    centre = shapely.minimum_bounding_circle(mp).centroid
    if centre.is_empty:  # all points in one spot
        centre = shapely.Point(xy[0])
    radius = max(max_size_m / 2.0, _enclosing_radius(xy))
    return poly.intersection(centre.buffer(radius, quad_segs=16))


def _bound_clusters(
    bins: _Bins, cell_labels: np.ndarray, *, max_size_m: float, min_weight: float
) -> np.ndarray:
    """Split every cluster wider than `max_size_m` into micro-places (greedy discs)."""
    if not np.isfinite(max_size_m):
        return cell_labels
    margin = bins.cell_m * np.sqrt(0.5)
    radius_cells = max(0.0, _FIT * max_size_m / 2.0 - margin) / bins.cell_m
    out = np.full(len(cell_labels), -1, dtype=np.int64)
    next_label = 0
    order = np.argsort(cell_labels, kind="stable")
    bounds = np.flatnonzero(np.diff(cell_labels[order])) + 1
    for members in np.split(order, bounds):
        if len(members) == 0 or cell_labels[members[0]] < 0:
            continue
        if _enclosing_radius(bins.centre[members]) + margin <= _FIT * max_size_m / 2.0:
            out[members] = next_label
            next_label += 1
            continue
        sub = _discs(
            bins.ij[members],
            bins.weight[members],
            radius_cells=radius_cells,
            min_weight=min_weight,
            max_places=None,
        )
        found = sub >= 0
        out[members[found]] = sub[found] + next_label
        next_label += int(sub.max()) + 1 if found.any() else 0
    return out


def cluster_incidents(
    gdf_incidents: gpd.GeoDataFrame,
    weights: pd.Series,
    *,
    method: str = "dbscan",
    eps_m: float | None = None,
    min_weight: float | None = None,
    max_size_m: float | None = None,
    min_cluster_size: int = 5,
    cell_m: float | None = None,
) -> pd.Series:
    """Label incidents by micro-place; -1 marks incidents in no hotspot.

    Incidents are first summed on a fine grid (cells of `cell_m`, at most 10 m), so memory
    and time grow with the occupied area, not with the number of incidents (2 million
    jittered incidents in 2 km² cluster in seconds). Then:

    * ``"dbscan"``: weighted DBSCAN of the cells (`eps_m`, `min_weight`);
    * ``"hdbscan"``: HDBSCAN of the occupied cells (`min_cluster_size` cells; weights not
      used for density);
    * ``"peaks"``: no clustering: the disc of diameter `max_size_m` holding the most weight
      becomes a hotspot, then the next one among the incidents left, while a disc still
      holds `min_weight`.

    A hotspot is a place an officer on a 10-15 minute dwell can watch, so every cluster
    whose incidents do not fit in a circle of diameter `max_size_m` is split into such
    discs, densest first (a dense neighbourhood becomes several micro-places instead of one
    chained cluster); parts of it that hold less than `min_weight` are left out (-1).

    Parameters
    ----------
    gdf_incidents
        Incidents.
    weights
        From :func:`incident_weights`, same index.
    method
        ``"dbscan"``, ``"peaks"`` or ``"hdbscan"`` (:data:`METHODS`).
    eps_m
        DBSCAN radius in metres; default :data:`patrolplan.settings.hotspot_eps_m`.
    min_weight
        DBSCAN: least total weight within `eps_m` of a core incident; for every method, the
        least weight of a micro-place split from a larger cluster (and of a ``peaks``
        place). Default :data:`patrolplan.settings.hotspot_min_weight`.
    max_size_m
        Largest hotspot: diameter of the smallest circle around its incidents, in metres.
        Default ``settings.hotspot_size_m`` if set, else :data:`DEFAULT_MAX_SIZE_M` (150).
        ``math.inf`` keeps clusters whole (the unbounded behaviour before micro-places).
    min_cluster_size
        HDBSCAN: least occupied cells in a cluster.
    cell_m
        Side of the fine cells; default ``min(10, eps_m / 6, max_size_m / 10)``.

    Returns
    -------
    pandas.Series
        Integer label per incident, same index as `gdf_incidents`.

    Raises
    ------
    InputDataError
        If `method` is unknown or `max_size_m` is not positive.

    Examples
    --------
    >>> from patrolplan import datasets, ingest
    >>> gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    >>> labels = cluster_incidents(gdf, incident_weights(gdf, at="2016-06-19"))
    >>> int(labels.max()) + 1, int((labels >= 0).sum())
    (247, 873)
    """
    if method not in METHODS:
        msg = _("`method` must be one of {choices}, got {value!r}").format(
            choices=", ".join(METHODS), value=method
        )
        raise InputDataError(msg)
    size = _max_size(max_size_m)
    if gdf_incidents.empty:
        return pd.Series(dtype=np.int64, name="cluster")
    eps = float(settings.hotspot_eps_m if eps_m is None else eps_m)
    min_w = float(settings.hotspot_min_weight if min_weight is None else min_weight)
    cell = _bin_cell(eps, size) if cell_m is None else float(cell_m)
    xy = _xy_m(gdf_incidents)
    w = weights.reindex(gdf_incidents.index).to_numpy(dtype=float)
    bins = _bin(xy, np.nan_to_num(w), cell)
    if method == "dbscan":
        # scikit-learn counts sample weights towards an integer min_samples
        min_samples = max(1, int(np.ceil(min_w)))
        # scikit-learn (over a second to import) only where it is used
        from sklearn.cluster import DBSCAN

        model = DBSCAN(eps=eps, min_samples=min_samples)
        cell_labels = model.fit(bins.xy, sample_weight=bins.weight).labels_
    elif method == "hdbscan":
        if len(bins.xy) < 2:
            cell_labels = np.full(len(bins.xy), -1)
        else:
            from sklearn.cluster import HDBSCAN

            hdb = HDBSCAN(min_cluster_size=max(2, min_cluster_size), copy=True)
            cell_labels = hdb.fit(bins.xy).labels_
    else:
        margin = bins.cell_m * np.sqrt(0.5)
        cell_labels = _discs(
            bins.ij,
            bins.weight,
            radius_cells=max(0.0, _FIT * size / 2.0 - margin) / bins.cell_m,
            min_weight=min_w,
            max_places=None,
        )
    cell_labels = _bound_clusters(
        bins, np.asarray(cell_labels, dtype=np.int64), max_size_m=size, min_weight=min_w
    )
    labels = cell_labels[bins.inverse]
    log(
        _(
            "{method}: {incidents} incidents in {cells} cells of {cell:g} m, "
            "{places} places of at most {size:g} m"
        ).format(
            method=method,
            incidents=format_number(len(xy)),
            cells=format_number(len(bins.xy)),
            cell=cell,
            places=int(cell_labels.max()) + 1 if len(cell_labels) else 0,
            size=size,
        ),
        logging.DEBUG,
    )
    return pd.Series(labels, index=gdf_incidents.index, name="cluster")


#: A hotspot's active hours are stated from this many incidents with a time of day on: three
#: incidents at 22:10, 22:40 and 23:05 say little about when the place is quiet.
ACTIVE_MIN_TIMED = 8
#: Share of a hotspot's weight its active hours hold: outside them lies at most a quarter, so a
#: visit there is at the place's quiet hours, not merely away from its busiest one.
ACTIVE_SHARE = 0.75


def _active_hours(hours: pd.Series, w: pd.Series) -> tuple[str, int]:
    """Shortest run of hours holding :data:`ACTIVE_SHARE` of the weight, and the peak hour.

    Below :data:`ACTIVE_MIN_TIMED` incidents with a time of day the run is not stated (``""``);
    the peak hour is.
    """
    hours = hours.dropna()
    if hours.empty or float(w.loc[hours.index].sum()) <= 0:
        return "", -1
    per_hour = np.bincount(hours.astype(int), weights=w.loc[hours.index], minlength=24)
    peak = int(per_hour.argmax())
    if len(hours) < ACTIVE_MIN_TIMED:
        return "", peak
    total = per_hour.sum()
    best = (24, peak)
    for start in range(24):
        acc = 0.0
        for length in range(1, 25):
            acc += per_hour[(start + length - 1) % 24]
            if acc >= ACTIVE_SHARE * total - 1e-12:
                if length < best[0]:
                    best = (length, start)
                break
    length, start = best
    return f"{start:02d}-{(start + length) % 24:02d}", peak


def hotspots_from_labels(
    gdf_incidents: gpd.GeoDataFrame,
    weights: pd.Series,
    labels: pd.Series,
    *,
    buffer_m: float = 25.0,
    max_size_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Summarise labelled incidents into ranked hotspot polygons.

    Each polygon is the convex hull of the hotspot's incidents buffered by `buffer_m`, clipped
    to the circle of diameter `max_size_m` around them (or the smallest circle around them,
    if that is larger), so it contains every incident labelled with it and is never wider than
    the size bound that made the labels.

    Parameters
    ----------
    gdf_incidents
        Incidents.
    weights
        Weight per incident.
    labels
        Cluster label per incident (-1 = none).
    buffer_m
        Buffer around each cluster's convex hull.
    max_size_m
        Size bound, as in :func:`cluster_incidents`; ``math.inf`` for no clipping.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per hotspot, ranked by ``risk`` (1 = highest): ``hotspot_id``, ``rank``,
        ``risk``, ``share`` (of all weight), ``n_incidents``, ``n_crime``, ``n_accident``,
        ``n_juvenile``, ``top_categories``, ``active_hours`` (the shortest run of hours holding
        three quarters of the weight, from :data:`ACTIVE_MIN_TIMED` incidents with a time of
        day on, else ``""``) and ``peak_hour`` (-1 when no incident has a time), ``size_m``
        (diameter of the smallest circle around the polygon, metres), ``area_m2``, ``lon``,
        ``lat`` (weighted centre) and ``geometry`` (polygon), in the CRS of the incidents.
    """
    size = _max_size(max_size_m)
    crs = metric_crs(gdf_incidents)
    xy = _xy_m(gdf_incidents)
    total = float(weights.sum()) or 1.0
    timed = (
        gdf_incidents["time_precision"].eq("datetime")
        if "time_precision" in gdf_incidents
        else pd.Series(True, index=gdf_incidents.index)
    )
    lab = labels.reindex(gdf_incidents.index).fillna(-1).to_numpy(dtype=np.int64)
    pos = np.flatnonzero(lab >= 0)
    groups = pd.Series(pos).groupby(lab[pos]).indices
    rows = []
    for label, at in sorted(groups.items()):
        members = pos[at]
        idx = gdf_incidents.index[members]
        w = weights.loc[idx]
        pts = xy[members]
        if w.sum() > 0:
            x, y = (float(v) for v in np.average(pts, axis=0, weights=w.to_numpy()))
        else:
            x, y = (float(v) for v in pts.mean(axis=0))
        poly = place_polygon(pts, buffer_m=buffer_m, max_size_m=size)
        sub = gdf_incidents.loc[idx]
        # the most frequent first (ties: the heavier first), as the counts shown say
        cats = (
            pd.DataFrame(
                {"n": sub["category"].value_counts(), "w": w.groupby(sub["category"]).sum()}
            )
            .sort_index()
            .sort_values(["n", "w"], ascending=False, kind="stable")
        )
        hours, peak = _active_hours(sub["hour"].where(timed.loc[idx]), w)
        rows.append(
            {
                "risk": float(w.sum()),
                "share": float(w.sum()) / total,
                "n_incidents": len(idx),
                **{
                    f"n_{layer}": int((sub["layer"] == layer).sum())
                    for layer in ("crime", "accident", "juvenile")
                },
                "top_categories": ", ".join(f"{c} {int(n)}" for c, n in cats["n"].iloc[:3].items()),
                "active_hours": hours,
                "peak_hour": peak,
                "size_m": round(2.0 * float(shapely.minimum_bounding_radius(poly)), 1),
                "area_m2": float(poly.area),
                "cx": x,
                "cy": y,
                "geometry": poly,
                "cluster": int(label),
            }
        )
    columns = [
        "hotspot_id",
        "rank",
        "risk",
        "share",
        "n_incidents",
        "n_crime",
        "n_accident",
        "n_juvenile",
        "top_categories",
        "active_hours",
        "peak_hour",
        "size_m",
        "area_m2",
        "lon",
        "lat",
        "cluster",
        "geometry",
    ]
    if not rows:
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs=gdf_incidents.crs)
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    out = out.sort_values(["risk", "cluster"], ascending=[False, True]).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out["hotspot_id"] = [f"H{r:03d}" for r in out["rank"]]
    centres = gpd.GeoSeries(gpd.points_from_xy(out["cx"], out["cy"]), crs=crs)
    if crs is not None:
        out = out.to_crs(gdf_incidents.crs)
        centres = centres.to_crs(gdf_incidents.crs)
    out["lon"], out["lat"] = centres.x.to_numpy(), centres.y.to_numpy()
    return out[columns]


def find_hotspots(
    gdf_incidents: gpd.GeoDataFrame,
    weights: pd.Series,
    *,
    method: str = "dbscan",
    eps_m: float | None = None,
    min_weight: float | None = None,
    max_size_m: float | None = None,
    min_cluster_size: int = 5,
    max_hotspots: int | None = None,
    buffer_m: float = 25.0,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Find micro-place hotspots and summarise them, ranked by risk.

    Parameters
    ----------
    gdf_incidents
        Incidents.
    weights
        Weight per incident.
    method, eps_m, min_weight, max_size_m, min_cluster_size
        See :func:`cluster_incidents`.
    max_hotspots
        Keep only the this many riskiest hotspots; the incidents of the others get label -1.
        Default: all.
    buffer_m
        Buffer around each hotspot's hull (see :func:`hotspots_from_labels`).

    Returns
    -------
    tuple
        ``(gdf_hotspots, labels)``; ``labels`` maps each incident to its hotspot's
        ``cluster`` (-1 = none); every labelled incident lies in its hotspot's polygon.

    Raises
    ------
    InputDataError
        If `method` is unknown or `max_size_m` is not positive.

    Examples
    --------
    >>> from patrolplan import datasets, ingest
    >>> gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    >>> hs, labels = find_hotspots(gdf, incident_weights(gdf, at="2016-06-19"))
    >>> hs.loc[0, "hotspot_id"], int(hs.loc[0, "n_incidents"]), bool(hs["size_m"].max() <= 150)
    ('H001', 129, True)
    """
    labels = cluster_incidents(
        gdf_incidents,
        weights,
        method=method,
        eps_m=eps_m,
        min_weight=min_weight,
        max_size_m=max_size_m,
        min_cluster_size=min_cluster_size,
    )
    gdf_hot = hotspots_from_labels(
        gdf_incidents, weights, labels, buffer_m=buffer_m, max_size_m=max_size_m
    )
    if max_hotspots is not None and len(gdf_hot) > max_hotspots:
        dropped = set(gdf_hot["cluster"].iloc[max_hotspots:].tolist())
        labels = labels.where(~labels.isin(dropped), -1)
        gdf_hot = gdf_hot.iloc[:max_hotspots].copy()
    covered = float(weights[labels >= 0].sum()) / (float(weights.sum()) or 1.0)
    found = {
        "n": format_number(len(gdf_hot)),
        "share": format_percent(covered, decimals=0),
        "size": float(gdf_hot["size_m"].max()) if len(gdf_hot) else 0.0,
    }
    if len(gdf_hot):
        line = _(
            "Found {n} hotspots holding {share} of the weighted incidents, at most {size:.0f} m "
            "across"
        )
    else:
        line = _("Found {n} hotspots holding {share} of the weighted incidents")
    log(line.format(**found))
    return gdf_hot, labels


def kde_grid(
    gdf_incidents: gpd.GeoDataFrame,
    weights: pd.Series,
    *,
    cell_m: float = 50.0,
    bandwidth_m: float = 150.0,
) -> gpd.GeoDataFrame:
    """Estimate a Gaussian kernel density of weighted incidents on a square grid.

    The weights are binned on the grid and smoothed with a Gaussian filter of standard
    deviation `bandwidth_m`, which is the binned form of a Gaussian KDE and scales to millions
    of points.

    Parameters
    ----------
    gdf_incidents
        Incidents.
    weights
        Weight per incident.
    cell_m
        Grid cell size in metres.
    bandwidth_m
        Kernel standard deviation in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        Cells with ``density`` (weight per km²) above 0.1 % of the peak, as square polygons
        in the CRS of the incidents, densest first.
    """
    hist, (x0, y0), crs = grid_counts(gdf_incidents, weights, cell_m=cell_m, pad_m=3 * bandwidth_m)
    dens = ndimage.gaussian_filter(hist, sigma=bandwidth_m / cell_m, mode="constant")
    dens *= 1e6 / (cell_m * cell_m)
    keep = dens > dens.max() * 1e-3
    ix, iy = np.nonzero(keep)
    boxes = shapely.box(
        x0 + ix * cell_m, y0 + iy * cell_m, x0 + (ix + 1) * cell_m, y0 + (iy + 1) * cell_m
    )
    out = gpd.GeoDataFrame({"density": dens[keep]}, geometry=boxes, crs=crs)
    out = out.sort_values("density", ascending=False, kind="stable").reset_index(drop=True)
    return out.to_crs(gdf_incidents.crs) if crs is not None else out


def grid_counts(
    gdf_incidents: gpd.GeoDataFrame,
    weights: pd.Series | None = None,
    *,
    cell_m: float = 100.0,
    origin: tuple[float, float] | None = None,
    shape: tuple[int, int] | None = None,
    pad_m: float = 0.0,
    crs: object = "auto",
) -> tuple[np.ndarray, tuple[float, float], object]:
    """Sum incident weights on a square metric grid.

    Parameters
    ----------
    gdf_incidents
        Incidents.
    weights
        Weight per incident; default 1 each.
    cell_m
        Cell size in metres.
    origin, shape
        Lower-left corner (in the metric CRS) and ``(nx, ny)`` of a fixed grid; default the
        incidents' extent plus `pad_m`.
    pad_m
        Margin around the incidents when the grid is not fixed.
    crs
        Metric CRS of a fixed grid; default :func:`metric_crs` of the incidents.

    Returns
    -------
    tuple
        ``(grid, origin, crs)``: ``grid[ix, iy]`` sums, the ``(x0, y0)`` lower-left corner
        and the metric CRS used.
    """
    crs = metric_crs(gdf_incidents) if isinstance(crs, str) and crs == "auto" else crs
    geom = gdf_incidents.geometry if crs is None else gdf_incidents.geometry.to_crs(crs)
    xy = np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])
    w = (
        np.ones(len(xy))
        if weights is None
        else weights.reindex(gdf_incidents.index).to_numpy(dtype=float)
    )
    if origin is None:
        x0, y0 = xy.min(axis=0) - pad_m
    else:
        x0, y0 = origin
    if shape is None:
        x1, y1 = xy.max(axis=0) + pad_m
        shape = (
            max(1, int(np.ceil((x1 - x0) / cell_m + 1e-9))),
            max(1, int(np.ceil((y1 - y0) / cell_m + 1e-9))),
        )
    nx_, ny_ = shape
    grid, _xedges, _yedges = np.histogram2d(
        xy[:, 0],
        xy[:, 1],
        bins=(nx_, ny_),
        range=((x0, x0 + nx_ * cell_m), (y0, y0 + ny_ * cell_m)),
        weights=w,
    )
    return grid, (float(x0), float(y0)), crs


def gi_star(values: np.ndarray, *, radius_cells: int = 1) -> np.ndarray:
    """Getis-Ord Gi* z-scores of a grid with binary square-window weights.

    Each cell's neighbourhood is the ``(2r+1) x (2r+1)`` window around it, itself included
    (queen contiguity for ``r = 1``), cut at the grid's edge. The statistic is
    ``(sum_j w_ij x_j - xbar W_i) / (s sqrt((n W_i - W_i^2) / (n - 1)))`` with ``W_i`` the
    number of neighbours, ``xbar`` and ``s`` the mean and population standard deviation of all
    ``n`` cells. This equals esda's ``G_Local(star=True, transform="B")`` ``Zs`` on the same
    weights (checked in the tests).

    Parameters
    ----------
    values
        2-D grid of counts or weights.
    radius_cells
        Half-width of the window.

    Returns
    -------
    numpy.ndarray
        z-scores, same shape as `values`.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    size = 2 * radius_cells + 1
    local = ndimage.uniform_filter(x, size=size, mode="constant") * size**2
    W = ndimage.uniform_filter(np.ones_like(x), size=size, mode="constant") * size**2
    local, W = np.round(local, 9), np.round(W)
    xbar = x.mean()
    s = np.sqrt((x**2).mean() - xbar**2)
    denom = s * np.sqrt((n * W - W**2) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (local - xbar * W) / denom
    return np.where(denom > 0, z, 0.0)


def fdr(p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Benjamini-Hochberg: which p-values are significant at false-discovery rate `alpha`.

    Parameters
    ----------
    p
        p-values (any shape).
    alpha
        False-discovery rate.

    Returns
    -------
    numpy.ndarray
        Booleans, same shape as `p`.

    Examples
    --------
    >>> fdr(np.array([0.001, 0.02, 0.03, 0.5]), alpha=0.05).tolist()
    [True, True, True, False]
    """
    flat = np.asarray(p, dtype=float).ravel()
    order = np.argsort(flat)
    m = len(flat)
    passed = flat[order] <= alpha * np.arange(1, m + 1) / m
    k = np.max(np.nonzero(passed)[0]) + 1 if passed.any() else 0
    out = np.zeros(m, dtype=bool)
    out[order[:k]] = True
    return out.reshape(np.shape(p))


def gi_star_grid(
    gdf_incidents: gpd.GeoDataFrame,
    weights: pd.Series | None = None,
    *,
    cell_m: float = 100.0,
    radius_cells: int = 1,
    alpha: float = 0.05,
) -> gpd.GeoDataFrame:
    """Find statistically significant hot cells with Getis-Ord Gi* and FDR correction.

    Parameters
    ----------
    gdf_incidents
        Incidents.
    weights
        Weight per incident; default counts.
    cell_m
        Cell size in metres.
    radius_cells
        Neighbourhood half-width in cells (1 = the 3 x 3 window).
    alpha
        False-discovery rate for the Benjamini-Hochberg correction of the one-sided p-values.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell with ``value``, ``z``, ``p`` (one-sided, hot) and ``hot`` (significant
        after FDR), as square polygons in the CRS of the incidents.
    """
    from scipy.stats import norm

    grid, (x0, y0), crs = grid_counts(gdf_incidents, weights, cell_m=cell_m)
    z = gi_star(grid, radius_cells=radius_cells)
    p = norm.sf(z)
    hot = fdr(p, alpha) & (z > 0)
    ix, iy = np.indices(grid.shape)
    boxes = shapely.box(
        x0 + ix.ravel() * cell_m,
        y0 + iy.ravel() * cell_m,
        x0 + (ix.ravel() + 1) * cell_m,
        y0 + (iy.ravel() + 1) * cell_m,
    )
    out = gpd.GeoDataFrame(
        {"value": grid.ravel(), "z": z.ravel(), "p": p.ravel(), "hot": hot.ravel()},
        geometry=boxes,
        crs=crs,
    )
    log(
        _("Gi*: {hot} of {cells} cells hot at FDR {alpha:g}").format(
            hot=int(hot.sum()), cells=grid.size, alpha=alpha
        )
    )
    return out.to_crs(gdf_incidents.crs) if crs is not None else out


def concentration_curve(counts: pd.Series | np.ndarray) -> pd.DataFrame:
    """Share of incidents against share of units (segments or cells), busiest units first.

    Parameters
    ----------
    counts
        Incidents per unit, zeros included.

    Returns
    -------
    pandas.DataFrame
        ``share_units`` and ``share_incidents``, both from 0 to 1.

    Examples
    --------
    >>> c = concentration_curve(np.array([0, 0, 1, 9]))
    >>> c.loc[c["share_units"] == 0.25, "share_incidents"].item()
    0.9
    """
    x = np.sort(np.asarray(counts, dtype=float))[::-1]
    total = x.sum() or 1.0
    return pd.DataFrame(
        {
            "share_units": np.concatenate([[0.0], np.arange(1, len(x) + 1) / len(x)]),
            "share_incidents": np.concatenate([[0.0], np.cumsum(x) / total]),
        }
    )


@dataclass(frozen=True)
class HotspotParams:
    """Hotspot parameters derived from the data by :func:`auto_params`.

    Attributes
    ----------
    half_life_days
        Recency half-life for :func:`incident_weights`.
    train_days
        Days of history worth using (older incidents weigh less than 1/16).
    cell_m
        Grid cell for area forecasts and backtests.
    eps_m, min_weight
        Clustering scale for :func:`cluster_incidents`.
    max_size_m
        Largest hotspot, metres across.
    time_precision
        The data's usual precision: ``datetime``, ``date``, ``month``, ``year`` or ``none``.
    shift_profile
        Whether the shift's hours can weigh incidents (most have a real time of day).
    reasons
        One line per choice, for the log and the report.
    """

    half_life_days: float
    train_days: int
    cell_m: float
    eps_m: float
    min_weight: float
    max_size_m: float
    time_precision: str
    shift_profile: bool
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """Return the parameters as plain JSON-ready values."""
        return {
            "half_life_days": self.half_life_days,
            "train_days": self.train_days,
            "cell_m": self.cell_m,
            "eps_m": self.eps_m,
            "min_weight": self.min_weight,
            "max_size_m": self.max_size_m,
            "time_precision": self.time_precision,
            "shift_profile": self.shift_profile,
            "reasons": list(self.reasons),
        }


def _clamp(value: float, lo: float, hi: float) -> float:
    return float(min(max(value, lo), hi))


def _occupied_km2(xy: np.ndarray, cell_m: float = 250.0) -> float:
    """Area of the cells that hold an incident: robust to stray points, unlike a hull."""
    if len(xy) == 0:
        return 0.0
    ij = np.floor((xy - xy.min(axis=0)) / cell_m).astype(np.int64)
    n = len(np.unique(ij[:, 0] * (int(ij[:, 1].max()) + 1) + ij[:, 1]))
    return n * (cell_m / 1000.0) ** 2


def auto_params(
    gdf_incidents: gpd.GeoDataFrame,
    *,
    at: str | pd.Timestamp | None = None,
    max_size_m: float | None = None,
    level: int = logging.INFO,
) -> HotspotParams:
    """Derive recency, history window, grid and clustering scale from the data itself.

    * time precision: the most common ``time_precision`` of the dated incidents; the shift's
      hours weigh incidents only when at least half have a real time of day (not all at
      midnight);
    * span: from the 1st percentile of the dates (a tail of old, late-reported incidents is
      ignored) to `at`;
    * half-life = clamp(span / 4, 14 d, 365 d), and at least a year on year-only dates or
      a month on month-only dates;
    * training window = min(span, 4 half-lives), at least 28 days;
    * spacing s = sqrt(occupied area / incidents in the window); grid cell = clamp(1.5 s,
      50 m, 250 m) rounded to 25 m; DBSCAN radius = clamp(s, 40 m, 120 m) rounded to 10 m;
    * least hotspot weight: 4 times what a DBSCAN disc would hold if the weight were spread
      evenly over the occupied area, and at least 3 typical incidents.

    Parameters
    ----------
    gdf_incidents
        Incidents from ingest (``datetime``, ``time_precision``, ``severity``, ``layer``).
    at
        The date planned; incidents from it on are ignored. Default: the day after the latest.
    max_size_m
        Size bound; default as in :func:`cluster_incidents`.
    level
        Logging level of the reasons (DEBUG where a caller derives them again for itself).

    Returns
    -------
    HotspotParams
        The parameters and one line of reasons per choice (also logged).

    Examples
    --------
    >>> from patrolplan import datasets, ingest
    >>> gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    >>> p = auto_params(gdf, at="2016-06-19")
    >>> p.half_life_days, p.train_days, p.time_precision, p.shift_profile
    (14.0, 28, 'datetime', True)
    """
    size = _max_size(max_size_m)
    reasons: list[str] = []
    when = gdf_incidents["datetime"]
    latest = when.max()
    if at is not None:
        at_ts = pd.Timestamp(at)
    elif pd.notna(latest):
        at_ts = latest.normalize() + pd.Timedelta(days=1)
    else:
        at_ts = pd.Timestamp.now().normalize()
    dated = gdf_incidents[when.notna() & (when < at_ts)]
    precision_col = (
        dated["time_precision"]
        if "time_precision" in dated
        else pd.Series("datetime", index=dated.index)
    )
    if dated.empty:
        precision = "none"
        span_days = 0.0
    else:
        shares = precision_col.value_counts(normalize=True)
        precision = str(shares.index[0])
        first = dated["datetime"].quantile(0.01)
        span_days = max(1.0, (at_ts - first).total_seconds() / 86400.0)
    timed = precision_col.eq("datetime")
    if timed.any():
        clock = dated.loc[timed, "datetime"]
        midnight = float(((clock.dt.hour == 0) & (clock.dt.minute == 0)).mean())
    else:
        midnight = 0.0
    shift_profile = bool(len(dated) and timed.mean() >= 0.5 and midnight < 0.5)
    timed_share = format_percent(timed.mean() if len(dated) else 0, decimals=0)
    if shift_profile:
        line = _(
            "time precision {precision} ({share} with a time of day): shift hours weigh incidents"
        )
    else:
        line = _("time precision {precision} ({share} with a time of day): shift hours off")
    reasons.append(line.format(precision=precision, share=timed_share))
    floor = {"year": 365.0, "month": 30.0}.get(precision, 14.0)
    half_life = round(max(_clamp(span_days / 4.0, 14.0, 365.0), floor), 1)
    if floor > 14:
        line = _(
            "half-life {half_life:g} days: a quarter of the {span:.0f}-day span, within 14-365 "
            "days, at least {floor:g} on {precision} dates"
        )
    else:
        line = _(
            "half-life {half_life:g} days: a quarter of the {span:.0f}-day span, within 14-365 days"
        )
    reasons.append(
        line.format(half_life=half_life, span=span_days, floor=floor, precision=precision)
    )
    train_days = int(np.ceil(max(28.0, min(span_days, 4.0 * half_life)))) if span_days else 28
    reasons.append(
        _("training window {days} days: 4 half-lives, at most the span").format(days=train_days)
    )
    recent = dated[dated["datetime"] >= at_ts - pd.Timedelta(days=train_days)]
    xy = _xy_m(recent) if len(recent) else np.zeros((0, 2))
    area_km2 = _occupied_km2(xy)
    spacing = float(np.sqrt(area_km2 * 1e6 / len(recent))) if len(recent) else 100.0
    cell_m = _clamp(round(1.5 * spacing / 25.0) * 25.0, 50.0, 250.0)
    eps_m = _clamp(round(spacing / 10.0) * 10.0, 40.0, 120.0)
    reasons.append(
        _(
            "{n} incidents on {area} km² in the window, one per {spacing:.0f} m: grid cell "
            "{cell:g} m, clustering radius {eps:g} m"
        ).format(
            n=format_number(len(recent)),
            area=format_number(area_km2, decimals=1),
            spacing=spacing,
            cell=cell_m,
            eps=eps_m,
        )
    )
    w = incident_weights(recent, at=at_ts, half_life_days=half_life) if len(recent) else None
    if w is not None and float(w.sum()) > 0:
        even = float(w.sum()) / max(area_km2 * 1e6, 1.0) * np.pi * eps_m**2
        typical = float(np.median(w[w > 0]))
        min_weight = round(max(4.0 * even, 3.0 * typical), 2)
        reasons.append(
            _(
                "least hotspot weight {weight:g}: 4x an even spread ({even}) "
                "and at least 3 typical incidents ({typical} each)"
            ).format(
                weight=min_weight,
                even=format_number(even, decimals=2),
                typical=format_number(typical, decimals=2),
            )
        )
    else:
        min_weight = float(settings.hotspot_min_weight)
        reasons.append(
            _("least hotspot weight {weight:g}: the default (no dated incidents)").format(
                weight=min_weight
            )
        )
    reasons.append(_("hotspots at most {size:g} m across").format(size=size))
    for reason in reasons:
        log(_("auto: {reason}").format(reason=reason), level)
    return HotspotParams(
        half_life_days=half_life,
        train_days=train_days,
        cell_m=cell_m,
        eps_m=eps_m,
        min_weight=min_weight,
        max_size_m=size,
        time_precision=precision,
        shift_profile=shift_profile,
        reasons=tuple(reasons),
    )


def data_warnings(
    gdf_incidents: gpd.GeoDataFrame,
    weights: pd.Series,
    gdf_hotspots: gpd.GeoDataFrame,
    *,
    at: str | pd.Timestamp | None = None,
    max_size_m: float | None = None,
) -> list[str]:
    """Say, in words a supervisor understands, when a plan rests on little.

    Parameters
    ----------
    gdf_incidents
        Incidents the plan used.
    weights
        Their weights (:func:`incident_weights`).
    gdf_hotspots
        Hotspots found (:func:`find_hotspots`).
    at
        The date planned; default the day after the latest incident.
    max_size_m
        Size bound the hotspots were found with; wider ones are reported.

    Returns
    -------
    list of str
        One line per problem, empty when none.

    Examples
    --------
    >>> from patrolplan import datasets, ingest
    >>> gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    >>> w = incident_weights(gdf, at="2016-06-19")
    >>> hs, _ = find_hotspots(gdf, w, max_size_m=float("inf"))
    >>> data_warnings(gdf, w, hs)[0]
    'hotspot H002 is 423 m across: more than one officer can watch (150 m)'
    """
    size = _max_size(max_size_m)
    bound = size if np.isfinite(size) else DEFAULT_MAX_SIZE_M
    out: list[str] = []
    w = weights.reindex(gdf_incidents.index).fillna(0.0)
    total = float(w.sum())
    if "size_m" in gdf_hotspots:
        wide = gdf_hotspots[gdf_hotspots["size_m"] > 1.2 * bound]
        out.extend(
            _(
                "hotspot {id} is {size:.0f} m across: more than one officer can watch ({bound:g} m)"
            ).format(id=r.hotspot_id, size=r.size_m, bound=bound)
            for r in wide.itertuples()
        )
    if total <= 0:
        out.append(_("no incident carries any weight: nothing to plan on"))
        return out
    when = gdf_incidents["datetime"]
    at_ts = pd.Timestamp(at) if at is not None else when.max() + pd.Timedelta(days=1)
    if pd.notna(at_ts) and when.notna().any():
        gap = (at_ts - when.max()).days
        if gap > 60:
            out.append(
                _("the latest incident is {days} days older than the plan date").format(days=gap)
            )
        periods = (
            (30, _("{share} of the risk comes from {n} incidents of the last month")),
            (90, _("{share} of the risk comes from {n} incidents of the last three months")),
            (365, _("{share} of the risk comes from {n} incidents of the last year")),
        )
        for days, line in periods:
            recent = when >= at_ts - pd.Timedelta(days=days)
            share = float(w[recent].sum()) / total
            if share >= 0.8:
                n = int(recent.sum())
                if n < 50:
                    out.append(line.format(share=format_percent(share, decimals=0), n=n))
                break
    ordered = np.sort(w.to_numpy())[::-1]
    half = int(np.searchsorted(np.cumsum(ordered), 0.5 * total)) + 1
    if half <= 10:
        out.append(
            ngettext(
                "half of the risk comes from {n} incident",
                "half of the risk comes from {n} incidents",
                half,
            ).format(n=half)
        )
    if (
        "time_precision" in gdf_incidents
        and not gdf_incidents["time_precision"].eq("datetime").any()
    ):
        out.append(_("no incident has a time of day: the shift's hours do not change the plan"))
    if "n_incidents" in gdf_hotspots and len(gdf_hotspots) >= 4:
        thin = int((gdf_hotspots["n_incidents"] <= 2).sum())
        # a place that saw one or two incidents is as likely a coincidence as a hotspot
        if thin > len(gdf_hotspots) / 2:
            out.append(
                _(
                    "{thin} of {n} hotspots hold 2 incidents or fewer: most places on the "
                    "routes are chance, not pattern; a longer history would say more"
                ).format(thin=thin, n=len(gdf_hotspots))
            )
    if gdf_hotspots.empty:
        out.append(_("no place holds enough incidents to be a hotspot"))
    elif float(gdf_hotspots["share"].sum()) < 0.1:
        out.append(
            _("the {n} hotspots hold only {share} of the risk: incidents are spread thin").format(
                n=len(gdf_hotspots),
                share=format_percent(float(gdf_hotspots["share"].sum()), decimals=0),
            )
        )
    for problem in out:
        log(_("warning: {problem}").format(problem=problem))
    return out
