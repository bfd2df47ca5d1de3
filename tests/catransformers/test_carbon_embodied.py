"""Embodied carbon: the reference goldens, hand-derived values from table rows, yield models, vectorisation."""

from __future__ import annotations

import numpy as np
import pytest

from catransformers.carbon import (
    CarbonScenario,
    cpa_g_per_cm2,
    embodied,
    load_scenario,
    logic_yield,
    murphy_yield,
    negative_binomial_yield,
)
from catransformers.errors import ConfigError

AREA_LIMIT_UM2 = 31_990_347.0  # the reference's area-limit design (docs/reference-facts.md section 1.2)
GRID_MIN_UM2, GRID_MAX_UM2 = 3_349_194.0, 50_677_678.0  # smallest / largest of the 3,240-point grid


@pytest.fixture(scope="module")
def reference() -> CarbonScenario:
    return load_scenario("reference")


def test_cpa_reference_golden(reference: CarbonScenario) -> None:
    # (642 * 1.077 + 188.28 + 500) / 0.875
    assert float(cpa_g_per_cm2(reference, 22)) == pytest.approx(1576.8, abs=0.05)
    assert float(cpa_g_per_cm2(reference, 22)) == pytest.approx((642 * 1.077 + 188.28 + 500) / 0.875, rel=1e-12)


def test_dram_reference_golden(reference: CarbonScenario) -> None:
    e = embodied(0.0, reference, node_nm=22, dram_gb=1.0)
    assert float(e.dram_kg) * 1000 == pytest.approx(210.3, abs=0.05)
    assert float(e.logic_kg) == 0.0


def test_area_limit_design_golden(reference: CarbonScenario) -> None:
    e = embodied(AREA_LIMIT_UM2, reference, node_nm=22, dram_gb=1.0)
    assert float(e.total_kg) == pytest.approx(0.715, abs=5e-4)
    assert float(e.logic_kg) == pytest.approx(AREA_LIMIT_UM2 / 1e8 * 1576.816 / 1000, rel=1e-9)
    assert float(e.total_kg) == pytest.approx(float(e.logic_kg + e.dram_kg))


def test_grid_range_golden(reference: CarbonScenario) -> None:
    e = embodied(np.array([GRID_MIN_UM2, GRID_MAX_UM2]), reference)
    assert e.total_kg[0] == pytest.approx(0.263, abs=5e-4)
    assert e.total_kg[1] == pytest.approx(1.009, abs=5e-4)


@pytest.mark.parametrize(
    "overrides, expected_cpa",
    [
        # 7 nm row (EPA 2.15, GPA99 200, MPA 500), ACT 2022 usa 380 g/kWh
        ({"node_nm": 7, "abatement": 99, "fab_location": "usa", "fab_table": "2022"}, (380 * 2.15 + 200 + 500) / 0.875),
        # 28 nm row (0.90, GPA95 175, 500), energy source coal 820
        ({"node_nm": 28, "fab_location": "coal"}, (820 * 0.90 + 175 + 500) / 0.875),
        # 3 nm row (3.25, GPA99 275, 500), Iceland 2023 7.3, yield 0.5
        ({"node_nm": 3, "abatement": 99, "fab_location": "iceland", "yield_fraction": 0.5}, (7.3 * 3.25 + 275 + 500) / 0.5),
        # explicit fab intensity overrides the location; 14 nm (1.2, GPA95 200, 500)
        ({"node_nm": 14, "fab_intensity_g_per_kwh": 100.0}, (100 * 1.2 + 200 + 500) / 0.875),
    ],
)
def test_cpa_hand_derived_from_table_rows(reference: CarbonScenario, overrides: dict, expected_cpa: float) -> None:
    s = reference.with_overrides(overrides)
    assert float(cpa_g_per_cm2(s, 22)) == pytest.approx(expected_cpa, rel=1e-12)
    area_um2 = 12_345_678.0
    e = embodied(area_um2, s, node_nm=22, dram_gb=2.0)
    assert float(e.logic_kg) == pytest.approx(area_um2 / 1e8 * expected_cpa / 1000, rel=1e-12)
    assert float(e.dram_kg) == pytest.approx(2.0 * 184 / s.yield_fraction / 1000, rel=1e-12)


