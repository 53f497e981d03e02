"""rope_viz.analysis.bounds against the papers' numbers and an independent evaluation of B_m.

Oracles: rope-literature.md §2 (Men et al. 2024, arXiv:2405.14591: the [C] row of smallest feasible bases, Su's
re-computed row, min B at the printed table values) and §3 (Liu et al. 2023, arXiv:2310.05209: d_extra, T_extra,
β0, β1..β3); for B_m itself a chunked direct numpy evaluation with θ from tests/naive.py (no angle addition, no shared
code with the fast path). The [C] row for L ≥ 8K is marked slow (seconds to minutes each).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naive import naive_similarity_sum, naive_theta
from rope_viz.analysis.bounds import (
    MEN_TABLE_PRINTED,
    base_bound_curve,
    base_lower_bound,
    base_lower_bound_info,
    critical_base,
    critical_dim,
    extrapolation_bound,
    liu_min_base,
    men_condition,
    men_table,
    min_similarity,
    small_base_thresholds,
)
from rope_viz.config import RopeConfig
from rope_viz.presets import get_preset

K = 1024


def direct_min_b(d: int, base: float, L: int, chunk: int = 1 << 15) -> tuple[float, int]:
    """min_{m<L} Σ_i cos(m θ_i), evaluated directly (every cos computed), in chunks."""
    theta = np.array(naive_theta(base, d))
    best, arg = math.inf, -1
    for s in range(0, L, chunk):
        m = np.arange(s, min(L, s + chunk), dtype=np.float64)
        b = np.cos(m[:, None] * theta[None, :]).sum(axis=1)
        j = int(np.argmin(b))
        if b[j] < best:
            best, arg = float(b[j]), s + j
    return best, arg


def feasible_many(d: int, bases: np.ndarray, L: int) -> np.ndarray:
    """For each base (n,): is Σ_i cos(m θ_i) ≥ 0 for all m < L? Direct evaluation, (n, L, p) in small blocks."""
    i = np.arange(d // 2, dtype=np.float64)
    m = np.arange(L, dtype=np.float64)
    out = np.empty(len(bases), dtype=bool)
    step = max(1, 2_000_000 // (L * (d // 2)))
    for s in range(0, len(bases), step):
        th = bases[s:s + step, None] ** (-2.0 * i[None, :] / d)                 # (nb, p)
        b = np.cos(m[None, :, None] * th[:, None, :]).sum(axis=2)             # (nb, L)
        out[s:s + step] = b.min(axis=1) >= 0
    return out


# -- Men et al. 2024: the smallest feasible base ---------------------------------------------------------------
# rope-literature.md §2, d = 128: [C] row (smallest b with B ≥ 0 for all 0 ≤ m < L) and Su's brute-force row [S].
C_ROW = {1: 4293.4, 2: 11587.3, 4: 26952.4, 8: 83764.0, 16: 231644.8, 32: 629979.1, 64: 2.0902e6,
         128: 4.8691e6, 256: 2.3662e7, 512: 5.8496e7, 1024: 6.5375e7}
SU_ROW = {1: 4.3e3, 2: 1.2e4, 4: 2.7e4, 8: 8.4e4, 16: 2.3e5, 32: 6.3e5, 64: 2.1e6, 128: 4.9e6, 256: 2.4e7,
          512: 5.8e7, 1024: 6.5e7}
VERY_SLOW = pytest.mark.skipif(not os.environ.get("ROPE_VIZ_VERY_SLOW"),
                               reason="minutes each on 2 cores; set ROPE_VIZ_VERY_SLOW=1")


def _lengths():
    for kk in C_ROW:
        marks = [] if kk <= 4 else [pytest.mark.slow] if kk <= 64 else [pytest.mark.slow, VERY_SLOW]
        yield pytest.param(kk, marks=marks, id=f"{kk}K")


@pytest.mark.parametrize("kk", list(_lengths()))
def test_reference_row(kk):
    L = kk * K
    b = base_lower_bound(128, L)
    assert b == pytest.approx(C_ROW[kk], rel=1e-4)
    assert b == pytest.approx(SU_ROW[kk], rel=0.05)
    if L <= 64 * K:  # the direct check costs L·64 cos per base
        assert direct_min_b(128, b, L)[0] >= 0.0                 # feasible at the answer
        assert direct_min_b(128, b * (1 - 1e-6), L)[0] < 0.0     # and not just below it


def test_narrow_window_is_found():
    """L = 2K: the feasible window just above b* is ~1e-4 relative wide, and the bases right below are infeasible
    (rope-literature §2: a coarse search lands on 1.6e4)."""
    L = 2 * K
    b = base_lower_bound(128, L)
    assert b < 1.2e4
    below = b * (1 - np.geomspace(1e-6, 0.5, 150))
    assert not feasible_many(128, below, L).any()
    # infeasible bases exist above b* as well: the feasible set is not an interval
    assert direct_min_b(128, 1.2e4, L)[0] < 0 < direct_min_b(128, 1.6e4, L)[0]


@pytest.mark.parametrize("kk,base,expected", [
    (1, 4.3e3, 0.25), (2, 1.6e4, 2.02), (2, 1.2e4, -3.13), (4, 2.7e4, -0.48), (8, 8.4e4, 0.92),
    (16, 3.1e5, -1.86), (16, 2.3e5, -1.84), (32, 6.4e5, -1.94), (32, 6.3e5, 0.08), (64, 2.1e6, 1.54),
    (128, 7.8e6, -1.02), (128, 4.9e6, -0.35), (256, 3.6e7, -0.88), (256, 2.4e7, -3.31), (512, 6.4e7, -0.22),
    (512, 5.8e7, -3.52), (1024, 5.1e8, -1.16), (1024, 6.5e7, -2.75),
])
def test_min_similarity_at_printed_values(kk, base, expected):
    """rope-literature §2: min_{m<L} B_m at the rounded table values (d = 128)."""
    value, arg = min_similarity(128, base, kk * K)
    assert value == pytest.approx(expected, abs=0.01)
    assert 0 <= arg < kk * K
    assert naive_similarity_sum(naive_theta(base, 128), arg) == pytest.approx(value, abs=1e-9)


@pytest.mark.parametrize("d,base,L", [(128, 1e4, 4096), (64, 5e5, 40_000), (256, 1234.5, 3000), (32, 1e6, 65_536),
                                      (2, 10.0, 100), (128, 1e4, 1), (128, 1e4, 2)])
def test_min_similarity_matches_direct(d, base, L):
    value, arg = min_similarity(d, base, L)
    ref, ref_arg = direct_min_b(d, base, L)
    assert value == pytest.approx(ref, abs=1e-9)
    assert naive_similarity_sum(naive_theta(base, d), arg) == pytest.approx(ref, abs=1e-9)


def test_first_negative_distances_agree():
    """rope-literature §2: d = 128, base 1e4 → first negative B at m = 1707: min over m < 1707 is ≥ 0, over
    m < 1708 it is negative, attained at 1707."""
    assert min_similarity(128, 1e4, 1707)[0] >= 0
    v, arg = min_similarity(128, 1e4, 1708)
    assert v < 0 and arg == 1707


@settings(max_examples=25)
@given(d=st.integers(2, 16).map(lambda x: 2 * x), L=st.integers(3, 160), seed=st.integers(0, 2**32 - 1))
def test_no_feasible_base_below_answer(d, L, seed):
    """Random small (d, L): the answer is feasible, b·(1 − 1e-6) is not, and no base on a random sample of
    (1, b) (log-uniform, plus a dense stretch just below b) is feasible."""
    b = base_lower_bound(d, L)
    rng = np.random.default_rng(seed)
    if math.isinf(b):  # no base ≤ 1e12 works: check a sample of the whole range
        assert not feasible_many(d, np.exp(rng.uniform(1e-9, math.log(1e12), 500)), L).any()
        return
    assert direct_min_b(d, b, L)[0] >= 0
    assert direct_min_b(d, b * (1 - 1e-6), L)[0] < 0
    sample = np.concatenate([np.exp(rng.uniform(1e-9, math.log(b), 500)),
                             b * (1 - np.exp(rng.uniform(math.log(1e-6), math.log(0.05), 300)))])
    assert not feasible_many(d, sample, L).any()


@pytest.mark.parametrize("d", [32, 64, 96, 256])
def test_other_head_dims(d):
    L = 2048
    b = base_lower_bound(d, L)
    assert direct_min_b(d, b, L)[0] >= 0
    assert direct_min_b(d, b * (1 - 1e-6), L)[0] < 0
    rng = np.random.default_rng(d)
    assert not feasible_many(d, b * np.exp(-rng.uniform(1e-6, 3.0, 30)), L).any()


def test_edge_cases():
    assert base_lower_bound(128, 1) == 1.0 and base_lower_bound(128, 2) == 1.0   # B_0, B_1 > 0 for every base
    assert base_lower_bound(2, 3) == math.inf                                     # d = 2: B_2 = cos 2 < 0
    # monotone in L: a longer context can only need a larger base
    assert base_lower_bound(128, 1000) <= base_lower_bound(128, 1024) <= base_lower_bound(128, 1100)
    info = base_lower_bound_info(128, 1024)
    assert info["base"] == base_lower_bound(128, 1024) and info["n_full"] >= 1


@pytest.mark.parametrize("call", [
    lambda: base_lower_bound(127, 1024), lambda: base_lower_bound(0, 1024), lambda: base_lower_bound(2048, 1024),
    lambda: base_lower_bound(True, 1024), lambda: base_lower_bound(128.5, 1024), lambda: base_lower_bound(128, 0),
    lambda: base_lower_bound(128, 2**24 + 1), lambda: base_lower_bound(128, 1024, rtol=0.1),
    lambda: base_lower_bound(128, "1024"), lambda: min_similarity(128, 1.0, 10),
    lambda: min_similarity(128, float("nan"), 10), lambda: min_similarity(128, 1e13, 10),
])
def test_bad_input(call):
    with pytest.raises(ValueError, match="must"):
        call()


# -- Liu et al. 2023 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("base,train,expected", [(1e4, 4096, 92), (5e5, 8192, 70), (1e4, 2048, 82),
                                                 (1e6, 32768, 80)])
def test_critical_dim_papers(base, train, expected):
    assert critical_dim(RopeConfig(128, base=base), train) == expected


@settings(max_examples=80)
@given(half=st.integers(1, 256), base=st.floats(1.5, 1e9), train=st.integers(1, 2**24))
def test_critical_dim_counts_full_periods(half, base, train):
    """Lemma 1 (Eq. 12): d_extra/2 is the number of pairs whose wavelength 2π·b^(2i/d) fits in T_train
    (the count is ⌊x⌋ + 1 = ⌈x⌉ for the non-integer x = (d/2)·log_b(T/2π))."""
    d = 2 * half
    x = half * math.log(train / (2 * math.pi)) / math.log(base)
    if abs(x - round(x)) < 1e-6:
        return  # on an exact boundary the paper's ⌈x⌉ and the count differ by one pair
    lam = [2 * math.pi / t for t in naive_theta(base, d)]
    count = sum(1 for v in lam if v <= train)
    assert critical_dim(RopeConfig(d, base=base), train) == 2 * count


def test_critical_dim_uses_rotary_dim():
    full = critical_dim(RopeConfig(128, base=1e4), 4096)
    assert critical_dim(RopeConfig(256, base=1e4, rotary_fraction=0.5), 4096) == full
    assert critical_dim(RopeConfig(128, base=1e4), 6) == 0            # T < 2π: no full period
    assert critical_dim(RopeConfig(128, base=1e4), 2**24) == 128       # x = 219 > d/2: clamped to d
    assert critical_dim(RopeConfig(128, base=2.0), 4096) == 128


@pytest.mark.parametrize("beta,expected", [(500, 547), (652, 662), (2608, 1793), (1e4, 4712), (4e4, 12762),
                                           (8e4, 21003), (1.2e5, 28109), (5e5, 78400), (1e6, 129027)])
def test_extrapolation_bound_table(beta, expected):
    """rope-literature §3 table: Llama 2 (d = 128, T_train = 4096, pre-training base 1e4) tuned with base β."""
    t = extrapolation_bound(RopeConfig(128, base=beta), 4096, pretrain_base=1e4)
    assert t == pytest.approx(expected, abs=0.5)


def test_extrapolation_bound_large_beta_and_default():
    assert extrapolation_bound(RopeConfig(128, base=1e9), 4096, pretrain_base=1e4) == pytest.approx(1.85e7, rel=3e-3)
    cfg = RopeConfig(128, base=1e4)
    assert extrapolation_bound(cfg, 4096) == extrapolation_bound(cfg, 4096, pretrain_base=1e4)
    assert extrapolation_bound(cfg, 4096) == pytest.approx(2 * math.pi * 1e4 ** (92 / 128))


@settings(max_examples=80)
@given(half=st.integers(1, 256), base=st.floats(1.5, 1e9), train=st.integers(7, 2**24))
def test_untuned_bound_covers_training_length(half, base, train):
    """Without retuning (β = b) T_extra = 2π b^(d_extra/d) ≥ T_train unless every pair already fits (clamp)."""
    cfg = RopeConfig(2 * half, base=base)
    if critical_dim(cfg, train) < cfg.rotary_dim:
        assert extrapolation_bound(cfg, train) >= train * (1 - 1e-6)


def test_critical_base_and_thresholds():
    assert critical_base(4096, 16384) == pytest.approx(71738, abs=1)
    assert critical_base(4096, 4096) == pytest.approx(1e4)
    b1, b2, b3 = small_base_thresholds(4096)
    assert (b1, b2, b3) == pytest.approx((2607.6, 1303.8, 651.9), abs=0.05)
    assert small_base_thresholds(16384) == pytest.approx((10430, 5215, 2608), abs=0.5)


@pytest.mark.parametrize("call", [
    lambda: critical_dim({"head_dim": 128}, 4096), lambda: critical_dim(RopeConfig(128), 0),
    lambda: extrapolation_bound(RopeConfig(128), 4096, pretrain_base=0.5),
    lambda: critical_base(4096, 0), lambda: critical_base(6, 100), lambda: small_base_thresholds(-1),
])
def test_liu_bad_input(call):
    with pytest.raises(ValueError, match="must"):
        call()


def test_partial_result_is_a_proven_lower_bound():
    """With a budget the scan stops early; every base below the reported `lower` must be infeasible."""
    L = 4096
    full = base_lower_bound_info(128, L)
    part = base_lower_bound_info(128, L, max_evals=40)
    assert not part["complete"] and math.isnan(part["base"])
    assert 1.0 < part["lower"] < full["base"]
    rng = np.random.default_rng(0)
    sample = part["lower"] * np.exp(-rng.uniform(0, math.log(part["lower"]), 200))
    assert not feasible_many(128, sample, L).any()
    assert base_lower_bound_info(128, L, max_evals=10**6) == {**full, "lower": full["base"]}
    with pytest.raises(ValueError, match="must"):
        base_lower_bound_info(128, L, max_evals=0)


def test_public_api_exports_the_issue_names():
    """The names issue #2 fixes are importable from the package root and are the same objects as in the modules."""
    import rope_viz
    from rope_viz.analysis import bounds, distance
    names = ["RopeConfig", "from_hf_config", "inv_freq", "attention_factor", "apply_rope", "score_vs_distance",
             "decay_bound", "similarity_sum", "first_negative_distance", "base_lower_bound", "critical_dim",
             "extrapolation_bound", "alibi_slopes"]
    assert set(names) <= set(rope_viz.__all__)
    assert all(hasattr(rope_viz, n) for n in rope_viz.__all__)
    assert rope_viz.base_lower_bound is bounds.base_lower_bound and rope_viz.decay_bound is distance.decay_bound


