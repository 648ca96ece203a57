"""Split a district into contiguous patrol areas of balanced workload, one per officer.

The district is cut into small units: square grid cells (200 m by default) that hold streets.
Two units are neighbours when a street runs from one into the other, so an area is contiguous
along the street network, not merely on the map. Each unit carries a workload: its share of
the weighted incidents plus its share of the street length to walk, both normalised to sum to
1 over the district and mixed half and half by default.

:func:`partition` starts from PySAL spopt's SKATER (``Skater``: cuts of a minimum spanning tree
of the unit graph on the units' coordinates, which makes compact contiguous regions), then
repairs the balance
with a deterministic local search: a unit on the boundary of a heavy area moves to a lighter
neighbouring area when the move lowers the spread of workloads and leaves the heavy area in
one piece (a unit that alone links a dead-end part of the heavy area takes that part with
it), preferring units nearer the receiving area's centre, until the heaviest area is at
most `max_ratio` times the lightest. :func:`restrict` gives the street graph of one area, so an
officer can be planned inside his own area.

Examples
--------
>>> from patrolplan import datasets, posts
>>> data = posts.load_risk(datasets.baltimore_crimes(), datasets.baltimore_osm())
>>> parts = partition(data.G, data.risk, officers=3, seed=0)
>>> len(parts.areas), parts.balance <= 1.2
(3, True)
"""

from __future__ import annotations

import time
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from patrolplan import export, graph, i18n, render, settings
from patrolplan._errors import InputDataError
from patrolplan.i18n import _, ngettext
from patrolplan.utils import atomic_write_text, log

if TYPE_CHECKING:
    from collections.abc import Sequence

    import folium

__all__ = [
    "AreaPartition",
    "areas_geojson",
    "areas_map",
    "assign_posts_to_areas",
    "check_areas",
    "partition",
    "read_areas",
    "restrict",
    "units",
    "write_areas",
]

#: Area colours (Okabe-Ito, then ColorBrewer Set2), cycled.
AREA_COLOURS = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#66c2a5",
    "#fc8d62",
    "#8da0cb",
    "#e78ac3",
)


@dataclass(frozen=True, eq=False)
class AreaPartition:
    """Patrol areas from :func:`partition`.

    Attributes
    ----------
    units
        One row per unit (metric CRS of the graph): ``unit``, ``risk``, ``length_m``,
        ``workload``, ``x``, ``y`` (cell centre), ``area`` (1-based), ``geometry`` (the cell).
    areas
        One row per area (EPSG:4326): ``area``, ``n_units``, ``risk``, ``risk_share``,
        ``street_km``, ``area_km2``, ``workload`` (share of the district's workload),
        ``workload_ratio`` (to the mean), ``geometry`` (union of its cells).
    neighbours
        Unit adjacency along the streets, as a symmetric sparse matrix.
    balance
        Heaviest area's workload over the lightest's.
    seconds
        Wall time.
    """

    units: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    neighbours: sparse.csr_matrix
    balance: float
    seconds: float


