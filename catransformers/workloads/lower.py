"""Lowering of (batches of) transformer models to GEMMs and vector ops, and parameter counts.

One call lowers a whole `ModelBatch`: every op's shape is an array over the designs, and a
transformer block is one set of ops with `repeat = layers` (costed once, multiplied). The
workload carries its data dependencies (`Workload.edges`), the operator graph.
"""

from __future__ import annotations

import numpy as np

from hw_models import BLOCK_SUFFIX, Edge, Gemm, VectorOp, Workload

from .model import ModelBatch, ModelConfig, TowerArrays, TowerConfig

__all__ = ["lower", "lower_tower", "count_params", "count_macs"]


def _as_batch(model: ModelConfig | ModelBatch) -> ModelBatch:
    return model if isinstance(model, ModelBatch) else ModelBatch.from_configs(model)


def lower(model: ModelConfig | ModelBatch) -> Workload:
    """All towers of the model(s), in order (vision before text for CLIP), as one Workload."""
    batch = _as_batch(model)
    parts = [lower_tower(t, batch.arrays[t.kind]) for t in batch.base.towers]
    return Workload.concat(parts, name=batch.base.name)  # towers are independent: no edges between them


def lower_tower(t: TowerConfig, a: TowerArrays) -> Workload:
    """One tower: input embedding, `layers` identical blocks, final norm and head."""
    k = t.kind
    T = t.tokens
    E, H, KV, F, L = a.width, a.heads, a.kv_heads, a.ffn, a.layers
    hd = t.head_dim
    one = np.ones_like(E)
    block = f"{k}{BLOCK_SUFFIX}"  # marks the repeated block (hw_models.layers counts it per profile)
    ops: list = []
    # --- input embedding
    if k == "vision":
        # Patch embedding: a conv with stride = kernel = patch is a GEMM over the patches.
        ops.append(Gemm(f"{k}.patch_embed", m=t.patches * one, k=t.channels * t.patch**2 * one, n=E, group=f"{k}.embed"))
        ops.append(VectorOp(f"{k}.pos_add", "add", elements=T * E, row=E, group=f"{k}.embed"))
        if t.ln_pre:
            ops.append(VectorOp(f"{k}.ln_pre", t.norm, elements=T * E, row=E, group=f"{k}.embed"))
    else:
        # Token lookup is a gather (no MACs); learned positions are added, rotary ones are per block.
        if t.norm == "layernorm":
            ops.append(VectorOp(f"{k}.pos_add", "add", elements=T * E, row=E, group=f"{k}.embed"))
        if t.type_vocab:
            ops.append(VectorOp(f"{k}.type_add", "add", elements=T * E, row=E, group=f"{k}.embed"))
            ops.append(VectorOp(f"{k}.ln_embed", t.norm, elements=T * E, row=E, group=f"{k}.embed"))
    # --- transformer block, repeated `layers` times
    qkv_n = (H + 2 * KV) * hd
    ops += [
        VectorOp(f"{k}.ln_1", t.norm, elements=T * E, row=E, repeat=L, group=block),
        Gemm(f"{k}.qkv", m=T * one, k=E, n=qkv_n, repeat=L, group=block),
    ]
    if t.norm == "rmsnorm":  # rotary position embedding on q and k: x*cos + rotate(x)*sin
        ops.append(VectorOp(f"{k}.rope_mul", "mul", elements=2 * T * (H + KV) * hd, row=hd * one, repeat=L, group=block))
        ops.append(VectorOp(f"{k}.rope_add", "add", elements=T * (H + KV) * hd, row=hd * one, repeat=L, group=block))
    ops += [
        VectorOp(f"{k}.attn_scale", "mul", elements=T * H * hd, row=hd * one, repeat=L, group=block),
        Gemm(f"{k}.attn_qk", m=T * one, k=hd * one, n=T * one, batch=H, repeat=L, group=block),
        VectorOp(f"{k}.softmax", "softmax", elements=H * T * T, row=T * one, repeat=L, group=block),
        Gemm(f"{k}.attn_av", m=T * one, k=T * one, n=hd * one, batch=H, repeat=L, group=block),
        Gemm(f"{k}.out_proj", m=T * one, k=H * hd, n=E, repeat=L, group=block),
        VectorOp(f"{k}.residual_1", "add", elements=T * E, row=E, repeat=L, group=block),
        VectorOp(f"{k}.ln_2", t.norm, elements=T * E, row=E, repeat=L, group=block),
    ]
    if t.gated_ffn:
        ops += [
            Gemm(f"{k}.mlp_gate", m=T * one, k=E, n=F, repeat=L, group=block),
            Gemm(f"{k}.mlp_up", m=T * one, k=E, n=F, repeat=L, group=block),
            VectorOp(f"{k}.mlp_act", t.activation, elements=T * F, row=F, repeat=L, group=block),
            VectorOp(f"{k}.mlp_gate_mul", "mul", elements=T * F, row=F, repeat=L, group=block),
        ]
    else:
        ops += [
            Gemm(f"{k}.mlp_fc1", m=T * one, k=E, n=F, repeat=L, group=block),
            VectorOp(f"{k}.mlp_act", t.activation, elements=T * F, row=F, repeat=L, group=block),
        ]
    ops += [
        Gemm(f"{k}.mlp_fc2", m=T * one, k=F, n=E, repeat=L, group=block),
        VectorOp(f"{k}.residual_2", "add", elements=T * E, row=E, repeat=L, group=block),
    ]
    # --- final norm and head
    if k != "encoder":  # BERT normalises inside each block only
        ops.append(VectorOp(f"{k}.ln_final", t.norm, elements=T * E, row=E, group=f"{k}.head"))
    if t.head:
        ops.append(Gemm(f"{k}.head", m=t.head_tokens * one, k=E, n=t.head * one, group=f"{k}.head"))
        if k == "encoder":  # BERT pooler: dense + tanh on the [CLS] token
            ops.append(VectorOp(f"{k}.pooler_tanh", "tanh", elements=t.head * one, row=t.head * one, group=f"{k}.head"))
    return Workload(tuple(ops), name=k, edges=tuple(_tower_edges(t, [op.name for op in ops])))


