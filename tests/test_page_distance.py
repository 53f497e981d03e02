"""Distance page and figure (issues 9 and 12): the frequencies in effect over the context, captions that state what
the data shows, the exact random-q/k band, the URL holding every chart control, a readable legend with overlays.
References are written from the definitions (tests/page_tools.py, tests/naive.py), not from rope_viz."""

from __future__ import annotations

import math

import numpy as np
import pytest
from naive import naive_similarity_sum, naive_theta
from page_tools import captions, charts, first_negative, longrope_attention_factor, longrope_theta, open_page, query

from rope_viz.config import RopeConfig
from rope_viz.figures import distance as FD
from rope_viz.figures import get_figure
from rope_viz.presets import get_preset

PAGE = "pages/2_Distance.py"


def test_longrope_is_evaluated_with_its_long_factors_over_its_context():
    """Phi-3-mini-128k over 131,072 tokens: transformers uses the long factors (seq_len > 4,096). The B_m marker,
    the table and the caption must come from them, not from the short factors (2,5xx before the fix)."""
    preset = get_preset("phi-3-mini-128k")
    hf, cfg = preset.hf_config, preset.config
    L = cfg.context_length
    want = first_negative(longrope_theta(hf, L), 0.0, L)
    short = first_negative(longrope_theta(hf, 1), 0.0, L)
    assert want is not None and short is not None and want > 10 * short          # the two readings differ
    fig = FD.distance_figure(cfg)
    marker = [t for t in fig.data if (t.name or "").startswith("B_m first < 0")][0]
    assert list(marker.x) == [want]
    assert f"B_m first turns negative at Δ = {want:,}" in get_figure("distance_curves").caption_for(fig)
    assert FD.summary_table(cfg)[0]["first_negative"] == want
    # the random band's std uses the attention factor in effect: √(r·af⁴ + d − r)
    af = longrope_attention_factor(hf)
    std = math.sqrt(cfg.rotary_dim * af ** 4 + cfg.head_dim - cfg.rotary_dim)
    up = [t for t in FD.distance_figure(cfg, quantities=("random",)).data if t.name.endswith("(+1 std)")][0]
    np.testing.assert_allclose(up.y, std, rtol=1e-12)


def test_caption_says_what_the_all_ones_curve_does():
    """With attention factor 1 the all-ones score is exactly 2·B_m: both first turn negative at 1,707 (d = 128,
    base 1e4). The caption used to say the all-ones score "decays" while B_m "turns negative"."""
    cfg = RopeConfig(128, context_length=4096)
    fig = FD.distance_figure(cfg, log_x=False, n_bins=5000)
    th = naive_theta(1e4, 128)
    neg = next(m for m in range(4097) if naive_similarity_sum(th, m) < 0)
    assert neg == 1707
    ones = [t for t in fig.data if t.name == FD.QUANTITY_LABELS["ones"]][0]
    sim = [t for t in fig.data if t.name == FD.QUANTITY_LABELS["similarity"]][0]
    np.testing.assert_allclose(ones.y, 2 * np.asarray(sim.y), rtol=1e-9, atol=1e-9)
    cap = get_figure("distance_curves").caption_for(fig)
    assert "exactly 2·B_m" in cap and cap.count(f"first turns negative at Δ = {neg:,}") == 2
    assert "decay" not in cap.split("random")[0]                         # only the random band is said not to decay
    # attention factor ≠ 1 (YaRN ×4, af = 0.1·ln 4 + 1): all-ones = 2af²·B_m, stated with its own first negative
    yarn = RopeConfig(128, context_length=16384, scaling={"rope_type": "yarn", "factor": 4.0,
                                                           "original_max_position_embeddings": 4096})
    af = 0.1 * math.log(4.0) + 1
    cap = get_figure("distance_curves").caption_for(FD.distance_figure(yarn))
    assert f"{2 * af * af:.4g}·B_m" in cap and "exactly 2·B_m" not in cap


def test_random_band_with_partial_rotary_is_the_closed_form():
    cfg = RopeConfig(64, rotary_fraction=0.25, context_length=2048)
    fig = FD.distance_figure(cfg, quantities=("random",), log_x=False)
    mean = [t for t in fig.data if t.name == FD.QUANTITY_LABELS["random"]][0]
    assert np.all(np.asarray(mean.y) == 0) and list(mean.x) == [0, 2048]
    up = [t for t in fig.data if t.name.endswith("(+1 std)")][0]
    np.testing.assert_allclose(up.y, math.sqrt(64), rtol=1e-12)          # √(r + d − r) with af = 1
    assert "std 8 at every Δ" in get_figure("distance_curves").caption_for(fig)


