"""Where posts should stand: walking-distance coverage of posts and new sites that add the most.

A post covers the risk within a few minutes' walk along the street network (a network service
area, not a circle). :func:`evaluate_posts` measures, for each current post, the share of the
weighted incidents within 5, 10 and 15 minutes, the risk reached by more than one post and the
risk no post reaches. :func:`propose_posts` solves the maximal covering location problem
(Church & ReVelle 1974): choose K new sites among street nodes (or a file of feasible sites)
that reach the most risk not already within the walk limit of an existing post. It is solved
exactly with PySAL spopt's ``MCLP`` over PuLP and its bundled CBC, after exact reductions
(demand with the same set of covering sites is merged; a site whose coverage is a subset of
another's is dropped), and reports the objective, the bound and the gap.

Risk is the incident weight of :func:`patrolplan.hotspots.incident_weights` moved to street
nodes (:func:`node_risk`): each incident goes to the nearer end of its street segment, so
walking distances are measured node to node (within half a segment of the incident).

Examples
--------
>>> from patrolplan import datasets
>>> data = load_risk(datasets.baltimore_crimes(), datasets.baltimore_osm())
>>> cov = evaluate_posts(data.G, data.risk, list(datasets.DEMO_POSTS))
>>> cov.summary["walk_min"].tolist()
[5.0, 10.0, 15.0]
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from scipy import sparse
from scipy.sparse import csgraph

from patrolplan import export, graph, i18n, pipeline, render, settings
from patrolplan._errors import InputDataError
from patrolplan.i18n import _, ngettext, pgettext
from patrolplan.options import PlanOptions
from patrolplan.utils import atomic_write_text, log

if TYPE_CHECKING:
    import folium

__all__ = [
    "CoverSolution",
    "PostCoverage",
    "PostProposal",
    "RiskInput",
    "candidate_nodes",
    "evaluate_posts",
    "load_risk",
    "max_cover",
    "node_risk",
    "posts_geojson",
    "posts_map",
    "propose_posts",
    "read_sites",
    "service_areas",
    "write_posts",
]

#: Walk limits of :func:`evaluate_posts`, minutes.
DEFAULT_WALK_MIN = (5.0, 10.0, 15.0)

# PuLP 3 warns that spopt 0.7 builds its models with the PuLP 2 API; the models are the same.
_PULP_V4 = r".*PuLP 4\.0"


#: Graph, incidents and risk read as a plan reads them (see :func:`load_risk`).
RiskInput = pipeline.RiskInput


@dataclass(frozen=True, eq=False)
class PostCoverage:
    """Risk within walking minutes of each post, from :func:`evaluate_posts`.

    Attributes
    ----------
    posts
        One row per post: ``post`` (1-based), ``lat``, ``lon``, ``node``, ``street``, then
        ``risk_<m>min`` and ``share_<m>min`` per walk limit.
    summary
        One row per walk limit: ``walk_min``, ``walk_m``, ``covered`` and ``covered_share``
        (risk within reach of at least one post), ``overlap`` and ``overlap_share`` (within
        reach of two or more), ``unreached`` and ``unreached_share`` (of no post),
        ``total_risk``.
    reached_min
        Walking minutes from the nearest post to each risk node (``inf`` beyond the largest
        limit), same index as the risk.
    walk_min
        The walk limits.
    speed_kmh
        Walking speed used.
    """

    posts: pd.DataFrame
    summary: pd.DataFrame
    reached_min: pd.Series
    walk_min: tuple[float, ...]
    speed_kmh: float


@dataclass(frozen=True, eq=False)
class CoverSolution:
    """An exact solution of a maximal covering problem, from :func:`max_cover`.

    Attributes
    ----------
    chosen
        Column indices of the chosen sites, in rank order (largest marginal gain first).
    gains
        Marginal risk each chosen site adds, in the same order.
    objective
        Risk covered by the chosen sites.
    bound
        Upper bound on the best possible objective (equal to `objective` when optimal).
    gap
        ``(bound - objective) / bound``; 0 when proven optimal.
    status
        ``optimal``, or ``feasible`` when the time limit stopped the search first.
    n_sites, n_demand
        Size of the problem sent to the solver, after the exact reductions.
    """

    chosen: tuple[int, ...]
    gains: tuple[float, ...]
    objective: float
    bound: float
    gap: float
    status: str
    n_sites: int
    n_demand: int


@dataclass(frozen=True, eq=False)
class PostProposal:
    """New sites that reach the most risk within the walk limit, from :func:`propose_posts`.

    Attributes
    ----------
    sites
        Existing posts and proposed sites (EPSG:4326 points): ``kind`` (``existing`` or
        ``proposed``), ``rank`` (within its kind: existing posts in the order given, as the
        plan numbers them; proposed sites by marginal gain), ``lat``, ``lon``, ``node``,
        ``street``, ``covered_risk`` and
        ``covered_share`` (risk within the walk limit of the site alone), ``gain`` and
        ``gain_share`` (risk the site adds that no existing post and no higher-ranked new
        site reaches; 0 for existing posts).
    walk_min
        Walk limit, minutes.
    speed_kmh
        Walking speed.
    before_share, after_share
        Share of all risk within the walk limit of some post, before and after.
    solution
        The solver's result (objective = risk gained, bound, gap, status).
    n_candidates
        Candidate sites offered.
    seconds
        Wall time of the solve.
    """

    sites: gpd.GeoDataFrame
    walk_min: float
    speed_kmh: float
    before_share: float
    after_share: float
    solution: CoverSolution
    n_candidates: int
    seconds: float


def load_risk(
    incidents: str | Path | Mapping[str, str | Path | None],
    osm: str | Path,
    options: PlanOptions | None = None,
    *,
    columns: Mapping[str, Any] | None = None,
    crs: str | Mapping[str, str] | None = None,
    severity: Mapping[str, Mapping[str, float]] | None = None,
    layer_weights: Mapping[str, float] | None = None,
    datetime_format: str | Mapping[str, str] | None = None,
    dayfirst: bool | Mapping[str, bool] | None = None,
    cache_dir: str | Path | None = None,
) -> RiskInput:
    """Read incidents and the street graph and weight the incidents as a daily plan does.

    A shorthand of :func:`patrolplan.pipeline.risk` for Python callers: the arguments become
    one :class:`~patrolplan.request.PlanRequest`.

    Parameters
    ----------
    incidents
        One crime file, or layer -> file.
    osm
        Local OSM extract or GraphML.
    options
        Plan options (date, start, shift, days, since, half-life, tz); default
        ``PlanOptions()``.
    columns, crs, severity, datetime_format, dayfirst
        Passed to :func:`patrolplan.ingest.read_layers`.
    layer_weights
        Layer -> weight in the combined risk.
    cache_dir
        Graph cache folder.

    Returns
    -------
    RiskInput
        Graph, incidents, weights and node risk.

    Raises
    ------
    PatrolPlanError
        Any input problem, with a message that names it.
    """
    from patrolplan.request import PlanRequest

    request = PlanRequest.build(
        None,
        incidents=incidents,
        osm=osm,
        columns=columns,
        crs=crs,
        severity=severity,
        layer_weights=layer_weights,
        datetime_format=datetime_format,
        dayfirst=dayfirst,
        cache_dir=cache_dir,
        options=options,
    )
    return pipeline.risk(request)


#: Moved to :func:`patrolplan.graph.node_risk`; kept here for callers of the posts module.
node_risk = graph.node_risk


def _as_node_risk(G: nx.MultiDiGraph, risk: pd.Series) -> pd.Series:
    """Risk per node from a node Series, or from an edge Series (half to each end)."""
    if isinstance(risk.index, pd.MultiIndex):
        u = risk.index.get_level_values(0).to_numpy()
        v = risk.index.get_level_values(1).to_numpy()
        vals = risk.to_numpy(float) / 2.0
        risk = pd.Series(np.concatenate([vals, vals]), index=np.concatenate([u, v]))
        risk = risk.groupby(level=0).sum()
    risk = risk.astype(float)
    if (risk < 0).any() or not np.isfinite(risk.to_numpy()).all():
        msg = _("`risk` must be finite and non-negative")
        raise InputDataError(msg)
    missing = [n for n in risk.index if n not in G]
    if missing:
        msg = _("`risk` names {n} nodes not in the graph, e.g. {node}").format(
            n=len(missing), node=missing[0]
        )
        raise InputDataError(msg)
    risk = risk[risk > 0]
    if risk.empty:
        msg = _("`risk` holds no positive weight: there is nothing to cover")
        raise InputDataError(msg)
    return risk.rename("risk")


class _Network:
    """CSR matrix of the walking graph for limited many-to-many Dijkstra."""

    def __init__(self, G: nx.MultiDiGraph) -> None:
        self.nodes = np.array(list(G.nodes), dtype=np.int64)
        self.pos = pd.Index(self.nodes)
        rows, cols, lens = [], [], []
        for a, b, data in G.edges(data=True):
            rows.append(a)
            cols.append(b)
            lens.append(float(data["length"]))
        r, c = self.pos.get_indexer(rows), self.pos.get_indexer(cols)
        frame = pd.DataFrame({"r": r, "c": c, "w": lens}).groupby(["r", "c"])["w"].min()
        n = len(self.nodes)
        self.matrix = sparse.csr_matrix(
            (
                np.maximum(frame.to_numpy(), 1e-6),
                (frame.index.get_level_values(0), frame.index.get_level_values(1)),
            ),
            shape=(n, n),
        )

    def index(self, nodes: Sequence[int] | np.ndarray) -> np.ndarray:
        return np.asarray(self.pos.get_indexer(np.asarray(nodes, dtype=np.int64)))

    def reach(
        self, sources: Sequence[int] | np.ndarray, limit_m: float, *, towards: bool = False
    ) -> np.ndarray:
        """Metres from each source to every node (`towards`: to each source); inf past the limit."""
        matrix = self.matrix.T.tocsr() if towards else self.matrix
        out = csgraph.dijkstra(
            matrix, directed=True, indices=self.index(sources), limit=float(limit_m)
        )
        return np.atleast_2d(np.asarray(out, dtype=float))


def _speed(speed_kmh: float | None) -> float:
    speed = settings.walk_speed_kmh if speed_kmh is None else float(speed_kmh)
    if not 0.5 <= speed <= 30:
        msg = _("`speed_kmh` must be between 0.5 and 30, got {speed:g}").format(speed=speed)
        raise InputDataError(msg)
    return speed


def _check_minutes(walk_min: Sequence[float]) -> tuple[float, ...]:
    minutes = tuple(sorted({float(m) for m in walk_min}))
    if not minutes or not all(0 < m <= 240 for m in minutes):
        msg = _("`walk_min` must be minutes above 0 and at most 240, got {value}").format(
            value=list(walk_min)
        )
        raise InputDataError(msg)
    return minutes


def _label(minutes: float) -> str:
    return f"{minutes:g}min"


def evaluate_posts(
    G: nx.MultiDiGraph,
    risk: pd.Series,
    posts: Sequence[tuple[float, float]],
    *,
    walk_min: Sequence[float] = DEFAULT_WALK_MIN,
    speed_kmh: float | None = None,
) -> PostCoverage:
    """Measure the risk within walking minutes of each post along the street network.

    Parameters
    ----------
    G
        A projected graph.
    risk
        Risk per node id (from :func:`node_risk`), or per street segment with a ``(u, v)``
        MultiIndex (half goes to each end).
    posts
        ``(lat, lon)`` of each post.
    walk_min
        Walk limits, minutes.
    speed_kmh
        Walking speed; default :data:`patrolplan.settings.walk_speed_kmh`.

    Returns
    -------
    PostCoverage
        Per-post shares and the overlap and unreached risk per walk limit.

    Raises
    ------
    InfeasibleRouteError
        If a post lies off the street graph.
    InputDataError
        If no post reaches any risk within the largest walk limit, or an argument is out of
        range.
    """
    minutes = _check_minutes(walk_min)
    speed = _speed(speed_kmh)
    node_w = _as_node_risk(G, risk)
    if not posts:
        msg = _("`posts` is empty: give at least one post")
        raise InputDataError(msg)
    post_nodes = graph.snap_points(G, posts, what="post")
    net = _Network(G)
    m_per_min = speed * 1000.0 / 60.0
    dist = net.reach(post_nodes, max(minutes) * m_per_min)[:, net.index(node_w.index)]
    w = node_w.to_numpy()
    total = float(w.sum())
    if not np.isfinite(dist).any():
        msg = _(
            "`walk_min` {minutes:g} min ({metres} m at {speed:g} km/h) is too short: "
            "no post reaches any risk"
        ).format(
            minutes=max(minutes), metres=i18n.format_number(max(minutes) * m_per_min), speed=speed
        )
        raise InputDataError(msg)
    rows = []
    for i, ((lat, lon), n) in enumerate(zip(posts, post_nodes, strict=True), start=1):
        row: dict[str, Any] = {
            "post": i,
            "lat": float(lat),
            "lon": float(lon),
            "node": int(n),
            "street": graph.node_street(G, n),
        }
        for m in minutes:
            got = float(w[dist[i - 1] <= m * m_per_min].sum())
            row[f"risk_{_label(m)}"] = got
            row[f"share_{_label(m)}"] = got / total
        rows.append(row)
    summary = []
    for m in minutes:
        n_reach = (dist <= m * m_per_min).sum(axis=0)
        covered, overlap = float(w[n_reach >= 1].sum()), float(w[n_reach >= 2].sum())
        summary.append(
            {
                "walk_min": m,
                "walk_m": m * m_per_min,
                "covered": covered,
                "covered_share": covered / total,
                "overlap": overlap,
                "overlap_share": overlap / total,
                "unreached": total - covered,
                "unreached_share": (total - covered) / total,
                "total_risk": total,
            }
        )
    reached = pd.Series(dist.min(axis=0) / m_per_min, index=node_w.index, name="walk_min")
    table = pd.DataFrame(summary)
    reach = ", ".join(
        _("{share} within {minutes} min").format(
            share=i18n.format_percent(s, decimals=0),
            minutes=i18n.format_number(m, decimals=_decimals(m)),
        )
        for m, s in zip(table["walk_min"], table["covered_share"], strict=True)
    )
    log(
        ngettext(
            "{n} post reaches {reach} of the weighted incidents",
            "{n} posts reach {reach} of the weighted incidents",
            len(post_nodes),
        ).format(n=len(post_nodes), reach=reach)
    )
    return PostCoverage(pd.DataFrame(rows), table, reached, minutes, speed)


def service_areas(
    G: nx.MultiDiGraph,
    points: Sequence[tuple[float, float]],
    *,
    walk_min: Sequence[float] = DEFAULT_WALK_MIN,
    speed_kmh: float | None = None,
    buffer_m: float = 25.0,
) -> gpd.GeoDataFrame:
    """Draw the network service area of each point: the streets reached within each limit.

    Streets reached end to end are kept whole; a street left part-way is cut where the time
    runs out. The reached streets are buffered by `buffer_m` and merged into one polygon.

    Parameters
    ----------
    G
        A projected graph.
    points
        ``(lat, lon)`` of each post or site.
    walk_min
        Walk limits, minutes.
    speed_kmh
        Walking speed; default :data:`patrolplan.settings.walk_speed_kmh`.
    buffer_m
        Half-width of the polygon around the reached streets.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per point and limit, largest limit first: ``site`` (1-based
        position in `points`), ``walk_min``, ``street_km`` (street length reached, each
        direction once), ``area_km2``, ``geometry``.
    """
    minutes = _check_minutes(walk_min)
    m_per_min = _speed(speed_kmh) * 1000.0 / 60.0
    nodes = graph.snap_points(G, points, what="site")
    net = _Network(G)
    dist = net.reach(nodes, max(minutes) * m_per_min)
    # each undirected street once, with its geometry from u to v
    edges = graph._undirected_edges(G)
    eu, ev = net.index(edges["u"].to_numpy()), net.index(edges["v"].to_numpy())
    length = edges["length"].to_numpy(float)
    geoms = edges.geometry.to_numpy()
    start = shapely.points(
        [(G.nodes[n]["x"], G.nodes[n]["y"]) for n in edges["u"].to_numpy(np.int64)]
    )
    # orient each geometry from u
    flip = shapely.distance(shapely.get_point(geoms, 0), start) > shapely.distance(
        shapely.get_point(geoms, -1), start
    )
    geoms = np.where(flip, shapely.reverse(geoms), geoms)
    rows = []
    for i in range(len(nodes)):
        for m in sorted(minutes, reverse=True):
            limit = m * m_per_min
            du, dv = dist[i, eu], dist[i, ev]
            # metres of the street reachable from each end
            from_u = np.clip(limit - du, 0.0, None)
            from_v = np.clip(limit - dv, 0.0, None)
            whole = from_u + from_v >= length
            parts = list(geoms[whole])
            km = float(length[whole].sum())
            for j in np.flatnonzero(~whole & ((from_u > 0) | (from_v > 0))):
                line, L = geoms[j], length[j]
                frac_u, frac_v = min(1.0, from_u[j] / L), min(1.0, from_v[j] / L)
                if frac_u > 0:
                    parts.append(shapely.ops.substring(line, 0.0, frac_u, normalized=True))
                if frac_v > 0:
                    parts.append(shapely.ops.substring(line, 1.0 - frac_v, 1.0, normalized=True))
                km += float(from_u[j] + from_v[j])
            shape = shapely.union_all(shapely.buffer(np.array(parts), buffer_m, quad_segs=4))
            shape = shapely.simplify(shape, 2.0)
            rows.append(
                {
                    "site": i + 1,
                    "walk_min": m,
                    "street_km": km / 1000.0,
                    "area_km2": float(shape.area) / 1e6,
                    "geometry": shape,
                }
            )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=G.graph["crs"])
    return gdf.to_crs("EPSG:4326")


def read_sites(path: str | Path) -> list[tuple[float, float]]:
    """Read feasible sites from a point file (GeoJSON, GeoPackage, Shapefile...).

    Parameters
    ----------
    path
        A vector file of points; any CRS (converted to EPSG:4326), polygons use their
        centroid.

    Returns
    -------
    list of tuple
        ``(lat, lon)`` of each site, in file order.

    Raises
    ------
    InputDataError
        If the file cannot be read, is empty or holds a feature without geometry.
    """
    from patrolplan.utils import check_input_file

    path = check_input_file(path, what=_("sites file"))
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        msg = _("cannot read sites file {path}: {error}").format(
            path=path, error=f"{type(exc).__name__}: {exc}"
        )
        raise InputDataError(msg) from None
    if gdf.empty:
        msg = _("sites file {path} holds no feature").format(path=path)
        raise InputDataError(msg)
    bad = [i + 1 for i, g in enumerate(gdf.geometry) if g is None or g.is_empty]
    if bad:
        msg = _("sites file {path}: feature {i} has no geometry ({n} such features)").format(
            path=path, i=bad[0], n=len(bad)
        )
        raise InputDataError(msg)
    if gdf.crs is not None:
        gdf = gdf.to_crs("EPSG:4326")
    pts = [g if g.geom_type == "Point" else g.representative_point() for g in gdf.geometry]
    return [(float(p.y), float(p.x)) for p in pts]


def candidate_nodes(G: nx.MultiDiGraph, *, cell_m: float = 50.0) -> np.ndarray:
    """Thin street nodes to candidate sites: one per `cell_m` grid cell, intersections first.

    In each square cell the intersection (three or more streets) nearest the cell's centre is
    kept, or the nearest node if the cell has no intersection.

    Parameters
    ----------
    G
        A projected graph.
    cell_m
        Grid cell size, metres.

    Returns
    -------
    numpy.ndarray
        Node ids, sorted.
    """
    ids = np.array(list(G.nodes), dtype=np.int64)
    xy = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in ids])
    degree = np.array([len(set(G.successors(n)) | set(G.predecessors(n))) for n in ids])
    cell = np.floor(xy / cell_m)
    centre = (cell + 0.5) * cell_m
    d = np.hypot(*(xy - centre).T)
    frame = pd.DataFrame(
        {"cx": cell[:, 0], "cy": cell[:, 1], "plain": degree < 3, "d": d, "node": ids}
    ).sort_values(["cx", "cy", "plain", "d", "node"])
    return np.sort(frame.drop_duplicates(["cx", "cy"])["node"].to_numpy())


def _solver(time_limit_s: float) -> Any:
    import pulp

    solver = pulp.COIN_CMD(msg=False, timeLimit=time_limit_s, threads=1)
    if solver.available():
        return solver
    # PuLP's bundled CBC (deprecated name in PuLP 3, same solver)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PULP_V4, category=DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, threads=1)


def max_cover(
    cover: np.ndarray | sparse.spmatrix,
    weights: np.ndarray,
    k: int,
    *,
    time_limit_s: float = 60.0,
) -> CoverSolution:
    """Choose `k` sites covering the most demand weight: the maximal covering location problem.

    Demand rows with no covering site or no weight are dropped, rows with the same set of
    covering sites are merged, and a site whose rows are a subset of another site's is dropped
    (another site always does at least as well); the rest is solved exactly by spopt's
    ``MCLP`` with CBC.

    Parameters
    ----------
    cover
        ``(n_demand, n_sites)`` boolean matrix: site j covers demand i.
    weights
        Demand weight per row.
    k
        Sites to choose; at most the number of sites.
    time_limit_s
        CBC's time limit; on the demo the proof of optimality takes well under a second.

    Returns
    -------
    CoverSolution
        Chosen columns (ranked by marginal gain), objective, bound and gap.

    Raises
    ------
    InputDataError
        If `k` is below 1 or above the number of sites.

    Examples
    --------
    >>> cover = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=bool)
    >>> sol = max_cover(cover, np.array([5.0, 1.0, 1.0, 4.0]), 2)
    >>> sol.chosen, sol.objective, sol.gap
    ((0, 2), 11.0, 0.0)
    """
    A = sparse.csr_matrix(cover, dtype=bool)
    w = np.asarray(weights, dtype=float)
    n_sites = A.shape[1]
    if not 1 <= k <= n_sites:
        msg = _("`k` must be between 1 and the {n} candidate sites, got {k}").format(n=n_sites, k=k)
        raise InputDataError(msg)
    keep = (w > 0) & (np.asarray(A.sum(axis=1)).ravel() > 0)
    A, w = A[keep], w[keep]
    A.sort_indices()
    # merge demand rows covered by the same sites
    keys = pd.Series(
        [A.indices[A.indptr[i] : A.indptr[i + 1]].tobytes() for i in range(A.shape[0])],
        dtype=object,
    )
    codes = pd.factorize(keys)[0]
    first = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
    A, w = A[first], np.bincount(codes, weights=w).astype(float)
    # drop dominated sites: rows(j) a subset of rows(i), ties kept at the lower index
    size = np.asarray(A.sum(axis=0)).ravel().astype(np.int64)
    useful = np.flatnonzero(size > 0)
    Au = A[:, useful].astype(np.int32)
    inter = (Au.T @ Au).toarray()
    dominated = np.zeros(n_sites, dtype=bool)
    su = size[useful]
    for a, j in enumerate(useful):
        sup = (inter[a] == su[a]) & ((su > su[a]) | (useful < j))
        sup[a] = False
        dominated[j] = bool(sup.any())
    useful_mask = size > 0
    sites = np.flatnonzero(useful_mask & ~dominated)
    chosen: list[int]
    if len(sites) <= k:
        chosen = [int(j) for j in sites]
        status, objective = "optimal", float(w.sum())
        bound = objective
    else:
        picked, objective, bound, status = _solve_mclp(A[:, sites], w, k, time_limit_s)
        chosen = [int(sites[j]) for j in picked]
    # fill up with the lowest unused columns when fewer sites add anything
    rest = [j for j in range(n_sites) if j not in set(chosen)]
    chosen = chosen + rest[: k - len(chosen)]
    order, gains = _rank(A, w, chosen)
    gap = 0.0 if status == "optimal" or bound <= 0 else max(0.0, (bound - objective) / bound)
    return CoverSolution(
        chosen=tuple(order),
        gains=tuple(gains),
        objective=objective,
        bound=bound,
        gap=gap,
        status=status,
        n_sites=len(sites),
        n_demand=A.shape[0],
    )


def _rank(A: sparse.csr_matrix, w: np.ndarray, chosen: list[int]) -> tuple[list[int], list[float]]:
    """Order chosen sites greedily by the weight each adds to those before it."""
    cols = {j: A[:, j].toarray().ravel() for j in chosen}
    covered = np.zeros(A.shape[0], dtype=bool)
    order, gains = [], []
    left = list(chosen)
    while left:
        best = max(left, key=lambda j: (float(w[cols[j] & ~covered].sum()), -j))
        gains.append(float(w[cols[best] & ~covered].sum()))
        covered |= cols[best]
        order.append(best)
        left.remove(best)
    return order, gains


def _solve_mclp(
    A: sparse.csr_matrix, w: np.ndarray, k: int, time_limit_s: float
) -> tuple[list[int], float, float, str]:
    """Solve the reduced MCLP with spopt over CBC; bound from the LP relaxation if not proven."""
    import pulp
    from spopt.locate import MCLP

    cost = np.where(A.toarray(), 0.0, 1.0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PULP_V4, category=DeprecationWarning)
        model = MCLP.from_cost_matrix(cost, w, service_radius=0.5, p_facilities=k)
        model.problem.solve(_solver(time_limit_s))
    prob = model.problem
    if prob.status != pulp.LpStatusOptimal or prob.sol_status not in (1, 2):
        msg = _("the covering problem could not be solved: CBC status {status}").format(
            status=pulp.LpStatus[prob.status]
        )
        raise InputDataError(msg)
    chosen = [j for j, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5]
    objective = float(w[np.asarray(A[:, chosen].sum(axis=1)).ravel() > 0].sum())
    if prob.sol_status == 1:
        return chosen, objective, objective, "optimal"
    # stopped by the time limit: the LP relaxation bounds the optimum
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PULP_V4, category=DeprecationWarning)
        for var in prob.variables():
            var.cat = pulp.LpContinuous
        prob.solve(_solver(time_limit_s))
    bound = max(objective, float(pulp.value(prob.objective) or objective))
    return chosen, objective, bound, "feasible"


def propose_posts(
    G: nx.MultiDiGraph,
    risk: pd.Series,
    *,
    k: int,
    existing: Sequence[tuple[float, float]] = (),
    walk_min: float = 10.0,
    speed_kmh: float | None = None,
    candidates: str | Path | Sequence[tuple[float, float]] | None = None,
    cell_m: float = 50.0,
    time_limit_s: float = 60.0,
) -> PostProposal:
    """Propose `k` new sites that reach the most risk not already within reach of a post.

    Risk within `walk_min` of an existing post does not count again; the K sites are chosen
    together, exactly (maximal covering location problem, see :func:`max_cover`).

    Parameters
    ----------
    G
        A projected graph.
    risk
        Risk per node id (from :func:`node_risk`) or per ``(u, v)`` segment.
    k
        New sites to place.
    existing
        ``(lat, lon)`` of the current posts.
    walk_min
        Walk limit, minutes.
    speed_kmh
        Walking speed; default :data:`patrolplan.settings.walk_speed_kmh`.
    candidates
        Feasible sites: a point file (see :func:`read_sites`) or ``(lat, lon)`` pairs; default
        street nodes thinned by :func:`candidate_nodes`.
    cell_m
        Grid cell of the candidate thinning, metres.
    time_limit_s
        CBC's time limit.

    Returns
    -------
    PostProposal
        Existing and proposed sites with covered risk and gain, objective, bound and gap.

    Raises
    ------
    InputDataError
        If a candidate site lies off the street graph, `k` exceeds the candidates, or the walk
        limit is too short for any candidate to reach risk left uncovered.
    InfeasibleRouteError
        If an existing post lies off the street graph.
    """
    t_start = time.perf_counter()
    (minutes,) = _check_minutes([walk_min])
    speed = _speed(speed_kmh)
    node_w = _as_node_risk(G, risk)
    if int(k) != k or k < 1:
        msg = _("`k` must be a whole number of sites of at least 1, got {k}").format(k=k)
        raise InputDataError(msg)
    limit = minutes * speed * 1000.0 / 60.0
    net = _Network(G)
    existing_nodes = graph.snap_points(G, existing, what="post") if existing else []
    cand_ll: list[tuple[float, float]] | None = None
    if candidates is None:
        cand = candidate_nodes(G, cell_m=cell_m)
    else:
        shown = str(candidates) if isinstance(candidates, str | Path) else "`candidates`"
        cand_ll = read_sites(candidates) if isinstance(candidates, str | Path) else list(candidates)
        cand = _snap_sites(G, cand_ll, shown)
    if k > len(cand):
        msg = _("`k` = {k} new sites is more than the {n} candidate sites").format(k=k, n=len(cand))
        raise InputDataError(msg)
    # distance from each candidate to each risk node = Dijkstra from the risk nodes backwards
    to_demand = net.reach(node_w.index.to_numpy(), limit, towards=True)
    w = node_w.to_numpy()
    before = np.zeros(len(w), dtype=bool)
    if existing_nodes:
        reach_e = net.reach(existing_nodes, limit)[:, net.index(node_w.index)] <= limit
        before = np.asarray(reach_e.any(axis=0), dtype=bool)
    cover = to_demand[:, net.index(cand)] <= limit
    total = float(w.sum())
    left = cover & ~before[:, None]
    if not (left.any(axis=1) & (w > 0)).any():
        if before.all():
            msg = _(
                "the existing posts already reach all risk within {minutes:g} min: "
                "no new site can add coverage"
            ).format(minutes=minutes)
        else:
            msg = _(
                "`walk_min` {minutes:g} min ({metres} m at {speed:g} km/h) is too short: "
                "no candidate site reaches any risk left uncovered"
            ).format(minutes=minutes, metres=i18n.format_number(limit), speed=speed)
        raise InputDataError(msg)
    sol = max_cover(left, w, int(k), time_limit_s=time_limit_s)
    seconds = time.perf_counter() - t_start
    covered_alone = (cover * w[:, None]).sum(axis=0)
    rows: list[dict[str, Any]] = []
    if existing_nodes:
        alone = (reach_e * w[None, :]).sum(axis=1)
        # existing posts keep the numbers they have everywhere else (post k: the k-th given),
        # so "post 2" on this map is "post 2" on the plan's map and sheets
        for rank, i in enumerate(range(len(existing_nodes)), start=1):
            lat, lon = existing[i]
            rows.append(_site_row("existing", rank, lat, lon, existing_nodes[i], alone[i], 0.0))
    for rank, (j, gain) in enumerate(zip(sol.chosen, sol.gains, strict=True), start=1):
        node = int(cand[j])
        lat, lon = cand_ll[j] if cand_ll is not None else _lat_lon(G, node)
        rows.append(_site_row("proposed", rank, lat, lon, node, covered_alone[j], gain))
    for row in rows:
        row["street"] = graph.node_street(G, row["node"])
        row["covered_share"] = row["covered_risk"] / total
        row["gain_share"] = row["gain"] / total
    sites = gpd.GeoDataFrame(
        pd.DataFrame(rows),
        geometry=gpd.points_from_xy([r["lon"] for r in rows], [r["lat"] for r in rows]),
        crs="EPSG:4326",
    )
    before_share = float(w[before].sum()) / total
    after_share = before_share + sol.objective / total
    log(
        _(
            "Proposed {k} sites from {n} candidates ({sites} after reduction, {groups} demand "
            "groups): risk within {minutes} min {before} -> {after}, {status}, gap {gap}, "
            "{seconds} s"
        ).format(
            k=k,
            n=i18n.format_number(len(cand)),
            sites=i18n.format_number(sol.n_sites),
            groups=i18n.format_number(sol.n_demand),
            minutes=i18n.format_number(minutes, decimals=_decimals(minutes)),
            before=i18n.format_percent(before_share, decimals=0),
            after=i18n.format_percent(after_share, decimals=0),
            status=sol.status,
            gap=i18n.format_percent(sol.gap, decimals=2),
            seconds=i18n.format_number(seconds, decimals=1),
        )
    )
    return PostProposal(
        sites=sites,
        walk_min=minutes,
        speed_kmh=speed,
        before_share=before_share,
        after_share=after_share,
        solution=sol,
        n_candidates=len(cand),
        seconds=seconds,
    )


def _lat_lon(G: nx.MultiDiGraph, node: int) -> tuple[float, float]:
    return float(G.nodes[node]["lat"]), float(G.nodes[node]["lon"])


def _site_row(
    kind: str, rank: int, lat: float, lon: float, node: int, covered: float, gain: float
) -> dict[str, Any]:
    return {
        "kind": kind,
        "rank": int(rank),
        "lat": float(lat),
        "lon": float(lon),
        "node": int(node),
        "covered_risk": float(covered),
        "gain": float(gain),
    }


def _snap_sites(G: nx.MultiDiGraph, sites: Sequence[tuple[float, float]], shown: str) -> np.ndarray:
    """Nodes of candidate sites; every site off the street graph is named in one error line."""
    if not sites:
        msg = _("{what} holds no candidate site").format(what=shown)
        raise InputDataError(msg)
    bad_ll = [i for i, (la, lo) in enumerate(sites) if not (-90 <= la <= 90 and -180 <= lo <= 180)]
    if bad_ll:
        msg = _("{what}: site {i} is not a latitude,longitude pair: {site}").format(
            what=shown, i=bad_ll[0] + 1, site=sites[bad_ll[0]]
        )
        raise InputDataError(msg)
    nodes, dist = graph.nearest_nodes(G, [s[1] for s in sites], [s[0] for s in sites])
    off = np.flatnonzero(dist > settings.max_snap_m)
    if len(off):
        i = int(off[0])
        msg = _(
            "{what}: {n} of {total} candidate sites are off the street graph, e.g. site {i} at "
            "{lat:.6f},{lon:.6f} is {dist} m from the nearest street (at most "
            "{most} m allowed)"
        ).format(
            what=shown,
            n=len(off),
            total=len(sites),
            i=i + 1,
            lat=sites[i][0],
            lon=sites[i][1],
            dist=i18n.format_number(dist[i]),
            most=i18n.format_number(settings.max_snap_m),
        )
        raise InputDataError(msg)
    return np.asarray(nodes, dtype=np.int64)


def posts_geojson(path: str | Path, sites: gpd.GeoDataFrame) -> Path:
    """Write existing and proposed sites as GeoJSON points.

    Properties: ``kind``, ``rank``, ``lat``, ``lon``, ``node``, ``street``, ``covered_risk``,
    ``covered_share``, ``gain``, ``gain_share``.

    Parameters
    ----------
    path
        Output file.
    sites
        :attr:`PostProposal.sites`.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    return export.frame_geojson(path, sites)


