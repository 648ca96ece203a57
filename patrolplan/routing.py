"""Foot-patrol routes: officers leave a post, visit hotspots, dwell, and return within a shift.

The hotspots are the customers of a team orienteering problem whose prize is the hotspot's
risk and whose service time is the dwell time; travel times are shortest walking paths on the
street graph (many-to-many Dijkstra on a CSR matrix). :mod:`patrolplan._top` solves it; this
module turns the solution back into street paths and a timetable.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from patrolplan import _top, settings
from patrolplan._errors import InfeasibleRouteError
from patrolplan.graph import (
    ShortestPaths,
    edge_between,
    node_street,
    snap_points,
    unreachable_hotspots,
)
from patrolplan.i18n import _, format_number, format_percent, ngettext
from patrolplan.utils import log

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

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
        The hotspot's (or street's) risk; the solver counts a revisit at `revisit_value`
        times the visit before it.
    street
        A street at the stop.
    via
        Streets walked from the previous stop (or the post) to this one.
    kind
        ``"hotspot"``: dwell at the hotspot ``hotspot_id`` (H001...); ``"street"``: walk the
        risky street ``hotspot_id`` (S001...) from ``node`` to its other end, ``arrive_min``
        to ``leave_min``.
    visit
        1 for the first visit of the plan to this hotspot, 2 for the second (by any officer),
        ... (see `revisit_min` of :func:`solve`); always 1 for streets.
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
    kind: str = "hotspot"
    visit: int = 1

    @property
    def label(self) -> str:
        """The stop's id for people, with the visit number of a revisit (``H003 (visit 2)``)."""
        return self.hotspot_id + (f" (visit {self.visit})" if self.visit > 1 else "")

    @property
    def passing(self) -> bool:
        """A risky street whose walk reads no minute on the clock: part of the way, not a stop.

        Its arrival and departure round to the same minute (what every timetable prints), so
        no output gives it a stop number (:attr:`Route.numbers`).
        """
        return self.kind == "street" and round(self.leave_min) == round(self.arrive_min)


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
        Graph node of the post; the route starts there.
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
        Streets walked from the last stop back to the post (or to the end point).
    end_node
        Graph node where the route ends: the post's, unless the route is open.
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
    end_node: int

    @property
    def duration_min(self) -> float:
        """Walking plus dwelling time."""
        return self.walk_min + self.dwell_min

    @property
    def hotspot_ids(self) -> tuple[str, ...]:
        """Hotspots visited, in order (street tasks left out; a revisit appears again)."""
        return tuple(s.hotspot_id for s in self.stops if s.kind == "hotspot")

    @property
    def street_ids(self) -> tuple[str, ...]:
        """Risky streets walked as tasks, in order."""
        return tuple(s.hotspot_id for s in self.stops if s.kind == "street")

    @property
    def numbers(self) -> dict[int, int]:
        """Stop ``order`` -> the stop's number for people: 1, 2, ... in order.

        Streets walked in passing (:attr:`Stop.passing`) get none. Every output numbers stops
        this way: the map, the sheets, the timetable, GPX and KML.
        """
        out: dict[int, int] = {}
        for s in self.stops:
            if not s.passing:
                out[s.order] = len(out) + 1
        return out


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
        msg = _("`post` must be 'lat,lon' in degrees, e.g. 39.2904,-76.6122; got {value!r}").format(
            value=text
        )
        raise InfeasibleRouteError(msg) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        msg = _("`post` {value!r} is not a latitude,longitude pair").format(value=text)
        raise InfeasibleRouteError(msg)
    return lat, lon


@dataclass(frozen=True)
class RouteOptions:
    """What a routing request asks for, besides the graph, the hotspots and the posts.

    A field left at None takes its value from :mod:`patrolplan.settings` when routes are solved.

    Attributes
    ----------
    officers
        Number of officers; assigned to the posts in turn.
    shift_min
        Shift length in minutes, one value for all or one per officer.
    dwell_min
        Minutes at each hotspot; default :data:`patrolplan.settings.dwell_min`. A hotspot with
        its own ``dwell_min`` column value uses that instead.
    speed_kmh
        Walking speed; default :data:`patrolplan.settings.walk_speed_kmh`.
    max_hotspots
        Offer only the top-ranked hotspots; default :data:`patrolplan.settings.max_hotspots`.
    ends
        Open routes: ``(lat, lon)`` where each officer finishes, assigned in turn like posts.
        Default: back at the post.
    max_segments
        How many risky streets to offer; default :data:`patrolplan.settings.max_segments`.
    revisit_min
        Allow a hotspot to be visited again, by the same or another officer, when the visits
        start at least this many minutes apart; ``(min, max)`` also caps the gap. A revisit
        collects `revisit_value` times the risk of the visit before it, so it competes with
        fresh hotspots. Default: no revisits.
    max_visits
        Most visits per hotspot when revisits are allowed.
    revisit_value
        Share of a hotspot's risk a second visit collects (a third: its square, ...); default
        :data:`patrolplan.settings.revisit_value`.
    seed
        Seed of the solver; default :data:`patrolplan.settings.seed`.
    iterations
        Solver iterations; default :data:`patrolplan.settings.solver_iterations`.
    time_limit_s
        Optional wall-clock limit of the solver (makes results machine dependent).
    """

    officers: int = 1
    shift_min: float | tuple[float, ...] = 240.0
    dwell_min: float | None = None
    speed_kmh: float | None = None
    max_hotspots: int | None = None
    ends: tuple[tuple[float, float], ...] | None = None
    max_segments: int | None = None
    revisit_min: float | tuple[float, float] | None = None
    max_visits: int = 2
    revisit_value: float | None = None
    seed: int | None = None
    iterations: int | None = None
    time_limit_s: float | None = None


