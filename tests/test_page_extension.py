"""Context extension page and figures: every statement checked against the data it describes (issue 9 item 7,
issue 12's stale state and "compare with"). Each test names what the code before these fixes got wrong."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from page_tools import arr, charts_by_title as charts, open_page
from streamlit.testing.v1 import AppTest

from rope_viz.config import CONTEXT_MAX, RopeConfig
from rope_viz.figures import caption_of
from rope_viz.figures import extension as FE
from rope_viz.figures import offsets as FO
from rope_viz.frequencies import default_inv_freq, effective_inv_freq
from rope_viz.presets import get_preset
from rope_viz.scaling import extend

PAGE = "pages/5_Context_extension.py"


def _arr(v) -> np.ndarray:
    return arr(v)


def _open(params: dict | None = None) -> AppTest:
    return open_page(PAGE, params)


_charts = charts


def _dynamic_line(at: AppTest) -> str:
    return [m.value for m in at.markdown if "Base model" in m.value][0]


# -- dynamic NTK: s² − s + 1, not s (old caption: "does the same as NTK"; old Offsets variant: no scaling at all) ----
@pytest.mark.parametrize("s", [2.0, 4.0, 8.0])
def test_dynamic_ntk_slows_the_slowest_pair_by_s2_minus_s_plus_1(s):
    cfg = RopeConfig(128, base=1e4, context_length=4096)
    fig = FE.ext_ratio(cfg, factor=s)
    dyn = [t for t in fig.data if t.name == "dynamic NTK"][0]
    rule = s * s - s + 1
    assert 1 / dyn.y[-1] == pytest.approx(rule, rel=1e-12)              # b' = b·(s·(sL0)/L0 − (s − 1))^(r/(r−2))
    cap = caption_of("ext_ratio", fig)
    assert f"slows the slowest pair {rule:.3g}×" in cap and "same as NTK" not in cap
    # the Offsets page's dynamic variant is the same configuration, so its slowest pair turns s/(s² − s + 1) times
    # as much over s·L as pre-training did over L (the old variant measured dynamic NTK against s·L: no scaling)
    pre, _, dynamic = FO.comparison_configs(cfg, "dynamic", s)
    turns = [FO.O.pair_cycles(c[1])["rotations"][-1] for c in (pre, dynamic)]
    assert turns[1] / turns[0] == pytest.approx(s / rule, rel=1e-9)


# -- LongRoPE: the searched factors are not rescaled through s -------------------------------------------------------
def test_longrope_factors_do_not_change_with_s_and_the_page_says_so():
    phi = get_preset("phi-3-mini-128k").config
    longest = max(phi.scaling["long_factor"])
    for s in (4.0, 16.0, 32.0):
        fig = FE.ext_ratio(phi, factor=s)
        lr = [t for t in fig.data if t.name == "LongRoPE"][0]
        assert min(lr.y) == pytest.approx(1 / longest, rel=1e-12)
        np.testing.assert_allclose(lr.y, 1 / np.asarray(phi.scaling["long_factor"]), rtol=1e-12)
        assert "the same for every s" in caption_of("ext_ratio", fig)
    at = _open({"preset": "phi-3-mini-128k"})
    text = " ".join(i.value for i in at.info)
    assert "unchanged for every s" in text and "rescaled" not in text


# -- Llama 3.1 "auto": factor 8 for a 16× context, explained ---------------------------------------------------------
def test_llama31_auto_factor_is_explained():
    at = _open({"preset": "llama-3.1-8b"})
    assert "target 65,536" in _dynamic_line(at)
    text = " ".join(i.value for i in at.info)
    assert "65,536" in text and "131,072" in text and "16 × L₀" in text


# -- extreme settings: the score panels reach the target --------------------------------------------------------------
def test_score_panels_reach_the_target_at_extreme_settings():
    cfg = RopeConfig(256, base=1e9, context_length=1 << 21)
    fig = FE.ext_score(cfg, methods=["linear", "yarn"])
    ext = FE.extension_methods(cfg)
    assert ext.target_context == 8_388_608
    xmax = max(np.nanmax(np.asarray(t.x, dtype=np.float64)) for t in fig.data if t.x is not None and t.x[0] is not None)
    assert xmax >= ext.target_context                                   # old: stopped at 4,194,304
    assert any(s.x0 == ext.target_context for s in fig.layout.shapes)   # the target line is drawn


# -- any number of methods: one panel each (3 or 4 methods gave a bottom-row axis domain of −4e-17: ValueError) ------
@pytest.mark.parametrize("k", range(1, len(FE.METHODS) + 1))
def test_score_chart_has_one_panel_per_chosen_method(k):
    chosen = list(FE.METHODS)[:k]
    fig = FE.ext_score(RopeConfig(64, context_length=1024), factor=4.0, methods=chosen)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == [FE.METHOD_LABELS[m] for m in chosen]
    domains = [fig.layout[f"yaxis{'' if i == 1 else i}"].domain for i in range(1, k + 1)]
    assert all(0 <= lo < hi <= 1 for lo, hi in domains)


# -- the score chart's panels: chosen in its own section, two by default, in the URL ----------------------------------
def test_score_panels_are_chosen_in_the_score_section():
    def panel_titles(at):
        return [a["text"] for a in _charts(at)["Score vs distance beyond the training length"]["layout"]["annotations"]]
    at = _open({"etab": "Score vs distance"})
    assert panel_titles(at) == [FE.METHOD_LABELS[m] for m in FE.SCORE_PANELS] == ["PI (linear)", "YaRN"]
    at.multiselect(key="_rvp_score_ext").set_value(["ntk", "yarn", "longrope"]).run()
    assert panel_titles(at) == ["NTK-aware", "YaRN", "LongRoPE"]
    assert at.query_params["score_ext"] == "ntk,yarn,longrope"
    at.multiselect(key="_rvp_methods").set_value(["linear", "ntk"]).run()       # YaRN, LongRoPE no longer chosen
    assert panel_titles(at) == ["NTK-aware"]
    at.multiselect(key="_rvp_score_ext").set_value(["dynamic"]).run()
    assert "Score vs distance beyond the training length" not in _charts(at)
    assert any("Pick at least one" in i.value for i in at.info)


# -- tiny contexts: a figure, not an error ------------------------------------------------------------------------------
def test_tiny_context_draws_and_context_1_is_rejected_with_a_message():
    with pytest.raises(ValueError, match="context_length"):
        RopeConfig(64, context_length=1, scaling={"rope_type": "linear", "factor": 2.0})
    cfg = RopeConfig(64, context_length=2, scaling={"rope_type": "linear", "factor": 2.0})
    fig = FE.ext_score(cfg)                                             # old: ValueError (range below 16 tokens)
    assert max(max(t.x) for t in fig.data if t.x[0] is not None) >= FE.MIN_DISTANCE - 1


# -- long contexts: only the factors the library accepts --------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(st.integers(2, CONTEXT_MAX), st.sampled_from([None, 2.0, 8.0, 1024.0]))
def test_factor_choices_are_exactly_the_factors_extend_accepts(L0, own):
    """Every offered s extends the base model with every method; every FACTORS value left out is refused by
    ``scaling.extend`` (the page offered all, and at L₀ = 2^24 showed 'factor × original context must be ≤ …')."""
    sc = None if own is None else {"rope_type": "yarn", "factor": own}
    cfg = RopeConfig(64, context_length=L0, scaling=sc)
    offered = FE.factor_choices(cfg)
    for label in ["auto"] + [f"{f:g}" for f in FE.FACTORS]:
        s = FE.default_factor(cfg) if label == "auto" else float(label)
        try:
            [extend(cfg, m, s) for m in FE.METHODS]
            ok = True
        except ValueError as e:
            assert "factor × original context" in str(e)
            ok = False
        assert ok == (label in offered), (L0, own, label)


@pytest.mark.parametrize("query, factors, value", [
    ({"L": "16777216"}, [], None),
    ({"L": "8388608"}, ["1.5", "2"], "2"),
    ({"L": "8388609"}, ["1.5"], "1.5"),
    ({"s": "yarn", "f": "1024", "L": "262144"}, [f"{f:g}" for f in FE.FACTORS if f <= 64], "64"),
    ({"preset": "llama-3.1-8b"}, ["auto"] + [f"{f:g}" for f in FE.FACTORS], "auto"),
])
def test_page_offers_the_factors_that_fit_and_explains_when_none_do(query, factors, value):
    at = _open(query)
    assert not at.error, [e.value for e in at.error]
    sliders = [s for s in at.select_slider if s.label.startswith("Extension factor s")]
    if not factors:
        assert not sliders and not _charts(at).get("Frequency ratio per pair")
        assert any("leaves no room" in i.value and "16,777,216" in i.value for i in at.info)
        return
    if len(factors) == 1:       # one choice: shown as a value, not a one-option slider (a lone dot)
        assert not sliders
        assert [t.value for t in at.text_input if t.label.startswith("Extension factor s")] == [f"×{value}"]
    else:
        [slider] = sliders
        assert [str(o) for o in slider.options] == [("auto (from config)" if f == "auto" else f"×{f}")
                                                    for f in factors]
        assert str(slider.value) == value
    if value != "auto":
        target = int(round(float(value) * int(query["L"])))
        assert f"target {target:,}" in _dynamic_line(at)


# -- stale state: the same URL draws the same chart ---------------------------------------------------------------------
def test_switching_preset_gives_the_same_view_as_a_fresh_load():
    at = _open({"preset": "llama-3.1-8b"})
    at.sidebar.selectbox(key="_rvw_preset").set_value("phi-3-mini-128k").run()
    assert not at.exception
    fresh = _open({"preset": "phi-3-mini-128k"})
    assert _dynamic_line(at) == _dynamic_line(fresh)                    # old: kept seq_len = 65,536
    assert "131,072" in _dynamic_line(fresh)
    a, b = _charts(at), _charts(fresh)
    assert a.keys() == b.keys()
    for k in a:
        assert [t.get("y") for t in a[k]["data"]] == [t.get("y") for t in b[k]["data"]], k


# -- compare with published models, in the URL -----------------------------------------------------------------------
def test_compare_with_presets_is_in_the_url_and_drawn_exactly():
    at = _open({"cmp_ext": "llama-3.1-8b,qwen2.5-7b-yarn"})
    ratio = _charts(at)["Per-pair frequency ratio θ'_i/θ_i"]
    for name in ("llama-3.1-8b", "qwen2.5-7b-yarn"):
        c = get_preset(name).config
        tr = [t for t in ratio["data"] if t["name"].startswith(name)][0]
        np.testing.assert_allclose(_arr(tr["y"]), effective_inv_freq(c) / default_inv_freq(c.base, c.rotary_dim),
                                   rtol=1e-12)
    at.multiselect(key="_rvp_cmp_ext").set_value(["phi-3-mini-128k", "llama-2-7b"]).run()
    v = at.query_params["cmp_ext"]
    assert (v[-1] if isinstance(v, list) else v).strip("[]") == "phi-3-mini-128k,llama-2-7b"


@pytest.mark.parametrize("n_methods", [1, 3, len(FE.METHODS)])
def test_score_panels_share_one_y_title_with_units(n_methods):
    fig = FE.ext_score(RopeConfig(head_dim=128), factor=4.0, methods=list(FE.METHODS[:n_methods])).to_dict()
    titles = [v.get("title", {}).get("text") for k, v in fig["layout"].items() if k.startswith("yaxis")]
    titles = [t for t in titles if t]
    assert titles and set(titles) == {"score q·k (unitless)"}, titles


# -- attention factor: curves over s (the chart does not move with the page's s; the page states the value at s) -----
def test_attention_factor_curves_follow_the_papers_closed_forms():
    cfg = RopeConfig(128, base=1e4, context_length=4096)
    fig = FE.ext_attention_factor(cfg)
    by = {t.name: (np.asarray(t.x, float), np.asarray(t.y, float)) for t in fig.data}
    s, yarn = by["YaRN"]
    assert s[0] == pytest.approx(1.0) and s[-1] == pytest.approx(FE.ATTENTION_S_MAX)
    np.testing.assert_allclose(yarn, 0.1 * np.log(s) + 1.0, rtol=1e-12)                  # Peng et al. 2023
    s, lr = by["LongRoPE"]
    np.testing.assert_allclose(lr[s > 1], np.sqrt(1 + np.log(s[s > 1]) / np.log(4096)), rtol=1e-12)  # Ding et al.
    flat = [n for n in by if n.endswith(": 1 at every s (no rescaling)")]         # one line for the methods at 1
    assert len(flat) == 1 and np.all(by[flat[0]][1] == 1.0)
    assert flat[0].split(":")[0].split(", ") == ["PI (linear)", "NTK-aware", "dynamic NTK", "Llama 3.1"]
    cap = caption_of("ext_attention_factor", fig)
    assert f"YaRN ×{0.1 * np.log(128) + 1:.3f}" in cap and "Llama 3.1" in cap


def test_attention_factor_chart_is_the_same_for_every_s_and_the_page_states_the_value():
    at = _open({"s_ext": "4", "etab": "Attention factor"})
    specs = {k: v for k, v in _charts(at).items() if k.startswith("Attention factor")}
    line = [m.value for m in at.markdown if m.value.startswith("**Attention factor at s = 4")][0]
    assert f"YaRN ×{0.1 * np.log(4) + 1:.4f}" in line
    at2 = _open({"s_ext": "16", "etab": "Attention factor"})
    specs2 = {k: v for k, v in _charts(at2).items() if k.startswith("Attention factor")}
    assert specs and specs == specs2                               # same figure: not redrawn when s moves
    line2 = [m.value for m in at2.markdown if m.value.startswith("**Attention factor at s = 16")][0]
    assert f"YaRN ×{0.1 * np.log(16) + 1:.4f}" in line2


def test_attention_factor_follows_a_large_config_factor_and_rejects_bad_input():
    cfg = RopeConfig(64, base=1e4, context_length=2_097_152,
                     scaling={"rope_type": "yarn", "factor": 512.0, "original_max_position_embeddings": 4096})
    fig = FE.ext_attention_factor(cfg)
    assert max(fig.data[0].x) == pytest.approx(512.0)               # the config's own s = 2M / 4K
    for bad in ({"s_max": 1.0}, {"s_max": float("nan")}, {"n_points": 1}, {"methods": ["nope"]}):
        with pytest.raises(ValueError):
            FE.ext_attention_factor(cfg, **bad)


@pytest.mark.parametrize("methods, want", [
    ("linear", "none — the chosen method leaves attention unscaled (1)."),
    ("linear,ntk", "none — the chosen methods leave attention unscaled (1)."),
    ("linear,yarn", " — the other chosen method leaves attention unscaled (1)."),
    ("yarn", "×")])
def test_attention_factor_sentence_names_only_methods_that_exist(methods, want):
    """PI alone read "none — the other chosen methods leave attention unscaled": there were no others."""
    at = open_page(PAGE, {"etab": "Attention factor", "methods": methods})
    text = next(m.value for m in at.markdown if m.value.startswith("**Attention factor at"))
    assert want in text and ("other" not in text or "," in methods), text
