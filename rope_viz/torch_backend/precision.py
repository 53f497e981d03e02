"""The precision lab: how far RoPE in fp32 / bf16 / fp16 on the actual device is from being relative-position
invariant.

RoPE's promise (RoFormer §3.2): ⟨R_{m+Δ} q, R_m k⟩ depends on Δ only. Wang et al. 2024 ("When Precision Meets
Position: BFloat16 Breaks Down RoPE in Long-Context Training", arXiv:2411.13476) show that in bf16 it does not: the
score drifts as the same (q, k, Δ) is moved to larger positions m. Here: random q, k (standard normal, logits scaled
by 1/√d, so a logit is ~N(0, 1)), a fixed distance Δ, start positions m; each precision rotates q at m + Δ and k at m
the way transformers' eager path does (angles in fp32, cos/sin cast to the dtype, the rotation's arithmetic in the
dtype), the dot product is taken in float64 (attention matmuls accumulate in fp32; this isolates RoPE's own error),
and compared with the exact float64 score at Δ of the same q, k rounded to the dtype (input rounding is not RoPE's). "bf16, fp32 math" is the rope_viz kernel's recipe (rotate in fp32,
round the output once to bf16).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..config import RopeConfig
from . import apply_rope, default_device
from ._eager import rope_params

VARIANTS = ("fp32", "bf16", "fp16", "bf16, fp32 math")
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def _rotate_lowp(x: torch.Tensor, pos: torch.Tensor, cfg: RopeConfig, dtype: torch.dtype) -> torch.Tensor:
    """transformers-style rotation in ``dtype``: fp32 angles, cos/sin (·attention factor) cast to dtype, x in dtype,
    products and sums in dtype, with the frequencies in effect over the config's context (seq_len =
    cfg.context_length: LongRoPE's long factors past its original context, dynamic NTK's grown base, as
    ``effective_inv_freq``). x (n, d), pos (n,) → (n, d) in dtype."""
    theta32, af = rope_params(cfg, cfg.context_length, device=x.device)
    phi = pos.float()[:, None] * theta32                            # (n, p) fp32
    cos, sin = (torch.cos(phi) * af).to(dtype), (torch.sin(phi) * af).to(dtype)
    xl = x.to(dtype)
    r, p = cfg.rotary_dim, cfg.n_pairs
    if cfg.layout == "half":
        a, b = xl[:, :p], xl[:, p:r]
        rot = torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
    else:
        a, b = xl[:, 0:r:2], xl[:, 1:r:2]
        rot = torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)
    return torch.cat([rot, xl[:, r:]], dim=-1)


def invariance_error(cfg: RopeConfig, positions, *, distance: int = 16, n_samples: int = 256,
                     variants=VARIANTS, device=None, seed: int = 0) -> dict[str, np.ndarray]:
    """Mean |logit(m) − logit_exact| over ``n_samples`` random (q, k), for each start position m: a dict
    variant → (len(positions),) array in logit units (q·k/√d). Also key "positions". Variants from ``VARIANTS``.
    Every rotation uses the frequencies in effect over cfg's context (``effective_inv_freq``)."""
    bad = sorted(set(variants) - set(VARIANTS))
    if bad:
        raise ValueError(f"unknown variant(s) {', '.join(bad)}; allowed: {', '.join(VARIANTS)}")
    pos = np.asarray(positions)
    if pos.ndim != 1 or pos.size == 0 or pos.dtype.kind not in "iu" or pos.min() < 0 or \
            pos.max() + distance > (1 << 24):
        raise ValueError("positions must be a non-empty 1-D array of integers in [0, 2^24 − distance]")
    if isinstance(distance, bool) or int(distance) != distance or distance < 0:
        raise ValueError(f"distance must be a non-negative integer, got {distance!r}")
    if isinstance(n_samples, bool) or int(n_samples) != n_samples or not 1 <= n_samples <= 65536:
        raise ValueError(f"n_samples must be an integer in [1, 65536], got {n_samples!r}")
    dev = torch.device(device) if device is not None else default_device()
    d, L = cfg.head_dim, cfg.context_length          # frequencies in effect over the context (seq_len = L)
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(n_samples, d, generator=g, dtype=torch.float64)
    k = torch.randn(n_samples, d, generator=g, dtype=torch.float64)
    scale = 1.0 / math.sqrt(d)
    z = torch.zeros(n_samples, dtype=torch.int64)
    qd, kd = q.to(dev), k.to(dev)
    out = {"positions": pos.astype(np.int64)}
    for v in variants:
        # exact score at Δ (position independent) of the q, k this precision actually holds: rounding q and k to the
        # dtype is not RoPE's error, so the reference rotates the rounded inputs in float64 at (Δ, 0)
        dt = torch.bfloat16 if v.startswith("bf16") else _DTYPES[v]
        q_in, k_in = q.to(dt).double(), k.to(dt).double()
        exact = (apply_rope(q_in, z + distance, cfg, L) * apply_rope(k_in, z, cfg, L)).sum(-1) * scale   # (n,)
        P, n = pos.size, n_samples
        pm = torch.as_tensor(pos, dtype=torch.int64, device=dev)[:, None].expand(P, n).reshape(-1)   # (P·n,)
        qr, kr = qd.repeat(P, 1), kd.repeat(P, 1)                  # (P·n, d): every sample at every position
        if v == "bf16, fp32 math":
            rq = apply_rope(qr.to(torch.bfloat16), pm + distance, cfg, L)
            rk = apply_rope(kr.to(torch.bfloat16), pm, cfg, L)
        else:
            rq = _rotate_lowp(qr, pm + distance, cfg, _DTYPES[v])
            rk = _rotate_lowp(kr, pm, cfg, _DTYPES[v])
        s = (rq.double() * rk.double()).sum(-1).cpu().reshape(P, n) * scale            # (P, n)
        errs = (s - exact[None, :]).abs().mean(dim=1).numpy()
        out[v] = errs
    return out
