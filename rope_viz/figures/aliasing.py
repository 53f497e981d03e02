"""Aliasing figures: when a base is too small for the context, distant positions get rotation codes that look alike.

All numbers come from ``rope_viz.analysis.aliasing`` (similarity sim(m, n) = (1/p) Σ_i cos((m − n)θ_i) = B_{m−n}/p,
Men et al., arXiv:2405.14591) and ``rope_viz.analysis.bounds`` (Men et al.'s base lower bound; Liu et al.,
arXiv:2310.05209, T_extra). Similarity maps are over at most ``MAX_MAP_POSITIONS`` sampled positions (never L × L).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from ..analysis import aliasing as A
from ..analysis.bounds import (BOUND_CONTEXTS, MEN_TABLE_CONTEXTS, MEN_TABLE_PRINTED, base_bound_curve,
                               base_lower_bound, liu_min_base, men_condition, min_similarity)
from ..config import BASE_MAX, CONTEXT_MAX, RopeConfig, format_base, format_min_base
from ..frequencies import effective_inv_freq
from . import register
from ._style import PALETTE, format_count, format_number, grid_layout, log_axis, styled
from .distance import legend_below

MIN_CONTEXT = 3          # the map and the look-alikes need two distances (a 2-token context has only Δ = 1)
MIN_SWEEP_CONTEXT = 16   # the base sweep's and the advisor's contexts (and pre-training lengths) start here
_TOO_SHORT = ("context_length must be at least {n} tokens for the aliasing figures; got {L}: a {L}-token context has at "
              "most one distance (Δ = 1), so no position can look like a farther one — nothing to alias")
MEN_FAR = 1 << 17       # Men et al.'s printed bases and the exact b* part ways from 128K tokens on
MAX_MAP_POSITIONS = 512          # the heatmap's S × S cells are sent to the browser (float32: ≤ 1 MiB)
SPACINGS = ("log", "linear")
EXAMPLE_POSITIONS = (100, 10_000)   # the classic illustration: "position 10,000 looks like position 100"
EXAMPLE_BASE_CANDIDATES = (10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0)
ALIGNED_COS = 0.9                  # a pair whose cos of the angle difference exceeds this "agrees" (bar colour)
SWEEP_BASES = tuple(float(b) for b in np.geomspace(10.0, 1e9, 25))   # 3 per decade, 10 … 1e9
MEN_EXACT_MAX = 1 << 15   # Men et al.'s certified bound (bounds.base_lower_bound) costs seconds up to 32K tokens and
                          # minutes beyond (its docstring: 64K 12 s, 128K 28 s, 256K 113 s): computed live only up to
                          # here; beyond, only on demand (the page asks first)


@lru_cache(maxsize=64)
def men_bound(head_dim: int, context_length: int) -> float:
    """Men et al.'s certified base lower bound (``bounds.base_lower_bound``, full rotary), cached; inf when no base
    ≤ 1e12 satisfies the condition. Read from BOUND_TABLE where scripts/gen_bound_table.py stored it (head dim 128,
    1K … 1M tokens: the same function's values, re-derived by tests/test_page_aliasing.py), so a page's first visit
    does not spend ~0.3 s (16K) re-searching a value that ships with the package."""
    stored = _stored_men_exact().get((int(head_dim), int(context_length)))
    return stored if stored is not None else float(base_lower_bound(head_dim, context_length))


def men_is_quick(cfg: RopeConfig, context_length: int) -> bool:
    """Whether Men et al.'s certified bound for this head width at ``context_length`` comes without minutes of search:
    up to MEN_EXACT_MAX tokens, or stored in BOUND_TABLE (head dim 128, full rotary, 1K … 1M). The page asks before
    anything slower (the sweep's mark, the advisor's recommendation)."""
    L = int(context_length)
    return L <= MEN_EXACT_MAX or (cfg.rotary_fraction == 1.0 and (int(cfg.head_dim), L) in _stored_men_exact())


def _context(name: str, v) -> int:
    """A context or pre-training length for the sweep and the advisor: an integer in [MIN_SWEEP_CONTEXT, 2^24]."""
    return _int(name, v, MIN_SWEEP_CONTEXT, CONTEXT_MAX)


def _target(cfg: RopeConfig, target_context) -> int:
    """The advisor's target context: ``target_context`` (``_context``), else the config's own context, which must
    then be at least MIN_SWEEP_CONTEXT tokens (the error names context_length: the user never passed a target)."""
    if target_context is not None:
        return _context("target_context", target_context)
    if cfg.context_length < MIN_SWEEP_CONTEXT:
        raise ValueError(f"context_length must be at least {MIN_SWEEP_CONTEXT} tokens for the base advisor (its "
                         f"bounds start at {MIN_SWEEP_CONTEXT} tokens); got {cfg.context_length:,}")
    return cfg.context_length


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
    if L < MIN_CONTEXT:
        raise ValueError(_TOO_SHORT.format(L=L, n=MIN_CONTEXT))
    pos = A.sample_positions(L, min(n + (spacing == "log"), L), _spacing(spacing))
    return pos[pos > 0] if spacing == "log" else pos


# -- similarity map ------------------------------------------------------------------------------------------------
def _map_caption(fig: go.Figure) -> str:
    """Bright cells far from the diagonal alias; and how many positions were sampled when fewer than asked."""
    text = ("Bright cells far from the diagonal are pairs of distant positions whose rotation codes look alike: a "
            "repeating pattern means aliasing (base too small), a wide bright band means blur.")
    m = fig.layout.meta or {}
    if m and m["sampled"] < m["asked"]:
        text += (f" Only {m['sampled']:,} distinct positions ({m['spacing']} spacing) fit in a context of "
                 f"{m['L']:,} tokens: fewer than the {m['asked']:,} asked for.")
    return text


@register("aliasing_map", page="Aliasing", caption=_map_caption)
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
        colorbar=dict(title=dict(text="similarity", side="right")),   # the colour bar is its legend
        showlegend=False, zsmooth="fast",
        # category axes hand the hover the sample's own value (no number format applies)
        hovertemplate="m=%{y}<br>n=%{x}<br>sim=%{z:.3f}<extra></extra>" if log else
                      "m=%{y:,}<br>n=%{x:,}<br>sim=%{z:.3f}<extra></extra>"))
    unit = "tokens; log-spaced samples, one cell each" if log else "tokens"
    styled(fig, title=f"Position similarity map ({len(pos)} sampled positions, {spacing} spacing, "
                      f"{cfg.label()})",
           x_title=f"position n ({unit})", y_title=f"position m ({unit})", style=style, height=620)
    fig.update_layout(meta={"sampled": int(len(pos)), "asked": int(n_positions), "L": cfg.context_length,
                            "spacing": spacing})
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
    would crowd a neighbour (closer than len(pos)/16 cells: ~55 px at the usual width, room for "131,071" without
    plotly.js tilting the labels, which also costs a second drawing pass); the first and the last always stay."""
    n = len(pos)
    lp = np.log(np.maximum(pos, 1))
    targets = [m * 10 ** e for e in range(int(math.log10(max(pos[-1], 1))) + 1) for m in (1, 2, 5)]
    idx = {int(np.argmin(np.abs(lp - math.log(t)))) for t in targets if t <= pos[-1]}
    gap = max(1, n // 16)
    out = [0]
    for i in sorted(idx - {0, n - 1}):
        if i - out[-1] >= gap and (n - 1) - i >= gap:
            out.append(i)
    out.append(n - 1)
    return np.array(out, dtype=np.int64)


# -- the farthest look-alike of each distance ----------------------------------------------------------------------
AMBIGUITY_RATIO = 10   # a distance is "ambiguous" when one at least this many times farther is as similar
N_PEAKS = 5            # aliasing peaks marked (``aliasing.aliasing_peaks``)


def _impostor_caption(fig: go.Figure) -> str:
    """For each distance, the farthest distance that looks at least as similar."""
    m = fig.layout.meta or {}
    if not m:
        return _impostor_caption.__doc__
    peak = m.get("peak")
    text = (f"Left: stars mark aliasing peaks; the largest, Δ = {peak[0]:,}, is {format_number(peak[1], 2)} more "
            f"similar than the nearer Δ = {peak[2]:,}. " if peak else "Left: similarity never rebounds past its main "
            "lobe (no aliasing peak). ")
    text += "Right: for each distance k, the farthest one as similar (on the diagonal: none farther). "
    if m.get("k") is None:
        return text + (f"No distance here is matched by one {AMBIGUITY_RATIO}× farther: every distance of this "
                       "context is told apart from much farther ones.")
    k = m["k"]
    return text + (f"The first distance with a look-alike at least {AMBIGUITY_RATIO}× farther is k = {k:,} "
                   f"token{'' if k == 1 else 's'} (Δ = {m['F']:,}, sim {format_number(m['sim'], 2)})"
                   + ("; nearer ones have none." if k > 1 else ": already the nearest distance."))


def _base_text(bases, digits: int = 3) -> list[str]:
    """Bases for hover labels as every title writes them (``format_base``): plotly's %{y:.3g} shows 10000 as
    "1.00e+4"."""
    return [format_base(b, digits) if np.isfinite(b) else "n/a" for b in np.asarray(bases, dtype=np.float64)]


STAR_GAP = 0.04        # marked peaks at least this fraction of the axis width apart (a star is ~12 px of ~450)


def _apart(distances: np.ndarray, L: int, log_x: bool, n: int) -> np.ndarray:
    """Indices of the first ``n`` of ``distances`` (ranked, largest rebound first) that lie at least ``STAR_GAP`` of
    the distance axis (1 … L, log or linear) from every one kept before: stars that would sit on one another near L
    on a log axis (peaks a few tokens apart) are one mark, the next-ranked separate peak takes the place."""
    pos = np.log10(np.maximum(distances, 1)) / max(np.log10(L), 1e-9) if log_x else distances / max(L, 1)
    keep: list[int] = []
    for i, x in enumerate(pos):
        if all(abs(x - pos[j]) >= STAR_GAP for j in keep):
            keep.append(i)
            if len(keep) == n:
                break
    return np.asarray(keep, dtype=np.int64)


@register("aliasing_impostors", page="Aliasing", caption=_impostor_caption)
def impostor_figure(cfg: RopeConfig, *, style: str = "app", log_x: bool = True) -> go.Figure:
    """Two panels over the distances of the context (``aliasing.farthest_lookalikes``). Left: sim(Δ), the most similar
    distance at least as far, max_{Δ'' ≥ Δ} sim(Δ'') (min/max envelopes), and the N_PEAKS largest aliasing peaks
    (``aliasing.aliasing_peaks``: rebounds past the main lobe). Right: F(k) against k with the diagonal and the
    AMBIGUITY_RATIO line, the first ambiguous k marked. ``fig.layout.meta``: peak ((Δ, rebound, trough) of the
    largest peak, or None), k (first k with F(k) ≥ AMBIGUITY_RATIO·k, or None), F (its F), sim (its similarity)."""
    from .distance import display_envelope

    L = cfg.context_length
    if L < MIN_CONTEXT:
        raise ValueError(_TOO_SHORT.format(L=L, n=MIN_CONTEXT))
    prof, far = A.farthest_lookalikes(cfg)
    dist = np.arange(1, L, dtype=np.float64)                           # (L − 1,)
    layout, ref = grid_layout(1, 2, h_space=0.1)
    left, right = ref(1, 1), ref(1, 2)
    fig = go.Figure(layout=layout)
    curves = ((prof, "sim(Δ) over the context", PALETTE[2], left),
              (np.maximum.accumulate(prof[::-1])[::-1], "most similar distance at least as far", "#555555", left),
              (far.astype(np.float64), "farthest look-alike F(k)", PALETTE[0], right))
    for y, name, color, (xa, ya) in curves:
        x, lo, hi = display_envelope(dist, y, 1000, log_x)
        fig.add_trace(go.Scatter(x=x, y=hi, mode="lines", name=name, xaxis=xa, yaxis=ya,
                                 line=dict(color=color, width=1.5, dash="dash" if color == "#555555" else None),
                                 hovertemplate="Δ=%{x:,.0f}<br>%{y:,.3~f}<extra>" + name + "</extra>"))
        if not np.array_equal(lo, hi):
            fig.add_trace(go.Scatter(x=x, y=lo, mode="lines", line=dict(color=color, width=0.8), fill="tonexty",
                                     name=name + " (min in bin)", showlegend=False, hoverinfo="skip", xaxis=xa,
                                     yaxis=ya))
    for mult, name, dash in ((1, "F(k) = k: nothing farther is as similar", "dot"),
                             (AMBIGUITY_RATIO, f"F(k) = {AMBIGUITY_RATIO}·k", "dashdot")):
        fig.add_trace(go.Scatter(x=[1, L - 1], y=[mult, mult * (L - 1)], mode="lines", name=name, hoverinfo="skip",
                                 line=dict(color="#000", dash=dash, width=1), xaxis=right[0], yaxis=right[1]))
    peaks = A.aliasing_peaks(cfg, 8 * N_PEAKS)                        # true rebounds past the main lobe
    keep = _apart(peaks["distance"], L, log_x, N_PEAKS)
    peaks = {k: (v[keep] if isinstance(v, np.ndarray) else v) for k, v in peaks.items()}
    if peaks["distance"].size:
        fig.add_trace(go.Scatter(
            x=peaks["distance"], y=peaks["similarity"], mode="markers", xaxis=left[0], yaxis=left[1],
            marker=dict(symbol="star", size=12, color=PALETTE[1]), customdata=np.stack(
                [peaks["rebound"], peaks["trough"]], axis=1),
            name=f"aliasing peaks (the {peaks['distance'].size} largest rebounds past the main lobe, apart on the "
                 f"axis)",
            hovertemplate="Δ=%{x:,}: sim %{y:.3f}<br>%{customdata[0]:.3f} above Δ=%{customdata[1]:,}<extra></extra>"))
    amb = np.flatnonzero(far >= AMBIGUITY_RATIO * dist)
    meta: dict = {"k": None, "peak": None if not peaks["distance"].size else
                  [int(peaks["distance"][0]), float(peaks["rebound"][0]), int(peaks["trough"][0])]}
    if amb.size:
        i = int(amb[0])
        meta.update(k=int(dist[i]), F=int(far[i]), sim=float(prof[i]))
        fig.add_trace(go.Scatter(x=[dist[i]], y=[far[i]], mode="markers", xaxis=right[0], yaxis=right[1],
                                 marker=dict(symbol="star", size=14, color=PALETTE[3]),
                                 name=f"first k with a look-alike ≥ {AMBIGUITY_RATIO}× farther: {meta['k']:,}",
                                 hovertemplate="k=%{x:,}<br>F(k)=%{y:,}<extra></extra>"))
    unit = "tokens, log scale" if log_x else "tokens"
    styled(fig, title=f"Farthest look-alike of each distance ({cfg.label()})",
           x_title=f"relative distance Δ ({unit})", y_title="similarity (mean cos, −1 … 1)", style=style)
    fig.update_layout(xaxis2=dict(title_text=f"distance k ({unit})"),
                      yaxis2=dict(title_text=f"farthest look-alike F(k) ({unit})"), hovermode="closest", meta=meta)
    if log_x:
        fig.update_layout(xaxis=log_axis(dist), xaxis2=log_axis(dist), yaxis2=log_axis(far))
    fig.update_layout(yaxis=dict(range=[-1.02, 1.02]))
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


def _sweep_caption(fig: go.Figure) -> str:
    """Small bases alias, large bases blur; the vertical lines mark the bounds drawn and this config's base."""
    m = fig.layout.meta or {}
    text = ("Small bases alias (a far position can be more similar than a nearer one: the excess); large bases blur "
            "(everything far looks alike).")
    if not m:
        return text
    text += " Vertical lines: " + "; ".join(m["drawn"]) + "."
    if m["not_drawn"]:
        text += " Not drawn (no base ≤ " + format_base(BASE_MAX) + " meets it): " + "; ".join(m["not_drawn"]) + "."
    if m["men_pending"]:
        text += f" Men et al.'s bound for L = {m['L']:,} is computed on request (minutes at this length)."
    if m["L"] != m["config_L"]:
        text += f" The sweep runs at L = {m['L']:,}, not the config's {m['config_L']:,} tokens."
    return text


@register("aliasing_base_sweep", page="Aliasing", caption=_sweep_caption)
def base_sweep_figure(cfg: RopeConfig, *, style: str = "app", context_length: int | None = None,
                      train_length: int | None = None, min_separation: int | None = None,
                      on_demand: bool = False) -> go.Figure:
    """Aliasing vs base at a context L (default: the config's): worst similarity max_{Δ ≥ s} sim(Δ) and the
    excess (``aliasing_vs_base``), with Men et al.'s lower bound (``bounds.base_lower_bound``), Liu et al.'s base
    for T_extra ≥ L (``bounds.liu_min_base``: pre-trained at ``train_length``, default the config's original context,
    with the config's base) and the config's own base marked; a bound that no base ≤ 1e12 meets is named in the
    legend, not drawn. Men et al.'s bound is computed for L ≤ MEN_EXACT_MAX, beyond only with ``on_demand`` (it
    takes minutes there)."""
    L = cfg.context_length if context_length is None else _context("context_length", context_length)
    T = cfg.original_context_length if train_length is None else _context("train_length", train_length)
    s = A.default_min_separation(L) if min_separation is None else _int("min_separation", min_separation, 1, L - 1)
    data = base_sweep(cfg.head_dim, L, cfg.rotary_fraction, s)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=data["bases"], y=data["similarity"], mode="lines+markers", name=
                             f"worst similarity at Δ ≥ {s:,}", line=dict(color=PALETTE[0]),
                             customdata=_base_text(data["bases"]),
                             hovertemplate="base=%{customdata}<br>max sim=%{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=data["bases"], y=data["excess"], mode="lines+markers",
                             name="aliasing excess (far more similar than near)", line=dict(color=PALETTE[1]),
                             customdata=_base_text(data["bases"]),
                             hovertemplate="base=%{customdata}<br>excess=%{y:.3f}<extra></extra>"))
    marks = []
    men = men_bound(cfg.head_dim, L) if men_is_quick(cfg, L) or on_demand else None
    if men is not None:
        marks.append((men, f"Men et al. lower bound for L = {L:,}", PALETTE[2], "dash"))
    liu = liu_min_base(cfg.rotary_dim, L, T, pretrain_base=cfg.base)[0] if T < L else None
    if liu is not None:
        marks.append((liu, f"Liu et al.: T_extra ≥ {L:,} (trained at {T:,})", PALETTE[3], "dashdot"))
    marks.append((cfg.base, "this config's base" + (" (its scaling is not applied: the curves are plain RoPE)"
                                                    if cfg.scaling is not None else ""), "#000000", "dot"))
    meta = {"L": L, "config_L": cfg.context_length, "men_pending": men is None, "drawn": [],
            "not_drawn": []}
    for x, label, color, dash in marks:
        meta["drawn" if math.isfinite(x) and x <= BASE_MAX else "not_drawn"].append(label)
        if math.isfinite(x) and x <= BASE_MAX:
            value = (format_base(x, 6) if label.startswith("this config's base") else
                     format_min_base(x))        # a lower bound, rounded up: the value shown satisfies it
            fig.add_trace(go.Scatter(x=[x, x], y=[0, 1], mode="lines", name=f"{label}: {value}",
                                     line=dict(color=color, dash=dash, width=2),
                                     hovertemplate=f"{label}<br>base={value}<extra></extra>"))
        else:   # no finite base: say so in the legend instead of drawing a line at infinity
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines",
                                     name=f"{label}: no base ≤ {format_base(BASE_MAX)}",
                                     line=dict(color=color, dash=dash, width=2)))
    styled(fig, title=f"Aliasing vs base at context L = {L:,} (d = {cfg.head_dim})",
           x_title="base b (rope_theta, log scale)", y_title="similarity, excess (mean cos, 0 … 1)", style=style,
           log_x=True)
    fig.update_yaxes(range=[0, 1.02])
    fig.update_layout(hovermode="closest", meta=meta)
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


