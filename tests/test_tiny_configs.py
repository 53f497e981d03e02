"""Figures at the edges of what the sidebar allows — one rotated pair (d = 2), a 16-token context — and captions that
state a trend or a rule: every chart draws what it holds, and every sentence agrees with the figure's own data.

Found by a first-time user's screenshots: at d = 2 the Offset dimensions and Context extension charts were empty
axes (a line through one point draws nothing), the pair axis read −0.4 … 0.4, the rotations chart had no y tick
and no "1 rotation" line, and captions claimed "they only ever see part of the circle" with no such pair, or
"s² − s + 1" for a single pair no base change can move."""

import inspect

import numpy as np
import pytest

from rope_viz.config import RopeConfig
from rope_viz.figures import caption_of, figures, get_figure

TINY = {"d=2 L=16 b=10": RopeConfig(2, base=10.0, context_length=16),
        "d=2 L=4096": RopeConfig(2, context_length=4096),
        "d=4 L=16": RopeConfig(4, base=10.0, context_length=16),
        "d=64 rf=1/32 (one pair)": RopeConfig(64, rotary_fraction=1 / 32, context_length=2048)}


def _tiny_figures():
    for name, spec in figures().items():
        if name.startswith(("kernel_timing", "kernel_invariance", "model_")):
            continue                           # measured on a device / from a model: other tests
        for cname, cfg in TINY.items():
            try:
                yield f"{name}@{cname}", spec.fn(cfg, style="app")
            except (TypeError, ValueError):
                continue


def _points(tr) -> tuple[np.ndarray, np.ndarray]:
    """The finite (x, y) points of a trace, computed here from the raw arrays (not with the library's helper)."""
    y = np.array([np.nan if v is None else v for v in tr.y], dtype=float)
    x = np.arange(y.size, dtype=float) if tr.x is None else np.array([np.nan if v is None else v for v in tr.x],
                                                                       dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok]


def test_no_trace_with_data_draws_nothing():
    """A scatter trace drawn as a line only needs two distinct points; one point (or one spot twice) shows nothing
    unless it has markers. Checked on every registered figure at one-pair and 16-token configs."""
    checked = 0
    for label, fig in _tiny_figures():
        for tr in fig.data:
            if tr.type != "scatter" or tr.y is None or tr.mode is None:
                continue
            try:
                x, y = _points(tr)
            except (TypeError, ValueError):          # category or text axes
                continue
            if not x.size:
                continue
            spots = {(a, b) for a, b in zip(x.tolist(), y.tolist())}
            assert "markers" in tr.mode or len(spots) > 1, (label, tr.name, tr.mode, spots)
            checked += 1
    assert checked > 50


def test_a_one_pair_axis_is_labelled_with_whole_pair_indices():
    """An x axis titled "pair index" over one pair gets integer ticks (plotly.js would label −0.4 … 0.4)."""
    seen = 0
    for label, fig in _tiny_figures():
        for key in fig.layout:
            if not key.startswith("xaxis"):
                continue
            ax = fig.layout[key]
            if not (ax.title.text or "").startswith("pair index") or ax.type == "log":
                continue
            assert ax.dtick == 1 or (ax.tickvals is not None and all(float(t).is_integer() for t in ax.tickvals)), \
                (label, key, ax.dtick, ax.tickvals)
            seen += 1
    assert seen >= 8


def test_every_log_axis_with_data_has_a_labelled_tick():
    """A log axis over a single value (one pair's rotations) still carries a labelled tick."""
    for label, fig in _tiny_figures():
        for key in fig.layout:
            ax = fig.layout[key]
            if key[:5] in ("xaxis", "yaxis") and ax.type == "log" and ax.tickvals is not None:
                assert len(ax.tickvals) >= 1 and len(ax.ticktext) == len(ax.tickvals), (label, key)


@pytest.mark.parametrize("cfg", [*TINY.values(), RopeConfig(128), RopeConfig(128, base=1e9, context_length=16),
                                 RopeConfig(256, base=1e9, context_length=2_097_152)])
def test_rotations_chart_shows_its_one_turn_line_and_says_only_what_its_bars_show(cfg):
    fig = get_figure("freq_rotations").fn(cfg)
    turns = np.concatenate([np.asarray(t.y, dtype=float) for t in fig.data if t.type == "bar" and t.y is not None])
    lo, hi = 10.0 ** np.asarray(fig.layout.yaxis.range, dtype=float)
    assert lo <= min(turns.min(), 1.0) and max(turns.max(), 1.0) <= hi      # every bar and the 1-turn line in view
    partial = int((turns < 1.0).sum())
    cap = caption_of("freq_rotations", fig)
    assert ("part of the circle" in cap) == (partial > 0), cap
    if partial:
        assert f"{partial} of {turns.size} pairs" in cap


