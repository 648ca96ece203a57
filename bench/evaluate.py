"""Benchmark ``patrolplan evaluate``: replay the daily plan against fair baselines.

Samples on the Baltimore demo extract (3 officers from the two demo posts, 4-hour shifts,
method ``auto`` re-derived for every shift from its own 90-day history):

* ``oos``: the 2017 arrests (``../shared/data/baltimore/baltimore_arrests_2017.csv``, read
  with the ``baltimore_arrests`` preset), every 3rd day from 2 May 2017 to 15 February 2018
  at 18:00. None of these days was looked at while the planner was tuned (the tuning
  replays used every 9th day from 1 March and every evening of March and April 2017): an
  out-of-sample test.
* ``oos10``: the same days at 10:00 (out-of-sample too); ``oos --combine --also oos10``
  totals both in one table (the hindsight plan of each knows its own hour's test shifts).
* ``insample``: the same arrests on the tuning replay's own shifts (every 9th day from 1
  March to 20 December 2017, 10:00 and 18:00): in-sample, for comparison only.
* ``crimes``: the June 2016 crimes of the demo (``data/baltimore``), every day from 8 to 18
  June, 10:00 and 18:00, 7 days of history: the development data, so in-sample.

Prints each table with its time; with ``--append`` adds it to ``bench/RESULTS_replay.md``;
with ``--csv DIR`` writes the rows per shift. A long sample runs in parts (``--part 2/4``:
the second quarter of its days; the hindsight plan still knows every part's windows), each
writing its rows to ``--csv``; ``--combine`` then totals the parts' rows in one table.

    python bench/evaluate.py oos [--iterations 1000] [--part 1/4] --csv DIR
    python bench/evaluate.py oos --combine --csv DIR [--append]
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from patrolplan import datasets, evaluate, settings
from patrolplan.request import PlanRequest

ROOT = Path(__file__).resolve().parents[1]
ARRESTS = ROOT.parent.parent / "shared" / "data" / "baltimore" / "baltimore_arrests_2017.csv"
if not ARRESTS.is_file():
    ARRESTS = ROOT.parent / "shared" / "data" / "baltimore" / "baltimore_arrests_2017.csv"

SAMPLES: dict[str, dict[str, Any]] = {
    "oos": {
        "label": "OUT-OF-SAMPLE: Baltimore arrests, every 3rd day from 2 May 2017 to 15 "
        "February 2018, 18:00 (days never used for choosing anything)",
        "incidents": ARRESTS,
        "preset": "baltimore_arrests",
        "date_from": "2017-05-02",
        "date_to": "2018-02-15",
        "every": 3,
        "start": "18:00",
        "history_days": 90,
        "count_days": (7, 28),
    },
    "oos10": {
        "label": "OUT-OF-SAMPLE: Baltimore arrests, every 3rd day from 2 May 2017 to 15 "
        "February 2018, 10:00 (days never used for choosing anything)",
        "incidents": ARRESTS,
        "preset": "baltimore_arrests",
        "date_from": "2017-05-02",
        "date_to": "2018-02-15",
        "every": 3,
        "start": "10:00",
        "history_days": 90,
        "count_days": (7, 28),
    },
    "insample": {
        "label": "IN-SAMPLE: Baltimore arrests, every 9th day from 1 March to 20 December "
        "2017, 10:00 and 18:00 (the shifts the planner was tuned on)",
        "incidents": ARRESTS,
        "preset": "baltimore_arrests",
        "date_from": "2017-03-01",
        "date_to": "2017-12-20",
        "every": 9,
        "start": "10:00,18:00",
        "history_days": 90,
        "count_days": (7, 28),
    },
    "crimes": {
        "label": "IN-SAMPLE: Baltimore crimes of June 2016 (the demo file), every day from 8 "
        "to 18 June, 10:00 and 18:00, 7 days of history (the development data)",
        "incidents": None,
        "preset": None,
        "date_from": "2016-06-08",
        "date_to": "2016-06-18",
        "every": 1,
        "start": "10:00,18:00",
        "history_days": 7,
        "count_days": (7,),
    },
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sample", choices=sorted(SAMPLES))
    ap.add_argument("--iterations", type=int, default=settings.solver_iterations)
    ap.add_argument("--random", type=int, default=5, help="random walks per shift")
    ap.add_argument("--cache", type=Path, default=None, help="graph and method-choice cache")
    ap.add_argument("--append", action="store_true", help="append to bench/RESULTS_replay.md")
    ap.add_argument("--csv", type=Path, default=None, help="folder for the rows per shift")
    ap.add_argument("--part", default=None, help="run part i of k of the days, e.g. 2/4")
    ap.add_argument("--combine", action="store_true", help="total the parts in --csv")
    ap.add_argument("--also", nargs="*", default=[], help="with --combine: other samples' parts")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    s = SAMPLES[args.sample]
    days = evaluate.replay_days(s["date_from"], s["date_to"], every=s["every"])
    if args.combine:
        parts = sorted(args.csv.glob(f"evaluate_{args.sample}_part*.csv"))
        for other in args.also:
            parts += sorted(args.csv.glob(f"evaluate_{other}_part*.csv"))
        per = pd.concat([pd.read_csv(f, parse_dates=["shift_start", "shift_end"]) for f in parts])
        per = per.sort_values(["shift_start"], kind="stable").reset_index(drop=True)
        seconds = sum(float(f.with_suffix(".seconds").read_text()) for f in parts)
        table = evaluate.format_table(evaluate.summarize(per, n_boot=2000, seed=0))
        got = []
        for name in [args.sample, *args.also]:
            mine = [f.name for f in parts if f.name.startswith(f"evaluate_{name}_part")]
            found = [re.findall(r"_part(\d+)of(\d+)", f)[0] for f in mine]
            of = found[0][1] if found else "?"
            got.append(f"{name}: parts {', '.join(i for i, _k in found)} of {of}")
        if args.also:
            s = {
                **s,
                "label": s["label"] + "; with " + "; ".join(SAMPLES[o]["label"] for o in args.also),
            }
        return report(args, s, per, table, seconds, f" ({'; '.join(got)})")
    part = ""
    if args.part is not None:
        i, k = (int(v) for v in re.fullmatch(r"(\d+)/(\d+)", args.part).groups())  # type: ignore[union-attr]
        chunk = np.array_split(np.arange(len(days)), k)[i - 1]
        part = f"_part{i}of{k}"
        s = {**s, "date_from": days[chunk[0]], "date_to": days[chunk[-1]]}
    request = PlanRequest.build(
        None,
        incidents=s["incidents"] or datasets.baltimore_crimes(),
        preset=s["preset"],
        osm=datasets.baltimore_osm(),
        posts=list(datasets.DEMO_POSTS),
        officers=3,
        shift="4h",
        method="auto",
        seed=0,
        iterations=args.iterations,
        cache_dir=args.cache,
    )
    t = time.perf_counter()
    res = evaluate.replay_request(
        request,
        date_from=str(s["date_from"])[:10],
        date_to=str(s["date_to"])[:10],
        every=s["every"],
        start=s["start"],
        history_days=s["history_days"],
        count_days=s["count_days"],
        n_random=args.random,
        hindsight_days=days,
    )
    seconds = time.perf_counter() - t
    if args.csv is not None:
        args.csv.mkdir(parents=True, exist_ok=True)
        res.per_shift.to_csv(args.csv / f"evaluate_{args.sample}{part}.csv", index=False)
        (args.csv / f"evaluate_{args.sample}{part}.seconds").write_text(f"{seconds:.1f}")
    return report(args, s, res.per_shift, evaluate.format_table(res.table), seconds, part)


def report(
    args: argparse.Namespace,
    s: dict[str, Any],
    per: pd.DataFrame,
    table: str,
    seconds: float,
    part: str,
) -> int:
    """Print one sample's table with what the plan chose; append it with ``--append``."""
    plan = per[per["method"] == "plan"]
    methods = plan["hotspot_method"].value_counts().to_dict()
    half = plan["half_life_days"]
    n = int(per["shift_start"].nunique())
    command = f"python bench/evaluate.py {args.sample}" + (
        f" --iterations {args.iterations}" if args.iterations != settings.solver_iterations else ""
    )
    if args.combine:
        command = " ".join([command, "--combine", *(["--also", *args.also] if args.also else [])])
    text = (
        f"\n### {s['label']}\n\n`{command}`{part}: {n} shifts, {seconds:.0f} s on the shared "
        f"2-core machine; plan methods chosen per shift {methods}, half-life "
        f"{half.min():.1f}-{half.max():.1f} days, places offered per shift: plan "
        f"{plan['offered'].mean():.1f}, counts "
        f"{per.loc[per['method'].str.startswith('counts_'), 'offered'].mean():.1f}.\n\n"
        f"{table}\n"
    )
    print(text, flush=True)
    if args.append:
        with (ROOT / "bench" / "RESULTS_replay.md").open("a", encoding="utf-8") as f:
            f.write(text)
        print("appended to bench/RESULTS_replay.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
