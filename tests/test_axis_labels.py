"""Log-axis tick labels and numbers in titles: one readable notation per axis (no "1e+6, 10000, 0.01" mixes, no bare
minor digits, no Python e+07), each label parsed back to its tick value independently of the formatter."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rope_viz.config import RopeConfig
from rope_viz.figures._style import format_number, log_ticks

_SUP = {c: str(i) for i, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")} | {"⁻": "-"}


def parse(label: str) -> tuple[float, str]:
    """A tick or title number back to (value, notation): "plain" (0.01, 20, 54,410, 1k, 2M) or "pow10" (10⁹, 2×10⁻⁵)."""
    sign = {"−": -1.0, "+": 1.0}.get(label[:1])
    if sign is not None:
        value, notation = parse(label[1:])
        return sign * value, notation
    m = re.fullmatch(r"([\d.]+×)?10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)", label)
    if m:
        mant = float(m.group(1)[:-1]) if m.group(1) else 1.0
        return mant * 10.0 ** int("".join(_SUP[c] for c in m.group(2))), "pow10"
    m = re.fullmatch(r"([\d,.]+)([kM]?)", label)
    assert m, f"unreadable label {label!r}"
    return float(m.group(1).replace(",", "")) * {"": 1, "k": 1e3, "M": 1e6}[m.group(2)], "plain"


def check_axis(ax) -> list[float]:
    """Every tick labelled with its own value, one notation on the axis; returns the tick values."""
    assert ax.type == "log" and ax.tickvals is not None, "log axis without explicit ticks"
    parsed = [parse(t) for t in ax.ticktext]
    assert len({n for _, n in parsed}) == 1, f"mixed notations: {list(ax.ticktext)}"
    for (v, _), t in zip(parsed, ax.tickvals):
        assert v == pytest.approx(t, rel=1e-9)
    return list(ax.tickvals)


@pytest.mark.parametrize("lo,hi", [(0.01, 1e6), (6, 6e4), (1e-16, 1), (1e-5, 1e-3), (1, 512), (0.5, 1.6e7),
                                   (3, 4), (3e-4, 5e9), (1e-9, 1)])
def test_log_ticks_cover_the_range_in_one_notation(lo, hi):
    ax = type("Ax", (), {"type": "log", **log_ticks([lo, hi])})
    ticks = check_axis(ax)
    inside = [t for t in ticks if lo / 1.001 <= t <= hi * 1.001]
    assert 1 <= len(ticks) <= 11 and len(ticks) - len(inside) <= 2 and ticks == sorted(ticks)
    if len(inside) < len(ticks):                        # a tick past a data end comes with a range that shows it
        a, b = 10.0 ** np.asarray(ax.range)
        assert a <= min(lo, ticks[0]) and max(hi, ticks[-1]) <= b


@given(st.floats(1e-12, 1e9), st.floats(1.3, 9.0))
@settings(max_examples=200, deadline=None)
def test_a_narrow_log_range_still_gets_several_labelled_ticks(lo, ratio):
    """Within a factor 1.3 … 9 (the Real model page's perplexity 12 … 30 had the single tick "20"): at least two
    ticks, three from a factor 3 on, each labelled with its own value in one notation."""
    hi = lo * ratio
    ax = type("Ax", (), {"type": "log", **log_ticks([lo, hi])})
    ticks = check_axis(ax)
    inside = [t for t in ticks if lo / 1.001 <= t <= hi * 1.001]
    assert len(inside) >= (3 if ratio >= 3 else 2), (lo, hi, ticks)


@pytest.mark.parametrize("x", [2e7, 3.07e-7, 5.3e9, 1e9, 54410.0, 6.283, 0.0123, 1.0, 123456.0, 1.2e-4, 360.0, 999.7, 0.00099])
@pytest.mark.parametrize("digits", [2, 3])
def test_format_number_reads_back(x, digits):
    for value in (x, -x):
        text = format_number(value, digits)
        assert "e" not in text and "-" not in text            # no Python exponent, no hyphen for a minus
        assert parse(text)[0] == pytest.approx(value, rel=0.5 * 10.0 ** (1 - digits))
        signed = format_number(value, digits, signed=True)
        assert signed == ("+" + text if value > 0 else text)


@given(st.floats(allow_nan=True, allow_infinity=True), st.integers(2, 6), st.booleans())
def test_format_number_any_float(x, digits, signed):
    """Every float gets a label without a hyphen or Python exponent; a finite one reads back to its value."""
    text = format_number(x, digits, signed=signed)
    assert text and "-" not in text and "e" not in text.replace("n/a", "")
    if np.isfinite(x):
        if abs(x) < 1e300:                                   # (the parser's 10ⁿ overflows beyond)
            assert parse(text)[0] == pytest.approx(x, rel=10.0 ** (1 - digits), abs=0 if x else 1e-300)
    else:
        assert text in ("n/a", "∞", "−∞", "+∞")


def _figures():
    from rope_viz.figures.distance import distance_figure
    from rope_viz.figures.frequencies import freq_rotations, freq_wavelengths
    from rope_viz.figures.kernel import kernel_phase_error
    from rope_viz.figures.offsets import cycles_figure
    extreme = RopeConfig(256, context_length=2_097_152, base=1e9)
    return {"rotations": freq_rotations(RopeConfig(128)), "rotations extreme": freq_rotations(extreme),
            "wavelengths": freq_wavelengths(RopeConfig(128)), "wavelengths extreme": freq_wavelengths(extreme),
            "cycles extreme": cycles_figure(extreme), "phase error": kernel_phase_error(RopeConfig(128)),
            "distance": distance_figure(RopeConfig(128))}


def test_every_log_axis_of_these_figures_is_labelled_consistently():
    """Frequencies' rotations read "1e+6, 10000, 100, 1, 0.01", Kernel's phase error "0.000001" beside "1e−8"."""
    for name, fig in _figures().items():
        axes = [fig.layout[k] for k in fig.layout if re.fullmatch(r"[xy]axis\d*", k) and fig.layout[k].type == "log"]
        assert axes, name
        for ax in axes:
            check_axis(ax)


# -- room for the y tick labels (plotly.js draws a figure twice when they do not fit: tests/test_browser_spec.py) ------
def _bars(labels, **layout):
    import plotly.graph_objects as go

    from rope_viz.figures._style import styled

    fig = go.Figure(go.Bar(y=list(labels), x=[1.0] * len(labels), orientation="h", name="bars"))
    styled(fig, title="t", x_title="x (units)", y_title="item (one bar each)")
    return fig.update_layout(**layout)


_LABELS = st.lists(st.text(alphabet="abcxyz 0123456789,.·−()", min_size=1, max_size=60), min_size=1, max_size=8)


@given(_LABELS, st.text(alphabet="abc ", min_size=1, max_size=60))
@settings(max_examples=60, deadline=None)
def test_left_margin_follows_the_longest_known_label(labels, extra):
    from rope_viz.figures._style import MARGIN_LEFT, fit_left_margin

    fig = fit_left_margin(_bars(labels))
    m = fig.layout.margin.l
    assert m >= MARGIN_LEFT                                                # never narrower than the default
    assert fit_left_margin(fig).layout.margin.l == m                       # idempotent
    longer = fit_left_margin(_bars(labels + [max(labels, key=len) + extra]))
    assert longer.layout.margin.l >= m                                     # a longer label never gets less room
    wide = fit_left_margin(_bars(labels, font=dict(size=26)))              # larger font (the docs style): more room
    assert wide.layout.margin.l >= m
    if max(map(len, labels)) >= 30:                  # 30 characters, even the narrowest, cannot fit in 80 px
        assert m > MARGIN_LEFT


def test_left_margin_only_for_labels_known_in_advance():
    import plotly.graph_objects as go

    from rope_viz.figures._style import MARGIN_LEFT, fit_left_margin, styled

    numeric = styled(go.Figure(go.Scatter(x=[1, 2], y=[1e6, 2e6], name="s")), title="t", x_title="x (u)",
                     y_title="y (u)")
    assert fit_left_margin(numeric).layout.margin.l == MARGIN_LEFT        # plotly.js picks these labels itself
    ticked = numeric.update_yaxes(tickvals=[1e6, 2e6], ticktext=["one million tokens", "two million tokens"])
    assert fit_left_margin(ticked).layout.margin.l > MARGIN_LEFT
    right = _bars(["a very long category name indeed"]).update_yaxes(side="right")
    assert fit_left_margin(right).layout.margin.l == MARGIN_LEFT
    hidden = _bars(["a very long category name indeed"]).update_yaxes(showticklabels=False)
    assert fit_left_margin(hidden).layout.margin.l == MARGIN_LEFT


def test_every_registered_figure_leaves_room_for_its_labels():
    """The registry applies ``fit_left_margin`` to what each figure function returns (one rule, every figure)."""
    from rope_viz.figures import figures
    from rope_viz.figures._style import MARGIN_LEFT, fit_left_margin

    cfg = RopeConfig(head_dim=128, base=10000.0, context_length=131072)
    widened = []
    for name, spec in figures().items():
        try:
            fig = spec.fn(cfg, style="app")
        except (TypeError, ValueError):                                    # figures drawn from measured runs
            continue
        m = fig.layout.margin.l
        assert fit_left_margin(fig).layout.margin.l == m, name             # already fitted
        if m > MARGIN_LEFT:
            widened.append(name)
    assert {"kernel_memory", "aliasing_map"} <= set(widened)               # long item names; "131,071" ticks


# -- a log axis whose range is set (ticks extended past a data end) still shows every point ---------------------
def _axis_data(fig, key: str) -> np.ndarray:
    """Every finite positive value drawn against layout axis ``key`` ("xaxis", "yaxis3"): trace values, shapes and
    annotations placed in that axis's data coordinates."""
    letter, ref = key[0], key[0] + key[5:]
    vals = []
    for tr in fig.data:
        if (getattr(tr, f"{letter}axis", None) or letter) == ref and getattr(tr, letter, None) is not None:
            try:
                vals.append(np.asarray(tr[letter], dtype=np.float64).ravel())
            except (TypeError, ValueError):
                pass
    for sh in fig.layout.shapes or []:
        if (sh[f"{letter}ref"] or letter) == ref:
            vals.append(np.array([sh[f"{letter}0"], sh[f"{letter}1"]], dtype=np.float64))
    for an in fig.layout.annotations or []:
        if (an[f"{letter}ref"] or letter) == ref and an[letter] is not None:
            vals.append(np.array([an[letter]], dtype=np.float64))
    v = np.concatenate(vals) if vals else np.zeros(0)
    return v[np.isfinite(v) & (v > 0)]


def _log_range_figures():
    import inspect

    from rope_viz.figures import figures
    from rope_viz.presets import get_preset

    configs = {"default": RopeConfig(128), "extreme": RopeConfig(256, context_length=2_097_152, base=1e9),
               "d=64 L=2048": RopeConfig(64, context_length=2048),
               **{p: get_preset(p).config for p in ("llama-3.1-8b", "phi-3-mini-128k", "gpt-neox-20b")}}
    for name, spec in figures().items():
        params = inspect.signature(spec.fn).parameters
        for cname, cfg in configs.items():
            for log_x in ((False, True) if "log_x" in params else (None,)):
                opts = {} if log_x is None else {"log_x": log_x}
                try:
                    yield f"{name}@{cname}{'/log' if log_x else ''}", spec.fn(cfg, style="app", **opts)
                except (TypeError, ValueError):
                    continue


def test_log_axes_with_a_set_range_show_all_their_data():
    """``log_ticks`` widens a log axis's range to show the next tick past a far data end (_extend_to_ticks); such a
    range must still hold every point, shape and annotation drawn against the axis (fails if the ticks were computed
    from part of the data)."""
    checked = 0
    for label, fig in _log_range_figures():
        for key in fig.layout:
            ax = fig.layout[key]
            if not re.fullmatch(r"[xy]axis\d*", key) or ax.type != "log" or ax.range is None:
                continue
            v = _axis_data(fig, key)
            lo, hi = 10.0 ** np.asarray(ax.range, dtype=float)
            assert v.size and lo <= v.min() * 1.0001 and v.max() <= hi * 1.0001, (label, key, v.min(), v.max(),
                                                                                    lo, hi)
            ticks = np.asarray(ax.tickvals, dtype=float)
            assert lo <= ticks.min() and ticks.max() <= hi, (label, key)              # every tick is drawn
            a, b = np.log10(min(v.min(), ticks.min())), np.log10(max(v.max(), ticks.max()))
            pad = 0.5               # and not much more: ≤ half a decade (a stale range of other data was 4)
            if (label.split("@")[0], key) == ("kernel_memory", "xaxis"):
                pad = 1.7           # set by the figure: 1.6 decades of room for the bars' outside labels
            assert ax.range[0] >= a - pad and ax.range[1] <= b + pad, (label, key, ax.range, a, b)
            checked += 1
    assert checked >= 3


@given(st.floats(1e-12, 1e9), st.floats(1.3, 1e12))
@settings(max_examples=300, deadline=None)
def test_no_data_end_lies_far_beyond_the_outer_ticks(lo, ratio):
    """Beyond the outermost tick, a data end lies at most ``EXTEND_GAP`` of a tick step away (θ_i down to 1.15×10⁻⁴
    under a first tick of 0.001 read as if the axis stopped there), and a set range holds both the data and the
    ticks."""
    from rope_viz.figures._style import EXTEND_GAP

    hi = lo * ratio
    t = log_ticks([lo, hi])
    v = np.asarray(t["tickvals"])
    if len(v) >= 2:
        step_lo, step_hi = np.log10(v[1] / v[0]), np.log10(v[-1] / v[-2])
        near = 0.05              # or within 12 % (a narrow range's ends rounded to two digits: 1.3125 → 1.4)
        assert np.log10(v[0] / lo) <= max(EXTEND_GAP * step_lo, near) + 1e-9
        assert np.log10(hi / v[-1]) <= max(EXTEND_GAP * step_hi, near) + 1e-9
    if t.get("range") is not None:
        a, b = t["range"]
        assert a <= np.log10(min(lo, v[0])) and np.log10(max(hi, v[-1])) <= b


@given(st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0, 269 / 270, 1 / 270, 0.9995, 0.0004, 1e-9,
                                                       1 - 1e-9])))
def test_a_percentage_reads_0_or_100_only_when_exact(f):
    """"the top pair … for 100% of heads" was 269 of 270 (`:.0f`). A share is written 0 % / 100 % only when exact,
    and reads back within its rounding."""
    from rope_viz.figures._style import format_percent
    text = format_percent(f)
    assert text.endswith("%")
    if text.startswith(("<", ">")):
        assert (f < 1e-5) if text.startswith("<") else (f > 1 - 1e-5)
        return
    value = float(text[:-1])
    assert (value == 0.0) == (f == 0.0) and (value == 100.0) == (f == 1.0), (f, text)
    decimals = len(text[:-1].split(".")[1]) if "." in text else 0
    assert abs(value - 100 * f) <= 0.5 * 10.0 ** -decimals + 1e-9
