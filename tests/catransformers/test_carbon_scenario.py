"""CarbonScenario: presets, TOML files, --set overrides, validation errors (one line: field, value, allowed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from catransformers.carbon import SCENARIO_KEYS, CarbonScenario, load_scenario, preset_names
from catransformers.errors import ConfigError


def test_presets_listed() -> None:
    assert preset_names() == ["reference", "paper"]


def test_reference_preset() -> None:
    s = load_scenario("reference")
    assert s.name == "reference"
    assert s.resolved_fab_intensity_g_per_kwh == 642.0
    assert s.abatement == 95 and s.yield_model == "fixed" and s.yield_fraction == 0.875
    assert s.dram_type == "lpddr3_20nm"
    assert s.resolved_use_intensity_g_per_kwh == 68.0
    assert s.lifetime_inferences == 30_000_000
    assert s.amortise_embodied is False
    assert s.node_nm is None and s.dram_gb is None  # the hardware's (22 nm, 1 GB)


def test_paper_preset() -> None:
    p = load_scenario("paper")
    assert p.resolved_use_intensity_g_per_kwh == 224.0
    assert p.lifetime_mode == "duty"
    assert p.lifetime_inferences == 23_652_000
    r = load_scenario("reference").as_dict()
    differs = {k for k, v in p.as_dict().items() if r[k] != v}
    assert differs == {"name", "use_region", "inferences", "lifetime_years", "hours_per_day", "inferences_per_second"}


def test_default_is_reference_numbers() -> None:
    d = CarbonScenario()
    assert d.lifetime_inferences == 30_000_000 and d.resolved_use_intensity_g_per_kwh == 68.0
    assert d.resolved_fab_intensity_g_per_kwh == 642.0


def test_unknown_preset_suggests() -> None:
    with pytest.raises(ConfigError) as info:
        load_scenario("refrence")
    message = str(info.value)
    assert "\n" not in message and "'refrence'" in message and "did you mean reference" in message and "allowed:" in message


def test_overrides_parse_strings() -> None:
    s = load_scenario("reference").with_overrides({"use_region": "FR", "inferences": "1e8"})
    assert s.resolved_use_intensity_g_per_kwh == pytest.approx(56.039)
    assert s.lifetime_inferences == 1e8
    t = s.with_overrides({"node_nm": "7nm", "abatement": "99", "amortise_embodied": "true", "dram_gb": "none", "fab_table": "2022"})
    assert (t.node_nm, t.abatement, t.amortise_embodied, t.dram_gb, t.fab_table) == (7, 99, True, None, "2022")
    assert t.resolved_fab_intensity_g_per_kwh == 583.0


def test_overrides_switch_alternatives() -> None:
    p = load_scenario("paper")
    q = p.with_overrides({"inferences": "1000"})
    assert q.lifetime_mode == "inferences" and q.lifetime_years is None and q.lifetime_inferences == 1000
    r = q.with_overrides({"lifetime_years": 1, "hours_per_day": 24, "inferences_per_second": 2})
    assert r.inferences is None and r.lifetime_inferences == 365 * 24 * 3600 * 2
    e = p.with_overrides({"use_intensity_g_per_kwh": "100"})
    assert e.resolved_use_intensity_g_per_kwh == 100.0
    assert e.with_overrides({"use_region": "SE"}).resolved_use_intensity_g_per_kwh == pytest.approx(40.695)
    f = p.with_overrides({"fab_intensity_g_per_kwh": 10})
    assert f.with_overrides({"fab_location": "coal"}).resolved_fab_intensity_g_per_kwh == 820.0


def test_scenario_is_frozen() -> None:
    s = load_scenario("reference")
    with pytest.raises(AttributeError):
        s.use_region = "FR"  # type: ignore[misc]


@pytest.mark.parametrize(
    "overrides, pattern",
    [
        ({"use_region": "Frnace"}, r"^use_region: unknown region 'Frnace'; did you mean France \(FR\)\? allowed: "),
        ({"node_nm": 16}, r"^node_nm: no ACT logic factors for 16 nm; nearest: 14, 20; allowed: "),
        ({"fab_location": "taiwn"}, r"^fab_location: unknown fab location 'taiwn'; did you mean taiwan\? allowed: "),
        ({"dram_type": "lpddr9"}, r"^dram_type: unknown DRAM type 'lpddr9'"),
        ({"yield_fraction": 1.2}, r"^yield_fraction: 1.2 is out of range; allowed: 0 < yield_fraction <= 1$"),
        ({"yield_fraction": "0"}, r"^yield_fraction: 0.0 is out of range"),
        ({"inferences": -5}, r"^inferences: -5.0 is out of range; allowed: >= 0$"),
        ({"lifetime_years": -1, "hours_per_day": 6, "inferences_per_second": 1}, r"^lifetime_years: -1.0 is out of range"),
        ({"hours_per_day": 25, "lifetime_years": 1, "inferences_per_second": 1}, r"^hours_per_day: 25.0 is out of range; allowed: 0 <= hours_per_day <= 24$"),
        ({"lifetime_years": 3}, r"^hours_per_day: None while lifetime_years is set; allowed: "),
        ({"abatement": 90}, r"^abatement: 90 is not an ACT abatement level; allowed: 95, 99$"),
        ({"yield_model": "murphey"}, r"^yield_model: 'murphey' is unknown; did you mean murphy\? allowed: fixed, murphy, negative_binomial$"),
        ({"inferences": "lots"}, r"^inferences: 'lots' is not a number; allowed: a number or none$"),
        ({"amortise_embodied": "maybe"}, r"^amortise_embodied: 'maybe' is not a boolean; allowed: true, false$"),
        ({"fab_table": "2021"}, r"^fab_table: '2021' is not an ACT fab table; allowed: 2023, 2022$"),
        ({"use_region": "none"}, r"^use_region: None without use_intensity_g_per_kwh; allowed: "),
        ({"yeild_fraction": 0.9}, r"^override: unknown key 'yeild_fraction'; did you mean yield_fraction"),
        ({"node_nm": 22.5}, r"^node_nm: 22.5 is not an integer; allowed: an integer$"),
    ],
)
def test_bad_input_is_one_line_config_error(overrides: dict, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern) as info:
        load_scenario("reference").with_overrides(overrides)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_both_lifetimes_rejected_when_built_directly() -> None:
    with pytest.raises(ConfigError, match=r"^inferences: 1000.0 given together with lifetime_years, hours_per_day, inferences_per_second"):
        CarbonScenario(inferences=1000, lifetime_years=1, hours_per_day=1, inferences_per_second=1)


def test_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "fr.toml"
    path.write_text('base = "paper"\ndescription = "French deployment"\nuse_region = "FRA"\nnode_nm = 7\n')
    s = load_scenario(path)
    assert s.name == "fr" and s.node_nm == 7 and s.resolved_use_intensity_g_per_kwh == pytest.approx(56.039)
    assert s.lifetime_inferences == 23_652_000  # from the paper base
    flat = tmp_path / "flat.toml"
    flat.write_text('name = "mine"\ninferences = 1e6\nuse_intensity_g_per_kwh = 300\n')
    m = load_scenario(str(flat))
    assert (m.name, m.lifetime_inferences, m.resolved_use_intensity_g_per_kwh) == ("mine", 1e6, 300.0)


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("use_regoin = 'FR'\n", r"^scenario file bad.toml: unknown key 'use_regoin'; did you mean use_region"),
        ("base = 'papr'\n", r"^base: unknown preset 'papr'; did you mean paper\?"),
        ("inferences = \n", r"^scenario: file '.*bad.toml' is not valid TOML"),
        ("yield_fraction = 2\n", r"^yield_fraction: 2.0 is out of range"),
    ],
)
def test_bad_toml_files(tmp_path: Path, text: str, pattern: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=pattern):
        load_scenario(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_scenario(tmp_path / "nope.toml")


def test_presets_file_keys_are_fields() -> None:
    import tomllib
    from importlib import resources

    data = tomllib.loads(resources.files("catransformers").joinpath("data", "scenarios.toml").read_text())
    for table in data.values():
        assert set(table) - {"description"} <= set(SCENARIO_KEYS)


def test_describe_is_json_ready() -> None:
    import json

    d = load_scenario("paper").describe()
    assert json.loads(json.dumps(d))["lifetime_inferences"] == 23_652_000
    assert d["use_region_name"] == "California (CATransformers)"
