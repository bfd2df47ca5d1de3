"""The evaluation seam: decoded design columns in, metric arrays out; serial by default, chunkable for a cluster."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from ..evaluate import METRIC_KEYS, RANGE_CODE_KEY
from .space import DesignSpace

__all__ = ["PopulationEvaluator", "DesignEvaluator", "SerialEvaluator", "split_designs", "concat_metrics", "EVALUATED_KEYS"]

# Every metric a search records, in the pipeline's order, and the accuracy range code.
EVALUATED_KEYS: tuple[str, ...] = (*METRIC_KEYS, RANGE_CODE_KEY)

Designs = Mapping[str, np.ndarray]
Metrics = dict[str, np.ndarray]


@runtime_checkable
class PopulationEvaluator(Protocol):
    """Evaluates n designs given as decoded columns ({name: (n,) array}); returns {metric: (n,) float array}.

    NaN marks a metric that could not be measured for a design (it is then `failed`).
    A distributed backend splits the columns with `split_designs`, maps the same
    `DesignEvaluator` over the chunks and joins the results with `concat_metrics`.
    """

    def evaluate(self, designs: Designs) -> Metrics: ...


@dataclass(eq=False)
class DesignEvaluator:
    """The pure function a backend maps: columns -> catransformers.evaluate.evaluate() -> flat metrics.

    Picklable (space, scenario and an estimator name or object), so it can be shipped to workers.
    """

    space: DesignSpace
    scenario: Any
    accuracy: Any = "default"
    profile: str = "reference"
    accuracy_metric: str | None = field(default=None, init=False)

    def __call__(self, designs: Designs) -> Metrics:
        from ..evaluate import evaluate

        ev = evaluate(self.space.models(designs), self.space.hardware(designs), scenario=self.scenario, accuracy=self.accuracy, profile=self.profile)
        if self.accuracy_metric is None:
            self.accuracy_metric = ev.accuracy_metric
        metrics = ev.metrics()
        n = len(next(iter(designs.values())))
        return {k: np.array(np.broadcast_to(np.asarray(metrics[k], dtype=np.float64), (n,))) if k in metrics else np.full(n, np.nan) for k in EVALUATED_KEYS}


@dataclass(eq=False)
class SerialEvaluator:
    """All designs in one vectorised call, in this process (the default backend)."""

    fn: Callable[[Designs], Metrics]

    def evaluate(self, designs: Designs) -> Metrics:
        return self.fn(designs)


def split_designs(designs: Designs, chunk_size: int) -> list[dict[str, np.ndarray]]:
    """Columns -> consecutive chunks of at most chunk_size designs (order kept)."""
    n = len(next(iter(designs.values())))
    return [{k: v[i : i + chunk_size] for k, v in designs.items()} for i in range(0, n, max(1, chunk_size))]


def concat_metrics(parts: Sequence[Mapping[str, np.ndarray]]) -> Metrics:
    """Inverse of split: join per-chunk metric dicts in order."""
    keys = list(parts[0])
    return {k: np.concatenate([np.asarray(p[k], dtype=np.float64) for p in parts]) for k in keys}
