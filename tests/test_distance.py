"""rope_viz.analysis.distance against independent references: the naive loops in tests/naive.py, apply_rope at two
key positions, the papers' numbers (rope-literature.md §1, §2), a brute-force scan, and Monte Carlo statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rope_viz.analysis.distance import (decay_bound, envelope, first_negative_distance, random_score_band,
                                        random_score_moments, score_vs_distance, similarity_sum)
from rope_viz.config import RopeConfig
from rope_viz.frequencies import attention_factor, inv_freq
from rope_viz.rotation import apply_rope

from naive import (chunked_numpy_scores, naive_decay_bound, naive_pairs, naive_score, naive_similarity_sum,
                   naive_theta)


def _longrope(r: int) -> dict:
    p = r // 2
    return {"rope_type": "longrope", "short_factor": [1.0 + 0.01 * i for i in range(p)],
            "long_factor": [1.0 + 0.5 * i for i in range(p)], "original_max_position_embeddings": 4096}


# Every layout, partial rotary, every scaling type (yarn and longrope have attention factors ≠ 1).
CONFIGS = {
    "plain-half": RopeConfig(128),
    "plain-interleaved": RopeConfig(128, layout="interleaved"),
    "partial-half": RopeConfig(64, base=5e5, rotary_fraction=0.25),
    "partial-interleaved": RopeConfig(80, rotary_fraction=0.5, layout="interleaved"),
    "linear": RopeConfig(64, scaling={"rope_type": "linear", "factor": 4.0}),
    "ntk": RopeConfig(64, scaling={"rope_type": "ntk", "factor": 8.0}, layout="interleaved"),
    "dynamic": RopeConfig(64, scaling={"rope_type": "dynamic", "factor": 4.0}, context_length=2048),
    "yarn": RopeConfig(128, scaling={"rope_type": "yarn", "factor": 16.0, "original_max_position_embeddings": 4096},
                       context_length=65536),
    "yarn-partial-af": RopeConfig(96, rotary_fraction=0.5, layout="interleaved", context_length=32768,
                                  scaling={"rope_type": "yarn", "factor": 8.0, "attention_factor": 0.7}),
    "llama3": RopeConfig(128, base=5e5, context_length=131072,
                         scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                  "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}),
    "longrope": RopeConfig(64, rotary_fraction=0.75, context_length=131072, scaling=_longrope(48)),
}


def _h_naive(q, k, cfg: RopeConfig, seq_len=None):
    """(h, c, scale) computed pair by pair from the definition: h_i = af²·(a_q + i b_q)·conj(a_k + i b_k),
    c = pass-through dot product, scale = Σ|h_i| + Σ|q_j k_j| (the error yardstick). seq_len: default the
    config's context length, like the library."""
    af = attention_factor(cfg, cfg.context_length if seq_len is None else seq_len)
    h = np.array([af * af * complex(q[a], q[b]) * complex(k[a], -k[b])
                  for a, b in naive_pairs(cfg.rotary_dim, cfg.layout)])
    rest = [float(q[j]) * float(k[j]) for j in range(cfg.rotary_dim, cfg.head_dim)]
    return h, math.fsum(rest), float(np.abs(h).sum()) + math.fsum(abs(v) for v in rest)


def _qk(cfg: RopeConfig, seed: int):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(cfg.head_dim), rng.standard_normal(cfg.head_dim)


# ------------------------------------------------------------------------------------------------ score_vs_distance
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_score_matches_naive_loop(name):
    cfg = CONFIGS[name]
    q, k = _qk(cfg, 1)
    theta, af = list(inv_freq(cfg, cfg.context_length)), attention_factor(cfg, cfg.context_length)
    _, _, scale = _h_naive(q, k, cfg)
    dense = np.arange(-150, 150)                                    # fast path (dense integer lattice)
    sparse = np.array([-12345.0, -3.5, 0.0, 0.25, 7.0, 999.0, 40960.0])   # direct path
    for dist in (dense, sparse):
        got = score_vs_distance(q, k, cfg, dist)
        want = np.array([naive_score(q, k, float(x), theta, cfg.rotary_dim, cfg.layout, af) for x in dist])
        assert got.shape == dist.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-11 * scale)