def lookalike_sentence(ex: dict, label: str) -> str:
    """The Two positions sentence (markdown, numbers only) for ``aliasing.lookalike_example``'s result ``ex`` under
    the config labelled ``label``: how far apart the positions are, how near a distance looks as similar, how many
    nearer distances are less similar — and for the same position or neighbours, what there is to say instead."""
    m, n, D = ex["position"], ex["other"], ex["distance"]
    if D == 0:
        return (f"With {label}, m and n are the same position ({m:,}): every pair agrees, similarity 1. Move one of "
                "them to compare two positions.")
    if D == 1:
        return (f"With {label} (the frequencies in effect, scaling included), positions **{m:,}** and **{n:,}** are "
                "neighbours (1 token apart): no distance is nearer.")
    return (f"With {label} (the frequencies in effect, scaling included), position **{n:,}** is "
            f"{format_count(D, 'token')} from **{m:,}**, yet it looks as similar as a position only "
            f"**{format_count(ex['apparent_distance'], 'token')}** away; **{ex['stronger_nearer']:,}** of the "
            f"{D - 1:,} nearer distances are *less* similar than it."
            + (" That is aliasing." if ex["stronger_nearer"] > D // 2 else ""))


@register("aliasing_pair", page="Aliasing",
          caption=f"Each bar is one pair's cos of the angle between the two positions (orange: above {ALIGNED_COS}, "
                  "the pair barely tells them apart); where most bars are near +1 the positions look alike.")
def pair_figure(cfg: RopeConfig, *, style: str = "app", position: int = EXAMPLE_POSITIONS[0],
                other: int = EXAMPLE_POSITIONS[1]) -> go.Figure:
    """Per pair i: cos((other − position)·θ_i) (bars; θ = ``effective_inv_freq(cfg)``, the frequencies in effect over
    the context), coloured by whether it exceeds ALIGNED_COS, and their mean, the similarity of the two positions."""
    a = _int("position", position, 0, CONTEXT_MAX)
    b = _int("other", other, 0, CONTEXT_MAX)
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
                             f"{format_number(sim, 3)}", line=dict(color="#000", dash="dash")))
    past = " (past the context)" if max(a, b) >= cfg.context_length else ""      # the label states L
    styled(fig, title=f"Positions {a:,} and {b:,}{past}: per-pair agreement ({cfg.label()})",
           x_title=f"pair index i (0 = fastest, θ_0 = {format_number(float(theta[0]), 4)} rad/token)",
           y_title="cos of the angle difference (−1 … 1)",
           style=style)
    fig.update_yaxes(range=[-1.05, 1.05])
    fig.update_layout(hovermode="closest", bargap=0.1, barmode="overlay")
    return fig


