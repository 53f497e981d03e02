"""The shared sidebar (preset + overrides + config.json import), its cross-page state and the URL mirror.

State lives in ``st.session_state`` under non-widget keys (``_rv_state``, ``_rv_preset``, ``_rv_pages``) because
Streamlit gives the same keyed widget a different identity on every page (and drops its value when the page
changes). Each run copies the stored value into the widget key before the widget is drawn and an ``on_change``
callback copies it back (Streamlit's documented multipage pattern). The URL is read once per session (first run) and
rewritten on every run from the stored state; see ``rope_viz.ui.state`` for the encoding.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Callable

import streamlit as st

from ..config import CONTEXT_MAX, FACTOR_MAX, HEAD_DIM_MAX, SCALING_LABELS, RopeConfig, from_hf_config
from . import state as S

_STATE = "_rv_state"
_PRESET = "_rv_preset"
_URL0 = "_rv_url0"          # the query string the session started with
_URL_ERRORS = "_rv_url_errors"
_PAGES = "_rv_pages"        # page-level persisted values: name -> value
_PAGE_KEYS = "_rv_page_keys"  # page script hash -> names persisted on that page (kept in the URL)
_IMPORT_MSG = "_rv_import_msg"
_W = "_rvw_"                # widget key prefix (sidebar)
_P = "_rvp_"                # widget key prefix (page-level, ``persist``)
CUSTOM = "(custom)"

BASE_MIN, BASE_MAX_UI = 10.0, 1e9
CONTEXT_MAX_UI = 2_097_152
_BASE_GRID = sorted({round(m * 10.0 ** k, 6) for k in range(1, 9) for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8)}
                    | {1e9})
_CTX_GRID = sorted({m << k for k in range(7, 22) for m in (1, 3, 5) if (m << k) <= CONTEXT_MAX_UI})
_FRACTION_GRID = (0.125, 0.25, 0.375, 0.4, 0.5, 0.625, 0.75, 0.875, 1.0)


# -- session bootstrap ------------------------------------------------------------------------------------------------
def _ensure_session() -> None:
    ss = st.session_state
    if _STATE in ss:
        return
    params = {k: st.query_params.get(k) for k in st.query_params.keys()}
    ss[_URL0] = params
    preset, state, errors = S.decode_query(params)
    ss[_STATE], ss[_PRESET], ss[_URL_ERRORS] = state, preset, errors
    ss[_PAGES] = {}
    ss[_PAGE_KEYS] = {}


def _page_hash() -> str:
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        ctx = get_script_run_ctx()
        return ctx.page_script_hash if ctx else ""
    except Exception:  # pragma: no cover - private API moved
        return ""


def _sync_url() -> None:
    """Make st.query_params = config encoding + this page's persisted parameters (only changed keys are sent)."""
    ss = st.session_state
    desired = S.encode_query(ss[_STATE], ss[_PRESET])
    page_names = ss[_PAGE_KEYS].get(_page_hash(), set())
    for name in page_names:
        if name in ss[_PAGES] and ss[_PAGES][name] != ss.get("_rvd_" + name):
            desired[name] = _fmt_page(ss[_PAGES][name])
    current = {k: st.query_params.get(k) for k in st.query_params.keys()}
    for k in current:
        if k not in desired:
            del st.query_params[k]
    for k, v in desired.items():
        if current.get(k) != v:
            st.query_params[k] = v


