"""Every page at extreme sidebar configs, and every page control kept in the URL (``ui.persist``) at the ends of its
range, through the app (AppTest): never an exception, never an error box, no NaN or ∞ in the text.

The controls are found by running each page once and recording its ``persist`` calls, so a control added later is
covered without being listed here. Found this way (all fixed): Offset dimensions and Context extension at
L = 2^24 showed "factor × original context must be ≤ 16777216 tokens" (every factor passed the longest context), the
Encodings table measured Δ ≤ 2L past the longest distance, Aliasing's two positions accepted positions a LongRoPE
config cannot reach ("context_length / original_max_position_embeddings = 4096 exceeds 1024" for Phi-3)."""

from __future__ import annotations

import re

import pytest
from page_tools import ROOT, section_param
from streamlit.testing.v1 import AppTest

from rope_viz import ui
from rope_viz.config import CONTEXT_MAX
from rope_viz.ui.pages import available_pages

PAGES = [p.path for p in available_pages()]
EXTREMES = {
    "default": {},
    "d2": {"d": "2"},
    "d1024": {"d": "1024"},
    "one-pair-partial": {"d": "8", "rf": "0.25"},
    "L2": {"L": "2"},
    "Lmax": {"L": str(CONTEXT_MAX)},
    "base-low": {"b": "1.01"},
    "base-high": {"b": "1e12"},
    "longrope-preset": {"preset": "phi-3-mini-128k"},
    "yarn-1024-Lmax": {"s": "yarn", "f": "1024", "L": str(CONTEXT_MAX)},
    # the largest magnitudes a config takes (attention_factor / mscale 1e300 gave a traceback, LongRoPE factors
    # 1e-300 "∞ rad" and "nan×" on the Kernel page: now bounded in RopeConfig)
    "attention-factor-max": {"s": "yarn", "f": "1024", "af": "100"},
    "mscale-max": {"s": "yarn", "f": "1024", "ms": "100", "msa": "0"},
    "longrope-factor-ends": {"s": "longrope", "d": "8", "sh": "0.001,0.001,0.001,0.001",
                             "lo": "1024,1024,1024,1024", "oc": "1024", "L": "4096"},
}
# Python's exponent notation (8.19e+03, 1e-09, 1.2e-05); the app's bases ≥ 10⁶ (1e6 … 1e12, as configs write
# rope_theta) have neither a sign nor a leading zero in the exponent
_PYTHON_EXPONENT = r"\d(?:\.\d+)?e[+-]\d+|\d(?:\.\d+)?e-?0\d"
# the configs each control's ends are tried with (cycled over the controls: one config per case keeps CI short)
END_CONFIGS = ["default", "d2", "one-pair-partial", "L2", "longrope-preset", "base-high"]


