"""`catransformers evaluate`, `sweep` and `data`: one accelerator, a hardware grid, the shipped tables."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import CATransformersError
from ..summary import EVALUATE_SUMMARY, display_table, flat_record, single_report, table, write_csv
from . import args as A

__all__ = ["add_parsers", "cmd_evaluate", "cmd_sweep", "cmd_data"]


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..evaluate import evaluate

    hw = A.hardware(args.hardware)
    scenario = A.scenario(args.scenario, A.set_pairs(args.set))
    if args.workload:
        from ..workloads import load_topology

        if args.model:
            raise CATransformersError("--workload: give either --model or --workload, not both")
        targets = [(load_topology(args.workload), args.workload)]
    else:
        targets = [(m, m.name) for m in A.models(args.model or "vit-b-16", args.prune)]
    accuracy = A.accuracy(args.accuracy)
    records = []
    for target, name in targets:
        ev = evaluate(target, hw, scenario=scenario, accuracy=accuracy, profile=args.profile)
        rec = ev.record(0)
        rec.setdefault("model", name)
        records.append(rec)
    if args.format == "json":
        from ..io import json_text

        print(json_text(records[0] if len(records) == 1 else records))
    elif args.format == "csv":
        rows = [flat_record(r) for r in records]
        write_csv(rows, list(rows[0]), sys.stdout)
    elif len(records) == 1:
        print(single_report(records[0]))
    else:
        print(display_table(records, [c for c in EVALUATE_SUMMARY if c in records[0] or c == "model"]))
        if records[0].get("accuracy_metric"):
            print(f"\naccuracy: {records[0]['accuracy_metric']}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..io import check_output_path
    from ..sweep import sweep

    if args.out:
        check_output_path(args.out)  # before the sweep: a path that cannot be written costs no compute
    models = A.models(args.model, args.prune)
    scenario = A.scenario(args.scenario, A.set_pairs(args.set))
    limits = {"latency_s": args.max_latency_s, "area_um2": args.max_area_um2, "tops": args.max_tops}
    results = [sweep(m, scenario=scenario, grid=args.grid, limits=limits, accuracy=A.accuracy(args.accuracy), profile=args.profile) for m in models]
    if args.out:
        from ..sweep import write_sweep_csv

        write_sweep_csv(results, args.out)
    for res in results:
        print(res.summary())
        print()
    if args.out:
        print(f"wrote {sum(len(r.table) for r in results)} rows to {args.out}")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    if args.table == "models":
        from ..workloads import list_models

        rows = [{"name": k, "description": v} for k, v in list_models().items()]
        print(table(rows, ["name", "description"]))
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


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="latency, energy, area, TOPS, carbon and accuracy of models on one accelerator")
    src = p.add_argument_group("what to evaluate")
    src.add_argument("--model", metavar="NAME[,NAME...]|FILE.toml", help="named model(s) (default vit-b-16) or a model TOML; several names print a comparison")
    src.add_argument("--workload", metavar="FILE.csv", help="GEMM topology CSV: rows of name, M, K, N[, batch]")
    p.add_argument("--hardware", metavar="KEY=VALUE,...|FILE.toml", help="accelerator: clusters, pe_width, pe_depth, l2_sram_kb, l2_bw, glb_mb and other HardwareConfig fields (reference defaults)")
    A.add_common_eval(p)
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("sweep", help="one model on every point of a hardware grid, with constraint flags")
    p.add_argument("--model", metavar="NAME[,NAME...]", required=True, help="named model(s) or a model TOML")
    p.add_argument("--grid", default="reference", help="named hardware grid (default: reference, 3,240 points)")
    p.add_argument("--out", metavar="FILE.csv", help="write one row per (model, hardware point)")
    A.add_limit_args(p)
    A.add_common_eval(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("data", help="list the shipped tables: regions, nodes, dram, fabs, models")
    p.add_argument("table", choices=("regions", "nodes", "dram", "fabs", "models"))
    p.add_argument("--format", choices=("table", "csv"), default="table")
    p.set_defaults(func=cmd_data)

