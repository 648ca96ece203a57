"""The route solver with hundreds of tasks: a whole district's hotspots and risky streets.

Builds the routing instance the planner would solve on the demo extract (Baltimore, June 2016
crimes, shift 18:00-22:00 on 2016-06-19) with many more tasks than the defaults offer:
``--hotspots`` hotspots (found with a low least weight so there are enough) and the
``--streets`` riskiest streets outside them (two tasks each, one per walking direction, of which
at most one is done). It then solves it with patrolplan's solver at each time limit and, when
they are installed, with PyVRP (prize-collecting VRP: optional clients with a prize, each
vehicle's shift duration as its limit, the two directions of a street as one optional client
group) and OR-Tools routing (prize-collecting disjunctions, guided local search) at the same
limits. Every set of routes is re-checked here against the travel-time matrix (budget, each
street at most once) and scored by the prize it collects. Last it times a whole daily plan
with the same number of tasks.

    python bench/top_many_tasks.py --officers 3 6 --times 1 10 60 --no-plan
    python bench/top_many_tasks.py --officers 3 --times 1 10 60 --no-peers

The last lines are a Markdown table (officers, seconds, each solver's score, the best in bold)
ready for bench/RESULTS.md. With ``--times 1 10 60`` and both peers, each officer count takes
about 3 x 71 s = 3.5 minutes.

Arc times are minutes in floating point; the peers need integers, so their arcs are rounded up
and the budgets down (at 1/100 minute), and their routes are re-checked in floating point.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from patrolplan import _top, datasets, graph, hotspots, ingest, routing
from patrolplan.options import PlanOptions

SCALE = 100  # peers' integer time unit: 1/100 minute
PRIZE = 100_000  # PyVRP prize per unit of risk: worth far more than any detour's travel


def demo_layers(n_hot: int) -> tuple[Any, Any, Any]:
    """Return the demo walking graph, up to `n_hot` hotspots and the street risk outside them."""
    import pandas as pd

    G = graph.graph_from_file(datasets.baltimore_osm())
    t0 = pd.Timestamp("2016-06-19 18:00")
    gdf, _ = ingest.read_layers(
        {"crime": datasets.baltimore_crimes()}, area=graph.graph_area(G), until=t0
    )
    w = hotspots.incident_weights(gdf, at=t0, shift_start_hour=18, shift_length_h=4)
    hot, labels = hotspots.find_hotspots(gdf, w, min_weight=0.5, max_hotspots=n_hot)
    snapped = graph.snap_to_edges(G, gdf)
    streets = graph.segment_risk(G, snapped, w.where(labels < 0, 0.0))
    return G, hot, streets


def build(
    layers: tuple[Any, Any, Any], officers: int, shift_min: float, n_hot: int, n_streets: int
) -> _top.Instance:
    """Return the solver instance of the demo shift with many hotspots and street tasks."""
    G, hot, streets = layers
    opts = routing.RouteOptions(
        officers=officers,
        shift_min=shift_min,
        seed=0,
        max_hotspots=n_hot,
        max_segments=n_streets,
    )
    return routing._problem(G, hot, list(datasets.DEMO_POSTS), opts, streets).inst


def check(inst: _top.Instance, routes: Sequence[Sequence[int]]) -> float:
    """Re-check routes (budget, a street or hotspot at most once); return their prize."""
    grp = np.arange(len(inst.prize)) if inst.group is None else np.asarray(inst.group)
    used = [int(grp[c]) for seq in routes for c in seq]
    assert len(used) == len(set(used)), "a task group is used twice"
    allowed = set(int(c) for c in inst.customers)
    for r, seq in enumerate(routes):
        assert all(int(c) in allowed for c in seq)
        dur = _top.route_duration(inst, r, list(seq))
        assert dur <= inst.budgets[r] + 1e-6, f"route {r}: {dur:.3f} > {inst.budgets[r]}"
    return float(sum(inst.prize[c] for seq in routes for c in seq))


def _int_data(inst: _top.Instance) -> tuple[np.ndarray, np.ndarray, list[int], int]:
    """Arcs (rounded up), services (rounded up), budgets (rounded down), prize multiplier."""
    D = np.where(np.isfinite(inst.D), inst.D, 1e6)
    arc = np.ceil(D * SCALE - 1e-9).astype(np.int64)
    svc = np.ceil(np.asarray(inst.service) * SCALE - 1e-9).astype(np.int64)
    bud = [math.floor(b * SCALE) for b in inst.budgets]
    # prizes become integers dominating any saving of travel: score first, then time
    big = int(sum(bud)) + 1
    return arc, svc, bud, big


def solve_pyvrp(inst: _top.Instance, seconds: float, seed: int = 0) -> list[list[int]]:
    """Prize-collecting VRP in PyVRP at a time limit; routes in the instance's indices."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    arc, svc, bud, _ = _int_data(inst)
    n, m = len(inst.prize), len(inst.starts)
    model = Model()
    locs = [model.add_location(x=0, y=0) for _ in range(n)]
    depot_of = {}
    for p in sorted(set(inst.starts) | set(inst.ends)):
        depot_of[p] = model.add_depot(locs[p])
    grp = np.arange(n) if inst.group is None else np.asarray(inst.group)
    members: dict[int, list[int]] = {}
    for c in inst.customers:
        members.setdefault(int(grp[c]), []).append(int(c))
    client_of: dict[int, Any] = {}
    order: list[int] = []
    for cs in members.values():
        group = model.add_client_group(required=False) if len(cs) > 1 else None
        for c in cs:
            client_of[c] = model.add_client(
                locs[c],
                service_duration=int(svc[c]),
                prize=round(inst.prize[c] * PRIZE),
                required=False,
                group=group,
            )
            order.append(c)
    for r in range(m):
        model.add_vehicle_type(
            num_available=1,
            start_depot=depot_of[inst.starts[r]],
            end_depot=depot_of[inst.ends[r]],
            shift_duration=bud[r],
            unit_distance_cost=1,
        )
    used = sorted(set(order) | set(depot_of))
    for a in used:
        for b in used:
            if a != b:
                model.add_edge(locs[a], locs[b], distance=int(arc[a, b]), duration=int(arc[a, b]))
    res = model.solve(MaxRuntime(seconds), seed=seed, display=False)
    # a route's client activities carry the client's index in the order they were added
    routes: list[list[int]] = [[] for _ in range(m)]
    if res.is_feasible():
        for route in res.best.routes():
            routes[route.vehicle_type()] = [order[a.idx] for a in route if a.is_client()]
    return routes


