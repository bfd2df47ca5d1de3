"""Validation at every edge: one line naming the field, exit 2, nothing non-finite accepted."""

import json

import numpy as np
import pytest

from catransformers.evaluate import evaluate
from catransformers.carbon import load_scenario
from catransformers.cli import main
from catransformers.errors import CATransformersError, ConfigError
from catransformers.workloads import get_model

import hw_models

TOWERS = 'vision = { layers = 2, width = 64, heads = 2, ffn = 128, image_size = 32, patch = 8%s }\ntext = { layers = 2, width = 64, heads = 2, ffn = 128, tokens = 16, vocab = 100 }\n'


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("catransformers") and "error" in lines[0], err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    "argv, field",
    [
        (("evaluate", "--model", ""), "--model"),
        (("evaluate", "--scenario", ""), "--scenario"),
        (("sweep", "--model", "vit-b-16", "--out", ""), "--out"),
        (("sweep", "--model", "vit-b-16", "--max-latency-s", "nan"), "--max-latency-s"),
        (("sweep", "--model", "vit-b-16", "--max-latency-s", "0"), "--max-latency-s"),
        (("sweep", "--model", "vit-b-16", "--max-tops", "-1"), "--max-tops"),
        (("evaluate", "--hardware", "clusters=inf"), "hardware.clusters"),
        (("evaluate", "--hardware", "dram_gb=1e308"), "hardware.dram_gb"),
        (("evaluate", "--prune", "text_layers=nan"), "prune.text_layers"),
        (("evaluate", "--prune", "vision_ffn_blocks=-inf"), "prune.vision_ffn_blocks"),
        (("evaluate", "--set", "yield_fraction=1e-308"), "embodied_kg"),
        (("evaluate", "--set", "use_region=FR", "--set", "use_region=DE"), "given twice"),
        (("search", "--scheduler", "tcp://"), "--scheduler"),
        (("search", "--algorithm", "nope"), "search.algorithm"),
        (("search", "--population", "99999999999999"), "search.population"),
        (("search", "--objectives", "accuracy,accuracy"), "search.objectives"),
        (("search", "--set", "space.text_layers=" + "[" * 2000 + "]" * 2000), "--set"),
        (("compare", "--modes", "carbon,carbon"), "--modes"),
        (("search", "--set", "hardware.fixed.clusters=2"), "hardware.fixed.clusters"),  # searched in carbon mode: not silently ignored
    ],
)
def test_bad_flags_are_one_line_exit_2(capsys, argv, field):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert field in one_error_line(err)


@pytest.mark.parametrize(
    "name, text, field",
    [
        ("m.toml", 'family = "rnn"\nembed_dim = 64\n' + TOWERS % "", "family"),
        ("m.toml", 'family = "clip"\nembed_dim = 64\n' + TOWERS % ', gated_ffn = "no"', "vision.gated_ffn"),
        ("m.toml", 'family = "clip"\nembed_dim = 64\n' + TOWERS % ", channels = true", "vision.channels"),
        ("m.toml", 'family = "clip"\nvision = 3\n', "vision = 3"),
        ("m.toml", "x = " + "[" * 3000 + "]" * 3000 + "\n", "too deeply"),
        ("hw.toml", "clusters = true\n", "hardware.clusters"),
        ("hw.toml", "clusters = nan\n", "hardware.clusters"),
        ("hw.toml", "hardware = 3\n", "hardware"),
        ("s.toml", 'amortise_embodied = "yes"\n', "amortise_embodied"),
        ("s.toml", "inferences = nan\n", "inferences"),
    ],
)
def test_bad_files_are_one_line_exit_2(capsys, tmp_path, name, text, field):
    path = tmp_path / name
    path.write_text(text)
    flag = {"m.toml": "--model", "hw.toml": "--hardware", "s.toml": "--scenario"}[name]
    code, _, err = run(capsys, "evaluate", flag, str(path))
    assert code == 2
    assert field in one_error_line(err)


