"""Regenerate the CACTI 22 nm SRAM energy tables of hw_models/data/profile_reference_22nm.toml.

    .venv/bin/python benchmarks/zigzag_hw/cacti_sram_table.py            # print the tables + TOML values
    .venv/bin/python benchmarks/zigzag_hw/cacti_sram_table.py --check    # and compare with the profile
    .venv/bin/python benchmarks/zigzag_hw/cacti_sram_table.py --sweep    # per-word energy vs port width

Runs CACTI the way ZigZag (PyPI `zigzag-dse` 3.9.1, in benchmarks/.zigzag-venv) does: the CACTI
7.0 binary ZigZag ships (zigzag/cacti/cacti_master/cacti) on a config file written by ZigZag's
own template (zigzag.cacti.cacti_master.cacti_config_creator.CactiConfig, "single" mode, the
keys cacti_top.py sets), with:

    -cache type "ram"   -technology (u) 0.022   -UCA bank count 1
    -exclusive read port 1   -exclusive write port 1   -read-write port 0
    -output/input bus width 8*W (bits)   -block size (bytes) W

for a port of W bytes (ZigZag passes the bit width as the block size in bytes; for a "ram"
CACTI gives identical energies for block sizes W and 8W, checked at every size below). One
exclusive read and one exclusive write port are what ZigZag asks CACTI for and what our model
assumes (separate read and write ports, docs/hardware-model.md 3.4). Every other setting is the
template's default (itrs-hp cells and periphery, 360 K, ED^2 optimisation, ECC on, ...).

The per-word energies are CACTI's "Dynamic read energy" / "Dynamic write energy" of one W-byte
access divided by the W one-byte (INT8) words in it. CACTI runs in a temporary directory (links
to the binary and its tech_params), so ZigZag's own CACTI cache (example_mem_pool.yaml, which
bench_zigzag.py fills) is neither read nor written. This file is not part of the package; it
needs the ZigZag venv (created by benchmarks/bench_zigzag.py) and re-runs itself there.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_PY = ROOT / "benchmarks" / ".zigzag-venv" / "bin" / "python"
PROFILE = ROOT / "hw_models" / "data" / "profile_reference_22nm.toml"

TECHNOLOGY_UM = 0.022  # 22 nm, the reference's node (docs/reference-facts.md 1.4)
WORD_BYTES = 1  # INT8
# (profile table, capacities in KiB, port width in bytes): the reference grid's L2 sizes at the
# middle of its l2_bw values (32, 64, 128 words/cycle), and its GLB sizes at glb_bw = 512.
TABLES: tuple[tuple[str, tuple[int, ...], int], ...] = (
    ("l2", (64, 128, 256, 512, 1024), 64),
    ("glb", (2048, 4096, 8192), 512),
)
SWEEP_WIDTHS = {"l2": (32, 64, 128), "glb": (256, 512, 1024)}
PORTS = {"ex_rd_port": 1, "ex_wr_port": 1, "rd_wr_port": 0, "bank_count": 1}


def _ensure_zigzag() -> None:
    try:
        import zigzag.cacti.cacti_master.cacti_config_creator  # noqa: F401
    except ImportError:
        if VENV_PY.exists() and Path(sys.prefix).resolve() != VENV_PY.parent.parent.resolve():
            os.execv(str(VENV_PY), [str(VENV_PY), __file__, *sys.argv[1:]])
        raise SystemExit(f"ZigZag is not importable; create {VENV_PY.parent.parent} with benchmarks/bench_zigzag.py first")


def cacti_master() -> Path:
    import zigzag.cacti.cacti_master.cacti_config_creator as ccc

    return Path(ccc.__file__).resolve().parent


def cacti_version(master: Path) -> str:
    text = (master / "version_cacti.h").read_text()
    get = lambda key: text.split(f"#define {key}", 1)[1].split("\n", 1)[0].split("/*")[0].strip()  # noqa: E731
    return f"CACTI {get('VER_MAJOR_CACTI')}.{get('VER_MINOR_CACTI')} ({get('VER_COMMENT_CACTI').strip(chr(34))}, {get('VER_UPDATE_CACTI').strip(chr(34))})"


def run_cacti(capacity_kib: int, port_bytes: int, block_bytes: int | None = None) -> dict:
    """One CACTI run through ZigZag's config template; energies in pJ per access."""
    from zigzag.cacti.cacti_master.cacti_config_creator import CactiConfig

    master = cacti_master()
    values = {
        "mem_type": '"ram"',
        "cache_size": capacity_kib * 1024,
        "IO_bus_width": port_bytes * 8,
        "technology": TECHNOLOGY_UM,
        "line_size": block_bytes or port_bytes,
        **PORTS,
    }
    config = CactiConfig()
    lines = [opt["string"] + str(values.get(key, opt["default"])) + "\n" for key, opt in config.config_options.items()]
    with tempfile.TemporaryDirectory(prefix="cacti-") as tmp:
        work = Path(tmp)
        (work / "cacti").symlink_to(master / "cacti")
        (work / "tech_params").symlink_to(master / "tech_params")
        config.write_config(lines, str(work / "sram.cfg"))
        res = subprocess.run(["./cacti", "-infile", "sram.cfg"], cwd=work, capture_output=True, text=True)
        out = work / "sram.cfg.out"
        if res.returncode != 0 or not out.exists():
            raise RuntimeError(f"CACTI failed for {capacity_kib} KiB x {port_bytes} B:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
        header, row = out.read_text().splitlines()[:2]
    rec = dict(zip((h.strip() for h in header.split(",")), (v.strip() for v in row.split(","))))
    if int(rec["Output width (bits)"]) != port_bytes * 8 or int(rec["Capacity (bytes)"]) != capacity_kib * 1024:
        raise RuntimeError(f"CACTI modelled a different memory than asked: {rec}")
    return {
        "capacity_kib": capacity_kib,
        "port_bytes": port_bytes,
        "read_pj": float(rec["Dynamic read energy (nJ)"]) * 1e3,
        "write_pj": float(rec["Dynamic write energy (nJ)"]) * 1e3,
        "area_mm2": float(rec["Area (mm2)"]),
        "access_ns": float(rec["Access time (ns)"]),
        "org": "Ndwl {Ndwl} Ndbl {Ndbl} Nspd {Nspd} Ndcm {Ndcm}".format(**rec),
    }


def _per_word(pj_per_access: float, port_bytes: int) -> float:
    return pj_per_access / (port_bytes / WORD_BYTES)


def _fmt(x: float) -> str:
    return f"{x:.5g}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with hw_models/data/profile_reference_22nm.toml (exit 1 on a mismatch)")
    ap.add_argument("--sweep", action="store_true", help="also tabulate per-word energy over port widths (the basis for one width per table)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    _ensure_zigzag()
    master = cacti_master()
    print(f"{cacti_version(master)}: {master / 'cacti'}")
    print(f"technology {TECHNOLOGY_UM} um, 'ram', ports {PORTS}, block size = port width; template zigzag CactiConfig")

    jobs = [(name, cap, width) for name, caps, width in TABLES for cap in caps]
    if args.sweep:
        jobs += [(name, cap, w) for name, caps, _ in TABLES for cap in caps for w in SWEEP_WIDTHS[name] if (name, cap, w) not in jobs]
    # The block-size check: ZigZag's block size (8 W bytes) gives the same energies as W.
    checks = [(name, cap, width) for name, caps, width in TABLES for cap in caps]
    with ThreadPoolExecutor(max(1, args.workers)) as pool:
        runs = list(pool.map(lambda j: run_cacti(j[1], j[2]), jobs))
        zz = list(pool.map(lambda j: run_cacti(j[1], j[2], 8 * j[2]), checks))
    by_key = {(j[0], j[1], j[2]): r for j, r in zip(jobs, runs)}
    for j, r in zip(checks, zz):
        a = by_key[j]
        if (a["read_pj"], a["write_pj"]) != (r["read_pj"], r["write_pj"]):
            print(f"note: block size {8 * j[2]} B gives other energies than {j[2]} B at {j[1]} KiB: {r} vs {a}")

    print()
    print("| table | capacity KiB | port B | read pJ/access | write pJ/access | read pJ/word | write pJ/word | area mm^2 | organisation |")
    print("|---|---|---|---|---|---|---|---|---|")
    toml: dict[str, dict[str, list[float]]] = {}
    for name, caps, width in TABLES:
        rd, wr = [], []
        for cap in caps:
            r = by_key[(name, cap, width)]
            rd.append(float(_fmt(_per_word(r["read_pj"], width))))
            wr.append(float(_fmt(_per_word(r["write_pj"], width))))
            print(f"| {name} | {cap} | {width} | {r['read_pj']:.6g} | {r['write_pj']:.6g} | {rd[-1]} | {wr[-1]} | {r['area_mm2']:.4g} | {r['org']} |")
        toml[name] = {"capacity_kib": list(caps), "port_bytes": width, "read_pj_per_word": rd, "write_pj_per_word": wr}

    if args.sweep:
        print()
        print("Per-word energy over port widths: read / write pJ per byte, each relative to the table's width:")
        for name, caps, width in TABLES:
            widths = SWEEP_WIDTHS[name]
            print(f"  {name}:")
            print("  " + " " * 10 + "".join(f"{f'{w} B':>30}" for w in widths))
            for cap in caps:
                ref = by_key[(name, cap, width)]
                cells = []
                for w in widths:
                    r = by_key[(name, cap, w)]
                    rd, wr = _per_word(r["read_pj"], w), _per_word(r["write_pj"], w)
                    rel_r = rd / _per_word(ref["read_pj"], width) - 1
                    rel_w = wr / _per_word(ref["write_pj"], width) - 1
                    cells.append(f"{rd:.3f}/{wr:.3f} ({rel_r:+.0%}/{rel_w:+.0%})")
                print(f"  {cap:>6} KiB" + "".join(f"{c:>30}" for c in cells))

    print()
    print("TOML values ([energy.sram.<table>]):")
    for name, t in toml.items():
        print(f"  [{name}] capacity_kib = {t['capacity_kib']}  port_bytes = {t['port_bytes']}")
        print(f"        read_pj_per_word = {t['read_pj_per_word']}")
        print(f"        write_pj_per_word = {t['write_pj_per_word']}")

    if args.check:
        with open(PROFILE, "rb") as fh:
            sram = tomllib.load(fh)["energy"]["sram"]
        bad = []
        for name, t in toml.items():
            for key, want in t.items():
                have = sram[name][key]["value"]
                if have != want:
                    bad.append(f"{name}.{key}: profile {have}, CACTI {want}")
        print()
        print("profile check: " + ("matches" if not bad else "MISMATCH\n  " + "\n  ".join(bad)))
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
