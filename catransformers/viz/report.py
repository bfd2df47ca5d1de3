"""HTML reports that work offline (plotly.js once per results folder, or inline, or from the CDN), written atomically; static images."""

from __future__ import annotations

import base64
import functools
import html
import json
import os
import re
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from ..io import atomic_write_text
from ..units import MJ_PER_J, MS_PER_S, UM2_PER_MM2
from . import data as D

__all__ = [
    "PLOTLYJS_MODES",
    "IMAGE_FORMATS",
    "write_report",
    "write_compare_report",
    "write_sweep_report",
    "render",
    "render_page",
    "write_plotlyjs",
    "plotlyjs_name",
    "export_figures",
]

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
.figure{margin:8px 0 18px 0} .cards{display:flex;flex-wrap:wrap;gap:12px} .card{border:1px solid #ddd;padding:6px 10px;border-radius:4px} .card h3,h3{font-size:1em;margin:.6em 0 .3em} table.kv td{border:none;padding:1px 8px} details{margin:10px 0;font-size:.9em} pre{white-space:pre-wrap}
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


PLOTLYJS_MODES = ("directory", "inline", "cdn")


def _plotly_version() -> str:
    from plotly.offline import get_plotlyjs_version

    return get_plotlyjs_version()


def plotlyjs_name() -> str:
    """File name of the shared plotly.js bundle: versioned, so reports of two plotly versions never share a wrong one."""
    return f"plotly-{_plotly_version()}.min.js"


def write_plotlyjs(folder: str) -> str:
    """Write plotly.js into `folder` once (kept when already there, same size); returns its path."""
    from plotly.offline import get_plotlyjs

    path = os.path.join(folder, plotlyjs_name())
    js = get_plotlyjs()
    if not (os.path.isfile(path) and os.path.getsize(path) == len(js.encode("utf-8"))):
        os.makedirs(folder, exist_ok=True)
        atomic_write_text(path, js)
    return path


def _check_mode(plotlyjs: str) -> None:
    if plotlyjs not in PLOTLYJS_MODES:
        raise ConfigError(f"--plotlyjs: {plotlyjs!r}; allowed: {', '.join(PLOTLYJS_MODES)}")


def _script_tag(plotlyjs: str, out_html: str, js_dir: str | None) -> str:
    """The <script> that loads plotly.js: inline, from the CDN, or a file in `js_dir` (default: beside the page)."""
    _check_mode(plotlyjs)
    if plotlyjs == "inline":
        from plotly.offline import get_plotlyjs

        # "</script" cannot appear inside an inline script; plotly.js does not contain it, but be safe.
        js = get_plotlyjs().replace("</script", "<\\/script")
        return f"<script type=\"text/javascript\">{js}</script>"
    if plotlyjs == "cdn":
        return f"<script src=\"https://cdn.plot.ly/plotly-{_plotly_version()}.min.js\" charset=\"utf-8\"></script>"
    folder = js_dir if js_dir is not None else os.path.dirname(os.path.abspath(out_html))
    path = write_plotlyjs(folder)
    rel = os.path.relpath(path, os.path.dirname(os.path.abspath(out_html))).replace(os.sep, "/")
    return f"<script src=\"{_esc(rel)}\" charset=\"utf-8\"></script>"


_CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "svg"}}


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


# plotly.js typed arrays: numpy dtype -> the short type name of plotly's JSON encoding
_TYPED_ARRAYS = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4", "float32": "f4", "float64": "f8"}
_NOT_TYPED = ("geojson", "layer", "layers", "range")  # properties plotly.js reads as plain lists


def _typed_array(v: np.ndarray) -> Any:
    """A numeric array as plotly.js's {"dtype", "bdata"[, "shape"]}, int64 narrowed to the smallest
    integer type that holds it (plotly.js has no 64-bit integers); other arrays unchanged."""
    if v.size == 0:
        return v
    if v.dtype == np.int64 or v.dtype == np.uint64:
        lo, hi = int(v.min()), int(v.max())
        kinds = ("int8", "int16", "int32") if v.dtype == np.int64 else ("uint8", "uint16", "uint32")
        fit = [k for k in kinds if np.iinfo(k).min <= lo and hi <= np.iinfo(k).max]
        if not fit:
            return v
        v = v.astype(fit[0])
    code = _TYPED_ARRAYS.get(str(v.dtype))
    if code is None:
        return v
    out = {"dtype": code, "bdata": base64.b64encode(np.ascontiguousarray(v).tobytes()).decode("ascii")}
    if v.ndim > 1:
        out["shape"] = str(v.shape)[1:-1]
    return out


