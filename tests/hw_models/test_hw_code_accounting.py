"""The reference's accounting terms of the catransformers-code profile: layers charged, array-side L2."""

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import hw_models as H
from hw_models.energy import PROFILE_FILES
from hw_models.layers import parse_layer_count, repeated_blocks

CODE_RULE = H.LayerCount(layer_ids=(0, 12), copies=(13, 13), min_blocks=2)


def _tower(kind: str, layers, width: int = 64) -> list:
    """Embedding, a repeated block (one GEMM, one vector op) and a head, like lower() writes them."""
    block = f"{kind}{H.BLOCK_SUFFIX}"
    return [
        H.Gemm(f"{kind}.embed", m=16, k=width, n=width, group=f"{kind}.embed"),
        H.Gemm(f"{kind}.fc", m=16, k=width, n=4 * width, repeat=layers, group=block),
        H.VectorOp(f"{kind}.ln", "layernorm", elements=16 * width, row=width, repeat=layers, group=block),
        H.Gemm(f"{kind}.head", m=1, k=width, n=32, group=f"{kind}.head"),
    ]


def _two_towers(vision_layers, text_layers) -> H.Workload:
    return H.Workload(tuple(_tower("vision", vision_layers) + _tower("text", text_layers)), "clip-like")


def _charged(w: H.Workload) -> dict[str, list[int]]:
    return {g: [int(x) for x in np.atleast_1d(r)] for g, r in repeated_blocks(w)}


@pytest.mark.parametrize(
    "layers, charged",
    [
        ((12, 12), (13, 13)),  # ViT-B/16: layers 0 and 12 are each tower's first
        ((10, 3), (13, 13)),  # TinyCLIP-8M: layer 12 is the text tower's third; both towers 13
        ((24, 12), (26, 0)),  # ViT-L/14: both ids fall in the vision tower, the text tower is never charged
        ((12, 1), (13, 13)),  # one text layer: it is global layer 12
        ((6, 6), (13, 0)),  # id 12 beyond both towers: only the vision block
    ],
)
def test_the_reference_rule_charges_its_global_layer_ids(layers, charged):
    w = H.count_layers(_two_towers(*layers), CODE_RULE)
    assert _charged(w) == {"vision.block": [charged[0]], "text.block": [charged[1]]}
    # ops outside the blocks keep their single count
    assert all(int(op.repeat[0]) == 1 for op in w.ops if not op.group.endswith(H.BLOCK_SUFFIX))


def test_counting_twice_is_counting_once(tmp_path):
    w = H.count_layers(_two_towers(10, 3), CODE_RULE)
    assert w.layers_counted and H.count_layers(w, CODE_RULE) is w
    hw = H.reference_grid().take([0, 3000])
    # evaluate_cost counts again; a workload already counted is charged the same
    once = H.evaluate_cost(_two_towers(10, 3), hw, profile="catransformers-code")
    again = H.evaluate_cost(w, hw, profile="catransformers-code")
    np.testing.assert_allclose(again.energy_j, once.energy_j, rtol=1e-12)
    np.testing.assert_allclose(again.latency_s, once.latency_s, rtol=1e-12)
    # also through the fusion pass, on a real workload (the reference fuses GELU into fc1)
    from catransformers.workloads import get_model, lower

    vit = lower(get_model("vit-b-16"))
    prof = H.load_profile("catransformers-code")
    counted = H.count_layers(H.fuse(vit, prof.fusion), prof.layer_count)
    np.testing.assert_allclose(H.evaluate_cost(counted, hw, profile=prof).energy_j, H.evaluate_cost(vit, hw, profile=prof).energy_j, rtol=1e-12)


def test_the_rule_is_vectorised_over_designs():
    w = H.count_layers(_two_towers(np.array([12, 10, 24, 6]), np.array([12, 3, 12, 6])), CODE_RULE)
    assert _charged(w) == {"vision.block": [13, 13, 26, 13], "text.block": [13, 13, 0, 0]}


