"""Exhaustive enumeration of a bounded design space, in chunks: the exact front a GA is measured against."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from .archive import Archive
from .hypervolume import hypervolume
from ..pareto import pareto_mask
from ..timing import charge, now

__all__ = ["enumerate_space"]


def enumerate_space(
    setup: Any,
    archive: Archive,
    progress: Callable[[Any], None] | None = None,
    t_start: float | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[dict[str, int], list[float], str | None, str | None]:
    """Evaluate every design of `setup.space` (row-major order) through the archive's pre-check
    and evaluator, `exhaustive.chunk_size` designs per vectorised call.

    Up to `exhaustive.max_rows` designs every row is kept; above it only the rows on the
    running Pareto front (the exact front is a subset of the union of chunk fronts), so
    memory stays bounded. Returns counts over all designs, [hypervolume], label, None.
    """
    from .runner import Progress

    spec = setup.spec
    size = setup.space.size
    keep_all = size <= spec.max_rows
    chunk_size = spec.chunk_size
    t_start = time.perf_counter() if t_start is None else t_start
    timings = {} if timings is None else timings
    totals = {"designs": 0, "evaluated": 0, "prechecked_out": 0, "failed": 0, "feasible": 0, "cache_hits": 0}
    label = None
    for start in range(0, size, chunk_size):
        stop = min(size, start + chunk_size)
        X = setup.space.unravel(np.arange(start, stop))
        t0 = now()
        chunk = archive.evaluate_new(X, generation=0)
        charge(timings, "evaluate", t0)
        totals["designs"] += len(X)
        totals["evaluated"] += int(chunk["evaluated"].sum())
        totals["prechecked_out"] += int((~chunk["evaluated"]).sum())
        totals["failed"] += int(chunk["failed"].sum())
        totals["feasible"] += int(chunk["feasible"].sum())
        for key, n in archive.tally(chunk).items():
            totals[key] = totals.get(key, 0) + n
        if not keep_all:
            # rows of this chunk that could still be on the final front
            mask = pareto_mask(np.vstack([archive.front, chunk["F"]]), np.r_[np.ones(len(archive.front), bool), chunk["feasible"]])[len(archive.front) :]
            chunk = {k: v[mask] for k, v in chunk.items()}
        archive.add(chunk)
        label = label or getattr(archive.evaluator, "accuracy_metric", None) or getattr(getattr(archive.evaluator, "fn", None), "accuracy_metric", None)
        if progress is not None:
            progress(Progress(0, 1, totals["designs"], totals["feasible"], hypervolume(archive.front, setup.reference_min), time.perf_counter() - t_start, "exhaustive"))
    return totals, [hypervolume(archive.front, setup.reference_min)], label, None
