"""The hand-off between model side and hardware side: GEMMs and vector ops, vectorised over designs.

Every shape field is an int64 array broadcastable to the number of designs `n` (a plain int
is the batch-of-one case). Ops with `repeat` > 1 (identical layers) are costed once and
multiplied. A workload may carry its data dependencies (`edges`): the operator graph, which
`catransformers.workloads.op_graph` turns into a networkx DiGraph (docs/workloads.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence, Union

import numpy as np

from .errors import HardwareError

__all__ = ["Gemm", "VectorOp", "Op", "Edge", "Workload", "VECTOR_KINDS"]

# Vector-unit op kinds the cost model knows (docs/reference-facts.md section 1.3).
VECTOR_KINDS: tuple[str, ...] = (
    "layernorm",
    "add",
    "mul",
    "relu",
    "gelu",
    "quick_gelu",
    "silu",
    "softmax",
    "div",
    "sigmoid",
    "tanh",
    "erf",
    "pow",
    "sqrt",
    "rmsnorm",
)


def _as_shape(name: str, field_name: str, value, allow_zero: bool = False) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value))
    if arr.ndim != 1:
        raise HardwareError(f"op {name!r}: {field_name} must be a scalar or 1-D array, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise HardwareError(f"op {name!r}: {field_name} must be whole numbers, got {arr.ravel()[:3].tolist()}")
        arr = arr.astype(np.int64)
    low = 0 if allow_zero else 1
    if np.any(arr < low):
        bad = arr[arr < low][0]
        raise HardwareError(f"op {name!r}: {field_name}={bad} is not allowed; must be >= {low}")
    return arr.astype(np.int64, copy=False)


@dataclass(frozen=True, eq=False)
class Gemm:
    """(M x K) . (K x N), `batch` independent copies (e.g. attention heads), `repeat` identical layers."""

    name: str
    m: np.ndarray
    k: np.ndarray
    n: np.ndarray
    batch: np.ndarray = field(default_factory=lambda: np.ones(1, np.int64))
    repeat: np.ndarray = field(default_factory=lambda: np.ones(1, np.int64))
    group: str = ""  # e.g. "vision.block": for per-layer breakdowns
    # Set by the fusion pass (hw_models.fusion): the vector ops folded into this GEMM's output
    # stream and the cycles the profile charges for them (per GEMM, before `repeat`).
    fused: tuple[str, ...] = ()
    epilogue_cycles: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))

    def __post_init__(self) -> None:
        for f in ("m", "k", "n", "batch"):
            object.__setattr__(self, f, _as_shape(self.name, f, getattr(self, f)))
        object.__setattr__(self, "repeat", _as_shape(self.name, "repeat", self.repeat, allow_zero=True))
        object.__setattr__(self, "fused", tuple(self.fused))
        object.__setattr__(self, "epilogue_cycles", _as_shape(self.name, "epilogue_cycles", self.epilogue_cycles, allow_zero=True))

    @property
    def macs(self) -> np.ndarray:
        return self.m * self.k * self.n * self.batch * self.repeat


@dataclass(frozen=True, eq=False)
class VectorOp:
    """An elementwise or row-wise op on the vector unit: `elements` values, rows of `row` values."""

    name: str
    kind: str
    elements: np.ndarray
    row: np.ndarray = field(default_factory=lambda: np.ones(1, np.int64))  # last-dim length (softmax, norms)
    repeat: np.ndarray = field(default_factory=lambda: np.ones(1, np.int64))
    group: str = ""

    def __post_init__(self) -> None:
        if self.kind not in VECTOR_KINDS:
            raise HardwareError(f"op {self.name!r}: kind={self.kind!r} is not allowed; allowed: {', '.join(VECTOR_KINDS)}")
        object.__setattr__(self, "elements", _as_shape(self.name, "elements", self.elements))
        object.__setattr__(self, "row", _as_shape(self.name, "row", self.row))
        object.__setattr__(self, "repeat", _as_shape(self.name, "repeat", self.repeat, allow_zero=True))


Op = Union[Gemm, VectorOp]


@dataclass(frozen=True)
class Edge:
    """Op `dst` reads tensor `tensor` that op `src` writes.

    `carried`: the edge runs from one repetition of a repeated block to the next (layer l's
    output feeds layer l+1); without those edges the graph is acyclic. `through`: a data-movement step between the two ops that
    brings in other data too (e.g. "concat" of the class token), which blocks fusion.
    """

    src: str
    dst: str
    tensor: str = "out"
    carried: bool = False
    through: str = ""


@dataclass(frozen=True, eq=False)
class Workload:
    """An ordered list of ops (a valid execution order); every shape array broadcasts to `n` designs."""

    ops: tuple[Op, ...]
    name: str = ""
    edges: tuple[Edge, ...] = ()
    # Set by hw_models.layers.count_layers: the repeats are already what a profile charges, so
    # counting them again (evaluate_cost on this workload) changes nothing.
    layers_counted: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", tuple(self.ops))
        object.__setattr__(self, "edges", tuple(self.edges))
        if not self.ops:
            raise HardwareError(f"workload {self.name!r}: has no ops")
        names = [op.name for op in self.ops]
        dup = {x for x in names if names.count(x) > 1}
        if dup:
            raise HardwareError(f"workload {self.name!r}: op names must be unique, repeated: {sorted(dup)}")
        known = set(names)
        for e in self.edges:
            if not isinstance(e, Edge):
                raise HardwareError(f"workload {self.name!r}: edges must be Edge objects, got {type(e).__name__}")
            for end in (e.src, e.dst):
                if end not in known:
                    raise HardwareError(f"workload {self.name!r}: edge {e.src!r} -> {e.dst!r} names unknown op {end!r}")
        lengths = {len(a) for op in self.ops for a in _arrays(op)}
        lengths.discard(1)
        if len(lengths) > 1:
            raise HardwareError(f"workload {self.name!r}: op arrays have mismatched lengths {sorted(lengths)}")
        # Kept: the ops are frozen, and evaluate_cost asks on every call.
        object.__setattr__(self, "_n", lengths.pop() if lengths else 1)

    @property
    def n(self) -> int:
        return self._n  # type: ignore[attr-defined]

    @property
    def gemms(self) -> tuple[Gemm, ...]:
        return tuple(op for op in self.ops if isinstance(op, Gemm))

    @property
    def vector_ops(self) -> tuple[VectorOp, ...]:
        return tuple(op for op in self.ops if isinstance(op, VectorOp))

    @property
    def op_names(self) -> tuple[str, ...]:
        return tuple(op.name for op in self.ops)

    def macs(self) -> np.ndarray:
        """Total MACs per design."""
        total = np.zeros(self.n, np.int64)
        for g in self.gemms:
            total = total + g.macs
        return total

    def successors(self) -> dict[str, list[Edge]]:
        """Op name -> the non-carried edges leaving it (the operator graph as adjacency lists)."""
        out: dict[str, list[Edge]] = {op.name: [] for op in self.ops}
        for e in self.edges:
            if not e.carried:
                out[e.src].append(e)
        return out

    @classmethod
    def concat(cls, parts: Sequence["Workload"], name: str = "", edges: Sequence[Edge] = ()) -> "Workload":
        """The ops of `parts` in order, their edges, and `edges` between them."""
        return cls(tuple(op for w in parts for op in w.ops), name=name,
                   edges=tuple(e for w in parts for e in w.edges) + tuple(edges))


def _arrays(op: Op) -> tuple[np.ndarray, ...]:
    if isinstance(op, Gemm):
        return (op.m, op.k, op.n, op.batch, op.repeat, op.epilogue_cycles)
    return (op.elements, op.row, op.repeat)
