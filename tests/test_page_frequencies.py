"""Frequencies page and figures (issues 9 and 12): the frequencies in effect over the context, captions computed from
the config, the critical dimension stated truthfully under scaling, an angle map that cannot alias, "compare with" in
the URL. References from the definitions and transformers' formulas (tests/page_tools.py), not from rope_viz."""

from __future__ import annotations

import math

import numpy as np
import pytest
from page_tools import arr, chart, charts, captions, llama3_theta, longrope_theta, open_page, query

from rope_viz.config import RopeConfig
from rope_viz.figures import frequencies as FF
from rope_viz.figures import get_figure
from rope_viz.presets import get_preset

PAGE = "pages/1_Frequencies.py"


def _partial(theta: np.ndarray, L: int) -> np.ndarray:
    return L * theta / (2 * math.pi) < 1


def test_longrope_pairs_counted_with_the_long_factors():
    """Phi-3-mini-128k over 131,072 tokens: 1 partial-cycle pair with the short factors, many more with the long
    factors transformers uses at that length."""
    preset = get_preset("phi-3-mini-128k")
    L = preset.config.context_length
    long_p, short_p = _partial(longrope_theta(preset.hf_config, L), L), _partial(longrope_theta(preset.hf_config, 1), L)
    assert long_p.sum() > 5 * short_p.sum()
    at = open_page(PAGE, {"preset": "phi-3-mini-128k"})
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["partial-cycle pairs (λ > L)"] == str(int(long_p.sum()))
    wl = chart(at, "Per-pair frequency")
    orange = [t for t in wl["data"] if t.get("name", "").startswith("partial") and t.get("xaxis", "x") == "x"][0]
    assert arr(orange["x"]).tolist() == np.flatnonzero(long_p).tolist()
    np.testing.assert_allclose(arr(orange["y"]), longrope_theta(preset.hf_config, L)[long_p], rtol=1e-12)


def test_captions_state_this_configs_numbers():
    """The intro used to say "base 10,000 and r = 128 … 6 to 54,000 tokens" whatever the config."""
    cfg = RopeConfig(64, base=5e5, context_length=8192)
    theta = 5e5 ** (-np.arange(32) / 32)
    lam = 2 * math.pi / theta
    cap = get_figure("freq_wavelengths").caption_for(FF.freq_wavelengths(cfg))
    assert "base 500000 and r = 64" in cap          # as config files and every title write it (format_base)
    assert f"from {lam[0]:.3g} to {lam[-1]:,.0f} tokens" in cap
    p = _partial(theta, 8192)
    assert f"{p.sum()} of 32 pairs (from pair {np.flatnonzero(p)[0]})" in cap
    at = open_page(PAGE, {"d": "64", "b": "500000", "L": "8192"})
    assert f"from {lam[0]:.3g} to {lam[-1]:,.0f} tokens" in captions(at)
    assert "54,000" not in " ".join(m.value for m in at.markdown)


