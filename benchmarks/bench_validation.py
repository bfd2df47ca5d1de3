"""Validation report of the accelerator model: regenerates docs/validation.md.

    .venv/bin/python benchmarks/bench_validation.py [--out docs/validation.md] [--run-oracles]

1. The paper's Table 2 (hardware-only search on 7 fixed CLIP models, every point of the
   3,240-point grid, TOPS <= 20.48, latency <= 100 ms): paper vs the `catransformers-code`
   profile vs the default `reference` profile, in four carbon scenarios (configurations.py's
   British Columbia 68 g/kWh and 30 M inferences at 625 MHz; the paper's California 224 g/kWh
   and 23.65 M inferences at 500 and 625 MHz; the code's carbon path, carbon_wrapper.py's
   262.67 g/kWh and 30 M inferences). The models as the reference traces them (table2_model).
   One vectorised sweep per model, profile and scenario.
2. Two oracles on 8 GEMMs x 4 designs (benchmarks/validation/oracle_cases.py), each configured
   to the same semantics as one of our settings and choosing its own mapping: ZigZag 3.9.1
   (32-byte weight register, edge-latched input and partial sum) against our edge-latched
   setting, AccelForge 1.0.467 (weights-only register, one shared L2 link) against our strict
   setting. Their outputs are read from benchmarks/validation/oracle_results.csv; --run-oracles
   re-runs them first (minutes to an hour on 2 cores; benchmarks/validation/run_oracles.py).
3. SCALE-Sim's compute-bound formula (exact) and the default profile's pJ per MAC of whole models.
4. The reference's own tensor-core mapper (its Sunstone fork) against catransformers-code on the
   Table 2 GEMMs, read from benchmarks/validation/sunstone_results.csv, and on the attention GEMMs
   with the dimensions the reference's tracer passes for a Bmm (sunstone_bmm_results.csv); both
   from benchmarks/validation/run_sunstone.py, which needs a CATransformers checkout.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "validation"))

import hw_models as H  # noqa: E402
from catransformers.carbon import load_scenario  # noqa: E402
from catransformers.sweep import sweep  # noqa: E402
from catransformers.workloads import count_macs, get_model, lower  # noqa: E402
from oracle_cases import DESIGNS, GEMMS, REGISTER_BYTES  # noqa: E402

ORACLE_CSV = ROOT / "benchmarks" / "validation" / "oracle_results.csv"
ACTIONS_JSON = ROOT / "benchmarks" / "validation" / "accelforge_actions.json"

# Paper Table 2 (arXiv 2505.01386v4, Table 2): model -> (min-carbon, min-latency), each
# (carbon kg, latency ms, clusters, pe_width, pe_depth, L2 KB, GLB MB).
PAPER_TABLE2: dict[str, tuple[tuple, tuple]] = {
    "vit-b-16": ((0.54, 18.5, 1, 256, 8, 64, 2), (0.69, 5.4, 2, 256, 16, 256, 4)),
    "vit-l-14": ((1.43, 68.7, 2, 128, 16, 128, 2), (1.76, 66.4, 4, 64, 64, 256, 4)),
    "vit-h-14": ((1.92, 71.0, 1, 128, 32, 128, 4), (2.60, 70.2, 4, 256, 4, 512, 4)),
    "tinyclip-8m-16": ((0.34, 3.0, 2, 256, 4, 64, 2), (0.56, 1.3, 1, 256, 64, 256, 8)),
    "tinyclip-39m-16": ((0.44, 9.4, 1, 256, 8, 64, 2), (0.59, 2.2, 4, 256, 16, 128, 4)),
    "tinyclip-40m-32": ((0.37, 8.6, 1, 32, 32, 64, 2), (0.46, 1.1, 4, 128, 32, 64, 2)),
    "tinyclip-61m-32": ((0.39, 9.7, 1, 128, 8, 64, 2), (0.49, 1.4, 4, 128, 32, 64, 2)),
}
HW_KEYS = ("clusters", "pe_width", "pe_depth", "l2_sram_kb", "glb_mb")  # the table gives no l2_bw
# The all-hw mode traces Hugging Face models (CAT-code eval/model_constants.py orig_models):
# ViT-B-16 and ViT-L-14 are OpenAI's (openai/clip-vit-base-patch16, -large-patch14), whose MLPs
# use quick-GELU (their HF configs' hidden_act); ours are OpenCLIP's GELU configurations of the
# same shapes. The TinyCLIPs and ViT-H-14 (LAION) use GELU in both.
REFERENCE_ACTIVATION = {"vit-b-16": "quick_gelu", "vit-l-14": "quick_gelu"}


def table2_model(name: str):
    """A Table 2 model as the reference traces it: our named model with the reference's activation."""
    import dataclasses

    m = get_model(name)
    act = REFERENCE_ACTIVATION.get(name)
    if act is None:
        return m
    return dataclasses.replace(m, towers=tuple(dataclasses.replace(t, activation=act) for t in m.towers))
# (label, carbon scenario, frequency MHz)
SCENARIOS = (("code", "reference", 625.0, "British Columbia 68 g/kWh, 30 M inferences"),
             ("paper", "paper", 500.0, "California 224 g/kWh, 3 years x 6 h/day x 1 inference/s = 23.65 M inferences"),
             ("code clock, paper grid", "paper", 625.0, "the code's 625 MHz with the paper's California 224 g/kWh and 23.65 M inferences"),
             ("code's carbon path", "carbon_wrapper", 625.0, "the code's phaze/Estimator/utils/carbon_wrapper.py: California 2023 average "
              "262.67 g/kWh, and carbon_estimator.py's 30 M inferences; benchmarks/validation/scenario_carbon_wrapper.toml"))
# Scenarios that are files here rather than shipped presets.
SCENARIO_FILES = {"carbon_wrapper": Path(__file__).resolve().parent / "validation" / "scenario_carbon_wrapper.toml"}
# The all-hw mode has no latency constraint, but its Ax objective threshold for latency is 0.1 s
# (CAT-code optimization/optimizer_all_hw.py): qNEHVI credits no hypervolume beyond it, so its
# front ends there. We take min-carbon and min-latency among designs with latency <= 0.1 s and
# TOPS <= 20.48 (area: the default cap, which every TOPS-feasible grid point meets).
LIMITS = {"latency_s": 0.1, "tops": 20.48}

# Goals of the validation (issue: accelerator model validated against oracles and the paper).
TABLE2_TOL = 0.15
ORACLE_GOALS = {"median": 0.10, "p90": 0.25, "max_ratio": 2.0, "energy_median": 0.15}


def _fmt_table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def _has_fields(*names: str) -> bool:
    have = {f.name for f in fields(H.HardwareConfig)}
    return all(n in have for n in names)


# ----------------------------------------------------------------------------- Table 2
def _grid_steps(axes: dict[str, list]) -> dict[str, dict[int, int]]:
    return {k: {int(v): i for i, v in enumerate(sorted(axes[k]))} for k in HW_KEYS}


def _hw_distance(row, paper: tuple, steps) -> int:
    """Grid steps between our chosen design and the paper's, summed over the axes the table gives."""
    ours = [int(row[k]) for k in HW_KEYS]
    return sum(abs(steps[k][o] - steps[k][p]) if p in steps[k] else 99 for k, o, p in zip(HW_KEYS, ours, paper[2:]))


def _vs_optimum(opt, row, which: str) -> str:
    """The grid optimum of the same profile against the paper's design: kg (min-carbon) or ms (min-latency)."""
    if which == "min-carbon":
        return f"{opt['total_kg']:.3f} / {row['total_kg']:.3f} kg = {opt['total_kg'] / row['total_kg']:.2f}"
    return f"{opt['latency_s'] * 1e3:.1f} / {row['latency_s'] * 1e3:.1f} ms = {opt['latency_s'] / row['latency_s']:.2f}"


# The all-hw mode minimises carbon and latency together (a Pareto front), so of two designs with
# the same carbon the faster one dominates, and of two equally fast ones the lower-carbon one:
# ties (to the resolution below, far under the table's 0.01 kg and 0.1 ms) go to the other objective.
# They are common: l2_bw changes neither the area nor, often, the energy.
TIE_RESOLUTION = {"total_kg": 1e-4, "latency_s": 1e-6}  # kg, s
OTHER_OBJECTIVE = {"total_kg": "latency_s", "latency_s": "total_kg"}


def _best(t, key: str):
    """The row of `t` with the least `key`; ties within TIE_RESOLUTION go to the other objective."""
    near = t[t[key] <= t[key].min() + TIE_RESOLUTION[key]]
    return near.loc[near[OTHER_OBJECTIVE[key]].idxmin()]


