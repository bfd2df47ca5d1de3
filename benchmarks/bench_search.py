"""Search benchmarks: end-to-end time of the default search, GA vs random search, GA vs the exact front.

    .venv/bin/python benchmarks/bench_search.py            # everything (~10 min on 2 cores)
    .venv/bin/python benchmarks/bench_search.py --only e2e --repeats 5
    .venv/bin/python benchmarks/bench_search.py --only e2e --trees before=/tmp/old-tree,after=.
    .venv/bin/python benchmarks/bench_search.py --only random,exact --seeds 3

Prints three tables:
  1. the README command (`catransformers search --mode carbon --out DIR`, the default spec) in a
     fresh process, with and without report.html: wall and CPU seconds, broken down into import,
     search, write and report (run.json timings), optionally for several source trees side by
     side (--trees, runs interleaved) so that a change's gain is measured in one session;
  2. hypervolume of NSGA-II against random search with the same number of evaluations,
     median over seeds, in the carbon mode's units (accuracy x kg, reference (0.15, 0.5));
  3. the hypervolume the GA (and random search) reaches as a fraction of the exact front's,
     on a model subspace enumerable with the full hardware grid.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLI = [sys.executable, "-m", "catransformers"]

# 7 vision depths x 7 text depths x 5 vision FFN widths x 2 text FFN widths = 490 models,
# x 3,240 accelerators = 1,587,600 designs (under the 2e6 enumeration limit).
EXACT_SUBSPACE = {
    "space.vision_layers": [6, 12],
    "space.text_layers": [6, 12],
    "space.vision_ffn_blocks": [4, 8],
    "space.text_ffn_blocks": {"choices": [4, 8]},
    "space.vision_heads": 12,
    "space.text_heads": 8,
    "space.vision_emb_blocks": 8,
    "space.text_emb_blocks": 8,
}


def table(rows: list[dict], columns: list[str]) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
        return str(v)

    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(columns)]
    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))) for row in cells]
    return "\n".join(out)


PHASES = ("import", "search", "write", "report")
SEARCH_STAGES = ("prepare", "evaluate", "algorithm", "checkpoint")


def _phases(wall: float, cpu: float, t: dict) -> dict:
    """One run's breakdown, wall and CPU seconds: import = everything outside the run's own total
    (interpreter start-up, CLI imports, the console summary, exit); search = prepare (pymoo's import
    included) + evaluate + algorithm (pymoo and hypervolume) + checkpoints; write = tables and CSV
    (write_csv); report = report.html. CPU per stage comes from run.json (`*_cpu_s`), the process's
    total from getrusage; a tree without `*_cpu_s` gets none per stage."""
    out = {"wall_s": wall, "cpu_s": cpu}
    for unit, total in (("_s", wall), ("_cpu_s", cpu)):
        if f"total{unit}" not in t:
            continue
        out[f"import{unit}"] = total - t[f"total{unit}"]
        out[f"search{unit}"] = sum(t.get(f"{k}{unit}", 0.0) for k in SEARCH_STAGES)
        out[f"write{unit}"] = t.get(f"write_csv{unit}", 0.0)
        out[f"report{unit}"] = t.get(f"report{unit}", 0.0)
        for k in SEARCH_STAGES:
            out[f"{k}{unit}"] = t.get(f"{k}{unit}", 0.0)
    return out


def bench_e2e(repeats: int, trees: list[tuple[str, str]], variants: list[str]) -> None:
    """The README command in a fresh process per run; the trees' runs interleaved (tree A, tree B,
    A, B, ...) so that a change in the machine's load hits every tree alike; medians."""
    configs = {"report": [], "no-report": ["--no-report"], "exact": ["--exact"]}
    samples: dict[tuple[str, str], list[dict]] = {(t, v): [] for t, _ in trees for v in variants}
    # as an installed package runs: modules from cached bytecode (pip compiles it at install; an
    # environment with PYTHONDONTWRITEBYTECODE would otherwise recompile every module per run)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for name, path in trees:  # one unmeasured run per tree writes its bytecode cache
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(CLI + ["search", "--mode", "carbon", "--out", os.path.join(tmp, "c"), "--no-progress", "--generations", "2"],
                           check=True, cwd=path, capture_output=True, env={**env, "PYTHONPATH": path})
    for _ in range(repeats):
        for variant in variants:
            for name, path in trees:
                with tempfile.TemporaryDirectory() as tmp:
                    out = os.path.join(tmp, "carbon")
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t0 = time.perf_counter()
                    cmd = CLI + ["search", "--mode", "carbon", "--out", out, "--no-progress"] + configs[variant]
                    subprocess.run(cmd, check=True, cwd=path, capture_output=True, env={**env, "PYTHONPATH": path})
                    wall = time.perf_counter() - t0
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                    with open(os.path.join(out, "run.json")) as fh:
                        samples[(name, variant)].append(_phases(wall, cpu, json.load(fh)["timings"]))
    rows = []
    for (name, variant), runs in samples.items():
        row = {"tree": name, "outputs": variant}
        for key in runs[0]:
            values = [r[key] for r in runs if key in r]
            row[key] = statistics.median(values) if len(values) == len(runs) else "-"
        rows.append(row)
    load = os.getloadavg()[0]
    print(f"\n1. `catransformers search --mode carbon` end to end (the default spec), median of {repeats}, fresh process each, "
          f"trees interleaved, modules from cached bytecode; {os.cpu_count()} CPUs, load average {load:.1f}")
    wall_cols = ["tree", "outputs", "wall_s"] + [f"{p}_s" for p in PHASES] + [f"{k}_s" for k in SEARCH_STAGES]
    cpu_cols = ["tree", "outputs", "cpu_s"] + [f"{p}_cpu_s" for p in PHASES] + [f"{k}_cpu_s" for k in SEARCH_STAGES]
    print("wall-clock seconds:")
    print(table(rows, wall_cols))
    print("CPU seconds (this process, all threads):")
    print(table(rows, [c for c in cpu_cols if any(c in r for r in rows)]))
    print("import = wall (or CPU) - the run's own total: interpreter start-up, the CLI's imports, the console summary and exit; "
          "search = prepare (pymoo's import included) + evaluate + algorithm (pymoo's bookkeeping and the hypervolume) + checkpoint; "
          "write = tables and CSV; report = report.html (run.json timings).")


