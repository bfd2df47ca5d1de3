"""Figures for notebooks: the interactive plotly output and a static image beside it, in one display bundle."""

from __future__ import annotations

import base64
import json
import logging
import os
from typing import Any

__all__ = ["figure_bundle", "PLOTLY_MIME"]

log = logging.getLogger(__name__)

PLOTLY_MIME = "application/vnd.plotly.v1+json"


def figure_bundle(fig: Any, image_path: str | None = None, image_format: str = "png", width: int = 1100) -> dict[str, Any]:
    """A display bundle for `IPython.display.display(bundle, raw=True)`: plotly's own mimetype
    (interactive in Jupyter) and `image/png` or `image/svg+xml` (what a GitHub preview or an
    nbconvert HTML export shows, neither of which runs plotly).

    image_path: also save the image there. Without kaleido or a Chromium the bundle holds the
    interactive figure and a text/plain line saying why there is no image (logged as a warning).
    """
    from .report import _figure_json

    bundle: dict[str, Any] = {PLOTLY_MIME: json.loads(_figure_json(fig)), "text/plain": f"<plotly figure: {fig.layout.title.text or ''}>"}
    image = None
    for attempt in range(2):  # a headless browser that starts slowly on a busy machine gets a second try
        try:
            import plotly.io as pio

            import kaleido  # noqa: F401  (the static extra)

            image = pio.to_image(fig, format=image_format, width=width)
            break
        except ImportError as exc:
            error: Exception = exc
            break
        except Exception as exc:  # kaleido finding no browser, or the browser failing
            error = exc
    if image is None:
        log.warning("no static image of the figure (%s: %s); install the static extra and Chromium", type(error).__name__, error)
        bundle["text/plain"] += f" (no static image: {type(error).__name__}: {str(error)[:200]})"
        return bundle
    if image_path:
        os.makedirs(os.path.dirname(os.path.abspath(image_path)), exist_ok=True)
        with open(image_path, "wb") as fh:
            fh.write(image)
    if image_format == "svg":
        bundle["image/svg+xml"] = image.decode("utf-8")
    else:
        bundle["image/png"] = base64.b64encode(image).decode("ascii")
    return bundle
