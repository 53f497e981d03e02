"""Rotary offset dimensions: which pairs turn less than a cycle over the context, and when a constant q/k offset
in a pair biases the attention score with one sign at every distance.

The phenomenon is Jonasson's (A. Jonasson, "Rotary Offset Features in Large Language Models", arXiv:2503.01832,
2025): large query/key activations ("rotary offset features") sit in rotary pairs that complete only a *partial
cycle* over the context, consistently across layers, heads and architectures; the paper derives bounds on which
frequencies produce them and on a minimum angle between the query and key offsets. Those exact bounds could not
be checked against the paper's text, so the criterion below is **ours**, derived here from first
principles; the "partial cycle" flag matches the literature proxy θ_i·L < 2π (d = 128, base 1e4, L = 4096 → pairs
46–63).

Derivation (ours)
-----------------
View pair i of a vector as a complex number z = a + i·b; RoPE turns it by m·θ_i at position m (rope_viz.rotation:
(a, b) → (a cos φ − b sin φ, a sin φ + b cos φ) = z·e^{iφ}), and transformers scales cos/sin by the attention
factor af. The dot product of the pair's two channels for a query at position m and a key at n = m − Δ is::

    s_i(Δ) = af² · Re[ z_q e^{imθ_i} · conj(z_k e^{inθ_i}) ] = af² · Re[ z_q conj(z_k) e^{iΔθ_i} ].

If q and k carry constant offsets o_q = |o_q| e^{iβ_q} and o_k = |o_k| e^{iβ_k} in that pair (the same at every
token, independent of content), their part of the score is::

    b_i(Δ) = |o_q| |o_k| af² cos(Δθ_i + α),        α = β_q − β_k  (the angle from the key offset to the query's),

a content-independent bias for every query–key distance Δ ∈ {0, …, L − 1} (causal attention: key not after the
query). As Δ runs over the context, the angle Δθ_i + α sweeps the arc [α, α + (L − 1)θ_i].

*Claim.* For 0 < θ_i < π, b_i keeps one strict sign on Δ = 0 … L − 1 iff the closed arc [α, α + (L − 1)θ_i] lies
inside an open half-turn (−π/2 + kπ, π/2 + kπ) for some integer k (sign (−1)^k).
*Proof.* "If": cos has sign (−1)^k on that open half-turn. "Only if": between consecutive samples the angle moves
by θ_i < π; to leave the half-turn where cos > 0 and come back, a path must cross the whole closed arc where
cos ≤ 0, of length π, which a step shorter than π cannot do without a sample landing in it. So all samples keep
their sign only if the continuous arc never leaves the half-turn. ∎
Consequences:

* **necessary and sufficient over α**: some α works iff (L − 1)·θ_i < π — the pair turns by less than half a turn
  over the context (``one_sign``). That is stricter than the partial-cycle flag (L·θ_i < 2π, ``completes_cycle``
  false): a pair with π ≤ (L − 1)θ_i < 2π turns less than a cycle but its offset bias still changes sign.
* **admissible angles** for a positive bias: α ∈ (−π/2, π/2 − (L − 1)θ_i) (mod 2π); for a negative one add π.
  Its width is π − (L − 1)θ_i: the slower the pair, the freer the offsets' relative angle.
* **minimum angle** (ours, the counterpart of Jonasson's minimum-angle bound): write τ = −α for how far the query
  offset *trails* the key offset (against the rotation). A positive bias over the whole context needs
  (L − 1)θ_i − π/2 < τ < π/2, so once (L − 1)θ_i > π/2 the query offset must trail the key offset by more than
  ``min_offset_angle`` = (L − 1)θ_i − π/2; at α = 0 (aligned offsets) the bias stays positive only if
  (L − 1)θ_i < π/2. The centred choice α = −(L − 1)θ_i/2 has the largest margin, π/2 − (L − 1)θ_i/2.
* For θ_i ≥ π (not produced by RoPE, whose θ_i ≤ 1 rad/token, but accepted here) the samples alias: θ_i is
  replaced by its representative in (−π, π] (same samples e^{iΔθ}), and a negative one sweeps the arc backwards.
* Scaling enters only through θ_i = ``inv_freq(cfg, seq_len=L)``: dividing low frequencies (PI, YaRN, Llama 3.1)
  makes more pairs satisfy the criterion.

``offset_bias`` evaluates Σ_i b_i(Δ) over chosen pairs; ``simulate_offset_scores`` adds random Gaussian content to
q and k and shows that the mean score over samples converges to that bias (the content terms have zero mean).
"""

