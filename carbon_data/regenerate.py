"""Regenerate the CSV tables in carbon_data/tables/ from their sources (run as a script, never imported by the lookups)."""

# Usage:  python -m carbon_data.regenerate [--out DIR] [--check]
#
# Grid intensities are read from the data files that two MIT-licensed packages ship
# (install them in a throwaway environment first: `pip install codecarbon carbontracker`):
#   codecarbon    data/private_infra/global_energy_mix.json          countries (primary)
#                 data/private_infra/2023/usa_emissions.json         US states (EPA eGRID2023)
#                 data/private_infra/2023/canada_energy_mix.json     Canadian provinces (mix, %)
#                 data/private_infra/2023/china_provincial_emissions.json  Chinese provinces (MEE/NBS)
#                 data/private_infra/nordic_emissions.json           Nordic bidding zones (ENTSO-E)
#                 data/private_infra/carbon_intensity_per_source.json  per-source factors, world average
#   carbontracker data/carbon-intensities.csv                        countries (second opinion)
# Only numbers are taken from those files; no code of theirs is used.
#
# The ACT factors and the CATransformers paper's regions are facts transcribed below with
# their citations; the script writes them out so every table has one generator.

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import importlib.util
from pathlib import Path
from typing import Any, Iterable, Sequence

__all__ = ["build_tables", "main"]

TABLES_DIR = Path(__file__).resolve().parent / "tables"

LB_TO_G = 453.59237  # 1 lb = 453.59237 g (exact), so 1 lb/MWh = 0.45359237 g/kWh

# ---------------------------------------------------------------------------------------
# ACT (Gupta et al., "ACT: Designing Sustainable Computer Systems With an Architectural
# Carbon Modeling Tool", ISCA 2022), repository facebookresearch/ACT, MIT licence,
# branch 22nmScaling, commit 5a85eba.
ACT_REPO = "facebookresearch/ACT@5a85eba (branch 22nmScaling)"
ACT_LICENCE = "MIT (facebookresearch/ACT)"
ACT_PAPER = "Gupta et al., ACT, ISCA 2022, Table 1"

# node_nm: (EPA kWh/cm2, GPA 95 % g/cm2, GPA 99 % g/cm2, MPA g/cm2)
ACT_LOGIC: dict[int, tuple[float, float, float, float]] = {
    28: (0.90, 175.0, 100.0, 500.0),
    22: (1.077, 188.28, 110.0, 500.0),
    20: (1.2, 190.0, 110.0, 500.0),
    14: (1.2, 200.0, 125.0, 500.0),
    10: (1.475, 240.0, 150.0, 500.0),
    8: (1.52, 240.0, 150.0, 500.0),
    7: (2.15, 350.0, 200.0, 500.0),
    5: (2.75, 430.0, 225.0, 500.0),
    3: (3.25, 470.0, 275.0, 500.0),
}
ACT_22NM_NOTE = "22 nm row interpolated by the CATransformers authors on ACT's 22nmScaling branch (arXiv:2505.01386)"

# Fab-location grid intensity, g CO2e/kWh: (2023 table, 2022 table); None = not in that table.
ACT_FAB_LOCATIONS: dict[str, tuple[float | None, float | None, str]] = {
    "world": (481.0, 301.0, ""),
    "india": (713.0, 725.0, ""),
    "australia": (549.0, 597.0, ""),
    "taiwan": (642.0, 583.0, ""),
    "singapore": (471.0, 495.0, ""),
    "usa": (369.0, 380.0, "us;united states"),
    "europe": (300.0, 295.0, "eu"),
    "brazil": (98.0, 82.0, ""),
    "iceland": (7.3, 28.0, ""),
    # Only in the 2023 table; ACT cites lowcarbonpower.org for both.
    "korea": (402.0, None, "south korea"),
    "japan": (446.0, None, ""),
}
ACT_FAB_FILES = {
    "2023": "act/models/carbon_intensity/location_2023.yaml",
    "2022": "act/models/carbon_intensity/location_2022.yaml (carbon_intensity/location.json on main)",
}

# Life-cycle intensity by generation source, g CO2e/kWh (ACT carbon_intensity/source.yaml).
ACT_ENERGY_SOURCES: dict[str, tuple[float, str]] = {
    "coal": (820.0, ""),
    "gas": (490.0, "natural gas"),
    "biomass": (230.0, ""),
    "solar": (41.0, ""),
    "geothermal": (38.0, ""),
    "hydro": (24.0, "hydropower"),
    "nuclear": (12.0, ""),
    "wind": (11.0, ""),
}