def test_curves_and_overlays_live_in_the_url():
    """A copied address reproduces the chart: curves and overlays come from the URL and are written back to it."""
    at = open_page(PAGE, {"dq": "similarity,ones", "dcmp": "base 1e6,llama-3.1-8b"})
    assert at.multiselect(key="_rvp_dq").value == ["similarity", "ones"]
    assert at.multiselect(key="_rvp_dcmp").value == ["base 1e6", "llama-3.1-8b"]
    (spec,) = charts(at)
    names = [t.get("name", "") for t in spec["data"]]
    assert not any(n.startswith(FD.QUANTITY_LABELS["bound"]) for n in names)
    for label in ("d=128 base=10000", "d=128 base=1e6", "llama-3.1-8b"):
        assert any(label in n for n in names), (label, names)
    at.multiselect(key="_rvp_dcmp").set_value(["phi-3-mini-128k"]).run()
    at.multiselect(key="_rvp_dq").set_value(["bound", "random"]).run()
    assert "RoFormer's bound goes from" in captions(at)
    again = open_page(PAGE, query(at))                                   # the copied address, a fresh session
    assert again.multiselect(key="_rvp_dcmp").value == ["phi-3-mini-128k"]
    assert charts(again) == charts(at)


def test_three_overlays_give_one_legend_entry_per_config_and_per_curve():
    fig = FD.distance_figure(RopeConfig(128), compare=("base 1e6", "llama-3.1-8b", "phi-3-mini-128k"))
    shown = [t.name for t in fig.data if t.showlegend is not False]
    assert len(shown) == 4 + len(FD.QUANTITIES) + 1                       # configs, dash key, ✕ marker (was 17)
    for name in (RopeConfig(128).label(), RopeConfig(128, base=1e6).label(), "llama-3.1-8b", "phi-3-mini-128k"):
        assert shown.count(name) == 1


def test_log_axes_label_every_tick_with_its_number():
    """Plotly labels the 2…9 ticks of a log decade with bare digits ("1, 2, 5, 10, 2, 5") unless told otherwise:
    every log axis gets explicit ticks, each labelled with its number (tests/test_axis_labels.py checks them all)."""
    from test_axis_labels import check_axis
    fig = FD.distance_figure(RopeConfig(128))
    check_axis(fig.layout.xaxis)
    from rope_viz.figures.frequencies import freq_wavelengths
    fw = freq_wavelengths(RopeConfig(128))
    assert max(check_axis(fw.layout.yaxis)) <= 1 < min(check_axis(fw.layout.yaxis2))


@pytest.mark.parametrize("compare", [("base 0.5",), ("base x",), ("no-such-model",)])
def test_bad_overlay_entries_raise_value_errors(compare):
    with pytest.raises(ValueError):
        FD.distance_figure(RopeConfig(128), compare=compare)


def test_greyed_largest_distance_shows_the_distance_drawn():
    """With "Up to the context length" on, the greyed-out slider showed 65,536 (its hidden value) while the chart went
    to the context length; it shows the context length, and follows a context change."""
    at = open_page(PAGE, {"preset": "llama-3.1-8b"})
    (shown,) = [s for s in at.select_slider if s.label.startswith("Largest distance")]
    want = get_preset("llama-3.1-8b").config.context_length
    assert shown.disabled and shown.value == want
    assert charts(at)[0]["layout"]["title"]["text"].endswith(f"(Δ ≤ {want:,})")
    at.sidebar.select_slider(key="_rvw_context_length").set_value(8192).run()
    (shown,) = [s for s in at.select_slider if s.label.startswith("Largest distance")]
    assert shown.disabled and shown.value == 8192
    at.toggle(key="_rvp_dctx").set_value(False).run()                  # the hidden value is used again
    (free,) = [s for s in at.select_slider if s.label.startswith("Largest distance")]
    assert not free.disabled and free.value == 65536
    assert charts(at)[0]["layout"]["title"]["text"].endswith("(Δ ≤ 65,536)")


def test_random_band_legend_shows_a_filled_band():
    """The random-q/k band is a filled area; its legend entry was the dotted mean line alone (a band nobody could
    match to its entry). One legend entry, filled in the band's colour."""
    fig = FD.distance_figure(RopeConfig(128), quantities=("bound", "random"))
    band = [t for t in fig.data if t.fill == "tonexty" and t.name.startswith(FD.QUANTITY_LABELS["random"])]
    entries = [t for t in fig.data if t.showlegend is not False and t.name == FD.QUANTITY_LABELS["random"]]
    assert len(band) == 1 and len(entries) == 1
    assert entries[0].fill not in (None, "none") and entries[0].fillcolor == band[0].fillcolor


def test_controls_have_room_for_their_labels_and_chips():
    """At a 1400-px window the toggles sat in fifth-width columns ("Up to the context…", "Normalise to 1 at …" were
    cut) and the Curves chips in a 3/5 column (the fourth chip was cut): the toggles get half the width each row,
    the curves and overlays the full width."""
    at = open_page(PAGE)
    with_toggles = [c for c in at.main.columns if len(c.toggle) and c.toggle[0].label != "Docs style"]
    assert {t.label for c in with_toggles for t in c.toggle} >= {"Up to the context length", "Normalise to 1 at Δ = 0"}
    assert all(c.weight >= 0.5 for c in with_toggles)
    assert not any(len(c.multiselect) for c in at.main.columns)            # Curves and Overlay: full width
    assert {m.label for m in at.main.multiselect} >= {"Curves", "Overlay (up to 3)"}
