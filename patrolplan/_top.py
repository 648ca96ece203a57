"""Team orienteering with service times: an iterated destroy-and-repair local search.

The solver works on a travel-time matrix and knows nothing of streets, so the same code
plans patrols on the walking graph and solves the Chao et al. (1996) benchmark instances.

Model: points ``0..N-1``; route ``r`` leaves ``starts[r]``, may visit customers, and arrives at
``ends[r]`` within ``budgets[r]``; a visit to customer ``i`` adds ``service[i]`` to the route's
duration and collects ``prize[i]`` once. Maximise the total prize. Two side constraints:
customers of one ``group`` exclude each other, and customers of one ``place`` (repeat visits
to one spot) must start ``lag[0]`` to ``lag[1]`` apart on the clock shared by all routes, a
time-lag constraint between routes. There is no waiting: a revisit comes late enough because
the route does something else in between. Every move checks the lags of the routes it changes
(candidates of one route before they are taken, two-route moves by applying and undoing), and
a destroy that pulls a revisit too early is repaired by dropping the later visit.

Search (after Vansteenwegen et al. 2009, "Iterated local search for the team orienteering
problem with time windows", and the ALNS family): a greedy prize-per-time insertion builds a
first solution; every iteration then removes part of the current solution (a random segment of
every route, random customers, the customers worth least per minute, or a whole route),
repairs it by noisy insertion, and improves it with 2-opt and or-opt (a segment moved as it is
or reversed) inside routes, relocate and swap between routes (to free time), replace (an
unvisited customer worth more takes the place of a visited one) and squeeze (an unvisited
customer forced in, the route reshaped until it fits). A seventh perturbation forces a few
unvisited neighbours into one route over its budget, reshapes it and drops the customers worth
least per minute until it fits: several visits traded for others with a new visiting order.
Acceptance is record-to-record travel; after every 1,000 iterations without a new best the search
restarts, alternately from the best and from a new noisy construction (which may settle in
another area). The band narrows to 0 over the iteration budget or the time limit, whichever
runs out first. The hot loops are compiled with numba; randomness comes from an xorshift
generator whose state is an argument, so nothing global is seeded. The iteration count is the
deterministic budget; `time_limit_s` stops earlier on the wall clock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

_EPS = 1e-9
_CHUNK = 25
_BAND = 0.05
_RESTART = 1000
_N_OPS = 7


@dataclass(frozen=True, eq=False)
class Instance:
    """A team orienteering instance on a travel-time matrix.

    Attributes
    ----------
    D
        ``(N, N)`` travel times (any unit; ``inf`` where unreachable).
    prize
        ``(N,)`` prize of each point (0 for depots).
    service
        ``(N,)`` service (dwell) time of each point, same unit as `D`.
    customers
        Indices of the points that may be visited.
    starts, ends, budgets
        One entry per route.
    group
        Optional ``(N,)`` group id per point: points of one group exclude each other (at most
        one is visited), e.g. the two directions of walking one street. Default: all distinct.
    place
        Optional ``(N,)`` place id per point, ``-1`` for none: points of one place are visits
        to the same spot (a hotspot visited twice), and any two of them that are used must
        start at least ``lag[0]`` and at most ``lag[1]`` apart, on the common clock of all
        routes (every route starts at time 0), whichever routes they are on.
    lag
        ``(min, max)`` time between the starts of two visits to one place.
    """

    D: np.ndarray
    prize: np.ndarray
    service: np.ndarray
    customers: np.ndarray
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    budgets: tuple[float, ...]
    group: np.ndarray | None = None
    place: np.ndarray | None = None
    lag: tuple[float, float] = (0.0, float("inf"))


@dataclass(frozen=True)
class Solution:
    """Routes found by :func:`solve`.

    Attributes
    ----------
    routes
        Customer indices per route, in visiting order (depots excluded).
    score
        Total prize collected.
    durations
        Travel plus service time of each route.
    iterations
        Iterations run.
    seconds
        Wall-clock time used.
    best_iteration
        Iteration that found the returned routes (0: the construction).
    best_seconds
        Wall-clock time when they were found (measured every few iterations).
    """

    routes: tuple[tuple[int, ...], ...]
    score: float
    durations: tuple[float, ...]
    iterations: int
    seconds: float
    best_iteration: int = 0
    best_seconds: float = 0.0


def route_duration(inst: Instance, r: int, seq: list[int] | tuple[int, ...]) -> float:
    """Return travel plus service time of customers `seq` on route `r`.

    Parameters
    ----------
    inst
        The instance.
    r
        Route index (gives start and end).
    seq
        Customers in order.

    Returns
    -------
    float
        Duration in the unit of ``inst.D``.
    """
    full = [inst.starts[r], *seq, inst.ends[r]]
    travel = float(inst.D[full[:-1], full[1:]].sum())
    return travel + float(inst.service[list(seq)].sum()) if seq else travel


def visit_times(
    inst: Instance, routes: tuple[tuple[int, ...], ...] | list[list[int]]
) -> dict[int, tuple[int, float]]:
    """Return the route and start time of every visited point.

    Parameters
    ----------
    inst
        The instance.
    routes
        Customers per route, in order.

    Returns
    -------
    dict
        ``point -> (route, start time)``; every route starts at time 0.
    """
    out: dict[int, tuple[int, float]] = {}
    for r, seq in enumerate(routes):
        t, prev = 0.0, inst.starts[r]
        for c in seq:
            t += float(inst.D[prev, c])
            out[int(c)] = (r, t)
            t += float(inst.service[c])
            prev = c
    return out


def lag_violations(
    inst: Instance, routes: tuple[tuple[int, ...], ...] | list[list[int]]
) -> list[tuple[int, int, float]]:
    """List pairs of visits to one place that break ``inst.lag``; an independent check.

    Parameters
    ----------
    inst
        The instance (``place`` and ``lag``).
    routes
        Customers per route, in order.

    Returns
    -------
    list of tuple
        ``(point, point, gap)`` for each breaking pair; empty when the routes comply.
    """
    if inst.place is None:
        return []
    times = visit_times(inst, routes)
    lo, hi = inst.lag
    by_place: dict[int, list[int]] = {}
    for c in times:
        if inst.place[c] >= 0:
            by_place.setdefault(int(inst.place[c]), []).append(c)
    bad = []
    for pts in by_place.values():
        for i, a in enumerate(pts):
            for b in pts[i + 1 :]:
                gap = abs(times[a][1] - times[b][1])
                if gap < lo - 1e-6 or gap > hi + 1e-6:
                    bad.append((a, b, gap))
    return bad


# ---------------------------------------------------------------------------------------------
# compiled core: routes live in seq[m, N] with lengths ln[m]. `lg` carries the revisit-interval
# data: (place, place_start, place_members, [lo, hi, on], time, route_of, scratch_time,
# scratch_stamp, scratch_row); when on = 0 no move looks at it.


@njit(cache=True)
def _rand(rs: np.ndarray) -> float:  # pragma: no cover - compiled
    x = rs[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    rs[0] = x
    return float((x * np.uint64(2685821657736338717)) >> np.uint64(11)) / 9007199254740992.0


@njit(cache=True)
def _randint(rs: np.ndarray, n: int) -> int:  # pragma: no cover - compiled
    k = int(_rand(rs) * n)
    return k if k < n else n - 1


@njit(cache=True)
def _cost(D, s, a, b, row, L):  # pragma: no cover
    if L == 0:
        return D[a, b]
    c = D[a, row[0]] + D[row[L - 1], b]
    for k in range(L - 1):
        c += D[row[k], row[k + 1]]
    for k in range(L):
        c += s[row[k]]
    return c


@njit(cache=True)
def _insert_at(row, L, pos, c):  # pragma: no cover
    for k in range(L, pos, -1):
        row[k] = row[k - 1]
    row[pos] = c


@njit(cache=True)
def _remove_at(row, L, pos):  # pragma: no cover
    for k in range(pos, L - 1):
        row[k] = row[k + 1]


@njit(cache=True)
def _retime(D, s, st, seq, ln, lg):  # pragma: no cover
    """Record the start time and the route of every visited point."""
    tim, rof = lg[4], lg[5]
    rof[:] = -1
    for r in range(len(ln)):
        t = 0.0
        prev = st[r]
        for k in range(ln[r]):
            c = seq[r, k]
            t += D[prev, c]
            tim[c] = t
            rof[c] = r
            t += s[c]
            prev = c


@njit(cache=True)
def _lag_viol(D, s, st, r, row, L, lg):  # pragma: no cover
    """Return a visit that breaks a revisit interval if route `r` were `row`, else -1.

    Of a breaking pair the later visit is returned. Visits on other routes are taken at their
    recorded times (see `_retime`), so `row` must differ from the recorded state in route `r`
    only.
    """
    plc, pst, pix, lag, tim, rof, tt, stamp = lg[0], lg[1], lg[2], lg[3], lg[4], lg[5], lg[6], lg[7]
    N = len(plc)
    stamp[N] += 1
    tok = stamp[N]
    t = 0.0
    prev = st[r]
    for k in range(L):
        c = row[k]
        t += D[prev, c]
        tt[c] = t
        stamp[c] = tok
        t += s[c]
        prev = c
    lo, hi = lag[0], lag[1]
    for k in range(L):
        c = row[k]
        g = plc[c]
        if g < 0:
            continue
        for q in range(pst[g], pst[g + 1]):
            c2 = pix[q]
            if c2 == c:
                continue
            if stamp[c2] == tok:
                t2 = tt[c2]
            elif rof[c2] >= 0 and rof[c2] != r:
                t2 = tim[c2]
            else:
                continue
            gap = abs(tt[c] - t2)
            if gap < lo - 1e-9 or gap > hi + 1e-9:
                return c if tt[c] >= t2 else c2
    return -1


@njit(cache=True)
def _repair(D, s, st, en, seq, ln, cost, vis, grp, lg):  # pragma: no cover
    """Drop the later visit of every pair that breaks a revisit interval (after a destroy)."""
    _retime(D, s, st, seq, ln, lg)
    rof = lg[5]
    while True:
        bad = -1
        for r in range(len(ln)):
            bad = _lag_viol(D, s, st, r, seq[r], ln[r], lg)
            if bad >= 0:
                break
        if bad < 0:
            return
        r = rof[bad]
        for k in range(ln[r]):
            if seq[r, k] == bad:
                _remove_at(seq[r], ln[r], k)
                break
        ln[r] -= 1
        vis[grp[bad]] = False
        cost[r] = _cost(D, s, st[r], en[r], seq[r], ln[r])
        _retime(D, s, st, seq, ln, lg)


@njit(cache=True)
def _ins_ok(D, s, st, seq, ln, r, u, k, lg):  # pragma: no cover
    """Tell whether inserting `u` at position `k` of route `r` keeps every revisit interval."""
    buf = lg[8]
    L = ln[r]
    for t in range(k):
        buf[t] = seq[r, t]
    buf[k] = u
    for t in range(k, L):
        buf[t + 1] = seq[r, t]
    return _lag_viol(D, s, st, r, buf, L + 1, lg) < 0


@njit(cache=True)
def _insert_all(
    D, p, s, reach, st, en, bud, seq, ln, cost, vis, grp, ban, noise, power, rs, lg
):  # pragma: no cover
    """Insert unvisited customers, best prize per added time first, while any fits.

    A customer whose group is banned from route ``r`` (``ban[group] == r``) is not offered to
    that route: a route emptied by the destroy step is rebuilt from other customers.
    """
    m, N = reach.shape
    on = lg[3][2] > 0.0
    changed = False
    # cheapest insertion of every customer in every route; only the route that changed is
    # recomputed (all of them with revisit intervals, where one route's times bind another)
    ins_d = np.empty((m, N))
    ins_k = np.empty((m, N), dtype=np.int64)
    dirty = np.ones(m, dtype=np.bool_)
    while True:
        for r in range(m):
            if not (dirty[r] or on):
                continue
            L = ln[r]
            slack = bud[r] - cost[r]
            for u in range(N):
                if vis[grp[u]] or not reach[r, u] or ban[grp[u]] == r:
                    continue
                bestd = np.inf
                bestk = -1
                prev = st[r]
                for k in range(L + 1):
                    nxt = seq[r, k] if k < L else en[r]
                    d = D[prev, u] + D[u, nxt] - D[prev, nxt]
                    if d < bestd and (
                        not on
                        or (d + s[u] <= slack + 1e-9 and _ins_ok(D, s, st, seq, ln, r, u, k, lg))
                    ):
                        bestd = d
                        bestk = k
                    prev = nxt
                ins_d[r, u] = bestd + s[u]
                ins_k[r, u] = bestk
            dirty[r] = False
        best_val = -1.0
        br, bc, bp, bd = -1, -1, -1, 0.0
        for r in range(m):
            slack = bud[r] - cost[r]
            for u in range(N):
                if vis[grp[u]] or not reach[r, u] or ban[grp[u]] == r:
                    continue
                bestd = ins_d[r, u]
                if bestd <= slack + 1e-9:
                    v = p[u] ** power / (max(bestd, 0.0) + 1e-3)
                    if noise > 0.0:
                        v *= 1.0 - noise + 2.0 * noise * _rand(rs)
                    if v > best_val:
                        best_val = v
                        br, bc, bp, bd = r, u, ins_k[r, u], bestd
        if br < 0:
            return changed
        _insert_at(seq[br], ln[br], bp, bc)
        ln[br] += 1
        cost[br] += bd
        vis[grp[bc]] = True
        dirty[br] = True
        if on:
            _retime(D, s, st, seq, ln, lg)
        changed = True


@njit(cache=True)
def _two_opt(D, s, st, en, seq, ln, cost, r, lg):  # pragma: no cover
    on = lg[3][2] > 0.0
    buf = lg[8]
    improved = False
    while ln[r] >= 2:
        L = ln[r]
        x = np.empty(L + 2, dtype=np.int64)
        x[0] = st[r]
        x[L + 1] = en[r]
        for k in range(L):
            x[k + 1] = seq[r, k]
        fwd = np.zeros(L + 2)
        rev = np.zeros(L + 2)
        for k in range(L + 1):
            fwd[k + 1] = fwd[k] + D[x[k], x[k + 1]]
            rev[k + 1] = rev[k] + D[x[k + 1], x[k]]
        best, bi, bj = 1e-7, -1, -1
        for i in range(1, L + 1):
            for j in range(i + 1, L + 1):
                g = (
                    D[x[i - 1], x[i]]
                    + D[x[j], x[j + 1]]
                    + fwd[j]
                    - fwd[i]
                    - D[x[i - 1], x[j]]
                    - D[x[i], x[j + 1]]
                    - (rev[j] - rev[i])
                )
                if g > best:
                    if on:
                        # the reversed route, checked for revisit intervals
                        for t in range(L):
                            buf[t] = x[t + 1] if (t < i - 1 or t > j - 1) else x[i + j - t - 1]
                        if _lag_viol(D, s, st, r, buf, L, lg) >= 0:
                            continue
                    best, bi, bj = g, i, j
        if bi < 0:
            break
        a, b = bi - 1, bj - 1
        while a < b:
            tmp = seq[r, a]
            seq[r, a] = seq[r, b]
            seq[r, b] = tmp
            a += 1
            b -= 1
        cost[r] = _cost(D, s, st[r], en[r], seq[r], ln[r])
        if on:
            _retime(D, s, st, seq, ln, lg)
        improved = True
    return improved


@njit(cache=True)
def _oropt_row(x, L, i, j, k, rev, out):  # pragma: no cover
    """Write route x[1..L] with the segment x[i..j] moved after x[k] (x[0] is the start).

    The segment is put in reversed when `rev` is set.
    """
    n = 0
    if k == 0:
        for q in range(i, j + 1):
            out[n] = x[j + i - q] if rev else x[q]
            n += 1
    for t in range(1, L + 1):
        if i <= t <= j:
            continue
        out[n] = x[t]
        n += 1
        if t == k:
            for q in range(i, j + 1):
                out[n] = x[j + i - q] if rev else x[q]
                n += 1


@njit(cache=True)
def _or_opt(D, s, st, en, seq, ln, cost, r, lg):  # pragma: no cover
    """Move a segment of 1 to 3 customers elsewhere in the same route while that helps.

    A segment of 2 or 3 may go in reversed, except with revisit intervals: there it scored
    worse (p4.2.k with second visits, seeds 0-4: mean 992 against 1009 without it).
    """
    on = lg[3][2] > 0.0
    buf = lg[8]
    improved = False
    L = ln[r]
    x = np.empty(L + 2, dtype=np.int64)
    while L >= 2:
        x[0] = st[r]
        x[L + 1] = en[r]
        for k in range(L):
            x[k + 1] = seq[r, k]
        best, bi, bj, bk, brev = -1e-7, -1, -1, -1, False
        for size in range(1, 4):
            for i in range(1, L - size + 2):
                j = i + size - 1
                a, b = x[i - 1], x[j + 1]
                rem = D[a, b] - D[a, x[i]] - D[x[j], b]
                # what reversing the segment changes inside it (0 on a symmetric matrix)
                inner = 0.0
                for q in range(i, j):
                    inner += D[x[q + 1], x[q]] - D[x[q], x[q + 1]]
                for k in range(0, L + 1):
                    if i - 1 <= k <= j:
                        continue
                    d = rem + D[x[k], x[i]] + D[x[j], x[k + 1]] - D[x[k], x[k + 1]]
                    if d < best:
                        ok = True
                        if on:
                            _oropt_row(x, L, i, j, k, False, buf)
                            ok = _lag_viol(D, s, st, r, buf, L, lg) < 0
                        if ok:
                            best, bi, bj, bk, brev = d, i, j, k, False
                    if size == 1 or on:
                        continue  # no reversal with revisit intervals (see above)
                    d = rem + D[x[k], x[j]] + D[x[i], x[k + 1]] - D[x[k], x[k + 1]] + inner
                    if d < best:
                        ok = True
                        if on:
                            _oropt_row(x, L, i, j, k, True, buf)
                            ok = _lag_viol(D, s, st, r, buf, L, lg) < 0
                        if ok:
                            best, bi, bj, bk, brev = d, i, j, k, True
        if bi < 0:
            break
        _oropt_row(x, L, bi, bj, bk, brev, seq[r])
        cost[r] = _cost(D, s, st[r], en[r], seq[r], L)
        if on:
            _retime(D, s, st, seq, ln, lg)
        improved = True
    return improved


@njit(cache=True)
def _relocate(D, s, reach, st, en, bud, seq, ln, cost, lg):  # pragma: no cover
    """Move a customer to another route where it costs less than it saves."""
    on = lg[3][2] > 0.0
    m = len(ln)
    improved = False
    for r in range(m):
        i = 0
        while i < ln[r]:
            c = seq[r, i]
            a = st[r] if i == 0 else seq[r, i - 1]
            b = en[r] if i == ln[r] - 1 else seq[r, i + 1]
            saving = D[a, c] + D[c, b] - D[a, b] + s[c]
            bq, bk, bd = -1, -1, np.inf
            for q in range(m):
                if q == r or not reach[q, c]:
                    continue
                prev = st[q]
                for k in range(ln[q] + 1):
                    nxt = seq[q, k] if k < ln[q] else en[q]
                    d = D[prev, c] + D[c, nxt] - D[prev, nxt] + s[c]
                    if d < bd and cost[q] + d <= bud[q] + 1e-9:
                        bq, bk, bd = q, k, d
                    prev = nxt
            if bq >= 0 and bd < saving - 1e-7:
                _remove_at(seq[r], ln[r], i)
                ln[r] -= 1
                cost[r] -= saving
                _insert_at(seq[bq], ln[bq], bk, c)
                ln[bq] += 1
                cost[bq] += bd
                if on:
                    # two routes changed: apply, check both, undo if an interval breaks
                    _retime(D, s, st, seq, ln, lg)
                    if (
                        _lag_viol(D, s, st, r, seq[r], ln[r], lg) >= 0
                        or _lag_viol(D, s, st, bq, seq[bq], ln[bq], lg) >= 0
                    ):
                        _remove_at(seq[bq], ln[bq], bk)
                        ln[bq] -= 1
                        _insert_at(seq[r], ln[r], i, c)
                        ln[r] += 1
                        cost[r] = _cost(D, s, st[r], en[r], seq[r], ln[r])
                        cost[bq] = _cost(D, s, st[bq], en[bq], seq[bq], ln[bq])
                        _retime(D, s, st, seq, ln, lg)
                        i += 1
                        continue
                improved = True
            else:
                i += 1
    return improved


@njit(cache=True)
def _swap(D, s, reach, st, en, bud, seq, ln, cost, lg):  # pragma: no cover
    """Exchange two customers of different routes in place when both routes get shorter."""
    on = lg[3][2] > 0.0
    m = len(ln)
    improved = False
    for r in range(m):
        for q in range(r + 1, m):
            for i in range(ln[r]):
                c = seq[r, i]
                if not reach[q, c]:
                    continue
                a = st[r] if i == 0 else seq[r, i - 1]
                b = en[r] if i == ln[r] - 1 else seq[r, i + 1]
                for j in range(ln[q]):
                    d = seq[q, j]
                    if not reach[r, d]:
                        continue
                    e = st[q] if j == 0 else seq[q, j - 1]
                    f = en[q] if j == ln[q] - 1 else seq[q, j + 1]
                    dr = D[a, d] + D[d, b] - D[a, c] - D[c, b] + s[d] - s[c]
                    dq = D[e, c] + D[c, f] - D[e, d] - D[d, f] + s[c] - s[d]
                    if (
                        dr + dq < -1e-7
                        and cost[r] + dr <= bud[r] + 1e-9
                        and cost[q] + dq <= bud[q] + 1e-9
                    ):
                        seq[r, i] = d
                        seq[q, j] = c
                        if on:
                            _retime(D, s, st, seq, ln, lg)
                            if (
                                _lag_viol(D, s, st, r, seq[r], ln[r], lg) >= 0
                                or _lag_viol(D, s, st, q, seq[q], ln[q], lg) >= 0
                            ):
                                seq[r, i] = c
                                seq[q, j] = d
                                _retime(D, s, st, seq, ln, lg)
                                continue
                        cost[r] += dr
                        cost[q] += dq
                        c = d
                        improved = True
    return improved


@njit(cache=True)
def _replace(D, p, s, reach, st, en, bud, seq, ln, cost, vis, grp, lg):  # pragma: no cover
    """Let an unvisited customer of higher prize take a visited one's place when it fits."""
    on = lg[3][2] > 0.0
    buf = lg[8]
    m, _N = reach.shape
    improved = False
    order = np.argsort(-p)
    for u in order:
        if vis[grp[u]] or p[u] <= 0.0:
            continue
        bg, br, bi, bk, bnew = 1e-12, -1, -1, -1, 0.0
        for r in range(m):
            L = ln[r]
            if L == 0 or not reach[r, u]:
                continue
            for i in range(L):
                v = seq[r, i]
                gain = p[u] - p[v]
                if gain <= bg:
                    continue
                a = st[r] if i == 0 else seq[r, i - 1]
                b = en[r] if i == L - 1 else seq[r, i + 1]
                base = cost[r] - (D[a, v] + D[v, b] - D[a, b] + s[v]) + s[u]
                # cheapest place for u in the route without v
                best, bestk = D[a, u] + D[u, b] - D[a, b], i
                prev = st[r]
                for k in range(L + 1):
                    nxt = seq[r, k] if k < L else en[r]
                    if k != i and k != i + 1:
                        d = D[prev, u] + D[u, nxt] - D[prev, nxt]
                        if d < best:
                            best, bestk = d, k
                    prev = nxt
                if base + best <= bud[r] + 1e-9:
                    if on:
                        # the route without v and with u at bestk
                        n = 0
                        for t in range(L + 1):
                            if t == bestk:
                                buf[n] = u
                                n += 1
                            if t < L and t != i:
                                buf[n] = seq[r, t]
                                n += 1
                        if _lag_viol(D, s, st, r, buf, L, lg) >= 0:
                            continue
                    bg, br, bi, bk, bnew = gain, r, i, bestk, base + best
        if br >= 0:
            v = seq[br, bi]
            vis[grp[v]] = False
            vis[grp[u]] = True
            if bk == bi:
                seq[br, bi] = u
            else:
                _remove_at(seq[br], ln[br], bi)
                ln[br] -= 1
                _insert_at(seq[br], ln[br], bk if bk < bi else bk - 1, u)
                ln[br] += 1
            cost[br] = bnew
            if on:
                _retime(D, s, st, seq, ln, lg)
            improved = True
    return improved


