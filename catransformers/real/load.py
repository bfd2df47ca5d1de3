"""Load an OpenCLIP model (pretrained tag, local checkpoint or random init) with its catransformers shape."""

from __future__ import annotations

import contextlib
import copy
import difflib
import functools
import json
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import torch
from torch import nn

from ..errors import ConfigError, DataError
from ..workloads import ModelConfig
from .cache import file_sha256, stable_hash
from .config import model_config_from_openclip
from .modules import check_supported

__all__ = ["LoadedCLIP", "ModelSource", "resolve_source", "load_openclip", "build_openclip", "load_state_dict_checked", "resolve_device", "read_openclip_config"]

logger = logging.getLogger(__name__)


@dataclass
class LoadedCLIP:
    """An OpenCLIP model with what is needed to use and describe it.

    `config` is the catransformers shape of this model, `base` that of the unpruned model it came
    from (the same object when unpruned); `plan` says which layers/heads/neurons a pruned model kept.
    """

    model: nn.Module
    config: ModelConfig
    base: ModelConfig
    openclip_name: str
    base_openclip_config: dict[str, Any]
    weights_id: str
    tokenizer: Callable[..., torch.Tensor]
    preprocess: Callable[[Any], torch.Tensor]
    preprocess_config: dict[str, Any] = field(default_factory=dict)
    plan: Any = None  # catransformers.real.prune.PruningPlan for pruned models

    @property
    def pruned(self) -> bool:
        return self.plan is not None

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: str | torch.device) -> "LoadedCLIP":
        self.model.to(resolve_device(device))
        return self

    def with_model(self, model: nn.Module, config: ModelConfig, plan: Any) -> "LoadedCLIP":
        return replace(self, model=model, config=config, plan=plan)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' -> cuda if available else cpu; anything else as torch.device (ConfigError if unknown)."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device: {device!r} is not allowed; allowed: auto, cpu, cuda, cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device: {device!r} is not available on this machine; allowed: auto, cpu")
    return dev


def read_openclip_config(config: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """An OpenCLIP model config from a dict or a JSON file (a model config, or open_clip_config.json with model_cfg)."""
    if isinstance(config, Mapping):
        data = dict(config)
    else:
        try:
            data = json.loads(Path(config).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"OpenCLIP config {str(config)!r}: cannot read ({exc.strerror or exc})") from None
        except ValueError as exc:  # not UTF-8, or not JSON
            raise ConfigError(f"OpenCLIP config {str(config)!r}: not valid UTF-8 JSON ({exc})") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("model_cfg", data), Mapping):
        raise ConfigError(f"OpenCLIP config {str(config)!r}: not a JSON object of model settings")
    data = dict(data.get("model_cfg", data))
    return copy.deepcopy(data)


def _named_config(name: str) -> dict[str, Any]:
    import open_clip

    cfg = open_clip.get_model_config(name)
    if cfg is None:
        names = open_clip.list_models()
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ConfigError(f"OpenCLIP model: {name!r} is unknown; {hint}allowed: one of open_clip.list_models() ({len(names)} names)")
    return copy.deepcopy(cfg)


def build_openclip(cfg: Mapping[str, Any], seed: int = 0) -> nn.Module:
    """A randomly initialised OpenCLIP model from a config dict (deterministic for a seed; global RNG untouched)."""
    import open_clip

    cfg = copy.deepcopy(dict(cfg))
    custom = cfg.pop("custom_text", False)
    cls = open_clip.CustomTextCLIP if custom else open_clip.CLIP
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            model = cls(**cfg)
        except TypeError as exc:
            raise ConfigError(f"OpenCLIP config: {exc}") from None
    return model.eval()


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise ConfigError(f"checkpoint: {str(path)!r} does not exist; allowed: a state-dict file (.pt/.pth/.bin/.safetensors)")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            sd = load_file(str(path), device="cpu")
        else:
            sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a bad file
        raise DataError(f"checkpoint {str(path)!r}: cannot be read as a state dict ({type(exc).__name__}: {exc})") from None
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict) or not sd:
        raise DataError(f"checkpoint {str(path)!r}: is not a non-empty state dict")
    if all(k.startswith("module.") for k in sd):
        sd = {k[len("module."):]: v for k, v in sd.items()}
    return sd


