"""The app shell: landing page (Intuition), Frequencies and Context-extension pages, the shared sidebar, URL state and
error handling, through Streamlit's AppTest. Chart data is checked against closed forms and the naive oracle, not
against the figure code itself."""

from __future__ import annotations

import base64
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from naive import naive_score, naive_theta
from page_tools import chart, charts, number, open_sections
from streamlit.testing.v1 import AppTest

from rope_viz.config import SCALING_KEYS, RopeConfig
from rope_viz.frequencies import frequency_ratio
from rope_viz.ui import state as S

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
FREQ = "pages/1_Frequencies.py"
EXT = "pages/5_Context_extension.py"
TIMEOUT = 60


# -- helpers ----------------------------------------------------------------------------------------------------------
def _arr(v) -> np.ndarray:
    """Plotly 7 JSON arrays are either lists or {"dtype", "bdata"} (base64, possibly with a shape)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if "shape" in v:
            a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
        return a.astype(np.float64)
    return np.asarray(v, dtype=np.float64)


def open_page(page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def qp(at: AppTest) -> dict[str, str]:
    """The app's URL query parameters as a plain dict of strings."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}


def sidebar_set(at: AppTest, widget: str, field: str, value) -> AppTest:
    getattr(at.sidebar, widget)(key="_rvw_" + field).set_value(value).run()
    return at


# -- pure state encoding (no streamlit) -----------------------------------------------------------------------------
def _state(d, b, rf, lay, L, kind, factor, drop_optional):
    state = S.switch_scaling({**S.DEFAULT_STATE, "head_dim": d, "base": b, "rotary_fraction": rf, "layout": lay,
                              "context_length": L}, kind)
    if state["scaling"] and "factor" in state["scaling"]:
        state["scaling"]["factor"] = factor
    if state["scaling"] and drop_optional:
        _, optional = SCALING_KEYS[kind]
        state["scaling"] = {k: v for k, v in state["scaling"].items() if k not in optional}
    return state


_states = st.builds(_state, st.sampled_from([2, 32, 64, 96, 128, 256, 1024]), st.floats(1.5, 1e9),
                    st.sampled_from([0.25, 0.5, 1.0]), st.sampled_from(["half", "interleaved"]),
                    st.integers(2, 1 << 21), st.sampled_from(S.SCALING_CHOICES), st.floats(1.0, 64.0),
                    st.booleans())


@settings(max_examples=80, deadline=None)
@given(_states, st.sampled_from([None, "llama-3.1-8b", "phi-3-mini-128k", "qwen2.5-7b-yarn"]))
def test_url_encoding_round_trips(state, preset):
    try:
        expected = S.config_from_state(state)
    except ValueError:          # e.g. d = 2 with a quarter rotated: not a config, nothing to encode
        assume(False)
    query = S.encode_query(state, preset)
    decoded_preset, decoded, errs = S.decode_query(query)
    assert errs == [] and decoded_preset == preset
    assert S.config_from_state(decoded) == expected
    assert S.encode_query(decoded, preset) == query


def test_url_encoding_is_a_diff_against_the_baseline():
    assert S.encode_query(S.DEFAULT_STATE, None) == {}
    q = S.encode_query({**S.DEFAULT_STATE, "base": 5e5, "layout": "interleaved"}, None)
    assert q == {"b": "500000", "lay": "interleaved"}
    llama = S.baseline_state("llama-3.1-8b")
    assert S.encode_query(llama, "llama-3.1-8b") == {"preset": "llama-3.1-8b"}
    longer = {**llama, "context_length": 1 << 20, "scaling": {**llama["scaling"], "factor": 16.0}}
    assert S.encode_query(longer, "llama-3.1-8b") == {"preset": "llama-3.1-8b", "L": "1048576", "f": "16"}


def test_url_keys_are_the_config_fields():
    """Adding a RopeConfig field or a scaling key puts it in the URL with no edit to the ui."""
    names = {f.name for f in dataclasses.fields(RopeConfig)} - {"scaling"}
    names |= {"rope_type"} | set().union(*(r | o for r, o in SCALING_KEYS.values()))
    assert set(S.URL_FIELDS.values()) == names
    assert len(S.URL_FIELDS) == len(names)                          # no two fields share a URL key


