"""The accuracy-estimator protocol: batched tower shapes in, labelled per-metric accuracy arrays out."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Protocol, runtime_checkable

import numpy as np

from ..errors import ConfigError

__all__ = [
    "METRICS",
    "PRIMARY_METRIC",
    "METRIC_LABELS",
    "SHAPE_FIELDS",
    "TowerShapes",
    "AccuracyResult",
    "AccuracyEstimator",
    "TowerSeparable",
    "tower_separability",
    "as_tower_shapes",
    "shapes_from_configs",
    "check_metric",
    "metric_label",
]

# Metric names, all accuracies as fractions in [0, 1] (never percent).
METRICS: tuple[str, ...] = ("avg41", "imagenet_top1", "mscoco_mean_r1")
PRIMARY_METRIC = "avg41"
METRIC_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "avg41": "avg over 41 tasks",
        "imagenet_top1": "ImageNet-1k zero-shot top-1",
        "mscoco_mean_r1": "MSCOCO mean R@1",
    }
)

_TOWERS = ("vision", "text")
_DIMS = ("layers", "heads", "ffn", "width")
SHAPE_FIELDS: tuple[str, ...] = tuple(f"{t}_{d}" for t in _TOWERS for d in _DIMS)


def check_metric(metric: str, allowed: Iterable[str] = METRICS) -> str:
    """Return `metric` if it is one of `allowed`, else raise a one-line ConfigError."""
    allowed = tuple(allowed)
    if metric not in allowed:
        raise ConfigError(f"accuracy metric: {metric!r} is unknown; allowed: {', '.join(allowed)}")
    return metric


def metric_label(metric: str, estimator: str, is_estimate: bool = True) -> str:
    """Human label, e.g. 'avg over 41 tasks (estimate, clip-scaling v1)'."""
    kind = "estimate" if is_estimate else "measured"
    return f"{METRIC_LABELS.get(metric, metric)} ({kind}, {estimator})"


def _frozen_array(values: Any, dtype: Any = None) -> np.ndarray:
    arr = np.array(values, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class TowerShapes:
    """Per-tower shapes of n models as read-only int64 arrays of shape (n,).

    `width` is the embedding width, `ffn` the MLP hidden width. Only structural checks are
    done here (1-D, equal lengths, positive integers); bounds against a base model belong
    to the estimator that knows the base.
    """

    vision_layers: np.ndarray
    vision_heads: np.ndarray
    vision_ffn: np.ndarray
    vision_width: np.ndarray
    text_layers: np.ndarray
    text_heads: np.ndarray
    text_ffn: np.ndarray
    text_width: np.ndarray

    def __post_init__(self) -> None:
        n = None
        first = SHAPE_FIELDS[0]
        for name in SHAPE_FIELDS:
            arr = _as_int_array(name, getattr(self, name))
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ConfigError(
                    f"accuracy input: {name} has length {arr.shape[0]} but {first} has {n}; "
                    f"allowed: all of {', '.join(SHAPE_FIELDS)} of one length n"
                )
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return int(self.vision_layers.shape[0])

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "TowerShapes":
        """Build from a mapping with exactly the eight keys of SHAPE_FIELDS; unknown keys are errors."""
        for key in values:
            if key not in SHAPE_FIELDS:
                raise ConfigError(f"accuracy input: unknown key {key!r}; allowed: {', '.join(SHAPE_FIELDS)}")
        missing = [k for k in SHAPE_FIELDS if k not in values]
        if missing:
            raise ConfigError(f"accuracy input: missing key {missing[0]!r}; required: {', '.join(SHAPE_FIELDS)}")
        return cls(**{k: np.atleast_1d(np.asarray(values[k])) for k in SHAPE_FIELDS})

    def as_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def tower(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(layers, heads, ffn, width) of tower 'vision' or 'text'."""
        if name not in _TOWERS:
            raise ConfigError(f"accuracy input: tower {name!r} is unknown; allowed: {', '.join(_TOWERS)}")
        return tuple(getattr(self, f"{name}_{d}") for d in _DIMS)  # type: ignore[return-value]


