"""Runs a search: spec -> space, objectives, evaluator -> GA (or enumeration) -> checkpoints -> results folder."""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import platform
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import ConfigError, DataError
from ..io import atomic_write_json, atomic_write_text, csv_text
from ..timing import charge, now
from .archive import STORED_KEYS, Archive
from .backend import DesignEvaluator, PopulationEvaluator, SerialEvaluator
from .checkpoint import Checkpoint, RunLock, clean_temporaries
from .hypervolume import hypervolume, reference_point, to_minimised
from .objectives import Constraint, Mode, Objective, get_mode, resolve_constraints, resolve_objectives
from .space import DesignSpace, build_space
from .spec import SearchSpec

__all__ = ["SearchSetup", "SearchResult", "Progress", "prepare", "run_search", "Interrupted", "STATUS", "infeasible_by_constraint"]

log = logging.getLogger(__name__)

STATUS = ("running", "complete", "no-feasible")
STATUS_EVERY_S = 2.0  # how often a running search refreshes run.json
# How often a running search writes its checkpoint: after the first generation that ends this
# long after the last save, after the last generation, and when the run is interrupted or fails
# (what a process that is killed outright loses is at most this much work). Per generation it
# cost 2-5 ms, as much as a tenth of a generation of the default search.
CHECKPOINT_EVERY_S = 1.0

EvaluatorArg = PopulationEvaluator | Callable[[DesignEvaluator], PopulationEvaluator] | None


class Interrupted(Exception):
    """Raised by a progress callback to stop a run after a checkpoint (tests, time limits)."""


@dataclass(frozen=True)
class Progress:
    """What a progress callback receives after each generation (and once for an enumeration)."""

    generation: int
    generations: int
    designs: int
    feasible: int
    hypervolume: float
    elapsed_s: float
    method: str


@dataclass(frozen=True, eq=False)
class SearchSetup:
    """A validated spec turned into the pieces a run needs."""

    spec: SearchSpec
    mode: Mode
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    limits: Mapping[str, float]
    space: DesignSpace
    scenario: Any
    accuracy: Any
    reference_point: tuple[float, ...]  # native units, objective order
    method: str  # "nsga2" | "nsga3" | "random" | "exhaustive" | "exact"

    @property
    def reference_min(self) -> np.ndarray:
        return to_minimised(np.array(self.reference_point), self.objectives)

    def objectives_json(self) -> list[dict[str, str]]:
        return [{"name": o.name, "direction": o.direction, "label": o.label} for o in self.objectives]


@dataclass(frozen=True, eq=False)
class SearchResult:
    setup: SearchSetup
    evaluations: Any  # pandas DataFrame, one row per design
    pareto: Any  # pandas DataFrame, the Pareto rows
    run: dict[str, Any]  # run.json
    out_dir: str | None = None

    @property
    def status(self) -> str:
        return self.run["status"]

    @property
    def hypervolume(self) -> list[float]:
        return self.run["hypervolume"]

    @property
    def recommended(self) -> dict[str, Any] | None:
        """The recommended design (catransformers.search.decision), plain data; None without a front."""
        return self.run.get("recommended")


def _resolve_accuracy(name: str, base: Any, options: Mapping[str, Any] | None = None) -> Any:
    if name == "none":
        return None
    if name == "default" and not options:
        from ..evaluate import default_accuracy_estimator

        return default_accuracy_estimator(base)
    from ..accuracy import get_estimator

    return get_estimator("clip-scaling" if name == "default" else name, **dict(options or {}))