def table2(profiles: list[str]) -> tuple[str, dict]:
    axes = H.load_grid_axes("reference")
    steps = _grid_steps(axes)
    results: dict = {}
    lines = []
    summary: list[list[str]] = []
    verdict: dict = {}
    misses: dict = {}
    t0 = time.perf_counter()
    for label, scen_name, mhz, _ in SCENARIOS:
        scen = load_scenario(SCENARIO_FILES.get(scen_name, scen_name))
        hw = H.grid(axes, H.HardwareConfig(frequency_mhz=mhz))
        for prof in profiles:
            for model, paper in PAPER_TABLE2.items():
                r = sweep(table2_model(model), scen, grid=hw, limits=LIMITS, accuracy=None, profile=prof)
                for which, key, p in (("min-carbon", "total_kg", paper[0]), ("min-latency", "latency_s", paper[1])):
                    t = r.table
                    row = _best(t[t["feasible"]], key)
                    results[(label, prof, model, which)] = (row, p, _hw_distance(row, p, steps))
                    # the paper's own design (l2_bw unknown: the one of 32/64/128 that is best for `key`)
                    same = t[np.logical_and.reduce([t[k] == v for k, v in zip(HW_KEYS, p[2:])])]
                    results[(label, prof, model, which, "at_paper")] = _best(same, key)
                    results[(label, prof, model, which, "every_bw")] = same
                # the minimum-carbon design without the all-hw mode's 0.1 s bound (TOPS and area only)
                results[(label, prof, model, "unbounded")] = _best(r.table[r.table["meets_tops"] & r.table["meets_area_um2"]], "total_kg")
    elapsed = time.perf_counter() - t0
    n_sweeps = len(SCENARIOS) * len(profiles) * len(PAPER_TABLE2)
    # How flat the carbon landscape is: our grid optimum over our cost of the paper's min-carbon design.
    flat = [results[(label, prof, model, "min-carbon")][0]["total_kg"] / results[(label, prof, model, "min-carbon", "at_paper")]["total_kg"]
            for label, *_ in SCENARIOS for prof in profiles for model in PAPER_TABLE2]
    for label, scen_name, mhz, desc in SCENARIOS:
        lines.append(f"\n### Scenario `{scen_name}` at {mhz:g} MHz ({label}: {desc})\n")
        for prof in profiles:
            rows = []
            within, near = 0, 0
            for model, paper in PAPER_TABLE2.items():
                for which in ("min-carbon", "min-latency"):
                    row, p, dist = results[(label, prof, model, which)]
                    c_ratio = row["total_kg"] / p[0]
                    l_ratio = row["latency_s"] * 1e3 / p[1]
                    within += abs(c_ratio - 1) <= TABLE2_TOL and abs(l_ratio - 1) <= TABLE2_TOL
                    near += dist <= 1
                    ours_hw = f"{int(row['clusters'])} x {int(row['pe_width'])}x{int(row['pe_depth'])}, {int(row['l2_sram_kb'])} KB, {int(row['glb_mb'])} MB, bw {int(row['l2_bw'])}"
                    rows.append([model, which, f"{p[2]} x {p[3]}x{p[4]}, {p[5]} KB, {p[6]} MB", ours_hw, str(dist),
                                 f"{p[0]:.2f}", f"{row['total_kg']:.3f}", f"{c_ratio:.2f}",
                                 f"{p[1]:.1f}", f"{row['latency_s'] * 1e3:.1f}", f"{l_ratio:.2f}",
                                 f"{row['operational_kg'] / row['total_kg']:.2f}"])
            lines.append(f"Profile `{prof}`: {within} of {2 * len(PAPER_TABLE2)} rows with carbon and latency within "
                         f"{TABLE2_TOL:.0%} of the paper; {near} with the paper's hardware or a grid neighbour (distance <= 1).\n")
            lines.append(_fmt_table(["model", "design", "paper hardware", "our hardware", "grid steps", "paper kg", "ours kg",
                                     "kg ratio", "paper ms", "ours ms", "ms ratio", "operational share"], rows))
            lines.append("")
            # The same profile on the paper's own designs: the cost model without the search.
            rows, within = [], 0
            for model, paper in PAPER_TABLE2.items():
                for which, p in (("min-carbon", paper[0]), ("min-latency", paper[1])):
                    row = results[(label, prof, model, which, "at_paper")]
                    c_ratio, l_ratio = row["total_kg"] / p[0], row["latency_s"] * 1e3 / p[1]
                    ok = abs(c_ratio - 1) <= TABLE2_TOL and abs(l_ratio - 1) <= TABLE2_TOL
                    within += ok
                    if not ok:
                        misses.setdefault((scen_name, mhz, prof), []).append(f"{model} {which} (kg {c_ratio:.2f}, ms {l_ratio:.2f})")
                    # the energy per inference the paper's carbon implies, given our embodied carbon
                    kg_per_j = row["operational_kg"] / row["energy_j"]
                    implied_mj = (p[0] - row["embodied_kg"]) / kg_per_j * 1e3
                    rows.append([model, which, f"{p[2]} x {p[3]}x{p[4]}, {p[5]} KB, {p[6]} MB, bw {int(row['l2_bw'])}",
                                 f"{p[0]:.2f}", f"{row['total_kg']:.3f}", f"{c_ratio:.2f}", f"{row['embodied_kg']:.3f}",
                                 f"{row['energy_j'] * 1e3:.1f}", f"{implied_mj:.1f}", f"{row['energy_j'] * 1e3 / implied_mj:.2f}",
                                 f"{p[1]:.1f}", f"{row['latency_s'] * 1e3:.1f}", f"{l_ratio:.2f}",
                                 _vs_optimum(results[(label, prof, model, which)][0], row, which)])
            med = lambda col: statistics.median(float(r[col]) for r in rows)  # noqa: E731
            kg_ok = sum(abs(float(r[5]) - 1) <= TABLE2_TOL for r in rows)
            ms_ok = sum(abs(float(r[12]) - 1) <= TABLE2_TOL for r in rows)
            summary.append([f"{scen_name} @ {mhz:g} MHz", prof, f"{within} / {len(rows)}", f"{kg_ok} / {len(rows)}", f"{ms_ok} / {len(rows)}",
                            f"{med(5):.2f}", f"{med(9):.2f}", f"{med(12):.2f}"])
            small = [r for r in rows if r[0] == "vit-b-16" or r[0].startswith("tinyclip")]
            verdict[(scen_name, mhz, prof)] = (statistics.median(float(r[5]) for r in rows), statistics.median(float(r[9]) for r in rows),
                                               statistics.median(float(r[12]) for r in small), within,
                                               statistics.median(float(r[12]) for r in small if r[1] == "min-carbon"),
                                               statistics.median(float(r[12]) for r in small if r[1] == "min-latency"))
            lines.append(f"The same profile on the paper's own designs (no search; l2_bw, which the table omits, is the best "
                         f"of 32/64/128 for that row's objective): {within} of {2 * len(PAPER_TABLE2)} rows within {TABLE2_TOL:.0%} in both.\n")
            lines.append(_fmt_table(["model", "design", "paper hardware (our l2_bw)", "paper kg", "ours kg", "kg ratio",
                                     "our embodied kg", "our mJ", "mJ the paper's kg implies", "mJ ratio", "paper ms",
                                     "ours ms", "ms ratio", "our grid optimum / this design"], rows))
            lines.append("")
    lines.append(f"{n_sweeps} sweeps of the 3,240-point grid in {elapsed:.1f} s ({elapsed / n_sweeps:.2f} s each, one vectorised "
                 "evaluate per model, profile and scenario).")
    head = ("\nSummary on the paper's own 14 designs (medians of ours / paper; the mJ ratio compares our energy per "
            "inference with the energy the paper's carbon implies after our embodied carbon):\n\n"
            + _fmt_table(["scenario", "profile", "rows within 15 % (both)", "kg within 15 %", "ms within 15 %", "kg ratio",
                          "mJ ratio", "ms ratio"], summary) + "\n")
    for prof in profiles:
        mine = {k: v for k, v in verdict.items() if k[2] == prof}
        best_ms = min(mine, key=lambda k: abs(np.log(mine[k][2])))
        best_kg = min(mine, key=lambda k: abs(np.log(mine[k][0])))
        per_clock = "; ".join(f"{k[1]:g} MHz: {v[4]:.2f} on the min-carbon designs, {v[5]:.2f} on the min-latency ones"
                              for k, v in mine.items() if k[0] == best_kg[0])
        head += (f"\nProfile `{prof}`: the latency on the paper's designs comes closest at {best_ms[1]:g} MHz (median ms ratio "
                 f"{mine[best_ms][2]:.2f} over ViT-B-16 and the TinyCLIPs; {per_clock}), the carbon with scenario "
                 f"`{best_kg[0]}` (median kg ratio {mine[best_kg][0]:.2f}, energy {mine[best_kg][1]:.2f}x what the paper's carbon implies).")
    code = "catransformers-code"
    if code in profiles:
        # most rows within the tolerance; of equals, the median carbon ratio nearest 1
        top = max((k for k in verdict if k[2] == code), key=lambda k: (verdict[k][3], -abs(np.log(verdict[k][0]))))
        head += (f"\n\nProfile `{code}` reproduces the most rows in scenario `{top[0]}` at {top[1]:g} MHz: {verdict[top][3]} of "
                 f"{2 * len(PAPER_TABLE2)} within {TABLE2_TOL:.0%} in carbon and latency. The others: "
                 + "; ".join(misses.get(top, [])) + ".")
    facts = {"flat_range": f"{min(flat):.2f}-{max(flat):.2f}", "unbounded": _unbounded_text(results, profiles)}
    if code in profiles:
        head += "\n\n" + miss_breakdown(results, top, code)
    return head + "\n" + "\n".join(lines), results, facts


