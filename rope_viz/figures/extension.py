"""Figures for the Context-extension page: PI, NTK, dynamic NTK, YaRN, Llama 3 and LongRoPE side by side.

One base model (head dim, base, layout, rotary fraction, training context L0) is extended by a factor s to the target
context s·L0 with each method (``extension_methods``); the methods' formulas live in ``rope_viz.frequencies``:
  PI / linear   Chen et al., arXiv:2306.15595            θ'_i = θ_i / s
  NTK-aware     bloc97 / YaRN Eq. 16, arXiv:2309.00071   b' = b·s^(r/(r−2))
  dynamic NTK   emozilla; transformers' closed form      b' grows with the running sequence length
  YaRN          Peng et al., arXiv:2309.00071            NTK-by-parts ramp + attention factor 0.1·ln s + 1
  Llama 3.1     Meta llama-models ``apply_scaling``      wavelength-band blend
  LongRoPE      Ding et al., arXiv:2402.13753            per-pair factors λ_i, attention factor √(1 + ln s/ln L0)
Score vs distance uses ``rope_viz.analysis.distance.score_vs_distance`` with q = k = ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..config import FACTOR_MAX, RopeConfig
from ..frequencies import attention_factor, default_inv_freq, frequency_ratio, inv_freq, wavelengths
from . import register
from ._style import PALETTE, axis_key, grid_layout, styled
from .distance import display_envelope

METHODS = ("linear", "ntk", "dynamic", "yarn", "llama3", "longrope")
METHOD_LABELS = {"none": "original (no scaling)", "linear": "PI (linear)", "ntk": "NTK-aware", "dynamic":
                 "dynamic NTK", "yarn": "YaRN", "llama3": "Llama 3.1", "longrope": "LongRoPE"}
METHOD_COLORS = {m: PALETTE[i] for i, m in enumerate(("none",) + METHODS)}
METHOD_COLORS["longrope"] = PALETTE[7]  # the palette's yellow is too faint on white
MAX_DISTANCE = 1 << 22      # farthest distance plotted (tokens)
MAX_SAMPLES = 1 << 16       # exact scores per curve: every integer Δ, or every k-th when the range is longer
DISPLAY_BINS = 800          # then min/max-enveloped to this many points for display


@dataclass(frozen=True)
class Extension:
    """The configurations compared: ``base`` (no scaling, context L0) and one RopeConfig per method (context s·L0;
    dynamic keeps L0 and is evaluated at ``seq_len``). ``longrope_source`` says where LongRoPE's factor lists come
    from ("preset NAME" or "synthetic ramp")."""
    base: RopeConfig
    factor: float
    seq_len: int
    methods: dict
    longrope_source: str

    @property
    def original_context(self) -> int:
        return self.base.context_length

    @property
    def target_context(self) -> int:
        return int(round(self.factor * self.base.context_length))

    def eval_seq_len(self, method: str) -> int | None:
        """The seq_len each method's frequencies are evaluated at (dynamic: the chosen one; LongRoPE: the target,
        so the long factors apply)."""
        if method == "dynamic":
            return self.seq_len
        if method == "longrope":
            return self.target_context
        return None


def _longrope_lists(base: RopeConfig, factor: float) -> tuple[tuple, tuple, str]:
    """LongRoPE factor lists for ``base``: a preset's lists when one has LongRoPE with the same number of pairs
    (Phi-3 family), else the synthetic ramp of ``rope_viz.ui.state.synth_longrope_factors``."""
    try:
        from ..presets import PRESETS
    except ImportError:
        PRESETS = {}
    for name, p in PRESETS.items():
        c = p.config
        if c.rope_type == "longrope" and c.n_pairs == base.n_pairs:
            return tuple(c.scaling["short_factor"]), tuple(c.scaling["long_factor"]), f"preset {name}"
    p = base.n_pairs
    if p == 1:
        return (1.0,), (float(factor),), "synthetic ramp 1 → s"
    long = tuple(1.0 + (factor - 1.0) * i / (p - 1) for i in range(p))
    return tuple(1.0 for _ in range(p)), long, "synthetic ramp 1 → s"


def extension_methods(cfg: RopeConfig, factor: float | None = None, seq_len: int | None = None) -> Extension:
    """Build every method's RopeConfig for the base model of ``cfg``.

    The base model is cfg without scaling at its original context (cfg.original_context_length, so a Llama 3.1
    preset compares against its 8K pre-training). ``factor`` defaults to cfg's own factor (or context/original),
    else 4; ``seq_len`` (dynamic NTK's running length) defaults to the target context. ValueError on bad input."""
    L0 = cfg.original_context_length if cfg.scaling is not None else cfg.context_length
    base = cfg.replace(scaling=None, context_length=L0)
    if factor is None:
        if cfg.scaling is not None and cfg.scaling.get("factor"):
            factor = float(cfg.scaling["factor"])
        elif cfg.context_length > L0:
            factor = cfg.context_length / L0
        else:
            factor = 4.0
    factor = float(factor)
    if not 1.0 <= factor <= FACTOR_MAX:
        raise ValueError(f"factor must be in [1, {FACTOR_MAX:g}], got {factor:g}")
    target = int(round(factor * L0))
    seq = target if seq_len is None else int(seq_len)
    if not 1 <= seq <= (1 << 24):
        raise ValueError(f"seq_len must be in [1, {1 << 24}] tokens, got {seq}")
    short, long, source = _longrope_lists(base, factor)
    methods = {
        "linear": base.replace(context_length=target, scaling={"rope_type": "linear", "factor": factor}),
        "ntk": base.replace(context_length=target, scaling={"rope_type": "ntk", "factor": factor}),
        "dynamic": base.replace(scaling={"rope_type": "dynamic", "factor": factor}),
        "yarn": base.replace(context_length=target, scaling={"rope_type": "yarn", "factor": factor,
                                                             "original_max_position_embeddings": L0}),
        "llama3": base.replace(context_length=target, scaling={
            "rope_type": "llama3", "factor": factor, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": L0}),
        "longrope": base.replace(context_length=target, scaling={
            "rope_type": "longrope", "factor": factor, "short_factor": list(short), "long_factor": list(long),
            "original_max_position_embeddings": L0}),
    }
    return Extension(base=base, factor=factor, seq_len=seq, methods=methods, longrope_source=source)


def _ext(cfg, factor, seq_len, methods) -> tuple[Extension, list[str]]:
    ext = extension_methods(cfg, factor, seq_len)
    chosen = list(METHODS) if methods is None else [m for m in METHODS if m in set(methods)]
    unknown = set(methods or ()) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(sorted(unknown))}; allowed: {', '.join(METHODS)}")
    return ext, chosen


def _subtitle(ext: Extension) -> str:
    return f"{ext.original_context:,} → {ext.target_context:,} tokens, s = {ext.factor:g}"


def _legend_below(fig: go.Figure) -> go.Figure:
    fig.update_layout(legend=dict(y=-0.2, yanchor="top", x=0.0, xanchor="left"), margin=dict(b=130))
    return fig


@register("ext_ratio", page="Context extension",
          caption="PI slows every pair by 1/s; NTK leaves fast pairs alone and slows the slowest most; YaRN and "
                  "Llama 3 switch between the two by wavelength; LongRoPE uses its own factor per pair.")
def ext_ratio(cfg: RopeConfig, *, style: str = "app", factor: float | None = None, seq_len: int | None = None,
              methods=None) -> go.Figure:
    """θ'_i/θ_i per pair for each method (``rope_viz.frequencies.frequency_ratio``), log y, with 1 and 1/s lines."""
    ext, chosen = _ext(cfg, factor, seq_len, methods)
    pairs = np.arange(ext.base.n_pairs)
    fig = go.Figure()
    for m in chosen:
        ratio = frequency_ratio(ext.methods[m], ext.eval_seq_len(m))
        fig.add_trace(go.Scatter(x=pairs, y=ratio, mode="lines+markers", name=METHOD_LABELS[m],
                                 line=dict(color=METHOD_COLORS[m], width=2), marker=dict(size=4)))
    for y, label in ((1.0, "1 (unchanged)"), (1 / ext.factor, f"1/s = {1 / ext.factor:.3g}")):
        fig.add_trace(go.Scatter(x=[pairs[0], pairs[-1]], y=[y, y], mode="lines", name=label,
                                 line=dict(color="#777777", dash="dot", width=1)))
    styled(fig, title=f"Per-pair frequency ratio θ'_i/θ_i ({_subtitle(ext)})", x_title="pair index i",
           y_title="θ'_i / θ_i (ratio)", style=style, log_y=True)
    return _legend_below(fig)


@register("ext_wavelengths", page="Context extension",
          caption="Wavelengths after scaling against the original and the target context: pairs that were "
                  "partial-cycle in training should stay beyond the target, the others should keep their turns.")
def ext_wavelengths(cfg: RopeConfig, *, style: str = "app", factor: float | None = None,
                    seq_len: int | None = None, methods=None) -> go.Figure:
    """λ'_i = 2π/θ'_i per pair per method (log y) with the original context L0 and the target s·L0 as lines."""
    ext, chosen = _ext(cfg, factor, seq_len, methods)
    pairs = np.arange(ext.base.n_pairs)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=pairs, y=wavelengths(default_inv_freq(ext.base.base, ext.base.rotary_dim)),
                             mode="lines", name=METHOD_LABELS["none"],
                             line=dict(color=METHOD_COLORS["none"], width=3, dash="dash")))
    for m in chosen:
        wl = wavelengths(inv_freq(ext.methods[m], ext.eval_seq_len(m)))
        fig.add_trace(go.Scatter(x=pairs, y=wl, mode="lines", name=METHOD_LABELS[m],
                                 line=dict(color=METHOD_COLORS[m], width=2)))
    for y, label, dash in ((ext.original_context, f"original context {ext.original_context:,}", "dot"),
                           (ext.target_context, f"target context {ext.target_context:,}", "solid")):
        fig.add_trace(go.Scatter(x=[pairs[0], pairs[-1]], y=[y, y], mode="lines", name=label,
                                 line=dict(color="#222222", dash=dash, width=1.5)))
    styled(fig, title=f"Wavelength per pair ({_subtitle(ext)})", x_title="pair index i",
           y_title="wavelength λ'_i = 2π/θ'_i (tokens)", style=style, log_y=True)
    return _legend_below(fig)


