"""Aliasing page and figures: the base advisor classifies every model by its own frequencies over its own context
and draws it against the bound for its own head width (issue 9 item 3), no infinite values (item 4), a "nearest
impostor" view that depends on something (item 10), no internal references (item 12), readable labels (issue 12)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from page_tools import arr, charts_by_title as charts, open_page, open_sections, page_text

from naive import naive_similarity_sum, naive_theta
from rope_viz.analysis.bounds import BOUND_CONTEXTS, base_bound_curve, men_condition
from rope_viz.config import RopeConfig, format_base
from rope_viz.analysis import aliasing as A
from rope_viz.figures import aliasing as FA
from rope_viz.figures import caption_of
from rope_viz.presets import PRESETS

PAGE = "pages/3_Aliasing.py"


@pytest.fixture(scope="module")
def advisor():
    return FA.advisor_figure(RopeConfig(128, context_length=4096))


def _points(fig) -> dict[str, dict]:
    """Preset name → (x, y, marker colour, filled) from the advisor's two model traces."""
    out = {}
    for t in fig.data:
        if not (t.name or "").startswith("model:") or t.x == (None,):     # the grey legend keys
            continue
        for i, text in enumerate(t.hovertext):
            for name in text.split("<br>"):
                out[name] = dict(x=t.x[i], y=t.y[i], colour=t.marker.color[i], filled=t.marker.symbol == "circle")
    return out


def test_every_model_is_classified_by_its_own_condition(advisor):
    pts = _points(advisor)
    assert set(pts) == set(PRESETS)
    for name, p in PRESETS.items():
        c = p.config
        assert (pts[name]["x"], pts[name]["y"]) == (c.context_length, c.base)
        assert pts[name]["filled"] == men_condition(c)["holds"], name
    # base 1e6 over 32K: B_m < 0 at m = 27,115 although above the 32K bound — the old caption said "above = meets"
    for name in ("mistral-7b-v0.2", "mixtral-8x7b", "qwen2.5-7b"):
        assert men_condition(PRESETS[name].config)["first_negative"] == 27_115 and not pts[name]["filled"]
        assert name in advisor.layout.meta["above_but_fail"]
    cap = caption_of("aliasing_advisor", advisor)
    assert "mistral-7b-v0.2" in cap and "not enough" in cap
    theta = naive_theta(1e6, 128)                                       # the witness, by the naive float64 sum
    assert naive_similarity_sum(theta, 27_115) < 0 <= min(naive_similarity_sum(theta, m) for m in range(27_115))


def test_models_are_drawn_against_their_own_width(advisor):
    curves = {t.name: t for t in advisor.data if t.name.startswith("Men et al. minimum base")}
    by_colour = {t.line.color: t for t in curves.values()}
    pts = _points(advisor)
    for name, p in PRESETS.items():
        c = p.config
        curve = by_colour[pts[name]["colour"]]
        label = f"d = {c.head_dim}" if c.rotary_dim == c.head_dim else f"d = {c.head_dim}, r = {c.rotary_dim} rotated"
        assert curve.name.split("base, ")[1].startswith(label), (name, curve.name)   # old: the sidebar's d
    neox = curves["Men et al. minimum base, d = 96, r = 24 rotated: every base (r ≤ d/2)"]
    assert neox.y == (None,)                        # the unrotated pairs keep B ≥ 0 at every base: nothing to draw
    assert base_bound_curve(96, (1024, 2_097_152), rotary_dim=24)["every_base"]
    full = curves["Men et al. minimum base, d = 128"]
    assert full.x[-1] == 2_097_152                                      # old: stopped at 16,384


def test_bound_table_equals_the_library(advisor):
    """The precomputed curves (scripts/gen_bound_table.py) are base_bound_curve's values (checked up to 16K here:
    the sweep gives the same value for a context whatever longer contexts it also covers)."""
    short = tuple(c for c in BOUND_CONTEXTS if c <= 16384)
    table = FA._bound_table()
    assert {(p.config.head_dim, p.config.rotary_dim) for p in PRESETS.values()} <= set(table)
    for (d, r), (ctx, bases) in table.items():
        ref = base_bound_curve(d, short, rotary_dim=r)["base"]
        np.testing.assert_array_equal(bases[: len(short)], ref)
        assert list(ctx) == list(BOUND_CONTEXTS)


