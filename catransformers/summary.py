"""Text summaries of results for terminals: aligned tables, one-design reports, search and compare summaries."""

from __future__ import annotations

import csv
import os
from typing import Any, Sequence, TextIO

__all__ = [
    "fmt",
    "table",
    "display_table",
    "display_rows",
    "write_csv",
    "flat_record",
    "single_report",
    "front_rows",
    "recommended_text",
    "recommended_line",
    "infeasibility_text",
    "extrapolated_text",
    "search_summary",
    "compare_summary",
    "EVALUATE_SUMMARY",
]

def fmt(value: Any) -> str:
    """A number as a terminal shows it: 4 significant digits, scientific outside [1e-3, 1e6), n/a for NaN or NA."""
    if value is None or type(value).__name__ == "NAType":
        return "n/a"
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
    "model_shape",
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
    "accuracy_extrapolated",
)

# Keys of Evaluation.record that are nested (not CSV columns).
_NESTED = ("ops", "hardware", "accuracy_all", "energy_by_component_j", "scenario", "scenario_columns")


def flat_record(rec: dict[str, Any]) -> dict[str, Any]:
    """One evaluated design as one CSV row (SI units, as named): model, shape, every hardware field, metrics, accuracy flags, scenario."""
    out = {"model": rec.get("model"), "model_shape": rec.get("model_shape", "")}
    out.update(rec.get("hardware", {}))
    out.update({k: v for k, v in rec.items() if k not in _NESTED and k not in out})
    out.update(rec.get("scenario_columns", {}))
    return out


