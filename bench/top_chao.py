"""Benchmark the route solver on the Chao et al. (1996) team orienteering instances.

Reads ../shared/bench/top (format and distance convention in its README), solves each
instance with patrolplan's solver at a time limit, checks every solution independently
(distinct customers, each route start -> visits -> end within tmax in floating point) and
prints instance, score, the literature best-known score (``bks_literature.csv``; Chao's own
1996 score in ``bks.csv`` is only a floor and is printed beside it), gap %, seconds and
seconds-to-best (when the returned routes were found). With --ortools it also solves each
instance with OR-Tools routing (prize-collecting disjunctions, guided local search) at the
same limit. The summary gives the mean gap, the worst instance, the instances more than 1 %
below the best-known and the mean seconds-to-best, for all runs and per set.

    python bench/top_chao.py --sets 4 5 6 7 --time 1
    python bench/top_chao.py --sets 4 5 6 7 --time 10 --jobs 2
    python bench/top_chao.py --every 4 --also p6.2.j p6.3.g p6.4.j --time 1
    python bench/top_chao.py --only p6.2.j --iterations 3000 --time 1000 --seeds 5
    python bench/top_chao.py --sets 4 5 6 7 --time 10 --ortools --csv bench/results.csv

``--jobs 2`` solves two instances at once, one process each (each process compiles or loads
the solver before its first timed run); on a 2-core machine that halves the wall time of a
table, and each run still has one core when nothing else runs. ``--iterations N --time 1000``
gives a deterministic budget (same seed, same routes) for comparisons at equal iterations.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import itertools

from patrolplan import _top

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT.parent / "shared" / "bench" / "top"


def read_instance(path: Path) -> tuple[_top.Instance, np.ndarray]:
    """Parse a Chao TOP file into an instance and its point coordinates."""
    lines = path.read_text().split("\n")
    n = int(lines[0].split()[1])
    m = int(lines[1].split()[1])
    tmax = float(lines[2].split()[1])
    rows = np.array([[float(v) for v in line.split()] for line in lines[3 : 3 + n]])
    xy, prize = rows[:, :2], rows[:, 2]
    D = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    inst = _top.Instance(
        D=D,
        prize=prize,
        service=np.zeros(n),
        customers=np.arange(1, n - 1),
        starts=(0,) * m,
        ends=(n - 1,) * m,
        budgets=(tmax,) * m,
    )
    return inst, xy


def check(inst: _top.Instance, xy: np.ndarray, routes: Sequence[Sequence[int]]) -> float:
    """Independent feasibility check from raw coordinates; returns the score."""
    seen: set[int] = set()
    score = 0.0
    for r, seq in enumerate(routes):
        if not seq:
            continue
        pts = [inst.starts[r], *seq, inst.ends[r]]
        length = sum(math.dist(xy[a], xy[b]) for a, b in itertools.pairwise(pts))
        assert length <= inst.budgets[r] + 1e-6, f"route {r} too long: {length} > {inst.budgets[r]}"
        for c in seq:
            assert c not in seen, f"{c} repeated"
            assert c not in (inst.starts[r], inst.ends[r]), f"{c} is a start or end"
            seen.add(c)
            score += inst.prize[c]
    return score


def solve_ortools(inst: _top.Instance, seconds: float) -> list[list[int]]:
    """Prize-collecting VRP in OR-Tools: drop penalty = prize, GLS, same time limit."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    scale = 1000
    n, m = len(inst.prize), len(inst.starts)
    # Round arcs up and the budget down so integer-feasible routes are feasible in reals.
    arc = np.ceil(inst.D * scale).astype(np.int64)
    manager = pywrapcp.RoutingIndexManager(n, m, list(inst.starts), list(inst.ends))
    routing = pywrapcp.RoutingModel(manager)

    def cost(i: int, j: int) -> int:
        return int(arc[manager.IndexToNode(i), manager.IndexToNode(j)])

    cb = routing.RegisterTransitCallback(cost)
    routing.AddDimension(cb, 0, math.floor(inst.budgets[0] * scale), True, "time")
    routing.SetArcCostEvaluatorOfAllVehicles(cb)
    # Penalty dominates arc costs so the solver maximises prize first.
    big = int(arc.max() * n + 1)
    for c in inst.customers:
        routing.AddDisjunction([manager.NodeToIndex(int(c))], int(inst.prize[c] * big))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    sol = routing.SolveWithParameters(params)
    routes: list[list[int]] = []
    for v in range(m):
        seq = []
        if sol is not None:
            i = routing.Start(v)
            while not routing.IsEnd(i):
                node = manager.IndexToNode(i)
                if node != inst.starts[v]:
                    seq.append(node)
                i = sol.Value(routing.NextVar(i))
        routes.append(seq)
    return routes


def _warm() -> None:
    """Compile (or load from numba's cache) the solver before anything is timed."""
    _top._warm_up()


def run_one(
    path: Path, seed: int, iterations: int, seconds: float, ortools: bool
) -> tuple[dict[str, Any], float]:
    """Solve one instance with one seed; return its row (without the reference) and score."""
    inst, xy = read_instance(path)
    t = time.perf_counter()
    sol = _top.solve(inst, seed=seed, iterations=iterations, time_limit_s=seconds)
    secs = time.perf_counter() - t
    score = check(inst, xy, sol.routes)
    assert abs(score - sol.score) < 1e-6
    row: dict[str, Any] = {
        "instance": path.stem,
        "seed": seed,
        "n": len(inst.prize),
        "m": len(inst.starts),
        "score": score,
        "seconds": round(secs, 2),
        "best_seconds": round(sol.best_seconds, 3),
        "iterations": sol.iterations,
        "best_iteration": sol.best_iteration,
    }
    if ortools:
        row["ortools"] = check(inst, xy, solve_ortools(inst, seconds))
    return row, score