def test_labels_do_not_collide_and_this_config_hides_nothing(advisor):
    traces = [t for t in advisor.data if (t.name or "").startswith("model:") and t.x != (None,)]
    xr, yr = advisor.layout.xaxis.range, advisor.layout.yaxis.range
    boxes, shown = [], set()
    for t in traces:
        for x, y, text, pos in zip(t.x, t.y, t.text, t.textposition):
            if not text:                                                # a ring around a labelled marker
                continue
            fx = (math.log10(x) - xr[0]) / (xr[1] - xr[0])
            fy = (math.log10(y) - yr[0]) / (yr[1] - yr[0])
            boxes.append((*FA.label_box(fx, fy, text, pos), text))
            shown |= set(text.split("<br>")) - {""}                # "": padding clear of the diamond
            assert 0 <= fx <= 1 and 0 <= fy <= 1
    assert shown == set(PRESETS)                                        # every model is named once
    overlaps = [(a[4], b[4]) for i, a in enumerate(boxes) for b in boxes[i + 1:] if FA._overlap(a[:4], b[:4]) > 0]
    assert overlaps == []
    names = [t.name for t in advisor.data]
    me = [i for i, n in enumerate(names) if n.startswith("this config")][0]
    assert advisor.data[me].marker.symbol == "diamond-open"
    assert all(me < i for i, n in enumerate(names) if n.startswith("model:"))   # drawn underneath the models


def test_no_infinite_values_when_no_base_satisfies_the_bound():
    """d = 2: one pair with θ = 1 whatever the base, so B_2 = cos 2 < 0 and no base works (old: x = inf)."""
    cfg = RopeConfig(2, context_length=4096)
    sweep = FA.base_sweep_figure(cfg)
    for t in sweep.data:
        x = np.asarray([v for v in t.x if v is not None], dtype=np.float64)
        assert np.all(np.isfinite(x))
    assert any("no base ≤ 1e12" in t.name for t in sweep.data)
    adv = FA.advisor_figure(cfg)
    for t in adv.data:
        assert np.all(np.isfinite(np.asarray([v for v in t.y if v is not None], dtype=np.float64)))
    assert any("d = 2: no base ≤ 1e12" in t.name for t in adv.data)


@pytest.mark.parametrize("base,L", [(1e4, 2048), (200.0, 3000), (1e7, 1500)])
def test_farthest_lookalike_is_the_brute_force_answer(base, L):
    """The redesigned "nearest impostor" view: F(k) = the farthest Δ < L with sim(Δ) ≥ sim(k), checked by brute
    force; it varies with k (the old right panel was flat: sim depends only on Δ)."""
    cfg = RopeConfig(64, base=base, context_length=L)
    theta = naive_theta(base, 64)
    sim = np.array([naive_similarity_sum(theta, m) for m in range(L)]) / 32     # (L,) sim(Δ), naive float64
    prof, far = A.farthest_lookalikes(cfg)
    np.testing.assert_allclose(prof, sim[1:], atol=1e-10)
    ref = np.array([np.flatnonzero(prof >= prof[k - 1]).max() + 1 for k in range(1, L)])   # brute force, O(L²)
    assert np.array_equal(far, ref)
    fig = FA.impostor_figure(cfg)
    k = fig.layout.meta["k"]
    first = next((k for k in range(1, L) if ref[k - 1] >= FA.AMBIGUITY_RATIO * k), None)
    assert k == first
    if k is not None:
        assert f"a look-alike at least {FA.AMBIGUITY_RATIO}× farther is k = {k:,} tokens" in \
            caption_of("aliasing_impostors", fig)
    right = [t for t in fig.data if t.name == "farthest look-alike F(k)"][0]
    assert np.ptp(arr(right.y)) > 0
    peak = fig.layout.meta["peak"]                                      # a true rebound: farther AND more similar
    if peak is not None:
        D, rebound, trough = peak
        assert trough < D and sim[D] - sim[trough] == pytest.approx(rebound, abs=1e-9) and rebound > 0
        assert f"Δ = {D:,}, is {rebound:.2f} more similar than the nearer Δ = {trough:,}" in \
            caption_of("aliasing_impostors", fig)


