"""Applying RoPE: the two pair layouts, the permutation between them, and the complex (freqs_cis) form.

Shape notation used below:
    ...  any leading (batch, head, sequence) dimensions
    d    head_dim
    r    rotary_dim = int(d · rotary_fraction) (even); channels r … d−1 pass through unrotated
    p    r / 2, the number of rotated pairs

Pair i of a vector x is the channel pair (a_i, b_i):
    layout "half":        (i, i + p)   — transformers ``rotate_half``, GPT-NeoX
    layout "interleaved": (2i, 2i + 1) — Meta's reference (complex view), GPT-J ``rotate_every_two``
At position m it is turned by φ = m·θ_i in the standard direction:
    (a, b) → (a cos φ − b sin φ, a sin φ + b cos φ)          (RoFormer Eq. 13, block-diagonal R^d_{Θ,m})
and the rotated channels are multiplied by ``attention_factor`` (transformers multiplies cos and sin by it).
Verified against transformers' ``apply_rotary_pos_emb`` and a per-pair loop in tests/test_rotation.py.
"""

from __future__ import annotations

import numpy as np

from . import validate as V
from .config import HEAD_DIM_MAX, LAYOUTS, RopeConfig
from .frequencies import rope_parameters


def pair_indices(cfg: RopeConfig) -> tuple[np.ndarray, np.ndarray]:
    """Channel indices (a_i, b_i) of every pair, each of shape (p,), for cfg.layout."""
    return _pair_indices(cfg.rotary_dim, cfg.layout)


def _pair_indices(rotary_dim: int, layout: str) -> tuple[np.ndarray, np.ndarray]:
    p = rotary_dim // 2
    i = np.arange(p)
    if V.choice("layout", layout, LAYOUTS) == "half":
        return i, i + p
    return 2 * i, 2 * i + 1


def layout_permutation(head_dim: int, rotary_dim: int | None = None, src: str = "interleaved",
                       dst: str = "half") -> np.ndarray:
    """Channel permutation P with ``x_dst = x_src[..., P]``: pair i sits at the same pair index in both layouts.

    interleaved → half is the permutation transformers' ``convert_llama_weights_to_hf.py`` applies to the rows of
    each head of Meta's W_q / W_k (``w.view(h, d/2, 2, D).transpose(1, 2)``): channel c·p + i ← 2i + c. Channels
    from rotary_dim on are left in place. Shape (head_dim,), a permutation of range(head_dim).
    """
    head_dim = V.integer("head_dim", head_dim, 2, HEAD_DIM_MAX)
    r = head_dim if rotary_dim is None else V.integer("rotary_dim", rotary_dim, 2, head_dim)
    if r % 2:
        raise ValueError(f"rotary_dim must be even (channels are rotated in pairs); got {r}")
    perm = np.arange(head_dim)
    a_src, b_src = _pair_indices(r, src)
    a_dst, b_dst = _pair_indices(r, dst)
    perm[a_dst] = a_src
    perm[b_dst] = b_src
    return perm


def _vectors(x, cfg: RopeConfig) -> np.ndarray:
    """x as float64 of shape (..., head_dim)."""
    V.config("cfg", cfg)
    x = V.float_array("x", x)
    if x.ndim == 0 or x.shape[-1] != cfg.head_dim:
        raise ValueError(f"x must have shape (..., head_dim={cfg.head_dim}); got {x.shape}")
    return x


def rope_angles(positions, cfg: RopeConfig, seq_len: int | None = None) -> np.ndarray:
    """φ[..., i] = m · θ_i in radians. positions (...) → shape (..., p).

    Accuracy (float64): each angle carries a few roundings (the exponent 2i/r, the power, the product); measured
    against 50-digit arithmetic for positions up to 2^24 (tests/test_rotation.py) its error is at most 5 units of
    2^-53 relative to φ and below 2e-9 rad absolute (fp32 angles: ``rope_viz.analysis.overhead.fp32_phase_error``)."""
    theta, _ = rope_parameters(cfg, seq_len)
    pos = V.float_array("positions", positions)
    return pos[..., None] * theta                                   # (..., 1) · (p,) → (..., p)


def apply_rope(x, positions, cfg: RopeConfig, seq_len: int | None = None) -> np.ndarray:
    """Rotate x by RoPE at the given positions (float64).

    x: (..., d). positions: broadcastable against x.shape[:-1] (integers or floats, tokens).
    Returns broadcast(x.shape[:-1], positions.shape) + (d,). Channels ≥ r pass through unchanged; the rotated
    channels are multiplied by attention_factor(cfg, seq_len), as transformers does.
    """
    x = _vectors(x, cfg)
    pos = V.float_array("positions", positions)
    theta, af = rope_parameters(cfg, seq_len)
    lead = np.broadcast_shapes(x.shape[:-1], pos.shape)
    phi = np.broadcast_to(pos, lead)[..., None] * theta             # (..., p)
    cos, sin = np.cos(phi) * af, np.sin(phi) * af
    a_idx, b_idx = pair_indices(cfg)
    xb = np.broadcast_to(x, lead + (cfg.head_dim,))
    a, b = xb[..., a_idx], xb[..., b_idx]                           # (..., p) each
    out = np.array(xb, dtype=np.float64, copy=True)                 # (..., d), pass-through channels kept
    out[..., a_idx] = a * cos - b * sin
    out[..., b_idx] = a * sin + b * cos
    return out


def to_complex(x, cfg: RopeConfig) -> np.ndarray:
    """View the rotated channels of x (..., d) as p complex numbers a_i + i·b_i: shape (..., p), complex128."""
    x = _vectors(x, cfg)
    a_idx, b_idx = pair_indices(cfg)
    return x[..., a_idx] + 1j * x[..., b_idx]


def freqs_cis(positions, cfg: RopeConfig, seq_len: int | None = None) -> np.ndarray:
    """Meta's ``freqs_cis``: attention_factor · e^{i m θ_j}, shape positions.shape + (p,), complex128."""
    theta, af = rope_parameters(cfg, seq_len)
    pos = V.float_array("positions", positions)
    return af * np.exp(1j * pos[..., None] * theta)


def apply_rope_complex(x, positions, cfg: RopeConfig, seq_len: int | None = None) -> np.ndarray:
    """The same rotation as ``apply_rope`` computed in complex form: z_i · freqs_cis — Meta's
    ``apply_rotary_emb`` generalised to both layouts. Same shapes as ``apply_rope``."""
    x = _vectors(x, cfg)
    pos = V.float_array("positions", positions)
    lead = np.broadcast_shapes(x.shape[:-1], pos.shape)
    z = to_complex(np.broadcast_to(x, lead + (cfg.head_dim,)), cfg) * freqs_cis(np.broadcast_to(pos, lead), cfg,
                                                                                seq_len)   # (..., p)
    out = np.array(np.broadcast_to(x, lead + (cfg.head_dim,)), dtype=np.float64, copy=True)
    a_idx, b_idx = pair_indices(cfg)
    out[..., a_idx] = z.real
    out[..., b_idx] = z.imag
    return out
