"""The deployment scenario: where a chip is made and used and for how long, validated and frozen."""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import carbon_data
from carbon_data import CarbonDataError, UnknownNameError

from ..errors import ConfigError, DataError
from ..units import DAYS_PER_YEAR, HOURS_PER_DAY, SECONDS_PER_HOUR

__all__ = [
    "CarbonScenario",
    "load_scenario",
    "preset_names",
    "SCENARIO_KEYS",
    "YIELD_MODELS",
    "REFERENCE_INFERENCES",
    "ACT_YIELD_FRACTION",
    "DEFAULT_DEFECT_DENSITY_PER_CM2",
    "DEFAULT_DEFECT_CLUSTERING_ALPHA",
    "DEFAULT_DEVICE_LIFETIME_YEARS",
]

# Named defaults (docs/carbon.md gives each one's source).
REFERENCE_INFERENCES = 30_000_000.0  # CATransformers code: "3 years continuous" (docs/reference-facts.md section 2)
ACT_YIELD_FRACTION = 0.875  # ACT's default fab yield, used by the CATransformers code
DEFAULT_DEFECT_DENSITY_PER_CM2 = 0.09  # TSMC N7, VLSI Symposium 2019 (AnandTech, Aug 2020)
DEFAULT_DEFECT_CLUSTERING_ALPHA = 2.0  # negative-binomial clustering, mid-range for mature processes
DEFAULT_DEVICE_LIFETIME_YEARS = 3.0  # the paper's 3-year deployment

YIELD_MODELS: tuple[str, ...] = ("fixed", "murphy", "negative_binomial")
_DUTY_KEYS = ("lifetime_years", "hours_per_day", "inferences_per_second")
_PRESETS_FILE = "scenarios.toml"

# field -> (type, may be None)
_FIELD_TYPES: dict[str, tuple[type, bool]] = {
    "name": (str, False),
    "fab_location": (str, False),
    "fab_table": (str, False),
    "fab_intensity_g_per_kwh": (float, True),
    "node_nm": (int, True),
    "abatement": (int, False),
    "yield_model": (str, False),
    "yield_fraction": (float, False),
    "defect_density_per_cm2": (float, False),
    "defect_clustering_alpha": (float, False),
    "dram_type": (str, False),
    "dram_gb": (float, True),
    "dram_yield_fraction": (float, True),
    "use_region": (str, True),
    "use_intensity_g_per_kwh": (float, True),
    "inferences": (float, True),
    "lifetime_years": (float, True),
    "hours_per_day": (float, True),
    "inferences_per_second": (float, True),
    "amortise_embodied": (bool, False),
    "device_lifetime_years": (float, False),
}


