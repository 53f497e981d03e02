"""Real-model figures: q/k pair magnitudes per layer × pair with massive pairs and the core's predicted boundaries,
attention vs distance beside reference curves, the attention sink, perplexity vs position.

Every function takes the model's main RopeConfig (``cfg``) and a measured result (``result``: the dict from
``rope_viz.models.inspect`` / a {label: ``perplexity`` result} mapping); without ``result`` it measures the bundled
model on the default text (cached on disk), so ``python -m rope_viz export NAME`` works too. Massive pairs: Jin et
al. 2025, arXiv:2502.01563; partial-cycle pairs: Jonasson 2025, arXiv:2503.01832.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import plotly.graph_objects as go

from ..config import RopeConfig
from ..models.analysis import LAMBDA_DEFAULT, massive_pairs, pair_ratio, predicted_boundaries
from . import register
from ._style import PALETTE, format_number, format_percent, log_ticks_125, styled
from .distance import legend_below

PAGE = "Real model"
TYPE_LABELS = {"full_attention": "global layers", "sliding_attention": "sliding-window layers"}
_LAYER_KIND = {"full_attention": "global attention", "sliding_attention": "sliding window"}


def _layer_kind(layer_type: str) -> str:
    """One layer's attention type as a legend reads it ("global attention", not the config's "full_attention")."""
    return _LAYER_KIND.get(layer_type, str(layer_type).replace("_", " "))


def _inspect_default(result):
    if result is not None:
        return result
    from ..models import inspect

    return inspect()


def _ppl_default(runs):
    if runs is not None:
        return runs
    from ..models import perplexity

    return {"as trained": perplexity(tokens=2048, bucket=256)}


def boundaries_by_type(result: Mapping) -> list[dict]:
    """Per layer type of a measured model: its layers, window / context, and ``predicted_boundaries``."""
    from ..models.api import rope_of

    rope = rope_of(result)
    types = list(result["layer_types"])
    out = []
    for t, cfg in rope.items():
        ctx = result["rope"][t]["window"] or cfg.context_length
        layers = [i for i, lt in enumerate(types) if lt == t]
        out.append({"type": t, "layers": layers, "context": int(ctx), **predicted_boundaries(cfg, int(ctx))})
    return out


def _caption_heatmap(fig: go.Figure) -> str:
    """Which rotary pairs carry massive q / k norms (over the head's median), beside the predicted boundaries."""
    m = fig.layout.meta or {}
    n_past, n_bounded, n_heads = m.get("n_past", 0), m.get("n_bounded", 0), m.get("n_heads", 0)
    if n_bounded:                       # counts, not a rounded share: 269 of 270 is not "100%"
        where = (f"the top pair of {n_past:,} of the {n_bounded:,} heads"
                 + ("" if n_bounded == n_heads else " in layers with a predicted boundary")
                 + " is at or past the predicted partial-cycle boundary.")
    else:
        where = "every pair completes a turn within the context, so no partial-cycle boundary is predicted."
    return (f"{m.get('which', 'q')} pair norm over its head's median: {m.get('n_massive', 0)} of {n_heads} "
            f"heads (all layers) have a massive pair (> {m.get('lam', LAMBDA_DEFAULT):g}×); {where}"
            + (" Colours average the heads; a ✖ marks a pair massive in at least one of them." if m.get("mean_view")
               else ""))


@register("model_pair_heatmap", page=PAGE, caption=_caption_heatmap)
def pair_heatmap(cfg: RopeConfig | None = None, *, style: str = "app", result: Mapping | None = None,
                 which: str = "q", head: int | None = None, lam: float = LAMBDA_DEFAULT, source: str = "activations"):
    """Layer × pair heatmap of a pair's mean norm over its head's median (heads aggregated by their mean ratio, or one
    head), massive pairs (ratio > lam) marked, and the core's boundaries (first partial-cycle pair, first one-sign
    pair over each layer type's context) as vertical segments. which: "q" or "k"; source: "activations" (as q/k
    enter attention) or "weights" (W_q / W_k rows)."""
    r = _inspect_default(result)
    if which not in ("q", "k"):
        raise ValueError(f"which must be 'q' or 'k'; got {which!r}")
    if source not in ("activations", "weights"):
        raise ValueError(f"source must be 'activations' or 'weights'; got {source!r}")
    norms = np.asarray(r[f"{which}_pair_norm" if source == "activations" else f"{which}_weight"])   # (L, H, p)
    n_layers, n_heads, p = norms.shape
    ratio = pair_ratio(norms)
    if head is None:                  # colours: the mean over heads; marks: massive in at least one head
        z = ratio.mean(axis=1)
        per_head = massive_pairs(norms, lam)                                       # (L, H, p)
        flag, count, peak = per_head.any(axis=1), per_head.sum(axis=1), ratio.max(axis=1)
        who = f"mean over {n_heads} heads"
        mark = f"massive in ≥ 1 of the {n_heads} heads (> {lam:g}× that head's median)"
    else:
        if not 0 <= int(head) < n_heads:
            raise ValueError(f"head must be in [0, {n_heads - 1}]; got {head}")
        z = ratio[:, int(head)]
        flag = massive_pairs(norms[:, int(head)], lam)
        count, peak = flag.astype(int), z
        who = f"head {int(head)}"
        mark = f"massive pair (> {lam:g}× the head's median)"
    fig = go.Figure()
    fig.add_trace(go.Heatmap(z=z, x=np.arange(p), y=np.arange(n_layers), colorscale="Viridis", name="norm / median",
                             colorbar=dict(title="× median"), showlegend=False,
                             hovertemplate="layer %{y}, pair %{x}: %{z:.2f}× the head median<extra></extra>"))
    ly, px = np.nonzero(flag)
    fig.add_trace(go.Scatter(x=px, y=ly, mode="markers", name=mark,
                             marker=dict(symbol="x", size=7, color="#D55E00", line=dict(width=1)),
                             customdata=np.stack([count[ly, px], peak[ly, px]], axis=1).reshape(-1, 2),
                             hovertemplate="layer %{y}, pair %{x}: massive in %{customdata[0]} head(s), up to "
                                           "%{customdata[1]:.1f}× the head median<extra></extra>"))
    bounds = boundaries_by_type(r)
    past = []
    top = ratio.argmax(axis=-1)                                                      # (L, H)
    for k, b in enumerate(bounds):
        lay = np.array(b["layers"])
        name = TYPE_LABELS.get(b["type"], b["type"])
        for key, label, dash in (("partial_cycle_from", "first partial-cycle pair", "dash"),
                                 ("one_sign_from", "first one-sign pair", "dot")):
            x0 = b[key]
            if x0 is None:
                continue
            xs, ys = [], []
            for layer in lay:
                xs += [x0 - 0.5, x0 - 0.5, None]
                ys += [layer - 0.5, layer + 0.5, None]
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=PALETTE[k + 4 if key == "one_sign_from"
                                                                                     else k], dash=dash, width=2),
                                     name=f"{label} {x0} ({name}, L = {b['context']:,})"))
        if b["partial_cycle_from"] is not None:
            past.append(top[lay] >= b["partial_cycle_from"])
    past_all = np.concatenate([a.ravel() for a in past]) if past else np.zeros(0, dtype=bool)
    past_share = float(past_all.mean()) if past_all.size else 0.0
    src = f"{r['tokens']:,} tokens" if source == "activations" else f"W_{which} rows"
    styled(fig, title=f"{r['model']}: {which} pair norm ÷ head median ({who}, {src})",
           x_title="rotary pair i (0 = fastest)", y_title="layer", style=style, height=520)
    legend_below(fig)
    fig.update_layout(hovermode="closest", meta={"which": which, "lam": float(lam),
                                                 "n_massive": int(massive_pairs(norms, lam).any(-1).sum()),
                                                 "n_heads": int(n_layers * n_heads), "past_boundary": past_share,
                                                 "n_past": int(past_all.sum()), "n_bounded": int(past_all.size),
                                                 "mean_view": head is None})
    return fig


