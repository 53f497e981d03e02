"""The figure registry's captions (str or callable) and ui.show_registered on a page."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from rope_viz import figures as F


def test_callable_caption_reads_the_figure_meta():
    def cap(fig):
        """The peak is at some distance."""
        return f"The peak is at {fig.layout.meta['peak']:,} tokens."

    @F.register("_test_meta_caption", page="Intuition", caption=cap)
    def fn(cfg, *, style="app"):
        return go.Figure(layout={"meta": {"peak": 1234}})

    try:
        fig = fn(None)
        assert F.caption_of("_test_meta_caption", fig) == "The peak is at 1,234 tokens."
        assert F.caption_of("_test_meta_caption") == "The peak is at some distance."
    finally:
        F._REGISTRY.pop("_test_meta_caption", None)


def test_register_rejects_a_non_text_caption():
    with pytest.raises(TypeError, match="caption"):
        F.register("_bad", page="Intuition", caption=3)


def test_every_registered_caption_is_a_short_line():
    for name, spec in F.figures().items():
        if callable(spec.caption):
            continue                                   # formatted from the figure's data: checked with the figure
        assert 10 < len(spec.caption) < 300 and "\n" not in spec.caption, name


def test_every_figure_has_a_generic_caption_for_the_list():
    """`export --list` shows caption_for(None): a computed caption's docstring line. Five figures had none, and
    the list showed their bare names."""
    for name, spec in F.figures().items():
        text = spec.caption_for()
        assert text != name and 20 < len(text) < 200 and "\n" not in text, name


def test_show_registered_draws_the_registry_caption_and_reports_bad_options():
    script = '''
import streamlit as st
from rope_viz import RopeConfig, ui
cfg = RopeConfig(head_dim=64, base=10000.0, context_length=512)
fig = ui.show_registered("intuition_invariance", cfg, m=3, n=1, max_shift=20)
st.text("ok" if fig is not None else "none")
bad = ui.show_registered("intuition_invariance", cfg, key="bad", m=3, n=1, max_shift=0)
st.text("bad none" if bad is None else "bad drawn")
'''
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.text] == ["ok", "bad none"]
    caps = [c.value for c in at.caption]
    assert F.caption_of("intuition_invariance") in caps
    assert len(at.error) == 1 and "max_shift" in at.error[0].value


def test_one_page_list_names_every_page_and_every_registered_figure_page():
    from rope_viz.ui.pages import PAGES, ROOT

    titles = [p.title for p in PAGES]
    assert len(set(titles)) == len(titles) and PAGES[0].path == "app.py"
    scripts = {f"pages/{f.name}" for f in (ROOT / "pages").glob("*.py")}
    assert scripts <= {p.path for p in PAGES}, "a page script missing from rope_viz.ui.pages.PAGES"
    for p in PAGES:
        assert p.icon.startswith(":material/") and p.icon.endswith(":"), p   # no emoji (empty boxes w/o a font)
    for name, spec in F.figures().items():
        assert spec.page in titles, (name, spec.page)


def test_export_menu_without_a_browser_offers_html_and_csv_and_says_why():
    script = '''
from unittest import mock
from rope_viz import RopeConfig, ui, export
why = "PNG, SVG and PDF export need a Chromium browser: apt-get install chromium"
with mock.patch("rope_viz.ui.figure._static_export_status", lambda: (False, why)):
    ui.show_registered("intuition_invariance", RopeConfig(64, context_length=512), m=3, n=1, max_shift=20)
'''
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.exception
    assert [b.label for b in at.get("download_button")] == ["HTML", "CSV"]
    assert any("need a Chromium browser" in c.value for c in at.caption)


def test_export_menu_file_names_carry_the_config():
    script = """
from unittest import mock
import streamlit as st
from rope_viz import RopeConfig, export, ui
real = export.export_filename
with mock.patch.object(export, "export_filename", side_effect=real) as spy:
    ui.show_registered("intuition_invariance", RopeConfig(64, base=5e5, context_length=512), m=3, n=1, max_shift=20)
st.text(sorted({real(*c.args, **c.kwargs) for c in spy.call_args_list})[1])
"""
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.exception
    assert at.text[0].value == "intuition_invariance_d64_b500000_L512.html"