def _as_int_array(name: str, values: Any) -> np.ndarray:
    try:
        arr = np.asarray(values)
    except Exception:  # ragged or exotic input
        raise ConfigError(f"accuracy input: {name} = {values!r} is not an array; allowed: 1-D array of integers >= 1") from None
    if arr.ndim != 1:
        raise ConfigError(f"accuracy input: {name} has shape {arr.shape}; allowed: 1-D array of shape (n,)")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ConfigError(f"accuracy input: {name} has dtype {arr.dtype}; allowed: integers >= 1")
    if arr.size:
        bad = ~np.isfinite(arr) | (arr < 1) | (arr != np.round(arr)) if arr.dtype.kind == "f" else arr < 1
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ConfigError(f"accuracy input: {name}[{i}] = {arr[i].item()!r}; allowed: integers >= 1")
    return _frozen_array(arr, dtype=np.int64)


def _dim(obj: Any, index: int, tower: str, dim: str) -> Any:
    try:
        return getattr(getattr(obj, tower), dim)
    except AttributeError:
        raise ConfigError(
            f"accuracy input: configs[{index}] has no attribute {tower}.{dim}; "
            f"allowed: objects with .vision and .text, each with {', '.join(_DIMS)}"
        ) from None


def shapes_from_configs(configs: Iterable[Any]) -> TowerShapes:
    """Batch any objects with `.vision.{layers,heads,ffn,width}` and `.text.{...}` (duck typing)."""
    rows = list(configs)
    cols: dict[str, list[Any]] = {k: [] for k in SHAPE_FIELDS}
    for i, obj in enumerate(rows):
        for tower in _TOWERS:
            for dim in _DIMS:
                cols[f"{tower}_{dim}"].append(_dim(obj, i, tower, dim))
    return TowerShapes(**{k: np.asarray(v, dtype=np.int64 if not v else None) for k, v in cols.items()})


def as_tower_shapes(shapes: Any) -> TowerShapes:
    """Coerce a TowerShapes, a mapping of the eight arrays, one config object or a sequence of them."""
    if isinstance(shapes, TowerShapes):
        return shapes
    if isinstance(shapes, Mapping):
        return TowerShapes.from_mapping(shapes)
    if hasattr(shapes, "vision") and hasattr(shapes, "text"):
        if isinstance(getattr(shapes.vision, "layers", None), np.ndarray):  # a batch: per-tower arrays
            return TowerShapes(**{f"{t}_{d}": getattr(getattr(shapes, t), d) for t in _TOWERS for d in _DIMS})
        return shapes_from_configs([shapes])
    if isinstance(shapes, (list, tuple)) or (isinstance(shapes, np.ndarray) and shapes.dtype == object):
        return shapes_from_configs(shapes)
    raise ConfigError(
        f"accuracy input: {type(shapes).__name__} is not accepted; allowed: TowerShapes, a mapping of "
        f"{', '.join(SHAPE_FIELDS)}, or config objects with .vision/.text"
    )


# Why an estimate is an extrapolation, one bit each in `AccuracyResult.out_of_range_code`
# (the bit order is stored in results: append, never reorder). The last bit is for
# estimators that flag a design without saying why.
RANGE_REASONS: tuple[str, ...] = (
    "rho_vision below the smallest fit point",
    "rho_text below the smallest fit point",
    *(f"{tower}_{dim} below half its base" for tower in ("vision", "text") for dim in ("layers", "heads", "ffn", "width")),
    "outside the estimator's validated range",
)
RANGE_OTHER = 1 << (len(RANGE_REASONS) - 1)


def range_reason(code: int) -> str:
    """The reasons of an out_of_range_code, '; '-joined ('' for 0)."""
    code = int(code)
    return "; ".join(r for bit, r in enumerate(RANGE_REASONS) if code >> bit & 1)