@pytest.mark.parametrize("params,sweep,train,target", [
    ({}, 4096, 4096, 4096),
    ({"preset": "llama-3.1-8b"}, 131072, 8192, 131072),
    ({"d": "256", "L": "2097152", "b": "1000000000"}, 1 << 18, 2097152, 2097152)])
def test_context_defaults_follow_the_sidebar_config(params, sweep, train, target):
    """The sweep's context, Liu et al.'s pre-training length and the advisor's target come from the sidebar's context
    and original context (they stayed 4,096 / 4,096 / 16,384 for every preset); the sweep's default is clamped."""
    at = open_page(PAGE, {**params, "tab": "Aliasing vs base"})
    adv = open_page(PAGE, {**params, "tab": "Base advisor"})
    cfg_ctx = int(params.get("L", 0)) or None
    vals = {s.label.split(" (")[0]: s.value for a in (at, adv) for s in a.select_slider}
    assert vals["Context length for the sweep"] == sweep
    assert vals["Pre-training length for Liu et al.'s T_extra"] == train
    assert vals["Target context"] == target and vals["Pre-training length"] == train
    title = [t for t in charts(at) if t.startswith("Aliasing vs base")][0]
    assert title.startswith(f"Aliasing vs base at context L = {sweep:,}")
    assert cfg_ctx in (None, target)
    if "preset" in params:           # d = 128 at 131,072: Men et al.'s bound is stored, the advice is shown at once
        assert adv.success and "e+" not in adv.success[0].value


def test_context_defaults_follow_a_preset_switch():
    """Moving from the default config to Llama 3.1 in one session: the untouched context widgets follow."""
    vals = {}
    for tab in ("Aliasing vs base", "Base advisor"):
        at = open_page(PAGE, {"tab": tab})
        at.sidebar.selectbox[0].set_value("llama-3.1-8b").run()
        assert not at.exception
        vals.update({s.label.split(" (")[0]: s.value for s in at.select_slider})
    assert vals["Context length for the sweep"] == 131072 and vals["Target context"] == 131072


def test_sweep_legend_and_caption_say_what_is_drawn():
    """Legend: "this config's base: 500000" (was "this config's base (500000): 5e+05"), no e+ notation; the caption
    names vertical lines, which is what the bounds are (it said "markers")."""
    fig = FA.base_sweep_figure(RopeConfig(128, base=5e5, context_length=4096), train_length=1024)
    names = [t.name for t in fig.data]
    assert "this config's base: 500000" in names
    assert not any("e+" in n for n in names), names
    men = [n for n in names if n.startswith("Men et al.")][0]
    shown = float(men.rsplit(": ", 1)[1])                    # a lower bound, not rounded past itself (was 27000)
    exact = FA.men_bound(128, 4096)
    assert exact <= shown <= exact * (1 + 1e-4)              # rounded up: the base shown satisfies the bound
    marks = [t for t in fig.data if t.name.startswith(("Men et al.", "Liu et al.", "this config"))]
    assert len(marks) == 3 and all(t.mode == "lines" and t.x[0] == t.x[1] for t in marks)
    cap = caption_of("aliasing_base_sweep", fig)
    assert "marker" not in cap and "Vertical lines" in cap