# -- Men et al.'s printed table beside the exact computation ----------------------------------------------------------
@lru_cache(maxsize=1)
def men_table_data() -> dict:
    """``bounds.men_table``'s columns, fast: the printed values (``MEN_TABLE_PRINTED``), the certified b*
    (``base_lower_bound``, minutes per length from 128K on: read from BOUND_TABLE, where scripts/gen_bound_table.py
    stored them; tests recompute them), the grid bound (``bound_curve(128, 128)``, the same 100-per-decade values) and
    the smallest B_m below L at each printed base (``min_similarity``, computed here). Keys as ``men_table``."""
    ctx = np.array(MEN_TABLE_CONTEXTS, dtype=np.int64)
    printed = np.array(MEN_TABLE_PRINTED)
    stored = _stored_men_exact()
    exact = np.array([stored.get((128, int(L)), math.nan) for L in ctx], dtype=np.float64)
    curve_ctx, curve = bound_curve(128, 128)
    grid = curve[np.searchsorted(curve_ctx, ctx)]
    mins = np.array([min_similarity(128, b, int(L))[0] for b, L in zip(printed, ctx)])
    return {"context": ctx, "printed": printed, "exact": exact, "grid": grid, "printed_min_b": mins,
            "printed_holds": mins >= 0}


def _men_table_caption(fig: go.Figure) -> str:
    """Men et al.'s printed minimum bases beside the exact computation, and why they differ."""
    m = fig.layout.meta or {}
    if not m:
        return _men_table_caption.__doc__
    text = (f"Up to {m['near'][0]:,} tokens the printed bases are {m['near'][1]:.2g}× to {m['near'][2]:.2g}× the "
            f"exact b*; from {m['far'][0]:,} on {m['far'][1]:.2g}× to {m['far'][2]:.2g}×, near the first base of a "
            f"sampling grid that meets the condition ({m['grid'][0]:.2g}× to {m['grid'][1]:.2g}× it). ")
    if m["fail"]:
        text += f"At L = {', '.join(f'{L:,}' for L in m['fail'])} the printed base itself breaks B ≥ 0. "
    return text + ("Why: the bases meeting B ≥ 0 do not form an interval (windows ~10⁻⁴ wide, rarer as L grows), so "
                   "a search over sampled bases lands above b*, and rounding can leave a window.")