# -- a config's own condition, the bound curve, Men et al.'s printed table ---------------------------------------------
def _naive_first_negative(theta: list[float], n_pass: int, L: int) -> int | None:
    """First m < L with Σ_i cos(m θ_i) + n_pass < 0, by a chunked direct numpy evaluation."""
    th = np.array(theta)
    for s in range(0, L, 1 << 14):
        m = np.arange(s, min(L, s + (1 << 14)), dtype=np.float64)
        b = np.cos(m[:, None] * th[None, :]).sum(axis=1) + n_pass
        neg = np.flatnonzero(b < 0)
        if neg.size:
            return int(s + neg[0])
    return None


def test_men_condition_is_not_above_the_curve():
    """Issue 9 item 3: base 1e6 at 32K sits above Men et al.'s 32K bound (629,979) yet fails at m = 27,115."""
    cfg = RopeConfig(128, base=1e6, context_length=32768)
    r = men_condition(cfg)
    assert r["holds"] is False and r["first_negative"] == 27115
    assert cfg.base > C_ROW[32]
    assert _naive_first_negative(naive_theta(1e6, 128), 0, 32768) == 27115
    assert men_condition(cfg, 27115)["holds"] is True                   # up to m = 27,114 it holds


@pytest.mark.parametrize("name", ["gpt-neox-20b", "llama-2-7b", "mistral-7b-v0.2", "qwen2.5-7b", "llama-3-8b",
                                  "phi-3-mini-128k", "llama-3.1-8b"])
