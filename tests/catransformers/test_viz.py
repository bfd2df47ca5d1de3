"""viz: plot data on fixture frames (pure, no browser) and self-contained, atomic HTML reports."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from catransformers.viz import data as D

HW = ("clusters", "pe_width", "pe_depth", "l2_sram_kb", "l2_bw", "glb_mb")
PRUNE = ("text_layers", "text_heads", "text_ffn_blocks", "text_emb_blocks", "vision_layers", "vision_heads")
LABEL = "avg over 41 tasks (estimate, clip-scaling v1)"
LIMITS = {"latency_s": 0.05, "area_um2": 31990347.0, "tops": 20.48}


# ---------------------------------------------------------------- fixtures (results folders per the contract)


def _dominated_by_any(vals: np.ndarray, i: int) -> bool:
    return any(np.all(vals[j] <= vals[i]) and np.any(vals[j] < vals[i]) for j in range(len(vals)) if j != i)


def make_frame(n: int = 60, seed: int = 0, objectives=(("accuracy", "max"), ("total_kg", "min")), all_infeasible: bool = False) -> pd.DataFrame:
    """A synthetic evaluations table with every contract column; `pareto` computed by brute force."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"id": np.arange(n), "generation": np.arange(n) // 10})
    frame["text_layers"] = rng.integers(6, 13, n)
    frame["text_heads"] = rng.integers(4, 9, n)
    frame["text_ffn_blocks"] = rng.integers(2, 9, n)
    frame["text_emb_blocks"] = rng.integers(4, 9, n)
    frame["vision_layers"] = rng.integers(6, 13, n)
    frame["vision_heads"] = rng.integers(6, 13, n)
    frame["clusters"] = rng.choice([1, 2, 4], n)
    frame["pe_width"] = rng.choice([64, 128, 256], n)
    frame["pe_depth"] = rng.choice([8, 16, 32], n)
    frame["l2_sram_kb"] = rng.choice([256, 512, 1024], n)
    frame["l2_bw"] = rng.choice([64, 128, 256], n)
    frame["glb_mb"] = rng.choice([2, 4, 8], n)
    size = frame["clusters"] * frame["pe_width"] * frame["pe_depth"] / 16384.0
    work = (frame["text_layers"] + frame["vision_layers"]) / 24.0
    frame["latency_s"] = 0.02 * work / size + rng.uniform(0, 0.005, n)
    frame["energy_j"] = 0.01 * work + rng.uniform(0, 0.002, n)
    frame["area_um2"] = 3e7 * size + 1e6 * frame["glb_mb"] / 8
    frame["area_mm2"] = frame["area_um2"] / 1e6
    frame["tops"] = 20.48 * size
    frame["macs"] = (20e9 * work).round()
    frame["params"] = (150e6 * work).round()
    frame["embodied_logic_kg"] = 0.01 * frame["area_mm2"]
    frame["embodied_dram_kg"] = 0.02 + 0.0 * frame["glb_mb"]
    frame["embodied_kg"] = frame["embodied_logic_kg"] + frame["embodied_dram_kg"]
    frame["operational_kg"] = 5.0 * frame["energy_j"]
    frame["total_kg"] = frame["embodied_kg"] + frame["operational_kg"]
    frame["energy_lifetime_kwh"] = frame["energy_j"] * 1e8 / 3.6e6
    frame["accuracy"] = 0.25 + 0.3 * work + rng.uniform(-0.02, 0.02, n)
    frame["accuracy_metric"] = LABEL
    for key, limit in LIMITS.items():
        frame[f"meets_{key}"] = frame[key] <= (limit / 1e3 if all_infeasible else limit)
    frame["failed"] = False
    frame.loc[n - 1, "failed"] = True
    frame.loc[n - 1, "accuracy"] = np.nan
    frame["feasible"] = frame[[f"meets_{k}" for k in LIMITS]].all(axis=1) & ~frame["failed"]
    vals = np.column_stack([frame[k].to_numpy() * (-1 if d == "max" else 1) for k, d in objectives])
    ok = frame["feasible"].to_numpy()
    idx = np.flatnonzero(ok)
    pareto = np.zeros(n, dtype=bool)
    for pos, i in enumerate(idx):
        pareto[i] = not _dominated_by_any(vals[idx], pos)
    frame["pareto"] = pareto
    return frame


