"""Distance figures: how the RoPE score depends on the relative distance Δ between query and key.

Curves (all from ``rope_viz.analysis.distance``, computed at full resolution Δ = 0 … max_distance, then reduced for
display to min/max bands with ``envelope`` so the figure stays small even at Δ up to 2M):

* RoFormer's relative upper bound (1/(d/2))·Σ_j |S_j| (Su et al., arXiv:2104.09864, §3.4.3);
* B_m = Σ_i cos(m θ_i) (Men et al., arXiv:2405.14591, Theorem 1) and its first negative distance;
* the score for q = k = all-ones (the constant vector RoFormer's decay picture assumes);
* the mean ± 1 std band over random Gaussian q, k — which does **not** decay (Barbero et al., arXiv:2410.06205, §3:
  E[qᵀR_Δk] = 0 for independent zero-mean q, k). The band is evaluated at ~400 sampled distances (it is a statistic
  over samples, not a curve with fine structure).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go

from ..analysis import distance as D
from ..config import RopeConfig
from . import register
from ._style import PALETTE, styled

QUANTITIES = ("bound", "similarity", "ones", "random")
QUANTITY_LABELS = {
    "bound": "RoFormer bound (1/(d/2))·Σ|S_j|",
    "similarity": "B_m = Σ cos(Δθ_i) (Men et al.)",
    "ones": "score, q = k = all-ones",
    "random": "score, random Gaussian q, k: mean ± 1 std",
}
DASHES = ("solid", "dash", "dot", "dashdot")
MAX_CONFIGS = 4
N_BINS_DEFAULT = 1200
N_RANDOM_POINTS = 400
BOUND_EXACT_MAX = 1 << 16  # RoFormer's bound is exact at every Δ up to here, sampled beyond


# -- helpers shared with the page ------------------------------------------------------------------------------------
def compare_configs(cfg: RopeConfig, compare: Iterable = ()) -> list[RopeConfig]:
    """The configurations to overlay: ``cfg`` first, then one per entry of ``compare`` — a number is a base
    (``cfg`` with that base), a string is a preset name (that preset's config). At most 4 in all."""
    out = [cfg]
    for item in compare or ():
        if isinstance(item, str):
            from ..presets import get_preset
            out.append(get_preset(item).config)
        elif isinstance(item, (int, float, np.floating, np.integer)) and not isinstance(item, bool):
            out.append(cfg.replace(base=float(item)))
        else:
            raise ValueError(f"compare entries must be bases (numbers) or preset names, got {item!r}")
    if len(out) > MAX_CONFIGS:
        raise ValueError(f"at most {MAX_CONFIGS} configurations can be overlaid (the sidebar's plus "
                         f"{MAX_CONFIGS - 1}), got {len(out)}")
    return out


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


def _sample_distances(max_distance: int, n: int, log_x: bool) -> np.ndarray:
    if log_x:
        d = np.unique(np.round(np.geomspace(1, max_distance, n)))
    else:
        d = np.unique(np.round(np.linspace(0, max_distance, n)))
    return d.astype(np.float64)


def _ones_norm(cfg: RopeConfig) -> float:
    """The q = k = all-ones score at Δ = 0 (= E‖q‖² for unit-variance q): the scale of the random band."""
    ones = np.ones(cfg.head_dim)
    return float(np.asarray(D.score_vs_distance(ones, ones, cfg, np.array([0.0]))).reshape(-1)[0])


def bound_distances(max_distance: int, seed: int = 0) -> tuple[np.ndarray, bool]:
    """The distances at which RoFormer's bound is evaluated: every integer Δ ≤ max_distance when
    max_distance ≤ BOUND_EXACT_MAX; otherwise every Δ ≤ BOUND_EXACT_MAX and, beyond, one random integer in each of
    BOUND_EXACT_MAX equal strides (jittered so the sampling does not alias the fast pairs). The bound has no fast path
    (|S_j| is not linear in the phasors; O(n·p), ~1 s per million distances), so this keeps a page at 2M tokens
    interactive. Returns (distances, exact)."""
    if max_distance <= BOUND_EXACT_MAX:
        return np.arange(0, max_distance + 1, dtype=np.float64), True
    head = np.arange(0, BOUND_EXACT_MAX + 1, dtype=np.float64)
    edges = np.linspace(BOUND_EXACT_MAX + 1, max_distance + 1, BOUND_EXACT_MAX + 1)   # (BOUND_EXACT_MAX + 1,)
    rng = np.random.default_rng(seed)
    lo, hi = np.ceil(edges[:-1]), np.ceil(edges[1:])                                  # [lo, hi) integer strides
    tail = np.unique(np.minimum(lo + np.floor(rng.random(lo.size) * (hi - lo)), max_distance))
    return np.concatenate([head, tail]), False


@lru_cache(maxsize=64)
def _series_cached(cfg: RopeConfig, quantity: str, max_distance: int, log_x: bool, n_bins: int, normalize: bool,
                   n_samples: int, seed: int) -> dict:
    if quantity == "random":
        xs = _sample_distances(max_distance, N_RANDOM_POINTS, log_x)
        band = D.random_score_band(cfg, xs, n_samples=n_samples, seed=seed)
        mean, std = np.asarray(band["mean"], float), np.asarray(band["std"], float)
        scale = _ones_norm(cfg) if normalize else 1.0
        return dict(x=xs, mean=mean / scale, std=std / scale, lo=(mean - std) / scale, hi=(mean + std) / scale,
                    y0=None, analytic_std=float(band["analytic_std"]) / scale, exact=True)
    exact = True
    if quantity == "bound":
        dist, exact = bound_distances(max_distance, seed)
        head = min(dist.size, BOUND_EXACT_MAX + 1)                 # every integer 0 … BOUND_EXACT_MAX: a lattice
        y = np.concatenate([D.decay_bound(cfg, dist[:head]), D.decay_bound(cfg, dist[head:])])
    else:
        dist = np.arange(0, max_distance + 1, dtype=np.float64)  # full resolution, (n,)
        if quantity == "similarity":
            y = D.similarity_sum(cfg, dist)
        else:
            ones = np.ones(cfg.head_dim)
            y = D.score_vs_distance(ones, ones, cfg, dist)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    y0 = float(y[0])
    if normalize:
        y = y / y0
    x, lo, hi = display_envelope(dist, y, n_bins, log_x)
    return dict(x=x, lo=lo, hi=hi, y0=y0, exact=exact)


def distance_series(cfg: RopeConfig, quantity: str, max_distance: int, *, log_x: bool = True,
                    n_bins: int = N_BINS_DEFAULT, normalize: bool = False, n_samples: int = 64,
                    seed: int = 0) -> dict:
    """The displayed data of one curve — exactly what the figure draws — for the page and the tests:
    dict(x, lo, hi, y0, exact) with lo/hi the per-bin min/max (equal where not downsampled) and y0 the value at
    Δ = 0 before normalisation; for ``"random"``: x (sampled distances), mean, std, lo = mean − std,
    hi = mean + std, analytic_std. ``exact`` is False when the bound was sampled beyond BOUND_EXACT_MAX.
    Cached (small results: the curves are already reduced for display)."""
    if quantity not in QUANTITIES:
        raise ValueError(f"unknown curve {quantity!r}; allowed: {', '.join(QUANTITIES)}")
    return _series_cached(cfg, quantity, int(max_distance), bool(log_x), int(n_bins), bool(normalize),
                          int(n_samples), int(seed))


def _band_traces(fig: go.Figure, x, lo, hi, *, name: str, color: str, dash: str, group: str,
                 hover: str) -> None:
    """A curve drawn as its min/max envelope: the max line (in the legend) and the min line filled up to it."""
    same = np.array_equal(lo, hi)
    fig.add_trace(go.Scatter(x=x, y=hi, mode="lines", name=name, legendgroup=group,
                             line=dict(color=color, dash=dash, width=1.6), hovertemplate=hover))
    if not same:
        fig.add_trace(go.Scatter(x=x, y=lo, mode="lines", name=name + " (min in bin)", legendgroup=group,
                                 showlegend=False, line=dict(color=color, dash=dash, width=1.0),
                                 fill="tonexty", fillcolor=_rgba(color, 0.25), hovertemplate=hover))


def legend_below(fig: go.Figure) -> go.Figure:
    """Move the legend under the plot (long, descriptive trace names would otherwise cover the title)."""
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.16, xanchor="left", x=0.0),
                      margin=dict(t=60, b=40))
    fig.update_layout(height=(fig.layout.height or 460) + 40 * max(1, len([t for t in fig.data if t.showlegend
                                                                         is not False]) // 3))
    return fig


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


@register("distance_curves", page="Distance",
          caption="The all-ones score and RoFormer's bound decay with distance, B_m oscillates and turns negative "
                  "(dotted line), while the random-q/k band stays centred on 0 at every distance: no decay.")
def distance_figure(cfg: RopeConfig, *, style: str = "app", compare: Sequence = (),
                    quantities: Sequence[str] = QUANTITIES, max_distance: int | None = None, log_x: bool = True,
                    normalize: bool = False, n_bins: int = N_BINS_DEFAULT, n_samples: int = 64,
                    seed: int = 0) -> go.Figure:
    """Attention score vs relative distance Δ = 0 … max_distance (default: the context length).

    Options: ``compare`` — up to 3 more configurations (bases or preset names, see ``compare_configs``);
    ``quantities`` — a subset of ``QUANTITIES``; ``log_x``; ``normalize`` — divide every curve by its value at Δ = 0
    (the random band by the all-ones score at Δ = 0, i.e. E‖q‖²) so configurations of different sizes compare;
    ``n_bins`` — display resolution (the computation is always at every integer Δ).
    With one configuration, colour = curve; with several, colour = configuration and dash = curve.
    """
    configs = compare_configs(cfg, compare)
    quantities = _check_quantities(quantities)
    max_d = _max_distance(cfg, max_distance)
    if not 10 <= int(n_bins) <= 20000:
        raise ValueError(f"n_bins must be in [10, 20000], got {n_bins}")
    fig = go.Figure()
    several = len(configs) > 1
    for ci, c in enumerate(configs):
        for qi, q in enumerate(quantities):
            color = PALETTE[ci] if several else PALETTE[qi]
            dash = DASHES[qi] if several else "solid"
            group = f"{ci}-{q}"
            s = distance_series(c, q, max_d, log_x=log_x, n_bins=n_bins, normalize=normalize,
                                n_samples=n_samples, seed=seed)
            label = QUANTITY_LABELS[q] + ("" if s["exact"] else f" (sampled beyond Δ = {BOUND_EXACT_MAX:,})")
            label += f" — {c.label()}" if several else ""
            hover = "Δ=%{x:,.0f}<br>%{y:.4g}<extra>" + QUANTITY_LABELS[q] + "</extra>"
            if q == "random":
                fig.add_trace(go.Scatter(x=s["x"], y=s["hi"], mode="lines", line=dict(width=0, color=color),
                                         name=label + " (+1 std)", legendgroup=group, showlegend=False,
                                         hoverinfo="skip"))
                fig.add_trace(go.Scatter(x=s["x"], y=s["lo"], mode="lines", line=dict(width=0, color=color),
                                         fill="tonexty", fillcolor=_rgba(color, 0.18), name=label + " (−1 std)",
                                         legendgroup=group, showlegend=False, hoverinfo="skip"))
                fig.add_trace(go.Scatter(x=s["x"], y=s["mean"], mode="lines", name=label, legendgroup=group,
                                         line=dict(color=color, dash="dot" if not several else dash, width=1.4),
                                         hovertemplate=hover))
            else:
                _band_traces(fig, s["x"], s["lo"], s["hi"], name=label, color=color, dash=dash, group=group,
                             hover=hover)
            if q == "similarity":
                neg = D.first_negative_distance(c, max_d)
                if neg is not None:
                    yv = float(np.asarray(D.similarity_sum(c, np.array([float(neg)]))).reshape(-1)[0])
                    if normalize:
                        yv /= s["y0"]
                    fig.add_trace(go.Scatter(
                        x=[neg], y=[yv], mode="markers", legendgroup=group,
                        name=f"B_m first < 0 at Δ = {neg:,}" + (f" ({c.label()})" if several else ""),
                        marker=dict(color=color, size=10, symbol="x"),
                        hovertemplate="first negative B_m<br>Δ=%{x:,}<br>B=%{y:.3g}<extra></extra>"))
                    fig.add_vline(x=neg, line=dict(color=color, dash="dot", width=1))
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    ttl = "Attention score vs relative distance"
    ttl += f" (Δ ≤ {max_d:,}" + (", normalised to 1 at Δ = 0)" if normalize else ")")
    y_title = "score / score at Δ = 0 (dimensionless)" if normalize else "score (dot product, unit-entry q/k)"
    styled(fig, title=ttl, x_title="relative distance Δ = m − n (tokens" + (", log scale)" if log_x else ")"),
           y_title=y_title, style=style, log_x=log_x, height=520)
    return legend_below(fig)


@lru_cache(maxsize=32)
def _summary_cached(configs: tuple, max_distance: int) -> tuple:
    rows = []
    for c in configs:
        neg = D.first_negative_distance(c, max_distance)
        rows.append({"configuration": c.label(),
                     "B_m first < 0 at Δ": f"none ≤ {max_distance:,}" if neg is None else f"{neg:,}",
                     "B_0 = d/2": f"{float(D.similarity_sum(c, [0.0])[0]):g}",
                     "RoFormer bound at Δ = 0": f"{float(D.decay_bound(c, [0.0])[0]):g}",
                     "random q,k: std (closed form)":
                         f"{D.random_score_band(c, [0.0, 1.0], n_samples=2)['analytic_std']:.4g}",
                     "first_negative": neg})
    return tuple(rows)


def summary_table(cfg: RopeConfig, compare: Sequence = (), max_distance: int | None = None) -> list[dict]:
    """One row per overlaid configuration (``compare_configs``): B_m's first negative distance up to max_distance
    (``first_negative_distance``; also under the key ``first_negative`` as an int or None), B_0, RoFormer's bound
    at Δ = 0 and the random band's closed-form std. Cached."""
    configs = tuple(compare_configs(cfg, compare))
    return [dict(r) for r in _summary_cached(configs, _max_distance(cfg, max_distance))]