def _unbounded_text(results: dict, profiles: list[str]) -> str:
    """Where each profile's minimum-carbon design lands without the 0.1 s bound, over every scenario and model."""
    parts = []
    for prof in profiles:
        rows = [results[(label, prof, model, "unbounded")] for label, *_ in SCENARIOS for model in PAPER_TABLE2]
        ms = [float(r["latency_s"]) * 1e3 for r in rows]
        arrays = sorted({(int(r["pe_width"]), int(r["pe_depth"])) for r in rows}, key=lambda wd: (wd[0] * wd[1], wd))
        over = sum(m > LIMITS["latency_s"] * 1e3 for m in ms)
        parts.append(f"`{prof}` at {min(ms):.0f}-{max(ms):.0f} ms on {arrays[0][0]}x{arrays[0][1]} to "
                     f"{arrays[-1][0]}x{arrays[-1][1]} arrays ({over} of {len(rows)} model-scenario pairs over 100 ms)")
    return "; ".join(parts)


def miss_breakdown(results: dict, key: tuple, profile: str) -> str:
    """Our latency of each paper design that misses, split into attention GEMMs (batched), other GEMMs and vector ops."""
    scen_name, mhz, _ = key
    label = next(s[0] for s in SCENARIOS if s[1] == scen_name and s[2] == mhz)
    rows, att_share = [], []
    for model, paper in PAPER_TABLE2.items():
        wl = lower(table2_model(model))
        for which, p in (("min-carbon", paper[0]), ("min-latency", paper[1])):
            row = results[(label, profile, model, which, "at_paper")]
            c_ratio, l_ratio = row["total_kg"] / p[0], row["latency_s"] * 1e3 / p[1]
            if abs(c_ratio - 1) <= TABLE2_TOL and abs(l_ratio - 1) <= TABLE2_TOL:
                continue
            hw = H.HardwareConfig.from_mapping({k: int(row[k]) for k in H.SEARCH_KEYS} | {"frequency_mhz": mhz}, base=H.HardwareConfig())
            ops = H.evaluate_cost(wl, hw, profile=profile).op_table(0)
            att = sum(o["latency_s"] for o in ops if o["kind"] == "gemm" and o["name"].split(".")[-1].startswith("attn")) * 1e3
            gemm = sum(o["latency_s"] for o in ops if o["kind"] == "gemm") * 1e3 - att
            l2_bound = sum(o["latency_s"] for o in ops if o["kind"] == "gemm" and o["bound"] == "l2"
                           and not o["name"].split(".")[-1].startswith("attn")) * 1e3
            vec = float(row["latency_s"]) * 1e3 - att - gemm
            att_share.append(att / (float(row["latency_s"]) * 1e3))
            rows.append([model, which, f"{p[2]} x {p[3]}x{p[4]}, {p[5]} KB, {p[6]} MB, bw {int(row['l2_bw'])}", f"{p[0]:.2f}",
                         f"{c_ratio:.2f}", f"{p[1]:.1f}", f"{row['latency_s'] * 1e3:.1f}", f"{l_ratio:.2f}", f"{att:.2f}",
                         f"{gemm:.2f}", f"{l2_bound:.2f}", f"{vec:.2f}", f"{(float(row['latency_s']) * 1e3 - att) / p[1]:.2f}"])
    if not rows:
        return ""
    # The table omits l2_bw: which rows some l2_bw of the grid brings within the tolerance in both.
    free = []
    for model, paper in PAPER_TABLE2.items():
        for which, p in (("min-carbon", paper[0]), ("min-latency", paper[1])):
            every = results[(label, profile, model, which, "every_bw")]
            ok = every[((every["total_kg"] / p[0] - 1).abs() <= TABLE2_TOL) & ((every["latency_s"] * 1e3 / p[1] - 1).abs() <= TABLE2_TOL)]
            if len(ok):
                free.append(f"{model} {which} (l2_bw {', '.join(str(int(b)) for b in sorted(ok['l2_bw']))})")
    slow = [r for r in rows if float(r[7]) > 1 + TABLE2_TOL]
    fast = [r for r in rows if float(r[7]) < 1 - TABLE2_TOL]
    note = ""
    if slow:
        shares = [float(r[8]) / float(r[6]) for r in slow]
        fixed = sum(abs(float(r[12]) - 1) <= TABLE2_TOL for r in slow)
        still = [r for r in slow if float(r[12]) > 1 + TABLE2_TOL]
        note += (f"\n\nOf the {len(slow)} rows slower than the paper, attention takes {min(shares):.0%}-{max(shares):.0%} of our "
                 f"latency, and without it {fixed} of them would be within {TABLE2_TOL:.0%}. Under the reference's exact-divisor "
                 "unroll a 197-token attention GEMM keeps only the heads x 64 part of a large array busy (the TinyCLIP-8M "
                 "example above), so its cycles do not fall as the array grows, which is why the minimum-latency designs miss "
                 "most; the reference's Sunstone gives the same cycles (the Sunstone table above), so this is what the public "
                 "code computes, not a difference of ours.")
        if still:
            note += (" Without attention still over: " + ", ".join(f"{r[0]} {r[1]} ({r[12]}; {r[10]} of its {r[9]} ms of other "
                                                                  "GEMMs L2-bound)" for r in still)
                     + ": the whole array's register-level traffic over the one shared `l2_bw` (`tc_l2_bw_shared`, "
                     "with the reference's Sunstone's own cycles as slow or slower: the Sunstone table above).")
    if fast:
        note += (f" The {len(fast)} rows faster than the paper are " + ", ".join(f"{r[0]} {r[1]} ({r[7]})" for r in fast)
                 + (": the paper's large-model latencies run far below peak compute (see above), and the reference's "
                    "Sunstone cycles agree with ours there too (the Sunstone table above)."
                    if all(r[0] in ("vit-l-14", "vit-h-14") for r in fast) else "."))
    note += (f"\n\nThe table omits `l2_bw`; the rows above take the one of 32/64/128 best for the row's objective. Read "
             f"instead as any `l2_bw` of the grid (the paper's 100-trial search need not have sampled the best one), "
             f"{len(free)} of {2 * len(PAPER_TABLE2)} rows are within {TABLE2_TOL:.0%} in both: " + "; ".join(free) + ".")
    return (f"Where our latency goes on the paper's designs that miss (profile `{profile}`, scenario `{scen_name}` at "
            f"{mhz:g} MHz; attention = the batched Q.K^T and A.V GEMMs; the last column leaves them out):\n\n"
            + _fmt_table(["model", "design", "paper hardware (our l2_bw)", "paper kg", "kg ratio", "paper ms", "ours ms",
                          "ms ratio", "attention ms", "other GEMMs ms", "of them L2-bound ms", "vector ms",
                          "ms ratio without attention"], rows) + note)


PEAK_MACS = 16_384  # the TOPS cap: 20.48 TOPS / (2 x 625 MHz)
PEAK_MHZ = 625.0


SUNSTONE_CSV = ROOT / "benchmarks" / "validation" / "sunstone_results.csv"
_SUNSTONE_INT = ("m", "k", "n", "batch", "clusters", "pe_width", "pe_depth", "l2_sram_kb", "glb_mb", "l2_bw")


def _sunstone_rows(path: Path = SUNSTONE_CSV) -> list[dict]:
    """A CSV of run_sunstone.py (sunstone_results.csv by default), validated: whole-number shapes, positive cycles."""
    if not path.exists():
        return []
    rows = []
    with path.open() as f:
        for i, r in enumerate(csv.DictReader(f), start=2):
            try:
                row = {k: int(r[k]) for k in _SUNSTONE_INT} | {"model": r["model"], "gemm": r["gemm"], "cycles": float(r["sunstone_cycles"])}
            except (KeyError, ValueError) as e:
                raise SystemExit(f"{path}:{i}: bad row ({e})")
            if row["model"] not in PAPER_TABLE2 or not row["cycles"] > 0 or min(row[k] for k in _SUNSTONE_INT) < 1:
                raise SystemExit(f"{path}:{i}: model {row['model']!r} or a value is not allowed")
            rows.append(row)
    return rows


