"""Hypervolume in native units against a reference point, via pymoo's HV indicator (maximised objectives negated)."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .objectives import DEFAULT_REFERENCE, Objective
from ..pareto import non_dominated

__all__ = ["hypervolume", "reference_point", "to_minimised"]


def reference_point(objectives: Sequence[Objective], given: Mapping[str, float] | None = None, mode: Mapping[str, float] | None = None) -> list[float]:
    """Native-unit reference point per objective: the spec's, else the mode's (Ax), else the registry default."""
    out = []
    for o in objectives:
        for source in (given or {}, mode or {}, DEFAULT_REFERENCE):
            if o.name in source:
                out.append(float(source[o.name]))
                break
    return out


def to_minimised(values: np.ndarray, objectives: Sequence[Objective]) -> np.ndarray:
    """Columns of native objective values -> the minimised form pymoo and the HV indicator see."""
    signs = np.array([o.sign for o in objectives])
    return np.asarray(values, dtype=np.float64) * signs


def hypervolume(F: np.ndarray, ref: Sequence[float] | np.ndarray) -> float:
    """Hypervolume dominated by the rows of F (minimised form) up to `ref` (minimised form).

    Points not strictly better than the reference in every objective add nothing and are
    dropped first. Units: the product of the objectives' native units.
    """
    from pymoo.indicators.hv import HV

    F = np.asarray(F, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if F.size == 0:
        return 0.0
    F = F[np.all(np.isfinite(F), axis=1) & np.all(F < ref, axis=1)]
    if len(F) == 0:
        return 0.0
    F = F[non_dominated(F)]
    return float(HV(ref_point=ref)(F))
