"""How long `catransformers --help` takes, and which heavy modules it imports (goal: < 0.5 s, none)."""

import statistics
import subprocess
import sys
import time

RUNS = 11


def main() -> None:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "catransformers", "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    probe = (
        "import contextlib, io, sys\nfrom catransformers.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    try: main(['--help'])\n    except SystemExit: pass\n"
        "print(','.join(m for m in ('torch','open_clip','plotly','pymoo','dask') if m in sys.modules))"
    )
    heavy = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    base = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True)
        base.append(time.perf_counter() - t0)
    print(f"{'what':<34}{'median s':>10}{'min s':>10}")
    print(f"{'catransformers --help':<34}{statistics.median(times):>10.3f}{min(times):>10.3f}")
    print(f"{'python -c pass (interpreter)':<34}{statistics.median(base):>10.3f}{min(base):>10.3f}")
    print(f"heavy modules imported by --help: {heavy or 'none'} (goal: none, < 0.5 s)")


if __name__ == "__main__":
    main()