@pytest.mark.parametrize("name", ["plain-half", "partial-interleaved", "yarn", "llama3", "longrope"])
def test_score_matches_chunked_numpy_far(name):
    """Δ up to ±1e6, several lattice shapes, vs the straightforward chunked numpy evaluation."""
    cfg = CONFIGS[name]
    q, k = _qk(cfg, 2)
    h, c, scale = _h_naive(q, k, cfg)
    theta = inv_freq(cfg, cfg.context_length)
    rng = np.random.default_rng(3)
    cases = {
        "dense near 1e6": np.arange(1_000_000 - 20_000, 1_000_000 + 20_000),
        "dense negative": np.arange(-1_000_000, -1_000_000 + 15_000),
        "shuffled with repeats, step 7": rng.permutation(np.repeat(np.arange(-35_000, 35_000, 7), 2)),
        "linspace floats": np.linspace(-1e6, 1e6, 15_000),       # step 66.67: evenly spaced, not integers
        "irregular floats": rng.uniform(-1e6, 1e6, 3000),
        "sparse ints": np.array([0, 1, 10, 1000, 999_999, 1_000_000, -1_000_000]),
    }
    for label, dist in cases.items():
        got = score_vs_distance(q, k, cfg, dist)
        want = chunked_numpy_scores(h, theta, dist.astype(np.float64)) + c
        err = np.max(np.abs(got - want)) / scale
        assert err <= 1e-9, f"{label}: max error {err:.2e} of Σ|h|"


def test_score_full_million_distances():
    """The benchmark's case, d = 128 and all 2^20 distances, at the required 1e-9 of Σ|h_i|."""
    cfg = CONFIGS["plain-half"]
    q, k = _qk(cfg, 4)
    h, _, scale = _h_naive(q, k, cfg)
    dist = np.arange(1 << 20)
    got = score_vs_distance(q, k, cfg, dist)
    sample = np.random.default_rng(5).choice(dist.size, 4096, replace=False)
    sample = np.concatenate([sample, [0, 1, dist.size - 1]])
    want = chunked_numpy_scores(h, inv_freq(cfg, cfg.context_length), dist[sample].astype(np.float64))
    assert np.max(np.abs(got[sample] - want)) <= 1e-9 * scale


def test_score_seq_len_dynamic_and_longrope():
    for cfg, seq_len in ((CONFIGS["dynamic"], 16384), (CONFIGS["longrope"], 200_000)):
        q, k = _qk(cfg, 6)
        theta, af = list(inv_freq(cfg, seq_len)), attention_factor(cfg, seq_len)
        assert theta != list(inv_freq(cfg))                         # seq_len changes something
        dist = np.arange(-80, 80)
        got = score_vs_distance(q, k, cfg, dist, seq_len=seq_len)
        want = [naive_score(q, k, float(x), theta, cfg.rotary_dim, cfg.layout, af) for x in dist]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-11 * _h_naive(q, k, cfg, seq_len)[2])


def test_score_batch_broadcast():
    cfg = CONFIGS["partial-interleaved"]
    rng = np.random.default_rng(7)
    q = rng.standard_normal((2, 3, cfg.head_dim))
    k = rng.standard_normal((3, cfg.head_dim))
    dist = np.arange(0, 500)
    got = score_vs_distance(q, k, cfg, dist)
    assert got.shape == (2, 3, 500)
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(got[i, j], score_vs_distance(q[i, j], k[j], cfg, dist), rtol=0, atol=1e-12)
    assert score_vs_distance(q[0, 0], k[0], cfg, []).shape == (0,)


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(CONFIGS)), seed=st.integers(0, 2 ** 32 - 1),
       p1=st.integers(-1_000_000, 1_000_000), p2=st.integers(-1_000_000, 1_000_000),
       delta=st.integers(-200_000, 200_000))
