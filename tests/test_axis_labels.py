"""Log-axis tick labels and numbers in titles: one readable notation per axis (no "1e+6, 10000, 0.01" mixes, no bare
minor digits, no Python e+07), each label parsed back to its tick value independently of the formatter."""

import re

import numpy as np
import pytest

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
