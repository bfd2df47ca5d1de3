"""Run ZigZag (PyPI `zigzag-dse`) on GEMMs for our accelerator template; runs INSIDE the ZigZag venv.

Called by benchmarks/bench_zigzag.py through a subprocess (with the ZigZag venv's bin first on
PATH: ZigZag runs CACTI through a `python` subprocess). Nothing of ZigZag is copied here: this
file only writes ZigZag's inputs (accelerator, mapping and workload YAML) and reads its outputs.

    python run_zigzag.py JOBS.json RESULTS.json

JOBS.json: {"yaml_dir": str, "jobs": [job, ...], "workers": int}; every job is
    {"name": str, "hw": {...template parameters...}, "gemm": {"m", "k", "n"}, "opt": str,
     "lpf_limit": int}
The template parameters (see accelerator() below) are those of one cluster of our template.
RESULTS.json: {"zigzag_version": str, "results": [result, ...]} in job order.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path

import yaml

BITS_PER_WORD = 8  # INT8 template: one byte per word


# --------------------------------------------------------------------------- inputs for ZigZag
def _port(name: str, kind: str, bits: int, allocation: list[str], min_bits: int = BITS_PER_WORD) -> dict:
    return {"name": name, "type": kind, "bandwidth_min": min_bits, "bandwidth_max": bits, "allocation": allocation}


def _register(bits: int, operand: str, served: list[str], pj_per_access: float, port_bits: int) -> dict:
    """A register (fixed per-access energy, no CACTI): the PE registers of the template."""
    if operand == "O":
        ports = [
            _port("r_port_1", "read", port_bits, ["O, tl"], port_bits),
            _port("r_port_2", "read", port_bits, ["O, th"], port_bits),
            _port("w_port_1", "write", port_bits, ["O, fh"], port_bits),
            _port("w_port_2", "write", port_bits, ["O, fl"], port_bits),
        ]
    else:
        ports = [
            _port("r_port_1", "read", port_bits, [f"{operand}, tl"], port_bits),
            _port("w_port_1", "write", port_bits, [f"{operand}, fh"], port_bits),
        ]
    return {
        "size": bits,
        "r_cost": pj_per_access,
        "w_cost": pj_per_access,
        "area": 0,
        "latency": 1,
        "operands": [operand],
        "ports": ports,
        "served_dimensions": served,
    }


# Our mapper's dataflows (hw_models.mapping._ROLES): (array rows, array columns, time) as GEMM
# dimensions, in ZigZag's names: B = M tokens, C = K reduction, K = N outputs.
ROLES = {"ws": ("C", "K", "B"), "os": ("B", "K", "C"), "is": ("C", "B", "K")}
# The stationary operand per dataflow (it keeps a double-buffered register in every PE).
STATIONARY = {"ws": "W", "os": "O", "is": "I"}
# Loop dimensions each layer operand depends on (the others are reuse dimensions for it).
RELEVANT = {"I": {"B", "C"}, "W": {"K", "C"}, "O": {"B", "K"}}
MEM_OP = {"I": "I1", "W": "I2", "O": "O"}


def array_shape(hw: dict) -> dict:
    """Rows/columns of the MAC array and the GEMM dimension each one unrolls.

    orientation "depth_rows": pe_depth rows x pe_width columns; "width_rows": the transpose.
    ZigZag's D1 is the columns, D2 the rows.
    """
    if hw["orientation"] == "depth_rows":
        rows, cols = int(hw["pe_depth"]), int(hw["pe_width"])
    elif hw["orientation"] == "width_rows":
        rows, cols = int(hw["pe_width"]), int(hw["pe_depth"])
    else:
        raise ValueError(f"orientation {hw['orientation']!r}")
    row_dim, col_dim, time_dim = ROLES[hw["dataflow"]]
    return {"rows": rows, "cols": cols, "row_dim": row_dim, "col_dim": col_dim, "time_dim": time_dim}


def accelerator(hw: dict) -> dict:
    """ZigZag accelerator description of one cluster of our template (tensor core only).

    hw keys: name, pe_width, pe_depth, dataflow ("ws", "os", "is"), orientation ("depth_rows",
    "width_rows"), l2_kib, l2_bw (words/cycle), glb_kib (0: no GLB), glb_bw (words/cycle),
    dram_bw (words/cycle), mac_pj, reg_pj (per 8-bit register access), dram_pj_per_bit,
    psum_bits, l2_ports ("per_operand" or "shared"), l2_glb_side_ports (bool, per_operand only:
    the partial sums' GLB-side transfers on ports of their own), systolic (bool), sram_cost ("cacti" or
    {"l2_pj_per_bit": x, "glb_pj_per_bit": y}).

    Levels, innermost first:
      reg_<op>  one register per operand at the PE array. The stationary operand of the dataflow
                has one per MAC holding two words (the active one and its shadow, so the next
                tile loads under compute); the other operands have one word per group of MACs
                that share it (served along the array dimension that is a reuse dimension for
                them: the input moving across a row, the partial sum moving down a column);
      l2        the cluster's local buffer, CACTI energies, every port l2_bw words wide;
      glb       the global buffer, CACTI energies, every port glb_bw words wide;
      dram      off-chip, one read/write port of dram_bw words, dram_pj_per_bit.
    """
    shape = array_shape(hw)
    l2_bits = int(hw["l2_bw"]) * BITS_PER_WORD
    glb_bits = int(hw["glb_bw"]) * BITS_PER_WORD
    dram_bits = int(hw["dram_bw"]) * BITS_PER_WORD
    psum_bits = int(hw["psum_bits"])
    reg_pj = float(hw["reg_pj"])
    sram_cost = hw.get("sram_cost", "cacti")

    def sram(size_bits: int, ports: list[dict], per_bit_key: str) -> dict:
        d = {"size": size_bits, "area": 0, "latency": 1, "operands": ["I1", "I2", "O"], "ports": ports,
             "served_dimensions": ["D1", "D2"]}
        if sram_cost == "cacti":
            d["auto_cost_extraction"] = True
        else:  # fixed per-bit energy times the (common) port width
            width = ports[0]["bandwidth_max"]
            d["r_cost"] = d["w_cost"] = float(sram_cost[per_bit_key]) * width
        return d

    if hw.get("l2_ports", "per_operand") == "per_operand" and hw.get("l2_glb_side_ports", False):
        # As below, but the partial sums' array-side port pair carries only array-side words: their
        # transfers to and from the GLB get a port pair of their own (hw_models' per_operand
        # l2_link: the GLB side of the L2 is limited by the GLB's ports, not by l2_bw).
        l2_ports = [
            _port("r_port_1", "read", l2_bits, ["I1, tl"]),
            _port("r_port_2", "read", l2_bits, ["I2, tl"]),
            _port("r_port_3", "read", l2_bits, ["O, tl"]),
            _port("r_port_4", "read", l2_bits, ["O, th"]),
            _port("w_port_1", "write", l2_bits, ["I1, fh", "I2, fh"]),
            _port("w_port_2", "write", l2_bits, ["O, fl"]),
            _port("w_port_3", "write", l2_bits, ["O, fh"]),
        ]
    elif hw.get("l2_ports", "per_operand") == "per_operand":
        # One read port per operand towards the array, psums back through their own port pair:
        # ZigZag serialises every transfer that shares a port, even when the bits would fit.
        l2_ports = [
            _port("r_port_1", "read", l2_bits, ["I1, tl"]),
            _port("r_port_2", "read", l2_bits, ["I2, tl"]),
            _port("r_port_3", "read", l2_bits, ["O, tl", "O, th"]),
            _port("w_port_1", "write", l2_bits, ["I1, fh", "I2, fh"]),
            _port("w_port_2", "write", l2_bits, ["O, fh", "O, fl"]),
        ]
    else:
        l2_ports = [
            _port("r_port_1", "read", l2_bits, ["I1, tl", "I2, tl", "O, tl", "O, th"]),
            _port("w_port_1", "write", l2_bits, ["I1, fh", "I2, fh", "O, fh", "O, fl"]),
        ]
    glb_ports = [
        _port("r_port_1", "read", glb_bits, ["I1, tl", "I2, tl", "O, tl", "O, th"]),
        _port("w_port_1", "write", glb_bits, ["I1, fh", "I2, fh", "O, fh", "O, fl"]),
    ]
    all_dirs = ["I1, fh", "I1, tl", "I2, fh", "I2, tl", "O, fh", "O, tl", "O, fl", "O, th"]
    memories: dict[str, dict] = {}
    stationary = STATIONARY[hw["dataflow"]]
    for op in ("W", "I", "O"):
        served = [d for d, dim in (("D1", shape["col_dim"]), ("D2", shape["row_dim"])) if dim not in RELEVANT[op]]
        bits = psum_bits if op == "O" else BITS_PER_WORD
        # stationary_words: words of the stationary operand per PE register (default 2: active +
        # shadow); the template's 32-byte register per MAC holds 32 INT8 words.
        words = int(hw.get("stationary_words", 2)) if op == stationary else 1
        memories[f"reg_{op}"] = _register(words * bits, MEM_OP[op], served, reg_pj * bits / BITS_PER_WORD, bits)
    memories["l2"] = sram(int(hw["l2_kib"]) * 1024 * 8, l2_ports, "l2_pj_per_bit")
    if int(hw["glb_kib"]):
        memories["glb"] = sram(int(hw["glb_kib"]) * 1024 * 8, glb_ports, "glb_pj_per_bit")
    memories["dram"] = {
        "size": 8 * 2**33,
        "r_cost": float(hw["dram_pj_per_bit"]) * dram_bits,  # per dram_bits-wide access
        "w_cost": float(hw["dram_pj_per_bit"]) * dram_bits,
        "area": 0,
        "latency": 1,
        "operands": ["I1", "I2", "O"],
        "ports": [_port("rw_port_1", "read_write", dram_bits, all_dirs)],
        "served_dimensions": ["D1", "D2"],
    }
    return {
        "name": hw["name"],
        "memories": memories,
        "operational_array": {
            "input_precision": [BITS_PER_WORD, BITS_PER_WORD],
            "unit_energy": float(hw["mac_pj"]),
            "unit_area": 1,
            "dimensions": ["D1", "D2"],
            "sizes": [shape["cols"], shape["rows"]],
            # Operands move one PE per cycle along both dimensions: ZigZag adds one drain of
            # (cols-1)+(rows-1) cycles per layer (not per fold) and no energy for the hops.
            "systolic_dimensions": ["D1", "D2"] if hw.get("systolic", True) else [],
        },
    }


def mapping(hw: dict) -> list[dict]:
    """The dataflow's spatial unrolling (columns = D1, rows = D2); ZigZag searches the temporal loops."""
    shape = array_shape(hw)
    return [
        {
            "name": "default",
            "spatial_mapping": {"D1": [f"{shape['col_dim']}, {shape['cols']}"], "D2": [f"{shape['row_dim']}, {shape['rows']}"]},
            "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"},
        }
    ]


