"""Figures for the Frequencies page: per-pair rotation speed, wavelength, rotations within the context, the angle map,
one pair in polar view, and which channels form each pair.

θ_i = b^(−2i/r) rad/token (Su et al., RoFormer, arXiv:2104.09864, Eq. 15; the scaled θ'_i of the config's rope_type
from ``rope_viz.frequencies.inv_freq``), wavelength λ_i = 2π/θ_i tokens. Liu et al.'s critical dimension
(arXiv:2310.05209, Eq. 13, ``rope_viz.analysis.bounds.critical_dim``) splits the pairs that complete a full period
within the training length from the partial-cycle ones whose angle never leaves a fraction of the circle.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..config import RopeConfig
from ..frequencies import default_inv_freq, inv_freq, wavelengths
from ..rotation import pair_indices, rope_angles
from . import register
from ._style import PALETTE, styled

MAX_MAP_CELLS = 120_000   # position × pair cells in the angle map (float32 ≈ 0.65 MB of figure JSON)
MAX_MAP_ROWS = 400
FULL, PARTIAL = PALETTE[0], PALETTE[1]


def train_length(cfg: RopeConfig) -> int:
    """The length the pairs are judged against: the pre-extension context when the scaling names one, else the
    context length."""
    return cfg.original_context_length


def critical_pairs(cfg: RopeConfig) -> int | None:
    """Liu et al.'s critical dimension d_extra in channels (``analysis.bounds.critical_dim`` at the train length), or
    None if that module is not available."""
    try:
        from ..analysis.bounds import critical_dim
    except ImportError:
        return None
    return int(critical_dim(cfg, train_length(cfg)))


def pair_table(cfg: RopeConfig) -> dict[str, np.ndarray]:
    """Per pair i (shape (p,)): theta (rad/token, scaled), wavelength (tokens), rotations = L·θ_i/2π within the
    context length L, partial = rotations < 1."""
    theta = inv_freq(cfg)
    wl = wavelengths(theta)
    rot = cfg.context_length * theta / (2 * np.pi)
    return {"pair": np.arange(cfg.n_pairs), "theta": theta, "wavelength": wl, "rotations": rot,
            "partial": rot < 1.0}


def _mark_critical(fig: go.Figure, cfg: RopeConfig, **where) -> int | None:
    d_extra = critical_pairs(cfg)
    if d_extra is None:
        return None
    x = d_extra / 2 - 0.5
    pad = max(0.5, 0.02 * cfg.n_pairs)   # fixed x range: plotly would widen it to fit the annotation's text
    fig.update_xaxes(range=[-pad, cfg.n_pairs - 1 + pad])
    xref, yref = where.get("xref", "x"), where.get("yref", "y domain")
    fig.add_shape(type="line", xref=xref, yref=yref, x0=x, x1=x, y0=0, y1=1,
                  line=dict(color="#444444", dash="dash", width=1.5))
    right = x > cfg.n_pairs / 2          # text on the side with room
    fig.add_annotation(x=x, y=0.99, xref=xref, yref=yref, xanchor="right" if right else "left", yanchor="top",
                       showarrow=False,
                       bgcolor="rgba(255,255,255,0.8)",
                       text=f" critical dim d_extra = {d_extra} (pairs < {d_extra // 2}) ", font=dict(size=12))
    return d_extra


@register("freq_wavelengths", page="Frequencies",
          caption="Frequencies fall geometrically with the pair index; every pair whose wavelength sits above the "
                  "context line (orange) never completes a turn inside the context.")
def freq_wavelengths(cfg: RopeConfig, *, style: str = "app") -> go.Figure:
    """Two panels against the pair index i: θ_i (rad/token, log) and λ_i = 2π/θ_i (tokens, log) with the context
    length as a horizontal line; full-cycle pairs blue, partial-cycle pairs orange; the unscaled θ dashed when the
    config has a scaling; Liu et al.'s critical dimension as a dashed vertical line."""
    t = pair_table(cfg)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("rotation speed θ_i", "wavelength λ_i = 2π/θ_i"))
    for mask, label, col in ((~t["partial"], "full cycle within context", FULL),
                             (t["partial"], "partial cycle (λ > L)", PARTIAL)):
        for c, key in ((1, "theta"), (2, "wavelength")):
            fig.add_trace(go.Scatter(x=t["pair"][mask], y=t[key][mask], mode="markers", name=label,
                                     marker=dict(color=col, size=6), legendgroup=label, showlegend=(c == 1),
                                     hovertemplate="pair %{x}: %{y:.4g}<extra></extra>"), row=1, col=c)
    if cfg.scaling is not None:
        theta0 = default_inv_freq(cfg.base, cfg.rotary_dim)
        for c, y in ((1, theta0), (2, wavelengths(theta0))):
            fig.add_trace(go.Scatter(x=t["pair"], y=y, mode="lines", name="unscaled (plain RoPE, same base)",
                                     line=dict(color="#888888", dash="dot"), legendgroup="unscaled",
                                     showlegend=(c == 1)), row=1, col=c)
    fig.add_trace(go.Scatter(x=[0, cfg.n_pairs - 1], y=[cfg.context_length] * 2, mode="lines",
                             name=f"context length L = {cfg.context_length:,}", line=dict(color="#222222", width=2)),
                  row=1, col=2)
    if train_length(cfg) != cfg.context_length:
        fig.add_trace(go.Scatter(x=[0, cfg.n_pairs - 1], y=[train_length(cfg)] * 2, mode="lines",
                                 name=f"original context {train_length(cfg):,}",
                                 line=dict(color="#222222", width=1, dash="dash")), row=1, col=2)
    styled(fig, title=f"Per-pair frequency and wavelength ({cfg.label()})", x_title="pair index i",
           y_title="θ_i (radians per token)", style=style, log_y=True)
    fig.update_xaxes(title_text="pair index i", row=1, col=2)
    fig.update_yaxes(title_text="λ_i (tokens)", type="log", row=1, col=2)
    fig.update_layout(hovermode="closest", margin=dict(t=80, b=130),
                      legend=dict(y=-0.2, yanchor="top", x=0.0, xanchor="left"))
    _mark_critical(fig, cfg, xref="x2", yref="y2 domain")
    return fig


