"""The array NSGA-II gives pymoo's NSGA2 run design for design (same seed, same operators), and its crowding distance is Deb's."""

from __future__ import annotations

import numpy as np
import pytest

import catransformers.search.nsga2 as N
from catransformers.search import load_spec, run_search, runner
from catransformers.search.nsga2 import constraint_violation, crowding_distance

# 3 x 3 x 2 models x 2 accelerators = 36 designs: runs out of new designs within a few generations
TINY = {
    "space.vision_layers": [10, 12], "space.text_layers": [10, 12], "space.vision_heads": 12, "space.text_heads": 8,
    "space.vision_ffn_blocks": [7, 8], "space.text_ffn_blocks": 8, "space.vision_emb_blocks": 8, "space.text_emb_blocks": 8,
    "hardware.axes.clusters": [1], "hardware.axes.pe_width": [32, 64], "hardware.axes.pe_depth": [16],
    "hardware.axes.l2_sram_kb": [64], "hardware.axes.l2_bw": [32],
}


def _run(overrides, pymoo: bool, monkeypatch):
    if pymoo:  # the runner's NSGA-II slot filled by pymoo's NSGA2, configured by algorithms.build_algorithm
        monkeypatch.setattr(N, "ArrayNSGA2", lambda archive, pop, off, seed: runner._PymooDriver(archive, "nsga2", len(archive.objectives), pop, off, seed))
    try:
        return run_search(load_spec(overrides=overrides), None)
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("overrides", [
    {"search.population": 16, "search.generations": 6},  # default offspring (2 x population)
    {"search.population": 12, "search.offspring": 7, "search.generations": 6, "search.seed": 3},
    {"search.population": 16, "search.generations": 5, "constraints.tops": 2.0, "constraints.area_um2": 5e6},  # many infeasible
    {"search.population": 8, "search.generations": 4, "constraints.latency_s": 1e-6},  # nothing feasible
    {"search.mode": "latency", "search.population": 20, "search.generations": 5, "search.seed": 2},
    {**TINY, "search.population": 10, "search.generations": 30},  # every design evaluated before the end
])
def test_array_nsga2_asks_for_the_designs_pymoo_asks_for(overrides, monkeypatch):
    ours = _run(overrides, False, monkeypatch)
    theirs = _run(overrides, True, monkeypatch)
    cols = [*ours.setup.space.columns, "generation"]
    assert ours.setup.method == "nsga2"
    assert ours.evaluations[cols].equals(theirs.evaluations[cols])
    assert ours.hypervolume == theirs.hypervolume and ours.run["stopped"] == theirs.run["stopped"]


def test_the_default_search_imports_no_pymoo_algorithm_module():
    import subprocess
    import sys

    code = ("import sys, logging; logging.disable(logging.WARNING)\n"
            "from catransformers.search import load_spec, run_search\n"
            "run_search(load_spec(overrides={'search.population': 8, 'search.generations': 2}), None)\n"
            "print(sorted(m for m in sys.modules if m.startswith(('pymoo.algorithms', 'scipy.spatial', 'pymoo.util.ref_dirs'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_crowding_distance_by_hand():
    # four points on a line x + y = 3: ends infinite; inner ones (x gap + y gap) / range / 2 objectives
    F = np.array([[0.0, 3.0], [1.0, 2.0], [3.0, 0.0], [2.0, 1.0]])
    d = crowding_distance(F)
    assert np.isinf(d[[0, 2]]).all()
    assert d[1] == pytest.approx(((2 - 0) / 3 + (3 - 1) / 3) / 2)
    assert d[3] == pytest.approx(((3 - 1) / 3 + (2 - 0) / 3) / 2)
    # an objective with no range adds nothing, not even at its ends
    G = np.array([[0.0, 5.0], [1.0, 5.0], [4.0, 5.0]])
    assert crowding_distance(G).tolist() == [np.inf, pytest.approx((4 - 0) / 4 / 2), np.inf]
    assert crowding_distance(np.array([[1.0, 2.0], [2.0, 1.0]])).tolist() == [np.inf, np.inf]


def test_constraint_violation_sums_the_positive_parts():
    G = np.array([[-1.0, 0.0, 0.5], [2.0, 3.0, -4.0], [0.0, 0.0, 0.0]])
    assert constraint_violation(G).tolist() == [0.5, 5.0, 0.0]
