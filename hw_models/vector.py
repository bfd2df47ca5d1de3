"""Vector core: elementwise ops on pe_width x clusters SIMD lanes, bounded by the L2, GLB and DRAM ports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import HardwareBatch
from .context import MapContext
from .energy import Profile, VectorKindCost, load_profile
from .gemm import context_for
from .grouping import ceil_div as _ceil_div
from .grouping import full as _full
from .workload import VectorOp

__all__ = ["VectorMapping", "map_vector", "vector_cycles", "vector_one"]

Arr = np.ndarray


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
    numel, row, lanes = (np.asarray(a, np.float64) for a in (elements, row, lanes))
    return _vector_compute(kind, numel, row, lanes, load_profile(profile))


def vector_one(op: VectorOp, ctx: MapContext, detail: bool) -> VectorMapping:
    prof, e = ctx.profile, ctx.energies
    cost = _kind_cost(op.kind, prof)
    n = max(ctx.n, 1)
    numel = op.elements.astype(np.float64)
    compute = _vector_compute(op.kind, numel, op.row.astype(np.float64), ctx.lanes, prof)
    # Every element is read l2_reads times and written once through the L2 ports of all clusters.
    reads = numel * cost.l2_reads
    port = numel * max(cost.l2_reads, 1)
    l2_cyc = port / ctx.l2_port_total
    cycles = np.maximum(compute, l2_cyc)
    # The working set streams from the GLB when it exceeds the L2s, from DRAM when it exceeds
    # the GLB (checked on the largest tensor first: most workloads never spill).
    glb_pj: np.ndarray | float = 0.0
    dram_words: np.ndarray | float = 0.0
    glb_cyc: np.ndarray | float = 0.0
    dram_cyc: np.ndarray | float = 0.0
    footprint_max = float(numel.max()) * (cost.inputs + 1)
    if footprint_max > ctx.min_l2_words_total:
        spill_l2 = numel * (cost.inputs + 1) > ctx.l2_words_total
        # Operands read from the GLB, results written back to it.
        glb_pj = spill_l2 * (reads * e.glb_read_pj + numel * e.glb_write_pj)
        glb_cyc = port * spill_l2 / ctx.glb_bw
        cycles = np.maximum(cycles, glb_cyc)
    if footprint_max > ctx.min_glb_words:
        spill_glb = numel * (cost.inputs + 1) > ctx.glb_words
        dram_words = (reads + numel) * spill_glb
        dram_cyc = dram_words / ctx.dram_bw
        cycles = np.maximum(cycles, dram_cyc)
        # The GLB side of every DRAM transfer: operands written in, results read out.
        glb_pj = glb_pj + spill_glb * (reads * e.glb_write_pj + numel * e.glb_read_pj)
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
        l2_pj=_full(reads * e.l2_read_pj + numel * e.l2_write_pj, n),
        glb_pj=_full(glb_pj, n) if np.ndim(glb_pj) else 0.0,
        dram_pj=_full(dram_words * e.dram_pj, n) if np.ndim(dram_words) else 0.0,
        detail=info,
    )


def map_vector(op: VectorOp, hw: HardwareBatch, profile: "str | Profile" = "reference", detail: bool = True) -> VectorMapping:
    """Cost one vector op on every design of `hw`."""
    ctx = context_for(hw, profile, max(a.size for a in (op.elements, op.row)))
    return vector_one(op, ctx, detail)
