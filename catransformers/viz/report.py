"""Self-contained HTML reports (plotly.js embedded once, works offline), written atomically."""

from __future__ import annotations

import html
import json
import os
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ..errors import DataError
from ..io import atomic_write_text
from . import data as D

__all__ = ["write_report", "write_compare_report", "write_sweep_report", "render", "render_page"]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px auto;max-width:1300px;color:#222;padding:0 16px}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 18px;font-size:.95em}
.meta dt{color:#555} .meta dd{margin:0}
.warn{background:#fff4e5;border-left:4px solid #e69500;padding:8px 12px;margin:12px 0}
.note{color:#555;font-size:.9em}
.tablewrap{overflow-x:auto;max-height:520px;overflow-y:auto;border:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;white-space:nowrap}
th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
th{background:#f6f6f6;position:sticky;top:0} td.t,th.t{text-align:left}
.figure{margin:8px 0 18px 0} details{margin:10px 0;font-size:.9em} pre{white-space:pre-wrap}
"""

_TABLE_METRICS = (
    "accuracy",
    "total_kg",
    "embodied_kg",
    "operational_kg",
    "latency_s",
    "energy_j",
    "area_mm2",
    "tops",
    "energy_lifetime_kwh",
    "params",
)


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _plotlyjs() -> str:
    from plotly.offline import get_plotlyjs

    # "</script" cannot appear inside an inline script; plotly.js does not contain it, but be safe.
    return get_plotlyjs().replace("</script", "<\\/script")


def _figure_html(fig: Any, div_id: str) -> str:
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "svg"}},
    )


def render_page(title: str, body: str) -> str:
    """A full HTML page with plotly.js inline in <head> (no network needed) and `body` in <body>."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{_esc(title)}</title>\n"
        f"<style>{_CSS}</style>\n<script type=\"text/javascript\">{_plotlyjs()}</script>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def _meta(items: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{_esc(k)}</dt><dd>{v}</dd>" for k, v in items)
    return f"<dl class=\"meta\">{rows}</dl>"


def _cell(value: Any, scale: float = 1.0) -> str:
    if isinstance(value, (bool,)) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        try:
            v = float(value)
        except (TypeError, ValueError):
            return _esc(value)
        if v != v:
            return "n/a"
        v *= scale
        if v.is_integer() and abs(v) < 1e9:
            return str(int(v))
        return f"{v:.4g}"
    return _esc(value)


def _table(frame: pd.DataFrame, columns: Sequence[tuple[str, str, float]], text_cols: Sequence[str] = ()) -> str:
    """HTML table of `frame`; columns as (column, header, display factor)."""
    head = "".join(f"<th class=\"{'t' if c in text_cols else ''}\">{_esc(h)}</th>" for c, h, _ in columns)
    body = []
    for _, row in frame.iterrows():
        cells = "".join(
            f"<td class=\"{'t' if c in text_cols else ''}\">{_cell(row[c], s)}</td>" for c, _, s in columns
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<div class=\"tablewrap\"><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def _design_columns(frame: pd.DataFrame) -> list[tuple[str, str, float]]:
    cols: list[tuple[str, str, float]] = []
    for c in ("id", "generation", "model"):
        if c in frame.columns:
            cols.append((c, c, 1.0))
    for c in _TABLE_METRICS:
        if c in frame.columns:
            cols.append(_display_column(c))
    for c in D.parameter_columns(frame):
        cols.append((c, c, 1.0))
    return cols


def _display_column(c: str) -> tuple[str, str, float]:
    """(column, header with display unit, factor) for a known metric; the column as is otherwise."""
    if c in D._DISPLAY and c not in D.HARDWARE_KEYS:
        a = D.axis(c)
        return (c, a.label if c != "accuracy" else "accuracy", a.scale)
    return (c, c, 1.0)


def _accuracy_note(frame: pd.DataFrame) -> str:
    label = D.accuracy_label(frame)
    if not label:
        return ""
    if "estimate" in label:
        return f"Accuracy is an estimate, not a measurement: {_esc(label)}. It is a fraction in [0, 1]."
    return f"Accuracy: {_esc(label)}, a fraction in [0, 1]."


def _section(title: str, intro: str, content: str) -> str:
    intro_html = f"<p class=\"note\">{intro}</p>" if intro else ""
    return f"<section><h2>{_esc(title)}</h2>{intro_html}{content}</section>\n"


def _fig_block(fig: Any, div_id: str) -> str:
    return f"<div class=\"figure\" data-figure=\"{_esc(div_id)}\">{_figure_html(fig, div_id)}</div>"


def _counts_text(c: Mapping[str, int]) -> str:
    text = f"{c['designs']} over {c['generations']} generation(s)"
    if c["evaluated"] != c["designs"]:
        text += f"; {c['evaluated']} evaluated"
    if c["prechecked_out"]:
        text += f"; {c['prechecked_out']} skipped by the area/TOPS pre-check"
    return text + f"; {c['failed']} failed; {c['feasible']} feasible; {c['pareto']} on the Pareto front"


def _scenario_text(scenario: Any) -> str:
    """One line on where the hardware is made and used, when run.json records the scenario."""
    if not isinstance(scenario, Mapping):
        return ""
    bits = [str(scenario.get("name", "custom"))]
    use = scenario.get("use_region_name") or scenario.get("use_region")
    if use:
        g = scenario.get("resolved_use_intensity_g_per_kwh")
        bits.append(f"used in {use}" + (f" ({g:g} gCO2e/kWh)" if isinstance(g, (int, float)) else ""))
    fab = scenario.get("fab_location")
    if fab:
        g = scenario.get("resolved_fab_intensity_g_per_kwh")
        bits.append(f"made in {fab}" + (f" ({g:g} gCO2e/kWh)" if isinstance(g, (int, float)) else ""))
    n = scenario.get("lifetime_inferences")
    if isinstance(n, (int, float)):
        bits.append(f"{n:,.0f} inferences over the lifetime")
    return "; ".join(bits)


def _results_body(results: D.Results) -> str:
    from . import figures as F

    run = results.run
    ev = results.evaluations
    objectives = D.objectives_of(run, ev)
    counts = D.summary_counts(results)
    status = str(run.get("status", "unknown"))
    mode = str(run.get("mode", "unknown"))
    front = D.front_of(ev, objectives, results.pareto)
    sort_axis = objectives[1] if len(objectives) > 1 else objectives[0]
    front = front.sort_values(sort_axis.name, ascending=sort_axis.direction == "min", kind="stable").reset_index(drop=True)
    no_feasible = counts["feasible"] == 0 or status == "no-feasible"

    items = [
        ("mode", _esc(mode)),
        ("objectives", "; ".join(_esc(a.objective_label) for a in objectives)),
        ("constraints", "; ".join(_esc(t) for t in D.constraint_text(run.get("constraints") or {})) or "none"),
        ("designs", _esc(_counts_text(counts))),
        ("status", _esc(status) + (f": {_esc(run['message'])}" if run.get("message") else "")),
    ]
    scen = _scenario_text(run.get("scenario"))
    if scen:
        items.append(("scenario", _esc(scen)))
    if "seed" in run:
        items.append(("seed", _esc(run["seed"])))
    if run.get("reference_point") is not None:
        items.append(("hypervolume reference point", _esc(run["reference_point"])))
    hv = [v for v in (run.get("hypervolume") or []) if v is not None]
    if hv:
        items.append(("final hypervolume", f"{float(hv[-1]):.4g}"))
    parts = [f"<h1>CATransformers results: {_esc(mode)} mode</h1>", _meta(items)]
    if no_feasible:
        parts.append(
            "<p class=\"warn\"><b>No feasible design.</b> None of the evaluated designs meets every constraint, "
            "so there is no Pareto front; the plot below shows how far the infeasible designs are from the limits "
            "(hover a point to see which limit it breaks).</p>"
        )
    note = _accuracy_note(ev)
    if note:
        parts.append(f"<p class=\"note\">{note}</p>")
    details = {k: run[k] for k in ("spec", "versions", "timings") if k in run}
    if details:
        parts.append(f"<details><summary>run details (spec, versions, timings)</summary><pre>{_esc(json.dumps(details, indent=2, default=str))}</pre></details>")

    # Pareto table
    if len(front):
        table = _table(front, _design_columns(front), text_cols=("model",))
        parts.append(_section(f"Pareto designs ({len(front)})", f"Sorted by {_esc(sort_axis.short_label)}, best first, as the carbon bars below; units in the headers. Hover a plotted point for the same details.", table))
    else:
        parts.append(_section("Pareto designs", "", "<p>No design is on the front.</p>"))

    # Figures
    if len(objectives) in (2, 3):
        pdata = D.pareto_front_data(ev, objectives, results.pareto)
        fig = F.pareto_figure(pdata, title="Pareto front over all evaluated designs")
        intro = (
            f"Every evaluated design ({pdata['feasible']['n']} feasible, {pdata['infeasible']['n']} infeasible"
            + (f"; {pdata['n_undrawn']} failed or not evaluated, so without values, are not drawn" if pdata["n_undrawn"] else "")
            + "); the front is drawn "
            + ("as a step line (the boundary of what it dominates)." if pdata["dims"] == 2 else "as larger red points (drag to rotate).")
        )
        parts.append(_section("Pareto front", intro, _fig_block(fig, "fig-pareto")))
    else:
        parts.append(_section("Pareto front", "", f"<p>{len(objectives)} objectives: only 2 or 3 can be drawn.</p>"))

    if len(front) and all(c in front.columns for c in ("embodied_logic_kg", "embodied_dram_kg", "operational_kg", "total_kg")):
        bdata = D.carbon_breakdown_data(front, objectives)
        key_axis = objectives[1] if len(objectives) > 1 else D.axis("total_kg")
        fig = F.carbon_breakdown_figure(bdata, sort_label=key_axis.label)
    else:
        fig = F.empty_figure("Carbon breakdown of the Pareto designs", "no Pareto design to break down")
    parts.append(
        _section(
            "Carbon breakdown",
            "Embodied carbon of the logic die and of the DRAM, and operational carbon over the lifetime; the bars add up to total carbon.",
            _fig_block(fig, "fig-breakdown"),
        )
    )

    if len(front):
        fig = F.hardware_parallel_figure(D.hardware_parallel_data(front, objectives))
    else:
        fig = F.empty_figure("Hardware of the Pareto designs", "no Pareto design")
    parts.append(
        _section(
            "Hardware of the front",
            "One line per Pareto design across the six hardware parameters and the objectives; drag along an axis to filter.",
            _fig_block(fig, "fig-hardware"),
        )
    )

    first = int(ev["generation"].min()) if "generation" in ev.columns and len(ev) else 0
    hvd = D.hypervolume_data(run, first)
    if len(hvd) and hvd["hypervolume"].notna().any():
        fig = F.hypervolume_figure(hvd, run.get("reference_point"))
    else:
        fig = F.empty_figure("Hypervolume per generation", "the run recorded no hypervolume")
    parts.append(_section("Convergence", "Hypervolume of the feasible front after each generation.", _fig_block(fig, "fig-hypervolume")))
    return "\n".join(parts)


def write_report(results_dir: str, out_html: str | None = None) -> str:
    """Write DIR/report.html (or `out_html`) for one results folder; returns its path."""
    results = D.load_results(results_dir)
    path = out_html or os.path.join(results_dir, "report.html")
    mode = results.run.get("mode", "search")
    atomic_write_text(path, render_page(f"CATransformers {mode} results", _results_body(results)))
    return path


def _mode_summary(mode: str, results: D.Results) -> dict[str, Any]:
    run = results.run
    counts = D.summary_counts(results)
    front = D.front_of(results.evaluations, D.objectives_of(run, results.evaluations), results.pareto)
    hv = [v for v in (run.get("hypervolume") or []) if v is not None]
    row: dict[str, Any] = {
        "mode": mode,
        "objectives": ", ".join(f"{o['direction']} {o['name']}" for o in run.get("objectives", [])),
        "status": run.get("status", "unknown"),
        "evaluated": counts["evaluated"],
        "feasible": counts["feasible"],
        "pareto": len(front),
    }
    for key, how in (("accuracy", "max"), ("total_kg", "min"), ("latency_s", "min"), ("energy_lifetime_kwh", "min")):
        vals = front[key].dropna() if key in front.columns else pd.Series(dtype=float)
        row[f"{how}_{key}"] = (vals.max() if how == "max" else vals.min()) if len(vals) else float("nan")
    row["final_hypervolume"] = float(hv[-1]) if hv else float("nan")
    return row


def write_compare_report(compare_dir: str, mode_dirs: Mapping[str, str]) -> str:
    """Write COMPARE_DIR/compare.html: the modes' fronts overlaid (accuracy vs total carbon) and a per-mode table."""
    from . import figures as F

    loaded = {mode: D.load_results(d) for mode, d in mode_dirs.items()}
    fronts = {m: D.front_of(r.evaluations, D.objectives_of(r.run, r.evaluations), r.pareto) for m, r in loaded.items()}
    odata = D.compare_overlay_data(fronts)
    parts = [f"<h1>CATransformers: {len(loaded)} modes compared</h1>"]
    parts.append(
        _meta(
            [
                ("modes", ", ".join(_esc(m) for m in loaded)),
                ("results folders", "<br>".join(f"{_esc(m)}: {_esc(d)}" for m, d in mode_dirs.items())),
            ]
        )
    )
    note = _accuracy_note(pd.concat([f for f in fronts.values()], ignore_index=True) if fronts else pd.DataFrame())
    if note:
        parts.append(f"<p class=\"note\">{note}</p>")
    csv_path = os.path.join(compare_dir, "compare.csv")
    if os.path.exists(csv_path):
        summary = pd.read_csv(csv_path)
        source = "compare.csv, as the comparison wrote it"
        text_cols = [c for c in summary.columns if summary[c].dtype == object]
        cols = [_display_column(c) for c in summary.columns]
    else:
        summary = pd.DataFrame([_mode_summary(m, r) for m, r in loaded.items()])
        source = "one row per mode, computed from each mode's results folder: best values over its Pareto front"
        text_cols = ["mode", "objectives", "status"]
        cols = []
        for c in summary.columns:
            metric = c.split("_", 1)[1] if c.startswith(("max_", "min_")) else None
            if metric:
                a = D.axis(metric)
                cols.append((c, f"{c.split('_', 1)[0]} {a.label}", a.scale))
            else:
                cols.append((c, c.replace("_", " "), 1.0))
    parts.append(_section("Per-mode summary", f"From {source}.", _table(summary, cols, text_cols)))
    if odata["traces"]:
        fig = F.compare_figure(odata)
    else:
        fig = F.empty_figure("Fronts of the modes compared", "no mode has a feasible design with accuracy and carbon")
    parts.append(
        _section(
            "Fronts overlaid",
            "Each mode's own Pareto designs on accuracy vs total carbon; the line joins the ones not dominated on these two axes.",
            _fig_block(fig, "fig-compare"),
        )
    )
    path = os.path.join(compare_dir, "compare.html")
    atomic_write_text(path, render_page("CATransformers modes compared", "\n".join(parts)))
    return path


def write_sweep_report(sweep_csv: str, out_html: str, color: str = "glb_mb") -> str:
    """Write the design space of a sweep CSV (latency vs total carbon) to `out_html`; returns its path."""
    from . import figures as F

    sweep = D.load_sweep(sweep_csv)
    models = list(dict.fromkeys(sweep["model"])) if "model" in sweep.columns else []
    n_ok = int(sweep["feasible"].sum()) if "feasible" in sweep.columns else len(sweep)
    parts = [f"<h1>CATransformers sweep: {_esc(', '.join(map(str, models)) or os.path.basename(sweep_csv))}</h1>"]
    per_model = []
    for m in models:
        sub = sweep[sweep["model"] == m]
        per_model.append(f"{_esc(m)}: {len(sub)} points, {int(sub['feasible'].sum()) if 'feasible' in sub else len(sub)} feasible")
    parts.append(_meta([("source", _esc(sweep_csv)), ("points", f"{len(sweep)} ({n_ok} feasible)"), ("per model", "<br>".join(per_model) or "n/a")]))
    if "feasible" in sweep.columns and n_ok == 0:
        parts.append("<p class=\"warn\"><b>No feasible design.</b> Every hardware point breaks a limit (hover a point to see which).</p>")
    note = _accuracy_note(sweep)
    if note:
        parts.append(f"<p class=\"note\">{note}</p>")
    sdata = D.sweep_space_data(sweep, "latency_s", "total_kg", "feasible")
    if sdata["marks"]:
        best = pd.DataFrame([dict(m["row"], marked=m["name"]) for m in sdata["marks"]])
        cols = [("marked", "design", 1.0)] + [c for c in _design_columns(best)]
        parts.append(_section("Best feasible designs", "Per model, the feasible point with minimum total carbon and the one with minimum latency.", _table(best, cols, ("marked", "model"))))
    parts.append(
        _section(
            "Design space: latency vs total carbon",
            "Every hardware point, feasible (meets latency, area and TOPS limits) or not; the star marks minimum carbon, the diamond minimum latency.",
            _fig_block(F.sweep_space_figure(sdata, title="Design space by feasibility"), "fig-sweep"),
        )
    )
    if color != "feasible" and color in sweep.columns:
        cdata = D.sweep_space_data(sweep, "latency_s", "total_kg", color)
        parts.append(
            _section(
                f"Design space coloured by {color}",
                "Filled markers are feasible, open markers infeasible.",
                _fig_block(F.sweep_space_figure(cdata, title=f"Design space by {D.axis(color).label}"), "fig-sweep-color"),
            )
        )
    atomic_write_text(out_html, render_page("CATransformers sweep", "\n".join(parts)))
    return out_html


def render(target: str, out: str | None = None) -> list[str]:
    """Re-render whatever `target` is; returns the HTML paths written (what `catransformers plot` calls).

    - a sweep CSV -> `out` or the CSV's name with .html;
    - a results folder (evaluations.csv) -> DIR/report.html (or `out`);
    - a folder whose sub-folders are results folders (one per mode) -> each one's report.html and
      DIR/compare.html (which reads DIR/compare.csv if present).
    """
    if os.path.isfile(target):
        if not target.endswith(".csv"):
            raise DataError(f"plot: {target!r} is a file but not a CSV; allowed: a sweep CSV or a results folder")
        return [write_sweep_report(target, out or os.path.splitext(target)[0] + ".html")]
    if not os.path.isdir(target):
        raise DataError(f"plot: {target!r} does not exist; allowed: a results folder or a sweep CSV")
    if os.path.isfile(os.path.join(target, "evaluations.csv")):
        return [write_report(target, out)]
    compare_json = os.path.join(target, "compare.json")
    if os.path.isfile(compare_json):
        with open(compare_json, encoding="utf-8") as fh:
            modes = {m: os.path.join(target, sub) for m, sub in (json.load(fh).get("modes") or {}).items()}
    else:
        modes = {
            name: os.path.join(target, name)
            for name in sorted(os.listdir(target))
            if os.path.isfile(os.path.join(target, name, "evaluations.csv"))
        }
    if not modes:
        raise DataError(f"plot: {target!r} holds no evaluations.csv, nor sub-folders that do")
    written = [write_report(d) for d in modes.values()]
    written.append(write_compare_report(target, modes))
    return written
