"""Pure figure tests for the Distance, Aliasing, Offset dimensions and Encodings compared figures.

The plotted data is checked against independent references — the naive loops in tests/naive.py, closed forms written
here from the papers' definitions, and the reference numbers in ../shared/research/rope-literature.md — never against
outputs of our own code. Also: every figure has a title, axis titles, a legend, and stays ≤ 2 MB of JSON at L = 1M.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naive import naive_decay_bound, naive_score, naive_similarity_sum, naive_theta
from rope_viz.config import RopeConfig
from rope_viz.figures import aliasing as FA
from rope_viz.figures import distance as FD
from rope_viz.figures import offsets as FO

LLAMA2 = RopeConfig(128, base=10000.0, context_length=4096)
MY_FIGURES = ("distance_curves", "aliasing_map", "aliasing_impostors", "aliasing_base_sweep", "aliasing_pair",
              "aliasing_advisor", "offsets_cycles", "offsets_bias", "encodings_signal", "encodings_alibi")


def _has(mod: str) -> bool:
    try:
        __import__(mod)
        return True
    except ImportError:
        return False


needs_bounds = pytest.mark.skipif(not _has("rope_viz.analysis.bounds"), reason="analysis.bounds not on main yet")
needs_enc = pytest.mark.skipif(not _has("rope_viz.analysis.encodings"), reason="analysis.encodings not on main yet")
needs_presets = pytest.mark.skipif(not _has("rope_viz.presets"), reason="rope_viz.presets not on main yet")


def _trace(fig, startswith: str):
    for t in fig.data:
        if (t.name or "").startswith(startswith):
            return t
    raise AssertionError(f"no trace named {startswith!r}: {[t.name for t in fig.data]}")


def _naive_ones_score(cfg: RopeConfig, delta: float) -> float:
    th = naive_theta(cfg.base, cfg.rotary_dim)
    ones = np.ones(cfg.head_dim)
    return naive_score(ones, ones, delta, th, cfg.rotary_dim, cfg.layout)


# -- distance ------------------------------------------------------------------------------------------------------
def test_distance_linear_curves_equal_naive_at_every_plotted_point():
    cfg = RopeConfig(64, base=10000.0, context_length=512)
    fig = FD.distance_figure(cfg, log_x=False, n_bins=2000)
    th = naive_theta(cfg.base, cfg.rotary_dim)
    ones = _trace(fig, FD.QUANTITY_LABELS["ones"])
    sim = _trace(fig, FD.QUANTITY_LABELS["similarity"])
    bound = _trace(fig, FD.QUANTITY_LABELS["bound"])
    assert len(ones.x) == 513 and ones.x[0] == 0
    for j in (0, 1, 2, 7, 100, 333, 512):
        assert ones.y[j] == pytest.approx(_naive_ones_score(cfg, j), abs=1e-9)
        assert sim.y[j] == pytest.approx(naive_similarity_sum(th, j), abs=1e-9)
        assert bound.y[j] == pytest.approx(naive_decay_bound(th, j), abs=1e-9)
    # Δ = 0: q = k = 1 gives ‖1‖² = d; B_0 = d/2; RoFormer's f(0) = (p + 1)/2
    assert ones.y[0] == pytest.approx(64.0)
    assert sim.y[0] == pytest.approx(32.0)
    assert bound.y[0] == pytest.approx(16.5)


def test_roformer_reference_values_are_on_the_bound_curve():
    """rope-literature.md §1: f(m) for d = 128, base 1e4 (Su's Mathematica code)."""
    fig = FD.distance_figure(LLAMA2, quantities=("bound",), max_distance=256, log_x=False)
    tr = _trace(fig, FD.QUANTITY_LABELS["bound"])
    ref = {0: 32.5, 1: 31.5382, 2: 28.9560, 5: 20.8454, 10: 17.9541, 20: 15.2424, 50: 12.6295, 100: 10.2273,
           200: 7.2448, 256: 6.5431}
    for m, f in ref.items():
        assert tr.y[m] == pytest.approx(f, abs=1e-4)


@pytest.mark.parametrize("base,first", [(1e4, 1707), (5e5, 18438), (1e6, 27115)])
def test_first_negative_marker_matches_literature(base, first):
    cfg = RopeConfig(128, base=base, context_length=32768)
    fig = FD.distance_figure(cfg, quantities=("similarity",))
    mark = _trace(fig, "B_m first < 0")
    assert list(mark.x) == [first]
    th = naive_theta(base, 128)
    assert mark.y[0] == pytest.approx(naive_similarity_sum(th, first), abs=1e-9) and mark.y[0] < 0
    assert naive_similarity_sum(th, first - 1) >= 0


def test_log_envelope_brackets_naive_values_at_1m():
    L = 1 << 20
    cfg = RopeConfig(128, base=5e5, context_length=L)
    fig = FD.distance_figure(cfg, quantities=("similarity", "ones"), log_x=True)
    th = naive_theta(cfg.base, 128)
    for label, ref in ((FD.QUANTITY_LABELS["similarity"], lambda m: naive_similarity_sum(th, m)),
                       (FD.QUANTITY_LABELS["ones"], lambda m: _naive_ones_score(cfg, m))):
        traces = [t for t in fig.data if t.name.startswith(label)]
        hi, lo = traces[0], traces[1]                       # max line (legend) then min line
        x = np.asarray(hi.x)
        assert len(x) <= FD.N_BINS_DEFAULT and np.all(np.diff(x) > 0) and x[0] >= 1
        rng = np.random.default_rng(1)
        for m in np.concatenate([[1, 2, 3, 10, L], rng.integers(1, L, 12)]):
            # the display bin holding m: x_ds is the geometric centre of its bin; find the nearest in log
            j = int(np.argmin(np.abs(np.log(x) - math.log(m))))
            cands = [k for k in (j - 1, j, j + 1) if 0 <= k < len(x)]
            v = ref(float(m))
            assert any(lo.y[k] - 1e-9 <= v <= hi.y[k] + 1e-9 for k in cands), (label, m, v)
        assert max(hi.y) == pytest.approx(ref(1.0) if label == FD.QUANTITY_LABELS["ones"] else
                                          naive_similarity_sum(th, 1), rel=1e-12)


def test_random_band_is_flat_and_centred():
    """Barbero et al.: for Gaussian q, k the mean score is exactly 0 at every Δ and the std is √d (no decay); the
    band drawn is that exact mean ± std (it was one noisy Monte-Carlo sample before: mean 2.49 at Δ = 1)."""
    cfg = RopeConfig(128, context_length=65536)
    fig = FD.distance_figure(cfg, quantities=("random",))
    mean = np.asarray([t for t in fig.data if t.name == FD.QUANTITY_LABELS["random"]][0].y)
    up = np.asarray([t for t in fig.data if t.name.endswith("(+1 std)")][0].y)
    down = np.asarray([t for t in fig.data if t.name.endswith("(−1 std)")][0].y)
    assert np.all(mean == 0.0)
    np.testing.assert_allclose(up, math.sqrt(128), rtol=1e-12)
    np.testing.assert_allclose(down, -math.sqrt(128), rtol=1e-12)


def test_normalised_curves_start_at_one():
    cfg = RopeConfig(96, base=3e4, rotary_fraction=0.5, context_length=2048)
    fig = FD.distance_figure(cfg, quantities=("bound", "similarity", "ones"), log_x=False, normalize=True)
    for q in ("bound", "similarity", "ones"):
        assert _trace(fig, FD.QUANTITY_LABELS[q]).y[0] == pytest.approx(1.0)


def test_overlay_of_configs_and_bad_input():
    fig = FD.distance_figure(LLAMA2, compare=(5e5, 1e6, 100.0), quantities=("similarity",))
    names = [t.name for t in fig.data]
    for b in ("base=10000", "base=500000", "base=1e6", "base=100"):
        assert any(b in n for n in names), (b, names)
    th100 = naive_theta(100.0, 128)
    first100 = next(m for m in range(4097) if naive_similarity_sum(th100, m) < 0)
    # 5e5 and 1e6 stay ≥ 0 up to 4096 (their first negatives are 18438 and 27115): no marker for them
    assert sorted(n.split(" = ")[1].split(" ")[0] for n in names if n.startswith("B_m first")) == \
        sorted(["1,707", f"{first100:,}"])
    with pytest.raises(ValueError, match="at most 3"):
        FD.distance_figure(LLAMA2, compare=(1e5, 2e5, 3e5, 4e5))
    with pytest.raises(ValueError, match="unknown curve"):
        FD.distance_figure(LLAMA2, quantities=("decay",))
    with pytest.raises(ValueError, match="max_distance"):
        FD.distance_figure(LLAMA2, max_distance=0)
    with pytest.raises(ValueError, match="compare entries"):
        FD.distance_figure(LLAMA2, compare=([1, 2],))
    with pytest.raises(ValueError):
        FD.distance_figure(LLAMA2, compare=(0.5,))         # base ≤ 1: RopeConfig's message


def test_bound_is_sampled_beyond_the_exact_range_and_says_so():
    cfg = RopeConfig(64, context_length=FD.BOUND_EXACT_MAX * 2)
    fig = FD.distance_figure(cfg, quantities=("bound",))
    tr = _trace(fig, FD.QUANTITY_LABELS["bound"])
    assert "sampled beyond" in tr.name
    d, exact = FD.bound_distances(cfg.context_length)
    assert not exact and d[-1] <= cfg.context_length and np.all(np.diff(d) > 0)
    assert np.array_equal(d[: FD.BOUND_EXACT_MAX + 1], np.arange(FD.BOUND_EXACT_MAX + 1))


@pytest.mark.parametrize("L", [FD.BOUND_EXACT_MAX + 7, 2_097_152])
def test_bound_caption_end_value_is_the_bound_at_the_stated_distance(L):
    """"goes … to 9.6 at Δ = 2,097,152" was the value at the last sampled Δ (2,097,142); the exact bound at
    2,097,152 is 13.9. The sampled distances end at max_distance, so the stated value is the bound there."""
    cfg = RopeConfig(256, base=1e9, context_length=L)
    fig = FD.distance_figure(cfg, quantities=("bound",), max_distance=L)
    d, _ = FD.bound_distances(L)
    assert d[-1] == L
    want = naive_decay_bound(naive_theta(cfg.base, cfg.rotary_dim), float(L))
    assert fig.layout.meta["bound"]["y_end"] == pytest.approx(want, rel=1e-9)
    from rope_viz.figures import caption_of
    assert f"at Δ = {L:,}" in caption_of("distance_curves", fig)


# -- aliasing ------------------------------------------------------------------------------------------------------
def _naive_sim(cfg: RopeConfig, m: float, n: float) -> float:
    th = naive_theta(cfg.base, cfg.rotary_dim)
    return sum(math.cos((m - n) * t) for t in th) / len(th)


@pytest.mark.parametrize("spacing", ["log", "linear"])
def test_similarity_map_cells_equal_naive(spacing):
    cfg = RopeConfig(64, base=500.0, context_length=20000)
    fig = FA.similarity_map_figure(cfg, n_positions=64, spacing=spacing)
    hm = fig.data[0]
    x, z = np.asarray(hm.x), np.asarray(hm.z)
    assert z.shape == (len(x), len(x)) and np.array_equal(x, np.asarray(hm.y))
    assert (x[0] > 0) if spacing == "log" else (x[0] == 0 and x[-1] == cfg.context_length - 1)
    rng = np.random.default_rng(0)
    for a, b in rng.integers(0, len(x), (15, 2)):
        assert z[a, b] == pytest.approx(_naive_sim(cfg, x[a], x[b]), abs=1e-6)   # float32 for display
    if spacing == "log":   # one cell per sample (category axes), ticks labelled with the sampled positions
        assert fig.layout.xaxis.type == fig.layout.yaxis.type == "category"
        ticks = np.asarray(fig.layout.xaxis.tickvals)
        assert set(ticks) <= set(x) and ticks[0] == x[0] and ticks[-1] == x[-1]
        assert list(fig.layout.xaxis.ticktext) == [f"{int(v):,}" for v in ticks]
    else:
        assert fig.layout.xaxis.type is None and fig.layout.yaxis.type is None


def test_impostors_match_brute_force():
    """The farthest look-alike of each distance (the redesigned impostor view), against brute force."""
    cfg = RopeConfig(32, base=50.0, context_length=600)
    fig = FA.impostor_figure(cfg, log_x=False)
    prof = [_naive_sim(cfg, 0, d) for d in range(cfg.context_length)]
    right = _trace(fig, "farthest look-alike F(k)")
    for k, f in zip(right.x, right.y):                       # every k: 599 distances ≤ the display bins
        best = max(D for D in range(1, cfg.context_length) if prof[D] >= prof[int(k)] - 1e-9)
        assert f == best or prof[int(f)] == pytest.approx(prof[best], abs=1e-9)


@given(a=st.integers(0, 50_000), b=st.integers(0, 50_000), base=st.sampled_from([20.0, 200.0, 1e4, 5e5]))
@settings(max_examples=15)
def test_pair_figure_bars_are_per_pair_cosines(a, b, base):
    cfg = RopeConfig(64, base=base, context_length=65536)
    fig = FA.pair_figure(cfg, position=a, other=b)
    aligned, apart, mean = fig.data[0], fig.data[1], fig.data[2]
    th = naive_theta(base, 64)
    ref = np.array([math.cos((b - a) * t) for t in th])
    y = np.empty(len(ref))
    y[np.asarray(aligned.x, dtype=int)], y[np.asarray(apart.x, dtype=int)] = aligned.y, apart.y
    np.testing.assert_allclose(y, ref, atol=1e-9)
    assert np.all(np.asarray(aligned.y) > FA.ALIGNED_COS) and np.all(np.asarray(apart.y) <= FA.ALIGNED_COS)
    assert len(aligned.x) + len(apart.x) == len(ref) and "cos > 0.9" in aligned.name
    assert mean.y[0] == pytest.approx(sum(ref) / len(ref), abs=1e-9)


def test_example_base_makes_10000_look_like_100():
    b = FA.example_base(128)
    assert b in FA.EXAMPLE_BASE_CANDIDATES and b < 1e4
    cfg = RopeConfig(128, base=b, context_length=16384)
    sim = _naive_sim(cfg, 100, 10_000)
    nearer_less = sum(_naive_sim(cfg, 0, d) < sim for d in range(1, 9900))
    assert nearer_less > 9900 // 2                          # most nearer positions look *less* like 100


@needs_bounds
def test_base_sweep_marks():
    """Men et al.'s bound for d = 128, L = 4096 ≈ 2.7e4 (literature §2, computed 26952.4); Liu et al.'s base for
    T_extra ≥ 16384 when pre-trained at 4096 with base 1e4: d_extra = 92 (paper), β = (16384/2π)^(128/92)."""
    cfg = RopeConfig(128, base=1e4, context_length=4096)
    fig = FA.base_sweep_figure(cfg, context_length=16384, train_length=4096)
    men = _trace(fig, "Men et al. lower bound")
    assert men.x[0] == pytest.approx(231644.8, rel=0.05)   # L = 16384 (literature §2, computed row)
    fig4 = FA.base_sweep_figure(cfg, context_length=4096, train_length=2048)
    assert _trace(fig4, "Men et al. lower bound").x[0] == pytest.approx(26952.4, rel=0.05)
    liu = _trace(fig, "Liu et al.")
    assert liu.x[0] == pytest.approx((16384 / (2 * math.pi)) ** (128 / 92), rel=1e-6)
    assert _trace(fig, "this config's base").x[0] == 1e4
    sweep = fig.data[0]
    assert len(sweep.x) == len(FA.SWEEP_BASES)
    # worst similarity at the smallest base, brute force over Δ ≥ s
    s = 16384 // 16
    c10 = RopeConfig(128, base=sweep.x[0], context_length=16384)
    th = np.array(naive_theta(c10.base, 128))
    d = np.arange(s, 16384, dtype=float)
    ref = np.cos(d[:, None] * th).mean(axis=1).max()
    assert sweep.y[0] == pytest.approx(ref, abs=1e-9)


@needs_bounds
def test_advisor_recommendation_satisfies_men_condition_directly():
    cfg = RopeConfig(128, base=1e4, context_length=8192)
    fig = FA.advisor_figure(cfg, target_context=8192)
    star = _trace(fig, "recommended")
    b = star.y[0]
    th = np.array(naive_theta(b, 128))
    m = np.arange(8192, dtype=float)
    assert np.cos(m[:, None] * th).sum(axis=1).min() >= 0
    curve = _trace(fig, "Men et al. minimum base, d = 128")
    i = list(curve.x).index(8192)
    th = np.array(naive_theta(curve.y[i], 128))                # the curve's base keeps B ≥ 0 over 8K, directly
    assert np.cos(m[:, None] * th).sum(axis=1).min() >= 0
    assert 83764.0 * (1 - 1e-4) <= curve.y[i] <= 1.15 * 83764.0   # ≥ the certified infimum b*(8K) = 83,764.0


# -- offsets -------------------------------------------------------------------------------------------------------
def test_cycles_figure_matches_definitions_and_literature():
    fig = FO.cycles_figure(LLAMA2)
    tr = fig.data[0]
    th = np.array(naive_theta(1e4, 128))
    np.testing.assert_allclose(tr.y, 4096 * th / (2 * np.pi), rtol=1e-12)
    assert "18 partial-cycle" in tr.name                   # pairs 46–63 (literature §4a proxy)
    n_one = int(np.sum(4095 * th < np.pi))
    assert f"{n_one} one-sign" in tr.name
    half = _trace(fig, "one-sign threshold")
    assert half.y[0] == pytest.approx(4096 / (2 * 4095))          # (L − 1)·θ = π on the L·θ/2π axis
    assert fig.layout.yaxis.type == "log"


@pytest.mark.parametrize("L, base", [(16, 10.0), (16, 1e4), (64, 100.0), (4096, 1e4), (8192, 5e5)])
def test_one_sign_pairs_are_exactly_those_below_the_threshold_line(L, base):
    """The line sat at (L − 1)/(2L) turns (0.469 at L = 16) while the criterion (L − 1)·θ < π is L/(2(L − 1)) turns
    (0.533): a pair between the two was one-sign but drawn above the line. Every pair's side of the line is its
    classification, computed here from θ."""
    fig = FO.cycles_figure(RopeConfig(64, base=base, context_length=L))
    y = np.asarray(fig.data[0].y, dtype=float)
    line = _trace(fig, "one-sign threshold").y[0]
    one_sign = (L - 1) * np.array(naive_theta(base, 64)) < np.pi
    assert np.array_equal(y < line, one_sign), (line, y[~one_sign][:3], y[one_sign][-3:])


def test_comparison_configs_under_scaling():
    cfg = RopeConfig(128, base=5e5, context_length=8192)
    v = FO.comparison_configs(cfg, "linear", 4.0)
    assert [c.context_length for _, c in v] == [8192, 32768, 32768]
    assert v[1][1].scaling is None and v[2][1].rope_type == "linear"
    fig = FO.cycles_figure(v[0][1], compare=[list(x) for x in v[1:]])
    pre, plain, pi = fig.data[0], fig.data[1], fig.data[2]
    # PI at s·L turns exactly as much as pre-training at L; plain RoPE at s·L turns s times more
    np.testing.assert_allclose(pi.y, pre.y, rtol=1e-12)
    np.testing.assert_allclose(plain.y, 4 * np.asarray(pre.y), rtol=1e-12)
    scaled = FO.comparison_configs(v[2][1])
    assert scaled[1][1].scaling is None and scaled[1][1].context_length == 32768
    for m in FO.METHODS:
        assert FO.comparison_configs(cfg, m, 2.0)[2][1].rope_type == m
    with pytest.raises(ValueError, match="method"):
        FO.comparison_configs(cfg, "rope", 2.0)


def test_bias_curve_equals_closed_form():
    cfg = RopeConfig(64, base=1e6, context_length=1000)
    fig = FO.bias_figure(cfg, magnitude=1.5, simulate=True, n_samples=64)
    tr = fig.data[0]
    th = np.array(naive_theta(1e6, 64))
    sel = np.flatnonzero(999 * th < np.pi)
    assert sel.size > 0 and f"{sel.size} one-sign" in tr.name
    x = np.asarray(tr.x)
    alpha = -999 * th[sel] / 2
    ref = 1.5 ** 2 * np.cos(x[:, None] * th[sel] + alpha).sum(axis=1)
    np.testing.assert_allclose(tr.y, ref, atol=1e-9)
    assert np.all(np.asarray(tr.y) > 0)                    # one sign over the whole context
    sim = _trace(fig, "random content + offset")
    stderr = np.asarray(sim.error_y.array)
    ref_s = 1.5 ** 2 * np.cos(np.asarray(sim.x)[:, None] * th[sel] + alpha).sum(axis=1)
    assert np.mean(np.abs(np.asarray(sim.y) - ref_s) < 4 * stderr) > 0.95
    fig2 = FO.bias_figure(cfg, n_offset_pairs=3, alpha=0.0, simulate=False)
    ref2 = np.cos(np.asarray(fig2.data[0].x)[:, None] * th[-3:]).sum(axis=1)
    np.testing.assert_allclose(fig2.data[0].y, ref2, atol=1e-9)
    with pytest.raises(ValueError, match="n_offset_pairs"):
        FO.bias_figure(cfg, n_offset_pairs=33)


@pytest.mark.parametrize("cfg, simulate", [(RopeConfig(64, base=1e6, context_length=1000), True),
                                           (RopeConfig(64, base=1e6, context_length=1000), False),
                                           (RopeConfig(128, base=2.0), True), (RopeConfig(2), True)])
def test_bias_caption_names_only_what_is_drawn(cfg, simulate):
    """At base 2 (or d = 2, θ = 1) no pair turns < half a turn over the context: the figure draws a flat zero and no
    dots, and the caption said "the random-content average (dots) sits on it". The dots are named only when drawn,
    the flat case says why it is flat (one-sign pairs counted here from (L − 1)θ < π)."""
    from rope_viz.figures import caption_of
    fig = FO.bias_figure(cfg, simulate=simulate, n_samples=16)
    text = caption_of("offsets_bias", fig)
    th = np.array(naive_theta(cfg.base, cfg.rotary_dim))
    n_one = int(np.sum((cfg.context_length - 1) * th < np.pi))
    dots = [t for t in fig.data if t.mode == "markers"]
    assert ("(dots)" in text) == bool(dots) == (simulate and n_one > 0), text
    assert ("bias is 0 at every distance" in text) == (n_one == 0), text
    if n_one == 0:
        assert np.all(np.asarray(fig.data[0].y) == 0)


# -- encodings -----------------------------------------------------------------------------------------------------
@needs_enc
def test_signal_figure_against_definitions():
    from rope_viz.figures import encodings as FE
    cfg = RopeConfig(64, base=10000.0, context_length=1000)
    fig = FE.signal_figure(cfg, log_x=False)
    rope, ape = _trace(fig, "RoPE"), _trace(fig, "sinusoidal APE")
    x = np.asarray(rope.x)
    assert x[0] == 0 and rope.y[0] == pytest.approx(1.0) and ape.y[0] == pytest.approx(1.0)
    # Vaswani et al.: PE[2i] = sin(p/1e4^(2i/d)), PE[2i+1] = cos(...)
    def pe(p, d=64):
        out = np.empty(d)
        for i in range(d // 2):
            w = 1e4 ** (-2 * i / d)
            out[2 * i], out[2 * i + 1] = math.sin(p * w), math.cos(p * w)
        return out
    for dlt in (1, 5, 77, 1000):
        assert ape.y[dlt] == pytest.approx(pe(3 + dlt) @ pe(3) / (pe(3) @ pe(3)), abs=1e-9)
        assert rope.y[dlt] == pytest.approx(_naive_ones_score(cfg, dlt) / 64, abs=1e-9)
    np.testing.assert_allclose(rope.y, ape.y, atol=1e-9)   # base 1e4, d_model = d: the same curve
    alibi = [t for t in fig.data if t.legendgroup == "alibi"]
    assert sum(t.showlegend is not False for t in alibi) == 1      # one legend entry for every head
    assert len({t.line.color for t in alibi}) == 8                 # heads told apart by colour
    h = 0
    for tr in alibi:                                         # heads in slope order, steep → shallow
        x, y = np.asarray(tr.x, float), np.asarray(tr.y, float)
        for i in np.split(np.arange(x.size), np.flatnonzero(np.isnan(x))):
            i = i[~np.isnan(x[i])]                           # Press et al.: m_h = 2^(−8h/n) for n = 8
            np.testing.assert_allclose(y[i], np.exp(-(2.0 ** -(h + 1)) * x[i]), rtol=1e-12)
            assert tr.text[i[0]].startswith(f"head {h + 1},")
            h += 1
    assert h == 8


@needs_enc
def test_alibi_figure_slopes_for_12_heads():
    from rope_viz.figures import encodings as FE
    fig = FE.alibi_figure(LLAMA2, n_heads=12)
    ref = [2 ** -(k + 1) for k in range(8)] + [2 ** -0.5, 2 ** -1.5, 2 ** -2.5, 2 ** -3.5]   # literature §7
    assert len(fig.data) == 8                                # 12 heads in 8 legend groups of consecutive heads
    got = []
    for t in fig.data:                                       # each head a straight line (0, 0) → (L, −m·L)
        x, y = np.asarray(t.x, float), np.asarray(t.y, float)
        ok = ~np.isnan(x)
        assert np.all(y[ok][x[ok] == 0] == 0)
        got += list(-y[ok][x[ok] > 0] / x[ok][x[ok] > 0])
    np.testing.assert_allclose(got, sorted(ref, reverse=True), rtol=1e-12)   # traces ordered steep → shallow
    assert [len(FE.alibi_figure(LLAMA2, n_heads=n).data) for n in (1, 8, 64)] == [1, 8, 8]


@needs_enc
def test_comparison_table_measured():
    from rope_viz.figures import encodings as FE
    cfg = RopeConfig(64, base=10000.0, context_length=2048)
    rows = {r["encoding"].split(" (")[0]: r for r in FE.comparison_table(cfg, n_heads=8)}
    rope, ape, alibi = rows["RoPE"], rows["sinusoidal APE"], rows["ALiBi"]
    th = np.array(naive_theta(1e4, 64))
    sig = np.cos(np.arange(2049)[:, None] * th).mean(axis=1)
    half = int(np.flatnonzero(sig <= 0.5)[0])
    assert rope["first Δ with signal ≤ ½"] == f"{half:,}" == ape["first Δ with signal ≤ ½"]
    assert rope["monotone on [0, L]"] is False and alibi["monotone on [0, L]"] is True
    assert float(rope["min on [0, L]"].replace("−", "-")) == pytest.approx(sig.min(), rel=1e-3)
    assert rope["min on [0, L]"].startswith("−")                 # RoPE's signal goes negative: a true minus sign
    assert rope["components at unseen phase beyond L"] == f"{int(np.sum(2 * np.pi / th > 2048))} of 32"
    # ALiBi: e^(−mΔ) ≤ 1/2 first at ⌈ln 2 / m⌉ for m = 1/2 … 1/256
    assert alibi["first Δ with signal ≤ ½"] == f"{math.ceil(math.log(2) * 2):,} … {math.ceil(math.log(2) * 256):,}"
    assert rope["position tables for L = 2,048 (fp32)"] == "1 MiB"      # 2 · 2048 · 64 · 4 bytes


@needs_enc
@pytest.mark.parametrize("n_heads,L,end", [(8, 2048, None), (12, 300, None), (64, 5000, None), (3, 1, None),
                                           (8, 2048, 3000), (8, 2048, 2048)])
def test_alibi_cells_equal_brute_force(n_heads, L, end):
    """The ALiBi column's shortcuts (monotone e^(−mΔ)) give what evaluating every Δ = 0 … end (2L) gives."""
    from rope_viz.analysis.encodings import alibi_bias, alibi_slopes
    from rope_viz.figures import encodings as FE
    slopes = alibi_slopes(n_heads)
    half, dep, mono, low, at0 = FE.alibi_cells(slopes, L, end)
    d = np.arange(0, (2 * L if end is None else end) + 1, dtype=float)
    y = np.exp(np.asarray(alibi_bias(slopes, d)))                    # (H, 2L + 1)
    assert half == [int(np.flatnonzero(r <= 0.5)[0]) if np.any(r <= 0.5) else None for r in y]
    assert mono == bool(np.all(np.diff(y[:, :L + 1], axis=1) <= 1e-12))
    assert low == pytest.approx(y[:, :L + 1].min(), rel=1e-12)
    beyond = y[:, L + 1:]
    lo, hi = y[:, :L + 1].min(axis=1, keepdims=True), y[:, :L + 1].max(axis=1, keepdims=True)
    want = float(np.max(np.maximum(lo - beyond, 0) + np.maximum(beyond - hi, 0), initial=0.0))
    assert dep == pytest.approx(want, rel=1e-12, abs=1e-300)
    assert at0 == pytest.approx(float(np.asarray(alibi_bias(slopes, np.array([0.0]))).max()), abs=0)


@needs_enc
@pytest.mark.parametrize("L", [1000, 1600, 2048])
def test_comparison_table_stops_at_the_longest_distance(monkeypatch, L):
    """With 2L past the longest distance the library evaluates (2^24; here patched to 2,048) the table measured
    Δ ≤ 2L and failed ('max_distance must be … ≤ 16,777,216, got 33554432' at L = 2^24): it measures up to that
    limit, says so in the column, and has no departure when nothing lies beyond L."""
    from rope_viz.figures import encodings as FE
    monkeypatch.setattr(FE, "CONTEXT_MAX", 2048)
    cfg = RopeConfig(64, base=10000.0, context_length=L)
    end = min(2 * L, 2048)
    assert FE.table_end(L) == end
    rows = {r["encoding"].split(" (")[0]: r for r in FE.comparison_table(cfg, n_heads=8)}
    key = "largest departure beyond L (Δ ≤ 2L)" if end == 2 * L else f"largest departure beyond L (Δ ≤ {end:,})"
    rope = rows["RoPE"][key]
    if end == L:
        assert rope.startswith("none measured") and rows["ALiBi"][key].startswith("none measured")
        return
    th = np.array(naive_theta(1e4, 64))
    sig = np.cos(np.arange(end + 1)[:, None] * th).mean(axis=1)
    sig = sig / sig[0]
    train, beyond = sig[:L + 1], sig[L + 1:]
    want = float(np.max(np.maximum(train.min() - beyond, 0) + np.maximum(beyond - train.max(), 0), initial=0.0))
    assert float(rope.replace("−", "-")) == pytest.approx(want, rel=1e-2, abs=1e-3)


# -- every figure: titles, axes, legend, size ---------------------------------------------------------------------
def _available(name: str) -> bool:
    if name.startswith("encodings"):
        return _has("rope_viz.analysis.encodings")
    if name in ("aliasing_base_sweep", "aliasing_advisor"):
        return _has("rope_viz.analysis.bounds")
    return True


@pytest.mark.parametrize("name", MY_FIGURES)
def test_titles_axes_legend_and_size_at_1m(name):
    if not _available(name):
        pytest.skip("analysis module not on main yet")
    from rope_viz.figures import get_figure
    spec = get_figure(name)
    cfg = RopeConfig(128, base=5e5, context_length=1 << 20)
    for style in ("app", "docs"):
        fig = spec.fn(cfg, style=style)
        assert 0 < len(spec.caption_for(fig)) < 400
        lay = fig.layout
        assert lay.title.text and lay.xaxis.title.text and lay.yaxis.title.text
        assert "(" in lay.xaxis.title.text and "(" in lay.yaxis.title.text        # units in parentheses
        assert lay.showlegend is True
        assert any(t.name and t.showlegend is not False for t in fig.data) or all(   # a heatmap: its colour
            t.type == "heatmap" and t.colorbar.title.text for t in fig.data)         # bar is the legend
        assert len(fig.to_json()) <= 2_000_000
    assert fig.layout.width is not None                     # docs style: fixed size


@pytest.mark.parametrize("quantities,normalize,right", [(FD.QUANTITIES, False, True), (("bound", "ones"), False, True),
                                                         (("bound",), False, False), (FD.QUANTITIES, True, False)])
def test_roformer_bound_has_an_axis_of_its_own_beside_scores(quantities, normalize, right):
    """RoFormer's relative bound (1/(d/2))·Σ|S_j| is not a dot product: drawn beside scores it sits on a right axis
    titled with its own name and "no unit" (on the score axis, 32.5 under an all-ones score of 128 read as a bound
    that the score breaks); alone, or with every curve normalised to 1 at Δ = 0, it shares the one axis."""
    fig = FD.distance_figure(RopeConfig(128), quantities=quantities, normalize=normalize)
    bound = [t for t in fig.data if t.name.startswith(FD.QUANTITY_LABELS["bound"])]
    others = [t for t in fig.data if t.y is not None and not t.name.startswith(FD.QUANTITY_LABELS["bound"])]
    assert bound and all((t.yaxis == "y2") == right for t in bound)
    assert all(t.yaxis in (None, "y") for t in others)
    if right:
        assert "no unit" in fig.layout.yaxis2.title.text and fig.layout.yaxis2.overlaying == "y"
        assert all("(right axis)" in t.name for t in bound)


@pytest.mark.parametrize("factor", [1.0, 2.0, 32.0])
def test_pair_figure_axis_states_this_configs_fastest_frequency(factor):
    """The x title said "θ_0 = 1 rad/token" whatever the scaling: under linear ×s (PI) the fastest pair turns at 1/s
    rad/token. And a position past the context is said in the title."""
    from test_axis_labels import parse
    scaling = None if factor == 1.0 else {"rope_type": "linear", "factor": factor}
    cfg = RopeConfig(128, context_length=int(4096 * factor), scaling=scaling)
    fig = FA.pair_figure(cfg, position=100, other=5000)
    m = re.search(r"θ_0 = (\S+) rad/token", fig.layout.xaxis.title.text)
    assert m and parse(m.group(1))[0] == pytest.approx(1 / factor, rel=1e-4)
    assert ("past the context" in fig.layout.title.text) == (5000 >= cfg.context_length)
