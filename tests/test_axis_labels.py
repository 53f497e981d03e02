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
    m = re.fullmatch(r"(-?[\d.]+×)?10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)", label)
    if m:
        mant = float(m.group(1)[:-1]) if m.group(1) else 1.0
        return mant * 10.0 ** int("".join(_SUP[c] for c in m.group(2))), "pow10"
    m = re.fullmatch(r"(-?[\d,.]+)([kM]?)", label)
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
    assert 1 <= len(ticks) <= 10 and all(lo / 1.001 <= t <= hi * 1.001 for t in ticks)
    assert ticks == sorted(ticks)


@given(st.floats(1e-12, 1e9), st.floats(1.3, 9.0))
@settings(max_examples=200, deadline=None)
def test_a_narrow_log_range_still_gets_several_labelled_ticks(lo, ratio):
    """Within a factor 1.3 … 9 (the Real model page's perplexity 12 … 30 had the single tick "20"): at least two
    ticks, three from a factor 3 on, each labelled with its own value in one notation."""
    hi = lo * ratio
    ax = type("Ax", (), {"type": "log", **log_ticks([lo, hi])})
    ticks = check_axis(ax)
    assert len(ticks) >= (3 if ratio >= 3 else 2), (lo, hi, ticks)
    assert all(lo / 1.001 <= t <= hi * 1.001 for t in ticks)


@pytest.mark.parametrize("x", [2e7, 3.07e-7, 5.3e9, 1e9, 54410.0, 6.283, 0.0123, 1.0, 123456.0, 1.2e-4, 360.0, 999.7, 0.00099])
@pytest.mark.parametrize("digits", [2, 3])
def test_format_number_reads_back(x, digits):
    text = format_number(x, digits)
    assert "e" not in text
    assert parse(text)[0] == pytest.approx(x, rel=0.5 * 10.0 ** (1 - digits))


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
