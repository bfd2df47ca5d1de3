"""Measured accuracy: zero-shot top-1/top-5 on an ImageFolder and image-text retrieval R@1/R@5 on a captions CSV."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, DataError
from .cache import stable_hash
from .data import RetrievalData, ZeroShotData
from .load import LoadedCLIP, resolve_device

__all__ = [
    "RETRIEVAL_METRICS",
    "ZEROSHOT_METRICS",
    "PRECISIONS",
    "ImageSet",
    "Evaluator",
    "retrieval_metrics",
    "zero_shot_metrics",
    "measure_retrieval",
    "measure_zero_shot",
]

logger = logging.getLogger(__name__)

RETRIEVAL_METRICS: tuple[str, ...] = (
    "retrieval_mean_r1", "retrieval_i2t_r1", "retrieval_i2t_r5", "retrieval_t2i_r1", "retrieval_t2i_r5",
)
ZEROSHOT_METRICS: tuple[str, ...] = ("zeroshot_top1", "zeroshot_top5")
_CHUNK = 1024  # similarity rows at a time: MSCOCO's 5k x 25k matrix would be 500 MB at once


def _open_image(path: str) -> Any:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except FileNotFoundError:
        raise DataError(f"image file {path!r} does not exist") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"image file {path!r}: cannot be decoded ({exc})") from None


class ImageSet:
    """Preprocessed images by index; kept in memory (float16) when they fit `cache_mb`, else decoded per pass."""

    def __init__(self, paths: Sequence[str], preprocess: Callable[[Any], torch.Tensor], cache_mb: float = 2048, workers: int = 0):
        self.paths = tuple(paths)
        self.preprocess = preprocess
        self.cache_mb = cache_mb
        self.workers = workers
        self._tensor: torch.Tensor | None = None
        self._decided = False

    def __len__(self) -> int:
        return len(self.paths)

    def _load(self, index: Sequence[int]) -> torch.Tensor:
        if self.workers > 0 and len(index) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(self.workers) as ex:
                return torch.stack(list(ex.map(lambda i: self.preprocess(_open_image(self.paths[i])), index)))
        return torch.stack([self.preprocess(_open_image(self.paths[i])) for i in index])

    def _maybe_cache(self) -> None:
        if self._decided:
            return
        self._decided = True
        first = self._load([0])
        mb = first.numel() * 2 * len(self) / 2**20
        if mb <= self.cache_mb:
            t0 = time.perf_counter()
            parts = [first.half()] + [self._load(range(i, min(i + 256, len(self))) ).half() for i in range(1, len(self), 256)]
            self._tensor = torch.cat(parts)
            logger.debug("decoded %d images (%.0f MB) in %.1f s", len(self), mb, time.perf_counter() - t0)
        else:
            logger.info("%d images need %.0f MB > cache_mb=%.0f: decoding them on every pass", len(self), mb, self.cache_mb)

    def batch(self, index: Sequence[int]) -> torch.Tensor:
        self._maybe_cache()
        if self._tensor is not None:
            return self._tensor[torch.as_tensor(list(index), dtype=torch.long)].float()
        return self._load(index)

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        for i in range(0, len(self), batch_size):
            yield self.batch(range(i, min(i + batch_size, len(self))))


def _logit_scale(model: nn.Module) -> float:
    return float(model.logit_scale.detach().exp().clamp(max=100).item())


PRECISIONS: tuple[str, ...] = ("fp32", "amp")


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ConfigError(f"precision: {precision!r} is not allowed; allowed: {', '.join(PRECISIONS)} (amp = bfloat16 autocast)")
    return precision


def autocast(device: torch.device, precision: str) -> Any:
    """bfloat16 autocast for precision 'amp' (a no-op context for 'fp32')."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=check_precision(precision) == "amp")


@torch.inference_mode()
def _encode_images(model: nn.Module, images: ImageSet, device: torch.device, batch_size: int, precision: str = "fp32") -> torch.Tensor:
    out = []
    for b in images.batches(batch_size):  # decoding (and the image cache) stays outside autocast
        with autocast(device, precision):
            out.append(model.encode_image(b.to(device), normalize=True).float().cpu())
    return F.normalize(torch.cat(out), dim=-1)


@torch.inference_mode()
def _encode_tokens(model: nn.Module, tokens: torch.Tensor, device: torch.device, batch_size: int, precision: str = "fp32") -> torch.Tensor:
    with autocast(device, precision):
        out = [model.encode_text(tokens[i:i + batch_size].to(device), normalize=True).float().cpu() for i in range(0, len(tokens), batch_size)]
    return F.normalize(torch.cat(out), dim=-1)


