"""Safe result files: atomic writes that never clobber what is not a regular file, and validated read-back."""

from __future__ import annotations

import contextlib
import contextvars
import csv
import errno
import io
import json
import math
import os
import stat
import tempfile
from typing import Any, Iterator

import numpy as np

from .errors import DataError, OutputError

__all__ = [
    "atomic_write_text",
    "atomic_write_bytes",
    "atomic_write_json",
    "json_text",
    "csv_text",
    "finite_json",
    "read_json",
    "read_text",
    "follow_symlinks",
    "check_output_path",
    "TMP_PREFIX",
]

TMP_PREFIX = ".tmp-"  # every temporary file a write leaves behind if killed; a resumed run removes them

_FOLLOW = contextvars.ContextVar("catransformers_follow_symlinks", default=False)

# errno values that mean "the place is full or not writable": one line for the user, not a traceback
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


@contextlib.contextmanager
def follow_symlinks(enabled: bool = True) -> Iterator[None]:
    """Within the block, an output path that is a symbolic link writes to the link's target
    (by default a link is refused: a results path should not redirect a write elsewhere)."""
    token = _FOLLOW.set(enabled)
    try:
        yield
    finally:
        _FOLLOW.reset(token)


def check_output_path(path: str) -> tuple[str, int | None]:
    """The real path to write and the mode to keep (None for a new file), or OutputError.

    Refused: a path that exists but is not a regular file (a device, a FIFO, a folder), and a
    symbolic link unless `follow_symlinks()` is on.
    """
    if not path:
        raise OutputError("output path: empty; give a file name")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return path, None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        if not _FOLLOW.get():
            raise OutputError(f"cannot write {path}: it is a symbolic link; allowed: a regular file or a new path (or --follow-symlinks to write to its target)")
        target = os.path.realpath(path)
        if os.path.islink(target):  # a dangling or looping link
            raise OutputError(f"cannot write {path}: the symbolic link does not resolve to a file")
        return check_output_path(target)
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (a device, FIFO or socket)"
        raise OutputError(f"cannot write {path}: it is {kind}; allowed: a regular file or a new path")
    return path, stat.S_IMODE(st.st_mode)


def _os_error(path: str, exc: OSError) -> OutputError:
    if exc.errno in _NO_SPACE:
        return OutputError(f"cannot write {path}: no space left on the device; free some space and run again")
    if exc.errno in _READ_ONLY:
        return OutputError(f"cannot write {path}: the folder is read-only or not writable ({exc.strerror}); allowed: a writable path")
    return OutputError(f"cannot write {path}: {exc.strerror or exc}")


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old or the new content, never half.

    The file keeps the mode it had (a new one gets 0666 less the umask); a path that is not a
    regular file, or a symbolic link, is refused (see `check_output_path`). Full or read-only
    disks raise OutputError with one line; no temporary file is left behind.
    """
    real, mode = check_output_path(path)
    folder = os.path.dirname(os.path.abspath(real))
    tmp = None
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=TMP_PREFIX, suffix="-" + os.path.basename(real))
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())  # mkstemp makes 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, real)
        tmp = None
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise _os_error(path, exc) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _csv_cells(column: Any) -> list | None:
    """The cells of one pandas column as `DataFrame.to_csv` writes them, or None for a dtype left to pandas."""
    dtype = column.dtype
    if str(dtype).startswith(("str", "string")) or dtype == object:
        na = column.isna().tolist()
        return ["" if missing else str(v) for v, missing in zip(column.tolist(), na)]
    if not isinstance(dtype, np.dtype):
        if getattr(dtype, "kind", "") not in "iub" or not str(dtype).startswith(("Int", "UInt", "boolean")):
            return None  # other extension dtypes (categories, dates, nullable floats): pandas' own rules
        # Nullable integers and booleans: their values as numpy's, missing ones empty.
        na = column.isna().tolist()
        values = column.tolist()
        if dtype.kind == "b":
            return ["" if missing else ("True" if v else "False") for v, missing in zip(values, na)]
        return ["" if missing else v for v, missing in zip(values, na)]
    kind = dtype.kind
    if kind in "iu":
        return column.tolist()
    if kind == "b":
        return ["True" if v else "False" for v in column.tolist()]
    if dtype == np.float64:  # (float32 prints shorter in pandas than its float64 value)
        values = column.tolist()  # Python floats: str() is the shortest round-trip text, as numpy's
        if column.isna().any():
            values = ["" if v != v else v for v in values]
        return values
    return None


def csv_text(frame: Any) -> str:
    """`frame.to_csv(index=False)`, the same text, about twice as fast for the numeric columns of results.

    pandas formats every cell through its own native-type conversion before Python's csv
    writer; numbers converted once with `tolist` give the same text (ints and bools as pandas
    writes them, floats as their shortest round-trip repr, missing values empty). A frame with
    another dtype (dates, categories) or a non-default index is left to pandas.
    """
    columns = [_csv_cells(frame[c]) for c in frame.columns] if frame.columns.is_unique else [None]
    if any(c is None for c in columns):
        return frame.to_csv(index=False)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([str(c) for c in frame.columns])
    writer.writerows(zip(*columns))
    return out.getvalue()


def finite_json(obj: Any) -> Any:
    """`obj` with every non-finite float as None (JSON has no inf or NaN: `null` means none/no limit)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    return obj


def json_text(obj: Any, indent: int | None = 2) -> str:
    """Strict JSON text: numpy values converted, inf/NaN written as null (never bare Infinity)."""
    return json.dumps(finite_json(_plain(obj)), indent=indent, allow_nan=False)


def atomic_write_json(path: str, obj: Any) -> None:
    atomic_write_text(path, json_text(obj) + "\n")


def _plain(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, dict) or hasattr(obj, "items"):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def read_text(path: str, what: str) -> str:
    """A UTF-8 file's text, or DataError naming `what`, the path and the problem."""
    from catransformers_errors.files import decode_utf8, read_bytes

    return decode_utf8(read_bytes(path, what, DataError), f"{what}: file {path!r}", DataError)


def read_json(path: str, what: str) -> Any:
    """A JSON file read back: UTF-8, strict JSON (no NaN/Infinity), or DataError in one line."""

    def _no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    text = read_text(path, what)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise DataError(f"{what}: {path!r} nests too deeply") from None
    except ValueError as exc:
        raise DataError(f"{what}: {path!r} is not valid JSON ({exc})") from None
