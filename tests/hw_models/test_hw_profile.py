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


def test_sram_energy_cacti_table_hand_derived():
    p = load_profile()
    # Table points (CACTI 22 nm, per 8-bit word): L2 at a 64-byte port, 22 % of the words writes;
    # GLB at a 512-byte port, half of them writes.
    e64 = 0.78 * 0.31216 + 0.22 * 0.90907  # 64 KiB: 19.978 / 58.1808 pJ per 64-byte read / write
    e128 = 0.78 * 0.70812 + 0.22 * 0.93001
    e512 = 0.78 * 1.7365 + 0.22 * 2.1831
    e1024 = 0.78 * 2.6513 + 0.22 * 3.0979
    g2, g4, g8 = (3.7983 + 6.485) / 2, (6.3535 + 9.0402) / 2, (9.4886 + 14.887) / 2
    l2 = sram_pj_per_word(np.array([64, 128, 512, 1024]) * 1024.0, p, memory="l2")
    assert l2 == pytest.approx([e64, e128, e512, e1024], rel=1e-12)
    glb = sram_pj_per_word(np.array([2, 4, 8]) * 2.0**20, p, memory="glb")
    assert glb == pytest.approx([g2, g4, g8], rel=1e-12)
    assert e64 == pytest.approx(0.44348) and g2 == pytest.approx(5.14165)
    # Between points: log-log; outside: the end segment's slope (the area tables' scheme).
    assert sram_pj_per_word(96 * 1024.0, p, memory="l2") == pytest.approx(e64 * (e128 / e64) ** np.log2(1.5), rel=1e-12)
    assert sram_pj_per_word(32 * 1024.0, p, memory="l2") == pytest.approx(e64 * e64 / e128, rel=1e-12)
    assert sram_pj_per_word(2048 * 1024.0, p, memory="l2") == pytest.approx(e1024 * e1024 / e512, rel=1e-12)
    assert sram_pj_per_word(16 * 2.0**20, p, memory="glb") == pytest.approx(g8 * g8 / g4, rel=1e-12)
    # Larger SRAMs cost more per word; the largest GLB stays below DRAM per word.
    caps = 2.0 ** np.arange(14, 25)
    for memory in ("l2", "glb"):
        assert np.all(np.diff(sram_pj_per_word(caps, p, memory=memory)) > 0)
    assert sram_pj_per_word(8 * 2**20, p, memory="glb") < p.dram_pj_per_word
    with pytest.raises(HardwareError, match="memory='dram'"):
        sram_pj_per_word(1024.0, p, memory="dram")


def test_access_energies_use_the_sram_tables():
    from hw_models import HardwareBatch, access_energies

    p = load_profile()
    # 256x64 PEs bump the TC's L2 to 256x64/64 = 256 KiB; the VC's stays at l2_sram_kb = 64.
    hw = HardwareBatch.from_arrays(pe_width=np.array([256, 32]), pe_depth=np.array([64, 2]),
                                   l2_sram_kb=np.array([64, 512]), glb_mb=np.array([2, 8]))
    e = access_energies(hw, p)
    e256 = 0.78 * 1.021 + 0.22 * 1.4675
    assert e.l2_pj == pytest.approx([0.78 * 0.31216 + 0.22 * 0.90907, 0.78 * 1.7365 + 0.22 * 2.1831], rel=1e-12)
    assert e.l2_tc_pj == pytest.approx([e256, e.l2_pj[1]], rel=1e-12)
    assert e.glb_pj == pytest.approx([(3.7983 + 6.485) / 2, (9.4886 + 14.887) / 2], rel=1e-12)
    t = p.sram["l2"]
    assert (t.port_bytes, t.write_share, p.sram["glb"].port_bytes) == (64, 0.22, 512)
    assert "cacti_sram_table.py" in p.sources["energy.sram.l2.read_pj_per_word"]


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
    share = tmp_path / "share.toml"
    share.write_text(src.replace("write_share = { value = 0.22,", "write_share = { value = 1.5,"))
    with pytest.raises(HardwareError, match="energy.sram.l2.write_share"):
        load_profile(str(share))
    noglb = tmp_path / "noglb.toml"
    noglb.write_text(src.replace("[energy.sram.glb]", "[energy.sram.gbl]"))
    with pytest.raises(HardwareError, match="unknown key 'gbl'"):
        load_profile(str(noglb))
    short = tmp_path / "short.toml"
    short.write_text(src.replace("write_pj_per_word = { value = [6.485, 9.0402, 14.887]", "write_pj_per_word = { value = [6.485, 9.0402]"))
    with pytest.raises(HardwareError, match="energy.sram.glb: capacity_kib and write_pj_per_word"):
        load_profile(str(short))
