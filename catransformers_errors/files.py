"""Reading a user's TOML file with every failure as one project error: missing, unreadable, not UTF-8, not TOML, too deep."""

from __future__ import annotations

import tomllib
from typing import Any

from . import CATransformersError

__all__ = ["read_toml", "read_bytes", "decode_utf8", "MAX_BYTES"]

MAX_BYTES = 16 * 2**20  # a spec, model, hardware or scenario file is a few KiB; refuse anything absurd


def decode_utf8(data: bytes, what: str, error: type[CATransformersError]) -> str:
    """`data` as text, or `error` naming the line and byte that are not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(f"{what}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); allowed: a UTF-8 text file") from None


def read_bytes(path: str, what: str, error: type[CATransformersError]) -> bytes:
    """A user's input file (at most MAX_BYTES); missing, a folder, unreadable or huge is `error`, one line."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise error(f"{what}: file {path!r} does not exist") from None
    except IsADirectoryError:
        raise error(f"{what}: {path!r} is a folder; allowed: a file") from None
    except OSError as exc:
        raise error(f"{what}: file {path!r} cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:
        raise error(f"{what}: file {path!r} is over {MAX_BYTES // 2**20} MiB; allowed: a smaller file")
    return data


def read_toml(path: str, what: str, error: type[CATransformersError]) -> dict[str, Any]:
    """The TOML document at `path`; any failure is `error` with one line naming `what` and the path."""
    text = decode_utf8(read_bytes(path, what, error), f"{what}: file {path!r}", error)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what}: file {path!r} is not valid TOML ({exc})") from None
    except RecursionError:
        raise error(f"{what}: file {path!r} nests arrays or tables too deeply; allowed: a TOML file of plain tables") from None
