"""NSGA-II on arrays: pymoo's NSGA2 with this package's operators, generation for generation, without its per-individual objects."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .algorithms import OPERATORS, OVERSAMPLE, binary_tournament
from .archive import Archive

__all__ = ["ArrayNSGA2", "crowding_distance", "constraint_violation"]

# pymoo's infill loop gives up after this many mating rounds without filling the offspring
_MAX_MATING_ROUNDS = 100


def constraint_violation(G: np.ndarray) -> np.ndarray:
    """Total violation per design: the sum of the positive parts of the `g <= 0` columns (pymoo's default)."""
    return np.maximum(0.0, G).sum(axis=1) if G.shape[1] else np.zeros(len(G))


def crowding_distance(F: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance (Deb et al. 2002): per objective the gap between a point's two
    neighbours in sorted order over the objective's range, averaged over the objectives; the two
    ends of a sorted order are infinitely far, an objective with no range contributes nothing.
    Two or fewer points: all infinite. Each gap is summed as (own - previous) + (next - own),
    each part over the range, in objective order: the rounding of pymoo's 'cd', so that ties
    break the same way."""
    n, m = F.shape
    if n <= 2:
        return np.full(n, np.inf)
    d = np.zeros(n)
    with np.errstate(invalid="ignore"):
        for j in range(m):
            order = np.argsort(F[:, j], kind="mergesort")
            v = F[order, j]
            span = v[-1] - v[0]
            if span == 0:
                continue
            prev = np.empty(n)
            nxt = np.empty(n)
            prev[0] = np.inf
            prev[1:] = (v[1:] - v[:-1]) / span
            nxt[-1] = np.inf
            nxt[:-1] = (v[1:] - v[:-1]) / span
            d[order] += prev + nxt
    return d / m


class ArrayNSGA2:
    """NSGA-II (pymoo's `NSGA2` as `algorithms.build_algorithm` configures it, in the same order
    of random draws from the same generator, so the same seed gives the same designs; tested
    against pymoo) on plain arrays: the population is index rows X with F, CV and crowding.

    Generation 1 samples `population` designs; each later one mates `offspring` new designs
    (binary tournament, SBX, polynomial mutation, rounding, archive-aware duplicate
    elimination) and keeps the best `population` of parents and children by feasibility,
    constraint violation, non-domination rank and crowding distance.
    """

    def __init__(self, archive: Archive, population: int, offspring: int, seed: int) -> None:
        self.archive: Archive | None = archive
        self.population = population
        self.offspring = offspring
        self.rng = np.random.default_rng(seed)
        self.xl = np.zeros(archive.space.n_var)
        self.xu = archive.space.upper.astype(float)
        self.X = np.empty((0, archive.space.n_var), dtype=np.int64)
        self.F = np.empty((0, archive.n_obj))
        self.CV = np.empty(0)
        self.crowding = np.empty(0)

    def attach(self, archive: Archive) -> None:
        self.archive = archive

    # ------------------------------------------------------------------ one generation

    def step(self, generation: int, timings: dict[str, float]) -> bool:
        from ..timing import charge, now

        assert self.archive is not None
        t0 = now()
        X = self._sample() if generation == 1 else self._offspring()
        if len(X) == 0:
            charge(timings, "algorithm", t0)
            return False
        t1 = charge(timings, "algorithm", t0)
        Xi = np.clip(np.rint(X.astype(np.float64)), 0, self.xu).astype(np.int64)
        F, G = self.archive.evaluate(Xi, generation)
        t2 = charge(timings, "evaluate", t1)
        CV = constraint_violation(G)
        if generation == 1:
            self._survive(X, F, CV, len(X))
        else:
            self._survive(np.vstack([self.X, X]), np.vstack([self.F, F]), np.concatenate([self.CV, CV]), self.population)
        charge(timings, "algorithm", t2)
        return True

    def _sample(self) -> np.ndarray:
        X = np.column_stack([self.rng.integers(self.xl[k], self.xu[k] + 1, size=self.population) for k in range(len(self.xl))])
        return self._new(X, ())

    def _new(self, X: np.ndarray, blocked: tuple[np.ndarray, ...]) -> np.ndarray:
        """Rows of X not in `blocked`, not evaluated before, not repeated (problem.ArchiveDuplicates)."""
        assert self.archive is not None
        return X[self.archive.fresh(X, blocked)]

    def _offspring(self) -> np.ndarray:
        off = np.empty((0, len(self.xl)), dtype=np.int64)
        for _ in range(_MAX_MATING_ROUNDS):
            if len(off) >= self.offspring:
                break
            children = self._mate(max(self.offspring - len(off), int(OVERSAMPLE * len(self.X))))
            children = self._new(children, (self.X, off))
            off = np.vstack([off, children[: self.offspring - len(off)]])
        return off

    def _mate(self, n_children: int) -> np.ndarray:
        rng = self.rng
        n_matings = math.ceil(n_children / 2)
        n = len(self.X)
        n_random = n_matings * 2 * 2
        P = np.concatenate([rng.permutation(n) for _ in range(math.ceil(n_random / n))])[:n_random].reshape(n_matings * 2, 2)
        parents = self._tournament(P).reshape(n_matings, 2)
        X = np.swapaxes(self.X[parents], 0, 1).astype(float)  # (2, n_matings, n_var)
        children = np.around(self._crossover(X)).astype(int)
        return np.around(self._mutate(children)).astype(int)

    def _tournament(self, P: np.ndarray) -> np.ndarray:
        return binary_tournament(self.F, self.CV, self.crowding, P, self.rng)

    def _crossover(self, X: np.ndarray) -> np.ndarray:
        """pymoo's SBX (two children per mating, prob_var 0.5, prob_exch 1, prob_bin 0.5) applied
        with probability OPERATORS['crossover_prob'] per mating; children as rows, first children first."""
        from pymoo.operators.crossover.sbx import cross_sbx

        rng = self.rng
        _, n_matings, n_var = X.shape
        Xp = X.copy()
        cross = rng.random(n_matings) < OPERATORS["crossover_prob"]
        if cross.any():
            eta, prob_var, prob_bin = (np.full((n_matings, 1), v) for v in (OPERATORS["crossover_eta"], 0.5, 0.5))
            rand = rng.random((n_matings, 1))
            prob_bin[rand > 1.0] = 0.0
            Q = cross_sbx(X, self.xl, self.xu, eta, prob_var, prob_bin, random_state=rng)
            Xp[:, cross] = Q[:, cross]
        return Xp.reshape(-1, n_var)

    def _mutate(self, X: np.ndarray) -> np.ndarray:
        """pymoo's polynomial mutation, each variable with probability 1/n_var (at most 0.5)."""
        from pymoo.operators.mutation.pm import mut_pm

        rng = self.rng
        n = len(X)
        eta = np.full(n, OPERATORS["mutation_eta"])
        prob_var = np.full(n, min(0.5, 1 / len(self.xl)))
        Xp = mut_pm(X.astype(float), self.xl, self.xu, eta, prob_var, at_least_once=False, random_state=rng)
        mut = rng.random(size=n) <= OPERATORS["mutation_prob"]
        out = X.astype(float)
        out[mut] = Xp[mut]
        return out

    # ------------------------------------------------------------------ survival

    def _survive(self, X: np.ndarray, F: np.ndarray, CV: np.ndarray, n_survive: int) -> None:
        """Feasible designs first, by rank then crowding distance (the last front cut at random
        among equal distances); then infeasible ones by constraint violation."""
        n_survive = min(n_survive, len(X))
        feas = np.flatnonzero(CV <= 0.0)
        infeas = np.flatnonzero(CV > 0.0)
        infeas = infeas[np.argsort(CV[infeas])]
        crowding = np.zeros(len(X))  # an infeasible design's crowding decides no tournament
        survivors = self._rank_and_crowding(F[feas], min(len(feas), n_survive), crowding, feas) if len(feas) else []
        keep = np.concatenate([np.asarray(survivors, dtype=np.int64), infeas[: n_survive - len(survivors)]])
        self.X, self.F, self.CV, self.crowding = X[keep], F[keep], CV[keep], crowding[keep]

    def _rank_and_crowding(self, F: np.ndarray, n_survive: int, crowding: np.ndarray, index: np.ndarray) -> list[int]:
        from moocore import pareto_rank

        ranks = pareto_rank(F.astype(float))
        survivors: list[int] = []
        n_ranked = 0
        for r in range(int(ranks.max()) + 1):
            front = np.flatnonzero(ranks == r)
            n_ranked += len(front)
            if len(survivors) + len(front) > n_survive:
                n_remove = len(survivors) + len(front) - n_survive
                cd = crowding_distance(F[front].astype(np.double))
                P = self.rng.permutation(len(cd))
                order = np.flip(P[np.argsort(cd[P], kind="quicksort")])
                chosen = order[:-n_remove]
            else:
                cd = crowding_distance(F[front].astype(np.double))
                chosen = np.arange(len(front))
            crowding[index[front]] = cd
            survivors.extend(index[front[chosen]].tolist())
            if n_ranked >= n_survive:
                break
        return survivors
