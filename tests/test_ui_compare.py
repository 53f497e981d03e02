"""Comparing imported configs (issue 12): a config.json added to the comparison set without replacing the sidebar
config, the current config kept for comparison, both chosen on every page that compares, and the page address
reproducing that view in a fresh session (the saved configs travel in the URL)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from page_tools import ROOT, arr, charts, open_page, query, tables
from streamlit.testing.v1 import AppTest

from rope_viz import compare as C
from rope_viz.config import RopeConfig
from rope_viz.frequencies import default_inv_freq, effective_inv_freq
from rope_viz.presets import get_preset

QWEN2_JSON = json.dumps({"architectures": ["Qwen2ForCausalLM"], "hidden_size": 3584, "num_attention_heads": 28,
                         "num_key_value_heads": 4, "max_position_embeddings": 32768, "rope_theta": 1000000.0,
                         "rope_scaling": None, "model_type": "qwen2"})
QWEN2 = RopeConfig(128, base=1e6, context_length=32768)
LLAMA31 = get_preset("llama-3.1-8b").config
KEPT = LLAMA31.replace(context_length=65536)
# page → (its compare parameter, the chart holding the compared configs, the y of a compared config's trace)
PAGES = {
    "pages/1_Frequencies.py": ("fcmp", "Per-pair frequency", lambda c: effective_inv_freq(c)),
    "pages/2_Distance.py": ("dcmp", "Attention score", None),
    "pages/4_Offset_dimensions.py": ("ocmp", "Rotations completed", lambda c: c.context_length
                                     * effective_inv_freq(c) / (2 * np.pi)),
    "pages/5_Context_extension.py": ("cmp_ext", "Per-pair frequency ratio", lambda c: effective_inv_freq(c)
                                     / default_inv_freq(c.base, c.rotary_dim)),
}


def _saving_session() -> AppTest:
    """Llama 3.1 8B in the sidebar; a Qwen2 config.json added for comparison; Llama 3.1 at 64K kept for it."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["preset"] = "llama-3.1-8b"
    at.run()
    at.sidebar.text_area(key="_rvw_paste").input(QWEN2_JSON).run()
    at.sidebar.button(key="_rvw_import_cmp").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key="_rvw_preset").value == "llama-3.1-8b"      # the sidebar config is kept
    assert any("saved 1: " + QWEN2.label() in s.value for s in at.sidebar.success)
    at.sidebar.select_slider(key="_rvw_context_length").set_value(65536).run()
    at.sidebar.button(key="_rvw_keep").click().run()
    q = query(at)
    assert C.decode_config(q["saved1"]) == QWEN2 and C.decode_config(q["saved2"]) == KEPT
    assert q["preset"] == "llama-3.1-8b"
    return at


def _trace_y(spec: dict, name_start: str) -> np.ndarray:
    found = [t for t in spec["data"] if t.get("name", "").startswith(name_start)]
    assert found, (name_start, [t.get("name") for t in spec["data"]])
    return arr(found[0]["y"])


def _chart(at: AppTest, title: str) -> dict:
    (spec,) = [c for c in charts(at) if c["layout"]["title"]["text"].startswith(title)]
    return spec


@pytest.mark.parametrize("page", list(PAGES), ids=[p.split("_", 1)[1][:-3] for p in PAGES])
def test_saved_configs_are_compared_and_the_url_reproduces_the_view(page):
    name, title, y_of = PAGES[page]
    at = _saving_session()
    at.switch_page(page).run()
    ms = at.multiselect(key=f"_rvp_{name}")
    assert {"saved 1: " + QWEN2.label(), "saved 2: " + KEPT.label()} <= set(ms.options)   # labels shown
    ms.set_value(["saved 1", "saved 2"]).run()
    assert not at.exception, [e.value for e in at.exception]
    spec = _chart(at, title)
    names = [t.get("name", "") for t in spec["data"]]
    for label in ("saved 1: " + QWEN2.label(), "saved 2: " + KEPT.label()):
        assert any(label in n for n in names), (label, names)
    if y_of is not None:                                        # the compared config's own numbers, exactly
        np.testing.assert_allclose(_trace_y(spec, "saved 1: "), y_of(QWEN2), rtol=1e-12)
        np.testing.assert_allclose(_trace_y(spec, "saved 2: "), y_of(KEPT), rtol=1e-12)
    q = query(at)
    assert q[name].strip("[]") == "saved 1,saved 2" and "saved1" in q and "saved2" in q
    fresh = open_page(page, q)                                  # the copied address, a fresh session
    assert fresh.multiselect(key=f"_rvp_{name}").value == ["saved 1", "saved 2"]
    assert charts(fresh) == charts(at), f"{page}: the URL {q} does not reproduce the figures"


