"""Exact-divisor spatial unrolling (the reference's Sunstone): the PEs a GEMM can keep busy on one array."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from .grouping import per_distinct

__all__ = ["cluster_axes", "divisor_active_pes", "divisor_unroll", "divisor_unrolls", "divisor_pe_cycles", "divisor_pe_level"]


@lru_cache(maxsize=None)
def _divisors(x: int) -> tuple[int, ...]:
    small = [d for d in range(1, int(x**0.5) + 1) if x % d == 0]
    return tuple(sorted(set(small + [x // d for d in small])))


def _axis_options(dims: tuple[int, int, int], size: int) -> list[tuple[int, int, int]]:
    """Every (d1, d2, d3) with d_i dividing dims[i] and d1 * d2 * d3 <= size."""
    out = []
    for a in _divisors(dims[0]):
        if a > size:
            break
        for b in _divisors(dims[1]):
            if a * b > size:
                break
            rest = size // (a * b)
            c = max(d for d in _divisors(dims[2]) if d <= rest)
            out.append((a, b, c))
    return out


@lru_cache(maxsize=None)
def divisor_unrolls(m: int, k: int, n: int, width: int, depth: int) -> tuple[tuple[int, int, int], ...]:
    """Every unroll (of M, K, N) that keeps the most PEs busy on a width x depth array with exact divisors.

    The reference's Sunstone (phaze/third_party_for_phaze/sunstone/src/optimization_utils.py
    enumerate_spatial, with tc_estimator.py's PE axes X = pe_width, Y = pe_depth) splits a loop
    bound spatially only by a divisor of it, and may put several loop bounds on one axis: it fills
    X with the largest product of divisors of (M, K, N) that fits (a full axis where one exists),
    then Y with what is left of the dimensions, and its cost function picks among those unrolls.
    A prime M or N (197, 257 tokens) thus unrolls on an axis only if it fits whole, else not at all.
    """
    x_opts = _axis_options((m, k, n), width)
    fill_x = max(a * b * c for a, b, c in x_opts)
    found: dict[int, list[tuple[int, int, int]]] = {}
    for a, b, c in x_opts:
        if a * b * c != fill_x:
            continue
        y_opts = _axis_options((m // a, k // b, n // c), depth)
        fill_y = max(p * q * r for p, q, r in y_opts)
        for p, q, r in y_opts:
            if p * q * r == fill_y:
                found.setdefault(fill_x * fill_y, []).append((a * p, b * q, c * r))
    return tuple(sorted(set(found[max(found)])))


def divisor_unroll(m: int, k: int, n: int, width: int, depth: int) -> tuple[int, int, int]:
    """The PE unroll divisor_pe_cycles picks on one array (unlimited bandwidth, a 32-word register): see divisor_unrolls."""
    return divisor_pe_cycles(m, k, n, width, depth, 1, float("inf"), 32)[3][0]


def divisor_active_pes(m: Any, k: Any, n: Any, width: Any, depth: Any) -> np.ndarray:
    """PEs busy per cycle (the product of any of divisor_unrolls) for arrays of whole-number M, K, N, width, depth (broadcast)."""
    cols = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in (m, k, n, width, depth)))
    shape = cols[0].shape
    flat = [c.reshape(-1).astype(np.int64) for c in cols]
    if flat[0].size == 0:
        return np.zeros(shape)

    def busy(*fields: np.ndarray) -> np.ndarray:
        return np.array([float(np.prod(divisor_unrolls(*map(int, row))[0])) for row in zip(*fields)])

    return per_distinct(busy, *flat).reshape(shape)


def _outer_trips(order: tuple[int, ...], trips: tuple[int, int, int], relevant: tuple[int, ...]) -> int:
    """Refetches of an operand: the trips of its irrelevant loops outside its innermost relevant loop (outer -> inner order)."""
    inner = max((i for i, d in enumerate(order) if d in relevant and trips[d] > 1), default=-1)
    out = 1
    for i in range(inner):
        if order[i] not in relevant:
            out *= trips[order[i]]
    return out


_ORDERS = ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))


def cluster_axes(clusters: int) -> tuple[int, int]:
    """The reference's cluster grid (estimator_wrapper.py create_core_config_for_estimation): X = max(d1, d2), Y = min."""
    d1 = 2 ** int(math.log2(clusters) / 2)
    d2 = clusters // d1
    return max(d1, d2), min(d1, d2)


