"""Regression cases of the cost model: diverse inputs and every output field, for the speed work.

The expected values live in regression_expected.npz beside this file, written by this module
from the code of the day (`python tests/hw_models/_regression_cases.py --write`). Regenerate
them only from code whose results are meant to change (a model change on main), never to make
an optimisation pass: test_hw_regression.py compares every field at rtol 1e-9.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterator

import numpy as np

from hw_models import Gemm, HardwareBatch, VectorOp, Workload, evaluate_cost, map_gemm, reference_grid
from hw_models.config import L2_LINKS, REGISTER_OPERANDS

EXPECTED = Path(__file__).with_name("regression_expected.npz")
PROFILES: tuple[str, ...] = ("reference", "catransformers-code")
# Register sizes in bytes (= words at INT8): one word, non-powers of two, the reference's 32, more.
REGISTER_BYTES: tuple[int, ...] = (1, 2, 3, 8, 32, 48, 64)
SUBSET = 64  # grid designs per setting combination
PAIRS = 2000  # zip-broadcast (model, design) pairs
FEW_HW_PAIRS, FEW_HW = 4500, 24  # pruned models on a few designs: (shape, design) pairs repeat
OP_COLUMNS = 48  # designs per case whose per-op rows are stored (evenly spaced); totals are stored for all


def _models() -> dict[str, Workload]:
    from catransformers.workloads import get_model, lower, prune, pruning_space

    vit = get_model("vit-b-16")
    pruned = prune(vit, {v.name: v.values[len(v.values) // 3] for v in pruning_space(vit).variables}, name="vit-pruned")
    return {
        "vit-b-16": lower(vit),
        "vit-pruned": lower(pruned),
        "tinyclip-8m-16": lower(get_model("tinyclip-8m-16")),
        "bert-base": lower(get_model("bert-base")),
        "llama-3-8b": lower(get_model("llama-3-8b")),
    }


def _pruned_batch(n: int, rng: np.random.Generator) -> Workload:
    """n random pruned ViT-B-16 CLIP models of the shipped pruning space, as one zip workload."""
    from catransformers.workloads import get_model, lower, prune_batch, pruning_space

    vit = get_model("vit-b-16")
    draws = {v.name: rng.choice(np.asarray(v.values), n) for v in pruning_space(vit).variables}
    return lower(prune_batch(vit, draws))


def _odd_gemms(n: int, rng: np.random.Generator) -> Workload:
    """Random small and odd GEMM shapes (tiny folds, batches, M = 1), one per design (zip)."""
    ops = []
    for i, hi in enumerate((3, 9, 70, 700, 5000)):
        m, k, nn = (rng.integers(1, hi + 1, n) for _ in range(3))
        batch = rng.integers(1, 20, n) if i % 2 else 1
        ops.append(Gemm(f"g{i}", m, k, nn, batch=batch, repeat=rng.integers(1, 4, n)))
    ops.append(VectorOp("v", "softmax", rng.integers(1, 10**6, n), row=rng.integers(1, 500, n)))
    return Workload(tuple(ops), name="odd")


def _with(hw: HardwareBatch, **fields) -> HardwareBatch:
    values = hw.as_dict()
    values.update(fields)
    return HardwareBatch(**values)


def _random_settings(hw: HardwareBatch, rng: np.random.Generator) -> HardwareBatch:
    n = len(hw)
    return _with(
        hw,
        pe_register_bytes=rng.choice(REGISTER_BYTES, n),
        pe_register_operands=rng.choice(REGISTER_OPERANDS, n),
        edge_latch=rng.integers(0, 2, n).astype(bool),
        l2_link=rng.choice(L2_LINKS, n),
    )


def cases() -> Iterator[tuple[str, Workload, HardwareBatch, str, bool]]:
    """(name, workload, hardware, profile, per-op rows stored) of every case, deterministic."""
    models = _models()
    rng = np.random.default_rng(11)
    grid = reference_grid()
    subset = grid.take(np.sort(rng.choice(len(grid), SUBSET, replace=False)))
    # Pruned models, zip-broadcast against random designs (plain, and with random settings).
    pruned = _pruned_batch(PAIRS, rng)
    pair_hw = _random_settings(grid.take(rng.integers(0, len(grid), PAIRS)), rng)
    pair_plain = grid.take(rng.integers(0, len(grid), PAIRS))
    odd = _odd_gemms(PAIRS, rng)
    odd_hw = _random_settings(grid.take(rng.integers(0, len(grid), PAIRS)), rng)
    mixed = _random_settings(grid, rng)
    few = _random_settings(grid.take(rng.choice(len(grid), FEW_HW, replace=False)), rng)
    few_hw = few.take(rng.integers(0, FEW_HW, FEW_HW_PAIRS))
    few_models = _pruned_batch(FEW_HW_PAIRS, rng)
    for profile in PROFILES:
        for name, wl in models.items():
            yield f"{profile}/grid/{name}", wl, grid, profile, True
        yield f"{profile}/grid-mixed/vit-b-16", models["vit-b-16"], mixed, profile, True
        yield f"{profile}/pairs/pruned-plain", pruned, pair_plain, profile, True
        yield f"{profile}/pairs/pruned-settings", pruned, pair_hw, profile, True
        yield f"{profile}/pairs/odd-gemms", odd, odd_hw, profile, True
        yield f"{profile}/pairs/pruned-few-designs", few_models, few_hw, profile, True
        for reg in REGISTER_BYTES:
            for operands in REGISTER_OPERANDS:
                for latch in (False, True):
                    for link in L2_LINKS:
                        hw = _with(subset, pe_register_bytes=reg, pe_register_operands=operands, edge_latch=latch, l2_link=link)
                        tag = f"reg{reg}-{operands}-latch{int(latch)}-{link}"
                        for name in ("vit-pruned", "llama-3-8b"):
                            yield f"{profile}/settings/{tag}/{name}", models[name], hw, profile, False


def detail_cases() -> Iterator[tuple[str, Gemm, HardwareBatch, str]]:
    """(name, GEMM, hardware, profile) whose map_gemm detail (the chosen mapping) is compared."""
    rng = np.random.default_rng(12)
    grid = reference_grid()
    hw = _random_settings(grid.take(rng.integers(0, len(grid), 600)), rng)
    gemms = (
        Gemm("qkv", 197, 768, 2304),
        Gemm("attn_qk", 197, 64, 197, batch=12),
        Gemm("head", 1, 768, 512),
        Gemm("tiny", 2, 3, 5, batch=3),
        Gemm("llama_ffn", 512, 4096, 14336),
    )
    for profile in PROFILES:
        for g in gemms:
            yield f"{profile}/detail/{g.name}", g, hw, profile


def outputs(wl: Workload, hw: HardwareBatch, profile: str, per_op: bool) -> dict[str, np.ndarray]:
    """Every array field of the CostReport (per-op rows on OP_COLUMNS designs, if per_op)."""
    rep = evaluate_cost(wl, hw, profile=profile)
    out = {f: np.asarray(getattr(rep, f), np.float64) for f in ("latency_s", "energy_j", "area_um2", "area_mm2", "tops", "macs")}
    cols = op_columns(len(rep)) if per_op else np.zeros(0, np.int64)
    out.update({f: np.asarray(getattr(rep, f), np.float64)[:, cols] for f in ("op_latency_s", "op_energy_j", "op_cycles")})
    out.update({f"energy.{k}": np.asarray(v, np.float64) for k, v in rep.energy_by_component.items()})
    return out


def op_columns(n: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, OP_COLUMNS)).round().astype(np.int64))


def detail_outputs(g: Gemm, hw: HardwareBatch, profile: str) -> dict[str, np.ndarray]:
    res = map_gemm(g, hw, profile=profile, detail=True)
    out = {f: np.asarray(getattr(res, f), np.float64) for f in ("cycles", "macs", "l2_pj", "glb_pj", "dram_pj")}
    out.update({f"detail.{k}": np.asarray(v, np.float64) for k, v in res.detail.items()})
    return out


def all_outputs() -> Iterator[tuple[str, dict[str, np.ndarray]]]:
    for name, wl, hw, profile, per_op in cases():
        yield name, outputs(wl, hw, profile, per_op)
    for name, g, hw, profile in detail_cases():
        yield name, detail_outputs(g, hw, profile)


def pack(items: Iterator[tuple[str, dict[str, np.ndarray]]]) -> dict[str, np.ndarray]:
    """Outputs as three arrays (few zip members compress far better than thousands):
    `keys` ("case:field"), `offsets` into `values`, and `values` (all fields flattened, float64)."""
    keys, parts = [], []
    for name, values in items:
        for field, value in values.items():
            keys.append(f"{name}:{field}")
            parts.append(np.asarray(value, np.float64).ravel())
    offsets = np.cumsum([0] + [p.size for p in parts])
    return {"keys": np.array(keys), "offsets": offsets, "values": np.concatenate(parts)}


def unpack(packed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    keys, off, values = packed["keys"], packed["offsets"], packed["values"]
    return {str(k): values[off[i] : off[i + 1]] for i, k in enumerate(keys)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {EXPECTED.name} from the code on the path")
    args = parser.parse_args()
    import hw_models

    packed = pack(all_outputs())
    print(f"{len(packed['keys'])} arrays, {packed['values'].size:,} values from {Path(hw_models.__file__).parent}")
    if args.write:
        np.savez_compressed(EXPECTED, **packed)
        print(f"wrote {EXPECTED} ({EXPECTED.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    sys.exit(main())
