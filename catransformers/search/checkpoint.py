"""Search checkpoints as data: an append-only log of npz row chunks plus a JSON state with content hashes."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import shutil
import socket
import struct
import time
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from ..errors import DataError
from ..io import TMP_PREFIX, json_text

__all__ = ["Checkpoint", "CHECKPOINT_DIR", "FORMAT", "RunLock", "LOCK_FILE", "spec_hash", "clean_temporaries"]

CHECKPOINT_DIR = "checkpoint"
FORMAT = 2  # 1 was pickles (refused); 2: rows.log of npz records + state.json
LOCK_FILE = ".lock"
_LEN = struct.Struct("<Q")
_MAX_RECORD = 2**31  # a generation's chunk is KiB to MiB; a length above this is damage
_STATE_KEYS = {
    "format": int, "spec_sha256": str, "resume_key": dict, "generation": int, "hypervolume": list, "cache_hits": int,
    "accuracy_metric": (str, type(None)), "stopped": (str, type(None)), "timings": dict, "n_chunks": int,
    "log_size": int, "chunk_sha256": list, "content_sha256": str,
}


def _canonical(obj: Any) -> bytes:
    return json_text(obj, indent=None).encode("utf-8")


def spec_hash(resume_key: Mapping[str, Any]) -> str:
    """sha256 of the run's spec as canonical JSON (the key a checkpoint must match to be resumed)."""
    return hashlib.sha256(json.dumps(json.loads(_canonical(resume_key)), sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _content_hash(state: Mapping[str, Any]) -> str:
    body = {k: v for k, v in state.items() if k != "content_sha256"}
    return hashlib.sha256(json.dumps(json.loads(_canonical(body)), sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class Checkpoint:
    """`DIR/checkpoint/`: `rows.log` (length-prefixed npz records, one per archive chunk) and
    `state.json` (generation, hypervolume, counters, the log length and each record's sha256,
    the spec's hash, and a sha256 over the state itself); saved by the runner at most every
    `runner.CHECKPOINT_EVERY_S`, after the last generation and when a run is interrupted.

    Nothing in it is code: resuming reads arrays (np.load without pickle) and JSON, checks every
    hash and the spec, and rebuilds the algorithm by replaying the generations from the seed
    with the stored rows (see runner.py): a damaged or foreign checkpoint is refused, one line.
    The state is written after the log, so a kill at any moment leaves a state whose log prefix
    is complete. Writes are not fsynced (they must stay cheap next to a generation): they survive a
    killed process, not a power cut; the results files go through catransformers.io (fsynced).
    """

    def __init__(self, out_dir: str) -> None:
        self.dir = os.path.join(out_dir, CHECKPOINT_DIR)
        self.log_path = os.path.join(self.dir, "rows.log")
        self.state_path = os.path.join(self.dir, "state.json")
        self.saved_chunks = 0
        self.chunk_sha256: list[str] = []
        self.log_size = 0  # bytes of rows.log the last state written (or loaded) covers

    def exists(self) -> bool:
        return os.path.lexists(self.state_path) or os.path.lexists(os.path.join(self.dir, "state.pkl"))

    def clear(self) -> None:
        if os.path.islink(self.dir):
            os.unlink(self.dir)
        elif os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        self.saved_chunks = 0
        self.chunk_sha256 = []
        self.log_size = 0

    def save(self, chunks: Sequence[Mapping[str, np.ndarray]], state: dict[str, Any], keep: Sequence[str]) -> None:
        """Append the chunks not yet saved (only the `keep` arrays), then replace the state.

        Nothing is recorded as saved until the state is replaced, so a save cut short (Ctrl-C,
        a full disk) can be repeated: the next one first drops the partial records it left."""
        os.makedirs(self.dir, exist_ok=True)
        hashes = list(self.chunk_sha256)
        with open(self.log_path, "r+b" if self.log_size and os.path.isfile(self.log_path) else "wb") as fh:
            fh.seek(self.log_size)
            fh.truncate()
            for chunk in chunks[self.saved_chunks :]:
                buf = io.BytesIO()
                np.savez(buf, **{k: np.asarray(chunk[k]) for k in keep})
                data = buf.getvalue()
                fh.write(_LEN.pack(len(data)))
                fh.write(data)
                hashes.append(hashlib.sha256(data).hexdigest())
            size = fh.tell()
        state = dict(state, format=FORMAT, spec_sha256=spec_hash(state["resume_key"]), log_size=size,
                     n_chunks=len(chunks), chunk_sha256=hashes)
        state["content_sha256"] = _content_hash(state)
        tmp = os.path.join(self.dir, TMP_PREFIX + "state.json")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json_text(state))
        os.replace(tmp, self.state_path)  # atomic: a reader sees the old state or the new one
        self.saved_chunks, self.chunk_sha256, self.log_size = len(chunks), hashes, size

    def load(self, resume_key: Mapping[str, Any], validate_chunk: Any) -> tuple[dict[str, Any], list[dict[str, np.ndarray]]]:
        """The state and the row chunks it is valid for, every hash checked (the log is
        truncated to the state's length). `validate_chunk(i, arrays)` checks one chunk's arrays.
        Raises DataError (damaged, from another run, or an old pickle format) in one line."""
        where = f"--resume: {self.dir}"
        if os.path.lexists(os.path.join(self.dir, "state.pkl")) and not os.path.lexists(self.state_path):
            raise DataError(f"{where} holds a checkpoint of an older version (pickles, which are never loaded); allowed: run without --resume to start afresh")
        for path in (self.state_path, self.log_path):
            if os.path.islink(path) or (os.path.lexists(path) and not os.path.isfile(path)):
                raise DataError(f"{where}: {os.path.basename(path)} is not a regular file; allowed: a checkpoint this tool wrote")
        from ..io import read_json

        try:
            state = read_json(self.state_path, "checkpoint state")
        except DataError as exc:
            raise DataError(f"{where} is damaged ({exc}); allowed: run without --resume to start afresh") from None
        _check_state(state, where)
        if state["format"] != FORMAT:
            raise DataError(f"{where}: format {state['format']} (this version reads {FORMAT}); allowed: run without --resume to start afresh")
        if state["content_sha256"] != _content_hash(state):
            raise DataError(f"{where}: state.json fails its content hash (edited or damaged); allowed: run without --resume to start afresh")
        if state["spec_sha256"] != spec_hash(state["resume_key"]):
            raise DataError(f"{where}: state.json's spec hash does not match its spec; allowed: run without --resume to start afresh")
        chunks = []
        try:
            with open(self.log_path, "r+b") as fh:
                fh.seek(0, os.SEEK_END)
                if fh.tell() < state["log_size"]:
                    raise DataError(f"{where}: rows.log is {fh.tell():,} bytes, shorter than the {state['log_size']:,} the state records (truncated); allowed: run without --resume to start afresh")
                fh.truncate(state["log_size"])  # what a kill appended after the last state
                fh.seek(0)
                for i in range(state["n_chunks"]):
                    head = fh.read(_LEN.size)
                    (n,) = _LEN.unpack(head) if len(head) == _LEN.size else (-1,)
                    data = fh.read(n) if 0 <= n <= _MAX_RECORD else b""
                    if n < 0 or len(data) != n or hashlib.sha256(data).hexdigest() != state["chunk_sha256"][i]:
                        raise DataError(f"{where}: rows.log record {i + 1} of {state['n_chunks']} fails its sha256 (damaged, or from another run); allowed: run without --resume to start afresh")
                    try:
                        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                            arrays = {k: npz[k] for k in npz.files}
                    except (ValueError, OSError, KeyError, EOFError) as exc:
                        raise DataError(f"{where}: rows.log record {i + 1} is not an npz of plain arrays ({exc}); allowed: run without --resume") from None
                    validate_chunk(i, arrays)
                    chunks.append(arrays)
                if fh.tell() != state["log_size"]:
                    raise DataError(f"{where}: rows.log holds more than the {state['n_chunks']} records its state lists; allowed: run without --resume to start afresh")
        except FileNotFoundError:
            raise DataError(f"{where}: rows.log is missing; allowed: run without --resume to start afresh") from None
        self.saved_chunks = len(chunks)
        self.chunk_sha256 = list(state["chunk_sha256"])
        self.log_size = state["log_size"]
        return state, chunks


def _check_state(state: Any, where: str) -> None:
    if not isinstance(state, dict):
        raise DataError(f"{where}: state.json is not an object; allowed: a checkpoint this tool wrote")
    for key, kind in _STATE_KEYS.items():
        value = state.get(key)
        if key not in state or isinstance(value, bool) or not isinstance(value, kind):
            raise DataError(f"{where}: state.json's {key} is {value!r}; allowed: a checkpoint this tool wrote")
    if state["generation"] < 0 or state["n_chunks"] < 0 or state["log_size"] < 0 or state["cache_hits"] < 0:
        raise DataError(f"{where}: state.json has a negative count; allowed: a checkpoint this tool wrote")
    if len(state["chunk_sha256"]) != state["n_chunks"] or not all(isinstance(h, str) for h in state["chunk_sha256"]):
        raise DataError(f"{where}: state.json lists {len(state['chunk_sha256'])} record hashes for {state['n_chunks']} records")
    if not all(isinstance(h, (int, float)) and not isinstance(h, bool) and math.isfinite(h) for h in state["hypervolume"]):
        raise DataError(f"{where}: state.json's hypervolume is not a list of finite numbers")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in state["timings"].values()):
        raise DataError(f"{where}: state.json's timings are not finite numbers")


# ---------------------------------------------------------------------------------- the lock


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


class RunLock:
    """`DIR/.lock`, created exclusively, holding the owner's pid, host and start time.

    A second run into the same folder is refused while the owner lives; a lock whose pid no
    longer runs on this host (a killed run), or that cannot be read, is stale and replaced.
    """

    def __init__(self, out_dir: str) -> None:
        self.path = os.path.join(out_dir, LOCK_FILE)
        self.held = False

    def acquire(self) -> None:
        record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._clear_if_stale()
                continue
            except OSError as exc:
                from ..io import _os_error

                raise _os_error(self.path, exc) from None
            with os.fdopen(fd, "w") as fh:
                fh.write(record + "\n")
            self.held = True
            return
        raise DataError(f"{self.path}: cannot take the lock (it keeps reappearing); allowed: one run per results folder")

    def _clear_if_stale(self) -> None:
        from ..errors import ConfigError

        owner = _read_lock(self.path)
        if owner is not None:
            pid, host = owner.get("pid"), owner.get("host")
            if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0:
                if host != socket.gethostname():
                    raise ConfigError(
                        f"{os.path.dirname(self.path) or '.'} is in use by a run on host {host!r} (pid {pid}); "
                        f"allowed: another --out, or remove {self.path} if that run has ended"
                    )
                if _alive(pid):
                    raise ConfigError(
                        f"{os.path.dirname(self.path) or '.'} is in use by another run (pid {pid}, since {owner.get('started_utc', '?')}); "
                        "allowed: wait for it to finish, or another --out"
                    )
        import logging

        logging.getLogger(__name__).warning("removing a stale lock %s (its run is no longer running)", self.path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def release(self) -> None:
        if not self.held:
            return
        owner = _read_lock(self.path)
        if owner is not None and owner.get("pid") == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        self.held = False

    @contextlib.contextmanager
    def held_for(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()


def _read_lock(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read(4096).decode("utf-8"))
    except FileNotFoundError:
        return {}  # gone meanwhile: not stale, just retry
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def clean_temporaries(out_dir: str) -> list[str]:
    """Remove `.tmp-*` files a killed write left in the results folder and its checkpoint folder."""
    removed = []
    for folder in (out_dir, os.path.join(out_dir, CHECKPOINT_DIR)):
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            path = os.path.join(folder, name)
            if name.startswith(TMP_PREFIX) and os.path.isfile(path) and not os.path.islink(path):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    removed.append(path)
    return removed
