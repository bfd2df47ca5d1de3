"""Fuzz tier: generated inputs over every subcommand, flag and input-file kind (strategies in _fuzz_cli).

Each case runs `catransformers.cli.main` in-process in a fresh folder and must exit 0 or 2,
print exactly one error line on exit 2 (warnings aside), never a traceback, accept no known
nonsense, and write no inf/NaN into any CSV or JSON it produces (nor into stdout).
A fast slice runs by default; `-m slow` runs a larger budget.
"""

import pytest
from hypothesis import HealthCheck, given, settings

from _fuzz_cli import CATEGORIES, run_case

FAST = {"evaluate": 8, "sweep": 3, "search": 4, "compare": 2, "plot": 8, "data": 2}
SLOW = 150
_SETTINGS = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _check(case):
    outcome = run_case(case)
    assert outcome.problems == [], (case.argv, case.files, outcome.stderr[-2000:], outcome.traceback[-3000:])


@pytest.mark.parametrize("category", sorted(FAST))
def test_fuzz_fast(category):
    @settings(max_examples=FAST[category], **_SETTINGS)
    @given(CATEGORIES[category])
    def one(case):
        _check(case)

    one()


@pytest.mark.slow
@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_fuzz_slow(category):
    @settings(max_examples=SLOW, **_SETTINGS)
    @given(CATEGORIES[category])
    def one(case):
        _check(case)

    one()
