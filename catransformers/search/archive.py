"""Every design a search evaluated, once: the cache, the cheap hardware pre-check, objective and constraint arrays."""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from .backend import EVALUATED_KEYS, PopulationEvaluator
from .objectives import Constraint, Objective
from ..pareto import merge_front, pareto_mask
from .space import DesignSpace

__all__ = ["Archive", "PENALTY", "STORED_KEYS", "hardware_checks"]

log = logging.getLogger(__name__)

# Objective value (minimised form) given to designs that were not evaluated (hardware
# over a deterministic limit) or whose evaluation failed: finite, and worse than any real
# design, so pymoo never sees inf or NaN. Constraint-dominance ranks these designs by
# their violation anyway; the value only has to be finite and bad.
PENALTY = 1e9

# What a checkpoint stores per row; F, G and the flags are derived from these again on resume.
STORED_KEYS: tuple[str, ...] = ("X", "generation", *EVALUATED_KEYS, "evaluated")


def hardware_checks(space: DesignSpace, designs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """area_um2, area_mm2 and tops of the designs' hardware: deterministic and cheap (no workload)."""
    import hw_models

    from ..units import um2_to_mm2

    hw = space.hardware(designs)
    area = np.asarray(hw_models.area_um2(hw), dtype=np.float64)
    return {"area_um2": area, "area_mm2": um2_to_mm2(area), "tops": np.asarray(hw_models.tops(hw), dtype=np.float64)}


@dataclass(frozen=True)
class _Limits:
    names: tuple[str, ...]
    limits: np.ndarray
    hardware_only: np.ndarray


class Archive:
    """The evaluation cache and the record of a run.

    `evaluate(X, generation)` is what the pymoo adapter calls: it looks each index row up,
    pre-checks the hardware-only constraints of the new ones, sends only the designs that
    pass to the (possibly expensive) PopulationEvaluator, and returns the objective and
    constraint matrices pymoo needs. Rows are stored once, in first-evaluation order.
    """

    def __init__(
        self,
        space: DesignSpace,
        objectives: Sequence[Objective],
        constraints: Sequence[Constraint],
        limits: Mapping[str, float],
        evaluator: PopulationEvaluator,
        flag_limits: Mapping[str, float] | None = None,
    ) -> None:
        self.space = space
        self.objectives = tuple(objectives)
        self.constraints = tuple(constraints)
        self.evaluator = evaluator
        self.limits = {c.name: float(limits[c.name]) for c in self.constraints}
        # meets_* flags are reported for every limit of the spec, whether the mode applies it or not
        self.flag_limits = {k: float(v) for k, v in (flag_limits or self.limits).items()}
        self._hw_only = [c.name for c in self.constraints if c.hardware_only]
        self._required = tuple(dict.fromkeys([o.name for o in self.objectives] + [c.name for c in self.constraints]))
        self._signs = np.array([o.sign for o in self.objectives])
        self._index: dict[bytes, int] = {}
        self._chunks: list[dict[str, np.ndarray]] = []
        self._cat: dict[str, np.ndarray] | None = None
        self._fg: tuple[np.ndarray, np.ndarray] | None = None
        self.front = np.empty((0, len(self.objectives)))
        self.cache_hits = 0
        self._replay: collections.deque[dict[str, np.ndarray]] | None = None
        self._replay_where = ""

    # ------------------------------------------------------------------ sizes and views

    def __len__(self) -> int:
        return len(self._index)

    @property
    def n_obj(self) -> int:
        return len(self.objectives)

    @property
    def n_constr(self) -> int:
        return len(self.constraints) + 1  # + the "evaluation failed" column

    def seen(self, key: bytes) -> bool:
        return key in self._index

    def fresh(self, X: np.ndarray, blocked: Sequence[np.ndarray] = (), to_itself: bool = True) -> list[int]:
        """Indices of the rows of X (index rows, rounded) that are neither in a `blocked` array
        nor evaluated before, nor (to_itself) a repeat of an earlier row: duplicate elimination."""
        block: set[bytes] = set()
        for other in blocked:
            if other is not None and len(other) > 0:
                block.update(self.keys(np.rint(other).astype(np.int64)))
        keep = []
        for i, k in enumerate(self.keys(np.rint(X).astype(np.int64))):
            if k in block or k in self._index:
                continue
            keep.append(i)
            if to_itself:
                block.add(k)
        return keep

    @property
    def chunks(self) -> list[dict[str, np.ndarray]]:
        return self._chunks

    def arrays(self) -> dict[str, np.ndarray]:
        """All rows, concatenated: X, generation, every metric, F, G, feasible, failed, evaluated."""
        if self._cat is None:
            if not self._chunks:
                return self._empty()
            self._cat = {k: np.concatenate([c[k] for c in self._chunks]) for k in self._chunks[0]}
        return self._cat

    def _empty(self) -> dict[str, np.ndarray]:
        out = {"X": np.empty((0, self.space.n_var), np.int64), "generation": np.empty(0, np.int64)}
        out.update({k: np.empty(0) for k in EVALUATED_KEYS})
        out.update(F=np.empty((0, self.n_obj)), G=np.empty((0, self.n_constr)))
        out.update(feasible=np.empty(0, bool), failed=np.empty(0, bool), evaluated=np.empty(0, bool))
        return out

    # ------------------------------------------------------------------ evaluation

    @staticmethod
    def keys(X: np.ndarray) -> list[bytes]:
        X = np.ascontiguousarray(X, dtype=np.int64)
        return [row.tobytes() for row in X]

    def evaluate(self, X: np.ndarray, generation: int) -> tuple[np.ndarray, np.ndarray]:
        """(F, G) for the index rows X (n, n_var); new designs are evaluated and stored."""
        X = np.ascontiguousarray(X, dtype=np.int64)
        keys = self.keys(X)
        new_rows: list[int] = []
        pending: dict[bytes, int] = {}
        for i, k in enumerate(keys):
            if k in self._index or k in pending:
                continue
            pending[k] = i
            new_rows.append(i)
        self.cache_hits += len(keys) - len(new_rows)
        if new_rows:
            self.add(self._replayed(X[new_rows], generation) if self._replay is not None else self.evaluate_new(X[new_rows], generation))
        rows = np.fromiter((self._index[k] for k in keys), dtype=np.int64, count=len(keys))
        F, G = self._objectives()
        return F[rows], G[rows]

    def _objectives(self) -> tuple[np.ndarray, np.ndarray]:
        # only F and G are needed every generation; the full concatenation waits for the end
        if self._fg is None:
            self._fg = (
                np.concatenate([c["F"] for c in self._chunks]) if self._chunks else np.empty((0, self.n_obj)),
                np.concatenate([c["G"] for c in self._chunks]) if self._chunks else np.empty((0, self.n_constr)),
            )
        return self._fg

    def evaluate_new(self, X: np.ndarray, generation: int) -> dict[str, np.ndarray]:
        """Evaluate designs not seen before; returns the chunk of rows (not yet stored)."""
        n = len(X)
        designs = self.space.decode(X)
        metrics = {k: np.full(n, np.nan) for k in EVALUATED_KEYS}
        ok = np.ones(n, dtype=bool)
        if self._hw_only:
            checks = hardware_checks(self.space, designs)
            metrics.update({k: v.copy() for k, v in checks.items()})
            for name in self._hw_only:
                ok &= checks[name] <= self.limits[name]
        if ok.any():
            sub = designs if ok.all() else {k: v[ok] for k, v in designs.items()}
            got = self.evaluator.evaluate(sub)
            for k in EVALUATED_KEYS:
                if k in got:
                    metrics[k][ok] = np.asarray(got[k], dtype=np.float64)
        return self._chunk(X, generation, metrics, ok)

    def _chunk(self, X: np.ndarray, generation: int, metrics: dict[str, np.ndarray], evaluated: np.ndarray) -> dict[str, np.ndarray]:
        n = len(X)
        failed = evaluated.copy()
        fin = np.ones(n, dtype=bool)
        for k in self._required:
            fin &= np.isfinite(metrics[k])
        failed &= ~fin
        usable = evaluated & ~failed
        F = np.column_stack([metrics[o.name] * o.sign for o in self.objectives]) if self.n_obj else np.empty((n, 0))
        F[~usable] = PENALTY
        F = np.nan_to_num(F, nan=PENALTY, posinf=PENALTY, neginf=-PENALTY)
        G = np.zeros((n, self.n_constr))
        feasible = usable.copy()
        for j, c in enumerate(self.constraints):
            limit = self.limits[c.name]
            v = metrics[c.name]
            with np.errstate(invalid="ignore", divide="ignore"):
                g = v / limit - 1.0 if np.isfinite(limit) else np.full(n, -1.0)
            known = np.isfinite(g)
            G[known, j] = g[known]
            feasible &= known & (g <= 0)
        G[:, -1] = np.where(failed, 1.0, 0.0)
        return {
            "X": X,
            "generation": np.full(n, generation, dtype=np.int64),
            **metrics,
            "F": F,
            "G": G,
            "feasible": feasible,
            "failed": failed,
            "evaluated": evaluated,
        }

    def add(self, chunk: dict[str, np.ndarray]) -> None:
        """Store a chunk of new rows (also used to rebuild the archive from a checkpoint)."""
        start = len(self._index)
        for i, k in enumerate(self.keys(chunk["X"])):
            self._index[k] = start + i
        self._chunks.append(chunk)
        self._cat = None
        self._fg = None
        if chunk["feasible"].any():
            self.front = merge_front(self.front, chunk["F"][chunk["feasible"]])

    # ------------------------------------------------------------------ resuming from stored rows

    def validate_stored(self, i: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Check one stored chunk (read back from a checkpoint): its keys, dtypes, shapes, index ranges."""
        from ..errors import DataError

        where = f"--resume: checkpoint record {i + 1}"
        if set(arrays) != set(STORED_KEYS):
            raise DataError(f"{where} has arrays {sorted(arrays)}; allowed: {', '.join(STORED_KEYS)} (a checkpoint of this version)")
        X = arrays["X"]
        n = len(X) if X.ndim == 2 else -1
        if X.dtype != np.int64 or X.ndim != 2 or X.shape[1] != self.space.n_var or n == 0:
            raise DataError(f"{where}: X has dtype {X.dtype} and shape {X.shape}; allowed: int64 rows of {self.space.n_var} design indices")
        if (X < 0).any() or (X > self.space.upper).any():
            raise DataError(f"{where}: X holds indices outside this search space; allowed: a checkpoint of the same spec")
        for key in STORED_KEYS[1:]:
            a = arrays[key]
            want = np.int64 if key == "generation" else bool if key == "evaluated" else np.float64
            if a.dtype != want or a.shape != (n,):
                raise DataError(f"{where}: {key} has dtype {a.dtype} and shape {a.shape}; allowed: {np.dtype(want)} of shape ({n},)")
        if (arrays["generation"] < 1).any():
            raise DataError(f"{where}: generation numbers below 1")

    def replay_from(self, chunks: Sequence[Mapping[str, np.ndarray]], where: str) -> None:
        """Answer the next evaluations with these stored chunks, in order, instead of evaluating."""
        self._replay = collections.deque(chunks)
        self._replay_where = where

    def end_replay(self) -> None:
        from ..errors import DataError

        left = len(self._replay or ())
        self._replay = None
        if left:
            raise DataError(f"--resume: {self._replay_where}: {left} stored chunk(s) left over after its generations were replayed (from another run, or edited); allowed: run without --resume to start afresh")

    def _replayed(self, X: np.ndarray, generation: int) -> dict[str, np.ndarray]:
        from ..errors import DataError

        assert self._replay is not None
        if not self._replay:
            raise DataError(f"--resume: {self._replay_where}: the rows end before generation {generation} when replayed (from another run, or edited); allowed: run without --resume to start afresh")
        c = self._replay.popleft()
        if c["X"].shape != X.shape or not np.array_equal(c["X"], X) or (c["generation"] != generation).any():
            raise DataError(
                f"--resume: {self._replay_where}: the stored rows of generation {generation} are not the designs the search asks for "
                "(a checkpoint from another seed or spec, or edited); allowed: run without --resume to start afresh"
            )
        return self._chunk(c["X"].copy(), generation, {k: c[k].astype(np.float64) for k in EVALUATED_KEYS}, c["evaluated"].copy())

    # ------------------------------------------------------------------ results

    def pareto(self) -> np.ndarray:
        """Mask of the Pareto rows: feasible, non-dominated (ties kept), each design once."""
        cat = self.arrays()
        return pareto_mask(cat["F"], cat["feasible"], cat["X"])

    def tally(self, chunk: Mapping[str, np.ndarray] | None = None) -> dict[str, int]:
        """Counts a run reports once (of `chunk`, default every stored row): designs whose accuracy
        is an extrapolation (all, feasible), and per constraint how many designs broke it of how
        many it was checked on (broken_<name>, checked_<name>)."""
        from ..evaluate import RANGE_CODE_KEY

        c = self.arrays() if chunk is None else chunk
        code = c[RANGE_CODE_KEY]
        flag = np.isfinite(code) & (np.nan_to_num(code) != 0)
        out = {"accuracy_extrapolated": int(flag.sum()), "accuracy_extrapolated_feasible": int((flag & c["feasible"]).sum())}
        for con in self.constraints:
            v = c[con.name]
            known = np.isfinite(v)
            out[f"broken_{con.name}"] = int((v[known] > self.limits[con.name]).sum())
            out[f"checked_{con.name}"] = int(known.sum())
        return out

    def counts(self) -> dict[str, int]:
        cat = self.arrays()
        return {
            "designs": int(len(cat["X"])),
            "evaluated": int(cat["evaluated"].sum()),
            "prechecked_out": int((~cat["evaluated"]).sum()),
            "failed": int(cat["failed"].sum()),
            "feasible": int(cat["feasible"].sum()),
            "cache_hits": int(self.cache_hits),
        }

    def table(self, accuracy_metric: str | None, constants: Mapping[str, Any] | None = None) -> Any:
        """evaluations.csv as a DataFrame: id, generation, design columns, model_shape, metrics,
        accuracy flags, `constants` (the scenario columns), limit flags, pareto."""
        import pandas as pd

        from ..accuracy import range_reason
        from ..evaluate import RANGE_CODE_KEY
        from ..workloads import model_shape

        cat = self.arrays()
        n = len(cat["X"])
        cols: dict[str, Any] = {"id": np.arange(n), "generation": cat["generation"]}
        decoded = self.space.decode(cat["X"])
        cols.update(decoded)
        cols["model_shape"] = model_shape(self.space.models(decoded)) if n else []
        for k in EVALUATED_KEYS:
            v = cat[k]
            if k == RANGE_CODE_KEY:
                continue
            if k in ("macs", "params"):
                v = pd.array(np.where(np.isfinite(v), v, 0).astype(np.int64), dtype="Int64")
                v[~np.isfinite(cat[k])] = pd.NA
            cols[k] = v
        cols["accuracy_metric"] = accuracy_metric or ""
        code = cat[RANGE_CODE_KEY]
        known = np.isfinite(code)
        flag = pd.array(np.where(known, code, 0) != 0, dtype="boolean")
        flag[~known] = pd.NA  # no accuracy computed (not evaluated, or no estimator)
        cols["accuracy_extrapolated"] = flag
        reasons = {int(c): range_reason(int(c)) for c in np.unique(code[known])}
        cols["accuracy_extrapolated_reason"] = [reasons[int(c)] if ok else "" for c, ok in zip(code, known)]
        for key, value in (constants or {}).items():
            cols[key] = [value] * n
        for key, limit in self.flag_limits.items():
            with np.errstate(invalid="ignore"):
                cols[f"meets_{key}"] = cat[key] <= limit
        cols["feasible"] = cat["feasible"]
        cols["failed"] = cat["failed"]
        cols["pareto"] = self.pareto()
        return pd.DataFrame(cols)