def test_score_depends_only_on_relative_position(name, seed, p1, p2, delta):
    """apply_rope(q, p + Δ)·apply_rope(k, p) is the same for two key positions p, and equals score_vs_distance."""
    cfg = CONFIGS[name]
    q, k = _qk(cfg, seed)
    scale = _h_naive(q, k, cfg)[2]
    s1 = float(apply_rope(q, p1 + delta, cfg) @ apply_rope(k, p1, cfg))
    s2 = float(apply_rope(q, p2 + delta, cfg) @ apply_rope(k, p2, cfg))
    got = score_vs_distance(q, k, cfg, [delta])[0]
    assert abs(s1 - s2) <= 1e-9 * scale
    assert abs(got - s1) <= 1e-9 * scale


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(CONFIGS)), seed=st.integers(0, 2 ** 32 - 1),
       start=st.integers(-10 ** 6, 10 ** 6), step=st.integers(1, 50), n=st.integers(1, 400))
def test_score_fast_path_matches_direct_on_any_lattice(name, seed, start, step, n):
    cfg = CONFIGS[name]
    q, k = _qk(cfg, seed)
    h, c, scale = _h_naive(q, k, cfg)
    dist = start + step * np.arange(n)
    got = score_vs_distance(q, k, cfg, dist)
    want = chunked_numpy_scores(h, inv_freq(cfg, cfg.context_length), dist.astype(np.float64)) + c
    assert np.max(np.abs(got - want)) <= 1e-9 * scale


# ------------------------------------------------------------------------------------------------ similarity_sum
@pytest.mark.parametrize("name", ["plain-half", "partial-half", "llama3", "yarn"])
def test_similarity_sum_matches_naive(name):
    cfg = CONFIGS[name]
    theta = list(inv_freq(cfg, cfg.context_length))
    n_pass = (cfg.head_dim - cfg.rotary_dim) // 2                  # unrotated pairs: cos(0) = 1 each
    for dist in (np.arange(-300, 300), np.array([0.0, 0.5, 1707.0, 123456.0, -5e5]),
                 np.arange(10 ** 6 - 2000, 10 ** 6)):
        got = similarity_sum(cfg, dist)
        want = [naive_similarity_sum(theta, float(m)) + n_pass for m in dist]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * cfg.head_dim)
    assert similarity_sum(cfg, [0])[0] == pytest.approx(cfg.head_dim / 2, abs=1e-12)


# ------------------------------------------------------------------------------------------------ first negative
@pytest.mark.parametrize("base, expected", [(1e4, 1707), (5e5, 18438), (1e6, 27115)])
def test_first_negative_distance_reference(base, expected):
    """Computed reference values (float64 brute force), d = 128."""
    cfg = RopeConfig(128, base=base)
    assert first_negative_distance(cfg, 10 ** 7) == expected
    assert first_negative_distance(cfg, expected) == expected
    assert first_negative_distance(cfg, expected - 1) is None


def test_first_negative_distance_ambiguous_values_rechecked(monkeypatch):
    """Values the fast path cannot tell from 0 are re-evaluated directly: widening that band (so most candidates go
    through the direct check) must not change any answer."""
    from rope_viz.analysis import _phasor
    monkeypatch.setattr(_phasor, "ERR_UNIT", 1e-4)                  # error bound ≈ 0.06 at m = 1e4, d = 128
    for base, expected in [(1e4, 1707), (5e5, 18438), (1e6, 27115)]:
        assert first_negative_distance(RopeConfig(128, base=base), 10 ** 7) == expected
    th = list(inv_freq(RopeConfig(16, base=100.0)))
    m = next(m for m in range(10 ** 5) if naive_similarity_sum(th, m) < 0)
    assert first_negative_distance(RopeConfig(16, base=100.0), 10 ** 5) == m


def test_first_negative_distance_brute_force():
    theta = naive_theta(1e4, 128)
    values = [naive_similarity_sum(theta, m) for m in range(1708)]
    assert min(values[:1707]) >= 0 > values[1707]
    for cfg in (RopeConfig(16, base=100.0), RopeConfig(32, base=3000.0, layout="interleaved"),
                CONFIGS["llama3"].replace(head_dim=32, scaling=None, base=777.0)):
        th = list(inv_freq(cfg, cfg.context_length))
        m = 0
        while naive_similarity_sum(th, m) >= 0:
            m += 1
        assert first_negative_distance(cfg, 10 ** 6) == m


