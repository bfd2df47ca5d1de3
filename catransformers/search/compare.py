"""Compare modes on one space and scenario: each mode's search, then its chosen designs at matched accuracy."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..io import atomic_write_json, atomic_write_text, csv_text
from .objectives import get_mode, list_modes
from .spec import SearchSpec

__all__ = ["CompareResult", "run_compare", "compare_table", "carbon_gains", "scenario_specs", "accuracy_targets", "COMPARE_COLUMNS", "LIMIT_KEYS"]


# What the table shows of each chosen design (hardware keys and pruning variables follow).
COMPARE_COLUMNS = (
    "total_kg",
    "embodied_kg",
    "operational_kg",
    "latency_s",
    "energy_j",
    "energy_lifetime_kwh",
    "area_mm2",
    "tops",
    "meets_latency_s",
)


# Limits every chosen design is checked against (the spec's limits, whether its mode applies them or not).
LIMIT_KEYS = ("latency_s", "area_um2", "tops")


@dataclass(frozen=True, eq=False)
class CompareResult:
    table: Any  # pandas DataFrame
    results: Mapping[str, Any]  # label -> SearchResult; label = mode, or "mode@scenario" with several scenarios
    targets: list[float]
    out_dir: str | None
    scenarios: Mapping[str, Any] = None  # type: ignore[assignment]  # scenario label -> row columns (name, region, intensity, inferences)
    gains: Any = None  # pandas DataFrame: carbon-aware vs energy-aware per scenario and target (when both modes ran)


def accuracy_targets(fronts: Mapping[str, Any], n: int = 3, searched: Sequence[str] | None = None) -> list[float]:
    """`n` accuracy levels every mode's front reaches (between the highest front minimum and the
    lowest front maximum), rounded down to 4 decimals; the union range when the fronts do not
    overlap. `searched`: the modes whose accuracy varies (a fixed-model mode has one accuracy
    and takes no part in choosing the levels)."""
    lows, highs = [], []
    for mode, frame in fronts.items():
        if searched is not None and mode not in searched:
            continue
        acc = frame["accuracy"].dropna() if "accuracy" in frame else []
        if len(acc):
            lows.append(float(acc.min()))
            highs.append(float(acc.max()))
    if not lows:
        return []
    lo, hi = max(lows), min(highs)
    if lo > hi:
        lo, hi = min(lows), max(highs)
    levels = np.linspace(lo, hi, n) if n > 1 else np.array([lo])
    return sorted({float(np.floor(x * 1e4) / 1e4) for x in levels})


def _meets_limits(frame: Any) -> Any:
    """Per row: within every limit of the spec (the meets_* flags the results carry)."""
    ok = np.ones(len(frame), dtype=bool)
    for key in LIMIT_KEYS:
        if f"meets_{key}" in frame:
            ok &= frame[f"meets_{key}"].to_numpy(dtype=bool)
    return ok


def compare_table(
    fronts: Mapping[str, Any],
    primaries: Mapping[str, str],
    targets: Sequence[float] | None = None,
    n_targets: int = 3,
    groups: Mapping[str, tuple[str, str]] | None = None,
) -> Any:
    """One row per (accuracy target, run): the run's front design with accuracy >= target and the
    least of the run's primary cost, preferring designs within every limit of the spec (a design
    over a limit is shown only when the front has no other, with meets_limits False); NaN row when
    the run reaches no such accuracy. `groups`: label -> (scenario, mode) when several scenarios ran.

    `winner` marks, per target and scenario, the least total carbon among the rows within every
    limit (each row at that least value): a design over a limit is never a winner."""
    import pandas as pd

    targets = list(targets) if targets is not None else accuracy_targets(fronts, n_targets)
    groups = dict(groups or {label: ("", label) for label in fronts})
    rows = []
    for target in targets:
        for label, frame in fronts.items():
            scenario, mode = groups[label]
            primary = primaries[label]
            row: dict[str, Any] = {"accuracy_target": target, "scenario": scenario or _scenario_name(frame), "mode": mode, "primary": primary}
            ok = frame[frame["accuracy"] >= target] if "accuracy" in frame else frame.iloc[0:0]
            within = ok[_meets_limits(ok)] if len(ok) else ok
            pick = within if len(within) else ok
            if len(pick):
                best = pick.loc[pick[primary].idxmin()]
                row["id"] = int(best["id"])
                row["accuracy"] = float(best["accuracy"])
                for c in frame.columns:
                    if c in COMPARE_COLUMNS or c not in row and c not in ("generation", "accuracy_metric", "pareto", "feasible", "failed") and not c.startswith("meets_"):
                        row.setdefault(c, best[c])
                for key in LIMIT_KEYS:
                    if f"meets_{key}" in frame:
                        row[f"meets_{key}"] = bool(best[f"meets_{key}"])
                row["meets_limits"] = bool(len(within))
                row["broken_limits"] = ",".join(k for k in LIMIT_KEYS if f"meets_{k}" in frame and not bool(best[f"meets_{k}"]))
            rows.append(row)
    if not rows:
        return pd.DataFrame(columns=["accuracy_target", "scenario", "mode", "primary", "id", "accuracy", *COMPARE_COLUMNS, "meets_limits", "winner"])
    table = pd.DataFrame(rows)
    if "meets_limits" not in table:
        table["meets_limits"] = False
    table["meets_limits"] = table["meets_limits"].fillna(False).astype(bool)
    table["winner"] = False
    if "total_kg" in table:
        for _, idx in table.groupby(["accuracy_target", "scenario"], dropna=False).groups.items():
            sub = table.loc[idx]
            sub = sub[sub["meets_limits"] & sub["total_kg"].notna()]
            if len(sub):
                # every row at the least carbon wins (two modes may choose the same design)
                best = sub["total_kg"].astype(float)
                table.loc[best.index[np.isclose(best, best.min(), rtol=1e-12, atol=0.0)], "winner"] = True
    lead = [c for c in ("accuracy_target", "scenario", "mode", "primary", "id", "winner", "meets_limits", "broken_limits", "accuracy", "model_shape") if c in table]
    lead += [c for c in COMPARE_COLUMNS if c in table and c not in lead]
    return table[lead + [c for c in table.columns if c not in lead]]


def _scenario_name(frame: Any) -> str:
    """The scenario name a run's rows carry ('' when they carry none)."""
    return str(frame["scenario"].iloc[0]) if "scenario" in frame and len(frame) else ""