def test_decode_drops_bad_values_with_a_message_and_keeps_the_rest():
    _, state, errs = S.decode_query({"d": "abc", "b": "0.5", "s": "bogus", "L": "65536", "f": "1e400"})
    assert len(errs) == 4
    for key in ("d", "b", "s", "f"):
        assert any(e.startswith(f"URL parameter {key}") for e in errs), errs
    assert any("base must be" in e for e in errs)
    cfg = S.config_from_state(state)
    assert (cfg.head_dim, cfg.base, cfg.context_length, cfg.scaling) == (128, 10000.0, 65536, None)


# -- landing page ----------------------------------------------------------------------------------------------------
def test_intuition_defaults_and_invariance_numbers():
    at = open_page()
    ok(at)
    assert errors(at) == []
    cfg = RopeConfig(128)
    theta = naive_theta(cfg.base, cfg.rotary_dim)
    rot = chart(at, "Pairs rotating")
    pairs = [0, 32, 63]                                     # default: fastest, middle, slowest
    assert len(rot["frames"]) == 48
    moving = rot["frames"][0]["traces"]
    assert len(moving) == len(pairs)
    for f in (1, 7, 47):                                    # frame f is position f (1 token per frame)
        for j, i in enumerate(pairs):
            tr = rot["frames"][f]["data"][j]
            assert _arr(tr["x"])[1] == pytest.approx(math.cos(f * theta[i]), abs=1e-12)
            assert _arr(tr["y"])[1] == pytest.approx(math.sin(f * theta[i]), abs=1e-12)
    # The metrics: one random q, k (seed 0) at (12, 5), shifted together by 1000, and the query alone.
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal(128), rng.standard_normal(128)
    vals = [number(m.value) for m in at.metric]
    expected = naive_score(q, k, 12 - 5, theta, 128, "half")
    assert vals[0] == pytest.approx(expected, abs=1e-5)
    assert vals[1] == pytest.approx(expected, abs=1e-5)
    from naive import naive_rotate
    alone = float(naive_rotate(q, 1012, theta, 128, "half") @ naive_rotate(k, 5, theta, 128, "half"))
    assert vals[2] == pytest.approx(alone, abs=1e-5)
    inv = chart(at, "Relative position")
    together = _arr(inv["data"][0]["y"])
    assert np.ptp(together) < 1e-9 * max(1.0, abs(expected))
    assert np.ptp(_arr(inv["data"][1]["y"])) > 1.0
    # Moving a slider reruns cleanly and lands in the URL.
    at.slider(key="_rvp_qpos").set_value(100).run()
    ok(at)
    assert qp(at)["qpos"] == "100"
    assert [number(m.value) for m in at.metric][0] == pytest.approx(naive_score(q, k, 95, theta, 128, "half"),
                                                                   abs=1e-5)


# -- Frequencies -----------------------------------------------------------------------------------------------------
def _liu_critical_dim(cfg: RopeConfig, train: int) -> int:
    """Liu et al. Eq. 13 with the config's base: 2·ceil((r/2)·log_b(T/2π)), within [0, r]."""
    d = 2 * math.ceil(cfg.rotary_dim / 2 * math.log(train / (2 * math.pi)) / math.log(cfg.base))
    return min(max(d, 0), cfg.rotary_dim)


