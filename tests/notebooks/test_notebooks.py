"""The notebooks run top to bottom (executed, never imported)."""

import importlib.util
import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

pytestmark = pytest.mark.slow


def _run(name: str, tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return nb


def _outputs(nb) -> str:
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", ""))
            texts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


def _data(nb, mime: str) -> list:
    return [out["data"][mime] for cell in nb.cells for out in cell.get("outputs", []) if mime in out.get("data", {})]


def test_quickstart_runs(tmp_path):
    nb = _run("quickstart.ipynb", tmp_path)
    text = _outputs(nb)
    assert "minimum carbon" in text
    assert "complete" in text  # the search finished
    assert "catransformers-quickstart" in text or "carbon" in text
    # the story in words, computed from the run: carbon shares, the cost of accuracy, carbon vs latency mode
    assert "operational carbon is" in text and "more carbon" in text and "the carbon mode's choice emits" in text
    figures = _data(nb, "application/vnd.plotly.v1+json")
    assert len(figures) == 5  # sweep, front, carbon breakdown, parallel coordinates, compare overlay
    if importlib.util.find_spec("kaleido") and (shutil.which("chromium") or shutil.which("google-chrome")):
        pngs = _data(nb, "image/png")
        missing = [o["data"]["text/plain"] for c in nb.cells for o in c.get("outputs", []) if "application/vnd.plotly.v1+json" in o.get("data", {}) and "image/png" not in o["data"]]
        assert not missing, missing  # a static image beside every interactive figure
        assert all(p.startswith("iVBOR") for p in pngs)  # base64 of a PNG header


def test_real_models_runs(tmp_path):
    pytest.importorskip("open_clip")
    nb = _run("real_models.ipynb", tmp_path)
    assert "measured" in _outputs(nb)