def carbon_gains(table: Any) -> Any:
    """Carbon-aware vs energy-aware per scenario and accuracy target: each mode's chosen total carbon
    and the gain 1 - carbon/energy (the paper's App. K comparison); None unless both modes ran."""
    import pandas as pd

    if "mode" not in table or not {"carbon", "energy"} <= set(table["mode"]) or "total_kg" not in table:
        return None
    keys = ["scenario", "accuracy_target"]
    rows = []
    for key, sub in table.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        c, e = sub[sub["mode"] == "carbon"], sub[sub["mode"] == "energy"]
        if not len(c) or not len(e) or pd.isna(c["total_kg"].iloc[0]) or pd.isna(e["total_kg"].iloc[0]):
            continue
        ck, ek = float(c["total_kg"].iloc[0]), float(e["total_kg"].iloc[0])
        row = dict(zip(keys, key))
        if "intensity_g_per_kwh" in sub:
            row["intensity_g_per_kwh"] = float(c["intensity_g_per_kwh"].iloc[0])
        row.update(
            carbon_total_kg=ck,
            energy_total_kg=ek,
            gain=1.0 - ck / ek,
            same_design=bool(c.get("model_shape", pd.Series([""])).iloc[0] == e.get("model_shape", pd.Series([""])).iloc[0])
            and all(c[k].iloc[0] == e[k].iloc[0] for k in ("clusters", "pe_width", "pe_depth", "l2_sram_kb", "l2_bw", "glb_mb") if k in sub),
            carbon_design=f"{c['model_shape'].iloc[0]} on {_hw_text(c.iloc[0])}" if "model_shape" in c else "",
        )
        rows.append(row)
    return pd.DataFrame(rows) if rows else None


def _hw_text(row: Any) -> str:
    """'4x32x16, L2 64 KiB, GLB 2 MiB, L2 port 32': clusters x PE width x depth and the buffers."""
    if not all(k in row for k in ("clusters", "pe_width", "pe_depth", "l2_sram_kb", "glb_mb", "l2_bw")):
        return ""
    return f"{int(row['clusters'])}x{int(row['pe_width'])}x{int(row['pe_depth'])}, L2 {int(row['l2_sram_kb'])} KiB, GLB {int(row['glb_mb'])} MiB, L2 port {int(row['l2_bw'])}"


def scenario_specs(spec: SearchSpec, tokens: Sequence[str]) -> dict[str, SearchSpec]:
    """`--scenarios`: each token a scenario preset (reference, paper, ...) or a grid region code
    (the spec's own scenario, reference by default, with use_region = CODE). Label -> spec."""
    import carbon_data

    from ..carbon.scenario import preset_names
    from .spec import spec_from_mapping

    tokens = list(dict.fromkeys(t.strip() for t in tokens if t.strip()))
    if not tokens:
        raise ConfigError(f"--scenarios: empty; allowed: a comma-separated list of presets ({', '.join(preset_names())}) or region codes (see `catransformers data regions`)")
    out = {}
    for token in tokens:
        d = spec.as_dict()
        if token in preset_names():
            d["scenario"] = {"name": token}
        else:
            try:
                carbon_data.grid_intensity(token)
            except Exception:
                raise ConfigError(
                    f"--scenarios: {token!r} is neither a scenario preset nor a region code; allowed: {', '.join(preset_names())}, "
                    "or a region code (see `catransformers data regions`)"
                ) from None
            sc = {k: v for k, v in d["scenario"].items() if k != "use_intensity_g_per_kwh"}
            sc["use_region"] = token
            d["scenario"] = sc
        out[token] = spec_from_mapping(d)
    return out


