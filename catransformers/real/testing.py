"""A tiny random OpenCLIP configuration and loaders, for tests, smoke runs and timing (never downloads)."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["TINY_OPENCLIP_CONFIG", "tiny_clip"]

# Width 64, 2 layers, 2 heads of 32 per tower, 32 px images in 8 px patches, 16-token context.
# The vocabulary stays OpenCLIP's 49,408 so its BPE tokenizer can be used unchanged.
TINY_OPENCLIP_CONFIG: dict[str, Any] = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def tiny_clip(seed: int = 0, **changes: Any):
    """A randomly initialised tiny OpenCLIP CLIP as a `LoadedCLIP`; `changes` update vision_cfg/text_cfg keys."""
    from .load import load_openclip

    cfg = copy.deepcopy(TINY_OPENCLIP_CONFIG)
    for section, values in changes.items():
        cfg[section].update(values)
    return load_openclip("tiny-clip", config=cfg, seed=seed)
