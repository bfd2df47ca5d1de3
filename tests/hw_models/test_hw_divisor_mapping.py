"""The catransformers-code profile's latency: the reference's exact-divisor unroll and its shared L2 bandwidth bound."""

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import hw_models as H
from hw_models.energy import PROFILE_FILES
from hw_models.spatial import cluster_axes, divisor_active_pes, divisor_pe_cycles, divisor_unrolls


def _hw(clusters: int, width: int, depth: int, l2_bw: int) -> H.HardwareBatch:
    return H.HardwareBatch.from_configs([H.HardwareConfig(clusters=clusters, pe_width=width, pe_depth=depth, l2_bw=l2_bw)])


def _cycles(m: int, k: int, n: int, hw: H.HardwareBatch, profile, batch: int = 1) -> float:
    return float(H.map_gemm(H.Gemm("g", m=m, k=k, n=n, batch=batch), hw, profile=profile, detail=False).cycles[0])


def _code_profile(tmp_path: Path, **flags: bool) -> H.Profile:
    src = resources.files("hw_models").joinpath("data", PROFILE_FILES["catransformers-code"]).read_text()
    for key, value in flags.items():
        new = src.replace(f"{key} = {{ value = true", f"{key} = {{ value = {str(value).lower()}")
        assert new != src, key
        src = new
    path = tmp_path / "code_variant.toml"
    path.write_text(src)
    return H.load_profile(str(path))


# --- exact-divisor unrolling ---------------------------------------------------------------------
def test_a_prime_dimension_unrolls_whole_or_not_at_all():
    for m, k, n, w, d in [(197, 64, 197, 256, 64), (788, 64, 197, 256, 64), (257, 1024, 3072, 64, 64), (2364, 64, 197, 256, 8)]:
        for unroll in divisor_unrolls(m, k, n, w, d):
            assert all(dim % u == 0 for dim, u in zip((m, k, n), unroll))  # exact divisors only
            assert unroll[2] in (1, n) or n % 2 == 0  # 197 columns: one or all of them
            assert np.prod(unroll) <= w * d


@pytest.mark.parametrize(
    "m, k, n, width, depth, busy",
    [
        # 197 fits whole on the 256-wide axis, 64 fills the depth: 197 x 64 PEs
        (197, 64, 197, 256, 64, 197 * 64),
        # 4 heads x 197 rows: X = 256 is filled exactly by 4 x 64, what is left (197, 197) fits no
        # divisor of Y = 64 but 1: 256 of 16,384 PEs (the reference's Sunstone: the same 256)
        (788, 64, 197, 256, 64, 256),
        # 12 heads: X = 4 x 64, Y = 3 (of 591 = 3 x 197) of 8: 768 PEs
        (2364, 64, 197, 256, 8, 768),
        # powers of two fill the array
        (197, 256, 768, 256, 64, 256 * 64),
    ],
)
def test_divisor_rule_busy_pes_hand_derived(m, k, n, width, depth, busy):
    assert divisor_active_pes(m, k, n, width, depth) == busy


def test_the_default_profile_pads_the_last_fold_where_the_code_profile_idles():
    hw = _hw(1, 256, 64, 128)
    macs = 4 * 197 * 64 * 197
    code = _cycles(197, 64, 197, hw, "catransformers-code", batch=4)
    # the code profile: at most 256 PEs busy, compute-bound at this port
    assert code == pytest.approx(macs / 256)
    # the default pads 197 columns into one fold of the 256-wide array: far fewer cycles
    assert _cycles(197, 64, 197, hw, "reference", batch=4) < code / 10


# --- the L2 bandwidth bound ----------------------------------------------------------------------
def test_bandwidth_bound_hand_derived():
    """197x256x768 on 1 x 256x64: unroll K 64 x N 256, each PE's register keeps 4 x 3 weights, 4
    inputs and 3 partial sums (4*3 + 4 + 3 = 19 <= 32 words), so every input and every weight is
    read from L2 once: 197*256 + 256*768 = 247,040 reads, 197*768 = 151,296 writes."""
    reads, writes = 197 * 256 + 256 * 768, 197 * 768
    compute = 197 * 256 * 768 / (256 * 64)
    assert _cycles(197, 256, 768, _hw(1, 256, 64, 32), "catransformers-code") == pytest.approx(reads / 32)  # 7,720
    assert _cycles(197, 256, 768, _hw(1, 256, 64, 64), "catransformers-code") == pytest.approx(reads / 64)
    # wide port: compute-bound, reads / 128 = 1,930 < 2,364
    assert _cycles(197, 256, 768, _hw(1, 256, 64, 128), "catransformers-code") == pytest.approx(compute)
    c, rd, wr, _ = divisor_pe_cycles(197, 256, 768, 256, 64, 1, 32.0, 32)
    assert (rd, wr) == (reads, writes)


