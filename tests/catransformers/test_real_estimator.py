"""The measured-accuracy estimator 'openclip': protocol, on-disk cache (resume), failures, ablation importance."""

import json

import numpy as np
import pytest

open_clip = pytest.importorskip("open_clip")
torch = pytest.importorskip("torch")

from catransformers import ConfigError, DataError  # noqa: E402
from catransformers.accuracy import AccuracyResult, get_estimator, shapes_from_configs  # noqa: E402
from catransformers.real import (  # noqa: E402
    TINY_OPENCLIP_CONFIG,
    Evaluator,
    OpenCLIPEstimator,
    compute_importance,
    prune_model,
    load_image_folder,
    load_retrieval_csv,
    tiny_clip,
    write_synthetic_data,
)
from catransformers.real import prune as prune_module  # noqa: E402
from catransformers.real.estimator import OpenCLIPEstimator as Direct  # noqa: E402
from catransformers.workloads import ModelBatch, ModelConfig  # noqa: E402

pytestmark = [pytest.mark.clip, pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return write_synthetic_data(root, per_class=2)


@pytest.fixture(scope="module")
def clip():
    return tiny_clip()


def _designs(base):
    return [
        base.with_dims(vision={"layers": 1, "heads": 1, "ffn": 128, "width": 48}),
        base.with_dims(text={"heads": 1, "width": 32, "ffn": 128}),
        base,
    ]


def _estimator(data, tmp_path, **kw):
    csv_path, folder = data
    args = dict(openclip_config=TINY_OPENCLIP_CONFIG, retrieval_csv=csv_path, zeroshot_folder=folder,
                device="cpu", cache_dir=tmp_path / "cache", batch_size=16)
    args.update(kw)
    return OpenCLIPEstimator("tiny-clip", **args)


def test_registry_resolves_openclip_to_this_estimator(data, tmp_path):
    csv_path, _ = data
    est = get_estimator("openclip", model="tiny-clip", openclip_config=TINY_OPENCLIP_CONFIG, retrieval_csv=csv_path,
                        cache_dir=tmp_path)
    assert isinstance(est, Direct) and est.primary_metric == "retrieval_mean_r1"


def test_estimate_measures_caches_and_resumes(data, tmp_path, monkeypatch):
    est = _estimator(data, tmp_path, finetune_csv=data[0], finetune_batch_size=4, epochs_cap=2, max_steps=2)
    designs = _designs(est.base)
    res = est.estimate(designs + [designs[0]])  # a duplicate is measured once
    assert isinstance(res, AccuracyResult) and res.is_estimate is False and res.metric == "retrieval_mean_r1"
    assert res.estimator == "openclip v1" and len(res) == 4 and not res.failed.any()
    assert set(res.metrics) == set(est.metrics) and "zeroshot_top1" in res.metrics
    for v in res.values.values():
        assert np.all((v >= 0) & (v <= 1))
    assert res.primary[0] == res.primary[3] and res.extra["seconds"][3] == 0
    files = sorted((tmp_path / "cache").glob("*.json"))
    records = [json.loads(f.read_text()) for f in files if not f.name.startswith("importance-")]
    assert len(records) == 3 and all("finetune" in r and r["finetune"]["steps"] <= 2 for r in records)
    assert not list((tmp_path / "cache").glob("*.tmp"))

    # A new estimator (a resumed search) reads every design back and measures nothing.
    again = _estimator(data, tmp_path, finetune_csv=data[0], finetune_batch_size=4, epochs_cap=2, max_steps=2)
    monkeypatch.setattr(again, "measure", lambda cfg: (_ for _ in ()).throw(AssertionError("re-measured")))
    res2 = again.estimate(ModelBatch.from_configs(designs))
    assert res2.extra["cached"].all()
    np.testing.assert_array_equal(res2.primary, res.primary[:3])
    # Tower shapes (the protocol's input) work too, with the estimator's base.
    res3 = again.estimate(shapes_from_configs(designs))
    np.testing.assert_array_equal(res3.primary, res.primary[:3])

    # Other settings are other cache keys.
    other = _estimator(data, tmp_path, finetune_csv=data[0], finetune_batch_size=4, epochs_cap=2, max_steps=1)
    assert other.key(designs[0]) != est.key(designs[0])
    assert _estimator(data, tmp_path).key(designs[0]) != est.key(designs[0])


def test_a_failing_design_is_nan_and_logged_not_raised(data, tmp_path, monkeypatch, caplog):
    est = _estimator(data, tmp_path, primary_metric="zeroshot_top1")
    base = est.base
    alien = ModelConfig("alien", (base.vision, base.text.__class__(**{**base.text.__dict__, "tokens": 8})), family="clip")
    real = est.measure

    def flaky(cfg):
        if cfg.text.heads == 1:
            raise RuntimeError("CUDA out of memory (simulated)")
        return real(cfg)

    monkeypatch.setattr(est, "measure", flaky)
    res = est.estimate([base, alien, base.with_dims(text={"heads": 1})])
    assert res.failed.tolist() == [False, True, True]
    assert np.isnan(res.primary[1:]).all() and np.isfinite(res.primary[0])
    assert "text.tokens = 8 does not match" in caplog.text and "out of memory" in caplog.text
    # failures are not cached: a later run tries again
    assert len([f for f in (tmp_path / "cache").glob("*.json") if not f.name.startswith("importance-")]) == 1


def test_construction_errors_are_config_or_data_errors(data, tmp_path):
    csv_path, folder = data
    with pytest.raises(ConfigError, match="no evaluation data"):
        OpenCLIPEstimator("tiny", openclip_config=TINY_OPENCLIP_CONFIG)
    with pytest.raises(ConfigError, match="'zeroshot_top1' is not measured with this data"):
        _estimator(data, tmp_path, zeroshot_folder=None, primary_metric="zeroshot_top1")
    with pytest.raises(DataError, match="no column 'caption'"):
        _estimator(data, tmp_path, caption_key="caption")
    with pytest.raises(ConfigError, match="'ViT-B-99' is unknown"):
        OpenCLIPEstimator("ViT-B-99", retrieval_csv=csv_path)
    with pytest.raises(ConfigError, match="importance: 'random' is unknown"):
        _estimator(data, tmp_path, importance="random")


def test_ablation_importance_is_cached_by_weights_and_data(data, tmp_path, clip, monkeypatch):
    csv_path, folder = data
    ev = Evaluator(clip, load_retrieval_csv(csv_path), load_image_folder(folder), device="cpu")
    imp = compute_importance(clip, "ablation", evaluator=ev, cache_dir=tmp_path, ffn_blocks=2)
    assert imp.method == "ablation" and imp.info["passes"] == 2 * (2 * 2 + 2 * 2)
    assert len(imp.heads["text"]) == 2 and imp.heads["text"][0].shape == (2,)
    ffn = imp.ffn["vision"][0]
    assert ffn.shape == (256,) and len(np.unique(ffn)) <= 2  # one score per block of 128 neurons
    assert imp.layer_similarity["vision"].shape == (2,)
    assert np.all(np.abs(imp.layer_similarity["vision"]) <= 1)
    monkeypatch.setattr(prune_module, "ablation_importance", lambda *a, **k: (_ for _ in ()).throw(AssertionError("recomputed")))
    again = compute_importance(clip, "ablation", evaluator=ev, cache_dir=tmp_path, ffn_blocks=2)
    np.testing.assert_array_equal(again.ffn["text"][1], imp.ffn["text"][1])
    other = tiny_clip(seed=5)  # other weights: another cache entry (and here: computing it fails loudly)
    with pytest.raises(AssertionError, match="recomputed"):
        compute_importance(other, "ablation", evaluator=ev, cache_dir=tmp_path, ffn_blocks=2)
    with pytest.raises(ConfigError, match="needs data"):
        compute_importance(clip, "ablation")


class _StubEvaluator:
    """Accuracy 1 while vision layer 1 head 0 is present, 0 without it; loss the other way round."""

    def features(self, model, towers=("vision", "text")):
        w = model.visual.transformer.resblocks[1].attn.out_proj.weight[:, :32]
        present = float(w.abs().sum() > 0)
        return {"task": {k: torch.tensor([present]) for k in towers}}

    def score(self, feats, scale):
        v = float(feats["task"]["vision"][0])
        return {"acc": v}, 1.0 - v

    def ablation_score(self, metrics):
        return metrics["acc"]


def test_ablation_scores_the_drop_per_unit_and_restores_the_weights():
    clip = tiny_clip()
    before = {k: v.clone() for k, v in clip.model.state_dict().items()}
    imp = prune_module.ablation_importance(clip, _StubEvaluator(), ffn_blocks=4)
    assert imp.heads["vision"][1][0] == pytest.approx(1.0 + 1e-9)  # drop 1 + 1e-9 x loss increase 1
    assert imp.heads["vision"][1][1] == 0 and imp.heads["vision"][0].tolist() == [0, 0]
    assert all(not s.any() for s in imp.heads["text"]) and all(not f.any() for t in imp.ffn.values() for f in t)
    assert imp.info["passes"] == 2 * (2 * 2 + 2 * 4)
    for k, v in clip.model.state_dict().items():
        assert torch.equal(v, before[k]), k
    pruned = prune_model(clip, clip.base.with_dims(vision={"heads": 1}), imp)
    assert pruned.plan.towers["vision"].heads == ((0,), (0,))


def test_an_already_loaded_model_can_be_passed_in(data, tmp_path, clip):
    csv_path, _ = data
    est = OpenCLIPEstimator(clip=clip, retrieval_csv=csv_path, device="cpu", cache_dir=None)
    assert est.weights_id == clip.weights_id and est.base is clip.base
    res = est.estimate(clip.base)
    assert len(res) == 1 and not res.failed.any() and 0 <= res.primary[0] <= 1
    with pytest.raises(ConfigError, match="clip is pruned"):
        OpenCLIPEstimator(clip=prune_model(clip, clip.base), retrieval_csv=csv_path)
