"""Per-evaluation context: the hardware fields every level reads, as float arrays, with codes for deduplication."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .allocator import keep_freed_memory
from .config import L2_LINKS, REGISTER_OPERANDS, HardwareBatch, register_words
from .energy import AccessEnergies, Profile, tc_l2_kib
from .grouping import FieldCodes, codes_any, combine, dense

__all__ = ["MapContext", "make_context"]

_BITS_PER_KIB = 1024 * 8  # divided by precision_bits: words per KiB
_KIB_PER_MIB = 1024


@dataclass(eq=False)
class MapContext:
    """Hardware arrays of one evaluation (float64, length n or 1) with codes for deduplication."""

    n: int
    clusters: np.ndarray
    pe_width: np.ndarray
    pe_depth: np.ndarray
    l2_bw: np.ndarray
    reg_words: np.ndarray  # whole words in the per-PE register
    stationary_ok: np.ndarray  # bool: any stationary operand may use the register (else WS weights only)
    edge_latch: np.ndarray  # bool
    l2_link: np.ndarray  # codes into L2_LINKS
    links: frozenset  # the l2_link codes present
    l2_words: np.ndarray  # vector core's L2 per cluster
    tc_l2_words: np.ndarray  # tensor core's L2 per cluster (bumped to the array's minimum)
    tc_l2_tiling_words: np.ndarray  # what the GLB -> L2 tiling may use (x the profile's L2 operand buffers)
    glb_words: np.ndarray
    glb_bw: np.ndarray
    dram_bw: np.ndarray  # words per cycle, derived from dram_bw_gbps
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
    pe_codes: np.ndarray  # the PE array and register fields (W, D, register words and operands, edge latch, l2_link)
    pe_count: int
    port_codes: np.ndarray  # l2_bw
    port_count: int
    allowed_pe: np.ndarray | None = None  # (3 dataflows, 2 orientations) mask; None = all
    _cache: dict = field(default_factory=dict, repr=False)

    def codes_of(self, arr: np.ndarray) -> tuple[np.ndarray, int]:
        """dense(arr), kept per array; arrays with equal codes (heads, heads x 64) get the same codes object."""
        hit = self._cache.get(id(arr))
        if hit is None or hit[0] is not arr:
            codes, count = dense(arr)
            if count > 1:
                codes = next((c for _, c, u in self._cache.values() if u == count and c.shape == codes.shape and np.array_equal(c, codes)), codes)
            hit = (arr, codes, count)
            self._cache[id(arr)] = hit
        return hit[1], hit[2]


def choice_codes(values: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Index into `names` of each value, as floats (a batch holds only allowed names: HardwareBatch checks them)."""
    out = np.zeros(values.size)
    if values.dtype.kind == "U" and values.dtype.itemsize and len({name[0] for name in names}) == len(names):
        # Names that differ in their first letter: one code point per value is compared, not
        # whole strings (a 100,000-design batch: 0.1 ms instead of 2 ms).
        first = np.ascontiguousarray(values).view(np.uint32)[:: values.dtype.itemsize // 4]
        for code, name in enumerate(names):
            out[first == ord(name[0])] = code
        return out
    for code, name in enumerate(names):
        out[values == name] = code
    return out


def make_context(hw: HardwareBatch, energies: AccessEnergies, profile: Profile, n: int | None = None,
                 field_codes: FieldCodes | None = None) -> MapContext:
    """Precompute what every op of an evaluation shares (float arrays, codes of the hardware fields).

    `field_codes`: the batch's field codes where the caller has them (shared with the energies and area)."""
    field_codes = FieldCodes(hw) if field_codes is None else field_codes
    keep_freed_memory()  # once per process: the evaluation's temporaries stay mapped between calls (allocator.py)
    n = len(hw) if n is None else n
    f = lambda a: a.astype(np.float64)  # noqa: E731
    words_per_kib = _BITS_PER_KIB / f(hw.precision_bits)
    l2_words = f(hw.l2_sram_kb) * words_per_kib
    tc_l2_words = np.floor(tc_l2_kib(hw, profile) * words_per_kib)
    glb_words = f(hw.glb_mb) * _KIB_PER_MIB * words_per_kib
    reg = register_words(hw.pe_register_bytes, hw.precision_bits)
    stationary_ok = choice_codes(hw.pe_register_operands, REGISTER_OPERANDS) == REGISTER_OPERANDS.index("stationary")
    link = choice_codes(hw.l2_link, L2_LINKS)
    dram_wpc = hw.dram_words_per_cycle
    codes = {name: field_codes(name) for name in ("clusters", "pe_width", "pe_depth", "l2_bw", "l2_sram_kb", "glb_mb", "glb_bw", "precision_bits")}
    codes["dram"] = codes_any(dram_wpc)
    codes["reg"] = dense(reg.astype(np.int64))
    codes["mode"] = dense(stationary_ok.astype(np.int64))
    codes["latch"] = dense(hw.edge_latch.astype(np.int64))
    codes["link"] = dense(link.astype(np.int64))
    comp = combine([codes[k] for k in ("clusters", "pe_width", "pe_depth", "l2_bw", "reg", "mode", "latch", "link")], n)
    pe = combine([codes[k] for k in ("pe_width", "pe_depth", "reg", "mode", "latch", "link")], n)
    tc_l2 = dense(tc_l2_words.astype(np.int64))
    mem = combine([codes[k] for k in ("clusters", "glb_mb", "glb_bw", "dram", "precision_bits")] + [tc_l2], n)
    clusters = f(hw.clusters)
    return MapContext(
        n=n,
        clusters=clusters,
        pe_width=f(hw.pe_width),
        pe_depth=f(hw.pe_depth),
        l2_bw=f(hw.l2_bw),
        reg_words=reg,
        stationary_ok=stationary_ok,
        edge_latch=hw.edge_latch.copy(),
        l2_link=link,
        links=frozenset(int(x) for x in np.flatnonzero(np.bincount(link.astype(np.int64), minlength=len(L2_LINKS)))),
        l2_words=l2_words,
        tc_l2_words=tc_l2_words,
        tc_l2_tiling_words=tc_l2_words * profile.tc_l2_operand_buffers,
        glb_words=glb_words,
        glb_bw=f(hw.glb_bw),
        dram_bw=dram_wpc,
        lanes=f(hw.pe_width) * clusters,
        l2_port_total=f(hw.l2_bw) * clusters,
        l2_words_total=l2_words * clusters,
        min_l2_words_total=float((l2_words * clusters).min()),
        min_glb_words=float(glb_words.min()),
        lanes_mac_pj=f(hw.pe_width) * clusters * energies.vc_mac_pj,
        energies=energies,
        profile=profile,
        batch_slots=int(hw.clusters.max()).bit_length(),
        comp_codes=comp[0],
        comp_count=comp[1],
        mem_codes=mem[0],
        mem_count=mem[1],
        pe_codes=pe[0],
        pe_count=pe[1],
        port_codes=codes["l2_bw"][0],
        port_count=codes["l2_bw"][1],
    )
