"""Aliasing figures: when a base is too small for the context, distant positions get rotation codes that look alike.

All numbers come from ``rope_viz.analysis.aliasing`` (similarity sim(m, n) = (1/p) Σ_i cos((m − n)θ_i) = B_{m−n}/p,
Men et al., arXiv:2405.14591) and ``rope_viz.analysis.bounds`` (Men et al.'s base lower bound; Liu et al.,
arXiv:2310.05209, T_extra). Similarity maps are over at most ``MAX_MAP_POSITIONS`` sampled positions (never L × L).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from ..analysis import aliasing as A
from ..config import BASE_MAX, RopeConfig
from ..frequencies import effective_inv_freq
from . import register
from ._style import PALETTE, grid_layout, styled
from .distance import legend_below

MAX_MAP_POSITIONS = 512          # the heatmap's S × S cells are sent to the browser (float32: ≤ 1 MiB)
SPACINGS = ("log", "linear")
EXAMPLE_POSITIONS = (100, 10_000)   # the classic illustration: "position 10,000 looks like position 100"
EXAMPLE_BASE_CANDIDATES = (10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0)
ALIGNED_COS = 0.9                  # a pair whose cos of the angle difference exceeds this "agrees" (bar colour)
SWEEP_BASES = tuple(float(b) for b in np.geomspace(10.0, 1e9, 25))   # 3 per decade, 10 … 1e9
ADVISOR_CONTEXTS = tuple(1 << k for k in range(10, 15))               # 1K … 16K (cost: see MEN_EXACT_MAX)
MEN_EXACT_MAX = 1 << 15   # Men et al.'s certified bound (bounds.base_lower_bound) costs seconds up to 32K tokens and
                          # minutes beyond (its docstring: 64K 12 s, 128K 28 s, 256K 113 s): computed live only up to
                          # here; beyond, only on demand (the page asks first)


@lru_cache(maxsize=64)
def men_bound(head_dim: int, context_length: int) -> float | None:
    """Men et al.'s base lower bound (``bounds.base_lower_bound``), cached; None if bounds.py is unavailable."""
    try:
        from ..analysis.bounds import base_lower_bound
    except ImportError:
        return None
    return float(base_lower_bound(head_dim, context_length))


