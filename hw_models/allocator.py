"""Keep the cost model's freed temporaries inside the process (glibc's malloc thresholds).

One evaluation allocates and frees hundreds of temporary numpy arrays of 0.1-25 MB. glibc's
malloc hands such memory back to the kernel (chunks above its mmap threshold are unmapped
on free; a free area above its trim threshold at the top of the heap is trimmed), and the
next evaluation gets fresh pages from the kernel again, each zeroed and faulted in: about
15 % of a call on the 3,240-design reference grid and 6-10 % on 100,000 pairs
(docs/hardware-model.md, *Speed*). glibc's dynamic thresholds do not prevent it: they follow
the largest block freed so far, so the trim threshold stays near twice the largest temporary
and the heap top is trimmed after every call.

`keep_freed_memory()`, called on the first evaluation in a process, fixes the mmap threshold
at glibc's own ceiling for its dynamic one and the trim threshold at twice that, so that at
most TRIM_THRESHOLD_BYTES of freed memory stays mapped between calls (peak memory is
unchanged). It changes nothing where the C library is not glibc, where the user has set any
of glibc's malloc environment variables or tunables (their choice wins), or where
HW_MODELS_MALLOC=system.

Source: mallopt(3), Linux man-pages (M_MMAP_THRESHOLD: the upper limit is
DEFAULT_MMAP_THRESHOLD_MAX, 4 * 1024 * 1024 * sizeof(long) on 64-bit systems; the dynamic
rule: the threshold rises to the size of a freed mmapped block, and the trim threshold to
twice it; setting either parameter disables the dynamic adjustment).
"""

from __future__ import annotations

import os
import sys

from .errors import HardwareError

__all__ = ["keep_freed_memory", "MMAP_THRESHOLD_BYTES", "TRIM_THRESHOLD_BYTES", "OPT_OUT_VARIABLE"]

MMAP_THRESHOLD_BYTES = 32 * 2**20  # bytes; DEFAULT_MMAP_THRESHOLD_MAX on 64-bit glibc (mallopt(3))
TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES  # bytes; twice the mmap threshold, as glibc's dynamic rule sets it
OPT_OUT_VARIABLE = "HW_MODELS_MALLOC"  # "keep" (the default) or "system": leave the C library's allocator as it is
_CHOICES = ("keep", "system")

# mallopt parameter numbers (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# glibc's own ways to set these thresholds (mallopt(3), ENVIRONMENT; glibc tunables)
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_", "GLIBC_TUNABLES")

_state: dict[str, bool] = {}


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds once per process; True when they were set by this call or an earlier one."""
    if "applied" not in _state:
        _state["applied"] = _apply()
    return _state["applied"]


def _apply() -> bool:
    setting = os.environ.get(OPT_OUT_VARIABLE, "keep").strip().lower() or "keep"
    if setting not in _CHOICES:
        raise HardwareError(f"environment {OPT_OUT_VARIABLE}={os.environ[OPT_OUT_VARIABLE]!r} is not allowed; allowed: {', '.join(_CHOICES)}")
    if setting == "system" or not sys.platform.startswith("linux") or any(name in os.environ for name in _USER_SETTINGS):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 -- only glibc has it (musl and others: leave them alone)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success; the mmap threshold first, so a refused one leaves trimming as it was.
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
