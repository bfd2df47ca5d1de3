"""CarbonReport: embodied and operational carbon of n designs under one scenario, with its resolved numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .embodied import REFERENCE_DRAM_GB, REFERENCE_NODE_NM, cpa_g_per_cm2, embodied, embodied_fraction
from .operational import operational
from .scenario import CarbonScenario, load_scenario

__all__ = ["CarbonReport", "carbon_report"]


@dataclass(frozen=True, eq=False)
class CarbonReport:
    """kg CO2e per design (arrays of one shape); embodied_* are after amortisation when the scenario asks for it."""

    embodied_kg: np.ndarray
    embodied_logic_kg: np.ndarray
    embodied_dram_kg: np.ndarray
    operational_kg: np.ndarray
    total_kg: np.ndarray
    energy_lifetime_kwh: np.ndarray
    cpa_g_per_cm2: np.ndarray  # carbon per good-die area, after yield
    embodied_fraction: np.ndarray  # share of embodied charged (1 unless amortised)
    fab_intensity_g_per_kwh: float
    use_intensity_g_per_kwh: float
    inferences: float
    scenario: CarbonScenario

    def __len__(self) -> int:
        return int(self.total_kg.size)

    @property
    def operational_share(self) -> np.ndarray:
        """operational / total (NaN where total is 0)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.operational_kg / self.total_kg

    def describe(self) -> dict[str, Any]:
        """The scenario's fields and resolved numbers, JSON-ready."""
        return self.scenario.describe()


def carbon_report(
    area_um2: ArrayLike,
    energy_j: ArrayLike,
    scenario: "CarbonScenario | str",
    node_nm: ArrayLike = REFERENCE_NODE_NM,
    dram_gb: ArrayLike = REFERENCE_DRAM_GB,
    latency_s: ArrayLike | None = None,
) -> CarbonReport:
    """Embodied (logic + DRAM) and operational carbon of n designs; scenario may be a preset name.

    area_um2, energy_j (per inference), node_nm, dram_gb and latency_s (only needed to amortise
    a lifetime given as inferences) broadcast together; scalars give 0-d arrays.
    """
    scenario = load_scenario(scenario)
    emb = embodied(area_um2, scenario, node_nm=node_nm, dram_gb=dram_gb, latency_s=latency_s)
    op = operational(energy_j, scenario)
    shape = np.broadcast_shapes(emb.total_kg.shape, op.carbon_kg.shape)
    cpa = cpa_g_per_cm2(scenario, node_nm, area_um2)
    share = embodied_fraction(scenario, latency_s)

    def full(values: ArrayLike) -> np.ndarray:
        return np.array(np.broadcast_to(np.asarray(values, dtype=float), shape))

    return CarbonReport(
        embodied_kg=full(emb.total_kg),
        embodied_logic_kg=full(emb.logic_kg),
        embodied_dram_kg=full(emb.dram_kg),
        operational_kg=full(op.carbon_kg),
        total_kg=full(emb.total_kg + op.carbon_kg),
        energy_lifetime_kwh=full(op.energy_lifetime_kwh),
        cpa_g_per_cm2=full(cpa),
        embodied_fraction=full(share),
        fab_intensity_g_per_kwh=scenario.resolved_fab_intensity_g_per_kwh,
        use_intensity_g_per_kwh=scenario.resolved_use_intensity_g_per_kwh,
        inferences=scenario.lifetime_inferences,
        scenario=scenario,
    )