@dataclass(frozen=True)
class _Task:
    """Something a route can do: dwell at a hotspot, or walk a risky street from entry to exit."""

    kind: str
    task_id: str
    entry: int
    exit: int
    risk: float
    street: str
    length_m: float
    dwell_min: float = 0.0
    share: float = 1.0

    @property
    def prize(self) -> float:
        """What doing the task is worth: its risk, a share of it for a repeat visit."""
        return self.risk * self.share


@dataclass(frozen=True, eq=False)
class _Problem:
    """A routing request turned into a solver instance, with what is needed to map back."""

    inst: _top.Instance
    sp: ShortestPaths
    tasks: list[_Task]
    posts: list[tuple[float, float]]
    start_nodes: list[int]
    end_nodes: list[int]
    shifts: list[float]
    m_per_min: float


def _street_tasks(segments: gpd.GeoDataFrame | None, top_k: int) -> list[_Task]:
    """Both walking directions of the `top_k` riskiest segments (ids S001, S002, ...)."""
    if segments is None or top_k <= 0 or segments.empty:
        return []
    seg = (
        segments[segments["risk"] > 0]
        .sort_values(["risk", "u", "v"], ascending=[False, True, True], kind="stable")
        .head(top_k)
    )
    tasks = []
    for rank, row in enumerate(seg.itertuples(index=False), start=1):
        name = str(row.name or "").split(";")[0] or "unnamed street"
        for a, b in ((int(row.u), int(row.v)), (int(row.v), int(row.u))):
            tasks.append(
                _Task("street", f"S{rank:03d}", a, b, float(row.risk), name, float(row.length))
            )
    return tasks


def _revisit_bounds(
    revisit_min: float | Sequence[float] | None, max_visits: int, value: float
) -> tuple[float, float] | None:
    """Check and normalise `revisit_min` to ``(min, max)`` minutes, or None for no revisits."""
    if max_visits < 1:
        msg = _("`max_visits` must be at least 1, got {value}").format(value=max_visits)
        raise InfeasibleRouteError(msg)
    if not 0 < value <= 1:
        msg = _("`revisit_value` must be in (0, 1], got {value}").format(value=value)
        raise InfeasibleRouteError(msg)
    if revisit_min is None or max_visits == 1:
        return None
    if isinstance(revisit_min, int | float | np.number):
        lo, hi = float(revisit_min), float("inf")
    else:
        lo, hi = float(revisit_min[0]), float(revisit_min[1])
    if not (lo > 0 and hi >= lo):
        msg = _(
            "`revisit_min` must be a positive number of minutes or (min, max) with "
            "0 < min <= max; got {value!r}"
        ).format(value=revisit_min)
        raise InfeasibleRouteError(msg)
    return lo, hi