def prepare(spec: SearchSpec, need_accuracy_estimator: bool = True) -> SearchSetup:
    """Spec -> mode, objectives, constraints, space, scenario, estimator, reference point, method."""
    from ..carbon import load_scenario

    mode = get_mode(spec.mode)
    objectives = resolve_objectives(spec.mode_objectives)
    constraints = resolve_constraints(spec.mode_constraints)
    space = build_space(
        spec.model,
        mode,
        space=spec.space,
        grid=spec.grid,
        axes=spec.axes,
        hardware_fixed=spec.hardware_fixed,
        model_fixed=spec.model_fixed,
    )
    scenario = load_scenario(spec.scenario)
    if spec.scenario_overrides:
        scenario = scenario.with_overrides(dict(spec.scenario_overrides))
    accuracy = _resolve_accuracy(spec.accuracy, space.base, spec.accuracy_options) if need_accuracy_estimator else spec.accuracy
    if accuracy is not None and getattr(accuracy, "name", None) == "clip-scaling" and space.base.family != "clip":
        if any(o.name == "accuracy" for o in objectives):
            raise ConfigError(
                f"accuracy.estimator: 'clip-scaling' estimates CLIP models only, not {space.base.name!r} "
                f"({space.base.family}); allowed: an estimator for this model, or objectives without accuracy"
            )
        accuracy = None  # not an objective here: report no accuracy rather than a wrong one
    if need_accuracy_estimator and accuracy is None and any(o.name == "accuracy" for o in objectives):
        raise ConfigError(
            f"accuracy.estimator: {spec.accuracy!r} gives no accuracy for model {space.base.name!r}, "
            "but the objectives include accuracy; allowed: an estimator for this model, or objectives without accuracy"
        )
    if hasattr(accuracy, "warn"):
        accuracy.warn = False  # the run counts extrapolated designs once (run.json), not a log line per estimator
    ref = reference_point(objectives, spec.reference_point, mode.reference_point)
    enumerate_ = not spec.exact and (spec.exhaustive is True or (spec.exhaustive == "auto" and mode.exhaustive))
    if enumerate_ and space.size > spec.exhaustive_limit:
        if spec.exhaustive is True:
            raise ConfigError(
                f"exhaustive: the space has {space.size:,} designs, more than exhaustive.limit = {spec.exhaustive_limit:,}; "
                "allowed: restrict [space] or [hardware] axes, or raise the limit"
            )
        log.warning("mode %s: %s designs exceed exhaustive.limit %s; running the GA instead", mode.name, f"{space.size:,}", f"{spec.exhaustive_limit:,}")
        enumerate_ = False
    from .algorithms import resolve_algorithm  # pymoo, imported on use

    method = "exact" if spec.exact else "exhaustive" if enumerate_ else resolve_algorithm(spec.algorithm, len(objectives))
    setup = SearchSetup(
        spec=spec,
        mode=mode,
        objectives=objectives,
        constraints=constraints,
        limits=dict(spec.limits),
        space=space,
        scenario=scenario,
        accuracy=accuracy,
        reference_point=tuple(ref),
        method=method,
    )
    if spec.exact and need_accuracy_estimator:
        from .exact import exact_unsupported

        reason = exact_unsupported(setup)
        if reason:
            raise ConfigError(f"exact: {reason}; allowed: the GA (drop --exact / exact.enabled = false)")
    return setup


def _make_evaluator(setup: SearchSetup, evaluator: EvaluatorArg) -> PopulationEvaluator:
    if evaluator is not None and hasattr(evaluator, "evaluate"):
        return evaluator  # type: ignore[return-value]
    fn = DesignEvaluator(setup.space, setup.scenario, setup.accuracy, setup.spec.profile)
    if evaluator is not None:
        return evaluator(fn)  # a backend factory, e.g. a Dask map over chunks
    return SerialEvaluator(fn)


def _accuracy_metric(evaluator: PopulationEvaluator) -> str | None:
    label = getattr(evaluator, "accuracy_metric", None)
    if label is None:
        label = getattr(getattr(evaluator, "fn", None), "accuracy_metric", None)
    return label


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("catransformers", "numpy", "pandas", "pymoo", "moocore"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _resume_key(spec: SearchSpec) -> dict[str, Any]:
    d = spec.as_dict()
    d["search"] = {k: v for k, v in d["search"].items() if k != "generations"}
    return d


def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            diff = _first_difference(a.get(k), b.get(k), f"{path}.{k}" if path else k)
            if diff:
                return diff
        return None
    return None if a == b else f"{path} ({b!r} in the checkpoint, {a!r} now)"


# ---------------------------------------------------------------------------------- the run


def run_search(
    spec: SearchSpec,
    out_dir: str | None = None,
    resume: bool = False,
    progress: Callable[[Progress], None] | None = None,
    evaluator: EvaluatorArg = None,
) -> SearchResult:
    """Run the search `spec` describes; with `out_dir`, write evaluations.csv, pareto.csv,
    run.json and a checkpoint there (at most every CHECKPOINT_EVERY_S, after the last generation
    and when the run is interrupted or fails; the report is the caller's: search does not plot).

    resume: continue from `out_dir`'s checkpoint (same spec; generations may grow); the result
    equals an uninterrupted run. progress: called after each generation; it may raise
    `Interrupted` to stop (the checkpoint then holds that generation). evaluator: a PopulationEvaluator, or a factory taking the
    picklable DesignEvaluator (a distributed backend); default: serial, in process.
    """
    if out_dir is None:
        return _run_search(spec, None, resume, progress, evaluator)
    if not str(out_dir).strip():
        raise ConfigError("--out: empty; give a results folder")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"--out: {out_dir!r} is a file; allowed: a results folder (new or written by a search)") from None
    except OSError as exc:
        from ..io import _os_error

        raise _os_error(out_dir, exc) from None
    if not os.path.isdir(out_dir):
        raise ConfigError(f"--out: {out_dir!r} is not a folder; allowed: a results folder (new or written by a search)")
    lock = RunLock(out_dir)
    with lock.held_for():
        removed = clean_temporaries(out_dir)
        if removed:
            log.info("removed %d leftover temporary file(s) in %s", len(removed), out_dir)
        try:
            return _run_search(spec, out_dir, resume, progress, evaluator)
        except OSError as exc:  # the results folder filled up or became read-only: say so in run.json if possible
            _write_failed(out_dir, spec, str(exc))
            raise