# DRAM carbon per GB, g/GB (ACT dram/dram_hynix.yaml, from SK hynix sustainability reports).
ACT_DRAM: dict[str, float] = {
    "ddr3_50nm": 600.0,
    "ddr3_40nm": 315.0,
    "ddr3_30nm": 230.0,
    "lpddr3_30nm": 201.0,
    "lpddr3_20nm": 184.0,
    "lpddr2_20nm": 159.0,
    "lpddr4": 48.0,
    "ddr4_10nm": 65.0,
}

# ---------------------------------------------------------------------------------------
# CATransformers (arXiv:2505.01386) use-phase regions: App. K low / mid / high scenarios.
PAPER = "CATransformers, arXiv:2505.01386, App. K"
PAPER_REGIONS: list[dict[str, Any]] = [
    {
        "code": "CA-BC-PAPER", "name": "British Columbia (CATransformers)", "parent": "CA",
        "intensity": 68.0, "aliases": "paper-low",
        "note": "App. K low scenario; also the reference code's use-phase intensity",
    },
    {
        "code": "US-CA-PAPER", "name": "California (CATransformers)", "parent": "US",
        "intensity": 224.0, "aliases": "paper-mid",
        "note": "App. K mid scenario; the paper's main-text use-phase intensity",
    },
    {
        "code": "TW-PAPER", "name": "Taiwan (CATransformers high)", "parent": "TW",
        "intensity": 524.0, "aliases": "paper-high",
        "note": "App. K high scenario; Taiwan the country is 642.4 in codecarbon",
    },
]

# ISO 3166-2 codes of the Canadian provinces and territories (codecarbon keys them by name).
CANADA_ISO = {
    "alberta": "AB", "british columbia": "BC", "manitoba": "MB", "new brunswick": "NB",
    "newfoundland and labrador": "NL", "northwest territories": "NT", "nova scotia": "NS",
    "nunavut": "NU", "ontario": "ON", "prince edward island": "PE", "quebec": "QC",
    "saskatchewan": "SK", "yukon": "YT",
}
# Canadian mix keys -> codecarbon per-source factor keys. Tidal has no factor of its own and
# takes hydro's; "other" has none and counts with factor 0 (so the value is a lower bound).
CANADA_SOURCE_KEYS = {
    "naturalGas": "natural_gas", "petroleum": "petroleum", "coal": "coal", "nuclear": "nuclear",
    "hydro": "hydroelectricity", "tidal": "hydroelectricity", "wind": "wind", "solar": "solar",
    "biomass": "biomass", "other": None,
}
# The one country codecarbon has that carbontracker lacks, so no alpha-2 comes with it.
EXTRA_ALPHA2 = {"NAM": "NA"}

GRID_COLUMNS = [
    "code", "alpha3", "name", "kind", "parent", "intensity_g_per_kwh", "unit", "source",
    "year", "licence", "alt_intensity_g_per_kwh", "alt_source", "alt_year", "aliases", "note",
]
UNIT_INTENSITY = "gCO2e/kWh"


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return ""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text if text else "0"


def _package_file(package: str, relative: str) -> Path:
    # find_spec locates the installed package without running its __init__ (and its imports).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"regenerate: package {package!r} is not installed; pip install {package} (in a throwaway venv)")
    return Path(list(spec.submodule_search_locations)[0]) / relative


def _read_json(package: str, relative: str) -> Any:
    return json.loads(_package_file(package, relative).read_text(encoding="utf-8"))


def _version(package: str) -> str:
    from importlib import metadata

    return metadata.version(package)


