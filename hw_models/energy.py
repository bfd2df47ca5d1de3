"""Technology profiles (area tables, per-access energies, vector-op costs) and per-access energies per design."""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Mapping

import numpy as np

from .config import HardwareBatch
from .errors import HardwareError
from .fusion import NO_FUSION, FusionRules, parse_fusion
from .grouping import FieldCodes
from .layers import AS_LOWERED, LayerCount, parse_layer_count
from .workload import VECTOR_KINDS

__all__ = [
    "Profile",
    "SramEnergyTable",
    "SRAM_MEMORIES",
    "VectorKindCost",
    "AccessEnergies",
    "PROFILE_FILES",
    "ENERGY_COMPONENTS",
    "load_profile",
    "access_energies",
    "sram_pj_per_word",
    "SRAM_ACCESSES",
    "loglog_table",
    "leakage_power_w",
    "check_profile_matches",
    "tc_l2_kib",
    "bypass_l2_words",
]

# Named profiles shipped in hw_models/data (a path to a TOML file of the same layout also works).
PROFILE_FILES: dict[str, str] = {
    "reference": "profile_reference_22nm.toml",
    "catransformers-code": "profile_catransformers_code_22nm.toml",
}

# The SRAM kinds with an energy table in a profile ([energy.sram.<kind>]).
SRAM_MEMORIES: tuple[str, ...] = ("l2", "glb")

# The energy components a CostReport breaks the total into, in report order.
ENERGY_COMPONENTS: tuple[str, ...] = ("mac", "register", "l2", "glb", "dram", "vector", "leakage")

PJ_PER_J = 1e12  # picojoules per joule
MW_PER_W = 1e3  # milliwatts per watt
BYTES_PER_KIB = 1024

# Layout of a profile file: section -> allowed keys (every entry is {value, unit, source}).
_LAYOUT: dict[str, tuple[str, ...]] = {
    "profile": ("name", "node_nm", "precision_bits"),
    "scaling": ("energy_45_to_node", "area_45_to_node"),
    "area": ("per_pe_um2", "per_lane_um2", "min_l2_kib_per_pe", "l2_copies"),
    "area.l2_sram": ("capacity_kib", "area_um2"),
    "area.glb_sram": ("capacity_kib", "area_um2"),
    "energy.mac": ("anchor_pj", "anchor_bits", "reference_tc_pj"),
    "energy.register": ("anchor_pj_per_entry", "anchor_bits", "entries", "accesses_per_mac"),
    "energy.dram": ("pj_per_bit",),
    "energy.lut": ("pj_per_read",),
    "vector": ("softmax_fixed_cycles", "softmax_passes", "softmax_l2_reads", "softmax_lut_reads"),
}
_SRAM_KEYS: tuple[str, ...] = ("capacity_kib", "port_bytes", "read_pj_per_word", "write_pj_per_word")
# Optional [accounting] section: how the tensor-core path counts what it charges. Absent keys
# take the physical default (docs/hardware-model.md 6 lists why each default is what it is).
_ACCOUNTING_KEYS: tuple[str, ...] = (
    "tc_mac_pj", "register_pj", "systolic_fill_drain", "tc_l2_operand_buffers", "tc_word_costs_full_access", "dram_access_bits",
    "dram_read_write_ports", "tc_bypass_spatial_reuse", "tc_spatial_divisors", "tc_l2_bw_shared",
)
_PRIMITIVE_KEYS: tuple[str, ...] = ("passes", "inputs", "l2_reads", "lut_reads")
_COMPOSITE_KEYS: tuple[str, ...] = ("steps",)


@dataclass(frozen=True)
class VectorKindCost:
    """Cost of one vector-op kind per element: compute passes, operands, L2 reads, LUT reads."""

    passes: int  # cycles per ceil(numel / lanes)
    inputs: int  # operand tensors read (sizes the working set)
    l2_reads: int  # L2 reads per output element
    lut_reads: int  # LUT reads per output element