def test_dram_type_and_capacity_from_scenario(reference: CarbonScenario) -> None:
    s = reference.with_overrides({"dram_type": "lpddr4", "dram_gb": "4", "dram_yield_fraction": "1"})
    e = embodied(0.0, s, dram_gb=1.0)  # the scenario's 4 GB wins over the hardware's 1 GB
    assert float(e.dram_kg) == pytest.approx(4 * 48 / 1.0 / 1000)


def test_hardware_node_used_when_scenario_leaves_it(reference: CarbonScenario) -> None:
    assert reference.node_nm is None
    assert float(cpa_g_per_cm2(reference, 7)) == pytest.approx((642 * 2.15 + 350 + 500) / 0.875)
    pinned = reference.with_overrides({"node_nm": 22})
    assert float(cpa_g_per_cm2(pinned, 7)) == pytest.approx(1576.816)


def test_vectorised_equals_scalar(reference: CarbonScenario) -> None:
    rng = np.random.default_rng(0)
    areas = rng.uniform(GRID_MIN_UM2, GRID_MAX_UM2, size=50)
    nodes = rng.choice([28, 22, 7, 3], size=50)
    grams = rng.choice([0.5, 1.0, 2.0], size=50)
    for s in (reference, reference.with_overrides({"yield_model": "negative_binomial"})):
        batch = embodied(areas, s, node_nm=nodes, dram_gb=grams)
        assert batch.total_kg.shape == (50,)
        for i in range(50):
            one = embodied(areas[i], s, node_nm=int(nodes[i]), dram_gb=float(grams[i]))
            # the same formula; the batched and scalar paths may round differently (one ulp on AVX-512)
            assert float(one.total_kg) == pytest.approx(batch.total_kg[i], rel=1e-12)
            assert float(one.logic_kg) == pytest.approx(batch.logic_kg[i], rel=1e-12)
            assert float(one.dram_kg) == pytest.approx(batch.dram_kg[i], rel=1e-12)


def test_negative_binomial_yield_falls_with_area_and_equals_formula(reference: CarbonScenario) -> None:
    s = reference.with_overrides({"yield_model": "negative_binomial", "defect_density_per_cm2": 0.1, "defect_clustering_alpha": 3})
    area_cm2 = np.array([0.01, 0.1, 0.5, 1.0, 4.0])
    y = logic_yield(area_cm2, s)
    assert np.all(np.diff(y) < 0)
    np.testing.assert_allclose(y, (1 + area_cm2 * 0.1 / 3) ** -3, rtol=1e-14)
    assert float(logic_yield(0.0, s)) == 1.0
    cpa = cpa_g_per_cm2(s, 22, area_cm2 * 1e8)
    np.testing.assert_allclose(cpa, (642 * 1.077 + 188.28 + 500) / y, rtol=1e-12)
    # DRAM keeps the fixed yield_fraction under the die-area models
    assert float(embodied(1e8, s).dram_kg) == pytest.approx(184 / 0.875 / 1000)


def test_murphy_yield_formula_and_limits() -> None:
    a = np.array([0.0, 0.2, 1.0, 3.0])
    y = murphy_yield(a, 0.09)
    x = a[1:] * 0.09
    np.testing.assert_allclose(y[1:], ((1 - np.exp(-x)) / x) ** 2, rtol=1e-12)
    assert y[0] == 1.0 and np.all(np.diff(y) < 0)
    # negative binomial -> Poisson as alpha grows
    assert float(negative_binomial_yield(1.0, 0.09, 1e9)) == pytest.approx(np.exp(-0.09), rel=1e-6)


def test_default_defect_model_at_reference_area(reference: CarbonScenario) -> None:
    s = reference.with_overrides({"yield_model": "negative_binomial"})
    y = float(logic_yield(AREA_LIMIT_UM2 / 1e8, s))
    assert y == pytest.approx((1 + 0.3199 * 0.09 / 2) ** -2, rel=1e-4)
    assert 0.9 < y < 1.0


def test_negative_area_rejected(reference: CarbonScenario) -> None:
    with pytest.raises(ConfigError, match=r"area_um2: -1.0 is negative; allowed: >= 0"):
        embodied(np.array([1.0, -1.0]), reference)


def test_unknown_hardware_node_rejected(reference: CarbonScenario) -> None:
    with pytest.raises(ConfigError, match="node_nm: no ACT logic factors for 16 nm; nearest: 14, 20"):
        embodied(1e6, reference, node_nm=np.array([22, 16]))
