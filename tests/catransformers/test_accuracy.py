"""Tests of the accuracy estimators: protocol, clip-scaling estimate, registry and the calibration fit."""

from __future__ import annotations

import itertools
import json
import logging
import subprocess
import sys
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from catransformers.accuracy import (
    METRICS,
    SHAPE_FIELDS,
    AccuracyEstimator,
    AccuracyResult,
    ClipScalingEstimator,
    TowerShapes,
    as_tower_shapes,
    available_estimators,
    get_estimator,
    load_constants,
    register_estimator,
    shapes_from_configs,
    tower_rho,
)
from catransformers.accuracy import registry as registry_module
from catransformers.accuracy.fit import BASES, METRIC_COLUMNS, fit_constants, load_calibration, main
from catransformers.errors import ConfigError

BASE = {"vision": (12, 12, 3072, 768), "text": (12, 8, 2048, 512)}  # layers, heads, ffn, width
# ACCURACY.md's reference fit: err0, alpha_V, alpha_T.
REFERENCE_FIT = {
    "avg41": (0.468, 0.135, 0.022),
    "imagenet_top1": (0.26, 0.257, 0.126),
    "mscoco_mean_r1": (0.51, 0.128, 0.025),
}


def cfg(vl=12, vh=12, vf=3072, vw=768, tl=12, th=8, tf=2048, tw=512):
    """A duck-typed ModelConfig."""
    return SimpleNamespace(
        vision=SimpleNamespace(layers=vl, heads=vh, ffn=vf, width=vw),
        text=SimpleNamespace(layers=tl, heads=th, ffn=tf, width=tw),
    )


def random_shapes(n, rng, low_fraction=0.0):
    """n random shapes with every dimension in [max(1, low_fraction*base), base]."""
    cols = {}
    for tower, dims in BASE.items():
        for name, hi in zip(("layers", "heads", "ffn", "width"), dims):
            lo = max(1, int(np.ceil(low_fraction * hi)))
            cols[f"{tower}_{name}"] = rng.integers(lo, hi + 1, size=n)
    return TowerShapes(**cols)


def calibration_configs():
    df = load_calibration()
    configs = [
        cfg(r.v_layers, r.v_heads, r.v_ffn, r.v_width, r.t_layers, r.t_heads, r.t_ffn, r.t_width)
        for r in df.itertuples()
    ]
    return df, configs


@pytest.fixture(scope="module")
def est():
    return ClipScalingEstimator()


# --- the fit and its data --------------------------------------------------------------------


def test_refit_reproduces_shipped_constants():
    shipped = load_constants()
    doc = fit_constants()
    for metric in METRICS:
        for key in ("err0", "alpha_vision", "alpha_text", "chance"):
            assert doc["metrics"][metric][key] == pytest.approx(getattr(shipped.metrics[metric], key), abs=1e-6)
    for tower in ("vision", "text"):
        assert doc["validated_rho_min"][tower] == pytest.approx(shipped.validated_rho_min[tower], abs=1e-6)
    assert doc["version"] == shipped.version
    assert main(["--check"]) == 0


def test_fit_is_deterministic():
    a, b = fit_constants(fit_date="2000-01-01"), fit_constants(fit_date="2000-01-01")
    assert a == b


def test_fit_lands_near_reference_values():
    c = load_constants()
    for metric, (err0, a_v, a_t) in REFERENCE_FIT.items():
        m = c.metrics[metric]
        assert m.err0 == pytest.approx(err0, abs=1e-9)
        assert m.alpha_vision == pytest.approx(a_v, abs=0.001)
        assert m.alpha_text == pytest.approx(a_t, abs=0.001)
        assert m.alpha_vision >= 0 and m.alpha_text >= 0


def test_fit_residuals_small():
    doc = json.loads((resources.files("catransformers") / "data" / "accuracy_constants.json").read_text())
    worst = {m: doc["metrics"][m]["max_abs_residual"] for m in METRICS}
    # avg41 0.006, ImageNet 0.019 (CarbonCLIP-XL), MSCOCO 0.017: all under 2 accuracy points.
    assert max(worst.values()) < 0.02, worst
    assert worst["avg41"] < 0.01
    for m in METRICS:
        res = [p["residual"] for p in doc["metrics"][m]["fit_points"].values()]
        assert len(res) == 4
        assert max(abs(r) for r in res) == pytest.approx(worst[m])


