"""Package errors: each derives from the matching builtin so callers can catch either."""

from carbon_data.errors import CarbonDataError
from catransformers_errors import CATransformersError
from hw_models.errors import HardwareError

__all__ = ["CATransformersError", "ConfigError", "HardwareError", "CarbonDataError", "DataError", "EvaluationError", "OutputError"]


class ConfigError(CATransformersError, ValueError):
    """Invalid user input: names the field, the bad value and what is allowed."""


class DataError(CATransformersError, ValueError):
    """A data file (CSV, TOML, table) that is missing or malformed."""


class EvaluationError(CATransformersError, RuntimeError):
    """An evaluation that failed for one design (e.g. a real-model measurement)."""


class OutputError(CATransformersError, OSError):
    """A result that cannot be written (disk full, read-only folder, a path that is not a regular file)."""
