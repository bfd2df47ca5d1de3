"""Exact front: equal to brute-force enumeration in every mode it applies to (ties included), refusals, resume."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from catransformers.accuracy import ClipScalingEstimator, register_estimator, tower_separability
from catransformers.errors import ConfigError
from catransformers.search import Interrupted, load_spec, prepare, run_search

# 3 x 3 x 2 x 2 x 2 = 72 models x 3 x 3 x 2 = 18 accelerators = 1,296 designs (enumerable)
TINY = {
    "space.vision_layers": [10, 12],
    "space.text_layers": [10, 12],
    "space.vision_heads": {"choices": [6, 12]},
    "space.text_ffn_blocks": {"choices": [4, 8]},
    "space.vision_emb_blocks": [7, 8],
    "space.vision_ffn_blocks": 8,
    "space.text_heads": 8,
    "space.text_emb_blocks": 8,
    "hardware.axes.clusters": [1, 2, 4],
    "hardware.axes.pe_width": [64, 128, 256],
    "hardware.axes.pe_depth": [8, 16],
    "hardware.axes.l2_sram_kb": [512],
    "hardware.axes.l2_bw": [64],
    "hardware.axes.glb_mb": [4],
}
# a binding latency limit: about half of the tiny space's designs meet it
TIGHT = {"constraints.latency_s": 0.03}


@pytest.fixture(autouse=True)
def _quiet_estimator():
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def _fronts(overrides: dict, tmp_path) -> tuple:
    exact = run_search(load_spec(overrides={**overrides, "exact.enabled": True}), str(tmp_path / "exact"))
    brute = run_search(load_spec(overrides={**overrides, "exhaustive.enabled": True}), str(tmp_path / "brute"))
    return exact, brute


def _keys(result) -> set[tuple]:
    cols = list(result.setup.space.columns)
    return set(map(tuple, result.pareto[cols].to_numpy().tolist()))


def _assert_same(exact, brute) -> None:
    assert exact.run["method"] == "exact" and brute.run["method"] == "exhaustive"
    assert len(brute.pareto) > 0
    assert _keys(exact) == _keys(brute)
    assert exact.hypervolume[-1] == pytest.approx(brute.hypervolume[-1], rel=1e-12)
    for key in ("designs", "feasible", "prechecked_out"):
        assert exact.run["counts"][key] == brute.run["counts"][key], key


@pytest.mark.parametrize(
    "mode, extra",
    [
        ("carbon", {}),
        ("carbon", TIGHT),
        ("latency", {}),
        ("energy", TIGHT),
        ("all", {}),
        ("all", {"search.constraints": ["latency_s", "area_um2", "tops"], **TIGHT}),
        ("all-hw", {}),
        ("model-only", {"constraints.latency_s": 0.04}),
    ],
)
def test_exact_equals_enumeration(mode, extra, tmp_path):
    exact, brute = _fronts({**TINY, "search.mode": mode, **extra}, tmp_path)
    _assert_same(exact, brute)


def test_exact_other_objectives(tmp_path):
    # energy per inference and embodied carbon (hardware only) together with accuracy
    exact, brute = _fronts({**TINY, **TIGHT, "search.objectives": ["accuracy", "energy_j", "embodied_kg"]}, tmp_path)
    _assert_same(exact, brute)


def test_exact_keeps_hardware_ties(tmp_path):
    # the DRAM bandwidth does not change these compute-bound designs' latency, energy or area: every
    # front design appears once per such DRAM bandwidth, all with identical objectives
    over = {**TINY, "hardware.axes.dram_bw_gbps": [400.0, 800.0], "search.mode": "carbon"}
    exact, brute = _fronts(over, tmp_path)
    _assert_same(exact, brute)
    F = exact.pareto[["accuracy", "total_kg"]].to_numpy()
    assert len(np.unique(F, axis=0)) < len(F)  # the fixture really has ties


class _CoarseScaling(ClipScalingEstimator):
    """clip-scaling with each tower's kept fraction rounded down to tenths: many accuracy ties,
    still non-decreasing in each (rounded) score."""

    name = "coarse-test"

    def tower_scores(self, shapes):
        return {k: np.floor(v * 10) / 10 for k, v in super().tower_scores(shapes).items()}

    def estimate(self, shapes):
        res = super().estimate(shapes)
        s = self.tower_scores(shapes)
        acc = self.accuracy_from_scores(s)
        return type(res)(values={self.primary_metric: acc}, primary=acc, metric=self.primary_metric, estimator="coarse-test", is_estimate=True)


@pytest.fixture
def coarse():
    try:
        register_estimator("coarse-test", _CoarseScaling)
    except ConfigError:
        pass
    yield "coarse-test"


@pytest.mark.parametrize("mode", ["carbon", "latency", "all"])
def test_exact_keeps_accuracy_ties(mode, coarse, tmp_path):
    exact, brute = _fronts({**TINY, **TIGHT, "search.mode": mode, "accuracy.estimator": coarse}, tmp_path)
    _assert_same(exact, brute)
    acc = brute.evaluations["accuracy"].dropna().to_numpy()
    assert len(np.unique(acc)) < 72 // 2  # of the 72 models, many tie in accuracy


class _Undeclared:
    name = "undeclared-test"
    version = "1"
    metrics = ("avg41",)
    primary_metric = "avg41"

    def estimate(self, shapes):
        raise AssertionError("not called")


@pytest.fixture
def undeclared():
    try:
        register_estimator("undeclared-test", _Undeclared)
    except ConfigError:  # registered by an earlier test
        pass
    return "undeclared-test"


def test_exact_refuses_undeclared_estimator(undeclared):
    with pytest.raises(ConfigError, match="exact: accuracy estimator 'undeclared-test' does not declare itself monotone"):
        prepare(load_spec(overrides={**TINY, "exact.enabled": True, "accuracy.estimator": "undeclared-test"}))
    # without accuracy among the objectives the estimator does not matter
    prepare(load_spec(overrides={**TINY, "exact.enabled": True, "accuracy.estimator": "undeclared-test", "search.objectives": ["latency_s", "total_kg"]}))


def test_clip_scaling_declaration():
    est = ClipScalingEstimator()
    assert tower_separability(est) is None
    from catransformers.workloads import pruning_space, resolve_model

    space = pruning_space(resolve_model("vit-b-16"))
    rng = np.random.default_rng(1)
    values = {v.name: rng.choice(v.values, 50) for v in space.variables}
    batch = space.decode(values)
    s = est.tower_scores(batch)
    assert np.array_equal(est.accuracy_from_scores(s), est.estimate(batch).primary)
    # more of either tower never lowers the estimate
    up = {k: v * 1.1 for k, v in s.items()}
    assert np.all(est.accuracy_from_scores({"vision": up["vision"], "text": s["text"]}) >= est.accuracy_from_scores(s))
    assert np.all(est.accuracy_from_scores({"vision": s["vision"], "text": up["text"]}) >= est.accuracy_from_scores(s))


def test_exact_refuses_negative_exponent():
    from dataclasses import replace

    est = ClipScalingEstimator()
    c = est.constants
    metrics = dict(c.metrics)
    metrics["avg41"] = replace(metrics["avg41"], alpha_text=-0.1)
    est.constants = replace(c, metrics=metrics)
    assert "alpha_text" in tower_separability(est)


def test_exact_rejects_bad_spec_values():
    with pytest.raises(ConfigError, match="exact.enabled: 'yes' is not allowed"):
        load_spec(overrides={"exact.enabled": "yes"})
    with pytest.raises(ConfigError, match="one of them"):
        load_spec(overrides={"exact.enabled": True, "exhaustive.enabled": True})


def test_exact_resumes_to_the_same_front(tmp_path):
    over = {**TINY, **TIGHT, "exact.enabled": True, "exact.chunk": 4}
    full = run_search(load_spec(overrides=over), str(tmp_path / "full"))
    calls = []

    def stop_after_two(p):
        calls.append(p)
        if len(calls) == 2:
            raise Interrupted()

    out = str(tmp_path / "part")
    with pytest.raises(Interrupted):
        run_search(load_spec(overrides=over), out, progress=stop_after_two)
    assert calls[-1].generation == 2 and calls[-1].generations == 5 and calls[-1].method == "exact"
    resumed = run_search(load_spec(overrides=over), out, resume=True)
    assert _keys(resumed) == _keys(full)
    with open(os.path.join(tmp_path, "full", "pareto.csv")) as a, open(os.path.join(out, "pareto.csv")) as b:
        assert a.read() == b.read()
    assert resumed.run["counts"] == full.run["counts"]


def test_exact_resume_refuses_another_spec(tmp_path):
    over = {**TINY, "exact.enabled": True, "exact.chunk": 4}
    out = str(tmp_path / "r")

    def stop(p):
        raise Interrupted()

    with pytest.raises(Interrupted):
        run_search(load_spec(overrides=over), out, progress=stop)
    with pytest.raises(ConfigError, match="spec differs"):
        run_search(load_spec(overrides={**over, "constraints.latency_s": 0.04}), out, resume=True)
    # a tampered front is refused, not loaded
    with open(os.path.join(out, "checkpoint", "exact.npz"), "r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00\x01\x02")
    with pytest.raises(ConfigError, match="does not match"):
        run_search(load_spec(overrides=over), out, resume=True)


def test_exact_refuses_custom_evaluator(tmp_path):
    from catransformers.search import SerialEvaluator

    with pytest.raises(ConfigError, match="custom evaluator"):
        run_search(load_spec(overrides={**TINY, "exact.enabled": True}), None, evaluator=lambda fn: SerialEvaluator(fn))


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def test_cli_exact(tmp_path, capsys, undeclared):
    import json

    from catransformers.cli.main import main

    sets = []
    for k, v in TINY.items():
        sets += ["--set", f"{k}={_toml(v)}"]
    assert main(["search", "--exact", "--out", str(tmp_path / "c"), "--no-report", "--no-progress", *sets]) == 0
    run = json.loads((tmp_path / "c" / "run.json").read_text())
    assert run["method"] == "exact" and run["counts"]["pareto"] > 0
    capsys.readouterr()
    assert main(["search", "--exact", "--accuracy", "undeclared-test", "--no-progress", "--out", str(tmp_path / "d"), *sets]) == 2
    err = capsys.readouterr().err
    assert "exact:" in err and "GA" in err and len(err.strip().splitlines()) == 1


def _brute_pairs(prob, lat, en, acc):
    """Every pair on one accelerator, feasible ones filtered by plain non-domination (ties kept)."""
    from catransformers.pareto import non_dominated

    I, J = np.meshgrid(np.arange(lat[0].shape[1]), np.arange(lat[1].shape[1]), indexing="ij")
    I, J = I.ravel(), J.ravel()
    L = lat[0][0, I] + lat[1][0, J]
    ok = L / prob.lat_limit - 1.0 <= 0 if prob.lat_con else np.ones(len(I), bool)
    I, J, L = I[ok], J[ok], L[ok]
    E = en[0][0, I] + en[1][0, J]
    cols = [-acc[I, J]] + ([L] if prob.lat_obj else []) + ([E] if prob.energy_strict else [])
    keep = non_dominated(np.column_stack(cols))
    return set(zip(I[keep].tolist(), J[keep].tolist()))


@pytest.mark.parametrize("lat_obj, lat_con", [(False, True), (True, False), (True, True)])
def test_pairing_with_many_ties_equals_brute_force(lat_obj, lat_con):
    # integer costs and scores from tiny ranges: exact ties in every component, and an accuracy
    # that is flat (clipped) over part of the range, the case the strict-component rule exists for
    from types import SimpleNamespace

    from catransformers.search.exact import _per_accelerator

    rng = np.random.default_rng(7)
    for trial in range(60):
        n0, n1 = rng.integers(1, 25, 2)
        lat = [rng.integers(1, 5, (1, n)).astype(float) for n in (n0, n1)]
        en = [rng.integers(1, 5, (1, n)).astype(float) for n in (n0, n1)]
        scores = [rng.integers(0, 4, (n, 1)).astype(float) for n in (n0, n1)]
        acc = np.maximum(2.0, scores[0][:, None, 0] + scores[1][None, :, 0])
        prob = SimpleNamespace(acc=True, lat_obj=lat_obj, lat_con=lat_con, lat_limit=5.0 if lat_con else np.inf, energy_strict=True, uses_latency=True)
        i, j, *_ = _per_accelerator(prob, 0, lat, en, scores, acc, None)
        assert set(zip(i.tolist(), j.tolist())) == _brute_pairs(prob, lat, en, acc), trial


def test_exact_one_tower_model(tmp_path):
    # bert-base has a single tower: the pairing degenerates to that tower's configurations
    over = {
        "model.name": "bert-base",
        "search.objectives": ["latency_s", "total_kg"],
        "space.encoder_layers": [10, 12],
        "space.encoder_ffn_blocks": [14, 16],
        **{k: v for k, v in TINY.items() if k.startswith("hardware.")},
        **TIGHT,
    }
    exact, brute = _fronts(over, tmp_path)
    _assert_same(exact, brute)


def test_exact_refuses_a_profile_that_charges_layers_across_towers():
    # catransformers-code charges global layers 0 and 12 of both towers (hw_models.layers): a
    # tower's cost then depends on the other tower's depth, which exact's pairing cannot add up
    with pytest.raises(ConfigError, match=r"exact: profile 'catransformers-code' charges layers by their place across both towers"):
        prepare(load_spec(overrides={**TINY, "exact.enabled": True, "hardware.profile": "catransformers-code"}))
    prepare(load_spec(overrides={**TINY, "exact.enabled": True}))  # the default counts each layer once
