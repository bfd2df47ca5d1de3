"""Real OpenCLIP models: prune weights to a ModelConfig, measure accuracy, trace matmuls (needs the clip extra)."""

from __future__ import annotations

import importlib
from typing import Any

# Lazy re-exports (PEP 562): `import catransformers.real` stays free of torch; the first use of a
# name imports its module (and torch / open_clip with it).
_EXPORTS: dict[str, str] = {
    # config (torch-free)
    "model_config_from_openclip": "config",
    "openclip_config": "config",
    "openclip_incompatibility": "config",
    "check_prunable_to": "config",
    # loading
    "LoadedCLIP": "load",
    "ModelSource": "load",
    "resolve_source": "load",
    "load_openclip": "load",
    "build_openclip": "load",
    "resolve_device": "load",
    # modules
    "PrunedAttention": "modules",
    "math_attention": "modules",
    "convert_attention": "modules",
    # pruning
    "Importance": "prune",
    "PruningPlan": "prune",
    "TowerPlan": "prune",
    "weight_importance": "prune",
    "ablation_importance": "prune",
    "layer_similarity": "prune",
    "compute_importance": "prune",
    "plan_pruning": "prune",
    "apply_plan": "prune",
    "prune_model": "prune",
    # saving
    "save_pruned": "export",
    "load_pruned": "export",
    # data (torch-free)
    "RetrievalData": "data",
    "ZeroShotData": "data",
    "load_retrieval_csv": "data",
    "load_image_folder": "data",
    "write_synthetic_data": "data",
    # measurement and fine-tuning
    "Evaluator": "measure",
    "ImageSet": "measure",
    "measure_retrieval": "measure",
    "retrieval_metrics": "measure",
    "zero_shot_metrics": "measure",
    "measure_zero_shot": "measure",
    "FinetuneSettings": "finetuning",
    "FinetuneReport": "finetuning",
    "finetune": "finetuning",
    "finetune_epochs": "finetuning",
    # estimator
    "OpenCLIPEstimator": "estimator",
    # workload cross-check
    "TracedGemm": "trace",
    "TraceComparison": "trace",
    "trace_gemms": "trace",
    "traced_dataflow_graph": "trace",
    "lowered_gemms": "trace",
    "compare_with_lowering": "trace",
    # tiny models for tests
    "TINY_OPENCLIP_CONFIG": "testing",
    "tiny_clip": "testing",
}

__all__ = sorted([*_EXPORTS, "require_clip"])


def require_clip(what: str) -> None:
    """Raise ConfigError in one line when the clip extra (torch, open_clip) is not installed."""
    from ..errors import ConfigError

    missing = []
    for module in ("torch", "open_clip"):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ConfigError(f"{what}: needs the clip extra ({', '.join(missing)} not installed); install it: pip install 'catransformers[clip]'")


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'catransformers.real' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