@register("aliasing_men_table", page="Aliasing", caption=_men_table_caption)
def men_table_figure(cfg: RopeConfig, *, style: str = "app") -> go.Figure:
    """Men et al.'s printed table of minimum bases (d = 128, 1K … 1M tokens; arXiv:2405.14591) against the certified
    infimum b* and the smallest 100-per-decade grid base meeting B ≥ 0 (``men_table_data``); printed bases that
    break the condition at their own length are drawn open. Independent of ``cfg`` (the paper's table is for
    d = 128). ``fig.layout.meta``: near / far ((last or first L, min and max printed/b*) below / from MEN_FAR), grid
    (min and max printed/grid from MEN_FAR), fail (the L whose printed base breaks B ≥ 0)."""
    t = men_table_data()
    L, printed, exact, grid = t["context"], t["printed"], t["exact"], t["grid"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=L, y=grid, mode="lines", name="first base on a 100-per-decade grid meeting B ≥ 0",
                             line=dict(color=PALETTE[0], width=1.5, dash="dot"),
                             customdata=_base_text(grid),
                             hovertemplate="L=%{x:,}<br>grid base %{customdata}<extra></extra>"))
    fig.add_trace(go.Scatter(x=L, y=exact, mode="lines+markers", name="exact b* (certified smallest base)",
                             marker=dict(symbol="circle", size=8), line=dict(color=PALETTE[2], width=2),
                             customdata=_base_text(exact, 5),
                             hovertemplate="L=%{x:,}<br>b* = %{customdata}<extra></extra>"))
    holds = t["printed_holds"]
    for sel, name, symbol in ((holds, "printed in the paper: meets B ≥ 0 at its L", "x"),
                              (~holds, "printed in the paper: breaks B ≥ 0 at its L", "x-open")):
        if sel.any():
            fig.add_trace(go.Scatter(x=L[sel], y=printed[sel], mode="markers", name=name,
                                     marker=dict(symbol=symbol, size=11, color=PALETTE[1], line=dict(width=2)),
                                     customdata=np.stack([_base_text(printed[sel], 2),
                                                          [format_number(v) for v in t["printed_min_b"][sel]]], 1),
                                     hovertemplate="L=%{x:,}<br>printed %{customdata[0]}<br>min B = %{customdata[1]}"
                                                   "<extra></extra>"))
    ratio = printed / exact
    far = L >= MEN_FAR
    styled(fig, title="Men et al.'s table of minimum bases (d = 128): printed vs computed",
           x_title="context length L (tokens, log scale)", y_title="minimum base (rope_theta, log scale)",
           style=style, log_x=True, log_y=True)
    fig.update_layout(hovermode="closest", meta=dict(
        near=[int(L[~far][-1]), float(ratio[~far].min()), float(ratio[~far].max())],
        far=[int(L[far][0]), float(ratio[far].min()), float(ratio[far].max())],
        grid=[float((printed[far] / grid[far]).min()), float((printed[far] / grid[far]).max())],
        fail=[int(x) for x in L[~holds]]))
    return legend_below(fig)


