"""evaluate_cost: totals that add up, broadcasting, the op table, leakage, errors, ViT-B-16 checks."""

import dataclasses

import numpy as np
import pytest

from _hw_fixtures import UNLIMITED, one, vit_layer
from hw_models import (
    BOUNDS,
    ENERGY_COMPONENTS,
    CostReport,
    Gemm,
    HardwareBatch,
    HardwareConfig,
    HardwareError,
    VectorOp,
    Workload,
    area_mm2,
    evaluate_cost,
    load_profile,
    reference_grid,
    tops,
)


@pytest.fixture(scope="module")
def grid_report() -> CostReport:
    return evaluate_cost(vit_layer(repeat=12), reference_grid())


def test_per_op_and_per_component_sums_add_up(grid_report):
    r = grid_report
    assert r.op_latency_s.shape == r.op_energy_j.shape == r.op_cycles.shape == (len(r.op_names), 3240)
    assert np.allclose(r.op_latency_s.sum(axis=0), r.latency_s, rtol=1e-12)
    assert np.allclose(r.op_energy_j.sum(axis=0), r.energy_j, rtol=1e-12)
    assert set(r.energy_by_component) == set(ENERGY_COMPONENTS)
    assert np.allclose(sum(r.energy_by_component.values()), r.energy_j, rtol=1e-12)
    assert np.allclose(r.op_latency_s, r.op_cycles / 625e6)
    assert np.all(r.energy_by_component["leakage"] == 0)


def test_area_tops_and_macs_fields(grid_report):
    hw = reference_grid()
    assert np.array_equal(grid_report.area_mm2, area_mm2(hw))
    assert np.array_equal(grid_report.tops, tops(hw))
    assert np.all(grid_report.macs == 12 * vit_layer().macs()[0])
    # mac and register energy are MACs times the per-access energies, whatever the mapping.
    p = load_profile()
    assert np.allclose(grid_report.energy_by_component["mac"], grid_report.macs * p.mac_pj * 1e-12)
    assert np.allclose(grid_report.energy_by_component["register"], grid_report.macs * 3 * p.register_pj * 1e-12)


def test_vit_layer_is_plausible_on_the_area_limit_design():
    hw = HardwareBatch.from_configs(HardwareConfig())  # 4 x 256x16, 1 MB L2, 8 MB GLB, 128 words/cycle
    r = evaluate_cost(vit_layer(), hw)
    macs = vit_layer().macs()[0]
    assert macs == 197 * 768 * 2304 + 2 * 12 * 197 * 64 * 197 + 197 * 768 * 768 + 2 * 197 * 768 * 3072
    ideal_s = macs / (4 * 256 * 16) / 625e6
    assert ideal_s < r.latency_s[0] < 3 * ideal_s
    # Energy per MAC at least the MAC itself and below a DRAM access per MAC.
    per_mac_pj = r.energy_j[0] / macs * 1e12
    assert load_profile().mac_pj < per_mac_pj < 64
    for row in r.op_table():
        assert 0 < row["utilisation"] <= 1 + 1e-12
        assert row["bound"] in BOUNDS


def test_op_table_matches_the_batch_numbers(grid_report):
    for i in (0, 1234, 3239):
        rows = grid_report.op_table(i)
        assert [row["name"] for row in rows] == list(grid_report.op_names)
        for j, row in enumerate(rows):
            assert row["cycles"] == pytest.approx(grid_report.op_cycles[j, i], rel=1e-12)
            assert row["latency_s"] == grid_report.op_latency_s[j, i]
            assert row["energy_j"] == grid_report.op_energy_j[j, i]
            assert set(row) >= {"name", "kind", "group", "macs", "latency_s", "energy_j", "utilisation", "bound"}
        gemm_rows = [row for row in rows if row["kind"] == "gemm"]
        assert sum(row["macs"] for row in gemm_rows) == grid_report.macs[i]
    with pytest.raises(HardwareError, match="design index"):
        grid_report.op_table(3240)


def _random_pairs(n: int, seed: int):
    rng = np.random.default_rng(seed)
    width = rng.integers(4, 9, n) * 96
    heads = rng.integers(6, 13, n)
    ffn = rng.integers(4, 9, n) * 384
    layers = rng.integers(6, 13, n)
    ops = (
        VectorOp("ln", "layernorm", 197 * width, row=width, repeat=layers),
        Gemm("qkv", 197, width, 3 * 64 * heads, repeat=layers),
        Gemm("qk", 197, 64, 197, batch=heads, repeat=layers),
        VectorOp("sm", "softmax", heads * 197 * 197, row=197, repeat=layers),
        Gemm("fc1", 197, width, ffn, repeat=layers),
        VectorOp("act", "quick_gelu", 197 * ffn, row=ffn, repeat=layers),
        Gemm("fc2", 197, ffn, width, repeat=layers),
    )
    grid = reference_grid()
    return Workload(ops), grid.take(rng.integers(0, len(grid), n))


