"""The pruning space of a base model (data), and pruning by its variables, one or many at once."""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Mapping

import numpy as np

from ..errors import ConfigError
from .model import ModelBatch, ModelConfig, TowerArrays

__all__ = ["PruneVariable", "PruningSpace", "pruning_space", "prune", "prune_batch", "PRUNE_SUFFIXES"]

# Per-tower search variables (docs/reference-facts.md section 3): counts of layers and heads, and
# FFN / embedding widths in blocks of base/blocks.
PRUNE_SUFFIXES: tuple[str, ...] = ("layers", "heads", "ffn_blocks", "emb_blocks")


@dataclass(frozen=True)
class PruneVariable:
    """One integer search variable with its allowed values (sorted)."""

    name: str
    values: tuple[int, ...]

    @property
    def low(self) -> int:
        return self.values[0]

    @property
    def high(self) -> int:
        return self.values[-1]

    @property
    def is_range(self) -> bool:
        return self.values == tuple(range(self.low, self.high + 1))

    def describe(self) -> str:
        return f"{self.low}..{self.high}" if self.is_range else "{" + ", ".join(map(str, self.values)) + "}"


@dataclass(frozen=True)
class PruningSpace:
    """The pruning variables of one base model, in a fixed order."""

    base: ModelConfig
    blocks: int
    variables: tuple[PruneVariable, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    def variable(self, name: str) -> PruneVariable:
        for v in self.variables:
            if v.name == name:
                return v
        raise ConfigError(f"prune: unknown key {name!r}; allowed: {', '.join(self.names)}")

    @property
    def size(self) -> int:
        return int(np.prod([len(v.values) for v in self.variables], dtype=object))

    def full(self) -> dict[str, int]:
        """The unpruned model's values of every variable."""
        out = {}
        for t in self.base.towers:
            out[f"{t.kind}_layers"] = t.layers
            out[f"{t.kind}_heads"] = t.heads
            out[f"{t.kind}_ffn_blocks"] = self.blocks
            out[f"{t.kind}_emb_blocks"] = self.blocks
        return out

    def restrict(self, bounds: Mapping[str, Any]) -> "PruningSpace":
        """A sub-space: per variable a fixed int, a [low, high] pair, or {choices=[...]}; must stay inside this space."""
        new = []
        for v in self.variables:
            if v.name not in bounds:
                new.append(v)
                continue
            spec = bounds[v.name]
            if isinstance(spec, Mapping):
                if set(spec) - {"min", "max", "choices"}:
                    raise ConfigError(f"space.{v.name}: unknown keys {sorted(set(spec) - {'min', 'max', 'choices'})}; allowed: min, max, choices")
                values = spec["choices"] if "choices" in spec else range(int(spec.get("min", v.low)), int(spec.get("max", v.high)) + 1)
            elif isinstance(spec, (list, tuple)) and len(spec) == 2:
                values = range(int(spec[0]), int(spec[1]) + 1)
            else:
                values = [spec]
            values = tuple(sorted({_as_int(f"space.{v.name}", x) for x in values}))
            outside = [x for x in values if x not in v.values]
            if not values:
                raise ConfigError(f"space.{v.name}: empty set of values; allowed: {v.describe()}")
            if outside:
                raise ConfigError(
                    f"space.{v.name}: {outside[0]} is outside the base model's space; allowed: {v.describe()}"
                )
            new.append(PruneVariable(v.name, values))
        unknown = set(bounds) - set(self.names)
        if unknown:
            raise ConfigError(f"space: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(self.names)}")
        return PruningSpace(self.base, self.blocks, tuple(new))

    def decode(self, values: Mapping[str, Any], check: bool = True) -> ModelBatch:
        """Variables (scalars or arrays, missing ones = unpruned) -> a ModelBatch of pruned models."""
        return prune_batch(self.base, values, blocks=self.blocks, space=self if check else None)


def _as_int(field: str, value: Any) -> int:
    if isinstance(value, np.generic):
        value = value.item()  # name the value as the user wrote it, not as np.str_('...')
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{field}: {value!r} is not a whole number") from None
    if isinstance(value, bool) or not math.isfinite(f) or f != int(f) or abs(f) > 2**31:
        raise ConfigError(f"{field}: {value!r} is not a whole number")
    return int(f)


@functools.cache
def _space_table() -> dict[str, Any]:
    with resources.files("catransformers").joinpath("data/pruning_spaces.toml").open("rb") as fh:
        return tomllib.load(fh)


def pruning_space(base: ModelConfig) -> PruningSpace:
    """The search space of a base model: shipped for named bases, else half-to-full in eighths."""
    base = base.root
    table = _space_table().get(base.name)
    if table is None:
        blocks = 8 if base.family == "clip" else 16
        variables = []
        for t in base.towers:
            variables += [
                PruneVariable(f"{t.kind}_layers", tuple(range(-(-t.layers // 2), t.layers + 1))),
                PruneVariable(f"{t.kind}_heads", _heads_range(t.heads, t.heads // t.kv_heads)),
                PruneVariable(f"{t.kind}_ffn_blocks", tuple(range(blocks // 2, blocks + 1))),
                PruneVariable(f"{t.kind}_emb_blocks", tuple(range(blocks // 2, blocks + 1))),
            ]
        return PruningSpace(base, blocks, tuple(variables))
    blocks = int(table["blocks"])
    variables = []
    for t in base.towers:
        for suffix in PRUNE_SUFFIXES:
            spec = table[f"{t.kind}_{suffix}"]
            values = tuple(spec["choices"]) if "choices" in spec else tuple(range(spec["min"], spec["max"] + 1))
            variables.append(PruneVariable(f"{t.kind}_{suffix}", values))
    return PruningSpace(base, blocks, tuple(variables))


def _heads_range(heads: int, group: int) -> tuple[int, ...]:
    return tuple(h for h in range(-(-heads // 2), heads + 1) if h % group == 0)


def prune(base: ModelConfig, values: Mapping[str, Any], name: str | None = None) -> ModelConfig:
    """One pruned model from `{text_layers: 6, vision_ffn_blocks: 5, ...}` (missing keys stay unpruned)."""
    space = pruning_space(base)
    batch = prune_batch(base, values, blocks=space.blocks)
    cfg = batch.config(0, name=name)
    return cfg


def prune_batch(
    base: ModelConfig,
    values: Mapping[str, Any],
    blocks: int | None = None,
    space: PruningSpace | None = None,
) -> ModelBatch:
    """Vectorised pruning: each value a scalar or an array of length n; returns n models."""
    base = base.root
    blocks = blocks or pruning_space(base).blocks
    allowed = [f"{t.kind}_{s}" for t in base.towers for s in PRUNE_SUFFIXES]
    for key in values:
        if key not in allowed:
            raise ConfigError(f"prune: unknown key {key!r}; allowed: {', '.join(allowed)}")
    arrs = {}
    for key, v in values.items():
        a = np.atleast_1d(np.asarray(v))
        if a.dtype.kind in "USO":  # from the command line or a TOML string
            a = np.array([_as_int(f"prune.{key}", x) for x in a.ravel()], dtype=np.int64)
        if a.dtype.kind not in "iu":
            if a.dtype.kind not in "f" or not np.all(np.isfinite(a)) or np.any(a != np.round(a)) or np.any(np.abs(a) > 2**31):
                raise ConfigError(f"prune.{key}: {a.ravel()[0]!r} is not a whole number")
        arrs[key] = a.astype(np.int64)
    n = max((len(a) for a in arrs.values()), default=1)
    towers = {}
    for t in base.towers:
        group = t.heads // t.kv_heads
        got = {}
        for suffix, full, limit in (
            ("layers", t.layers, t.layers),
            ("heads", t.heads, t.heads),
            ("ffn_blocks", blocks, blocks),
            ("emb_blocks", blocks, blocks),
        ):
            key = f"{t.kind}_{suffix}"
            a = arrs.get(key, np.full(n, full, np.int64))
            if len(a) not in (1, n):
                raise ConfigError(f"prune.{key}: {len(a)} values do not match {n} designs")
            a = np.broadcast_to(a, (n,))
            if space is not None:
                ok = np.isin(a, space.variable(key).values)
                if not ok.all():
                    raise ConfigError(f"prune.{key}: {a[~ok][0]} is outside the space; allowed: {space.variable(key).describe()}")
            bad = (a < 1) | (a > limit)
            if bad.any():
                raise ConfigError(f"prune.{key}: {a[bad][0]} is not allowed; must be in 1..{limit} (base model {base.name})")
            got[suffix] = a
        if group > 1 and np.any(got["heads"] % group):
            bad = got["heads"][got["heads"] % group != 0][0]
            raise ConfigError(f"prune.{t.kind}_heads: {bad} is not allowed; must be a multiple of {group} (query heads per KV head)")
        towers[t.kind] = TowerArrays(
            layers=got["layers"].copy(),
            heads=got["heads"].copy(),
            ffn=got["ffn_blocks"] * (t.ffn // blocks),
            width=got["emb_blocks"] * (t.width // blocks),
            kv_heads=got["heads"] // group,
        )
    return ModelBatch(base=base, arrays=towers)
