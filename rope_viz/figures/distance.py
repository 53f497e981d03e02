"""Distance figures: how the RoPE score depends on the relative distance Δ between query and key.

Curves (all from ``rope_viz.analysis.distance``, computed at full resolution Δ = 0 … max_distance, then reduced for
display to min/max bands with ``envelope`` so the figure stays small even at Δ up to 2M):

* RoFormer's relative upper bound (1/(d/2))·Σ_j |S_j| (Su et al., arXiv:2104.09864, §3.4.3);
* B_m = Σ_i cos(m θ_i) (Men et al., arXiv:2405.14591, Theorem 1) and its first negative distance;
* the score for q = k = all-ones (the constant vector RoFormer's decay picture assumes);
* the exact mean ± 1 std band of the score for random Gaussian q, k — which does **not** decay (Barbero et al.,
  arXiv:2410.06205, §3: E[qᵀR_Δk] = 0 for independent zero-mean q, k; the std √(r·af⁴ + d − r), the same at every Δ,
  from ``random_score_moments``).

Every curve uses the frequencies and attention factor in effect over the configuration's own context
(``seq_len`` = its context length, as transformers computes them: LongRoPE's long factors past its original context).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .. import compare as C
from ..analysis import distance as D
from ..config import RopeConfig
from ..frequencies import effective_attention_factor
from . import register
from ._style import PALETTE, format_number, rgba, styled

QUANTITIES = ("bound", "similarity", "ones", "random")
QUANTITY_LABELS = {
    "bound": "RoFormer bound (1/(d/2))·Σ|S_j|",
    "similarity": "B_m = Σ cos(Δθ_i) (Men et al.)",
    "ones": "score, q = k = all-ones",
    "random": "score, random Gaussian q, k: mean ± 1 std (exact)",
}
QUANTITY_SHORT = {"bound": "RoFormer bound", "similarity": "B_m", "ones": "all-ones score", "random": "random q, k"}
DASHES = ("solid", "dash", "dot", "dashdot")
N_BINS_DEFAULT = 1200
BOUND_EXACT_MAX = 1 << 16  # RoFormer's bound is exact at every Δ up to here, sampled beyond


def _check_quantities(quantities) -> tuple[str, ...]:
    q = tuple(quantities)
    if not q:
        raise ValueError(f"choose at least one curve among {', '.join(QUANTITIES)}")
    bad = [x for x in q if x not in QUANTITIES]
    if bad:
        raise ValueError(f"unknown curve(s) {', '.join(map(repr, bad))}; allowed: {', '.join(QUANTITIES)}")
    return q


def _max_distance(cfg: RopeConfig, max_distance) -> int:
    if max_distance is None:
        return int(cfg.context_length)
    if isinstance(max_distance, bool) or not float(max_distance).is_integer():
        raise ValueError(f"max_distance must be an integer number of tokens, got {max_distance!r}")
    m = int(max_distance)
    if not 1 <= m <= (1 << 24):
        raise ValueError(f"max_distance must be in [1, 16,777,216] tokens, got {m:,}")
    return m


def display_envelope(x: np.ndarray, y: np.ndarray, n_bins: int, log_x: bool):
    """Reduce a full-resolution curve (x sorted ascending) to ≤ n_bins (x, y_min, y_max) for display.

    Linear axis: the first sample exactly, then ``analysis.distance.envelope`` (bins of equal sample count). Log
    axis: bins of equal width in log x (Δ = 0 dropped: a log axis cannot show it), so the near distances keep every
    sample and the far ones are reduced; each bin's min and max are exact. Returns the data unchanged when already
    small."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if log_x:
        keep = x > 0
        x, y = x[keep], y[keep]
    if len(x) <= n_bins:
        return x, y, y
    if not log_x:  # the first sample (Δ = 0) is kept exactly, the rest reduced to n_bins − 1 bins
        xd, lo, hi = D.envelope(x[1:], y[1:], n_bins - 1)
        return (np.concatenate([x[:1], xd]), np.concatenate([y[:1], lo]), np.concatenate([y[:1], hi]))
    # log bins: edges (sample indices) where x crosses geometrically spaced values
    cuts = np.geomspace(x[0], x[-1], n_bins + 1)[1:-1]
    starts = np.unique(np.concatenate([[0], np.searchsorted(x, cuts)]))     # (≤ n_bins,) strictly increasing
    ends = np.concatenate([starts[1:], [len(x)]]) - 1
    return (np.sqrt(x[starts] * x[ends]), np.minimum.reduceat(y, starts), np.maximum.reduceat(y, starts))


