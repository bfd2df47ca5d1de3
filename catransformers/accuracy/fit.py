"""Re-fit the clip-scaling constants from the calibration CSV: `python -m catransformers.accuracy.fit`."""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import DataError
from .protocol import METRICS
from .surrogate import CONSTANTS_FILE, ESTIMATOR_NAME, ScalingConstants, TowerBase, tower_rho

__all__ = [
    "CALIBRATION_FILE",
    "ESTIMATOR_VERSION",
    "METRIC_COLUMNS",
    "ANCHOR_MODEL",
    "CHANCE",
    "BASES",
    "load_calibration",
    "fit_alphas",
    "fit_constants",
    "main",
]

CALIBRATION_FILE = "clip_accuracy_calibration.csv"  # inside catransformers/data/
ESTIMATOR_VERSION = "1"  # bump when the form, the anchor or the calibration data change

# Metric name -> CSV column (accuracies as fractions).
METRIC_COLUMNS: Mapping[str, str] = {
    "avg41": "avg41_clipbench",
    "imagenet_top1": "imagenet_zs_top1",
    "mscoco_mean_r1": "mscoco_mean_R1",
}

# err0 = 1 - this row's accuracy, for every metric: it is the only anchor with all three metrics,
# and it comes from the same paper tables, evaluation harness and training recipe as the fit rows.
ANCHOR_MODEL = "CLIP-B/16 DataComp (unpruned; CATransformers baseline)"

# Accuracy floor per metric (fractions).
CHANCE: Mapping[str, float] = {
    # The 41 tasks mix 2-class tasks (chance 0.5) with 1000-class ones and retrieval (~0); their
    # average chance is not published, so the floor is 0. It never binds in the search space.
    "avg41": 0.0,
    "imagenet_top1": 1.0 / 1000,  # 1000 classes
    "mscoco_mean_r1": 1.0 / 5000,  # 5k test images; image->text with 5 captions of 25k is also 1/5000
}
CHANCE_NOTES: Mapping[str, str] = {
    "avg41": "floor 0: the average chance of the 41 tasks is not published; never binds in the search space",
    "imagenet_top1": "1/1000 (1000 classes)",
    "mscoco_mean_r1": "1/5000 (5k-image test split, both retrieval directions)",
}

# Base model: OpenCLIP ViT-B-16 (docs/reference-facts.md section 3); head_dim 64 per kept head.
BASES: Mapping[str, TowerBase] = {
    "vision": TowerBase(layers=12, heads=12, ffn=3072, width=768, head_dim=64),
    "text": TowerBase(layers=12, heads=8, ffn=2048, width=512, head_dim=64),
}

_CSV_DIMS = {
    "vision": {"layers": "v_layers", "heads": "v_heads", "ffn": "v_ffn", "width": "v_width"},
    "text": {"layers": "t_layers", "heads": "t_heads", "ffn": "t_ffn", "width": "t_width"},
}
_REQUIRED_COLUMNS = ("model", "role", "source", *(c for d in _CSV_DIMS.values() for c in d.values()), *METRIC_COLUMNS.values())


def _default_csv() -> Path:
    return Path(str(resources.files("catransformers") / "data" / CALIBRATION_FILE))


def _default_output() -> Path:
    return Path(str(resources.files("catransformers") / "data" / CONSTANTS_FILE))


def load_calibration(path: str | Path | None = None):
    """The calibration table as a DataFrame; raises DataError when columns or rows are missing."""
    import pandas as pd

    path = Path(path) if path is not None else _default_csv()
    try:
        df = pd.read_csv(path)
    except OSError as exc:
        raise DataError(f"calibration file {str(path)!r}: cannot read ({exc.strerror or exc})") from None
    missing = [c for c in _REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"calibration file {str(path)!r}: missing column {missing[0]!r}; required: {', '.join(_REQUIRED_COLUMNS)}")
    if (df["model"] == ANCHOR_MODEL).sum() != 1:
        raise DataError(f"calibration file {str(path)!r}: needs exactly one anchor row {ANCHOR_MODEL!r}")
    fit = df[df["role"] == "fit"]
    if len(fit) < 2 or fit[list(METRIC_COLUMNS.values())].isna().any().any():
        raise DataError(f"calibration file {str(path)!r}: needs >= 2 'fit' rows with all of {', '.join(METRIC_COLUMNS.values())}")
    return df


def _rhos(rows) -> dict[str, np.ndarray]:
    return {
        t: tower_rho(*(rows[_CSV_DIMS[t][d]].to_numpy(dtype=float) for d in ("layers", "heads", "ffn", "width")), BASES[t])
        for t in BASES
    }


def fit_alphas(rho_vision: np.ndarray, rho_text: np.ndarray, err0: float, acc: np.ndarray) -> tuple[float, float]:
    """Least squares on log error, alphas >= 0: log(err/err0) = -alpha_V log rho_V - alpha_T log rho_T.

    Linear in the alphas, so scipy's bounded linear solver (BVLS) gives the exact, deterministic minimiser.
    """
    from scipy.optimize import lsq_linear

    a = -np.column_stack([np.log(rho_vision), np.log(rho_text)])
    b = np.log(1.0 - np.asarray(acc, dtype=float)) - np.log(err0)
    sol = lsq_linear(a, b, bounds=(0.0, np.inf), method="bvls", tol=1e-14)
    if not sol.success:
        raise DataError(f"accuracy fit did not converge: {sol.message}")
    return float(sol.x[0]), float(sol.x[1])


