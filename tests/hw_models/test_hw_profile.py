"""The shipped technology profile: derived numbers, provenance, validation."""

import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from hw_models import HardwareError, load_profile, sram_pj_per_word
from hw_models.energy import PROFILE_FILES


def test_reference_profile_derived_energies():
    p = load_profile("reference")
    # Accelergy 45 nm 32-bit int MAC 3.2 pJ x 0.586 (45->22 nm) / 4 (32->8 bit).
    assert p.mac_pj == pytest.approx(3.2 * 0.586 / 4) == pytest.approx(0.4688)
    assert p.reference_tc_mac_pj == 2.2  # recorded, not used
    assert p.dram_pj_per_word == pytest.approx(64.0)  # 8 pJ/bit x 8 bit
    # Register: 0.075 pJ per 32-bit entry x 8 entries x 8/32 bit x 0.586.
    assert p.register_pj == pytest.approx(0.075 * 8 * 0.25 * 0.586)
    assert p.lut_pj == 2.0


def test_sram_energy_anchor_and_sqrt_capacity_scaling():
    p = load_profile()
    anchor_bytes = 512 * 16 / 8  # Accelergy SRAM 16b x 512 = 1 KiB
    # At the anchor capacity: 1.5 pJ per 16 bit -> 0.75 pJ per byte at 45 nm, x0.586 at 22 nm.
    assert sram_pj_per_word(anchor_bytes, p) == pytest.approx(1.5 / 2 * 0.586)
    e = sram_pj_per_word(np.array([64, 256, 1024]) * 1024.0, p)
    assert e[1] / e[0] == pytest.approx(2.0) and e[2] / e[1] == pytest.approx(2.0)
    # GLB sizes stay below DRAM per word.
    assert sram_pj_per_word(8 * 2**20, p) < p.dram_pj_per_word


def test_vector_costs_from_reference_table_and_composites():
    p = load_profile()
    assert {k: p.vector[k].passes for k in ("layernorm", "add", "mul", "relu", "div", "sigmoid", "tanh", "erf", "pow", "sqrt")} == {
        "layernorm": 1, "add": 1, "mul": 1, "relu": 1, "div": 10, "sigmoid": 12, "tanh": 27, "erf": 15, "pow": 15, "sqrt": 15,
    }
    assert p.vector["quick_gelu"].passes == 14  # mul + sigmoid + mul, REFERENCE 1.3 "about 14"
    assert p.vector["silu"].passes == 13
    assert p.vector["gelu"].passes == 35  # tanh approximation; the reference charges 1
    assert p.vector["rmsnorm"].passes == p.vector["layernorm"].passes
    assert (p.softmax_fixed_cycles, p.softmax_passes) == (10, 10)


def test_every_profile_value_has_unit_and_source():
    for name, filename in PROFILE_FILES.items():
        with resources.files("hw_models").joinpath("data", filename).open("rb") as fh:
            data = tomllib.load(fh)

        def walk(node, path):
            if isinstance(node, dict) and "value" in node:
                assert set(node) == {"value", "unit", "source"}, path
                assert node["unit"] and node["source"], path
                return 1
            assert isinstance(node, dict), path
            return sum(walk(v, f"{path}.{k}") for k, v in node.items())

        assert walk(data, name) > 50


def test_data_readme_lists_every_data_file():
    data_dir = resources.files("hw_models").joinpath("data")
    readme = data_dir.joinpath("README.md").read_text()
    files = [f.name for f in data_dir.iterdir() if f.name.endswith((".toml", ".csv", ".json"))]
    assert files
    for f in files:
        assert f"`{f}`" in readme


def test_unknown_profile_is_an_error():
    with pytest.raises(HardwareError, match="unknown profile 'nope'"):
        load_profile("nope")
    with pytest.raises(HardwareError, match="profile file"):
        load_profile("/nonexistent/profile.toml")


def test_profile_from_path_and_unknown_keys(tmp_path: Path):
    src = resources.files("hw_models").joinpath("data", PROFILE_FILES["reference"]).read_text()
    good = tmp_path / "copy.toml"
    good.write_text(src)
    assert load_profile(str(good)).mac_pj == pytest.approx(load_profile().mac_pj)
    bad = tmp_path / "bad.toml"
    bad.write_text(src.replace("[energy.dram]", "[energy.dram]\nvolts = { value = 1, unit = \"V\", source = \"x\" }"))
    with pytest.raises(HardwareError, match="unknown key 'volts'"):
        load_profile(str(bad))
    nosrc = tmp_path / "nosrc.toml"
    nosrc.write_text(src.replace('pj_per_read = { value = 2.0, unit = "pJ per LUT read", source', 'pj_per_read = { value = 2.0, units = "pJ per LUT read", source'))
    with pytest.raises(HardwareError, match="energy.lut.pj_per_read"):
        load_profile(str(nosrc))
