"""AppTest for the Distance, Aliasing, Offset dimensions and Encodings compared pages.

Each page runs at its defaults and at extreme settings (d = 256, L = 1M, every scaling type) set through the URL
query string (the sidebar's documented interface, rope_viz.ui.state): no exception, and the charts' data is checked
against the library (rope_viz.analysis), which tests/test_figures_analysis.py and the analysis tests in turn check
against naive oracles and the papers. Bad input shows st.error, never a traceback.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from page_tools import tables
from streamlit.testing.v1 import AppTest

from rope_viz.analysis import distance as D
from rope_viz.analysis import offsets as O
from rope_viz.config import RopeConfig

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"distance": "pages/2_Distance.py", "aliasing": "pages/3_Aliasing.py",
         "offsets": "pages/4_Offset_dimensions.py", "encodings": "pages/6_Encodings_compared.py"}
BIG = {"d": "256", "L": "1048576"}


def _longrope_params(n_pairs: int, factor: float, orig: int) -> dict:
    return {"s": "longrope", "f": f"{factor:g}", "oc": str(orig), "sh": ",".join(["1"] * n_pairs),
            "lo": ",".join(["1"] * (n_pairs // 2) + [f"{factor:g}"] * (n_pairs - n_pairs // 2))}


SCALINGS = {
    "linear": {"s": "linear", "f": "8"},
    "ntk": {"s": "ntk", "f": "8"},
    "dynamic": {"s": "dynamic", "f": "8"},
    "yarn": {"s": "yarn", "f": "8", "oc": "131072"},
    "llama3": {"s": "llama3", "f": "8", "oc": "131072"},
    "longrope": _longrope_params(128, 8.0, 131072),
}


def _run(page: str, params: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(params or {})
    at.switch_page(PAGES[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _arr(v) -> np.ndarray:
    """A plotly-JSON array, flattened: a (nested) list, or plotly 7's {"dtype", "bdata"} base64 encoding."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), v["dtype"])
    return np.asarray(v, dtype=np.float64).reshape(-1)