def load_state_dict_checked(model: nn.Module, state: Mapping[str, torch.Tensor], source: str, config_name: str) -> None:
    """Strict load with one-line errors naming the first missing, unexpected or mis-shaped tensor."""
    own = model.state_dict()
    state = dict(state)
    if "logit_scale" in state and "logit_scale" in own and state["logit_scale"].shape != own["logit_scale"].shape:
        state["logit_scale"] = state["logit_scale"].reshape(own["logit_scale"].shape)
    for key, tensor in own.items():
        if key not in state:
            raise ConfigError(f"checkpoint {source}: missing tensor {key!r} that config {config_name!r} needs")
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise ConfigError(
                f"checkpoint {source}: tensor {key!r} has shape {tuple(state[key].shape)} but config "
                f"{config_name!r} needs {tuple(tensor.shape)}"
            )
    extra = [k for k in state if k not in own]
    if extra:
        raise ConfigError(f"checkpoint {source}: unexpected tensor {extra[0]!r} for config {config_name!r}")
    model.load_state_dict(state, strict=True)


def _tokenizer(name: str, cfg: Mapping[str, Any]) -> Callable[..., torch.Tensor]:
    text = cfg.get("text_cfg", {})
    ctx = int(text.get("context_length", 77))
    if text.get("hf_tokenizer_name"):
        import open_clip

        return open_clip.get_tokenizer(name, context_length=ctx)
    return _simple_tokenizer(ctx)


@functools.lru_cache(maxsize=4)
def _simple_tokenizer(context_length: int) -> Callable[..., torch.Tensor]:
    # Building the BPE tables takes ~1 s; the tokenizer is stateless, so share it.
    import open_clip

    return open_clip.SimpleTokenizer(context_length=context_length)


def _preprocess(cfg: Mapping[str, Any], overlay: Mapping[str, Any] | None) -> tuple[Callable, dict[str, Any]]:
    from dataclasses import asdict

    from open_clip.transform import PreprocessCfg, image_transform_v2, merge_preprocess_dict

    size = cfg.get("vision_cfg", {}).get("image_size", 224)
    pp = merge_preprocess_dict(PreprocessCfg(size=size), dict(overlay or {}))
    pcfg = PreprocessCfg(**pp)
    return image_transform_v2(pcfg, is_train=False), asdict(pcfg)


@dataclass(frozen=True)
class ModelSource:
    """Where a model's weights come from, resolved without loading them: config, shape and a weights id.

    `weights_id` names the weights for cache keys: 'openclip:<name>:<tag>' for a pretrained tag,
    'sha256:<hex>' of a checkpoint file, 'random:seed=<s>:cfg=<hash>' for random initialisation.
    """

    name: str
    config: dict[str, Any]
    base: ModelConfig
    weights_id: str
    pretrained: str | None = None
    checkpoint: Path | None = None
    seed: int = 0
    custom_config: bool = False


def resolve_source(
    name: str = "ViT-B-16",
    pretrained: str | None = None,
    *,
    checkpoint: str | Path | None = None,
    config: Mapping[str, Any] | str | Path | None = None,
    seed: int = 0,
) -> ModelSource:
    """Check a model name / tag / checkpoint / config and describe it, without loading any weights."""
    import open_clip

    if pretrained and checkpoint:
        raise ConfigError("load: pretrained and checkpoint are both set; allowed: one of them")
    cfg = read_openclip_config(config) if config is not None else _named_config(name)
    base = model_config_from_openclip(name, cfg)
    ckpt = None
    tag = None
    if pretrained:
        if config is not None:
            raise ConfigError("load: a pretrained tag needs a built-in model name, not a custom config; use checkpoint=")
        tags = open_clip.list_pretrained_tags_by_model(name)
        tag = pretrained.lower().replace("-", "_")
        if tag not in tags:
            raise ConfigError(f"pretrained: {pretrained!r} is not a tag of {name!r}; allowed: {', '.join(tags) or '(none)'}")
        weights_id = f"openclip:{name}:{tag}"
    elif checkpoint is not None:
        ckpt = Path(checkpoint)
        if not ckpt.is_file():
            raise ConfigError(f"checkpoint: {str(ckpt)!r} does not exist; allowed: a state-dict file (.pt/.pth/.bin/.safetensors)")
        weights_id = f"sha256:{file_sha256(ckpt)}"
    else:
        weights_id = f"random:seed={seed}:cfg={stable_hash(cfg)[:16]}"
    return ModelSource(name, cfg, base, weights_id, tag, ckpt, seed, config is not None)