def _write_failed(out_dir: str, spec: SearchSpec, message: str) -> None:
    """Best effort: run.json records why the run stopped (a full disk may refuse this write too)."""
    import contextlib

    with contextlib.suppress(OSError):
        atomic_write_json(os.path.join(out_dir, "run.json"), {"status": "failed", "message": message, "spec": spec.as_dict(), "seed": spec.seed, "versions": _versions()})


def _run_search(
    spec: SearchSpec,
    out_dir: str | None,
    resume: bool,
    progress: Callable[[Progress], None] | None,
    evaluator: EvaluatorArg,
) -> SearchResult:
    start = now()
    t_start = start[0]
    setup = prepare(spec, need_accuracy_estimator=evaluator is None or not hasattr(evaluator, "evaluate"))
    pop_eval = _make_evaluator(setup, evaluator)
    archive = Archive(setup.space, setup.objectives, setup.constraints, setup.limits, pop_eval, flag_limits=setup.limits)
    timings = {f"{stage}{unit}": 0.0 for stage in ("evaluate", "algorithm", "checkpoint") for unit in ("_s", "_cpu_s")}
    charge(timings, "prepare", start)
    if setup.method == "exact":
        from .exact import run_exact

        if evaluator is not None:
            raise ConfigError("exact: exact computes costs in process from the analytical model, so a custom evaluator or cluster backend cannot be used; allowed: the GA (drop --exact), or no --workers/--scheduler")
        counts, hv, label, stopped = run_exact(setup, archive, out_dir, resume=resume, progress=progress, t_start=t_start, timings=timings)
        generations_run = 1
    elif setup.method == "exhaustive":
        from .enumerate import enumerate_space

        if out_dir is not None:
            Checkpoint(out_dir).clear()  # an enumeration is not resumable; drop a stale GA state

        counts, hv, label, stopped = enumerate_space(setup, archive, progress=progress, t_start=t_start, timings=timings)
        generations_run = 1
    else:
        hv, label, generations_run, stopped = _run_generations(setup, archive, out_dir, resume, progress, t_start, timings)
        counts = {**archive.counts(), **archive.tally()}
    label = label or _accuracy_metric(pop_eval)
    result = _finish(setup, archive, out_dir, hv, label, generations_run, counts, stopped, timings, start)
    log.debug("search finished in %.2f s (write %.2f s)", timings["total_s"], timings.get("write_csv_s", 0.0))
    return result


