"""Plotly rendering of the plot data in `viz.data`; imported only when a figure is drawn."""

from __future__ import annotations

import contextlib
import contextvars
import json
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .data import CARBON_PARTS

__all__ = [
    "pareto_figure",
    "carbon_breakdown_figure",
    "parallel_figure",
    "hardware_parallel_figure",
    "hypervolume_figure",
    "projection_figure",
    "sweep_space_figure",
    "compare_figure",
    "empty_figure",
    "FigureSpec",
    "as_specs",
]

FEASIBLE = "#4a90c8"
INFEASIBLE = "#bdbdbd"
FRONT = "#d62728"
FRONT_EDGE = "#67000d"
STEP = "#b2182b"
MARK_COLOURS = ("#ffbf00", "#2ca02c", "#9467bd", "#17becf")
MARK_SYMBOLS = ("star", "triangle-up", "triangle-down", "square")
PARTS_COLOURS = {
    "embodied_logic_kg": "#4c72b0",
    "embodied_dram_kg": "#8172b3",
    "embodied_other_kg": "#937860",
    "operational_kg": "#dd8452",
}
MODE_COLOURS = {"carbon": "#d62728", "latency": "#1f77b4", "energy": "#2ca02c", "all": "#9467bd", "all-hw": "#ff7f0e", "model-only": "#8c564b"}
OTHER_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")  # tab10
_HOVER = "%{hovertext}<extra></extra>"
_TEMPLATE: dict[str, Any] = {}


def _template() -> dict[str, Any]:
    # plotly_white resolved once: figures are built unvalidated (validation was most of a report's build time)
    if not _TEMPLATE:
        from importlib.resources import files

        # its layout part only: the per-trace-type defaults are most of its bytes and of its copying.
        # Read from plotly's own template file (what plotly.io.templates loads, tested equal),
        # which spares building plotly's Template object and importing its validators.
        text = (files("plotly") / "package_data" / "templates" / "plotly_white.json").read_text(encoding="utf-8")
        _TEMPLATE["layout"] = json.loads(text)["layout"]
    return _TEMPLATE


_AS_SPECS = contextvars.ContextVar("catransformers_figures_as_specs", default=False)


@contextlib.contextmanager
def as_specs() -> Iterator[None]:
    """Within the block the figure functions return `FigureSpec`s (plain data) instead of plotly
    Figures: what a report serialises, without building plotly's objects (a fifth of its build time)."""
    token = _AS_SPECS.set(True)
    try:
        yield
    finally:
        _AS_SPECS.reset(token)


class FigureSpec:
    """A figure as plotly.js reads it, {"data": [traces], "layout": {...}}, with the few methods of
    `plotly.graph_objects.Figure` this module's functions call, and their meaning: `a_b=` is the
    nested property a.b; a dict updates the property's dict in place, anything else replaces
    it, None removes it; x and y axis updates go to the one cartesian `xaxis`/`yaxis`. The same
    functions give the same JSON either way (tests/catransformers/test_viz.py)."""

    def __init__(self, traces: list[dict[str, Any]], layout: dict[str, Any]) -> None:
        self.data = list(traces)
        self.layout_dict = layout

    @property
    def height(self) -> Any:
        return self.layout_dict.get("height")

    def update_layout(self, props: Mapping[str, Any] | None = None, **kw: Any) -> "FigureSpec":
        _update(self.layout_dict, {**(props or {}), **kw})
        return self

    def update_xaxes(self, **kw: Any) -> "FigureSpec":
        _update(self.layout_dict.setdefault("xaxis", {}), kw)
        return self

    def update_yaxes(self, **kw: Any) -> "FigureSpec":
        _update(self.layout_dict.setdefault("yaxis", {}), kw)
        return self

    def add_annotation(self, **kw: Any) -> "FigureSpec":
        note: dict[str, Any] = {}
        _update(note, kw)
        self.layout_dict.setdefault("annotations", []).append(note)
        return self

    def add_hline(self, y: float, **kw: Any) -> "FigureSpec":
        shape: dict[str, Any] = {"type": "line", "x0": 0, "x1": 1, "y0": y, "y1": y, "xref": "x domain", "yref": "y"}
        _update(shape, kw)
        self.layout_dict.setdefault("shapes", []).append(shape)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"data": self.data, "layout": self.layout_dict}


