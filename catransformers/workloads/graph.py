"""The operator graph of a lowered model as a networkx DiGraph, and its GEMM dataflow graph."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from hw_models import Gemm, Workload

from .lower import lower
from .model import ModelBatch, ModelConfig

__all__ = ["op_graph", "lower_graph", "gemm_dataflow_graph", "gemm_edge_counts"]

if TYPE_CHECKING:
    import networkx as nx

Shape = tuple[int, int, int, int]  # (M, K, N, batch)


def op_graph(workload: Workload) -> "nx.DiGraph":
    """The operator graph of `workload`: GEMMs and vector ops and their data dependencies.

    Nodes are op names, in execution order, with attributes `op` (the hw_models Gemm or
    VectorOp), `kind` ("gemm" or the vector kind), `group` and `repeat` (array over designs:
    a repeated block appears once). Edge u -> v (attributes `tensor`, `through`) means v reads
    what u writes; `tensor` names which output ("q", "k", "v" of the fused QKV projection,
    "out" otherwise) and `through` a data-movement step between them that adds other data
    ("concat": the class token; "pool": the head reads only the pooled token). The edges from
    one repetition of a block to the next (the residual stream) are listed in
    `graph.graph["carried"]` as (src, dst, tensor) and left out, so the graph is a DAG.
    """
    import networkx as nx  # imported on use: the CLI's start-up does not need it

    g = nx.DiGraph(name=workload.name, carried=[(e.src, e.dst, e.tensor) for e in workload.edges if e.carried])
    for op in workload.ops:
        g.add_node(op.name, op=op, kind="gemm" if isinstance(op, Gemm) else op.kind, group=op.group, repeat=op.repeat)
    for e in workload.edges:
        if not e.carried:
            g.add_edge(e.src, e.dst, tensor=e.tensor, through=e.through)
    return g


def lower_graph(model: ModelConfig | ModelBatch) -> "nx.DiGraph":
    """`op_graph(lower(model))`: the operator graph of a model (a batch: shapes are arrays over designs)."""
    return op_graph(lower(model))


def _gemm_shape(op: Gemm, i: int) -> Shape:
    def at(a):
        return int(a[i] if a.size > 1 else a[0])

    return (at(op.m), at(op.k), at(op.n), at(op.batch))


def gemm_dataflow_graph(workload: Workload, design: int = 0) -> "nx.MultiDiGraph":
    """GEMMs only, every repetition unrolled: an edge u -> v when v reads data u wrote through vector ops alone.

    Node attribute `shape` = (M, K, N, batch) of design `design`. This is what a trace of a real
    forward pass can be compared with (catransformers.real.trace), independent of how each
    framework splits its elementwise work. The residual stream makes every GEMM that writes into
    it reach every later GEMM that reads it, so the graph has O(layers^2) edges.
    """
    import networkx as nx

    ops = {op.name: op for op in workload.ops}
    reps = {name: (int(op.repeat[design] if op.repeat.size > 1 else op.repeat[0])) for name, op in ops.items()}
    # Unrolled instances: (name, layer); edges within a layer, carried ones from layer l to l+1.
    inst = nx.DiGraph()
    for name, r in reps.items():
        for l in range(r):
            inst.add_node((name, l))
    for e in workload.edges:
        rs, rd = reps[e.src], reps[e.dst]
        if e.carried:
            for l in range(min(rs, rd) - 1):
                inst.add_edge((e.src, l), (e.dst, l + 1))
        elif rs == rd:
            for l in range(rs):
                inst.add_edge((e.src, l), (e.dst, l))
        elif rs and rd:  # between a block and a non-repeated op: its first or last repetition
            inst.add_edge((e.src, rs - 1), (e.dst, 0))
    out = nx.MultiDiGraph(name=workload.name)
    gemm_nodes = [n for n in inst.nodes if isinstance(ops[n[0]], Gemm)]
    for n in gemm_nodes:
        out.add_node(n, shape=_gemm_shape(ops[n[0]], design))
    for n in gemm_nodes:
        # vector-only paths from n: depth-first through non-GEMM instances
        seen, stack = set(), list(inst.successors(n))
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            if isinstance(ops[v[0]], Gemm):
                out.add_edge(n, v)
            else:
                stack.extend(inst.successors(v))
    return out


def gemm_edge_counts(g: "nx.MultiDiGraph") -> Counter:
    """Multiset of (producer shape, consumer shape) over the edges of a GEMM dataflow graph."""
    return Counter((g.nodes[u]["shape"], g.nodes[v]["shape"]) for u, v in g.edges())