def units(
    G: nx.MultiDiGraph,
    risk: pd.Series,
    *,
    cell_m: float = 200.0,
    risk_weight: float = 0.5,
) -> tuple[gpd.GeoDataFrame, sparse.csr_matrix]:
    """Cut the district into grid-cell units that hold streets, with workload and adjacency.

    Parameters
    ----------
    G
        A projected graph.
    risk
        Risk per node id (from :func:`patrolplan.posts.node_risk`).
    cell_m
        Cell size, metres.
    risk_weight
        Weight of the risk share in the workload; the street-length share gets the rest.

    Returns
    -------
    tuple
        ``(gdf_units, neighbours)``: units in the graph's CRS (``unit``, ``risk``,
        ``length_m``, ``workload``, ``x``, ``y``, ``geometry``) and a symmetric sparse
        adjacency matrix (units joined by a street).

    Raises
    ------
    InputDataError
        If `cell_m` or `risk_weight` is out of range.
    """
    if not 20 <= cell_m <= 5000:
        msg = _("`cell_m` must be between 20 and 5000 metres, got {cell_m:g}").format(cell_m=cell_m)
        raise InputDataError(msg)
    if not 0 <= risk_weight <= 1:
        msg = _("`risk_weight` must be between 0 and 1, got {value:g}").format(value=risk_weight)
        raise InputDataError(msg)
    edges = graph._undirected_edges(G)
    lines = shapely.segmentize(edges.geometry.to_numpy(), min(20.0, cell_m / 5))
    xy, part = shapely.get_coordinates(lines, return_index=True)
    cell = np.floor(xy / cell_m).astype(np.int64)
    same = part[1:] == part[:-1]
    mid = np.floor((xy[1:] + xy[:-1]) / 2 / cell_m).astype(np.int64)[same]
    seg_len = np.hypot(*(xy[1:] - xy[:-1]).T)[same]
    keys = pd.MultiIndex.from_arrays(
        [np.concatenate([cell[:, 0], mid[:, 0]]), np.concatenate([cell[:, 1], mid[:, 1]])]
    ).unique()
    index = pd.MultiIndex.from_frame(
        keys.to_frame(index=False).sort_values([0, 1]), names=["cx", "cy"]
    )
    n = len(index)

    def code(c: np.ndarray) -> np.ndarray:
        return np.asarray(index.get_indexer(pd.MultiIndex.from_arrays([c[:, 0], c[:, 1]])))

    length = np.bincount(code(mid), weights=seg_len, minlength=n)
    # a street joins the cells of consecutive vertices through the cell of their midpoint
    a, c, b = code(cell[:-1][same]), code(mid), code(cell[1:][same])
    src, dst = np.concatenate([a, c]), np.concatenate([c, b])
    step = src != dst
    adj = sparse.coo_matrix(
        (np.ones(int(step.sum())), (src[step], dst[step])), shape=(n, n)
    ).tocsr()
    adj = ((adj + adj.T) > 0).astype(np.int8).tocsr()
    node_w = risk[risk > 0]
    nxy = np.array([(G.nodes[v]["x"], G.nodes[v]["y"]) for v in node_w.index]).reshape(-1, 2)
    r_code = code(np.floor(nxy / cell_m).astype(np.int64))
    ok = r_code >= 0
    risk_u = np.bincount(r_code[ok], weights=node_w.to_numpy(float)[ok], minlength=n)
    total_r, total_l = float(risk_u.sum()), float(length.sum())
    workload = (1 - risk_weight) * length / total_l
    if total_r > 0:
        workload = workload + risk_weight * risk_u / total_r
    cx = index.get_level_values(0).to_numpy()
    cy = index.get_level_values(1).to_numpy()
    boxes = shapely.box(cx * cell_m, cy * cell_m, (cx + 1) * cell_m, (cy + 1) * cell_m)
    gdf = gpd.GeoDataFrame(
        {
            "unit": np.arange(n),
            "risk": risk_u,
            "length_m": length,
            "workload": workload,
            "x": (cx + 0.5) * cell_m,
            "y": (cy + 0.5) * cell_m,
        },
        geometry=boxes,
        crs=G.graph["crs"],
    )
    return gdf, adj