def _single(wl: Workload, i: int) -> Workload:
    pick = lambda a: a[i : i + 1] if a.size > 1 else a  # noqa: E731
    ops = []
    for op in wl.ops:
        if isinstance(op, Gemm):
            ops.append(Gemm(op.name, pick(op.m), pick(op.k), pick(op.n), pick(op.batch), pick(op.repeat)))
        else:
            ops.append(VectorOp(op.name, op.kind, pick(op.elements), pick(op.row), pick(op.repeat)))
    return Workload(tuple(ops))


def _assert_same(a: CostReport, i: int, b: CostReport, j: int = 0):
    for f in ("latency_s", "energy_j", "area_um2", "tops", "macs"):
        assert getattr(a, f)[i] == pytest.approx(getattr(b, f)[j], rel=1e-12), f
    assert np.allclose(a.op_cycles[:, i], b.op_cycles[:, j], rtol=1e-12)
    assert np.allclose(a.op_energy_j[:, i], b.op_energy_j[:, j], rtol=1e-12)
    for k in ENERGY_COMPONENTS:
        assert a.energy_by_component[k][i] == pytest.approx(b.energy_by_component[k][j], rel=1e-12, abs=1e-30)


def test_zip_broadcast_equals_one_by_one():
    wl, hw = _random_pairs(40, seed=3)
    zipped = evaluate_cost(wl, hw)
    assert len(zipped) == 40
    for i in range(40):
        _assert_same(zipped, i, evaluate_cost(_single(wl, i), hw.take([i])))


def test_outer_broadcast_equals_one_by_one(grid_report):
    hw = reference_grid()
    for i in (0, 7, 555, 2000, 3239):
        _assert_same(grid_report, i, evaluate_cost(vit_layer(repeat=12), hw.take([i])))
    # One hardware, many models: the other outer case.
    wl, _ = _random_pairs(25, seed=4)
    design = hw.take([1500])
    many = evaluate_cost(wl, design)
    assert len(many) == 25
    for i in (0, 11, 24):
        _assert_same(many, i, evaluate_cost(_single(wl, i), design))


def test_repeat_multiplies_and_zero_repeat_costs_nothing():
    hw = reference_grid().take([5, 900, 3000])
    r1 = evaluate_cost(vit_layer(repeat=1), hw)
    r12 = evaluate_cost(vit_layer(repeat=12), hw)
    assert np.allclose(r12.latency_s, 12 * r1.latency_s) and np.allclose(r12.energy_j, 12 * r1.energy_j)
    r0 = evaluate_cost(Workload((Gemm("g", 197, 768, 768, repeat=0), Gemm("h", 4, 4, 4))), hw)
    assert np.all(r0.op_cycles[0] == 0) and np.all(r0.op_energy_j[0] == 0)


def _profile_with_leakage(tmp_path, mw_per_mm2):
    from importlib import resources

    text = resources.files("hw_models").joinpath("data/profile_reference_22nm.toml").read_text()
    text += f'\n[leakage]\nmw_per_mm2 = {{ value = {mw_per_mm2}, unit = "mW per mm^2", source = "test" }}\n'
    path = tmp_path / "leaky.toml"
    path.write_text(text)
    return str(path)


def test_reference_profile_has_no_leakage_density_and_says_so():
    assert load_profile().leakage_mw_per_mm2 is None
    with pytest.raises(HardwareError, match="no \\[leakage\\] mw_per_mm2"):
        evaluate_cost(vit_layer(), reference_grid().take([0]), leakage=True)


def test_leakage_option_adds_power_times_latency(tmp_path):
    hw = reference_grid().take([0, 100, 3239])
    profile = _profile_with_leakage(tmp_path, 2.5)
    off = evaluate_cost(vit_layer(), hw, profile=profile)
    on = evaluate_cost(vit_layer(), hw, profile=profile, leakage=True)
    p_w = on.area_mm2 * 2.5 * 1e-3
    assert np.allclose(on.energy_by_component["leakage"], p_w * on.latency_s)
    assert np.allclose(on.energy_j, off.energy_j + p_w * on.latency_s)
    assert np.allclose(on.op_energy_j.sum(axis=0), on.energy_j)
    assert np.allclose(sum(on.energy_by_component.values()), on.energy_j)
    assert np.array_equal(on.latency_s, off.latency_s)


def test_vector_op_energy_hand_derived():
    # 1 cluster x 64 lanes, one sigmoid over 6400 elements: 12 passes x 100 cycles;
    # vector = 64 lanes x 1200 cycles x e_mac + 6400 LUT reads x 2 pJ; L2 = 6400 reads + 6400 writes.
    p = load_profile()
    hw = one(clusters=1, pe_width=64, l2_sram_kb=64, glb_mb=2)
    r = evaluate_cost(Workload((VectorOp("s", "sigmoid", 6400),)), hw)
    assert r.op_cycles[0, 0] == 1200
    assert r.energy_by_component["vector"][0] == pytest.approx((64 * 1200 * p.mac_pj + 6400 * 2.0) * 1e-12)
    # 64 KiB L2, CACTI 22 nm table: read 0.31216, write 0.90907 pJ per word.
    assert r.energy_by_component["l2"][0] == pytest.approx((6400 * 0.31216 + 6400 * 0.90907) * 1e-12)
    assert r.energy_by_component["dram"][0] == 0


