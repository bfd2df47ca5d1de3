"""Search: registry and modes, spec validation, pareto sets, the adapter's pre-check and cache,
determinism, resume, exhaustive enumeration, GA quality and the no-feasible case."""

from __future__ import annotations

import filecmp
import json
import logging
import os

import numpy as np
import pandas as pd
import pytest

import hw_models
from catransformers.errors import ConfigError
from catransformers.evaluate import METRIC_KEYS
from catransformers.limits import REFERENCE_LIMITS
from catransformers.search import (
    PENALTY,
    Archive,
    Interrupted,
    get_mode,
    hypervolume,
    list_modes,
    load_spec,
    non_dominated,
    pareto_mask,
    prepare,
    run_search,
    spec_from_mapping,
)
from catransformers.search.backend import EVALUATED_KEYS, concat_metrics, split_designs
from catransformers.search.spec import default_spec

# A small, enumerable subspace: 7 x 7 models x 72 accelerators = 3,528 designs.
SMALL = {
    "space.vision_layers": [6, 12],
    "space.text_layers": [6, 12],
    "space.vision_heads": 12,
    "space.text_heads": 8,
    "space.vision_ffn_blocks": 8,
    "space.text_ffn_blocks": 8,
    "space.vision_emb_blocks": 8,
    "space.text_emb_blocks": 8,
    "hardware.axes.l2_sram_kb": [256],
    "hardware.axes.l2_bw": [64],
    "hardware.axes.glb_mb": [4],
}


@pytest.fixture(autouse=True)
def _quiet_estimator():
    # the clip-scaling estimator warns about extrapolated designs; not what these tests look at
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def small_spec(**overrides):
    return load_spec(overrides={**SMALL, "search.population": 12, "search.generations": 4, **overrides})


class CountingFake:
    """A cheap analytic stand-in for the pipeline that records every design it is asked about."""

    accuracy_metric = "fake accuracy"

    def __init__(self):
        self.seen: list[dict[str, np.ndarray]] = []

    def evaluate(self, designs):
        self.seen.append({k: np.array(v) for k, v in designs.items()})
        n = len(designs["clusters"])
        macs = (designs["clusters"] * designs["pe_width"] * designs["pe_depth"]).astype(float)
        size = (designs["vision_layers"] + designs["text_layers"]) / 24.0
        out = {k: np.full(n, 1.0) for k in EVALUATED_KEYS}
        out["accuracy"] = 0.3 + 0.2 * size
        out["latency_s"] = 0.02 * size * 4096 / macs
        out["total_kg"] = 0.2 + macs / 1e5 + 0.1 * size
        out["energy_lifetime_kwh"] = 0.5 * size
        return out


# ------------------------------------------------------------------------- registry and modes


@pytest.mark.parametrize(
    "mode, objectives, constraints, variables",
    [
        ("carbon", ("accuracy", "total_kg"), ("latency_s", "area_um2", "tops"), "both"),
        ("latency", ("accuracy", "latency_s"), ("area_um2", "tops"), "both"),
        ("energy", ("accuracy", "energy_lifetime_kwh"), ("latency_s", "area_um2", "tops"), "both"),
        ("all", ("accuracy", "latency_s", "total_kg"), ("area_um2", "tops"), "both"),
        ("all-hw", ("latency_s", "total_kg"), ("area_um2", "tops"), "hardware"),
        ("model-only", ("accuracy", "energy_j"), ("latency_s",), "model"),
    ],
)
def test_each_mode_builds_its_objectives_and_constraints(mode, objectives, constraints, variables):
    m = get_mode(mode)
    assert (m.objectives, m.constraints, m.variables) == (objectives, constraints, variables)
    setup = prepare(load_spec(overrides={"search.mode": mode}))
    assert tuple(o.name for o in setup.objectives) == objectives
    assert tuple(c.name for c in setup.constraints) == constraints
    assert [o.direction for o in setup.objectives] == ["max" if o == "accuracy" else "min" for o in objectives]
    assert len(setup.reference_point) == len(objectives)
    groups = {v.group for v in setup.space.variables}
    assert groups == {"both": {"model", "hardware"}, "hardware": {"hardware"}, "model": {"model"}}[variables]


