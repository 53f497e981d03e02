"""Small helpers shared by the page tests (AppTest runs of one page, plotly-JSON arrays, charts by title)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def arr(v) -> np.ndarray:
    """A plotly-JSON array, flattened: a (nested) list, or plotly's {"dtype", "bdata"} base64 encoding."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), v["dtype"]).astype(np.float64)
    return np.asarray(v, dtype=np.float64).reshape(-1)


def open_page(page: str, params: dict | None = None) -> AppTest:
    """The app opened with ``params`` in the URL, then ``page`` (e.g. "pages/3_Aliasing.py"); no exception."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params.update(params or {})
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> dict[str, dict]:
    """Every chart's JSON spec by its title up to the first " (" (titles end with the config)."""
    out = {}
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        out[spec["layout"]["title"]["text"].split(" (")[0]] = spec
    return out


def page_text(at: AppTest) -> str:
    """All the prose a user reads on the page: markdown, captions, info / warning / success boxes, widget labels."""
    parts = [x.value for kind in ("markdown", "caption", "info", "warning", "success", "error") for x in at.get(kind)]
    parts += [w.label for kind in ("toggle", "button", "slider", "select_slider", "selectbox", "multiselect",
                                   "number_input") for w in at.get(kind)]
    return "\n".join(str(p) for p in parts)
