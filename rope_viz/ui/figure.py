"""Showing figures on a page: cached figure calls, the chart + caption + lazy export area, error guarding."""

from __future__ import annotations

import json
import numbers
import re
from typing import Any, Callable, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.basedatatypes import BaseFigure

from ..config import RopeConfig
from ..figures._style import format_number

T = TypeVar("T")
_EXT_LABEL = {"png": "PNG", "svg": "SVG", "pdf": "PDF", "html": "HTML", "csv": "CSV"}


# Streamlit rewrites ":material/" before parsing any Markdown, code spans included (":material/home:" shows an icon,
# or "material_home" inside backticks); a word joiner (U+2060, invisible) after the colon keeps the text as written
_ICON_PREFIX = ":material/"
_ICON_DEFUSED = ":\u2060material/"


def literal(text: Any) -> str:
    """Markdown that shows ``text`` verbatim, on one line: a code span long enough that no backtick inside can close
    it, so links, images, emphasis, HTML, emoji / icon shortcodes and LaTeX in a value from outside (a URL, a
    config.json) are displayed as the characters they are, never rendered."""
    text = " ".join(str(text).split()).replace(_ICON_PREFIX, _ICON_DEFUSED)
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# Markdown that st.table renders inside a cell: emphasis, code, links / images, HTML, strikethrough, LaTeX, pipes,
# emoji / colour shortcodes (":smile:", ":red[…]"); a backslash before each shows it as the character it is
_CELL_SPECIAL = re.compile(r"([\\`*_\[\]<>~$|!#:])")
# what a backslash does not stop: a line starting like a list / heading / quote
_CELL_BLOCK = re.compile(r"^\s*(?:[-+*>#]|\d+[.)])(?:\s|$)")


