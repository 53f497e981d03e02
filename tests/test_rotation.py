"""rope_viz.rotation against independent references (float64 throughout).

* hypothesis properties: norms preserved (attention factor 1), scores depend only on m − n (≤ 1e-9 of Σ|pair
  products|), the two layouts agree under ``layout_permutation``, rotating by −p undoes p;
* apply_rope == apply_rope_complex == the per-pair loop ``naive_rotate`` in tests/naive.py for both layouts, partial
  rotary and attention factors ≠ 1; output shapes under broadcasting;
* transformers: Llama's and GPT-NeoX's ``apply_rotary_pos_emb`` (half layout, GPT-NeoX slicing for partial rotary)
  and GPT-J's ``apply_rotary_pos_emb``/``rotate_every_two`` (interleaved), with cos/sin built in float64 from our
  inv_freq; ``layout_permutation`` against convert_llama_weights_to_hf's ``permute`` (re-implemented below from its
  definition), and Meta's complex rotation on interleaved weights vs the HF rotation on permuted weights.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rope_viz.config import RopeConfig
from rope_viz.frequencies import attention_factor, inv_freq
from rope_viz.rotation import (apply_rope, apply_rope_complex, freqs_cis, layout_permutation, pair_indices,
                               rope_angles, to_complex)

from naive import naive_pairs, naive_rotate  # tests/ is on sys.path (conftest.py)

HEAD_DIMS = [2, 4, 6, 8, 16, 32, 64, 80, 96, 128, 256]
FRACTIONS = [1.0, 1.0, 0.5, 0.25, 0.75]
LAYOUTS = ["half", "interleaved"]


@st.composite
def configs(draw, scaled=False, layout=None):
    head_dim = draw(st.sampled_from(HEAD_DIMS))
    frac = draw(st.sampled_from(FRACTIONS))
    assume(int(head_dim * frac) >= 2 and int(head_dim * frac) % 2 == 0)
    base = 10 ** draw(st.floats(1.0, 9.0))
    layout = layout or draw(st.sampled_from(LAYOUTS))
    sc = None
    if scaled:
        r = int(head_dim * frac)
        sc = draw(st.sampled_from([
            None,
            {"rope_type": "yarn", "factor": 16.0, "original_max_position_embeddings": 1024},      # af 1.277
            {"rope_type": "longrope", "short_factor": [1.0] * (r // 2), "long_factor": [4.0] * (r // 2),
             "original_max_position_embeddings": 1024},                                          # af √(1+ln4/ln1024)
            {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 1024, "attention_factor": 0.5},
            {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
             "original_max_position_embeddings": 1024},
        ]))
    return RopeConfig(head_dim=head_dim, base=base, rotary_fraction=frac, layout=layout, scaling=sc,
                      context_length=4096)


def vectors(d, n=None, scale=1.0):
    """Gaussian vectors (seeded by hypothesis, magnitude 1e-3 … 1e3 × scale) plus a sparse hypothesis-drawn array
    (zeros, extremes and edge values at a few channels): broad coverage at a fraction of the cost of drawing every
    float of a (n, 256) array through hypothesis."""
    shape = (d,) if n is None else (n, d)
    return st.builds(
        lambda seed, e, sparse: np.random.default_rng(seed).normal(size=shape) * scale * 10.0 ** e + sparse,
        st.integers(0, 2 ** 32 - 1), st.sampled_from([-3, 0, 0, 0, 3]),
        arrays(np.float64, shape, elements=st.floats(-scale, scale), fill=st.just(0.0)))


positions = st.one_of(st.integers(-(1 << 20), 1 << 20), st.floats(-1e6, 1e6))


def _rotate_all(x, ps, cfg, af=None, seq_len=None):
    """naive_rotate for each row of x (n, d) at ps (n,)."""
    theta = list(inv_freq(cfg, seq_len))
    af = attention_factor(cfg, seq_len) if af is None else af
    return np.stack([naive_rotate(x[j], float(ps[j]), theta, cfg.rotary_dim, cfg.layout, af) for j in range(len(x))])


# -- properties -------------------------------------------------------------------------------------------------------
@settings(max_examples=80)
@given(data=st.data())
def test_norm_preserved(data):
    cfg = data.draw(configs())
    x = data.draw(vectors(cfg.head_dim, 3, scale=100.0))
    ps = np.array(data.draw(st.lists(positions, min_size=3, max_size=3)), dtype=np.float64)
    y = apply_rope(x, ps, cfg)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12, atol=1e-12)
    # the pass-through channels are untouched, bit for bit
    np.testing.assert_array_equal(y[:, cfg.rotary_dim:], x[:, cfg.rotary_dim:])


def _pair_abs_products(q, k, cfg):
    """Σ_i |q_i||k_i| over pairs (complex magnitudes) + Σ |q_j k_j| over pass-through channels: the natural scale of a
    RoPE score q·k at any relative position."""
    a, b = pair_indices(cfg)
    qa, qb, ka, kb = q[..., a], q[..., b], k[..., a], k[..., b]
    rot = np.sum(np.hypot(qa, qb) * np.hypot(ka, kb), axis=-1)
    return rot + np.sum(np.abs(q[..., cfg.rotary_dim:] * k[..., cfg.rotary_dim:]), axis=-1)


@settings(max_examples=80)
@given(data=st.data())
def test_score_depends_only_on_relative_position(data):
    cfg = data.draw(configs(scaled=True))
    q = data.draw(vectors(cfg.head_dim))
    k = data.draw(vectors(cfg.head_dim))
    m, n, t = (data.draw(st.integers(-(1 << 20), 1 << 20)) for _ in range(3))
    s1 = apply_rope(q, m, cfg) @ apply_rope(k, n, cfg)
    s2 = apply_rope(q, m + t, cfg) @ apply_rope(k, n + t, cfg)
    s0 = apply_rope(q, m - n, cfg) @ apply_rope(k, 0, cfg)
    af2 = attention_factor(cfg) ** 2
    scale = max(_pair_abs_products(q, k, cfg) * max(af2, 1.0), 1e-300)
    assert abs(s1 - s2) <= 1e-9 * scale
    assert abs(s1 - s0) <= 1e-9 * scale
    # and it is the closed form Re Σ h_i e^{i(m−n)θ_i} (RoFormer §3.4), h_i = q_i conj(k_i)
    h = to_complex(q, cfg) * np.conj(to_complex(k, cfg))
    closed = af2 * np.real(np.sum(h * np.exp(1j * (m - n) * inv_freq(cfg)))) + q[cfg.rotary_dim:] @ k[cfg.rotary_dim:]
    assert abs(s1 - closed) <= 1e-9 * scale


@settings(max_examples=80)
@given(data=st.data())
def test_layouts_agree_under_permutation(data):
    cfg_i = data.draw(configs(scaled=True, layout="interleaved"))
    cfg_h = cfg_i.replace(layout="half")
    perm = layout_permutation(cfg_i.head_dim, cfg_i.rotary_dim, src="interleaved", dst="half")
    x = data.draw(vectors(cfg_i.head_dim, 2, scale=10.0))
    ps = np.array(data.draw(st.lists(positions, min_size=2, max_size=2)))
    np.testing.assert_allclose(apply_rope(x, ps, cfg_i)[..., perm], apply_rope(x[..., perm], ps, cfg_h),
                               rtol=0, atol=0)  # the same arithmetic on the same numbers: bit-identical
    # and back: half → interleaved is the inverse permutation
    back = layout_permutation(cfg_i.head_dim, cfg_i.rotary_dim, src="half", dst="interleaved")
    np.testing.assert_array_equal(perm[back], np.arange(cfg_i.head_dim))
    np.testing.assert_array_equal(back, np.argsort(perm))


@settings(max_examples=80)
@given(data=st.data())
def test_negative_rotation_undoes(data):
    cfg = data.draw(configs(scaled=True))
    x = data.draw(vectors(cfg.head_dim, 2, scale=10.0))
    p = np.array(data.draw(st.lists(positions, min_size=2, max_size=2)))
    y = apply_rope(apply_rope(x, p, cfg), -p, cfg)
    af2 = attention_factor(cfg) ** 2     # both passes scale the rotated channels by the attention factor
    expected = x.copy()
    expected[:, :cfg.rotary_dim] *= af2
    np.testing.assert_allclose(y, expected, rtol=1e-9, atol=1e-9 * max(1.0, np.abs(x).max()))


@settings(max_examples=60)
@given(data=st.data())
def test_matches_naive_loop_and_complex_form(data):
    cfg = data.draw(configs(scaled=True))
    n = 3
    x = data.draw(vectors(cfg.head_dim, n, scale=10.0))
    ps = np.array(data.draw(st.lists(positions, min_size=n, max_size=n)))
    seq_len = data.draw(st.sampled_from([None, 4096, 1 << 16]))
    ref = _rotate_all(x, ps, cfg, seq_len=seq_len)
    tol = dict(rtol=1e-9, atol=1e-9 * max(1.0, np.abs(x).max()))
    np.testing.assert_allclose(apply_rope(x, ps, cfg, seq_len), ref, **tol)
    np.testing.assert_allclose(apply_rope_complex(x, ps, cfg, seq_len), ref, **tol)


def test_naive_loop_small_case_by_hand():
    """A case worked by hand: d = 4, base 100, position 1 → θ = (1, 0.1); half layout pairs (0,2), (1,3)."""
    cfg = RopeConfig(4, base=100.0)
    x = np.array([1.0, 2.0, 3.0, 4.0])
    c0, s0, c1, s1 = math.cos(1), math.sin(1), math.cos(0.1), math.sin(0.1)
    expected = [1 * c0 - 3 * s0, 2 * c1 - 4 * s1, 1 * s0 + 3 * c0, 2 * s1 + 4 * c1]
    np.testing.assert_allclose(apply_rope(x, 1, cfg), expected, rtol=1e-15)
    inter = cfg.replace(layout="interleaved")   # pairs (0,1), (2,3)
    expected_i = [1 * c0 - 2 * s0, 1 * s0 + 2 * c0, 3 * c1 - 4 * s1, 3 * s1 + 4 * c1]
    np.testing.assert_allclose(apply_rope(x, 1, inter), expected_i, rtol=1e-15)


# -- shapes, helpers, bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape,p_shape,out_shape", [
    ((8,), (), (8,)),
    ((8,), (5,), (5, 8)),
    ((5, 8), (5,), (5, 8)),
    ((5, 8), (), (5, 8)),
    ((2, 3, 5, 8), (5,), (2, 3, 5, 8)),
    ((2, 1, 8), (1, 7), (2, 7, 8)),
    ((1, 8), (4, 3), (4, 3, 8)),
])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_broadcast_shapes(x_shape, p_shape, out_shape, layout):
    cfg = RopeConfig(8, layout=layout, rotary_fraction=0.5)
    rng = np.random.default_rng(0)
    x = rng.normal(size=x_shape)
    p = rng.integers(0, 1000, size=p_shape)
    y = apply_rope(x, p, cfg)
    assert y.shape == out_shape and y.dtype == np.float64
    np.testing.assert_allclose(apply_rope_complex(x, p, cfg), y, rtol=1e-12, atol=1e-12)
    # each output row equals rotating its broadcast input row alone
    xb = np.broadcast_to(x, out_shape).reshape(-1, 8)
    pb = np.broadcast_to(p, out_shape[:-1]).reshape(-1)
    np.testing.assert_allclose(y.reshape(-1, 8), _rotate_all(xb, pb, cfg), rtol=1e-12, atol=1e-12)
    assert rope_angles(p, cfg).shape == np.shape(p) + (cfg.n_pairs,)
    assert freqs_cis(p, cfg).shape == np.shape(p) + (cfg.n_pairs,)
    assert to_complex(x, cfg).shape == x_shape[:-1] + (cfg.n_pairs,)


def test_inputs_not_modified_and_int_input():
    cfg = RopeConfig(8)
    x = np.arange(8.0)
    x0 = x.copy()
    apply_rope(x, 3, cfg)
    apply_rope_complex(x, 3, cfg)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_allclose(apply_rope(np.arange(8), 3, cfg), apply_rope(x, 3, cfg), rtol=0)


@pytest.mark.parametrize("fn", [apply_rope, apply_rope_complex])
def test_bad_inputs(fn):
    cfg = RopeConfig(8)
    with pytest.raises(ValueError, match="head_dim=8"):
        fn(np.ones(6), 0, cfg)
    with pytest.raises(ValueError, match="head_dim=8"):
        fn(np.float64(1.0), 0, cfg)
    with pytest.raises(ValueError, match="finite"):
        fn(np.array([np.nan] + [0.0] * 7), 0, cfg)
    with pytest.raises(ValueError, match="positions"):
        fn(np.ones(8), np.inf, cfg)
    with pytest.raises(ValueError, match="real"):
        fn(np.ones(8, dtype=complex), 0, cfg)
    with pytest.raises(ValueError):
        fn(np.ones((3, 8)), np.arange(4), cfg)   # shapes (3,) and (4,) do not broadcast


def test_pair_indices_and_angles():
    for r, layout in [(8, "half"), (8, "interleaved"), (6, "half"), (2, "interleaved")]:
        cfg = RopeConfig(16, rotary_fraction=r / 16, layout=layout)
        a, b = pair_indices(cfg)
        assert list(zip(a.tolist(), b.tolist())) == naive_pairs(r, layout)
    cfg = RopeConfig(64, 5e5)
    np.testing.assert_allclose(rope_angles(np.array([0, 1, 1000]), cfg),
                               np.array([0, 1, 1000])[:, None] * inv_freq(cfg)[None, :], rtol=1e-15)
    np.testing.assert_allclose(np.abs(freqs_cis(np.arange(5), cfg)), 1.0, rtol=1e-15)


@pytest.mark.parametrize("head_dim,rotary_dim", [(4, None), (8, 6), (10, 0), (8, 3), (8, 10)])
def test_layout_permutation_validation(head_dim, rotary_dim):
    if rotary_dim in (None, 6):
        perm = layout_permutation(head_dim, rotary_dim)
        assert sorted(perm.tolist()) == list(range(head_dim))
    else:
        with pytest.raises(ValueError, match="rotary_dim"):
            layout_permutation(head_dim, rotary_dim)


# -- transformers / GPT-J / Meta ----------------------------------------------------------------------------------
torch = pytest.importorskip("torch")
from transformers.models.gpt_neox.modeling_gpt_neox import apply_rotary_pos_emb as neox_apply  # noqa: E402
from transformers.models.gptj.modeling_gptj import apply_rotary_pos_emb as gptj_apply  # noqa: E402
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb as llama_apply  # noqa: E402


def _hf_cos_sin(cfg, pos, seq_len=None):
    """LlamaRotaryEmbedding.forward's cos/sin, in float64 from our inv_freq: (S, r)."""
    freqs = torch.tensor(pos, dtype=torch.float64)[:, None] * torch.tensor(inv_freq(cfg, seq_len))[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    af = attention_factor(cfg, seq_len)
    return emb.cos() * af, emb.sin() * af


@settings(max_examples=40)
@given(data=st.data())
def test_matches_transformers_half(data):
    cfg = data.draw(configs(scaled=True, layout="half"))
    B, H, S, d, r = 2, 3, 4, cfg.head_dim, cfg.rotary_dim
    seed = data.draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    q, k = rng.normal(size=(B, H, S, d)), rng.normal(size=(B, H, S, d))
    pos = rng.integers(0, 1 << 20, size=S).astype(np.float64)
    cos, sin = _hf_cos_sin(cfg, pos)
    cos, sin = cos[None], sin[None]                                # (1, S, r): unsqueeze_dim=1 → (1, 1, S, r)
    tq, tk = torch.tensor(q), torch.tensor(k)
    if r == d:
        hq, hk = llama_apply(tq, tk, cos, sin)
    else:   # GPT-NeoX: rotate the first r channels, pass the rest
        hq, hk = neox_apply(tq, tk, cos, sin)
        lq, lk = llama_apply(tq[..., :r], tk[..., :r], cos, sin)   # the same by slicing with Llama's function
        np.testing.assert_allclose(hq[..., :r].numpy(), lq.numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(apply_rope(q, pos, cfg), hq.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(apply_rope(k, pos, cfg), hk.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=40)
@given(data=st.data())
def test_matches_gptj_interleaved(data):
    cfg = data.draw(configs(scaled=True, layout="interleaved"))
    B, S, H, d, r = 2, 4, 3, cfg.head_dim, cfg.rotary_dim
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    x = rng.normal(size=(B, S, H, d))                              # GPT-J's (batch, seq, heads, head_dim)
    pos = rng.integers(0, 1 << 20, size=S).astype(np.float64)
    freqs = torch.tensor(pos)[:, None] * torch.tensor(inv_freq(cfg))[None, :]   # (S, r/2)
    af = attention_factor(cfg)
    sin, cos = (freqs.sin() * af)[None], (freqs.cos() * af)[None]  # (1, S, r/2), as GPTJAttention splits sincos
    t = torch.tensor(x)
    rot = gptj_apply(t[..., :r], sin, cos)                         # GPTJAttention: rotary_dim slice, then cat
    ref = torch.cat([rot, t[..., r:]], dim=-1).numpy()
    np.testing.assert_allclose(apply_rope(x, pos[None, :, None], cfg), ref, rtol=1e-12, atol=1e-12)


def hf_permute(w: np.ndarray, n_heads: int, dim1: int, dim2: int) -> np.ndarray:
    """convert_llama_weights_to_hf.py's ``permute``, from its definition:
    ``w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)``."""
    return torch.tensor(w).view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2).numpy()


@pytest.mark.parametrize("head_dim,n_heads", [(2, 3), (8, 2), (64, 4), (128, 2)])
def test_layout_permutation_is_hf_permute(head_dim, n_heads):
    dim2 = 5
    dim1 = n_heads * head_dim
    w = np.arange(dim1 * dim2, dtype=np.float64).reshape(dim1, dim2)
    perm = layout_permutation(head_dim)                            # interleaved → half
    ours = np.concatenate([w[h * head_dim:(h + 1) * head_dim][perm] for h in range(n_heads)])
    np.testing.assert_array_equal(hf_permute(w, n_heads, dim1, dim2), ours)


@pytest.mark.parametrize("head_dim,n_heads,base", [(8, 2, 1e4), (64, 4, 5e5), (128, 2, 1e4)])
def test_meta_complex_on_interleaved_equals_hf_on_permuted(head_dim, n_heads, base):
    """Meta's reference (llama/model.py): q = x W_qᵀ, view_as_complex on adjacent pairs, times freqs_cis =
    polar(1, m θ). transformers: the same weights after ``permute``, rotate_half. Same q·k, and q_hf = q_meta[perm]."""
    rng = np.random.default_rng(head_dim)
    dim_model, S = 16, 6
    wq = rng.normal(size=(n_heads * head_dim, dim_model))
    wk = rng.normal(size=(n_heads * head_dim, dim_model))
    x = rng.normal(size=(S, dim_model))
    pos = np.arange(S) * 997.0
    cfg = RopeConfig(head_dim, base)
    theta = torch.tensor(inv_freq(cfg))

    def meta(w):
        xq = torch.tensor(x @ w.T).view(S, n_heads, head_dim)                      # (S, H, d)
        xq_ = torch.view_as_complex(xq.reshape(S, n_heads, head_dim // 2, 2))      # (S, H, d/2) adjacent pairs
        fc = torch.polar(torch.ones(S, head_dim // 2, dtype=torch.float64),
                         torch.tensor(pos)[:, None] * theta[None, :])              # (S, d/2)
        return torch.view_as_real(xq_ * fc[:, None, :]).flatten(2).numpy()         # (S, H, d)

    def hf(w):
        wp = hf_permute(w, n_heads, n_heads * head_dim, dim_model)
        q = torch.tensor(x @ wp.T).view(S, n_heads, head_dim).transpose(0, 1)[None]  # (1, H, S, d)
        cos, sin = _hf_cos_sin(cfg, pos)
        qe, _ = llama_apply(q, q, cos[None], sin[None])
        return qe[0].transpose(0, 1).numpy()                                        # (S, H, d)

    qm, km, qh, kh = meta(wq), meta(wk), hf(wq), hf(wk)
    perm = layout_permutation(head_dim)
    np.testing.assert_allclose(qh, qm[..., perm], rtol=1e-10, atol=1e-10)
    scores_meta = np.einsum("shd,thd->hst", qm, km)
    scores_hf = np.einsum("shd,thd->hst", qh, kh)
    np.testing.assert_allclose(scores_hf, scores_meta, rtol=1e-10, atol=1e-9)
    # and rope_viz reproduces both: interleaved on Meta's projections, half on the permuted ones
    q_raw = (x @ wq.T).reshape(S, n_heads, head_dim)
    np.testing.assert_allclose(apply_rope(q_raw, pos[:, None], cfg.replace(layout="interleaved")), qm,
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(apply_rope(q_raw[..., perm], pos[:, None], cfg), qh, rtol=1e-10, atol=1e-10)


# -- accuracy of the float64 angles (the rope_angles docstring states what is measured here) -------------------------
@pytest.mark.parametrize("head_dim,base,frac", [(128, 1e4, 1.0), (96, 1e4, 1.0), (80, 1e6, 0.4), (256, 1e9, 1.0),
                                                (64, 5e5, 0.5), (1024, 1e12, 1.0)])
def test_rope_angles_error_against_50_digit_arithmetic(head_dim, base, frac):
    """|φ − m·θ_i| against Decimal arithmetic at 50 digits, positions up to 2^24: ≤ 5·2^-53·|φ| and ≤ 2e-9 rad."""
    cfg = RopeConfig(head_dim, base, frac)
    r = cfg.rotary_dim
    positions = np.array([1, 3, 4097, 999_999, (1 << 23) + 3, 12_345_677, (1 << 24) - 1, 1 << 24])
    phi = rope_angles(positions, cfg)
    worst_abs = worst_rel = 0.0
    with localcontext() as ctx:
        ctx.prec = 50
        theta = [Decimal(base) ** (Decimal(-2 * i) / Decimal(r)) for i in range(r // 2)]
        for k, m in enumerate(positions):
            for i, t in enumerate(theta):
                exact = Decimal(int(m)) * t
                err = abs(Decimal(float(phi[k, i])) - exact)
                worst_abs = max(worst_abs, float(err))
                worst_rel = max(worst_rel, float(err / exact))
    print(f"d={head_dim} base={base:g}: max error {worst_abs:.3g} rad, {worst_rel / 2 ** -53:.2f} units of 2^-53")
    assert worst_rel <= 5 * 2.0 ** -53 and worst_abs < 2e-9
    assert worst_abs > 0          # the statement is about a real, non-zero rounding error