def _int(name: str, v, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not float(v).is_integer():
        raise ValueError(f"{name} must be an integer in [{lo:,}, {hi:,}], got {v!r}")
    v = int(v)
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in [{lo:,}, {hi:,}], got {v:,}")
    return v


def _spacing(spacing: str) -> str:
    if spacing not in SPACINGS:
        raise ValueError(f"spacing must be one of {', '.join(SPACINGS)}, got {spacing!r}")
    return spacing


def map_positions(cfg: RopeConfig, n_positions: int = 256, spacing: str = "log") -> np.ndarray:
    """The sampled positions of the similarity map and the impostor plot: ``aliasing.sample_positions`` over the
    context (position 0 dropped on the log spacing: a log axis cannot show it)."""
    n = _int("n_positions", n_positions, 8, MAX_MAP_POSITIONS)
    L = cfg.context_length
    if L < 3:
        raise ValueError(f"the similarity map needs a context of at least 3 tokens, got {L}")
    pos = A.sample_positions(L, min(n + (spacing == "log"), L), _spacing(spacing))
    return pos[pos > 0] if spacing == "log" else pos


# -- similarity map ------------------------------------------------------------------------------------------------
@register("aliasing_map", page="Aliasing",
          caption="Bright cells far from the diagonal are pairs of distant positions whose rotation codes look "
                  "alike: a repeating pattern means aliasing (base too small), a wide bright band means blur.")
def similarity_map_figure(cfg: RopeConfig, *, style: str = "app", n_positions: int = 256,
                          spacing: str = "log") -> go.Figure:
    """Heatmap of sim(m, n) over ``n_positions`` sampled positions of the context (``similarity_matrix``).

    Log spacing: one cell per sample on category axes in sample order (so it reads as a log scale, except near the
    start where every small integer is a sample), ticked at the samples nearest 1, 10, 20, 50, 100, …; linear
    spacing: ordinary linear axes. A uniform cell grid is what lets plotly.js paint the heatmap as one image instead
    of S² rectangles: ~5× faster in the browser than true log axes."""
    pos = map_positions(cfg, n_positions, spacing)
    S = A.similarity_matrix(cfg, pos).astype(np.float32)       # (S, S), float32 for display (values in [−1, 1])
    log = spacing == "log"
    fig = go.Figure(go.Heatmap(
        x=pos, y=pos, z=S, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True, name="sim(m, n)",
        colorbar=dict(title=dict(text="similarity", side="right")), showlegend=True, zsmooth="fast",
        # category axes hand the hover the sample's own value (no number format applies)
        hovertemplate="m=%{y}<br>n=%{x}<br>sim=%{z:.3f}<extra></extra>" if log else
                      "m=%{y:,}<br>n=%{x:,}<br>sim=%{z:.3f}<extra></extra>"))
    unit = "tokens; log-spaced samples, one cell each" if log else "tokens"
    styled(fig, title=f"Position similarity map ({len(pos)} sampled positions, {spacing} spacing, "
                      f"{cfg.label()})",
           x_title=f"position n ({unit})", y_title=f"position m ({unit})", style=style, height=620)
    if log:
        ticks = pos[_log_ticks(pos)]
        axis = dict(type="category", tickmode="array", tickvals=ticks.tolist(),
                    ticktext=[f"{int(v):,}" for v in ticks], showgrid=False)
        fig.update_xaxes(**axis)
        fig.update_yaxes(**axis)
    fig.update_layout(hovermode="closest")
    return fig


def _log_ticks(pos: np.ndarray) -> np.ndarray:
    """Indices of the log-spaced samples to label: those nearest (in log) to 1, 2, 5, 10, 20, …, dropping any that
    would crowd a neighbour (closer than len(pos)/40 cells); the first and the last always stay."""
    n = len(pos)
    lp = np.log(np.maximum(pos, 1))
    targets = [m * 10 ** e for e in range(int(math.log10(max(pos[-1], 1))) + 1) for m in (1, 2, 5)]
    idx = {int(np.argmin(np.abs(lp - math.log(t)))) for t in targets if t <= pos[-1]}
    gap = max(1, n // 40)
    out = [0]
    for i in sorted(idx - {0, n - 1}):
        if i - out[-1] >= gap and (n - 1) - i >= gap:
            out.append(i)
    out.append(n - 1)
    return np.array(out, dtype=np.int64)


# -- nearest impostor -----------------------------------------------------------------------------------------------
@register("aliasing_impostors", page="Aliasing",
          caption="Left: similarity vs distance, and the far peak every position's best look-alike sits on; right: "
                  "for each position, how similar that look-alike is (above the dotted line: as close as a neighbour).")
def impostor_figure(cfg: RopeConfig, *, style: str = "app", n_positions: int = 256, spacing: str = "linear",
                    min_separation: int | None = None) -> go.Figure:
    """Nearest impostors (``nearest_impostor``; separation s, default ``default_min_separation`` = L/16).
    Left panel: the similarity profile sim(Δ) over the whole context (``similarity_profile``, min/max envelope) with
    s and the best far distance Δ* marked — sim depends only on Δ, so every position whose context reaches Δ* shares
    it. Right panel: for sampled positions m, the similarity of m's best look-alike at least s tokens away, with
    sim(Δ = 1) for scale."""
    from .distance import display_envelope

    L = cfg.context_length
    pos = map_positions(cfg, n_positions, spacing)
    s = A.default_min_separation(L) if min_separation is None else _int("min_separation", min_separation, 1,
                                                                         max(1, L - 1))
    r = A.nearest_impostor(cfg, pos, s)
    ok = r["impostor"] >= 0
    layout, ref = grid_layout(1, 2, h_space=0.1)
    left, right = ref(1, 1), ref(1, 2)
    fig = go.Figure(layout=layout)
    # right panel first so that fig.data[0] is the per-position trace
    custom = np.stack([r["impostor"][ok], r["distance"][ok]], axis=1)   # (n_ok, 2)
    fig.add_trace(go.Scatter(
        x=r["positions"][ok], y=r["similarity"][ok], mode="lines+markers", marker=dict(size=4),
        line=dict(color=PALETTE[0]), name=f"best look-alike ≥ {s:,} tokens away", customdata=custom,
        hovertemplate="m=%{x:,}<br>look-alike n=%{customdata[0]:,} (Δ=%{customdata[1]:,})"
                      "<br>sim=%{y:.3f}<extra></extra>", xaxis=right[0], yaxis=right[1]))
    nb = float(r["neighbour_similarity"][0])
    fig.add_trace(go.Scatter(x=[pos[0], pos[-1]], y=[nb, nb], mode="lines", name=f"sim(Δ = 1) = {nb:.3f}",
                             line=dict(color=PALETTE[1], dash="dot"), xaxis=right[0], yaxis=right[1]))
    prof = A.similarity_profile(cfg)                                     # (L,), sim(Δ) for Δ = 0 … L − 1
    dist = np.arange(L, dtype=np.float64)
    x, lo, hi = display_envelope(dist, prof, 1000, log_x=False)
    fig.add_trace(go.Scatter(x=x, y=hi, mode="lines", line=dict(color=PALETTE[2], width=1.2),
                             name="sim(Δ) over the context", xaxis=left[0], yaxis=left[1],
                             hovertemplate="Δ=%{x:,.0f}<br>sim=%{y:.3f}<extra></extra>"))
    if not np.array_equal(lo, hi):
        fig.add_trace(go.Scatter(x=x, y=lo, mode="lines", line=dict(color=PALETTE[2], width=0.8), fill="tonexty",
                                 name="sim(Δ) (min in bin)", showlegend=False, hoverinfo="skip", xaxis=left[0],
                                 yaxis=left[1]))
    if ok.any():
        d_star = int(r["distance"][ok][np.argmax(r["similarity"][ok])])
        fig.add_trace(go.Scatter(x=[d_star], y=[float(prof[d_star])], mode="markers",
                                 marker=dict(symbol="star", size=14, color=PALETTE[3]),
                                 name=f"best far distance Δ* = {d_star:,}", xaxis=left[0], yaxis=left[1],
                                 hovertemplate="Δ*=%{x:,}<br>sim=%{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[s, s], y=[-1, 1], mode="lines", line=dict(color="#555", dash="dash"),
                             name=f"separation s = {s:,}", hoverinfo="skip", xaxis=left[0], yaxis=left[1]))
    log = spacing == "log"
    styled(fig, title=f"Nearest impostors (separation ≥ {s:,} tokens, {cfg.label()})",
           x_title="relative distance Δ (tokens)", y_title="similarity (mean cos, −1 … 1)", style=style)
    fig.update_layout(xaxis2=dict(title_text="position m (tokens" + (", log scale)" if log else ")"),
                                  type="log" if log else None),
                      yaxis2=dict(title_text="similarity of its best look-alike"))
    fig.update_yaxes(range=[-1.02, 1.02])
    fig.update_layout(hovermode="closest")
    return legend_below(fig)


# -- base sweep -------------------------------------------------------------------------------------------------
@lru_cache(maxsize=32)
def base_sweep(head_dim: int, context_length: int, rotary_fraction: float = 1.0,
               min_separation: int | None = None) -> dict:
    """The sweep's data: bases (SWEEP_BASES), worst similarity and excess per base (``aliasing_vs_base``)."""
    b = np.array(SWEEP_BASES)
    kw = dict(min_separation=min_separation, rotary_fraction=rotary_fraction)
    return {"bases": b,
            "similarity": A.aliasing_vs_base(head_dim, context_length, b, measure="similarity", **kw),
            "excess": A.aliasing_vs_base(head_dim, context_length, b, measure="excess", **kw)}


def liu_min_base(cfg: RopeConfig, context_length: int, train_length: int) -> float | None:
    """Liu et al. (arXiv:2310.05209, Eq. 16b): the smallest base β whose extrapolation bound
    T_extra = 2π·β^(d_extra/r) reaches ``context_length`` for a model pre-trained at ``train_length`` with
    ``cfg.base`` (d_extra = ``bounds.critical_dim``; the same expression as ``aliasing.base_advisor``'s
    liu_min_base). None when train_length ≥ context_length, d_extra = 0, bounds.py is unavailable, or β > 1e12."""
    if train_length >= context_length:
        return None
    try:
        from ..analysis.bounds import critical_dim
    except ImportError:
        return None
    pre = cfg.replace(scaling=None, context_length=train_length)
    d_extra = int(critical_dim(pre, train_length))
    if d_extra <= 0:
        return None
    beta = (context_length / (2 * np.pi)) ** (cfg.rotary_dim / d_extra)
    return float(beta) if beta <= BASE_MAX else None


@register("aliasing_base_sweep", page="Aliasing",
          caption="Small bases alias (a far position can be more similar than a nearer one: the excess); large "
                  "bases blur (everything far looks alike). The markers show the published lower bounds.")
def base_sweep_figure(cfg: RopeConfig, *, style: str = "app", context_length: int | None = None,
                      train_length: int | None = None, min_separation: int | None = None,
                      on_demand: bool = False) -> go.Figure:
    """Aliasing vs base at a context L (default: the config's): worst similarity max_{Δ ≥ s} sim(Δ) and the
    excess (``aliasing_vs_base``), with Men et al.'s lower bound (``bounds.base_lower_bound``), Liu et al.'s base
    for T_extra ≥ L (pre-trained at ``train_length``, default the config's original context, with the config's base)
    and the config's own base marked. Men et al.'s bound is computed for L ≤ MEN_EXACT_MAX, beyond only with
    ``on_demand`` (it takes minutes there)."""
    L = cfg.context_length if context_length is None else _int("context_length", context_length, 16, 1 << 24)
    T = cfg.original_context_length if train_length is None else _int("train_length", train_length, 16, 1 << 24)
    s = A.default_min_separation(L) if min_separation is None else _int("min_separation", min_separation, 1, L - 1)
    data = base_sweep(cfg.head_dim, L, cfg.rotary_fraction, s)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=data["bases"], y=data["similarity"], mode="lines+markers", name=
                             f"worst similarity at Δ ≥ {s:,}", line=dict(color=PALETTE[0]),
                             hovertemplate="base=%{x:.3g}<br>max sim=%{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=data["bases"], y=data["excess"], mode="lines+markers",
                             name="aliasing excess (far more similar than near)", line=dict(color=PALETTE[1]),
                             hovertemplate="base=%{x:.3g}<br>excess=%{y:.3f}<extra></extra>"))
    marks = []
    men = men_bound(cfg.head_dim, L) if L <= MEN_EXACT_MAX or on_demand else None
    if men is not None:
        marks.append((men, f"Men et al. lower bound for L = {L:,}", PALETTE[2], "dash"))
    liu = liu_min_base(cfg, L, T)
    if liu is not None and 1 < liu <= BASE_MAX:
        marks.append((float(liu), f"Liu et al.: T_extra ≥ {L:,} (trained at {T:,})", PALETTE[3], "dashdot"))
    marks.append((cfg.base, f"this config's base ({cfg.base:g})", "#000000", "dot"))
    for x, label, color, dash in marks:
        fig.add_trace(go.Scatter(x=[x, x], y=[0, 1], mode="lines", name=f"{label}: {x:.3g}",
                                 line=dict(color=color, dash=dash, width=2),
                                 hovertemplate=label + "<br>base=%{x:.4g}<extra></extra>"))
    styled(fig, title=f"Aliasing vs base at context L = {L:,} (d = {cfg.head_dim})",
           x_title="base b (rope_theta, log scale)", y_title="similarity (mean cos, 0 … 1)", style=style,
           log_x=True)
    fig.update_yaxes(range=[0, 1.02])
    fig.update_layout(hovermode="closest")
    return legend_below(fig)


