"""Shared CLI inputs: KEY=VALUE lists, models, hardware, scenario, accuracy, spec overrides and the common flags."""

from __future__ import annotations

import argparse
import os
from typing import Any, Sequence

from ..errors import CATransformersError

__all__ = ["limit", "count", "no_empty", "pairs", "set_pairs", "split_top", "hardware", "models", "scenario", "accuracy", "spec_overrides", "add_limit_args", "add_common_eval"]


def pairs(text: str, what: str) -> dict[str, str]:
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


def set_pairs(values: Sequence[str]) -> dict[str, str]:
    """Repeated --set KEY=VALUE[,KEY=VALUE] flags as one mapping; a key given twice is an error."""
    out: dict[str, str] = {}
    for item in values or ():
        for key, value in pairs(item, "--set").items():
            if key in out:
                raise CATransformersError(f"--set: key {key!r} given twice ({out[key]!r} and {value!r}); give each key once")
            out[key] = value
    return out


def hardware(arg: str | None):
    from hw_models import HardwareConfig

    if not arg:
        return HardwareConfig()
    if arg.endswith(".toml"):
        return HardwareConfig.from_toml(arg)
    return HardwareConfig.from_mapping(pairs(arg, "--hardware"))


def models(arg: str, prune: str | None):
    from ..errors import ConfigError
    from ..workloads import prune as prune_model
    from ..workloads import resolve_model

    names = [a.strip() for a in arg.split(",") if a.strip()]
    if not names:
        raise ConfigError("--model: empty; give a model name (see `catransformers data models`) or a .toml file")
    found = [resolve_model(n) for n in names]
    if prune:
        values = pairs(prune, "--prune")
        found = [prune_model(m, values, name=f"{m.root.name}[{prune}]") for m in found]
    return found


def scenario(name: str | None, overrides: dict[str, str]):
    from ..carbon import load_scenario

    preset = load_scenario(name or "reference")
    return preset.with_overrides(overrides) if overrides else preset


def accuracy(name: str):
    if name == "none":
        return None
    if name == "default":
        return "default"
    from ..accuracy import get_estimator

    return get_estimator(name)


def split_top(text: str) -> list[str]:
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


def spec_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """CLI flags -> dotted spec keys. --set KEY=VALUE: a dotted KEY addresses the spec
    (search.population=20, space.text_layers=[6,9]); a plain KEY a scenario field (use_region=FR)."""
    from ..errors import ConfigError
    from ..search.spec import parse_override

    out: dict[str, Any] = {}
    for item in args.set or ():
        for part in split_top(item):
            if "=" not in part:
                raise ConfigError(f"--set: {part!r} is not KEY=VALUE")
            key, value = (s.strip() for s in part.split("=", 1))
            dotted = key if "." in key else f"scenario.{key}"
            if dotted in out:
                raise ConfigError(f"--set: key {key!r} given twice; give each key once")
            # A dotted KEY is a spec value; a plain KEY is a scenario field, which parses its own string.
            out[dotted] = parse_override(value) if "." in key else value
    flags = {
        "search.mode": getattr(args, "mode", None),
        "model.name": args.model,
        "search.seed": args.seed,
        "search.population": args.population,
        "search.offspring": getattr(args, "offspring", None),
        "search.generations": args.generations,
        "search.algorithm": args.algorithm,
        "scenario.name": args.scenario,
        "accuracy.estimator": args.accuracy,
        "hardware.grid": args.grid,
        "hardware.profile": getattr(args, "profile", None),
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
    if getattr(args, "exact", False):
        flags["exact.enabled"] = True
    if getattr(args, "data", None):
        # Measured accuracy on the user's data: a captions CSV (retrieval) or an image folder (zero-shot).
        key = "zeroshot_folder" if os.path.isdir(args.data) else "retrieval_csv"
        flags[f"accuracy.options.{key}"] = args.data
        if args.accuracy is None:
            flags["accuracy.estimator"] = "openclip"
    out.update({k: v for k, v in flags.items() if v is not None})
    return out


def limit(text: str) -> float:
    """A constraint limit: a positive number, or inf (no limit)."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; allowed: a positive number or inf") from None
    if math.isnan(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed; allowed: a positive number or inf (no limit)")
    return value


def count(low: int, high: int):
    """An argparse type: a whole number in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; allowed: {low:,} to {high:,}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not allowed; allowed: {low:,} to {high:,}")
        return value

    parse.__name__ = "whole number"
    return parse


def no_empty(args: argparse.Namespace) -> None:
    """An option given as '' (or blank) is an error, never a silent fall-back to its default."""
    from ..errors import ConfigError

    for name, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, str) and not v.strip():
                raise ConfigError(f"--{name.replace('_', '-')}: empty; give a value (see --help)")
PROFILE_HELP = (
    "technology profile: reference (default, 22 nm, our physical reading), catransformers-code "
    "(the reference estimator's own accounting, to reproduce the paper), or a profile TOML file"
)


def add_limit_args(p: argparse.ArgumentParser) -> None:
    from ..limits import REFERENCE_LIMITS as ref

    p.add_argument("--max-latency-s", type=limit, default=None, help=f"latency limit in s (default {ref['latency_s']:g}, the reference's)")
    p.add_argument("--max-area-um2", type=limit, default=None, help=f"area limit in um^2 (default {ref['area_um2']:,.0f})")
    p.add_argument("--max-tops", type=limit, default=None, help=f"TOPS limit (default {ref['tops']:g})")


def add_common_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prune", metavar="KEY=VALUE,...", help="prune the CLIP model: text_layers, text_heads, text_ffn_blocks, text_emb_blocks and vision_* (blocks are eighths of the base width)")
    p.add_argument("--scenario", metavar="NAME|FILE", default="reference", help="carbon scenario: a preset (reference, paper) or a TOML file (default: reference)")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], help="override a scenario field, e.g. --set use_region=FR --set inferences=1e8 (repeatable)")
    p.add_argument("--accuracy", metavar="NAME", default="default", help="accuracy estimator: default (calibrated estimate for CLIP), none, or a registered name")
    p.add_argument("--profile", metavar="NAME|FILE", default="reference", help=PROFILE_HELP)

