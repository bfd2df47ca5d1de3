"""The public entry point: latency, energy, area and TOPS of a workload on one or many designs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .area import UM2_PER_MM2
from .area import batch_area_um2
from .area import tops as _tops
from .config import HardwareBatch, HardwareConfig
from .energy import ENERGY_COMPONENTS, PJ_PER_J, Profile, access_energies, check_profile_matches, leakage_power_w, load_profile
from .errors import HardwareError
from .context import make_context
from .fusion import fuse
from .layers import count_layers
from .gemm import BOUNDS, gemm_groups, gemm_one, mapping_names
from .grouping import FieldCodes, batch_length
from .vector import vector_one
from .workload import Gemm, VectorOp, Workload

__all__ = ["CostReport", "evaluate_cost"]

HZ_PER_MHZ = 1e6


@dataclass(frozen=True, eq=False)
class CostReport:
    """Cost of a workload on n designs; per-op rows (already times `repeat`) add up to the totals."""

    latency_s: np.ndarray  # (n,)
    energy_j: np.ndarray  # (n,)
    area_um2: np.ndarray  # (n,)
    area_mm2: np.ndarray  # (n,)
    tops: np.ndarray  # (n,)
    macs: np.ndarray  # (n,)
    op_names: tuple[str, ...]
    op_latency_s: np.ndarray  # (n_ops, n)
    op_energy_j: np.ndarray  # (n_ops, n)
    op_cycles: np.ndarray  # (n_ops, n)
    energy_by_component: dict[str, np.ndarray]  # name -> (n,), see ENERGY_COMPONENTS
    _workload: Workload = field(repr=False)
    _hw: HardwareBatch = field(repr=False)
    _profile: Profile = field(repr=False)
    _leakage: bool = field(repr=False)

    def __len__(self) -> int:
        return len(self.latency_s)

    def op_table(self, i: int = 0) -> list[dict[str, Any]]:
        """Per-op rows for design i: name, kind, group, macs, latency_s, energy_j, utilisation, bound, mapping."""
        n = len(self)
        if not -n <= i < n:
            raise HardwareError(f"op_table: design index {i} is not allowed; must be in [0, {n})")
        i %= n
        wl = _take_workload(self._workload, i)
        hw = self._hw.take([i if len(self._hw) > 1 else 0])
        ctx = make_context(hw, access_energies(hw, self._profile), self._profile, 1)
        rows = []
        for j, op in enumerate(wl.ops):
            repeat = float(op.repeat[0])
            if isinstance(op, Gemm):
                res = gemm_one(op, ctx, detail=True)
                d = res.detail
                mapping = {**mapping_names(d), "fused": list(op.fused)}
                kind, macs = "gemm", float(res.macs[0]) * repeat
            else:
                res = vector_one(op, ctx, detail=True)
                d = res.detail
                mapping = {"lanes": int(d["lanes"][0])}
                kind, macs = op.kind, 0.0
            rows.append(
                {
                    "name": op.name,
                    "kind": kind,
                    "group": op.group,
                    "macs": macs,
                    "latency_s": float(self.op_latency_s[j, i]),
                    "energy_j": float(self.op_energy_j[j, i]),
                    "cycles": float(self.op_cycles[j, i]),
                    "utilisation": float(d["utilisation"][0]),
                    "bound": BOUNDS[int(d["bound"][0])],
                    "mapping": mapping,
                }
            )
        return rows


def _take_workload(wl: Workload, i: int) -> Workload:
    def pick(a: np.ndarray) -> np.ndarray:
        return a[i : i + 1] if a.size > 1 else a

    ops = []
    for op in wl.ops:
        if isinstance(op, Gemm):
            ops.append(Gemm(op.name, pick(op.m), pick(op.k), pick(op.n), pick(op.batch), pick(op.repeat), op.group,
                            op.fused, pick(op.epilogue_cycles)))
        else:
            ops.append(VectorOp(op.name, op.kind, pick(op.elements), pick(op.row), pick(op.repeat), op.group))
    return Workload(tuple(ops), wl.name, wl.edges)


def _array_key(a: np.ndarray) -> tuple:
    """A shape array as a key: its value when constant, else the array itself (by identity, alive during the call)."""
    return ("value", int(a[0])) if a.size == 1 else ("array", id(a))


def _vector_key(op: VectorOp) -> tuple:
    return (op.kind, _array_key(op.elements), _array_key(op.row))


def _as_batch(hw: "HardwareBatch | HardwareConfig") -> HardwareBatch:
    if isinstance(hw, HardwareConfig):
        return HardwareBatch.from_configs(hw)
    if not isinstance(hw, HardwareBatch):
        raise HardwareError(f"hardware: {type(hw).__name__} is not allowed; pass a HardwareBatch or HardwareConfig")
    return hw


def evaluate_cost(
    workload: Workload,
    hw: "HardwareBatch | HardwareConfig",
    profile: "str | Profile" = "reference",
    leakage: bool = False,
) -> CostReport:
    """Latency, energy, area and TOPS of `workload` on the designs of `hw`.

    Workload arrays of length n_w and hardware of length n_h broadcast: equal lengths pair
    model i with design i; a length of 1 on either side is shared by all. Ops run one after
    another (no overlap of tensor and vector cores), batch 1. Dynamic energy only unless
    `leakage`, which adds the profile's leakage power x latency per op.
    """
    if not isinstance(workload, Workload):
        raise HardwareError(f"workload: {type(workload).__name__} is not allowed; pass a Workload")
    hw = _as_batch(hw)
    prof = load_profile(profile)
    check_profile_matches(hw, prof)
    workload = fuse(workload, prof.fusion)  # the profile's fusion pass over the operator graph
    workload = count_layers(workload, prof.layer_count)  # how many layers of each block the profile charges
    use_leakage = bool(leakage)
    n = batch_length(len(hw), workload.n)
    field_codes = FieldCodes(hw)  # the batch's field codes, shared by the energies, the context and the area
    ctx = make_context(hw, access_energies(hw, prof, field_codes), prof, n, field_codes)

    n_ops = len(workload.ops)
    op_cycles = np.empty((n_ops, n))
    op_energy_pj = np.empty((n_ops, n))
    # Component sums are accumulated per distinct `repeat` array and multiplied once at the
    # end (ops of one tower share their layer count), which saves a multiply per op and part.
    groups: dict[int, tuple[np.ndarray | float, dict[str, np.ndarray]]] = {}
    e = ctx.energies
    per_mac_pj = e.mac_pj + e.register_accesses_per_mac * e.register_pj
    gemms = [op for op in workload.ops if isinstance(op, Gemm)]
    gemm_results = dict(zip(map(id, gemms), gemm_groups(gemms, ctx, detail=False)))
    # Vector ops of the same kind and shape (a tower's layer norms, its residual adds) cost the
    # same: each is costed once and its result kept until the last op that uses it.
    vector_keys = {j: _vector_key(op) for j, op in enumerate(workload.ops) if isinstance(op, VectorOp)}
    last_use = {key: j for j, key in vector_keys.items()}
    vector_results: dict[tuple, Any] = {}
    for j, op in enumerate(workload.ops):
        key = id(op.repeat) if op.repeat.size > 1 else -int(op.repeat[0]) - 1
        if key not in groups:
            groups[key] = (op.repeat.astype(np.float64) if op.repeat.size > 1 else float(op.repeat[0]), {})
        repeat, acc = groups[key]
        # The op's energy is summed in its own row of op_energy_pj (no temporaries), then x repeat.
        energy = op_energy_pj[j]
        if isinstance(op, Gemm):
            res = gemm_results.pop(id(op))  # released as soon as it is used
            parts = {"macs": res.macs, "l2": res.l2_pj, "glb": res.glb_pj, "dram": res.dram_pj}
            np.multiply(res.macs, per_mac_pj, out=energy)
            started = True
        else:
            vkey = vector_keys[j]
            res = vector_results.pop(vkey, None) if last_use[vkey] == j else vector_results.get(vkey)
            if res is None:
                res = vector_one(op, ctx, detail=False)
                if last_use[vkey] != j:
                    vector_results[vkey] = res
            parts = {"vector": res.vector_pj, "l2": res.l2_pj, "glb": res.glb_pj, "dram": res.dram_pj}
            started = False
        for name, value in parts.items():
            if not isinstance(value, np.ndarray) and value == 0:
                continue  # a vector op that never spills to the GLB or DRAM
            if name != "macs":
                if not started:
                    energy[...] = value
                    started = True
                else:
                    energy += value
            if name in acc:
                acc[name] += value
            else:
                acc[name] = np.array(value, dtype=np.float64)  # a copy we may add into
        cycles = res.cycles + op.epilogue_cycles if isinstance(op, Gemm) and op.fused else res.cycles
        np.multiply(cycles, repeat, out=op_cycles[j])
        energy *= repeat

    comp = {name: np.zeros(n) for name in ENERGY_COMPONENTS}
    macs = np.zeros(n)
    for repeat, acc in groups.values():
        for name, value in acc.items():
            value *= repeat
            if name == "macs":
                macs += value
            else:
                comp[name] += value
    comp["mac"] = macs * e.mac_pj
    comp["register"] = macs * (e.register_accesses_per_mac * e.register_pj)

    freq_hz = hw.frequency_mhz * HZ_PER_MHZ
    # One frequency for the whole batch (the usual case) divides as a scalar: the same quotients, half the memory traffic.
    op_latency_s = op_cycles / (float(freq_hz[0]) if np.all(freq_hz == freq_hz[0]) else np.broadcast_to(freq_hz, (n,)))
    op_energy_pj /= PJ_PER_J  # in place: the joules take the picojoules' buffer
    op_energy_j = op_energy_pj
    energy_by_component = {name: value / PJ_PER_J for name, value in comp.items()}
    a_um2 = np.broadcast_to(batch_area_um2(hw, prof, field_codes), (n,)).copy()
    a_mm2 = a_um2 / UM2_PER_MM2
    if use_leakage:
        # Leakage power burns for as long as each op runs, so it is charged per op.
        op_leak_j = leakage_power_w(a_mm2, prof) * op_latency_s
        op_energy_j = op_energy_j + op_leak_j
        energy_by_component["leakage"] = op_leak_j.sum(axis=0)
    return CostReport(
        latency_s=op_latency_s.sum(axis=0),
        energy_j=op_energy_j.sum(axis=0),
        area_um2=a_um2,
        area_mm2=a_mm2,
        tops=np.broadcast_to(_tops(hw), (n,)).copy(),
        macs=macs,
        op_names=workload.op_names,
        op_latency_s=op_latency_s,
        op_energy_j=op_energy_j,
        op_cycles=op_cycles,
        energy_by_component=energy_by_component,
        _workload=workload,
        _hw=hw,
        _profile=prof,
        _leakage=use_leakage,
    )
