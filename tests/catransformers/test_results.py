"""What results tell a researcher: the metric registry, model_shape, extrapolated accuracy, the
recommended design, scenario and hardware columns, infeasibility counts, progress lines, compare
across scenarios and its winners."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import fields
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import hw_models
from catransformers.accuracy import RANGE_REASONS, get_estimator, range_reason
from catransformers.cli import main
from catransformers.cli.progress import ProgressBar, stalled
from catransformers.errors import ConfigError
from catransformers.evaluate import METRIC_KEYS
from catransformers.metrics import METRICS, column_unit, get_metric
from catransformers.search import OBJECTIVES, load_spec, run_search
from catransformers.search.compare import compare_table, scenario_specs
from catransformers.search.decision import normalised, recommend_index
from catransformers.workloads import get_model, model_shape

SUFFIX_UNITS = {"_s": "s", "_j": "J", "_um2": "um^2", "_mm2": "mm^2", "_kg": "kg CO2e", "_kwh": "kWh"}
SMALL = {"search.population": 10, "search.generations": 3}


def small_run(tmp_path, **overrides):
    return run_search(load_spec(overrides={**SMALL, **overrides}), str(tmp_path))


# ------------------------------------------------------------------------- the registry


def test_every_pipeline_metric_is_in_the_registry_with_the_unit_of_its_name():
    assert set(METRIC_KEYS) <= set(METRICS)
    for name, m in METRICS.items():
        for suffix, unit in SUFFIX_UNITS.items():
            if name.endswith(suffix):
                assert m.unit == unit, name
        assert m.direction in ("min", "max", None)
    assert get_metric("latency_s").display(0.05) == pytest.approx(50.0) and get_metric("latency_s").display_unit == "ms"
    assert get_metric("area_um2").display(31_990_347) == pytest.approx(31.990347)
    with pytest.raises(ConfigError, match="metric: 'latency_ms' is unknown"):
        get_metric("latency_ms")


def test_objectives_read_direction_and_label_from_the_registry():
    for name, o in OBJECTIVES.items():
        assert o.direction == METRICS[name].direction and o.label == METRICS[name].si_header


def test_every_hardware_field_and_result_column_has_a_unit(tmp_path):
    assert set(hw_models.FIELD_UNITS) == {f.name for f in fields(hw_models.HardwareConfig)}
    assert column_unit("l2_bw") == "words/cycle per cluster" and column_unit("glb_mb") == "MiB"
    small_run(tmp_path)
    for col in pd.read_csv(tmp_path / "evaluations.csv").columns:
        if col.endswith(("_layers", "_heads", "_blocks")):
            continue  # pruning variables: counts
        assert column_unit(col) is not None, col


# ------------------------------------------------------------------------- model_shape


def test_model_shape_is_the_compact_form_of_the_kept_dimensions():
    base = get_model("vit-b-16")
    m = base.with_dims(vision={"layers": 9, "heads": 6, "ffn": 2304, "width": 672}, text={"layers": 8, "heads": 6, "ffn": 1536, "width": 512})
    assert model_shape(m) == ["vision 9L/6H/2304F/672E | text 8L/6H/1536F/512E"]
    assert model_shape(base) == ["vision 12L/12H/3072F/768E | text 12L/8H/2048F/512E"]


def test_model_shape_column_agrees_with_the_pruning_columns(tmp_path):
    small_run(tmp_path)
    ev = pd.read_csv(tmp_path / "evaluations.csv")
    for row in ev.head(20).to_dict("records"):
        vision, text = row["model_shape"].split(" | ")
        assert vision.startswith(f"vision {row['vision_layers']}L/{row['vision_heads']}H/")
        assert text.startswith(f"text {row['text_layers']}L/{row['text_heads']}H/")
        # 8 blocks per tower in the shipped space: FFN width = blocks x 3072/8 (vision), x 2048/8 (text)
        assert f"/{row['vision_ffn_blocks'] * 384}F/{row['vision_emb_blocks'] * 96}E" in vision


# ------------------------------------------------------------------------- extrapolated accuracy


def _shapes(**dims):
    full = {"vision_layers": 12, "vision_heads": 12, "vision_ffn": 3072, "vision_width": 768, "text_layers": 12, "text_heads": 8, "text_ffn": 2048, "text_width": 512}
    full.update(dims)
    return {k: np.array([v]) for k, v in full.items()}


def test_out_of_range_code_names_each_reason():
    est = get_estimator()
    # every vision dimension at half its base: rho_vision = 1/2 * 1/2 * (1/2) = 0.125 < 0.1875, dims at the floor (inside)
    half = est.estimate(_shapes(vision_layers=6, vision_heads=6, vision_ffn=1536, vision_width=384))
    assert half.out_of_range.tolist() == [True] and range_reason(half.out_of_range_code[0]) == "rho_vision below the smallest fit point"
    below = est.estimate(_shapes(vision_layers=5, vision_heads=6, vision_ffn=1536, vision_width=384))
    assert range_reason(below.out_of_range_code[0]) == "rho_vision below the smallest fit point; vision_layers below half its base"
    inside = est.estimate(_shapes())
    assert inside.out_of_range_code.tolist() == [0] and range_reason(0) == ""
    assert RANGE_REASONS[-1] == "outside the estimator's validated range"


def test_extrapolated_flags_counted_once_per_run_without_warnings(tmp_path, caplog):
    # a space that reaches below the validated range: every vision dimension may halve
    overrides = {"space.vision_layers": [6, 7], "space.vision_heads": [6, 7], "space.vision_ffn_blocks": [4, 5], "space.vision_emb_blocks": [4, 5]}
    with caplog.at_level(logging.WARNING):
        result = small_run(tmp_path, **overrides)
    assert not [r for r in caplog.records if "validated range" in r.getMessage()]
    ev, pareto = pd.read_csv(tmp_path / "evaluations.csv"), pd.read_csv(tmp_path / "pareto.csv")
    flag = ev["accuracy_extrapolated"].fillna(False).astype(bool)
    assert flag.sum() > 0
    counts = json.loads((tmp_path / "run.json").read_text())["counts"]
    assert counts["accuracy_extrapolated"] == flag.sum() == result.run["counts"]["accuracy_extrapolated"]
    assert counts["accuracy_extrapolated_pareto"] == pareto["accuracy_extrapolated"].fillna(False).astype(bool).sum()
    assert (ev.loc[flag, "accuracy_extrapolated_reason"].str.len() > 0).all()
    assert ev.loc[ev["accuracy_extrapolated"] == False, "accuracy_extrapolated_reason"].isna().all()  # noqa: E712 (empty cells)
    # not evaluated (over the area/TOPS limits): no accuracy, so no flag either way
    assert ev.loc[ev["accuracy"].isna(), "accuracy_extrapolated"].isna().all()


# ------------------------------------------------------------------------- the recommended design


def test_asf_picks_the_least_worst_normalised_shortfall():
    F = np.array([[0.0, 10.0], [2.0, 3.0], [10.0, 0.0]])
    assert normalised(F).tolist() == [[0.0, 1.0], [0.2, 0.3], [1.0, 0.0]]
    assert recommend_index(F) == 1  # max(0.2, 0.3) = 0.3 < 1
    assert recommend_index(np.array([[1.0, 1.0], [1.0, 1.0]])) == 0  # ties: the first row


def test_recommended_design_in_run_json_with_a_breakdown_that_adds_up(tmp_path):
    result = small_run(tmp_path)
    rec = json.loads((tmp_path / "run.json").read_text())["recommended"]
    assert rec == json.loads(json.dumps(result.recommended))
    pareto = pd.read_csv(tmp_path / "pareto.csv")
    row = pareto[pareto["id"] == rec["id"]].iloc[0]
    assert rec["method"] == "asf" and rec["model_shape"] == row["model_shape"]
    same = pareto[(pareto["accuracy"] == row["accuracy"]) & (pareto["total_kg"] == row["total_kg"]) & (pareto["id"] != rec["id"])]
    assert rec["tied_ids"] == same["id"].tolist()
    assert rec["objectives"]["total_kg"] == pytest.approx(row["total_kg"]) and rec["hardware"]["pe_width"] == row["pe_width"]
    assert rec["best_by_objective"]["accuracy"]["value"] == pytest.approx(pareto["accuracy"].max())
    assert rec["best_by_objective"]["total_kg"]["value"] == pytest.approx(pareto["total_kg"].min())
    b = rec["breakdown"]
    assert sum(b["energy_by_component_j"].values()) == pytest.approx(row["energy_j"], rel=1e-9)
    assert sum(b["area_by_part_um2"].values()) == pytest.approx(row["area_um2"], rel=1e-9)
    assert sum(b["latency_by_op_class_s"].values()) == pytest.approx(row["latency_s"], rel=1e-9)
    c = b["carbon_kg"]
    assert c["embodied_kg"] + c["operational_kg"] == pytest.approx(row["total_kg"], rel=1e-9)
    assert c["embodied_logic_kg"] + c["embodied_dram_kg"] == pytest.approx(c["embodied_kg"], rel=1e-9)
    assert {g["op"] for g in b["gemm_mappings"]} >= {"vision.qkv", "text.mlp_fc1"}
    assert all(g["dataflow"] in hw_models.DATAFLOWS for g in b["gemm_mappings"])


def test_area_breakdown_adds_up_on_the_reference_grid():
    grid = hw_models.reference_grid()
    parts = hw_models.area_breakdown_um2(grid)
    assert np.allclose(sum(parts.values()), hw_models.area_um2(grid), rtol=1e-12)
    # the area-limit design (docs/reference-facts.md 1.1): 4 x 256 x 16 PEs at 380.19472 um^2 each
    one = hw_models.area_breakdown_um2(hw_models.HardwareBatch.from_configs(hw_models.HardwareConfig()))
    assert one["pe_array"][0] == pytest.approx(4 * 256 * 16 * 380.19472)


# ------------------------------------------------------------------------- scenario, hardware and infeasibility columns


def test_every_row_carries_its_scenario_and_the_run_counts_broken_limits(tmp_path):
    result = small_run(tmp_path, **{"constraints.latency_s": 0.02})
    ev = pd.read_csv(tmp_path / "evaluations.csv")
    assert (ev["scenario"] == "reference").all() and (ev["use_region"] == "CA-BC-PAPER").all()
    assert np.allclose(ev["intensity_g_per_kwh"], 68.0) and np.allclose(ev["inferences"], 3e7)
    broken = result.run["infeasible_by_constraint"]
    assert broken["latency_s"] == {"limit": 0.02, "broken": int((ev["latency_s"] > 0.02).sum()), "checked": int(ev["latency_s"].notna().sum())}
    assert broken["tops"]["broken"] == int((ev["tops"] > 20.48).sum()) and broken["tops"]["checked"] == len(ev)


def test_evaluate_csv_has_hardware_and_scenario_columns(capsys):
    assert main(["evaluate", "--format", "csv"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    for col in (*hw_models.FIELD_UNITS, "model_shape", "latency_s", "total_kg", "accuracy_extrapolated", "scenario", "intensity_g_per_kwh", "inferences"):
        assert col in frame.columns, col
    assert frame["l2_bw"].iloc[0] == 128 and frame["scenario"].iloc[0] == "reference"


# ------------------------------------------------------------------------- progress without a terminal


def test_stalled_is_less_than_a_tenth_of_a_percent_over_ten_generations():
    assert not stalled([1.0] * 10)  # too short to tell
    assert stalled([1.0] * 11)
    assert not stalled([1.0 + 0.01 * i for i in range(11)])
    assert stalled([1.0] * 5 + [1.0 + 1e-5 * i for i in range(6)])


def test_plain_progress_lines_every_n_generations_and_one_stall_note():
    out = io.StringIO()
    bar = ProgressBar(True, "carbon", tty=False, every=10, stream=out)
    for g in range(1, 31):
        bar(SimpleNamespace(generation=g, generations=30, designs=10 * g, feasible=8 * g, hypervolume=min(g, 5) * 0.1, elapsed_s=0.1 * g))
    lines = out.getvalue().splitlines()
    gens = [line for line in lines if "generation " in line and "note" not in line]
    assert [line.split(":")[0] for line in gens] == ["carbon  generation 1/30", "carbon  generation 10/30", "carbon  generation 20/30", "carbon  generation 30/30"]
    assert "feasible 80" in gens[1] and "HV 0.5" in gens[1] and "\r" not in out.getvalue()
    notes = [line for line in lines if "note:" in line]
    assert len(notes) == 1 and "(generation 15)" in notes[0]


# ------------------------------------------------------------------------- compare


def _front(mode_rows):
    return pd.DataFrame(mode_rows)


def test_a_design_over_a_limit_is_never_the_winner():
    ok = {"meets_latency_s": True, "meets_area_um2": True, "meets_tops": True}
    fronts = {
        "carbon": _front([{"id": 1, "accuracy": 0.5, "total_kg": 0.30, "model_shape": "a", **ok}]),
        # the all mode's cheapest design breaks the latency limit (its mode does not constrain latency)
        "all": _front([{"id": 2, "accuracy": 0.5, "total_kg": 0.20, "model_shape": "b", **ok, "meets_latency_s": False}]),
    }
    table = compare_table(fronts, {"carbon": "total_kg", "all": "total_kg"}, targets=[0.5])
    win = table[table["winner"]]
    assert win["mode"].tolist() == ["carbon"]
    over = table[table["mode"] == "all"].iloc[0]
    assert not over["meets_limits"] and over["broken_limits"] == "latency_s"
    # the front has a design within every limit: it is chosen instead of the cheaper one over a limit
    fronts["all"] = _front([{"id": 2, "accuracy": 0.5, "total_kg": 0.20, **ok, "meets_latency_s": False}, {"id": 3, "accuracy": 0.5, "total_kg": 0.25, **ok}])
    table = compare_table(fronts, {"carbon": "total_kg", "all": "total_kg"}, targets=[0.5])
    assert table.set_index("mode").loc["all", "id"] == 3 and table[table["winner"]]["mode"].tolist() == ["all"]


def test_scenario_tokens_are_presets_or_region_codes():
    spec = load_spec()
    specs = scenario_specs(spec, ["paper", "TW-PAPER"])
    assert specs["paper"].scenario == "paper"
    assert specs["TW-PAPER"].scenario == "reference" and dict(specs["TW-PAPER"].scenario_overrides)["use_region"] == "TW-PAPER"
    with pytest.raises(ConfigError, match="--scenarios: 'XX-NOWHERE' is neither a scenario preset nor a region code"):
        scenario_specs(spec, ["XX-NOWHERE"])


def test_cli_compare_across_scenarios(capsys, tmp_path):
    code = main(["compare", "--modes", "carbon,energy", "--scenarios", "CA-BC-PAPER,TW-PAPER", "--population", "8", "--generations", "3", "--no-progress", "--no-report", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    table = pd.read_csv(tmp_path / "compare.csv")
    assert set(table["scenario"]) == {"CA-BC-PAPER", "TW-PAPER"} and set(table["mode"]) == {"carbon", "energy"}
    for sc, intensity in (("CA-BC-PAPER", 68.0), ("TW-PAPER", 524.0)):
        ev = pd.read_csv(tmp_path / sc / "carbon" / "evaluations.csv")
        assert np.allclose(ev["intensity_g_per_kwh"], intensity)
    meta = json.loads((tmp_path / "compare.json").read_text())
    assert meta["runs"]["carbon@TW-PAPER"] == {"scenario": "TW-PAPER", "mode": "carbon", "dir": "TW-PAPER/carbon"}
    assert "Carbon-aware vs energy-aware" in out and "Recommended design of each run" in out
    assert all(meta["recommended"][label]["id"] in set(pd.read_csv(tmp_path / v["dir"] / "pareto.csv")["id"]) for label, v in meta["runs"].items())
    assert err.count("validated range") == 0


def test_equal_carbon_rows_are_all_winners():
    ok = {"meets_latency_s": True, "meets_area_um2": True, "meets_tops": True}
    fronts = {m: _front([{"id": 7, "accuracy": 0.5, "total_kg": 0.25, **ok}]) for m in ("carbon", "all")}
    table = compare_table(fronts, {"carbon": "total_kg", "all": "total_kg"}, targets=[0.5])
    assert table["winner"].tolist() == [True, True]


def test_sweep_rows_carry_model_shape_flags_and_scenario(tmp_path):
    from catransformers.carbon import load_scenario
    from catransformers.sweep import sweep

    res = sweep(get_model("vit-b-16"), load_scenario("paper"), grid=hw_models.grid({"clusters": [1, 2]}))
    t = res.table
    assert "accuracy_range_code" not in t and (t["model_shape"] == model_shape(get_model("vit-b-16"))[0]).all()
    assert (~t["accuracy_extrapolated"]).all() and (t["scenario"] == "paper").all()
    assert np.allclose(t["intensity_g_per_kwh"], 224.0) and np.allclose(t["inferences"], 3 * 365 * 6 * 3600)


def test_plain_progress_of_an_enumeration_names_the_designs():
    out = io.StringIO()
    bar = ProgressBar(True, "all-hw", tty=False, stream=out)
    for k in range(1, 13):  # chunks: hypervolume flat, yet no stall note (not generations)
        bar(SimpleNamespace(generation=0, generations=1, designs=100 * k, feasible=90 * k, hypervolume=0.5, elapsed_s=0.1, method="exhaustive"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 12 and lines[-1].startswith("all-hw  enumerated 1,200 designs: HV 0.5") and "note" not in out.getvalue()


def test_recommendation_names_the_designs_that_tie_with_it():
    from catransformers.search.decision import recommend
    from catransformers.search.objectives import get_objective

    front = pd.DataFrame(
        {"id": [3, 5, 8, 9], "accuracy": [0.40, 0.45, 0.45, 0.50], "total_kg": [0.20, 0.25, 0.25, 0.40], "l2_bw": [64, 64, 128, 64], "pe_width": [32] * 4, "model_shape": ["a", "b", "b", "c"]}
    )
    rec = recommend(front, [get_objective("accuracy"), get_objective("total_kg")], [], ["pe_width", "l2_bw"])
    # normalised: (1, 0), (0.5, 0.25), (0.5, 0.25), (0, 1): ASF max 1, 0.5, 0.5, 1 -> id 5, first of the tie
    assert rec["id"] == 5 and rec["tied_ids"] == [8] and rec["tied_differ_in"] == ["l2_bw"]
    assert rec["best_by_objective"] == {"accuracy": {"id": 9, "value": 0.5, "model_shape": "c"}, "total_kg": {"id": 3, "value": 0.2, "model_shape": "a"}}


def test_cli_search_prints_the_recommended_design_and_plain_progress(capsys, tmp_path):
    code = main(["search", "--mode", "carbon", "--population", "8", "--generations", "12", "--no-report", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    rec = json.loads((tmp_path / "run.json").read_text())["recommended"]
    assert f"Recommended design: id {rec['id']} " in out and rec["model_shape"] in out and "mapping of each GEMM:" in out
    assert "latency_ms" in out and "model_shape" in out  # display units and the model in the front table
    # stderr is not a terminal here: plain lines at generations 1, 10 and 12, no carriage returns
    assert [line.split(":")[0] for line in err.splitlines() if "generation" in line and "note" not in line] == [
        "carbon  generation 1/12", "carbon  generation 10/12", "carbon  generation 12/12"]
    assert "\r" not in err
