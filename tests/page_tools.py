"""Helpers for the page tests (test_page_*.py): open a page through Streamlit's AppTest, read its charts back, and
the independent references those tests compare against (written from the papers / transformers' formulas, not from
rope_viz)."""

from __future__ import annotations

import base64
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
from streamlit.proto.Block_pb2 import Block as BlockProto
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from st_client import section_param as section_param_of  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def open_page(page: str | None, params: dict | None = None, *, check: bool = True) -> AppTest:
    """The app with these URL parameters, switched to ``page`` (e.g. "pages/2_Distance.py"; None = landing page);
    ``check``: assert that it ran without an exception (False: leave that to the caller)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params.update(params or {})
    at.run() if page is None else at.switch_page(page).run()
    assert not check or not at.exception, [e.value for e in at.exception]
    return at


def section_param(at: AppTest) -> str | None:
    """The URL name of the open page's section tabs (``ui.sections``), read from their container's id as
    deploy/warm_up.py does (``st_client.section_param``); None for a page without sections."""
    ids = [b.proto.id for b in _nodes(at.main) if isinstance(b.proto, BlockProto) and b.proto.HasField("tab_container")]
    return next((n for n in map(section_param_of, ids) if n), None)


def _nodes(node):
    children = getattr(node, "children", None)
    for child in (children.values() if isinstance(children, dict) else []):
        yield child
        yield from _nodes(child)


def section_labels(at: AppTest) -> list[str]:
    """The labels of a page's section tabs (``ui.sections``), [] for a page without sections."""
    return [t.label for t in at.tabs]


def open_sections(page: str | None, params: dict | None = None, *, check: bool = True) -> dict[str, AppTest]:
    """Every section of a page: {tab label: the page opened with its section parameter = label}; a page without
    section tabs: {"": the page}. Only the open section of a page runs (``ui.sections``), so a test of the whole
    page opens each. ``check`` as for ``open_page``."""
    first = open_page(page, params, check=check)
    labels, name = section_labels(first), section_param(first)
    if not labels:
        return {"": first}
    return {lab: first if i == 0 and name not in (params or {})
            else open_page(page, {**(params or {}), name: lab}, check=check) for i, lab in enumerate(labels)}


def _unescape(cell):
    """A ``ui.table_cell`` back to the text it shows: a code span's content, or backslash escapes removed."""
    text = str(cell).replace("\u2060", "")          # the word joiner that defuses ":material/"
    m = re.fullmatch(r"(`+) ?(.*?) ?\1", text)
    return m.group(2) if m else re.sub(r"\\(.)", r"\1", text)


def tables(at: AppTest) -> list:
    """The page's tables (``ui.table`` → st.table) as DataFrames of the text a reader sees (Markdown escapes
    removed); the row labels, where a table has them, are its index."""
    out = []
    for t in at.table:
        df = t.value.rename(columns=_unescape).map(_unescape)
        df.index = [_unescape(i) for i in df.index]
        df.index.name = _unescape(t.value.index.name) if t.value.index.name else None
        out.append(df)
    return out


def arr(v) -> np.ndarray:
    """A plotly-JSON array (list, or plotly 7's {"dtype", "bdata"[, "shape"]}) as float64 (None → NaN)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), v["dtype"]).astype(np.float64)
        return a.reshape([int(s) for s in str(v["shape"]).split(",")]) if "shape" in v else a
    return np.array([np.nan if x is None else x for x in np.ravel(np.asarray(v, dtype=object))],
                    dtype=np.float64).reshape(np.shape(v))


def charts(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def chart(at: AppTest, title_start: str) -> dict:
    found = [c for c in charts(at) if c["layout"]["title"]["text"].startswith(title_start)]
    assert len(found) == 1, [c["layout"]["title"]["text"] for c in charts(at)]
    return found[0]


def charts_by_title(at: AppTest) -> dict[str, dict]:
    """Every chart's JSON spec by its title up to the first " (" (titles end with the config)."""
    return {c["layout"]["title"]["text"].split(" (")[0]: c for c in charts(at)}


_SUP = {c: str(i) for i, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")} | {"⁻": "-"}


def number(text: str) -> float:
    """A number as the app writes it (``format_number``: −0.144, 54,410, 2.05×10⁷, 10⁻⁴) back to a float."""
    t = str(text).strip().replace("−", "-").replace(",", "")
    if "10" in t and any(c in t for c in _SUP):
        mant, _, power = t.rpartition("10")
        mant = mant.rstrip("×")
        value = 10.0 ** int("".join(_SUP[c] for c in power))
        return value * (float(mant) if mant not in ("", "-", "+") else -1.0 if mant == "-" else 1.0)
    return float(t)


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def page_text(at: AppTest) -> str:
    """All the prose a user reads on the page: markdown, captions, info / warning / success boxes, widget labels."""
    parts = [x.value for kind in ("markdown", "caption", "info", "warning", "success", "error") for x in at.get(kind)]
    parts += [w.label for kind in ("toggle", "button", "slider", "select_slider", "selectbox", "multiselect",
                                   "number_input") for w in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def query(at: AppTest) -> dict[str, str]:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}


# -- independent references ------------------------------------------------------------------------------------------
def longrope_theta(hf: dict, seq_len: int) -> np.ndarray:
    """LongRoPE θ_i as transformers' _compute_longrope_parameters: 1 / (f_i · b^(2i/r)) with the long factors when
    seq_len > original_max_position_embeddings, else the short ones (Ding et al., arXiv:2402.13753)."""
    sc = hf["rope_scaling"]
    r = hf["hidden_size"] // hf["num_attention_heads"]
    f = np.array(sc["long_factor"] if seq_len > hf["original_max_position_embeddings"] else sc["short_factor"])
    return 1.0 / (f * hf["rope_theta"] ** (np.arange(0, r, 2) / r))


def longrope_attention_factor(hf: dict) -> float:
    """transformers: √(1 + ln(s)/ln(L0)), s = max_position_embeddings / original_max_position_embeddings."""
    s = hf["max_position_embeddings"] / hf["original_max_position_embeddings"]
    return math.sqrt(1 + math.log(s) / math.log(hf["original_max_position_embeddings"]))


def llama3_theta(base: float, r: int, factor: float, low: float, high: float, old_ctx: int) -> np.ndarray:
    """Llama 3.1's frequency rule as transformers' _compute_llama3_parameters, pair by pair."""
    out = []
    for i in range(r // 2):
        inv = base ** (-2 * i / r)
        wl = 2 * math.pi / inv
        if wl > old_ctx / low:
            out.append(inv / factor)
        elif wl < old_ctx / high:
            out.append(inv)
        else:
            s = (old_ctx / wl - low) / (high - low)
            out.append((1 - s) * inv / factor + s * inv)
    return np.array(out)


def first_negative(theta: np.ndarray, const: float, limit: int) -> int | None:
    """First integer m in [0, limit] with Σ cos(m θ_i) + const < 0: plain numpy, in chunks."""
    for m0 in range(0, limit + 1, 8192):
        m = np.arange(m0, min(m0 + 8192, limit + 1), dtype=np.float64)
        v = np.cos(m[:, None] * theta[None, :]).sum(axis=1) + const
        neg = np.flatnonzero(v < 0)
        if neg.size:
            return int(m[neg[0]])
    return None
