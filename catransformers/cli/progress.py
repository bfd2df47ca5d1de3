"""Search progress on stderr: one self-rewriting line per run."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["ProgressBar", "progress_enabled"]


class ProgressBar:
    """One self-rewriting stderr line per run: generation, bar, hypervolume, designs, time."""

    def __init__(self, enabled: bool, name: str = "") -> None:
        self.enabled = enabled
        self.name = name
        self.active = False

    def __call__(self, p: Any, name: str | None = None) -> None:
        if not self.enabled:
            return
        width = 24
        done = p.generation / p.generations if p.generations else 1.0
        fill = int(round(width * done))
        label = name or self.name
        line = (
            f"\r{label + '  ' if label else ''}gen {p.generation:>4}/{p.generations:<4} [{'#' * fill}{'-' * (width - fill)}] "
            f"HV {p.hypervolume:.5g}  designs {p.designs:,}  feasible {p.feasible:,}  {p.elapsed_s:.1f} s"
        )
        sys.stderr.write(line)
        sys.stderr.flush()
        self.active = True

    def close(self) -> None:
        if self.active:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.active = False


def progress_enabled(args: argparse.Namespace) -> bool:
    if args.progress is not None:
        return args.progress
    return sys.stderr.isatty()
