"""Figures for the Kernel page: what RoPE costs in time (measured), memory (analytic) and precision.

* ``kernel_timing``: RoPE time vs causal attention (SDPA) time vs sequence length, from
  ``rope_viz.torch_backend.bench`` (the answer to the "3.7 % compute overhead" claim: RoPE's share of a layer's FLOPs,
  ``rope_viz.analysis.overhead``, is tiny, so whatever it costs is memory traffic and launches);
* ``kernel_memory``: the cos/sin table against the KV cache, one layer and the whole model
  (``rope_viz.analysis.overhead.rope_memory``; the "12.5 % memory" claim);
* ``kernel_phase_error``: the phase error of angles formed in fp32 (and with a bf16 inv_freq) vs float64;
* ``kernel_invariance``: relative-position invariance error vs position for fp32 / bf16 / fp16 on the actual device
  (Wang et al. 2024, arXiv:2411.13476; ``rope_viz.torch_backend.precision``).

torch is imported only inside the two figures that measure (timing, invariance): the others work without it.
Captions that state numbers are functions of the figure: the figure stores the numbers in ``fig.layout.meta``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..analysis.overhead import fp32_phase_error, rope_flops_share, rope_memory
from ..config import RopeConfig
from . import register
from ._style import PALETTE, format_count, format_number, styled
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


def method_label(method: str, result) -> str:
    """The display label of benchmark ``method`` for ``result`` (a BenchResult or its dict): the rope_viz kernel
    is the fused Triton kernel only on CUDA with triton; elsewhere it says it ran its eager torch fallback (the run's
    notes say so), so a slow "rope_viz kernel" on CPU is not read as the kernel's speed."""
    label = METHOD_LABELS.get(method, method)
    notes = getattr(result, "notes", None) if not isinstance(result, dict) else result.get("notes")
    if method.startswith("ours") and any("eager torch" in n for n in notes or ()):
        label += " (eager fallback)"
    return label


def _result_dict(result) -> dict:
    """A BenchResult or its JSON form (``dataclasses.asdict``; seq-len keys may have become strings) → plain dict
    with int seq-len keys (ms: medians; timings: method → S → dict of min, median, p25, p75, n, when measured)."""
    if hasattr(result, "ms") and hasattr(result, "seq_lens"):
        from dataclasses import asdict
        result = asdict(result)
    if not isinstance(result, dict) or "ms" not in result or "seq_lens" not in result:
        raise ValueError("result must be a BenchResult (rope_viz.torch_backend.bench.run_benchmark) or its asdict()")
    out = dict(result)
    out["ms"] = {m: {int(s): float(t) for s, t in v.items()} for m, v in result["ms"].items()}
    out["timings"] = {m: {int(s): dict(t) for s, t in v.items()} for m, v in (result.get("timings") or {}).items()}
    out["seq_lens"] = [int(s) for s in result["seq_lens"]]
    return out


def timing_table(result) -> list[dict]:
    """The Kernel page's benchmark table: one row per (S, method) of ``BenchResult.rows`` with display labels and
    strings ("—" where a column does not apply, never None): S, method, median ms, min ms, spread, × copy, % of
    attention, and a "check" column that flags a noisy measurement. Needs torch (it reads a BenchResult)."""
    _need_torch()
    from ..torch_backend.bench import BenchResult

    br = result if hasattr(result, "rows") else BenchResult.from_dict(result)

    def fmt(v, digits: int = 3) -> str:          # the app's one number notation: 8,260 / 0.0411, never 8.26e+03
        return "—" if v is None else format_number(v, digits)
    return [{"S (tokens)": r["seq_len"], "method": method_label(r["method"], br),
             "median ms": fmt(r["ms"], 4), "min ms": fmt(r["min_ms"], 4),
             "spread": "—" if r["spread"] is None else fmt(100 * r["spread"], 2) + " %",
             "× copy": fmt(r["x_copy"]), "% of attention": fmt(r["pct_sdpa"]),
             "check": "noisy: rerun" if r["noisy"] else "ok"} for r in br.rows()]


