"""Analytical cost models of the reference edge-accelerator template: area, TOPS, latency, energy."""

from .config import SEARCH_KEYS, HardwareBatch, HardwareConfig, grid, load_grid_axes, reference_grid
from .errors import HardwareError
from .workload import VECTOR_KINDS, Gemm, Op, VectorOp, Workload

__all__ = [
    "HardwareConfig",
    "HardwareBatch",
    "HardwareError",
    "SEARCH_KEYS",
    "grid",
    "load_grid_axes",
    "reference_grid",
    "Gemm",
    "VectorOp",
    "Op",
    "Workload",
    "VECTOR_KINDS",
]