def _specs(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def _trace(spec: dict, startswith: str) -> dict:
    for t in spec["data"]:
        if (t.get("name") or "").startswith(startswith):
            return t
    raise AssertionError(f"no trace {startswith!r} in {[t.get('name') for t in spec['data']]}")


def _cfg(params: dict) -> RopeConfig:
    """The RopeConfig the sidebar builds from these URL parameters (through the ui's own decoder)."""
    from rope_viz.ui.state import config_from_state, decode_query
    _, state, errors = decode_query(params)
    assert not errors
    return config_from_state(state)


# -- Distance --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [{}, BIG], ids=["default", "d256-L1M"])
def test_distance_page_curves_match_library(params):
    at = _run("distance", params)
    cfg = _cfg(params)
    specs = _specs(at)
    assert len(specs) == 1
    spec = specs[0]
    assert spec["layout"]["xaxis"]["type"] == "log"            # default: log distance axis, Δ = 0 not drawn
    ones = _trace(spec, "score, q = k = all-ones")
    x, y = _arr(ones["x"]), _arr(ones["y"])
    q = np.ones(cfg.head_dim)
    assert x[0] == 1 and y[0] == pytest.approx(float(D.score_vs_distance(q, q, cfg, [1.0])[0]), rel=1e-12)
    assert float(y.max()) == pytest.approx(float(D.score_vs_distance(q, q, cfg, [1.0])[0]), rel=1e-12)
    first = D.first_negative_distance(cfg, cfg.context_length, seq_len=cfg.context_length)
    mark = _trace(spec, "B_m first < 0")
    assert list(_arr(mark["x"])) == [first]
    assert f"B_m first turns negative at Δ = {first:,}" in " ".join(m.value for m in at.markdown)
    assert len(json.dumps(spec)) <= 2_000_000
    # the summary table: B_0 = d/2 and the library's first negative distance
    df = tables(at)[0]
    assert df.iloc[0]["B_m first < 0 at Δ"] == f"{first:,}"
    assert float(df.iloc[0]["B_0 = d/2"]) == cfg.head_dim / 2


def test_distance_page_linear_axis_value_at_zero_and_overlay():
    at = _run("distance")
    at.toggle(key="_rvp_dlogx").set_value(False).run()
    at.multiselect(key="_rvp_dcmp").set_value(["base 5e5"]).run()
    assert not at.exception
    spec = _specs(at)[0]
    cfg = _cfg({})
    q = np.ones(128)
    ones = [t for t in spec["data"] if t.get("name", "").startswith("score, q = k = all-ones — d=128 base=10000")][0]
    assert _arr(ones["x"])[0] == 0
    assert _arr(ones["y"])[0] == pytest.approx(float(D.score_vs_distance(q, q, cfg, [0.0])[0]))   # = d = 128
    names = [t.get("name", "") for t in spec["data"]]
    assert any("base=500000" in n for n in names)
    assert len(tables(at)[0]) == 2                      # one summary row per configuration


def test_distance_page_empty_choice_and_bad_input():
    at = _run("distance")
    at.multiselect(key="_rvp_dq").set_value([]).run()
    assert not at.exception and not at.error and any("at least one curve" in i.value for i in at.info)   # a hint, not an error
    at = _run("distance", {"b": "0.5"})        # base ≤ 1 in the URL: ignored with the validator's notice
    assert any("base must be" in w.value for w in at.warning) and len(at.get("plotly_chart")) == 1


# -- Aliasing --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [{}, BIG, {**BIG, **SCALINGS["yarn"]}], ids=["default", "d256-L1M", "yarn"])
def test_aliasing_page(params):
    at = _run("aliasing", params)
    cfg = _cfg(params)
    tabs = [t.label for t in at.tabs]                  # one section per tab; only the open one runs
    assert len(tabs) == 6 and len(_specs(at)) == 1
    specs = _specs(at) + [s for tab in tabs[1:] for s in _specs(_run("aliasing", {**params, "tab": tab}))]
    assert len(specs) == 6
    heat = specs[0]["data"][0]
    assert heat["type"] == "heatmap"
    pos = _arr(heat["x"])
    assert len(pos) == 256 and pos[-1] == cfg.context_length - 1
    z = _arr(heat["z"]).reshape(len(pos), len(pos))
    from rope_viz.analysis.aliasing import position_similarity
    for a, b in ((0, 255), (10, 200), (128, 3)):
        assert z[a, b] == pytest.approx(position_similarity(cfg, pos[a], pos[b]), abs=1e-6)
    # the two-position form: default 100 vs 10,000 with the sidebar's base
    sim = _run("aliasing", {**params, "tab": "Two positions"}).metric[0].value
    expected = position_similarity(cfg.replace(context_length=max(cfg.context_length, 10_001)), 100, 10_000)
    assert float(sim.replace("−", "-")) == pytest.approx(expected, abs=5e-4)
    assert len(json.dumps(specs)) <= 2_000_000 * len(specs)


def test_aliasing_example_button_reproduces_the_example():
    from rope_viz.analysis.aliasing import lookalike_example
    from rope_viz.figures.aliasing import example_base
    at = _run("aliasing", {"tab": "Two positions"})
    at.toggle(key="_rvp_aex").set_value(True).run()
    assert not at.exception
    base = example_base(128)
    assert base < 1e4
    ex = lookalike_example(RopeConfig(128, base=base, context_length=10_001), 100, 10_000)
    text = " ".join(m.value for m in at.markdown)
    assert f"{ex['stronger_nearer']:,}" in text and "aliasing" in text
    bars = [t for t in _specs(at)[0]["data"] if t["type"] == "bar"]
    assert sum(len(_arr(t["y"])) for t in bars) == 64


# -- Offset dimensions ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scaling", [None, *SCALINGS], ids=lambda s: s or "none")
def test_offsets_page_every_scaling_type(scaling):
    params = {**BIG, **(SCALINGS[scaling] if scaling else {})}
    at = _run("offsets", params)
    cfg = _cfg(params)
    specs = _specs(at)
    assert len(specs) == 2
    cycles = specs[0]["data"][0]
    assert len(_arr(cycles["x"])) == cfg.n_pairs               # the number of pairs plotted
    pc = O.pair_cycles(cfg)
    np.testing.assert_allclose(_arr(cycles["y"]), pc["rotations"], rtol=1e-12)
    assert f"{int(pc['one_sign'].sum())} one-sign pairs" in cycles["name"]
    if scaling:                                                # compared with the same model without scaling
        assert len([t for t in specs[0]["data"] if "partial-cycle" in t.get("name", "")]) == 2
        assert tables(at)[0].shape[0] == 2


def test_offsets_page_default_yarn_comparison_and_bias():
    at = _run("offsets")
    df = tables(at)[0]
    assert list(df["context L"]) == ["4,096", "16,384", "16,384"]          # default: YaRN ×4 from 4K
    cfg = _cfg({})
    bias = _specs(at)[1]["data"]
    hi, lo = bias[0], bias[1]                                  # per display bin: max (legend) and min
    assert "(min in bin)" in lo["name"]
    x, y_hi, y_lo = _arr(hi["x"]), _arr(hi["y"]), _arr(lo["y"])
    assert x[0] == 0 and y_hi[0] == pytest.approx(float(O.offset_bias(cfg, [0.0], None, magnitude=2.0)[0]))
    ref = O.offset_bias(cfg, x, None, magnitude=2.0)             # the curve at each bin's centre lies in the bin
    tol = 1e-4 * np.abs(ref).max()                          # a bin centre between two samples may sit at a peak
    assert np.all((y_lo - tol <= ref) & (ref <= y_hi + tol))


def test_offsets_page_offers_only_extensions_within_the_limit():
    """2M tokens × 16 or × 32 exceeds the library's 16,777,216-token limit: it was offered and gave st.error; now
    the slider stops at × 8, and a ×32 from the URL is dropped with the page's notice."""
    at = _run("offsets", {"L": "2097152", "of": "32.0"})
    assert not at.exception and not at.error
    assert list(at.select_slider(key="_rvp_of").options) == ["×2", "×4", "×8"]
    assert any("URL parameter of" in w.value for w in at.warning)
    at.select_slider(key="_rvp_of").set_value(8.0).run()
    assert not at.exception and not at.error and len(at.get("plotly_chart")) == 2


# -- Encodings compared --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [{}, BIG, {**BIG, **SCALINGS["llama3"]}], ids=["default", "d256-L1M", "llama3"])
def test_encodings_page(params):
    from rope_viz.analysis.encodings import alibi_slopes
    at = _run("encodings", params)
    cfg = _cfg(params)
    specs = _specs(at)
    assert len(specs) == 2
    rope = _trace(specs[0], "RoPE")
    q = np.ones(cfg.head_dim)
    s0 = float(D.score_vs_distance(q, q, cfg, [0.0], seq_len=cfg.context_length)[0])
    s1 = float(D.score_vs_distance(q, q, cfg, [1.0], seq_len=cfg.context_length)[0])
    assert _arr(rope["x"])[0] == 1 and _arr(rope["y"])[0] == pytest.approx(s1 / s0, rel=1e-12)
    alibi = [t for t in specs[1]["data"]]
    assert len(alibi) == 8                                       # one trace per head (8 heads)
    slopes = [-_arr(t["y"])[-1] / _arr(t["x"])[-1] for t in alibi]
    np.testing.assert_allclose(slopes, alibi_slopes(8), rtol=1e-12)
    table = tables(at)[0].reset_index()                      # st.table: every cell shown in full
    assert list(table.columns)[0] == "measure" and len(table.columns) == 4
    row = table[table["measure"] == "signal at Δ = 0 (raw)"].iloc[0]
    assert float(row.iloc[1]) == pytest.approx(s0, rel=1e-3)