# -- two positions ---------------------------------------------------------------------------------------------------
def example_base(head_dim: int = 128, context_length: int = 16384) -> float:
    """The small base (among EXAMPLE_BASE_CANDIDATES) at which position 10,000 looks most like position 100: the one
    where the most nearer distances are *less* similar than Δ = 9,900 (``lookalike_example``'s stronger_nearer)."""
    best, arg = -1, EXAMPLE_BASE_CANDIDATES[0]
    for b in EXAMPLE_BASE_CANDIDATES:
        cfg = RopeConfig(head_dim=head_dim, base=b, context_length=max(context_length, EXAMPLE_POSITIONS[1] + 1))
        r = A.lookalike_example(cfg, *EXAMPLE_POSITIONS)
        if r["stronger_nearer"] > best:
            best, arg = r["stronger_nearer"], b
    return arg


@register("aliasing_pair", page="Aliasing",
          caption=f"Each bar is one pair's cos of the angle between the two positions (orange: above {ALIGNED_COS}, "
                  "the pair barely tells them apart); where most bars are near +1 the positions look alike.")
def pair_figure(cfg: RopeConfig, *, style: str = "app", position: int = EXAMPLE_POSITIONS[0],
                other: int = EXAMPLE_POSITIONS[1]) -> go.Figure:
    """Per pair i: cos((other − position)·θ_i) (bars; θ = ``effective_inv_freq(cfg)``, the frequencies in effect over
    the context), coloured by whether it exceeds ALIGNED_COS, and their mean, the similarity of the two positions."""
    a = _int("position", position, 0, 1 << 24)
    b = _int("other", other, 0, 1 << 24)
    theta = effective_inv_freq(cfg)                                    # (p,), rad/token
    contrib = np.cos((b - a) * theta)                                  # (p,)
    sim = A.position_similarity(cfg, b, a)
    pairs = np.arange(theta.size)
    fig = go.Figure()
    for sel, color, label in ((contrib > ALIGNED_COS, PALETTE[1], f"cos > {ALIGNED_COS}: pair nearly aligned"),
                              (contrib <= ALIGNED_COS, PALETTE[0], f"cos ≤ {ALIGNED_COS}: pair tells them apart")):
        fig.add_trace(go.Bar(x=pairs[sel], y=contrib[sel], name=label, marker_color=color,
                             hovertemplate="pair %{x}<br>cos=%{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[-0.5, theta.size - 0.5], y=[sim, sim], mode="lines", name=f"similarity = mean = "
                             f"{sim:.3f}", line=dict(color="#000", dash="dash")))
    styled(fig, title=f"Positions {a:,} and {b:,}: per-pair agreement (base {cfg.base:g}, d = {cfg.head_dim})",
           x_title="pair index i (0 = fastest, θ_0 = 1 rad/token)", y_title="cos of the angle difference (−1 … 1)",
           style=style)
    fig.update_yaxes(range=[-1.05, 1.05])
    fig.update_layout(hovermode="closest", bargap=0.1, barmode="overlay")
    return fig