# -- base advisor -------------------------------------------------------------------------------------------------
BOUND_TABLE = Path(__file__).with_name("men_bound_table.json")   # scripts/gen_bound_table.py writes it


@lru_cache(maxsize=1)
def _stored_men_exact() -> dict:
    """{(head_dim, L): certified b*} from BOUND_TABLE's "men_exact_d128" (empty if the file is absent)."""
    if not BOUND_TABLE.exists():
        return {}
    stored = json.loads(BOUND_TABLE.read_text()).get("men_exact_d128", {})
    return {(128, int(L)): float(b) for L, b in stored.items()}


@lru_cache(maxsize=1)
def _bound_table() -> dict:
    """{(d, r): (contexts, bases)} from BOUND_TABLE (empty if the file is absent)."""
    if not BOUND_TABLE.exists():
        return {}
    t = json.loads(BOUND_TABLE.read_text())
    ctx = np.array(t["contexts"], dtype=np.int64)
    return {(c["head_dim"], c["rotary_dim"]): (ctx, np.array([np.nan if b is None else b for b in c["base"]]))
            for c in t["curves"]}


@lru_cache(maxsize=32)
def bound_curve(head_dim: int, rotary_dim: int, max_context: int = BOUND_CONTEXTS[-1]) -> tuple:
    """Men et al.'s minimum base vs context for a head of width d rotating r channels (``bounds.base_bound_curve``:
    the smallest base on a 100-per-decade grid with B_m ≥ 0 on the whole context; NaN where no base ≤ 1e12 does),
    over BOUND_CONTEXTS ≤ max(``max_context``, 1K): (contexts (n,) int64, bases (n,) float64). The presets' widths
    come precomputed from BOUND_TABLE (the sweep costs about a minute per width up to 2M tokens); tests recompute
    the table's entries. Other widths are computed here, only up to ``max_context``."""
    table = _bound_table().get((head_dim, rotary_dim))
    if table is not None:
        return table
    ctx = tuple(c for c in BOUND_CONTEXTS if c <= max(max_context, BOUND_CONTEXTS[0]))
    c = base_bound_curve(head_dim, ctx, rotary_dim=rotary_dim)
    return c["context"], c["base"]