def test_packaged_data_and_provenance():
    data = resources.files("catransformers") / "data"
    csv = data / "clip_accuracy_calibration.csv"
    doc = json.loads((data / "accuracy_constants.json").read_text())
    import hashlib

    assert hashlib.sha256(csv.read_bytes()).hexdigest() == doc["provenance"]["csv_sha256"]
    prov = doc["provenance"]
    for key in ("fit_date", "script", "csv", "method", "anchor_row", "fit_rows", "sources"):
        assert prov[key]
    df = load_calibration()
    assert df["source"].notna().all()
    assert set(df["role"]) == {"anchor", "fit"}
    assert len(df[df["role"] == "fit"]) == 4


def test_fit_cli_writes_loadable_constants(tmp_path):
    out = tmp_path / "c.json"
    assert main(["--output", str(out), "--date", "2000-01-01"]) == 0
    c = load_constants(out)
    assert c.provenance["fit_date"] == "2000-01-01"
    assert c.metrics["avg41"].alpha_vision == pytest.approx(load_constants().metrics["avg41"].alpha_vision)
    bad = tmp_path / "bad.csv"
    bad.write_text("model,role\nx,fit\n")
    assert main(["--csv", str(bad), "--output", str(tmp_path / "x.json")]) == 2


# --- the estimate ----------------------------------------------------------------------------


def test_full_size_equals_anchor(est):
    df = load_calibration()
    anchor = df[df["model"].str.contains("CATransformers baseline")].iloc[0]
    r = est.estimate(cfg())
    assert est.rho_vision(cfg())[0] == pytest.approx(1.0, abs=1e-15)
    assert est.rho_text(cfg())[0] == pytest.approx(1.0, abs=1e-15)
    for metric, column in METRIC_COLUMNS.items():
        assert r.values[metric][0] == pytest.approx(anchor[column], abs=1e-12)


def test_openclip_anchor_is_close(est):
    # OpenCLIP's own numbers for the same unpruned model (different harness): within 1 point.
    df = load_calibration()
    row = df[df["model"].str.startswith("ViT-B-16 datacomp")].iloc[0]
    r = est.estimate(cfg())
    assert abs(r["imagenet_top1"][0] - row["imagenet_zs_top1"]) < 0.01
    assert abs(r["mscoco_mean_r1"][0] - row["mscoco_mean_R1"]) < 0.01


def test_published_carbonclip_points_reproduced(est):
    df, configs = calibration_configs()
    r = est.estimate(configs)
    for metric, column in METRIC_COLUMNS.items():
        published = df[column].to_numpy(dtype=float)
        ok = ~np.isnan(published)
        assert np.max(np.abs(r.values[metric][ok] - published[ok])) < 0.02, metric


def test_rho_is_the_kept_parameter_fraction(est):
    _, configs = calibration_configs()
    xs = configs[2]  # CarbonCLIP-XS: every dimension halved, text heads 4 of 8
    assert est.rho_vision(xs)[0] == pytest.approx(0.1875)
    assert est.rho_text(xs)[0] == pytest.approx(0.1875)
    for tower, b in BASES.items():
        assert b.attention_share == pytest.approx(1 / 3, abs=1e-15)
    # literal ACCURACY.md form against a direct count of block weights E*(4*64*H + 2*F)*L
    rng = np.random.default_rng(0)
    s = random_shapes(200, rng)
    rv, rt = est.rho(s)
    for (tower, (L0, H0, F0, E0)), rho in zip(BASE.items(), (rv, rt)):
        L, H, F, E = s.tower(tower)
        literal = (L / L0) * (E / E0) * ((1 / 3) * H / H0 + (2 / 3) * F / F0)
        counted = (L * E * (4 * 64 * H + 2 * F)) / (L0 * E0 * (4 * 64 * H0 + 2 * F0))
        np.testing.assert_allclose(rho, literal, rtol=1e-13)
        np.testing.assert_allclose(rho, counted, rtol=1e-13)
    np.testing.assert_allclose(tower_rho(6, 6, 1536, 384, BASES["vision"]), 0.125)


def test_monotone_in_every_dimension(est):
    rng = np.random.default_rng(1)
    s = random_shapes(2000, rng)
    before = est.estimate(s)
    for field in SHAPE_FIELDS:
        cols = s.as_dict()
        col = cols[field].copy()
        step = {"layers": 1, "heads": 1}.get(field.split("_")[1], 64)
        col = np.maximum(1, col - step)
        cols[field] = col
        after = est.estimate(TowerShapes(**cols))
        for m in METRICS:
            assert np.all(after.values[m] <= before.values[m] + 1e-15), (field, m)