def _ones_norm(cfg: RopeConfig) -> float:
    """The q = k = all-ones score at Δ = 0 (= E‖q‖² for unit-variance q): the scale of the random band."""
    ones = np.ones(cfg.head_dim)
    return float(np.asarray(D.score_vs_distance(ones, ones, cfg, np.array([0.0]),
                                                seq_len=cfg.context_length)).reshape(-1)[0])


def random_std(cfg: RopeConfig) -> float:
    """The exact std of the score for random q, k ~ N(0, I_d), the same at every Δ (``random_score_moments``, with
    the attention factor in effect over the context); the mean is exactly 0."""
    return float(D.random_score_moments(cfg, [0.0], seq_len=cfg.context_length)["std"][0])


def bound_distances(max_distance: int, seed: int = 0) -> tuple[np.ndarray, bool]:
    """The distances at which RoFormer's bound is evaluated: every integer Δ ≤ max_distance when
    max_distance ≤ BOUND_EXACT_MAX; otherwise every Δ ≤ BOUND_EXACT_MAX and, beyond, one random integer in each of
    BOUND_EXACT_MAX equal strides (jittered so the sampling does not alias the fast pairs), and max_distance itself
    (the last value is the bound at Δ = max_distance, as the caption states). The bound has no fast path
    (|S_j| is not linear in the phasors; O(n·p), ~1 s per million distances), so this keeps a page at 2M tokens
    interactive. Returns (distances, exact)."""
    if max_distance <= BOUND_EXACT_MAX:
        return np.arange(0, max_distance + 1, dtype=np.float64), True
    head = np.arange(0, BOUND_EXACT_MAX + 1, dtype=np.float64)
    edges = np.linspace(BOUND_EXACT_MAX + 1, max_distance + 1, BOUND_EXACT_MAX + 1)   # (BOUND_EXACT_MAX + 1,)
    rng = np.random.default_rng(seed)
    lo, hi = np.ceil(edges[:-1]), np.ceil(edges[1:])                                  # [lo, hi) integer strides
    tail = np.minimum(lo + np.floor(rng.random(lo.size) * (hi - lo)), max_distance)
    tail = np.unique(np.append(tail, float(max_distance)))        # the end itself: the caption's value at Δ = max
    return np.concatenate([head, tail]), False


@lru_cache(maxsize=64)
def _series_cached(cfg: RopeConfig, quantity: str, max_distance: int, log_x: bool, n_bins: int, normalize: bool,
                   seed: int) -> dict:
    L = cfg.context_length                                         # the frequencies in effect over the context
    if quantity == "random":
        xs = np.array([1.0 if log_x else 0.0, float(max_distance)])   # exact and flat: the two ends draw it
        scale = _ones_norm(cfg) if normalize else 1.0
        std = np.full(2, random_std(cfg) / scale)
        return dict(x=xs, mean=np.zeros(2), std=std, lo=-std, hi=std, y0=None, analytic_std=float(std[0]),
                    exact=True, first_negative=None)
    exact = True
    if quantity == "bound":
        dist, exact = bound_distances(max_distance, seed)
        head = min(dist.size, BOUND_EXACT_MAX + 1)                 # every integer 0 … BOUND_EXACT_MAX: a lattice
        y = np.concatenate([D.decay_bound(cfg, dist[:head], seq_len=L), D.decay_bound(cfg, dist[head:], seq_len=L)])
    else:
        dist = np.arange(0, max_distance + 1, dtype=np.float64)  # full resolution, (n,)
        if quantity == "similarity":
            y = D.similarity_sum(cfg, dist, seq_len=L)
        else:
            ones = np.ones(cfg.head_dim)
            y = D.score_vs_distance(ones, ones, cfg, dist, seq_len=L)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    y0, y_end = float(y[0]), float(y[-1])
    neg = np.flatnonzero(y < 0)
    first = int(dist[neg[0]]) if neg.size else None
    if quantity == "similarity":     # the library's answer (re-checks values within rounding of 0)
        first = D.first_negative_distance(cfg, max_distance, seq_len=L)
    if normalize:
        y = y / y0
    x, lo, hi = display_envelope(dist, y, n_bins, log_x)
    return dict(x=x, lo=lo, hi=hi, y0=y0, y_end=y_end, exact=exact, first_negative=first)


