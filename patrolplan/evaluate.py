"""Replay the daily plan on past shifts and count the incidents it would have been near.

For each test window the plan is made as it would have been that day, from the incidents
before the window only (:func:`patrolplan.pipeline.hotspot_step`, every data-derived
parameter, the ``auto`` method included, derived again from that window's history alone;
routes by :func:`patrolplan.routing.solve`). The window's own incidents are then checked
against the plan: an incident is *captured* when it lies in a hotspot polygon a route dwells
at, or within 50 m of a street a route walks. The windows follow the data's time precision:
the shifts when incidents have a time of day, else whole days (months, years).

Every baseline gets what the plan gets: the same officers, posts, shift, walking speed,
dwell, solver iterations and seed (:func:`patrolplan.pipeline.route_options`), and as many
places of the same size:

* ``counts_<N>d``: last period's raw counts: the plan's number of busiest cells (side: the
  plan's place size) over the last N days, each a place of the plan's own shape, the busiest
  streets outside them the street tasks (:func:`count_hotspots`);
* ``hindsight``: the same cells counted on the incidents of every test window of the replay:
  it knows where the test incidents fell, not on which day: how much a fixed set of places
  could catch at best;
* ``random_places``: the plan's number of places at random street nodes within reach of the
  posts (:func:`random_places`);
* ``random``: random walks of the plan's walking and dwelling time (:func:`random_walks`);
* ``oracle``: a plan routed knowing the window's incidents (each group of them within 50 m is
  a place): a ceiling for the capture rule, not a forecast.

:func:`replay` gives one row per window and method, :func:`summarize` the table with 95 %
bootstrap intervals over days (a day's shifts drawn together) and the windows where the plan
caught more, fewer or as many as each baseline, :func:`run` does both from files for the
command line.

Mind what the data is: arrests are made where police already patrol, so a plan built on past
arrests partly predicts past patrols.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from patrolplan import graph, hotspots, pipeline, routing, settings
from patrolplan._errors import InfeasibleRouteError, InputDataError
from patrolplan._progress import Progress
from patrolplan.i18n import _, format_number, format_percent, ngettext
from patrolplan.options import PlanOptions
from patrolplan.utils import log

if TYPE_CHECKING:
    import networkx as nx

    from patrolplan.backtest import MethodChoice
    from patrolplan.ingest import IngestReport
    from patrolplan.request import PlanRequest

#: A hotspot step: ``(history, weights) -> (gdf_hotspots, labels)``, as
#: :func:`patrolplan.hotspots.find_hotspots`.
HotspotFn = Callable[[gpd.GeoDataFrame, pd.Series], tuple[gpd.GeoDataFrame, pd.Series]]

#: An incident this close to a walked street counts as captured.
CAPTURE_M = 50.0

_EMPTY_HOT_COLUMNS = ["hotspot_id", "rank", "risk", "lon", "lat", "cluster", "geometry"]


@dataclass(frozen=True, eq=False)
class ShiftPlan:
    """What one method plans for one shift.

    Attributes
    ----------
    method
        Name of the method.
    routes
        One route per officer (empty when the method had nothing to visit).
    gdf_hotspots
        The hotspots offered, with ``hotspot_id`` and polygon ``geometry``.
    note
        Why the plan is empty, if it is.
    """

    method: str
    routes: tuple[routing.Route, ...]
    gdf_hotspots: gpd.GeoDataFrame
    note: str = ""


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """The replay of a plan against its baselines.

    Attributes
    ----------
    table
        One row per method, from :func:`summarize`.
    per_shift
        One row per shift and method, from :func:`replay`.
    params
        The parameters used, for the record.
    reports
        One ingest report per input file (rows read, kept and rejected).
    """

    table: pd.DataFrame
    per_shift: pd.DataFrame
    params: dict[str, object]
    reports: tuple[IngestReport, ...] = ()


class StreetIndex:
    """Street segments of a graph with their metric geometry, built once per graph.

    Parameters
    ----------
    G
        A projected walking graph from :func:`patrolplan.graph.graph_from_file`.

    Attributes
    ----------
    edges
        One row per undirected segment (``u <= v``), from :func:`patrolplan.graph.edges_gdf`.
    geometry_m
        The segments' lines in the graph's metric CRS.
    """

    def __init__(self, G: nx.MultiDiGraph) -> None:
        self.crs = G.graph["crs"]
        self.edges = graph.edges_gdf(G)
        self.geometry_m = np.asarray(self.edges.geometry.to_crs(self.crs).values)
        self._row = {
            (int(u), int(v)): i
            for i, (u, v) in enumerate(zip(self.edges["u"], self.edges["v"], strict=True))
        }
        self._index = pd.MultiIndex.from_arrays([self.edges["u"], self.edges["v"]])
        self._xy = {int(n): (float(d["x"]), float(d["y"])) for n, d in G.nodes(data=True)}
        adj: dict[int, dict[int, float]] = {}
        for u, v, d in G.edges(data=True):
            if u != v:
                row = adj.setdefault(int(u), {})
                row[int(v)] = min(row.get(int(v), np.inf), float(d["length"]))
        self.adjacency = {u: sorted(row.items()) for u, row in adj.items()}

    def lines(self, segments: set[tuple[int, int]]) -> list[Any]:
        """Return the metric lines of undirected segments ``(u, v)``, ``u <= v``.

        Parameters
        ----------
        segments
            Node pairs, as from :func:`patrolplan.routing.walked_segments`.

        Returns
        -------
        list
            Shapely lines in the graph's CRS (a straight line for a pair not in the graph).
        """
        out = []
        for u, v in sorted(segments):
            i = self._row.get((u, v))
            out.append(
                self.geometry_m[i]
                if i is not None
                else shapely.LineString([self._xy[u], self._xy[v]])
            )
        return out

    def segments(self, snapped: pd.DataFrame, values: pd.Series) -> gpd.GeoDataFrame:
        """Sum `values` per street segment, as the street tasks of :func:`routing.solve` need.

        This is the ``risk`` of :func:`patrolplan.graph.segment_risk` (same segments, same
        sums) without the smoothing the router does not read, on edges built once.

        Parameters
        ----------
        snapped
            From :func:`patrolplan.graph.snap_to_edges`.
        values
            One value per incident, same index as `snapped`.

        Returns
        -------
        geopandas.GeoDataFrame
            ``u``, ``v``, ``name``, ``highway``, ``length``, ``risk``, ``n_incidents``,
            ``geometry``.
        """
        totals = graph.segment_totals(snapped, values).reindex(self._index)
        out = self.edges.copy()
        out["risk"] = totals["sum"].fillna(0.0).to_numpy()
        out["n_incidents"] = totals["count"].fillna(0).astype(int).to_numpy()
        return out


def planner_hotspots(method: str = "dbscan", **kwargs: Any) -> HotspotFn:
    """Return the daily plan's hotspot step with its options fixed.

    Parameters
    ----------
    method
        Hotspot method, as for :func:`patrolplan.hotspots.find_hotspots`.
    **kwargs
        Other options of :func:`patrolplan.hotspots.find_hotspots` (``eps_m``,
        ``min_weight``...).

    Returns
    -------
    callable
        ``(history, weights) -> (gdf_hotspots, labels)``.
    """
    return functools.partial(hotspots.find_hotspots, method=method, **kwargs)


def count_hotspots(
    *, size_m: float = 100.0, n: int | None = None, buffer_m: float = 25.0
) -> HotspotFn:
    """Return a hotspot step that takes the `n` busiest grid cells by raw count.

    The incidents are counted in square cells of side `size_m`; the busiest cells (most
    incidents, then the latest incident, then the position, so the ranking is deterministic)
    become places of the plan's own shape: the hull of the cell's incidents buffered by
    `buffer_m`, clipped to the circle of diameter `size_m`
    (:func:`patrolplan.hotspots.place_polygon`). Cells of two or more incidents come first; a
    cell of one incident is taken only when fewer than `n` cells hold two, as the plan lowers
    its least weight on sparse data.

    Parameters
    ----------
    size_m
        Cell side and place diameter in metres (the plan's ``size_m``).
    n
        Places offered (the plan's ``max_hotspots``); None for every occupied cell.
    buffer_m
        Buffer around each cell's incidents, as the plan's places.

    Returns
    -------
    callable
        ``(history, weights) -> (gdf_hotspots, labels)``; the weights are summed per cell
        (ones give raw counts).
    """

    def cells(gdf: gpd.GeoDataFrame, weights: pd.Series) -> tuple[gpd.GeoDataFrame, pd.Series]:
        if gdf.empty:
            return _no_hotspots(gdf.crs), pd.Series(-1, index=gdf.index, name="cluster")
        crs = hotspots.metric_crs(gdf)
        geom = gdf.geometry if crs is None else gdf.geometry.to_crs(crs)
        xy = np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])
        ix = np.floor(xy[:, 0] / size_m).astype(np.int64)
        iy = np.floor(xy[:, 1] / size_m).astype(np.int64)
        frame = pd.DataFrame(
            {
                "ix": ix,
                "iy": iy,
                "w": weights.reindex(gdf.index).astype(float).to_numpy(),
                "t": gdf["datetime"].to_numpy() if "datetime" in gdf else pd.NaT,
            }
        )
        per_cell = frame.groupby(["ix", "iy"]).agg(w=("w", "sum"), t=("t", "max")).reset_index()
        # busiest first, then the latest incident, then the position
        per_cell = per_cell.sort_values(
            ["w", "t", "ix", "iy"], ascending=[False, False, True, True], na_position="last"
        )
        per_cell = per_cell.iloc[: (len(per_cell) if n is None else max(int(n), 0))]
        order = list(zip(per_cell["ix"], per_cell["iy"], strict=True))
        cluster = {c: i for i, c in enumerate(order)}
        keys = list(zip(ix.tolist(), iy.tolist(), strict=True))
        lab = np.array([cluster.get(c, -1) for c in keys], dtype=np.int64)
        labels = pd.Series(lab, index=gdf.index, name="cluster")
        polys, cx, cy = [], [], []
        for i in range(len(order)):
            pts = xy[lab == i]
            polys.append(hotspots.place_polygon(pts, buffer_m=buffer_m, max_size_m=size_m))
            cx.append(float(pts[:, 0].mean()))
            cy.append(float(pts[:, 1].mean()))
        out = gpd.GeoDataFrame(
            {
                "hotspot_id": [f"H{i + 1:03d}" for i in range(len(order))],
                "rank": np.arange(1, len(order) + 1),
                "risk": per_cell["w"].to_numpy(dtype=float),
                "cluster": np.arange(len(order)),
            },
            geometry=polys,
            crs=crs,
        )
        centres = gpd.GeoSeries(gpd.points_from_xy(cx, cy), crs=crs).to_crs(gdf.crs)
        out = out.to_crs(gdf.crs)
        out["lon"], out["lat"] = centres.x.to_numpy(), centres.y.to_numpy()
        return out[_EMPTY_HOT_COLUMNS], labels

    return cells


def random_places(
    G: nx.MultiDiGraph,
    n: int,
    *,
    reach: Mapping[int, float],
    radius_m: float,
    seed: int | Sequence[int] = 0,
) -> gpd.GeoDataFrame:
    """Draw `n` places at random street nodes the officers can reach, all of equal value.

    Parameters
    ----------
    G
        Projected walking graph.
    n
        Places to draw (the plan's ``max_hotspots``).
    reach
        Node -> walking distance from the nearest post; only nodes listed are drawn.
    radius_m
        Radius of each place (a disc as large as the plan's mean place).
    seed
        Seed of the draw.

    Returns
    -------
    geopandas.GeoDataFrame
        ``hotspot_id`` (``X001``...), ``rank``, ``risk`` (1 each), ``lon``, ``lat``,
        ``cluster`` and disc ``geometry``, in EPSG:4326.
    """
    nodes = np.array(sorted(reach), dtype=np.int64)
    rng = np.random.default_rng(seed)
    pick = nodes[np.sort(rng.choice(len(nodes), size=min(n, len(nodes)), replace=False))]
    xy = [shapely.Point(G.nodes[int(v)]["x"], G.nodes[int(v)]["y"]) for v in pick]
    out = gpd.GeoDataFrame(
        {
            "hotspot_id": [f"X{i + 1:03d}" for i in range(len(pick))],
            "rank": np.arange(1, len(pick) + 1),
            "risk": np.ones(len(pick)),
            "lon": [float(G.nodes[int(v)]["lon"]) for v in pick],
            "lat": [float(G.nodes[int(v)]["lat"]) for v in pick],
            "cluster": np.arange(len(pick)),
        },
        geometry=gpd.GeoSeries(xy, crs=G.graph["crs"]).buffer(max(radius_m, 1.0)),
        crs=G.graph["crs"],
    )
    return out.to_crs("EPSG:4326")[_EMPTY_HOT_COLUMNS]


def _no_hotspots(crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns=_EMPTY_HOT_COLUMNS, geometry="geometry", crs=crs)


def _route(
    method: str,
    gdf_history: gpd.GeoDataFrame,
    weights: pd.Series,
    hotspot_fn: HotspotFn,
    G: nx.MultiDiGraph,
    posts: Sequence[tuple[float, float]],
    snapped: pd.DataFrame,
    streets: StreetIndex,
    route_args: routing.RouteOptions,
) -> ShiftPlan:
    """Run the daily plan's steps after ingest: hotspots, street tasks, routes."""
    gdf_hot, labels = _in_lonlat(*hotspot_fn(gdf_history, weights))
    if gdf_hot.empty:
        return ShiftPlan(method, (), gdf_hot, note="no hotspot")
    # streets as tasks carry the risk of incidents outside hotspots only (as daily_plan)
    segments = streets.segments(snapped.loc[gdf_history.index], weights.where(labels < 0, 0.0))
    try:
        routes = routing.solve(G, gdf_hot, posts, route_args, segments=segments)
    except InfeasibleRouteError as exc:
        log(_("{method}: no routes ({error})").format(method=method, error=exc), level=30)
        return ShiftPlan(method, (), gdf_hot, note=str(exc))
    return ShiftPlan(method, tuple(routes), gdf_hot)


def _in_lonlat(gdf_hot: gpd.GeoDataFrame, labels: pd.Series) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Give hotspots found on metric incidents ``lon``/``lat`` in degrees, as routing needs."""
    if gdf_hot.empty or gdf_hot.crs is None or gdf_hot["lon"].abs().max() <= 180:
        return gdf_hot, labels
    centres = gpd.GeoSeries(gpd.points_from_xy(gdf_hot["lon"], gdf_hot["lat"]), crs=gdf_hot.crs)
    centres = centres.to_crs("EPSG:4326")
    out = gdf_hot.to_crs("EPSG:4326")
    out["lon"], out["lat"] = centres.x.to_numpy(), centres.y.to_numpy()
    return out, labels


def plan_shift(
    gdf_history: gpd.GeoDataFrame,
    G: nx.MultiDiGraph,
    posts: Sequence[tuple[float, float]],
    *,
    shift_start: str | pd.Timestamp,
    shift_min: float,
    officers: int = 1,
    hotspot_fn: HotspotFn | None = None,
    half_life_days: float | None = None,
    layer_weights: Mapping[str, float] | None = None,
    dwell_min: float | None = None,
    max_hotspots: int | None = None,
    max_segments: int | None = None,
    seed: int | None = None,
    iterations: int | None = None,
    snapped: pd.DataFrame | None = None,
    streets: StreetIndex | None = None,
    method: str = "plan",
    options: PlanOptions | None = None,
    choice: MethodChoice | None = None,
) -> ShiftPlan:
    """Plan one shift as the daily plan would, from the incidents given only.

    Weights (:func:`patrolplan.hotspots.incident_weights` at the shift start, with the
    shift's hour profile), hotspots (`hotspot_fn`), street tasks (the risk of incidents
    outside hotspots per segment) and routes (:func:`patrolplan.routing.solve`).

    Parameters
    ----------
    gdf_history
        The incidents the plan may know; the caller keeps them before `shift_start`.
    G
        Projected walking graph.
    posts
        ``(lat, lon)`` of each post.
    shift_start
        Date and time the shift starts.
    shift_min
        Shift length in minutes.
    officers
        Officers on foot.
    hotspot_fn
        The hotspot step; default :func:`planner_hotspots` (the daily plan's).
    half_life_days, layer_weights
        Passed to :func:`patrolplan.hotspots.incident_weights`.
    dwell_min, max_hotspots, max_segments, seed, iterations
        Passed to :func:`patrolplan.routing.solve`.
    snapped
        :func:`patrolplan.graph.snap_to_edges` of at least `gdf_history`; computed if None.
    streets
        :class:`StreetIndex` of `G`; built if None.
    method
        Name recorded in the result.
    options, choice
        With `options`, the hotspot step is the daily plan's own
        (:func:`patrolplan.plan.hotspot_step`: data-derived parameters, the method `choice`
        made for ``auto``, enough places to fill the shifts), and `hotspot_fn` and
        `half_life_days` are not used.

    Returns
    -------
    ShiftPlan
        Routes and hotspots; no routes when no hotspot was found.
    """
    t0 = pd.Timestamp(shift_start)
    streets = StreetIndex(G) if streets is None else streets
    snapped = graph.snap_to_edges(G, gdf_history) if snapped is None else snapped
    if options is not None:
        step = pipeline.hotspot_step(
            gdf_history, options, at=t0, layer_weights=layer_weights, choice=choice
        )
        found = (step.gdf_hotspots, step.labels)
        return _route(
            method,
            gdf_history,
            step.weights,
            lambda _h, _w: found,
            G,
            posts,
            snapped,
            streets,
            pipeline.route_options(options, max_hotspots=step.max_hotspots, shift_min=shift_min),
        )
    weights = hotspots.incident_weights(
        gdf_history,
        at=t0,
        half_life_days=half_life_days,
        layer_weights=layer_weights,
        shift_start_hour=t0.hour + t0.minute / 60.0,
        shift_length_h=shift_min / 60.0,
    )
    route_args = routing.RouteOptions(
        officers=officers,
        shift_min=shift_min,
        dwell_min=dwell_min,
        max_hotspots=max_hotspots,
        max_segments=max_segments,
        seed=seed,
        iterations=iterations,
    )
    return _route(
        method,
        gdf_history,
        weights,
        hotspot_fn or planner_hotspots(),
        G,
        posts,
        snapped,
        streets,
        route_args,
    )


def capture(
    gdf_incidents: gpd.GeoDataFrame,
    routes: Sequence[routing.Route],
    gdf_hotspots: gpd.GeoDataFrame,
    G: nx.MultiDiGraph,
    *,
    dist_m: float = CAPTURE_M,
    streets: StreetIndex | None = None,
) -> pd.Series:
    """Tell which incidents lie in a hotspot the routes dwell at or near a street they walk.

    Parameters
    ----------
    gdf_incidents
        Incidents (any CRS).
    routes
        Routes of one plan.
    gdf_hotspots
        The hotspots the routes were planned on (``hotspot_id``, polygon ``geometry``).
    G
        The graph the routes walk.
    dist_m
        Incidents at most this far from a walked street are captured.
    streets
        :class:`StreetIndex` of `G`; built if None.

    Returns
    -------
    pandas.Series
        Boolean per incident, same index as `gdf_incidents`.
    """
    out = pd.Series(False, index=gdf_incidents.index, name="captured")
    if gdf_incidents.empty or not routes:
        return out
    streets = StreetIndex(G) if streets is None else streets
    pts = np.asarray(gdf_incidents.geometry.to_crs(streets.crs).values)
    hit = np.zeros(len(pts), dtype=bool)
    lines = streets.lines(routing.walked_segments(routes))
    if lines:
        i_pt, _i_geom = shapely.STRtree(lines).query(pts, predicate="dwithin", distance=dist_m)
        hit[i_pt] = True
    polys = _visited_polygons(routes, gdf_hotspots, streets.crs)
    if polys:
        i_pt, _i_geom = shapely.STRtree(polys).query(pts, predicate="covered_by")
        hit[i_pt] = True
    out[:] = hit
    return out


def _visited_polygons(
    routes: Sequence[routing.Route], gdf_hotspots: gpd.GeoDataFrame, crs: object
) -> list[Any]:
    visited = {h for r in routes for h in r.hotspot_ids}
    if not visited or gdf_hotspots.empty:
        return []
    sub = gdf_hotspots[gdf_hotspots["hotspot_id"].isin(visited)]
    return list(sub.geometry.to_crs(crs).values)


def capture_zone_km2(
    routes: Sequence[routing.Route],
    gdf_hotspots: gpd.GeoDataFrame,
    streets: StreetIndex,
    *,
    dist_m: float = CAPTURE_M,
) -> float:
    """Return the area where an incident would be captured: dwelt hotspots and walked streets.

    Parameters
    ----------
    routes
        Routes of one plan.
    gdf_hotspots
        The hotspots the routes were planned on.
    streets
        :class:`StreetIndex` of the graph.
    dist_m
        Capture distance from walked streets.

    Returns
    -------
    float
        Square kilometres.
    """
    parts = _visited_polygons(routes, gdf_hotspots, streets.crs)
    lines = streets.lines(routing.walked_segments(routes))
    if lines:
        parts.append(shapely.buffer(shapely.MultiLineString(lines), dist_m, quad_segs=4))
    return float(shapely.union_all(parts).area) / 1e6 if parts else 0.0


def random_walks(
    G: nx.MultiDiGraph,
    posts: Sequence[tuple[float, float]],
    like: Sequence[routing.Route],
    *,
    seed: int | Sequence[int] = 0,
    dwell_radius_m: float = 0.0,
    speed_kmh: float | None = None,
    streets: StreetIndex | None = None,
    paths: graph.ShortestPaths | None = None,
    post_nodes: Sequence[int] | None = None,
) -> ShiftPlan:
    """Walk at random on the street graph for as long as the routes `like` do.

    Officer ``k`` leaves its post (assigned in turn, as in :func:`patrolplan.routing.solve`),
    takes a random street at every corner, preferring streets it has not walked yet and not
    turning straight back unless it must, while it can still get home within the walking time
    of route ``k`` of `like`, then walks home by the shortest path. It stands still as often
    and as long as route ``k`` dwells, at random nodes of its outbound walk; each such stop is a
    hotspot of its own, a disc of `dwell_radius_m`.

    Parameters
    ----------
    G
        Projected walking graph (two-way streets have an edge each way).
    posts
        ``(lat, lon)`` of each post.
    like
        The routes whose walking and dwelling time to match, one per officer.
    seed
        Seed of the walk.
    dwell_radius_m
        Radius of the disc a random dwell covers (0 for a point).
    speed_kmh
        Walking speed; default :data:`patrolplan.settings.walk_speed_kmh`.
    streets
        :class:`StreetIndex` of `G`; built if None.
    paths
        Shortest paths from the post nodes; computed if None.
    post_nodes
        Graph node of each post; found if None.

    Returns
    -------
    ShiftPlan
        Method ``random``: the walks as routes, and a disc per dwell as hotspots (``R1-01``...).
    """
    streets = StreetIndex(G) if streets is None else streets
    if post_nodes is None:
        post_nodes = graph.snap_points(G, list(posts), what="post")
    paths = graph.ShortestPaths(G, sorted(set(post_nodes))) if paths is None else paths
    m_per_min = (settings.walk_speed_kmh if speed_kmh is None else speed_kmh) * 1000.0 / 60.0
    rng = np.random.default_rng(seed)
    routes, discs, ids = [], [], []
    for k, model in enumerate(like):
        home = post_nodes[k % len(post_nodes)]
        dwells = [s.leave_min - s.arrive_min for s in model.stops if s.kind == "hotspot"]
        nodes, walked = _wander(streets.adjacency, paths, home, model.walk_min * m_per_min, rng)
        picks = np.sort(rng.integers(0, len(nodes), size=len(dwells)))
        # distance walked up to each node of the outbound walk, to time the stops
        upto = np.concatenate([[0.0], np.cumsum(walked)])
        stops, clock_dwell = [], 0.0
        for j, (pos, dwell) in enumerate(zip(picks, dwells, strict=True), start=1):
            node = nodes[int(pos)]
            arrive = float(upto[int(pos)]) / m_per_min + clock_dwell
            hid = f"R{k + 1}-{j:02d}"
            stops.append(
                routing.Stop(
                    order=j,
                    hotspot_id=hid,
                    node=node,
                    lon=float(G.nodes[node]["lon"]),
                    lat=float(G.nodes[node]["lat"]),
                    arrive_min=arrive,
                    leave_min=arrive + dwell,
                    risk=0.0,
                    street="",
                    via=(),
                )
            )
            clock_dwell += dwell
            ids.append(hid)
            discs.append(shapely.Point(G.nodes[node]["x"], G.nodes[node]["y"]))
        back = list(reversed(paths.path(home, nodes[-1])))
        full = [*nodes, *back[1:]]
        length = float(sum(walked)) + float(paths.distance(home, [nodes[-1]])[0])
        routes.append(
            routing.Route(
                officer=k + 1,
                post=posts[k % len(posts)],
                post_node=home,
                shift_min=model.shift_min,
                stops=tuple(stops),
                nodes=tuple(full),
                length_m=length,
                walk_min=length / m_per_min,
                dwell_min=clock_dwell,
                return_via=(),
                end_node=home,
            )
        )
    gdf_hot = gpd.GeoDataFrame(
        {"hotspot_id": ids},
        geometry=gpd.GeoSeries(discs, crs=streets.crs).buffer(max(dwell_radius_m, 0.01)),
        crs=streets.crs,
    )
    return ShiftPlan("random", tuple(routes), gdf_hot)


def _wander(
    adjacency: Mapping[int, list[tuple[int, float]]],
    paths: graph.ShortestPaths,
    home: int,
    budget_m: float,
    rng: np.random.Generator,
) -> tuple[list[int], list[float]]:
    """Random non-backtracking walk from `home` that can always get back within `budget_m`."""
    row = paths.dist_m[paths.sources.index(home)]
    to_home = dict(zip(paths.nodes.tolist(), row.tolist(), strict=True))
    nodes: list[int] = [home]
    steps: list[float] = []
    here, prev, walked = home, -1, 0.0
    seen: set[tuple[int, int]] = set()
    while True:
        options = adjacency.get(here, [])
        # streets not walked yet first, then any but straight back, then back
        tiers = (
            [o for o in options if (min(here, o[0]), max(here, o[0])) not in seen],
            [o for o in options if o[0] != prev],
            options,
        )
        step = None
        for tier in tiers:
            for j in rng.permutation(len(tier)):
                nxt, length = tier[int(j)]
                if walked + length + to_home[nxt] <= budget_m + 1e-9:
                    step = (nxt, length)
                    break
            if step is not None:
                break
        if step is None:
            return nodes, steps
        nxt, length = step
        seen.add((min(here, nxt), max(here, nxt)))
        nodes.append(nxt)
        steps.append(length)
        prev, here, walked = here, nxt, walked + length


def oracle_hotspots(*, dist_m: float = CAPTURE_M) -> HotspotFn:
    """Return a hotspot step for the oracle: every group of incidents within `dist_m`.

    Parameters
    ----------
    dist_m
        Incidents closer than this are one hotspot (DBSCAN, one incident is enough).

    Returns
    -------
    callable
        ``(incidents, weights) -> (gdf_hotspots, labels)``; meant for the test shift's own
        incidents with weight 1 each.
    """
    return planner_hotspots("dbscan", eps_m=dist_m, min_weight=1.0)


def _bounds(day: pd.Timestamp, start: str) -> pd.Timestamp:
    h, m = (int(v) for v in start.split(":"))
    return day.normalize() + pd.Timedelta(hours=h, minutes=m)


#: The test window of each time precision of the data: a shift when incidents have a time of
#: day, else the whole day, month or year they are dated to.
WINDOWS = {"datetime": "shift", "date": "day", "month": "month", "year": "year"}

_PRECISION_RANK = {"none": 0, "year": 1, "month": 2, "date": 3, "datetime": 4}


def data_precision(gdf_incidents: gpd.GeoDataFrame) -> str:
    """Return the most common time precision of the dated incidents.

    Parameters
    ----------
    gdf_incidents
        Incidents from :mod:`patrolplan.ingest` (``datetime``, ``time_precision``).

    Returns
    -------
    str
        ``datetime``, ``date``, ``month`` or ``year`` (``datetime`` when the column is
        missing); ties go to the finer precision.

    Examples
    --------
    >>> from patrolplan import datasets, ingest
    >>> gdf, _ = ingest.read_incidents(datasets.baltimore_crimes())
    >>> data_precision(gdf)
    'datetime'
    """
    dated = gdf_incidents[gdf_incidents["datetime"].notna()]
    if "time_precision" not in dated or dated.empty:
        return "datetime"
    counts = dated["time_precision"].value_counts()
    counts = counts[counts.index.isin(list(WINDOWS))]
    if counts.empty:
        return "datetime"
    best = max(counts.index, key=lambda p: (counts[p], _PRECISION_RANK[str(p)]))
    return str(best)


def replay_windows(
    days: Sequence[str | pd.Timestamp],
    starts: Sequence[str],
    *,
    shift_min: float,
    precision: str = "datetime",
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """List the replay's test windows: shifts, or whole days, months or years.

    Parameters
    ----------
    days
        Test days.
    starts
        Shift starts ``HH:MM`` (used only when the data have a time of day).
    shift_min
        Shift length in minutes.
    precision
        Time precision of the data (:func:`data_precision`).

    Returns
    -------
    list of tuple
        Sorted, distinct ``(start, end)`` pairs; an incident is in a window when
        ``start <= datetime < end``.

    Examples
    --------
    >>> w = replay_windows(["2017-03-01", "2017-03-02"], ["10:00", "18:00"], shift_min=240,
    ...                  precision="date")
    >>> [(f"{a:%m-%d %H:%M}", f"{b:%m-%d %H:%M}") for a, b in w]
    [('03-01 00:00', '03-02 00:00'), ('03-02 00:00', '03-03 00:00')]
    """
    out: set[tuple[pd.Timestamp, pd.Timestamp]] = set()
    for d in days:
        day = pd.Timestamp(d).normalize()
        if precision == "date":
            out.add((day, day + pd.Timedelta(days=1)))
        elif precision in ("month", "year"):
            period = day.to_period("M" if precision == "month" else "Y")
            out.add((period.start_time, (period + 1).start_time))
        else:
            for s in starts:
                t0 = _bounds(day, s)
                out.add((t0, t0 + pd.Timedelta(minutes=shift_min)))
    return sorted(out)


def replay(
    gdf_incidents: gpd.GeoDataFrame,
    G: nx.MultiDiGraph,
    posts: Sequence[tuple[float, float]],
    *,
    days: Sequence[str | pd.Timestamp],
    start: str | Sequence[str] = "18:00",
    shift_min: float = 240.0,
    officers: int = 1,
    history_days: int = 90,
    methods: Mapping[str, HotspotFn] | None = None,
    count_days: Sequence[int] = (28,),
    count_cell_m: float = 100.0,
    n_random: int = 5,
    n_random_places: int = 1,
    oracle: bool = True,
    hindsight: bool = True,
    half_life_days: float | None = None,
    layer_weights: Mapping[str, float] | None = None,
    dwell_min: float | None = None,
    max_hotspots: int | None = None,
    max_segments: int | None = None,
    seed: int = 0,
    iterations: int | None = None,
    dist_m: float = CAPTURE_M,
    zone: bool = True,
    options: PlanOptions | None = None,
    cache_dir: str | Path | None = None,
    precision: str | None = None,
    hindsight_days: Sequence[str | pd.Timestamp] | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Plan every test window from its past only and count the window's incidents captured.

    The test windows follow the data's time precision (:func:`replay_windows`): the shifts
    ``day + start`` when incidents have a time of day, else the whole day (month, year) they
    are dated to; an incident counts in a window only when its own precision is at least
    the window's. For a window starting at ``t0``, the plan sees the incidents of the
    `history_days` days before ``t0``'s day up to ``t0`` (exclusive). Every method is
    routed by the same solver with the same options, and offered as many places of the
    same size:

    * ``plan``: the daily plan's hotspot step (:func:`patrolplan.pipeline.hotspot_step`) with
      every data-derived parameter (method for ``auto``, half-life, least weight) derived
      again for each window from its history alone (`options`), else `methods`;
    * ``counts_<N>d``: the plan's number of busiest cells of the plan's place size by raw
      count over the last N days (:func:`count_hotspots`);
    * ``hindsight``: the same cells counted on the incidents of every test window of the
      replay: it knows where the test incidents fell, not on which day;
    * ``random_places``: the plan's number of places at random street nodes within reach of
      the posts (:func:`random_places`), of the plan's mean place size;
    * ``oracle``: each group of the window's own incidents within `dist_m` is a place;
    * ``random``: random walks of the plan's walking and dwelling time (:func:`random_walks`).

    Parameters
    ----------
    gdf_incidents
        Incidents inside the graph's area, from :mod:`patrolplan.ingest`; rows without a date
        are left out.
    G
        Projected walking graph.
    posts
        ``(lat, lon)`` of each post; officers are assigned in turn.
    days
        Test days.
    start
        Shift start ``HH:MM``, or several (one shift each per day).
    shift_min
        Shift length in minutes (the officers' walking time in every window).
    officers
        Officers on foot.
    history_days
        Days of history before the window's day the plan may use.
    methods
        Planner variants by name, each a hotspot step, used when `options` is None; default
        ``{"plan": planner_hotspots()}``.
    count_days
        One last-period count baseline per number of days (``counts_<N>d``).
    count_cell_m
        Cell side of the count baselines when `options` is None (else the plan's size).
    n_random
        Random walks per window (their captures are averaged); 0 for none. They match the
        first planner method's walking and dwelling time.
    n_random_places
        Draws of random places per window (averaged); 0 for none.
    oracle, hindsight
        Also plan with the window's own incidents, and with every window's incidents.
    half_life_days, layer_weights
        Weights of the planner methods, as in the daily plan.
    dwell_min, max_hotspots, max_segments, iterations
        Route options when `options` is None.
    seed
        Seed of the solver, the random places and the random walks.
    dist_m
        Capture distance from walked streets.
    zone
        Also measure each plan's capture zone (km²).
    options
        The plan's options: the method ``plan`` is the daily plan's own hotspot step, and
        every method is routed with :func:`patrolplan.pipeline.route_options`.
    cache_dir
        Where each window's method choice is cached (``auto``); default
        :data:`patrolplan.settings.cache_dir`.
    precision
        Time precision of the windows; default :func:`data_precision`.
    hindsight_days
        The days whose test windows the hindsight plan knows; default `days` (a replay
        split into parts passes every part's days).
    progress
        Show the windows replayed and the time left: True a bar on standard error, False
        nothing, None a bar on a terminal and else a log line about every tenth of the
        windows. The rows are the same either way.

    Returns
    -------
    pandas.DataFrame
        One row per window and method: ``shift_start``, ``shift_end``, ``window`` (``shift``,
        ``day``, ``month`` or ``year``), ``method``, ``history`` (incidents the method saw),
        ``incidents`` (in the window), ``captured`` (mean over random draws),
        ``officer_hours``, ``km``, ``offered`` (places offered to the solver), ``hotspots``
        (distinct places dwelt at), ``zone_km2``, ``hotspot_method``, ``half_life_days``,
        ``min_weight``, ``max_places`` (the plan's, per window, on its row), ``note``.

    Raises
    ------
    InputDataError
        If no incident has a date, `days` is empty, a start is not ``HH:MM``, or no
        incident falls in any test window.
    """
    starts = [start] if isinstance(start, str) else list(start)
    for s in starts:
        if not _is_clock(s):
            msg = _("`start` must be a time of day HH:MM, got {value!r}").format(value=s)
            raise InputDataError(msg)
    if not len(days):
        msg = _("`days` is empty: give at least one test day")
        raise InputDataError(msg)
    timed = gdf_incidents[gdf_incidents["datetime"].notna()]
    if timed.empty:
        msg = _("no incident has a date: a replay needs dated incidents")
        raise InputDataError(msg)
    if len(timed) < len(gdf_incidents):
        log(
            _("Replay leaves out {n} incidents without a date").format(
                n=format_number(len(gdf_incidents) - len(timed))
            )
        )
    precision = data_precision(timed) if precision is None else precision
    kind = WINDOWS.get(precision, "shift")
    windows = replay_windows(days, starts, shift_min=shift_min, precision=precision)
    when = timed["datetime"]
    # a window counts only incidents dated at least as precisely as the window
    fine = (
        timed["time_precision"].map(_PRECISION_RANK).fillna(0).to_numpy()
        >= _PRECISION_RANK.get(precision, 4)
        if "time_precision" in timed
        else np.ones(len(timed), dtype=bool)
    )
    tests = [timed[fine & (when >= a).to_numpy() & (when < b).to_numpy()] for a, b in windows]
    if not any(len(t) for t in tests):
        msg = _(
            "no incident fell in any of the {n} test windows ({first} to {last}); the dated "
            "incidents run from {data_first} to {data_last}"
        ).format(
            n=len(windows),
            first=f"{windows[0][0]:%Y-%m-%d}",
            last=f"{windows[-1][1] - pd.Timedelta(seconds=1):%Y-%m-%d}",
            data_first=f"{when.min():%Y-%m-%d}",
            data_last=f"{when.max():%Y-%m-%d}",
        )
        raise InputDataError(msg)
    log(
        _("Replay of {n} test windows, time precision of the data: {precision}").format(
            n=len(windows), precision=precision
        )
    )
    planners = dict(methods) if methods else {"plan": planner_hotspots()}
    opts = None
    if options is not None:
        planners = {"plan": planner_hotspots()}  # replaced by the daily step below
        opts = dataclasses.replace(options, shift=f"{shift_min:g}")
    # in the graph's metric CRS once: every step then skips its own UTM zone lookup
    crs_m = G.graph["crs"]
    timed = timed.to_crs(crs_m) if timed.crs is not None else timed
    timed = hotspots.add_xy_m(timed)
    tests = [timed.loc[t.index] for t in tests]
    when = timed["datetime"]
    streets = StreetIndex(G)
    snapped = graph.snap_to_edges(G, timed)
    post_nodes = graph.snap_points(G, list(posts), what="post")
    paths = graph.ShortestPaths(G, sorted(set(post_nodes)))
    # random places: street nodes an officer can walk to and back within the shift
    speed = settings.walk_speed_kmh
    if opts is not None and opts.speed_kmh is not None:
        speed = opts.speed_kmh
    to_post = paths.dist_m.min(axis=0)
    half_way = shift_min * speed * 1000.0 / 60.0 / 2.0
    reach = {
        int(v): float(d)
        for v, d in zip(paths.nodes.tolist(), to_post.tolist(), strict=True)
        if d <= half_way
    }
    known = windows
    if hindsight_days is not None:
        known = replay_windows(hindsight_days, starts, shift_min=shift_min, precision=precision)
    in_known = np.zeros(len(timed), dtype=bool)
    for a, b in known:
        in_known |= (when >= a).to_numpy() & (when < b).to_numpy()
    pool = timed[fine & in_known]
    legacy_args = routing.RouteOptions(
        officers=officers,
        shift_min=shift_min,
        dwell_min=dwell_min,
        max_hotspots=max_hotspots,
        max_segments=max_segments,
        seed=seed,
        iterations=iterations,
    )
    first_day = windows[0][0].normalize() - pd.Timedelta(days=history_days)
    if when.min().normalize() > first_day:
        log(
            _(
                "Short history: the data start {start}, after the {days}-day history of the "
                "first test shift ({first})"
            ).format(
                start=f"{when.min():%Y-%m-%d}", days=history_days, first=f"{first_day:%Y-%m-%d}"
            ),
            level=30,
        )
    hours = officers * shift_min / 60.0
    rows: list[dict[str, object]] = []
    # one unit per test window; the bar never touches the seeds or the rows
    with Progress(
        len(windows),
        what=_("Replay"),
        unit=ngettext("test window", "test windows", 1),
        units=ngettext("test window", "test windows", len(windows)),
        show=progress,
    ) as bar:
        for i, ((t0, t1), test) in enumerate(zip(windows, tests, strict=True)):
            since = t0.normalize() - pd.Timedelta(days=history_days)
            history = timed[(when >= since) & (when < t0)]
            plans: list[tuple[ShiftPlan, int]] = []
            step_record: dict[str, object] = {}
            if opts is not None:
                if history.empty:
                    route_args = pipeline.route_options(opts, shift_min=shift_min)
                    n_places = opts.max_hotspots or settings.max_hotspots
                    size_m = opts.hotspot_size_m or count_cell_m
                    plan = ShiftPlan("plan", (), _no_hotspots(timed.crs), note="no history")
                else:
                    # every data-derived parameter again, from this window's history alone
                    step = pipeline.hotspot_step(
                        history, opts, at=t0, layer_weights=layer_weights, cache_dir=cache_dir
                    )
                    n_places, size_m = step.max_hotspots, step.size_m
                    route_args = pipeline.route_options(
                        opts, max_hotspots=n_places, shift_min=shift_min
                    )
                    found = (step.gdf_hotspots, step.labels)
                    plan = _route(
                        "plan",
                        history,
                        step.weights,
                        lambda _h, _w, found=found: found,  # type: ignore[misc]
                        G,
                        posts,
                        snapped,
                        streets,
                        route_args,
                    )
                    step_record = {
                        "hotspot_method": step.method,
                        "half_life_days": step.half_life_days,
                        "min_weight": step.min_weight,
                        "max_places": n_places,
                    }
                plans.append((plan, len(history)))
            else:
                route_args = legacy_args
                n_places = max_hotspots or settings.max_hotspots
                size_m = count_cell_m
                for name, fn in planners.items():
                    p = plan_shift(
                        history,
                        G,
                        posts,
                        shift_start=t0,
                        shift_min=shift_min,
                        officers=officers,
                        hotspot_fn=fn,
                        half_life_days=half_life_days,
                        layer_weights=layer_weights,
                        dwell_min=dwell_min,
                        max_hotspots=max_hotspots,
                        max_segments=max_segments,
                        seed=seed,
                        iterations=iterations,
                        snapped=snapped,
                        streets=streets,
                        method=name,
                    )
                    plans.append((p, len(history)))
            counts = count_hotspots(size_m=size_m, n=n_places)
            for n_days in count_days:
                recent = history[
                    when.loc[history.index] >= max(since, t0 - pd.Timedelta(days=n_days))
                ]
                ones = pd.Series(1.0, index=recent.index)
                p = _route(
                    f"counts_{n_days}d",
                    recent,
                    ones,
                    counts,
                    G,
                    posts,
                    snapped,
                    streets,
                    route_args,
                )
                plans.append((p, len(recent)))
            if hindsight:
                ones = pd.Series(1.0, index=pool.index)
                p = _route("hindsight", pool, ones, counts, G, posts, snapped, streets, route_args)
                plans.append((p, len(pool)))
            if oracle:
                ones = pd.Series(1.0, index=test.index)
                if test.empty:
                    p = ShiftPlan("oracle", (), _no_hotspots(timed.crs), note="no incident")
                else:
                    p = _route(
                        "oracle",
                        test,
                        ones,
                        oracle_hotspots(dist_m=dist_m),
                        G,
                        posts,
                        snapped,
                        streets,
                        dataclasses.replace(route_args, max_segments=0),
                    )
                plans.append((p, len(test)))
            first = len(rows)
            base = {
                "shift_start": t0,
                "shift_end": t1,
                "window": kind,
                "incidents": len(test),
                "officer_hours": hours,
            }
            for p, seen in plans:
                rows.append({**base, **_score(p, test, G, streets, dist_m, zone), "history": seen})
            rows[first].update(step_record)
            model = plans[0][0]
            visited = _visited_polygons(model.routes, model.gdf_hotspots, streets.crs)
            radius = float(np.sqrt(np.mean([g.area for g in visited] or [0.0]) / np.pi))
            if n_random_places > 0 and reach:
                draws = []
                for j in range(n_random_places):
                    gdf_x = random_places(
                        G, n_places, reach=reach, radius_m=radius or size_m / 2, seed=(seed, i, j)
                    )
                    try:
                        xr = routing.solve(
                            G, gdf_x, posts, dataclasses.replace(route_args, max_segments=0)
                        )
                        draws.append(ShiftPlan("random_places", tuple(xr), gdf_x))
                    except InfeasibleRouteError as exc:
                        draws.append(ShiftPlan("random_places", (), gdf_x, note=str(exc)))
                rows.append(_mean_row(base, draws, test, G, streets, dist_m, zone))
            if n_random > 0:
                walks = [
                    random_walks(
                        G,
                        posts,
                        model.routes,
                        seed=(seed, i, j),
                        dwell_radius_m=radius,
                        streets=streets,
                        paths=paths,
                        post_nodes=post_nodes,
                    )
                    for j in range(n_random)
                ]
                row = _mean_row(base, walks, test, G, streets, dist_m, zone)
                row["note"] = model.note
                rows.append(row)
            log(
                _("Replay {start}: {n} incidents, captured {captured}").format(
                    start=f"{t0:%Y-%m-%d %H:%M}",
                    n=len(test),
                    captured=", ".join(f"{r['method']} {r['captured']:g}" for r in rows[first:]),
                )
            )
            bar.update(note=f"{t0:%Y-%m-%d %H:%M}")
    cols = [
        "shift_start",
        "shift_end",
        "window",
        "method",
        "history",
        "incidents",
        "captured",
        "officer_hours",
        "km",
        "offered",
        "hotspots",
        "zone_km2",
        "hotspot_method",
        "half_life_days",
        "min_weight",
        "max_places",
        "note",
    ]
    return pd.DataFrame(rows).reindex(columns=cols)


def _mean_row(
    base: Mapping[str, object],
    draws: Sequence[ShiftPlan],
    test: gpd.GeoDataFrame,
    G: nx.MultiDiGraph,
    streets: StreetIndex,
    dist_m: float,
    zone: bool,
) -> dict[str, object]:
    """Score random draws of one window and average them (zone of the first draw only)."""
    scores = pd.DataFrame(
        [_score(d, test, G, streets, dist_m, zone and j == 0) for j, d in enumerate(draws)]
    )
    return {
        **base,
        "method": draws[0].method,
        "captured": float(scores["captured"].mean()),
        "km": float(scores["km"].mean()),
        "offered": int(scores["offered"].iloc[0]),
        "hotspots": int(scores["hotspots"].iloc[0]),
        "zone_km2": float(scores["zone_km2"].iloc[0]),
        "note": draws[0].note,
        "history": 0,
    }


def _is_clock(text: str) -> bool:
    parts = str(text).split(":")
    return (
        len(parts) == 2
        and all(p.isdigit() for p in parts)
        and int(parts[0]) < 24
        and int(parts[1]) < 60
    )


def _score(
    p: ShiftPlan,
    test: gpd.GeoDataFrame,
    G: nx.MultiDiGraph,
    streets: StreetIndex,
    dist_m: float,
    zone: bool,
) -> dict[str, object]:
    hit = capture(test, p.routes, p.gdf_hotspots, G, dist_m=dist_m, streets=streets)
    return {
        "method": p.method,
        "captured": float(hit.sum()),
        "km": sum(r.length_m for r in p.routes) / 1000.0,
        "offered": len(p.gdf_hotspots),
        "hotspots": len({h for r in p.routes for h in r.hotspot_ids}),
        "zone_km2": capture_zone_km2(p.routes, p.gdf_hotspots, streets, dist_m=dist_m)
        if zone
        else float("nan"),
        "note": p.note,
    }


def summarize(
    per_shift: pd.DataFrame,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    reference: str | None = None,
) -> pd.DataFrame:
    """Total the replay per method, with 95 % bootstrap intervals over days.

    Every statistic is a ratio of sums over windows (captured / incidents, captured /
    officer-hours, captured / km, captured / another method's captured). Its interval comes
    from resampling whole days with replacement (a day's shifts together, since they share
    the day's history and events; the same resamples for every method, so ratios between
    methods are paired) and taking the 2.5 and 97.5 percentiles.

    Parameters
    ----------
    per_shift
        From :func:`replay`.
    n_boot
        Bootstrap resamples.
    seed
        Seed of the resampling.
    reference
        The plan the others are compared with (``plan_vs``, ``better``...); default the
        first method.

    Returns
    -------
    pandas.DataFrame
        One row per method: ``method``, ``shifts``, ``days``, ``incidents``, ``captured``,
        ``capture_rate``, ``per_officer_hour``, ``per_km`` (each with ``_lo`` and ``_hi``),
        ``km_per_shift``, ``offered`` and ``zone_km2`` (means), ``vs_random``, ``vs_counts``
        (against the count baseline that captured most), ``share_of_oracle`` and ``plan_vs``
        (the reference's captures over this method's; each with ``_lo``, ``_hi``; NaN where
        that baseline is missing), ``better``, ``worse``, ``tied`` (windows where the
        reference captured more, fewer, as many) and ``window``.

    Raises
    ------
    InputDataError
        If no window holds an incident (every ratio would be 0/0).
    """
    names = list(dict.fromkeys(per_shift["method"]))
    wide = {
        m: per_shift[per_shift["method"] == m].set_index("shift_start").sort_index() for m in names
    }
    index = wide[names[0]].index
    n = len(index)
    if float(wide[names[0]]["incidents"].sum()) <= 0:
        msg = _("no incident fell in any of the {n} test windows: nothing to compare").format(n=n)
        raise InputDataError(msg)
    day_code, day_list = pd.factorize(pd.DatetimeIndex(index).normalize())
    n_days = len(day_list)
    rng = np.random.default_rng(seed)
    # whole days are drawn: a day's shifts share its history and its events
    boot = rng.integers(0, n_days, size=(n_boot, n_days))

    def col(m: str, c: str) -> np.ndarray:
        return np.asarray(wide[m][c].reindex(index).to_numpy(dtype=float))

    def daily(values: np.ndarray) -> np.ndarray:
        return np.bincount(day_code, weights=np.nan_to_num(values), minlength=n_days)

    def ratio(num: np.ndarray, den: np.ndarray) -> tuple[float, float, float]:
        a, b = daily(num), daily(den)
        with np.errstate(divide="ignore", invalid="ignore"):
            point = a.sum() / b.sum() if b.sum() > 0 else np.nan
            r = a[boot].sum(axis=1) / b[boot].sum(axis=1)
        r = r[np.isfinite(r)]
        lo, hi = np.percentile(r, [2.5, 97.5]) if len(r) else (np.nan, np.nan)
        return float(point), float(lo), float(hi)

    ref_name = reference or names[0]
    counts = [m for m in names if m.startswith("counts_")]
    best_counts = max(counts, key=lambda m: col(m, "captured").sum()) if counts else None
    window = str(per_shift["window"].iloc[0]) if "window" in per_shift else "shift"
    rows = []
    for m in names:
        cap = col(m, "captured")
        row: dict[str, object] = {
            "method": m,
            "shifts": n,
            "days": n_days,
            "incidents": int(col(m, "incidents").sum()),
            "captured": round(float(cap.sum()), 1),
        }
        for name, den in (
            ("capture_rate", col(m, "incidents")),
            ("per_officer_hour", col(m, "officer_hours")),
            ("per_km", col(m, "km")),
        ):
            row[name], row[f"{name}_lo"], row[f"{name}_hi"] = ratio(cap, den)
        row["km_per_shift"] = float(col(m, "km").mean())
        row["offered"] = float(col(m, "offered").mean()) if "offered" in per_shift else np.nan
        zones = col(m, "zone_km2")
        row["zone_km2"] = float(np.nanmean(zones)) if np.isfinite(zones).any() else np.nan
        for name, base in (
            ("vs_random", "random" if "random" in wide else None),
            ("vs_counts", best_counts),
            ("share_of_oracle", "oracle" if "oracle" in wide else None),
        ):
            row[name], row[f"{name}_lo"], row[f"{name}_hi"] = (
                ratio(cap, col(base, "captured")) if base else (np.nan, np.nan, np.nan)
            )
        ref = col(ref_name, "captured")
        row["plan_vs"], row["plan_vs_lo"], row["plan_vs_hi"] = ratio(ref, cap)
        diff = ref - cap
        better, worse = int((diff > 1e-9).sum()), int((diff < -1e-9).sum())
        row["better"], row["worse"], row["tied"] = better, worse, n - better - worse
        row["window"] = window
        row["reference"] = ref_name
        rows.append(row)
    table = pd.DataFrame(rows)
    ref_row = table.set_index("method").loc[ref_name]
    log(
        _(
            "Replay of {n} shifts: {method} captured {captured:g} of {incidents} incidents "
            "({rate}), {vs_random}x random, {vs_counts}x last-period counts, {oracle} of the "
            "oracle"
        ).format(
            n=n,
            method=ref_name,
            captured=ref_row["captured"],
            incidents=ref_row["incidents"],
            rate=format_percent(ref_row["capture_rate"], decimals=0),
            vs_random=format_number(ref_row["vs_random"], decimals=1),
            vs_counts=format_number(ref_row["vs_counts"], decimals=2),
            oracle=format_percent(ref_row["share_of_oracle"], decimals=0),
        )
    )
    return table


def method_label(method: str) -> str:
    """Name a replayed method for a person, in the current language.

    Parameters
    ----------
    method
        A method key of :func:`run`: ``plan``, ``random``, ``oracle``, ``counts_<N>d`` or a
        planner variant's own name (kept as it is).

    Returns
    -------
    str
        The label; in English the key itself.

    Examples
    --------
    >>> method_label("counts_28d")
    'counts_28d'
    >>> from patrolplan.i18n import language
    >>> with language("ru"):
    ...     method_label("counts_28d")
    'подсчёт за 28 дн.'
    """
    from patrolplan.i18n import _

    labels = {
        "plan": _("plan"),
        "random": _("random"),
        "oracle": _("oracle"),
        "hindsight": _("hindsight"),
        "random_places": _("random places"),
    }
    if method in labels:
        return labels[method]
    days = re.fullmatch(r"counts_(\d+)d", method)
    if days:
        return _("counts_{days}d").format(days=days.group(1))
    return method


def format_table(table: pd.DataFrame) -> str:
    """Format the table of :func:`summarize` as Markdown, intervals in brackets.

    Parameters
    ----------
    table
        From :func:`summarize`.

    Returns
    -------
    str
        A Markdown table.
    """
    from patrolplan.i18n import _, format_number, format_percent

    def num(value: float, fmt: str) -> str:
        if pd.isna(value):
            return "-"
        if fmt.endswith("%"):
            return format_percent(float(value), decimals=int(fmt[1:-1]))
        return format_number(float(value), decimals=int(fmt[1:-1]))

    def ci(row: pd.Series, name: str, fmt: str) -> str:
        v, lo, hi = row[name], row[f"{name}_lo"], row[f"{name}_hi"]
        if pd.isna(v):
            return "-"
        # a decimal comma needs another separator between the bounds
        sep = "; " if format_number(0.5, decimals=1) == "0,5" else ", "
        return f"{num(v, fmt)} [{num(lo, fmt)}{sep}{num(hi, fmt)}]"

    heads = [
        _("method"),
        _("captured / incidents"),
        _("capture rate"),
        _("per officer-hour"),
        _("per km"),
        _("km per shift"),
        _("zone km²"),
        _("x random"),
        _("x last-period counts"),
        _("share of oracle"),
    ]
    compared = "plan_vs" in table
    if compared:
        heads += [_("places offered"), _("plan ÷ this"), _("plan better / worse / tied")]
    lines = ["| " + " | ".join(heads) + " |", "|" + " --- |" * len(heads)]
    for _row, r in table.iterrows():
        captured = format_number(
            float(r["captured"]), decimals=0 if r["captured"] == int(r["captured"]) else 1
        )
        line = (
            f"| {method_label(str(r['method']))} | {captured} / "
            f"{format_number(int(r['incidents']))} | "
            f"{ci(r, 'capture_rate', '.1%')} | {ci(r, 'per_officer_hour', '.3f')} | "
            f"{ci(r, 'per_km', '.3f')} | {num(r['km_per_shift'], '.1f')} | "
            f"{num(r['zone_km2'], '.2f')} | "
            f"{ci(r, 'vs_random', '.2f')} | {ci(r, 'vs_counts', '.2f')} | "
            f"{ci(r, 'share_of_oracle', '.0%')} |"
        )
        if compared:
            own = r["method"] == r.get("reference")
            line += (
                f" {num(r.get('offered', np.nan), '.1f')} | "
                f"{'-' if own else ci(r, 'plan_vs', '.2f')} | "
                + ("- |" if own else f"{int(r['better'])} / {int(r['worse'])} / {int(r['tied'])} |")
            )
        lines.append(line)
    if "window" in table and len(table):
        lines += ["", window_note(str(table["window"].iloc[0]), int(table["shifts"].iloc[0]))]
    return "\n".join(lines)


def window_note(window: str, n: int) -> str:
    """Say in one line what a replay's test windows were, in the current language.

    Parameters
    ----------
    window
        ``shift``, ``day``, ``month`` or ``year`` (:data:`WINDOWS`).
    n
        Number of windows.

    Returns
    -------
    str
        The line.

    Examples
    --------
    >>> window_note("day", 12)
    'Test windows: 12, each a whole day (the data give dates without a time of day).'
    """
    texts = {
        "shift": _("Test windows: {n}, each a shift (the data give a time of day)."),
        "day": _(
            "Test windows: {n}, each a whole day (the data give dates without a time of day)."
        ),
        "month": _("Test windows: {n}, each a whole month (the data give months only)."),
        "year": _("Test windows: {n}, each a whole year (the data give years only)."),
    }
    return texts.get(window, texts["shift"]).format(n=format_number(n))


def replay_days(
    date_from: str | pd.Timestamp,
    date_to: str | pd.Timestamp,
    *,
    every: int = 1,
    data_span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> list[pd.Timestamp]:
    """List the test days from `date_from` to `date_to` (inclusive), every `every` days.

    Parameters
    ----------
    date_from, date_to
        First and last possible day, ``YYYY-MM-DD``.
    every
        Step in days.
    data_span
        First and last incident time of the data: when given, days with no incident before
        them or none after them are skipped (logged); a range with none left is refused.

    Returns
    -------
    list of pandas.Timestamp
        The days.

    Raises
    ------
    InputDataError
        If a date cannot be read or lies outside :data:`patrolplan.options.DATE_RANGE`,
        `every` is not a whole number from 1 to 36500, the range is empty, or no day of it
        has history.

    Examples
    --------
    >>> [d.day for d in replay_days("2017-03-01", "2017-03-20", every=9)]
    [1, 10, 19]
    """
    from patrolplan._validate import check_number
    from patrolplan.options import parse_date

    check_number(every, "`every`", lo=1, hi=MAX_DAYS, whole=True)
    bounds = []
    for value, name in ((date_from, "from"), (date_to, "to")):
        text = f"{value:%Y-%m-%d}" if isinstance(value, pd.Timestamp) else str(value)
        bounds.append(pd.Timestamp(parse_date(text, what=name)))
    a, b = bounds
    if b < a:
        msg = _("no test day from {first} to {last} every {every} days").format(
            first=f"{a:%Y-%m-%d}", last=f"{b:%Y-%m-%d}", every=every
        )
        raise InputDataError(msg)
    days = list(pd.date_range(a, b, freq=f"{int(every)}D"))
    if data_span is None:
        return days
    first, last = data_span
    # a day needs history before it and data on it (else there is nothing to score)
    kept = [d for d in days if first < d <= last]
    if not kept:
        msg = _(
            "no test day from {first} to {last} has incidents before it and data on it: the "
            "data run from {start} to {end}"
        ).format(
            first=f"{a:%Y-%m-%d}",
            last=f"{b:%Y-%m-%d}",
            start=f"{first:%Y-%m-%d}",
            end=f"{last:%Y-%m-%d}",
        )
        raise InputDataError(msg)
    if len(kept) < len(days):
        log(
            _(
                "Skipped {n} of {total} test days: no incident before them or no data on them"
            ).format(n=len(days) - len(kept), total=len(days))
        )
    return kept


#: Most days an `evaluate` option may span (`every`, `history_days`, `count_days`).
MAX_DAYS = 36500


def check_replay_args(
    every: int, history_days: int, count_days: Sequence[int], n_random: int
) -> None:
    """Refuse replay arguments out of range before any data is read, naming the argument.

    Parameters
    ----------
    every, history_days, count_days, n_random
        As in :func:`replay_request`.

    Raises
    ------
    InputDataError
        If one is not a whole number in range (days: 1 to :data:`MAX_DAYS`; random walks: 0
        to 1000).
    """
    from patrolplan._validate import check_number

    check_number(every, "`every`", lo=1, hi=MAX_DAYS, whole=True)
    check_number(history_days, "`history_days`", lo=1, hi=MAX_DAYS, whole=True)
    # an empty sequence means no count baseline (a library caller's choice)
    if isinstance(count_days, str | bytes):
        msg = _("`count_days` must be one or more whole days such as 7,28; got {value!r}").format(
            value=count_days
        )
        raise InputDataError(msg)
    for value in count_days:
        check_number(value, "`count_days`", lo=1, hi=MAX_DAYS, whole=True)
    check_number(n_random, "`n_random`", lo=0, hi=1000, whole=True)


def run(
    incidents: str | Path | Mapping[str, str | Path | None],
    osm: str | Path,
    posts: Sequence[tuple[float, float]],
    *,
    date_from: str,
    date_to: str,
    every: int = 1,
    start: str | Sequence[str] = "18:00",
    shift: str | float = "4h",
    officers: int = 1,
    history_days: int = 90,
    columns: Mapping[str, Any] | None = None,
    crs: str | Mapping[str, str] | None = None,
    severity: Mapping[str, Mapping[str, float]] | None = None,
    method: str = "auto",
    count_days: Sequence[int] = (28,),
    n_random: int = 5,
    seed: int = 0,
    iterations: int | None = None,
    n_boot: int = 2000,
    cache_dir: str | Path | None = None,
    progress: bool | None = None,
    **kwargs: Any,
) -> EvaluationResult:
    """Read the files, replay the plan on the test days and total the result.

    Parameters
    ----------
    incidents
        One crime file, or layer -> file, as for :func:`patrolplan.plan.daily_plan`.
    osm
        Local OSM extract or GraphML.
    posts
        ``(lat, lon)`` of each post.
    date_from, date_to
        First and last test day, ``YYYY-MM-DD``.
    every
        Test every `every`-th day.
    start
        Shift start(s), ``HH:MM``; ``"10:00,18:00"`` gives two shifts a day.
    shift
        Shift length, e.g. ``"4h"``.
    officers
        Officers on foot.
    history_days
        Days of history each plan may use.
    columns, crs, severity
        Passed to :func:`patrolplan.ingest.read_layers`.
    method
        Hotspot method of the plan.
    count_days, n_random, seed, iterations
        Passed to :func:`replay`.
    n_boot
        Bootstrap resamples of :func:`summarize`.
    cache_dir
        Graph cache folder.
    progress
        Show the shifts replayed and the time left (see :func:`replay`); None: a bar on a
        terminal, else a few log lines.
    **kwargs
        Other options of :func:`replay` (``dwell_min``, ``half_life_days``...).

    Returns
    -------
    EvaluationResult
        The table, the rows per shift and the parameters.

    Raises
    ------
    PatrolPlanError
        Bad input, with a message that names it.
    """
    from patrolplan.request import PlanRequest

    check_replay_args(every, history_days, count_days, n_random)
    request = PlanRequest.build(
        None,
        incidents=incidents,
        osm=osm,
        posts=posts,
        columns=columns,
        crs=crs,
        severity=severity,
        cache_dir=cache_dir,
        officers=officers,
        shift=shift if isinstance(shift, str) else f"{shift:g}",
        method=method,
        seed=seed,
        iterations=iterations,
        **{k: kwargs.pop(k, None) for k in _OPTION_KWARGS},
    )
    return replay_request(
        request,
        date_from=date_from,
        date_to=date_to,
        every=every,
        start=start,
        history_days=history_days,
        count_days=count_days,
        n_random=n_random,
        n_boot=n_boot,
        progress=progress,
        **kwargs,
    )


#: Options of :func:`replay` that are plan options: :func:`run` puts them in the request.
_OPTION_KWARGS = ("dwell_min", "half_life_days", "max_hotspots", "max_segments", "speed_kmh")


def replay_request(
    request: PlanRequest,
    *,
    date_from: str,
    date_to: str,
    every: int = 1,
    start: str | Sequence[str] | None = None,
    history_days: int = 90,
    count_days: Sequence[int] = (28,),
    n_random: int = 5,
    n_boot: int = 2000,
    progress: bool | None = None,
    **kwargs: Any,
) -> EvaluationResult:
    """Read a request's inputs, replay its plan on the test days and total the result.

    Parameters
    ----------
    request
        Incidents, extract, posts and the plan's options (officers, shift, method, dwell,
        speed, seed, iterations, time zone and date reading).
    date_from, date_to
        First and last test day, ``YYYY-MM-DD``.
    every
        Test every `every`-th day.
    start
        Shift start(s), ``HH:MM``; ``"10:00,18:00"`` gives two shifts a day; default the
        options' `start`.
    history_days
        Days of history each plan may use.
    count_days, n_random
        Passed to :func:`replay`.
    n_boot
        Bootstrap resamples of :func:`summarize`.
    progress
        Show the shifts replayed and the time left (see :func:`replay`); None: a bar on a
        terminal, else a few log lines.
    **kwargs
        Other options of :func:`replay` (``dist_m``, ``zone``...).

    Returns
    -------
    EvaluationResult
        The table, the rows per shift and the parameters.

    Raises
    ------
    PatrolPlanError
        Bad input, with a message that names it.
    """
    request.require()
    check_replay_args(every, history_days, count_days, n_random)
    opts = request.options
    shift_min = max(opts.shifts_min)
    start = opts.start if start is None else start
    starts = [s.strip() for s in start.split(",")] if isinstance(start, str) else list(start)
    days = replay_days(date_from, date_to, every=every)
    data = pipeline.load(request, window=False)
    when = data.gdf_incidents.get("datetime", pd.Series(dtype="datetime64[ns]")).dropna()
    if not when.empty:
        days = replay_days(
            date_from,
            date_to,
            every=every,
            data_span=(when.min(), when.max()),
        )
    G = data.G
    assert G is not None
    seed = settings.seed if opts.seed is None else opts.seed
    per_shift = replay(
        data.gdf_incidents,
        G,
        request.posts,
        days=days,
        start=starts,
        shift_min=shift_min,
        officers=opts.officers,
        history_days=history_days,
        options=opts,
        layer_weights=request.layer_weights or None,
        count_days=count_days,
        n_random=n_random,
        seed=seed,
        iterations=opts.iterations,
        dwell_min=opts.dwell_min,
        half_life_days=opts.half_life_days,
        max_hotspots=opts.max_hotspots,
        max_segments=opts.max_segments,
        cache_dir=request.cache_dir,
        progress=progress,
        **kwargs,
    )
    table = summarize(per_shift, n_boot=n_boot, seed=seed)
    assert request.osm is not None
    params: dict[str, object] = {
        "incidents": {k: Path(v).name for k, v in request.files.items()},
        "rows_kept": sum(r.rows_kept for r in data.reports),
        "osm": request.osm.name,
        "posts": [list(p) for p in request.posts],
        "from": days[0].date().isoformat(),
        "to": days[-1].date().isoformat(),
        "every": every,
        "start": starts,
        "shift_min": shift_min,
        "officers": opts.officers,
        "history_days": history_days,
        "method": opts.method,
        "count_days": list(count_days),
        "n_random": n_random,
        "seed": seed,
        "iterations": settings.solver_iterations if opts.iterations is None else opts.iterations,
        "capture_m": kwargs.get("dist_m", CAPTURE_M),
        "window": str(per_shift["window"].iloc[0]),
        "n_random_places": kwargs.get("n_random_places", 1),
        "bootstrap": "days",
    }
    return EvaluationResult(
        table=table, per_shift=per_shift, params=params, reports=tuple(data.reports)
    )