def _score_module():
    try:
        from ..analysis import distance
    except ImportError:
        return None
    return distance


def distance_stride(max_distance: int) -> int:
    """Sampling step (tokens) of the score curve: 1 up to MAX_SAMPLES distances, then the smallest k that fits."""
    return max(1, -(-(int(max_distance) + 1) // MAX_SAMPLES))


def score_curves(ext: Extension, chosen, max_distance: int,
                 log_x: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Exact q = k = 1 scores at Δ = 0, k, 2k, … ≤ max_distance (k = ``distance_stride``: 1 up to 65,536
    distances) per method and for the base model, enveloped to DISPLAY_BINS points (log-width bins for a log
    axis, ``figures.distance.display_envelope``): method → (Δ_ds, min, max)."""
    dist = _score_module()
    if dist is None:
        return {}
    D = np.arange(0, int(max_distance) + 1, distance_stride(max_distance))
    ones = np.ones(ext.base.head_dim)
    out = {}
    for m in ["none"] + list(chosen):
        c = ext.base if m == "none" else ext.methods[m]
        seq = None if m == "none" else ext.eval_seq_len(m)
        y = dist.score_vs_distance(ones, ones, c, D, seq_len=seq)
        out[m] = display_envelope(D.astype(np.float64), np.asarray(y).reshape(-1), DISPLAY_BINS, log_x)
    return out


@register("ext_score", page="Context extension",
          caption="Score of q = k = 1 vs distance (min–max band per bin), each method (colour) over the unscaled "
                  "model (grey): scaling stretches the in-context pattern out to the target length.")
def ext_score(cfg: RopeConfig, *, style: str = "app", factor: float | None = None, seq_len: int | None = None,
              methods=None, max_distance: int | None = None, log_x: bool = False) -> go.Figure:
    """Small multiples, one panel per method: score vs relative distance Δ ∈ [0, max_distance] (default 1.25 ×
    target, ≤ 4,194,304) of the method (colour) over the unscaled base model (grey), computed exactly
    (``score_curves``) and shown as min/max envelopes; dotted line at L0, solid line at the target s·L0."""
    ext, chosen = _ext(cfg, factor, seq_len, methods)
    maxd = int(max_distance) if max_distance is not None else min(int(1.25 * ext.target_context), MAX_DISTANCE)
    if not 16 <= maxd <= MAX_DISTANCE:
        raise ValueError(f"max_distance must be in [16, {MAX_DISTANCE:,}] tokens, got {maxd:,}")
    curves = score_curves(ext, chosen, maxd, log_x)
    ncols = 2 if len(chosen) > 1 else 1
    nrows = max(1, -(-len(chosen) // ncols))
    layout, ref = grid_layout(nrows, ncols, titles=[METHOD_LABELS[m] for m in chosen], shared_x=True,
                              shared_y=True, h_space=0.04, v_space=0.08)
    if not curves:
        layout["annotations"].append(dict(text="rope_viz.analysis.distance is not available", x=0.5, y=0.5,
                                          xref="paper", yref="paper", showarrow=False))
    data: list[dict] = []
    shapes: list[dict] = []
    for j, m in enumerate(chosen):
        xa, ya = ref(j // ncols + 1, j % ncols + 1)
        for key, width in (("none", 0.8), (m, 1.0)):
            if key not in curves:
                continue
            x, lo, hi = curves[key]
            c = "#9a9a9a" if key == "none" else METHOD_COLORS[m]
            # the min/max band as one closed polygon (max forwards, min backwards): one trace per curve
            data.append(dict(type="scatter", x=np.concatenate([x, x[::-1]]), y=np.concatenate([hi, lo[::-1]]),
                             mode="lines", line=dict(color=c, width=width), fill="toself", fillcolor=_rgba(c, 0.25),
                             name=METHOD_LABELS[key], legendgroup=key,
                             showlegend=(key == "none" and j == 0) or key != "none", xaxis=xa, yaxis=ya,
                             hovertemplate="Δ≈%{x:,.0f}: %{y:.3g} (bin min/max)<extra>" + METHOD_LABELS[key]
                                           + "</extra>"))
        for xv, dash in ((ext.original_context, "dot"), (ext.target_context, "solid")):
            if xv <= maxd:
                shapes.append(dict(type="line", xref=xa, yref=f"{ya} domain", x0=xv, x1=xv, y0=0, y1=1,
                                   line=dict(color="#222222", dash=dash, width=1.2)))
    for dash, label in (("dot", f"original context {ext.original_context:,}"),
                        ("solid", f"target context {ext.target_context:,}")):
        data.append(dict(type="scatter", x=[None], y=[None], mode="lines", line=dict(color="#222222", dash=dash),
                         name=label))
    for c in range(1, ncols + 1):                                  # x titles on the bottom row
        layout[axis_key(ref(nrows, c)[0])]["title"] = dict(text="relative distance Δ (tokens)")
        if log_x:
            for r in range(1, nrows + 1):
                layout[axis_key(ref(r, c)[0])]["type"] = "log"
    for r in range(1, nrows + 1):                                  # y titles on the first column
        layout[axis_key(ref(r, 1)[1])]["title"] = dict(
            text="score q·k (unitless)" if r == (nrows + 1) // 2 else "score q·k")
    layout["shapes"] = shapes
    fig = go.Figure(data=data, layout=layout)
    k = distance_stride(maxd)
    every = "" if k == 1 else f"; Δ every {k} tokens"
    styled(fig, title=f"Score vs distance beyond the training length (q = k = 1{every})",
           x_title=None, y_title=None, style=style, height=220 * nrows + 170)
    fig.update_layout(hovermode="closest", legend=dict(y=-0.12 if nrows > 1 else -0.25, yanchor="top", x=0.0,
                                                       xanchor="left"), margin=dict(b=140))
    return fig


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


@register("ext_attention_factor", page="Context extension",
          caption="Only YaRN and LongRoPE rescale attention (cos and sin are multiplied by this factor, so logits by "
                  "its square) to keep the softmax sharp at long range.")
def ext_attention_factor(cfg: RopeConfig, *, style: str = "app", factor: float | None = None,
                         seq_len: int | None = None, methods=None) -> go.Figure:
    """Bar chart: ``rope_viz.frequencies.attention_factor`` of each method (at its evaluation seq_len)."""
    ext, chosen = _ext(cfg, factor, seq_len, methods)
    vals = [attention_factor(ext.methods[m], ext.eval_seq_len(m)) for m in chosen]
    fig = go.Figure()
    for m, v in zip(chosen, vals):
        fig.add_trace(go.Bar(x=[METHOD_LABELS[m]], y=[v], name=METHOD_LABELS[m], marker_color=METHOD_COLORS[m],
                             text=[f"{v:.4f}"], textposition="outside"))
    fig.add_hline(y=1.0, line=dict(color="#777777", dash="dot"))
    styled(fig, title=f"Attention factor per method ({_subtitle(ext)})", x_title="method",
           y_title="attention factor (multiplies cos, sin; unitless)", style=style)
    fig.update_yaxes(range=[0, max(vals + [1.0]) * 1.2])
    fig.update_layout(hovermode="closest", showlegend=True)
    return fig
