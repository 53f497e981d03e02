"""Offset dimensions page: one source of scaled variants, "compare with" published models in the URL, readable
controls (issues 8 and 12)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from page_helpers import arr, open_page
from streamlit.testing.v1 import AppTest

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
    assert len(at.dataframe[0].value) == 3 + 2                         # pre-trained, plain, YaRN, and the two


def test_toggle_label_fits():
    at = _open()
    labels = [t.label for t in at.toggle]
    assert "Offsets in one-sign pairs" in labels and all(len(x) <= 30 for x in labels)
