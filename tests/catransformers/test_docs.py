"""The docs stand on their own: no links or paths outside the repository, and relative links resolve."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
DATA_COMMENTS = sorted((ROOT / "hw_models" / "data").glob("*")) + sorted((ROOT / "catransformers" / "data").glob("*"))


@pytest.mark.parametrize("path", PAGES + DATA_COMMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_reference_to_files_outside_the_repository(path):
    text = path.read_text(errors="replace")
    for bad in ("/work/", "shared/reference", "REFERENCE.md", "ACCURACY.md", "PAPER_TABLE2"):
        assert bad not in text, f"{path.name} mentions {bad!r}; restate the fact with its primary source (docs/reference-facts.md)"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(path):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (path.parent / target).exists(), f"{path.name}: link to {target} does not resolve"