def distance_series(cfg: RopeConfig, quantity: str, max_distance: int, *, log_x: bool = True,
                    n_bins: int = N_BINS_DEFAULT, normalize: bool = False, seed: int = 0) -> dict:
    """The displayed data of one curve — exactly what the figure draws — for the page and the tests:
    dict(x, lo, hi, y0, y_end, exact, first_negative) with lo/hi the per-bin min/max (equal where not downsampled),
    y0 and y_end the values at Δ = 0 and at the last distance before normalisation, first_negative the first
    computed Δ with a negative value (None if none); for ``"random"``: x (the two ends), mean = 0, std,
    lo = −std, hi = std, analytic_std (all exact, ``random_std``). ``exact`` is False when the bound was sampled
    beyond BOUND_EXACT_MAX. Cached (small results: the curves are already reduced for display)."""
    if quantity not in QUANTITIES:
        raise ValueError(f"unknown curve {quantity!r}; allowed: {', '.join(QUANTITIES)}")
    return _series_cached(cfg, quantity, int(max_distance), bool(log_x), int(n_bins), bool(normalize), int(seed))


def _band_traces(fig: go.Figure, x, lo, hi, *, name: str, color: str, dash: str, group: str,
                 hover: str, legend: bool = True, yaxis: str = "y") -> None:
    """A curve drawn as its min/max envelope: the max line (in the legend if ``legend``) and the min line filled up
    to it, against ``yaxis``."""
    same = np.array_equal(lo, hi)
    fig.add_trace(go.Scatter(x=x, y=hi, mode="lines", name=name, legendgroup=group, showlegend=legend,
                             line=dict(color=color, dash=dash, width=1.6), hovertemplate=hover, yaxis=yaxis))
    if not same:
        fig.add_trace(go.Scatter(x=x, y=lo, mode="lines", name=name + " (min in bin)", legendgroup=group,
                                 showlegend=False, line=dict(color=color, dash=dash, width=1.0), yaxis=yaxis,
                                 fill="tonexty", fillcolor=rgba(color, 0.25), hovertemplate=hover))


LEGEND_ROOM_ATTR = "_rv_legend_room"   # the px ``legend_below`` added to the figure's height (read by export)


def legend_below(fig: go.Figure) -> go.Figure:
    """Move the legend under the plot (long, descriptive trace names would otherwise cover the title) and add 40 px
    of height per three legend entries to the style's height; the room added is kept on the figure object
    (``LEGEND_ROOM_ATTR``), so that ``export.docs_size`` gives an app figure's docs version the same height as the
    figure built in the docs style."""
    room = 40 * max(1, len([t for t in fig.data if t.showlegend is not False]) // 3)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.16, xanchor="left", x=0.0),
                      margin=dict(t=60, b=40), height=(fig.layout.height or 460) + room)
    object.__setattr__(fig, LEGEND_ROOM_ATTR, room)
    return fig


def _caption_facts(cfg: RopeConfig, quantities, max_d: int, series: dict) -> dict:
    """The numbers the caption states, for the first (sidebar) configuration, from the data drawn."""
    af = float(effective_attention_factor(cfg))
    m = {"label": cfg.label(), "max_d": max_d, "quantities": list(quantities), "af": af,
         "d": cfg.head_dim, "r": cfg.rotary_dim}
    for q, s in series.items():         # raw (unnormalised) values
        m[q] = {"first_negative": s["first_negative"], "y0": s["y0"], "y_end": s.get("y_end")}
    if "random" in series:
        m["random"]["std"] = random_std(cfg)
    return m


def _ones_relation(m: dict) -> str:
    """The all-ones score in terms of B_m: 2·af²·B_m + (1 − af²)(d − r) (exact; module docstring of
    ``analysis.distance``: h_i = 2af² for every pair, pass-through channels add d − r)."""
    af2, rest = m["af"] ** 2, m["d"] - m["r"]
    if af2 == 1.0:
        return "exactly 2·B_m (attention factor 1)"
    const = (1 - af2) * rest
    return f"{format_number(2 * af2, 4)}·B_m" + (f" {'+' if const > 0 else '−'} {format_number(abs(const), 4)}"
                                                 if const else "") + \
        f" (attention factor {format_number(m['af'], 4)})"


def _where_negative(first) -> str:
    return "stays ≥ 0" if first is None else f"first turns negative at Δ = {first:,}"