def test_dynamic_ntk_caption_states_its_rule_only_where_a_base_change_can_move_a_pair():
    one = get_figure("ext_ratio").fn(RopeConfig(2, base=10.0, context_length=16))
    cap = caption_of("ext_ratio", one)
    assert "s² − s + 1" not in cap and "one rotated pair" in cap
    many = get_figure("ext_ratio").fn(RopeConfig(128))
    dyn = next(t for t in many.data if t.name == "dynamic NTK")
    slowest = 1.0 / float(np.asarray(dyn.y, dtype=float)[-1])              # from the drawn curve
    cap = caption_of("ext_ratio", many)
    assert f"slows the slowest pair {slowest:.3g}×" in cap or f"slows the slowest pair {round(slowest)}×" in cap


def _bench(first_pct: float, last_pct: float, notes=()) -> dict:
    """A benchmark result in its JSON form: RoPE ("ours") at first_pct / last_pct % of attention at S = 128 / 512."""
    sdpa = {128: 1.0, 512: 4.0}
    ours = {128: first_pct / 100 * sdpa[128], 512: last_pct / 100 * sdpa[512]}
    timing = lambda ms: {s: dict(min=v, median=v, p25=v, p75=v, n=5) for s, v in ms.items()}   # noqa: E731
    ms = {"copy": {128: 0.01, 512: 0.04}, "ours": ours, "sdpa": sdpa}
    return dict(device="cpu", device_name="test CPU", dtype="bfloat16", seq_lens=[128, 512], ms=ms,
                timings={m: timing(v) for m, v in ms.items()}, notes=list(notes),
                shape=dict(batch=1, n_q_heads=32, n_kv_heads=8, head_dim=128))


@pytest.mark.parametrize("first,last", [(25.6, 26.9), (40.0, 10.0), (30.0, 30.0)])
def test_kernel_caption_says_what_the_measured_share_did(first, last):
    pytest.importorskip("torch")
    fig = get_figure("kernel_timing").fn(RopeConfig(128), result=_bench(first, last))
    cap = caption_of("kernel_timing", fig)
    shrank = last < first
    assert ("its share shrinks" in cap) == shrank and ("did not shrink" in cap) == (not shrank), cap
    assert "grows as attention grows" not in cap


def test_kernel_labels_say_when_the_eager_fallback_ran():
    pytest.importorskip("torch")
    from rope_viz.figures import kernel as FK

    note = "CPU numbers: 'ours' is the eager torch path (the Triton kernel needs CUDA)"
    for notes, fallback in (([note], True), ([], False)):
        res = _bench(30.0, 20.0, notes)
        names = [t.name for t in get_figure("kernel_timing").fn(RopeConfig(128), result=res).data]
        assert ("rope_viz kernel (eager fallback)" in names) == fallback, names
        rows = FK.timing_table(res)
        assert any(r["method"].endswith("(eager fallback)") for r in rows) == fallback
        assert "(eager fallback)" in caption_of("kernel_timing",
                                                get_figure("kernel_timing").fn(RopeConfig(128), result=res)) \
            or not fallback


def test_tiny_figure_options_exist():
    """The figures exercised above accept a bare config (no option is required): otherwise they were skipped."""
    names = {"freq_rotations", "freq_wavelengths", "offsets_cycles", "ext_ratio", "ext_wavelengths"}
    for n in names:
        params = inspect.signature(get_figure(n).fn).parameters
        assert all(p.default is not inspect.Parameter.empty for k, p in params.items() if k not in ("cfg",)), n


def test_base_advisor_keeps_each_preset_width_in_one_colour_whatever_the_sidebar_says():
    """The advisor colours its curves by head width; a sidebar width that no preset has must not shift the presets'
    colours (d = 128 was green at the default config and yellow at d = 2)."""
    def colours(cfg):
        fig = get_figure("aliasing_advisor").fn(cfg, on_demand=True)
        return {t.name.split(", ", 1)[1].split(":")[0].split(" (")[0]: t.line.color for t in fig.data
                if t.name.startswith("Men et al. minimum base")}
    ref = colours(RopeConfig(128))
    for cfg in TINY.values():
        got = colours(cfg)
        shared = set(ref) & set(got)
        assert len(shared) >= 3 and all(ref[w] == got[w] for w in shared), (cfg.label(), ref, got)


def test_sweep_says_when_its_curves_ignore_the_configs_scaling():
    """The base sweep draws plain RoPE; with a scaled config (Llama 3.1 ×8) its base line says the scaling is not
    applied, and without one it does not."""
    from rope_viz.presets import get_preset

    def line(cfg):
        fig = get_figure("aliasing_base_sweep").fn(cfg)
        return next(t.name for t in fig.data if t.name.startswith("this config's base"))
    assert "scaling is not applied" in line(get_preset("llama-3.1-8b").config.replace(context_length=8192))
    assert "scaling" not in line(RopeConfig(128))


