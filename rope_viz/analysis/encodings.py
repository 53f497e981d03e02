"""Comparison encodings: ALiBi's linear biases and sinusoidal absolute position encodings, next to RoPE.

What each encoding adds to the attention logit of a query Δ tokens after its key (Δ = i − j ≥ 0 in a causal model):

* ALiBi (Press, Smith & Lewis, "Train Short, Test Long", arXiv:2108.12409, ICLR 2022): no position embeddings; head h
  adds the fixed bias −m_h·Δ, with geometric slopes m_h (``alibi_slopes``, the paper's / official ``get_slopes``).
  A monotone penalty that never comes back up.
* Sinusoidal APE (Vaswani et al., "Attention Is All You Need", arXiv:1706.03762 §3.5): PE(p)[2i] = sin(p·ω_i),
  PE(p)[2i+1] = cos(p·ω_i), ω_i = base^(−2i/d) (``sinusoidal_pe``). The position-only part of the logit is
  PE(p)·PE(p + Δ) = Σ_i [sin(pω_i) sin((p+Δ)ω_i) + cos(pω_i) cos((p+Δ)ω_i)] = Σ_i cos(Δ·ω_i)
  (``sinusoidal_dot``): it depends on Δ only, not on p. (The content–position cross terms of an APE model do
  depend on p; this is the part that compares with RoPE's relative signal.)
* RoPE (Su et al., arXiv:2104.09864): for q = k = all-ones the score is 2·af²·Σ_{rotated i} cos(Δθ_i) + (d − r)
  (``rope_signal``; af = attention factor, d − r pass-through channels of partial rotary). With the same base and
  d_model = head_dim, RoPE's rotated sum Σ cos(Δθ_i) is exactly the sinusoidal dot product: the two encodings share
  one "position similarity" curve (Men et al.'s B_m, arXiv:2405.14591); RoPE makes it relative by construction.

All results are float64; nothing here builds an O(L²) array.
"""

from __future__ import annotations

import numpy as np

from .. import validate as V
from ..config import BASE_MAX, RopeConfig
from ..frequencies import default_inv_freq
from . import _phasor as P
from .distance import score_vs_distance

MAX_HEADS = 4096
D_MODEL_MAX = 65536


# -- ALiBi -------------------------------------------------------------------------------------------------------------
def _slopes_power_of_2(n: int) -> np.ndarray:
    """m_h = 2^(−8h/n), h = 1 … n: the geometric sequence starting at and with ratio 2^(−8/n). Shape (n,)."""
    return 2.0 ** (-8.0 * np.arange(1, n + 1, dtype=np.float64) / n)


def alibi_slopes(n_heads: int) -> np.ndarray:
    """ALiBi's head slopes m_h (Press et al. 2022, arXiv:2108.12409 §3; the official ``get_slopes``).

    For n a power of two: m_h = 2^(−8h/n), h = 1 … n (n = 8: 1/2, 1/4, …, 1/256). Otherwise, with c the largest
    power of two below n: the c slopes for c heads, then every other slope for 2c heads (the odd-indexed
    2^(−8(2j+1)/(2c)), j = 0 …), the first n − c of them — so n = 12 gives the 8-head slopes followed by 2^(−0.5),
    2^(−1.5), 2^(−2.5), 2^(−3.5).

    Args:
        n_heads: integer 1 … 4096.
    Returns:
        (n_heads,) float64, all in (0, 1).
    """
    n = V.integer("n_heads", n_heads, 1, MAX_HEADS)
    c = 1 << (n.bit_length() - 1)                       # largest power of two ≤ n
    if c == n:
        return _slopes_power_of_2(n)
    extra = _slopes_power_of_2(2 * c)[0::2][: n - c]    # (n − c,) every other slope of the 2c-head sequence
    return np.concatenate([_slopes_power_of_2(c), extra])


def _finite_1d(x, name: str) -> np.ndarray:
    """A scalar or 1-D array from outside as a finite float64 vector, shape (n,)."""
    return V.float_array(name, x, ndim=(0, 1)).reshape(-1)


def alibi_bias(slopes, distances) -> np.ndarray:
    """ALiBi's additive logit bias −m_h·|Δ| for each head h and relative distance Δ.

    Press et al. add m·[−(i−1), …, −2, −1, 0] to the causal logits of query i, i.e. −m_h·(i − j) for keys j ≤ i:
    with Δ = i − j ≥ 0 this is −m_h·Δ. Negative Δ (a key after the query, which a causal model masks) get the
    symmetric −m_h·|Δ| used by bidirectional variants, so the result is even in Δ.

    Args:
        slopes: (H,) positive slopes, e.g. ``alibi_slopes(H)``.
        distances: (n,) relative distances in tokens (ints or floats).
    Returns:
        (H, n) float64, ≤ 0, equal to 0 at Δ = 0. ``np.exp`` of it is the multiplier ALiBi puts on the
        unnormalised attention weight.
    """
    m = _finite_1d(slopes, "slopes")                    # (H,)
    if m.size == 0 or np.any(m <= 0):
        raise ValueError("slopes must be a non-empty list of positive numbers (e.g. alibi_slopes(n_heads))")
    d = _finite_1d(distances, "distances")              # (n,)
    return 0.0 - m[:, None] * np.abs(d)[None, :]        # (H, 1) · (1, n) → (H, n); 0.0 − x avoids −0.0


