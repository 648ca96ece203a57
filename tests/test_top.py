"""The team orienteering solver on Chao et al. (1996) benchmark instances."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from patrolplan import _top

from .conftest import DATA


def read(name):
    lines = (DATA / "top" / f"{name}.txt").read_text().split("\n")
    n, m, tmax = int(lines[0].split()[1]), int(lines[1].split()[1]), float(lines[2].split()[1])
    rows = np.array([[float(v) for v in line.split()] for line in lines[3 : 3 + n]])
    xy = rows[:, :2]
    D = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    inst = _top.Instance(
        D=D,
        prize=rows[:, 2],
        service=np.zeros(n),
        customers=np.arange(1, n - 1),
        starts=(0,) * m,
        ends=(n - 1,) * m,
        budgets=(tmax,) * m,
    )
    return inst, xy


def check(inst, xy, routes):
    """Feasibility from raw coordinates, independent of the solver's own bookkeeping."""
    seen = [c for seq in routes for c in seq]
    assert len(seen) == len(set(seen))
    score = 0.0
    for r, seq in enumerate(routes):
        pts = [inst.starts[r], *seq, inst.ends[r]]
        if seq:
            length = sum(math.dist(xy[a], xy[b]) for a, b in itertools.pairwise(pts))
            assert length <= inst.budgets[r] + 1e-6
        score += sum(inst.prize[c] for c in seq)
    return score


@pytest.mark.parametrize(("name", "ref", "tol"), [("p1.2.d", 30, 0.0), ("p7.3.h", 425, 0.01)])
def test_reaches_the_reference_score(name, ref, tol):
    inst, xy = read(name)
    sol = _top.solve(inst, seed=0, iterations=3000)
    score = check(inst, xy, sol.routes)
    assert score == pytest.approx(sol.score)
    assert score >= (1 - tol) * ref


def test_long_routes_mean_gap_within_three_percent():
    # p4.2.k has two routes of about 35 customers, where single runs vary most
    inst, xy = read("p4.2.k")
    scores = [check(inst, xy, _top.solve(inst, seed=s, iterations=3000).routes) for s in range(3)]
    assert sum(scores) / len(scores) >= 0.97 * 1022


def test_finds_the_proven_optimum_of_p5_3_e():
    # Enumerating every feasible route over the 12 reachable customers proves 95 optimal
    # under real-valued Euclidean distances; the Chao reference (110) is not reachable.
    inst, xy = read("p5.3.e")
    sol = _top.solve(inst, seed=0, iterations=500)
    assert check(inst, xy, sol.routes) == 95


@pytest.mark.parametrize(("name", "optimum"), [("p6.3.g", 282), ("p6.4.j", 366)])
def test_finds_the_proven_optimum_on_the_set_6_diamond(name, optimum):
    # Exhaustive enumeration proves these optima under real-valued distances. Reaching them
    # takes a straight route giving its spare time to a prize of the next column, so that
    # column's route can bend out to the far diamond points: a whole-route rebuild that keeps
    # its old customers out. Without that move the search stays at 264 / 348 for 500,000
    # iterations; with it seeds 0-4 all reach the optimum within 50.
    inst, xy = read(name)
    sol = _top.solve(inst, seed=0, iterations=300)
    assert check(inst, xy, sol.routes) == optimum
    assert 0 < sol.best_iteration <= 300


def test_p6_2_j_trades_five_visits_for_four_in_a_new_order():
    # Best-known 948 (two mirror-image routes of 474). Before, the search stopped at 942 (one
    # route at 468) on every seed, even at 10 s: 474 leaves out 5 of the 468 route's customers,
    # takes 4 others and visits them in another order, which no single move did. Forcing a few
    # unvisited neighbours into one route over budget, reshaping it with or-opt that may also
    # reverse a segment, and dropping the worst value per minute makes that one step.
    inst, xy = read("p6.2.j")
    scores = [check(inst, xy, _top.solve(inst, seed=s, iterations=3000).routes) for s in range(6)]
    assert max(scores) == 948
    assert sum(sc == 948 for sc in scores) >= 2


def test_search_beats_the_greedy_construction():
    inst, xy = read("p4.2.k")
    greedy = _top.solve(inst, seed=0, iterations=0)
    searched = _top.solve(inst, seed=0, iterations=300)
    assert searched.score > greedy.score
    assert check(inst, xy, greedy.routes) == pytest.approx(greedy.score)


def test_same_seed_same_routes_other_seed_explores():
    # p7.3.h, used before, is now solved to the same routes (425) by both seeds
    inst, _ = read("p4.3.p")
    a = _top.solve(inst, seed=3, iterations=150)
    b = _top.solve(inst, seed=3, iterations=150)
    assert a.routes == b.routes
    c = _top.solve(inst, seed=4, iterations=150)
    assert c.routes != a.routes


def test_instance_where_no_path_is_feasible_scores_zero():
    inst, _ = read("p6.2.a")  # even start -> end is longer than tmax
    sol = _top.solve(inst, iterations=20)
    assert sol.score == 0
    assert all(seq == () for seq in sol.routes)


