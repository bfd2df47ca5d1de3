"""The allocator setting of the cost model: glibc keeps the freed temporaries, once per process, unless the user chose otherwise."""

import ctypes
import json
import os
import platform
import subprocess
import sys

import pytest

from hw_models import Gemm, HardwareConfig, HardwareError, Workload, evaluate_cost
from hw_models import allocator

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
# mallinfo2 (glibc 2.33 and later) reports the bytes glibc holds in mmapped chunks
MALLINFO2 = GLIBC and hasattr(ctypes.CDLL(None), "mallinfo2")

# In a fresh process: evaluate once, then allocate a 20 MB array (below the 32 MiB mmap
# threshold) and report whether glibc served it from the heap (arena) or by mmap (hblkhd).
_PROBE = r"""
import ctypes, json, numpy as np
from hw_models import HardwareConfig, Gemm, Workload, evaluate_cost
from hw_models import allocator
evaluate_cost(Workload((Gemm("g", 64, 64, 64),)), HardwareConfig())

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
before = libc.mallinfo2().hblkhd
a = np.ones(2_500_000)  # 20 MB
mmapped = libc.mallinfo2().hblkhd - before
print(json.dumps({"applied": allocator.keep_freed_memory(), "mmapped_mb": mmapped / 1e6}))
"""


def _probe(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", allocator.OPT_OUT_VARIABLE)}
    out = subprocess.run([sys.executable, "-c", _PROBE], env={**clean, **env}, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not MALLINFO2, reason="glibc 2.33+ (mallinfo2) only")
def test_first_evaluation_keeps_large_temporaries_on_the_heap():
    kept = _probe()
    assert kept["applied"] is True
    assert kept["mmapped_mb"] == pytest.approx(0.0, abs=0.5)  # a 20 MB array no longer mapped apart
    system = _probe(**{allocator.OPT_OUT_VARIABLE: "system"})
    assert system["applied"] is False
    assert system["mmapped_mb"] == pytest.approx(20.0, abs=1.0)  # glibc's default: mmap above 128 KiB


@pytest.mark.skipif(not MALLINFO2, reason="glibc 2.33+ (mallinfo2, used by the probe) only")
def test_the_users_own_malloc_settings_win():
    assert _probe(MALLOC_TRIM_THRESHOLD_="1048576")["applied"] is False
    assert _probe(GLIBC_TUNABLES="glibc.malloc.mmap_threshold=65536")["applied"] is False


def test_a_bad_setting_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv(allocator.OPT_OUT_VARIABLE, "turbo")
    monkeypatch.setattr(allocator, "_state", {})
    with pytest.raises(HardwareError, match=r"HW_MODELS_MALLOC='turbo' is not allowed; allowed: keep, system"):
        evaluate_cost(Workload((Gemm("g", 8, 8, 8),)), HardwareConfig())
