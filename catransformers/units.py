"""Unit conversions, in one place. Names carry units: `_j`, `_kwh`, `_g`, `_kg`, `_um2`, `_mm2`, `_cm2`."""

__all__ = [
    "J_PER_KWH",
    "UM2_PER_MM2",
    "UM2_PER_CM2",
    "G_PER_KG",
    "SECONDS_PER_HOUR",
    "HOURS_PER_DAY",
    "DAYS_PER_YEAR",
    "MS_PER_S",
    "MJ_PER_J",
    "PER_MILLION",
    "PER_BILLION",
    "j_to_kwh",
    "um2_to_mm2",
    "um2_to_cm2",
    "g_to_kg",
]

J_PER_KWH = 3.6e6  # 1 kWh = 3.6 MJ
UM2_PER_MM2 = 1e6
UM2_PER_CM2 = 1e8
G_PER_KG = 1e3
SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.0
MS_PER_S = 1e3  # display: seconds -> milliseconds
MJ_PER_J = 1e3  # display: joules -> millijoules
PER_MILLION = 1e-6  # display: counts -> millions (parameters)
PER_BILLION = 1e-9  # display: counts -> billions (GMAC)  # ACT and the CATransformers paper use 365-day years


def j_to_kwh(energy_j):
    return energy_j / J_PER_KWH


def um2_to_mm2(area_um2):
    return area_um2 / UM2_PER_MM2


def um2_to_cm2(area_um2):
    return area_um2 / UM2_PER_CM2


def g_to_kg(mass_g):
    return mass_g / G_PER_KG