def _encode_arrays(obj: Any) -> None:
    """Numeric numpy arrays in the figure's dicts as typed arrays, in place: the encoding of
    plotly's `Figure.to_dict`, without importing plotly's validators (tested equal)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in _NOT_TYPED:
                continue
            if isinstance(value, np.ndarray):
                obj[key] = _typed_array(value)
            else:
                _encode_arrays(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            _encode_arrays(value)


def _figure_json(fig: Any) -> str:
    """The figure as JSON for plotly.js: numeric arrays as base64 typed arrays, UTF-8 text, built without deep copies."""
    from .figures import FigureSpec

    # fig.to_dict() deep-copies every array before encoding it; copy the containers only, then
    # encode numeric arrays as base64 typed arrays the way to_dict does
    if isinstance(fig, FigureSpec):
        raw = _containers(fig.to_dict())
    elif hasattr(fig, "_data") and hasattr(fig, "_layout"):
        raw = _containers({"data": fig._data, "layout": fig._layout})
    else:
        raw = fig.to_dict()
    _encode_arrays(raw)
    # plotly's own encoder escapes every "/", "<", ">" and non-ASCII character (6 bytes each; base64
    # and hover text are full of them); only "</" and "<!--" must not appear inside a <script>
    spec = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return spec.replace("</", "<\\/").replace("<!--", "\\u003c!--")


def _figure_html(fig: Any, div_id: str) -> str:
    """A div and the call that draws `fig` into it."""
    from .figures import FigureSpec

    height = (fig.height if isinstance(fig, FigureSpec) else fig.layout.height) or 480
    return (
        f"<div id=\"{_esc(div_id)}\" class=\"plotly-graph-div\" style=\"height:{int(height)}px;width:100%\"></div>"
        f"<script type=\"text/javascript\">(function(){{var f={_figure_json(fig)};"
        f"Plotly.newPlot(\"{_esc(div_id)}\",f.data,f.layout,{json.dumps(_CONFIG)});}})();</script>"
    )


def _containers(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _containers(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and obj and isinstance(obj[0], (dict, list, tuple)):
        return [_containers(v) for v in obj]
    if isinstance(obj, list):
        return list(obj)
    return obj


def render_page(title: str, body: str, out_html: str = "report.html", plotlyjs: str = "directory", js_dir: str | None = None) -> str:
    """A full HTML page: plotly.js per `plotlyjs` in <head> (offline unless "cdn"), then `body`."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{_esc(title)}</title>\n"
        f"<style>{_CSS}</style>\n{_script_tag(plotlyjs, out_html, js_dir)}\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def _meta(items: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{_esc(k)}</dt><dd>{v}</dd>" for k, v in items)
    return f"<dl class=\"meta\">{rows}</dl>"


def _cells(values: Any, scale: float = 1.0) -> list[str]:
    """A column's cells as text: numbers to 4 significant digits (integers whole), booleans yes/no, text escaped."""
    arr = np.asarray(values)
    if arr.dtype == bool:
        return ["yes" if v else "no" for v in arr]
    if arr.dtype.kind in "iuf":
        v = arr.astype(float) * scale
        out = []
        for x in v.tolist():
            if x != x:
                out.append("n/a")
            elif x.is_integer() and abs(x) < 1e9:
                out.append(str(int(x)))
            else:
                out.append(f"{x:.4g}")
        return out
    return ["n/a" if (isinstance(x, float) and x != x) else _esc(x) for x in arr.tolist()]


def _cell(value: Any, scale: float = 1.0) -> str:
    return _cells(np.asarray([value]), scale)[0]


def _table(frame: pd.DataFrame, columns: Sequence[tuple[str, str, float]], text_cols: Sequence[str] = (), title_cols: Mapping[str, str] | None = None) -> str:
    """HTML table of `frame`, built column by column; columns as (column, header, display factor)."""
    head = "".join(f"<th class=\"{'t' if c in text_cols else ''}\"{_title_attr(title_cols, c)}>{_esc(h)}</th>" for c, h, _ in columns)
    cells = []
    for c, _, scale in columns:
        cls = " class=\"t\"" if c in text_cols else ""
        cells.append([f"<td{cls}>{v}</td>" for v in _cells(frame[c].to_numpy(), scale)])
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in zip(*cells)) if cells else ""
    return f"<div class=\"tablewrap\"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _title_attr(titles: Mapping[str, str] | None, c: str) -> str:
    return f" title=\"{_esc(titles[c])}\"" if titles and c in titles else ""


