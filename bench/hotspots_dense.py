"""Time and memory of micro-place hotspots on a dense downtown (issue 13).

Resamples the 2016 Baltimore crimes of a 2.2 km² downtown square, jitters them 40 m, and
finds hotspots in a fresh process per size (peak RSS from ``resource``)::

    python bench/hotspots_dense.py 100000 2000000
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def one(n: int, method: str) -> None:
    import realdata

    from patrolplan import hotspots

    gdf = realdata.dense_downtown(n)
    w = hotspots.incident_weights(gdf, at="2016-06-19", shift_start_hour=18, shift_length_h=4)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    hs, labels = hotspots.find_hotspots(gdf, w, method=method)
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{n},{method},{dt:.1f},{before:.0f},{peak:.0f},{len(hs)},{hs['size_m'].max():.0f},"
        f"{(labels >= 0).mean():.3f}",
        flush=True,
    )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        one(int(sys.argv[2]), sys.argv[3])
    else:
        print("n,method,seconds,rss_before_mb,peak_rss_mb,hotspots,max_size_m,labelled_share")
        for n in [int(v) for v in sys.argv[1:]] or [100_000, 2_000_000]:
            for method in ("dbscan", "peaks", "hdbscan"):
                subprocess.run([sys.executable, __file__, "--one", str(n), method], check=False)