@register("freq_rotations", page="Frequencies",
          caption="Rotations each pair completes across the context: pairs below 1 (orange) only ever see part of "
                  "the circle — Liu et al.'s critical dimension marks where that starts.")
def freq_rotations(cfg: RopeConfig, *, style: str = "app") -> go.Figure:
    """Bars: L·θ_i/2π full turns of pair i within the context length L (log y), a line at 1 turn, and the critical
    dimension marked."""
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
    fig.update_layout(bargap=0.1, hovermode="closest")
    _mark_critical(fig, cfg)
    return fig


def map_positions(cfg: RopeConfig, n_rows: int | None = None) -> np.ndarray:
    """Integer positions sampled evenly over [0, L − 1] for the angle map: at most MAX_MAP_ROWS rows and
    MAX_MAP_CELLS cells (rows × pairs)."""
    cap = max(2, min(MAX_MAP_ROWS, MAX_MAP_CELLS // cfg.n_pairs))
    n = min(cfg.context_length, cap if n_rows is None else min(int(n_rows), cap))
    return np.unique(np.linspace(0, cfg.context_length - 1, max(n, 1)).round().astype(np.int64))


@register("freq_angle_map", page="Frequencies",
          caption="Left columns (fast pairs) cycle through every angle — they encode fine position; right columns "
                  "(slow pairs) drift smoothly — they encode coarse position. Sampled rows: fast pairs alias.")
def freq_angle_map(cfg: RopeConfig, *, style: str = "app", n_rows: int | None = None) -> go.Figure:
    """Heatmap of (m·θ_i) mod 2π over positions m (rows, sampled evenly over the context, ≤ 400) × pairs i."""
    pos = map_positions(cfg, n_rows)
    ang = np.mod(rope_angles(pos, cfg), 2 * np.pi).astype(np.float32)       # (n_rows, p)
    fig = go.Figure(go.Heatmap(z=ang, x=np.arange(cfg.n_pairs), y=pos, zmin=0, zmax=2 * np.pi,
                               colorscale="Twilight", name="angle m·θ_i mod 2π",
                               colorbar=dict(title=dict(text="angle (rad)"), tickvals=[0, np.pi, 2 * np.pi],
                                             ticktext=["0", "π", "2π"]),
                               hovertemplate="pair %{x}, position %{y}: %{z:.3f} rad<extra></extra>"))
    step = (pos[-1] - pos[0]) / max(len(pos) - 1, 1)
    title = f"Rotation angle per position and pair ({len(pos)} of {cfg.context_length:,} positions"
    title += ")" if step <= 1 else f", every ≈{step:,.0f} tokens)"
    styled(fig, title=title, x_title="pair index i", y_title="position m (tokens)", style=style)
    fig.update_layout(hovermode="closest")
    return fig


@register("freq_polar", page="Frequencies",
          caption="One pair's phase at one position: the angle wraps every λ_i tokens, so positions λ_i apart look "
                  "identical to this pair.")
def freq_polar(cfg: RopeConfig, *, style: str = "app", pair: int = 0, position: int = 100) -> go.Figure:
    """Polar view of pair ``pair`` at position ``position``: the vector at angle m·θ_i (mod 2π) and the path of the
    angle for the positions before it (≤ 600 samples)."""
    pair, position = int(pair), int(position)
    if not 0 <= pair < cfg.n_pairs:
        raise ValueError(f"pair must be in [0, {cfg.n_pairs - 1}], got {pair}")
    if not 0 <= position <= cfg.context_length:
        raise ValueError(f"position must be in [0, {cfg.context_length}] tokens, got {position}")
    theta = float(inv_freq(cfg)[pair])
    phi = position * theta
    turns = phi / (2 * np.pi)
    path = np.unique(np.linspace(0, position, min(position + 1, 600)).round())
    r = 1.0 + 0.25 * path / max(position, 1)   # a slowly widening spiral, so wrapped turns stay visible
    fig = go.Figure()
    fig.add_trace(go.Scatterpolar(r=r, theta=np.degrees(np.mod(path * theta, 2 * np.pi)), mode="markers",
                                  marker=dict(size=3, color=PALETTE[5]), name="earlier positions (spiral: radius "
                                  "grows with m)", customdata=path,
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
    styled(fig, title=f"Which channels form each pair (config: '{cfg.layout}'{more})",
           x_title="channel index c (0 … d−1)", y_title="layout", style=style, height=300)
    fig.update_layout(hovermode="closest", margin=dict(l=170))
    return fig
