"""Command-line interface: thin argument parsing over the library; one-line errors, exit 2."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from typing import Any, Callable, Iterator, Sequence

from . import __version__
from .errors import CATransformersError

__all__ = ["main", "build_parser"]

log = logging.getLogger("catransformers")

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too; keep it short)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _pairs(text: str, what: str) -> dict[str, str]:
    """'a=1,b=2' -> {'a': '1', 'b': '2'}."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "=" not in part:
            raise CATransformersError(f"{what}: {part!r} is not KEY=VALUE")
        key, value = (s.strip() for s in part.split("=", 1))
        if key in out:
            raise CATransformersError(f"{what}: key {key!r} given twice")
        out[key] = value
    return out


def _set_pairs(values: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or ():
        out.update(_pairs(item, "--set"))
    return out


# ----------------------------------------------------------------------------- shared inputs


def _hardware(arg: str | None):
    from hw_models import HardwareConfig

    if not arg:
        return HardwareConfig()
    if arg.endswith(".toml"):
        return HardwareConfig.from_toml(arg)
    return HardwareConfig.from_mapping(_pairs(arg, "--hardware"))


def _models(arg: str, prune: str | None):
    from .errors import ConfigError
    from .workloads import prune as prune_model
    from .workloads import resolve_model

    names = [a.strip() for a in arg.split(",") if a.strip()]
    if not names:
        raise ConfigError("--model: empty; give a model name (see `catransformers data models`) or a .toml file")
    models = [resolve_model(n) for n in names]
    if prune:
        values = _pairs(prune, "--prune")
        models = [prune_model(m, values, name=f"{m.root.name}[{prune}]") for m in models]
    return models


def _scenario(name: str | None, overrides: dict[str, str]):
    from .carbon import load_scenario

    scenario = load_scenario(name or "reference")
    return scenario.with_overrides(overrides) if overrides else scenario


def _accuracy(name: str):
    if name == "none":
        return None
    if name == "default":
        return "default"
    from .accuracy import get_estimator

    return get_estimator(name)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:
            return "n/a"
        if value == 0 or 1e-3 <= abs(value) < 1e6:
            return f"{value:.4g}"
        return f"{value:.4e}"
    return str(value)


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[_fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))) for row in cells]
    return "\n".join(lines)


def _csv(rows: list[dict[str, Any]], columns: Sequence[str], out=None) -> None:
    import csv

    writer = csv.DictWriter(out or sys.stdout, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in columns})


# ----------------------------------------------------------------------------- commands

_SUMMARY = (
    "model",
    "latency_s",
    "energy_j",
    "area_mm2",
    "tops",
    "macs",
    "params",
    "embodied_kg",
    "operational_kg",
    "total_kg",
    "accuracy",
)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate

    hw = _hardware(args.hardware)
    scenario = _scenario(args.scenario, _set_pairs(args.set))
    if args.workload:
        from .workloads import load_topology

        if args.model:
            raise CATransformersError("--workload: give either --model or --workload, not both")
        targets = [(load_topology(args.workload), args.workload)]
    else:
        targets = [(m, m.name) for m in _models(args.model or "vit-b-16", args.prune)]
    accuracy = _accuracy(args.accuracy)
    records = []
    for target, name in targets:
        ev = evaluate(target, hw, scenario=scenario, accuracy=accuracy, profile=args.profile)
        rec = ev.record(0)
        rec.setdefault("model", name)
        records.append(rec)
    if args.format == "json":
        print(json.dumps(records[0] if len(records) == 1 else records, indent=2))
    elif args.format == "csv":
        columns = ["model", *[k for k in records[0] if k not in ("model", "ops", "hardware", "accuracy_all", "energy_by_component_j", "scenario")]]
        _csv(records, columns)
    elif len(records) == 1:
        print(_single_report(records[0]))
    else:
        print(_table(records, [c for c in _SUMMARY if c in records[0] or c == "model"]))
        if records[0].get("accuracy_metric"):
            print(f"\naccuracy: {records[0]['accuracy_metric']}")
    return 0


