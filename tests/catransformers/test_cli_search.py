"""CLI smoke tests for search, compare and plot: small runs, the results folder, one-line errors (exit 2)."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from catransformers.cli import main


@pytest.fixture(autouse=True)
def _quiet_estimator():
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


SMALL = ("--population", "8", "--offspring", "8", "--generations", "3", "--no-progress")


def test_search_writes_the_results_folder(capsys, tmp_path):
    out = tmp_path / "carbon"
    code, stdout, err = run(capsys, "search", "--mode", "carbon", "--out", str(out), *SMALL)
    assert code == 0, err
    for name in ("evaluations.csv", "pareto.csv", "run.json", "report.html"):
        assert (out / name).exists(), name
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["status"] == "complete" and run_json["mode"] == "carbon"
    assert run_json["spec"]["search"]["population"] == 8
    assert "24 designs" in stdout and "Pareto front" in stdout and str(out) in stdout
    assert len(pd.read_csv(out / "evaluations.csv")) == 24


def test_search_flags_set_and_resume(capsys, tmp_path):
    out = tmp_path / "lat"
    code, _, err = run(capsys, "search", "--mode", "latency", "--objectives", "accuracy,latency_s,embodied_kg", "--out", str(out),
                       "--set", "space.text_layers=[6,8],search.seed=3", "--set", "use_region=FR", "--seed", "4", *SMALL)
    assert code == 0, err
    spec = json.loads((out / "run.json").read_text())
    assert spec["method"] == "nsga3" and [o["name"] for o in spec["objectives"]] == ["accuracy", "latency_s", "embodied_kg"]
    assert spec["spec"]["space"]["text_layers"] == [6, 8] and spec["seed"] == 4  # the flag beats --set
    assert spec["spec"]["scenario"]["use_region"] == "FR"
    assert set(pd.read_csv(out / "evaluations.csv")["text_layers"]) <= {6, 7, 8}
    before = (out / "evaluations.csv").read_text()
    code, _, _ = run(capsys, "search", "--mode", "latency", "--objectives", "accuracy,latency_s,embodied_kg", "--out", str(out),
                     "--set", "space.text_layers=[6,8],search.seed=3", "--set", "use_region=FR", "--seed", "4", "--resume", *SMALL)
    assert code == 0 and (out / "evaluations.csv").read_text() == before


def test_search_all_hw_is_exhaustive(capsys, tmp_path):
    code, stdout, _ = run(capsys, "search", "--mode", "all-hw", "--out", str(tmp_path), "--no-report", "--no-progress")
    assert code == 0
    assert "by exhaustive" in stdout and "3,240 designs" in stdout and "3,060 evaluated" in stdout


def test_search_without_a_feasible_design_warns_and_writes(capsys, tmp_path):
    code, _, err = run(capsys, "search", "--out", str(tmp_path), "--max-latency-s", "1e-7", "--no-report", *SMALL)
    assert code == 0
    assert err.strip().startswith("catransformers: warning: no feasible design")
    assert len(err.strip().splitlines()) == 1
    assert len(pd.read_csv(tmp_path / "evaluations.csv")) == 24
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "no-feasible"


def test_search_profile_flag_and_spec_key(capsys, tmp_path):
    # --profile and the spec key hardware.profile choose the technology profile of every evaluation.
    runs = {}
    for name, argv in (("default", ()), ("code", ("--profile", "catransformers-code")), ("key", ("--set", "hardware.profile=catransformers-code"))):
        out = tmp_path / name
        code, _, err = run(capsys, "search", "--mode", "carbon", "--out", str(out), "--no-report", *argv, *SMALL)
        assert code == 0, err
        runs[name] = (json.loads((out / "run.json").read_text()), pd.read_csv(out / "evaluations.csv"))
    assert runs["default"][0]["spec"]["hardware"]["profile"] == "reference"
    assert runs["code"][0]["spec"]["hardware"]["profile"] == runs["key"][0]["spec"]["hardware"]["profile"] == "catransformers-code"
    # The code's accounting charges more energy per inference (2.2 pJ MACs, whole 32-bit accesses).
    assert runs["code"][1]["energy_j"].median() > 2 * runs["default"][1]["energy_j"].median()
    assert runs["code"][1]["energy_j"].to_numpy() == pytest.approx(runs["key"][1]["energy_j"].to_numpy())
    code, _, err = run(capsys, "compare", "--modes", "carbon", "--profile", "nope", "--out", str(tmp_path / "c"), *SMALL)
    assert code == 2 and "hardware.profile: 'nope' is not allowed; allowed: catransformers-code, reference" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [("search", "--mode", "carbon"), ("compare", "--modes", "carbon,latency")])
def test_a_table_where_a_hardware_number_belongs_is_one_line(capsys, tmp_path, command):
    # Found by the CLI fuzz test: compare deep-copied the frozen spec and raised a traceback.
    code, _, err = run(capsys, *command, "--set", "hardware.fixed.clusters={a=1}", "--out", str(tmp_path / "x"), *SMALL)
    assert code == 2 and "hardware.clusters: {'a': 1} is not allowed; must be a positive number" in err
    assert len(err.strip().splitlines()) == 1


def test_compare_and_plot(capsys, tmp_path):
    code, stdout, err = run(capsys, "compare", "--modes", "carbon,latency", "--out", str(tmp_path), *SMALL)
    assert code == 0, err
    assert (tmp_path / "carbon" / "run.json").exists() and (tmp_path / "latency" / "run.json").exists()
    table = pd.read_csv(tmp_path / "compare.csv")
    assert set(table["mode"]) == {"carbon", "latency"}
    assert {"accuracy_target", "total_kg", "embodied_kg", "operational_kg", "latency_s", "energy_j", "area_mm2", "clusters", "glb_mb"} <= set(table.columns)
    chosen = table.dropna(subset=["accuracy"])
    assert (chosen["accuracy"] >= chosen["accuracy_target"]).all()
    assert (tmp_path / "compare.html").exists() and "matched accuracy" in stdout
    (tmp_path / "compare.html").unlink()
    code, stdout, _ = run(capsys, "plot", str(tmp_path))
    assert code == 0 and (tmp_path / "compare.html").exists() and "report.html" in stdout
    code, stdout, _ = run(capsys, "plot", str(tmp_path / "carbon"))
    assert code == 0 and stdout.strip().endswith("report.html")


@pytest.mark.parametrize(
    "argv, needle",
    [
        (("search", "--mode", "fastest"), "search.mode: 'fastest' is unknown; allowed: carbon, latency, energy, all, all-hw, model-only"),
        (("search", "--objectives", "accuracy,carbon"), "objective: 'carbon' is unknown; allowed: accuracy, total_kg"),
        (("search", "--set", "space.text_layers=[2,12]"), "space.text_layers: 2 is outside the base model's space; allowed: 6..12"),
        (("search", "--population", "1"), "search.population: 1 is not allowed; must be a whole number from 2 to 100,000"),
        (("search", "--set", "search.popsize=3"), "unknown key 'search.popsize'; allowed in search:"),
        (("search", "--exhaustive"), "exhaustive: the space has 3,472,875,000 designs"),
        (("compare", "--modes", "carbon,fast"), "mode: 'fast' is unknown"),
        (("plot", "/nonexistent-folder"), "has no run.json or compare.json"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, argv, needle):
    code, _, err = run(capsys, *argv, *(("--out", str(tmp_path)) if argv[0] != "plot" else ()))
    assert code == 2
    assert err.startswith("catransformers: error: ") and needle in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_key_in_a_spec_file(capsys, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text("[search]\nmode = 'carbon'\n[hardware]\ngird = 'reference'\n")
    code, _, err = run(capsys, "search", "--spec", str(spec), "--out", str(tmp_path / "o"))
    assert code == 2 and "unknown key 'hardware.gird'; allowed in hardware: axes, fixed, grid, profile" in err


def test_plot_reads_back_checks_and_exports(capsys, tmp_path):
    import importlib.util
    import shutil

    code, _, err = run(capsys, "search", "--out", str(tmp_path / "r"), *SMALL)
    assert code == 0, err
    # the shared plotly.js beside the report, loaded relatively
    assert [p.name for p in (tmp_path / "r").glob("plotly-*.min.js")] and 'src="plotly-' in (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    code, _, err = run(capsys, "plot", str(tmp_path / "r"), "--plotlyjs", "inline", "--out", str(tmp_path / "inline.html"))
    assert code == 0 and "<script src" not in (tmp_path / "inline.html").read_text(encoding="utf-8")
    # what plot reads back is validated: a bad flag is one line naming the file, the column and the value
    ev = pd.read_csv(tmp_path / "r" / "evaluations.csv")
    ev["feasible"] = ev["feasible"].astype(object)
    ev.loc[0, "feasible"] = "maybe"
    ev.to_csv(tmp_path / "r" / "evaluations.csv", index=False)
    code, _, err = run(capsys, "plot", str(tmp_path / "r"))
    assert code == 2 and "column 'feasible' holds 'maybe' (row 2); allowed: True or False" in err and len(err.strip().splitlines()) == 1
    ev.loc[0, "feasible"] = True
    ev.to_csv(tmp_path / "r" / "evaluations.csv", index=False)
    code, out, err = run(capsys, "plot", str(tmp_path / "r"), "--format", "png")
    if importlib.util.find_spec("kaleido") is None:
        assert code == 2 and "static images need kaleido" in err
    elif shutil.which("chromium") or shutil.which("google-chrome"):
        assert code == 0, err
        for name in ("pareto", "breakdown", "hardware", "hypervolume"):
            assert (tmp_path / "r" / "figures" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
