"""Intuition (landing) page (issues 9 and 12): readable subplot titles at extreme settings, plain-text differences
instead of "delta" arrows, the frequencies in effect over the context."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from page_tools import arr, captions, chart, longrope_attention_factor, longrope_theta, number, open_page

from rope_viz.config import RopeConfig
from rope_viz.figures.intuition import intuition_rotation
from rope_viz.presets import get_preset
from test_axis_labels import parse

TITLE_LINE_MAX = 24          # characters per title line: six panels side by side at the app's width


def _title_lines(fig) -> list[str]:
    return [line for a in fig.layout.annotations for line in re.sub("<.*?>", "\n", a.text).split("\n") if line]


def test_subplot_titles_fit_at_d256_base_1e9():
    """"λ=198,69pair 127…": one-line titles used to run into each other at d = 256, base 1e9."""
    cfg = RopeConfig(256, base=1e9, context_length=2_097_152)
    pairs = [0, 25, 50, 75, 100, 127]
    fig = intuition_rotation(cfg, pairs=pairs)
    lines = _title_lines(fig)
    assert lines and max(len(s) for s in lines) <= TITLE_LINE_MAX, lines
    for i, a in zip(pairs, fig.layout.annotations):
        theta, wl = 1e9 ** (-2 * i / 256), 2 * np.pi * 1e9 ** (2 * i / 256)
        m = re.search(r"pair (\d+)</b><br>θ = (\S+) rad/token<br>λ = (\S+) tokens", a.text)
        assert m and int(m.group(1)) == i, a.text
        assert "e+" not in a.text and "e-" not in a.text       # "λ = 5.3e+09", "θ = 3.07e-07" read as code
        assert parse(m.group(2))[0] == pytest.approx(theta, rel=5e-3)
        assert parse(m.group(3))[0] == pytest.approx(wl, rel=5e-2)


def test_metrics_show_values_and_the_differences_as_text():
    """The metric used to show "↓ −8.4e−14", an arrow suggesting a change for what is float64 rounding."""
    at = open_page(None)
    assert len(at.metric) == 3 and all(not m.proto.delta for m in at.metric)
    vals = [number(m.value) for m in at.metric]
    text = captions(at)
    m = re.search(r"both shifted (\S+) \(float64 rounding only\), query only shifted (\S+)\.", text)
    assert m, text
    assert abs(number(m.group(1))) < 1e-9
    assert number(m.group(2)) == pytest.approx(vals[2] - vals[0], rel=1e-3, abs=1e-5)
    assert "-" not in text and "e-" not in text           # true minus signs, no Python exponents


def test_rotation_uses_the_frequencies_in_effect_over_the_context():
    """Phi-3-mini-128k over 131,072 tokens: the pairs turn at the long-factor θ, scaled by the attention factor."""
    preset = get_preset("phi-3-mini-128k")
    hf = preset.hf_config
    theta = longrope_theta(hf, preset.config.context_length)
    af = longrope_attention_factor(hf)
    at = open_page(None, {"preset": "phi-3-mini-128k"})
    rot = chart(at, "Pairs rotating")
    pairs = [int(re.search(r"pair (\d+)", a["text"]).group(1)) for a in rot["layout"]["annotations"]]
    for f in (1, 7, 47):
        for j, i in enumerate(pairs):
            tr = rot["frames"][f]["data"][j]
            assert abs(arr(tr["x"])[1] - af * math.cos(f * theta[i])) < 1e-12
            assert abs(arr(tr["y"])[1] - af * math.sin(f * theta[i])) < 1e-12


def test_circle_is_named_for_its_radius():
    """The tips run on a circle of radius af (transformers scales cos and sin by it): "unit circle" only when af = 1."""
    preset = get_preset("phi-3-mini-128k")
    af = longrope_attention_factor(preset.hf_config)
    fig = intuition_rotation(preset.config)
    circle = fig.data[0]
    assert circle.name == f"circle of radius {af:.4g} (attention factor)"
    assert abs(max(circle.x) - af) < 1e-12
    assert intuition_rotation(RopeConfig(64)).data[0].name == "unit circle"


@pytest.mark.parametrize("L, step", [(16, 1), (16, 5), (2, 1), (4096, 1000), (131_072, 10_000)])
def test_animation_frames_stay_inside_the_context(L, step):
    """At L = 16 the 48 frames ran to position 47, three times past the context: every frame's position is now one
    of the context's positions 0 … L − 1 (as many frames as fit, at most 48), and the title says which."""
    cfg = RopeConfig(64, context_length=L)
    fig = intuition_rotation(cfg, pairs=[0], step=step)
    pos = [int(f.name) for f in fig.frames]
    want = list(range(0, min(48 * step, L), step))          # 0, step, … while < L, at most 48 frames
    assert pos == want and pos[-1] <= L - 1
    assert [int(s.label) for s in fig.layout.sliders[0].steps] == want
    assert f"m = 0 … {want[-1]:,} of the {L:,}-token context" in fig.layout.title.text
    th = 10000.0 ** 0
    assert abs(fig.frames[-1].data[0].x[1] - math.cos(want[-1] * th)) < 1e-12


def test_a_step_past_the_context_is_refused():
    with pytest.raises(ValueError, match=r"step must be in \[1, 15\] .*context length 16"):
        intuition_rotation(RopeConfig(64, context_length=16), step=16)


def test_page_offers_only_steps_inside_the_context_and_says_when_a_shift_leaves_it():
    """L = 16: the step choices stop at 10 (50 … 10,000 have no second frame inside 16 tokens); the shift slider may
    move both positions past the context — the score is still exact — and the caption then says so, with the
    position reached."""
    at = open_page(None, {"L": "16"})
    steps = at.select_slider(key="_rvp_step")
    assert list(map(int, steps.options)) == [1, 2, 5, 10]
    rot = chart(at, "Pairs rotating")
    assert max(int(f["name"]) for f in rot["frames"]) == 15
    m, n, t = (int(at.slider(key=f"_rvp_{k}").value) for k in ("qpos", "kpos", "shift"))
    assert max(m, n) + t >= 16                                          # the default shift min(1000, L) = 16
    assert f"reach {max(m, n) + t:,}, past this 16-token context" in captions(at)
    at.slider(key="_rvp_shift").set_value(0).run()
    assert "past this" not in captions(at)
    two = open_page(None, {"L": "2"})                                  # one step only: a disabled box, no slider
    assert not [s for s in two.select_slider if s.key == "_rvp_step"]
    assert max(int(f["name"]) for f in chart(two, "Pairs rotating")["frames"]) == 1
