"""rope_viz.analysis.overhead: RoPE's share of a layer's FLOPs against a hand count, and the bf16 rounding helper
against torch. (Memory and fp32 phase error: tests/test_kernel_page.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from rope_viz.analysis.overhead import layer_flops, round_to_bf16, rope_flops_share

LLAMA3_8B = dict(hidden_size=4096, n_heads=32, n_kv_heads=8, head_dim=128, intermediate_size=14336)


def test_layer_flops_hand_count_tiny():
    """h = 8, 2 heads, 1 KV head, d = 4, I = 16, T = 3, r = 2, written out multiply by multiply."""
    T = 3
    q = T * 8 * (2 * 4) * 2            # T·(2·4) outputs of the q projection, each 8 multiplies + 8 adds
    kv = 2 * T * 8 * (1 * 4) * 2
    scores = 2 * (T * T) * 4 * 2       # 2 heads, T×T dot products of length 4
    weighted = 2 * (T * T) * 4 * 2     # per head: T outputs of 4 channels, each a length-T sum
    out = T * 8 * (2 * 4) * 2
    mlp = 3 * T * 8 * 16 * 2           # gate, up (8 → 16) and down (16 → 8)
    rope = T * (2 + 1) * (2 // 2) * 6  # q and k heads × 1 rotated pair × (4 multiplies + 2 adds)
    got = layer_flops(hidden_size=8, n_heads=2, n_kv_heads=1, head_dim=4, intermediate_size=16, seq_len=T,
                      rotary_dim=2)
    assert got == {"qkv_proj": q + kv, "attention": scores + weighted, "out_proj": out, "mlp": mlp, "rope": rope,
                   "total": q + kv + scores + weighted + out + mlp + rope}
    ungated = layer_flops(hidden_size=8, n_heads=2, n_kv_heads=1, head_dim=4, intermediate_size=16, seq_len=T,
                          gated_mlp=False)
    assert ungated["mlp"] == 2 * T * 8 * 16 * 2 and ungated["rope"] == T * 3 * 4 * 3


def test_rope_share_llama3_8b():
    """Llama-3-8B at one token: RoPE 3·128·40 = 15,360 FLOPs of 436,239,360 → 0.0035 %; falling with length as
    attention grows (0.0027 % at 8K)."""
    assert layer_flops(**LLAMA3_8B, seq_len=1)["total"] == 436_239_360
    assert rope_flops_share(**LLAMA3_8B, seq_len=1) == pytest.approx(15_360 / 436_239_360, rel=1e-15)
    assert 100 * rope_flops_share(**LLAMA3_8B, seq_len=1) == pytest.approx(0.0035, abs=5e-5)
    assert 100 * rope_flops_share(**LLAMA3_8B, seq_len=8192) == pytest.approx(0.0027, abs=5e-5)
    shares = [rope_flops_share(**LLAMA3_8B, seq_len=T) for T in (1, 1024, 8192, 131072)]
    assert shares == sorted(shares, reverse=True)


@pytest.mark.parametrize("kw,match", [
    (dict(seq_len=0), r"seq_len must be an integer in \[1, "), (dict(seq_len=1.5), "seq_len must be an integer"),
    (dict(seq_len=1, n_heads=True), "n_heads must be an integer"),
    (dict(seq_len=1, rotary_dim=256), r"rotary_dim must be an integer in \[0, 128\]"),
    (dict(seq_len=1, gated_mlp="yes"), "gated_mlp must be one of True, False"),
])
def test_layer_flops_rejects(kw, match):
    with pytest.raises(ValueError, match=match):
        layer_flops(**{**LLAMA3_8B, **kw})


def test_round_to_bf16_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal(1000) * 10.0 ** np.random.default_rng(2).integers(-5, 5, 1000)
    ref = torch.tensor(x, dtype=torch.float32).to(torch.bfloat16).double().numpy()
    np.testing.assert_array_equal(round_to_bf16(x), ref)
