"""The GEMM mapper: cluster splits over the PE level (pe.py) and the GLB / DRAM levels (memory.py), best per design."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .buffers import LOOP_ORDERS
from .config import HardwareBatch
from .context import MapContext, make_context
from .energy import Profile, access_energies, bypass_l2_words, check_profile_matches, load_profile
from .errors import HardwareError
from .grouping import batch_length, ceil_div, codes_any, combine, dense, full, representatives
from .memory import FIRST_BATCH_SLOT, WHOLE, batch_used, memory_level, subproblems
from .pe import DATAFLOWS, ORIENTATIONS, REGISTER_AXES, pe_level
from .spatial import divisor_pe_level
from .workload import Gemm

__all__ = ["PARTITIONS", "BOUNDS", "GemmMapping", "map_gemm", "gemm_groups", "gemm_one", "context_for", "mapping_names"]

# How a GEMM is split across clusters.
PARTITIONS: tuple[str, ...] = ("n", "m", "batch")
# What limits an op: the PE array, or the bandwidth of one memory level.
BOUNDS: tuple[str, ...] = ("compute", "l2", "glb", "dram")

Arr = np.ndarray

# From this many subproblem rows on, their codes for pe_level are built from the context's codes.
_PE_CODES_MIN = 64
# Unique problems per group of GEMMs costed in one pass: large enough to amortise numpy's
# per-call overhead, small enough for the candidate arrays to stay in cache.
_GROUP_UNIQUES = 12_000
# Designs per chunk of the design-level work (16384 float64 = 128 KiB per temporary).
_CHUNK = 16384
# Up to this many (op, design) values, a group's design-level work is one pass over all its ops.
_WHOLE_GROUP = 65536


@dataclass(frozen=True, eq=False)
class GemmMapping:
    """The chosen mapping of one GEMM (one repeat) per design. Energies in pJ.

    `detail` (with detail=True) holds per-level traffic in words, the cycles each level would
    need, the chosen candidate (partition, dataflow, orientation, register tiling, loop orders)
    and the bound.
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


