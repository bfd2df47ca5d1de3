"""The one registry of metrics: name (unit in the name), unit, direction, display label, unit and factor."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from .errors import ConfigError
from .units import MJ_PER_J, MS_PER_S, PER_BILLION, PER_MILLION, UM2_PER_MM2

__all__ = [
    "Metric",
    "METRICS",
    "PIPELINE_METRICS",
    "COLUMNS",
    "get_metric",
    "column_unit",
    "display_value",
    "display_header",
]

DIRECTIONS = ("min", "max", None)
SOURCES = ("cost", "model", "carbon", "accuracy")


@dataclass(frozen=True)
class Metric:
    """One per-design metric. The stored value is in `unit` (SI, named by the suffix of `name`);
    what a person reads is `value * display_factor` in `display_unit`."""

    name: str
    unit: str
    direction: str | None  # "min" (less is better), "max", or None (descriptive only)
    label: str  # display name without unit, e.g. "latency"
    display_unit: str  # e.g. "ms"; "" for dimensionless counts shown as they are
    display_factor: float  # display value = stored value * display_factor
    description: str
    display_name: str = ""  # compact console header with the display unit, e.g. "latency_ms"
    source: str = "cost"  # what computes it: "cost" (hw_models.CostReport), "model" (parameter count), "carbon" (CarbonReport), "accuracy"

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ConfigError(f"metric {self.name}: direction {self.direction!r}; allowed: min, max, None")
        if self.source not in SOURCES:
            raise ConfigError(f"metric {self.name}: source {self.source!r}; allowed: {', '.join(SOURCES)}")
        if not self.display_name:
            object.__setattr__(self, "display_name", self.name)

    @property
    def sign(self) -> float:
        """Multiplier that turns the metric into a minimised quantity (1 for descriptive metrics)."""
        return -1.0 if self.direction == "max" else 1.0

    @property
    def header(self) -> str:
        """'latency (ms)': label with display unit (label alone when there is no unit)."""
        return f"{self.label} ({self.display_unit})" if self.display_unit else self.label

    @property
    def si_header(self) -> str:
        """'latency (s)': label with the stored unit."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    def display(self, value: Any) -> Any:
        return value * self.display_factor


_KG = "kg CO2e"

METRICS: Mapping[str, Metric] = MappingProxyType(
    {
        m.name: m
        for m in (
            Metric("latency_s", "s", "min", "latency", "ms", MS_PER_S, "time of one inference, batch 1, ops one after another", "latency_ms"),
            Metric("energy_j", "J", "min", "energy per inference", "mJ", MJ_PER_J, "dynamic energy of one inference", "energy_mj"),
            Metric("area_um2", "um^2", "min", "accelerator area", "mm²", 1.0 / UM2_PER_MM2, "die area of the accelerator", "area_mm2"),
            Metric("area_mm2", "mm^2", "min", "accelerator area", "mm²", 1.0, "die area of the accelerator", "area_mm2"),
            Metric("tops", "TOPS", "max", "peak throughput", "TOPS", 1.0, "peak tensor-core throughput, 2 operations per MAC", "tops"),
            Metric("macs", "MAC", None, "MACs per inference", "GMAC", PER_BILLION, "multiply-accumulates of one inference", "gmacs"),
            Metric("params", "count", None, "parameters", "M", PER_MILLION, "weights of the (pruned) model", "params_m", source="model"),
            Metric("embodied_kg", _KG, "min", "embodied carbon", _KG, 1.0, "manufacturing carbon of the accelerator and its DRAM", "embodied_kg", source="carbon"),
            Metric("embodied_logic_kg", _KG, "min", "embodied carbon, logic", _KG, 1.0, "manufacturing carbon of the accelerator die", "logic_kg", source="carbon"),
            Metric("embodied_dram_kg", _KG, "min", "embodied carbon, DRAM", _KG, 1.0, "manufacturing carbon of the off-chip DRAM", "dram_kg", source="carbon"),
            Metric("operational_kg", _KG, "min", "operational carbon", _KG, 1.0, "carbon of the lifetime energy at the use region's grid intensity", "operational_kg", source="carbon"),
            Metric("total_kg", _KG, "min", "total carbon", _KG, 1.0, "embodied + operational carbon over the lifetime", "total_kg", source="carbon"),
            Metric("energy_lifetime_kwh", "kWh", "min", "lifetime energy", "kWh", 1.0, "energy of every inference of the lifetime", "lifetime_kwh", source="carbon"),
            Metric("accuracy", "fraction", "max", "accuracy", "fraction", 1.0, "primary accuracy metric of the model (see accuracy_metric)", "accuracy", source="accuracy"),
        )
    }
)

# The metrics the evaluation pipeline reports per design, in its order.
PIPELINE_METRICS: tuple[str, ...] = tuple(METRICS)

# Units of the other columns of evaluations.csv / pareto.csv (hardware fields read theirs from
# hw_models.FIELD_UNITS; pruning variables are counts of layers, heads or 64-wide blocks).
COLUMNS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "id": ("-", "row number of the design in the run"),
        "generation": ("-", "generation that first evaluated the design"),
        "model_shape": ("-", "kept layers (L), heads (H), FFN width (F), embedding width (E) per tower"),
        "accuracy_metric": ("-", "what `accuracy` measures and whether it is an estimate"),
        "accuracy_extrapolated": ("bool", "the accuracy estimate lies outside the estimator's validated range"),
        "accuracy_extrapolated_reason": ("-", "why the estimate is an extrapolation ('' when it is not)"),
        "scenario": ("-", "deployment scenario name"),
        "use_region": ("-", "grid region of the use phase"),
        "intensity_g_per_kwh": ("g CO2e/kWh", "grid intensity of the use phase"),
        "inferences": ("count", "inferences over the lifetime"),
        "feasible": ("bool", "evaluated and within every constraint of the mode"),
        "failed": ("bool", "the evaluation returned no value"),
        "pareto": ("bool", "on the non-dominated front (feasible designs only)"),
    }
)


def get_metric(name: str) -> Metric:
    if name not in METRICS:
        raise ConfigError(f"metric: {name!r} is unknown; allowed: {', '.join(METRICS)}")
    return METRICS[name]


def column_unit(name: str) -> str | None:
    """The unit of a result column: metrics, hardware fields, the documented columns, meets_* flags; None if unknown."""
    from hw_models import FIELD_UNITS

    if name in METRICS:
        return METRICS[name].unit
    if name in FIELD_UNITS:
        return FIELD_UNITS[name]
    if name in COLUMNS:
        return COLUMNS[name][0]
    if name.startswith("meets_"):
        return "bool"
    return None


def display_value(name: str, value: Any) -> Any:
    """A stored value in its display unit (unchanged for columns that are not metrics)."""
    m = METRICS.get(name)
    return value if m is None or value is None or isinstance(value, bool) else m.display(value)


def display_header(name: str) -> str:
    """Compact console header in the display unit (e.g. latency_ms); other columns keep their name."""
    m = METRICS.get(name)
    return m.display_name if m is not None else name