def _design_columns(frame: pd.DataFrame, objectives: Sequence[D.Axis] = ()) -> list[tuple[str, str, float]]:
    """Table columns of a design table: id, ties, the model, the objectives, the other metrics, then the hardware."""
    cols: list[tuple[str, str, float]] = []
    for c, h in (("id", "id"), ("tied_ids", "same objectives as"), ("tied_differ", "ties differ in"), ("generation", "generation"), ("model", "model")):
        if c in frame.columns and (not c.startswith("tied_") or frame[c].astype(str).str.len().gt(0).any()):
            cols.append((c, h, 1.0))
    if "model_shape" in frame.columns:
        cols.append(("model_shape", "model shape", 1.0))
    elif "model_text" in frame.columns:
        cols.append(("model_text", "model (layers L, heads H, FFN / embedding blocks Fb / Eb)", 1.0))
    seen = set()
    for c in [a.name for a in objectives] + list(_TABLE_METRICS):
        if c in frame.columns and c not in seen:
            seen.add(c)
            cols.append(_display_column(c))
    if "accuracy_extrapolated" in frame.columns:
        cols.append(("accuracy_extrapolated", "accuracy extrapolated", 1.0))
    params = D.parameter_columns(frame)
    hw = [c for c in params if c in D.HARDWARE_KEYS]
    model = [c for c in params if c not in D.HARDWARE_KEYS]
    cols.extend(_display_column(c) if c in D._DISPLAY else (c, c, 1.0) for c in hw)
    if "model_shape" not in frame.columns and "model_text" not in frame.columns:
        cols.extend((c, c, 1.0) for c in model)
    return cols


