"""The `catransformers` command: the parser and main(); one-line errors with exit 2."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable, Sequence

from .. import __version__
from ..errors import CATransformersError
from . import evaluate, real, search

__all__ = ["main", "build_parser", "EXIT_USAGE"]

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too; keep it short)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="catransformers", description="Carbon-aware co-design of transformer models and edge accelerators.")
    parser.add_argument("--version", action="version", version=f"catransformers {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    evaluate.add_parsers(sub)
    search.add_parsers(sub)
    real.add_parsers(sub)
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    from hw_models import HardwareError

    errors: list[type[BaseException]] = [CATransformersError, HardwareError, FileNotFoundError, IsADirectoryError]
    try:
        from carbon_data import CarbonDataError

        errors.append(CarbonDataError)
    except ImportError:  # pragma: no cover - carbon_data always ships with the package
        pass
    return tuple(errors)


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except _user_errors() as exc:
        # Bad input, named by the library: one line, exit 2. Anything else is a bug and keeps its traceback.
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"catransformers: error: {msg}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0