def _single_report(rec: dict[str, Any]) -> str:
    lines = [f"model     {rec.get('model')}", "hardware  " + ", ".join(f"{k}={v}" for k, v in rec.get("hardware", {}).items())]
    lines.append("")
    for key in ("latency_s", "energy_j", "area_um2", "area_mm2", "tops", "macs", "params", "embodied_kg", "embodied_logic_kg", "embodied_dram_kg", "operational_kg", "total_kg", "energy_lifetime_kwh", "accuracy"):
        if key in rec:
            lines.append(f"{key:<22}{_fmt(rec[key])}")
    if rec.get("accuracy_metric"):
        lines.append(f"{'accuracy_metric':<22}{rec['accuracy_metric']}")
    if rec.get("ops"):
        lines.append("")
        cols = [c for c in ("name", "kind", "macs", "latency_s", "energy_j", "utilisation", "bound") if c in rec["ops"][0]]
        lines.append(_table(rec["ops"], cols))
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import sweep

    models = _models(args.model, args.prune)
    scenario = _scenario(args.scenario, _set_pairs(args.set))
    limits = {"latency_s": args.max_latency_s, "area_um2": args.max_area_um2, "tops": args.max_tops}
    results = [sweep(m, scenario=scenario, grid=args.grid, limits=limits, accuracy=_accuracy(args.accuracy), profile=args.profile) for m in models]
    if args.out:
        from .sweep import write_sweep_csv

        write_sweep_csv(results, args.out)
    for res in results:
        print(res.summary())
        print()
    if args.out:
        print(f"wrote {sum(len(r.table) for r in results)} rows to {args.out}")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    if args.table == "models":
        from .workloads import list_models

        rows = [{"name": k, "description": v} for k, v in list_models().items()]
        print(_table(rows, ["name", "description"]))
        return 0
    import carbon_data

    frame = {"regions": carbon_data.list_regions, "nodes": carbon_data.list_nodes, "dram": carbon_data.list_dram_types, "fabs": carbon_data.list_fab_locations}[args.table]()
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
        return 0
    import pandas as pd

    # The terminal view keeps the identifying columns and the value; --format csv has every column.
    wanted = ("code", "name", "kind", "location", "table", "node_nm", "dram_type", "intensity_g_per_kwh",
              "epa_kwh_per_cm2", "gpa_95_g_per_cm2", "gpa_99_g_per_cm2", "mpa_g_per_cm2", "cps_g_per_gb", "year", "source")
    view = frame[[c for c in wanted if c in frame.columns]].copy()
    for col in view.columns:
        if view[col].dtype == object or str(view[col].dtype).startswith("str"):
            view[col] = view[col].astype(str).map(lambda v: v if len(v) <= 48 else v[:45] + "...")
    with pd.option_context("display.max_rows", None, "display.max_colwidth", 48, "display.width", 200):
        print(view.to_string(index=False))
    print(f"\n{len(frame)} rows; full columns (unit, licence, notes) with --format csv")
    return 0


# ----------------------------------------------------------------------------- search, compare, plot