@pytest.mark.parametrize("cfg,kw", [
    (RopeConfig(128, base=5e5, context_length=4096), {"train_length": 1024}),          # Men, Liu and the base
    (RopeConfig(128, base=1e4, context_length=4096), {}),                              # no Liu: L = training length
    (RopeConfig(256, base=1e9, context_length=2097152), {"context_length": 262144}),   # Men on request only
    (RopeConfig(64, base=10.0, context_length=65536), {"train_length": 4096}),        # a bound beyond 1e12?
])
def test_sweep_caption_names_exactly_the_lines_drawn(cfg, kw):
    """The caption's "Vertical lines: …" list is the set of vertical-line traces actually drawn (at the extreme
    settings it promised Men et al.'s and Liu et al.'s lines while only the config's base was drawn), and it says
    when the sweep's L is not the config's."""
    fig = FA.base_sweep_figure(cfg, **kw)
    cap = caption_of("aliasing_base_sweep", fig)
    lines = {t.name.rsplit(": ", 1)[0] for t in fig.data if t.mode == "lines" and t.x is not None and len(t.x) == 2
             and t.x[0] == t.x[1] and t.x[0] is not None}
    seg = cap.split("Vertical lines: ")[1]
    for nxt in (". Not drawn", ". Men et al.'s bound for", ". The sweep runs"):
        seg = seg.split(nxt)[0]
    listed = set(seg.rstrip(".").split("; "))
    assert listed == lines and "this config's base" in lines
    L = kw.get("context_length", cfg.context_length)
    assert (f"not the config's {cfg.context_length:,}" in cap) == (L != cfg.context_length)
    if not any(n.startswith("Men et al.") for n in lines):
        assert "computed on request" in cap or "Not drawn" in cap


def test_similarity_map_has_no_stray_legend_entry():
    """A heatmap's colour bar is its legend: no "sim(m, n)" legend entry beside it."""
    fig = FA.similarity_map_figure(RopeConfig(64, context_length=2048), n_positions=64)
    assert [t.type for t in fig.data] == ["heatmap"] and fig.data[0].showlegend is False
    assert fig.data[0].colorbar.title.text == "similarity"


def test_the_config_diamond_leaves_a_coinciding_label_readable():
    """At llama-3.1-8b the "this config" diamond (size 18) sat on the label "llama-3.1-8b" of the model at the same
    point: that label is padded on the marker's side."""
    cfg = PRESETS["llama-3.1-8b"].config
    fig = FA.advisor_figure(cfg, target_context=4096)
    hit = [(text, pos) for t in fig.data if (t.name or "").startswith("model:") and t.x != (None,)
           for x, y, text, pos in zip(t.x, t.y, t.text, t.textposition)
           if text and (x, y) == (cfg.context_length, cfg.base)]
    assert len(hit) == 1 and "llama-3.1-8b" in hit[0][0]
    text, pos = hit[0]
    side = pos.split()
    assert (text.startswith("<br>") if side[0] == "bottom" else text.endswith("<br>") if side[0] == "top"
            else text.startswith("   ") if side[1] == "right" else text.endswith("   "))


def test_page_text_names_no_internal_material():
    for page in (PAGE, "pages/4_Offset_dimensions.py", "pages/5_Context_extension.py", "pages/7_Kernel.py"):
        text = " ".join(page_text(at) for at in open_sections(page).values()).lower()
        for word in ("seed", "environment.md", "rope-literature", "§"):
            assert word not in text, (page, word)


def test_example_toggle_is_in_the_url():
    at = open_page(PAGE, {"aex": "true", "tab": "Two positions"})
    base = FA.example_base(128)
    assert f"base {format_base(base)}" in page_text(at) and "e+" not in page_text(at)
    ex_cfg = RopeConfig(128, base=base, context_length=10_001)
    from rope_viz.analysis.aliasing import lookalike_example
    ex = lookalike_example(ex_cfg, 100, 10_000)
    assert float(at.metric[0].value.replace("−", "-")) == pytest.approx(ex["similarity"], abs=5e-4)
    assert "aliasing" in page_text(at)
    assert charts(at)["Positions 100 and 10,000: per-pair agreement"]