@dataclass(frozen=True, eq=False)
class SramEnergyTable:
    """Per-word energies of one SRAM kind over capacity (CACTI, at one port width), pJ per word."""

    capacity_kib: np.ndarray
    port_bytes: int  # the port width the energies were measured at (recorded)
    read_pj: np.ndarray
    write_pj: np.ndarray


@dataclass(frozen=True, eq=False)
class Profile:
    """A technology profile: every number the area and energy models use, with its source."""

    name: str
    node_nm: int
    precision_bits: int
    # area (um^2)
    per_pe_um2: float
    per_lane_um2: float
    min_l2_kib_per_pe: float
    l2_copies: int
    l2_table_kib: np.ndarray
    l2_table_um2: np.ndarray
    glb_table_kib: np.ndarray
    glb_table_um2: np.ndarray
    # energy (pJ), already at the profile's node and precision
    mac_pj: float  # vector-core lane MAC (and the tensor-core MAC unless tc_mac_pj is set)
    tc_mac_pj: float  # tensor-core MAC
    register_pj: float
    register_accesses_per_mac: float
    sram: Mapping[str, SramEnergyTable]  # "l2", "glb": per-word energy tables (SRAM_MEMORIES)
    dram_pj_per_word: float
    lut_pj: float
    reference_tc_mac_pj: float  # recorded, not used
    # leakage
    leakage_mw_per_mm2: float | None  # optional [leakage] section; needed by evaluate_cost(leakage=True)
    # vector core
    vector: Mapping[str, VectorKindCost]
    softmax_fixed_cycles: int
    softmax_passes: int
    softmax_l2_reads: int
    softmax_lut_reads: int
    # accounting of the tensor-core path ([accounting]; defaults: the physical reading)
    fill_drain: float  # 1.0: systolic fill and drain per fold; 0.0: cycles = MACs / active PEs
    tc_l2_operand_buffers: int  # L2 buffers of tc_l2 the GLB -> L2 tiling may fill (1: one shared)
    tc_sram_words_per_charge: float  # words of an SRAM port access charged per word moved (1: per word)
    tc_dram_words_per_charge: float  # likewise for DRAM accesses
    dram_read_write_ports: bool  # False: one DRAM bus for reads and writes; True: dram_bw each way
    tc_bypass_spatial_reuse: bool  # True: the array-side L2 charge of the reference's Sunstone (bypass_l2_words)
    tc_spatial_divisors: bool  # True: the PE array unrolls only exact divisors (hw_models.spatial); False: the last fold is padded
    tc_l2_bw_shared: bool  # True: l2_bw is the bandwidth of all clusters' L2s together; False: each cluster's own
    sources: Mapping[str, str] = field(repr=False)  # "section.key" -> source text, for reports
    fusion: FusionRules = NO_FUSION  # optional [fusion] section (hw_models.fusion)
    layer_count: LayerCount = AS_LOWERED  # optional [layer_count] section (hw_models.layers)


@dataclass(frozen=True, eq=False)
class AccessEnergies:
    """Per-access energies (pJ) for a batch of designs; arrays have the batch length or are scalars."""

    mac_pj: float  # tensor-core MAC
    vc_mac_pj: float  # vector-core lane MAC
    register_pj: float
    register_accesses_per_mac: float
    l2_read_pj: np.ndarray  # per word read from the vector core's L2 (l2_sram_kb)
    l2_write_pj: np.ndarray
    l2_tc_read_pj: np.ndarray  # per word of the tensor core's L2 (at least W*D/64 KiB, see tc_l2_kib)
    l2_tc_write_pj: np.ndarray
    glb_read_pj: np.ndarray  # per word, depends on glb_mb (vector-core path)
    glb_write_pj: np.ndarray
    glb_tc_read_pj: np.ndarray  # the tensor-core path's charge per word
    glb_tc_write_pj: np.ndarray
    dram_pj: float  # per word, read or write (vector-core path)
    dram_tc_pj: float  # the tensor-core path's charge per word
    lut_pj: float


