"""Benchmark: 100,000 random (pruned CLIP model, grid hardware) pairs in one zip-broadcast call.

Run: .venv/bin/python benchmarks/bench_pairs.py [--pairs 100000] [--runs 5] [--seed 0]
Prints a table to quote (designs per second; goal: >= 200,000/s on the 2-core machine).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from bench_grid import _load, random_pruned

from hw_models import evaluate_cost, reference_grid

GOAL_PER_S = 200_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    wl = random_pruned(args.pairs, rng)
    grid = reference_grid()
    hw = grid.take(rng.integers(0, len(grid), args.pairs))
    evaluate_cost(wl, hw)  # warm-up: first-touch allocations
    wall, cpu = [], []
    for _ in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        rep = evaluate_cost(wl, hw)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    med_wall, med_cpu = float(np.median(wall)), float(np.median(cpu))
    rate_wall, rate_cpu = args.pairs / med_wall, args.pairs / med_cpu

    rows = [
        ("pairs per call", f"{args.pairs:,} (random pruned CLIP x random reference-grid design)"),
        ("workload", f"{len(wl.ops)} ops, {len(wl.gemms)} GEMMs, {rep.macs.min() / 1e9:.2f} .. {rep.macs.max() / 1e9:.2f} GMAC"),
        ("runs", f"{args.runs}"),
        ("median wall per call", f"{med_wall * 1e3:.0f} ms (min {min(wall) * 1e3:.0f}, max {max(wall) * 1e3:.0f})"),
        ("median CPU per call", f"{med_cpu * 1e3:.0f} ms"),
        ("designs per second", f"{rate_wall:,.0f} wall, {rate_cpu:,.0f} CPU"),
        ("goal", f">= {GOAL_PER_S:,}/s wall: {'met' if rate_wall >= GOAL_PER_S else 'NOT met'}"),
        ("latency", f"{rep.latency_s.min() * 1e3:.2f} .. {rep.latency_s.max() * 1e3:.1f} ms"),
        ("energy", f"{rep.energy_j.min() * 1e3:.1f} .. {rep.energy_j.max() * 1e3:.1f} mJ"),
        ("machine", f"{platform.machine()}, {platform.python_version()}, numpy {np.__version__}, load {_load()}"),
    ]
    width = max(len(k) for k, _ in rows)
    print("bench_pairs: evaluate_cost(pruned CLIP models, hardware), zip broadcast")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")


if __name__ == "__main__":
    main()
