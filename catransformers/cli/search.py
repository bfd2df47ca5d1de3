"""`catransformers search`, `compare` and `plot`: co-design searches into results folders and their reports."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from typing import Any, Iterator

from ..errors import ConfigError
from ..summary import compare_summary, search_summary
from . import args as A
from .progress import ProgressBar, progress_enabled

__all__ = ["add_parsers", "cmd_search", "cmd_compare", "cmd_plot", "write_reports"]


@contextlib.contextmanager
def _backend(args: argparse.Namespace, spec: Any) -> Iterator[Any]:
    """Serial evaluation, or a Dask cluster with --workers N / --scheduler ADDRESS (inputs checked first)."""
    if args.workers is None and args.scheduler is None:
        yield None
        return
    from ..search.distributed import check_address, dask_backend
    from ..search.runner import prepare

    # Every input is checked before a cluster starts: a typo must not cost a cluster's start-up.
    if args.scheduler is not None:
        check_address(args.scheduler)
    prepare(spec, need_accuracy_estimator=False)
    for key in ("retrieval_csv", "zeroshot_folder", "finetune_csv"):
        path = spec.accuracy_options.get(key)
        if isinstance(path, str) and not os.path.exists(path):
            flag = "--data" if key != "finetune_csv" else f"accuracy.options.{key}"
            raise ConfigError(f"{flag}: {path!r} does not exist; allowed: an image-caption CSV or an ImageFolder")
    _quiet_dask(args.verbose)
    with dask_backend(workers=args.workers, scheduler=args.scheduler) as backend:
        yield backend


class _OneLine(logging.Filter):
    """Dask's records without their tracebacks (a closed connection at shutdown is not our error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def _quiet_dask(verbosity: int) -> None:
    """Dask's own loggers at WARNING (INFO with -vv), one line a record: our progress line is the output."""
    import distributed  # noqa: F401 - importing it applies dask's logging config, which this overrides

    level = logging.INFO if verbosity >= 2 else logging.WARNING
    for name in ("distributed", "tornado", "bokeh"):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if not any(isinstance(f, _OneLine) for f in logger.filters):
            logger.addFilter(_OneLine())
        for handler in logger.handlers:
            handler.setLevel(level)
def write_reports(result: Any, out_dir: str, plotlyjs: str = "directory", js_dir: str | None = None) -> str:
    """report.html of a finished search, built from the in-memory result (search does not plot; the CLI composes the two).

    The build time goes into run.json's timings as report_s and report_cpu_s (and total_s, total_cpu_s grow by them)."""
    from ..io import atomic_write_json
    from ..timing import charge, now
    from ..viz import results_from, write_report

    t0 = now()
    path = write_report(results_from(result, out_dir), os.path.join(out_dir, "report.html"), plotlyjs=plotlyjs, js_dir=js_dir)
    spent: dict[str, float] = {}
    charge(spent, "report", t0)
    timings = dict(result.run.get("timings") or {})
    for unit in ("_s", "_cpu_s"):
        timings[f"report{unit}"] = round(spent[f"report{unit}"], 4)
        if f"total{unit}" in timings:
            timings[f"total{unit}"] = round(timings[f"total{unit}"] + spent[f"report{unit}"], 4)
    result.run["timings"] = timings
    atomic_write_json(os.path.join(out_dir, "run.json"), result.run)
    return path


def cmd_search(args: argparse.Namespace) -> int:
    from ..search import load_spec, run_search

    spec = load_spec(args.spec, A.spec_overrides(args))
    out_dir = args.out or os.path.join("results", spec.mode)
    bar = ProgressBar(progress_enabled(args), spec.mode)
    try:
        with _backend(args, spec) as backend:
            result = run_search(spec, out_dir, resume=args.resume, progress=bar, evaluator=backend)
    except KeyboardInterrupt:
        bar.close()
        print(f"catransformers: interrupted; {out_dir} keeps the last generation's checkpoint: add --resume to continue", file=sys.stderr)
        return 130
    finally:
        bar.close()
    if not args.no_report:
        write_reports(result, out_dir, args.plotlyjs)
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
        with _backend(args, spec) as backend:
            scenarios = args.scenarios.split(",") if args.scenarios is not None else None
            result = run_compare(spec, args.modes.split(","), args.out, progress=progress, evaluator=backend, scenarios=scenarios)
    finally:
        bar.close()
    if not args.no_report:
        from ..viz import results_from, write_compare_report

        # one plotly.js in the compare folder, shared by every mode's report and compare.html
        for r in result.results.values():
            write_reports(r, r.out_dir, args.plotlyjs, js_dir=args.out)
        write_compare_report(args.out, {m: results_from(r) for m, r in result.results.items()}, plotlyjs=args.plotlyjs, table=result.table)
    text, warnings = compare_summary(result, args.out)
    print(text)
    for line in warnings:
        print(f"catransformers: warning: {line}", file=sys.stderr)
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """Re-render from files: what is read back is checked like any other input (viz.load_results)."""
    from ..errors import ConfigError
    from ..viz import render

    target = args.dir
    if os.path.isdir(target) and not any(
        os.path.exists(os.path.join(target, f)) for f in ("run.json", "compare.json", "evaluations.csv")
    ) and not any(os.path.isfile(os.path.join(target, d, "evaluations.csv")) for d in os.listdir(target)):
        raise ConfigError(f"plot: {target!r} has no run.json or compare.json; allowed: a folder written by `catransformers search` or `compare`, or a sweep CSV")
    if not os.path.exists(target):
        raise ConfigError(f"plot: {target!r} has no run.json or compare.json (it does not exist); allowed: a folder written by `catransformers search` or `compare`, or a sweep CSV")
    for path in render(target, args.html_out, plotlyjs=args.plotlyjs, image_format=args.format):
        print(path)
    if args.format:
        print(f"figures as {args.format}: {os.path.join(os.path.dirname(os.path.abspath(path)), 'figures')}")
    return 0


