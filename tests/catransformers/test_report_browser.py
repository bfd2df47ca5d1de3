"""The HTML reports render in a real browser: headless Chromium, offline, every figure drawn as plotly SVG."""

from __future__ import annotations

import html
import importlib.util
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # about 15-25 s on an idle 2-core machine: four pages, one browser each, in parallel

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="`chromium` is not on PATH (Debian: apt-get install chromium); the real-browser test needs it"
)

_spec = importlib.util.spec_from_file_location("_viz_fixtures", Path(__file__).with_name("test_viz.py"))
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)


def _browser_cmd(html: Path, profile: Path) -> list[str]:
    return [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-unsafe-swiftshader",  # software WebGL for 3-D scenes and parallel-coordinate lines
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        "--window-size=1280,800",
        "--virtual-time-budget=3000",
        "--dump-dom",
        html.resolve().as_uri(),
    ]


def _render_all(pages: dict[str, Path], tmp: Path, timeout_s: float = 180.0) -> dict[str, tuple[str, str]]:
    """Dump the DOM of every page, browsers in parallel, output to files (no pipe to fill): {name: (dom, console log)}."""
    procs = {}
    for name, html in pages.items():
        dom_f = open(tmp / f"{name}.dom.html", "w", encoding="utf-8")
        log_f = open(tmp / f"{name}.log", "w", encoding="utf-8")
        procs[name] = (subprocess.Popen(_browser_cmd(html, tmp / f"profile-{name}"), stdout=dom_f, stderr=log_f, stdin=subprocess.DEVNULL), dom_f, log_f)
    deadline = time.monotonic() + timeout_s
    out = {}
    for name, (proc, dom_f, log_f) in procs.items():
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other, _, _ in procs.values():
                other.kill()
                other.wait()
            pytest.fail(f"chromium did not finish rendering {pages[name]} in {timeout_s:.0f} s")
        finally:
            dom_f.close()
            log_f.close()
        log = (tmp / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        assert proc.returncode == 0, f"chromium exited {proc.returncode} on {name}: {log[-2000:]}"
        out[name] = ((tmp / f"{name}.dom.html").read_text(encoding="utf-8"), log)
    return out


def _figure_dom(dom: str, fig_id: str) -> str:
    """The rendered DOM of one figure: from its wrapper to the next figure's."""
    start = dom.find(f'data-figure="{fig_id}"')
    assert start >= 0, f"figure {fig_id} is missing from the rendered page"
    nxt = dom.find('data-figure="', start + 1)
    return dom[start : nxt if nxt > 0 else len(dom)]


def _points(chunk: str) -> int:
    return len(re.findall(r'class="point[" ]', chunk))


# Appended to a copy of each page: after plotly has drawn, write what the layout came to into the DOM
# (axis ranges, the boxes of titles, legend, toolbar and colour bars relative to their figure).
_FACTS_JS = """
<script>
window.addEventListener('load', function () { setTimeout(function () {
  function box(el, root) {
    if (!el) return null;
    var b = el.getBoundingClientRect(), r = root.getBoundingClientRect();
    if (!b.width && !b.height) return null;
    return [b.left - r.left, b.top - r.top, b.right - r.left, b.bottom - r.top];
  }
  var out = {};
  document.querySelectorAll('.plotly-graph-div').forEach(function (gd) {
    var L = gd._fullLayout, f = {width: L.width, height: L.height, traces: gd.data.map(function (t) { return t.name || ''; })};
    if (L.xaxis) { f.x = L.xaxis.range; f.xtype = L.xaxis.type; }
    if (L.yaxis) { f.y = L.yaxis.range; f.ytype = L.yaxis.type; }
    f.title = box(gd.querySelector('.gtitle'), gd);
    f.xtitle = box(gd.querySelector('.xtitle'), gd);
    f.ytitle = box(gd.querySelector('.ytitle'), gd);
    f.legend = box(gd.querySelector('.legend'), gd);
    f.modebar = box(gd.querySelector('.modebar'), gd);
    f.colorbars = Array.prototype.map.call(gd.querySelectorAll('.colorbar'), function (c) { return box(c, gd); });
    f.axis_titles = Array.prototype.map.call(gd.querySelectorAll('.parcoords .axis-title'), function (c) { return box(c, gd); });
    out[gd.id] = f;
  });
  var pre = document.createElement('pre');
  pre.id = 'layout-facts';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}, 300); });
</script>
"""


def _with_facts(page: Path) -> Path:
    probe = page.with_name(page.stem + ".probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _FACTS_JS + "</body>"), encoding="utf-8")
    return probe


def _facts(dom: str) -> dict:
    m = re.search(r'<pre id="layout-facts">(.*?)</pre>', dom, flags=re.S)
    assert m, "the layout probe did not run (plotly did not draw?)"
    return json.loads(html.unescape(m.group(1)))


def _inside(b, f, slack=1.0) -> bool:
    return b is not None and b[0] >= -slack and b[1] >= -slack and b[2] <= f["width"] + slack and b[3] <= f["height"] + slack


def _overlap(a, b) -> bool:
    return a is not None and b is not None and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _check_layout(name: str, facts: dict) -> None:
    """What every figure must do: titles and colour bars inside the figure, the legend clear of the toolbar and colour bars."""
    for fig_id, f in facts.items():
        where = f"{name}/{fig_id}"
        for key in ("title", "xtitle", "ytitle"):
            if f.get(key) is not None:
                assert _inside(f[key], f), f"{where}: the {key} {f[key]} is cut off (figure {f['width']}x{f['height']})"
        for cb in f["colorbars"]:
            assert _inside(cb, f), f"{where}: a colour bar {cb} is cut off (figure {f['width']}x{f['height']})"
            assert not _overlap(f["legend"], cb), f"{where}: the legend {f['legend']} overlaps a colour bar {cb}"
        assert not _overlap(f["legend"], f["modebar"]), f"{where}: the legend {f['legend']} overlaps the toolbar {f['modebar']}"
        assert not _overlap(f["legend"], f["title"]), f"{where}: the legend overlaps the title"
        for t in f["axis_titles"]:
            assert _inside(t, f), f"{where}: a parallel-axis title {t} is cut off"


@needs_chromium
def test_reports_render_every_figure_offline(tmp_path):
    carbon = fx.make_results(tmp_path / "carbon", n=60)
    objs3 = (("accuracy", "max"), ("latency_s", "min"), ("total_kg", "min"))
    three = fx.make_results(tmp_path / "all", mode="all", objectives=objs3, n=60)
    energy = fx.make_results(tmp_path / "energy", mode="energy", seed=3, n=60)
    from catransformers.viz import write_compare_report, write_report, write_sweep_report

    (tmp_path / "cmp").mkdir()
    pages = {
        "carbon": Path(write_report(str(carbon))),
        "three": Path(write_report(str(three))),
        "compare": Path(write_compare_report(str(tmp_path / "cmp"), {"energy": str(energy), "carbon": str(carbon)})),
        "sweep": Path(write_sweep_report(str(fx.make_sweep(tmp_path / "sweep.csv", n=120)), str(tmp_path / "sweep.html"))),
    }
    rendered = _render_all({k: _with_facts(v) for k, v in pages.items()}, tmp_path)

    for name, (dom, log) in rendered.items():
        assert "Uncaught" not in log, f"{name}: JavaScript error in the page:\n" + "\n".join(
            line for line in log.splitlines() if "Uncaught" in line
        )
        assert "WebGL is not supported" not in dom.split("<body", 1)[1], name  # the bundle in <head> holds the text
        _check_layout(name, _facts(dom))

    dom = rendered["carbon"][0]
    front = fx.pd.read_csv(carbon / "pareto.csv")
    n_front = len(front)
    pareto = _figure_dom(dom, "fig-pareto")
    assert 'class="main-svg"' in pareto and "scatterlayer" in pareto
    # every drawable point (60 designs, 1 failed) once: the front on top, the others behind it
    assert _points(pareto) == 59
    assert 'class="js-line"' in pareto  # the step line
    assert "estimate" in pareto and "maximised" in pareto  # axis title, rendered as SVG text
    f = _facts(dom)["fig-pareto"]
    # the view opens on the front: its ranges hold every front point, and not much more than the front
    x0, x1 = f["x"]
    y0, y1 = f["y"]
    assert x0 < front["total_kg"].min() and front["total_kg"].max() < x1
    assert y0 < front["accuracy"].min() and front["accuracy"].max() < y1
    span = front["total_kg"].max() - front["total_kg"].min()
    assert (x1 - x0) <= 1.5 * span + 1e-12

    bars = _figure_dom(dom, "fig-breakdown")
    assert "barlayer" in bars and _points(bars) == 3 * n_front  # logic, DRAM, operational per design
    assert "kg CO2e" in bars

    hw = _figure_dom(dom, "fig-hardware")
    assert 'class="main-svg"' in hw and "parcoords" in hw
    ev = fx.pd.read_csv(carbon / "evaluations.csv")
    n_varying = sum(front[c].nunique() > 1 for c in fx.PRUNE + fx.HW)
    assert len(re.findall(r'class="y-axis"', hw)) == n_varying + 2  # every varying decision variable and two objectives
    assert "gl-canvas" in hw
    assert len(ev) == 60

    hv = _figure_dom(dom, "fig-hypervolume")
    assert "scatterlayer" in hv and _points(hv) == 6  # six generations

    three_dom = _figure_dom(rendered["three"][0], "fig-pareto")
    assert 'class="main-svg"' in three_dom and "gl-container" in three_dom and "<canvas" in three_dom

    cmp_dom = _figure_dom(rendered["compare"][0], "fig-compare")
    assert len(re.findall(r'class="trace scatter', cmp_dom)) == 4  # two modes x (step line, points)
    traces = _facts(rendered["compare"][0])["fig-compare"]["traces"]
    assert traces[-1].startswith("carbon")  # drawn last, on top

    sweep = _figure_dom(rendered["sweep"][0], "fig-sweep")
    assert _points(sweep) == 120 + 2  # every hardware point and the two marked designs
