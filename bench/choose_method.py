"""Time ``backtest.choose_method`` (method="auto") on the demo and the 2017 arrests."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import realdata

from patrolplan import backtest, datasets, ingest

if __name__ == "__main__":
    area = realdata.demo_area()
    demo, _ = ingest.read_incidents(datasets.baltimore_crimes(), area=area)
    arrests = realdata.arrests()
    for name, gdf, at in (
        ("demo 2016 crimes", demo, "2016-06-19 18:00"),
        ("arrests 2017", arrests, "2017-10-01 18:00"),
        ("arrests 2017 10:00", arrests, "2017-10-01 10:00"),
    ):
        hour = float(at[-5:-3])
        for cache in (False, True):
            t = time.perf_counter()
            c = backtest.choose_method(
                gdf, at=at, shift_start_hour=hour, shift_length_h=4, use_cache=cache
            )
            print(
                f"{name} {at} cache={cache}: {time.perf_counter() - t:.1f} s -> "
                f"{c.method} {c.params}"
            )
        print(c.reason)
        print(c.table.to_string(index=False) if len(c.table) else "(no table)")