def _uniform_weight(n: int) -> np.ndarray:
    """Mean attention weight at distance Δ if every query m spread its attention evenly over keys 0 … m:
    mean over m = Δ … n − 1 of 1/(m + 1). Shape (n,)."""
    inv = 1.0 / np.arange(1, n + 1)
    tail = np.cumsum(inv[::-1])[::-1]                                               # Σ_{m ≥ Δ} 1/(m+1)
    return tail / np.arange(n, 0, -1)


def _caption_distance(fig: go.Figure) -> str:
    """How much attention (or the logit) falls from Δ = 1 to far distances on a real text, per layer."""
    m = fig.layout.meta or {}
    if m.get("quantity") == "logit":
        drop = format_number(m.get('drop', 0), 2, signed=True)
        return (f"Mean pre-softmax logit by distance: it changes by {drop} from Δ = 1 to Δ = "
                f"{m.get('probe', 0):,} (mean over the layers shown); the all-ones RoPE curve is a shape reference.")
    ratio = format_number(m.get('ratio', float('nan')), 2)
    text = (f"At Δ = {m.get('probe', 0):,} the measured attention weight is {ratio}× what "
            f"uniform attention over the prefix would give (mean over the layers shown): attention is not uniform "
            f"in distance.")
    tail = m.get("tail")
    if tail is not None and tail > 1.5:
        text += (f" The rise towards Δ = {m['last']:,} is the attention sink, not RoPE: that far back the only keys "
                 f"are the first tokens, which draw {format_number(tail, 3)}× the weight at Δ = {m['probe']:,}.")
    return text