LLAMA3_8B = dict(hidden_size=4096, n_heads=32, n_kv_heads=8, head_dim=128, intermediate_size=14336)  # its config.json


def flops_statement(seq_lens=(1, 8192, 131072)) -> str:
    """One sentence for the Kernel page: RoPE's share of one decoder layer's FLOPs with Llama-3-8B's shapes
    (``overhead.rope_flops_share``, Kaplan et al.'s counting) at each sequence length in ``seq_lens``."""
    shares = [(T, 100 * rope_flops_share(seq_len=T, **LLAMA3_8B)) for T in seq_lens]
    parts = [f"{format_number(pct, 2)} % at {format_count(T, 'token')}" for T, pct in shares]
    listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return (f"With Llama-3-8B's shapes, rotating q and k is {listed} of one decoder layer's FLOPs (the rest: the "
            "projections, the MLP, and attention, which grows with the square of the sequence).")


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


def _timing_caption(fig: go.Figure) -> str:
    """RoPE next to causal attention at the same shapes; dashed: copying the same bytes (the memory floor)."""
    meta = fig.layout.meta or {}
    text = ("RoPE on q and k (one layer) next to causal attention at the same shapes; dashed: copying the same "
            "bytes, the floor for a memory-bound op; bars: middle half of the repeated timings.")
    share = meta.get("share")
    if share:
        lo, hi = share["first"], share["last"]
        text += (f" {share['label']} takes {format_share(lo[1], 'attention’s time')} at S = {lo[0]:,} and "
                 f"{format_share(hi[1])} at S = {hi[0]:,}"
                 + (": its share shrinks, as expected — RoPE's work grows with S, attention's with S²."
                    if hi[1] < lo[1] else
                    ": its share did not shrink here, although RoPE's work grows with S and attention's with S² — "
                    "at these sizes fixed per-call costs (or a busy machine) weigh more than the work."))
    if meta.get("noisy"):
        text += f" {meta['noisy']} measurement(s) stayed noisy (open markers): rerun on a quiet machine."
    return text


@register("kernel_timing", page="Kernel", caption=_timing_caption)
def kernel_timing(cfg: RopeConfig, *, style: str = "app", result=None, seq_lens=None) -> go.Figure:
    """RoPE methods, copy and SDPA median time (ms, log) vs sequence length (tokens, log), with the interquartile
    range of the repeated timings as error bars and open markers where a measurement is noisy
    (``BenchResult.noisy``). ``result``: a BenchResult (or its asdict()); None runs a small benchmark now on the
    default device (needs torch). ``fig.layout.meta``: share (the first RoPE method's % of attention at the
    smallest and largest S) and noisy (count)."""
    if result is None:
        _need_torch()
        from ..torch_backend.bench import run_benchmark
        result = run_benchmark(seq_lens or None, methods=["copy", "ours", "hf-eager", "sdpa"],
                               head_dim=cfg.head_dim, base=cfg.base)
    res = _result_dict(result)
    where = "CPU numbers" if res.get("device") == "cpu" else res.get("device_name", "GPU")
    noisy = _noisy_points(result)
    fig = go.Figure()
    colors = iter(PALETTE)
    for m in METHOD_LABELS:
        if m not in res["ms"] or not res["ms"][m]:
            continue
        label = method_label(m, res)
        s = sorted(res["ms"][m])
        y = [res["ms"][m][k] for k in s]
        t = res["timings"].get(m, {})
        err = dict(type="data", symmetric=False, thickness=1, width=3,
                   array=[t[k]["p75"] - res["ms"][m][k] if k in t else 0.0 for k in s],
                   arrayminus=[res["ms"][m][k] - t[k]["p25"] if k in t else 0.0 for k in s]) if t else None
        if m == "copy":
            line = dict(color="#666666", dash="dash", width=2)
        elif m == "sdpa":
            line = dict(color="#000000", width=4)
        else:
            line = dict(color=next(colors), width=2.5)
        symbols = ["circle-open" if (m, k) in noisy else "circle" for k in s]
        fig.add_trace(go.Scatter(x=s, y=y, name=label, mode="lines+markers", line=line, error_y=err,
                                 marker=dict(symbol=symbols, size=[11 if sym == "circle-open" else 7
                                                                   for sym in symbols]),
                                 hovertemplate="S = %{x:,} tokens<br>median %{y:.4g} ms<extra>" + label + "</extra>"))
    sh = res.get("shape", {})
    sub = (f"batch {sh.get('batch', 1)}, {sh.get('n_q_heads', '?')} q heads / {sh.get('n_kv_heads', '?')} KV heads, "
           f"d = {sh.get('head_dim', '?')}, {res.get('dtype', '')}; median of repeated runs") if sh else ""
    styled(fig, title=f"RoPE vs attention time — {where}<br><sup>{sub}</sup>",
           x_title="sequence length S (tokens)", y_title="time per call (ms)", style=style, log_x=True, log_y=True)
    fig.update_layout(meta=dict(share=_share_meta(res), noisy=len(noisy)))
    return legend_below(fig)   # up to 7 methods: above the plot they would cover the two-line title