@pytest.mark.parametrize("flag", ["--model", "--hardware", "--scenario"])
def test_files_that_are_not_utf8_name_the_byte_and_line(capsys, tmp_path, flag):
    path = tmp_path / "bad.toml"
    path.write_bytes(b'# ok\nname = "\xc3\x28"\n')
    code, _, err = run(capsys, "evaluate", flag, str(path))
    assert code == 2
    assert "not UTF-8 text (byte 0xc3 on line 2)" in one_error_line(err)


def test_spec_files_are_validated_the_same_way(capsys, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_bytes(b"[search]\npopulation = 4\n\x80")
    code, _, err = run(capsys, "search", "--spec", str(spec))
    assert code == 2 and "not UTF-8" in one_error_line(err)
    spec.write_text("[hardware]\naxes = { clusters = [1, true] }\n")
    code, _, err = run(capsys, "search", "--spec", str(spec))
    assert code == 2 and "hardware.axes.clusters" in one_error_line(err)
    spec.write_text("[search]\nreference_point = { total_kg = inf }\n")
    code, _, err = run(capsys, "search", "--spec", str(spec))
    assert code == 2 and "search.reference_point.total_kg" in one_error_line(err)


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"modes": 3}', b'{"modes": {"carbon": "../.."}}', b"\xff", b"NaN"])
def test_plot_refuses_junk_compare_json(capsys, tmp_path, content):
    (tmp_path / "compare.json").write_bytes(content)
    code, _, err = run(capsys, "plot", str(tmp_path))
    assert code == 2
    assert "compare.json" in one_error_line(err)


def test_amortised_embodied_through_evaluate():
    # lifetime given as inferences: the embodied share is inferences x latency / device lifetime
    base = load_scenario("reference")
    amortised = base.with_overrides({"amortise_embodied": "true"})
    full = evaluate(get_model("vit-b-16"), hw_models.HardwareConfig(), scenario=base)
    part = evaluate(get_model("vit-b-16"), hw_models.HardwareConfig(), scenario=amortised)
    share = float(part.carbon.embodied_fraction[0])
    latency = float(part.cost.latency_s[0])
    assert share == pytest.approx(amortised.lifetime_inferences * latency / amortised.device_lifetime_s, rel=1e-9)
    assert 0 < share < 1
    assert float(part.carbon.embodied_kg[0]) == pytest.approx(share * float(full.carbon.embodied_kg[0]), rel=1e-9)
    assert float(part.carbon.operational_kg[0]) == pytest.approx(float(full.carbon.operational_kg[0]), rel=1e-12)


def test_amortised_embodied_from_the_cli(capsys):
    _, out_full, _ = run(capsys, "evaluate", "--format", "json")
    code, out, err = run(capsys, "evaluate", "--set", "amortise_embodied=true", "--format", "json")
    assert code == 0, err
    full, part = json.loads(out_full), json.loads(out)
    assert 0 < part["embodied_kg"] < full["embodied_kg"]
    assert part["operational_kg"] == pytest.approx(full["operational_kg"], rel=1e-12)
    code, out, err = run(capsys, "sweep", "--model", "tinyclip-8m-16", "--set", "amortise_embodied=true")
    assert code == 0, err


def test_non_finite_result_is_refused_not_returned():
    scenario = load_scenario("reference").with_overrides({"yield_fraction": "1e-308"})
    with pytest.raises(ConfigError, match="embodied_kg"):
        evaluate(get_model("vit-b-16"), hw_models.HardwareConfig(), scenario=scenario)


def test_search_algorithm_random_on_the_cli(capsys, tmp_path):
    code, _, err = run(capsys, "search", "--algorithm", "random", "--population", "4", "--generations", "2", "--out", str(tmp_path / "r"), "--no-report", "--no-progress")
    assert code == 0, err
    run_json = json.loads((tmp_path / "r" / "run.json").read_text())
    assert run_json["method"] == "random"


def test_run_json_is_strict_json_with_an_unlimited_constraint(capsys, tmp_path):
    code, _, err = run(capsys, "search", "--max-latency-s", "inf", "--population", "4", "--generations", "1", "--out", str(tmp_path / "r"), "--no-report", "--no-progress")
    assert code == 0, err
    text = (tmp_path / "r" / "run.json").read_text()
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in run.json"))
    assert doc["limits"]["latency_s"] is None  # null: no limit