def _check_frequencies(at: AppTest, cfg: RopeConfig) -> None:
    ok(at)
    assert errors(at) == []
    wl = chart(at, "Per-pair frequency")
    theta = np.array(naive_theta(cfg.base, cfg.rotary_dim))
    pts = [tr for tr in wl["data"] if tr.get("xaxis", "x") == "x" and tr.get("mode") == "markers"]
    xs = np.concatenate([_arr(tr["x"]) for tr in pts])
    assert sorted(xs.tolist()) == list(range(cfg.n_pairs))                # r/2 pairs plotted, once each
    if cfg.scaling is None:
        ys = np.concatenate([_arr(tr["y"]) for tr in pts])
        np.testing.assert_allclose(ys[np.argsort(xs)], theta, rtol=1e-12)
    partial = [tr for tr in pts if tr["name"].startswith("partial")]
    n_partial = sum(len(_arr(tr["x"])) for tr in partial)
    from rope_viz.frequencies import inv_freq
    assert n_partial == int(np.sum(cfg.context_length * inv_freq(cfg) / (2 * np.pi) < 1))
    rot = chart(at, "Rotations completed")
    assert sum(len(_arr(tr["x"])) for tr in rot["data"] if tr["type"] == "bar") == cfg.n_pairs
    try:
        import rope_viz.analysis.bounds  # noqa: F401
    except ImportError:
        return
    d_extra = _liu_critical_dim(cfg, cfg.original_context_length)
    notes = [a["text"] for a in rot["layout"].get("annotations", [])]
    assert any(f"d_extra = {d_extra} " in t for t in notes), notes
    assert any(abs(s["x0"] - (d_extra / 2 - 0.5)) < 1e-12 for s in rot["layout"]["shapes"] if s["type"] == "line")


def test_frequencies_defaults_match_the_formulas():
    at = open_page(FREQ)
    _check_frequencies(at, RopeConfig(128))
    ang = chart(open_page(FREQ, {"ftab": "Angle map"}), "Rotation angle")     # each section is a tab of its own
    theta = np.array(naive_theta(1e4, 128))
    first, whole = [t for t in ang["data"] if t["type"] == "heatmap"]   # every token, then the whole context
    z, y = _arr(first["z"]), _arr(first["y"])
    assert z.shape == (len(y), 64) and y[0] == 0 and np.all(np.diff(y) == 1)
    np.testing.assert_allclose(z[7], np.mod(y[7] * theta, 2 * np.pi), atol=2e-6)   # float32 for display
    z, y = _arr(whole["z"]), _arr(whole["y"])
    assert z.shape == (len(y), 64) and len(y) <= 400 and y[0] == 0 and y[-1] == 4095
    shown = ~np.isnan(z[7])                                          # pairs the sampling cannot resolve are blank
    assert shown.sum() > 0 and not shown[0]
    np.testing.assert_allclose(z[7][shown], np.mod(y[7] * theta, 2 * np.pi)[shown], atol=2e-6)
    # polar view follows the pair/position sliders
    at = open_page(FREQ, {"ftab": "One pair"})
    at.slider(key="_rvp_pair").set_value(5).run()
    at.slider(key="_rvp_pos").set_value(1234).run()
    ok(at)
    pol = chart(at, "Pair 5 at position 1,234")
    vec = [tr for tr in pol["data"] if tr["name"].startswith("pair 5")][0]
    assert _arr(vec["theta"])[1] == pytest.approx(math.degrees((1234 * theta[5]) % (2 * math.pi)), abs=1e-9)
    lay = chart(open_page(FREQ, {"ftab": "Channel pairs"}), "Which channels")
    z = _arr(lay["data"][0]["z"])
    assert z.shape == (2, 128)
    assert z[0, 2 * 9] == 9 and z[0, 2 * 9 + 1] == 9                       # interleaved: (2i, 2i+1)
    assert z[1, 9] == 9 and z[1, 9 + 64] == 9                               # half: (i, i + r/2)


@pytest.mark.slow
def test_frequencies_extreme_settings_every_scaling_type():
    at = open_page(FREQ, {"d": "256", "L": "1048576", "b": "500000"})
    _check_frequencies(at, RopeConfig(256, base=5e5, context_length=1 << 20))
    for rope_type in S.SCALING_TYPES:
        sidebar_set(at, "selectbox", "scaling", rope_type)
        ok(at)
        cfg = S.config_from_state(at.session_state["_rv_state"])
        assert cfg.rope_type == rope_type and cfg.head_dim == 256
        _check_frequencies(at, cfg)
        for c in charts(at):
            assert len(json.dumps(c)) < 2_000_000                          # figure JSON ≤ 2 MB


