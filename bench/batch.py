"""Throughput of batch planning: a plain sequential loop vs Dask with 1 and 2 workers.

Plans 30 plans over the real extracts in ``../shared/data``: Baltimore 2016 crimes (4 post
layouts, 2016-06-19), Baltimore 2017 arrests (3 layouts, 2017-06-19) and West Oakland (3
layouts, 2013-02-20), each at 08:00, 14:00 and 20:00 for 4 h. The district files are
generated in a temporary folder, each with its own ``[plan]`` date, so one batch holds all 30
plans, as one night's run of a region would::

    python bench/batch.py                  # sequential loop, 1 worker, 2 workers
    python bench/batch.py --modes seq 2    # only these
    python bench/batch.py --repeat 2       # every mode twice, in turn
    python bench/batch.py --shifts 02:00/4h,06:00/4h,10:00/4h,14:00/4h,18:00/4h,22:00/4h  # 60

Graph caches and numba's cache are warmed first, outside the timings, so every mode reads
them. Every mode runs in a fresh Python process and writes every plan into a fresh folder:

- ``seq``: a plain loop (load the district file, plan, write) in one process; its time starts
  after the planning modules are imported (``import s`` gives that import time, which the loop
  pays once and which the batch times below include).
- ``1``, ``2``: ``batch.run(workers=N)`` with its own local cluster, the path of
  ``patrolplan batch``; its time includes starting the cluster (the workers' imports) and
  closing it. The timeline columns say where the rest of the time goes: ``cluster`` (start),
  ``first`` (first plan starts, after the batch started), ``last`` (last plan ends), ``close``,
  and ``tail`` (seconds the first worker to run out of plans waited for the last one).
  ``work`` is the plans' own time added up (the loop's time; the seconds each worker spent in
  its plans): with 2 workers it is more than the loop's when the two plans at a time slow
  each other down (or other work takes a core).

Peak memory is each process's peak RSS (``ru_maxrss``): the loop's process, and every worker
as reported in ``batch_report.json``. The load average is printed before each mode: the
timings mean little when other work shares the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
# Shifts of every district (``--shifts`` sets them; the environment passes them on to the
# fresh process of each mode).
SHIFTS = [
    (start, length)
    for start, _, length in (
        part.partition("/")
        for part in os.environ.get("PP_BENCH_SHIFTS", "08:00/4h,14:00/4h,20:00/4h").split(",")
    )
]

BALTIMORE_CRIMES = """
[district]
osm = "{shared}/baltimore/baltimore_walk.osm.bz2"
posts = {posts}

[layers.crime]
file = "{shared}/baltimore/baltimore_crimes_2016-06.csv"
preset = "baltimore"

[plan]
date = {date}
officers = {officers}
seed = 1
"""

BALTIMORE_ARRESTS = """
[district]
osm = "{shared}/baltimore/baltimore_walk.osm.bz2"
posts = {posts}

[layers.crime]
file = "{shared}/baltimore/baltimore_arrests_2017.csv"

[layers.crime.columns]
lat = "Latitude"
lon = "Longitude"
datetime = "ArrestDate"
time = "ArrestTime"
category = "ChargeDescription"
id = "Arrest"

[plan]
date = {date}
officers = {officers}
days = 180
seed = 1
"""

OAKLAND = """
[district]
osm = "{shared}/oakland/West-Oakland.osm.bz2"
posts = {posts}

[layers.crime]
file = "{shared}/oakland/oakland_crimes_2012-2013.csv"
preset = "oakland"