def preset_points() -> list[dict]:
    """Every preset, classified by Men et al.'s condition over its own context with its own frequencies
    (``bounds.men_condition``: scaling included, partial rotary's unrotated pairs counted): name, head_dim,
    rotary_dim, context (its full context), base, scaled (has a context-extension scaling), holds,
    first_negative (first m with B_m < 0, or None)."""
    from ..presets import PRESETS
    out = []
    for name, p in PRESETS.items():
        c = p.config
        r = men_condition(c)
        out.append(dict(name=name, head_dim=c.head_dim, rotary_dim=c.rotary_dim, context=c.context_length,
                        base=c.base, scaled=c.scaling is not None, holds=r["holds"],
                        first_negative=r["first_negative"]))
    return out


@lru_cache(maxsize=1)
def _preset_points_cached() -> tuple:
    return tuple(preset_points())


def _width_label(d: int, r: int) -> str:
    return f"d = {d}" if d == r else f"d = {d}, r = {r} rotated"


LABEL_W, LABEL_H = 0.0095, 0.045   # a label's size as a fraction of the plot: per character, per line
_MARKER = 0.012                    # a marker's half-size, same units
# candidate label positions: plotly textposition → direction of the box's centre from the marker
LABEL_POSITIONS = {"top center": (0, 1), "bottom center": (0, -1), "middle right": (1, 0), "middle left": (-1, 0),
                   "top right": (1, 1), "top left": (-1, 1), "bottom right": (1, -1), "bottom left": (-1, -1)}


def label_box(x: float, y: float, text: str, position: str) -> tuple[float, float, float, float]:
    """The estimated box (x0, x1, y0, y1) of a marker label at (x, y) (plot fractions) in ``position``."""
    lines = text.split("<br>")
    w, h = LABEL_W * max(len(t) for t in lines), LABEL_H * len(lines)
    ox, oy = LABEL_POSITIONS[position]
    cx, cy = x + ox * (w / 2 + _MARKER), y + oy * (h / 2 + _MARKER)
    return (cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2)


def place_labels(xy: np.ndarray, texts: list[str]) -> list[str]:
    """A text position (LABEL_POSITIONS) for each marker (xy: (n, 2) in plot fractions 0 … 1), chosen greedily,
    most crowded markers first, so that no label box (``label_box``) overlaps a placed label, another marker or the
    plot's edge where that can be avoided."""
    n = len(texts)
    out = [""] * n
    boxes: list[tuple] = []
    marks = [(x - _MARKER, x + _MARKER, y - _MARKER, y + _MARKER) for x, y in xy]
    crowd = [sum(abs(xy[i, 0] - xy[j, 0]) + abs(xy[i, 1] - xy[j, 1]) < 0.15 for j in range(n)) for i in range(n)]
    for i in sorted(range(n), key=lambda i: (-crowd[i], xy[i, 0])):
        best, best_cost = "top center", math.inf
        for pos in LABEL_POSITIONS:
            box = label_box(xy[i, 0], xy[i, 1], texts[i], pos)
            cost = sum(_overlap(box, b) for b in boxes) + sum(_overlap(box, m) for j, m in enumerate(marks) if j != i)
            cost += _overlap(box, (-1e9, 1e9, -1e9, 1e9)) - _overlap(box, (0, 1, 0, 1))   # outside the plot
            cost += 1e-6 * (pos != "top center")                                           # prefer above
            if cost < best_cost:
                best, best_cost = pos, cost
        boxes.append(label_box(xy[i, 0], xy[i, 1], texts[i], best))
        out[i] = best
    return out


def _overlap(a: tuple, b: tuple) -> float:
    """Overlap area of two boxes (x0, x1, y0, y1)."""
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[2], b[2]))


