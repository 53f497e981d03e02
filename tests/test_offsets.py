"""rope_viz.analysis.offsets against independent references: brute-force sign checks over every distance, apply_rope
on explicit offset vectors, a naive loop for the bias, Monte Carlo convergence, and the literature's pair counts
(rope-literature.md §3, §4a)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rope_viz.analysis.offsets import (min_offset_angle, offset_bias, one_sign_alpha_interval, one_sign_criterion,
                                       pair_cycles, pair_table, simulate_offset_scores)
from rope_viz.config import RopeConfig
from rope_viz.frequencies import attention_factor, inv_freq
from rope_viz.rotation import apply_rope, pair_indices

from naive import naive_theta


def brute_one_sign(theta: float, L: int, alpha: float) -> tuple[bool, float]:
    """(cos(Δθ + α) has one strict sign for all Δ = 0 … L − 1, min |cos|), by evaluating every Δ."""
    c = np.cos(alpha + np.arange(L) * theta)
    return bool(np.all(c > 0) or np.all(c < 0)), float(np.min(np.abs(c)))


# ------------------------------------------------------------------------------------------------- criterion
@settings(max_examples=300, deadline=None)
@given(theta=st.floats(0.0, 7.0), L=st.integers(1, 3000), alpha=st.floats(-10.0, 10.0))
def test_one_sign_criterion_matches_brute_force(theta, L, alpha):
    truth, margin = brute_one_sign(theta, L, alpha)
    assume(margin > 1e-7)  # exactly on a zero of cos: a rounding question, not a criterion one
    assert bool(one_sign_criterion(theta, L, alpha)) == truth


@settings(max_examples=100, deadline=None)
@given(theta=st.floats(0.0, 3.5), L=st.integers(1, 1000))
def test_one_sign_exists_matches_brute_force_over_angles(theta, L):
    alias = theta if theta <= math.pi else theta - 2 * math.pi     # same integer samples e^{iΔθ}
    assume(abs((L - 1) * abs(alias) - math.pi) > 1e-2)             # windows narrower than the α grid step
    alphas = np.linspace(0.0, 2 * math.pi, 720, endpoint=False)    # step 0.0087 < 1e-2
    c = np.cos(alphas[:, None] + np.arange(L)[None, :] * theta)    # (720, L)
    truth = bool(np.any(np.all(c > 0, axis=1) | np.all(c < 0, axis=1)))
    assert bool(one_sign_criterion(theta, L)) == truth


@settings(max_examples=150, deadline=None)
@given(theta=st.floats(0.0, 3.0), L=st.integers(1, 3000), frac=st.floats(0.01, 0.99))
def test_alpha_interval_is_exactly_the_positive_window(theta, L, frac):
    lo, hi = one_sign_alpha_interval(theta, L)
    if not one_sign_criterion(theta, L):
        assert math.isnan(lo) and math.isnan(hi)
        return
    assume(hi - lo > 1e-5)
    inside = lo + frac * (hi - lo)
    c = np.cos(inside + np.arange(L) * theta)
    assert np.all(c > 0)                                             # every angle inside: positive everywhere
    for outside in (lo - 1e-4, hi + 1e-4):                           # just outside: some distance hits cos ≤ 0
        assert not np.all(np.cos(outside + np.arange(L) * theta) > 0)
    assert np.all(np.cos(inside + math.pi + np.arange(L) * theta) < 0)   # + π: the negative window


@pytest.mark.parametrize("theta,L", [(1e-4, 4096), (5e-4, 4096), (7e-4, 4096), (1e-3, 2049), (0.3, 10)])
def test_min_offset_angle(theta, L):
    tau = float(min_offset_angle(theta, L))
    span = (L - 1) * theta
    if span >= math.pi:
        assert math.isnan(tau)
        return
    d = np.arange(L)
    assert np.all(np.cos(-(tau + 1e-6) + d * theta) > 0)             # trailing by a bit more than τ works
    if tau > 0:
        assert abs(tau - (span - math.pi / 2)) < 1e-12
        assert not np.all(np.cos(-(tau - 1e-4) + d * theta) > 0)     # trailing by less fails
    else:
        assert np.all(np.cos(d * theta) > 0)                         # aligned offsets already work


# ------------------------------------------------------------------------------------------------- pair_cycles
def test_pair_counts_against_literature_proxy():
    # rope-literature.md §4a: d = 128, base 1e4, L = 4096 → pairs 46–63 have wavelength > context
    pc = pair_cycles(RopeConfig(head_dim=128, base=1e4, context_length=4096))
    np.testing.assert_array_equal(np.flatnonzero(~pc["completes_cycle"]), np.arange(46, 64))
    np.testing.assert_allclose(pc["theta"], naive_theta(1e4, 128), rtol=1e-14)
    np.testing.assert_allclose(pc["wavelength"], 2 * np.pi / np.array(naive_theta(1e4, 128)), rtol=1e-14)
    np.testing.assert_allclose(pc["rotations"], 4096 * np.array(naive_theta(1e4, 128)) / (2 * np.pi), rtol=1e-14)
    # §3 (Liu et al. generalised): Llama 3 (d = 128, 8192, 5e5) has 29 pairs with λ > 8192; Llama 1 (2048, 1e4) 23
    assert np.sum(~pair_cycles(RopeConfig(head_dim=128, base=5e5, context_length=8192))["completes_cycle"]) == 29
    assert np.sum(~pair_cycles(RopeConfig(head_dim=128, base=1e4, context_length=2048))["completes_cycle"]) == 23


@pytest.mark.parametrize("cfg", [
    RopeConfig(head_dim=128, base=1e4, context_length=4096),
    RopeConfig(head_dim=64, base=5e5, rotary_fraction=0.5, context_length=32768),
    RopeConfig(head_dim=128, base=5e5, context_length=131072,
               scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                        "original_max_position_embeddings": 8192}),
], ids=lambda c: c.label())
def test_pair_cycles_fields_brute_force(cfg):
    L = cfg.context_length
    pc = pair_cycles(cfg)
    theta = inv_freq(cfg, seq_len=L)
    assert all(v.shape == (cfg.n_pairs,) for v in pc.values())
    for i, t in enumerate(theta):
        assert pc["completes_cycle"][i] == (L * t >= 2 * math.pi)
        assert pc["one_sign"][i] == ((L - 1) * t < math.pi)
        if pc["one_sign"][i] and (L - 1) * t < math.pi - 1e-6:
            assert brute_one_sign(t, L, -(L - 1) * t / 2)[0]
    # one-sign pairs are a subset of partial-cycle pairs
    assert not np.any(pc["one_sign"] & pc["completes_cycle"])


def test_scaling_moves_pairs_towards_partial_cycles():
    L = 8192
    plain = RopeConfig(head_dim=128, base=1e4, context_length=L)
    for scaled in (plain.replace(scaling={"rope_type": "linear", "factor": 4.0}),
                   plain.replace(scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                          "high_freq_factor": 4.0, "original_max_position_embeddings": 2048})):
        a, b = pair_cycles(plain), pair_cycles(scaled)
        # lower frequencies: no pair gains a cycle; some lose it; more pairs become one-sign
        assert np.all(b["rotations"] <= a["rotations"] + 1e-12)
        assert np.all(a["completes_cycle"] | ~b["completes_cycle"])  # completes after scaling ⇒ completed before
        assert b["completes_cycle"].sum() < a["completes_cycle"].sum()
        assert np.all(b["one_sign"] | ~a["one_sign"]) and b["one_sign"].sum() > a["one_sign"].sum()
    # linear ×4: exactly the pairs with 4·2π ≤ L·θ keep completing a cycle
    lin = pair_cycles(plain.replace(scaling={"rope_type": "linear", "factor": 4.0}))
    np.testing.assert_array_equal(lin["completes_cycle"], L * np.array(naive_theta(1e4, 128)) >= 8 * math.pi)


def test_context_length_argument():
    cfg = RopeConfig(head_dim=128, base=1e4, context_length=4096)
    long = pair_cycles(cfg, context_length=32768)
    assert long["completes_cycle"].sum() > pair_cycles(cfg)["completes_cycle"].sum()
    with pytest.raises(ValueError, match="context_length"):
        pair_cycles(cfg, context_length=0)


# ------------------------------------------------------------------------------------------------- the bias
CFGS = [
    RopeConfig(head_dim=64, base=1e4, context_length=2048),
    RopeConfig(head_dim=64, base=1e4, context_length=8192, layout="interleaved",
               scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048}),
    RopeConfig(head_dim=32, base=500.0, rotary_fraction=0.5, context_length=1000),
]


@pytest.mark.parametrize("cfg", CFGS, ids=lambda c: c.label())
def test_offset_bias_matches_naive_loop(cfg):
    L = cfg.context_length
    theta = inv_freq(cfg, seq_len=L)
    af = attention_factor(cfg, seq_len=L)
    pairs = [0, 3, cfg.n_pairs - 1]
    alphas = [0.3, -1.0, 2.5]
    dist = [0, 1, 7, 100, L - 1, 12345.5]
    got = offset_bias(cfg, dist, pairs, magnitude=(2.0, 0.5), alpha=alphas)
    for j, dd in enumerate(dist):
        expect = sum(2.0 * 0.5 * af * af * math.cos(dd * theta[i] + a) for i, a in zip(pairs, alphas))
        assert abs(got[j] - expect) < 1e-12
    # a bool mask selects the same pairs
    mask = np.zeros(cfg.n_pairs, bool)
    mask[pairs] = True
    np.testing.assert_allclose(offset_bias(cfg, dist, mask, (2.0, 0.5), alphas), got, rtol=0, atol=1e-14)


@pytest.mark.parametrize("cfg", CFGS, ids=lambda c: c.label())
def test_offset_bias_fast_path_matches_naive_loop(cfg):
    """Every integer distance (the pages' case) takes the angle-addition path: same values as the per-term loop."""
    L = cfg.context_length
    theta = inv_freq(cfg, seq_len=L)
    af = attention_factor(cfg, seq_len=L)
    dist = np.arange(0, 3 * L + 17)
    got = offset_bias(cfg, dist, None, magnitude=1.5)
    sel, alpha = np.flatnonzero((L - 1) * theta < np.pi), -(L - 1) * theta / 2
    for dd in np.random.default_rng(1).choice(dist, 40):
        expect = sum(1.5 * 1.5 * af * af * math.cos(dd * theta[i] + alpha[i]) for i in sel)
        assert abs(got[dd] - expect) <= 1e-10 * max(1.0, len(sel))


@pytest.mark.parametrize("cfg", CFGS, ids=lambda c: c.label())
def test_offset_bias_equals_rotated_offset_vectors(cfg):
    """The derivation's sign conventions, checked with apply_rope on explicit vectors: key offset along the pair's
    first channel, query offset at angle α from it, query Δ tokens after the key."""
    rng = np.random.default_rng(0)
    pairs = np.array([1, cfg.n_pairs - 2, cfg.n_pairs - 1])
    alphas = rng.uniform(-3, 3, pairs.size)
    a_idx, b_idx = pair_indices(cfg)
    q = np.zeros(cfg.head_dim)
    k = np.zeros(cfg.head_dim)
    q[a_idx[pairs]] = 1.5 * np.cos(alphas)
    q[b_idx[pairs]] = 1.5 * np.sin(alphas)
    k[a_idx[pairs]] = 0.8
    dist = np.array([0, 1, 5, 333, cfg.context_length - 1])
    for key_pos in (0, 17):
        scores = np.array([apply_rope(q, key_pos + d, cfg, seq_len=cfg.context_length)
                           @ apply_rope(k, key_pos, cfg, seq_len=cfg.context_length) for d in dist])
        np.testing.assert_allclose(offset_bias(cfg, dist, pairs, (1.5, 0.8), alphas), scores, atol=1e-10)


@pytest.mark.parametrize("cfg", CFGS, ids=lambda c: c.label())
def test_default_bias_is_positive_over_the_context(cfg):
    pc = pair_cycles(cfg)
    d = np.arange(cfg.context_length)
    b = offset_bias(cfg, d)   # default: the one-sign pairs at their centred angle
    if pc["one_sign"].any():
        assert np.all(b > 0)
    else:
        assert np.all(b == 0)


@pytest.mark.parametrize("cfg", CFGS, ids=lambda c: c.label())
def test_default_angle_is_centred(cfg):
    """Default α = −(L − 1)θ/2: each pair's term is equal at both ends of the context (largest margin)."""
    L = cfg.context_length
    for i in np.flatnonzero(pair_cycles(cfg)["one_sign"]):
        ends = offset_bias(cfg, [0, L - 1], [i])
        assert abs(ends[0] - ends[1]) < 1e-12 and ends[0] > 0


def test_simulation_converges_to_bias():
    cfg = RopeConfig(head_dim=64, base=1e4, context_length=4096, rotary_fraction=0.75)
    d = np.arange(0, 4096, 64)
    errs = []
    for N in (32, 2048):
        r = simulate_offset_scores(cfg, d, N, offset_magnitude=2.0, seed=3)
        assert r["n_samples"] == N and r["mean"].shape == d.shape
        np.testing.assert_allclose(r["bias"], offset_bias(cfg, d, magnitude=2.0), rtol=1e-12)
        z = (r["mean"] - r["bias"]) / r["stderr"]
        assert np.all(np.abs(z) < 5)                                  # within 5 standard errors everywhere
        errs.append(np.sqrt(np.mean((r["mean"] - r["bias"]) ** 2)))
    assert errs[1] < errs[0] / 3                                      # ≈ 1/√64 = 1/8 expected
    # analytic spread of one sample's score (σ = 1, af = 1): per rotated pair Re(X e^{iφ}) with X = z_q·conj(z_k);
    # the random part of X is a sum of uncorrelated circular terms g_q ḡ_k, g_q ō_k, o_q ḡ_k with E|·|² = 4, 2|o_k|²,
    # 2|o_q|², so Var = (4 + 2|o_k|² + 2|o_q|²)/2 = 10 on an offset pair (|o| = 2) and 2 on a plain one; each
    # un-rotated channel adds Var(N(0,1)·N(0,1)) = 1.
    n_off = int(pair_cycles(cfg)["one_sign"].sum())
    var = 10 * n_off + 2 * (cfg.n_pairs - n_off) + (cfg.head_dim - cfg.rotary_dim)
    r = simulate_offset_scores(cfg, d, 4096, offset_magnitude=2.0, seed=5)
    assert abs(np.mean(r["std"] ** 2) - var) / var < 0.15


def test_errors():
    cfg = RopeConfig(head_dim=16, context_length=100)
    with pytest.raises(ValueError, match="offset_pairs"):
        offset_bias(cfg, [0, 1], [8])
    with pytest.raises(ValueError, match="offset_pairs"):
        offset_bias(cfg, [0, 1], [1.5])
    with pytest.raises(ValueError, match="mask"):
        offset_bias(cfg, [0, 1], np.ones(3, bool))
    with pytest.raises(ValueError, match="magnitude"):
        offset_bias(cfg, [0, 1], [1], magnitude=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        offset_bias(cfg, [0, 1], [1, 2], alpha=[0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="n_samples"):
        simulate_offset_scores(cfg, [0, 1], 0)
    with pytest.raises(ValueError, match="distances"):
        offset_bias(cfg, [0, float("inf")])
    with pytest.raises(ValueError, match="context_length"):
        one_sign_criterion(0.1, 0)


def test_pair_table_naive_and_effective():
    """θ, λ = 2π/θ, rotations L·θ/2π per pair, from the naive θ for plain RoPE; LongRoPE past its original
    context uses the long factors (issue 9 item 1: Phi-3-mini-128k has 17 partial-cycle pairs, not 1)."""
    cfg = RopeConfig(head_dim=64, base=1e4, context_length=4096)
    t = pair_table(cfg)
    theta = naive_theta(1e4, 64)
    for i, th in enumerate(theta):
        assert t["theta"][i] == pytest.approx(th, rel=1e-15)
        assert t["wavelength"][i] == pytest.approx(2 * math.pi / th, rel=1e-14)
        assert t["rotations"][i] == pytest.approx(4096 * th / (2 * math.pi), rel=1e-14)
        assert t["partial"][i] == (4096 * th < 2 * math.pi)
    assert pair_table(cfg, 100)["rotations"][0] == pytest.approx(100 / (2 * math.pi))
    from rope_viz.presets import get_preset
    phi = get_preset("phi-3-mini-128k").config
    long = phi.scaling["long_factor"]
    L = phi.context_length
    want = [L * th / f < 2 * math.pi for th, f in zip(naive_theta(phi.base, phi.rotary_dim), long)]
    assert list(pair_table(phi)["partial"]) == want and sum(want) == 17
    assert set(pair_table(phi)) <= set(pair_cycles(phi))
