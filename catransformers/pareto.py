"""Non-dominated sets in numpy (one filter for search and plots): ties kept, duplicate designs once."""

from __future__ import annotations

import numpy as np

__all__ = ["non_dominated", "pareto_mask", "merge_front"]


def non_dominated(F: np.ndarray) -> np.ndarray:
    """Mask of the rows of F (minimised, finite) that no other row dominates.

    a dominates b when a <= b everywhere and a < b somewhere, so identical rows are all kept
    (the reference dropped both of two identical points).
    """
    F = np.asarray(F, dtype=np.float64)
    n = len(F)
    if n == 0:
        return np.zeros(0, dtype=bool)
    if F.ndim != 2:
        raise ValueError(f"non_dominated: F must be 2-D, got shape {F.shape}")
    m = F.shape[1]
    if m == 1:
        return F[:, 0] == F[:, 0].min()
    order = np.lexsort(F.T[::-1])  # by column 0, then 1, ...
    S = F[order]
    keep = np.zeros(n, dtype=bool)
    if m == 2:
        # Sorted by (f0, f1): a point survives iff it is the best f1 of its f0 group and
        # strictly better in f1 than every point of a smaller f0.
        f0, f1 = S[:, 0], S[:, 1]
        new_group = np.r_[True, f0[1:] != f0[:-1]]
        group = np.cumsum(new_group) - 1
        first = np.flatnonzero(new_group)
        group_min = f1[first]
        prev_best = np.r_[np.inf, np.minimum.accumulate(group_min)[:-1]]
        keep_sorted = (f1 == group_min[group]) & (f1 < prev_best[group])
        keep[order] = keep_sorted
        return keep
    if n > 64:
        # moocore's dimension sweep (O(n log n) for 3 objectives); keep_weakly keeps identical
        # rows, the same rule as here. Measured (benchmarks/bench_search.py, 3 objectives):
        # 1,000 points 34 ms here, 0.05 ms in moocore; for 2 objectives the sort above is as fast.
        import moocore

        return np.asarray(moocore.is_nondominated(F, keep_weakly=True), dtype=bool)
    # General m: in lexicographic order a point can only be dominated by an earlier one, and
    # if it is, then also by an earlier member of the front (dominance is transitive).
    front: list[int] = []
    front_vals = np.empty((0, m))
    for i in range(n):
        x = S[i]
        if len(front):
            le = np.all(front_vals <= x, axis=1)
            if np.any(le & np.any(front_vals < x, axis=1)):
                continue
        front.append(i)
        front_vals = S[front]
    keep[order[front]] = True
    return keep


def pareto_mask(F: np.ndarray, feasible: np.ndarray | None = None, designs: np.ndarray | None = None) -> np.ndarray:
    """The Pareto rows: feasible, finite, non-dominated; of identical designs (rows of `designs`) the first only."""
    F = np.asarray(F, dtype=np.float64)
    ok = np.all(np.isfinite(F), axis=1)
    if feasible is not None:
        ok &= np.asarray(feasible, dtype=bool)
    if designs is not None:
        D = np.ascontiguousarray(designs)
        _, first = np.unique(D.view(np.dtype((np.void, D.dtype.itemsize * D.shape[1]))).ravel(), return_index=True)
        unique = np.zeros(len(F), dtype=bool)
        unique[first] = True
        ok &= unique
    idx = np.flatnonzero(ok)
    mask = np.zeros(len(F), dtype=bool)
    mask[idx[non_dominated(F[idx])]] = True
    return mask


def merge_front(front: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Front of the union of two point sets (rows minimised)."""
    both = np.vstack([front, new]) if len(front) else np.asarray(new, dtype=np.float64)
    return both[non_dominated(both)] if len(both) else both