def workload(gemm: dict, psum_bits: int) -> list[dict]:
    """(M x K) . (K x N) as ZigZag's Gemm: B = M tokens, K = N outputs, C = K reduction."""
    return [
        {
            "id": 0,
            "name": gemm.get("name", "gemm"),
            "operator_type": "Gemm",
            "equation": "O[b][k]+=W[k][c]*I[b][c]",
            "dimension_relations": [],
            "loop_dims": ["B", "K", "C"],
            "loop_sizes": [int(gemm["m"]), int(gemm["n"]), int(gemm["k"])],
            "operand_precision": {"W": BITS_PER_WORD, "I": BITS_PER_WORD, "O": psum_bits, "O_final": BITS_PER_WORD},
            "operand_source": {"I": 0, "W": 0},
        }
    ]


def write_inputs(job: dict, yaml_dir: Path) -> tuple[Path, Path, Path]:
    yaml_dir.mkdir(parents=True, exist_ok=True)
    hw = job["hw"]
    tag = f"{hw['name']}_{hw['dataflow']}_{hw['orientation']}" + (f"_reg{int(hw['stationary_words'])}" if "stationary_words" in hw else "")
    acc = yaml_dir / f"accelerator_{tag}_psum{int(hw['psum_bits'])}.yaml"
    mp = yaml_dir / f"mapping_{tag}.yaml"
    wl = yaml_dir / f"workload_{job['gemm']['name']}_psum{int(hw['psum_bits'])}.yaml"
    header = "# Written by benchmarks/bench_zigzag.py (benchmarks/zigzag_hw/run_zigzag.py); do not edit.\n"
    for path, data in ((acc, accelerator(hw)), (mp, mapping(hw)), (wl, workload(job["gemm"], int(hw["psum_bits"])))):
        text = header + yaml.safe_dump(data, sort_keys=False)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return acc, mp, wl