def _noisy_points(result) -> set:
    """(method, S) of the measurements ``BenchResult.noisy`` flags (empty without torch or timings)."""
    try:
        from ..torch_backend.bench import BenchResult
    except ImportError:
        return set()
    br = result if hasattr(result, "rows") else BenchResult.from_dict(result)
    return {(r["method"], r["seq_len"]) for r in br.rows() if r["noisy"]}


def _share_meta(res: dict) -> dict | None:
    """The first measured RoPE method's median time as % of attention's, at the smallest and largest S where both
    were measured (None when fewer than two such S)."""
    sd = res["ms"].get("sdpa", {})
    for m in ("ours", "hf-eager", "hf-compile", "meta-complex", "liger", "ours-inplace"):
        both = sorted(set(res["ms"].get(m, {})) & set(sd))
        if len(both) >= 2:
            pct = [(S, 100.0 * res["ms"][m][S] / sd[S]) for S in (both[0], both[-1])]
            return dict(label=method_label(m, res), first=pct[0], last=pct[1])
    return None


_UNITS = (("bytes", 1), ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("PiB", 1 << 50),
          ("EiB", 1 << 60))


def _unit(nbytes: float) -> tuple[str, int]:
    """The largest binary unit in which ``nbytes`` is at least 1 (bytes below 1 KiB)."""
    name, size = _UNITS[0]
    for n, sz in _UNITS:
        if nbytes >= sz:
            name, size = n, sz
    return name, size


def format_bytes(nbytes: float) -> str:
    """"0 bytes", "512 bytes", "1.5 KiB", "16 GiB": three significant digits in the largest unit that fits."""
    if nbytes == 0:
        return "0 bytes"
    name, size = _unit(nbytes)
    return f"{format_number(nbytes / size, 3)} {name}"


def format_share(pct: float, of: str = "") -> str:
    """A share given in percent of ``of``: "12.5 % of X" up to 100 %, "32× X" above (what reads better); without
    ``of`` just "12.5 %" / "32×". The one rule for shares: chart labels, caption and table use it."""
    if pct <= 100:
        return f"{format_number(pct, 3)} %" + (f" of {of}" if of else "")
    return f"{format_number(pct / 100, 3)}×" + (f" {of}" if of else "")


def memory_table(cfg: RopeConfig, **kw) -> list[dict]:
    """The Kernel page's memory table: ``rope_memory(cfg, **kw)`` rows with the size in a readable unit and both
    shares as the chart writes them (``format_share``: "12.5 %", "32×")."""
    return [{"item": r["item"], "size": format_bytes(r["bytes"]), "share of one layer's KV": format_share(
             r["pct_layer_kv"]), "share of the model's KV": format_share(r["pct_model_kv"])}
            for r in rope_memory(cfg, **kw)]