def _problem(
    G: nx.MultiDiGraph,
    gdf_hotspots: gpd.GeoDataFrame,
    posts: Sequence[tuple[float, float]],
    opts: RouteOptions,
    segments: gpd.GeoDataFrame | None,
) -> _Problem:
    officers, shift_min, ends = opts.officers, opts.shift_min, opts.ends
    max_visits, revisit_value = opts.max_visits, opts.revisit_value
    dwell_min, speed_kmh = opts.dwell_min, opts.speed_kmh
    max_hotspots, max_segments, revisit_min = opts.max_hotspots, opts.max_segments, opts.revisit_min
    value = settings.revisit_value if revisit_value is None else float(revisit_value)
    lag = _revisit_bounds(revisit_min, max_visits, value)
    dwell = float(settings.dwell_min if dwell_min is None else dwell_min)
    speed = float(settings.walk_speed_kmh if speed_kmh is None else speed_kmh)
    top_k = settings.max_hotspots if max_hotspots is None else max_hotspots
    top_s = settings.max_segments if max_segments is None else max_segments
    if officers < 1:
        msg = _("`officers` must be at least 1, got {value}").format(value=officers)
        raise InfeasibleRouteError(msg)
    if not posts:
        msg = _("`posts` is empty: give at least one post as lat,lon")
        raise InfeasibleRouteError(msg)
    shifts = (
        [float(shift_min)] * officers
        if isinstance(shift_min, int | float | np.number)
        else [float(v) for v in shift_min]
    )
    if len(shifts) != officers:
        msg = _("`shift_min` has {n} values for {officers} officers").format(
            n=len(shifts), officers=officers
        )
        raise InfeasibleRouteError(msg)
    if gdf_hotspots.empty:
        msg = _("no hotspot to visit: the incidents form no cluster (lower `min_weight`?)")
        raise InfeasibleRouteError(msg)

    post_nodes = snap_points(G, list(posts), what="post")
    end_points = list(ends) if ends else list(posts)
    end_nodes_all = snap_points(G, end_points, what="end point") if ends else post_nodes
    # a hotspot no street comes near cannot be watched from one: the officer would stand
    # hundreds of metres away and the plan would count it visited
    far = unreachable_hotspots(G, gdf_hotspots)
    if len(far):
        # a plan lists it under its warnings; here it is a step of the search
        log(far_hotspots_note(far))
        gdf_hotspots = gdf_hotspots[~gdf_hotspots["hotspot_id"].isin(far.index)]
        if gdf_hotspots.empty:
            msg = _("no hotspot to visit: every hotspot lies too far from the extract's streets")
            raise InfeasibleRouteError(msg)
    hot = gdf_hotspots.sort_values("rank").head(top_k)
    hot_nodes = snap_points(
        G, list(zip(hot["lat"], hot["lon"], strict=True)), what="hotspot", max_dist_m=float("inf")
    )
    m_per_min = speed * 1000.0 / 60.0
    start_nodes = [post_nodes[k % len(post_nodes)] for k in range(officers)]
    end_nodes = [end_nodes_all[k % len(end_nodes_all)] for k in range(officers)]
    # a hotspot may carry its own dwell time (column dwell_min); others get `dwell`
    own = (
        hot["dwell_min"].to_numpy(dtype=float) if "dwell_min" in hot else np.full(len(hot), np.nan)
    )
    hot_tasks = [
        _Task("hotspot", str(h), n, n, float(r), node_street(G, n), 0.0, d)
        for h, n, r, d in zip(
            hot["hotspot_id"],
            hot_nodes,
            hot["risk"],
            np.where(np.isnan(own), dwell, own),
            strict=True,
        )
    ]
    street_tasks = _street_tasks(segments, top_s)
    # A revisit is a task of its own at the same spot, worth `value` times the visit before
    # it (a second look deters less than the first); the solver keeps the visits of one
    # hotspot at least `lag[0]` (at most `lag[1]`) minutes apart.
    repeat_tasks = [
        replace(t, share=value**j) for j in range(1, max_visits if lag else 1) for t in hot_tasks
    ]
    tasks = hot_tasks + street_tasks + repeat_tasks

    # Points: officer starts, officer ends, then the tasks. A task is entered at `entry` and
    # left at `exit` (the same node for a hotspot; the street's two ends for a street).
    P = 2 * officers
    entries = [*start_nodes, *end_nodes, *(t.entry for t in tasks)]
    exits = [*start_nodes, *end_nodes, *(t.exit for t in tasks)]
    sp = ShortestPaths(G, sorted(set(exits)))
    D = np.array([sp.distance(a, entries) for a in exits]) / m_per_min
    starts = tuple(range(officers))
    finishes = tuple(range(officers, P))
    prize = np.concatenate([np.zeros(P), [t.prize for t in tasks]])
    service = np.concatenate(
        [
            np.zeros(P),
            [t.length_m / m_per_min if t.kind == "street" else t.dwell_min for t in tasks],
        ]
    )
    # both directions of one street are one group: walking it once collects its risk once
    group = np.arange(P + len(tasks))
    first_street = P + len(hot_tasks)
    for i in range(first_street, first_street + len(street_tasks), 2):
        group[i + 1] = group[i]
    # every visit of one hotspot is at the same place
    place_of = {t.task_id: i for i, t in enumerate(hot_tasks)}
    place = np.array([-1] * P + [place_of.get(t.task_id, -1) for t in tasks])

    reachable = np.isfinite(D[:officers, P:]).any(axis=0) & np.isfinite(D[P:, officers:P]).any(
        axis=1
    )
    if not reachable.any():
        msg = _("no hotspot can be reached on foot from any post")
        raise InfeasibleRouteError(msg)
    if (~reachable).any():
        log(
            _("{n} tasks cannot be reached from any post; skipped").format(
                n=int((~reachable).sum())
            )
        )
    for k in range(officers):
        if not np.isfinite(D[k, officers + k]):
            msg = _(
                "the end point of officer {officer} cannot be reached on foot from its post"
            ).format(officer=k + 1)
            raise InfeasibleRouteError(msg)
        # the README's promise: a shift too short for the nearest hotspot and back is refused,
        # even when a short risky street could be walked in it
        hot_idx = P + np.arange(len(hot_tasks))
        trip = D[k, hot_idx] + service[hot_idx] + D[hot_idx, officers + k]
        near = int(np.argmin(np.where(np.isfinite(trip), trip, np.inf)))
        need = float(trip[near])
        if need > shifts[k]:
            la, lo = posts[k % len(posts)]
            # whole minutes that add up: the walk is what the total leaves after the dwell
            dwell_near = round(float(service[P + near]))
            msg = _(
                "shift of officer {officer} is {shift:.0f} min but the nearest hotspot, "
                "{hotspot} (of {n} found for this shift), needs {need} min: {walk} min walk "
                "there and back plus {dwell} min dwell, from post {lat:.5f},{lon:.5f}"
            ).format(
                officer=k + 1,
                shift=shifts[k],
                hotspot=hot_tasks[near].task_id,
                n=len(hot_tasks),
                need=round(need),
                walk=round(need) - dwell_near,
                dwell=dwell_near,
                lat=la,
                lon=lo,
            )
            raise InfeasibleRouteError(msg)
    inst = _top.Instance(
        D=D,
        prize=prize,
        service=service,
        customers=np.arange(P, P + len(tasks))[reachable],
        starts=starts,
        ends=finishes,
        budgets=tuple(shifts),
        group=group,
        place=place if lag else None,
        lag=lag or (0.0, float("inf")),
    )
    return _Problem(inst, sp, tasks, list(posts), start_nodes, end_nodes, shifts, m_per_min)


