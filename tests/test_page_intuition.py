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
