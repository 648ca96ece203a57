"""Benchmark ingest on 1,000,000 synthetic incident rows, as CSV and as Parquet.

Rows are resampled from the real Baltimore incidents (coordinates jittered by ~30 m, dates
spread over a year), with 1 % of rows broken on purpose (no coordinates, bad dates) so the
validation pass does real work. Each format is read in a fresh subprocess to measure its peak
memory (max RSS).

    python bench/ingest_1m.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make(rows: int, folder: Path) -> tuple[Path, Path]:
    from patrolplan import datasets

    base = pd.read_csv(datasets.baltimore_crimes()).dropna(subset=["latitude"])
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(base), rows)
    df = base.iloc[pick].reset_index(drop=True)
    df["incident_id"] = np.arange(rows)
    df["latitude"] = (df["latitude"] + rng.normal(0, 3e-4, rows)).round(6).astype(str)
    df["longitude"] = (df["longitude"] + rng.normal(0, 3e-4, rows)).round(6).astype(str)
    when = pd.Timestamp("2015-06-01") + pd.to_timedelta(
        rng.integers(0, 365 * 24 * 60, rows), unit="min"
    )
    df["datetime"] = when.strftime("%Y-%m-%dT%H:%M:%S")
    broken = rng.choice(rows, rows // 100, replace=False)
    df.loc[broken[: len(broken) // 2], "latitude"] = ""
    df.loc[broken[len(broken) // 2 :], "datetime"] = "not a date"
    csv_path, pq_path = folder / "incidents.csv", folder / "incidents.parquet"
    df.to_csv(csv_path, index=False)
    df.to_parquet(pq_path, index=False)
    return csv_path, pq_path


def child(path: str) -> None:
    from patrolplan import ingest

    t = time.perf_counter()
    gdf, report = ingest.read_incidents(path)
    secs = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "file": Path(path).name,
                "rows": report.rows_read,
                "kept": len(gdf),
                "rejected": report.reasons(),
                "seconds": round(secs, 2),
                "peak_rss_mb": round(peak_mb),
            }
        )
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        files = make(args.rows, Path(tmp))
        print(
            f"made {args.rows:,} rows in {time.perf_counter() - t:.1f} s; sizes "
            + ", ".join(f"{f.suffix} {f.stat().st_size / 1e6:.0f} MB" for f in files)
        )
        for f in files:
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(f)],
                capture_output=True,
                text=True,
                check=True,
            )
            print(out.stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
