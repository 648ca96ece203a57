"""Throughput of batch planning: a plain sequential loop vs Dask with 1 and 2 workers.

Writes 30 plans over the real extracts in ``../shared/data`` (Baltimore 2016 crimes, Baltimore
2017 arrests, West Oakland), from district files generated in a temporary folder with several
post layouts, and three shifts each:

    python bench/batch.py                  # sequential, 1 worker, 2 workers
    python bench/batch.py --modes 2        # only the 2-worker run

Each mode writes every plan into a fresh folder. Graph caches and numba's cache are warmed
first, outside the timings, so every mode reads them. The batch modes start their own local
cluster (its start-up is timed) and run one ``batch.run`` per plan date on it through
``scheduler=``. Peak memory is each process's peak RSS (``ru_maxrss``): the loop's process,
and every worker as reported in ``batch_report.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SHIFTS = [("08:00", "4h"), ("14:00", "4h"), ("20:00", "4h")]

BALTIMORE_CRIMES = """
[district]
osm = "{shared}/baltimore/baltimore_walk.osm.bz2"
posts = {posts}

[layers.crime]
file = "{shared}/baltimore/baltimore_crimes_2016-06.csv"
preset = "baltimore"

[plan]
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


def make_districts(root: Path) -> dict[str, Path]:
    folders = {}
    for date, (template, layouts) in GROUPS.items():
        folder = root / f"districts-{date}"
        folder.mkdir(parents=True)
        for i, (posts, officers) in enumerate(layouts, 1):
            text = template.format(shared=SHARED.as_posix(), posts=posts, officers=officers)
            (folder / f"layout{i}.toml").write_text(text, encoding="utf-8")
        folders[date] = folder
    return folders


def n_plans() -> int:
    return sum(len(layouts) for _, layouts in GROUPS.values()) * len(SHIFTS)


def sequential(folders: dict[str, Path], out: Path) -> dict:
    """A plain loop in this process: load, plan, write; one plan after another."""
    from patrolplan import plan as _plan
    from patrolplan.config import load_config
    from patrolplan.options import PlanOptions

    t0 = time.perf_counter()
    ok = failed = 0
    for date, folder in folders.items():
        for path in sorted(folder.glob("*.toml")):
            d = load_config(path)
            for start, length in SHIFTS:
                try:
                    opts = PlanOptions.from_mapping(
                        {**d.plan, "date": date, "start": start, "shift": length}
                    )
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
                    _plan.write_plan(result, out / date / path.stem / start.replace(":", ""))
                    ok += 1
                except Exception as exc:
                    print(f"  failed {date} {path.stem} {start}: {exc}", file=sys.stderr)
                    failed += 1
    return {
        "seconds": time.perf_counter() - t0,
        "ok": ok,
        "failed": failed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def batched(folders: dict[str, Path], out: Path, workers: int) -> dict:
    from distributed import Client, LocalCluster

    from patrolplan import batch

    t0 = time.perf_counter()
    ok = failed = 0
    peak: dict[str, float] = {}
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster),
    ):
        for date, folder in folders.items():
            r = batch.run(
                folder,
                date=date,
                shifts=SHIFTS,
                out=out / date,
                scheduler=cluster.scheduler_address,
                progress=False,
            )
            ok += r.counts["ok"]
            failed += r.counts["failed"]
            for p in r.plans:
                if p.status == "failed":
                    print(f"  failed {date} {p.district} {p.shift}: {p.error}", file=sys.stderr)
                if p.worker:
                    peak[p.worker] = max(peak.get(p.worker, 0.0), p.peak_rss_mb or 0.0)
    return {
        "seconds": time.perf_counter() - t0,
        "ok": ok,
        "failed": failed,
        "peak_rss_mb": max(peak.values(), default=0.0),
        "per_worker_mb": sorted(round(v) for v in peak.values()),
    }


def warm(folders: dict[str, Path]) -> None:
    """Build every graph cache and compile the route search, outside the timings."""
    from patrolplan import graph, routing
    from patrolplan.config import load_config

    routing.start_compiling()()
    for folder in folders.values():
        for path in sorted(folder.glob("*.toml")):
            osm = load_config(path).osm
            assert osm is not None
            graph.graph_from_file(osm)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modes", nargs="+", default=["seq", "1", "2"])
    ap.add_argument("--sequential-only", nargs=2, metavar=("ROOT", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.sequential_only:
        root = Path(args.sequential_only[0])
        folders = {d: root / f"districts-{d}" for d in GROUPS}
        print(json.dumps(sequential(folders, Path(args.sequential_only[1]))))
        return 0

    root = Path(tempfile.mkdtemp(prefix="pp-bench-batch-"))
    folders = make_districts(root)
    print(f"{n_plans()} plans per mode; districts in {root}", flush=True)
    t = time.perf_counter()
    warm(folders)
    print(f"warm-up (graph caches, numba): {time.perf_counter() - t:.1f} s", flush=True)
    rows = {}
    for mode in args.modes:
        out = root / f"out-{mode}"
        if mode == "seq":
            # a fresh process, so its peak RSS is the loop's own
            done = subprocess.run(
                [sys.executable, __file__, "--sequential-only", str(root), str(out)],
                check=True,
                capture_output=True,
                text=True,
            )
            sys.stderr.write(done.stderr[-3000:] if "failed" in done.stderr else "")
            rows[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        else:
            rows[mode] = batched(folders, out, int(mode))
        r = rows[mode]
        print(
            f"{mode:>4}: {r['seconds']:.1f} s, {r['ok']} ok, {r['failed']} failed, "
            f"{60 * r['ok'] / r['seconds']:.1f} plans/min, peak RSS {r['peak_rss_mb']:.0f} MB "
            f"{r.get('per_worker_mb', '')}",
            flush=True,
        )
    if "seq" in rows:
        for mode in ("1", "2"):
            if mode in rows:
                print(
                    f"speed-up {mode} worker(s) vs sequential: "
                    f"{rows['seq']['seconds'] / rows[mode]['seconds']:.2f}x"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
