"""The recommended design of a front: pymoo's ASF on normalised objectives, the best of each objective, and its full breakdown."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .objectives import Objective

__all__ = ["METHOD", "recommend_index", "recommend", "design_breakdown"]

METHOD = "asf"
METHOD_NOTE = (
    "pymoo ASF (achievement scalarizing function) with equal weights on the front's objectives "
    "normalised to [0, 1] between its ideal and nadir points: the design whose worst normalised "
    "shortfall from the ideal is least"
)


def normalised(F: np.ndarray) -> np.ndarray:
    """F (minimised) scaled to [0, 1] per column by the set's ideal and nadir; flat columns become 0."""
    F = np.asarray(F, dtype=np.float64)
    ideal, nadir = F.min(axis=0), F.max(axis=0)
    span = np.where(nadir > ideal, nadir - ideal, 1.0)
    return (F - ideal) / span


def recommend_index(F: np.ndarray) -> int:
    """Row of F (minimised, a non-dominated set) that pymoo's ASF picks with equal weights after
    normalisation; of equal scores the first row (ties are the same trade-off)."""
    from pymoo.decomposition.asf import ASF  # pymoo only in search/

    F = np.asarray(F, dtype=np.float64)
    if len(F) == 0:
        raise ValueError("recommend_index: an empty front")
    weights = np.full(F.shape[1], 1.0 / F.shape[1])
    scores = ASF().do(normalised(F), 1.0 / weights)
    return int(np.argmin(np.asarray(scores).ravel()))


def _plain(value: Any) -> Any:
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if value is None:
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _row(row: Mapping[str, Any], objectives: Sequence[Objective], hardware_columns: Sequence[str], model_columns: Sequence[str]) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "objectives": {o.name: _plain(row[o.name]) for o in objectives},
        "model_shape": row.get("model_shape", ""),
        "model": {k: _plain(row[k]) for k in model_columns if k in row},
        "hardware": {k: _plain(row[k]) for k in hardware_columns if k in row},
        "accuracy_extrapolated": _plain(row.get("accuracy_extrapolated")),
    }


def recommend(pareto: Any, objectives: Sequence[Objective], model_columns: Sequence[str], hardware_columns: Sequence[str]) -> dict[str, Any] | None:
    """The recommended design of a Pareto table (plain data for run.json), with the best design of
    each objective beside it; None for an empty front."""
    if len(pareto) == 0:
        return None
    F = np.column_stack([pareto[o.name].to_numpy(dtype=float) * o.sign for o in objectives])
    i = recommend_index(F)
    rows = pareto.to_dict("records")
    out = {"method": METHOD, "method_note": METHOD_NOTE, **_row(rows[i], objectives, hardware_columns, model_columns)}
    # designs with the same objective values (e.g. an L2 port that no GEMM is bound by): the same trade-off
    tied = [j for j in np.flatnonzero(np.all(F == F[i], axis=1)) if j != i]
    out["tied_ids"] = [int(rows[j]["id"]) for j in tied]
    out["tied_differ_in"] = sorted({k for j in tied for k in (*model_columns, *hardware_columns) if k in rows[j] and rows[j][k] != rows[i][k]})
    best = {}
    for j, o in enumerate(objectives):
        k = int(np.argmin(F[:, j]))
        best[o.name] = {"id": int(rows[k]["id"]), "value": _plain(rows[k][o.name]), "model_shape": rows[k].get("model_shape", "")}
    out["best_by_objective"] = best
    return out


def design_breakdown(space: Any, row: Mapping[str, Any], scenario: Any, accuracy: Any, profile: str) -> dict[str, Any]:
    """One design re-evaluated through catransformers.evaluate with every breakdown: energy by
    component and memory level, area by part, latency by op class, the mapping of each GEMM,
    embodied vs operational carbon. Plain data."""
    import hw_models

    from ..evaluate import evaluate

    cols = {k: np.array([row[k]]) for k in space.columns}
    models, hw = space.models(cols), space.hardware(cols)
    ev = evaluate(models, hw, scenario=scenario, accuracy=accuracy, profile=profile)
    rec = ev.record(0, breakdown=True)
    ops = rec.pop("ops")
    latency_by_class: dict[str, float] = {}
    energy_by_class: dict[str, float] = {}
    for op in ops:
        latency_by_class[op["kind"]] = latency_by_class.get(op["kind"], 0.0) + op["latency_s"]
        energy_by_class[op["kind"]] = energy_by_class.get(op["kind"], 0.0) + op["energy_j"]
    gemms = [
        {"op": op["name"], "macs": op["macs"], "latency_s": op["latency_s"], "utilisation": op["utilisation"], "bound": op["bound"], **op["mapping"]}
        for op in ops
        if op["kind"] == "gemm"
    ]
    area = {k: float(v[0]) for k, v in hw_models.area_breakdown_um2(hw, profile).items()}
    carbon = {k: rec[k] for k in ("embodied_logic_kg", "embodied_dram_kg", "embodied_kg", "operational_kg", "total_kg", "energy_lifetime_kwh") if k in rec}
    return {
        "metrics": {k: rec[k] for k in ("latency_s", "energy_j", "area_mm2", "tops", "macs", "params") if k in rec},
        "accuracy_extrapolated_reason": row.get("accuracy_extrapolated_reason", ""),
        "energy_by_component_j": rec["energy_by_component_j"],
        "area_by_part_um2": area,
        "latency_by_op_class_s": latency_by_class,
        "energy_by_op_class_j": energy_by_class,
        "gemm_mappings": gemms,
        "carbon_kg": carbon,
        "hardware_full": rec.get("hardware", {}),
    }