def test_first_negative_distance_edge_cases():
    assert first_negative_distance(RopeConfig(128), 0) is None           # B_0 = 64
    assert first_negative_distance(RopeConfig(128, rotary_fraction=0.5), 10 ** 8) is None   # B ≥ 0 (Su)
    assert first_negative_distance(RopeConfig(128), 1e7) == 1707          # integral float accepted


# ------------------------------------------------------------------------------------------------ decay bound
def test_decay_bound_paper_table():
    """RoFormer bound, d = 128, base 1e4 (rope-literature.md §1)."""
    table = {0: 32.5000, 1: 31.5382, 2: 28.9560, 5: 20.8454, 10: 17.9541, 20: 15.2424, 50: 12.6295,
             100: 10.2273, 200: 7.2448, 256: 6.5431}
    m = np.array(sorted(table), dtype=float)
    got = decay_bound(RopeConfig(128), m)
    np.testing.assert_allclose(got, [table[x] for x in sorted(table)], rtol=0, atol=6e-5)
    assert got[0] == pytest.approx(32.5, abs=1e-12)
    dense = decay_bound(RopeConfig(128), np.arange(0, 257))            # lattice path
    np.testing.assert_allclose(dense[m.astype(int)], got, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["plain-half", "partial-interleaved", "llama3", "longrope"])
def test_decay_bound_matches_naive(name):
    cfg = CONFIGS[name]
    theta = list(inv_freq(cfg, cfg.context_length))
    shuffled = np.random.default_rng(0).permutation(np.arange(-200, 200, 2))
    for dist in (np.arange(-100, 200), np.array([3.25, -7.0, 1e5, 1e6]), np.arange(10 ** 6, 10 ** 6 + 300, 3),
                 shuffled, np.linspace(-5e5, 5e5, 301),
                 np.random.default_rng(1).integers(-10 ** 6, 10 ** 6, 120).astype(float)):   # sparse integers
        got = decay_bound(cfg, dist)
        want = [naive_decay_bound(theta, float(x)) for x in dist]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


# ------------------------------------------------------------------------------------------------ random band
def test_random_band_reproduces_its_samples():
    """The documented sampling (default_rng(seed), q then k, (n_samples, d)) evaluated naively gives the same band."""
    cfg = CONFIGS["yarn-partial-af"]
    dist = np.arange(-50, 250)
    band = random_score_band(cfg, dist, n_samples=16, seed=11)
    rng = np.random.default_rng(11)
    qs, ks = rng.standard_normal((16, cfg.head_dim)), rng.standard_normal((16, cfg.head_dim))
    rows = []
    for q, k in zip(qs, ks):
        h, c, _ = _h_naive(q, k, cfg)
        rows.append(chunked_numpy_scores(h, inv_freq(cfg, cfg.context_length), dist.astype(float)) + c)
    rows = np.array(rows)
    np.testing.assert_allclose(band["mean"], rows.mean(axis=0), rtol=0, atol=1e-10)
    np.testing.assert_allclose(band["std"], rows.std(axis=0, ddof=1), rtol=0, atol=1e-10)
    assert band["n_samples"] == 16


@pytest.mark.parametrize("name", ["plain-half", "yarn-partial-af", "yarn"])
def test_random_band_analytic_std_vs_monte_carlo(name):
    """E = 0 and std = √(r·af⁴ + d − r) at every Δ (flat: no decay in expectation, Barbero et al.)."""
    cfg = CONFIGS[name]
    af, r, d = attention_factor(cfg, cfg.context_length), cfg.rotary_dim, cfg.head_dim
    dist = np.concatenate([np.arange(0, 20), [100, 1000, 10 ** 4, 10 ** 5, 10 ** 6]])
    S = 4000
    band = random_score_band(cfg, dist, n_samples=S, seed=123)
    expected = math.sqrt(r * af ** 4 + d - r)
    assert band["analytic_std"] == pytest.approx(expected, rel=1e-12)
    # std of the sample std ≈ σ·√((κ − 1)/(4S)), κ ≤ 9 for a sum of products of normals: ≤ 2.3 % here.
    assert np.all(np.abs(band["std"] / expected - 1) < 0.10)
    assert abs(band["std"].mean() / expected - 1) < 0.05
    assert np.all(np.abs(band["mean"]) < 5 * expected / math.sqrt(S))
    if name == "yarn-partial-af":
        assert abs(band["std"].mean() / math.sqrt(d) - 1) > 0.15   # the attention factor matters


