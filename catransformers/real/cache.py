"""Torch-free hashing and an on-disk JSON store with atomic writes, for resumable measurements."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

__all__ = ["stable_hash", "file_sha256", "JsonStore"]

logger = logging.getLogger(__name__)


def stable_hash(obj: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of `obj` (sorted keys; non-JSON values via str())."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


class JsonStore:
    """One JSON file per key in a folder; writes are atomic (temp file + rename), so a crash leaves no half file."""

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored record, or None if absent or unreadable (an unreadable file is logged and ignored)."""
        p = self.path(key)
        try:
            with open(p, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            logger.warning("cache file %s is unreadable (%s); measuring again", p, exc)
            return None
        return data if isinstance(data, dict) else None

    def put(self, key: str, record: Mapping[str, Any]) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        p = self.path(key)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, indent=1, sort_keys=True, default=_jsonable)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, p)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return p


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    return str(value)
