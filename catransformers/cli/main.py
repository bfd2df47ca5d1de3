"""The `catransformers` command: the parser and main(); one-line errors with exit 2."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from typing import Callable, Sequence

from .. import __version__
from ..errors import CATransformersError
from . import evaluate, real, search

__all__ = ["main", "build_parser", "EXIT_USAGE", "EXIT_INTERRUPTED"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too; keep it short)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="catransformers", description="Carbon-aware co-design of transformer models and edge accelerators.")
    parser.add_argument("--version", action="version", version=f"catransformers {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument("--follow-symlinks", action="store_true", help="an output path that is a symbolic link writes to its target (default: refused)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    evaluate.add_parsers(sub)
    search.add_parsers(sub)
    real.add_parsers(sub)
    return parser


def _os_message(exc: OSError) -> str:
    """'PATH: reason' for a file-system error the library let through (e.g. a folder it cannot create)."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; `argv` None means this process's own command line (the console script,
    `python -m catransformers`), after which the process exits."""
    if argv is None:
        code = _main(None, program=True)
        # What is still alive now lives until the exit that follows: out of the collector's
        # reach, the interpreter's final collections do not walk it (0.25-0.3 s of a default
        # search's exit). Not for in-process callers, whose garbage it would keep.
        gc.freeze()
        return code
    return _main(argv)


def _main(argv: Sequence[str] | None, program: bool = False) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2): returned, as every other exit
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if program:
        # the modules imported so far live as long as the process: the collector need not walk
        # them at every full collection during the run (a default search: 0.1 s of 0.2 s of GC)
        gc.freeze()
    _configure_logging(args.verbose)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        from .args import no_empty

        from ..io import follow_symlinks

        no_empty(args)
        with follow_symlinks(args.follow_symlinks):
            return func(args)
    except KeyboardInterrupt:
        print("catransformers: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except CATransformersError as exc:
        # Bad input, named by the library: one line, exit 2. Anything else is a bug and keeps its traceback.
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"catransformers: error: {_one_line(str(msg))}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # the user's file system (a path that cannot be read or created): one line too
        print(f"catransformers: error: {_one_line(_os_message(exc))}", file=sys.stderr)
        return EXIT_USAGE


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"