[plan]
date = {date}
officers = {officers}
min_weight = 1
half_life_days = 365
seed = 1
"""

# (plan date, template, post layouts as (posts, officers))
GROUPS = {
    "2016-06-19": (
        BALTIMORE_CRIMES,
        [
            ([[39.2826, -76.5932], [39.2905, -76.5790]], 3),
            ([[39.2826, -76.5932]], 2),
            ([[39.2905, -76.5790]], 2),
            ([[39.2826, -76.5932], [39.2905, -76.5790], [39.2950, -76.6000]], 3),
        ],
    ),
    "2017-06-19": (
        BALTIMORE_ARRESTS,
        [
            ([[39.2826, -76.5932], [39.2905, -76.5790]], 2),
            ([[39.2950, -76.6000]], 2),
            ([[39.2870, -76.6100]], 1),
        ],
    ),
    "2013-02-20": (
        OAKLAND,
        [([[37.8085, -122.2990]], 1), ([[37.8070, -122.3020]], 1), ([[37.8087, -122.2990]], 2)],
    ),
}


def make_districts(root: Path) -> Path:
    """Write the 10 district files (each with its own plan date) into one folder."""
    folder = root / "districts"
    folder.mkdir(parents=True)
    for date, (template, layouts) in GROUPS.items():
        for i, (posts, officers) in enumerate(layouts, 1):
            text = template.format(
                shared=SHARED.as_posix(), posts=posts, officers=officers, date=date
            )
            (folder / f"{date}_layout{i}.toml").write_text(text, encoding="utf-8")
    return folder


def n_plans() -> int:
    return sum(len(layouts) for _, layouts in GROUPS.values()) * len(SHIFTS)


def sequential(folder: Path, out: Path) -> dict[str, Any]:
    """A plain loop in this process: load, plan, write; one plan after another."""
    t_import = time.perf_counter()
    from patrolplan import plan as _plan
    from patrolplan.config import load_config
    from patrolplan.options import PlanOptions

    t0 = time.perf_counter()
    ok = failed = 0
    for path in sorted(folder.glob("*.toml")):
        d = load_config(path)
        assert d.osm is not None
        for start, length in SHIFTS:
            try:
                opts = PlanOptions.from_mapping({**d.plan, "start": start, "shift": length})
                result = _plan.daily_plan(
                    dict(d.incidents),
                    d.osm,
                    list(d.posts),
                    opts,
                    columns=d.columns or None,
                    crs=d.crs or None,
                    severity=d.severity or None,
                    layer_weights=d.layer_weights or None,
                )
                _plan.write_plan(result, out / path.stem / start.replace(":", ""))
                ok += 1
            except Exception as exc:
                print(f"  failed {path.stem} {start}: {exc}", file=sys.stderr)
                failed += 1
    return {
        "seconds": time.perf_counter() - t0,
        "work_s": time.perf_counter() - t0,
        "import_s": t0 - t_import,
        "ok": ok,
        "failed": failed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def batched(folder: Path, out: Path, workers: int) -> dict[str, Any]:
    """One ``batch.run`` on its own local cluster of `workers` processes."""
    from patrolplan import batch

    t0 = time.perf_counter()
    r = batch.run(folder, date=None, shifts=SHIFTS, out=out, workers=workers, progress=False)
    seconds = time.perf_counter() - t0
    peak: dict[str, float] = {}
    busy: dict[str, list[tuple[float, float]]] = {}
    for p in r.plans:
        if p.status == "failed":
            print(f"  failed {p.district} {p.shift}: {p.error}", file=sys.stderr)
        if p.worker:
            peak[p.worker] = max(peak.get(p.worker, 0.0), p.peak_rss_mb or 0.0)
            start = p.started - r.started
            busy.setdefault(p.worker, []).append((start, start + p.seconds))
    ends = [max(e for _, e in spans) for spans in busy.values()]
    return {
        "seconds": seconds,
        "ok": r.counts["ok"],
        "failed": r.counts["failed"],
        "peak_rss_mb": max(peak.values(), default=0.0),
        "per_worker_mb": sorted(round(v) for v in peak.values()),
        "cluster_s": r.timings.get("cluster_s", 0.0),
        "first_s": min((s for spans in busy.values() for s, _ in spans), default=0.0),
        "last_s": max(ends, default=0.0),
        "close_s": r.timings.get("close_s", 0.0),
        "tail_s": max(ends, default=0.0) - min(ends, default=0.0),
        "busy_s": sorted(round(sum(e - s for s, e in spans), 1) for spans in busy.values()),
        "work_s": sum(p.seconds for p in r.plans),
    }


def warm(folder: Path) -> None:
    """Build every graph cache and compile the route search, outside the timings."""
    from patrolplan import graph, routing
    from patrolplan.config import load_config

    routing.start_compiling()()
    extracts = {load_config(path).osm for path in folder.glob("*.toml")}
    for osm in sorted(p for p in extracts if p is not None):
        graph.graph_from_file(osm)


def one_mode(mode: str, folder: Path, out: Path) -> dict[str, Any]:
    """Run one mode in a fresh process (no module, fork server or cache in memory before)."""
    done = subprocess.run(
        [sys.executable, __file__, "--one", mode, str(folder), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    if "failed" in done.stderr:
        sys.stderr.write(done.stderr[-3000:])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modes", nargs="+", default=["seq", "1", "2"])
    ap.add_argument("--repeat", type=int, default=1, help="run the modes this many times")
    ap.add_argument(
        "--shifts",
        help="shifts of every district, START/LENGTH comma-separated [08:00/4h,14:00/4h,20:00/4h]; "
        "six shifts make 60 plans",
    )
    ap.add_argument("--one", nargs=3, metavar=("MODE", "FOLDER", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.shifts:
        os.environ["PP_BENCH_SHIFTS"] = args.shifts
        SHIFTS[:] = [(p.split("/")[0], p.split("/")[1]) for p in args.shifts.split(",")]
    if args.one:
        mode, folder, out = args.one[0], Path(args.one[1]), Path(args.one[2])
        row = sequential(folder, out) if mode == "seq" else batched(folder, out, int(mode))
        print(json.dumps(row))
        return 0

    root = Path(tempfile.mkdtemp(prefix="pp-bench-batch-"))
    folder = make_districts(root)
    print(f"{n_plans()} plans per mode; districts in {folder}", flush=True)
    t = time.perf_counter()
    warm(folder)
    print(f"warm-up (graph caches, numba): {time.perf_counter() - t:.1f} s", flush=True)
    print(
        f"{'mode':>4} {'load':>5} {'seconds':>8} {'ok':>3} {'failed':>6} {'plans/min':>9} "
        f"{'peak MB':>10} {'work':>5} {'cluster':>7} {'first':>5} {'last':>5} {'close':>5} "
        f"{'tail':>5}",
        flush=True,
    )
    runs: list[dict[str, dict[str, Any]]] = []
    for i in range(args.repeat):
        rows: dict[str, dict[str, Any]] = {}
        for mode in args.modes:
            load = os.getloadavg()[0]
            r = rows[mode] = one_mode(mode, folder, root / f"out-{i}-{mode}")
            mem = r.get("per_worker_mb") or [round(r["peak_rss_mb"])]
            line = (
                f"{mode:>4} {load:5.2f} {r['seconds']:8.1f} {r['ok']:3d} {r['failed']:6d} "
                f"{60 * r['ok'] / r['seconds']:9.1f} {'/'.join(map(str, mem)):>10} "
                f"{r['work_s']:5.1f}"
            )
            if mode == "seq":
                line += f"  (import {r['import_s']:.1f} s before the loop)"
            else:
                line += (
                    f" {r['cluster_s']:7.1f} {r['first_s']:5.1f} {r['last_s']:5.1f} "
                    f"{r['close_s']:5.1f} {r['tail_s']:5.1f}"
                )
            print(line, flush=True)
        runs.append(rows)
    for i, rows in enumerate(runs):
        if "seq" not in rows:
            continue
        seq = rows["seq"]
        for mode in ("1", "2"):
            if mode in rows:
                print(
                    f"run {i + 1}: {mode} worker(s) vs the loop: "
                    f"{seq['seconds'] / rows[mode]['seconds']:.2f}x "
                    f"({(seq['seconds'] + seq['import_s']) / rows[mode]['seconds']:.2f}x "
                    "counting the loop's import)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
