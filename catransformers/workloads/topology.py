"""GEMM workloads from SCALE-Sim-style topology CSV files: rows of name, M, K, N[, batch]."""

from __future__ import annotations

import csv

from hw_models import Gemm, Workload

from ..errors import ConfigError

__all__ = ["load_topology"]

_FIELDS = ("M", "K", "N", "batch")


def load_topology(path: str) -> Workload:
    """Read a topology CSV; a first row whose numeric columns are not numbers is a header."""
    try:
        with open(path, newline="") as fh:
            rows = [r for r in csv.reader(fh)]
    except OSError as exc:
        raise ConfigError(f"workload file {path!r}: {exc.strerror}") from None
    rows = [[c.strip() for c in r if c.strip() != ""] for r in rows]
    numbered = [(i + 1, r) for i, r in enumerate(rows) if r and not r[0].startswith("#")]
    if numbered and not _is_number(numbered[0][1][1] if len(numbered[0][1]) > 1 else ""):
        numbered = numbered[1:]  # header
    if not numbered:
        raise ConfigError(f"workload file {path!r}: no GEMM rows; expected rows of name, M, K, N[, batch]")
    ops = []
    seen: set[str] = set()
    for line, row in numbered:
        if len(row) not in (4, 5):
            raise ConfigError(
                f"workload file {path!r} line {line}: {len(row)} columns; expected name, M, K, N[, batch]"
            )
        name = row[0]
        if name in seen:
            raise ConfigError(f"workload file {path!r} line {line}: name {name!r} repeats; names must be unique")
        seen.add(name)
        dims = {}
        for field, text in zip(_FIELDS, row[1:]):
            if not text.isdigit() or int(text) < 1:
                raise ConfigError(
                    f"workload file {path!r} line {line}: {field}={text!r} is not allowed; must be a positive whole number"
                )
            dims[field] = int(text)
        ops.append(Gemm(name, m=dims["M"], k=dims["K"], n=dims["N"], batch=dims.get("batch", 1), group="topology"))
    return Workload(tuple(ops), name=path.rsplit("/", 1)[-1])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
