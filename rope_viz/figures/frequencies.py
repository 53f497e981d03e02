"""Figures for the Frequencies page: per-pair rotation speed, wavelength, rotations within the context, the angle map,
one pair in polar view, and which channels form each pair.

θ_i = b^(−2i/r) rad/token (Su et al., RoFormer, arXiv:2104.09864, Eq. 15; the scaled θ'_i of the config's rope_type
from ``rope_viz.frequencies``), wavelength λ_i = 2π/θ_i tokens. Liu et al.'s critical dimension
(arXiv:2310.05209, Eq. 13, ``rope_viz.analysis.bounds.critical_dim``) splits the pairs that complete a full period
within the training length from the partial-cycle ones whose angle never leaves a fraction of the circle (it uses
the unscaled base, so under a scaling its boundary can differ from the partial-cycle pairs of the scaled θ). Every θ
here is the one in effect over the config's context (transformers' ``seq_len`` = the context length: LongRoPE's long
factors past its original context, dynamic NTK's base for that length).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import compare as C
from ..analysis.bounds import critical_dim
from ..analysis.offsets import pair_table
from ..config import RopeConfig, format_base
from ..frequencies import default_inv_freq, wavelengths
from ..rotation import pair_indices, rope_angles
from . import register
from ._style import PALETTE, axis_key, format_number, grid_layout, log_axis, pair_span, styled

MAX_MAP_CELLS = 120_000   # position × pair cells in the angle map (float32 ≈ 0.65 MB of figure JSON)
MAX_MAP_ROWS = 400
MAX_FIRST_ROWS = 256    # the fine-scale panel: positions 0 … 255, every token
MAX_PATH = 600          # earlier positions drawn in the polar view
FULL, PARTIAL = PALETTE[0], PALETTE[1]
MASKED = "#d9d9d9"        # angle-map background: pairs whose angle the sampled rows cannot show


def critical_pairs(cfg: RopeConfig) -> int:
    """Liu et al.'s critical dimension d_extra in channels (``analysis.bounds.critical_dim``) at the training length
    (``cfg.original_context_length``: the pre-extension context when a scaling names one). It uses the unscaled
    base, so with a scaling its boundary d_extra/2 need not be the first partial-cycle pair of the scaled θ."""
    return int(critical_dim(cfg, cfg.original_context_length))


def _facts(cfg: RopeConfig, t: dict) -> dict:
    """The numbers the Frequencies captions state, kept in ``fig.layout.meta``."""
    partial = np.flatnonzero(t["partial"])
    d_extra = critical_pairs(cfg)
    return {"base": cfg.base, "r": cfg.rotary_dim, "p": cfg.n_pairs, "L": cfg.context_length,
            "train": cfg.original_context_length, "train_named": cfg.names_training_length,
            "scaled": cfg.scaling is not None,
            "lam_min": float(t["wavelength"].min()), "lam_max": float(t["wavelength"].max()),
            "n_partial": int(partial.size), "first_partial": int(partial[0]) if partial.size else None,
            "d_extra": d_extra}


_HOVER = {"theta": "%{y:.4g} rad/token", "wavelength": "%{y:,.4~r} tokens"}   # λ: 54,410, not d3's 5.441e+4


def _tokens(x: float) -> str:
    """A count for a caption: 6.28, 54,410 or 2.05×10⁷ (``format_number``, as Intuition's panel titles write it)."""
    return "∞" if not np.isfinite(x) else f"{x:,.0f}" if 1e3 <= x < 1e7 else format_number(x, 3)


def _partial_text(m: dict) -> str:
    if m["first_partial"] is None:
        return f"every pair completes at least one turn within L = {m['L']:,} tokens"
    return (f"{m['n_partial']} of {m['p']} pairs (from pair {m['first_partial']}) never complete a turn within "
            f"L = {m['L']:,} tokens (orange)")


def _wavelengths_caption(fig: go.Figure) -> str:
    """Wavelengths of the config's pairs, and how many never complete a turn within the context."""
    m = fig.layout.meta
    return (f"With base {format_base(m['base'])} and r = {m['r']}, the wavelengths run from {_tokens(m['lam_min'])} to "
            f"{_tokens(m['lam_max'])} tokens; {_partial_text(m)}.")


def _rotations_caption(fig: go.Figure) -> str:
    """Turns each pair completes within the context, and Liu et al.'s critical dimension."""
    m = fig.layout.meta
    over = (f"the {m['train']:,}-token training length" if m.get("train_named", True) else
            f"the whole {m['train']:,}-token context: this scaling names no training length")
    liu = (f"Liu et al.'s critical dimension d_extra = {m['d_extra']} (dashed; unscaled base over {over}) puts the "
           f"boundary at pair {m['d_extra'] // 2}")
    same = m["first_partial"] == m["d_extra"] // 2 or (m["first_partial"] is None and m["d_extra"] == m["r"])
    seen = ": they only ever see part of the circle" if m["first_partial"] is not None else ""
    return (f"{_partial_text(m)[0].upper()}{_partial_text(m)[1:]}{seen}. {liu}"
            + (" — the same boundary." if same else
               " — a different boundary: it counts the unscaled frequencies"
               + (" over the training length" if m.get("train_named", True) else "")
               + ", the bars the frequencies in effect over the whole context."))


def _mark_critical(fig: go.Figure, n_pairs: int, d_extra: int, **where) -> None:
    """Liu et al.'s critical dimension as a dashed vertical line at pair d_extra/2, labelled; x range 0 … n_pairs."""
    x = d_extra / 2 - 0.5
    pad = max(0.5, 0.02 * n_pairs)   # fixed x range: plotly would widen it to fit the annotation's text
    fig.update_xaxes(range=[-pad, n_pairs - 1 + pad])
    xref, yref = where.get("xref", "x"), where.get("yref", "y domain")
    fig.add_shape(type="line", xref=xref, yref=yref, x0=x, x1=x, y0=0, y1=1,
                  line=dict(color="#444444", dash="dash", width=1.5))
    right = x > (n_pairs - 1) / 2    # text on the side with room (the middle of the x range)
    fig.add_annotation(x=x, y=0.99, xref=xref, yref=yref, xanchor="right" if right else "left", yanchor="top",
                       showarrow=False,
                       bgcolor="rgba(255,255,255,0.8)",
                       text=f" critical dim d_extra = {d_extra} (pairs < {d_extra // 2}) ", font=dict(size=12))


@register("freq_wavelengths", page="Frequencies", caption=_wavelengths_caption)
def freq_wavelengths(cfg: RopeConfig, *, style: str = "app", compare=()) -> go.Figure:
    """Two panels against the pair index i: θ_i (rad/token, log) and λ_i = 2π/θ_i (tokens, log) with the context
    length as a horizontal line; full-cycle pairs blue, partial-cycle pairs orange; the unscaled θ dashed when the
    config has a scaling; Liu et al.'s critical dimension as a dashed vertical line. θ are the frequencies in effect
    over the config's context (``pair_table``). ``compare``: up to 3 more configurations (``rope_viz.compare.resolve``:
    bases, preset names, saved configs, RopeConfigs or (label, RopeConfig) pairs), drawn as lines of their own
    colour, each with its frequencies over its own context."""
    others = C.resolve(cfg, compare)
    t = pair_table(cfg)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("rotation speed θ_i", "wavelength λ_i = 2π/θ_i"))
    for mask, label, col in ((~t["partial"], "full cycle within context", FULL),
                             (t["partial"], "partial cycle (λ > L)", PARTIAL)):
        for c, key in ((1, "theta"), (2, "wavelength")):
            fig.add_trace(go.Scatter(x=t["pair"][mask], y=t[key][mask], mode="markers", name=label,
                                     marker=dict(color=col, size=6), legendgroup=label, showlegend=(c == 1),
                                     hovertemplate="pair %{x}: " + _HOVER[key] + "<extra></extra>"), row=1, col=c)
    if cfg.scaling is not None:
        theta0 = default_inv_freq(cfg.base, cfg.rotary_dim)
        for c, y in ((1, theta0), (2, wavelengths(theta0))):
            fig.add_trace(go.Scatter(x=t["pair"], y=y, mode="lines", name="unscaled (plain RoPE, same base)",
                                     line=dict(color="#888888", dash="dot"), legendgroup="unscaled",
                                     showlegend=(c == 1)), row=1, col=c)
    for j, (name, other) in enumerate(others):
        o = pair_table(other)
        col = PALETTE[2 + j]
        for c, key in ((1, "theta"), (2, "wavelength")):
            fig.add_trace(go.Scatter(x=o["pair"], y=o[key], mode="lines", name=name, legendgroup=f"cmp{j}",
                                     line=dict(color=col, width=1.5), showlegend=(c == 1),
                                     hovertemplate="pair %{x}: " + _HOVER[key] + "<extra>" + name + "</extra>"),
                          row=1, col=c)
    fig.add_trace(go.Scatter(x=pair_span(0, cfg.n_pairs - 1), y=[cfg.context_length] * 2, mode="lines",
                             name=f"context length L = {cfg.context_length:,}", line=dict(color="#222222", width=2)),
                  row=1, col=2)
    if cfg.original_context_length != cfg.context_length:
        fig.add_trace(go.Scatter(x=pair_span(0, cfg.n_pairs - 1), y=[cfg.original_context_length] * 2, mode="lines",
                                 name=f"original context {cfg.original_context_length:,}",
                                 line=dict(color="#222222", width=1, dash="dash")), row=1, col=2)
    styled(fig, title=f"Per-pair frequency and wavelength ({cfg.label()})", x_title="pair index i",
           y_title="θ_i (radians per token)", style=style, log_y=True)
    fig.update_xaxes(title_text="pair index i", row=1, col=2)
    for c, ref in ((1, "y"), (2, "y2")):          # each panel its own decades (styled saw both panels' values)
        fig.update_yaxes(**log_axis(np.concatenate([np.asarray(tr.y, float) for tr in fig.data
                                                    if (tr.yaxis or "y") == ref])), row=1, col=c)
    fig.update_yaxes(title_text="λ_i (tokens)", row=1, col=2)
    fig.update_layout(hovermode="closest", margin=dict(t=80, b=130),
                      legend=dict(y=-0.2, yanchor="top", x=0.0, xanchor="left"), meta=_facts(cfg, t))
    _mark_critical(fig, max([cfg.n_pairs] + [c.n_pairs for _, c in others]), fig.layout.meta["d_extra"],
                   xref="x2", yref="y2 domain")
    return fig


