"""Analytical mapper: GEMM latency and traffic per memory level on the tensor cores, elementwise ops on the vector cores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .config import HardwareBatch
from .energy import AccessEnergies, Profile, VectorKindCost, tc_l2_kib
from .errors import HardwareError
from .workload import Gemm, VectorOp

__all__ = [
    "DATAFLOWS",
    "ORIENTATIONS",
    "PARTITIONS",
    "LOOP_ORDERS",
    "BOUNDS",
    "gemm_cycles",
    "scalesim_ws_cycles",
    "pe_traffic",
    "buffer_traffic",
    "compulsory_dram_words",
    "vector_cycles",
    "GemmMapping",
    "VectorMapping",
    "MapContext",
    "make_context",
    "map_gemm",
    "map_vector",
]

# PE-array dataflows (SCALE-Sim names): which operand stays in the PE registers.
DATAFLOWS: tuple[str, ...] = ("ws", "os", "is")
# Which physical array dimension holds the "rows" of the SCALE-Sim formula.
ORIENTATIONS: tuple[str, ...] = ("depth_rows", "width_rows")
# How a GEMM is split across clusters.
PARTITIONS: tuple[str, ...] = ("n", "m", "batch")
# Loop orders for one buffer level (what stays resident while the rest streams).
LOOP_ORDERS: tuple[str, ...] = ("a_stationary", "b_stationary", "c_stationary_rows", "c_stationary_cols")
# What limits an op: the PE array, or the bandwidth of one memory level.
BOUNDS: tuple[str, ...] = ("compute", "l2", "glb", "dram")

# (rows, columns, time) of the array per dataflow, as indices into (M, K, N):
# WS keeps B (K x N) in the PEs and streams M; OS keeps C (M x N) and streams K; IS keeps A^T (K x M) and streams N.
_ROLES: dict[str, tuple[int, int, int]] = {"ws": (1, 2, 0), "os": (0, 2, 1), "is": (1, 0, 2)}
# The six PE candidates, dataflow-major (ws, os, is) x (depth_rows, width_rows): which of
# (M, K, N) lies along the array rows, columns and time, and which array side (0 = pe_depth,
# 1 = pe_width) holds the rows and the columns.
_C_ROW = np.array([1, 1, 0, 0, 1, 1])
_C_COL = np.array([2, 2, 2, 2, 0, 0])
_C_TIME = np.array([0, 0, 1, 1, 2, 2])
_C_ROWSIDE = np.array([0, 1, 0, 1, 0, 1])
_C_COLSIDE = 1 - _C_ROWSIDE
_C_OS = slice(2, 4)
_PIPELINE_FILL = 2.0  # the "2R" of SCALE-Sim's fold cycles: R to load a tile, R to ripple through
_MAX_DENSE_SPAN = 1 << 16  # value range up to which integer codes are built with a lookup table
_BITS_PER_KIB = 1024 * 8  # divided by precision_bits: words per KiB
_KIB_PER_MIB = 1024
_FAR = 1e300  # added to rule a candidate out of a min() without inf - inf = nan
_C_IS_OS = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 0.0])  # 1 for the output-stationary candidates
_PIPELINE_OFFSET = 2.0  # the "- 2" of SCALE-Sim's fold cycles 2R + C + T - 2

# Slots, the cluster-split candidates of a GEMM, in this order: 0 N-split, 1 M-split, then
# batch splits over n, n/2, ..., 1 clusters. Subproblem rows: 0 N-split, 1 M-split, 2 whole.
_FIRST_BATCH_SLOT = 2
_WHOLE = 2

Arr = np.ndarray

# Arithmetic is float64 throughout: every count stays far below 2**53, where float64 is exact
# for integers, and ceil(a / b) in float64 equals integer ceil-division (it is also 3x faster
# than int64 floor division in numpy).


def _ceil_div(a: Any, b: Any) -> Any:
    return np.ceil(a / b)


# ---------------------------------------------------------------------------------------------
# PE level: one R x C array, SCALE-Sim cycle form with balanced folds
# ---------------------------------------------------------------------------------------------


def _pe_eval(sr: Arr, sc: Arr, t: Arr, rows: Arr, cols: Arr, bw: Any, os: Any) -> tuple[Arr, Arr, Arr, Arr]:
    """Cycles, L2 reads/writes and roofline value of one (dataflow, array) candidate, balanced folds.

    `os` is 1.0 for output-stationary candidates, 0.0 for weight- or input-stationary ones.
    """
    fr = _ceil_div(sr, rows)
    r = _ceil_div(sr, fr)  # balanced: the same number of rows in every fold
    fc = _ceil_div(sc, cols)
    c = _ceil_div(sc, fc)
    compute = fr * fc * (_PIPELINE_FILL * r + c + t - _PIPELINE_OFFSET)
    stationary = sr * sc
    t_sr_fc = t * sr * fc
    t_sc = t * sc
    # WS / IS: the stationary tile is read once, one operand streams in per column fold,
    # partial sums stream out per row fold and are read back for every row fold after the first.
    reads_st = stationary + t_sr_fc + t_sc * (fr - 1.0)
    writes_st = t_sc * fr
    # OS: both inputs stream (A per column fold, B per row fold); each output is written once.
    reads_os = t_sr_fc + t_sc * fr
    reads = reads_st + (reads_os - reads_st) * os
    writes = writes_st + (stationary - writes_st) * os
    value = np.maximum(compute, np.maximum(reads, writes) / bw)
    return value, compute, reads, writes


def _pe_best_height(sr: Arr, sc: Arr, t: Arr, rows: Arr, cols: Arr, bw: Any, os: Any) -> tuple[Arr, Arr, Arr, Arr]:
    """_pe_eval, also trying sub-arrays of floor(rows / 2^j) rows where fill/drain rounding could win.

    With c + T - 2 >= 2 the full height is provably best (docs/hardware-model.md); below that
    (tiny GEMMs) a shorter fold can beat it, so the mapper keeps the best power-of-two height.
    The candidate set for 2R is then a superset of that for R: latency never rises with R.
    """
    value, compute, reads, writes = _pe_eval(sr, sc, t, rows, cols, bw, os)
    c = _ceil_div(sc, _ceil_div(sc, cols))
    small = (c + t - _PIPELINE_OFFSET < _PIPELINE_FILL) & (rows > 1)
    if not np.any(small):
        return value, compute, reads, writes
    return _shorter_folds(small, (value, compute, reads, writes), (sr, sc, t, rows, cols, bw, os))


def _shorter_folds(small: Arr, results: tuple[Arr, ...], args: tuple[Any, ...]) -> tuple[Arr, ...]:
    """Where `small`, replace (value, compute, reads, writes) by the best over heights rows // 2^j."""
    shape = np.broadcast_shapes(*(np.shape(a) for a in (small,) + tuple(results) + tuple(args)))
    scalar = shape == ()
    shape = shape or (1,)
    out = [np.array(np.broadcast_to(a, shape), dtype=np.float64) for a in results]
    idx = np.nonzero(np.broadcast_to(small, shape))
    s_sr, s_sc, s_t, s_rows, s_cols, s_bw, s_os = (np.broadcast_to(np.asarray(a, np.float64), shape)[idx] for a in args)
    best = [o[idx] for o in out]
    j = 1
    while True:
        height = np.floor(s_rows / 2.0**j)
        ok = height >= 1
        if not np.any(ok):
            break
        v, cp, rd, wr = _pe_eval(s_sr, s_sc, s_t, np.maximum(height, 1.0), s_cols, s_bw, s_os)
        better = ok & ((v < best[0]) | ((v == best[0]) & (rd + wr < best[2] + best[3])))
        for b, new in zip(best, (v, cp, rd, wr)):
            b[better] = new[better]
        j += 1
    for o, b in zip(out, best):
        o[idx] = b
    return tuple(o[0] if scalar else o for o in out)


