"""Figures for the Intuition page: pairs rotating as the position advances, and the relative-position invariance.

RoPE (Su et al., RoFormer, arXiv:2104.09864, Eq. 13–16) turns pair i of a query/key at position m by the angle m·θ_i,
θ_i = b^(−2i/r). Because both q and k are turned, q_m · k_n depends only on m − n (§3.4.2): shifting both positions by
the same t leaves the score unchanged. Everything is computed with ``rope_viz.rotation.apply_rope``, with the
frequencies in effect over the config's context (``seq_len`` = its context length).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .. import validate as V
from ..config import RopeConfig
from ..frequencies import effective_attention_factor, effective_inv_freq, wavelengths
from ..rotation import apply_rope, pair_indices
from . import register
from ._style import PALETTE, axis_key, format_count, format_number, grid_layout, styled

MAX_FRAMES = 240
MAX_PANELS = 6


def default_pairs(cfg: RopeConfig, n: int = 3) -> list[int]:
    """n pair indices spread from the fastest (0) to the slowest (p − 1) pair."""
    p = cfg.n_pairs
    return sorted({int(round(x)) for x in np.linspace(0, p - 1, min(n, p))})


def _check_pairs(cfg: RopeConfig, pairs) -> list[int]:
    if pairs is None:
        return default_pairs(cfg)
    if isinstance(pairs, (str, bytes)) or not hasattr(pairs, "__len__") or not 1 <= len(pairs) <= MAX_PANELS:
        raise ValueError(f"pairs must list 1 … {MAX_PANELS} pair indices; got {V.shorten(pairs)}")
    return [V.integer("pair index", i, 0, cfg.n_pairs - 1) for i in pairs]


def rotating_pairs_data(cfg: RopeConfig, pairs, positions) -> np.ndarray:
    """The rotated unit vector of each chosen pair at each position: apply_rope to a vector whose pairs are all
    (1, 0). Returns (n_positions, n_pairs_chosen, 2) = (a-channel, b-channel), scaled by the attention factor."""
    x = np.zeros(cfg.head_dim)
    a_idx, b_idx = pair_indices(cfg)
    x[a_idx] = 1.0
    out = apply_rope(x, np.asarray(positions, dtype=np.float64), cfg, seq_len=cfg.context_length)   # (n, d)
    pairs = np.asarray(pairs)
    return np.stack([out[:, a_idx[pairs]], out[:, b_idx[pairs]]], axis=-1)  # (n, k, 2)


@register("intuition_rotation", page="Intuition",
          caption="Press ▶ Play: every pair turns by the same rule (angle m·θ_i), but fast pairs (small i) spin many "
                  "times while slow pairs barely move; together they spell out the position.")
def intuition_rotation(cfg: RopeConfig, *, style: str = "app", pairs=None, n_frames: int = 48,
                       step: int = 1) -> go.Figure:
    """Animated unit circles, one subplot per chosen pair: the pair's (a, b) channels of a rotated (1, 0) vector at
    positions 0, step, 2·step, … (n_frames frames, fewer where the context ends first: every frame's position is
    inside the context, so step must be less than cfg.context_length) with the trail of earlier positions; play
    button + slider."""
    pairs = _check_pairs(cfg, pairs)
    n_frames = int(n_frames)
    step = int(step)
    if not 2 <= n_frames <= MAX_FRAMES:
        raise ValueError(f"n_frames must be in [2, {MAX_FRAMES}], got {n_frames}")
    last = cfg.context_length - 1                                         # the context's last position
    if not 1 <= step <= last:
        raise ValueError(f"step must be in [1, {last:,}] tokens per frame (less than the context length "
                         f"{cfg.context_length:,}), got {step}")
    n_frames = min(n_frames, last // step + 1)                            # every frame inside the context
    theta = effective_inv_freq(cfg)
    wl = wavelengths(theta)
    positions = np.arange(n_frames) * step
    xy = rotating_pairs_data(cfg, pairs, positions)                       # (n_frames, k, 2)
    r = effective_attention_factor(cfg)                                   # the circle the tips run on
    k = len(pairs)
    titles = [f"<b>pair {i}</b><br>θ = {format_number(theta[i])} rad/token<br>λ = {format_number(wl[i], 2)} tokens"
              for i in pairs]
    layout, ref = grid_layout(1, k, titles=titles, h_space=0.06)
    for note in layout["annotations"]:   # three short lines: fit six panels side by side
        note["font"] = dict(size=13)
    circle = np.linspace(0, 2 * np.pi, 97)
    lim = 1.15 * r
    data: list[dict] = []
    for j, i in enumerate(pairs):
        col = PALETTE[j % len(PALETTE)]
        xa, ya = ref(1, j + 1)
        data.append(dict(type="scatter", x=r * np.cos(circle), y=r * np.sin(circle), mode="lines",
                         name="unit circle" if r == 1.0 else f"circle of radius {r:.4g} (attention factor)",
                         line=dict(color="#bbbbbb", width=1), showlegend=(j == 0), legendgroup="circle", hoverinfo="skip", xaxis=xa, yaxis=ya))
        data.append(dict(type="scatter", x=xy[:, j, 0], y=xy[:, j, 1], mode="markers",
                         name="tip at every frame's position", marker=dict(color=col, size=5, opacity=0.35),
                         showlegend=(j == 0), legendgroup="tips", customdata=positions,
                         hovertemplate=f"pair {i}, m=%{{customdata}}<extra></extra>", xaxis=xa, yaxis=ya))
        layout[axis_key(xa)].update(range=[-lim, lim], constrain="domain",   # narrow panels: short title, 3 ticks
                                    title=dict(text="channel a_i (unitless)" if k <= 3 else "a_i (unitless)"),
                                    tickvals=None if k <= 3 else [-r, 0, r])
        layout[axis_key(ya)].update(range=[-lim, lim], scaleanchor=xa, scaleratio=1,
                                    title=dict(text="channel b_i (unitless)" if j == 0 else None))
    moving = []
    for j, i in enumerate(pairs):
        col = PALETTE[j % len(PALETTE)]
        xa, ya = ref(1, j + 1)
        data.append(dict(type="scatter", x=[0, xy[0, j, 0]], y=[0, xy[0, j, 1]], mode="lines+markers",
                         name="pair vector at position m", line=dict(color=col, width=4),
                         marker=dict(size=[0, 13], color=col), showlegend=(j == 0), legendgroup="vec",
                         hoverinfo="skip", xaxis=xa, yaxis=ya))
        moving.append(len(data) - 1)
    # Frames as plain dicts: only the moving vectors change.
    frames = [dict(name=str(positions[f]), traces=moving,
                   data=[dict(type="scatter", x=[0.0, float(xy[f, j, 0])], y=[0.0, float(xy[f, j, 1])])
                         for j in range(k)])
              for f in range(n_frames)]
    fig = go.Figure(data=data, layout=layout, frames=frames)
    styled(fig, title=f"Pairs rotating as the position advances ({format_count(step, 'token')} per frame, "
                      f"m = 0 … {int(positions[-1]):,} of the {cfg.context_length:,}-token context)",
           x_title=None, y_title=None, style=style, height=560)
    fig.update_layout(
        hovermode="closest",
        margin=dict(l=70, r=30, t=180, b=150),
        legend=dict(y=1.3, yanchor="bottom"),   # above the three-line subplot titles
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=-0.3, xanchor="left", yanchor="top",
                          showactive=False,
                          buttons=[dict(label="▶ Play", method="animate",
                                        args=[None, dict(frame=dict(duration=120, redraw=False), fromcurrent=True,
                                                         transition=dict(duration=0))]),
                                   dict(label="❚❚ Pause", method="animate",
                                        args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate",
                                                           transition=dict(duration=0))])])],
        sliders=[dict(active=0, x=0.3, y=-0.26, len=0.7, xanchor="left", yanchor="top",
                      currentvalue=dict(prefix="position m = ", suffix=" tokens"),
                      steps=[dict(label=str(positions[f]), method="animate",
                                  args=[[str(positions[f])], dict(mode="immediate", frame=dict(duration=0,
                                        redraw=False), transition=dict(duration=0))]) for f in range(n_frames)])],
    )
    return fig


def invariance_scores(cfg: RopeConfig, m: int, n: int, shifts, seed: int = 0) -> dict[str, np.ndarray]:
    """Scores of one random query/key pair (N(0, 1) entries, fixed seed) under RoPE:
    ``together[t] = q_{m+t} · k_{n+t}`` (both shifted: constant, RoFormer §3.4.2) and ``query_only[t] = q_{m+t} ·
    k_n`` (only the query moves: changes). shifts (s,) → arrays (s,)."""
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal(cfg.head_dim), rng.standard_normal(cfg.head_dim)
    t = np.asarray(shifts, dtype=np.float64)
    L = cfg.context_length                                                # frequencies in effect over the context
    qr = apply_rope(q, m + t, cfg, seq_len=L)                             # (s, d)
    kr_together = apply_rope(k, n + t, cfg, seq_len=L)                    # (s, d)
    kr_fixed = apply_rope(k, np.array([float(n)]), cfg, seq_len=L)        # (1, d)
    return {"shift": t, "together": np.sum(qr * kr_together, axis=-1), "query_only": np.sum(qr * kr_fixed, axis=-1)}


@register("intuition_invariance", page="Intuition",
          caption="Moving query and key together (blue) never changes the score: RoPE only sees the distance m − n. "
                  "Moving the query alone (orange) does.")
def intuition_invariance(cfg: RopeConfig, *, style: str = "app", m: int = 12, n: int = 5, max_shift: int = 512,
                         seed: int = 0) -> go.Figure:
    """Score q_{m+t}·k_{n+t} and q_{m+t}·k_n against the shift t = 0 … max_shift (≤ 400 sampled shifts)."""
    max_shift = int(max_shift)
    if not 1 <= max_shift <= 10_000_000:
        raise ValueError(f"max_shift must be in [1, 10000000] tokens, got {max_shift}")
    shifts = np.unique(np.linspace(0, max_shift, min(max_shift + 1, 400)).round())
    s = invariance_scores(cfg, m, n, shifts, seed)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=s["shift"], y=s["together"], mode="lines", name=f"q at {m}+t, k at {n}+t (together)",
                             line=dict(color=PALETTE[0], width=3)))
    fig.add_trace(go.Scatter(x=s["shift"], y=s["query_only"], mode="lines", name=f"q at {m}+t, k stays at {n}",
                             line=dict(color=PALETTE[1], width=1.5)))
    return styled(fig, title=f"Relative position: shifting both positions keeps the score (m − n = {m - n})",
                  x_title="shift t added to the position(s) (tokens)", y_title="score q·k (dot product, unitless)",
                  style=style)
