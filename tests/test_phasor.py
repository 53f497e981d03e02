"""rope_viz.analysis._phasor (the one evaluator of Re Σ_i h_i e^{iΔθ_i}) against the naive float64 loops of
tests/naive.py and 40-digit mpmath sums, over random bases, dims and distance ranges; its error bound (E) must hold
and must not be vacuous."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naive import naive_phasor_sum, naive_similarity_sum, naive_theta
from rope_viz.analysis import _phasor as P

bases = st.floats(1.5, 1e9).map(float)
dims = st.integers(1, 128).map(lambda p: 2 * p)


def _check_sample(got: np.ndarray, positions: np.ndarray, want_fn, bound: float, n_check: int = 40) -> None:
    """got[j] vs the naive value at ≤ n_check spread indices; the fast and the naive value each lie within (E) of
    the exact sum, so they may differ by twice (E)."""
    idx = np.unique(np.linspace(0, got.size - 1, min(n_check, got.size)).astype(int))
    for j in idx:
        assert abs(got[j] - want_fn(float(positions[j]))) <= 2 * bound, (j, positions[j])


@settings(max_examples=40, deadline=None)
@given(base=bases, d=dims, start=st.integers(-10 ** 6, 10 ** 6), n=st.integers(1, 5000))
def test_cos_sum_range_matches_naive(base, d, start, n):
    theta = naive_theta(base, d)
    got = P.cos_sum_range(np.array(theta), n, start)
    assert got.shape == (n,)
    pos = start + np.arange(n)
    bound = P.error_bound(np.array(theta), np.abs(pos).max())
    _check_sample(got, pos, lambda m: naive_similarity_sum(theta, m), bound)


@settings(max_examples=40, deadline=None)
@given(base=bases, d=dims, seed=st.integers(0, 2 ** 32 - 1), start=st.integers(-10 ** 6, 10 ** 6),
       step=st.integers(1, 60), n=st.integers(1, 3000), M=st.integers(1, 3))
def test_phasor_sum_on_lattices_matches_naive(base, d, seed, start, step, n, M):
    theta = naive_theta(base, d)
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((M, d // 2)) + 1j * rng.standard_normal((M, d // 2))
    dist = (start + step * np.arange(n)).astype(np.float64)
    got = P.phasor_sum(h, np.array(theta), dist)
    assert got.shape == (M, n)
    for row in range(M):
        bound = P.error_bound(np.array(theta), np.abs(dist).max(), np.abs(h[row]))
        _check_sample(got[row], dist, lambda m: naive_phasor_sum(h[row], theta, m), bound, n_check=15)


@settings(max_examples=30, deadline=None)
@given(base=bases, d=dims, seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 400),
       kind=st.sampled_from(["sparse-int", "floats", "repeats", "linspace"]))
def test_cos_sum_any_distances_matches_naive(base, d, seed, n, kind):
    """Every way distances can come in (the fast path or the direct one, chosen by ``lattice``)."""
    theta = naive_theta(base, d)
    rng = np.random.default_rng(seed)
    dist = {"sparse-int": rng.integers(-2 * 10 ** 6, 2 * 10 ** 6, n).astype(np.float64),
            "floats": rng.uniform(-1e5, 1e5, n),
            "repeats": rng.integers(0, 50, n).astype(np.float64) * 3.0,
            "linspace": np.linspace(-100.5, 700.25, n)}[kind]
    got = P.cos_sum(np.array(theta), dist)
    bound = P.error_bound(np.array(theta), np.abs(dist).max())
    _check_sample(got, dist, lambda m: naive_similarity_sum(theta, m), bound)
    direct = P.cos_sum_direct(np.array(theta), dist)
    assert np.max(np.abs(direct - got)) <= 2 * bound


@pytest.mark.parametrize("base, d, m", [(1e4, 128, 1_000_003), (5e5, 128, 16_777_215), (10.0, 64, 123_457),
                                        (1e6, 256, 4_194_301)])
def test_error_bound_holds_and_is_not_vacuous(base, d, m):
    """At large |Δ| the float64 value (fast path and direct) is within (E) of the 40-digit sum over the same float64
    θ_i, and (E) is within a few hundred times the error actually made (a bound, not a blanket)."""
    theta = np.array(naive_theta(base, d))
    mpmath.mp.dps = 40
    errs = []
    for mm in range(m - 3, m + 1):
        exact = float(sum(mpmath.cos(mpmath.mpf(mm) * mpmath.mpf(float(t))) for t in theta))
        fast = P.cos_sum_range(theta, 4, m - 3)[mm - (m - 3)]
        direct = P.cos_sum_direct(theta, np.array([float(mm)]))[0]
        errs += [abs(fast - exact), abs(direct - exact)]
    bound = P.error_bound(theta, m)
    assert max(errs) <= bound
    assert bound <= 1000 * max(max(errs), 1e-300) or max(errs) == 0


def test_blocks_cover_the_range_in_order(monkeypatch):
    """With a small grid budget the all-m evaluation comes in several blocks: together they are the whole range."""
    theta = np.array(naive_theta(1e4, 64))
    whole = P.cos_sum_range(theta, 50_000, 17)
    monkeypatch.setattr(P, "GRID_ELEMS", 1000)
    blocks = list(P.cos_sum_blocks(theta, 50_000, 17))
    assert len(blocks) > 10
    starts = [b0 for b0, _ in blocks]
    assert starts[0] == 17 and starts == sorted(starts)
    joined = np.concatenate([blk for _, blk in blocks])
    assert joined.size == 50_000
    np.testing.assert_allclose(joined, whole, rtol=0, atol=2 * P.error_bound(theta, 50_017))


def test_lattice_reconstructs_its_distances():
    rng = np.random.default_rng(3)
    for d in (np.arange(5, 900, 7.0), rng.permutation(np.arange(-40, 400, 4.0)), np.linspace(0.5, 9.5, 301),
              np.repeat(np.arange(0, 300, 3.0), 2)):
        start, step, k, R = P.lattice(d)
        k = np.arange(R) if k is None else k
        assert R <= 2 * d.size + 1024 and k.max() < R
        np.testing.assert_allclose(start + k * step, d, rtol=0, atol=4 * np.finfo(float).eps * np.abs(d).max())
    assert P.lattice(rng.uniform(0, 1e6, 100)) is None                # irregular floats
    assert P.lattice(np.array([0.0, 1.0, 10.0 ** 7])) is None          # a span far beyond 2n + 1024


def test_phasor_tables_are_the_phasors():
    theta = np.array(naive_theta(1e4, 32))
    outer, inner = P.phasor_tables(theta, -1234.0, 3.0, 1000)
    B = inner.shape[0]
    assert B == 32 and outer.shape[0] == math.ceil(1000 / B)
    for j in (0, 1, 31, 32, 500, 999):
        want = np.exp(1j * (-1234.0 + 3.0 * j) * theta)
        np.testing.assert_allclose(outer[j // B] * inner[j % B], want, rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(base=st.floats(1.5, 1e5), d=st.sampled_from([2, 4, 8, 16, 32]), offset=st.integers(0, 8),
       stop=st.integers(1, 3000))
def test_first_negative_brute_force(base, d, offset, stop):
    theta = naive_theta(base, d)
    want = next((m for m in range(stop) if naive_similarity_sum(theta, m) + offset < 0), None)
    assert P.first_negative(np.array(theta), offset, stop) == want
    if offset >= d // 2:
        assert want is None