from __future__ import annotations

import math

import numpy as np

from .. import validate as V
from ..config import CONTEXT_MAX, RopeConfig
from ..frequencies import effective_parameters, wavelengths
from .distance import phasor_sum

_MAX_SAMPLES = 100_000
_MAX_DISTANCES = CONTEXT_MAX


def _context(cfg: RopeConfig, context_length) -> int:
    return cfg.context_length if context_length is None else _context_arg(context_length)


def _context_arg(context_length) -> int:
    return V.integer("context_length", context_length, 1, CONTEXT_MAX, text=False)


def _real(name: str, x) -> np.ndarray:
    return V.float_array(name, x)


def _reduced_span(theta: np.ndarray, context_length: int) -> np.ndarray:
    """(L − 1)·θ̃ with θ̃ the representative of θ in (−π, π] (same integer samples e^{iΔθ})."""
    t = np.mod(theta + np.pi, 2 * np.pi) - np.pi                   # [−π, π)
    t = np.where(t == -np.pi, np.pi, t)                              # (−π, π]
    return (context_length - 1) * t


# --------------------------------------------------------------------------------------------------------------
# the criterion
def one_sign_criterion(theta, context_length: int, alpha=None) -> np.ndarray:
    """Does a constant q/k offset in a pair turning at θ rad/token keep a score contribution of one strict sign
    for every distance Δ = 0 … L − 1? (derivation in the module docstring; ours).

    theta: array (any shape), rad/token. alpha: None → "for some angle α" (⇔ (L − 1)·|θ̃| < π, θ̃ = θ reduced to
    (−π, π]); else the angle from the key offset to the query offset in radians, broadcast against theta →
    whether cos(Δθ + α) has one strict sign on all Δ. Returns a bool array of the broadcast shape.
    """
    th = _real("theta", theta)
    L = _context_arg(context_length)
    span = _reduced_span(th, L)                                      # (...) radians swept over the context
    if alpha is None:
        return np.abs(span) < np.pi
    a = _real("alpha", alpha)
    lo = a + np.minimum(span, 0.0)
    hi = a + np.maximum(span, 0.0)
    k = np.floor((lo + np.pi / 2) / np.pi)                           # half-turn (−π/2 + kπ, π/2 + kπ) holding lo
    inside = (lo > -np.pi / 2 + k * np.pi) & (hi < np.pi / 2 + k * np.pi)
    return np.asarray(inside)


def one_sign_alpha_interval(theta, context_length: int) -> tuple[np.ndarray, np.ndarray]:
    """The open interval (α_low, α_high) of offset angles α = β_q − β_k that give a *positive* bias at every
    Δ = 0 … L − 1 (add π to both ends for a negative one). NaN where no α works. Shapes follow theta.
    For 0 ≤ θ < π: (−π/2, π/2 − (L − 1)θ)."""
    th = _real("theta", theta)
    L = _context_arg(context_length)
    span = _reduced_span(th, L)
    ok = np.abs(span) < np.pi
    lo = np.where(ok, -np.pi / 2 - np.minimum(span, 0.0), np.nan)
    hi = np.where(ok, np.pi / 2 - np.maximum(span, 0.0), np.nan)
    return lo, hi


def min_offset_angle(theta, context_length: int) -> np.ndarray:
    """The least angle τ (radians) by which the query offset must trail the key offset for a positive bias over
    the whole context: max(0, (L − 1)θ − π/2) for θ ∈ [0, π); NaN where no angle works ((L − 1)θ ≥ π). Ours."""
    lo, hi = one_sign_alpha_interval(theta, context_length)
    return np.where(np.isnan(hi), np.nan, np.maximum(0.0, -hi))


def pair_table(cfg: RopeConfig, context_length: int | None = None) -> dict:
    """The per-pair frequency table of a config over a context of L tokens (default ``cfg.context_length``), with
    θ = ``effective_inv_freq(cfg, L)``: the frequencies in effect over that context, every scaling included
    (LongRoPE's long factors past its original context, dynamic NTK's base at L). All values are (p,) arrays,
    p = cfg.n_pairs:

      pair        0 … p − 1
      theta       θ_i, rad/token
      wavelength  λ_i = 2π/θ_i, tokens per full turn (inf where θ_i = 0)
      rotations   L·θ_i/2π, turns completed within the context
      partial     rotations < 1: the pair does not complete one cycle within the context (Jonasson,
                  arXiv:2503.01832: "partial cycle"; the literature proxy θ_i·L < 2π)

    The one place this table is computed: the CLI's ``freqs``, the Frequencies figures and ``pair_cycles`` use it."""
    V.config("cfg", cfg)
    L = _context(cfg, context_length)
    theta, _ = effective_parameters(cfg, L)                          # (p,)
    rotations = L * theta / (2 * np.pi)
    return {"pair": np.arange(theta.size), "theta": theta, "wavelength": wavelengths(theta),
            "rotations": rotations, "partial": rotations < 1}


