"""Benchmark: 100,000 random (pruned CLIP model, grid hardware) pairs in one zip-broadcast call.

Run: .venv/bin/python benchmarks/bench_pairs.py [--pairs 100000] [--runs 5] [--seed 0] [--baseline DIR]
Prints a table to quote (designs per second; goal: >= 500,000/s on the 2-core machine). With
--baseline DIR, another version's hw_models is timed in turns with this one (see bench_grid).
"""

from __future__ import annotations

import argparse
import platform

import baseline
import numpy as np
from bench_grid import _load, allocator_row, comparison_rows, random_pruned

from hw_models import evaluate_cost, reference_grid

GOAL_PER_S = 500_000  # the project's target (200,000/s before the register model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline", metavar="DIR", help="time DIR/hw_models in turns with this hw_models")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    wl = random_pruned(args.pairs, rng)
    grid = reference_grid()
    hw = grid.take(rng.integers(0, len(grid), args.pairs))
    calls = baseline.evaluate_calls(evaluate_cost, wl, hw, args.baseline)
    timings = baseline.alternate(calls, args.runs)
    wall, cpu = timings[0]
    rep = calls[0]()
    med_wall, med_cpu = float(np.median(wall)), float(np.median(cpu))
    rate_wall, rate_cpu = args.pairs / med_wall, args.pairs / med_cpu

    rows = [
        ("pairs per call", f"{args.pairs:,} (random pruned CLIP x random reference-grid design)"),
        ("workload", f"{len(wl.ops)} ops, {len(wl.gemms)} GEMMs, {rep.macs.min() / 1e9:.2f} .. {rep.macs.max() / 1e9:.2f} GMAC"),
        ("runs", f"{args.runs}"),
        ("median wall per call", f"{med_wall * 1e3:.0f} ms (min {min(wall) * 1e3:.0f}, max {max(wall) * 1e3:.0f})"),
        ("median CPU per call", f"{med_cpu * 1e3:.0f} ms"),
        ("designs per second", f"{rate_wall:,.0f} wall, {rate_cpu:,.0f} CPU"),
        ("goal", f">= {GOAL_PER_S:,}/s: {'met' if rate_wall >= GOAL_PER_S else 'NOT met'} wall, "
                 f"{'met' if rate_cpu >= GOAL_PER_S else 'NOT met'} CPU"),
        *comparison_rows(timings, args.baseline, calls, rep, lambda r: args.pairs),
        ("latency", f"{rep.latency_s.min() * 1e3:.2f} .. {rep.latency_s.max() * 1e3:.1f} ms"),
        ("energy", f"{rep.energy_j.min() * 1e3:.1f} .. {rep.energy_j.max() * 1e3:.1f} mJ"),
        allocator_row(args.baseline),
        ("machine", f"{platform.machine()}, {platform.python_version()}, numpy {np.__version__}, load {_load()}"),
    ]
    width = max(len(k) for k, _ in rows)
    print("bench_pairs: evaluate_cost(pruned CLIP models, hardware), zip broadcast")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")


if __name__ == "__main__":
    main()