def _with_model_text(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a compact model column when the run wrote no `model_shape` (older folders)."""
    if "model_shape" in frame.columns or not len(frame) or not D.model_columns(frame):
        return frame
    return frame.assign(model_text=D.model_text(frame))


def _text_columns(frame: pd.DataFrame) -> tuple[str, ...]:
    return tuple(c for c in ("model", "model_shape", "model_text", "tied_ids", "tied_differ", "accuracy_extrapolated_reason", "marked") if c in frame.columns)


def _display_column(c: str) -> tuple[str, str, float]:
    """(column, header with display unit, factor) for a known metric; the column as is otherwise."""
    if c in D._DISPLAY:
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


def _fig_block(fig: Any, div_id: str, figs: dict[str, Any] | None = None) -> str:
    if figs is not None:
        figs[div_id] = fig
    return f"<div class=\"figure\" data-figure=\"{_esc(div_id)}\">{_figure_html(fig, div_id)}</div>"


def _counts_text(c: Mapping[str, int]) -> str:
    text = f"{c['designs']:,} over {c['generations']} generation(s)"
    if c["evaluated"] != c["designs"]:
        text += f"; {c['evaluated']:,} evaluated"
    if c["prechecked_out"]:
        text += f"; {c['prechecked_out']:,} skipped by the area/TOPS pre-check"
    return text + f"; {c['failed']:,} failed; {c['feasible']:,} feasible; {c['pareto']:,} on the Pareto front"


def _extrapolation_text(c: Mapping[str, int]) -> str:
    if not c.get("has_extrapolation_flag"):
        return ""
    if not c["extrapolated"]:
        return "none: every evaluated design is inside the estimator's validated range"
    return (
        f"{c['extrapolated']:,} evaluated designs, {c['pareto_extrapolated']:,} of the {c['pareto']:,} Pareto designs, "
        "are outside the estimator's validated range (drawn as open markers)"
    )


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


# Display unit and factor by the unit a name ends in (the CSV convention: SI units in names).
_SUFFIX_UNITS: tuple[tuple[str, str, float], ...] = (
    ("_kwh", "kWh", 1.0),
    ("_j", "mJ", MJ_PER_J),
    ("_s", "ms", MS_PER_S),
    ("_um2", "mm²", 1 / UM2_PER_MM2),
    ("_mm2", "mm²", 1.0),
    ("_kg", "kg CO2e", 1.0),
)


def _suffix_unit(key: str) -> tuple[str, float, str]:
    """(display unit, factor, key without its unit suffix)."""
    for suffix, unit, scale in _SUFFIX_UNITS:
        if key.endswith(suffix) and len(key) > len(suffix):
            return unit, scale, key[: -len(suffix)]
    return "", 1.0, key


def _parts_table(parts: Mapping[str, Any], unit_key: str = "", total_key: str | None = None) -> str:
    """Rows name | value in display unit | share. The unit comes from `unit_key`'s suffix (e.g.
    energy_by_component_j: every part in mJ) or from each part's own name (carbon_kg's parts);
    the share is of `total_key`'s value, or of the sum of the parts when none is named."""
    unit, scale, _ = _suffix_unit(unit_key)
    numbers = {k: float(v) for k, v in parts.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    total = numbers.get(total_key) if total_key else sum(v for v in numbers.values() if v >= 0)
    rows = []
    for k, v in parts.items():
        if k not in numbers:
            rows.append(f"<tr><td class=\"t\">{_esc(k.replace('_', ' '))}</td><td class=\"t\">{_esc(v)}</td><td></td></tr>")
            continue
        u, f, name = (unit, scale, k) if unit else _suffix_unit(k)
        same_unit = not total_key or _suffix_unit(k)[0] == _suffix_unit(total_key)[0]
        share = f"{100 * numbers[k] / total:.1f} %" if total and same_unit and k != total_key else ""
        rows.append(f"<tr><td class=\"t\">{_esc(name.replace('_', ' '))}</td><td>{_cell(numbers[k], f)} {_esc(u)}</td><td class=\"note\">{share}</td></tr>")
    return f"<table class=\"kv\"><tbody>{''.join(rows)}</tbody></table>"


def _hardware_table(hw: Mapping[str, Any]) -> str:
    from hw_models import FIELD_UNITS

    def unit(k: str) -> str:  # a choice or a switch has no unit to print beside its value
        u = FIELD_UNITS.get(k, "")
        return "" if u == "bool" or u.startswith("one of") else u

    rows = "".join(f"<tr><td class=\"t\">{_esc(k)}</td><td>{_cell(v)} {_esc(unit(k))}</td></tr>" for k, v in hw.items())
    return f"<table class=\"kv\"><tbody>{rows}</tbody></table>"


def _mapping_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The chosen mapping of each GEMM: one row per op, latency in ms, MACs in millions."""
    frame = pd.DataFrame(list(rows))
    cols = []
    for c in frame.columns:
        if c == "latency_s":
            cols.append((c, "latency (ms)", MS_PER_S))
        elif c == "macs":
            cols.append((c, "MACs (M)", 1e-6))
        else:
            cols.append((c, c.replace("_", " "), 1.0))
    return _table(frame, cols, [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])])


_BREAKDOWN_TITLES = {
    "carbon_kg": "carbon: embodied vs operational",
    "energy_by_component_j": "energy per inference by component and memory level",
    "area_by_part_um2": "area by part",
    "latency_by_op_class_s": "latency by op class",
    "energy_by_op_class_j": "energy by op class",
    "metrics": "metrics",
    "hardware_full": "hardware (every setting)",
}


def _breakdown_html(breakdown: Mapping[str, Any]) -> str:
    cards = []
    for key, value in breakdown.items():
        title = _BREAKDOWN_TITLES.get(key, key.replace("_", " "))
        if key == "gemm_mappings" and isinstance(value, list) and value:
            continue
        if key == "metrics" and isinstance(value, Mapping):
            rows = "".join(f"<tr><td class=\"t\">{_esc(D.axis(k).label)}</td><td>{_cell(v, D.axis(k).scale)}</td></tr>" for k, v in value.items())
            body = f"<table class=\"kv\"><tbody>{rows}</tbody></table>"
        elif key == "hardware_full" and isinstance(value, Mapping):
            body = _hardware_table(value)
        elif key == "carbon_kg" and isinstance(value, Mapping):
            body = _parts_table(value, total_key="total_kg")
        elif isinstance(value, Mapping):
            body = _parts_table(value, key)
        elif value in ("", None):
            continue
        else:
            body = f"<p>{_esc(value)}</p>"
        cards.append(f"<div class=\"card\"><h3>{_esc(title)}</h3>{body}</div>")
    out = f"<div class=\"cards\">{''.join(cards)}</div>"
    maps = breakdown.get("gemm_mappings")
    if isinstance(maps, list) and maps:
        out += f"<details><summary>Mapping chosen for each of the {len(maps)} GEMMs (dataflow, orientation, partition, loop orders, utilisation)</summary>{_mapping_table(maps)}</details>"
    return out


def _recommended_html(run: Mapping[str, Any], ev: pd.DataFrame, objectives: Sequence[D.Axis]) -> str:
    """The run's recommended design and the best design of each objective (run.json `recommended`), with the breakdown."""
    rec = run.get("recommended")
    if not isinstance(rec, Mapping) or not rec:
        return ""
    entries = D._recommended_entries(rec)
    if not entries:
        return ""
    by_id = ev.drop_duplicates("id").set_index("id", drop=False) if "id" in ev.columns else None
    rows = []
    for label, entry in entries:
        if by_id is not None and entry["id"] in by_id.index:
            row = by_id.loc[entry["id"]].to_dict()
        else:  # a design not in the table (exhaustive runs keep only some rows): what run.json says
            row = {"id": entry["id"], "model_shape": entry.get("model_shape", ""), **(entry.get("hardware") or {}), **(entry.get("objectives") or {})}
        row["marked"] = label
        rows.append(row)
    frame = _with_model_text(pd.DataFrame(rows))
    cols = [("marked", "design", 1.0)] + [c for c in _design_columns(frame, objectives) if c[0] not in ("tied_ids", "tied_differ", "generation")]
    intro = []
    if rec.get("method"):
        intro.append(f"Recommended by {_esc(rec['method'])}" + (f": {_esc(rec['method_note'])}." if rec.get("method_note") else "."))
    if rec.get("tied_ids"):
        differ = ", ".join(map(str, rec.get("tied_differ_in") or []))
        intro.append(f"Design(s) {_esc(', '.join(map(str, rec['tied_ids'])))} have the same objective values" + (f" (they differ in {_esc(differ)} only)." if differ else "."))
    if rec.get("accuracy_extrapolated"):
        intro.append("<b>Its accuracy is extrapolated</b> outside the estimator's validated range.")
    parts = [_table(frame, cols, _text_columns(frame))]
    breakdown = rec.get("breakdown")
    if isinstance(breakdown, Mapping) and breakdown:
        parts.append(f"<h3>Breakdown of the recommended design {_esc(rec['id'])}</h3>{_breakdown_html(breakdown)}")
    return _section("Recommended design", " ".join(intro), "".join(parts))


def _results_body(results: D.Results, figs: dict[str, Any] | None = None) -> str:
    from . import figures as F

    run = results.run
    ev = results.evaluations
    objectives = D.objectives_of(run, ev)
    counts = D.summary_counts(results)
    status = str(run.get("status", "unknown"))
    mode = str(run.get("mode", "unknown"))
    front_all = D.front_of(ev, objectives, results.pareto)
    front = D.collapse_ties(front_all, objectives)
    sort_axis = objectives[1] if len(objectives) > 1 else objectives[0]
    front = front.sort_values(sort_axis.name, ascending=sort_axis.direction == "min", kind="stable").reset_index(drop=True)
    no_feasible = counts["feasible"] == 0 or status == "no-feasible"

    items = [
        ("mode", _esc(mode)),
        ("objectives", "; ".join(_esc(a.objective_label) for a in objectives)),
        ("constraints", "; ".join(_esc(t) for t in D.constraint_text(run.get("constraints") or {})) or "none"),
        ("designs", _esc(_counts_text(counts))),
    ]
    extra = _extrapolation_text(counts)
    if extra:
        items.append(("accuracy extrapolated", _esc(extra)))
    items.append(("status", _esc(status) + (f": {_esc(run['message'])}" if run.get("message") else "")))
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
    parts.append(_recommended_html(run, ev, objectives))
    details = {k: run[k] for k in ("spec", "versions", "timings") if k in run}
    if details:
        parts.append(f"<details><summary>run details (spec, versions, timings)</summary><pre>{_esc(json.dumps(details, indent=2, default=str))}</pre></details>")

    # Figures first (what a reader looks at), then the table of the front.
    if len(objectives) in (2, 3):
        pdata = D.pareto_front_data(ev, objectives, results.pareto, run.get("recommended") if isinstance(run.get("recommended"), Mapping) else None)
        fig = F.pareto_figure(pdata, title="Pareto front over all evaluated designs")
        ties = pdata["n_front_designs"] - pdata["front"]["n"] - pdata["front_extrapolated"]["n"]
        intro = (
            f"Every evaluated design ({pdata['feasible']['n'] + pdata['feasible_extrapolated']['n'] + pdata['n_front_designs']:,} feasible, {pdata['infeasible']['n']:,} infeasible"
            + (f"; {pdata['n_undrawn']:,} failed or not evaluated, so without values, are not drawn" if pdata["n_undrawn"] else "")
            + "). "
            + (
                "The view opens on the front (double-click the plot to see every design); the step line is the boundary of what the front dominates. "
                if pdata["dims"] == 2
                else "The front is drawn as larger red points (drag to rotate). "
            )
            + ("Open markers: accuracy extrapolated outside the estimator's validated range. " if pdata["n_extrapolated"] else "")
            + (f"{ties:,} Pareto designs share their objective values with another (one marker each; hover shows the tied ids)." if ties else "")
        )
        parts.append(_section("Pareto front", intro, _fig_block(fig, "fig-pareto", figs)))
        proj = D.projection_data(front_all, objectives) if pdata["dims"] == 3 else None
        if proj is not None:
            ax, ay, ac = proj["axes"]
            parts.append(
                _section(
                    f"Pareto front: {ay.short_label} vs {ax.short_label}",
                    f"The same front on two of its three objectives, coloured by {_esc(ac.short_label)}: the line joins the "
                    f"{proj['n_front_2d']:,} designs no other beats on both; the others on the front pay on these two axes for a better {_esc(ac.title)}.",
                    _fig_block(F.projection_figure(proj), "fig-projection", figs),
                )
            )
    else:
        parts.append(_section("Pareto front", "", f"<p>{len(objectives)} objectives: only 2 or 3 can be drawn.</p>"))

    if len(front) and all(c in front.columns for c in ("embodied_logic_kg", "embodied_dram_kg", "operational_kg", "total_kg")):
        bdata = D.carbon_breakdown_data(front, objectives)
        key_axis = objectives[1] if len(objectives) > 1 else D.axis("total_kg")
        fig = F.carbon_breakdown_figure(bdata, sort_label=key_axis.short_label)
        intro = "Embodied carbon of the logic die and of the DRAM, and operational carbon over the lifetime; the bars add up to total carbon."
        if bdata.attrs.get("binned"):
            intro += f" {len(front):,} distinct Pareto designs are too many for one bar each: each bar is the mean of a bin of designs next to each other in {_esc(key_axis.short_label)}."
    else:
        fig = F.empty_figure("Carbon breakdown of the Pareto designs", "no Pareto design to break down")
        intro = ""
    parts.append(_section("Carbon breakdown", intro, _fig_block(fig, "fig-breakdown", figs)))

    if len(front):
        variables = list((run.get("space") or {}).get("variables") or {}) or None
        pcd = D.parallel_data(front, objectives, variables)
        fig = F.parallel_figure(pcd)
        intro = "One line per distinct Pareto design across the decision variables that vary on the front (the model's, then the hardware's) and the objectives; drag along an axis to filter."
    else:
        fig = F.empty_figure("Decision variables of the Pareto designs", "no Pareto design")
        intro = ""
    parts.append(_section("Model and hardware of the front", intro, _fig_block(fig, "fig-hardware", figs)))

    first = int(ev["generation"].min()) if "generation" in ev.columns and len(ev) else 0
    hvd = D.hypervolume_data(run, first)
    if len(hvd) and hvd["hypervolume"].notna().any():
        fig = F.hypervolume_figure(hvd, run.get("reference_point"))
    else:
        fig = F.empty_figure("Hypervolume per generation", "the run recorded no hypervolume")
    parts.append(_section("Convergence", "Hypervolume of the feasible front after each generation.", _fig_block(fig, "fig-hypervolume", figs)))

    if len(front):
        spread = _spread(front, TABLE_ROWS)
        shown = _with_model_text(spread)
        table = _table(shown, _design_columns(shown, objectives), _text_columns(shown))
        tie_note = f" {len(front_all) - len(front):,} designs that tie with a listed one on every objective are folded into its row (see 'same objectives as')." if len(front_all) > len(front) else ""
        if len(spread) < len(front):
            tie_note += f" {len(spread)} of the {len(front):,} distinct designs, evenly spread along the sort order; every Pareto design is in pareto.csv."
        parts.append(_section(f"Pareto designs ({len(front_all):,})", f"Sorted by {_esc(sort_axis.short_label)}, best first, as the carbon bars; units in the headers.{tie_note}", table))
    else:
        parts.append(_section("Pareto designs", "", "<p>No design is on the front.</p>"))
    return "\n".join(p for p in parts if p)


TABLE_ROWS = 200  # a report table beyond this is a spread of the front; the CSV has every row


def _spread(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """At most `n` rows of `frame`, evenly spaced in its order (first and last kept)."""
    if len(frame) <= n:
        return frame
    return frame.iloc[np.unique(np.linspace(0, len(frame) - 1, n).round().astype(int))]


def _as_results(results: D.Results | str) -> D.Results:
    return D.load_results(results) if isinstance(results, str) else results


_Writer = TypeVar("_Writer", bound=Callable[..., Any])


def _figures_as_specs(writer: _Writer) -> _Writer:
    """A page writer whose figures are built as plain data (figures.as_specs), not plotly objects."""

    @functools.wraps(writer)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        from .figures import as_specs

        with as_specs():
            return writer(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@_figures_as_specs
def write_report(
    results: D.Results | str,
    out_html: str | None = None,
    plotlyjs: str = "directory",
    js_dir: str | None = None,
    image_format: str | None = None,
) -> str:
    """Write the report of one run (a `Results`, or a results folder read back) to `out_html` (default DIR/report.html).

    plotlyjs: "directory" (default: plotly.js written once beside the page, or into `js_dir`, and
    loaded relatively: offline, shared by the pages of a folder), "inline" or "cdn".
    image_format: also write every figure as DIR/figures/<name>.png or .svg (needs kaleido).
    """
    _check_mode(plotlyjs)
    _check_format(image_format)
    res = _as_results(results)
    if out_html is None:
        if res.path is None:
            raise DataError("report: the results have no folder; pass out_html")
        out_html = os.path.join(res.path, "report.html")
    mode = res.run.get("mode", "search")
    figs: dict[str, Any] = {}
    body = _results_body(res, figs)
    atomic_write_text(out_html, render_page(f"CATransformers {mode} results", body, out_html, plotlyjs, js_dir))
    if image_format:
        export_figures(figs, os.path.join(os.path.dirname(os.path.abspath(out_html)), "figures"), image_format)
    return out_html


IMAGE_FORMATS = ("png", "svg")


def _check_format(image_format: str | None) -> None:
    if image_format is not None and image_format not in IMAGE_FORMATS:
        raise ConfigError(f"--format: {image_format!r}; allowed: {', '.join(IMAGE_FORMATS)}")


def export_figures(figs: Mapping[str, Any], folder: str, image_format: str = "png", width: int = 1200) -> list[str]:
    """Write each figure as FOLDER/<name>.<format> with kaleido (an optional extra; it drives a Chromium on PATH)."""
    _check_format(image_format)
    try:
        import kaleido  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"--format {image_format}: static images need kaleido (pip install 'catransformers[static]') and a Chromium or Chrome on PATH"
        ) from None
    import plotly.graph_objects as go
    import plotly.io as pio

    from .figures import FigureSpec

    figs = {k: go.Figure(f.to_dict(), _validate=False) if isinstance(f, FigureSpec) else f for k, f in figs.items()}
    os.makedirs(folder, exist_ok=True)
    names = [n[len("fig-"):] if n.startswith("fig-") else n for n in figs]
    paths = [os.path.join(folder, f"{n}.{image_format}") for n in names]
    tmp = [os.path.join(folder, f".tmp-{n}.{image_format}") for n in names]
    try:
        pio.write_images(list(figs.values()), tmp, format=image_format, width=width)
    except Exception as exc:  # kaleido reports a missing browser or a crash as assorted errors
        for t in tmp:
            if os.path.exists(t):
                os.unlink(t)
        raise DataError(f"--format {image_format}: kaleido could not render the figures ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); it needs Chromium or Chrome on PATH") from None
    for t, p in zip(tmp, paths):
        os.replace(t, p)
    return paths


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
    if counts.get("has_extrapolation_flag"):
        row["pareto_extrapolated"] = counts["pareto_extrapolated"]
    for key, how in (("accuracy", "max"), ("total_kg", "min"), ("latency_s", "min"), ("energy_lifetime_kwh", "min")):
        vals = front[key].dropna() if key in front.columns else pd.Series(dtype=float)
        row[f"{how}_{key}"] = (vals.max() if how == "max" else vals.min()) if len(vals) else float("nan")
    row["final_hypervolume"] = float(hv[-1]) if hv else float("nan")
    return row


@_figures_as_specs
def write_compare_report(
    compare_dir: str,
    mode_results: Mapping[str, D.Results | str],
    plotlyjs: str = "directory",
    image_format: str | None = None,
    table: pd.DataFrame | None = None,
) -> str:
    """Write COMPARE_DIR/compare.html: the modes' fronts overlaid (accuracy vs total carbon) and a per-mode table.

    mode_results: per mode a `Results` (in memory) or its results folder. table: the comparison
    table (default: COMPARE_DIR/compare.csv when present, else one summary row per mode).
    """
    from . import figures as F

    _check_mode(plotlyjs)
    _check_format(image_format)
    loaded = {mode: _as_results(r) for mode, r in mode_results.items()}
    fronts = {m: D.front_of(r.evaluations, D.objectives_of(r.run, r.evaluations), r.pareto) for m, r in loaded.items()}
    odata = D.compare_overlay_data(fronts)
    what = "runs (mode@scenario)" if any("@" in m for m in loaded) else "modes"
    parts = [f"<h1>CATransformers: {len(loaded)} {what} compared</h1>"]
    parts.append(
        _meta(
            [
                ("modes", ", ".join(_esc(m) for m in loaded)),
                ("results folders", "<br>".join(f"{_esc(m)}: {_esc(r.path or 'in memory')}" for m, r in loaded.items())),
            ]
        )
    )
    note = _accuracy_note(pd.concat([f for f in fronts.values()], ignore_index=True) if fronts else pd.DataFrame())
    if note:
        parts.append(f"<p class=\"note\">{note}</p>")
    csv_path = os.path.join(compare_dir, "compare.csv")
    if table is None and os.path.exists(csv_path):
        table = D._read_csv(csv_path)
        source = "compare.csv, as the comparison wrote it"
    elif table is not None:
        source = "the comparison's table (also in compare.csv)"
    if table is not None:
        summary = table
        text_cols = [c for c in summary.columns if not pd.api.types.is_numeric_dtype(summary[c])]
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
    figs: dict[str, Any] = {}
    if odata["traces"]:
        fig = F.compare_figure(odata)
    else:
        fig = F.empty_figure("Fronts of the modes compared", "no mode has a feasible design with accuracy and carbon")
    parts.append(
        _section(
            "Fronts overlaid",
            "Each mode's own Pareto designs on accuracy vs total carbon; the line joins the ones not dominated on these two axes. "
            "The view opens on those lines (double-click to see every point); the carbon mode is drawn last, on top.",
            _fig_block(fig, "fig-compare", figs),
        )
    )
    parts.append(_section("Per-mode table", f"From {source}.", _table(summary, cols, text_cols)))
    path = os.path.join(compare_dir, "compare.html")
    atomic_write_text(path, render_page("CATransformers modes compared", "\n".join(parts), path, plotlyjs))
    if image_format:
        export_figures(figs, os.path.join(compare_dir, "figures"), image_format)
    return path


@_figures_as_specs
def write_sweep_report(sweep_csv: str, out_html: str, color: str = "glb_mb", plotlyjs: str = "directory", image_format: str | None = None) -> str:
    """Write the design space of a sweep CSV (latency vs total carbon) to `out_html`; returns its path."""
    from . import figures as F

    _check_mode(plotlyjs)
    _check_format(image_format)
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
    figs: dict[str, Any] = {}
    sdata = D.sweep_space_data(sweep, "latency_s", "total_kg", "feasible")
    if sdata["marks"]:
        best = _with_model_text(pd.DataFrame([dict(m["row"], marked=m["name"]) for m in sdata["marks"]]))
        cols = [("marked", "design", 1.0)] + [c for c in _design_columns(best) if c[0] != "id"]
        parts.append(_section("Best feasible designs", "Per model, the feasible point with minimum total carbon and the one with minimum latency.", _table(best, cols, _text_columns(best))))
    parts.append(
        _section(
            "Design space: latency vs total carbon",
            "Every hardware point, feasible (meets latency, area and TOPS limits) or not; the star marks minimum carbon, the diamond minimum latency.",
            _fig_block(F.sweep_space_figure(sdata, title="Design space by feasibility"), "fig-sweep", figs),
        )
    )
    if color != "feasible" and color in sweep.columns:
        cdata = D.sweep_space_data(sweep, "latency_s", "total_kg", color)
        parts.append(
            _section(
                f"Design space coloured by {color}",
                "Filled markers are feasible, open markers infeasible.",
                _fig_block(F.sweep_space_figure(cdata, title=f"Design space by {D.axis(color).label}"), "fig-sweep-color", figs),
            )
        )
    atomic_write_text(out_html, render_page("CATransformers sweep", "\n".join(parts), out_html, plotlyjs))
    if image_format:
        export_figures(figs, os.path.join(os.path.dirname(os.path.abspath(out_html)), "figures"), image_format)
    return out_html


def _compare_modes(target: str) -> dict[str, str]:
    compare_json = os.path.join(target, "compare.json")
    if os.path.isfile(compare_json):
        modes = D.read_json_object(compare_json).get("modes")
        if not isinstance(modes, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in modes.items()):
            raise DataError(f"{compare_json}: 'modes' is {modes!r}; allowed: an object of mode name -> sub-folder")
        out = {}
        for m, sub in modes.items():
            if os.path.isabs(sub) or ".." in sub.replace("\\", "/").split("/"):
                raise DataError(f"{compare_json}: mode {m!r} folder {sub!r}; allowed: a sub-folder of {target!r}")
            out[m] = os.path.join(target, sub)
        return out
    return {
        name: os.path.join(target, name)
        for name in sorted(os.listdir(target))
        if os.path.isfile(os.path.join(target, name, "evaluations.csv"))
    }


def render(target: str, out: str | None = None, plotlyjs: str = "directory", image_format: str | None = None) -> list[str]:
    """Re-render whatever `target` is, reading it back and checking it; returns the HTML paths written (what `catransformers plot` calls).

    - a sweep CSV -> `out` or the CSV's name with .html;
    - a results folder (evaluations.csv) -> DIR/report.html (or `out`);
    - a folder whose sub-folders are results folders (one per mode, compare.json naming them) ->
      each one's report.html and DIR/compare.html (which reads DIR/compare.csv if present), with
      one plotly.js in DIR for all of them.
    """
    _check_mode(plotlyjs)
    _check_format(image_format)
    if os.path.isfile(target):
        if not target.endswith(".csv"):
            raise DataError(f"plot: {target!r} is a file but not a CSV; allowed: a sweep CSV or a results folder")
        return [write_sweep_report(target, out or os.path.splitext(target)[0] + ".html", plotlyjs=plotlyjs, image_format=image_format)]
    if not os.path.isdir(target):
        raise DataError(f"plot: {target!r} does not exist; allowed: a results folder or a sweep CSV")
    if os.path.isfile(os.path.join(target, "evaluations.csv")):
        return [write_report(target, out, plotlyjs=plotlyjs, image_format=image_format)]
    modes = _compare_modes(target)
    if not modes:
        raise DataError(f"plot: {target!r} holds no evaluations.csv, nor sub-folders that do")
    loaded = {m: D.load_results(d) for m, d in modes.items()}
    written = [write_report(r, plotlyjs=plotlyjs, js_dir=target, image_format=image_format) for r in loaded.values()]
    written.append(write_compare_report(target, loaded, plotlyjs=plotlyjs, image_format=image_format))
    return written
