"""rope_viz.figures._plotly_paths: plotly's property-path parser, memoized, gives exactly plotly's answers."""

from __future__ import annotations

import plotly.basedatatypes as bdt
from hypothesis import given, settings
from hypothesis import strategies as st

import rope_viz.figures  # noqa: F401  (installs the cache)
from rope_viz.figures import _plotly_paths

PATHS = ["xaxis_title", "error_y", "marker.line.color", "annotations[0].font.size", "xaxis2.title.standoff",
         "_leading", "trailing_", "a__b", "legend.title.text", "layout.template.data.scatter[0].fillpattern",
         "", "x", "coloraxis_colorbar_title_text", "error_x.array", "hoverlabel.font.family"]


def test_cache_is_installed_once_and_original_is_kept():
    assert _plotly_paths.install() is True and _plotly_paths.install() is True
    parse = bdt._str_to_dict_path_full
    assert hasattr(parse, "cache_info") and not hasattr(parse.__wrapped__, "cache_info")


def _same(path):
    original = bdt._str_to_dict_path_full.__wrapped__
    keys, pos = original(path)
    got_keys, got_pos = bdt._str_to_dict_path_full(path)
    assert (tuple(got_keys), list(got_pos)) == (tuple(keys), list(pos)), path
    assert isinstance(got_keys, tuple) and isinstance(got_pos, tuple)      # shared values are immutable


def test_known_paths_parse_as_plotly_does():
    for p in PATHS:
        _same(p)
        _same(p)                    # second call: from the cache


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab_.[]019xyz", max_size=24))
def test_any_path_parses_as_plotly_does(path):
    try:
        bdt._str_to_dict_path_full.__wrapped__(path)
    except Exception as e:          # plotly rejects some strings: the cached parser must raise the same way
        try:
            bdt._str_to_dict_path_full(path)
        except Exception as e2:
            assert type(e2) is type(e)
            return
        raise AssertionError(f"{path!r}: plotly raises {e!r}, the cache does not")
    _same(path)


def test_unhashable_paths_fall_back_to_plotly():
    original = bdt._str_to_dict_path_full.__wrapped__
    try:
        want = original(["x"])
    except Exception as e:
        want = type(e)
    try:
        got = bdt._str_to_dict_path_full(["x"])
    except Exception as e:
        got = type(e)
    assert got == want
