"""Record every matmul of a real OpenCLIP forward pass and compare it with `catransformers.workloads.lower`."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from ..workloads import ModelConfig, lower
from .modules import math_attention

__all__ = ["TracedGemm", "GemmRecorder", "TraceComparison", "trace_gemms", "lowered_gemms", "compare_with_lowering"]

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

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        g = self._gemm(func, args, out)
        if g is not None:
            self.gemms.append(g)
        return out

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
    return rec.gemms


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
        return (f"traced {self.traced_macs / 1e9:.4f} GMAC in {sum(self.traced.values())} GEMMs, analytical "
                f"{self.analytical_macs / 1e9:.4f} GMAC in {sum(self.analytical.values())}; shape multisets {eq}")


def compare_with_lowering(model: nn.Module, config: ModelConfig) -> TraceComparison:
    """Trace `model` (batch 1, as `lower` assumes) and compare its GEMMs with `lower(config)`."""
    traced = Counter(g.shape for g in trace_gemms(model))
    analytical = lowered_gemms(config)
    tm = sum(m * k * n * b * c for (m, k, n, b), c in traced.items())
    am = sum(m * k * n * b * c for (m, k, n, b), c in analytical.items())
    return TraceComparison(traced, analytical, tm, am)
