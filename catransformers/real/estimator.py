"""The measured-accuracy estimator "openclip": prune real weights, optionally fine-tune, measure, cache on disk."""

from __future__ import annotations

import gc
import logging
import os
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..accuracy.protocol import AccuracyResult, TowerShapes, as_tower_shapes
from ..errors import ConfigError
from ..workloads import ModelBatch, ModelConfig
from .cache import JsonStore, stable_hash
from .config import check_prunable_to
from .data import RetrievalData, ZeroShotData, load_image_folder, load_retrieval_csv
from .finetuning import FinetuneSettings, finetune, finetune_epochs
from .load import LoadedCLIP, ModelSource, load_openclip, resolve_source

__all__ = ["ESTIMATOR_NAME", "DEFAULT_CACHE_DIR", "OpenCLIPEstimator"]

logger = logging.getLogger(__name__)

ESTIMATOR_NAME = "openclip"
DEFAULT_CACHE_DIR = Path(".catransformers-cache") / "openclip"  # relative to the working directory
_VERSION = "1"  # bump when a change makes old cached measurements incomparable
_DIMS = ("layers", "heads", "ffn", "width")


class OpenCLIPEstimator:
    """Measured accuracy of pruned OpenCLIP models on the user's data (the reference's in-loop accuracy).

    For each design: prune the loaded weights to its shape (heads/FFN by `importance`, embedding
    truncated, text layers from the middle, vision layers by input-output similarity on the
    evaluation images), fine-tune on `finetune_csv` if given (epochs = min(epochs_cap,
    MACs_full / MACs_pruned)), then measure retrieval on `retrieval_csv` and/or zero-shot
    classification on `zeroshot_folder`. Each design's metrics are stored as one JSON file in
    `cache_dir`, keyed by its shape + weights + data + settings, so repeated or resumed searches
    never measure a design twice. A design whose measurement fails is `failed` (NaN) and logged;
    the batch goes on. Data and model-source errors are raised at construction.

    Metrics (fractions): retrieval_mean_r1, retrieval_{i2t,t2i}_r{1,5}, zeroshot_top1, zeroshot_top5;
    `primary_metric` defaults to retrieval_mean_r1 when a captions CSV is given, else zeroshot_top1.
    """

    name: str = ESTIMATOR_NAME
    version: str = _VERSION

    def __init__(
        self,
        model: str = "ViT-B-16",
        pretrained: str | None = None,
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        openclip_config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        clip: LoadedCLIP | None = None,
        retrieval_csv: str | os.PathLike[str] | None = None,
        image_root: str | os.PathLike[str] | None = None,
        image_key: str = "filepath",
        caption_key: str = "title",
        csv_sep: str | None = None,
        max_rows: int | None = None,
        zeroshot_folder: str | os.PathLike[str] | None = None,
        classnames: str | Sequence[str] | None = None,
        templates: str | Sequence[str] | None = None,
        max_per_class: int | None = None,
        finetune_csv: str | os.PathLike[str] | None = None,
        finetune_image_root: str | os.PathLike[str] | None = None,
        epochs_cap: float = 10.0,
        finetune_batch_size: int = 64,
        lr: float = 1e-5,
        weight_decay: float = 0.1,
        max_steps: int | None = None,
        importance: str = "l2",
        ffn_blocks: int = 8,
        primary_metric: str | None = None,
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int = 64,
        workers: int = 0,
        cache_mb: float = 2048,
        cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
        seed: int = 0,
    ):
        from .measure import RETRIEVAL_METRICS, ZEROSHOT_METRICS, check_precision
        from .prune import IMPORTANCE_METHODS

        if importance not in IMPORTANCE_METHODS:
            raise ConfigError(f"importance: {importance!r} is unknown; allowed: {', '.join(IMPORTANCE_METHODS)}")
        if retrieval_csv is None and zeroshot_folder is None:
            raise ConfigError("openclip estimator: no evaluation data; allowed: retrieval_csv=<captions CSV>, zeroshot_folder=<ImageFolder>, or both")
        self._source: ModelSource | None = None
        self._clip = clip
        if clip is None:
            self._source = resolve_source(model, pretrained, checkpoint=checkpoint, config=openclip_config, seed=seed)
            self.base: ModelConfig = self._source.base
            self.weights_id = self._source.weights_id
            base_cfg = self._source.config
        else:
            if clip.pruned:
                raise ConfigError("openclip estimator: clip is pruned; allowed: an unpruned loaded model")
            self.base, self.weights_id, base_cfg = clip.base, clip.weights_id, clip.base_openclip_config
        self.retrieval: RetrievalData | None = (
            load_retrieval_csv(retrieval_csv, image_key=image_key, caption_key=caption_key, sep=csv_sep,
                               image_root=image_root, max_rows=max_rows) if retrieval_csv is not None else None
        )
        self.zeroshot: ZeroShotData | None = (
            load_image_folder(zeroshot_folder, classnames=classnames, templates=templates, max_per_class=max_per_class)
            if zeroshot_folder is not None else None
        )
        self.finetune_data: RetrievalData | None = (
            load_retrieval_csv(finetune_csv, image_key=image_key, caption_key=caption_key, sep=csv_sep,
                               image_root=finetune_image_root) if finetune_csv is not None else None
        )
        self.finetune_settings = FinetuneSettings(epochs_cap, finetune_batch_size, lr, weight_decay, max_steps, seed)
        self.metrics: tuple[str, ...] = (RETRIEVAL_METRICS if self.retrieval else ()) + (ZEROSHOT_METRICS if self.zeroshot else ())
        default = "retrieval_mean_r1" if self.retrieval else "zeroshot_top1"
        self.primary_metric = primary_metric or default
        if self.primary_metric not in self.metrics:
            raise ConfigError(f"primary_metric: {self.primary_metric!r} is not measured with this data; allowed: {', '.join(self.metrics)}")
        self.importance_method = importance
        self.ffn_blocks = ffn_blocks
        self.device = device
        self.precision = check_precision(precision)
        self.batch_size = batch_size
        self.workers = workers
        self.cache_mb = cache_mb
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._store = JsonStore(self.cache_dir) if self.cache_dir is not None else None
        self._settings = {
            "importance": importance,
            "precision": self.precision,
            "ffn_blocks": ffn_blocks if importance == "ablation" else None,
            "finetune": self.finetune_settings.as_dict() if self.finetune_data is not None else None,
        }
        self._context = {
            "v": _VERSION,
            "base": stable_hash(base_cfg),
            "weights": self.weights_id,
            "eval_data": {"retrieval": self.retrieval.digest if self.retrieval else None,
                          "zeroshot": self.zeroshot.digest if self.zeroshot else None},
            "finetune_data": self.finetune_data.digest if self.finetune_data else None,
            "settings": self._settings,
        }
        self._evaluator: Any = None
        self._importance: Any = None
        self._ft_images: Any = None

    def __repr__(self) -> str:
        return f"OpenCLIPEstimator(base={self.base.name!r}, weights={self.weights_id!r}, primary_metric={self.primary_metric!r})"

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"

    # -- inputs -------------------------------------------------------------------------------
    def configs(self, models: Any) -> list[ModelConfig]:
        """ModelConfig(s), a ModelBatch, or tower shapes (TowerShapes / mapping of the eight arrays) -> ModelConfigs."""
        if isinstance(models, ModelConfig):
            return [models]
        if isinstance(models, ModelBatch):
            return [models.config(i) for i in range(len(models))]
        if isinstance(models, (list, tuple)) and all(isinstance(m, ModelConfig) for m in models):
            return list(models)
        shapes: TowerShapes = as_tower_shapes(models)
        out = []
        for i in range(len(shapes)):
            dims = {t: {d: int(getattr(shapes, f"{t}_{d}")[i]) for d in _DIMS} for t in ("vision", "text")}
            out.append(self.base.with_dims(**dims))
        return out

    def key(self, config: ModelConfig) -> str:
        """Cache key of one design: its shape + base config + weights + data + settings."""
        dims = {t.kind: {d: getattr(t, d) for d in _DIMS} for t in config.towers}
        return stable_hash({**self._context, "dims": dims})

    # -- lazy heavy state -------------------------------------------------------------------
    def _setup(self) -> None:
        if self._evaluator is not None:
            return
        from .measure import Evaluator, ImageSet
        from .prune import compute_importance

        if self._clip is None:
            self._clip = load_openclip(source=self._source, device=self.device)
        else:
            from .load import resolve_device

            self._clip.model.to(resolve_device(self.device))
        self._evaluator = Evaluator(self._clip, self.retrieval, self.zeroshot, device=self.device,
                                    batch_size=self.batch_size, workers=self.workers, precision=self.precision,
                                    cache_mb=self.cache_mb)
        self._importance = compute_importance(
            self._clip, self.importance_method, evaluator=self._evaluator,
            cache_dir=str(self.cache_dir) if self.cache_dir else None, ffn_blocks=self.ffn_blocks,
        )
        if self.finetune_data is not None:
            self._ft_images = ImageSet(self.finetune_data.images, self._clip.preprocess, self.cache_mb, self.workers)

    def measure(self, config: ModelConfig) -> dict[str, Any]:
        """Prune, fine-tune (if configured) and measure one design; no cache, exceptions propagate."""
        from .prune import prune_model

        check_prunable_to(self.base, config)
        self._setup()
        t0 = time.perf_counter()
        pruned = prune_model(self._clip, config, self._importance)
        record: dict[str, Any] = {}
        try:
            if self.finetune_data is not None:
                epochs = finetune_epochs(self.base, config, self.finetune_settings.epochs_cap)
                rep = finetune(pruned, self.finetune_data, epochs=epochs, settings=self.finetune_settings,
                               device=self.device, images=self._ft_images, precision=self.precision)
                record["finetune"] = {"epochs": rep.epochs, "steps": rep.steps, "loss_first": rep.loss_first,
                                      "loss_last": rep.loss_last, "seconds": rep.seconds}
            metrics = self._evaluator.evaluate(pruned.model)
        finally:
            del pruned
            _free_memory()
        record["loss"] = metrics.pop("loss")
        record["values"] = metrics
        record["seconds"] = time.perf_counter() - t0
        return record

    # -- the protocol ---------------------------------------------------------------------------
    def estimate(self, models: Any) -> AccuracyResult:
        """Measured metrics of every design (cached ones are read back, failed ones are NaN)."""
        configs = self.configs(models)
        n = len(configs)
        values = {m: np.full(n, np.nan) for m in self.metrics}
        failed = np.zeros(n, dtype=bool)
        seconds = np.zeros(n)
        cached = np.zeros(n, dtype=bool)
        done: dict[str, dict[str, Any]] = {}
        for i, cfg in enumerate(configs):
            try:
                check_prunable_to(self.base, cfg)  # before the key: the key holds only the prunable dims
                key = self.key(cfg)
                rec = done.get(key)
                if rec is None and self._store is not None:
                    rec = self._store.get(key)
                    if rec is not None and not all(m in rec.get("values", {}) for m in self.metrics):
                        rec = None
                    cached[i] = rec is not None
                if rec is None:
                    rec = self.measure(cfg)
                    rec.update(key=key, context=self._context, dims=cfg.dims(), name=cfg.name, estimator=self.label)
                    if self._store is not None:
                        self._store.put(key, rec)
                    seconds[i] = rec["seconds"]
                done[key] = rec
                for m in self.metrics:
                    values[m][i] = float(rec["values"][m])
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # one design's failure must not stop a search
                failed[i] = True
                for m in self.metrics:
                    values[m][i] = np.nan
                logger.warning("%s: design %d (%s) failed: %s: %s", self.label, i, cfg.name, type(exc).__name__, exc)
                logger.debug("traceback of design %d", i, exc_info=True)
        if n:
            logger.info("%s: %d designs, %d from cache, %d measured, %d failed", self.label, n, int(cached.sum()),
                        int((~cached & ~failed).sum()), int(failed.sum()))
        return AccuracyResult(
            values=values, primary=values[self.primary_metric], metric=self.primary_metric, estimator=self.label,
            is_estimate=False, failed=failed,
            extra={"cached": cached, "seconds": seconds, "weights": self.weights_id, "base": self.base.name},
        )


def _free_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover
        pass