def _entry(data: Mapping[str, Any], section: str, key: str) -> Any:
    item = data[key]
    if not isinstance(item, Mapping) or set(item) != {"value", "unit", "source"}:
        raise HardwareError(f"profile {section}.{key}: must be a table with exactly value, unit and source")
    return item["value"]


def _check_keys(section: str, table: Mapping[str, Any], allowed: tuple[str, ...], sub: tuple[str, ...] = ()) -> None:
    for key in table:
        if key not in allowed and key not in sub:
            raise HardwareError(f"profile {section}: unknown key {key!r}; allowed: {', '.join(allowed + sub)}")
    for key in allowed:
        if key not in table:
            raise HardwareError(f"profile {section}: missing key {key!r}")


def _section(data: Mapping[str, Any], dotted: str) -> Mapping[str, Any]:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise HardwareError(f"profile: missing section [{dotted}]")
        node = node[part]
    return node


def _positive(section: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise HardwareError(f"profile {section}.{key}: {value!r} is not allowed; must be a positive number")
    return float(value)


def _table(section: str, data: Mapping[str, Any], value_key: str = "area_um2") -> tuple[np.ndarray, np.ndarray]:
    """A capacity table: capacity_kib and the value list under `value_key`, both checked."""
    cap = np.asarray(_entry(data, section, "capacity_kib"), dtype=np.float64)
    values = np.asarray(_entry(data, section, value_key), dtype=np.float64)
    if cap.ndim != 1 or cap.shape != values.shape or len(cap) < 2:
        raise HardwareError(f"profile {section}: capacity_kib and {value_key} must be lists of equal length >= 2")
    if np.any(cap <= 0) or np.any(values <= 0) or np.any(np.diff(cap) <= 0):
        raise HardwareError(f"profile {section}: capacities must increase and all values be positive")
    return cap, values


def _parse(data: Mapping[str, Any], origin: str) -> Profile:
    top_allowed = ("profile", "scaling", "area", "energy", "leakage", "vector", "accounting", "fusion", "layer_count")
    for key in data:
        if key not in top_allowed:
            raise HardwareError(f"profile {origin}: unknown section [{key}]; allowed: {', '.join(top_allowed)}")
    sources: dict[str, str] = {}
    values: dict[str, Any] = {}
    subsections = {"area": ("l2_sram", "glb_sram"), "vector": ("primitive", "composite")}
    energy = _section(data, "energy")
    for key in energy:
        if key not in ("mac", "register", "sram", "dram", "lut"):
            raise HardwareError(f"profile energy: unknown section [energy.{key}]; allowed: mac, register, sram, dram, lut")
    for section, keys in _LAYOUT.items():
        table = _section(data, section)
        _check_keys(section, table, keys, subsections.get(section, ()))
        for key in keys:
            if section in ("area.l2_sram", "area.glb_sram"):
                continue
            values[f"{section}.{key}"] = _entry(table, section, key)
            sources[f"{section}.{key}"] = table[key]["source"]

    def num(name: str) -> float:
        section, key = name.rsplit(".", 1)
        return _positive(section, key, values[name])

    precision = int(num("profile.precision_bits"))
    e_scale = num("scaling.energy_45_to_node")
    mac_pj = num("energy.mac.anchor_pj") * e_scale * precision / num("energy.mac.anchor_bits")
    register_pj = (
        num("energy.register.anchor_pj_per_entry")
        * num("energy.register.entries")
        * precision
        / num("energy.register.anchor_bits")
        * e_scale
    )
    sram = {kind: _sram_table(_section(data, "energy.sram"), kind, sources) for kind in SRAM_MEMORIES}
    l2_kib, l2_um2 = _table("area.l2_sram", _section(data, "area.l2_sram"))
    glb_kib, glb_um2 = _table("area.glb_sram", _section(data, "area.glb_sram"))
    for section in ("area.l2_sram", "area.glb_sram"):
        for key in ("capacity_kib", "area_um2"):
            sources[f"{section}.{key}"] = _section(data, section)[key]["source"]

    vector = _parse_vector(_section(data, "vector"), sources)
    acct = _accounting(data.get("accounting", {}), sources)
    sram_port = {kind: float(sram[kind].port_bytes * 8 // precision) for kind in SRAM_MEMORIES}
    name = values["profile.name"]
    if not isinstance(name, str) or not name:
        raise HardwareError(f"profile profile.name: {name!r} is not allowed; must be a non-empty string")
    return Profile(
        name=name,
        node_nm=int(num("profile.node_nm")),
        precision_bits=precision,
        per_pe_um2=num("area.per_pe_um2"),
        per_lane_um2=num("area.per_lane_um2"),
        min_l2_kib_per_pe=num("area.min_l2_kib_per_pe"),
        l2_copies=int(num("area.l2_copies")),
        l2_table_kib=l2_kib,
        l2_table_um2=l2_um2,
        glb_table_kib=glb_kib,
        glb_table_um2=glb_um2,
        mac_pj=mac_pj,
        tc_mac_pj=float(acct.get("tc_mac_pj", mac_pj)),
        register_pj=float(acct.get("register_pj", register_pj)),
        register_accesses_per_mac=num("energy.register.accesses_per_mac"),
        sram=sram,
        dram_pj_per_word=num("energy.dram.pj_per_bit") * precision,
        lut_pj=num("energy.lut.pj_per_read"),
        reference_tc_mac_pj=num("energy.mac.reference_tc_pj"),
        leakage_mw_per_mm2=_leakage(data),
        vector=vector,
        softmax_fixed_cycles=int(num("vector.softmax_fixed_cycles")),
        softmax_passes=int(num("vector.softmax_passes")),
        softmax_l2_reads=int(num("vector.softmax_l2_reads")),
        softmax_lut_reads=int(values["vector.softmax_lut_reads"]),
        fill_drain=1.0 if acct.get("systolic_fill_drain", True) else 0.0,
        tc_l2_operand_buffers=int(acct.get("tc_l2_operand_buffers", 1)),
        tc_sram_words_per_charge=_words_per_charge(acct, sram_port),
        tc_dram_words_per_charge=max(float(acct.get("dram_access_bits", precision)) / precision, 1.0) if acct.get("tc_word_costs_full_access", False) else 1.0,
        dram_read_write_ports=bool(acct.get("dram_read_write_ports", False)),
        tc_bypass_spatial_reuse=bool(acct.get("tc_bypass_spatial_reuse", False)),
        tc_spatial_divisors=bool(acct.get("tc_spatial_divisors", False)),
        tc_l2_bw_shared=bool(acct.get("tc_l2_bw_shared", False)),
        sources=sources,
        fusion=parse_fusion(data.get("fusion"), sources),
        layer_count=parse_layer_count(data.get("layer_count"), sources),
    )


def _sram_table(table: Mapping[str, Any], kind: str, sources: dict[str, str]) -> SramEnergyTable:
    """[energy.sram.<kind>]: a CACTI capacity table of read and write energies per word."""
    _check_keys("energy.sram", table, (), SRAM_MEMORIES)
    if kind not in table:
        raise HardwareError(f"profile: missing section [energy.sram.{kind}]")
    section = f"energy.sram.{kind}"
    entry = table[kind]
    _check_keys(section, entry, _SRAM_KEYS)
    vals = {key: _entry(entry, section, key) for key in _SRAM_KEYS}
    for key in _SRAM_KEYS:
        sources[f"{section}.{key}"] = entry[key]["source"]
    cap, read = _table(section, entry, "read_pj_per_word")
    _, write = _table(section, entry, "write_pj_per_word")
    port = _positive(section, "port_bytes", vals["port_bytes"])
    if port != int(port):
        raise HardwareError(f"profile {section}.port_bytes: {port!r} is not allowed; must be a whole number of bytes")
    return SramEnergyTable(cap, int(port), read, write)


def _accounting(table: Mapping[str, Any], sources: dict[str, str]) -> dict[str, Any]:
    """The optional [accounting] section, checked: numbers positive, flags booleans."""
    out: dict[str, Any] = {}
    for key in table:
        if key not in _ACCOUNTING_KEYS:
            raise HardwareError(f"profile accounting: unknown key {key!r}; allowed: {', '.join(_ACCOUNTING_KEYS)}")
        value = _entry(table, "accounting", key)
        sources[f"accounting.{key}"] = table[key]["source"]
        if key in ("systolic_fill_drain", "tc_word_costs_full_access", "dram_read_write_ports", "tc_bypass_spatial_reuse",
                   "tc_spatial_divisors", "tc_l2_bw_shared"):
            if not isinstance(value, bool):
                raise HardwareError(f"profile accounting.{key}: {value!r} is not allowed; must be true or false")
            out[key] = value
        elif key in ("tc_l2_operand_buffers", "dram_access_bits"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise HardwareError(f"profile accounting.{key}: {value!r} is not allowed; must be a whole number >= 1")
            out[key] = value
        else:
            out[key] = _positive("accounting", key, value)
    return out


def _words_per_charge(acct: Mapping[str, Any], sram_port_words: Mapping[str, float]) -> float:
    """Words per SRAM port access: the tensor-core path charges a whole access per word when asked."""
    if not acct.get("tc_word_costs_full_access", False):
        return 1.0
    widths = set(sram_port_words.values())
    if len(widths) != 1:
        raise HardwareError("profile accounting.tc_word_costs_full_access: needs the L2 and GLB tables at one port width")
    return widths.pop()


def _parse_vector(table: Mapping[str, Any], sources: dict[str, str]) -> dict[str, VectorKindCost]:
    primitives: dict[str, VectorKindCost] = {}
    for kind, entry in table.get("primitive", {}).items():
        section = f"vector.primitive.{kind}"
        if kind not in VECTOR_KINDS:
            raise HardwareError(f"profile {section}: unknown vector kind {kind!r}; allowed: {', '.join(VECTOR_KINDS)}")
        _check_keys(section, entry, _PRIMITIVE_KEYS)
        vals = {k: _entry(entry, section, k) for k in _PRIMITIVE_KEYS}
        for k, v in vals.items():
            if isinstance(v, bool) or not isinstance(v, int) or v < 0 or (k in ("passes", "inputs") and v < 1):
                raise HardwareError(f"profile {section}.{k}: {v!r} is not allowed; must be a whole number >= {int(k in ('passes', 'inputs'))}")
            sources[f"{section}.{k}"] = entry[k]["source"]
        primitives[kind] = VectorKindCost(**vals)
    kinds = dict(primitives)
    for kind, entry in table.get("composite", {}).items():
        section = f"vector.composite.{kind}"
        if kind not in VECTOR_KINDS or kind in primitives:
            raise HardwareError(f"profile {section}: {kind!r} is not allowed; must be a vector kind that is not a primitive")
        _check_keys(section, entry, _COMPOSITE_KEYS)
        steps = _entry(entry, section, "steps")
        if not isinstance(steps, list) or not steps or any(s not in primitives for s in steps):
            raise HardwareError(f"profile {section}.steps: {steps!r} is not allowed; must list primitive kinds ({', '.join(primitives)})")
        sources[f"{section}.steps"] = entry["steps"]["source"]
        # The composite runs in lane registers: one read of its input, passes and LUT reads add up.
        kinds[kind] = VectorKindCost(
            passes=sum(primitives[s].passes for s in steps),
            inputs=1,
            l2_reads=1,
            lut_reads=sum(primitives[s].lut_reads for s in steps),
        )
    missing = [k for k in VECTOR_KINDS if k not in kinds and k != "softmax"]
    if missing:
        raise HardwareError(f"profile vector: no cost for kinds {missing}; every kind in VECTOR_KINDS needs one")
    return kinds


@functools.lru_cache(maxsize=16)
def _load_cached(name: str) -> Profile:
    if name.endswith(".toml"):
        from catransformers_errors.files import read_toml

        return _parse(read_toml(name, "profile file", HardwareError), name)
    if name not in PROFILE_FILES:
        raise HardwareError(f"profile: unknown profile {name!r}; available: {', '.join(sorted(PROFILE_FILES))} or a path to a .toml file")
    with resources.files("hw_models").joinpath("data", PROFILE_FILES[name]).open("rb") as fh:
        return _parse(tomllib.load(fh), name)


def load_profile(profile: "str | Profile" = "reference") -> Profile:
    """A technology profile by name (see PROFILE_FILES) or TOML path; a Profile passes through."""
    if isinstance(profile, Profile):
        return profile
    if not isinstance(profile, str):
        raise HardwareError(f"profile: {profile!r} is not allowed; must be a profile name, a .toml path or a Profile")
    return _load_cached(profile)


def check_profile_matches(hw: HardwareBatch, profile: Profile) -> None:
    """The profile's tables hold for one node and one precision; other designs are errors."""
    for name, want in (("node_nm", profile.node_nm), ("precision_bits", profile.precision_bits)):
        arr = getattr(hw, name)
        bad = arr[arr != want]
        if bad.size:
            raise HardwareError(f"hardware.{name}: {int(bad[0])} is not allowed; profile {profile.name!r} holds for {want}")


SRAM_ACCESSES: tuple[str, ...] = ("read", "write")


def sram_pj_per_word(capacity_bytes: Any, profile: Profile, *, memory: str, access: str) -> np.ndarray:
    """Energy of one word read or written (`access`) at an SRAM of the given capacity (pJ).

    `memory` picks the profile's table ("l2" or "glb", see SRAM_MEMORIES): CACTI's read or
    write energy per word, log-log between table points, end-segment slope outside.
    """
    if memory not in profile.sram:
        raise HardwareError(f"sram_pj_per_word: memory={memory!r} is not allowed; allowed: {', '.join(profile.sram)}")
    if access not in SRAM_ACCESSES:
        raise HardwareError(f"sram_pj_per_word: access={access!r} is not allowed; allowed: {', '.join(SRAM_ACCESSES)}")
    return _sram_pj(np.asarray(capacity_bytes, dtype=np.float64) / BYTES_PER_KIB, profile.sram[memory], access)


def _sram_pj(capacity_kib: np.ndarray, table: SramEnergyTable, access: str) -> np.ndarray:
    values = table.read_pj if access == "read" else table.write_pj
    return loglog_table(capacity_kib, table.capacity_kib, values)


def loglog_table(x: Any, table_x: np.ndarray, table_y: np.ndarray) -> np.ndarray:
    """A capacity table: log-log interpolation, end-segment slope outside (SRAM areas and energies)."""
    lx = np.log(np.asarray(x, dtype=np.float64))
    xs, ys = np.log(table_x), np.log(table_y)
    # Segment index per point, clipped so that points beyond either end use the end segment.
    seg = np.clip(np.searchsorted(xs, lx, side="right") - 1, 0, len(xs) - 2)
    slope = (ys[seg + 1] - ys[seg]) / (xs[seg + 1] - xs[seg])
    return np.exp(ys[seg] + slope * (lx - xs[seg]))


def tc_l2_kib(hw: HardwareBatch, profile: Profile) -> np.ndarray:
    """The tensor core's L2 (KiB): l2_sram_kb, bumped to the PE array's minimum as the area pays for."""
    return _tc_l2_kib(hw.l2_sram_kb, hw.pe_width, hw.pe_depth, profile)


def _tc_l2_kib(l2_sram_kb: np.ndarray, pe_width: np.ndarray, pe_depth: np.ndarray, profile: Profile) -> np.ndarray:
    return np.maximum(l2_sram_kb.astype(np.float64), pe_width * pe_depth * profile.min_l2_kib_per_pe)


def access_energies(hw: HardwareBatch, profile: Profile, codes: FieldCodes | None = None) -> AccessEnergies:
    """Per-access energies for every design of the batch (reads and writes apart); `codes`: the batch's field codes, if at hand."""
    codes = FieldCodes(hw) if codes is None else codes
    l2, glb = profile.sram["l2"], profile.sram["glb"]
    tc = profile.tc_sram_words_per_charge
    out: dict[str, Any] = {}
    # Reads and writes from one pass over the distinct capacities of each memory.
    both = lambda kib, table: tuple(_sram_pj(kib, table, access) for access in SRAM_ACCESSES)  # noqa: E731
    l2_pj = codes.per_distinct(lambda kib: both(kib.astype(np.float64), l2), "l2_sram_kb")
    l2_tc_pj = codes.per_distinct(lambda kib, w, d: both(_tc_l2_kib(kib, w, d, profile), l2), "l2_sram_kb", "pe_width", "pe_depth")
    glb_pj = codes.per_distinct(lambda mib: both(mib.astype(np.float64) * BYTES_PER_KIB, glb), "glb_mb")
    for i, access in enumerate(SRAM_ACCESSES):
        out[f"l2_{access}_pj"] = l2_pj[i]
        out[f"l2_tc_{access}_pj"] = tc * l2_tc_pj[i]
        out[f"glb_{access}_pj"] = glb_pj[i]
        out[f"glb_tc_{access}_pj"] = tc * glb_pj[i]
    return AccessEnergies(
        mac_pj=profile.tc_mac_pj,
        vc_mac_pj=profile.mac_pj,
        register_pj=profile.register_pj,
        register_accesses_per_mac=profile.register_accesses_per_mac,
        dram_pj=profile.dram_pj_per_word,
        dram_tc_pj=profile.dram_pj_per_word * profile.tc_dram_words_per_charge,
        lut_pj=profile.lut_pj,
        **out,
    )


def _leakage(data: Mapping[str, Any]) -> float | None:
    """The optional [leakage] section: a sourced density, or None when the profile has none."""
    if "leakage" not in data:
        return None
    table = data["leakage"]
    for key in table:
        if key != "mw_per_mm2":
            raise HardwareError(f"profile leakage: unknown key {key!r}; allowed: mw_per_mm2")
    return _positive("leakage", "mw_per_mm2", _entry(table, "leakage", "mw_per_mm2"))


def leakage_power_w(area_mm2: np.ndarray, profile: Profile) -> np.ndarray:
    """Static power of the die (W) from its area and the profile's leakage density."""
    if profile.leakage_mw_per_mm2 is None:
        raise HardwareError(
            f"leakage: profile {profile.name!r} has no [leakage] mw_per_mm2; add one (mW per mm^2, with its source) "
            "to a profile file to charge leakage"
        )
    return np.asarray(area_mm2, dtype=np.float64) * profile.leakage_mw_per_mm2 / MW_PER_W


def _pow2_part(x: np.ndarray) -> np.ndarray:
    """The largest power of two that divides each whole number of x."""
    v = np.asarray(x, dtype=np.int64)
    return (v & -v).astype(np.float64)


def bypass_l2_words(k: Any, n: Any, pe_width: Any, pe_depth: Any) -> np.ndarray:
    """Array-side L2 accesses per MAC of a GEMM (M x K).(K x N) as the reference's Sunstone charges them.

    Its register holds weights only (inputs and outputs bypass it), and a bypassed operand is
    charged at the L2 once per MAC divided by its reuse at the register level: the spatial
    multicast of an input over the Ns PEs that unroll output columns, the reduction of a partial
    sum over the Ks PEs that unroll the reduction, read and updated (2 accesses). The unroll uses
    divisors of the dimensions that fill the pe_width x pe_depth array (powers of two on this
    grid), Ns * Ks <= W * D, split for the least 1/Ns + 2/Ks. Weights add one L2 read each (they
    stay in the register over the M rows), i.e. 1/M per MAC, counted by the caller.
    """
    kp, npow = _pow2_part(k), _pow2_part(n)
    pes = np.asarray(pe_width, np.float64) * np.asarray(pe_depth, np.float64)
    best = None
    for a in range(int(np.log2(pes.max())) + 1):
        ns = np.minimum(npow, 2.0**a)
        ks = np.minimum(kp, np.maximum(pes / ns, 1.0))
        f = 1.0 / ns + 2.0 / ks
        best = f if best is None else np.minimum(best, f)
    return best
