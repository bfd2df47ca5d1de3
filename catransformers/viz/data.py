"""Plot data as pure functions of result tables: no plotly, no browser, no I/O except `load_*`."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from hw_models import SEARCH_KEYS

from ..errors import ConfigError, DataError
from ..units import MJ_PER_J, MS_PER_S, PER_BILLION, PER_MILLION, UM2_PER_MM2

__all__ = [
    "HARDWARE_KEYS",
    "CARBON_PARTS",
    "Axis",
    "Results",
    "axis",
    "load_results",
    "load_sweep",
    "objectives_of",
    "accuracy_label",
    "parameter_columns",
    "hover_text",
    "non_dominated",
    "step_line",
    "usable",
    "front_of",
    "pareto_front_data",
    "carbon_breakdown_data",
    "hardware_parallel_data",
    "hypervolume_data",
    "sweep_space_data",
    "compare_overlay_data",
    "summary_counts",
    "constraint_text",
]

HARDWARE_KEYS: tuple[str, ...] = tuple(SEARCH_KEYS)

# Carbon components drawn as stacked bars; `embodied_other_kg` appears only when
# embodied_kg is more than logic + DRAM, so that the bars always add up to total_kg.
CARBON_PARTS: tuple[tuple[str, str], ...] = (
    ("embodied_logic_kg", "embodied, logic"),
    ("embodied_dram_kg", "embodied, DRAM"),
    ("embodied_other_kg", "embodied, other"),
    ("operational_kg", "operational"),
)

# Display name, display unit and the factor from the column's unit (in its name) to the display unit.
_DISPLAY: dict[str, tuple[str, str, float]] = {
    "accuracy": ("accuracy", "fraction", 1.0),
    "total_kg": ("total carbon", "kg CO2e", 1.0),
    "embodied_kg": ("embodied carbon", "kg CO2e", 1.0),
    "embodied_logic_kg": ("embodied carbon, logic", "kg CO2e", 1.0),
    "embodied_dram_kg": ("embodied carbon, DRAM", "kg CO2e", 1.0),
    "operational_kg": ("operational carbon", "kg CO2e", 1.0),
    "latency_s": ("latency", "ms", MS_PER_S),
    "energy_j": ("energy per inference", "mJ", MJ_PER_J),
    "energy_lifetime_kwh": ("lifetime energy", "kWh", 1.0),
    "area_mm2": ("area", "mm²", 1.0),
    "area_um2": ("area", "mm²", 1 / UM2_PER_MM2),
    "tops": ("peak throughput", "TOPS", 1.0),
    "macs": ("MACs per inference", "GMAC", PER_BILLION),
    "params": ("parameters", "M", PER_MILLION),
    "clusters": ("clusters", "", 1.0),
    "pe_width": ("PE array width", "", 1.0),
    "pe_depth": ("PE array depth", "", 1.0),
    "l2_sram_kb": ("L2 SRAM", "KB", 1.0),
    "l2_bw": ("L2 bandwidth", "", 1.0),
    "glb_mb": ("global buffer", "MB", 1.0),
}

_METRIC_COLUMNS = frozenset(_DISPLAY) - set(HARDWARE_KEYS)
_META_COLUMNS = frozenset({"id", "generation", "model", "accuracy_metric", "feasible", "failed", "pareto"})


@dataclass(frozen=True)
class Axis:
    """One plotted quantity: the column, its title with unit, the display factor and its direction."""

    name: str
    title: str
    unit: str
    scale: float
    direction: str = "min"  # "min" or "max" (objectives); "min" for plain metrics

    @property
    def label(self) -> str:
        if not self.unit:
            return self.title
        return f"{self.title}, {self.unit}" if self.title.endswith(")") else f"{self.title} ({self.unit})"

    @property
    def short_label(self) -> str:
        """Label for cramped places (3-D scenes, parallel axes): the accuracy metric shortened to 'estimate'."""
        name, unit, _ = _DISPLAY.get(self.name, (self.title, self.unit, 1.0))
        if self.name == "accuracy" and "estimate" in self.title:
            name = "accuracy, estimate"
        return f"{name} ({unit})" if unit else name

    @property
    def objective_label(self) -> str:
        arrow = "maximised ↑" if self.direction == "max" else "minimised ↓"
        return f"{self.label}, {arrow}"

    def values(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.name].to_numpy(dtype=float) * self.scale


def axis(name: str, direction: str = "min", accuracy_metric: str | None = None) -> Axis:
    """The display axis of column `name`; accuracy carries its metric label (estimate or measured)."""
    title, unit, scale = _DISPLAY.get(name, (name.replace("_", " "), "", 1.0))
    if name == "accuracy" and accuracy_metric:
        title = f"accuracy: {accuracy_metric}"
    return Axis(name=name, title=title, unit=unit, scale=scale, direction=direction)


@dataclass(frozen=True)
class Results:
    """One results folder: every evaluation, the Pareto set and run.json."""

    path: str
    evaluations: pd.DataFrame
    pareto: pd.DataFrame
    run: dict[str, Any] = field(default_factory=dict)


def _read_csv(path: str) -> pd.DataFrame:
    import io as _io

    from ..io import read_text

    text = read_text(path, "results CSV")
    try:
        frame = pd.read_csv(_io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataError(f"{path}: not a CSV this tool wrote ({' '.join(str(exc).split())})") from None
    for col in ("feasible", "failed", "pareto") + tuple(c for c in frame.columns if c.startswith("meets_")):
        if col in frame.columns:
            frame[col] = _as_bool(frame[col])
    return frame


def _as_bool(series: pd.Series) -> pd.Series:
    if series.dtype == bool:
        return series
    text = series.astype(str).str.strip().str.lower()
    return text.isin(("true", "1", "1.0", "yes"))


def load_results(results_dir: str) -> Results:
    """Read DIR/evaluations.csv, DIR/pareto.csv (or the `pareto` flag) and DIR/run.json."""
    evals_path = os.path.join(results_dir, "evaluations.csv")
    if not os.path.isfile(evals_path):
        raise DataError(f"results folder {results_dir!r}: evaluations.csv is missing; expected a folder written by a search run")
    evaluations = _read_csv(evals_path)
    pareto_path = os.path.join(results_dir, "pareto.csv")
    if os.path.exists(pareto_path):
        pareto = _read_csv(pareto_path)
    elif "pareto" in evaluations.columns:
        pareto = evaluations[evaluations["pareto"]].reset_index(drop=True)
    else:
        pareto = evaluations.iloc[0:0]
    run: dict[str, Any] = {}
    run_path = os.path.join(results_dir, "run.json")
    if os.path.exists(run_path):
        from ..io import read_json

        run = read_json(run_path, "run.json")
        if not isinstance(run, dict) or not isinstance(run.get("objectives", []), list) or not all(
            isinstance(o, dict) and isinstance(o.get("name"), str) for o in run.get("objectives", [])
        ):
            raise DataError(f"{run_path}: not a run.json this tool wrote (an object whose objectives are a list of {{name, direction}})")
    missing = [a.name for a in objectives_of(run) if a.name not in evaluations.columns]
    if missing:
        raise DataError(f"{evals_path}: objective column(s) {', '.join(missing)} missing; run.json names them as objectives")
    return Results(path=results_dir, evaluations=evaluations, pareto=pareto, run=run)


def load_sweep(sweep_csv: str) -> pd.DataFrame:
    """Read a sweep CSV written by `catransformers sweep --out`."""
    frame = _read_csv(sweep_csv)
    missing = [c for c in ("latency_s", "total_kg") if c not in frame.columns]
    if missing:
        raise DataError(f"{sweep_csv}: column(s) {', '.join(missing)} missing; expected a CSV from `catransformers sweep --out` with a carbon scenario")
    for col in ("latency_s", "total_kg", "area_mm2", "energy_j", "accuracy"):
        if col in frame.columns and not pd.api.types.is_numeric_dtype(frame[col]):
            raise DataError(f"{sweep_csv}: column {col} holds text; expected numbers, as `catransformers sweep --out` writes")
        if col in frame.columns and not np.isfinite(frame[col].dropna().to_numpy(dtype=float)).all():
            raise DataError(f"{sweep_csv}: column {col} holds inf; expected finite numbers")
    return frame


def accuracy_label(frame: pd.DataFrame) -> str | None:
    """The accuracy metric label(s) in `frame`, e.g. 'avg over 41 tasks (estimate, clip-scaling v1)'."""
    if "accuracy_metric" not in frame.columns:
        return None
    labels = sorted({str(v) for v in frame["accuracy_metric"].dropna() if str(v).strip()})
    return "; ".join(labels) or None


def objectives_of(run: Mapping[str, Any], frame: pd.DataFrame | None = None) -> list[Axis]:
    """The run's objectives as display axes (accuracy labelled with its metric, estimate or not)."""
    acc_label = accuracy_label(frame) if frame is not None else None
    out = []
    for obj in run.get("objectives") or [{"name": "accuracy", "direction": "max"}, {"name": "total_kg", "direction": "min"}]:
        name = obj["name"]
        direction = obj.get("direction", "min")
        if direction not in ("min", "max"):
            raise DataError(f"objective {name!r}: direction {direction!r}; allowed: 'min', 'max'")
        out.append(axis(name, direction, acc_label))
    return out