def pair_cycles(cfg: RopeConfig, context_length: int | None = None) -> dict:
    """``pair_table`` (pair, theta, wavelength, rotations, partial) over a context of L tokens, plus the offset
    facts of this module, all (p,) arrays:

      completes_cycle  L·θ ≥ 2π (not ``partial``)
      one_sign         (L − 1)·θ < π: some constant q/k offset angle gives a one-sign bias at every distance (ours)
      alpha_low, alpha_high   the admissible offset angles for a positive bias (``one_sign_alpha_interval``)
      min_offset_angle the least trailing angle of the query offset (``min_offset_angle``), NaN if not one_sign
    """
    table = pair_table(cfg, context_length)
    L = _context(cfg, context_length)
    theta = table["theta"]
    lo, hi = one_sign_alpha_interval(theta, L)
    return {
        **table,
        "completes_cycle": L * theta >= 2 * np.pi,
        "one_sign": one_sign_criterion(theta, L),
        "alpha_low": lo,
        "alpha_high": hi,
        "min_offset_angle": min_offset_angle(theta, L),
    }


# --------------------------------------------------------------------------------------------------------------
# the bias and its simulation
def _select_pairs(offset_pairs, theta: np.ndarray, L: int) -> np.ndarray:
    p = theta.size
    if offset_pairs is None:
        return np.flatnonzero(one_sign_criterion(theta, L))
    sel = np.asarray(offset_pairs)
    if sel.dtype == bool:
        if sel.shape != (p,):
            raise ValueError(f"offset_pairs as a mask must have shape ({p},), got {sel.shape}")
        return np.flatnonzero(sel)
    if sel.dtype.kind not in "iu" or sel.ndim > 1:
        raise ValueError("offset_pairs must be None, a 1-D list of pair indices, or a boolean mask over pairs")
    sel = sel.reshape(-1).astype(np.int64)
    if sel.size and (sel.min() < 0 or sel.max() >= p):
        raise ValueError(f"offset_pairs indices must be in [0, {p - 1}], got {sel.min()} … {sel.max()}")
    if np.unique(sel).size != sel.size:
        raise ValueError("offset_pairs has repeated pair indices")
    return sel


def _magnitudes(magnitude) -> tuple[float, float]:
    m = _real("magnitude", magnitude).reshape(-1)
    if m.size == 1:
        m = np.array([m[0], m[0]])
    if m.size != 2 or np.any(m < 0):
        raise ValueError("magnitude must be a number ≥ 0 (both offsets) or a pair (|o_q|, |o_k|) of numbers ≥ 0")
    return float(m[0]), float(m[1])


def _alphas(alpha, theta_sel: np.ndarray, L: int) -> np.ndarray:
    if alpha is None:
        return -(L - 1) * theta_sel / 2                              # centred: largest one-sign margin
    a = _real("alpha", alpha)
    if a.ndim == 0:
        return np.full(theta_sel.shape, float(a))
    if a.shape != theta_sel.shape:
        raise ValueError(f"alpha must be a number or one angle per selected pair ({theta_sel.size}), got shape "
                         f"{a.shape}")
    return a