def _skater(gdf: gpd.GeoDataFrame, adj: sparse.csr_matrix, k: int, seed: int) -> np.ndarray:
    """Compact contiguous start regions: spopt's SKATER cuts of the units' spanning tree."""
    import libpysal
    from spopt.region import Skater

    rows, cols = adj.nonzero()
    neighbours: dict[int, list[int]] = {i: [] for i in range(adj.shape[0])}
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        neighbours[i].append(j)
    xy = gdf[["x", "y"]].to_numpy()
    z = (xy - xy.mean(axis=0)) / xy.std(axis=0)
    # a tiny seeded jitter breaks the ties of a regular grid reproducibly
    z = z + np.random.default_rng(seed).normal(0.0, 1e-6, z.shape)
    frame = gpd.GeoDataFrame({"zx": z[:, 0], "zy": z[:, 1]}, geometry=gdf.geometry.values)
    with warnings.catch_warnings():
        # libpysal and spopt warn about their own internals (islands, dtypes)
        warnings.simplefilter("ignore")
        w = libpysal.weights.W(neighbours, silence_warnings=True)
        model = Skater(frame, w, ["zx", "zy"], n_clusters=k, floor=max(1, len(gdf) // (4 * k)))
        model.solve()
    return np.asarray(model.labels_, dtype=np.int64)


def _split_components(labels: np.ndarray, adj: sparse.csr_matrix, k: int) -> np.ndarray:
    """Give every region one connected piece: stray pieces join a neighbouring region."""
    labels = labels.copy()
    for _step in range(adj.shape[0]):
        changed = False
        for r in range(k):
            members = np.flatnonzero(labels == r)
            if len(members) == 0:
                continue
            sub = adj[members][:, members]
            n_comp, comp = csgraph.connected_components(sub, directed=False)
            if n_comp <= 1:
                continue
            keep = np.argmax(np.bincount(comp))
            for c in range(n_comp):
                if c == keep:
                    continue
                piece = members[comp == c]
                nb = np.unique(adj[piece].indices)
                others = labels[nb][labels[nb] != r]
                if len(others):
                    labels[piece] = np.bincount(others).argmax()
                    changed = True
        if not changed:
            break
    return labels


def _piece(unit: int, members: set[int], adj: sparse.csr_matrix) -> set[int]:
    """Units that leave `members` with `unit`: itself and any part only it connected.

    The largest part of `members` without `unit` stays (ties: the part holding the lowest
    unit); the rest would be cut off, so it moves too and the area stays in one piece.
    """
    rest = members - {unit}
    if not rest:
        return set(members)
    parts: list[set[int]] = []
    seen: set[int] = set()
    for start in sorted(
        int(j) for j in adj.indices[adj.indptr[unit] : adj.indptr[unit + 1]] if j in rest
    ):
        if start in seen:
            continue
        part, queue = {start}, deque([start])
        while queue:
            i = queue.popleft()
            for j in adj.indices[adj.indptr[i] : adj.indptr[i + 1]]:
                j = int(j)
                if j in rest and j not in part:
                    part.add(j)
                    queue.append(j)
        seen |= part
        parts.append(part)
        if len(part) == len(rest):
            return {unit}
    keep = max(parts, key=lambda p: (len(p), -min(p)))
    return members - keep


def _repair(
    labels: np.ndarray,
    load: np.ndarray,
    xy: np.ndarray,
    adj: sparse.csr_matrix,
    k: int,
    max_ratio: float,
    max_moves: int,
) -> tuple[np.ndarray, int]:
    """Move boundary units from heavy to lighter neighbouring areas while it lowers the spread."""
    labels = labels.copy()
    members = [set(np.flatnonzero(labels == r).tolist()) for r in range(k)]
    totals = np.array([load[list(m)].sum() for m in members])
    sums = np.array([xy[list(m)].sum(axis=0) for m in members])
    moves = 0
    while moves < max_moves and totals.max() > max_ratio * totals.min():
        heavy, light = int(totals.argmax()), int(totals.argmin())
        centre = sums / np.array([len(m) for m in members])[:, None]
        candidates = []
        rows, cols = adj.nonzero()
        cross = labels[rows] != labels[cols]
        for u, v in zip(rows[cross].tolist(), cols[cross].tolist(), strict=True):
            a, b = int(labels[u]), int(labels[v])
            # moving u from a to b lowers the sum of squared workloads only if it narrows a-b
            if load[u] <= 0 or load[u] >= totals[a] - totals[b]:
                continue
            tier = 0 if a == heavy else 1 if b == light else 2
            shift = float(np.hypot(*(xy[u] - centre[b])) - np.hypot(*(xy[u] - centre[a])))
            candidates.append((tier, shift, u, b))
        moved = False
        for _tier, _shift, u, b in sorted(set(candidates)):
            a = int(labels[u])
            piece = _piece(u, members[a], adj)
            idx = np.fromiter(piece, dtype=np.int64)
            weight = float(load[idx].sum())
            if len(piece) * 2 > len(members[a]) or weight >= totals[a] - totals[b]:
                continue
            members[a] -= piece
            members[b] |= piece
            labels[idx] = b
            totals[a] -= weight
            totals[b] += weight
            sums[a] -= xy[idx].sum(axis=0)
            sums[b] += xy[idx].sum(axis=0)
            moves += 1
            moved = True
            break
        if not moved:
            break
    return labels, moves


def partition(
    G: nx.MultiDiGraph,
    risk: pd.Series,
    *,
    officers: int,
    cell_m: float = 200.0,
    risk_weight: float = 0.5,
    max_ratio: float = 1.1,
    seed: int | None = None,
    max_moves: int = 5000,
) -> AreaPartition:
    """Split the district into `officers` contiguous areas of balanced workload.

    Parameters
    ----------
    G
        A projected graph.
    risk
        Risk per node id (from :func:`patrolplan.posts.node_risk`).
    officers
        Areas to make.
    cell_m
        Unit cell size, metres.
    risk_weight
        Weight of the risk share in the workload; street length gets the rest.
    max_ratio
        The repair stops once the heaviest area is at most this times the lightest.
    seed
        Seed of the tie-breaking jitter of the start; default :data:`patrolplan.settings.seed`.
    max_moves
        Most unit moves of the repair.

    Returns
    -------
    AreaPartition
        Units, areas with their numbers, and the balance (max/min workload).

    Raises
    ------
    InputDataError
        If `officers` is below 1 or above the number of units, or an argument is out of range.
    """
    t0 = time.perf_counter()
    seed = settings.seed if seed is None else int(seed)
    if int(officers) != officers or officers < 1:
        msg = _("`officers` must be a whole number of at least 1, got {officers}").format(
            officers=officers
        )
        raise InputDataError(msg)
    if max_ratio < 1:
        msg = _("`max_ratio` must be at least 1, got {value:g}").format(value=max_ratio)
        raise InputDataError(msg)
    gdf, adj = units(G, risk, cell_m=cell_m, risk_weight=risk_weight)
    n = len(gdf)
    if officers > n:
        msg = _(
            "`officers` = {officers} areas is more than the {n} units of {cell_m:g} m the "
            "district's streets fill; use fewer areas or a smaller `cell_m`"
        ).format(officers=officers, n=n, cell_m=cell_m)
        raise InputDataError(msg)
    xy = gdf[["x", "y"]].to_numpy()
    load = gdf["workload"].to_numpy()
    k = int(officers)
    if k == 1:
        labels = np.zeros(n, dtype=np.int64)
        moves = 0
    else:
        labels = _split_components(_skater(gdf, adj, k, seed), adj, k)
        labels, moves = _repair(labels, load, xy, adj, k, max_ratio, max_moves)
    # areas numbered from the north-west, so the numbers read like a map
    centre = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "r": labels}).groupby("r").mean()
    order = sorted(centre.index, key=lambda r: (-round(centre.loc[r, "y"], -2), centre.loc[r, "x"]))
    renumber = {r: i + 1 for i, r in enumerate(order)}
    gdf["area"] = [renumber[int(r)] for r in labels]
    areas = _area_table(gdf)
    balance = float(areas["workload"].max() / areas["workload"].min())
    seconds = time.perf_counter() - t0
    log(
        _(
            "Split the district into {k} areas from {n} units of {cell} m: workload max/min "
            "{balance} after {moves} repair moves, {seconds} s"
        ).format(
            k=k,
            n=i18n.format_number(n),
            cell=i18n.format_number(cell_m),
            balance=i18n.format_number(balance, decimals=2),
            moves=moves,
            seconds=i18n.format_number(seconds, decimals=1),
        )
    )
    return AreaPartition(gdf, areas, adj, balance, seconds)