@dataclass(frozen=True)
class CarbonScenario:
    """Manufacturing and use of one deployment; the defaults are the reference code's.

    Manufacturing: the fab's grid (`fab_location` in ACT's `fab_table`, or an explicit
    `fab_intensity_g_per_kwh`), the node (None: the hardware's), gas `abatement` (95 or 99 %),
    the logic yield (`yield_model` "fixed" at `yield_fraction`, or "murphy" /
    "negative_binomial" from die area and `defect_density_per_cm2`), and DRAM (`dram_type`,
    `dram_gb` None: the hardware's; divided by `dram_yield_fraction`, None: `yield_fraction`).

    Use: the grid (`use_region`, or an explicit `use_intensity_g_per_kwh`) and the lifetime,
    either `inferences` or `lifetime_years` x `hours_per_day` x `inferences_per_second`
    (none given: the reference's 30,000,000). `amortise_embodied` charges only the share
    use time / `device_lifetime_years` of embodied carbon (off: in full, as the reference).
    """

    name: str = "custom"
    fab_location: str = "taiwan"
    fab_table: str = "2023"
    fab_intensity_g_per_kwh: float | None = None
    node_nm: int | None = None
    abatement: int = 95
    yield_model: str = "fixed"
    yield_fraction: float = ACT_YIELD_FRACTION
    defect_density_per_cm2: float = DEFAULT_DEFECT_DENSITY_PER_CM2
    defect_clustering_alpha: float = DEFAULT_DEFECT_CLUSTERING_ALPHA
    dram_type: str = "lpddr3_20nm"
    dram_gb: float | None = None
    dram_yield_fraction: float | None = None
    use_region: str | None = "CA-BC-PAPER"
    use_intensity_g_per_kwh: float | None = None
    inferences: float | None = None
    lifetime_years: float | None = None
    hours_per_day: float | None = None
    inferences_per_second: float | None = None
    amortise_embodied: bool = False
    device_lifetime_years: float = DEFAULT_DEVICE_LIFETIME_YEARS

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _coerce(f.name, getattr(self, f.name)))
        _validate(self)
        if self.inferences is None and self.lifetime_years is None:
            object.__setattr__(self, "inferences", REFERENCE_INFERENCES)

    # --- building ---------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], base: "CarbonScenario | None" = None, where: str = "scenario") -> "CarbonScenario":
        """Build from a mapping (TOML table); unknown keys are errors. Keys not given come from base (or the defaults)."""
        _check_keys(values, where)
        start = asdict(base) if base is not None else {}
        if base is not None:
            _clear_alternatives(start, values)
        return cls(**{**start, **dict(values)})

    def with_overrides(self, overrides: Mapping[str, Any]) -> "CarbonScenario":
        """A copy with some fields changed; string values ("1e8", "true", "none") are parsed to the field's type.

        Setting `use_region` drops an explicit `use_intensity_g_per_kwh` (and `fab_location` an
        explicit fab intensity) unless both are given; setting `inferences` drops the
        years x hours x rate lifetime and the other way round.
        """
        _check_keys(overrides, "override")
        values = asdict(self)
        _clear_alternatives(values, overrides)
        values.update(overrides)
        return CarbonScenario(**values)

    # --- resolved numbers -------------------------------------------------------------

    @property
    def lifetime_mode(self) -> str:
        """'inferences' (a count) or 'duty' (years x hours/day x inferences/s)."""
        return "duty" if self.lifetime_years is not None else "inferences"

    @property
    def lifetime_inferences(self) -> float:
        """Inferences over the deployment."""
        if self.lifetime_years is not None:
            return self.use_time_s * float(self.inferences_per_second)  # type: ignore[arg-type]
        return float(self.inferences)  # type: ignore[arg-type]

    @property
    def use_time_s(self) -> float:
        """Seconds the device serves this workload (duty mode); NaN in inferences mode (needs a latency)."""
        if self.lifetime_years is None:
            return math.nan
        return float(self.lifetime_years) * DAYS_PER_YEAR * float(self.hours_per_day) * SECONDS_PER_HOUR  # type: ignore[arg-type]

    @property
    def device_lifetime_s(self) -> float:
        return self.device_lifetime_years * DAYS_PER_YEAR * HOURS_PER_DAY * SECONDS_PER_HOUR

    @property
    def resolved_fab_intensity_g_per_kwh(self) -> float:
        """The fab's grid intensity: the explicit value, else the fab location's in `fab_table`."""
        if self.fab_intensity_g_per_kwh is not None:
            return self.fab_intensity_g_per_kwh
        return carbon_data.fab_intensity(self.fab_location, self.fab_table).intensity_g_per_kwh

    @property
    def resolved_use_intensity_g_per_kwh(self) -> float:
        """The use-phase grid intensity: the explicit value, else the use region's."""
        if self.use_intensity_g_per_kwh is not None:
            return self.use_intensity_g_per_kwh
        return carbon_data.grid_intensity(self.use_region).intensity_g_per_kwh  # type: ignore[arg-type]

    @property
    def resolved_dram_yield_fraction(self) -> float:
        return self.yield_fraction if self.dram_yield_fraction is None else self.dram_yield_fraction

    def logic_factors(self, node_nm: int) -> carbon_data.LogicFactors:
        """ACT EPA / GPA / MPA for a node (the scenario's node_nm wins over the argument)."""
        node = self.node_nm if self.node_nm is not None else node_nm
        try:
            return carbon_data.logic_factors(node, self.abatement)
        except CarbonDataError as exc:
            raise _config_error(exc) from None

    def as_dict(self) -> dict[str, Any]:
        """The fields, as given (None where unset)."""
        return asdict(self)

    def row_columns(self) -> dict[str, Any]:
        """The scenario columns every result row carries: name, use region, use-phase intensity, lifetime inferences."""
        return {
            "scenario": self.name,
            "use_region": self.use_region or "",
            "intensity_g_per_kwh": float(self.resolved_use_intensity_g_per_kwh),
            "inferences": float(self.lifetime_inferences),
        }

    def describe(self) -> dict[str, Any]:
        """The fields plus the resolved numbers, JSON-ready."""
        out = self.as_dict()
        out.update(
            resolved_fab_intensity_g_per_kwh=self.resolved_fab_intensity_g_per_kwh,
            resolved_use_intensity_g_per_kwh=self.resolved_use_intensity_g_per_kwh,
            lifetime_inferences=self.lifetime_inferences,
            resolved_dram_yield_fraction=self.resolved_dram_yield_fraction,
        )
        if self.use_intensity_g_per_kwh is None and self.use_region is not None:
            region = carbon_data.grid_intensity(self.use_region)
            out.update(use_region_name=region.name, use_region_source=region.source, use_region_year=region.year)
        return out


SCENARIO_KEYS: tuple[str, ...] = tuple(f.name for f in fields(CarbonScenario))


# --- parsing and validation -------------------------------------------------------------


