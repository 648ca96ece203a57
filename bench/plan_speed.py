"""Seconds of the daily demo plan: ``--help``, a whole cached ``demo``, and the plan's stages.

Run on demand. Three parts, each printed as a table:

1. ``python -m patrolplan --help`` and ``python -m patrolplan demo`` as subprocesses: one warm-up
   run (fills the graph and numba caches), then the median of ``--runs`` runs, wall-clock and
   CPU seconds (user + system of the child). On a busy machine the CPU seconds are the steadier
   number; the targets are wall-clock on an idle machine.
2. The stages of one plan in this process (imports, graph, ingest, hotspots, routes, metrics,
   each output file), from the same request as ``demo``.
3. With ``--compare OTHER_TREE`` (another checkout of the repository, such as the commit before
   a change), part 1 runs for both trees, alternating run by run so both see the same load, and
   prints the ratio of the medians.

    python bench/plan_speed.py                      # warm caches
    python bench/plan_speed.py --cold               # empty graph cache (numba cache kept)
    python bench/plan_speed.py --compare /tmp/before --runs 7
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

T0 = time.perf_counter()
HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))


def _stage(
    name: str, t: tuple[float, float], rows: list[tuple[str, float, float]]
) -> tuple[float, float]:
    now = time.perf_counter(), time.process_time()
    rows.append((name, now[0] - t[0], now[1] - t[1]))
    return now


def _run(tree: Path, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``python -m patrolplan ARGS`` from `tree`: wall and CPU seconds of the child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "patrolplan", *args],
        check=True,
        capture_output=True,
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
    )
    wall = time.perf_counter() - s
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def processes(trees: list[Path], runs: int, env: dict[str, str]) -> None:
    """Print median wall and CPU seconds of ``--help`` and ``demo`` for each tree."""
    commands: dict[str, Callable[[str], list[str]]] = {
        "--help": lambda _out: ["--help"],
        "demo (cached)": lambda out: ["demo", "--out", out, "-q"],
    }
    times: dict[tuple[str, Path], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for tree in trees:  # warm-up: graph cache, numba cache, .pyc files
            for name, cmd in commands.items():
                _run(tree, cmd(str(Path(tmp) / "warm")), env)
                times[name, tree] = []
        for i in range(runs):
            for name, cmd in commands.items():
                for tree in trees:
                    out = str(Path(tmp) / f"out{i}")
                    times[name, tree].append(_run(tree, cmd(out), env))
    print(f"\n{'command':16} {'tree':40} {'wall med':>9} {'cpu med':>8} {'wall min':>9}")
    for name in commands:
        for tree in trees:
            t = times[name, tree]
            wall = statistics.median(w for w, _ in t)
            cpu = statistics.median(c for _, c in t)
            print(
                f"{name:16} {str(tree)[-40:]:40} {wall:9.2f} {cpu:8.2f} {min(w for w, _ in t):9.2f}"
            )
        if len(trees) == 2:
            a, b = (times[name, tree] for tree in trees)
            ratio_w = statistics.median(w for w, _ in a) / statistics.median(w for w, _ in b)
            ratio_c = statistics.median(c for _, c in a) / statistics.median(c for _, c in b)
            print(f"{name:16} {'ratio first / second':40} {ratio_w:9.2f} {ratio_c:8.2f}")


def stages() -> None:
    """Print the seconds of each stage of one demo plan, in this process."""
    rows: list[tuple[str, float, float]] = []
    t = time.perf_counter(), time.process_time()
    from patrolplan import datasets, graph, metrics, pipeline, plan, routing
    from patrolplan.request import PlanRequest

    t = _stage("imports (plan path)", t, rows)
    request = PlanRequest.build(
        None,
        incidents=datasets.baltimore_crimes(),
        osm=datasets.baltimore_osm(),
        posts=list(datasets.DEMO_POSTS),
        officers=datasets.DEMO_OFFICERS,
        shift=f"{datasets.DEMO_SHIFT_HOURS:g}h",
        start=datasets.DEMO_SHIFT_START,
        date=datasets.DEMO_DATE,
        seed=0,
    )
    opts = request.options
    t = _stage("request", t, rows)
    data = pipeline.load(request)
    G, gdf, t0 = data.G, data.gdf_incidents, data.t0
    assert G is not None
    t = _stage("load (graph cache + ingest)", t, rows)
    step = pipeline.hotspot_step(gdf, opts, at=t0, cache_dir=request.cache_dir)
    t = _stage("weights + hotspots (as the plan)", t, rows)
    snapped = graph.snap_to_edges(G, gdf)
    graph.add_edge_risk(G, snapped, step.weights)
    streets = graph.segment_risk(G, snapped, step.weights.where(step.labels < 0, 0.0))
    t = _stage("snap + edge and segment risk", t, rows)
    route_opts = pipeline.route_options(opts, max_hotspots=step.max_hotspots)
    hot = step.gdf_hotspots
    if not hot.empty:
        hot["node"] = graph.nearest_nodes(G, hot["lon"], hot["lat"])[0]
    routes = routing.solve(G, hot, list(request.posts), route_opts, segments=streets)
    t = _stage("routes (numba cache load + search)", t, rows)
    metrics.summary(routes, hot, step.labels, snapped, step.weights)
    t = _stage("metrics", t, rows)

    p = plan.make_plan(request)
    t = _stage("make_plan again (all in memory)", t, rows)
    files = plan.PlanFiles(p, len(p.routes), bool(p.variants), lang=opts.lang)
    _ = files.edges, files.streets, files.title
    t = _stage("edges, street names, title", t, rows)
    with tempfile.TemporaryDirectory() as tmp:
        for output in plan.PLAN_OUTPUTS:
            if output.when(files):
                output.write(files, Path(tmp))
                names = output.file_names(files)
                more = ", ..." if len(names) > 1 else ""
                t = _stage(f"  write {names[0]}{more}", t, rows)
    print(f"{'stage':38} {'wall s':>8} {'cpu s':>8}")
    for name, wall, cpu in rows:
        print(f"{name:38} {wall:8.2f} {cpu:8.2f}")
    total = time.perf_counter() - T0, time.process_time()
    print(f"{'total in process':38} {total[0]:8.2f} {total[1]:8.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--cold", action="store_true", help="start from an empty graph cache")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per command (median); 0: none")
    ap.add_argument("--compare", type=Path, help="another source tree, timed alternately")
    ap.add_argument("--no-stages", action="store_true", help="only the subprocess timings")
    args = ap.parse_args()
    env = dict(os.environ)
    if args.cold:
        env["PATROLPLAN_CACHE"] = tempfile.mkdtemp(prefix="pp-bench-cache-")
        os.environ["PATROLPLAN_CACHE"] = env["PATROLPLAN_CACHE"]
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    if not args.no_stages:
        stages()
    trees = [HERE] if args.compare is None else [HERE, args.compare.resolve()]
    if args.runs > 0:
        processes(trees, args.runs, env)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
