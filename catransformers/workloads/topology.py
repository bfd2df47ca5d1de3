"""GEMM workloads from topology CSV files: columns by header name (ours `name,M,K,N[,batch]`, SCALE-Sim's `Layer, M, N, K`)."""

from __future__ import annotations

import csv
import io

from hw_models import Gemm, Workload

from ..errors import ConfigError

__all__ = ["load_topology", "HEADER_NAMES", "MAX_GEMM_DIM"]

# Header cell (case-insensitive, spaces ignored) -> column. "layer" and "layer name" are
# SCALE-Sim's names for the first column (its GEMM topology files: `Layer, M, N, K,`).
HEADER_NAMES: dict[str, str] = {"name": "name", "layer": "name", "layername": "name", "m": "M", "k": "K", "n": "N", "batch": "batch"}
_POSITIONAL = ("name", "M", "K", "N", "batch")  # a file without a header: our order
_REQUIRED = ("name", "M", "K", "N")
MAX_GEMM_DIM = 2**31 - 1  # the largest dimension a row may give (an int32 index; far above any model)
_ALLOWED = "a header naming name (or Layer), M, K, N and optionally batch, in any order; or rows of name, M, K, N[, batch]"


def load_topology(path: str) -> Workload:
    """Read a topology CSV into GEMMs. The first row is a header when every cell of it is a
    known column name; otherwise every row is `name, M, K, N[, batch]`. Every cell counts
    (an empty one is an error, not skipped); a trailing comma (SCALE-Sim writes one) is
    ignored where it adds a cell beyond the columns, so `g0,1,1,1,` under `name,M,K,N,batch`
    is an empty batch (an error) and under `Layer, M, N, K,` a trailing comma; `#` starts a
    comment row. Any bad row is an error naming its line."""
    from catransformers_errors.files import decode_utf8, read_bytes

    where = f"workload file {path!r}"
    text = decode_utf8(read_bytes(path, "workload file", ConfigError), where, ConfigError).removeprefix("\ufeff")
    rows = _rows(text, where)
    if not rows:
        raise ConfigError(f"{where}: no GEMM rows; allowed: {_ALLOWED}")
    line, first = rows[0]
    columns = _header(first, f"{where} line {line}")
    if columns is not None:
        rows = rows[1:]
        if not rows:
            raise ConfigError(f"{where}: a header and no GEMM rows; allowed: {_ALLOWED}")
    else:  # no header: every row, the first included, is name, M, K, N[, batch] (and is checked as one)
        columns = list(_POSITIONAL)
    ops = []
    seen: set[str] = set()
    for line, row in rows:
        while len(row) > len(columns) and row[-1] == "":
            row = row[:-1]  # a trailing comma (SCALE-Sim's files end each row with one)
        # batch, when it is the last column, may be left off a row (batch 1); nothing else may
        optional = 1 if columns[-1] == "batch" else 0
        if not len(columns) - optional <= len(row) <= len(columns):
            raise ConfigError(f"{where} line {line}: {len(row)} columns for {', '.join(columns)}; allowed: one cell per column{' (batch may be left off)' if optional else ''}")
        cells = dict(zip(columns, row))
        name = cells["name"]
        if not name:
            raise ConfigError(f"{where} line {line}: the name cell is empty; allowed: a unique name per row")
        if name in seen:
            raise ConfigError(f"{where} line {line}: name {name!r} repeats; allowed: a unique name per row")
        seen.add(name)
        dims = {c: _dim(where, line, c, v) for c, v in cells.items() if c != "name"}
        ops.append(Gemm(name, m=dims["M"], k=dims["K"], n=dims["N"], batch=dims.get("batch", 1), group="topology"))
    return Workload(tuple(ops), name=path.rsplit("/", 1)[-1])


def _rows(text: str, where: str) -> list[tuple[int, list[str]]]:
    """(line number, stripped cells) of every non-blank, non-comment row (empty cells kept)."""
    out = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            cells = [c.strip() for c in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            out.append((reader.line_num, cells))
    except csv.Error as exc:
        raise ConfigError(f"{where} line {reader.line_num}: not CSV ({exc}); allowed: {_ALLOWED}") from None
    return out


def _header(cells: list[str], where: str) -> list[str] | None:
    """The columns a header row names, or None when the row is not a header."""
    while cells and cells[-1] == "":
        cells = cells[:-1]  # a header's trailing comma names no column
    keys = [c.replace(" ", "").replace("_", "").casefold() for c in cells]
    if not all(k in HEADER_NAMES for k in keys):
        if any(k in HEADER_NAMES for k in keys) and not _looks_like_row(cells):
            unknown = next(c for c, k in zip(cells, keys) if k not in HEADER_NAMES)
            raise ConfigError(f"{where}: header column {unknown!r} is unknown; allowed: {_ALLOWED}")
        return None
    columns = [HEADER_NAMES[k] for k in keys]
    for c in columns:
        if columns.count(c) > 1:
            raise ConfigError(f"{where}: header column {c} appears twice; allowed: each column once")
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise ConfigError(f"{where}: header column(s) {', '.join(missing)} missing; allowed: {_ALLOWED}")
    return columns


def _looks_like_row(cells: list[str]) -> bool:
    return len(cells) > 1 and all(c.isdigit() for c in cells[1:])


def _dim(where: str, line: int, column: str, text: str) -> int:
    if not text:
        raise ConfigError(f"{where} line {line}: {column} is empty; allowed: a whole number from 1 to {MAX_GEMM_DIM:,}")
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_GEMM_DIM:
        raise ConfigError(f"{where} line {line}: {column}={text!r} is not allowed; allowed: a whole number from 1 to {MAX_GEMM_DIM:,}")
    return int(text)