# -- base advisor -------------------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def lower_bound_curve(head_dim: int, contexts: tuple[int, ...] = ADVISOR_CONTEXTS) -> np.ndarray:
    """Men et al.'s base lower bound at each context length (``men_bound``), shape (n,); ImportError without
    bounds.py."""
    vals = [men_bound(head_dim, L) for L in contexts]
    if any(v is None for v in vals):
        raise ImportError("rope_viz.analysis.bounds is unavailable")
    return np.array(vals)


def preset_points() -> list[dict]:
    """Every preset as (name, head dim, context, base, meets?, lower bound): the context is the pre-training one
    (``original_context_length``) for presets with a context-extension scaling; ``meets`` = Men et al.'s condition
    B_Δ ≥ 0 on that context at the preset's base, checked directly (``men_condition_holds``); ``lower_bound`` =
    ``men_bound`` for contexts ≤ MEN_EXACT_MAX (None beyond, or without bounds.py)."""
    from ..presets import PRESETS
    out = []
    for name, p in PRESETS.items():
        c = p.config
        L = c.original_context_length
        lb = men_bound(c.head_dim, L) if L <= MEN_EXACT_MAX else None
        out.append(dict(name=name, head_dim=c.head_dim, context=L, base=c.base, lower_bound=lb,
                        meets=A.men_condition_holds(c.head_dim, c.base, L, c.rotary_fraction)))
    return out