def _memory_caption(fig: go.Figure) -> str:
    """One layer's cos/sin table over that layer's KV cache is r/(n_kv·d); one table serves every layer."""
    m = fig.layout.meta or {}
    if not m:
        return _memory_caption.__doc__
    return (f"One layer's cos/sin table is r/(n_kv·d) = {m['r']}/({m['n_kv']}·{m['d']}) = "
            f"{format_share(m['pct_layer'], 'that layer’s KV cache')}, but one table serves all {m['n_layers']} "
            f"layers: {format_share(m['pct_model'], 'the model’s KV cache')}. A fused kernel keeps no table.")


@register("kernel_memory", page="Kernel", caption=_memory_caption)
def kernel_memory(cfg: RopeConfig, *, style: str = "app", n_layers: int = 32, n_kv_heads: int = 8,
                  seq_len: int | None = None, batch: int = 1, dtype: str = "bfloat16") -> go.Figure:
    """Size (log, in the binary unit of the largest item) of each item of ``rope_memory`` as horizontal bars,
    labelled with the shares of one layer's and the model's KV cache (× from 100 % up); a 0-byte item is labelled,
    not drawn. ``fig.layout.meta``: r, n_kv, d, n_layers and the shared table's pct_layer / pct_model."""
    rows = rope_memory(cfg, seq_len=seq_len, n_layers=n_layers, n_kv_heads=n_kv_heads, batch=batch, dtype=dtype)
    T = seq_len or cfg.context_length
    unit, size = _unit(max(r["bytes"] for r in rows))
    colors = [PALETTE[0], PALETTE[5], PALETTE[1], PALETTE[3], PALETTE[4], PALETTE[2]]   # KV: dark / light blue
    fig = go.Figure()
    for row, c in zip(rows, colors):
        v = row["bytes"] / size
        fig.add_trace(go.Bar(
            y=[row["item"]], x=[v if row["bytes"] else None], orientation="h", name=row["item"], marker_color=c,
            text=[f"{format_bytes(row['bytes'])} · {format_share(row['pct_layer_kv'], 'a layer’s KV')} · "
                  f"{format_share(row['pct_model_kv'], 'the model’s KV')}" if row["bytes"] else ""],
            textposition="auto", cliponaxis=False,          # an outside label may run past the axis end
            hovertemplate="%{y}<br>%{x:,.4g} " + unit + "<extra></extra>"))
        if not row["bytes"]:
            fig.add_annotation(x=0, xref="paper", xanchor="left", y=row["item"], yref="y", showarrow=False,
                               text="(0 bytes: nothing stored)")
    fig.update_yaxes(autorange="reversed")
    styled(fig, title=f"Memory: cos/sin table vs KV cache — T = {T:,} tokens, {n_layers} layers, "
                      f"{n_kv_heads} KV heads × d = {cfg.head_dim}, r = {cfg.rotary_dim}, {dtype}",
           x_title=f"memory ({unit}, log scale)", y_title="stored item (one bar each)", style=style, log_x=True)
    sizes = [r["bytes"] / size for r in rows if r["bytes"]]
    fig.update_xaxes(range=[np.log10(min(sizes)) - 0.3, np.log10(max(sizes)) + 1.6])   # room for outside labels
    table = rows[2]
    fig.update_layout(meta=dict(r=cfg.rotary_dim, n_kv=int(n_kv_heads), d=cfg.head_dim, n_layers=int(n_layers),
                                pct_layer=table["pct_layer_kv"], pct_model=table["pct_model_kv"]))
    return legend_below(fig)   # six long item names: above the plot they would cover the title


PHASE_LOST_RAD = 1.0          # "phase lost": an error of a radian


_DTYPE_SHORT = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


