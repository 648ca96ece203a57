"""Load the real long-history sets of ``../shared/data`` for the hotspot benchmarks.

Only the bench scripts use this module; tests read small copies in ``tests/data``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from patrolplan import graph, ingest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: Header bounds of the Baltimore demo extract (lon0, lat0, lon1, lat1).
DEMO_BOUNDS = (-76.6081, 39.2586, -76.5288, 39.3065)


def arrests_frame(path: Path | None = None) -> pd.DataFrame:
    """Baltimore 2017 arrests inside the demo extract, as plain columns with ISO datetimes."""
    raw = pd.read_csv(path or SHARED / "baltimore" / "baltimore_arrests_2017.csv", dtype=str)
    when = pd.to_datetime(
        raw["ArrestDate"].str.strip() + " " + raw["ArrestTime"].fillna("").str.strip(),
        format="%m/%d/%Y %H:%M",
        errors="coerce",
    )
    lon = pd.to_numeric(raw["Longitude"], errors="coerce")
    lat = pd.to_numeric(raw["Latitude"], errors="coerce")
    lon0, lat0, lon1, lat1 = DEMO_BOUNDS
    inside = lon.between(lon0, lon1) & lat.between(lat0, lat1) & when.notna()
    cat = raw["IncidentOffense"].fillna("Unknown Offense").str.strip()
    return pd.DataFrame(
        {
            "id": raw["Arrest"],
            "datetime": when.dt.strftime("%Y-%m-%d %H:%M"),
            "category": cat,
            "latitude": lat,
            "longitude": lon,
        }
    )[inside.to_numpy()].reset_index(drop=True)


def read_frame(df: pd.DataFrame, **kwargs: object) -> gpd.GeoDataFrame:
    """Ingest a frame through a temporary CSV, as a user's file would be."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "incidents.csv"
        df.to_csv(path, index=False)
        gdf, _ = ingest.read_incidents(path, **kwargs)  # type: ignore[arg-type]
    return gdf


def arrests() -> gpd.GeoDataFrame:
    """Ingested Baltimore 2017 arrests inside the demo extract."""
    return read_frame(arrests_frame())


def toronto_frame(
    precision: str = "datetime", bbox: tuple[float, ...] | None = None
) -> pd.DataFrame:
    """Toronto MCI 2014-2021 (2014 on), coarsened to ``date`` or ``year`` if asked."""
    df = pd.read_csv(SHARED / "toronto" / "toronto_mci_2014-2021.csv")
    df = df[df["datetime"] >= "2014-01-01"].reset_index(drop=True)
    if bbox is not None:
        lon0, lat0, lon1, lat1 = bbox
        df = df[df["lon"].between(lon0, lon1) & df["lat"].between(lat0, lat1)]
    if precision == "date":
        df["datetime"] = df["datetime"].str[:10]
    elif precision == "year":
        df["datetime"] = df["datetime"].str[:4]
    return df.reset_index(drop=True)


def toronto(precision: str = "datetime", bbox: tuple[float, ...] | None = None) -> gpd.GeoDataFrame:
    """Ingested Toronto incidents."""
    return read_frame(toronto_frame(precision, bbox))


def dense_downtown(n: int, *, seed: int = 0, area_km2: float = 2.2) -> gpd.GeoDataFrame:
    """``n`` incidents resampled from the 2016 crimes in a downtown square, jittered 40 m."""
    from patrolplan import datasets

    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    side = np.sqrt(area_km2) * 1000.0
    crs = gdf.estimate_utm_crs()
    xy = gdf.to_crs(crs).geometry
    cx, cy = xy.x.median(), xy.y.median()
    rng = np.random.default_rng(seed)
    near = xy[(abs(xy.x - cx) < side / 2) & (abs(xy.y - cy) < side / 2)]
    pick = rng.integers(0, len(near), n)
    x = near.x.to_numpy()[pick] + rng.normal(0, 40, n)
    y = near.y.to_numpy()[pick] + rng.normal(0, 40, n)
    x = np.clip(x, cx - side / 2, cx + side / 2)
    y = np.clip(y, cy - side / 2, cy + side / 2)
    src = gdf.loc[near.index[pick]].reset_index(drop=True)
    out = gpd.GeoDataFrame(src.drop(columns="geometry"), geometry=gpd.points_from_xy(x, y), crs=crs)
    return out.to_crs("EPSG:4326")


def demo_area() -> object:
    """Polygon of the demo street graph (for ingest's ``area``)."""
    from patrolplan import datasets

    return graph.graph_area(graph.graph_from_file(datasets.baltimore_osm()))