def _fmt_page(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ",".join(_fmt_page(x) for x in v)
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return S._short(v)
    return str(v)


def _parse_page(text: str, default: Any) -> Any:
    if isinstance(default, (list, tuple)):
        proto = default[0] if len(default) else ""
        return [_parse_page(t, proto) for t in text.split(",") if t != ""]
    if isinstance(default, bool):
        if text.lower() in ("1", "true"):
            return True
        if text.lower() in ("0", "false"):
            return False
        raise ValueError("expected 0 or 1")
    if isinstance(default, int):
        v = float(text)
        if not v.is_integer():
            raise ValueError("expected an integer")
        return int(v)
    if isinstance(default, float):
        v = float(text)
        if not math.isfinite(v):
            raise ValueError("expected a finite number")
        return v
    return text


# -- page-level persisted widgets -----------------------------------------------------------------------------------
def persist(name: str, default: Any, *, lo: float | None = None, hi: float | None = None,
            options: list | tuple | None = None) -> dict[str, Any]:
    """Keyword arguments that make a page widget keep its value across pages and mirror it in the URL::

        pos = st.slider("Position m (tokens)", 0, 4096, **ui.persist("pos", 100, lo=0, hi=4096))

    Do not also pass ``value=``/``index=`` to the widget. The first value comes from the URL (``?pos=...``) when the
    session starts with one, else ``default``; it is clamped into [lo, hi] and reset to ``default`` when not in
    ``options``. Names must not collide with the sidebar's URL keys (``rope_viz.ui.state.RESERVED_URL_KEYS``).
    """
    if name in S.RESERVED_URL_KEYS:
        raise ValueError(f"persist name {name!r} is reserved for the sidebar config; pick another")
    _ensure_session()
    ss = st.session_state
    pages = ss[_PAGES]
    if name not in pages:
        value = default
        text = ss[_URL0].get(name)
        if text is not None:
            try:
                value = _parse_page(text, default)
            except ValueError as e:
                st.warning(f"URL parameter {name}={text[:40]!r} ignored: {e}")
        pages[name] = value
    value = pages[name]
    if options is not None:
        if isinstance(default, (list, tuple)):   # multiselect: keep the known items
            value = [v for v in value if v in options]
        elif value not in options:
            value = default if default in options else options[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if lo is not None and value < lo:
            value = type(value)(lo)
        if hi is not None and value > hi:
            value = type(value)(hi)
    pages[name] = value
    ss["_rvd_" + name] = default
    ss[_PAGE_KEYS].setdefault(_page_hash(), set()).add(name)
    wkey = _P + name
    ss[wkey] = value
    if st.query_params.get(name) != (_fmt_page(value) if value != default else None):
        if value != default:
            st.query_params[name] = _fmt_page(value)
        elif name in st.query_params:
            del st.query_params[name]
    return {"key": wkey, "on_change": _store_page, "args": (name, wkey)}


def _store_page(name: str, wkey: str) -> None:
    st.session_state[_PAGES][name] = st.session_state[wkey]


# -- the sidebar ----------------------------------------------------------------------------------------------------
def _bind(field: str, to_widget: Callable[[Any], Any] = lambda v: v,
          from_widget: Callable[[Any], Any] = lambda v: v) -> dict[str, Any]:
    wkey = _W + field
    st.session_state[wkey] = to_widget(st.session_state[_STATE].get(field))
    return {"key": wkey, "on_change": _store, "args": (field, wkey, from_widget)}


def _store(field: str, wkey: str, from_widget: Callable[[Any], Any]) -> None:
    st.session_state[_STATE][field] = from_widget(st.session_state[wkey])


def _clamp(v: Any, lo: float, hi: float, fallback: Any) -> Any:
    if v is None:
        return fallback
    try:
        return min(max(v, lo), hi)
    except TypeError:
        return fallback


def _with(grid, value) -> list:
    vals = set(grid)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        vals.add(value)
    return sorted(vals)


def _fmt_base(b: float) -> str:
    if b >= 1e7:
        return f"{b:.4g}"
    return f"{b:,.6g}" if b != int(b) else f"{int(b):,}"


def _on_preset() -> None:
    name = st.session_state[_W + "preset"]
    if name == CUSTOM:
        st.session_state[_PRESET] = None  # keep the values, drop the baseline
        return
    try:
        st.session_state[_STATE] = S.baseline_state(name)
        st.session_state[_PRESET] = name
    except ValueError as e:
        st.session_state[_IMPORT_MSG] = ("error", str(e))


def _on_scaling() -> None:
    s = st.session_state[_STATE]
    new = st.session_state[_W + "scaling"]
    s["scaling"] = new
    if new not in (S.NO_SCALING, "longrope") and s.get("factor") is None:
        s["factor"] = S.DEFAULT_STATE["factor"]
    if new in ("yarn", "llama3", "longrope") and s.get("orig") is None:
        s["orig"] = s["context_length"]
    if new == "longrope" and (s.get("short_factor") is None or s.get("long_factor") is None):
        _synth_longrope()
        st.session_state[_IMPORT_MSG] = ("info", "LongRoPE needs per-pair factor lists: a synthetic ramp 1 → s was "
                                                 "filled in (load a Phi-3 preset or a config.json for real ones).")


def _on_import() -> None:
    ss = st.session_state
    up = ss.get(_W + "upload")
    text = up.getvalue().decode("utf-8", errors="replace") if up is not None else ss.get(_W + "paste", "")
    if not text.strip():
        ss[_IMPORT_MSG] = ("error", "nothing to import: upload a config.json or paste its text")
        return
    try:
        cfg = from_hf_config(text, layout=ss[_STATE].get("layout", "half"))
    except ValueError as e:
        ss[_IMPORT_MSG] = ("error", f"config.json not imported: {e}")
        return
    ss[_STATE] = S.state_from_config(cfg)
    ss[_PRESET] = None
    ss[_IMPORT_MSG] = ("success", f"imported: {cfg.label()}")


def _synth_longrope() -> None:
    s = st.session_state[_STATE]
    p = int(int(s["head_dim"] * s["rotary_fraction"]) // 2)
    factor = s.get("factor") or max(s["context_length"] / (s.get("orig") or s["context_length"]), 1.0)
    s["short_factor"], s["long_factor"] = S.synth_longrope_factors(p, factor)


def page_list() -> list[tuple[str, str]]:
    """(script path relative to the app root, label) for the landing page and every pages/N_Name.py, in order."""
    root = _app_root()
    out = [("app.py", "Intuition")]
    if root is not None:
        def order(p):
            m = re.match(r"(\d+)", p.stem)
            return (int(m.group(1)) if m else 10 ** 6, p.stem)
        for f in sorted((root / "pages").glob("*.py"), key=order):
            out.append((f"pages/{f.name}", re.sub(r"^\d+[_ -]*", "", f.stem).replace("_", " ")))
    return out


def _app_root() -> Path | None:
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        ctx = get_script_run_ctx()
        return Path(ctx.main_script_path).resolve().parent if ctx else None
    except Exception:  # pragma: no cover - private API moved
        return None


def _nav() -> None:
    """Our own page list (config.toml hides Streamlit's, whose landing entry would read "app")."""
    for path, label in page_list():
        st.page_link(path, label=label)
    st.divider()


def config_sidebar() -> RopeConfig | None:
    """Draw the shared sidebar and return the RopeConfig it describes, or None (after ``st.error`` with the
    library's message) when the settings are invalid. Call it once near the top of every page."""
    _ensure_session()
    ss = st.session_state
    state = ss[_STATE]
    names = S.preset_names()
    if ss[_PRESET] is not None and ss[_PRESET] not in names:
        ss[_PRESET] = None
    sb = st.sidebar
    with sb:
        _nav()
        st.header("RoPE configuration")
        ss[_W + "preset"] = ss[_PRESET] or CUSTOM
        st.selectbox("Preset (real model)", [CUSTOM] + names, key=_W + "preset", on_change=_on_preset,
                     help="Load a published model's RoPE settings; the fields below override it.")
        if ss[_PRESET]:
            base_state = S.baseline_state(ss[_PRESET])
            changed = [n for n in S.FIELDS if not S._same(state.get(n), base_state.get(n))]
            if changed:
                st.caption("Overrides: " + ", ".join(changed))

        st.number_input("Head dim d (channels)", min_value=2, max_value=HEAD_DIM_MAX, step=2,
                        help="Channels per attention head; must be even (2 … 1024).",
                        **_bind("head_dim", lambda v: int(_clamp(v, 2, HEAD_DIM_MAX, 128))))
        st.select_slider("Base b (rope_theta, log scale)", options=_with(_BASE_GRID, state["base"]),
                         format_func=_fmt_base, help="θ_i = b^(−2i/r). Log-spaced stops from 10 to 1e9.",
                         **_bind("base", lambda v: float(v) if v is not None else 10000.0))
        st.select_slider("Context length L (tokens)", options=_with(_CTX_GRID, state["context_length"]),
                         format_func=lambda v: f"{int(v):,}",
                         help=f"max_position_embeddings; up to {CONTEXT_MAX_UI:,} here "
                              f"(the library accepts {CONTEXT_MAX:,}).",
                         **_bind("context_length", lambda v: int(v) if v is not None else 4096))
        st.select_slider("Rotary fraction (share of channels rotated)",
                         options=_with(_FRACTION_GRID, state["rotary_fraction"]), format_func=lambda v: f"{v:g}",
                         **_bind("rotary_fraction", lambda v: float(v) if v is not None else 1.0))
        st.radio("Pair layout", ["half", "interleaved"], horizontal=True,
                 format_func=lambda v: {"half": "half (i, i+r/2)", "interleaved": "interleaved (2i, 2i+1)"}[v],
                 help="Which channels form pair i: transformers' rotate_half vs Meta/GPT-J interleaving.",
                 **_bind("layout", lambda v: v if v in ("half", "interleaved") else "half"))

        ss[_W + "scaling"] = state["scaling"] if state["scaling"] in S.SCALING_CHOICES else S.NO_SCALING
        st.selectbox("Context-extension scaling", S.SCALING_CHOICES, key=_W + "scaling", on_change=_on_scaling,
                     format_func=lambda t: SCALING_LABELS[None if t == S.NO_SCALING else t])
        kind = state["scaling"]
        if kind != S.NO_SCALING:
            _scaling_widgets(kind, state)

        with st.expander("Import config.json"):
            st.file_uploader("Upload a model's config.json", type=["json"], key=_W + "upload")
            st.text_area("…or paste its JSON", key=_W + "paste", height=120,
                         placeholder='{"head_dim": 128, "rope_theta": 500000, ...}')
            st.button("Load config", key=_W + "import", on_click=_on_import)
        msg = ss.pop(_IMPORT_MSG, None)
        if msg:
            {"error": st.error, "info": st.info}.get(msg[0], st.success)(msg[1])
    for err in ss.get(_URL_ERRORS) or []:
        st.warning(err)
    ss[_URL_ERRORS] = []

    try:
        cfg = S.config_from_state(state)
    except ValueError as e:
        st.error(f"Invalid RoPE settings: {e}")
        cfg = None
    if cfg is not None:
        sb.caption(f"**{cfg.label()}** · {cfg.n_pairs} rotated pairs · the page address (URL) reproduces this view")
    _sync_url()
    return cfg


def _scaling_widgets(kind: str, state: dict) -> None:
    if kind != "longrope" or state.get("factor") is not None:
        st.number_input("Scale factor s (target / original context)", min_value=1.0, max_value=FACTOR_MAX,
                        step=0.5,
                        **_bind("factor", lambda v: None if v is None else float(_clamp(v, 1, FACTOR_MAX, 8))))
    if kind in ("yarn", "llama3", "longrope"):
        st.select_slider("Original (pre-extension) context (tokens)",
                         options=_with(_CTX_GRID, state.get("orig") or state["context_length"]),
                         format_func=lambda v: f"{int(v):,}",
                         **_bind("orig", lambda v: int(v) if v is not None else int(state["context_length"])))
    if kind == "yarn":
        c1, c2 = st.columns(2)
        c1.number_input("β_fast (rotations)", min_value=0.25, max_value=1024.0, step=1.0,
                        **_bind("beta_fast", lambda v: float(_clamp(v, 0.25, 1024, 32))))
        c2.number_input("β_slow (rotations)", min_value=0.01, max_value=1024.0, step=0.5,
                        **_bind("beta_slow", lambda v: float(_clamp(v, 0.01, 1024, 1))))
        c1.number_input("mscale (optional)", min_value=0.0, max_value=100.0, step=0.1,
                        help="DeepSeek-style: attention factor = mscale(s, mscale) / mscale(s, mscale_all_dim) "
                             "when both are set; empty = unset.",
                        **_bind("mscale", lambda v: None if v is None else float(_clamp(v, 0, 100, 1))))
        c2.number_input("mscale_all_dim (optional)", min_value=0.0, max_value=100.0, step=0.1,
                        **_bind("mscale_all_dim", lambda v: None if v is None else float(_clamp(v, 0, 100, 1))))
    if kind in ("yarn", "longrope"):
        st.number_input("Attention factor override (optional)", min_value=0.0, max_value=100.0, step=0.05,
                        help="Empty = the method's own formula.",
                        **_bind("attention_factor", lambda v: None if v is None else float(_clamp(v, 0, 100, 1))))
    if kind == "llama3":
        c1, c2 = st.columns(2)
        c1.number_input("low_freq_factor α", min_value=0.01, max_value=1024.0, step=0.5,
                        **_bind("low_freq_factor", lambda v: float(_clamp(v, 0.01, 1024, 1))))
        c2.number_input("high_freq_factor β", min_value=0.01, max_value=1024.0, step=0.5,
                        **_bind("high_freq_factor", lambda v: float(_clamp(v, 0.01, 1024, 4))))
    if kind == "longrope":
        p = int(int(state["head_dim"] * state["rotary_fraction"]) // 2)
        sh, lo = state.get("short_factor"), state.get("long_factor")
        if sh is None or lo is None:
            st.info("No LongRoPE factor lists loaded (pick a LongRoPE preset such as Phi-3, or import a config).")
            st.button("Use a synthetic ramp 1 → s", key=_W + "synth", on_click=_synth_longrope)
        else:
            st.caption(f"Factor lists: {len(sh)} short, {len(lo)} long (rotated pairs: {p}); "
                       f"long ranges {min(lo):.3g} … {max(lo):.3g}.")
            if len(sh) != p or len(lo) != p:
                st.button("Replace with a synthetic ramp 1 → s", key=_W + "synth", on_click=_synth_longrope)