def summary(out: list[dict[str, Any]], label: str) -> str:
    """Mean gap, worst instance, instances over 1 % and mean seconds-to-best of `out`."""
    gaps = np.array([r["gap_pct"] for r in out])
    worst = out[int(np.argmax(gaps))]
    over = sorted({r["instance"] for r in out if r["gap_pct"] > 1.0 + 1e-9})
    return (
        f"{label}: {len(out)} runs, mean gap {gaps.mean():.3f} %, worst {worst['instance']} "
        f"{worst['gap_pct']:.2f} %, over 1 %: {int((gaps > 1.0 + 1e-9).sum())}"
        + (f" ({' '.join(over)})" if over else "")
        + f", at the best-known {int((gaps <= 1e-9).sum())}, above it {int((gaps < -1e-9).sum())}"
        f"; mean seconds-to-best {np.mean([r['best_seconds'] for r in out]):.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--sets", nargs="+", type=int, default=[4, 5, 6, 7])
    ap.add_argument("--time", type=float, default=1.0, help="seconds per instance")
    ap.add_argument("--iterations", type=int, default=10**9)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*", help="instance names, e.g. p4.2.k")
    ap.add_argument("--every", type=int, default=1, help="take every k-th instance")
    ap.add_argument("--also", nargs="*", default=[], help="instances added to --every's pick")
    ap.add_argument("--seeds", type=int, default=1, help="runs per instance (seeds seed..)")
    ap.add_argument("--jobs", type=int, default=1, help="instances solved at once (processes)")
    ap.add_argument("--ortools", action="store_true")
    ap.add_argument("--csv", type=Path)
    args = ap.parse_args(argv)

    chao = {}
    with (args.dir / "bks.csv").open() as fh:
        for row in csv.DictReader(fh):
            chao[row["instance"]] = float(row["bks"])
    # literature best-known scores (sets 4-7); Chao's score where the table has none
    bks = dict(chao)
    lit = args.dir / "bks_literature.csv"
    if lit.exists():
        with lit.open() as fh:
            for row in csv.DictReader(fh):
                bks[row["instance"]] = float(row["bks"])
    files = []
    for s in args.sets:
        files += sorted((args.dir / "chao" / f"set{s}").glob("*.txt"))
    if args.only:
        files = [f for f in files if f.stem in set(args.only)]
    picked = files[:: args.every]
    files = picked + [f for f in files if f.stem in set(args.also) and f not in picked]
    tasks = [(f, seed) for f in files for seed in range(args.seed, args.seed + args.seeds)]

    head = (
        f"{'instance':10} {'n':>4} {'m':>2} {'chao':>6} {'bks':>6} {'ours':>6} {'gap%':>6} "
        f"{'s':>5} {'best_s':>6}"
    )
    if args.ortools:
        head += f" {'ortools':>7} {'gap%':>6}"
    print(head)
    out: list[dict[str, Any]] = []

    def report(row: dict[str, Any], score: float) -> None:
        name = row["instance"]
        ref = bks[name]
        gap = 100.0 * (ref - score) / ref if ref > 0 else 0.0
        row.update({"chao": chao[name], "ref": ref, "gap_pct": round(gap, 3)})
        line = (
            f"{name:10} {row['n']:>4} {row['m']:>2} {chao[name]:>6.0f} {ref:>6.0f} "
            f"{score:>6.0f} {gap:>6.2f} {row['seconds']:>5.2f} {row['best_seconds']:>6.2f}"
        )
        if args.ortools:
            o_gap = 100.0 * (ref - row["ortools"]) / ref if ref > 0 else 0.0
            row["ortools_gap_pct"] = round(o_gap, 3)
            line += f" {row['ortools']:>7.0f} {o_gap:>6.2f}"
        line += f" it={row['iterations']} best_it={row['best_iteration']} seed={row['seed']}"
        print(line, flush=True)
        out.append(row)

    call = (args.iterations, args.time, args.ortools)
    if args.jobs <= 1:
        _warm()
        for f, seed in tasks:
            report(*run_one(f, seed, *call))
    else:
        with ProcessPoolExecutor(max_workers=args.jobs, initializer=_warm) as pool:
            futures = [pool.submit(run_one, f, seed, *call) for f, seed in tasks]
            for fut in futures:
                report(*fut.result())

    print(
        f"\ntime limit {args.time:g} s per run"
        + (f", at most {args.iterations} iterations" if args.iterations < 10**9 else "")
        + f", {args.jobs} at once; gaps to the literature best-known "
        f"(mean seconds {np.mean([r['seconds'] for r in out]):.2f})"
    )
    print(summary(out, "all"))
    for s in sorted({r["instance"][1] for r in out}):
        print(summary([r for r in out if r["instance"][1] == s], f"  set {s}"))
    if args.ortools:
        og = [r["ortools_gap_pct"] for r in out]
        print(
            f"OR-Tools GLS at the same limit: mean gap {np.mean(og):.2f} %, max {np.max(og):.2f} %"
        )
    if args.csv:
        with args.csv.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(out[0]))
            w.writeheader()
            w.writerows(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
