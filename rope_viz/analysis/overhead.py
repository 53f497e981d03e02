"""What RoPE costs, analytically: its share of a layer's FLOPs, the cos/sin table's memory against the KV cache, and
the phase error of angles formed in fp32 (pure numpy, float64 reference).

FLOPs (``layer_flops``, ``rope_flops_share``). Rotating q and k costs 3 FLOPs per rotated channel
(x·cos + rotate_half(x)·sin), against the ~2·(parameters) FLOPs per token of the projections and the MLP plus the
attention matmuls: a few thousandths of a percent of a layer (``rope_flops_share`` computes it for given shapes).

Memory. transformers keeps cos and sin of shape (T, r) each (``emb = cat(freqs, freqs)``) in the activations' dtype;
the KV cache of one layer is K and V of shape (T, n_kv, d). So one layer's table over that layer's KV cache is
2·T·r / (2·T·n_kv·d) = r / (n_kv·d): exactly 1/8 = 12.5 % for full rotary and 8 KV heads — but the same table serves
every layer, so against the whole model's KV cache it is 12.5 % / n_layers (0.39 % for 32 layers). A fused kernel
that forms the angles in registers keeps no table at all.

Phase error (Wang et al. 2024, arXiv:2411.13476, on what it does to long-context attention): transformers computes
φ = m·θ_i as fp32(m) × fp32(θ_i), rounded to fp32. Against φ in float64 the error grows ~linearly with m: base 1e4,
d = 128 → 1.2e-4 rad at m = 4096, 9.7e-4 at 32K, 3.9e-3 at 128K, 3.1e-2 at 1M (checked in tests/test_kernel_page.py).
"""

from __future__ import annotations

import numpy as np

from .. import validate as V
from ..config import RopeConfig
from ..frequencies import effective_inv_freq

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "float64": 8, "fp8": 1}
INV_FREQ_DTYPES = ("float32", "bfloat16", "float16")


def round_to_bf16(x) -> np.ndarray:
    """Round float64 values to the nearest bfloat16 (round-half-to-even on the float32 bits), back as float64.
    Same shape as x. (Values are first rounded to float32, as torch's ``.to(torch.bfloat16)`` of a float32 tensor.)"""
    f = np.asarray(x, dtype=np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32).astype(np.float64)


def _count(field: str, v) -> int:
    return V.integer(field, v, 1, 1 << 40)


def layer_flops(*, hidden_size: int, n_heads: int, n_kv_heads: int, head_dim: int, intermediate_size: int,
                seq_len: int, rotary_dim: int | None = None, gated_mlp: bool = True) -> dict[str, int]:
    """FLOPs of one decoder layer's forward pass over a sequence of ``seq_len`` tokens (batch 1), by part.

    Counting convention: one multiply or one add = 1 FLOP, so a matmul (a×b)·(b×c) = 2·a·b·c (Kaplan et al. 2020,
    arXiv:2001.08361, §2.1); norms, softmax, residual adds, activation functions and biases are not counted, and
    attention is counted dense over all T×T (query, key) pairs (no causal halving). Parts (T = seq_len, h =
    hidden_size, H = n_heads, H_kv = n_kv_heads, d = head_dim, I = intermediate_size, r = rotary_dim):
      qkv_proj   2·T·h·(H + 2·H_kv)·d
      attention  2·2·T²·H·d        (q·kᵀ and the weighted sum of v)
      out_proj   2·T·H·d·h
      mlp        2·3·T·h·I  (gated: gate, up, down; 2·2·T·h·I without a gate)
      rope       3·T·r·(H + H_kv)  (x·cos + rotate_half(x)·sin per rotated channel of every q and k head; the
                                    cos/sin table is built once per forward for all layers and not counted)
    Returns those five counts and ``total`` (their sum), as Python ints.
    """
    h, H, Hkv = _count("hidden_size", hidden_size), _count("n_heads", n_heads), _count("n_kv_heads", n_kv_heads)
    d, inter = _count("head_dim", head_dim), _count("intermediate_size", intermediate_size)
    T = _count("seq_len", seq_len)
    r = d if rotary_dim is None else V.integer("rotary_dim", rotary_dim, 0, d)
    parts = {
        "qkv_proj": 2 * T * h * (H + 2 * Hkv) * d,
        "attention": 2 * 2 * T * T * H * d,
        "out_proj": 2 * T * H * d * h,
        "mlp": 2 * (3 if V.choice("gated_mlp", gated_mlp, (True, False)) else 2) * T * h * inter,
        "rope": 3 * T * r * (H + Hkv),
    }
    parts["total"] = sum(parts.values())
    return parts