def _advisor_caption(fig: go.Figure) -> str:
    """Presets are classified by Men et al.'s condition over their own context, not by the curve."""
    m = fig.layout.meta or {}
    text = ("Each curve is the smallest base (on a fine grid) keeping Men et al.'s B ≥ 0 over the whole context, one "
            "per head width; each model is drawn in its width's colour, filled if its own frequencies keep B ≥ 0 "
            "over its own context.")
    above = m.get("above_but_fail") or []
    if above:
        text += (" Being above the curve is not enough (the feasible bases do not form an interval): "
                 f"{', '.join(above)} sit above their curve and still fail.")
    return text


@register("aliasing_advisor", page="Aliasing", caption=_advisor_caption)
def advisor_figure(cfg: RopeConfig, *, style: str = "app", target_context: int | None = None,
                   train_length: int | None = None, on_demand: bool = False) -> go.Figure:
    """Context vs base (log–log): Men et al.'s minimum-base curve (``bound_curve``, 1K … 2M tokens) for every head
    width among the presets and the config, each preset at (its context, its base) in its width's colour, filled if
    ``bounds.men_condition`` holds for it (open if not, hover: the first failing m), this config as an open diamond
    (so markers under it stay visible), and ``base_advisor``'s recommendation for ``target_context`` (default: the
    config's context; beyond MEN_EXACT_MAX only with ``on_demand``: Men et al.'s certified bound then takes
    minutes). Labels are placed so they do not collide (``place_labels``). ``fig.layout.meta``: above_but_fail
    (presets above their width's curve that fail), no_base (widths whose curve ends: no base ≤ 1e12)."""
    L = _target(cfg, target_context)
    adv = advice(cfg, L, train_length) if men_is_quick(cfg, L) or on_demand else {"recommended": None}
    pts = list(_preset_points_cached())
    own = men_condition(cfg)
    preset_widths = sorted({(p["head_dim"], p["rotary_dim"]) for p in pts})
    order = (0, 1, 3, 2, 4, 5, 7)     # blue, vermillion, pink, green, orange…: neighbouring widths far apart in hue
    # the presets' widths keep their colours whatever the sidebar says; a width of its own comes after them
    colour = {w: PALETTE[order[i % len(order)]] for i, w in enumerate(preset_widths)}
    colour.setdefault((cfg.head_dim, cfg.rotary_dim), PALETTE[order[len(preset_widths) % len(order)]])
    widths = sorted(colour)
    fig = go.Figure()
    meta: dict = {"above_but_fail": [], "no_base": []}
    curves = {}
    for w in widths:
        ctx, lb = bound_curve(*w, max_context=max(L, cfg.context_length))
        curves[w] = (ctx, lb)
        if np.all(np.isnan(lb)):
            meta["no_base"].append(_width_label(*w))
        ok = ~np.isnan(lb)
        if ok.any() and not ok.all():
            meta["no_base"].append(f"{_width_label(*w)} beyond {int(ctx[ok][-1]):,} tokens")
        name = f"Men et al. minimum base, {_width_label(*w)}" + (
            "" if ok.all() else " (ends: no base ≤ 1e12)" if ok.any() else ": no base ≤ 1e12 at any length shown")
        if ok.all() and np.all(lb == 1.0):      # r ≤ d/2: the unrotated pairs keep B ≥ 0 at every base
            name, ok = f"Men et al. minimum base, {_width_label(*w)}: every base (r ≤ d/2)", np.zeros_like(ok)
        fig.add_trace(go.Scatter(x=ctx[ok] if ok.any() else [None], y=lb[ok] if ok.any() else [None], mode="lines",
                                 name=name, legendgroup=str(w),
                                 line=dict(color=colour[w], width=2 if w == (cfg.head_dim, cfg.rotary_dim) else 1.2),
                                 customdata=_base_text(lb[ok]) if ok.any() else None,
                                 hovertemplate="L=%{x:,}<br>base ≥ %{customdata}<extra>" + _width_label(*w)
                                               + "</extra>"))
    # this config underneath the presets, open: it must not hide them
    fig.add_trace(go.Scatter(
        x=[cfg.context_length], y=[cfg.base], mode="markers", name="this config: " + (
            "B ≥ 0 over its context" if own["holds"] else f"B < 0 at m = {own['first_negative']:,}"),
        marker=dict(symbol="diamond-open", size=18, color="#000", line=dict(width=2)),
        hovertemplate=f"this config<br>L=%{{x:,}}, base={format_base(cfg.base)}<extra></extra>"))
    for p in pts:
        ctx, lb = curves[(p["head_dim"], p["rotary_dim"])]
        k = np.searchsorted(ctx, p["context"])
        if not p["holds"] and k < len(ctx) and np.isfinite(lb[k]) and p["base"] >= lb[k]:
            meta["above_but_fail"].append(p["name"])
    groups: dict = {}                       # models at the same point and width share one marker
    for p in pts:
        groups.setdefault((p["context"], p["base"], p["holds"], p["head_dim"], p["rotary_dim"]), []).append(p)
    merged = [dict(g[0], name="<br>".join(q["name"] for q in g), size=10) for g in groups.values()]
    spots: dict = {}                        # …and models at the same point share one label; rings grow outwards
    for p in merged:
        spots.setdefault((p["context"], p["base"]), []).append(p)
    for same in spots.values():
        for j, p in enumerate(same):
            p["size"], p["label"] = 10 + 6 * j, "<br>".join(q["name"] for q in same) if j == 0 else ""
    labelled = [p for p in merged if p["label"]]
    where_l = place_labels(_plot_fractions(fig, labelled, cfg, adv), [p["label"] for p in labelled])
    where = [where_l[labelled.index(p)] if p["label"] else "top center" for p in merged]
    for p, w in zip(merged, where):          # a label at this config's point clears the (larger) diamond
        if p["label"] and (p["context"], p["base"]) == (cfg.context_length, cfg.base):
            p["label"] = _clear_of_marker(p["label"], w)
    for holds, label in ((True, "model: B ≥ 0 over its own context (filled)"),
                         (False, "model: B < 0 somewhere in its context (open)")):
        idx = [i for i, p in enumerate(merged) if p["holds"] == holds]
        if not idx:
            continue
        sel = [merged[i] for i in idx]
        cols = [colour[(p["head_dim"], p["rotary_dim"])] for p in sel]
        symbol = "circle" if holds else "circle-open"     # legend key in grey: the colour is the head width's
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=label, legendgroup=label,
                                 marker=dict(symbol=symbol, size=10, color="#666", line=dict(width=2, color="#666"))))
        fig.add_trace(go.Scatter(
            x=[p["context"] for p in sel], y=[p["base"] for p in sel], mode="markers+text", name=label,
            legendgroup=label, showlegend=False,
            text=[p["label"] for p in sel], textposition=[where[i] for i in idx], textfont=dict(size=10),
            marker=dict(symbol=symbol, size=[p["size"] for p in sel], color=cols,
                        line=dict(width=2, color=cols)),
            customdata=[[_width_label(p["head_dim"], p["rotary_dim"]),
                         "holds" if holds else f"B < 0 at m = {p['first_negative']:,}",
                         "scaled: its effective frequencies" if p["scaled"] else "plain RoPE",
                         format_base(p["base"])] for p in sel],
            hovertext=[p["name"] for p in sel],
            hovertemplate="%{hovertext}<br>L=%{x:,}, base=%{customdata[3]}<br>%{customdata[0]}; %{customdata[2]}"
                          "<br>%{customdata[1]}<extra></extra>"))
    if adv["recommended"] is not None:
        fig.add_trace(go.Scatter(x=[L], y=[adv["recommended"]], mode="markers",
                                 name=f"recommended for L = {L:,}: {format_base(adv['recommended'])}",
                                 marker=dict(symbol="star", size=18, color=PALETTE[4], line=dict(width=1)),
                                 hovertemplate=f"recommended<br>L=%{{x:,}}, base={format_base(adv['recommended'])}"
                                               "<extra></extra>"))
    styled(fig, title="Base advisor: context length vs base (models and Men et al.'s minimum base per head width)",
           x_title="context length L (tokens, log scale)", y_title="base b (rope_theta, log scale)", style=style,
           log_x=True, log_y=True, height=620)
    fig.update_xaxes(range=list(_advisor_x_range(cfg)))
    fig.update_yaxes(range=list(_advisor_y_range(fig)))
    fig.update_layout(hovermode="closest", meta=meta)
    return legend_below(fig)