def fit_constants(path: str | Path | None = None, fit_date: str | None = None) -> dict[str, Any]:
    """The full constants document (what `accuracy_constants.json` holds), fitted from the CSV at `path`."""
    import numpy
    import scipy

    path = Path(path) if path is not None else _default_csv()
    df = load_calibration(path)
    anchor = df[df["model"] == ANCHOR_MODEL].iloc[0]
    fit = df[df["role"] == "fit"]
    rho = _rhos(fit)
    names = fit["model"].tolist()

    metrics: dict[str, Any] = {}
    for metric, column in METRIC_COLUMNS.items():
        acc = fit[column].to_numpy(dtype=float)
        err0 = 1.0 - float(anchor[column])
        a_v, a_t = fit_alphas(rho["vision"], rho["text"], err0, acc)
        err = err0 * rho["vision"] ** -a_v * rho["text"] ** -a_t
        pred = np.maximum(CHANCE[metric], 1.0 - err)
        resid = pred - acc
        log_resid = np.log(err) - np.log(1.0 - acc)
        metrics[metric] = {
            "err0": err0,
            "alpha_vision": a_v,
            "alpha_text": a_t,
            "chance": CHANCE[metric],
            "chance_note": CHANCE_NOTES[metric],
            "csv_column": column,
            "anchor_accuracy": float(anchor[column]),
            "fit_points": {
                n: {"published": float(y), "estimate": float(p), "residual": float(r), "log_err_residual": float(lr)}
                for n, y, p, r, lr in zip(names, acc, pred, resid, log_resid)
            },
            "max_abs_residual": float(np.max(np.abs(resid))),
            "rms_residual": float(np.sqrt(np.mean(resid**2))),
        }

    raw = path.read_bytes()
    return {
        "estimator": ESTIMATOR_NAME,
        "version": ESTIMATOR_VERSION,
        "form": (
            "rho_t = (L/L0)*(E/E0)*[a*H/H0 + (1-a)*F/F0], a = attention share of a block (1/3 for both towers); "
            "err = err0 * rho_V**-alpha_vision * rho_T**-alpha_text; acc = max(chance, 1 - err)"
        ),
        "units": "accuracies and errors are fractions in [0, 1]; residual = estimate - published",
        "base": {t: {"layers": b.layers, "heads": b.heads, "ffn": b.ffn, "width": b.width, "head_dim": b.head_dim} for t, b in BASES.items()},
        "validated_rho_min": {t: float(np.min(r)) for t, r in rho.items()},
        "metrics": metrics,
        "provenance": {
            "fit_date": fit_date or _dt.date.today().isoformat(),
            "script": "python -m catransformers.accuracy.fit",
            "csv": f"catransformers/data/{CALIBRATION_FILE}",
            "csv_sha256": hashlib.sha256(raw).hexdigest(),
            "csv_origin": "project shared reference: reference/clip_accuracy_calibration.csv (copied verbatim)",
            "anchor_row": ANCHOR_MODEL,
            "fit_rows": names,
            "sources": sorted(set(df["source"].astype(str))),
            "method": "scipy.optimize.lsq_linear (BVLS), residuals in log error, bounds alpha >= 0, err0 fixed by the anchor",
            "numpy": numpy.__version__,
            "scipy": scipy.__version__,
            "licence": "numbers from arXiv 2505.01386 (tables 3 and 10) and OpenCLIP's results table (MIT)",
        },
    }


def _max_constant_diff(a: Mapping[str, Any], b: ScalingConstants) -> float:
    fitted = ScalingConstants.from_dict(a)
    diffs = [
        abs(getattr(fitted.metrics[m], k) - getattr(b.metrics[m], k))
        for m in METRICS
        for k in ("err0", "alpha_vision", "alpha_text", "chance")
    ]
    diffs += [abs(fitted.validated_rho_min[t] - b.validated_rho_min[t]) for t in BASES]
    return max(diffs)


def _summary(doc: Mapping[str, Any]) -> str:
    lines = [f"{'metric':<16}{'err0':>8}{'alpha_V':>10}{'alpha_T':>10}{'max|res|':>10}"]
    for m, c in doc["metrics"].items():
        lines.append(f"{m:<16}{c['err0']:>8.4f}{c['alpha_vision']:>10.4f}{c['alpha_text']:>10.4f}{c['max_abs_residual']:>10.4f}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m catransformers.accuracy.fit", description=__doc__)
    parser.add_argument("--csv", type=Path, default=None, help="calibration CSV (default: the packaged copy)")
    parser.add_argument("--output", type=Path, default=None, help="constants JSON to write (default: the packaged file)")
    parser.add_argument("--date", default=None, help="fit date to record (default: today)")
    parser.add_argument("--check", action="store_true", help="only compare with the packaged constants; exit 1 if they differ by > 1e-6")
    args = parser.parse_args(argv)
    try:
        doc = fit_constants(args.csv, args.date)
    except DataError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    sys.stdout.write(_summary(doc))
    if args.check:
        from .surrogate import load_constants

        diff = _max_constant_diff(doc, load_constants())
        sys.stdout.write(f"max difference from packaged constants: {diff:.3g}\n")
        return 0 if diff <= 1e-6 else 1
    out = args.output or _default_output()
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
