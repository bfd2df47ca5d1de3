"""PE register and port semantics: hand-derived reuse, a strict one-word model, monotonicity in the settings."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _hw_fixtures import ONE_WORD, UNLIMITED, one
from hw_models import BOUNDS, Gemm, HardwareBatch, HardwareConfig, HardwareError, map_gemm

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
pow2 = lambda lo, hi: st.integers(lo, hi).map(lambda e: 2**e)  # noqa: E731
dim = st.one_of(st.integers(1, 12), st.integers(1, 300), st.sampled_from([64, 197, 768, 2304]))

# The issue's design: one cluster of 256x8, 64 KB L2 at 128 words/cycle, 2 MB GLB.
TARGET = dict(clusters=1, pe_width=256, pe_depth=8, l2_sram_kb=64, l2_bw=128, glb_mb=2)
QKV = Gemm("qkv", 197, 768, 2304)


def test_register_tiling_on_the_issue_gemm_hand_derived():
    # Default (weights in the register, edge latch, a read and a write port): WS with rows <- K
    # on the 8-deep side, each PE holding 32 weights of K, so a partial sum stays in the PE for
    # 32 words: K = 768 in 3 groups of 8 rows x 32 words, N = 2304 in 9 folds of 256 columns,
    # T = M = 197: 3 * 9 * (32 * (8 + 197) + 8 + 256 - 2) = 184,194 cycles, compute-bound.
    res = map_gemm(QKV, one(**TARGET))
    d = res.detail
    assert res.cycles[0] == 3 * 9 * (32 * (8 + 197) + 8 + 256 - 2) == 184_194
    assert BOUNDS[int(d["bound"][0])] == "compute"
    assert (d["pe_dataflow"][0], d["pe_orientation"][0], d["register_words_used"][0], d["register_axis"][0]) == (0, 0, 32, 1)
    assert d["utilisation"][0] == pytest.approx(197 * 768 * 2304 / (184_194 * 2048))
    # Strict (no latch, one shared link, weights-only register): only weight-stationary is legal.
    # OS with rows <- M = 197 on the 256-wide side, cols <- N on 8 (288 folds), T = K = 768 would
    # move 768*197*288 + 768*2304 + 197*2304 words (357,786 cycles at 128 words/cycle) but needs
    # its partial sum held in the PE, which a weights-only register cannot do; the best WS tiling
    # (register words spent on fewer, longer folds) is slower.
    strict = map_gemm(QKV, one(**TARGET, edge_latch=False, l2_link="shared"))
    os_words = 768 * 197 * 288 + 768 * 2304 + 197 * 2304
    assert strict.detail["pe_dataflow"][0] == 0
    assert strict.cycles[0] > os_words / 128
    # With pe_register_operands="stationary" the OS candidate is legal and wins.
    loose = map_gemm(QKV, one(**TARGET, edge_latch=False, l2_link="shared", pe_register_operands="stationary"))
    assert loose.cycles[0] == pytest.approx(os_words / 128) and loose.cycles[0] == 357_786
    # A one-word register with the read and write ports: the old model's 563 us at 625 MHz.
    assert map_gemm(QKV, one(**TARGET, **ONE_WORD)).cycles[0] == 351_876


def test_a_spare_register_word_pipelines_the_folds():
    # QKV on 8 x 8, unlimited memory, weight-stationary, rows <- K: 96 x 288 = 27,648 folds of
    # 8 x 8, T = M = 197. One word per MAC: SCALE-Sim, each fold loads, streams and drains,
    # 27,648 * (2*8 + 8 + 197 - 2) = 6,054,912. Two words: the next fold's weights shift into the
    # spare word while the current fold streams (double-buffered, as the TPU's weight tiles), so
    # only the first load (8) is exposed; every fold streams 197 and ripples and drains 8 + 8 - 2:
    # 8 + 197 + 27,647 * 197 + 27,648 * 14 = 5,833,736 (two words on one fold, 13,824 pairs of
    # (2*(8 + 197) + 14) = 5,861,376, lose).
    fields = dict(clusters=1, pe_width=8, pe_depth=8, **UNLIMITED, pe_register_operands="stationary")
    res = [map_gemm(QKV, one(**fields, pe_register_bytes=b), dataflows=("ws",), orientations=("depth_rows",)) for b in (1, 2)]
    assert res[0].cycles[0] == 27_648 * (2 * 8 + 8 + 197 - 2) == 6_054_912
    assert res[1].cycles[0] == 8 + 197 + 27_647 * 197 + 27_648 * 14 == 5_833_736
    assert res[1].detail["register_words_used"][0] == 1


def _strict_ws(m: int, k: int, n: int, rows: int, cols: int, bw: float) -> float:
    """One-word register, weight-stationary, one link for every word, folded fold by fold."""
    compute = words = 0
    for fold_r in range(-(-k // rows)):
        for _ in range(-(-n // cols)):
            compute += 2 * rows + cols + m - 2  # SCALE-Sim: load, ripple, stream, drain
            words += rows * cols  # the weights of this fold
            words += m * rows  # the inputs streamed along the rows
            words += m * cols  # partial sums out
            if fold_r:
                words += m * cols  # and back in after the first row fold
    return max(compute, words / bw)


@FAST
@given(m=dim, kf=st.integers(1, 4), nf=st.integers(1, 4), depth=pow2(0, 5), width=pow2(0, 7), bw=pow2(0, 8),
       latch=st.booleans(), operands=st.sampled_from(["weights", "stationary"]))
def test_one_word_register_on_a_shared_link_is_the_strict_model(m, kf, nf, depth, width, bw, latch, operands):
    k, n = kf * depth, nf * width
    fields = {**UNLIMITED, "l2_bw": bw}
    hw = one(clusters=1, pe_width=width, pe_depth=depth, l2_link="shared", edge_latch=latch, pe_register_operands=operands, pe_register_bytes=1, **fields)
    res = map_gemm(Gemm("g", m, k, n), hw, dataflows=("ws",), orientations=("depth_rows",))
    assert res.cycles[0] == pytest.approx(_strict_ws(m, k, n, depth, width, bw), rel=1e-12)


SETTINGS = st.fixed_dictionaries(
    {
        "clusters": pow2(0, 2),
        "pe_width": pow2(0, 8),
        "pe_depth": pow2(0, 6),
        "l2_sram_kb": pow2(0, 9),
        "l2_bw": pow2(0, 7),
        "glb_mb": pow2(0, 3),
        "pe_register_bytes": pow2(0, 6),
    }
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=SETTINGS, m=dim, k=dim, n=dim, b=st.sampled_from([1, 3, 12]))
def test_latency_never_rises_with_a_looser_register_or_port(fields, m, k, n, b):
    # Ordered from strict to loose: each step only adds candidates or widens a port.
    steps = [
        dict(pe_register_operands="weights", edge_latch=False, l2_link="shared"),
        dict(pe_register_operands="weights", edge_latch=False, l2_link="read_write"),
        dict(pe_register_operands="weights", edge_latch=False, l2_link="per_operand"),
        dict(pe_register_operands="weights", edge_latch=True, l2_link="per_operand"),
        dict(pe_register_operands="stationary", edge_latch=True, l2_link="per_operand"),
    ]
    hw = HardwareBatch.from_configs([HardwareConfig(**fields, **s) for s in steps])
    cyc = map_gemm(Gemm("g", m, k, n, batch=b), hw, detail=False).cycles
    assert np.all(np.diff(cyc) <= 0), cyc
    # A shared link carries at least what each port of the others carries; a one-word register
    # makes the latch irrelevant, and letting OS / IS hold their operand only adds candidates.
    one_word = HardwareBatch.from_configs([HardwareConfig(**{**fields, **s, "pe_register_bytes": 1, "l2_link": "shared"}) for s in steps])
    cyc1 = map_gemm(Gemm("g", m, k, n, batch=b), one_word, detail=False).cycles
    assert np.all(cyc1[:4] == cyc1[0]) and cyc1[4] <= cyc1[0]


@FAST
@given(fields=SETTINGS, m=dim, k=dim, n=dim, b=st.sampled_from([1, 3, 12]), latch=st.booleans(),
       link=st.sampled_from(["shared", "read_write", "per_operand"]), operands=st.sampled_from(["weights", "stationary"]))
def test_latency_never_rises_with_the_register_size(fields, m, k, n, b, latch, link, operands):
    # 1 ... 64 bytes per MAC: each size adds tilings and, from two words on, a spare register for
    # the next fold (double-buffering), so cycles never rise; one word is the SCALE-Sim array.
    cfgs = [HardwareConfig(**{**fields, "pe_register_bytes": 2**e}, edge_latch=latch, l2_link=link, pe_register_operands=operands) for e in range(7)]
    cyc = map_gemm(Gemm("g", m, k, n, batch=b), HardwareBatch.from_configs(cfgs), detail=False).cycles
    assert np.all(np.diff(cyc) <= 0), cyc


@FAST
@given(fields=SETTINGS, m=dim, k=dim, n=dim, latch=st.booleans(), link=st.sampled_from(["shared", "read_write", "per_operand"]))
def test_a_weights_only_register_maps_weight_stationary_only(fields, m, k, n, latch, link):
    # pe_register_operands="weights": the register holds no partial sum and no input, so every
    # chosen PE candidate is weight-stationary (dataflow 0), whatever the register size or port.
    hw = HardwareBatch.from_configs([HardwareConfig(**fields, edge_latch=latch, l2_link=link, pe_register_operands="weights")])
    res = map_gemm(Gemm("g", m, k, n), hw)
    assert res.detail["pe_dataflow"][0] == 0 and np.isfinite(res.cycles[0])
    with pytest.raises(HardwareError, match="map_gemm.dataflows"):
        map_gemm(Gemm("g", m, k, n), hw, dataflows=("os",))


def test_register_settings_are_validated():
    with pytest.raises(HardwareError, match="hardware.pe_register_operands: 'psums'"):
        HardwareConfig(pe_register_operands="psums")
    with pytest.raises(HardwareError, match="hardware.l2_link: 'bus'"):
        HardwareConfig(l2_link="bus")
    with pytest.raises(HardwareError, match="hardware.edge_latch"):
        HardwareConfig.from_mapping({"edge_latch": "maybe"})
    with pytest.raises(HardwareError, match="hardware.pe_register_bytes"):
        HardwareConfig(pe_register_bytes=1, precision_bits=16)
    cfg = HardwareConfig.from_mapping({"edge_latch": "false", "l2_link": "shared", "pe_register_bytes": "4"})
    assert (cfg.edge_latch, cfg.l2_link, cfg.pe_register_bytes) == (False, "shared", 4)
    batch = HardwareBatch.from_configs([cfg, HardwareConfig()])
    assert batch.config(0) == cfg and batch.config(1) == HardwareConfig()


def test_dram_bandwidth_is_in_gb_per_s():
    # 80 GB/s at 625 MHz and one byte per word: 128 words per cycle; doubling the clock halves it.
    assert HardwareConfig().dram_words_per_cycle == 128.0
    assert HardwareConfig(frequency_mhz=1250).dram_words_per_cycle == 64.0
    assert HardwareConfig(precision_bits=16, pe_register_bytes=32).dram_words_per_cycle == 64.0
    hw = HardwareBatch.from_arrays(dram_bw_gbps=np.array([80.0, 40.0]), frequency_mhz=np.array([625.0, 625.0]))
    assert list(hw.dram_words_per_cycle) == [128.0, 64.0]
    # DRAM-bound GEMM: latency in seconds does not depend on the clock.
    g = Gemm("g", 64, 4096, 4096)
    lat = []
    for f in (625.0, 1250.0):
        res = map_gemm(g, one(clusters=1, pe_width=256, pe_depth=64, l2_bw=128, glb_bw=4096, dram_bw_gbps=1.0, frequency_mhz=f))
        assert BOUNDS[int(res.detail["bound"][0])] == "dram"
        lat.append(res.cycles[0] / (f * 1e6))
    assert lat[0] == pytest.approx(lat[1], rel=1e-9)


def test_a_design_costs_the_same_alone_and_in_a_batch():
    # The register tilings tried for a design depend on its own register only: a tiny GEMM on a
    # 64x1 array costs the same next to designs with larger registers and arrays.
    g = Gemm("g", np.array([1, 197]), np.array([1, 768]), np.array([65, 2304]))
    small = HardwareConfig(clusters=1, pe_width=64, pe_depth=1, pe_register_bytes=4, edge_latch=False, l2_link="shared")
    big = HardwareConfig(clusters=4, pe_width=256, pe_depth=64, pe_register_bytes=64, pe_register_operands="stationary")
    both = map_gemm(g, HardwareBatch.from_configs([small, big]), detail=False).cycles
    alone = [map_gemm(Gemm("g", m, k, n), HardwareBatch.from_configs(c), detail=False).cycles[0] for (m, k, n), c in (((1, 1, 65), small), ((197, 768, 2304), big))]
    assert list(both) == alone