def retrieval_metrics(
    image_features: torch.Tensor, text_features: torch.Tensor, caption_image: Any, logit_scale: float = 100.0
) -> tuple[dict[str, float], float]:
    """Recall@1/5 both ways and mean R@1 from L2-normalised features, and the contrastive loss.

    `caption_image[j]` is the row of caption j's image. Image->text: a hit if any of the image's
    captions is in its top k; text->image: if the caption's image is. Loss: (multi-positive
    image->text cross-entropy + text->image cross-entropy) / 2 at `logit_scale`.
    """
    img, txt = image_features.float(), text_features.float()
    cap_img = torch.as_tensor(caption_image, dtype=torch.long)
    ni, nt = len(img), len(txt)
    k = min(5, nt)
    i2t = {1: 0, 5: 0}
    i2t_loss = 0.0
    for s in range(0, ni, _CHUNK):
        sims = img[s:s + _CHUNK] @ txt.T  # (chunk, nt)
        rows = torch.arange(s, s + len(sims))
        pos = cap_img[None, :] == rows[:, None]
        hit = pos.gather(1, sims.topk(k, dim=1).indices)
        i2t[1] += int(hit[:, :1].any(1).sum())
        i2t[5] += int(hit.any(1).sum())
        logits = logit_scale * sims
        # multi-positive cross-entropy: -log(sum over the image's captions of softmax)
        i2t_loss += float((logits.logsumexp(1) - logits.masked_fill(~pos, float("-inf")).logsumexp(1)).sum())
    k = min(5, ni)
    t2i = {1: 0, 5: 0}
    t2i_loss = 0.0
    for s in range(0, nt, _CHUNK):
        sims = txt[s:s + _CHUNK] @ img.T  # (chunk, ni)
        target = cap_img[s:s + len(sims)]
        hit = sims.topk(k, dim=1).indices == target[:, None]
        t2i[1] += int(hit[:, :1].any(1).sum())
        t2i[5] += int(hit.any(1).sum())
        t2i_loss += float(F.cross_entropy(logit_scale * sims, target, reduction="sum"))
    m = {
        "retrieval_i2t_r1": i2t[1] / ni, "retrieval_i2t_r5": i2t[5] / ni,
        "retrieval_t2i_r1": t2i[1] / nt, "retrieval_t2i_r5": t2i[5] / nt,
    }
    m["retrieval_mean_r1"] = (m["retrieval_i2t_r1"] + m["retrieval_t2i_r1"]) / 2
    return m, (i2t_loss / ni + t2i_loss / nt) / 2


def zero_shot_metrics(
    image_features: torch.Tensor, class_features: torch.Tensor, labels: Any, logit_scale: float = 100.0
) -> tuple[dict[str, float], float]:
    """Top-1 and top-5 (top-min(5, classes)) accuracy and cross-entropy from normalised features."""
    logits = image_features.float() @ class_features.float().T
    lab = torch.as_tensor(labels, dtype=torch.long)
    hit = logits.topk(min(5, logits.shape[1]), dim=1).indices == lab[:, None]
    n = len(logits)
    m = {"zeroshot_top1": float(hit[:, :1].any(1).sum()) / n, "zeroshot_top5": float(hit.any(1).sum()) / n}
    return m, float(F.cross_entropy(logit_scale * logits, lab))


class _RetrievalTask:
    def __init__(self, data: RetrievalData, tokenizer: Callable, images: ImageSet):
        self.data = data
        self.images = images
        self.tokens = tokenizer(list(data.captions))
        self.caption_image = torch.as_tensor(data.caption_image, dtype=torch.long)

    def image_features(self, model: nn.Module, device: torch.device, bs: int, precision: str) -> torch.Tensor:
        return _encode_images(model, self.images, device, bs, precision)

    def text_features(self, model: nn.Module, device: torch.device, bs: int, precision: str) -> torch.Tensor:
        return _encode_tokens(model, self.tokens, device, bs, precision)

    def score(self, img: torch.Tensor, txt: torch.Tensor, scale: float) -> tuple[dict[str, float], float]:
        return retrieval_metrics(img, txt, self.caption_image, scale)


class _ZeroShotTask:
    def __init__(self, data: ZeroShotData, tokenizer: Callable, images: ImageSet):
        self.data = data
        self.images = images
        prompts = [t.format(c) for c in data.classnames for t in data.templates]
        self.tokens = tokenizer(prompts)
        self.labels = torch.as_tensor(data.labels, dtype=torch.long)

    def image_features(self, model: nn.Module, device: torch.device, bs: int, precision: str) -> torch.Tensor:
        return _encode_images(model, self.images, device, bs, precision)

    def text_features(self, model: nn.Module, device: torch.device, bs: int, precision: str) -> torch.Tensor:
        f = _encode_tokens(model, self.tokens, device, bs, precision)
        f = f.view(len(self.data.classnames), len(self.data.templates), -1).mean(1)
        return F.normalize(f, dim=-1)

    def score(self, img: torch.Tensor, cls: torch.Tensor, scale: float) -> tuple[dict[str, float], float]:
        return zero_shot_metrics(img, cls, self.labels, scale)


