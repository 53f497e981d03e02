"""Comparison figures: RoPE vs sinusoidal absolute position encodings vs ALiBi — the positional signal vs distance,
and a measured comparison table.

Signals (from ``rope_viz.analysis.encodings`` and ``rope_viz.analysis.distance``):

* RoPE (Su et al., arXiv:2104.09864): the score of q = k = all-ones at relative distance Δ (``score_vs_distance``),
  with the frequencies in effect over the config's context (``seq_len`` = its context length);
* sinusoidal APE (Vaswani et al., arXiv:1706.03762): PE(m)·PE(m + Δ) (``sinusoidal_dot``) — the position-only part
  of the logit if W_q = W_k = I;
* ALiBi (Press et al., arXiv:2108.12409): the bias −m_h·Δ per head h (``alibi_slopes``, ``alibi_bias``).

Normalisation (so the three share one axis): RoPE and APE are divided by their value at Δ = 0 (1 = "as similar as
the same position"); ALiBi's bias is turned into the factor it multiplies the softmax weight by, e^{−m_h Δ}, also 1 at
Δ = 0. All three are then "attention multiplier relative to Δ = 0" in spirit, although only ALiBi's is literally one.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from ..analysis import distance as D
from ..config import CONTEXT_MAX, RopeConfig, format_base
from ..frequencies import effective_inv_freq
from . import register
from ._style import PALETTE, format_number, styled
from .distance import display_envelope, legend_below
from .kernel import format_bytes

N_BINS = 1200
MAX_ALIBI_TRACES = 8    # ALiBi figure: one trace (legend entry) per head up to this many
ALIBI_POINTS = 256      # per head in the signal figure (e^(−mΔ) is smooth and monotone)
MAX_HEADS = 64
APE_BASE = 10000.0       # Vaswani et al.'s base (every APE curve, label and wavelength here)
SIGNAL_HEADS = 8        # the signal figure's ALiBi heads: Press et al.'s 8 slopes 1/2 … 1/256, which every head count
                        # ≤ 8 draws its slopes from and every count ≥ 8 contains (``alibi_slopes``); the head count
                        # itself is the ALiBi figure's option, so changing it leaves the signal figure as it is


def _enc():
    """rope_viz.analysis.encodings, imported on use (so listing figures never depends on it)."""
    from ..analysis import encodings
    return encodings


def _heads(n_heads) -> int:
    if isinstance(n_heads, bool) or not float(n_heads).is_integer() or not 1 <= int(n_heads) <= MAX_HEADS:
        raise ValueError(f"n_heads must be an integer in [1, {MAX_HEADS}], got {n_heads!r}")
    return int(n_heads)


def _d_model(cfg: RopeConfig, d_model) -> int:
    d = cfg.head_dim if d_model is None else d_model
    if isinstance(d, bool) or not float(d).is_integer() or not 2 <= int(d) <= 8192 or int(d) % 2:
        raise ValueError(f"d_model must be an even integer in [2, 8192], got {d!r}")
    return int(d)


def _max_distance(cfg: RopeConfig, max_distance) -> int:
    m = cfg.context_length if max_distance is None else max_distance
    if isinstance(m, bool) or not float(m).is_integer() or not 1 <= int(m) <= CONTEXT_MAX:
        raise ValueError(f"max_distance must be an integer in [1, {CONTEXT_MAX:,}] tokens, got {m!r}")
    return int(m)


def table_end(L: int) -> int:
    """The last distance ``comparison_table`` measures for a training length L: 2L, at most 16,777,216 (the longest
    distance the library evaluates), so the "beyond L" window is (L, table_end(L)]; empty when L = 2^24."""
    return min(2 * int(L), CONTEXT_MAX)


def table_window(L: int) -> str:
    """How the table's last distance is named: "2L", or the number when ``table_end`` stops short of 2L."""
    end = table_end(L)
    return "2L" if end == 2 * int(L) else f"{end:,}"