@pytest.mark.parametrize("query", [{}, {"preset": "phi-3-mini-128k"}, {"preset": "llama-3.1-8b"}],
                         ids=["default", "longrope-no-factor", "llama3"])
def test_two_positions_accept_their_largest_value(query):
    """Positions m, n went up to 2^24, but the pair is measured over max(m, n) + 1 tokens and a context holds at most
    2^24: the largest value the inputs (and ?ann=16777216) allowed gave "context_length must be an integer in [2,
    16777216]; got 16777217" instead of the metrics and the chart. Phi-3 (LongRoPE, its factor implied by context /
    original ≤ 1024) accepts at most 4,194,304 tokens: ?ann=16777215 gave "context_length / original_max_position_
    embeddings = 4096 exceeds 1024". The inputs stop at the config's own largest context."""
    from rope_viz.config import CONTEXT_MAX
    from rope_viz.presets import get_preset
    top = get_preset(query["preset"]).config.max_context_length if query else CONTEXT_MAX
    at = open_page(PAGE, {**query, "am": "0", "ann": str(CONTEXT_MAX), "tab": "Two positions"})
    assert not at.error, [e.value for e in at.error]
    n = [w for w in at.number_input if w.label == "Position n (tokens)"][0]
    assert n.value == top - 1 and n.max == top - 1
    assert f"sim(0, {top - 1:,})" in [m.label for m in at.metric]


# -- Men et al.'s printed table beside the exact computation (issue 9 item 11) ---------------------------------------
def test_men_table_beside_the_exact_computation():
    """The printed values, the certified b* (stored values re-derived here up to 64K; the longer ones take minutes:
    test_men_table_stored_exact_long), and the caption's ratios read from the drawn data."""
    from rope_viz.analysis.bounds import MEN_TABLE_PRINTED, base_lower_bound, min_similarity
    fig = FA.men_table_figure(RopeConfig(128))
    t = FA.men_table_data()
    exact = [tr for tr in fig.data if tr.name.startswith("exact b*")][0]
    assert list(exact.x) == [1 << k for k in range(10, 21)] and np.all(np.isfinite(exact.y))
    for L, b in zip(exact.x, exact.y):
        if L <= 65536:
            assert b == pytest.approx(base_lower_bound(128, L), rel=1e-12)
    printed = {int(x): y for tr in fig.data if tr.name.startswith("printed") for x, y in zip(tr.x, tr.y)}
    assert [printed[L] for L in exact.x] == list(MEN_TABLE_PRINTED)
    broken = [int(x) for tr in fig.data if "breaks" in tr.name for x in tr.x]
    assert broken == [L for L, b in printed.items() if min_similarity(128, b, L)[0] < 0]
    r = np.array([printed[L] for L in exact.x]) / np.asarray(exact.y)
    cap = caption_of("aliasing_men_table", fig)
    assert f"from 131,072 on {r[7:].min():.2g}× to {r[7:].max():.2g}×" in cap and r[7:].max() > 5   # 1M: 7.8×
    assert "not form an interval" in cap and t["printed_holds"].sum() == len(exact.x) - len(broken)


def test_advisor_and_sweep_use_the_stored_bound_and_agree_with_the_search():
    """men_bound reads the shipped b* (head dim 128) instead of re-searching; the advice is what the full computation
    gives, and a head dim that is not stored is still computed."""
    from rope_viz.analysis.aliasing import base_advisor
    from rope_viz.analysis.bounds import base_lower_bound
    for L in (4096, 16384):
        assert (128, L) in FA._stored_men_exact()
        assert FA.men_bound(128, L) == pytest.approx(base_lower_bound(128, L), rel=1e-12)
        full = base_advisor(128, L, train_length=2048)
        assert FA.advice(RopeConfig(128), L, 2048) == {**full, "notes": list(full["notes"])}
    assert (64, 4096) not in FA._stored_men_exact()
    assert FA.men_bound(64, 4096) == base_lower_bound(64, 4096)