@lru_cache(maxsize=None)
def _mappings(m: int, k: int, n: int, width: int, depth: int, reg_words: int) -> tuple[tuple[float, float, float, tuple], ...]:
    """Pareto-best (compute cycles, L2 reads, L2 writes, PE unroll) of the one-array mappings divisor_pe_cycles considers."""
    cands = []
    for pe in divisor_unrolls(m, k, n, width, depth):
        mt, kt, nt = m // pe[0], k // pe[1], n // pe[2]
        compute = float(mt * kt * nt)
        for mr in (d for d in _divisors(mt) if d <= reg_words):
            for kr in (d for d in _divisors(kt) if d <= reg_words):
                for nr in (d for d in _divisors(nt) if d <= reg_words):
                    if mr * kr + kr * nr + mr * nr > reg_words:
                        continue
                    trips = (mt // mr, kt // kr, nt // nr)
                    for order in _ORDERS:
                        writes = m * n * _outer_trips(order, trips, (0, 2))
                        reads = m * k * _outer_trips(order, trips, (0, 1)) + k * n * _outer_trips(order, trips, (1, 2)) + writes - m * n
                        cands.append((compute, float(reads), float(writes), pe))
    cands.sort(key=lambda c: c[:3])
    front: list[tuple[float, float, float, tuple]] = []
    for c in cands:
        if not any(f[0] <= c[0] and f[1] <= c[1] and f[2] <= c[2] for f in front):
            front.append(c)
    return tuple(front)


@lru_cache(maxsize=None)
def divisor_pe_cycles(
    m: int, k: int, n: int, width: int, depth: int, clusters: int, bw_words: float, reg_words: int
) -> tuple[float, float, float, tuple]:
    """(cycles, L2 reads, L2 writes, (PE unroll, cluster unroll)) of (M x K).(K x N) as the reference's Sunstone maps it.

    Sunstone (tc_estimator.py's CNNOptimizer.solve, uneven mapping off) first maps one PE array
    alone: a spatial unroll (one of divisor_unrolls on pe_width x pe_depth) and a register tile
    of (mr, kr, nr) iterations, divisors of the temporal trips, whose inputs, weights and partial
    sums fit the register together (mr*kr + kr*nr + mr*nr <= reg_words: Sunstone sizes the
    register tile with all three operands, although its energy charges inputs and partial sums
    at the L2, tc_estimator.py mem_bypass), the loops above in the best of the six orders. An
    operand is read from L2 once per pass of the irrelevant loops outside its innermost relevant
    loop; partial sums are written as often and read back for every pass after the first. That
    mapping's L2 reads and writes are what its latency bound counts (optimization_utils.py
    get_cost_edp_bypass, level 0, against one read and one write port of bw_words); the
    clusters, unrolled afterwards on what is left (divisor_unrolls on cluster_axes: a prime token
    count left over keeps clusters idle), only multiply the busy PEs. Cycles = max(MACs / busy
    PEs, reads / bw, writes / bw); the fastest one-array mapping wins, ties to the least traffic.
    """
    best: tuple = (float("inf"), float("inf"), 0.0, 0.0, (1, 1, 1))
    for compute, reads, writes, pe in _mappings(m, k, n, width, depth, reg_words):
        cycles = max(compute, reads / bw_words, writes / bw_words)
        if (cycles, reads + writes) < best[:2]:
            best = (cycles, reads + writes, reads, writes, pe)
    _, _, reads, writes, pe = best
    rest = (m // pe[0], k // pe[1], n // pe[2])
    cl = divisor_unrolls(*rest, *cluster_axes(clusters))[0] if clusters > 1 else (1, 1, 1)
    compute = m * k * n / float(np.prod(pe) * np.prod(cl))
    return max(compute, reads / bw_words, writes / bw_words), reads, writes, (pe, cl)


def divisor_pe_level(
    m: Any, k: Any, n: Any, width: Any, depth: Any, clusters: Any, bw_words: Any, reg_words: Any
) -> tuple[np.ndarray, ...]:
    """divisor_pe_cycles over arrays (broadcast; one evaluation per distinct row): cycles, reads, writes, compute cycles."""
    cols = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in (m, k, n, width, depth, clusters, bw_words, reg_words)))
    shape = cols[0].shape
    rows = np.stack([c.reshape(-1) for c in cols], axis=1)
    if rows.size == 0:
        return tuple(np.zeros(shape) for _ in range(4))
    uniq, inv = np.unique(rows, axis=0, return_inverse=True)
    vals = []
    for a, b, c, w, d, cl, bw, r in uniq:
        cyc, rd, wr, (pe, clu) = divisor_pe_cycles(int(a), int(b), int(c), int(w), int(d), int(cl), float(bw), int(r))
        vals.append((cyc, rd, wr, a * b * c / float(np.prod(pe) * np.prod(clu))))
    out = np.array(vals)[inv.reshape(-1)]
    return tuple(out[:, i].reshape(shape) for i in range(4))