def test_a_single_block_and_the_default_keep_their_counts():
    one = H.Workload(tuple(_tower("encoder", 12)), "bert-like")
    assert _charged(H.count_layers(one, CODE_RULE)) == {"encoder.block": [12]}  # min_blocks = 2
    two = _two_towers(10, 3)
    assert H.count_layers(two, H.AS_LOWERED) is two
    assert H.load_profile("reference").layer_count == H.AS_LOWERED


def test_every_op_of_a_block_shares_one_charged_array():
    # evaluate_cost groups ops by their repeat array; one array per block keeps that grouping
    w = H.count_layers(_two_towers(10, 3), CODE_RULE)
    blocks = {}
    for op in w.ops:
        if op.group.endswith(H.BLOCK_SUFFIX):
            assert blocks.setdefault(op.group, op.repeat) is op.repeat


def test_a_block_with_mixed_layer_counts_is_refused():
    ops = _tower("vision", 12)
    ops[2] = H.VectorOp("vision.ln", "layernorm", elements=1024, row=64, repeat=11, group=f"vision{H.BLOCK_SUFFIX}")
    with pytest.raises(H.HardwareError, match="op 'vision.ln' of block 'vision.block'"):
        repeated_blocks(H.Workload(tuple(ops), "bad"))


def _profile_without_layer_count(tmp_path: Path) -> str:
    src = resources.files("hw_models").joinpath("data", PROFILE_FILES["catransformers-code"]).read_text()
    head, sep, tail = src.partition("\n[layer_count]")
    assert sep, "the catransformers-code profile has a [layer_count] section"
    rest = tail.split("\n[", 1)
    path = tmp_path / "code_as_lowered.toml"
    path.write_text(head + ("\n[" + rest[1] if len(rest) > 1 else "\n"))
    return str(path)


