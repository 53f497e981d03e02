"""Shared look of every figure: titles, axis labels with units, legends, the "app" and "docs" styles."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

STYLES = ("app", "docs")
DOCS_SIZE = (1000, 560)  # px, the fixed size of the "docs" style
# Colour-blind-safe qualitative palette (Okabe–Ito), used in this order for overlaid configurations/methods.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def check_style(style: str) -> str:
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    return style


def styled(fig: go.Figure, *, title: str, x_title: str, y_title: str, style: str = "app",
           log_x: bool = False, log_y: bool = False, height: int | None = None) -> go.Figure:
    """Apply the project look: title, axis titles (with units, e.g. "relative distance Δ (tokens)"), legend shown,
    log axes on request, and the app or docs style."""
    check_style(style)
    fig.update_layout(
        title=dict(text=title, x=0.01, xanchor="left"),
        xaxis_title=x_title, yaxis_title=y_title,
        showlegend=True,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1.0, title_text=""),
        margin=dict(l=70, r=30, t=90, b=60),
        hovermode="x unified" if not log_y else "closest",
    )
    if log_x:
        fig.update_xaxes(type="log")
    if log_y:
        fig.update_yaxes(type="log")
    return apply_style(fig, style, height=height)


def apply_style(fig: go.Figure, style: str = "app", *, height: int | None = None) -> go.Figure:
    """Set only the style-dependent layout (template, size, fonts) in place: "docs" = light background, fixed
    DOCS_SIZE, larger fonts; "app" = fluid width, 13 px fonts. Used by ``styled`` and to turn an app figure into
    its docs version for export."""
    check_style(style)
    _set_template(fig, "plotly_white")
    if style == "docs":
        w, h = DOCS_SIZE
        fig.update_layout(width=w, height=height or h, font=dict(size=18), paper_bgcolor="white",
                          plot_bgcolor="white")
    else:
        fig.update_layout(height=height or 460, font=dict(size=13))
    return fig


def _set_template(fig: go.Figure, name: str) -> None:
    """fig.layout.template = the registered template ``name``, without re-validating it (it is plotly's own,
    already valid): validation deep-copies and checks every trace type's defaults, ~15 ms per figure, which was the
    largest single cost of building a small figure. Same mechanism plotly uses for its default template."""
    layout = fig.layout
    layout._validate = False
    try:
        layout.template = pio.templates[name]
    finally:
        layout._validate = True
