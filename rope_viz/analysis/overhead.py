"""What RoPE costs, analytically: the cos/sin table's memory against the KV cache, and the phase error of angles
formed in fp32 (pure numpy, float64 reference).

Memory (rope-literature §8). transformers keeps cos and sin of shape (T, r) each (``emb = cat(freqs, freqs)``) in the
activations' dtype; the KV cache of one layer is K and V of shape (T, n_kv, d). So one layer's table over that layer's
KV cache is 2·T·r / (2·T·n_kv·d) = r / (n_kv·d): exactly 1/8 = 12.5 % for full rotary and 8 KV heads — the seed's
"12.5 % memory" — but the same table serves every layer, so against the whole model's KV cache it is
12.5 % / n_layers (0.39 % for 32 layers). A fused kernel that forms the angles in registers keeps no table at all.

Phase error (rope-literature §6c; Wang et al. 2024, arXiv:2411.13476, on what it does to long-context attention):
transformers computes φ = m·θ_i as fp32(m) × fp32(θ_i), rounded to fp32. Against φ in float64 the error grows
~linearly with m: base 1e4 → 1.2e-4 rad at m = 4096, 9.7e-4 at 32K, 3.9e-3 at 128K, 3.1e-2 at 1M.
"""

from __future__ import annotations

import numpy as np

from ..config import RopeConfig
from ..frequencies import inv_freq

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "float64": 8, "fp8": 1}


def _positive_int(name: str, v) -> int:
    if isinstance(v, bool) or int(v) != v or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def rope_memory(cfg: RopeConfig, *, seq_len: int | None = None, n_layers: int = 32, n_kv_heads: int = 8,
                batch: int = 1, dtype: str = "bfloat16") -> list[dict]:
    """Rows of the memory table (bytes), for ``seq_len`` tokens (default cfg.context_length):

    item, bytes, pct_layer_kv (% of one layer's KV cache), pct_model_kv (% of all n_layers layers' KV cache).
    Items: one layer's KV cache; the whole model's KV cache; the cos/sin table as transformers keeps it (cos and sin
    (T, r) each — shared by all layers, cached once per forward); Meta's freqs_cis ((T, r/2) complex64, fp32 parts);
    the table if every layer built its own (n_layers copies); a fused kernel (0 bytes: angles in registers).
    The KV cache scales with ``batch``; the table does not (positions are shared across the batch).
    """
    T = _positive_int("seq_len", seq_len if seq_len is not None else cfg.context_length)
    L = _positive_int("n_layers", n_layers)
    H = _positive_int("n_kv_heads", n_kv_heads)
    B = _positive_int("batch", batch)
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    e = DTYPE_BYTES[dtype]
    d, r = cfg.head_dim, cfg.rotary_dim
    kv_layer = 2 * B * T * H * d * e                 # K and V: (B, T, n_kv, d) each
    table = 2 * T * r * e                            # cos and sin: (T, r) each
    rows = [
        ("KV cache, one layer", kv_layer),
        (f"KV cache, whole model ({L} layers)", kv_layer * L),
        ("cos/sin table (transformers: cos, sin (T, r), shared by all layers)", table),
        ("freqs_cis (Meta: (T, r/2) complex64, shared)", T * (r // 2) * 8),
        (f"cos/sin table if each of the {L} layers kept its own", table * L),
        ("fused kernel (angles in registers, no table)", 0),
    ]
    return [dict(item=name, bytes=int(b), pct_layer_kv=100.0 * b / kv_layer, pct_model_kv=100.0 * b / (kv_layer * L))
            for name, b in rows]


def table_share_of_layer_kv(cfg: RopeConfig, n_kv_heads: int) -> float:
    """r / (n_kv · d): one layer's cos/sin table over one layer's KV cache (same dtype), a fraction (0.125 for full
    rotary and 8 KV heads)."""
    return cfg.rotary_dim / (_positive_int("n_kv_heads", n_kv_heads) * cfg.head_dim)


def fp32_phase_error(cfg: RopeConfig, positions, seq_len: int | None = None, inv_freq_dtype: str = "float32"
                     ) -> np.ndarray:
    """max_i |fl32(fl32(m)·θ̃_i) − m·θ_i| in radians for each position m (shape positions.shape), where θ_i is the
    float64 inv_freq and θ̃_i its copy rounded to ``inv_freq_dtype`` ("float32" as transformers keeps it; "bfloat16"
    or "float16" to show what a low-precision inv_freq buffer does — transformers #29496). Positions must be
    integers in [0, 2^24] (exact in fp32)."""
    pos = np.asarray(positions)
    if pos.dtype.kind not in "iuf" or not np.all(np.isfinite(pos)) or np.any(pos < 0) or np.any(pos > 1 << 24) \
            or np.any(pos != np.round(pos)):
        raise ValueError("positions must be integers in [0, 2^24] (tokens)")
    theta = inv_freq(cfg, seq_len)                                   # (p,) float64
    if inv_freq_dtype == "float32":
        t_low = theta.astype(np.float32)
    elif inv_freq_dtype == "bfloat16":
        from ..testing import round_to_bf16
        t_low = round_to_bf16(theta).astype(np.float32)
    elif inv_freq_dtype == "float16":
        t_low = theta.astype(np.float16).astype(np.float32)
    else:
        raise ValueError(f"inv_freq_dtype must be float32, bfloat16 or float16, got {inv_freq_dtype!r}")
    flat = pos.reshape(-1).astype(np.float64)
    out = np.empty(flat.shape)
    for s in range(0, flat.size, 4096):                              # (chunk, p) at a time
        m = flat[s:s + 4096]
        phi32 = m.astype(np.float32)[:, None] * t_low[None, :]       # fp32 product, rounded to fp32
        out[s:s + 4096] = np.abs(phi32.astype(np.float64) - m[:, None] * theta[None, :]).max(axis=1)
    return out.reshape(pos.shape)
