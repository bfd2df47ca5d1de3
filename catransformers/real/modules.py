"""Torch modules: attention whose qkv width is heads x head_dim (not tied to the embedding width), tower access."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError

__all__ = ["PrunedAttention", "TowerParts", "tower_parts", "convert_attention", "math_attention", "check_supported"]


class PrunedAttention(nn.Module):
    """Self-attention with `heads` heads of `head_dim` channels on a residual stream of `width` channels.

    A drop-in for the `nn.MultiheadAttention` inside OpenCLIP's `ResidualAttentionBlock`: the same call
    (`attn(x, x, x, need_weights=False, attn_mask=m)[0]`) and the same state-dict names
    (`in_proj_weight`, `in_proj_bias`, `out_proj.weight`, `out_proj.bias`), but the packed q/k/v
    projection is (3 x heads x head_dim, width), so heads can be pruned independently of the width.
    """

    def __init__(self, width: int, heads: int, head_dim: int, batch_first: bool = True):
        super().__init__()
        self.width, self.heads, self.head_dim = width, heads, head_dim
        self.batch_first = batch_first
        inner = heads * head_dim
        self.in_proj_weight = nn.Parameter(torch.empty(3 * inner, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * inner))
        self.out_proj = nn.Linear(inner, width)
        nn.init.xavier_uniform_(self.in_proj_weight)

    @classmethod
    def from_mha(cls, mha: nn.MultiheadAttention) -> "PrunedAttention":
        """An exact copy of an OpenCLIP self-attention `nn.MultiheadAttention` (same weights, same outputs)."""
        if not mha._qkv_same_embed_dim or mha.in_proj_bias is None or mha.bias_k is not None:
            raise ConfigError("attention: only packed, biased nn.MultiheadAttention (OpenCLIP's default) can be pruned")
        new = cls(mha.embed_dim, mha.num_heads, mha.head_dim, batch_first=mha.batch_first)
        dev, dt = mha.in_proj_weight.device, mha.in_proj_weight.dtype
        new = new.to(device=dev, dtype=dt)
        with torch.no_grad():
            new.in_proj_weight.copy_(mha.in_proj_weight)
            new.in_proj_bias.copy_(mha.in_proj_bias)
            new.out_proj.weight.copy_(mha.out_proj.weight)
            new.out_proj.bias.copy_(mha.out_proj.bias)
        return new

    def extra_repr(self) -> str:
        return f"width={self.width}, heads={self.heads}, head_dim={self.head_dim}"

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        need_weights: bool = False,
        attn_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, None]:
        if (key is not None and key is not query) or (value is not None and value is not query):
            raise ConfigError("PrunedAttention: only self-attention (key and value = query) is supported")
        x = query if self.batch_first else query.transpose(0, 1)
        n, length, _ = x.shape
        h, hd = self.heads, self.head_dim
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = qkv.view(n, length, 3, h, hd).permute(2, 0, 3, 1, 4).unbind(0)  # each (n, h, L, hd)
        mask = None
        if attn_mask is not None:
            mask = attn_mask
            if mask.dtype == torch.bool:  # nn.MultiheadAttention: True = masked out
                mask = torch.zeros_like(mask, dtype=q.dtype).masked_fill_(mask, float("-inf"))
            if mask.dim() == 3:  # (n*h, L, L) as nn.MultiheadAttention takes it
                mask = mask.view(n, h, length, -1)
            mask = mask.to(q.dtype)
        # scaled_dot_product_attention hides the two attention matmuls in one fused kernel; the
        # trace forces its math backend (`math_attention()`), which runs them as two aten.bmm.
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        out = self.out_proj(out.transpose(1, 2).reshape(n, length, h * hd))
        return (out if self.batch_first else out.transpose(0, 1)), None


@contextlib.contextmanager
def math_attention() -> Iterator[None]:
    """Run attention as plain matmuls: no fused MHA fast path, SDPA on its math backend.

    `nn.MultiheadAttention` in eval/no-grad mode takes `torch._native_multi_head_attention` (one op),
    and `F.scaled_dot_product_attention` dispatches to a fused flash/memory-efficient kernel; both
    hide Q.K^T and A.V from a dispatch-level recorder. Here the fast path is switched off
    (`torch.backends.mha.set_fastpath_enabled(False)`) and SDPA is pinned to `SDPBackend.MATH`,
    which decomposes into aten.bmm (plus mul/softmax) ops.
    """
    from torch.nn.attention import SDPBackend, sdpa_kernel

    was = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(was)


@dataclass
class TowerParts:
    """Where a tower's pieces live: `owner` holds embeddings/norms/projection, `transformer.resblocks` the blocks."""

    kind: str
    owner: nn.Module
    transformer: nn.Module

    @property
    def blocks(self) -> nn.ModuleList:
        return self.transformer.resblocks


def check_supported(model: nn.Module) -> None:
    """ConfigError unless `model` is an OpenCLIP CLIP/CustomTextCLIP with a ViT image tower and plain blocks."""
    import open_clip
    from open_clip.transformer import ResidualAttentionBlock, TextTransformer, VisionTransformer

    if not isinstance(model, (open_clip.CLIP, open_clip.CustomTextCLIP)) or isinstance(model, open_clip.CoCa):
        raise ConfigError(f"model: {type(model).__name__} is not supported; allowed: open_clip CLIP, CustomTextCLIP")
    if not isinstance(model.visual, VisionTransformer) or model.visual.attn_pool is not None:
        raise ConfigError(f"model: image tower {type(model.visual).__name__} is not supported; allowed: VisionTransformer")
    if isinstance(model, open_clip.CustomTextCLIP) and not isinstance(model.text, TextTransformer):
        raise ConfigError(f"model: text tower {type(model.text).__name__} is not supported; allowed: TextTransformer")
    for kind in ("vision", "text"):
        for block in tower_parts(model, kind).blocks:
            if not isinstance(block, ResidualAttentionBlock):
                raise ConfigError(f"model: {kind} block {type(block).__name__} is not supported; allowed: ResidualAttentionBlock")


def tower_parts(model: nn.Module, kind: str) -> TowerParts:
    """The vision or text tower of an OpenCLIP CLIP (text parts live on the model) or CustomTextCLIP (on `.text`)."""
    if kind == "vision":
        return TowerParts("vision", model.visual, model.visual.transformer)
    if kind == "text":
        owner = model.text if hasattr(model, "text") else model
        return TowerParts("text", owner, owner.transformer)
    raise ConfigError(f"tower: {kind!r} is not allowed; allowed: vision, text")


def convert_attention(model: nn.Module) -> nn.Module:
    """Replace (in place) every block's nn.MultiheadAttention by an equivalent PrunedAttention; returns `model`."""
    for kind in ("vision", "text"):
        for block in tower_parts(model, kind).blocks:
            if isinstance(block.attn, nn.MultiheadAttention):
                block.attn = PrunedAttention.from_mha(block.attn)
    return model