@njit(cache=True)
def _squeeze(D, p, s, reach, st, en, bud, seq, ln, cost, vis, grp, n_try, lg):  # pragma: no cover
    """Insert an unvisited customer over budget, re-optimise the route, keep it if it fits."""
    on = lg[3][2] > 0.0
    m, _N = reach.shape
    improved = False
    order = np.argsort(-p)
    tried = 0
    for u in order:
        if tried >= n_try:
            break
        if vis[grp[u]] or p[u] <= 0.0:
            continue
        tried += 1
        for r in range(m):
            if not reach[r, u]:
                continue
            L = ln[r]
            bestd, bestk = np.inf, -1
            prev = st[r]
            for k in range(L + 1):
                nxt = seq[r, k] if k < L else en[r]
                d = D[prev, u] + D[u, nxt] - D[prev, nxt]
                if d < bestd:
                    bestd, bestk = d, k
                prev = nxt
            # only worth trying when the overrun is small
            if cost[r] + bestd + s[u] > bud[r] * 1.15 + 1e-9:
                continue
            tseq = seq.copy()
            tln = ln.copy()
            tcost = cost.copy()
            _insert_at(tseq[r], tln[r], bestk, u)
            tln[r] += 1
            tcost[r] = _cost(D, s, st[r], en[r], tseq[r], tln[r])
            # reshape until it fits (the caller's local search polishes the rest)
            while tcost[r] > bud[r] + 1e-9 and (
                _two_opt(D, s, st, en, tseq, tln, tcost, r, lg)
                | _or_opt(D, s, st, en, tseq, tln, tcost, r, lg)
            ):
                pass
            if tcost[r] <= bud[r] + 1e-9 and (
                not on or _lag_viol(D, s, st, r, tseq[r], tln[r], lg) < 0
            ):
                seq[r, :] = tseq[r]
                ln[r] = tln[r]
                cost[r] = tcost[r]
                vis[grp[u]] = True
                if on:
                    _retime(D, s, st, seq, ln, lg)
                improved = True
                break
            if on:
                _retime(D, s, st, seq, ln, lg)
    return improved