def _compute_level(
    M: Arr, K: Arr, N: Arr, B: Arr, hw: Sequence[Arr], hw_codes: tuple[Arr, Arr], batch_slots: int, ctx: MapContext, detail: bool
) -> tuple[Arr, dict[str, Arr] | None]:
    """Per slot (N-split, M-split, batch over floor(n/2^j) clusters): [cycles, L2 reads, L2 writes], (S, U, 3).

    hw_codes: the context's PE-array and L2-port codes of each row.
    """
    ncl, W, D, l2bw, reg, mode, latch, link = hw
    pe_c, port_c = hw_codes
    M, K, N, B, ncl, W, D, l2bw, reg, mode, latch, link, pe_c, port_c = np.broadcast_arrays(
        M, K, N, B, ncl, W, D, l2bw, reg, mode, latch, link, pe_c, port_c)
    Ms, Ks, Ns = subproblems(M, K, N, ncl)  # (3, U) each
    if not batch_slots:
        # Only batch splits map the whole GEMM onto one cluster: without them, no row of it is costed.
        Ms, Ks, Ns = Ms[:WHOLE], Ks[:WHOLE], Ns[:WHOLE]
    l2_port = l2bw
    shared = ctx.profile.tc_l2_bw_shared
    if shared:
        # The reference's Sunstone bounds the clusters' L2 traffic together by one l2_bw: each
        # cluster's port carries l2_bw / clusters.
        l2bw = l2bw / ncl
    per = [np.broadcast_to(a, Ms.shape).reshape(-1) for a in (D, W, l2bw, reg, mode, latch, link, pe_c, port_c)]
    cols = [Ms.reshape(-1), Ks.reshape(-1), Ns.reshape(-1)]
    kw = dict(links=ctx.links, fill=ctx.profile.fill_drain, allowed=ctx.allowed_pe, detail=detail)

    d, w, bw, rg, md, lt, lk, pe_rows, port_rows = per
    if shared:
        port_rows = codes_any(bw)[0]  # the context's port codes name l2_bw, not l2_bw / clusters
    # pe_level costs each distinct (subproblem, array, register) once and each L2 port apart.
    codes = None
    v = Ms.size
    if v > _PE_CODES_MIN:
        u_codes, count = combine([dense(c.astype(np.int64)) for c in cols] + [(pe_rows, ctx.pe_count)], v)
        codes = (*dense(np.broadcast_to(u_codes, (v,))), *dense(port_rows))
    res = pe_level(np.stack(cols), d, w, bw, rg, md.astype(bool), lt.astype(bool), lk, codes=codes, **kw)
    back = lambda v: v.reshape(Ms.shape)  # noqa: E731
    vmin, rd, wr = back(res.cycles), back(res.reads), back(res.writes)
    n_eff = np.stack([N / Ns[0], M / Ms[1]])  # share of the work the active clusters do
    x = [B * vmin[0], B * vmin[1]]
    r = [B * n_eff[0] * rd[0], B * n_eff[1] * rd[1]]
    w = [B * n_eff[0] * wr[0], B * n_eff[1] * wr[1]]
    mult = [B, B]
    for j in range(batch_slots):
        used = batch_used(ncl, j)
        heads = ceil_div(B, np.maximum(used, 1.0))
        x.append(heads * vmin[2] + np.where(used >= 1.0, 0.0, np.inf))
        r.append(B * rd[2])
        w.append(B * wr[2])
        mult.append(heads)
    divisors = ctx.profile.tc_spatial_divisors
    if divisors:
        x, r, w, div_compute, div_l2 = _divisor_slots(M, K, N, B, ncl, W, D, l2_port, reg, batch_slots, ctx.profile.tc_l2_bw_shared)
    out = np.stack([np.stack(x), np.stack(r), np.stack(w)], axis=-1)  # (S, U, 3)
    if not detail:
        return out, None
    d = {key: back(v) for key, v in res.detail.items()}
    sub = [0, 1] + [WHOLE] * batch_slots
    share = [B * n_eff[0], B * n_eff[1]] + [B] * batch_slots
    info = {
        "compute_cycles": np.stack([mult[i] * d["compute_cycles"][s] for i, s in enumerate(sub)]),
        "l2_cycles": np.stack([mult[i] * d["l2_link_words"][s] / l2bw for i, s in enumerate(sub)]),
        "l2_pe_reads": np.stack([share[i] * d["l2_pe_reads"][s] for i, s in enumerate(sub)]),
        "l2_pe_writes": np.stack([share[i] * d["l2_pe_writes"][s] for i, s in enumerate(sub)]),
        "pe_choice": np.stack([d["pe_choice"][s] for s in sub]),
        "register_words_used": np.stack([d["register_words_used"][s] for s in sub]),
        "register_axis": np.stack([d["register_axis"][s] for s in sub]),
    }
    if divisors:
        info.update(compute_cycles=np.stack(div_compute), l2_cycles=np.stack(div_l2), l2_pe_reads=np.stack(r), l2_pe_writes=np.stack(w))
    return out, info


def _divisor_slots(
    M: Arr, K: Arr, N: Arr, B: Arr, ncl: Arr, W: Arr, D: Arr, l2bw: Arr, reg: Arr, batch_slots: int, shared: bool
) -> tuple[list[Arr], ...]:
    """Per slot [cycles], [L2 reads], [L2 writes], [compute cycles], [L2 cycles] of the reference's exact-divisor mapping.

    hw_models.spatial.divisor_pe_cycles maps the whole GEMM, clusters included, as the
    reference's Sunstone does (a batched GEMM as one of M x batch rows: tc_estimator.py dim
    N = n * b), so every cluster split costs the same at this level and the GLB / DRAM levels
    choose among them. With `shared` all clusters' L2 traffic goes through one l2_bw; else each
    cluster has its own.
    """
    port = l2bw if shared else l2bw * ncl
    cyc, rd, wr, compute = divisor_pe_level(M * B, K, N, W, D, ncl, port, reg)
    l2c = np.maximum(rd, wr) / port
    x, r, w, comp, l2 = [cyc, cyc], [rd, rd], [wr, wr], [compute, compute], [l2c, l2c]
    for j in range(batch_slots):
        x.append(cyc + np.where(batch_used(ncl, j) >= 1.0, 0.0, np.inf))
        r.append(rd)
        w.append(wr)
        comp.append(compute)
        l2.append(l2c)
    return x, r, w, comp, l2


