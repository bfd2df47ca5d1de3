"""Record every matmul of a real OpenCLIP forward pass, and its GEMM dataflow, and compare both with `lower`."""

from __future__ import annotations

import math
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from ..workloads import ModelConfig, gemm_dataflow_graph, gemm_edge_counts, lower
from .modules import math_attention

__all__ = ["TracedGemm", "GemmRecorder", "TraceComparison", "trace_gemms", "traced_dataflow_graph", "lowered_gemms",
           "compare_with_lowering"]

Shape = tuple[int, int, int, int]  # (M, K, N, batch)


@dataclass(frozen=True)
class TracedGemm:
    """One recorded matmul: (M x K) . (K x N), `batch` independent copies; `op` is the aten overload."""

    op: str
    m: int
    k: int
    n: int
    batch: int = 1

    @property
    def shape(self) -> Shape:
        return (self.m, self.k, self.n, self.batch)

    @property
    def macs(self) -> int:
        return self.m * self.k * self.n * self.batch


def _dims(t: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in t.shape)


class GemmRecorder(TorchDispatchMode):
    """Records matmul-like aten ops as GEMMs while they run (they still run).

    mm/addmm (M, K, N), bmm/baddbmm (batch, M, K, N), mv/addmv (N = 1), dot, matmul/linear if one
    reaches dispatch undecomposed (leading dims folded into M, or into batch for batched operands),
    and convolution as a GEMM: M = output pixels x images, K = in_ch/groups x kernel, N = out_ch, batch = groups.
    """

    def __init__(self) -> None:
        super().__init__()
        self.gemms: list[TracedGemm] = []
        # Dataflow between GEMMs: (i, j) when GEMM j read data GEMM i wrote through non-GEMM ops
        # only. Every tensor carries the set of GEMMs whose output reached it that way.
        self.edges: set[tuple[int, int]] = set()
        self._src: dict[int, tuple[weakref.ref, frozenset[int]]] = {}

    def _sources(self, tree: Any) -> frozenset[int]:
        out: set[int] = set()
        for t in tree_flatten(tree)[0]:
            if isinstance(t, torch.Tensor):
                hit = self._src.get(id(t))
                if hit is not None and hit[0]() is t:
                    out |= hit[1]
        return frozenset(out)

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        srcs = self._sources((args, kwargs))
        out = func(*args, **kwargs)
        g = self._gemm(func, args, out)
        if g is not None:
            j = len(self.gemms)
            self.gemms.append(g)
            self.edges.update((i, j) for i in srcs)
            srcs = frozenset({j})
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self._src[id(t)] = (weakref.ref(t), srcs)
        return out

    def dataflow_graph(self):
        """The recorded GEMMs (node attribute `shape`) and their dataflow edges, as a networkx DiGraph."""
        import networkx as nx

        g = nx.DiGraph()
        for i, gemm in enumerate(self.gemms):
            g.add_node(i, shape=gemm.shape)
        g.add_edges_from(self.edges)
        return g

    def _gemm(self, func: Any, args: tuple, out: Any) -> TracedGemm | None:
        aten = torch.ops.aten
        packet = getattr(func, "overloadpacket", None)
        name = str(func)
        if packet in (aten.mm,):
            (m, k), (_, n) = _dims(args[0]), _dims(args[1])
            return TracedGemm(name, m, k, n)
        if packet in (aten.addmm,):
            (m, k), (_, n) = _dims(args[1]), _dims(args[2])
            return TracedGemm(name, m, k, n)
        if packet in (aten.bmm,):
            (b, m, k), (_, _, n) = _dims(args[0]), _dims(args[1])
            return TracedGemm(name, m, k, n, b)
        if packet in (aten.baddbmm,):
            (b, m, k), (_, _, n) = _dims(args[1]), _dims(args[2])
            return TracedGemm(name, m, k, n, b)
        if packet in (aten.mv,):
            m, k = _dims(args[0])
            return TracedGemm(name, m, k, 1)
        if packet in (aten.addmv,):
            m, k = _dims(args[1])
            return TracedGemm(name, m, k, 1)
        if packet in (aten.dot, aten.vdot):
            return TracedGemm(name, 1, _dims(args[0])[0], 1)
        if packet in (aten.linear,):
            a, w = _dims(args[0]), _dims(args[1])
            return TracedGemm(name, math.prod(a[:-1]), a[-1], w[0])
        if packet in (aten.matmul,):
            a, b = _dims(args[0]), _dims(args[1])
            if len(b) <= 2:  # fold leading dims of a into M
                return TracedGemm(name, math.prod(a[:-1]) if len(a) > 1 else 1, a[-1], b[-1] if len(b) == 2 else 1)
            batch = math.prod(_dims(out)[:-2])
            return TracedGemm(name, a[-2] if len(a) > 1 else 1, a[-1], b[-1], batch)
        if packet in (aten.convolution, aten._convolution):
            x, w = _dims(args[0]), _dims(args[1])
            groups = int(args[8]) if len(args) > 8 else 1
            o = _dims(out)
            pixels = o[0] * math.prod(o[2:])
            return TracedGemm(name, pixels, w[1] * math.prod(w[2:]), w[0] // groups, groups)
        return None


def trace_gemms(model: nn.Module, *, batch_size: int = 1, towers: tuple[str, ...] = ("vision", "text")) -> list[TracedGemm]:
    """Every GEMM of one forward pass of an OpenCLIP model (image tower, then text tower) on random inputs.

    Attention runs through `math_attention()` (MHA fast path off, SDPA math backend) so Q.K^T and A.V
    appear as aten.bmm; otherwise the fused kernels hide them.
    """
    return _record(model, batch_size, towers).gemms


def traced_dataflow_graph(model: nn.Module, *, batch_size: int = 1, towers: tuple[str, ...] = ("vision", "text")):
    """The GEMM dataflow graph of one forward pass (see `GemmRecorder.dataflow_graph`)."""
    return _record(model, batch_size, towers).dataflow_graph()


def _record(model: nn.Module, batch_size: int, towers: tuple[str, ...]) -> GemmRecorder:
    visual = model.visual
    size = visual.image_size if isinstance(visual.image_size, tuple) else (visual.image_size,) * 2
    ctx = int(getattr(model, "context_length", None) or model.text.context_length)
    vocab = int(getattr(model, "vocab_size", None) or model.text.vocab_size)
    dev = next(model.parameters()).device
    gen = torch.Generator().manual_seed(0)
    image = torch.randn(batch_size, 3, *size, generator=gen).to(dev)
    text = torch.randint(1, vocab, (batch_size, ctx), generator=gen).to(dev)
    rec = GemmRecorder()
    model.eval()
    with torch.no_grad(), math_attention(), rec:
        if "vision" in towers:
            model.encode_image(image)
        if "text" in towers:
            model.encode_text(text)
    return rec


def lowered_gemms(config: ModelConfig) -> Counter:
    """The multiset of (M, K, N, batch) of `lower(config)`, with each op's `repeat` expanded."""
    c: Counter = Counter()
    for g in lower(config).gemms:
        shape = (int(g.m[0]), int(g.k[0]), int(g.n[0]), int(g.batch[0]))
        c[shape] += int(g.repeat[0])
    return c


@dataclass(frozen=True)
class TraceComparison:
    traced: Counter
    analytical: Counter
    traced_macs: int
    analytical_macs: int
    traced_graph: Any = None  # networkx DiGraph of the traced GEMMs (node attribute `shape`)
    analytical_graph: Any = None  # catransformers.workloads.gemm_dataflow_graph(lower(config))

    @property
    def graphs_equal(self) -> bool:
        """The two GEMM dataflow graphs are isomorphic with equal (M, K, N, batch) on matched nodes."""
        import networkx as nx

        a, b = self.traced_graph, self.analytical_graph
        if a is None or b is None or self.edges_only_traced or self.edges_only_analytical:
            return False
        match = lambda x, y: x["shape"] == y["shape"]  # noqa: E731
        return nx.is_isomorphic(a, nx.DiGraph(b), node_match=match)

    @property
    def edges_only_traced(self) -> Counter:
        return gemm_edge_counts(self.traced_graph) - gemm_edge_counts(self.analytical_graph)

    @property
    def edges_only_analytical(self) -> Counter:
        return gemm_edge_counts(self.analytical_graph) - gemm_edge_counts(self.traced_graph)

    @property
    def shapes_equal(self) -> bool:
        return self.traced == self.analytical

    @property
    def macs_equal(self) -> bool:
        return self.traced_macs == self.analytical_macs

    @property
    def only_traced(self) -> Counter:
        return self.traced - self.analytical

    @property
    def only_analytical(self) -> Counter:
        return self.analytical - self.traced

    def summary(self) -> str:
        eq = "equal" if self.shapes_equal else f"differ (traced only {dict(self.only_traced)}, analytical only {dict(self.only_analytical)})"
        text = (f"traced {self.traced_macs / 1e9:.4f} GMAC in {sum(self.traced.values())} GEMMs, analytical "
                f"{self.analytical_macs / 1e9:.4f} GMAC in {sum(self.analytical.values())}; shape multisets {eq}")
        if self.traced_graph is not None:
            n_t, n_a = self.traced_graph.number_of_edges(), self.analytical_graph.number_of_edges()
            text += f"; dataflow graphs ({n_t} / {n_a} edges) " + ("isomorphic" if self.graphs_equal else
                    f"differ (traced only {dict(self.edges_only_traced)}, analytical only {dict(self.edges_only_analytical)})")
        return text


def compare_with_lowering(model: nn.Module, config: ModelConfig) -> TraceComparison:
    """Trace `model` (batch 1, as `lower` assumes) and compare its GEMMs and their dataflow graph with `lower(config)`."""
    rec = _record(model, 1, ("vision", "text"))
    traced = Counter(g.shape for g in rec.gemms)
    analytical = lowered_gemms(config)
    tm = sum(m * k * n * b * c for (m, k, n, b), c in traced.items())
    am = sum(m * k * n * b * c for (m, k, n, b), c in analytical.items())
    return TraceComparison(traced, analytical, tm, am, rec.dataflow_graph(), gemm_dataflow_graph(lower(config)))
