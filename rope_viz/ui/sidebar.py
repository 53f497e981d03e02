"""The shared sidebar (page list + preset + overrides + config.json import), its cross-page state and the URL mirror.

State lives in ``st.session_state`` under non-widget keys (``_rv_state``, ``_rv_preset``, ``_rv_pages``) because
Streamlit gives the same keyed widget a different identity on every page (and drops its value when the page
changes). Each run copies the stored value into the widget key before the widget is drawn and an ``on_change``
callback copies it back (Streamlit's documented multipage pattern). The URL is read once per session (first run,
through ``rope_viz.ui.state.decode_query`` and ``persist``'s parser, both built on ``rope_viz.validate``) and
rewritten on every run from the stored state. URL values that cannot be used are dropped and listed in ONE notice at
the top of the page; every message that can hold text from outside (URL, config.json) is shown verbatim
(``literal``), never as markdown.

Configs saved for comparison (``_rv_saved``: slot → RopeConfig, at most ``rope_viz.compare.MAX_SAVED``) come from
"Import config.json → Add to comparison" (the sidebar config is not replaced) or "Keep the current config"; they
are in the URL (``saved1`` … , ``rope_viz.ui.state.encode_saved``) and in every page's ``compare_select``.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import streamlit as st
from streamlit.errors import StreamlitAPIException, StreamlitPageNotFoundError

from .. import compare as C
from .. import validate as V
from ..config import (CONTEXT_MAX, FACTOR_MAX, HEAD_DIM_MAX, SCALE_MAX, SCALING_LABELS, RopeConfig, format_base,
                      from_hf_config, rotary_fraction_fits, rotary_width)
from ..figures._style import format_number
from . import state as S
from .figure import guarded, literal, show_error
from .pages import available_pages, current_page

_STATE = "_rv_state"
_PRESET = "_rv_preset"
_URL0 = "_rv_url0"          # the query string the session started with
_NOTICE = "_rv_notice"      # messages about URL values dropped, shown once
_NOTICE_SLOT = "_rv_notice_slot"
_FRESH = "_rv_fresh"        # set on the session's first run: the notice of that run is not cleared
_PAGES = "_rv_pages"        # page-level persisted values: name -> value
_DEFAULTS = "_rv_defaults"  # page-level persisted defaults of the latest run: name -> default
_PAGE_KEYS = "_rv_page_keys"  # page title -> names persisted on that page (kept in the URL)
_IMPORT_MSG = "_rv_import_msg"
_SAVED = "_rv_saved"        # configs saved for comparison: slot -> RopeConfig
_W = "_rvw_"                # widget key prefix (sidebar)
_P = "_rvp_"                # widget key prefix (page-level, ``persist``)
CUSTOM = "(custom)"

CONTEXT_MAX_UI = 2_097_152
_BASE_GRID = sorted({round(m * 10.0 ** k, 6) for k in range(1, 9) for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8)}
                    | {1e9})
_CTX_GRID = sorted({m << k for k in range(7, 22) for m in (1, 3, 5) if (m << k) <= CONTEXT_MAX_UI})
_FRACTION_GRID = (0.125, 0.25, 0.375, 0.4, 0.5, 0.625, 0.75, 0.875, 1.0)


# -- session bootstrap, the URL notice --------------------------------------------------------------------------------
def _ensure_session() -> None:
    ss = st.session_state
    if _STATE in ss:
        return
    params = {k: st.query_params.get(k) for k in st.query_params.keys()}
    ss[_URL0] = params
    preset, state, errors = S.decode_query(params)
    saved, saved_errors = S.decode_saved(params)
    ss[_STATE], ss[_PRESET], ss[_NOTICE], ss[_FRESH] = state, preset, errors + saved_errors, True
    ss[_SAVED] = saved
    ss[_PAGES], ss[_DEFAULTS], ss[_PAGE_KEYS] = {}, {}, {}


def _notify(message: str) -> None:
    """Add a message about a dropped URL value to this run's one notice (drawn at the top of the page)."""
    st.session_state.setdefault(_NOTICE, []).append(message)
    _draw_notice()


