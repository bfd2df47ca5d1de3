"""Run AccelForge (PyPI `accelforge` 1.0.467) on GEMMs for one cluster of our template; runs INSIDE its venv.

Called by benchmarks/validation/run_oracles.py through a subprocess. Nothing of AccelForge is
copied here: this file writes AccelForge's inputs (architecture and workload YAML, under
benchmarks/validation/accelforge_inputs/) and reads its outputs.

    python run_accelforge.py JOBS.json RESULTS.json

The architecture is the template as specified, with the semantics of our strict setting:
  DRAM  one read/write bus of dram_bw words per cycle (reads and writes share it);
  GLB   glb_kib, separate read and write ports of glb_bw words per cycle;
        every tensor passes through it (keep: All), as in our model;
  L2    l2_kib (every tensor passes through it: no bypass to the GLB); its GLB side is
        limited by the GLB's ports, as in our model;
  L2Link  a Toll between the L2 and the PE array: ONE shared link of l2_bw words per cycle
        that carries inputs, weights and partial sums in both directions (latency = every word
        crossing it / l2_bw; its energy is the L2's, charged there);
  PE    pe_depth x pe_width MACs (orientation "depth_rows"; "width_rows" is the transpose): the
        input is broadcast along a row (reuse input), partial sums reduce down a column (reuse
        output), weight-stationary;
  Register  register_bytes per MAC holding weights only (the template's 32 B register);
  MAC   one MAC per PE per cycle.
AccelForge's mapper (FFM) chooses the tiling and loop order itself, minimising latency (its
default objective is energy, which picks slower mappings; ours minimises cycles, ties to the
lower energy). Energies are ours (pJ per 8-bit word / 8 per bit; AccelForge counts actions in
bits), so energy differences are traffic differences.
"""

from __future__ import annotations

import json
import sys
import time
from importlib import metadata
from pathlib import Path

ARCH = """# Written by benchmarks/validation/run_accelforge.py; do not edit.
arch:
  nodes:
  - !Memory
    name: DRAM
    size: inf
    leak_power: 0
    area: 0
    total_latency: sum(a.n_calls / a.throughput for a in actions)
    actions:
    - {{name: read, energy: {dram_pj_bit}, throughput: {dram_bits}}}
    - {{name: write, energy: {dram_pj_bit}, throughput: {dram_bits}}}
    tensors: {{keep: ~Intermediates, may_keep: All}}
  - !Memory
    name: GLB
    size: {glb_bits}
    leak_power: 0
    area: 0
    total_latency: max(a.n_calls / a.throughput for a in actions)
    actions:
    - {{name: read, energy: {glb_read_pj_bit}, throughput: {glb_port_bits}}}
    - {{name: write, energy: {glb_write_pj_bit}, throughput: {glb_port_bits}}}
    tensors: {{keep: All}}
  - !Memory
    name: L2
    size: {l2_bits}
    leak_power: 0
    area: 0
    total_latency: 0
    actions:
    - {{name: read, energy: {l2_read_pj_bit}, throughput: inf}}
    - {{name: write, energy: {l2_write_pj_bit}, throughput: inf}}
    tensors: {{keep: All}}
  - !Toll
    name: L2Link
    leak_power: 0
    area: 0
    direction: up_and_down
    total_latency: sum(a.n_calls / a.throughput for a in actions)
    actions:
    - {{name: read, energy: 0, throughput: {l2_link_bits}}}
    tensors: {{keep: All}}
  - !Container
    name: PE
    spatial:
    - {{name: cols, fanout: {cols}, reuse: input}}
    - {{name: rows, fanout: {rows}, reuse: output}}
  - !Memory
    name: Register
    size: {register_bits}
    leak_power: 0
    area: 0
    actions:
    - {{name: read, energy: {reg_pj_bit}, throughput: inf}}
    - {{name: write, energy: {reg_pj_bit}, throughput: inf}}
    tensors: {{keep: weight}}
  - !Compute
    name: MAC
    leak_power: 0
    area: 0
    actions:
    - {{name: compute, energy: {mac_pj}, throughput: 1}}
"""

WORKLOAD = """# Written by benchmarks/validation/run_accelforge.py; do not edit.
workload:
  iteration_space_shape:
    m: 0 <= m < {m}
    k: 0 <= k < {k}
    n: 0 <= n < {n}
  bits_per_value: {{All: 8}}
  einsums:
  - name: {name}
    tensor_accesses:
    - {{name: A, projection: [m, k]}}
    - {{name: B, projection: [k, n]}}
    - {{name: C, projection: [m, n], output: True}}
    renames: {{weight: B, input: A, output: C}}
"""

