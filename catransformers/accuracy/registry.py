"""Accuracy estimators by name; entries are factories or lazy "module:attr" paths imported on first use."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Union

from ..errors import ConfigError
from .protocol import AccuracyEstimator

__all__ = ["DEFAULT_ESTIMATOR", "register_estimator", "get_estimator", "available_estimators"]

DEFAULT_ESTIMATOR = "clip-scaling"

Factory = Callable[..., AccuracyEstimator]
Entry = Union[str, Factory]

# Lazy paths keep heavy dependencies (torch, open_clip) out of `import catransformers`.
# "openclip" is the agreed home of the measured estimator; it is imported only when asked for.
_REGISTRY: dict[str, Entry] = {
    "clip-scaling": "catransformers.accuracy.surrogate:ClipScalingEstimator",
    "openclip": "catransformers.real.estimator:OpenCLIPEstimator",
}


def register_estimator(name: str, entry: Entry, *, replace: bool = False) -> None:
    """Register a factory (class or callable) or a lazy "module:attr" path under `name`."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"accuracy estimator name: {name!r} is not allowed; allowed: a non-empty string")
    if isinstance(entry, str):
        module, sep, attr = entry.partition(":")
        if not (module and sep and attr):
            raise ConfigError(f"accuracy estimator {name!r}: path {entry!r} is not allowed; allowed: 'module:attr'")
    elif not callable(entry):
        raise ConfigError(f"accuracy estimator {name!r}: {entry!r} is not allowed; allowed: a callable or 'module:attr'")
    if name in _REGISTRY and not replace:
        raise ConfigError(f"accuracy estimator {name!r} is already registered; allowed: a new name, or replace=True")
    _REGISTRY[name] = entry


def available_estimators() -> tuple[str, ...]:
    """Registered names (registration only; a lazy entry may still need an optional extra)."""
    return tuple(_REGISTRY)


def _resolve(name: str, entry: Entry) -> Factory:
    if not isinstance(entry, str):
        return entry
    module_name, _, attr = entry.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"accuracy estimator {name!r} cannot be loaded from {entry!r} ({exc}); "
            f"for 'openclip' install the clip extra: pip install 'catransformers[clip]'"
        ) from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"accuracy estimator {name!r}: {module_name} has no attribute {attr!r}") from None


def get_estimator(name: str = DEFAULT_ESTIMATOR, **kwargs: Any) -> AccuracyEstimator:
    """A new estimator by name; keyword arguments go to its factory (e.g. primary_metric="imagenet_top1")."""
    if name not in _REGISTRY:
        raise ConfigError(f"accuracy estimator: {name!r} is unknown; allowed: {', '.join(_REGISTRY)}")
    return _resolve(name, _REGISTRY[name])(**kwargs)