def make_results(folder: Path, mode: str = "carbon", n: int = 60, seed: int = 0, objectives=(("accuracy", "max"), ("total_kg", "min")), all_infeasible: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame = make_frame(n, seed, objectives, all_infeasible)
    frame.to_csv(folder / "evaluations.csv", index=False)
    frame[frame["pareto"]].to_csv(folder / "pareto.csv", index=False)
    gens = int(frame["generation"].max()) + 1
    run = {
        "mode": mode,
        "objectives": [{"name": k, "direction": d, "label": k} for k, d in objectives],
        "constraints": dict(LIMITS),
        "hypervolume": [] if all_infeasible else [0.01 * (1 + g) ** 0.5 for g in range(gens)],
        "reference_point": [0.15, 0.5],
        "spec": {"population": 10, "generations": gens},
        "seed": seed,
        "versions": {"catransformers": "0.1.0"},
        "timings": {"total_s": 1.5},
        "status": "no-feasible" if all_infeasible else "complete",
    }
    (folder / "run.json").write_text(json.dumps(run))
    return folder


def make_sweep(path: Path, n: int = 120, models=("vit-b-16",)) -> Path:
    frames = []
    for k, m in enumerate(models):
        f = make_frame(n, seed=10 + k).drop(columns=["id", "generation", "pareto", "failed", *PRUNE])
        f.insert(0, "model", m)
        frames.append(f)
    pd.concat(frames, ignore_index=True).to_csv(path, index=False)
    return path


CARBON = (D.axis("accuracy", "max", LABEL), D.axis("total_kg", "min"))


# ---------------------------------------------------------------- pure plot data


def test_non_dominated_hand_example_keeps_duplicates():
    f = pd.DataFrame({"accuracy": [0.5, 0.4, 0.5, 0.3, 0.45], "total_kg": [0.3, 0.1, 0.3, 0.2, 0.35]})
    mask = D.non_dominated(f, CARBON)
    # 0 and 2 are identical (both stay, the reference's defect was to drop both); 3 is dominated by 1; 4 by 0.
    assert mask.tolist() == [True, True, True, False, False]


def test_step_line_is_a_staircase_through_sorted_front():
    s = D.step_line(np.array([3.0, 1.0, 2.0]), np.array([0.5, 0.3, 0.4]), "min")
    assert s["x"] == [1.0, 2.0, 2.0, 3.0, 3.0]
    assert s["y"] == [0.3, 0.3, 0.4, 0.4, 0.5]
    s = D.step_line(np.array([1.0, 2.0]), np.array([0.1, 0.2]), "max")
    assert s == {"x": [1.0, 1.0, 2.0], "y": [0.1, 0.2, 0.2]}


def test_pareto_front_data_2d_splits_and_sorts():
    ev = make_frame()
    data = D.pareto_front_data(ev, CARBON, ev[ev["pareto"]])
    assert data["dims"] == 2
    # the maximised objective goes on y, and says so
    assert [a.name for a in data["axes"]] == ["total_kg", "accuracy"]
    assert "maximised" in data["axes"][1].objective_label and "estimate" in data["axes"][1].objective_label
    assert data["axes"][0].label == "total carbon (kg CO2e)"
    assert data["log"] == (False, False)
    assert data["n_undrawn"] == 1
    n_front = int(ev["pareto"].sum())
    # the front is drawn once, on top: not again in the cloud behind it
    assert data["feasible"]["n"] + data["infeasible"]["n"] + n_front + 1 == len(ev)
    assert data["feasible"]["n"] + n_front == int(ev["feasible"].sum())
    front = data["front"]
    assert sorted(front["ids"]) == sorted(ev.loc[ev["pareto"], "id"].tolist())
    assert list(front["x"]) == sorted(front["x"])
    # on a max/min front, sorted by carbon, accuracy rises too
    assert list(front["y"]) == sorted(front["y"])
    assert len(data["step"]["x"]) == 2 * front["n"] - 1
    assert data["step"]["x"][::2] == list(front["x"])
    # the view opens on the front: its padded range holds every front point and is narrower than all points
    (x0, x1), (y0, y1) = data["range"]
    assert x0 < min(front["x"]) and max(front["x"]) < x1 and y0 < min(front["y"]) and max(front["y"]) < y1
    hover = front["hover"]
    assert hover["customdata"].shape == (front["n"], hover["customdata"].shape[1]) and hover["customdata"].dtype == np.float32
    assert "%{x:.4~g} kg CO2e" in hover["template"] and "model: %{text}" in hover["template"]  # plotted values from the point
    assert "clusters × PE width × depth" in hover["template"] and "%{hovertext}" in hover["template"]
    assert "text " in hover["text"][0] and "L/" in hover["text"][0]  # the model, compactly
    first = ev[ev["pareto"]].sort_values("total_kg").iloc[0]
    hw = f"{first.clusters}×{first.pe_width}×{first.pe_depth} | {first.l2_sram_kb}, {first.l2_bw} | {first.glb_mb}"
    assert hover["hovertext"][0] == hw
    # the full strings agree with the template filled in
    full = D.hover_text(ev[ev["pareto"]].sort_values("total_kg").head(1), CARBON)[0]
    assert f"design {int(front['ids'][0])}" in full and hw in full and "kg CO2e" in full


def test_front_computed_when_no_pareto_column():
    ev = make_frame()
    expected = sorted(ev.loc[ev["pareto"], "id"])
    computed = D.front_of(ev.drop(columns=["pareto"]), CARBON)
    assert sorted(computed["id"]) == expected


def test_pareto_front_data_3d():
    objs = (("accuracy", "max"), ("latency_s", "min"), ("total_kg", "min"))
    ev = make_frame(objectives=objs)
    axes = [D.axis(k, d, LABEL) for k, d in objs]
    data = D.pareto_front_data(ev, axes)
    assert data["dims"] == 3 and "step" not in data
    assert [a.name for a in data["axes"]] == ["latency_s", "total_kg", "accuracy"]
    assert data["axes"][0].unit == "ms"
    lat = ev.loc[ev["pareto"], "latency_s"].min() * 1e3
    assert min(data["front"]["x"]) == pytest.approx(lat)
    assert len(data["front"]["z"]) == int(ev["pareto"].sum())
    with pytest.raises(ValueError, match="2 or 3"):
        D.pareto_front_data(ev, axes[:1])


def test_carbon_breakdown_sums_to_total_and_sorts_by_second_objective():
    ev = make_frame()
    front = ev[ev["pareto"]].sample(frac=1.0, random_state=1)
    b = D.carbon_breakdown_data(front, CARBON)
    parts = b[[c for c, _ in D.CARBON_PARTS]].sum(axis=1)
    np.testing.assert_allclose(parts, b["total_kg"], rtol=1e-12)
    assert b["sort_key"].tolist() == sorted(b["sort_key"].tolist())
    assert b.attrs["sort_key"] == "total_kg"
    assert (b["embodied_other_kg"] == 0).all()
    # an unlisted embodied part shows as "other", still adding up
    f2 = front.copy()
    f2["embodied_kg"] += 0.01
    f2["total_kg"] += 0.01
    b2 = D.carbon_breakdown_data(f2, CARBON)
    np.testing.assert_allclose(b2["embodied_other_kg"], 0.01)
    np.testing.assert_allclose(b2[[c for c, _ in D.CARBON_PARTS]].sum(axis=1), b2["total_kg"])


def test_parallel_covers_every_varying_decision_variable_then_objectives():
    ev = make_frame(n=200)
    front = ev[ev["pareto"]].copy()
    front["glb_mb"] = 4  # one value on the front: a flat axis says nothing, so it is dropped and listed
    p = D.parallel_data(front, CARBON)
    names = [d["name"] for d in p["dimensions"]]
    varying = [c for c in PRUNE + HW if front[c].nunique() > 1]
    assert names == [c for c in PRUNE if c in varying] + [c for c in HW if c in varying] + ["accuracy", "total_kg"]
    assert "glb_mb" not in names and p["constant"]["glb_mb"] == 4
    assert all(len(d["values"]) == len(front) for d in p["dimensions"])
    assert p["color"] == front["total_kg"].tolist()
    first_hw = next(d for d in p["dimensions"] if d["group"] == "hardware")
    assert first_hw["tickvals"] == sorted(set(front[first_hw["name"]].astype(float)))
    # the run's variable order wins over the column order
    order = D.parallel_data(front, CARBON, ["vision_heads", "text_layers", "clusters"])
    assert [d["name"] for d in order["dimensions"]][:2] == [c for c in ("vision_heads", "text_layers") if c in varying][:2]


def test_ties_collapse_to_one_row_naming_the_tied_designs():
    ev = make_frame()
    front = ev[ev["pareto"]].copy()
    twin = front.iloc[[0]].copy()
    twin["id"] = 999
    twin["l2_bw"] = 512  # no effect on the objectives: same accuracy and carbon
    both = pd.concat([front, twin], ignore_index=True)
    out = D.collapse_ties(both, CARBON)
    assert len(out) == len(front)
    row = out[out["id"] == front.iloc[0]["id"]].iloc[0]
    assert row["tied_n"] == 2 and row["tied_ids"] == "999"
    assert row["tied_differ"].startswith("l2_bw ")
    assert (out[out["id"] != front.iloc[0]["id"]]["tied_n"] == 1).all()
    data = D.pareto_front_data(ev.assign(pareto=ev["pareto"]), CARBON, both)
    assert data["n_front_designs"] == len(both) and data["front"]["n"] == len(front)


def test_extrapolated_accuracy_is_drawn_apart_and_counted(tmp_path):
    ev = make_frame()
    ev["accuracy_extrapolated"] = ev["text_layers"] < 8
    ev["accuracy_extrapolated_reason"] = np.where(ev["accuracy_extrapolated"], "text layers below the validated range", "")
    data = D.pareto_front_data(ev, CARBON, ev[ev["pareto"]])
    front = ev[ev["pareto"]]
    assert data["n_front_extrapolated"] == int(front["accuracy_extrapolated"].sum())
    assert data["front"]["n"] + data["front_extrapolated"]["n"] == len(front)
    assert all("accuracy extrapolated: text layers" in t for t in data["front_extrapolated"]["hover"]["text"])
    # behind the front, the trace says it once
    assert "accuracy extrapolated" in data["feasible_extrapolated"]["hover"]["template"]
    ok = ~ev["failed"]
    assert data["n_extrapolated"] == int(ev.loc[ok, "accuracy_extrapolated"].sum())


def test_hypervolume_data():
    h = D.hypervolume_data({"hypervolume": [0.1, 0.2, None]})
    assert h["generation"].tolist() == [0, 1, 2]
    assert h["hypervolume"].tolist()[:2] == [0.1, 0.2] and np.isnan(h["hypervolume"].iloc[2])
    assert D.hypervolume_data({}).empty
    assert D.hypervolume_data({"hypervolume": [0.1, 0.2]}, first_generation=1)["generation"].tolist() == [1, 2]


def test_sweep_space_marks_best_feasible(tmp_path):
    sweep = D.load_sweep(str(make_sweep(tmp_path / "s.csv", models=("a", "b"))))
    data = D.sweep_space_data(sweep)
    assert [g["name"] for g in data["groups"]] == ["a: feasible", "a: infeasible", "b: feasible", "b: infeasible"]
    assert sum(g["n"] for g in data["groups"]) == len(sweep)
    ok_a = sweep[(sweep["model"] == "a") & sweep["feasible"]]
    mark = {m["name"]: m for m in data["marks"]}
    assert mark["a: minimum carbon"]["y"] == pytest.approx(ok_a["total_kg"].min())
    assert mark["a: minimum latency"]["x"] == pytest.approx(ok_a["latency_s"].min() * 1e3)
    assert data["axes"][0].label == "latency (ms)"
    coloured = D.sweep_space_data(sweep, color="glb_mb")
    assert coloured["groups"][0]["color"] == sweep.loc[sweep["model"] == "a", "glb_mb"].astype(float).tolist()
    with pytest.raises(ValueError, match="nope"):
        D.sweep_space_data(sweep, color="nope")


def test_compare_overlay_one_trace_per_mode():
    a = make_frame(seed=1)
    b = make_frame(seed=2)
    hw_only = make_frame(seed=3).assign(accuracy=np.nan)
    data = D.compare_overlay_data({"carbon": a[a["pareto"]], "energy": b[b["pareto"]], "all-hw": hw_only[hw_only["pareto"]]})
    # drawn in this order: the carbon mode last, on top of the others
    assert [t["mode"] for t in data["traces"]] == ["energy", "carbon"]
    assert data["skipped"] == ["all-hw"]
    assert data["axes"][0].name == "total_kg" and data["axes"][1].name == "accuracy"
    for t in data["traces"]:
        assert list(t["x"]) == sorted(t["x"])
        # the view opens on the steps of every mode
        assert data["range"][0][0] < min(t["step"]["x"]) and max(t["step"]["x"]) < data["range"][0][1]


def test_constraint_text_and_counts(tmp_path):
    assert D.constraint_text(LIMITS) == ["latency ≤ 50 ms", "accelerator area ≤ 31.99 mm²", "peak throughput ≤ 20.48 TOPS"]  # labels from the metrics registry
    r = D.load_results(str(make_results(tmp_path / "r")))
    c = D.summary_counts(r)
    assert c["evaluated"] == 60 and c["failed"] == 1 and c["generations"] == 6
    assert c["pareto"] == int(r.evaluations["pareto"].sum())
    assert r.evaluations["feasible"].dtype == bool
    # the search's own counts (it knows which rows the pre-check skipped) take precedence
    run = dict(r.run, counts={"designs": 60, "evaluated": 55, "prechecked_out": 5, "failed": 1, "feasible": 20}, generations_run=5)
    c = D.summary_counts(D.Results(r.path, r.evaluations, r.pareto, run))
    assert (c["evaluated"], c["prechecked_out"], c["feasible"], c["generations"]) == (55, 5, 20, 5)


def test_viz_import_does_not_import_plotly():
    import subprocess

    code = "import sys, catransformers, catransformers.viz; assert 'plotly' not in sys.modules, 'plotly imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- figures and reports


def _script_srcs(text: str) -> list[str]:
    return re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']?([^\"' >]+)", text, flags=re.I)


