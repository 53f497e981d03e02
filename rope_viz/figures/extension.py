"""Figures for the Context-extension page: PI, NTK, dynamic NTK, YaRN, Llama 3 and LongRoPE side by side.

One base model (head dim, base, layout, rotary fraction, training context L0) is extended by a factor s to the target
context s·L0 with each method through ``rope_viz.scaling.extend`` (the one place that builds scaled variants; the
methods' formulas live in ``rope_viz.frequencies``):
  PI / linear   Chen et al., arXiv:2306.15595            θ'_i = θ_i / s
  NTK-aware     bloc97 / YaRN Eq. 16, arXiv:2309.00071   b' = b·s^(r/(r−2))
  dynamic NTK   emozilla; transformers' closed form      b' grows with the running sequence length l:
                                                         b·(s·l/L0 − (s − 1))^(r/(r−2)); at l = s·L0 the slowest
                                                         pair is slowed by s² − s + 1, not s
  YaRN          Peng et al., arXiv:2309.00071            NTK-by-parts ramp + attention factor 0.1·ln s + 1
  Llama 3.1     Meta llama-models ``apply_scaling``      wavelength-band blend
  LongRoPE      Ding et al., arXiv:2402.13753            per-pair factors f_i (the paper's λ_i), searched once: they do
                                                         not change with s; attention factor √(1 + ln s/ln L0)
Every method is shown with the frequencies transformers uses over a sequence of its evaluation length
(``effective_inv_freq``): the target context, or the chosen running length for dynamic NTK.
Score vs distance uses ``rope_viz.analysis.distance.score_vs_distance`` with q = k = ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from .. import compare as C
from .. import validate as V
from ..analysis import distance as D
from ..config import CONTEXT_MAX, RopeConfig
from ..frequencies import default_inv_freq, effective_attention_factor, effective_inv_freq, wavelengths
from ..scaling import METHODS as SCALING_METHODS
from ..scaling import extend, fits, has_stand_in_longrope_factors
from . import register
from ._style import PALETTE, axis_key, format_number, grid_layout, log_ticks_125, pair_span, rgba, styled
from .distance import display_envelope

METHODS = tuple(m for m in SCALING_METHODS if m != "none")   # "none" is drawn as the grey reference
# short legend names for this page's side-by-side panels (config.SCALING_LABELS are the sidebar's longer names)
METHOD_LABELS = {"none": "original (no scaling)", "linear": "PI (linear)", "ntk": "NTK-aware", "dynamic":
                 "dynamic NTK", "yarn": "YaRN", "llama3": "Llama 3.1", "longrope": "LongRoPE"}
METHOD_COLORS = {m: PALETTE[i] for i, m in enumerate(SCALING_METHODS)}
METHOD_COLORS["longrope"] = PALETTE[7]  # the palette's yellow is too faint on white
DYNAMIC_AT = ("L0", "0.5", "1", "2", "4")   # dynamic NTK's running length: L0, or this multiple of the target
MAX_DISTANCE = CONTEXT_MAX  # farthest distance plotted (tokens): every target fits
MIN_DISTANCE = 16           # shortest range plotted (tiny contexts still get a readable panel)
MAX_SAMPLES = 1 << 16       # exact scores per curve: every integer Δ, or every k-th when the range is longer
SCORE_PANELS = ("linear", "yarn")   # the page's default score panels: uniform interpolation vs by wavelength
DISPLAY_BINS = 400          # then min/max-enveloped to this many points for display: a panel is ~600 px wide in the
                            # app (≥ 1.5 px per bin), and every panel's data costs the browser on each redraw


@dataclass(frozen=True)
class Extension:
    """The configurations compared: ``base`` (no scaling, context L0) and one RopeConfig per method from
    ``scaling.extend`` (context s·L0). ``seq_len``: the running length dynamic NTK is evaluated at.
    ``longrope_source``: "config" (LongRoPE uses the sidebar config's own factor lists) or "synthetic ramp"."""
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

    def eval_seq_len(self, method: str) -> int:
        """The sequence length each method's frequencies are evaluated at: the chosen running length for dynamic
        NTK, the target context for the others (so LongRoPE uses its long factors)."""
        return self.seq_len if method == "dynamic" else self.target_context

    def theta(self, method: str) -> np.ndarray:
        """θ'_i of ``method`` in effect at its evaluation length (``effective_inv_freq``), shape (p,), rad/token."""
        return effective_inv_freq(self.methods[method], self.eval_seq_len(method))


def default_factor(cfg: RopeConfig) -> float:
    """The "auto" factor: the config's own scaling factor, else its context over its original context, else 4."""
    L0 = cfg.original_context_length
    if cfg.scaling is not None and cfg.scaling.get("factor"):
        return float(cfg.scaling["factor"])
    if cfg.context_length > L0:
        return cfg.context_length / L0
    return 4.0


def factor_choices(cfg: RopeConfig) -> list[str]:
    """The page's choices of s for ``cfg``'s base model, as labels: "auto" (``default_factor``) and each of
    ``FACTORS``, keeping those whose target s·L0 fits in a RopeConfig (``scaling.fits``; none when L0 > 2^24 / 1.5)."""
    L0 = cfg.original_context_length
    auto = ["auto"] if fits(L0, default_factor(cfg)) else []
    return auto + [f"{f:g}" for f in FACTORS if fits(L0, f)]


def dynamic_seq_len(original: int, target: int, at: str) -> int:
    """Dynamic NTK's running length for the choice ``at`` in DYNAMIC_AT: "L0" = the original context, else that
    multiple of the target context (at most 16,777,216 tokens)."""
    if at not in DYNAMIC_AT:
        raise ValueError(f"dynamic_at must be one of {', '.join(DYNAMIC_AT)}; got {at!r}")
    n = original if at == "L0" else int(round(float(at) * target))
    return max(1, min(n, CONTEXT_MAX))


def extension_methods(cfg: RopeConfig, factor: float | None = None, seq_len: int | None = None) -> Extension:
    """Every method's RopeConfig for the base model of ``cfg`` (``scaling.extend``).

    The base model is cfg without scaling at its original context (cfg.original_context_length, so a Llama 3.1
    preset compares against its 8K pre-training). ``factor`` defaults to ``default_factor(cfg)``; ``seq_len``
    (dynamic NTK's running length) to the target context. LongRoPE keeps cfg's own factor lists when cfg is a
    LongRoPE config with searched lists (they were searched for one target and do not change with s), else a
    synthetic ramp 1 → s (also when cfg's own lists are such a stand-in ramp: ``has_stand_in_longrope_factors``).
    ValueError on bad input."""
    s = default_factor(cfg) if factor is None else float(factor)
    methods = {m: extend(cfg, m, s) for m in METHODS}
    base = extend(cfg, "none", 1.0)
    source = "synthetic ramp"
    lr = methods["longrope"]
    if cfg.rope_type == "longrope" and cfg.n_pairs == lr.n_pairs and not has_stand_in_longrope_factors(cfg):
        methods["longrope"] = lr.replace(scaling={**dict(lr.scaling), "short_factor": cfg.scaling["short_factor"],
                                                  "long_factor": cfg.scaling["long_factor"]})
        source = "config"
    target = int(round(s * base.context_length))
    seq = target if seq_len is None else int(seq_len)
    if not 1 <= seq <= CONTEXT_MAX:
        raise ValueError(f"seq_len must be in [1, {CONTEXT_MAX:,}] tokens; got {seq}")
    return Extension(base=base, factor=s, seq_len=seq, methods=methods, longrope_source=source)


def chosen_methods(methods=None) -> list[str]:
    """``methods`` (None = all) checked by ``validate.choices`` and put in METHODS order: the one rule for every
    figure that takes a ``methods`` option. ValueError naming ``methods`` for anything else."""
    if methods is None:
        return list(METHODS)
    picked = set(V.choices("methods", methods, METHODS))
    return [m for m in METHODS if m in picked]


def _ext(cfg, factor, seq_len, methods) -> tuple[Extension, list[str]]:
    chosen = chosen_methods(methods)
    return extension_methods(cfg, factor, seq_len), chosen


def _subtitle(ext: Extension) -> str:
    return f"{ext.original_context:,} → {ext.target_context:,} tokens, s = {ext.factor:g}"


def _legend_below(fig: go.Figure) -> go.Figure:
    fig.update_layout(legend=dict(y=-0.2, yanchor="top", x=0.0, xanchor="left"), margin=dict(b=130))
    return fig


COMPARE_COLORS = ("#6A3D9A", "#8C564B", "#7F7F7F")   # purple, brown, grey: none of the methods' colours


def _add_compare(fig: go.Figure, cfg: RopeConfig, compare, y_of) -> None:
    """One dash-dot trace per compared config (``rope_viz.compare.resolve``): ``y_of(config)`` per pair over its own
    pairs, with its own scaling over its own context, in a colour no method uses."""
    for j, (label, c) in enumerate(C.resolve(cfg, compare)):
        fig.add_trace(go.Scatter(x=np.arange(c.n_pairs), y=y_of(c), mode="lines", name=f"{label} (own scaling)",
                                 line=dict(color=COMPARE_COLORS[j % len(COMPARE_COLORS)], width=2.5,
                                           dash="dashdot")))


def _ratio_caption(fig: go.Figure) -> str:
    """How each method scales each pair's frequency."""
    m = fig.layout.meta or {}
    text = ("PI slows every pair by 1/s; NTK leaves fast pairs alone and slows the slowest by s; YaRN and Llama 3.1 "
            "switch between the two by wavelength.")
    if "dynamic" in m and m["dynamic"].get("pairs") == 1:
        text += (" With one rotated pair (r = 2), θ_0 = b⁰ = 1 rad/token at every base: no base change (NTK, "
                 "dynamic NTK) can move it, and b' = b·(…)^(r/(r−2)) is not defined.")
    elif "dynamic" in m:
        d = m["dynamic"]
        text += (f" Dynamic NTK at a running length of {d['seq_len']:,} tokens slows the slowest pair "
                 f"{format_number(d['slowest'], 3)}× (s² − s + 1 = {format_number(d['rule'], 3)} at the target), "
                 f"not s = {m['s']:g}.")
    if "longrope" in m:
        lr = m["longrope"]
        text += (f" LongRoPE divides pair i by its own rescale factor f_i ({lr['source']}; here down to "
                 f"1/{format_number(lr['max'], 3)})"
                 + (", the same for every s." if lr["source"].startswith("the config") else "."))
    return text


@register("ext_ratio", page="Context extension", caption=_ratio_caption)
def ext_ratio(cfg: RopeConfig, *, style: str = "app", factor: float | None = None, seq_len: int | None = None,
              methods=None, compare=()) -> go.Figure:
    """θ'_i/θ_i per pair for each method (``effective_inv_freq`` at the method's evaluation length over the unscaled
    θ_i), log y, with 1 and 1/s lines; ``compare``: other configs' own ratios (``rope_viz.compare.resolve``).
    ``fig.layout.meta``: s, dynamic (seq_len, slowest-pair slow-down, s² − s + 1), longrope (largest factor, source)."""
    ext, chosen = _ext(cfg, factor, seq_len, methods)
    pairs = np.arange(ext.base.n_pairs)
    theta0 = default_inv_freq(ext.base.base, ext.base.rotary_dim)
    fig = go.Figure()
    meta: dict = {"s": ext.factor}
    for m in chosen:
        ratio = ext.theta(m) / theta0
        fig.add_trace(go.Scatter(x=pairs, y=ratio, mode="lines", name=METHOD_LABELS[m],   # lines: markers on every
                                 line=dict(color=METHOD_COLORS[m], width=2)))             # pair cost ~30 ms a redraw
        if m == "dynamic":
            meta["dynamic"] = dict(seq_len=ext.seq_len, slowest=float(1 / ratio[-1]),
                                   rule=ext.factor ** 2 - ext.factor + 1, pairs=int(pairs.size))
        elif m == "longrope":
            meta["longrope"] = dict(max=float(1 / ratio.min()), source=(
                "the config's own searched lists" if ext.longrope_source == "config" else
                "a synthetic ramp 1 → s, not a searched solution"))
    _add_compare(fig, cfg, compare, lambda c: effective_inv_freq(c) / default_inv_freq(c.base, c.rotary_dim))
    for y, label in ((1.0, "1 (unchanged)"), (1 / ext.factor, f"1/s = {1 / ext.factor:.3g}")):
        fig.add_trace(go.Scatter(x=pair_span(pairs[0], pairs[-1]), y=[y, y], mode="lines", name=label,
                                 line=dict(color="#777777", dash="dot", width=1)))
    styled(fig, title=f"Per-pair frequency ratio θ'_i/θ_i ({_subtitle(ext)})", x_title="pair index i",
           y_title="θ'_i / θ_i (ratio)", style=style, log_y=True)
    fig.update_yaxes(**log_ticks_125(fig, "y"))
    fig.update_layout(meta=meta)
    return _legend_below(fig)


@register("ext_wavelengths", page="Context extension",
          caption="Wavelengths after scaling against the original and the target context: pairs that were "
                  "partial-cycle in training should stay beyond the target, the others should keep their turns.")
def ext_wavelengths(cfg: RopeConfig, *, style: str = "app", factor: float | None = None,
                    seq_len: int | None = None, methods=None, compare=()) -> go.Figure:
    """λ'_i = 2π/θ'_i per pair per method (log y) with the original context L0 and the target s·L0 as lines;
    ``compare``: other configs' own wavelengths over their own context (``rope_viz.compare.resolve``)."""
    ext, chosen = _ext(cfg, factor, seq_len, methods)
    pairs = np.arange(ext.base.n_pairs)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=pairs, y=wavelengths(default_inv_freq(ext.base.base, ext.base.rotary_dim)),
                             mode="lines", name=METHOD_LABELS["none"],
                             line=dict(color=METHOD_COLORS["none"], width=3, dash="dash")))
    for m in chosen:
        fig.add_trace(go.Scatter(x=pairs, y=wavelengths(ext.theta(m)), mode="lines", name=METHOD_LABELS[m],
                                 line=dict(color=METHOD_COLORS[m], width=2)))
    _add_compare(fig, cfg, compare, lambda c: wavelengths(effective_inv_freq(c)))
    for y, label, dash in ((ext.original_context, f"original context {ext.original_context:,}", "dot"),
                           (ext.target_context, f"target context {ext.target_context:,}", "solid")):
        fig.add_trace(go.Scatter(x=pair_span(pairs[0], pairs[-1]), y=[y, y], mode="lines", name=label,
                                 line=dict(color="#222222", dash=dash, width=1.5)))
    styled(fig, title=f"Wavelength per pair ({_subtitle(ext)})", x_title="pair index i",
           y_title="wavelength λ'_i = 2π/θ'_i (tokens)", style=style, log_y=True)
    return _legend_below(fig)


