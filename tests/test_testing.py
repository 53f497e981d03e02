"""rope_viz.testing.check_rope: correct implementations (our numpy core, our torch backend, an HF-style function
written here from transformers' formula) pass; planted bugs are each detected and named."""

from __future__ import annotations

import numpy as np
import pytest

from rope_viz import rotation
from rope_viz.config import RopeConfig
from rope_viz.frequencies import attention_factor, inv_freq
from rope_viz.analysis.overhead import round_to_bf16
from rope_viz.frequencies import effective_attention_factor, effective_inv_freq
from rope_viz.testing import Problem, check_rope

YARN = RopeConfig(64, context_length=8192, scaling={"rope_type": "yarn", "factor": 8.0,
                                                     "original_max_position_embeddings": 1024})
LLAMA3 = RopeConfig(128, base=5e5, context_length=16384, scaling={
    "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
    "original_max_position_embeddings": 2048})


def numpy_rope(cfg):
    return lambda x, pos: rotation.apply_rope(x, pos, cfg)


def manual_rope(head_dim, base=10000.0, layout="half", rotary_dim=None, af=1.0, sign=1.0, theta=None,
                pos_round=None):
    """A from-scratch numpy RoPE with knobs for planting bugs (not using rope_viz.rotation)."""
    r = rotary_dim or head_dim
    p = r // 2
    th = base ** (-np.arange(0, r, 2) / r) if theta is None else np.asarray(theta)

    def fn(x, pos):
        x = np.asarray(x, dtype=np.float64)
        m = np.asarray(pos, dtype=np.float64) if pos_round is None else pos_round(np.asarray(pos))
        phi = m[:, None] * th[None, :]
        c, s = af * np.cos(phi), sign * af * np.sin(phi)
        if layout == "half":
            a, b = x[:, :p], x[:, p:r]
            rot = np.concatenate([a * c - b * s, a * s + b * c], axis=1)
        else:
            a, b = x[:, 0:r:2], x[:, 1:r:2]
            rot = np.stack([a * c - b * s, a * s + b * c], axis=-1).reshape(len(x), r)
        return np.concatenate([rot, x[:, r:]], axis=1)
    return fn


# -- correct implementations pass --------------------------------------------------------------------------------
@pytest.mark.parametrize("cfg", [
    RopeConfig(64), RopeConfig(64, layout="interleaved", base=5e5), RopeConfig(80, rotary_fraction=0.4),
    RopeConfig(128, base=1e6, context_length=32768), YARN, LLAMA3,
    RopeConfig(64, scaling={"rope_type": "linear", "factor": 4.0}),
], ids=lambda c: c.label() + " " + c.layout)
def test_numpy_core_passes_and_is_described(cfg):
    rep = check_rope(numpy_rope(cfg), cfg.head_dim, expected=cfg)
    assert rep.ok, str(rep)
    assert rep.layout == cfg.layout and rep.rotary_dim == cfg.rotary_dim and rep.direction == "standard"
    assert rep.attention_factor == pytest.approx(attention_factor(cfg), rel=1e-9)
    np.testing.assert_allclose(rep.theta, inv_freq(cfg), rtol=1e-9)
    assert rep.max_phase_error < 1e-6
    if cfg.rope_type in ("default", "linear", "llama3"):
        assert rep.base == pytest.approx(cfg.base, rel=1e-6)
    expect_pattern = {"default": "none", "linear": "linear", "llama3": "by-parts"}.get(cfg.rope_type)
    if expect_pattern:
        assert rep.scaling == expect_pattern
    if cfg.rope_type in ("linear", "llama3"):
        assert rep.scaling_factor == pytest.approx(cfg.scaling["factor"], rel=1e-6)
    assert "OK" in str(rep)


def test_without_expected_describes_the_function():
    cfg = RopeConfig(96, base=5e5, layout="interleaved")
    rep = check_rope(numpy_rope(cfg), 96)
    assert rep.ok and rep.detected_config() == cfg
    assert rep.scaling == "none" and rep.scaling_factor is None


