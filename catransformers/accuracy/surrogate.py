"""The default accuracy estimate: a per-tower parameter-fraction scaling law calibrated on CarbonCLIP."""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import ConfigError, DataError
from .protocol import METRICS, PRIMARY_METRIC, AccuracyResult, TowerShapes, as_tower_shapes, check_metric

__all__ = [
    "ESTIMATOR_NAME",
    "CONSTANTS_FILE",
    "TowerBase",
    "MetricConstants",
    "ScalingConstants",
    "load_constants",
    "tower_rho",
    "ClipScalingEstimator",
]

logger = logging.getLogger(__name__)

ESTIMATOR_NAME = "clip-scaling"
CONSTANTS_FILE = "accuracy_constants.json"  # inside catransformers/data/
_TOWERS = ("vision", "text")
# Relative slack on the validated-range test so a design exactly at a fit point is "inside".
_RHO_SLACK = 1e-9


@dataclass(frozen=True)
class TowerBase:
    """Unpruned dimensions of one tower; `head_dim` is fixed by the pruning (64 per kept head)."""

    layers: int
    heads: int
    ffn: int
    width: int
    head_dim: int = 64

    @property
    def attention_share(self) -> float:
        """Share of a block's weights in attention: E*4*hd*H of E*(4*hd*H + 2*F); 1/3 for both ViT-B-16 towers."""
        attn = 4 * self.head_dim * self.heads
        return attn / (attn + 2 * self.ffn)

    @property
    def min_dims(self) -> dict[str, float]:
        """Search-space floor: never below half of any dimension (docs/reference-facts.md section 3)."""
        return {"layers": self.layers / 2, "heads": self.heads / 2, "ffn": self.ffn / 2, "width": self.width / 2}


@dataclass(frozen=True)
class MetricConstants:
    """err = err0 * rho_V**-alpha_vision * rho_T**-alpha_text; acc = max(chance, 1 - err)."""

    err0: float
    alpha_vision: float
    alpha_text: float
    chance: float