def _phase_caption(fig: go.Figure) -> str:
    """Angles m·θ formed in fp32 drift from float64 in proportion to the position m."""
    m = fig.layout.meta or {}
    if not m:
        return _phase_caption.__doc__
    at = [f"{format_number(e, 2)} rad at m = {p:,}{' (the context length)' if p == m.get('L') else ''}"
          for p, e in dict(zip(m["m"], m["fp32"])).items()]
    exact = m.get("exact") or []
    if "inv_freq fp32" in exact:
        text = ("Angles m·θ formed in fp32 (as transformers does) equal float64's at every position shown here.")
    else:
        text = ("Angles m·θ formed in fp32 (as transformers does) drift from float64 in proportion to the position: "
                + ", ".join(at) + ".")
    lost = m.get("bf16_lost")
    if lost is None:
        text += " An inv_freq kept in bf16 stays within a radian up to the largest position shown."
    elif m.get("bf16_lost_exact", True):
        text += f" An inv_freq kept in bf16 is first off by a radian or more at m = {lost:,}."
    else:
        text += f" An inv_freq kept in bf16 is off by a radian or more by m = {lost:,} (the first plotted position)."
    if exact:
        text += (f" Exact at every position for {', '.join(exact)} (drawn on the chart's 10⁻¹² floor)"
                 + (": the only pair has θ = 1, and integer angles are exact in fp32 up to 2²⁴." if m.get("pairs") == 1
                    else "."))
    return text


LOSS_SCAN_MAX = 1 << 16    # integer positions scanned for the exact first bf16 phase loss (else the grid point)


def _first_loss(cfg: RopeConfig, pos: np.ndarray, err: np.ndarray) -> tuple[int | None, bool]:
    """The first position whose bf16-inv_freq phase error reaches PHASE_LOST_RAD: every integer between the last
    plotted position below it and the first at or above it is evaluated (≤ LOSS_SCAN_MAX of them), so the caption
    can state the exact m; beyond that, the first plotted position. Returns (m or None, exact)."""
    hit = np.flatnonzero(err >= PHASE_LOST_RAD)
    if not hit.size:
        return None, True
    hi = int(pos[hit[0]])
    lo = int(pos[hit[0] - 1]) + 1 if hit[0] > 0 else 0
    if hi - lo + 1 > LOSS_SCAN_MAX:
        return hi, False
    scan = np.arange(lo, hi + 1, dtype=np.float64)
    first = np.flatnonzero(fp32_phase_error(cfg, scan, inv_freq_dtype="bfloat16") >= PHASE_LOST_RAD)
    return int(scan[first[0]]), True


@register("kernel_phase_error", page="Kernel", caption=_phase_caption)
def kernel_phase_error(cfg: RopeConfig, *, style: str = "app", max_position: int | None = None) -> go.Figure:
    """max over pairs |φ_fp32 − φ_float64| (rad, log) vs position m (tokens, log), for fp32, fp16 and bf16 inv_freq.
    Positions up to ``max_position`` (default: the context length, at least 2²⁰), the context length always among
    them. ``fig.layout.meta``: m (the context length L when drawn, and the largest position), fp32 (the fp32 error
    there), L, bf16_lost (the first m whose bf16 error reaches PHASE_LOST_RAD, or None; ``_first_loss``),
    bf16_lost_exact (False when that is the first plotted m, not the first integer)."""
    top = int(max_position or max(cfg.context_length, 1 << 20))
    top = min(max(top, 2), 1 << 24)
    L = cfg.context_length
    pos = np.union1d(_geom_positions(top, 96), [L] if L <= top else [])
    fig = go.Figure()
    errs = {}
    for name, dt, c in (("inv_freq fp32 (transformers)", "float32", PALETTE[0]),
                        ("inv_freq fp16", "float16", PALETTE[2]),
                        ("inv_freq bf16 (transformers issue #29496)", "bfloat16", PALETTE[1])):
        errs[dt] = err = fp32_phase_error(cfg, pos, inv_freq_dtype=dt)
        fig.add_trace(go.Scatter(x=pos, y=np.maximum(err, 1e-12), name=name, mode="lines", line=dict(color=c),
                                 hovertemplate="m = %{x:,}<br>%{y:.3g} rad<extra>" + name + "</extra>"))
    # lines and their labels placed by hand: on log axes an annotation's coordinate is log10 of the value (plotly's
    # annotation_text of add_hline / add_vline put "π: phase lost" at 10^π ≈ 1,400 rad, far above its line)
    fig.add_hline(y=np.pi, line=dict(color="#888888", dash="dot"))
    fig.add_annotation(x=0.01, xref="x domain", y=np.log10(np.pi), yref="y", text="π: phase lost", showarrow=False,
                       xanchor="left", yanchor="bottom")
    fig.add_vline(x=cfg.context_length, line=dict(color="#888888", dash="dash"))
    fig.add_annotation(x=np.log10(cfg.context_length), xref="x", y=0.02, yref="y domain", text="context length",
                       showarrow=False, xanchor="left", yanchor="bottom")
    ref = [int(np.searchsorted(pos, min(L, top))), len(pos) - 1]
    lost, lost_exact = _first_loss(cfg, pos, errs["bfloat16"])
    fig.update_layout(meta=dict(m=[int(pos[i]) for i in ref], fp32=[float(errs["float32"][i]) for i in ref], L=L,
                                bf16_lost=lost, bf16_lost_exact=lost_exact, pairs=cfg.n_pairs,
                                exact=[f"inv_freq {_DTYPE_SHORT[dt]}" for dt, e in errs.items() if not np.any(e > 0)]))
    return styled(fig, title=f"Phase error of fp32 angles vs float64 — {cfg.label()}",
                  x_title="position m (tokens)", y_title="max phase error over pairs (rad)", style=style,
                  log_x=True, log_y=True)


