"""Figures: pure functions (RopeConfig, options) → plotly Figure, shared by the Streamlit pages and the CLI export.

Every figure function is registered with ``@register(name, page=..., caption=...)`` so that
``python -m rope_viz export NAME`` renders exactly what the page shows. Contract for a figure function:

    fn(cfg: RopeConfig, *, style: str = "app", **options) -> plotly.graph_objects.Figure

- it only computes through ``rope_viz`` library calls (no streamlit, no widgets);
- it sets a title, axis titles with units, a legend (``showlegend=True`` with named traces), via ``styled()``;
- heavy data is downsampled for display (figure JSON ≤ 2 MB) while the underlying computation stays exact;
- ``style="docs"`` gives the documentation look (light background, fixed size, larger fonts).
- the registry ends every figure with ``_style.fit_left_margin`` (room for the y tick labels it fixes, so that
  plotly.js draws it in one pass).

The registry maps name → FigureSpec(fn, page, caption); ``caption`` is the one-line "what to notice" text shown under
the chart on the page (``rope_viz.ui.show_registered``) and by ``export --list``. It is a str, or a callable
``caption(fig) -> str`` for captions that state numbers: the figure function stores those numbers in
``fig.layout.meta`` (a dict) and the callable formats them, so the text always agrees with the data drawn.
``caption_of(name, fig)`` gives the text for one computed figure. ``page`` is the page's title as listed in
``rope_viz.ui.PAGES`` (checked by the tests).
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from typing import Callable, Union

FIGURE_MODULES = ("intuition", "frequencies", "distance", "aliasing", "offsets", "extension", "encodings", "kernel",
                  "models")


Caption = Union[str, Callable[..., str]]


@dataclass(frozen=True)
class FigureSpec:
    name: str
    fn: Callable
    page: str
    caption: Caption

    def caption_for(self, fig=None) -> str:
        """The caption text: the fixed string, or the callable applied to ``fig`` (its generic form when ``fig`` is
        None is the callable's docstring's first line)."""
        if not callable(self.caption):
            return self.caption
        if fig is None:
            doc = (self.caption.__doc__ or "").strip()
            return doc.splitlines()[0] if doc else self.name
        return self.caption(fig)


_REGISTRY: dict[str, FigureSpec] = {}


def register(name: str, *, page: str, caption: Caption):
    """Decorator: add a figure function to the registry under ``name`` (caption: a str or ``caption(fig) -> str``)."""
    if not (isinstance(caption, str) or callable(caption)):
        raise TypeError(f"caption of figure {name!r} must be a str or a callable(fig) -> str")

    def deco(fn):
        if name in _REGISTRY and _REGISTRY[name].fn.__qualname__ != fn.__qualname__:
            raise RuntimeError(f"figure name {name!r} registered twice")

        @functools.wraps(fn)
        def figure(*args, **kwargs):
            from ._style import finish      # the rules every figure ends with

            return finish(fn(*args, **kwargs))

        _REGISTRY[name] = FigureSpec(name, figure, page, caption)
        figure.figure_name = name
        figure.caption = caption
        return figure
    return deco


def _load_all() -> None:
    """Import every figure module. A module whose optional third-party dependency is not installed (torch for
    "kernel", transformers for "models") is left out; a missing first-party module is a bug and raises."""
    for mod in FIGURE_MODULES:
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as e:
            if not e.name or e.name.split(".")[0] == __name__.split(".")[0]:
                raise


def figures() -> dict[str, FigureSpec]:
    """All registered figures, by name."""
    _load_all()
    return dict(sorted(_REGISTRY.items()))


def get_figure(name: str) -> FigureSpec:
    """The FigureSpec called ``name``; ValueError listing the names if unknown."""
    specs = figures()
    if name not in specs:
        raise ValueError(f"unknown figure {name!r}; available: {', '.join(specs)}")
    return specs[name]


def caption_of(name: str, fig=None) -> str:
    """The registered caption of figure ``name`` for the computed figure ``fig`` (see FigureSpec.caption_for)."""
    return get_figure(name).caption_for(fig)
