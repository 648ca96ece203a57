"""Benchmark the revisit interval on the Baltimore demo shift.

Plans the demo (3 officers, 2 posts, 19 June 2016 18:00-22:00) once without revisits and once
per revisit interval, and prints for each: visits and revisits, hotspots covered, the solver's
objective (risk of every task, a revisit worth `settings.revisit_value` of the visit before),
the shortest gap between two visits of a hotspot, the share of weighted incidents covered,
and the solver's seconds. Every plan is checked: no two visits of a hotspot closer than the
interval, and every route within its shift.

    python bench/revisits.py [--iterations 3000] [--seeds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from patrolplan import datasets, metrics, plan, routing, settings
from patrolplan.options import PlanOptions

INTERVALS = [None, "45", "60", "90", "120", "60-120"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=settings.solver_iterations)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    base = plan.daily_plan(
        datasets.baltimore_crimes(),
        datasets.baltimore_osm(),
        list(datasets.DEMO_POSTS),
        PlanOptions(officers=3, shift="4h", start="18:00", date="2016-06-19", seed=0),
    )
    streets = routing_streets(base)
    print(
        f"{'revisit':>8} {'seed':>4} {'visits':>6} {'again':>5} {'hotspots':>8} "
        f"{'objective':>9} {'min_gap':>7} {'covered':>7} {'seconds':>7}"
    )
    for text in INTERVALS:
        bounds = plan.parse_revisit(text)
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            routes = routing.solve(
                base.G,
                base.gdf_hotspots,
                list(datasets.DEMO_POSTS),
                routing.RouteOptions(
                    officers=3,
                    shift_min=240,
                    seed=seed,
                    iterations=args.iterations,
                    revisit_min=bounds,
                ),
                segments=streets,
            )
            seconds = time.perf_counter() - t0
            gaps = []
            visits: dict[str, list[float]] = {}
            for r in routes:
                assert r.duration_min <= r.shift_min + 1e-6
                for s in r.stops:
                    if s.kind == "hotspot":
                        visits.setdefault(s.hotspot_id, []).append(s.arrive_min)
            for times in visits.values():
                times.sort()
                gaps += list(np.diff(times))
            if bounds and gaps:
                assert min(gaps) >= bounds[0] - 1e-6
                assert max(gaps) <= bounds[1] + 1e-6
            objective = sum(
                s.risk * settings.revisit_value ** (s.visit - 1) for r in routes for s in r.stops
            )
            total = metrics.summary(
                routes, base.gdf_hotspots, base.labels, base.snapped, base.weights
            ).iloc[-1]
            n_visits = sum(len(v) for v in visits.values())
            print(
                f"{text or '-':>8} {seed:>4} {n_visits:>6} {int(total['revisits']):>5} "
                f"{int(total['hotspots']):>8} {objective:>9.1f} "
                f"{(min(gaps) if gaps else float('nan')):>7.0f} "
                f"{total['risk_covered_share']:>7.1%} {seconds:>7.2f}"
            )
    return 0


def routing_streets(p: plan.PatrolPlan):
    """The street tasks of the plan: segment risk of incidents outside hotspots."""
    from patrolplan import graph

    return graph.segment_risk(p.G, p.snapped, p.weights.where(p.labels < 0, 0.0))


if __name__ == "__main__":
    raise SystemExit(main())