@dataclass(eq=False)
class _Prepared:
    op: Gemm
    shape: tuple[np.ndarray, ...]  # M, K, N, batch (int64)
    macs: np.ndarray
    codes_c: np.ndarray
    count_c: int
    rep_c: np.ndarray
    codes_m: np.ndarray
    count_m: int
    rep_m: np.ndarray


def _prepare(op: Gemm, ctx: MapContext, seen: dict[frozenset, tuple]) -> _Prepared:
    """The op's codes at both levels; `seen` keeps them per set of shape codes, alive for the call."""
    n = max(ctx.n, 1)
    shape = (op.m, op.k, op.n, op.batch)
    # GEMMs whose shape arrays split the designs alike, in any order (a tower's mlp_fc1 and
    # mlp_fc2: width and ffn; qkv and out_proj: width and heads x 64), share one set of codes.
    parts = [ctx.codes_of(a) for a in shape]
    key = frozenset(id(c) for c, u in parts if u > 1)
    codes = seen.get(key)
    if codes is None:
        shape_codes = combine(parts, n)
        # Memory level: shape x (clusters, TC L2, GLB, GLB and DRAM bandwidth, precision);
        # compute level: shape x (clusters, W, D, L2 port, register settings).
        codes_m, count_m = combine([shape_codes, (ctx.mem_codes, ctx.mem_count)], n)
        codes_c, count_c = combine([shape_codes, (ctx.comp_codes, ctx.comp_count)], n)
        codes = (codes_c, count_c, representatives(codes_c, count_c), codes_m, count_m, representatives(codes_m, count_m))
        seen[key] = codes
    return _Prepared(op, shape, (op.m * op.k * op.n * op.batch).astype(np.float64), *codes)  # integer MACs, exact in float64 below 2**53


