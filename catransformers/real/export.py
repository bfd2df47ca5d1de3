"""Save a pruned model (weights + configs) and load it back; OpenCLIP-loadable where its config format allows."""

from __future__ import annotations

import copy
import json
import logging
import os
from pathlib import Path

import torch

from ..errors import ConfigError, DataError
from .cache import file_sha256
from .config import model_config_from_openclip, openclip_config, openclip_incompatibility
from .load import LoadedCLIP, _preprocess, _tokenizer, build_openclip, load_state_dict_checked, resolve_device
from .modules import convert_attention
from .prune import PruningPlan, apply_plan

__all__ = ["WEIGHTS_FILE", "OPENCLIP_CONFIG_FILE", "SPEC_FILE", "save_pruned", "load_pruned"]

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "open_clip_pytorch_model.bin"  # a name OpenCLIP's `local-dir:` loader looks for
OPENCLIP_CONFIG_FILE = "open_clip_config.json"  # {"model_cfg", "preprocess_cfg"}: written only if expressible
SPEC_FILE = "catransformers_model.json"  # always written; what `load_pruned` reads
_FORMAT = "catransformers-pruned-openclip"


def save_pruned(clip: LoadedCLIP, folder: str | os.PathLike[str], *, require_openclip: bool = False) -> Path:
    """Write `clip` (pruned or not) to `folder`; returns the folder.

    Always: the state dict (`open_clip_pytorch_model.bin`, OpenCLIP key names) and
    `catransformers_model.json` (base OpenCLIP config + pruned dims + pruning plan), read by
    `load_pruned`. Also `open_clip_config.json` when OpenCLIP's config can express the shape
    (every tower's heads x head_dim == width, FFN = int(width x mlp_ratio)); then
    `open_clip.create_model("local-dir:<folder>")` loads it without catransformers. When it
    cannot, that file is not written (so OpenCLIP refuses the folder instead of misloading it)
    and the reason is logged; `require_openclip=True` raises ConfigError instead.
    """
    out = Path(folder)
    reason = openclip_incompatibility(clip.config)
    if reason is not None and require_openclip:
        raise ConfigError(f"save: model {clip.config.name!r} cannot be written as an OpenCLIP config: {reason}")
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in clip.model.state_dict().items()}
    torch.save(state, out / WEIGHTS_FILE)
    dims = {t.kind: {d: getattr(t, d) for d in ("layers", "heads", "ffn", "width")} for t in clip.config.towers}
    spec = {
        "format": _FORMAT,
        "version": 1,
        "name": clip.config.name,
        "openclip_name": clip.openclip_name,
        "base_openclip_config": clip.base_openclip_config,
        "dims": dims,
        "preprocess_cfg": clip.preprocess_config,
        "base_weights": clip.weights_id,
        "openclip_loadable": reason is None,
        "openclip_reason": reason,
        "plan": clip.plan.to_dict() if clip.plan is not None else None,
    }
    (out / SPEC_FILE).write_text(json.dumps(spec, indent=1, default=list), encoding="utf-8")
    oc = out / OPENCLIP_CONFIG_FILE
    if reason is None:
        cfg = openclip_config(clip.config)
        for key in ("custom_text",):
            if key in clip.base_openclip_config:
                cfg[key] = clip.base_openclip_config[key]
        oc.write_text(json.dumps({"model_cfg": cfg, "preprocess_cfg": clip.preprocess_config}, indent=1, default=list), encoding="utf-8")
    else:
        if oc.exists():
            oc.unlink()
        logger.info("saved %s without %s: %s; load it with catransformers.real.load_pruned", out, OPENCLIP_CONFIG_FILE, reason)
    return out


def load_pruned(folder: str | os.PathLike[str], *, device: str | torch.device = "cpu") -> LoadedCLIP:
    """Load a folder written by `save_pruned` (any pruned shape) as a `LoadedCLIP` (attention is `PrunedAttention`)."""
    src = Path(folder)
    try:
        spec = json.loads((src / SPEC_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"pruned model {str(src)!r}: no {SPEC_FILE}; allowed: a folder written by save_pruned") from None
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8 or not JSON
        raise DataError(f"pruned model {str(src)!r}: {SPEC_FILE} is unreadable ({' '.join(str(exc).split())})") from None
    if not isinstance(spec, dict):
        raise DataError(f"pruned model {str(src)!r}: {SPEC_FILE} is not a JSON object; allowed: a folder written by save_pruned")
    if spec.get("format") != _FORMAT:
        raise DataError(f"pruned model {str(src)!r}: format {spec.get('format')!r}; allowed: {_FORMAT!r}")
    cfg = spec["base_openclip_config"]
    name = spec["openclip_name"]
    base = model_config_from_openclip(name, cfg)
    config = base.with_dims(name=spec["name"], **spec["dims"])
    # Build the base architecture with only the kept number of layers, then cut it to shape.
    skeleton = copy.deepcopy(cfg)
    skeleton["vision_cfg"]["layers"] = config.vision.layers
    skeleton["text_cfg"]["layers"] = config.text.layers
    model = build_openclip(skeleton)
    apply_plan(convert_attention(model), PruningPlan.first(config))
    weights = src / WEIGHTS_FILE
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"pruned model {str(src)!r}: no {WEIGHTS_FILE}") from None
    load_state_dict_checked(model, state, repr(str(weights)), spec["name"])
    model.eval().to(resolve_device(device))
    preprocess, pcfg = _preprocess(cfg, spec.get("preprocess_cfg"))
    plan = PruningPlan.from_dict(spec["plan"]) if spec.get("plan") else None
    return LoadedCLIP(
        model=model, config=config, base=base, openclip_name=name, base_openclip_config=cfg,
        weights_id=f"sha256:{file_sha256(weights)}",
        tokenizer=_tokenizer(name, cfg), preprocess=preprocess, preprocess_config=pcfg, plan=plan,
    )
