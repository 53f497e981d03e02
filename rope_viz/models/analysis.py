"""Pure numpy on measured results: massive pairs, the core's predicted boundaries, and the context-extension claims
checked against measured perplexity.

Massive pairs: a rotary pair whose mean norm in a head exceeds λ times that head's median pair norm (λ = 5 by
default, the threshold of Jin et al. 2025, "Massive Values in Self-Attention Modules are the Key to Contextual
Knowledge Understanding", arXiv:2502.01563).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..analysis.offsets import pair_cycles
from ..config import RopeConfig
from ..figures._style import format_number

LAMBDA_DEFAULT = 5.0
SMALL_INCREASE = 0.10          # "little / almost no degradation": mean NLL within +0.10 nats (ppl ×1.105)


def pair_ratio(norms) -> np.ndarray:
    """Each pair's norm over its head's median pair norm. norms: (..., pairs) → same shape (1 where the median is
    0, i.e. an all-zero head)."""
    a = np.asarray(norms, dtype=np.float64)
    med = np.median(a, axis=-1, keepdims=True)
    return np.divide(a, med, out=np.ones_like(a), where=med > 0)


def massive_pairs(norms, lam: float = LAMBDA_DEFAULT) -> np.ndarray:
    """Bool mask (..., pairs): pair norm > ``lam`` × the head's median pair norm (Jin et al. 2025,
    arXiv:2502.01563). lam must be > 0."""
    if not lam > 0:
        raise ValueError(f"lam must be > 0; got {lam!r}")
    return pair_ratio(norms) > float(lam)


def top_pair_summary(norms) -> dict:
    """For q or k pair norms (layers, heads, pairs): the top pair of every head, the share of heads whose top pair is
    in the slow half (pair ≥ pairs/2), the largest ratio, and a histogram of top pairs."""
    r = pair_ratio(norms)
    top = r.argmax(axis=-1)
    p = r.shape[-1]
    return {"top_pair": top, "slow_half_share": float((top >= p // 2).mean()), "max_ratio": float(r.max()),
            "histogram": np.bincount(top.ravel(), minlength=p)}


def weight_activation_correlation(weight_norms, activation_norms) -> float:
    """Pearson correlation, over every (layer, head, pair), between the pair ratios (``pair_ratio``) of W_q / W_k
    rows and those of the activations: how well the weights alone predict where the large pairs are."""
    a = pair_ratio(weight_norms).ravel()
    b = pair_ratio(activation_norms).ravel()
    if a.shape != b.shape:
        raise ValueError(f"weight and activation norms must have the same shape; got {a.shape} and {b.shape}")
    return float(np.corrcoef(a, b)[0, 1])


def predicted_boundaries(cfg: RopeConfig, context_length: int) -> dict:
    """The core's prediction over ``context_length`` tokens (rope_viz.analysis.offsets.pair_cycles): the first pair
    that completes less than one turn (``partial_cycle_from``) and the first whose constant offset can bias the score
    with one sign at every distance (``one_sign_from``); None where no pair qualifies. Pairs are 0-based, fastest
    first; ``wavelength`` (tokens) per pair."""
    c = pair_cycles(cfg, int(context_length))
    partial = np.flatnonzero(~c["completes_cycle"])
    one = np.flatnonzero(c["one_sign"])
    return {"partial_cycle_from": int(partial[0]) if partial.size else None,
            "one_sign_from": int(one[0]) if one.size else None,
            "wavelength": c["wavelength"], "context_length": int(context_length)}


def bucket_ppl(buckets: Sequence[Mapping]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, mean NLL) arrays from a ``perplexity`` result's buckets."""
    s = np.array([b["start"] for b in buckets], dtype=np.int64)
    e = np.array([b["end"] for b in buckets], dtype=np.int64)
    return s, e, np.array([b["nll"] for b in buckets], dtype=np.float64)


