"""The GEMMs and designs both oracles (ZigZag, AccelForge) are run on, shared by their runners and the report."""

from __future__ import annotations

__all__ = ["GEMMS", "DESIGNS", "REGISTER_BYTES"]

# (name, M, K, N): CLIP ViT-B-16 vision-layer GEMMs (OpenCLIP shapes, 197 tokens, width 768,
# FFN 3072, head dim 64), two text-tower GEMMs (77 tokens, width 512, FFN 2048).
GEMMS: tuple[tuple[str, int, int, int], ...] = (
    ("vit_qkv", 197, 768, 2304),
    ("vit_fc1", 197, 768, 3072),
    ("vit_fc2", 197, 3072, 768),
    ("vit_proj", 197, 768, 768),
    ("vit_qk", 197, 64, 197),  # one head of Q.K^T
    ("vit_av", 197, 197, 64),  # one head of A.V
    ("text_fc1", 77, 512, 2048),
    ("text_proj", 77, 512, 512),
)

# Single-cluster points of the reference grid (pe_width x pe_depth, L2 KiB, l2_bw words/cycle,
# GLB MiB); three of the four have l2_bw < pe_width, where the register semantics matter.
DESIGNS: tuple[tuple[str, dict], ...] = (
    ("P_256x8", dict(pe_width=256, pe_depth=8, l2_sram_kb=64, l2_bw=128, glb_mb=2)),  # paper's min-carbon ViT-B/16 design
    ("Q_128x16", dict(pe_width=128, pe_depth=16, l2_sram_kb=128, l2_bw=32, glb_mb=2)),
    ("R_64x16", dict(pe_width=64, pe_depth=16, l2_sram_kb=128, l2_bw=32, glb_mb=8)),
    ("S_32x32", dict(pe_width=32, pe_depth=32, l2_sram_kb=512, l2_bw=64, glb_mb=2)),  # l2_bw > pe_width
)

# The template's PE register: 32 bytes per MAC (CATransformers' Phaze/WHAM template, the
# reference's arch config "L1_Buffer_TC": 32), i.e. 32 INT8 words.
REGISTER_BYTES = 32