def test_figures_carry_units_and_estimate_label():
    from catransformers.viz import figures as F

    ev = make_frame()
    fig = F.pareto_figure(D.pareto_front_data(ev, CARBON))
    assert fig.layout.xaxis.title.text == "total carbon (kg CO2e), minimised ↓"
    wide = ev.assign(total_kg=ev["total_kg"] * np.geomspace(1, 1000, len(ev)))
    assert F.pareto_figure(D.pareto_front_data(wide, CARBON)).layout.xaxis.type == "log"
    assert "estimate" in fig.layout.yaxis.title.text and "maximised" in fig.layout.yaxis.title.text
    front = ev[ev["pareto"]]
    bars = F.carbon_breakdown_figure(D.carbon_breakdown_data(front, CARBON))
    assert bars.layout.yaxis.title.text == "carbon (kg CO2e)"
    assert [t.name for t in bars.data] == ["embodied, logic", "embodied, DRAM", "operational"]
    par = F.parallel_figure(D.parallel_data(front, CARBON))
    assert len(par.data[0].dimensions) == len([c for c in PRUNE + HW if front[c].nunique() > 1]) + 2


def test_report_inline_is_self_contained_and_atomic(tmp_path, monkeypatch):
    from catransformers import io as cio
    from catransformers.viz import report as R

    folder = make_results(tmp_path / "run")
    calls = []
    real = cio.atomic_write_text
    monkeypatch.setattr(R, "atomic_write_text", lambda p, t: (calls.append(p), real(p, t)))
    path = R.write_report(str(folder), plotlyjs="inline")
    assert path == str(folder / "report.html") and calls == [path]
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]
    text = Path(path).read_text(encoding="utf-8")
    from plotly.offline import get_plotlyjs

    assert get_plotlyjs()[:2000] in text  # the bundle, inline
    assert text.count("plotly.js v") >= 1
    assert _script_srcs(text) == []  # no script loaded from anywhere
    assert 'src="http' not in text and "cdn.plot.ly" not in text.split("</head>")[1]
    for fig_id in ("fig-pareto", "fig-breakdown", "fig-hardware", "fig-hypervolume"):
        assert f'id="{fig_id}"' in text
    assert "carbon mode" in text and "latency ≤ 50 ms" in text and "estimate" in text
    n_front = int(pd.read_csv(folder / "pareto.csv").shape[0])
    assert f"Pareto designs ({n_front})" in text
    assert "No feasible design" not in text


