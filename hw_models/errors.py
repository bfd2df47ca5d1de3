"""Errors raised by the hardware models."""

from catransformers_errors import CATransformersError

__all__ = ["HardwareError"]


class HardwareError(CATransformersError, ValueError):
    """A hardware description or workload the models cannot take; names the field and what is allowed."""
