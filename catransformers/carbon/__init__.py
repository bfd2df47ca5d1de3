"""Carbon accounting: the deployment scenario, embodied (ACT) and operational carbon, the report."""

from .embodied import (
    Embodied,
    cpa_g_per_cm2,
    embodied,
    embodied_fraction,
    logic_yield,
    murphy_yield,
    negative_binomial_yield,
)
from .operational import Operational, operational
from .report import CarbonReport, carbon_report
from .scenario import SCENARIO_KEYS, YIELD_MODELS, CarbonScenario, load_scenario, preset_names

__all__ = [
    "CarbonScenario",
    "load_scenario",
    "preset_names",
    "SCENARIO_KEYS",
    "YIELD_MODELS",
    "Embodied",
    "embodied",
    "cpa_g_per_cm2",
    "embodied_fraction",
    "logic_yield",
    "murphy_yield",
    "negative_binomial_yield",
    "Operational",
    "operational",
    "CarbonReport",
    "carbon_report",
]