def sunstone_check() -> tuple[str, dict[str, str]]:
    """The reference's own tensor-core mapper against ours (catransformers-code) on the Table 2 GEMMs and designs."""
    rows = _sunstone_rows()
    if not rows:
        return "(no benchmarks/validation/sunstone_results.csv: run benchmarks/validation/run_sunstone.py)", {"sun_cases": "0"}
    prof = H.load_profile("catransformers-code")
    design_keys = ("clusters", "pe_width", "pe_depth", "l2_sram_kb", "glb_mb", "l2_bw")
    by_shape: dict[tuple, list[dict]] = {}
    for r in rows:
        by_shape.setdefault((r["m"], r["k"], r["n"], r["batch"]), []).append(r)
    for (m, k, n, b), group in by_shape.items():
        hw = H.HardwareBatch.from_configs([H.HardwareConfig(**{key: r[key] for key in design_keys}) for r in group])
        ours = H.map_gemm(H.Gemm("g", m=m, k=k, n=n, batch=b), hw, profile=prof, detail=False).cycles
        for r, c in zip(group, ours):
            r["ours"] = float(c)
    ratios = np.array([r["ours"] / r["cycles"] for r in rows])
    dev = np.abs(ratios - 1.0)
    lines = [f"{len(rows)} cases ({len(by_shape)} GEMM shapes of the 7 models, each on its model's two Table 2 designs at "
             f"`l2_bw` 32, 64 and 128): our cycles / Sunstone's median {np.median(ratios):.4f}, "
             f"{int(np.sum(dev <= 0.005))} within 0.5 %, {int(np.sum(dev <= 0.05))} within 5 %, worst {ratios[np.argmax(dev)]:.3f}.", ""]
    # Whole models: our latency with each GEMM's cycles replaced by Sunstone's (the vector core and the
    # fused-op cycles are ours in both), on the paper's designs.
    table = []
    close = {"ours": 0, "sun": 0}
    for model, designs in PAPER_TABLE2.items():
        wl = lower(table2_model(model))
        counted = {op.name: op for op in H.count_layers(wl, prof.layer_count).ops if isinstance(op, H.Gemm)}
        for which, paper in zip(("min-carbon", "min-latency"), designs):
            cells = [model, which, f"{paper[2]} x {paper[3]}x{paper[4]}, {paper[5]} KB, {paper[6]} MB", f"{paper[1]:.1f}"]
            for bw in (32, 64, 128):
                design = dict(zip(design_keys, (*paper[2:7], bw)))
                mine = [r for r in rows if r["model"] == model and all(r[key] == design[key] for key in design_keys)]
                hw = H.HardwareConfig(**design)
                rep = H.evaluate_cost(wl, hw, profile=prof)
                delta = 0.0
                for r in mine:
                    op = counted.get(r["gemm"])
                    if op is not None:
                        delta += (r["cycles"] - r["ours"]) * float(op.repeat[0])
                sun_ms = (float(rep.latency_s[0]) + delta / (hw.frequency_mhz * 1e6)) * 1e3
                our_ms = float(rep.latency_s[0]) * 1e3
                cells.append(f"{sun_ms:.1f} / {our_ms:.1f}")
                if bw == 128:
                    close["sun"] += abs(sun_ms / paper[1] - 1) <= 0.15
                    close["ours"] += abs(our_ms / paper[1] - 1) <= 0.15
            table.append(cells)
    lines.append(_fmt_table(["model", "design", "paper hardware", "paper ms", "l2_bw 32: Sunstone / ours ms", "64", "128"], table))
    facts = {"sun_cases": str(len(rows)), "sun_median": f"{np.median(ratios):.4f}", "sun_within": str(int(np.sum(dev <= 0.005))),
             "sun_close128": str(close["sun"]), "ours_close128": str(close["ours"])}
    return "\n".join(lines), facts


SUNSTONE_BMM_CSV = ROOT / "benchmarks" / "validation" / "sunstone_bmm_results.csv"


def reference_bmm_workload(wl):
    """The workload with each batched GEMM's reduction set to its n, as the reference's tracer passes a Bmm
    (tensor_core_wrapper.py get_problem_dim: C = weight[1]; run_sunstone.reference_bmm_dims)."""
    import dataclasses

    from run_sunstone import reference_bmm_dims

    ops = []
    for op in wl.ops:
        if isinstance(op, H.Gemm):
            m, k, n, b = reference_bmm_dims(*(int(a[0]) for a in (op.m, op.k, op.n, op.batch)))
            op = dataclasses.replace(op, m=np.array([m]), k=np.array([k]), n=np.array([n]), batch=np.array([b]))
        ops.append(op)
    return H.Workload(tuple(ops), wl.name, wl.edges)


def bmm_check() -> str:
    """Table 2's designs with the attention GEMMs as the reference's tracer passes them: ours and Sunstone's."""
    rows = _sunstone_rows(SUNSTONE_BMM_CSV)
    if not rows:
        return "(no benchmarks/validation/sunstone_bmm_results.csv: run run_sunstone.py --bmm-dims reference)"
    prof = H.load_profile("catransformers-code")
    keys = ("clusters", "pe_width", "pe_depth", "l2_sram_kb", "glb_mb", "l2_bw")
    for r in rows:
        hw = H.HardwareBatch.from_configs([H.HardwareConfig(**{k: r[k] for k in keys})])
        r["ours"] = float(H.map_gemm(H.Gemm("g", m=r["m"], k=r["k"], n=r["n"], batch=r["batch"]), hw, profile=prof, detail=False).cycles[0])
    ratios = np.array([r["ours"] / r["cycles"] for r in rows])
    dev = np.abs(ratios - 1)
    table, change = [], []
    within = {"lowered": 0, "bmm": 0, "sun": 0}
    for model, designs in PAPER_TABLE2.items():
        wl = lower(table2_model(model))
        wb = reference_bmm_workload(wl)
        counted = {op.name: op for op in H.count_layers(wb, prof.layer_count).ops if isinstance(op, H.Gemm)}
        for which, paper in zip(("min-carbon", "min-latency"), designs):
            design = dict(zip(keys, (*paper[2:7], 128)))
            hw = H.HardwareConfig(**design)
            as_lowered = float(H.evaluate_cost(wl, hw, profile=prof).latency_s[0]) * 1e3
            ours = float(H.evaluate_cost(wb, hw, profile=prof).latency_s[0]) * 1e3
            delta = sum((r["cycles"] - r["ours"]) * float(counted[r["gemm"]].repeat[0]) for r in rows
                        if r["model"] == model and all(r[k] == design[k] for k in keys) and r["gemm"] in counted)
            sun = ours + delta / (hw.frequency_mhz * 1e6) * 1e3
            within["lowered"] += abs(as_lowered / paper[1] - 1) <= TABLE2_TOL
            within["bmm"] += abs(ours / paper[1] - 1) <= TABLE2_TOL
            within["sun"] += abs(sun / paper[1] - 1) <= TABLE2_TOL
            if model not in ("vit-l-14", "vit-h-14"):
                change.append(abs(ours / as_lowered - 1))
            table.append([model, which, f"{paper[2]} x {paper[3]}x{paper[4]}, {paper[5]} KB, {paper[6]} MB", f"{paper[1]:.1f}",
                          f"{as_lowered:.1f} ({as_lowered / paper[1]:.2f})", f"{ours:.1f} ({ours / paper[1]:.2f})",
                          f"{sun:.1f} ({sun / paper[1]:.2f})"])
    head = (f"{len(rows)} cases (the batched GEMMs with the reference's dimensions on the Table 2 designs at `l2_bw` 32, 64 "
            f"and 128): our cycles / Sunstone's median {np.median(ratios):.4f}, {int(np.sum(dev <= 0.005))} within 0.5 %, "
            f"worst {ratios[np.argmax(dev)]:.3f} (our spatial model is least exact on the small M x 64 x 64 GEMMs these "
            "dimensions make of A.V; on whole models the two columns below agree within a few per cent).\n\n")
    tail = (f"\n\nLatency within {TABLE2_TOL:.0%} of the paper at `l2_bw` 128: {within['lowered']} of {len(table)} rows as "
            f"lowered, {within['bmm']} with the reference's Bmm dimensions ({within['sun']} with Sunstone's cycles for them); "
            f"on the ViT-B/16 and TinyCLIP rows those dimensions change our latency by {min(change):.0%}-{max(change):.0%}.")
    return head + _fmt_table(["model", "design", "paper hardware (l2_bw 128)", "paper ms", "ours, as lowered: ms (/ paper)",
                              "ours, reference Bmm dims", "Sunstone, reference Bmm dims"], table) + tail


def below_peak() -> str:
    """How far below peak compute the paper's ViT-L/14 and ViT-H/14 minimum-latency rows run."""
    parts = []
    for model in ("vit-l-14", "vit-h-14"):
        gmac = float(count_macs(get_model(model))["total"][0]) / 1e9
        peak_ms = gmac * 1e9 / PEAK_MACS / (PEAK_MHZ * 1e6) * 1e3
        paper_ms = PAPER_TABLE2[model][1][1]
        parts.append(f"{model}: {gmac:.1f} GMAC take {peak_ms:.1f} ms at peak, the table gives {paper_ms:.1f} ms ({peak_ms / paper_ms:.0%} of peak)")
    return "; ".join(parts)


