"""rope_viz.analysis.encodings against independent references: the ALiBi repository's recursive get_slopes and the
reference values of rope-literature.md §7, naive per-element loops for the bias and the sinusoidal encoding, the
definition PE(p)·PE(p + Δ) at many p (hypothesis: independent of p), and tests/naive.py's RoPE score."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rope_viz.analysis.encodings import (alibi_bias, alibi_slopes, rope_signal, sinusoidal_dot,
                                         sinusoidal_frequencies, sinusoidal_pe)
from rope_viz.config import RopeConfig
from rope_viz.frequencies import attention_factor, inv_freq

from naive import naive_score, naive_theta


def get_slopes(n):
    """The official ALiBi slopes (ofirpress/attention_with_linear_biases, as reproduced in HF BLOOM), recursive."""
    def get_slopes_power_of_2(n):
        start = 2 ** (-2 ** -(math.log2(n) - 3))
        ratio = start
        return [start * ratio ** i for i in range(n)]

    if math.log2(n).is_integer():
        return get_slopes_power_of_2(n)
    closest_power_of_2 = 2 ** math.floor(math.log2(n))
    return (get_slopes_power_of_2(closest_power_of_2)
            + get_slopes(2 * closest_power_of_2)[0::2][:n - closest_power_of_2])


# -- ALiBi ----------------------------------------------------------------------------------------------------------
def test_alibi_reference_values():
    # rope-literature.md §7
    np.testing.assert_array_equal(alibi_slopes(8), [1 / 2 ** h for h in range(1, 9)])
    np.testing.assert_allclose(alibi_slopes(16), [2 ** (-h / 2) for h in range(1, 17)], rtol=1e-15)
    np.testing.assert_allclose(alibi_slopes(16)[:3], [0.707107, 0.5, 0.353553], atol=1e-6)
    np.testing.assert_allclose(alibi_slopes(12), [1 / 2 ** h for h in range(1, 9)]
                               + [0.707107, 0.353553, 0.176777, 0.0883883], atol=1e-6)


@pytest.mark.parametrize("n", list(range(1, 70)) + [96, 100, 255, 1000])
def test_alibi_matches_official_get_slopes(n):
    np.testing.assert_allclose(alibi_slopes(n), get_slopes(n), rtol=1e-13)   # ratio**i: a few ulp per step


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "8", None, 10**6])
def test_alibi_slopes_rejects(bad):
    with pytest.raises(ValueError, match="n_heads"):
        alibi_slopes(bad)


def test_alibi_bias_naive_loop():
    slopes = alibi_slopes(6)
    dist = [0, 1, 2, 7, 100, -3, 2.5]
    got = alibi_bias(slopes, dist)
    assert got.shape == (6, len(dist))
    for h, m in enumerate(slopes):
        for j, d in enumerate(dist):
            assert got[h, j] == -m * abs(d)
    assert np.all(got[:, 0] == 0) and not np.any(np.signbit(got[:, 0]))     # exactly +0 at Δ = 0
    # causal rows: query i, keys 0..i → m·[−i, …, −1, 0] as in the paper
    i = 5
    np.testing.assert_array_equal(alibi_bias([0.5], [i - j for j in range(i + 1)])[0], -0.5 * np.arange(i, -1, -1))


@pytest.mark.parametrize("slopes,dist", [([], [1]), ([-0.5], [1]), ([0.5], [np.nan]), ([[0.5]], [1]),
                                         ([0.5], [[1, 2]]), (["a"], [1])])
def test_alibi_bias_rejects(slopes, dist):
    with pytest.raises(ValueError):
        alibi_bias(slopes, dist)


# -- sinusoidal APE ---------------------------------------------------------------------------------------------------
def naive_pe(pos: float, d_model: int, base: float = 10000.0) -> list[float]:
    out = []
    for i in range(d_model // 2):
        w = 1.0 / base ** (2 * i / d_model)
        out += [math.sin(pos * w), math.cos(pos * w)]
    return out


def test_sinusoidal_pe_naive_loop():
    pos = np.array([[0, 1, 17], [255, 4096, 123456]])
    got = sinusoidal_pe(pos, 16, base=500.0)
    assert got.shape == (2, 3, 16)
    for idx in np.ndindex(pos.shape):
        np.testing.assert_allclose(got[idx], naive_pe(float(pos[idx]), 16, 500.0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.sum(got ** 2, axis=-1), 8.0, rtol=1e-14)
    np.testing.assert_array_equal(sinusoidal_frequencies(8), [1, 0.1, 0.01, 0.001])   # 10000^(−2i/8)


def test_sinusoidal_dot_naive_loop():
    for d_model, base in ((8, 10000.0), (64, 10000.0), (128, 5e5), (2048, 10000.0)):   # 2048: the direct path
        dist = [0, 1, 2, 3, 10, 1000, 54321, -7]
        got = sinusoidal_dot(d_model, dist, base)
        want = [sum(math.cos(d / base ** (2 * i / d_model)) for i in range(d_model // 2)) for d in dist]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * d_model)
        assert got[0] == pytest.approx(d_model / 2)


def test_sinusoidal_dot_dense_path():
    # all distances 0 … 2^17: the angle-addition fast path vs a chunked cos evaluation written here
    dist = np.arange(1 << 17)
    omega = 10000.0 ** (-np.arange(0, 128, 2) / 128)
    want = np.concatenate([np.cos(dist[s:s + 8192, None] * omega).sum(1) for s in range(0, dist.size, 8192)])
    got = sinusoidal_dot(128, dist)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * 64)


@settings(max_examples=60)
@given(p=st.integers(0, 200_000), delta=st.integers(-50_000, 50_000),
       d_model=st.sampled_from([2, 4, 16, 64, 128, 256]), base=st.sampled_from([100.0, 1e4, 5e5]))
def test_sinusoidal_dot_independent_of_position(p, delta, d_model, base):
    # PE(p)·PE(p + Δ) from the encoding itself, at an arbitrary absolute position p
    pe = sinusoidal_pe(np.array([p, p + delta]), d_model, base)        # (2, d)
    direct = float(pe[0] @ pe[1])
    assert direct == pytest.approx(float(sinusoidal_dot(d_model, [delta], base)[0]), abs=1e-9 * d_model)


@pytest.mark.parametrize("args", [(7, [1]), (0, [1]), (True, [1]), (4, [1], 1.0), (4, [1], float("inf")),
                                  (4, [float("nan")]), (4.5, [1])])
def test_sinusoidal_rejects(args):
    with pytest.raises(ValueError):
        sinusoidal_dot(*args)


# -- RoPE's signal ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cfg", [
    RopeConfig(64),
    RopeConfig(96, rotary_fraction=0.25, context_length=2048),
    RopeConfig(64, base=1e6, scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 512}),
], ids=["plain", "partial", "yarn"])
def test_rope_signal(cfg):
    dist = [0, 1, 5, 64, 1000, -3]
    got = rope_signal(cfg, dist)
    theta, af = list(inv_freq(cfg, cfg.context_length)), attention_factor(cfg, cfg.context_length)
    ones = np.ones(cfg.head_dim)
    naive = [naive_score(ones, ones, d, theta, cfg.rotary_dim, cfg.layout, af, key_position=11.0) for d in dist]
    np.testing.assert_allclose(got, naive, rtol=1e-12, atol=1e-10)
    closed = [2 * af * af * sum(math.cos(d * t) for t in theta) + (cfg.head_dim - cfg.rotary_dim) for d in dist]
    np.testing.assert_allclose(got, closed, rtol=1e-12, atol=1e-10)


def test_rope_equals_ape_for_same_base():
    # the shared "position similarity" curve: RoPE (q = k = 1) = 2·APE dot product for d_model = head_dim
    dist = np.arange(0, 5000, 7)
    np.testing.assert_allclose(rope_signal(RopeConfig(128), dist), 2 * sinusoidal_dot(128, dist), atol=1e-9)
    assert naive_theta(10000.0, 8) == pytest.approx(list(sinusoidal_frequencies(8)))
    with pytest.raises(ValueError):
        rope_signal({"head_dim": 64}, [1])
