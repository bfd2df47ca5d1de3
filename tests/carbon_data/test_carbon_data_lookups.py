"""Lookups by code, name and alias; errors with suggestions; listings; nothing loaded at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import carbon_data
from carbon_data import CarbonDataError, UnknownNameError


@pytest.mark.parametrize("query", ["FR", "fr", "FRA", "France", " france ", "FRANCE"])
def test_grid_intensity_by_alpha2_alpha3_or_name(query: str) -> None:
    rec = carbon_data.grid_intensity(query)
    assert (rec.code, rec.alpha3, rec.name) == ("FR", "FRA", "France")
    assert rec.kind == "country" and rec.year is not None and rec.source


def test_shared_name_means_the_country() -> None:
    assert carbon_data.grid_intensity("Georgia").code == "GE"
    assert carbon_data.grid_intensity("US-GA").name == "Georgia"
    assert carbon_data.grid_intensity("California").code == "US-CA"
    assert carbon_data.grid_intensity("Taiwan").intensity_g_per_kwh == pytest.approx(642.378)


def test_paper_aliases() -> None:
    assert carbon_data.grid_intensity("paper-low").code == "CA-BC-PAPER"
    assert carbon_data.grid_intensity("paper-mid").intensity_g_per_kwh == 224.0
    assert carbon_data.grid_intensity("paper-high").intensity_g_per_kwh == 524.0


def test_grid_record_fields() -> None:
    rec = carbon_data.grid_intensity("US-CA")
    assert rec.parent == "US" and rec.kind == "subnational"
    # eGRID2023 394.769 lb/MWh x 0.45359237 g/kWh per lb/MWh
    assert rec.intensity_g_per_kwh == pytest.approx(394.769 * 0.45359237, abs=1e-3)


def test_unknown_region_is_keyerror_and_valueerror_with_suggestion() -> None:
    with pytest.raises(UnknownNameError) as info:
        carbon_data.grid_intensity("Frnace")
    err = info.value
    assert isinstance(err, KeyError) and isinstance(err, ValueError) and isinstance(err, CarbonDataError)
    assert "France (FR)" in err.suggestions
    message = str(err)
    assert "\n" not in message and "Frnace" in message and "did you mean France (FR)" in message
    assert not message.startswith("'")  # not KeyError's repr


def test_fab_intensity_tables_aliases_and_errors() -> None:
    assert carbon_data.fab_intensity("taiwan").intensity_g_per_kwh == 642.0
    assert carbon_data.fab_intensity("Taiwan", 2022).intensity_g_per_kwh == 583.0
    assert carbon_data.fab_intensity("United States").location == "usa"
    assert carbon_data.fab_intensity("hydropower").location == "hydro"
    assert carbon_data.fab_intensity("korea").intensity_g_per_kwh == 402.0
    with pytest.raises(UnknownNameError, match="2023 table"):
        carbon_data.fab_intensity("korea", "2022")
    with pytest.raises(UnknownNameError, match="did you mean taiwan"):
        carbon_data.fab_intensity("taiwn")
    with pytest.raises(CarbonDataError, match="fab_table.*2024.*allowed: 2023, 2022"):
        carbon_data.fab_intensity("taiwan", "2024")


def test_logic_factors_parse_and_errors() -> None:
    assert carbon_data.logic_factors("22nm").node_nm == 22
    assert carbon_data.logic_factors(7.0, 99).gpa_g_per_cm2 == 200.0
    with pytest.raises(UnknownNameError) as info:
        carbon_data.logic_factors(16)
    assert info.value.suggestions == ("14", "20")
    assert "nearest: 14, 20" in str(info.value)
    with pytest.raises(CarbonDataError, match="abatement: 90.*allowed: 95, 99"):
        carbon_data.logic_factors(22, 90)
    with pytest.raises(CarbonDataError, match="node_nm"):
        carbon_data.logic_factors("tiny")


def test_dram_factor_case_insensitive_and_suggestions() -> None:
    assert carbon_data.dram_factor("LPDDR3_20NM").cps_g_per_gb == 184.0
    with pytest.raises(UnknownNameError) as info:
        carbon_data.dram_factor("lpddr3_20")
    assert "lpddr3_20nm" in info.value.suggestions


def test_listings_are_dataframes() -> None:
    regions = carbon_data.list_regions()
    assert isinstance(regions, pd.DataFrame) and len(regions) >= 300
    assert regions["intensity_g_per_kwh"].dtype == float
    assert len(carbon_data.list_regions("paper")) == 3
    with pytest.raises(UnknownNameError, match="did you mean country"):
        carbon_data.list_regions("countrys")
    nodes = carbon_data.list_nodes()
    assert list(nodes["node_nm"]) == [28, 22, 20, 14, 10, 8, 7, 5, 3]
    assert set(nodes.columns) >= {"epa_kwh_per_cm2", "gpa_95_g_per_cm2", "gpa_99_g_per_cm2", "mpa_g_per_cm2", "source"}
    dram = carbon_data.list_dram_types()
    assert len(dram) == 8 and dram["cps_g_per_gb"].dtype == float
    fab = carbon_data.list_fab_locations("2022")
    assert "korea" not in set(fab["location"]) and "coal" in set(fab["location"])
    assert len(carbon_data.list_fab_locations()) == 28


def test_code_lists() -> None:
    assert "FR" in carbon_data.region_codes("country")
    assert carbon_data.region_codes("paper") == ["CA-BC-PAPER", "US-CA-PAPER", "TW-PAPER"]
    assert carbon_data.fab_locations("2022")[-1] == "wind"


def test_read_table_unknown_name() -> None:
    with pytest.raises(UnknownNameError, match="grid_intensity.csv"):
        carbon_data.read_table("grid.csv")


def test_import_reads_nothing_and_does_not_import_pandas() -> None:
    code = (
        "import sys, carbon_data, carbon_data.lookup as l;"
        "assert l._rows.cache_info().currsize == 0;"
        "assert 'pandas' not in sys.modules;"
        "carbon_data.grid_intensity('FR');"
        "assert 'pandas' not in sys.modules;"
        "assert l._rows.cache_info().currsize == 1"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_imports_only_stdlib_and_pandas() -> None:
    package = Path(carbon_data.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = [str(node.module).split(".")[0]]
            else:
                continue
            for root in roots:
                assert root in sys.stdlib_module_names or root in ("pandas", "carbon_data", "catransformers_errors"), f"{source.name} imports {root}"