@njit(cache=True)
def _improve(
    D, p, s, reach, st, en, bud, seq, ln, cost, vis, grp, ban, noise, power, rs, lg
):  # pragma: no cover
    if lg[3][2] > 0.0:
        _repair(D, s, st, en, seq, ln, cost, vis, grp, lg)
    _insert_all(D, p, s, reach, st, en, bud, seq, ln, cost, vis, grp, ban, noise, power, rs, lg)
    for _ in range(20):
        for r in range(len(ln)):
            while _two_opt(D, s, st, en, seq, ln, cost, r, lg) | _or_opt(
                D, s, st, en, seq, ln, cost, r, lg
            ):
                pass
        ch = _relocate(D, s, reach, st, en, bud, seq, ln, cost, lg)
        ch |= _swap(D, s, reach, st, en, bud, seq, ln, cost, lg)
        ch |= _insert_all(
            D, p, s, reach, st, en, bud, seq, ln, cost, vis, grp, ban, 0.0, power, rs, lg
        )
        ch |= _replace(D, p, s, reach, st, en, bud, seq, ln, cost, vis, grp, lg)
        # the costliest move last, once the others are done
        if not ch and not _squeeze(D, p, s, reach, st, en, bud, seq, ln, cost, vis, grp, 3, lg):
            break