# ------------------------------------------------------------------------------------------------ envelope
def test_envelope_exact_when_small():
    x, y = np.arange(5.0), np.array([3.0, -1.0, 2.0, 0.5, 9.0])
    for n_bins in (5, 6, 1000):
        xd, lo, hi = envelope(x, y, n_bins)
        np.testing.assert_array_equal(xd, x)
        np.testing.assert_array_equal(lo, y)
        np.testing.assert_array_equal(hi, y)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3000), n_bins=st.integers(1, 500), seed=st.integers(0, 2 ** 32 - 1))
def test_envelope_bins_are_consecutive_runs(n, n_bins, seed):
    """With x = 0 … n−1 each x_ds is the middle of its run: walk the runs and check min/max with plain Python."""
    y = np.random.default_rng(seed).standard_normal(n)
    xd, lo, hi = envelope(np.arange(n, dtype=float), y, n_bins)
    assert len(xd) == len(lo) == len(hi) == min(n, n_bins)
    start = 0
    sizes = []
    for b in range(len(xd)):
        last = int(round(2 * xd[b])) - start
        assert start <= last < n
        assert lo[b] == min(y[start:last + 1]) and hi[b] == max(y[start:last + 1])
        sizes.append(last - start + 1)
        start = last + 1
    assert start == n
    assert max(sizes) - min(sizes) <= 1


def test_envelope_keeps_oscillations():
    """A fast oscillation survives downsampling (plain decimation would alias it to a flat line)."""
    x = np.arange(1 << 20, dtype=float)
    y = np.cos(2 * np.pi * x / 1024.0)                              # period 1024 = the bin size
    assert np.ptp(y[::1024]) < 1e-9                                 # decimation aliases it to a constant
    xd, lo, hi = envelope(x, y, 1024)
    assert len(xd) == 1024
    assert np.all(hi > 0.999) and np.all(lo < -0.999)
    np.testing.assert_allclose(xd, np.arange(1024) * 1024 + 511.5)


# ------------------------------------------------------------------------------------------------ bad input
def test_bad_input():
    cfg = RopeConfig(8)
    q = np.ones(8)
    bad_calls = [
        lambda: score_vs_distance(q, q, cfg, [[1, 2]]),              # 2-D distances
        lambda: score_vs_distance(q, q, cfg, 3),                     # scalar distances
        lambda: score_vs_distance(q, q, cfg, [1.0, np.nan]),
        lambda: score_vs_distance(q, q, cfg, [1.0, np.inf]),
        lambda: score_vs_distance(q, q, cfg, ["a"]),
        lambda: score_vs_distance(q, q, cfg, [1 + 2j]),
        lambda: score_vs_distance(np.ones(6), q, cfg, [1]),          # wrong head_dim
        lambda: score_vs_distance(np.ones((2, 8)), np.ones((3, 8)), cfg, [1]),   # not broadcastable
        lambda: score_vs_distance(np.full(8, np.nan), q, cfg, [1]),
        lambda: score_vs_distance(q, q, {"head_dim": 8}, [1]),       # not a RopeConfig
        lambda: similarity_sum(cfg, [[0]]),
        lambda: decay_bound(cfg, [np.nan]),
        lambda: first_negative_distance(cfg, -1),
        lambda: first_negative_distance(cfg, 1.5),
        lambda: first_negative_distance(cfg, True),
        lambda: first_negative_distance(cfg, 10 ** 10),
        lambda: first_negative_distance(cfg, "100"),
        lambda: random_score_band(cfg, [1], n_samples=1),
        lambda: random_score_band(cfg, [1], seed=-3),
        lambda: envelope([1, 2, 3], [1, 2], 2),
        lambda: envelope([1, 2, 3], [1, 2, 3], 0),
        lambda: envelope([[1, 2]], [[1, 2]], 1),
    ]
    for call in bad_calls:
        with pytest.raises(ValueError):
            call()
    with pytest.raises(ValueError, match="1-D"):
        similarity_sum(cfg, [[0]])
    with pytest.raises(ValueError, match="head_dim=8"):
        score_vs_distance(np.ones(6), q, cfg, [1])
    with pytest.raises(ValueError, match="limit"):
        first_negative_distance(cfg, -1)


