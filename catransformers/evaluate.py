"""The evaluation pipeline: model and hardware -> ops -> cost -> carbon -> accuracy, vectorised."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from hw_models import CostReport, HardwareBatch, HardwareConfig, Workload, evaluate_cost

from .errors import ConfigError
from .metrics import METRICS, PIPELINE_METRICS
from .workloads import ModelBatch, ModelConfig, count_params, lower, model_shape

__all__ = ["DesignPoint", "Evaluation", "evaluate", "METRIC_KEYS", "RANGE_CODE_KEY", "default_accuracy_estimator"]

log = logging.getLogger(__name__)

# Flat per-design metrics every evaluation reports (units in the names): the registry's order.
METRIC_KEYS: tuple[str, ...] = PIPELINE_METRICS
# Beside the metrics: why each accuracy estimate is an extrapolation (bits of
# catransformers.accuracy.RANGE_REASONS; 0 inside the validated range, NaN without accuracy).
RANGE_CODE_KEY = "accuracy_range_code"


@dataclass(frozen=True)
class DesignPoint:
    """One (model, hardware) pair."""

    model: ModelConfig
    hardware: HardwareConfig


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Every metric of n designs: cost (with per-op breakdown), carbon, accuracy."""

    cost: CostReport
    params: np.ndarray
    carbon: Any = None  # CarbonReport, or None when no scenario was given
    accuracy: Any = None  # AccuracyResult, or None when no estimator applies
    hardware: HardwareBatch | None = None
    models: ModelBatch | None = None

    def __len__(self) -> int:
        return len(self.cost.latency_s)

    @property
    def accuracy_metric(self) -> str | None:
        if self.accuracy is None:
            return None
        from .accuracy import metric_label

        return metric_label(self.accuracy.metric, self.accuracy.estimator, self.accuracy.is_estimate)

    def metrics(self) -> dict[str, np.ndarray]:
        """Flat dict of (n,) arrays, keys from METRIC_KEYS that apply (NaN accuracy where unknown)."""
        n = len(self)
        out: dict[str, np.ndarray] = {}
        for key, m in METRICS.items():
            if m.source == "cost":
                out[key] = np.broadcast_to(getattr(self.cost, key), (n,))
            elif m.source == "model":
                out[key] = np.broadcast_to(self.params, (n,))
            elif m.source == "carbon" and self.carbon is not None:
                out[key] = np.broadcast_to(getattr(self.carbon, key), (n,))
        if self.accuracy is not None:
            acc = np.broadcast_to(np.asarray(self.accuracy.primary, dtype=float), (n,)).copy()
            if getattr(self.accuracy, "failed", None) is not None:
                acc[np.broadcast_to(self.accuracy.failed, (n,))] = np.nan
            out["accuracy"] = acc
            out[RANGE_CODE_KEY] = np.broadcast_to(np.asarray(self.accuracy.out_of_range_code, dtype=np.float64), (n,)).copy()
        return out

    def columns(self) -> dict[str, Any]:
        """Result columns of the n designs (a table's worth): model_shape, the metrics, the
        accuracy flags (accuracy_extrapolated, accuracy_extrapolated_reason) and the scenario columns."""
        n = len(self)
        out: dict[str, Any] = {}
        if self.models is not None:
            shapes = model_shape(self.models)
            out["model_shape"] = shapes * n if len(shapes) == 1 else shapes
        metrics = self.metrics()
        code = metrics.pop(RANGE_CODE_KEY, None)
        out.update(metrics)
        if code is not None:
            from .accuracy import range_reason

            out["accuracy_extrapolated"] = code != 0
            reasons = {int(c): range_reason(int(c)) for c in np.unique(code)}
            out["accuracy_extrapolated_reason"] = [reasons[int(c)] for c in code]
        if self.carbon is not None and hasattr(self.carbon, "scenario"):
            out.update({k: [v] * n for k, v in self.carbon.scenario.row_columns().items()})
        return out

    def record(self, i: int = 0, breakdown: bool = True) -> dict[str, Any]:
        """JSON-ready dict for design i: every metric, the accuracy label, and per-op rows."""
        rec: dict[str, Any] = {}
        if self.models is not None:
            j = min(i, len(self.models) - 1)
            rec["model"] = self.models.config(j).name
            rec["base_model"] = self.models.base.name
            rec["model_shape"] = model_shape(self.models.take([j]))[0]
        if self.hardware is not None:
            rec["hardware"] = self.hardware.config(min(i, len(self.hardware) - 1)).as_dict()
        for key, values in self.metrics().items():
            v = values[i]
            if key == RANGE_CODE_KEY:
                from .accuracy import range_reason

                rec["accuracy_extrapolated"] = bool(v)
                rec["accuracy_extrapolated_reason"] = range_reason(int(v))
                continue
            rec[key] = int(v) if key in ("macs", "params") else (None if np.isnan(v) else float(v))
        if self.accuracy is not None:
            rec["accuracy_metric"] = self.accuracy_metric
            rec["accuracy_is_estimate"] = bool(self.accuracy.is_estimate)
            rec["accuracy_all"] = {m: float(np.broadcast_to(v, (len(self),))[i]) for m, v in self.accuracy.values.items()}
        if self.carbon is not None:
            rec["scenario"] = self.carbon.describe() if hasattr(self.carbon, "describe") else None
            if hasattr(self.carbon, "scenario"):
                rec["scenario_columns"] = self.carbon.scenario.row_columns()
        if breakdown:
            rec["ops"] = self.cost.op_table(i)
            rec["energy_by_component_j"] = {k: float(np.broadcast_to(v, (len(self),))[i]) for k, v in self.cost.energy_by_component.items()}
        return rec