def test_gemm_energy_uses_the_chosen_mapping():
    from hw_models import map_gemm

    g = Gemm("g", 197, 768, 2304)
    hw = reference_grid().take([17, 2222])
    m = map_gemm(g, hw)
    r = evaluate_cost(Workload((g,)), hw)
    assert np.allclose(r.energy_j, m.energy_pj * 1e-12)
    d = m.detail
    e = load_profile()
    from hw_models import sram_pj_per_word

    rd, wr = (sram_pj_per_word(hw.glb_mb * 2.0**20, e, memory="glb", access=a) for a in ("read", "write"))
    # GLB reads: to the L2s and the outputs out to DRAM; writes: outputs from the L2s, fills from DRAM.
    glb_pj = (d["glb_reads"] + d["dram_writes"]) * rd + (d["glb_writes"] + d["dram_reads"]) * wr
    assert np.allclose(r.energy_by_component["glb"], glb_pj * 1e-12)
    assert np.allclose(d["glb_reads_total"] * rd + d["glb_writes_total"] * wr, glb_pj)
    l2r, l2w = (sram_pj_per_word(np.maximum(hw.l2_sram_kb, hw.pe_width * hw.pe_depth / 64) * 1024.0, e, memory="l2", access=a) for a in ("read", "write"))
    l2_pj = (d["l2_pe_reads"] + d["l2_drain_reads"]) * l2r + (d["l2_pe_writes"] + d["l2_fill_writes"]) * l2w
    assert np.allclose(r.energy_by_component["l2"], l2_pj * 1e-12)
    assert np.allclose(r.energy_by_component["dram"], (d["dram_reads"] + d["dram_writes"]) * 64 * 1e-12)


def test_report_is_frozen(grid_report):
    with pytest.raises(dataclasses.FrozenInstanceError):
        grid_report.latency_s = None


@pytest.mark.parametrize(
    "fields,field",
    [
        (dict(pe_width=48), "pe_width"),
        (dict(pe_depth=0), "pe_depth"),
        (dict(l2_sram_kb=-64), "l2_sram_kb"),
        (dict(glb_bw=0), "glb_bw"),
    ],
)
def test_bad_hardware_names_the_field(fields, field):
    with pytest.raises(HardwareError, match=f"hardware.{field}"):
        HardwareConfig(**fields)
    with pytest.raises(HardwareError, match=f"hardware.{field}"):
        HardwareBatch.from_arrays(**{k: np.array([v, 64]) for k, v in fields.items()})


def test_bad_calls_raise_hardware_error():
    wl = vit_layer()
    with pytest.raises(HardwareError, match="unknown profile"):
        evaluate_cost(wl, one(), profile="7nm-magic")
    with pytest.raises(HardwareError, match="do not broadcast"):
        wl3 = Workload((Gemm("g", np.array([1, 2, 3]), 4, 4),))
        evaluate_cost(wl3, reference_grid().take([0, 1]))
    with pytest.raises(HardwareError, match="workload"):
        evaluate_cost([Gemm("g", 1, 1, 1)], one())
    with pytest.raises(HardwareError, match="hardware"):
        evaluate_cost(wl, {"clusters": 4})
    with pytest.raises(HardwareError, match="hardware.node_nm"):
        evaluate_cost(wl, one(node_nm=7))
    assert issubclass(HardwareError, ValueError)


def test_single_config_is_accepted_and_unlimited_memory_is_compute_bound():
    r = evaluate_cost(vit_layer(), HardwareConfig(**UNLIMITED))
    assert len(r) == 1
    assert all(row["bound"] == "compute" for row in r.op_table())


def test_results_do_not_depend_on_chunking_or_grouping(monkeypatch):
    import hw_models.gemm as mapping
    import hw_models.pe as pe

    wl, hw = _random_pairs(60, seed=5)
    base = evaluate_cost(wl, hw)
    monkeypatch.setattr(mapping, "_CHUNK", 7)  # design-level work in chunks of 7 designs
    monkeypatch.setattr(mapping, "_WHOLE_GROUP", 0)  # ... op by op
    monkeypatch.setattr(mapping, "_GROUP_UNIQUES", 1)  # every GEMM costed on its own
    monkeypatch.setattr(pe, "_MIN_SPLIT", 0)  # always deduplicate subproblems and split off the L2 port
    for waste in (1e9, 0.0):  # choose per port on all problems / on the (problem, port) pairs only
        monkeypatch.setattr(pe, "_MAX_SPLIT_WASTE", waste)
        other = evaluate_cost(wl, hw)
        assert np.array_equal(base.op_cycles, other.op_cycles)
        assert np.allclose(base.op_energy_j, other.op_energy_j, rtol=1e-13)