# ------------------------------------------------------------------------------------------------ benchmark script
def test_bench_core_smoke(capsys):
    """`python -m rope_viz.bench core` runs and prints its table (small n; the real numbers are not asserted)."""
    from rope_viz import bench

    assert bench.main(["core", "--n", "4096", "--repeats", "1", "--sample", "3", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "speedup" in out and "first_negative_distance(limit=1e7), base 1e4 → 1707" in out
    assert bench.main(["nope"]) == 2
    assert bench.main([]) == 2
    h = np.array([1 + 2j, -0.5j])
    theta = np.array([1.0, 0.01])
    dist = np.array([0.0, 3.0, -7.5])
    np.testing.assert_allclose(bench.naive_chunked_scores(h, theta, dist), chunked_numpy_scores(h, theta, dist),
                               rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", ["plain-half", "partial-half", "yarn"])
def test_random_score_moments_vs_monte_carlo(name):
    """Exact mean 0 and std √(r·af⁴ + d − r) against N = 20,000 draws of q, k ~ N(0, I) scored by apply_rope.
    score(Δ) = q·(R_Δ k) with R_Δ k again N(0, I) (af scales the rotated part), a sum of d products of
    independent normals (each of kurtosis 9, so the sum's kurtosis κ ≤ 9): the sample mean has std σ/√N and the
    sample std a relative std ≈ √((κ − 1)/(4N)) ≤ 0.01; 5 of those leave a chance below 1e-6 per check."""
    cfg = CONFIGS[name]
    N = 20_000
    dist = np.array([0.0, 1.0, 57.0, 3000.0])
    exact = random_score_moments(cfg, dist)
    sigma = exact["std"][0]
    assert np.all(exact["mean"] == 0) and np.all(exact["std"] == sigma)
    af = attention_factor(cfg, cfg.context_length)
    assert sigma == pytest.approx(math.sqrt(cfg.rotary_dim * af ** 4 + cfg.head_dim - cfg.rotary_dim), rel=1e-15)
    rng = np.random.default_rng(7)
    q = rng.standard_normal((N, cfg.head_dim))
    k = rng.standard_normal((N, cfg.head_dim))
    for j, delta in enumerate(dist):
        s = np.einsum("nd,nd->n", apply_rope(q, delta, cfg, cfg.context_length),
                      apply_rope(k, 0.0, cfg, cfg.context_length))                 # (N,)
        assert abs(s.mean() - exact["mean"][j]) <= 5 * sigma / math.sqrt(N)
        assert abs(s.std(ddof=1) / exact["std"][j] - 1) <= 5 * math.sqrt(8 / (4 * N))
    band = random_score_band(cfg, dist, n_samples=16)
    assert band["analytic_std"] == sigma


def test_default_frequencies_are_those_in_effect_over_the_context():
    """Issue 9 item 1 at its root: without seq_len every curve uses the frequencies transformers uses for a sequence
    of the config's context length — for LongRoPE past its original context the long factors, not the short."""
    cfg = CONFIGS["longrope"]
    L = cfg.context_length
    assert L > cfg.scaling["original_max_position_embeddings"]
    long_theta = list(inv_freq(cfg, seq_len=L))
    n_pass = (cfg.head_dim - cfg.rotary_dim) // 2
    want = next(m for m in range(10 ** 6) if naive_similarity_sum(long_theta, m) + n_pass < 0)
    assert first_negative_distance(cfg, 10 ** 6) == want == first_negative_distance(cfg, 10 ** 6, seq_len=L)
    assert first_negative_distance(cfg, 10 ** 6, seq_len=16) != want           # the short factors differ
    d = np.arange(0, 3000, 7)
    np.testing.assert_array_equal(similarity_sum(cfg, d), similarity_sum(cfg, d, seq_len=L))
    q = np.ones(cfg.head_dim)
    np.testing.assert_array_equal(score_vs_distance(q, q, cfg, d), score_vs_distance(q, q, cfg, d, seq_len=L))