def _run_generations(
    setup: SearchSetup,
    archive: Archive,
    out_dir: str | None,
    resume: bool,
    progress: Callable[[Progress], None] | None,
    t_start: float,
    timings: dict[str, float],
) -> tuple[list[float], str | None, int, str | None]:
    spec = setup.spec
    ckpt = Checkpoint(out_dir) if out_dir is not None else None
    hv: list[float] = []
    label: str | None = None
    generation = 0
    stopped: str | None = None
    if setup.method == "random":
        driver: Any = _RandomDriver(archive, spec.population, spec.offspring_count, spec.seed)
    elif setup.method == "nsga2":
        from .nsga2 import ArrayNSGA2

        driver = ArrayNSGA2(archive, spec.population, spec.offspring_count, spec.seed)
    else:
        driver = _PymooDriver(archive, setup.method, len(setup.objectives), spec.population, spec.offspring_count, spec.seed)
    ref_min = setup.reference_min
    if ckpt is not None and resume and ckpt.exists():
        state, chunks = ckpt.load(_resume_key(spec), archive.validate_stored)
        diff = _first_difference(_resume_key(spec), state["resume_key"])
        if diff:
            raise ConfigError(f"--resume: the spec differs from the checkpoint's at {diff}; allowed: the same spec (search.generations may change), or a run without --resume")
        generation = state["generation"]
        hv = _replay(driver, archive, chunks, state, ref_min, ckpt.dir)
        label = state["accuracy_metric"]
        stopped = state["stopped"]
        for k, v in state["timings"].items():
            timings[k] = timings.get(k, 0.0) + v
        log.info("resumed %s at generation %d (%d designs)", out_dir, generation, len(archive))
    elif ckpt is not None:
        if resume:
            log.warning("--resume: no checkpoint in %s; starting afresh", out_dir)
        ckpt.clear()
    last_status = last_save = time.perf_counter()
    if out_dir is not None:
        _write_running(out_dir, setup, hv, generation)
    pending: tuple[int, dict[str, Any]] | None = None  # the last generation's state, not yet saved

    def save() -> None:
        nonlocal pending, last_save
        assert ckpt is not None and pending is not None
        n_chunks, state = pending
        ckpt.save(archive.chunks[:n_chunks], state, keep=STORED_KEYS)
        pending = None
        last_save = time.perf_counter()

    try:
        while generation < spec.generations and stopped is None:
            if not driver.step(generation + 1, timings):
                stopped = f"every design reachable was evaluated after {generation} generations"
                break
            generation += 1
            t1 = now()
            hv.append(hypervolume(archive.front, ref_min))
            t2 = charge(timings, "algorithm", t1)
            label = label or _accuracy_metric(archive.evaluator)
            if ckpt is not None:
                pending = (len(archive.chunks), {
                    "resume_key": _resume_key(spec),
                    "generation": generation,
                    "hypervolume": list(hv),
                    "cache_hits": archive.cache_hits,
                    "accuracy_metric": label,
                    "stopped": stopped,
                    "timings": {k: v for k, v in timings.items() if not k.startswith("prepare_")},
                })
                if generation == spec.generations or time.perf_counter() - last_save >= CHECKPOINT_EVERY_S:
                    save()
                if time.perf_counter() - last_status > STATUS_EVERY_S:
                    _write_running(out_dir, setup, hv, generation)
                    last_status = time.perf_counter()
                charge(timings, "checkpoint", t2)
            if progress is not None:
                c = archive.counts()
                progress(Progress(generation, spec.generations, c["designs"], c["feasible"], hv[-1], time.perf_counter() - t_start, setup.method))
    except BaseException:
        # interrupted (Ctrl-C, a progress callback) or failed: keep the generations completed so far
        if pending is not None:
            with contextlib.suppress(OSError):
                save()
        raise
    if pending is not None:
        save()
    return hv, label, generation, stopped


def _replay(driver: Any, archive: Archive, chunks: list[dict[str, np.ndarray]], state: dict[str, Any], ref_min: np.ndarray, where: str) -> list[float]:
    """Rebuild the algorithm from data: rerun its generations from the seed, answering every
    evaluation with the stored rows (nothing is re-evaluated). The rows each generation asks
    for must be exactly the stored ones, so a log from another seed or spec cannot pass."""
    archive.replay_from(chunks, where)
    hv: list[float] = []
    scratch: dict[str, float] = collections.defaultdict(float)
    for g in range(1, state["generation"] + 1):
        if not driver.step(g, scratch):
            raise DataError(f"--resume: {where}: the search ends at generation {g - 1} when replayed, the checkpoint at {state['generation']} (from another run, or edited); allowed: run without --resume to start afresh")
        hv.append(hypervolume(archive.front, ref_min))
    archive.end_replay()
    if archive.cache_hits != state["cache_hits"] or not np.allclose(hv, state["hypervolume"], rtol=1e-9, atol=0.0):
        raise DataError(f"--resume: {where}: the replayed generations do not give the checkpoint's hypervolume and counts (from another run, or edited); allowed: run without --resume to start afresh")
    return hv