# -- Context extension -----------------------------------------------------------------------------------------------
def _extension_sections(query: dict | None = None) -> dict[str, AppTest]:
    """The Context extension page once per section tab (only the open one runs)."""
    return open_sections(EXT, query)


def _check_extension(ats: dict[str, AppTest], base: RopeConfig, s: float) -> None:
    for at in ats.values():
        ok(at)
        assert errors(at) == []
    freq, score, attn = (ats[k] for k in ("Frequencies and wavelengths", "Score vs distance", "Attention factor"))
    ratio = chart(freq, "Per-pair frequency ratio")
    by_name = {tr["name"]: _arr(tr["y"]) for tr in ratio["data"]}
    r, p = base.rotary_dim, base.n_pairs
    i = np.arange(p)
    np.testing.assert_allclose(by_name["PI (linear)"], np.full(p, 1 / s), rtol=1e-12)           # Chen et al.
    if r > 2:
        np.testing.assert_allclose(by_name["NTK-aware"], s ** (-2 * i / (r - 2)), rtol=1e-9)    # b' = b·s^(r/(r−2))
    L0 = base.context_length
    target = int(round(s * L0))
    yarn = base.replace(context_length=target, scaling={"rope_type": "yarn", "factor": s,
                                                        "original_max_position_embeddings": L0})
    np.testing.assert_allclose(by_name["YaRN"], frequency_ratio(yarn), rtol=1e-12)
    af = chart(attn, "Attention factor")                # curves over s (the chart does not move with s)
    curves = {tr["name"]: (_arr(tr["x"]), _arr(tr["y"])) for tr in af["data"]}
    x, y = curves["YaRN"]
    np.testing.assert_allclose(y, 0.1 * np.log(x) + 1, rtol=1e-12)                               # YaRN Eq. 22
    x, y = curves["LongRoPE"]
    np.testing.assert_allclose(y[x > 1], np.sqrt(1 + np.log(x[x > 1]) / np.log(L0)), rtol=1e-12)
    flat = [k for k in curves if k.endswith("1 at every s (no rescaling)")][0]   # PI, NTK, … share one line at 1
    assert "PI (linear)" in flat and np.all(curves[flat][1] == 1.0)
    line = [m.value for m in attn.markdown if m.value.startswith("**Attention factor at s")][0]   # the value at s
    assert f"YaRN ×{0.1 * math.log(s) + 1:.4f}" in line
    assert f"LongRoPE ×{math.sqrt(1 + math.log(s) / math.log(L0)):.4f}" in line
    wl = chart(freq, "Wavelength per pair")
    orig = [tr for tr in wl["data"] if tr["name"].startswith("original (no")][0]
    np.testing.assert_allclose(_arr(orig["y"]), 2 * np.pi / np.array(naive_theta(base.base, r)), rtol=1e-12)
    sc = chart(score, "Score vs distance")
    grey = [tr for tr in sc["data"] if tr["name"] == "original (no scaling)"][0]
    # q = k = 1: score(0) = Σ_i (1·1 + 1·1) = r for every method without an attention factor
    assert _arr(grey["y"])[0] == pytest.approx(r, rel=1e-9)


def test_context_extension_defaults():
    ats = _extension_sections()
    _check_extension(ats, RopeConfig(128), 4.0)
    at = next(iter(ats.values()))
    assert any("synthetic" in w.value for w in at.warning)                  # LongRoPE lists: say so
    at.select_slider(key="_rvp_s_ext").set_value("16").run()
    assert qp(at)["s_ext"] == "16"
    _check_extension(_extension_sections(qp(at)), RopeConfig(128), 16.0)


@pytest.mark.slow
def test_context_extension_extreme_settings_every_scaling_type():
    ats = _extension_sections({"d": "256", "L": "1048576"})
    _check_extension(ats, RopeConfig(256, context_length=1 << 20), 4.0)
    for at, n in zip(ats.values(), (2, 1, 1)):                          # each section's charts
        for rope_type in S.SCALING_TYPES:
            sidebar_set(at, "selectbox", "scaling", rope_type)
            ok(at)
            assert errors(at) == []
            assert len(at.get("plotly_chart")) == n
            for c in charts(at):
                assert len(json.dumps(c)) < 2_000_000


