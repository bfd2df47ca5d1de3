"""The operator graph of lowered models, and the fusion pass the profile selects."""

import dataclasses

import networkx as nx
import numpy as np
import pytest

import hw_models as H
from catransformers.workloads import gemm_dataflow_graph, get_model, list_models, lower, lower_graph, op_graph, prune_batch

# The reference estimator's charges for an op folded into its GEMM: a fixed number of cycles
# per fused op (WHAM's forward PE-cycle table; GELU is traced as ReLU), no energy.
REFERENCE_RULES = H.FusionRules(cycles={"gelu": 1, "relu": 1, "mul": 1, "add": 1, "layernorm": 1, "tanh": 27,
                                        "sigmoid": 12, "silu": 12, "div": 10, "pow": 15, "sqrt": 15})


@pytest.mark.parametrize("name", sorted(list_models()))
def test_every_model_graph_is_a_connected_dag_over_all_ops(name):
    w = lower(get_model(name))
    g = lower_graph(get_model(name))
    assert list(g.nodes) == list(w.op_names)
    assert nx.is_directed_acyclic_graph(g)
    # execution order is a topological order
    pos = {n: i for i, n in enumerate(g.nodes)}
    assert all(pos[u] < pos[v] for u, v in g.edges)
    # each tower is one weakly connected component
    towers = {n.split(".")[0] for n in g.nodes}
    assert nx.number_weakly_connected_components(g) == len(towers)
    # the residual stream crosses repetitions
    assert ("vision.residual_2" in g) <= any(s.endswith("residual_2") for s, _, _ in g.graph["carried"])


def test_vit_b_16_block_dependencies():
    g = lower_graph(get_model("vit-b-16"))
    assert set(g.predecessors("vision.attn_qk")) == {"vision.qkv", "vision.attn_scale"}
    assert set(g.predecessors("vision.attn_av")) == {"vision.softmax", "vision.qkv"}
    assert {g.edges["vision.qkv", d]["tensor"] for d in g.successors("vision.qkv")} == {"q", "k", "v"}
    assert set(g.predecessors("vision.residual_2")) == {"vision.mlp_fc2", "vision.residual_1"}
    assert g.nodes["vision.qkv"]["kind"] == "gemm" and g.nodes["vision.softmax"]["kind"] == "softmax"
    assert int(g.nodes["vision.qkv"]["repeat"][0]) == 12
    assert g.edges["vision.patch_embed", "vision.pos_add"]["through"] == "concat"


def test_gemm_dataflow_graph_unrolls_layers():
    d = gemm_dataflow_graph(lower(get_model("vit-b-16")))
    # vision: patch embedding + 12 x 6 + head; text: 12 x 6 + head
    assert d.number_of_nodes() == (1 + 72 + 1) + (72 + 1)
    qkv0 = ("vision.qkv", 0)
    assert {v for _, v in d.out_edges(qkv0)} == {("vision.attn_qk", 0), ("vision.attn_av", 0)}
    # the residual stream: layer 0's fc2 reaches every later qkv and fc1, and the head
    reach = {v for _, v in d.out_edges(("vision.mlp_fc2", 0))}
    assert ("vision.qkv", 11) in reach and ("vision.mlp_fc1", 11) in reach and ("vision.head", 0) in reach
    assert not any(v[0].startswith("text.") for v in reach)


def test_batched_models_share_one_graph_with_array_shapes():
    space_models = prune_batch(get_model("vit-b-16"), {"vision_layers": np.array([6, 12]), "text_layers": np.array([12, 8])})
    g = lower_graph(space_models)
    assert g.nodes["vision.qkv"]["repeat"].tolist() == [6, 12]
    assert gemm_dataflow_graph(lower(space_models), design=0).number_of_nodes() == (1 + 36 + 1) + (72 + 1)