@dataclass(frozen=True)
class ScalingConstants:
    """Everything the estimator reads from `accuracy_constants.json`."""

    version: str
    bases: Mapping[str, TowerBase]
    metrics: Mapping[str, MetricConstants]
    validated_rho_min: Mapping[str, float]
    provenance: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<dict>") -> "ScalingConstants":
        try:
            bases = {t: TowerBase(**{k: int(v) for k, v in data["base"][t].items()}) for t in _TOWERS}
            metrics = {
                m: MetricConstants(**{k: float(data["metrics"][m][k]) for k in ("err0", "alpha_vision", "alpha_text", "chance")})
                for m in METRICS
            }
            rho_min = {t: float(data["validated_rho_min"][t]) for t in _TOWERS}
            return cls(
                version=str(data["version"]),
                bases=bases,
                metrics=metrics,
                validated_rho_min=rho_min,
                provenance=dict(data.get("provenance", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"accuracy constants {source}: missing or malformed entry {exc}") from None


@functools.lru_cache(maxsize=8)
def _load_cached(path: str | None) -> ScalingConstants:
    if path is None:
        ref = resources.files("catransformers") / "data" / CONSTANTS_FILE
        source = f"catransformers/data/{CONSTANTS_FILE}"
    else:
        ref = Path(path)
        source = path
    try:
        data = json.loads(ref.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"accuracy constants {source}: cannot read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"accuracy constants {source}: not valid JSON ({exc})") from None
    return ScalingConstants.from_dict(data, source)


def load_constants(path: str | Path | None = None) -> ScalingConstants:
    """Shipped constants (default) or those of a JSON file written by `python -m catransformers.accuracy.fit`."""
    return _load_cached(None if path is None else str(path))


def tower_rho(layers: Any, heads: Any, ffn: Any, width: Any, base: TowerBase) -> np.ndarray:
    """Fraction of the tower's non-embedding weights kept: (L/L0)(E/E0)[a*H/H0 + (1-a)*F/F0], a = attention share."""
    a = base.attention_share
    return (
        (np.asarray(layers) / base.layers)
        * (np.asarray(width) / base.width)
        * (a * np.asarray(heads) / base.heads + (1.0 - a) * np.asarray(ffn) / base.ffn)
    )


class ClipScalingEstimator:
    """Accuracy estimate of a pruned CLIP ViT-B-16 from its shape alone; vectorised, microseconds per design.

    Never fails; flags (and logs once per instance) designs outside the validated range:
    rho of either tower below the smallest fit point, or any dimension below half its base.
    """

    name: str = ESTIMATOR_NAME
    metrics: tuple[str, ...] = METRICS

    def __init__(self, primary_metric: str = PRIMARY_METRIC, constants: ScalingConstants | str | Path | None = None):
        self.primary_metric = check_metric(primary_metric, METRICS)
        if not isinstance(constants, ScalingConstants):
            constants = load_constants(constants)
        self.constants = constants
        self.version = constants.version
        self._warned = False
        self.warn = True  # a search sets False: it reports one count per run, not a log line per estimator

    def __repr__(self) -> str:
        return f"ClipScalingEstimator(primary_metric={self.primary_metric!r}, version={self.version!r})"

    @property
    def label(self) -> str:
        """'clip-scaling v1': the name + version carried by every result."""
        return f"{self.name} v{self.version}"

    def validate(self, shapes: Any) -> TowerShapes:
        """Coerce and check against the base model: every dimension in 1..base; raises ConfigError."""
        ts = as_tower_shapes(shapes)
        for tower in _TOWERS:
            base = self.constants.bases[tower]
            for dim in ("layers", "heads", "ffn", "width"):
                name = f"{tower}_{dim}"
                arr = getattr(ts, name)
                hi = getattr(base, dim)
                bad = arr > hi
                if np.any(bad):
                    i = int(np.flatnonzero(bad)[0])
                    raise ConfigError(
                        f"accuracy input: {name}[{i}] = {int(arr[i])} exceeds the base model; allowed: integers 1..{hi}"
                    )
        return ts

    def rho(self, shapes: Any) -> tuple[np.ndarray, np.ndarray]:
        """(rho_vision, rho_text), each of shape (n,)."""
        ts = self.validate(shapes)
        return self._rho(ts)

    def rho_vision(self, shapes: Any) -> np.ndarray:
        return self.rho(shapes)[0]

    def rho_text(self, shapes: Any) -> np.ndarray:
        return self.rho(shapes)[1]

    def _rho(self, ts: TowerShapes) -> tuple[np.ndarray, np.ndarray]:
        rv = tower_rho(*ts.tower("vision"), self.constants.bases["vision"])
        rt = tower_rho(*ts.tower("text"), self.constants.bases["text"])
        return rv, rt

    def _accuracy(self, metric: str, rv: np.ndarray, rt: np.ndarray) -> np.ndarray:
        c = self.constants.metrics[metric]
        err = c.err0 * rv ** (-c.alpha_vision) * rt ** (-c.alpha_text)
        return np.maximum(c.chance, 1.0 - err)

    # --- TowerSeparable: accuracy = f(rho_vision, rho_text), f non-decreasing in both when
    # err0 >= 0 and both exponents >= 0 (err falls as either rho grows; max(chance, .) keeps order)

    def tower_scores(self, shapes: Any) -> dict[str, np.ndarray]:
        """{"vision": rho_vision (n, 1), "text": rho_text (n, 1)}: each tower's kept weight fraction."""
        rv, rt = self.rho(shapes)
        return {"vision": rv[:, None], "text": rt[:, None]}

    def accuracy_from_scores(self, scores: Mapping[str, np.ndarray]) -> np.ndarray:
        """The primary accuracy from per-tower scores (the same expression as `estimate`)."""
        return self._accuracy(self.primary_metric, np.asarray(scores["vision"])[..., 0], np.asarray(scores["text"])[..., 0])

    def separability_problem(self) -> str | None:
        c = self.constants.metrics[self.primary_metric]
        for field, value in (("err0", c.err0), ("alpha_vision", c.alpha_vision), ("alpha_text", c.alpha_text)):
            if not value >= 0:
                return (f"{self.label} constants: {self.primary_metric}.{field} = {value!r} < 0, so the estimate is not "
                        "non-decreasing in each tower's kept fraction")
        return None

    def out_of_range(self, shapes: Any) -> np.ndarray:
        """True where the estimate is an extrapolation (below the smallest fit point or the search-space floor)."""
        ts = self.validate(shapes)
        return self._out_of_range(ts, *self._rho(ts))

    def _out_of_range(self, ts: TowerShapes, rv: np.ndarray, rt: np.ndarray) -> np.ndarray:
        return self._range_code(ts, rv, rt) != 0

    def _range_code(self, ts: TowerShapes, rv: np.ndarray, rt: np.ndarray) -> np.ndarray:
        """Bits of RANGE_REASONS per design: rho of each tower, then each dimension against its floor."""
        lo = self.constants.validated_rho_min
        checks = [rv < lo["vision"] * (1 - _RHO_SLACK), rt < lo["text"] * (1 - _RHO_SLACK)]
        for tower in _TOWERS:
            for dim, floor in self.constants.bases[tower].min_dims.items():
                checks.append(getattr(ts, f"{tower}_{dim}") < floor)
        code = np.zeros(len(ts), dtype=np.int64)
        for bit, hit in enumerate(checks):
            code |= np.asarray(hit, dtype=np.int64) << bit
        return code

    def validated_range(self) -> dict[str, Any]:
        """The validated range as plain data (run.json): rho floors per tower and dimension floors."""
        return {
            "rho_min": dict(self.constants.validated_rho_min),
            "dims_min": {f"{t}_{d}": v for t in _TOWERS for d, v in self.constants.bases[t].min_dims.items()},
        }

    def estimate(self, shapes: Any) -> AccuracyResult:
        """All three metrics for every design; `primary` is `self.primary_metric`."""
        ts = self.validate(shapes)
        rv, rt = self._rho(ts)
        values = {metric: self._accuracy(metric, rv, rt) for metric in self.metrics}
        code = self._range_code(ts, rv, rt)
        flag = code != 0
        rv.setflags(write=False)
        rt.setflags(write=False)
        if flag.any():
            # Once per instance, and only outside a search (which counts the flagged rows once
            # per run instead: see accuracy_extrapolated in evaluations.csv and run.json).
            level = logging.DEBUG if self._warned or not self.warn else logging.WARNING
            self._warned = True
            logger.log(
                level,
                "%s: %d of %d designs outside the validated range (rho_vision < %.4g, rho_text < %.4g, or a "
                "dimension below half its base); their accuracy is an extrapolation",
                self.label, int(flag.sum()), flag.size,
                self.constants.validated_rho_min["vision"], self.constants.validated_rho_min["text"],
            )
        return AccuracyResult(
            values=values,
            primary=values[self.primary_metric],
            metric=self.primary_metric,
            estimator=self.label,
            is_estimate=True,
            failed=np.zeros(len(ts), dtype=bool),
            out_of_range=flag,
            out_of_range_code=code,
            extra={"rho_vision": rv, "rho_text": rt},
        )