def test_men_condition_presets_own_frequencies(name):
    """Each preset is checked with its own effective frequencies over its own context (partial rotary's unrotated
    pairs count 1 each), against a direct evaluation with θ from transformers' rule as the frequencies module
    computes it at seq_len = L."""
    from rope_viz.frequencies import inv_freq
    cfg = get_preset(name).config
    L = cfg.context_length
    want = _naive_first_negative(list(inv_freq(cfg, seq_len=L)), (cfg.head_dim - cfg.rotary_dim) // 2, L)
    r = men_condition(cfg)
    assert r["first_negative"] == want and r["holds"] is (want is None)
    if name == "gpt-neox-20b":
        assert r["holds"]                                              # 24 of 96 channels rotate: B ≥ 36 − 12


def test_men_condition_longrope_uses_long_factors():
    """Phi-3-mini-128k over 131,072 tokens: the short factors would say 2,550 (issue 9 item 1); the long ones
    are in effect."""
    from rope_viz.frequencies import inv_freq
    cfg = get_preset("phi-3-mini-128k").config
    r = men_condition(cfg)
    short = _naive_first_negative(list(inv_freq(cfg)), 0, cfg.context_length)
    long = _naive_first_negative(list(inv_freq(cfg, seq_len=cfg.context_length)), 0, cfg.context_length)
    assert r["first_negative"] == long != short


def test_base_bound_curve_is_verified_and_above_the_infimum():
    ctx = [2, 3, 100, 1024, 2048, 4096]
    r = base_bound_curve(128, ctx, per_decade=200)
    assert r["base"][0] == 1.0 and not r["every_base"] and not r["no_base"].any()
    for L, b in zip(ctx, r["base"]):
        assert feasible_many(128, np.array([b]), L)[0]                 # the returned base satisfies the condition
        if L >= 1024:
            exact = C_ROW[L // K]
            assert exact * (1 - 1e-4) <= b <= exact * 1.35              # measured: 1.0005, 1.02, 1.06 here
            below = b / 10 ** (1 / 200)                                 # the grid point below fails
            assert not feasible_many(128, np.array([below]), L)[0]
    assert np.all(np.diff(r["base"]) >= 0)                             # feasible for L ⇒ feasible for shorter


def test_base_bound_curve_partial_and_impossible():
    every = base_bound_curve(96, [2048, 1 << 21], rotary_dim=24)
    assert every["every_base"] and np.all(every["base"] == 1.0)
    none = base_bound_curve(2, [100, 1000])                           # one pair: B_2 = cos 2 < 0 for any base
    assert none["no_base"].all() and np.isnan(none["base"]).all() and np.isfinite(none["context"]).all()
    r = base_bound_curve(128, [8192], rotary_dim=96)                   # 16 unrotated pairs add 16 to B
    b = float(r["base"][0])
    assert _naive_first_negative(naive_theta(b, 96), 16, 8192) is None
    assert _naive_first_negative(naive_theta(b / 10 ** 0.01, 96), 16, 8192) is not None
    with pytest.raises(ValueError, match="rotary_dim"):
        base_bound_curve(64, [100], rotary_dim=128)


def test_liu_min_base():
    beta, d_extra = liu_min_base(128, 16384, 4096, 1e4)
    assert d_extra == 92 and beta == pytest.approx((16384 / (2 * math.pi)) ** (128 / 92), rel=1e-12)
    cfg = RopeConfig(128, base=beta)
    assert extrapolation_bound(cfg, 4096, pretrain_base=1e4) == pytest.approx(16384, rel=1e-9)
    assert liu_min_base(128, 4096, 4096) == (None, 92)
    assert liu_min_base(128, 4096, 4, 1e4)[0] is None                  # d_extra = 0: no base reaches it


@pytest.mark.slow
def test_men_table_columns():
    """The printed values (as in the paper's table) next to ours; min B at the printed values matches the
    independent re-computation (+0.25 at 1K, −0.48 at 4K, −1.02 at 128K, −1.16 at 1M)."""
    r = men_table(exact_max=4096)
    assert tuple(r["printed"]) == MEN_TABLE_PRINTED and r["context"][-1] == 1 << 20
    np.testing.assert_allclose(r["printed_min_b"][[0, 2, 7, 10]], [0.25, -0.48, -1.02, -1.16], atol=0.01)
    for L, v in zip(r["context"][:3], r["exact"][:3]):
        assert v == pytest.approx(C_ROW[L // K], rel=1e-5)
    assert np.isnan(r["exact"][3:]).all() and np.all(r["grid"][:3] >= r["exact"][:3] * (1 - 1e-9))
    assert r["grid"][-1] > 5 * C_ROW[1024]                             # the 1M overshoot the docstring explains


@pytest.mark.parametrize("d, r", [(32, 32), (64, 48), (128, 128)])
def test_base_bound_curve_shortcuts_change_nothing(d, r):
    """The sweep's shortcuts (old witnesses, probes below L) only skip bases that fail: the answer is the smallest
    grid base whose first negative m (direct brute force over every m) is ≥ L."""
    ctx = [700, 3000, 9000, 20000]
    got = base_bound_curve(d, ctx, rotary_dim=r, per_decade=20)["base"]
    n_pass = (d - r) // 2
    for L, b in zip(ctx, got):
        j = 1
        while True:
            base = 10.0 ** (j / 20)
            if _naive_first_negative(naive_theta(base, r), n_pass, L) is None:
                break
            j += 1
        assert b == base