FLAT_RATIO = 1.25      # an error (or the bf16 / fp32 gap) within ×1.25 from one end to the other "stays flat"


def _invariance_caption(fig: go.Figure) -> str:
    """A query/key pair Δ tokens apart should score the same at every position; in low precision it does not."""
    m = fig.layout.meta or {}
    if not m:
        return _invariance_caption.__doc__
    (m1, r1), (m2, r2) = m["ratio"]

    def times(r: float) -> str:
        return f"{r:,.0f}×" if r >= 100 else f"{r:.2g}×"

    def change(a: float, b: float) -> str:          # how one precision's error moves from m1 to m2 (data, not lore)
        g = b / a if a > 0 else float("inf")
        return (f"grows {times(g)}" if g > FLAT_RATIO else f"shrinks {times(1 / g)}" if g < 1 / FLAT_RATIO
                else "stays flat")
    gap = "narrows" if r2 < r1 / FLAT_RATIO else "widens" if r2 > r1 * FLAT_RATIO else "stays about the same"
    if "fp32" in m and "bf16" in m:
        trend = (f"the gap {gap} — from m = {m1:,} to {m2:,} fp32's error {change(*m['fp32'])} and bf16's "
                 f"{change(*m['bf16'])}")
    else:
        trend = f"the gap {gap} with the position"
    return (f"A query/key pair Δ tokens apart should score the same at every position. Here bf16 RoPE (transformers' "
            f"eager path) errs {times(r1)} more than fp32 at m = {m1:,} and {times(r2)} at m = {m2:,}: {trend} "
            "(Wang et al. 2024, arXiv:2411.13476).")


@register("kernel_invariance", page="Kernel", caption=_invariance_caption)
def kernel_invariance(cfg: RopeConfig, *, style: str = "app", max_position: int | None = None, distance: int = 16,
                      n_samples: int = 128, device: str | None = None) -> go.Figure:
    """Mean |logit(m) − exact| (logit units q·k/√d, log) vs start position m (tokens, log) per precision, measured
    on ``device`` (default: CUDA when available, else CPU). Needs torch. ``fig.layout.meta["ratio"]``: (m, bf16 / fp32
    error) at the smallest positive and the largest m."""
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
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = res["bf16"] / res["fp32"]
    ends = [1, len(pos) - 1]
    fig.update_layout(meta=dict(ratio=[(int(pos[i]), float(ratio[i])) for i in ends],
                                fp32=[float(res["fp32"][i]) for i in ends], bf16=[float(res["bf16"][i]) for i in ends]))
    styled(fig, title=f"Relative-position invariance error vs position — Δ = {distance}, {dev}",
           x_title="start position m (tokens; m = 0 drawn at 0.5)", y_title="mean |logit − exact| (logit units, "
           "q·k/√d)", style=style, log_x=True, log_y=True)
    return fig
