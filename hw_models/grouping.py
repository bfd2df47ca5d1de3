"""Vectorisation helpers shared by the hw_models levels: integer codes, deduplication, float ceil-division."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .errors import HardwareError

__all__ = ["ceil_div", "dense", "codes_any", "combine", "representatives", "per_distinct", "full", "batch_length", "pick_rows", "FieldCodes", "MAX_DENSE_SPAN"]

MAX_DENSE_SPAN = 1 << 16  # value range up to which integer codes are built with a lookup table

# Arithmetic is float64 throughout the models: every count stays far below 2**53, where float64
# is exact for integers, and ceil(a / b) in float64 equals integer ceil-division (it is also 3x
# faster than int64 floor division in numpy).


def ceil_div(a: Any, b: Any) -> Any:
    q = np.divide(a, b)
    return np.ceil(q, out=q) if isinstance(q, np.ndarray) else np.ceil(q)


def dense(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0..U-1 for the values of an integer array (a lookup table when the range is small)."""
    if x.size == 1:
        return np.zeros(1, np.int64), 1
    lo, hi = int(x.min()), int(x.max())
    if lo == hi:
        return np.zeros(1, np.int64), 1
    span = hi - lo + 1
    shifted = x - lo
    if span > MAX_DENSE_SPAN and x.dtype.kind in "iu":
        # Spread-out values often share a factor (buffer sizes in words, tokens x FFN blocks):
        # the ranks of (x - lo) / gcd are the ranks of x, from a much smaller table.
        step = int(np.gcd.reduce(shifted))
        if step > 1:
            shifted //= step
            span = (hi - lo) // step + 1
    if span <= max(MAX_DENSE_SPAN, 4 * x.size):
        present = np.zeros(span, np.int64)
        present[shifted] = 1
        table = np.cumsum(present) - 1
        return table[shifted], int(table[-1]) + 1
    uniq, inv = np.unique(x, return_inverse=True)
    return inv.astype(np.int64).ravel(), len(uniq)


def combine(parts: Sequence[tuple[np.ndarray, int]], n: int) -> tuple[np.ndarray, int]:
    """Codes of the row-wise tuple of coded columns; not necessarily dense while the range stays small."""
    parts = [p for p in parts if p[1] > 1]
    if not parts:
        return np.zeros(1, np.int64), 1
    codes, count = parts[0]
    for c, u in parts[1:]:
        codes = codes * u + c
        count *= u
        # A sparse code range costs unused slots at the unique level; keep it below n.
        if count > min(MAX_DENSE_SPAN, max(n, 1)):
            codes, count = dense(codes)
    return codes, count


_ARANGE = np.arange(0)


def representatives(codes: np.ndarray, count: int) -> np.ndarray:
    """One row index per code (the last row with that code)."""
    global _ARANGE
    if _ARANGE.size < codes.size:
        _ARANGE = np.arange(codes.size)  # kept: the same lengths recur call after call
    rep = np.zeros(count, np.intp)
    rep[codes] = _ARANGE[: codes.size]
    return rep


def pick_rows(pick: np.ndarray) -> np.ndarray:
    """Flat indices of a[pick[j], j] in a C-contiguous (rows, len(pick)) array: take_along_axis without its overhead."""
    global _ARANGE
    if _ARANGE.size < pick.size:
        _ARANGE = np.arange(pick.size)
    flat = pick * pick.size
    flat += _ARANGE[: pick.size]
    return flat


class FieldCodes:
    """dense() of the integer fields of one object (an evaluation's hardware batch), each computed once."""

    __slots__ = ("_obj", "_codes")

    def __init__(self, obj: Any) -> None:
        self._obj, self._codes = obj, {}

    def __call__(self, name: str) -> tuple[np.ndarray, int]:
        hit = self._codes.get(name)
        if hit is None:
            hit = self._codes[name] = dense(getattr(self._obj, name))
        return hit

    def per_distinct(self, fn: Callable[..., Any], *names: str) -> Any:
        """per_distinct of fn over the named fields, from their codes."""
        return per_distinct(fn, *(getattr(self._obj, name) for name in names), codes=[self(name) for name in names])


def per_distinct(fn: Callable[..., Any], *fields: np.ndarray, codes: Sequence[tuple[np.ndarray, int]] | None = None) -> Any:
    """fn(*fields) for every row, evaluated once per distinct row of the (integer) fields (fn may return a tuple).

    `codes`: the fields' dense codes where the caller has them already."""
    n = len(fields[0])
    codes, count = combine(list(codes) if codes is not None else [dense(f) for f in fields], n)
    if count >= n:
        return fn(*fields)
    rep = representatives(codes, count)
    values = fn(*(f.take(rep) for f in fields))
    back = lambda v: v.take(codes) if codes.size == n else np.repeat(v, n)  # noqa: E731
    return tuple(back(v) for v in values) if isinstance(values, tuple) else back(values)


def full(a: Any, n: int) -> np.ndarray:
    """`a` as a float64 array of length n (no copy when it already is one)."""
    a = np.asarray(a, np.float64)
    return a if a.shape == (n,) else np.broadcast_to(a, (n,)).copy()


def batch_length(n_h: int, n_w: int) -> int:
    if n_h != n_w and 1 not in (n_h, n_w):
        raise HardwareError(f"workload: {n_w} designs do not broadcast against {n_h} hardware configurations; need equal lengths or one of them 1")
    return max(n_h, n_w)


def codes_any(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0..U-1 for the values of any array (integers: `dense`; floats and strings: sorted unique)."""
    if x.size == 1:
        return np.zeros(1, np.int64), 1
    if x.dtype.kind in "iub":
        return dense(x.astype(np.int64))
    if x.dtype.kind == "f" and x.min() == x.max():
        return np.zeros(1, np.int64), 1  # one value (a batch with one DRAM): no sort
    uniq, inv = np.unique(x, return_inverse=True)
    return inv.astype(np.int64).ravel(), len(uniq)
