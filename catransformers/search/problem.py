"""The one pymoo adapter: a vectorised Problem over index-encoded designs, backed by the Archive."""

from __future__ import annotations

from typing import Any

import numpy as np
from pymoo.core.duplicate import DuplicateElimination
from pymoo.core.problem import Problem

from .archive import Archive

__all__ = ["SearchProblem", "ArchiveDuplicates"]


class SearchProblem(Problem):
    """Whole-population evaluation: pymoo hands over X (n, n_var), the archive answers (F, G).

    Variables are indices into each variable's sorted values (0..len-1), so pymoo's integer
    operators work unchanged. All objectives are minimised (maximised metrics negated);
    constraints are `value / limit - 1 <= 0` plus one "evaluation failed" column.
    The archive is not pickled with the algorithm (checkpoints store its rows separately);
    `attach` reconnects it after a resume.
    """

    def __init__(self, archive: Archive) -> None:
        self.archive: Archive | None = archive
        self.generation = 0
        upper = archive.space.upper
        super().__init__(n_var=len(upper), n_obj=archive.n_obj, n_ieq_constr=archive.n_constr, xl=np.zeros(len(upper)), xu=upper.astype(float), vtype=int)

    def attach(self, archive: Archive) -> None:
        self.archive = archive

    def _evaluate(self, X: np.ndarray, out: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        assert self.archive is not None, "SearchProblem: no archive attached"
        Xi = np.clip(np.rint(np.asarray(X, dtype=np.float64)), 0, self.xu).astype(np.int64)
        F, G = self.archive.evaluate(Xi, self.generation)
        out["F"] = F
        out["G"] = G

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["archive"] = None
        return state


class ArchiveDuplicates(DuplicateElimination):
    """Drops offspring equal to each other, to the population, or to any design already in the
    archive, so every evaluation slot goes to a new design (pymoo's default compares float
    distances against the current population only)."""

    def __init__(self) -> None:
        super().__init__()
        self.archive: Archive | None = None

    def attach(self, archive: Archive) -> None:
        self.archive = archive

    def do(self, pop: Any, *args: Any, return_indices: bool = False, to_itself: bool = True) -> Any:
        if len(pop) == 0:
            return (pop, [], []) if return_indices else pop
        assert self.archive is not None, "ArchiveDuplicates: no archive attached"
        blocked = [other.get("X") for other in args if other is not None and len(other) > 0]
        keep = self.archive.fresh(pop.get("X"), blocked, to_itself=to_itself)
        out = pop[keep]
        if not return_indices:
            return out
        kept = set(keep)
        return out, keep, [i for i in range(len(pop)) if i not in kept]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["archive"] = None
        return state