def distance_stride(max_distance: int) -> int:
    """Sampling step (tokens) of the score curve: 1 up to MAX_SAMPLES distances, then the smallest k that fits."""
    return max(1, -(-(int(max_distance) + 1) // MAX_SAMPLES))


def score_curves(ext: Extension, chosen, max_distance: int,
                 log_x: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Exact q = k = 1 scores at Δ = 0, k, 2k, … ≤ max_distance (k = ``distance_stride``: 1 up to 65,536
    distances) per method (at its evaluation length) and for the base model, enveloped to DISPLAY_BINS points
    (log-width bins for a log axis, ``figures.distance.display_envelope``): method → (Δ_ds, min, max)."""
    dist = np.arange(0, int(max_distance) + 1, distance_stride(max_distance))
    ones = np.ones(ext.base.head_dim)
    out = {}
    for m in ["none"] + list(chosen):
        c = ext.base if m == "none" else ext.methods[m]
        seq = None if m == "none" else ext.eval_seq_len(m)
        y = D.score_vs_distance(ones, ones, c, dist, seq_len=seq)
        out[m] = display_envelope(dist.astype(np.float64), np.asarray(y).reshape(-1), DISPLAY_BINS, log_x)
    return out


@register("ext_score", page="Context extension",
          caption="Score of q = k = 1 vs distance (min–max band per bin), each method (colour) over the unscaled "
                  "model (grey): scaling stretches the in-context pattern out to the target length.")
def ext_score(cfg: RopeConfig, *, style: str = "app", factor: float | None = None, seq_len: int | None = None,
              methods=None, max_distance: int | None = None, log_x: bool = False) -> go.Figure:
    """Small multiples, one panel per method: score vs relative distance Δ ∈ [0, max_distance] (default 1.25 ×
    target, at least MIN_DISTANCE, at most MAX_DISTANCE: the target is always inside) of the method (colour) over
    the unscaled base model (grey), computed exactly (``score_curves``) and shown as min/max envelopes; dotted line
    at L0, solid line at the target s·L0."""
    ext, chosen = _ext(cfg, factor, seq_len, methods)
    maxd = (int(max_distance) if max_distance is not None else
            min(max(int(1.25 * ext.target_context), MIN_DISTANCE), MAX_DISTANCE))
    if not MIN_DISTANCE <= maxd <= MAX_DISTANCE:
        raise ValueError(f"max_distance must be in [{MIN_DISTANCE}, {MAX_DISTANCE:,}] tokens; got {maxd:,}")
    curves = score_curves(ext, chosen, maxd, log_x)
    ncols = 2 if len(chosen) > 1 else 1
    nrows = max(1, -(-len(chosen) // ncols))
    layout, ref = grid_layout(nrows, ncols, titles=[METHOD_LABELS[m] for m in chosen], shared_x=True,
                              shared_y=True, h_space=0.04, v_space=0.08)
    data: list[dict] = []
    shapes: list[dict] = []
    for j, m in enumerate(chosen):
        xa, ya = ref(j // ncols + 1, j % ncols + 1)
        for key, width in (("none", 0.8), (m, 1.0)):
            x, lo, hi = curves[key]
            c = "#9a9a9a" if key == "none" else METHOD_COLORS[m]
            # the min/max band as one closed polygon (max forwards, min backwards): one trace per curve
            data.append(dict(type="scatter", x=np.concatenate([x, x[::-1]]), y=np.concatenate([hi, lo[::-1]]),
                             mode="lines", line=dict(color=c, width=width), fill="toself", fillcolor=rgba(c, 0.25),
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
        layout[axis_key(ref(r, 1)[1])]["title"] = dict(text="score q·k (unitless)")
    layout["shapes"] = shapes
    fig = go.Figure(data=data, layout=layout)
    k = distance_stride(maxd)
    every = "" if k == 1 else f"; Δ every {k} tokens"
    styled(fig, title=f"Score vs distance beyond the training length (q = k = 1{every})",
           x_title=None, y_title=None, style=style, height=max(220 * nrows, 300) + 170)
    fig.update_layout(hovermode="closest", legend=dict(y=-0.12 if nrows > 1 else -0.3, yanchor="top", x=0.0,
                                                       xanchor="left"), margin=dict(b=140))
    return fig


def attention_factors(ext: Extension, methods=None) -> dict[str, float]:
    """Each method's attention factor (``effective_attention_factor`` at its evaluation length): the multiplier
    on cos and sin, so logits scale by its square. 1 except YaRN (0.1·ln s + 1, Peng et al. 2023) and LongRoPE
    (√(1 + ln s / ln L₀), Ding et al. 2024); dimensionless. ``methods``: a subset of METHODS (default all)."""
    return {m: effective_attention_factor(ext.methods[m], ext.eval_seq_len(m)) for m in chosen_methods(methods)}


FACTORS = (1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0, 128.0)   # the page's choices of s
ATTENTION_S_MAX = max(FACTORS)


def _attention_caption(fig: go.Figure) -> str:
    """Only YaRN and LongRoPE rescale attention as s grows; the other methods leave it at 1."""
    m = fig.layout.meta
    grow = [f"{METHOD_LABELS[k]} ×{v:.3f}" for k, v in m["at_max"].items() if abs(v - 1.0) > 1e-12]
    flat = [METHOD_LABELS[k] for k, v in m["at_max"].items() if abs(v - 1.0) <= 1e-12]
    text = ("Only YaRN and LongRoPE rescale attention (cos and sin are multiplied by this factor, so logits by its "
            "square) to keep the softmax sharp at long range")
    if grow:
        text += f"; at s = {m['s_max']:g}: " + ", ".join(grow)
    if flat:
        text += f"; {', '.join(flat)} stay at 1"
    return text + "."


@register("ext_attention_factor", page="Context extension", caption=_attention_caption)
def ext_attention_factor(cfg: RopeConfig, *, style: str = "app", methods=None, s_max: float | None = None,
                         n_points: int = 57) -> go.Figure:
    """Attention factor of each method (``attention_factors``) against the extension factor s, log-spaced from 1 to
    ``s_max`` (default the page's largest factor, or the config's own if larger). It does not depend on the s chosen
    on the page, so moving s does not redraw it; the page states the values at its s. ``fig.layout.meta``: s_max,
    at_max (method → factor at s_max)."""
    chosen = chosen_methods(methods)
    hi = (max(ATTENTION_S_MAX, default_factor(cfg)) if s_max is None else
          V.real("s_max", s_max, 1.0, float(CONTEXT_MAX), lo_open=True))
    n_points = V.integer("n_points", n_points, 2, 1000)
    s = np.geomspace(1.0, hi, n_points)
    s = s[np.rint(s * cfg.original_context_length) <= CONTEXT_MAX]
    vals = np.array([list(attention_factors(extension_methods(cfg, float(si)), chosen).values()) for si in s])
    vals = vals.reshape(len(s), len(chosen))
    fig = go.Figure()
    ones = [j for j in range(len(chosen)) if np.all(vals[:, j] == 1.0)]    # drawn on one another: one line, one entry
    if ones:
        names = ", ".join(METHOD_LABELS[chosen[j]] for j in ones)
        fig.add_trace(go.Scatter(x=s, y=np.ones_like(s), mode="lines", name=f"{names}: 1 at every s (no rescaling)",
                                 line=dict(color="#555555", width=2, dash="dot"),
                                 hovertemplate="s = %{x:.3g}: 1<extra>" + names + "</extra>"))
    for j, m in enumerate(chosen):
        if j in ones:
            continue
        fig.add_trace(go.Scatter(x=s, y=vals[:, j], mode="lines", name=METHOD_LABELS[m],
                                 line=dict(color=METHOD_COLORS[m], width=2,
                                           dash="solid" if np.ptp(vals[:, j]) > 0 else "dot"),
                                 hovertemplate="s = %{x:.3g}: %{y:.4f}<extra>" + METHOD_LABELS[m] + "</extra>"))
    styled(fig, title="Attention factor per method vs the extension factor s",
           x_title="extension factor s (target / L₀, log scale)",
           y_title="attention factor (multiplies cos, sin; unitless)", style=style, log_x=True)
    top = float(np.nanmax(vals)) if vals.size else 1.0
    fig.update_yaxes(range=[0.95, max(top, 1.0) * 1.05 + 0.02])
    fig.update_layout(hovermode="closest", showlegend=True,
                      meta=dict(s_max=float(s[-1]), at_max={m: float(vals[-1, j]) for j, m in enumerate(chosen)}))
    return _legend_below(fig)
