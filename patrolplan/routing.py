"""Foot-patrol routes: officers leave a post, visit hotspots, dwell, and return within a shift.

The hotspots are the customers of a team orienteering problem whose prize is the hotspot's
risk and whose service time is the dwell time; travel times are shortest walking paths on the
street graph (many-to-many Dijkstra on a CSR matrix). :mod:`patrolplan._top` solves it; this
module turns the solution back into street paths and a timetable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from patrolplan import _top, settings
from patrolplan._errors import InfeasibleRouteError
from patrolplan.graph import ShortestPaths, edge_between, node_street, snap_points
from patrolplan.utils import log

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd
    import networkx as nx


@dataclass(frozen=True)
class Stop:
    """One dwell stop of a route.

    Attributes
    ----------
    order
        1-based position in the route.
    hotspot_id
        The hotspot visited.
    node
        Graph node where the officer stands.
    lon, lat
        The node's position.
    arrive_min, leave_min
        Minutes after the start of the shift.
    risk
        The hotspot's risk (its prize).
    street
        A street at the stop.
    via
        Streets walked from the previous stop (or the post) to this one.
    """

    order: int
    hotspot_id: str
    node: int
    lon: float
    lat: float
    arrive_min: float
    leave_min: float
    risk: float
    street: str
    via: tuple[str, ...]


@dataclass(frozen=True)
class Route:
    """The route of one officer.

    Attributes
    ----------
    officer
        1-based officer number.
    post
        ``(lat, lon)`` of the post as given.
    post_node
        Graph node of the post; the route starts and ends there.
    shift_min
        Length of the shift.
    stops
        Dwell stops in order.
    nodes
        Every graph node walked, from the post back to the post.
    length_m
        Walking distance.
    walk_min, dwell_min
        Time walking and time dwelling.
    return_via
        Streets walked from the last stop back to the post.
    """

    officer: int
    post: tuple[float, float]
    post_node: int
    shift_min: float
    stops: tuple[Stop, ...]
    nodes: tuple[int, ...]
    length_m: float
    walk_min: float
    dwell_min: float
    return_via: tuple[str, ...]

    @property
    def duration_min(self) -> float:
        """Walking plus dwelling time."""
        return self.walk_min + self.dwell_min

    @property
    def hotspot_ids(self) -> tuple[str, ...]:
        """Hotspots visited, in order."""
        return tuple(s.hotspot_id for s in self.stops)


def parse_post(text: str) -> tuple[float, float]:
    """Parse a post given as ``"lat,lon"``.

    Parameters
    ----------
    text
        For example ``"39.2904,-76.6122"``.

    Returns
    -------
    tuple of float
        ``(lat, lon)``.

    Raises
    ------
    InfeasibleRouteError
        If the text is not two numbers or they are out of range.
    """
    parts = text.replace(";", ",").split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        msg = f"`post` must be 'lat,lon' in degrees, e.g. 39.2904,-76.6122; got {text!r}"
        raise InfeasibleRouteError(msg) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        msg = f"`post` {text!r} is not a latitude,longitude pair"
        raise InfeasibleRouteError(msg)
    return lat, lon


def solve(
    G: nx.MultiDiGraph,
    gdf_hotspots: gpd.GeoDataFrame,
    posts: Sequence[tuple[float, float]],
    *,
    officers: int = 1,
    shift_min: float | Sequence[float] = 240.0,
    dwell_min: float | None = None,
    speed_kmh: float | None = None,
    max_hotspots: int | None = None,
    seed: int | None = None,
    iterations: int | None = None,
    time_limit_s: float | None = None,
) -> list[Route]:
    """Plan one route per officer that collects as much hotspot risk as the shift allows.

    Officers are assigned to posts in turn (officer 1 to the first post, officer 2 to the
    second, ...). Each route starts and ends at its post's nearest street node and lasts at
    most its shift, walking time plus `dwell_min` at every hotspot. No hotspot is visited twice.

    Parameters
    ----------
    G
        Projected walking graph from :func:`patrolplan.graph.graph_from_file`.
    gdf_hotspots
        Ranked hotspots from :func:`patrolplan.hotspots.find_hotspots` (``lon``, ``lat``,
        ``risk``, ``hotspot_id``).
    posts
        ``(lat, lon)`` of each post.
    officers
        Number of officers.
    shift_min
        Shift length in minutes, one value for all or one per officer.
    dwell_min
        Minutes at each hotspot; default :data:`patrolplan.settings.dwell_min`.
    speed_kmh
        Walking speed; default :data:`patrolplan.settings.walk_speed_kmh`.
    max_hotspots
        Offer only the top-ranked hotspots; default :data:`patrolplan.settings.max_hotspots`.
    seed
        Seed of the solver; default :data:`patrolplan.settings.seed`.
    iterations
        Solver iterations; default :data:`patrolplan.settings.solver_iterations`.
    time_limit_s
        Optional wall-clock limit of the solver (makes results machine dependent).

    Returns
    -------
    list of Route
        One per officer, in officer order.

    Raises
    ------
    InfeasibleRouteError
        If a post is off the graph, no hotspot is reachable, or a shift is shorter than the
        shortest round trip to a hotspot with its dwell.
    """
    dwell = settings.dwell_min if dwell_min is None else dwell_min
    speed = settings.walk_speed_kmh if speed_kmh is None else speed_kmh
    top_k = settings.max_hotspots if max_hotspots is None else max_hotspots
    seed = settings.seed if seed is None else seed
    iterations = settings.solver_iterations if iterations is None else iterations
    if officers < 1:
        msg = f"`officers` must be at least 1, got {officers}"
        raise InfeasibleRouteError(msg)
    if not posts:
        msg = "`posts` is empty: give at least one post as lat,lon"
        raise InfeasibleRouteError(msg)
    shifts = [float(shift_min)] * officers if np.isscalar(shift_min) else list(shift_min)  # type: ignore[arg-type]
    if len(shifts) != officers:
        msg = f"`shift_min` has {len(shifts)} values for {officers} officers"
        raise InfeasibleRouteError(msg)
    if gdf_hotspots.empty:
        msg = "no hotspot to visit: the incidents form no cluster (lower `min_weight`?)"
        raise InfeasibleRouteError(msg)

    post_nodes = snap_points(G, list(posts), what="post")
    hot = gdf_hotspots.sort_values("rank").head(top_k)
    hot_nodes = snap_points(G, list(zip(hot["lat"], hot["lon"], strict=True)), what="hotspot",
                            max_dist_m=float("inf"))
    m_per_min = speed * 1000.0 / 60.0

    # Point 0..P-1 are posts, P.. are hotspots; distances from every point to every point.
    points = [*post_nodes, *hot_nodes]
    unique = sorted(set(points))
    sp = ShortestPaths(G, unique)
    D = np.array([sp.distance(a, points) for a in points]) / m_per_min
    P = len(post_nodes)
    prize = np.concatenate([np.zeros(P), hot["risk"].to_numpy(dtype=float)])
    service = np.concatenate([np.zeros(P), np.full(len(hot), dwell)])
    officer_post = [k % P for k in range(officers)]

    reachable = np.isfinite(D[:P, P:]).any(axis=0) & np.isfinite(D[P:, :P]).any(axis=1)
    if not reachable.any():
        msg = "no hotspot can be reached on foot from any post"
        raise InfeasibleRouteError(msg)
    if (~reachable).any():
        log(f"{int((~reachable).sum())} hotspots cannot be reached from any post; skipped")
    for k, (pi, shift) in enumerate(zip(officer_post, shifts, strict=True)):
        round_trip = D[pi, P:] + dwell + D[P:, pi]
        need = float(np.nanmin(np.where(np.isfinite(round_trip), round_trip, np.inf)))
        if need > shift:
            msg = (
                f"shift of officer {k + 1} is {shift:.0f} min but the nearest hotspot needs "
                f"{need:.0f} min (walk there and back plus {dwell:g} min dwell) from post "
                f"{posts[pi][0]:.5f},{posts[pi][1]:.5f}"
            )
            raise InfeasibleRouteError(msg)

    inst = _top.Instance(
        D=D, prize=prize, service=service,
        customers=np.arange(P, P + len(hot))[reachable],
        starts=tuple(officer_post), ends=tuple(officer_post), budgets=tuple(shifts),
    )
    sol = _top.solve(inst, seed=seed, iterations=iterations, time_limit_s=time_limit_s)
    total = float(hot["risk"].sum())
    log(
        f"Solved routes for {officers} officers: {sum(map(len, sol.routes))} of {len(hot)} "
        f"hotspots, {sol.score / total if total else 0:.0%} of their risk "
        f"({sol.iterations} iterations, {sol.seconds:.1f} s)"
    )
    routes = []
    for k, seq in enumerate(sol.routes):
        pi = officer_post[k]
        routes.append(
            _build_route(G, sp, k + 1, posts[pi], post_nodes[pi], shifts[k],
                         [(hot.iloc[c - P], hot_nodes[c - P]) for c in seq],
                         dwell, m_per_min)
        )
    return routes


def _streets(G: nx.MultiDiGraph, path: Sequence[int]) -> tuple[str, ...]:
    names: list[str] = []
    for u, v in zip(path[:-1], path[1:], strict=True):
        name = str(edge_between(G, u, v).get("name") or "").split(";")[0]
        if name and name != "nan" and (not names or names[-1] != name):
            names.append(name)
    return tuple(names)


def _build_route(
    G: nx.MultiDiGraph,
    sp: ShortestPaths,
    officer: int,
    post: tuple[float, float],
    post_node: int,
    shift: float,
    visits: list[tuple[object, int]],
    dwell: float,
    m_per_min: float,
) -> Route:
    nodes = [post_node]
    stops = []
    clock = 0.0
    length = 0.0
    here = post_node
    for order, (row, node) in enumerate(visits, start=1):
        path = sp.path(here, node)
        leg = float(sp.distance(here, [node])[0])
        nodes.extend(path[1:])
        length += leg
        clock += leg / m_per_min
        stops.append(
            Stop(
                order=order,
                hotspot_id=str(row["hotspot_id"]),  # type: ignore[index]
                node=int(node),
                lon=float(G.nodes[node]["lon"]),
                lat=float(G.nodes[node]["lat"]),
                arrive_min=clock,
                leave_min=clock + dwell,
                risk=float(row["risk"]),  # type: ignore[index]
                street=node_street(G, node),
                via=_streets(G, path),
            )
        )
        clock += dwell
        here = node
    back = sp.path(here, post_node)
    nodes.extend(back[1:])
    length += float(sp.distance(here, [post_node])[0])
    return Route(
        officer=officer,
        post=post,
        post_node=int(post_node),
        shift_min=shift,
        stops=tuple(stops),
        nodes=tuple(int(n) for n in nodes),
        length_m=length,
        walk_min=length / m_per_min,
        dwell_min=dwell * len(stops),
        return_via=_streets(G, back),
    )