def test_impostor_caption_reads_right_at_the_nearest_distance():
    fig = get_figure("aliasing_impostors").fn(RopeConfig(2, base=10.0, context_length=16))
    cap = caption_of("aliasing_impostors", fig)
    k = fig.layout.meta.get("k")
    if k == 1:
        assert "k = 1 token " in cap and "nearer ones have none" not in cap
    elif k is not None:
        assert f"k = {k:,} tokens" in cap


@pytest.mark.parametrize("cfg,asked", [(RopeConfig(2, base=10.0, context_length=16), 256),
                                       (RopeConfig(128, context_length=64), 128), (RopeConfig(128), 256)])
def test_similarity_map_says_when_it_samples_fewer_positions_than_asked(cfg, asked):
    fig = get_figure("aliasing_map").fn(cfg, n_positions=asked)
    n = len(np.unique(np.asarray(fig.data[0].x)))                       # the positions drawn, counted here
    cap = caption_of("aliasing_map", fig)
    assert (f"Only {n:,} distinct positions" in cap) == (n < asked), cap
    assert f"({n} sampled positions" in fig.layout.title.text


@pytest.mark.parametrize("cfg", [RopeConfig(2, base=10.0, context_length=16), RopeConfig(128),
                                 RopeConfig(128, base=1e9, context_length=2_097_152)])
def test_base_advisor_draws_this_config_inside_its_axes(cfg):
    """"this config" is in the legend, so its marker must be in the plot (a 16-token context sat left of it)."""
    fig = get_figure("aliasing_advisor").fn(cfg)
    own = next(t for t in fig.data if t.name.startswith("this config"))
    x0, x1 = fig.layout.xaxis.range
    y0, y1 = fig.layout.yaxis.range
    assert x0 <= np.log10(own.x[0]) <= x1 and y0 <= np.log10(own.y[0]) <= y1


@pytest.mark.parametrize("L", [16, 4096, 131072])
def test_alibi_minimum_is_shown_as_a_number_or_as_below_float64_never_as_zero(L):
    """ALiBi's normalised signal e^(−m·Δ) is positive at every Δ: its minimum on [0, L] (steepest head, Δ = L) is
    e^(−m_max·L), shown as that number while float64 holds it and as "< 10⁻³⁰⁷" once it underflows — not as 0
    (the table read 0 at L = 4,096 and 3.4×10⁻⁴ at L = 16)."""
    import math

    from rope_viz.figures import encodings as E

    rows = E.comparison_table(RopeConfig(128, context_length=L))
    cell = rows[-1]["min on [0, L]"]
    m_max = 0.5                                             # 8 heads: slopes 2^(−8k/8), k = 1 … 8 (Press et al.)
    true_log10 = -m_max * L / math.log(10)
    if true_log10 < -307:
        assert cell.startswith("< 10⁻³⁰⁷"), cell
    else:
        assert cell != "0" and float(cell.replace("×10", "e").translate(
            str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789"))) == pytest.approx(10 ** true_log10, rel=1e-3)


@pytest.mark.parametrize("cfg", [RopeConfig(2, base=10.0, context_length=16), RopeConfig(128),
                                 RopeConfig(64, rotary_fraction=1 / 32, context_length=2048)])
def test_phase_error_caption_says_exact_exactly_when_its_curves_lie_on_the_floor(cfg):
    """At one pair (θ = 1) every fp32 angle of an integer position is exact: the curves lie on the chart's 10⁻¹²
    floor and the caption says so instead of "drift in proportion to the position: 0 rad …"."""
    fig = get_figure("kernel_phase_error").fn(cfg)
    cap = caption_of("kernel_phase_error", fig)
    for tr in fig.data:
        on_floor = bool(np.all(np.asarray(tr.y, dtype=float) <= 1e-12))
        short = tr.name.split(" (")[0]                      # "inv_freq fp32", "inv_freq fp16", "inv_freq bf16"
        assert (short in cap.split("Exact at every position for ")[-1].split(" (drawn")[0]) == on_floor \
            or "Exact at every position" not in cap and not on_floor, (tr.name, cap)
    fp32 = next(t for t in fig.data if t.name.startswith("inv_freq fp32"))
    assert ("drift from float64" in cap) == bool(np.any(np.asarray(fp32.y, dtype=float) > 1e-12))


@pytest.mark.parametrize("cfg", [RopeConfig(128, context_length=2), RopeConfig(2, context_length=2),
                                 RopeConfig(64, context_length=15)], ids=["d128 L2", "d2 L2", "d64 L15"])
def test_a_figure_refusing_a_config_names_the_config_field(cfg):
    """At L = 2 the base advisor said "target_context must be an integer in [16, …], got 2" — an option nobody had
    passed. A figure drawn with its default options that refuses the config names the config's field."""
    from dataclasses import fields
    names = tuple(f.name for f in fields(RopeConfig))
    for name, spec in figures().items():
        if name.startswith(("kernel_timing", "kernel_invariance", "model_")):
            continue
        try:
            spec.fn(cfg, style="app")
        except ValueError as e:
            assert str(e).startswith(names), f"{name}: {e}"