def _area_table(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    total_r = float(gdf["risk"].sum())
    rows = []
    for area, group in gdf.groupby("area", sort=True):
        shape = shapely.union_all(group.geometry.to_numpy())
        rows.append(
            {
                "area": int(area),
                "n_units": len(group),
                "risk": float(group["risk"].sum()),
                "risk_share": float(group["risk"].sum()) / total_r if total_r else 0.0,
                "street_km": float(group["length_m"].sum()) / 1000.0,
                "area_km2": float(shape.area) / 1e6,
                "workload": float(group["workload"].sum()),
                "geometry": shape,
            }
        )
    table = gpd.GeoDataFrame(rows, geometry="geometry", crs=gdf.crs)
    table["workload_ratio"] = table["workload"] / table["workload"].mean()
    cols = ["area", "n_units", "risk", "risk_share", "street_km", "area_km2", "workload"]
    return table[[*cols, "workload_ratio", "geometry"]].to_crs("EPSG:4326")


def read_areas(path: str | Path) -> gpd.GeoDataFrame:
    """Read patrol areas from a polygon file such as the ``areas.geojson`` of :func:`write_areas`.

    Parameters
    ----------
    path
        A vector file of polygons; an ``area`` column numbers them, else file order does.

    Returns
    -------
    geopandas.GeoDataFrame
        ``area`` (1-based, unique) and ``geometry`` in EPSG:4326, sorted by ``area``.

    Raises
    ------
    InputDataError
        If the file cannot be read, is empty, holds a feature that is not a polygon or has
        repeated ``area`` numbers.
    """
    from patrolplan.utils import check_input_file

    path = check_input_file(path, what=_("areas file"))
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        msg = _("cannot read areas file {path}: {error}").format(
            path=path, error=f"{type(exc).__name__}: {exc}"
        )
        raise InputDataError(msg) from None
    if gdf.empty:
        msg = _("areas file {path} holds no feature").format(path=path)
        raise InputDataError(msg)
    from patrolplan.options import MAX_OFFICERS

    if len(gdf) > MAX_OFFICERS:
        msg = _(
            "areas file {path} holds {n} areas; a plan has at most {most} officers, one per area"
        ).format(path=path, n=len(gdf), most=MAX_OFFICERS)
        raise InputDataError(msg)
    kinds = gdf.geometry.geom_type.fillna("none").to_numpy()
    bad = [i + 1 for i, t in enumerate(kinds) if t not in ("Polygon", "MultiPolygon")]
    if bad:
        msg = _("areas file {path}: feature {i} is a {kind}, not a polygon").format(
            path=path, i=bad[0], kind=kinds[bad[0] - 1]
        )
        raise InputDataError(msg)
    if gdf.crs is not None:
        gdf = gdf.to_crs("EPSG:4326")
    if "area" in gdf.columns:
        numbers = pd.to_numeric(gdf["area"], errors="coerce")
        if numbers.isna().any() or (numbers % 1 != 0).any():
            row = int(np.flatnonzero((numbers.isna() | (numbers % 1 != 0)).to_numpy())[0]) + 1
            msg = _("areas file {path}: feature {i} column `area` is not a whole number").format(
                path=path, i=row
            )
            raise InputDataError(msg)
        if numbers.duplicated().any():
            dup = int(numbers[numbers.duplicated()].iloc[0])
            msg = _("areas file {path}: column `area` repeats area {area}").format(
                path=path, area=dup
            )
            raise InputDataError(msg)
        gdf = gdf.assign(area=numbers.astype(int))
    else:
        gdf = gdf.assign(area=np.arange(1, len(gdf) + 1))
    return gdf[["area", "geometry"]].sort_values("area").reset_index(drop=True)


#: Share of the smaller of two patrol areas they may have in common (drawing slack) before
#: :func:`check_areas` refuses them as overlapping.
OVERLAP_SHARE = 0.01


def check_areas(
    areas: gpd.GeoDataFrame,
    *,
    officers: int,
    ends: Sequence[tuple[float, float]] = (),
    path: str | Path | None = None,
) -> None:
    """Refuse patrol areas that do not fit a plan's officers, before any routing.

    Officer k stays in area k, so a plan needs exactly one area per officer; areas that
    overlap would send two officers over the same streets; and routes in areas end at their
    posts (end points are not supported there yet).

    Parameters
    ----------
    areas
        From :func:`read_areas`.
    officers
        Officers of the plan.
    ends
        The plan's end points, if any.
    path
        The areas file, for messages.

    Raises
    ------
    InputDataError
        If the number of areas is not the number of officers, two areas share more than
        :data:`OVERLAP_SHARE` of the smaller one, or `ends` are given.
    """
    shown = path if path is not None else "`areas`"
    if ends:
        msg = _("`end` cannot be combined with `areas`: routes in patrol areas end at their posts")
        raise InputDataError(msg)
    if len(areas) != officers:
        msg = _(
            "{path} holds {n} patrol areas for {officers} officers; officer k patrols area k, "
            "so give one area per officer (patrolplan areas --officers {officers})"
        ).format(path=shown, n=len(areas), officers=officers)
        raise InputDataError(msg)
    if len(areas) < 2:
        return
    metric = areas.to_crs(areas.estimate_utm_crs())
    geoms = shapely.make_valid(metric.geometry.to_numpy())
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    for i, j in zip(left[pairs], right[pairs], strict=True):
        common = shapely.area(shapely.intersection(geoms[i], geoms[j]))
        smaller = min(shapely.area(geoms[i]), shapely.area(geoms[j]))
        if smaller > 0 and common > OVERLAP_SHARE * smaller:
            msg = _(
                "{path}: patrol areas {a} and {b} overlap ({share} of the smaller one); "
                "officers would walk the same streets"
            ).format(
                path=shown,
                a=int(areas["area"].iloc[i]),
                b=int(areas["area"].iloc[j]),
                share=i18n.format_percent(common / smaller),
            )
            raise InputDataError(msg)


def restrict(G: nx.MultiDiGraph, area: Any) -> nx.MultiDiGraph:
    """Return the street graph inside one patrol area.

    Nodes inside the polygon (or on its border) are kept with the streets between them, then
    the largest strongly connected part, so every kept node can be walked to and back from.

    Parameters
    ----------
    G
        A projected graph with ``lon``/``lat`` on nodes.
    area
        A shapely (Multi)Polygon in EPSG:4326, e.g. a row of :func:`read_areas`.

    Returns
    -------
    networkx.MultiDiGraph
        A copy of the subgraph, with `G`'s graph attributes (CRS).

    Raises
    ------
    InputDataError
        If the area holds no street of the graph.
    """
    ids = np.array(list(G.nodes), dtype=np.int64)
    lon = np.array([G.nodes[n]["lon"] for n in ids])
    lat = np.array([G.nodes[n]["lat"] for n in ids])
    inside = ids[shapely.intersects_xy(area, lon, lat)]
    sub = G.subgraph(inside.tolist())
    if sub.number_of_edges() == 0:
        msg = _("the patrol area holds no street of the graph: is it inside the OSM extract?")
        raise InputDataError(msg)
    biggest = max(nx.strongly_connected_components(sub), key=lambda c: (len(c), min(c)))
    out: nx.MultiDiGraph = G.subgraph(biggest).copy()
    return out


def assign_posts_to_areas(
    posts: Sequence[tuple[float, float]], areas: gpd.GeoDataFrame
) -> list[int]:
    """Find the area of each post: the one that holds it, else the nearest.

    Parameters
    ----------
    posts
        ``(lat, lon)`` of each post.
    areas
        From :func:`read_areas` (EPSG:4326, ``area`` column).

    Returns
    -------
    list of int
        The ``area`` number of each post.
    """
    metric = areas.estimate_utm_crs()
    shapes = areas.to_crs(metric).geometry.to_numpy()
    pts = gpd.GeoSeries(
        gpd.points_from_xy([p[1] for p in posts], [p[0] for p in posts]), crs="EPSG:4326"
    ).to_crs(metric)
    out = []
    for pt in pts:
        d = shapely.distance(shapes, pt)
        out.append(int(areas["area"].iloc[int(np.argmin(d))]))
    return out


def areas_geojson(path: str | Path, areas: gpd.GeoDataFrame) -> Path:
    """Write patrol areas as RFC 7946 GeoJSON polygons with their numbers.

    Parameters
    ----------
    path
        Output file.
    areas
        :attr:`AreaPartition.areas`.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    return export.frame_geojson(path, areas)


def areas_map(G: nx.MultiDiGraph, parts: AreaPartition, *, title: str | None = None) -> folium.Map:
    """Draw the patrol areas over the street network, with their numbers in a popup.

    Every text a person reads is in the current language (:mod:`patrolplan.i18n`), street
    names too where the extract has them in it.

    Parameters
    ----------
    G
        The graph.
    parts
        From :func:`partition`.
    title
        Shown in the legend; default "Patrol areas", translated.

    Returns
    -------
    folium.Map
        The map; save it with :func:`patrolplan.render.to_html`.
    """
    import folium
    from branca.element import Figure

    esc = render.escape_text
    title = _("Patrol areas") if title is None else title
    m = render.base_map(graph.edges_gdf(G))
    n_areas = len(parts.areas)
    fg = folium.FeatureGroup(
        name=esc(_("Areas ({n})").format(n=i18n.format_number(n_areas))), show=True
    )
    for row in parts.areas.to_dict("records"):
        colour = AREA_COLOURS[(int(row["area"]) - 1) % len(AREA_COLOURS)]
        name = _("Area {area}").format(area=int(row["area"]))
        lines = [
            f"<b>{esc(name)}</b>",
            esc(
                _("workload {share} of the district ({ratio} x mean)").format(
                    share=i18n.format_percent(row["workload"]),
                    ratio=i18n.format_number(row["workload_ratio"], decimals=2),
                )
            ),
            esc(
                _("risk {risk} ({share})").format(
                    risk=i18n.format_number(row["risk"], decimals=1),
                    share=i18n.format_percent(row["risk_share"]),
                )
            ),
            esc(
                _("{km} km of street, {km2} km²").format(
                    km=i18n.format_number(row["street_km"], decimals=1),
                    km2=i18n.format_number(row["area_km2"], decimals=2),
                )
            ),
        ]
        folium.GeoJson(
            row["geometry"].__geo_interface__,
            style_function=lambda _x, c=colour: {
                "color": c,
                "weight": 2,
                "fillColor": c,
                "fillOpacity": 0.25,
            },
            tooltip=esc(name),
        ).add_child(folium.Popup("<br>".join(lines), max_width=280)).add_to(fg)
    fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    summary = ngettext(
        "{n} area, workload max/min {balance}", "{n} areas, workload max/min {balance}", n_areas
    ).format(n=i18n.format_number(n_areas), balance=i18n.format_number(parts.balance, decimals=2))
    attribution = _(render.ATTRIBUTION)
    legend = (
        '<div id="pp-legend" style="position:fixed;bottom:56px;left:10px;z-index:9999;'
        "background:#fff;padding:6px 10px;border:1px solid #888;"
        f'font:12px {render.FONT_STACK}">'
        f"<b>{esc(title)}</b><br>{esc(summary)}<br>{esc(attribution)}</div>"
    )
    root = m.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(folium.Element(legend))
    return render._stable_ids(m)


@dataclass(frozen=True, eq=False)
class AreasFiles:
    """What the writers of patrol areas receive (see :data:`AREAS_OUTPUTS`)."""

    G: nx.MultiDiGraph
    parts: AreaPartition
    offline: bool = True


#: Every file of a patrol-area split, in order: name and writer.
AREAS_OUTPUTS: tuple[export.Output[AreasFiles], ...] = (
    export.Output(
        "areas.geojson", lambda f, tmp: areas_geojson(tmp / "areas.geojson", f.parts.areas)
    ),
    export.Output(
        "areas.csv",
        lambda f, tmp: export.write_csv(
            tmp / "areas.csv", pd.DataFrame(f.parts.areas.drop(columns="geometry"))
        ),
    ),
    export.Output(
        "map.html",
        lambda f, tmp: atomic_write_text(
            tmp / "map.html", render.to_html(areas_map(f.G, f.parts), offline=f.offline)
        ),
    ),
)

#: Files written, in order (the names of :data:`AREAS_OUTPUTS`).
OUTPUT_FILES = tuple(str(o.names) for o in AREAS_OUTPUTS)


def write_areas(
    out_dir: str | Path, G: nx.MultiDiGraph, parts: AreaPartition, *, offline: bool = True
) -> list[Path]:
    """Write the areas' polygons, table and map into a folder, atomically.

    Parameters
    ----------
    out_dir
        Output folder; created if needed.
    G
        The graph.
    parts
        From :func:`partition`.
    offline
        Inline Leaflet in ``map.html`` (default).

    Returns
    -------
    list of pathlib.Path
        :data:`OUTPUT_FILES` in `out_dir`: ``areas.geojson`` (for ``plan --areas``),
        ``areas.csv`` (a row per area), ``map.html``.
    """
    out = Path(out_dir)
    written = export.write_outputs(out, AreasFiles(G, parts, offline), AREAS_OUTPUTS)
    log(_("Wrote areas to {out}").format(out=out))
    return written
