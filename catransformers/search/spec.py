"""The search spec: one TOML document (defaults shipped as data) validated into a frozen `SearchSpec`."""

from __future__ import annotations

import copy
import functools
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, Mapping

from ..errors import ConfigError
from .objectives import get_mode, list_modes, resolve_constraints, resolve_objectives

__all__ = ["SearchSpec", "load_spec", "default_spec", "spec_from_mapping", "parse_override", "ALGORITHMS"]

ALGORITHMS = ("auto", "nsga2", "nsga3", "random")
_EXHAUSTIVE = ("auto", True, False)

# Tables whose keys are checked later against their own domain (pruning variables, hardware
# fields, scenario fields, objective names), not against the defaults.
_OPEN = {("model", "fixed"), ("space",), ("hardware", "axes"), ("hardware", "fixed"), ("scenario",), ("search", "reference_point"), ("accuracy", "options")}


@functools.cache
def _defaults_text() -> str:
    return resources.files("catransformers").joinpath("data/search_defaults.toml").read_text(encoding="utf-8")


def default_spec() -> dict[str, Any]:
    """The shipped defaults (catransformers/data/search_defaults.toml) as a nested dict."""
    return tomllib.loads(_defaults_text())


@dataclass(frozen=True)
class SearchSpec:
    """Everything a search needs, validated. Tables of the TOML become mappings (read-only)."""

    model: str
    model_fixed: Mapping[str, int]
    space: Mapping[str, Any]
    grid: str
    axes: Mapping[str, tuple[float, ...]]
    hardware_fixed: Mapping[str, Any]
    profile: str
    limits: Mapping[str, float]
    scenario: str
    scenario_overrides: Mapping[str, Any]
    accuracy: str
    accuracy_options: Mapping[str, Any]
    mode: str
    objectives: tuple[str, ...]
    constraints: tuple[str, ...]
    algorithm: str
    population: int
    generations: int
    seed: int
    reference_point: Mapping[str, float]
    exhaustive: Any  # "auto" | True | False
    exhaustive_limit: int
    chunk_size: int
    max_rows: int
    exact: bool = False
    exact_chunk: int = 64
    offspring: Any = "auto"  # "auto" | int: designs per generation after the first

    @property
    def offspring_count(self) -> int:
        """Designs per generation after the first: `search.offspring`, or 2 x population for "auto"."""
        return OFFSPRING_PER_PARENT * self.population if self.offspring == "auto" else int(self.offspring)

    def as_dict(self) -> dict[str, Any]:
        """The nested, TOML-shaped, JSON-ready form (round-trips through spec_from_mapping)."""
        return {
            "model": {"name": self.model, "fixed": dict(self.model_fixed)},
            "space": _plain(self.space),
            "hardware": {"grid": self.grid, "axes": {k: list(v) for k, v in self.axes.items()}, "fixed": dict(self.hardware_fixed), "profile": self.profile},
            "constraints": dict(self.limits),
            "scenario": {"name": self.scenario, **_plain(self.scenario_overrides)},
            "accuracy": {"estimator": self.accuracy, "options": _plain(self.accuracy_options)},
            "search": {
                "mode": self.mode,
                "objectives": list(self.objectives),
                "constraints": list(self.constraints),
                "algorithm": self.algorithm,
                "population": self.population,
                "offspring": self.offspring,
                "generations": self.generations,
                "seed": self.seed,
                "reference_point": dict(self.reference_point),
            },
            "exhaustive": {"enabled": self.exhaustive, "limit": self.exhaustive_limit, "chunk_size": self.chunk_size, "max_rows": self.max_rows},
            "exact": {"enabled": self.exact, "chunk": self.exact_chunk},
        }

    def replace(self, **overrides: Any) -> "SearchSpec":
        """A copy with dotted-key overrides (`{"search.population": 20}`), validated again."""
        return spec_from_mapping(self.as_dict(), overrides)

    @property
    def mode_objectives(self) -> tuple[str, ...]:
        return self.objectives or get_mode(self.mode).objectives

    @property
    def mode_constraints(self) -> tuple[str, ...]:
        return self.constraints or get_mode(self.mode).constraints


