"""CLI prune / measure / search --data on a tiny random OpenCLIP model and generated data (clip extra)."""

import json

import pytest

pytest.importorskip("open_clip")

from catransformers.cli import main  # noqa: E402
from catransformers.real import TINY_OPENCLIP_CONFIG, write_synthetic_data  # noqa: E402

pytestmark = [pytest.mark.clip, pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    cfg = root / "tiny.json"
    cfg.write_text(json.dumps(TINY_OPENCLIP_CONFIG))
    csv, folder = write_synthetic_data(root / "data", per_class=3)
    return root, str(cfg), str(folder), str(csv)


def test_prune_then_measure(setup, capsys):
    root, cfg, folder, csv = setup
    out = root / "pruned"
    code = main(["prune", "--openclip-model", "tiny", "--openclip-config", cfg, "--prune", "text_ffn_blocks=5,vision_heads=1", "--out", str(out), "--cache-dir", str(root / "cache")])
    assert code == 0
    assert "pruned tiny" in capsys.readouterr().out
    code = main(["measure", "--pruned", str(out), "--data", csv, "--zeroshot-folder", folder, "--device", "cpu", "--format", "json"])
    assert code == 0
    rec = json.loads(capsys.readouterr().out)
    assert 0 <= rec["retrieval_mean_r1"] <= 1 and 0 <= rec["zeroshot_top1"] <= 1


def test_measure_without_data_is_one_line(setup, capsys):
    root, cfg, _, _ = setup
    code = main(["measure", "--openclip-model", "tiny", "--openclip-config", cfg])
    err = capsys.readouterr().err
    assert code == 2 and "no data" in err and len(err.strip().splitlines()) == 1


def test_measure_missing_csv_column_is_one_line(setup, capsys, tmp_path):
    root, cfg, _, _ = setup
    bad = tmp_path / "bad.csv"
    bad.write_text("path,caption\na.png,a cat\n")
    code = main(["measure", "--openclip-model", "tiny", "--openclip-config", cfg, "--data", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "filepath" in err and "Traceback" not in err


def test_search_with_measured_accuracy(setup, capsys, tmp_path):
    root, cfg, folder, csv = setup
    model = tmp_path / "tiny_base.toml"
    # The search base: the tiny model's own shape (2 layers, width 64, 2 heads of 32 per tower).
    model.write_text(
        'family = "clip"\nembed_dim = 32\n'
        "vision = { layers = 2, width = 64, heads = 2, ffn = 256, head_dim = 32, image_size = 32, patch = 8 }\n"
        "text = { layers = 2, width = 64, heads = 2, ffn = 256, head_dim = 32, tokens = 16, vocab = 49408 }\n"
    )
    out = tmp_path / "run"
    argv = ["search", "--model", str(model), "--population", "4", "--generations", "2", "--data", csv, "--out", str(out),
            "--no-report", "--set", "accuracy.options.model=tiny", "--set", f"accuracy.options.openclip_config={cfg}",
            "--set", "accuracy.options.device=cpu", "--set", f"accuracy.options.cache_dir={tmp_path / 'cache'}"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "measured" in text
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["evaluated"] >= 4
