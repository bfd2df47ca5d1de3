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
    "REGISTER_OPERANDS",
    "L2_LINKS",
    "HARDWARE_SETTINGS",
]

# The six parameters the reference searches over (docs/reference-facts.md section 1).
SEARCH_KEYS: tuple[str, ...] = ("clusters", "pe_width", "pe_depth", "l2_sram_kb", "l2_bw", "glb_mb")

# What the per-PE register may hold (docs/hardware-model.md 3.1):
# "weights": words of the weight operand B only, so only weight-stationary candidates are legal,
# at any register size (the reference's Sunstone config keeps only weights in the registers);
# "stationary": words of whichever operand the dataflow keeps in the PEs (B, C or A).
REGISTER_OPERANDS: tuple[str, ...] = ("weights", "stationary")
# How l2_bw limits the L2 <-> PE-array traffic: "shared" one link of l2_bw words/cycle for
# reads and writes of every operand; "read_write" one read port and one write port of l2_bw
# each (the reference's Sunstone roofline: all operands' reads / read bw, writes / write bw);
# "per_operand" a read port per input operand and a read and a write port for the partial sums.
L2_LINKS: tuple[str, ...] = ("shared", "read_write", "per_operand")

# Fields that the template needs to be powers of two (mesh, array and buffer shapes).
_POW2 = frozenset({"clusters", "pe_width", "pe_depth", "l2_sram_kb", "glb_mb"})
_INT_FIELDS = frozenset(
    {"clusters", "pe_width", "pe_depth", "l2_sram_kb", "l2_bw", "glb_mb", "glb_bw", "precision_bits", "node_nm", "pe_register_bytes"}
)
# Non-numeric settings: name -> allowed values (strings) or (False, True).
_CHOICE_FIELDS: dict[str, tuple] = {"pe_register_operands": REGISTER_OPERANDS, "l2_link": L2_LINKS, "edge_latch": (False, True)}
BITS_PER_BYTE = 8
BYTES_PER_GB = 1e9  # DRAM bandwidth in GB/s is decimal, as memory vendors quote it
HZ_PER_MHZ = 1e6

# One registry of the hardware settings: name -> (unit, source of the default).
HARDWARE_SETTINGS: dict[str, tuple[str, str]] = {
    "clusters": ("tensor core + vector core pairs", "REFERENCE 1: area-limit design, 4"),
    "pe_width": ("MACs", "REFERENCE 1: area-limit design, 256"),
    "pe_depth": ("MACs", "REFERENCE 1: area-limit design, 16"),
    "l2_sram_kb": ("KiB per cluster", "REFERENCE 1: area-limit design, 1 MB"),
    "l2_bw": ("words/cycle per cluster", "REFERENCE 1: widest grid value, 128"),
    "glb_mb": ("MiB", "REFERENCE 1: area-limit design, 8 MB"),
    "glb_bw": ("words/cycle", "REFERENCE 1: 512 in code (256 in the paper)"),
    "dram_bw_gbps": ("GB/s", "REFERENCE 1: DRAM->GLB 128 words/cycle at 625 MHz = 80 GB/s"),
    "frequency_mhz": ("MHz", "REFERENCE 1: 625 in code (500 in the paper)"),
    "precision_bits": ("bits per word", "REFERENCE 1: INT8"),
    "node_nm": ("nm", "REFERENCE 1: 22 nm"),
    "dram_gb": ("GB", "REFERENCE 1: 1 GB DRAM"),
    "pe_register_bytes": ("bytes per MAC", "REFERENCE 1: a 32-byte register per MAC (phaze/Estimator/utils/estimator_wrapper.py L1_Buffer_TC = 32)"),
    "pe_register_operands": ("one of " + ", ".join(REGISTER_OPERANDS), "phaze/Estimator/utils/tc_estimator.py: the register bypasses inputs and outputs, keeps weights"),
    "edge_latch": ("bool", "MODEL: a systolic PE's input and partial-sum pipeline latches may hold their word while the PE cycles through its register words (ZigZag counts this reuse)"),
    "l2_link": ("one of " + ", ".join(L2_LINKS), "phaze/Estimator/utils/tc_estimator.py: a (read, write) bandwidth pair per level; Sunstone sums all operands' reads against the read bandwidth"),
}