def _coerce(key: str, value: Any) -> Any:
    kind, optional = _FIELD_TYPES[key]
    if isinstance(value, str):
        text = value.strip()
        if key == "node_nm" and text.casefold().endswith("nm"):
            text = text[:-2].strip()
        if optional and text.casefold() in ("", "none", "null"):
            return None
        if kind is str:
            return text
        if kind is bool:
            lowered = text.casefold()
            if lowered in ("true", "yes", "on", "1"):
                return True
            if lowered in ("false", "no", "off", "0"):
                return False
            raise ConfigError(f"{key}: {value!r} is not a boolean; allowed: true, false")
        try:
            number = float(text)
        except ValueError:
            allowed = "an integer" if kind is int else "a number"
            raise ConfigError(f"{key}: {value!r} is not a number; allowed: {allowed}{' or none' if optional else ''}") from None
        value = number
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{key}: None is not allowed; allowed: a {kind.__name__}")
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: {value!r} is not a boolean; allowed: true, false")
    if kind is str:
        if key == "fab_table" and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{key}: {value!r} is not text; allowed: a name")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key}: {value!r} is not a number; allowed: a number")
    if not math.isfinite(value):
        raise ConfigError(f"{key}: {value!r} is not finite; allowed: a finite number")
    if kind is int:
        if value != int(value):
            raise ConfigError(f"{key}: {value!r} is not an integer; allowed: an integer")
        return int(value)
    return float(value)


def _config_error(exc: Exception, field: str | None = None) -> ConfigError:
    """Rephrase a carbon_data error (already one line naming value and allowed) under the scenario's field name."""
    message = str(exc)
    source_field = getattr(exc, "field", "")
    if field and source_field and message.startswith(f"{source_field}:"):
        message = f"{field}:{message[len(source_field) + 1:]}"
    return ConfigError(message)


def _require(key: str, value: float | None, ok: bool, allowed: str) -> None:
    if value is not None and not ok:
        raise ConfigError(f"{key}: {value!r} is out of range; allowed: {allowed}")


def _validate(s: CarbonScenario) -> None:
    if s.fab_table not in carbon_data.FAB_TABLES:
        raise ConfigError(f"fab_table: {s.fab_table!r} is not an ACT fab table; allowed: {', '.join(carbon_data.FAB_TABLES)}")
    if s.abatement not in carbon_data.ABATEMENTS:
        raise ConfigError(f"abatement: {s.abatement!r} is not an ACT abatement level; allowed: {', '.join(map(str, carbon_data.ABATEMENTS))}")
    if s.yield_model not in YIELD_MODELS:
        hint = difflib.get_close_matches(s.yield_model, YIELD_MODELS, n=1)
        raise ConfigError(
            f"yield_model: {s.yield_model!r} is unknown{'; did you mean ' + hint[0] + '?' if hint else ''} allowed: {', '.join(YIELD_MODELS)}"
        )
    _require("yield_fraction", s.yield_fraction, 0.0 < s.yield_fraction <= 1.0, "0 < yield_fraction <= 1")
    _require(
        "dram_yield_fraction", s.dram_yield_fraction,
        s.dram_yield_fraction is None or 0.0 < s.dram_yield_fraction <= 1.0, "0 < dram_yield_fraction <= 1, or none",
    )
    _require("defect_density_per_cm2", s.defect_density_per_cm2, s.defect_density_per_cm2 >= 0.0, ">= 0 defects/cm2")
    _require("defect_clustering_alpha", s.defect_clustering_alpha, s.defect_clustering_alpha > 0.0, "> 0")
    for key in ("fab_intensity_g_per_kwh", "use_intensity_g_per_kwh", "dram_gb", "inferences", "lifetime_years", "inferences_per_second"):
        value = getattr(s, key)
        _require(key, value, value is None or value >= 0.0, ">= 0")
    _require("hours_per_day", s.hours_per_day, s.hours_per_day is None or 0.0 <= s.hours_per_day <= HOURS_PER_DAY, "0 <= hours_per_day <= 24")
    _require("device_lifetime_years", s.device_lifetime_years, s.device_lifetime_years > 0.0, "> 0 years")

    duty = {k: getattr(s, k) for k in _DUTY_KEYS}
    given = [k for k, v in duty.items() if v is not None]
    if given and s.inferences is not None:
        raise ConfigError(
            f"inferences: {s.inferences!r} given together with {', '.join(given)}; allowed: either inferences "
            f"or lifetime_years, hours_per_day and inferences_per_second"
        )
    if given and len(given) < len(_DUTY_KEYS):
        missing = [k for k in _DUTY_KEYS if k not in given]
        raise ConfigError(
            f"{missing[0]}: None while {', '.join(given)} {'is' if len(given) == 1 else 'are'} set; allowed: "
            f"lifetime_years, hours_per_day and inferences_per_second all set, or inferences instead"
        )

    if s.use_region is None and s.use_intensity_g_per_kwh is None:
        raise ConfigError("use_region: None without use_intensity_g_per_kwh; allowed: a region (FR, FRA, France, US-CA) or an explicit intensity")
    checks = (
        ("fab_location", lambda: s.fab_intensity_g_per_kwh is None and carbon_data.fab_intensity(s.fab_location, s.fab_table)),
        ("use_region", lambda: s.use_intensity_g_per_kwh is None and carbon_data.grid_intensity(s.use_region)),  # type: ignore[arg-type]
        ("node_nm", lambda: s.node_nm is not None and carbon_data.logic_factors(s.node_nm, s.abatement)),
        ("dram_type", lambda: carbon_data.dram_factor(s.dram_type)),
    )
    for field, check in checks:
        try:
            check()
        except (UnknownNameError, CarbonDataError) as exc:
            raise _config_error(exc, field) from None


