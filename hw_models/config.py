"""Hardware descriptions: one validated `HardwareConfig` and the struct-of-arrays `HardwareBatch`."""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .errors import HardwareError

__all__ = [
    "HardwareConfig",
    "HardwareBatch",
    "SEARCH_KEYS",
    "FIELD_UNITS",
    "reference_grid",
    "grid",
    "load_grid_axes",
]

# The six parameters the reference searches over (REFERENCE.md section 1).
SEARCH_KEYS: tuple[str, ...] = ("clusters", "pe_width", "pe_depth", "l2_sram_kb", "l2_bw", "glb_mb")

# Fields that the template needs to be powers of two (mesh, array and buffer shapes).
_POW2 = frozenset({"clusters", "pe_width", "pe_depth", "l2_sram_kb", "glb_mb"})
_INT_FIELDS = frozenset(
    {"clusters", "pe_width", "pe_depth", "l2_sram_kb", "l2_bw", "glb_mb", "glb_bw", "dram_bw", "precision_bits", "node_nm"}
)


@dataclass(frozen=True)
class HardwareConfig:
    """One accelerator of the reference template (REFERENCE.md section 1).

    Defaults are the reference's fixed settings; the six search parameters default to the
    reference's area-limit design (4 clusters of 256x16, 1 MB L2, 8 MB GLB) with the widest
    L2 port of the grid (128 words/cycle).
    """

    clusters: int = 4  # tensor core + vector core pairs
    pe_width: int = 256  # MAC-array width; also SIMD lanes of a vector core
    pe_depth: int = 16  # MAC-array depth
    l2_sram_kb: int = 1024  # per-cluster local buffer, KiB
    l2_bw: int = 128  # L2 -> PE bandwidth, words/cycle per cluster
    glb_mb: int = 8  # shared global buffer, MiB
    glb_bw: int = 512  # GLB -> L2 bandwidth, words/cycle (reference code; paper: 256)
    dram_bw: int = 128  # DRAM -> GLB bandwidth, words/cycle (80 GB/s at 625 MHz)
    frequency_mhz: float = 625.0  # reference code (paper: 500)
    precision_bits: int = 8  # INT8: one byte per word
    node_nm: int = 22  # process node; selects the component table
    dram_gb: float = 1.0  # off-chip DRAM capacity, GB

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_value(f.name, getattr(self, f.name))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], base: "HardwareConfig | None" = None) -> "HardwareConfig":
        """Build from a mapping (TOML table, CLI pairs); unknown keys are errors."""
        known = {f.name for f in fields(cls)}
        for key in values:
            if key not in known:
                raise HardwareError(f"hardware: unknown key {key!r}; allowed: {', '.join(sorted(known))}")
        merged = dict((base or cls()).as_dict())
        for key, value in values.items():
            merged[key] = _coerce(key, value)
        return cls(**merged)

    @classmethod
    def from_toml(cls, path: str) -> "HardwareConfig":
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise HardwareError(f"hardware file {path!r}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise HardwareError(f"hardware file {path!r}: not valid TOML ({exc})") from None
        data = data.get("hardware", data)
        return cls.from_mapping(data)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _coerce(key: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise HardwareError(f"hardware.{key}: {value!r} is not a number") from None
    if key in _INT_FIELDS:
        if float(value) != int(float(value)):
            raise HardwareError(f"hardware.{key}: {value!r} must be a whole number")
        return int(float(value))
    return float(value)


def _check_value(name: str, value: Any) -> None:
    v = np.asarray(value)
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        bad = (v[~(np.isfinite(v) & (v > 0))].ravel()[0] if v.ndim else v).item()
        raise HardwareError(f"hardware.{name}: {bad!r} is not allowed; must be a positive number")
    if name in _POW2:
        iv = v.astype(np.int64)
        ok = (iv == v) & ((iv & (iv - 1)) == 0)
        if not np.all(ok):
            bad = (v[~ok].ravel()[0] if v.ndim else v).item()
            raise HardwareError(f"hardware.{name}: {bad!r} is not allowed; must be a power of two")


_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(HardwareConfig))

# Unit of every HardwareConfig field, as result columns and reports show it (one entry per
# field; tests/catransformers/test_results.py checks that none is missing). kb/mb in the
# names are KiB/MiB.
FIELD_UNITS: Mapping[str, str] = MappingProxyType({
    "clusters": "count",
    "pe_width": "MACs",
    "pe_depth": "MACs",
    "l2_sram_kb": "KiB per cluster",
    "l2_bw": "words/cycle per cluster",
    "glb_mb": "MiB",
    "glb_bw": "words/cycle",
    "dram_bw": "words/cycle",
    "frequency_mhz": "MHz",
    "precision_bits": "bit",
    "node_nm": "nm",
    "dram_gb": "GB",
})


@dataclass(frozen=True, eq=False)
class HardwareBatch:
    """Many accelerators as arrays of equal length (struct of arrays), one per field.

    A single design is the batch of one; every cost function takes a batch.
    """

    clusters: np.ndarray
    pe_width: np.ndarray
    pe_depth: np.ndarray
    l2_sram_kb: np.ndarray
    l2_bw: np.ndarray
    glb_mb: np.ndarray
    glb_bw: np.ndarray
    dram_bw: np.ndarray
    frequency_mhz: np.ndarray
    precision_bits: np.ndarray
    node_nm: np.ndarray
    dram_gb: np.ndarray

    def __post_init__(self) -> None:
        n = None
        for name in _FIELD_NAMES:
            arr = np.atleast_1d(np.asarray(getattr(self, name)))
            dtype = np.int64 if name in _INT_FIELDS else np.float64
            arr = arr.astype(dtype, copy=False)
            if arr.ndim != 1:
                raise HardwareError(f"hardware.{name}: expected a 1-D array, got shape {arr.shape}")
            n = len(arr) if n is None or n == 1 else n
            object.__setattr__(self, name, arr)
        for name in _FIELD_NAMES:
            arr = getattr(self, name)
            if len(arr) == 1 and n != 1:
                object.__setattr__(self, name, np.repeat(arr, n))
            elif len(arr) != n:
                raise HardwareError(f"hardware.{name}: length {len(arr)} does not match batch length {n}")
            _check_value(name, getattr(self, name))

    def __len__(self) -> int:
        return len(self.clusters)

    @classmethod
    def from_configs(cls, configs: Iterable[HardwareConfig] | HardwareConfig) -> "HardwareBatch":
        if isinstance(configs, HardwareConfig):
            configs = [configs]
        configs = list(configs)
        if not configs:
            raise HardwareError("hardware: an empty list of configurations")
        return cls(**{name: np.array([getattr(c, name) for c in configs]) for name in _FIELD_NAMES})

    @classmethod
    def from_arrays(cls, base: HardwareConfig | None = None, **arrays: Any) -> "HardwareBatch":
        """Arrays for some fields, the rest taken from `base` (reference defaults)."""
        for key in arrays:
            if key not in _FIELD_NAMES:
                raise HardwareError(f"hardware: unknown key {key!r}; allowed: {', '.join(_FIELD_NAMES)}")
        base = base or HardwareConfig()
        return cls(**{name: arrays.get(name, getattr(base, name)) for name in _FIELD_NAMES})

    def config(self, i: int) -> HardwareConfig:
        values = {}
        for name in _FIELD_NAMES:
            v = getattr(self, name)[i]
            values[name] = int(v) if name in _INT_FIELDS else float(v)
        return HardwareConfig(**values)

    def take(self, index: Any) -> "HardwareBatch":
        return HardwareBatch(**{name: getattr(self, name)[index] for name in _FIELD_NAMES})

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in _FIELD_NAMES}

    def search_keys(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in SEARCH_KEYS}


