"""`catransformers search`, `compare` and `plot`: co-design searches into results folders and their reports."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import Any, Iterator

from ..summary import compare_summary, search_summary
from . import args as A
from .progress import ProgressBar, progress_enabled

__all__ = ["add_parsers", "cmd_search", "cmd_compare", "cmd_plot"]


@contextlib.contextmanager
def _backend(args: argparse.Namespace) -> Iterator[Any]:
    """Serial evaluation, or a Dask cluster with --workers N / --scheduler ADDRESS."""
    if args.workers is None and args.scheduler is None:
        yield None
        return
    from ..search.distributed import dask_backend

    with dask_backend(workers=args.workers, scheduler=args.scheduler) as backend:
        yield backend


def cmd_search(args: argparse.Namespace) -> int:
    from ..search import load_spec, run_search

    spec = load_spec(args.spec, A.spec_overrides(args))
    out_dir = args.out or os.path.join("results", spec.mode)
    bar = ProgressBar(progress_enabled(args), spec.mode)
    try:
        with _backend(args) as backend:
            result = run_search(spec, out_dir, resume=args.resume, progress=bar, report=not args.no_report, evaluator=backend)
    except KeyboardInterrupt:
        bar.close()
        print(f"catransformers: interrupted; {out_dir} keeps the last generation's checkpoint: add --resume to continue", file=sys.stderr)
        return 130
    finally:
        bar.close()
    print(search_summary(result, out_dir))
    if result.status == "no-feasible":
        print(f"catransformers: warning: {result.run['message']}", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from ..search import load_spec, run_compare

    spec = load_spec(args.spec, A.spec_overrides(args))
    bar = ProgressBar(progress_enabled(args))
    last: list[str] = []

    def progress(mode: str, p: Any) -> None:
        if last and last[0] != mode:
            bar.close()
        last[:] = [mode]
        bar(p, name=mode)

    try:
        with _backend(args) as backend:
            scenarios = args.scenarios.split(",") if args.scenarios is not None else None
            result = run_compare(spec, args.modes.split(","), args.out, progress=progress, report=not args.no_report, evaluator=backend, scenarios=scenarios)
    finally:
        bar.close()
    text, warnings = compare_summary(result, args.out)
    print(text)
    for line in warnings:
        print(f"catransformers: warning: {line}", file=sys.stderr)
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from ..errors import ConfigError

    folder = args.dir
    if folder.endswith(".csv"):
        from ..viz import render

        for path in render(folder):
            print(path)
        return 0
    compare_json = os.path.join(folder, "compare.json")
    if os.path.exists(compare_json):
        from ..viz import write_compare_report, write_report

        with open(compare_json, encoding="utf-8") as fh:
            modes = json.load(fh)["modes"]
        mode_dirs = {m: os.path.join(folder, sub) for m, sub in modes.items()}
        for m, d in mode_dirs.items():
            print(write_report(d))
        print(write_compare_report(folder, mode_dirs))
        return 0
    if not os.path.exists(os.path.join(folder, "run.json")):
        raise ConfigError(f"plot: {folder!r} has no run.json or compare.json; allowed: a folder written by `catransformers search` or `compare`")
    from ..viz import write_report

    print(write_report(folder))
    return 0


def _add_search_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spec", metavar="FILE.toml", help="search spec; every key optional (defaults: catransformers/data/search_defaults.toml)")
    p.add_argument("--model", metavar="NAME", help="base model (default vit-b-16)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--population", type=int, help="population size (default 100)")
    p.add_argument("--generations", type=int, help="generations, the initial population included (default 100)")
    p.add_argument("--algorithm", choices=("auto", "nsga2", "nsga3"), help="default auto: NSGA-II for two objectives, NSGA-III for three or more")
    p.add_argument("--scenario", metavar="NAME|FILE", help="carbon scenario preset or TOML file (default reference)")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], help="override a spec key (dotted: search.population=20, space.text_layers=[6,9], hardware.axes.clusters=[1,2]) or a scenario field (plain: use_region=FR); repeatable")
    p.add_argument("--accuracy", metavar="NAME", help="accuracy estimator (default clip-scaling; none, default, or a registered name)")
    p.add_argument("--grid", metavar="NAME", help="hardware grid (default reference, 3,240 points)")
    p.add_argument("--profile", metavar="NAME|FILE", help=A.PROFILE_HELP + " (spec key hardware.profile)")
    A.add_limit_args(p)
    p.add_argument("--progress", dest="progress", action="store_true", default=None, help="progress on stderr (default on: a bar on a terminal, one line per 10 generations otherwise, and a note when the hypervolume stops improving)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.add_argument("--data", metavar="CSV|DIR", help="measure accuracy on real data (openclip estimator): an image-caption CSV or an ImageFolder; more options with --set accuracy.options.KEY=VALUE")
    dist = p.add_mutually_exclusive_group()
    dist.add_argument("--workers", type=int, metavar="N", help="evaluate populations on a local Dask cluster of N worker processes (distributed extra)")
    dist.add_argument("--scheduler", metavar="ADDRESS", help="evaluate populations on an existing Dask cluster (e.g. tcp://host:8786)")


def add_parsers(sub: Any) -> None:
    from ..search.objectives import OBJECTIVES  # the registry (no pymoo)

    p = sub.add_parser("search", help="co-design search (NSGA-II/III or exhaustive) into a results folder")
    p.add_argument("--mode", metavar="MODE", help="carbon (default), latency, energy, all, all-hw, model-only")
    p.add_argument("--objectives", metavar="NAME,...", help=f"objectives instead of the mode's: {', '.join(OBJECTIVES)}")
    p.add_argument("--out", metavar="DIR", help="results folder (default results/<mode>)")
    p.add_argument("--resume", action="store_true", help="continue DIR's run from its last checkpoint (same spec; --generations may grow)")
    p.add_argument("--exhaustive", action="store_true", help="enumerate the space instead of the GA (must fit exhaustive.limit, default 2e6 designs)")
    _add_search_args(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("compare", help="the same space and scenario under several modes; chosen designs at matched accuracy")
    p.add_argument("--modes", metavar="MODE,...", default="carbon,latency,energy,all", help="modes to run (default carbon,latency,energy,all)")
    p.add_argument("--out", metavar="DIR", default=os.path.join("results", "compare"), help="folder: one sub-folder per mode, compare.csv, compare.html (default results/compare)")
    p.add_argument("--scenarios", metavar="NAME|REGION,...", help="run every mode under each deployment scenario: a preset (reference, paper) or a region code (the spec's scenario with use_region=CODE), e.g. CA-BC-PAPER,US-CA-PAPER,TW-PAPER; one sub-folder per scenario")
    _add_search_args(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("plot", help="re-render report.html (and compare.html) of a results folder, or plot a sweep CSV")
    p.add_argument("dir", metavar="DIR|SWEEP.csv", help="a folder written by search or compare, or a CSV written by sweep")
    p.set_defaults(func=cmd_plot)