def test_no_fusion_by_default_and_reference_fusion_folds_epilogues():
    w = lower(get_model("vit-b-16"))
    assert H.fuse(w, H.NO_FUSION) is w
    assert H.load_profile("reference").fusion == H.NO_FUSION
    f = H.fuse(w, REFERENCE_RULES)
    fused = {g.name: g.fused for g in f.gemms if g.fused}
    # q's scale folds into the QKV projection, GELU into fc1; softmax, norms and residual adds do not
    assert fused == {"vision.qkv": ("vision.attn_scale",), "vision.mlp_fc1": ("vision.mlp_act",),
                     "text.qkv": ("text.attn_scale",), "text.mlp_fc1": ("text.mlp_act",)}
    assert len(f.ops) == len(w.ops) - 4
    g = op_graph(f)
    assert set(g.successors("vision.mlp_fc1")) == {"vision.mlp_fc2"}
    assert nx.is_directed_acyclic_graph(g)


def test_quick_gelu_and_forks_do_not_fuse():
    # Quick-GELU (OpenAI CLIP) is not in the reference's fusable set (it is traced as mul, sigmoid,
    # mul with a fork); Llama's rotary embedding reads q and k twice (rotate_half).
    tiny = get_model("tinyclip-8m-16")
    assert {g.name for g in H.fuse(lower(tiny), REFERENCE_RULES).gemms if g.fused} == {
        "vision.qkv", "text.qkv", "vision.mlp_fc1", "text.mlp_fc1"}  # TinyCLIP's GELU fuses
    quick = dataclasses.replace(tiny, towers=tuple(dataclasses.replace(t, activation="quick_gelu") for t in tiny.towers))
    f = H.fuse(lower(quick), REFERENCE_RULES)
    assert {g.name for g in f.gemms if g.fused} == {"vision.qkv", "text.qkv"}
    f = H.fuse(lower(get_model("llama-2-7b")), REFERENCE_RULES)
    assert {g.name: g.fused for g in f.gemms if g.fused} == {"decoder.mlp_gate": ("decoder.mlp_act",)}


def test_fused_ops_cost_their_fixed_cycles_and_no_energy():
    w = lower(get_model("vit-b-16"))
    f = H.fuse(w, REFERENCE_RULES)
    hw = H.reference_grid().take([0, 1500, 3000])
    a = H.evaluate_cost(w, hw)
    b = H.evaluate_cost(f, hw)
    names = list(a.op_names)
    fused = ["vision.attn_scale", "vision.mlp_act", "text.attn_scale", "text.mlp_act"]
    unfused_cycles = sum(a.op_cycles[names.index(n)] for n in fused)
    # 4 fused ops of 1 cycle each, 12 layers per tower
    assert b.latency_s * hw.frequency_mhz * 1e6 == pytest.approx(a.latency_s * hw.frequency_mhz * 1e6 - unfused_cycles + 4 * 12)
    unfused_energy = sum(a.op_energy_j[names.index(n)] for n in fused)
    assert b.energy_j == pytest.approx(a.energy_j - unfused_energy)
    row = next(r for r in b.op_table(1) if r["name"] == "vision.mlp_fc1")
    assert row["mapping"]["fused"] == ["vision.mlp_act"]


def test_fusion_section_errors_name_the_field(tmp_path):
    sources: dict = {}
    with pytest.raises(H.HardwareError, match="fusion.cycles: kind 'gelu2'"):
        H.energy.parse_fusion({"enabled": {"value": True, "unit": "-", "source": "x"},
                               "cycles": {"value": {"gelu2": 1}, "unit": "cycles", "source": "x"}}, sources)
    with pytest.raises(H.HardwareError, match="unknown key 'fuse'"):
        H.energy.parse_fusion({"fuse": 1}, sources)
    with pytest.raises(H.HardwareError, match="fusion.enabled"):
        H.energy.parse_fusion({"enabled": {"value": "yes", "unit": "-", "source": "x"}}, sources)


def test_the_catransformers_code_profile_selects_the_reference_fusion():
    hw = H.reference_grid().take([0, 2000])
    w = lower(get_model("vit-b-16"))
    code = H.evaluate_cost(w, hw, profile="catransformers-code")
    assert H.load_profile("catransformers-code").fusion.cycles["gelu"] == 1
    assert "quick_gelu" not in H.load_profile("catransformers-code").fusion.cycles
    assert set(w.op_names) - set(code.op_names) == {"vision.attn_scale", "vision.mlp_act", "text.attn_scale", "text.mlp_act"}
    default = H.evaluate_cost(w, hw)
    assert default.op_names == w.op_names