def region_nll(buckets: Sequence[Mapping], lo: int, hi: int) -> float:
    """Token-weighted mean NLL of the buckets lying inside [lo, hi) (NaN when none)."""
    tot, n = 0.0, 0
    for b in buckets:
        if b["start"] >= lo and b["end"] <= hi and b.get("n", b["end"] - b["start"]) > 0:
            k = b.get("n", b["end"] - b["start"])
            tot += b["nll"] * k
            n += k
    return tot / n if n else float("nan")


def claims(runs: Mapping[str, Sequence[Mapping]], train_len: int, *, as_trained: str = "as trained") -> list[dict]:
    """The common context-extension claims checked on measured per-bucket NLL.

    runs: label → buckets (from ``perplexity``); the run ``as_trained`` is the model's own RoPE. Positions are split
    into inside (< train_len) and beyond (≥ train_len). For each claim: {"claim", "verdict" ("holds", "fails",
    "untested", or for the ~5× claim "holds to r× (5× not run)" when the runs stop short of 5×), "evidence"} with numbers computed here. "Little / almost no" increase means ≤ SMALL_INCREASE nats
    of mean NLL over the as-trained model inside its context."""
    out = []
    base_runs = {k: v for k, v in runs.items()}
    ref = base_runs.get(as_trained)
    if ref is None:
        return [{"claim": "all", "verdict": "untested", "evidence": f"no run labelled {as_trained!r}"}]
    inside = region_nll(ref, 0, train_len)
    max_end = max(b["end"] for b in ref)

    def fmt(x):
        return f"{np.exp(x):,.1f}"

    beyond = region_nll(ref, train_len, max_end)
    c1 = {"claim": "A RoPE model handles ~5× its training length with little degradation"}
    if np.isnan(beyond):
        c1.update(verdict="untested", evidence=f"no tokens beyond the training length {train_len:,} were measured")
    else:
        d, reach = beyond - inside, max_end / train_len
        verdict = "fails" if d > SMALL_INCREASE else "holds" if reach >= 5 else f"holds to {reach:.1f}× (5× not run)"
        c1.update(verdict=verdict,
                  evidence=f"as trained: perplexity {fmt(inside)} inside {train_len:,} tokens, {fmt(beyond)} at "
                           f"{train_len:,}–{max_end:,} ({max_end / train_len:.1f}× the training length); "
                           f"ΔNLL {format_number(d, 2, signed=True)} nats")
    out.append(c1)

    def best(pred):
        cand = [(region_nll(v, train_len, max_end), k) for k, v in base_runs.items() if pred(k)]
        cand = [c for c in cand if not np.isnan(c[0])]
        return min(cand) if cand else None

    b = best(lambda k: k.startswith("base"))
    c2 = {"claim": "Raising the base fixes aliasing (positions beyond the training length)"}
    if b is None or np.isnan(beyond):
        c2.update(verdict="untested", evidence="run a larger base over more than the training length")
    else:
        c2.update(verdict="holds" if b[0] - inside <= SMALL_INCREASE else "fails",
                  evidence=f"best {b[1]}: perplexity {fmt(b[0])} beyond {train_len:,} tokens vs {fmt(beyond)} as "
                           f"trained and {fmt(inside)} inside the training length "
                           f"(ΔNLL {format_number(b[0] - inside, 2, signed=True)})")
    out.append(c2)
    for name, pref in (("YaRN", "yarn"), ("NTK-aware", "ntk")):
        b = best(lambda k, pref=pref: k.lower().startswith(pref))
        c = {"claim": f"{name} extends the context with almost no perplexity increase"}
        if b is None or np.isnan(beyond):
            c.update(verdict="untested", evidence=f"run {name} over more than the training length")
        else:
            c.update(verdict="holds" if b[0] - inside <= SMALL_INCREASE else "fails",
                     evidence=f"{b[1]}: perplexity {fmt(b[0])} beyond {train_len:,} tokens vs {fmt(inside)} as "
                              f"trained inside it (ΔNLL {format_number(b[0] - inside, 2, signed=True)} nats)")
        out.append(c)
    return out
