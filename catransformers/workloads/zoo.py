"""Named base models shipped in `catransformers/data/models.toml`, and model TOML files."""

from __future__ import annotations

import difflib
import functools
import tomllib
from importlib import resources
from typing import Any, Mapping

from ..errors import ConfigError
from .model import ModelConfig, TowerConfig

__all__ = ["get_model", "list_models", "model_from_mapping", "load_model_file", "resolve_model"]

_TOWER_KINDS = ("vision", "text", "encoder", "decoder")
_MODEL_KEYS = {"description", "family", "embed_dim", "name", "base", "prune", *_TOWER_KINDS}


@functools.cache
def _catalogue() -> dict[str, dict[str, Any]]:
    with resources.files("catransformers").joinpath("data/models.toml").open("rb") as fh:
        return tomllib.load(fh)


def list_models() -> dict[str, str]:
    """Name -> description of every named model."""
    return {name: spec.get("description", "") for name, spec in _catalogue().items()}


def get_model(name: str) -> ModelConfig:
    """A named base model, e.g. `vit-b-16`, `tinyclip-39m-16`, `llama-3-8b`."""
    key = name.strip().lower()
    cat = _catalogue()
    if key not in cat:
        close = difflib.get_close_matches(key, cat, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"model: unknown model {name!r}{hint}; allowed: {', '.join(cat)}")
    return model_from_mapping(key, cat[key])


def model_from_mapping(name: str, spec: Mapping[str, Any]) -> ModelConfig:
    """Build a model from a TOML-like mapping; a `base` key prunes a named model instead."""
    for key in spec:
        if key not in _MODEL_KEYS:
            raise ConfigError(f"model {name!r}: unknown key {key!r}; allowed: {', '.join(sorted(_MODEL_KEYS))}")
    if "base" in spec:
        from .pruning import prune

        if not isinstance(spec["base"], str) or not isinstance(spec.get("prune", {}), Mapping):
            raise ConfigError(f"model {name!r}: base must be a model name and prune a table; got base = {spec['base']!r}")
        base = get_model(spec["base"])
        extra = set(spec) - {"base", "prune", "name", "description"}
        if extra:
            raise ConfigError(f"model {name!r}: with 'base', only a [prune] table may follow; got {sorted(extra)}")
        return prune(base, dict(spec.get("prune", {})), name=spec.get("name", name))
    family = spec.get("family", "transformer")
    embed_dim = spec.get("embed_dim", 0)
    towers = []
    for kind in _TOWER_KINDS:
        if kind in spec:
            if not isinstance(spec[kind], Mapping):
                raise ConfigError(f"model {name!r}: {kind} = {spec[kind]!r} is not allowed; must be a table of tower fields")
            values = dict(spec[kind])
            if family == "clip":
                values.setdefault("head", embed_dim)
            towers.append(TowerConfig.from_mapping(values.pop("kind", kind), values))
    if not towers:
        raise ConfigError(f"model {name!r}: no tower table; need one of {', '.join(_TOWER_KINDS)}")
    return ModelConfig(name=spec.get("name", name), towers=tuple(towers), family=family, description=spec.get("description", ""))


def load_model_file(path: str) -> ModelConfig:
    from catransformers_errors.files import read_toml

    data = read_toml(path, "model file", ConfigError)
    data = data.get("model", data)
    if not isinstance(data, Mapping):
        raise ConfigError(f"model file {path!r}: [model] must be a table")
    return model_from_mapping(data.get("name", path.rsplit("/", 1)[-1].removesuffix(".toml")), data)


def resolve_model(name_or_path: str) -> ModelConfig:
    """A named model, or a model TOML file if the argument ends in .toml."""
    if name_or_path.endswith(".toml"):
        return load_model_file(name_or_path)
    return get_model(name_or_path)