def test_weights_reread_when_the_register_cannot_hold_a_prime_row():
    """Q.K^T of 4 heads (788 x 64).(64 x 197) on 256x64 at l2_bw 32: unroll M 4 x K 64, 197 trips of
    M and of N; a register tile of 197 columns does not fit, so either the inputs or the weights
    are re-read every trip: the weights (64 x 197 = 12,608 words) x 197, plus the inputs once."""
    reads = 788 * 64 + 64 * 197 * 197
    assert _cycles(197, 64, 197, _hw(1, 256, 64, 32), "catransformers-code", batch=4) == pytest.approx(reads / 32)


def test_the_l2_port_is_shared_by_the_clusters(tmp_path):
    """257x1024x3072 on 64x64 at l2_bw 32: one array's traffic (8,672,256 reads: inputs x 12,
    weights once, partial sums read back 3 times) bounds 1 and 4 clusters alike; with a port
    per cluster the 4-cluster design is 4x faster."""
    reads = 257 * 1024 * 12 + 1024 * 3072 + 257 * 3072 * 3
    one = _cycles(257, 1024, 3072, _hw(1, 64, 64, 32), "catransformers-code")
    four = _cycles(257, 1024, 3072, _hw(4, 64, 64, 32), "catransformers-code")
    assert one == pytest.approx(reads / 32) and four == pytest.approx(one)
    own = _code_profile(tmp_path, tc_l2_bw_shared=False)
    assert _cycles(257, 1024, 3072, _hw(4, 64, 64, 32), own) == pytest.approx(reads / (4 * 32))


def test_clusters_idle_when_a_prime_dimension_is_all_that_is_left():
    """16 heads of Q.K^T on 4 x 64x64: the array takes M 16 x K 64, leaving 257 x 257, which no
    divisor splits over the 2 x 2 clusters: one cluster works, as in the reference."""
    assert cluster_axes(4) == (2, 2) and cluster_axes(2) == (2, 1)
    hw = _hw(4, 64, 64, 128)
    macs = 16 * 257 * 64 * 257
    assert divisor_pe_cycles(16 * 257, 64, 257, 64, 64, 4, 1e12, 32)[3] == ((16, 64, 1), (1, 1, 1))
    assert _cycles(257, 64, 257, hw, "catransformers-code", batch=16) >= macs / 1024


def test_more_bandwidth_never_slows_the_code_profile():
    rng = np.random.default_rng(3)
    for _ in range(20):
        m, k, n = (int(x) for x in rng.choice([77, 196, 197, 256, 257, 768, 1024], 3))
        hw = H.HardwareBatch.from_configs([H.HardwareConfig(clusters=2, pe_width=128, pe_depth=16, l2_bw=bw) for bw in (32, 64, 128)])
        cyc = H.map_gemm(H.Gemm("g", m=m, k=k, n=n), hw, profile="catransformers-code", detail=False).cycles
        assert np.all(np.diff(cyc) <= 1e-9 * cyc[:-1])
        assert np.all(cyc >= m * k * n / (2 * 128 * 16) - 1e-9)


def test_the_default_profile_keeps_padding_and_per_cluster_ports():
    prof = H.load_profile("reference")
    assert not prof.tc_spatial_divisors and not prof.tc_l2_bw_shared
    code = H.load_profile("catransformers-code")
    assert code.tc_spatial_divisors and code.tc_l2_bw_shared


def test_a_non_boolean_flag_is_refused(tmp_path):
    src = resources.files("hw_models").joinpath("data", PROFILE_FILES["catransformers-code"]).read_text()
    path = tmp_path / "bad.toml"
    path.write_text(src.replace("tc_spatial_divisors = { value = true", "tc_spatial_divisors = { value = 1"))
    with pytest.raises(H.HardwareError, match="accounting.tc_spatial_divisors: 1 is not allowed; must be true or false"):
        H.load_profile(str(path))