class _PymooDriver:
    """One generation = pymoo's ask, the archive-backed evaluation, tell: NSGA-III (and pymoo's
    NSGA-II, the reference `nsga2.ArrayNSGA2` is tested against). Rebuilt on resume by replaying."""

    def __init__(self, archive: Archive, method: str, n_obj: int, population: int, offspring: int, seed: int) -> None:
        from pymoo.core.termination import NoTermination

        from .algorithms import build_algorithm
        from .problem import SearchProblem

        self.problem = SearchProblem(archive)
        self.algorithm = build_algorithm(method, n_obj, population, offspring)
        self.algorithm.setup(self.problem, termination=NoTermination(), seed=seed, verbose=False)
        self.algorithm.eliminate_duplicates.attach(archive)

    def attach(self, archive: Archive) -> None:
        self.algorithm.problem.attach(archive)
        self.problem = self.algorithm.problem
        self.algorithm.eliminate_duplicates.attach(archive)

    def step(self, generation: int, timings: dict[str, float]) -> bool:
        t0 = now()
        self.problem.generation = generation
        infills = self.algorithm.ask()
        if infills is None or len(infills) == 0:
            charge(timings, "algorithm", t0)
            return False
        t1 = charge(timings, "algorithm", t0)
        self.algorithm.evaluator.eval(self.problem, infills, algorithm=self.algorithm)
        t2 = charge(timings, "evaluate", t1)
        self.algorithm.tell(infills=infills)
        # the offspring are merged into the population by now and nothing reads them before
        # the next ask: dropping them halves every checkpoint (resumed and uninterrupted alike)
        self.algorithm.off = None
        charge(timings, "algorithm", t2)
        return True


class _RandomDriver:
    """The baseline: new designs uniformly at random over the index grid (designs already
    evaluated are drawn again), as many per generation as the GA's (`population` in the first,
    `offspring` after), same bookkeeping as the GA."""

    def __init__(self, archive: Archive, population: int, offspring: int, seed: int) -> None:
        self.archive: Archive | None = archive
        self.population = population
        self.offspring = offspring
        self.rng = np.random.default_rng(seed)

    def attach(self, archive: Archive) -> None:
        self.archive = archive

    def step(self, generation: int, timings: dict[str, float]) -> bool:
        assert self.archive is not None
        t0 = now()
        space = self.archive.space
        remaining = space.size - len(self.archive)
        want = min(self.population if generation == 1 else self.offspring, remaining)
        if want <= 0:
            return False
        picked: dict[bytes, np.ndarray] = {}
        while len(picked) < want:
            X = self.rng.integers(0, space.upper + 1, size=(2 * want, space.n_var))
            for row, key in zip(X, Archive.keys(X)):
                if len(picked) < want and key not in picked and not self.archive.seen(key):
                    picked[key] = row
        X = np.array(list(picked.values()), dtype=np.int64)
        t1 = charge(timings, "algorithm", t0)
        self.archive.evaluate(X, generation)
        charge(timings, "evaluate", t1)
        return True


# ---------------------------------------------------------------------------------- outputs


def _finish(
    setup: SearchSetup,
    archive: Archive,
    out_dir: str | None,
    hv: list[float],
    label: str | None,
    generations_run: int,
    counts: dict[str, int],
    stopped: str | None,
    timings: dict[str, float],
    start: tuple[float, float],
) -> SearchResult:
    t0 = now()
    table = archive.table(label, constants=setup.scenario.row_columns() if hasattr(setup.scenario, "row_columns") else None)
    pareto = table[table["pareto"]].reset_index(drop=True)
    feasible = counts["feasible"]
    status = "complete" if feasible else "no-feasible"
    message = _message(setup, table, counts)
    recommended = _recommended(setup, pareto)
    evaluations = table
    rows_note = None
    if setup.method == "exhaustive" and counts["designs"] > len(table):
        rows_note = f"evaluations.csv holds the {len(table):,} rows kept of {counts['designs']:,} enumerated (over exhaustive.max_rows = {setup.spec.max_rows:,}: the Pareto rows only)"
    elif setup.method == "exact":
        rows_note = f"exact front of all {counts['designs']:,} designs: evaluations.csv holds its {len(table):,} designs, evaluated by the pipeline"
    run: dict[str, Any] = {
        "mode": setup.mode.name,
        "status": status,
        "message": message,
        "method": setup.method,
        "objectives": setup.objectives_json(),
        "constraints": {c.name: setup.limits[c.name] for c in setup.constraints},
        "limits": dict(setup.limits),
        "reference_point": list(setup.reference_point),
        "hypervolume": [float(h) for h in hv],
        "hypervolume_note": "native units (product of the objectives' units), maximised objectives negated, against reference_point",
        "generations_run": generations_run,
        "stopped": stopped,
        "counts": {**{k: v for k, v in counts.items() if not k.startswith(("broken_", "checked_"))}, "pareto": int(len(pareto)), **_pareto_extrapolated(pareto)},
        "infeasible_by_constraint": infeasible_by_constraint(setup, counts),
        "accuracy_validated_range": setup.accuracy.validated_range() if hasattr(setup.accuracy, "validated_range") else None,
        "recommended": recommended,
        "rows_note": rows_note,
        "accuracy_metric": label,
        "space": setup.space.describe(),
        "scenario": setup.scenario.describe() if hasattr(setup.scenario, "describe") else str(setup.scenario),
        "spec": setup.spec.as_dict(),
        "seed": setup.spec.seed,
        "versions": _versions(),
        "timings": {},
    }
    if out_dir is not None:
        atomic_write_text(os.path.join(out_dir, "evaluations.csv"), csv_text(evaluations))
        atomic_write_text(os.path.join(out_dir, "pareto.csv"), csv_text(pareto))
        charge(timings, "write_csv", t0)
        charge(timings, "total", start)
        run["timings"] = {k: round(v, 4) for k, v in timings.items()}
        atomic_write_json(os.path.join(out_dir, "run.json"), run)
    else:
        charge(timings, "total", start)
        run["timings"] = {k: round(v, 4) for k, v in timings.items()}
    return SearchResult(setup=setup, evaluations=evaluations, pareto=pareto, run=run, out_dir=out_dir)