def default_accuracy_estimator(base: ModelConfig):
    """The calibrated estimate for CLIP models; None for other families (no calibrated estimate)."""
    if base.family != "clip":
        return None
    from .accuracy import get_estimator

    return get_estimator()


def evaluate(
    model: ModelConfig | ModelBatch | Workload,
    hardware: HardwareConfig | HardwareBatch,
    scenario: Any = None,
    accuracy: Any = "default",
    profile: str = "reference",
) -> Evaluation:
    """Evaluate n designs. `model` and `hardware` broadcast: one model on many accelerators,
    many models on one, or n pairs. `scenario`: a CarbonScenario (or None: no carbon).
    `accuracy`: "default", an estimator, or None."""
    # 1. lower the model to ops
    models = None
    if isinstance(model, Workload):
        workload = model
        params = np.zeros(1, np.int64)
    else:
        models = model if isinstance(model, ModelBatch) else ModelBatch.from_configs(model)
        workload = lower(models)
        params = count_params(models)["total"]
    hw = hardware if isinstance(hardware, HardwareBatch) else HardwareBatch.from_configs(hardware)
    # 2. hardware cost: latency, energy, area, TOPS, per op
    cost = evaluate_cost(workload, hw, profile=profile)
    # 3. carbon: embodied from area and DRAM, operational from energy
    carbon = None
    if scenario is not None:
        from .carbon import carbon_report

        # latency: an amortised embodied share needs each design's use time (inferences x latency)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # an overflow is refused below, named
            carbon = carbon_report(cost.area_um2, cost.energy_j, scenario, node_nm=hw.node_nm, dram_gb=hw.dram_gb, latency_s=cost.latency_s)
    # 4. accuracy of each model
    acc = None
    if models is not None and accuracy is not None:
        estimator = default_accuracy_estimator(models.base) if isinstance(accuracy, str) and accuracy == "default" else accuracy
        if isinstance(estimator, str):
            from .accuracy import get_estimator

            estimator = get_estimator(estimator)
        if estimator is not None:
            acc = estimator.estimate(models)
    ev = Evaluation(cost=cost, params=params, carbon=carbon, accuracy=acc, hardware=hw, models=models)
    _check_finite(ev)
    return ev


def _check_finite(ev: Evaluation) -> None:
    """A result is finite or it is not returned: an inf or NaN metric means an input beyond what
    the models can represent (e.g. a yield of 1e-308), so that input is refused, named."""
    for key, values in ev.metrics().items():
        if key == "accuracy":
            continue  # NaN accuracy is "unknown" (a failed measurement), reported as empty
        bad = ~np.isfinite(np.asarray(values, dtype=float))
        if bad.any():
            i = int(np.argmax(bad))
            inputs = "the carbon scenario (yields, lifetime, intensities)" if key.endswith(("_kg", "_kwh")) else "the hardware or the model"
            raise ConfigError(
                f"{key}: the inputs give {float(np.asarray(values)[i])!r} for design {i}; allowed: inputs that give a finite {key} "
                f"(check {inputs} for extreme values)"
            )