def build_grid_rows() -> list[dict[str, str]]:
    """Countries, sub-national regions and the paper's regions, one row each."""
    for package in ("codecarbon", "carbontracker"):
        _package_file(package, "")  # a clear message when one is missing
    cc_ver = f"codecarbon {_version('codecarbon')}"
    ct_ver = f"carbontracker {_version('carbontracker')}"
    mix = _read_json("codecarbon", "data/private_infra/global_energy_mix.json")
    per_source = _read_json("codecarbon", "data/private_infra/carbon_intensity_per_source.json")
    ct_text = _package_file("carbontracker", "data/carbon-intensities.csv").read_text(encoding="utf-8")
    ct_rows = {r["Code"]: r for r in csv.DictReader(io.StringIO(ct_text))}
    ct_col = "Carbon intensity of electricity (gCO2eq/kWh)"

    rows: list[dict[str, str]] = []

    # Countries: codecarbon primary (it matches ACT's 2023 fab table, e.g. Taiwan 642, India
    # 713, USA 369, so fab and use phase come from one dataset); carbontracker kept as alt_*.
    for alpha3 in sorted(set(mix) | set(ct_rows)):
        cc = mix.get(alpha3)
        ct = ct_rows.get(alpha3)
        alpha2 = ct["alpha-2"] if ct else EXTRA_ALPHA2[alpha3]
        row = {
            "code": alpha2, "alpha3": alpha3, "kind": "country", "parent": "", "unit": UNIT_INTENSITY,
            "aliases": "", "note": "",
        }
        ct_value = (_fmt(float(ct[ct_col])), f"{ct_ver} data/carbon-intensities.csv (Our World in Data)", ct["Year"]) if ct else ("", "", "")
        if cc is not None:
            row.update(
                name=cc["country_name"], intensity_g_per_kwh=_fmt(cc["carbon_intensity"]),
                source=f"{cc_ver} data/private_infra/global_energy_mix.json (Our World in Data / Ember)",
                year=str(cc["year"]), licence="MIT (codecarbon); upstream CC-BY-4.0 (Our World in Data)",
            )
            row["alt_intensity_g_per_kwh"], row["alt_source"], row["alt_year"] = ct_value
        else:  # pragma: no cover - does not happen with codecarbon 3.3.2
            row.update(
                name=ct["Entity"], intensity_g_per_kwh=ct_value[0], source=ct_value[1], year=ct_value[2],
                licence="MIT (carbontracker); upstream CC-BY-4.0 (Our World in Data)",
                alt_intensity_g_per_kwh="", alt_source="", alt_year="",
            )
        rows.append(row)

    rows.append({
        "code": "WORLD", "alpha3": "", "name": "World", "kind": "aggregate", "parent": "",
        "intensity_g_per_kwh": _fmt(float(per_source["world_average"])), "unit": UNIT_INTENSITY,
        "source": f"{cc_ver} data/private_infra/carbon_intensity_per_source.json world_average (IEA Global Energy & CO2 Status Report 2019)",
        "year": "2019", "licence": "MIT (codecarbon)", "alt_intensity_g_per_kwh": "", "alt_source": "",
        "alt_year": "", "aliases": "world average", "note": "",
    })

    def sub(code: str, name: str, parent: str, value: float, source: str, year: str, note: str = "", digits: int = 1) -> dict[str, str]:
        return {
            "code": code, "alpha3": "", "name": name, "kind": "subnational", "parent": parent,
            "intensity_g_per_kwh": _fmt(value, digits), "unit": UNIT_INTENSITY, "source": source, "year": year,
            "licence": "MIT (codecarbon)", "alt_intensity_g_per_kwh": "", "alt_source": "", "alt_year": "",
            "aliases": "", "note": note,
        }

    # US states: EPA eGRID2023 total output CO2e rate, lb/MWh -> g/kWh.
    usa = _read_json("codecarbon", "data/private_infra/2023/usa_emissions.json")
    meta = usa.get("_source", {})
    for key, entry in sorted(usa.items()):
        if key.startswith("_") or key == "usa":  # the national aggregate duplicates the USA row
            continue
        rows.append(sub(
            f"US-{entry['regionCode']}", key.title().replace(" Of ", " of "), "US",
            float(entry["emissions"]) * LB_TO_G / 1000.0,
            f"{cc_ver} data/private_infra/2023/usa_emissions.json ({meta.get('name', 'EPA eGRID2023')}, field {meta.get('field', 'STC2ERTA')}), converted from lb/MWh",
            str(meta.get("year", 2023)), digits=3,
        ))

    # Canadian provinces: generation mix (%) x codecarbon's per-source life-cycle factors.
    canada = _read_json("codecarbon", "data/private_infra/2023/canada_energy_mix.json")
    for key, shares in sorted(canada.items()):
        total = float(shares["total"])
        grams = 0.0
        for mix_key, factor_key in CANADA_SOURCE_KEYS.items():
            if factor_key is not None:
                grams += float(shares.get(mix_key, 0.0)) * float(per_source[factor_key])
        rows.append(sub(
            f"CA-{CANADA_ISO[key]}", key.title().replace(" And ", " and "), "CA", grams / total,
            f"derived: {cc_ver} data/private_infra/2023/canada_energy_mix.json (generation shares, %) x carbon_intensity_per_source.json factors",
            "2023", note="sum(share x factor) / total share; tidal counted as hydro, 'other' as 0",
        ))

    # Chinese provinces: MEE/NBS 2023 provincial factors (CO2 only, not CO2e).
    china = _read_json("codecarbon", "data/private_infra/2023/china_provincial_emissions.json")
    for code, entry in sorted(china["data"].items()):
        rows.append(sub(
            code, str(entry["description"]), "CN", float(entry["emission_factor"]),
            f"{cc_ver} data/private_infra/2023/china_provincial_emissions.json (MEE/NBS Announcement 2025 No. 47, Table 3)",
            str(entry.get("year", china["metadata"].get("year", 2023))), note="CO2 only, not CO2e",
        ))

    # Nordic bidding zones (ENTSO-E generation mix 2025); FI there duplicates the country.
    nordic = _read_json("codecarbon", "data/private_infra/nordic_emissions.json")
    for code, entry in sorted(nordic["data"].items()):
        if len(code) == 2:
            continue
        rows.append(sub(
            code, str(entry["description"]), code[:2], float(entry["emission_factor"]),
            f"{cc_ver} data/private_infra/nordic_emissions.json (ENTSO-E A75 generation mix x codecarbon per-source factors)",
            str(entry.get("year", "")), note=f"coverage {entry.get('coverage', '')}".strip(),
        ))

    for region in PAPER_REGIONS:
        rows.append({
            "code": region["code"], "alpha3": "", "name": region["name"], "kind": "paper",
            "parent": region["parent"], "intensity_g_per_kwh": _fmt(region["intensity"]), "unit": UNIT_INTENSITY,
            "source": PAPER, "year": "2025", "licence": "cited figure (arXiv:2505.01386)",
            "alt_intensity_g_per_kwh": "", "alt_source": "", "alt_year": "", "aliases": region["aliases"],
            "note": region["note"],
        })
    return rows