def _routes(G: nx.MultiDiGraph, prob: _Problem, sol: _top.Solution) -> list[Route]:
    P = len(prob.inst.starts) * 2
    bad = _top.lag_violations(prob.inst, sol.routes)
    if bad:  # pragma: no cover - the solver never returns these; guard against regressions
        msg = f"internal error: {len(bad)} revisits break the revisit interval"
        raise RuntimeError(msg)
    routes = [
        _build_route(
            G,
            prob.sp,
            k + 1,
            prob.posts[k % len(prob.posts)],
            prob.start_nodes[k],
            prob.end_nodes[k],
            prob.shifts[k],
            [(prob.tasks[c - P], float(prob.inst.service[c])) for c in seq],
            prob.m_per_min,
        )
        for k, seq in enumerate(sol.routes)
    ]
    # number the visits of each hotspot in clock order, across officers
    visits = sorted(
        (s.arrive_min, r.officer, s.order, s.hotspot_id)
        for r in routes
        for s in r.stops
        if s.kind == "hotspot"
    )
    seen: dict[str, int] = {}
    number: dict[tuple[int, int], int] = {}
    for _arrive, officer, order, h in visits:
        seen[h] = seen.get(h, 0) + 1
        number[(officer, order)] = seen[h]
    return [
        replace(
            r, stops=tuple(replace(s, visit=number.get((r.officer, s.order), 1)) for s in r.stops)
        )
        for r in routes
    ]


def solve(
    G: nx.MultiDiGraph,
    gdf_hotspots: gpd.GeoDataFrame,
    posts: Sequence[tuple[float, float]],
    options: RouteOptions | None = None,
    *,
    segments: gpd.GeoDataFrame | None = None,
) -> list[Route]:
    """Plan one route per officer that collects as much hotspot risk as the shift allows.

    Officers are assigned to posts in turn (officer 1 to the first post, officer 2 to the
    second, ...). Each route starts at its post's nearest street node, ends there (or at its
    end point, see :attr:`RouteOptions.ends`) and lasts at most its shift, walking time plus the
    dwell at every hotspot. A hotspot is visited once, unless ``revisit_min`` allows it to be
    visited again.

    Parameters
    ----------
    G
        Projected walking graph from :func:`patrolplan.graph.graph_from_file`.
    gdf_hotspots
        Ranked hotspots from :func:`patrolplan.hotspots.find_hotspots` (``lon``, ``lat``,
        ``risk``, ``hotspot_id``, ``rank``).
    posts
        ``(lat, lon)`` of each post.
    options
        Officers, shifts, dwell, speed, revisits, seed...; default ``RouteOptions()``.
    segments
        Street segments with ``u``, ``v``, ``name``, ``length`` and ``risk`` (from
        :func:`patrolplan.graph.segment_risk`); the ``max_segments`` riskiest become tasks:
        walking such a street end to end, in either direction, collects its risk once. Give the
        risk of incidents outside the hotspots, so nothing is counted twice.

    Returns
    -------
    list of Route
        One per officer, in officer order. An officer with nothing to do (fewer tasks than
        officers, or none within reach of the shift) gets an empty route and a warning.

    Raises
    ------
    InfeasibleRouteError
        If a post is off the graph, no hotspot is reachable, a shift is shorter than the
        shortest round trip to a hotspot with its dwell, or ``revisit_min`` is not positive.
    """
    opts = RouteOptions() if options is None else options
    prob = _problem(G, gdf_hotspots, posts, opts, segments)
    seed = settings.seed if opts.seed is None else opts.seed
    iterations = _iterations(opts, prob)
    sol = _top.solve(prob.inst, seed=seed, iterations=iterations, time_limit_s=opts.time_limit_s)
    # the prize on offer: every group (a hotspot visit, a street either way) once
    P = 2 * opts.officers
    group = np.arange(len(prob.inst.prize)) if prob.inst.group is None else prob.inst.group
    first = {int(g): c for c, g in reversed(list(enumerate(group)))}
    total = float(sum(prob.inst.prize[c] for g, c in first.items() if c >= P))
    log(
        _(
            "Solved routes for {officers} officers: {done} of {tasks} tasks, {share} of their "
            "prize ({iterations} iterations, {seconds} s)"
        ).format(
            officers=opts.officers,
            done=sum(map(len, sol.routes)),
            tasks=len(first) - P,
            share=format_percent(sol.score / total if total else 0, decimals=0),
            iterations=sol.iterations,
            seconds=format_number(sol.seconds, decimals=1),
        )
    )
    routes = _routes(G, prob, sol)
    _warn_idle(routes, len(first) - P)
    return routes