@dataclass(frozen=True)
class HardwareConfig:
    """One accelerator of the reference template (docs/reference-facts.md section 1).

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
    dram_bw_gbps: float = 80.0  # DRAM <-> GLB bandwidth, GB/s (128 words/cycle at 625 MHz, INT8)
    frequency_mhz: float = 625.0  # reference code (paper: 500)
    precision_bits: int = 8  # INT8: one byte per word
    node_nm: int = 22  # process node; selects the component table
    dram_gb: float = 1.0  # off-chip DRAM capacity, GB
    pe_register_bytes: int = 32  # register per tensor-core MAC, bytes
    pe_register_operands: str = "weights"  # see REGISTER_OPERANDS
    edge_latch: bool = True  # a streamed word may stay latched across several register words
    l2_link: str = "read_write"  # see L2_LINKS

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_value(f.name, getattr(self, f.name))
        _check_register(np.asarray(self.pe_register_bytes), np.asarray(self.precision_bits))

    @property
    def dram_words_per_cycle(self) -> float:
        """DRAM bandwidth in words per accelerator cycle, derived from GB/s, frequency and precision."""
        return float(dram_words_per_cycle(self.dram_bw_gbps, self.frequency_mhz, self.precision_bits))

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
        from catransformers_errors.files import read_toml

        data = read_toml(path, "hardware file", HardwareError)
        data = data.get("hardware", data)
        if not isinstance(data, Mapping):
            raise HardwareError(f"hardware file {path!r}: [hardware] must be a table of HardwareConfig fields")
        return cls.from_mapping(data)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# Largest value any numeric field may take: far beyond any accelerator (2^40 PEs, KiB, MHz, GB),
# and small enough that every product the models form (cycles, words, joules) stays finite.
MAX_VALUE = float(2**40)


def dram_words_per_cycle(gbps: Any, frequency_mhz: Any, precision_bits: Any) -> Any:
    """Words per cycle = GB/s * 1e9 / (f_MHz * 1e6) / (bits per word / 8)."""
    return np.asarray(gbps, np.float64) * BYTES_PER_GB / (np.asarray(frequency_mhz, np.float64) * HZ_PER_MHZ) / (np.asarray(precision_bits, np.float64) / BITS_PER_BYTE)


def register_words(pe_register_bytes: Any, precision_bits: Any) -> Any:
    """Whole words the per-PE register holds."""
    return np.floor(np.asarray(pe_register_bytes, np.float64) * BITS_PER_BYTE / np.asarray(precision_bits, np.float64))


def _check_register(reg_bytes: np.ndarray, bits: np.ndarray) -> None:
    words = register_words(reg_bytes, bits)
    if np.any(words < 1):
        bad = np.broadcast_to(reg_bytes, words.shape)[words < 1].ravel()[0].item()
        raise HardwareError(f"hardware.pe_register_bytes: {bad!r} is not allowed; must hold at least one word of precision_bits")


def _coerce(key: str, value: Any) -> Any:
    if key in _CHOICE_FIELDS:
        return _coerce_choice(key, value)
    if isinstance(value, bool) or not isinstance(value, (str, int, float, np.integer, np.floating)):
        shown = dict(value) if isinstance(value, Mapping) else list(value) if isinstance(value, tuple) else value
        raise HardwareError(f"hardware.{key}: {shown!r} is not allowed; must be a positive number")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise HardwareError(f"hardware.{key}: {value!r} is not a number") from None
    _check_value(key, value)
    if key in _INT_FIELDS:
        if float(value) != int(float(value)):
            raise HardwareError(f"hardware.{key}: {value!r} must be a whole number")
        return int(float(value))
    return float(value)


def _coerce_choice(key: str, value: Any) -> Any:
    allowed = _CHOICE_FIELDS[key]
    if allowed == (False, True):
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise HardwareError(f"hardware.{key}: {value!r} is not allowed; must be true or false")
    if value not in allowed:
        raise HardwareError(f"hardware.{key}: {value!r} is not allowed; allowed: {', '.join(allowed)}")
    return str(value)


def _check_value(name: str, value: Any) -> None:
    if name in _CHOICE_FIELDS:
        allowed = _CHOICE_FIELDS[name]
        v = np.atleast_1d(np.asarray(value))
        if allowed == (False, True):
            if v.dtype != np.bool_:
                raise HardwareError(f"hardware.{name}: {v.ravel()[0]!r} is not allowed; must be true or false")
            return
        bad = [x for x in v.ravel().tolist() if x not in allowed]
        if bad:
            raise HardwareError(f"hardware.{name}: {bad[0]!r} is not allowed; allowed: {', '.join(allowed)}")
        return
    v = np.asarray(value)
    if v.dtype == bool or v.dtype.kind not in "iuf":
        bad = v.ravel()[0].item() if v.size else v
        raise HardwareError(f"hardware.{name}: {bad!r} is not allowed; must be a positive number")
    if not np.all(np.isfinite(v)) or np.any(v <= 0) or np.any(v > MAX_VALUE):
        bad = (v[~(np.isfinite(v) & (v > 0) & (v <= MAX_VALUE))].ravel()[0] if v.ndim else v).item()
        raise HardwareError(f"hardware.{name}: {bad!r} is not allowed; must be a positive number up to 2**40")
    if name in _POW2:
        iv = v.astype(np.int64)
        ok = (iv == v) & ((iv & (iv - 1)) == 0)
        if not np.all(ok):
            bad = (v[~ok].ravel()[0] if v.ndim else v).item()
            raise HardwareError(f"hardware.{name}: {bad!r} is not allowed; must be a power of two")


_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(HardwareConfig))

# Unit of every HardwareConfig field, as result columns and reports show it: read from the
# one registry above (kb/mb in the names are KiB/MiB).
FIELD_UNITS: Mapping[str, str] = MappingProxyType({name: HARDWARE_SETTINGS[name][0] for name in _FIELD_NAMES})


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
    dram_bw_gbps: np.ndarray
    frequency_mhz: np.ndarray
    precision_bits: np.ndarray
    node_nm: np.ndarray
    dram_gb: np.ndarray
    pe_register_bytes: np.ndarray
    pe_register_operands: np.ndarray  # strings, see REGISTER_OPERANDS
    edge_latch: np.ndarray  # bool
    l2_link: np.ndarray  # strings, see L2_LINKS

    def __post_init__(self) -> None:
        n = None
        for name in _FIELD_NAMES:
            arr = np.atleast_1d(np.asarray(getattr(self, name)))
            if arr.ndim != 1:
                raise HardwareError(f"hardware.{name}: expected a 1-D array, got shape {arr.shape}")
            if name == "edge_latch":
                if arr.dtype != np.bool_:
                    vals = [_coerce_choice(name, x.item() if hasattr(x, "item") else x) for x in arr.ravel()]
                    arr = np.array(vals, dtype=np.bool_).reshape(arr.shape)
            elif name in _CHOICE_FIELDS:
                arr = arr.astype(str)
            else:
                _check_value(name, arr)  # before the cast: 1e308 must not wrap round to a negative int
                if name in _INT_FIELDS:
                    whole = arr == np.round(arr)
                    if not np.all(whole):
                        raise HardwareError(f"hardware.{name}: {arr[~whole][0].item()!r} is not allowed; must be a whole number")
                    arr = arr.astype(np.int64, copy=False)
                else:
                    arr = arr.astype(np.float64, copy=False)
            n = len(arr) if n is None or n == 1 else n
            object.__setattr__(self, name, arr)
        for name in _FIELD_NAMES:
            arr = getattr(self, name)
            if len(arr) == 1 and n != 1:
                arr = np.repeat(arr, n)
            elif len(arr) != n:
                raise HardwareError(f"hardware.{name}: length {len(arr)} does not match batch length {n}")
            _check_value(name, arr)
            # frozen: a private read-only copy, so `batch.pe_width[0] = 48` cannot bypass the checks
            arr = np.array(arr, copy=True)
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        _check_register(self.pe_register_bytes, self.precision_bits)

    @property
    def dram_words_per_cycle(self) -> np.ndarray:
        """DRAM bandwidth in words per accelerator cycle, per design."""
        return dram_words_per_cycle(self.dram_bw_gbps, self.frequency_mhz, self.precision_bits)

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
            if name == "edge_latch":
                values[name] = bool(v)
            elif name in _CHOICE_FIELDS:
                values[name] = str(v)
            else:
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
    rows = list(itertools.product(*(axes[k] for k in order)))
    columns = {k: np.array([r[i] for r in rows]) for i, k in enumerate(order)}
    return HardwareBatch.from_arrays(base, **columns)


def load_grid_axes(name: str = "reference") -> dict[str, list]:
    """Axes of a named grid shipped in hw_models/data/grids.toml."""
    with resources.files("hw_models").joinpath("data/grids.toml").open("rb") as fh:
        grids = tomllib.load(fh)
    if name not in grids:
        raise HardwareError(f"grid: unknown grid {name!r}; available: {', '.join(sorted(grids))}")
    return {k: list(v) for k, v in grids[name].items() if k in _FIELD_NAMES}


def reference_grid(base: HardwareConfig | None = None) -> HardwareBatch:
    """The reference's 3,240-point hardware grid (docs/reference-facts.md section 1)."""
    return grid(load_grid_axes("reference"), base)
