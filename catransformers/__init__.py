"""Carbon-aware co-design of transformer models and edge AI accelerators."""

__version__ = "0.1.0"

from .errors import CATransformersError, ConfigError, DataError, EvaluationError

__all__ = ["__version__", "CATransformersError", "ConfigError", "DataError", "EvaluationError"]
