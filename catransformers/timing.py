"""Wall-clock and CPU seconds per stage of a run (run.json's `timings`: `<stage>_s` and `<stage>_cpu_s`)."""

from __future__ import annotations

import time
from typing import MutableMapping

__all__ = ["now", "charge"]

Stamp = tuple[float, float]  # (time.perf_counter(), time.process_time()), seconds


def now() -> Stamp:
    """Wall clock and this process's CPU time (all threads), seconds."""
    return time.perf_counter(), time.process_time()


def charge(timings: MutableMapping[str, float], stage: str, since: Stamp, until: Stamp | None = None) -> Stamp:
    """Add the wall and CPU seconds from `since` to `until` (default: now) to `<stage>_s` and
    `<stage>_cpu_s`; returns `until`, the start of whatever comes next."""
    end = now() if until is None else until
    timings[f"{stage}_s"] = timings.get(f"{stage}_s", 0.0) + (end[0] - since[0])
    timings[f"{stage}_cpu_s"] = timings.get(f"{stage}_cpu_s", 0.0) + (end[1] - since[1])
    return end