@dataclass(frozen=True, eq=False)
class AreaRoutes:
    """Routes planned inside patrol areas, from :func:`solve_in_areas`.

    Attributes
    ----------
    routes
        One per officer, in officer order.
    homes
        Index into the `areas` argument of each officer's area.
    warnings
        Lines for a supervisor: an officer walking from a post outside his area, an area
        without an officer or without a hotspot, an area shared by several officers.
    """

    routes: tuple[Route, ...]
    homes: tuple[int, ...]
    warnings: tuple[str, ...]


def _street_order(segments: gpd.GeoDataFrame) -> list[tuple[int, int]]:
    """Return the risky segments in the order street tasks are ranked (:func:`_street_tasks`)."""
    seg = segments[segments["risk"] > 0].sort_values(
        ["risk", "u", "v"], ascending=[False, True, True], kind="stable"
    )
    return [(int(u), int(v)) for u, v in zip(seg["u"], seg["v"], strict=True)]


def _assign_areas(dist_m: np.ndarray) -> list[int]:
    """Give each officer an area: every area one officer first, the nearest ones first.

    `dist_m` is officers x areas, the walk from each officer's post to each area (0 when the
    post is on the area's streets). Rounds of a minimum-cost assignment hand out the areas:
    with fewer officers than areas some stay empty; with more, the rest share the areas
    nearest to them, again spread over the areas.
    """
    from scipy.optimize import linear_sum_assignment

    n = dist_m.shape[0]
    # unreachable areas cost more than any walk; a tiny tie-break keeps officer order
    cost = np.where(np.isfinite(dist_m), dist_m, 1e12) + np.arange(n)[:, None] * 1e-3
    home = [-1] * n
    left = list(range(n))
    while left:
        rows, cols = linear_sum_assignment(cost[left])
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            home[left[r]] = int(c)
        left = [k for k in left if home[k] < 0]
    return home


