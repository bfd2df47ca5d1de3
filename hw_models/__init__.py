"""Analytical cost models of the reference edge-accelerator template: area, TOPS, latency, energy."""

from .area import area_breakdown_um2, area_mm2, area_um2, sram_area_um2, tops
from .buffers import LOOP_ORDERS, buffer_traffic, compulsory_dram_words
from .config import FIELD_UNITS, HARDWARE_SETTINGS, L2_LINKS, REGISTER_OPERANDS, SEARCH_KEYS, HardwareBatch, HardwareConfig, grid, load_grid_axes, reference_grid
from .cost import CostReport, evaluate_cost
from .energy import ENERGY_COMPONENTS, PROFILE_FILES, AccessEnergies, Profile, access_energies, load_profile, sram_pj_per_word
from .errors import HardwareError
from .gemm import BOUNDS, PARTITIONS, GemmMapping, map_gemm
from .pe import DATAFLOWS, ORIENTATIONS, REGISTER_AXES, gemm_cycles, pe_traffic, scalesim_ws_cycles
from .vector import VectorMapping, map_vector, vector_cycles
from .fusion import NO_FUSION, FusionRules, fuse
from .layers import AS_LOWERED, BLOCK_SUFFIX, LayerCount, count_layers
from .workload import VECTOR_KINDS, Edge, Gemm, Op, VectorOp, Workload

__all__ = [
    "HardwareConfig",
    "HardwareBatch",
    "HardwareError",
    "SEARCH_KEYS",
    "HARDWARE_SETTINGS",
    "REGISTER_OPERANDS",
    "L2_LINKS",
    "FIELD_UNITS",
    "grid",
    "load_grid_axes",
    "reference_grid",
    "Gemm",
    "VectorOp",
    "Op",
    "Workload",
    "Edge",
    "VECTOR_KINDS",
    "fuse",
    "FusionRules",
    "NO_FUSION",
    "count_layers",
    "LayerCount",
    "AS_LOWERED",
    "BLOCK_SUFFIX",
    # cost models
    "evaluate_cost",
    "CostReport",
    "area_um2",
    "area_mm2",
    "area_breakdown_um2",
    "tops",
    "sram_area_um2",
    "load_profile",
    "PROFILE_FILES",
    "Profile",
    "AccessEnergies",
    "access_energies",
    "sram_pj_per_word",
    "ENERGY_COMPONENTS",
    # mapper internals exposed for tests and studies
    "map_gemm",
    "map_vector",
    "GemmMapping",
    "VectorMapping",
    "gemm_cycles",
    "scalesim_ws_cycles",
    "pe_traffic",
    "buffer_traffic",
    "compulsory_dram_words",
    "vector_cycles",
    "DATAFLOWS",
    "ORIENTATIONS",
    "PARTITIONS",
    "LOOP_ORDERS",
    "REGISTER_AXES",
    "BOUNDS",
]