def test_service_times_count_against_the_budget():
    # square of 4 customers around a depot; each visit costs 1 of travel and service
    xy = np.array([[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]], dtype=float)
    D = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    prize = np.array([0, 5, 4, 3, 2], dtype=float)
    inst = _top.Instance(
        D=D,
        prize=prize,
        service=np.array([0, 3, 3, 3, 3.0]),
        customers=np.arange(1, 5),
        starts=(0,),
        ends=(0,),
        budgets=(9.5,),
    )
    sol = _top.solve(inst, iterations=50)
    # 2 + 3 = 5 for one customer, 1 + 1.414 + 1 + 6 = 9.41 for two adjacent ones
    assert sol.score == 9
    assert sol.durations[0] <= 9.5


# --- revisits: visits to one place must start lag[0]..lag[1] apart, across routes too ----------


def _revisit_instance(rng, n_places, m, budget, lag):
    """Random places, each visitable twice (second visit worth half), depot at the centre."""
    xy = np.vstack([[0.0, 0.0], rng.uniform(-10, 10, size=(n_places, 2))])
    idx = np.concatenate([[0], np.arange(1, n_places + 1), np.arange(1, n_places + 1)])
    D = np.sqrt(((xy[idx][:, None] - xy[idx][None]) ** 2).sum(-1))
    first = rng.integers(1, 10, size=n_places).astype(float)
    prize = np.concatenate([[0.0], first, first / 2])
    service = np.concatenate([[0.0], np.full(2 * n_places, 4.0)])
    place = np.concatenate([[-1], np.arange(n_places), np.arange(n_places)])
    return _top.Instance(
        D=D,
        prize=prize,
        service=service,
        customers=np.arange(1, 2 * n_places + 1),
        starts=(0,) * m,
        ends=(0,) * m,
        budgets=(budget,) * m,
        place=place,
        lag=lag,
    )


def _brute_force(inst):
    """Best score over every assignment of points to routes and every visiting order."""
    from itertools import permutations, product

    cust = list(inst.customers)
    m = len(inst.starts)
    best = 0.0

    def feasible_orders(points, r):
        for perm in permutations(points):
            if _top.route_duration(inst, r, perm) <= inst.budgets[r] + 1e-9:
                yield perm

    for assign in product(range(m + 1), repeat=len(cust)):
        groups = [[c for c, a in zip(cust, assign, strict=True) if a == r] for r in range(m)]
        value = sum(inst.prize[c] for g in groups for c in g)
        if value <= best:
            continue
        options = [list(feasible_orders(g, r)) for r, g in enumerate(groups)]
        for combo in product(*options):
            if not _top.lag_violations(inst, list(combo)):
                best = value
                break
    return best


@pytest.mark.parametrize(
    ("seed", "m", "lag"),
    [
        (1, 1, (30.0, float("inf"))),
        (2, 1, (25.0, 45.0)),
        (3, 2, (30.0, float("inf"))),
        (4, 2, (20.0, 35.0)),
    ],
)
def test_revisits_reach_the_enumerated_optimum(seed, m, lag):
    rng = np.random.default_rng(seed)
    inst = _revisit_instance(rng, 3, m, 70.0, lag)
    sol = _top.solve(inst, seed=0, iterations=300)
    assert not _top.lag_violations(inst, sol.routes)
    for r, seq in enumerate(sol.routes):
        assert _top.route_duration(inst, r, seq) <= inst.budgets[r] + 1e-9
    assert sol.score == pytest.approx(_brute_force(inst))


def test_revisit_interval_holds_on_a_benchmark_instance():
    # p7.3.h with a second, half-prize visit to every customer, at least 30 % of tmax apart
    base, _ = read("p7.3.h")
    n = len(base.prize)
    cust = np.asarray(base.customers)
    idx = np.concatenate([np.arange(n), cust])
    place = np.full(len(idx), -1)
    place[cust] = place[n:] = np.arange(len(cust))
    tmax = base.budgets[0]
    inst = _top.Instance(
        D=base.D[np.ix_(idx, idx)],
        prize=np.concatenate([base.prize, base.prize[cust] / 2]),
        service=np.zeros(len(idx)),
        customers=np.concatenate([cust, np.arange(n, len(idx))]),
        starts=base.starts,
        ends=base.ends,
        budgets=base.budgets,
        place=place,
        lag=(0.3 * tmax, float("inf")),
    )
    sol = _top.solve(inst, seed=0, iterations=1000)
    assert not _top.lag_violations(inst, sol.routes)
    assert all(_top.route_duration(inst, r, seq) <= tmax + 1e-6 for r, seq in enumerate(sol.routes))
    revisits = [c for seq in sol.routes for c in seq if c >= n]
    assert revisits, "second visits are worth taking on this instance"
    # allowing revisits can only add to the best single-visit score (425)
    assert sol.score >= 425
    # the independent checker does catch a violation: two visits of one place back to back
    c = int(cust[0])
    bad = _top.lag_violations(inst, [[c, n], [], []])
    assert bad
    assert bad[0][2] == pytest.approx(0.0)