BITS = 8
# FFM.explore_imperfect_spatial_loops / _temporal_loops: let the outermost loop of a rank leave a
# partial last tile, as the hardware's last fold does (our mapper and ZigZag pad the last fold too).
IMPERFECT_SPATIAL = True
IMPERFECT_TEMPORAL = False



def write_inputs(job: dict, inputs_dir: Path) -> tuple[Path, Path]:
    hw, g = job["hw"], job["gemm"]
    rows, cols = (hw["pe_depth"], hw["pe_width"]) if hw["orientation"] == "depth_rows" else (hw["pe_width"], hw["pe_depth"])
    arch = ARCH.format(
        dram_pj_bit=hw["dram_pj"] / BITS, dram_bits=hw["dram_bw"] * BITS,
        glb_bits=hw["glb_kib"] * 1024 * BITS, glb_read_pj_bit=hw["glb_read_pj"] / BITS,
        glb_write_pj_bit=hw["glb_write_pj"] / BITS, glb_port_bits=hw["glb_bw"] * BITS,
        l2_bits=hw["l2_kib"] * 1024 * BITS, l2_read_pj_bit=hw["l2_read_pj"] / BITS,
        l2_write_pj_bit=hw["l2_write_pj"] / BITS, l2_link_bits=hw["l2_bw"] * BITS,
        cols=cols, rows=rows, register_bits=hw["register_bytes"] * BITS, reg_pj_bit=hw["reg_pj"] / BITS,
        mac_pj=hw["mac_pj"],
    )
    inputs_dir.mkdir(parents=True, exist_ok=True)
    a = inputs_dir / f"arch_{hw['name']}_{hw['orientation']}.yaml"
    w = inputs_dir / f"workload_{g['name']}.yaml"
    for path, text in ((a, arch), (w, WORKLOAD.format(**g))):
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return a, w


def run_one(job: dict, inputs_dir: Path) -> dict:
    import accelforge as af

    arch, wl = write_inputs(job, inputs_dir)
    t0 = time.perf_counter()
    spec = af.Spec.from_yaml(str(arch), str(wl))
    # Our mapper's objective: fewest cycles, ties to the lower energy. FFM keeps the (latency,
    # energy) Pareto set; the fastest of it, then the cheapest, is taken below (latency alone
    # would keep an arbitrary one of the equally fast mappings, whatever its traffic).
    spec.mapper.metrics = af.Metrics.LATENCY | af.Metrics.ENERGY
    # A loop bound may leave a partial last tile (FFM's documented options; off by default, when
    # a prime bound such as 197 can only be split 1 x 197 and lands on one line of PEs).
    spec.mapper.explore_imperfect_spatial_loops = IMPERFECT_SPATIAL
    spec.mapper.explore_imperfect_temporal_loops = IMPERFECT_TEMPORAL
    res = spec.map_workload_to_arch(print_progress=False)
    wall = time.perf_counter() - t0
    if len(res) > 1:
        lat, en = res["Total<SEP>latency"].astype(float), res["Total<SEP>energy"].astype(float)
        res = res[min(range(len(res)), key=lambda i: (lat.iloc[i], en.iloc[i]))]
    d = res.to_dict()
    g, hw = job["gemm"], job["hw"]
    macs = g["m"] * g["k"] * g["n"]
    latency = float(d["Total<SEP>latency"])
    mac_energy = sum(float(v) for key, v in d.items() if "<SEP>energy<SEP>MAC<SEP>" in key)
    return {"name": job["name"], "latency_cycles": latency, "energy_pj": float(d["Total<SEP>energy"]),
            "mac_energy_pj": mac_energy, "utilisation": macs / (latency * hw["pe_width"] * hw["pe_depth"]),
            "wall_s": round(wall, 2),
            "latency_by_level": {key.split("<SEP>")[-1]: float(v) for key, v in d.items() if "<SEP>latency<SEP>" in key},
            "actions": {key.split("<SEP>", 2)[-1]: float(v) for key, v in d.items() if "<SEP>action<SEP>" in key}}


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[1]).read_text())
    inputs_dir = Path(spec["inputs_dir"])
    results = []
    for job in spec["jobs"]:
        results.append(run_one(job, inputs_dir))
        print(f"[accelforge] {job['name']}: {results[-1]['latency_cycles']:.0f} cycles in {results[-1]['wall_s']:.1f} s", file=sys.stderr, flush=True)
    Path(argv[2]).write_text(json.dumps({"version": metadata.version("accelforge"), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
