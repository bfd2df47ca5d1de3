"""Real OpenCLIP weights: config conversion, loading, pruning to a ModelConfig (parameter counts), saving."""

import json
from dataclasses import replace
import subprocess
import sys

import numpy as np
import pytest

open_clip = pytest.importorskip("open_clip")
torch = pytest.importorskip("torch")

from catransformers import ConfigError, DataError  # noqa: E402
from catransformers.real import (  # noqa: E402
    TINY_OPENCLIP_CONFIG,
    Importance,
    load_openclip,
    load_pruned,
    model_config_from_openclip,
    openclip_config,
    openclip_incompatibility,
    plan_pruning,
    prune_model,
    save_pruned,
    tiny_clip,
    weight_importance,
)
from catransformers.real.config import OPENCLIP_TEXT_DEFAULTS, OPENCLIP_VISION_DEFAULTS, check_prunable_to  # noqa: E402
from catransformers.real.modules import PrunedAttention, tower_parts  # noqa: E402
from catransformers.workloads import ModelConfig, count_params, get_model, prune  # noqa: E402

pytestmark = [pytest.mark.clip, pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture(scope="module")
def clip():
    return tiny_clip()


def _params(model):
    return sum(p.numel() for p in model.parameters())


def _encode(model, clip):
    torch.manual_seed(1)
    img = torch.randn(2, 3, 32, 32)
    tok = clip.tokenizer(["a red square", "two green dogs"])
    with torch.no_grad():
        return model.encode_image(img), model.encode_text(tok)


def test_importing_the_package_does_not_import_torch():
    code = (
        "import sys, catransformers, catransformers.real, catransformers.real.config, catransformers.real.data, "
        "catransformers.real.cache; import catransformers.real as r; r.openclip_config; "
        "assert 'torch' not in sys.modules and 'open_clip' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_config_defaults_match_installed_open_clip():
    v, t = open_clip.CLIPVisionCfg(), open_clip.CLIPTextCfg()
    assert {k: getattr(v, k) for k in OPENCLIP_VISION_DEFAULTS} == dict(OPENCLIP_VISION_DEFAULTS)
    assert {k: getattr(t, k) for k in OPENCLIP_TEXT_DEFAULTS} == dict(OPENCLIP_TEXT_DEFAULTS)


@pytest.mark.parametrize("oc_name, ours", [("ViT-B-16", "vit-b-16"), ("ViT-B-32", "vit-b-32"), ("ViT-L-14", "vit-l-14"), ("ViT-H-14", "vit-h-14")])
def test_openclip_configs_map_to_the_shipped_models(oc_name, ours):
    m = model_config_from_openclip(oc_name, open_clip.get_model_config(oc_name))
    assert m.towers == get_model(ours).towers
    # and back: the OpenCLIP config we write describes the same model
    assert model_config_from_openclip("x", openclip_config(m)).towers == m.towers


def test_tinyclip_configs_round_trip_through_openclip_format():
    m = get_model("tinyclip-8m-16")
    assert model_config_from_openclip("t", openclip_config(m)).towers == m.towers


@pytest.mark.parametrize("name", ["RN50", "coca_ViT-B-32"])
def test_unsupported_openclip_models_are_one_line_config_errors(name):
    with pytest.raises(ConfigError) as e:
        model_config_from_openclip(name, open_clip.get_model_config(name))
    assert "\n" not in str(e.value) and "not supported" in str(e.value)


def test_loaded_model_matches_its_config_parameter_count(clip):
    assert clip.base.vision.head_dim == 32 and clip.base.text.heads == 2
    assert _params(clip.model) == count_params(clip.base)["total"][0]


PRUNED = [
    dict(vision={"heads": 1}, text={"ffn": 96}),  # heads x head_dim != width: not an OpenCLIP config
    dict(vision={"layers": 1, "heads": 1, "ffn": 128, "width": 48}, text={"layers": 1, "heads": 1, "ffn": 64, "width": 40}),
    dict(vision={"width": 32, "heads": 1, "ffn": 128}, text={"width": 32, "heads": 1, "ffn": 128}),  # expressible
]


@pytest.mark.parametrize("dims", PRUNED)
def test_pruned_parameter_count_equals_count_params_and_forward_runs(clip, dims):
    target = clip.base.with_dims(**dims)
    pruned = prune_model(clip, target)
    assert _params(pruned.model) == count_params(target)["total"][0]
    img, txt = _encode(pruned.model, clip)
    assert img.shape == (2, 32) and txt.shape == (2, 32)
    assert torch.isfinite(img).all() and torch.isfinite(txt).all()
    # the original is untouched
    assert _params(clip.model) == count_params(clip.base)["total"][0]


def test_pruning_vit_b_16_shaped_target_from_the_catalogue_is_checked_structurally(clip):
    # A catalogue ModelConfig (vit-b-16) does not have the tiny model's structure: one-line error.
    target = prune(get_model("vit-b-16"), {"text_layers": 6})
    with pytest.raises(ConfigError, match=r"vision\.head_dim = 64 does not match the loaded model"):
        prune_model(clip, target)


def test_pruning_to_the_base_shape_keeps_outputs(clip):
    same = prune_model(clip, clip.base)
    assert isinstance(tower_parts(same.model, "text").blocks[0].attn, PrunedAttention)
    for a, b in zip(_encode(clip.model, clip), _encode(same.model, clip)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_pruning_heads_and_ffn_equals_ablating_them(clip):
    # Keeping width and layers, pruning = zeroing the dropped units' output columns.
    target = clip.base.with_dims(vision={"heads": 1, "ffn": 100}, text={"heads": 1, "ffn": 150})
    pruned = prune_model(clip, target)
    ablated = prune_model(clip, clip.base)  # a converted copy
    with torch.no_grad():
        for kind in ("vision", "text"):
            tp = pruned.plan.towers[kind]
            for blk, heads, ffn in zip(tower_parts(ablated.model, kind).blocks, tp.heads, tp.ffn):
                hd = blk.attn.head_dim
                for h in set(range(blk.attn.heads)) - set(heads):
                    blk.attn.out_proj.weight[:, h * hd:(h + 1) * hd] = 0
                drop = sorted(set(range(blk.mlp.c_proj.in_features)) - set(ffn))
                blk.mlp.c_proj.weight[:, drop] = 0
    for a, b in zip(_encode(pruned.model, clip), _encode(ablated.model, clip)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_weight_importance_drops_the_weakest_head_and_neurons():
    clip = tiny_clip()
    with torch.no_grad():
        blk = tower_parts(clip.model, "text").blocks[0]
        blk.attn.in_proj_weight.view(3, 2, 32, 64)[:, 1] *= 0.01  # head 1 of text layer 0 is weak
        blk.attn.out_proj.weight[:, 32:] *= 0.01
        blk.mlp.c_fc.weight[:10] *= 0.01  # neurons 0..9 are weak
    imp = weight_importance(clip.model)
    assert imp.heads["text"][0].argmin() == 1
    pruned = prune_model(clip, clip.base.with_dims(text={"heads": 1, "ffn": 246}), imp)
    assert pruned.plan.towers["text"].heads[0] == (0,)
    assert pruned.plan.towers["text"].ffn[0] == tuple(range(10, 256))


def test_embedding_is_truncated_to_the_first_channels(clip):
    pruned = prune_model(clip, clip.base.with_dims(vision={"width": 48}, text={"width": 40}))
    torch.testing.assert_close(pruned.model.visual.conv1.weight, clip.model.visual.conv1.weight[:48])
    torch.testing.assert_close(pruned.model.token_embedding.weight, clip.model.token_embedding.weight[:, :40])
    torch.testing.assert_close(pruned.model.text_projection, clip.model.text_projection[:40])


def _uniform_importance(base, sim=None):
    return Importance(
        "l2",
        {t.kind: tuple(np.ones(t.heads) for _ in range(t.layers)) for t in base.towers},
        {t.kind: tuple(np.ones(t.ffn) for _ in range(t.layers)) for t in base.towers},
        sim or {},
    )


def test_layer_rules_text_middle_vision_most_similar():
    base = get_model("vit-b-16")
    sim = np.linspace(0.5, 0.9, 12)
    sim[3] = 0.99  # the most redundant block
    target = prune(base, {"text_layers": 8, "vision_layers": 9})
    plan = plan_pruning(base, target, _uniform_importance(base, {"vision": sim}))
    assert plan.towers["text"].layers == (0, 1, 2, 3, 8, 9, 10, 11)
    assert plan.towers["vision"].layers == (0, 1, 2, 4, 5, 6, 7, 8, 9)  # drops 3, 10, 11
    assert plan.towers["vision"].heads[0] == tuple(range(12))


def test_vision_layers_without_calibration_images_fall_back_to_the_middle_with_a_warning(caplog):
    base = get_model("vit-b-16")
    plan = plan_pruning(base, prune(base, {"vision_layers": 10}), _uniform_importance(base))
    assert plan.towers["vision"].layers == (0, 1, 2, 3, 4, 7, 8, 9, 10, 11)
    assert "dropping from the middle" in caplog.text


def test_check_prunable_to_names_the_field():
    base = get_model("vit-b-16")
    with pytest.raises(ConfigError, match=r"text\.tokens = 32 does not match the loaded model 'vit-b-16'; allowed: 77"):
        check_prunable_to(base, ModelConfig("x", (base.vision, replace(base.text, tokens=32)), family="clip"))


def test_expressible_pruned_model_loads_in_plain_openclip(clip, tmp_path):
    target = clip.base.with_dims(**PRUNED[2])
    assert openclip_incompatibility(target) is None
    pruned = prune_model(clip, target)
    out = save_pruned(pruned, tmp_path / "m", require_openclip=True)
    assert (out / "open_clip_config.json").is_file()
    plain = open_clip.create_model(f"local-dir:{out}").eval()
    assert isinstance(tower_parts(plain, "vision").blocks[0].attn, torch.nn.MultiheadAttention)
    for a, b in zip(_encode(pruned.model, clip), _encode(plain, clip)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    back = load_pruned(out)
    assert back.config.dims() == pruned.config.dims()


def test_inexpressible_pruned_model_saves_only_our_format(clip, tmp_path):
    target = clip.base.with_dims(**PRUNED[1])
    reason = openclip_incompatibility(target)
    assert reason is not None and "heads x head_dim" in reason
    pruned = prune_model(clip, target)
    with pytest.raises(ConfigError, match="cannot be written as an OpenCLIP config"):
        save_pruned(pruned, tmp_path / "strict", require_openclip=True)
    out = save_pruned(pruned, tmp_path / "m")
    assert not (out / "open_clip_config.json").exists()
    spec = json.loads((out / "catransformers_model.json").read_text())
    assert spec["openclip_loadable"] is False and spec["dims"]["vision"]["width"] == 48
    back = load_pruned(out)
    assert _params(back.model) == count_params(target)["total"][0]
    for a, b in zip(_encode(pruned.model, clip), _encode(back.model, clip)):
        torch.testing.assert_close(a, b)
    with pytest.raises(DataError, match="no catransformers_model.json"):
        load_pruned(tmp_path)


def test_load_errors_are_one_line():
    with pytest.raises(ConfigError, match=r"'ViT-B-17' is unknown; did you mean"):
        load_openclip("ViT-B-17")
    with pytest.raises(ConfigError, match=r"'no-such-tag' is not a tag of 'ViT-B-16'; allowed: .*datacomp_xl_s13b_b90k"):
        load_openclip("ViT-B-16", "no-such-tag")
    with pytest.raises(ConfigError, match="does not exist"):
        load_openclip("tiny", checkpoint="/nonexistent.pt", config=TINY_OPENCLIP_CONFIG)


def test_checkpoint_round_trip_and_shape_mismatch(clip, tmp_path):
    other = tiny_clip(seed=3)
    path = tmp_path / "w.pt"
    torch.save({"state_dict": other.model.state_dict()}, path)
    loaded = load_openclip("tiny", checkpoint=path, config=TINY_OPENCLIP_CONFIG)
    assert loaded.weights_id.startswith("sha256:")
    torch.testing.assert_close(loaded.model.visual.proj, other.model.visual.proj)
    wide = {**TINY_OPENCLIP_CONFIG, "embed_dim": 16}
    with pytest.raises(ConfigError) as e:
        load_openclip("tiny16", checkpoint=path, config=wide)
    assert str(e.value) == (
        f"checkpoint {str(path)!r}: tensor 'text_projection' has shape (64, 32) but config 'tiny16' needs (64, 16)"
    )


def test_custom_text_clip_prunes_saves_and_loads(tmp_path):
    import copy

    cfg = copy.deepcopy(TINY_OPENCLIP_CONFIG)
    cfg["custom_text"] = True
    ct = load_openclip("tiny-custom-text", config=cfg)
    assert type(ct.model).__name__ == "CustomTextCLIP"
    target = ct.base.with_dims(vision={"heads": 1, "width": 48}, text={"heads": 1, "width": 40, "layers": 1})
    pruned = prune_model(ct, target)
    assert _params(pruned.model) == count_params(target)["total"][0]
    back = load_pruned(save_pruned(pruned, tmp_path / "ct"))
    assert type(back.model).__name__ == "CustomTextCLIP"
    for a, b in zip(_encode(pruned.model, ct), _encode(back.model, ct)):
        torch.testing.assert_close(a, b)
