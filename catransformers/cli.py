"""Command-line interface: thin argument parsing over the library; one-line errors, exit 2."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Callable, Sequence

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


# ----------------------------------------------------------------------------- parser


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
    p.add_argument("--max-latency-s", type=float, default=None, help="latency limit in s (default 0.05, the reference's)")
    p.add_argument("--max-area-um2", type=float, default=None, help="area limit in um^2 (default 31,990,347)")
    p.add_argument("--max-tops", type=float, default=None, help="TOPS limit (default 20.48)")
    _add_common_eval(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("data", help="list the shipped tables: regions, nodes, dram, fabs, models")
    p.add_argument("table", choices=("regions", "nodes", "dram", "fabs", "models"))
    p.add_argument("--format", choices=("table", "csv"), default="table")
    p.set_defaults(func=cmd_data)
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
