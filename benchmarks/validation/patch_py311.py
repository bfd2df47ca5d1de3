"""Make accelforge 1.0.467 and hwcomponents 1.0.114 importable on Python 3.11 (syntax only, no behaviour change).

Both declare Python >= 3.12 and use six pieces of 3.12-only syntax: f-strings that reuse their
own quote character inside a replacement field (PEP 701), one multi-line replacement field, and
PEP 695 generic classes. This script rewrites exactly those lines in the oracle's own venv
(benchmarks/.accelforge-venv, git-ignored); it is idempotent and refuses to touch a line that is
not the expected one. It changes nothing in this repository's code.

    benchmarks/.accelforge-venv/bin/python benchmarks/validation/patch_py311.py
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

# (file under site-packages, exact old text, new text)
PATCHES: tuple[tuple[str, str, str], ...] = (
    ("accelforge/frontend/mapping/mapping.py",
     'return f"{self.resource} reserved for {",".join(purposes)}"',
     "return f\"{self.resource} reserved for {','.join(purposes)}\""),
    ("accelforge/frontend/workload.py",
     "f\"{', '.join(\n                            e.name for e in self.einsums_with_tensor(tensor_accesses.name)\n                        )}\"",
     "f\"{', '.join(e.name for e in self.einsums_with_tensor(tensor_accesses.name))}\""),
    ("accelforge/mapper/FFM/_make_pmappings/make_pmapping_templates/make_storage_order.py",
     'f"\\t\\tUnordered storage choice: {", ".join(n.compact_str() for n in x)}"',
     "f\"\\t\\tUnordered storage choice: {', '.join(n.compact_str() for n in x)}\""),
    ("accelforge/mapper/FFM/_make_pmappings/make_pmapping_templates/make_storage_order.py",
     'f"Invalid tensor holder order: {", ".join(n.compact_str() for n in mapping)}: {reason}"',
     "f\"Invalid tensor holder order: {', '.join(n.compact_str() for n in mapping)}: {reason}\""),
    ("accelforge/model/_looptree/reuse/symbolic/_common.py",
     "class RepeatedValue[T]:",
     "class RepeatedValue(Generic[T]):"),
    ("accelforge/model/_looptree/reuse/symbolic/_common.py",
     "class SequenceOfRepatedvalues[T]:",
     "class SequenceOfRepatedvalues(Generic[T]):"),
    ("accelforge/model/_looptree/reuse/symbolic/_common.py",
     "from typing import Any\n",
     "from typing import Any, Generic, TypeVar\nT = TypeVar(\"T\")\n"),
    ("accelforge/model/_looptree/reuse/symbolic/_symbolic.py",
     'f"No backing TensorHolder found in mapping {", ".join(m.compact_str() for m in mapping)}"',
     "f\"No backing TensorHolder found in mapping {', '.join(m.compact_str() for m in mapping)}\""),
    ("hwcomponents/select_models.py",
     'err_str.append(f"\\t{str(err).replace("\\n", "\\n\\t")}")',
     "err_str.append(\"\\t\" + str(err).replace(\"\\n\", \"\\n\\t\"))"),
)


# Python 3.12 library names they use, provided on 3.11 by a sitecustomize in the venv.
SITECUSTOMIZE = """# Written by benchmarks/validation/patch_py311.py: Python 3.12 names accelforge uses, on 3.11.
import itertools
import typing

import typing_extensions

if not hasattr(typing, "override"):
    typing.override = typing_extensions.override
if not hasattr(itertools, "batched"):
    def _batched(iterable, n):
        it = iter(iterable)
        while chunk := tuple(itertools.islice(it, n)):
            yield chunk
    itertools.batched = _batched
"""


def main() -> int:
    site = Path(sysconfig.get_paths()["purelib"])
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    for rel, old, new in PATCHES:
        path = site / rel
        text = path.read_text()
        if new in text and old not in text:
            continue
        if text.count(old) != 1:
            print(f"{rel}: expected text not found exactly once; not patched", file=sys.stderr)
            return 1
        path.write_text(text.replace(old, new))
    bad = []
    for rel in {p[0] for p in PATCHES}:
        try:
            compile((site / rel).read_text(), rel, "exec")
        except SyntaxError as e:
            bad.append(f"{rel}:{e.lineno}: {e.msg}")
    if bad:
        print("still not Python 3.11 syntax:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
