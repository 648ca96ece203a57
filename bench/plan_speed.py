"""Seconds per stage of the daily demo plan (imports, graph, ingest, hotspots, routes, outputs).

Run on demand, twice: the first run in a fresh environment pays for numba's compilation and the
graph cache; the second shows the warm daily run.

    python bench/plan_speed.py                 # warm: uses the graph and numba caches
    python bench/plan_speed.py --cold          # empty graph cache (numba cache kept)

It also times ``patrolplan --help`` and a whole ``patrolplan demo`` as subprocesses.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0 = time.perf_counter()


def _stage(name: str, t: float, rows: list[tuple[str, float]]) -> float:
    now = time.perf_counter()
    rows.append((name, now - t))
    return now


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cold", action="store_true", help="start from an empty graph cache")
    args = ap.parse_args()
    cache = tempfile.mkdtemp(prefix="pp-bench-cache-") if args.cold else None
    if cache:
        os.environ["PATROLPLAN_CACHE"] = cache

    rows: list[tuple[str, float]] = []
    t = time.perf_counter()
    import patrolplan as pp
    from patrolplan import datasets, export, graph, hotspots, ingest, metrics, render, routing
    from patrolplan.options import PlanOptions

    for mod in (graph, hotspots, ingest, routing, render, export, metrics):
        assert mod
    if cache:
        pp.settings.cache_dir = Path(cache)
    t = _stage("imports", t, rows)

    opts = PlanOptions(officers=3, shift="4h", start="18:00", date="2016-06-19", seed=0)
    t0 = opts.shift_start()
    G = graph.graph_from_file(datasets.baltimore_osm())
    t = _stage("graph (load or build)", t, rows)
    gdf, _reports = ingest.read_layers(
        {"crime": datasets.baltimore_crimes()}, area=graph.graph_area(G), until=t0
    )
    t = _stage("ingest", t, rows)
    w = hotspots.incident_weights(gdf, at=t0, shift_start_hour=18, shift_length_h=4)
    hot, labels = hotspots.find_hotspots(gdf, w)
    t = _stage("weights + hotspots", t, rows)
    snapped = graph.snap_to_edges(G, gdf)
    graph.add_edge_risk(G, snapped, w)
    streets = graph.segment_risk(G, snapped, w.where(labels < 0, 0.0))
    t = _stage("snap + segment risk", t, rows)
    routes = routing.solve(
        G,
        hot,
        list(datasets.DEMO_POSTS),
        routing.RouteOptions(officers=3, shift_min=240, seed=0),
        segments=streets,
    )
    t = _stage("routes (incl. numba load/compile)", t, rows)
    metrics.summary(routes, hot, labels, snapped, w)
    t = _stage("metrics", t, rows)

    plan = pp.plan.daily_plan(
        {"crime": datasets.baltimore_crimes()}, datasets.baltimore_osm(), datasets.DEMO_POSTS, opts
    )
    t = _stage("daily_plan again (all in memory)", t, rows)
    with tempfile.TemporaryDirectory() as tmp:
        pp.plan.write_plan(plan, Path(tmp) / "plan")
    t = _stage("write_plan (map, sheets, exports)", t, rows)

    print(f"{'stage':38} {'seconds':>8}")
    for name, sec in rows:
        print(f"{name:38} {sec:8.2f}")
    print(f"{'total in process':38} {time.perf_counter() - T0:8.2f}")

    exe = Path(sys.executable).with_name("patrolplan")
    for label, cmd in (
        ("patrolplan --help", [str(exe), "--help"]),
        ("patrolplan demo (whole process)", None),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = cmd or [str(exe), "demo", "--out", str(Path(tmp) / "plan"), "-q"]
            s = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            print(f"{label:38} {time.perf_counter() - s:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