def build_act_rows() -> dict[str, tuple[list[str], list[dict[str, str]]]]:
    """The ACT tables: fab intensity, logic factors (long format), DRAM factors."""
    fab_cols = ["location", "kind", "table", "intensity_g_per_kwh", "unit", "source", "year", "licence", "aliases"]
    fab: list[dict[str, str]] = []
    for table, column in (("2023", 0), ("2022", 1)):
        for location, values in ACT_FAB_LOCATIONS.items():
            value = values[column]
            if value is None:
                continue
            fab.append({
                "location": location, "kind": "location", "table": table, "intensity_g_per_kwh": _fmt(value),
                "unit": UNIT_INTENSITY, "source": f"{ACT_REPO} {ACT_FAB_FILES[table]}", "year": table,
                "licence": ACT_LICENCE, "aliases": values[2],
            })
    for source, (value, aliases) in ACT_ENERGY_SOURCES.items():
        fab.append({
            "location": source, "kind": "energy_source", "table": "", "intensity_g_per_kwh": _fmt(value),
            "unit": UNIT_INTENSITY, "source": f"{ACT_REPO} act/models/carbon_intensity/source.yaml (life-cycle, by generation source)",
            "year": "2022", "licence": ACT_LICENCE, "aliases": aliases,
        })

    logic_cols = ["node_nm", "factor", "value", "unit", "source", "year", "licence", "note"]
    logic: list[dict[str, str]] = []
    names = (("epa", "kWh/cm2", "epa.yaml"), ("gpa_95", "gCO2e/cm2", "gpa_95.yaml"),
             ("gpa_99", "gCO2e/cm2", "gpa_99.yaml"), ("mpa", "gCO2e/cm2", "materials.yaml"))
    for node, values in ACT_LOGIC.items():
        for (factor, unit, file), value in zip(names, values):
            logic.append({
                "node_nm": str(node), "factor": factor, "value": _fmt(value), "unit": unit,
                "source": f"{ACT_REPO} act/models/logic/{file}; {ACT_PAPER}", "year": "2022",
                "licence": ACT_LICENCE, "note": ACT_22NM_NOTE if node == 22 else "",
            })

    dram_cols = ["dram_type", "cps_g_per_gb", "unit", "source", "year", "licence"]
    dram = [
        {
            "dram_type": name, "cps_g_per_gb": _fmt(value), "unit": "gCO2e/GB",
            "source": f"{ACT_REPO} act/models/dram/dram_hynix.yaml (SK hynix sustainability reports)",
            "year": "2022", "licence": ACT_LICENCE,
        }
        for name, value in ACT_DRAM.items()
    ]
    return {
        "fab_intensity.csv": (fab_cols, fab),
        "logic_factors.csv": (logic_cols, logic),
        "dram_factors.csv": (dram_cols, dram),
    }


def _to_csv(columns: Sequence[str], rows: Iterable[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return out.getvalue()


def build_tables(with_grid: bool = True) -> dict[str, str]:
    """File name -> CSV text for every table."""
    texts = {name: _to_csv(cols, rows) for name, (cols, rows) in build_act_rows().items()}
    if with_grid:
        texts["grid_intensity.csv"] = _to_csv(GRID_COLUMNS, build_grid_rows())
    return texts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=TABLES_DIR, help="folder to write the CSVs into")
    parser.add_argument("--check", action="store_true", help="compare with the files there instead of writing")
    parser.add_argument("--act-only", action="store_true", help="skip the grid table (needs codecarbon, carbontracker)")
    args = parser.parse_args(argv)
    try:
        texts = build_tables(with_grid=not args.act_only)
    except ModuleNotFoundError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    stale = []
    for name, text in sorted(texts.items()):
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            sys.stdout.write(f"wrote {path} ({text.count(chr(10)) - 1} rows)\n")
    if stale:
        sys.stderr.write(f"regenerate: out of date: {', '.join(stale)}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