def offset_bias(cfg: RopeConfig, distances, offset_pairs=None, magnitude=1.0, alpha=None) -> np.ndarray:
    """The content-independent score bias Σ_{i ∈ pairs} |o_q||o_k|·af²·cos(Δθ_i + α_i) from constant q/k offsets,
    for query–key distances Δ (query Δ tokens after the key). Shape: that of ``distances``, float64.

    θ and af are taken at seq_len = cfg.context_length. offset_pairs: None → the one-sign pairs
    ((L − 1)θ_i < π, ``pair_cycles``), else indices or a (p,) bool mask. magnitude: |o_q| = |o_k|, or a pair
    (|o_q|, |o_k|). alpha: angle from the key offset to the query offset per pair (a number or one per selected
    pair); None → the centred angle −(L − 1)θ_i/2, which keeps each pair's term positive over the whole context
    when the pair is one-sign. O(n·k) for k selected pairs.
    """
    V.config("cfg", cfg)
    L = cfg.context_length
    d = _real("distances", distances)
    if d.size > _MAX_DISTANCES:
        raise ValueError(f"distances must be at most {_MAX_DISTANCES:,} values; got {d.size:,}")
    theta, af = effective_parameters(cfg, L)
    sel = _select_pairs(offset_pairs, theta, L)
    mq, mk = _magnitudes(magnitude)
    th = theta[sel]                                                  # (k,)
    a = _alphas(alpha, th, L)                                        # (k,)
    # Re Σ_i h_i e^{iΔθ_i} with h_i = e^{iα_i} (``_phasor``: angle addition on dense distance lattices).
    out = phasor_sum(np.exp(1j * a), th, d.reshape(-1))              # (n,)
    return (mq * mk * af * af * out).reshape(d.shape)


def simulate_offset_scores(cfg: RopeConfig, distances, n_samples: int = 256, offset_magnitude=1.0,
                           seed: int = 0, offset_pairs=None, alpha=None, content_std: float = 1.0) -> dict:
    """Scores q·k vs distance for random content plus a constant offset: the bias survives averaging.

    Each sample draws q, k with i.i.d. N(0, content_std²) channels (all head_dim channels), then adds the offsets
    of ``offset_bias`` to the chosen pairs: the key offset along the pair's first channel, the query offset at
    angle α from it. The score at distance Δ is RoPE(q, p + Δ) · RoPE(k, p) (independent of p), including the
    un-rotated channels of a partial-rotary head and af² on the rotated ones, as ``apply_rope`` does.
    Since the content terms have zero mean, E[score(Δ)] = offset_bias(Δ).

    Returns dict(distances (n,), mean (n,), std (n,) over samples, bias (n,) = offset_bias, stderr (n,) = std/√N,
    n_samples). Cost O(N·n·p) in chunks; N ≤ 100,000.
    """
    V.config("cfg", cfg)
    N = V.integer("n_samples", n_samples, 1, _MAX_SAMPLES, text=False)
    std = float(_real("content_std", content_std))
    if std < 0:
        raise ValueError(f"content_std must be ≥ 0, got {std:g}")
    d = _real("distances", distances).reshape(-1)                    # (n,)
    if d.size > _MAX_DISTANCES:
        raise ValueError(f"distances must be at most {_MAX_DISTANCES:,} values; got {d.size:,}")
    L = cfg.context_length
    theta, af = effective_parameters(cfg, L)
    p = theta.size
    sel = _select_pairs(offset_pairs, theta, L)
    mq, mk = _magnitudes(offset_magnitude)
    a = _alphas(alpha, theta[sel], L)

    rng = np.random.default_rng(seed)
    # complex pair view of the rotated channels; the un-rotated channels' dot product does not depend on Δ.
    zq = rng.normal(0.0, std, (N, p)) + 1j * rng.normal(0.0, std, (N, p))     # (N, p)
    zk = rng.normal(0.0, std, (N, p)) + 1j * rng.normal(0.0, std, (N, p))     # (N, p)
    n_rest = cfg.head_dim - cfg.rotary_dim
    rest = (rng.normal(0.0, std, (N, n_rest)) * rng.normal(0.0, std, (N, n_rest))).sum(axis=1)   # (N,)
    zq[:, sel] += mq * np.exp(1j * a)
    zk[:, sel] += mk
    h = af * af * zq * np.conj(zk)                                   # (N, p): score_i(Δ) = Re[h_i e^{iΔθ_i}]

    mean = np.empty(d.size)
    sd = np.empty(d.size)
    chunk = max(1, (1 << 22) // max(N, p))
    for s in range(0, d.size, chunk):
        rot = np.exp(1j * theta[:, None] * d[None, s:s + chunk])     # (p, 1)·(1, c) → (p, c)
        sc = (h @ rot).real + rest[:, None]                          # (N, c)
        mean[s:s + chunk] = sc.mean(axis=0)
        sd[s:s + chunk] = sc.std(axis=0, ddof=1) if N > 1 else 0.0
    bias = offset_bias(cfg, d, sel, (mq, mk), a)
    return {"distances": d, "mean": mean, "std": sd, "bias": bias, "stderr": sd / math.sqrt(N), "n_samples": N}
