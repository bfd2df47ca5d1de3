"""The exact Pareto front of a tower-separable space: per accelerator, tower filtering, exact pairing, global filter."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from hw_models import load_profile

from ..errors import ConfigError
from ..pareto import non_dominated
from ..timing import charge, now

__all__ = ["METRIC_KIND", "exact_unsupported", "run_exact", "EXACT_STATE"]

log = logging.getLogger(__name__)

# How each registry metric depends on a design (the proof in docs/search.md relies on this):
#   accuracy  the estimator's non-decreasing combination of per-tower scores (TowerSeparable)
#   latency   sum of the towers' latencies on the accelerator (ops run one after another)
#   energy    an increasing function of the towers' energy sum on the accelerator (energy_j
#             itself; lifetime energy and operational carbon are proportional to it; total
#             carbon adds the accelerator's embodied carbon)
#   hardware  the accelerator only
METRIC_KIND: Mapping[str, str] = {
    "accuracy": "accuracy",
    "latency_s": "latency",
    "energy_j": "energy",
    "energy_lifetime_kwh": "energy",
    "operational_kg": "energy",
    "total_kg": "energy",
    "embodied_kg": "hardware",
    "area_mm2": "hardware",
    "area_um2": "hardware",
    "tops": "hardware",
}
_CARBON_KEYS = ("energy_lifetime_kwh", "operational_kg", "total_kg", "embodied_kg")

EXACT_STATE = "exact.json"  # inside DIR/checkpoint/, with exact.npz (the running front)
_FORMAT = 1
_EVALS_PER_CALL = 65536  # tower configurations x accelerators per evaluate_cost call (bounded memory)
_PAIRS_PER_BLOCK = 1 << 20  # tower pairs formed at once on one accelerator (bounded memory)
_SELF_CHECK = 32  # designs re-evaluated by the full pipeline to confirm additivity
_SELF_CHECK_RTOL = 1e-9


def exact_unsupported(setup: Any, custom_evaluator: bool = False) -> str | None:
    """Why the exact front does not apply to this setup (one line), or None when it does."""
    from ..accuracy import tower_separability

    if custom_evaluator:
        return "exact computes costs in process from the analytical model; a custom evaluator or cluster backend cannot be used"
    for o in setup.objectives:
        if o.name not in METRIC_KIND:
            return f"objective {o.name!r} is not known to be additive over towers or a function of the accelerator"
    for c in setup.constraints:
        if c.name not in METRIC_KIND or METRIC_KIND[c.name] not in ("latency", "hardware"):
            return f"constraint {c.name!r} is not additive over towers or a function of the accelerator"
    kinds = {METRIC_KIND[o.name] for o in setup.objectives}
    if "accuracy" in kinds:
        problem = tower_separability(setup.accuracy)
        if problem:
            return problem
    if len(setup.space.base.towers) > 2:
        return f"model {setup.space.base.name!r} has {len(setup.space.base.towers)} towers; exact pairs at most two"
    profile = getattr(getattr(setup, "spec", None), "profile", "reference")
    if len(setup.space.base.towers) > 1 and load_profile(profile).layer_count.enabled:
        return (f"profile {getattr(load_profile(profile), 'name', profile)!r} charges layers by their place across both towers "
                "([layer_count]), so a tower's cost is not its own")
    if kinds <= {"hardware"} and any(v.group == "model" for v in setup.space.variables):
        return "no objective depends on the model, so every pruned model ties; search the hardware alone (mode all-hw)"
    return None


# ---------------------------------------------------------------------------------- pieces


@dataclass(frozen=True, eq=False)
class _Tower:
    """The configurations of one tower: the product of its pruning columns, row-major."""

    kind: str | None  # None: the stand-in second tower of a one-tower model (one config, zero cost)
    n: int
    index: Mapping[str, np.ndarray]  # searched variable -> index per configuration
    columns: Mapping[str, np.ndarray]  # every pruning column of the tower -> value per configuration


def _towers(space: Any) -> list[_Tower]:
    searched = {v.name: v for v in space.variables if v.group == "model"}
    out = []
    for t in space.base.towers:
        cols = [c for c in space.model_columns if c.startswith(f"{t.kind}_")]
        values = [searched[c].values if c in searched else np.array([space.fixed[c]]) for c in cols]
        grids = np.meshgrid(*values, indexing="ij") if cols else []
        columns = {c: g.ravel().astype(np.int64) for c, g in zip(cols, grids)}
        n = int(np.prod([len(v) for v in values])) if cols else 1
        index = {}
        for c in cols:
            if c in searched:
                index[c] = np.searchsorted(searched[c].values, columns[c])
        out.append(_Tower(t.kind, n, index, columns))
    if len(out) == 1:
        out.append(_Tower(None, 1, {}, {}))
    return out


def _model_columns(space: Any, towers: list[_Tower], k: int) -> dict[str, np.ndarray]:
    """All pruning columns for tower k's configurations, the other tower at its first configuration."""
    n = towers[k].n
    out: dict[str, np.ndarray] = {}
    for j, t in enumerate(towers):
        for c, v in t.columns.items():
            out[c] = v if j == k else np.full(n, v[0])
    return out