def _plain(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return [_plain(v) for v in obj]
    return obj


def _freeze(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return tuple(_freeze(v) for v in obj)
    return obj


def _profile(name: str) -> str:
    """A profile name or TOML path that loads; else one line naming the key."""
    from hw_models import PROFILE_FILES, HardwareError, load_profile

    try:
        load_profile(name)
    except HardwareError as exc:
        raise ConfigError(f"hardware.profile: {name!r} is not allowed; allowed: {', '.join(sorted(PROFILE_FILES))} or a profile .toml file ({exc})") from None
    return name


def parse_override(text: str) -> Any:
    """A CLI value as a TOML literal (numbers, booleans, arrays, inline tables), else a plain string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    except RecursionError:
        raise ConfigError(f"--set: {text[:40]!r}... nests arrays or tables too deeply; allowed: a number, string, boolean, array or inline table") from None


def load_spec(path: str | None = None, overrides: Mapping[str, Any] | None = None) -> SearchSpec:
    """Defaults <- the TOML file at `path` <- dotted-key overrides, validated."""
    user: dict[str, Any] = {}
    if path is not None:
        from catransformers_errors.files import read_toml

        if not path:
            raise ConfigError("--spec: empty; allowed: a search spec TOML file")
        user = read_toml(path, "--spec", ConfigError)
    return spec_from_mapping(user, overrides)


def _normalise(user: Mapping[str, Any]) -> dict[str, Any]:
    """Shorthands: `scenario = "paper"`, `accuracy = "none"`, `mode = ...` at top level."""
    out = dict(user)
    if isinstance(out.get("scenario"), str):
        out["scenario"] = {"name": out["scenario"]}
    if isinstance(out.get("accuracy"), str):
        out["accuracy"] = {"estimator": out["accuracy"]}
    if isinstance(out.get("model"), str):
        out["model"] = {"name": out["model"]}
    return out


def _merge(base: dict[str, Any], user: Mapping[str, Any], path: tuple[str, ...] = ()) -> None:
    """Deep-merge `user` into `base`; keys not in `base` are errors except inside open tables."""
    for key, value in user.items():
        here = (*path, key)
        dotted = ".".join(here)
        if key not in base:
            where = ".".join(path) if path else "spec"
            allowed = ", ".join(sorted(base))
            raise ConfigError(f"spec: unknown key {dotted!r}; allowed in {where}: {allowed}")
        if here in _OPEN:
            if not isinstance(value, Mapping):
                raise ConfigError(f"spec: {dotted} = {value!r} is not allowed; must be a table")
            base[key] = _merge_open(base[key], value, here)
        elif isinstance(base[key], dict):
            if not isinstance(value, Mapping):
                raise ConfigError(f"spec: {dotted} = {value!r} is not allowed; must be a table with keys {', '.join(sorted(base[key]))}")
            _merge(base[key], value, here)
        else:
            base[key] = copy.deepcopy(_plain(value))


def _merge_open(base: Mapping[str, Any], value: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    out = dict(base)
    out.update(copy.deepcopy(_plain(value)))
    return out


def _set_dotted(tree: dict[str, Any], key: str, value: Any) -> None:
    parts = [p for p in key.split(".")]
    if not all(parts):
        raise ConfigError(f"--set: {key!r} is not a dotted spec key; allowed: e.g. search.population, space.text_layers")
    node: dict[str, Any] = tree
    for i, part in enumerate(parts[:-1]):
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set: {'.'.join(parts[: i + 1])} is not a table")
    node[parts[-1]] = value


def spec_from_mapping(user: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> SearchSpec:
    """Validate a nested mapping (a parsed spec file) plus dotted overrides into a SearchSpec."""
    tree = default_spec()
    _merge(tree, _normalise(user))
    if overrides:
        extra: dict[str, Any] = {}
        for key, value in overrides.items():
            _set_dotted(extra, key, value)
        _merge(tree, _normalise(extra))
    return _validate(tree)


def _int(field: str, value: Any, low: int, high: int) -> int:
    allowed = f"must be a whole number from {low:,} to {high:,}"
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ConfigError(f"{field}: {value!r} is not allowed; {allowed}")
    if not low <= value <= high:
        raise ConfigError(f"{field}: {value} is not allowed; {allowed}")
    return value


# Upper bounds of the whole-number keys: far above any run this tool is for, low enough that a
# typo (an extra zero run) is caught before it allocates; seeds are what numpy's generator takes.
_MAX_POPULATION = 100_000
# search.offspring = "auto": children per generation per member of the population. The GA's cost
# per generation is mostly fixed (one cost-model call, pymoo's bookkeeping), so fewer, larger
# generations do the same number of designs faster; 2 kept the front's quality of 100 x 100
# (docs/search.md, measured against the exact front over 20 seeds).
OFFSPRING_PER_PARENT = 2
_MAX_GENERATIONS = 1_000_000
_MAX_SEED = 2**63 - 1
_MAX_DESIGNS = 10**9


def _offspring(value: Any) -> Any:
    if value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not value.is_integer()) or not 1 <= value <= OFFSPRING_PER_PARENT * _MAX_POPULATION:
        raise ConfigError(f"search.offspring: {value!r} is not allowed; allowed: auto (2 x population) or a whole number from 1 to {OFFSPRING_PER_PARENT * _MAX_POPULATION:,}")
    return int(value)


def _str(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{field}: {value!r} is not allowed; must be a non-empty string")
    return value


def _names(field: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{field}: {value!r} is not allowed; must be a list of names")
    dupes = sorted({v for v in value if list(value).count(v) > 1})
    if dupes:
        raise ConfigError(f"{field}: {dupes[0]!r} is given twice; allowed: each name once")
    return tuple(value)


def _validate(t: dict[str, Any]) -> SearchSpec:
    s = t["search"]
    mode = _str("search.mode", s["mode"])
    if mode not in list_modes():
        raise ConfigError(f"search.mode: {mode!r} is unknown; allowed: {', '.join(list_modes())}")
    objectives = _names("search.objectives", s["objectives"])
    if objectives:
        resolve_objectives(objectives)
    constraints = _names("search.constraints", s["constraints"])
    resolve_constraints(constraints)
    algorithm = _str("search.algorithm", s["algorithm"])
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"search.algorithm: {algorithm!r} is unknown; allowed: {', '.join(ALGORITHMS)}")
    names = objectives or get_mode(mode).objectives
    ref = {}
    for key, value in s["reference_point"].items():
        if key not in names:
            raise ConfigError(f"search.reference_point.{key}: not an objective of this search; allowed: {', '.join(names)}")
        ref[key] = _float(f"search.reference_point.{key}", value)
        if not math.isfinite(ref[key]):
            raise ConfigError(f"search.reference_point.{key}: {value!r} is not allowed; must be a finite number")
    limits = {}
    for key, value in t["constraints"].items():
        v = _float(f"constraints.{key}", value)
        if not v > 0:
            raise ConfigError(f"constraints.{key}: {value!r} is not allowed; must be a positive number (inf disables)")
        limits[key] = v
    scenario = dict(t["scenario"])
    scenario_name = _str("scenario.name", scenario.pop("name", "reference"))
    enabled = t["exhaustive"]["enabled"]
    if enabled not in _EXHAUSTIVE or (not isinstance(enabled, bool) and enabled != "auto"):
        raise ConfigError(f"exhaustive.enabled: {enabled!r} is not allowed; allowed: auto, true, false")
    axes = {}
    for key, values in t["hardware"]["axes"].items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"hardware.axes.{key}: {values!r} is not allowed; must be a non-empty list of values")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"hardware.axes.{key}: {v!r} is not allowed; must be a list of finite numbers")
        if len(set(values)) != len(values):
            raise ConfigError(f"hardware.axes.{key}: {values!r} repeats a value; allowed: each value once")
        axes[key] = tuple(values)
    exact = t["exact"]["enabled"]
    if not isinstance(exact, bool):
        raise ConfigError(f"exact.enabled: {exact!r} is not allowed; allowed: true, false")
    if exact and enabled is True:
        raise ConfigError("exact.enabled: true together with exhaustive.enabled = true; allowed: one of them")
    for table in ("model", "hardware"):
        if not isinstance(t[table]["fixed"], Mapping):
            raise ConfigError(f"{table}.fixed: must be a table")
    return SearchSpec(
        model=_str("model.name", t["model"]["name"]),
        model_fixed=_freeze(t["model"]["fixed"]),
        space=_freeze(t["space"]),
        grid=_str("hardware.grid", t["hardware"]["grid"]),
        axes=MappingProxyType(axes),
        hardware_fixed=_freeze(t["hardware"]["fixed"]),
        profile=_profile(_str("hardware.profile", t["hardware"]["profile"])),
        limits=MappingProxyType(limits),
        scenario=scenario_name,
        scenario_overrides=_freeze(scenario),
        accuracy=_str("accuracy.estimator", t["accuracy"]["estimator"]),
        accuracy_options=_freeze(t["accuracy"]["options"]),
        mode=mode,
        objectives=objectives,
        constraints=constraints,
        algorithm=algorithm,
        population=_int("search.population", s["population"], 2, _MAX_POPULATION),
        offspring=_offspring(s["offspring"]),
        generations=_int("search.generations", s["generations"], 1, _MAX_GENERATIONS),
        seed=_int("search.seed", s["seed"], 0, _MAX_SEED),
        reference_point=MappingProxyType(ref),
        exhaustive=enabled,
        exhaustive_limit=_int("exhaustive.limit", t["exhaustive"]["limit"], 1, _MAX_DESIGNS),
        chunk_size=_int("exhaustive.chunk_size", t["exhaustive"]["chunk_size"], 1, _MAX_DESIGNS),
        max_rows=_int("exhaustive.max_rows", t["exhaustive"]["max_rows"], 0, _MAX_DESIGNS),
        exact=exact,
        exact_chunk=_int("exact.chunk", t["exact"]["chunk"], 1, _MAX_DESIGNS),
    )


def _float(field: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{field}: {value!r} is not allowed; must be a number")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{field}: {value!r} is not allowed; must be a number") from None
    if math.isnan(v):
        raise ConfigError(f"{field}: nan is not allowed; must be a number")
    return v
