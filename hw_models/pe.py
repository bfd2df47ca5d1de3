"""PE-array level: cycles and L2 <-> array traffic of one GEMM on one R x C array, register tiling included."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .errors import HardwareError
from .grouping import ceil_div, codes_any, combine, dense, pick_rows, representatives

__all__ = [
    "DATAFLOWS",
    "ORIENTATIONS",
    "REGISTER_AXES",
    "PeLevel",
    "pe_level",
    "gemm_cycles",
    "scalesim_ws_cycles",
    "pe_traffic",
]

# PE-array dataflows (SCALE-Sim names): which operand stays in the PE registers.
DATAFLOWS: tuple[str, ...] = ("ws", "os", "is")
# Which physical array dimension holds the "rows" of the SCALE-Sim formula.
ORIENTATIONS: tuple[str, ...] = ("depth_rows", "width_rows")
# Along which array dimension extra register words extend the stationary tile.
REGISTER_AXES: tuple[str, ...] = ("cols", "rows")

# (rows, columns, time) of the array per dataflow, as indices into (M, K, N):
# WS keeps B (K x N) in the PEs and streams M; OS keeps C (M x N) and streams K; IS keeps A^T (K x M) and streams N.
_ROLES: dict[str, tuple[int, int, int]] = {"ws": (1, 2, 0), "os": (0, 2, 1), "is": (1, 0, 2)}
# The six candidates, dataflow-major (ws, os, is) x (depth_rows, width_rows): which of (M, K, N)
# lies along the array rows, columns and time, and which array side (0 = pe_depth, 1 = pe_width)
# holds the rows and the columns.
_C_ROW = np.array([1, 1, 0, 0, 1, 1])
_C_COL = np.array([2, 2, 2, 2, 0, 0])
_C_TIME = np.array([0, 0, 1, 1, 2, 2])
_C_ROWSIDE = np.array([0, 1, 0, 1, 0, 1])
_C_COLSIDE = 1 - _C_ROWSIDE
_C_IS_OS = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 0.0])[:, None]  # output-stationary candidates
_C_IS_WS = np.array([True, True, False, False, False, False])[:, None]  # the stationary operand is the weights
_PIPELINE_FILL = 2.0  # the "2R" of SCALE-Sim's fold cycles: R to load a tile, R to ripple through
_PIPELINE_OFFSET = 2.0  # the "- 2" of SCALE-Sim's fold cycles 2R + C + T - 2
# l2_link codes (config.L2_LINKS order)
LINK_SHARED, LINK_READ_WRITE, LINK_PER_OPERAND = 0, 1, 2

Arr = np.ndarray


def _tile(
    sr: Arr, sc: Arr, t: Arr, rows: Arr, cols: Arr, p: float, axis_rows: bool, latch: Any, fill: float, os: Any,
    cache: dict | None = None, words: Arr | None = None,
) -> tuple[Arr, ...]:
    """One register tiling of one candidate: (compute, stationary reads, row-edge reads, column reads, writes).

    The stationary tile S_r x S_c is cut into groups of at most p folds along `axis_rows` (False:
    columns, True: rows); a group's share of that dimension is spread over q = min(p, share)
    register words per PE and ceil(share / q) array columns (rows), balanced. A group
    of q folds streams q*T words per edge and costs q*(r + T) + r + c - 2 cycles with fill/drain
    (q = 1: SCALE-Sim's 2r + c + T - 2), q*T without (fill = 0).

    Double-buffered stationary operand: where the register has room for the next group's q words
    beside the current group's (2q <= `words`; None: no spare word anywhere), the next group shifts in while the current one
    streams (the TPU's weight double-buffering), so only the first load is exposed (a load longer
    than the stream, r > T, stalls by the difference); each group keeps its ripple and drain
    r + c - 2. A one-word register gets SCALE-Sim's per-fold fill and drain.

    Reuse: along columns, the word streamed in at a row edge (A for WS and OS, B for IS) meets
    the PE's q words one after another; with `latch` it is read from L2 once per group, else once
    per word. Along rows, the word that flows down a column (the partial sum for WS / IS, B for
    OS) stays in the PE for q words with `latch`, else it leaves after each.
    """
    key = (axis_rows, sr.shape)
    hit = cache.get(key) if cache is not None else None
    if hit is None:
        # What does not depend on p: the other dimension's folds, the stationary tile.
        t_sc = t * sc
        stationary = sr * sc
        st_reads = stationary * (1.0 - os)
        if axis_rows:
            fc = ceil_div(sc, cols)
            c = ceil_div(sc, fc)
            # compute = groups * fc * (q*(fill*r + T) + fill*r + fill*(c - 2))
            hit = (t_sc, stationary, st_reads, fc, fill * (c - _PIPELINE_OFFSET), t * sr * fc, sr / rows)
        else:
            fr = ceil_div(sr, rows)
            r = ceil_div(sr, fr)
            flow = t_sc * fr
            # compute = fr * groups * (q*(fill*r + T) + fill*c + fill*(r - 2))
            hit = (t_sc, stationary, st_reads, fr, fill * r + t, fill * (r - _PIPELINE_OFFSET), t * sr,
                   flow - t_sc * (1.0 - os), flow + (stationary - flow) * os, sc / cols)
        if cache is not None:
            cache[key] = hit
    t_sc, stationary, st_reads = hit[:3]
    # Tilings p along axis 0 (p of shape (P, 1, 1)): the leading ones with 2p <= every register
    # have a spare word everywhere (q <= p), so their spare test is skipped.
    lead = 0
    if words is not None and np.ndim(p):
        flat_p, least = np.ravel(p), float(words.min())
        while lead < flat_p.size and 2.0 * flat_p[lead] <= least:
            lead += 1
    if axis_rows:
        fc, fixed, row_reads, folds = hit[3:7]
        groups = ceil_div(folds, p)
        rg = ceil_div(sr, groups)
        q = np.minimum(p, rg)
        r = ceil_div(rg, q)
        fr_ = r if fill == 1.0 else fill * r
        compute = _fold_cycles(groups * fc, q, fr_, t, fr_ + fixed, words, lead)
        # WS / IS: partial sums leave once per group (latched) or per word and are read back for
        # every one after the first. OS: B streams down the columns as often; outputs leave once.
        flow = t_sc * groups if latch is True else t_sc * groups * np.where(latch, 1.0, q)
        col_reads = flow - t_sc * (1.0 - os)
        writes = flow + (stationary - flow) * os
    else:
        fr, per_word, fixed, t_sr, col_reads, writes, folds = hit[3:10]
        groups = ceil_div(folds, p)
        cg = ceil_div(sc, groups)
        q = np.minimum(p, cg)
        c = ceil_div(cg, q)
        compute = _fold_cycles(fr * groups, q, per_word - t, t, (c if fill == 1.0 else fill * c) + fixed, words, lead)
        row_reads = t_sr * groups if latch is True else t_sr * groups * np.where(latch, 1.0, q)
    return compute, st_reads, row_reads, col_reads, writes, q


def _fold_cycles(g: Arr, q: Arr, load: Arr, t: Arr, skew: Arr, words: Arr | None, lead: int = 0) -> Arr:
    """Cycles of g groups of q register words each: a load of `load` and a stream of t per word, `skew` per group.

    Without a spare register (2q > words) every group loads, streams and drains in turn:
    g * (q*(load + t) + skew). With one, the next group's words shift into the spare ones while
    the current group streams (double-buffered), so only the first load is exposed and a later
    one only where it outlasts the stream: q*(load + t) + (g - 1)*q*max(t, load) + g*skew, never
    more. The skew (ripple and drain) stays per group: the new words take over once the last
    input of the current group has passed every PE (one swap for the whole array).
    The first `lead` entries along axis 0 (all arrays then of the full shape) are known to have
    a spare word.
    """
    if words is None:
        return g * (q * (load + t) + skew)
    first = q * (load + t)
    # In place, in the order of (g - 1.0) * q * np.maximum(t, load) + first + g * skew.
    piped = g - 1.0
    piped *= q
    piped *= np.maximum(t, load)
    piped += first
    piped += g * skew
    out = piped
    if lead:
        q, g, skew, first, out = q[lead:], g[lead:], skew[lead:], first[lead:], piped[lead:]
    no_spare = 2.0 * q > words
    if not no_spare.any():
        return piped
    first += skew
    first *= g
    np.copyto(out, first, where=no_spare)
    return piped


def _spare(words: Any) -> Arr | None:
    """The register words, or None where no register has a spare word (no double buffering anywhere)."""
    words = np.asarray(words)
    return None if np.all(words < 2.0) else words


def _link_words(st: Arr, row: Arr, col: Arr, writes: Arr, link: Any, links: frozenset, reads: Arr | None = None) -> Arr:
    """Words the narrowest L2 port must carry, per l2_link (codes as in config.L2_LINKS)."""
    if reads is None:
        reads = st + row + col
    if len(links) == 1:
        (only,) = links
        if only == LINK_READ_WRITE:
            return np.maximum(reads, writes)
        if only == LINK_SHARED:
            return reads + writes
        return np.maximum(np.maximum(st, row), np.maximum(col, writes))
    out = np.maximum(reads, writes)
    if LINK_SHARED in links:
        out = np.where(link == LINK_SHARED, reads + writes, out)
    if LINK_PER_OPERAND in links:
        out = np.where(link == LINK_PER_OPERAND, np.maximum(np.maximum(st, row), np.maximum(col, writes)), out)
    return out


class PeLevel:
    """Best PE-level candidate per problem: roofline cycles, L2 reads and writes and, with detail, the choice."""

    __slots__ = ("cycles", "reads", "writes", "detail")

    def __init__(self, cycles: Arr, reads: Arr, writes: Arr, detail: dict[str, Arr] | None) -> None:
        self.cycles, self.reads, self.writes, self.detail = cycles, reads, writes, detail


def pe_level(
    dims: Arr,
    D: Arr,
    W: Arr,
    l2bw: Arr,
    reg_words: Arr,
    stationary_ok: Arr,
    latch: Arr,
    link: Arr,
    *,
    links: frozenset = frozenset({LINK_READ_WRITE}),
    fill: float = 1.0,
    allowed: Arr | None = None,
    detail: bool = False,
    codes: tuple[Arr, int, Arr, int] | None = None,
) -> PeLevel:
    """The one PE model: the best (dataflow, orientation, register tiling) per problem (M, K, N) = dims (3, V).

    Per-problem hardware: array depth D and width W, L2 port l2bw, register words, whether any
    stationary operand may use them (else the register holds weights only, and only the two WS
    candidates are legal: an OS or IS candidate has nowhere to keep its stationary operand), edge
    latch and l2_link codes.
    Register tilings tried: q <= p words for p = 1, 2, 4, ... <= the register's words, along
    either array dimension; more register words only add candidates, so latency never rises.
    Among equally fast candidates the one with the fewest L2 accesses wins, then the earlier
    candidate (dataflow-major, then one word, (2, columns), (2, rows), (4, columns), ...).

    Every candidate's cycles and traffic depend on the problem and the array but not on the L2
    port, which only enters the final max(compute, words / l2bw): the candidates are built once
    per distinct problem without the port and then chosen for each port width present.
    `codes` (from port_codes) may be given by a caller that already has them.
    """
    hw = (D, W, reg_words, stationary_ok, latch, link)
    opts = (links, fill, allowed, detail)
    v = dims.shape[1]
    if v <= _MIN_SPLIT or np.ndim(l2bw) != 1:
        codes = None
    elif codes is None:
        codes = port_codes(dims, hw, l2bw)
    if codes is None or codes[1] == v:
        return _pick(_candidates(dims, hw, opts, l2bw), l2bw, detail)
    u_codes, count, b_codes, n_ports = codes
    u_codes = np.broadcast_to(u_codes, (v,))
    b_codes = np.broadcast_to(b_codes, (v,))
    rep = representatives(u_codes, count)
    u_dims, u_hw = dims.take(rep, axis=1), tuple(np.take(a, rep) for a in hw)
    cand = _candidates(u_dims, u_hw, opts, None)
    flat = b_codes * count + u_codes
    seen = np.zeros(count * n_ports, bool)
    seen[flat] = True
    n_pairs = int(np.count_nonzero(seen))
    if count * n_ports <= _MAX_SPLIT_WASTE * n_pairs:
        # Every (problem, port) pair (nearly) occurs: choose for each port on all problems.
        ports = l2bw.take(representatives(b_codes, n_ports))
        res = _concat([_pick(cand, ports[:, None, None], detail)], flat)
    else:
        pairs = representatives(flat, count * n_ports)[seen]  # a row of each (problem, port) pair
        slot = np.cumsum(seen) - 1
        bw = l2bw.take(pairs)
        res = _concat([_pick(cand.columns(u_codes.take(pairs)), bw, detail)], slot.take(flat))
    small = cand.small.any(axis=0).take(u_codes)
    if np.any(small):
        # Tiny folds: a shorter fold height may win, judged against the problem's own port; once
        # per (problem, port) pair, whose codes name everything the refold reads.
        idx = np.nonzero(small)[0]
        pair_codes, n_small = dense(flat.take(idx))
        if n_small < idx.size:
            rows = idx.take(representatives(pair_codes, n_small))
        else:
            rows, pair_codes = idx, None
        bw = l2bw.take(rows)
        refolded = cand.refold(u_codes.take(rows), u_dims, u_hw, opts[0], bw)
        if refolded is not None:
            # Only the pairs whose one-word candidates changed are chosen again.
            changed, sub_cand = refolded
            sub = _pick(sub_cand, bw.take(changed), detail)
            slot = np.full(rows.size, -1)
            slot[changed] = np.arange(changed.size)
            slot = slot if pair_codes is None else slot.take(pair_codes)
            hit = slot >= 0
            idx, slot = idx[hit], slot[hit]
            for dst, src in zip((res.cycles, res.reads, res.writes), (sub.cycles, sub.reads, sub.writes)):
                dst[idx] = src.take(slot)
            if detail:
                for key, val in sub.detail.items():
                    res.detail[key][idx] = val.take(slot)
    return res


# Fewer problems than this are costed as they come (the deduplication would cost more than it saves).
_MIN_SPLIT = 64
# Choose per port on every (problem, port) pair while at most this share of the pairs is unused.
_MAX_SPLIT_WASTE = 1.5


def port_codes(dims: Arr, hw: tuple[Arr, ...], l2bw: Arr) -> tuple[Arr, int, Arr, int]:
    """Dense codes of the problems without the L2 port (dims and D, W, register, latch, link) and of the port."""
    v = dims.shape[1]
    bw_int = l2bw.astype(np.int64)
    b_codes, n_ports = dense(bw_int) if np.array_equal(bw_int, l2bw) else codes_any(l2bw)
    u_codes, count = combine([dense(a.astype(np.int64)) for a in (*dims, *hw)], v)
    u_codes, count = dense(np.broadcast_to(u_codes, (v,)))
    return u_codes, count, b_codes, n_ports


def _concat(results: list[PeLevel], index: Arr) -> PeLevel:
    """Rows `index` of the results laid end to end."""
    if len(results) > 1:
        back = lambda *vs: np.concatenate(vs).take(index)  # noqa: E731
    else:
        back = lambda v: v.take(index)  # noqa: E731
    return PeLevel(
        back(*(r.cycles for r in results)), back(*(r.reads for r in results)), back(*(r.writes for r in results)),
        {key: back(*(r.detail[key] for r in results)) for key in results[0].detail} if results[0].detail else None,
    )


class _Candidates:
    """Every candidate of R problems as (C, R) arrays in tie-break order (compute = inf where illegal)."""

    __slots__ = ("compute", "lw", "acc", "reads", "writes", "q", "axis", "choice", "small", "one_word", "one_compute")

    def __init__(self, compute: Arr, lw: Arr, reads: Arr, writes: Arr, q: Arr | None, axis: Arr, choice: Arr, small: Arr,
                 one_word: Arr, one_compute: Arr) -> None:
        self.compute, self.lw, self.reads, self.writes = compute, lw, reads, writes
        self.acc = reads + writes
        self.q, self.axis, self.choice = q, axis, choice
        self.one_word = one_word  # row of each of the six one-word candidates (-1: left out)
        # Per kept one-word candidate (the first K of the six, in order) and problem: its compute
        # (finite also where illegal) and whether its folds are tiny and not yet tried shorter.
        self.one_compute, self.small = one_compute, small

    def columns(self, idx: Arr) -> "_Candidates":
        q = None if self.q is None else self.q.take(idx, axis=1)
        return _Candidates(self.compute.take(idx, axis=1), self.lw.take(idx, axis=1), self.reads.take(idx, axis=1),
                           self.writes.take(idx, axis=1), q, self.axis, self.choice, self.small.take(idx, axis=1), self.one_word,
                           self.one_compute.take(idx, axis=1))

    def refold(self, problems: Arr, dims: Arr, hw: tuple[Arr, ...], links: frozenset, l2bw: Arr) -> tuple[Arr, "_Candidates"] | None:
        """The (problem, port) pairs whose tiny one-word folds run faster shorter against their port, with those candidates.

        Pair i is column problems[i] (of dims and hw) under port l2bw[i]. Returns the indices of
        the pairs where a shorter height wins and their columns with it, or None where none gains:
        every other pair keeps the choice the caller already made on these candidates.
        """
        cand, pair = np.nonzero(self.small.take(problems, axis=1))
        if not pair.size:
            return None
        prob = problems.take(pair)
        row = self.one_word.take(cand)
        sides = np.stack(hw[:2])
        side = _C_ROWSIDE.take(cand)
        f64 = lambda a: np.asarray(a, np.float64)  # noqa: E731
        geometry = (*(f64(dims[c.take(cand), prob]) for c in (_C_ROW, _C_COL, _C_TIME)), f64(sides[side, prob]),
                    f64(sides[1 - side, prob]), _C_IS_OS[:, 0].take(cand), f64(np.take(hw[5], prob)), f64(hw[2].take(prob)))
        # The full height (j = 0) as the main pass costed it, with its compute from before illegal
        # candidates were set to inf: the heights are judged on the candidate's own cycles.
        full = (self.one_compute[cand, prob], self.lw[row, prob], self.acc[row, prob])
        shorter = _shorter_folds(geometry, full, links, f64(l2bw.take(pair)))
        if shorter is None:
            return None
        win, fields = shorter
        changed, pos = np.unique(pair.take(win), return_inverse=True)
        sub = self.columns(problems.take(changed))
        row = row.take(win)
        compute = fields[0]
        compute[np.isinf(sub.compute[row, pos])] = np.inf
        for dst, src in zip((sub.compute, sub.lw, sub.reads, sub.writes, sub.acc), (compute, *fields[1:])):
            dst[row, pos] = src
        return changed, sub


def _geometry(dims: Arr, hw: tuple[Arr, ...], count: int = 6) -> tuple[Any, ...]:
    """Per candidate (count of the six, R): stationary rows and columns, time, array rows and columns; latch and link codes."""
    D, W, _, _, latch, link = hw
    arr = np.stack([D, W])  # (2 array sides, R)
    # A uniform latch setting is a scalar: np.where on it is then free.
    latch_arr = np.asarray(latch)
    if latch_arr.size and np.all(latch_arr == latch_arr.flat[0]):
        latch6 = bool(latch_arr.flat[0])
    else:
        latch6 = latch_arr[None, :] if latch_arr.ndim else latch
    link6 = link[None, :] if np.ndim(link) else link
    return (dims[_C_ROW[:count]], dims[_C_COL[:count]], dims[_C_TIME[:count]], arr[_C_ROWSIDE[:count]], arr[_C_COLSIDE[:count]],
            latch6, link6)


def _tiny(sc: Arr, sr: Arr, t: Arr, rows: Arr, cols: Arr, fill: float, words: Arr | None) -> Arr:
    """Candidates whose folds are so short that a shorter fold height may beat the full one.

    One-word register (serial folds, cost f*(2r + c + T - 2) over f row folds of r rows): the
    full height is provably best when c + T - 2 >= 2 (docs/hardware-model.md 4). Double-buffered
    (a spare register word): the next fold's load of r cycles hides under the stream, and the
    full height is provably best when T >= r + 2 - c with T >= r, or, with T <= r, when c >= 4,
    or c >= 2 and one row fold (docs/hardware-model.md 4, *Rows R, double-buffered*).
    """
    c1 = ceil_div(sc, ceil_div(sc, cols))
    tiny = c1 + t - _PIPELINE_OFFSET < _PIPELINE_FILL
    if words is not None:
        f1 = ceil_div(sr, rows)
        r1 = ceil_div(sr, f1)
        best_full = ((t >= r1) & (t + c1 - _PIPELINE_OFFSET >= r1)) | ((t <= r1) & ((c1 >= 4.0) | ((f1 == 1.0) & (c1 >= 2.0))))
        tiny = np.where(words >= 2.0, ~best_full, tiny)
    return tiny & (rows > 1.0) & (fill > 0)


def _one_word(sr: Arr, sc: Arr, t: Arr, rows: Arr, cols: Arr, latch6: Any, link6: Any, links: frozenset, fill: float,
              l2bw: Arr | None, cache: dict | None, words: Arr | None) -> tuple[Arr, ...]:
    """The six one-word candidates: (compute, L2 link words, reads, writes, q).

    Tiny folds may run faster at a shorter height; with l2bw, those are tried against that port.
    """
    os = _C_IS_OS
    compute, st, row, col, wr, q = _tile(sr, sc, t, rows, cols, 1.0, False, latch6, fill, os, cache, words)
    reads = st + row + col
    lw = _link_words(st, row, col, wr, link6, links, reads)
    small = _tiny(sc, sr, t, rows, cols, fill, words) if l2bw is not None else None
    if small is not None and np.any(small):
        idx = np.nonzero(small)
        b = lambda a: np.broadcast_to(np.asarray(a, np.float64), small.shape)[idx]  # noqa: E731
        shorter = _shorter_folds(tuple(b(a) for a in (sr, sc, t, rows, cols, os, link6, 1.0 if words is None else words)),
                                 tuple(b(a) for a in (compute, lw, reads + wr)), links, b(l2bw))
        if shorter is not None:
            win, fields = shorter
            at = (idx[0].take(win), idx[1].take(win))
            compute, lw, reads, wr = (np.array(np.broadcast_to(a, small.shape), dtype=np.float64) for a in (compute, lw, reads, wr))
            for dst, src in zip((compute, lw, reads, wr), fields):
                dst[at] = src
    return compute, lw, reads, wr, q


def _candidates(dims: Arr, hw: tuple[Arr, ...], opts: tuple[Any, ...], l2bw: Arr | None) -> _Candidates:
    """All (candidate, register tiling) pairs of the R problems; with l2bw, tiny folds are also tried shorter."""
    reg_words, stationary_ok = hw[2], hw[3]
    words = _spare(reg_words)
    links, fill, allowed, detail = opts
    os = _C_IS_OS
    n = dims.shape[1]
    # Every power of two up to the largest register in the batch, on both axes (per problem the
    # candidate set depends only on its own register size, never on the rest of the batch).
    max_words = float(np.max(reg_words)) if np.size(reg_words) else 1.0
    powers = []
    p = 2.0
    while p <= max_words:
        powers.append(p)
        p *= 2.0
    n_p = len(powers)
    # With weights-only registers everywhere, only the two WS candidates can use more words.
    any_stationary = bool(np.any(stationary_ok))
    s = 6 if any_stationary else 2
    cache: dict = {}
    # Legal: a weights-only register allows only WS; p words need a register of p words.
    legal0 = np.ones((6, n), bool) if bool(np.all(stationary_ok)) else (_C_IS_WS | stationary_ok[None, :])
    if allowed is not None:
        legal0 = legal0 & np.asarray(allowed).reshape(6)[:, None]
    # Without any stationary register, the one-word OS and IS candidates are illegal everywhere:
    # they are left out while every problem has a legal WS candidate.
    tail = 0 if s == 6 or bool(legal0[:2].any(axis=0).all()) else 6 - s
    # The geometry of the first s candidates serves unless all six one-word candidates are costed.
    sr, sc, t, rows, cols, latch6, link6 = _geometry(dims, hw, 6 if tail or l2bw is not None else s)
    # Layout, in tie-break order: per candidate c < s, [one word, (2, cols), (2, rows), (4, cols), ...],
    # then the one-word candidates c >= s (if kept).
    k = 1 + 2 * n_p
    total = s * k + tail
    names = ("compute", "lw", "reads", "writes", "q") if detail else ("compute", "lw", "reads", "writes")
    out = {f: np.empty((total, n)) for f in names}
    head = {f: out[f][: s * k].reshape(s, k, n) for f in names}
    legal = np.empty((total, n), bool)
    lhead = legal[: s * k].reshape(s, k, n)
    lhead[:, 0] = legal0[:s]
    if tail:
        legal[s * k :] = legal0[s:]
    # Tiny folds of the kept one-word candidates (the first s, or all six with the tail).
    kept = s + tail
    small = _tiny(sc[:kept], sr[:kept], t[:kept], rows[:kept], cols[:kept], fill, words)
    # One word is the p = 1 of the column tilings (q = 1 along either axis), unless tiny folds
    # are to be tried shorter or the one-word OS and IS candidates are kept beside the WS ones.
    one_in_block = not tail and not (l2bw is not None and bool(small.any()))
    if not one_in_block:
        compute, lw, reads, wr, q = _one_word(sr, sc, t, rows, cols, latch6, link6, links, fill, l2bw, cache, words)
        if l2bw is not None:
            small = np.zeros(small.shape, bool)  # tried shorter against the port already
        for f, v in zip(("compute", "lw", "reads", "writes", "q"), (compute, lw, reads, wr, q)):
            if f in out:
                head[f][:, 0] = v[:s]
                if tail:
                    out[f][s * k :] = v[s:]
        if s < 6:
            # The one-word pass already holds what does not depend on p, for all six candidates.
            hit = cache.get((False, sr.shape))
            if hit is not None:
                cache[(False, (s, n))] = tuple(h[:s] for h in hit)
    args = (sr[:s], sc[:s], t[:s], rows[:s], cols[:s])
    if n_p:
        pa = np.array(powers)[:, None, None]  # (P, 1, 1)
        lhead[:, 1:] = (legal0[:s, None, :] & (pa[:, 0] <= reg_words)[None]).repeat(2, axis=1)
    for axis_rows in (False, True):
        if axis_rows and not n_p:
            break
        first = one_in_block and not axis_rows
        pa_here = np.array(([1.0] if first else []) + powers)[:, None, None]
        if not pa_here.size:
            continue
        compute, st, row, col, wr, q = _tile(*args, pa_here, axis_rows, latch6, fill, os[:s], cache, words)
        reads = st + row + col
        values = (compute, _link_words(st, row, col, wr, link6, links, reads), reads, wr, q)
        shape = (pa_here.shape[0], s, n)
        for f, v in zip(("compute", "lw", "reads", "writes", "q"), values):
            if f not in out:
                continue
            v = np.broadcast_to(v, shape).transpose(1, 0, 2)  # (s, p, R)
            if first:
                head[f][:, 0] = v[:, 0]
                v = v[:, 1:]
            if n_p:
                head[f][:, 1 + axis_rows :: 2] = v
    axis, choice, one_word = _layout(s, k, tail)
    compute = out["compute"]
    one_compute = compute.take(one_word[one_word >= 0], axis=0)
    illegal = ~legal
    if illegal.any():
        compute[illegal] = np.inf
    return _Candidates(compute, out["lw"], out["reads"], out["writes"], out.get("q"), axis, choice, small, one_word, one_compute)


@functools.lru_cache(maxsize=None)
def _layout(s: int, k: int, tail: int) -> tuple[Arr, Arr, Arr]:
    """Per candidate row: register axis and dataflow choice; the row of each one-word candidate (read-only, shared)."""
    total = s * k + tail
    axis = np.zeros((total,))
    axis[: s * k].reshape(s, k)[:, 2::2] = 1.0
    choice = np.concatenate([np.repeat(np.arange(s, dtype=np.float64), k), np.arange(s, 6, dtype=np.float64)[:tail]])
    one_word = np.concatenate([np.arange(s) * k, s * k + np.arange(6 - s) if tail else np.full(6 - s, -1)])
    for a in (axis, choice, one_word):
        a.flags.writeable = False
    return axis, choice, one_word


def _pick(cand: _Candidates, l2bw: Any, detail: bool) -> PeLevel:
    """The best candidate per problem for L2 port(s) l2bw: fewest cycles, then fewest L2 accesses, then the earliest.

    l2bw of shape (ports, 1, 1) chooses for every port at once (results port-major, ports x R).
    """
    # max(compute, lw / l2bw): (C, R), or (ports, C, R) for an array of ports. Its buffer is then
    # reused for the accesses of the fastest candidates (inf elsewhere): fresh large temporaries
    # and np.where cost about twice as much here.
    value = cand.lw / l2bw
    np.maximum(value, cand.compute, out=value)
    vmin = value.min(axis=-2)
    fastest = value == vmin[..., None, :]
    masked = value
    masked.fill(np.inf)
    np.copyto(masked, cand.acc, where=fastest)
    # The first minimum along the candidates: a min and a first-true argmax on the booleans is
    # about 1.6x faster than argmin along a non-last axis, same index (NaN never occurs here).
    pick = np.equal(masked, masked.min(axis=-2)[..., None, :], out=fastest).argmax(axis=-2)
    if pick.ndim == 1:
        flat = pick_rows(pick)
    else:  # port-major: problem j under port b takes row pick[b, j] of the (C, R) arrays
        flat = (pick * pick.shape[-1] + np.arange(pick.shape[-1])).reshape(-1)
        vmin, pick = vmin.reshape(-1), pick.reshape(-1)
    take = lambda v: v.reshape(-1).take(flat)  # noqa: E731
    info = None
    if detail:
        info = {
            "compute_cycles": take(cand.compute),
            "l2_pe_reads": take(cand.reads),
            "l2_pe_writes": take(cand.writes),
            "pe_choice": cand.choice.take(pick),
            "register_words_used": take(cand.q),
            "register_axis": cand.axis.take(pick),
            "l2_link_words": take(cand.lw),
        }
    return PeLevel(vmin, take(cand.reads), take(cand.writes), info)


def _shorter_folds(geometry: tuple[Arr, ...], full: tuple[Arr, ...], links: frozenset, l2bw: Arr) -> tuple[Arr, list[Arr]] | None:
    """The best height rows // 2^j of one-word candidates with tiny folds against port l2bw, where it is shorter than the full one.

    Per candidate of interest (1-D arrays): `geometry` holds its (stationary rows and columns,
    time, array rows and columns, output-stationary, link code, register words) and `full` the
    full height's (compute, L2 link words, L2 accesses). Returns the indices where a shorter
    height wins and its (compute, link words, reads, writes, accesses) there; None where none does.
    With c + T - 2 >= 2 the full height is provably best (docs/hardware-model.md 4); below that
    (tiny GEMMs) a shorter fold can beat it. The height set for 2R contains the one for R.
    """
    s_sr, s_sc, s_t, s_rows, s_cols, s_os, s_link, s_words = geometry
    # All heights rows // 2^j at once (j = 0 is the full height); the first of the fastest, then
    # fewest-access heights wins, as in a pass from j = 0 up that keeps strict improvements.
    top = float(s_rows.max())
    j_max = 0
    while np.floor(top / 2.0 ** (j_max + 1)) >= 1:
        j_max += 1
    height = np.floor(s_rows / 2.0 ** np.arange(1, j_max + 1)[:, None])  # (J, m)
    compute, st, row, col, wr = _tile(s_sr, s_sc, s_t, np.maximum(height, 1.0), s_cols, 1.0, False, True, 1.0, s_os, words=_spare(s_words))[:5]
    reads = st + row + col
    new = [np.broadcast_to(a, height.shape) for a in (compute, _link_words(st, row, col, wr, s_link, links, reads), reads, wr, reads + wr)]
    f_compute, f_lw, f_acc = full
    v = np.concatenate([np.maximum(f_compute, f_lw / l2bw)[None], np.maximum(new[0], new[1] / l2bw)])
    v[1:][height < 1] = np.inf
    acc = np.concatenate([f_acc[None], new[4]])
    best = np.where(v == v.min(axis=0), acc, np.inf).argmin(axis=0)
    win = np.flatnonzero(best)
    if not win.size:
        return None
    return win, [a[best.take(win) - 1, win] for a in new]


def _roles(m: Any, k: Any, n: Any, dataflow: str) -> tuple[Arr, Arr, Arr]:
    if dataflow not in _ROLES:
        raise HardwareError(f"dataflow: {dataflow!r} is not allowed; allowed: {', '.join(DATAFLOWS)}")
    dims = (np.asarray(m, np.float64), np.asarray(k, np.float64), np.asarray(n, np.float64))
    i, j, t = _ROLES[dataflow]
    return dims[i], dims[j], dims[t]


def check_dims(**dims: Any) -> None:
    for name, value in dims.items():
        arr = np.asarray(value)
        if np.any(arr < 1):
            raise HardwareError(f"gemm.{name}: {arr[arr < 1].ravel()[0].item()!r} is not allowed; must be >= 1")


def scalesim_ws_cycles(m: Any, k: Any, n: Any, rows: Any, cols: Any) -> np.ndarray:
    """SCALE-Sim weight-stationary compute cycles: ceil(K/R) * ceil(N/C) * (2R + C + M - 2)."""
    check_dims(m=m, k=k, n=n, rows=rows, cols=cols)
    m, k, n, rows, cols = (np.asarray(a, np.int64) for a in (m, k, n, rows, cols))
    fill, offset = int(_PIPELINE_FILL), int(_PIPELINE_OFFSET)
    return -(-k // rows) * -(-n // cols) * (fill * rows + cols + m - offset)


def _one_array(m: Any, k: Any, n: Any, rows: Any, cols: Any, dataflow: str) -> PeLevel:
    """pe_level for one dataflow on a rows x cols array with one register word and unlimited bandwidth."""
    check_dims(m=m, k=k, n=n, rows=rows, cols=cols)
    if dataflow not in _ROLES:
        raise HardwareError(f"dataflow: {dataflow!r} is not allowed; allowed: {', '.join(DATAFLOWS)}")
    shape = np.broadcast_shapes(*(np.shape(a) for a in (m, k, n, rows, cols)))
    flat = [np.broadcast_to(np.asarray(a, np.float64), shape).reshape(-1) for a in (m, k, n, rows, cols)]
    v = flat[0].size
    allowed = np.array([[df == dataflow and o == "depth_rows" for o in ORIENTATIONS] for df in DATAFLOWS])
    res = pe_level(
        np.stack(flat[:3]), flat[3], flat[4], np.full(v, np.inf), np.ones(v), np.ones(v, bool), np.ones(v, bool),
        np.full(v, LINK_READ_WRITE), allowed=allowed, detail=True,
    )
    res.detail = {key: val.reshape(shape) for key, val in res.detail.items()}
    return res


def gemm_cycles(m: Any, k: Any, n: Any, rows: Any, cols: Any, dataflow: str = "ws", balanced: bool = True) -> np.ndarray:
    """Compute cycles of (M x K).(K x N) on one rows x cols array, one register word, unlimited bandwidth.

    balanced=False is SCALE-Sim's form (full R and C per fold); balanced=True is the mapper's
    (with f folds, ceil(dim/f) rows or columns per fold, and the best power-of-two height).
    """
    check_dims(m=m, k=k, n=n, rows=rows, cols=cols)
    sr, sc, t = _roles(m, k, n, dataflow)
    rows, cols = np.asarray(rows, np.float64), np.asarray(cols, np.float64)
    if not balanced:
        return ceil_div(sr, rows) * ceil_div(sc, cols) * (_PIPELINE_FILL * rows + cols + t - _PIPELINE_OFFSET)
    return _one_array(m, k, n, rows, cols, dataflow).detail["compute_cycles"]


def pe_traffic(m: Any, k: Any, n: Any, rows: Any, cols: Any, dataflow: str = "ws") -> tuple[np.ndarray, np.ndarray]:
    """Words read from and written to L2 by one array for one GEMM (one register word, balanced folds, full height)."""
    check_dims(m=m, k=k, n=n, rows=rows, cols=cols)
    sr, sc, t = _roles(m, k, n, dataflow)
    rows, cols = np.asarray(rows, np.float64), np.asarray(cols, np.float64)
    _, st, row, col, wr, _ = _tile(sr, sc, t, rows, cols, 1.0, False, True, 1.0, float(dataflow == "os"))
    return st + row + col, wr