def test_the_code_profile_charges_each_block_op_exactly_its_counted_layers(tmp_path):
    """Latency and energy of every block op scale by charged / own layers; the rest is unchanged."""
    hw = H.reference_grid().take([0, 1500, 3000])
    w = _two_towers(10, 3)
    code = H.evaluate_cost(w, hw, profile="catransformers-code")
    plain = H.evaluate_cost(w, hw, profile=_profile_without_layer_count(tmp_path))
    assert code.op_names == plain.op_names
    factor = {"vision": 13 / 10, "text": 13 / 3}
    for j, name in enumerate(code.op_names):
        f = factor[name.split(".")[0]] if name.endswith((".fc", ".ln")) else 1.0
        np.testing.assert_allclose(code.op_energy_j[j], f * plain.op_energy_j[j], rtol=1e-12)
        np.testing.assert_allclose(code.op_latency_s[j], f * plain.op_latency_s[j], rtol=1e-12)
    np.testing.assert_allclose(code.energy_j, code.op_energy_j.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(code.macs, plain.macs + 16 * 64 * 256 * ((13 - 10) + (13 - 3)), rtol=1e-12)


def test_layer_count_section_errors_name_the_field():
    entry = lambda v: {"value": v, "unit": "-", "source": "x"}  # noqa: E731
    good = {"layer_ids": entry([0, 12]), "copies": entry([13, 13]), "min_blocks": entry(2)}
    assert parse_layer_count(good, {}) == H.LayerCount((0, 12), (13, 13), 2, "x")
    for key, value, match in (
        ("copies", [13], "layer_ids \\(2\\) and copies \\(1\\)"),
        ("layer_ids", [0, 0], "layer_count.layer_ids: \\[0, 0\\]"),
        ("layer_ids", [-1, 12], "layer_count.layer_ids: \\[-1, 12\\] is not allowed"),
        ("copies", [1.5, 2], "layer_count.copies"),
        ("min_blocks", 0, "layer_count.min_blocks: 0"),
    ):
        with pytest.raises(H.HardwareError, match=match):
            parse_layer_count({**good, key: entry(value)}, {})
    with pytest.raises(H.HardwareError, match="unknown key 'ids'"):
        parse_layer_count({**good, "ids": entry([0])}, {})
    with pytest.raises(H.HardwareError, match="layer_count.copies: must be a table"):
        parse_layer_count({**good, "copies": [13, 13]}, {})


# --- the reference's array-side L2 charge (accounting.tc_bypass_spatial_reuse) -------------------
def test_bypass_l2_words_hand_derived():
    from hw_models.energy import bypass_l2_words

    # 2,048 PEs, both dimensions powers of two: inputs multicast over 32 PEs, partial sums reduced
    # over 64 (1/32 + 2/64 is the least of 1/Ns + 2/Ks with Ns * Ks = 2048)
    assert bypass_l2_words(768, 3072, 256, 8) == pytest.approx(1 / 32 + 2 / 64)
    # a prime reduction (197 keys of A.V) cannot be unrolled: every partial sum goes to the L2
    assert bypass_l2_words(197, 64, 256, 8) == pytest.approx(1 / 64 + 2 / 1)
    # a prime output width (197 of Q.K^T): every input read goes to the L2
    assert bypass_l2_words(64, 197, 256, 8) == pytest.approx(1 / 1 + 2 / 64)
    # vectorised over designs; fewer PEs, more L2 traffic
    got = bypass_l2_words(768, 3072, np.array([256, 64, 32]), np.array([8, 8, 64]))
    np.testing.assert_allclose(got, [1 / 32 + 2 / 64, 1 / 16 + 2 / 32, 1 / 32 + 2 / 64])


def _code_profile_without_bypass(tmp_path: Path) -> str:
    src = resources.files("hw_models").joinpath("data", PROFILE_FILES["catransformers-code"]).read_text()
    off = src.replace("tc_bypass_spatial_reuse = { value = true", "tc_bypass_spatial_reuse = { value = false")
    assert off != src
    path = tmp_path / "code_no_bypass.toml"
    path.write_text(off)
    return str(path)


@pytest.mark.parametrize("m, k, n, batch", [(197, 768, 3072, 1), (197, 197, 64, 12), (77, 512, 1536, 1)])
def test_the_code_profile_charges_the_reference_array_side_l2(tmp_path, m, k, n, batch):
    """L2 energy = the mapper's GLB-side L2 energy + (MACs x bypass_l2_words + K x N weights) x L2 read."""
    from hw_models.energy import bypass_l2_words

    hw = H.HardwareBatch.from_configs([H.HardwareConfig(clusters=c, pe_width=w, pe_depth=d, l2_bw=bw)
                                       for c, w, d, bw in ((1, 256, 8, 128), (2, 64, 16, 32), (4, 32, 2, 64))])
    g = H.Gemm("g", m=m, k=k, n=n, batch=batch)
    on = H.map_gemm(g, hw, profile=H.load_profile("catransformers-code"), detail=True)
    off_prof = H.load_profile(_code_profile_without_bypass(tmp_path))
    off = H.map_gemm(g, hw, profile=off_prof, detail=True)
    e = H.access_energies(hw, off_prof)
    mapper_array_side = off.detail["l2_pe_reads"] * e.l2_tc_read_pj + off.detail["l2_pe_writes"] * e.l2_tc_write_pj
    macs = m * k * n * batch
    charged = (macs * bypass_l2_words(k, n, hw.pe_width, hw.pe_depth) + k * n * batch) * e.l2_tc_read_pj
    np.testing.assert_allclose(on.l2_pj, off.l2_pj - mapper_array_side + charged, rtol=1e-9)
    np.testing.assert_array_equal(on.cycles, off.cycles)  # an energy charge only
    np.testing.assert_allclose(on.glb_pj, off.glb_pj)
    np.testing.assert_allclose(on.dram_pj, off.dram_pj)