def test_modes_keep_the_ax_reference_points():
    assert get_mode("carbon").reference_point == {"accuracy": 0.15, "total_kg": 0.5}
    assert get_mode("latency").reference_point == {"accuracy": 0.1, "latency_s": 0.02}
    assert get_mode("energy").reference_point == {"accuracy": 0.1, "energy_lifetime_kwh": 2.0}
    assert get_mode("all").reference_point == {"accuracy": 0.02, "latency_s": 0.1, "total_kg": 0.4}
    assert get_mode("all-hw").reference_point == {"latency_s": 0.1, "total_kg": 1.0}
    assert set(list_modes()) == {"carbon", "latency", "energy", "all", "all-hw", "model-only"}


def test_objectives_override_and_algorithm_choice():
    setup = prepare(load_spec(overrides={"search.objectives": ["accuracy", "embodied_kg", "latency_s"]}))
    assert [o.name for o in setup.objectives] == ["accuracy", "embodied_kg", "latency_s"]
    assert setup.method == "nsga3"
    assert setup.reference_point == (0.15, 1.0, 0.1)  # accuracy from the mode, the others registry defaults
    assert prepare(load_spec()).method == "nsga2"
    assert prepare(load_spec(overrides={"search.mode": "all-hw"})).method == "exhaustive"


def test_default_spec_matches_the_reference():
    spec = load_spec()
    assert dict(spec.limits) == REFERENCE_LIMITS
    assert (spec.model, spec.grid, spec.scenario, spec.accuracy) == ("vit-b-16", "reference", "reference", "clip-scaling")
    assert (spec.algorithm, spec.population, spec.offspring, spec.offspring_count, spec.generations, spec.seed, spec.mode) == ("auto", 100, "auto", 200, 50, 0, "carbon")
    setup = prepare(spec)
    assert setup.space.size == 1_071_875 * 3240
    assert spec_from_mapping(spec.as_dict()).as_dict() == spec.as_dict()


# ------------------------------------------------------------------------- spec validation


@pytest.mark.parametrize(
    "user, match",
    [
        ({"search": {"popsize": 3}}, r"unknown key 'search.popsize'; allowed in search: algorithm, constraints, generations"),
        ({"serach": {}}, r"unknown key 'serach'; allowed in spec: accuracy, constraints"),
        ({"constraints": {"energy_j": 1}}, r"unknown key 'constraints.energy_j'; allowed in constraints: area_um2, latency_s, tops"),
        ({"search": {"population": 1}}, r"search.population: 1 is not allowed; must be a whole number from 2 to 100,000"),
        ({"search": {"offspring": 0}}, r"search.offspring: 0 is not allowed; allowed: auto \(2 x population\) or a whole number from 1 to 200,000"),
        ({"search": {"offspring": "many"}}, r"search.offspring: 'many' is not allowed; allowed: auto"),
        ({"search": {"offspring": 2.5}}, r"search.offspring: 2.5 is not allowed"),
        ({"search": {"offspring": True}}, r"search.offspring: True is not allowed"),
        ({"search": {"mode": "speed"}}, r"search.mode: 'speed' is unknown; allowed: carbon, latency"),
        ({"search": {"objectives": ["accuracy", "carbon"]}}, r"objective: 'carbon' is unknown; allowed: accuracy, total_kg"),
        ({"search": {"algorithm": "cmaes"}}, r"search.algorithm: 'cmaes' is unknown"),
        ({"search": {"reference_point": {"latency_s": 1}}}, r"search.reference_point.latency_s: not an objective"),
        ({"constraints": {"tops": -1}}, r"constraints.tops: -1 is not allowed"),
        ({"exhaustive": {"enabled": "yes"}}, r"exhaustive.enabled: 'yes' is not allowed; allowed: auto, true, false"),
    ],
)
def test_spec_errors_name_field_value_and_allowed(user, match):
    with pytest.raises(ConfigError, match=match):
        spec_from_mapping(user)


