"""pymoo algorithms for index-encoded designs: NSGA-II (<= 2 objectives) or NSGA-III, integer operators."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pymoo.core.mating import Mating
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair
from pymoo.operators.sampling.rnd import IntegerRandomSampling
from pymoo.operators.selection.tournament import TournamentSelection

from ..errors import ConfigError
from .problem import ArchiveDuplicates

__all__ = ["build_algorithm", "resolve_algorithm", "reference_directions", "OPERATORS"]

# Integer variables as indices: SBX and polynomial mutation on the real line, rounded back
# (pymoo's recipe for integer problems). The distribution indices are low because each
# variable has only 3 to 7 values: with the usual eta 15-20 the rounded child almost always
# equals a parent. Tuned on the carbon mode (docs/search.md, benchmarks/bench_search.py).
OPERATORS = {
    "crossover_prob": 0.9,
    "crossover_eta": 3.0,
    "mutation_prob": 1.0,  # per individual; each variable mutates with probability 1/n_var
    "mutation_eta": 3.0,
}


def resolve_algorithm(name: str, n_obj: int) -> str:
    if name == "auto":
        return "nsga2" if n_obj <= 2 else "nsga3"
    if name not in ("nsga2", "nsga3", "random"):
        raise ConfigError(f"search.algorithm: {name!r} is unknown; allowed: auto, nsga2, nsga3, random")
    return name


def reference_directions(n_obj: int, population: int) -> np.ndarray:
    """Das-Dennis directions, as many as fit the population (at least the m unit vectors)."""
    from pymoo.util.ref_dirs import get_reference_directions  # 0.2 s of imports: NSGA-III only

    p = 1
    while math.comb(p + 1 + n_obj - 1, n_obj - 1) <= population:
        p += 1
    return get_reference_directions("das-dennis", n_obj, n_partitions=p)


# Children mated per round, as a multiple of the population: with 1.5 one round almost
# always leaves enough new designs after duplicate elimination (measured: 99 rounds in 99
# generations of the default search, against 198 rounds at 1.0).
OVERSAMPLE = 1.5


class _OversampledMating(Mating):
    """Mates OVERSAMPLE x population children per round, so that the rounds needed to fill
    the offspring after duplicate elimination stay few (pymoo asks for only the missing
    number each round, and each round costs a full pass of its per-individual bookkeeping)."""

    def _do(self, problem: Any, pop: Any, n_offsprings: int, **kwargs: Any) -> Any:
        return super()._do(problem, pop, max(n_offsprings, int(OVERSAMPLE * len(pop))), **kwargs)


def _tournament_nsga2(pop: Any, P: np.ndarray, random_state: Any = None, **kwargs: Any) -> np.ndarray:
    """pymoo's NSGA-II binary tournament on a pymoo population (see binary_tournament)."""
    F, CV, crowding = pop.get("F", "CV", "crowding")
    crowding = np.array([0.0 if c is None else c for c in crowding], dtype=float) if crowding.dtype == object else crowding.astype(float)
    return binary_tournament(F, CV[:, 0], crowding, P, random_state)[:, None]


def binary_tournament(F: np.ndarray, cv: np.ndarray, crowding: np.ndarray, P: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """pymoo's NSGA-II binary tournament, vectorised: the winner of each pair of rows P[i] by
    constraint violation, then Pareto dominance, then crowding distance, then a coin (drawn from `rng`)."""
    a, b = P[:, 0], P[:, 1]
    coin = rng.random(len(P)) < 0.5
    S = np.where(coin, a, b)
    infeasible = (cv[a] > 0) | (cv[b] > 0)
    S = np.where(infeasible & (cv[a] < cv[b]), a, S)
    S = np.where(infeasible & (cv[b] < cv[a]), b, S)
    Fa, Fb = F[a], F[b]
    a_dom = np.all(Fa <= Fb, axis=1) & np.any(Fa < Fb, axis=1)
    b_dom = np.all(Fb <= Fa, axis=1) & np.any(Fb < Fa, axis=1)
    feasible = ~infeasible
    undecided = feasible & ~a_dom & ~b_dom
    S = np.where(feasible & a_dom, a, S)
    S = np.where(feasible & b_dom, b, S)
    S = np.where(undecided & (crowding[a] > crowding[b]), a, S)
    S = np.where(undecided & (crowding[b] > crowding[a]), b, S)
    return S.astype(int)


def _tournament_cv(pop: Any, P: np.ndarray, random_state: Any = None, **kwargs: Any) -> np.ndarray:
    """NSGA-III's tournament, vectorised: lower constraint violation wins, else a coin."""
    cv = pop.get("CV")[:, 0]
    a, b = P[:, 0], P[:, 1]
    coin = random_state.random(len(P)) < 0.5
    S = np.where(coin, a, b)
    infeasible = (cv[a] > 0) | (cv[b] > 0)
    S = np.where(infeasible & (cv[a] < cv[b]), a, S)
    S = np.where(infeasible & (cv[b] < cv[a]), b, S)
    return S[:, None].astype(int)


def build_algorithm(name: str, n_obj: int, population: int, offspring: int | None = None) -> Any:
    """A configured pymoo algorithm (not yet set up); `name` is nsga2, nsga3 or auto; `offspring`
    children per generation (pymoo's n_offsprings; default: the population size)."""
    # pymoo's algorithm modules import scipy.spatial (0.2 s): on use only. The runner drives
    # NSGA-II through nsga2.ArrayNSGA2 (the same designs as this one, tested) and NSGA-III through this.
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.algorithms.moo.nsga3 import NSGA3

    name = resolve_algorithm(name, n_obj)
    dedupe = ArchiveDuplicates()
    crossover = SBX(prob=OPERATORS["crossover_prob"], eta=OPERATORS["crossover_eta"], vtype=float, repair=RoundingRepair())
    mutation = PM(prob=OPERATORS["mutation_prob"], eta=OPERATORS["mutation_eta"], vtype=float, repair=RoundingRepair())
    if name == "nsga2":
        selection = TournamentSelection(func_comp=_tournament_nsga2)
        algorithm = NSGA2(pop_size=population, n_offsprings=offspring, sampling=IntegerRandomSampling(), selection=selection, crossover=crossover, mutation=mutation, eliminate_duplicates=dedupe)
    else:
        selection = TournamentSelection(func_comp=_tournament_cv)
        ref_dirs = reference_directions(n_obj, population)
        algorithm = NSGA3(ref_dirs=ref_dirs, pop_size=max(population, len(ref_dirs)), n_offsprings=offspring, sampling=IntegerRandomSampling(), selection=selection, crossover=crossover, mutation=mutation, eliminate_duplicates=dedupe)
    algorithm.mating = _OversampledMating(selection, crossover, mutation, repair=algorithm.repair, eliminate_duplicates=dedupe, n_max_iterations=100)
    return algorithm


def duplicates_of(algorithm: Any) -> ArchiveDuplicates:
    return algorithm.eliminate_duplicates