def _draw_notice() -> None:
    messages = st.session_state.get(_NOTICE) or []
    if not messages:
        return
    body = ("Some settings in the page address (URL) could not be used and were ignored:  \n"
            + "  \n".join(literal(m) for m in messages))
    slot = st.session_state.get(_NOTICE_SLOT)
    try:
        (st if slot is None else slot).warning(body, icon=":material/link_off:")
    except StreamlitAPIException:  # a fragment rerun cannot write outside itself: draw it here
        st.warning(body, icon=":material/link_off:")


def url_notice() -> None:
    """Place this run's one notice about dropped URL values here (``config_sidebar`` calls it; a page without the
    config sidebar calls it near the top, before its first ``persist``): every later message joins this notice."""
    _ensure_session()
    ss = st.session_state
    if not ss.pop(_FRESH, False):
        ss[_NOTICE] = []                        # a notice is shown by the run that found the bad value only
    ss[_NOTICE_SLOT] = st.empty()
    _draw_notice()


def _sync_url() -> None:
    """Make st.query_params = config encoding + this page's persisted parameters (only changed keys are sent)."""
    ss = st.session_state
    desired = {**S.encode_query(ss[_STATE], ss[_PRESET]), **S.encode_saved(ss[_SAVED])}
    for name in ss[_PAGE_KEYS].get(current_page(), set()):
        if name in ss[_PAGES] and ss[_PAGES][name] != ss[_DEFAULTS].get(name):
            desired[name] = _fmt_page(ss[_PAGES][name])
    current = {k: st.query_params.get(k) for k in st.query_params.keys()}
    for k in current:
        if k not in desired:
            del st.query_params[k]
    for k, v in desired.items():
        if current.get(k) != v:
            st.query_params[k] = v


def current_preset() -> str | None:
    """The preset the sidebar's config starts from (None: custom or imported)."""
    return st.session_state.get(_PRESET)


# -- page-level persisted widgets -----------------------------------------------------------------------------------
def _fmt_page(value: Any) -> str:
    """A page parameter as URL text: lists as ``a,b`` (one item: ``a``; the default's type says it is a list)."""
    if isinstance(value, (list, tuple)):
        return ",".join(S.format_value(v) for v in value)
    return S.format_value(value)


def _parse_page(name: str, text: str, default: Any, options, lo, hi, max_items) -> Any:
    """A page parameter's URL text → a value of the default's type, through rope_viz.validate."""
    field = f"URL parameter {name}"
    if isinstance(default, (list, tuple)):
        proto = default[0] if len(default) else (options[0] if options else "")
        text = str(text).strip()
        text = text[1:-1] if text.startswith("[") and text.endswith("]") else text
        items = [t for t in text.split(",") if t.strip() != ""]
        if max_items is not None and len(items) > max_items:
            raise ValueError(f"{field} must list at most {max_items} items; got {len(items)}")
        out = []
        for t in items:
            v = _parse_page(name, t, proto, options, lo, hi, None)
            if v not in out:
                out.append(v)
        return out
    if isinstance(default, bool):
        return V.choice(field, str(text).strip().lower(), ("true", "false", "1", "0")) in ("true", "1")
    if isinstance(default, int):
        value: Any = V.integer(field, text, text=True)
    elif isinstance(default, float):
        value = V.real(field, text, text=True)
    else:
        value = str(text)
    if options is not None:
        return V.choice(field, value, options)
    if isinstance(value, (int, float)) and ((lo is not None and value < lo) or (hi is not None and value > hi)):
        return type(value)(min(max(value, lo if lo is not None else value), hi if hi is not None else value))
    return value