def test_spec_file_round_trip_and_unknown_key(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text('scenario = "paper"\n[search]\nmode = "latency"\npopulation = 24\n[space]\ntext_layers = [6, 9]\n')
    spec = load_spec(str(path))
    assert (spec.scenario, spec.mode, spec.population, spec.space["text_layers"]) == ("paper", "latency", 24, (6, 9))
    path.write_text("[search]\npopulaton = 24\n")
    with pytest.raises(ConfigError, match="unknown key 'search.populaton'"):
        load_spec(str(path))
    with pytest.raises(ConfigError, match="does not exist"):
        load_spec(str(tmp_path / "missing.toml"))


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"space.text_layers": [2, 12]}, r"space.text_layers: 2 is outside the base model's space; allowed: 6..12"),
        ({"space.text_depth": 3}, r"space: unknown key 'text_depth'"),
        ({"hardware.axes.clusters": [3]}, r"clusters: 3.* power of two"),
        ({"hardware.axes.pe_size": [3]}, r"hardware.axes: unknown key 'pe_size'"),
        ({"model.fixed.text_layers": 2, "search.mode": "all-hw"}, r"model.fixed.text_layers: 2 is outside"),
        ({"search.mode": "model-only", **{f"space.{k}": 6 for k in ("vision_layers", "text_layers")},
          **{f"space.{k}": 8 for k in ("vision_ffn_blocks", "text_ffn_blocks", "vision_emb_blocks", "text_emb_blocks", "text_heads")},
          "space.vision_heads": 12}, r"space: nothing to search in mode 'model-only'"),
        ({"exhaustive.enabled": True}, r"exhaustive: the space has 3,472,875,000 designs, more than exhaustive.limit"),
        ({"model.name": "bert-base"}, r"accuracy"),
    ],
)
def test_bad_spaces_are_config_errors(overrides, match):
    with pytest.raises(ConfigError, match=match):
        prepare(load_spec(overrides=overrides))


# ------------------------------------------------------------------------- pareto and hypervolume


def _brute_front(F):
    n = len(F)
    return np.array([not any(np.all(F[j] <= F[i]) and np.any(F[j] < F[i]) for j in range(n) if j != i) for i in range(n)])


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_non_dominated_matches_brute_force(m):
    rng = np.random.default_rng(m)
    for _ in range(20):
        F = rng.integers(0, 5, (30, m)).astype(float)
        assert (non_dominated(F) == _brute_front(F)).all()


def test_identical_points_both_stay_identical_designs_once():
    F = np.array([[1.0, 2.0], [1.0, 2.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0]])
    designs = np.array([[0, 0], [1, 1], [2, 2], [3, 3], [0, 0]])
    assert non_dominated(F).tolist() == [True, True, True, False, True]
    # rows 0 and 4 are the same design: kept once (the first); 0 and 1 are equal points of two designs: both kept
    assert pareto_mask(F, designs=designs).tolist() == [True, True, True, False, False]
    assert pareto_mask(F, feasible=np.array([False, True, True, True, True]), designs=designs).tolist() == [False, True, True, False, False]


def test_duplicate_design_rows_appear_once_in_the_pareto_table():
    setup = prepare(small_spec())
    archive = Archive(setup.space, setup.objectives, setup.constraints, setup.limits, CountingFake())
    X = setup.space.unravel(np.array([0, 5, 17, 3000]))
    chunk = archive.evaluate_new(X, generation=1)
    archive.add(chunk)
    archive.add({k: v.copy() for k, v in chunk.items()})  # the same designs stored twice
    table = archive.table("fake")
    front = table[table["pareto"]]
    cols = list(setup.space.columns)
    assert len(front) >= 1
    assert not front.duplicated(subset=cols).any()
    assert table.duplicated(subset=cols).sum() == len(X)  # the table does hold every design twice
    # every front design of the first copy is in the table once
    first = table.iloc[: len(X)]
    assert front["id"].tolist() == first[first["pareto"]]["id"].tolist()


def test_hypervolume_hand_example():
    # maximise accuracy, minimise kg, reference (0.15, 0.5): two boxes, union 0.25*0.3 + 0.1*0.1
    F = np.array([[-0.4, 0.2], [-0.25, 0.1], [-0.1, 0.05]])  # the last is worse than the reference accuracy
    assert hypervolume(F, [-0.15, 0.5]) == pytest.approx(0.25 * 0.3 + 0.1 * 0.1)
    assert hypervolume(np.empty((0, 2)), [0, 0]) == 0.0


