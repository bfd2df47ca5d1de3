"""The design space: model pruning variables x hardware axes, each encoded as an index into its sorted values."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from hw_models import SEARCH_KEYS, HardwareBatch, HardwareConfig, HardwareError, load_grid_axes

from ..errors import ConfigError
from ..workloads import ModelBatch, ModelConfig, PruningSpace, pruning_space, resolve_model
from .objectives import Mode

__all__ = ["Variable", "DesignSpace", "build_space"]

_HW_FIELDS = tuple(HardwareConfig().as_dict())


@dataclass(frozen=True, eq=False)
class Variable:
    """One searched variable: its sorted values; the search sees the index 0..len-1."""

    name: str
    values: np.ndarray
    group: str  # "model" | "hardware"

    @property
    def upper(self) -> int:
        return len(self.values) - 1


@dataclass(frozen=True, eq=False)
class DesignSpace:
    """Searched variables plus the fixed values of every other design column.

    Columns: the pruning variables of the base model (PruningSpace names), then the hardware
    keys (hw_models.SEARCH_KEYS, then any other grid axis).
    """

    pruning: PruningSpace
    variables: tuple[Variable, ...]
    fixed: Mapping[str, Any]
    hardware_base: HardwareConfig
    model_columns: tuple[str, ...]
    hardware_columns: tuple[str, ...]

    @property
    def base(self) -> ModelConfig:
        return self.pruning.base

    @property
    def columns(self) -> tuple[str, ...]:
        return self.model_columns + self.hardware_columns

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    @property
    def n_var(self) -> int:
        return len(self.variables)

    @property
    def upper(self) -> np.ndarray:
        return np.array([v.upper for v in self.variables], dtype=np.int64)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v.values) for v in self.variables)

    @property
    def size(self) -> int:
        """Number of distinct designs (Python int: it may exceed int64 for big spaces)."""
        n = 1
        for v in self.variables:
            n *= len(v.values)
        return n

    def decode(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Index matrix (n, n_var) -> {column: (n,) values} for every design column."""
        X = np.asarray(X, dtype=np.int64).reshape(-1, self.n_var)
        n = len(X)
        out: dict[str, np.ndarray] = {}
        searched = {v.name: (j, v) for j, v in enumerate(self.variables)}
        for col in self.columns:
            if col in searched:
                j, v = searched[col]
                out[col] = v.values[X[:, j]]
            else:
                value = self.fixed[col]
                out[col] = np.full(n, value, dtype=np.asarray(value).dtype)
        return out

    def encode(self, values: Mapping[str, Any]) -> np.ndarray:
        """Column values (scalars or arrays) -> index matrix; every searched variable must be given."""
        cols = []
        for v in self.variables:
            a = np.atleast_1d(np.asarray(values[v.name]))
            idx = np.searchsorted(v.values, a)
            idx = np.clip(idx, 0, v.upper)
            if not np.all(v.values[idx] == a):
                raise ConfigError(f"{v.name}: {a[v.values[idx] != a][0]!r} is not in the space; allowed: {_describe(v.values)}")
            cols.append(idx)
        n = max(len(c) for c in cols)
        return np.column_stack([np.broadcast_to(c, (n,)) for c in cols]).astype(np.int64)

    def models(self, values: Mapping[str, np.ndarray]) -> ModelBatch:
        return self.pruning.decode({k: values[k] for k in self.model_columns}, check=False)

    def hardware(self, values: Mapping[str, np.ndarray]) -> HardwareBatch:
        return HardwareBatch.from_arrays(self.hardware_base, **{k: values[k] for k in self.hardware_columns})

    def unravel(self, flat: np.ndarray) -> np.ndarray:
        """Flat design numbers (row-major over the variables) -> index matrix, for enumeration."""
        return np.column_stack(np.unravel_index(np.asarray(flat, dtype=np.int64), self.shape)).astype(np.int64)

    def describe(self) -> dict[str, Any]:
        return {
            "variables": {v.name: _plain_list(v.values) for v in self.variables},
            "fixed": {k: _plain(v) for k, v in self.fixed.items()},
            "size": self.size,
        }


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _plain_list(values: np.ndarray) -> list:
    return [_plain(x) for x in values]


def _describe(values: np.ndarray) -> str:
    return "{" + ", ".join(str(_plain(x)) for x in values) + "}"


