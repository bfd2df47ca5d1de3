"""Trace every matmul of real OpenCLIP forward passes (random init) and compare with the analytical lowering.

Compares the GEMM shape multisets, the MACs, and the GEMM dataflow graphs (GEMM j depends on
GEMM i when it reads what i wrote through non-GEMM ops only): the traced graph must be
isomorphic to catransformers.workloads.gemm_dataflow_graph(lower(model)) with equal shapes.
"""

import argparse
import logging
import time

MODELS = ("vit-b-16", "vit-b-32", "tinyclip-8m-16", "tinyclip-39m-16", "tinyclip-40m-32", "tinyclip-61m-32")
# A pruned ViT-B-16 whose heads x 64 != width: only our PrunedAttention can run it.
PRUNED = {"vision_layers": 9, "vision_heads": 8, "vision_ffn_blocks": 5, "vision_emb_blocks": 6,
          "text_layers": 8, "text_heads": 5, "text_ffn_blocks": 4, "text_emb_blocks": 7}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="*", default=list(MODELS), help="catalogue names (catransformers.workloads)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    args = parser.parse_args()

    import torch

    from catransformers.real import compare_with_lowering, load_openclip, openclip_config, prune_model
    from catransformers.workloads import get_model, prune

    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    rows = []
    for name in args.models:
        cfg = get_model(name)
        t0 = time.perf_counter()
        clip = load_openclip(name, config=openclip_config(cfg))  # random init, no download
        c = compare_with_lowering(clip.model, cfg)
        rows.append((name, c, time.perf_counter() - t0))
        if name == "vit-b-16":
            target = prune(cfg, PRUNED, name="vit-b-16-pruned")
            t0 = time.perf_counter()
            pruned = prune_model(clip, target)
            c = compare_with_lowering(pruned.model, target)
            rows.append((target.name, c, time.perf_counter() - t0))
    print(f"{'model':<18}{'traced GMAC':>13}{'analytical GMAC':>17}{'GEMMs':>7}{'edges':>7}{'shapes equal':>14}"
          f"{'MACs equal':>12}{'graphs equal':>14}{'s':>7}")
    for name, c, s in rows:
        print(f"{name:<18}{c.traced_macs / 1e9:>13.4f}{c.analytical_macs / 1e9:>17.4f}{sum(c.traced.values()):>7}"
              f"{c.traced_graph.number_of_edges():>7}{'yes' if c.shapes_equal else 'NO':>14}{'yes' if c.macs_equal else 'NO':>12}"
              f"{'yes' if c.graphs_equal else 'NO':>14}{s:>7.1f}")
    bad = [name for name, c, _ in rows if not (c.shapes_equal and c.macs_equal and c.graphs_equal)]
    for name, c, _ in rows:
        if name in bad:
            print(f"{name}: {c.summary()}")
    print(f"vit-b-16-pruned: {PRUNED}")


if __name__ == "__main__":
    main()
