"""Plot data as pure functions of result tables: no plotly, no browser, no I/O except `load_*`."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from hw_models import SEARCH_KEYS

from ..errors import ConfigError, DataError

__all__ = [
    "HARDWARE_KEYS",
    "CARBON_PARTS",
    "Axis",
    "Results",
    "axis",
    "results_from",
    "load_results",
    "load_sweep",
    "objectives_of",
    "accuracy_label",
    "parameter_columns",
    "model_columns",
    "model_text",
    "extrapolated",
    "design_hover",
    "hover_text",
    "non_dominated",
    "step_line",
    "usable",
    "front_of",
    "collapse_ties",
    "pareto_front_data",
    "projection_data",
    "carbon_breakdown_data",
    "parallel_data",
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

# Hardware axis labels (short, for plots); their units come from hw_models.FIELD_UNITS.
_HW_LABELS = {
    "clusters": "clusters",
    "pe_width": "PE array width",
    "pe_depth": "PE array depth",
    "l2_sram_kb": "L2 SRAM",
    "l2_bw": "L2 bandwidth",
    "glb_mb": "global buffer",
}
_HW_UNIT_SHORT = {"count": "", "tensor core + vector core pairs": "", "MACs": "", "KiB per cluster": "KiB/cluster", "words/cycle per cluster": "words/cycle", "MiB": "MiB"}


def _display_table() -> dict[str, tuple[str, str, float]]:
    """(label, display unit, factor from the stored unit) per column: metrics from the one registry
    (catransformers.metrics), hardware keys with their units from hw_models.FIELD_UNITS."""
    from hw_models import FIELD_UNITS

    from ..metrics import METRICS

    out = {m.name: (m.label, m.display_unit, m.display_factor) for m in METRICS.values()}
    for k, label in _HW_LABELS.items():
        unit = FIELD_UNITS.get(k, "")
        out[k] = (label, _HW_UNIT_SHORT.get(unit, unit), 1.0)
    return out


_DISPLAY: dict[str, tuple[str, str, float]] = _display_table()

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
    """One run's results: every evaluation, the Pareto set and run.json (from memory or a folder)."""

    path: str | None
    evaluations: pd.DataFrame
    pareto: pd.DataFrame
    run: dict[str, Any] = field(default_factory=dict)


def results_from(result: Any, path: str | None = None) -> Results:
    """Plot input from an in-memory search result (anything with `evaluations`, `pareto`, `run`; a SearchResult)."""
    for name in ("evaluations", "pareto", "run"):
        if not hasattr(result, name):
            raise DataError(f"results: {type(result).__name__} has no {name!r}; expected a search result (evaluations, pareto, run)")
    return Results(
        path=path if path is not None else getattr(result, "out_dir", None),
        evaluations=result.evaluations,
        pareto=result.pareto,
        run=dict(result.run),
    )


_BOOL_TEXT = {"true": True, "1": True, "1.0": True, "false": False, "0": False, "0.0": False}
_TEXT_COLUMNS = frozenset({"model", "accuracy_metric", "model_shape", "accuracy_extrapolated_reason", "scenario", "mode", "status"})


def _bool_columns(frame: pd.DataFrame) -> list[str]:
    named = ("feasible", "failed", "pareto", "accuracy_extrapolated")
    return [c for c in frame.columns if c in named or c.startswith("meets_")]


