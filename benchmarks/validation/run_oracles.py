"""Run the two oracles (ZigZag 3.9.1, AccelForge 1.0.467) on the validation cases and append to the cached CSV.

    .venv/bin/python benchmarks/validation/run_oracles.py zigzag [--workers 2]
    .venv/bin/python benchmarks/validation/run_oracles.py accelforge

Each oracle runs in its own git-ignored venv under benchmarks/ (created on first use from PyPI)
and chooses its own mapping; its inputs are written under benchmarks/validation/<oracle>_inputs/
(committed) and one CSV row per (oracle, GEMM, design, orientation) is appended to
benchmarks/validation/oracle_results.csv as each GEMM finishes, so an interrupted run resumes
where it stopped. benchmarks/bench_validation.py reads that CSV; it never runs an oracle itself
unless asked with --run-oracles.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(HERE))

import hw_models as H  # noqa: E402
from oracle_cases import DESIGNS, GEMMS, REGISTER_BYTES  # noqa: E402

CSV_PATH = HERE / "oracle_results.csv"
FIELDS = ("oracle", "version", "gemm", "m", "k", "n", "design", "orientation", "latency_cycles", "energy_pj",
          "mac_energy_pj", "utilisation", "wall_s")
ZIGZAG_INPUTS = HERE / "zigzag_inputs"
ACCELFORGE_INPUTS = HERE / "accelforge_inputs"
ACCELFORGE_VENV = ROOT / "benchmarks" / ".accelforge-venv"
ACCELFORGE_REQUIREMENT = "accelforge==1.0.467"
ACCELFORGE_RUNNER = HERE / "run_accelforge.py"
ORIENTATIONS = ("depth_rows", "width_rows")


def design_configs() -> list[tuple[str, H.HardwareConfig]]:
    base = H.HardwareConfig(clusters=1)
    return [(name, H.HardwareConfig.from_mapping(dict(p, clusters=1), base=base)) for name, p in DESIGNS]


def done_rows(oracle: str) -> set[tuple[str, str, str]]:
    if not CSV_PATH.exists():
        return set()
    with CSV_PATH.open() as f:
        return {(r["gemm"], r["design"], r["orientation"]) for r in csv.DictReader(f) if r["oracle"] == oracle}


def append_rows(rows: list[dict]) -> None:
    new = not CSV_PATH.exists()
    with CSV_PATH.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            w.writeheader()
        for r in rows:
            w.writerow({k: r[k] for k in FIELDS})
        f.flush()
        os.fsync(f.fileno())


def run_zigzag_oracle(workers: int) -> None:
    import bench_zigzag as BZ

    py = BZ.ensure_zigzag_venv(BZ.ZIGZAG_REQUIREMENT)
    BZ.YAML_DIR = ZIGZAG_INPUTS
    have = done_rows("zigzag")
    for gname, m, k, n in GEMMS:
        jobs = []
        for dname, cfg in design_configs():
            for orient in ORIENTATIONS:
                if (gname, dname, orient) in have:
                    continue
                hw = BZ.zigzag_hw(dname, cfg, "ws", orient, psum_bits=8)
                hw["stationary_words"] = REGISTER_BYTES * 8 // cfg.precision_bits
                # Our per_operand l2_link limits L2 <-> array words only; the L2's GLB side is the GLB's.
                hw["l2_glb_side_ports"] = True
                jobs.append({"name": f"{gname}@{dname}@{orient}", "hw": hw, "gemm": {"name": gname, "m": m, "k": k, "n": n},
                             "opt": "latency", "lpf_limit": 6})
        if not jobs:
            continue
        res = BZ.run_zigzag(py, jobs, workers)
        rows = []
        for job, r in zip(jobs, res["results"]):
            dname, orient = job["name"].split("@")[1:]
            rows.append({"oracle": "zigzag", "version": res["zigzag_version"], "gemm": gname, "m": m, "k": k, "n": n,
                         "design": dname, "orientation": orient, "latency_cycles": r["latency_cycles"],
                         "energy_pj": r["energy_pj"], "mac_energy_pj": r["mac_energy_pj"],
                         "utilisation": r["mac_utilization"], "wall_s": round(r["wall_s"], 2)})
        append_rows(rows)
        print(f"[zigzag] {gname}: {len(rows)} rows", file=sys.stderr, flush=True)


def ensure_accelforge_venv() -> Path:
    py = ACCELFORGE_VENV / "bin" / "python"
    if py.exists() and subprocess.run([str(py), "-c", "import accelforge"], capture_output=True).returncode == 0:
        return py
    # accelforge's dependency hwcomponents declares Python >= 3.12 but runs on 3.11; wheels only,
    # with numpy/scipy/pandas pinned to releases that still ship 3.11 wheels.
    venv.EnvBuilder(with_pip=True, clear=True).create(ACCELFORGE_VENV)
    cmd = [str(py), "-m", "pip", "install", "--quiet", "--ignore-requires-python", "--only-binary", ":all:",
           ACCELFORGE_REQUIREMENT, "numpy<2.3", "scipy<1.16", "pandas<2.4"]
    if subprocess.run(cmd).returncode != 0:
        raise SystemExit(f"could not install {ACCELFORGE_REQUIREMENT} into {ACCELFORGE_VENV}")
    if subprocess.run([str(py), str(HERE / "patch_py311.py")]).returncode != 0:
        raise SystemExit("could not make accelforge importable on this Python; see patch_py311.py")
    return py


def run_accelforge_oracle(orientations: tuple[str, ...] = ORIENTATIONS) -> None:
    oracle = "accelforge"
    py = ensure_accelforge_venv()
    if shutil.which("dot") is None:  # AccelForge renders every chosen mapping with Graphviz
        raise SystemExit("AccelForge needs Graphviz's `dot` on PATH (Debian: apt-get install graphviz)")
    prof = H.load_profile("reference")
    have = done_rows(oracle)
    for gname, m, k, n in GEMMS:
        jobs = []
        for dname, cfg in design_configs():
            e = H.access_energies(H.HardwareBatch.from_configs([cfg]), prof)
            for orient in orientations:
                if (gname, dname, orient) in have:
                    continue
                jobs.append({"name": f"{gname}@{dname}@{orient}", "gemm": {"name": gname, "m": m, "k": k, "n": n},
                             "hw": {"name": dname, "orientation": orient, "pe_width": cfg.pe_width, "pe_depth": cfg.pe_depth,
                                    "l2_kib": cfg.l2_sram_kb, "l2_bw": cfg.l2_bw, "glb_kib": cfg.glb_mb * 1024,
                                    "glb_bw": cfg.glb_bw, "dram_bw": cfg.dram_words_per_cycle, "register_bytes": REGISTER_BYTES,
                                    "mac_pj": float(e.mac_pj), "reg_pj": float(e.register_pj),
                                    "l2_read_pj": float(e.l2_tc_read_pj[0]), "l2_write_pj": float(e.l2_tc_write_pj[0]),
                                    "glb_read_pj": float(e.glb_tc_read_pj[0]), "glb_write_pj": float(e.glb_tc_write_pj[0]),
                                    "dram_pj": float(e.dram_tc_pj)}})
        if not jobs:
            continue
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        with tempfile.TemporaryDirectory(prefix="accelforge-") as tmp:
            spec, out = Path(tmp) / "jobs.json", Path(tmp) / "out.json"
            spec.write_text(json.dumps({"inputs_dir": str(ACCELFORGE_INPUTS), "jobs": jobs}))
            r = subprocess.run([str(py), str(ACCELFORGE_RUNNER), str(spec), str(out)], env=env, cwd=tmp)
            if r.returncode != 0:
                raise SystemExit(f"AccelForge runner failed on {gname} (exit {r.returncode})")
            res = json.loads(out.read_text())
        rows = []
        for job, x in zip(jobs, res["results"]):
            dname, orient = job["name"].split("@")[1:]
            rows.append({"oracle": oracle, "version": res["version"], "gemm": gname, "m": m, "k": k, "n": n,
                         "design": dname, "orientation": orient, **{f: x[f] for f in ("latency_cycles", "energy_pj", "mac_energy_pj", "utilisation", "wall_s")}})
        append_rows(rows)
        print(f"[{oracle}] {gname}: {len(rows)} rows", file=sys.stderr, flush=True)


ACTIONS_JSON = HERE / "accelforge_actions.json"
ACTIONS_CASE = ("vit_qkv", "P_256x8", "depth_rows")  # an L2-bound design where the two models differ most


def accelforge_actions() -> None:
    """AccelForge's per-memory, per-tensor action counts (bits) for ACTIONS_CASE, written to accelforge_actions.json."""
    py = ensure_accelforge_venv()
    prof = H.load_profile("reference")
    gname, dname, orient = ACTIONS_CASE
    _, m, k, n = next(g for g in GEMMS if g[0] == gname)
    cfg = dict(design_configs())[dname]
    e = H.access_energies(H.HardwareBatch.from_configs([cfg]), prof)
    job = {"name": "@".join(ACTIONS_CASE), "gemm": {"name": gname, "m": m, "k": k, "n": n},
           "hw": {"name": dname, "orientation": orient, "pe_width": cfg.pe_width, "pe_depth": cfg.pe_depth,
                  "l2_kib": cfg.l2_sram_kb, "l2_bw": cfg.l2_bw, "glb_kib": cfg.glb_mb * 1024, "glb_bw": cfg.glb_bw,
                  "dram_bw": cfg.dram_words_per_cycle, "register_bytes": REGISTER_BYTES, "mac_pj": float(e.mac_pj),
                  "reg_pj": float(e.register_pj), "l2_read_pj": float(e.l2_tc_read_pj[0]), "l2_write_pj": float(e.l2_tc_write_pj[0]),
                  "glb_read_pj": float(e.glb_tc_read_pj[0]), "glb_write_pj": float(e.glb_tc_write_pj[0]), "dram_pj": float(e.dram_tc_pj)}}
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory(prefix="accelforge-") as tmp:
        spec, out = Path(tmp) / "jobs.json", Path(tmp) / "out.json"
        spec.write_text(json.dumps({"inputs_dir": str(ACCELFORGE_INPUTS), "jobs": [job]}))
        if subprocess.run([str(py), str(ACCELFORGE_RUNNER), str(spec), str(out)], env=env, cwd=tmp).returncode != 0:
            raise SystemExit("AccelForge runner failed")
        res = json.loads(out.read_text())
    r = res["results"][0]
    ACTIONS_JSON.write_text(json.dumps({"version": res["version"], "case": list(ACTIONS_CASE), "latency_cycles": r["latency_cycles"],
                                        "latency_by_level": r["latency_by_level"], "actions_bits": r["actions"]}, indent=1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("oracle", choices=("zigzag", "accelforge", "accelforge-actions"))
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--orientations", nargs="+", choices=ORIENTATIONS, default=list(ORIENTATIONS),
                    help="array orientations to give the oracle (AccelForge: about 1-2 min per GEMM and orientation on 2 cores)")
    args = ap.parse_args(argv)
    if args.oracle == "accelforge-actions":
        accelforge_actions()
    elif args.oracle == "zigzag":
        run_zigzag_oracle(args.workers)
    else:
        run_accelforge_oracle(tuple(args.orientations))
    return 0


if __name__ == "__main__":
    sys.exit(main())