def _tower_edges(t: TowerConfig, names: list[str]) -> list[Edge]:
    """Data dependencies of one lowered tower (op names as `lower_tower` writes them)."""
    k = t.kind
    have = set(names)
    edges: list[Edge] = []

    def e(src: str, dst: str, tensor: str = "out", **kw) -> None:
        edges.append(Edge(f"{k}.{src}", f"{k}.{dst}", tensor, **kw))

    # --- embedding: the op whose output enters the first block (None: a gather of token embeddings)
    x = None
    if k == "vision":
        e("patch_embed", "pos_add", "patches", through="concat")  # the class token joins the patches
        x = "pos_add"
        if f"{k}.ln_pre" in have:
            e("pos_add", "ln_pre")
            x = "ln_pre"
    else:
        if f"{k}.pos_add" in have:
            x = "pos_add"
        if f"{k}.type_add" in have:
            if x:
                e(x, "type_add")
            e("type_add", "ln_embed")
            x = "ln_embed"
    # --- block: input -> ln_1 and residual_1; output residual_2 -> the next repetition
    if x:
        e(x, "ln_1")
        e(x, "residual_1")
    e("residual_2", "ln_1", carried=True)
    e("residual_2", "residual_1", carried=True)
    e("ln_1", "qkv")
    if f"{k}.rope_mul" in have:
        e("qkv", "rope_mul", "qk", through="rotate_half")  # x*cos + rotate_half(x)*sin reads q and k twice
        e("rope_mul", "rope_add")
        e("rope_add", "attn_scale", "q")
        e("rope_add", "attn_qk", "k")
    else:
        e("qkv", "attn_scale", "q")
        e("qkv", "attn_qk", "k")
    e("attn_scale", "attn_qk")
    e("attn_qk", "softmax")
    e("softmax", "attn_av")
    e("qkv", "attn_av", "v")
    e("attn_av", "out_proj")
    e("out_proj", "residual_1")
    e("residual_1", "ln_2")
    e("residual_1", "residual_2")
    if f"{k}.mlp_gate" in have:
        e("ln_2", "mlp_gate")
        e("ln_2", "mlp_up")
        e("mlp_gate", "mlp_act")
        e("mlp_act", "mlp_gate_mul")
        e("mlp_up", "mlp_gate_mul")
        e("mlp_gate_mul", "mlp_fc2")
    else:
        e("ln_2", "mlp_fc1")
        e("mlp_fc1", "mlp_act")
        e("mlp_act", "mlp_fc2")
    e("mlp_fc2", "residual_2")
    # --- head: the last block's output
    last = "residual_2"
    if f"{k}.ln_final" in have:
        e(last, "ln_final")
        last = "ln_final"
    if f"{k}.head" in have:
        e(last, "head", through="" if t.head_tokens == t.tokens else "pool")
        if f"{k}.pooler_tanh" in have:
            e("head", "pooler_tanh")
    return edges


def count_macs(model: ModelConfig | ModelBatch) -> dict[str, np.ndarray]:
    """MACs per tower and in total, per design."""
    batch = _as_batch(model)
    out = {t.kind: lower_tower(t, batch.arrays[t.kind]).macs() for t in batch.base.towers}
    out["total"] = sum(out.values())
    return out


def count_params(model: ModelConfig | ModelBatch) -> dict[str, np.ndarray]:
    """Parameters per tower and in total, per design, in OpenCLIP / HF layouts."""
    batch = _as_batch(model)
    out = {}
    for t in batch.base.towers:
        a = batch.arrays[t.kind]
        out[t.kind] = _tower_params(t, a)
    total = sum(out.values())
    if batch.base.family == "clip":
        total = total + 1  # logit_scale
    out["total"] = total
    return out


def _tower_params(t: TowerConfig, a: TowerArrays) -> np.ndarray:
    E, H, KV, F, L = a.width, a.heads, a.kv_heads, a.ffn, a.layers
    hd = t.head_dim
    b = 1 if t.bias else 0
    norm = 2 * E if t.norm == "layernorm" else E  # weight (+ bias)
    attn = E * (H + 2 * KV) * hd + b * (H + 2 * KV) * hd + H * hd * E + b * E
    mlp = (3 * E * F) if t.gated_ffn else (2 * E * F + b * (F + E))
    block = 2 * norm + attn + mlp
    p = L * block
    if t.kind == "vision":
        p = p + t.channels * t.patch**2 * E + (E if t.patch_bias else 0)  # patch embedding
        p = p + E + t.tokens * E  # class token, learned positions
        if t.ln_pre:
            p = p + norm
    else:
        p = p + t.vocab * E
        if t.norm == "layernorm":
            p = p + t.tokens * E  # learned positions (rotary ones have none)
        if t.type_vocab:
            p = p + t.type_vocab * E + norm
    if t.kind != "encoder":
        p = p + norm  # final norm
    if t.head:
        p = p + E * t.head + (t.head if t.head_bias else 0)
    return p