def _read_csv(path: str) -> pd.DataFrame:
    """Read a results CSV back and check it: flags are booleans, metric and parameter columns numbers."""
    try:
        frame = pd.read_csv(path, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    for col in _bool_columns(frame):
        frame[col] = _as_bool(frame[col], path, col)
    for col in frame.columns:
        if col in _TEXT_COLUMNS or frame[col].dtype != object or col in _bool_columns(frame):
            continue
        if col in _METRIC_COLUMNS or col in HARDWARE_KEYS or col in ("id", "generation"):
            nums = pd.to_numeric(frame[col], errors="coerce")
            bad = frame[col][nums.isna() & frame[col].notna()]
            if len(bad):
                raise DataError(f"{path}: column {col!r} holds {bad.iloc[0]!r} (row {int(bad.index[0]) + 2}); allowed: a number")
            frame[col] = nums
    return frame


def _as_bool(series: pd.Series, path: str = "", col: str = "") -> pd.Series:
    if series.dtype == bool:
        return series
    text = series.astype(str).str.strip().str.lower()
    bad = ~text.isin(tuple(_BOOL_TEXT)) & series.notna()
    if bad.any():
        raise DataError(f"{path}: column {col!r} holds {series[bad].iloc[0]!r} (row {int(bad.idxmax()) + 2}); allowed: True or False")
    return text.map(_BOOL_TEXT).fillna(False).astype(bool)


def read_json_object(path: str) -> dict[str, Any]:
    """A JSON file written by a run (run.json, compare.json), checked to hold an object; DataError otherwise."""
    from ..io import read_json

    obj = read_json(path, os.path.basename(path))  # strict: UTF-8, no NaN/Infinity, one-line errors
    if not isinstance(obj, dict):
        raise DataError(f"{path}: holds a {type(obj).__name__}; allowed: a JSON object written by catransformers")
    return obj


def load_results(results_dir: str) -> Results:
    """Read DIR/evaluations.csv, DIR/pareto.csv (or the `pareto` flag) and DIR/run.json, and check them."""
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
    run_path = os.path.join(results_dir, "run.json")
    run = read_json_object(run_path) if os.path.exists(run_path) else {}
    objs = run.get("objectives")
    if objs is not None and not (isinstance(objs, list) and all(isinstance(o, dict) and isinstance(o.get("name"), str) for o in objs)):
        raise DataError(f"{run_path}: 'objectives' is {objs!r}; allowed: a list of {{name, direction}} objects")
    missing = [a.name for a in objectives_of(run) if a.name not in evaluations.columns]
    if missing:
        raise DataError(f"{evals_path}: objective column(s) {', '.join(missing)} missing; run.json names them as objectives")
    if "id" in evaluations.columns and len(pareto) and "id" in pareto.columns:
        unknown = sorted(set(pareto["id"].tolist()) - set(evaluations["id"].tolist()))
        if unknown and len(evaluations) >= len(pareto):
            raise DataError(f"{pareto_path}: design id(s) {', '.join(map(_fmt, unknown[:5]))} are not in evaluations.csv; the two files are from different runs")
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
        if c not in hw
        and c not in _METRIC_COLUMNS
        and c not in _META_COLUMNS
        and c not in _TEXT_COLUMNS
        and not c.startswith(("meets_", "accuracy_extrapolated", "scenario_", "tied_"))
        and pd.api.types.is_numeric_dtype(frame[c])
    ]
    return hw + rest


def model_columns(frame: pd.DataFrame) -> list[str]:
    """The pruning variables of `frame` (parameters that are not hardware keys)."""
    return [c for c in parameter_columns(frame) if c not in HARDWARE_KEYS]


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


_MODEL_LETTERS = {"layers": "L", "heads": "H", "ffn_blocks": "Fb", "emb_blocks": "Eb"}


def model_text(frame: pd.DataFrame) -> list[str]:
    """The model of each row: the run's `model_shape` column, else its pruning variables compactly.

    Without `model_shape` (folders from older runs), `<tower>_<variable>` columns become e.g.
    `vision 9L/6H/6Fb/7Eb` (layers, heads, FFN blocks, embedding blocks), other ones `name=value`.
    """
    if "model_shape" in frame.columns:
        return frame["model_shape"].fillna("n/a").astype(str).tolist()
    cols = model_columns(frame)
    if not cols:
        return frame["model"].astype(str).tolist() if "model" in frame.columns else [""] * len(frame)
    towers: dict[str, list[tuple[str, str]]] = {}
    loose = []
    for c in cols:
        tower, _, var = c.partition("_")
        if var in _MODEL_LETTERS:
            towers.setdefault(tower, []).append((c, _MODEL_LETTERS[var]))
        else:
            loose.append(c)
    text = {c: _column_text(frame[c]) for c in cols}
    pieces = []
    for tower, items in towers.items():
        joined = (tower + " ") + text[items[0][0]] + items[0][1]
        for c, letter in items[1:]:
            joined = joined + "/" + text[c] + letter
        pieces.append(joined)
    for c in loose:
        pieces.append(c + "=" + text[c])
    out = pieces[0]
    for p in pieces[1:]:
        out = out + " | " + p
    return out.tolist()


def _column_text(col: pd.Series) -> pd.Series:
    """A column as text, vectorised: whole numbers without a decimal point, others to 4 significant digits."""
    vals = pd.to_numeric(col, errors="coerce")
    if vals.notna().all() and np.all(np.mod(vals.to_numpy(dtype=float), 1) == 0):
        return vals.astype(np.int64).astype(str)
    return col.map(_fmt).astype(str)


