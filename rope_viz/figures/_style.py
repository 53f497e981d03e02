"""Shared look of every figure: titles, axis labels with units, legends, the "app" and "docs" styles."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from . import _plotly_paths

_plotly_paths.install()   # every figure module imports this one: plotly's path parser cached before any figure

STYLES = ("app", "docs")
DOCS_SIZE = (1000, 560)  # px, the fixed size of the "docs" style
# Colour-blind-safe qualitative palette (Okabe–Ito), used in this order for overlaid configurations/methods.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


MARGIN_LEFT = 80   # px: y tick labels of up to ~5 characters and the axis title fit without plotly.js widening it


def check_style(style: str) -> str:
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    return style


def styled(fig: go.Figure, *, title: str, x_title: str | None, y_title: str | None, style: str = "app",
           log_x: bool = False, log_y: bool = False, height: int | None = None) -> go.Figure:
    """Apply the project look: title, axis titles (with units, e.g. "relative distance Δ (tokens)"; None = leave
    the axes' own titles, for subplot grids that set them per axis), legend shown, log axes on request, and the app
    or docs style."""
    check_style(style)
    axis_titles = {k: v for k, v in (("xaxis_title", x_title), ("yaxis_title", y_title)) if v is not None}
    fig.update_layout(
        title=dict(text=title, x=0.01, xanchor="left"),
        **axis_titles,
        showlegend=True,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1.0, title_text=""),
        margin=dict(l=MARGIN_LEFT, r=30, t=90, b=60),
        hovermode="x unified" if not log_y else "closest",
    )
    if log_x:
        fig.update_xaxes(**log_axis(_values(fig, "x")))
    if log_y:
        fig.update_yaxes(**log_axis(_values(fig, "y")))
    return apply_style(fig, style, height=height)


def _left_labels(fig: go.Figure) -> list[str]:
    """The tick labels of the first y axis when the figure fixes them: explicit ``ticktext``, or the category names
    of its traces (e.g. horizontal bars); [] when plotly.js chooses numeric labels itself or hides them."""
    ax = fig.layout.yaxis
    if ax.showticklabels is False or ax.side == "right":
        return []
    if ax.ticktext is not None:
        return [str(t) for t in ax.ticktext]
    out: list[str] = []
    for tr in fig.data:
        y = getattr(tr, "y", None)
        if getattr(tr, "yaxis", None) in (None, "y") and y is not None and len(y) and isinstance(y[0], str):
            out.extend(str(v) for v in y)
    return out


# Advance widths (1/1000 em) of Arial / Liberation Sans, the face plotly.js's default family ("Open Sans", verdana,
# arial, sans-serif) falls back to in a browser without Open Sans; characters not listed count 600.
_ADVANCE = {**dict(zip("abcdefghijklmnopqrstuvwxyz", (556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833,
                                                      556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500))),
            **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
                                                      722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611))),
            **dict.fromkeys("0123456789", 556), **dict.fromkeys(" ,.:;/·!", 278), **dict.fromkeys("()-[]", 333),
            "'": 191, "’": 222, "%": 889, "×": 584, "−": 584, "+": 584, "=": 584}


def text_width(text: str, size: float) -> float:
    """Width in px of one line of ``text`` at font ``size`` px (Arial metrics; within a pixel or two of chromium's
    rendering for digits and Latin text)."""
    return sum(_ADVANCE.get(c, 600) for c in text) * size / 1000


def _floats(values) -> np.ndarray | None:
    """Trace data as a flat float64 array (None, a gap, becomes NaN); None when the values are not numbers
    (category labels, text)."""
    try:
        return np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return None


def _finite_xy(tr) -> tuple[np.ndarray, np.ndarray] | None:
    """The (x, y) points of a scatter trace where both are finite numbers; None when either is not numeric."""
    x, y = getattr(tr, "x", None), getattr(tr, "y", None)
    ya = None if y is None else _floats(y)
    if ya is None:
        return None
    xa = np.arange(ya.size, dtype=np.float64) if x is None else _floats(x)
    if xa is None or xa.shape != ya.shape:
        return None
    ok = np.isfinite(xa) & np.isfinite(ya)
    return xa[ok], ya[ok]


def pair_span(first: float, last: float) -> list[float]:
    """The x ends of a horizontal reference line across pairs ``first`` … ``last``: those two, or that pair's slot
    (± 0.5) when there is only one pair — a line from pair 0 to pair 0 has no length and draws nothing."""
    first, last = float(first), float(last)
    return [first - 0.5, last + 0.5] if first == last else [first, last]


def show_lone_points(fig: go.Figure) -> go.Figure:
    """A line trace whose finite points all sit at one spot draws nothing (one rotated pair, d = 2, or a
    reference line from pair 0 to pair r/2 − 1 = 0): such traces get markers too, in place. Applied to every
    registered figure (``register``), so no chart is empty because its data collapsed to a point."""
    for tr in fig.data:
        mode = getattr(tr, "mode", None) if tr.type == "scatter" else None
        if not mode or "lines" not in mode or "markers" in mode:
            continue
        pts = _finite_xy(tr)
        if pts is not None and pts[0].size and all((v == v[0]).all() for v in pts):
            tr.mode = mode + "+markers"
    return fig


def integer_pair_ticks(fig: go.Figure) -> go.Figure:
    """Pair indices are integers: an x axis titled "pair index …" whose data span fewer than 10 pairs gets a tick
    at every integer (plotly.js would label −0.4, −0.2, 0, … for one pair). In place; applied to every registered
    figure (``register``)."""
    layout = fig.layout
    for key in [k for k in layout if k.startswith("xaxis")]:
        ax = layout[key]
        title = ax.title.text or ""
        if not title.startswith("pair index") or ax.dtick is not None or ax.type in ("log", "category"):
            continue
        ref = "x" + key[len("xaxis"):]
        xs = []
        for tr in fig.data:
            if (getattr(tr, "xaxis", None) or "x") != ref or getattr(tr, "x", None) is None:
                continue
            x = _floats(tr.x)                                    # scatter, bar and heatmap columns alike
            if x is not None and np.isfinite(x).any():
                xs.append(x[np.isfinite(x)])
        if xs:
            allx = np.concatenate(xs)
            if allx.max() - allx.min() < 10:
                ax.update(tick0=0, dtick=1)
    return fig


def finish(fig: go.Figure) -> go.Figure:
    """The rules every registered figure ends with (``register``): lone points shown, integer pair ticks, the left
    margin fitted to the tick labels."""
    return fit_left_margin(integer_pair_ticks(show_lone_points(fig)))


def fit_left_margin(fig: go.Figure) -> go.Figure:
    """Widen the left margin (in place) to what the first y axis's known tick labels need: the widest label
    (``text_width``) plus the axis title and its stand-off (~3 em), at the figure's font size. plotly.js makes room
    for labels that do not fit by itself (axis ``automargin``), but only by drawing the whole figure a second time
    once it has measured them: ~20–60 ms more per chart in the browser (the aliasing map: ~65 → ~30 ms). Labels
    plotly.js picks itself (numbers) are covered by ``MARGIN_LEFT``. Applied to every registered figure
    (``register``)."""
    labels = _left_labels(fig)
    if not labels:
        return fig
    font = fig.layout.yaxis.tickfont.size or fig.layout.font.size or 13
    need = int(math.ceil(3.0 * font + 4 + max(text_width(t, font) for t in labels)))
    if need > (fig.layout.margin.l if fig.layout.margin.l is not None else MARGIN_LEFT):
        fig.update_layout(margin_l=need)
    return fig


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def pow10(x: float, digits: int = 3) -> str:
    """``x`` as mantissa×10ⁿ with ``digits`` significant digits, trailing zeros dropped: 2×10⁷, 3.07×10⁻⁷, 10⁹
    (a mantissa of 1 is left out)."""
    mantissa, exponent = f"{float(x):.{int(digits) - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    power = "10" + str(int(exponent)).translate(_SUPERSCRIPT)
    if mantissa in ("1", "-1"):
        return mantissa[:-1] + power
    return f"{mantissa}×{power}"


def format_count(n: int, unit: str) -> str:
    """A whole count with its unit, singular for one: "1 token", "0 tokens", "2,048 tokens"."""
    n = int(n)
    return f"{n:,} {unit}" + ("" if abs(n) == 1 else "s")


def format_percent(fraction: float) -> str:
    """A share (0 … 1) as a percentage that reads 0 % or 100 % only when it is exactly that: whole percents where
    they round to neither end, else up to three decimals (0.3602 → "36%", 0.99630 → "99.6%", 0.0004 → "0.04%",
    1 → "100%"); beyond three decimals "< 0.001%" / "> 99.999%"."""
    p = 100 * float(fraction)
    if p in (0.0, 100.0) or not math.isfinite(p):
        return f"{p:.0f}%"
    for digits in range(4):
        text = f"{p:.{digits}f}"
        if float(text) not in (0.0, 100.0):
            return text + "%"
    return "< 0.001%" if p < 50 else "> 99.999%"


def format_number(x: float, digits: int = 3, *, signed: bool = False) -> str:
    """A number for a title, label or table cell, one notation for the whole app: plain from 0.001 to below a
    million (0.0123, 6.28, 54,410), mantissa×10ⁿ outside it (2×10⁷, 3.07×10⁻⁷), never Python's e+07; negative
    numbers with a true minus sign (−0.144, not the hyphen -0.144), ``signed`` also writes "+" (a change: +0.12,
    −0.05); ±∞ as ∞."""
    x = float(x)
    if np.isnan(x):
        return "n/a"
    sign = "−" if x < 0 else "+" if signed and x > 0 else ""
    a = abs(x)
    if a == 0 or np.isinf(a):
        return sign + ("∞" if a else "0")
    if 1e-3 <= a < 1e3:              # ``digits`` significant digits in fixed notation (:g would write 3.6e+02)
        r = float(f"{a:.{int(digits)}g}")
        text = f"{r:.{max(0, int(digits) - 1 - int(np.floor(np.log10(r))))}f}"
        return sign + (text.rstrip("0").rstrip(".") if "." in text else text)
    if 1e3 <= a < 1e6:
        return sign + f"{a:,.0f}"
    return sign + pow10(a, digits)


def _si(t: float) -> str:
    """A tick value ≥ 1 with k / M suffixes (1, 20, 500, 1k, 20k, 1M, 500M); below 1 plain (0.002, 0.5)."""
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if t >= div:
            return f"{t / div:g}{suffix}"
    return f"{t:g}"


def log_ticks(values, max_ticks: int = 10) -> dict:
    """Explicit ticks for a log axis showing ``values`` (axis kwargs tickvals, ticktext): the 1-2-5 numbers in their
    range, or only the powers of ten when those would be more than ``max_ticks`` (every 2nd, 3rd … power when even
    those are too many). One notation per axis: 0.001 … 1k … 500M when every tick lies in [0.001, 10⁹), else
    10ⁿ / 2×10ⁿ for every tick — never plotly's bare minor digits ("1, 9, 8 … 2") or a mix such as "1e+6, 10000,
    0.01". Every log axis of the app gets its ticks here (``styled``'s log_x / log_y, ``log_axis``)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return {}
    vmin, vmax = float(v.min()), float(v.max())
    lo, hi = int(np.floor(np.log10(vmin))), int(np.ceil(np.log10(vmax)))
    ticks = [float(m * 10.0 ** e) for e in range(lo, hi + 1) for m in (1, 2, 5)]
    ticks = [t for t in ticks if vmin / 1.001 <= t <= vmax * 1.001]
    sequence = lambda e: [float(m * 10.0 ** e) for m in (1, 2, 5)]                     # noqa: E731
    if len(ticks) > max_ticks:
        decades = [e for e in range(lo, hi + 1) if vmin / 1.001 <= 10.0 ** e <= vmax * 1.001]
        step = -(-len(decades) // max_ticks)
        ticks = [10.0 ** e for e in decades if (e - decades[0]) % step == 0]   # from the lowest decade in range
        sequence = lambda e: [10.0 ** e] if (e - decades[0]) % step == 0 else []   # noqa: E731
    if len(ticks) < 3:   # a narrow range (perplexity 12 … 30 had the single tick "20"): 1, 1.5, 2, 2.5, 3 … 8
        steps = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8)
        finer = [float(m * 10.0 ** e) for e in range(lo, hi + 1) for m in steps]
        finer = [t for t in finer if vmin / 1.001 <= t <= vmax * 1.001]
        if len(finer) > len(ticks):
            ticks, sequence = finer, (lambda e: [float(m * 10.0 ** e) for m in steps])     # noqa: E731
    if len(ticks) < 2:   # a range inside one of those steps (e.g. 1 … 1.4): add its ends to two digits, inside it
        e_lo, e_hi = (math.floor(math.log10(v)) - 1 for v in (vmin, vmax))
        ends = {float(f"{math.ceil(vmin / 10.0 ** e_lo) * 10.0 ** e_lo:.2g}"),
                float(f"{math.floor(vmax / 10.0 ** e_hi) * 10.0 ** e_hi:.2g}")}
        ticks = sorted(set(ticks) | {t for t in ends if vmin / 1.001 <= t <= vmax * 1.001})
        sequence = None
    if not ticks:        # one value (a single rotated pair): label it, to three digits
        ticks, sequence = [float(f"{vmin:.3g}")], None
    out: dict = {"range": None}
    if sequence is not None and len(ticks) >= 2:
        ticks, out = _extend_to_ticks(ticks, vmin, vmax, sequence, lo, hi)
    plain = all(1e-3 <= t < 1e9 for t in ticks)
    return {"tickvals": ticks, "ticktext": [_si(t) if plain else pow10(t) for t in ticks], **out}


EXTEND_GAP = 0.75   # a data end this fraction of a tick step (log units) beyond the last tick gets the next tick


def _extend_to_ticks(ticks: list, vmin: float, vmax: float, sequence, lo: int, hi: int) -> tuple[list, dict]:
    """Ticks (and, when changed, the axis range in log10 units) such that no data end lies farther beyond the
    outermost tick than ``EXTEND_GAP`` of the spacing of the ticks there: otherwise the next tick of the same
    ``sequence`` (a function decade → tick values) is added and the range widened to show it (θ_i from 1 down to 1.15×10⁻⁴ had
    its first tick at 0.001, a decade above the lowest point; now 10⁻⁴ is drawn). Range padded by 2 % each side;
    ``None`` (autorange) when no tick is added, so a later call for the same axis replaces an earlier range."""
    ticks = list(ticks)
    cand = sorted(t for e in range(lo - 4, hi + 5) for t in sequence(e))
    below = [t for t in cand if t < ticks[0] / 1.0001]
    above = [t for t in cand if t > ticks[-1] * 1.0001]
    changed = False
    if below and math.log10(ticks[0] / vmin) > EXTEND_GAP * math.log10(ticks[1] / ticks[0]):
        ticks.insert(0, below[-1])
        changed = True
    if above and math.log10(vmax / ticks[-1]) > EXTEND_GAP * math.log10(ticks[-1] / ticks[-2]):
        ticks.append(above[0])
        changed = True
    if not changed:
        return ticks, {"range": None}       # autorange (and no stale range from an earlier call on the axis)
    a, b = math.log10(min(vmin, ticks[0])), math.log10(max(vmax, ticks[-1]))
    pad = 0.02 * max(b - a, 1e-6)
    return ticks, {"range": [a - pad, b + pad]}


def log_axis(values, max_ticks: int = 10) -> dict:
    """Axis kwargs for a log axis showing ``values``: type="log" and ``log_ticks``."""
    return {"type": "log", **log_ticks(values, max_ticks)}


def log_ticks_125(fig: go.Figure, axis: str = "y", max_ticks: int = 10) -> dict:
    """``log_ticks`` for the values of the figure's ``axis`` ("x" or "y") over all its traces."""
    return log_ticks(_values(fig, axis), max_ticks)


def _values(fig: go.Figure, axis: str) -> np.ndarray:
    """Every finite x (or y) value of the figure's traces, flattened (for ``log_ticks``)."""
    parts = [v for tr in fig.data if getattr(tr, axis, None) is not None
             for v in [_floats(getattr(tr, axis))] if v is not None]
    return np.concatenate(parts) if parts else np.zeros(0)


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


def grid_layout(rows: int, cols: int, *, titles=None, shared_x: bool = False, shared_y: bool = False,
                h_space: float = 0.04, v_space: float = 0.08) -> tuple[dict, Callable[[int, int], tuple[str, str]]]:
    """A rows × cols grid of cartesian subplots as a plain layout dict, plus ``ref(row, col) -> ("x3", "y3")`` for
    placing traces (``dict(..., xaxis=..., yaxis=...)``). The same layout as plotly's ``make_subplots`` (domains,
    linked axes: ``shared_x`` per column with tick labels on the bottom row, ``shared_y`` per row with tick labels
    on the first column; titles as paper annotations), without its per-property validation (~25–100 ms for a 3 × 2
    grid, most of a figure's build time). Rows count from the top, 1-based."""
    w = (1.0 - h_space * (cols - 1)) / cols
    h = (1.0 - v_space * (rows - 1)) / rows
    layout: dict = {"annotations": []}

    def n(row: int, col: int) -> int:
        return (row - 1) * cols + col

    def name(axis: str, k: int) -> str:
        return axis if k == 1 else f"{axis}{k}"

    for r in range(1, rows + 1):
        y0 = max(0.0, 1.0 - r * h - (r - 1) * v_space)     # the bottom row's −4e-17 is 0 (plotly rejects it)
        for c in range(1, cols + 1):
            k, x0 = n(r, c), (c - 1) * (w + h_space)
            xa = {"domain": [x0, x0 + w], "anchor": name("y", k)}
            ya = {"domain": [y0, y0 + h], "anchor": name("x", k)}
            if shared_x and r < rows:
                xa.update(matches=name("x", n(rows, c)), showticklabels=False)
            if shared_y and c > 1:
                ya.update(matches=name("y", n(r, 1)), showticklabels=False)
            layout[name("xaxis", k)] = xa
            layout[name("yaxis", k)] = ya
            if titles is not None and k <= len(titles):
                layout["annotations"].append(dict(text=titles[k - 1], x=x0 + w / 2, y=y0 + h, xref="paper",
                                                  yref="paper", xanchor="center", yanchor="bottom",
                                                  showarrow=False, font=dict(size=16)))
    return layout, lambda row, col: (name("x", n(row, col)), name("y", n(row, col)))


def axis_key(ref: str) -> str:
    """The layout key of a trace's axis reference: "x" → "xaxis", "y3" → "yaxis3"."""
    return ref[0] + "axis" + ref[1:]


def rgba(hex_color: str, alpha: float) -> str:
    """``"#rrggbb"`` and an opacity 0…1 → a CSS ``"rgba(r,g,b,alpha)"`` (translucent bands)."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