def grid(axes: Mapping[str, Sequence[Any]], base: HardwareConfig | None = None) -> HardwareBatch:
    """Cartesian product of the given axes (in SEARCH_KEYS order first), other fields from `base`."""
    for key, values in axes.items():
        if key not in _FIELD_NAMES:
            raise HardwareError(f"grid: unknown key {key!r}; allowed: {', '.join(_FIELD_NAMES)}")
        if len(values) == 0:
            raise HardwareError(f"grid.{key}: empty list of values")
    order = [k for k in SEARCH_KEYS if k in axes] + [k for k in axes if k not in SEARCH_KEYS]
    mesh = np.array(list(itertools.product(*(axes[k] for k in order))), dtype=np.float64)
    return HardwareBatch.from_arrays(base, **{k: mesh[:, i] for i, k in enumerate(order)})


def load_grid_axes(name: str = "reference") -> dict[str, list]:
    """Axes of a named grid shipped in hw_models/data/grids.toml."""
    with resources.files("hw_models").joinpath("data/grids.toml").open("rb") as fh:
        grids = tomllib.load(fh)
    if name not in grids:
        raise HardwareError(f"grid: unknown grid {name!r}; available: {', '.join(sorted(grids))}")
    return {k: list(v) for k, v in grids[name].items() if k in _FIELD_NAMES}


def reference_grid(base: HardwareConfig | None = None) -> HardwareBatch:
    """The reference's 3,240-point hardware grid (REFERENCE.md section 1)."""
    return grid(load_grid_axes("reference"), base)
