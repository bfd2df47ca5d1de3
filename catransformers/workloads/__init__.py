"""Model shapes and their lowering to ops: CLIP towers and other transformers."""

from .graph import gemm_dataflow_graph, gemm_edge_counts, lower_graph, op_graph
from .lower import count_macs, count_params, lower, lower_tower
from .model import PRUNABLE, ModelBatch, ModelConfig, TowerArrays, TowerConfig, model_shape
from .pruning import PRUNE_SUFFIXES, PruneVariable, PruningSpace, prune, prune_batch, pruning_space
from .topology import load_topology
from .zoo import get_model, list_models, load_model_file, model_from_mapping, resolve_model

__all__ = [
    "TowerConfig",
    "ModelConfig",
    "TowerArrays",
    "ModelBatch",
    "PRUNABLE",
    "model_shape",
    "PRUNE_SUFFIXES",
    "PruneVariable",
    "PruningSpace",
    "pruning_space",
    "prune",
    "prune_batch",
    "get_model",
    "list_models",
    "load_model_file",
    "model_from_mapping",
    "resolve_model",
    "lower",
    "lower_tower",
    "lower_graph",
    "op_graph",
    "gemm_dataflow_graph",
    "gemm_edge_counts",
    "count_macs",
    "count_params",
    "load_topology",
]