@dataclass(frozen=True)
class AccuracyResult:
    """Accuracies (fractions) of n designs, per metric, labelled with the estimator that made them.

    `failed[i]` marks a design whose measurement failed (a measured estimator only; its values
    are NaN there); `out_of_range[i]` marks a design outside the estimator's validated range,
    `out_of_range_code[i]` says why (bits of RANGE_REASONS; RANGE_OTHER when the estimator
    gives no reason).
    """

    values: Mapping[str, np.ndarray]
    primary: np.ndarray
    metric: str
    estimator: str
    is_estimate: bool
    failed: np.ndarray | None = None
    out_of_range: np.ndarray | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    out_of_range_code: np.ndarray | None = None

    def __post_init__(self) -> None:
        values = {k: _frozen_array(v, dtype=float) for k, v in self.values.items()}
        check_metric(self.metric, tuple(values))
        n = values[self.metric].shape[0]
        for k, v in values.items():
            if v.shape != (n,):
                raise ConfigError(f"accuracy result: values[{k!r}] has shape {v.shape}; allowed: ({n},)")
        object.__setattr__(self, "values", values)  # plain dict of read-only arrays: picklable
        object.__setattr__(self, "primary", values[self.metric])
        for name in ("failed", "out_of_range"):
            flag = getattr(self, name)
            flag = np.zeros(n, dtype=bool) if flag is None else np.asarray(flag, dtype=bool)
            if flag.shape != (n,):
                raise ConfigError(f"accuracy result: {name} has shape {flag.shape}; allowed: ({n},)")
            object.__setattr__(self, name, _frozen_array(flag))
        object.__setattr__(self, "extra", dict(self.extra))
        code = self.out_of_range_code
        code = np.where(self.out_of_range, RANGE_OTHER, 0) if code is None else np.asarray(code, dtype=np.int64)
        if code.shape != (n,):
            raise ConfigError(f"accuracy result: out_of_range_code has shape {code.shape}; allowed: ({n},)")
        if np.any((code != 0) != self.out_of_range):
            raise ConfigError("accuracy result: out_of_range_code disagrees with out_of_range; allowed: non-zero exactly where out_of_range")
        object.__setattr__(self, "out_of_range_code", _frozen_array(code.astype(np.int64)))

    def __len__(self) -> int:
        return int(self.primary.shape[0])

    def __getitem__(self, metric: str) -> np.ndarray:
        return self.values[check_metric(metric, tuple(self.values))]

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.values)

    @property
    def label(self) -> str:
        """Label of the primary metric, e.g. 'avg over 41 tasks (estimate, clip-scaling v1)'."""
        return metric_label(self.metric, self.estimator, self.is_estimate)

    @property
    def labels(self) -> dict[str, str]:
        return {m: metric_label(m, self.estimator, self.is_estimate) for m in self.values}


@runtime_checkable
class AccuracyEstimator(Protocol):
    """Anything that turns many model shapes into accuracies in one call."""

    name: str
    version: str
    metrics: tuple[str, ...]
    primary_metric: str

    def estimate(self, shapes: Any) -> AccuracyResult:
        """Accuracies of all designs in `shapes` (anything `as_tower_shapes` accepts)."""
        ...


@runtime_checkable
class TowerSeparable(Protocol):
    """The declaration the exact search relies on (docs/search.md, "Exact front"): the primary
    accuracy of a design is `accuracy_from_scores(tower_scores(shapes))`, where

    - `tower_scores` maps each tower name to an (n, k) array of scores that depend on that
      tower's shape only (k >= 1, the same k for every design), and
    - `accuracy_from_scores` is non-decreasing in every score of every tower, takes arrays that
      broadcast together (shape (..., k) per tower) and returns the primary accuracy with
      their broadcast shape, equal to what `estimate(shapes).primary` gives.

    `separability_problem()` returns None when the declaration holds for this instance, else
    one line saying why not (e.g. fitted constants that make the estimate decrease).
    """

    def tower_scores(self, shapes: Any) -> Mapping[str, np.ndarray]: ...

    def accuracy_from_scores(self, scores: Mapping[str, np.ndarray]) -> np.ndarray: ...

    def separability_problem(self) -> str | None: ...


def tower_separability(estimator: Any) -> str | None:
    """None when `estimator` declares itself monotone and tower-separable (TowerSeparable) and
    the declaration holds; else one line saying why not."""
    name = getattr(estimator, "name", type(estimator).__name__)
    if not isinstance(estimator, TowerSeparable):
        return f"accuracy estimator {name!r} does not declare itself monotone and tower-separable (no tower_scores / accuracy_from_scores)"
    return estimator.separability_problem()
