"""Encodings compared (issues 9 and 12): the "same curve" claim only where it holds, legend entries for the ½ line and
distinguishable ALiBi heads, the d_model box showing the value in use, the table shown in full, the frequencies in
effect over the context. References from the definitions (Vaswani et al., transformers' LongRoPE rule)."""

from __future__ import annotations

import numpy as np
from page_tools import arr, chart, longrope_attention_factor, longrope_theta, open_page, tables

from rope_viz.config import RopeConfig
from rope_viz.figures import encodings as FE
from rope_viz.figures import get_figure
from rope_viz.presets import get_preset

PAGE = "pages/6_Encodings_compared.py"


def _rope_ones(theta, d: int, r: int, af: float, dist) -> np.ndarray:
    """q = k = all-ones under RoPE, normalised at Δ = 0: (2af²·Σ cos(Δθ_i) + d − r) / (2af²·r/2 + d − r)."""
    s = np.cos(np.asarray(dist, float)[:, None] * np.asarray(theta)[None, :]).sum(axis=1)
    return (2 * af * af * s + d - r) / (af * af * r + d - r)


def _ape(d_model: int, dist) -> np.ndarray:
    """PE(m)·PE(m + Δ) / PE(m)·PE(m) = mean_i cos(Δ·1e4^(−2i/d_model)) (Vaswani et al.)."""
    w = 1e4 ** (-np.arange(0, d_model, 2) / d_model)
    return np.cos(np.asarray(dist, float)[:, None] * w[None, :]).mean(axis=1)


def test_same_curve_only_claimed_when_it_holds():
    """"with base 1e4 and d_model = d they are the same curve" is false under partial rotary (GPT-NeoX-20B)."""
    neox = get_preset("gpt-neox-20b").config
    fig = FE.signal_figure(neox, max_distance=4096)
    d = np.arange(4097)
    theta = 1e4 ** (-np.arange(0, neox.rotary_dim, 2) / neox.rotary_dim)
    gap = np.max(np.abs(_rope_ones(theta, neox.head_dim, neox.rotary_dim, 1.0, d) - _ape(neox.head_dim, d)))
    cap = get_figure("encodings_signal").caption_for(fig)
    assert "same curve" not in cap and f"differ by up to {gap:.3g}" in cap
    assert "here they are the same curve" in get_figure("encodings_signal").caption_for(
        FE.signal_figure(RopeConfig(64, context_length=2048)))


def test_half_line_in_the_legend_and_alibi_heads_coloured():
    fig = FE.signal_figure(RopeConfig(64, context_length=2048))
    half = [t for t in fig.data if (t.name or "").startswith("½")]
    assert len(half) == 1 and half[0].showlegend is not False and set(half[0].y) == {0.5}
    alibi = [t for t in fig.data if t.legendgroup == "alibi"]
    assert len({t.line.color for t in alibi}) == 8 and sum(t.showlegend is not False for t in alibi) == 1
    assert "m = 1/2 (dark) … 1/256 (light)" in next(t.name for t in alibi if t.showlegend is not False)


def test_signal_chart_heads_are_a_subset_or_superset_of_every_head_count():
    """The signal chart's ALiBi shows Press et al.'s 8 slopes 1/2 … 1/256 whatever the head count: its legend says the
    chart below shows other counts, and the docstring that every count ≤ 8 uses some of these slopes and every count
    ≥ 8 all of them. Slopes from the paper's definition (2^(−8h/n), interleaved for non-powers of two)."""
    def press(n):
        def pow2(k):
            return [2.0 ** (-8.0 * h / k) for h in range(1, k + 1)]
        c = 1 << (n.bit_length() - 1)
        return pow2(c) + (pow2(2 * c)[0::2][: n - c] if c < n else [])
    eight = set(press(8))
    assert eight == {2.0 ** -k for k in range(1, 9)}
    for n in range(1, 65):
        s = set(press(n))
        assert (s <= eight) if n <= 8 else (eight <= s), n


def test_head_count_changes_only_the_alibi_section():
    """The head-count slider sits in the ALiBi section: moving it changes the ALiBi chart and the table's ALiBi column,
    not the signal chart (which shows the 8 reference slopes)."""
    at = open_page(PAGE, {})
    signal = chart(at, "Positional signal")
    assert "(8 heads)" in chart(at, "ALiBi")["layout"]["title"]["text"]
    at.select_slider(key="_rvp_eh").set_value(12).run()
    assert not at.exception
    assert chart(at, "Positional signal") == signal
    assert "(12 heads)" in chart(at, "ALiBi")["layout"]["title"]["text"]
    assert list(tables(at)[0].columns)[-1] == "ALiBi (12 heads)"


def _d_model_box(at):
    return [n for n in at.main.number_input if n.label.startswith("Sinusoidal d_model")][0]


def test_greyed_d_model_box_follows_the_head_dim():
    """The greyed-out d_model box shows the head dim in use after the sidebar's head dim changes (a keyed widget
    kept its first value: 128 shown while 64 was used)."""
    at = open_page(PAGE)
    for d in (64, 256):
        [n for n in at.sidebar.number_input if n.label.startswith("Head dim")][0].set_value(d).run()
        assert not at.exception
        box = _d_model_box(at)
        assert box.proto.disabled and box.value == d


def test_page_d_model_table_and_long_factors():
    """Phi-3-mini-128k: the RoPE curve uses the long factors in effect at 131,072 tokens; the greyed-out d_model
    box shows the head dim actually used (it showed 512); the table is a static table (no cut-off column)."""
    preset = get_preset("phi-3-mini-128k")
    cfg, hf = preset.config, preset.hf_config
    at = open_page(PAGE, {"preset": "phi-3-mini-128k"})
    box = _d_model_box(at)
    assert box.value == cfg.head_dim and box.proto.disabled
    rope = [t for t in chart(at, "Positional signal")["data"] if t.get("name", "").startswith("RoPE")][0]
    x, y = arr(rope["x"]), arr(rope["y"])
    ref = _rope_ones(longrope_theta(hf, cfg.context_length), cfg.head_dim, cfg.rotary_dim,
                     longrope_attention_factor(hf), x[:50])
    np.testing.assert_allclose(y[:50], ref, atol=1e-12)
    assert not at.dataframe and len(at.table) == 1
    table = tables(at)[0]
    assert list(table.columns)[-1].startswith("ALiBi") and len(table.columns) == 3


def test_alibi_caption_follows_the_slopes():
    """"the slopes form a geometric sequence" is false for 12 heads (Press et al. interleave two sequences)."""
    for heads, geometric in ((8, True), (12, False), (16, True)):
        fig = FE.alibi_figure(RopeConfig(64, context_length=1024), n_heads=heads)
        slopes = sorted(-float(y[~np.isnan(y)][-1]) / 1024 for y in (np.asarray(t.y, float) for t in fig.data)
                        for y in np.split(y, np.flatnonzero(np.isnan(y))) if np.any(~np.isnan(y)))
        ratios = np.array(slopes[:-1]) / np.array(slopes[1:])
        assert np.allclose(ratios, ratios[0]) == geometric
        cap = get_figure("encodings_alibi").caption_for(fig)
        assert ("one geometric sequence" in cap) == geometric
