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
    The shared sidebar: preset selector (rope_viz.presets), overrides (head dim 2…1024, base on a log-spaced slider
    10…1e9, rotary fraction, layout, context length up to 2,097,152, scaling method + its parameters) and
    "Import config.json" (upload or paste, through ``from_hf_config``). State is shared across pages
    (st.session_state) and mirrored in the URL query string (``preset=NAME`` + only the overridden fields, see
    ``rope_viz.ui.state``), so a copied link reproduces the view. Invalid settings → ``st.error`` with the library's
    ValueError message and ``None``.
``persist(name, default, *, lo=None, hi=None, options=None) -> dict``
    ``**kwargs`` for a page widget (key + on_change) so its value survives page switches and is mirrored in the URL as
    ``?name=value`` (only when ≠ default). Values: int, float, bool, str, or a list of them (multiselect). Don't pass ``value=``/``index=`` too. Names must not be one of
    ``state.RESERVED_URL_KEYS`` (d, b, rf, lay, L, s, f, oc, bf, bs, ms, msa, af, lf, hf, tr, sh, lo, preset).
``show_registered(name, cfg, *, key=None, **options) -> go.Figure | None``
    The registered figure ``name`` (rope_viz.figures) computed through ``cached_figure``, drawn by ``show_figure``
    with the registry's caption (``rope_viz.figures.caption_of(name, fig)``); returns the figure, or None after
    ``st.error`` for a ValueError. Pages use this instead of writing captions by hand.
``show_figure(fig, *, name, caption, key=None)``
    st.plotly_chart full width + the one-line caption + an "Export" popover: PNG, SVG, PDF (one persistent kaleido
    server), standalone HTML, CSV of the data, with a "docs style" toggle. Exports are computed only on click.
    ``fig=None`` draws nothing (so ``show_figure(guarded(...), ...)`` is safe).
``guarded(fn, *args, **kw)``
    ``fn(*args, **kw)`` or None after ``st.error(message)`` for a ValueError.
``cached_figure(name, cfg, *, style="app", **options) -> go.Figure``
    The registered figure (rope_viz.figures) computed once per (name, cfg, style, options); options may contain
    RopeConfigs. Shared object: do not mutate it.
``page_header(title, intro_markdown, *, icon=None)``
    set_page_config(wide) + title + the short explanation for a learner. Call it first.
``page_list() -> [(script path, label)]``
    The landing page and pages/N_Name.py in order (the sidebar draws its own page list from it, labelled
    "Intuition", "Frequencies", …; .streamlit/config.toml hides Streamlit's default list).
``synth_longrope_factors(n_pairs, factor)``
    Stand-in LongRoPE (short, long) factor lists (ones; a ramp 1 → factor), for pages that must say they used it.
"""

from .figure import cached_figure, guarded, page_header, show_figure, show_registered
from .sidebar import config_sidebar, page_list, persist
from .state import synth_longrope_factors

__all__ = ["config_sidebar", "persist", "page_list", "show_registered", "show_figure", "guarded", "cached_figure",
           "page_header",
           "synth_longrope_factors"]