def signals(cfg: RopeConfig, max_distance: int | None = None, n_heads: int = 8, d_model: int | None = None) -> dict:
    """Full-resolution raw and normalised signals at Δ = 0 … max_distance (default: the context length):
    dict(distances (n,), rope (n,), ape (n,), slopes (H,), rope_n, ape_n (normalised), d_model). RoPE uses the
    frequencies in effect over the config's context (whatever max_distance is). ALiBi rows are formed one head at a
    time by ``alibi_row`` (memory O(n), not O(H·n))."""
    L = _max_distance(cfg, max_distance)
    H = _heads(n_heads)
    dm = _d_model(cfg, d_model)
    dist = np.arange(0, L + 1, dtype=np.float64)                                   # (n,)
    ones = np.ones(cfg.head_dim)
    rope = np.asarray(D.score_vs_distance(ones, ones, cfg, dist, seq_len=cfg.context_length),
                      dtype=np.float64).reshape(-1)                                # (n,)
    ape = np.asarray(_enc().sinusoidal_dot(dm, dist, APE_BASE), dtype=np.float64).reshape(-1)     # (n,)
    slopes = np.asarray(_enc().alibi_slopes(H), dtype=np.float64)                                 # (H,)
    return dict(distances=dist, rope=rope, ape=ape, slopes=slopes, d_model=dm,
                rope_n=rope / rope[0], ape_n=ape / ape[0])


def alibi_row(slope: float, distances: np.ndarray) -> np.ndarray:
    """One head's ALiBi bias −m·Δ (``alibi_bias``), shape (n,)."""
    return np.asarray(_enc().alibi_bias(np.array([slope]), distances), dtype=np.float64).reshape(-1)


def _signal_caption(fig: go.Figure) -> str:
    """ALiBi falls monotonically; RoPE and sinusoidal APE fall, then oscillate (coinciding or not: from the data)."""
    m = fig.layout.meta
    text = ("ALiBi's multipliers fall monotonically and never come back; RoPE's and sinusoidal APE's similarity "
            "falls, then oscillates (and can go negative)")
    if m["max_gap"] <= 1e-9:
        return text + " — here they are the same curve (both the mean of cos(Δθᵢ) over the same frequencies)."
    return text + (f" — here they differ by up to {format_number(m['max_gap'], 3)}: they coincide only when RoPE rotates every "
                   f"channel with base {format_base(APE_BASE)}, no scaling, and d_model = d.")


def slope_text(m: float) -> str:
    """An ALiBi slope as Press et al. write it: 1/2, 1/64, 1/256 when 1/m is a whole number (every slope of a
    power-of-two head count), else ``format_number`` (0.0884)."""
    inv = 1.0 / float(m)
    return f"1/{round(inv):,}" if abs(inv - round(inv)) <= 1e-9 * inv else format_number(m, 3)


@register("encodings_signal", page="Encodings compared", caption=_signal_caption)
def signal_figure(cfg: RopeConfig, *, style: str = "app", max_distance: int | None = None,
                  d_model: int | None = None, log_x: bool = True) -> go.Figure:
    """The three positional signals vs distance on one axis, normalised to 1 at Δ = 0 (module docstring); full
    resolution, shown as min/max envelopes. ALiBi: Press et al.'s SIGNAL_HEADS = 8 slopes 1/2 … 1/256 (every head
    count ≤ 8 uses some of them, every count ≥ 8 all of them and more: the ALiBi figure shows any count), coloured
    steep (dark) → shallow (light) as in ``alibi_figure``, one legend entry for all. The dotted line at ½ is the
    level of the table's "first Δ with signal ≤ ½". ``fig.layout.meta["max_gap"]``: the largest |RoPE − APE| over
    the distances (the caption's claim)."""
    s = signals(cfg, max_distance, SIGNAL_HEADS, d_model)
    dist = s["distances"]
    fig = go.Figure()
    for key, label, color in (("rope_n", f"RoPE, q = k = 1 ({cfg.label()})", PALETTE[0]),
                              ("ape_n", f"sinusoidal APE, PE(m)·PE(m+Δ) (d_model = {s['d_model']}, "
                                        f"base {format_base(APE_BASE)})",
                               PALETTE[1])):
        x, lo, hi = display_envelope(dist, s[key], N_BINS, log_x)
        fig.add_trace(go.Scatter(x=x, y=hi, mode="lines", name=label, legendgroup=key,
                                 line=dict(color=color, width=2, dash="solid" if key == "rope_n" else "dash"),
                                 hovertemplate="Δ=%{x:,.0f}<br>%{y:.4f}<extra>" + key[:-2] + "</extra>"))
        if not np.array_equal(lo, hi):
            fig.add_trace(go.Scatter(x=x, y=lo, mode="lines", name=label + " (min in bin)", legendgroup=key,
                                     showlegend=False, line=dict(color=color, width=1), fill="tonexty",
                                     hoverinfo="skip"))
    # ALiBi's multipliers e^(−mΔ) are smooth and monotone: evaluated exactly at ALIBI_POINTS distances per head
    # (log- or evenly spaced); heads grouped and coloured by slope as in the ALiBi figure, one legend entry.
    hx = (np.unique(np.round(np.geomspace(1, dist[-1], ALIBI_POINTS))) if log_x and dist[-1] >= 1 else
          np.unique(np.round(np.linspace(0, dist[-1], ALIBI_POINTS))))
    slopes = s["slopes"]
    for g, (heads, color) in enumerate(alibi_groups(slopes)):
        xs, ys, txt = _gapped([(hx, np.exp(alibi_row(slopes[h], hx)), f"head {h + 1}, m = {slope_text(slopes[h])}")
                               for h in heads])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", legendgroup="alibi", text=txt, showlegend=(g == 0),
                                 name=f"ALiBi e^(−m·Δ), Press et al.'s {len(slopes)} heads, m = "
                                      f"{slope_text(slopes.max())} (dark) … {slope_text(slopes.min())} (light); "
                                      "other head counts: chart below",
                                 line=dict(color=color, width=1.2),
                                 hovertemplate="%{text}<br>Δ=%{x:,.0f}<br>%{y:.3g}<extra></extra>"))
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    fig.add_trace(go.Scatter(x=[hx[0], dist[-1]], y=[0.5, 0.5], mode="lines", name="½ (the table's first Δ ≤ ½)",
                             line=dict(color="#999", width=1, dash="dot"), hoverinfo="skip"))
    styled(fig, title="Positional signal vs distance, normalised to 1 at Δ = 0",
           x_title="relative distance Δ (tokens" + (", log scale)" if log_x else ")"),
           y_title="signal / signal at Δ = 0 (ALiBi: e^bias)", style=style, log_x=log_x, height=520)
    fig.update_layout(meta={"max_gap": float(np.max(np.abs(s["rope_n"] - s["ape_n"])))})
    return legend_below(fig)