@pytest.mark.slow
def test_men_table_stored_exact_long():
    from rope_viz.analysis.bounds import base_lower_bound
    t = FA.men_table_data()
    for L, b in zip(t["context"], t["exact"]):
        if L > 65536:
            assert b == pytest.approx(base_lower_bound(128, int(L)), rel=1e-12)


def test_two_positions_past_a_dynamic_context_keep_the_models_scaling():
    """?s=dynamic&f=4 (a 4,096-token model): position 10,000 was measured by widening the context with the training
    length moving along, so dynamic NTK never scaled and the numbers were plain RoPE's (sim −0.144, Δ′ 4,118). The
    same model at seq_len 10,001 uses base b·(s·10001/4096 − (s − 1))^(r/(r − 2)) (transformers' dynamic NTK),
    recomputed here."""
    at = open_page(PAGE, {"tab": "Two positions", "s": "dynamic", "f": "4"})
    d, L0, s, seq = 128, 4096, 4.0, 10_001
    base = 1e4 * ((s * seq / L0) - (s - 1)) ** (d / (d - 2))
    sim = float(np.mean(np.cos(9_900 * np.array(naive_theta(base, d)))))
    assert float(at.metric[0].value.replace("−", "-")) == pytest.approx(sim, abs=5e-4)
    text = page_text(at)
    assert "its training length stays 4,096" in text


@pytest.mark.parametrize("m, n, want", [(5, 5, "are the same position (5)"), (5, 6, "are neighbours (1 token apart)"),
                                        (5, 7, "is 2 tokens from")])
def test_two_positions_sentence_at_distance_0_1_2(m, n, want):
    """Distance 0 read "is 0 tokens from 5, yet it looks as similar as a position only 0 tokens away; 0 of the 0
    nearer distances …", distance 1 "is 1 tokens from"."""
    at = open_page(PAGE, {"tab": "Two positions", "am": str(m), "ann": str(n)})
    text = page_text(at)
    assert want in text and "1 tokens" not in text and "0 of the 0" not in text, text
    assert (at.metric[2].value == "—") == (m == n)                         # no Δ′ for the same position


@pytest.mark.parametrize("d, L", [(128, 4096), (128, 16384), (64, 8192)])
def test_advisor_notes_state_minimum_bases_that_satisfy_themselves(d, L):
    """"needs base ≥ 26950" (exact 26,952.4: B_Δ at 26950 dips to −0.033), "≥ 3360" for 3,360.37: every minimum
    base in the notes is at least the exact value, and Men et al.'s keeps B_Δ ≥ 0 below L (summed here)."""
    notes = FA.advice(RopeConfig(d, context_length=L))["notes"]
    men = float(next(n for n in notes if n.startswith("Men et al.")).rsplit("≥ ", 1)[1])
    clock = float(next(n for n in notes if n.startswith("aliasing (ours)")).rsplit("≥ ", 1)[1])
    assert men >= FA.men_bound(d, L) and clock >= A.coarse_clock_base(d, L)
    th = np.array(naive_theta(men, d))                                # B_Δ = Σ_i cos(Δθ_i) at every Δ < L
    assert min(np.cos(np.arange(i, min(i + 4096, L))[:, None] * th).sum(axis=1).min()
               for i in range(0, L, 4096)) >= -1e-9


def test_advisor_with_a_single_pair_says_once_that_no_base_works():
    """d = 2: θ = 1 whatever the base, so B_Δ = cos Δ < 0 at Δ = 2. The notes said so and then listed 36 bases
    "2 rejected … 1e12 rejected" and "no 1-2-5 base ≤ 1e12 above 2 satisfies"."""
    adv = A.base_advisor(2, 16)
    assert adv["recommended"] is None and not any("rejected" in n or "above 2" in n for n in adv["notes"])
    assert any("no base" in n for n in adv["notes"])
    assert math.cos(2.0) < 0                                          # the claim, checked
    at = open_page(PAGE, {"tab": "Base advisor", "d": "2", "L": "16"})
    assert not at.exception and "rejected" not in page_text(at)