def _run(page: str, query: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params.update(query)
    at.run() if page == "app.py" else at.switch_page(page).run()
    return at


def _sections(page: str, query: dict) -> list[tuple[dict, AppTest]]:
    """The page with ``query``, once per section tab (``ui.sections``: only the open one runs) unless the query
    names one: [(query used, the run)]."""
    at = _run(page, query)
    labels, name = [t.label for t in at.tabs], section_param(at)
    if not labels or name in query:
        return [(query, at)]
    out = [(query, at)]
    for lab in labels[1:]:
        q = {**query, name: lab}
        out.append((q, _run(page, q)))
    return out


def _clean(at: AppTest, page: str, query: dict) -> None:
    assert not at.exception, (page, query, [e.value for e in at.exception])
    assert not at.error, (page, query, [e.value for e in at.error])
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [str(m.value) for m in at.metric]
    texts += [i.value for i in at.info] + [w.value for w in at.warning]
    for t in at.table:
        texts += [str(v) for v in t.value.to_numpy().ravel()] + [str(c) for c in t.value.columns]
    for t in at.dataframe:
        texts += [str(v) for v in t.value.to_numpy().ravel()]
    assert not [t for t in texts if re.search(r"\bnan\b|\binf\b|∞", t, re.I)], (page, query)
    # one notation: no Python exponents (8.19e+03, 1.2e-05) in text meant for readers (bases ≥ 10⁶ excepted: the
    # app writes rope_theta as configs do, 1e6 … 1e12, without a sign or leading zero in the exponent)
    odd = [m.group(0) for t in texts for m in re.finditer(_PYTHON_EXPONENT, t)]
    assert not odd, (page, query, odd)


@pytest.mark.parametrize("name", list(EXTREMES))
@pytest.mark.parametrize("page", PAGES)
def test_every_page_at_extreme_configs(page, name):
    for query, at in _sections(page, EXTREMES[name]):
        _clean(at, page, query)


def _recorded_controls(page: str) -> dict:
    """{name: (default, persist's keyword arguments, the query that opens its section)} for every page control,
    in every section (a control in a section tab exists only while that tab is open)."""
    calls: dict = {}
    real = ui.persist
    section: dict = {}

    def recording(name, default, **kw):
        calls.setdefault(name, (default, kw, dict(section)))
        return real(name, default, **kw)

    ui.persist = recording
    try:
        at = _run(page, {})
        _clean(at, page, {})
        for label in [t.label for t in at.tabs][1:]:
            section[section_param(at)] = label
            _clean(_run(page, dict(section)), page, dict(section))
    finally:
        ui.persist = real
    return calls


def _ends(default, kw: dict) -> list[str]:
    """URL texts at the ends of a control's range (and the whole / an empty list for multiselects)."""
    opts, lo, hi = kw.get("options"), kw.get("lo"), kw.get("hi")
    if isinstance(default, bool):
        return ["true", "false"]
    if isinstance(default, (list, tuple)):
        n = kw.get("max_items") or len(opts or [])
        return ["", ",".join(map(str, (opts or [])[:n])), ",".join(map(str, (opts or [])[-n:]))]
    if opts:
        return [str(opts[0]), str(opts[-1])]
    return [str(v) for v in (lo, hi) if v is not None]


@pytest.mark.parametrize("page", PAGES)
def test_every_url_control_at_the_ends_of_its_range(page):
    controls = _recorded_controls(page)
    assert controls, f"{page}: no control recorded (persist not called?)"
    i = 0
    for name, (default, kw, section) in controls.items():
        for text in _ends(default, kw):
            config = EXTREMES[END_CONFIGS[i % len(END_CONFIGS)]]
            i += 1
            query = {**config, **section, name: text}
            _clean(_run(page, query), page, query)
    # all controls at their upper / lower ends together, at the largest context (in every section)
    for end in (0, -1):
        query = {"L": str(CONTEXT_MAX)}
        for name, (default, kw, _) in controls.items():
            if kw.get("options") and not isinstance(default, (list, tuple, bool)):
                query[name] = str(kw["options"][end])
            elif kw.get("lo") is not None and kw.get("hi") is not None and not isinstance(default, bool):
                query[name] = str((kw["lo"], kw["hi"])[end])
        for q, at in _sections(page, query):
            _clean(at, page, q)


# -- the same notation inside the charts: titles, axis titles, tick labels, legend names, annotations --------------
_FIG_CONFIGS = {
    "d2": dict(head_dim=2), "d1024-Lmax": dict(head_dim=1024, context_length=CONTEXT_MAX),
    "base-high": dict(head_dim=128, base=1e12), "base-low": dict(head_dim=128, base=1.01),
    "dynamic-1024": dict(head_dim=128, scaling={"rope_type": "dynamic", "factor": 1024.0}),
    "longrope-ends": dict(head_dim=8, context_length=4096, scaling={
        "rope_type": "longrope", "short_factor": [0.001] * 4, "long_factor": [1024.0] * 4,
        "original_max_position_embeddings": 1024}),
}
_SKIP_KEYS = {"hovertemplate", "x", "y", "z", "customdata", "r", "theta", "tickvals", "meta", "template"}


def _chart_texts(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k not in _SKIP_KEYS and "color" not in k:
                yield from _chart_texts(v, f"{path}.{k}")
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _chart_texts(v, path)
    elif isinstance(obj, str) and not obj.startswith("#"):
        yield path, obj


@pytest.mark.parametrize("cfg_name", list(_FIG_CONFIGS))
def test_chart_text_in_the_app_notation_at_extreme_configs(cfg_name):
    """Every figure's visible text and caption (not its hover templates: plotly formats those) at extreme configs:
    no Python exponent, NaN or ∞ (``extension``'s 'slowed by 1.05e+06×' at s = 1024 was such a caption)."""
    from rope_viz.config import RopeConfig
    from rope_viz.figures import figures
    cfg = RopeConfig(**_FIG_CONFIGS[cfg_name])
    pattern = re.compile(_PYTHON_EXPONENT + r"|\bnan\b|\binf\b", re.I)
    checked = 0
    for name, spec in figures().items():
        if name.startswith(("model", "kernel_bench")):          # they draw measured results, not a config
            continue
        try:
            fig = spec.fn(cfg, style="app")
        except ValueError:                                    # a figure that refuses this config says so
            continue
        checked += 1
        found = [(p, t) for p, t in _chart_texts(fig.to_plotly_json()) if pattern.search(t)]
        caption = spec.caption_for(fig)
        assert not found and not pattern.search(caption), (name, found[:3], caption)
    assert checked >= 20