def solve_in_areas(
    G: nx.MultiDiGraph,
    gdf_hotspots: gpd.GeoDataFrame,
    posts: Sequence[tuple[float, float]],
    areas: Sequence[nx.MultiDiGraph],
    options: RouteOptions | None = None,
    *,
    segments: gpd.GeoDataFrame | None = None,
    area_ids: Sequence[int] | None = None,
) -> AreaRoutes:
    """Plan one route per officer, each working inside a patrol area and keeping the shift.

    Officers are assigned to posts in turn, as in :func:`solve`, and areas to officers by
    their posts: a post on an area's streets serves that area, else the nearest area (walking
    distance); every area gets one officer before any gets a second, and officers sharing an
    area are planned together so they never visit the same hotspot twice. A route always
    starts at its officer's post and ends there (or at its end point); the walk from the post
    into the area and back is part of the shift. Only the hotspots and risky streets inside
    the area are offered, and between them the officer walks the area's streets.

    Parameters
    ----------
    G
        The district's walking graph (node ids are shared with the areas).
    gdf_hotspots
        Ranked hotspots with a ``node`` column (graph node of each hotspot).
    posts
        ``(lat, lon)`` of each post; officers are assigned to posts in turn.
    areas
        One subgraph of `G` per patrol area (e.g. :func:`patrolplan.areas.restrict`).
    options
        As for :func:`solve`.
    segments
        As for :func:`solve`. Street-task ids (S001...) follow the risk rank of the whole
        district, so they are unique in the plan.
    area_ids
        The areas' numbers for messages; default 1, 2, ...

    Returns
    -------
    AreaRoutes
        The routes, each officer's area and the warnings of the plan.

    Raises
    ------
    InfeasibleRouteError
        If `areas` is empty, a post is off the graph or a shift is too short to reach the
        area's nearest hotspot, dwell and come back.
    """
    opts = RouteOptions() if options is None else options
    if not areas:
        msg = _("`areas` is empty: give at least one patrol area")
        raise InfeasibleRouteError(msg)
    if not posts:
        msg = _("`posts` is empty: give at least one post as lat,lon")
        raise InfeasibleRouteError(msg)
    ids = list(area_ids) if area_ids is not None else list(range(1, len(areas) + 1))
    n = opts.officers
    shifts = (
        [float(opts.shift_min)] * n
        if isinstance(opts.shift_min, int | float | np.number)
        else [float(v) for v in opts.shift_min]
    )
    speed = float(settings.walk_speed_kmh if opts.speed_kmh is None else opts.speed_kmh)
    m_per_min = speed * 1000.0 / 60.0
    post_of = [posts[k % len(posts)] for k in range(n)]
    end_of = [opts.ends[k % len(opts.ends)] for k in range(n)] if opts.ends else post_of
    post_nodes = snap_points(G, list(posts), what="post")
    start_node = [post_nodes[k % len(posts)] for k in range(n)]
    if opts.ends:
        end_nodes = snap_points(G, list(opts.ends), what="end point")
        end_node = [end_nodes[k % len(end_nodes)] for k in range(n)]
    else:
        end_node = list(start_node)
    # each node, hotspot and street belongs to the first area that holds it (areas may
    # share the streets on their border)
    owner: dict[int, int] = {}
    for a, sub in enumerate(areas):
        for node in sub.nodes:
            owner.setdefault(int(node), a)
    area_nodes = [[v for v, a in owner.items() if a == i] for i in range(len(areas))]
    # walks from every post and end point to every node
    sp = ShortestPaths(G, sorted({*start_node, *end_node}))
    to_area = np.array(
        [[float(np.min(sp.distance(s, nodes))) for nodes in area_nodes] for s in start_node]
    )
    homes = _assign_areas(to_area)
    notes: list[str] = []
    for a, area in enumerate(ids):
        crew = [k + 1 for k in range(n) if homes[k] == a]
        if not crew:
            notes.append(
                _("patrol area {area} has no officer: its hotspots are not patrolled").format(
                    area=area
                )
            )
        elif len(crew) > 1:
            notes.append(
                _("patrol area {area} is shared by officers {officers}").format(
                    area=area, officers=", ".join(map(str, crew))
                )
            )
    global_ids = (
        {uv: f"S{i:03d}" for i, uv in enumerate(_street_order(segments), start=1)}
        if segments is not None and not segments.empty
        else {}
    )
    top_s = settings.max_segments if opts.max_segments is None else opts.max_segments
    routes: dict[int, Route] = {}
    walks: dict[int, str] = {}
    for a, sub in enumerate(areas):
        crew = [k for k in range(n) if homes[k] == a]
        if not crew:
            continue
        inside = set(area_nodes[a])
        # the area's streets plus the shortest walks from each post in and back to each end
        keep = set(sub.nodes)
        for k in crew:
            d_in = sp.distance(start_node[k], area_nodes[a])
            entry = area_nodes[a][int(np.argmin(d_in))]
            d_out = sp.distance(end_node[k], area_nodes[a])
            exit_ = area_nodes[a][int(np.argmin(d_out))]
            keep.update(sp.path(start_node[k], entry))
            keep.update(ShortestPaths(G, [exit_]).path(exit_, end_node[k]))
            walk_min = (float(np.min(d_in)) + float(np.min(d_out))) / m_per_min
            if walk_min > 0:
                la, lo = post_of[k]
                walks[k] = _(
                    "officer {officer}: post {lat:.5f},{lon:.5f} lies outside patrol area "
                    "{area}; walking there and back takes about {minutes} min of the shift"
                ).format(officer=k + 1, lat=la, lon=lo, area=ids[a], minutes=round(walk_min))
        H: nx.MultiDiGraph = G.subgraph(keep).copy()
        hot = (
            gdf_hotspots[[owner.get(int(v)) == a for v in gdf_hotspots["node"]]]
            if len(gdf_hotspots)
            else gdf_hotspots
        )
        segs = None
        if segments is not None:
            segs = segments[segments["u"].isin(inside) & segments["v"].isin(inside)]
        group = replace(
            opts,
            officers=len(crew),
            shift_min=tuple(shifts[k] for k in crew),
            ends=tuple(end_of[k] for k in crew) if opts.ends else None,
        )
        crew_posts = [post_of[k] for k in crew]
        if hot.empty:
            notes.append(
                _("officer {officer}: patrol area {area} holds no hotspot").format(
                    officer=", ".join(str(k + 1) for k in crew), area=ids[a]
                )
            )
            for k in crew:
                hp = ShortestPaths(H, [start_node[k]])
                routes[k] = _build_route(
                    H, hp, k + 1, post_of[k], start_node[k], end_node[k], shifts[k], [], m_per_min
                )
            continue
        try:
            planned = solve(H, hot, crew_posts, group, segments=segs)
        except InfeasibleRouteError as exc:
            # the area's problem counts its officers from 1: name them as the plan does
            msg = _("patrol area {area} (officers {officers}, in this order): {error}").format(
                area=ids[a], officers=", ".join(str(k + 1) for k in crew), error=exc
            )
            raise InfeasibleRouteError(msg) from None
        # street ids of the area's problem -> the district's, so no id names two streets
        local = {
            f"S{i:03d}": global_ids[uv]
            for i, uv in enumerate(_street_order(segs)[:top_s] if segs is not None else [], 1)
        }
        for k, r in zip(crew, planned, strict=True):
            stops = tuple(
                replace(s, hotspot_id=local.get(s.hotspot_id, s.hotspot_id))
                if s.kind == "street"
                else s
                for s in r.stops
            )
            routes[k] = replace(r, officer=k + 1, post=post_of[k], stops=stops)
    notes += [walks[k] for k in sorted(walks)]
    for line in notes:
        log(line, logging.WARNING)
    return AreaRoutes(tuple(routes[k] for k in range(n)), tuple(homes), tuple(notes))