def _clear_of_marker(label: str, textposition: str) -> str:
    """``label`` padded on the side facing its marker (a blank line above / below, spaces left / right), so that a
    bigger marker drawn at the same point (this config's diamond) does not cover its first letters."""
    vertical, horizontal = textposition.split()
    if vertical == "bottom":
        return "<br>" + label
    if vertical == "top":
        return label + "<br>"
    return ("   " + label) if horizontal == "right" else (label + "   ")


_ADVISOR_RANGE = {"x": (math.log10(BOUND_CONTEXTS[0]) - 0.15, math.log10(BOUND_CONTEXTS[-1]) + 0.2)}


def _advisor_x_range(cfg: RopeConfig) -> tuple[float, float]:
    """The advisor's log-x range: the curves' contexts, widened to this config's context (a 16-token context sat
    left of the plot: its marker was in the legend only)."""
    x0, x1 = _ADVISOR_RANGE["x"]
    return min(x0, math.log10(cfg.context_length) - 0.15), max(x1, math.log10(cfg.context_length) + 0.2)


def _advisor_y_range(fig: go.Figure) -> tuple[float, float]:
    ys = np.concatenate([np.asarray(t.y, dtype=np.float64) for t in fig.data if t.y is not None])
    ys = ys[np.isfinite(ys) & (ys > 0)]
    return (math.log10(ys.min()) - 0.3, math.log10(ys.max()) + 0.4) if ys.size else (0.0, 12.0)


def _plot_fractions(fig: go.Figure, pts: list[dict], cfg: RopeConfig, adv: dict) -> np.ndarray:
    """The presets' positions as fractions of the plot area (for label placement), in the axis ranges the figure
    will get (log x over ``_advisor_x_range``, log y over every plotted value)."""
    extra = [cfg.base] + [p["base"] for p in pts] + ([adv["recommended"]] if adv.get("recommended") else [])
    ys = np.concatenate([np.asarray(t.y, dtype=np.float64) for t in fig.data if t.y is not None] + [extra])
    ys = ys[np.isfinite(ys) & (ys > 0)]
    y0, y1 = math.log10(ys.min()) - 0.3, math.log10(ys.max()) + 0.4
    x0, x1 = _advisor_x_range(cfg)
    return np.array([[(math.log10(p["context"]) - x0) / (x1 - x0), (math.log10(p["base"]) - y0) / (y1 - y0)]
                     for p in pts]).reshape(-1, 2)


@lru_cache(maxsize=32)
def _advice_cached(head_dim: int, target: int, train_length: int | None, base: float, rotary_fraction: float):
    men = men_bound(head_dim, target) if rotary_fraction == 1.0 else None     # stored / shared with the sweep
    return A.base_advisor(head_dim, target, train_length=train_length, pretrain_base=base,
                          rotary_fraction=rotary_fraction, men_lower_bound=men)


def advice(cfg: RopeConfig, target_context: int | None = None, train_length: int | None = None) -> dict:
    """``aliasing.base_advisor`` for the config's head dim and rotary fraction (for the page's text); cached."""
    L = _target(cfg, target_context)
    T = None if train_length is None else _int("train_length", train_length, 1, CONTEXT_MAX)
    adv = _advice_cached(cfg.head_dim, L, T, cfg.base, cfg.rotary_fraction)
    return {**adv, "notes": list(adv["notes"])}
