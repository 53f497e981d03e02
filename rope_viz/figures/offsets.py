"""Offset-dimension figures: pairs that turn less than a cycle over the context, and the content-independent bias a
constant query/key offset in those pairs puts on every attention score.

Phenomenon: Jonasson, "Rotary Offset Features in Large Language Models", arXiv:2503.01832 (2025). The one-sign
criterion ((L − 1)·θ_i < π) and the bias formula are derived by us in ``rope_viz.analysis.offsets`` (not the paper's
bounds). All numbers come from that module.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .. import compare as C
from ..analysis import offsets as O
from ..config import SCALING_LABELS, RopeConfig
from ..frequencies import effective_parameters
from ..scaling import extend
from . import register
from ._style import PALETTE, format_number, pair_span, styled
from .distance import display_envelope, legend_below
from .extension import METHODS

MAX_COMPARE = C.MAX_COMPARE + 2   # the page's own variants (plain RoPE, the method) + the user's choices
N_BINS = 1200
N_SIM_POINTS = 120      # random-content check dots on the bias curve (each with an error bar: drawn on every redraw)


def comparison_configs(cfg: RopeConfig, method: str | None = None, factor: float = 8.0) -> list[tuple[str, RopeConfig]]:
    """What the page compares. If ``cfg`` has a scaling: itself and the same model without it (plain RoPE at the
    same context). Otherwise, with a ``method``: the pre-trained model at L, plain RoPE pushed to s·L, and the
    method at s·L (``scaling.extend``). Without a method: just ``cfg``."""
    if cfg.scaling is not None:
        return [(f"{SCALING_LABELS[cfg.rope_type]} ({cfg.label()})", cfg),
                (f"same, no scaling (L = {cfg.context_length:,})", cfg.replace(scaling=None))]
    if method is None:
        return [(cfg.label(), cfg)]
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    plain, ext = extend(cfg, "none", factor), extend(cfg, method, factor)
    return [(f"pre-trained, L = {cfg.context_length:,}", cfg),
            (f"plain RoPE at L = {plain.context_length:,}", plain),
            (f"{SCALING_LABELS[method]} ×{factor:g} at L = {ext.context_length:,}", ext)]


def _configs(cfg: RopeConfig, compare: Sequence) -> list[tuple[str, RopeConfig]]:
    return C.with_main(cfg, compare, limit=MAX_COMPARE)


def lowest_pairs(cfg: RopeConfig, n_offset_pairs: int | None) -> np.ndarray | None:
    """Indices of the ``n_offset_pairs`` lowest-frequency pairs (the last ones), or None = the one-sign pairs."""
    if n_offset_pairs is None:
        return None
    k = int(n_offset_pairs)
    if not 1 <= k <= cfg.n_pairs:
        raise ValueError(f"n_offset_pairs must be in [1, {cfg.n_pairs}] (the rotated pairs), got {k}")
    return np.arange(cfg.n_pairs - k, cfg.n_pairs)


# -- per-pair rotations vs the criterion ----------------------------------------------------------------------------
@register("offsets_cycles", page="Offset dimensions",
          caption="Pairs below the one-sign line ((L − 1)·θ < π: under half a turn over the context) get a "
                  "one-sign bias from a constant q/k offset (our criterion); between it and 1 turn: a partial cycle.")
def cycles_figure(cfg: RopeConfig, *, style: str = "app", compare: Sequence = ()) -> go.Figure:
    """Per pair i: rotations completed within the context, L·θ_i/2π (``offsets.pair_cycles``), log scale, with the
    full-cycle line (1 turn) and the one-sign threshold ((L − 1)θ_i < π, i.e. L·θ_i/2π < L/(2(L − 1)) turns, at the
    first configuration's L: 0.533 at L = 16, 0.5001 at 4,096); one trace per
    configuration (``compare``: entries of ``rope_viz.compare.resolve``, e.g. (label, RopeConfig) pairs from
    ``comparison_configs``)."""
    configs = _configs(cfg, compare)
    fig = go.Figure()
    # configurations told apart by colour and dash (symbol markers on every pair cost the browser ~70 ms a redraw)
    dashes = ("solid", "dash", "dot", "dashdot", "longdashdot", "2px,6px")
    for ci, (label, c) in enumerate(configs):
        pc = O.pair_cycles(c)
        n_one = int(pc["one_sign"].sum())
        n_partial = int((~pc["completes_cycle"]).sum())
        fig.add_trace(go.Scatter(
            x=pc["pair"], y=pc["rotations"], mode="lines",
            line=dict(color=PALETTE[ci], width=2.5 if ci == 0 else 2, dash=dashes[ci % len(dashes)]),
            name=f"{label}: {n_partial} partial-cycle, {n_one} one-sign pairs",
            customdata=np.stack([pc["wavelength"], pc["one_sign"].astype(int)], axis=1),
            hovertemplate="pair %{x}<br>%{y:.4g} turns<br>wavelength %{customdata[0]:,.0f} tokens"
                          "<br>one-sign: %{customdata[1]}<extra></extra>"))
    p = max(c.n_pairs for _, c in configs)
    L0 = cfg.context_length
    fig.add_trace(go.Scatter(x=pair_span(0, p - 1), y=[1, 1], mode="lines", name="one full turn (cycle completed)",
                             line=dict(color="#777", width=1, dash="longdash")))
    half = L0 / (2 * (L0 - 1))                  # (L − 1)·θ = π on the L·θ/2π axis
    fig.add_trace(go.Scatter(x=pair_span(0, p - 1), y=[half, half], mode="lines",
                             name=f"one-sign threshold: (L − 1)·θ = π ({format_number(half, 4)} turns at L = {L0:,})",
                             line=dict(color="#000", width=1.5)))
    styled(fig, title="Rotations completed within the context, per pair", x_title="pair index i (0 = fastest)",
           y_title="turns within the context (L·θ_i / 2π, log scale)", style=style, log_y=True)
    return legend_below(fig)


# -- the bias of a constant offset ---------------------------------------------------------------------------------
def _bias_caption(fig: go.Figure) -> str:
    """What the bias chart shows: the content-independent bias, the dots only when drawn, and a flat zero said as
    such when no pair carries an offset (every pair turns far enough over the context: no one-sign pair)."""
    m = fig.layout.meta or {}
    if not any(m.get("n_offset_pairs", [1])):
        return ("No pair turns less than half a turn over this context (no one-sign pair), so no pair carries the "
                "offset and the bias is 0 at every distance.")
    return ("A constant offset in the slow pairs adds the same bias to every query–key score at a given distance, "
            "whatever the content" + ("; the random-content average (dots) sits on it." if m.get("simulated")
                                      else "."))


@register("offsets_bias", page="Offset dimensions", caption=_bias_caption)
def bias_figure(cfg: RopeConfig, *, style: str = "app", compare: Sequence = (), n_offset_pairs: int | None = None,
                magnitude: float = 1.0, alpha: float | None = None, simulate: bool = True, n_samples: int = 256,
                seed: int = 0, log_x: bool = False) -> go.Figure:
    """Content-independent score bias vs distance Δ = 0 … L − 1 (``offsets.offset_bias``) from constant q/k offsets
    of size ``magnitude`` in the ``n_offset_pairs`` lowest-frequency pairs (None: each config's one-sign pairs), at
    relative angle ``alpha`` (None: the centred angle −(L − 1)θ_i/2 per pair, the most robust one-sign choice). One
    curve per configuration, over its own context. With ``simulate``: the mean ± std of the full score over
    ``n_samples`` random-content q/k plus the same offsets (``simulate_offset_scores``), first config only."""
    configs = _configs(cfg, compare)
    if not 0 < float(magnitude) <= 1e3:
        raise ValueError(f"magnitude must be in (0, 1000], got {magnitude}")
    fig = go.Figure()
    n_offset, simulated = [], False
    for ci, (label, c) in enumerate(configs):
        pairs = lowest_pairs(c, n_offset_pairs)
        n_sel = int(O.pair_cycles(c)["one_sign"].sum()) if pairs is None else len(pairs)
        n_offset.append(n_sel)
        L = c.context_length
        dist = np.arange(0, L, dtype=np.float64)                               # Δ = 0 … L − 1, full resolution
        if n_sel == 0:
            y = np.zeros_like(dist)
        else:
            y = O.offset_bias(c, dist, pairs, magnitude=magnitude, alpha=alpha)
        x, lo, hi = display_envelope(dist, y, N_BINS, log_x)
        what = "one-sign pairs" if pairs is None else "lowest-frequency pairs"
        af2 = effective_parameters(c, L)[1] ** 2           # the score carries the attention factor squared
        scaled = f" (scores × attention factor² = {format_number(af2, 3)})" if abs(af2 - 1.0) > 1e-12 else ""
        fig.add_trace(go.Scatter(x=x, y=hi, mode="lines", line=dict(color=PALETTE[ci], width=2),
                                 name=f"bias, {n_sel} {what} — {label}{scaled}", legendgroup=str(ci),
                                 hovertemplate="Δ=%{x:,.0f}<br>bias=%{y:.4g}<extra></extra>"))
        if not np.array_equal(lo, hi):
            fig.add_trace(go.Scatter(x=x, y=lo, mode="lines", line=dict(color=PALETTE[ci], width=1),
                                     fill="tonexty", name=f"bias (min in bin) — {label}", legendgroup=str(ci),
                                     showlegend=False, hoverinfo="skip"))
        if simulate and ci == 0 and n_sel > 0:
            xs = np.unique(np.round(np.geomspace(1, L - 1, N_SIM_POINTS) if log_x else
                                    np.linspace(0, L - 1, N_SIM_POINTS)))
            sim = O.simulate_offset_scores(c, xs, n_samples=n_samples, offset_magnitude=magnitude, seed=seed,
                                           offset_pairs=pairs, alpha=alpha)
            simulated = True
            fig.add_trace(go.Scatter(
                x=xs, y=sim["mean"], mode="markers", marker=dict(size=5, color=PALETTE[ci], symbol="circle-open"),
                error_y=dict(type="data", array=sim["stderr"], visible=True, thickness=1, width=0),
                name=f"random content + offset: mean ± s.e. of {n_samples} samples — {label}",
                hovertemplate="Δ=%{x:,.0f}<br>mean score=%{y:.4g}<extra></extra>"))
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    styled(fig, title=f"Content-independent bias from a constant q/k offset (|o_q| = |o_k| = {magnitude:g})",
           x_title="relative distance Δ (tokens" + (", log scale)" if log_x else ")"),
           y_title="score bias (dot-product units)", style=style, log_x=log_x)
    fig.update_layout(meta={"n_offset_pairs": n_offset, "simulated": simulated})
    return legend_below(fig)