def service_areas_geojson(path: str | Path, areas: gpd.GeoDataFrame) -> Path:
    """Write service-area polygons (from :func:`service_areas`) as RFC 7946 GeoJSON.

    Parameters
    ----------
    path
        Output file.
    areas
        Polygons in EPSG:4326 with their properties.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    return export.frame_geojson(path, areas)


def coverage_table(before: PostCoverage, after: PostCoverage | None = None) -> pd.DataFrame:
    """Stack the coverage summaries of the current posts and, optionally, with new sites.

    Parameters
    ----------
    before
        :func:`evaluate_posts` of the current posts.
    after
        :func:`evaluate_posts` of the current posts plus the proposed sites.

    Returns
    -------
    pandas.DataFrame
        ``scenario`` (``current`` or ``proposed``) then the summary columns.
    """
    frames = [before.summary.assign(scenario="current")]
    if after is not None:
        frames.append(after.summary.assign(scenario="proposed"))
    table = pd.concat(frames, ignore_index=True)
    return table[["scenario", *before.summary.columns]]


def posts_map(
    G: nx.MultiDiGraph,
    risk: pd.Series,
    proposal: PostProposal,
    areas: gpd.GeoDataFrame,
    *,
    title: str | None = None,
) -> folium.Map:
    """Draw current and proposed posts with their service areas, before and after.

    Every text a person reads is in the current language (:mod:`patrolplan.i18n`), street
    names too where the extract has them in it.

    Parameters
    ----------
    G
        The graph.
    risk
        Risk per node.
    proposal
        From :func:`propose_posts`.
    areas
        Service areas of the sites in ``proposal.sites`` order at ``proposal.walk_min`` (from
        :func:`service_areas`).
    title
        Shown in the legend; default "Posts: current and proposed", translated.

    Returns
    -------
    folium.Map
        The map; save it with :func:`patrolplan.render.to_html`.
    """
    import folium
    from branca.element import Figure
    from folium import plugins

    esc = render.escape_text
    title = _("Posts: current and proposed") if title is None else title
    edges = graph.edges_gdf(G)
    local = i18n.street_names(edges)
    m = render.base_map(edges)
    node_w = _as_node_risk(G, risk)
    top = float(node_w.max())
    heat = [
        [float(G.nodes[n]["lat"]), float(G.nodes[n]["lon"]), round(float(v) / top, 4)]
        for n, v in node_w.items()
    ]
    fg = folium.FeatureGroup(name=esc(_("Risk (weighted incidents)")), show=True)
    plugins.HeatMap(heat, radius=14, blur=12, min_opacity=0.25).add_to(fg)
    fg.add_to(m)
    kinds = proposal.sites["kind"].to_numpy()
    minutes = i18n.format_number(proposal.walk_min, decimals=_decimals(proposal.walk_min))
    scenarios = (
        (
            "before",
            _("Before: current posts ({share} of risk), {minutes} min walk").format(
                share=i18n.format_percent(proposal.before_share, decimals=0), minutes=minutes
            ),
            ("existing",),
        ),
        (
            "after",
            _("After: with proposed sites ({share} of risk), {minutes} min walk").format(
                share=i18n.format_percent(proposal.after_share, decimals=0), minutes=minutes
            ),
            ("existing", "proposed"),
        ),
    )
    for name, label, use in scenarios:
        colour = "#2b8cbe" if name == "before" else "#31a354"
        fg = folium.FeatureGroup(name=esc(label), show=name == "after")
        for geom, kind in zip(areas.geometry, kinds, strict=True):
            if kind in use:
                folium.GeoJson(
                    geom.__geo_interface__,
                    style_function=lambda _x, c=colour: {
                        "color": c,
                        "weight": 1,
                        "fillColor": c,
                        "fillOpacity": 0.2,
                    },
                ).add_to(fg)
        fg.add_to(m)
    fg = folium.FeatureGroup(name=esc(_("Posts and sites")), show=True)
    marker_post, marker_new = pgettext("marker", "P"), pgettext("marker", "N")
    for row in proposal.sites.to_dict("records"):
        proposed = row["kind"] == "proposed"
        tag = f"{marker_new if proposed else marker_post}{row['rank']}"
        name = str(row["street"] or "")
        street = local.get(name, name) or _("unnamed street")
        head = (_("Proposed site {tag}") if proposed else _("Current post {tag}")).format(tag=tag)
        lines = [
            f"<b>{esc(head)}</b>",
            esc(street),
            esc(
                _("risk within {minutes} min: {risk} ({share})").format(
                    minutes=minutes,
                    risk=i18n.format_number(row["covered_risk"], decimals=1),
                    share=i18n.format_percent(row["covered_share"]),
                )
            ),
        ]
        if proposed:
            lines.append(
                esc(
                    _("adds {risk} ({share})").format(
                        risk=i18n.format_number(row["gain"], decimals=1),
                        share=i18n.format_percent(row["gain_share"]),
                    )
                )
            )
        colour = "#d95f02" if proposed else "#111"
        folium.Marker(
            (row["lat"], row["lon"]),
            icon=folium.DivIcon(
                html=(
                    f'<div style="background:{colour};color:#fff;border:2px solid #fff;'
                    "width:28px;height:22px;line-height:18px;text-align:center;"
                    f'font:bold 11px {render.FONT_STACK};box-shadow:0 0 3px #000">{esc(tag)}</div>'
                ),
                icon_size=(28, 22),
                icon_anchor=(14, 11),
            ),
            popup=folium.Popup("<br>".join(lines), max_width=280),
            tooltip=esc(f"{tag}: {street}"),
        ).add_to(fg)
    fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    n_new = int((kinds == "proposed").sum())
    summary = ngettext(
        "risk within {minutes} min walk: {before} now, {after} with {n} new site",
        "risk within {minutes} min walk: {before} now, {after} with {n} new sites",
        n_new,
    ).format(
        minutes=minutes,
        before=i18n.format_percent(proposal.before_share),
        after=i18n.format_percent(proposal.after_share),
        n=i18n.format_number(n_new),
    )
    keys = _("{P} = current post, {N} = proposed site (by gain)").format(
        P=marker_post, N=marker_new
    )
    attribution = _(render.ATTRIBUTION)
    legend = (
        '<div id="pp-legend" style="position:fixed;bottom:56px;left:10px;z-index:9999;'
        "background:#fff;padding:6px 10px;border:1px solid #888;"
        f'font:12px {render.FONT_STACK}">'
        f"<b>{esc(title)}</b><br>{esc(summary)}<br>{esc(keys)}<br>"
        f"{esc(attribution)}</div>"
    )
    root = m.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(folium.Element(legend))
    return render._stable_ids(m)


def _decimals(minutes: float) -> int:
    """Decimals needed to write a number of minutes (``10``, ``7.5``)."""
    return 0 if float(minutes).is_integer() else 1


@dataclass(frozen=True, eq=False)
class PostsFiles:
    """What the writers of a posts proposal receive (see :data:`POSTS_OUTPUTS`)."""

    G: nx.MultiDiGraph
    risk: pd.Series
    sites: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    before: PostCoverage
    after: PostCoverage
    proposal: PostProposal
    at_limit: gpd.GeoDataFrame
    offline: bool = True


def _write_posts_map(f: PostsFiles, tmp: Path) -> None:
    m = posts_map(f.G, f.risk, f.proposal, f.at_limit)
    atomic_write_text(tmp / "map.html", render.to_html(m, offline=f.offline))


#: Every file of a posts proposal, in order: name and writer.
POSTS_OUTPUTS: tuple[export.Output[PostsFiles], ...] = (
    export.Output("posts.geojson", lambda f, tmp: posts_geojson(tmp / "posts.geojson", f.sites)),
    export.Output(
        "service_areas.geojson",
        lambda f, tmp: service_areas_geojson(tmp / "service_areas.geojson", f.areas),
    ),
    export.Output(
        "posts.csv",
        lambda f, tmp: export.write_csv(
            tmp / "posts.csv", pd.DataFrame(f.sites.drop(columns="geometry"))
        ),
    ),
    export.Output(
        "coverage.csv",
        lambda f, tmp: export.write_csv(tmp / "coverage.csv", coverage_table(f.before, f.after)),
    ),
    export.Output("map.html", _write_posts_map),
)

#: Files written, in order (the names of :data:`POSTS_OUTPUTS`).
OUTPUT_FILES = tuple(str(o.names) for o in POSTS_OUTPUTS)


def write_posts(
    out_dir: str | Path,
    G: nx.MultiDiGraph,
    risk: pd.Series,
    before: PostCoverage,
    proposal: PostProposal,
    *,
    offline: bool = True,
) -> list[Path]:
    """Write sites, service areas, tables and the before/after map into a folder, atomically.

    Parameters
    ----------
    out_dir
        Output folder; created if needed.
    G
        The graph.
    risk
        Risk per node.
    before
        :func:`evaluate_posts` of the current posts.
    proposal
        :func:`propose_posts` result.
    offline
        Inline Leaflet in ``map.html`` (default).

    Returns
    -------
    list of pathlib.Path
        :data:`OUTPUT_FILES` in `out_dir`: ``posts.geojson`` (sites), ``service_areas.geojson``
        (a polygon per site and walk limit, with ``kind`` and ``rank``), ``posts.csv`` (a row
        per site), ``coverage.csv`` (current and proposed coverage per walk limit),
        ``map.html``.
    """
    out = Path(out_dir)
    sites = proposal.sites
    points = list(zip(sites["lat"], sites["lon"], strict=True))
    minutes = sorted({*before.walk_min, proposal.walk_min})
    areas = service_areas(G, points, walk_min=minutes, speed_kmh=proposal.speed_kmh)
    areas["kind"] = sites["kind"].to_numpy()[areas["site"].to_numpy() - 1]
    areas["rank"] = sites["rank"].to_numpy()[areas["site"].to_numpy() - 1]
    areas = areas[["kind", "rank", "walk_min", "street_km", "area_km2", "geometry"]]
    new = sites[sites["kind"] == "proposed"]
    after = evaluate_posts(
        G,
        risk,
        [
            *(tuple(p) for p in sites.loc[sites["kind"] == "existing", ["lat", "lon"]].to_numpy()),
            *zip(new["lat"], new["lon"], strict=True),
        ],
        walk_min=before.walk_min,
        speed_kmh=proposal.speed_kmh,
    )
    at_limit = areas[areas["walk_min"] == proposal.walk_min].reset_index(drop=True)
    files = PostsFiles(G, risk, sites, areas, before, after, proposal, at_limit, offline)
    written = export.write_outputs(out, files, POSTS_OUTPUTS)
    log(_("Wrote posts to {out}").format(out=out))
    return written