def test_whole_search_space_in_one_call(est):
    # The reference pruning space (docs/reference-facts.md section 3): 1,071,875 models.
    t = list(itertools.product(range(6, 13), range(4, 9), [256 * k for k in range(4, 9)], [64 * k for k in range(4, 9)]))
    v = list(itertools.product(range(6, 13), range(6, 13), [384 * k for k in range(4, 9)], [96 * k for k in range(4, 9)]))
    assert len(t) * len(v) == 1_071_875
    t, v = np.array(t), np.array(v)
    iv, it = np.meshgrid(np.arange(len(v)), np.arange(len(t)), indexing="ij")
    iv, it = iv.ravel(), it.ravel()
    s = TowerShapes(
        vision_layers=v[iv, 0], vision_heads=v[iv, 1], vision_ffn=v[iv, 2], vision_width=v[iv, 3],
        text_layers=t[it, 0], text_heads=t[it, 1], text_ffn=t[it, 2], text_width=t[it, 3],
    )
    r = est.estimate(s)
    c = load_constants()
    assert len(r) == 1_071_875
    for m in METRICS:
        vals = r.values[m]
        assert np.all(np.isfinite(vals))
        assert vals.max() == pytest.approx(1 - c.metrics[m].err0)  # the full model is in the space
        assert vals.min() > c.metrics[m].chance  # the floor never binds inside the space
    assert r.values["avg41"].min() > 0.3
    # Below the smallest fit point (rho 0.1875) is flagged; everything else is in range.
    rv, rt = r.extra["rho_vision"], r.extra["rho_text"]
    np.testing.assert_array_equal(r.out_of_range, (rv < 0.1875 - 1e-12) | (rt < 0.1875 - 1e-12))


def test_vectorised_equals_one_by_one(est):
    rng = np.random.default_rng(2)
    s = random_shapes(60, rng, low_fraction=0.5)
    batch = est.estimate(s)
    # SHAPE_FIELDS is in cfg's argument order: vision then text, each layers, heads, ffn, width.
    configs = [cfg(*(int(getattr(s, f)[i]) for f in SHAPE_FIELDS)) for i in range(len(s))]
    for i, c in enumerate(configs):
        one = est.estimate(c)
        assert len(one) == 1
        for m in METRICS:
            assert one.values[m][0] == pytest.approx(batch.values[m][i], rel=1e-12)  # scalar vs SIMD path: an ulp apart at most
    from_objects = est.estimate(configs)
    for m in METRICS:
        np.testing.assert_array_equal(from_objects.values[m], batch.values[m])
    mapping = est.estimate({k: list(v) for k, v in s.as_dict().items()})
    np.testing.assert_array_equal(mapping.primary, batch.primary)


def test_result_labels_and_flags(est):
    r = est.estimate([cfg(), cfg(vl=6)])
    assert isinstance(r, AccuracyResult)
    assert r.metric == "avg41" and r.is_estimate
    assert r.estimator == "clip-scaling v1"
    assert r.label == "avg over 41 tasks (estimate, clip-scaling v1)"
    assert all("estimate" in lab and "clip-scaling v1" in lab for lab in r.labels.values())
    assert set(r.metrics) == set(METRICS)
    np.testing.assert_array_equal(r.primary, r.values["avg41"])
    assert not r.failed.any()
    with pytest.raises(ValueError):
        r.primary[0] = 1.0  # read-only
    other = get_estimator(primary_metric="imagenet_top1").estimate(cfg())
    assert other.metric == "imagenet_top1" and other.label.startswith("ImageNet-1k zero-shot top-1 (estimate")
    assert isinstance(est, AccuracyEstimator)
    empty = est.estimate({k: [] for k in SHAPE_FIELDS})
    assert len(empty) == 0 and empty.primary.shape == (0,)


def test_out_of_range_flag_and_single_warning(caplog):
    e = ClipScalingEstimator()
    inside = cfg(6, 6, 1536, 576, 6, 4, 1024, 384)  # CarbonCLIP-XS, the smallest fit point
    half = cfg(6, 6, 1536, 384, 6, 4, 1024, 256)  # in the search space, rho 0.125
    tiny = cfg(vl=5)  # below the search-space floor
    assert not e.out_of_range(inside)[0]
    with caplog.at_level(logging.WARNING, logger="catransformers.accuracy.surrogate"):
        r = e.estimate([inside, half, tiny])
        e.estimate([half])
    np.testing.assert_array_equal(r.out_of_range, [False, True, True])
    warnings = [rec for rec in caplog.records if rec.levelno == logging.WARNING]
    assert len(warnings) == 1 and "2 of 3 designs outside the validated range" in warnings[0].getMessage()


# --- bad input -------------------------------------------------------------------------------


def _one_line_error(fn, *must_contain):
    with pytest.raises(ConfigError) as info:
        fn()
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in msg
    for part in must_contain:
        assert part in msg, (part, msg)
    return msg


