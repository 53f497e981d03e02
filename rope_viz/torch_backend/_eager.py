"""Eager torch RoPE with the numpy core's semantics (``rope_viz.rotation.apply_rope``), plus the reference formulas
the benchmark compares against (transformers' ``rotate_half`` form and Meta's complex form).

Shape notation: ``...`` leading dims, d head_dim, r rotary_dim, p = r/2 pairs.

Precision rule (as transformers since PR #29285): the angle φ = m·θ_i is formed in fp32 from integer positions and an
fp32 copy of inv_freq (float64 only for float64 inputs); the rotation itself is computed in that dtype and the result
is cast back to the input dtype.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..config import RopeConfig
from ..frequencies import rope_parameters


@functools.lru_cache(maxsize=256)
def _params64(cfg: RopeConfig, seq_len: int | None) -> tuple[np.ndarray, float]:
    theta, af = rope_parameters(cfg, seq_len)
    theta = np.array(theta, dtype=np.float64)
    theta.setflags(write=False)
    return theta, float(af)


def rope_params(cfg: RopeConfig, seq_len: int | None = None, *, device=None,
                dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, float]:
    """(inv_freq, attention_factor): inv_freq from ``rope_viz.frequencies`` (computed in float64, then converted
    once to ``dtype``, fp32 by default, as transformers stores its ``inv_freq`` buffer), shape (p,), rad/token.
    The tensor is cached per (cfg, seq_len, device, dtype): treat it as read-only."""
    dev = torch.device(device) if device is not None else torch.device("cpu")
    return _params_tensor(cfg, seq_len, str(dev), dtype), _params64(cfg, seq_len)[1]


@functools.lru_cache(maxsize=256)
def _params_tensor(cfg: RopeConfig, seq_len: int | None, device: str, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(_params64(cfg, seq_len)[0], dtype=dtype, device=device)   # converted once, then cached


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """fp32 for fp32/bf16/fp16 inputs, float64 for float64 inputs; anything else is a ValueError."""
    if dtype == torch.float64:
        return torch.float64
    if dtype in (torch.float32, torch.bfloat16, torch.float16):
        return torch.float32
    raise ValueError(f"x must be a float32, bfloat16, float16 or float64 tensor, got {dtype}")


def angles(positions: torch.Tensor, inv_freq: torch.Tensor) -> torch.Tensor:
    """φ = m·θ: positions (...) → (..., p), in inv_freq's dtype (the product is rounded once, as in transformers'
    ``inv_freq @ position_ids``)."""
    return positions.to(inv_freq.dtype)[..., None] * inv_freq          # (..., 1) · (p,) → (..., p)


def rotate(x: torch.Tensor, phi: torch.Tensor, af: float, cfg: RopeConfig) -> torch.Tensor:
    """Rotate each pair (a, b) of x (..., d) by φ (broadcastable to (..., p)), scale the rotated channels by ``af``
    and keep channels ≥ r. Computes in phi's dtype and returns phi's dtype. RoFormer Eq. 13."""
    r, p = cfg.rotary_dim, cfg.n_pairs
    xr = x[..., :r].to(phi.dtype)                                   # (..., r) rotated channels, compute dtype
    cos, sin = torch.cos(phi), torch.sin(phi)                        # (..., p)
    if af != 1.0:
        cos, sin = cos * af, sin * af
    # Full-width form (contiguous elementwise ops, fast on CPU): out = x·cos2 + swap(x)·sin2 with, per pair (a, b),
    # swap(x) = (b, a) and sin2 = (−sin, +sin):  a' = a cos − b sin,  b' = b cos + a sin.
    if cfg.layout == "half":
        swapped = torch.cat([xr[..., p:], xr[..., :p]], dim=-1)      # (..., r): (b | a)
        cos2 = torch.cat([cos, cos], dim=-1)                         # (..., r)
        sin2 = torch.cat([-sin, sin], dim=-1)
    else:
        swapped = xr.unflatten(-1, (p, 2)).flip(-1).flatten(-2)      # (..., p, 2) → swap lanes → (..., r)
        cos2 = torch.stack([cos, cos], dim=-1).flatten(-2)           # (..., r): c0 c0 c1 c1 …
        sin2 = torch.stack([-sin, sin], dim=-1).flatten(-2)
    rot = xr * cos2 + swapped * sin2                                 # (..., r)
    if r == cfg.head_dim:
        return rot
    rest = x[..., r:].to(phi.dtype)
    return torch.cat([rot, rest.expand(*rot.shape[:-1], rest.shape[-1])], dim=-1)   # (..., d)


# -- reference formulas used by the benchmark and the accuracy tests ------------------------------------------------
def hf_cos_sin(positions: torch.Tensor, inv_freq32: torch.Tensor, af: float, dtype: torch.dtype
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """transformers' ``LlamaRotaryEmbedding.forward``: emb = cat(freqs, freqs) in fp32, cos/sin · attention_scaling,
    cast to the activations' dtype. positions (B, S) → cos, sin (B, S, r)."""
    freqs = positions.float()[..., None] * inv_freq32.float()       # (B, S, p)
    emb = torch.cat([freqs, freqs], dim=-1)                         # (B, S, r)
    return (emb.cos() * af).to(dtype), (emb.sin() * af).to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def hf_apply_rotary_pos_emb(q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                            unsqueeze_dim: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """transformers' eager ``apply_rotary_pos_emb`` (half layout, full rotary), arithmetic in the input dtype:
    q, k (B, H, S, d); cos, sin (B, S, d) → unsqueezed on the head axis."""
    cos, sin = cos.unsqueeze(unsqueeze_dim), sin.unsqueeze(unsqueeze_dim)
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


def meta_freqs_cis(positions: torch.Tensor, inv_freq32: torch.Tensor, af: float = 1.0) -> torch.Tensor:
    """Meta's ``precompute_freqs_cis``: af·e^{i m θ}, complex64, positions (S,) → (S, p)."""
    freqs = positions.float()[:, None] * inv_freq32.float()         # (S, p)
    return torch.polar(torch.full_like(freqs, af), freqs)


def meta_apply_rotary_emb(xq: torch.Tensor, xk: torch.Tensor, freqs_cis: torch.Tensor
                          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Meta's reference ``apply_rotary_emb`` (interleaved layout): xq (B, S, Hq, d), xk (B, S, Hk, d),
    freqs_cis (S, d/2)."""
    xq_ = torch.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))   # (B, S, H, p) complex
    xk_ = torch.view_as_complex(xk.float().reshape(*xk.shape[:-1], -1, 2))
    fc = freqs_cis.view(1, xq_.shape[1], 1, xq_.shape[-1])                   # (1, S, 1, p)
    xq_out = torch.view_as_real(xq_ * fc).flatten(3)
    xk_out = torch.view_as_real(xk_ * fc).flatten(3)
    return xq_out.type_as(xq), xk_out.type_as(xk)
