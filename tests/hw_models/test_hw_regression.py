"""Speed work must not change results: every output field against values of the code before it."""

from __future__ import annotations

import numpy as np
import pytest
from _regression_cases import EXPECTED, PROFILES, all_outputs, unpack

RTOL = 1e-9
# Costing every case takes minutes (1.3 M values over both profiles): the full suite runs it, the fast tier not.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def expected() -> dict[str, np.ndarray]:
    with np.load(EXPECTED, allow_pickle=False) as data:
        return unpack({k: data[k] for k in ("keys", "offsets", "values")})


@pytest.fixture(scope="module")
def computed() -> dict[str, dict[str, np.ndarray]]:
    return dict(all_outputs())


def _group(name: str) -> str:
    profile, kind = name.split("/")[:2]
    return f"{profile}/{kind}"


GROUPS = [f"{p}/{k}" for p in PROFILES for k in ("grid", "grid-mixed", "pairs", "settings", "detail")]


@pytest.mark.parametrize("group", GROUPS)
def test_every_field_matches_the_stored_values(group: str, expected, computed) -> None:
    names = [n for n in computed if _group(n) == group]
    assert names, group
    checked = 0
    for name in names:
        for field, value in computed[name].items():
            key = f"{name}:{field}"
            assert key in expected, f"{key}: no stored value (regenerate with tests/hw_models/_regression_cases.py --write)"
            want = expected[key]
            got = np.asarray(value, np.float64).ravel()
            assert got.shape == want.shape, key
            bad = ~np.isclose(got, want, rtol=RTOL, atol=0.0) & ~((got == want) | (np.isnan(got) & np.isnan(want)))
            if bad.any():
                i = int(np.argmax(bad))
                pytest.fail(f"{key}: {int(bad.sum())} of {got.size} differ, first at [{i}]: {got[i]!r} != {want[i]!r}")
            checked += got.size
    assert checked > 0


def test_nothing_stored_is_left_unchecked(expected, computed) -> None:
    keys = {f"{name}:{field}" for name, values in computed.items() for field in values}
    assert set(expected) == keys


@pytest.mark.parametrize("path", ["direct", "pair-rows"])
def test_every_code_path_matches_the_stored_values(path: str, expected, monkeypatch) -> None:
    """The same values with the L2-port split off (direct), or chosen on (problem, port) pairs only."""
    import hw_models.gemm as mapping
    import hw_models.pe as pe
    from _regression_cases import cases, outputs

    if path == "direct":
        monkeypatch.setattr(pe, "_MIN_SPLIT", 10**12)
    else:
        monkeypatch.setattr(pe, "_MIN_SPLIT", 0)
        monkeypatch.setattr(pe, "_MAX_SPLIT_WASTE", 0.0)
    monkeypatch.setattr(mapping, "_CHUNK", 1000)  # design-level work in several chunks, op by op
    monkeypatch.setattr(mapping, "_WHOLE_GROUP", 0)
    checked = 0
    for name, wl, hw, profile, per_op in cases():
        if _group(name) not in ("reference/grid-mixed", "reference/pairs", "catransformers-code/pairs"):
            continue
        for field, value in outputs(wl, hw, profile, per_op).items():
            want = expected[f"{name}:{field}"]
            assert np.allclose(np.asarray(value).ravel(), want, rtol=RTOL, atol=0.0), f"{name}:{field} ({path})"
            checked += 1
    assert checked > 0
