"""Benchmark posts and patrol areas on the Baltimore demo extract.

1. Exactness: on small real instances (14 candidate sites near a demo post, K = 1-4) the
   maximal covering solution equals the best of an exhaustive enumeration.
2. Posts: coverage of the demo's two posts at 5/10/15 min, then K = 2 and 3 proposed sites at
   10 min (gain, bound, gap, seconds), on June 2016 crimes (shift 18:00-22:00 on 19 June 2016)
   and on the 2017 arrests from ../shared (shift 18:00-22:00 on 1 January 2018).
3. Areas: workload max/min, km of street and area for 3-6 officers, seconds.

    python bench/posts_areas.py [--shared ../shared/data/baltimore]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from patrolplan import areas, datasets, graph, posts
from patrolplan.options import PlanOptions

ARRESTS_COLUMNS = {
    "lat": "Latitude",
    "lon": "Longitude",
    "datetime": "ArrestDate",
    "time": "ArrestTime",
    "category": "ChargeDescription",
    "id": "Arrest",
}


def exactness(data: posts.RiskInput) -> None:
    G, risk = data.G, data.risk
    net = posts._Network(G)
    cands = posts.candidate_nodes(G)
    w = risk.to_numpy()
    print("MCLP vs enumeration (14 candidates nearest each demo post, 10 min walk):")
    for p, post in enumerate(graph.snap_points(G, list(datasets.DEMO_POSTS)), start=1):
        d = net.reach([post], 2000.0)[0, net.index(cands)]
        near = cands[np.argsort(d, kind="stable")[:14]]
        cover = net.reach(risk.index.to_numpy(), 750.0, towards=True)[:, net.index(near)] <= 750
        for k in (1, 2, 3, 4):
            best = max(
                float(w[cover[:, list(c)].any(axis=1)].sum())
                for c in itertools.combinations(range(len(near)), k)
            )
            sol = posts.max_cover(cover, w, k)
            same = abs(sol.objective - best) < 1e-9
            print(
                f"  post {p} K={k}: MCLP {sol.objective:.3f} enumeration {best:.3f} "
                f"{'equal' if same else 'DIFFERENT'} ({sol.status}, gap {sol.gap:.1%})"
            )


def posts_bench(name: str, data: posts.RiskInput) -> None:
    G, risk = data.G, data.risk
    n = len(data.gdf_incidents)
    print(f"\n== {name}: {n:,} incidents, risk {risk.sum():.1f} on {len(risk)} nodes")
    t = time.perf_counter()
    cov = posts.evaluate_posts(G, risk, list(datasets.DEMO_POSTS))
    print(f"evaluate_posts {time.perf_counter() - t:.2f} s")
    for _, row in cov.summary.iterrows():
        print(
            f"  {row['walk_min']:>4.0f} min: covered {row['covered_share']:.1%}, overlap "
            f"{row['overlap_share']:.1%}, unreached {row['unreached_share']:.1%}"
        )
    for _, row in cov.posts.iterrows():
        print(
            f"  post {row['post']}: "
            + ", ".join(f"{row[f'share_{m:g}min']:.1%} at {m:g} min" for m in cov.walk_min)
        )
    for k in (2, 3):
        prop = posts.propose_posts(G, risk, k=k, existing=list(datasets.DEMO_POSTS))
        sol = prop.solution
        print(
            f"  K={k}: 10-min coverage {prop.before_share:.1%} -> {prop.after_share:.1%} "
            f"(+{sol.objective:.1f} risk; gains {', '.join(f'{g:.1f}' for g in sol.gains)}); "
            f"bound {sol.bound:.1f}, gap {sol.gap:.2%}, {sol.status}; {prop.n_candidates} "
            f"candidates -> {sol.n_sites} sites x {sol.n_demand} demand groups; "
            f"{prop.seconds:.1f} s"
        )


def areas_bench(data: posts.RiskInput) -> None:
    print("\nareas (200 m cells):")
    for n in (3, 4, 5, 6):
        parts = areas.partition(data.G, data.risk, officers=n, seed=0)
        a = parts.areas
        print(
            f"  {n} areas: workload max/min {parts.balance:.3f}; street km "
            f"{a['street_km'].min():.0f}-{a['street_km'].max():.0f}; km2 "
            f"{a['area_km2'].min():.1f}-{a['area_km2'].max():.1f}; risk share "
            f"{a['risk_share'].min():.0%}-{a['risk_share'].max():.0%}; {parts.seconds:.1f} s"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--shared", default=str(Path(__file__).resolve().parents[2] / "shared/data/baltimore")
    )
    args = ap.parse_args()
    t = time.perf_counter()
    crimes = posts.load_risk(
        datasets.baltimore_crimes(),
        datasets.baltimore_osm(),
        PlanOptions(start="18:00", shift="4h", date=datasets.DEMO_DATE),
    )
    print(f"load (graph cached) {time.perf_counter() - t:.1f} s")
    exactness(crimes)
    posts_bench("June 2016 crimes", crimes)
    areas_bench(crimes)
    arrests_file = Path(args.shared) / "baltimore_arrests_2017.csv"
    if arrests_file.is_file():
        arrests = posts.load_risk(
            arrests_file,
            datasets.baltimore_osm(),
            PlanOptions(start="18:00", shift="4h", date="2018-01-01", half_life_days=365),
            columns=ARRESTS_COLUMNS,
        )
        posts_bench("2017 arrests", arrests)
        areas_bench(arrests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