def _iterations(opts: RouteOptions, prob: _Problem) -> int:
    """Return the search budget: the option, else the default, scaled down for many tasks.

    With hundreds of tasks an iteration costs several milliseconds and the search holds its
    10 s score within 1 % after about 1 s, so beyond 100 tasks the default budget shrinks in
    proportion (never below 500 iterations). The budget stays a count, so a seed still fixes
    the routes.
    """
    if opts.iterations is not None:
        return opts.iterations
    n_tasks = len(prob.inst.customers)
    if n_tasks <= 100:
        return settings.solver_iterations
    return max(500, int(settings.solver_iterations * 100 / n_tasks))


def far_hotspots_note(far: pd.Series) -> str:
    """Say which hotspots are left out for lying too far from any street.

    `far` comes from :func:`patrolplan.graph.unreachable_hotspots`.
    """
    shown = ", ".join(f"{h} {d:.0f} m" for h, d in list(far.items())[:5])
    return ngettext(
        "{n} hotspot left out: no street of the extract comes near enough to watch it ({shown})",
        "{n} hotspots left out: no street of the extract comes near enough to watch them ({shown})",
        len(far),
    ).format(n=len(far), shown=shown + (" ..." if len(far) > 5 else ""))


def _warn_idle(routes: Sequence[Route], n_tasks: int) -> None:
    """Log one warning naming the officers who have nothing to do, and why."""
    idle = [r.officer for r in routes if not r.stops]
    if not idle:
        return
    who = ", ".join(map(str, idle[:10])) + (" ..." if len(idle) > 10 else "")
    if n_tasks < len(routes):
        why = _("fewer tasks ({tasks}) than officers ({officers})").format(
            tasks=n_tasks, officers=len(routes)
        )
    else:
        why = _("every task within reach of their posts and shifts is taken by other officers")
    line = ngettext(
        "officer {who} has nothing to do: {why}",
        "officers {who} have nothing to do: {why}",
        len(idle),
    ).format(who=who, why=why)
    log(line, logging.WARNING)


def start_compiling() -> Callable[[], None]:
    """Start compiling the route search in the background if this install never has.

    Returns
    -------
    callable
        Call it before the first :func:`solve` to wait for the compilation (a no-op when the
        compiled search was already cached).
    """
    proc = _top.start_compiling()
    if proc is None:
        return lambda: None
    log(
        _("Compiling the route search in the background (first run after an install)"),
        settings.NOTICE,
    )

    def wait() -> None:
        proc.wait()

    return wait


def walked_segments(routes: Sequence[Route]) -> set[tuple[int, int]]:
    """Return the undirected street segments ``(u, v)``, ``u < v``, that routes walk.

    Parameters
    ----------
    routes
        Routes of one plan.

    Returns
    -------
    set of tuple
        Node pairs.
    """
    return {
        (min(u, v), max(u, v))
        for r in routes
        for u, v in zip(r.nodes[:-1], r.nodes[1:], strict=True)
        if u != v
    }


def overlap(G: nx.MultiDiGraph, a: Sequence[Route], b: Sequence[Route]) -> float:
    """Share of street length two plans have in common (length-weighted Jaccard).

    Parameters
    ----------
    G
        The graph the plans were made on.
    a, b
        Two plans.

    Returns
    -------
    float
        0 when the plans share no street, 1 when they walk exactly the same streets.
    """
    sa, sb = walked_segments(a), walked_segments(b)

    def length(segs: set[tuple[int, int]]) -> float:
        total = 0.0
        for u, v in segs:
            edge = edge_between(G, u, v) if G.has_edge(u, v) else edge_between(G, v, u)
            total += float(edge["length"])
        return total

    union = length(sa | sb)
    return length(sa & sb) / union if union else 1.0


