"""Errors of the carbon tables: unknown names are KeyError *and* ValueError, bad values ValueError."""

from __future__ import annotations

from typing import Sequence

from catransformers_errors import CATransformersError

__all__ = ["CarbonDataError", "UnknownNameError"]


class CarbonDataError(CATransformersError, ValueError):
    """A bad argument to a lookup (e.g. abatement 90) or a malformed shipped table."""


class UnknownNameError(CarbonDataError, KeyError):
    """A name not in a table (region, fab location, node, DRAM type).

    Derives from KeyError (it is a failed lookup) and, through CarbonDataError, from
    ValueError (it is bad user input), so either `except` clause catches it.
    `field`, `value` and `suggestions` let a caller rephrase the message.
    """

    def __init__(self, message: str, *, field: str = "", value: object = None, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.suggestions = tuple(suggestions)

    def __str__(self) -> str:  # KeyError would repr() the message; keep it one plain line
        return str(self.args[0]) if self.args else ""
