"""Operational carbon: energy per inference x inferences over the lifetime x the use-phase grid; vectorised."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ..units import G_PER_KG, j_to_kwh
from .embodied import _non_negative
from .scenario import CarbonScenario

__all__ = ["Operational", "operational"]


class Operational(NamedTuple):
    """Use-phase carbon and energy of n designs over the scenario's lifetime."""

    carbon_kg: np.ndarray
    energy_lifetime_kwh: np.ndarray


def operational(energy_j_per_inference: ArrayLike, scenario: CarbonScenario) -> Operational:
    """op_kg = E_J / 3.6e6 * CI_use[g/kWh] / 1000 * N_inferences (docs/reference-facts.md section 2)."""
    energy_j = _non_negative("energy_j", energy_j_per_inference)
    energy_lifetime_kwh = j_to_kwh(energy_j) * scenario.lifetime_inferences
    carbon_kg = energy_lifetime_kwh * scenario.resolved_use_intensity_g_per_kwh / G_PER_KG
    return Operational(np.asarray(carbon_kg, dtype=float), np.asarray(energy_lifetime_kwh, dtype=float))
