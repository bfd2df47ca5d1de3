"""Compare modes on one space and scenario: each mode's search, then its chosen designs at matched accuracy."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..io import atomic_write_json, atomic_write_text
from .objectives import get_mode, list_modes
from .spec import SearchSpec

__all__ = ["CompareResult", "run_compare", "compare_table", "accuracy_targets", "COMPARE_COLUMNS"]


# What the table shows of each chosen design (hardware keys and pruning variables follow).
COMPARE_COLUMNS = (
    "total_kg",
    "embodied_kg",
    "operational_kg",
    "latency_s",
    "energy_j",
    "energy_lifetime_kwh",
    "area_mm2",
    "tops",
    "meets_latency_s",
)


@dataclass(frozen=True, eq=False)
class CompareResult:
    table: Any  # pandas DataFrame
    results: Mapping[str, Any]  # mode -> SearchResult
    targets: list[float]
    out_dir: str | None


def accuracy_targets(fronts: Mapping[str, Any], n: int = 3, searched: Sequence[str] | None = None) -> list[float]:
    """`n` accuracy levels every mode's front reaches (between the highest front minimum and the
    lowest front maximum), rounded down to 4 decimals; the union range when the fronts do not
    overlap. `searched`: the modes whose accuracy varies (a fixed-model mode has one accuracy
    and takes no part in choosing the levels)."""
    lows, highs = [], []
    for mode, frame in fronts.items():
        if searched is not None and mode not in searched:
            continue
        acc = frame["accuracy"].dropna() if "accuracy" in frame else []
        if len(acc):
            lows.append(float(acc.min()))
            highs.append(float(acc.max()))
    if not lows:
        return []
    lo, hi = max(lows), min(highs)
    if lo > hi:
        lo, hi = min(lows), max(highs)
    levels = np.linspace(lo, hi, n) if n > 1 else np.array([lo])
    return sorted({float(np.floor(x * 1e4) / 1e4) for x in levels})


def compare_table(fronts: Mapping[str, Any], primaries: Mapping[str, str], targets: Sequence[float] | None = None, n_targets: int = 3) -> Any:
    """One row per (accuracy target, mode): the mode's front design with accuracy >= target and
    the least of the mode's primary cost (NaN row when the mode has none)."""
    import pandas as pd

    targets = list(targets) if targets is not None else accuracy_targets(fronts, n_targets)
    rows = []
    for target in targets:
        for mode, frame in fronts.items():
            primary = primaries[mode]
            row: dict[str, Any] = {"accuracy_target": target, "mode": mode, "primary": primary}
            ok = frame[frame["accuracy"] >= target] if "accuracy" in frame else frame.iloc[0:0]
            if len(ok):
                best = ok.loc[ok[primary].idxmin()]
                row["id"] = int(best["id"])
                row["accuracy"] = float(best["accuracy"])
                for c in frame.columns:
                    if c in COMPARE_COLUMNS or c not in row and c not in ("generation", "accuracy_metric", "pareto", "feasible", "failed") and not c.startswith("meets_"):
                        row.setdefault(c, best[c])
                row["meets_latency_s"] = bool(best.get("meets_latency_s", True))
            rows.append(row)
    if not rows:
        return pd.DataFrame(columns=["accuracy_target", "mode", "primary", "id", "accuracy", *COMPARE_COLUMNS])
    table = pd.DataFrame(rows)
    lead = ["accuracy_target", "mode", "primary", "id", "accuracy", *[c for c in COMPARE_COLUMNS if c in table]]
    return table[lead + [c for c in table.columns if c not in lead]]


def run_compare(
    spec: SearchSpec,
    modes: Sequence[str],
    out_dir: str,
    progress: Callable[[str, Any], None] | None = None,
    evaluator: Any = None,
    n_targets: int = 3,
) -> CompareResult:
    """Run `spec` under each mode into out_dir/<mode>/ (each mode's own objectives, constraints
    and reference point), then write compare.csv and compare.json (compare.html is the caller's)."""
    from .runner import run_search

    modes = list(dict.fromkeys(m.strip() for m in modes if m.strip()))
    if not modes:
        raise ConfigError(f"--modes: empty; allowed: a comma-separated list of {', '.join(list_modes())}")
    for m in modes:
        get_mode(m)  # unknown -> ConfigError
    results = {}
    for mode in modes:
        mode_spec = for_mode(spec, mode)
        cb = (lambda p, _m=mode: progress(_m, p)) if progress is not None else None
        results[mode] = run_search(mode_spec, os.path.join(out_dir, mode), progress=cb, evaluator=evaluator)
    fronts = {m: r.pareto for m, r in results.items()}
    primaries = {m: get_mode(m).primary for m in modes}
    searched = [m for m in modes if "accuracy" in get_mode(m).objectives]
    targets = accuracy_targets(fronts, n_targets, searched or None)
    table = compare_table(fronts, primaries, targets)
    os.makedirs(out_dir, exist_ok=True)
    atomic_write_text(os.path.join(out_dir, "compare.csv"), table.to_csv(index=False))
    atomic_write_json(
        os.path.join(out_dir, "compare.json"),
        {
            "modes": {m: m for m in modes},
            "accuracy_targets": targets,
            "primary": primaries,
            "status": {m: r.status for m, r in results.items()},
            "spec": spec.as_dict(),
        },
    )
    return CompareResult(table=table, results=results, targets=targets, out_dir=out_dir)


def for_mode(spec: SearchSpec, mode: str) -> SearchSpec:
    """The spec under `mode`, with the mode's own objectives, constraints and reference point."""
    from .spec import spec_from_mapping

    d = spec.as_dict()
    d["search"].update(mode=mode, objectives=[], constraints=[], reference_point={})
    return spec_from_mapping(d)

