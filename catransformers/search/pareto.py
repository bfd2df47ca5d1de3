"""The search's view of the one non-dominated filter (catransformers.pareto, shared with viz)."""

from ..pareto import merge_front, non_dominated, pareto_mask

__all__ = ["non_dominated", "pareto_mask", "merge_front"]