def _update(target: dict[str, Any], props: Mapping[str, Any]) -> None:
    for key, value in props.items():
        *path, last = key.split("_")
        node = target
        for part in path:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(last, None)
        elif isinstance(value, Mapping) and isinstance(node.get(last), dict):
            _update(node[last], value)
        elif isinstance(value, Mapping):
            node[last] = {}
            _update(node[last], value)
        else:
            node[last] = value


def _figure(traces: list[dict[str, Any]] | None = None) -> Any:
    """A figure from trace dicts ({"type": ...}), without plotly's per-property validation: a
    plotly Figure, or within `as_specs()` a FigureSpec."""
    if _AS_SPECS.get():
        return FigureSpec(traces or [], {"template": _template()})
    return go.Figure({"data": traces or [], "layout": {"template": _template()}}, _validate=False)


def _layout(fig: go.Figure, title: str, height: int = 480, legend_rows: int = 1) -> go.Figure:
    # Legend below the plot, title top left, the toolbar (modebar) top right: none of the three overlap.
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "y": 0.98, "yanchor": "top"},
        height=height,
        margin={"l": 80, "r": 40, "t": 56, "b": 80 + 22 * legend_rows},
        legend={"orientation": "h", "yanchor": "top", "y": -0.14 - 0.02 * legend_rows, "xanchor": "left", "x": 0.0, "itemsizing": "constant"},
        hoverlabel={"align": "left"},
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def _points_trace(pts: Mapping[str, Any], name: str, marker: Mapping[str, Any], dims: int = 2, **kw: Any) -> dict[str, Any]:
    """One marker trace with the compact hover of `viz.data.design_hover`."""
    h = pts["hover"]
    trace = dict(
        type="scatter3d" if dims == 3 else "scatter", mode="markers", name=name, x=pts["x"], y=pts["y"], marker=dict(marker),
        customdata=h["customdata"], text=h["text"], hovertemplate=h["template"], **kw,
    )
    if h.get("hovertext") is not None:
        trace["hovertext"] = h["hovertext"]
    if dims == 3:
        trace["z"] = pts["z"]
    return trace


def empty_figure(title: str, message: str) -> go.Figure:
    """A figure that says why there is nothing to draw."""
    fig = _figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 15})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig = _layout(fig, title, height=260)
    fig.update_layout(margin={"b": 30})
    return fig


def _front_name(data: Mapping[str, Any]) -> str:
    n_points = data["front"]["n"] + data["front_extrapolated"]["n"]
    n_designs = data["n_front_designs"]
    if n_points == n_designs:
        return f"Pareto front ({n_designs})"
    return f"Pareto front ({n_designs} designs, {n_points} distinct points)"