def layer_count_effect(results: dict, profile: str = "catransformers-code", label: str = "code's carbon path") -> dict[str, str]:
    """On the paper's own designs: our energy over what the paper's carbon implies, with the profile's
    layer count and with the layers as lowered."""
    import dataclasses

    from catransformers.evaluate import evaluate

    scen_name, mhz = next((s[1], s[2]) for s in SCENARIOS if s[0] == label)
    scen = load_scenario(SCENARIO_FILES.get(scen_name, scen_name))
    prof = H.load_profile(profile)
    plain = dataclasses.replace(prof, layer_count=H.AS_LOWERED)
    ratio = {"charged": [], "lowered": []}
    for model, paper in PAPER_TABLE2.items():
        for which, p in (("min-carbon", paper[0]), ("min-latency", paper[1])):
            row = results[(label, profile, model, which, "at_paper")]
            hw = H.HardwareConfig.from_mapping({k: int(row[k]) for k in H.SEARCH_KEYS} | {"frequency_mhz": mhz},
                                               base=H.HardwareConfig())
            for key, pr in (("charged", prof), ("lowered", plain)):
                ev = evaluate(table2_model(model), hw, scenario=scen, accuracy=None, profile=pr)
                m = ev.metrics()
                implied_j = (p[0] - float(m["embodied_kg"][0])) / (float(m["operational_kg"][0]) / float(m["energy_j"][0]))
                ratio[key].append(float(m["energy_j"][0]) / implied_j)
    return {"mj_charged": f"{statistics.median(ratio['charged']):.2f}", "mj_lowered": f"{statistics.median(ratio['lowered']):.2f}",
            "mj_charged_range": f"{min(ratio['charged']):.2f}-{max(ratio['charged']):.2f}",
            "mj_lowered_range": f"{min(ratio['lowered']):.2f}-{max(ratio['lowered']):.2f}"}


def layer_table(profile: str) -> str:
    """Layers per tower as lowered and as the profile's [layer_count] charges them, and the MACs of both."""
    rule = H.load_profile(profile).layer_count
    rows = []
    for model in PAPER_TABLE2:
        wl = lower(table2_model(model))
        own = dict((g, int(r[0])) for g, r in H.layers.repeated_blocks(wl))
        charged = dict((g, int(r[0])) for g, r in H.layers.repeated_blocks(H.count_layers(wl, rule)))
        gmac_own = float(wl.macs()[0]) / 1e9
        gmac_charged = float(H.count_layers(wl, rule).macs()[0]) / 1e9
        rows.append([model, " / ".join(str(v) for v in own.values()), " / ".join(str(v) for v in charged.values()),
                     f"{gmac_own:.1f}", f"{gmac_charged:.1f}", f"{gmac_charged / gmac_own:.2f}"])
    return _fmt_table(["model", "layers vision / text", f"charged by `{profile}`", "GMAC", "GMAC charged", "ratio"], rows)


# ----------------------------------------------------------------------------- oracles
def _oracle_rows() -> dict[str, dict[tuple[str, str], dict]]:
    """Best orientation per (GEMM, design) for each oracle (the oracle's own choice: fewest cycles)."""
    best: dict[str, dict[tuple[str, str], dict]] = {}
    if not ORACLE_CSV.exists():
        return best
    with ORACLE_CSV.open() as f:
        for r in csv.DictReader(f):
            for k in ("latency_cycles", "energy_pj", "mac_energy_pj", "utilisation"):
                r[k] = float(r[k])
            key = (r["gemm"], r["design"])
            cur = best.setdefault(r["oracle"], {}).get(key)
            if cur is None or r["latency_cycles"] < cur["latency_cycles"]:
                best[r["oracle"]][key] = r
    return best


# Our setting that each oracle is configured like (HardwareConfig fields).
OUR_SETTINGS = {
    "zigzag": dict(pe_register_bytes=REGISTER_BYTES, pe_register_operands="weights", edge_latch=True, l2_link="per_operand"),
    "accelforge": dict(pe_register_bytes=REGISTER_BYTES, pe_register_operands="weights", edge_latch=False, l2_link="shared"),
}
ORACLE_LABEL = {"zigzag": "ZigZag 3.9.1 vs our edge-latched setting", "accelforge": "AccelForge 1.0.467 vs our strict setting"}


def _ours(oracle: str) -> tuple[dict[tuple[str, str], dict], str]:
    settings = OUR_SETTINGS[oracle]
    if not _has_fields(*settings):
        settings, note = {}, "this build of hw_models has no register/port settings; ours is its only model"
    else:
        note = ", ".join(f"{k}={v}" for k, v in settings.items())
    base = H.HardwareConfig(clusters=1)
    cfgs = [H.HardwareConfig.from_mapping(dict(p, clusters=1, **settings), base=base) for _, p in DESIGNS]
    batch = H.HardwareBatch.from_configs(cfgs)
    out = {}
    for gname, m, k, n in GEMMS:
        rep = H.evaluate_cost(H.Workload((H.Gemm(gname, m=m, k=k, n=n),), gname), batch, profile="reference")
        for i, (dname, _) in enumerate(DESIGNS):
            row = rep.op_table(i)[0]
            out[(gname, dname)] = {"cycles": float(rep.op_cycles[0, i]), "energy_pj": float(rep.energy_j[i]) * 1e12,
                                   "mac_pj": float(rep.energy_by_component["mac"][i]) * 1e12,
                                   "utilisation": row["utilisation"], "bound": row["bound"]}
    return out, note


def oracles() -> str:
    best = _oracle_rows()
    lines = []
    if not best:
        return "No cached oracle results (benchmarks/validation/oracle_results.csv); run with --run-oracles."
    summary_rows = []
    for oracle in ("zigzag", "accelforge"):
        got = best.get(oracle, {})
        if not got:
            lines.append(f"\n### {ORACLE_LABEL[oracle]}\n\nNo cached results yet.")
            continue
        ours, note = _ours(oracle)
        rows, lat_err, en_err = [], [], []
        for gname, m, k, n in GEMMS:
            for dname, p in DESIGNS:
                z = got.get((gname, dname))
                if z is None:
                    continue
                o = ours[(gname, dname)]
                lr = o["cycles"] / z["latency_cycles"]
                # MAC energies are the same constant on both sides (our profile's), so the energy
                # ratio compares memory traffic; shown with and without the MAC term.
                er = o["energy_pj"] / z["energy_pj"]
                lat_err.append(abs(lr - 1))
                en_err.append(abs(er - 1))
                rows.append([f"{gname} {m}x{k}x{n}", f"{dname} (bw {p['l2_bw']})", f"{z['latency_cycles']:,.0f}",
                             f"{o['cycles']:,.0f}", f"{lr:.2f}", f"{z['utilisation']:.2f}", f"{o['utilisation']:.2f} {o['bound']}",
                             f"{z['energy_pj'] / 1e6:.2f}", f"{o['energy_pj'] / 1e6:.2f}", f"{er:.2f}",
                             f"{z['mac_energy_pj'] / o['mac_pj']:.2f}"])
        le, ee = np.asarray(lat_err), np.asarray(en_err)
        ratios = [float(r[4]) for r in rows]
        worst = max(max(ratios), 1 / min(ratios))
        med, p90 = float(np.median(le)), float(np.percentile(le, 90))
        ok = (med <= ORACLE_GOALS["median"], p90 <= ORACLE_GOALS["p90"], worst <= ORACLE_GOALS["max_ratio"],
              float(np.median(ee)) <= ORACLE_GOALS["energy_median"])
        summary_rows.append([ORACLE_LABEL[oracle], str(len(le)), f"{med:.1%}", f"{p90:.1%}", f"{worst:.2f}x",
                             f"{float(np.median(ee)):.1%}", " ".join("yes" if x else "NO" for x in ok)])
        lines.append(f"\n### {ORACLE_LABEL[oracle]}\n\nOurs: `{note}`. Ratios are ours / oracle; the oracle's row is its "
                     "best orientation (fewest cycles).\n")
        lines.append(_fmt_table(["GEMM", "design", "oracle cycles", "our cycles", "latency ratio", "oracle util",
                                 "our util, bound", "oracle uJ", "our uJ", "energy ratio", "MAC energy oracle/ours"], rows))
        exact = sum(abs(float(r[4]) - 1) <= 0.005 for r in rows)
        off = [f"{r[0].split()[0]} on {r[1].split()[0]} ({r[4]})" for r in rows if abs(float(r[4]) - 1) > ORACLE_GOALS["median"]]
        lines.append(f"\n{exact} of {len(rows)} pairs within 0.5 %; outside 10 %: " + ("; ".join(off) if off else "none") + ".")
    head = _fmt_table(["pair", "pairs", "median abs latency error", "90th pct", "worst ratio", "median abs energy error",
                       "goals met (10 %, 25 %, 2x, 15 %)"], summary_rows)
    cover = []
    for oracle in ("zigzag", "accelforge"):
        got = best.get(oracle, {})
        gemms = [g for g, *_ in GEMMS if any((g, d) in got for d, _ in DESIGNS)]
        if len(got) < len(GEMMS) * len(DESIGNS):
            cover.append(f"{ORACLE_LABEL[oracle].split(' vs ')[0]}: {len(got)} of the {len(GEMMS) * len(DESIGNS)} (GEMM, design) "
                         f"pairs are in the cache ({', '.join(gemms) or 'none'}); the rest were not run with its final "
                         "configuration, so its row is not yet the full check")
    if cover:
        head += "\n\nCoverage: " + "; ".join(cover) + "."
    return head + "\n" + "\n".join(lines)