def _run(overrides: dict, out: str | None = None):
    from catransformers.search import load_spec, run_search

    return run_search(load_spec(overrides=overrides), out)


GENS_SHOWN = (5, 13, 25, 50)  # of the default 50 generations: 900, 2,500, 4,900, 9,900 designs


def bench_random(seeds: int) -> None:
    rows = []
    per = {"nsga2": [], "random": []}
    designs = {}
    for seed in range(seeds):
        for algo in ("nsga2", "random"):
            t0 = time.perf_counter()
            r = _run({"search.seed": seed, "search.algorithm": algo})
            hv = r.hypervolume
            per[algo].append(hv)
            sizes = r.evaluations.groupby("generation").size().cumsum().to_dict()
            designs = {g: int(sizes[g]) for g in GENS_SHOWN}
            rows.append({"algorithm": algo, "seed": seed, **{f"hv@{g}": hv[g - 1] for g in GENS_SHOWN},
                         "pareto": r.run["counts"]["pareto"], "feasible": r.run["counts"]["feasible"], "time_s": time.perf_counter() - t0})
    print(f"\n2. carbon mode, NSGA-II vs random search, the same designs per generation (the default spec; hv@g = hypervolume after "
          f"g generations), reference point (accuracy 0.15, 0.5 kg), units accuracy x kg")
    print(table(rows, list(rows[0])))
    med = {a: [statistics.median(h[g - 1] for h in per[a]) for g in GENS_SHOWN] for a in per}
    summary = [{"after": f"{g} gens ({designs[g]:,} designs)", "nsga2": med["nsga2"][j], "random": med["random"][j], "ratio": med["nsga2"][j] / med["random"][j]}
               for j, g in enumerate(GENS_SHOWN)]
    print(f"median over {seeds} seeds:")
    print(table(summary, ["after", "nsga2", "random", "ratio"]))
    best = max(max(h[-1] for h in per[a]) for a in per)
    print(f"gap to the best hypervolume any run found ({best:.6g}), median: nsga2 {1 - statistics.median(h[-1] for h in per['nsga2']) / best:.2%}, "
          f"random {1 - statistics.median(h[-1] for h in per['random']) / best:.2%}")
    # whether random search matches the GA's final hypervolume within the same designs
    target = med["nsga2"][-1]
    reached = [next((i + 1 for i, v in enumerate(h) if v >= target), None) for h in per["random"]]
    print(f"random search reaching the GA's median final hypervolume {target:.5g} within {designs[GENS_SHOWN[-1]]:,} designs: "
          f"{sum(r is not None for r in reached)} of {seeds} seeds")


