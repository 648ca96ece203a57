"""Backtest every area method on the 2017 arrests (demo extract) and on Toronto downtown.

Rolling windows, 18:00-22:00 shift hours for the arrests, the whole day for Toronto::

    python bench/backtest_methods.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import realdata

from patrolplan import backtest, hotspots

TORONTO_BOX = (-79.42, 43.63, -79.35, 43.68)  # downtown, about 5.6 x 5.6 km

if __name__ == "__main__":
    arrests = realdata.arrests()
    p = hotspots.auto_params(arrests, at="2018-01-01")
    t = time.perf_counter()
    res = backtest.run(
        arrests,
        train_days=180,
        test_days=14,
        cell_m=100,
        half_life_days=p.half_life_days,
        shift_start_hour=18,
        shift_length_h=4,
    )
    print(f"arrests: {res['window'].max()} windows, {time.perf_counter() - t:.0f} s")
    print(backtest.summary(res).to_string(index=False))
    tor = realdata.toronto("datetime", TORONTO_BOX)
    tor = tor[tor["datetime"] >= "2018-01-01"]
    p = hotspots.auto_params(tor, at="2022-01-01")
    t = time.perf_counter()
    res = backtest.run(
        tor,
        train_days=365,
        test_days=28,
        step_days=91,
        cell_m=100,
        half_life_days=p.half_life_days,
    )
    print(f"toronto: {res['window'].max()} windows, {time.perf_counter() - t:.0f} s")
    print(backtest.summary(res).to_string(index=False))
