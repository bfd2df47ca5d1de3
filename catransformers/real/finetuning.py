"""A short contrastive fine-tune of a (pruned) CLIP on image-caption pairs, as the reference's in-loop recovery."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ConfigError
from ..workloads import ModelConfig, count_macs
from .data import RetrievalData
from .load import LoadedCLIP, resolve_device
from .measure import ImageSet, autocast

__all__ = ["FinetuneSettings", "FinetuneReport", "finetune_epochs", "finetune"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinetuneSettings:
    """docs/reference-facts.md section 3: MSCOCO, batch 64, lr 1e-5, wd 0.1, epochs = min(10, FLOPs_full / FLOPs_pruned).

    AdamW at a constant learning rate; weight decay on weight matrices only (not on norms, biases,
    embeddings' 1-D vectors or the logit scale). `max_steps` caps the optimiser steps (tests, budgets).
    """

    epochs_cap: float = 10.0
    batch_size: int = 64
    lr: float = 1e-5
    weight_decay: float = 0.1
    max_steps: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.epochs_cap > 0:
            raise ConfigError(f"finetune.epochs_cap: {self.epochs_cap} is not allowed; allowed: > 0")
        if self.batch_size < 2:
            raise ConfigError(f"finetune.batch_size: {self.batch_size} is not allowed; allowed: >= 2 (contrastive pairs)")
        if not self.lr > 0 or self.weight_decay < 0:
            raise ConfigError(f"finetune: lr={self.lr}, weight_decay={self.weight_decay}; allowed: lr > 0, weight_decay >= 0")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"finetune.max_steps: {self.max_steps} is not allowed; allowed: >= 1 or None")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FinetuneReport:
    epochs: float
    steps: int
    loss_first: float
    loss_last: float
    seconds: float


def finetune_epochs(base: ModelConfig, target: ModelConfig, cap: float = 10.0) -> float:
    """min(cap, MACs(base) / MACs(target)): smaller models get more epochs to recover (docs/reference-facts.md section 3)."""
    full = float(count_macs(base)["total"][0])
    pruned = float(count_macs(target)["total"][0])
    return float(min(cap, full / pruned))


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim < 2 or "logit_scale" in name or "positional_embedding" in name or "class_embedding" in name:
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def finetune(
    clip: LoadedCLIP,
    data: RetrievalData,
    *,
    epochs: float,
    settings: FinetuneSettings = FinetuneSettings(),
    device: str | torch.device = "auto",
    images: ImageSet | None = None,
    precision: str = "fp32",
) -> FinetuneReport:
    """Fine-tune `clip.model` IN PLACE with the symmetric CLIP loss on the caption pairs of `data`.

    `epochs` may be fractional: steps = max(1, round(epochs x ceil(pairs / batch))), capped by
    `settings.max_steps`. Batches are drawn from a seeded permutation (same seed, same run).
    `precision="amp"` runs forward passes under bfloat16 autocast (weights and optimiser stay fp32).
    """
    if not epochs > 0:
        raise ConfigError(f"finetune epochs: {epochs} is not allowed; allowed: > 0")
    dev = resolve_device(device)
    model = clip.model.to(dev)
    images = images if images is not None else ImageSet(data.images, clip.preprocess)
    tokens = clip.tokenizer(list(data.captions))
    pair_image = np.asarray(data.caption_image)
    n = len(data.captions)
    bs = min(settings.batch_size, n)
    per_epoch = math.ceil(n / bs)
    steps = max(1, round(epochs * per_epoch))
    if settings.max_steps is not None:
        steps = min(steps, settings.max_steps)
    opt = torch.optim.AdamW(_param_groups(model, settings.weight_decay), lr=settings.lr)
    rng = np.random.default_rng(settings.seed)
    order = np.empty(0, dtype=np.int64)
    losses = []
    t0 = time.perf_counter()
    model.train()
    try:
        for _ in range(steps):
            if len(order) < bs:
                order = np.concatenate([order, rng.permutation(n)])
            idx, order = order[:bs], order[bs:]
            img = images.batch(pair_image[idx].tolist()).to(dev)
            txt = tokens[torch.as_tensor(idx)].to(dev)
            with autocast(dev, precision):
                fi = model.encode_image(img, normalize=True)
                ft = model.encode_text(txt, normalize=True)
            logits = model.logit_scale.exp().clamp(max=100) * fi.float() @ ft.float().T
            labels = torch.arange(len(idx), device=dev)
            loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    finally:
        model.eval()
        opt.zero_grad(set_to_none=True)
    report = FinetuneReport(epochs=float(epochs), steps=steps, loss_first=losses[0], loss_last=losses[-1],
                            seconds=time.perf_counter() - t0)
    logger.info("fine-tuned %s: %d steps (%.2f epochs) in %.1f s, loss %.3f -> %.3f", clip.config.name, steps, epochs,
                report.seconds, report.loss_first, report.loss_last)
    return report