def accelforge_actions() -> str:
    """AccelForge's L2 <-> array words per tensor for one case, beside ours (run_oracles.py accelforge-actions)."""
    if not ACTIONS_JSON.exists():
        return "No cached action counts (run `benchmarks/validation/run_oracles.py accelforge-actions`)."
    data = json.loads(ACTIONS_JSON.read_text())
    gname, dname, orient = data["case"]
    acts = data["actions_bits"]
    bits = H.HardwareConfig().precision_bits
    names = {"A": "input", "B": "weight", "C": "partial sum / output"}
    # The L2Link Toll counts every word crossing it, either way, as a read.
    link = {t: acts.get(f"L2Link<SEP>{t}<SEP>read", 0.0) / bits for t in names}
    rows = [[label, f"{link[t] / 1e6:.2f}"] for t, label in names.items()]
    _, m, k, n = next(g for g in GEMMS if g[0] == gname)
    cfg = dict(DESIGNS)[dname]
    hw = H.HardwareConfig.from_mapping(dict(cfg, clusters=1, **OUR_SETTINGS["accelforge"]), base=H.HardwareConfig(clusters=1))
    mp = H.map_gemm(H.Gemm(gname, m=m, k=k, n=n), H.HardwareBatch.from_configs([hw]), profile=H.load_profile("reference"),
                    detail=True, dataflows=("ws",), orientations=(orient,))
    d = mp.detail
    ours_words = float(d["l2_pe_reads"][0] + d["l2_pe_writes"][0])
    table = _fmt_table(["tensor (AccelForge)", "M words over the L2 <-> array link"], rows)
    return (f"AccelForge {data['version']} on {gname} ({m}x{k}x{n}), {dname}, orientation {orient} (rows = pe_depth; the "
            f"other orientation is faster on both sides, see the table above): {data['latency_cycles']:,.0f} cycles, the "
            f"link's {sum(link.values()) / 1e6:.1f} M words over l2_bw = {cfg['l2_bw']} words/cycle (MACs alone: "
            f"{data['latency_by_level']['MAC']:,.0f} cycles).\n\n{table}\n\n"
            f"Ours (strict setting) in the same orientation: {float(mp.cycles[0]):,.0f} cycles, {ours_words / 1e6:.1f} M words "
            f"over the link ({float(d['l2_pe_reads'][0]) / 1e6:.1f} M read, {float(d['l2_pe_writes'][0]) / 1e6:.1f} M "
            f"written). With a weights-only register no partial sum can stay in a PE: with K = {k} reduced over "
            f"{cfg['pe_depth']} rows, each of the M x N outputs goes to the L2 and back after every {cfg['pe_depth']}-row fold, "
            f"M x N x K / pe_depth = {m * n * k / cfg['pe_depth'] / 1e6:.1f} M words each way, on both sides.")


# ----------------------------------------------------------------------------- SCALE-Sim, pJ/MAC
def scalesim_check() -> str:
    rows, exact = [], 0
    cases = [(R, C, M, K, N) for R, C in ((8, 256), (16, 128), (32, 32), (64, 64)) for M, K, N in
             ((197, 768, 2304), (77, 512, 2048), (197, 64, 197), (1, 1024, 1024))]
    for R, C, M, K, N in cases:
        Kp, Np = -(-K // R) * R, -(-N // C) * C  # padded to whole folds, where the balanced-fold form equals SCALE-Sim
        formula = -(-Kp // R) * -(-Np // C) * (2 * R + C + M - 2)
        ours = float(np.asarray(H.scalesim_ws_cycles(M, Kp, Np, R, C)).ravel()[0])
        ours_bal = float(np.asarray(H.gemm_cycles(M, Kp, Np, R, C, dataflow="ws", balanced=True)).ravel()[0])
        exact += ours == formula == ours_bal
        rows.append([f"{R}x{C}", f"{M}x{Kp}x{Np}", f"{formula:,}", f"{ours:,.0f}", f"{ours_bal:,.0f}", "yes" if ours == formula == ours_bal else "NO"])
    head = (f"{exact} of {len(cases)} cases exact. SCALE-Sim's weight-stationary compute cycles for an R x C array and "
            "(M x K).(K x N): ceil(K/R) * ceil(N/C) * (2R + C + M - 2) (fill, stream and drain per fold).\n\n")
    return head + _fmt_table(["array R x C", "GEMM M x K x N", "SCALE-Sim formula", "hw_models.scalesim_ws_cycles",
                              "hw_models.gemm_cycles (ws)", "equal"], rows)


# Published INT8 accelerators at or near 22 nm: (chip, node, pJ per MAC = 2 / (TOPS/W) with 2 ops per
# MAC, what the figure covers, source).
PUBLISHED_PJ_PER_MAC = (
    ("DIANA digital core", "22 nm", 2 / 14, "peak, 16x16 INT8 (8/8/8 bit) core with its memories, no DRAM",
     "Houshmand et al., 'DIANA: An End-to-End Hybrid DIgital and ANAlog Neural Network SoC for the Edge', IEEE JSSC 58(1), 2023: 14 TOP/s/W"),
    ("BrainTTA", "22 nm FDX", 2 / 2.47, "peak, 8-bit, programmable SoC, no DRAM",
     "Molendijk et al., 'BrainTTA: A 28.6 TOPS/W Compiler Programmable Transport-Triggered NN SoC', ICCD 2023: 2.47 TOPS/W at 8 bit"),
    ("Google TPU v1", "28 nm", 40 / 46e12 * 1e12, "chip busy power 40 W at 92 TOPS peak (46 T MAC/s), no DRAM",
     "Jouppi et al., 'In-Datacenter Performance Analysis of a Tensor Processing Unit', ISCA 2017"),
    ("Simba chiplet", "16 nm", 2 * 0.11, "0.11 pJ/op at 0.42 V, PE array and on-chip SRAM, no DRAM",
     "Zimmer et al., 'A 0.11 pJ/Op, 0.32-128 TOPS, Scalable Multi-Chip-Module-based Deep Neural Network Accelerator ... in 16nm', VLSI 2019 / JSSC 2020"),
)


def pj_per_mac(profiles: list[str]) -> str:
    axes = H.load_grid_axes("reference")
    hw = H.grid(axes)
    rows = []
    for model in ("vit-b-16", "vit-l-14", "tinyclip-8m-16"):
        wl = lower(get_model(model))
        macs = float(count_macs(get_model(model))["total"][0])
        for prof in profiles:
            rep = H.evaluate_cost(wl, hw, profile=prof)
            comp = rep.energy_by_component
            total = rep.energy_j * 1e12 / macs
            on_chip = (rep.energy_j - comp["dram"]) * 1e12 / macs
            mac = comp["mac"] * 1e12 / macs
            rows.append([model, prof, f"{macs / 1e9:.2f}", f"{np.median(mac):.3f}",
                         f"{np.median(on_chip):.3f} ({np.min(on_chip):.3f}-{np.max(on_chip):.3f})",
                         f"{np.median(total):.3f} ({np.min(total):.3f}-{np.max(total):.3f})",
                         f"{np.median(rep.energy_j) * 1e3:.1f}"])
    ours = _fmt_table(["model", "profile", "GMAC", "MAC pJ/MAC", "on-chip pJ/MAC, median (grid range)",
                       "with DRAM pJ/MAC, median (grid range)", "median mJ per inference"], rows)
    pub = _fmt_table(["published chip", "node", "pJ/MAC", "covers", "source"],
                     [[a, b, f"{c:.2f}", d, e] for a, b, c, d, e in PUBLISHED_PJ_PER_MAC])
    return ours + "\n\nPublished INT8 accelerators (peak or busy-power figures, whole MAC arrays with on-chip memory):\n\n" + pub


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "validation.md")
    ap.add_argument("--run-oracles", action="store_true", help="re-run ZigZag and AccelForge (slow) before reporting")
    args = ap.parse_args(argv)
    if args.run_oracles:
        for oracle in ("zigzag", "accelforge"):
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "validation" / "run_oracles.py"), oracle], check=True)
    profiles = [p for p in ("catransformers-code", "reference") if p in H.PROFILE_FILES]
    profiles = [p for p in profiles if _loads(p)]
    t2, results, facts = table2(profiles)
    facts |= layer_count_effect(results)
    sun, sun_facts = sunstone_check()
    facts |= sun_facts
    facts["bmm"] = bmm_check()
    parts = {"table2": t2, "sunstone": sun, "oracles": oracles(), "actions": accelforge_actions(), "scalesim": scalesim_check(), "pj": pj_per_mac(profiles),
             "below_peak": below_peak(), "layers": layer_table("catransformers-code"), **facts}
    text = TEMPLATE.format(**parts, profiles=", ".join(f"`{p}`" for p in profiles))
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(args.out)
    print(text)
    return 0


