"""Prune real OpenCLIP weights to a catransformers `ModelConfig`: heads, FFN neurons, embedding width, layers."""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..workloads import ModelConfig
from .cache import JsonStore, stable_hash
from .config import check_prunable_to
from .load import LoadedCLIP
from .modules import PrunedAttention, convert_attention, tower_parts

__all__ = [
    "IMPORTANCE_METHODS",
    "LAYER_RULES",
    "Importance",
    "TowerPlan",
    "PruningPlan",
    "weight_importance",
    "layer_similarity",
    "ablation_importance",
    "compute_importance",
    "plan_pruning",
    "apply_plan",
    "prune_model",
]

logger = logging.getLogger(__name__)

IMPORTANCE_METHODS: tuple[str, ...] = ("l2", "ablation")
# How layers are dropped (docs/reference-facts.md section 3): text from the middle, vision the blocks whose
# output is most similar (cosine) to their input on real images.
LAYER_RULES: Mapping[str, str] = {"vision": "similarity", "text": "middle"}
_LAYER_RULE_NAMES = ("similarity", "middle")
# Ablation ranks by the drop of the accuracy metric; the loss increase only breaks ties (metric
# drops are multiples of 1/N, far above this weight times any loss change).
_LOSS_TIEBREAK = 1e-9
_TOWERS = ("vision", "text")


@dataclass(frozen=True)
class Importance:
    """Per tower, per layer: a score per head (H,) and per FFN neuron (F,), higher = more important.

    `layer_similarity[tower]` is the mean cosine similarity of each block's output with its input
    (L,), measured on real images; the most similar blocks are dropped first.
    """

    method: str
    heads: Mapping[str, tuple[np.ndarray, ...]]
    ffn: Mapping[str, tuple[np.ndarray, ...]]
    layer_similarity: Mapping[str, np.ndarray] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "heads": {k: [a.tolist() for a in v] for k, v in self.heads.items()},
            "ffn": {k: [a.tolist() for a in v] for k, v in self.ffn.items()},
            "layer_similarity": {k: v.tolist() for k, v in self.layer_similarity.items()},
            "info": dict(self.info),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Importance":
        return cls(
            method=d["method"],
            heads={k: tuple(np.asarray(a, dtype=np.float64) for a in v) for k, v in d["heads"].items()},
            ffn={k: tuple(np.asarray(a, dtype=np.float64) for a in v) for k, v in d["ffn"].items()},
            layer_similarity={k: np.asarray(v, dtype=np.float64) for k, v in d.get("layer_similarity", {}).items()},
            info=dict(d.get("info", {})),
        )

    def with_similarity(self, sim: Mapping[str, np.ndarray]) -> "Importance":
        return Importance(self.method, self.heads, self.ffn, dict(sim), self.info)


@dataclass(frozen=True)
class TowerPlan:
    """What one tower keeps: layer indices (of the base), per kept layer head and FFN-neuron indices, width."""

    layers: tuple[int, ...]
    heads: tuple[tuple[int, ...], ...]
    ffn: tuple[tuple[int, ...], ...]
    width: int


@dataclass(frozen=True)
class PruningPlan:
    towers: Mapping[str, TowerPlan]

    def to_dict(self) -> dict[str, Any]:
        return {k: {"layers": list(t.layers), "heads": [list(h) for h in t.heads], "ffn": [list(f) for f in t.ffn], "width": t.width}
                for k, t in self.towers.items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PruningPlan":
        return cls({k: TowerPlan(tuple(v["layers"]), tuple(tuple(h) for h in v["heads"]), tuple(tuple(f) for f in v["ffn"]), int(v["width"]))
                    for k, v in d.items()})

    @classmethod
    def first(cls, config: ModelConfig) -> "PruningPlan":
        """Keep the first layers/heads/neurons/channels: the shape-only plan used to rebuild a saved model."""
        return cls({t.kind: TowerPlan(tuple(range(t.layers)), (tuple(range(t.heads)),) * t.layers,
                                      (tuple(range(t.ffn)),) * t.layers, t.width) for t in config.towers})


def _attn_params(attn: nn.Module) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int, int]:
    heads = attn.heads if isinstance(attn, PrunedAttention) else attn.num_heads
    return attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight, heads, attn.head_dim