# -- sidebar, URL, errors --------------------------------------------------------------------------------------------
def test_url_round_trip_reproduces_the_view():
    at = open_page(FREQ, {"ftab": "One pair"})
    sidebar_set(at, "number_input", "head_dim", 64)
    sidebar_set(at, "select_slider", "base", 500000.0)
    sidebar_set(at, "radio", "layout", "interleaved")
    sidebar_set(at, "selectbox", "scaling", "yarn")
    sidebar_set(at, "number_input", "factor", 4.0)
    at.slider(key="_rvp_pair").set_value(3).run()
    ok(at)
    cfg = S.config_from_state(at.session_state["_rv_state"])
    query = qp(at)
    assert query["d"] == "64" and query["pair"] == "3" and query["ftab"] == "One pair"
    at2 = open_page(None, query)
    at2.switch_page(FREQ).run()
    ok(at2)
    assert S.config_from_state(at2.session_state["_rv_state"]) == cfg
    assert at2.slider(key="_rvp_pair").value == 3
    assert chart(at2, "Pair 3 at position")


def test_state_is_shared_across_pages():
    at = open_page()
    sidebar_set(at, "number_input", "head_dim", 32)
    at.switch_page(FREQ).run()
    ok(at)
    assert at.sidebar.number_input(key="_rvw_head_dim").value == 32
    pairs = [t for t in chart(at, "Per-pair frequency")["data"] if t.get("xaxis") == "x" and "cycle" in t["name"]]
    assert sum(len(_arr(t["x"])) for t in pairs) == 16                      # 32 channels: 16 pairs (full + partial)


@given(st.integers(1, 512).map(lambda k: 2 * k))
@settings(max_examples=200, deadline=None)
def test_every_rotary_fraction_offered_is_valid_for_the_head_dim(d):
    """The slider offers only fractions whose width int(d·f) is even and ≥ 2 — checked by building the config and by
    the rule written out here (not by the helper that filters)."""
    from rope_viz.ui.sidebar import _FRACTION_GRID, _fractions_for
    offered = _fractions_for(d)
    assert offered
    for f in _FRACTION_GRID:
        width = math.floor(d * f)
        assert (f in offered) == (width >= 2 and width % 2 == 0) or offered == [1.0]
    for f in offered:
        assert RopeConfig(head_dim=d, rotary_fraction=f).rotary_dim == math.floor(d * f)


def test_rotary_fraction_slider_lists_only_valid_values_and_follows_the_head_dim():
    at = open_page()
    opts = [float(o) for o in at.sidebar.select_slider(key="_rvw_rotary_fraction").options]
    assert 0.4 not in opts and 0.375 in opts           # d = 128: int(51.2) = 51 is odd, int(48) = 48
    sidebar_set(at, "select_slider", "rotary_fraction", 0.375)
    sidebar_set(at, "number_input", "head_dim", 100)   # int(100·0.375) = 37: odd
    ok(at)
    assert not errors(at)
    f = at.session_state["_rv_state"]["rotary_fraction"]
    assert f == 0.4 and math.floor(100 * f) % 2 == 0   # the nearest valid fraction (width 40)
    assert any("moved to 0.4" in i.value for i in at.sidebar.info)
    assert qp(at)["rf"] == "0.4"


def notices(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("Some settings in the page address")]


@pytest.mark.parametrize("query, message", [
    ({"b": "0.5"}, "base must be a finite number in (1, "),
    ({"d": "65"}, "head_dim must be even"),
    ({"s": "longrope", "oc": "4096", "sh": "1,1", "lo": "1,2"}, "short_factor has 2 entries; it needs rotary_dim"),
])
def test_bad_url_values_are_dropped_with_one_notice_naming_them(query, message):
    for page in (None, FREQ, EXT):
        at = open_page(page, query)
        ok(at)
        assert errors(at) == [] and at.get("plotly_chart")          # the page draws with the values that work
        if page is None:                                              # the notice belongs to the first run
            assert len(notices(at)) == 1 and message in notices(at)[0], notices(at)