def _loads(profile: str) -> bool:
    try:
        H.load_profile(profile)
        return True
    except (H.HardwareError, FileNotFoundError) as e:
        print(f"[skip] profile {profile!r}: {e}", file=sys.stderr)
        return False


TEMPLATE = """# Validation of the accelerator model

Generated by `benchmarks/bench_validation.py` (do not edit by hand; rerun it). Profiles: {profiles}.
The facts these checks rest on, with their primary sources, are in [reference-facts.md](reference-facts.md).

## 1. The paper's Table 2: hardware-only search on fixed CLIP models

CATransformers (arXiv 2505.01386v4) Table 2 fixes each model and searches the hardware alone
(the code's `all-hw` mode): we evaluate every point of the 3,240-point grid in one vectorised
call and take the minimum-carbon and the minimum-latency design under the TOPS cap of 20.48 and
latency <= 100 ms. The all-hw mode has no latency constraint (two of the paper's minimum-latency
rows exceed 50 ms), but its Ax objective threshold for latency is 0.1 s, so its Pareto front ends
there. Without that bound the minimum-carbon designs (every scenario and model) lie: {unbounded}.
The paper's table does not
give `l2_bw`, so "grid steps" counts the distance over clusters, PE width, PE depth, L2 and GLB
(0: the same design; 1: a neighbour on one axis). Goal: with `catransformers-code`, every carbon
and latency within 15 % and the hardware the same or a neighbour.

Two facts of the paper's table frame the comparison. Its carbon is consistent with ACT's
embodied carbon of the designs it names (e.g. TinyCLIP-8M's 1 x 256x64, 256 KB, 8 MB: about
0.52 kg embodied of its 0.56 kg), so the differences below are latency and energy per inference.
And its ViT-L/14 and ViT-H/14 minimum-latency rows run far below peak on 16,384 MACs at 625 MHz
({below_peak}), which a compute-bound model does not reproduce; the ViT-B/16 and TinyCLIP
rows are the informative ones for latency.

How `catransformers-code` computes the tensor core's latency: as the reference's Sunstone fork
does (`phaze/third_party_for_phaze/sunstone`, called by `phaze/Estimator/utils/tc_estimator.py`
`tensor_core_estimate` with uneven mapping off; `hw_models/spatial.py`). Three things of it that a
padded, per-cluster systolic model does not have, each read from its code and confirmed by
running it:

- Exact-divisor unrolling (`accounting.tc_spatial_divisors`; `optimization_utils.py`
  `enumerate_spatial`). A loop bound is split over a PE axis only by a divisor of it, several
  bounds may share an axis, X = `pe_width` is filled first, then Y = `pe_depth`, and the clusters
  unroll only what the array left. Attention over 197 or 257 tokens (prime) thus keeps most of a
  large array idle: Q.K^T of TinyCLIP-8M (4 heads x 197 rows, 64, 197) on 1 x 256x64 keeps 256
  of its 16,384 PEs busy (4 x 64 fill X, nothing of 197 divides Y), and 16 heads of ViT-L/14 on
  4 x 64x64 leave 257 x 257 for the 2 x 2 clusters, so one cluster works.
- The register tile holds all three operands. The register keeps weights only in the energy
  (`tc_estimator.py` `mem_bypass`), but the tiling sizes its 32-word tile with the inputs and
  partial sums too, and the latency bound counts the L2 accesses of that tiling (level 0 of
  `get_cost_edp_bypass`: reads over the read bandwidth, writes over the write bandwidth), not the
  per-MAC charge of the bypassed operands its energy uses: 197x256x768 on 1 x 256x64 at `l2_bw`
  32 takes 7,720 cycles = (197 x 256 inputs + 256 x 768 weights, each read once) / 32.
- One L2 bandwidth for all clusters (`accounting.tc_l2_bw_shared`): the level-0 traffic of the
  whole array is bounded by `l2_bw`, so 257x1024x3072 takes 271,008 cycles on 1 x 64x64 and on
  4 x 64x64 alike at `l2_bw` 32 (8,672,256 reads / 32).

Checked against the reference's Sunstone itself, run from a checkout of CATransformers on the
GEMMs of the seven models as the reference traces them (`benchmarks/validation/run_sunstone.py`;
its outputs in `benchmarks/validation/sunstone_results.csv`; Sunstone is not shipped here).
{sunstone}

So the latency of `catransformers-code` is the reference code's on these workloads: with
Sunstone's own cycles in place of ours, {sun_close128} of the 14 rows are within 15 % of the
paper at `l2_bw` 128 (ours: {ours_close128}). The rows that miss miss for the reference's own
estimator as well: the paper's Table 2 latencies are not what the public code computes for these
models. Which rows miss, and where our latency goes on them, is in the breakdown after the summary
table below.

How the reference passes attention to Sunstone, and why `catransformers-code` does not follow
it. The reference traces CLIP with transformers 4.45.2 (`setup.sh`), whose attention is
`torch.bmm`; its tracer (`tensor_core_wrapper.py` `get_problem_dim`) sets the reduction of a Bmm
to `weight[1]`, the second operand's last dimension, i.e. the output's N (its Mm branch takes
`weight[0]`, the K). So Q.K^T (M x 64 x M) is costed as M x M x M and A.V (M x M x 64) as
M x 64 x 64. With those dimensions (`run_sunstone.py --bmm-dims reference`, cached in
`benchmarks/validation/sunstone_bmm_results.csv`):

{bmm}

The reference's own estimator with its Bmm dimensions puts ViT-L/14 and ViT-H/14 an order of
magnitude above the paper (257 tokens: prime and above every array side, so the 257 x 257 x 257
Q.K^T unrolls only over the heads). The paper's Table 2 therefore did not come from this code
path as released (a transformers release whose CLIP attention calls `torch.matmul`, as later
ones do, would be traced as Mm, whose reduction is right); `catransformers-code` keeps the
attention's true dimensions.

How many layers the reference charges. Its CLIP path costs one layer per tower and multiplies
it (`phaze/Estimator/carbon_estimator.py`, `estimate_operational_carbon`: carbon, energy and
latency of the layer x `len(repeat_layer_dict[layer_id]) + 1`). The groups come from
`phaze/GraphExtractor/models/clip.py` (`ClipIR.generate_layer_info`): `{{0:
range(num_vision_layers), num_vision_layers: range(num_vision_layers, num_vision_layers +
num_text_layers)}}` over global layer ids (vision 0..V-1, text from V on, `ClipIR.get_layer_id`),
so a tower's first layer is charged `layers + 1` times. And `num_vision_layers` and
`num_text_layers` are the real counts only in the run that traces the model:
`ClipIR.__init__` sets 12 and 12, and `set_model`, which reads the loaded model's counts, runs
only in the branch of `BaseModelIR.load_language_model` (`models/model.py`) that traces it;
the all-hw optimizer (`optimization/optimizer_all_hw.py`) passes `force_reextract_model =
False`, so every trial after the first loads the pickled graph and keeps 12 and 12. Global
layers 0 and 12 are then charged 13 times each and no other layer is: the text tower of
ViT-L/14 never, TinyCLIP-8M's 10 + 3 layers as 13 + 13. `catransformers-code` charges this
(its `[layer_count]` section, `hw_models/layers.py`); the default counts each layer once.

{layers}

What the reference charges between the L2 and the PE array. Its register keeps weights only
(`tc_estimator.py` `mem_bypass`), and Sunstone charges an operand that bypasses the register at
the L2, per MAC, divided by its reuse at the register level (`optimization_utils.py`
`get_cost_edp_bypass`): inputs over the PEs that share them, partial sums (read and updated)
over the PEs that reduce them. That is far more L2 traffic than a PE array that latches inputs
and keeps partial sums in place, it grows as the array shrinks, and a prime dimension (197 or
257 tokens, 197 keys) cannot be unrolled at all. `catransformers-code` charges it
(`accounting.tc_bypass_spatial_reuse`, `hw_models.energy.bypass_l2_words`). It makes small
arrays pay in energy, so the minimum-carbon searches below no longer end at the smallest arrays;
it does not depend on the array's shape for a given number of PEs, while the area does (the
vector core has one lane per column), so the grid minimum is a narrow, deep array where the
paper's 100-trial search stopped at a wide, shallow one.

That the paper's numbers come from this accounting is borne out by the energies: on the paper's
own 14 designs in the `carbon_wrapper` scenario, our energy per inference over the energy the
paper's carbon implies has a median of {mj_charged} (range {mj_charged_range}) with it, and
{mj_lowered} (range {mj_lowered_range}) with the layers as lowered (both with the array-side L2 charge).

Which `l2_bw`: the table omits it and it changes neither the area nor, mostly, the energy, so
several designs tie in carbon. The all-hw mode minimises carbon and latency together (a Pareto
front), so of two designs equal in carbon the faster one dominates: ties (within 0.1 g, or
1 us for latency) go to the other objective, for the paper's designs and for the search alike.

The activation: the reference traces the Hugging Face models (`eval/model_constants.py`):
OpenAI's ViT-B/16 and ViT-L/14, whose MLPs use quick-GELU, so Table 2 is evaluated here with
our OpenCLIP shapes and quick-GELU for those two; the TinyCLIPs use GELU (the TinyCLIP
repository's own configurations, `microsoft/Cream` `TinyCLIP/src/open_clip/model_configs`,
set no `quick_gelu`, and its `CLIP` defaults to `nn.GELU`), which the reference traces as ReLU
and fuses into fc1 (1 cycle). Quick-GELU does not fuse (mul, sigmoid, mul with a fork: 14
passes on the vector core, the reference's own costs).

Which carbon scenario: the reference code's carbon path does not use the paper's 224 g/kWh and
23.65 M inferences, nor `configurations.py`'s 68 g/kWh. `phaze/Estimator/utils/carbon_wrapper.py`
(`initialize_carbon_intensity`) sets a pre-computed California 2023 average of 262.67 g/kWh
(zone US-CAL-CISO; so in the file's version of commit 69b5ee65, while the public release ad8c859
reads `configurations.py`'s `OPERATIONAL_CARBON_INTENSITY` there and keeps the 262.67 line as a
comment), and `phaze/Estimator/carbon_estimator.py` (`estimate_carbon`) multiplies the
per-inference operational carbon by 30,000,000. That is 1.49x the paper scenario's operational
carbon per joule, and it is the scenario under which `catransformers-code` comes closest (the
`carbon_wrapper` rows; the scenario file is `benchmarks/validation/scenario_carbon_wrapper.toml`).
The energy per inference itself is unchanged by it: what remains is the mJ ratio of that row.

Why the searched hardware is not the paper's even where the cost of the paper's design agrees:
the paper's rows come from a Bayesian search of 100 trials (the reference's
`optimization/optimizer_all_hw.py` runs `NUM_TRIALS` Ax trials, `configurations.py`
`NUM_TRIALS = 100`, over 3,240 points), not from an exhaustive minimum. Under one profile the
carbon landscape is flat: the last column of each "paper's own designs" table divides our grid
optimum by our cost of the paper's design, and for the minimum-carbon rows it is {flat_range}
(both profiles, every scenario), i.e. the paper's design is within a few per cent of the grid minimum
under our cost, and a 100-trial search stopping at it is what one expects. The hardware columns
of the search tables therefore test the search, not the cost model; the rows "on the paper's own
designs" test the cost model, and those are the ones the 15 % goal is read on here.

{table2}

## 2. Two oracles on the same semantics

Eight GEMMs (ViT-B-16 vision layer and text-tower shapes) on four single-cluster grid designs,
three of them with `l2_bw < pe_width`. Each oracle gets the template as specified and our
per-access energies (MAC, register, SRAM read and write, DRAM; ZigZag prices its SRAMs with
CACTI 7.0 at 22 nm itself), chooses its own mapping, and is run in both array orientations
(rows = `pe_depth` or `pe_width`); its best orientation is compared. Inputs:
`benchmarks/validation/zigzag_inputs/`, `benchmarks/validation/accelforge_inputs/`; outputs
cached in `benchmarks/validation/oracle_results.csv` (`--run-oracles` re-runs them).

- **ZigZag 3.9.1** (`zigzag-dse`): weight-stationary, a 32-word (32-byte) weight register per
  MAC, one input word latched per row and one partial-sum word per column (edge latches), a
  read port per operand at the L2 and a read and a write port for partial sums, their transfers
  to and from the GLB on a port pair of their own (our `per_operand` link limits the L2 <-> array
  words only), latency-optimal temporal mapping (LOMA, loop-prime-factor limit 6). Against our
  edge-latched setting.
- **AccelForge 1.0.467** (`accelforge`, the Timeloop/Accelergy team's mapper): a 32-byte
  register per MAC holding weights only, every tensor through the GLB and the L2, one shared
  L2 <-> array link of `l2_bw` words per cycle for inputs, weights and partial sums (an
  AccelForge `Toll` between the L2 and the array: every word crossing it, either way, counts;
  the L2's GLB side is limited by the GLB's ports, as in our model). Its mapper (FFM) keeps the
  (latency, energy) Pareto set and the fastest, then cheapest, mapping is taken (our mapper's
  objective; its default is energy), with imperfect spatial factorisation on
  (`explore_imperfect_spatial_loops`: a spatial loop may leave a partial last tile, as the
  hardware's last fold does; off by default, when a prime bound such as 197 can only be split
  1 x 197 and lands on one line of PEs). Imperfect temporal loops
  (`explore_imperfect_temporal_loops`) stay off: AccelForge's documentation gives them lower
  memory use, not more parallelism, and they took over 10 minutes and 10 GB per large GEMM on
  the 2-core machine. Against our strict setting.

{oracles}

Reading the tables (mechanisms; the numbers are in the tables above):

- **The PE register.** With the template's 32-byte register our model double-buffers the
  stationary words (hw_models/pe.py `_fold_cycles`, docs/hardware-model.md 3.1): the next fold's
  weights shift into the spare words while the current fold streams, so only the first load is
  exposed; each group of register words keeps its ripple and drain. ZigZag charges one load
  (onloading) and one drain (offloading) per layer; AccelForge none. Before this, our model
  charged SCALE-Sim's load per fold with any register size (the ZigZag pair: median 9.5 %,
  90th percentile 32.0 %, worst 1.69x, mostly the 32x32 design and the attention GEMMs). A
  one-word register still gets SCALE-Sim's fill, stream and drain per fold, exact (section 3).
- **ZigZag, the large GEMMs** agree within a few per cent on P, R and S. On Q_128x16
  (`l2_bw` 32) ZigZag is slower. Its own stall breakdown (`stall_slack_comb_collect`) locates it:
  on vit_qkv, 31,911 of its 206,247 cycles are stall on the L2's two partial-sum ports (read to
  and write from the array). Its partial-sum latch holds one word per column with no shadow, so
  the 128 partial sums of each 16-step reduction leave in the same cycle: 128 words over a
  32-word port take 4 cycles, 3 of them a stall, every 16 (3/16 of the ideal 170,208 cycles is
  31,914). Our roofline spreads a port's words over the layer (in a systolic array the columns'
  partial sums reach the edge one cycle apart, not in one burst), so ours is 0.85-0.86x there.
- **ZigZag, the attention GEMMs** (197 x 64 x 197, 197 x 197 x 64) have the fewest MACs per fold:
  our per-group ripple and drain (r + c - 2) weighs most there (up to 1.4x on vit_av, P_256x8),
  and ZigZag's partial-sum burst most on Q_128x16 (0.65-0.77x).
- **AccelForge** matches our strict setting cycle for cycle wherever both are bound by the L2
  link (the count of pairs within 0.5 % is under its table): with the link a `Toll`, both count
  the same words (inputs, weights, partial sums, either way) against `l2_bw`, and both map
  weight-stationary. The pairs outside 10 % are the text GEMMs (77 tokens) on P_256x8, where ours
  is compute-bound and AccelForge is bound by the link: AccelForge charges no time to fill the
  array, while ours shifts each fold's weights in through the 256 rows of the transposed array
  (256 cycles per fold against a 77-token stream; the double-buffered load hides only as much as
  the stream lasts). A systolic array cannot load a 256-high fold faster than one row per cycle,
  so we keep it. Earlier configurations of the oracle, whose results this cache no longer holds,
  showed why each setting of the final one matters: without the `Toll` the oracle's L2 throughput
  also carried the GLB -> L2 fills and the L2 -> GLB drains (vit_qk on Q_128x16: 64,025 words,
  2,001 cycles more); without imperfect spatial factorisation it put the prime 197 on one line of
  PEs, up to 25x slower than ours on the attention GEMMs (its utilisation exactly 1/128, 1/64,
  1/32); with latency alone as its objective it kept an arbitrary one of the equally fast
  mappings, some sending partial sums to DRAM (energy 2-6x ours).
- **Energy**: with equal per-access energies (ZigZag prices its SRAMs with CACTI itself) the
  totals agree within the medians shown; the per-row ratios are in the tables.

### 2.1 Where AccelForge's L2 traffic goes

{actions}

## 3. SCALE-Sim's compute-bound cycles

{scalesim}

## 4. Energy per MAC of whole models (physical sanity of the default profile)

Energy per inference divided by the model's MACs, over the 3,240-point grid (625 MHz, batch 1).
"On-chip" leaves out the DRAM term, which is what published accelerator efficiencies measure.

{pj}
"""

if __name__ == "__main__":
    sys.exit(main())