def test_split_and_concat_are_inverse():
    designs = {"a": np.arange(10), "b": np.arange(10) * 2}
    parts = split_designs(designs, 3)
    assert [len(p["a"]) for p in parts] == [3, 3, 3, 1]
    joined = concat_metrics([{"x": p["a"] * 1.0} for p in parts])
    assert joined["x"].tolist() == list(range(10))


# ------------------------------------------------------------------------- the adapter


def test_area_and_tops_are_checked_before_evaluation():
    fake = CountingFake()
    spec = load_spec(overrides={"search.population": 40, "search.generations": 3, "constraints.tops": 5.0, "constraints.area_um2": 15e6})
    result = run_search(spec, None, evaluator=fake)
    setup = result.setup
    hw = setup.space.hardware({k: np.concatenate([s[k] for s in fake.seen]) for k in setup.space.columns})
    assert len(hw) == result.run["counts"]["evaluated"] > 0
    assert np.all(hw_models.tops(hw) <= 5.0) and np.all(hw_models.area_um2(hw) <= 15e6)
    ev = result.evaluations
    rejected = ev[~(ev["meets_tops"] & ev["meets_area_um2"])]
    assert len(rejected) == result.run["counts"]["prechecked_out"] > 0
    assert rejected["latency_s"].isna().all() and rejected["tops"].notna().all()
    assert not rejected["feasible"].any() and not rejected["pareto"].any()


def test_penalties_are_finite_and_constraints_normalised():
    setup = prepare(small_spec(**{"constraints.tops": 2.0}))
    archive = Archive(setup.space, setup.objectives, setup.constraints, setup.limits, CountingFake())
    X = setup.space.unravel(np.arange(0, setup.space.size, 97))
    F, G = archive.evaluate(X, generation=1)
    assert np.all(np.isfinite(F)) and np.all(np.isfinite(G))
    cat = archive.arrays()
    rejected = ~cat["evaluated"]
    assert rejected.any() and (F[rejected] == PENALTY).all()
    j = [c.name for c in setup.constraints].index("tops")
    np.testing.assert_allclose(G[:, j], cat["tops"] / 2.0 - 1.0)
    assert np.all((G.max(axis=1) <= 0) == cat["feasible"])


def test_cache_sends_each_design_once():
    fake = CountingFake()
    setup = prepare(small_spec())
    archive = Archive(setup.space, setup.objectives, setup.constraints, setup.limits, fake)
    X = setup.space.unravel(np.array([1, 2, 3, 2, 1]))
    F1, _ = archive.evaluate(X, generation=1)
    F2, _ = archive.evaluate(X[::-1], generation=2)
    assert sum(len(s["clusters"]) for s in fake.seen) == 3
    assert archive.cache_hits == 2 + 5
    np.testing.assert_array_equal(F1[::-1], F2)
    assert len(archive) == 3 and (archive.arrays()["generation"] == 1).all()


# ------------------------------------------------------------------------- determinism and resume


def _same_outputs(a, b):
    for name in ("evaluations.csv", "pareto.csv"):
        assert filecmp.cmp(os.path.join(a, name), os.path.join(b, name), shallow=False), name
    ja, jb = (json.load(open(os.path.join(d, "run.json"))) for d in (a, b))
    ja.pop("timings"), jb.pop("timings")
    assert ja == jb


def test_same_seed_same_files_other_seed_other_designs(tmp_path):
    spec = load_spec(overrides={"search.population": 12, "search.generations": 4})
    a = run_search(spec, str(tmp_path / "a"))
    run_search(spec, str(tmp_path / "b"))
    _same_outputs(tmp_path / "a", tmp_path / "b")
    c = run_search(spec.replace(**{"search.seed": 1}), None)
    assert not a.evaluations[list(a.setup.space.columns)].equals(c.evaluations[list(c.setup.space.columns)])