@torch.no_grad()
def weight_importance(model: nn.Module) -> Importance:
    """Data-free scores: the L2 norm of all weights into and out of each head / FFN neuron."""
    heads: dict[str, tuple[np.ndarray, ...]] = {}
    ffn: dict[str, tuple[np.ndarray, ...]] = {}
    for kind in _TOWERS:
        h_scores, f_scores = [], []
        for block in tower_parts(model, kind).blocks:
            w, b, wo, nh, hd = _attn_params(block.attn)
            sq = w.float().pow(2).view(3, nh, hd, -1).sum((0, 2, 3)) + b.float().pow(2).view(3, nh, hd).sum((0, 2))
            sq = sq + wo.float().pow(2).view(wo.shape[0], nh, hd).sum((0, 2))
            h_scores.append(sq.sqrt().cpu().double().numpy())
            fc, proj = block.mlp.c_fc, block.mlp.c_proj
            sq = fc.weight.float().pow(2).sum(1) + fc.bias.float().pow(2) + proj.weight.float().pow(2).sum(0)
            f_scores.append(sq.sqrt().cpu().double().numpy())
        heads[kind], ffn[kind] = tuple(h_scores), tuple(f_scores)
    return Importance("l2", heads, ffn)


@torch.no_grad()
def layer_similarity(model: nn.Module, images: Any, *, device: str | torch.device | None = None,
                     batch_size: int = 64, max_images: int = 256) -> np.ndarray:
    """Mean cosine similarity of each vision block's output with its input, over tokens and images.

    `images`: a float tensor (N, 3, H, W) or an `ImageSet`.
    """
    from .measure import ImageSet

    blocks = tower_parts(model, "vision").blocks
    sums = torch.zeros(len(blocks), dtype=torch.float64)
    count = 0
    hooks = []

    def hook(i: int):
        def fn(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
            cos = torch.nn.functional.cosine_similarity(args[0].float(), output.float(), dim=-1)
            sums[i] += cos.sum().double().cpu()
        return fn

    for i, blk in enumerate(blocks):
        hooks.append(blk.register_forward_hook(hook(i)))
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    try:
        if isinstance(images, ImageSet):
            n = min(len(images), max_images)
            batches = (images.batch(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size))
        else:
            images = images[:max_images]
            batches = (images[i:i + batch_size] for i in range(0, len(images), batch_size))
        for b in batches:
            model.encode_image(b.to(dev))
            count += b.shape[0]
    finally:
        for h in hooks:
            h.remove()
    tokens = model.visual.positional_embedding.shape[0]
    return (sums / (count * tokens)).numpy()


@torch.no_grad()
def ablation_importance(clip: LoadedCLIP, evaluator: Any, *, ffn_blocks: int = 8) -> Importance:
    """MoPE-CLIP style ranking on user data: ablate one head / one block of FFN neurons, measure the drop.

    A head or FFN block is ablated by zeroing its columns of the output projection (exactly what
    removing it does); only the ablated tower is re-encoded. Score = drop of the evaluator's
    primary metric + 1e-9 x increase of its contrastive loss (ties). Every neuron of an FFN block
    gets the block's score. Cost: (sum of heads + layers x ffn_blocks) passes over one tower's data.
    """
    model = clip.model
    model.eval()
    t0 = time.perf_counter()
    scale = float(model.logit_scale.detach().exp().clamp(max=100).item())
    base_feats = evaluator.features(model)
    base_metrics, base_loss = evaluator.score(base_feats, scale)
    base_score = evaluator.ablation_score(base_metrics)

    def measure(kind: str) -> float:
        feats = evaluator.features(model, towers=(kind,))
        merged = {t: {**base_feats[t], **feats[t]} for t in base_feats}
        m, loss = evaluator.score(merged, scale)
        return (base_score - evaluator.ablation_score(m)) + _LOSS_TIEBREAK * (loss - base_loss)

    heads: dict[str, tuple[np.ndarray, ...]] = {}
    ffn: dict[str, tuple[np.ndarray, ...]] = {}
    passes = 0
    for kind in _TOWERS:
        h_scores, f_scores = [], []
        for block in tower_parts(model, kind).blocks:
            _, _, wo, nh, hd = _attn_params(block.attn)
            s = np.zeros(nh)
            for h in range(nh):
                saved = wo[:, h * hd:(h + 1) * hd].clone()
                wo[:, h * hd:(h + 1) * hd] = 0
                try:
                    s[h] = measure(kind)
                finally:
                    wo[:, h * hd:(h + 1) * hd] = saved
                passes += 1
            h_scores.append(s)
            proj = block.mlp.c_proj.weight
            f = proj.shape[1]
            per_neuron = np.zeros(f)
            for idx in np.array_split(np.arange(f), min(ffn_blocks, f)):
                sl = slice(int(idx[0]), int(idx[-1]) + 1)
                saved = proj[:, sl].clone()
                proj[:, sl] = 0
                try:
                    per_neuron[sl] = measure(kind)
                finally:
                    proj[:, sl] = saved
                passes += 1
            f_scores.append(per_neuron)
        heads[kind], ffn[kind] = tuple(h_scores), tuple(f_scores)
    info = {"base_metrics": base_metrics, "base_loss": base_loss, "passes": passes, "seconds": time.perf_counter() - t0,
            "ffn_blocks": ffn_blocks}
    logger.info("ablation importance: %d tower passes in %.1f s", passes, info["seconds"])
    return Importance("ablation", heads, ffn, info=info)


def compute_importance(
    clip: LoadedCLIP,
    method: str = "l2",
    *,
    evaluator: Any = None,
    cache_dir: str | None = None,
    ffn_blocks: int = 8,
    similarity_images: int = 256,
) -> Importance:
    """Importance scores of the unpruned `clip`, plus vision layer similarity when data is given.

    method 'l2' needs no data; 'ablation' needs an `Evaluator` (user data). With `cache_dir` the
    result is stored as JSON keyed by model config + weights + data + settings, and reused.
    """
    if method not in IMPORTANCE_METHODS:
        raise ConfigError(f"importance: {method!r} is unknown; allowed: {', '.join(IMPORTANCE_METHODS)}")
    if clip.pruned:
        raise ConfigError("importance: the model is already pruned; allowed: the unpruned model it came from")
    if method == "ablation" and evaluator is None:
        raise ConfigError("importance 'ablation' needs data; allowed: pass evaluator=Evaluator(clip, retrieval=..., zeroshot=...)")
    key = stable_hash({
        "v": 1, "method": method, "cfg": clip.base_openclip_config, "weights": clip.weights_id,
        "data": evaluator.digest if evaluator is not None else None,
        "ffn_blocks": ffn_blocks if method == "ablation" else None, "similarity_images": similarity_images,
    })
    store = JsonStore(cache_dir) if cache_dir else None
    if store is not None and (hit := store.get(f"importance-{key}")) is not None:
        logger.info("importance (%s) from cache %s", method, store.path(f"importance-{key}"))
        return Importance.from_dict(hit)
    imp = weight_importance(clip.model) if method == "l2" else ablation_importance(clip, evaluator, ffn_blocks=ffn_blocks)
    if evaluator is not None:
        sim = layer_similarity(clip.model, evaluator.image_set(), device=evaluator.device,
                               batch_size=evaluator.batch_size, max_images=similarity_images)
        imp = imp.with_similarity({"vision": sim})
    if store is not None:
        store.put(f"importance-{key}", {**imp.to_dict(), "key": key, "weights": clip.weights_id, "model": clip.openclip_name})
    return imp


def _keep_top(scores: np.ndarray, k: int) -> tuple[int, ...]:
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")  # ties: lower index first
    return tuple(sorted(int(i) for i in order[:k]))


def _keep_layers(kind: str, n: int, k: int, rule: str, sim: np.ndarray | None) -> tuple[int, ...]:
    drop = n - k
    if drop == 0:
        return tuple(range(n))
    if rule == "similarity" and sim is None:
        logger.warning("%s layers: no layer similarity measured (no calibration images); dropping from the middle", kind)
        rule = "middle"
    if rule == "middle":
        start = (n - drop) // 2
        return tuple(i for i in range(n) if not start <= i < start + drop)
    order = np.argsort(np.asarray(sim, dtype=np.float64), kind="stable")  # least similar (most useful) first
    return tuple(sorted(int(i) for i in order[:k]))


def plan_pruning(
    base: ModelConfig, target: ModelConfig, importance: Importance, layer_rules: Mapping[str, str] | None = None
) -> PruningPlan:
    """Which layers, heads, neurons and channels `target` keeps of `base`, by `importance`."""
    check_prunable_to(base, target)
    rules = {**LAYER_RULES, **(layer_rules or {})}
    for k, r in rules.items():
        if r not in _LAYER_RULE_NAMES:
            raise ConfigError(f"layer_rules.{k}: {r!r} is unknown; allowed: {', '.join(_LAYER_RULE_NAMES)}")
    towers = {}
    for b in base.towers:
        t = target.tower(b.kind)
        heads_s, ffn_s = importance.heads[b.kind], importance.ffn[b.kind]
        if len(heads_s) != b.layers or any(len(h) != b.heads for h in heads_s) or any(len(f) != b.ffn for f in ffn_s):
            raise ConfigError(f"importance: {b.kind} scores do not match the model's {b.layers} layers x {b.heads} heads x {b.ffn} FFN")
        layers = _keep_layers(b.kind, b.layers, t.layers, rules.get(b.kind, "middle"), importance.layer_similarity.get(b.kind))
        towers[b.kind] = TowerPlan(
            layers=layers,
            heads=tuple(_keep_top(heads_s[i], t.heads) for i in layers),
            ffn=tuple(_keep_top(ffn_s[i], t.ffn) for i in layers),
            width=t.width,
        )
    return PruningPlan(towers)


def _param(t: torch.Tensor) -> nn.Parameter:
    return nn.Parameter(t.detach().clone().contiguous())


def _norm(ln: nn.Module, w: int) -> None:
    if isinstance(ln, nn.LayerNorm):
        ln.normalized_shape = (w,)
        if ln.weight is not None:
            ln.weight = _param(ln.weight[:w])
        if ln.bias is not None:
            ln.bias = _param(ln.bias[:w])


def _layer_scale(ls: nn.Module, w: int) -> None:
    if hasattr(ls, "gamma"):
        ls.gamma = _param(ls.gamma[:w])


def _linear(lin: nn.Linear, rows: Any, cols: Any) -> None:
    lin.weight = _param(lin.weight[rows][:, cols])
    if lin.bias is not None:
        lin.bias = _param(lin.bias[rows])
    lin.out_features, lin.in_features = lin.weight.shape


@torch.no_grad()
def _prune_block(block: nn.Module, heads: Sequence[int], ffn: Sequence[int], w: int) -> None:
    attn = block.attn
    hd, inner = attn.head_dim, attn.heads * attn.head_dim
    dev = attn.in_proj_weight.device
    ch = torch.cat([torch.arange(h * hd, (h + 1) * hd) for h in heads]).to(dev)
    rows = torch.cat([ch, inner + ch, 2 * inner + ch])
    new = PrunedAttention(w, len(heads), hd, batch_first=attn.batch_first).to(device=dev, dtype=attn.in_proj_weight.dtype)
    new.in_proj_weight.copy_(attn.in_proj_weight[rows][:, :w])
    new.in_proj_bias.copy_(attn.in_proj_bias[rows])
    new.out_proj.weight.copy_(attn.out_proj.weight[:w][:, ch])
    new.out_proj.bias.copy_(attn.out_proj.bias[:w])
    block.attn = new
    for ln in ("ln_1", "ln_2", "ln_1_kv"):
        if hasattr(block, ln):
            _norm(getattr(block, ln), w)
    _layer_scale(block.ls_1, w)
    _layer_scale(block.ls_2, w)
    keep = torch.as_tensor(list(ffn), dtype=torch.long, device=dev)
    _linear(block.mlp.c_fc, keep, slice(0, w))
    _linear(block.mlp.c_proj, slice(0, w), keep)


@torch.no_grad()
def apply_plan(model: nn.Module, plan: PruningPlan) -> nn.Module:
    """Prune `model` IN PLACE to `plan` (its attention must already be `PrunedAttention`); returns it."""
    for kind, tp in plan.towers.items():
        parts = tower_parts(model, kind)
        blocks = [parts.blocks[i] for i in tp.layers]
        for blk, heads, ffn in zip(blocks, tp.heads, tp.ffn):
            if not isinstance(blk.attn, PrunedAttention):
                raise ConfigError("apply_plan: convert the attention first (catransformers.real.modules.convert_attention)")
            _prune_block(blk, heads, ffn, tp.width)
        parts.transformer.resblocks = nn.ModuleList(blocks)
        parts.transformer.layers = len(blocks)
        parts.transformer.width = tp.width
        w = tp.width
        o = parts.owner
        if kind == "vision":
            conv = o.conv1
            conv.weight = _param(conv.weight[:w])
            conv.out_channels = w
            o.class_embedding = _param(o.class_embedding[:w])
            o.positional_embedding = _param(o.positional_embedding[:, :w])
            _norm(o.ln_pre, w)
            _norm(o.ln_post, w)
            if o.proj is not None:
                o.proj = _param(o.proj[:w])
        else:
            emb = o.token_embedding
            emb.weight = _param(emb.weight[:, :w])
            emb.embedding_dim = w
            o.positional_embedding = _param(o.positional_embedding[:, :w])
            _norm(o.ln_final, w)
            tp_ = o.text_projection
            if isinstance(tp_, nn.Linear):
                tp_.weight = _param(tp_.weight[:, :w])
                tp_.in_features = w
            elif tp_ is not None:
                o.text_projection = _param(tp_[:w])
            if hasattr(o, "heads") and tp.heads:
                o.heads = len(tp.heads[0])  # TextTransformer's padding mask repeats per head
            if hasattr(o, "width"):
                o.width = w
    return model


def prune_model(
    clip: LoadedCLIP,
    target: ModelConfig,
    importance: Importance | None = None,
    *,
    layer_rules: Mapping[str, str] | None = None,
    name: str | None = None,
) -> LoadedCLIP:
    """A pruned copy of the unpruned `clip` with exactly `target`'s shape (the original is untouched).

    `target` is any `ModelConfig` with the loaded model's structure (e.g. `prune(get_model("vit-b-16"),
    {...})` for OpenCLIP ViT-B-16); `importance` defaults to `weight_importance` (L2, no data, so
    vision layers fall back to middle-dropping with a warning unless it carries layer similarity).
    Heads keep their head_dim; the embedding keeps its first `width` channels.
    """
    if clip.pruned:
        raise ConfigError("prune: the model is already pruned; allowed: the unpruned model it came from")
    check_prunable_to(clip.base, target)
    importance = importance if importance is not None else weight_importance(clip.model)
    plan = plan_pruning(clip.base, target, importance, layer_rules)
    dims = {t.kind: {d: getattr(t, d) for d in ("layers", "heads", "ffn", "width")} for t in target.towers}
    config = clip.base.with_dims(name=name or target.name, **dims)
    model = apply_plan(convert_attention(copy.deepcopy(clip.model)), plan).eval()
    return clip.with_model(model, config, plan)
