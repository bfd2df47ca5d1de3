"""Torch-free conversion between OpenCLIP model configs and catransformers `ModelConfig`s."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping

from ..errors import ConfigError
from ..workloads import PRUNABLE, ModelConfig, TowerConfig

__all__ = [
    "OPENCLIP_VISION_DEFAULTS",
    "OPENCLIP_TEXT_DEFAULTS",
    "model_config_from_openclip",
    "openclip_config",
    "openclip_incompatibility",
    "check_prunable_to",
]

# OpenCLIP's CLIPVisionCfg / CLIPTextCfg defaults (open_clip/model.py) for the keys we read;
# a test checks them against the installed open_clip.
OPENCLIP_VISION_DEFAULTS: Mapping[str, Any] = {
    "layers": 12, "width": 768, "head_width": 64, "mlp_ratio": 4.0, "patch_size": 16, "image_size": 224,
}
OPENCLIP_TEXT_DEFAULTS: Mapping[str, Any] = {
    "context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12, "mlp_ratio": 4.0,
}

# Features our pruner and the workload model do not describe: (config section, key, allowed value).
_CUSTOM_BLOCK = ("qk_norm", "scaled_cosine_attn", "scale_heads", "scale_attn_inner", "scale_attn", "scale_fc")


def _unsupported(name: str, cfg: Mapping[str, Any]) -> None:
    v, t = cfg.get("vision_cfg", {}), cfg.get("text_cfg", {})
    checks = [
        ("multimodal_cfg", "multimodal_cfg" not in cfg, "absent (CoCa is not supported)"),
        ("vision_cfg.timm_model_name", not v.get("timm_model_name"), "absent (timm towers are not supported)"),
        ("vision_cfg.layers", isinstance(v.get("layers", 12), int), "an int (ResNet towers are not supported)"),
        ("vision_cfg.attentional_pool", not v.get("attentional_pool"), "false"),
        ("vision_cfg.pos_embed_type", v.get("pos_embed_type", "learnable") == "learnable", "'learnable'"),
        ("vision_cfg.pool_type", v.get("pool_type", "tok") in ("tok", "avg"), "'tok' or 'avg'"),
        ("vision_cfg.block_type", v.get("block_type") in (None, "default"), "'default'"),
        ("text_cfg.hf_model_name", not t.get("hf_model_name"), "absent (Hugging Face text towers are not supported)"),
        ("text_cfg.embed_cls", not t.get("embed_cls"), "false"),
        ("text_cfg.block_type", t.get("block_type") in (None, "default"), "'default'"),
        ("text_cfg.proj_type", t.get("proj_type", "linear") == "linear", "'linear'"),
    ]
    checks += [(f"vision_cfg.{k}", not v.get(k), "false") for k in _CUSTOM_BLOCK]
    checks += [(f"text_cfg.{k}", not t.get(k), "false") for k in _CUSTOM_BLOCK]
    for key, ok, allowed in checks:
        if not ok:
            section, _, leaf = key.partition(".")
            value = cfg.get(section, {}).get(leaf) if leaf else cfg.get(section)
            raise ConfigError(f"OpenCLIP model {name!r}: {key} = {value!r} is not supported; allowed: {allowed}")


def _square(name: str, key: str, value: Any) -> int:
    if isinstance(value, (list, tuple)):
        if len(value) != 2 or value[0] != value[1]:
            raise ConfigError(f"OpenCLIP model {name!r}: {key} = {value!r} is not supported; allowed: a square size")
        value = value[0]
    return int(value)


def model_config_from_openclip(name: str, cfg: Mapping[str, Any]) -> ModelConfig:
    """The catransformers `ModelConfig` of an OpenCLIP ViT CLIP config dict (`open_clip.get_model_config(name)`)."""
    for key in ("embed_dim", "vision_cfg", "text_cfg"):
        if key not in cfg:
            raise ConfigError(f"OpenCLIP model {name!r}: config has no {key!r}; needs embed_dim, vision_cfg, text_cfg")
    _unsupported(name, cfg)
    v = {**OPENCLIP_VISION_DEFAULTS, **cfg["vision_cfg"]}
    t = {**OPENCLIP_TEXT_DEFAULTS, **cfg["text_cfg"]}
    act = "quick_gelu" if cfg.get("quick_gelu", False) else "gelu"
    embed = int(cfg["embed_dim"])
    vw, hw = int(v["width"]), int(v["head_width"])
    if vw % hw:
        raise ConfigError(f"OpenCLIP model {name!r}: vision_cfg.width {vw} is not a multiple of head_width {hw}")
    tw, th = int(t["width"]), int(t["heads"])
    if tw % th:
        raise ConfigError(f"OpenCLIP model {name!r}: text_cfg.width {tw} is not a multiple of heads {th}")
    vision = TowerConfig(
        kind="vision", layers=int(v["layers"]), width=vw, heads=vw // hw, ffn=int(vw * v["mlp_ratio"]),
        head_dim=hw, image_size=_square(name, "vision_cfg.image_size", v["image_size"]),
        patch=_square(name, "vision_cfg.patch_size", v["patch_size"]), activation=act, head=embed,
        ln_pre=not v.get("no_ln_pre", False),
    )
    text = TowerConfig(
        kind="text", layers=int(t["layers"]), width=tw, heads=th, ffn=int(tw * t["mlp_ratio"]), head_dim=tw // th,
        tokens=int(t["context_length"]), vocab=int(t["vocab_size"]), activation=act, head=embed,
        head_bias=bool(t.get("proj_bias", False)),
    )
    return ModelConfig(name=name, towers=(vision, text), family="clip", description=f"OpenCLIP {name}")


def openclip_incompatibility(model: ModelConfig) -> str | None:
    """Why OpenCLIP's own config format cannot express `model` (None if it can)."""
    if model.family != "clip":
        return f"model {model.name!r}: family {model.family!r} is not 'clip'"
    v, t = model.vision, model.text
    if v.head != t.head:
        return f"vision.head {v.head} != text.head {t.head} (OpenCLIP has one embed_dim)"
    if v.activation != t.activation or v.activation not in ("gelu", "quick_gelu"):
        return f"activations {v.activation!r}/{t.activation!r}: OpenCLIP needs gelu or quick_gelu in both towers"
    for tw in (v, t):
        k = tw.kind
        if tw.heads * tw.head_dim != tw.width:
            return (
                f"{k}.heads x head_dim = {tw.heads} x {tw.head_dim} = {tw.heads * tw.head_dim} != {k}.width {tw.width} "
                "(OpenCLIP's nn.MultiheadAttention ties the qkv width to the embedding width)"
            )
        if int(tw.width * (tw.ffn / tw.width)) != tw.ffn:
            return f"{k}.ffn {tw.ffn} is not int(width * mlp_ratio) for width {tw.width} in floating point"
        if tw.norm != "layernorm" or not tw.bias or tw.gated_ffn or tw.kv_heads != tw.heads:
            return f"{k}: only LayerNorm, biased, non-gated, full-KV blocks exist in OpenCLIP"
    if v.patch_bias or v.head_bias:
        return "vision: OpenCLIP's patch embedding and projection have no bias"
    return None