@lru_cache(maxsize=8)
def _preset_points_cached() -> tuple:
    return tuple(preset_points())


@register("aliasing_advisor", page="Aliasing",
          caption="Presets above the curve satisfy Men et al.'s B ≥ 0 over their context (filled markers); the "
                  "star is the recommended base for your target context.")
def advisor_figure(cfg: RopeConfig, *, style: str = "app", target_context: int | None = None,
                   train_length: int | None = None, on_demand: bool = False) -> go.Figure:
    """Context vs base (log–log): Men et al.'s lower-bound curve for the config's head dim, every preset (filled if
    its base satisfies B_Δ ≥ 0 over its own context, checked directly), this config, and ``base_advisor``'s
    recommendation for ``target_context`` (default: the config's context; beyond MEN_EXACT_MAX only with
    ``on_demand``, since Men et al.'s certified bound then takes minutes)."""
    L = cfg.context_length if target_context is None else _int("target_context", target_context, 16, 1 << 24)
    adv = advice(cfg, L, train_length) if L <= MEN_EXACT_MAX or on_demand else {"recommended": None}
    ctx = np.array(ADVISOR_CONTEXTS)
    fig = go.Figure()
    try:
        lb = lower_bound_curve(cfg.head_dim)
    except ImportError:  # bounds.py missing
        lb = None
    if lb is not None:
        fig.add_trace(go.Scatter(x=ctx, y=lb, mode="lines+markers", name=f"Men et al. lower bound (d = "
                                 f"{cfg.head_dim})", line=dict(color=PALETTE[0]),
                                 hovertemplate="L=%{x:,}<br>base ≥ %{y:.3g}<extra></extra>"))
    try:
        pts = _preset_points_cached()
    except ImportError:  # presets.py missing
        pts = ()
    for meets, sym, label in ((True, "circle", "preset: meets its bound"),
                              (False, "circle-open", "preset: below its bound")):
        sel = [p for p in pts if p["meets"] == meets]
        groups: dict = {}                       # presets at the same (context, base) share one marker and label
        for p in sel:
            groups.setdefault((p["context"], p["base"]), []).append(p)
        sel = [dict(g[0], name="<br>".join(q["name"] for q in g)) for g in groups.values()]
        if sel:
            fig.add_trace(go.Scatter(
                x=[p["context"] for p in sel], y=[p["base"] for p in sel], mode="markers+text",
                text=[p["name"] for p in sel], textposition="top center", textfont=dict(size=10),
                marker=dict(symbol=sym, size=10, color=PALETTE[2] if meets else PALETTE[1],
                            line=dict(width=2, color=PALETTE[2] if meets else PALETTE[1])),
                name=label, customdata=[[p["head_dim"], p["lower_bound"] or float("nan")] for p in sel],
                hovertemplate="%{text}<br>(pre-training) L=%{x:,}, base=%{y:.3g}<br>d=%{customdata[0]}, "
                              "bound %{customdata[1]:.3g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[cfg.context_length], y=[cfg.base], mode="markers", name="this config",
                             marker=dict(symbol="diamond", size=13, color="#000"),
                             hovertemplate="this config<br>L=%{x:,}, base=%{y:.3g}<extra></extra>"))
    if adv["recommended"] is not None:
        fig.add_trace(go.Scatter(x=[L], y=[adv["recommended"]], mode="markers",
                                 name=f"recommended for L = {L:,}: {adv['recommended']:g}",
                                 marker=dict(symbol="star", size=18, color=PALETTE[4], line=dict(width=1)),
                                 hovertemplate="recommended<br>L=%{x:,}, base=%{y:.3g}<extra></extra>"))
    styled(fig, title="Base advisor: context length vs base (presets and Men et al.'s bound)",
           x_title="context length L (tokens, log scale)", y_title="base b (rope_theta, log scale)", style=style,
           log_x=True, log_y=True, height=560)
    ys = np.concatenate([np.asarray(t.y, dtype=np.float64) for t in fig.data if t.y is not None])
    ys = ys[np.isfinite(ys) & (ys > 0)]
    if ys.size:   # headroom above the highest marker for its (possibly stacked) preset labels
        fig.update_yaxes(range=[math.log10(ys.min()) - 0.15, math.log10(ys.max()) + 0.55])
    fig.update_layout(hovermode="closest")
    return legend_below(fig)


@lru_cache(maxsize=32)
def _advice_cached(head_dim: int, target: int, train_length: int | None, base: float, rotary_fraction: float):
    return A.base_advisor(head_dim, target, train_length=train_length, pretrain_base=base,
                          rotary_fraction=rotary_fraction)


def advice(cfg: RopeConfig, target_context: int | None = None, train_length: int | None = None) -> dict:
    """``aliasing.base_advisor`` for the config's head dim and rotary fraction (for the page's text); cached."""
    L = cfg.context_length if target_context is None else _int("target_context", target_context, 16, 1 << 24)
    T = None if train_length is None else _int("train_length", train_length, 1, 1 << 24)
    adv = _advice_cached(cfg.head_dim, L, T, cfg.base, cfg.rotary_fraction)
    return {**adv, "notes": list(adv["notes"])}
