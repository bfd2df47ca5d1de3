"""Operational carbon, amortisation and CarbonReport over batches of designs."""

from __future__ import annotations

import numpy as np
import pytest

from catransformers.carbon import CarbonReport, carbon_report, embodied, embodied_fraction, load_scenario, operational
from catransformers.errors import ConfigError


def test_operational_formula() -> None:
    r = load_scenario("reference")
    e_j = np.array([0.0, 1e-3, 0.05])
    op = operational(e_j, r)
    np.testing.assert_allclose(op.carbon_kg, e_j / 3.6e6 * 68 / 1000 * 30_000_000, rtol=1e-14)
    np.testing.assert_allclose(op.energy_lifetime_kwh, e_j / 3.6e6 * 30_000_000, rtol=1e-14)


def test_operational_paper() -> None:
    p = load_scenario("paper")
    op = operational(0.01, p)
    assert float(op.carbon_kg) == pytest.approx(0.01 / 3.6e6 * 224 / 1000 * 23_652_000)


def test_operational_rejects_negative_energy() -> None:
    with pytest.raises(ConfigError, match="energy_j: -1.0 is negative"):
        operational(-1.0, load_scenario("reference"))


def test_report_adds_up_and_carries_resolved_numbers() -> None:
    areas = np.array([3_349_194.0, 31_990_347.0, 50_677_678.0])
    energy = np.array([2e-3, 8e-3, 1.5e-2])
    rep = carbon_report(areas, energy, "reference", node_nm=22, dram_gb=1.0)
    assert isinstance(rep, CarbonReport) and len(rep) == 3
    np.testing.assert_allclose(rep.embodied_kg, rep.embodied_logic_kg + rep.embodied_dram_kg)
    np.testing.assert_allclose(rep.total_kg, rep.embodied_kg + rep.operational_kg)
    np.testing.assert_allclose(rep.embodied_kg, [0.263, 0.715, 1.009], atol=5e-4)
    np.testing.assert_allclose(rep.cpa_g_per_cm2, 1576.816)
    assert rep.use_intensity_g_per_kwh == 68.0 and rep.fab_intensity_g_per_kwh == 642.0
    assert rep.inferences == 30_000_000
    np.testing.assert_allclose(rep.embodied_fraction, 1.0)
    assert np.all((rep.operational_share > 0) & (rep.operational_share < 1))
    assert rep.describe()["name"] == "reference"


def test_report_scalar_equals_batch_entries() -> None:
    rng = np.random.default_rng(1)
    areas = rng.uniform(3e6, 5e7, 20)
    energy = rng.uniform(1e-4, 1e-1, 20)
    nodes = rng.choice([22, 7], 20)
    p = load_scenario("paper")
    batch = carbon_report(areas, energy, p, node_nm=nodes, dram_gb=np.full(20, 2.0))
    for i in range(20):
        one = carbon_report(areas[i], energy[i], p, node_nm=int(nodes[i]), dram_gb=2.0)
        assert one.total_kg.shape == ()
        for key in ("embodied_kg", "embodied_logic_kg", "embodied_dram_kg", "operational_kg", "total_kg", "energy_lifetime_kwh", "cpa_g_per_cm2"):
            assert float(getattr(one, key)) == getattr(batch, key)[i]


def test_report_broadcasts_one_energy_over_many_areas() -> None:
    rep = carbon_report(np.array([1e6, 2e6]), 1e-3, "reference")
    assert rep.operational_kg.shape == (2,) and rep.operational_kg[0] == rep.operational_kg[1]


def test_amortisation_duty_lifetime() -> None:
    p = load_scenario("paper")
    a = p.with_overrides({"amortise_embodied": True})
    # 3 years x 6 h/day in service over a 3-year device lifetime of 24 h/day
    assert float(embodied_fraction(a)) == pytest.approx(0.25)
    full = embodied(2e7, p)
    part = embodied(2e7, a)
    assert float(part.total_kg) == pytest.approx(0.25 * float(full.total_kg))
    b = a.with_overrides({"device_lifetime_years": 6})
    assert float(embodied_fraction(b)) == pytest.approx(0.125)


def test_amortisation_inference_count_needs_latency() -> None:
    r = load_scenario("reference").with_overrides({"amortise_embodied": "true"})
    with pytest.raises(ConfigError, match="^amortise_embodied: true with a lifetime given as inferences needs latency_s"):
        carbon_report(1e7, 1e-3, r)
    latency = np.array([0.01, 0.05])
    rep = carbon_report(np.array([1e7, 1e7]), 1e-3, r, latency_s=latency)
    expected = 30_000_000 * latency / (3 * 365 * 24 * 3600)
    np.testing.assert_allclose(rep.embodied_fraction, expected)
    full = carbon_report(1e7, 1e-3, "reference")
    np.testing.assert_allclose(rep.embodied_kg, float(full.embodied_kg) * expected)


def test_amortisation_off_ignores_latency() -> None:
    a = carbon_report(1e7, 1e-3, "reference", latency_s=0.02)
    b = carbon_report(1e7, 1e-3, "reference")
    assert float(a.total_kg) == float(b.total_kg)
