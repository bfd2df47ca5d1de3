"""Validated model shapes: `TowerConfig`, `ModelConfig`, and the struct-of-arrays `ModelBatch`."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Iterable, Mapping

import numpy as np

from ..errors import ConfigError

__all__ = ["TowerConfig", "ModelConfig", "TowerArrays", "ModelBatch", "PRUNABLE", "FAMILIES", "MAX_DIM", "model_shape"]

# The four per-tower dimensions pruning changes; everything else is structure.
PRUNABLE: tuple[str, ...] = ("layers", "heads", "ffn", "width")

_KINDS = ("vision", "text", "encoder", "decoder")
FAMILIES = ("clip", "transformer")  # clip: a vision and a text tower with a joint embedding; transformer: anything else
_ACTIVATIONS = ("gelu", "quick_gelu", "silu", "relu")
_NORMS = ("layernorm", "rmsnorm")
_POOLS = ("tok", "eot", "last", "none")


@dataclass(frozen=True)
class TowerConfig:
    """One transformer stack with its input embedding and output head."""

    kind: str
    layers: int
    width: int  # embedding (residual) width
    heads: int  # query heads
    ffn: int  # MLP hidden width
    head_dim: int = 64  # kept at 64 when CLIP heads are pruned (docs/reference-facts.md section 3)
    kv_heads: int = 0  # 0 = same as heads (no grouped-query attention)
    tokens: int = 0  # sequence length (text/encoder/decoder); derived for vision
    image_size: int = 0  # vision: input pixels per side
    patch: int = 0  # vision: patch size, pixels
    channels: int = 3  # vision: input channels
    vocab: int = 0  # text/encoder/decoder: token-embedding rows
    type_vocab: int = 0  # BERT token-type embeddings
    activation: str = "gelu"
    norm: str = "layernorm"
    gated_ffn: bool = False  # SwiGLU-style gate/up/down
    bias: bool = True
    pool: str = ""  # "" = by kind: vision "tok", text "eot", encoder "tok", decoder "none"
    head: int = 0  # output projection width (joint embedding, classes, vocab); 0 = none
    head_tokens: int = 1  # tokens the head is applied to
    head_bias: bool = False  # CLIP projections and LM heads have none; classifiers and poolers do
    patch_bias: bool = False  # OpenCLIP's conv1 has no bias; HF ViT's does
    ln_pre: bool = True  # OpenCLIP vision towers normalise before the blocks

    def __post_init__(self) -> None:
        name = self.kind
        _check_types(self)
        if self.kind not in _KINDS:
            raise ConfigError(f"tower.kind: {self.kind!r} is not allowed; allowed: {', '.join(_KINDS)}")
        for f in ("layers", "width", "heads", "ffn", "head_dim"):
            _positive_int(f"{name}.{f}", getattr(self, f))
        if self.kv_heads == 0:
            object.__setattr__(self, "kv_heads", self.heads)
        _positive_int(f"{name}.kv_heads", self.kv_heads)
        if self.heads % self.kv_heads:
            raise ConfigError(
                f"{name}.heads: {self.heads} is not allowed; must be a multiple of kv_heads={self.kv_heads}"
            )
        if self.activation not in _ACTIVATIONS:
            raise ConfigError(f"{name}.activation: {self.activation!r} is not allowed; allowed: {', '.join(_ACTIVATIONS)}")
        if self.norm not in _NORMS:
            raise ConfigError(f"{name}.norm: {self.norm!r} is not allowed; allowed: {', '.join(_NORMS)}")
        if not self.pool:
            object.__setattr__(self, "pool", {"vision": "tok", "text": "eot", "encoder": "tok", "decoder": "none"}[self.kind])
        if self.pool not in _POOLS:
            raise ConfigError(f"{name}.pool: {self.pool!r} is not allowed; allowed: {', '.join(_POOLS)}")
        if self.kind == "vision":
            _positive_int(f"{name}.image_size", self.image_size)
            _positive_int(f"{name}.patch", self.patch)
            if self.image_size % self.patch:
                raise ConfigError(
                    f"{name}.patch: {self.patch} is not allowed; must divide image_size={self.image_size}"
                )
            object.__setattr__(self, "tokens", (self.image_size // self.patch) ** 2 + 1)
        else:
            _positive_int(f"{name}.tokens", self.tokens)
            _positive_int(f"{name}.vocab", self.vocab)
        if self.head < 0:
            raise ConfigError(f"{name}.head: {self.head} is not allowed; must be >= 0")
        if not 1 <= self.head_tokens <= self.tokens:
            raise ConfigError(f"{name}.head_tokens: {self.head_tokens} is not allowed; must be in 1..{self.tokens}")

    @property
    def patches(self) -> int:
        return self.tokens - 1 if self.kind == "vision" else 0

    @classmethod
    def from_mapping(cls, kind: str, values: Mapping[str, Any]) -> "TowerConfig":
        known = {f.name for f in fields(cls)} - {"kind"}
        for key in values:
            if key not in known:
                raise ConfigError(f"model.{kind}: unknown key {key!r}; allowed: {', '.join(sorted(known))}")
        values = dict(values)
        values.setdefault("kind", kind)
        return cls(**values)


# Largest dimension a tower may have: above any real model (widths ~1e4, vocabularies ~1e6),
# small enough that MACs and parameter counts stay exact in int64 and finite in float64.
MAX_DIM = 2**24


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_DIM:
        raise ConfigError(f"{name}: {value!r} is not allowed; must be a whole number from 1 to {MAX_DIM:,}")


def _check_types(tower: "TowerConfig") -> None:
    """Each field has its declared type: a TOML string is not a boolean, a boolean is not a number."""
    for f in fields(tower):
        value = getattr(tower, f.name)
        where = f"{tower.kind if isinstance(tower.kind, str) else 'tower'}.{f.name}"
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        if kind == "bool" and not isinstance(value, bool):
            raise ConfigError(f"{where}: {value!r} is not allowed; must be true or false")
        if kind == "str" and not isinstance(value, str):
            raise ConfigError(f"{where}: {value!r} is not allowed; must be a name (text)")
        if kind == "int" and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_DIM):
            raise ConfigError(f"{where}: {value!r} is not allowed; must be a whole number from 0 to {MAX_DIM:,}")


@dataclass(frozen=True)
class ModelConfig:
    """A (pruned) transformer: its towers, validated against its base model."""

    name: str
    towers: tuple[TowerConfig, ...]
    family: str = "transformer"  # "clip": a vision and a text tower with a joint embedding
    base: "ModelConfig | None" = field(default=None, compare=False, repr=False)
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"model.name: {self.name!r} is not allowed; must be a non-empty name")
        if self.family not in FAMILIES:
            raise ConfigError(f"model {self.name!r}: family {self.family!r} is not allowed; allowed: {', '.join(FAMILIES)}")
        if not isinstance(self.description, str):
            raise ConfigError(f"model {self.name!r}: description {self.description!r} is not allowed; must be text")
        kinds = [t.kind for t in self.towers]
        if not kinds or len(set(kinds)) != len(kinds):
            raise ConfigError(f"model {self.name!r}: needs one or more towers of distinct kinds, got {kinds}")
        if self.family == "clip" and sorted(kinds) != ["text", "vision"]:
            raise ConfigError(f"model {self.name!r}: a CLIP model needs a vision and a text tower, got {kinds}")
        if self.base is not None:
            self._check_against_base(self.base)

    def _check_against_base(self, base: "ModelConfig") -> None:
        if [t.kind for t in base.towers] != [t.kind for t in self.towers]:
            raise ConfigError(f"model {self.name!r}: towers do not match base {base.name!r}")
        for t, b in zip(self.towers, base.towers):
            for dim in PRUNABLE:
                if getattr(t, dim) > getattr(b, dim):
                    raise ConfigError(
                        f"{t.kind}.{dim}: {getattr(t, dim)} is not allowed; must be <= {getattr(b, dim)} "
                        f"(base model {base.name})"
                    )

    def tower(self, kind: str) -> TowerConfig:
        for t in self.towers:
            if t.kind == kind:
                return t
        raise ConfigError(f"model {self.name!r}: no {kind!r} tower; has {', '.join(t.kind for t in self.towers)}")

    @property
    def vision(self) -> TowerConfig:
        return self.tower("vision")

    @property
    def text(self) -> TowerConfig:
        return self.tower("text")

    @property
    def root(self) -> "ModelConfig":
        """The unpruned base this model derives from (itself if unpruned)."""
        return self.base.root if self.base is not None else self

    def with_dims(self, name: str | None = None, **dims: Mapping[str, int]) -> "ModelConfig":
        """A pruned copy: `with_dims(vision={"layers": 8}, text={"heads": 4})`."""
        towers = []
        for t in self.towers:
            change = dict(dims.pop(t.kind, {}))
            if "heads" in change and t.kv_heads != t.heads:
                # Grouped-query attention keeps the group size: drop whole groups.
                group = t.heads // t.kv_heads
                if change["heads"] % group:
                    raise ConfigError(
                        f"{t.kind}.heads: {change['heads']} is not allowed; must be a multiple of {group} "
                        "(query heads per KV head)"
                    )
                change["kv_heads"] = change["heads"] // group
            elif "heads" in change:
                change["kv_heads"] = change["heads"]
            for key in change:
                if key not in PRUNABLE and key != "kv_heads":
                    raise ConfigError(f"{t.kind}: {key!r} cannot be pruned; allowed: {', '.join(PRUNABLE)}")
            towers.append(replace(t, **change))
        if dims:
            raise ConfigError(f"model {self.name!r}: no tower {sorted(dims)[0]!r}; has {', '.join(t.kind for t in self.towers)}")
        return ModelConfig(
            name=name or f"{self.root.name}-pruned",
            towers=tuple(towers),
            family=self.family,
            base=self.root,
            description=f"pruned from {self.root.name}",
        )

    def dims(self) -> dict[str, int]:
        """Flat dict `<tower>_<dim>` of the prunable dimensions."""
        return {f"{t.kind}_{d}": getattr(t, d) for t in self.towers for d in PRUNABLE}


@dataclass(frozen=True, eq=False)
class TowerArrays:
    """Prunable dims of one tower for `n` designs (int64 arrays of equal length)."""

    layers: np.ndarray
    heads: np.ndarray
    ffn: np.ndarray
    width: np.ndarray
    kv_heads: np.ndarray


@dataclass(frozen=True, eq=False)
class ModelBatch:
    """Many pruned variants of one base model: the base's structure plus per-design arrays."""

    base: ModelConfig
    arrays: Mapping[str, TowerArrays]
    names: tuple[str, ...] | None = None  # per-design names, when built from named configs

    def __post_init__(self) -> None:
        lengths = {len(a) for t in self.arrays.values() for a in vars(t).values()}
        if len(lengths) != 1:
            raise ConfigError(f"model batch: per-tower arrays have mismatched lengths {sorted(lengths)}")

    def __len__(self) -> int:
        return len(next(iter(self.arrays.values())).layers)

    def __getattr__(self, kind: str) -> TowerArrays:
        # `batch.vision.layers` etc. (duck-typed by the accuracy estimators).
        arrays = self.__dict__.get("arrays", {})
        if kind in arrays:
            return arrays[kind]
        raise AttributeError(kind)

    @classmethod
    def from_configs(cls, models: Iterable[ModelConfig] | ModelConfig) -> "ModelBatch":
        if isinstance(models, ModelConfig):
            models = [models]
        models = list(models)
        if not models:
            raise ConfigError("model batch: an empty list of models")
        base = models[0].root
        for m in models:
            if m.root.name != base.name:
                raise ConfigError(f"model batch: all models must share one base; got {base.name!r} and {m.root.name!r}")
        arrays = {}
        for t in base.towers:
            towers = [m.tower(t.kind) for m in models]
            arrays[t.kind] = TowerArrays(
                **{d: np.array([getattr(x, d) for x in towers], dtype=np.int64) for d in (*PRUNABLE, "kv_heads")}
            )
        return cls(base=base, arrays=arrays, names=tuple(m.name for m in models))

    def config(self, i: int, name: str | None = None) -> ModelConfig:
        if name is None and self.names is not None:
            name = self.names[i]
        dims = {k: {d: int(getattr(a, d)[i]) for d in PRUNABLE} for k, a in self.arrays.items()}
        unchanged = all(dims[t.kind][d] == getattr(t, d) for t in self.base.towers for d in PRUNABLE)
        if unchanged and name in (None, self.base.name):
            return self.base
        return self.base.with_dims(name=name, **dims)

    def take(self, index: Any) -> "ModelBatch":
        names = None if self.names is None else tuple(np.atleast_1d(np.asarray(self.names, dtype=object)[index]).tolist())
        return ModelBatch(
            base=self.base,
            arrays={k: TowerArrays(**{d: np.atleast_1d(v[index]) for d, v in vars(a).items()}) for k, a in self.arrays.items()},
            names=names,
        )


def model_shape(models: "ModelBatch | ModelConfig") -> list[str]:
    """Compact shape per design, towers in the base's order:
    'vision 9L/6H/2304F/672E | text 8L/6H/1536F/512E' (layers, heads, FFN width, embedding width)."""
    batch = models if isinstance(models, ModelBatch) else ModelBatch.from_configs(models)
    parts = []
    for t in batch.base.towers:
        a = batch.arrays[t.kind]
        parts.append(
            [f"{t.kind} {l}L/{h}H/{f}F/{e}E" for l, h, f, e in zip(a.layers.tolist(), a.heads.tolist(), a.ffn.tolist(), a.width.tolist())]
        )
    return [" | ".join(row) for row in zip(*parts)]