def test_distance_table_names_saved_configs():
    at = open_page("pages/2_Distance.py", {"saved3": C.encode_config(QWEN2), "dcmp": "saved 3"})
    rows = tables(at)[0]
    assert list(rows["configuration"]) == [RopeConfig(128).label(), "saved 3: " + QWEN2.label()]


def test_removing_a_saved_config_drops_it_from_the_url_and_the_selection():
    at = _saving_session()
    at.switch_page("pages/1_Frequencies.py").run()
    at.multiselect(key="_rvp_fcmp").set_value(["saved 1", "llama-2-7b"]).run()
    at.sidebar.button(key="_rvw_unsave1").click().run()
    assert not at.exception
    q = query(at)
    assert "saved1" not in q and "saved2" in q
    assert at.multiselect(key="_rvp_fcmp").value == ["llama-2-7b"]
    assert not any(t.get("name", "").startswith("saved 1") for t in _chart(at, "Per-pair frequency")["data"])


def test_saving_twice_and_more_than_the_limit_says_so():
    at = _saving_session()
    at.sidebar.button(key="_rvw_import_cmp").click().run()                   # Qwen2 again: already saved
    assert any("already saved for comparison as saved 1" in i.value for i in at.sidebar.info)
    for ctx in (131072, 262144):
        at.sidebar.select_slider(key="_rvw_context_length").set_value(ctx).run()
        at.sidebar.button(key="_rvw_keep").click().run()
    assert at.sidebar.button(key="_rvw_keep").disabled                        # 4 of 4
    at.sidebar.text_area(key="_rvw_paste").input(QWEN2_JSON.replace("1000000.0", "2000000.0")).run()
    at.sidebar.button(key="_rvw_import_cmp").click().run()
    assert any(f"at most {C.MAX_SAVED} configs" in e.value for e in at.sidebar.error)
    assert sorted(k for k in query(at) if k.startswith("saved")) == ["saved1", "saved2", "saved3", "saved4"]


def test_a_bad_imported_config_is_shown_verbatim_and_nothing_is_saved():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.sidebar.text_area(key="_rvw_paste").input('{"head_dim": 64, "rope_theta": "**[x](http://e.x)**"}').run()
    at.sidebar.button(key="_rvw_import_cmp").click().run()
    assert not at.exception
    (err,) = [e.value for e in at.sidebar.error]
    assert "rope_theta" in err and err.startswith("`")                     # inside a code span: not rendered
    assert not any(k.startswith("saved") for k in query(at))


def test_bad_saved_values_in_the_url_give_one_notice():
    at = open_page("pages/1_Frequencies.py", {"saved1": "**not base64**", "saved2": C.encode_config(QWEN2),
                                              "saved4": "eyJoZWFkX2RpbSI6IDEyOCwgInp6IjogMX0",
                                              "fcmp": "saved 2,saved 1"})
    notices = [w.value for w in at.warning if w.value.startswith("Some settings in the page address")]
    assert len(notices) == 1
    assert "URL parameter saved1" in notices[0] and "URL parameter saved4: unknown key" in notices[0]
    assert at.multiselect(key="_rvp_fcmp").value == []                     # "saved 1" is not an option: dropped
    at2 = open_page("pages/1_Frequencies.py", {"saved1": "**not base64**", "saved2": C.encode_config(QWEN2),
                                               "fcmp": "saved 2"})
    assert at2.multiselect(key="_rvp_fcmp").value == ["saved 2"]
    assert "saved1" not in query(at2)
    np.testing.assert_allclose(_trace_y(_chart(at2, "Per-pair frequency"), "saved 2: "),
                               1e6 ** (-np.arange(64) / 64), rtol=1e-12)