def alibi_groups(slopes: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Heads ordered by slope, steep → shallow (Press et al.'s slopes for non-powers of two interleave), split into
    ≤ MAX_ALIBI_TRACES groups of neighbouring slopes, each with its colour (Viridis, dark = steep):
    [(heads, colour)]."""
    order = np.argsort(-np.asarray(slopes), kind="stable")
    groups = np.array_split(order, min(len(order), MAX_ALIBI_TRACES))
    return list(zip(groups, sample_colorscale("Viridis", list(np.linspace(0.0, 0.85, len(groups))))))


def _alibi_caption(fig: go.Figure) -> str:
    """Steep heads look near, shallow heads far; whether the slopes form one geometric sequence (from the data)."""
    m = fig.layout.meta
    seq = ("one head has one slope" if m["heads"] == 1 else
           f"the slopes form one geometric sequence (each {m['ratio']:.4g}× the previous)" if m["geometric"] else
           "for a head count that is not a power of two the slopes are two interleaved geometric sequences "
           "(Press et al.)")
    return ("Each ALiBi head subtracts a fixed slope × distance from the logit: steep heads look only at the last "
            f"few tokens, shallow heads far back; {seq}.")


@register("encodings_alibi", page="Encodings compared", caption=_alibi_caption)
def alibi_figure(cfg: RopeConfig, *, style: str = "app", max_distance: int | None = None,
                 n_heads: int = 8) -> go.Figure:
    """ALiBi bias −m_h·Δ vs distance, one line per head (Press et al.'s geometric slopes, ``alibi_slopes``)."""
    L = _max_distance(cfg, max_distance)
    H = _heads(n_heads)
    slopes = np.asarray(_enc().alibi_slopes(H), dtype=np.float64)
    dist = np.array([0.0, float(L)])                       # the bias is linear in Δ: exact as a straight line
    bias = np.asarray(_enc().alibi_bias(slopes, dist), dtype=np.float64)               # (H, 2)
    fig = go.Figure()
    # one trace per head up to MAX_ALIBI_TRACES heads, beyond that neighbouring slopes share a trace
    for heads, color in alibi_groups(slopes):
        xs, ys, txt = _gapped([(dist, bias[h], f"head {h + 1}: m = {slope_text(slopes[h])}") for h in heads])
        if len(heads) == 1:
            name = f"head {heads[0] + 1}: m = {slope_text(slopes[heads[0]])}"
        else:
            which = ", ".join(str(h + 1) for h in heads) if len(heads) <= 4 else f"{len(heads)} heads"
            name = f"m = {slope_text(slopes[heads[0]])} … {slope_text(slopes[heads[-1]])} (heads {which})"
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, text=txt,
                                 line=dict(color=color, width=1.5),
                                 hovertemplate="%{text}<br>Δ=%{x:,.0f}<br>bias=%{y:.4g}<extra></extra>"))
    styled(fig, title=f"ALiBi: per-head bias vs distance ({H} heads)", x_title="relative distance Δ (tokens)",
           y_title="bias added to the logit (−m·Δ, logit units)", style=style)
    ratios = np.sort(slopes)[:-1] / np.sort(slopes)[1:]          # steep → shallow: each slope / the previous
    fig.update_layout(hovermode="closest", meta={"heads": H, "geometric": bool(H == 1 or np.ptp(ratios) < 1e-9),
                                                 "ratio": float(ratios[0]) if H > 1 else 1.0})
    return legend_below(fig)


def _gapped(parts) -> tuple[np.ndarray, np.ndarray, list]:
    """Concatenate (x, y, label) curves into one trace's x, y and hover text, a NaN gap between curves."""
    xs, ys, txt = [], [], []
    for x, y, label in parts:
        xs += [np.asarray(x, dtype=np.float64), [np.nan]]
        ys += [np.asarray(y, dtype=np.float64), [np.nan]]
        txt += [label] * (len(x) + 1)
    return np.concatenate(xs[:-1]), np.concatenate(ys[:-1]), txt[:-1]


def _first_below(y: np.ndarray, level: float) -> int | None:
    idx = np.flatnonzero(y <= level)
    return int(idx[0]) if idx.size else None


def _out_of_range(train: np.ndarray, beyond: np.ndarray) -> float:
    """Largest distance of a value beyond the training range from the range [min, max] seen in training."""
    lo, hi = float(train.min()), float(train.max())
    return float(np.max(np.maximum(lo - beyond, 0.0) + np.maximum(beyond - hi, 0.0), initial=0.0))


def comparison_table(cfg: RopeConfig, n_heads: int = 8, d_model: int | None = None,
                     train_length: int | None = None) -> list[dict]:
    """The measured comparison, one row per encoding; every number computed from the library at full resolution
    over Δ = 0 … 2L (L = ``train_length``, default the config's context length):

    value at Δ = 0 (raw signal); first Δ where the normalised signal ≤ 1/2 (ALiBi: fastest … slowest head);
    monotone on [0, L]; min of the normalised signal on [0, L]; components whose phase beyond L was never seen in
    training (pairs/frequencies with wavelength > L; ALiBi has no phase); the largest departure of the normalised
    signal on (L, 2L] from the range it took on [0, L]; fixed constants (none is learned); memory of the position
    tables for L tokens in fp32 (RoPE: cos and sin, L × r each, as transformers caches them; APE: L × d_model; ALiBi:
    H slopes, bias formed on the fly — H·L² values if materialised).
    """
    L = cfg.context_length if train_length is None else _max_distance(cfg, train_length)
    end = table_end(L)
    s = signals(cfg, end, n_heads, d_model)
    H, dm = len(s["slopes"]), s["d_model"]
    dep_key = f"largest departure beyond L (Δ ≤ {table_window(L)})"

    def departure(value: float, positive: bool = False) -> str:
        if end <= L:
            return f"none measured (no Δ in (L, {CONTEXT_MAX:,}])"
        return positive_number(value, 3) if positive else format_number(value)

    def positive_number(value: float, digits: int = 4) -> str:
        """ALiBi's normalised signal exp(−slope·Δ) is > 0 at every Δ; past ~10⁻³⁰⁸ float64 rounds it to 0."""
        return "< 10⁻³⁰⁷ (below float64)" if value == 0 else format_number(value, digits)

    train, beyond = slice(0, L + 1), slice(L + 1, None)
    theta = effective_inv_freq(cfg)
    with np.errstate(divide="ignore"):
        rope_wl = 2 * np.pi / theta
    ape_wl = 2 * np.pi / _enc().sinusoidal_frequencies(dm, APE_BASE)
    half_heads, alibi_dep, alibi_mono, alibi_min, alibi_0 = alibi_cells(s["slopes"], L, end)
    known = [v for v in half_heads if v is not None]
    alibi_half = (f"{min(known):,} … {max(known):,}" if len(known) == H else
                  f"{min(known):,} … > {end:,}" if known else f"> {end:,}")
    rows = []
    for name, y, y0, comps, comp_total, consts, mem in (
            (f"RoPE ({cfg.label()})", s["rope_n"], s["rope"][0], int(np.sum(rope_wl > L)), cfg.n_pairs,
             cfg.n_pairs, 2 * L * cfg.rotary_dim * 4),
            (f"sinusoidal APE (d_model = {dm})", s["ape_n"], s["ape"][0], int(np.sum(ape_wl > L)), dm // 2, dm // 2,
             L * dm * 4)):
        half = _first_below(y[train], 0.5)
        rows.append({
            "encoding": name,
            "signal at Δ = 0 (raw)": format_number(y0, 4),
            "first Δ with signal ≤ ½": "never (≤ L)" if half is None else f"{half:,}",
            "monotone on [0, L]": bool(np.all(np.diff(y[train]) <= 1e-12)),
            "min on [0, L]": format_number(y[train].min(), 4),
            "components at unseen phase beyond L": f"{comps} of {comp_total}",
            dep_key: departure(_out_of_range(y[train], y[beyond])),
            "fixed constants (learned: 0)": consts,
            f"position tables for L = {L:,} (fp32)": format_bytes(mem),
        })
    rows.append({
        "encoding": f"ALiBi ({H} heads)",
        "signal at Δ = 0 (raw)": f"{format_number(alibi_0, 4)} (bias)",
        "first Δ with signal ≤ ½": alibi_half,
        "monotone on [0, L]": alibi_mono,
        "min on [0, L]": positive_number(alibi_min),
        "components at unseen phase beyond L": "0 (no rotation)",
        dep_key: departure(alibi_dep, positive=True),
        "fixed constants (learned: 0)": H,
        f"position tables for L = {L:,} (fp32)":
            f"{format_bytes(H * 4)} (slopes; {format_bytes(H * L * L * 4)} if materialised)",
    })
    return rows


def alibi_cells(slopes: np.ndarray, L: int, end: int | None = None) -> tuple[list, float, bool, float, float]:
    """The ALiBi column of ``comparison_table`` over Δ = 0 … end (default 2L): (first Δ with e^bias ≤ ½ per head (None
    if none ≤ end), largest departure on (L, end] from the range on [0, L], monotone on [0, L], min on [0, L], largest
    bias at 0).

    Each head's signal e^(−m·Δ) (m > 0) is strictly decreasing, so these follow from ``alibi_bias`` at a few
    distances instead of all 2L + 1: the first Δ ≤ ½ is ⌈ln 2 / m⌉ (checked, and corrected for rounding, at its two
    neighbours), the minimum on [0, L] is at L, and beyond L every value lies below that minimum, farthest at end.
    tests/test_figures_analysis.py checks this against the brute-force evaluation at every distance."""
    end = 2 * int(L) if end is None else int(end)
    half, dep, low, at0 = [], 0.0, 1.0, -np.inf
    for m in np.asarray(slopes, dtype=np.float64):
        k = int(math.ceil(math.log(2.0) / m))
        while k > 0 and np.exp(alibi_row(m, np.array([k - 1.0])))[0] <= 0.5:    # rounding: step back / forward
            k -= 1
        while np.exp(alibi_row(m, np.array([float(k)])))[0] > 0.5:
            k += 1
        half.append(k if k <= end else None)
        y0, yL, y2L = np.exp(alibi_row(m, np.array([0.0, float(L), float(end)])))
        low = min(low, float(yL))
        dep = max(dep, float(yL - y2L))
        at0 = max(at0, float(np.log(y0)))
    return half, dep, bool(np.all(np.asarray(slopes) > 0)), low, at0


@lru_cache(maxsize=16)
def _table_cached(cfg: RopeConfig, n_heads: int, d_model: int | None, train_length: int | None) -> tuple:
    return tuple(comparison_table(cfg, n_heads, d_model, train_length))


def cached_table(cfg: RopeConfig, n_heads: int = 8, d_model: int | None = None,
                 train_length: int | None = None) -> list[dict]:
    """``comparison_table``, cached on its arguments (a fresh list of row copies each call)."""
    return [dict(r) for r in _table_cached(cfg, n_heads, d_model, train_length)]
