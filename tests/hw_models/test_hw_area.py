"""Area and TOPS: golden numbers of the reference grid (docs/reference-facts.md 1.1, 1.2)."""

import numpy as np
import pytest

from hw_models import HardwareBatch, HardwareConfig, HardwareError, area_mm2, area_um2, load_profile, reference_grid, sram_area_um2, tops

AREA_CAP_UM2 = 31_990_347  # REFERENCE 1.2: area of 4 clusters of 256x16, 1 MB L2, 8 MB GLB
TOPS_CAP = 20.48  # REFERENCE 1.2: 20 x 1.024


def test_area_limit_design_is_the_reference_cap():
    hw = HardwareBatch.from_configs(HardwareConfig(clusters=4, pe_width=256, pe_depth=16, l2_sram_kb=1024, glb_mb=8))
    assert area_um2(hw)[0] == pytest.approx(AREA_CAP_UM2, abs=1.0)
    assert area_um2(hw)[0] <= AREA_CAP_UM2


def test_area_range_over_reference_grid():
    a = area_um2(reference_grid())
    assert round(a.min()) == 3_349_194  # 1 x 32x2, 64 KB, 2 MB
    assert round(a.max()) == 50_677_678  # 4 x 256x64, 1 MB, 8 MB
    assert np.allclose(area_mm2(reference_grid()), a / 1e6)


def test_area_hand_derived_small_design():
    # 1 cluster of 64x32 with 64 KB L2: the TC copy is bumped to 64*32/64 = 32 KB -> no bump;
    # area = 380.19472*2048 + 379.97725*64 + 2*105921 + 3100860.
    hw = HardwareBatch.from_configs(HardwareConfig(clusters=1, pe_width=64, pe_depth=32, l2_sram_kb=64, glb_mb=2))
    expected = 380.19472 * 2048 + 379.97725 * 64 + 2 * 105_921 + 3_100_860
    assert area_um2(hw)[0] == pytest.approx(expected, rel=1e-12)


def test_min_l2_bump_applies_to_tensor_core_copy_only():
    # 256x64 needs 256 KB for the TC copy; with 64 KB configured the VC copy stays 64 KB.
    hw = HardwareBatch.from_configs(HardwareConfig(clusters=1, pe_width=256, pe_depth=64, l2_sram_kb=64, glb_mb=2))
    expected = 380.19472 * 16384 + 379.97725 * 256 + 447_768 + 105_921 + 3_100_860
    assert area_um2(hw)[0] == pytest.approx(expected, rel=1e-12)


def test_tops_and_caps_over_reference_grid():
    hw = reference_grid()
    t, a = tops(hw), area_um2(hw)
    assert t.max() == pytest.approx(81.92)
    ok = t <= TOPS_CAP + 1e-9
    assert ok.sum() == 3060
    assert np.all(a[ok] <= AREA_CAP_UM2)


def test_sram_table_interpolates_log_log_and_extrapolates_with_end_slope():
    prof = load_profile()
    kib, um2 = prof.l2_table_kib, prof.l2_table_um2
    assert np.allclose(sram_area_um2(kib, kib, um2), um2)
    mid = sram_area_um2(np.array([np.sqrt(64 * 128)]), kib, um2)[0]
    assert mid == pytest.approx(np.sqrt(105_921 * 219_485))
    slope_hi = np.log(um2[-1] / um2[-2]) / np.log(2)
    assert sram_area_um2(np.array([2048.0]), kib, um2)[0] == pytest.approx(um2[-1] * 2**slope_hi)
    slope_lo = np.log(um2[1] / um2[0]) / np.log(2)
    assert sram_area_um2(np.array([32.0]), kib, um2)[0] == pytest.approx(um2[0] / 2**slope_lo)
    # Area keeps rising with capacity across the table edges.
    caps = 2.0 ** np.arange(2, 16)
    assert np.all(np.diff(sram_area_um2(caps, kib, um2)) > 0)


@pytest.mark.parametrize("field,value", [("node_nm", 7), ("precision_bits", 16)])
def test_profile_node_and_precision_must_match(field, value):
    hw = HardwareBatch.from_configs(HardwareConfig(**{field: value}))
    with pytest.raises(HardwareError, match=f"hardware.{field}"):
        area_um2(hw)
