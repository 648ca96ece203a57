"""Weight incidents and find the hotspots worth a patrol visit.

Weights combine the harm weight of an incident's category, the weight of its layer (crime,
accident, juvenile), an exponential recency decay, and a shift profile that favours incidents
at the hours of the shift being planned. Hotspots are clusters of weighted incidents found by
DBSCAN (with sample weights) or HDBSCAN in a metric CRS. :func:`kde_grid` gives a smooth
kernel-density risk surface on a grid.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage
from sklearn.cluster import DBSCAN, HDBSCAN

from patrolplan import settings
from patrolplan._errors import InputDataError
from patrolplan.utils import log

#: Weight of each layer in the combined risk.
DEFAULT_LAYER_WEIGHTS: dict[str, float] = {"crime": 1.0, "accident": 1.0, "juvenile": 1.0}


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
        Half-life of the recency decay; default :data:`patrolplan.settings.half_life_days`.
    shift_start_hour, shift_length_h
        The shift being planned; when None, every hour weighs the same.
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
    age_days = ((at_ts - when).dt.total_seconds() / 86400.0).clip(lower=0.0)
    recency = np.power(0.5, age_days / half_life).fillna(1.0)
    w = gdf_incidents["severity"].astype(float) * gdf_incidents["layer"].map(layers).fillna(1.0)
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
    return gdf.estimate_utm_crs()


def _xy_m(gdf: gpd.GeoDataFrame) -> np.ndarray:
    crs = metric_crs(gdf)
    geom = gdf.geometry if crs is None else gdf.geometry.to_crs(crs)
    return np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])


def cluster_incidents(
    gdf_incidents: gpd.GeoDataFrame,
    weights: pd.Series,
    *,
    method: str = "dbscan",
    eps_m: float | None = None,
    min_weight: float | None = None,
    min_cluster_size: int = 5,
) -> pd.Series:
    """Label incidents by cluster; -1 marks incidents in no hotspot.

    Parameters
    ----------
    gdf_incidents
        Incidents.
    weights
        From :func:`incident_weights`, same index.
    method
        ``"dbscan"`` (weighted; `eps_m`, `min_weight`) or ``"hdbscan"``
        (`min_cluster_size`; weights not used for density).
    eps_m
        DBSCAN radius in metres; default :data:`patrolplan.settings.hotspot_eps_m`.
    min_weight
        DBSCAN: least total weight within `eps_m` of a core incident; default
        :data:`patrolplan.settings.hotspot_min_weight`.
    min_cluster_size
        HDBSCAN: least incidents in a cluster.

    Returns
    -------
    pandas.Series
        Integer label per incident, same index as `gdf_incidents`.

    Raises
    ------
    InputDataError
        If `method` is unknown.
    """
    if gdf_incidents.empty:
        return pd.Series(dtype=int, name="cluster")
    xy = _xy_m(gdf_incidents)
    w = weights.reindex(gdf_incidents.index).to_numpy(dtype=float)
    if method == "dbscan":
        eps = settings.hotspot_eps_m if eps_m is None else eps_m
        min_w = settings.hotspot_min_weight if min_weight is None else min_weight
        # scikit-learn counts sample weights towards an integer min_samples
        min_samples = max(1, int(np.ceil(min_w)))
        labels = DBSCAN(eps=eps, min_samples=min_samples).fit(xy, sample_weight=w).labels_
    elif method == "hdbscan":
        if len(xy) < 2:
            labels = np.full(len(xy), -1)
        else:
            model = HDBSCAN(min_cluster_size=max(2, min_cluster_size), copy=True)
            labels = model.fit(xy).labels_
    else:
        msg = f"`method` must be 'dbscan' or 'hdbscan', got {method!r}"
        raise InputDataError(msg)
    return pd.Series(labels, index=gdf_incidents.index, name="cluster")


def _active_hours(hours: pd.Series, w: pd.Series) -> tuple[str, int]:
    """Shortest run of hours holding half the weight, and the peak hour."""
    hours = hours.dropna()
    if hours.empty:
        return "", -1
    per_hour = np.bincount(hours.astype(int), weights=w.loc[hours.index], minlength=24)
    peak = int(per_hour.argmax())
    total = per_hour.sum()
    best = (24, peak)
    for start in range(24):
        acc = 0.0
        for length in range(1, 25):
            acc += per_hour[(start + length - 1) % 24]
            if acc >= 0.5 * total:
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
    buffer_m: float = 30.0,
) -> gpd.GeoDataFrame:
    """Summarise labelled incidents into ranked hotspot polygons.

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

    Returns
    -------
    geopandas.GeoDataFrame
        One row per hotspot, ranked by ``risk`` (1 = highest): ``hotspot_id``, ``rank``,
        ``risk``, ``share`` (of all weight), ``n_incidents``, ``n_crime``, ``n_accident``,
        ``n_juvenile``, ``top_categories``, ``active_hours``, ``peak_hour``, ``lon``, ``lat``
        (weighted centre) and ``geometry`` (polygon), in the CRS of the incidents.
    """
    crs = metric_crs(gdf_incidents)
    geom_m = gdf_incidents.geometry if crs is None else gdf_incidents.geometry.to_crs(crs)
    total = float(weights.sum()) or 1.0
    rows = []
    for label in sorted(set(labels.tolist()) - {-1}):
        idx = labels.index[labels == label]
        w = weights.loc[idx]
        pts = geom_m.loc[idx]
        x = float(np.average(pts.x, weights=w)) if w.sum() > 0 else float(pts.x.mean())
        y = float(np.average(pts.y, weights=w)) if w.sum() > 0 else float(pts.y.mean())
        poly = shapely.convex_hull(shapely.multipoints(np.column_stack([pts.x, pts.y])))
        sub = gdf_incidents.loc[idx]
        cats = w.groupby(sub["category"]).sum().sort_values(ascending=False)
        hours, peak = _active_hours(sub["hour"], w)
        rows.append(
            {
                "risk": float(w.sum()),
                "share": float(w.sum()) / total,
                "n_incidents": len(idx),
                **{
                    f"n_{layer}": int((sub["layer"] == layer).sum())
                    for layer in ("crime", "accident", "juvenile")
                },
                "top_categories": ", ".join(
                    f"{c} {int((sub['category'] == c).sum())}" for c in cats.index[:3]
                ),
                "active_hours": hours,
                "peak_hour": peak,
                "cx": x,
                "cy": y,
                "geometry": poly.buffer(buffer_m),
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
    **kwargs: object,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Cluster incidents and summarise the clusters as ranked hotspots.

    Parameters
    ----------
    gdf_incidents
        Incidents.
    weights
        Weight per incident.
    **kwargs
        Passed to :func:`cluster_incidents`.

    Returns
    -------
    tuple
        ``(gdf_hotspots, labels)``; ``labels`` maps each incident to its hotspot's
        ``cluster`` (-1 = none).

    Examples
    --------
    >>> from patrolplan import datasets, ingest
    >>> gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    >>> hs, labels = find_hotspots(gdf, incident_weights(gdf))
    >>> hs.loc[0, "hotspot_id"], int(hs.loc[0, "rank"]), int(hs.loc[0, "n_incidents"])
    ('H001', 1, 129)
    """
    labels = cluster_incidents(gdf_incidents, weights, **kwargs)  # type: ignore[arg-type]
    gdf_hot = hotspots_from_labels(gdf_incidents, weights, labels)
    covered = float(weights[labels >= 0].sum()) / (float(weights.sum()) or 1.0)
    log(f"Found {len(gdf_hot):,} hotspots holding {covered:.0%} of the weighted incidents")
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
    grid, _, _ = np.histogram2d(
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
    log(f"Gi*: {int(hot.sum())} of {grid.size} cells hot at FDR {alpha:g}")
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