def _roles(m: Any, k: Any, n: Any, dataflow: str) -> tuple[Arr, Arr, Arr]:
    if dataflow not in _ROLES:
        raise HardwareError(f"dataflow: {dataflow!r} is not allowed; allowed: {', '.join(DATAFLOWS)}")
    dims = (np.asarray(m, np.float64), np.asarray(k, np.float64), np.asarray(n, np.float64))
    i, j, t = _ROLES[dataflow]
    return dims[i], dims[j], dims[t]


def _check_dims(**dims: Any) -> None:
    for name, value in dims.items():
        arr = np.asarray(value)
        if np.any(arr < 1):
            raise HardwareError(f"gemm.{name}: {arr[arr < 1].ravel()[0].item()!r} is not allowed; must be >= 1")


def scalesim_ws_cycles(m: Any, k: Any, n: Any, rows: Any, cols: Any) -> np.ndarray:
    """SCALE-Sim weight-stationary compute cycles: ceil(K/R) * ceil(N/C) * (2R + C + M - 2)."""
    _check_dims(m=m, k=k, n=n, rows=rows, cols=cols)
    m, k, n, rows, cols = (np.asarray(a, np.int64) for a in (m, k, n, rows, cols))
    fill, offset = int(_PIPELINE_FILL), int(_PIPELINE_OFFSET)
    return -(-k // rows) * -(-n // cols) * (fill * rows + cols + m - offset)


def gemm_cycles(m: Any, k: Any, n: Any, rows: Any, cols: Any, dataflow: str = "ws", balanced: bool = True) -> np.ndarray:
    """Compute cycles of (M x K).(K x N) on one rows x cols array with unlimited bandwidth.

    balanced=False is SCALE-Sim's form (full R and C per fold); balanced=True is the mapper's
    (with f folds, ceil(dim/f) rows or columns per fold, and the best power-of-two height).
    """
    _check_dims(m=m, k=k, n=n, rows=rows, cols=cols)
    sr, sc, t = _roles(m, k, n, dataflow)
    rows, cols = np.asarray(rows, np.float64), np.asarray(cols, np.float64)
    if not balanced:
        return _ceil_div(sr, rows) * _ceil_div(sc, cols) * (_PIPELINE_FILL * rows + cols + t - _PIPELINE_OFFSET)
    return _pe_best_height(sr, sc, t, rows, cols, np.inf, float(dataflow == "os"))[1]


def pe_traffic(m: Any, k: Any, n: Any, rows: Any, cols: Any, dataflow: str = "ws") -> tuple[np.ndarray, np.ndarray]:
    """Words read from and written to L2 by one array for one GEMM (balanced folds, full height)."""
    _check_dims(m=m, k=k, n=n, rows=rows, cols=cols)
    sr, sc, t = _roles(m, k, n, dataflow)
    rows, cols = np.asarray(rows, np.float64), np.asarray(cols, np.float64)
    _, _, reads, writes = _pe_eval(sr, sc, t, rows, cols, np.inf, float(dataflow == "os"))
    return reads, writes


# ---------------------------------------------------------------------------------------------
# Buffer levels: traffic into a buffer of a given capacity, best of four loop orders
# ---------------------------------------------------------------------------------------------


def _isqrt(x: Arr) -> Arr:
    q = np.floor(np.sqrt(x))
    q -= q * q > x
    q += (q + 1.0) * (q + 1.0) <= x
    return q


def _reread_factors(m: Any, k: Any, n: Any, cap: Any) -> tuple[Arr, Arr]:
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
    ra, rb = _reread_factors(m, k, n, capacity_words)
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


# ---------------------------------------------------------------------------------------------
# Codes: cost what depends on a few unique values once
# ---------------------------------------------------------------------------------------------


def _dense(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0..U-1 for the values of an integer array (a lookup table when the range is small)."""
    if x.size == 1:
        return np.zeros(1, np.int64), 1
    lo, hi = int(x.min()), int(x.max())
    if lo == hi:
        return np.zeros(1, np.int64), 1
    span = hi - lo + 1
    shifted = x - lo
    if span <= max(_MAX_DENSE_SPAN, 4 * x.size):
        present = np.zeros(span, np.int64)
        present[shifted] = 1
        table = np.cumsum(present) - 1
        return table[shifted], int(table[-1]) + 1
    uniq, inv = np.unique(x, return_inverse=True)
    return inv.astype(np.int64).ravel(), len(uniq)


def _combine(parts: Sequence[tuple[np.ndarray, int]], n: int) -> tuple[np.ndarray, int]:
    """Codes of the row-wise tuple of coded columns; not necessarily dense while the range stays small."""
    parts = [p for p in parts if p[1] > 1]
    if not parts:
        return np.zeros(1, np.int64), 1
    codes, count = parts[0]
    for c, u in parts[1:]:
        codes = codes * u + c
        count *= u
        # A sparse code range costs unused slots at the unique level; keep it below n.
        if count > min(_MAX_DENSE_SPAN, max(n, 1)):
            codes, count = _dense(codes)
    return codes, count


_ARANGE = np.arange(0)


def _representatives(codes: np.ndarray, count: int) -> np.ndarray:
    """One row index per code (the last row with that code)."""
    global _ARANGE
    if _ARANGE.size < codes.size:
        _ARANGE = np.arange(codes.size)  # kept: the same lengths recur call after call
    rep = np.zeros(count, np.intp)
    rep[codes] = _ARANGE[: codes.size]
    return rep


# ---------------------------------------------------------------------------------------------
# Context: per-call hardware arrays and their codes
# ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class MapContext:
    """Hardware arrays of one evaluation (float64, length n or 1) with codes for deduplication."""

    n: int
    clusters: np.ndarray
    pe_width: np.ndarray
    pe_depth: np.ndarray
    l2_bw: np.ndarray
    l2_words: np.ndarray  # vector core's L2 per cluster
    tc_l2_words: np.ndarray  # tensor core's L2 per cluster (bumped to the array's minimum)
    glb_words: np.ndarray
    glb_bw: np.ndarray
    dram_bw: np.ndarray
    lanes: np.ndarray  # vector lanes: pe_width * clusters
    l2_port_total: np.ndarray  # l2_bw * clusters, words/cycle
    l2_words_total: np.ndarray  # l2_words * clusters
    min_l2_words_total: float
    min_glb_words: float
    lanes_mac_pj: np.ndarray  # energy of one cycle of all vector lanes
    energies: AccessEnergies
    profile: Profile
    batch_slots: int  # log2(max clusters) + 1: batch partitions over n, n/2, ..., 1 clusters
    comp_codes: np.ndarray
    comp_count: int
    mem_codes: np.ndarray
    mem_count: int
    allowed_pe: np.ndarray | None = None  # (3 dataflows, 2 orientations) mask; None = all
    _cache: dict = field(default_factory=dict, repr=False)

    def codes_of(self, arr: np.ndarray) -> tuple[np.ndarray, int]:
        hit = self._cache.get(id(arr))
        if hit is None or hit[0] is not arr:
            hit = (arr, *_dense(arr))
            self._cache[id(arr)] = hit
        return hit[1], hit[2]


def make_context(hw: HardwareBatch, energies: AccessEnergies, profile: Profile, n: int | None = None) -> MapContext:
    """Precompute what every op of an evaluation shares (float arrays, codes of the hardware fields)."""
    n = len(hw) if n is None else n
    f = lambda a: a.astype(np.float64)  # noqa: E731
    words_per_kib = _BITS_PER_KIB / f(hw.precision_bits)
    l2_words = f(hw.l2_sram_kb) * words_per_kib
    tc_l2_words = np.floor(tc_l2_kib(hw, profile) * words_per_kib)
    glb_words = f(hw.glb_mb) * _KIB_PER_MIB * words_per_kib
    codes = {name: _dense(getattr(hw, name)) for name in ("clusters", "pe_width", "pe_depth", "l2_bw", "l2_sram_kb", "glb_mb", "glb_bw", "dram_bw", "precision_bits")}
    comp = _combine([codes[k] for k in ("clusters", "pe_width", "pe_depth", "l2_bw")], n)
    tc_l2 = _dense(tc_l2_words.astype(np.int64))
    mem = _combine([codes[k] for k in ("clusters", "glb_mb", "glb_bw", "dram_bw", "precision_bits")] + [tc_l2], n)
    clusters = f(hw.clusters)
    return MapContext(
        n=n,
        clusters=clusters,
        pe_width=f(hw.pe_width),
        pe_depth=f(hw.pe_depth),
        l2_bw=f(hw.l2_bw),
        l2_words=l2_words,
        tc_l2_words=tc_l2_words,
        glb_words=glb_words,
        glb_bw=f(hw.glb_bw),
        dram_bw=f(hw.dram_bw),
        lanes=f(hw.pe_width) * clusters,
        l2_port_total=f(hw.l2_bw) * clusters,
        l2_words_total=l2_words * clusters,
        min_l2_words_total=float((l2_words * clusters).min()),
        min_glb_words=float(glb_words.min()),
        lanes_mac_pj=f(hw.pe_width) * clusters * energies.mac_pj,
        energies=energies,
        profile=profile,
        batch_slots=int(hw.clusters.max()).bit_length(),
        comp_codes=comp[0],
        comp_count=comp[1],
        mem_codes=mem[0],
        mem_count=mem[1],
    )


# ---------------------------------------------------------------------------------------------
# GEMM mapper
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GemmMapping:
    """The chosen mapping of one GEMM (one repeat) per design. Energies in pJ.

    `detail` (with detail=True) holds per-level traffic in words, the cycles each level would
    need, the chosen candidate (partition, dataflow, orientation, loop orders) and the bound.
    """

    cycles: np.ndarray
    macs: np.ndarray
    l2_pj: np.ndarray
    glb_pj: np.ndarray
    dram_pj: np.ndarray
    pj_per_mac: float  # the MAC itself
    register_pj_per_mac: float  # PE register accesses per MAC
    detail: dict[str, np.ndarray] | None = None

    @property
    def mac_pj(self) -> np.ndarray:
        return self.macs * self.pj_per_mac

    @property
    def register_pj(self) -> np.ndarray:
        return self.macs * self.register_pj_per_mac

    @property
    def energy_pj(self) -> np.ndarray:
        return self.macs * (self.pj_per_mac + self.register_pj_per_mac) + self.l2_pj + self.glb_pj + self.dram_pj


def _subproblems(M: Arr, K: Arr, N: Arr, ncl: Arr) -> tuple[Arr, Arr, Arr]:
    """(M, K, N) per cluster for the N-split, the M-split and one batch element: each (3, U)."""
    Ms = np.stack([M, _ceil_div(M, ncl), M])
    Ns = np.stack([_ceil_div(N, ncl), N, N])
    return Ms, np.broadcast_to(K, Ms.shape), Ns


def _batch_used(ncl: Arr, j: int) -> Arr:
    """Clusters a batch split over n / 2^j clusters uses (0 where there are fewer than 2^j)."""
    return np.floor(ncl / 2.0**j)


def _pe_candidates(dims: Arr, D: Arr, W: Arr, l2bw: Arr, ctx: MapContext, detail: bool) -> tuple[Arr, Arr, tuple[Arr, ...] | None]:
    """Best of the six (dataflow, orientation) candidates per problem (M, K, N) = dims, shape (3, V).

    The same formulas as _pe_eval, laid out over the six candidates at once (a test pins the two).

    Returns the roofline cycles, the L2<->PE accesses of the chosen candidate (ties: fewest
    accesses) and, with detail, its compute cycles, reads, writes and index.
    """
    arr = np.stack([D, W])  # (2 array sides, V)
    # Folds and balanced fold sizes of every dimension on every array side, shared by the six
    # (dataflow, orientation) candidates.
    folds = np.ceil(dims[:, None] / arr)  # (3, 2, V)
    size = np.ceil(dims[:, None] / folds)
    fr, r = folds[_C_ROW, _C_ROWSIDE], size[_C_ROW, _C_ROWSIDE]  # (6, V)
    fc, c = folds[_C_COL, _C_COLSIDE], size[_C_COL, _C_COLSIDE]
    sr, sc, t = dims[_C_ROW], dims[_C_COL], dims[_C_TIME]
    c_t2 = c + t - _PIPELINE_OFFSET
    compute = fr * fc * (_PIPELINE_FILL * r + c_t2)
    stationary = sr * sc
    t_sr_fc = t * sr * fc
    t_sc = t * sc
    writes = t_sc * fr
    reads = stationary + t_sr_fc + writes - t_sc
    # Output-stationary candidates: both inputs stream, each output is written once.
    reads[_C_OS] = t_sr_fc[_C_OS] + writes[_C_OS]
    writes[_C_OS] = stationary[_C_OS]
    value = np.maximum(compute, np.maximum(reads, writes) / l2bw)
    rows = arr[_C_ROWSIDE]
    small = (c_t2 < _PIPELINE_FILL) & (rows > 1.0)
    if np.any(small):
        os = _C_IS_OS[:, None]
        value, compute, reads, writes = _shorter_folds(
            small, (value, compute, reads, writes), (sr, sc, t, rows, arr[_C_COLSIDE], l2bw, os)
        )
    if ctx.allowed_pe is not None:
        value = np.where(ctx.allowed_pe.reshape(6)[:, None], value, np.inf)
    acc = reads + writes
    vmin = value.min(axis=0)
    # Among the fastest candidates, the one with the fewest L2 accesses.
    masked = acc + _FAR * (value > vmin)
    if not detail:
        return vmin, masked.min(axis=0), None
    pick = np.argmin(masked, axis=0)[None]
    chosen = [np.take_along_axis(v, pick, 0)[0] for v in (acc, compute, reads, writes)]
    return vmin, chosen[0], (chosen[1], chosen[2], chosen[3], pick[0].astype(np.float64))


# Above this many subproblems, identical (M', K, N', W, D, L2 bandwidth) rows are costed once:
# without a split, after an N- or M-split on one cluster, or shared by several cluster counts.
_DEDUP_SUBPROBLEMS = 3000


def _compute_level(
    M: Arr, K: Arr, N: Arr, B: Arr, ncl: Arr, W: Arr, D: Arr, l2bw: Arr, batch_slots: int, ctx: MapContext, detail: bool
) -> tuple[Arr, dict[str, Arr] | None]:
    """Per slot (N-split, M-split, batch over floor(n/2^j) clusters): [cycles, L2<->PE words], (S, U, 2)."""
    M, K, N, B, ncl, W, D, l2bw = np.broadcast_arrays(M, K, N, B, ncl, W, D, l2bw)
    Ms, Ks, Ns = _subproblems(M, K, N, ncl)  # (3, U) each
    hw = [np.broadcast_to(a, Ms.shape).reshape(-1) for a in (D, W, l2bw)]
    cols = [Ms.reshape(-1), Ks.reshape(-1), Ns.reshape(-1)]
    if Ms.size > _DEDUP_SUBPROBLEMS:
        codes, count = _combine([_dense(a.astype(np.int64)) for a in cols + hw], Ms.size)
        codes = np.broadcast_to(codes, (Ms.size,))  # all rows identical: _combine gives one code, not Ms.size
        rep = _representatives(codes, count)
        res = _pe_candidates(np.stack([a.take(rep) for a in cols]), *(a.take(rep) for a in hw), ctx, detail)
        back = lambda v: v.take(codes).reshape(Ms.shape)  # noqa: E731
    else:
        res = _pe_candidates(np.stack(cols), *hw, ctx, detail)
        back = lambda v: v.reshape(Ms.shape)  # noqa: E731
    vmin, acc_best = back(res[0]), back(res[1])
    n_eff = np.stack([N / Ns[0], M / Ms[1]])  # share of the work the active clusters do
    x = [B * vmin[0], B * vmin[1]]
    a = [B * n_eff[0] * acc_best[0], B * n_eff[1] * acc_best[1]]
    mult = [B, B]
    for j in range(batch_slots):
        used = _batch_used(ncl, j)
        heads = _ceil_div(B, np.maximum(used, 1.0))
        x.append(heads * vmin[2] + np.where(used >= 1.0, 0.0, np.inf))
        a.append(B * acc_best[2])
        mult.append(heads)
    out = np.stack([np.stack(x), np.stack(a)], axis=-1)  # (S, U, 2)
    if not detail:
        return out, None
    comp_s, rd_s, wr_s, pick = (back(v) for v in res[2])
    sub = [0, 1] + [_WHOLE] * batch_slots
    share = [B * n_eff[0], B * n_eff[1]] + [B] * batch_slots
    info = {
        "compute_cycles": np.stack([mult[i] * comp_s[s] for i, s in enumerate(sub)]),
        "l2_cycles": np.stack([mult[i] * np.maximum(rd_s[s], wr_s[s]) / l2bw for i, s in enumerate(sub)]),
        "l2_pe_reads": np.stack([share[i] * rd_s[s] for i, s in enumerate(sub)]),
        "l2_pe_writes": np.stack([share[i] * wr_s[s] for i, s in enumerate(sub)]),
        "pe_choice": np.stack([pick[s] for s in sub]),
    }
    return out, info


def _best_reads(m: Arr, k: Arr, n: Arr, cap: Arr, mk: Arr, kn: Arr) -> tuple[Arr, Arr, Arr]:
    """Best loop order: words read from the level above = M*K*rA + K*N*rB (totals over clusters)."""
    ra, rb = _reread_factors(m, k, n, cap)
    reads = mk * ra + kn * rb
    pick = np.argmin(reads, axis=0)[None]
    return np.take_along_axis(ra, pick, 0)[0], np.take_along_axis(rb, pick, 0)[0], pick[0]


def _memory_level(
    M: Arr, K: Arr, N: Arr, B: Arr, ncl: Arr, Lw: Arr, Gw: Arr, glbbw: Arr, drambw: Arr,
    el2: Arr, eglb: Arr, edram: float, batch_slots: int, detail: bool,
) -> tuple[Arr, Arr, dict[str, Arr] | None]:
    """Per slot: [cycles of the GLB and DRAM ports, energy] (S, U, 2) and energy parts (S, U, 3) in pJ."""
    M, K, N, B, ncl, Lw, Gw, glbbw, drambw, el2, eglb = np.broadcast_arrays(M, K, N, B, ncl, Lw, Gw, glbbw, drambw, el2, eglb)
    mk, kn, mn = M * K, K * N, M * N
    Ms, Ks, Ns = _subproblems(M, K, N, ncl)
    ra, rb, l2_pick = _best_reads(Ms, Ks, Ns, Lw, mk, kn)  # (3, U)
    # Multicast: the shared operand leaves the GLB once but is written into every active L2.
    copies_n = _ceil_div(N, Ns[0])
    copies_m = _ceil_div(M, Ms[1])
    glb_rd = mk * ra + kn * rb
    fills = np.stack([mk * ra[0] * copies_n + kn * rb[0], mk * ra[1] + kn * rb[1] * copies_m, glb_rd[2]])
    # DRAM: the whole GEMM against the shared GLB; a batch split over k clusters keeps k batch
    # elements in flight, each with 1/k of the GLB.
    caps = [Gw] + [np.floor(Gw / np.minimum(np.maximum(_batch_used(ncl, j), 1.0), B)) for j in range(batch_slots)]
    dra, drb, dram_pick = _best_reads(M, K, N, np.stack(caps), mk, kn)
    dram_rd = mk * dra + kn * drb  # (1 + batch_slots, U)
    sub = [0, 1] + [_WHOLE] * batch_slots
    dsub = [0, 0] + list(range(1, batch_slots + 1))
    glb_r = B * glb_rd[sub]
    out_w = B * mn  # outputs: L2 -> GLB once, GLB -> DRAM once
    dr = B * dram_rd[dsub]
    glb_cyc = np.maximum(glb_r, out_w) / glbbw
    dram_cyc = (dr + out_w) / drambw
    e_l2 = (B * fills[sub] + out_w) * el2  # L2 fills and drains
    e_glb = (glb_r + out_w + dr + out_w) * eglb  # reads to L2, writes from L2, writes from DRAM, reads to DRAM
    e_dram = (dr + out_w) * edram
    sel = np.stack([np.maximum(glb_cyc, dram_cyc), e_l2 + e_glb + e_dram], axis=-1)
    parts = np.stack([e_l2, e_glb, e_dram], axis=-1)
    if not detail:
        return sel, parts, None
    shape = glb_r.shape
    info = {
        "glb_reads": glb_r,
        "glb_writes": np.broadcast_to(out_w, shape),
        "dram_reads": dr,
        "dram_writes": np.broadcast_to(out_w, shape),
        "glb_cycles": glb_cyc,
        "dram_cycles": dram_cyc,
        "l2_fill_writes": B * fills[sub],
        "l2_loop_order": l2_pick[sub].astype(np.float64),
        "glb_loop_order": dram_pick[dsub].astype(np.float64),
    }
    return sel, parts, info


# Unique problems per group of GEMMs costed in one pass: large enough to amortise numpy's
# per-call overhead, small enough for the candidate arrays to stay in cache.
_GROUP_UNIQUES = 12_000


@dataclass(eq=False)
class _Prepared:
    op: Gemm
    floats: tuple[np.ndarray, ...]  # M, K, N, batch as float64
    macs: np.ndarray
    codes_c: np.ndarray
    count_c: int
    rep_c: np.ndarray
    codes_m: np.ndarray
    count_m: int
    rep_m: np.ndarray


def _prepare(op: Gemm, ctx: MapContext) -> _Prepared:
    n = max(ctx.n, 1)
    shape_codes = _combine([ctx.codes_of(a) for a in (op.m, op.k, op.n, op.batch)], n)
    floats = tuple(a.astype(np.float64) for a in (op.m, op.k, op.n, op.batch))
    # Memory level: shape x (clusters, TC L2, GLB, GLB and DRAM bandwidth, precision);
    # compute level: shape x (clusters, W, D, L2 bandwidth).
    codes_m, count_m = _combine([shape_codes, (ctx.mem_codes, ctx.mem_count)], n)
    codes_c, count_c = _combine([shape_codes, (ctx.comp_codes, ctx.comp_count)], n)
    return _Prepared(
        op, floats, floats[0] * floats[1] * floats[2] * floats[3],
        codes_c, count_c, _representatives(codes_c, count_c),
        codes_m, count_m, _representatives(codes_m, count_m),
    )


def _gather(arrays: Sequence[np.ndarray], reps: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate arr[rep] over the ops of a group (constant arrays broadcast)."""
    parts = [a.take(r) if a.size > 1 else np.broadcast_to(a, r.shape) for a, r in zip(arrays, reps)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _gemm_groups(ops: Sequence[Gemm], ctx: MapContext, detail: bool) -> list[GemmMapping]:
    """Map several GEMMs on every design; ops with and without a batch are grouped apart."""
    prepared = [_prepare(op, ctx) for op in ops]
    results: list[GemmMapping | None] = [None] * len(ops)
    for batched in (False, True):
        group: list[int] = []
        size = 0
        members = [i for i, p in enumerate(prepared) if (int(p.op.batch.max()) > 1) == batched]
        for i in members:
            if group and size + prepared[i].count_c > _GROUP_UNIQUES:
                for j, res in zip(group, _gemm_group([prepared[j] for j in group], ctx, batched, detail)):
                    results[j] = res
                group, size = [], 0
            group.append(i)
            size += prepared[i].count_c
        if group:
            for j, res in zip(group, _gemm_group([prepared[j] for j in group], ctx, batched, detail)):
                results[j] = res
    return results  # type: ignore[return-value]


def _gemm_group(group: Sequence[_Prepared], ctx: MapContext, batched: bool, detail: bool) -> list[GemmMapping]:
    n = max(ctx.n, 1)
    e = ctx.energies
    el2 = np.asarray(e.l2_tc_pj, np.float64)
    eglb = np.asarray(e.glb_pj, np.float64)
    # A batch split is worth trying only when there is a batch to split; splits over fewer
    # clusters only when some batch element's GLB share could force extra DRAM traffic.
    batch_slots = ctx.batch_slots if batched else 0
    reps_m = [p.rep_m for p in group]
    hw_m = (ctx.clusters, ctx.tc_l2_words, ctx.glb_words, ctx.glb_bw, ctx.dram_bw, el2, eglb)
    args_m = [_gather([p.floats[i] for p in group], reps_m) for i in range(4)]
    args_m += [_gather([a] * len(group), reps_m) for a in hw_m]
    sel_m, parts_m, minfo = _memory_level(*args_m[:9], args_m[9], args_m[10], e.dram_pj, batch_slots, detail)
    first = _FIRST_BATCH_SLOT
    if batch_slots > 1 and not detail and np.all(sel_m[first + 1 :] == sel_m[first]):
        # Fewer clusters on the batch cannot win: same memory cost, more heads per cluster.
        batch_slots = 1
        sel_m, parts_m = sel_m[: first + 1], parts_m[: first + 1]
    reps_c = [p.rep_c for p in group]
    hw_c = (ctx.clusters, ctx.pe_width, ctx.pe_depth, ctx.l2_bw)
    args_c = [_gather([p.floats[i] for p in group], reps_c) for i in range(4)]
    args_c += [_gather([a] * len(group), reps_c) for a in hw_c]
    sel_c, cinfo = _compute_level(*args_c, batch_slots, ctx, detail)
    total_c, total_m = sel_c.shape[1], sel_m.shape[1]
    flat_c = sel_c[..., 1].reshape(-1)
    flat_parts = parts_m.reshape(-1, 3)

    out = []
    off_c = off_m = 0
    for p in group:
        # Row of each design in the group's unique-level arrays.
        idx_c = p.codes_c + off_c if p.count_c > 1 else np.array([off_c])
        idx_m = p.codes_m + off_m if p.count_m > 1 else np.array([off_m])
        off_c += p.count_c
        off_m += p.count_m
        tables = (sel_c, sel_m, flat_c, flat_parts, total_c, total_m)
        if detail or n <= _CHUNK:
            best_c, l2_pj, glb_pj, dram_pj, slot_i, pick_c, pick_m = _select(idx_c, idx_m, el2, *tables)
        else:
            # Design by design work in cache-sized chunks: temporaries stay small and hot.
            best_c, l2_pj, glb_pj, dram_pj = (np.empty(n) for _ in range(4))
            for lo in range(0, n, _CHUNK):
                sl = slice(lo, min(n, lo + _CHUNK))
                res = _select(_part(idx_c, sl), _part(idx_m, sl), _part(el2, sl), *tables)
                for dst, src in zip((best_c, l2_pj, glb_pj, dram_pj), res[:4]):
                    dst[sl] = src
        info = None
        if detail:
            info = _detail(p, ctx, cinfo, minfo, pick_c, pick_m, slot_i, best_c, n)
        out.append(
            GemmMapping(
                cycles=_full(best_c, n),
                macs=_full(p.macs, n),
                pj_per_mac=e.mac_pj,
                register_pj_per_mac=e.register_accesses_per_mac * e.register_pj,
                l2_pj=_full(l2_pj, n),
                glb_pj=_full(glb_pj, n),
                dram_pj=_full(dram_pj, n),
                detail=info,
            )
        )
    return out


# Designs per chunk of the design-level work (16384 float64 = 128 KiB per temporary).
_CHUNK = 16384


def _part(a: np.ndarray, sl: slice) -> np.ndarray:
    return a if a.size == 1 else a[sl]


def _select(
    idx_c: Arr, idx_m: Arr, el2: Arr, sel_c: Arr, sel_m: Arr, flat_c: Arr, flat_parts: Arr, total_c: int, total_m: int
) -> tuple[Arr, ...]:
    """Best slot per design: fewest cycles, ties to the lower energy, then to the earlier slot.

    A short loop over slots on 1-D arrays beats a 2-D argmin here.
    """
    slots = sel_c.shape[0]
    best_c = best_e = slot = None
    for s in range(slots):
        xc, xm = sel_c[s].take(idx_c, axis=0), sel_m[s].take(idx_m, axis=0)
        cyc = np.maximum(xc[:, 0], xm[:, 0])
        en = xc[:, 1] * el2 + xm[:, 1]
        if s == 0:
            best_c, best_e = cyc, en
            continue
        better = (cyc < best_c) | ((cyc == best_c) & (en < best_e))
        best_c = np.minimum(cyc, best_c)
        if s < slots - 1:
            best_e = best_e + (en - best_e) * better
        slot = better.astype(np.intp) if slot is None else slot + (s - slot) * better
    shape = np.broadcast_shapes(best_c.shape, best_e.shape)
    slot_i = np.zeros(shape, np.intp) if slot is None else np.broadcast_to(slot, shape)
    pick_c = slot_i * total_c + idx_c
    pick_m = slot_i * total_m + idx_m
    parts = flat_parts.take(pick_m, axis=0)
    l2_pj = flat_c.take(pick_c) * el2 + parts[:, 0]
    return best_c, l2_pj, parts[:, 1], parts[:, 2], slot_i, pick_c, pick_m


def _detail(
    p: _Prepared, ctx: MapContext, cinfo: dict, minfo: dict, pick_c: Arr, pick_m: Arr, slot: Arr, best_c: Arr, n: int
) -> dict[str, Arr]:
    info = {key: _full(v.reshape(-1).take(pick_c), n) for key, v in cinfo.items()}
    info.update({key: _full(v.reshape(-1).take(pick_m), n) for key, v in minfo.items()})
    slot = _full(slot, n).astype(np.int64)
    first = _FIRST_BATCH_SLOT
    info["partition"] = np.minimum(slot, first).astype(np.float64)  # index into PARTITIONS
    m, _, nn, b = p.floats
    active_n = _ceil_div(nn, _ceil_div(nn, ctx.clusters))  # clusters that get columns
    active_m = _ceil_div(m, _ceil_div(m, ctx.clusters))
    batch_used = np.minimum(_batch_used(ctx.clusters, np.maximum(slot - first, 0)), b)
    info["clusters_used"] = _full(np.where(slot == 0, active_n, np.where(slot == 1, active_m, batch_used)), n)
    info["batch_split"] = np.maximum(slot - first, -1).astype(np.float64)  # j of n / 2^j, -1 if none
    terms = np.stack([info["compute_cycles"], info["l2_cycles"], info["glb_cycles"], info["dram_cycles"]])
    info["bound"] = np.argmax(terms, axis=0).astype(np.float64)
    info["pe_dataflow"] = np.floor_divide(info["pe_choice"], 2)
    info["pe_orientation"] = np.mod(info["pe_choice"], 2)
    info["utilisation"] = _full(p.macs / (best_c * ctx.clusters * ctx.pe_width * ctx.pe_depth), n)
    return info


def _gemm(op: Gemm, ctx: MapContext, detail: bool) -> GemmMapping:
    return _gemm_groups([op], ctx, detail)[0]


def _full(a: Any, n: int) -> np.ndarray:
    """`a` as a float64 array of length n (no copy when it already is one)."""
    a = np.asarray(a, np.float64)
    return a if a.shape == (n,) else np.broadcast_to(a, (n,)).copy()


def _batch_length(n_h: int, n_w: int) -> int:
    if n_h != n_w and 1 not in (n_h, n_w):
        raise HardwareError(f"workload: {n_w} designs do not broadcast against {n_h} hardware configurations; need equal lengths or one of them 1")
    return max(n_h, n_w)


def _context_for(hw: HardwareBatch, profile: "str | Profile", n_w: int) -> MapContext:
    from .energy import access_energies, check_profile_matches, load_profile

    prof = load_profile(profile)
    check_profile_matches(hw, prof)
    return make_context(hw, access_energies(hw, prof), prof, _batch_length(len(hw), n_w))


def map_gemm(
    gemm: Gemm,
    hw: HardwareBatch,
    profile: "str | Profile" = "reference",
    detail: bool = True,
    dataflows: Sequence[str] = DATAFLOWS,
    orientations: Sequence[str] = ORIENTATIONS,
) -> GemmMapping:
    """Map one GEMM on every design of `hw` (arrays broadcast); see docs/hardware-model.md.

    `dataflows` and `orientations` restrict the PE-level candidates (e.g. ("ws",), ("depth_rows",)
    to compare against SCALE-Sim); evaluate_cost always searches all of them.
    """
    for name, given, allowed in (("dataflows", dataflows, DATAFLOWS), ("orientations", orientations, ORIENTATIONS)):
        bad = [x for x in given if x not in allowed]
        if bad or not given:
            raise HardwareError(f"map_gemm.{name}: {list(given)!r} is not allowed; choose from {', '.join(allowed)}")
    ctx = _context_for(hw, profile, max(a.size for a in (gemm.m, gemm.k, gemm.n, gemm.batch)))
    if tuple(dataflows) != DATAFLOWS or tuple(orientations) != ORIENTATIONS:
        ctx.allowed_pe = np.array([[df in dataflows and o in orientations for o in ORIENTATIONS] for df in DATAFLOWS])
    return _gemm(gemm, ctx, detail)


# ---------------------------------------------------------------------------------------------
# Vector core
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class VectorMapping:
    """One vector op (one repeat) per design: cycles, energies (pJ) and, with detail, the bound."""

    cycles: np.ndarray
    vector_pj: np.ndarray
    l2_pj: np.ndarray
    glb_pj: np.ndarray | float
    dram_pj: np.ndarray | float
    detail: dict[str, np.ndarray] | None = None

    @property
    def energy_pj(self) -> np.ndarray:
        return self.vector_pj + self.l2_pj + self.glb_pj + self.dram_pj


def _kind_cost(kind: str, profile: Profile) -> VectorKindCost:
    if kind == "softmax":
        return VectorKindCost(passes=profile.softmax_passes, inputs=1, l2_reads=profile.softmax_l2_reads, lut_reads=profile.softmax_lut_reads)
    return profile.vector[kind]


def _vector_compute(kind: str, numel: Arr, row: Arr, lanes: Arr, prof: Profile) -> Arr:
    per_pass = _ceil_div(numel, lanes)
    passes = _kind_cost(kind, prof).passes
    if kind == "softmax":
        return _ceil_div(numel, row) * _ceil_div(row, lanes) + prof.softmax_fixed_cycles + passes * per_pass
    return passes * per_pass


def vector_cycles(kind: str, elements: Any, row: Any, lanes: Any, profile: "str | Profile" = "reference") -> np.ndarray:
    """Compute cycles of a vector op on `lanes` SIMD lanes (REFERENCE 1.3 table, passes from the profile)."""
    from .energy import load_profile

    numel, row, lanes = (np.asarray(a, np.float64) for a in (elements, row, lanes))
    return _vector_compute(kind, numel, row, lanes, load_profile(profile))


def _vector(op: VectorOp, ctx: MapContext, detail: bool) -> VectorMapping:
    prof, e = ctx.profile, ctx.energies
    cost = _kind_cost(op.kind, prof)
    n = max(ctx.n, 1)
    numel = op.elements.astype(np.float64)
    compute = _vector_compute(op.kind, numel, op.row.astype(np.float64), ctx.lanes, prof)
    # Every element is read l2_reads times and written once through the L2 ports of all clusters.
    port = numel * max(cost.l2_reads, 1)
    moved = numel * (cost.l2_reads + 1)
    l2_cyc = port / ctx.l2_port_total
    cycles = np.maximum(compute, l2_cyc)
    # The working set streams from the GLB when it exceeds the L2s, from DRAM when it exceeds
    # the GLB (checked on the largest tensor first: most workloads never spill).
    glb_words: np.ndarray | float = 0.0
    dram_words: np.ndarray | float = 0.0
    glb_cyc: np.ndarray | float = 0.0
    dram_cyc: np.ndarray | float = 0.0
    footprint_max = float(numel.max()) * (cost.inputs + 1)
    if footprint_max > ctx.min_l2_words_total:
        spill_l2 = numel * (cost.inputs + 1) > ctx.l2_words_total
        glb_words = moved * spill_l2
        glb_cyc = port * spill_l2 / ctx.glb_bw
        cycles = np.maximum(cycles, glb_cyc)
    if footprint_max > ctx.min_glb_words:
        spill_glb = numel * (cost.inputs + 1) > ctx.glb_words
        dram_words = moved * spill_glb
        dram_cyc = dram_words / ctx.dram_bw
        cycles = np.maximum(cycles, dram_cyc)
        glb_words = glb_words + dram_words  # the GLB side of every DRAM transfer
    vector_pj = ctx.lanes_mac_pj * compute
    if cost.lut_reads:
        vector_pj += numel * (cost.lut_reads * e.lut_pj)
    info = None
    if detail:
        terms = np.stack(np.broadcast_arrays(compute, l2_cyc, glb_cyc, dram_cyc))
        info = {
            "compute_cycles": _full(compute, n),
            "l2_cycles": _full(l2_cyc, n),
            "glb_cycles": _full(glb_cyc, n),
            "dram_cycles": _full(dram_cyc, n),
            "bound": _full(np.argmax(terms, axis=0), n),
            # Busy lane-cycles (passes per element) over available lane-cycles.
            "utilisation": _full(numel * cost.passes / (cycles * ctx.lanes), n),
            "lanes": _full(ctx.lanes, n),
        }
    return VectorMapping(
        cycles=_full(cycles, n),
        vector_pj=_full(vector_pj, n),
        l2_pj=_full(moved * e.l2_pj, n),
        glb_pj=_full(glb_words * e.glb_pj, n) if np.ndim(glb_words) else 0.0,
        dram_pj=_full(dram_words * e.dram_pj, n) if np.ndim(dram_words) else 0.0,
        detail=info,
    )


def map_vector(op: VectorOp, hw: HardwareBatch, profile: "str | Profile" = "reference", detail: bool = True) -> VectorMapping:
    """Cost one vector op on every design of `hw`."""
    ctx = _context_for(hw, profile, max(a.size for a in (op.elements, op.row)))
    return _vector(op, ctx, detail)