class Evaluator:
    """Measures CLIP models on fixed data: images are preprocessed and text tokenized once, for many models.

    `clip` supplies the tokenizer and preprocessing (shared by all pruned variants of one base).
    The primary score used for ranking (`ablation_score`) is the mean of the primary metrics present,
    as the reference's (COCO mean R@1 + ImageNet top-1) / 2.
    """

    def __init__(
        self,
        clip: LoadedCLIP,
        retrieval: RetrievalData | None = None,
        zeroshot: ZeroShotData | None = None,
        *,
        device: str | torch.device = "auto",
        batch_size: int = 64,
        workers: int = 0,
        cache_mb: float = 2048,
        precision: str = "fp32",
    ):
        self.precision = check_precision(precision)
        if retrieval is None and zeroshot is None:
            raise ConfigError("evaluation data: none given; allowed: a captions CSV (retrieval), an image folder (zero-shot), or both")
        if batch_size < 1:
            raise ConfigError(f"batch_size: {batch_size} is not allowed; allowed: a positive whole number")
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.tasks: dict[str, Any] = {}
        if retrieval is not None:
            self.tasks["retrieval"] = _RetrievalTask(retrieval, clip.tokenizer, ImageSet(retrieval.images, clip.preprocess, cache_mb, workers))
        if zeroshot is not None:
            self.tasks["zeroshot"] = _ZeroShotTask(zeroshot, clip.tokenizer, ImageSet(zeroshot.images, clip.preprocess, cache_mb, workers))
        self.digest = stable_hash({k: t.data.digest for k, t in self.tasks.items()})

    @property
    def metrics(self) -> tuple[str, ...]:
        return (RETRIEVAL_METRICS if "retrieval" in self.tasks else ()) + (ZEROSHOT_METRICS if "zeroshot" in self.tasks else ())

    @property
    def primary_metrics(self) -> tuple[str, ...]:
        return tuple(m for m in ("retrieval_mean_r1", "zeroshot_top1") if m in self.metrics)

    def image_set(self) -> ImageSet:
        """The images of the first task (for layer-similarity calibration)."""
        return next(iter(self.tasks.values())).images

    def features(self, model: nn.Module, towers: Sequence[str] = ("vision", "text")) -> dict[str, dict[str, torch.Tensor]]:
        model.eval()
        out: dict[str, dict[str, torch.Tensor]] = {}
        for name, task in self.tasks.items():
            out[name] = {}
            if "vision" in towers:
                out[name]["vision"] = task.image_features(model, self.device, self.batch_size, self.precision)
            if "text" in towers:
                out[name]["text"] = task.text_features(model, self.device, self.batch_size, self.precision)
        return out

    def score(self, features: dict[str, dict[str, torch.Tensor]], scale: float) -> tuple[dict[str, float], float]:
        """(metrics, summed loss) from features of every task."""
        metrics: dict[str, float] = {}
        loss = 0.0
        for name, task in self.tasks.items():
            m, l_ = task.score(features[name]["vision"], features[name]["text"], scale)
            metrics.update(m)
            loss += l_
        return metrics, loss

    def ablation_score(self, metrics: dict[str, float]) -> float:
        return float(np.mean([metrics[m] for m in self.primary_metrics]))

    def evaluate(self, model: nn.Module | LoadedCLIP) -> dict[str, float]:
        """Every metric of `self.metrics` (fractions in [0, 1]) for one model."""
        model = model.model if isinstance(model, LoadedCLIP) else model
        model.to(self.device)
        metrics, loss = self.score(self.features(model), _logit_scale(model))
        metrics["loss"] = loss
        return metrics


def measure_retrieval(
    clip: LoadedCLIP, data: RetrievalData, *, device: str = "auto", batch_size: int = 64, workers: int = 0
) -> dict[str, float]:
    """Image->text and text->image R@1 and R@5, and mean R@1, of `clip` on a captions CSV."""
    return Evaluator(clip, retrieval=data, device=device, batch_size=batch_size, workers=workers).evaluate(clip)


def measure_zero_shot(
    clip: LoadedCLIP, data: ZeroShotData, *, device: str = "auto", batch_size: int = 64, workers: int = 0
) -> dict[str, float]:
    """Zero-shot top-1 and top-5 of `clip` on an ImageFolder (top-5 = 1 with five or fewer classes)."""
    return Evaluator(clip, zeroshot=data, device=device, batch_size=batch_size, workers=workers).evaluate(clip)