def _pareto_extrapolated(pareto: Any) -> dict[str, int]:
    return {"accuracy_extrapolated_pareto": int(pareto["accuracy_extrapolated"].fillna(False).to_numpy(dtype=bool).sum())}


def infeasible_by_constraint(setup: SearchSetup, counts: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """Per constraint of the mode: the limit, how many designs broke it and of how many it was
    checked on (hardware limits: every design; latency: the evaluated ones); then failed evaluations."""
    out: dict[str, dict[str, Any]] = {}
    for c in setup.constraints:
        out[c.name] = {"limit": float(setup.limits[c.name]), "broken": int(counts.get(f"broken_{c.name}", 0)), "checked": int(counts.get(f"checked_{c.name}", 0))}
    out["evaluation_failed"] = {"limit": None, "broken": int(counts.get("failed", 0)), "checked": int(counts.get("evaluated", 0))}
    return out


def _recommended(setup: SearchSetup, pareto: Any) -> dict[str, Any] | None:
    """The front's recommended design with its full breakdown (re-evaluated once, in process)."""
    from .decision import design_breakdown, recommend

    rec = recommend(pareto, setup.objectives, setup.space.model_columns, setup.space.hardware_columns)
    if rec is None:
        return None
    row = pareto[pareto["id"] == rec["id"]].iloc[0]
    # accuracy is the row's already: re-evaluating only the cost and carbon keeps a measured
    # estimator from running again
    rec["breakdown"] = design_breakdown(setup.space, row, setup.scenario, None, setup.spec.profile)
    return rec


def _write_running(out_dir: str, setup: SearchSetup, hv: list[float], generation: int) -> None:
    """run.json while a run is under way (status "running"); the final one replaces it."""
    atomic_write_json(
        os.path.join(out_dir, "run.json"),
        {
            "mode": setup.mode.name,
            "status": "running",
            "method": setup.method,
            "objectives": setup.objectives_json(),
            "constraints": {c.name: setup.limits[c.name] for c in setup.constraints},
            "reference_point": list(setup.reference_point),
            "hypervolume": [float(h) for h in hv],
            "generations_run": generation,
            "spec": setup.spec.as_dict(),
            "seed": setup.spec.seed,
            "versions": _versions(),
            "timings": {},
        },
    )


def _message(setup: SearchSetup, table: Any, counts: dict[str, int]) -> str:
    n = counts["designs"]
    if counts["feasible"]:
        return f"{counts['feasible']:,} of {n:,} designs feasible"
    parts = []
    n_evaluated = counts["evaluated"]
    for c in setup.constraints:
        met = int(table[f"meets_{c.name}"].sum()) if f"meets_{c.name}" in table else 0
        limit = setup.limits[c.name]
        shown = f"{limit:,.0f}" if abs(limit) >= 1e4 else f"{limit:g}"
        of = f"{n:,}" if c.hardware_only else f"{n_evaluated:,} evaluated"
        parts.append(f"{c.name} <= {shown}: {met:,} of {of} met")
    if counts["failed"]:
        parts.append(f"{counts['failed']:,} evaluations failed")
    return f"no feasible design: none of {n:,} designs meets every constraint ({'; '.join(parts)})"