def extrapolated(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose accuracy is an extrapolation outside the estimator's validated range (False without the column)."""
    if "accuracy_extrapolated" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame["accuracy_extrapolated"].fillna(False).astype(bool).to_numpy()


def _status_text(frame: pd.DataFrame, skip_infeasible: bool = False, skip_extrapolated: bool = False) -> list[str]:
    """Per row, what the hover adds after the model: broken limits, extrapolation, ties (empty when nothing)."""
    n = len(frame)
    extra: dict[int, list[str]] = {}  # only the rows with something to say
    if "feasible" in frame.columns and not skip_infeasible:
        meets = [c for c in frame.columns if c.startswith("meets_")]
        flags = {c: frame[c].to_numpy(dtype=bool) for c in meets}
        for i in np.flatnonzero(~frame["feasible"].to_numpy(dtype=bool)):
            broken = [axis(c[len("meets_"):]).title for c in meets if not flags[c][i]]
            extra.setdefault(i, []).append("infeasible: " + (", ".join(broken) + " over the limit" if broken else "failed"))
    flag = extrapolated(frame)
    if flag.any() and not skip_extrapolated:
        reasons = frame["accuracy_extrapolated_reason"].fillna("").astype(str).to_numpy() if "accuracy_extrapolated_reason" in frame.columns else None
        for i in np.flatnonzero(flag):
            extra.setdefault(i, []).append("accuracy extrapolated" + (f": {reasons[i]}" if reasons is not None and reasons[i] else ""))
    if "tied_n" in frame.columns:
        tied, ids, differ = frame["tied_n"].to_numpy(), frame["tied_ids"].to_numpy(), frame["tied_differ"].to_numpy()
        for i in np.flatnonzero(tied > 1):
            extra.setdefault(i, []).append(f"same objectives as design(s) {ids[i]}" + (f" (they differ in {differ[i]} only)" if differ[i] else ""))
    out = [""] * n
    for i, e in extra.items():
        out[i] = "<br>".join(e)
    return out


_HOVER_METRICS = ("total_kg", "latency_s", "energy_j", "area_mm2", "accuracy")


def design_hover(
    frame: pd.DataFrame, axes: Sequence[Axis] = (), prefix: str = "", plotted: Sequence[Axis] = (), light: bool = False,
    status: str = "",
) -> dict[str, Any]:
    """Compact hover for many points: one template per trace, the numbers as float32 `customdata`, the text per row.

    Returns {"template", "customdata" (n x k float32), "text" (model and status per row)}: a
    hover string per point would be ten times the bytes for a search's ten thousand designs.
    plotted: the axes drawn as x, y(, z), read from the point itself (%{x}) rather than stored
    twice. light: for the clouds behind a front, only the objectives, latency, hardware and model.
    status: one line for every row of the trace (e.g. which limit its designs break), in the
    template instead of per row.
    """
    skip_infeasible = bool(status)
    shown = [a for a in axes if a.name in frame.columns]
    for name in _HOVER_METRICS if not light else ("latency_s",):
        if name in frame.columns and all(a.name != name for a in shown):
            shown.append(axis(name))
    coord = {a.name: k for a, k in zip(plotted, "xyz")}
    cols: list[np.ndarray] = []
    lines: list[str] = []
    head = []
    if "id" in frame.columns:
        cols.append(frame["id"].to_numpy(dtype=float))
        head.append(f"<b>design %{{customdata[{len(cols) - 1}]:d}}</b>")
    if "generation" in frame.columns and not light:
        cols.append(frame["generation"].to_numpy(dtype=float))
        head.append(f"generation %{{customdata[{len(cols) - 1}]:d}}")
    if "model" in frame.columns and frame["model"].nunique() == 1:
        head.append(_esc_template(str(frame["model"].iloc[0])))
    lines.append(prefix + " · ".join(head))
    if status:
        lines.append(_esc_template(status))
    for a in shown:
        unit = f" {a.unit}" if a.unit and a.unit != "fraction" else ""
        if a.name in coord:
            field = f"%{{{coord[a.name]}:.4~g}}"
        else:
            cols.append(pd.to_numeric(frame[a.name], errors="coerce").to_numpy(dtype=float) * a.scale)
            field = f"%{{customdata[{len(cols) - 1}]:.4~g}}"
        lines.append(f"{_DISPLAY.get(a.name, (a.name,))[0]}: {field}{unit}")
    hw, hw_label = hardware_text(frame)
    if hw is not None:
        lines.append(f"hardware ({hw_label}): %{{hovertext}}")
    model = model_text(frame)
    legend = ""
    if light:  # ten thousand rows: "vision 9L/..." as "V 9L/..." (the legend once, in the template)
        model, legend = _short_towers(model)
    lines.append(f"model{legend}: %{{text}}")
    # the clouds say "accuracy extrapolated" once per trace (its name and status), not per row
    notes = _status_text(frame, skip_infeasible=skip_infeasible, skip_extrapolated=light)
    text = [m + ("<br>" + s if s else "") for m, s in zip(model, notes)] if any(notes) else model
    data = np.column_stack(cols).astype(np.float32) if cols and len(frame) else np.zeros((len(frame), len(cols)), dtype=np.float32)
    return {"template": "<br>".join(lines) + "<extra></extra>", "customdata": data, "text": text, "hovertext": hw}


_TOWER = re.compile(r"(?:^|\| )([A-Za-z][\w-]*) \d+L/")


_SHAPE = re.compile(r"[A-Za-z][\w-]* \d+L/\d+H/\d+F/\d+E( \| [A-Za-z][\w-]* \d+L/\d+H/\d+F/\d+E)*")


def _short_towers(texts: list[str]) -> tuple[list[str], str]:
    """Model shapes with each tower's name cut to its initial and the L/H/F/E letters dropped,
    when every row is a shape (`vision 9L/6H/2304F/672E | text ...`) and the initials tell the
    towers apart. Plain string replacements on the joined text: ten thousand rows in milliseconds."""
    if not texts or not all(_SHAPE.fullmatch(t) for t in texts):
        return texts, ""
    towers = list(dict.fromkeys(m.group(1) for t in texts[:50] for m in _TOWER.finditer(t)))
    initials = [t[0].upper() for t in towers]
    if not towers or len(set(initials)) != len(initials):
        return texts, ""
    joined = "\n" + "\n".join(texts) + "\n"
    for t, i in zip(towers, initials):
        joined = joined.replace(f"\n{t} ", f"\n{i} ").replace(f"| {t} ", f"| {i} ")
    for letter in ("L/", "H/", "F/"):
        joined = joined.replace(letter, "/")
    joined = joined.replace("E |", " |").replace("E\n", "\n")
    towers_text = ", ".join(f"{i} {t}" for t, i in zip(towers, initials))
    return joined[1:-1].split("\n"), f" ({towers_text}: layers/heads/FFN width/embedding width)"


_HW_FORMAT = (("clusters", "{}"), ("pe_width", "×{}"), ("pe_depth", "×{}"), ("l2_sram_kb", " | {}"), ("l2_bw", ", {}"), ("glb_mb", " | {}"))


def hardware_text(frame: pd.DataFrame) -> tuple[list[str] | None, str]:
    """Each row's hardware compactly, and what the parts are: ('1×32×4 | 64, 128 | 2', 'clusters × PE width × depth | L2 SRAM KiB, ...').

    Units go in the label, once per trace, not in every row's text (ten thousand rows a report)."""
    hw = [k for k in HARDWARE_KEYS if k in frame.columns]
    if not hw:
        return None, ""
    if set(hw) >= {k for k, _ in _HW_FORMAT}:
        out = None
        for k, fmt in _HW_FORMAT:
            pre, post = fmt.split("{}")
            part = pre + _column_text(frame[k]) + post
            out = part if out is None else out + part
        extra = [k for k in hw if k not in dict(_HW_FORMAT)]
        for k in extra:
            out = out + f" | {k}=" + _column_text(frame[k])
        return out.tolist(), "clusters × PE width × depth | L2 SRAM KiB, L2 port words/cycle | global buffer MiB" + "".join(f" | {k}" for k in extra)
    out = None
    for k in hw:
        part = f"{k}=" + _column_text(frame[k])
        out = part if out is None else out + " " + part
    return out.tolist(), ", ".join(hw)


def _esc_template(text: str) -> str:
    # plotly reads %{...} in a hovertemplate as a field; a literal one must not appear
    return text.replace("%{", "% {")


def hover_text(frame: pd.DataFrame, axes: Sequence[Axis] = ()) -> list[str]:
    """Full hover strings, one per row, for the few points drawn one by one (marks, bins, small tables)."""
    if len(frame) == 0:
        return []
    h = design_hover(frame, axes)
    template = h["template"].replace("<extra></extra>", "")
    out = []
    fields = re.compile(r"%\{customdata\[(\d+)\](?::([^}]*))?\}")
    hw = h["hovertext"] or [""] * len(h["text"])
    for row, text, hwt in zip(h["customdata"], h["text"], hw):
        def sub(m: "re.Match[str]", row: np.ndarray = row) -> str:
            v = float(row[int(m.group(1))])
            return "n/a" if math.isnan(v) else (str(int(v)) if m.group(2) == "d" else f"{v:.4g}")

        out.append(fields.sub(sub, template).replace("%{text}", text).replace("%{hovertext}", hwt))
    return out


def usable(frame: pd.DataFrame, axes: Sequence[Axis]) -> pd.Series:
    """Rows that can be plotted on `axes`: not failed and every axis value finite."""
    ok = pd.Series(True, index=frame.index)
    if "failed" in frame.columns:
        ok &= ~frame["failed"].astype(bool)
    for a in axes:
        ok &= np.isfinite(pd.to_numeric(frame[a.name], errors="coerce").to_numpy(dtype=float))
    return ok


def _minimised(frame: pd.DataFrame, axes: Sequence[Axis]) -> np.ndarray:
    if not len(frame):
        return np.zeros((0, len(axes)))
    return np.column_stack([a.values(frame) * (-1.0 if a.direction == "max" else 1.0) for a in axes])


def non_dominated(frame: pd.DataFrame, axes: Sequence[Axis]) -> pd.Series:
    """Boolean mask of rows no other row dominates; identical rows do not knock each other out."""
    from ..pareto import non_dominated as nd

    return pd.Series(nd(_minimised(frame, axes)), index=frame.index)


def front_of(evaluations: pd.DataFrame, axes: Sequence[Axis], pareto: pd.DataFrame | None = None) -> pd.DataFrame:
    """The front: `pareto` if given and non-empty, else rows flagged `pareto`, else computed from feasible rows."""
    if pareto is not None and len(pareto):
        front = pareto
    elif "pareto" in evaluations.columns:
        front = evaluations[evaluations["pareto"].astype(bool)]
    else:
        cand = evaluations[usable(evaluations, axes)]
        if "feasible" in cand.columns:
            cand = cand[cand["feasible"].astype(bool)]
        front = cand[non_dominated(cand, axes)] if len(cand) else cand
    front = front[usable(front, axes)]
    if "feasible" in front.columns:
        front = front[front["feasible"].astype(bool)]
    return front.reset_index(drop=True)


def collapse_ties(front: pd.DataFrame, axes: Sequence[Axis]) -> pd.DataFrame:
    """One row per distinct objective vector (the lowest id), with `tied_n`, `tied_ids` (the others) and `tied_differ`.

    Designs that differ only in a parameter with no effect on the objectives (e.g. an L2
    bandwidth the chosen mapping never saturates) have identical objectives; listing them as
    separate rows and markers makes identical rows. `tied_differ` names the parameters that
    vary among the tied designs.
    """
    if not len(front):
        return front.assign(tied_n=pd.Series(dtype=int), tied_ids=pd.Series(dtype=str), tied_differ=pd.Series(dtype=str))
    vals = _minimised(front, axes)
    scale = np.max(np.abs(vals), axis=0)
    # equal to 12 significant digits: the same cost computed along two paths may differ in the last bit
    key = pd.DataFrame(np.round(vals / np.where(scale > 0, scale, 1.0), 12))
    order = np.argsort(front["id"].to_numpy(), kind="stable") if "id" in front.columns else np.arange(len(front))
    f = front.iloc[order].reset_index(drop=True)
    key = key.iloc[order].reset_index(drop=True)
    group = key.groupby(list(key.columns), sort=False).ngroup().to_numpy()
    params = parameter_columns(f)
    first = ~pd.Series(group).duplicated().to_numpy()
    rep = f[first].copy()
    sizes = np.bincount(group)
    rep["tied_n"] = sizes[group[first]]
    ids = f["id"].to_numpy() if "id" in f.columns else np.arange(len(f))
    tied_ids = [""] * len(rep)
    differ = [""] * len(rep)
    multi = np.flatnonzero(sizes > 1)
    if len(multi):
        in_multi = np.isin(group, multi)
        sub = f[in_multi]
        g = group[in_multi]
        values = sub[params].to_numpy(dtype=float) if params else np.zeros((len(sub), 0))
        pos = {int(x): i for i, x in enumerate(group[first])}
        rows_of = np.flatnonzero(in_multi)
        order_g = np.argsort(g, kind="stable")
        starts = np.flatnonzero(np.r_[True, g[order_g][1:] != g[order_g][:-1]])
        for a, b in zip(starts, np.r_[starts[1:], len(order_g)]):
            members = order_g[a:b]
            gid = int(g[members[0]])
            rows = rows_of[members]
            others = rows[1:]  # the first (lowest id) is the row kept
            tied_ids[pos[gid]] = ", ".join(_fmt(ids[i]) for i in others[:8]) + (f" and {len(others) - 8} more" if len(others) > 8 else "")
            v = values[members]
            varies = np.flatnonzero(np.any(v != v[0], axis=0))
            differ[pos[gid]] = ", ".join(f"{params[j]} {'/'.join(_fmt(x) for x in sorted(set(v[:, j].tolist())))}" for j in varies)
    rep["tied_ids"] = tied_ids
    rep["tied_differ"] = differ
    return rep.reset_index(drop=True)


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


def _points(frame: pd.DataFrame, axes: Sequence[Axis], prefix: str = "", light: bool = False, status: str = "", plotted: Sequence[Axis] | None = None) -> dict[str, Any]:
    # float32 for the clouds (half the bytes; 7 digits are more than a screen shows), float64 for the front
    out: dict[str, Any] = {k: a.values(frame).astype(np.float32) if light else a.values(frame) for k, a in zip("xyz", axes)}
    out["ids"] = frame["id"].tolist() if "id" in frame.columns else list(range(len(frame)))
    out["hover"] = design_hover(frame, axes, prefix, plotted=axes if plotted is None else plotted, light=light, status=status)
    out["n"] = len(frame)
    return out


def _padded(values: np.ndarray, log: bool, pad: float = 0.06) -> list[float] | None:
    v = values[np.isfinite(values)]
    if log:
        v = v[v > 0]
    if not len(v):
        return None
    lo, hi = (np.log10(v.min()), np.log10(v.max())) if log else (float(v.min()), float(v.max()))
    span = hi - lo
    if span <= 0:
        span = abs(hi) * 0.05 if hi else 1.0
    return [float(lo - pad * span), float(hi + pad * span)]


def pareto_front_data(
    evaluations: pd.DataFrame, objectives: Sequence[Axis], pareto: pd.DataFrame | None = None, recommended: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Every evaluated point split by feasibility (and extrapolated accuracy), and the front; 2-D with a step line or 3-D.

    Returns {"dims", "axes" (x, y[, z] as Axis), "feasible", "feasible_extrapolated", "infeasible",
    "front", "front_extrapolated" (point dicts with x, y[, z], ids, hover, n), "step" (2-D only),
    "range" (per axis: the front's range, padded, where the view opens; None to fit all),
    "n_front_designs" (before ties are collapsed), "n_undrawn" (failed or never evaluated: no
    values), "n_total", "log" (per axis: whether the values spread enough for a log scale),
    "marks" (the recommended design and per-objective minima, when the run names them)}.
    Front designs are not drawn again in the clouds behind them.
    """
    if len(objectives) not in (2, 3):
        raise ConfigError(f"pareto front: {len(objectives)} objectives; allowed: 2 or 3 (drawn in 2-D or 3-D)")
    axes = _plot_order(objectives)
    ok = usable(evaluations, axes)
    plotted = evaluations[ok]
    front_all = front_of(evaluations, axes, pareto)
    if "id" in plotted.columns and "id" in front_all.columns:
        plotted = plotted[~plotted["id"].isin(front_all["id"])]
    feas = plotted["feasible"].astype(bool).to_numpy() if "feasible" in plotted.columns else np.ones(len(plotted), dtype=bool)
    extra = extrapolated(plotted)
    front = collapse_ties(front_all, axes)
    front = front.iloc[np.argsort(axes[0].values(front), kind="stable")].reset_index(drop=True)
    fx = extrapolated(front)
    log = tuple(_wide(a.values(evaluations[ok])) for a in axes)
    data: dict[str, Any] = {
        "dims": len(axes),
        "axes": axes,
        "feasible": _points(plotted[feas & ~extra], axes, light=True),
        "feasible_extrapolated": _extrapolated_cloud(plotted[feas & extra], axes),
        "infeasible": _infeasible_groups(plotted[~feas], axes),
        # a front of thousands (3 objectives) gets the light hover of the clouds
        "front": _points(front[~fx], axes, "<b>Pareto</b> · ", light=len(front) > 1000),
        "front_extrapolated": _points(front[fx], axes, "<b>Pareto</b> · ", light=len(front) > 1000),
        "n_front_designs": len(front_all),
        "n_front_extrapolated": int(extrapolated(front_all).sum()),
        "n_extrapolated": int(extrapolated(evaluations[ok]).sum()),
        "n_undrawn": int((~ok).sum()),
        "n_total": len(evaluations),
        "log": log,
        "range": tuple(_padded(a.values(front), lg) if len(front) else None for a, lg in zip(axes, log)),
        "marks": _marks(evaluations, axes, recommended),
    }
    if len(axes) == 2:
        data["step"] = step_line(axes[0].values(front), axes[1].values(front), axes[0].direction)
    return data


def projection_data(front: pd.DataFrame, objectives: Sequence[Axis], x: str = "total_kg", y: str = "accuracy") -> dict[str, Any] | None:
    """A 3-objective front on two of its objectives (default total carbon and accuracy), the third as colour.

    None unless there are three objectives and `x`, `y` are two of them. The step line joins the
    designs not dominated on the two axes; the view opens on it.
    """
    names = [a.name for a in objectives]
    if len(objectives) != 3 or x not in names or y not in names or x == y:
        return None
    ax, ay = objectives[names.index(x)], objectives[names.index(y)]
    ac = next(a for a in objectives if a.name not in (x, y))
    front = collapse_ties(front_of(front, objectives), objectives)
    front = front.iloc[np.argsort(ax.values(front), kind="stable")].reset_index(drop=True)
    nd = non_dominated(front, (ax, ay)).to_numpy()
    fx = extrapolated(front)
    out: dict[str, Any] = {"axes": (ax, ay, ac), "log": (False, False, _wide(ac.values(front)))}
    for key, part in (("front", front[~fx]), ("front_extrapolated", front[fx])):
        pts = _points(part, (ax, ay, ac), light=True, plotted=(ax, ay))
        pts["c"] = pts.pop("z")
        out[key] = pts
    out["step"] = step_line(ax.values(front[nd]), ay.values(front[nd]), ax.direction)
    out["range"] = (_padded(np.asarray(out["step"]["x"]), False), _padded(np.asarray(out["step"]["y"]), False))
    out["n_front_2d"] = int(nd.sum())
    return out


def _extrapolated_cloud(frame: pd.DataFrame, axes: Sequence[Axis]) -> dict[str, Any]:
    return _points(frame, axes, light=True, status="feasible; accuracy extrapolated outside the estimator's validated range")


def broken_limits(frame: pd.DataFrame) -> list[str]:
    """Per row, the limits it breaks, e.g. 'latency over the limit' ('' when it meets them all)."""
    meets = [c for c in frame.columns if c.startswith("meets_")]
    if not meets or not len(frame):
        return [""] * len(frame)
    titles = [axis(c[len("meets_"):]).title for c in meets]
    flags = np.column_stack([frame[c].to_numpy(dtype=bool) for c in meets])
    out = []
    for row in flags:
        broken = [t for t, ok in zip(titles, row) if not ok]
        out.append(", ".join(broken) + " over the limit" if broken else "")
    return out


def _infeasible_groups(frame: pd.DataFrame, axes: Sequence[Axis]) -> dict[str, Any]:
    """Infeasible points in one group per combination of broken limits (the reason goes in the group's hover once)."""
    reasons = pd.Series(broken_limits(frame), index=frame.index).replace("", "breaks a limit")
    groups = []
    for reason, idx in reasons.groupby(reasons, sort=False).groups.items():
        sub = frame.loc[idx]
        pts = _points(sub, axes, light=True, status=f"infeasible: {reason}")
        groups.append({"reason": reason, "points": pts})
    groups.sort(key=lambda g: -g["points"]["n"])
    return {"n": len(frame), "groups": groups}


def _marks(evaluations: pd.DataFrame, axes: Sequence[Axis], recommended: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Markers for the designs run.json's `recommended` names (by id), when they are in the table."""
    if not recommended or "id" not in evaluations.columns:
        return []
    out = []
    by_id = evaluations.set_index("id", drop=False)
    for name, entry in _recommended_entries(recommended):
        i = entry.get("id")
        if i is None or i not in by_id.index:
            continue
        row = by_id.loc[[i]].iloc[[0]]
        out.append({"name": name, "id": i, **{k: a.values(row).tolist() for k, a in zip("xyz", axes)}, "hover": hover_text(row, axes)})
    return out


def _recommended_entries(recommended: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(label, design) pairs of a run's `recommended` block: the recommended design first, then the best of each objective."""
    out: list[tuple[str, Mapping[str, Any]]] = []
    if "id" in recommended:
        out.append(("recommended", recommended))
    best = recommended.get("best_by_objective")
    if isinstance(best, Mapping):
        for name, entry in best.items():
            if isinstance(entry, Mapping) and "id" in entry:
                out.append((f"best {axis(str(name)).title}", entry))
    return out


def carbon_breakdown_data(front: pd.DataFrame, objectives: Sequence[Axis], max_bars: int = 80) -> pd.DataFrame:
    """Carbon parts of the front designs, summing to total_kg: one bar per design, or binned beyond `max_bars`.

    Sorted by the second objective, best first (ascending when minimised). Up to `max_bars`
    designs each get a bar labelled `#id`; more are split into `max_bars` bins of equal count
    along the sort key, each bar the mean of its designs (so still adding up to their mean
    total), labelled with its range; `n` is the number of designs per bar.
    """
    need = ("embodied_logic_kg", "embodied_dram_kg", "operational_kg", "total_kg")
    missing = [c for c in need if c not in front.columns]
    if missing:
        raise DataError(f"carbon breakdown: column(s) {', '.join(missing)} missing")
    by = objectives[1] if len(objectives) > 1 else axis("total_kg")
    key = by.name
    frame = front.sort_values([key, "total_kg"], ascending=[by.direction == "min", True], kind="stable").reset_index(drop=True)
    parts = pd.DataFrame(
        {
            "sort_key": frame[key].to_numpy(dtype=float),
            "embodied_logic_kg": frame["embodied_logic_kg"].to_numpy(dtype=float),
            "embodied_dram_kg": frame["embodied_dram_kg"].to_numpy(dtype=float),
        }
    )
    if "embodied_kg" in frame.columns:
        other = frame["embodied_kg"].to_numpy(dtype=float) - parts["embodied_logic_kg"] - parts["embodied_dram_kg"]
    else:
        other = np.zeros(len(frame))
    parts["embodied_other_kg"] = np.where(np.abs(other) > 1e-12, other, 0.0)
    parts["operational_kg"] = frame["operational_kg"].to_numpy(dtype=float)
    parts["total_kg"] = frame["total_kg"].to_numpy(dtype=float)
    # Whatever the parts miss (rounding in the CSV, an unlisted part) goes to "other", so bars reach total_kg.
    residual = parts["total_kg"] - parts[[c for c, _ in CARBON_PARTS]].sum(axis=1)
    parts["embodied_other_kg"] += np.where(np.abs(residual) > 1e-9 * np.maximum(1.0, parts["total_kg"].abs()), residual, 0.0)
    n = len(frame)
    if n <= max_bars:
        out = parts.copy()
        out.insert(0, "design", [f"#{_fmt(i)}" for i in (frame["id"] if "id" in frame.columns else frame.index)])
        out["n"] = 1
        out["hover"] = hover_text(frame, objectives)
        out.attrs.update(sort_key=key, binned=False, n_designs=n)
        return out
    bins = np.array_split(np.arange(n), max_bars)
    rows = []
    for b in bins:
        sub = parts.iloc[b]
        lo, hi = sub["sort_key"].iloc[0] * by.scale, sub["sort_key"].iloc[-1] * by.scale
        label = f"{lo:.4g}–{hi:.4g}" if f"{lo:.4g}" != f"{hi:.4g}" else f"{lo:.4g}"
        row = {"design": label, **sub.mean().to_dict(), "n": len(b)}
        ids = frame["id"].iloc[b] if "id" in frame.columns else pd.Series(b)
        row["hover"] = (
            f"{len(b)} Pareto designs, {by.short_label} {label}<br>mean per design: total {row['total_kg']:.4g} kg CO2e"
            f"<br>designs {', '.join(_fmt(i) for i in ids.iloc[:6])}" + (" …" if len(b) > 6 else "")
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(sort_key=key, binned=True, n_designs=n)
    return out


def parallel_data(front: pd.DataFrame, objectives: Sequence[Axis], variables: Sequence[str] | None = None, max_lines: int = 1000) -> dict[str, Any]:
    """Parallel-coordinate dimensions over every decision variable that varies on the front, then the objectives.

    `variables`: the run's decision variables in order (run.json `space.variables`); default: the
    parameter columns (hardware keys, then pruning variables). Variables with one value on the
    front are not drawn (a flat axis says nothing) but listed in `constant` with that value.
    Colour by the minimised carbon objective when there is one, else the last objective. More
    than `max_lines` designs (thousands of lines are one blur) are thinned to that many, evenly
    spaced in `front`'s order; `n` counts them all, `n_drawn` the lines.
    """
    n_all = len(front)
    if n_all > max_lines:
        front = front.iloc[np.unique(np.linspace(0, n_all - 1, max_lines).round().astype(int))]
    names = [v for v in (variables or parameter_columns(front)) if v in front.columns]
    hw = [v for v in names if v in HARDWARE_KEYS]
    names = [v for v in names if v not in HARDWARE_KEYS] + hw  # model first, then hardware, then objectives
    dims = []
    constant = {}
    for key in names:
        vals = front[key].to_numpy(dtype=float)
        levels = sorted(set(vals[np.isfinite(vals)].tolist()))
        if len(levels) <= 1:
            if levels:
                constant[key] = levels[0]
            continue
        dims.append({"name": key, "label": _short(key), "values": vals.tolist(), "tickvals": levels, "group": "hardware" if key in HARDWARE_KEYS else "model"})
    for a in objectives:
        dims.append({"name": a.name, "label": f"{a.short_label} {'↑' if a.direction == 'max' else '↓'}", "values": a.values(front).tolist(), "tickvals": None, "group": "objective"})
    colour = objectives[-1] if objectives else None
    for a in objectives:
        if a.name.endswith("_kg"):
            colour = a
    return {
        "dimensions": dims,
        "constant": constant,
        "color": colour.values(front).tolist() if colour is not None else [],
        "color_label": colour.label if colour is not None else "",
        "n": n_all,
        "n_drawn": len(front),
    }


def hardware_parallel_data(front: pd.DataFrame, objectives: Sequence[Axis]) -> dict[str, Any]:
    """Parallel coordinates over the hardware keys only (see `parallel_data` for every decision variable)."""
    return parallel_data(front, objectives, [k for k in HARDWARE_KEYS if k in front.columns])


def _short(name: str) -> str:
    """An axis label short enough for a parallel axis: 'text layers', 'L2 SRAM (KB)'."""
    if name in _DISPLAY:
        title, unit, _ = _DISPLAY[name]
        return f"{title} ({unit})" if unit else title
    return name.replace("_blocks", " blocks").replace("_", " ")


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
                "hover": design_hover(part, (ax, ay), plotted=(ax, ay), light=True),
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
        nd = non_dominated(pts, (ax, ay)).to_numpy()
        traces.append(
            {
                "mode": mode,
                # float32 for the big fronts: half the bytes, and 7 digits are more than a screen shows
                "x": ax.values(pts).astype(np.float32) if len(pts) > 300 else ax.values(pts),
                "y": ay.values(pts).astype(np.float32) if len(pts) > 300 else ay.values(pts),
                "hover": design_hover(pts, (ax, ay), f"<b>{mode}</b> · ", plotted=(ax, ay), light=len(pts) > 300),
                "step": step_line(ax.values(pts[nd]), ay.values(pts[nd]), "min"),
                "n": len(pts),
                "n_front_2d": int(nd.sum()),
                "n_extrapolated": int(extrapolated(pts).sum()),
            }
        )
    # Big fronts first, the carbon mode last: on top, its front is never hidden under another's cloud.
    traces.sort(key=lambda t: (t["mode"].split("@")[0] == "carbon", -t["n"]))
    steps = [t["step"] for t in traces]
    rng = None
    if steps:
        xs = np.concatenate([np.asarray(s["x"]) for s in steps])
        ys = np.concatenate([np.asarray(s["y"]) for s in steps])
        rng = (_padded(xs, False), _padded(ys, False))
    return {"axes": (ax, ay), "traces": traces, "skipped": skipped, "range": rng}


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
        "extrapolated": int(counts.get("accuracy_extrapolated", extrapolated(ev[~ev["failed"].astype(bool)] if "failed" in ev.columns else ev).sum())),
        "pareto_extrapolated": int(counts.get("accuracy_extrapolated_pareto", extrapolated(results.pareto).sum())),
        "has_extrapolation_flag": int("accuracy_extrapolated" in ev.columns or "accuracy_extrapolated" in counts),
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
