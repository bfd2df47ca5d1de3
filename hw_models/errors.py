"""Errors raised by the hardware models."""

__all__ = ["HardwareError"]


class HardwareError(ValueError):
    """A hardware description or workload the models cannot take; names the field and what is allowed."""
