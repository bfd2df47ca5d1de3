"""Fuzz cases for the CLI: hypothesis strategies over every subcommand, flag and input-file kind.

A case is an argv plus the files it names (written into a fresh folder) and, where the case
is known nonsense, `bad=True`. `run_case` calls `catransformers.cli.main` in-process and
classifies the outcome; tests/catransformers/test_fuzz_cli.py asserts on it, and
`python tests/catransformers/_fuzz_cli.py N` runs N cases per category and prints counts.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import strategies as st

__all__ = ["Case", "Outcome", "CATEGORIES", "run_case", "check"]

# ------------------------------------------------------------------------------ values

# Numbers as text: good ones, and the nonsense the issue met (non-finite, huge, tiny, signs).
BAD_NUMBERS = ["nan", "NaN", "inf", "-inf", "1e308", "-1", "0", "-0", "abc", "", "true", "1e-308", "0x10", "1_0"]
GOOD_INTS = ["1", "2", "4", "8", "16"]


def _num_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(BAD_NUMBERS + GOOD_INTS + ["0.5", "3", "1e3", "2.0"]),
        st.integers(-10, 10**6).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )


def _toml_scalar() -> st.SearchStrategy[str]:
    """A TOML value of any type, as TOML text."""
    return st.one_of(
        st.integers(-(2**63), 2**63 - 1).map(str),
        st.sampled_from(["nan", "inf", "-inf", "1e308", "-1", "0", "0.0", "1.5", "true", "false", '""', '"no"', '"yes"', "[]", "{}", "[1, 2]", '["a"]', "{ a = 1 }", "1979-05-27"]),
        st.floats(allow_nan=False, allow_infinity=False).map(repr).filter(lambda s: "e" not in s or "." in s),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8).map(json.dumps),
    )


TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)

# ------------------------------------------------------------------------------ files

SPEC_KEYS = {
    "model": ["name", "fixed"],
    "space": ["text_layers", "vision_layers", "text_heads", "vision_ffn_blocks", "nope"],
    "hardware": ["grid", "axes", "fixed", "profile"],
    "constraints": ["latency_s", "area_um2", "tops", "energy_j"],
    "scenario": ["name", "use_region", "inferences", "amortise_embodied", "yield_fraction"],
    "accuracy": ["estimator", "options"],
    "search": ["mode", "objectives", "constraints", "algorithm", "population", "generations", "seed", "reference_point"],
    "exhaustive": ["enabled", "limit", "chunk_size", "max_rows"],
}
HW_FIELDS = ["clusters", "pe_width", "pe_depth", "l2_sram_kb", "l2_bw", "glb_mb", "glb_bw", "dram_bw", "frequency_mhz", "precision_bits", "node_nm", "dram_gb", "volts"]
SCENARIO_FIELDS = ["fab_location", "fab_table", "abatement", "yield_model", "yield_fraction", "dram_type", "use_region", "inferences",
                   "lifetime_years", "hours_per_day", "inferences_per_second", "amortise_embodied", "node_nm", "dram_gb", "description", "bogus"]
TOWER_FIELDS = ["kind", "layers", "width", "heads", "ffn", "head_dim", "kv_heads", "tokens", "image_size", "patch", "vocab",
                "activation", "norm", "gated_ffn", "bias", "pool", "head", "head_tokens"]
SMALL_SEARCH = ["--population", "4", "--generations", "2", "--no-progress", "--no-report"]


@st.composite
def toml_file(draw: Any, base: str, keys: dict[str, list[str]] | list[str]) -> tuple[bytes, bool | None]:
    """A valid base document with a few keys set to arbitrary TOML values, or raw damage."""
    kind = draw(st.sampled_from(["mutate", "mutate", "mutate", "bytes", "nested", "empty", "dupe"]))
    if kind == "bytes":
        raw = draw(st.sampled_from([b"\xff\xfe\x00bad", b"a = \"\xc3\x28\"\n", base.encode() + b"\n\x80"]))
        return raw, True
    if kind == "nested":
        depth = draw(st.integers(50, 3000))
        return (("x = " + "[" * depth + "]" * depth + "\n")).encode(), True
    if kind == "empty":
        return b"", None
    lines = [base]
    if kind == "dupe":
        lines.append(base)
        return "\n".join(lines).encode(), True
    n = draw(st.integers(1, 3))
    for _ in range(n):
        if isinstance(keys, dict):
            table = draw(st.sampled_from(sorted(keys)))
            key = draw(st.sampled_from(keys[table]))
            lines.append(f"[{table}]\n{key} = {draw(_toml_scalar())}")
        else:
            key = draw(st.sampled_from(keys))
            lines.append(f"{key} = {draw(_toml_scalar())}")
    return "\n".join(lines).encode(), None


def _model_toml() -> st.SearchStrategy[tuple[bytes, bool | None]]:
    base = 'family = "clip"\nembed_dim = 64\n'

    @st.composite
    def make(draw: Any) -> tuple[bytes, bool | None]:
        vision = {"layers": "2", "width": "64", "heads": "2", "ffn": "128", "image_size": "32", "patch": "8"}
        text = {"layers": "2", "width": "64", "heads": "2", "ffn": "128", "tokens": "16", "vocab": "100"}
        top = {"family": '"clip"', "embed_dim": "64"}
        for _ in range(draw(st.integers(0, 3))):
            where = draw(st.sampled_from(["vision", "text", "top"]))
            table = {"vision": vision, "text": text, "top": top}[where]
            key = draw(st.sampled_from(TOWER_FIELDS if where != "top" else ["family", "embed_dim", "name", "description", "vision", "oops"]))
            table[key] = draw(st.one_of(_toml_scalar(), st.sampled_from(['"rnn"', '"no"', '"gelu"', '"silu"', "true"])))
        body = "".join(f"{k} = {v}\n" for k, v in top.items())
        body += "vision = { " + ", ".join(f"{k} = {v}" for k, v in vision.items()) + " }\n"
        body += "text = { " + ", ".join(f"{k} = {v}" for k, v in text.items()) + " }\n"
        # "rnn", "no" and non-finite numbers are nonsense in every field but the free-text ones.
        free_text = ("name", "description")
        values = list(vision.values()) + list(text.values()) + [v for k, v in top.items() if k not in free_text]
        bad = True if any(v in ('"rnn"', '"no"', "nan", "inf", "-inf") for v in values) else None
        return body.encode(), bad

    return st.one_of(make(), toml_file(base, ["family", "embed_dim", "vision", "text"]))


@st.composite
def workload_csv(draw: Any) -> tuple[bytes, bool | None]:
    header = draw(st.sampled_from(["", "name,M,K,N\n", "name,M,K,N,batch\n", "Layer, M, N, K,\n", "Layer,M,N,K\n", "name,K,M,N\n", "a,b,c\n"]))
    rows = []
    bad: bool | None = None
    for i in range(draw(st.integers(0, 4))):
        cells = [f"g{i}"] + [draw(st.sampled_from(["1", "64", "197", "768", "3072"])) for _ in range(3)]
        if draw(st.booleans()):
            cells.append(draw(st.sampled_from(["1", "2", "12"])))
        if draw(st.integers(0, 3)) == 0:
            j = draw(st.integers(1, len(cells) - 1))
            cells[j] = draw(st.sampled_from(["", "nan", "inf", "-1", "0", "1.5", "x", "1e308", " 64 "]))
            # an empty fifth cell beyond a four-column header is a trailing comma (SCALE-Sim's style)
            trailing_comma = cells[j] == "" and j == 4 and header in ("name,M,K,N\n", "Layer, M, N, K,\n", "Layer,M,N,K\n", "name,K,M,N\n")
            if cells[j] not in (" 64 ",) and not trailing_comma:
                bad = True
        rows.append(",".join(cells))
    text = header + "\n".join(rows) + ("\n" if rows else "")
    if draw(st.integers(0, 9)) == 0:
        return text.encode() + b"\xff\n", True
    if not rows:
        bad = True
    return text.encode(), bad


# ------------------------------------------------------------------------------ cases


@dataclass
class Case:
    category: str
    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)  # relative name -> content
    bad: bool | None = None  # True: known nonsense, must exit 2


@dataclass
class Outcome:
    case: Case
    code: int | None
    stdout: str
    stderr: str
    traceback: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def traceback_hit(self) -> bool:
        return bool(self.traceback) or "Traceback (most recent call last)" in self.stderr

    @property
    def nonsense_accepted(self) -> bool:
        return self.case.bad is True and self.code == 0

    @property
    def non_finite(self) -> bool:
        return any(p.startswith("non-finite") for p in self.problems)


def _flag_value(draw: Any, flag: str) -> tuple[str, bool | None]:
    if flag in ("--max-latency-s", "--max-area-um2", "--max-tops"):
        v = draw(st.sampled_from(["nan", "0", "-1", "-inf", "abc", "", "1e-30", "0.05", "1e9", "inf", "31990347"]))
        return v, True if v in ("nan", "0", "-1", "-inf", "abc", "", "-0") else None
    if flag in ("--population", "--generations", "--seed", "--workers"):
        v = draw(st.sampled_from(["-1", "0", "1", "2", "3", "abc", "1e3", "", "99999999999999999999"]))
        return v, True if v in ("-1", "abc", "1e3", "", "99999999999999999999") or (v == "0" and flag != "--seed") else None
    if flag == "--model":
        v = draw(st.sampled_from(["", ",", "vit-b-16", "tinyclip-8m-16", "nope", "vit-b-16,vit-b-16", "x.toml", " "]))
        return v, True if v in ("", ",", "nope", "x.toml", " ") else None
    if flag in ("--scenario",):
        v = draw(st.sampled_from(["", "reference", "paper", "nope", "s.toml", "missing.toml"]))
        return v, True if v in ("", "nope", "missing.toml") else None
    if flag == "--grid":
        v = draw(st.sampled_from(["", "reference", "nope", "small"]))
        return v, True if v in ("", "nope", "small") else None
    if flag == "--accuracy":
        v = draw(st.sampled_from(["", "none", "default", "clip-scaling", "nope"]))
        return v, True if v in ("", "nope") else None
    if flag == "--profile":
        v = draw(st.sampled_from(["", "reference", "nope"]))
        return v, True if v in ("", "nope") else None
    if flag == "--out":
        v = draw(st.sampled_from(["", "out", "sub/out", "afile", "link", "/dev/null", "ro/out"]))
        # root writes into a 0555 folder anyway: "ro/out" is nonsense only for other users
        return v, True if v in ("", "afile", "link", "/dev/null") or (v == "ro/out" and os.geteuid() != 0) else None
    if flag == "--mode":
        v = draw(st.sampled_from(["", "carbon", "latency", "energy", "all", "all-hw", "model-only", "nope"]))
        return v, True if v in ("", "nope") else None
    if flag == "--objectives":
        v = draw(st.sampled_from(["", ",", "accuracy,total_kg", "latency_s", "nope", "accuracy,accuracy"]))
        return v, True if v in ("", ",", "nope", "accuracy,accuracy") else None
    if flag == "--algorithm":
        v = draw(st.sampled_from(["auto", "nsga2", "nsga3", "random", "nope"]))
        return v, True if v == "nope" else None
    if flag == "--scheduler":
        v = draw(st.sampled_from(["", "nope", "tcp://", "tcp://127.0.0.1:1", "tcp://[::1", "localhost:0"]))
        return v, True
    if flag == "--prune":
        key = draw(st.sampled_from(["text_layers", "vision_layers", "text_heads", "vision_ffn_blocks", "text_emb_blocks", "nope", ""]))
        v = draw(_num_text())
        bad = True if key in ("nope", "") or v in ("nan", "NaN", "inf", "-inf", "1e308", "-1", "abc", "", "true") else None
        return f"{key}={v}", bad
    if flag == "--hardware":
        key = draw(st.sampled_from(HW_FIELDS))
        v = draw(_num_text())
        bad = True if key == "volts" or v in ("nan", "NaN", "inf", "-inf", "1e308", "-1", "0", "-0", "abc", "", "true", "0x10") else None
        return f"{key}={v}", bad
    if flag == "--set":
        key = draw(st.sampled_from(SCENARIO_FIELDS + ["search.population", "search.seed", "hardware.fixed.clusters", "space.text_layers", "constraints.latency_s", "search.nope"]))
        v = draw(st.one_of(_num_text(), st.sampled_from(["FR", "taiwan", "true", "false", "no", "[6,9]", "{a=1}", "[", "]"])))
        return f"{key}={v}", None
    raise AssertionError(flag)


def _common_eval(draw: Any, argv: list[str], files: dict[str, bytes]) -> bool | None:
    bad: bool | None = None
    for flag in draw(st.lists(st.sampled_from(["--prune", "--scenario", "--set", "--accuracy", "--profile"]), max_size=3, unique=True)):
        v, b = _flag_value(draw, flag)
        argv += [flag, v]
        bad = bad or b
        if v == "s.toml":
            files["s.toml"], b2 = draw(toml_file('fab_location = "taiwan"\nuse_region = "FR"\n', SCENARIO_FIELDS))
            bad = bad or b2
    return bad


@st.composite
def evaluate_case(draw: Any) -> Case:
    argv, files = ["evaluate"], {}
    bad: bool | None = None
    source = draw(st.sampled_from(["none", "model", "model-file", "workload"]))
    if source == "model":
        v, bad = _flag_value(draw, "--model")
        argv += ["--model", v]
    elif source == "model-file":
        files["m.toml"], bad = draw(_model_toml())
        argv += ["--model", "m.toml"]
    elif source == "workload":
        files["w.csv"], bad = draw(workload_csv())
        argv += ["--workload", "w.csv"]
    hw = draw(st.sampled_from(["none", "pairs", "file"]))
    if hw == "pairs":
        v, b = _flag_value(draw, "--hardware")
        argv += ["--hardware", v]
        bad = bad or b
    elif hw == "file":
        files["hw.toml"], b = draw(toml_file("clusters = 2\npe_width = 64\n", HW_FIELDS))
        argv += ["--hardware", "hw.toml"]
        bad = bad or b
    bad = _common_eval(draw, argv, files) or bad
    argv += ["--format", draw(st.sampled_from(["table", "json", "csv"]))]
    return Case("evaluate", argv, files, bad)


@st.composite
def sweep_case(draw: Any) -> Case:
    argv, files = ["sweep"], {}
    v, bad = _flag_value(draw, "--model")
    if v == "x.toml":
        files["x.toml"], bad = draw(_model_toml())
    argv += ["--model", v]
    for flag in draw(st.lists(st.sampled_from(["--max-latency-s", "--max-area-um2", "--max-tops", "--out"]), max_size=3, unique=True)):
        fv, b = _flag_value(draw, flag)
        argv += [flag, fv + (".csv" if flag == "--out" and fv in ("out", "sub/out") else "")]
        bad = bad or (b and not (flag == "--out" and fv == "afile"))  # sweep may replace a regular file
    bad = _common_eval(draw, argv, files) or bad
    return Case("sweep", argv, files, bad)


@st.composite
def search_case(draw: Any) -> Case:
    argv, files = ["search", *SMALL_SEARCH], {}
    bad: bool | None = None
    flags = draw(st.lists(st.sampled_from(["--mode", "--objectives", "--algorithm", "--seed", "--population", "--generations", "--max-latency-s", "--max-tops",
                                           "--model", "--scenario", "--accuracy", "--set", "--out", "--spec", "--scheduler"]), max_size=4, unique=True))
    for flag in flags:
        if flag == "--spec":
            files["spec.toml"], b = draw(toml_file('[search]\npopulation = 4\ngenerations = 2\n[hardware]\ngrid = "reference"\n', SPEC_KEYS))
            argv += ["--spec", "spec.toml"]
        else:
            v, b = _flag_value(draw, flag)
            if flag == "--model" and v == "x.toml":
                files["x.toml"], b = draw(_model_toml())
            if flag == "--scenario" and v == "s.toml":
                files["s.toml"], b = draw(toml_file('fab_location = "taiwan"\n', SCENARIO_FIELDS))
            argv += [flag, v]
            if flag in ("--population", "--generations") and v not in ("-1", "0", "abc", "1e3", "", "99999999999999999999"):
                argv += [flag, draw(st.sampled_from(["1", "2", "3"]))]  # keep it small: the last one wins
        bad = bad or b
    if "--out" not in flags:
        argv += ["--out", "res"]
    if draw(st.booleans()):
        argv.append("--resume")
    if draw(st.integers(0, 4)) == 0:
        argv.append("--exhaustive")
        bad = None
    return Case("search", argv, files, bad)


@st.composite
def compare_case(draw: Any) -> Case:
    modes = draw(st.sampled_from(["carbon,latency", "carbon", "", ",", "nope", "carbon,carbon", "latency,energy", "carbon,all", "energy"]))
    argv = ["compare", "--modes", modes, *SMALL_SEARCH]
    bad: bool | None = True if modes in ("", ",", "nope", "carbon,carbon") else None
    for flag in draw(st.lists(st.sampled_from(["--seed", "--max-latency-s", "--max-tops", "--scenario", "--set", "--out", "--algorithm"]), max_size=2, unique=True)):
        v, b = _flag_value(draw, flag)
        if flag == "--scenario" and v == "s.toml":
            v = "paper"
        argv += [flag, v]
        bad = bad or b
    if "--out" not in argv:
        argv += ["--out", "cmp"]
    return Case("compare", argv, {}, bad)


@st.composite
def plot_case(draw: Any) -> Case:
    kind = draw(st.sampled_from(["compare.json", "run.json", "sweep.csv", "empty", "evaluations.csv"]))
    junk = draw(st.one_of(
        st.sampled_from([b"", b"{", b"[]", b"null", b'{"modes": 3}', b'{"modes": {"a": "../../etc"}}', b'{"modes": {"carbon": "carbon"}}', b"\xff", b"NaN",
                         b'{"status": "complete"}', b"name,M\n1,2\n", b'{"objectives": [{"name": 3}]}', b'{"objectives": "x"}', b"latency_s,total_kg\nabc,1\n"]),
        st.binary(max_size=64),
        st.text(max_size=40).map(lambda t: t.encode("utf-8")),
    ))
    if kind == "evaluations.csv":
        return Case("plot", ["plot", "pdir"], {"pdir/evaluations.csv": junk, "pdir/run.json": b'{"objectives": [{"name": "accuracy", "direction": "max"}]}'}, True)
    if kind == "sweep.csv":
        return Case("plot", ["plot", "p.csv"], {"p.csv": junk}, True)
    if kind == "empty":
        return Case("plot", ["plot", "pdir"], {"pdir/.keep": b""}, True)
    return Case("plot", ["plot", "pdir"], {f"pdir/{kind}": junk}, True)


@st.composite
def real_case(draw: Any) -> Case:
    cmd = draw(st.sampled_from(["prune", "measure"]))
    argv = [cmd, "--openclip-model", draw(st.sampled_from(["ViT-B-16", "nope", "", "RN50", "ViT-B-32"]))]
    files: dict[str, bytes] = {}
    if cmd == "prune":
        argv += ["--prune", draw(st.sampled_from(["text_layers=6", "nope=1", "text_layers=nan", "", "text_layers=99", "vision_heads=0"])), "--out", draw(st.sampled_from(["pr", "afile", ""]))]
        if draw(st.booleans()):
            argv += ["--importance", draw(st.sampled_from(["l2", "ablation"]))]
    src = draw(st.sampled_from(["checkpoint", "pretrained", "config"]))
    if src == "checkpoint":
        files["ck.pt"] = draw(st.sampled_from([b"", b"junk", b"\x80\x04\x95cos\nsystem\n"]))
        argv += ["--checkpoint", draw(st.sampled_from(["ck.pt", "missing.pt"]))]
    elif src == "pretrained":
        argv += ["--pretrained", draw(st.sampled_from(["nope_tag", "datacomp_xl_s13b_b90k", "openai"]))]
    else:
        files["cfg.json"] = draw(st.sampled_from([b"{", b"[]", b'{"embed_dim": "x"}', b"\xff"]))
        argv += ["--openclip-config", "cfg.json"]
    if cmd == "measure" or draw(st.booleans()):
        files["d.csv"] = draw(st.sampled_from([b"", b"filepath,title\n", b"filepath,title\nmissing.jpg,a cat\n", b"\xff\xfe"]))
        argv += ["--data", draw(st.sampled_from(["d.csv", "missing.csv"]))]
    return Case("prune/measure", argv, files, True)


@st.composite
def data_case(draw: Any) -> Case:
    table = draw(st.sampled_from(["regions", "nodes", "dram", "fabs", "models", "nope", ""]))
    fmt = draw(st.sampled_from(["table", "csv", "json", ""]))
    return Case("data", ["data", table, "--format", fmt], {}, True if table in ("nope", "") or fmt in ("json", "") else None)


CATEGORIES: dict[str, st.SearchStrategy[Case]] = {
    "evaluate": evaluate_case(),
    "sweep": sweep_case(),
    "search": search_case(),
    "compare": compare_case(),
    "plot": plot_case(),
    "prune/measure": real_case(),
    "data": data_case(),
}

# ------------------------------------------------------------------------------ running

_NON_FINITE = re.compile(r"(?<![A-Za-z0-9_])(-?inf(inity)?|nan)(?![A-Za-z0-9_])", re.IGNORECASE)


def _prepare(folder: str, case: Case) -> None:
    for name, data in case.files.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    with open(os.path.join(folder, "afile"), "w") as fh:
        fh.write("x")
    if not os.path.lexists(os.path.join(folder, "link")):
        os.symlink(os.path.join(folder, "afile"), os.path.join(folder, "link"))
    ro = os.path.join(folder, "ro")
    os.makedirs(ro, exist_ok=True)
    os.chmod(ro, 0o555)


def _output_problems(folder: str, case: Case) -> list[str]:
    problems = []
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            if rel in case.files or os.path.islink(path) or rel == "afile" or not name.endswith((".csv", ".json")):
                continue
            with open(path, "rb") as fh:
                text = fh.read().decode("utf-8", "replace")
            if name.endswith(".json"):
                try:
                    json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
                except ValueError as exc:
                    problems.append(f"non-finite or invalid JSON in {rel}: {exc}")
                    continue
            m = _NON_FINITE.search(text)
            if m:
                problems.append(f"non-finite value {m.group(0)!r} in {rel}")
    return problems


def run_case(case: Case) -> Outcome:
    """Run one case in a fresh temporary folder (the working directory for the call)."""
    from catransformers.cli import main

    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="ct-fuzz-") as folder:
        _prepare(folder, case)
        out, err = io.StringIO(), io.StringIO()
        tb = ""
        code: int | None = None
        os.chdir(folder)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _quiet_logging(err):
                try:
                    code = main(list(case.argv))
                except SystemExit as exc:  # argparse
                    code = exc.code if isinstance(exc.code, int) else 2
                except BaseException:  # noqa: BLE001 - the point is to catch everything
                    tb = traceback.format_exc()
        finally:
            os.chdir(cwd)
            os.chmod(os.path.join(folder, "ro"), 0o755)
        outcome = Outcome(case, code, out.getvalue(), err.getvalue(), tb)
        outcome.problems = check(outcome) + _output_problems(folder, case)
        if _NON_FINITE.search(outcome.stdout) and case.argv[0] != "data":
            outcome.problems.append(f"non-finite value in stdout: {_NON_FINITE.search(outcome.stdout).group(0)!r}")
    return outcome


@contextlib.contextmanager
def _quiet_logging(stream: io.StringIO):
    """Route the root logger to the captured stderr for the call (main() configures it once)."""
    import logging

    root = logging.getLogger()
    saved = root.handlers[:]
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))  # the CLI's format
    root.handlers = [handler]
    try:
        yield
    finally:
        root.handlers = saved


def check(o: Outcome) -> list[str]:
    """What the CLI promises, as a list of broken promises (empty: all kept)."""
    problems = []
    if o.traceback_hit:
        problems.append("traceback")
    if o.code not in (0, 2):
        problems.append(f"exit code {o.code}")
    if o.code == 2:
        errors = [line for line in o.stderr.splitlines() if line.startswith("catransformers") and "error" in line]
        other = [line for line in o.stderr.splitlines() if line.strip() and not line.startswith(("WARNING ", "catransformers", "usage:"))]
        if len(errors) != 1 or other:
            problems.append(f"error output is not one line: {o.stderr[-400:]!r}")
    if o.nonsense_accepted:
        problems.append("nonsense accepted")
    return problems


def main_counts(per_category: int, seed: int = 0) -> dict[str, dict[str, int]]:
    """Draw `per_category` cases per category, run them, count outcomes (and print the table)."""
    from hypothesis import HealthCheck, given, settings

    counts: dict[str, dict[str, int]] = {}
    examples: dict[str, list[str]] = {}
    for name, strategy in CATEGORIES.items():
        c = counts.setdefault(name, {"tried": 0, "exit0": 0, "exit2": 0, "tracebacks": 0, "nonsense_accepted": 0, "non_finite": 0, "other": 0})

        @settings(max_examples=per_category, deadline=None, database=None, suppress_health_check=list(HealthCheck), derandomize=False)
        @given(strategy)
        def one(case: Case) -> None:
            o = run_case(case)
            c["tried"] += 1
            c["exit0"] += o.code == 0
            c["exit2"] += o.code == 2
            c["tracebacks"] += o.traceback_hit
            c["nonsense_accepted"] += o.nonsense_accepted
            c["non_finite"] += o.non_finite
            rest = [p for p in o.problems if p not in ("traceback", "nonsense accepted") and not p.startswith("non-finite")]
            c["other"] += bool(rest)
            if o.problems:
                last = (o.traceback.strip().splitlines() or [""])[-1]
                examples.setdefault(name, []).append(f"{o.problems} {case.argv} bad={case.bad} {last} files={ {k: v[:80] for k, v in case.files.items()} }")

        one()
    cols = ["tried", "exit0", "exit2", "tracebacks", "nonsense_accepted", "non_finite", "other"]
    print(f"{'category':<15}" + "".join(f"{c:>18}" for c in cols))
    for name, c in counts.items():
        print(f"{name:<15}" + "".join(f"{c[k]:>18}" for k in cols))
    total = {k: sum(c[k] for c in counts.values()) for k in cols}
    print(f"{'total':<15}" + "".join(f"{total[k]:>18}" for k in cols))
    for name, ex in examples.items():
        print(f"\n== {name}: {len(ex)} with problems")
        for line in ex[:40]:
            print("  ", line[:600])
    return counts


if __name__ == "__main__":
    main_counts(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