def pareto_figure(data: Mapping[str, Any], title: str = "Pareto front") -> go.Figure:
    """Evaluated points behind (feasible / infeasible / extrapolated accuracy), the front on top, the view on the front.

    2-D: step line and markers; the axes open on the front's range (double-click shows every
    design). 3-D: the front as larger red points.
    """
    axes = data["axes"]
    dims = data["dims"]
    traces: list[dict[str, Any]] = []
    small = 4 if dims == 2 else 2.5
    symbols = ("circle", "x-thin-open", "triangle-up-open", "square-open", "diamond-open")
    for i, g in enumerate(data["infeasible"]["groups"]):
        marker = {"color": INFEASIBLE, "size": small if i == 0 else small + 1, "opacity": 0.6, "symbol": symbols[i % len(symbols)]}
        traces.append(_points_trace(g["points"], f"infeasible: {g['reason']} ({g['points']['n']})", marker, dims))
    cloud = (
        ("feasible", f"feasible, not on the front ({data['feasible']['n']})", {"color": FEASIBLE, "size": small + 1, "opacity": 0.55}),
        (
            "feasible_extrapolated",
            f"feasible, accuracy extrapolated ({data['feasible_extrapolated']['n']})",
            {"color": FEASIBLE, "size": small + 2, "opacity": 0.7, "symbol": "circle-open", "line": {"width": 1}},
        ),
    )
    for key, name, marker in cloud:
        if data[key]["n"]:
            traces.append(_points_trace(data[key], name, marker, dims))
    if dims == 2:
        traces.append(
            dict(
                type="scatter",
                x=data["step"]["x"], y=data["step"]["y"], mode="lines", name="front (step line)",
                line={"color": STEP, "width": 2.5}, hoverinfo="skip", showlegend=False,
            )
        )
    size = 7 if dims == 2 else 4.5
    traces.append(_points_trace(data["front"], _front_name(data), {"color": FRONT, "size": size, "line": {"color": FRONT_EDGE, "width": 0.6}}, dims))
    if data["front_extrapolated"]["n"]:
        traces.append(
            _points_trace(
                data["front_extrapolated"],
                f"Pareto, accuracy extrapolated ({data['n_front_extrapolated']})",
                {"color": FRONT, "size": size + 2, "symbol": "circle-open" if dims == 2 else "circle-open", "line": {"width": 2}},
                dims,
            )
        )
    for i, mark in enumerate(data.get("marks", ())):
        kw = {"z": mark["z"]} if dims == 3 else {}
        traces.append(
            dict(
                type="scatter3d" if dims == 3 else "scatter",
                x=mark["x"], y=mark["y"], mode="markers", name=f"{mark['name']}: design {mark['id']}",
                marker={"color": MARK_COLOURS[i % len(MARK_COLOURS)], "size": 16 if i == 0 else 12, "symbol": MARK_SYMBOLS[i % len(MARK_SYMBOLS)] if dims == 2 else "diamond",
                        "line": {"color": "black", "width": 1}},
                hovertext=mark["hover"], hovertemplate=_HOVER, **kw,
            )
        )
    fig = _figure(traces)
    log = data.get("log", (False,) * dims)
    rng = data.get("range", (None,) * dims)
    n_legend = 1 + (len(traces) > 4)
    if dims == 2:
        for upd, a, lg, r in ((fig.update_xaxes, axes[0], log[0], rng[0]), (fig.update_yaxes, axes[1], log[1], rng[1])):
            arrow = "maximised ↑" if a.direction == "max" else "minimised ↓"
            upd(title_text=f"{a.short_label}, {arrow}" + (", log scale" if lg else ""), type="log" if lg else "linear", **({"range": r} if r else {}))
        return _layout(fig, title, height=560, legend_rows=n_legend)
    scene = {}
    for key, a, lg in zip(("xaxis", "yaxis", "zaxis"), axes, log):
        arrow = " ↑" if a.direction == "max" else " ↓"
        scene[key] = {"title": {"text": a.short_label + arrow + (", log" if lg else "")}, "type": "log" if lg else "linear"}
    # camera a little further out than plotly's default, so no axis title leaves the scene
    fig.update_layout(scene=dict(scene, camera={"eye": {"x": 1.5, "y": 1.5, "z": 0.9}}, aspectmode="cube"))
    fig = _layout(fig, title, height=720, legend_rows=n_legend)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 50})
    return fig


