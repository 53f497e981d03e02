"""Offset dimensions page: one source of scaled variants, "compare with" published models in the URL, readable
controls (issues 8 and 12)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from page_tools import arr, open_page, tables
from streamlit.testing.v1 import AppTest

from rope_viz import inv_freq
from rope_viz.analysis import offsets as O
from rope_viz.config import RopeConfig
from rope_viz.figures import extension as FE
from rope_viz.figures import offsets as FO
from rope_viz.presets import get_preset
from rope_viz.scaling import extend

PAGE = "pages/4_Offset_dimensions.py"


def _arr(v) -> np.ndarray:
    return arr(v)


def _open(params: dict | None = None) -> AppTest:
    return open_page(PAGE, params)


@pytest.mark.parametrize("method", FO.METHODS)
def test_offsets_and_extension_compare_the_same_variant(method):
    """One builder (scaling.extend): the Offsets page's variant is the Context extension page's configuration (they
    disagreed for dynamic NTK before)."""
    cfg = RopeConfig(128, base=5e5, context_length=8192)
    variant = FO.comparison_configs(cfg, method, 4.0)[2][1]
    ext = FE.extension_methods(cfg, 4.0)
    assert variant == extend(cfg, method, 4.0)
    if method != "longrope":                                            # the page may substitute searched lists
        assert variant == ext.methods[method]
    np.testing.assert_allclose(O.pair_cycles(variant)["rotations"] / variant.context_length,
                               ext.theta(method) / (2 * np.pi), rtol=1e-12)


def test_compare_with_presets_in_the_url():
    at = _open({"ocmp": "llama-3.1-8b,gpt-neox-20b"})
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    for name in ("llama-3.1-8b", "gpt-neox-20b"):
        tr = [t for t in spec["data"] if t["name"].startswith(name)][0]
        np.testing.assert_allclose(_arr(tr["y"]), O.pair_cycles(get_preset(name).config)["rotations"], rtol=1e-12)
    assert len(tables(at)[0]) == 3 + 2                         # pre-trained, plain, YaRN, and the two


def test_toggle_label_fits():
    at = _open()
    labels = [t.label for t in at.toggle]
    assert "Offsets in one-sign pairs" in labels and all(len(x) <= 30 for x in labels)


@pytest.mark.parametrize("params", [{}, {"preset": "llama-3.1-8b"}, {"d": "256", "L": "2097152", "b": "1000000000"}])
def test_greyed_k_shows_the_one_sign_pairs_in_use(params):
    """With "Offsets in one-sign pairs" on, the greyed-out k slider showed its hidden 4 while the chart put offsets in
    every one-sign pair (14 at the default, 22 for Llama 3.1, 45 at d = 256, base 1e9, 2M tokens). It shows the
    number the chart uses, counted here from the criterion (L − 1)·θ_i < π."""
    at = _open(params)
    (k,) = [s for s in at.slider if s.label.startswith("k lowest-frequency pairs")]
    spec = [json.loads(c.proto.spec) for c in at.get("plotly_chart")][1]
    main = [t["name"] for t in spec["data"] if t["name"].startswith("bias, ")][0]
    cfg = get_preset("llama-3.1-8b").config if params.get("preset") else RopeConfig(
        int(params.get("d", 128)), base=float(params.get("b", 1e4)), context_length=int(params.get("L", 4096)))
    want = int(np.sum((cfg.context_length - 1) * inv_freq(cfg, cfg.context_length) < np.pi))
    assert k.disabled and k.value == want and main.startswith(f"bias, {want} one-sign pairs")
    at.toggle(key="_rvp_oone").set_value(False).run()
    (k,) = [s for s in at.slider if s.label.startswith("k lowest-frequency pairs")]
    assert not k.disabled and k.value == 4


@pytest.mark.parametrize("params", [{"d": "2"}, {"d": "8", "rf": "0.25"}])
def test_one_rotated_pair_with_offsets_in_the_slowest_pairs(params):
    """With one rotated pair, switching "Offsets in one-sign pairs" off drew a k slider from 1 to 1: Streamlit's error
    screen (StreamlitInvalidMinMaxError) instead of the page. The offset goes in the only pair."""
    at = _open({**params, "oone": "false"})
    spec = [json.loads(c.proto.spec) for c in at.get("plotly_chart")][1]
    assert any(t["name"].startswith("bias, ") for t in spec["data"])
    (k,) = [w for w in at.number_input if w.label.startswith("k lowest-frequency pairs")]
    assert k.disabled and k.value == 1


@pytest.mark.parametrize("L, offered", [(1 << 24, []), (1 << 23, [2.0]), ((1 << 22) + 1, [2.0]),
                                        (1 << 22, [2.0, 4.0]), (4096, [2.0, 4.0, 8.0, 16.0, 32.0])])
def test_extension_factors_offered_are_those_that_fit(L, offered):
    """At L = 2^24 every factor passes the longest context a config holds: the page showed 'factor × original
    context must be ≤ 16777216 tokens' instead of its charts. It offers the factors ``extend`` accepts, shows the
    only one as a value (a one-option slider is a lone dot), and says so when none fits."""
    from rope_viz.config import CONTEXT_MAX
    cfg = RopeConfig(128, context_length=L)
    for s in (2.0, 4.0, 8.0, 16.0, 32.0):            # the rule the page uses is the one extend enforces
        try:
            extend(cfg, "yarn", s)
            assert s in offered
        except ValueError:
            assert s not in offered
    at = open_page(PAGE, {"L": str(L), "of": "32.0"})
    assert not at.error and not at.exception, [e.value for e in at.error]
    sliders = [s for s in at.select_slider if s.label == "Extension factor s"]
    fixed = [t for t in at.text_input if t.label.startswith("Extension factor s")]
    if not offered:
        assert not sliders and not fixed
        assert any("leaves no room" in i.value and f"{CONTEXT_MAX:,}" in i.value for i in at.info)
    elif len(offered) == 1:
        assert not sliders and [t.value for t in fixed] == [f"×{offered[0]:g}"]
    else:
        assert [float(str(o).lstrip("×")) for o in sliders[0].options] == offered and not fixed
    assert any(c for c in at.get("plotly_chart"))            # the charts are drawn in every case