def _front_keys(result) -> set[tuple]:
    cols = list(result.setup.space.columns)
    return set(map(tuple, result.pareto[cols].to_numpy().tolist()))


def bench_exact(seeds: int) -> None:
    from catransformers.search import load_spec, prepare

    size = prepare(load_spec(overrides=EXACT_SUBSPACE)).space.size
    t0 = time.perf_counter()
    exact = _run({**EXACT_SUBSPACE, "exhaustive.enabled": True})
    t_exact = time.perf_counter() - t0
    hv_exact = exact.hypervolume[0]
    exact_front = _front_keys(exact)
    rows = []
    for pop, off, gens in ((50, 50, 20), (100, 100, 20), (100, 100, 50), (100, 100, 100), (100, 200, 50)):
        for algo in ("nsga2", "random"):
            fr, recall = [], []
            for seed in range(seeds):
                r = _run({**EXACT_SUBSPACE, "search.population": pop, "search.offspring": off, "search.generations": gens, "search.seed": seed, "search.algorithm": algo})
                fr.append(r.hypervolume[-1] / hv_exact)
                recall.append(len(_front_keys(r) & exact_front) / len(exact_front))
                n = r.run["counts"]["designs"]
            rows.append({"algorithm": algo, "population": pop, "offspring": off, "generations": gens, "designs": n,
                         "share_of_space": n / size, "hv_fraction": statistics.median(fr), "hv_gap": 1 - statistics.median(fr),
                         "worst_seed_gap": 1 - min(fr), "exact_front_found": statistics.median(recall)})
    print(f"\n3. carbon mode on an enumerable subspace: 490 models (vision 6-12 layers x text 6-12 layers x vision FFN 4-8 blocks "
          f"x text FFN 4/8 blocks) x 3,240 accelerators = {size:,} designs; exact front by enumeration in {t_exact:.0f} s: "
          f"{exact.run['counts']['pareto']} designs, hypervolume {hv_exact:.6g}. hv_fraction = GA (or random) hypervolume / exact; "
          f"hv_gap = 1 - hv_fraction; exact_front_found = share of the exact Pareto designs the run evaluated and kept; medians over {seeds} seeds")
    print(table(rows, list(rows[0])))


MODES = ("carbon", "latency", "energy", "all")
# population, offspring per generation, generations: (100, 200, 50) is the default, (100, 100, 100) the default before it
BUDGETS = ((100, 100, 20), (100, 100, 100), (100, 200, 50), (200, 400, 50))


def _exact_child(mode: str) -> None:
    """One exact run over the full space in this (fresh) process: prints a JSON line."""
    from catransformers.search import load_spec, run_search

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        r = run_search(load_spec(overrides={"search.mode": mode, "exact.enabled": True}), os.path.join(tmp, mode))
        wall = time.perf_counter() - t0
    print(json.dumps({"mode": mode, "front": len(r.pareto), "time_s": wall, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "hypervolume": r.hypervolume[-1], "feasible": r.run["counts"]["feasible"], "designs": r.run["counts"]["designs"],
                      "tower_costs_s": r.run["timings"].get("evaluate_s", 0.0), "filter_pair_s": r.run["timings"].get("algorithm_s", 0.0)}))