def _check_keys(values: Mapping[str, Any], where: str) -> None:
    for key in values:
        if key not in _FIELD_TYPES:
            hint = difflib.get_close_matches(str(key), list(_FIELD_TYPES), n=2)
            suggestion = f"; did you mean {' or '.join(hint)}?" if hint else ";"
            raise ConfigError(f"{where}: unknown key {key!r}{suggestion} allowed: {', '.join(_FIELD_TYPES)}")


def _clear_alternatives(values: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Drop the settings that a change replaces (region vs explicit intensity, count vs duty lifetime)."""
    if "use_region" in changes and "use_intensity_g_per_kwh" not in changes:
        values["use_intensity_g_per_kwh"] = None
    if "fab_location" in changes and "fab_intensity_g_per_kwh" not in changes:
        values["fab_intensity_g_per_kwh"] = None
    if "inferences" in changes:
        for key in _DUTY_KEYS:
            if key not in changes:
                values[key] = None
    elif any(key in changes for key in _DUTY_KEYS):
        values["inferences"] = None


# --- presets and files --------------------------------------------------------------------


@lru_cache(maxsize=1)
def _presets() -> dict[str, dict[str, Any]]:
    try:
        text = resources.files("catransformers").joinpath("data", _PRESETS_FILE).read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"catransformers/data/{_PRESETS_FILE}: cannot be read ({exc})") from None
    for name, table in data.items():
        if not isinstance(table, dict):
            raise DataError(f"catransformers/data/{_PRESETS_FILE}: {name!r} is not a table")
    return data


def preset_names() -> list[str]:
    """Names of the shipped scenarios (catransformers/data/scenarios.toml)."""
    return list(_presets())


def _from_preset(name: str) -> CarbonScenario:
    table = dict(_presets()[name])
    table.pop("description", None)
    table.setdefault("name", name)
    return CarbonScenario.from_mapping(table, where=f"preset {name}")


def load_scenario(name_or_path: "str | Path | CarbonScenario") -> CarbonScenario:
    """A shipped preset by name ('reference', 'paper') or a TOML file.

    A file holds the fields at top level; an optional `base = "<preset>"` starts from a preset.
    Unknown keys are errors.
    """
    if isinstance(name_or_path, CarbonScenario):
        return name_or_path
    text = str(name_or_path)
    presets = _presets()
    if text in presets:
        return _from_preset(text)
    path = Path(text)
    if path.suffix.lower() == ".toml" or path.exists():
        return _from_file(path)
    hint = difflib.get_close_matches(text, list(presets), n=1)
    raise ConfigError(
        f"scenario: unknown preset {text!r}{'; did you mean ' + hint[0] + '?' if hint else ';'} "
        f"allowed: {', '.join(presets)} or a path to a .toml file"
    )


def _from_file(path: Path) -> CarbonScenario:
    from catransformers_errors.files import read_toml

    data = read_toml(str(path), "scenario", ConfigError)
    data.pop("description", None)
    base_name = data.pop("base", None)
    base = None
    if base_name is not None:
        if base_name not in _presets():
            hint = difflib.get_close_matches(str(base_name), list(_presets()), n=1)
            raise ConfigError(
                f"base: unknown preset {base_name!r}{'; did you mean ' + hint[0] + '?' if hint else ';'} allowed: {', '.join(_presets())}"
            )
        base = _from_preset(base_name)
    data.setdefault("name", path.stem)
    for key, value in data.items():  # a TOML file has real types: "yes" is text, not a boolean
        kind = _FIELD_TYPES.get(key, (str, False))[0]
        if kind is not str and isinstance(value, str):
            allowed = "true or false" if kind is bool else "a number"
            raise ConfigError(f"{key}: {value!r} (text) is not allowed in a scenario file; allowed: {allowed}")
    return CarbonScenario.from_mapping(data, base=base, where=f"scenario file {path.name}")

