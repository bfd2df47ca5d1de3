"""Cross-check of our GEMM latency and energy model against ZigZag (PyPI `zigzag-dse`).

    .venv/bin/python benchmarks/bench_zigzag.py [--workers 2] [--json out.json]

ZigZag runs in its own virtualenv, benchmarks/.zigzag-venv (git-ignored), which this script
creates on first use (`python -m venv`, `pip install zigzag-dse six`); nothing is added to the
project's dependencies and no ZigZag code is copied. Our model (hw_models.evaluate_cost) runs
here, in the project's venv; ZigZag runs through a subprocess
(benchmarks/zigzag_hw/run_zigzag.py, with the ZigZag venv's bin first on PATH because ZigZag
runs CACTI through `python`), and its results come back as JSON.

For every (GEMM, design) pair ZigZag gets the dataflow and array orientation our mapper chose
(so the comparison is of two cost models for the same spatial mapping; ZigZag searches the
temporal loops itself, minimum energy-delay product by default), our MAC, register and DRAM
energies, and CACTI 22 nm
energies for the SRAMs. The accelerator, mapping and workload YAML it was given are written to
benchmarks/zigzag_hw/generated/. See docs/zigzag-crosscheck.md for the setup, the results and
the modelling differences.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import hw_models as H  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "validation"))
from oracle_cases import GEMMS as ORACLE_GEMMS  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
VENV_DIR = BENCH_DIR / ".zigzag-venv"
RUNNER = BENCH_DIR / "zigzag_hw" / "run_zigzag.py"
YAML_DIR = BENCH_DIR / "zigzag_hw" / "generated"
# The ZigZag release the table in docs/zigzag-crosscheck.md was measured with.
ZIGZAG_REQUIREMENT = "zigzag-dse==3.9.1"
EXTRA_REQUIREMENTS = ("six",)  # ZigZag's CACTI wrapper needs it and does not declare it

# Six of the validation report's GEMMs (benchmarks/validation/oracle_cases.py): the ViT-B-16
# vision-layer GEMMs but A.V, and the small text-tower out-projection.
GEMMS: tuple[tuple[str, int, int, int], ...] = tuple(
    g for g in ORACLE_GEMMS if g[0] in ("vit_qkv", "vit_fc1", "vit_fc2", "vit_proj", "vit_qk", "text_proj")
)

# Three single-cluster points of the reference grid (docs/reference-facts.md section 1).
DESIGNS: tuple[tuple[str, dict], ...] = (
    ("A_32x32", dict(pe_width=32, pe_depth=32, l2_sram_kb=512, l2_bw=64, glb_mb=2)),
    ("B_128x8", dict(pe_width=128, pe_depth=8, l2_sram_kb=256, l2_bw=128, glb_mb=4)),
    ("C_64x16", dict(pe_width=64, pe_depth=16, l2_sram_kb=128, l2_bw=32, glb_mb=8)),
)

# Sanity check of the ZigZag set-up (docs/reference-facts.md section 1.3, "External oracles"): INT8 GEMM
# 197x768x3072 on a 32x32 array, 512 KB local buffer, 10 GB/s DRAM -> 487,086 cycles, MAC
# utilisation 0.93. The description it came from is not published; ours has no GLB, the
# widest L2 port of the grid and 10 GB/s = 16 bytes/cycle at 625 MHz.
SANITY_GEMM = ("sanity_fc1", 197, 768, 3072)
SANITY_CYCLES = 487_086
SANITY_UTILISATION = 0.93
SANITY_DRAM_GBPS = 10.0


# ----------------------------------------------------------------------------- ZigZag venv
def venv_python() -> Path:
    return VENV_DIR / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python")


def _venv_ok(py: Path) -> bool:
    if not py.exists():
        return False
    probe = "import importlib.metadata as m, six, zigzag.api; print(m.version('zigzag-dse'))"
    res = subprocess.run([str(py), "-c", probe], capture_output=True, text=True)
    return res.returncode == 0


def ensure_zigzag_venv(requirement: str, recreate: bool = False) -> Path:
    """Create benchmarks/.zigzag-venv with ZigZag and six if it is missing or broken."""
    py = venv_python()
    if not recreate and _venv_ok(py):
        return py
    print(f"[setup] creating {VENV_DIR} and installing {requirement} (about a minute)", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(VENV_DIR)
    cmd = [str(py), "-m", "pip", "install", "--quiet", requirement, *EXTRA_REQUIREMENTS]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0 or not _venv_ok(py):
        sys.stderr.write(res.stdout[-4000:] + res.stderr[-4000:])
        raise SystemExit(f"could not install {requirement} into {VENV_DIR}; see pip's output above")
    return py


def run_zigzag(py: Path, jobs: list[dict], workers: int) -> dict:
    env = dict(os.environ)
    env["PATH"] = str(py.parent) + os.pathsep + env.get("PATH", "")  # ZigZag calls `python` for CACTI
    env.pop("PYTHONPATH", None)
    env["PYTHONHASHSEED"] = "0"
    with tempfile.TemporaryDirectory(prefix="bench-zigzag-") as tmp:
        spec = Path(tmp) / "jobs.json"
        out = Path(tmp) / "results.json"
        spec.write_text(json.dumps({"yaml_dir": str(YAML_DIR), "workers": workers, "jobs": jobs}))
        res = subprocess.run([str(py), str(RUNNER), str(spec), str(out)], cwd=tmp, env=env, capture_output=True, text=True)
        progress = [line for line in res.stderr.splitlines() if line.startswith("[zigzag]")]
        for line in progress:
            print(line, file=sys.stderr)
        if res.returncode != 0:
            sys.stderr.write(res.stderr[-6000:])
            raise SystemExit(f"ZigZag runner failed with exit status {res.returncode}")
        return json.loads(out.read_text())


# ----------------------------------------------------------------------------- our side
def our_side(designs: list[tuple[str, H.HardwareConfig]], gemms) -> dict:
    """Cycles, energy by component, chosen mapping and traffic per (gemm, design) from hw_models."""
    batch = H.HardwareBatch.from_configs([cfg for _, cfg in designs])
    prof = H.load_profile("reference")
    out: dict[tuple[str, str], dict] = {}
    for name, m, k, n in gemms:
        gemm = H.Gemm(name, m=m, k=k, n=n)
        rep = H.evaluate_cost(H.Workload((gemm,), name), batch, profile="reference")
        mapped = H.map_gemm(gemm, batch, profile=prof, detail=True)
        d = mapped.detail
        for i, (dname, _) in enumerate(designs):
            row = rep.op_table(i)[0]
            out[(name, dname)] = {
                "cycles": float(rep.op_cycles[0, i]),
                "latency_s": float(rep.latency_s[i]),
                "energy_pj": float(rep.energy_j[i]) * 1e12,
                "energy_by_component_pj": {c: float(v[i]) * 1e12 for c, v in rep.energy_by_component.items() if float(v[i])},
                "dataflow": row["mapping"]["dataflow"],
                "orientation": row["mapping"]["orientation"],
                "bound": row["bound"],
                "utilisation": row["utilisation"],
                "traffic_words": {
                    "l2": float(d["l2_pe_reads"][i] + d["l2_pe_writes"][i] + d["l2_fill_writes"][i] + d["glb_writes"][i]),
                    "glb": float(d["glb_reads"][i] + d["glb_writes"][i] + d["dram_reads"][i] + d["dram_writes"][i]),
                    "dram": float(d["dram_reads"][i] + d["dram_writes"][i]),
                },
            }
    return out


def _g6(x) -> float:
    return float(f"{float(x):.6g}")  # tidy YAML; 6 significant digits of a profile constant


def zigzag_hw(name: str, cfg: H.HardwareConfig, dataflow: str, orientation: str, psum_bits: int, glb: bool = True) -> dict:
    """Template parameters for run_zigzag.accelerator(), energies from our reference profile."""
    prof = H.load_profile("reference")
    e = H.access_energies(H.HardwareBatch.from_configs([cfg]), prof)
    return {
        "name": name,
        "pe_width": cfg.pe_width,
        "pe_depth": cfg.pe_depth,
        "dataflow": dataflow,
        "orientation": orientation,
        "l2_kib": cfg.l2_sram_kb,
        "l2_bw": cfg.l2_bw,
        "glb_kib": cfg.glb_mb * 1024 if glb else 0,
        "glb_bw": cfg.glb_bw,
        "dram_bw": cfg.dram_words_per_cycle,
        "mac_pj": _g6(e.mac_pj),
        "reg_pj": _g6(e.register_pj),
        "dram_pj_per_bit": _g6(float(e.dram_pj) / cfg.precision_bits),
        "psum_bits": psum_bits,
        "l2_ports": "per_operand",
        "systolic": True,
        "sram_cost": "cacti",
    }


def zigzag_traffic_words(res: dict) -> dict[str, float]:
    """Words read from and written to each ZigZag memory (accesses are counted in port-wide units)."""
    words: dict[str, float] = {}
    for key, dirs in res["accesses"].items():
        mem = key.split("@", 1)[1]
        width = res["per_access_energy"][mem]["port_bits"] / 8
        words[mem] = words.get(mem, 0.0) + sum(dirs.values()) * width
    return words


def zigzag_energy_with_our_sram(res: dict, our_l2_pj: float, our_glb_pj: float) -> float:
    """ZigZag's access counts priced with our per-word L2/GLB energies (everything else is already ours)."""
    words = zigzag_traffic_words(res)
    sram = res["energy_by_memory_pj"]
    total = res["energy_pj"] - sram.get("l2", 0.0) - sram.get("glb", 0.0)
    return total + words.get("l2", 0.0) * our_l2_pj + words.get("glb", 0.0) * our_glb_pj