def _distance_caption(fig: go.Figure) -> str:
    """What each curve does over the distances shown (numbers from the figure's data)."""
    m = fig.layout.meta
    parts = []
    if "bound" in m:
        parts.append(f"RoFormer's bound goes from {format_number(m['bound']['y0'], 4)} at Δ = 0 to "
                     f"{format_number(m['bound']['y_end'], 3)} at "
                     f"Δ = {m['max_d']:,}")
    if "similarity" in m:
        parts.append(f"B_m {_where_negative(m['similarity']['first_negative'])}"
                     + (" (✕)" if m["similarity"]["first_negative"] is not None else f" up to Δ = {m['max_d']:,}"))
    if "ones" in m:
        neg = m["ones"]["first_negative"]
        parts.append(f"the all-ones score is {_ones_relation(m)}: it {_where_negative(neg)}")
    if "random" in m:
        std = format_number(m["random"]["std"], 4)
        parts.append(f"for random Gaussian q, k the score has mean exactly 0 and std {std} at every Δ: no decay")
    text = "; ".join(parts)
    return f"{text[0].upper()}{text[1:]} ({m['label']})."


@register("distance_curves", page="Distance", caption=_distance_caption)
def distance_figure(cfg: RopeConfig, *, style: str = "app", compare: Sequence = (),
                    quantities: Sequence[str] = QUANTITIES, max_distance: int | None = None, log_x: bool = True,
                    normalize: bool = False, n_bins: int = N_BINS_DEFAULT, seed: int = 0) -> go.Figure:
    """Attention score vs relative distance Δ = 0 … max_distance (default: the context length).

    Options: ``compare`` — up to 3 more configurations (``rope_viz.compare.resolve``: bases, preset names, saved
    configs, RopeConfigs or (label, RopeConfig) pairs);
    ``quantities`` — a subset of ``QUANTITIES``; ``log_x``; ``normalize`` — divide every curve by its value at Δ = 0
    (the random band by the all-ones score at Δ = 0, i.e. E‖q‖²) so configurations of different sizes compare;
    ``n_bins`` — display resolution (the computation is always at every integer Δ).
    With one configuration, colour = curve and each curve has a legend entry; with several, colour = configuration
    and dash = curve, and the legend has one entry per configuration and one per curve style. The numbers the caption
    states (first configuration) are in ``fig.layout.meta``.
    """
    configs = C.with_main(cfg, compare)
    quantities = _check_quantities(quantities)
    max_d = _max_distance(cfg, max_distance)
    if not 10 <= int(n_bins) <= 20000:
        raise ValueError(f"n_bins must be in [10, 20000], got {n_bins}")
    fig = go.Figure()
    several = len(configs) > 1
    first_series = {}
    # RoFormer's relative bound has no unit: beside scores (dot products) it gets an axis of its own, on the right
    bound_right = not normalize and "bound" in quantities and len(quantities) > 1
    for ci, (name, c) in enumerate(configs):
        if several:     # the configuration's legend entry: toggles all its curves
            _legend_key(fig, name=name, group=f"cfg{ci}", color=PALETTE[ci])
        for qi, q in enumerate(quantities):
            color = PALETTE[ci] if several else PALETTE[qi]
            dash = DASHES[qi] if several else "solid"
            group = f"cfg{ci}" if several else q
            s = distance_series(c, q, max_d, log_x=log_x, n_bins=n_bins, normalize=normalize, seed=seed)
            if ci == 0:
                first_series[q] = s
            label = QUANTITY_LABELS[q] + ("" if s["exact"] else f" (sampled beyond Δ = {BOUND_EXACT_MAX:,})")
            label += " (right axis)" if q == "bound" and bound_right else ""
            label += f" — {name}" if several else ""
            hover = "Δ=%{x:,.0f}<br>%{y:.4g}<extra>" + QUANTITY_SHORT[q] + (f", {name}" if several else "") \
                + "</extra>"
            if q == "random":
                fig.add_trace(go.Scatter(x=s["x"], y=s["hi"], mode="lines", line=dict(width=0, color=color),
                                         name=label + " (+1 std)", legendgroup=group, showlegend=False,
                                         hoverinfo="skip"))
                fig.add_trace(go.Scatter(x=s["x"], y=s["lo"], mode="lines", line=dict(width=0, color=color),
                                         fill="tonexty", fillcolor=rgba(color, 0.18), name=label + " (−1 std)",
                                         legendgroup=group, showlegend=False, hoverinfo="skip"))
                fig.add_trace(go.Scatter(x=s["x"], y=s["mean"], mode="lines", name=label, legendgroup=group,
                                         showlegend=False,
                                         line=dict(color=color, dash="dot" if not several else dash, width=1.4),
                                         hovertemplate=hover))
                if not several:     # the legend swatch is the band (filled), not only its dotted mean line
                    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=label, legendgroup=group,
                                             fill="toself", fillcolor=rgba(color, 0.18), hoverinfo="skip",
                                             line=dict(color=color, dash="dot", width=1.4)))
            else:
                _band_traces(fig, s["x"], s["lo"], s["hi"], name=label, color=color, dash=dash, group=group,
                             hover=hover, legend=not several, yaxis="y2" if q == "bound" and bound_right else "y")
            if q == "similarity":
                neg = s["first_negative"]
                if neg is not None:
                    yv = float(D.similarity_sum(c, [float(neg)], seq_len=c.context_length)[0])
                    if normalize:
                        yv /= s["y0"]
                    fig.add_trace(go.Scatter(
                        x=[neg], y=[yv], mode="markers", legendgroup=group, showlegend=not several,
                        name=f"B_m first < 0 at Δ = {neg:,}" + (f" ({name})" if several else ""),
                        marker=dict(color=color, size=10, symbol="x"),
                        hovertemplate="first negative B_m<br>Δ=%{x:,}<br>B=%{y:.3g}<extra></extra>"))
                    fig.add_vline(x=neg, line=dict(color=color, dash="dot", width=1))
    if several:         # what each dash means, and the ✕ marker
        for qi, q in enumerate(quantities):
            _legend_key(fig, name=QUANTITY_SHORT[q], group=f"key-{q}", color="#555555", dash=DASHES[qi])
        if "similarity" in quantities:
            _legend_key(fig, name="where B_m first turns negative", group="key-neg", color="#555555", marker="x")
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    ttl = "Attention score vs relative distance"
    ttl += f" (Δ ≤ {max_d:,}" + (", normalised to 1 at Δ = 0)" if normalize else ")")
    y_title = "score / score at Δ = 0 (dimensionless)" if normalize else "score (dot product, unit-entry q/k)"
    styled(fig, title=ttl, x_title="relative distance Δ = m − n (tokens" + (", log scale)" if log_x else ")"),
           y_title=y_title, style=style, log_x=log_x, height=520)
    if bound_right:
        fig.update_layout(yaxis2=dict(title="RoFormer bound (no unit)", overlaying="y",
                                      side="right", showgrid=False, rangemode="tozero", tickmode="auto"),
                          margin=dict(r=80))
    fig.update_layout(meta=_caption_facts(cfg, quantities, max_d, first_series))
    return legend_below(fig)


