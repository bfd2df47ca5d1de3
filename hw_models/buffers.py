"""Buffer levels: words a buffer of a given capacity reads from the level above for one GEMM, best of four loop orders."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import HardwareError
from .grouping import ceil_div as _ceil_div
from .grouping import pick_rows
from .pe import check_dims as _check_dims

__all__ = ["LOOP_ORDERS", "reread_factors", "best_reads", "buffer_traffic", "compulsory_dram_words"]

# Loop orders for one buffer level (what stays resident while the rest streams).
LOOP_ORDERS: tuple[str, ...] = ("a_stationary", "b_stationary", "c_stationary_rows", "c_stationary_cols")

Arr = np.ndarray


def _isqrt(x: Arr) -> Arr:
    q = np.floor(np.sqrt(x))
    q -= q * q > x
    q += (q + 1.0) * (q + 1.0) <= x
    return q


def reread_factors(m: Any, k: Any, n: Any, cap: Any) -> tuple[Arr, Arr]:
    """Re-read factors (rA, rB) of A (M x K) and B (K x N) per loop order, shape (4, ...); inf = does not fit.

    Every tile size is non-decreasing in `cap`, so the traffic never rises with capacity.
    Outputs are always written once (the full K reduction happens before a tile leaves).
    """
    m, k, n, cap = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in (m, k, n, cap)))
    # A-stationary: `lines` rows of A resident (+ one streamed column of B and of the output);
    # B-stationary is the mirror image with the same capacity rule.
    lines = np.floor((cap - k) / (k + 1.0))
    no_fit = np.where(lines >= 1.0, 0.0, np.inf)
    lines = np.maximum(lines, 1.0)
    # C-stationary: an m x n output tile resident (+ one column of A and one row of B per k
    # step): m*n + m + n <= cap. q is the largest square side; a dimension shorter than q
    # gives its share of the space to the other one.
    q = _isqrt(cap + 1.0) - 1.0
    no_fit_c = np.where(q >= 1.0, 0.0, np.inf)
    q = np.maximum(q, 1.0)
    m_r = np.minimum(m, q)
    n_r = np.where(m <= q, np.minimum(n, np.maximum(np.floor((cap - m) / (m + 1.0)), 1.0)), np.minimum(n, q))
    n_c = np.minimum(n, q)
    m_c = np.where(n <= q, np.minimum(m, np.maximum(np.floor((cap - n) / (n + 1.0)), 1.0)), np.minimum(m, q))
    one = np.ones(m.shape)
    ra = np.stack([one, _ceil_div(n, lines) + no_fit, _ceil_div(n, n_r) + no_fit_c, _ceil_div(n, n_c) + no_fit_c])
    rb = np.stack([_ceil_div(m, lines) + no_fit, one, _ceil_div(m, m_r) + no_fit_c, _ceil_div(m, m_c) + no_fit_c])
    return ra, rb


def buffer_traffic(m: Any, k: Any, n: Any, capacity_words: Any, loop_order: str | None = None) -> tuple[Arr, Arr, Arr]:
    """Words read into a buffer of `capacity_words` from the level above, and written back, for one GEMM.

    Returns (reads, writes, loop_order_index); the best loop order unless one is named.
    reads = M*K*rA + K*N*rB >= M*K + K*N, writes = M*N (each output leaves once).
    """
    _check_dims(m=m, k=k, n=n, capacity_words=capacity_words)
    ra, rb = reread_factors(m, k, n, capacity_words)
    m, k, n = (np.asarray(a, np.float64) for a in (m, k, n))
    reads = m * k * ra + k * n * rb
    if loop_order is None:
        idx = np.argmin(reads, axis=0)
    elif loop_order in LOOP_ORDERS:
        idx = np.full(reads.shape[1:], LOOP_ORDERS.index(loop_order))
    else:
        raise HardwareError(f"loop_order: {loop_order!r} is not allowed; allowed: {', '.join(LOOP_ORDERS)}")
    best = np.take_along_axis(reads, idx[None], 0)[0]
    return best, np.broadcast_to(m * n, best.shape).copy(), idx


def compulsory_dram_words(m: Any, k: Any, n: Any, batch: Any = 1) -> np.ndarray:
    """Each input and weight read once and each output written once: batch * (MK + KN + MN) words."""
    _check_dims(m=m, k=k, n=n, batch=batch)
    m, k, n, b = (np.asarray(a, np.int64) for a in (m, k, n, batch))
    return b * (m * k + k * n + m * n)



def best_reads(m: Arr, k: Arr, n: Arr, cap: Arr, mk: Arr, kn: Arr) -> tuple[Arr, Arr, Arr]:
    """Best loop order: words read from the level above = M*K*rA + K*N*rB (totals over clusters)."""
    ra, rb = reread_factors(m, k, n, cap)
    reads = mk * ra + kn * rb
    pick = np.argmin(reads, axis=0)
    if pick.ndim != 1:
        return np.take_along_axis(ra, pick[None], 0)[0], np.take_along_axis(rb, pick[None], 0)[0], pick
    flat = pick_rows(pick)
    shape = reads.shape
    return np.broadcast_to(ra, shape).reshape(-1).take(flat), np.broadcast_to(rb, shape).reshape(-1).take(flat), pick