def test_report_default_loads_one_shared_plotlyjs_beside_it(tmp_path):
    from plotly.offline import get_plotlyjs

    from catransformers.viz import report as R

    folder = make_results(tmp_path / "run")
    text = Path(R.write_report(str(folder))).read_text(encoding="utf-8")
    srcs = _script_srcs(text)
    assert srcs == [R.plotlyjs_name()] and "plotly.js v" not in text
    assert (folder / srcs[0]).read_text(encoding="utf-8") == get_plotlyjs()  # offline: the bundle is the local file
    assert len(text) < len(get_plotlyjs())  # the page carries data, not the library
    # a compare folder: every page uses the one file at its root, relatively
    root = tmp_path / "cmp"
    dirs = {m: str(make_results(root / m, mode=m, seed=s)) for s, m in enumerate(("carbon", "energy"))}
    written = R.render(str(root))
    assert sorted(p.name for p in root.glob("*.js")) == [R.plotlyjs_name()] and not list((root / "carbon").glob("*.js"))
    assert _script_srcs(Path(written[0]).read_text(encoding="utf-8")) == ["../" + R.plotlyjs_name()]
    assert _script_srcs(Path(written[-1]).read_text(encoding="utf-8")) == [R.plotlyjs_name()]
    cdn = Path(R.write_report(dirs["carbon"], plotlyjs="cdn")).read_text(encoding="utf-8")
    assert _script_srcs(cdn)[0].startswith("https://cdn.plot.ly/plotly-")
    from catransformers import ConfigError

    with pytest.raises(ConfigError, match="plotlyjs.*allowed: directory, inline, cdn"):
        R.write_report(dirs["carbon"], plotlyjs="nope")


