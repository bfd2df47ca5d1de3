"""Plotly rendering of the plot data in `viz.data`; imported only when a figure is drawn."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd
import plotly.graph_objects as go

from .data import CARBON_PARTS

__all__ = [
    "pareto_figure",
    "carbon_breakdown_figure",
    "hardware_parallel_figure",
    "hypervolume_figure",
    "sweep_space_figure",
    "compare_figure",
    "empty_figure",
]

FEASIBLE = "#1f77b4"
INFEASIBLE = "#c7c7c7"
FRONT = "#d62728"
PARTS_COLOURS = {
    "embodied_logic_kg": "#4c72b0",
    "embodied_dram_kg": "#8172b3",
    "embodied_other_kg": "#937860",
    "operational_kg": "#dd8452",
}
MODE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
_HOVER = "%{hovertext}<extra></extra>"


def _layout(fig: go.Figure, title: str, height: int = 480) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        template="plotly_white",
        height=height,
        margin={"l": 70, "r": 30, "t": 60, "b": 60},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        hoverlabel={"align": "left"},
    )
    return fig


def empty_figure(title: str, message: str) -> go.Figure:
    """A figure that says why there is nothing to draw."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 15})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, height=260)


def pareto_figure(data: Mapping[str, Any], title: str = "Pareto front") -> go.Figure:
    """All evaluated points (feasible / infeasible) and the front: step line in 2-D, highlighted points in 3-D."""
    axes = data["axes"]
    fig = go.Figure()
    if data["dims"] == 2:
        for key, name, colour, size in (("infeasible", "infeasible", INFEASIBLE, 6), ("feasible", "feasible", FEASIBLE, 7)):
            pts = data[key]
            fig.add_trace(
                go.Scatter(
                    x=pts["x"], y=pts["y"], mode="markers", name=f"{name} ({pts['n']})",
                    marker={"color": colour, "size": size, "opacity": 0.75, "line": {"width": 0}},
                    hovertext=pts["hover"], hovertemplate=_HOVER,
                )
            )
        front = data["front"]
        fig.add_trace(
            go.Scatter(
                x=data["step"]["x"], y=data["step"]["y"], mode="lines", name="front (step)",
                line={"color": FRONT, "width": 2}, hoverinfo="skip", showlegend=False,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=front["x"], y=front["y"], mode="markers", name=f"Pareto front ({front['n']})",
                marker={"color": FRONT, "size": 10, "symbol": "diamond", "line": {"color": "white", "width": 1}},
                hovertext=front["hover"], hovertemplate=_HOVER,
            )
        )
        log = data.get("log", (False, False))
        fig.update_xaxes(title_text=axes[0].objective_label + (", log scale" if log[0] else ""), type="log" if log[0] else "linear")
        fig.update_yaxes(title_text=axes[1].objective_label + (", log scale" if log[1] else ""), type="log" if log[1] else "linear")
        return _layout(fig, title, height=520)
    for key, name, colour, size in (("infeasible", "infeasible", INFEASIBLE, 3), ("feasible", "feasible", FEASIBLE, 4), ("front", "Pareto front", FRONT, 6)):
        pts = data[key]
        fig.add_trace(
            go.Scatter3d(
                x=pts["x"], y=pts["y"], z=pts["z"], mode="markers", name=f"{name} ({pts['n']})",
                marker={"color": colour, "size": size, "opacity": 0.9 if key == "front" else 0.6},
                hovertext=pts["hover"], hovertemplate=_HOVER,
            )
        )
    log = data.get("log", (False, False, False))
    scene = {}
    for key, a, lg in zip(("xaxis", "yaxis", "zaxis"), axes, log):
        arrow = " ↑" if a.direction == "max" else " ↓"
        scene[key] = {"title": {"text": a.short_label + arrow + (", log" if lg else "")}, "type": "log" if lg else "linear"}
    fig.update_layout(scene=scene)
    return _layout(fig, title, height=640)


def carbon_breakdown_figure(frame: pd.DataFrame, sort_label: str = "", title: str = "Carbon breakdown of the Pareto designs") -> go.Figure:
    """Stacked bars: embodied logic, embodied DRAM (other), operational; one bar per front design."""
    fig = go.Figure()
    for col, name in CARBON_PARTS:
        if col == "embodied_other_kg" and not frame[col].abs().gt(0).any():
            continue
        fig.add_trace(
            go.Bar(
                x=frame["design"], y=frame[col], name=name, marker={"color": PARTS_COLOURS[col]},
                hovertext=[f"{name}: {v:.4g} kg CO2e<br>{h}" for v, h in zip(frame[col], frame["hover"])],
                hovertemplate=_HOVER,
            )
        )
    fig.update_layout(barmode="relative")
    fig.update_xaxes(title_text="Pareto design" + (f", sorted by {sort_label}" if sort_label else ""), type="category")
    fig.update_yaxes(title_text="carbon (kg CO2e)")
    return _layout(fig, title)