def variants(
    G: nx.MultiDiGraph,
    gdf_hotspots: gpd.GeoDataFrame,
    posts: Sequence[tuple[float, float]],
    options: RouteOptions | None = None,
    *,
    segments: gpd.GeoDataFrame | None = None,
    k: int = 7,
    tolerance: float = 0.05,
    keep_top: int = 3,
) -> tuple[list[list[Route]], pd.DataFrame]:
    """Plan `k` different route sets, each within `tolerance` of the best, for rotation.

    The best plan comes first. Further candidates are solved with hotspot prizes perturbed by
    ±30 % and different seeds; the `keep_top` highest-risk hotspots the best plan visits are
    forced into every candidate. Candidates collecting less than ``(1 - tolerance)`` of the
    best plan's risk are discarded; from the rest, plans are picked one by one to walk streets
    as different as possible from those already picked.

    Parameters
    ----------
    G, gdf_hotspots, posts, options, segments
        As for :func:`solve`; each candidate gets its own seed derived from ``options.seed``.
    k
        Number of plans wanted (e.g. 7 for a week).
    tolerance
        Largest allowed loss of collected risk (hotspots and streets) against the best plan.
    keep_top
        The top hotspots (by rank) that every variant visits when the best plan does.

    Returns
    -------
    tuple
        ``(plans, table)``: the plans in rotation order, and a table with ``variant``,
        ``risk`` (risk collected: hotspot visits and streets walked, as the solver counts it),
        ``share_of_best``, ``mean_overlap`` (with the other chosen plans) and ``max_overlap``.
    """
    opts = RouteOptions() if options is None else options
    prob = _problem(G, gdf_hotspots, posts, opts, segments)
    seed = settings.seed if opts.seed is None else opts.seed
    iterations = _iterations(opts, prob)
    inst = prob.inst
    best = _top.solve(inst, seed=seed, iterations=iterations)
    rng = np.random.default_rng(seed)
    P = 2 * len(inst.starts)
    visited = {c for seq in best.routes for c in seq}
    n_hot = sum(t.kind == "hotspot" for t in prob.tasks)
    forced = [c for c in range(P, P + min(keep_top, n_hot)) if c in visited]
    bonus = float(inst.prize.sum())
    sols = [best]
    for i in range(3 * k):
        prize = inst.prize * rng.uniform(0.7, 1.3, size=len(inst.prize))
        prize[forced] += bonus
        cand = _top.solve(
            replace(inst, prize=prize), seed=seed + 1 + i, iterations=max(1, iterations // 2)
        )
        score = float(sum(inst.prize[list(seq)].sum() for seq in cand.routes if seq))
        if score >= (1.0 - tolerance) * best.score - 1e-9:
            sols.append(replace(cand, score=score))
    plans = [_routes(G, prob, s) for s in sols]
    chosen = [0]
    pair: dict[tuple[int, int], float] = {}

    def ov(i: int, j: int) -> float:
        key = (min(i, j), max(i, j))
        if key not in pair:
            pair[key] = overlap(G, plans[i], plans[j])
        return pair[key]

    while len(chosen) < min(k, len(plans)):
        rest = [i for i in range(len(plans)) if i not in chosen]
        chosen.append(min(rest, key=lambda i: (max(ov(i, j) for j in chosen), i)))
    rows = []
    for n, i in enumerate(chosen, start=1):
        others = [ov(i, j) for j in chosen if j != i]
        rows.append(
            {
                "variant": n,
                "risk": round(sols[i].score, 3),
                "share_of_best": round(sols[i].score / best.score, 4) if best.score else 1.0,
                "mean_overlap": round(float(np.mean(others)), 4) if others else 1.0,
                "max_overlap": round(float(np.max(others)), 4) if others else 1.0,
            }
        )
    table = pd.DataFrame(rows)
    log(
        _("{n} variants within {tolerance} of the best; mean street overlap {overlap}").format(
            n=len(chosen),
            tolerance=format_percent(tolerance, decimals=0),
            overlap=format_percent(table["mean_overlap"].mean(), decimals=0),
        )
    )
    return [plans[i] for i in chosen], table


def _streets(G: nx.MultiDiGraph, path: Sequence[int]) -> tuple[str, ...]:
    names: list[str] = []
    for u, v in itertools.pairwise(path):
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
    end_node: int,
    shift: float,
    visits: list[tuple[_Task, float]],
    m_per_min: float,
) -> Route:
    nodes = [post_node]
    stops = []
    clock = 0.0
    length = 0.0
    dwell_total = 0.0
    here = post_node
    for order, (task, service) in enumerate(visits, start=1):
        path = sp.path(here, task.entry)
        leg = float(sp.distance(here, [task.entry])[0])
        nodes.extend(path[1:])
        length += leg
        clock += leg / m_per_min
        if task.kind == "street":
            # walk the street itself: its length is walking, not dwelling
            nodes.append(task.exit)
            length += task.length_m
        else:
            dwell_total += service
        stops.append(
            Stop(
                order=order,
                hotspot_id=task.task_id,
                node=int(task.entry),
                lon=float(G.nodes[task.entry]["lon"]),
                lat=float(G.nodes[task.entry]["lat"]),
                arrive_min=clock,
                leave_min=clock + service,
                risk=task.risk,
                street=task.street,
                via=_streets(G, path),
                kind=task.kind,
            )
        )
        clock += service
        here = task.exit
    back = sp.path(here, end_node)
    nodes.extend(back[1:])
    length += float(sp.distance(here, [end_node])[0])
    return Route(
        officer=officer,
        post=post,
        post_node=int(post_node),
        shift_min=shift,
        stops=tuple(stops),
        nodes=tuple(int(n) for n in nodes),
        length_m=length,
        walk_min=length / m_per_min,
        dwell_min=dwell_total,
        return_via=_streets(G, back),
        end_node=int(end_node),
    )