def rope_flops_share(**shapes) -> float:
    """RoPE's share of one layer's FLOPs, a fraction (multiply by 100 for %): ``rope / total`` of ``layer_flops``
    (same keyword arguments and counting convention). Llama-3-8B shapes (h 4096, 32 heads, 8 KV heads, d 128,
    I 14336) give 3.5e-5 at seq_len 1, falling as attention grows with the sequence."""
    parts = layer_flops(**shapes)
    return parts["rope"] / parts["total"]


def rope_memory(cfg: RopeConfig, *, seq_len: int | None = None, n_layers: int = 32, n_kv_heads: int = 8,
                batch: int = 1, dtype: str = "bfloat16") -> list[dict]:
    """Rows of the memory table (bytes), for ``seq_len`` tokens (default cfg.context_length):

    item, bytes, pct_layer_kv (% of one layer's KV cache), pct_model_kv (% of all n_layers layers' KV cache).
    Items: one layer's KV cache; the whole model's KV cache; the cos/sin table as transformers keeps it (cos and sin
    (T, r) each — shared by all layers, cached once per forward); Meta's freqs_cis ((T, r/2) complex64, fp32 parts);
    the table if every layer built its own (n_layers copies); a fused kernel (0 bytes: angles in registers).
    The KV cache scales with ``batch``; the table does not (positions are shared across the batch).
    """
    V.config("cfg", cfg)
    T = _count("seq_len", seq_len if seq_len is not None else cfg.context_length)
    L, H, B = _count("n_layers", n_layers), _count("n_kv_heads", n_kv_heads), _count("batch", batch)
    e = DTYPE_BYTES[V.choice("dtype", dtype, DTYPE_BYTES)]
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
    return V.config("cfg", cfg).rotary_dim / (_count("n_kv_heads", n_kv_heads) * cfg.head_dim)


def fp32_phase_error(cfg: RopeConfig, positions, seq_len: int | None = None, inv_freq_dtype: str = "float32"
                     ) -> np.ndarray:
    """max_i |fl32(fl32(m)·θ̃_i) − m·θ_i| in radians for each position m (shape positions.shape), where θ_i is the
    float64 inv_freq in effect over ``seq_len`` tokens (default cfg.context_length: ``effective_inv_freq``) and θ̃_i
    its copy rounded to ``inv_freq_dtype`` ("float32" as transformers keeps it; "bfloat16" or "float16" to show what
    a low-precision inv_freq buffer does — transformers #29496). Positions must be integers in [0, 2^24] (exact in
    fp32)."""
    pos = V.float_array("positions", positions)
    if np.any(pos < 0) or np.any(pos > 1 << 24) or np.any(pos != np.round(pos)):
        raise ValueError(f"positions must be integers in [0, 2^24] (tokens); got {V.shorten(positions)}")
    theta = effective_inv_freq(cfg, seq_len)                         # (p,) float64
    dtype = V.choice("inv_freq_dtype", inv_freq_dtype, INV_FREQ_DTYPES)
    if dtype == "float32":
        t_low = theta.astype(np.float32)
    elif dtype == "bfloat16":
        t_low = round_to_bf16(theta).astype(np.float32)
    else:
        t_low = theta.astype(np.float16).astype(np.float32)
    flat = pos.reshape(-1)
    out = np.empty(flat.shape)
    for s in range(0, flat.size, 4096):                              # (chunk, p) at a time
        m = flat[s:s + 4096]
        phi32 = m.astype(np.float32)[:, None] * t_low[None, :]       # fp32 product, rounded to fp32
        out[s:s + 4096] = np.abs(phi32.astype(np.float64) - m[:, None] * theta[None, :]).max(axis=1)
    return out.reshape(pos.shape)