def projection_figure(data: Mapping[str, Any], title: str = "Pareto front, two objectives at a time") -> go.Figure:
    """A 3-objective front seen in 2-D: the first two axes, coloured by the third (what a 3-D scene hides)."""
    ax, ay, ac = data["axes"]
    traces = [
        dict(
            type="scatter", mode="lines", x=data["step"]["x"], y=data["step"]["y"], name="non-dominated on these two axes",
            line={"color": STEP, "width": 2}, hoverinfo="skip",
        )
    ]
    for key, symbol in (("front", "circle"), ("front_extrapolated", "circle-open")):
        pts = data[key]
        if not pts["n"]:
            continue
        marker = {
            "color": np.asarray(pts["c"], dtype=np.float32), "colorscale": "Viridis", "size": 6, "symbol": symbol, "opacity": 0.8,
            "colorbar": {"title": {"text": ac.short_label + (", log scale" if data["log"][2] else ""), "side": "right"}, "x": 1.0, "xpad": 20, "thickness": 14},
            "showscale": key == "front",
        }
        if data["log"][2]:  # colour by log10, ticks labelled in the axis's own unit
            c = np.asarray(pts["c"], dtype=np.float64)
            marker["color"] = np.log10(c).astype(np.float32)
            every = np.asarray([m * 10.0**e for e in range(-6, 7) for m in (1, 2, 5)])
            all_c = np.concatenate([np.asarray(data[k]["c"], dtype=float) for k in ("front", "front_extrapolated") if data[k]["n"]])
            ticks = every[(every >= all_c.min()) & (every <= all_c.max())]
            marker["colorbar"].update(tickvals=np.log10(ticks).tolist(), ticktext=[f"{t:g}" for t in ticks])
        name = f"Pareto designs ({pts['n']})" if key == "front" else f"Pareto, accuracy extrapolated ({pts['n']})"
        traces.append(_points_trace({**pts, "x": pts["x"], "y": pts["y"]}, name, marker))
    fig = _figure(traces)
    for upd, a, rng in ((fig.update_xaxes, ax, data["range"][0]), (fig.update_yaxes, ay, data["range"][1])):
        arrow = "maximised ↑" if a.direction == "max" else "minimised ↓"
        upd(title_text=f"{a.short_label}, {arrow}", **({"range": rng} if rng else {}))
    fig = _layout(fig, title, height=540)
    fig.update_layout(margin={"r": 130})
    return fig


def carbon_breakdown_figure(frame: pd.DataFrame, sort_label: str = "", title: str = "Carbon breakdown of the Pareto designs") -> go.Figure:
    """Stacked bars: embodied logic, embodied DRAM (other), operational; one bar per front design, or per bin of designs."""
    traces: list[dict[str, Any]] = []
    binned = bool(frame.attrs.get("binned"))
    parts = [(c, n) for c, n in CARBON_PARTS if c != "embodied_other_kg" or frame[c].abs().gt(0).any()]
    per = "mean " if binned else ""
    for i, (col, name) in enumerate(parts):
        trace = dict(
            type="bar",
            x=frame["design"].tolist(), y=frame[col].to_numpy(), name=name, marker={"color": PARTS_COLOURS[col], "line": {"width": 0}},
            hovertemplate=f"{name}: {per}%{{y:.4g}} kg CO2e<extra></extra>",
        )
        if i == len(parts) - 1:  # one hover lists every part of a bar (x unified); the design's details once
            trace["hovertext"] = frame["hover"].tolist()
            trace["hovertemplate"] = f"{name}: {per}%{{y:.4g}} kg CO2e<br><br>%{{hovertext}}<extra></extra>"
        traces.append(trace)
    fig = _figure(traces)
    fig.update_layout(barmode="relative", bargap=0.12, hovermode="x unified")
    n = int(frame.attrs.get("n_designs", len(frame)))
    if binned:
        xt = f"{n} Pareto designs in {len(frame)} bins of ~{n // max(len(frame), 1)}" + (f", by {sort_label}" if sort_label else "") + " (mean per bin)"
    else:
        xt = "Pareto design" + (f", sorted by {sort_label}" if sort_label else "")
    fig.update_xaxes(title_text=xt, type="category", tickangle=-45 if len(frame) > 12 else 0, tickfont={"size": 10}, nticks=min(len(frame), 24))
    fig.update_yaxes(title_text="carbon (kg CO2e)")
    fig = _layout(fig, title, height=500)
    # legend to the right: below, it would sit on the slanted bar labels
    fig.update_layout(legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1.0, "yanchor": "top"}, margin={"r": 150, "b": 90})
    return fig


