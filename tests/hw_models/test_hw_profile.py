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
    # Table points (CACTI 22 nm, per 8-bit word): L2 at a 64-byte port, GLB at a 512-byte port;
    # reads and writes are charged apart.
    l2 = {"read": [0.31216, 0.70812, 1.7365, 2.6513], "write": [0.90907, 0.93001, 2.1831, 3.0979]}
    glb = {"read": [3.7983, 6.3535, 9.4886], "write": [6.485, 9.0402, 14.887]}
    for access in ("read", "write"):
        got = sram_pj_per_word(np.array([64, 128, 512, 1024]) * 1024.0, p, memory="l2", access=access)
        assert got == pytest.approx(l2[access], rel=1e-12)
        got = sram_pj_per_word(np.array([2, 4, 8]) * 2.0**20, p, memory="glb", access=access)
        assert got == pytest.approx(glb[access], rel=1e-12)
    e64, e128, e512, e1024 = l2["read"]
    g2, g4, g8 = glb["write"]
    e = lambda kib, memory="l2", access="read": sram_pj_per_word(kib * 1024.0, p, memory=memory, access=access)  # noqa: E731
    # Between points: log-log; outside: the end segment's slope (the area tables' scheme).
    assert e(96) == pytest.approx(e64 * (e128 / e64) ** np.log2(1.5), rel=1e-12)
    assert e(32) == pytest.approx(e64 * e64 / e128, rel=1e-12)
    assert e(2048) == pytest.approx(e1024 * e1024 / e512, rel=1e-12)
    assert e(16 * 1024, "glb", "write") == pytest.approx(g8 * g8 / g4, rel=1e-12)
    # Larger SRAMs cost more per word; the largest GLB stays below DRAM per word.
    caps = 2.0 ** np.arange(14, 25)
    for memory in ("l2", "glb"):
        for access in ("read", "write"):
            assert np.all(np.diff(sram_pj_per_word(caps, p, memory=memory, access=access)) > 0)
    assert e(8 * 1024, "glb", "write") < p.dram_pj_per_word
    with pytest.raises(HardwareError, match="memory='dram'"):
        sram_pj_per_word(1024.0, p, memory="dram", access="read")
    with pytest.raises(HardwareError, match="access='update'"):
        sram_pj_per_word(1024.0, p, memory="l2", access="update")


def test_access_energies_use_the_sram_tables():
    from hw_models import HardwareBatch, access_energies

    p = load_profile()
    # 256x64 PEs bump the TC's L2 to 256x64/64 = 256 KiB; the VC's stays at l2_sram_kb = 64.
    hw = HardwareBatch.from_arrays(pe_width=np.array([256, 32]), pe_depth=np.array([64, 2]),
                                   l2_sram_kb=np.array([64, 512]), glb_mb=np.array([2, 8]))
    e = access_energies(hw, p)
    assert e.l2_read_pj == pytest.approx([0.31216, 1.7365], rel=1e-12)
    assert e.l2_write_pj == pytest.approx([0.90907, 2.1831], rel=1e-12)
    assert e.l2_tc_read_pj == pytest.approx([1.021, 1.7365], rel=1e-12)
    assert e.l2_tc_write_pj == pytest.approx([1.4675, 2.1831], rel=1e-12)
    assert e.glb_read_pj == pytest.approx([3.7983, 9.4886], rel=1e-12)
    assert e.glb_tc_write_pj == pytest.approx([6.485, 14.887], rel=1e-12)
    assert (e.mac_pj, e.vc_mac_pj, e.dram_tc_pj) == (p.mac_pj, p.mac_pj, 64.0)
    assert (p.sram["l2"].port_bytes, p.sram["glb"].port_bytes) == (64, 512)
    assert "cacti_sram_table.py" in p.sources["energy.sram.l2.read_pj_per_word"]


def test_catransformers_code_profile_follows_the_reference_code():
    from hw_models import HardwareBatch, access_energies

    p = load_profile("catransformers-code")
    ref = load_profile("reference")
    assert p.name == "catransformers-code"
    # 2.2 pJ per tensor-core MAC (Sunstone's constant); the vector core keeps the 22 nm MAC.
    assert (p.tc_mac_pj, p.mac_pj) == (2.2, ref.mac_pj)
    assert (p.register_pj, p.register_accesses_per_mac) == (0.190888, 1)  # the weight; inputs and outputs bypass it
    assert p.fill_drain == 0.0 and p.tc_l2_operand_buffers == 3 and p.dram_read_write_ports
    hw = HardwareBatch.from_arrays(l2_sram_kb=np.array([256, 512]), glb_mb=np.array([2, 8]), pe_width=np.array([32, 32]), pe_depth=np.array([2, 2]))
    e = access_energies(hw, p)
    # Every word of the tensor-core path costs a whole 32-bit access, writes at the read energy
    # (the reference's own Accelergy tables); the vector core pays a quarter of it per word.
    assert e.l2_tc_read_pj == pytest.approx([9.129444, 12.539794], rel=1e-9)
    assert e.l2_tc_write_pj == pytest.approx(e.l2_tc_read_pj)
    assert e.glb_tc_read_pj == pytest.approx([24.296144, 49.079894], rel=1e-9)
    assert e.l2_read_pj == pytest.approx([9.129444 / 4, 12.539794 / 4], rel=1e-9)
    assert (e.dram_tc_pj, e.dram_pj) == (256.0, 64.0)
    assert p.vector["gelu"].passes == 1  # GELU costed as ReLU
    # The areas are the reference's own tables in both profiles.
    assert np.array_equal(p.l2_table_um2, ref.l2_table_um2) and p.per_pe_um2 == ref.per_pe_um2


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
    acct = tmp_path / "acct.toml"
    acct.write_text(src + '\n[accounting]\nsystolic_fill_drain = { value = 1, unit = "-", source = "x" }\n')
    with pytest.raises(HardwareError, match="accounting.systolic_fill_drain"):
        load_profile(str(acct))
    acct.write_text(src + '\n[accounting]\nmagic = { value = 1, unit = "-", source = "x" }\n')
    with pytest.raises(HardwareError, match="unknown key 'magic'"):
        load_profile(str(acct))
    noglb = tmp_path / "noglb.toml"
    noglb.write_text(src.replace("[energy.sram.glb]", "[energy.sram.gbl]"))
    with pytest.raises(HardwareError, match="unknown key 'gbl'"):
        load_profile(str(noglb))
    short = tmp_path / "short.toml"
    short.write_text(src.replace("write_pj_per_word = { value = [6.485, 9.0402, 14.887]", "write_pj_per_word = { value = [6.485, 9.0402]"))
    with pytest.raises(HardwareError, match="energy.sram.glb: capacity_kib and write_pj_per_word"):
        load_profile(str(short))
