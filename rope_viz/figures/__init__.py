"""Figures: pure functions (RopeConfig, options) → plotly Figure, shared by the Streamlit pages and the CLI export.

Every figure function is registered with ``@register(name, page=..., caption=...)`` so that
``python -m rope_viz export NAME`` renders exactly what the page shows. Contract for a figure function:

    fn(cfg: RopeConfig, *, style: str = "app", **options) -> plotly.graph_objects.Figure

- it only computes through ``rope_viz`` library calls (no streamlit, no widgets);
- it sets a title, axis titles with units, a legend (``showlegend=True`` with named traces), via ``styled()``;
- heavy data is downsampled for display (figure JSON ≤ 2 MB) while the underlying computation stays exact;
- ``style="docs"`` gives the documentation look (light background, fixed size, larger fonts).

The registry maps name → FigureSpec(fn, page, caption); ``caption`` is the one-line "what to notice" text shown under
the chart on the page and available to the CLI.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

FIGURE_MODULES = ("intuition", "frequencies", "distance", "aliasing", "offsets", "extension", "encodings", "kernel")


@dataclass(frozen=True)
class FigureSpec:
    name: str
    fn: Callable
    page: str
    caption: str


_REGISTRY: dict[str, FigureSpec] = {}


def register(name: str, *, page: str, caption: str):
    """Decorator: add a figure function to the registry under ``name``."""
    def deco(fn):
        if name in _REGISTRY and _REGISTRY[name].fn.__qualname__ != fn.__qualname__:
            raise RuntimeError(f"figure name {name!r} registered twice")
        _REGISTRY[name] = FigureSpec(name, fn, page, caption)
        fn.figure_name = name
        fn.caption = caption
        return fn
    return deco


def _load_all() -> None:
    for mod in FIGURE_MODULES:
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as e:  # a module not written yet, or torch missing for "kernel"
            if e.name not in (f"{__name__}.{mod}", "torch"):
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
