"""Make the shared helper module `_hw_fixtures` importable under pytest's importlib import mode."""

import sys
from pathlib import Path

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
