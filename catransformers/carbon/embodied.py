"""Embodied carbon per ACT: logic die from area and per-area fab factors, DRAM from capacity; vectorised."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

import carbon_data

from ..errors import ConfigError
from ..units import g_to_kg, um2_to_cm2
from .scenario import CarbonScenario

__all__ = [
    "Embodied",
    "embodied",
    "cpa_g_per_cm2",
    "logic_yield",
    "murphy_yield",
    "negative_binomial_yield",
    "embodied_fraction",
    "REFERENCE_NODE_NM",
    "REFERENCE_DRAM_GB",
]

REFERENCE_NODE_NM = 22  # the reference template's node
REFERENCE_DRAM_GB = 1.0  # the reference's DRAM capacity


class Embodied(NamedTuple):
    """Embodied carbon of n designs, kg CO2e (after amortisation when the scenario asks for it)."""

    logic_kg: np.ndarray
    dram_kg: np.ndarray
    total_kg: np.ndarray


def murphy_yield(area_cm2: ArrayLike, defect_density_per_cm2: float) -> np.ndarray:
    """Murphy's model (Proc. IEEE 52(12), 1964): Y = ((1 - exp(-A*D0)) / (A*D0))^2, 1 at zero area."""
    x = np.asarray(area_cm2, dtype=float) * defect_density_per_cm2
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(x > 0.0, -np.expm1(-x) / np.where(x > 0.0, x, 1.0), 1.0)
    return ratio**2


def negative_binomial_yield(area_cm2: ArrayLike, defect_density_per_cm2: float, alpha: float) -> np.ndarray:
    """Negative-binomial model (Stapper et al., Proc. IEEE 71(4), 1983): Y = (1 + A*D0/alpha)^-alpha."""
    a = np.asarray(area_cm2, dtype=float)
    return (1.0 + a * defect_density_per_cm2 / alpha) ** (-alpha)


def logic_yield(area_cm2: ArrayLike, scenario: CarbonScenario) -> np.ndarray:
    """Fraction of good logic dies under the scenario's yield model, shape of area_cm2."""
    a = np.asarray(area_cm2, dtype=float)
    if scenario.yield_model == "fixed":
        return np.full(a.shape, scenario.yield_fraction)
    if scenario.yield_model == "murphy":
        return murphy_yield(a, scenario.defect_density_per_cm2)
    return negative_binomial_yield(a, scenario.defect_density_per_cm2, scenario.defect_clustering_alpha)


def _node_factors(scenario: CarbonScenario, node_nm: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(EPA kWh/cm2, GPA g/cm2, MPA g/cm2) per design; the scenario's node_nm wins over the hardware's."""
    nodes = np.asarray(scenario.node_nm if scenario.node_nm is not None else node_nm)
    unique, inverse = np.unique(nodes, return_inverse=True)
    table = np.array(
        [
            (f.epa_kwh_per_cm2, f.gpa_g_per_cm2, f.mpa_g_per_cm2)
            for f in (scenario.logic_factors(_as_node(n)) for n in unique.tolist())
        ],
        dtype=float,
    ).reshape(len(unique), 3)
    per_design = table[inverse.reshape(nodes.shape)]
    return per_design[..., 0], per_design[..., 1], per_design[..., 2]


def _as_node(value: object) -> int:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"node_nm: {value!r} is not a node size; allowed: {', '.join(map(str, carbon_data.node_values()))}") from None
    if number != int(number):
        raise ConfigError(f"node_nm: {value!r} is not a whole number of nm; allowed: {', '.join(map(str, carbon_data.node_values()))}")
    return int(number)


def cpa_g_per_cm2(
    scenario: CarbonScenario, node_nm: ArrayLike = REFERENCE_NODE_NM, area_um2: ArrayLike | None = None
) -> np.ndarray:
    """ACT carbon per good-die area: (CI_fab * EPA + GPA + MPA) / yield, g CO2e/cm2.

    area_um2 is needed only by the die-area yield models (default: a zero-area die, yield 1).
    """
    epa, gpa, mpa = _node_factors(scenario, node_nm)
    area_cm2 = um2_to_cm2(np.asarray(0.0 if area_um2 is None else area_um2, dtype=float))
    raw = scenario.resolved_fab_intensity_g_per_kwh * epa + gpa + mpa
    return raw / logic_yield(area_cm2, scenario)


def embodied_fraction(scenario: CarbonScenario, latency_s: ArrayLike | None = None) -> np.ndarray:
    """Share of embodied carbon charged to the deployment: 1, or use time / device lifetime when amortising.

    Use time: lifetime_years x 365 x hours_per_day (duty lifetime), else inferences x latency_s.
    Device lifetime: device_lifetime_years x 365 x 24 h. Not clipped: above 1 the workload
    outlives one device and is charged for the replacements pro rata.
    """
    if not scenario.amortise_embodied:
        return np.asarray(1.0)
    if scenario.lifetime_mode == "duty":
        return np.asarray(scenario.use_time_s / scenario.device_lifetime_s)
    if latency_s is None:
        raise ConfigError(
            "amortise_embodied: true with a lifetime given as inferences needs latency_s; allowed: pass latency_s, "
            "or give lifetime_years, hours_per_day and inferences_per_second"
        )
    latency = _non_negative("latency_s", latency_s)
    return scenario.lifetime_inferences * latency / scenario.device_lifetime_s


def _non_negative(name: str, values: ArrayLike) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    bad = arr < 0.0
    if np.any(bad):
        raise ConfigError(f"{name}: {float(arr[bad].flat[0])!r} is negative; allowed: >= 0")
    return arr


def embodied(
    area_um2: ArrayLike,
    scenario: CarbonScenario,
    node_nm: ArrayLike = REFERENCE_NODE_NM,
    dram_gb: ArrayLike = REFERENCE_DRAM_GB,
    latency_s: ArrayLike | None = None,
) -> Embodied:
    """Embodied carbon of n designs (arrays broadcast together), kg CO2e.

    logic = area_cm2 * CPA;  dram = dram_gb * CPS / dram_yield (the reference divides DRAM by
    the logic yield too; with the die-area yield models DRAM keeps the fixed yield_fraction).
    The scenario's node_nm / dram_gb, when set, win over the hardware's arguments.
    """
    area = _non_negative("area_um2", area_um2)
    gb = _non_negative("dram_gb", scenario.dram_gb if scenario.dram_gb is not None else dram_gb)
    cpa = cpa_g_per_cm2(scenario, node_nm, area)
    logic_g = um2_to_cm2(area) * cpa
    cps = carbon_data.dram_factor(scenario.dram_type).cps_g_per_gb
    dram_g = gb * cps / scenario.resolved_dram_yield_fraction
    share = embodied_fraction(scenario, latency_s)
    logic_kg = g_to_kg(logic_g) * share
    dram_kg = np.broadcast_to(g_to_kg(dram_g) * share, np.broadcast_shapes(logic_kg.shape, np.shape(dram_g), np.shape(share)))
    logic_kg = np.broadcast_to(logic_kg, dram_kg.shape)
    return Embodied(np.array(logic_kg), np.array(dram_kg), np.array(logic_kg + dram_kg))