class _Hardware:
    """Every accelerator of the space: columns, per-variable index, hardware-only checks."""

    def __init__(self, space: Any) -> None:
        from .archive import hardware_checks

        hw_vars = [v for v in space.variables if v.group == "hardware"]
        grids = np.meshgrid(*[v.values for v in hw_vars], indexing="ij") if hw_vars else []
        self.n = int(np.prod([len(v.values) for v in hw_vars])) if hw_vars else 1
        cols = {v.name: g.ravel() for v, g in zip(hw_vars, grids)}
        self.index = {v.name: np.searchsorted(v.values, cols[v.name]) for v in hw_vars}
        for k in space.hardware_columns:
            if k not in cols:
                cols[k] = np.full(self.n, space.fixed[k])
        self.columns = cols
        self.batch = space.hardware(cols)
        self.checks = hardware_checks(space, cols)


class _Problem:
    """What the filters compare: the objectives' kinds, the latency limit, the carbon metrics."""

    def __init__(self, setup: Any) -> None:
        self.setup = setup
        self.objectives = setup.objectives
        names = [o.name for o in self.objectives]
        self.acc = "accuracy" in names
        self.lat_obj = "latency_s" in names
        limit = setup.limits.get("latency_s", np.inf) if any(c.name == "latency_s" for c in setup.constraints) else np.inf
        self.lat_limit = float(limit)
        self.lat_con = bool(np.isfinite(self.lat_limit))
        self.hw_limits = {c.name: float(setup.limits[c.name]) for c in setup.constraints if c.hardware_only}
        # an energy-kind objective is strictly increasing in energy unless the scenario makes it
        # constant (no inferences, zero use-phase intensity): measured, not assumed
        self.energy_strict = False
        for o in self.objectives:
            if METRIC_KIND[o.name] == "energy":
                if o.name == "energy_j":
                    self.energy_strict = True
                else:
                    v0, v1 = (self.carbon(np.array([1e6]), np.array([e]), np.array([22]), np.array([1.0]))[o.name][0] for e in (0.0, 1.0))
                    self.energy_strict |= bool(v1 > v0)
        self.uses_latency = self.lat_obj or self.lat_con

    def carbon(self, area_um2: np.ndarray, energy_j: np.ndarray, node_nm: np.ndarray, dram_gb: np.ndarray) -> dict[str, np.ndarray]:
        from ..carbon import carbon_report

        rep = carbon_report(area_um2, energy_j, self.setup.scenario, node_nm=node_nm, dram_gb=dram_gb)
        return {k: getattr(rep, k) for k in _CARBON_KEYS}


# ---------------------------------------------------------------------------------- costs


