"""Hardware-only study: one model on every point of a hardware grid under one scenario."""

from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from hw_models import SEARCH_KEYS, HardwareBatch, grid as make_grid, load_grid_axes

from .evaluate import Evaluation, evaluate
from .io import atomic_write_text, csv_text
from .limits import REFERENCE_LIMITS
from .metrics import METRICS
from .units import MJ_PER_J, MS_PER_S
from .workloads import ModelConfig

__all__ = ["SweepResult", "sweep", "feasibility", "resolve_limits", "write_sweep_csv"]


def resolve_limits(limits: Mapping[str, float | None] | None) -> dict[str, float]:
    """Every reference limit, with the given ones (not None) in place of the defaults."""
    given = limits or {}
    return {k: default if given.get(k) is None else float(given[k]) for k, default in REFERENCE_LIMITS.items()}


def feasibility(metrics: Mapping[str, np.ndarray], limits: Mapping[str, float | None]) -> dict[str, np.ndarray]:
    """Per-limit flags `meets_<key>` and the overall `feasible`; None limits take the reference's."""
    flags = {}
    ok = None
    for key, limit in resolve_limits(limits).items():
        flag = np.asarray(metrics[key]) <= limit
        flags[f"meets_{key}"] = flag
        ok = flag if ok is None else ok & flag
    flags["feasible"] = ok
    return flags


@dataclass(frozen=True, eq=False)
class SweepResult:
    model: ModelConfig
    evaluation: Evaluation
    table: pd.DataFrame  # one row per hardware point
    limits: dict[str, float]

    def best(self, key: str) -> pd.Series | None:
        feasible = self.table[self.table["feasible"]]
        if feasible.empty:
            return None
        return feasible.loc[feasible[key].idxmin()]

    def summary(self) -> str:
        t = self.table
        n_ok = int(t["feasible"].sum())
        lim = {k: METRICS[k].display(v) for k, v in self.limits.items()}
        lines = [
            f"{self.model.name}: {len(t)} hardware points, {n_ok} feasible "
            f"(latency <= {_limit(lim['latency_s'], 'g')} ms, area <= {_limit(lim['area_um2'], '.4g')} mm², TOPS <= {_limit(lim['tops'], 'g')})"
        ]
        if n_ok == 0:
            lines.append("  no feasible design: every point breaks a limit (see the meets_* columns)")
            return "\n".join(lines)
        for label, key in (("minimum carbon", "total_kg"), ("minimum latency", "latency_s")):
            row = self.best(key)
            hw = " ".join(f"{k}={int(row[k])}" for k in SEARCH_KEYS)
            lines.append(
                f"  {label:<16} {hw} | total {row['total_kg']:.4f} kg (embodied {row['embodied_kg']:.4f}, "
                f"operational {row['operational_kg']:.4f}) | latency {row['latency_s'] * MS_PER_S:.3f} ms | "
                f"energy {row['energy_j'] * MJ_PER_J:.3f} mJ | area {row['area_mm2']:.2f} mm² | {row['tops']:.2f} TOPS"
            )
        return "\n".join(lines)


def sweep(
    model: ModelConfig,
    scenario: Any,
    grid: str | HardwareBatch = "reference",
    limits: Mapping[str, float | None] | None = None,
    accuracy: Any = "default",
    profile: str = "reference",
) -> SweepResult:
    """Evaluate `model` on every hardware point in one vectorised call."""
    hw = grid if isinstance(grid, HardwareBatch) else make_grid(load_grid_axes(grid))
    ev = evaluate(model, hw, scenario=scenario, accuracy=accuracy, profile=profile)
    metrics = ev.metrics()
    resolved = resolve_limits(limits)
    flags = feasibility(metrics, resolved)
    cols: dict[str, Any] = {"model": model.name}
    cols.update({k: v for k, v in hw.search_keys().items()})
    cols.update(ev.columns())
    if ev.accuracy is not None:
        cols["accuracy_metric"] = ev.accuracy_metric
    cols.update(flags)
    table = pd.DataFrame(cols)
    return SweepResult(model=model, evaluation=ev, table=table, limits=resolved)


def write_sweep_csv(results: Sequence[SweepResult], path: str) -> None:
    frame = pd.concat([r.table for r in results], ignore_index=True)
    atomic_write_text(path, csv_text(frame))


def _limit(value: float, spec: str) -> str:
    """A limit for display: `inf` (no limit) reads "any"."""
    return format(value, spec) if math.isfinite(value) else "any"
