"""CLI smoke tests: evaluate, sweep, data; one-line errors with exit code 2."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from catransformers.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_json_has_the_documented_keys(capsys):
    code, out, _ = run(capsys, "evaluate", "--model", "vit-b-16", "--format", "json")
    assert code == 0
    rec = json.loads(out)
    for key in ("latency_s", "energy_j", "area_um2", "area_mm2", "tops", "macs", "params", "ops",
                "embodied_kg", "embodied_logic_kg", "embodied_dram_kg", "operational_kg", "total_kg",
                "energy_lifetime_kwh", "accuracy", "accuracy_metric"):
        assert key in rec, key
    assert rec["params"] == pytest.approx(149.62e6, rel=0.005)
    assert "estimate" in rec["accuracy_metric"]
    assert sum(op["latency_s"] for op in rec["ops"]) == pytest.approx(rec["latency_s"], rel=1e-9)
    assert rec["total_kg"] == pytest.approx(rec["embodied_kg"] + rec["operational_kg"], rel=1e-12)


def test_evaluate_area_limit_design_embodied(capsys):
    # The reference's area-limit design: 31,990,347 um^2 and 0.715 kg embodied (docs/reference-facts.md 1.2, 2).
    code, out, _ = run(capsys, "evaluate", "--hardware", "clusters=4,pe_width=256,pe_depth=16,l2_sram_kb=1024,glb_mb=8", "--format", "json")
    rec = json.loads(out)
    assert rec["area_um2"] == pytest.approx(31_990_347, abs=1)
    assert rec["embodied_kg"] == pytest.approx(0.715, abs=0.0005)


def test_evaluate_prune_and_set(capsys):
    _, out_full, _ = run(capsys, "evaluate", "--format", "json")
    _, out, _ = run(capsys, "evaluate", "--prune", "text_layers=6,vision_ffn_blocks=4", "--set", "use_region=FR", "--set", "inferences=1e8", "--format", "json")
    full, pruned = json.loads(out_full), json.loads(out)
    assert pruned["macs"] < full["macs"] and pruned["latency_s"] < full["latency_s"]
    assert pruned["accuracy"] < full["accuracy"]


def test_evaluate_several_models_prints_a_comparison(capsys):
    code, out, _ = run(capsys, "evaluate", "--model", "vit-b-16,tinyclip-39m-16,tinyclip-8m-16")
    assert code == 0
    assert "tinyclip-39m-16" in out and "total_kg" in out and "estimate" in out


def test_evaluate_workload_csv(capsys, tmp_path):
    f = tmp_path / "g.csv"
    f.write_text("fc1,197,768,3072\nqk,197,64,197,12\n")
    code, out, _ = run(capsys, "evaluate", "--workload", str(f), "--hardware", "clusters=1,pe_width=32,pe_depth=32", "--format", "csv")
    assert code == 0
    assert out.splitlines()[0].startswith("model,")


def test_evaluate_hardware_toml(capsys, tmp_path):
    f = tmp_path / "hw.toml"
    f.write_text("[hardware]\nclusters = 2\npe_width = 64\n")
    code, out, _ = run(capsys, "evaluate", "--hardware", str(f), "--format", "json")
    assert json.loads(out)["hardware"]["clusters"] == 2


def test_sweep_writes_one_row_per_grid_point(capsys, tmp_path):
    out_csv = tmp_path / "sweep.csv"
    code, out, _ = run(capsys, "sweep", "--model", "tinyclip-39m-16", "--out", str(out_csv))
    assert code == 0
    frame = pd.read_csv(out_csv)
    assert len(frame) == 3240
    for col in ("clusters", "pe_width", "pe_depth", "l2_sram_kb", "l2_bw", "glb_mb", "latency_s", "total_kg", "feasible"):
        assert col in frame.columns
    assert "minimum carbon" in out and "minimum latency" in out
    feasible = frame[frame["feasible"]]
    assert (feasible["tops"] <= 20.48).all() and (feasible["latency_s"] <= 0.05).all()
    # the printed minimum-carbon design is the feasible row of least total carbon
    best = feasible.loc[feasible["total_kg"].idxmin()]
    assert f"{best['total_kg']:.4f} kg" in out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["evaluate", "--model", "vit-b-17"], "model: unknown model 'vit-b-17'"),
        (["evaluate", "--hardware", "pe_width=48"], "hardware.pe_width: 48"),
        (["evaluate", "--hardware", "clusters=-1"], "hardware.clusters"),
        (["evaluate", "--hardware", "colour=red"], "unknown key 'colour'"),
        (["evaluate", "--prune", "text_layers=20"], "prune.text_layers: 20"),
        (["evaluate", "--set", "use_region=Atlantis"], "Atlantis"),
        (["evaluate", "--set", "yield_fraction=1.5"], "yield_fraction"),
        (["evaluate", "--set", "inferences=-3"], "inferences"),
        (["evaluate", "--set", "colour=red"], "colour"),
        (["evaluate", "--scenario", "nope"], "nope"),
        (["evaluate", "--workload", "/no/such/file.csv"], "/no/such/file.csv"),
        (["sweep", "--model", "bogus"], "unknown model"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_console_script_bad_input_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "catransformers", "evaluate", "--hardware", "pe_depth=3"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_data_tables(capsys):
    for table in ("regions", "nodes", "dram", "fabs", "models"):
        code, out, _ = run(capsys, "data", table)
        assert code == 0 and out.strip()
    _, out, _ = run(capsys, "data", "regions", "--format", "csv")
    assert len(out.splitlines()) > 200