def parameter_columns(frame: pd.DataFrame) -> list[str]:
    """Design parameters: the hardware keys, then the remaining non-metric columns (pruning variables)."""
    hw = [k for k in HARDWARE_KEYS if k in frame.columns]
    rest = [
        c
        for c in frame.columns
        if c not in hw and c not in _METRIC_COLUMNS and c not in _META_COLUMNS and not c.startswith("meets_")
    ]
    return hw + rest


def _fmt(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "n/a"
        if float(value).is_integer() and abs(value) < 1e9:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def hover_text(frame: pd.DataFrame, axes: Sequence[Axis] = ()) -> list[str]:
    """One hover string per row: id, the plotted values with units, feasibility, then every parameter.

    Built column by column (one pass over each column's values), not row by row: a search
    folder holds ten thousand rows and more."""
    n = len(frame)
    if n == 0:
        return []
    params = parameter_columns(frame)
    shown = [a for a in axes if a.name in frame.columns]
    for name in ("total_kg", "latency_s", "energy_j", "area_mm2", "tops", "accuracy"):
        if name in frame.columns and all(a.name != name for a in shown):
            shown.append(axis(name))
    cols = {c: frame[c].to_numpy() for c in frame.columns}
    lines: list[list[str]] = []  # one list per line of the hover, each of n strings
    head_parts = []
    if "id" in cols:
        head_parts.append([f"design {_fmt(v)}" for v in cols["id"]])
    if "model" in cols:
        head_parts.append([str(v) for v in cols["model"]])
    if "generation" in cols:
        head_parts.append([f"generation {_fmt(v)}" for v in cols["generation"]])
    if head_parts:
        lines.append([" · ".join(parts) for parts in zip(*head_parts)])
    for a in shown:
        label = _DISPLAY.get(a.name, (a.name,))[0]
        unit = f" {a.unit}" if a.unit and a.unit != "fraction" else ""
        values = pd.to_numeric(frame[a.name], errors="coerce").to_numpy(dtype=float) * a.scale
        lines.append([f"{label}: n/a" if np.isnan(v) else f"{label}: {v:.4g}{unit}" for v in values])
    if "feasible" in cols:
        meets = [c for c in frame.columns if c.startswith("meets_")]
        broken = [", ".join(f"{c[len('meets_'):]} over limit" for c in meets if not bool(cols[c][i])) or "breaks a limit" for i in range(n)]
        lines.append(["feasible" if bool(ok) else "infeasible: " + b for ok, b in zip(cols["feasible"], broken)])
    hw = [k for k in params if k in HARDWARE_KEYS]
    other = [k for k in params if k not in HARDWARE_KEYS]
    if hw:
        lines.append(["hardware: " + " ".join(parts) for parts in zip(*([f"{k}={_fmt(v)}" for v in cols[k]] for k in hw))])
    for i in range(0, len(other), 4):
        group = other[i : i + 4]
        prefix = "model: " if i == 0 else ""
        lines.append([prefix + " ".join(parts) for parts in zip(*([f"{k}={_fmt(v)}" for v in cols[k]] for k in group))])
    return ["<br>".join(parts) for parts in zip(*lines)]


def usable(frame: pd.DataFrame, axes: Sequence[Axis]) -> pd.Series:
    """Rows that can be plotted on `axes`: not failed and every axis value finite."""
    ok = pd.Series(True, index=frame.index)
    if "failed" in frame.columns:
        ok &= ~frame["failed"].astype(bool)
    for a in axes:
        ok &= np.isfinite(frame[a.name].to_numpy(dtype=float))
    return ok


def non_dominated(frame: pd.DataFrame, axes: Sequence[Axis]) -> pd.Series:
    """Boolean mask of rows no other row dominates; identical rows do not knock each other out."""
    vals = np.column_stack([a.values(frame) * (-1.0 if a.direction == "max" else 1.0) for a in axes]) if len(frame) else np.zeros((0, len(axes)))
    n = len(vals)
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        le = np.all(vals <= vals[i], axis=1)
        lt = np.any(vals < vals[i], axis=1)
        mask[i] = not np.any(le & lt)
    return pd.Series(mask, index=frame.index)


def front_of(evaluations: pd.DataFrame, axes: Sequence[Axis], pareto: pd.DataFrame | None = None) -> pd.DataFrame:
    """The front: `pareto` if given and non-empty, else rows flagged `pareto`, else computed from feasible rows."""
    if pareto is not None and len(pareto):
        front = pareto
    elif "pareto" in evaluations.columns:
        front = evaluations[evaluations["pareto"]]
    else:
        cand = evaluations[usable(evaluations, axes)]
        if "feasible" in cand.columns:
            cand = cand[cand["feasible"]]
        front = cand[non_dominated(cand, axes)] if len(cand) else cand
    front = front[usable(front, axes)]
    if "feasible" in front.columns:
        front = front[front["feasible"]]
    return front.reset_index(drop=True)


def step_line(x: np.ndarray, y: np.ndarray, x_direction: str = "min") -> dict[str, list[float]]:
    """Staircase through a 2-D front: the boundary of the region its points dominate.

    Points are sorted by x. When x is minimised the line goes across then up/down (each point
    dominates everything to its right); when x is maximised, up/down then across.
    """
    order = np.argsort(np.asarray(x, dtype=float), kind="stable")
    xs, ys = np.asarray(x, dtype=float)[order], np.asarray(y, dtype=float)[order]
    px: list[float] = []
    py: list[float] = []
    for i in range(len(xs)):
        px.append(float(xs[i]))
        py.append(float(ys[i]))
        if i + 1 < len(xs):
            if x_direction == "min":
                px.append(float(xs[i + 1]))
                py.append(float(ys[i]))
            else:
                px.append(float(xs[i]))
                py.append(float(ys[i + 1]))
    return {"x": px, "y": py}


def _plot_order(axes: Sequence[Axis]) -> list[Axis]:
    # Minimised objectives on x (and y), maximised ones last (y in 2-D, z in 3-D): accuracy goes up.
    return [a for a in axes if a.direction == "min"] + [a for a in axes if a.direction == "max"]


def _points(frame: pd.DataFrame, axes: Sequence[Axis]) -> dict[str, Any]:
    out: dict[str, Any] = {k: a.values(frame).tolist() for k, a in zip("xyz", axes)}
    out["ids"] = frame["id"].tolist() if "id" in frame.columns else list(range(len(frame)))
    out["hover"] = hover_text(frame, axes)
    out["n"] = len(frame)
    return out


def pareto_front_data(
    evaluations: pd.DataFrame, objectives: Sequence[Axis], pareto: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Every evaluated point split by feasibility, and the front; 2-D with a step line or 3-D.

    Returns {"dims", "axes" (x, y[, z] as Axis), "feasible", "infeasible", "front" (point dicts
    with x, y[, z], ids, hover, n), "step" (2-D only), "n_undrawn" (failed or never evaluated:
    no values), "n_total", "log" (per axis: whether the values spread enough for a log scale)}.
    """
    if len(objectives) not in (2, 3):
        raise ConfigError(f"pareto front: {len(objectives)} objectives; allowed: 2 or 3 (drawn in 2-D or 3-D)")
    axes = _plot_order(objectives)
    ok = usable(evaluations, axes)
    plotted = evaluations[ok]
    feas = plotted["feasible"].astype(bool) if "feasible" in plotted.columns else pd.Series(True, index=plotted.index)
    front = front_of(evaluations, axes, pareto)
    front = front.iloc[np.argsort(axes[0].values(front), kind="stable")].reset_index(drop=True)
    data: dict[str, Any] = {
        "dims": len(axes),
        "axes": axes,
        "feasible": _points(plotted[feas], axes),
        "infeasible": _points(plotted[~feas], axes),
        "front": _points(front, axes),
        "n_undrawn": int((~ok).sum()),
        "n_total": len(evaluations),
        "log": tuple(_wide(a.values(plotted)) for a in axes),
    }
    if len(axes) == 2:
        data["step"] = step_line(axes[0].values(front), axes[1].values(front), axes[0].direction)
    return data


def carbon_breakdown_data(front: pd.DataFrame, objectives: Sequence[Axis]) -> pd.DataFrame:
    """Per front design: embodied logic, embodied DRAM (other embodied if any) and operational kg, summing to total_kg.

    Sorted by the second objective, best first (ascending when minimised); `design` is the bar label.
    """
    need = ("embodied_logic_kg", "embodied_dram_kg", "operational_kg", "total_kg")
    missing = [c for c in need if c not in front.columns]
    if missing:
        raise DataError(f"carbon breakdown: column(s) {', '.join(missing)} missing")
    by = objectives[1] if len(objectives) > 1 else axis("total_kg")
    key = by.name
    frame = front.sort_values([key, "total_kg"], ascending=[by.direction == "min", True], kind="stable").reset_index(drop=True)
    out = pd.DataFrame(
        {
            "design": [f"#{_fmt(i)}" for i in (frame["id"] if "id" in frame.columns else frame.index)],
            "sort_key": frame[key].to_numpy(dtype=float),
            "embodied_logic_kg": frame["embodied_logic_kg"].to_numpy(dtype=float),
            "embodied_dram_kg": frame["embodied_dram_kg"].to_numpy(dtype=float),
        }
    )
    if "embodied_kg" in frame.columns:
        other = frame["embodied_kg"].to_numpy(dtype=float) - out["embodied_logic_kg"] - out["embodied_dram_kg"]
    else:
        other = np.zeros(len(frame))
    out["embodied_other_kg"] = np.where(np.abs(other) > 1e-12, other, 0.0)
    out["operational_kg"] = frame["operational_kg"].to_numpy(dtype=float)
    out["total_kg"] = frame["total_kg"].to_numpy(dtype=float)
    # Whatever the parts miss (rounding in the CSV, an unlisted part) goes to "other", so bars reach total_kg.
    residual = out["total_kg"] - out[[c for c, _ in CARBON_PARTS]].sum(axis=1)
    out["embodied_other_kg"] += np.where(np.abs(residual) > 1e-9 * np.maximum(1.0, out["total_kg"].abs()), residual, 0.0)
    out.attrs["sort_key"] = key
    out["hover"] = hover_text(frame, objectives)
    return out


def hardware_parallel_data(front: pd.DataFrame, objectives: Sequence[Axis]) -> dict[str, Any]:
    """Parallel-coordinate dimensions: the six hardware keys, then the objectives; colour by the last objective."""
    dims = []
    for key in HARDWARE_KEYS:
        if key not in front.columns:
            continue
        vals = front[key].to_numpy(dtype=float)
        levels = sorted(set(vals.tolist()))
        dims.append({"name": key, "label": axis(key).label, "values": vals.tolist(), "tickvals": levels})
    for a in objectives:
        dims.append({"name": a.name, "label": f"{a.short_label} {'↑' if a.direction == 'max' else '↓'}", "values": a.values(front).tolist(), "tickvals": None})
    colour = objectives[-1] if objectives else None
    for a in objectives:  # colour by a minimised carbon objective when there is one
        if a.name.endswith("_kg"):
            colour = a
    return {
        "dimensions": dims,
        "color": colour.values(front).tolist() if colour is not None else [],
        "color_label": colour.label if colour is not None else "",
        "n": len(front),
    }


def hypervolume_data(run: Mapping[str, Any], first_generation: int = 0) -> pd.DataFrame:
    """Hypervolume per generation, numbered from `first_generation` (as evaluations.csv numbers them); empty when none."""
    hv = [float("nan") if v is None else float(v) for v in (run.get("hypervolume") or [])]
    return pd.DataFrame({"generation": np.arange(len(hv), dtype=int) + int(first_generation), "hypervolume": hv})


def sweep_space_data(
    sweep: pd.DataFrame, x: str = "latency_s", y: str = "total_kg", color: str = "feasible"
) -> dict[str, Any]:
    """A sweep's design space: groups by feasibility (and model), or one group coloured by a column; best designs marked.

    Returns {"axes", "log" (x, y: whether a log axis suits the spread), "color", "groups": [{"name", "feasible", "x", "y", "hover", "color"?}], "marks":
    [{"name", "x", "y", "hover", "model"}]}: per model, the feasible design with minimum total carbon and
    the one with minimum latency.
    """
    for col in (x, y) + (() if color == "feasible" else (color,)):
        if col not in sweep.columns:
            raise ConfigError(f"sweep plot: column {col!r} is not in the sweep table; allowed: {', '.join(map(str, sweep.columns))}")
    ax, ay = axis(x), axis(y)
    frame = sweep[usable(sweep, (ax, ay))]
    feas = frame["feasible"].astype(bool) if "feasible" in frame.columns else pd.Series(True, index=frame.index)
    models = list(dict.fromkeys(frame["model"])) if "model" in frame.columns else [None]
    groups = []
    marks = []
    for model in models:
        sub = frame if model is None else frame[frame["model"] == model]
        sub_feas = feas.loc[sub.index]
        prefix = f"{model}: " if model is not None and len(models) > 1 else ""
        if color == "feasible":
            parts = [(True, "feasible"), (False, "infeasible")]
        else:
            parts = [(None, "designs")]
        for flag, label in parts:
            part = sub if flag is None else sub[sub_feas == flag]
            group = {
                "name": prefix + label,
                "feasible": flag,
                "x": ax.values(part).tolist(),
                "y": ay.values(part).tolist(),
                "hover": hover_text(part, (ax, ay)),
                "n": len(part),
            }
            if flag is None:
                group["color"] = part[color].to_numpy(dtype=float).tolist()
                group["feasible_mask"] = sub_feas.loc[part.index].tolist()
            groups.append(group)
        ok = sub[sub_feas]
        for key, label in (("total_kg", "minimum carbon"), ("latency_s", "minimum latency")):
            if len(ok) and key in ok.columns:
                row = ok.loc[[ok[key].idxmin()]]
                marks.append(
                    {
                        "name": prefix + label,
                        "key": key,
                        "model": model,
                        "x": float(ax.values(row)[0]),
                        "y": float(ay.values(row)[0]),
                        "hover": hover_text(row, (ax, ay))[0],
                        "row": row.iloc[0].to_dict(),
                    }
                )
    return {
        "axes": (ax, ay),
        "log": (_wide(ax.values(frame)), _wide(ay.values(frame))),
        "color": color,
        "color_axis": None if color == "feasible" else axis(color),
        "groups": groups,
        "marks": marks,
    }


def _wide(values: np.ndarray, ratio: float = 30.0) -> bool:
    # A log axis when positive values span more than `ratio`x: sweeps reach from ms to seconds.
    v = values[np.isfinite(values)]
    return bool(len(v) and v.min() > 0 and v.max() / v.min() > ratio)


def compare_overlay_data(
    fronts: Mapping[str, pd.DataFrame], x: str = "total_kg", y: str = "accuracy"
) -> dict[str, Any]:
    """Several modes' fronts on one pair of axes (default accuracy vs total carbon), one trace per mode.

    Each mode's points are its own front; the step line is their non-dominated subset in these two
    axes (x minimised, y maximised). Modes without finite values on both axes are listed in `skipped`.
    """
    acc = None
    for frame in fronts.values():
        acc = acc or accuracy_label(frame)
    ax = axis(x, "min", acc)
    ay = axis(y, "max" if y == "accuracy" else "min", acc)
    traces = []
    skipped = []
    for mode, frame in fronts.items():
        if x not in frame.columns or y not in frame.columns:
            skipped.append(mode)
            continue
        pts = frame[usable(frame, (ax, ay))]
        if "feasible" in pts.columns:
            pts = pts[pts["feasible"].astype(bool)]
        if not len(pts):
            skipped.append(mode)
            continue
        pts = pts.iloc[np.argsort(ax.values(pts), kind="stable")]
        nd = pts[non_dominated(pts, (ax, ay))]
        traces.append(
            {
                "mode": mode,
                "x": ax.values(pts).tolist(),
                "y": ay.values(pts).tolist(),
                "hover": [f"mode {mode}<br>" + h for h in hover_text(pts, (ax, ay))],
                "step": step_line(ax.values(nd), ay.values(nd), "min"),
                "n": len(pts),
            }
        )
    return {"axes": (ax, ay), "traces": traces, "skipped": skipped}


def summary_counts(results: Results) -> dict[str, int]:
    """Design counts of a results folder: rows, evaluated, pre-checked out, failed, feasible, Pareto, generations.

    run.json's `counts` win where present (the search knows which rows it skipped); else from the table.
    """
    ev = results.evaluations
    counts = dict(results.run.get("counts") or {})
    failed = int(ev["failed"].astype(bool).sum()) if "failed" in ev.columns else 0
    feasible = int(ev["feasible"].astype(bool).sum()) if "feasible" in ev.columns else len(ev)
    if "generations_run" in results.run:
        gens = int(results.run["generations_run"])
    else:
        gens = int(ev["generation"].nunique()) if "generation" in ev.columns else 0
    out = {
        "designs": int(counts.get("designs", len(ev))),
        "evaluated": int(counts.get("evaluated", len(ev))),
        "prechecked_out": int(counts.get("prechecked_out", 0)),
        "failed": int(counts.get("failed", failed)),
        "feasible": int(counts.get("feasible", feasible)),
        "pareto": len(results.pareto),
        "generations": gens,
    }
    return out


def constraint_text(constraints: Mapping[str, Any]) -> list[str]:
    """Constraints in display units, e.g. 'latency ≤ 50 ms'."""
    out = []
    for name, limit in (constraints or {}).items():
        if limit is None:
            continue
        a = axis(name)
        unit = f" {a.unit}" if a.unit else ""
        out.append(f"{a.title} ≤ {float(limit) * a.scale:.4g}{unit}")
    return out