def test_search_does_not_import_viz():
    import subprocess

    code = (
        "import sys\nfrom catransformers.search import load_spec, run_search\n"
        "run_search(load_spec(overrides={'search.population': 6, 'search.generations': 2}), None)\n"
        "assert not [m for m in sys.modules if m.startswith('catransformers.viz') or m.startswith('plotly')], 'search imported viz'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_report_from_memory_equals_report_from_the_folder(tmp_path):
    from catransformers.viz import report as R

    folder = make_results(tmp_path / "run")
    back = D.load_results(str(folder))
    mem = D.results_from(type("R", (), {"evaluations": back.evaluations, "pareto": back.pareto, "run": back.run, "out_dir": str(folder)})())
    a = Path(R.write_report(mem, str(tmp_path / "a.html"), js_dir=str(tmp_path))).read_text(encoding="utf-8")
    b = Path(R.write_report(str(folder), str(tmp_path / "b.html"), js_dir=str(tmp_path))).read_text(encoding="utf-8")
    assert a == b


def test_report_without_feasible_design_says_so(tmp_path):
    from catransformers.viz import write_report

    folder = make_results(tmp_path / "none", all_infeasible=True)
    text = Path(write_report(str(folder))).read_text(encoding="utf-8")
    assert "No feasible design" in text and "no-feasible" in text
    assert "no Pareto design to break down" in text and "the run recorded no hypervolume" in text


def test_report_three_objectives(tmp_path):
    from catransformers.viz import write_report

    objs = (("accuracy", "max"), ("latency_s", "min"), ("total_kg", "min"))
    text = Path(write_report(str(make_results(tmp_path / "all", mode="all", objectives=objs)))).read_text(encoding="utf-8")
    assert '"scatter3d"' in text and "all mode" in text


def test_compare_report_reads_compare_csv_when_present(tmp_path):
    from catransformers.viz import write_compare_report

    dirs = {m: str(make_results(tmp_path / m, mode=m, seed=s)) for s, m in enumerate(("carbon", "energy"))}
    out = tmp_path / "cmp"
    out.mkdir()
    text = Path(write_compare_report(str(out), dirs)).read_text(encoding="utf-8")
    assert "computed from each mode" in text and 'id="fig-compare"' in text and len(_script_srcs(text)) == 1
    pd.DataFrame({"mode": ["carbon", "energy"], "special_column": [1, 2]}).to_csv(out / "compare.csv", index=False)
    text = Path(write_compare_report(str(out), dirs)).read_text(encoding="utf-8")
    assert "compare.csv, as the comparison wrote it" in text and "special_column" in text


def test_sweep_report(tmp_path):
    from catransformers.viz import write_sweep_report

    csv = make_sweep(tmp_path / "sweep.csv")
    out = write_sweep_report(str(csv), str(tmp_path / "sweep.html"))
    text = Path(out).read_text(encoding="utf-8")
    assert 'id="fig-sweep"' in text and 'id="fig-sweep-color"' in text and "minimum carbon" in text
    assert _script_srcs(text) == [Path(out).parent.joinpath(_script_srcs(text)[0]).name] and (tmp_path / _script_srcs(text)[0]).exists()


def test_render_dispatches_on_what_it_is_given(tmp_path):
    from catransformers import DataError
    from catransformers.viz import render

    csv = make_sweep(tmp_path / "s.csv")
    assert render(str(csv)) == [str(tmp_path / "s.html")]
    one = make_results(tmp_path / "runs" / "carbon")
    assert render(str(one)) == [str(one / "report.html")]
    make_results(tmp_path / "runs" / "energy", mode="energy", seed=4)
    written = render(str(tmp_path / "runs"))
    assert written == [str(tmp_path / "runs" / m / "report.html") for m in ("carbon", "energy")] + [str(tmp_path / "runs" / "compare.html")]
    assert all(Path(p).exists() for p in written)
    with pytest.raises(DataError, match="does not exist"):
        render(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no evaluations.csv"):
        render(str(tmp_path / "empty"))


def test_load_results_names_missing_objective_column(tmp_path):
    from catransformers import DataError

    folder = make_results(tmp_path / "r")
    pd.read_csv(folder / "evaluations.csv").drop(columns=["total_kg"]).to_csv(folder / "evaluations.csv", index=False)
    with pytest.raises(DataError, match="total_kg"):
        D.load_results(str(folder))


def test_report_of_a_real_run_shows_the_recommended_design_and_its_breakdown(tmp_path):
    from catransformers.search import load_spec, run_search
    from catransformers.viz import report as R

    result = run_search(load_spec(overrides={"search.population": 10, "search.generations": 3}), None)
    rec = result.run["recommended"]
    res = D.results_from(result, str(tmp_path))
    text = Path(R.write_report(res, str(tmp_path / "report.html"))).read_text(encoding="utf-8")
    head = text.split('data-figure="fig-pareto"')[0]  # at the top, before the figures
    assert "Recommended design" in head and rec["model_shape"] in head and rec["method"] in head
    for part in ("energy per inference by component and memory level", "area by part", "latency by op class", "carbon: embodied vs operational", "Mapping chosen for each of the"):
        assert part in head, part
    # the recommended design and the best of each objective are marked on the front
    data = D.pareto_front_data(res.evaluations, D.objectives_of(res.run, res.evaluations), res.pareto, rec)
    assert [m["id"] for m in data["marks"]] == [rec["id"]] + [b["id"] for b in rec["best_by_objective"].values()]
    # every design shown carries its model: the table and the hover text
    assert result.pareto["model_shape"].iloc[0] in text
    assert all(t.split("<br>")[0] in set(result.pareto["model_shape"]) for t in data["front"]["hover"]["text"])
    # one count of extrapolated accuracy, the search's own
    counts = D.summary_counts(res)
    assert counts["extrapolated"] == result.run["counts"]["accuracy_extrapolated"]


def _pages(tmp_path: Path, tag: str) -> dict[str, str]:
    """Every kind of page, written into tmp_path/tag: reports (2 and 3 objectives, none feasible, a real run), compare, sweep."""
    from catransformers.search import load_spec, run_search
    from catransformers.viz import write_compare_report, write_report, write_sweep_report

    root = tmp_path / tag
    out = {}
    objs = (("accuracy", "max"), ("latency_s", "min"), ("total_kg", "min"))
    for name, kw in (("two", {}), ("three", {"mode": "all", "objectives": objs}), ("none", {"all_infeasible": True})):
        out[name] = Path(write_report(str(make_results(root / name, **kw)))).read_text(encoding="utf-8")
    run = run_search(load_spec(overrides={"search.population": 16, "search.generations": 4}), str(root / "run"))
    run.run["timings"] = {}  # the one part of a page that differs between two runs
    out["run"] = Path(write_report(D.results_from(run, str(root / "run")))).read_text(encoding="utf-8")
    dirs = {m: str(make_results(root / "cmp" / m, mode=m, seed=s)) for s, m in enumerate(("carbon", "energy"))}
    out["compare"] = Path(write_compare_report(str(root / "cmp"), dirs)).read_text(encoding="utf-8")
    out["sweep"] = Path(write_sweep_report(str(make_sweep(root / "sweep.csv", models=("a", "b"))), str(root / "sweep.html"))).read_text(encoding="utf-8")
    return out


def _split_figures(page: str) -> tuple[str, list]:
    parts = re.split(r"var f=(.*?);Plotly\.newPlot\(", page)
    return "".join(parts[0::2]), [json.loads(p) for p in parts[1::2]]


def test_pages_built_from_figure_specs_equal_those_built_from_plotly_figures(tmp_path, monkeypatch):
    """The reports build their figures as plain data (figures.FigureSpec, no plotly objects); the
    pages are the same as with plotly's Figure objects: same HTML, the same figure JSON."""
    import contextlib

    from catransformers.viz import figures

    specs = _pages(tmp_path, "specs")
    monkeypatch.setattr(figures, "as_specs", contextlib.nullcontext)
    plotly_pages = _pages(tmp_path, "plotly")
    for name, page in specs.items():
        html_a, figs_a = _split_figures(page.replace(str(tmp_path / "specs"), "ROOT"))
        html_b, figs_b = _split_figures(plotly_pages[name].replace(str(tmp_path / "plotly"), "ROOT"))
        assert len(figs_a) == len(figs_b) > 0, name
        assert figs_a == figs_b, name
        assert html_a == html_b, name
    assert '"shapes"' in specs["two"]  # the hypervolume figure's line (add_hline) was compared too
