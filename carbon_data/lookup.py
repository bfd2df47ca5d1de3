"""Typed lookups and listings over the shipped carbon tables (read lazily, cached)."""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from .errors import CarbonDataError, UnknownNameError

if TYPE_CHECKING:  # pandas is imported only by the listing functions
    import pandas as pd

__all__ = [
    "ABATEMENTS",
    "FAB_TABLES",
    "TABLE_FILES",
    "GridIntensity",
    "FabIntensity",
    "LogicFactors",
    "DramFactor",
    "grid_intensity",
    "fab_intensity",
    "logic_factors",
    "dram_factor",
    "region_codes",
    "node_values",
    "dram_types",
    "fab_locations",
    "list_regions",
    "list_fab_locations",
    "list_nodes",
    "list_dram_types",
    "read_table",
]

FAB_TABLES: tuple[str, ...] = ("2023", "2022")  # ACT's fab-location tables, newest first
ABATEMENTS: tuple[int, ...] = (95, 99)  # ACT's gas-abatement levels, percent

# file -> columns it must have (the loader checks them)
TABLE_FILES: Mapping[str, tuple[str, ...]] = {
    "grid_intensity.csv": (
        "code", "alpha3", "name", "kind", "parent", "intensity_g_per_kwh", "unit", "source", "year",
        "licence", "alt_intensity_g_per_kwh", "alt_source", "alt_year", "aliases", "note",
    ),
    "fab_intensity.csv": ("location", "kind", "table", "intensity_g_per_kwh", "unit", "source", "year", "licence", "aliases"),
    "logic_factors.csv": ("node_nm", "factor", "value", "unit", "source", "year", "licence", "note"),
    "dram_factors.csv": ("dram_type", "cps_g_per_gb", "unit", "source", "year", "licence"),
}
_LOGIC_FACTORS = ("epa", "gpa_95", "gpa_99", "mpa")
_KIND_PRIORITY = {"country": 0, "aggregate": 1, "subnational": 2, "paper": 3}  # who wins a shared name


@dataclass(frozen=True)
class GridIntensity:
    """Carbon intensity of a region's electricity grid."""

    code: str  # ISO 3166-1 alpha-2 for countries, ISO 3166-2 / zone code for regions
    name: str
    intensity_g_per_kwh: float
    source: str
    year: int | None
    kind: str = "country"  # country | subnational | aggregate | paper
    alpha3: str = ""
    parent: str = ""  # alpha-2 of the country a sub-national region belongs to
    licence: str = ""


@dataclass(frozen=True)
class FabIntensity:
    """Grid intensity a fab draws on, from ACT's fab-location or energy-source table."""

    location: str
    table: str  # "2023" / "2022"; "" for an energy source (same in every table)
    intensity_g_per_kwh: float
    kind: str  # location | energy_source
    source: str
    year: int | None
    licence: str = ""


@dataclass(frozen=True)
class LogicFactors:
    """ACT per-area manufacturing factors of one logic node at one gas-abatement level."""

    node_nm: int
    abatement_pct: int
    epa_kwh_per_cm2: float  # fab electricity per area
    gpa_g_per_cm2: float  # direct fab gases per area, at abatement_pct
    mpa_g_per_cm2: float  # raw materials per area
    source: str
    note: str = ""


@dataclass(frozen=True)
class DramFactor:
    """ACT carbon per storage of one DRAM type."""

    dram_type: str
    cps_g_per_gb: float
    source: str
    year: int | None
    licence: str = ""


