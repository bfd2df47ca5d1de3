"""Die area and peak throughput of the template, per docs/reference-facts.md 1.1 and 1.2."""

from __future__ import annotations

import numpy as np

from .config import HardwareBatch
from .energy import Profile, check_profile_matches, load_profile, loglog_table
from .grouping import FieldCodes

__all__ = ["area_um2", "area_mm2", "area_breakdown_um2", "tops", "sram_area_um2", "UM2_PER_MM2", "OPS_PER_MAC"]

UM2_PER_MM2 = 1e6  # square micrometres per square millimetre
OPS_PER_MAC = 2  # a multiply-accumulate counts as two operations in TOPS
HZ_PER_MHZ = 1e6
KIB_PER_MIB = 1024.0
OPS_PER_TERAOP = 1e12


def sram_area_um2(capacity_kib: np.ndarray, table_kib: np.ndarray, table_um2: np.ndarray) -> np.ndarray:
    """SRAM area from a capacity table: log-log interpolation, end-segment slope outside the table."""
    return loglog_table(capacity_kib, table_kib, table_um2)


def area_um2(hw: HardwareBatch, profile: "str | Profile" = "reference") -> np.ndarray:
    """Die area (um^2): PEs + vector lanes + per-cluster L2 (TC copy, VC copy) + shared GLB.

    area = per_pe*n*W*D + per_lane*n*W + n*[S(max(L2, W*D/64 KiB)) + S(L2)] + G(GLB)
    """
    prof = load_profile(profile)
    check_profile_matches(hw, prof)
    return batch_area_um2(hw, prof, FieldCodes(hw))


def batch_area_um2(hw: HardwareBatch, prof: Profile, field_codes: FieldCodes) -> np.ndarray:
    """area_um2 for a profile already checked against the batch, from the batch's field codes."""
    # Area depends on five fields with few distinct values: cost each distinct design once.
    return field_codes.per_distinct(lambda *fields: _area(*fields, prof), "clusters", "pe_width", "pe_depth", "l2_sram_kb", "glb_mb")


def area_breakdown_um2(hw: HardwareBatch, profile: "str | Profile" = "reference") -> dict[str, np.ndarray]:
    """Die area (um^2) by part: pe_array, vector_lanes, l2_sram (both copies, all clusters), glb_sram; they add up to area_um2."""
    prof = load_profile(profile)
    check_profile_matches(hw, prof)
    return _area_parts(hw.clusters, hw.pe_width, hw.pe_depth, hw.l2_sram_kb, hw.glb_mb, prof)


def _area(clusters, pe_width, pe_depth, l2_sram_kb, glb_mb, prof: Profile) -> np.ndarray:
    parts = _area_parts(clusters, pe_width, pe_depth, l2_sram_kb, glb_mb, prof)
    return parts["pe_array"] + parts["vector_lanes"] + parts["l2_sram"] + parts["glb_sram"]


def _area_parts(clusters, pe_width, pe_depth, l2_sram_kb, glb_mb, prof: Profile) -> dict[str, np.ndarray]:
    n = clusters.astype(np.float64)
    w = pe_width.astype(np.float64)
    d = pe_depth.astype(np.float64)
    l2 = l2_sram_kb.astype(np.float64)
    # Only the tensor-core copy is bumped to the minimum the PE array needs (REFERENCE 1).
    l2_tc = np.maximum(l2, w * d * prof.min_l2_kib_per_pe)
    s_tc = sram_area_um2(l2_tc, prof.l2_table_kib, prof.l2_table_um2)
    s_vc = sram_area_um2(l2, prof.l2_table_kib, prof.l2_table_um2)
    # l2_copies = 2 in the reference: one TC copy (bumped) and l2_copies - 1 VC copies.
    sram = s_tc + (prof.l2_copies - 1) * s_vc
    glb = sram_area_um2(glb_mb.astype(np.float64) * KIB_PER_MIB, prof.glb_table_kib, prof.glb_table_um2)
    return {"pe_array": prof.per_pe_um2 * n * w * d, "vector_lanes": prof.per_lane_um2 * n * w, "l2_sram": n * sram, "glb_sram": glb}


def area_mm2(hw: HardwareBatch, profile: "str | Profile" = "reference") -> np.ndarray:
    """Die area in mm^2."""
    return area_um2(hw, profile) / UM2_PER_MM2


def tops(hw: HardwareBatch) -> np.ndarray:
    """Peak tensor-core throughput (tera-operations per second): clusters * W * D * 2 * f / 1e12."""
    macs = hw.clusters.astype(np.float64) * hw.pe_width * hw.pe_depth
    return macs * OPS_PER_MAC * hw.frequency_mhz * HZ_PER_MHZ / OPS_PER_TERAOP
