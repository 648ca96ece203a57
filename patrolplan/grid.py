"""The study area as square cells of a metric grid, shared by the forecast and the backtest.

:class:`Grid` and :func:`study_grid` live here so that :mod:`patrolplan.forecast` and
:mod:`patrolplan.backtest` both use them without importing each other. The hotspot module is
imported inside the functions, so that it may in turn import the forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd


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
        from patrolplan import hotspots

        if gdf.empty:
            return np.zeros(self.shape)
        grid, _origin, _crs = hotspots.grid_counts(
            gdf,
            weights,
            cell_m=self.cell_m,
            origin=(self.x0, self.y0),
            shape=self.shape,
            crs=self.crs,
        )
        return grid

    def cell_of(self, xy: np.ndarray) -> np.ndarray:
        """Flat cell index (``ix * ny + iy``) of metric points, -1 off the grid."""
        ix = np.floor((xy[:, 0] - self.x0) / self.cell_m).astype(np.int64)
        iy = np.floor((xy[:, 1] - self.y0) / self.cell_m).astype(np.int64)
        ok = (ix >= 0) & (iy >= 0) & (ix < self.shape[0]) & (iy < self.shape[1])
        return np.where(ok, ix * self.shape[1] + iy, -1)

    def centres(self) -> np.ndarray:
        """Metric centre of every cell, shape ``(nx * ny, 2)`` in flat cell order."""
        ix, iy = np.meshgrid(np.arange(self.shape[0]), np.arange(self.shape[1]), indexing="ij")
        return np.column_stack(
            [
                self.x0 + (ix.ravel() + 0.5) * self.cell_m,
                self.y0 + (iy.ravel() + 0.5) * self.cell_m,
            ]
        )


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
    from patrolplan import hotspots

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