def solve_ortools(inst: _top.Instance, seconds: float) -> list[list[int]]:
    """Prize-collecting VRP in OR-Tools routing (GLS) at a time limit."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    arc, svc, bud, big = _int_data(inst)
    n, m = len(inst.prize), len(inst.starts)
    manager = pywrapcp.RoutingIndexManager(n, m, list(inst.starts), list(inst.ends))
    model = pywrapcp.RoutingModel(manager)

    def transit(i: int, j: int) -> int:
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return int(arc[a, b] + svc[a])

    cb = model.RegisterTransitCallback(transit)
    model.AddDimensionWithVehicleCapacity(cb, 0, bud, True, "time")
    model.SetArcCostEvaluatorOfAllVehicles(cb)
    grp = np.arange(n) if inst.group is None else np.asarray(inst.group)
    members: dict[int, list[int]] = {}
    for c in inst.customers:
        members.setdefault(int(grp[c]), []).append(int(c))
    for cs in members.values():
        penalty = round(inst.prize[cs[0]] * 1000) * big
        model.AddDisjunction([manager.NodeToIndex(c) for c in cs], penalty, 1)
    # customers no route can serve are not in `customers`; keep them out of every route
    for c in sorted(set(range(n)) - set(map(int, inst.customers)) - set(inst.starts)):
        if c not in inst.ends:
            model.AddDisjunction([manager.NodeToIndex(c)], 0)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    sol = model.SolveWithParameters(params)
    routes: list[list[int]] = []
    for v in range(m):
        seq = []
        if sol is not None:
            i = sol.Value(model.NextVar(model.Start(v)))
            while not model.IsEnd(i):
                seq.append(manager.IndexToNode(i))
                i = sol.Value(model.NextVar(i))
        routes.append(seq)
    return routes


def _version(pkg: str) -> str | None:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--officers", nargs="+", type=int, default=[3, 6])
    ap.add_argument("--shift-min", type=float, default=240.0)
    ap.add_argument("--hotspots", type=int, default=100)
    ap.add_argument("--streets", type=int, default=100, help="streets (2 tasks each)")
    ap.add_argument("--times", nargs="+", type=float, default=[1.0, 10.0])
    ap.add_argument("--no-peers", action="store_true", help="skip PyVRP and OR-Tools")
    ap.add_argument("--no-plan", action="store_true", help="skip the daily-plan timing")
    args = ap.parse_args(argv)

    peers = {}
    if not args.no_peers:
        for name, pkg, fn in (
            ("pyvrp", "pyvrp", solve_pyvrp),
            ("ortools", "ortools", solve_ortools),
        ):
            ver = _version(pkg)
            if ver is None:
                print(f"{name}: not installed, skipped")
            else:
                print(f"{name} {ver}")
                peers[name] = fn
    print(f"numba {_version('numba')}")
    t = time.perf_counter()
    layers = demo_layers(args.hotspots)
    print(f"demo layers: {len(layers[1])} hotspots ({time.perf_counter() - t:.1f} s)")
    _top.solve(build(layers, 1, args.shift_min, 5, 0), iterations=1)  # compile before timing

    table: list[tuple[int, float, dict[str, float]]] = []
    for officers in args.officers:
        t = time.perf_counter()
        inst = build(layers, officers, args.shift_min, args.hotspots, args.streets)
        n_tasks = len(inst.customers)
        total = float(inst.prize[np.asarray(inst.customers)].sum())
        print(
            f"\n{officers} officers x {args.shift_min:g} min, {n_tasks} tasks "
            f"(instance built in {time.perf_counter() - t:.1f} s)"
        )
        print(f"{'seconds':>7} {'solver':>10} {'score':>9} {'tasks':>5} {'best_s':>6}")
        for secs in args.times:
            sol = _top.solve(inst, seed=0, iterations=10**9, time_limit_s=secs)
            score = check(inst, sol.routes)
            scores = {"patrolplan": score}
            print(
                f"{secs:>7g} {'patrolplan':>10} {score:>9.2f} "
                f"{sum(map(len, sol.routes)):>5} {sol.best_seconds:>6.2f}  it={sol.iterations}",
                flush=True,
            )
            for name, fn in peers.items():
                routes = fn(inst, secs)
                score = check(inst, routes)
                scores[name] = score
                print(f"{secs:>7g} {name:>10} {score:>9.2f} {sum(map(len, routes)):>5}", flush=True)
            table.append((officers, secs, scores))
        print(f"(prize of all tasks: {total:.2f})")

    names = ["patrolplan", *peers]
    print("\n| officers | seconds | " + " | ".join(names) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in names) + " |")
    for officers, secs, scores in table:
        top = max(scores.values())
        cells = [
            f"**{scores[n]:.2f}**" if scores[n] >= top - 1e-9 else f"{scores[n]:.2f}" for n in names
        ]
        print(f"| {officers} | {secs:g} | " + " | ".join(cells) + " |")

    if not args.no_plan:
        import patrolplan as pp

        for officers in args.officers:
            opts = PlanOptions(
                officers=officers,
                shift="4h",
                start="18:00",
                date="2016-06-19",
                seed=0,
                max_hotspots=args.hotspots,
                max_segments=args.streets,
            )
            t = time.perf_counter()
            plan = pp.plan.daily_plan(
                {"crime": datasets.baltimore_crimes()},
                datasets.baltimore_osm(),
                datasets.DEMO_POSTS,
                opts,
            )
            print(
                f"\ndaily_plan, {officers} officers, up to {args.hotspots} hotspots + "
                f"{args.streets} streets: {time.perf_counter() - t:.1f} s "
                f"({sum(len(r.stops) for r in plan.routes)} stops)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
