"""Run the reference's own tensor-core mapper (its Sunstone fork) on the Table 2 GEMMs and designs; write a CSV.

    .venv/bin/python benchmarks/validation/run_sunstone.py --reference PATH [--out CSV]

PATH is a checkout of facebookresearch/CATransformers (not shipped here: its licence is CC-BY-NC;
this script only calls it). Sunstone is called with the arguments that checkout's
phaze/Estimator/utils/tc_estimator.py (tensor_core_estimate) builds from
estimator_wrapper.py's create_core_config_for_estimation: PE axes X = pe_width, Y = pe_depth;
cluster grid X = max(d1, d2), Y = min with d1 = 2^int(log2(n)/2); a 32-word register that keeps
weights only; three L2 buffers of the (minimum-raised) L2 size; bandwidths (l2_bw, l2_bw),
(512, 512), (128, 128) words per cycle; uneven mapping off; a batched GEMM as one of
M x batch rows. Access energies: the catransformers-code profile's (its numbers are the
reference's Accelergy tables). One row per (GEMM, design, l2_bw); rows already in the CSV are
skipped, so an interrupted run resumes. benchmarks/bench_validation.py reads the CSV.

--bmm-dims reference passes each batched GEMM (attention) as the reference's tracer does: its
phaze/third_party_for_phaze/wham/perf_wrappers/tensor_core_wrapper.py `get_problem_dim`, Bmm
branch, sets the reduction C = weight[1], the second operand's last dimension (the output's N),
where its Mm branch takes weight[0] (K); transformers 4.45.2 (setup.sh) traces CLIP's attention as
torch.bmm. So Q.K^T (M x 64 x M) is costed as M x M x M and A.V (M x M x 64) as M x 64 x 64.
Those rows go to sunstone_bmm_results.csv.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

import hw_models as H  # noqa: E402

CSV_PATH = HERE / "sunstone_results.csv"
BMM_CSV_PATH = HERE / "sunstone_bmm_results.csv"
FIELDS = ("model", "gemm", "m", "k", "n", "batch", "clusters", "pe_width", "pe_depth", "l2_sram_kb", "glb_mb", "l2_bw",
          "sunstone_cycles", "sunstone_pj", "wall_s")
L2_BWS = (32, 64, 128)  # the grid's l2_bw values (configurations.py L2_BW); Table 2 does not give it
GLB_BW_WORDS = 512  # estimator_wrapper.py create_core_config_for_estimation: max_glb_bw
DRAM_BW_WORDS = 128  # tc_estimator.py: DRAM bandwidth (128, 128)
REGISTER_WORDS = 32  # estimator_wrapper.py: L1_Buffer_TC = 32


def reference_bmm_dims(m: int, k: int, n: int, batch: int) -> tuple[int, int, int, int]:
    """(m, k, n, batch) as the reference's tracer passes a batched GEMM: the reduction is the output's n."""
    return (m, n, n, batch) if batch > 1 else (m, k, n, batch)


def cases(bmm_dims: str = "lowered") -> list[dict]:
    """Every GEMM the code profile charges (repeat > 0) of each Table 2 model, on its two designs, at each l2_bw."""
    from bench_validation import PAPER_TABLE2, table2_model
    from catransformers.workloads import lower

    prof = H.load_profile("catransformers-code")
    out = []
    for model, designs in PAPER_TABLE2.items():
        wl = H.count_layers(lower(table2_model(model)), prof.layer_count)
        seen = set()
        for op in wl.ops:
            if not isinstance(op, H.Gemm) or int(op.repeat[0]) == 0:
                continue
            shape = tuple(int(a[0]) for a in (op.m, op.k, op.n, op.batch))
            if bmm_dims == "reference":
                if shape[3] == 1:
                    continue  # only the batched GEMMs differ
                shape = reference_bmm_dims(*shape)
            if shape in seen:
                continue
            seen.add(shape)
            for paper in designs:
                for bw in L2_BWS:
                    out.append(dict(model=model, gemm=op.name, m=shape[0], k=shape[1], n=shape[2], batch=shape[3],
                                    clusters=paper[2], pe_width=paper[3], pe_depth=paper[4], l2_sram_kb=paper[5],
                                    glb_mb=paper[6], l2_bw=bw))
    return out


def _l2_bytes(width: int, depth: int, l2_kb: int) -> int:
    """The L2 size the reference passes (estimator_wrapper.py: raised to 2^(log2 W + log2 D - 6) KiB, two corner cases)."""
    size = max(l2_kb * 1024, int(2 ** (math.log2(width) + math.log2(depth) - 6) * 1024))
    if (width, depth) == (256, 32):
        size = max(size, 256 * 1024)
    if (width, depth) == (256, 16):
        size = max(size, 128 * 1024)
    return size


def run_case(case: dict, optimizer) -> tuple[float, float]:
    c = case
    hw = H.HardwareBatch.from_configs([H.HardwareConfig(clusters=c["clusters"], pe_width=c["pe_width"], pe_depth=c["pe_depth"],
                                                        l2_sram_kb=c["l2_sram_kb"], glb_mb=c["glb_mb"], l2_bw=c["l2_bw"])])
    e = H.access_energies(hw, H.load_profile("catransformers-code"))
    reg = H.load_profile("catransformers-code").register_pj
    l2e, glbe = float(np.atleast_1d(e.l2_tc_read_pj)[0]), float(np.atleast_1d(e.glb_tc_read_pj)[0])
    dram = float(np.atleast_1d(e.dram_tc_pj)[0])
    l2 = _l2_bytes(c["pe_width"], c["pe_depth"], c["l2_sram_kb"])
    glb = c["glb_mb"] * 1024 * 1024
    d1 = 2 ** int(math.log2(c["clusters"]) / 2)
    d2 = c["clusters"] // d1
    energies = {"reg_ifmap": reg, "reg_w": reg, "reg_ofmap": reg, "L1_ifmap": l2e, "L1_w": l2e, "L1_ofmap": l2e, "L1_NoC": l2e,
                "L2_ifmap": glbe, "L2_w": glbe, "L2_ofmap": glbe, "DR_ifmap": dram, "DR_w": dram, "DR_ofmap": dram}
    dims = {"N": c["m"] * c["batch"], "C": c["k"], "K": c["n"], "R": 1, "S": 1, "P": 1, "Q": 1}
    opt = optimizer(
        dims,
        {"reg": REGISTER_WORDS, "L1": (l2, l2, l2), "L2": glb},
        energies,
        [None, (c["l2_bw"], c["l2_bw"]), (GLB_BW_WORDS, GLB_BW_WORDS), (DRAM_BW_WORDS, DRAM_BW_WORDS)],
        {"X": max(d1, d2), "Y": min(d1, d2)},
        {"X": c["pe_width"], "Y": c["pe_depth"]},
        {"reg": (True, False, True), "L1": (False, False, False), "L2": (False, False, False)},
        [(False, True, False), (True, True, True), (False, False, False)],
        {"reg": REGISTER_WORDS, "L1_ifmap": l2, "L1_w": l2, "L1_ofmap": l2, "L2": glb},
    )
    _, full = opt.solve(threads=1, optimize_uneven_mapping=False)
    return float(full[1]), float(full[2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", type=Path, required=True, help="a facebookresearch/CATransformers checkout")
    ap.add_argument("--out", type=Path, default=None, help="default: sunstone_results.csv, or sunstone_bmm_results.csv with --bmm-dims reference")
    ap.add_argument("--bmm-dims", choices=("lowered", "reference"), default="lowered",
                    help="batched GEMMs as lowered, or with the reference tracer's reduction (see the module docstring)")
    args = ap.parse_args()
    if args.out is None:
        args.out = BMM_CSV_PATH if args.bmm_dims == "reference" else CSV_PATH
    sun = args.reference / "phaze" / "third_party_for_phaze" / "sunstone"
    if not (sun / "examples" / "simba_like" / "cnn_optimizer_wrapper.py").is_file():
        print(f"--reference: {args.reference} has no phaze/third_party_for_phaze/sunstone; give a CATransformers checkout", file=sys.stderr)
        raise SystemExit(2)
    sys.path.insert(0, str(sun))
    import src.generic_optimizers as G  # the reference's Sunstone fork
    from examples.simba_like.cnn_optimizer_wrapper import CNNOptimizer

    G.ProcessPoolExecutor = concurrent.futures.ThreadPoolExecutor  # one process: its pool only adds start-up time
    key = lambda row: tuple(str(row[f]) for f in FIELDS[1:12])  # noqa: E731
    done = set()
    if args.out.exists():
        with args.out.open() as f:
            done = {key(r) for r in csv.DictReader(f)}
    todo = [c for c in cases(args.bmm_dims) if key(c) not in done]
    new = not args.out.exists()
    with args.out.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        if new:
            w.writeheader()
        for i, c in enumerate(todo):
            t0 = time.perf_counter()
            cycles, pj = run_case(c, CNNOptimizer)
            w.writerow({**c, "sunstone_cycles": f"{cycles:.1f}", "sunstone_pj": f"{pj:.1f}", "wall_s": f"{time.perf_counter() - t0:.2f}"})
            f.flush()
            if i % 50 == 0:
                print(f"{i + 1}/{len(todo)}", flush=True)


if __name__ == "__main__":
    main()