def _split_top(text: str) -> list[str]:
    """'a=1,b=[1,2]' -> ['a=1', 'b=[1,2]']: commas inside brackets, braces or quotes do not split."""
    parts, depth, quote, cur = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _spec_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """CLI flags -> dotted spec keys. --set KEY=VALUE: a dotted KEY addresses the spec
    (search.population=20, space.text_layers=[6,9]); a plain KEY a scenario field (use_region=FR)."""
    from .errors import ConfigError
    from .search.spec import parse_override

    out: dict[str, Any] = {}
    for item in args.set or ():
        for part in _split_top(item):
            if "=" not in part:
                raise ConfigError(f"--set: {part!r} is not KEY=VALUE")
            key, value = (s.strip() for s in part.split("=", 1))
            if "." in key:
                out[key] = parse_override(value)
            else:
                out[f"scenario.{key}"] = value  # scenario fields parse their own strings
    flags = {
        "search.mode": getattr(args, "mode", None),
        "model.name": args.model,
        "search.seed": args.seed,
        "search.population": args.population,
        "search.generations": args.generations,
        "search.algorithm": args.algorithm,
        "scenario.name": args.scenario,
        "accuracy.estimator": args.accuracy,
        "hardware.grid": args.grid,
        "constraints.latency_s": args.max_latency_s,
        "constraints.area_um2": args.max_area_um2,
        "constraints.tops": args.max_tops,
    }
    if getattr(args, "objectives", None) is not None:
        names = [o.strip() for o in args.objectives.split(",") if o.strip()]
        if not names:
            raise ConfigError(f"--objectives: {args.objectives!r} is empty; allowed: a comma-separated list of objective names")
        flags["search.objectives"] = names
    if getattr(args, "exhaustive", False):
        flags["exhaustive.enabled"] = True
    if getattr(args, "data", None):
        # Measured accuracy on the user's data: a captions CSV (retrieval) or an image folder (zero-shot).
        key = "zeroshot_folder" if os.path.isdir(args.data) else "retrieval_csv"
        flags[f"accuracy.options.{key}"] = args.data
        if args.accuracy is None:
            flags["accuracy.estimator"] = "openclip"
    out.update({k: v for k, v in flags.items() if v is not None})
    return out


class _ProgressBar:
    """One self-rewriting stderr line per run: generation, bar, hypervolume, designs, time."""

    def __init__(self, enabled: bool, name: str = "") -> None:
        self.enabled = enabled
        self.name = name
        self.active = False

    def __call__(self, p: Any, name: str | None = None) -> None:
        if not self.enabled:
            return
        width = 24
        done = p.generation / p.generations if p.generations else 1.0
        fill = int(round(width * done))
        label = name or self.name
        line = (
            f"\r{label + '  ' if label else ''}gen {p.generation:>4}/{p.generations:<4} [{'#' * fill}{'-' * (width - fill)}] "
            f"HV {p.hypervolume:.5g}  designs {p.designs:,}  feasible {p.feasible:,}  {p.elapsed_s:.1f} s"
        )
        sys.stderr.write(line)
        sys.stderr.flush()
        self.active = True

    def close(self) -> None:
        if self.active:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.active = False


def _progress_enabled(args: argparse.Namespace) -> bool:
    if args.progress is not None:
        return args.progress
    return sys.stderr.isatty()


def _front_rows(result: Any, limit: int = 8) -> list[dict[str, Any]]:
    import numpy as np

    front = result.pareto
    if front.empty:
        return []
    first = result.setup.objectives[0]
    front = front.sort_values(first.name, ascending=first.direction == "min")
    if len(front) > limit:
        picks = sorted({int(round(i)) for i in np.linspace(0, len(front) - 1, limit)})
        front = front.iloc[picks]
    return front.to_dict("records")


def _search_summary(result: Any, out_dir: str) -> str:
    from hw_models import SEARCH_KEYS

    run = result.run
    c = run["counts"]
    objectives = ", ".join(f"{o['direction']} {o['name']}" for o in run["objectives"])
    hv = run["hypervolume"][-1] if run["hypervolume"] else 0.0
    lines = [
        f"mode {run['mode']} ({objectives}) by {run['method']}, {run['generations_run']} generation(s): "
        f"{c['designs']:,} designs, {c['evaluated']:,} evaluated, {c['prechecked_out']:,} over the area/TOPS limits, "
        f"{c['feasible']:,} feasible, {c['pareto']:,} on the Pareto front",
        f"hypervolume {hv:.6g} (reference point {run['reference_point']})",
    ]
    rows = _front_rows(result)
    if rows:
        cols = ["id", "accuracy", "total_kg", "embodied_kg", "operational_kg", "latency_s", "energy_j", "area_mm2", *SEARCH_KEYS]
        cols = [k for k in cols if k in rows[0]]
        lines += ["", "Pareto front (a spread of designs):", _table(rows, cols)]
        if run.get("accuracy_metric"):
            lines.append(f"accuracy: {run['accuracy_metric']}")
    files = ["evaluations.csv", "pareto.csv", "run.json"] + (["report.html"] if os.path.exists(os.path.join(out_dir, "report.html")) else [])
    lines += ["", f"wrote {', '.join(files)} to {out_dir} in {run['timings'].get('total_s', 0.0):.1f} s"]
    return "\n".join(lines)


