"""Plots and reports: plot data as pure functions (`data`), plotly figures (`figures`), HTML reports (`report`)."""

from .data import (
    carbon_breakdown_data,
    compare_overlay_data,
    hardware_parallel_data,
    hypervolume_data,
    load_results,
    load_sweep,
    non_dominated,
    pareto_front_data,
    sweep_space_data,
)
from .report import render, write_compare_report, write_report, write_sweep_report

__all__ = [
    "load_results",
    "load_sweep",
    "non_dominated",
    "pareto_front_data",
    "carbon_breakdown_data",
    "hardware_parallel_data",
    "hypervolume_data",
    "sweep_space_data",
    "compare_overlay_data",
    "write_report",
    "write_compare_report",
    "write_sweep_report",
    "render",
]
