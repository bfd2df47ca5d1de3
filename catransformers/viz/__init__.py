"""Plots and reports: plot data as pure functions (`data`), plotly figures (`figures`), HTML reports (`report`)."""

from .data import (
    carbon_breakdown_data,
    compare_overlay_data,
    hardware_parallel_data,
    hypervolume_data,
    load_results,
    load_sweep,
    non_dominated,
    parallel_data,
    results_from,
    pareto_front_data,
    sweep_space_data,
)
from .notebook import figure_bundle
from .report import IMAGE_FORMATS, PLOTLYJS_MODES, export_figures, render, write_compare_report, write_report, write_sweep_report

__all__ = [
    "results_from",
    "load_results",
    "load_sweep",
    "non_dominated",
    "pareto_front_data",
    "carbon_breakdown_data",
    "parallel_data",
    "hardware_parallel_data",
    "hypervolume_data",
    "sweep_space_data",
    "compare_overlay_data",
    "write_report",
    "write_compare_report",
    "write_sweep_report",
    "render",
    "export_figures",
    "figure_bundle",
    "PLOTLYJS_MODES",
    "IMAGE_FORMATS",
]