def parallel_figure(data: Mapping[str, Any], title: str = "Decision variables of the Pareto designs") -> go.Figure:
    """Parallel coordinates over the varying decision variables (model, then hardware) and the objectives, coloured by carbon."""
    dims = []
    for d in data["dimensions"]:
        dim: dict[str, Any] = {"label": d["label"], "values": np.asarray(d["values"], dtype=np.float32)}
        if d["tickvals"]:
            dim["tickvals"] = d["tickvals"]
            dim["ticktext"] = [f"{v:g}" for v in d["tickvals"]]
        dims.append(dim)
    fig = _figure(
        [dict(
            type="parcoords",
            dimensions=dims,
            line={
                "color": np.asarray(data["color"], dtype=np.float32), "colorscale": "Viridis", "showscale": True,
                "colorbar": {"title": {"text": data["color_label"], "side": "right"}, "x": 1.04, "xpad": 10, "thickness": 14},
            },
            labelangle=-28,
            labelside="top",
            labelfont={"size": 11},
            tickfont={"size": 10},
        )]
    )
    notes = []
    if data.get("n_drawn", data["n"]) < data["n"]:
        notes.append(f"{data['n_drawn']:,} of {data['n']:,} designs drawn, evenly spread along the front")
    if data.get("constant"):
        notes.append("the same on every Pareto design (not drawn): " + ", ".join(f"{k} = {v:g}" for k, v in data["constant"].items()))
    if notes:
        fig.add_annotation(
            text="; ".join(notes), x=0, y=-0.12, xref="paper", yref="paper",
            showarrow=False, xanchor="left", yanchor="top", font={"size": 11, "color": "#555"},
        )
    fig = _layout(fig, title, height=520)
    fig.update_layout(margin={"l": 60, "r": 170, "t": 150, "b": 60})  # room for the last slanted label and the colour bar
    return fig


hardware_parallel_figure = parallel_figure


def hypervolume_figure(frame: pd.DataFrame, reference_point: Any = None, title: str = "Hypervolume per generation") -> go.Figure:
    """Hypervolume of the feasible front after each generation."""
    fig = _figure(
        [dict(
            type="scatter",
            x=frame["generation"].to_numpy(), y=frame["hypervolume"].to_numpy(), mode="lines+markers", name="hypervolume",
            line={"color": FEASIBLE}, marker={"size": 5}, hovertemplate="generation %{x}<br>hypervolume %{y:.4g}<extra></extra>",
        )]
    )
    fig.update_xaxes(title_text="generation", dtick=1 if len(frame) <= 25 else None)
    ref = f" (reference point {reference_point})" if reference_point is not None else ""
    fig.update_yaxes(title_text="hypervolume" + ref)
    hv = frame["hypervolume"].to_numpy(dtype=float)
    ok = np.isfinite(hv)
    if ok.sum() > 2 and hv[ok][-1] > 0:
        # where the run stopped improving much: the first generation within 1 % of the final value
        final = hv[ok][-1]
        first = int(frame["generation"].to_numpy()[ok][np.argmax(hv[ok] >= 0.99 * final)])
        fig.add_hline(y=0.99 * final, line={"dash": "dot", "color": "#888", "width": 1})
        fig.add_annotation(
            x=first, y=0.99 * final, text=f"99 % of the final hypervolume at generation {first}", showarrow=True, arrowhead=2,
            ax=40, ay=40, font={"size": 11}, xanchor="left",
        )
    fig = _layout(fig, title, height=380)
    fig.update_layout(showlegend=False, margin={"b": 60})
    return fig