@pytest.mark.parametrize("algorithm", ["nsga2", "nsga3", "random"])
def test_resume_equals_uninterrupted(tmp_path, algorithm):
    overrides = {"search.population": 12, "search.generations": 5, "search.algorithm": algorithm}
    if algorithm == "nsga3":
        overrides["search.mode"] = "all"
    spec = load_spec(overrides=overrides)
    run_search(spec, str(tmp_path / "full"))

    def stop_after_two(p):
        if p.generation == 2:
            raise Interrupted()

    with pytest.raises(Interrupted):
        run_search(spec, str(tmp_path / "cut"), progress=stop_after_two)
    assert (tmp_path / "cut" / "checkpoint" / "state.json").exists()
    assert not (tmp_path / "cut" / "evaluations.csv").exists()
    assert json.loads((tmp_path / "cut" / "run.json").read_text())["status"] == "running"
    resumed = run_search(spec, str(tmp_path / "cut"), resume=True)
    assert resumed.run["generations_run"] == 5
    _same_outputs(tmp_path / "full", tmp_path / "cut")


@pytest.mark.parametrize("algorithm", ["nsga2", "random"])
def test_each_generation_after_the_first_evaluates_the_offspring_count(algorithm):
    """population in the first generation, `search.offspring` new designs in each later one (auto: 2 x population)."""
    for offspring, per_generation in ((15, 15), ("auto", 24)):
        r = run_search(load_spec(overrides={"search.population": 12, "search.offspring": offspring, "search.generations": 4, "search.algorithm": algorithm}), None)
        sizes = r.evaluations.groupby("generation").size().to_dict()
        assert sizes == {1: 12, 2: per_generation, 3: per_generation, 4: per_generation}
        assert r.run["counts"]["designs"] == 12 + 3 * per_generation


def test_resume_can_extend_and_refuses_another_spec(tmp_path):
    spec = load_spec(overrides={"search.population": 10, "search.generations": 3})
    run_search(spec, str(tmp_path / "x"))
    longer = spec.replace(**{"search.generations": 5})
    run_search(longer, str(tmp_path / "x"), resume=True)
    run_search(longer, str(tmp_path / "y"))
    _same_outputs(tmp_path / "x", tmp_path / "y")
    with pytest.raises(ConfigError, match=r"--resume: the spec differs from the checkpoint's at search.population"):
        run_search(spec.replace(**{"search.population": 12}), str(tmp_path / "x"), resume=True)


# ------------------------------------------------------------------------- results folder


def test_results_folder_contract(tmp_path):
    result = run_search(load_spec(overrides={"search.population": 10, "search.generations": 3}), str(tmp_path))
    ev = pd.read_csv(tmp_path / "evaluations.csv")
    pareto = pd.read_csv(tmp_path / "pareto.csv")
    run = json.load(open(tmp_path / "run.json"))
    space = result.setup.space
    expected = ["id", "generation", *space.model_columns, *hw_models.SEARCH_KEYS, "model_shape", *METRIC_KEYS, "accuracy_metric",
                "accuracy_extrapolated", "accuracy_extrapolated_reason", "scenario", "use_region", "intensity_g_per_kwh", "inferences",
                "meets_latency_s", "meets_area_um2", "meets_tops", "feasible", "failed", "pareto"]
    assert list(ev.columns) == expected and list(pareto.columns) == expected
    assert ev["id"].tolist() == list(range(len(ev))) and sorted(ev["generation"].unique()) == [1, 2, 3]
    assert len(pareto) == ev["pareto"].sum() > 0 and pareto["feasible"].all()
    assert ev["accuracy_metric"].iloc[0].startswith("avg over 41 tasks (estimate")
    for key in ("mode", "objectives", "constraints", "hypervolume", "reference_point", "spec", "seed", "versions", "timings", "status"):
        assert key in run
    assert run["objectives"] == [{"name": "accuracy", "direction": "max", "label": "accuracy (fraction)"},
                                 {"name": "total_kg", "direction": "min", "label": "total carbon (kg CO2e)"}]
    assert run["constraints"] == REFERENCE_LIMITS and run["reference_point"] == [0.15, 0.5]
    assert len(run["hypervolume"]) == 3 and run["hypervolume"] == sorted(run["hypervolume"])
    assert run["status"] == "complete" and run["counts"]["designs"] == len(ev) == 10 + 2 * 20  # offspring auto: 2 x population
    # pareto rows are non-dominated among the feasible rows, in the objectives' directions
    F = np.column_stack([-ev["accuracy"], ev["total_kg"]])
    assert (ev["pareto"].to_numpy() == pareto_mask(F, ev["feasible"].to_numpy())).all()