# -- sinusoidal absolute position encodings -----------------------------------------------------------------------
def _check_d_model(d_model) -> int:
    d = V.integer("d_model", d_model, 2, D_MODEL_MAX)
    if d % 2:
        raise ValueError(f"d_model must be even (sin/cos pairs), got {d}")
    return d


def _check_base(base) -> float:
    return V.real("base", base, 1.0, BASE_MAX, lo_open=True, text=False)


def sinusoidal_frequencies(d_model: int, base: float = 10000.0) -> np.ndarray:
    """ω_i = base^(−2i/d_model), i = 0 … d_model/2 − 1 (Vaswani et al. §3.5: 1/10000^(2i/d_model)). Shape
    (d_model/2,), radians per position — the same numbers as RoPE's θ_i for head_dim = d_model."""
    return default_inv_freq(_check_base(base), _check_d_model(d_model))


def sinusoidal_pe(positions, d_model: int, base: float = 10000.0) -> np.ndarray:
    """The sinusoidal position encoding of Vaswani et al. 2017 (arXiv:1706.03762 §3.5).

    PE(p)[2i] = sin(p·ω_i), PE(p)[2i+1] = cos(p·ω_i), ω_i = base^(−2i/d_model).

    Args:
        positions: array-like of any shape (...), in tokens (ints or floats, finite).
        d_model: even integer 2 … 65536.
        base: 10000 in the paper; any base in (1, 1e12].
    Returns:
        (..., d_model) float64; every row has squared norm d_model/2.
    """
    omega = sinusoidal_frequencies(d_model, base)                        # (d/2,)
    p = V.float_array("positions", positions)
    phase = p[..., None] * omega                                         # (..., d/2)
    out = np.empty(p.shape + (omega.size, 2), dtype=np.float64)          # (..., d/2, 2): [sin, cos] per pair
    out[..., 0] = np.sin(phase)
    out[..., 1] = np.cos(phase)
    return out.reshape(p.shape + (2 * omega.size,))                      # (..., d_model), interleaved sin/cos


def sinusoidal_dot(d_model: int, distances, base: float = 10000.0) -> np.ndarray:
    """PE(p)·PE(p + Δ) for each Δ: the position-only part of a sinusoidal-APE attention logit (q = k = PE).

    Closed form (angle subtraction, sin a sin b + cos a cos b = cos(a − b)):
        PE(p)·PE(p + Δ) = Σ_{i < d/2} cos(Δ·ω_i),  ω_i = base^(−2i/d_model),
    independent of the absolute position p, even in Δ, equal to d_model/2 at Δ = 0.

    This is Men et al.'s B_Δ for a RoPE head of dimension d_model with the same base, evaluated like it
    (``_phasor.cos_sum``: angle addition on dense distance lattices, error bound (E) there).

    Args:
        d_model: even integer 2 … 65536.
        distances: (n,) in tokens (ints or floats, may be negative).
        base: the APE base (10000 in the paper).
    Returns:
        (n,) float64.
    """
    omega = sinusoidal_frequencies(d_model, base)                        # (d/2,)
    return P.cos_sum(omega, _finite_1d(distances, "distances"))          # (n,)


# -- RoPE's signal for the comparison figure ----------------------------------------------------------------------
def rope_signal(cfg: RopeConfig, distances, seq_len: int | None = None) -> np.ndarray:
    """RoPE's positional signal: the score of q = k = all-ones at relative distance Δ.

    score(Δ) = apply_rope(1, p + Δ)·apply_rope(1, p) = 2·af²·Σ_{i < r/2} cos(Δ·θ_i) + (d − r)
    (RoFormer arXiv:2104.09864 §3.4.2 with q = k = 1: each pair (1, 1) is the complex number 1 + i, |1 + i|² = 2;
    af = attention factor of cfg's scaling; d − r pass-through channels of partial rotary, each contributing 1·1).
    At Δ = 0 it equals af²·r + (d − r). Evaluated by ``rope_viz.analysis.distance.score_vs_distance``.

    Args:
        cfg: the RoPE setup (scaling and partial rotary included; the layout does not matter for q = k = 1).
        distances: (n,) in tokens.
        seq_len: the sequence length whose frequencies are in effect (default the config's context length).
    Returns:
        (n,) float64.
    """
    V.config("cfg", cfg)
    dist = _finite_1d(distances, "distances")
    ones = np.ones(cfg.head_dim)
    return np.asarray(score_vs_distance(ones, ones, cfg, dist, seq_len=seq_len), dtype=np.float64).reshape(-1)