@njit(cache=True)
def _destroy(D, p, s, st, en, seq, ln, cost, vis, grp, ban, n_ops, rs):  # pragma: no cover
    """Remove part of the solution; operator drawn among the first `n_ops`.

    Ops: 0 a random stretch of every route, 1 random customers, 2 the customers worth least
    per minute, 3 a whole route, 4 a whole route whose customers are then banned from it
    (``ban``) so it is rebuilt elsewhere while they may move to other routes, 5 a stretch of
    one route, banned from it; 6 is done by the caller (`_overfill`). Returns the op drawn.
    """
    m = len(ln)
    op = _randint(rs, n_ops)
    if op == 6:
        return op  # over-fill a route: see `_overfill`
    if op >= 3:
        r = _randint(rs, m)
        for k in range(ln[r]):
            vis[grp[seq[r, k]]] = False
            if op == 4:
                ban[grp[seq[r, k]]] = r
        ln[r] = 0
        cost[r] = D[st[r], en[r]]
        return op
    if op == 5:
        # a stretch of one route, banned from it: the route must find another way through
        r = _randint(rs, m)
        L = ln[r]
        if L == 0:
            return
        size = 1 + _randint(rs, max(1, L // 2))
        start = _randint(rs, L)
        n = 0
        for i in range(L):
            c = seq[r, i]
            if (i - start) % L < size:
                vis[grp[c]] = False
                ban[grp[c]] = r
            else:
                seq[r, n] = c
                n += 1
        ln[r] = n
        cost[r] = _cost(D, s, st[r], en[r], seq[r], n)
        return op
    for r in range(m):
        L = ln[r]
        if L == 0:
            continue
        drop = np.zeros(L, dtype=np.bool_)
        if op == 0:
            # a random stretch of the route (Vansteenwegen et al. "shake")
            size = 1 + _randint(rs, max(1, L // 2))
            start = _randint(rs, L)
            for k in range(size):
                drop[(start + k) % L] = True
        elif op == 1:
            k = 1 + _randint(rs, max(1, L // 3))
            for _ in range(k):
                drop[_randint(rs, L)] = True
        else:
            # customers worth least per minute they cost, with noise
            ratio = np.empty(L)
            for i in range(L):
                c = seq[r, i]
                a = st[r] if i == 0 else seq[r, i - 1]
                b = en[r] if i == L - 1 else seq[r, i + 1]
                saving = D[a, c] + D[c, b] - D[a, b] + s[c]
                ratio[i] = p[c] / (saving + 1e-3) * (0.5 + _rand(rs))
            k = 1 + _randint(rs, max(1, L // 3))
            idx = np.argsort(ratio)
            for t in range(k):
                drop[idx[t]] = True
        n = 0
        for i in range(L):
            if drop[i]:
                vis[grp[seq[r, i]]] = False
            else:
                seq[r, n] = seq[r, i]
                n += 1
        ln[r] = n
        cost[r] = _cost(D, s, st[r], en[r], seq[r], n)
    return op


@njit(cache=True)
def _overfill(D, p, s, reach, st, en, bud, seq, ln, cost, vis, grp, rs, lg):  # pragma: no cover
    """Force a few unvisited customers into one route, then drop others until it fits.

    An unvisited customer ``u`` (drawn with odds in proportion to its prize) and up to three of
    its nearest unvisited neighbours go into the route where ``u`` is cheapest to insert, over
    the budget; 2-opt and or-opt reshape the route around them, and the customers worth least
    per minute they cost (not the forced ones) leave until the route fits again. This trades
    several visits for others in one step with a new visiting order, which no single move does.
    """
    on = lg[3][2] > 0.0
    m, N = reach.shape
    tot = 0.0
    for u in range(N):
        if not vis[grp[u]] and p[u] > 0.0 and reach[:, u].any():
            tot += p[u]
    if tot <= 0.0:
        return
    x = _rand(rs) * tot
    u = -1
    for v in range(N):
        if not vis[grp[v]] and p[v] > 0.0 and reach[:, v].any():
            u = v
            x -= p[v]
            if x <= 0.0:
                break
    r, bestd = -1, np.inf
    for q in range(m):
        if not reach[q, u]:
            continue
        prev = st[q]
        for k in range(ln[q] + 1):
            nxt = seq[q, k] if k < ln[q] else en[q]
            d = D[prev, u] + D[u, nxt] - D[prev, nxt]
            if d < bestd:
                r, bestd = q, d
            prev = nxt
    if r < 0:
        return
    forced = np.full(4, -1, dtype=np.int64)
    forced[0] = u
    vis[grp[u]] = True
    n_more = _randint(rs, 4)
    for f in range(1, 1 + n_more):
        bv, bd = -1, np.inf
        for v in range(N):
            if vis[grp[v]] or p[v] <= 0.0 or not reach[r, v]:
                continue
            if D[u, v] < bd:
                bv, bd = v, D[u, v]
        if bv < 0:
            break
        forced[f] = bv
        vis[grp[bv]] = True
    for f in range(4):
        c = forced[f]
        if c < 0:
            continue
        bd, bk = np.inf, 0
        prev = st[r]
        for k in range(ln[r] + 1):
            nxt = seq[r, k] if k < ln[r] else en[r]
            d = D[prev, c] + D[c, nxt] - D[prev, nxt]
            if d < bd:
                bd, bk = d, k
            prev = nxt
        _insert_at(seq[r], ln[r], bk, c)
        ln[r] += 1
    cost[r] = _cost(D, s, st[r], en[r], seq[r], ln[r])
    if on:
        _retime(D, s, st, seq, ln, lg)
    while _two_opt(D, s, st, en, seq, ln, cost, r, lg) | _or_opt(
        D, s, st, en, seq, ln, cost, r, lg
    ):
        pass
    while cost[r] > bud[r] + 1e-9 and ln[r] > 0:
        L = ln[r]
        bi, bratio = -1, np.inf
        for i in range(L):
            c = seq[r, i]
            if c == forced[0] or c == forced[1] or c == forced[2] or c == forced[3]:
                continue
            a = st[r] if i == 0 else seq[r, i - 1]
            b = en[r] if i == L - 1 else seq[r, i + 1]
            saving = D[a, c] + D[c, b] - D[a, b] + s[c]
            ratio = p[c] / (saving + 1e-3) * (0.8 + 0.4 * _rand(rs))
            if ratio < bratio:
                bi, bratio = i, ratio
        if bi < 0:
            # only forced customers left and still too long: drop the last one
            bi = L - 1
        vis[grp[seq[r, bi]]] = False
        _remove_at(seq[r], L, bi)
        ln[r] -= 1
        cost[r] = _cost(D, s, st[r], en[r], seq[r], ln[r])
    if on:
        _retime(D, s, st, seq, ln, lg)


@njit(cache=True)
def _score(p, seq, ln):  # pragma: no cover
    t = 0.0
    for r in range(len(ln)):
        for k in range(ln[r]):
            t += p[seq[r, k]]
    return t


@njit(cache=True)
def _better(sa, ca, sb, cb):  # pragma: no cover
    """Tell whether (score sa, cost ca) beats (sb, cb): more prize, then less time."""
    if sa > sb + 1e-9:
        return True
    return abs(sa - sb) <= 1e-9 and ca < cb - 1e-9


@njit(cache=True)
def _search(
    D,
    p,
    s,
    reach,
    st,
    en,
    bud,
    grp,
    cur,
    cln,
    ccost,
    cvis,
    best,
    bln,
    bcost,
    bvis,
    rs,
    state,
    n_iter,
    total,
    done,
    band0,
    restart,
    n_ops,
    lg,
):  # pragma: no cover
    """Run `n_iter` iterations; state = [iteration, stall, iteration of the best].

    The acceptance band narrows from `band0` to 0 as the run goes: by the iterations done out
    of `total`, or by `done`, the share of the time limit already used, whichever is further.
    """
    ban = np.full(len(cvis), -1, dtype=np.int64)
    for _ in range(n_iter):
        state[0] += 1
        it = state[0]
        seq, ln, cost, vis = cur.copy(), cln.copy(), ccost.copy(), cvis.copy()
        ban[:] = -1
        op = _destroy(D, p, s, st, en, seq, ln, cost, vis, grp, ban, n_ops, rs)
        if op == 6:
            _overfill(D, p, s, reach, st, en, bud, seq, ln, cost, vis, grp, rs, lg)
        power = 1.0 if _rand(rs) < 0.5 else 2.0
        _improve(D, p, s, reach, st, en, bud, seq, ln, cost, vis, grp, ban, 0.3, power, rs, lg)
        sc = _score(p, seq, ln)
        bs = _score(p, best, bln)
        if _better(sc, cost.sum(), bs, bcost.sum()):
            best[:] = seq
            bln[:] = ln
            bcost[:] = cost
            bvis[:] = vis
            bs = sc
            state[1] = 0
            state[2] = it
        else:
            state[1] += 1
        band = band0 * (1.0 - max(it / (total + 1.0), done))
        if sc >= bs * (1.0 - band) - 1e-9:
            cur[:] = seq
            cln[:] = ln
            ccost[:] = cost
            cvis[:] = vis
        if state[1] > 0 and state[1] % restart == 0:
            if (state[1] // restart) % 2 == 0:
                # every second restart of a long stall starts from a new noisy construction,
                # which may settle in another area (the best is kept)
                cln[:] = 0
                cvis[:] = False
                for r in range(len(cln)):
                    ccost[r] = D[st[r], en[r]]
                ban[:] = -1
                _improve(
                    D, p, s, reach, st, en, bud, cur, cln, ccost, cvis, grp, ban, 0.3, 1.0, rs, lg
                )
            else:
                cur[:] = best
                cln[:] = bln
                ccost[:] = bcost
                cvis[:] = bvis


def _lag_data(inst: Instance, N: int) -> tuple[np.ndarray, ...]:
    """Pack the revisit-interval data of `inst` for the compiled core."""
    plc = (
        np.full(N, -1, dtype=np.int64)
        if inst.place is None
        else np.asarray(inst.place, dtype=np.int64)
    )
    members = np.flatnonzero(plc >= 0)
    members = members[np.argsort(plc[members], kind="stable")]
    counts = (
        np.bincount(plc[members], minlength=int(plc.max()) + 1)
        if len(members)
        else np.zeros(0, dtype=np.int64)
    )
    pst = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    on = bool(len(members)) and (inst.lag[0] > 0 or np.isfinite(inst.lag[1]))
    lag = np.array([inst.lag[0], inst.lag[1], 1.0 if on else 0.0], dtype=np.float64)
    return (
        plc,
        pst,
        members.astype(np.int64),
        lag,
        np.zeros(N),
        np.full(N, -1, dtype=np.int64),
        np.zeros(N),
        np.zeros(N + 1, dtype=np.int64),
        np.zeros(N, dtype=np.int64),
    )


def solve(
    inst: Instance,
    *,
    seed: int = 0,
    iterations: int = 2000,
    time_limit_s: float | None = None,
    init: list[list[int]] | None = None,
) -> Solution:
    """Solve a team orienteering instance.

    Parameters
    ----------
    inst
        The instance.
    seed
        Seed of the random generator; the same seed and iteration budget give the same routes.
    iterations
        Destroy-and-repair iterations (deterministic budget).
    time_limit_s
        Also stop after this many seconds (results then depend on machine speed).
    init
        Routes to start from instead of the greedy construction; must be feasible.

    Returns
    -------
    Solution
        The best routes found.
    """
    t0 = time.perf_counter()
    D = np.ascontiguousarray(inst.D, dtype=np.float64)
    p = np.ascontiguousarray(inst.prize, dtype=np.float64)
    s = np.ascontiguousarray(inst.service, dtype=np.float64)
    N, m = len(p), len(inst.starts)
    st = np.asarray(inst.starts, dtype=np.int64)
    en = np.asarray(inst.ends, dtype=np.int64)
    bud = np.asarray(inst.budgets, dtype=np.float64)
    cust = np.asarray(inst.customers, dtype=np.int64)
    # A customer a route can serve alone; others are never offered to that route.
    reach = np.zeros((m, N), dtype=np.bool_)
    for r in range(m):
        alone = D[st[r], cust] + s[cust] + D[cust, en[r]]
        ok = (alone <= bud[r] + _EPS) & (p[cust] > 0) & (D[st[r], en[r]] <= bud[r] + _EPS)
        reach[r, cust[ok]] = True
    # Points of one group are alternatives (a street walked either way): at most one is used.
    grp = (
        np.arange(N, dtype=np.int64)
        if inst.group is None
        else np.asarray(inst.group, dtype=np.int64)
    )
    seq = np.zeros((m, N), dtype=np.int64)
    ln = np.zeros(m, dtype=np.int64)
    vis = np.zeros(int(grp.max()) + 1, dtype=np.bool_)
    for r, route in enumerate(init or []):
        ln[r] = len(route)
        seq[r, : len(route)] = route
        vis[grp[list(route)]] = True
    cost = np.array([_cost(D, s, st[r], en[r], seq[r], ln[r]) for r in range(m)])
    rs = np.array([np.random.default_rng(seed).integers(1, 2**63 - 1)], dtype=np.uint64)
    lg = _lag_data(inst, N)
    ban = np.full(len(vis), -1, dtype=np.int64)
    _improve(D, p, s, reach, st, en, bud, seq, ln, cost, vis, grp, ban, 0.0, 1.0, rs, lg)
    best, bln, bcost, bvis = seq.copy(), ln.copy(), cost.copy(), vis.copy()
    state = np.zeros(3, dtype=np.int64)
    best_it, best_s = 0, time.perf_counter() - t0
    while state[0] < iterations:
        if time_limit_s is not None and time.perf_counter() - t0 > time_limit_s:
            break
        n = int(min(_CHUNK, iterations - state[0]))
        _search(
            D,
            p,
            s,
            reach,
            st,
            en,
            bud,
            grp,
            seq,
            ln,
            cost,
            vis,
            best,
            bln,
            bcost,
            bvis,
            rs,
            state,
            n,
            iterations,
            # the share of the time limit used: the band narrows with time as with iterations
            0.0 if time_limit_s is None else min(1.0, (time.perf_counter() - t0) / time_limit_s),
            _BAND,
            _RESTART,
            _N_OPS,
            lg,
        )
        if state[2] != best_it:
            best_it, best_s = int(state[2]), time.perf_counter() - t0
    routes = tuple(tuple(int(c) for c in best[r, : bln[r]]) for r in range(m))
    durations = tuple(route_duration(inst, r, seq_r) for r, seq_r in enumerate(routes))
    score = float(sum(p[list(seq_r)].sum() for seq_r in routes if seq_r))
    return Solution(
        routes, score, durations, int(state[0]), time.perf_counter() - t0, best_it, best_s
    )


def _cache_is_warm() -> bool:
    """Tell whether numba's on-disk cache holds a compiled search for this source file."""
    folder = Path(os.environ.get("NUMBA_CACHE_DIR") or Path(__file__).with_name("__pycache__"))
    source = Path(__file__).stat().st_mtime
    try:
        return any(f.stat().st_mtime >= source for f in folder.rglob("_top._search-*.nbi"))
    except OSError:
        return False


def start_compiling() -> subprocess.Popen[bytes] | None:
    """Compile the search in a background process when numba's cache is empty.

    The first plan after an install otherwise spends most of its time compiling; a second
    process compiles (and caches) while this one reads the street graph and the incidents.
    Call ``.wait()`` on the result before the first :func:`solve`, which then loads the cache.

    Returns
    -------
    subprocess.Popen or None
        The compiling process, or None when the cache is already warm or numba is disabled.
    """
    if os.environ.get("NUMBA_DISABLE_JIT") == "1" or _cache_is_warm():
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-c", "from patrolplan._top import _warm_up; _warm_up()"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:  # pragma: no cover - no subprocess here: compile in process
        return None


def _warm_up() -> None:
    """Solve a tiny instance with every side constraint, so every kernel is compiled."""
    n = 8
    xy = np.arange(2 * n, dtype=np.float64).reshape(n, 2) % 5
    D = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    inst = Instance(
        D=D,
        prize=np.r_[0.0, 0.0, np.ones(n - 2)],
        service=np.ones(n),
        customers=np.arange(2, n),
        starts=(0,),
        ends=(1,),
        budgets=(30.0,),
        group=np.r_[np.arange(n - 1), n - 2],
        place=np.r_[-1, -1, 0, 0, -1, -1, -1, -1],
        lag=(2.0, 20.0),
    )
    solve(inst, seed=0, iterations=30)
