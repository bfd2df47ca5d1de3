"""Package errors: each derives from the matching builtin so callers can catch either."""

from hw_models.errors import HardwareError

__all__ = ["CATransformersError", "ConfigError", "HardwareError", "DataError", "EvaluationError"]


class CATransformersError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(CATransformersError, ValueError):
    """Invalid user input: names the field, the bad value and what is allowed."""


class DataError(CATransformersError, ValueError):
    """A data file (CSV, TOML, table) that is missing or malformed."""


class EvaluationError(CATransformersError, RuntimeError):
    """An evaluation that failed for one design (e.g. a real-model measurement)."""