def test_bad_input_raises_config_error(est):
    good = {k: np.array([v, v]) for k, v in zip(SHAPE_FIELDS, (12, 12, 3072, 768, 12, 8, 2048, 512))}

    def with_(**changes):
        d = dict(good)
        d.update({k: np.asarray(v) for k, v in changes.items()})
        return d

    _one_line_error(lambda: est.estimate(with_(vision_layers=[12, -1])), "vision_layers[1] = -1;", "allowed")
    _one_line_error(lambda: est.estimate(with_(text_heads=[0, 8])), "text_heads[0]", "0", "allowed")
    _one_line_error(lambda: est.estimate(with_(vision_layers=[13, 12])), "vision_layers[0]", "13", "allowed: integers 1..12")
    _one_line_error(lambda: est.estimate(with_(text_ffn=[2048, 4096])), "text_ffn[1]", "4096", "1..2048")
    _one_line_error(lambda: est.estimate(with_(text_width=[512, 512, 512])), "text_width", "length 3", "allowed")
    _one_line_error(lambda: est.estimate(with_(vision_ffn=[3072.0, 1000.5])), "vision_ffn[1]", "1000.5", "allowed")
    _one_line_error(lambda: est.estimate(with_(vision_width=[[768, 768]])), "vision_width", "(1, 2)", "allowed")
    _one_line_error(lambda: est.estimate({**good, "vision_patch": [16, 16]}), "vision_patch", "allowed")
    _one_line_error(lambda: est.estimate({k: v for k, v in good.items() if k != "text_layers"}), "text_layers")
    _one_line_error(lambda: est.estimate([cfg(), SimpleNamespace(vision=cfg().vision, text=object())]),
                    "configs[1]", "text.layers", "allowed")
    _one_line_error(lambda: est.estimate(42), "int", "allowed")
    _one_line_error(lambda: ClipScalingEstimator(primary_metric="top5"), "'top5'", "allowed: avg41, imagenet_top1, mscoco_mean_r1")
    _one_line_error(lambda: est.estimate(cfg())["top5"], "'top5'", "allowed")
    _one_line_error(lambda: get_estimator("nope"), "'nope'", "allowed: clip-scaling")


# --- registry --------------------------------------------------------------------------------


def test_registry_default_and_lazy_paths(monkeypatch):
    monkeypatch.setattr(registry_module, "_REGISTRY", dict(registry_module._REGISTRY))
    default = get_estimator()
    assert isinstance(default, ClipScalingEstimator) and default.primary_metric == "avg41"
    assert default.name == "clip-scaling" and default.version == "1"
    assert {"clip-scaling", "openclip"} <= set(available_estimators())
    # Registering a lazy path imports nothing; resolving a bad one is a one-line ConfigError.
    register_estimator("later", "catransformers.accuracy.no_such_module:Thing")
    assert "catransformers.accuracy.no_such_module" not in sys.modules
    _one_line_error(lambda: get_estimator("later"), "'later'", "no_such_module")
    register_estimator("alias", "catransformers.accuracy.surrogate:ClipScalingEstimator")
    assert isinstance(get_estimator("alias", primary_metric="mscoco_mean_r1"), ClipScalingEstimator)
    register_estimator("factory", lambda: ClipScalingEstimator("imagenet_top1"))
    assert get_estimator("factory").primary_metric == "imagenet_top1"
    _one_line_error(lambda: register_estimator("alias", ClipScalingEstimator), "already registered", "allowed")
    _one_line_error(lambda: register_estimator("x", "no-colon"), "'no-colon'", "allowed: 'module:attr'")


def test_import_is_light_and_does_no_io():
    code = (
        "import sys; import catransformers.accuracy as a; "
        "heavy = [m for m in ('torch', 'open_clip', 'scipy', 'pandas', 'catransformers.accuracy.fit') if m in sys.modules]; "
        "assert not heavy, heavy; "
        "assert a.surrogate._load_cached.cache_info().currsize == 0"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_estimator_and_result_pickle(est):
    import pickle

    r = est.estimate([cfg(), cfg(vl=8)])
    e2 = pickle.loads(pickle.dumps(est))  # e.g. shipped to a distributed worker
    r2 = pickle.loads(pickle.dumps(r))
    np.testing.assert_array_equal(e2.estimate([cfg(), cfg(vl=8)]).primary, r.primary)
    assert r2.label == r.label and r2.values.keys() == r.values.keys()


def test_as_tower_shapes_round_trip():
    s = as_tower_shapes([cfg(), cfg(vl=6)])
    assert len(s) == 2 and s.vision_layers.tolist() == [12, 6]
    assert as_tower_shapes(s) is s
    assert shapes_from_configs([]).vision_layers.shape == (0,)
    with pytest.raises(ValueError):
        s.vision_layers[0] = 3  # read-only