def _as_values(name: str, raw: Any) -> np.ndarray:
    try:
        arr = np.array(sorted(set(float(x) for x in raw)), dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"hardware.axes.{name}: {list(raw)!r} is not allowed; must be a list of numbers") from None
    if np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    return arr


def build_space(
    model: str | ModelConfig,
    mode: Mode,
    space: Mapping[str, Any] | None = None,
    grid: str = "reference",
    axes: Mapping[str, Any] | None = None,
    hardware_fixed: Mapping[str, Any] | None = None,
    model_fixed: Mapping[str, Any] | None = None,
) -> DesignSpace:
    """The design space of a mode: which columns are searched and the values of the others."""
    base = model if isinstance(model, ModelConfig) else resolve_model(model)
    base = base.root
    full = pruning_space(base)
    pspace = full.restrict(space) if space else full
    try:
        hw_base = HardwareConfig.from_mapping(dict(hardware_fixed or {}))
    except HardwareError as exc:
        raise ConfigError(str(exc).replace("hardware:", "hardware.fixed:", 1)) from None
    grid_axes: dict[str, Any] = dict(load_grid_axes(grid))
    for key, values in (axes or {}).items():
        if key not in _HW_FIELDS:
            raise ConfigError(f"hardware.axes: unknown key {key!r}; allowed: {', '.join(_HW_FIELDS)}")
        grid_axes[key] = list(values)
    if mode.searches_hardware:  # a fixed value of a searched axis would be silently ignored
        for key in hardware_fixed or {}:
            if key in grid_axes and len(grid_axes[key]) > 1:
                raise ConfigError(
                    f"hardware.fixed.{key}: mode {mode.name!r} searches {key} over {list(grid_axes[key])}, so a fixed value would be ignored; "
                    f"allowed: hardware.axes.{key} = [{hardware_fixed[key]}] to pin it, or a mode that fixes the hardware (model-only)"
                )
    hw_columns = tuple(k for k in SEARCH_KEYS if k in grid_axes) + tuple(k for k in grid_axes if k not in SEARCH_KEYS)
    hw_columns += tuple(k for k in SEARCH_KEYS if k not in hw_columns)
    hw_values = {k: _as_values(k, grid_axes[k]) if k in grid_axes else np.array([getattr(hw_base, k)]) for k in hw_columns}
    for k, vals in hw_values.items():  # every axis value must make a valid accelerator
        for value in vals.tolist():
            try:
                HardwareConfig.from_mapping({k: value}, base=hw_base)
            except HardwareError as exc:
                reason = str(exc).split("is not allowed;", 1)[-1].strip()
                raise ConfigError(f"hardware.axes.{k}: {value} is not allowed; {reason}") from None

    fixed_model = full.full()
    for key, value in (model_fixed or {}).items():
        var = full.variable(key)  # unknown key -> ConfigError naming the allowed ones
        if value not in var.values:
            raise ConfigError(f"model.fixed.{key}: {value!r} is outside the base model's space; allowed: {var.describe()}")
        fixed_model[key] = int(value)

    variables: list[Variable] = []
    fixed: dict[str, Any] = {}
    for v in pspace.variables:
        vals = np.array(v.values, dtype=np.int64)
        if mode.searches_model and len(vals) > 1:
            variables.append(Variable(v.name, vals, "model"))
        else:
            fixed[v.name] = np.int64(vals[0]) if mode.searches_model else np.int64(fixed_model[v.name])
    for k in hw_columns:
        vals = hw_values[k]
        if mode.searches_hardware and len(vals) > 1:
            variables.append(Variable(k, vals, "hardware"))
        else:
            base_value = getattr(hw_base, k)
            fixed[k] = vals[0] if mode.searches_hardware else np.asarray(base_value, dtype=vals.dtype)[()]
    if not variables:
        raise ConfigError(
            f"space: nothing to search in mode {mode.name!r}: every {'model' if mode.variables == 'model' else 'searched'} "
            "variable has a single value; allowed: at least one variable with two or more values"
        )
    return DesignSpace(
        pruning=pspace,
        variables=tuple(variables),
        fixed=MappingProxyType(fixed),
        hardware_base=hw_base,
        model_columns=pspace.names,
        hardware_columns=hw_columns,
    )
