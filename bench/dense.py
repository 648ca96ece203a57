"""Dense districts: a whole daily plan on N incidents packed into a small street extract.

Real districts with years of data are dense: the demo's incidents are resampled with a 40 m
jitter inside a box of about 1.5 x 1.5 km of the Baltimore extract (the densest part of the
demo), dated over the year before the plan, and planned for 3 officers. Each size runs in a
fresh process; the script prints seconds and peak memory (max RSS) per size.

    python bench/dense.py --rows 100000 300000 2000000

Targets (issue 12): 100,000 incidents < 30 s and < 2 GB; 2,000,000 < 2 minutes and < 4 GB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BOX = (-76.6000, 39.2800, -76.5830, 39.2930)  # lon/lat: Fells Point to Little Italy


def make(rows: int, path: Path, seed: int = 0) -> None:
    import numpy as np
    import pandas as pd

    from patrolplan import datasets

    src = pd.read_csv(datasets.baltimore_crimes())
    src = src.dropna(subset=["latitude", "longitude"])
    inside = src[src["longitude"].between(BOX[0], BOX[2]) & src["latitude"].between(BOX[1], BOX[3])]
    rng = np.random.default_rng(seed)
    pick = inside.iloc[rng.integers(0, len(inside), rows)].reset_index(drop=True)
    jitter_deg = 40 / 111_000
    pick["latitude"] = pick["latitude"] + rng.normal(0, jitter_deg, rows)
    pick["longitude"] = pick["longitude"] + rng.normal(0, jitter_deg / 0.77, rows)
    day = pd.Timestamp("2016-06-19") - pd.to_timedelta(rng.uniform(0, 365, rows), unit="D")
    pick["datetime"] = day.floor("min").strftime("%Y-%m-%dT%H:%M")
    pick["incident_id"] = np.arange(rows)
    pick.to_csv(path, index=False)


def one(rows: int) -> None:
    from patrolplan import datasets, plan
    from patrolplan.options import PlanOptions

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "dense.csv"
        make(rows, csv)
        t = time.perf_counter()
        result = plan.daily_plan(
            csv,
            datasets.baltimore_osm(),
            [(39.2860, -76.5915)],
            PlanOptions(officers=3, shift="4h", start="18:00", date="2016-06-19"),
        )
        t_plan = time.perf_counter() - t
        plan.write_plan(result, Path(tmp) / "plan")
        t_all = time.perf_counter() - t
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    kept = result.reports[0].rows_kept
    print(
        f"{rows:>10,} rows {kept:>10,} kept  plan {t_plan:7.1f} s  with outputs {t_all:7.1f} s"
        f"  peak {peak_gb:5.2f} GB  hotspots {len(result.gdf_hotspots)}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000])
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(args.one)
        return 0
    for rows in args.rows:
        subprocess.run([sys.executable, __file__, "--one", str(rows)], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