@contextlib.contextmanager
def _backend(args: argparse.Namespace) -> Iterator[Any]:
    """Serial evaluation, or a Dask cluster with --workers N / --scheduler ADDRESS."""
    if args.workers is None and args.scheduler is None:
        yield None
        return
    from .search.distributed import dask_backend

    with dask_backend(workers=args.workers, scheduler=args.scheduler) as backend:
        yield backend


def cmd_search(args: argparse.Namespace) -> int:
    from .search import load_spec, run_search

    spec = load_spec(args.spec, _spec_overrides(args))
    out_dir = args.out or os.path.join("results", spec.mode)
    bar = _ProgressBar(_progress_enabled(args), spec.mode)
    try:
        with _backend(args) as backend:
            result = run_search(spec, out_dir, resume=args.resume, progress=bar, report=not args.no_report, evaluator=backend)
    except KeyboardInterrupt:
        bar.close()
        print(f"catransformers: interrupted; {out_dir} keeps the last generation's checkpoint: add --resume to continue", file=sys.stderr)
        return 130
    finally:
        bar.close()
    print(_search_summary(result, out_dir))
    if result.status == "no-feasible":
        print(f"catransformers: warning: {result.run['message']}", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from hw_models import SEARCH_KEYS

    from .search import load_spec, run_compare

    spec = load_spec(args.spec, _spec_overrides(args))
    bar = _ProgressBar(_progress_enabled(args))
    last: list[str] = []

    def progress(mode: str, p: Any) -> None:
        if last and last[0] != mode:
            bar.close()
        last[:] = [mode]
        bar(p, name=mode)

    try:
        with _backend(args) as backend:
            result = run_compare(spec, args.modes.split(","), args.out, progress=progress, report=not args.no_report, evaluator=backend)
    finally:
        bar.close()
    for mode, r in result.results.items():
        c = r.run["counts"]
        print(f"{mode:<11} {r.run['method']}: {c['designs']:,} designs, {c['feasible']:,} feasible, {c['pareto']:,} Pareto ({r.status})")
        if r.status == "no-feasible":
            print(f"catransformers: warning: {mode}: {r.run['message']}", file=sys.stderr)
    table = result.table
    if len(table):
        cols = ["accuracy_target", "mode", "accuracy", "total_kg", "embodied_kg", "operational_kg", "latency_s", "meets_latency_s", "energy_j", "area_mm2", *SEARCH_KEYS]
        rows = table.to_dict("records")
        print("\nChosen designs at matched accuracy (accuracy >= target, least of each mode's primary cost):")
        print(_table(rows, [c for c in cols if c in table.columns]))
    else:
        print("\nno accuracy level is reached by the modes' fronts; no table")
    files = ["compare.csv", "compare.json"] + (["compare.html"] if os.path.exists(os.path.join(args.out, "compare.html")) else [])
    print(f"\nwrote {', '.join(files)} and one folder per mode to {args.out}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from .errors import ConfigError

    folder = args.dir
    if folder.endswith(".csv"):
        from .viz import render

        for path in render(folder):
            print(path)
        return 0
    compare_json = os.path.join(folder, "compare.json")
    if os.path.exists(compare_json):
        from .viz import write_compare_report, write_report

        with open(compare_json, encoding="utf-8") as fh:
            modes = json.load(fh)["modes"]
        mode_dirs = {m: os.path.join(folder, sub) for m, sub in modes.items()}
        for m, d in mode_dirs.items():
            print(write_report(d))
        print(write_compare_report(folder, mode_dirs))
        return 0
    if not os.path.exists(os.path.join(folder, "run.json")):
        raise ConfigError(f"plot: {folder!r} has no run.json or compare.json; allowed: a folder written by `catransformers search` or `compare`")
    from .viz import write_report

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
    _add_limit_args(p)
    p.add_argument("--progress", dest="progress", action="store_true", default=None, help="progress bar on stderr (default: when stderr is a terminal)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.add_argument("--data", metavar="CSV|DIR", help="measure accuracy on real data (openclip estimator): an image-caption CSV or an ImageFolder; more options with --set accuracy.options.KEY=VALUE")
    dist = p.add_mutually_exclusive_group()
    dist.add_argument("--workers", type=int, metavar="N", help="evaluate populations on a local Dask cluster of N worker processes (distributed extra)")
    dist.add_argument("--scheduler", metavar="ADDRESS", help="evaluate populations on an existing Dask cluster (e.g. tcp://host:8786)")


def _add_search_parsers(sub: Any) -> None:
    p = sub.add_parser("search", help="co-design search (NSGA-II/III or exhaustive) into a results folder")
    p.add_argument("--mode", metavar="MODE", help="carbon (default), latency, energy, all, all-hw, model-only")
    p.add_argument("--objectives", metavar="NAME,...", help="objectives instead of the mode's: accuracy, total_kg, embodied_kg, operational_kg, latency_s, energy_j, energy_lifetime_kwh, area_mm2")
    p.add_argument("--out", metavar="DIR", help="results folder (default results/<mode>)")
    p.add_argument("--resume", action="store_true", help="continue DIR's run from its last checkpoint (same spec; --generations may grow)")
    p.add_argument("--exhaustive", action="store_true", help="enumerate the space instead of the GA (must fit exhaustive.limit, default 2e6 designs)")
    _add_search_args(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("compare", help="the same space and scenario under several modes; chosen designs at matched accuracy")
    p.add_argument("--modes", metavar="MODE,...", default="carbon,latency,energy,all", help="modes to run (default carbon,latency,energy,all)")
    p.add_argument("--out", metavar="DIR", default=os.path.join("results", "compare"), help="folder: one sub-folder per mode, compare.csv, compare.html (default results/compare)")
    _add_search_args(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("plot", help="re-render report.html (and compare.html) of a results folder, or plot a sweep CSV")
    p.add_argument("dir", metavar="DIR|SWEEP.csv", help="a folder written by search or compare, or a CSV written by sweep")
    p.set_defaults(func=cmd_plot)


# ----------------------------------------------------------------------------- real models (clip extra)


def _load_real(args: argparse.Namespace):
    """The OpenCLIP model a prune/measure command works on: a pruned folder, or a model by name."""
    from . import real

    if getattr(args, "pruned", None):
        return real.load_pruned(args.pruned, device="cpu")
    return real.load_openclip(args.openclip_model, args.pretrained, checkpoint=args.checkpoint, config=args.openclip_config)


def _real_data(args: argparse.Namespace, clip: Any) -> tuple[Any, Any]:
    from . import real

    retrieval = real.load_retrieval_csv(args.data, image_root=args.image_root) if args.data else None
    zeroshot = (
        real.load_image_folder(args.zeroshot_folder, classnames=args.classnames, templates=args.templates)
        if args.zeroshot_folder
        else None
    )
    return retrieval, zeroshot


def cmd_prune(args: argparse.Namespace) -> int:
    from . import real
    from .units import PER_MILLION
    from .workloads import count_params
    from .workloads import prune as prune_dims

    clip = _load_real(args)
    target = prune_dims(clip.base, _pairs(args.prune or "", "--prune"), name=args.name)
    evaluator = None
    if args.importance == "ablation":
        retrieval, zeroshot = _real_data(args, clip)
        if retrieval is None and zeroshot is None:
            raise CATransformersError("--importance ablation: needs data; give --data CSV and/or --zeroshot-folder DIR")
        evaluator = real.Evaluator(clip, retrieval=retrieval, zeroshot=zeroshot, device=args.device)
    importance = real.compute_importance(clip, args.importance, evaluator=evaluator, cache_dir=args.cache_dir)
    pruned = real.prune_model(clip, target, importance, name=args.name)
    folder = real.save_pruned(pruned, args.out, require_openclip=args.require_openclip)
    params = int(count_params(pruned.config)["total"][0])
    print(f"pruned {clip.openclip_name} to {target.name}: {params * PER_MILLION:.2f} M parameters ({args.importance} importance); wrote {folder}")
    return 0


def cmd_measure(args: argparse.Namespace) -> int:
    from . import real

    clip = _load_real(args)
    if args.prune:
        from .workloads import prune as prune_dims

        target = prune_dims(clip.base, _pairs(args.prune, "--prune"))
        clip = real.prune_model(clip, target, real.compute_importance(clip, "l2"))
    retrieval, zeroshot = _real_data(args, clip)
    if retrieval is None and zeroshot is None:
        raise CATransformersError("measure: no data; give --data CSV (image-text retrieval) and/or --zeroshot-folder DIR")
    result: dict[str, Any] = {"model": clip.config.name, "openclip_model": clip.openclip_name, "weights": clip.weights_id}
    if args.finetune:
        settings = real.FinetuneSettings(epochs_cap=args.epochs_cap, max_steps=args.max_steps)
        epochs = real.finetune_epochs(clip.base, clip.config, settings.epochs_cap)
        real.finetune(clip, real.load_retrieval_csv(args.finetune, image_root=args.image_root), epochs=epochs, settings=settings, device=args.device, precision=args.precision)
        result["finetune_epochs"] = epochs
    metrics = real.Evaluator(clip, retrieval=retrieval, zeroshot=zeroshot, device=args.device, precision=args.precision).evaluate(clip)
    result.update({k: float(v) for k, v in metrics.items()})
    if args.format == "json":
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:<22}{_fmt(value)}")
        print("(measured on your data; fractions in [0, 1])")
    return 0


def _add_real_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("--openclip-model", default="ViT-B-16", metavar="NAME", help="OpenCLIP architecture (default ViT-B-16)")
    p.add_argument("--pretrained", metavar="TAG", help="OpenCLIP pretrained tag, e.g. datacomp_xl_s13b_b90k (downloads the weights)")
    p.add_argument("--checkpoint", metavar="FILE", help="local state dict for the architecture instead of --pretrained")
    p.add_argument("--openclip-config", metavar="FILE.json", help="OpenCLIP model config replacing the named one")


def _add_real_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="CSV", help="image-text pairs (OpenCLIP CSV: filepath, title) for retrieval")
    p.add_argument("--image-root", metavar="DIR", help="folder the CSV's image paths are relative to")
    p.add_argument("--zeroshot-folder", metavar="DIR", help="ImageFolder (one sub-folder per class) for zero-shot classification")
    p.add_argument("--classnames", metavar="FILE", help="class names, one per line (default: the folder names)")
    p.add_argument("--templates", metavar="FILE", help="prompt templates with {} (default: OpenAI's)")
    p.add_argument("--device", default="auto", help="cpu, cuda, or auto (default)")


def _add_real_parsers(sub: Any) -> None:
    p = sub.add_parser("prune", help="prune real OpenCLIP weights to a design and save them (clip extra)")
    _add_real_source(p)
    p.add_argument("--prune", metavar="KEY=VALUE,...", required=True, help="the design: text_layers, text_heads, text_ffn_blocks, text_emb_blocks and vision_*")
    p.add_argument("--importance", choices=("l2", "ablation"), default="l2", help="rank heads and FFN blocks by weight norm (default, no data) or by ablation on --data")
    p.add_argument("--cache-dir", default=".catransformers-cache/importance", help="where ablation rankings are cached")
    p.add_argument("--name", help="name of the pruned model")
    p.add_argument("--require-openclip", action="store_true", help="fail unless OpenCLIP's own config can express the pruned shape")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the checkpoint and configs")
    _add_real_data(p)
    p.set_defaults(func=cmd_prune)

    p = sub.add_parser("measure", help="measure a real (pruned) OpenCLIP model on your data (clip extra)")
    p.add_argument("--pruned", metavar="DIR", help="a folder written by `catransformers prune`")
    _add_real_source(p)
    p.add_argument("--prune", metavar="KEY=VALUE,...", help="prune by weight norm before measuring")
    _add_real_data(p)
    p.add_argument("--finetune", metavar="CSV", help="short contrastive fine-tune on these pairs first (epochs = min(cap, MACs ratio))")
    p.add_argument("--epochs-cap", type=float, default=10.0, help="most fine-tune epochs (default 10)")
    p.add_argument("--max-steps", type=int, help="most fine-tune optimiser steps")
    p.add_argument("--precision", choices=("fp32", "amp"), default="fp32")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_measure)


# ----------------------------------------------------------------------------- parser


def _add_limit_args(p: argparse.ArgumentParser) -> None:
    from .limits import REFERENCE_LIMITS as ref

    p.add_argument("--max-latency-s", type=float, default=None, help=f"latency limit in s (default {ref['latency_s']:g}, the reference's)")
    p.add_argument("--max-area-um2", type=float, default=None, help=f"area limit in um^2 (default {ref['area_um2']:,.0f})")
    p.add_argument("--max-tops", type=float, default=None, help=f"TOPS limit (default {ref['tops']:g})")


def _add_common_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prune", metavar="KEY=VALUE,...", help="prune the CLIP model: text_layers, text_heads, text_ffn_blocks, text_emb_blocks and vision_* (blocks are eighths of the base width)")
    p.add_argument("--scenario", metavar="NAME|FILE", default="reference", help="carbon scenario: a preset (reference, paper) or a TOML file (default: reference)")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], help="override a scenario field, e.g. --set use_region=FR --set inferences=1e8 (repeatable)")
    p.add_argument("--accuracy", metavar="NAME", default="default", help="accuracy estimator: default (calibrated estimate for CLIP), none, or a registered name")
    p.add_argument("--profile", default="reference", help="energy/area component profile (default: reference, 22 nm)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="catransformers", description="Carbon-aware co-design of transformer models and edge accelerators.")
    parser.add_argument("--version", action="version", version=f"catransformers {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("evaluate", help="latency, energy, area, TOPS, carbon and accuracy of models on one accelerator")
    src = p.add_argument_group("what to evaluate")
    src.add_argument("--model", metavar="NAME[,NAME...]|FILE.toml", help="named model(s) (default vit-b-16) or a model TOML; several names print a comparison")
    src.add_argument("--workload", metavar="FILE.csv", help="GEMM topology CSV: rows of name, M, K, N[, batch]")
    p.add_argument("--hardware", metavar="KEY=VALUE,...|FILE.toml", help="accelerator: clusters, pe_width, pe_depth, l2_sram_kb, l2_bw, glb_mb and other HardwareConfig fields (reference defaults)")
    _add_common_eval(p)
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("sweep", help="one model on every point of a hardware grid, with constraint flags")
    p.add_argument("--model", metavar="NAME[,NAME...]", required=True, help="named model(s) or a model TOML")
    p.add_argument("--grid", default="reference", help="named hardware grid (default: reference, 3,240 points)")
    p.add_argument("--out", metavar="FILE.csv", help="write one row per (model, hardware point)")
    _add_limit_args(p)
    _add_common_eval(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("data", help="list the shipped tables: regions, nodes, dram, fabs, models")
    p.add_argument("table", choices=("regions", "nodes", "dram", "fabs", "models"))
    p.add_argument("--format", choices=("table", "csv"), default="table")
    p.set_defaults(func=cmd_data)

    _add_search_parsers(sub)
    _add_real_parsers(sub)
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    from hw_models import HardwareError

    errors: list[type[BaseException]] = [CATransformersError, HardwareError, FileNotFoundError, IsADirectoryError]
    try:
        from carbon_data import CarbonDataError

        errors.append(CarbonDataError)
    except ImportError:  # pragma: no cover - carbon_data always ships with the package
        pass
    return tuple(errors)


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except _user_errors() as exc:
        # Bad input, named by the library: one line, exit 2. Anything else is a bug and keeps its traceback.
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"catransformers: error: {msg}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