@register("freq_rotations", page="Frequencies", caption=_rotations_caption)
def freq_rotations(cfg: RopeConfig, *, style: str = "app") -> go.Figure:
    """Bars: L·θ_i/2π full turns of pair i within the context length L (log y; the frequencies in effect over the
    context), a line at 1 turn, and the critical dimension marked."""
    t = pair_table(cfg)
    fig = go.Figure()
    for mask, label, col in ((~t["partial"], "≥ 1 full rotation", FULL), (t["partial"], "< 1 rotation (partial)",
                                                                            PARTIAL)):
        fig.add_trace(go.Bar(x=t["pair"][mask], y=t["rotations"][mask], name=label, marker_color=col,
                             hovertemplate="pair %{x}: %{y:.4g} turns<extra></extra>"))
    fig.add_hline(y=1.0, line=dict(color="#222222", width=1.5))
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="1 rotation", line=dict(color="#222222")))
    styled(fig, title=f"Rotations completed within the context (L = {cfg.context_length:,} tokens)",
           x_title="pair index i", y_title="rotations L·θ_i / 2π (turns)", style=style, log_y=True)
    fig.update_layout(bargap=0.1, hovermode="closest", meta=_facts(cfg, t))
    shown = np.r_[t["rotations"], 1.0]     # the 1-turn line is a shape: the axis must reach it too
    lo, hi = np.log10(shown[shown > 0].min()), np.log10(shown.max())
    axis = log_axis(shown)
    pad = min(0.05 * max(hi - lo, 2.0), 0.3)     # decades of room beyond the data
    rng = [lo - pad, hi + pad]
    if axis.get("range"):                  # log_ticks widened the range to show an outer tick: keep that too
        rng = [min(rng[0], axis["range"][0]), max(rng[1], axis["range"][1])]
    fig.update_yaxes(**{**axis, "range": rng})
    _mark_critical(fig, cfg.n_pairs, fig.layout.meta["d_extra"])
    return fig


