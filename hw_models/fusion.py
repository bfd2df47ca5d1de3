"""Operator fusion as a pass over the operator graph, with the rules a profile's [fusion] section selects."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from .errors import HardwareError
from .workload import VECTOR_KINDS, Gemm, VectorOp, Workload

__all__ = ["FusionRules", "NO_FUSION", "parse_fusion", "fuse"]


@dataclass(frozen=True)
class FusionRules:
    """Which vector-op kinds fold into the GEMM that produces their input, and what each then costs.

    A fused op costs `cycles[kind]` cycles once per GEMM (not per element) and no energy: its
    values are computed on the GEMM's output stream before it leaves the array. Empty `cycles`
    (the default) means no fusion.
    """

    cycles: Mapping[str, int] = field(default_factory=dict)
    source: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.cycles)


NO_FUSION = FusionRules()

_KEYS = ("enabled", "cycles")


def parse_fusion(table: Mapping[str, Any] | None, sources: dict[str, str]) -> FusionRules:
    """A profile's optional [fusion] section: `enabled` (bool) and `cycles` (kind -> cycles per fused op)."""
    if table is None:
        return NO_FUSION
    for key in table:
        if key not in _KEYS:
            raise HardwareError(f"profile fusion: unknown key {key!r}; allowed: {', '.join(_KEYS)}")
    entries = {}
    for key in _KEYS:
        item = table.get(key)
        if key == "cycles" and item is None:
            entries[key] = {}
            continue
        if not isinstance(item, Mapping) or set(item) != {"value", "unit", "source"}:
            raise HardwareError(f"profile fusion.{key}: must be a table with exactly value, unit and source")
        entries[key] = item["value"]
        sources[f"fusion.{key}"] = item["source"]
    enabled = entries["enabled"]
    if not isinstance(enabled, bool):
        raise HardwareError(f"profile fusion.enabled: {enabled!r} is not allowed; must be true or false")
    cycles = entries["cycles"]
    if not isinstance(cycles, Mapping):
        raise HardwareError(f"profile fusion.cycles: {cycles!r} is not allowed; must be a table kind = cycles")
    out: dict[str, int] = {}
    for kind, c in cycles.items():
        if kind not in VECTOR_KINDS:
            raise HardwareError(f"profile fusion.cycles: kind {kind!r} is not allowed; allowed: {', '.join(VECTOR_KINDS)}")
        if isinstance(c, bool) or not isinstance(c, int) or c < 0:
            raise HardwareError(f"profile fusion.cycles.{kind}: {c!r} is not allowed; must be a whole number >= 0")
        out[kind] = c
    if enabled and not out:
        raise HardwareError("profile fusion: enabled = true needs at least one kind in fusion.cycles")
    return FusionRules(cycles=out if enabled else {}, source=str(sources.get("fusion.cycles", "")))


def fuse(workload: Workload, rules: FusionRules) -> Workload:
    """Fold fusable vector ops into the GEMM that produces their only input.

    A vector op V folds into GEMM G when V's kind is in `rules`, V reads nothing produced by
    another op (its one incoming edge is from G, with no data-movement step that brings in
    other data), and V is the only reader of that tensor of G. V then leaves the op list, its
    outgoing edges start at G, and G is charged `rules.cycles[V.kind]` cycles; the rule
    applies again to what V fed, so a chain of epilogue ops folds into one GEMM. Ops of other
    repeat counts never fuse. Without edges, or without rules, the workload is returned as is.
    """
    if not rules.enabled or not workload.edges:
        return workload
    succ = workload.successors()
    pred: dict[str, list] = {op.name: [] for op in workload.ops}
    for e in workload.edges:  # carried edges count as inputs: the previous repetition's output
        pred[e.dst].append(e)
    ops = {op.name: op for op in workload.ops}
    owner: dict[str, str] = {}  # fused vector op -> GEMM it went into
    extra: dict[str, int] = {}
    fused: dict[str, list[str]] = {}

    def host(name: str) -> str:
        while name in owner:
            name = owner[name]
        return name

    for op in workload.ops:  # execution order: producers before consumers
        if not isinstance(op, VectorOp) or op.kind not in rules.cycles:
            continue
        into = pred[op.name]
        if len({e.src for e in into}) != 1 or any(e.through for e in into):
            continue
        src = into[0].src
        tensors = {e.tensor for e in into}
        readers = {e.dst for e in succ[src] if e.tensor in tensors}
        gemm_name = host(src)
        gemm = ops[gemm_name]
        if readers != {op.name} or not isinstance(gemm, Gemm) or not _same_repeat(gemm.repeat, op.repeat):
            continue
        owner[op.name] = gemm_name
        extra[gemm_name] = extra.get(gemm_name, 0) + rules.cycles[op.kind]
        fused.setdefault(gemm_name, []).append(op.name)
    if not owner:
        return workload
    new_ops = []
    for op in workload.ops:
        if op.name in owner:
            continue
        if op.name in extra:
            op = replace(op, fused=op.fused + tuple(fused[op.name]), epilogue_cycles=op.epilogue_cycles + extra[op.name])
        new_ops.append(op)
    edges = []
    for e in workload.edges:
        src, dst = host(e.src), e.dst
        if dst in owner:
            continue  # the edge into a fused op is now inside its GEMM
        edges.append(replace(e, src=src))
    return Workload(tuple(new_ops), name=workload.name, edges=tuple(edges), layers_counted=workload.layers_counted)


def _same_repeat(a: np.ndarray, b: np.ndarray) -> bool:
    return a is b or (a.shape == b.shape and bool(np.array_equal(a, b)))