def _constrained(value: Any, default: Any, options, lo, hi, max_items) -> Any:
    """``value`` as the widget can hold it: a multiselect keeps its known items (at most max_items), another value
    not in ``options`` becomes ``default`` (or the first option), a number is clamped into [lo, hi]."""
    if options is not None:
        if isinstance(default, (list, tuple)):
            value = [v for v in value if v in options][:max_items]
        elif value not in options:
            value = default if default in options else options[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if lo is not None and value < lo:
            value = type(value)(lo)
        if hi is not None and value > hi:
            value = type(value)(hi)
    return value


def persist(name: str, default: Any, *, lo: float | None = None, hi: float | None = None,
            options: list | tuple | None = None, max_items: int | None = None) -> dict[str, Any]:
    """Keyword arguments that make a page widget keep its value across pages and mirror it in the URL::

        pos = st.slider("Position m (tokens)", 0, 4096, **ui.persist("pos", 100, lo=0, hi=4096))
        pairs = st.multiselect("Pairs", opts, max_selections=6, **ui.persist("pairs", [0, 5], options=opts,
                                                                                max_items=6))

    Do not also pass ``value=``/``index=`` to the widget. The first value comes from the URL (``?pos=...``) when the
    session starts with one, else ``default``; numbers are clamped into [lo, hi]; a value not in ``options`` (or a
    list longer than ``max_items``, the multiselect's ``max_selections``) is dropped with the page's URL notice.
    Values: int, float, bool, str, or a list of them (multiselect; ``?name=a,b``).

    A default may depend on the config (e.g. ``min(100, cfg.context_length)``): a value the user has left at its
    default follows the default when it changes (switching preset never keeps a stale derived setting), and a value
    the user moved is kept (clamped), so the URL (which holds exactly the values ≠ default) always reproduces the
    view. Names must not collide with the sidebar's URL keys (``rope_viz.ui.state.RESERVED_URL_KEYS``).
    """
    if name in S.RESERVED_URL_KEYS:
        raise ValueError(f"persist name {name!r} is reserved for the sidebar config; pick another")
    _ensure_session()
    ss = st.session_state
    pages, defaults = ss[_PAGES], ss[_DEFAULTS]
    if name not in pages:
        value = default
        text = ss[_URL0].get(name)
        if text is not None:
            try:
                value = _parse_page(name, text, default, options, lo, hi, max_items)
            except ValueError as e:
                _notify(str(e))
        pages[name] = value
    # the default as the widget can show it (clamped into [lo, hi], within options): a value the constraints forced
    # is not a user's move — it follows the default later and stays out of the URL
    default = _constrained(default, default, options, lo, hi, max_items)
    if name in defaults and pages[name] == defaults[name] and default != defaults[name]:
        pages[name] = default                      # left at its old default: follow the new one
    value = _constrained(pages[name], default, options, lo, hi, max_items)
    pages[name] = value
    defaults[name] = default
    ss[_PAGE_KEYS].setdefault(current_page(), set()).add(name)
    wkey = _P + name
    ss[wkey] = value
    want = _fmt_page(value) if value != default else None
    if st.query_params.get(name) != want:
        if want is not None:
            st.query_params[name] = want
        elif name in st.query_params:
            del st.query_params[name]
    return {"key": wkey, "on_change": _store_page, "args": (name, wkey)}


def _store_page(name: str, wkey: str) -> None:
    st.session_state[_PAGES][name] = st.session_state[wkey]


def choice_slider(container, label: str, options: list, *, name: str, default: Any, fixed_label: str,
                  format_func: Callable[[Any], str] = str, **kw) -> Any:
    """A persisted select-slider over ``options`` (``persist(name, default, options=options)``); with a single
    option, that value shown in a disabled text box labelled ``fixed_label`` instead (a one-option slider draws a
    lone dot). ``kw`` (help, disabled, …) go to the slider; ``help`` also to the text box. Returns the value."""
    if len(options) > 1:
        return container.select_slider(label, options=options, format_func=format_func, **kw,
                                       **persist(name, default, options=options))
    container.text_input(fixed_label, value=format_func(options[0]), disabled=True, help=kw.get("help"))
    return options[0]


def sections(labels: list[str], *, name: str) -> tuple[str, Any]:
    """A page's sections as tabs of which only the open one runs (Streamlit's lazy tabs: ``on_change`` set, the
    other tabs' content is neither computed nor sent), the open tab persisted like any page control
    (``persist(name, labels[0], options=labels)``: ``?name=Label`` reproduces it, page switches keep it). Returns
    (open label, its tab container)::

        label, tab = ui.sections(list(SECTIONS), name="tab")
        with tab:
            SECTIONS[label](cfg)

    A page with several charts loads (and reruns on a sidebar change) only the section in view. ``name`` must be
    unique to the page (``persist`` names are shared across pages); the tabs' widget key is persist's (``_rvp_`` +
    name), so their container's id ends with it (how tests and deploy/warm_up.py find each section's address)."""
    kw = persist(name, labels[0], options=list(labels))
    tabs = st.tabs(list(labels), **kw)
    label = st.session_state[kw["key"]]
    return label, tabs[list(labels).index(label)]


# -- the sidebar ----------------------------------------------------------------------------------------------------
def _bind(field: str, to_widget: Callable[[Any], Any] = lambda v: v,
          from_widget: Callable[[Any], Any] = lambda v: v) -> dict[str, Any]:
    """Widget kwargs for a RopeConfig field or a scaling key of the state."""
    wkey = _W + field
    state = st.session_state[_STATE]
    value = state.get(field) if field in S.CONFIG_FIELDS else (state.get("scaling") or {}).get(field)
    st.session_state[wkey] = to_widget(value)
    return {"key": wkey, "on_change": _store, "args": (field, wkey, from_widget)}


def _store(field: str, wkey: str, from_widget: Callable[[Any], Any]) -> None:
    ss = st.session_state
    value = from_widget(ss[wkey])
    if field in S.CONFIG_FIELDS:
        ss[_STATE] = {**ss[_STATE], field: value}
    else:
        sc = {k: v for k, v in (ss[_STATE].get("scaling") or {}).items() if k != field}
        ss[_STATE] = {**ss[_STATE], "scaling": sc if value is None else {**sc, field: value}}


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




def _fractions_for(head_dim: Any) -> list[float]:
    """The rotary fractions of the slider's grid that are valid for ``head_dim`` (``rotary_fraction_fits``)."""
    try:
        d = int(head_dim)
    except (TypeError, ValueError, OverflowError):
        return list(_FRACTION_GRID)
    return [f for f in _FRACTION_GRID if rotary_fraction_fits(d, f)] or [1.0]


def _on_head_dim() -> None:
    """Store the new head dim; if the rotary fraction no longer gives a valid width with it, move the fraction to the
    nearest one that does (and say so in the sidebar) instead of leaving every page on an error."""
    ss = st.session_state
    _store("head_dim", _W + "head_dim", lambda v: v)
    state = ss[_STATE]
    d, f = state["head_dim"], state["rotary_fraction"]
    try:
        d, f = int(d), float(f)
    except (TypeError, ValueError, OverflowError):
        return
    if d % 2 or rotary_fraction_fits(d, f):
        return                                   # an odd d is reported by the config's own message
    new = min(_fractions_for(d), key=lambda g: (abs(g - f), -g))
    ss[_STATE] = {**state, "rotary_fraction": new}
    ss[_IMPORT_MSG] = ("info", f"Rotary fraction {f:g} gives an odd or empty rotary width with d = {d} "
                               f"(int({d}·{f:g}) = {rotary_width(d, f)}): moved to {new:g} "
                               f"(width {rotary_width(d, new)}).")


def _on_preset() -> None:
    name = st.session_state[_W + "preset"]
    if name == CUSTOM:
        st.session_state[_PRESET] = None  # keep the values, drop the baseline
        return
    st.session_state[_STATE] = S.baseline_state(name)
    st.session_state[_PRESET] = name


def _on_scaling() -> None:
    ss = st.session_state
    new = ss[_W + "scaling"]
    old = ss[_STATE].get("scaling") or {}
    ss[_STATE] = S.switch_scaling(ss[_STATE], new)
    if new == "longrope" and not {"short_factor", "long_factor"} <= old.keys():
        ss[_IMPORT_MSG] = ("info", "LongRoPE needs per-pair factor lists: a synthetic ramp 1 → s was filled in "
                                   "(load a Phi-3 preset or a config.json for real ones).")


def _imported() -> RopeConfig | None:
    """The config.json uploaded or pasted in the sidebar, read by ``from_hf_config``; None after a message."""
    ss = st.session_state
    up = ss.get(_W + "upload")
    data = up.getvalue() if up is not None else ss.get(_W + "paste", "")
    if not data.strip():
        ss[_IMPORT_MSG] = ("error", "nothing to import: upload a config.json or paste its text")
        return None
    try:
        return from_hf_config(data, layout=ss[_STATE].get("layout", "half"))
    except ValueError as e:
        ss[_IMPORT_MSG] = ("error", f"config.json not imported: {e}")
        return None


def _on_import() -> None:
    ss = st.session_state
    cfg = _imported()
    if cfg is not None:
        ss[_STATE] = S.state_from_config(cfg)
        ss[_PRESET] = None
        ss[_IMPORT_MSG] = ("success", f"imported: {cfg.label()}")


def _save_for_comparison(cfg: RopeConfig) -> None:
    """Put ``cfg`` in the lowest free saved slot (unless it is saved already or it cannot be in the URL)."""
    ss = st.session_state
    saved = ss[_SAVED]
    same = [slot for slot, c in saved.items() if c == cfg]
    if same:
        ss[_IMPORT_MSG] = ("info", f"already saved for comparison as {C.saved_label(same[0], cfg)}")
        return
    free = [slot for slot in range(1, C.MAX_SAVED + 1) if slot not in saved]
    if not free:
        ss[_IMPORT_MSG] = ("error", f"at most {C.MAX_SAVED} configs can be saved for comparison: remove one first")
        return
    try:
        C.encode_config(cfg)
    except ValueError as e:
        ss[_IMPORT_MSG] = ("error", f"not saved: {e}")
        return
    ss[_SAVED] = {**saved, free[0]: cfg}
    ss[_IMPORT_MSG] = ("success", f"saved for comparison as {C.saved_label(free[0], cfg)}: pick it in a page's "
                                  "“Compare with” list")


def _on_import_compare() -> None:
    cfg = _imported()
    if cfg is not None:
        _save_for_comparison(cfg)


def _on_keep() -> None:
    try:
        cfg = S.config_from_state(st.session_state[_STATE])
    except ValueError as e:
        st.session_state[_IMPORT_MSG] = ("error", f"not saved: invalid RoPE settings: {e}")
        return
    _save_for_comparison(cfg)


def _on_unsave(slot: int) -> None:
    ss = st.session_state
    ss[_SAVED] = {s: c for s, c in ss[_SAVED].items() if s != slot}


def saved_configs() -> dict[int, RopeConfig]:
    """The configs saved for comparison in this session: slot → RopeConfig (``rope_viz.compare.saved_key``)."""
    _ensure_session()
    return dict(st.session_state[_SAVED])


_COMPARE_HELP = ("**base X**: the sidebar config with base X (its scaling and context kept). **A preset**: that "
                 "model's published config. **saved N**: a config saved in the sidebar (Import config.json → Add to "
                 "comparison, or Saved for comparison → Keep the current config). Each is drawn with its own "
                 "frequencies over its own context; the choice (and the saved configs) are in the page address.")


def compare_select(name: str, cfg: RopeConfig, *, label: str = "Compare with",
                   note: str = "") -> list[tuple[str, RopeConfig]]:
    """The page's "compare with" multiselect (``rope_viz.compare.options``: bases, presets, saved configs; at most
    ``compare.MAX_COMPARE``), persisted in the URL as ``?name=``, resolved to ``(label, RopeConfig)`` pairs for the
    figures' ``compare`` option (``compare.resolve``; [] after ``show_error``). ``note``: what this page does with
    the choices, added to the help."""
    saved = saved_configs()
    opts = C.options(saved)
    chosen = st.multiselect(f"{label} (up to {C.MAX_COMPARE})", opts, max_selections=C.MAX_COMPARE,
                            format_func=lambda o: C.option_label(o, saved),
                            help=_COMPARE_HELP + (f" {note}" if note else ""),
                            **persist(name, [], options=opts, max_items=C.MAX_COMPARE))
    return guarded(C.resolve, cfg, chosen, saved) or []


def _synth_longrope() -> None:
    ss = st.session_state
    sc = {k: v for k, v in (ss[_STATE].get("scaling") or {}).items() if k not in ("short_factor", "long_factor")}
    ss[_STATE] = S.switch_scaling({**ss[_STATE], "scaling": sc}, "longrope")


def page_nav() -> None:
    """Draw the page list (``rope_viz.ui.pages.PAGES``) in the current container; ``config_sidebar`` draws it at the
    top of the sidebar (config.toml hides Streamlit's own list, which would call the landing page "app")."""
    try:
        for page in available_pages():
            st.page_link(page.path, label=page.title, icon=page.icon)
    except StreamlitPageNotFoundError:  # a script that is not this app (e.g. AppTest.from_string): no page list
        pass
    st.divider()


def _show_message(kind: str, text: str) -> None:
    """A sidebar message whose text may hold a value from outside: shown verbatim."""
    if kind == "error":
        show_error(text)
    else:
        {"info": st.info, "success": st.success}[kind](literal(text))


def config_sidebar() -> RopeConfig | None:
    """Draw the shared sidebar and return the RopeConfig it describes, or None (after ``st.error`` with the
    library's message) when the settings are invalid. Call it once near the top of every page (after
    ``page_header``); the URL notice, if any, appears where it is called."""
    url_notice()
    ss = st.session_state
    state = ss[_STATE]
    names = S.preset_names()
    if ss[_PRESET] is not None and ss[_PRESET] not in names:
        ss[_PRESET] = None
    sb = st.sidebar
    with sb:
        page_nav()
        st.header("RoPE configuration")
        ss[_W + "preset"] = ss[_PRESET] or CUSTOM
        st.selectbox("Preset (real model)", [CUSTOM] + names, key=_W + "preset", on_change=_on_preset,
                     help="Load a published model's RoPE settings; the fields below override it.")
        if ss[_PRESET]:
            changed = S.changed_fields(state, S.baseline_state(ss[_PRESET]))
            if changed:
                st.caption("Overrides: " + ", ".join(changed))

        st.number_input("Head dim d (channels)", min_value=2, max_value=HEAD_DIM_MAX, step=2,
                        help="Channels per attention head; must be even (2 … 1024).",
                        **{**_bind("head_dim", lambda v: int(_clamp(v, 2, HEAD_DIM_MAX, 128))),
                           "on_change": _on_head_dim, "args": ()})
        st.select_slider("Base b (rope_theta, log scale)", options=_with(_BASE_GRID, state["base"]),
                         format_func=format_base, help="θ_i = b^(−2i/r). Log-spaced stops from 10 to 1e9.",
                         **_bind("base", lambda v: float(v) if v is not None else 10000.0))
        st.select_slider("Context length L (tokens)", options=_with(_CTX_GRID, state["context_length"]),
                         format_func=lambda v: f"{int(v):,}",
                         help=f"max_position_embeddings; up to {CONTEXT_MAX_UI:,} here "
                              f"(the library accepts {CONTEXT_MAX:,}).",
                         **_bind("context_length", lambda v: int(v) if v is not None else 4096))
        fractions = _with(_fractions_for(state["head_dim"]), state["rotary_fraction"])
        st.select_slider("Rotary fraction (share of channels rotated)", options=fractions,
                         format_func=lambda v: f"{v:g}", disabled=len(fractions) < 2,
                         help="partial_rotary_factor: the first int(d·f) channels are rotated. Only fractions that "
                              "give an even width ≥ 2 for this head dim are offered.",
                         **_bind("rotary_fraction", lambda v: float(v) if v is not None else 1.0))
        st.radio("Pair layout", ["half", "interleaved"], horizontal=True,
                 format_func=lambda v: {"half": "half (i, i+r/2)", "interleaved": "interleaved (2i, 2i+1)"}[v],
                 help="Which channels form pair i: transformers' rotate_half vs Meta/GPT-J interleaving.",
                 **_bind("layout", lambda v: v if v in ("half", "interleaved") else "half"))

        kind = (state.get("scaling") or {}).get("rope_type", S.NO_SCALING)
        ss[_W + "scaling"] = kind if kind in S.SCALING_CHOICES else S.NO_SCALING
        st.selectbox("Context-extension scaling", S.SCALING_CHOICES, key=_W + "scaling", on_change=_on_scaling,
                     format_func=lambda t: SCALING_LABELS[None if t == S.NO_SCALING else t])
        if kind != S.NO_SCALING:
            _scaling_widgets(kind, state)

        with st.expander("Import config.json"):
            st.file_uploader("Upload a model's config.json (at most 1 MB)", type=["json"], key=_W + "upload")
            st.text_area("…or paste its JSON", key=_W + "paste", height=120, max_chars=1_000_000,
                         placeholder='{"head_dim": 128, "rope_theta": 500000, ...}')
            st.button("Load config", key=_W + "import", on_click=_on_import, width="stretch",
                      help="Replace the sidebar config with this one.")
            st.button("Add to comparison", key=_W + "import_cmp", on_click=_on_import_compare, width="stretch",
                      help="Keep the sidebar config; save this one for the pages' “Compare with” lists.")
        _saved_section()
        msg = ss.pop(_IMPORT_MSG, None)
        if msg:
            _show_message(*msg)

    try:
        cfg = S.config_from_state(state)
    except ValueError as e:
        show_error(f"Invalid RoPE settings: {e}")
        cfg = None
    if cfg is not None:
        sb.caption(f"**{cfg.label()}** · {cfg.n_pairs} rotated pairs · the page address (URL) reproduces this view")
    _sync_url()
    return cfg


def _saved_section() -> None:
    saved = st.session_state[_SAVED]
    with st.expander("Saved for comparison"):     # a fixed label: the expander stays open across its own clicks
        st.caption(f"{len(saved)} of {C.MAX_SAVED} saved. Saved configs appear in the “Compare with” list of the "
                   "Frequencies, Distance, Offset dimensions and Context extension pages, and in the page address.")
        st.button("Keep the current config", key=_W + "keep", on_click=_on_keep, disabled=len(saved) >= C.MAX_SAVED,
                  width="stretch",
                  help="Save the sidebar config as it is now (e.g. after changing fields by hand) for comparison.")
        for slot, c in sorted(saved.items()):
            c1, c2 = st.columns([5, 1], vertical_alignment="center")
            c1.markdown(literal(C.saved_label(slot, c)))
            c2.button("", icon=":material/close:", key=f"{_W}unsave{slot}", on_click=_on_unsave, args=(slot,),
                      help=f"Remove {C.saved_key(slot)}")


def _scaling_widgets(kind: str, state: dict) -> None:
    sc = state.get("scaling") or {}
    if kind != "longrope" or sc.get("factor") is not None:
        st.number_input("Scale factor s (rope_scaling factor)", min_value=1.0, max_value=FACTOR_MAX, step=0.5,
                        help="The config's rope_scaling factor. For PI, NTK, dynamic NTK and YaRN it is the target "
                             "over the original context; Llama 3.1's rule uses it as the slowdown of its slow pairs "
                             "(factor 8 for a 16× longer context).",
                        **_bind("factor", lambda v: None if v is None else float(_clamp(v, 1, FACTOR_MAX, 8))))
    if kind in ("yarn", "llama3", "longrope"):
        orig = sc.get("original_max_position_embeddings") or state["context_length"]
        st.select_slider("Original (pre-extension) context (tokens)", options=_with(_CTX_GRID, orig),
                         format_func=lambda v: f"{int(v):,}",
                         **_bind("original_max_position_embeddings",
                                 lambda v: int(v) if v is not None else int(state["context_length"])))
    if kind == "yarn":
        c1, c2 = st.columns(2)
        c1.number_input("β_fast (rotations)", min_value=0.25, max_value=FACTOR_MAX, step=1.0,
                        **_bind("beta_fast", lambda v: float(_clamp(v, 0.25, FACTOR_MAX, 32))))
        c2.number_input("β_slow (rotations)", min_value=0.01, max_value=FACTOR_MAX, step=0.5,
                        **_bind("beta_slow", lambda v: float(_clamp(v, 0.01, FACTOR_MAX, 1))))
        c1.number_input("mscale (optional)", min_value=0.0, max_value=SCALE_MAX, step=0.1,
                        help="DeepSeek-style: attention factor = mscale(s, mscale) / mscale(s, mscale_all_dim) "
                             "when both are set; empty = unset.",
                        **_bind("mscale", lambda v: None if v is None else float(_clamp(v, 0, SCALE_MAX, 1))))
        c2.number_input("mscale_all_dim (optional)", min_value=0.0, max_value=SCALE_MAX, step=0.1,
                        **_bind("mscale_all_dim",
                                lambda v: None if v is None else float(_clamp(v, 0, SCALE_MAX, 1))))
    if kind in ("yarn", "longrope"):
        st.number_input("Attention factor override (optional)", min_value=0.0, max_value=SCALE_MAX, step=0.05,
                        help="Empty = the method's own formula.",
                        **_bind("attention_factor",
                                lambda v: None if v is None else float(_clamp(v, 0, SCALE_MAX, 1))))
    if kind == "llama3":
        c1, c2 = st.columns(2)
        c1.number_input("low_freq_factor α", min_value=0.01, max_value=FACTOR_MAX, step=0.5,
                        **_bind("low_freq_factor", lambda v: float(_clamp(v, 0.01, FACTOR_MAX, 1))))
        c2.number_input("high_freq_factor β", min_value=0.01, max_value=FACTOR_MAX, step=0.5,
                        **_bind("high_freq_factor", lambda v: float(_clamp(v, 0.01, FACTOR_MAX, 4))))
    if kind == "longrope":
        p = S.n_pairs_of(state)
        sh, lo = sc.get("short_factor"), sc.get("long_factor")
        if sh is None or lo is None:
            st.info("No LongRoPE factor lists loaded (pick a LongRoPE preset such as Phi-3, or import a config).")
            st.button("Use a synthetic ramp 1 → s", key=_W + "synth", on_click=_synth_longrope)
        else:
            st.caption(f"Factor lists: {len(sh)} short, {len(lo)} long (rotated pairs: {p}); "
                       f"long ranges {format_number(min(lo), 3)} … {format_number(max(lo), 3)}.")
            if len(sh) != p or len(lo) != p:
                st.button("Replace with a synthetic ramp 1 → s", key=_W + "synth", on_click=_synth_longrope)
