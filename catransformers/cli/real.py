"""`catransformers prune` and `measure`: real OpenCLIP weights (the clip extra)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import CATransformersError
from ..summary import fmt
from . import args as A

__all__ = ["add_parsers", "cmd_prune", "cmd_measure"]


def _load_real(args: argparse.Namespace):
    """The OpenCLIP model a prune/measure command works on: a pruned folder, or a model by name."""
    from .. import real

    if getattr(args, "pruned", None):
        return real.load_pruned(args.pruned, device="cpu")
    return real.load_openclip(args.openclip_model, args.pretrained, checkpoint=args.checkpoint, config=args.openclip_config)


def _real_data(args: argparse.Namespace, clip: Any) -> tuple[Any, Any]:
    from .. import real

    retrieval = real.load_retrieval_csv(args.data, image_root=args.image_root) if args.data else None
    zeroshot = (
        real.load_image_folder(args.zeroshot_folder, classnames=args.classnames, templates=args.templates)
        if args.zeroshot_folder
        else None
    )
    return retrieval, zeroshot


def cmd_prune(args: argparse.Namespace) -> int:
    from .. import real

    real.require_clip("prune")
    from ..units import PER_MILLION
    from ..workloads import count_params
    from ..workloads import prune as prune_dims

    clip = _load_real(args)
    target = prune_dims(clip.base, A.pairs(args.prune or "", "--prune"), name=args.name)
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
    from .. import real

    real.require_clip("measure")

    clip = _load_real(args)
    if args.prune:
        from ..workloads import prune as prune_dims

        target = prune_dims(clip.base, A.pairs(args.prune, "--prune"))
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
            print(f"{key:<22}{fmt(value)}")
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


def add_parsers(sub: Any) -> None:
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
