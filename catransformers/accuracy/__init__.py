"""Accuracy estimators behind one protocol: the default shape-based estimate and, lazily, measured ones."""

from .protocol import (
    METRIC_LABELS,
    METRICS,
    PRIMARY_METRIC,
    SHAPE_FIELDS,
    AccuracyEstimator,
    AccuracyResult,
    TowerSeparable,
    TowerShapes,
    as_tower_shapes,
    check_metric,
    metric_label,
    range_reason,
    RANGE_REASONS,
    shapes_from_configs,
    tower_separability,
)
from .registry import DEFAULT_ESTIMATOR, available_estimators, get_estimator, register_estimator
from .surrogate import ClipScalingEstimator, MetricConstants, ScalingConstants, TowerBase, load_constants, tower_rho

__all__ = [
    "METRICS",
    "PRIMARY_METRIC",
    "METRIC_LABELS",
    "SHAPE_FIELDS",
    "AccuracyEstimator",
    "AccuracyResult",
    "TowerShapes",
    "TowerSeparable",
    "tower_separability",
    "as_tower_shapes",
    "shapes_from_configs",
    "check_metric",
    "metric_label",
    "range_reason",
    "RANGE_REASONS",
    "DEFAULT_ESTIMATOR",
    "get_estimator",
    "register_estimator",
    "available_estimators",
    "ClipScalingEstimator",
    "ScalingConstants",
    "MetricConstants",
    "TowerBase",
    "load_constants",
    "tower_rho",
]