def bench_exact_full(modes: tuple[str, ...]) -> None:
    rows = []
    for mode in modes:
        out = subprocess.run([sys.executable, __file__, "--exact-child", mode], check=True, cwd=ROOT, capture_output=True, text=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"\n5. the exact front of the whole space (`search --exact`, {rows[0]['designs']:,} designs), fresh process per mode; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}. peak_rss_mib: the process's maximum resident set (getrusage); "
          "tower_costs_s: per-tower latency/energy on every accelerator; filter_pair_s: tower filters, pairing, global filter")
    print(table(rows, ["mode", "front", "time_s", "peak_rss_mib", "tower_costs_s", "filter_pair_s", "hypervolume", "feasible"]))


def bench_ga_vs_exact(modes: tuple[str, ...], seeds: int, budgets: tuple[tuple[int, int, int], ...] = BUDGETS) -> None:
    """The GA scored against the truth: hypervolume fraction and share of the exact Pareto designs found, per mode and budget."""
    rows = []
    for mode in modes:
        exact = _run({"search.mode": mode, "exact.enabled": True})
        hv_exact = exact.hypervolume[-1]
        truth = _front_keys(exact)
        for pop, off, gens in budgets:
            fr, recall, times = [], [], []
            for seed in range(seeds):
                t0 = time.perf_counter()
                r = _run({"search.mode": mode, "search.population": pop, "search.offspring": off, "search.generations": gens, "search.seed": seed})
                times.append(time.perf_counter() - t0)
                fr.append(r.hypervolume[-1] / hv_exact)
                recall.append(len(_front_keys(r) & truth) / len(truth))
            rows.append({"mode": mode, "exact_front": len(truth), "population": pop, "offspring": off, "generations": gens, "designs": r.run["counts"]["designs"],
                         "hv_fraction": statistics.median(fr), "mean": statistics.fmean(fr), "worst_seed": min(fr), "seed_0": fr[0],
                         "exact_found": statistics.median(recall), "ga_s": statistics.median(times)})
    print(f"\n4. the GA against the exact front of the whole space (3.47e9 designs), per mode; hv_fraction = GA hypervolume / exact "
          f"(mode's reference point), exact_found = share of the exact Pareto designs the GA's front holds; medians over {seeds} seed(s); "
          "(100, 200, 50) is the default budget, (100, 100, 100) the one before it")
    print(table(rows, list(rows[0])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="e2e,random,exact,exact-full,ga-vs-exact", help="comma-separated: e2e, random, exact, exact-full, ga-vs-exact")
    parser.add_argument("--modes", default=",".join(MODES), help="modes for exact-full and ga-vs-exact")
    parser.add_argument("--exact-child", metavar="MODE", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=5, help="end-to-end repeats (median)")
    parser.add_argument("--trees", default=f"this={ROOT}", help="end to end: NAME=PATH,... source trees to run the CLI from (PYTHONPATH), interleaved, e.g. before=/tmp/old,after=.")
    parser.add_argument("--e2e", default="report,no-report", help="end-to-end variants: report, no-report, exact")
    parser.add_argument("--budgets", help="ga-vs-exact: POPxOFFSPRINGxGENERATIONS,... (default: " + ",".join("x".join(map(str, b)) for b in BUDGETS) + ")")
    parser.add_argument("--seeds", type=int, default=5, help="seeds for the hypervolume comparisons (median)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    if args.exact_child:
        _exact_child(args.exact_child)
        return
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    parts = {p.strip() for p in args.only.split(",")}
    if "e2e" in parts:
        trees = [(t.split("=", 1)[0], os.path.abspath(t.split("=", 1)[1])) for t in args.trees.split(",") if t.strip()]
        bench_e2e(args.repeats, trees, [v.strip() for v in args.e2e.split(",") if v.strip()])
    if "random" in parts:
        bench_random(args.seeds)
    if "exact" in parts:
        bench_exact(args.seeds)
    if "exact-full" in parts:
        bench_exact_full(modes)
    if "ga-vs-exact" in parts:
        budgets = tuple(tuple(int(v) for v in b.split("x")) for b in args.budgets.split(",")) if args.budgets else BUDGETS
        bench_ga_vs_exact(modes, args.seeds, budgets)


if __name__ == "__main__":
    main()
