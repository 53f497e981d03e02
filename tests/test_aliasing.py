"""rope_viz.analysis.aliasing against independent references: naive double loops over positions (tests/naive.py),
brute-force impostor searches, the literature's Men et al. bound (rope-literature.md §2) and hypothesis properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rope_viz.analysis.aliasing import (MAX_MATRIX_POSITIONS, aliasing_peaks, aliasing_vs_base,
                                        base_advisor, coarse_clock_base,
                                        default_min_separation, find_lookalike, lookalike_example,
                                        men_condition_holds, nearest_impostor, position_similarity,
                                        sample_positions, similarity_matrix, similarity_profile)
from rope_viz.config import RopeConfig
from rope_viz.frequencies import inv_freq

from naive import naive_similarity_sum, naive_theta


def naive_sim(theta, m, n) -> float:
    """(1/p) Σ_i cos((m − n) θ_i), one pair at a time."""
    return naive_similarity_sum(list(theta), float(m) - float(n)) / len(theta)


def direct_profile(theta: np.ndarray, L: int) -> np.ndarray:
    """Independent numpy evaluation: mean of cos(Δθ_i) over pairs for Δ = 0 … L − 1 (no angle addition)."""
    d = np.arange(L, dtype=np.float64)
    return np.cos(d[:, None] * theta[None, :]).mean(axis=1)


CONFIGS = [
    RopeConfig(head_dim=8, base=10.0, context_length=300),
    RopeConfig(head_dim=64, base=10000.0, context_length=2048),
    RopeConfig(head_dim=128, base=500000.0, rotary_fraction=0.5, context_length=4096),
    RopeConfig(head_dim=64, base=10000.0, context_length=8192,
               scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048}),
    RopeConfig(head_dim=64, base=10000.0, context_length=8192, scaling={"rope_type": "linear", "factor": 4.0}),
]


# ------------------------------------------------------------------------------------------------- similarity
@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.label())
def test_similarity_matrix_matches_naive_double_loop(cfg):
    theta = inv_freq(cfg, seq_len=cfg.context_length)
    if cfg.scaling is None:  # plain RoPE: the frequencies too come from the naive oracle
        np.testing.assert_allclose(theta, naive_theta(cfg.base, cfg.rotary_dim), rtol=1e-14)
    pos = [0, 1, 5, 17, 100, 299, 1000, 4095]
    M = similarity_matrix(cfg, pos)
    assert M.shape == (len(pos), len(pos))
    for a, m in enumerate(pos):
        for b, n in enumerate(pos):
            assert abs(M[a, b] - naive_sim(theta, m, n)) < 1e-12
    np.testing.assert_allclose(np.diag(M), 1.0, atol=1e-14)
    np.testing.assert_array_equal(M, M.T)


def test_similarity_matrix_size_limit():
    cfg = RopeConfig(head_dim=16)
    similarity_matrix(cfg, np.arange(MAX_MATRIX_POSITIONS))
    with pytest.raises(ValueError, match="1024"):
        similarity_matrix(cfg, np.arange(MAX_MATRIX_POSITIONS + 1))
    with pytest.raises(ValueError, match="1-D"):
        similarity_matrix(cfg, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="finite"):
        similarity_matrix(cfg, [0.0, float("nan")])


@settings(max_examples=60, deadline=None)
@given(d=st.sampled_from([2, 8, 64, 128]), base=st.floats(1.5, 1e9), m=st.integers(0, 2**24),
       n=st.integers(0, 2**24), k=st.integers(-2**20, 2**20))
def test_similarity_depends_only_on_difference(d, base, m, n, k):
    cfg = RopeConfig(head_dim=d, base=base)
    s0 = position_similarity(cfg, m, n)
    s1 = position_similarity(cfg, m + k, n + k)
    assert abs(s0 - s1) < 1e-12
    assert abs(s0 - position_similarity(cfg, n, m)) < 1e-15          # even in Δ
    assert -1.0 <= s0 <= 1.0
    assert abs(s0 - naive_sim(naive_theta(base, d), m, n)) < 1e-12
    assert position_similarity(cfg, m, m) == 1.0


def test_position_similarity_broadcasts():
    cfg = RopeConfig(head_dim=32, base=100.0)
    m = np.arange(5)[:, None]
    n = np.array([0, 7, 30])
    out = position_similarity(cfg, m, n)
    assert out.shape == (5, 3)
    theta = naive_theta(100.0, 32)
    for i in range(5):
        for j in range(3):
            assert abs(out[i, j] - naive_sim(theta, i, n[j])) < 1e-13


@pytest.mark.parametrize("base,L", [(10.0, 5000), (1e4, 1 << 20), (5e5, 1 << 16)])
def test_profile_matches_naive_sum(base, L):
    cfg = RopeConfig(head_dim=128, base=base, context_length=L)
    prof = similarity_profile(cfg)
    assert prof.shape == (L,)
    theta = naive_theta(base, 128)
    rng = np.random.default_rng(1)
    for delta in list(rng.integers(0, L, 40)) + [0, 1, L - 1]:
        # both sides round the phase Δ·θ_i (θ_i ≤ 1) with relative error ~1e-16: allow a few ulps of Δ
        assert abs(prof[delta] - naive_sim(theta, delta, 0)) < 1e-13 + 4e-16 * delta


# ------------------------------------------------------------------------------------------------- sampling
@pytest.mark.parametrize("spacing", ["log", "linear"])
@pytest.mark.parametrize("L,n", [(4096, 64), (100, 100), (1 << 20, 1024), (10, 2), (50, 40)])
def test_sample_positions(spacing, L, n):
    pos = sample_positions(L, n, spacing)
    assert pos.dtype == np.int64 and pos.shape == (n,)
    assert pos[0] == 0 and pos[-1] == L - 1
    assert np.all(np.diff(pos) > 0)


def test_sample_positions_errors():
    with pytest.raises(ValueError, match="n must"):
        sample_positions(10, 11)
    with pytest.raises(ValueError, match="spacing"):
        sample_positions(10, 5, "cubic")


# ------------------------------------------------------------------------------------------------- impostors
def brute_impostor(theta, L, m, s):
    best, arg = -math.inf, None
    for n in range(L):
        if abs(n - m) >= s:
            v = naive_sim(theta, m, n)
            if v > best:
                best, arg = v, n
    return best, arg


@pytest.mark.parametrize("d,base,L,s", [(8, 10.0, 120, 7), (4, 3.0, 80, 1), (16, 1e4, 60, 20), (2, 2.0, 50, 30)])
def test_nearest_impostor_matches_brute_force(d, base, L, s):
    cfg = RopeConfig(head_dim=d, base=base, context_length=L)
    theta = naive_theta(base, d)
    pos = np.arange(L)
    r = nearest_impostor(cfg, pos, s)
    assert r["min_separation"] == s
    for m in pos:
        best, _ = brute_impostor(theta, L, int(m), s)
        if best == -math.inf:  # nobody that far away
            assert r["impostor"][m] == -1 and r["distance"][m] == -1 and math.isnan(r["similarity"][m])
            continue
        imp = int(r["impostor"][m])
        assert 0 <= imp < L and abs(imp - m) >= s and abs(imp - m) == r["distance"][m]
        assert abs(r["similarity"][m] - best) < 1e-12
        assert abs(naive_sim(theta, m, imp) - best) < 1e-12           # the reported position really is that similar
        assert abs(r["neighbour_similarity"][m] - naive_sim(theta, 1, 0)) < 1e-12


def test_find_lookalike_small_head_aliases_strongly():
    # d = 8, base 10: every pair turns many times over 20,000 tokens; some far position beats the true neighbour.
    cfg = RopeConfig(head_dim=8, base=10.0, context_length=20000)
    r = find_lookalike(cfg, 100, 1000)
    theta = np.array(naive_theta(10.0, 8))
    sims = np.cos((np.arange(20000) - 100)[:, None] * theta).mean(axis=1)   # independent: all n at once
    sims[np.abs(np.arange(20000) - 100) < 1000] = -np.inf
    assert abs(r["similarity"] - sims.max()) < 1e-12
    assert abs(sims[r["impostor"]] - sims.max()) < 1e-12
    assert r["similarity"] > r["neighbour_similarity"]


def test_nearest_impostor_errors():
    cfg = RopeConfig(head_dim=8, context_length=100)
    with pytest.raises(ValueError, match="min_separation"):
        nearest_impostor(cfg, [0], 100)
    with pytest.raises(ValueError, match="min_separation"):
        nearest_impostor(cfg, [0], 0)
    with pytest.raises(ValueError, match="positions"):
        nearest_impostor(cfg, [100], 5)
    with pytest.raises(ValueError, match="integers"):
        nearest_impostor(cfg, [1.5], 5)


# ------------------------------------------------------------------------------------------------- the seed's example
@pytest.mark.parametrize("d,base", [(128, 1e4), (128, 10.0), (8, 10.0), (64, 500.0)])
def test_lookalike_example_independent(d, base):
    cfg = RopeConfig(head_dim=d, base=base, context_length=4096)
    r = lookalike_example(cfg)  # positions 100 and 10,000
    theta = naive_theta(base, d)
    expect = sum(math.cos(9900 * t) for t in theta) / len(theta)
    assert r["distance"] == 9900
    assert abs(r["similarity"] - expect) < 1e-12
    assert abs(r["neighbour_similarity"] - sum(math.cos(t) for t in theta) / len(theta)) < 1e-12
    prof = direct_profile(np.array(theta), 9901)
    below = [k for k in range(1, 9901) if prof[k] <= r["similarity"]]
    assert r["apparent_distance"] == below[0]
    assert r["stronger_nearer"] == int(np.sum(prof[1:9900] < r["similarity"]))


def test_lookalike_example_small_base_vs_large_base():
    # The seed's claim in the sense we can measure: with a small base position 10,000 "looks as close" to 100 as a
    # position a handful of tokens away does; with base 1e6 the similarity profile up to 9,900 is monotone enough
    # that the apparent distance is in the thousands.
    small = lookalike_example(RopeConfig(head_dim=128, base=10.0))
    large = lookalike_example(RopeConfig(head_dim=128, base=1e6))
    assert small["apparent_distance"] < 50
    assert large["apparent_distance"] > 1000


# ------------------------------------------------------------------------------------------------- base sweep
def brute_excess(prof: np.ndarray, s: int) -> float:
    best = 0.0
    for j in range(s, len(prof)):
        for i in range(s, j + 1):
            best = max(best, prof[j] - prof[i])
    return best


@pytest.mark.parametrize("s", [1, 5, 40])
def test_aliasing_vs_base_matches_brute_force(s):
    L, d = 150, 16
    bases = [2.0, 10.0, 300.0, 1e5]
    got_sim = aliasing_vs_base(d, L, bases, s, measure="similarity")
    got_exc = aliasing_vs_base(d, L, bases, s, measure="excess")
    for j, b in enumerate(bases):
        theta = naive_theta(b, d)
        prof = [naive_sim(theta, k, 0) for k in range(L)]
        assert abs(got_sim[j] - max(prof[s:])) < 1e-12
        assert abs(got_exc[j] - brute_excess(np.array(prof), s)) < 1e-12


def test_aliasing_trends_with_base():
    bases = np.geomspace(10, 1e10, 28)
    logb = np.log(bases)
    exc = aliasing_vs_base(128, 32768, bases, measure="excess")
    sim = aliasing_vs_base(128, 32768, bases, measure="similarity")
    # aliasing proper falls with the base on average (not strictly: fast pairs keep a floor) ...
    assert np.corrcoef(logb, exc)[0, 1] < -0.7
    assert exc[:5].mean() > exc[-5:].mean() + 0.1
    # ... while the raw worst far similarity rises once the slow pairs freeze (blur): documented behaviour
    assert np.corrcoef(logb[bases >= 100], sim[bases >= 100])[0, 1] > 0.9


def test_aliasing_vs_base_errors():
    with pytest.raises(ValueError, match="measure"):
        aliasing_vs_base(64, 100, [1e4], 5, measure="blur")
    with pytest.raises(ValueError, match="min_separation"):
        aliasing_vs_base(64, 100, [1e4], 100)
    with pytest.raises(ValueError, match="base"):
        aliasing_vs_base(64, 100, [0.5])
    assert default_min_separation(4096) == 256 and default_min_separation(2) == 1


# ------------------------------------------------------------------------------------------------- advisor
def test_coarse_clock_base():
    for r, L in [(128, 4096), (64, 1 << 20), (4, 100)]:
        b = coarse_clock_base(r, L)
        theta_min = b ** (-(r - 2) / r)
        assert abs((L - 1) * theta_min - math.pi) < 1e-9
    assert coarse_clock_base(2, 100) == math.inf
    assert coarse_clock_base(2, 3) == 1.0


@pytest.mark.parametrize("L", [4096, 32768])
def test_base_advisor(L):
    r = base_advisor(128, L)
    rec = r["recommended"]
    # Men et al.'s condition holds at the recommendation, checked here without rope_viz: B_Δ ≥ 0 for all Δ < L.
    theta = np.array(naive_theta(rec, 128))
    assert direct_profile(theta, L).min() >= 0
    # ... and it is not below the literature's smallest base (rope-literature.md §2, computed row)
    lit = {4096: 26952.4, 32768: 629979.1}[L]
    assert rec >= lit * (1 - 1e-4)
    mant = rec / 10 ** math.floor(math.log10(rec))
    assert any(abs(mant - m) < 1e-9 for m in (1, 2, 5))
    assert rec >= r["clock_min_base"]
    if r["men_lower_bound"] is not None:
        assert rec >= r["men_lower_bound"]
    else:
        assert any("Men" in note for note in r["notes"])


def test_base_advisor_liu_view():
    r = base_advisor(128, 16384, train_length=4096, pretrain_base=1e4)
    assert r["liu_d_extra"] == 92                                     # Liu et al.'s Llama-2 number
    assert abs(r["liu_min_base"] - (16384 / (2 * math.pi)) ** (128 / 92)) < 1e-6 * r["liu_min_base"]
    assert r["recommended"] >= r["liu_min_base"]


def test_men_condition_holds_matches_direct():
    for b in [4293.4 * 1.0001, 4000.0, 1e4, 1.6e4]:
        expect = direct_profile(np.array(naive_theta(b, 128)), 1024).min() >= 0
        assert men_condition_holds(128, b, 1024) == expect


def test_men_condition_counts_unrotated_pairs():
    # Su's remark (rope-literature.md §2): rotating half the pairs keeps B_Δ = Σ_rot cos + (d − r)/2 ≥ 0 always.
    assert men_condition_holds(128, 10.0, 100000, rotary_fraction=0.5)
    assert not men_condition_holds(128, 10.0, 100000)
    r = base_advisor(128, 65536, rotary_fraction=0.5)
    assert r["men_lower_bound"] is None and r["recommended"] >= r["clock_min_base"]


def test_base_advisor_numbers():
    """The advisor's Men et al. bound is bounds.base_lower_bound (computed reference 231,644.8 for d = 128, 16K),
    its Liu et al. base is Eq. 16b solved for β with Eq. 13's d_extra written out here, and its recommendation
    satisfies the condition by a direct evaluation."""
    r = base_advisor(128, 16384, train_length=4096, pretrain_base=1e4)
    assert r["men_lower_bound"] == pytest.approx(231644.8, rel=1e-5)
    d_extra = 2 * math.ceil(64 * math.log(4096 / (2 * math.pi)) / math.log(1e4))
    assert r["liu_d_extra"] == d_extra == 92                          # Liu et al.'s Llama-2 number
    liu = (16384 / (2 * math.pi)) ** (128 / 92)
    assert abs(r["liu_min_base"] - liu) < 1e-9 * liu
    assert r["recommended"] >= max(r["men_lower_bound"], liu, r["clock_min_base"])
    assert direct_profile(np.array(naive_theta(r["recommended"], 128)), 16384).min() >= 0


def test_base_advisor_no_inf():
    """A single rotated pair (d = 2) has no base satisfying anything: None and notes, never inf."""
    r = base_advisor(2, 4096)
    assert r["men_lower_bound"] is None and r["clock_min_base"] is None and r["recommended"] is None
    assert any("no base" in n for n in r["notes"])


@settings(max_examples=40, deadline=None)
@given(d=st.sampled_from([2, 4, 8, 16]), base=st.floats(1.5, 1e6), L=st.integers(2, 60), data=st.data())
def test_nearest_impostor_property(d, base, L, data):
    s = data.draw(st.integers(1, L - 1))
    cfg = RopeConfig(head_dim=d, base=base, context_length=L)
    theta = naive_theta(base, d)
    r = nearest_impostor(cfg, np.arange(L), s)
    for m in range(L):
        best, _ = brute_impostor(theta, L, m, s)
        if best == -math.inf:
            assert r["impostor"][m] == -1
        else:
            assert abs(r["similarity"][m] - best) < 1e-12
            assert abs(naive_sim(theta, m, int(r["impostor"][m])) - best) < 1e-12


# -- the impostor panel's data: aliasing peaks (issue 9 item 10) -------------------------------
@settings(max_examples=30, deadline=None)
@given(d=st.sampled_from([4, 8, 16, 32]), base=st.floats(1.5, 1e5), L=st.integers(3, 500), n=st.integers(1, 6))
def test_aliasing_peaks_brute_force(d, base, L, n):
    cfg = RopeConfig(head_dim=d, base=base, context_length=L)
    prof = list(similarity_profile(cfg))
    lobe = next((j for j in range(1, L - 1) if prof[j] <= prof[j + 1]), L - 1)
    peaks = [j for j in range(lobe + 1, L - 1) if prof[j - 1] < prof[j] >= prof[j + 1]]
    reb = {j: prof[j] - min(prof[lobe:j + 1]) for j in peaks}
    ranked = sorted(peaks, key=lambda j: (-reb[j], j))
    want = []
    for j in ranked:
        if len(want) < n and all(abs(j - t) >= max(1, lobe) for t in want):
            want.append(j)
    r = aliasing_peaks(cfg, n_peaks=n)
    assert r["lobe_end"] == lobe
    assert list(r["distance"]) == want
    for j, v, rb, tr in zip(r["distance"], r["similarity"], r["rebound"], r["trough"]):
        assert v == prof[j] and rb == pytest.approx(reb[j], abs=1e-15) and rb > 0
        assert prof[tr] == min(prof[lobe:j + 1]) and lobe <= tr < j


@pytest.mark.parametrize("d, target, train", [(128, 16384, 4096), (256, 65536, 2048), (2, 4096, None)])
def test_advisor_notes_write_bases_without_plus_exponents(d, target, train):
    """The base advisor's "How it was computed" notes read "needs base ≥ 2.7e+04", "no base ≤ 1e+12": bases are
    written 27000-style or 1e12 (config.format_base)."""
    r = base_advisor(d, target, train_length=train, pretrain_base=1e4)
    assert r["notes"]
    for note in r["notes"]:
        assert "e+" not in note, note
