"""The one error root shared by hw_models, carbon_data and catransformers (stdlib only, imports nothing)."""

__all__ = ["CATransformersError"]


class CATransformersError(Exception):
    """Base class of every error the project's packages raise on purpose.

    Each subclass also derives from the matching builtin (ValueError, KeyError, OSError, ...),
    so callers can catch either; the CLI turns any of them into one line and exit 2.
    """
