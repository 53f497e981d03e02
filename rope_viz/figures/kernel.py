"""Figures for the Kernel page: what RoPE costs in time (measured), memory (analytic) and precision.

* ``kernel_timing``: RoPE time vs causal attention (SDPA) time vs sequence length, from
  ``rope_viz.torch_backend.bench`` (the answer to the "3.7 % compute overhead" claim: RoPE is ~0.006 % of the FLOPs,
  so whatever it costs is memory traffic and launches — rope-literature §8);
* ``kernel_memory``: the cos/sin table against the KV cache, one layer and the whole model
  (``rope_viz.analysis.overhead.rope_memory``; the "12.5 % memory" claim);
* ``kernel_phase_error``: the phase error of angles formed in fp32 (and with a bf16 inv_freq) vs float64
  (rope-literature §6c);
* ``kernel_invariance``: relative-position invariance error vs position for fp32 / bf16 / fp16 on the actual device
  (Wang et al. 2024, arXiv:2411.13476; ``rope_viz.torch_backend.precision``).

torch is imported only inside the two figures that measure (timing, invariance): the others work without it.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..analysis.overhead import fp32_phase_error, rope_memory
from ..config import RopeConfig
from . import register
from ._style import PALETTE, styled
from .distance import legend_below

METHOD_LABELS = {
    "copy": "copy q, k (memory floor)",
    "ours": "rope_viz kernel",
    "ours-inplace": "rope_viz kernel, in place",
    "hf-eager": "transformers eager formula",
    "hf-compile": "torch.compile of the HF formula",
    "meta-complex": "Meta complex form",
    "liger": "Liger kernel",
    "sdpa": "causal attention (SDPA)",
}


def _result_dict(result) -> dict:
    """A BenchResult or its JSON form (``dataclasses.asdict``; seq-len keys may have become strings) → plain dict
    with int seq-len keys."""
    if hasattr(result, "ms") and hasattr(result, "seq_lens"):
        from dataclasses import asdict
        result = asdict(result)
    if not isinstance(result, dict) or "ms" not in result or "seq_lens" not in result:
        raise ValueError("result must be a BenchResult (rope_viz.torch_backend.bench.run_benchmark) or its asdict()")
    out = dict(result)
    out["ms"] = {m: {int(s): float(t) for s, t in v.items()} for m, v in result["ms"].items()}
    out["seq_lens"] = [int(s) for s in result["seq_lens"]]
    return out


def _need_torch() -> None:
    """ValueError with a clear message when torch is missing (the measuring figures need it)."""
    import importlib.util
    try:
        ok = importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        ok = False
    if not ok:
        raise ValueError("this figure measures on a device and needs PyTorch (pip install torch==2.13.0)")


def _geom_positions(max_position: int, n: int = 48) -> np.ndarray:
    return np.unique(np.round(np.geomspace(1, max_position, n)).astype(np.int64))


@register("kernel_timing", page="Kernel",
          caption="RoPE on q and k (one layer) next to causal attention at the same shapes; dashed: copying the "
                  "same bytes, the floor for a memory-bound op. RoPE's cost is memory traffic, and its share "
                  "shrinks as attention grows with S².")
def kernel_timing(cfg: RopeConfig, *, style: str = "app", result=None, seq_lens=None) -> go.Figure:
    """RoPE methods, copy and SDPA time (ms, log) vs sequence length (tokens, log). ``result``: a BenchResult (or
    its asdict()); None runs a small benchmark now on the default device (needs torch)."""
    if result is None:
        _need_torch()
        from ..torch_backend.bench import run_benchmark
        result = run_benchmark(seq_lens or None, methods=["copy", "ours", "hf-eager", "sdpa"],
                               head_dim=cfg.head_dim, base=cfg.base)
    res = _result_dict(result)
    where = "CPU numbers" if res.get("device") == "cpu" else res.get("device_name", "GPU")
    fig = go.Figure()
    colors = iter(PALETTE)
    for m, label in METHOD_LABELS.items():
        if m not in res["ms"] or not res["ms"][m]:
            continue
        s = sorted(res["ms"][m])
        y = [res["ms"][m][k] for k in s]
        if m == "copy":
            line = dict(color="#666666", dash="dash", width=2)
        elif m == "sdpa":
            line = dict(color="#000000", width=4)
        else:
            line = dict(color=next(colors), width=2.5)
        fig.add_trace(go.Scatter(x=s, y=y, name=label, mode="lines+markers", line=line,
                                 hovertemplate="S = %{x:,} tokens<br>%{y:.4g} ms<extra>" + label + "</extra>"))
    sh = res.get("shape", {})
    sub = (f"batch {sh.get('batch', 1)}, {sh.get('n_q_heads', '?')} q heads / {sh.get('n_kv_heads', '?')} KV heads, "
           f"d = {sh.get('head_dim', '?')}, {res.get('dtype', '')}") if sh else ""
    styled(fig, title=f"RoPE vs attention time — {where}<br><sup>{sub}</sup>",
           x_title="sequence length S (tokens)", y_title="time per call (ms)", style=style, log_x=True, log_y=True)
    return legend_below(fig)   # up to 7 methods: above the plot they would cover the two-line title


@register("kernel_memory", page="Kernel",
          caption="One layer's cos/sin table is r/(n_kv·d) of that layer's KV cache — 12.5 % for 8 KV heads and "
                  "full rotary — but one table serves every layer, so against the model's KV cache it is "
                  "12.5 %/n_layers. A fused kernel keeps no table.")
def kernel_memory(cfg: RopeConfig, *, style: str = "app", n_layers: int = 32, n_kv_heads: int = 8,
                  seq_len: int | None = None, batch: int = 1, dtype: str = "bfloat16") -> go.Figure:
    """Bytes (log) of each item of ``rope_memory`` as horizontal bars, labelled with the share of one layer's KV
    cache."""
    rows = rope_memory(cfg, seq_len=seq_len, n_layers=n_layers, n_kv_heads=n_kv_heads, batch=batch, dtype=dtype)
    T = seq_len or cfg.context_length
    colors = [PALETTE[0], PALETTE[0], PALETTE[1], PALETTE[3], PALETTE[4], PALETTE[2]]
    fig = go.Figure()
    for row, c in zip(rows, colors):
        mib = row["bytes"] / 2 ** 20
        fig.add_trace(go.Bar(
            y=[row["item"]], x=[max(mib, 1e-6)], orientation="h", name=row["item"], marker_color=c,
            text=[f"{mib:,.3g} MiB · {row['pct_layer_kv']:.3g} % of a layer's KV · "
                  f"{row['pct_model_kv']:.3g} % of the model's KV" if row["bytes"] else "0 bytes"],
            textposition="auto",
            hovertemplate="%{y}<br>%{x:,.4g} MiB<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    styled(fig, title=f"Memory: cos/sin table vs KV cache — T = {T:,} tokens, {n_layers} layers, "
                      f"{n_kv_heads} KV heads × d = {cfg.head_dim}, r = {cfg.rotary_dim}, {dtype}",
           x_title="memory (MiB, log scale)", y_title="stored item (one bar each)", style=style, log_x=True)
    return legend_below(fig)   # six long item names: above the plot they would cover the title


@register("kernel_phase_error", page="Kernel",
          caption="Angles m·θ formed in fp32 (as transformers does) drift from float64 in proportion to the "
                  "position: ~1e-4 rad at 4K, ~4e-3 rad at 128K (base 1e4). An inv_freq kept in bf16 scrambles "
                  "the phase within a few thousand tokens.")
def kernel_phase_error(cfg: RopeConfig, *, style: str = "app", max_position: int | None = None) -> go.Figure:
    """max over pairs |φ_fp32 − φ_float64| (rad, log) vs position m (tokens, log), for fp32 and bf16 inv_freq."""
    top = int(max_position or max(cfg.context_length, 1 << 20))
    top = min(max(top, 2), 1 << 24)
    pos = _geom_positions(top, 96)
    fig = go.Figure()
    for name, dt, c in (("inv_freq fp32 (transformers)", "float32", PALETTE[0]),
                        ("inv_freq fp16", "float16", PALETTE[2]),
                        ("inv_freq bf16 (the #29496 bug)", "bfloat16", PALETTE[1])):
        err = fp32_phase_error(cfg, pos, inv_freq_dtype=dt)
        fig.add_trace(go.Scatter(x=pos, y=np.maximum(err, 1e-12), name=name, mode="lines", line=dict(color=c),
                                 hovertemplate="m = %{x:,}<br>%{y:.3g} rad<extra>" + name + "</extra>"))
    fig.add_hline(y=np.pi, line=dict(color="#888888", dash="dot"), annotation_text="π: phase lost",
                  annotation_position="top left")
    fig.add_vline(x=cfg.context_length, line=dict(color="#888888", dash="dash"),
                  annotation_text="context length", annotation_position="bottom right")
    return styled(fig, title=f"Phase error of fp32 angles vs float64 — {cfg.label()}",
                  x_title="position m (tokens)", y_title="max phase error over pairs (rad)", style=style,
                  log_x=True, log_y=True)


@register("kernel_invariance", page="Kernel",
          caption="A query/key pair Δ tokens apart should score the same at every position; in low precision it "
                  "does not. bf16 RoPE (transformers' eager path) errs ~100× more than fp32, more so at long "
                  "positions (Wang et al. 2024).")
def kernel_invariance(cfg: RopeConfig, *, style: str = "app", max_position: int | None = None, distance: int = 16,
                      n_samples: int = 128, device: str | None = None) -> go.Figure:
    """Mean |logit(m) − exact| (logit units q·k/√d, log) vs start position m (tokens, log) per precision, measured
    on ``device`` (default: CUDA when available, else CPU). Needs torch."""
    _need_torch()
    from ..torch_backend import default_device, device_name
    from ..torch_backend.precision import VARIANTS, invariance_error

    top = int(max_position or max(cfg.context_length, 1 << 17))
    top = min(max(top, 2), (1 << 24) - distance)
    pos = np.concatenate([[0], _geom_positions(top, 24)])
    res = invariance_error(cfg, pos, distance=distance, n_samples=n_samples, device=device)
    fig = go.Figure()
    for v, c in zip(VARIANTS, (PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[3])):
        x = np.maximum(res["positions"], 0.5)        # m = 0 shown at 0.5 on the log axis
        fig.add_trace(go.Scatter(x=x, y=np.maximum(res[v], 1e-12), name=v, mode="lines+markers",
                                 line=dict(color=c, dash="dot" if "math" in v else "solid"),
                                 hovertemplate="m = %{x:,}<br>%{y:.3g}<extra>" + v + "</extra>"))
    dev = device_name(device or default_device())
    return styled(fig, title=f"Relative-position invariance error vs position — Δ = {distance}, {dev}",
                  x_title="start position m (tokens)", y_title="mean |logit − exact| (logit units, q·k/√d)",
                  style=style, log_x=True, log_y=True)
