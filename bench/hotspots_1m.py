"""Benchmark scoring 1,000,000 incidents by kernel density and by street-segment risk.

Points are resampled from the Baltimore incidents inside the street extract, jittered by
~30 m. Prints seconds for: weights, KDE grid (50 m cells, 150 m bandwidth), snapping to
street segments, segment risk with network smoothing.

    python bench/hotspots_1m.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from patrolplan import datasets, graph, hotspots, ingest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    G = graph.graph_from_file(datasets.baltimore_osm())
    base, _ = ingest.read_incidents(datasets.baltimore_crimes(), area=graph.graph_area(G))
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(base), args.rows)
    gdf = base.iloc[pick].reset_index(drop=True)
    jitter = rng.normal(0, 3e-4, size=(args.rows, 2))
    gdf = gpd.GeoDataFrame(
        gdf.drop(columns="geometry"),
        geometry=gpd.points_from_xy(
            base.geometry.x.to_numpy()[pick] + jitter[:, 0],
            base.geometry.y.to_numpy()[pick] + jitter[:, 1],
        ),
        crs="EPSG:4326",
    )
    timings = {}
    t = time.perf_counter()
    w = hotspots.incident_weights(gdf, at="2016-06-19", shift_start_hour=18, shift_length_h=4)
    timings["weights"] = time.perf_counter() - t
    t = time.perf_counter()
    kde = hotspots.kde_grid(gdf, w, cell_m=50, bandwidth_m=150)
    timings["kde_grid"] = time.perf_counter() - t
    t = time.perf_counter()
    snapped = graph.snap_to_edges(G, gdf)
    timings["snap_to_edges"] = time.perf_counter() - t
    t = time.perf_counter()
    segs = graph.segment_risk(G, snapped, w)
    timings["segment_risk"] = time.perf_counter() - t
    print(f"{args.rows:,} incidents; {len(kde):,} KDE cells; {len(segs):,} segments")
    for k, v in timings.items():
        print(f"{k:15} {v:7.2f} s")
    print(f"{'KDE total':15} {timings['weights'] + timings['kde_grid']:7.2f} s")
    seg_total = timings["weights"] + timings["snap_to_edges"] + timings["segment_risk"]
    print(f"{'segment total':15} {seg_total:7.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
