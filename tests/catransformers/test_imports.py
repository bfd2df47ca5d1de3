"""Import hygiene: the CLI's help and the core packages stay light (DESIGN.md)."""

import subprocess
import sys

HEAVY = ("torch", "open_clip", "plotly", "pymoo", "dask", "distributed")


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint(','.join(sorted(m for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.strip().split(","))


def test_help_imports_no_heavy_module():
    loaded = _loaded_after(
        "import contextlib, io\n"
        "from catransformers.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
    )
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_core_packages_import_without_heavy_modules():
    loaded = _loaded_after("import catransformers, catransformers.workloads, catransformers.evaluate, hw_models, carbon_data")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_hw_models_imports_only_numpy():
    loaded = _loaded_after("import hw_models")
    assert "pandas" not in loaded and "scipy" not in loaded


def test_console_script_version():
    out = subprocess.run([sys.executable, "-m", "catransformers", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("catransformers ")