def _legend_key(fig: go.Figure, *, name: str, group: str, color: str, dash: str = "solid",
                marker: str | None = None) -> None:
    """A legend-only entry (no data): a configuration's colour, or what a dash style / marker means."""
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers" if marker else "lines", name=name, legendgroup=group,
                             line=dict(color=color, dash=dash, width=2), hoverinfo="skip",
                             marker=dict(symbol=marker or "circle", size=9, color=color)))


@lru_cache(maxsize=32)
def _summary_cached(configs: tuple, max_distance: int) -> tuple:
    rows = []
    for name, c in configs:
        L = c.context_length
        neg = D.first_negative_distance(c, max_distance, seq_len=L)
        rows.append({"configuration": name,
                     "B_m first < 0 at Δ": f"none ≤ {max_distance:,}" if neg is None else f"{neg:,}",
                     "B_0 = d/2": format_number(float(D.similarity_sum(c, [0.0], seq_len=L)[0]), 6),
                     "RoFormer bound at Δ = 0": format_number(float(D.decay_bound(c, [0.0], seq_len=L)[0]), 6),
                     "random q,k: mean ± std (exact)": f"0 ± {format_number(random_std(c), 4)}",
                     "first_negative": neg})
    return tuple(rows)


def summary_table(cfg: RopeConfig, compare: Sequence = (), max_distance: int | None = None) -> list[dict]:
    """One row per configuration: ``cfg``, then those of ``compare`` (``rope_viz.compare.with_main``): B_m's first
    negative distance up to max_distance (``first_negative_distance``; also under the key ``first_negative`` as an
    int or None), B_0, RoFormer's bound at Δ = 0 and the random score's exact mean and std; each configuration with
    the frequencies in effect over its own context. Cached."""
    configs = tuple(C.with_main(cfg, compare))
    return [dict(r) for r in _summary_cached(configs, _max_distance(cfg, max_distance))]