def _tower_costs(space: Any, towers: list[_Tower], k: int, hw: _Hardware, hs: np.ndarray, profile: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(latency_s, energy_j) of tower k's configurations on accelerators hs, each (len(hs), n), and area_um2 (len(hs),).

    A block's ops are costed once and multiplied by the layer count (hw_models' `repeat`), so a
    tower's cost is affine in its layers: only the fewest and the most layers are evaluated and
    the depths between are interpolated (the run's self-check compares with the full pipeline).
    """
    from hw_models import evaluate_cost

    from ..workloads import lower_tower
    from ..workloads.model import TowerArrays

    t = towers[k]
    lat = np.zeros((len(hs), t.n))
    en = np.zeros((len(hs), t.n))
    area = np.full(len(hs), np.nan)
    if t.kind is None:
        return lat, en, area
    batch = space.pruning.decode(_model_columns(space, towers, k), check=False)
    tower = next(x for x in space.base.towers if x.kind == t.kind)
    layers = t.columns.get(f"{t.kind}_layers")
    depths = np.unique(layers) if layers is not None else np.zeros(1)
    if len(depths) > 2:
        rest = np.column_stack([v for c, v in t.columns.items() if c != f"{t.kind}_layers"] or [np.zeros(t.n, np.int64)])
        _, key = np.unique(rest, axis=0, return_inverse=True)
        key = key.ravel()
        n_rest = int(key.max()) + 1
        lo = np.empty(n_rest, np.int64)
        hi = np.empty(n_rest, np.int64)
        lo[key[layers == depths[0]]] = np.flatnonzero(layers == depths[0])
        hi[key[layers == depths[-1]]] = np.flatnonzero(layers == depths[-1])
        sel = np.r_[lo, hi]
    else:
        sel = np.arange(t.n)
    arrays = batch.arrays[t.kind]
    arrays = TowerArrays(**{d: v[sel] for d, v in vars(arrays).items()})
    n = len(sel)
    lat_s = np.empty((len(hs), n))
    en_s = np.empty((len(hs), n))
    per = max(1, _EVALS_PER_CALL // n)
    for s in range(0, len(hs), per):
        sub = hs[s : s + per]
        tiled = TowerArrays(**{d: np.tile(v, len(sub)) for d, v in vars(arrays).items()})
        cost = evaluate_cost(lower_tower(tower, tiled), hw.batch.take(np.repeat(sub, n)), profile=profile)
        lat_s[s : s + len(sub)] = cost.latency_s.reshape(len(sub), n)
        en_s[s : s + len(sub)] = cost.energy_j.reshape(len(sub), n)
        area[s : s + len(sub)] = cost.area_um2.reshape(len(sub), n)[:, 0]
    if len(depths) <= 2:
        return lat_s, en_s, area
    w = (layers - depths[0]) / (depths[-1] - depths[0])
    for full, part in ((lat, lat_s), (en, en_s)):
        a, b = part[:, :n_rest][:, key], part[:, n_rest:][:, key]
        full[:] = a + w * (b - a)
        full[:, layers == depths[-1]] = b[:, layers == depths[-1]]  # the evaluated ends exactly
        full[:, layers == depths[0]] = a[:, layers == depths[0]]
    return lat, en, area


def _scores(setup: Any, towers: list[_Tower]) -> list[np.ndarray | None]:
    """Per tower, the (n, k) accuracy scores (None for the stand-in tower or without accuracy)."""
    out: list[np.ndarray | None] = []
    for k, t in enumerate(towers):
        if t.kind is None:
            out.append(None)
            continue
        batch = setup.space.pruning.decode(_model_columns(setup.space, towers, k), check=False)
        scores = setup.accuracy.tower_scores(batch)
        out.append(np.asarray(scores[t.kind], dtype=np.float64).reshape(t.n, -1))
    return out


# ---------------------------------------------------------------------------------- filters


def _nondominated(R: np.ndarray) -> np.ndarray:
    """Rows of R (minimised) that no row strictly dominates; identical rows are all kept."""
    if R.shape[1] == 0:
        return np.ones(len(R), dtype=bool)
    return non_dominated(R)


def _shared_rows(S: np.ndarray) -> np.ndarray:
    """Rows whose values (all columns) equal another row's."""
    if len(S) < 2:
        return np.zeros(len(S), dtype=bool)
    if S.shape[1] == 1:  # the common case, without np.unique's row sort
        v = np.sort(S[:, 0])
        dup = v[1:] == v[:-1]
        return np.isin(S[:, 0], v[1:][dup]) if dup.any() else np.zeros(len(S), dtype=bool)
    _, inverse, counts = np.unique(S, axis=0, return_inverse=True, return_counts=True)
    return counts[inverse.ravel()] > 1


def _tower_candidates(comps: np.ndarray, strict: list[int]) -> np.ndarray:
    """Configurations of one tower that may be part of a Pareto design on this accelerator.

    A configuration is dropped only when another is at least as good in every component and
    strictly better in a strict one (a component that strictly moves an objective): then every
    design holding it is strictly dominated. The standard filter also drops configurations
    beaten only in non-strict components; those sharing their strict components with another
    configuration are put back (they may tie with a Pareto design), which keeps a superset.
    """
    n = len(comps)
    if not strict:
        return np.arange(n)
    keep = _nondominated(comps)
    if not keep.all():
        keep |= _shared_rows(comps[:, strict])
    return np.flatnonzero(keep)


# ---------------------------------------------------------------------------------- the run


class _Front:
    """The running global front: accelerator, tower configurations, objectives (minimised)."""

    def __init__(self, n_obj: int) -> None:
        self.h = np.empty(0, np.int64)
        self.i = np.empty(0, np.int64)
        self.j = np.empty(0, np.int64)
        self.F = np.empty((0, n_obj))

    def merge(self, h: np.ndarray, i: np.ndarray, j: np.ndarray, F: np.ndarray) -> None:
        if not len(h):
            return
        h, i, j = np.r_[self.h, h], np.r_[self.i, i], np.r_[self.j, j]
        F = np.vstack([self.F, F])
        keep = _nondominated(F)
        self.h, self.i, self.j, self.F = h[keep], i[keep], j[keep], F[keep]

    def arrays(self) -> dict[str, np.ndarray]:
        return {"h": self.h, "i": self.i, "j": self.j, "F": self.F}


def _per_accelerator(
    prob: _Problem,
    r: int,
    lat: list[np.ndarray],
    en: list[np.ndarray],
    scores: list[np.ndarray | None],
    acc_table: np.ndarray | None,
    setup: Any,
    bound: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Front of the designs on one accelerator (row r of the chunk) in the reduced objectives.

    bound(accuracy, latency, energy) -> mask: False where the best design a tower configuration
    could be part of (its optimistic accuracy, latency and energy) is already strictly dominated
    by a known design; those configurations are dropped before pairing.
    Returns (i, j, accuracy, latency_s, energy_j) of the survivors and the number of feasible designs.
    """
    cand = []
    lows = []
    for k in (0, 1):
        ok = np.isfinite(lat[k][r]) & np.isfinite(en[k][r])
        lows.append(lat[k][r][ok].min() if ok.any() else np.inf)
    feasible_count = 0
    for k in (0, 1):
        l, e = lat[k][r], en[k][r]
        ok = np.isfinite(l) & np.isfinite(e)
        if prob.lat_con:
            with np.errstate(invalid="ignore"):
                ok &= (l + lows[1 - k]) / prob.lat_limit - 1.0 <= 0
        idx = np.flatnonzero(ok)
        cols, strict = [], []
        if prob.acc and scores[k] is not None:
            cols += [-scores[k][idx, q] for q in range(scores[k].shape[1])]
        if prob.uses_latency:
            if prob.lat_obj:
                strict.append(len(cols))
            cols.append(l[idx])
        if prob.energy_strict:
            strict.append(len(cols))
            cols.append(e[idx])
        comps = np.column_stack(cols) if cols else np.empty((len(idx), 0))
        cand.append(idx[_tower_candidates(comps, strict)])
    # feasible designs on this accelerator (over every configuration, not just the candidates)
    l0 = lat[0][r][np.isfinite(lat[0][r]) & np.isfinite(en[0][r])]
    l1 = np.sort(lat[1][r][np.isfinite(lat[1][r]) & np.isfinite(en[1][r])])
    if prob.lat_con:
        feasible_count = int(np.searchsorted(l1, prob.lat_limit - l0, side="right").sum())
    else:
        feasible_count = len(l0) * len(l1)
    if bound is not None and len(cand[0]) and len(cand[1]):
        for k in (0, 1):
            ck, co = cand[k], cand[1 - k]
            if prob.acc:
                if acc_table is not None:
                    sub = acc_table[np.ix_(cand[0], cand[1])]
                    a_ub = sub.max(axis=1 - k)
                else:  # non-decreasing in every score: the other tower's best scores bound it
                    best = scores[1 - k][co].max(axis=0)
                    a_ub = np.asarray(setup.accuracy.accuracy_from_scores({_kind(setup, k): scores[k][ck], _kind(setup, 1 - k): best[None, :]}), dtype=np.float64)
            else:
                a_ub = np.zeros(len(ck))
            l_lb = lat[k][r][ck] + lat[1 - k][r][co].min()
            e_lb = en[k][r][ck] + en[1 - k][r][co].min()
            cand[k] = ck[bound(a_ub, l_lb, e_lb)]
            if not len(cand[k]):
                break
    I_all, J_all, A_all, L_all, E_all = [], [], [], [], []
    c0, c1 = cand
    if len(c0) == 0 or len(c1) == 0:
        return (np.empty(0, np.int64),) * 2 + (np.empty(0),) * 3 + (feasible_count,)
    step = max(1, _PAIRS_PER_BLOCK // len(c1))
    for s in range(0, len(c0), step):
        I = np.repeat(c0[s : s + step], len(c1))
        J = np.tile(c1, len(c0[s : s + step]))
        L = lat[0][r][I] + lat[1][r][J]
        if prob.lat_con:
            f = L / prob.lat_limit - 1.0 <= 0
            I, J, L = I[f], J[f], L[f]
        E = en[0][r][I] + en[1][r][J]
        if prob.acc:
            if acc_table is not None:
                A = acc_table[I, J]
            else:
                A = np.asarray(setup.accuracy.accuracy_from_scores({_kind(setup, 0): scores[0][I], _kind(setup, 1): scores[1][J]}), dtype=np.float64)
        else:
            A = np.zeros(len(I))
        keep = _nondominated(_reduced(prob, A, L, E))
        I_all.append(I[keep]); J_all.append(J[keep]); A_all.append(A[keep]); L_all.append(L[keep]); E_all.append(E[keep])
    I, J, A, L, E = (np.concatenate(x) for x in (I_all, J_all, A_all, L_all, E_all))
    if len(I_all) > 1:
        keep = _nondominated(_reduced(prob, A, L, E))
        I, J, A, L, E = I[keep], J[keep], A[keep], L[keep], E[keep]
    return I, J, A, L, E, feasible_count


def _strictly_dominated(Q: np.ndarray, G: np.ndarray) -> np.ndarray:
    """Rows of Q that some row of G strictly dominates (minimised). Two objectives: a staircase
    search; more: pairwise when small enough, else none are reported (safe: nothing is dropped)."""
    out = np.zeros(len(Q), dtype=bool)
    if not len(G) or not len(Q):
        return out
    if G.shape[1] == 2:
        order = np.lexsort((G[:, 1], G[:, 0]))
        g0, pm = G[order, 0], np.minimum.accumulate(G[order, 1])
        right = np.searchsorted(g0, Q[:, 0], side="right") - 1  # rows with g0 <= q0
        left = np.searchsorted(g0, Q[:, 0], side="left") - 1  # rows with g0 < q0
        out |= (right >= 0) & (pm[np.maximum(right, 0)] < Q[:, 1])
        out |= (left >= 0) & (pm[np.maximum(left, 0)] <= Q[:, 1])
        return out
    if len(G) * len(Q) > 1 << 22:
        return out
    le = np.all(G[None, :, :] <= Q[:, None, :], axis=2)
    lt = np.any(G[None, :, :] < Q[:, None, :], axis=2)
    return np.any(le & lt, axis=1)


def _kind(setup: Any, k: int) -> str:
    return setup.space.base.towers[k].kind


def _reduced(prob: _Problem, A: np.ndarray, L: np.ndarray, E: np.ndarray) -> np.ndarray:
    """On one accelerator the objectives order designs as (-accuracy, latency, energy) do."""
    cols = []
    if prob.acc:
        cols.append(-A)
    if prob.lat_obj:
        cols.append(L)
    if prob.energy_strict:
        cols.append(E)
    return np.column_stack(cols) if cols else np.empty((len(A), 0))


def _objectives(prob: _Problem, hw: _Hardware, h: np.ndarray, area_um2: np.ndarray, A: np.ndarray, L: np.ndarray, E: np.ndarray) -> np.ndarray:
    """The objectives (minimised form) of designs on accelerators h, as the pipeline computes them."""
    names = [o.name for o in prob.objectives]
    carbon = None
    if any(n in _CARBON_KEYS for n in names):
        carbon = prob.carbon(area_um2, E, np.asarray(hw.batch.node_nm)[h] if np.ndim(hw.batch.node_nm) else hw.batch.node_nm, np.asarray(hw.batch.dram_gb)[h] if np.ndim(hw.batch.dram_gb) else hw.batch.dram_gb)
    # Carbon keys from the carbon report; area_mm2 from the hardware pre-check (the same function the archive uses).
    return _columns(prob, A, L, E, lambda name: np.broadcast_to(carbon[name], E.shape) if name in _CARBON_KEYS else hw.checks[name][h])


def _columns(prob: _Problem, a: np.ndarray, l: np.ndarray, e: np.ndarray, other: Callable[[str], Any]) -> np.ndarray:
    """Objective columns (minimised form) from accuracy, latency and energy; `other(name)` gives the rest."""
    given = {"accuracy": a, "latency_s": l, "energy_j": e}
    cols = [np.asarray(given[o.name] if o.name in given else other(o.name), dtype=np.float64) * o.sign for o in prob.objectives]
    return np.column_stack(cols) if cols else np.empty((len(a), 0))


# Relative margin taken off optimistic objective values before they are compared with the
# front, so that rounding in the affine carbon shortcut below can never drop a design the
# pipeline's own rounding would keep (rounding is ~1e-16; this only makes the bound weaker).
_BOUND_MARGIN = 1e-9


def _optimistic(prob: _Problem, hw: _Hardware, hs: np.ndarray, area_um2: np.ndarray) -> Callable[[int, np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """For accelerator row r: (accuracy, latency, energy) -> objectives (minimised); with
    `margin`, of bounds -> lower bounds of the objectives. Carbon and lifetime energy are
    affine in energy on one accelerator (P2): intercept and slope come once per chunk from
    carbon_report."""
    names = [o.name for o in prob.objectives]
    affine = {}
    if any(n in _CARBON_KEYS for n in names):
        node = np.asarray(hw.batch.node_nm)[hs]
        dram = np.asarray(hw.batch.dram_gb)[hs]
        c0 = prob.carbon(area_um2, np.zeros(len(hs)), node, dram)
        c1 = prob.carbon(area_um2, np.ones(len(hs)), node, dram)
        affine = {k: (c0[k], c1[k] - c0[k]) for k in _CARBON_KEYS}

    def values(r: int, a: np.ndarray, l: np.ndarray, e: np.ndarray, margin: bool = True) -> np.ndarray:
        def other(name: str) -> np.ndarray:
            if name in affine:
                return affine[name][0][r] + affine[name][1][r] * e
            return np.full(len(a), hw.checks[name][hs[r]])

        Q = _columns(prob, a, l, e, other)
        return Q - _BOUND_MARGIN * np.abs(Q) if margin else Q

    return values


def _self_check(setup: Any, archive: Any, towers: list[_Tower], hw: _Hardware, hs: np.ndarray, lat, en, scores, prob: _Problem, area: np.ndarray, rng: np.random.Generator) -> None:
    """Re-evaluate a few designs with the full pipeline: the tower sums must give its objectives and latency."""
    m = min(_SELF_CHECK, len(hs) * towers[0].n * towers[1].n)
    if m == 0:
        return
    r = rng.integers(0, len(hs), m)
    i = rng.integers(0, towers[0].n, m)
    j = rng.integers(0, towers[1].n, m)
    h = hs[r]
    L = lat[0][r, i] + lat[1][r, j]
    E = en[0][r, i] + en[1][r, j]
    A = setup.accuracy.accuracy_from_scores({_kind(setup, 0): scores[0][i], _kind(setup, 1): scores[1][j]}) if prob.acc else np.zeros(m)
    F = _objectives(prob, hw, h, area[r], np.asarray(A, np.float64), L, E)
    X = _design_index(setup.space, towers, hw, h, i, j)
    got = archive.evaluator.evaluate(setup.space.decode(X))
    for q, o in enumerate(prob.objectives):
        want = np.asarray(got[o.name], dtype=np.float64) * o.sign
        if not np.allclose(F[:, q], want, rtol=_SELF_CHECK_RTOL, atol=0, equal_nan=True):
            bad = int(np.flatnonzero(~np.isclose(F[:, q], want, rtol=_SELF_CHECK_RTOL, atol=0))[0])
            raise ConfigError(
                f"exact: {o.name} of a design is {want[bad] * o.sign!r} by the pipeline but {F[bad, q] * o.sign!r} from its towers, "
                "so the cost model is not additive over towers (or not affine in the layer count) here; use the GA (exact.enabled = false)"
            )
    if prob.lat_con and not np.allclose(L, got["latency_s"], rtol=_SELF_CHECK_RTOL, atol=0):
        raise ConfigError("exact: latency_s is not the sum of the towers' latencies here; use the GA (exact.enabled = false)")


def _design_index(space: Any, towers: list[_Tower], hw: _Hardware, h: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Index rows (the search's encoding) of the designs (accelerator h, tower configurations i, j)."""
    cols = []
    for v in space.variables:
        if v.group == "hardware":
            cols.append(hw.index[v.name][h])
        elif v.name in towers[0].index:
            cols.append(towers[0].index[v.name][i])
        else:
            cols.append(towers[1].index[v.name][j])
    return np.column_stack(cols).astype(np.int64) if cols else np.empty((len(h), 0), np.int64)


def run_exact(
    setup: Any,
    archive: Any,
    out_dir: str | None = None,
    resume: bool = False,
    progress: Callable[[Any], None] | None = None,
    t_start: float | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[dict[str, int], list[float], str | None, str | None]:
    """The exact front of `setup`'s whole space, added to `archive` (evaluated by the pipeline).

    Accelerators are taken `exact.chunk` at a time; after each chunk the running front is
    checkpointed (DIR/checkpoint/exact.json + exact.npz) and `progress` is called. Returns the
    counts over the whole space, [hypervolume], the accuracy label, None.
    """
    from .checkpoint import Checkpoint
    from .hypervolume import hypervolume
    from .runner import Progress

    t_start = time.perf_counter() if t_start is None else t_start
    timings = {} if timings is None else timings
    spec = setup.spec
    space = setup.space
    prob = _Problem(setup)
    towers = _towers(space)
    hw = _Hardware(space)
    ok = np.ones(hw.n, dtype=bool)
    for name, limit in prob.hw_limits.items():
        ok &= hw.checks[name] <= limit
    hs_all = np.flatnonzero(ok)
    chunk = spec.exact_chunk
    n_chunks = max(1, -(-len(hs_all) // chunk))
    pairs = towers[0].n * towers[1].n
    scores = _scores(setup, towers) if prob.acc else [None, None]
    acc_table = None
    if prob.acc and pairs <= 1 << 24:  # accuracy of every model, once: it does not depend on the accelerator
        acc_table = np.asarray(setup.accuracy.accuracy_from_scores({_kind(setup, 0): scores[0][:, None, :], _kind(setup, 1): scores[1][None, :, :]}), dtype=np.float64)
    front = _Front(len(setup.objectives))
    counts = {"designs": int(space.size), "evaluated": int(len(hs_all) * pairs), "prechecked_out": int((hw.n - len(hs_all)) * pairs), "failed": 0, "feasible": 0, "cache_hits": 0}
    done = 0
    state_dir = os.path.join(out_dir, "checkpoint") if out_dir is not None else None
    key = spec.as_dict()
    if state_dir is not None:
        if resume and os.path.exists(os.path.join(state_dir, EXACT_STATE)):
            done, feasible, failed = _load(state_dir, key, front, n_chunks, hw.n, towers, len(setup.objectives))
            counts["feasible"], counts["failed"] = feasible, failed
            log.info("resumed the exact front of %s after %d of %d accelerator chunks", out_dir, done, n_chunks)
        else:
            Checkpoint(out_dir).clear()
    rng = np.random.default_rng(0)
    checked = False
    for c in range(done, n_chunks):
        hs = hs_all[c * chunk : (c + 1) * chunk]
        t0 = now()
        lat, en, area = [], [], None
        for k in (0, 1):
            l, e, a = _tower_costs(space, towers, k, hw, hs, spec.profile)
            lat.append(l)
            en.append(e)
            area = a if area is None or np.isnan(area).all() else area
        charge(timings, "evaluate", t0)
        if not checked:
            _self_check(setup, archive, towers, hw, hs, lat, en, scores, prob, area, rng)
            checked = True
        t1 = now()
        per_hw = len(setup.objectives) == 2  # a small front: merge after each accelerator, prune harder
        optimistic = _optimistic(prob, hw, hs, area)
        H, I, J, F = [], [], [], []
        for r in range(len(hs)):
            fin = [np.isfinite(lat[k][r]) & np.isfinite(en[k][r]) for k in (0, 1)]
            counts["failed"] += int(pairs - fin[0].sum() * fin[1].sum())

            def bound(a, l, e, r=r):
                return ~_strictly_dominated(optimistic(r, a, l, e), front.F)

            i, j, a, l, e, nf = _per_accelerator(prob, r, lat, en, scores, acc_table, setup, bound=bound)
            counts["feasible"] += nf
            f = optimistic(r, a, l, e, margin=False)  # the objectives themselves
            if per_hw:
                front.merge(np.full(len(i), hs[r]), i, j, f)
            else:
                H.append(np.full(len(i), hs[r])); I.append(i); J.append(j); F.append(f)
        if not per_hw:
            front.merge(np.concatenate(H), np.concatenate(I), np.concatenate(J), np.vstack(F))
        t2 = charge(timings, "algorithm", t1)
        if state_dir is not None:
            _save(state_dir, key, front, c + 1, n_chunks, counts["feasible"], counts["failed"])
            charge(timings, "checkpoint", t2)
        if progress is not None:
            covered = min(len(hs_all), (c + 1) * chunk) * pairs + counts["prechecked_out"]
            progress(Progress(c + 1, n_chunks, int(covered), counts["feasible"], hypervolume(front.F, setup.reference_min), time.perf_counter() - t_start, "exact"))
    # the front's designs, evaluated by the pipeline like any search's rows
    t3 = now()
    X = _design_index(space, towers, hw, front.h, front.i, front.j)
    order = np.lexsort(X.T[::-1]) if len(X) else np.empty(0, np.int64)
    if len(X):
        archive.add(archive.evaluate_new(X[order], generation=0))
    charge(timings, "evaluate", t3)
    label = getattr(archive.evaluator, "accuracy_metric", None) or getattr(getattr(archive.evaluator, "fn", None), "accuracy_metric", None)
    return counts, [hypervolume(archive.front, setup.reference_min)], label, None


# ---------------------------------------------------------------------------------- checkpoint


def _save(state_dir: str, key: dict, front: _Front, done: int, n_chunks: int, feasible: int, failed: int) -> None:
    buf = io.BytesIO()
    np.savez(buf, **front.arrays())
    data = buf.getvalue()
    os.makedirs(state_dir, exist_ok=True)
    # like the GA's checkpoint: replaced atomically, not fsynced (survives a killed process,
    # not a power cut; an fsync per chunk cost seconds on a busy disk)
    _replace(os.path.join(state_dir, "exact.npz"), data)
    state = {"format": _FORMAT, "resume_key": key, "chunks_done": done, "chunks": n_chunks, "feasible": feasible, "failed": failed, "front_sha256": hashlib.sha256(data).hexdigest()}
    _replace(os.path.join(state_dir, EXACT_STATE), json.dumps(state).encode("utf-8"))


def _replace(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _load(state_dir: str, key: dict, front: _Front, n_chunks: int, n_hw: int, towers: list[_Tower], n_obj: int) -> tuple[int, int, int]:
    """Read and validate the exact checkpoint into `front`; returns (chunks done, feasible, failed)."""
    where = os.path.join(state_dir, EXACT_STATE)
    try:
        with open(where, encoding="utf-8") as fh:
            state = json.load(fh)
        with open(os.path.join(state_dir, "exact.npz"), "rb") as fh:
            data = fh.read()
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--resume: {where} cannot be read ({exc}); allowed: a checkpoint written by an exact run, or a run without --resume") from None
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise ConfigError(f"--resume: {where} has format {state.get('format') if isinstance(state, dict) else None!r}; allowed: {_FORMAT}")
    if state.get("resume_key") != json.loads(json.dumps(key)):
        raise ConfigError("--resume: the spec differs from the exact checkpoint's; allowed: the same spec, or a run without --resume")
    if hashlib.sha256(data).hexdigest() != state.get("front_sha256"):
        raise ConfigError(f"--resume: {state_dir}/exact.npz does not match {EXACT_STATE} (hash); allowed: an intact checkpoint, or a run without --resume")
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in ("h", "i", "j", "F")}
    done = state.get("chunks_done")
    n = len(arrays["h"])
    valid = (
        isinstance(done, int) and 0 <= done <= n_chunks and state.get("chunks") == n_chunks
        and all(len(arrays[k]) == n for k in ("i", "j")) and arrays["F"].shape == (n, n_obj)
        and all(arrays[k].dtype.kind == "i" for k in ("h", "i", "j")) and np.isfinite(arrays["F"]).all()
        and (n == 0 or (arrays["h"].min() >= 0 and arrays["h"].max() < n_hw and arrays["i"].min() >= 0 and arrays["i"].max() < towers[0].n and arrays["j"].min() >= 0 and arrays["j"].max() < towers[1].n))
        and isinstance(state.get("feasible"), int) and isinstance(state.get("failed"), int)
    )
    if not valid:
        raise ConfigError(f"--resume: {where} is inconsistent with this space; allowed: a checkpoint of the same spec, or a run without --resume")
    front.h, front.i, front.j, front.F = (arrays[k].astype(np.int64) if k != "F" else arrays[k].astype(np.float64) for k in ("h", "i", "j", "F"))
    return done, state["feasible"], state["failed"]
