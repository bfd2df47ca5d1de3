"""Text summaries of results for terminals: aligned tables, one-design reports, search and compare summaries."""

from __future__ import annotations

import csv
import os
from typing import Any, Sequence, TextIO

__all__ = ["fmt", "table", "write_csv", "single_report", "front_rows", "search_summary", "compare_summary", "EVALUATE_SUMMARY"]

def fmt(value: Any) -> str:
    """A number as a terminal shows it: 4 significant digits, scientific outside [1e-3, 1e6), n/a for NaN."""
    if isinstance(value, float):
        if value != value:
            return "n/a"
        if value == 0 or 1e-3 <= abs(value) < 1e6:
            return f"{value:.4g}"
        return f"{value:.4e}"
    return str(value)


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as an aligned text table (first column left-aligned, the rest right-aligned)."""
    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))) for row in cells]
    return "\n".join(lines)


def write_csv(rows: list[dict[str, Any]], columns: Sequence[str], out: TextIO) -> None:
    """Rows as CSV on an open text stream; missing values are empty cells."""
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in columns})

# The columns of `evaluate` when several models are compared.
EVALUATE_SUMMARY = (
    "model",
    "latency_s",
    "energy_j",
    "area_mm2",
    "tops",
    "macs",
    "params",
    "embodied_kg",
    "operational_kg",
    "total_kg",
    "accuracy",
)


def single_report(rec: dict[str, Any]) -> str:
    """One evaluated design: hardware, metrics and the per-op table."""
    lines = [f"model     {rec.get('model')}", "hardware  " + ", ".join(f"{k}={v}" for k, v in rec.get("hardware", {}).items())]
    lines.append("")
    for key in ("latency_s", "energy_j", "area_um2", "area_mm2", "tops", "macs", "params", "embodied_kg", "embodied_logic_kg", "embodied_dram_kg", "operational_kg", "total_kg", "energy_lifetime_kwh", "accuracy"):
        if key in rec:
            lines.append(f"{key:<22}{fmt(rec[key])}")
    if rec.get("accuracy_metric"):
        lines.append(f"{'accuracy_metric':<22}{rec['accuracy_metric']}")
    if rec.get("ops"):
        lines.append("")
        cols = [c for c in ("name", "kind", "macs", "latency_s", "energy_j", "utilisation", "bound") if c in rec["ops"][0]]
        lines.append(table(rec["ops"], cols))
    return "\n".join(lines)


def front_rows(result: Any, limit: int = 8) -> list[dict[str, Any]]:
    """A spread of at most `limit` Pareto designs, sorted by the first objective."""
    import numpy as np

    front = result.pareto
    if front.empty:
        return []
    first = result.setup.objectives[0]
    front = front.sort_values(first.name, ascending=first.direction == "min")
    if len(front) > limit:
        picks = sorted({int(round(i)) for i in np.linspace(0, len(front) - 1, limit)})
        front = front.iloc[picks]
    return front.to_dict("records")


def search_summary(result: Any, out_dir: str) -> str:
    """What a search found and wrote, for the terminal."""
    from hw_models import SEARCH_KEYS

    run = result.run
    c = run["counts"]
    objectives = ", ".join(f"{o['direction']} {o['name']}" for o in run["objectives"])
    hv = run["hypervolume"][-1] if run["hypervolume"] else 0.0
    lines = [
        f"mode {run['mode']} ({objectives}) by {_how(run)}: "
        f"{c['designs']:,} designs, {c['evaluated']:,} evaluated, {c['prechecked_out']:,} over the area/TOPS limits, "
        f"{c['feasible']:,} feasible, {c['pareto']:,} on the Pareto front",
        f"hypervolume {hv:.6g} (reference point {run['reference_point']})",
    ]
    rows = front_rows(result)
    if rows:
        cols = ["id", "accuracy", "total_kg", "embodied_kg", "operational_kg", "latency_s", "energy_j", "area_mm2", *SEARCH_KEYS]
        cols = [k for k in cols if k in rows[0]]
        lines += ["", "Pareto front (a spread of designs):", table(rows, cols)]
        if run.get("accuracy_metric"):
            lines.append(f"accuracy: {run['accuracy_metric']}")
    files = ["evaluations.csv", "pareto.csv", "run.json"] + (["report.html"] if os.path.exists(os.path.join(out_dir, "report.html")) else [])
    lines += ["", f"wrote {', '.join(files)} to {out_dir} in {run['timings'].get('total_s', 0.0):.1f} s"]
    return "\n".join(lines)


def compare_summary(result: Any, out_dir: str) -> tuple[str, list[str]]:
    """What a compare run found and wrote, and the warnings to show (one per mode without a feasible design)."""
    from hw_models import SEARCH_KEYS

    lines, warnings = [], []
    for mode, r in result.results.items():
        c = r.run["counts"]
        lines.append(f"{mode:<11} {r.run['method']}: {c['designs']:,} designs, {c['feasible']:,} feasible, {c['pareto']:,} Pareto ({r.status})")
        if r.status == "no-feasible":
            warnings.append(f"{mode}: {r.run['message']}")
    frame = result.table
    if len(frame):
        cols = ["accuracy_target", "mode", "accuracy", "total_kg", "embodied_kg", "operational_kg", "latency_s", "meets_latency_s", "energy_j", "area_mm2", *SEARCH_KEYS]
        lines += ["", "Chosen designs at matched accuracy (accuracy >= target, least of each mode's primary cost):"]
        lines.append(table(frame.to_dict("records"), [c for c in cols if c in frame.columns]))
    else:
        lines += ["", "no accuracy level is reached by the modes' fronts; no table"]
    files = ["compare.csv", "compare.json"] + (["compare.html"] if os.path.exists(os.path.join(out_dir, "compare.html")) else [])
    lines += ["", f"wrote {', '.join(files)} and one folder per mode to {out_dir}"]
    return "\n".join(lines), warnings


def _how(run: dict) -> str:
    if run["method"] == "exact":
        return "exact (the exact Pareto front of the whole space)"
    return f"{run['method']}, {run['generations_run']} generation(s)"