def _gather(arrays: Sequence[np.ndarray], reps: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate arr[rep] over the ops of a group (constant arrays broadcast), as float64."""
    if all(a.size == 1 for a in arrays):
        return np.repeat(np.array([a[0] for a in arrays], np.float64), [r.size for r in reps])
    parts = [a.take(r) if a.size > 1 else np.broadcast_to(a, r.shape) for a, r in zip(arrays, reps)]
    return (parts[0] if len(parts) == 1 else np.concatenate(parts)).astype(np.float64, copy=False)


def _gather_one(a: np.ndarray, reps: np.ndarray) -> np.ndarray:
    """a[reps] as float64 (reps: every op's representatives, concatenated); a constant array broadcasts."""
    a = np.asarray(a, np.float64)
    return a.take(reps) if a.size > 1 else np.broadcast_to(a, reps.shape)


def gemm_groups(ops: Sequence[Gemm], ctx: MapContext, detail: bool) -> list[GemmMapping]:
    """Map several GEMMs on every design; ops with and without a batch are grouped apart."""
    seen: dict[frozenset, tuple] = {}
    prepared = [_prepare(op, ctx, seen) for op in ops]
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
    el2r = np.asarray(e.l2_tc_read_pj, np.float64)
    el2w = np.asarray(e.l2_tc_write_pj, np.float64)
    bypass = ctx.profile.tc_bypass_spatial_reuse
    # A batch split is worth trying only when there is a batch to split; splits over fewer
    # clusters only when some batch element's GLB share could force extra DRAM traffic.
    batch_slots = ctx.batch_slots if batched else 0
    reps_m = [p.rep_m for p in group]
    hw_m = (ctx.clusters, ctx.tc_l2_tiling_words, ctx.glb_words, ctx.glb_bw, ctx.dram_bw, el2r, el2w, e.glb_tc_read_pj, e.glb_tc_write_pj)
    args_m = [_gather([p.shape[i] for p in group], reps_m) for i in range(4)]
    all_m = np.concatenate(reps_m) if len(reps_m) > 1 else reps_m[0]
    args_m += [_gather_one(a, all_m) for a in hw_m]
    sel_m, parts_m, minfo = memory_level(*args_m, e.dram_tc_pj, batch_slots, detail, ctx.profile.dram_read_write_ports)
    first = FIRST_BATCH_SLOT
    if batch_slots > 1 and not detail and np.all(sel_m[first + 1 :] == sel_m[first]):
        # Fewer clusters on the batch cannot win: same memory cost, more heads per cluster.
        batch_slots = 1
        sel_m, parts_m = sel_m[: first + 1], parts_m[: first + 1]
    reps_c = [p.rep_c for p in group]
    hw_c = (ctx.clusters, ctx.pe_width, ctx.pe_depth, ctx.l2_bw, ctx.reg_words, ctx.stationary_ok.astype(np.float64), ctx.edge_latch.astype(np.float64), ctx.l2_link)
    args_c = [_gather([p.shape[i] for p in group], reps_c) for i in range(4)]
    all_c = np.concatenate(reps_c) if len(reps_c) > 1 else reps_c[0]
    hw_c_g = [_gather_one(a, all_c) for a in hw_c]
    codes_c = tuple(c.take(all_c) if c.size > 1 else c for c in (ctx.pe_codes, ctx.port_codes))
    sel_c, cinfo = _compute_level(*args_c, hw_c_g, codes_c, batch_slots, ctx, detail)
    total_c, total_m = sel_c.shape[1], sel_m.shape[1]
    # Field-major 1-D tables: gathers from contiguous 1-D arrays are the fastest numpy has.
    tab_c = [np.ascontiguousarray(sel_c[..., f]) for f in range(3)]  # cycles, L2 reads, L2 writes: (S, Uc)
    tab_m = [np.ascontiguousarray(sel_m[..., f]) for f in range(2)]  # cycles, energy: (S, Um)
    tab_parts = [np.ascontiguousarray(parts_m[..., f]).reshape(-1) for f in range(3)]  # l2, glb, dram pJ: (S * Um,)
    g = len(group)
    if detail or n * g <= _WHOLE_GROUP:
        # Row of each (op, design) in the group's unique-level arrays, all ops of the group at once.
        idx_c, idx_m = np.empty((g, n), np.intp), np.empty((g, n), np.intp)
        off_c = off_m = 0
        for i, p in enumerate(group):
            np.add(p.codes_c if p.count_c > 1 else 0, off_c, out=idx_c[i])
            np.add(p.codes_m if p.count_m > 1 else 0, off_m, out=idx_m[i])
            off_c += p.count_c
            off_m += p.count_m
        tables = (tab_c, tab_m, tab_parts, total_c, total_m)
        if detail:
            best_c, l2_pj, glb_pj, dram_pj, slot_i, pick_c, pick_m = _select(idx_c, idx_m, el2r, el2w, *tables, array_side=not bypass)
        else:
            # In blocks of ops of at most _CHUNK values: larger temporaries get fresh pages from
            # the system more often.
            best_c, l2_pj, glb_pj, dram_pj = (np.empty((g, n)) for _ in range(4))
            step = max(1, _CHUNK // n)
            for lo in range(0, g, step):
                sl = slice(lo, lo + step)
                _select(idx_c[sl], idx_m[sl], el2r, el2w, *tables, out=(best_c[sl], l2_pj[sl], glb_pj[sl], dram_pj[sl]), array_side=not bypass)
    else:
        # Op by op, from the op's own rows of the tables (its codes index them as they are), in
        # cache-sized chunks of designs: temporaries stay small and hot.
        best_c, l2_pj, glb_pj, dram_pj = (np.empty((g, n)) for _ in range(4))
        off_c = off_m = 0
        for i, p in enumerate(group):
            sc, sm = slice(off_c, off_c + p.count_c), slice(off_m, off_m + p.count_m)
            off_c, off_m = sc.stop, sm.stop
            own_c = [np.ascontiguousarray(t[:, sc]) for t in tab_c]
            own_m = [np.ascontiguousarray(t[:, sm]) for t in tab_m]
            own_parts = [np.ascontiguousarray(t.reshape(-1, total_m)[:, sm]).reshape(-1) for t in tab_parts]
            codes_c = np.broadcast_to(p.codes_c if p.count_c > 1 else np.zeros(1, np.intp), (n,))
            codes_m = np.broadcast_to(p.codes_m if p.count_m > 1 else np.zeros(1, np.intp), (n,))
            for lo in range(0, n, _CHUNK):
                sl = slice(lo, min(n, lo + _CHUNK))
                outs = (best_c[i, sl], l2_pj[i, sl], glb_pj[i, sl], dram_pj[i, sl])
                _select(codes_c[sl], codes_m[sl], _part(el2r, sl), _part(el2w, sl), own_c, own_m, own_parts, p.count_c, p.count_m, out=outs,
                        array_side=not bypass)
    if bypass:
        # The reference's array-side L2 charge replaces the mapper's: inputs and partial sums per
        # MAC over their spatial reuse, each weight read once into the register.
        for i, p in enumerate(group):
            k, nn, b = (a.astype(np.float64) for a in p.shape[1:])
            l2_pj[i] += (p.macs * bypass_l2_words(k, nn, ctx.pe_width, ctx.pe_depth) + k * nn * b) * el2r
    out = []
    for i, p in enumerate(group):
        info = None
        if detail:
            info = _detail(p, ctx, cinfo, minfo, pick_c[i], pick_m[i], slot_i[i], best_c[i], n)
        out.append(
            GemmMapping(
                cycles=best_c[i],
                macs=full(p.macs, n),
                pj_per_mac=e.mac_pj,
                register_pj_per_mac=e.register_accesses_per_mac * e.register_pj,
                l2_pj=l2_pj[i],
                glb_pj=glb_pj[i],
                dram_pj=dram_pj[i],
                detail=info,
            )
        )
    return out


def _part(a: np.ndarray, sl: slice) -> np.ndarray:
    return a if a.size == 1 else a[sl]


def _select(
    idx_c: Arr, idx_m: Arr, el2r: Arr, el2w: Arr, tab_c: list[Arr], tab_m: list[Arr], tab_parts: list[Arr], total_c: int, total_m: int,
    out: tuple[Arr, ...] | None = None, array_side: bool = True,
) -> tuple[Arr, ...]:
    """Best slot per (op, design): fewest cycles, ties to the lower energy, then to the earlier slot.

    A short loop over slots on whole arrays beats a 2-D argmin here. With `out` (four contiguous
    arrays), cycles and the L2, GLB and DRAM energies are written there. Without `array_side` the
    L2 energy leaves out the mapper's L2 <-> array traffic (the caller charges its own).
    """
    slots = tab_c[0].shape[0]
    best_c = best_e = slot = None
    # With two slots, the chosen slot's array-side L2 energy is kept from the loop (one select)
    # instead of gathered again afterwards (two gathers); with more, a masked write per slot
    # would cost about as much as the gathers.
    keep_array = array_side and slots <= 2
    for s in range(slots):
        cyc = tab_c[0][s].take(idx_c, out=out[0] if s == 0 and out is not None else None)
        np.maximum(cyc, tab_m[0][s].take(idx_m), out=cyc)
        arr = tab_c[1][s].take(idx_c)
        arr *= el2r
        w = tab_c[2][s].take(idx_c)
        w *= el2w
        arr += w  # the slot's L2 <-> array energy
        en = tab_m[1][s].take(idx_m)
        en += arr
        if s == 0:
            best_c, best_e, best_a = cyc, en, arr
            if slots > 2:
                slot = np.zeros(cyc.shape, np.intp)
            continue
        better = cyc < best_c
        better |= (cyc == best_c) & (en < best_e)
        np.minimum(best_c, cyc, out=best_c)
        if s < slots - 1:
            np.putmask(best_e, better, en)
        if slots == 2:
            slot = better.astype(np.intp)  # two slots: the second where it is better
            if keep_array:
                best_a = np.where(better, arr, best_a)
        else:
            # Slots come in order, so the new one is the largest yet: a max writes it where better
            # (a masked write is several times slower on a mask without pattern).
            np.maximum(slot, np.multiply(better, s, dtype=np.intp), out=slot)
    if slot is None:
        slot = np.zeros(best_c.shape, np.intp)
    pick_c = slot * total_c
    pick_c += idx_c
    pick_m = slot * total_m
    pick_m += idx_m
    if keep_array:
        l2_pj = np.add(best_a, tab_parts[0].take(pick_m), out=None if out is None else out[1])
    elif array_side:
        l2_pj = tab_c[1].reshape(-1).take(pick_c, out=None if out is None else out[1])
        l2_pj *= el2r
        w = tab_c[2].reshape(-1).take(pick_c)
        w *= el2w
        l2_pj += w
        l2_pj += tab_parts[0].take(pick_m)
    else:
        l2_pj = tab_parts[0].take(pick_m, out=None if out is None else out[1])
    if out is None:
        return best_c, l2_pj, tab_parts[1].take(pick_m), tab_parts[2].take(pick_m), slot, pick_c, pick_m
    tab_parts[1].take(pick_m, out=out[2])
    tab_parts[2].take(pick_m, out=out[3])
    return out


def _detail(
    p: _Prepared, ctx: MapContext, cinfo: dict, minfo: dict, pick_c: Arr, pick_m: Arr, slot: Arr, best_c: Arr, n: int
) -> dict[str, Arr]:
    info = {key: full(v.reshape(-1).take(pick_c), n) for key, v in cinfo.items()}
    info.update({key: full(v.reshape(-1).take(pick_m), n) for key, v in minfo.items()})
    slot = full(slot, n).astype(np.int64)
    first = FIRST_BATCH_SLOT
    info["partition"] = np.minimum(slot, first).astype(np.float64)  # index into PARTITIONS
    m, _, nn, b = (a.astype(np.float64) for a in p.shape)
    active_n = ceil_div(nn, ceil_div(nn, ctx.clusters))  # clusters that get columns
    active_m = ceil_div(m, ceil_div(m, ctx.clusters))
    used = np.minimum(batch_used(ctx.clusters, np.maximum(slot - first, 0)), b)
    info["clusters_used"] = full(np.where(slot == 0, active_n, np.where(slot == 1, active_m, used)), n)
    info["batch_split"] = np.maximum(slot - first, -1).astype(np.float64)  # j of n / 2^j, -1 if none
    terms = np.stack([info["compute_cycles"], info["l2_cycles"], info["glb_cycles"], info["dram_cycles"]])
    info["bound"] = np.argmax(terms, axis=0).astype(np.float64)
    info["pe_dataflow"] = np.floor_divide(info["pe_choice"], 2)
    info["pe_orientation"] = np.mod(info["pe_choice"], 2)
    info["utilisation"] = full(p.macs / (best_c * ctx.clusters * ctx.pe_width * ctx.pe_depth), n)
    return info


def gemm_one(op: Gemm, ctx: MapContext, detail: bool) -> GemmMapping:
    return gemm_groups([op], ctx, detail)[0]


def context_for(hw: HardwareBatch, profile: "str | Profile", n_w: int) -> MapContext:
    prof = load_profile(profile)
    check_profile_matches(hw, prof)
    return make_context(hw, access_energies(hw, prof), prof, batch_length(len(hw), n_w))


def mapping_names(d: dict[str, Arr], i: int = 0) -> dict[str, Any]:
    """The chosen candidate of design i by name (for op tables and reports)."""
    return {
        "dataflow": DATAFLOWS[int(d["pe_dataflow"][i])],
        "orientation": ORIENTATIONS[int(d["pe_orientation"][i])],
        "register_words": int(d["register_words_used"][i]),
        "register_axis": REGISTER_AXES[int(d["register_axis"][i])],
        "partition": PARTITIONS[int(d["partition"][i])],
        "clusters_used": int(d["clusters_used"][i]),
        "l2_loop_order": LOOP_ORDERS[int(d["l2_loop_order"][i])],
        "glb_loop_order": LOOP_ORDERS[int(d["glb_loop_order"][i])],
    }


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
    ctx = context_for(hw, profile, max(a.size for a in (gemm.m, gemm.k, gemm.n, gemm.batch)))
    if "ws" not in dataflows and not bool(np.all(ctx.stationary_ok)):
        raise HardwareError(f"map_gemm.dataflows: {list(dataflows)!r} needs pe_register_operands='stationary' on every "
                            "design; with 'weights' the register holds only weights, so only 'ws' is legal")
    if tuple(dataflows) != DATAFLOWS or tuple(orientations) != ORIENTATIONS:
        ctx.allowed_pe = np.array([[df in dataflows and o in orientations for o in ORIENTATIONS] for df in DATAFLOWS])
    return gemm_one(gemm, ctx, detail)
