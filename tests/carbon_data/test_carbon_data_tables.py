"""Data integrity of the shipped carbon tables: provenance per row, the REFERENCE numbers, packaging."""

from __future__ import annotations

import csv
import fnmatch
import io
import tomllib
from importlib import resources
from pathlib import Path

import pytest

import carbon_data
from carbon_data import regenerate

REPO = Path(__file__).resolve().parents[2]
TABLES = list(carbon_data.TABLE_FILES)


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("carbon_data").joinpath("tables", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("name", TABLES)
def test_installed_package_contains_table(name: str) -> None:
    path = resources.files("carbon_data").joinpath("tables", name)
    assert path.is_file()
    assert len(_rows(name)) > 0


def test_installed_package_contains_readme_naming_every_table() -> None:
    readme = resources.files("carbon_data").joinpath("tables", "README.md").read_text(encoding="utf-8")
    for name in TABLES:
        assert f"`{name}`" in readme


def test_package_data_globs_cover_the_tables() -> None:
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["carbon_data"]
    shipped = [p.relative_to(REPO / "carbon_data").as_posix() for p in (REPO / "carbon_data" / "tables").iterdir() if p.is_file()]
    for rel in shipped:
        assert any(fnmatch.fnmatch(rel, g) for g in globs), f"{rel} not matched by package-data {globs}"


@pytest.mark.parametrize("name", TABLES)
def test_every_row_has_unit_source_year_licence(name: str) -> None:
    for row in _rows(name):
        for column in ("unit", "source", "year", "licence"):
            assert row[column].strip(), f"{name}: {column} empty in {row}"
        assert row["year"].isdigit() and 1990 <= int(row["year"]) <= 2030


@pytest.mark.parametrize("name", TABLES)
def test_columns_are_the_declared_ones(name: str) -> None:
    text = resources.files("carbon_data").joinpath("tables", name).read_text(encoding="utf-8")
    assert tuple(text.splitlines()[0].split(",")) == carbon_data.TABLE_FILES[name]


def test_grid_table_covers_200_countries_with_iso_codes() -> None:
    rows = _rows("grid_intensity.csv")
    countries = [r for r in rows if r["kind"] == "country"]
    assert len(countries) >= 200
    for r in countries:
        assert len(r["code"]) == 2 and r["code"].isupper()
        assert len(r["alpha3"]) == 3 and r["alpha3"].isupper()
        assert r["name"]
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    alpha3 = [r["alpha3"] for r in countries]
    assert len(alpha3) == len(set(alpha3))


def test_grid_intensities_are_plausible() -> None:
    for r in _rows("grid_intensity.csv"):
        value = float(r["intensity_g_per_kwh"])
        assert 0.0 <= value <= 1500.0, r
        assert r["unit"] == "gCO2e/kWh"


def test_namibia_code_na_survives_pandas() -> None:
    frame = carbon_data.list_regions("country")
    assert frame.loc[frame["alpha3"] == "NAM", "code"].item() == "NA"


@pytest.mark.parametrize(
    "alpha3, expected",
    [("USA", 369.5), ("FRA", 56.0), ("DEU", 381.0), ("CHN", 582.3), ("TWN", 642.4), ("IND", 713.4), ("SWE", 40.7)],
)
def test_country_values_match_reference_section_2(alpha3: str, expected: float) -> None:
    assert carbon_data.grid_intensity(alpha3).intensity_g_per_kwh == pytest.approx(expected, abs=0.051)


def test_paper_regions() -> None:
    assert carbon_data.grid_intensity("CA-BC-PAPER").intensity_g_per_kwh == 68.0
    assert carbon_data.grid_intensity("US-CA-PAPER").intensity_g_per_kwh == 224.0
    assert carbon_data.grid_intensity("TW-PAPER").intensity_g_per_kwh == 524.0
    for code in ("CA-BC-PAPER", "US-CA-PAPER", "TW-PAPER"):
        assert "2505.01386" in carbon_data.grid_intensity(code).source


def test_subnational_grids_present() -> None:
    kinds = {r["code"]: r["kind"] for r in _rows("grid_intensity.csv")}
    for code in ("US-CA", "US-TX", "CA-BC", "CA-QC", "CN-BJ", "SE1", "NO4"):
        assert kinds[code] == "subnational"
    assert sum(1 for k in kinds.values() if k == "subnational") >= 90


# --- ACT tables: exactly docs/reference-facts.md section 2 ---------------------------------------

LOGIC = {
    28: (0.90, 175, 100, 500),
    22: (1.077, 188.28, 110, 500),
    20: (1.2, 190, 110, 500),
    14: (1.2, 200, 125, 500),
    10: (1.475, 240, 150, 500),
    8: (1.52, 240, 150, 500),
    7: (2.15, 350, 200, 500),
    5: (2.75, 430, 225, 500),
    3: (3.25, 470, 275, 500),
}
FAB = {
    "world": (481, 301), "india": (713, 725), "australia": (549, 597), "taiwan": (642, 583),
    "singapore": (471, 495), "usa": (369, 380), "europe": (300, 295), "brazil": (98, 82), "iceland": (7.3, 28),
}
SOURCES = {"coal": 820, "gas": 490, "biomass": 230, "solar": 41, "geothermal": 38, "hydro": 24, "nuclear": 12, "wind": 11}
DRAM = {
    "ddr3_50nm": 600, "ddr3_40nm": 315, "ddr3_30nm": 230, "lpddr3_30nm": 201,
    "lpddr3_20nm": 184, "lpddr2_20nm": 159, "lpddr4": 48, "ddr4_10nm": 65,
}


def test_logic_factors_are_reference_numbers() -> None:
    assert sorted(carbon_data.node_values()) == sorted(LOGIC)
    for node, (epa, gpa95, gpa99, mpa) in LOGIC.items():
        f95 = carbon_data.logic_factors(node, 95)
        f99 = carbon_data.logic_factors(node, 99)
        assert (f95.epa_kwh_per_cm2, f95.gpa_g_per_cm2, f95.mpa_g_per_cm2) == (epa, gpa95, mpa)
        assert (f99.epa_kwh_per_cm2, f99.gpa_g_per_cm2, f99.mpa_g_per_cm2) == (epa, gpa99, mpa)
        assert "facebookresearch/ACT" in f95.source and "5a85eba" in f95.source
    assert "interpolated" in carbon_data.logic_factors(22).note


def test_fab_tables_are_reference_numbers() -> None:
    for location, (v2023, v2022) in FAB.items():
        assert carbon_data.fab_intensity(location, "2023").intensity_g_per_kwh == v2023
        assert carbon_data.fab_intensity(location, "2022").intensity_g_per_kwh == v2022
    for source, value in SOURCES.items():
        for table in carbon_data.FAB_TABLES:
            rec = carbon_data.fab_intensity(source, table)
            assert rec.intensity_g_per_kwh == value and rec.kind == "energy_source"


def test_dram_factors_are_reference_numbers() -> None:
    assert set(carbon_data.dram_types()) == set(DRAM)
    for name, value in DRAM.items():
        assert carbon_data.dram_factor(name).cps_g_per_gb == value


def test_act_tables_equal_what_regenerate_writes() -> None:
    for name, text in regenerate.build_tables(with_grid=False).items():
        shipped = resources.files("carbon_data").joinpath("tables", name).read_text(encoding="utf-8")
        assert shipped == text, f"{name} is stale: run python -m carbon_data.regenerate"


def test_grid_table_equals_what_regenerate_writes() -> None:
    import importlib.util

    if importlib.util.find_spec("codecarbon") is None or importlib.util.find_spec("carbontracker") is None:
        pytest.skip("codecarbon and carbontracker are needed only to regenerate the grid table")
    text = regenerate.build_tables()["grid_intensity.csv"]
    shipped = resources.files("carbon_data").joinpath("tables", "grid_intensity.csv").read_text(encoding="utf-8")
    assert shipped == text