def display_rows(rows: list[dict[str, Any]], columns: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows and columns in the registry's display units (latency_s -> latency_ms, ...) for a console table."""
    from .metrics import display_header, display_value

    headers = [display_header(c) for c in columns]
    out = [{h: display_value(c, r.get(c, "")) for c, h in zip(columns, headers)} for r in rows]
    return out, headers


def display_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """`table` in display units; boolean flags as yes/no."""
    shown, headers = display_rows(rows, columns)
    for r in shown:
        for k, v in r.items():
            if isinstance(v, bool) or type(v).__name__ == "bool_":
                r[k] = "yes" if v else "no"
    return table(shown, headers)


def single_report(rec: dict[str, Any]) -> str:
    """One evaluated design: model shape, hardware, metrics in display units and the per-op table."""
    from .metrics import METRICS

    lines = [f"model     {rec.get('model')}"]
    if rec.get("model_shape"):
        lines.append(f"shape     {rec['model_shape']}")
    lines.append("hardware  " + ", ".join(f"{k}={v}" for k, v in rec.get("hardware", {}).items()))
    lines.append("")
    for key, m in METRICS.items():
        if key in rec and rec[key] is not None and key != "area_um2":
            lines.append(f"{m.label:<26}{fmt(m.display(rec[key]))} {m.display_unit}".rstrip())
    if rec.get("accuracy_metric"):
        lines.append(f"{'accuracy metric':<26}{rec['accuracy_metric']}")
    if rec.get("accuracy_extrapolated"):
        lines.append(f"{'accuracy extrapolated':<26}yes: {rec['accuracy_extrapolated_reason']}")
    if rec.get("ops"):
        lines.append("")
        cols = [c for c in ("name", "kind", "macs", "latency_s", "energy_j", "utilisation", "bound") if c in rec["ops"][0]]
        lines.append(display_table(rec["ops"], cols))
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


def _limit_text(name: str, limit: float) -> str:
    from .metrics import METRICS

    m = METRICS.get(name)
    if m is None:
        return f"{name} <= {limit:g}"
    return f"{m.label} <= {fmt(float(m.display(limit)))} {m.display_unit}".rstrip()


def infeasibility_text(run: dict[str, Any]) -> str | None:
    """'designs over a limit: latency <= 50 ms broken by 14 of 94 checked; ...' from run.json; None when nothing broke a limit."""
    parts = []
    for name, v in (run.get("infeasible_by_constraint") or {}).items():
        if not v["broken"]:
            continue
        what = "evaluation failed" if v["limit"] is None else _limit_text(name, v["limit"])
        parts.append(f"{what}: {v['broken']:,} of {v['checked']:,}" if v["limit"] is not None else f"{what}: {v['broken']:,}")
    return "designs over a limit (broken by / checked on): " + "; ".join(parts) if parts else None


def extrapolated_text(run: dict[str, Any]) -> str | None:
    """One line with the run's true count of extrapolated accuracy estimates; None when there are none."""
    c = run.get("counts", {})
    n = c.get("accuracy_extrapolated", 0)
    if not n:
        return None
    rng = run.get("accuracy_validated_range") or {}
    rho = rng.get("rho_min", {})
    why = f" (rho below {', '.join(f'{t} {v:g}' for t, v in rho.items())}, or a dimension below half its base)" if rho else ""
    return (
        f"accuracy is an extrapolation{why} for {n:,} of {c.get('evaluated', 0):,} evaluated designs, "
        f"{c.get('accuracy_extrapolated_pareto', 0):,} of {c.get('pareto', 0):,} on the front: see accuracy_extrapolated in the CSVs"
    )


def _pairs(values: dict[str, Any], factor: float, unit: str) -> str:
    shown = ", ".join(f"{k} {fmt(float(v) * factor)}" for k, v in values.items() if v)
    return f"{shown} {unit}".rstrip()


def recommended_text(rec: dict[str, Any] | None, indent: str = "  ", mapping_table: bool = True, title: str = "Recommended design") -> str:
    """The recommended design with its full breakdown, for the terminal (display units); the
    mapping of each GEMM as a table, or (mapping_table False) one line of dataflow counts."""
    from .metrics import METRICS

    if not rec:
        return "no recommended design (empty front)"
    objs = ", ".join(f"{METRICS[k].label} {fmt(float(METRICS[k].display(v)))} {METRICS[k].display_unit}".rstrip() for k, v in rec["objectives"].items() if v is not None)
    lines = [f"{title}: id {rec['id']} ({objs})", f"{indent}chosen by {rec['method_note']}"]
    lines.append(f"{indent}model     {rec['model_shape']}" + ("  [accuracy extrapolated]" if rec.get("accuracy_extrapolated") else ""))
    lines.append(f"{indent}hardware  " + ", ".join(f"{k}={v}" for k, v in rec["hardware"].items()))
    if rec.get("tied_ids"):
        ids = rec["tied_ids"]
        shown = ", ".join(str(i) for i in ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
        lines.append(f"{indent}ties      the same objective values: id {shown} (differ in {', '.join(rec['tied_differ_in'])})")
    b = rec.get("breakdown")
    lat, en, area = METRICS["latency_s"], METRICS["energy_j"], METRICS["area_um2"]
    if b:
        m = b["metrics"]
        cost = ", ".join(f"{METRICS[k].label} {fmt(float(METRICS[k].display(m[k])))} {METRICS[k].display_unit}" for k in ("latency_s", "energy_j", "area_mm2", "tops") if k in m)
        lines.append(f"{indent}cost      {cost}")
        c = b["carbon_kg"]
        if c:
            lines.append(
                f"{indent}carbon    total {fmt(c['total_kg'])} kg CO2e = embodied {fmt(c['embodied_kg'])} "
                f"(logic {fmt(c['embodied_logic_kg'])}, DRAM {fmt(c['embodied_dram_kg'])}) + operational {fmt(c['operational_kg'])} "
                f"({fmt(c['energy_lifetime_kwh'])} kWh over the lifetime)"
            )
        lines.append(f"{indent}energy by component and memory level: {_pairs(b['energy_by_component_j'], en.display_factor, en.display_unit)}")
        lines.append(f"{indent}area by part: {_pairs(b['area_by_part_um2'], area.display_factor, area.display_unit)}")
        lines.append(f"{indent}latency by op class: {_pairs(b['latency_by_op_class_s'], lat.display_factor, lat.display_unit)}")
        if mapping_table:
            cols = ["op", "dataflow", "orientation", "partition", "clusters_used", "l2_loop_order", "glb_loop_order", "utilisation", "bound", "latency_s"]
            mapping = display_table(b["gemm_mappings"], cols)
            lines.append(f"{indent}mapping of each GEMM:")
            lines += [indent + indent + line for line in mapping.splitlines()]
        else:
            flows: dict[str, int] = {}
            for g in b["gemm_mappings"]:
                flows[g["dataflow"]] = flows.get(g["dataflow"], 0) + 1
            lines.append(f"{indent}GEMM dataflows: " + ", ".join(f"{k} {v}" for k, v in sorted(flows.items())) + " (the mapping of each GEMM: run.json recommended.breakdown.gemm_mappings)")
    best = rec.get("best_by_objective", {})
    if best:
        lines.append(
            f"{indent}best of each objective: "
            + "; ".join(f"{METRICS[k].label} {fmt(float(METRICS[k].display(v['value'])))} {METRICS[k].display_unit} (id {v['id']})".replace("  ", " ") for k, v in best.items() if v["value"] is not None)
        )
    return "\n".join(lines)


def recommended_line(rec: dict[str, Any]) -> str:
    """The recommended design in one line: id, objectives, model shape, accelerator, latency and carbon split."""
    from .metrics import METRICS

    objs = ", ".join(f"{METRICS[k].display_name} {fmt(float(METRICS[k].display(v)))}" for k, v in rec["objectives"].items() if v is not None)
    hw = rec["hardware"]
    text = f"id {rec['id']}: {objs} | {rec['model_shape']} | " + " ".join(f"{k}={v}" for k, v in hw.items())
    b = rec.get("breakdown")
    if b and b.get("carbon_kg"):
        c = b["carbon_kg"]
        lat = METRICS["latency_s"]
        text += f" | latency {fmt(lat.display(b['metrics']['latency_s']))} {lat.display_unit}, embodied {fmt(c['embodied_kg'])} + operational {fmt(c['operational_kg'])} kg"
    return text + (" [accuracy extrapolated]" if rec.get("accuracy_extrapolated") else "")


def _front_columns(rows: list[dict[str, Any]]) -> list[str]:
    from hw_models import SEARCH_KEYS

    cols = ["id", "model_shape", "accuracy", "accuracy_extrapolated", "total_kg", "embodied_kg", "operational_kg", "latency_s", "energy_j", "area_mm2", *SEARCH_KEYS]
    return [k for k in cols if k in rows[0]]


def search_summary(result: Any, out_dir: str) -> str:
    """What a search found and wrote, for the terminal."""
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
    if run.get("scenario") and isinstance(run["scenario"], dict):
        sc = run["scenario"]
        lines.append(f"scenario {sc.get('name')}: use region {sc.get('use_region')}, {fmt(float(sc.get('resolved_use_intensity_g_per_kwh', float('nan'))))} g CO2e/kWh, {fmt(float(sc.get('lifetime_inferences', float('nan'))))} inferences")
    for extra in (infeasibility_text(run), extrapolated_text(run)):
        if extra:
            lines.append(extra)
    rows = front_rows(result)
    if rows:
        lines += ["", "Pareto front (a spread of designs; display units in the headers):", display_table(rows, _front_columns(rows))]
        if run.get("accuracy_metric"):
            lines.append(f"accuracy: {run['accuracy_metric']}")
    if "recommended" in run:
        lines += ["", recommended_text(run["recommended"])]
    files = ["evaluations.csv", "pareto.csv", "run.json"] + (["report.html"] if os.path.exists(os.path.join(out_dir, "report.html")) else [])
    lines += ["", f"wrote {', '.join(files)} to {out_dir} in {run['timings'].get('total_s', 0.0):.1f} s"]
    return "\n".join(lines)


def compare_summary(result: Any, out_dir: str) -> tuple[str, list[str]]:
    """What a compare run found and wrote, and the warnings to show (one per run without a feasible design)."""
    from hw_models import SEARCH_KEYS

    lines, warnings = [], []
    width = max(len(m) for m in result.results) + 1 if result.results else 11
    for label, r in result.results.items():
        c = r.run["counts"]
        lines.append(
            f"{label:<{width}} {r.run['method']}: {c['designs']:,} designs, {c['feasible']:,} feasible, {c['pareto']:,} Pareto, "
            f"{c.get('accuracy_extrapolated', 0):,} with extrapolated accuracy ({r.status})"
        )
        if r.status == "no-feasible":
            warnings.append(f"{label}: {r.run['message']}")
    for sc, row in (result.scenarios or {}).items():
        if sc:
            lines.append(f"scenario {sc}: use region {row['use_region']}, {fmt(row['intensity_g_per_kwh'])} g CO2e/kWh, {fmt(row['inferences'])} inferences")
    frame = result.table
    if len(frame):
        cols = ["accuracy_target", "scenario", "mode", "winner", "id", "model_shape", "accuracy", "total_kg", "embodied_kg", "operational_kg", "latency_s", "broken_limits", "energy_j", "area_mm2", *SEARCH_KEYS]
        lines += [
            "",
            "Chosen designs at matched accuracy (accuracy >= target, least of each mode's primary cost, within every limit where the front allows;",
            "winner: least total carbon per target and scenario among designs within every limit):",
        ]
        lines.append(display_table(frame.to_dict("records"), [c for c in cols if c in frame.columns]))
        over = frame[~frame["meets_limits"] & frame["id"].notna()] if "id" in frame else frame.iloc[0:0]
        for row in over.to_dict("records"):
            lines.append(f"not a winner: {row.get('mode')}{'@' + row['scenario'] if row.get('scenario') else ''} at accuracy >= {row['accuracy_target']:g} breaks {row['broken_limits']} (no design of its front within every limit)")
    else:
        lines += ["", "no accuracy level is reached by the modes' fronts; no table"]
    recs = [(label, r.recommended) for label, r in result.results.items() if r.recommended]
    if recs:
        lines += ["", "Recommended design of each run:"]
        lines += [f"  {label:<{width}} {recommended_line(rec)}" for label, rec in recs]
        for label, rec in recs:
            lines += ["", recommended_text(rec, mapping_table=False, title=f"{label}: recommended design")]
    gains = getattr(result, "gains", None)
    if gains is not None and len(gains):
        g = gains.copy()
        g["gain_pct"] = g["gain"] * 100
        cols = [c for c in ("scenario", "intensity_g_per_kwh", "accuracy_target", "carbon_total_kg", "energy_total_kg", "gain_pct", "same_design", "carbon_design") if c in g]
        lines += ["", "Carbon-aware vs energy-aware (gain = 1 - carbon mode's total / energy mode's total, at matched accuracy):", display_table(g.to_dict("records"), cols)]
    files = ["compare.csv", "compare.json"] + (["gains.csv"] if gains is not None else []) + (["compare.html"] if os.path.exists(os.path.join(out_dir, "compare.html")) else [])
    lines += ["", f"wrote {', '.join(files)} and one folder per run to {out_dir}"]
    return "\n".join(lines), warnings


def _how(run: dict) -> str:
    if run["method"] == "exact":
        return "exact (the exact Pareto front of the whole space)"
    return f"{run['method']}, {run['generations_run']} generation(s)"