def _add_report_args(p: argparse.ArgumentParser) -> None:
    from ..viz.report import PLOTLYJS_MODES

    p.add_argument(
        "--plotlyjs", choices=PLOTLYJS_MODES, default="directory",
        help="how reports load plotly.js: directory (default: one plotly-<version>.min.js beside the reports, works offline), inline (in every page), cdn (needs internet)",
    )


def _add_search_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spec", metavar="FILE.toml", help="search spec; every key optional (defaults: catransformers/data/search_defaults.toml)")
    p.add_argument("--model", metavar="NAME", help="base model (default vit-b-16)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--population", type=int, help="population size (default 100)")
    p.add_argument("--offspring", type=int, help="designs per generation after the first (default: 2 x population)")
    p.add_argument("--generations", type=int, help="generations, the initial population included (default 50: 100 + 49 x 200 = 9,900 designs)")
    p.add_argument("--algorithm", metavar="NAME", help="auto (default), nsga2, nsga3 or random. auto: NSGA-II for two objectives, NSGA-III for three or more; random: the uniform random baseline")
    p.add_argument("--scenario", metavar="NAME|FILE", help="carbon scenario preset or TOML file (default reference)")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], help="override a spec key (dotted: search.population=20, space.text_layers=[6,9], hardware.axes.clusters=[1,2]) or a scenario field (plain: use_region=FR); repeatable")
    p.add_argument("--accuracy", metavar="NAME", help="accuracy estimator (default clip-scaling; none, default, or a registered name)")
    p.add_argument("--grid", metavar="NAME", help="hardware grid (default reference, 3,240 points)")
    p.add_argument("--profile", metavar="NAME|FILE", help=A.PROFILE_HELP + " (spec key hardware.profile)")
    A.add_limit_args(p)
    p.add_argument("--progress", dest="progress", action="store_true", default=None, help="progress on stderr (default on: a bar on a terminal, one line per 10 generations otherwise, and a note when the hypervolume stops improving)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    _add_report_args(p)
    p.add_argument("--data", metavar="CSV|DIR", help="measure accuracy on real data (openclip estimator): an image-caption CSV or an ImageFolder; more options with --set accuracy.options.KEY=VALUE")
    dist = p.add_mutually_exclusive_group()
    dist.add_argument("--workers", type=A.count(1, 1024), metavar="N", help="evaluate populations on a local Dask cluster of N worker processes (distributed extra)")
    dist.add_argument("--scheduler", metavar="ADDRESS", help="evaluate populations on an existing Dask cluster (e.g. tcp://host:8786)")


def add_parsers(sub: Any) -> None:
    from ..search.objectives import OBJECTIVES  # the registry (no pymoo)

    p = sub.add_parser("search", help="co-design search (NSGA-II/III or exhaustive) into a results folder")
    p.add_argument("--mode", metavar="MODE", help="carbon (default), latency, energy, all, all-hw, model-only")
    p.add_argument("--objectives", metavar="NAME,...", help=f"objectives instead of the mode's: {', '.join(OBJECTIVES)}")
    p.add_argument("--out", metavar="DIR", help="results folder (default results/<mode>)")
    p.add_argument("--resume", action="store_true", help="continue DIR's run from its last checkpoint (same spec; --generations may grow)")
    p.add_argument("--exhaustive", action="store_true", help="enumerate the space instead of the GA (must fit exhaustive.limit, default 2e6 designs)")
    p.add_argument("--exact", action="store_true", help="the exact Pareto front of the whole space instead of the GA (modes whose objectives add over the towers; docs/search.md)")
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
    p.add_argument("--out", dest="html_out", metavar="FILE.html", help="the page to write (one results folder or a sweep CSV only; default DIR/report.html, or the CSV's name with .html)")
    p.add_argument("--format", choices=("png", "svg"), help="also write every figure as a static image into figures/ beside the page (needs the static extra: kaleido, and Chromium or Chrome on PATH)")
    _add_report_args(p)
    p.set_defaults(func=cmd_plot)
