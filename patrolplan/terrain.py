"""Risk-terrain features from the OSM extract itself: bars, shops, transit stops, ATMs...

Risk terrain modelling (Caplan and Kennedy 2011) explains where crime concentrates by the
places that draw or enable it: bars and nightclubs, liquor shops, fast food, transit stops,
schools, banks and ATMs, parking, and the busy streets themselves (traffic signals, major
roads). :func:`read_places` reads them from the node and way tags of
a local ``.osm.pbf``/``.osm`` extract with osmium (no network); :func:`cell_features` turns them
into counts within a radius and distances to the nearest of each kind, per grid cell, for
:mod:`patrolplan.forecast`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from patrolplan._errors import InputDataError
from patrolplan.i18n import _
from patrolplan.utils import file_sha256, log

if TYPE_CHECKING:
    import geopandas as gpd

    from patrolplan.grid import Grid

_Tags = Mapping[str, str]


def _amenity(*values: str) -> Callable[[_Tags], bool]:
    return lambda t: t.get("amenity", "") in values


def _shop_other(t: _Tags) -> bool:
    return bool(t.get("shop")) and t.get("shop") not in ("alcohol", "wine", "beverages")


def _transit(t: _Tags) -> bool:
    return (
        t.get("highway") == "bus_stop"
        or t.get("public_transport") in ("platform", "stop_position", "station")
        or t.get("railway") in ("station", "halt", "tram_stop", "subway_entrance")
    )


_MAJOR_ROADS = ("motorway", "trunk", "primary", "secondary")

#: Kinds of place and the OSM tags that make one; the first matching kind wins.
KINDS: dict[str, Callable[[_Tags], bool]] = {
    "bar": _amenity("bar", "pub", "biergarten"),
    "nightclub": _amenity("nightclub"),
    "liquor": lambda t: t.get("shop", "") in ("alcohol", "wine", "beverages"),
    "fast_food": _amenity("fast_food"),
    "restaurant": _amenity("restaurant", "cafe"),
    "shop": _shop_other,
    "transit": _transit,
    "school": _amenity("school", "college", "university", "kindergarten"),
    "bank_atm": _amenity("bank", "atm", "bureau_de_change"),
    "parking": _amenity("parking", "parking_entrance"),
    "fuel": _amenity("fuel"),
    "signals": lambda t: t.get("highway") == "traffic_signals",
    "major_road": lambda t: t.get("highway", "") in _MAJOR_ROADS,
}

#: Radius of the per-cell counts, metres.
COUNT_RADIUS_M = 200.0
#: Distances to the nearest place are capped here, metres.
MAX_DIST_M = 2000.0

_CACHE: dict[str, pd.DataFrame] = {}


def _kind(tags: _Tags) -> str | None:
    for name, test in KINDS.items():
        if test(tags):
            return name
    return None


def read_places(osm_path: str | Path) -> pd.DataFrame:
    """Read the risk-terrain places (nodes and ways) of an OSM extract.

    A way (a bar drawn as a building) is placed at the mean of its nodes. The result is kept
    in memory per file content (SHA-256), so a second call on the same extract is free.

    Parameters
    ----------
    osm_path
        A local ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` extract.

    Returns
    -------
    pandas.DataFrame
        One row per place: ``kind`` (a key of :data:`KINDS`), ``name`` (``""`` when
        untagged), ``osm_type`` (``node``/``way``), ``osm_id``, ``lon``, ``lat`` (WGS84).

    Raises
    ------
    InputDataError
        If the file is missing or osmium cannot read it.
    """
    import osmium

    path = Path(osm_path)
    if not path.is_file():
        msg = _("`osm` file {path} not found").format(path=path)
        raise InputDataError(msg)
    digest = file_sha256(path)
    if digest in _CACHE:
        return _CACHE[digest].copy()
    rows: list[dict[str, Any]] = []
    try:
        processor = osmium.FileProcessor(str(path)).with_locations()
        for item in processor:
            obj: Any = item
            if not obj.tags or obj.is_relation():
                continue
            tags = {t.k: t.v for t in obj.tags}
            kind = _kind(tags)
            if kind is None:
                continue
            if obj.is_node():
                if not obj.location.valid():
                    continue
                lon, lat = obj.location.lon, obj.location.lat
                osm_type = "node"
            else:
                locs = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
                if not locs:
                    continue
                osm_type = "way"
                if kind == "major_road":
                    # a road is a line: each of its nodes is a point of it
                    name = tags.get("name", "")
                    rows += [
                        {
                            "kind": kind,
                            "name": name,
                            "osm_type": osm_type,
                            "osm_id": int(obj.id),
                            "lon": float(x),
                            "lat": float(y),
                        }
                        for x, y in locs
                    ]
                    continue
                lon, lat = (float(v) for v in np.mean(np.asarray(locs), axis=0))
            rows.append(
                {
                    "kind": kind,
                    "name": tags.get("name", ""),
                    "osm_type": osm_type,
                    "osm_id": int(obj.id),
                    "lon": float(lon),
                    "lat": float(lat),
                }
            )
    except (RuntimeError, OSError) as exc:
        msg = _("cannot read OSM extract {path}: {error}").format(
            path=path, error=" ".join(str(exc).split())
        )
        raise InputDataError(msg) from None
    out = pd.DataFrame(rows, columns=["kind", "name", "osm_type", "osm_id", "lon", "lat"])
    log(
        _("Risk terrain: {n} places of {kinds} kinds in {path}").format(
            n=len(out), kinds=out["kind"].nunique(), path=path.name
        )
    )
    _CACHE[digest] = out
    return out.copy()


def cell_features(places: pd.DataFrame, grid: Grid) -> tuple[np.ndarray, list[str]]:
    """Count the places of each kind near every cell and measure the distance to the nearest.

    Parameters
    ----------
    places
        From :func:`read_places`.
    grid
        The forecast grid (:class:`patrolplan.grid.Grid`).

    Returns
    -------
    tuple
        ``(features, names)``: an array of shape ``(nx * ny, 2 * len(KINDS))`` in flat cell
        order (per kind: places whose point lies within :data:`COUNT_RADIUS_M` of the cell's
        centre, and the distance in metres from the centre to the nearest, capped at
        :data:`MAX_DIST_M`), and the column names.
    """
    import geopandas as gpd
    from scipy.spatial import cKDTree

    centres = grid.centres()
    names: list[str] = []
    cols: list[np.ndarray] = []
    if len(places):
        pts = gpd.GeoSeries(gpd.points_from_xy(places["lon"], places["lat"]), crs="EPSG:4326")
        if grid.crs is not None:
            pts = pts.to_crs(grid.crs)
        xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    else:
        xy = np.zeros((0, 2))
    kinds = places["kind"].to_numpy() if len(places) else np.array([], dtype=object)
    for kind in KINDS:
        sel = xy[kinds == kind]
        if len(sel) == 0:
            count = np.zeros(len(centres))
            dist = np.full(len(centres), MAX_DIST_M)
        else:
            tree = cKDTree(sel)
            dist, _idx = tree.query(centres, k=1, distance_upper_bound=MAX_DIST_M)
            dist = np.minimum(dist, MAX_DIST_M)
            count = np.asarray(
                tree.query_ball_point(centres, r=COUNT_RADIUS_M, return_length=True), dtype=float
            )
        cols += [count, dist]
        names += [f"n_{kind}_{COUNT_RADIUS_M:g}m", f"dist_{kind}_m"]
    return np.column_stack(cols), names


def places_frame(places: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return the places as points (WGS84), for maps and checks."""
    import geopandas as gpd

    return gpd.GeoDataFrame(
        places, geometry=gpd.points_from_xy(places["lon"], places["lat"]), crs="EPSG:4326"
    )
