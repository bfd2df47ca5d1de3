"""Search progress on stderr: a self-rewriting line on a terminal, one plain line per N generations otherwise."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

__all__ = ["ProgressBar", "progress_enabled", "stalled", "STALL_WINDOW", "STALL_FRACTION", "LOG_EVERY"]

# "Stopped improving": the hypervolume grew by less than STALL_FRACTION (relative) over the
# last STALL_WINDOW generations. A note, not a stopping rule: the run goes on as specified.
STALL_WINDOW = 10
STALL_FRACTION = 1e-3
LOG_EVERY = 10  # generations between plain progress lines when stderr is not a terminal


def stalled(hv: list[float], window: int = STALL_WINDOW, fraction: float = STALL_FRACTION) -> bool:
    """True when the last `window` generations raised the hypervolume by less than `fraction` of it."""
    if len(hv) <= window or hv[-1] <= 0:
        return False
    return (hv[-1] - hv[-1 - window]) < fraction * abs(hv[-1])


class ProgressBar:
    """Progress of one or more runs. `tty`: one self-rewriting line; otherwise one line per
    `every` generations (and the last), each with evaluations, feasible count and hypervolume,
    plus a one-time note per run when the hypervolume has stopped improving."""

    def __init__(self, enabled: bool, name: str = "", tty: bool | None = None, every: int = LOG_EVERY, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.name = name
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every = max(1, every)
        self.active = False
        self._hv: dict[str, list[float]] = {}
        self._noted: set[str] = set()

    def __call__(self, p: Any, name: str | None = None) -> None:
        if not self.enabled:
            return
        label = name or self.name
        hv = self._hv.setdefault(label, [])
        hv.append(float(p.hypervolume))
        prefix = f"{label}  " if label else ""
        stats = f"HV {p.hypervolume:.5g}  designs {p.designs:,}  feasible {p.feasible:,}  {p.elapsed_s:.1f} s"
        enumerating = getattr(p, "method", "") == "exhaustive"
        exact = getattr(p, "method", "") == "exact"  # one step per chunk of accelerators
        note = None
        if not enumerating and not exact and label not in self._noted and stalled(hv):
            self._noted.add(label)
            note = (
                f"{prefix}note: hypervolume up less than {STALL_FRACTION:.1%} over the last {STALL_WINDOW} generations "
                f"(generation {p.generation}); more generations are unlikely to change the front much"
            )
        if self.tty:
            width = 24
            done = p.generation / p.generations if p.generations else 1.0
            fill = int(round(width * done))
            step = "accelerator chunk" if exact else "gen"
            self.stream.write(f"\r{prefix}{step} {p.generation:>4}/{p.generations:<4} [{'#' * fill}{'-' * (width - fill)}] {stats}")
            self.active = True
            if note:
                self.stream.write("\n" + note + "\n")
                self.active = False
        elif enumerating:
            self.stream.write(f"{prefix}enumerated {p.designs:,} designs: {stats}\n")  # one line per chunk
        else:
            if p.generation == 1 or p.generation % self.every == 0 or p.generation >= p.generations:
                step = "accelerator chunk" if exact else "generation"
                self.stream.write(f"{prefix}{step} {p.generation}/{p.generations}: {stats}\n")
            if note:
                self.stream.write(note + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.active:
            self.stream.write("\n")
            self.stream.flush()
            self.active = False


def progress_enabled(args: argparse.Namespace) -> bool:
    """--progress / --no-progress; by default on, as a bar on a terminal and as plain lines otherwise."""
    if args.progress is not None:
        return args.progress
    return True
