"""rope_viz.figures.browser: the figure JSON sent to the browser draws the same picture as plotly.py's own JSON, and
plotly.js can redraw an equal copy of it without touching the page (why it exists: issue 12's redraw times).

The Python tests need nothing; the drawing tests render both forms of every registered figure with plotly.py's bundled
plotly.js in headless chromium (skipped without chromium / Playwright, like tests/test_browser.py).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rope_viz.config import RopeConfig
from rope_viz.figures import figures, get_figure
from rope_viz.figures.browser import _merge_under, browser_spec

ROOT = Path(__file__).resolve().parents[1]
CFG = RopeConfig(head_dim=64, base=10000.0, context_length=2048)


def _arrays(obj):
    """Every list of numbers / typed-array dict anywhere in ``obj``."""
    if isinstance(obj, dict):
        if "bdata" in obj:
            yield obj
        for v in obj.values():
            yield from _arrays(v)
    elif isinstance(obj, list):
        yield obj
        for v in obj:
            yield from _arrays(v)


def _default_figures():
    out = {}
    for name, spec in figures().items():
        try:
            out[name] = spec.fn(CFG, style="app")
        except (TypeError, ValueError):       # figures that need data from a model run or a benchmark
            continue
    return out


FIGS = _default_figures()


def test_enough_figures_are_covered():
    assert len(FIGS) >= 20 and {"aliasing_map", "freq_polar", "intuition_rotation", "ext_score"} <= set(FIGS)


def _sent(fig) -> dict:
    """What Streamlit sends for the figure: plotly.io.to_json of its browser spec, parsed back."""
    return json.loads(pio.to_json(browser_spec(fig), validate=False))


@pytest.mark.parametrize("name", sorted(FIGS))
def test_spec_is_plain_json_without_template_or_meta(name):
    fig = FIGS[name]
    before = pio.to_json(fig, validate=False)
    text = pio.to_json(browser_spec(fig), validate=False)
    spec = json.loads(text)
    assert '"bdata"' not in text and '"dtype"' not in text and "NaN" not in text
    assert "template" not in spec["layout"] and "meta" not in spec["layout"]
    assert re.fullmatch(r"[0-9a-f]{16}", spec["layout"]["datarevision"])
    assert pio.to_json(fig, validate=False) == before            # the shared (cached) figure is not modified
    assert len(spec["data"]) == len(fig.data)


def test_float64_data_are_exact_float32_shortest_and_nan_a_gap():
    x = np.array([0.1, 1 / 3, 2.0 ** -40, 12345.678901234567, -7.25e300, np.nan])
    y32 = np.array([np.pi, -1e-7 / 3, 0.0, 65504.0, 1.0000001, 0.84147096], dtype=np.float32)
    fig = go.Figure([go.Scatter(x=x, y=x), go.Heatmap(z=np.stack([y32, y32]))])
    spec = _sent(fig)
    assert spec["data"][0]["x"][:5] == x[:5].tolist() and spec["data"][0]["x"][5] is None   # every digit; NaN: gap
    z = np.array(spec["data"][1]["z"], dtype=np.float64)
    assert np.array_equal(z.astype(np.float32), np.stack([y32, y32]))                       # float32 round trip
    assert all(len(repr(float(v))) <= 14 for v in z[0])          # not 0.8414709568023682-style expansions


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(width=32, allow_nan=True, allow_infinity=True), min_size=1, max_size=30),
       st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=30))
def test_arrays_round_trip_through_the_json_streamlit_sends(v32, v64):
    a32, a64 = np.array(v32, dtype=np.float32), np.array(v64, dtype=np.float64)
    spec = _sent(go.Figure([go.Scatter(y=a32), go.Scatter(y=a64)]))
    back32 = np.array([np.nan if v is None else v for v in spec["data"][0]["y"]], dtype=np.float64)
    finite = np.isfinite(a32)
    assert np.array_equal(back32[finite].astype(np.float32), a32[finite])
    assert np.all(np.isnan(back32[~finite]))                     # NaN and ±inf: gaps, as plotly.js draws them
    assert spec["data"][1]["y"] == a64.tolist()


def test_datarevision_follows_the_data_not_the_layout():
    a = go.Figure(go.Scatter(x=np.arange(5.0), y=np.arange(5.0)))
    b = go.Figure(go.Scatter(x=np.arange(5.0), y=np.arange(5.0) + 1e-12))
    c = go.Figure(go.Scatter(x=np.arange(5.0), y=np.arange(5.0)), layout=dict(title=dict(text="other")))
    ra, rb, rc = (browser_spec(f)["layout"]["datarevision"] for f in (a, b, c))
    assert ra != rb and ra == rc


def test_merge_under_user_values_win():
    d = {"a": 1, "b": {"c": 2, "d": [1, 2]}, "e": {"f": 3}}
    v = {"b": {"c": 5, "d": [9]}, "g": 7}
    assert _merge_under(d, v) == {"a": 1, "b": {"c": 5, "d": [9]}, "e": {"f": 3}, "g": 7}
    assert d == {"a": 1, "b": {"c": 2, "d": [1, 2]}, "e": {"f": 3}}    # inputs untouched


def test_template_reaches_every_subplot_axis_and_annotation():
    fig = get_figure("intuition_rotation").fn(CFG, style="app", pairs=[0, 5, 31])
    spec = browser_spec(fig)
    tmpl = pio.templates["plotly_white"].layout
    axes = [k for k in spec["layout"] if re.fullmatch(r"[xy]axis\d*", k)]
    assert len(axes) == 6
    for k in axes:
        assert spec["layout"][k]["gridcolor"] == tmpl.xaxis.gridcolor
    assert all(a.get("arrowcolor") == tmpl.annotationdefaults.arrowcolor for a in spec["layout"]["annotations"])
    assert spec["layout"]["colorway"] == list(tmpl.colorway)


# -- drawn in a browser -----------------------------------------------------------------------------------------------
def _chromium_page():
    sys.path.insert(0, str(ROOT / "scripts"))
    import appserver as A

    sync_api = pytest.importorskip("playwright.sync_api")
    if A.chromium_path() is None:
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    return A, sync_api


PLOTLY_JS = Path(pio.__file__).resolve().parents[1] / "package_data" / "plotly.min.js"
_ID = re.compile(r"(clip|defs-|legend|topbar|modebar-|trace|g|-cb|cb|pattern|gradient)[0-9a-f]{6,8}")
_ID_ATTRS = {"id", "class", "clip-path", "href", "xlink:href", "mask", "fill", "style"}


def _canonical_svg(markup: str) -> list:
    """The drawn chart as a list of (tag, sorted attributes) / text: attribute order and plotly.js's random ids
    (clip paths, gradients, trace uids, modebar) do not count."""
    from html.parser import HTMLParser

    out: list = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            out.append((tag, tuple(sorted((k, _ID.sub(r"\1#", v or "") if k in _ID_ATTRS else v) for k, v in attrs))))

        def handle_endtag(self, tag):
            out.append("/" + tag)

        def handle_data(self, data):
            out.append(data)

    P().feed(markup)
    return out

DRAW = """async ([a, b]) => {
  const draw = async (f) => { const d = document.createElement('div'); d.style.width = '900px';
    document.body.appendChild(d); await Plotly.newPlot(d, f); return d; };
  const svg = (d) => d.querySelector('.main-svg').parentNode.innerHTML;
  const da = await draw(a), db = await draw(b);
  // plotly.js keeps this counter once it had to draw the figure again to widen a margin for its axis labels
  const out = [svg(da), svg(db), '_redrawFromAutoMarginCount' in db._fullLayout];
  let n = 0; const obs = new MutationObserver(ms => n += ms.length);
  obs.observe(db, {subtree: true, childList: true, attributes: true, characterData: true});
  const copy = JSON.parse(JSON.stringify(b));
  await Plotly.react(db, copy); await new Promise(r => setTimeout(r, 20)); obs.disconnect();
  Plotly.purge(da); Plotly.purge(db); da.remove(); db.remove();
  return out.concat([n]); }"""


@pytest.mark.browser
def test_browser_spec_draws_the_same_svg_and_an_equal_copy_redraws_nothing():
    A, sync_api = _chromium_page()
    extra = {"freq_rotations_log": ("freq_rotations", {}), "distance_log": ("distance_curves", {"log_x": True})}
    cases = {n: FIGS[n] for n in sorted(FIGS)}
    for label, (name, opts) in extra.items():
        try:
            cases[label] = get_figure(name).fn(CFG, style="app", **opts)
        except TypeError:
            pass
    with sync_api.sync_playwright() as p, A.browser(p) as ctx:
        page = ctx.new_page()
        page.set_content("<html><body></body></html>")
        page.add_script_tag(path=str(PLOTLY_JS))
        redrawn, twice = {}, []
        for name, fig in cases.items():
            original = json.loads(pio.to_json(fig, validate=False))
            a_svg, b_svg, second_pass, mutations = page.evaluate(DRAW, [original, _sent(fig)])
            assert _canonical_svg(a_svg) == _canonical_svg(b_svg), name
            redrawn[name] = mutations
            if second_pass:
                twice.append(name)
        page.close()
    # an equal copy (what Streamlit's chart element hands plotly.js twice after drawing) changes nothing
    assert {n: m for n, m in redrawn.items() if m > 4} == {}
    # and the first drawing is the last: every figure leaves room for its axis labels (MARGIN_LEFT, fit_left_margin,
    # labels that do not crowd), so plotly.js never draws it again to widen a margin
    assert twice == []


def _variants():
    """More cases of the class the drawing test guards (template defaults that plotly.js treats differently when
    written into the figure): real presets (scaling, partial rotary, LongRoPE), compared configs, log axes, other
    trace / axis mixes."""
    import inspect

    from rope_viz.presets import get_preset

    out = {}
    presets = ("llama-3.1-8b", "phi-3-mini-128k", "gpt-neox-20b", "qwen2.5-7b-yarn")
    for name, spec in figures().items():
        params = inspect.signature(spec.fn).parameters
        if name.startswith(("model_", "kernel_timing")):
            continue                                   # drawn from measured runs: covered at defaults above
        for p in presets:
            cfg = get_preset(p).config
            opts: dict = {}
            if "compare" in params:
                opts["compare"] = [("llama-2-7b", get_preset("llama-2-7b").config),
                                   ("base 500000", cfg.replace(base=5e5))]
            if "log_x" in params:
                opts["log_x"] = True
            try:
                out[f"{name}@{p}"] = spec.fn(cfg, style="app", **opts)
            except (TypeError, ValueError):
                continue
    out["aliasing_map@linear"] = get_figure("aliasing_map").fn(CFG, style="app", spacing="linear", n_positions=64)
    out["intuition_rotation@6"] = get_figure("intuition_rotation").fn(CFG, style="app", pairs=[0, 3, 7, 12, 20, 31])
    out["ext_score@all"] = get_figure("ext_score").fn(CFG, style="app", methods=None)
    out["kernel_memory@fp32"] = get_figure("kernel_memory").fn(CFG, style="app", dtype="float32")
    return out


@pytest.mark.browser
def test_browser_spec_draws_the_same_svg_at_real_presets_and_options():
    A, sync_api = _chromium_page()
    cases = _variants()
    assert len(cases) >= 60
    with sync_api.sync_playwright() as p, A.browser(p) as ctx:
        page = ctx.new_page()
        page.set_content("<html><body></body></html>")
        page.add_script_tag(path=str(PLOTLY_JS))
        differ, redrawn, twice = [], {}, []
        for name, fig in cases.items():
            a_svg, b_svg, second_pass, mutations = page.evaluate(DRAW, [json.loads(pio.to_json(fig, validate=False)),
                                                                        _sent(fig)])
            if _canonical_svg(a_svg) != _canonical_svg(b_svg):
                differ.append(name)
            redrawn[name] = mutations
            if second_pass:
                twice.append(name)
        page.close()
    assert differ == []
    assert twice == []                                  # one drawing pass each, as at the defaults
    # known exception: plotly.js repaints a zsmooth="fast" heatmap on linear axes (the aliasing map's "linear"
    # spacing) on every Plotly.react even from this spec (with zsmooth=false it does not; the default, log spacing on
    # category axes, does not either): that option still draws its chart more than once per change
    assert {n: m for n, m in redrawn.items() if m > 4} == {"aliasing_map@linear": redrawn["aliasing_map@linear"]}


NEED = """async ([f, l]) => { const d = document.createElement('div'); d.style.width = '900px';
  document.body.appendChild(d); f.layout.margin = Object.assign({}, f.layout.margin, {l: l});
  await Plotly.newPlot(d, f); const need = d._fullLayout._size.l; Plotly.purge(d); d.remove(); return need; }"""


@pytest.mark.browser
def test_widened_left_margins_are_what_plotly_js_needs():
    """Where ``fit_left_margin`` widens the margin (labels known in advance), plotly.js's own measure (the figure
    drawn from the default margin, which it widens until the labels fit) is at most that margin (tested above: one
    drawing pass) and not much less: no band of empty space left of the labels (a first estimate of 0.6 em per
    character left ~130 px of it beside the memory chart's item names)."""
    from rope_viz.figures._style import MARGIN_LEFT, fit_left_margin

    A, sync_api = _chromium_page()
    widened = {}
    for name, fig in {**FIGS, **_variants()}.items():
        f = go.Figure(fig).update_layout(margin_l=MARGIN_LEFT)      # the rule's own width, not a figure's fixed one
        if fit_left_margin(f).layout.margin.l > MARGIN_LEFT:
            widened[name] = f
    assert {"kernel_memory", "aliasing_map@llama-3.1-8b"} <= set(widened)
    with sync_api.sync_playwright() as p, A.browser(p) as ctx:
        page = ctx.new_page()
        page.set_content("<html><body></body></html>")
        page.add_script_tag(path=str(PLOTLY_JS))
        need = {n: page.evaluate(NEED, [_sent(f), MARGIN_LEFT]) for n, f in widened.items()}
        page.close()
    slack = {n: widened[n].layout.margin.l - need[n] for n in widened}
    assert {n: s for n, s in slack.items() if not 0 <= s <= 12} == {}
