"""Command-line interface: a thin parser over the library (one module per command group); one-line errors, exit 2."""

from .main import EXIT_USAGE, build_parser, main

__all__ = ["main", "build_parser", "EXIT_USAGE"]