def run_compare(
    spec: SearchSpec,
    modes: Sequence[str],
    out_dir: str,
    progress: Callable[[str, Any], None] | None = None,
    evaluator: Any = None,
    n_targets: int = 3,
    scenarios: Sequence[str] | None = None,
) -> CompareResult:
    """Run `spec` under each mode into out_dir/<mode>/ (each mode's own objectives, constraints
    and reference point), then write compare.csv and compare.json (compare.html is the caller's:
    search does not plot). With `scenarios` (see scenario_specs): every mode under every
    scenario, into out_dir/<scenario>/<mode>/, one table with a scenario column and the
    carbon-vs-energy gains."""
    from .runner import run_search

    given = [m.strip() for m in modes if m.strip()]
    modes = list(dict.fromkeys(given))
    if len(modes) != len(given):
        twice = next(m for m in modes if given.count(m) > 1)
        raise ConfigError(f"--modes: {twice!r} is given twice; allowed: each mode once")
    if not modes:
        raise ConfigError(f"--modes: empty; allowed: a comma-separated list of {', '.join(list_modes())}")
    for m in modes:
        get_mode(m)  # unknown -> ConfigError
    specs = scenario_specs(spec, scenarios) if scenarios else {"": spec}
    runs: dict[str, tuple[str, str, SearchSpec, str]] = {}  # label -> (scenario, mode, spec, sub-folder)
    for sc, sc_spec in specs.items():
        for mode in modes:
            label = f"{mode}@{sc}" if sc else mode
            runs[label] = (sc, mode, for_mode(sc_spec, mode), os.path.join(sc, mode) if sc else mode)
    results = {}
    for label, (sc, mode, run_spec, sub) in runs.items():
        cb = (lambda p, _m=label: progress(_m, p)) if progress is not None else None
        results[label] = run_search(run_spec, os.path.join(out_dir, sub), progress=cb, evaluator=evaluator)
    fronts = {m: r.pareto for m, r in results.items()}
    primaries = {label: get_mode(runs[label][1]).primary for label in runs}
    searched = [label for label in runs if "accuracy" in get_mode(runs[label][1]).objectives]
    targets = accuracy_targets(fronts, n_targets, searched or None)
    table = compare_table(fronts, primaries, targets, groups={label: (v[0], v[1]) for label, v in runs.items()})
    gains = carbon_gains(table)
    scenario_rows = {sc: r.setup.scenario.row_columns() for sc in specs for label, r in results.items() if runs[label][0] == sc and hasattr(r.setup.scenario, "row_columns")}
    os.makedirs(out_dir, exist_ok=True)
    atomic_write_text(os.path.join(out_dir, "compare.csv"), csv_text(table))
    if gains is not None:
        atomic_write_text(os.path.join(out_dir, "gains.csv"), csv_text(gains))
    atomic_write_json(
        os.path.join(out_dir, "compare.json"),
        {
            "modes": {label: v[3] for label, v in runs.items()},
            "runs": {label: {"scenario": v[0] or None, "mode": v[1], "dir": v[3]} for label, v in runs.items()},
            "scenarios": {sc or "spec": row for sc, row in scenario_rows.items()},
            "accuracy_targets": targets,
            "primary": primaries,
            "status": {m: r.status for m, r in results.items()},
            "winners": [
                {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items() if k in ("accuracy_target", "scenario", "mode", "id", "total_kg", "model_shape")}
                for row in table[table["winner"]].to_dict("records")
            ],
            "recommended": {m: r.recommended for m, r in results.items()},
            "gains": gains.to_dict("records") if gains is not None else None,
            "spec": spec.as_dict(),
        },
    )
    return CompareResult(table=table, results=results, targets=targets, out_dir=out_dir, scenarios=scenario_rows, gains=gains)


def for_mode(spec: SearchSpec, mode: str) -> SearchSpec:
    """The spec under `mode`, with the mode's own objectives, constraints and reference point."""
    from .spec import spec_from_mapping

    d = spec.as_dict()
    d["search"].update(mode=mode, objectives=[], constraints=[], reference_point={})
    return spec_from_mapping(d)