@register("model_attention_distance", page=PAGE, caption=_caption_distance)
def attention_distance(cfg: RopeConfig | None = None, *, style: str = "app", result: Mapping | None = None,
                       layers: list | None = None, head: int | None = None, quantity: str = "weight"):
    """Measured attention vs distance Δ ≥ 1 for chosen layers (heads averaged, or one head): ``quantity`` "weight"
    (mean attention weight, log axes, with the uniform-attention reference) or "logit" (mean pre-softmax logit, with
    the RoPE score of all-ones q = k scaled to the measured mean at Δ = 1, rope_viz.score_vs_distance)."""
    from ..analysis.distance import score_vs_distance
    from ..models.api import rope_of

    r = _inspect_default(result)
    if "weight_by_distance" not in r:
        raise ValueError("this result has no attention-vs-distance statistics (run inspect with distance=True)")
    if quantity not in ("weight", "logit"):
        raise ValueError(f"quantity must be 'weight' or 'logit'; got {quantity!r}")
    arr = np.asarray(r["weight_by_distance" if quantity == "weight" else "logit_by_distance"])   # (L, H, n)
    n_layers, n_heads, n = arr.shape
    layers = list(range(0, n_layers, max(1, n_layers // 5))) if not layers else [int(x) for x in layers]
    if any(not 0 <= x < n_layers for x in layers):
        raise ValueError(f"layers must be in [0, {n_layers - 1}]; got {layers}")
    if head is not None and not 0 <= int(head) < n_heads:
        raise ValueError(f"head must be in [0, {n_heads - 1}]; got {head}")
    count = np.asarray(r["count_by_distance"])
    d = np.arange(1, n)
    fig = go.Figure()
    curves = []
    for j, layer in enumerate(layers):
        y = arr[layer, :, 1:].mean(axis=0) if head is None else arr[layer, int(head), 1:]
        y = np.where(count[layer, 1:] > 0, y, np.nan)
        curves.append(y)
        kind = _layer_kind(r["layer_types"][layer])
        fig.add_trace(go.Scatter(x=d, y=y, mode="lines", name=f"layer {layer} ({kind})",
                                 line=dict(color=PALETTE[j % len(PALETTE)], width=1.5)))
    mean_curve = np.nanmean(np.array(curves), axis=0)
    probe = min(n - 1, 256)
    if quantity == "weight":
        ref = _uniform_weight(n)[1:]
        fig.add_trace(go.Scatter(x=d, y=ref, mode="lines", name="uniform attention over the prefix (reference)",
                                 line=dict(color="black", dash="dash")))
        ratio = float(mean_curve[probe - 1] / ref[probe - 1])
        far = mean_curve[-max(1, (n - 1) // 50):]                  # the farthest 2 % of distances: keys near 0
        tail = float(np.nanmean(far) / mean_curve[probe - 1]) if np.isfinite(far).any() else None
        y_title, log_y = "mean attention weight", True
    else:
        cfg_main = rope_of(r)[r["main_type"]]
        ones = np.ones(cfg_main.head_dim)
        shape = score_vs_distance(ones, ones, cfg_main, d)
        fig.add_trace(go.Scatter(x=d, y=shape / cfg_main.head_dim, mode="lines", yaxis="y2",
                                 name="RoPE score of all-ones q = k ÷ d (right axis)",
                                 line=dict(color="black", dash="dash")))
        fig.update_layout(yaxis2=dict(title="all-ones score ÷ head dim", overlaying="y", side="right",
                                      showgrid=False))
        ratio = float(mean_curve[probe - 1] - mean_curve[0])
        tail = None
        y_title, log_y = "mean pre-softmax logit (scaled q·k)", False
    who = "mean over heads" if head is None else f"head {int(head)}"
    styled(fig, title=f"{r['model']}: attention vs distance ({who}, {r['tokens']:,} tokens)",
           x_title="query − key distance Δ (tokens)", y_title=y_title, style=style, log_x=True, log_y=log_y)
    fig.update_xaxes(**log_ticks_125(fig, "x"))      # 1-2-5 ticks: every minor tick labelled read "708090100"
    legend_below(fig)
    fig.update_layout(meta={"probe": int(probe), "quantity": quantity, "ratio": ratio, "drop": ratio,
                            "tail": tail, "last": int(n - 1)})
    return fig


def _caption_sink(fig: go.Figure) -> str:
    """Share of attention on the first token (the sink) per layer, against uniform attention."""
    m = fig.layout.meta or {}
    return (f"Share of attention on the first token (the sink): {format_percent(m.get('mean', 0))} on average, "
            f"above 50% in {m.get('over_half', 0)} of {m.get('layers', 0)} layers (uniform attention would give "
            f"{format_percent(m.get('uniform', 0))}).")


@register("model_sink", page=PAGE, caption=_caption_sink)
def sink(cfg: RopeConfig | None = None, *, style: str = "app", result: Mapping | None = None):
    """Per layer: mean attention weight on token 0 over queries 1 … L − 1 (mean over heads, with the heads' min and
    max), against the uniform-attention value mean_m 1/(m + 1)."""
    r = _inspect_default(result)
    if "sink_share" not in r:
        raise ValueError("this result has no attention statistics (run inspect with distance=True)")
    s = np.asarray(r["sink_share"])                                                 # (L, H)
    layers = np.arange(s.shape[0])
    n = int(r["tokens"])
    uniform = float(np.mean(1.0 / np.arange(2, n + 1)))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=layers, y=s.max(axis=1), mode="lines", line=dict(width=0), showlegend=False,
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=layers, y=s.min(axis=1), mode="lines", line=dict(width=0), fill="tonexty",
                             fillcolor="rgba(0,114,178,0.2)", name="heads: min … max"))
    fig.add_trace(go.Scatter(x=layers, y=s.mean(axis=1), mode="lines+markers", name="mean over heads",
                             line=dict(color=PALETTE[0])))
    fig.add_trace(go.Scatter(x=[0, layers[-1]], y=[uniform, uniform], mode="lines", name="uniform attention",
                             line=dict(color="black", dash="dash")))
    styled(fig, title=f"{r['model']}: attention on the first token ({n:,} tokens)", x_title="layer",
           y_title="share of attention on token 0", style=style)
    fig.update_layout(meta={"mean": float(s.mean()), "over_half": int((s.mean(axis=1) > 0.5).sum()),
                            "layers": int(s.shape[0]), "uniform": uniform})
    return fig


def _caption_ppl(fig: go.Figure) -> str:
    """Perplexity per position bucket for each RoPE setting, the training length marked (dotted) when the runs
    reach it."""
    m = fig.layout.meta or {}
    if m.get("max_end", 0) <= m.get("train", 0):
        return (f"Perplexity per position bucket, all inside the training length ({m.get('train', 0):,} tokens; "
                f"measured up to {m.get('max_end', 0):,}): choose a longer run to see what happens beyond it.")
    return (f"Perplexity per position bucket; the dotted line marks the training length ({m.get('train', 0):,} "
            f"tokens). Beyond it, worst: {m.get('worst', '—')}; best: {m.get('best', '—')}.")


@register("model_ppl_position", page=PAGE, caption=_caption_ppl)
def ppl_position(cfg: RopeConfig | None = None, *, style: str = "app", runs: Mapping[str, Mapping] | None = None):
    """Perplexity (exp of the mean NLL) per position bucket for each run (label → ``perplexity`` result), log y, with
    the training length marked."""
    runs = _ppl_default(runs)
    if not runs:
        raise ValueError("runs must hold at least one perplexity result")
    fig = go.Figure()
    train = int(next(iter(runs.values()))["context_length"])
    beyond = {}
    for j, (label, res) in enumerate(runs.items()):
        b = res["buckets"]
        x = [(q["start"] + q["end"]) / 2 for q in b]
        y = [q["ppl"] for q in b]
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=label, line=dict(color=PALETTE[j % len(PALETTE)]),
                                 customdata=[[q["start"], q["end"]] for q in b],
                                 hovertemplate="tokens %{customdata[0]:,}–%{customdata[1]:,}: perplexity %{y:.1f}"
                                               "<extra>" + label + "</extra>"))
        far = [q["nll"] for q in b if q["start"] >= train]
        if far:
            beyond[label] = float(np.exp(np.mean(far)))
    max_end = max(q["end"] for res in runs.values() for q in res["buckets"])
    if max_end >= train / 2:
        fig.add_vline(x=train, line=dict(color="black", dash="dot"), annotation_text=f"training length {train:,}",
                      annotation_position="top left")
    styled(fig, title=f"{next(iter(runs.values()))['model']}: perplexity vs position",
           x_title="token position (bucket centre)", y_title="perplexity", style=style, log_y=True)
    legend_below(fig)
    worst = max(beyond, key=beyond.get) if beyond else None
    best = min(beyond, key=beyond.get) if beyond else None
    fig.update_layout(hovermode="closest", meta={
        "train": train, "max_end": int(max_end),
        "worst": f"{worst} ({beyond[worst]:,.1f})" if worst else "no bucket beyond it",
        "best": f"{best} ({beyond[best]:,.1f})" if best else "no bucket beyond it"})
    return fig