# --- loading --------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _rows(name: str) -> tuple[dict[str, str], ...]:
    if name not in TABLE_FILES:
        raise UnknownNameError(
            f"table: unknown table {name!r}; allowed: {', '.join(TABLE_FILES)}", field="table", value=name,
            suggestions=difflib.get_close_matches(name, list(TABLE_FILES)),
        )
    try:
        text = resources.files(__package__).joinpath("tables", name).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise CarbonDataError(f"carbon_data table {name}: cannot be read ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in TABLE_FILES[name] if c not in (reader.fieldnames or ())]
    if missing:
        raise CarbonDataError(f"carbon_data table {name}: missing columns {', '.join(missing)}")
    return tuple(reader)


def _number(name: str, row_no: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CarbonDataError(f"carbon_data table {name} row {row_no}: {column} = {text!r} is not a number") from None
    if value < 0:
        raise CarbonDataError(f"carbon_data table {name} row {row_no}: {column} = {value} is negative")
    return value


def _year(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


def _norm(text: str) -> str:
    return " ".join(str(text).replace("_", " ").split()).casefold()


def _suggest(query: str, choices: Mapping[str, str], n: int = 3) -> list[str]:
    """Display strings of the choices closest to query; choices maps normalised key -> display."""
    keys = difflib.get_close_matches(_norm(query), list(choices), n=n * 2, cutoff=0.6)
    seen: list[str] = []
    for key in keys:
        if choices[key] not in seen:
            seen.append(choices[key])
    return seen[:n]


def _unknown(field: str, value: object, what: str, suggestions: Sequence[str], allowed: str) -> UnknownNameError:
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    return UnknownNameError(
        f"{field}: unknown {what} {value!r}{hint} allowed: {allowed}", field=field, value=value, suggestions=suggestions,
    )


# --- grid intensity -------------------------------------------------------------------


@lru_cache(maxsize=None)
def _grid() -> tuple[tuple[GridIntensity, ...], dict[str, int], dict[str, str]]:
    name = "grid_intensity.csv"
    records: list[GridIntensity] = []
    index: dict[str, int] = {}
    display: dict[str, str] = {}
    names: list[tuple[int, str, int]] = []  # (priority, key, record index)
    for i, row in enumerate(_rows(name)):
        rec = GridIntensity(
            code=row["code"], name=row["name"],
            intensity_g_per_kwh=_number(name, i + 2, "intensity_g_per_kwh", row["intensity_g_per_kwh"]),
            source=row["source"], year=_year(row["year"]), kind=row["kind"], alpha3=row["alpha3"],
            parent=row["parent"], licence=row["licence"],
        )
        records.append(rec)
        label = f"{rec.name} ({rec.code})"
        for key in (rec.code, rec.alpha3):
            if key:
                k = _norm(key)
                if k in index and index[k] != i:
                    raise CarbonDataError(f"carbon_data table {name}: region code {key!r} appears twice")
                index[k] = i
                display[k] = label
        prio = _KIND_PRIORITY.get(rec.kind, 9)
        names.append((prio, _norm(rec.name), i))
        names.extend((prio, _norm(a), i) for a in row["aliases"].split(";") if a.strip())
    for _, key, i in sorted(names):  # codes first, then names; a country wins a shared name
        index.setdefault(key, i)
        display.setdefault(key, f"{records[i].name} ({records[i].code})")
    return tuple(records), index, display


def grid_intensity(region: str) -> GridIntensity:
    """Grid intensity of a country or region by ISO alpha-2 / alpha-3 code, region code, name or alias.

    Case-insensitive. A name shared by a country and a sub-national region (Georgia) means the
    country; use the region's code (US-GA) for the other.
    """
    records, index, display = _grid()
    key = _norm(region)
    if key in index:
        return records[index[key]]
    raise _unknown("region", region, "region", _suggest(region, display), "an ISO code (FR, FRA), a name (France) or a region code (US-CA); see list_regions()")


def region_codes(kind: str | None = None) -> list[str]:
    """Codes of every region in the grid table, optionally of one kind."""
    records, _, _ = _grid()
    return [r.code for r in records if kind is None or r.kind == kind]


def list_regions(kind: str | None = None) -> "pd.DataFrame":
    """The grid table (code, alpha3, name, kind, intensity_g_per_kwh, unit, source, year, licence, alternatives)."""
    frame = read_table("grid_intensity.csv")
    if kind is not None:
        kinds = sorted(set(frame["kind"]))
        if kind not in kinds:
            raise _unknown("kind", kind, "region kind", difflib.get_close_matches(kind, kinds), ", ".join(kinds))
        frame = frame[frame["kind"] == kind].reset_index(drop=True)
    return frame


# --- fab intensity --------------------------------------------------------------------


def _check_table(table: str | int) -> str:
    text = str(table).strip()
    if text not in FAB_TABLES:
        raise CarbonDataError(f"fab_table: unknown ACT fab table {table!r}; allowed: {', '.join(FAB_TABLES)}")
    return text


@lru_cache(maxsize=None)
def _fab() -> tuple[FabIntensity, ...]:
    name = "fab_intensity.csv"
    return tuple(
        FabIntensity(
            location=row["location"], table=row["table"],
            intensity_g_per_kwh=_number(name, i + 2, "intensity_g_per_kwh", row["intensity_g_per_kwh"]),
            kind=row["kind"], source=row["source"], year=_year(row["year"]), licence=row["licence"],
        )
        for i, row in enumerate(_rows(name))
    )


@lru_cache(maxsize=None)
def _fab_index(table: str) -> tuple[dict[str, FabIntensity], dict[str, str]]:
    aliases = {(r["location"], r["table"]): r["aliases"] for r in _rows("fab_intensity.csv")}
    index: dict[str, FabIntensity] = {}
    display: dict[str, str] = {}
    for rec in _fab():
        if rec.table not in (table, ""):
            continue
        for key in [rec.location, *aliases[(rec.location, rec.table)].split(";")]:
            if key.strip():
                index[_norm(key)] = rec
                display[_norm(key)] = rec.location
    return index, display


def fab_intensity(location: str, table: str | int = "2023") -> FabIntensity:
    """Grid intensity of a fab location (taiwan, usa, ...) from ACT's 2023 or 2022 table, or of an energy source (coal, ...)."""
    table = _check_table(table)
    index, display = _fab_index(table)
    key = _norm(location)
    if key in index:
        return index[key]
    elsewhere = [t for t in FAB_TABLES if t != table and key in _fab_index(t)[0]]
    if elsewhere:
        raise UnknownNameError(
            f"fab_location: {location!r} is not in ACT's {table} table; it is in the {', '.join(elsewhere)} table",
            field="fab_location", value=location,
        )
    raise _unknown("fab_location", location, "fab location", _suggest(location, display), ", ".join(fab_locations(table)))


def fab_locations(table: str | int = "2023") -> list[str]:
    """Fab locations of one ACT table followed by the energy sources."""
    table = _check_table(table)
    return [r.location for r in _fab() if r.table in (table, "")]


def list_fab_locations(table: str | int | None = None) -> "pd.DataFrame":
    """ACT fab-location and energy-source intensities, one row per (location, table)."""
    frame = read_table("fab_intensity.csv")
    if table is not None:
        table = _check_table(table)
        frame = frame[frame["table"].isin([table, ""])].reset_index(drop=True)
    return frame


# --- logic factors --------------------------------------------------------------------


def _parse_node(node_nm: object) -> float:
    text = str(node_nm).strip().casefold().removesuffix("nm").strip()
    try:
        value = float(text)
    except ValueError:
        raise CarbonDataError(f"node_nm: {node_nm!r} is not a node size in nm; allowed: {', '.join(map(str, node_values()))}") from None
    return value


@lru_cache(maxsize=None)
def _logic() -> dict[int, dict[str, tuple[float, str, str]]]:
    name = "logic_factors.csv"
    table: dict[int, dict[str, tuple[float, str, str]]] = {}
    for i, row in enumerate(_rows(name)):
        node = int(_number(name, i + 2, "node_nm", row["node_nm"]))
        if row["factor"] not in _LOGIC_FACTORS:
            raise CarbonDataError(f"carbon_data table {name} row {i + 2}: factor {row['factor']!r}; allowed: {', '.join(_LOGIC_FACTORS)}")
        table.setdefault(node, {})[row["factor"]] = (_number(name, i + 2, "value", row["value"]), row["source"], row["note"])
    for node, factors in table.items():
        missing = [f for f in _LOGIC_FACTORS if f not in factors]
        if missing:
            raise CarbonDataError(f"carbon_data table {name}: node {node} nm lacks {', '.join(missing)}")
    return table


def node_values() -> list[int]:
    """Process nodes (nm) with ACT logic factors, largest first."""
    return sorted(_logic(), reverse=True)


def logic_factors(node_nm: int | float | str, abatement: int = 95) -> LogicFactors:
    """ACT EPA / GPA / MPA of one node; abatement is the fab's gas abatement in percent (95 or 99)."""
    if abatement not in ABATEMENTS:
        raise CarbonDataError(f"abatement: {abatement!r} is not an ACT abatement level; allowed: {', '.join(map(str, ABATEMENTS))}")
    value = _parse_node(node_nm)
    table = _logic()
    if value != int(value) or int(value) not in table:
        nearest = sorted(table, key=lambda n: (abs(n - value), n))[:2]
        raise UnknownNameError(
            f"node_nm: no ACT logic factors for {node_nm!r} nm; nearest: {', '.join(map(str, sorted(nearest)))}; "
            f"allowed: {', '.join(map(str, node_values()))}",
            field="node_nm", value=node_nm, suggestions=[str(n) for n in sorted(nearest)],
        )
    node = int(value)
    row = table[node]
    gpa = row[f"gpa_{abatement}"]
    return LogicFactors(
        node_nm=node, abatement_pct=int(abatement), epa_kwh_per_cm2=row["epa"][0], gpa_g_per_cm2=gpa[0],
        mpa_g_per_cm2=row["mpa"][0], source=gpa[1], note=gpa[2],
    )


def list_nodes() -> "pd.DataFrame":
    """One row per node: epa_kwh_per_cm2, gpa_95_g_per_cm2, gpa_99_g_per_cm2, mpa_g_per_cm2, source, note."""
    import pandas as pd

    table = _logic()
    units = {"epa": "kwh_per_cm2", "gpa_95": "g_per_cm2", "gpa_99": "g_per_cm2", "mpa": "g_per_cm2"}
    records = [
        {
            "node_nm": node,
            **{f"{f}_{units[f]}": table[node][f][0] for f in _LOGIC_FACTORS},
            "source": table[node]["epa"][1],
            "note": table[node]["epa"][2],
        }
        for node in node_values()
    ]
    return pd.DataFrame.from_records(records)


# --- DRAM -----------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _dram() -> dict[str, DramFactor]:
    name = "dram_factors.csv"
    return {
        _norm(row["dram_type"]): DramFactor(
            dram_type=row["dram_type"], cps_g_per_gb=_number(name, i + 2, "cps_g_per_gb", row["cps_g_per_gb"]),
            source=row["source"], year=_year(row["year"]), licence=row["licence"],
        )
        for i, row in enumerate(_rows(name))
    }


def dram_types() -> list[str]:
    """DRAM types with an ACT carbon-per-storage factor."""
    return [d.dram_type for d in _dram().values()]


def dram_factor(dram_type: str) -> DramFactor:
    """ACT carbon per GB (CPS) of one DRAM type, e.g. lpddr3_20nm."""
    table = _dram()
    key = _norm(dram_type)
    if key in table:
        return table[key]
    choices = {k: v.dram_type for k, v in table.items()}
    raise _unknown("dram_type", dram_type, "DRAM type", _suggest(dram_type, choices), ", ".join(dram_types()))


def list_dram_types() -> "pd.DataFrame":
    """The DRAM table (dram_type, cps_g_per_gb, unit, source, year, licence)."""
    return read_table("dram_factors.csv")


# --- raw tables -----------------------------------------------------------------------


def read_table(name: str) -> "pd.DataFrame":
    """One shipped table as a DataFrame; numeric columns as floats, missing text as ''."""
    import pandas as pd

    frame = pd.DataFrame.from_records(list(_rows(name)), columns=list(_columns(name)))
    for column in frame.columns:
        if column.endswith(("_g_per_kwh", "_g_per_gb")) or column == "value":
            frame[column] = pd.to_numeric(frame[column].replace("", None), errors="raise").astype(float)
        elif column in ("node_nm", "year", "alt_year"):
            frame[column] = pd.to_numeric(frame[column].replace("", None), errors="raise").astype("Int64")
    return frame


def _columns(name: str) -> Iterable[str]:
    rows = _rows(name)
    return list(rows[0].keys()) if rows else list(TABLE_FILES[name])
