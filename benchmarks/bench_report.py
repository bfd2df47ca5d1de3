"""Report benchmarks: build time and size of report.html for the default searches, from memory.

    .venv/bin/python benchmarks/bench_report.py                  # carbon and all modes (~40 s on 2 cores)
    .venv/bin/python benchmarks/bench_report.py --modes carbon --repeats 9

Runs each mode's default search (population 100 x 100 generations) once in process, then builds
its report from the in-memory result `--repeats` times (plotly.js already written, plotly
already imported: what a search adds at its end once the library is loaded) and prints one table:
median and minimum build time, the page's size and the size of the shared plotly.js; then the
one-off costs (importing the plot modules, writing plotly.js into a fresh folder).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", default="carbon,all")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    t0 = time.perf_counter()
    from catransformers.viz import report as R
    from catransformers.viz import results_from

    import plotly.graph_objects  # noqa: F401  (the import a first report pays)

    import_s = time.perf_counter() - t0
    from catransformers.search import load_spec, run_search

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        js = R.write_plotlyjs(tmp)
        js_s = time.perf_counter() - t0
        for mode in args.modes.split(","):
            result = run_search(load_spec(overrides={"search.mode": mode}), None)
            res = results_from(result, tmp)
            out = os.path.join(tmp, f"{mode}.html")
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                R.write_report(res, out)
                times.append(time.perf_counter() - t0)
            rows.append(
                {
                    "mode": mode,
                    "designs": len(result.evaluations),
                    "pareto": len(result.pareto),
                    "build_median_s": statistics.median(times),
                    "build_min_s": min(times),
                    "report_mb": os.path.getsize(out) / 1e6,
                    "plotly_js_mb": os.path.getsize(js) / 1e6,
                }
            )
    cols = list(rows[0])
    cells = [[f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    print(f"\nreport.html from memory, median of {args.repeats}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))))
    print(f"one-off: importing viz and plotly {import_s:.3f} s; writing plotly.js into a fresh folder {js_s:.3f} s")


if __name__ == "__main__":
    main()