HUB_PROBE_TIMEOUT_S = 3.0  # one TCP connect to the Hub; huggingface_hub's own retries take ~50 s offline


def hub_reachable(timeout_s: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """Whether the Hugging Face Hub (HF_ENDPOINT, default huggingface.co) accepts a TCP connection."""
    import socket
    from urllib.parse import urlparse

    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _hub_mode(offline: bool) -> Iterator[None]:
    """huggingface_hub in offline mode (the local cache only) for one call when the Hub cannot be
    reached, and its download warnings and open_clip's "Failed to download" kept off stderr:
    the failure is reported once, as our own one-line error."""
    import logging

    import huggingface_hub.constants as hub_constants

    class _Drop(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return False

    saved = hub_constants.HF_HUB_OFFLINE
    drop = _Drop()
    root, hub = logging.getLogger(), logging.getLogger("huggingface_hub")
    hub_level = hub.level
    root.addFilter(drop)  # open_clip logs its download failure with logging.error (the root logger)
    hub.setLevel(logging.CRITICAL)  # children (huggingface_hub.utils._http) inherit it
    hub_constants.HF_HUB_OFFLINE = saved or offline
    try:
        yield
    finally:
        hub_constants.HF_HUB_OFFLINE = saved
        hub.setLevel(hub_level)
        root.removeFilter(drop)


def load_openclip(
    name: str = "ViT-B-16",
    pretrained: str | None = None,
    *,
    checkpoint: str | Path | None = None,
    config: Mapping[str, Any] | str | Path | None = None,
    device: str | torch.device = "cpu",
    seed: int = 0,
    cache_dir: str | None = None,
    source: ModelSource | None = None,
) -> LoadedCLIP:
    """Load an OpenCLIP ViT CLIP model.

    - `pretrained="<tag>"` (e.g. "datacomp_xl_s13b_b90k"): `open_clip.create_model(name, pretrained=tag)`,
      which DOWNLOADS the weights (hundreds of MB) into `cache_dir` / the Hugging Face cache.
    - `checkpoint=<file>`: a local state dict for the architecture `name` (or `config`); loaded strictly.
    - neither: random initialisation with `seed` (for tests and workload checks; logged).
    `config` (a dict or JSON file) replaces the built-in config of `name`, which is then only a label.
    `source` (from `resolve_source`) replaces all of the above.
    """
    import open_clip

    src = source or resolve_source(name, pretrained, checkpoint=checkpoint, config=config, seed=seed)
    cfg = copy.deepcopy(src.config)
    overlay: dict[str, Any] = {}
    if src.pretrained:
        reachable = hub_reachable()
        try:
            with _hub_mode(offline=not reachable):
                model = open_clip.create_model(src.name, pretrained=src.pretrained, device="cpu", cache_dir=cache_dir)
        except Exception as exc:
            if not reachable:
                raise DataError(
                    f"pretrained weights {src.name}/{src.pretrained} are not in the local cache and the Hugging Face Hub "
                    "cannot be reached (no network); allowed: run once with network access, or pass a local checkpoint (--checkpoint FILE)"
                ) from None
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            raise DataError(
                f"pretrained weights {src.name}/{src.pretrained} could not be loaded ({reason}); "
                "they are downloaded on first use: run once with network access, or pass checkpoint=<file>"
            ) from None
        model.eval()
        overlay = open_clip.get_pretrained_cfg(src.name, src.pretrained)
    else:
        model = build_openclip(cfg, seed=src.seed)
        if src.checkpoint is not None:
            load_state_dict_checked(model, _read_state_dict(src.checkpoint), repr(str(src.checkpoint)), src.name)
        else:
            logger.info("OpenCLIP %s: random weights (seed %d), no pretrained tag or checkpoint given", src.name, src.seed)
    check_supported(model)
    preprocess, pcfg = _preprocess(cfg, overlay)
    model.to(resolve_device(device))
    return LoadedCLIP(
        model=model, config=src.base, base=src.base, openclip_name=src.name, base_openclip_config=cfg,
        weights_id=src.weights_id, tokenizer=_tokenizer(src.name, cfg), preprocess=preprocess, preprocess_config=pcfg,
    )