def table_cell(value: Any) -> str:
    """A table cell / header as Markdown that shows ``value`` verbatim (st.table renders cells as Markdown):
    special characters backslash-escaped, so "~5×" or "(< ½ turn)" read as written; text that escaping cannot
    neutralise (a leading "- " or "1. ") as a ``literal`` code span; ":material/" defused as in ``literal``.
    Numbers in the app's notation (integers with thousands separators, others through ``format_number``)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return format_number(value)
    text = " ".join(str(value).split())
    if _CELL_BLOCK.search(text):
        return literal(text)
    return _CELL_SPECIAL.sub(r"\\\1", text.replace(_ICON_PREFIX, _ICON_DEFUSED))


def table(rows: list[dict] | Any, *, index: str | None = None) -> None:
    """A small static table (``st.table``: every cell shown in full, no scrollbars or cut columns, and far lighter
    to load than ``st.dataframe``'s grid) of ``rows`` (a list of dicts, or a DataFrame); ``index``: the column
    shown as the row labels (else none). Every header and cell goes through ``table_cell``: text from outside (an
    imported config's name) is shown, never rendered."""
    df = pd.DataFrame(rows)
    df = df.rename(columns=table_cell).map(table_cell)
    if index is not None:
        st.table(df.set_index(table_cell(index)))
    else:
        st.table(df, hide_index=True)


def show_error(message: Any) -> None:
    """``st.error`` with a message that may hold text from outside (a ValueError's message), shown verbatim."""
    st.error(literal(message), icon=":material/error:")


def guarded(fn: Callable[..., T], *args: Any, **kw: Any) -> T | None:
    """fn(*args, **kw), or None after showing a ValueError's message with ``show_error`` (bad input is the user's
    to fix; other exceptions are bugs and propagate)."""
    try:
        return fn(*args, **kw)
    except ValueError as e:
        show_error(e)
        return None


# -- cached figures ---------------------------------------------------------------------------------------------------
def _encode(obj: Any) -> Any:
    if isinstance(obj, RopeConfig):
        return {"__rope_config__": obj.to_dict()}
    if isinstance(obj, tuple):
        return list(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"figure option of type {type(obj).__name__} cannot be used as a cache key")


def _decode(d: dict) -> Any:
    if "__rope_config__" in d and len(d) == 1:
        return RopeConfig(**d["__rope_config__"])
    return d


@st.cache_resource(max_entries=64, ttl=3600, show_spinner=False)   # bounded: RSS returns near idle
def _figure(name: str, cfg_json: str, style: str, options_json: str) -> go.Figure:
    from ..figures import get_figure

    cfg = json.loads(cfg_json, object_hook=_decode)
    options = json.loads(options_json, object_hook=_decode)
    return get_figure(name).fn(cfg, style=style, **options)


def cached_figure(name: str, cfg: RopeConfig, *, style: str = "app", **options: Any) -> go.Figure:
    """The registered figure ``name`` for (cfg, options), computed once per distinct input and shared across
    sessions (st.cache_resource: treat the returned figure as read-only). Options may hold numbers, strings, lists,
    dicts and RopeConfigs. Raises what the figure function raises (wrap in ``guarded`` to show ValueErrors)."""
    cfg_json = json.dumps(cfg, default=_encode, sort_keys=True)
    options_json = json.dumps(options, default=_encode, sort_keys=True)
    return _figure(name, cfg_json, style, options_json)


@st.cache_resource(max_entries=48, ttl=3600, show_spinner=False)   # bounded like _figure
def _result_figure(name: str, data_arg: str, digest: str, style: str, options_json: str, _data) -> go.Figure:
    from ..figures import get_figure

    return get_figure(name).fn(None, style=style, **{data_arg: _data}, **json.loads(options_json))


def cached_result_figure(name: str, *, style: str = "app", result: dict | None = None, runs: dict | None = None,
                         **options: Any) -> go.Figure:
    """The registered figure ``name`` drawn from measured data (real-model runs: ``result=`` one inspect result or
    ``runs=`` label → perplexity result, passed on as that argument with ``options``), computed once per (data,
    options) and shared across sessions. The data are keyed by a hash of their content (a few ms), so a re-measured
    model never shows a stale chart. Building one of these figures costs 40–100 ms of plotly; cached, a rerun that
    changes something else does not pay it. Raises what the figure function raises (wrap in ``guarded``). Shared
    object: do not mutate it."""
    if (result is None) == (runs is None):
        raise TypeError("pass exactly one of result= or runs=")
    from ..figures.browser import content_hash

    arg, data = ("result", result) if result is not None else ("runs", runs)
    return _result_figure(name, arg, content_hash(data), style, json.dumps(options, default=_encode, sort_keys=True),
                          data)


# -- the chart element --------------------------------------------------------------------------------------------------
class _BrowserFigure(BaseFigure):
    """A figure already in its browser form (``rope_viz.figures.browser.browser_spec``), handed to
    ``st.plotly_chart``: Streamlit serialises ``to_dict()`` as it is (given a plain dict it would re-validate the
    whole figure, ~0.15 s per 100,000 values, and add plotly's default template back). Only ``to_dict`` is used."""

    def __init__(self, spec: dict) -> None:        # noqa: D107 -- deliberately not BaseFigure.__init__
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        return self._spec


def _browser_form(fig: go.Figure) -> _BrowserFigure:
    """``fig`` in its browser form, computed once per figure object (figures from the cache are shared across
    sessions: the spec is stored on the figure, derived data only)."""
    from ..figures.browser import browser_spec

    spec = getattr(fig, "_rv_browser_spec", None)
    if spec is None:
        spec = browser_spec(fig)
        object.__setattr__(fig, "_rv_browser_spec", spec)
    return _BrowserFigure(spec)


def plotly_chart(fig: go.Figure, *, key: str) -> None:
    """``st.plotly_chart`` of ``fig`` in its browser form (full width, no Streamlit theme, no plotly logo): redrawn
    once per change instead of three times (see ``rope_viz.figures.browser``)."""
    st.plotly_chart(_browser_form(fig), width="stretch", key=key, theme=None, config={"displaylogo": False})


# -- chart + export ---------------------------------------------------------------------------------------------------
@st.cache_resource(ttl=60, show_spinner=False)
def _static_export_status() -> tuple[bool, str]:
    """``export.static_export_status()`` looked up once a minute (it searches for a browser: ~2 ms)."""
    from .. import export

    return export.static_export_status()


def _exporter(fig: go.Figure, fmt: str, docs: bool) -> Callable[[], bytes]:
    def make() -> bytes:
        from .. import export

        f = export.docs_version(fig) if docs else fig
        return export.export_figure(f, fmt)
    return make


def show_registered(name: str, cfg: RopeConfig, *, key: str | None = None, **options: Any) -> go.Figure | None:
    """Compute the registered figure ``name`` for (cfg, options) through the cache, draw it with the registry's
    caption (``rope_viz.figures.caption_of``) and the export menu, and return it; None after ``st.error`` when the
    figure function raises ValueError (bad settings). ``key`` as in ``show_figure``. The returned figure is shared
    across sessions: read it, do not mutate it."""
    from ..figures import caption_of

    fig = guarded(cached_figure, name, cfg, **options)
    if fig is not None:
        show_figure(fig, name=name, caption=caption_of(name, fig), key=key, cfg=cfg)
    return fig


def show_figure(fig: go.Figure | None, *, name: str, caption: str, key: str | None = None,
                cfg: RopeConfig | None = None) -> None:
    """Draw ``fig`` full width with its one-line caption and an "Export" popover (PNG, SVG, PDF, standalone HTML,
    CSV of the data; "docs style" toggle stating the figure's docs size; without kaleido or a Chromium the static
    formats are left out with a line saying what to install). Files are generated only when a download
    button is clicked (deferred ``st.download_button`` data), so reruns stay fast; with ``cfg`` their names carry the
    config (``export.export_filename``: model, base, context). ``key`` must be unique on the page (default
    ``fig_<name>``). ``fig=None`` (a guarded call that failed) draws nothing."""
    from .. import export
    from .sidebar import current_preset

    if fig is None:
        return
    key = key or f"fig_{name}"
    plotly_chart(fig, key=key)
    cap, exp = st.columns([6, 1], vertical_alignment="center")
    cap.caption(caption)
    with exp.popover("Export", width="stretch"):
        w, h = export.docs_size(fig)
        docs = st.toggle("Docs style", key=f"{key}__docs",
                         help=f"Light background, {w}×{h} px, larger fonts (for documentation).")
        static_ok, why = _static_export_status()
        if not static_ok:
            st.caption(why)                       # first-party text (what to install), not user input
        for fmt, label in _EXT_LABEL.items():
            if fmt in ("png", "svg", "pdf") and not static_ok:
                continue
            file_name = (export.export_filename(name, cfg, fmt, model=current_preset(), docs=docs) if cfg is not None
                         else f"{name}{'_docs' if docs else ''}.{fmt}")
            st.download_button(label, data=_exporter(fig, fmt, docs), file_name=file_name,
                               mime=export.MIME[fmt], key=f"{key}__{fmt}", on_click="ignore", width="stretch")
