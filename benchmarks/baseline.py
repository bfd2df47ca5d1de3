"""Time another version of hw_models against this one in the same process, call by call.

A speed-up measured on a shared machine is only meaningful when the old and new code run under
the same load: `load(DIR)` imports the hw_models package found in DIR (for example
`git archive REV hw_models | tar -x -C DIR`) under another module name, `convert` rebuilds a
workload and a hardware batch with that package's classes, and `alternate` times the two
evaluate_cost functions in turns, so both see the same load.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["load", "convert", "alternate", "evaluate_calls"]


def load(directory: str) -> ModuleType:
    """The hw_models package in `directory`, imported as `hw_models_baseline`."""
    init = Path(directory) / "hw_models" / "__init__.py"
    if not init.is_file():
        raise SystemExit(f"--baseline: {directory!r} holds no hw_models/__init__.py")
    name = "hw_models_baseline"
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(init.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _rebuild(obj: Any, mod: ModuleType) -> Any:
    cls = getattr(mod, type(obj).__name__)
    return cls(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})


def convert(workload: Any, hw: Any, mod: ModuleType) -> tuple[Any, Any]:
    """The workload and hardware batch rebuilt with `mod`'s classes (the same arrays)."""
    ops = tuple(_rebuild(op, mod) for op in workload.ops)
    edges = tuple(_rebuild(e, mod) for e in workload.edges)
    return mod.Workload(ops, workload.name, edges), mod.HardwareBatch(**hw.as_dict())


def alternate(calls: Sequence[Callable[[], Any]], runs: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(wall s, CPU s) per run of each call, the calls taken in turns run by run."""
    wall = [[] for _ in calls]
    cpu = [[] for _ in calls]
    for _ in range(runs):
        for i, call in enumerate(calls):
            t0, c0 = time.perf_counter(), time.process_time()
            call()
            wall[i].append(time.perf_counter() - t0)
            cpu[i].append(time.process_time() - c0)
    return [(np.array(w), np.array(c)) for w, c in zip(wall, cpu)]


def evaluate_calls(evaluate_cost: Callable[..., Any], workload: Any, hw: Any, directory: str | None) -> list[Callable[[], Any]]:
    """evaluate_cost(workload, hw) as a call, and with `directory` the same call on its hw_models; each run once (warm-up)."""
    calls = [lambda: evaluate_cost(workload, hw)]
    if directory:
        old = load(directory)
        old_wl, old_hw = convert(workload, hw, old)
        calls.append(lambda: old.evaluate_cost(old_wl, old_hw))
    for call in calls:
        call()  # warm-up: imports, profile load, first-touch allocations
    return calls