def test_bad_settings_from_the_widgets_show_the_library_message():
    at = open_page(FREQ)
    sidebar_set(at, "number_input", "head_dim", 65)      # typed: the step of 2 does not stop it
    ok(at)
    assert any("head_dim must be even" in e for e in errors(at)), errors(at)
    assert not at.get("plotly_chart")


def test_config_json_import_good_and_bad():
    at = open_page(FREQ)
    at.sidebar.text_area(key="_rvw_paste").input('{"hidden_size": 4096, "num_attention_heads": ').run()
    at.sidebar.button(key="_rvw_import").click().run()
    ok(at)
    assert any("must be valid JSON" in e for e in errors(at)), errors(at)
    assert len(at.get("plotly_chart")) == 2                    # the rest of the page (its open section) still works
    bad_lists = {"head_dim": 96, "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
                 "rope_theta": 10000.0, "rope_scaling": {"type": "longrope", "short_factor": [1.0] * 47,
                                                         "long_factor": [1.0] * 48}}
    at.sidebar.text_area(key="_rvw_paste").input(json.dumps(bad_lists)).run()
    at.sidebar.button(key="_rvw_import").click().run()
    ok(at)
    assert any("short_factor has 47 entries" in e for e in errors(at)), errors(at)
    good = {**bad_lists, "rope_scaling": {**bad_lists["rope_scaling"], "short_factor": [1.0] * 48}}
    at.sidebar.text_area(key="_rvw_paste").input(json.dumps(good)).run()
    at.sidebar.button(key="_rvw_import").click().run()
    ok(at)
    assert errors(at) == []
    cfg = S.config_from_state(at.session_state["_rv_state"])
    assert (cfg.head_dim, cfg.rope_type, cfg.context_length) == (96, "longrope", 131072)
    assert qp(at)["d"] == "96" and qp(at)["s"] == "longrope"
    # changing the head dim afterwards breaks the list length: the library's message, no traceback
    sidebar_set(at, "number_input", "head_dim", 128)
    ok(at)
    assert any("has 48 entries" in e for e in errors(at)), errors(at)


def test_unparseable_url_value_is_a_notice_not_a_crash():
    at = open_page(None, {"d": "abc", "qpos": "x1", "s_ext": "zzz"})
    ok(at)
    [notice] = notices(at)
    assert "URL parameter d: head_dim must be an integer in [2, 1024]; got 'abc'" in notice
    assert "URL parameter qpos must be an integer; got 'x1'" in notice
    at.switch_page(EXT).run()
    ok(at)
    assert len(at.get("plotly_chart")) == 2                     # the open section's (Frequencies and wavelengths)


@pytest.mark.parametrize("text, message", [
    ('{"head_dim": 64, "rope_theta": Infinity}', "rope_theta must be a finite number"),
    ('{"head_dim": 64, "rope_theta": 1e400}', "rope_theta must be a finite number"),
    ('{"head_dim": ' + "9" * 400 + "}", "at most 30 digits"),
    ('{"head_dim": 64, "rope_scaling": {"rope_type": ["yarn"], "factor": 2}}', "rope_type"),
    ("[" * 2000 + "]" * 2000, "must nest at most 64 levels"),
    ('{"head_dim": 64, "rope_scaling": {"rope_type": "' + "é" * 600_000 + '"}}', "at most 1,000,000 bytes"),
    ('{"head_dim": 64, "rope_scaling": {"rope_type": "[a](http://EVIL.example)\\n\\n![p](http://EVIL.example/p)"}}',
     "rope_type"),
])
def test_hostile_config_json_is_one_short_verbatim_error(text, message):
    at = open_page(FREQ)
    at.sidebar.text_area(key="_rvw_paste").input(text).run()
    at.sidebar.button(key="_rvw_import").click().run()
    ok(at)
    [err] = errors(at)
    assert message in err and len(err) < 400, err[:400]
    assert err.startswith("`") and err.endswith("`")                  # a code span: shown verbatim, not rendered
    assert len(at.get("plotly_chart")) == 2              # the page (its open section) keeps the previous config
