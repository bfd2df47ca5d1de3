"""Shared fixtures of the catransformers tests."""

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models gain nothing from threads, and OpenMP spin-waiting on a busy 2-core machine
    made the real-model tests ~8x slower; one thread per module, the setting restored after."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# The fuzz strategies (`_fuzz_cli`) are a helper module beside the tests: importable under
# pytest's importlib import mode, and runnable on their own for a large counted budget.
import sys as _sys
from pathlib import Path as _Path

if str(_Path(__file__).parent) not in _sys.path:
    _sys.path.insert(0, str(_Path(__file__).parent))
