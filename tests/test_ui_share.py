"""Sharing: the address a session shows reproduces its view. For every page, a session moves every control in the main
area and switches preset; a fresh session opened at the URL that session ended with draws the same figures (data and
layout). Also: a page setting whose default comes from the config follows it when the preset changes."""

from __future__ import annotations

import json

import pytest
from page_tools import section_param
from streamlit.testing.v1 import AppTest

from rope_viz.ui.pages import PAGES, ROOT

HEAVY = {"Kernel", "Real model"}          # torch benchmarks / a real checkpoint: covered by their own page tests
SHARED_PAGES = [p for p in PAGES if p.title not in HEAVY and (ROOT / p.path).exists()]


def _open(page, query: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update(query)
    at.run()
    if page.path != "app.py":
        at.switch_page(page.path).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _query(at: AppTest) -> dict[str, str]:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}


def _figures(at: AppTest) -> list[dict]:
    out = []
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        spec.get("layout", {}).pop("uirevision", None)
        out.append(spec)
    return out


def _values_of(widget) -> list:
    """The option values of a radio / select slider whose labels read back (numbers, plain text)."""
    out = []
    for label in widget.options:
        for cand in (label, _number(label)):
            try:
                if cand is not None and str(widget.format_func(cand)) == label:
                    out.append(cand)
                    break
            except Exception:  # noqa: BLE001 - a label format_func cannot take
                continue
    return out


def _number(label: str):
    try:
        v = float(label.replace(",", ""))
    except ValueError:
        return None
    return int(v) if v.is_integer() else v


def _move(widget) -> bool:
    """Set a main-area control to another allowed value; False if it has none (or is not a value control)."""
    kind = type(widget).__name__
    if kind in ("Toggle", "Checkbox"):
        widget.set_value(not widget.value)
    elif kind == "Slider":
        if isinstance(widget.value, (tuple, list)) or widget.max <= widget.min:
            return False
        widget.set_value(type(widget.value)(widget.max if widget.value != widget.max else widget.min))
    elif kind == "Selectbox":
        if len(widget.options) < 2:
            return False
        widget.select_index(len(widget.options) - 1 if widget.index != len(widget.options) - 1 else 0)
    elif kind in ("Radio", "SelectSlider"):
        others = [v for v in _values_of(widget) if v != widget.value]
        if not others or isinstance(widget.value, (tuple, list)):
            return False
        widget.set_value(others[-1])
    elif kind == "Multiselect":
        if len(widget.value) < 2:
            return False
        widget.unselect(widget.value[0])
    else:
        return False
    return True


@pytest.mark.parametrize("page", SHARED_PAGES, ids=[p.title for p in SHARED_PAGES])
def test_the_url_reproduces_the_view_after_moving_every_control(page):
    first = _open(page, {"preset": "llama-3.1-8b"})
    name = section_param(first)                        # a page's section tabs run one at a time
    sections = [{}] + [{name: t.label} for t in first.tabs][1:]
    moved_anywhere = []
    for section in sections:
        at = _open(page, {"preset": "llama-3.1-8b", **section})
        at.sidebar.selectbox(key="_rvw_preset").set_value("phi-3-mini-128k").run()
        moved = []
        for kind in ("toggle", "checkbox", "slider", "select_slider", "selectbox", "radio", "multiselect"):
            for key in [w.key for w in getattr(at.main, kind) if w.key and not w.key.endswith("__docs")]:
                widget = next((w for w in getattr(at.main, kind) if w.key == key), None)   # fresh after each rerun
                if widget is not None and not widget.disabled and _move(widget):
                    moved.append(key)
                    at.run()
                    assert not at.exception, (widget.key, [e.value for e in at.exception])
        before = _figures(at)
        assert before, (page.title, section)
        moved_anywhere += moved                             # a section may have no control of its own
        assert _query(at).get(name) == section.get(name), (page.title, _query(at))
        fresh = _open(page, _query(at))
        assert _figures(fresh) == before, f"{page.title}: the URL {_query(at)} does not reproduce the figures"
    assert moved_anywhere, page.title


def test_a_default_from_the_config_follows_a_preset_switch():
    script = """
import streamlit as st
from rope_viz import ui
ui.page_header("Probe", "")
cfg = ui.config_sidebar()
st.number_input("seq", 1, 1 << 24, **ui.persist("seq_probe", cfg.context_length))
"""
    at = AppTest.from_string(script, default_timeout=60)
    at.query_params["preset"] = "llama-3.1-8b"
    at.run()
    assert at.number_input(key="_rvp_seq_probe").value == 131072
    at.sidebar.selectbox(key="_rvw_preset").set_value("llama-2-7b").run()
    assert at.number_input(key="_rvp_seq_probe").value == 4096           # left at its default: follows it
    assert "seq_probe" not in dict(at.query_params)
    at.number_input(key="_rvp_seq_probe").set_value(5000).run()
    at.sidebar.selectbox(key="_rvw_preset").set_value("llama-3.1-8b").run()
    assert at.number_input(key="_rvp_seq_probe").value == 5000           # moved by the user: kept, in the URL
    assert dict(at.query_params)["seq_probe"] in ("5000", ["5000"])


def test_sidebar_base_slider_shows_1e9_not_1e_plus_09():
    """At base 1e9 the sidebar's base slider read "1e+09"."""
    from page_tools import open_page

    at = open_page("pages/1_Frequencies.py", {"b": "1000000000"})
    slider = at.sidebar.select_slider(key="_rvw_base")
    assert slider.value == 1e9 and "1e9" in slider.options and "10000" in slider.options
    assert not any("+" in text for text in slider.options)


@pytest.mark.parametrize("lo, options", [(4, None), (None, [1024, 4096, 8192])], ids=["clamped", "not-an-option"])
def test_a_default_the_widget_cannot_show_is_not_a_users_move(lo, options):
    """Offset dimensions' "k lowest-frequency pairs" (default 4) on a 3-pair config was clamped to 3, and that 3 was
    kept as if the user had moved it: `ok=3` in the URL, still 3 after switching to a 64-pair preset where a fresh
    load shows 4. Aliasing's sweep context (default: the config's, not an option below 16 tokens) stuck at 1,024
    the same way. The forced value follows the default and stays out of the URL."""
    script = f"""
import streamlit as st
from rope_viz import ui
ui.page_header("Probe", "")
cfg = ui.config_sidebar()
if {options!r} is None:
    st.slider("k", 1, cfg.n_pairs, **ui.persist("k_probe", 4, lo=1, hi=cfg.n_pairs))
else:
    opts = [v for v in {options!r} if v >= 16] + ([cfg.context_length] if cfg.context_length >= 16 else [])
    st.select_slider("ctx", sorted(set(opts)), **ui.persist("ctx_probe", cfg.context_length, options=sorted(set(opts))))
"""
    key = "k_probe" if options is None else "ctx_probe"
    at = AppTest.from_string(script, default_timeout=60)
    at.query_params.update({"d": "6"} if options is None else {"L": "8"})
    at.run()
    assert key not in dict(at.query_params)                               # forced, not moved: not in the URL
    at.sidebar.selectbox(key="_rvw_preset").set_value("llama-2-7b").run()
    fresh = AppTest.from_string(script, default_timeout=60)
    fresh.query_params["preset"] = "llama-2-7b"
    fresh.run()
    get = (lambda a: a.slider(key="_rvp_" + key).value) if options is None else \
        (lambda a: a.select_slider(key="_rvp_" + key).value)
    assert get(at) == get(fresh) == (4 if options is None else 4096)
    assert key not in dict(at.query_params)