def test_torch_backend_passes_with_torch_inputs():
    torch = pytest.importorskip("torch")
    import rope_viz.torch_backend as tb
    cfg = RopeConfig(64, base=5e5, context_length=32768)

    def torch_only(x, pos):                      # refuses numpy: exercises the automatic torch fallback
        assert isinstance(x, torch.Tensor)
        return tb.apply_rope(x, pos, cfg)
    rep = check_rope(torch_only, 64, expected=cfg)
    assert rep.ok, str(rep)
    assert 0 < rep.max_phase_error < 0.05         # fp32 angles: small, nonzero phase drift at 32K
    bf16 = check_rope(lambda x, pos: tb.apply_rope(x.to(torch.bfloat16), pos, cfg), 64, expected=cfg,
                      inputs="torch")
    assert bf16.ok, str(bf16)


def hf_style(head_dim, base, inv_dtype=None):
    """transformers' LlamaRotaryEmbedding + apply_rotary_pos_emb, written out (half layout)."""
    torch = pytest.importorskip("torch")

    def fn(x, pos):
        inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
        if inv_dtype is not None:
            inv = inv.to(inv_dtype).float()       # the planted bug: inv_freq kept in bf16
        freqs = pos.float()[:, None] * inv[None, :]
        emb = torch.cat([freqs, freqs], dim=-1)
        x1, x2 = x[..., : head_dim // 2], x[..., head_dim // 2:]
        return x * emb.cos() + torch.cat([-x2, x1], dim=-1) * emb.sin()
    return fn


def test_hf_style_implementation_passes():
    cfg = RopeConfig(128, base=5e5, context_length=131072)
    rep = check_rope(hf_style(128, 5e5), 128, expected=cfg, inputs="torch")
    assert rep.ok, str(rep)
    assert rep.max_phase_error > 1e-4             # fp32 angle error at 128K is real but within tolerance


# -- planted bugs are detected and named ---------------------------------------------------------------------------
def test_layout_swapped_is_named():
    cfg = RopeConfig(64)                                              # transformers: half
    rep = check_rope(manual_rope(64, layout="interleaved"), 64, expected=cfg)   # Meta's pairing
    assert rep.codes == ["layout"], str(rep)
    assert rep.layout == "interleaved" and "permute" in str(rep)
    rep2 = check_rope(manual_rope(64, layout="half"), 64, expected=cfg.replace(layout="interleaved"))
    assert rep2.codes == ["layout"]


def test_bf16_inv_freq_is_named():
    cfg = RopeConfig(128, base=5e5, context_length=32768)
    rep = check_rope(hf_style(128, 5e5, inv_dtype=__import__("torch").bfloat16), 128, expected=cfg,
                     inputs="torch")
    assert rep.codes == ["bf16_inv_freq"], str(rep)
    assert rep.max_phase_error > 1.0                                  # radians of drift (transformers #29496)
    # the same bug in numpy, with the rounding done by our helper
    theta = round_to_bf16(inv_freq(cfg))
    rep2 = check_rope(manual_rope(128, theta=theta), 128, expected=cfg)
    assert rep2.codes == ["bf16_inv_freq"]


def test_fp16_inv_freq_is_named():
    cfg = RopeConfig(64, context_length=65536)
    theta = inv_freq(cfg).astype(np.float16).astype(np.float64)
    rep = check_rope(manual_rope(64, theta=theta), 64, expected=cfg)
    assert rep.codes == ["fp16_inv_freq"], str(rep)


def test_reversed_direction_is_named():
    rep = check_rope(manual_rope(64, sign=-1.0), 64, expected=RopeConfig(64))
    assert "direction" in rep.codes and rep.direction == "reversed"
    assert not rep.ok
    # also flagged without an expected config
    assert check_rope(manual_rope(64, sign=-1.0), 64).codes == ["direction"]


def test_wrong_base_is_named():
    rep = check_rope(manual_rope(64, base=5e5), 64, expected=RopeConfig(64, base=1e4))
    assert rep.codes == ["base"], str(rep)
    assert rep.base == pytest.approx(5e5, rel=1e-6)


def test_missing_attention_factor_is_named():
    theta = inv_freq(YARN)
    assert attention_factor(YARN) > 1.1
    rep = check_rope(manual_rope(64, theta=theta), 64, expected=YARN)
    assert rep.codes == ["attention_factor"], str(rep)
    assert "missing" in str(rep)
    ok = check_rope(manual_rope(64, theta=theta, af=attention_factor(YARN)), 64, expected=YARN)
    assert ok.ok


def test_partial_rotary_mismatch_is_named():
    rep = check_rope(manual_rope(64, rotary_dim=32), 64, expected=RopeConfig(64))
    assert rep.codes == ["rotary_dim"] and rep.rotary_dim == 32


def test_missing_scaling_is_reported_as_frequencies():
    rep = check_rope(numpy_rope(LLAMA3.replace(scaling=None)), 128, expected=LLAMA3)
    assert rep.codes == ["frequencies"], str(rep)


def test_not_rope_and_rounded_positions():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((16, 16))
    assert check_rope(lambda x, pos: x @ W, 16).codes == ["not_rope"]
    assert check_rope(lambda x, pos: x, 16).codes == ["not_rope"]
    bf16_positions = manual_rope(64, pos_round=lambda m: round_to_bf16(m))
    assert "nonlinear_phase" in check_rope(bf16_positions, 64, expected=RopeConfig(64)).codes


def test_report_is_readable():
    rep = check_rope(manual_rope(64, layout="interleaved", sign=-1.0), 64, expected=RopeConfig(64))
    text = str(rep)
    assert text.startswith("RoPE check: PROBLEMS FOUND")
    assert "[layout]" in text and "[direction]" in text and "detected: layout interleaved" in text
    assert all(isinstance(p, Problem) for p in rep.problems)


def test_bad_arguments():
    f = numpy_rope(RopeConfig(8))
    with pytest.raises(ValueError, match="head_dim must be even"):
        check_rope(f, 7)
    for bad in (True, 8.5, "8", None):
        with pytest.raises(ValueError, match=r"head_dim must be an integer in \[2, 1024\]"):
            check_rope(f, bad)
    with pytest.raises(ValueError, match="expected must be a RopeConfig"):
        check_rope(f, 8, expected={"head_dim": 8})
    with pytest.raises(ValueError, match="inputs must be one of auto, numpy, torch; got 'jax'"):
        check_rope(f, 8, inputs="jax")
    for bad in (0.0, float("nan"), -1):
        with pytest.raises(ValueError, match="phase_tol must be a finite number > 0"):
            check_rope(f, 8, phase_tol=bad)
    with pytest.raises(ValueError, match="differs from head_dim"):
        check_rope(f, 8, expected=RopeConfig(16))
    with pytest.raises(ValueError, match="must return an array of x's shape"):
        check_rope(lambda x, pos: x[:, :4], 8)
    with pytest.raises(ValueError, match="calling fn"):
        check_rope(lambda x, pos: 1 / 0, 8, inputs="numpy")
    with pytest.raises(ValueError, match="max_position"):
        check_rope(f, 8, max_position=1)


def test_longrope_expected_over_the_probed_length():
    """A LongRoPE model run on max_position tokens uses its long factors past the original context (transformers'
    longrope_frequency_update): check_rope compares against those by default, the short ones with seq_len ≤ original."""
    p = 32
    cfg = RopeConfig(64, context_length=8192, scaling={
        "rope_type": "longrope", "short_factor": [1.0] * p, "long_factor": [1.0 + i / 4 for i in range(p)],
        "original_max_position_embeddings": 1024})
    long_model = manual_rope(64, theta=effective_inv_freq(cfg, 8192), af=effective_attention_factor(cfg))
    assert check_rope(long_model, 64, expected=cfg).ok
    rep = check_rope(long_model, 64, expected=cfg, seq_len=1024)
    assert "frequencies" in rep.codes