# ----------------------------------------------------------------------------- report
def _fmt_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(zip(cells, widths))) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def _summary(name: str, values: list[float]) -> str:
    v = np.asarray(values)
    return f"{name}: median {statistics.median(v):.3f}, range {v.min():.3f} - {v.max():.3f} (geo-mean {np.exp(np.log(v).mean()):.3f}, n={len(v)})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="parallel ZigZag processes")
    ap.add_argument("--psum-bits", type=int, default=8, help="partial-sum width in ZigZag (8 = our model's word accounting; 32 = a real INT8 accumulator)")
    ap.add_argument("--opt", default="EDP", choices=("EDP", "latency", "energy"),
                    help="ZigZag's mapping criterion (default EDP, as the reference's Sunstone mapper; 'latency' lets ZigZag buy a few cycles with much more SRAM traffic)")
    ap.add_argument("--lpf-limit", type=int, default=6, help="ZigZag LOMA loop-prime-factor limit (search effort)")
    ap.add_argument("--no-sanity", action="store_true", help="skip the 487,086-cycle sanity run")
    ap.add_argument("--zigzag", default=ZIGZAG_REQUIREMENT, help=f"pip requirement for ZigZag (default {ZIGZAG_REQUIREMENT})")
    ap.add_argument("--recreate-venv", action="store_true", help="rebuild benchmarks/.zigzag-venv")
    ap.add_argument("--json", type=Path, help="also write every number to this JSON file")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    py = ensure_zigzag_venv(args.zigzag, args.recreate_venv)
    t_venv = time.perf_counter() - t_start

    base = H.HardwareConfig(clusters=1)
    designs = [(name, H.HardwareConfig.from_mapping(dict(p, clusters=1), base=base)) for name, p in DESIGNS]
    t0 = time.perf_counter()
    ours = our_side(designs, GEMMS)
    t_ours = time.perf_counter() - t0

    jobs = []
    for gname, m, k, n in GEMMS:
        for dname, cfg in designs:
            o = ours[(gname, dname)]
            jobs.append({
                "name": f"{gname}@{dname}",
                "hw": zigzag_hw(dname, cfg, o["dataflow"], o["orientation"], args.psum_bits),
                "gemm": {"name": gname, "m": m, "k": k, "n": n},
                "opt": args.opt,
                "lpf_limit": args.lpf_limit,
            })
    if not args.no_sanity:
        sname, m, k, n = SANITY_GEMM
        sane = H.HardwareConfig.from_mapping(
            dict(clusters=1, pe_width=32, pe_depth=32, l2_sram_kb=512, l2_bw=128,
                 dram_bw_gbps=SANITY_DRAM_GBPS),
            base=base,
        )
        jobs.append({
            "name": "sanity",
            "hw": zigzag_hw("sanity_32x32_noglb", sane, "ws", "depth_rows", args.psum_bits, glb=False),
            "gemm": {"name": sname, "m": m, "k": k, "n": n},
            "opt": "latency",
            "lpf_limit": args.lpf_limit,
        })
    t0 = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    zz = run_zigzag(py, jobs, args.workers)
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t_zz = time.perf_counter() - t0
    cpu_zz = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    by_name = {r["name"]: r for r in zz["results"]}

    prof = H.load_profile("reference")
    rows, records = [], []
    lat_ratios, en_ratios, en_ratios_same_sram = [], [], []
    for gname, m, k, n in GEMMS:
        for dname, cfg in designs:
            o, z = ours[(gname, dname)], by_name[f"{gname}@{dname}"]
            e = H.access_energies(H.HardwareBatch.from_configs([cfg]), prof)
            # One per-word price per SRAM for ZigZag's word counts: the mean of our read and write energy.
            z_same = zigzag_energy_with_our_sram(z, float(e.l2_tc_read_pj[0] + e.l2_tc_write_pj[0]) / 2, float(e.glb_read_pj[0] + e.glb_write_pj[0]) / 2)
            lr = o["cycles"] / z["latency_cycles"]
            er = o["energy_pj"] / z["energy_pj"]
            er2 = o["energy_pj"] / z_same
            lat_ratios.append(lr)
            en_ratios.append(er)
            en_ratios_same_sram.append(er2)
            rows.append([
                f"{gname} {m}x{k}x{n}", dname, f"{o['dataflow']}/{o['orientation'].split('_')[0]}",
                f"{o['cycles']:,.0f}", f"{z['latency_cycles']:,.0f}", f"{lr:.3f}",
                f"{o['energy_pj'] / 1e6:,.1f}", f"{z['energy_pj'] / 1e6:,.1f}", f"{er:.3f}", f"{er2:.3f}",
            ])
            records.append({"gemm": gname, "m": m, "k": k, "n": n, "design": dname, "ours": o, "zigzag": z,
                            "zigzag_energy_with_our_sram_pj": z_same, "latency_ratio": lr, "energy_ratio": er,
                            "energy_ratio_same_sram": er2})

    print(f"ZigZag {zz['zigzag_version']} (min {args.opt}, lpf_limit {args.lpf_limit}) vs hw_models.evaluate_cost "
          f"(profile 'reference'), clusters=1, INT8, psum {args.psum_bits} bit in ZigZag, ratios = ours / ZigZag")
    print()
    print("Designs: " + "; ".join(f"{n}: {c.pe_width}x{c.pe_depth} PEs, L2 {c.l2_sram_kb} KB @ {c.l2_bw} w/c, GLB {c.glb_mb} MB @ {c.glb_bw} w/c, DRAM {c.dram_words_per_cycle:g} w/c" for n, c in designs))
    print()
    print(_fmt_table(
        ["GEMM (MxKxN)", "design", "dataflow", "ours cyc", "ZigZag cyc", "lat ratio", "ours uJ", "ZigZag uJ", "E ratio", "E ratio*"],
        rows,
    ))
    print()
    print("E ratio* = ours / (ZigZag's access counts priced with our L2/GLB per-word energies instead of CACTI's)")
    print(_summary("latency ratio", lat_ratios))
    print(_summary("energy ratio ", en_ratios))
    print(_summary("energy ratio*", en_ratios_same_sram))

    # Where the energy goes: totals over the 18 pairs, per component.
    comp_ours: dict[str, float] = {}
    comp_zz: dict[str, float] = {}
    words_ours: dict[str, float] = {}
    words_zz: dict[str, float] = {}
    for r in records:
        for c, v in r["ours"]["energy_by_component_pj"].items():
            comp_ours[c] = comp_ours.get(c, 0.0) + v
        z = r["zigzag"]
        comp_zz["mac"] = comp_zz.get("mac", 0.0) + z["mac_energy_pj"]
        for mem, v in z["energy_by_memory_pj"].items():
            c = "register" if mem.startswith("reg_") else mem
            comp_zz[c] = comp_zz.get(c, 0.0) + v
        for lvl, v in r["ours"]["traffic_words"].items():
            words_ours[lvl] = words_ours.get(lvl, 0.0) + v
        for mem, v in zigzag_traffic_words(z).items():
            if mem in ("l2", "glb", "dram"):
                words_zz[mem] = words_zz.get(mem, 0.0) + v
    print()
    print("Energy by component, summed over all pairs (uJ), and words moved at each memory (millions):")
    comp_rows = []
    for c in ("mac", "register", "l2", "glb", "dram"):
        a, b = comp_ours.get(c, 0.0), comp_zz.get(c, 0.0)
        wa, wb = words_ours.get(c), words_zz.get(c)
        comp_rows.append([c, f"{a / 1e6:,.1f}", f"{b / 1e6:,.1f}", f"{a / b:.2f}" if b else "-",
                          f"{wa / 1e6:,.2f}" if wa is not None else "-", f"{wb / 1e6:,.2f}" if wb is not None else "-",
                          f"{wa / wb:.2f}" if wa and wb else "-"])
    print(_fmt_table(["component", "ours uJ", "ZigZag uJ", "ratio", "ours Mwords", "ZigZag Mwords", "ratio"], comp_rows))
    l2_cacti = sorted({(r["design"], round(r["zigzag"]["per_access_energy"]["l2"]["r_pj"] / (r["zigzag"]["per_access_energy"]["l2"]["port_bits"] / 8), 3),
                        round(r["zigzag"]["per_access_energy"]["glb"]["r_pj"] / (r["zigzag"]["per_access_energy"]["glb"]["port_bits"] / 8), 3)) for r in records})
    print()
    print("Per-word read energy (pJ), ours vs CACTI 22 nm in ZigZag:")
    for dname, l2c, glbc in l2_cacti:
        cfg = dict(designs)[dname]
        e = H.access_energies(H.HardwareBatch.from_configs([cfg]), prof)
        print(f"  {dname}: L2 {cfg.l2_sram_kb} KB ours {float(e.l2_tc_read_pj[0]):.2f} / CACTI {l2c:.2f}; "
              f"GLB {cfg.glb_mb} MB ours {float(e.glb_read_pj[0]):.2f} / CACTI {glbc:.2f}")

    sanity = by_name.get("sanity")
    if sanity is not None:
        print()
        print(f"Sanity (ZigZag alone): GEMM {SANITY_GEMM[1]}x{SANITY_GEMM[2]}x{SANITY_GEMM[3]}, 32x32 WS, 512 KB L2, no GLB, "
              f"DRAM {SANITY_DRAM_GBPS:g} GB/s at {base.frequency_mhz:g} MHz: {sanity['latency_cycles']:,.0f} cycles, "
              f"MAC utilisation {sanity['mac_utilization']:.3f} (reference figure {SANITY_CYCLES:,} cycles, {SANITY_UTILISATION}; "
              f"ratio {sanity['latency_cycles'] / SANITY_CYCLES:.3f})")
    total = time.perf_counter() - t_start
    print()
    print(f"Run time: {total:.1f} s in all (ZigZag venv check/setup {t_venv:.1f} s, our model {t_ours:.2f} s, "
          f"ZigZag {t_zz:.1f} s wall / {cpu_zz:.1f} s CPU for {len(jobs)} runs on {args.workers} worker(s); "
          f"ZigZag per run {min(r['wall_s'] for r in zz['results']):.1f} - {max(r['wall_s'] for r in zz['results']):.1f} s)")
    if args.json:
        args.json.write_text(json.dumps({"zigzag_version": zz["zigzag_version"], "psum_bits": args.psum_bits,
                                         "opt": args.opt, "lpf_limit": args.lpf_limit,
                                         "records": records, "sanity": sanity, "run_time_s": total}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
