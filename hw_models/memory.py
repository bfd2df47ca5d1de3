"""GLB and DRAM levels of a GEMM: fills of the L2s from the GLB, the GLB from DRAM, per cluster split."""

from __future__ import annotations

import numpy as np

from .buffers import best_reads
from .grouping import ceil_div

__all__ = ["FIRST_BATCH_SLOT", "WHOLE", "subproblems", "batch_used", "memory_level"]

# Slots, the cluster-split candidates of a GEMM, in this order: 0 N-split, 1 M-split, then
# batch splits over n, n/2, ..., 1 clusters. Subproblem rows: 0 N-split, 1 M-split, 2 whole.
FIRST_BATCH_SLOT = 2
WHOLE = 2

Arr = np.ndarray


def subproblems(M: Arr, K: Arr, N: Arr, ncl: Arr) -> tuple[Arr, Arr, Arr]:
    """(M, K, N) per cluster for the N-split, the M-split and one batch element: each (3, U)."""
    Ms = np.stack([M, ceil_div(M, ncl), M])
    Ns = np.stack([ceil_div(N, ncl), N, N])
    return Ms, np.broadcast_to(K, Ms.shape), Ns


def batch_used(ncl: Arr, j: int) -> Arr:
    """Clusters a batch split over n / 2^j clusters uses (0 where there are fewer than 2^j)."""
    return np.floor(ncl / 2.0**j)


def memory_level(
    M: Arr, K: Arr, N: Arr, B: Arr, ncl: Arr, Lw: Arr, Gw: Arr, glbbw: Arr, drambw: Arr,
    el2r: Arr, el2w: Arr, eglbr: Arr, eglbw: Arr, edram: float, batch_slots: int, detail: bool, dram_rw_ports: bool = False,
) -> tuple[Arr, Arr, dict[str, Arr] | None]:
    """Per slot: [cycles of the GLB and DRAM ports, energy] (S, U, 2) and energy parts (S, U, 3) in pJ.

    Lw is the capacity the GLB -> L2 tiling may use per cluster (words); reads and writes of
    the L2 and the GLB are charged at their own energies.
    """
    M, K, N, B, ncl, Lw, Gw, glbbw, drambw = np.broadcast_arrays(M, K, N, B, ncl, Lw, Gw, glbbw, drambw)
    mk, kn, mn = M * K, K * N, M * N
    Ms, Ks, Ns = subproblems(M, K, N, ncl)
    if not batch_slots:
        Ms, Ks, Ns = Ms[:WHOLE], Ks[:WHOLE], Ns[:WHOLE]  # the whole GEMM on one cluster is a batch split only
    ra, rb, l2_pick = best_reads(Ms, Ks, Ns, Lw, mk, kn)  # (3, U), or (2, U) without batch splits
    # Multicast: the shared operand leaves the GLB once but is written into every active L2.
    copies_n = ceil_div(N, Ns[0])
    copies_m = ceil_div(M, Ms[1])
    glb_rd = mk * ra + kn * rb
    fills = np.stack([mk * ra[0] * copies_n + kn * rb[0], mk * ra[1] + kn * rb[1] * copies_m] + ([glb_rd[WHOLE]] if batch_slots else []))
    # DRAM: the whole GEMM against the shared GLB; a batch split over k clusters keeps k batch
    # elements in flight, each with 1/k of the GLB.
    caps = [Gw] + [np.floor(Gw / np.minimum(np.maximum(batch_used(ncl, j), 1.0), B)) for j in range(batch_slots)]
    dra, drb, dram_pick = best_reads(M, K, N, np.stack(caps), mk, kn)
    dram_rd = mk * dra + kn * drb  # (1 + batch_slots, U)
    sub = [0, 1] + [WHOLE] * batch_slots
    dsub = [0, 0] + list(range(1, batch_slots + 1))
    glb_r = B * glb_rd[sub]
    out_w = B * mn  # outputs: L2 -> GLB once, GLB -> DRAM once
    dr = B * dram_rd[dsub]
    glb_cyc = np.maximum(glb_r, out_w) / glbbw
    # One DRAM bus for reads and writes, or (the reference's roofline) dram_bw each way.
    dram_cyc = (np.maximum(dr, out_w) if dram_rw_ports else dr + out_w) / drambw
    l2_fill = B * fills[sub]
    e_l2 = l2_fill * el2w + out_w * el2r  # L2 fills (writes) and drains (reads)
    # GLB: reads to the L2s and to DRAM, writes from the L2s and from DRAM.
    e_glb = (glb_r + out_w) * eglbr + (out_w + dr) * eglbw
    e_dram = (dr + out_w) * edram
    sel = np.stack([np.maximum(glb_cyc, dram_cyc), e_l2 + e_glb + e_dram], axis=-1)
    parts = np.stack([e_l2, e_glb, e_dram], axis=-1)
    if not detail:
        return sel, parts, None
    shape = glb_r.shape
    info = {
        "glb_reads": glb_r,  # GLB -> L2 port
        "glb_writes": np.broadcast_to(out_w, shape),  # L2 -> GLB port
        "glb_reads_total": glb_r + out_w,  # also the outputs read out to DRAM
        "glb_writes_total": out_w + dr,  # also the fills from DRAM
        "dram_reads": dr,
        "dram_writes": np.broadcast_to(out_w, shape),
        "glb_cycles": glb_cyc,
        "dram_cycles": dram_cyc,
        "l2_fill_writes": l2_fill,
        "l2_drain_reads": np.broadcast_to(out_w, shape),
        "l2_loop_order": l2_pick[sub].astype(np.float64),
        "glb_loop_order": dram_pick[dsub].astype(np.float64),
    }
    return sel, parts, info