def hardware_parallel_figure(data: Mapping[str, Any], title: str = "Hardware of the Pareto designs") -> go.Figure:
    """Parallel coordinates over the six hardware keys and the objectives, coloured by carbon."""
    dims = []
    for d in data["dimensions"]:
        dim: dict[str, Any] = {"label": d["label"], "values": d["values"]}
        if d["tickvals"]:
            dim["tickvals"] = d["tickvals"]
            dim["ticktext"] = [f"{v:g}" for v in d["tickvals"]]
            if len(d["tickvals"]) == 1:  # a constant axis needs a range to draw
                v = d["tickvals"][0]
                dim["range"] = [v - 1, v + 1] if v else [-1, 1]
        dims.append(dim)
    fig = go.Figure(
        go.Parcoords(
            dimensions=dims,
            line={
                "color": data["color"], "colorscale": "Viridis", "showscale": True,
                "colorbar": {"title": {"text": data["color_label"], "side": "right"}},
            },
            labelangle=-20,
            labelside="bottom",
        )
    )
    fig = _layout(fig, title, height=460)
    fig.update_layout(margin={"l": 80, "r": 80, "t": 80, "b": 90})
    return fig


def hypervolume_figure(frame: pd.DataFrame, reference_point: Any = None, title: str = "Hypervolume per generation") -> go.Figure:
    """Hypervolume of the feasible front after each generation."""
    fig = go.Figure(
        go.Scatter(
            x=frame["generation"], y=frame["hypervolume"], mode="lines+markers", name="hypervolume",
            line={"color": FEASIBLE}, hovertemplate="generation %{x}<br>hypervolume %{y:.4g}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="generation", dtick=1 if len(frame) <= 25 else None, range=[-0.5, max(len(frame), 1) - 0.5])
    ref = f" (reference point {reference_point})" if reference_point is not None else ""
    fig.update_yaxes(title_text="hypervolume" + ref, rangemode="tozero")
    return _layout(fig, title, height=380)


def sweep_space_figure(data: Mapping[str, Any], title: str = "Design space") -> go.Figure:
    """Every hardware point of a sweep, by feasibility or coloured by a column, with the best feasible designs marked."""
    ax, ay = data["axes"]
    fig = go.Figure()
    symbols = ("circle", "square", "triangle-up", "cross", "pentagon", "hexagon")
    models: dict[str, int] = {}
    for g in data["groups"]:
        model = g["name"].split(": ")[0] if ": " in g["name"] else ""
        m = models.setdefault(model, len(models))
        if g["feasible"] is None:
            cax = data["color_axis"]
            fig.add_trace(
                go.Scatter(
                    x=g["x"], y=g["y"], mode="markers", name=f"{g['name']} ({g['n']})",
                    marker={
                        "color": g["color"], "colorscale": "Viridis", "size": 6,
                        "symbol": [symbols[m % len(symbols)] if f else symbols[m % len(symbols)] + "-open" for f in g["feasible_mask"]],
                        "colorbar": {"title": {"text": cax.label}}, "showscale": m == 0,
                    },
                    hovertext=g["hover"], hovertemplate=_HOVER,
                )
            )
        else:
            fig.add_trace(
                go.Scatter(
                    x=g["x"], y=g["y"], mode="markers", name=f"{g['name']} ({g['n']})",
                    marker={
                        "color": FEASIBLE if g["feasible"] else INFEASIBLE, "size": 6 if g["feasible"] else 5,
                        "symbol": symbols[m % len(symbols)], "opacity": 0.8,
                    },
                    hovertext=g["hover"], hovertemplate=_HOVER,
                )
            )
    for mark in data["marks"]:
        fig.add_trace(
            go.Scatter(
                x=[mark["x"]], y=[mark["y"]], mode="markers", name=mark["name"],
                marker={"color": FRONT if mark["key"] == "total_kg" else "#2ca02c", "size": 15,
                        "symbol": "star" if mark["key"] == "total_kg" else "diamond", "line": {"color": "black", "width": 1}},
                hovertext=[mark["hover"]], hovertemplate=_HOVER,
            )
        )
    log_x, log_y = data.get("log", (False, False))
    fig.update_xaxes(title_text=ax.label + (", log scale" if log_x else ""), type="log" if log_x else "linear")
    fig.update_yaxes(title_text=ay.label + (", log scale" if log_y else ""), type="log" if log_y else "linear")
    return _layout(fig, title, height=540)


def compare_figure(data: Mapping[str, Any], title: str = "Fronts of the modes compared") -> go.Figure:
    """One trace per mode: its front's points and their step line, on shared axes."""
    ax, ay = data["axes"]
    fig = go.Figure()
    for i, t in enumerate(data["traces"]):
        colour = MODE_COLOURS[i % len(MODE_COLOURS)]
        fig.add_trace(
            go.Scatter(
                x=t["step"]["x"], y=t["step"]["y"], mode="lines", line={"color": colour, "width": 1.5},
                legendgroup=t["mode"], showlegend=False, hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=t["x"], y=t["y"], mode="markers", name=f"{t['mode']} ({t['n']})", legendgroup=t["mode"],
                marker={"color": colour, "size": 9}, hovertext=t["hover"], hovertemplate=_HOVER,
            )
        )
    fig.update_xaxes(title_text=ax.objective_label)
    fig.update_yaxes(title_text=ay.objective_label)
    if data["skipped"]:
        fig.add_annotation(
            text="not drawn (no feasible point with both values): " + ", ".join(data["skipped"]),
            x=0, y=-0.18, xref="paper", yref="paper", showarrow=False, xanchor="left", font={"size": 11},
        )
    return _layout(fig, title, height=520)