# --------------------------------------------------------------------------- running ZigZag
def _mem_names(cme) -> dict:
    """Memory-level names per layer operand, innermost first (the order of mem_energy_breakdown)."""
    out = {}
    hierarchy = cme.accelerator.memory_hierarchy
    for layer_op in cme.mem_energy_breakdown:
        mem_op = cme.memory_operand_links.layer_to_mem_op(layer_op)
        out[layer_op] = [lvl.name for lvl in hierarchy.get_memory_levels(mem_op)]
    return out


def run_one(job: dict, yaml_dir: str) -> dict:
    logging.disable(logging.CRITICAL)
    from zigzag.api import get_hardware_performance_zigzag

    acc, mp, wl = write_inputs(job, Path(yaml_dir))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zigzag-out-") as dump:
        energy, latency, cmes = get_hardware_performance_zigzag(
            str(wl),
            str(acc),
            str(mp),
            opt=job.get("opt", "EDP"),
            dump_folder=dump,
            lpf_limit=int(job.get("lpf_limit", 6)),
            loma_show_progress_bar=False,
        )
    wall = time.perf_counter() - t0
    cme = cmes[0][1][0][0]  # the one layer's cost-model evaluation
    names = _mem_names(cme)
    energy_by_memory: dict[str, float] = {}
    for layer_op, per_level in cme.mem_energy_breakdown.items():
        for name, e in zip(names[layer_op], per_level):
            energy_by_memory[name] = energy_by_memory.get(name, 0.0) + float(e)
    accesses = {}
    for layer_op, per_level in cme.memory_word_access.items():
        for name, acc4 in zip(names[layer_op], per_level):
            accesses[f"{layer_op}@{name}"] = {str(k): float(acc4.get(k)) for k in acc4.data}
    per_access = {}
    for level in cme.accelerator.memory_hierarchy.topological_sort():
        inst = level.memory_instance
        width = max(p.bw_max for p in inst.ports)
        per_access[level.name] = {"r_pj": float(inst.r_cost), "w_pj": float(inst.w_cost), "port_bits": int(width)}
    return {
        "name": job["name"],
        "hw": job["hw"]["name"],
        "dataflow": job["hw"]["dataflow"],
        "orientation": job["hw"]["orientation"],
        "gemm": job["gemm"],
        "latency_cycles": float(latency),
        "energy_pj": float(energy),
        "ideal_cycles": float(cme.ideal_cycle),
        "ideal_temporal_cycles": float(cme.ideal_temporal_cycle),
        "stall_cycles": float(cme.stall_slack_comb),
        "onloading_cycles": float(cme.data_onloading_cycle),
        "offloading_cycles": float(cme.data_offloading_cycle),
        "systolic_drain_cycles": float(getattr(cme, "systolic_drain_cycle", 0.0)),
        "mac_utilization": float(cme.mac_utilization2),
        "spatial_utilization": float(cme.mac_spatial_utilization),
        "mac_energy_pj": float(cme.mac_energy),
        "energy_by_memory_pj": energy_by_memory,
        "accesses": accesses,
        "per_access_energy": per_access,
        "temporal_mapping": str(cme.temporal_mapping),
        "spatial_mapping": str(cme.layer.spatial_mapping),
        "wall_s": wall,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[1]).read_text())
    jobs, yaml_dir = spec["jobs"], spec["yaml_dir"]
    logging.disable(logging.CRITICAL)
    # CACTI results are cached in one YAML file inside the installed package: fill that cache
    # serially (one parse per accelerator) before any parallel run touches it.
    from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage

    seen = set()
    for job in jobs:
        key = json.dumps(job["hw"], sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        acc, _, _ = write_inputs(job, Path(yaml_dir))
        t0 = time.perf_counter()
        AcceleratorParserStage.parse_accelerator(str(acc))
        print(f"[zigzag] {job['hw']['name']}: accelerator parsed (CACTI) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    workers = max(1, int(spec.get("workers", 1)))
    results: list[dict] = []
    if workers == 1:
        for job in jobs:
            results.append(run_one(job, yaml_dir))
            print(f"[zigzag] {job['name']}: {results[-1]['latency_cycles']:.0f} cycles in {results[-1]['wall_s']:.1f} s", file=sys.stderr)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(run_one, job, yaml_dir) for job in jobs]
            for job, fut in zip(jobs, futures):
                results.append(fut.result())
                print(f"[zigzag] {job['name']}: {results[-1]['latency_cycles']:.0f} cycles in {results[-1]['wall_s']:.1f} s", file=sys.stderr)
    for r in results:
        if not (math.isfinite(r["latency_cycles"]) and math.isfinite(r["energy_pj"])):
            raise SystemExit(f"ZigZag returned a non-finite result for {r['name']}")
    out = {"zigzag_version": metadata.version("zigzag-dse"), "results": results}
    Path(argv[2]).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
