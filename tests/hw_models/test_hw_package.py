"""Package rules: hw_models imports only numpy and the standard library, never prints or exits."""

import ast
import sys
from importlib import resources
from pathlib import Path

import hw_models

PACKAGE = Path(hw_models.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_numpy_and_stdlib():
    allowed = {"numpy", "__future__", "catransformers_errors"} | set(sys.stdlib_module_names)  # + the shared error root
    for path in PACKAGE.glob("*.py"):
        assert _imports(path) <= allowed, (path.name, _imports(path) - allowed)


def test_no_print_or_exit_in_library_code():
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"print", "exit", "quit"}, (path.name, node.lineno)


def test_public_names_and_data_ship_with_the_package():
    for name in ("evaluate_cost", "CostReport", "area_um2", "area_mm2", "tops", "load_profile", "map_gemm",
                 "gemm_cycles", "buffer_traffic", "compulsory_dram_words"):
        assert name in hw_models.__all__ and hasattr(hw_models, name)
    data = resources.files("hw_models").joinpath("data")
    assert data.joinpath("profile_reference_22nm.toml").is_file()
    assert data.joinpath("README.md").is_file()
