"""Per-generation checkpoints: an append-only log of evaluated rows plus an atomically replaced state file."""

from __future__ import annotations

import os
import pickle
import shutil
import struct
from typing import Any


__all__ = ["Checkpoint", "CHECKPOINT_DIR", "FORMAT"]

CHECKPOINT_DIR = "checkpoint"
FORMAT = 1
_LEN = struct.Struct("<Q")


class Checkpoint:
    """`DIR/checkpoint/`: `rows.log` (length-prefixed pickles of archive chunks, appended per
    generation) and `state.pkl` (everything else, including the log length it is valid for).

    The state is written after the log, so a kill at any moment leaves a state whose log
    prefix is complete; resuming truncates whatever was appended after it. Writes are not
    fsynced (a checkpoint per generation must stay cheap): they survive a killed process,
    not a power cut. The results files themselves go through catransformers.io (fsynced).
    """

    def __init__(self, out_dir: str) -> None:
        self.dir = os.path.join(out_dir, CHECKPOINT_DIR)
        self.log_path = os.path.join(self.dir, "rows.log")
        self.state_path = os.path.join(self.dir, "state.pkl")
        self.saved_chunks = 0

    def exists(self) -> bool:
        return os.path.exists(self.state_path)

    def clear(self) -> None:
        if os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        self.saved_chunks = 0

    def save(self, chunks: list[dict[str, Any]], state: dict[str, Any]) -> None:
        """Append the chunks not yet saved, then replace the state (which records the log size)."""
        os.makedirs(self.dir, exist_ok=True)
        with open(self.log_path, "ab") as fh:
            for chunk in chunks[self.saved_chunks :]:
                data = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
                fh.write(_LEN.pack(len(data)))
                fh.write(data)
            size = fh.tell()
        self.saved_chunks = len(chunks)
        state = dict(state, format=FORMAT, log_size=size, n_chunks=self.saved_chunks)
        tmp = self.state_path + ".tmp"
        with open(tmp, "wb") as fh:
            fh.write(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, self.state_path)  # atomic: a reader sees the old state or the new one

    def load(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The state and the archive chunks it is valid for (the log is truncated to match)."""
        with open(self.state_path, "rb") as fh:
            state = pickle.load(fh)
        if state.get("format") != FORMAT:
            raise ValueError(f"checkpoint format {state.get('format')!r}; expected {FORMAT}")
        chunks = []
        with open(self.log_path, "r+b") as fh:
            fh.truncate(state["log_size"])
            while len(chunks) < state["n_chunks"]:
                (n,) = _LEN.unpack(fh.read(_LEN.size))
                chunks.append(pickle.loads(fh.read(n)))
        self.saved_chunks = len(chunks)
        return state, chunks
