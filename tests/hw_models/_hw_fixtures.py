"""Shared shapes and hardware for the hw_models tests (ViT-B-16 layer shapes from docs/reference-facts.md section 3)."""

from __future__ import annotations

from hw_models import Gemm, HardwareBatch, HardwareConfig, VectorOp, Workload

# Fields that make memory effectively unlimited: bandwidth 2^40 words/cycle, 1 TiB L2, 1 TiB GLB.
UNLIMITED = dict(l2_bw=2**40, glb_bw=2**40, dram_bw_gbps=2.0**40, l2_sram_kb=2**30, glb_mb=2**20)
# A one-word PE register (INT8): the SCALE-Sim array, each PE holds one stationary word of any
# dataflow (with the default pe_register_operands="weights" only weight-stationary is legal).
ONE_WORD = dict(pe_register_bytes=1, pe_register_operands="stationary")

# One ViT-B-16 vision layer (197 tokens, width 768, 12 heads of 64, FFN 3072).
VIT_LAYER_GEMMS = (
    Gemm("qkv", 197, 768, 2304),
    Gemm("attn_qk", 197, 64, 197, batch=12),
    Gemm("attn_av", 197, 197, 64, batch=12),
    Gemm("out_proj", 197, 768, 768),
    Gemm("mlp_fc1", 197, 768, 3072),
    Gemm("mlp_fc2", 197, 3072, 768),
)


def vit_layer(repeat: int = 1) -> Workload:
    ops = [
        VectorOp("ln_1", "layernorm", 197 * 768, row=768, repeat=repeat),
        Gemm("qkv", 197, 768, 2304, repeat=repeat),
        Gemm("attn_qk", 197, 64, 197, batch=12, repeat=repeat),
        VectorOp("softmax", "softmax", 12 * 197 * 197, row=197, repeat=repeat),
        Gemm("attn_av", 197, 197, 64, batch=12, repeat=repeat),
        Gemm("out_proj", 197, 768, 768, repeat=repeat),
        VectorOp("residual_1", "add", 197 * 768, row=768, repeat=repeat),
        VectorOp("ln_2", "layernorm", 197 * 768, row=768, repeat=repeat),
        Gemm("mlp_fc1", 197, 768, 3072, repeat=repeat),
        VectorOp("gelu", "gelu", 197 * 3072, row=3072, repeat=repeat),
        Gemm("mlp_fc2", 197, 3072, 768, repeat=repeat),
        VectorOp("residual_2", "add", 197 * 768, row=768, repeat=repeat),
    ]
    return Workload(tuple(ops), name="vit-b-16-layer")


def one(**fields) -> HardwareBatch:
    return HardwareBatch.from_configs(HardwareConfig(**fields))
