"""Streamlit helpers shared by every page (app.py, pages/*.py). The numpy core never imports this package.

A page is thin: header → sidebar config → cached figures → show them::

    import streamlit as st
    from rope_viz import ui

    ui.page_header("Distance", "Why attention to far tokens **decays** under RoPE …")
    cfg = ui.config_sidebar()                       # RopeConfig, or None after st.error (invalid settings)
    log_x = st.toggle("Log distance axis", **ui.persist("logx", True))
    if cfg is not None:
        ui.show_registered("distance_curves", cfg, log_x=log_x)   # chart + registry caption + export menu

API
---
``config_sidebar() -> RopeConfig | None``
    The shared sidebar: the page list (``PAGES``), preset selector (rope_viz.presets), overrides (head dim 2…1024,
    base on a log-spaced slider 10…1e9, rotary fraction, layout, context length up to 2,097,152, scaling method +
    its parameters), "Import config.json" (upload or paste, ≤ 1 MB, through ``from_hf_config``: load it, or add it
    to the configs saved for comparison) and "Saved for comparison" (keep the current config, remove saved ones).
    State is shared across pages (st.session_state) and mirrored in the URL query string (``preset=NAME`` + only
    the overridden values, see ``rope_viz.ui.state``), so a copied link reproduces the view. URL values that
    cannot be used are dropped with one notice at the top of the page. Invalid settings → ``show_error`` with the
    library's message and ``None``.
``persist(name, default, *, lo=None, hi=None, options=None, max_items=None) -> dict``
    ``**kwargs`` for a page widget (key + on_change) so its value survives page switches and is mirrored in the URL
    as ``?name=value`` (only when ≠ default). Values: int, float, bool, str, or a list of them (multiselect; pass its
    ``max_selections`` as ``max_items``). A value left at its default follows the default when it changes (a
    default computed from the config is never stale). Don't pass ``value=``/``index=`` too. Names must not be one
    of ``state.RESERVED_URL_KEYS`` (d, b, rf, lay, L, s, f, oc, bf, bs, ms, msa, af, lf, hf, tr, sh, lo, preset,
    saved1 … saved4).
``sections(labels, *, name) -> (label, tab)``
    A page's sections as lazy tabs: only the open one runs and is sent (a page with several charts loads and reruns
    only the section in view); the open tab is persisted like ``persist(name, labels[0], options=labels)``.
``compare_select(name, cfg, *, label="Compare with", note="") -> list[(label, RopeConfig)]``
    A page's "compare with" multiselect: bases ("base 1e6" = the sidebar config with that base), presets and the
    configs saved in the sidebar ("saved 1", from Import config.json → Add to comparison or Keep the current config),
    at most ``rope_viz.compare.MAX_COMPARE``; persisted as ``?name=`` (the saved configs themselves are in the URL as
    ``saved1`` …). Returns the choices resolved by ``rope_viz.compare.resolve``, for a figure's ``compare=`` option.
``saved_configs() -> dict[int, RopeConfig]``
    The configs saved for comparison in this session (slot → config).
``show_registered(name, cfg, *, key=None, **options) -> go.Figure | None``
    The registered figure ``name`` (rope_viz.figures) computed through ``cached_figure``, drawn by ``show_figure``
    with the registry's caption (``rope_viz.figures.caption_of(name, fig)``); returns the figure, or None after
    ``show_error`` for a ValueError. Pages use this instead of writing captions by hand.
``show_figure(fig, *, name, caption, key=None, cfg=None)``
    st.plotly_chart full width + the one-line caption + an "Export" popover: PNG, SVG, PDF (one persistent kaleido
    server), standalone HTML, CSV of the data, with a "docs style" toggle; file names carry the figure and the
    config. Exports are computed only on click. ``fig=None`` draws nothing.
``guarded(fn, *args, **kw)``
    ``fn(*args, **kw)`` or None after ``show_error(message)`` for a ValueError.
``show_error(message)`` / ``literal(text) -> str``
    ``st.error`` / markdown that show a message verbatim: use them for any text that may hold a value from outside
    (URL, config.json, a ValueError's message), which must never be rendered as markdown or HTML.
``table(rows, *, index=None)`` / ``table_cell(value) -> str``
    A small static table (st.table: every cell in full, lighter to load than st.dataframe) whose headers and cells
    are shown verbatim (st.table renders Markdown: ``table_cell`` escapes it).
``cached_figure(name, cfg, *, style="app", **options) -> go.Figure``
    The registered figure (rope_viz.figures) computed once per (name, cfg, style, options); options may contain
    RopeConfigs. Shared object: do not mutate it.
``cached_result_figure(name, *, result=None | runs=None, style="app", **options) -> go.Figure``
    A registered figure drawn from measured data (real-model runs), computed once per (data content, options).
``page_header(title, intro_markdown, *, icon=None)``
    set_page_config(wide) + title + the short explanation for a learner. Call it first.
``PAGES`` / ``available_pages()`` / ``page_nav()``
    The one page list (script, title, material icon, one-line blurb): the sidebar's page list, the landing page's
    "Explore" links and the figure registry's ``page=`` titles all come from it; ``page_nav()`` draws the page
    list (``config_sidebar`` does; a page without the config sidebar calls it inside ``with st.sidebar``).
``url_notice()``
    Where the one notice about dropped URL values goes (``config_sidebar`` calls it; a page without the config
    sidebar calls it near the top, before its first ``persist``).

Launcher: ``python -m rope_viz.ui.serve run app.py [streamlit options]`` (rope_viz.ui.serve; ``bash dev.sh app`` and
deploy/start.sh use it) imports pandas, plotly, the figure modules, kaleido and torch before the server listens, and
runs numpy's BLAS single-threaded.
"""

import pandas  # noqa: F401,E402 (imported once up front: plotly reads it from sys.modules without the import lock, and
#               concurrent first imports under load gave "partially initialized module 'pandas'")

from ..figures._style import format_count, format_number, format_percent   # the figures' notation
from .figure import (cached_figure, cached_result_figure, guarded, literal, show_error, show_figure, show_registered,
                     table, table_cell)
from .pages import PAGES, available_pages, page_header
from .sidebar import (choice_slider, compare_select, config_sidebar, page_nav, persist, saved_configs, sections,
                      url_notice)

__all__ = ["config_sidebar", "persist", "compare_select", "saved_configs", "show_registered", "show_figure",
           "guarded", "show_error", "literal", "cached_figure", "cached_result_figure", "page_header", "PAGES",
           "available_pages", "page_nav", "format_count", "format_number", "format_percent", "url_notice", "sections",
           "choice_slider", "table", "table_cell"]
