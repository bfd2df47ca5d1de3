"""Workload cross-check: the matmuls of a real OpenCLIP forward pass equal `lower(model)` (shapes and MACs)."""

from collections import Counter

import pytest

open_clip = pytest.importorskip("open_clip")
torch = pytest.importorskip("torch")

from catransformers.real import compare_with_lowering, lowered_gemms, prune_model, tiny_clip, trace_gemms  # noqa: E402
from catransformers.real.trace import GemmRecorder, TraceComparison  # noqa: E402
import networkx as nx  # noqa: E402
from catransformers.workloads import count_macs  # noqa: E402

pytestmark = [pytest.mark.clip, pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture(scope="module")
def clip():
    # 3 layers so that a pruned variant can drop one; heads of 16 so that 4 heads fit width 64
    return tiny_clip(vision_cfg={"layers": 3, "head_width": 16}, text_cfg={"layers": 3, "heads": 4})


def test_unpruned_openclip_forward_pass_matches_the_lowering(clip):
    c = compare_with_lowering(clip.model, clip.base)
    assert c.shapes_equal, c.summary()
    assert c.graphs_equal, c.summary()
    assert c.traced_macs == c.analytical_macs == int(count_macs(clip.base)["total"][0])
    # per layer: qkv, Q.K^T, A.V, out-proj, fc1, fc2; plus patch embedding and two projections
    assert sum(c.traced.values()) == 2 * 3 * 6 + 3
    assert c.traced[(16, 3 * 8 * 8, 64, 1)] == 1  # the patch conv as a GEMM: 16 patches x 192 x 64
    assert c.traced[(17, 16, 17, 4)] == 3  # vision Q.K^T: 4 heads of 16, 17 tokens, 3 layers


@pytest.mark.parametrize(
    "dims",
    [
        dict(vision={"layers": 2, "heads": 2, "ffn": 160, "width": 48}, text={"layers": 2, "heads": 3, "ffn": 96, "width": 40}),
        dict(vision={"heads": 1}, text={"layers": 1, "width": 32}),
    ],
)
def test_pruned_forward_pass_matches_the_lowering(clip, dims):
    target = clip.base.with_dims(**dims)
    pruned = prune_model(clip, target)
    c = compare_with_lowering(pruned.model, pruned.config)
    assert c.shapes_equal, c.summary()
    assert c.graphs_equal, c.summary()
    assert c.macs_equal
    assert c.analytical == lowered_gemms(target)


def test_fused_attention_hides_the_attention_matmuls_unless_disabled(clip):
    image = torch.randn(1, 3, 32, 32)
    rec = GemmRecorder()
    with torch.no_grad(), rec:  # no math_attention(): MHA fast path / fused SDPA
        clip.model.encode_image(image)
    fused = Counter(g.op for g in rec.gemms)
    assert "aten.bmm.default" not in fused  # Q.K^T and A.V are inside one fused kernel
    traced = Counter(g.op for g in trace_gemms(clip.model, towers=("vision",)))
    assert traced["aten.bmm.default"] == 2 * 3


def test_traced_ops_are_the_expected_aten_overloads(clip):
    ops = Counter(g.op for g in trace_gemms(clip.model))
    assert set(ops) == {"aten.convolution.default", "aten.addmm.default", "aten.bmm.default", "aten.mm.default"}
    assert ops["aten.mm.default"] == 2  # the two joint-embedding projections (x @ proj)


def test_dataflow_graph_of_the_trace_has_the_attention_and_residual_edges(clip):
    c = compare_with_lowering(clip.model, clip.base)
    g = c.traced_graph
    shape = nx.get_node_attributes(g, "shape")
    qkv = [n for n in g if shape[n] == (17, 64, 192, 1)]  # vision: 17 tokens, width 64, 3 x 4 heads of 16
    qk = [n for n in g if shape[n] == (17, 16, 17, 4)]
    av = [n for n in g if shape[n] == (17, 17, 16, 4)]
    assert len(qkv) == len(qk) == len(av) == 3
    for a, b, c_ in zip(qkv, qk, av):
        assert g.has_edge(a, b) and g.has_edge(a, c_) and g.has_edge(b, c_)  # q,k -> Q.K^T; v and softmax -> A.V
    # the residual stream: the first layer's qkv input (patch embedding) reaches all three qkv GEMMs
    patch = next(n for n in g if shape[n] == (16, 192, 64, 1))
    assert all(g.has_edge(patch, n) for n in qkv)


def test_a_missing_dependency_is_detected(clip):
    c = compare_with_lowering(clip.model, clip.base)
    broken = c.analytical_graph.copy()
    broken.remove_edge(*next(iter(broken.edges()))[:2])
    bad = TraceComparison(c.traced, c.analytical, c.traced_macs, c.analytical_macs, c.traced_graph, broken)
    assert bad.shapes_equal and not bad.graphs_equal
    assert "dataflow graphs" in bad.summary() and "differ" in bad.summary()
