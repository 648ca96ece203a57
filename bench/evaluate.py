"""Benchmark ``patrolplan evaluate``: replay the daily plan against its baselines.

Two replays on the Baltimore demo extract (3 officers from the two demo posts, 4-hour shifts
at 10:00 and 18:00):

* the 2017 arrests (``../shared/data/baltimore/baltimore_arrests_2017.csv``): every 9th day
  from 1 March to 20 December 2017 (66 shifts), 90 days of history, last-period counts over
  7 and 28 days;
* the June 2016 crimes of the demo (``data/baltimore``): every day from 8 to 18 June (22
  shifts) with only 7 days of history (the file holds 18 days).

Then a timing run of 60 test days (one 18:00 shift each, 1 March to 29 April 2017) on the
arrests. Prints the tables; with ``--append`` adds them to ``bench/RESULTS.md``.

    python bench/evaluate.py [--iterations 3000] [--append]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from patrolplan import datasets, evaluate, settings

ROOT = Path(__file__).resolve().parents[1]
ARRESTS = ROOT.parent / "shared" / "data" / "baltimore" / "baltimore_arrests_2017.csv"


def arrests_csv(src: Path, dst: Path) -> Path:
    """Write the arrests with one ISO ``datetime`` column (US date + ``HH:MM`` time)."""
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    when = pd.to_datetime(
        df["ArrestDate"] + " " + df["ArrestTime"], format="%m/%d/%Y %H:%M", errors="coerce"
    )
    out = pd.DataFrame(
        {
            "id": df["Arrest"],
            "datetime": when.dt.strftime("%Y-%m-%dT%H:%M:00").fillna(""),
            "category": df["IncidentOffense"].str.strip(),
            "latitude": df["Latitude"],
            "longitude": df["Longitude"],
        }
    )
    out.to_csv(dst, index=False)
    return dst


def replay(label: str, incidents: Path, **kwargs: Any) -> tuple[str, float, int]:
    """Run one replay; return its Markdown table, seconds and number of shifts."""
    t = time.perf_counter()
    res = evaluate.run(incidents, datasets.baltimore_osm(), list(datasets.DEMO_POSTS), **kwargs)
    seconds = time.perf_counter() - t
    table = evaluate.format_table(res.table)
    shifts = int(res.per_shift["shift_start"].nunique())
    print(f"\n{label}: {shifts} shifts, {seconds:.0f} s\n{table}", flush=True)
    return table, seconds, shifts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=settings.solver_iterations)
    ap.add_argument("--append", action="store_true", help="append to bench/RESULTS.md")
    ap.add_argument("--no-timing", action="store_true", help="skip the 60-day timing run")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    common = {
        "shift": "4h",
        "officers": 3,
        "n_random": 5,
        "seed": 0,
        "iterations": args.iterations,
    }
    with tempfile.TemporaryDirectory() as tmp:
        arrests = arrests_csv(ARRESTS, Path(tmp) / "arrests_2017.csv")
        a_table, a_s, a_n = replay(
            "Arrests 2017",
            arrests,
            date_from="2017-03-01",
            date_to="2017-12-20",
            every=9,
            start="10:00,18:00",
            history_days=90,
            count_days=(7, 28),
            **common,
        )
        c_table, c_s, c_n = replay(
            "Crimes June 2016",
            datasets.baltimore_crimes(),
            date_from="2016-06-08",
            date_to="2016-06-18",
            every=1,
            start="10:00,18:00",
            history_days=7,
            count_days=(7,),
            **common,
        )
        timing = ""
        if not args.no_timing:
            _, t_s, t_n = replay(
                "Timing, 60 days",
                arrests,
                date_from="2017-03-01",
                date_to="2017-04-29",
                every=1,
                start="18:00",
                history_days=90,
                count_days=(28,),
                **common,
            )
            timing = (
                f"Timing: {t_n} test days (one 18:00 shift each, 1 March to 29 April 2017, "
                f"90 days of history, plan + counts_28d + oracle + 5 random walks per shift, "
                f"{args.iterations} solver iterations): **{t_s:.0f} s** on the 2-core machine "
                f"(target < 300 s). The arrests replay above took {a_s:.0f} s for {a_n} "
                f"shifts, the crimes replay {c_s:.0f} s for {c_n} shifts.\n"
            )
    command = "python bench/evaluate.py" + (
        f" --iterations {args.iterations}" if args.iterations != settings.solver_iterations else ""
    )
    text = f"""
## Plan replay (evaluate)

`{command} --append` (library: `patrolplan.evaluate.run`; 3 officers from the two demo posts,
4-hour shifts, today's planner: DBSCAN hotspots, 30-day half-life, 10 street tasks, seed 0).
An incident is captured when it lies in a hotspot polygon a route dwells at or within 50 m of
a street a route walks. `random`: random walks of the plan's walking and dwelling time from
the same posts (5 per shift, averaged; a random dwell covers a disc as large as the plan's mean
visited hotspot). `counts_Nd`: the 100 m cells with at least 2 incidents in the last N days as
hotspots, busiest streets outside them as street tasks, same solver. `oracle`: routed knowing
the shift's incidents (the ceiling of the capture rule). Per officer-hour counts the shift's
officer-hours (3 x 4 h), the same for every method; `x last-period counts` is against the count
baseline that captured most. Brackets: 95 % bootstrap intervals over shifts (2,000 resamples,
paired between methods).

Baltimore arrests 2017 inside the extract, every 9th day from 1 March to 20 December, 10:00
and 18:00 ({a_n} shifts), 90 days of history:

{a_table}

Baltimore crimes of June 2016 (the demo file), every day from 8 to 18 June, 10:00 and 18:00
({c_n} shifts), only 7 days of history (the file holds 18 days: a short history):

{c_table}

{timing}
Arrests partly follow past patrols: police arrest where they already are, so a plan built
on past arrests is partly a forecast of past patrols, and a capture rate on arrests overstates
what the plan would do for crime.
"""
    if args.append:
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as f:
            f.write(text)
        print("appended to bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