def sweep_space_figure(data: Mapping[str, Any], title: str = "Design space") -> go.Figure:
    """Every hardware point of a sweep, by feasibility or coloured by a column, with the best feasible designs marked."""
    ax, ay = data["axes"]
    traces: list[dict[str, Any]] = []
    symbols = ("circle", "square", "triangle-up", "cross", "pentagon", "hexagon")
    models: dict[str, int] = {}
    for g in data["groups"]:
        model = g["name"].split(": ")[0] if ": " in g["name"] else ""
        m = models.setdefault(model, len(models))
        if g["feasible"] is None:
            cax = data["color_axis"]
            marker = {
                "color": g["color"], "colorscale": "Viridis", "size": 6,
                "symbol": [symbols[m % len(symbols)] if f else symbols[m % len(symbols)] + "-open" for f in g["feasible_mask"]],
                "colorbar": {"title": {"text": cax.label, "side": "right"}, "x": 1.0, "xpad": 20, "thickness": 14}, "showscale": m == 0,
            }
        else:
            marker = {
                "color": FEASIBLE if g["feasible"] else INFEASIBLE, "size": 6 if g["feasible"] else 5,
                "symbol": symbols[m % len(symbols)], "opacity": 0.8,
            }
        traces.append(_points_trace(g, f"{g['name']} ({g['n']})", marker))
    for mark in data["marks"]:
        traces.append(
            dict(
                type="scatter",
                x=[mark["x"]], y=[mark["y"]], mode="markers", name=mark["name"],
                marker={"color": FRONT if mark["key"] == "total_kg" else "#2ca02c", "size": 15,
                        "symbol": "star" if mark["key"] == "total_kg" else "diamond", "line": {"color": "black", "width": 1}},
                hovertext=[mark["hover"]], hovertemplate=_HOVER,
            )
        )
    fig = _figure(traces)
    log_x, log_y = data.get("log", (False, False))
    fig.update_xaxes(title_text=ax.label + (", log scale" if log_x else ""), type="log" if log_x else "linear")
    fig.update_yaxes(title_text=ay.label + (", log scale" if log_y else ""), type="log" if log_y else "linear")
    rows = 1 + len(traces) // 5
    fig = _layout(fig, title, height=560 + 22 * rows, legend_rows=rows)
    if data.get("color_axis") is not None:
        fig.update_layout(margin={"r": 130})
    return fig


def compare_figure(data: Mapping[str, Any], title: str = "Fronts of the modes compared") -> go.Figure:
    """One trace per mode: its front's points and their step line, on shared axes, the carbon mode drawn last (on top)."""
    ax, ay = data["axes"]
    traces: list[dict[str, Any]] = []
    others = iter(OTHER_COLOURS)
    for t in data["traces"]:
        mode, _, scenario = t["mode"].partition("@")  # compare --scenarios labels runs mode@scenario
        colour = (MODE_COLOURS.get(mode) if not scenario else None) or next(others, "#333333")  # runs beyond ten share dark grey
        big = t["n"] > 300
        traces.append(
            dict(
                type="scatter",
                x=t["step"]["x"], y=t["step"]["y"], mode="lines", line={"color": colour, "width": 2},
                legendgroup=t["mode"], showlegend=False, hoverinfo="skip",
            )
        )
        name = f"{t['mode']} ({t['n']} Pareto designs" + (f", {t['n_front_2d']} on this plane's front" if t["n_front_2d"] != t["n"] else "") + ")"
        traces.append(
            _points_trace(
                t, name, {"color": colour, "size": 4 if big else 7, "opacity": 0.45 if big else 0.9, "line": {"width": 0}},
                legendgroup=t["mode"],
            )
        )
    fig = _figure(traces)
    rng = data.get("range")
    fig.update_xaxes(title_text=ax.objective_label, **({"range": rng[0]} if rng and rng[0] else {}))
    fig.update_yaxes(title_text=f"{ay.short_label}, {'maximised ↑' if ay.direction == 'max' else 'minimised ↓'}", **({"range": rng[1]} if rng and rng[1] else {}))
    rows = 1 + len(data["traces"]) // 3
    fig = _layout(fig, title, height=560, legend_rows=rows)
    if data["skipped"]:
        fig.add_annotation(
            text="not drawn (no feasible point with both values): " + ", ".join(data["skipped"]),
            x=1, y=1.0, xref="paper", yref="paper", showarrow=False, xanchor="right", yanchor="bottom", font={"size": 11},
        )
    return fig