def test_critical_dimension_is_stated_truthfully_under_scaling():
    """Llama 3.1: partial cycles start at pair 39 with the scaled θ over 131,072 tokens, while Liu et al.'s critical
    dimension (unscaled base 5e5 over 8,192 tokens) puts the boundary at pair 35: the caption must not say that the
    critical dimension marks where partial cycles start."""
    cfg = get_preset("llama-3.1-8b").config
    sc = cfg.scaling
    theta = llama3_theta(5e5, 128, sc["factor"], sc["low_freq_factor"], sc["high_freq_factor"],
                         sc["original_max_position_embeddings"])
    first = int(np.flatnonzero(_partial(theta, cfg.context_length))[0])
    d_extra = 2 * math.ceil(64 * math.log(8192 / (2 * math.pi)) / math.log(5e5))     # Liu et al. Eq. 13
    assert (first, d_extra // 2) == (39, 35)
    cap = get_figure("freq_rotations").caption_for(FF.freq_rotations(cfg))
    assert f"from pair {first})" in cap and f"at pair {d_extra // 2}" in cap and "a different boundary" in cap
    plain = get_figure("freq_rotations").caption_for(FF.freq_rotations(RopeConfig(128)))
    assert "from pair 46)" in plain and "at pair 46 — the same boundary" in plain


def test_angle_map_draws_no_aliased_column():
    """Rows every ≈329 tokens over 131,072: pairs whose angle turns more than half a turn between rows are not drawn
    (pairs 4, 14 and 16 of Llama 3.1 used to look like slow pairs); what is drawn is exact; the first positions are
    drawn token by token."""
    cfg = get_preset("llama-3.1-8b").config
    sc = cfg.scaling
    theta = llama3_theta(5e5, 128, sc["factor"], sc["low_freq_factor"], sc["high_freq_factor"],
                         sc["original_max_position_embeddings"])
    fig = FF.freq_angle_map(cfg)
    fine, coarse = [t for t in fig.data if t.type == "heatmap"]
    y = np.asarray(fine.y, float)
    assert y.tolist() == list(range(len(y)))
    np.testing.assert_allclose(np.asarray(fine.z, float), np.mod(y[:, None] * theta, 2 * math.pi), atol=2e-6)
    y = np.asarray(coarse.y, float)
    z = np.asarray(coarse.z, float)
    gap = np.max(np.diff(y))
    drawn = ~np.all(np.isnan(z), axis=0)
    assert np.array_equal(drawn, theta * gap < math.pi)
    assert not drawn[[4, 14, 16]].any()
    np.testing.assert_allclose(z[:, drawn], np.mod(y[:, None] * theta[drawn], 2 * math.pi), atol=2e-6)
    assert f"pairs 0 … {int((~drawn).sum()) - 1} (grey)" in get_figure("freq_angle_map").caption_for(fig)


def test_compare_with_presets_and_bases_in_the_url():
    at = open_page(PAGE, {"fcmp": "base 1e6,llama-2-7b"})
    assert at.multiselect(key="_rvp_fcmp").value == ["base 1e6", "llama-2-7b"]
    wl = chart(at, "Per-pair frequency")
    other = [t for t in wl["data"] if t.get("name", "").startswith("d=128 base=1e6")]
    assert len(other) == 2                                              # θ and λ panels
    np.testing.assert_allclose(arr(other[0]["y"]), 1e6 ** (-np.arange(64) / 64), rtol=1e-12)
    at.multiselect(key="_rvp_fcmp").set_value(["phi-3-mini-128k"]).run()
    again = open_page(PAGE, query(at))
    assert charts(again) == charts(at)


def test_polar_path_cannot_alias():
    """Pair 0 (λ ≈ 6.3 tokens) at m = 2,000,000: 600 positions spread over 0 … m sit ≈3,334 tokens apart and their
    angles alias; the path shows the last 600 positions token by token instead, with their exact angles."""
    cfg = RopeConfig(128, context_length=2_097_152)
    fig = FF.freq_polar(cfg, pair=0, position=2_000_000)
    path = np.asarray(fig.data[0].customdata, float)
    assert np.array_equal(path, np.arange(2_000_000 - 599, 2_000_001))
    np.testing.assert_allclose(fig.data[0].theta, np.degrees(np.mod(path * 1.0, 2 * math.pi)), atol=1e-6)
    slow = FF.freq_polar(cfg, pair=60, position=2_000_000)                  # slow pair: spread over 0 … m
    assert np.asarray(slow.data[0].customdata)[0] == 0 and len(slow.data[0].customdata) == 600



def test_wavelength_caption_writes_no_plus_exponents():
    """At base 1e9 the caption read "With base 1e+09 … to 5.34e+09 tokens": the base is written as configs write it
    (1e9), the wavelength as a number (5.34×10⁹, as Intuition's panel titles); the largest wavelength stated is
    2π/θ_last of the naive formula."""
    cfg = RopeConfig(256, base=1e9, context_length=2097152)
    cap = get_figure("freq_wavelengths").caption_for(FF.freq_wavelengths(cfg))
    lam = 2 * math.pi * 1e9 ** (254 / 256)
    mantissa, exponent = f"{lam:.3g}".split("e")
    sup = str(int(exponent)).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    assert "+" not in cap and "With base 1e9 " in cap and f"to {mantissa}×10{sup} tokens" in cap, cap


def test_polar_position_is_one_of_the_contexts_positions():
    """The position slider ran to L (one past the last position): it stops at L − 1, the default follows it, and
    the figure refuses L itself with the range it accepts."""
    at = open_page(PAGE, {"L": "16", "ftab": "One pair"})
    s = at.slider(key="_rvp_pos")
    assert (s.min, s.max, s.value) == (0, 15, 15)
    assert FF.freq_polar(RopeConfig(64, context_length=16)).data[1].name == "pair 0 at m = 15"
    with pytest.raises(ValueError, match=r"position must be in \[0, 15\]"):
        FF.freq_polar(RopeConfig(64, context_length=16), position=16)


@pytest.mark.parametrize("method", ["linear", "ntk", "yarn", None])
def test_rotations_caption_calls_a_length_the_training_length_only_when_the_config_names_one(method):
    """Linear / NTK ×32 name no pre-extension length (transformers' keys): the caption called the extended 131,072
    tokens "the training length". It says so only for plain RoPE or a scaling with original_max_position_embeddings,
    and d_extra is Liu et al.'s count over the length the caption names (recomputed here)."""
    from rope_viz.figures import caption_of
    from rope_viz.scaling import extend
    cfg = RopeConfig(128, context_length=4096)
    if method:
        cfg = extend(cfg, method, 32)
    text = caption_of("freq_rotations", get_figure("freq_rotations").fn(cfg))
    named = method in (None, "yarn")
    length = 4096 if named else 131_072
    th = 1e4 ** (-np.arange(64) / 64)
    d_extra = 2 * int(np.sum(2 * np.pi / th <= length))        # Liu et al.: pairs with a full period within T
    assert f"d_extra = {d_extra} " in text, text
    assert (f"{length:,}-token training length" in text) == named, text
    assert ("names no training length" in text) == (not named), text
