"""Objectives, constraints and modes by name: the registry every search draws from."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, Mapping, Sequence

from ..errors import ConfigError
from ..metrics import METRICS

__all__ = [
    "Objective",
    "Constraint",
    "Mode",
    "OBJECTIVES",
    "CONSTRAINTS",
    "DEFAULT_REFERENCE",
    "VARIABLE_SETS",
    "get_objective",
    "get_constraint",
    "get_mode",
    "list_modes",
    "resolve_objectives",
    "resolve_constraints",
]


@dataclass(frozen=True)
class Objective:
    """One objective: a metric of the registry (catransformers.metrics) and its direction."""

    name: str  # metric key, units in the name
    direction: str  # "min" | "max"
    label: str

    @property
    def sign(self) -> float:
        """Multiplier that turns the metric into a minimised quantity."""
        return -1.0 if self.direction == "max" else 1.0


@dataclass(frozen=True)
class Constraint:
    """`metric <= limit`. hardware_only: a deterministic function of the hardware alone
    (area, TOPS), checked before anything expensive is evaluated."""

    name: str
    label: str
    hardware_only: bool


# Which registry metrics may be objectives and constraints; names, units, directions and
# labels come from catransformers.metrics.
_OBJECTIVE_NAMES = ("accuracy", "total_kg", "embodied_kg", "operational_kg", "latency_s", "energy_j", "energy_lifetime_kwh", "area_mm2")
_CONSTRAINT_NAMES = {"latency_s": False, "area_um2": True, "tops": True}  # name -> hardware_only


def _objective(name: str) -> Objective:
    m = METRICS[name]
    return Objective(m.name, m.direction or "min", m.si_header)


OBJECTIVES: Mapping[str, Objective] = MappingProxyType({n: _objective(n) for n in _OBJECTIVE_NAMES})

CONSTRAINTS: Mapping[str, Constraint] = MappingProxyType(
    {n: Constraint(n, METRICS[n].si_header, hardware_only=hw) for n, hw in _CONSTRAINT_NAMES.items()}
)

# Hypervolume reference point per objective (native units) for objectives a mode gives none
# for: worse than any design worth keeping. accuracy 0: any accuracy counts; latency 0.1 s
# and total carbon 1 kg: the all-hw mode's Ax values (docs/reference-facts.md section 4); embodied and
# operational carbon: the same 1 kg; lifetime energy 2 kWh: the energy mode's Ax value;
# energy per inference: 2 kWh / 3e7 inferences of the reference scenario = 0.24 J; area:
# the reference area limit, 31.99 mm^2.
DEFAULT_REFERENCE: Mapping[str, float] = MappingProxyType(
    {
        "accuracy": 0.0,
        "total_kg": 1.0,
        "embodied_kg": 1.0,
        "operational_kg": 1.0,
        "latency_s": 0.1,
        "energy_j": 0.24,
        "energy_lifetime_kwh": 2.0,
        "area_mm2": 31.990347,
    }
)

VARIABLE_SETS = ("both", "hardware", "model")
_MODE_KEYS = ("description", "variables", "objectives", "constraints", "reference_point", "primary", "exhaustive")


@dataclass(frozen=True)
class Mode:
    """A named preset (catransformers/data/modes.toml)."""

    name: str
    description: str
    variables: str  # "both" | "hardware" | "model"
    objectives: tuple[str, ...]
    constraints: tuple[str, ...]
    reference_point: Mapping[str, float]
    primary: str
    exhaustive: bool = False

    @property
    def searches_model(self) -> bool:
        return self.variables in ("both", "model")

    @property
    def searches_hardware(self) -> bool:
        return self.variables in ("both", "hardware")


def get_objective(name: str) -> Objective:
    if name not in OBJECTIVES:
        raise ConfigError(f"objective: {name!r} is unknown; allowed: {', '.join(OBJECTIVES)}")
    return OBJECTIVES[name]


def get_constraint(name: str) -> Constraint:
    if name not in CONSTRAINTS:
        raise ConfigError(f"constraint: {name!r} is unknown; allowed: {', '.join(CONSTRAINTS)}")
    return CONSTRAINTS[name]


def resolve_objectives(names: Sequence[str]) -> tuple[Objective, ...]:
    """Objectives by name, in order; unknown or repeated names are errors."""
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise ConfigError(f"objectives: empty; allowed: one or more of {', '.join(OBJECTIVES)}")
    seen = set()
    for n in names:
        if n in seen:
            raise ConfigError(f"objectives: {n!r} given twice; allowed: each of {', '.join(OBJECTIVES)} at most once")
        seen.add(n)
    return tuple(get_objective(n) for n in names)


def resolve_constraints(names: Sequence[str]) -> tuple[Constraint, ...]:
    return tuple(get_constraint(n) for n in dict.fromkeys(names))


@functools.cache
def _modes() -> Mapping[str, Mode]:
    with resources.files("catransformers").joinpath("data/modes.toml").open("rb") as fh:
        table = tomllib.load(fh)
    return MappingProxyType({name: _mode(name, values) for name, values in table.items()})


def _mode(name: str, values: Mapping[str, Any]) -> Mode:
    where = f"modes.toml [{name}]"
    unknown = set(values) - set(_MODE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(_MODE_KEYS)}")
    objectives = resolve_objectives(values["objectives"])
    constraints = resolve_constraints(values.get("constraints", ()))
    if values["variables"] not in VARIABLE_SETS:
        raise ConfigError(f"{where}.variables: {values['variables']!r} is not allowed; allowed: {', '.join(VARIABLE_SETS)}")
    ref = dict(values.get("reference_point", {}))
    for key in ref:
        if key not in values["objectives"]:
            raise ConfigError(f"{where}.reference_point: {key!r} is not an objective; allowed: {', '.join(values['objectives'])}")
    return Mode(
        name=name,
        description=values.get("description", ""),
        variables=values["variables"],
        objectives=tuple(o.name for o in objectives),
        constraints=tuple(c.name for c in constraints),
        reference_point=MappingProxyType({k: float(v) for k, v in ref.items()}),
        primary=values.get("primary", objectives[-1].name),
        exhaustive=bool(values.get("exhaustive", False)),
    )


def list_modes() -> tuple[str, ...]:
    return tuple(_modes())


def get_mode(name: str) -> Mode:
    modes = _modes()
    if name not in modes:
        raise ConfigError(f"mode: {name!r} is unknown; allowed: {', '.join(modes)}")
    return modes[name]