def openclip_config(model: ModelConfig) -> dict[str, Any]:
    """An OpenCLIP model config dict for `model`; ConfigError (with the reason) if OpenCLIP cannot express it."""
    reason = openclip_incompatibility(model)
    if reason is not None:
        raise ConfigError(f"model {model.name!r} has no OpenCLIP config: {reason}")
    v, t = model.vision, model.text
    return {
        "embed_dim": v.head,
        "quick_gelu": v.activation == "quick_gelu",
        "vision_cfg": {
            "image_size": v.image_size, "layers": v.layers, "width": v.width, "head_width": v.head_dim,
            "mlp_ratio": v.ffn / v.width, "patch_size": v.patch, **({} if v.ln_pre else {"no_ln_pre": True}),
        },
        "text_cfg": {
            "context_length": t.tokens, "vocab_size": t.vocab, "width": t.width, "heads": t.heads,
            "layers": t.layers, "mlp_ratio": t.ffn / t.width, **({"proj_bias": True} if t.head_bias else {}),
        },
    }


_FIXED = tuple(f.name for f in fields(TowerConfig) if f.name not in (*PRUNABLE, "kv_heads", "kind"))


def check_prunable_to(base: ModelConfig, target: ModelConfig) -> None:
    """Raise ConfigError unless `target` is `base` with some of layers/heads/ffn/width reduced."""
    kinds = [t.kind for t in base.towers]
    if sorted(t.kind for t in target.towers) != sorted(kinds):
        raise ConfigError(
            f"model {target.name!r}: towers {[t.kind for t in target.towers]} do not match the loaded model "
            f"{base.name!r}; allowed: {kinds}"
        )
    for b in base.towers:
        t = target.tower(b.kind)
        for f in _FIXED:
            if getattr(t, f) != getattr(b, f):
                raise ConfigError(
                    f"model {target.name!r}: {b.kind}.{f} = {getattr(t, f)!r} does not match the loaded model "
                    f"{base.name!r}; allowed: {getattr(b, f)!r}"
                )
        for d in PRUNABLE:
            if not 1 <= getattr(t, d) <= getattr(b, d):
                raise ConfigError(
                    f"model {target.name!r}: {b.kind}.{d} = {getattr(t, d)} is not allowed; "
                    f"allowed: 1..{getattr(b, d)} (loaded model {base.name!r})"
                )