def test_no_feasible_design_is_reported_and_still_written(tmp_path):
    spec = load_spec(overrides={"search.population": 8, "search.offspring": 8, "search.generations": 2, "constraints.latency_s": 1e-6})
    result = run_search(spec, str(tmp_path))
    assert result.status == "no-feasible"
    assert result.run["message"].startswith("no feasible design: none of 16 designs meets every constraint (latency_s <= 1e-06: 0 of ")
    assert "area_um2 <= 31,990,347: " in result.run["message"]
    ev = pd.read_csv(tmp_path / "evaluations.csv")
    assert len(ev) == 16 and not ev["feasible"].any()
    assert len(pd.read_csv(tmp_path / "pareto.csv")) == 0
    assert json.load(open(tmp_path / "run.json"))["status"] == "no-feasible"


def test_everything_over_the_tops_limit_is_never_evaluated():
    fake = CountingFake()
    result = run_search(load_spec(overrides={"search.population": 8, "search.offspring": 8, "search.generations": 2, "constraints.tops": 0.01}), None, evaluator=fake)
    assert fake.seen == [] and result.status == "no-feasible"
    assert "tops <= 0.01: 0 of 16 met" in result.run["message"] and "latency_s <= 0.05: 0 of 0 evaluated met" in result.run["message"]


# ------------------------------------------------------------------------- exhaustive and GA quality


def test_all_hw_enumerates_the_grid_and_matches_brute_force():
    from catransformers.carbon import load_scenario
    from catransformers.sweep import sweep
    from catransformers.workloads import get_model

    result = run_search(load_spec(overrides={"search.mode": "all-hw"}), None)
    assert result.run["method"] == "exhaustive" and result.run["counts"]["designs"] == 3240
    assert result.run["counts"]["evaluated"] == 3060  # the TOPS cap; every one of them meets the area cap
    brute = sweep(get_model("vit-b-16"), load_scenario("reference"), accuracy=None).table
    ok = brute[(brute["tops"] <= REFERENCE_LIMITS["tops"]) & (brute["area_um2"] <= REFERENCE_LIMITS["area_um2"])]
    front = result.pareto
    assert front["latency_s"].min() == pytest.approx(ok["latency_s"].min(), rel=1e-12)
    assert front["total_kg"].min() == pytest.approx(ok["total_kg"].min(), rel=1e-12)
    F = ok[["latency_s", "total_kg"]].to_numpy()
    expected = ok[_brute_front(F)] if len(F) <= 400 else ok[non_dominated(F)]
    key = list(hw_models.SEARCH_KEYS)
    assert sorted(map(tuple, front[key].to_numpy().tolist())) == sorted(map(tuple, expected[key].to_numpy().tolist()))


def test_ga_reaches_most_of_the_exact_front_hypervolume():
    exact = run_search(small_spec(**{"exhaustive.enabled": True}), None)
    assert exact.run["counts"]["designs"] == 3528
    fractions = []
    for seed in (0, 1):
        ga = run_search(small_spec(**{"search.population": 20, "search.generations": 8, "search.seed": seed}), None)  # 20 + 7 x 40
        assert ga.run["counts"]["designs"] == 300
        fractions.append(ga.hypervolume[-1] / exact.hypervolume[0])
    assert min(fractions) > 0.95, fractions
    assert max(fractions) <= 1.0 + 1e-12


def test_exhaustive_over_max_rows_keeps_only_front_rows():
    full = run_search(small_spec(**{"exhaustive.enabled": True}), None, evaluator=CountingFake())
    capped = run_search(small_spec(**{"exhaustive.enabled": True, "exhaustive.max_rows": 100, "exhaustive.chunk_size": 500}), None, evaluator=CountingFake())
    assert capped.run["counts"] == full.run["counts"]
    assert len(capped.evaluations) < len(full.evaluations)
    cols = list(full.setup.space.columns)
    assert full.pareto[cols].reset_index(drop=True).equals(capped.pareto[cols].reset_index(drop=True))
    assert capped.hypervolume == pytest.approx(full.hypervolume)


def test_defaults_file_is_in_the_package():
    tree = default_spec()
    assert set(tree) == {"model", "space", "hardware", "constraints", "scenario", "accuracy", "search", "exhaustive", "exact"}