def map_positions(cfg: RopeConfig, n_rows: int | None = None) -> np.ndarray:
    """Integer positions sampled evenly over [0, L − 1] for the whole-context angle map: at most MAX_MAP_ROWS rows
    and MAX_MAP_CELLS / 2 cells (rows × pairs; the other half is for the first positions, ``first_positions``)."""
    cap = max(2, min(MAX_MAP_ROWS, MAX_MAP_CELLS // (2 * cfg.n_pairs)))
    n = min(cfg.context_length, cap if n_rows is None else min(int(n_rows), cap))
    return np.unique(np.linspace(0, cfg.context_length - 1, max(n, 1)).round().astype(np.int64))


def first_positions(cfg: RopeConfig) -> np.ndarray:
    """Every position 0 … n − 1 for the fine-scale angle map, n ≤ MAX_FIRST_ROWS and within the cell budget."""
    return np.arange(min(cfg.context_length, MAX_FIRST_ROWS, max(2, MAX_MAP_CELLS // (2 * cfg.n_pairs))))


def resolvable_pairs(theta: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """(p,) bool: pairs whose angle turns by less than half a turn (θ_i·gap < π) across the widest gap between
    consecutive sampled positions. Only for those do the sampled rows show the true motion (Nyquist); a faster pair
    can alias into a slow-looking column (its wavelength dividing the gap)."""
    gap = float(np.max(np.diff(positions))) if positions.size > 1 else 1.0
    return theta * gap < np.pi


def _angle_map_caption(fig: go.Figure) -> str:
    """Fast pairs cycle through every angle (fine position), slow pairs drift smoothly (coarse position)."""
    m = fig.layout.meta
    if m["gap"] <= 1:
        return ("Every position is drawn: left columns (fast pairs) cycle through every angle and encode fine "
                "position; right columns (slow pairs) drift smoothly and encode coarse position.")
    text = (f"Left, positions 0 … {m['n_first'] - 1} token by token: fast pairs (left columns) cycle through every "
            f"angle and encode fine position. Right, the whole context every ≈{m['gap']:,} tokens: slow pairs drift "
            "smoothly and encode coarse position")
    if m["n_hidden"]:
        text += (f"; pairs 0 … {m['n_hidden'] - 1} (grey) turn more than half a turn between those rows, so the "
                 "sampled rows would alias them")
    return text + "."


@register("freq_angle_map", page="Frequencies", caption=_angle_map_caption)
def freq_angle_map(cfg: RopeConfig, *, style: str = "app", n_rows: int | None = None) -> go.Figure:
    """Heatmaps of (m·θ_i) mod 2π, positions m (rows) × pairs i, with the frequencies in effect over the context:
    the first positions token by token (``first_positions``), and the whole context sampled evenly (≤ 400 rows,
    ``map_positions``) where the columns of pairs the sampling cannot resolve (``resolvable_pairs``) are left empty
    (grey) instead of showing aliased angles. One panel when every position fits."""
    L = cfg.context_length
    theta = pair_table(cfg)["theta"]
    pos = map_positions(cfg, n_rows)
    gap = int(np.max(np.diff(pos))) if pos.size > 1 else 1
    panels = [(pos, None)] if gap <= 1 else [(first_positions(cfg), "positions 0 … {:,}, every token"),
                                              (pos, "whole context, every ≈{:,} tokens")]
    layout, ref = grid_layout(1, len(panels), titles=[t.format(p[-1] if i == 0 else gap)
                                                       for i, (p, t) in enumerate(panels) if t], h_space=0.08)
    fig = go.Figure(layout=layout)
    n_hidden = 0
    for j, (rows, _) in enumerate(panels):
        ang = np.mod(rope_angles(rows, cfg, seq_len=L), 2 * np.pi).astype(np.float32)    # (n_rows, p)
        ok = resolvable_pairs(theta, rows)
        ang[:, ~ok] = np.nan
        n_hidden = int(np.sum(~ok))
        xa, ya = ref(1, j + 1)
        fig.add_trace(go.Heatmap(z=ang, x=np.arange(cfg.n_pairs), y=rows, coloraxis="coloraxis", xaxis=xa, yaxis=ya,
                                 name="angle m·θ_i mod 2π",
                                 hovertemplate="pair %{x}, position %{y}: %{z:.3f} rad<extra></extra>"))
        fig.layout[axis_key(xa)].title = "pair index i"
        fig.layout[axis_key(ya)].title = "position m (tokens)"
    if n_hidden:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="not drawn: > ½ turn between rows",
                                 marker=dict(symbol="square", size=12, color=MASKED)))
    styled(fig, title=f"Rotation angle per position and pair ({cfg.label()})", x_title=None, y_title=None,
           style=style)
    fig.update_layout(hovermode="closest", plot_bgcolor=MASKED, margin=dict(b=110),
                      legend=dict(yanchor="top", y=-0.2, xanchor="right", x=1.0),
                      coloraxis=dict(colorscale="Twilight", cmin=0, cmax=2 * np.pi,
                                     colorbar=dict(title=dict(text="angle (rad)"), tickvals=[0, np.pi, 2 * np.pi],
                                                   ticktext=["0", "π", "2π"])),
                      meta={"n_hidden": n_hidden, "gap": gap, "n_first": len(panels[0][0])})
    return fig


DEFAULT_POSITION = 100      # the polar view's position when none is given, at most the context's last position


def default_position(cfg: RopeConfig) -> int:
    """The polar view's default position: 100 tokens, or the context's last position L − 1 when that is smaller
    (page and CLI)."""
    return min(DEFAULT_POSITION, cfg.context_length - 1)


@register("freq_polar", page="Frequencies",
          caption="One pair's phase at one position: the angle wraps every λ_i tokens, so positions λ_i apart look "
                  "identical to this pair.")
def freq_polar(cfg: RopeConfig, *, style: str = "app", pair: int = 0, position: int | None = None) -> go.Figure:
    """Polar view of pair ``pair`` at position ``position`` (default ``default_position``): the vector at angle
    m·θ_i (mod 2π) and the path of the
    angle for the positions before it: ≤ MAX_PATH positions spread evenly over 0 … m when the pair turns less than
    half a turn between them (``resolvable_pairs``), otherwise the last MAX_PATH positions token by token (evenly
    spread samples of a fast pair would alias into a slow-looking path)."""
    pair, position = int(pair), int(default_position(cfg) if position is None else position)
    if not 0 <= pair < cfg.n_pairs:
        raise ValueError(f"pair must be in [0, {cfg.n_pairs - 1}], got {pair}")
    if not 0 <= position < cfg.context_length:
        raise ValueError(f"position must be in [0, {cfg.context_length - 1}] tokens (the context's positions), "
                         f"got {position}")
    theta = float(pair_table(cfg)["theta"][pair])
    phi = position * theta
    turns = phi / (2 * np.pi)
    path = np.unique(np.linspace(0, position, min(position + 1, MAX_PATH)).round())
    every = f"{len(path):,} of the positions 0 … {position:,}"
    if not resolvable_pairs(np.array([theta]), path)[0]:
        path = np.arange(position - MAX_PATH + 1, position + 1, dtype=np.float64)
        every = f"positions {position - MAX_PATH + 1:,} … {position:,}, every token"
    r = 1.0 + 0.25 * path / max(position, 1)   # a slowly widening spiral, so wrapped turns stay visible
    fig = go.Figure()
    fig.add_trace(go.Scatterpolar(r=r, theta=np.degrees(np.mod(path * theta, 2 * np.pi)), mode="markers",
                                  marker=dict(size=3, color=PALETTE[5]), name=f"earlier: {every} (radius grows "
                                  "with m)", customdata=path,
                                  hovertemplate="m=%{customdata}: %{theta:.1f}°<extra></extra>"))
    fig.add_trace(go.Scatterpolar(r=[0, 1.25], theta=[0, np.degrees(np.mod(phi, 2 * np.pi))] * 1,
                                  mode="lines+markers", line=dict(color=PALETTE[1], width=4),
                                  marker=dict(size=[0, 12]), name=f"pair {pair} at m = {position:,}"))
    fig.add_trace(go.Scatterpolar(r=[0, 1.25], theta=[0, 0], mode="lines", line=dict(color="#888888", dash="dot"),
                                  name="position 0 (angle 0)"))
    styled(fig, title=f"Pair {pair} at position {position:,}: angle = {np.mod(phi, 2 * np.pi):.3f} rad "
                      f"after {turns:,.2f} turns (λ = {2 * np.pi / theta:,.1f} tokens)",
           x_title="", y_title="", style=style)
    fig.update_layout(polar=dict(radialaxis=dict(visible=False, range=[0, 1.3]),
                                 angularaxis=dict(direction="counterclockwise", rotation=0,
                                                  ticksuffix="°")),
                      hovermode="closest")
    return fig


@register("freq_layout", page="Frequencies",
          caption="Same pairs, different channels: 'half' pairs channel i with i + r/2 (transformers), "
                  "'interleaved' pairs 2i with 2i + 1 (Meta, GPT-J); checkpoints convert by permuting W_q, W_k.")
def freq_layout(cfg: RopeConfig, *, style: str = "app", label_max: int = 32) -> go.Figure:
    """Channel → pair map for both layouts (rows), the config's own layout named in the title. Channels beyond the
    rotary width (partial rotary) are blank; cells are labelled "ia"/"ib" when d ≤ label_max."""
    d = cfg.head_dim
    z = np.full((2, d), np.nan)
    text = np.full((2, d), "", dtype=object)
    for row, layout in enumerate(("interleaved", "half")):
        a, b = pair_indices(cfg.replace(layout=layout))
        z[row, a] = np.arange(cfg.n_pairs)
        z[row, b] = np.arange(cfg.n_pairs)
        for i, (ca, cb) in enumerate(zip(a, b)):
            text[row, ca], text[row, cb] = f"{i}a", f"{i}b"
    rows = ["interleaved (2i, 2i+1)", "half (i, i+r/2)"]
    labels = d <= int(label_max)
    fig = go.Figure(go.Heatmap(z=z, x=np.arange(d), y=rows, colorscale="Viridis", name="pair index of channel",
                               text=text, texttemplate="%{text}" if labels else None, textfont=dict(size=10),
                               xgap=1 if d <= 256 else 0, ygap=4, colorbar=dict(title=dict(text="pair i")),
                               hovertemplate="channel %{x} → pair %{text}<extra>%{y}</extra>"))
    more = "" if cfg.rotary_dim == d else f"; channels ≥ {cfg.rotary_dim} unrotated"
    styled(fig, title=f"Which channels form each pair (this config: {cfg.layout} layout{more})",
           x_title="channel index c (0 … d−1)", y_title="layout", style=style, height=300)
    fig.update_layout(hovermode="closest", margin=dict(l=170))
    return fig
